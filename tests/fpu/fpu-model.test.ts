/**
 * The library against its own exact path, without QEMU: the Fpu (fast paths first) and fpu-soft.ts alone must agree
 * on every result and flag, for the operand sets of the differential test and with NX already accrued or not (the
 * fast paths skip their inexactness proofs when it is). Seeded like fpu-diff.test.ts (POPEK_SEED reproduces a run).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NX } from "../../src/core/cpu/fpu.ts";
import { evalOp, FP_OPS } from "../../src/core/cpu/fpu-bits.ts";
import { operands, Rng } from "./gen.ts";
import { refOp } from "./reference.ts";

const seed =
  process.env.POPEK_SEED !== undefined ? Number(process.env.POPEK_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const PER_OP = 5000;

test(`library = exact path on ${PER_OP} cases per operation (seed ${seed})`, () => {
  const r = new Rng(seed);
  const bad: string[] = [];
  let n = 0;
  for (const op of FP_OPS) {
    for (let i = 0; i < PER_OP; i++) {
      const srcs = operands(r, op);
      const rm = r.int(5);
      const want = refOp(op, srcs, rm);
      for (const accrued of [0, NX]) {
        n++;
        const got = evalOp(op, srcs, rm, accrued);
        if (got.bits !== want.bits || got.flags !== (want.flags | accrued)) {
          if (bad.length < 20)
            bad.push(
              `${op.name} rm=${rm} accrued=${accrued} [${srcs.map((s) => s.toString(16)).join(", ")}]: ` +
                `library ${got.bits.toString(16)}/${got.flags}, exact ${want.bits.toString(16)}/${want.flags}`,
            );
        }
      }
    }
  }
  assert.ok(n >= FP_OPS.length * PER_OP * 2);
  if (bad.length > 0) assert.fail(`seed ${seed} (POPEK_SEED=${seed} to reproduce):\n${bad.join("\n")}`);
});
