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
  readonly data: Uint8Array;
  readonly memsz: bigint;
}

export interface ElfImage {
  readonly entry: bigint;
  readonly segments: readonly ElfSegment[];
  /** Symbol values by name (from .symtab), empty for a stripped file. */
  readonly symbols: ReadonlyMap<string, bigint>;
}

/** Parse an ELF64 little-endian RISC-V executable. Throws LoadError naming the problem. */
export function parseElf(_bytes: Uint8Array): ElfImage {
  throw new LoadError("ELF_INVALID", "parseElf: not implemented yet");
}
