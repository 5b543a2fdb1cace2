// The generated op ids are fresh, and the interpreter's literal case labels name the instructions they claim to.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { generateOps } from "../../../tools/gen-ops.ts";
import { Op } from "./ops.generated.ts";
import { INSNS } from "./table.ts";

test("ops.generated.ts matches the instruction table (run `npm run gen` if this fails)", () => {
  const onDisk = readFileSync(new URL("./ops.generated.ts", import.meta.url), "utf8");
  assert.equal(onDisk, generateOps());
});

test("every `case N: // name` label in the interpreter names instruction N", () => {
  const src = readFileSync(new URL("../cpu/hart.ts", import.meta.url), "utf8");
  const seen = new Set<string>();
  const labels = [...src.matchAll(/case (\d+):\s*(?:\{\s*)?\/\/ ([a-z][a-z0-9.]*)/g)];
  assert.ok(labels.length > 80, `found only ${labels.length} labelled cases`);
  for (const [, num, name] of labels) {
    if (Number(num) === 0) continue;
    assert.equal(INSNS[Number(num) - 1]?.name, name, `case ${num} is labelled ${name}`);
    seen.add(name!);
  }
  const missing = Object.keys(Op).filter((n) => !seen.has(n));
  assert.deepEqual(missing, [], "instructions without a labelled case in the interpreter");
});
