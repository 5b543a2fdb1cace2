/**
 * Process VM conformance: every program in tests/uvm/programs, built static and dynamic (glibc) with Debian's riscv64
 * cross compilers, runs under qemu-riscv64 and under popek's ProcessVm; stdout, stderr and the exit status must be
 * identical. exec.c runs in oracle mode under qemu (qemu-user cannot exec a RISC-V file without binfmt_misc), see its
 * header.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { build, type Linking, requireTool, runPopek, runQemu, tempDir } from "./harness.ts";

interface Case {
  readonly src: string;
  readonly args?: readonly string[];
  readonly stdin?: string;
  /** Extra environment for the qemu run only. */
  readonly qemuEnv?: readonly string[];
}

const STDIN = Array.from({ length: 3000 }, (_, i) => `${i + 1} some words  here\tand there`).join("\n");

const CASES: readonly Case[] = [
  { src: "files.c" },
  { src: "dirs.c" },
  { src: "memory.c" },
  { src: "signals.c" },
  { src: "threads.c" },
  { src: "process.c" },
  { src: "exec.c", qemuEnv: ["UVM_ORACLE=1"] },
  { src: "timing.c" },
  { src: "misc.c", args: ["first", "second arg", ""] },
  { src: "stdin.c", stdin: STDIN },
  { src: "cxx.cc" },
  { src: "goroutines.go" },
];

const ENV = ["UVM_A=1", "UVM_B=two words", "PATH=/usr/bin:/bin", "TZ=UTC", "LANG=C"];
const LINKINGS: readonly Linking[] = ["static", "dynamic"];

describe("process VM against qemu-riscv64", { timeout: 600_000 }, () => {
  const dir = tempDir("conf");
  const progs = new Map<string, string>();

  before(async () => {
    for (const tool of ["riscv64-linux-gnu-gcc", "riscv64-linux-gnu-g++", "riscv64-linux-gnu-gccgo", "qemu-riscv64"]) {
      await requireTool(tool);
    }
    const jobs = CASES.flatMap((c) => LINKINGS.map((l) => ({ c, l })));
    // Two compilers at a time (the CI machine has two cores).
    for (let i = 0; i < jobs.length; i += 2) {
      await Promise.all(
        jobs.slice(i, i + 2).map(async ({ c, l }) => {
          const out = join(dir, `${c.src.replace(/\.\w+$/, "")}-${l}`);
          await build(c.src, out, l);
          progs.set(`${c.src}/${l}`, out);
        }),
      );
    }
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const c of CASES) {
    for (const linking of LINKINGS) {
      test(`${c.src} (${linking})`, async () => {
        const prog = progs.get(`${c.src}/${linking}`)!;
        const qdir = tempDir("q");
        const pdir = tempDir("p");
        try {
          const common = { prog, args: c.args, stdin: c.stdin, linking };
          const [q, p] = await Promise.all([
            runQemu({ ...common, env: [...ENV, ...(c.qemuEnv ?? [])], cwd: qdir }),
            runPopek({ ...common, env: ENV, cwd: pdir }),
          ]);
          assert.equal(p.stdout, q.stdout, "stdout");
          assert.equal(p.stderr, q.stderr, "stderr");
          assert.equal(p.status, q.status, "exit status");
          assert.match(q.stdout, /ok\n|sum of squares|threads counted|eof 1/, "the program ran to its end");
        } finally {
          rmSync(qdir, { recursive: true, force: true });
          rmSync(pdir, { recursive: true, force: true });
        }
      });
    }
  }
});
