/**
 * Differential harness for the ISA tests: builds bare-metal programs with the runtime in tests/isa/runtime, runs them
 * under QEMU 7.2 (`-M spike -bios none`, console and exit through HTIF) and under popek's BareMachine, and compares
 * console output and exit code. Child processes run under coreutils `timeout` and a JS timer; popek under an
 * instruction limit.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ElfImage } from "../../src/core/firmware/elf.ts";
import type { BareExit, BareMachineOptions } from "../../src/core/machine/bare.ts";

export const ISA_DIR = path.dirname(fileURLToPath(import.meta.url));
export const RUNTIME_DIR = path.join(ISA_DIR, "runtime");
export const GCC = "riscv64-unknown-elf-gcc";
export const QEMU = "qemu-system-riscv64";

/** Compiler flags for every test program: bare metal, RV64IMAC + Zicsr + Zifencei, the runtime's linker script. */
export const GCC_FLAGS: readonly string[] = [
  "-nostdlib",
  "-nostartfiles",
  "-march=rv64imac_zicsr_zifencei",
  "-mabi=lp64",
  `-I${RUNTIME_DIR}`,
  `-T${path.join(RUNTIME_DIR, "link.ld")}`,
  "-Wl,--no-warn-rwx-segments",
];

export const QEMU_ARGS: readonly string[] = ["-M", "spike", "-bios", "none", "-nographic"];

/** The reason the tools are unusable, or undefined when gcc and QEMU both run. */
export function missingTools(): string | undefined {
  for (const tool of [GCC, QEMU]) {
    const r = spawnSync(tool, ["--version"], { stdio: "ignore", timeout: 10_000 });
    if (r.error || r.status !== 0)
      return `${tool} is not installed (apt-get install gcc-riscv64-unknown-elf qemu-system-misc)`;
  }
  return undefined;
}

/** A temporary directory under os.tmpdir(), removed by `remove()`. */
export class WorkDir {
  readonly path: string;

  constructor(prefix = "popek-isa-") {
    this.path = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  }

  file(name: string): string {
    return path.join(this.path, name);
  }

  remove(): void {
    fs.rmSync(this.path, { recursive: true, force: true });
  }
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/** What a job of child processes produced. */
export interface JobResult {
  /** Exit status of the last command (QEMU's is the guest's HTIF exit code); null if killed. */
  readonly status: number | null;
  readonly timedOut: boolean;
  readonly stderr: string;
}

/** Process groups of the jobs still running. */
const running = new Set<number>();

/** Kill every job still running (each is a process group this module started). */
export function stopJobs(): void {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  running.clear();
}

/**
 * Run `commands` one after another in one shell (each under `timeout`), the last one's stdout going to `stdoutPath`.
 * One process group per job, so it keeps going while the event loop is busy running popek, and a stuck job is
 * killed as a whole.
 */
export function runJob(
  commands: readonly (readonly string[])[],
  stdoutPath: string,
  timeoutMs: number,
): Promise<JobResult> {
  const secs = Math.max(1, Math.ceil(timeoutMs / 1000));
  const parts = commands.map((argv, i) => {
    const cmd = ["timeout", "--signal=KILL", String(secs), ...argv].map(shellQuote).join(" ");
    return i === commands.length - 1 ? `exec ${cmd} > ${shellQuote(stdoutPath)}` : `${cmd} || exit 250`;
  });
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", parts.join("\n")], { stdio: ["ignore", "ignore", "pipe"], detached: true });
    if (child.pid !== undefined) running.add(child.pid);
    let stderr = "";
    let timedOut = false;
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => {
      if (stderr.length < 1 << 16) stderr += s;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    }, timeoutMs + 5000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (status) => {
      clearTimeout(timer);
      if (child.pid !== undefined) running.delete(child.pid);
      // timeout --signal=KILL reports 137 for a command it had to kill.
      resolve({ status, timedOut: timedOut || status === 137, stderr });
    });
  });
}

export interface QemuRun {
  readonly output: string;
  /** The guest's HTIF exit code, or null when QEMU was killed. */
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly stderr: string;
}

/** The command line that runs `elfPath` under QEMU, with `extra` options (e.g. -icount). */
export function qemuCommand(elfPath: string, extra: readonly string[] = []): string[] {
  return [QEMU, ...QEMU_ARGS, ...extra, "-kernel", elfPath];
}

/** Build `sources` and run them under QEMU in one job; output goes through a file, never a pipe. */
export async function buildAndRunQemu(
  sources: readonly string[],
  work: WorkDir,
  name: string,
  opts: { readonly qemuArgs?: readonly string[]; readonly timeoutMs?: number } = {},
): Promise<{ readonly elfPath: string; readonly qemu: QemuRun }> {
  const elfPath = work.file(`${name}.elf`);
  const outPath = work.file(`${name}.qemu.out`);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const r = await runJob(
    [
      [GCC, ...GCC_FLAGS, path.join(RUNTIME_DIR, "crt.S"), ...sources, "-o", elfPath],
      qemuCommand(elfPath, opts.qemuArgs),
    ],
    outPath,
    timeoutMs,
  );
  if (r.status === 250) throw new Error(`${GCC} failed for ${name}:\n${r.stderr}`);
  const output = fs.existsSync(outPath) ? fs.readFileSync(outPath, "latin1") : "";
  return { elfPath, qemu: { output, code: r.timedOut ? null : r.status, timedOut: r.timedOut, stderr: r.stderr } };
}

/** popek's two entry points the harness needs, loaded lazily so that a missing implementation is a skip. */
export interface PopekApi {
  parseElf(bytes: Uint8Array): ElfImage;
  BareMachine: new (
    opts: BareMachineOptions,
  ) => { load(elf: ElfImage): void; run(limit?: number): BareExit; readonly instret: bigint };
}

/**
 * Load popek's ELF parser and bare machine. Returns a reason instead when they are still the interface stubs (a
 * declared class, or a parser that says it is not implemented); any other failure is thrown, since it is a bug.
 */
export async function loadPopek(probeElf: Uint8Array): Promise<PopekApi | string> {
  const elf = await import("../../src/core/firmware/elf.ts");
  const bare = await import("../../src/core/machine/bare.ts");
  if (typeof bare.BareMachine !== "function") return "popek's BareMachine is not implemented yet (interface stub)";
  try {
    elf.parseElf(probeElf);
  } catch (err) {
    if (err instanceof Error && /not implemented/i.test(err.message)) return `popek's parseElf: ${err.message}`;
    throw err;
  }
  return { parseElf: elf.parseElf, BareMachine: bare.BareMachine };
}

export interface PopekRun {
  readonly output: string;
  readonly exit: BareExit;
  readonly instret: bigint;
  readonly ms: number;
}

/** Run an ELF under popek's BareMachine for at most `limit` instructions. */
export function runPopek(api: PopekApi, elfBytes: Uint8Array, limit: number): PopekRun {
  const chunks: string[] = [];
  const decoder = new TextDecoder("latin1");
  const m = new api.BareMachine({ onOutput: (bytes) => chunks.push(decoder.decode(bytes)) });
  const start = performance.now();
  m.load(api.parseElf(elfBytes));
  const exit = m.run(limit);
  return { output: chunks.join(""), exit, instret: m.instret, ms: performance.now() - start };
}

/** Describe an exit for messages: "exit 0", "instruction limit", "wfi", or QEMU's "killed after timeout". */
export function describeExit(exit: BareExit): string {
  return exit.kind === "exit" ? `exit ${exit.code}` : exit.kind === "limit" ? "instruction limit reached" : exit.kind;
}

/**
 * The first line where `actual` differs from `expected`, with context, or undefined when they are equal.
 * `label` names the two sides (e.g. "QEMU" and "popek").
 */
export function firstDifference(
  expected: string,
  actual: string,
  labels: readonly [string, string],
): string | undefined {
  if (expected === actual) return undefined;
  const a = expected.split("\n");
  const b = actual.split("\n");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const context = a.slice(Math.max(0, i - 3), i).map((l) => `    ${l}`);
  return [
    `output differs at line ${i + 1}:`,
    ...(context.length > 0 ? ["  after:", ...context] : []),
    `  ${labels[0]}: ${i < a.length ? JSON.stringify(a[i]) : "(end of output)"}`,
    `  ${labels[1]}: ${i < b.length ? JSON.stringify(b[i]) : "(end of output)"}`,
  ].join("\n");
}

/** A check that a machine is known to fail, with the rule it breaks. */
export interface KnownFailure {
  readonly test: string;
  readonly check: RegExp;
  readonly reason: string;
}

/**
 * Checks where QEMU 7.2 departs from the RISC-V specification. The directed tests assert the specification; for
 * these checks the harness expects QEMU to print FAIL and takes "ok" as the reference. An entry that QEMU no longer
 * triggers fails the QEMU side of its test, so the list stays true.
 */
export const QEMU_DEVIATIONS: readonly KnownFailure[] = [
  {
    test: "atomic",
    check: /^amo\w+\.[wd] misaligned by \d traps$/,
    reason:
      "a misaligned AMO must raise a store/AMO address-misaligned exception (cause 6; unprivileged spec 8.4, " +
      "privileged spec table 3.6); QEMU 7.2 raises a load address-misaligned exception (cause 4)",
  },
  {
    test: "atomic",
    check: /^sc\.[wd] misaligned traps$/,
    reason:
      "a misaligned SC must raise an address-misaligned (or access-fault) exception (unprivileged spec 8.2); " +
      "QEMU 7.2 checks the reservation first and, finding none at that address, fails the SC without trapping",
  },
  {
    test: "traps",
    check: /^mepc bit 0 reads 0$/,
    reason: "mepc[0] is always zero (privileged spec 3.1.14); QEMU 7.2 keeps bit 0 of a value written by csrw",
  },
  {
    test: "counters",
    check: /^minstret across an illegal instruction \+ handler: 5 \(it does not retire\)$/,
    reason:
      "an instruction that raises an exception does not retire (privileged spec 3.3.1, 3.1.11); QEMU 7.2 with " +
      "-icount counts it in minstret",
  },
];

/**
 * Checks popek fails today, each an open bug, so that the rest of its test still guards against regressions. An
 * entry that popek passes again fails its test: delete the entry with the fix.
 */
export const POPEK_KNOWN_FAILURES: readonly KnownFailure[] = [];

const FAIL_LINE = /^FAIL (.*?): (got [0-9a-f]{16} want [0-9a-f]{16}|traps [0-9a-f]{16} mcause .*)$/;
const SUMMARY_LINE = /^summary: \d+ ok, \d+ failed$/;

/** A test's output with its known failures counted as passes. */
export interface Accepted {
  readonly output: string;
  readonly code: number;
  /** Names of the checks that failed as known. */
  readonly applied: readonly string[];
  /** Known failures listed for this test that did not occur. */
  readonly unused: readonly KnownFailure[];
}

/**
 * Rewrite `output` (and the exit `code`) as if the known failures of `test` in `known` had passed: their FAIL lines
 * become "ok NAME" and the summary line is recounted.
 */
export function acceptKnownFailures(
  test: string,
  output: string,
  code: number,
  known: readonly KnownFailure[],
): Accepted {
  const entries = known.filter((d) => d.test === test);
  const used = new Set<KnownFailure>();
  const applied: string[] = [];
  const lines = output.split("\n").map((line) => {
    const m = FAIL_LINE.exec(line);
    if (!m) return line;
    const name = m[1]!;
    const d = entries.find((e) => e.check.test(name));
    if (!d) return line;
    used.add(d);
    applied.push(name);
    return `ok ${name}`;
  });
  let ok = 0;
  let failed = 0;
  for (const line of lines) {
    if (line.startsWith("ok ")) ok++;
    else if (line.startsWith("FAIL ")) failed++;
  }
  let newCode = code;
  const fixed = lines.map((line) => {
    if (applied.length === 0 || !SUMMARY_LINE.test(line)) return line;
    newCode = failed === 0 && ok > 0 ? 0 : 1;
    return `summary: ${ok} ok, ${failed} failed`;
  });
  return { output: fixed.join("\n"), code: newCode, applied, unused: entries.filter((e) => !used.has(e)) };
}

/** Lines starting with FAIL, for messages. */
export function failLines(output: string): string[] {
  return output.split("\n").filter((l) => l.startsWith("FAIL") || l.startsWith("FATAL"));
}

/**
 * Assert that popek's `run` of directed test `test` printed what QEMU printed, each side with its known failures
 * accepted (`deviations` QEMU's, `known` popek's, named `knownName` in messages): the same lines, no entry of `known`
 * that no longer fails, an exit (not a limit) with QEMU's exit code.
 */
export function assertSameAsQemu(
  ctx: { diagnostic(message: string): void },
  test: string,
  qemu: QemuRun,
  run: PopekRun,
  deviations: readonly KnownFailure[],
  known: readonly KnownFailure[],
  knownName: string,
): void {
  const exp = acceptKnownFailures(test, qemu.output, qemu.code ?? -1, deviations);
  ctx.diagnostic(`popek: ${describeExit(run.exit)}, ${run.instret} instructions in ${run.ms.toFixed(0)} ms`);
  const got = acceptKnownFailures(test, run.output, run.exit.kind === "exit" ? run.exit.code : -1, known);
  for (const name of got.applied) ctx.diagnostic(`known popek failure (${knownName}): ${name}`);
  const diff = firstDifference(exp.output, got.output, ["expected (QEMU)", "popek"]);
  const fails = failLines(got.output);
  assert.equal(
    diff,
    undefined,
    `${diff}\n${fails.length} failing checks under popek:\n${fails.slice(0, 40).join("\n")}`,
  );
  assert.deepEqual(
    got.unused.map((d) => d.check.source),
    [],
    `popek now passes these known failures: remove them from ${knownName}`,
  );
  assert.equal(run.exit.kind, "exit", `popek: ${describeExit(run.exit)}`);
  assert.equal(got.code, exp.code, "exit code");
}

/**
 * Assert that QEMU ran directed test `test` to a clean exit with every check passing, its known deviations
 * (`deviations`, named `listName` in messages) aside, and that each listed deviation still occurs.
 */
export function assertQemuPasses(
  test: string,
  qemu: QemuRun,
  deviations: readonly KnownFailure[],
  listName: string,
): void {
  assert.equal(qemu.timedOut, false, `QEMU timed out\n${qemu.output.slice(-2000)}`);
  assert.notEqual(qemu.code, null);
  const exp = acceptKnownFailures(test, qemu.output, qemu.code!, deviations);
  assert.deepEqual(
    exp.unused.map((d) => d.check.source),
    [],
    `QEMU no longer shows these listed deviations: remove them from ${listName}`,
  );
  assert.equal(
    exp.code,
    0,
    `QEMU exit ${qemu.code}; failing checks:\n${failLines(exp.output).join("\n")}\n${qemu.stderr}`,
  );
  assert.match(exp.output, /^summary: \d+ ok, 0 failed$/m);
}
