/**
 * Differential test of the F and D arithmetic against QEMU 7.2 (`-M spike`): at least 1,000,000 operations per run,
 * spread over every RV64F/RV64D operation and every rounding mode (static rne..rmm and dyn through frm), in batches of
 * bare-metal programs (tests/fpu/program.ts) run in parallel; every result and every fflags value QEMU prints is
 * compared with the library and with its exact reference path. Seeded: the seed is printed, POPEK_SEED=n reproduces a
 * run, POPEK_FPU_OPS=n changes its size, POPEK_FPU_RUNNERS=qemu (or popek) limits the machines (default: both)
 * under test (once its hart executes F and D). Skipped when gcc or QEMU is missing.
 */
import assert from "node:assert/strict";
import os from "node:os";
import { test } from "node:test";
import { missingTools, runDiff, runnersFromEnv } from "./harness.ts";

const seed =
  process.env.POPEK_SEED !== undefined ? Number(process.env.POPEK_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const total = Number(process.env.POPEK_FPU_OPS ?? 1_000_000);
const missing = missingTools();

test(`F/D results and flags equal QEMU's on ${total} operations (seed ${seed})`, {
  skip: missing,
  timeout: 20 * 60_000,
}, async (t) => {
  const cores = Math.max(1, Math.min(4, os.availableParallelism()));
  let report: Awaited<ReturnType<typeof runDiff>>;
  try {
    report = await runDiff({
      seed,
      total,
      batches: 8,
      concurrency: cores,
      runners: runnersFromEnv(),
      checkReference: true,
      log: (line) => t.diagnostic(line),
    });
  } catch (err) {
    throw new Error(`seed ${seed} (POPEK_SEED=${seed} to reproduce): ${err instanceof Error ? err.message : err}`);
  }
  t.diagnostic(
    `seed ${seed}: ${report.operations} operations, ${report.compared} comparisons, ${report.mismatches} mismatches, ` +
      `${(report.ms.total / 1000).toFixed(1)} s (checking ${(report.ms.model / 1000).toFixed(1)} s)`,
  );
  if (report.mismatches > 0) {
    const perOp = [...report.perOp]
      .filter(([, s]) => s.bad > 0)
      .map(([name, s]) => `${name} ${s.bad}/${s.cases}`)
      .join(", ");
    assert.fail(
      `seed ${seed} (POPEK_SEED=${seed} to reproduce): ${report.mismatches} mismatches (${perOp}); first ones:\n` +
        report.examples.map((e) => `  [${e.model}] ${e.text}`).join("\n"),
    );
  }
  assert.ok(report.operations >= total, `only ${report.operations} operations`);
});
