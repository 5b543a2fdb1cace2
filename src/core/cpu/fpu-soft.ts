/**
 * Exact IEEE 754 binary32/binary64 arithmetic on BigInt bit patterns, with the choices RISC-V makes (unprivileged
 * spec 20191213 ch. 11 "F" and ch. 12 "D"): NaN results are the canonical NaN (no payload propagation), tininess is
 * detected after rounding, conversions to integers saturate as §11.7 table 11.4 says. Every operation computes the
 * exact result with BigInt and rounds once; it is the slow path of fpu.ts and the reference its tests compare with.
 *
 * API: `f32`/`f64` describe the two formats; every operation takes bit patterns (unsigned bigint) and a rounding mode
 * (RNE..RMM, 0..4; the caller resolves the dynamic mode), returns the result bits, and ORs the IEEE flags it raises into
 * `softFlags.v` (NX=1, UF=2, OF=4, DZ=8, NV=16, the fflags layout). Integers are passed and returned as bigint values
 * (signed or unsigned as the conversion says). Allocation is fine here: this path runs only when the fast path in
 * fpu.ts cannot prove its answer.
 */

/** Rounding modes as encoded in the rm field and frm (unprivileged spec §11.2, table 11.1). */
export const RNE = 0;
export const RTZ = 1;
export const RDN = 2;
export const RUP = 3;
export const RMM = 4;

/** Accrued exception flags, as laid out in fflags (§11.2, table 11.2). */
export const NX = 1;
export const UF = 2;
export const OF = 4;
export const DZ = 8;
export const NV = 16;

/** A binary interchange format. */
export interface Format {
  readonly name: "f32" | "f64";
  /** Storage width in bits. */
  readonly width: number;
  /** Precision p in bits, including the hidden bit. */
  readonly p: number;
  readonly emax: number;
  readonly emin: number;
  readonly bias: number;
  readonly signBit: bigint;
  readonly expMask: bigint;
  readonly fracMask: bigint;
  readonly quietBit: bigint;
  readonly canonicalNaN: bigint;
  readonly inf: bigint;
  readonly maxFinite: bigint;
}

function makeFormat(name: "f32" | "f64", width: number, p: number, expBits: number): Format {
  const emax = (1 << (expBits - 1)) - 1;
  const fracBits = BigInt(p - 1);
  const expMask = ((1n << BigInt(expBits)) - 1n) << fracBits;
  return {
    name,
    width,
    p,
    emax,
    emin: 1 - emax,
    bias: emax,
    signBit: 1n << BigInt(width - 1),
    expMask,
    fracMask: (1n << fracBits) - 1n,
    quietBit: 1n << (fracBits - 1n),
    canonicalNaN: expMask | (1n << (fracBits - 1n)),
    inf: expMask,
    maxFinite: expMask - 1n,
  };
}

export const f32: Format = makeFormat("f32", 32, 24, 8);
export const f64: Format = makeFormat("f64", 64, 53, 11);

/** Flags raised by the operations of this module; callers clear and read `v`. */
export const softFlags = { v: 0 };

// ---- classification -------------------------------------------------------------------------------------------

const ZERO = 0;
const FINITE = 1;
const INF = 2;
const QNAN = 3;
const SNAN = 4;

/** An unpacked value: finite values are (-1)^sign · sig · 2^exp with sig > 0 an integer. */
interface Parts {
  cls: number;
  sign: number;
  sig: bigint;
  exp: number;
}

function unpack(F: Format, bits: bigint): Parts {
  const sign = (bits & F.signBit) !== 0n ? 1 : 0;
  const e = Number((bits & F.expMask) >> BigInt(F.p - 1));
  const frac = bits & F.fracMask;
  if (e === 2 * F.emax + 1) {
    if (frac === 0n) return { cls: INF, sign, sig: 0n, exp: 0 };
    return { cls: (frac & F.quietBit) !== 0n ? QNAN : SNAN, sign, sig: 0n, exp: 0 };
  }
  if (e === 0) {
    if (frac === 0n) return { cls: ZERO, sign, sig: 0n, exp: 0 };
    return { cls: FINITE, sign, sig: frac, exp: F.emin - (F.p - 1) };
  }
  return { cls: FINITE, sign, sig: frac | (1n << BigInt(F.p - 1)), exp: e - F.bias - (F.p - 1) };
}

export function isNaN_(F: Format, bits: bigint): boolean {
  return (bits & F.expMask) === F.expMask && (bits & F.fracMask) !== 0n;
}

export function isSignalingNaN(F: Format, bits: bigint): boolean {
  return isNaN_(F, bits) && (bits & F.quietBit) === 0n;
}

/** Number of bits of x > 0. */
export function bitLength(x: bigint): number {
  const h = x.toString(16);
  const d = Number.parseInt(h[0]!, 16);
  return (h.length - 1) * 4 + (d >= 8 ? 4 : d >= 4 ? 3 : d >= 2 ? 2 : 1);
}

// ---- rounding -------------------------------------------------------------------------------------------------

let lastInexact = false;

/** sig >> shift rounded by rm for a value of the given sign; sets lastInexact. shift may be ≤ 0 (exact). */
function roundShift(sig: bigint, shift: number, sign: number, rm: number): bigint {
  if (shift <= 0) {
    lastInexact = false;
    return sig << BigInt(-shift);
  }
  const sh = BigInt(shift);
  const kept = sig >> sh;
  const rem = sig - (kept << sh);
  if (rem === 0n) {
    lastInexact = false;
    return kept;
  }
  lastInexact = true;
  const half = 1n << (sh - 1n);
  let up: boolean;
  switch (rm) {
    case RNE:
      up = rem > half || (rem === half && (kept & 1n) === 1n);
      break;
    case RTZ:
      up = false;
      break;
    case RDN:
      up = sign === 1;
      break;
    case RUP:
      up = sign === 0;
      break;
    default:
      up = rem >= half;
  }
  return up ? kept + 1n : kept;
}

/** The overflowed result for sign and rm: infinity, or the largest finite number when rm rounds toward zero. */
function overflow(F: Format, sign: number, rm: number): bigint {
  softFlags.v |= OF | NX;
  const s = sign ? F.signBit : 0n;
  const toInf = rm === RNE || rm === RMM || (rm === RDN && sign === 1) || (rm === RUP && sign === 0);
  return s | (toInf ? F.inf : F.maxFinite);
}

/**
 * Round (-1)^sign · (sig + (sticky ? ε : 0)) · 2^exp to format F, raising NX/UF/OF. When sticky is set, sig must
 * have at least p + 2 bits so that the sticky part lies below the rounding bit. sig = 0 (exact zero) gives a zero of
 * the given sign.
 */
export function roundPack(F: Format, sign: number, sig: bigint, exp: number, sticky: boolean, rm: number): bigint {
  const s = sign ? F.signBit : 0n;
  if (sticky) {
    sig = (sig << 2n) | 1n;
    exp -= 2;
  }
  if (sig === 0n) return s;
  const p = F.p;
  const E = exp + bitLength(sig) - 1;
  // Tininess after rounding: the result rounded to p bits with an unbounded exponent lies below 2^emin.
  let tiny = false;
  if (E < F.emin - 1) tiny = true;
  else if (E === F.emin - 1) tiny = roundShift(sig, E - p + 1 - exp, sign, rm) < 1n << BigInt(p);
  let q = Math.max(E - p + 1, F.emin - p + 1);
  let kept = roundShift(sig, q - exp, sign, rm);
  const inexact = lastInexact;
  if (kept === 1n << BigInt(p)) {
    kept >>= 1n;
    q++;
  }
  if (inexact) softFlags.v |= tiny ? NX | UF : NX;
  if (kept === 0n) return s;
  if (kept >= 1n << BigInt(p - 1)) {
    const be = q + p - 1 + F.bias;
    if (be > 2 * F.emax) return overflow(F, sign, rm);
    return s | ((BigInt(be - 1) << BigInt(p - 1)) + kept);
  }
  return s | kept; // subnormal: q is emin - p + 1
}

// ---- arithmetic -----------------------------------------------------------------------------------------------

/** NaN result: the canonical NaN, NV when an operand is a signalling NaN. */
function nanResult(F: Format, ...ops: Parts[]): bigint {
  for (const o of ops) if (o.cls === SNAN) softFlags.v |= NV;
  return F.canonicalNaN;
}

function invalid(F: Format): bigint {
  softFlags.v |= NV;
  return F.canonicalNaN;
}

/** Exact sum of two finite-or-zero parts, rounded; the sign of an exact zero follows IEEE 754 §6.3. */
function addParts(F: Format, a: Parts, b: Parts, rm: number): bigint {
  if (a.cls === ZERO && b.cls === ZERO) {
    if (a.sign === b.sign) return a.sign ? F.signBit : 0n;
    return rm === RDN ? F.signBit : 0n;
  }
  if (a.cls === ZERO) return roundPack(F, b.sign, b.sig, b.exp, false, rm);
  if (b.cls === ZERO) return roundPack(F, a.sign, a.sig, a.exp, false, rm);
  const e = Math.min(a.exp, b.exp);
  const A = a.sig << BigInt(a.exp - e);
  const B = b.sig << BigInt(b.exp - e);
  const S = (a.sign ? -A : A) + (b.sign ? -B : B);
  if (S === 0n) return rm === RDN ? F.signBit : 0n;
  return S < 0n ? roundPack(F, 1, -S, e, false, rm) : roundPack(F, 0, S, e, false, rm);
}

export function add(F: Format, a: bigint, b: bigint, rm: number): bigint {
  const x = unpack(F, a);
  const y = unpack(F, b);
  if (x.cls >= QNAN || y.cls >= QNAN) return nanResult(F, x, y);
  if (x.cls === INF || y.cls === INF) {
    if (x.cls === INF && y.cls === INF && x.sign !== y.sign) return invalid(F);
    return x.cls === INF ? a : b;
  }
  return addParts(F, x, y, rm);
}

export function sub(F: Format, a: bigint, b: bigint, rm: number): bigint {
  return isNaN_(F, b) ? add(F, a, b, rm) : add(F, a, b ^ F.signBit, rm);
}

export function mul(F: Format, a: bigint, b: bigint, rm: number): bigint {
  const x = unpack(F, a);
  const y = unpack(F, b);
  if (x.cls >= QNAN || y.cls >= QNAN) return nanResult(F, x, y);
  const sign = x.sign ^ y.sign;
  if (x.cls === INF || y.cls === INF) {
    if (x.cls === ZERO || y.cls === ZERO) return invalid(F);
    return (sign ? F.signBit : 0n) | F.inf;
  }
  if (x.cls === ZERO || y.cls === ZERO) return sign ? F.signBit : 0n;
  return roundPack(F, sign, x.sig * y.sig, x.exp + y.exp, false, rm);
}

export function div(F: Format, a: bigint, b: bigint, rm: number): bigint {
  const x = unpack(F, a);
  const y = unpack(F, b);
  if (x.cls >= QNAN || y.cls >= QNAN) return nanResult(F, x, y);
  const sign = x.sign ^ y.sign;
  const s = sign ? F.signBit : 0n;
  if (x.cls === INF) return y.cls === INF ? invalid(F) : s | F.inf;
  if (y.cls === INF) return s;
  if (y.cls === ZERO) {
    if (x.cls === ZERO) return invalid(F);
    softFlags.v |= DZ;
    return s | F.inf;
  }
  if (x.cls === ZERO) return s;
  // Enough quotient bits for rounding: at least p + 2.
  const k = F.p + 3 + bitLength(y.sig) - bitLength(x.sig) + 1;
  const num = x.sig << BigInt(Math.max(k, 0));
  const q = num / y.sig;
  const r = num - q * y.sig;
  return roundPack(F, sign, q, x.exp - y.exp - Math.max(k, 0), r !== 0n, rm);
}

/** floor(sqrt(n)) for n ≥ 0. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLength(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(F: Format, a: bigint, rm: number): bigint {
  const x = unpack(F, a);
  if (x.cls >= QNAN) return nanResult(F, x);
  if (x.cls === ZERO) return a;
  if (x.sign) return invalid(F);
  if (x.cls === INF) return a;
  let sig = x.sig;
  let exp = x.exp;
  if (exp & 1) {
    sig <<= 1n;
    exp -= 1;
  }
  // Make sig have at least 2(p + 3) bits, shifting by an even amount.
  const want = 2 * (F.p + 3);
  let sh = want - bitLength(sig);
  if (sh < 0) sh = 0;
  if (sh & 1) sh++;
  sig <<= BigInt(sh);
  exp -= sh;
  const r = isqrt(sig);
  return roundPack(F, 0, r, exp / 2, r * r !== sig, rm);
}

/**
 * Fused multiply-add: (-1)^negProd · a · b + (-1)^negAdd · c with one rounding. fmadd = (0,0), fmsub = (0,1),
 * fnmsub = (1,0), fnmadd = (1,1). ∞ · 0 raises NV even when c is a quiet NaN (§11.6).
 */
export function fma(F: Format, a: bigint, b: bigint, c: bigint, negProd: boolean, negAdd: boolean, rm: number): bigint {
  const x = unpack(F, a);
  const y = unpack(F, b);
  const z = unpack(F, c);
  const infZero = (x.cls === INF && y.cls === ZERO) || (x.cls === ZERO && y.cls === INF);
  if (x.cls >= QNAN || y.cls >= QNAN || z.cls >= QNAN) {
    if (infZero) softFlags.v |= NV;
    return nanResult(F, x, y, z);
  }
  if (infZero) return invalid(F);
  const ps = x.sign ^ y.sign ^ (negProd ? 1 : 0);
  const zs = z.sign ^ (negAdd ? 1 : 0);
  if (x.cls === INF || y.cls === INF) {
    if (z.cls === INF && zs !== ps) return invalid(F);
    return (ps ? F.signBit : 0n) | F.inf;
  }
  if (z.cls === INF) return (zs ? F.signBit : 0n) | F.inf;
  const prod: Parts =
    x.cls === ZERO || y.cls === ZERO
      ? { cls: ZERO, sign: ps, sig: 0n, exp: 0 }
      : { cls: FINITE, sign: ps, sig: x.sig * y.sig, exp: x.exp + y.exp };
  return addParts(F, prod, { cls: z.cls, sign: zs, sig: z.sig, exp: z.exp }, rm);
}

// ---- min/max, sign injection, comparisons, class (§11.6, §11.8, §11.9) -------------------------------------------

/** Signed-magnitude order of two non-NaN values: -1, 0, 1 (−0 < +0). */
function totalCompare(F: Format, a: bigint, b: bigint): number {
  if (a === b) return 0;
  const sa = (a & F.signBit) !== 0n;
  const sb = (b & F.signBit) !== 0n;
  if (sa !== sb) return sa ? -1 : 1;
  const ma = a & ~F.signBit;
  const mb = b & ~F.signBit;
  return ma < mb !== sa ? -1 : 1;
}

function minMax(F: Format, a: bigint, b: bigint, max: boolean): bigint {
  if (isSignalingNaN(F, a) || isSignalingNaN(F, b)) softFlags.v |= NV;
  const an = isNaN_(F, a);
  const bn = isNaN_(F, b);
  if (an && bn) return F.canonicalNaN;
  if (an) return b;
  if (bn) return a;
  const c = totalCompare(F, a, b);
  return c < 0 !== max ? a : b;
}

/** fmin: IEEE 754-2019 minimumNumber, with −0 < +0. */
export function min(F: Format, a: bigint, b: bigint): bigint {
  return minMax(F, a, b, false);
}

/** fmax: IEEE 754-2019 maximumNumber, with −0 < +0. */
export function max(F: Format, a: bigint, b: bigint): bigint {
  return minMax(F, a, b, true);
}

export function sgnj(F: Format, a: bigint, b: bigint): bigint {
  return (a & ~F.signBit) | (b & F.signBit);
}

export function sgnjn(F: Format, a: bigint, b: bigint): bigint {
  return (a & ~F.signBit) | (~b & F.signBit);
}

export function sgnjx(F: Format, a: bigint, b: bigint): bigint {
  return a ^ (b & F.signBit);
}

/** feq (quiet: NV only for a signalling NaN), flt and fle (signalling: NV for any NaN). Results 0 or 1. */
export function eq(F: Format, a: bigint, b: bigint): number {
  if (isNaN_(F, a) || isNaN_(F, b)) {
    if (isSignalingNaN(F, a) || isSignalingNaN(F, b)) softFlags.v |= NV;
    return 0;
  }
  return a === b || ((a | b) & ~F.signBit) === 0n ? 1 : 0;
}

export function lt(F: Format, a: bigint, b: bigint): number {
  if (isNaN_(F, a) || isNaN_(F, b)) {
    softFlags.v |= NV;
    return 0;
  }
  if (((a | b) & ~F.signBit) === 0n) return 0;
  return totalCompare(F, a, b) < 0 ? 1 : 0;
}

export function le(F: Format, a: bigint, b: bigint): number {
  if (isNaN_(F, a) || isNaN_(F, b)) {
    softFlags.v |= NV;
    return 0;
  }
  if (((a | b) & ~F.signBit) === 0n) return 1;
  return totalCompare(F, a, b) <= 0 ? 1 : 0;
}

/** fclass: one bit of 0..9 (−∞, −normal, −subnormal, −0, +0, +subnormal, +normal, +∞, sNaN, qNaN). */
export function classify(F: Format, a: bigint): number {
  const x = unpack(F, a);
  switch (x.cls) {
    case QNAN:
      return 1 << 9;
    case SNAN:
      return 1 << 8;
    case INF:
      return x.sign ? 1 << 0 : 1 << 7;
    case ZERO:
      return x.sign ? 1 << 3 : 1 << 4;
  }
  const subnormal = (a & F.expMask) === 0n;
  if (x.sign) return subnormal ? 1 << 2 : 1 << 1;
  return subnormal ? 1 << 5 : 1 << 6;
}

// ---- conversions (§11.7, §12.5) -------------------------------------------------------------------------------

/** Integer types of the conversions: bit width and signedness. */
export interface IntType {
  readonly name: "w" | "wu" | "l" | "lu";
  readonly min: bigint;
  readonly max: bigint;
}

export const W: IntType = { name: "w", min: -(1n << 31n), max: (1n << 31n) - 1n };
export const WU: IntType = { name: "wu", min: 0n, max: (1n << 32n) - 1n };
export const L: IntType = { name: "l", min: -(1n << 63n), max: (1n << 63n) - 1n };
export const LU: IntType = { name: "lu", min: 0n, max: (1n << 64n) - 1n };

/**
 * fcvt.{w,wu,l,lu}.{s,d}: round to an integer by rm; out of range or NaN gives NV (and no NX) and the saturated
 * value: NaN and +∞ → max, −∞ → min (table 11.4). Returns the integer value (not yet sign-extended to XLEN).
 */
export function toInt(F: Format, a: bigint, T: IntType, rm: number): bigint {
  const x = unpack(F, a);
  if (x.cls >= QNAN) {
    softFlags.v |= NV;
    return T.max;
  }
  if (x.cls === INF) {
    softFlags.v |= NV;
    return x.sign ? T.min : T.max;
  }
  if (x.cls === ZERO) return 0n;
  let mag: bigint;
  let inexact = false;
  if (x.exp >= 0) mag = x.sig << BigInt(x.exp);
  else {
    mag = roundShift(x.sig, -x.exp, x.sign, rm);
    inexact = lastInexact;
  }
  const v = x.sign ? -mag : mag;
  if (v < T.min || v > T.max) {
    softFlags.v |= NV;
    return x.sign ? T.min : T.max;
  }
  if (inexact) softFlags.v |= NX;
  return v;
}

/** fcvt.{s,d}.{w,wu,l,lu}: the integer value v rounded to F. */
export function fromInt(F: Format, v: bigint, rm: number): bigint {
  if (v === 0n) return 0n;
  return v < 0n ? roundPack(F, 1, -v, 0, false, rm) : roundPack(F, 0, v, 0, false, rm);
}

/** fcvt.s.d and fcvt.d.s: NaN → canonical NaN (NV for a signalling NaN), otherwise rounded by rm. */
export function convert(from: Format, to: Format, a: bigint, rm: number): bigint {
  const x = unpack(from, a);
  const s = x.sign ? to.signBit : 0n;
  if (x.cls >= QNAN) return nanResult(to, x);
  if (x.cls === INF) return s | to.inf;
  if (x.cls === ZERO) return s;
  return roundPack(to, x.sign, x.sig, x.exp, false, rm);
}

/** The single-precision value held in a 64-bit FP register: the low half if NaN-boxed, else the canonical NaN. */
export function unboxF32(bits64: bigint): number {
  return bits64 >> 32n === 0xffffffffn ? Number(bits64 & 0xffffffffn) : 0x7fc00000;
}
