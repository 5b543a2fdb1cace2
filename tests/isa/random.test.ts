/**
 * Random differential testing against QEMU: reproducible straight-line RV64IMAC + Zicsr programs (random-gen.ts),
 * BATCH of them per ELF, each ending in a dump of its registers and scratch memory (hashed; full with
 * POPEK_RANDOM_FULL=1), run under QEMU and popek and compared line by line. On a mismatch the program is rebuilt
 * alone with a full dump to name the differing register.
 *   POPEK_SEED=n             reproduce a run (the seed is printed as a diagnostic and in every failure)
 *   POPEK_RANDOM_PROGRAMS=n  number of programs (default 20000)
 *   POPEK_RANDOM_FULL=1      full register dumps everywhere (slower)
 */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  buildAndRunQemu,
  describeExit,
  loadPopek,
  missingTools,
  type PopekApi,
  type QemuRun,
  RUNTIME_DIR,
  runPopek,
  stopJobs,
  WorkDir,
} from "./harness.ts";
import { abiName, batchAsm, FULL_DUMP_FIELDS, generateProgram, HASH_DUMP_FIELDS } from "./random-gen.ts";

const BATCH = 500;
const PROGRAMS = Number(process.env.POPEK_RANDOM_PROGRAMS ?? 20_000);
const SEED = process.env.POPEK_SEED !== undefined ? Number(process.env.POPEK_SEED) >>> 0 : randomInt(0x1_0000_0000);
const FULL = process.env.POPEK_RANDOM_FULL === "1";
/** A batch of 500 programs retires about 1-7 million instructions. */
const POPEK_LIMIT = 100_000_000;
const QEMU_TIMEOUT_MS = 60_000;
const REPRODUCE = `POPEK_SEED=${SEED} POPEK_RANDOM_PROGRAMS=${PROGRAMS}`;

assert.ok(Number.isInteger(PROGRAMS) && PROGRAMS > 0, "POPEK_RANDOM_PROGRAMS must be a positive integer");

interface Batch {
  readonly first: number;
  readonly count: number;
  readonly name: string;
}

const batches: Batch[] = [];
for (let first = 0; first < PROGRAMS; first += BATCH) {
  batches.push({ first, count: Math.min(BATCH, PROGRAMS - first), name: `random-${first}` });
}

describe("random program generator", () => {
  it("is a pure function of (seed, index)", () => {
    assert.deepEqual(generateProgram(7, 123), generateProgram(7, 123));
    assert.notDeepEqual(generateProgram(7, 123).body, generateProgram(8, 123).body);
    assert.notDeepEqual(generateProgram(7, 123).body, generateProgram(7, 124).body);
  });

  it("never writes sp or s0, the scratch pointers", () => {
    // Mnemonics whose first operand is not a destination.
    const noDest = /^(?:s[bhwd]|c\.s[wd]|c\.s[wd]sp|b\w+|c\.beqz|c\.bnez|c\.j|c\.jr|c\.jalr|c\.nop|fence(?:\.i)?|nop)$/;
    for (let i = 0; i < 300; i++) {
      for (const line of generateProgram(99, i).body) {
        if (line.endsWith(":")) continue;
        const [mnemonic, first] = line.replace(/^RVC(?:_BRANCH)? /, "").split(/[ ,]+/);
        if (noDest.test(mnemonic!)) continue;
        assert.ok(
          first !== "sp" && first !== "s0" && mnemonic !== "c.addi16sp",
          `program ${i} writes a pointer: ${line}`,
        );
      }
    }
  });
});

const missing = missingTools();

describe(`random differential programs (seed ${SEED})`, { skip: missing }, () => {
  const work = missing ? undefined : new WorkDir("popek-random-");
  const jobs = new Map<string, Promise<{ readonly elfPath: string; readonly qemu: QemuRun }>>();
  let popek: PopekApi | string = "popek was not loaded";
  let next = 0;

  /** Generate, build and run under QEMU the next batch not started yet (one job runs beside popek). */
  const startNext = (): void => {
    const b = batches[next++];
    if (!b) return;
    const src = work!.file(`${b.name}.S`);
    fs.writeFileSync(src, batchAsm(SEED, b.first, b.count, FULL));
    const job = buildAndRunQemu([path.join(RUNTIME_DIR, "random.S"), src], work!, b.name, {
      timeoutMs: QEMU_TIMEOUT_MS,
    });
    job.catch(() => {}); // reported by the test that awaits it
    jobs.set(b.name, job);
  };

  before(async () => {
    startNext();
    startNext();
    const first = await jobs.get(batches[0]!.name)!;
    popek = await loadPopek(fs.readFileSync(first.elfPath));
  });

  after(() => {
    stopJobs();
    work?.remove();
  });

  batches.forEach((b, i) => {
    it(`programs ${b.first}..${b.first + b.count - 1}`, async (ctx) => {
      if (i > 0 && typeof popek === "string") {
        ctx.skip(`${popek}; the first batch alone checks the generator under QEMU`);
        return;
      }
      const { elfPath, qemu } = await jobs.get(b.name)!;
      jobs.delete(b.name);
      startNext();
      const where = `seed ${SEED}, programs ${b.first}..${b.first + b.count - 1} (reproduce: ${REPRODUCE})`;
      assert.equal(qemu.timedOut, false, `QEMU timed out; ${where}`);
      assert.equal(qemu.code, 0, `QEMU exit ${qemu.code}: a generated instruction trapped; ${where}\n${qemu.stderr}`);
      const qLines = qemu.output.split("\n");
      assert.equal(qLines.length, b.count + 2, `QEMU printed ${qLines.length} lines; ${where}`);
      assert.equal(qLines[b.count], "traps 0");
      if (typeof popek === "string") {
        ctx.skip(popek);
        return;
      }
      const run = runPopek(popek, fs.readFileSync(elfPath), POPEK_LIMIT);
      ctx.diagnostic(`popek: ${describeExit(run.exit)}, ${run.instret} instructions in ${run.ms.toFixed(0)} ms`);
      const pLines = run.output.split("\n");
      const bad = qLines.findIndex((line, k) => line !== pLines[k]);
      if (bad >= 0 && bad < b.count) {
        const mismatches = qLines.slice(0, b.count).filter((line, k) => line !== pLines[k]).length;
        const index = b.first + bad;
        const detail = await diagnose(popek, work!, index, qLines[bad]!, pLines[bad] ?? "(nothing)");
        assert.fail(
          `program ${index} differs (${mismatches} of ${b.count} programs in this batch differ); ${where}\n${detail}`,
        );
      }
      assert.equal(bad, -1, `output differs after the last program: ${JSON.stringify(pLines[bad])}; ${where}`);
      assert.deepEqual(run.exit, { kind: "exit", code: 0 }, `popek: ${describeExit(run.exit)}; ${where}`);
    });
  });
});

/**
 * Explain a mismatch in program `index`: name the differing fields of the batch's lines, rebuild the program alone
 * with a full dump to name the differing registers, and list it.
 */
async function diagnose(
  popek: PopekApi,
  work: WorkDir,
  index: number,
  qemuLine: string,
  popekLine: string,
): Promise<string> {
  const out = [
    "in the batch (QEMU vs popek):",
    ...compareFields(qemuLine, popekLine, FULL ? FULL_DUMP_FIELDS : HASH_DUMP_FIELDS),
  ];
  if (!FULL) {
    const src = work.file(`single-${index}.S`);
    fs.writeFileSync(src, batchAsm(SEED, index, 1, true));
    const { elfPath, qemu } = await buildAndRunQemu(
      [path.join(RUNTIME_DIR, "random.S"), src],
      work,
      `single-${index}`,
      {
        timeoutMs: QEMU_TIMEOUT_MS,
      },
    );
    const run = runPopek(popek, fs.readFileSync(elfPath), POPEK_LIMIT);
    const diffs = compareFields(qemu.output.split("\n")[0] ?? "", run.output.split("\n")[0] ?? "", FULL_DUMP_FIELDS);
    if (diffs.length > 0) out.push("run alone with a full dump (QEMU vs popek):", ...diffs);
    else {
      out.push(
        "run alone the program agrees (its auipc/jal/jalr values depend on where it sits): rerun with " +
          "POPEK_RANDOM_FULL=1 to see every register in the batch",
      );
    }
  }
  const prog = generateProgram(SEED, index);
  out.push(
    "initial registers (sp and s0 are then set to the scratch buffer):",
    prog.table
      .slice(65)
      .map((v, i) => `${abiName(i + 1)}=${v.toString(16)}`)
      .join(" "),
    `program ${index} (after the setup that loads them):`,
    ...prog.body.map((line) => (line.endsWith(":") ? line : `  ${line}`)),
  );
  return out.join("\n");
}

/** "name: QEMU value vs popek value" for each differing field of two dump lines. */
function compareFields(qemuLine: string, popekLine: string, names: readonly string[]): string[] {
  const q = qemuLine.split(" ").slice(1);
  const p = popekLine.split(" ").slice(1);
  const out: string[] = [];
  for (let i = 0; i < Math.max(q.length, p.length); i++) {
    if (q[i] === p[i]) continue;
    const name = names[i] ?? `field ${i}`;
    const reg = /^x(\d+)$/.exec(name);
    const label = reg ? `${name} (${abiName(Number(reg[1]))})` : name;
    out.push(`  ${label}: QEMU ${q[i] ?? "(missing)"} popek ${p[i] ?? "(missing)"}`);
  }
  return out;
}
