/**
 * `npm run bench`: builds the C workloads in bench/workloads, runs each under QEMU (`-M spike`, a separate process,
 * wall time around the process) and under popek's BareMachine in this process, asserts both print the same checksum,
 * and prints guest instructions, wall times, MIPS and the popek/QEMU time ratio. Budgets: docs/spec.md.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type * as ElfModule from "../src/core/firmware/elf.ts";
import type * as BareModule from "../src/core/machine/bare.ts";
import { bootBench, bootTable } from "./boot.ts";
import { diskBench, diskTable } from "./disk.ts";
import { netBench, netTable } from "./net.ts";

/** The workloads, in table order; each is bench/workloads/<name>.c plus the shared crt. */
const WORKLOADS: readonly { readonly name: string; readonly what: string; readonly fp?: true }[] = [
  { name: "sieve", what: "sieve of Eratosthenes to 2^20, byte array" },
  { name: "crc32", what: "CRC-32 bitwise and table-driven, 64 KiB buffer" },
  { name: "matmul", what: "96x96 matrix multiply, 64-bit integers" },
  { name: "sort", what: "quicksort and merge sort, 100 000 64-bit keys" },
  { name: "sha256", what: "SHA-256 over a 16 KiB buffer" },
  { name: "interp", what: "bytecode interpreter: recursive fib, Collatz loop" },
  { name: "nbody", what: "n-body, 32 bodies, double precision (fsqrt, fdiv, fmadd)", fp: true },
  { name: "matmulf", what: "80x80 single-precision matrix multiply (fmadd.s), double normalisation", fp: true },
];

const CC = "riscv64-unknown-elf-gcc";
/** Integer workloads are built for RV64IMAC; the floating-point ones (`fp`) for RV64GC with the double-float ABI. */
const ISA_FLAGS = ["-march=rv64imac_zicsr", "-mabi=lp64"];
const FP_ISA_FLAGS = ["-march=rv64gc", "-mabi=lp64d", "-fno-math-errno"]; // sqrt as fsqrt, no libm call
const CFLAGS = [
  "-O2",
  "-mcmodel=medany", // code and data live at 0x8000_0000, out of reach of the default medlow model (±2 GiB around 0)
  "-nostdlib",
  "-nostartfiles",
  "-Wall",
  "-Wextra",
  "-Werror",
];
const QEMU = "qemu-system-riscv64";
const QEMU_ARGS = ["-M", "spike", "-bios", "none", "-nographic"];
/** A guest that has not exited after this long under QEMU is hung (every workload takes well under a second). */
const QEMU_TIMEOUT_MS = 120_000;

const WORKLOAD_DIR = new URL("./workloads/", import.meta.url).pathname;

/** A benchmark setup problem (missing tool, failed build, wrong output); `code` says which. */
class BenchError extends Error {
  readonly code: "TOOL_MISSING" | "BUILD_FAILED" | "GUEST_FAILED" | "CHECKSUM_MISMATCH" | "BAD_ARGS";
  constructor(code: BenchError["code"], message: string) {
    super(message);
    this.name = "BenchError";
    this.code = code;
  }
}

interface Options {
  readonly filter: readonly string[];
  readonly scale: number;
  readonly runs: number;
  readonly json: string | undefined;
  readonly qemu: boolean;
  readonly popek: boolean;
  /** Boot-to-prompt and idle CPU of a Linux guest (bench/boot.ts). */
  readonly boot: boolean;
  /** guest<->host TCP throughput over user-mode networking (bench/net.ts). */
  readonly net: boolean;
  /** virtio-blk sequential write and read (bench/disk.ts). */
  readonly disk: boolean;
  /** The process VM against qemu-riscv64 (bench/uvm/run.ts). */
  readonly uvm: boolean;
}

function parseArgsStrict() {
  return parseArgs({
    options: {
      filter: { type: "string", multiple: true },
      scale: { type: "string", default: "1" },
      runs: { type: "string", default: "3" },
      json: { type: "string" },
      "no-qemu": { type: "boolean", default: false },
      "no-popek": { type: "boolean", default: false },
      "no-boot": { type: "boolean", default: false },
      "no-net": { type: "boolean", default: false },
      "no-uvm": { type: "boolean", default: false },
      "no-disk": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

function parseOptions(): Options {
  let parsed: ReturnType<typeof parseArgsStrict>;
  try {
    parsed = parseArgsStrict();
  } catch (e) {
    throw new BenchError("BAD_ARGS", `${(e as Error).message} (try --help)`);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(
      [
        "usage: node bench/run.ts [--filter NAME]... [--scale X] [--runs N] [--json FILE] [--no-qemu] [--no-popek] [--no-boot] [--no-net]",
        "  --filter NAME  run only workloads whose name contains NAME (repeatable, or comma-separated); `boot` names",
        "                 the Linux boot benchmark",
        "  --scale X      multiply every workload's size by X (default 1: about 400 M instructions each)",
        "  --runs N       timed runs per workload and emulator; the median is reported (default 3)",
        "  --json FILE    also write every measurement to FILE",
        "  --no-qemu      skip QEMU (no checksum cross-check, no instruction limit for popek)",
        "  --no-popek     skip popek",
        "  --no-boot      skip the Linux boot benchmark (boot to prompt and idle CPU, QEMU and popek; image from",
        "                 $POPEK_IMAGES or ../shared/images)",
        "  --no-net       skip the network benchmark (guest<->host TCP over user-mode networking, QEMU and popek;",
        "                 `net` as a --filter selects it)",
        "  --no-disk      skip the disk benchmark (virtio-blk sequential write and read, QEMU and popek; `disk`",
        "                 as a --filter selects it)",
        "  --no-uvm       skip the process VM benchmark (the integer workloads as Linux programs under popek exec and",
        "                 qemu-riscv64, and hello-world start-up; `uvm` as a --filter selects it)",
        "workloads:",
        ...WORKLOADS.map((w) => `  ${w.name.padEnd(8)} ${w.what}`),
      ].join("\n"),
    );
    process.exit(0);
  }
  const scale = Number(values.scale);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new BenchError("BAD_ARGS", `--scale must be > 0: ${values.scale}`);
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new BenchError("BAD_ARGS", `--runs must be an integer >= 1`);
  const filter = (values.filter ?? []).flatMap((f) => f.split(",")).filter((f) => f !== "");
  const boot = !values["no-boot"] && (filter.length === 0 || filter.some((f) => "boot".includes(f)));
  const net = !values["no-net"] && (filter.length === 0 || filter.some((f) => "net".includes(f)));
  const disk = !values["no-disk"] && (filter.length === 0 || filter.some((f) => "disk".includes(f)));
  const uvm = !values["no-uvm"] && (filter.length === 0 || filter.some((f) => "uvm".includes(f)));
  return {
    filter,
    scale,
    runs,
    json: values.json,
    qemu: !values["no-qemu"],
    popek: !values["no-popek"],
    boot,
    net,
    disk,
    uvm,
  };
}

/** What a guest printed: its checksum line and the minstret difference it measured around the workload. */
interface GuestReport {
  readonly checksum: string;
  readonly instret: number;
}

function parseGuestOutput(name: string, who: string, text: string): GuestReport {
  const checksum = /^checksum: (0x[0-9a-f]{16})$/m.exec(text)?.[1];
  const instret = /^instret: (\d+)$/m.exec(text)?.[1];
  if (checksum === undefined || instret === undefined) {
    throw new BenchError("GUEST_FAILED", `${name} under ${who} printed no checksum; output:\n${text}`);
  }
  return { checksum, instret: Number(instret) };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function run(cmd: string, args: readonly string[], timeout?: number) {
  return spawnSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout });
}

function toolVersion(cmd: string): string {
  const r = run(cmd, ["--version"]);
  if (r.error !== undefined || r.status !== 0) {
    throw new BenchError("TOOL_MISSING", `${cmd} not found or not working (${r.error?.message ?? r.stderr})`);
  }
  return r.stdout.split("\n")[0]!.trim();
}

/** Compile one workload (or an inline source) with the shared crt and linker script; returns the ELF path. */
function build(dir: string, name: string, source: string, scale: number, fp = false): string {
  const out = join(dir, `${name}.elf`);
  const args = [
    ...(fp ? FP_ISA_FLAGS : ISA_FLAGS),
    ...CFLAGS,
    `-DSCALE_PERMILLE=${Math.max(1, Math.round(scale * 1000))}`,
    `-I${WORKLOAD_DIR}`,
    "-T",
    join(WORKLOAD_DIR, "common/link.ld"),
    "-o",
    out,
    join(WORKLOAD_DIR, "common/crt.S"),
    source,
  ];
  const r = run(CC, args);
  if (r.status !== 0) throw new BenchError("BUILD_FAILED", `${CC} ${args.join(" ")}\n${r.stderr}`);
  return out;
}

/** One QEMU process, timed from spawn to exit. `icount` makes minstret count instructions exactly (and runs slower). */
function runQemu(name: string, elf: string, icount: boolean): { report: GuestReport; seconds: number } {
  const args = [...QEMU_ARGS, ...(icount ? ["-icount", "shift=0"] : []), "-kernel", elf];
  const t0 = process.hrtime.bigint();
  const r = run(QEMU, args, QEMU_TIMEOUT_MS);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) {
    const why = r.error?.message ?? `exit status ${r.status} signal ${r.signal}`;
    throw new BenchError("GUEST_FAILED", `${name} under QEMU failed (${why}); output:\n${r.stdout}${r.stderr}`);
  }
  return { report: parseGuestOutput(name, "QEMU", r.stdout), seconds };
}

interface Popek {
  readonly parseElf: typeof ElfModule.parseElf;
  readonly BareMachine: typeof BareModule.BareMachine;
}

/** Load popek's ELF parser and bare machine, or say why they cannot run yet (they start life as stubs). */
async function loadPopek(probe: Uint8Array): Promise<Popek | string> {
  const elf: typeof ElfModule = await import("../src/core/firmware/elf.ts");
  const bare: typeof BareModule = await import("../src/core/machine/bare.ts");
  if (typeof bare.BareMachine !== "function") return "src/core/machine/bare.ts does not export BareMachine yet";
  try {
    elf.parseElf(probe);
  } catch (e) {
    if (e instanceof elf.LoadError && /not implemented/.test(e.message)) return `parseElf: ${e.message}`;
    throw e;
  }
  return { parseElf: elf.parseElf, BareMachine: bare.BareMachine };
}

/** One popek run in this process, timed from machine construction to exit (as QEMU's time includes its start-up). */
function runPopek(
  popek: Popek,
  name: string,
  elfBytes: Uint8Array,
  limit: number | undefined,
): { report: GuestReport; seconds: number; instret: number } {
  const image = popek.parseElf(elfBytes);
  const chunks: Uint8Array[] = [];
  const t0 = process.hrtime.bigint();
  const m = new popek.BareMachine({ onOutput: (bytes) => chunks.push(bytes.slice()) });
  m.load(image);
  const exit = limit === undefined ? m.run() : m.run(limit);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const text = Buffer.concat(chunks).toString("latin1");
  if (exit.kind !== "exit" || exit.code !== 0) {
    const why = exit.kind === "exit" ? `exit code ${exit.code}` : `no exit after ${limit} instructions`;
    throw new BenchError("GUEST_FAILED", `${name} under popek failed (${why}); output:\n${text}`);
  }
  return { report: parseGuestOutput(name, "popek", text), seconds, instret: Number(m.instret) };
}

interface Measurement {
  readonly seconds: readonly number[];
  readonly median: number;
  readonly best: number;
}

function measurement(seconds: readonly number[]): Measurement {
  return { seconds, median: median(seconds), best: Math.min(...seconds) };
}

interface Result {
  readonly name: string;
  readonly checksum: string;
  /** Instructions retired over the whole run, from popek's minstret (undefined when popek did not run). */
  readonly popekInstret: number | undefined;
  /** Instructions the guest counted across its workload (minstret difference), under QEMU -icount and under popek. */
  readonly guestInstretQemu: number | undefined;
  readonly guestInstretPopek: number | undefined;
  readonly qemu: Measurement | undefined;
  readonly popek: Measurement | undefined;
}

function hostInfo() {
  let cpu = cpus()[0]?.model ?? "unknown";
  try {
    const info = readFileSync("/proc/cpuinfo", "utf8");
    const field = (k: string) => new RegExp(`^${k}\\s*: (.*)$`, "m").exec(info)?.[1];
    cpu = `${field("model name") ?? cpu} (family ${field("cpu family")}, model ${field("model")})`;
  } catch {
    // not Linux: os.cpus() is all there is
  }
  return { cpu, nproc: cpus().length, node: process.version };
}

/** The commit being measured, marked dirty when tracked files in src/ differ from it (the numbers then describe no commit). */
function sourceRevision(): string {
  const head = run("git", ["rev-parse", "--short", "HEAD"]);
  if (head.status !== 0) return "unknown";
  const dirty = run("git", ["status", "--porcelain", "--untracked-files=no", "--", "src"]).stdout.trim() !== "";
  return `${head.stdout.trim()}${dirty ? " + uncommitted changes in src/" : ""}`;
}

const fmt = (x: number, digits: number) => x.toFixed(digits);
const NOT_MEASURED = "not yet measured";
/** QEMU's rate once its process start-up is taken out; meaningless when the run is not much longer than start-up. */
const netMips = (instr: number, seconds: number) => (seconds > 0.02 ? fmt(instr / seconds / 1e6, 0) : "n/a");

function table(results: readonly Result[], qemuStartup: number | undefined, popekNote: string | undefined): string {
  const rows: string[][] = [
    [
      "workload",
      "guest instr (M)",
      "popek time (s)",
      "popek MIPS",
      "popek MIPS, best run",
      "QEMU time (s)",
      "QEMU MIPS",
      "QEMU MIPS net of start-up",
      "popek/QEMU time",
    ],
  ];
  let totalInstr = 0;
  let totalPopek = 0;
  let totalPopekBest = 0;
  let totalQemu = 0;
  let logRatio = 0;
  let complete = true;
  for (const r of results) {
    // MIPS uses popek's instruction count; before popek runs, the guest's own count under QEMU -icount stands in.
    const instr = r.popekInstret ?? r.guestInstretQemu;
    const instrCell = instr === undefined ? "?" : fmt(instr / 1e6, 1) + (r.popekInstret === undefined ? "*" : "");
    const p = r.popek?.median;
    const q = r.qemu?.median;
    rows.push([
      r.name,
      instrCell,
      p === undefined ? NOT_MEASURED : fmt(p, 3),
      p === undefined || instr === undefined ? NOT_MEASURED : fmt(instr / p / 1e6, 1),
      r.popek === undefined || instr === undefined ? NOT_MEASURED : fmt(instr / r.popek.best / 1e6, 1),
      q === undefined ? "-" : fmt(q, 3),
      q === undefined || instr === undefined ? "-" : fmt(instr / q / 1e6, 0),
      q === undefined || instr === undefined || qemuStartup === undefined ? "-" : netMips(instr, q - qemuStartup),
      p === undefined || q === undefined ? "-" : fmt(p / q, 1),
    ]);
    if (instr === undefined || p === undefined || q === undefined) complete = false;
    else {
      totalInstr += instr;
      totalPopek += p;
      totalPopekBest += r.popek!.best;
      totalQemu += q;
      logRatio += Math.log(p / q);
    }
  }
  if (complete && results.length > 1) {
    rows.push([
      "**total** (ratio: geomean)",
      fmt(totalInstr / 1e6, 1),
      fmt(totalPopek, 3),
      fmt(totalInstr / totalPopek / 1e6, 1),
      fmt(totalInstr / totalPopekBest / 1e6, 1),
      fmt(totalQemu, 3),
      fmt(totalInstr / totalQemu / 1e6, 0),
      qemuStartup === undefined ? "-" : netMips(totalInstr, totalQemu - results.length * qemuStartup),
      fmt(Math.exp(logRatio / results.length), 1),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    `| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(" | ")} |`;
  const sep = `|${widths.map((w, c) => (c === 0 ? `${"-".repeat(w + 1)}-` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  const out = [line(rows[0]!), sep, ...rows.slice(1).map(line)];
  if (results.some((r) => r.popekInstret === undefined && r.guestInstretQemu !== undefined)) {
    out.push(
      "",
      "\\* instructions counted by the guest under QEMU -icount (popek's count replaces it once popek runs)",
    );
  }
  if (popekNote !== undefined) out.push("", `popek: ${popekNote}`);
  return out.join("\n");
}

/** popek's MIPS over the integer and over the floating-point workloads (issue 3's budget: FP within 3x of integer). */
function fpSummary(results: readonly Result[]): string {
  const rate = (fp: boolean) => {
    let instr = 0;
    let time = 0;
    for (const r of results) {
      const w = WORKLOADS.find((w) => w.name === r.name);
      if ((w?.fp === true) !== fp || r.popekInstret === undefined || r.popek === undefined) continue;
      instr += r.popekInstret;
      time += r.popek.median;
    }
    return time > 0 ? instr / time / 1e6 : undefined;
  };
  const int = rate(false);
  const fp = rate(true);
  if (int === undefined || fp === undefined) return "";
  return `\n\npopek MIPS: integer workloads ${fmt(int, 1)}, floating-point workloads ${fmt(fp, 1)} (integer/FP ${fmt(int / fp, 2)})`;
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const selected = WORKLOADS.filter((w) => opts.filter.length === 0 || opts.filter.some((f) => w.name.includes(f)));
  if (selected.length === 0 && !opts.boot && !opts.net && !opts.disk && !opts.uvm) {
    throw new BenchError("BAD_ARGS", `no workload matches --filter ${opts.filter.join(",")}`);
  }

  const gcc = toolVersion(CC);
  const qemuVersion = opts.qemu ? toolVersion(QEMU) : undefined;
  const host = hostInfo();
  const revision = sourceRevision();
  const date = new Date().toISOString();
  // Other work on the host skews every time here; the load average at both ends says how much there was.
  const loadStart = loadavg()[0]!;
  const log = (s: string) => process.stderr.write(`${s}\n`);

  const dir = await mkdtemp(join(tmpdir(), "popek-bench-"));
  try {
    log(`building ${selected.length} workloads (scale ${opts.scale}) in ${dir}`);
    const elfs = new Map(
      selected.map((w) => [w.name, build(dir, w.name, join(WORKLOAD_DIR, `${w.name}.c`), opts.scale, w.fp)]),
    );
    // An empty guest shows how much of each QEMU time is process start-up and teardown.
    const emptySrc = join(dir, "empty.c");
    await writeFile(emptySrc, '#include "common/bench.h"\nu64 workload(void) { return 0; }\n');
    const emptyElf = build(dir, "empty", emptySrc, 1);

    let popek: Popek | undefined;
    let popekNote: string | undefined;
    if (opts.popek) {
      const loaded = await loadPopek(await readFile(emptyElf));
      if (typeof loaded === "string") {
        popekNote = `${NOT_MEASURED} (${loaded})`;
        log(`popek unavailable: ${loaded}`);
      } else popek = loaded;
    } else popekNote = `${NOT_MEASURED} (--no-popek)`;

    let qemuStartup: number | undefined;
    if (opts.qemu) {
      qemuStartup = median(
        Array.from({ length: Math.max(3, opts.runs) }, () => runQemu("empty", emptyElf, false).seconds),
      );
      log(`QEMU start-up and exit of an empty guest: ${fmt(qemuStartup * 1000, 0)} ms`);
    }

    const results: Result[] = [];
    for (const w of selected) {
      const elf = elfs.get(w.name)!;
      const bytes = new Uint8Array(await readFile(elf));
      let checksum: string | undefined;
      const agree = (who: string, report: GuestReport) => {
        if (checksum === undefined) checksum = report.checksum;
        else if (report.checksum !== checksum) {
          throw new BenchError(
            "CHECKSUM_MISMATCH",
            `${w.name}: ${who} printed ${report.checksum}, expected ${checksum}`,
          );
        }
      };

      let guestInstretQemu: number | undefined;
      let qemu: Measurement | undefined;
      if (opts.qemu) {
        const counted = runQemu(w.name, elf, true).report;
        agree("QEMU -icount", counted);
        guestInstretQemu = counted.instret;
        const times: number[] = [];
        for (let i = 0; i < opts.runs; i++) {
          const r = runQemu(w.name, elf, false);
          agree("QEMU", r.report);
          times.push(r.seconds);
          log(`${w.name}: QEMU run ${i + 1}/${opts.runs}: ${fmt(r.seconds, 3)} s`);
        }
        qemu = measurement(times);
      }

      let popekInstret: number | undefined;
      let guestInstretPopek: number | undefined;
      let popekM: Measurement | undefined;
      if (popek !== undefined) {
        // A guest that retires 4x the instructions it needed under QEMU is lost (a popek bug), not slow.
        const limit = guestInstretQemu === undefined ? undefined : guestInstretQemu * 4 + 10_000_000;
        const times: number[] = [];
        for (let i = 0; i < opts.runs; i++) {
          const r = runPopek(popek, w.name, bytes, limit);
          agree("popek", r.report);
          times.push(r.seconds);
          popekInstret = r.instret;
          guestInstretPopek = r.report.instret;
          log(
            `${w.name}: popek run ${i + 1}/${opts.runs}: ${fmt(r.seconds, 3)} s, ${fmt(r.instret / r.seconds / 1e6, 1)} MIPS`,
          );
        }
        popekM = measurement(times);
        if (guestInstretQemu !== undefined && guestInstretPopek !== guestInstretQemu) {
          log(
            `WARNING ${w.name}: guest-counted instructions differ: popek ${guestInstretPopek}, QEMU ${guestInstretQemu}`,
          );
        }
      }
      results.push({
        name: w.name,
        checksum: checksum!,
        popekInstret,
        guestInstretQemu,
        guestInstretPopek,
        qemu,
        popek: popekM,
      });
    }

    const loadEnd = loadavg()[0]!;
    const header = [
      `date: ${date}`,
      `popek: ${revision}`,
      `host: ${host.cpu}, ${host.nproc} CPUs, Node ${host.node}; load average ${fmt(loadStart, 2)} at start, ${fmt(loadEnd, 2)} at end`,
      `QEMU: ${qemuVersion ?? "not run"}${qemuStartup === undefined ? "" : `, start-up+exit of an empty guest ${fmt(qemuStartup * 1000, 0)} ms (included in QEMU times)`}`,
      `gcc: ${gcc}`,
      `scale ${opts.scale}, median of ${opts.runs} run(s); MIPS = guest instructions / wall time`,
    ];
    const tables: string[] = [];
    if (results.length > 0) tables.push(`${table(results, qemuStartup, popekNote)}${fpSummary(results)}`);
    let boot: Awaited<ReturnType<typeof bootBench>> | undefined;
    if (opts.boot && opts.qemu && opts.popek) {
      const images = process.env.POPEK_IMAGES ?? join(new URL("../", import.meta.url).pathname, "../shared/images");
      boot = await bootBench(images, opts.runs, log);
      tables.push(typeof boot === "string" ? `boot: not measured (${boot})` : bootTable(boot));
    }
    let net: Awaited<ReturnType<typeof netBench>> | undefined;
    if (opts.net && opts.qemu && opts.popek) {
      const images = process.env.POPEK_IMAGES ?? join(new URL("../", import.meta.url).pathname, "../shared/images");
      net = await netBench(images, opts.runs, log);
      tables.push(typeof net === "string" ? `net: not measured (${net})` : netTable(net));
    }
    let disk: Awaited<ReturnType<typeof diskBench>> | undefined;
    if (opts.disk && opts.qemu && opts.popek) {
      const images = process.env.POPEK_IMAGES ?? join(new URL("../", import.meta.url).pathname, "../shared/images");
      disk = await diskBench(images, opts.runs, log);
      tables.push(typeof disk === "string" ? `disk: not measured (${disk})` : diskTable(disk));
    }
    if (opts.uvm && opts.qemu && opts.popek) {
      // The process VM against qemu-riscv64 (bench/uvm/run.ts, also `npm run bench:uvm`), in its own process.
      log("uvm: the integer workloads as Linux programs under popek exec's ProcessVm and qemu-riscv64");
      const uvmRun = run(process.execPath, [
        new URL("./uvm/run.ts", import.meta.url).pathname,
        "--runs",
        `${opts.runs}`,
        "--scale",
        `${opts.scale}`,
      ]);
      if (uvmRun.status !== 0) throw new BenchError("GUEST_FAILED", `bench/uvm/run.ts failed:\n${uvmRun.stderr}`);
      tables.push(`process VM (popek exec) against qemu-riscv64:\n\n${uvmRun.stdout.trim()}`);
    }
    console.log(`${header.join("\n")}\n\n${tables.join("\n\n")}`);

    if (opts.json !== undefined) {
      const doc = {
        date,
        revision,
        host,
        loadAverage: { start: loadStart, end: loadEnd },
        qemu: qemuVersion,
        qemuStartupSeconds: qemuStartup,
        gcc,
        scale: opts.scale,
        runs: opts.runs,
        popek: popek === undefined ? popekNote : "measured",
        results,
        boot,
        net,
        disk,
      };
      writeFileSync(opts.json, `${JSON.stringify(doc, null, 2)}\n`);
      log(`wrote ${opts.json}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  if (e instanceof BenchError) {
    console.error(`bench: ${e.code}: ${e.message}`);
    process.exit(1);
  }
  throw e;
});
