/**
 * The bare-metal machine: one hart in M-mode, RAM, an NS16550A UART at 0x1000_0000 and HTIF (`tohost`/`fromhost`)
 * as spike and QEMU's `-M spike` provide it. Runs ELF test programs and benchmarks; the virt board comes later.
 */
import type { ElfImage } from "../firmware/elf.ts";

export interface BareMachineOptions {
  /** Physical base of RAM (default 0x8000_0000). */
  readonly ramBase?: number;
  /** RAM size in bytes (default 128 MiB). */
  readonly ramSize?: number;
  /** Receives console bytes written by the guest (HTIF putchar and the UART). */
  readonly onOutput: (bytes: Uint8Array) => void;
}

/** Why `run` returned: the guest exited through HTIF or the syscon, or the instruction limit was reached. */
export type BareExit = { readonly kind: "exit"; readonly code: number } | { readonly kind: "limit" };

export declare class BareMachine {
  constructor(opts: BareMachineOptions);
  /** Copy the ELF's segments into RAM, find `tohost`/`fromhost`, set pc to the entry. Throws LoadError. */
  load(elf: ElfImage): void;
  /** Run until the guest exits or `limit` instructions have retired (default: no limit). */
  run(limit?: number): BareExit;
  /** Instructions retired so far (minstret). */
  readonly instret: bigint;
  /** Read integer register x0..x31. */
  reg(i: number): bigint;
}
