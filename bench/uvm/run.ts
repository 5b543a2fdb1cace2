/**
 * Process VM benchmark (`npm run bench:uvm`): the integer workloads of bench/workloads built as static Linux
 * programs (bench/uvm/linux.h replaces the bare-metal runtime), run under popek's ProcessVm (in this process, timed
 * from construction to exit) and under qemu-riscv64 (a separate process, timed from spawn to exit), with guest MIPS
 * and the time ratio; then the start-up time of a static hello world: `popek exec` and qemu-riscv64 as processes,
 * and ProcessVm in-process. Every run must print the same checksum.
 *
 * Options: --filter NAME[,NAME], --scale X, --runs N (default 3).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemFs, ProcessVm } from "../../src/index.ts";

const WORKLOADS = ["sieve", "crc32", "matmul", "sort", "sha256", "interp"];
const HERE = new URL(".", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const runs = Number(option("runs") ?? 3);
const scale = Number(option("scale") ?? 1);
const filter = option("filter")?.split(",") ?? WORKLOADS;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), "popek-bench-uvm-"));
try {
  const cc = "riscv64-linux-gnu-gcc";
  const gccVersion = execFileSync(cc, ["--version"]).toString().split("\n")[0];
  const qemuVersion = execFileSync("qemu-riscv64", ["--version"]).toString().split("\n")[0];
  console.log(`date: ${new Date().toISOString()}`);
  console.log(`host: ${process.version}, load average ${(await import("node:os")).loadavg()[0]!.toFixed(2)}`);
  console.log(`qemu: ${qemuVersion}\ngcc: ${gccVersion}\nscale ${scale}, median of ${runs} run(s)\n`);
  const rows: string[][] = [];
  const ratios: number[] = [];
  for (const w of WORKLOADS.filter((n) => filter.includes(n))) {
    const out = join(dir, w);
    execFileSync(cc, [
      "-O2",
      "-static",
      `-DSCALE_PERMILLE=${Math.round(scale * 1000)}`,
      "-include",
      join(HERE, "linux.h"),
      "-I",
      join(ROOT, "bench/workloads"),
      "-o",
      out,
      join(ROOT, "bench/workloads", `${w}.c`),
    ]);
    const program = readFileSync(out);
    const qTimes: number[] = [];
    let qOut = "";
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const r = spawnSync("qemu-riscv64", [out]);
      qTimes.push((performance.now() - t0) / 1000);
      qOut = r.stdout.toString();
    }
    const pTimes: number[] = [];
    let insns = 0;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const vm = new ProcessVm({ argv: [`/${w}`], program, fs: new MemFs() });
      const r = await vm.run();
      pTimes.push((performance.now() - t0) / 1000);
      insns = r.instructions;
      const pOut = new TextDecoder().decode(r.stdout);
      if (pOut !== qOut) throw new Error(`${w}: popek printed ${JSON.stringify(pOut)}, qemu ${JSON.stringify(qOut)}`);
    }
    const pt = median(pTimes);
    const qt = median(qTimes);
    ratios.push(pt / qt);
    rows.push([
      w,
      (insns / 1e6).toFixed(1),
      pt.toFixed(3),
      (insns / pt / 1e6).toFixed(1),
      qt.toFixed(3),
      (insns / qt / 1e6).toFixed(0),
      (pt / qt).toFixed(1),
    ]);
  }
  const geo = Math.exp(ratios.reduce((a, r) => a + Math.log(r), 0) / Math.max(1, ratios.length));
  rows.push(["**geomean ratio**", "", "", "", "", "", geo.toFixed(1)]);
  const head = [
    "workload",
    "guest instr (M)",
    "popek (s)",
    "popek MIPS",
    "qemu-riscv64 (s)",
    "qemu MIPS",
    "popek/qemu",
  ];
  console.log(`| ${head.join(" | ")} |\n|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);

  // Start-up: a static hello world.
  const hello = join(dir, "hello");
  writeFileSync(`${hello}.c`, '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n');
  execFileSync(cc, ["-O2", "-static", "-o", hello, `${hello}.c`]);
  const cli = existsSync(join(ROOT, "dist/cli/main.js"))
    ? [join(ROOT, "bin/popek.js")]
    : [join(ROOT, "src/cli/main.ts")];
  const time = (cmd: string, args: string[]) => {
    const ts: number[] = [];
    for (let i = 0; i < Math.max(3, runs); i++) {
      const t0 = performance.now();
      const r = spawnSync(cmd, args);
      if (r.stdout.toString() !== "hello\n") throw new Error(`${cmd}: ${r.stderr}`);
      ts.push(performance.now() - t0);
    }
    return median(ts);
  };
  const q = time("qemu-riscv64", [hello]);
  const p = time(process.execPath, [...cli, "exec", hello]);
  const node = time(process.execPath, ["-e", 'console.log("hello")']);
  const inproc: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await new ProcessVm({ argv: ["/hello"], program: readFileSync(hello), fs: new MemFs() }).run();
    inproc.push(performance.now() - t0);
  }
  console.log(`\nstart-up of a static hello world (median):`);
  console.log(`  qemu-riscv64 hello            ${q.toFixed(0)} ms`);
  console.log(
    `  popek exec hello              ${p.toFixed(0)} ms (of which Node printing hello takes ${node.toFixed(0)} ms)`,
  );
  console.log(`  ProcessVm in-process          ${median(inproc).toFixed(1)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
