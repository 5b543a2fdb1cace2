/**
 * RV64F and RV64D arithmetic, bit-exact with RISC-V hardware and QEMU's softfloat (unprivileged spec 20191213 ch. 11
 * and 12): canonical NaN results, no NaN payload propagation, tininess after rounding, the five rounding modes and
 * the five accrued flags. Fast paths compute with JS doubles and prove exactness and flags with error-free
 * transformations; anything they cannot prove goes to the exact BigInt path in fpu-soft.ts.
 *
 * API. An `Fpu` works on 8-byte register slots of one ArrayBuffer (the machine memory: FP and integer registers both
 * live there, cpu/layout.ts), read through aliased Float64Array / Float32Array / Int32Array views; slot i is
 * `f64[i]` and the words `w[2i]` (low) and `w[2i+1]` (high). Every operation is a method taking slot indices (`d`
 * destination, `a`, `b`, `c` sources; integer sources and destinations are slots too) and `rm`, the already resolved
 * rounding mode 0..4 (RNE, RTZ, RDN, RUP, RMM; the caller maps 7 to frm and traps on 5/6). Results are written to
 * slot d; flags are ORed into the word `w[flagsAt]` (NX=1, UF=2, OF=4, DZ=8, NV=16, fflags' layout), which a hart can
 * simply keep as its fflags. Single-precision sources are unboxed here (an improperly NaN-boxed value reads as the
 * canonical NaN, §12.2) and single-precision results are written NaN-boxed. W results are written sign-extended to
 * 64 bits (§11.7), comparisons and fclass write 0/1 and the class mask. Nothing allocates unless the exact path runs.
 *
 * Why slots rather than values: f64 operands as (hi, lo) word pairs cost ~20 ns per call in V8 (store-forwarding
 * stalls), doubles passed to and returned from a call that is not inlined are boxed (~20 ns), slot indices ~3 ns.
 * Bit-pattern functions for tests and tools are in fpu-bits.ts.
 *
 * Fast paths (typically 3–10 ns): RNE add/sub/mul/div/sqrt/fma; exact results in every mode; directed rounding (RTZ,
 * RDN, RUP, and RMM where ties are ruled out or detected) of add/sub/mul/div/sqrt, single-precision fma and every
 * conversion; compares, min/max, class and sign injection. When NX is already accrued, RNE add/sub/mul/div/sqrt skip
 * their inexactness proofs. The exact path (~0.2–1 µs) takes most NaN and infinite operands, results that may
 * be tiny or overflow, subnormal or extreme operands of double multiply/divide/fma (outside Dekker's exact range), and
 * inexact double fma in directed modes. `fpuStats.exact` counts its uses.
 */
import * as soft from "./fpu-soft.ts";
import { f32 as F32, f64 as F64, L, LU, NV, NX, RDN, RMM, RNE, RTZ, RUP, softFlags, W, WU } from "./fpu-soft.ts";

export { DZ, NV, NX, OF, RDN, RMM, RNE, RTZ, RUP, UF, unboxF32 } from "./fpu-soft.ts";

/** 2^-1022, the smallest normal double. */
const MIN_NORMAL = 2.2250738585072014e-308;
/** 2^-126, the smallest normal single. */
const MIN_NORMAL32 = 1.1754943508222875e-38;
/** Bounds inside which Dekker's product is exact: |product| in [2^-967, 2^1020), factors below 2^995. */
const PROD_LO = 2 ** -967;
const PROD_HI = 2 ** 1020;
const FACTOR_HI = 2 ** 995;
/** Veltkamp splitting constant 2^27 + 1. */
const SPLIT = 134217729;
const TWO32 = 4294967296;
const TWO63 = 2 ** 63;
const TWO64 = 2 ** 64;
/** Canonical NaNs: single 0x7fc00000, double 0x7ff80000_00000000 (high word). */
const CNAN32 = 0x7fc00000;
const CNAN64_HI = 0x7ff80000;
/** An error that only carries its sign (quotients and square roots: never ties, and RMM is mapped to RNE). */
const TINY = Number.MIN_VALUE;

/** Counts of operations that needed the exact path (for coverage measurements; never reset by the library). */
export const fpuStats = { exact: 0 };

/** Rounding mode names, indexed by rm. */
export const RM_NAMES: readonly string[] = ["rne", "rtz", "rdn", "rup", "rmm"];

/** Doubles handed to the out-of-line rounding helpers: a double argument to a call that is not inlined is boxed. */
const hand = new Float64Array(2);
// Scratch for bit manipulation of doubles and singles (slow-ish paths only).
const sd = new Float64Array(1);
const sdw = new Int32Array(sd.buffer);
const ss = new Float32Array(1);
const ssw = new Int32Array(ss.buffer);

/** The error of the product p = RN(x·y), exact when no operand or partial product overflows or underflows. */
function prodErr(x: number, y: number, p: number): number {
  let t = SPLIT * x;
  const xh = t - (t - x);
  const xl = x - xh;
  t = SPLIT * y;
  const yh = t - (t - y);
  const yl = y - yh;
  return xh * yh - p + xh * yl + xl * yh + xl * yl;
}

/** True when Dekker's product of x and y (p = RN(x·y)) is exact: see PROD_LO. */
function prodOk(x: number, y: number, p: number): boolean {
  const ap = Math.abs(p);
  const ax = Math.abs(x);
  const ay = Math.abs(y);
  return ap >= PROD_LO && ap < PROD_HI && ax < FACTOR_HI && ay < FACTOR_HI && ax >= MIN_NORMAL && ay >= MIN_NORMAL;
}

/** The double next to s (finite, nonzero) in magnitude: up if `up`, else down. Infinity when it overflows. */
function nextMag(s: number, up: boolean): number {
  sd[0] = s;
  let lo = sdw[0]!;
  let hi = sdw[1]!;
  if (up) {
    lo = (lo + 1) | 0;
    if (lo === 0) hi++;
  } else {
    if (lo === 0) hi--;
    lo = (lo - 1) | 0;
  }
  sdw[0] = lo;
  sdw[1] = hi;
  return sd[0]!;
}

/** Round to odd: s = RN(v) with v = s + e exactly, e ≠ 0; the neighbour of s on e's side if s is even, else s. */
function roundOdd(s: number, e: number): number {
  sd[0] = s;
  if ((sdw[0]! & 1) !== 0) return s;
  return nextMag(s, e > 0 === s > 0);
}

/**
 * Directed rounding of a double: s = RN(exact), err = exact − s ≠ 0, exactly for RMM (which must recognise a tie),
 * else any value of the right sign. |s| must exceed the smallest normal. Returns NaN when the result would overflow.
 */
function directed64(s: number, err: number, rm: number): number {
  let up: boolean; // move |s| up (true), down (false), or keep (return s)
  switch (rm) {
    case RTZ:
      if (err > 0 === s > 0) return s;
      up = false;
      break;
    case RDN:
      if (err > 0) return s;
      up = s < 0;
      break;
    case RUP:
      if (err < 0) return s;
      up = s > 0;
      break;
    default: {
      // RMM differs from RNE only on a tie broken toward zero.
      if (err > 0 !== s > 0) return s;
      const n = nextMag(s, true);
      if (n - s !== 2 * err) return s;
      return n - n === 0 ? n : Number.NaN;
    }
  }
  const r = nextMag(s, up);
  return r - r === 0 ? r : Number.NaN;
}

export class Fpu {
  /** The buffer as doubles, singles (at even indices) and words; slot i = f64[i] = w[2i], w[2i+1]. */
  readonly f64: Float64Array;
  readonly f32: Float32Array;
  readonly w: Int32Array;
  readonly u64: BigUint64Array;
  /** Index in `w` of the accrued-flags word. */
  readonly flagsAt: number;

  constructor(buffer: ArrayBufferLike, flagsAt: number) {
    // Explicit lengths: views of a shared wasm memory's growable buffer without one track its length (slow).
    const n = Math.floor(buffer.byteLength / 8);
    this.f64 = new Float64Array(buffer, 0, n);
    this.f32 = new Float32Array(buffer, 0, 2 * n);
    this.w = new Int32Array(buffer, 0, 2 * n);
    this.u64 = new BigUint64Array(buffer, 0, n);
    this.flagsAt = flagsAt;
  }

  /** Accrued flags. */
  get flags(): number {
    return this.w[this.flagsAt]!;
  }

  set flags(v: number) {
    this.w[this.flagsAt] = v;
  }

  private raise(f: number): void {
    this.w[this.flagsAt]! |= f;
  }

  // ---- result writers -----------------------------------------------------------------------------------------

  /** Write an exact-path f64 result and merge its flags. */
  private out64(d: number, bits: bigint): void {
    fpuStats.exact++;
    this.u64[d] = bits;
    this.w[this.flagsAt]! |= softFlags.v;
    softFlags.v = 0;
  }

  /** Write an exact-path f32 result (NaN-boxed) and merge its flags. */
  private out32(d: number, bits: bigint): void {
    fpuStats.exact++;
    this.w[2 * d] = Number(bits) | 0;
    this.w[2 * d + 1] = -1;
    this.w[this.flagsAt]! |= softFlags.v;
    softFlags.v = 0;
  }

  /** Write an exact-path integer result (any signed or unsigned value; the low 64 bits are kept). */
  private outInt(d: number, v: bigint, sext32: boolean): void {
    fpuStats.exact++;
    this.u64[d] = sext32 ? BigInt.asUintN(64, BigInt.asIntN(32, v)) : BigInt.asUintN(64, v);
    this.w[this.flagsAt]! |= softFlags.v;
    softFlags.v = 0;
  }

  /**
   * Write s = RN(exact) with err = exact − s (0 when exact; see directed64) to f64 slot d in mode rm. s must be finite
   * and, unless err = 0, above the smallest normal in magnitude. Returns false (having written nothing) when the
   * result needs the exact path. Small so that it inlines; directed modes go out of line through `hand`.
   */
  private put64(d: number, s: number, err: number, rm: number): boolean {
    if (err === 0) {
      this.f64[d] = s;
      return true;
    }
    if (rm === RNE) {
      this.w[this.flagsAt]! |= NX;
      this.f64[d] = s;
      return true;
    }
    hand[0] = s;
    hand[1] = err;
    return this.dir64(d, rm);
  }

  /**
   * put64 for RTZ/RDN/RUP/RMM with s and err in hand[0], hand[1]. An err that is not finite means the caller's error
   * term overflowed (TwoSum of a sum within half an ulp of the largest double): the exact path decides.
   */
  private dir64(d: number, rm: number): boolean {
    const err = hand[1]!;
    if (!(err - err === 0)) return false;
    const r = directed64(hand[0]!, err, rm);
    if (Number.isNaN(r)) return false;
    this.w[this.flagsAt]! |= NX;
    this.f64[d] = r;
    return true;
  }

  /** Write a finite single value f (a double holding an f32) NaN-boxed into slot d. */
  private set32(d: number, f: number): void {
    this.f32[2 * d] = f;
    this.w[2 * d + 1] = -1;
  }

  /**
   * Write the single rounding of v to slot d in mode rm, where v is the exact result (exact = true) or its round-to-
   * odd double proxy (exact = false; then v has more than 24 significant bits and lies strictly between the same two
   * singles as the exact value). Returns false when the result needs the exact path (overflow, tininess). Small so
   * that it inlines; directed modes go out of line through `hand`.
   */
  private put32v(d: number, v: number, exact: boolean, rm: number): boolean {
    const f = Math.fround(v);
    const af = Math.abs(f);
    if (af > MIN_NORMAL32 && af < Number.POSITIVE_INFINITY) {
      if (f !== v) {
        if (rm !== RNE) {
          hand[0] = v;
          hand[1] = f;
          return this.dir32v(d, exact, rm);
        }
        this.w[this.flagsAt]! |= NX;
      }
      this.set32(d, f);
      return true;
    }
    if (f === v) {
      this.set32(d, f); // exact zeros, subnormals and infinities
      return true;
    }
    return false;
  }

  /** put32v for an inexact v in RTZ/RDN/RUP/RMM, with v and f = RN24(v) in hand[0], hand[1]. */
  private dir32v(d: number, exact: boolean, rm: number): boolean {
    const v = hand[0]!;
    const f = hand[1]!;
    let up: boolean;
    switch (rm) {
      case RTZ:
        if (v > f === f > 0) {
          this.raise(NX);
          this.set32(d, f);
          return true;
        }
        up = false;
        break;
      case RDN:
        if (v > f) {
          this.raise(NX);
          this.set32(d, f);
          return true;
        }
        up = f < 0;
        break;
      case RUP:
        if (v < f) {
          this.raise(NX);
          this.set32(d, f);
          return true;
        }
        up = f > 0;
        break;
      default: {
        // RMM: only a tie rounded toward zero by RNE changes.
        ss[0] = f;
        ssw[0] = ssw[0]! + 1;
        const n = ss[0]!;
        if (!exact || v > f !== f > 0 || (f + n) * 0.5 !== v) {
          this.raise(NX);
          this.set32(d, f);
          return true;
        }
        if (!(n - n === 0)) return false;
        this.raise(NX);
        this.set32(d, n);
        return true;
      }
    }
    ss[0] = f;
    const bits = up ? ssw[0]! + 1 : ssw[0]! - 1;
    if ((bits & 0x7f800000) === 0x7f800000) return false; // overflow
    this.raise(NX);
    this.w[2 * d] = bits;
    this.w[2 * d + 1] = -1;
    return true;
  }

  /**
   * Write f = RN24(exact) to slot d in mode rm, where dir is the sign of exact − f (0: exact) and the exact value is
   * never a tie (quotients, square roots). Returns false when the exact path is needed.
   */
  private put32dir(d: number, f: number, dir: number, rm: number): boolean {
    if (dir === 0) {
      this.set32(d, f);
      return true;
    }
    const af = Math.abs(f);
    if (!(af > MIN_NORMAL32 && af < Number.POSITIVE_INFINITY)) return false;
    let move = 0; // -1 toward zero, 1 away, 0 keep
    if (rm === RTZ) move = dir > 0 === f > 0 ? 0 : -1;
    else if (rm === RDN) move = dir > 0 ? 0 : f < 0 ? 1 : -1;
    else if (rm === RUP) move = dir < 0 ? 0 : f > 0 ? 1 : -1;
    this.raise(NX);
    if (move === 0) {
      this.set32(d, f);
      return true;
    }
    ss[0] = f;
    const bits = ssw[0]! + move;
    if ((bits & 0x7f800000) === 0x7f800000) return false;
    this.w[2 * d] = bits;
    this.w[2 * d + 1] = -1;
    return true;
  }

  // ---- operand access -----------------------------------------------------------------------------------------

  /** The single in slot i as bits (canonical NaN when not NaN-boxed). */
  bits32(i: number): number {
    return this.w[2 * i + 1] === -1 ? this.w[2 * i]! : CNAN32;
  }

  /** The single in slot i as a double (NaN when not NaN-boxed or a NaN). */
  private val32(i: number): number {
    return this.w[2 * i + 1] === -1 ? this.f32[2 * i]! : Number.NaN;
  }

  private big32(i: number): bigint {
    return BigInt(this.bits32(i) >>> 0);
  }

  private isSNaN32(i: number): boolean {
    const b = this.bits32(i);
    return (b & 0x7fc00000) === 0x7f800000 && (b & 0x003fffff) !== 0;
  }

  private isSNaN64(i: number): boolean {
    const hi = this.w[2 * i + 1]!;
    return (hi & 0x7ff80000) === 0x7ff00000 && ((hi & 0x7ffff) | this.w[2 * i]!) !== 0;
  }

  // ---- double precision: arithmetic ---------------------------------------------------------------------------

  fadd_d(d: number, a: number, b: number, rm: number): void {
    const x = this.f64[a]!;
    const y = this.f64[b]!;
    if (!this.add64(d, x, y, rm)) this.out64(d, soft.add(F64, this.u64[a]!, this.u64[b]!, rm));
  }

  fsub_d(d: number, a: number, b: number, rm: number): void {
    const x = this.f64[a]!;
    const y = this.f64[b]!;
    if (!this.add64(d, x, -y, rm)) this.out64(d, soft.sub(F64, this.u64[a]!, this.u64[b]!, rm));
  }

  /** x + y for finite non-overflowing sums (an inexact sum is never tiny); false when the exact path is needed. */
  private add64(d: number, x: number, y: number, rm: number): boolean {
    const s = x + y;
    if (!(s - s === 0)) return false;
    if (rm === RNE) {
      if ((this.w[this.flagsAt]! & NX) === 0) {
        const bv = s - x;
        if (x - (s - bv) + (y - bv) !== 0) this.raise(NX);
      }
      this.f64[d] = s;
      return true;
    }
    if (s === 0 && rm === RDN) return false; // −0 rules
    const bv = s - x;
    return this.put64(d, s, x - (s - bv) + (y - bv), rm);
  }

  fmul_d(d: number, a: number, b: number, rm: number): void {
    const x = this.f64[a]!;
    const y = this.f64[b]!;
    const p = x * y;
    const ap = Math.abs(p);
    if (ap > MIN_NORMAL && ap < Number.POSITIVE_INFINITY) {
      if (rm === RNE && (this.w[this.flagsAt]! & NX) !== 0) {
        this.f64[d] = p;
        return;
      }
      if (prodOk(x, y, p) && this.put64(d, p, prodErr(x, y, p), rm)) return;
    } else if (p === 0 && (x === 0 || y === 0)) {
      this.f64[d] = p; // exact zero, sign x ^ y
      return;
    }
    this.out64(d, soft.mul(F64, this.u64[a]!, this.u64[b]!, rm));
  }

  fdiv_d(d: number, a: number, b: number, rm: number): void {
    const x = this.f64[a]!;
    const y = this.f64[b]!;
    const q = x / y;
    const aq = Math.abs(q);
    if (aq > MIN_NORMAL && aq < Number.POSITIVE_INFINITY) {
      if (rm === RNE && (this.w[this.flagsAt]! & NX) !== 0) {
        this.f64[d] = q;
        return;
      }
      const p = q * y;
      if (prodOk(q, y, p)) {
        // The remainder x − q·y is representable: x − p is exact (Sterbenz), then one rounding of a representable.
        const r = x - p - prodErr(q, y, p);
        // A quotient is never a tie, so RMM rounds as RNE does.
        if (this.put64(d, q, r === 0 ? 0 : r > 0 === y > 0 ? TINY : -TINY, rm === RMM ? RNE : rm)) return;
      }
    } else if (q === 0 && x === 0 && !Number.isNaN(y) && y !== 0) {
      this.f64[d] = q; // 0 / finite or 0 / ∞
      return;
    }
    this.out64(d, soft.div(F64, this.u64[a]!, this.u64[b]!, rm));
  }

  fsqrt_d(d: number, a: number, rm: number): void {
    const x = this.f64[a]!;
    if (x >= PROD_LO && x < PROD_HI) {
      const r = Math.sqrt(x);
      if (rm === RNE && (this.w[this.flagsAt]! & NX) !== 0) {
        this.f64[d] = r;
        return;
      }
      const p = r * r;
      const e = x - p - prodErr(r, r, p);
      // A square root is never a tie, so RMM rounds as RNE does.
      if (this.put64(d, r, e === 0 ? 0 : e > 0 ? TINY : -TINY, rm === RMM ? RNE : rm)) return;
    } else if (x === 0) {
      this.f64[d] = x; // ±0
      return;
    }
    this.out64(d, soft.sqrt(F64, this.u64[a]!, rm));
  }

  fmadd_d(d: number, a: number, b: number, c: number, rm: number): void {
    if (!this.fma64(d, a, b, c, 1, 1, rm))
      this.out64(d, soft.fma(F64, this.u64[a]!, this.u64[b]!, this.u64[c]!, false, false, rm));
  }

  fmsub_d(d: number, a: number, b: number, c: number, rm: number): void {
    if (!this.fma64(d, a, b, c, 1, -1, rm))
      this.out64(d, soft.fma(F64, this.u64[a]!, this.u64[b]!, this.u64[c]!, false, true, rm));
  }

  fnmsub_d(d: number, a: number, b: number, c: number, rm: number): void {
    if (!this.fma64(d, a, b, c, -1, 1, rm))
      this.out64(d, soft.fma(F64, this.u64[a]!, this.u64[b]!, this.u64[c]!, true, false, rm));
  }

  fnmadd_d(d: number, a: number, b: number, c: number, rm: number): void {
    if (!this.fma64(d, a, b, c, -1, -1, rm))
      this.out64(d, soft.fma(F64, this.u64[a]!, this.u64[b]!, this.u64[c]!, true, true, rm));
  }

  /**
   * x·y + z with one rounding (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms
   * using rounding to odd", IEEE TC 2008, algorithm 5.4): exact product by Dekker, 2Sum with z, the low parts summed
   * with rounding to odd, one final RN. Inexact results only in RNE; false when the exact path is needed.
   * Operands are slots and signs (±1), not doubles: a double argument to a call that is not inlined is boxed.
   */
  private fma64(d: number, a: number, b: number, c: number, sp: number, sc: number, rm: number): boolean {
    const x = sp * this.f64[a]!;
    const y = this.f64[b]!;
    const z = sc * this.f64[c]!;
    const ph = x * y;
    if (!prodOk(x, y, ph)) {
      // A zero product (finite factors) adds exactly, except for the sign of a zero sum in RDN.
      if ((x === 0 || y === 0) && x - x === 0 && y - y === 0 && z - z === 0) {
        if (z !== 0) this.f64[d] = z;
        else if (rm === RDN) return false;
        else this.f64[d] = ph + z;
        return true;
      }
      return false;
    }
    if (!(Math.abs(z) < PROD_HI)) return false;
    const pl = prodErr(x, y, ph);
    const th = z + ph;
    let bv = th - z;
    const tl = z - (th - bv) + (ph - bv);
    const vs = tl + pl;
    bv = vs - tl;
    const ve = tl - (vs - bv) + (pl - bv);
    const v = ve === 0 ? vs : roundOdd(vs, ve);
    const r = th + v;
    const ar = Math.abs(r);
    if (!(ar > MIN_NORMAL && ar < Number.POSITIVE_INFINITY)) return false;
    bv = r - th;
    const e3 = th - (r - bv) + (v - bv);
    if (ve === 0 && e3 === 0) {
      this.f64[d] = r;
      return true;
    }
    if (rm !== RNE) return false;
    this.raise(NX);
    this.f64[d] = r;
    return true;
  }

  // ---- double precision: min/max, sign injection, compare, class ----------------------------------------------

  fmin_d(d: number, a: number, b: number): void {
    this.minmax64(d, a, b, false);
  }

  fmax_d(d: number, a: number, b: number): void {
    this.minmax64(d, a, b, true);
  }

  private minmax64(d: number, a: number, b: number, max: boolean): void {
    const x = this.f64[a]!;
    const y = this.f64[b]!;
    const w = this.w;
    if (x < y) this.f64[d] = max ? y : x;
    else if (y < x) this.f64[d] = max ? x : y;
    else if (x === y) {
      // Equal: the same bits, or ±0 where −0 < +0.
      const ha = w[2 * a + 1]!;
      const hb = w[2 * b + 1]!;
      w[2 * d] = w[2 * a]!;
      w[2 * d + 1] = max ? ha & (hb | 0x7fffffff) : ha | (hb & 0x80000000);
    } else this.out64(d, max ? soft.max(F64, this.u64[a]!, this.u64[b]!) : soft.min(F64, this.u64[a]!, this.u64[b]!));
  }

  fsgnj_d(d: number, a: number, b: number): void {
    const w = this.w;
    const hi = (w[2 * a + 1]! & 0x7fffffff) | (w[2 * b + 1]! & 0x80000000);
    w[2 * d] = w[2 * a]!;
    w[2 * d + 1] = hi;
  }

  fsgnjn_d(d: number, a: number, b: number): void {
    const w = this.w;
    const hi = (w[2 * a + 1]! & 0x7fffffff) | (~w[2 * b + 1]! & 0x80000000);
    w[2 * d] = w[2 * a]!;
    w[2 * d + 1] = hi;
  }

  fsgnjx_d(d: number, a: number, b: number): void {
    const w = this.w;
    const hi = w[2 * a + 1]! ^ (w[2 * b + 1]! & 0x80000000);
    w[2 * d] = w[2 * a]!;
    w[2 * d + 1] = hi;
  }

  /** Write a 0/1 or small non-negative integer result to integer slot d. */
  private outSmall(d: number, v: number): void {
    this.w[2 * d] = v;
    this.w[2 * d + 1] = 0;
  }

  feq_d(d: number, a: number, b: number): void {
    const x = this.f64[a]!;
    const y = this.f64[b]!;
    if (x === y) {
      this.outSmall(d, 1);
      return;
    }
    if ((Number.isNaN(x) || Number.isNaN(y)) && (this.isSNaN64(a) || this.isSNaN64(b))) this.raise(NV);
    this.outSmall(d, 0);
  }

  flt_d(d: number, a: number, b: number): void {
    const x = this.f64[a]!;
    const y = this.f64[b]!;
    if (x < y) {
      this.outSmall(d, 1);
      return;
    }
    if (Number.isNaN(x) || Number.isNaN(y)) this.raise(NV);
    this.outSmall(d, 0);
  }

  fle_d(d: number, a: number, b: number): void {
    const x = this.f64[a]!;
    const y = this.f64[b]!;
    if (x <= y) {
      this.outSmall(d, 1);
      return;
    }
    if (Number.isNaN(x) || Number.isNaN(y)) this.raise(NV);
    this.outSmall(d, 0);
  }

  fclass_d(d: number, a: number): void {
    const x = this.f64[a]!;
    const neg = this.w[2 * a + 1]! < 0;
    let c: number;
    if (Number.isNaN(x)) c = (this.w[2 * a + 1]! & 0x00080000) !== 0 ? 1 << 9 : 1 << 8;
    else if (x === Number.POSITIVE_INFINITY) c = 1 << 7;
    else if (x === Number.NEGATIVE_INFINITY) c = 1 << 0;
    else if (x === 0) c = neg ? 1 << 3 : 1 << 4;
    else if (Math.abs(x) < MIN_NORMAL) c = neg ? 1 << 2 : 1 << 5;
    else c = neg ? 1 << 1 : 1 << 6;
    this.outSmall(d, c);
  }

  // ---- double precision: conversions --------------------------------------------------------------------------

  fcvt_w_d(d: number, a: number, rm: number): void {
    if (!this.toW(d, this.f64[a]!, rm)) this.outInt(d, soft.toInt(F64, this.u64[a]!, W, rm), true);
  }

  fcvt_wu_d(d: number, a: number, rm: number): void {
    if (!this.toWU(d, this.f64[a]!, rm)) this.outInt(d, soft.toInt(F64, this.u64[a]!, WU, rm), true);
  }

  fcvt_l_d(d: number, a: number, rm: number): void {
    if (!this.toL(d, this.f64[a]!, rm, false)) this.outInt(d, soft.toInt(F64, this.u64[a]!, L, rm), false);
  }

  fcvt_lu_d(d: number, a: number, rm: number): void {
    if (!this.toL(d, this.f64[a]!, rm, true)) this.outInt(d, soft.toInt(F64, this.u64[a]!, LU, rm), false);
  }

  fcvt_d_w(d: number, a: number): void {
    this.f64[d] = this.w[2 * a]!;
  }

  fcvt_d_wu(d: number, a: number): void {
    this.f64[d] = this.w[2 * a]! >>> 0;
  }

  fcvt_d_l(d: number, a: number, rm: number): void {
    this.fromL64(d, this.w[2 * a + 1]!, this.w[2 * a]! >>> 0, rm);
  }

  fcvt_d_lu(d: number, a: number, rm: number): void {
    this.fromL64(d, this.w[2 * a + 1]! >>> 0, this.w[2 * a]! >>> 0, rm);
  }

  /** hi·2^32 + lo (hi signed or unsigned, lo unsigned) rounded to double: one rounding of an exact sum. */
  private fromL64(d: number, hi: number, lo: number, rm: number): void {
    const h = hi * TWO32;
    const v = h + lo;
    if (!this.put64(d, v, lo - (v - h), rm)) throw new Error("unreachable: integer conversion needs no exact path");
  }

  fcvt_s_d(d: number, a: number, rm: number): void {
    const x = this.f64[a]!;
    if (Number.isNaN(x) || !this.put32v(d, x, true, rm)) this.out32(d, soft.convert(F64, F32, this.u64[a]!, rm));
  }

  fcvt_d_s(d: number, a: number): void {
    const x = this.val32(a);
    if (!Number.isNaN(x)) this.f64[d] = x;
    else this.out64(d, soft.convert(F32, F64, this.big32(a), RNE));
  }

  // ---- conversions to integers (shared by S and D) ------------------------------------------------------------

  /** x rounded to an integer by rm (NaN stays NaN). */
  private static roundInt(x: number, rm: number): number {
    switch (rm) {
      case RTZ:
        return Math.trunc(x);
      case RDN:
        return Math.floor(x);
      case RUP:
        return Math.ceil(x);
      case RNE: {
        const fl = Math.floor(x);
        const diff = x - fl;
        if (diff < 0.5) return fl;
        if (diff > 0.5) return fl + 1;
        return fl % 2 === 0 ? fl : fl + 1;
      }
      default: {
        const t = Math.trunc(x);
        return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
      }
    }
  }

  private toW(d: number, x: number, rm: number): boolean {
    const t = Fpu.roundInt(x, rm);
    if (!(t >= -2147483648 && t <= 2147483647)) return false;
    if (t !== x) this.raise(NX);
    this.w[2 * d] = t;
    this.w[2 * d + 1] = t < 0 ? -1 : 0;
    return true;
  }

  private toWU(d: number, x: number, rm: number): boolean {
    const t = Fpu.roundInt(x, rm);
    if (!(t >= 0 && t <= 4294967295)) return false;
    if (t !== x) this.raise(NX);
    const v = t | 0;
    this.w[2 * d] = v;
    this.w[2 * d + 1] = v >> 31;
    return true;
  }

  private toL(d: number, x: number, rm: number, unsigned: boolean): boolean {
    const t = Fpu.roundInt(x, rm);
    if (unsigned ? !(t >= 0 && t < TWO64) : !(t >= -TWO63 && t < TWO63)) return false;
    if (t !== x) this.raise(NX);
    const hi = Math.floor(t / TWO32);
    this.w[2 * d] = t - hi * TWO32;
    this.w[2 * d + 1] = hi;
    return true;
  }

  // ---- single precision: arithmetic ---------------------------------------------------------------------------

  /**
   * RNE with NX already accrued: the single rounding of the double result v (Figueroa: rounding to double first is
   * innocuous for +, −, ×, ÷, √ of singles) needs no proof when it is normal. False when it is not.
   */
  private quick32(d: number, v: number): boolean {
    const f = Math.fround(v);
    const af = Math.abs(f);
    if (af > MIN_NORMAL32 && af < Number.POSITIVE_INFINITY) {
      this.set32(d, f);
      return true;
    }
    return false;
  }

  /** Round-to-nearest-even with NX already accrued. */
  private rneNX(rm: number): boolean {
    return rm === RNE && (this.w[this.flagsAt]! & NX) !== 0;
  }

  fadd_s(d: number, a: number, b: number, rm: number): void {
    const x = this.val32(a);
    const y = this.val32(b);
    if (this.rneNX(rm) && this.quick32(d, x + y)) return;
    if (!this.add32(d, x, y, rm)) this.out32(d, soft.add(F32, this.big32(a), this.big32(b), rm));
  }

  fsub_s(d: number, a: number, b: number, rm: number): void {
    const x = this.val32(a);
    const y = -this.val32(b);
    if (this.rneNX(rm) && this.quick32(d, x + y)) return;
    if (!this.add32(d, x, y, rm)) this.out32(d, soft.sub(F32, this.big32(a), this.big32(b), rm));
  }

  /** x + y in double, made exact or round-to-odd by 2Sum, then one single rounding (Figueroa: no double rounding). */
  private add32(d: number, x: number, y: number, rm: number): boolean {
    const s = x + y;
    if (!(s - s === 0)) return false;
    if (s === 0 && rm === RDN) return false; // −0 rules
    const bv = s - x;
    const e = x - (s - bv) + (y - bv);
    return this.put32v(d, e === 0 ? s : roundOdd(s, e), e === 0, rm);
  }

  fmul_s(d: number, a: number, b: number, rm: number): void {
    // The product of two singles is exact in double.
    const p = this.val32(a) * this.val32(b);
    if (this.rneNX(rm) && this.quick32(d, p)) return;
    if (Number.isNaN(p) || !this.put32v(d, p, true, rm)) this.out32(d, soft.mul(F32, this.big32(a), this.big32(b), rm));
  }

  fdiv_s(d: number, a: number, b: number, rm: number): void {
    const x = this.val32(a);
    const y = this.val32(b);
    if (this.rneNX(rm) && this.quick32(d, x / y)) return;
    const f = Math.fround(x / y);
    // f·y is exact (24 × 24 bits) and x − f·y too (Sterbenz), so its sign is the sign of the error.
    if (f - f === 0 && y !== 0) {
      const r = x - f * y;
      if (this.put32dir(d, f, r === 0 ? 0 : r > 0 === y > 0 ? 1 : -1, rm)) return;
    }
    this.out32(d, soft.div(F32, this.big32(a), this.big32(b), rm));
  }

  fsqrt_s(d: number, a: number, rm: number): void {
    const x = this.val32(a);
    if (this.rneNX(rm) && this.quick32(d, Math.sqrt(x))) return;
    const f = Math.fround(Math.sqrt(x));
    if (!Number.isNaN(f)) {
      const r = x - f * f;
      if (this.put32dir(d, f, r === 0 ? 0 : r > 0 ? 1 : -1, rm)) return;
    }
    this.out32(d, soft.sqrt(F32, this.big32(a), rm));
  }

  fmadd_s(d: number, a: number, b: number, c: number, rm: number): void {
    if (!this.fma32(d, a, b, c, 1, 1, rm))
      this.out32(d, soft.fma(F32, this.big32(a), this.big32(b), this.big32(c), false, false, rm));
  }

  fmsub_s(d: number, a: number, b: number, c: number, rm: number): void {
    if (!this.fma32(d, a, b, c, 1, -1, rm))
      this.out32(d, soft.fma(F32, this.big32(a), this.big32(b), this.big32(c), false, true, rm));
  }

  fnmsub_s(d: number, a: number, b: number, c: number, rm: number): void {
    if (!this.fma32(d, a, b, c, -1, 1, rm))
      this.out32(d, soft.fma(F32, this.big32(a), this.big32(b), this.big32(c), true, false, rm));
  }

  fnmadd_s(d: number, a: number, b: number, c: number, rm: number): void {
    if (!this.fma32(d, a, b, c, -1, -1, rm))
      this.out32(d, soft.fma(F32, this.big32(a), this.big32(b), this.big32(c), true, true, rm));
  }

  /** x·y (exact in double) + z, made exact or round-to-odd by 2Sum, then one single rounding. Slots and signs in. */
  private fma32(d: number, a: number, b: number, c: number, sp: number, sc: number, rm: number): boolean {
    const x = sp * this.val32(a);
    const y = this.val32(b);
    const z = sc * this.val32(c);
    const p = x * y;
    const s = p + z;
    if (!(s - s === 0)) return false;
    if (s === 0 && rm === RDN) return false;
    const bv = s - p;
    const e = p - (s - bv) + (z - bv);
    return this.put32v(d, e === 0 ? s : roundOdd(s, e), e === 0, rm);
  }

  // ---- single precision: min/max, sign injection, compare, class ----------------------------------------------

  fmin_s(d: number, a: number, b: number): void {
    this.minmax32(d, a, b, false);
  }

  fmax_s(d: number, a: number, b: number): void {
    this.minmax32(d, a, b, true);
  }

  private minmax32(d: number, a: number, b: number, max: boolean): void {
    const x = this.val32(a);
    const y = this.val32(b);
    if (x < y) this.set32(d, max ? y : x);
    else if (y < x) this.set32(d, max ? x : y);
    else if (x === y) {
      const ba = this.w[2 * a]!;
      const bb = this.w[2 * b]!;
      this.w[2 * d] = max ? ba & (bb | 0x7fffffff) : ba | (bb & 0x80000000);
      this.w[2 * d + 1] = -1;
    } else {
      const p = this.big32(a);
      const q = this.big32(b);
      this.out32(d, max ? soft.max(F32, p, q) : soft.min(F32, p, q));
    }
  }

  fsgnj_s(d: number, a: number, b: number): void {
    this.w[2 * d] = (this.bits32(a) & 0x7fffffff) | (this.bits32(b) & 0x80000000);
    this.w[2 * d + 1] = -1;
  }

  fsgnjn_s(d: number, a: number, b: number): void {
    this.w[2 * d] = (this.bits32(a) & 0x7fffffff) | (~this.bits32(b) & 0x80000000);
    this.w[2 * d + 1] = -1;
  }

  fsgnjx_s(d: number, a: number, b: number): void {
    this.w[2 * d] = this.bits32(a) ^ (this.bits32(b) & 0x80000000);
    this.w[2 * d + 1] = -1;
  }

  feq_s(d: number, a: number, b: number): void {
    const x = this.val32(a);
    const y = this.val32(b);
    if (x === y) {
      this.outSmall(d, 1);
      return;
    }
    if ((Number.isNaN(x) || Number.isNaN(y)) && (this.isSNaN32(a) || this.isSNaN32(b))) this.raise(NV);
    this.outSmall(d, 0);
  }

  flt_s(d: number, a: number, b: number): void {
    const x = this.val32(a);
    const y = this.val32(b);
    if (x < y) {
      this.outSmall(d, 1);
      return;
    }
    if (Number.isNaN(x) || Number.isNaN(y)) this.raise(NV);
    this.outSmall(d, 0);
  }

  fle_s(d: number, a: number, b: number): void {
    const x = this.val32(a);
    const y = this.val32(b);
    if (x <= y) {
      this.outSmall(d, 1);
      return;
    }
    if (Number.isNaN(x) || Number.isNaN(y)) this.raise(NV);
    this.outSmall(d, 0);
  }

  fclass_s(d: number, a: number): void {
    const b = this.bits32(a);
    const neg = b < 0;
    const e = b & 0x7f800000;
    const m = b & 0x007fffff;
    let c: number;
    if (e === 0x7f800000) c = m === 0 ? (neg ? 1 << 0 : 1 << 7) : (m & 0x00400000) !== 0 ? 1 << 9 : 1 << 8;
    else if (e === 0) c = m === 0 ? (neg ? 1 << 3 : 1 << 4) : neg ? 1 << 2 : 1 << 5;
    else c = neg ? 1 << 1 : 1 << 6;
    this.outSmall(d, c);
  }

  // ---- single precision: conversions --------------------------------------------------------------------------

  fcvt_w_s(d: number, a: number, rm: number): void {
    if (!this.toW(d, this.val32(a), rm)) this.outInt(d, soft.toInt(F32, this.big32(a), W, rm), true);
  }

  fcvt_wu_s(d: number, a: number, rm: number): void {
    if (!this.toWU(d, this.val32(a), rm)) this.outInt(d, soft.toInt(F32, this.big32(a), WU, rm), true);
  }

  fcvt_l_s(d: number, a: number, rm: number): void {
    if (!this.toL(d, this.val32(a), rm, false)) this.outInt(d, soft.toInt(F32, this.big32(a), L, rm), false);
  }

  fcvt_lu_s(d: number, a: number, rm: number): void {
    if (!this.toL(d, this.val32(a), rm, true)) this.outInt(d, soft.toInt(F32, this.big32(a), LU, rm), false);
  }

  fcvt_s_w(d: number, a: number, rm: number): void {
    if (!this.put32v(d, this.w[2 * a]!, true, rm)) throw new Error("unreachable: int32 to single needs no exact path");
  }

  fcvt_s_wu(d: number, a: number, rm: number): void {
    if (!this.put32v(d, this.w[2 * a]! >>> 0, true, rm))
      throw new Error("unreachable: uint32 to single needs no exact path");
  }

  fcvt_s_l(d: number, a: number, rm: number): void {
    this.fromL32(d, this.w[2 * a + 1]!, this.w[2 * a]! >>> 0, rm);
  }

  fcvt_s_lu(d: number, a: number, rm: number): void {
    this.fromL32(d, this.w[2 * a + 1]! >>> 0, this.w[2 * a]! >>> 0, rm);
  }

  private fromL32(d: number, hi: number, lo: number, rm: number): void {
    const h = hi * TWO32;
    const v = h + lo;
    const e = lo - (v - h);
    if (!this.put32v(d, e === 0 ? v : roundOdd(v, e), e === 0, rm))
      throw new Error("unreachable: integer to single needs no exact path");
  }

  // ---- moves (bit copies, no flags; §11.8, §12.4) -------------------------------------------------------------

  fmv_x_w(d: number, a: number): void {
    const v = this.w[2 * a]!;
    this.w[2 * d] = v;
    this.w[2 * d + 1] = v >> 31;
  }

  fmv_w_x(d: number, a: number): void {
    this.w[2 * d] = this.w[2 * a]!;
    this.w[2 * d + 1] = -1;
  }

  fmv_x_d(d: number, a: number): void {
    this.w[2 * d] = this.w[2 * a]!;
    this.w[2 * d + 1] = this.w[2 * a + 1]!;
  }

  fmv_d_x(d: number, a: number): void {
    this.w[2 * d] = this.w[2 * a]!;
    this.w[2 * d + 1] = this.w[2 * a + 1]!;
  }
}

/** Write the canonical double NaN to slot d of w (for callers that produce NaN results themselves). */
export function putCanonicalNaN64(w: Int32Array, d: number): void {
  w[2 * d] = 0;
  w[2 * d + 1] = CNAN64_HI;
}
