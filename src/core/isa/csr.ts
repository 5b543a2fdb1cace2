/**
 * CSR numbers and trap causes (privileged spec 1.12, tables 2.2–2.5 and 3.6). Names keep the spec's spelling; the
 * disassembler prints them, the CSR file implements them.
 */

/** CSR numbers by name. Only those popek knows; unknown numbers are illegal to access. */
export const CSR = {
  // Unprivileged floating point (F/D, later) and counters
  fflags: 0x001,
  frm: 0x002,
  fcsr: 0x003,
  cycle: 0xc00,
  time: 0xc01,
  instret: 0xc02,
  // Supervisor
  sstatus: 0x100,
  sie: 0x104,
  stvec: 0x105,
  scounteren: 0x106,
  senvcfg: 0x10a,
  sscratch: 0x140,
  sepc: 0x141,
  scause: 0x142,
  stval: 0x143,
  sip: 0x144,
  stimecmp: 0x14d,
  satp: 0x180,
  // Machine information
  mvendorid: 0xf11,
  marchid: 0xf12,
  mimpid: 0xf13,
  mhartid: 0xf14,
  mconfigptr: 0xf15,
  // Machine trap setup and handling
  mstatus: 0x300,
  misa: 0x301,
  medeleg: 0x302,
  mideleg: 0x303,
  mie: 0x304,
  mtvec: 0x305,
  mcounteren: 0x306,
  menvcfg: 0x30a,
  mcountinhibit: 0x320,
  mscratch: 0x340,
  mepc: 0x341,
  mcause: 0x342,
  mtval: 0x343,
  mip: 0x344,
  // Machine counters
  mcycle: 0xb00,
  minstret: 0xb02,
} as const;

export type CsrName = keyof typeof CSR;

const namesByNumber = new Map<number, string>();
for (const [name, num] of Object.entries(CSR)) namesByNumber.set(num, name);
for (let i = 0; i < 16; i++) {
  namesByNumber.set(0x3a0 + i, `pmpcfg${i}`);
}
for (let i = 0; i < 64; i++) namesByNumber.set(0x3b0 + i, `pmpaddr${i}`);
for (let i = 3; i < 32; i++) {
  namesByNumber.set(0xc00 + i, `hpmcounter${i}`);
  namesByNumber.set(0xb00 + i, `mhpmcounter${i}`);
  namesByNumber.set(0x320 + i, `mhpmevent${i}`);
}

/** The spec's name of a CSR number, or undefined. */
export function csrName(num: number): string | undefined {
  return namesByNumber.get(num);
}

/** Synchronous exception causes (mcause with the interrupt bit clear). Privileged spec table 3.6. */
export const Cause = {
  InstructionAddressMisaligned: 0,
  InstructionAccessFault: 1,
  IllegalInstruction: 2,
  Breakpoint: 3,
  LoadAddressMisaligned: 4,
  LoadAccessFault: 5,
  StoreAddressMisaligned: 6,
  StoreAccessFault: 7,
  EcallFromU: 8,
  EcallFromS: 9,
  EcallFromM: 11,
  InstructionPageFault: 12,
  LoadPageFault: 13,
  StorePageFault: 15,
} as const;

/** Privilege levels as encoded in mstatus.MPP. */
export const Priv = { U: 0, S: 1, M: 3 } as const;
