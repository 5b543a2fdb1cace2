/**
 * Operand generator of the FPU differential test: a seeded PRNG and, for each operation of FP_OPS, operand sets mixing
 * random bit patterns with every special class (±0, subnormals, ±∞, quiet and signalling NaNs, ±max, ±min normal),
 * values at conversion boundaries, operands built to hit rounding ties, cancellation, alignment shifts and results
 * near overflow or underflow, and singles that are not properly NaN-boxed.
 */
import type { FpKind, FpOp } from "../../src/core/cpu/fpu-bits.ts";

/** xoshiro128** seeded by splitmix32: fast, 32-bit, reproducible from one 32-bit seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }

  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  big64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  /** A random value of `bits` bits (≤ 64). */
  bits(bits: number): bigint {
    return bits <= 0 ? 0n : this.big64() >> BigInt(64 - bits);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

interface Fmt {
  readonly width: number;
  readonly expBits: number;
  readonly fracBits: number;
  readonly bias: number;
  readonly maxExp: number;
}

const S: Fmt = { width: 32, expBits: 8, fracBits: 23, bias: 127, maxExp: 255 };
const D: Fmt = { width: 64, expBits: 11, fracBits: 52, bias: 1023, maxExp: 2047 };

function make(F: Fmt, sign: number, exp: number, frac: bigint): bigint {
  return (BigInt(sign) << BigInt(F.width - 1)) | (BigInt(exp) << BigInt(F.fracBits)) | (frac & mask(F.fracBits));
}

function mask(n: number): bigint {
  return (1n << BigInt(n)) - 1n;
}

function expOf(F: Fmt, v: bigint): number {
  return Number((v >> BigInt(F.fracBits)) & mask(F.expBits));
}

function clampExp(F: Fmt, e: number): number {
  return Math.max(0, Math.min(F.maxExp - 1, e));
}

/** A fraction: random, few significant bits (exact results, ties), all ones, or with a tie-making tail. */
function frac(r: Rng, F: Fmt): bigint {
  switch (r.int(6)) {
    case 0:
    case 1:
      return r.bits(F.fracBits);
    case 2: {
      const k = 1 + r.int(8);
      return r.bits(k) << BigInt(F.fracBits - k);
    }
    case 3: {
      const k = r.int(F.fracBits);
      return r.bits(k) << BigInt(F.fracBits - k);
    }
    case 4:
      return mask(F.fracBits) ^ r.bits(r.int(4));
    default: {
      // …x1000…0 or …x0111…1 tails
      const k = 1 + r.int(F.fracBits - 1);
      const head = r.bits(F.fracBits - k) << BigInt(k);
      return r.chance(0.5) ? head | (1n << BigInt(k - 1)) : head | mask(k - 1);
    }
  }
}

/** Special values of a format. */
function special(r: Rng, F: Fmt): bigint {
  const s = r.int(2);
  const quiet = 1n << BigInt(F.fracBits - 1);
  switch (r.int(14)) {
    case 0:
      return make(F, s, 0, 0n);
    case 1:
      return make(F, s, F.maxExp, 0n);
    case 2:
      return make(F, s, F.maxExp, quiet); // canonical NaN (either sign)
    case 3:
      return make(F, s, F.maxExp, quiet | r.bits(F.fracBits - 1)); // qNaN, payload
    case 4:
      return make(F, s, F.maxExp, (r.bits(F.fracBits - 1) | 1n) & mask(F.fracBits - 1)); // sNaN
    case 5:
      return make(F, s, 0, 1n); // min subnormal
    case 6:
      return make(F, s, 0, mask(F.fracBits)); // max subnormal
    case 7:
      return make(F, s, 0, r.bits(F.fracBits) | 1n);
    case 8:
      return make(F, s, 1, 0n); // min normal
    case 9:
      return make(F, s, F.maxExp - 1, mask(F.fracBits)); // max finite
    case 10:
      return make(F, s, F.bias, 0n); // ±1
    case 11:
      return make(F, s, 1, r.bits(F.fracBits));
    case 12:
      return make(F, s, F.maxExp - 1, r.bits(F.fracBits));
    default:
      return make(F, s, F.bias + r.int(3) - 1, r.bits(2));
  }
}

/** A float with a random sign and an exponent drawn from the interesting ranges. */
function structured(r: Rng, F: Fmt): bigint {
  let e: number;
  switch (r.int(5)) {
    case 0:
      e = r.int(F.maxExp); // anywhere finite
      break;
    case 1:
      e = r.int(F.fracBits + 4); // subnormal and just above
      break;
    case 2:
      e = F.maxExp - 1 - r.int(F.fracBits + 4);
      break;
    default:
      e = F.bias - 40 + r.int(80);
  }
  return make(F, r.int(2), clampExp(F, e), frac(r, F));
}

/** The value x as a double's bits (x a finite JS number). */
function dbits(x: number): bigint {
  return new BigUint64Array(new Float64Array([x]).buffer)[0]!;
}

function sbits(x: number): bigint {
  return BigInt(new Uint32Array(new Float32Array([x]).buffer)[0]!);
}

/** Values around the integer conversion boundaries, and halves for the ties of RNE and RMM. */
function conversionValue(r: Rng, F: Fmt): bigint {
  const bounds = [2 ** 31, 2 ** 32, 2 ** 63, 2 ** 64, 2 ** 24, 2 ** 53, 1, 0];
  const b = r.pick(bounds) * (r.chance(0.5) ? -1 : 1);
  let x: number;
  switch (r.int(4)) {
    case 0:
      x = b + r.pick([-1, -0.5, 0.5, 1, -1.5, 1.5, 0, -0.25, 0.75]);
      break;
    case 1:
      x = (r.int(2000) - 1000) / 2; // ties
      break;
    case 2:
      x = (r.int(4000) - 2000) / 4;
      break;
    default: {
      // b nudged by a few ulps of the target format
      const bits = F === D ? dbits(b) : sbits(b);
      const k = BigInt(r.int(5) - 2);
      const v = bits + k;
      return v < 0n ? bits : v & mask(F.width);
    }
  }
  return F === D ? dbits(x) : sbits(x);
}

function floatOperand(r: Rng, F: Fmt): bigint {
  const k = r.int(20);
  if (k < 4) return r.bits(F.width);
  if (k < 8) return special(r, F);
  if (k < 10) return conversionValue(r, F);
  return structured(r, F);
}

/** Pack a float operand into the 64-bit register content: singles NaN-boxed, rarely not. */
function reg(r: Rng, kind: FpKind, v: bigint): bigint {
  if (kind !== "f32") return v;
  if (r.chance(0.02)) return r.chance(0.5) ? r.big64() : v; // improperly boxed: reads as the canonical NaN
  return 0xffffffff00000000n | v;
}

function intOperand(r: Rng): bigint {
  switch (r.int(8)) {
    case 0:
      return r.big64();
    case 1:
      return BigInt.asUintN(64, BigInt(r.int(2001) - 1000));
    case 2:
      return BigInt.asUintN(64, BigInt.asIntN(32, BigInt(r.u32())));
    case 3:
      return BigInt(r.u32());
    case 4: {
      // n significant bits at a random position: exact, ties and near-ties for the 24/53-bit roundings
      const n = 1 + r.int(r.chance(0.5) ? 27 : 56);
      const v = r.bits(n) | (1n << BigInt(n - 1));
      const sh = r.int(65 - n);
      const x = v << BigInt(sh);
      return BigInt.asUintN(64, r.chance(0.5) ? -x : x);
    }
    case 5:
      return r.pick([
        0n,
        1n,
        0xffffffffffffffffn,
        0x7fffffffffffffffn,
        0x8000000000000000n,
        0x7fffffffn,
        0x80000000n,
        0xffffffff80000000n,
        0xffffffffn,
        0x00000000ffffffffn,
        (1n << 53n) + 1n,
        (1n << 24n) + 1n,
        (1n << 25n) + 3n,
        (1n << 54n) + 2n,
      ]);
    case 6: {
      // ties between 2^k and 2^k + ulp for big ints
      const k = 25 + r.int(38);
      const p = r.chance(0.5) ? 24 : 53;
      if (k <= p) return 1n << BigInt(k);
      return (1n << BigInt(k)) + (1n << BigInt(k - p)) * BigInt(r.int(4));
    }
    default:
      return r.big64() >> BigInt(r.int(64));
  }
}

/** Bits of a double or single value (finite JS number). */
function valueBits(F: Fmt, x: number): bigint {
  return F === D ? dbits(x) : sbits(x);
}

function numberOf(F: Fmt, bits: bigint): number {
  if (F === D) return new Float64Array(new BigUint64Array([bits]).buffer)[0]!;
  return new Float32Array(new Uint32Array([Number(bits)]).buffer)[0]!;
}

/**
 * Multiply-add operands in the ordinary range with an addend of ±RN(a·b) nudged by a few ulps: the exact result is the
 * product's rounding error plus a little, the case where only a fused operation is right.
 */
function fmaCancelling(r: Rng, F: Fmt, op: FpOp): bigint[] {
  const a = make(F, r.int(2), F.bias - 20 + r.int(40), frac(r, F));
  const b = make(F, r.int(2), F.bias - 20 + r.int(40), frac(r, F));
  const p = numberOf(F, a) * numberOf(F, b);
  const pb = valueBits(F, F === D ? p : Math.fround(p));
  const nudged = (pb + BigInt(r.int(9) - 4)) & mask(F.width - 1); // magnitude ± a few ulps, sign kept
  const sign = r.chance(0.5) ? 1n << BigInt(F.width - 1) : 0n;
  const c = (nudged | (pb & (1n << BigInt(F.width - 1)))) ^ sign;
  return [a, b, c].map((v, i) => reg(r, op.srcs[i]!, v));
}

/** Operations whose interesting cases have two close operands. */
const CLOSE_PAIRS = new Set(["fadd", "fsub", "fmin", "fmax", "feq", "flt", "fle", "fsgnj", "fsgnjn", "fsgnjx"]);

/** An operand set for `op`: related operands for the arithmetic so that the hard cases come often. */
export function operands(r: Rng, op: FpOp): bigint[] {
  const kind = op.srcs[0]!;
  if (kind === "x") return [intOperand(r)];
  const F = kind === "f32" ? S : D;
  const xs = op.srcs.map(() => floatOperand(r, F));
  const base = op.name.split(".")[0]!;
  if (xs.length === 3 && r.chance(0.3)) return fmaCancelling(r, F, op);
  if (xs.length >= 2 && r.chance(0.45)) {
    const a = structured(r, F);
    const ea = expOf(F, a);
    xs[0] = a;
    if (CLOSE_PAIRS.has(base)) {
      // near-cancellation or a shift around the precision
      const sign = r.int(2);
      if (r.chance(0.5)) xs[1] = make(F, sign, ea, (a ^ r.bits(r.int(8))) & mask(F.fracBits));
      else xs[1] = make(F, sign, clampExp(F, ea - r.int(F.fracBits + 6)), frac(r, F));
      if (r.chance(0.1)) xs[1] = a;
    } else if (base === "fmul" || base === "fdiv" || xs.length === 3) {
      // exponents whose sum (or difference) lands near overflow, underflow, or the middle
      const target = r.pick([0, 1, F.fracBits, F.maxExp - 1, F.maxExp, F.bias]) + r.int(7) - 3;
      const eb = base === "fdiv" ? ea - target + F.bias : target - ea + F.bias;
      xs[1] = make(F, r.int(2), clampExp(F, eb), frac(r, F));
      if (base === "fdiv" && r.chance(0.05)) xs[1] = make(F, r.int(2), 0, 0n); // division by zero
      if (xs.length === 3) {
        // an addend near ±a·b: massive cancellation, or a small one for the sticky bits
        const ep = clampExp(F, ea + clampExp(F, eb) - F.bias);
        xs[2] = make(F, r.int(2), clampExp(F, ep - (r.chance(0.5) ? r.int(3) : r.int(2 * F.fracBits + 8))), frac(r, F));
      }
    }
  }
  return xs.map((v, i) => reg(r, op.srcs[i]!, v));
}
