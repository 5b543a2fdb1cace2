/**
 * ELF64 RISC-V executable parser (System V gABI, RISC-V psABI): program headers for loading, the entry point, and the
 * symbol table (for HTIF's `tohost`/`fromhost`). Bad input throws LoadError with a one-line message.
 */

/** A host-side error loading a guest image; `code` lets the CLI and API map it to a message or status. */
export class LoadError extends Error {
  readonly code: "ELF_INVALID" | "ELF_UNSUPPORTED" | "IMAGE_OUTSIDE_RAM" | "IMAGE_TRUNCATED";
  constructor(code: LoadError["code"], message: string) {
    super(message);
    this.name = "LoadError";
    this.code = code;
  }
}

/** A loadable segment: `data` goes at physical address `paddr`, zero-filled up to `memsz` bytes. */
export interface ElfSegment {
  readonly paddr: bigint;
  /** The segment's file bytes: a view into the parsed buffer, not a copy. */
  readonly data: Uint8Array;
  readonly memsz: bigint;
}

export interface ElfImage {
  readonly entry: bigint;
  readonly segments: readonly ElfSegment[];
  /** Symbol values by name (from .symtab), empty for a stripped file. */
  readonly symbols: ReadonlyMap<string, bigint>;
}

// gABI ch. 4 values: e_ident[EI_CLASS] and [EI_DATA], e_type, e_machine, p_type, sh_type, special numbers.
const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ELFDATA2MSB = 2;
const ET_REL = 1;
const ET_EXEC = 2;
const ET_DYN = 3;
const ET_CORE = 4;
const EM_RISCV = 243;
const PT_LOAD = 1;
const SHT_SYMTAB = 2;
/** e_phnum value meaning "the real count is in section 0" (only for more than 65534 headers). */
const PN_XNUM = 0xffff;
const STB_LOCAL = 0;
const SHN_UNDEF = 0;
// ELF64 sizes of the file header, a program header, a section header and a symbol.
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const U64_LIMIT = 1n << 64n;

/** Names for the e_machine values a user is likely to hand us by mistake. */
const MACHINES: Record<number, string> = {
  2: "SPARC",
  3: "x86 (i386)",
  8: "MIPS",
  20: "PowerPC",
  21: "PowerPC64",
  22: "S/390",
  40: "ARM",
  43: "SPARC V9",
  62: "x86-64",
  183: "AArch64",
  247: "BPF",
  258: "LoongArch",
};

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** Parse an ELF64 little-endian RISC-V executable. Throws LoadError naming the problem. */
export function parseElf(bytes: Uint8Array): ElfImage {
  if (bytes.length === 0) throw new LoadError("ELF_INVALID", "not an ELF file (it is empty)");
  const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
  if (magic !== "7f 45 4c 46") {
    throw new LoadError("ELF_INVALID", `not an ELF file (bad magic ${magic}, expected 7f 45 4c 46)`);
  }
  const cls = bytes[4];
  const data = bytes[5];
  if (cls === ELFCLASS32) throw new LoadError("ELF_UNSUPPORTED", "is a 32-bit ELF; popek runs RV64 programs");
  if (cls !== ELFCLASS64) throw new LoadError("ELF_INVALID", `bad ELF class ${cls ?? "(missing)"}`);
  if (data === ELFDATA2MSB) throw new LoadError("ELF_UNSUPPORTED", "is a big-endian ELF; RISC-V is little-endian");
  if (data !== ELFDATA2LSB) throw new LoadError("ELF_INVALID", `bad ELF data encoding ${data ?? "(missing)"}`);
  if (bytes.length < EHDR_SIZE) {
    throw new LoadError("IMAGE_TRUNCATED", `truncated: ${bytes.length} bytes, shorter than the 64-byte ELF header`);
  }

  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_RISCV) {
    const name = MACHINES[machine] ?? `machine ${machine}`;
    throw new LoadError("ELF_UNSUPPORTED", `is an ELF for ${name}, not RISC-V`);
  }
  if (type === ET_REL) throw new LoadError("ELF_UNSUPPORTED", "is a relocatable object (ET_REL); link it first");
  if (type === ET_CORE) throw new LoadError("ELF_UNSUPPORTED", "is a core dump (ET_CORE), not an executable");
  if (type !== ET_EXEC && type !== ET_DYN) throw new LoadError("ELF_UNSUPPORTED", `has unknown ELF type ${type}`);

  const entry = dv.getBigUint64(24, true);
  const phoff = dv.getBigUint64(32, true);
  const shoff = dv.getBigUint64(40, true);
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  const shentsize = dv.getUint16(58, true);
  const shnum = dv.getUint16(60, true);
  if (phnum === PN_XNUM) throw new LoadError("ELF_UNSUPPORTED", "has more than 65534 program headers (PN_XNUM)");
  if (phnum > 0 && phentsize < PHDR_SIZE) throw new LoadError("ELF_INVALID", `bad e_phentsize ${phentsize}`);
  if (shnum > 0 && shentsize < SHDR_SIZE) throw new LoadError("ELF_INVALID", `bad e_shentsize ${shentsize}`);

  const phStart = span(bytes, phoff, BigInt(phnum * phentsize), "program header table");
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = phStart + i * phentsize;
    if (dv.getUint32(ph, true) !== PT_LOAD) continue;
    const offset = dv.getBigUint64(ph + 8, true);
    const paddr = dv.getBigUint64(ph + 24, true);
    const filesz = dv.getBigUint64(ph + 32, true);
    const memsz = dv.getBigUint64(ph + 40, true);
    if (filesz > memsz) {
      throw new LoadError("ELF_INVALID", `segment ${i}: p_filesz ${hex(filesz)} exceeds p_memsz ${hex(memsz)}`);
    }
    if (paddr + memsz > U64_LIMIT) {
      throw new LoadError("ELF_INVALID", `segment ${i}: ${hex(paddr)} + ${hex(memsz)} overflows the address space`);
    }
    if (memsz === 0n) continue;
    const start = span(bytes, offset, filesz, `segment ${i} data`);
    segments.push({ paddr, data: bytes.subarray(start, start + Number(filesz)), memsz });
  }
  const noSections = shnum === 0 || shoff === 0n;
  return { entry, segments, symbols: noSections ? new Map() : readSymbols(bytes, dv, shoff, shnum, shentsize) };
}

/** Throw IMAGE_OUTSIDE_RAM unless every segment lies in RAM `[ramBase, ramBase + ramSize)`. */
export function checkImageInRam(image: ElfImage, ramBase: bigint, ramSize: bigint): void {
  const ramEnd = ramBase + ramSize;
  for (const s of image.segments) {
    if (s.paddr < ramBase || s.paddr + s.memsz > ramEnd) {
      throw new LoadError(
        "IMAGE_OUTSIDE_RAM",
        `segment [${hex(s.paddr)}, ${hex(s.paddr + s.memsz)}) lies outside RAM [${hex(ramBase)}, ${hex(ramEnd)})`,
      );
    }
  }
}

/** The file offset of `[off, off + size)` as a number, after checking that it overflows nothing and is in the file. */
function span(bytes: Uint8Array, off: bigint, size: bigint, what: string): number {
  if (off + size > U64_LIMIT) {
    throw new LoadError("ELF_INVALID", `${what}: offset ${hex(off)} + size ${hex(size)} overflows 64 bits`);
  }
  if (off + size > BigInt(bytes.length)) {
    const end = off + size;
    throw new LoadError("IMAGE_TRUNCATED", `truncated: ${what} ends at byte ${end}, past the end (${bytes.length})`);
  }
  return Number(off);
}

/** Names and values of the defined symbols in the first SHT_SYMTAB section; globals win over locals of one name. */
function readSymbols(bytes: Uint8Array, dv: DataView, shoff: bigint, shnum: number, shentsize: number) {
  const symbols = new Map<string, bigint>();
  const shStart = span(bytes, shoff, BigInt(shnum * shentsize), "section header table");
  const section = (i: number) => {
    const sh = shStart + i * shentsize;
    return {
      type: dv.getUint32(sh + 4, true),
      offset: dv.getBigUint64(sh + 24, true),
      size: dv.getBigUint64(sh + 32, true),
      link: dv.getUint32(sh + 40, true),
    };
  };
  let symtab: ReturnType<typeof section> | undefined;
  for (let i = 0; i < shnum && !symtab; i++) if (section(i).type === SHT_SYMTAB) symtab = section(i);
  if (!symtab) return symbols;
  if (symtab.link >= shnum) throw new LoadError("ELF_INVALID", `.symtab links to missing section ${symtab.link}`);

  const strtab = section(symtab.link);
  const symStart = span(bytes, symtab.offset, symtab.size, ".symtab");
  const strStart = span(bytes, strtab.offset, strtab.size, ".strtab");
  const strings = bytes.subarray(strStart, strStart + Number(strtab.size));
  const utf8 = new TextDecoder();
  for (let at = symStart + SYM_SIZE; at + SYM_SIZE <= symStart + Number(symtab.size); at += SYM_SIZE) {
    const nameOff = dv.getUint32(at, true);
    const bind = bytes[at + 4]! >> 4;
    const shndx = dv.getUint16(at + 6, true);
    if (nameOff === 0 || nameOff >= strings.length || shndx === SHN_UNDEF) continue;
    const nul = strings.indexOf(0, nameOff);
    const name = utf8.decode(strings.subarray(nameOff, nul < 0 ? strings.length : nul));
    if (bind !== STB_LOCAL || !symbols.has(name)) symbols.set(name, dv.getBigUint64(at + 8, true));
  }
  return symbols;
}
