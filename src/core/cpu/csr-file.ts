/**
 * The CSR file of an M-mode-only RV64IMAC hart (privileged spec 1.12 ch. 2 and 3). Reads return the value or null
 * (illegal instruction); writes apply each register's WARL rules and return false when the CSR does not exist.
 * Hot CSRs live in the hart's state block (layout.ts); S-mode, U-mode and PMP enforcement come with the virt machine.
 */
import { CSR } from "../isa/csr.ts";
import { CsrSlot } from "./layout.ts";

/** What the CSR file needs of a hart. */
export interface CsrHost {
  readonly csr: BigInt64Array;
  /** Instructions retired in the current run and not yet added to minstret. */
  readonly retiredInRun: number;
  /** The `time` CSR source (mtime at 10 MHz), or null when the machine has no timer. */
  readonly timeSource: (() => bigint) | null;
}

const MSTATUS_MIE = 1n << 3n;
const MSTATUS_MPIE = 1n << 7n;
/** mstatus bits software may change on an M-only hart: MIE, MPIE (MPP is always M; SXL/UXL are read-only). */
const MSTATUS_WRITABLE = MSTATUS_MIE | MSTATUS_MPIE;
/** mie bits that exist on an M-only hart: MSIE, MTIE, MEIE. */
const MIE_WRITABLE = (1n << 3n) | (1n << 7n) | (1n << 11n);
/** Number of PMP entries (pmpcfg0 and pmpcfg2 hold 8 each on RV64). */
const PMP_ENTRIES = 16;

/** The counter as software sees it: the stored base plus what retired in the current run. */
function counter(h: CsrHost, slot: number): bigint {
  return BigInt.asIntN(64, h.csr[slot]! + BigInt(h.retiredInRun));
}

export function readCsr(h: CsrHost, num: number): bigint | null {
  const c = h.csr;
  switch (num) {
    case CSR.mstatus:
      return c[CsrSlot.mstatus]!;
    case CSR.misa:
      return c[CsrSlot.misa]!;
    case CSR.mie:
      return c[CsrSlot.mie]!;
    case CSR.mip:
      return c[CsrSlot.mip]!;
    case CSR.mtvec:
      return c[CsrSlot.mtvec]!;
    case CSR.mscratch:
      return c[CsrSlot.mscratch]!;
    case CSR.mepc:
      return c[CsrSlot.mepc]!;
    case CSR.mcause:
      return c[CsrSlot.mcause]!;
    case CSR.mtval:
      return c[CsrSlot.mtval]!;
    case CSR.mhartid:
      return c[CsrSlot.mhartid]!;
    case CSR.mvendorid:
    case CSR.marchid:
    case CSR.mimpid:
    case CSR.mconfigptr:
    case CSR.mcountinhibit:
      return 0n;
    case CSR.mcycle:
    case CSR.cycle:
      // One instruction per cycle: mcycle counts like minstret but has its own base (both writable).
      return counter(h, CsrSlot.mcycle);
    case CSR.minstret:
    case CSR.instret:
      return counter(h, CsrSlot.minstret);
    case CSR.time:
      return h.timeSource === null ? null : h.timeSource();
    default:
      break;
  }
  if (num >= 0x3a0 && num <= 0x3af) {
    // pmpcfg0, pmpcfg2: RV64 has only the even ones; 16 entries implemented.
    if ((num & 1) !== 0 || num - 0x3a0 >= PMP_ENTRIES / 4) return (num & 1) !== 0 ? null : 0n;
    return c[CsrSlot.pmpcfg + (num - 0x3a0) / 2]!;
  }
  if (num >= 0x3b0 && num <= 0x3ef) {
    const i = num - 0x3b0;
    return i < PMP_ENTRIES ? c[CsrSlot.pmpaddr + i]! : 0n;
  }
  // hpmcounter3..31, mhpmcounter3..31, mhpmevent3..31: implemented as read-only zero (WARL).
  if ((num >= 0xc03 && num <= 0xc1f) || (num >= 0xb03 && num <= 0xb1f) || (num >= 0x323 && num <= 0x33f)) return 0n;
  return null;
}

export function writeCsr(h: CsrHost, num: number, v: bigint): boolean {
  const c = h.csr;
  switch (num) {
    case CSR.mstatus:
      c[CsrSlot.mstatus] = (c[CsrSlot.mstatus]! & ~MSTATUS_WRITABLE) | (v & MSTATUS_WRITABLE);
      return true;
    case CSR.misa:
      return true; // WARL: the extension set is fixed
    case CSR.mie:
      c[CsrSlot.mie] = v & MIE_WRITABLE;
      return true;
    case CSR.mip:
      return true; // MSIP/MTIP/MEIP are set by devices only
    case CSR.mtvec:
      // WARL: modes 0 (direct) and 1 (vectored); QEMU 7.2 ignores a write with a reserved mode.
      if ((v & 3n) < 2n) c[CsrSlot.mtvec] = v;
      return true;
    case CSR.mscratch:
      c[CsrSlot.mscratch] = v;
      return true;
    case CSR.mepc:
      c[CsrSlot.mepc] = v & ~1n; // IALIGN = 16: bit 0 is always zero
      return true;
    case CSR.mcause:
      c[CsrSlot.mcause] = v;
      return true;
    case CSR.mtval:
      c[CsrSlot.mtval] = v;
      return true;
    case CSR.mcountinhibit:
      return true; // hardwired to zero: counters always count
    case CSR.mcycle:
      // The writing instruction itself still retires after this, so subtract it (it is counted at retirement).
      c[CsrSlot.mcycle] = v - BigInt(h.retiredInRun) - 1n;
      return true;
    case CSR.minstret:
      c[CsrSlot.minstret] = v - BigInt(h.retiredInRun) - 1n;
      return true;
    default:
      break;
  }
  if (num >= 0x3a0 && num <= 0x3af) {
    if ((num & 1) !== 0) return false;
    const i = (num - 0x3a0) / 2;
    if (i < PMP_ENTRIES / 8) c[CsrSlot.pmpcfg + i] = v & pmpcfgMask(c[CsrSlot.pmpcfg + i]!);
    return true;
  }
  if (num >= 0x3b0 && num <= 0x3ef) {
    const i = num - 0x3b0;
    if (i < PMP_ENTRIES && !pmpLocked(c, i)) c[CsrSlot.pmpaddr + i] = v & ((1n << 54n) - 1n);
    return true;
  }
  if ((num >= 0xb03 && num <= 0xb1f) || (num >= 0x323 && num <= 0x33f)) return true;
  return false;
}

/** Bytes of a pmpcfg register that may change: not those of locked entries; bits 6:5 are reserved (zero). */
function pmpcfgMask(old: bigint): bigint {
  let mask = 0n;
  for (let b = 0n; b < 8n; b++) if (((old >> (8n * b)) & 0x80n) === 0n) mask |= 0x9fn << (8n * b);
  return mask;
}

function pmpLocked(c: BigInt64Array, i: number): boolean {
  const cfg = c[CsrSlot.pmpcfg + Math.floor(i / 8)]!;
  return ((cfg >> BigInt(8 * (i % 8))) & 0x80n) !== 0n;
}
