/**
 * Privileged-architecture conformance, differential against QEMU 7.2: each tests/priv/*.S program checks traps,
 * delegation, interrupts, the MMU or PMP against the privileged specification 1.12 and prints one line per check.
 * QEMU must pass them apart from its listed deviations (PRIV_QEMU_DEVIATIONS), and popek must print exactly what a
 * conforming machine prints apart from its open bugs (PRIV_POPEK_KNOWN_FAILURES).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import {
  acceptKnownFailures,
  assertSameAsQemu,
  failLines,
  missingTools,
  type QemuRun,
  stopJobs,
  WorkDir,
} from "../isa/harness.ts";
import {
  buildAndRunQemuPriv,
  PRIV_POPEK_KNOWN_FAILURES,
  PRIV_QEMU_DEVIATIONS,
  type PrivTest,
  runPopekPriv,
} from "./harness.ts";

const TESTS: readonly PrivTest[] = [
  { name: "traps", source: "traps.S" },
  { name: "interrupts", source: "interrupts.S" },
  { name: "mmu-sv39", source: "mmu.S" },
  { name: "mmu-sv48", source: "mmu.S", defines: ["SV48"] },
  { name: "pmp", source: "pmp.S" },
];

/** Far above the largest test (each retires well under a million instructions). */
const POPEK_LIMIT = 50_000_000;
const QEMU_TIMEOUT_MS = 30_000;

const missing = missingTools();

describe("privileged architecture (QEMU and popek)", { skip: missing }, () => {
  const work = missing ? undefined : new WorkDir("popek-priv-");
  const jobs = new Map<string, Promise<{ readonly elfPath: string; readonly qemu: QemuRun }>>();

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

  before(() => {
    for (const t of TESTS) {
      const job = limited(() => buildAndRunQemuPriv(t, work!, QEMU_TIMEOUT_MS));
      job.catch(() => {}); // reported by the test that awaits it
      jobs.set(t.name, job);
    }
  });

  after(() => {
    stopJobs();
    work?.remove();
  });

  for (const t of TESTS) {
    describe(`${t.name} (${t.source}${t.defines ? ` -D${t.defines.join(" -D")}` : ""})`, () => {
      it("passes under QEMU (known QEMU deviations aside)", async () => {
        const { qemu } = await jobs.get(t.name)!;
        assert.equal(qemu.timedOut, false, `QEMU timed out\n${qemu.output.slice(-2000)}`);
        assert.notEqual(qemu.code, null);
        const exp = acceptKnownFailures(t.name, qemu.output, qemu.code!, PRIV_QEMU_DEVIATIONS);
        assert.deepEqual(
          exp.unused.map((d) => d.check.source),
          [],
          "QEMU no longer shows these listed deviations: remove them from PRIV_QEMU_DEVIATIONS",
        );
        assert.equal(
          exp.code,
          0,
          `QEMU exit ${qemu.code}; failing checks:\n${failLines(exp.output).join("\n")}\n${qemu.stderr}`,
        );
        assert.match(exp.output, /^summary: \d+ ok, 0 failed$/m);
      });

      it("popek prints the same results", async (ctx) => {
        const { elfPath, qemu } = await jobs.get(t.name)!;
        const run = runPopekPriv(fs.readFileSync(elfPath), POPEK_LIMIT);
        assertSameAsQemu(
          ctx,
          t.name,
          qemu,
          run,
          PRIV_QEMU_DEVIATIONS,
          PRIV_POPEK_KNOWN_FAILURES,
          "PRIV_POPEK_KNOWN_FAILURES",
        );
      });
    });
  }
});
