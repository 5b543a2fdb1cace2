/**
 * Loading a Linux ELF64 RISC-V executable into an address space as binfmt_elf does (fs/binfmt_elf.c, Linux 6.1):
 * PT_LOAD segments mapped with their p_flags protections (file bytes, zero bss), ET_DYN (PIE) executables at
 * ELF_ET_DYN_BASE, the program interpreter (PT_INTERP) anywhere in the mmap area, and the values the auxiliary vector
 * reports (AT_PHDR, AT_ENTRY, AT_BASE). Bad files give LoadError; the caller maps that to ENOEXEC.
 */
import { LoadError } from "../firmware/elf.ts";
import { MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE } from "./abi.ts";
import { type AddressSpace, PAGE, USER_TOP } from "./memory.ts";

const ET_EXEC = 2;
const ET_DYN = 3;
const EM_RISCV = 243;
const PT_LOAD = 1;
const PT_INTERP = 3;
const PT_PHDR = 6;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
/** ELF_ET_DYN_BASE for Sv39 (arch/riscv/include/asm/elf.h: 2/3 of TASK_SIZE), page-aligned. */
export const ET_DYN_BASE = Math.floor(((USER_TOP / 3) * 2) / PAGE) * PAGE;

export interface ElfLoad {
  readonly vaddr: number;
  readonly offset: number;
  readonly filesz: number;
  readonly memsz: number;
  readonly flags: number;
}

export interface ExecElf {
  readonly bytes: Uint8Array;
  readonly type: number;
  readonly entry: number;
  readonly phoff: number;
  readonly phnum: number;
  readonly phentsize: number;
  readonly loads: readonly ElfLoad[];
  /** PT_INTERP path, or null for a static executable. */
  readonly interp: string | null;
  /** p_vaddr of PT_PHDR, or -1. */
  readonly phdrVaddr: number;
}

/** Parse the headers an exec needs. Throws LoadError. */
export function parseExecElf(bytes: Uint8Array): ExecElf {
  if (bytes.length < 64 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new LoadError("ELF_INVALID", "not an ELF file");
  }
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new LoadError("ELF_UNSUPPORTED", "not a 64-bit little-endian ELF");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = dv.getUint16(16, true);
  if (dv.getUint16(18, true) !== EM_RISCV) throw new LoadError("ELF_UNSUPPORTED", "not a RISC-V ELF");
  if (type !== ET_EXEC && type !== ET_DYN) throw new LoadError("ELF_UNSUPPORTED", `ELF type ${type} is not executable`);
  const num = (off: number) => {
    const v = dv.getBigUint64(off, true);
    if (v >= BigInt(USER_TOP)) throw new LoadError("ELF_INVALID", `value 0x${v.toString(16)} out of range`);
    return Number(v);
  };
  const entry = num(24);
  const phoff = num(32);
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phentsize < 56 || phnum === 0 || phnum > 512 || phoff + phnum * phentsize > bytes.length) {
    throw new LoadError("ELF_INVALID", "bad program header table");
  }
  const loads: ElfLoad[] = [];
  let interp: string | null = null;
  let phdrVaddr = -1;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    const t = dv.getUint32(ph, true);
    if (t === PT_LOAD) {
      const l: ElfLoad = {
        flags: dv.getUint32(ph + 4, true),
        offset: num(ph + 8),
        vaddr: num(ph + 16),
        filesz: num(ph + 32),
        memsz: num(ph + 40),
      };
      if (l.filesz > l.memsz || l.offset + l.filesz > bytes.length || l.vaddr + l.memsz > USER_TOP) {
        throw new LoadError("ELF_INVALID", `bad PT_LOAD segment ${i}`);
      }
      if (l.vaddr % PAGE !== l.offset % PAGE) throw new LoadError("ELF_INVALID", `misaligned PT_LOAD segment ${i}`);
      loads.push(l);
    } else if (t === PT_INTERP) {
      const off = num(ph + 8);
      const size = num(ph + 32);
      if (off + size > bytes.length || size < 2) throw new LoadError("ELF_INVALID", "bad PT_INTERP");
      const s = bytes.subarray(off, off + size);
      const nul = s.indexOf(0);
      interp = new TextDecoder().decode(s.subarray(0, nul < 0 ? s.length : nul));
    } else if (t === PT_PHDR) {
      phdrVaddr = num(ph + 16);
    }
  }
  if (loads.length === 0) throw new LoadError("ELF_INVALID", "no PT_LOAD segment");
  return { bytes, type, entry, phoff, phnum, phentsize, loads, interp, phdrVaddr };
}

export interface LoadedImage {
  /** Load bias added to every p_vaddr. */
  readonly bias: number;
  readonly entry: number;
  /** Address of the program headers in memory (AT_PHDR). */
  readonly phdr: number;
  /** End of the highest segment (start of brk for the main program). */
  readonly end: number;
}

/**
 * Map `elf` into `as`. ET_EXEC goes at its addresses; ET_DYN at `dynBase` if given (the main program), else at a free
 * range found top-down (the interpreter). Returns null when the range is not free or RAM is exhausted.
 */
export function loadElf(as: AddressSpace, elf: ExecElf, dynBase: number | null): LoadedImage | null {
  let lo = Number.POSITIVE_INFINITY;
  let hi = 0;
  for (const l of elf.loads) {
    lo = Math.min(lo, l.vaddr - (l.vaddr % PAGE));
    hi = Math.max(hi, l.vaddr + l.memsz);
  }
  hi = Math.ceil(hi / PAGE) * PAGE;
  let bias = 0;
  if (elf.type === ET_DYN) {
    if (dynBase !== null) bias = dynBase - lo;
    else {
      const at = as.findFree(hi - lo);
      if (at < 0) return null;
      bias = at - lo;
    }
  }
  if (lo + bias < PAGE || hi + bias > USER_TOP) return null;
  for (const l of elf.loads) {
    const prot =
      ((l.flags & PF_R) !== 0 ? PROT_READ : 0) |
      ((l.flags & PF_W) !== 0 ? PROT_WRITE : 0) |
      ((l.flags & PF_X) !== 0 ? PROT_EXEC : 0);
    const va = l.vaddr + bias;
    const start = va - (va % PAGE);
    const fileEnd = va + l.filesz;
    const end = Math.ceil((va + l.memsz) / PAGE) * PAGE;
    const fileStart = l.offset - (va - start);
    // The page holding the end of the file bytes reads as zero past them (binfmt_elf's padzero). The bytes are
    // never written (pages are copied on first touch), so a view of the file serves.
    const data = elf.bytes.subarray(fileStart, l.offset + l.filesz);
    const filePagesEnd = Math.min(end, Math.ceil(fileEnd / PAGE) * PAGE);
    if (filePagesEnd > start) as.map(start, filePagesEnd, prot, MAP_PRIVATE, data, "elf");
    if (end > filePagesEnd) as.map(filePagesEnd, end, prot, MAP_PRIVATE, null, "bss");
  }
  let phdr: number;
  if (elf.phdrVaddr >= 0) phdr = elf.phdrVaddr + bias;
  else {
    const first = elf.loads.find((l) => l.offset <= elf.phoff && elf.phoff < l.offset + l.filesz) ?? elf.loads[0]!;
    phdr = first.vaddr - first.offset + elf.phoff + bias;
  }
  return { bias, entry: elf.entry + bias, phdr, end: hi + bias };
}
