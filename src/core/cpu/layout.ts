/**
 * Where hot machine state lives in the machine's one WebAssembly.Memory (STYLE.md rule 4): each hart's registers,
 * pc and hot CSRs at fixed byte offsets, then guest RAM. The interpreter reads them through typed-array views and the
 * JIT (later) through wasm loads at the same offsets. All offsets are bytes from the start of the memory.
 */

/** Bytes reserved for hart state at the start of the memory (up to 64 harts of HART_STRIDE bytes). */
export const STATE_BYTES = 0x40000;
/** Bytes of state per hart. */
export const HART_STRIDE = 0x1000;
/** Per-hart software TLBs (mmu/tlb.ts) start here, TLB_STRIDE bytes each. */
export const TLB_BASE = STATE_BYTES;
/** Bytes per hart TLB: Tlb.byteLength() for 256 sets × 4 contexts (88 KiB), rounded up. */
export const TLB_STRIDE = 0x16000;
/** Offset of guest RAM in the memory (guest physical address `ramBase` lives here), after the TLBs of 8 harts. */
export const RAM_OFFSET = 0x100000;
/** Harts whose TLBs fit below RAM_OFFSET. */
export const MAX_HARTS = Math.floor((RAM_OFFSET - TLB_BASE) / TLB_STRIDE);

// Offsets inside one hart's block, in bytes.
/** x0..x31 (8 bytes each). x0 always reads 0. */
export const X_OFF = 0x000;
/** Slot 32 after x31: the decoder sends writes to x0 here so the interpreter needs no rd≠0 test. */
export const X_SINK = 32;
/** f0..f31 (F/D extensions). */
export const F_OFF = 0x200;
/** Program counter (i64). */
export const PC_OFF = 0x300;
/** Hot CSRs, one i64 each, indexed by CsrSlot. */
export const CSR_OFF = 0x400;

/** Slots of the CSRs kept in memory (index × 8 + CSR_OFF). */
export const CsrSlot = {
  mstatus: 0,
  misa: 1,
  medeleg: 2,
  mideleg: 3,
  mie: 4,
  mip: 5,
  mtvec: 6,
  mscratch: 7,
  mepc: 8,
  mcause: 9,
  mtval: 10,
  mcounteren: 11,
  menvcfg: 12,
  mcountinhibit: 13,
  minstret: 14,
  mcycle: 15,
  mhartid: 16,
  /** Current privilege level (3 = M). */
  priv: 17,
  /** LR/SC reservation: address (−1 when none) and the value LR loaded (QEMU's load_res / load_val). */
  loadRes: 18,
  loadVal: 19,
  /** PMP configuration (pmpcfg0, pmpcfg2, …: 8 entries of 8 bits each) and addresses (16 entries). */
  pmpcfg: 24,
  pmpaddr: 32,
  // Supervisor CSRs (sstatus, sie and sip are views of mstatus, mie and mip).
  stvec: 48,
  sscratch: 49,
  sepc: 50,
  scause: 51,
  stval: 52,
  satp: 53,
  scounteren: 54,
  senvcfg: 55,
  /** Sstc supervisor timer compare. */
  stimecmp: 56,
  /** fcsr (frm << 5 | fflags), for F/D. */
  fcsr: 57,
} as const;

/** Number of i64 CSR slots. */
export const CSR_SLOTS = 64;

/** Byte offset of hart `h`'s block. */
export const hartBase = (h: number): number => h * HART_STRIDE;
