/**
 * ISA conformance: each tests/isa/*.S program checks RV64IMAC + Zicsr + Zifencei behaviour in M-mode against the
 * specification and prints one line per check. QEMU 7.2 must pass them (apart from its listed deviations, see
 * QEMU_DEVIATIONS in harness.ts), and popek must print exactly what a conforming machine prints (apart from its
 * open bugs, POPEK_KNOWN_FAILURES).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  assertQemuPasses,
  assertSameAsQemu,
  buildAndRunQemu,
  ISA_DIR,
  loadPopek,
  missingTools,
  POPEK_KNOWN_FAILURES,
  type PopekApi,
  QEMU_DEVIATIONS,
  type QemuRun,
  runPopek,
  stopJobs,
  WorkDir,
} from "./harness.ts";

interface DirectedTest {
  readonly name: string;
  /** Extra QEMU options, with the reason. */
  readonly qemuArgs?: readonly string[];
}

const DIRECTED: readonly DirectedTest[] = [
  { name: "runtime" },
  { name: "alu" },
  { name: "muldiv" },
  { name: "branch" },
  { name: "loadstore" },
  { name: "atomic" },
  { name: "compressed" },
  { name: "traps" },
  { name: "fence" },
  // Without -icount QEMU's minstret is the host's cycle counter, so exact deltas need it.
  { name: "counters", qemuArgs: ["-icount", "shift=0"] },
];

/** Far above the largest test (alu.S retires about 3 million instructions). */
const POPEK_LIMIT = 200_000_000;
const QEMU_TIMEOUT_MS = 60_000;

const missing = missingTools();

describe("ISA conformance (QEMU and popek)", { skip: missing }, () => {
  const work = missing ? undefined : new WorkDir();
  const jobs = new Map<string, Promise<{ readonly elfPath: string; readonly qemu: QemuRun }>>();
  let popek: PopekApi | string = "popek was not loaded";

  // At most two build+QEMU jobs at a time: the machine has two cores.
  const queue: (() => void)[] = [];
  let running = 0;
  const limited = <T>(fn: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const start = (): void => {
        running++;
        fn()
          .then(resolve, reject)
          .finally(() => {
            running--;
            queue.shift()?.();
          });
      };
      if (running < 2) start();
      else queue.push(start);
    });

  before(async () => {
    for (const t of DIRECTED) {
      const job = limited(() =>
        buildAndRunQemu([path.join(ISA_DIR, `${t.name}.S`)], work!, t.name, {
          qemuArgs: t.qemuArgs ?? [],
          timeoutMs: QEMU_TIMEOUT_MS,
        }),
      );
      job.catch(() => {}); // reported by the test that awaits it
      jobs.set(t.name, job);
    }
    const first = await jobs.get(DIRECTED[0]!.name)!;
    popek = await loadPopek(fs.readFileSync(first.elfPath));
  });

  after(() => {
    stopJobs();
    work?.remove();
  });

  for (const t of DIRECTED) {
    describe(`${t.name}.S`, () => {
      it("passes under QEMU (known QEMU deviations aside)", async () => {
        const { qemu } = await jobs.get(t.name)!;
        assertQemuPasses(t.name, qemu, QEMU_DEVIATIONS, "QEMU_DEVIATIONS");
        if (t.name === "runtime") checkRuntimeDump(qemu.output);
      });

      it("popek prints the same results", async (ctx) => {
        const { elfPath, qemu } = await jobs.get(t.name)!;
        if (typeof popek === "string") {
          ctx.skip(popek);
          return;
        }
        const run = runPopek(popek, fs.readFileSync(elfPath), POPEK_LIMIT);
        assertSameAsQemu(ctx, t.name, qemu, run, QEMU_DEVIATIONS, POPEK_KNOWN_FAILURES, "POPEK_KNOWN_FAILURES");
      });
    });
  }
});

/** runtime.S sets x_i = 0x0101010101010101 * i (x31 = all ones) and dumps them: check the printed values. */
function checkRuntimeDump(output: string): void {
  const start = output.indexOf("dump known\n");
  assert.ok(start >= 0, "no 'dump known' block");
  const block = output.slice(start).split("\n").slice(1, 9).join(" ");
  const values = new Map<string, bigint>();
  for (const m of block.matchAll(/(\w+)\s*=([0-9a-f]{16})/g)) values.set(m[1]!, BigInt(`0x${m[2]}`));
  const names = ["ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6"].concat(
    ["a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"],
  );
  assert.equal(values.size, 31, `expected 31 registers in the dump:\n${block}`);
  names.forEach((name, i) => {
    const x = i + 1;
    if (x === 2) return; // sp: the stack pointer, checked by the program itself
    const want = x === 31 ? 0xffff_ffff_ffff_ffffn : 0x0101_0101_0101_0101n * BigInt(x);
    assert.equal(values.get(name), want, `dump of ${name} (x${x})`);
  });
}
