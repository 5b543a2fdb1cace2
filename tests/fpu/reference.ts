/**
 * The reference model for the FPU tests: every operation of FP_OPS computed by the exact BigInt path alone
 * (src/core/cpu/fpu-soft.ts), never by the fast paths of the Fpu. Comparing the two on many inputs exercises the fast
 * paths; comparing both with QEMU checks the model itself.
 */
import type { FpOp, FpResult } from "../../src/core/cpu/fpu-bits.ts";
import * as soft from "../../src/core/cpu/fpu-soft.ts";

const { f32: F32, f64: F64 } = soft;
const M32 = 0xffffffffn;
const BOX = 0xffffffff00000000n;

function sext32(v: bigint): bigint {
  return BigInt.asUintN(64, BigInt.asIntN(32, v));
}

/** Result bits of `op` on 64-bit register contents, by the exact path only. */
export function refOp(op: FpOp, srcs: readonly bigint[], rm: number): FpResult {
  soft.softFlags.v = 0;
  const s = op.name.endsWith(".s") || op.name === "fmv.w.x" || op.name === "fmv.x.w";
  const F = s ? F32 : F64;
  const r = (i: number): bigint => {
    const v = BigInt.asUintN(64, srcs[i]!);
    return op.srcs[i] === "f32" ? BigInt(soft.unboxF32(v) >>> 0) : v;
  };
  const fres = (b: bigint): bigint => (op.dst === "f32" ? BOX | b : b);
  let bits: bigint;
  const [kind, ...rest] = op.name.split(".");
  const sfx = rest.join(".");
  switch (kind) {
    case "fadd":
      bits = fres(soft.add(F, r(0), r(1), rm));
      break;
    case "fsub":
      bits = fres(soft.sub(F, r(0), r(1), rm));
      break;
    case "fmul":
      bits = fres(soft.mul(F, r(0), r(1), rm));
      break;
    case "fdiv":
      bits = fres(soft.div(F, r(0), r(1), rm));
      break;
    case "fsqrt":
      bits = fres(soft.sqrt(F, r(0), rm));
      break;
    case "fmadd":
      bits = fres(soft.fma(F, r(0), r(1), r(2), false, false, rm));
      break;
    case "fmsub":
      bits = fres(soft.fma(F, r(0), r(1), r(2), false, true, rm));
      break;
    case "fnmsub":
      bits = fres(soft.fma(F, r(0), r(1), r(2), true, false, rm));
      break;
    case "fnmadd":
      bits = fres(soft.fma(F, r(0), r(1), r(2), true, true, rm));
      break;
    case "fmin":
      bits = fres(soft.min(F, r(0), r(1)));
      break;
    case "fmax":
      bits = fres(soft.max(F, r(0), r(1)));
      break;
    case "fsgnj":
      bits = fres(soft.sgnj(F, r(0), r(1)));
      break;
    case "fsgnjn":
      bits = fres(soft.sgnjn(F, r(0), r(1)));
      break;
    case "fsgnjx":
      bits = fres(soft.sgnjx(F, r(0), r(1)));
      break;
    case "feq":
      bits = BigInt(soft.eq(F, r(0), r(1)));
      break;
    case "flt":
      bits = BigInt(soft.lt(F, r(0), r(1)));
      break;
    case "fle":
      bits = BigInt(soft.le(F, r(0), r(1)));
      break;
    case "fclass":
      bits = BigInt(soft.classify(F, r(0)));
      break;
    case "fmv":
      if (op.name === "fmv.x.w") bits = sext32(BigInt.asUintN(64, srcs[0]!) & M32);
      else if (op.name === "fmv.w.x") bits = BOX | (BigInt.asUintN(64, srcs[0]!) & M32);
      else bits = BigInt.asUintN(64, srcs[0]!);
      break;
    case "fcvt": {
      const [to, from] = sfx.split(".") as [string, string];
      const ints: Record<string, soft.IntType> = { w: soft.W, wu: soft.WU, l: soft.L, lu: soft.LU };
      if (to in ints) {
        const T = ints[to]!;
        const v = soft.toInt(from === "s" ? F32 : F64, r(0), T, rm);
        bits = T === soft.W || T === soft.WU ? sext32(v) : BigInt.asUintN(64, v);
      } else if (from in ints) {
        const x = BigInt.asUintN(64, srcs[0]!);
        const v =
          from === "w" ? BigInt.asIntN(32, x) : from === "wu" ? x & M32 : from === "l" ? BigInt.asIntN(64, x) : x;
        bits = fres(soft.fromInt(to === "s" ? F32 : F64, v, rm));
      } else if (to === "s") bits = fres(soft.convert(F64, F32, r(0), rm));
      else bits = soft.convert(F32, F64, r(0), rm);
      break;
    }
    default:
      throw new Error(`no reference for ${op.name}`);
  }
  const flags = soft.softFlags.v;
  soft.softFlags.v = 0;
  return { bits, flags };
}
