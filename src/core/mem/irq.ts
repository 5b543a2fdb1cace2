/**
 * Interrupt wiring between devices, interrupt controllers and harts. A device drives an `IrqLine` (level-triggered,
 * as every virt board source is); the CLINT and the PLIC drive a hart's mip bits through `HartIrq`, which the hart
 * implements. mip bit numbers from the privileged spec 1.12, §3.1.9 (figure 3.14, table 3.6 interrupt causes).
 */

/** A level-triggered interrupt line. `set` may be called with an unchanged level; receivers must tolerate that. */
export interface IrqLine {
  set(level: boolean): void;
}

/** mip/mie bit numbers (equal to the interrupt cause codes). */
export const Mip = {
  /** Supervisor software interrupt. */
  SSIP: 1,
  /** Machine software interrupt (CLINT msip). */
  MSIP: 3,
  /** Supervisor timer interrupt (Sstc stimecmp, or set by M-mode software). */
  STIP: 5,
  /** Machine timer interrupt (CLINT mtimecmp). */
  MTIP: 7,
  /** Supervisor external interrupt (PLIC S-mode context). */
  SEIP: 9,
  /** Machine external interrupt (PLIC M-mode context). */
  MEIP: 11,
} as const;

/**
 * What a hart exposes to the platform's interrupt sources: a hardware-driven mip bit set to `level`. Bits driven
 * this way (MSIP, MTIP by the CLINT; MEIP, SEIP by the PLIC) are read-only to software in mip, except that SEIP as
 * seen by software is the OR of this signal and the software-writable bit (privileged spec §3.1.9). Setting a bit
 * must wake the hart from `wfi` if the interrupt is enabled in mie (whatever mstatus.MIE/SIE say).
 */
export interface HartIrq {
  setPending(bit: number, level: boolean): void;
}

/** The line that drives mip bit `bit` of `hart`. */
export function hartLine(hart: HartIrq, bit: number): IrqLine {
  return { set: (level: boolean) => hart.setPending(bit, level) };
}

/** A line connected to nothing (an unwired device output). */
export const NO_IRQ: IrqLine = { set: () => {} };
