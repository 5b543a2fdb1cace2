/**
 * Driver of the FPU differential test: plans seeded batches of cases, builds one bare-metal program per batch, runs
 * each through one or more Runners (QEMU now; popek's BareMachine once the hart executes F/D: any Runner that turns an
 * ELF into console output plugs in), and checks every result and flag against the library (the Fpu with its fast
 * paths) and against the exact reference (fpu-soft.ts alone). Nothing is cached across runs.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { NX, RM_NAMES } from "../../src/core/cpu/fpu.ts";
import { evalOp, type FpResult } from "../../src/core/cpu/fpu-bits.ts";
import { QEMU, runJob as runIsaJob } from "../isa/harness.ts";
import { operands, Rng } from "./gen.ts";
import {
  allVariants,
  type Case,
  DYN,
  driverSource,
  effectiveRm,
  type Output,
  parseOutput,
  type Variant,
  writeBatch,
} from "./program.ts";
import { refOp } from "./reference.ts";

export { missingTools } from "../isa/harness.ts";

/** Something that runs a bare-metal ELF and returns its console output. */
export interface Runner {
  readonly name: string;
  /**
   * Build with `buildCmd` (an argv producing `elfPath`) if given, then run `elfPath`; resolve to the console output.
   * Runners may run in parallel with each other and with the caller's checking.
   */
  run(buildCmd: readonly string[], elfPath: string, timeoutMs: number): Promise<string>;
}

/** Run argv lists one after another in one shell (isa/harness.ts runJob); resolve to the last one's stdout. */
async function runJob(
  commands: readonly (readonly string[])[],
  stdoutPath: string,
  timeoutMs: number,
): Promise<string> {
  const r = await runIsaJob(commands, stdoutPath, timeoutMs);
  if (r.status === 250) throw new Error(`build failed:\n${r.stderr}`);
  if (r.status !== 0) throw new Error(`exit status ${r.status}${r.timedOut ? " (timed out)" : ""}:\n${r.stderr}`);
  return fs.readFileSync(stdoutPath, "latin1");
}

/** QEMU 7.2 `-M spike -bios none`: console and exit through HTIF. */
export const qemuRunner: Runner = {
  name: "qemu",
  run(buildCmd, elfPath, timeoutMs) {
    const cmds: string[][] = [];
    if (buildCmd.length > 0) cmds.push([...buildCmd]);
    cmds.push([QEMU, "-M", "spike", "-m", "256M", "-bios", "none", "-nographic", "-kernel", elfPath]);
    return runJob(cmds, `${elfPath}.${this.name}.out`, timeoutMs);
  },
};

/**
 * popek's BareMachine (HTIF console and exit, like QEMU's spike machine). Builds with gcc when asked, then runs the
 * ELF in this process under an instruction limit.
 */
export const popekRunner: Runner = {
  name: "popek",
  async run(buildCmd, elfPath, timeoutMs) {
    if (buildCmd.length > 0) await runJob([[...buildCmd], ["true"]], "/dev/null", timeoutMs);
    const { parseElf } = await import("../../src/core/firmware/elf.ts");
    const { BareMachine } = await import("../../src/core/machine/bare.ts");
    const chunks: string[] = [];
    const decoder = new TextDecoder("latin1");
    const m = new BareMachine({ onOutput: (bytes) => chunks.push(decoder.decode(bytes)) });
    m.load(parseElf(new Uint8Array(fs.readFileSync(elfPath))));
    const exit = m.run(4e9);
    const output = chunks.join("");
    if (exit.kind !== "exit" || exit.code !== 0)
      throw new Error(`popek: ${exit.kind === "exit" ? `exit ${exit.code}` : exit.kind}: ${output.slice(-300)}`);
    return output;
  },
};

/** The runners named in POPEK_FPU_RUNNERS (comma-separated: qemu, popek), by default both. */
export function runnersFromEnv(spec = process.env.POPEK_FPU_RUNNERS ?? "qemu,popek"): Runner[] {
  const all: Record<string, Runner> = { qemu: qemuRunner, popek: popekRunner };
  return spec.split(",").map((name) => {
    const r = all[name.trim()];
    if (!r) throw new Error(`POPEK_FPU_RUNNERS: unknown runner ${JSON.stringify(name)} (qemu, popek)`);
    return r;
  });
}

export interface DiffOptions {
  readonly seed: number;
  /** Total number of operations (spread evenly over every operation and rounding mode). */
  readonly total: number;
  readonly batches: number;
  /** Batches running at once. */
  readonly concurrency: number;
  readonly runners: readonly Runner[];
  /** Also check the exact reference (fpu-soft.ts alone) against the runners. */
  readonly checkReference: boolean;
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface Mismatch {
  readonly runner: string;
  /** "library" (the Fpu, from clear flags or with NX accrued) or "reference" (the exact path alone). */
  readonly model: string;
  readonly text: string;
}

export interface DiffReport {
  readonly seed: number;
  readonly operations: number;
  readonly compared: number;
  readonly mismatches: number;
  readonly examples: readonly Mismatch[];
  /** Per operation name: cases and mismatches. */
  readonly perOp: ReadonlyMap<string, { cases: number; bad: number }>;
  readonly ms: { readonly total: number; readonly model: number };
}

/** Plan the cases of a run: every variant gets total / variants cases, in a seeded random order. */
export function planCases(seed: number, total: number, variants: readonly Variant[]): Case[] {
  const r = new Rng(seed);
  const per = Math.ceil(total / variants.length);
  const cases: Case[] = [];
  for (let v = 0; v < variants.length; v++) {
    const op = variants[v]!.op;
    for (let i = 0; i < per; i++) cases.push({ variant: v, frm: r.int(5), srcs: operands(r, op) });
  }
  for (let i = cases.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    const t = cases[i]!;
    cases[i] = cases[j]!;
    cases[j] = t;
  }
  return cases;
}

function hex(v: bigint): string {
  return `0x${v.toString(16).padStart(16, "0")}`;
}

function describe(v: Variant, c: Case, got: Output, want: FpResult, runner: string, model: string): string {
  const rm = v.op.rm ? (v.rm === DYN ? `dyn(frm=${RM_NAMES[c.frm]})` : RM_NAMES[v.rm]) : "-";
  return (
    `${v.op.name} rm=${rm} srcs=[${c.srcs
      .slice(0, v.op.srcs.length)
      .map(hex)
      .join(", ")}]: ${runner} ${hex(got.bits)} flags=${got.flags.toString(2).padStart(5, "0")}, ` +
    `${model} ${hex(want.bits)} flags=${want.flags.toString(2).padStart(5, "0")}`
  );
}

/** Run the differential test and report; throws only on infrastructure failures (build, crash, timeout). */
export async function runDiff(o: DiffOptions): Promise<DiffReport> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const variants = allVariants();
  const cases = planCases(o.seed, o.total, variants);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "popek-fpu-"));
  let modelMs = 0;
  let compared = 0;
  let mismatches = 0;
  const examples: Mismatch[] = [];
  const perOp = new Map<string, { cases: number; bad: number }>();
  try {
    const driver = path.join(work, "driver.S");
    fs.writeFileSync(driver, driverSource(variants));
    const size = Math.ceil(cases.length / o.batches);
    const batches: Case[][] = [];
    for (let i = 0; i < cases.length; i += size) batches.push(cases.slice(i, i + size));

    const check = (batch: readonly Case[], runner: string, outs: readonly Output[]): void => {
      const tm = performance.now();
      for (let i = 0; i < batch.length; i++) {
        const c = batch[i]!;
        const v = variants[c.variant]!;
        const rm = effectiveRm(v, c);
        const got = outs[i]!;
        const stat = perOp.get(v.op.name) ?? { cases: 0, bad: 0 };
        perOp.set(v.op.name, stat);
        stat.cases++;
        // The library twice: from clear flags, and with NX accrued (its fast paths then skip inexactness proofs;
        // QEMU's flags are compared with NX ORed in).
        const models: [string, FpResult, number][] = [
          ["library", evalOp(v.op, c.srcs, rm), 0],
          ["library, NX accrued", evalOp(v.op, c.srcs, rm, NX), NX],
        ];
        if (o.checkReference) models.push(["reference", refOp(v.op, c.srcs, rm), 0]);
        let bad = false;
        for (const [model, want, accrued] of models) {
          compared++;
          if (want.bits === got.bits && want.flags === (got.flags | accrued)) continue;
          bad = true;
          mismatches++;
          if (examples.length < 40) examples.push({ runner, model, text: describe(v, c, got, want, runner, model) });
        }
        if (bad) stat.bad++;
      }
      modelMs += performance.now() - tm;
    };

    let next = 0;
    let failed = false;
    const worker = async (): Promise<void> => {
      for (;;) {
        const k = next++;
        if (k >= batches.length || failed) return;
        const batch = batches[k]!;
        const elf = path.join(work, `batch${k}.elf`);
        const build = writeBatch(work, `batch${k}`, driver, batch, elf);
        for (const [j, runner] of o.runners.entries()) {
          const ts = performance.now();
          const text = await runner.run(j === 0 ? build : [], elf, o.timeoutMs ?? 300_000);
          log(
            `batch ${k}: ${batch.length} cases on ${runner.name} in ${((performance.now() - ts) / 1000).toFixed(1)} s`,
          );
          check(batch, runner.name, parseOutput(text, batch.length));
        }
      }
    };
    // Let every worker finish before the work directory goes, then report the first failure.
    const settled = await Promise.allSettled(
      Array.from({ length: Math.max(1, o.concurrency) }, () =>
        worker().catch((err: unknown) => {
          failed = true;
          throw err;
        }),
      ),
    );
    for (const r of settled) if (r.status === "rejected") throw r.reason;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return {
    seed: o.seed,
    operations: cases.length,
    compared,
    mismatches,
    examples,
    perOp,
    ms: { total: performance.now() - t0, model: modelMs },
  };
}
