/**
 * Every RV64F/RV64D operation as a pure function of bit patterns, for tests, tools and differential harnesses: the
 * operands are 64-bit register contents (an f32 operand is read NaN-boxed, as a register holds it), the result is the
 * 64-bit register content the instruction writes, plus the flags it raises. Runs the real `Fpu` (fast paths and all)
 * on scratch registers; allocates, so not for the interpreter's hot path.
 */
import { Fpu } from "./fpu.ts";

/** Register class of an operand or result: single, double (FP registers) or an integer register. */
export type FpKind = "f32" | "f64" | "x";

export interface FpOp {
  /** Mnemonic as in the spec, e.g. "fmadd.d". */
  readonly name: string;
  readonly srcs: readonly FpKind[];
  readonly dst: FpKind;
  /** The instruction has an rm field. */
  readonly rm: boolean;
  /** The Fpu method. */
  readonly method: string;
}

function op(name: string, srcs: readonly FpKind[], dst: FpKind, rm: boolean): FpOp {
  return { name, srcs, dst, rm, method: name.replaceAll(".", "_") };
}

function family(s: "s" | "d"): FpOp[] {
  const k: FpKind = s === "s" ? "f32" : "f64";
  const ops = [
    op(`fadd.${s}`, [k, k], k, true),
    op(`fsub.${s}`, [k, k], k, true),
    op(`fmul.${s}`, [k, k], k, true),
    op(`fdiv.${s}`, [k, k], k, true),
    op(`fsqrt.${s}`, [k], k, true),
    op(`fmadd.${s}`, [k, k, k], k, true),
    op(`fmsub.${s}`, [k, k, k], k, true),
    op(`fnmsub.${s}`, [k, k, k], k, true),
    op(`fnmadd.${s}`, [k, k, k], k, true),
    op(`fmin.${s}`, [k, k], k, false),
    op(`fmax.${s}`, [k, k], k, false),
    op(`fsgnj.${s}`, [k, k], k, false),
    op(`fsgnjn.${s}`, [k, k], k, false),
    op(`fsgnjx.${s}`, [k, k], k, false),
    op(`feq.${s}`, [k, k], "x", false),
    op(`flt.${s}`, [k, k], "x", false),
    op(`fle.${s}`, [k, k], "x", false),
    op(`fclass.${s}`, [k], "x", false),
    op(`fcvt.w.${s}`, [k], "x", true),
    op(`fcvt.wu.${s}`, [k], "x", true),
    op(`fcvt.l.${s}`, [k], "x", true),
    op(`fcvt.lu.${s}`, [k], "x", true),
    op(`fcvt.${s}.w`, ["x"], k, true),
    op(`fcvt.${s}.wu`, ["x"], k, true),
    op(`fcvt.${s}.l`, ["x"], k, true),
    op(`fcvt.${s}.lu`, ["x"], k, true),
  ];
  if (s === "s") ops.push(op("fmv.x.w", ["f32"], "x", false), op("fmv.w.x", ["x"], "f32", false));
  else
    ops.push(
      op("fcvt.s.d", ["f64"], "f32", true),
      op("fcvt.d.s", ["f32"], "f64", true),
      op("fmv.x.d", ["f64"], "x", false),
      op("fmv.d.x", ["x"], "f64", false),
    );
  return ops;
}

/** All RV64F and RV64D computational instructions (loads and stores aside). */
export const FP_OPS: readonly FpOp[] = [...family("s"), ...family("d")];

export const FP_OP_BY_NAME: ReadonlyMap<string, FpOp> = new Map(FP_OPS.map((o) => [o.name, o]));

/** Scratch register file: slots 0..2 sources, 3 destination, flags in word 8. */
const fpu = new Fpu(new ArrayBuffer(64), 8);

type Method = (this: Fpu, ...args: number[]) => void;

/** The result of one operation: the destination register's 64 bits and the flags raised. */
export interface FpResult {
  readonly bits: bigint;
  readonly flags: number;
}

/**
 * Run `op` on 64-bit register contents `srcs` with rounding mode rm (0..4; ignored by operations without rm). An
 * integer result is the full 64-bit register (W results sign-extended); an f32 result is NaN-boxed. `accrued` is the
 * flags word before the operation (the result's flags include it), so that paths which depend on it can be tested.
 */
export function evalOp(op: FpOp, srcs: readonly bigint[], rm: number, accrued = 0): FpResult {
  const u = fpu.u64;
  for (let i = 0; i < op.srcs.length; i++) u[i] = BigInt.asUintN(64, srcs[i]!);
  u[3] = 0x5a5a5a5a5a5a5a5an; // something the operation must overwrite
  fpu.flags = accrued;
  const m = (fpu as unknown as Record<string, Method>)[op.method]!;
  const n = op.srcs.length;
  if (n === 1) m.call(fpu, 3, 0, rm);
  else if (n === 2) m.call(fpu, 3, 0, 1, rm);
  else m.call(fpu, 3, 0, 1, 2, rm);
  return { bits: u[3]!, flags: fpu.flags };
}

/** Bit-pattern shorthands for tests: f32 operands/results as 32-bit numbers, f64 as bigint. */
export function box32(bits: number): bigint {
  return 0xffffffff00000000n | BigInt(bits >>> 0);
}
