/**
 * The FPU's tricky cases with their expected bits written down (each checked against QEMU 7.2 too, through
 * tests/fpu/fpu-diff.test.ts): subnormals, overflow per rounding mode, tininess after rounding, ties, fused
 * multiply-add with cancellation, min/max with signed zeros and NaNs, conversions at their boundaries, square roots
 * of −0 and negatives, NaN-boxing. Each case runs on the library (fast paths) and on the exact reference path.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { refOp } from "../../../tests/fpu/reference.ts";
import { DZ, Fpu, NV, NX, OF, RDN, RMM, RNE, RTZ, RUP, UF, unboxF32 } from "./fpu.ts";
import { box32, evalOp, FP_OP_BY_NAME, FP_OPS } from "./fpu-bits.ts";

/** rm as a name for messages. */
const RMS = ["rne", "rtz", "rdn", "rup", "rmm"];

/** Check `op` on register contents `srcs` in each rounding mode of `rms` against (bits, flags). */
function check(op: string, srcs: readonly bigint[], rms: readonly number[], bits: bigint, flags: number): void {
  const o = FP_OP_BY_NAME.get(op);
  assert.ok(o, op);
  for (const rm of rms) {
    const label = `${op} ${RMS[rm]} [${srcs.map((s) => s.toString(16)).join(", ")}]`;
    for (const [model, r] of [
      ["library", evalOp(o, srcs, rm)],
      ["reference", refOp(o, srcs, rm)],
    ] as const) {
      assert.equal(r.bits.toString(16), bits.toString(16), `${label}: ${model} bits`);
      assert.equal(r.flags, flags, `${label}: ${model} flags`);
    }
  }
}

const ALL = [RNE, RTZ, RDN, RUP, RMM];

// Doubles.
const P0 = 0x0000000000000000n;
const N0 = 0x8000000000000000n;
const ONE = 0x3ff0000000000000n;
const M_ONE = 0xbff0000000000000n;
const TWO = 0x4000000000000000n;
const THREE = 0x4008000000000000n;
const HALF = 0x3fe0000000000000n;
const INF = 0x7ff0000000000000n;
const M_INF = 0xfff0000000000000n;
const MAX = 0x7fefffffffffffffn;
const M_MAX = 0xffefffffffffffffn;
const MIN_NORM = 0x0010000000000000n;
const MIN_SUB = 0x0000000000000001n;
const QNAN = 0x7ff8000000000000n; // the canonical NaN
const SNAN = 0x7ff0000000000001n;
const QNAN_PAYLOAD = 0xfff8000000000123n;

// Singles (boxed in 64-bit registers).
const S_ONE = box32(0x3f800000);
const S_HALF = box32(0x3f000000);
const S_TWO = box32(0x40000000);
const S_QNAN = box32(0x7fc00000);
const S_SNAN = box32(0x7f800001);
const S_MAX = box32(0x7f7fffff);
const S_INF = box32(0x7f800000);

describe("fpu: subnormals and underflow (tininess after rounding)", () => {
  it("exact subnormal results raise nothing", () => {
    check("fadd.d", [MIN_SUB, MIN_SUB], ALL, 0x2n, 0);
    check("fmul.d", [MIN_NORM, HALF], ALL, 0x0008000000000000n, 0);
  });
  it("an inexact subnormal result raises UF and NX", () => {
    // (2^-1022 + 2^-1074) / 2 is a tie on the subnormal grid.
    check("fmul.d", [0x0010000000000001n, HALF], [RNE, RTZ, RDN], 0x0008000000000000n, UF | NX);
    check("fmul.d", [0x0010000000000001n, HALF], [RUP, RMM], 0x0008000000000001n, UF | NX);
    // 2^-1075: a tie between 0 and the smallest subnormal.
    check("fmul.d", [MIN_SUB, HALF], [RNE, RTZ, RDN], P0, UF | NX);
    check("fmul.d", [MIN_SUB, HALF], [RUP, RMM], MIN_SUB, UF | NX);
  });
  it("rounding up to the smallest normal is still tiny when the unbounded rounding stays below it", () => {
    // 2^-1022·(1 − 2^-53) is exact at 53 bits (tiny), but rounds to 2^-1022 on the subnormal grid.
    check("fmul.d", [0x001fffffffffffffn, HALF], [RNE, RUP, RMM], MIN_NORM, UF | NX);
    check("fmul.d", [0x001fffffffffffffn, HALF], [RTZ, RDN], 0x000fffffffffffffn, UF | NX);
  });
  it("…but not when it rounds to 2^emin at 53 bits too (after-rounding detection: no UF)", () => {
    // (1 − 2^-27)·2^-511 × (1 + 2^-27)·2^-511 = 2^-1022·(1 − 2^-54)
    const x = 0x1ffffffffc000000n;
    const y = 0x2000000002000000n;
    check("fmul.d", [x, y], [RNE, RMM], MIN_NORM, NX);
    check("fmul.d", [x, y], [RUP], MIN_NORM, NX);
    check("fmul.d", [x, y], [RTZ, RDN], 0x000fffffffffffffn, UF | NX);
  });
  it("single precision: the same after-rounding rule", () => {
    // 2^-126·(2 − 2^-23) × 0.5 = 2^-126·(1 − 2^-24)
    check("fmul.s", [box32(0x00ffffff), S_HALF], [RNE], box32(0x00800000), UF | NX);
    check("fmul.s", [box32(0x00ffffff), S_HALF], [RTZ], box32(0x007fffff), UF | NX);
    check("fcvt.s.d", [MIN_SUB], [RNE, RTZ, RDN], box32(0), UF | NX);
    check("fcvt.s.d", [MIN_SUB], [RUP], box32(1), UF | NX);
    check("fcvt.d.s", [box32(1)], [RNE], 0x36a0000000000000n, 0);
  });
  it("square root of the smallest subnormal is exact", () => {
    check("fsqrt.d", [MIN_SUB], ALL, 0x1e60000000000000n, 0);
  });
});

describe("fpu: overflow to infinity or the largest finite number by rounding mode", () => {
  it("doubles", () => {
    check("fmul.d", [MAX, TWO], [RNE, RUP, RMM], INF, OF | NX);
    check("fmul.d", [MAX, TWO], [RTZ, RDN], MAX, OF | NX);
    check("fmul.d", [M_MAX, TWO], [RNE, RDN, RMM], M_INF, OF | NX);
    check("fmul.d", [M_MAX, TWO], [RTZ, RUP], M_MAX, OF | NX);
  });
  it("max + half an ulp is a tie that RNE breaks to infinity; a hair less stays finite", () => {
    check("fadd.d", [MAX, 0x7c90000000000000n], [RNE, RMM, RUP], INF, OF | NX);
    check("fadd.d", [MAX, 0x7c90000000000000n], [RTZ, RDN], MAX, NX);
    check("fadd.d", [MAX, 0x7c8fffffffffffffn], [RNE, RMM, RTZ, RDN], MAX, NX);
    check("fadd.d", [MAX, 0x7c8fffffffffffffn], [RUP], INF, OF | NX);
  });
  it("a sum just inside the largest finite number: the error term of the fast path would overflow (a tie)", () => {
    // −MAX + 1.8671875·2^977 lies exactly halfway between two doubles; RN(sum) − x rounds past −MAX to −∞, so the
    // fast path cannot compute the rounding error (found by the differential test, seed 172322664).
    check("fadd.d", [0x7d0de00000000000n, M_MAX], [RTZ, RUP], 0xffefffffffffff87n, NX);
    check("fadd.d", [0x7d0de00000000000n, M_MAX], [RNE, RDN, RMM], 0xffefffffffffff88n, NX);
    check("fsub.d", [M_MAX, 0xfd0de00000000000n], [RTZ, RUP], 0xffefffffffffff87n, NX);
  });
  it("singles and narrowing conversion", () => {
    check("fmul.s", [S_MAX, S_TWO], [RNE, RUP, RMM], S_INF, OF | NX);
    check("fmul.s", [S_MAX, S_TWO], [RTZ, RDN], S_MAX, OF | NX);
    // 2^128 − 2^103: exactly between the largest single and 2^128.
    check("fcvt.s.d", [0x47effffff0000000n], [RNE, RMM, RUP], S_INF, OF | NX);
    check("fcvt.s.d", [0x47effffff0000000n], [RTZ, RDN], S_MAX, NX);
    check("fcvt.s.d", [0x47efffffefffffffn], [RNE], S_MAX, NX);
  });
  it("infinity operands are exact", () => {
    check("fadd.d", [INF, ONE], ALL, INF, 0);
    check("fmul.s", [S_INF, S_TWO], ALL, S_INF, 0);
  });
});

describe("fpu: ties and the sign of zero", () => {
  it("1 + 2^-53 and 1 + 3·2^-53 tie to even; RMM goes away from zero", () => {
    check("fadd.d", [ONE, 0x3ca0000000000000n], [RNE, RTZ, RDN], ONE, NX);
    check("fadd.d", [ONE, 0x3ca0000000000000n], [RUP, RMM], 0x3ff0000000000001n, NX);
    check("fadd.d", [ONE, 0x3cb8000000000000n], [RNE, RUP, RMM], 0x3ff0000000000002n, NX);
    check("fadd.d", [ONE, 0x3cb8000000000000n], [RTZ, RDN], 0x3ff0000000000001n, NX);
    check("fsub.d", [M_ONE, 0x3ca0000000000000n], [RMM, RDN], 0xbff0000000000001n, NX);
    check("fsub.d", [M_ONE, 0x3ca0000000000000n], [RNE, RTZ, RUP], M_ONE, NX);
  });
  it("singles: 1 + 2^-24", () => {
    check("fadd.s", [S_ONE, box32(0x33800000)], [RNE, RTZ, RDN], S_ONE, NX);
    check("fadd.s", [S_ONE, box32(0x33800000)], [RUP, RMM], box32(0x3f800001), NX);
  });
  it("an exact zero sum is +0, except −0 in RDN", () => {
    check("fsub.d", [ONE, ONE], [RNE, RTZ, RUP, RMM], P0, 0);
    check("fsub.d", [ONE, ONE], [RDN], N0, 0);
    check("fadd.d", [N0, P0], [RNE, RTZ, RUP, RMM], P0, 0);
    check("fadd.d", [N0, P0], [RDN], N0, 0);
    check("fadd.d", [N0, N0], ALL, N0, 0);
    check("fadd.s", [box32(0x80000000), box32(0)], [RDN], box32(0x80000000), 0);
  });
});

describe("fpu: fused multiply-add", () => {
  it("one rounding: 0.1 × 10 − 1 = 2^-54 exactly (a separate multiply would give 0)", () => {
    check("fmadd.d", [0x3fb999999999999an, 0x4024000000000000n, M_ONE], ALL, 0x3c90000000000000n, 0);
    check("fmul.d", [0x3fb999999999999an, 0x4024000000000000n], [RNE], ONE, NX);
  });
  it("exact cancellation gives +0, or −0 in RDN", () => {
    check("fmadd.d", [ONE, ONE, M_ONE], [RNE, RTZ, RUP, RMM], P0, 0);
    check("fmadd.d", [ONE, ONE, M_ONE], [RDN], N0, 0);
    check("fnmsub.s", [S_ONE, S_ONE, S_ONE], [RDN], box32(0x80000000), 0);
  });
  it("the four signs", () => {
    check("fmadd.d", [ONE, TWO, THREE], ALL, 0x4014000000000000n, 0); // 5
    check("fmsub.d", [ONE, TWO, THREE], ALL, M_ONE, 0); // -1
    check("fnmsub.d", [ONE, TWO, THREE], ALL, ONE, 0); // 1
    check("fnmadd.d", [ONE, TWO, THREE], ALL, 0xc014000000000000n, 0); // -5
  });
  it("a tie only the fused result sees: (1 + 2^-23)² − 1 = 2^-22 + 2^-46 in single", () => {
    check("fmadd.s", [box32(0x3f800001), box32(0x3f800001), box32(0xbf800000)], [RNE, RTZ, RDN], box32(0x34800000), NX);
    check("fmadd.s", [box32(0x3f800001), box32(0x3f800001), box32(0xbf800000)], [RUP, RMM], box32(0x34800001), NX);
  });
  it("∞ × 0 raises NV even with a quiet NaN addend; NaN inputs give the canonical NaN", () => {
    check("fmadd.d", [INF, P0, QNAN_PAYLOAD], ALL, QNAN, NV);
    check("fmadd.d", [INF, ONE, M_INF], ALL, QNAN, NV);
    check("fmadd.d", [ONE, ONE, QNAN_PAYLOAD], ALL, QNAN, 0);
    check("fmadd.d", [ONE, ONE, SNAN], ALL, QNAN, NV);
    check("fmadd.s", [S_INF, box32(0), S_QNAN], ALL, S_QNAN, NV);
  });
});

describe("fpu: min/max (IEEE 754-2019 minimumNumber/maximumNumber)", () => {
  it("−0 < +0", () => {
    check("fmin.d", [N0, P0], [RNE], N0, 0);
    check("fmin.d", [P0, N0], [RNE], N0, 0);
    check("fmax.d", [N0, P0], [RNE], P0, 0);
    check("fmax.d", [P0, N0], [RNE], P0, 0);
    check("fmin.s", [box32(0), box32(0x80000000)], [RNE], box32(0x80000000), 0);
  });
  it("one NaN: the other operand; a signalling NaN raises NV; two NaNs: the canonical NaN", () => {
    check("fmin.d", [QNAN_PAYLOAD, ONE], [RNE], ONE, 0);
    check("fmax.d", [ONE, SNAN], [RNE], ONE, NV);
    check("fmin.d", [QNAN_PAYLOAD, QNAN_PAYLOAD], [RNE], QNAN, 0);
    check("fmax.d", [QNAN_PAYLOAD, SNAN], [RNE], QNAN, NV);
    check("fmin.s", [S_SNAN, S_ONE], [RNE], S_ONE, NV);
  });
  it("an improperly NaN-boxed single is the canonical (quiet) NaN", () => {
    check("fmin.s", [0x000000003f800000n, S_TWO], [RNE], S_TWO, 0);
  });
});

describe("fpu: comparisons and class", () => {
  it("feq is quiet, flt/fle signal on any NaN", () => {
    check("feq.d", [QNAN, QNAN], [RNE], 0n, 0);
    check("feq.d", [SNAN, ONE], [RNE], 0n, NV);
    check("flt.d", [QNAN, ONE], [RNE], 0n, NV);
    check("fle.s", [S_ONE, S_QNAN], [RNE], 0n, NV);
    check("feq.s", [S_QNAN, S_ONE], [RNE], 0n, 0);
  });
  it("zeros compare equal", () => {
    check("feq.d", [N0, P0], [RNE], 1n, 0);
    check("fle.d", [N0, P0], [RNE], 1n, 0);
    check("flt.d", [N0, P0], [RNE], 0n, 0);
  });
  it("fclass: one bit per class", () => {
    const cases: [bigint, number][] = [
      [M_INF, 0],
      [M_ONE, 1],
      [0x800fffffffffffffn, 2],
      [N0, 3],
      [P0, 4],
      [MIN_SUB, 5],
      [ONE, 6],
      [INF, 7],
      [SNAN, 8],
      [QNAN, 9],
    ];
    for (const [v, bit] of cases) check("fclass.d", [v], [RNE], 1n << BigInt(bit), 0);
    check("fclass.s", [box32(0xff800000)], [RNE], 1n, 0);
    check("fclass.s", [box32(0x80000001)], [RNE], 4n, 0);
    check("fclass.s", [S_SNAN], [RNE], 256n, 0);
    check("fclass.s", [0x7fffffff00000000n], [RNE], 512n, 0); // not boxed: the canonical NaN
  });
});

describe("fpu: conversions to integers (saturating, table 11.4)", () => {
  it("NaN and infinities", () => {
    check("fcvt.w.d", [QNAN], ALL, 0x7fffffffn, NV);
    check("fcvt.w.d", [M_INF], ALL, 0xffffffff80000000n, NV);
    check("fcvt.wu.d", [QNAN_PAYLOAD], ALL, 0xffffffffffffffffn, NV);
    check("fcvt.wu.d", [M_INF], ALL, 0n, NV);
    check("fcvt.l.d", [QNAN], ALL, 0x7fffffffffffffffn, NV);
    check("fcvt.lu.d", [QNAN], ALL, 0xffffffffffffffffn, NV);
    check("fcvt.lu.d", [M_INF], ALL, 0n, NV);
    check("fcvt.w.s", [S_QNAN], ALL, 0x7fffffffn, NV);
    check("fcvt.l.s", [box32(0xff800000)], ALL, 0x8000000000000000n, NV);
  });
  it("int32 boundaries", () => {
    check("fcvt.w.d", [0x41e0000000000000n], ALL, 0x7fffffffn, NV); // 2^31
    check("fcvt.w.d", [0xc1e0000000000000n], ALL, 0xffffffff80000000n, 0); // -2^31
    // -2^31 - 0.5: in range when truncated, out of range rounded down.
    check("fcvt.w.d", [0xc1e0000000100000n], [RTZ, RUP, RNE], 0xffffffff80000000n, NX);
    check("fcvt.w.d", [0xc1e0000000100000n], [RDN, RMM], 0xffffffff80000000n, NV);
    // 2^31 - 0.5 rounds to even 2^31 (out of range) in RNE.
    check("fcvt.w.d", [0x41dfffffffe00000n], [RNE, RUP, RMM], 0x7fffffffn, NV);
    check("fcvt.w.d", [0x41dfffffffe00000n], [RTZ, RDN], 0x7fffffffn, NX);
  });
  it("unsigned: small negatives round to 0 with NX only, else NV; results are sign-extended", () => {
    check("fcvt.wu.d", [0xbfe0000000000000n], [RTZ, RNE, RUP], 0n, NX); // -0.5
    check("fcvt.wu.d", [0xbfe0000000000000n], [RDN, RMM], 0n, NV);
    check("fcvt.wu.d", [M_ONE], ALL, 0n, NV);
    check("fcvt.wu.d", [0x41efffffffe00000n], ALL, 0xffffffffffffffffn, 0); // 4294967295
    check("fcvt.lu.d", [N0], ALL, 0n, 0);
  });
  it("int64 boundaries", () => {
    check("fcvt.l.d", [0x43e0000000000000n], ALL, 0x7fffffffffffffffn, NV); // 2^63
    check("fcvt.l.d", [0xc3e0000000000000n], ALL, 0x8000000000000000n, 0); // -2^63
    check("fcvt.lu.d", [0x43f0000000000000n], ALL, 0xffffffffffffffffn, NV); // 2^64
    check("fcvt.lu.d", [0x43efffffffffffffn], ALL, 0xfffffffffffff800n, 0);
  });
  it("ties: 2.5 → 2 (RNE), 3 (RMM); −2.5 → −3 (RMM)", () => {
    check("fcvt.w.s", [box32(0x40200000)], [RNE, RTZ, RDN], 2n, NX);
    check("fcvt.w.s", [box32(0x40200000)], [RUP, RMM], 3n, NX);
    check("fcvt.w.s", [box32(0xc0200000)], [RMM, RDN], 0xfffffffffffffffdn, NX);
    check("fcvt.w.s", [box32(0xc0200000)], [RNE, RTZ, RUP], 0xfffffffffffffffen, NX);
  });
});

describe("fpu: conversions from integers and between formats", () => {
  it("2^24 + 1 to single and 2^53 + 1 to double tie to even", () => {
    check("fcvt.s.w", [0x1000001n], [RNE, RTZ, RDN], box32(0x4b800000), NX);
    check("fcvt.s.w", [0x1000001n], [RUP, RMM], box32(0x4b800001), NX);
    check("fcvt.d.l", [0x20000000000001n], [RNE, RTZ, RDN], 0x4340000000000000n, NX);
    check("fcvt.d.l", [0x20000000000001n], [RUP, RMM], 0x4340000000000001n, NX);
  });
  it("unsigned 2^64 − 1", () => {
    check("fcvt.d.lu", [0xffffffffffffffffn], [RNE, RUP, RMM], 0x43f0000000000000n, NX);
    check("fcvt.d.lu", [0xffffffffffffffffn], [RTZ, RDN], 0x43efffffffffffffn, NX);
    check("fcvt.s.lu", [0xffffffffffffffffn], [RNE], box32(0x5f800000), NX);
    check("fcvt.s.l", [0xffffffffffffffffn], ALL, box32(0xbf800000), 0);
    check("fcvt.d.w", [0xffffffff80000000n], ALL, 0xc1e0000000000000n, 0);
    check("fcvt.d.wu", [0x12345678ffffffffn], ALL, 0x41efffffffe00000n, 0); // upper bits ignored
  });
  it("no double rounding: 2^62 + 2^38 + 1 to single rounds up", () => {
    check("fcvt.s.l", [0x4000004000000001n], [RNE], box32(0x5e800001), NX);
  });
  it("fcvt.s.d: no double rounding just above a tie; NaNs become canonical", () => {
    check("fcvt.s.d", [0x3ff0000010000000n], [RNE], S_ONE, NX); // 1 + 2^-24: tie
    check("fcvt.s.d", [0x3ff0000010000001n], [RNE], box32(0x3f800001), NX);
    check("fcvt.s.d", [SNAN], ALL, S_QNAN, NV);
    check("fcvt.s.d", [QNAN_PAYLOAD], ALL, S_QNAN, 0);
    check("fcvt.d.s", [S_SNAN], ALL, QNAN, NV);
  });
});

describe("fpu: square root and division", () => {
  it("sqrt of −0 is −0; of negatives and −∞ the canonical NaN with NV", () => {
    check("fsqrt.d", [N0], ALL, N0, 0);
    check("fsqrt.s", [box32(0x80000000)], ALL, box32(0x80000000), 0);
    check("fsqrt.d", [M_ONE], ALL, QNAN, NV);
    check("fsqrt.d", [M_INF], ALL, QNAN, NV);
    check("fsqrt.s", [box32(0x80000001)], ALL, S_QNAN, NV);
    check("fsqrt.d", [INF], ALL, INF, 0);
  });
  it("sqrt(2) by rounding mode", () => {
    check("fsqrt.d", [TWO], [RNE, RUP, RMM], 0x3ff6a09e667f3bcdn, NX);
    check("fsqrt.d", [TWO], [RTZ, RDN], 0x3ff6a09e667f3bccn, NX);
    check("fsqrt.s", [S_TWO], [RNE, RTZ, RDN, RMM], box32(0x3fb504f3), NX);
    check("fsqrt.s", [S_TWO], [RUP], box32(0x3fb504f4), NX);
  });
  it("division by zero, 0/0, ∞/∞, 1/3", () => {
    check("fdiv.d", [ONE, P0], ALL, INF, DZ);
    check("fdiv.d", [M_ONE, P0], ALL, M_INF, DZ);
    check("fdiv.d", [ONE, N0], ALL, M_INF, DZ);
    check("fdiv.d", [P0, P0], ALL, QNAN, NV);
    check("fdiv.d", [INF, M_INF], ALL, QNAN, NV);
    check("fdiv.d", [ONE, THREE], [RNE, RTZ, RDN, RMM], 0x3fd5555555555555n, NX);
    check("fdiv.d", [ONE, THREE], [RUP], 0x3fd5555555555556n, NX);
    check("fdiv.s", [S_ONE, box32(0)], ALL, S_INF, DZ);
  });
});

describe("fpu: NaN-boxing, sign injection and moves", () => {
  it("unboxF32", () => {
    assert.equal(unboxF32(0xffffffff3f800000n), 0x3f800000);
    assert.equal(unboxF32(0x7fffffff3f800000n), 0x7fc00000);
    assert.equal(unboxF32(0x3f800000n), 0x7fc00000);
  });
  it("an improperly boxed single reads as the canonical NaN", () => {
    check("fadd.s", [0x000000003f800000n, S_ONE], ALL, S_QNAN, 0);
    check("fsgnjn.s", [0x3f800000n, 0x3f800000n], ALL, box32(0xffc00000), 0);
    check("fcvt.d.s", [0xfffffffe3f800000n], ALL, QNAN, 0);
  });
  it("sign injection keeps NaN payloads and raises nothing", () => {
    check("fsgnjx.d", [SNAN, M_ONE], ALL, 0xfff0000000000001n, 0);
    check("fsgnj.d", [QNAN_PAYLOAD, ONE], ALL, 0x7ff8000000000123n, 0);
    check("fsgnjn.s", [S_SNAN, S_ONE], ALL, box32(0xff800001), 0);
  });
  it("fmv.x.w sign-extends and ignores boxing; fmv.w.x boxes", () => {
    check("fmv.x.w", [0xffffffff80000000n], ALL, 0xffffffff80000000n, 0);
    check("fmv.x.w", [0x123456789abcdef0n], ALL, 0xffffffff9abcdef0n, 0);
    check("fmv.w.x", [0x123456787fc00001n], ALL, box32(0x7fc00001), 0);
    check("fmv.d.x", [SNAN], ALL, SNAN, 0);
  });
});

describe("fpu: accrued flags", () => {
  it("operations only OR into the flags word, and results do not depend on what is already accrued", () => {
    const fpu = new Fpu(new ArrayBuffer(64), 10);
    const u = fpu.u64;
    u[0] = ONE;
    u[1] = THREE;
    fpu.flags = NV;
    fpu.fdiv_d(2, 0, 1, RNE);
    assert.equal(u[2], 0x3fd5555555555555n);
    assert.equal(fpu.flags, NV | NX);
    // With NX accrued the fast path skips its inexactness proof: same bits.
    fpu.fmul_d(3, 2, 1, RNE);
    assert.equal(u[3], ONE);
    fpu.flags = 0;
    fpu.fmul_d(3, 2, 1, RNE);
    assert.equal(u[3], ONE);
    assert.equal(fpu.flags, NX);
    fpu.flags = OF | UF;
    fpu.fadd_d(3, 0, 1, RNE);
    assert.equal(fpu.flags, OF | UF);
  });
  it("every operation of FP_OPS has a method", () => {
    for (const o of FP_OPS)
      assert.equal(typeof (Fpu.prototype as unknown as Record<string, unknown>)[o.method], "function", o.name);
  });
});
