/**
 * Physical memory protection (privileged spec 1.12 §3.7): 16 entries, address matching OFF/TOR/NA4/NAPOT at 4-byte
 * granularity (G = 0, as QEMU), R/W/X, and the L bit. The CSR values live in the hart's CSR slots (cpu/layout.ts:
 * CsrSlot.pmpcfg holds pmpcfg0 and pmpcfg2, CsrSlot.pmpaddr the 16 pmpaddr); this class applies the WARL write rules
 * and keeps a decoded copy of the ranges for checks. Not modelled: Smepmp (mseccfg), entries 16–63 (read as zero).
 *
 * Addresses are numbers. Bounds above 2^53 may round, which cannot change an outcome: nothing exists up there, so any
 * access to it faults anyway.
 */
import { CsrSlot } from "../cpu/layout.ts";
import { type AccessType, Perm, PRV_M } from "./access.ts";

/** Number of implemented PMP entries. */
export const PMP_ENTRIES = 16;
/** pmpcfg0, the first PMP configuration CSR; pmpaddr0 follows at 0x3b0. */
export const CSR_PMPCFG0 = 0x3a0;
export const CSR_PMPADDR0 = 0x3b0;

/** pmpcfg fields (one byte per entry). */
export const PMP_R = 0x01;
export const PMP_W = 0x02;
export const PMP_X = 0x04;
/** Address-matching mode A, bits 4:3. */
export const PMP_A = 0x18;
export const PMP_L = 0x80;
export const PmpMode = { OFF: 0, TOR: 1, NA4: 2, NAPOT: 3 } as const;

/** pmpaddr holds physical address bits 55:2 on RV64; bits 63:54 are zero. */
const ADDR_MASK = (1n << 54n) - 1n;
/** Bytes of a full NAPOT range (pmpaddr all ones): the whole 56-bit physical address space. */
const TOP = 2 ** 56;

/** A pmpcfg byte as a permission mask (access.ts Perm). */
function cfgPerm(c: number): number {
  return (
    ((c & PMP_X) !== 0 ? Perm.Fetch : 0) | ((c & PMP_R) !== 0 ? Perm.Load : 0) | ((c & PMP_W) !== 0 ? Perm.Store : 0)
  );
}

/**
 * WARL value of one pmpcfg byte after software writes `v` over `old`: locked entries keep their value (until reset);
 * bits 6:5 read as zero; the reserved combination R = 0, W = 1 leaves the entry unchanged (as QEMU 8.1 and later do).
 */
export function legalPmpcfgByte(old: number, v: number): number {
  if ((old & PMP_L) !== 0) return old;
  if ((v & (PMP_R | PMP_W)) === PMP_W) return old;
  return v & 0x9f;
}

export class Pmp {
  private readonly csr: BigInt64Array;
  private readonly cfgSlot: number;
  private readonly addrSlot: number;
  /** Decoded ranges [lo, hi) in bytes, per entry. */
  private readonly lo = new Float64Array(PMP_ENTRIES);
  private readonly hi = new Float64Array(PMP_ENTRIES);
  /** pmpcfg byte per entry. */
  private readonly cfg = new Uint8Array(PMP_ENTRIES);
  /** Permission mask (Perm) per entry. */
  private readonly perm = new Uint8Array(PMP_ENTRIES);
  /** Entries that can match something (A ≠ OFF, non-empty range), in priority order; `active` of them. */
  private readonly order = new Int32Array(PMP_ENTRIES);
  /** Number of entries in `order`. With 0, M-mode accesses succeed and S/U accesses fail. */
  active = 0;
  /**
   * True when PMP cannot deny any M-mode access inside one 4 KiB page: no matching entry is locked and every range
   * bound is page-aligned (so no access within a page matches an entry only partly). Then M-mode accesses need no
   * check at all: the common case costs one field read.
   */
  mFree = true;

  /** `csr` is the hart's CSR slot array; slots default to cpu/layout.ts. */
  constructor(csr: BigInt64Array, cfgSlot: number = CsrSlot.pmpcfg, addrSlot: number = CsrSlot.pmpaddr) {
    this.csr = csr;
    this.cfgSlot = cfgSlot;
    this.addrSlot = addrSlot;
    this.reload();
  }

  /** The pmpcfg byte of entry `i` as stored in the CSR slots. */
  cfgByte(i: number): number {
    return Number((this.csr[this.cfgSlot + (i >> 3)]! >> BigInt(8 * (i & 7))) & 0xffn);
  }

  /** Reset state (privileged spec §3.7.1: L and A cleared on reset; addresses left as they are, here zero). */
  reset(): void {
    this.csr[this.cfgSlot] = 0n;
    this.csr[this.cfgSlot + 1] = 0n;
    for (let i = 0; i < PMP_ENTRIES; i++) this.csr[this.addrSlot + i] = 0n;
    this.reload();
  }

  /** Re-decode every entry from the CSR slots (after reset, snapshot restore, or a direct write to the slots). */
  reload(): void {
    let n = 0;
    let mFree = true;
    for (let i = 0; i < PMP_ENTRIES; i++) {
      const c = this.cfgByte(i);
      this.cfg[i] = c;
      this.perm[i] = cfgPerm(c);
      const a = this.csr[this.addrSlot + i]! & ADDR_MASK;
      let lo = 0;
      let hi = 0;
      switch ((c & PMP_A) >> 3) {
        case PmpMode.TOR:
          // [pmpaddr(i-1) × 4, pmpaddr(i) × 4); entry 0 starts at 0. Matches nothing when the bounds are reversed.
          lo = i === 0 ? 0 : Number((this.csr[this.addrSlot + i - 1]! & ADDR_MASK) << 2n);
          hi = Number(a << 2n);
          break;
        case PmpMode.NA4:
          lo = Number(a << 2n);
          hi = lo + 4;
          break;
        case PmpMode.NAPOT: {
          // aaaa…a0111 with t trailing ones: 2^(t+3) bytes at (a with those ones cleared) × 4. All ones: everything.
          if (a === ADDR_MASK) {
            lo = 0;
            hi = TOP;
          } else {
            const t = trailingOnes(a);
            lo = Number((a & ~((1n << BigInt(t)) - 1n)) << 2n);
            hi = lo + 2 ** (t + 3);
          }
          break;
        }
        default:
          continue; // OFF
      }
      this.lo[i] = lo;
      this.hi[i] = hi;
      if (!(lo < hi)) continue;
      this.order[n++] = i;
      if ((c & PMP_L) !== 0 || lo % 4096 !== 0 || hi % 4096 !== 0) mFree = false;
    }
    this.active = n;
    this.mFree = mFree;
  }

  /**
   * Whether an access of `size` bytes at physical `pa` with effective privilege `priv` is allowed (§3.7.1): the
   * lowest-numbered entry matching any byte decides; it must match all bytes; its R/W/X apply to S/U always and to M
   * when locked. No entry matching: M succeeds, S/U fail (16 entries are implemented).
   */
  check(pa: number, size: number, access: AccessType, priv: number): boolean {
    return (this.allowed(pa, size, priv) & (1 << access)) !== 0;
  }

  /**
   * Permission mask (access.ts Perm) for every access of privilege `priv` inside [pa, pa + size), or 0 when the range
   * matches an entry only partly. With `size` = 4096 at a page base this says what a TLB entry may cache.
   */
  allowed(pa: number, size: number, priv: number): number {
    const n = this.active;
    const end = pa + size;
    for (let j = 0; j < n; j++) {
      const i = this.order[j]!;
      const lo = this.lo[i]!;
      const hi = this.hi[i]!;
      if (pa < hi && end > lo) {
        if (pa < lo || end > hi) return 0; // matches some bytes but not all: fails whatever L, R, W, X say
        if (priv === PRV_M && (this.cfg[i]! & PMP_L) === 0) return Perm.All;
        return this.perm[i]!;
      }
    }
    return priv === PRV_M ? Perm.All : 0;
  }

  // ---- CSR interface (pmpcfg0–15 at 0x3a0, pmpaddr0–63 at 0x3b0): reads and writes are the slow path ----

  /** Whether `num` is a PMP CSR number (0x3a0–0x3ef), legal or not. */
  static isPmpCsr(num: number): boolean {
    return num >= CSR_PMPCFG0 && num < CSR_PMPADDR0 + 64;
  }

  /** Read a PMP CSR; null for the odd pmpcfg registers, which do not exist on RV64 (illegal instruction). */
  readCsr(num: number): bigint | null {
    if (num < CSR_PMPADDR0) {
      const n = num - CSR_PMPCFG0;
      if ((n & 1) !== 0) return null;
      return n >> 1 < PMP_ENTRIES / 8 ? this.csr[this.cfgSlot + (n >> 1)]! : 0n;
    }
    const i = num - CSR_PMPADDR0;
    return i < PMP_ENTRIES ? this.csr[this.addrSlot + i]! : 0n;
  }

  /**
   * Write a PMP CSR with the WARL rules: locked entries keep cfg and address, the address below a locked TOR entry is
   * kept too, reserved bits read zero, R = 0 W = 1 is refused per entry, unimplemented entries ignore writes. Returns
   * false for the odd pmpcfg registers (illegal instruction). After any write the caller flushes its TLBs, as QEMU
   * does: cached translations carry PMP permissions.
   */
  writeCsr(num: number, v: bigint): boolean {
    if (num < CSR_PMPADDR0) {
      const n = num - CSR_PMPCFG0;
      if ((n & 1) !== 0) return false;
      const k = n >> 1;
      if (k >= PMP_ENTRIES / 8) return true;
      let out = 0n;
      for (let b = 0; b < 8; b++) {
        const old = this.cfgByte(k * 8 + b);
        const nb = legalPmpcfgByte(old, Number((v >> BigInt(8 * b)) & 0xffn));
        out |= BigInt(nb) << BigInt(8 * b);
      }
      this.csr[this.cfgSlot + k] = out;
      this.reload();
      return true;
    }
    const i = num - CSR_PMPADDR0;
    if (i >= PMP_ENTRIES || !this.addrWritable(i)) return true;
    this.csr[this.addrSlot + i] = v & ADDR_MASK;
    this.reload();
    return true;
  }

  /** pmpaddr `i` is writable unless entry i is locked, or entry i+1 is locked and in TOR mode (§3.7.1.3). */
  addrWritable(i: number): boolean {
    if ((this.cfgByte(i) & PMP_L) !== 0) return false;
    if (i + 1 < PMP_ENTRIES) {
      const next = this.cfgByte(i + 1);
      if ((next & PMP_L) !== 0 && (next & PMP_A) >> 3 === PmpMode.TOR) return false;
    }
    return true;
  }
}

function trailingOnes(a: bigint): number {
  let t = 0;
  while (((a >> BigInt(t)) & 1n) === 1n) t++;
  return t;
}
