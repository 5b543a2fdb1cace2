/**
 * The CSR file of an RV64 hart with M, S and U modes (privileged spec 1.12 ch. 2–4, Sstc). Reads return the value
 * or null (illegal instruction); writes apply each register's WARL rules and return false when the access is
 * illegal. Privilege and read-only checks by CSR number are done by the caller (hart.ts csrOp); the checks that
 * depend on other state (counter enables, TVM, Sstc's STCE) are here. Hot CSRs live in the hart's state block.
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
  /** Whether the hart has the F and D extensions (mstatus.FS and fcsr exist). */
  readonly hasFpu: boolean;
  /** satp write (WARL, TLB maintenance): returns the value satp now holds. */
  writeSatp(v: bigint): bigint;
  /** PMP CSRs (pmpcfg*, pmpaddr*): null / false when the access is illegal. */
  readPmp(num: number): bigint | null;
  writePmp(num: number, v: bigint): boolean;
}

// mstatus fields (privileged spec §3.1.6)
export const MSTATUS_SIE = 1n << 1n;
export const MSTATUS_MIE = 1n << 3n;
export const MSTATUS_SPIE = 1n << 5n;
export const MSTATUS_MPIE = 1n << 7n;
export const MSTATUS_SPP = 1n << 8n;
export const MSTATUS_MPP = 3n << 11n;
export const MSTATUS_FS = 3n << 13n;
export const MSTATUS_MPRV = 1n << 17n;
export const MSTATUS_SUM = 1n << 18n;
export const MSTATUS_MXR = 1n << 19n;
export const MSTATUS_TVM = 1n << 20n;
export const MSTATUS_TW = 1n << 21n;
export const MSTATUS_TSR = 1n << 22n;
/** UXL = SXL = 2: U and S are 64-bit (read-only). */
export const MSTATUS_XLEN = (2n << 32n) | (2n << 34n);
export const MSTATUS_SD = 1n << 63n;

const MSTATUS_WRITABLE =
  MSTATUS_SIE |
  MSTATUS_MIE |
  MSTATUS_SPIE |
  MSTATUS_MPIE |
  MSTATUS_SPP |
  MSTATUS_MPP |
  MSTATUS_FS |
  MSTATUS_MPRV |
  MSTATUS_SUM |
  MSTATUS_MXR |
  MSTATUS_TVM |
  MSTATUS_TW |
  MSTATUS_TSR;
/** The part of mstatus that sstatus shows (privileged spec §4.1.1). */
const SSTATUS_MASK =
  MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR | (3n << 32n) | MSTATUS_SD;
const SSTATUS_WRITABLE = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR;

// Interrupt bits of mip/mie (privileged spec §3.1.9)
export const MIP_SSIP = 1n << 1n;
export const MIP_MSIP = 1n << 3n;
export const MIP_STIP = 1n << 5n;
export const MIP_MTIP = 1n << 7n;
export const MIP_SEIP = 1n << 9n;
export const MIP_MEIP = 1n << 11n;
const S_INTERRUPTS = MIP_SSIP | MIP_STIP | MIP_SEIP;
const ALL_INTERRUPTS = S_INTERRUPTS | MIP_MSIP | MIP_MTIP | MIP_MEIP;

/** Exceptions medeleg can delegate: causes 0–9, 12, 13, 15 (not ecall from M; QEMU 7.2 without hypervisor). */
const DELEGABLE_EXCEPTIONS = 0xb3ffn;
/** menvcfg bits: FIOM (0) and STCE (63, Sstc); the others (CBIE, CBCFE, CBZE, PBMTE) belong to absent extensions. */
const MENVCFG_STCE = 1n << 63n;
const MENVCFG_WRITABLE = 1n | MENVCFG_STCE;
const SENVCFG_WRITABLE = 1n;

/** mstatus with SD computed from FS (SD is set when FS is Dirty). */
function mstatusValue(c: BigInt64Array): bigint {
  const st = c[CsrSlot.mstatus]!;
  return (st & MSTATUS_FS) === MSTATUS_FS ? st | MSTATUS_SD : st & ~MSTATUS_SD;
}

/** The counter as software sees it: the stored base plus what retired in the current run. */
function counter(h: CsrHost, slot: number): bigint {
  return BigInt.asIntN(64, h.csr[slot]! + BigInt(h.retiredInRun));
}

/** Whether privilege `priv` may read user counter `bit` (0 cycle, 1 time, 2 instret, 3.. hpm): §3.1.11, §4.1.5. */
function counterAllowed(c: BigInt64Array, priv: number, bit: number): boolean {
  if (priv === 3) return true;
  const m = BigInt.asUintN(32, c[CsrSlot.mcounteren]!);
  if (((m >> BigInt(bit)) & 1n) === 0n) return false;
  if (priv === 1) return true;
  return ((BigInt.asUintN(32, c[CsrSlot.scounteren]!) >> BigInt(bit)) & 1n) === 1n;
}

/** Sstc: stimecmp is reachable from S when menvcfg.STCE and mcounteren.TM are set. */
function stimecmpAllowed(c: BigInt64Array, priv: number): boolean {
  if (priv === 3) return true;
  return (c[CsrSlot.menvcfg]! & MENVCFG_STCE) !== 0n && (c[CsrSlot.mcounteren]! & 2n) !== 0n;
}

export function readCsr(h: CsrHost, num: number, priv: number): bigint | null {
  const c = h.csr;
  switch (num) {
    case CSR.mstatus:
      return mstatusValue(c);
    case CSR.misa:
      return c[CsrSlot.misa]!;
    case CSR.medeleg:
      return c[CsrSlot.medeleg]!;
    case CSR.mideleg:
      return c[CsrSlot.mideleg]!;
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
    case CSR.mcounteren:
      return c[CsrSlot.mcounteren]!;
    case CSR.menvcfg:
      return c[CsrSlot.menvcfg]!;
    case CSR.mhartid:
      return c[CsrSlot.mhartid]!;
    case CSR.mvendorid:
    case CSR.marchid:
    case CSR.mimpid:
    case CSR.mconfigptr:
    case CSR.mcountinhibit:
      return 0n;
    case CSR.mcycle:
      return counter(h, CsrSlot.mcycle);
    case CSR.minstret:
      return counter(h, CsrSlot.minstret);
    case CSR.cycle:
      return counterAllowed(c, priv, 0) ? counter(h, CsrSlot.mcycle) : null;
    case CSR.instret:
      return counterAllowed(c, priv, 2) ? counter(h, CsrSlot.minstret) : null;
    case CSR.time:
      return h.timeSource === null || !counterAllowed(c, priv, 1) ? null : h.timeSource();
    case CSR.sstatus:
      return mstatusValue(c) & SSTATUS_MASK;
    case CSR.sie:
      return c[CsrSlot.mie]! & c[CsrSlot.mideleg]!;
    case CSR.sip:
      return c[CsrSlot.mip]! & c[CsrSlot.mideleg]!;
    case CSR.stvec:
      return c[CsrSlot.stvec]!;
    case CSR.sscratch:
      return c[CsrSlot.sscratch]!;
    case CSR.sepc:
      return c[CsrSlot.sepc]!;
    case CSR.scause:
      return c[CsrSlot.scause]!;
    case CSR.stval:
      return c[CsrSlot.stval]!;
    case CSR.scounteren:
      return c[CsrSlot.scounteren]!;
    case CSR.senvcfg:
      return c[CsrSlot.senvcfg]!;
    case CSR.satp:
      if (priv === 1 && (c[CsrSlot.mstatus]! & MSTATUS_TVM) !== 0n) return null;
      return c[CsrSlot.satp]!;
    case CSR.stimecmp:
      return stimecmpAllowed(c, priv) ? c[CsrSlot.stimecmp]! : null;
    case CSR.fflags:
    case CSR.frm:
    case CSR.fcsr:
      return fpCsrRead(h, num);
    default:
      break;
  }
  if (num >= 0x3a0 && num <= 0x3ef) return h.readPmp(num);
  // hpmcounter3..31 (subject to the counter enables), mhpmcounter3..31, mhpmevent3..31: read-only zero (WARL).
  if (num >= 0xc03 && num <= 0xc1f) return counterAllowed(c, priv, num - 0xc00) ? 0n : null;
  if ((num >= 0xb03 && num <= 0xb1f) || (num >= 0x323 && num <= 0x33f)) return 0n;
  return null;
}

export function writeCsr(h: CsrHost, num: number, v: bigint, priv: number): boolean {
  const c = h.csr;
  switch (num) {
    case CSR.mstatus:
      writeMstatus(h, v, MSTATUS_WRITABLE);
      return true;
    case CSR.misa:
      return true; // WARL: the extension set is fixed
    case CSR.medeleg:
      c[CsrSlot.medeleg] = v & DELEGABLE_EXCEPTIONS;
      return true;
    case CSR.mideleg:
      c[CsrSlot.mideleg] = v & S_INTERRUPTS;
      return true;
    case CSR.mie:
      c[CsrSlot.mie] = v & ALL_INTERRUPTS;
      return true;
    case CSR.mip: {
      // Software may write SSIP, STIP (unless Sstc drives it) and SEIP; the M bits come from devices.
      let mask = MIP_SSIP | MIP_SEIP;
      if ((c[CsrSlot.menvcfg]! & MENVCFG_STCE) === 0n) mask |= MIP_STIP;
      c[CsrSlot.mip] = (c[CsrSlot.mip]! & ~mask) | (v & mask);
      return true;
    }
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
    case CSR.mcounteren:
      c[CsrSlot.mcounteren] = v & 0xffff_ffffn;
      return true;
    case CSR.menvcfg:
      c[CsrSlot.menvcfg] = v & MENVCFG_WRITABLE;
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
    case CSR.sstatus:
      writeMstatus(h, v, SSTATUS_WRITABLE);
      return true;
    case CSR.sie: {
      const d = c[CsrSlot.mideleg]!;
      c[CsrSlot.mie] = (c[CsrSlot.mie]! & ~d) | (v & d);
      return true;
    }
    case CSR.sip: {
      // Only SSIP is writable through sip (§4.1.3).
      const mask = MIP_SSIP & c[CsrSlot.mideleg]!;
      c[CsrSlot.mip] = (c[CsrSlot.mip]! & ~mask) | (v & mask);
      return true;
    }
    case CSR.stvec:
      if ((v & 3n) < 2n) c[CsrSlot.stvec] = v;
      return true;
    case CSR.sscratch:
      c[CsrSlot.sscratch] = v;
      return true;
    case CSR.sepc:
      c[CsrSlot.sepc] = v & ~1n;
      return true;
    case CSR.scause:
      c[CsrSlot.scause] = v;
      return true;
    case CSR.stval:
      c[CsrSlot.stval] = v;
      return true;
    case CSR.scounteren:
      c[CsrSlot.scounteren] = v & 0xffff_ffffn;
      return true;
    case CSR.senvcfg:
      c[CsrSlot.senvcfg] = v & SENVCFG_WRITABLE;
      return true;
    case CSR.satp: {
      if (priv === 1 && (c[CsrSlot.mstatus]! & MSTATUS_TVM) !== 0n) return false;
      // WARL: Bare (0), Sv39 (8) and Sv48 (9); a write of another mode is ignored (§4.1.11). 16 ASID bits.
      c[CsrSlot.satp] = h.writeSatp(v);
      return true;
    }
    case CSR.stimecmp:
      if (!stimecmpAllowed(c, priv)) return false;
      c[CsrSlot.stimecmp] = v;
      return true;
    case CSR.fflags:
    case CSR.frm:
    case CSR.fcsr:
      return fpCsrWrite(h, num, v);
    default:
      break;
  }
  if (num >= 0x3a0 && num <= 0x3ef) return h.writePmp(num, v);
  if (num >= 0xc03 && num <= 0xc1f) return false;
  if ((num >= 0xb03 && num <= 0xb1f) || (num >= 0x323 && num <= 0x33f)) return true;
  return false;
}

/** Write the `mask` bits of mstatus, keeping MPP legal (WARL: the reserved value 2 leaves MPP unchanged). */
function writeMstatus(h: CsrHost, v: bigint, mask: bigint): void {
  const c = h.csr;
  const old = c[CsrSlot.mstatus]!;
  let m = h.hasFpu ? mask : mask & ~MSTATUS_FS;
  if ((v & MSTATUS_MPP) === 2n << 11n) m &= ~MSTATUS_MPP;
  c[CsrSlot.mstatus] = (old & ~m) | (v & m);
}

// ---- Floating-point CSRs (unprivileged spec ch. 11): exist only with F; accessing them needs mstatus.FS ≠ Off ----

function fpCsrRead(h: CsrHost, num: number): bigint | null {
  const c = h.csr;
  if (!h.hasFpu || (c[CsrSlot.mstatus]! & MSTATUS_FS) === 0n) return null;
  const fcsr = c[CsrSlot.fcsr]!;
  if (num === CSR.fflags) return fcsr & 0x1fn;
  if (num === CSR.frm) return (fcsr >> 5n) & 7n;
  return fcsr & 0xffn;
}

function fpCsrWrite(h: CsrHost, num: number, v: bigint): boolean {
  const c = h.csr;
  if (!h.hasFpu || (c[CsrSlot.mstatus]! & MSTATUS_FS) === 0n) return false;
  const fcsr = c[CsrSlot.fcsr]!;
  if (num === CSR.fflags) c[CsrSlot.fcsr] = (fcsr & ~0x1fn) | (v & 0x1fn);
  else if (num === CSR.frm) c[CsrSlot.fcsr] = (fcsr & ~0xe0n) | ((v & 7n) << 5n);
  else c[CsrSlot.fcsr] = v & 0xffn;
  c[CsrSlot.mstatus] = c[CsrSlot.mstatus]! | MSTATUS_FS; // writing FP state makes it Dirty
  return true;
}
