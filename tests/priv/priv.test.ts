/**
 * Privileged-architecture conformance, differential against QEMU 7.2: each tests/priv/*.S program checks traps,
 * delegation, interrupts, the MMU or PMP against the privileged specification 1.12 and prints one line per check.
 * QEMU must pass them apart from its listed deviations (PRIV_QEMU_DEVIATIONS), and popek must print exactly what a
 * conforming machine prints apart from its open bugs (PRIV_POPEK_KNOWN_FAILURES).
 */
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { assertQemuPasses, assertSameAsQemu, missingTools, type QemuRun, stopJobs, WorkDir } from "../isa/harness.ts";
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
        assertQemuPasses(t.name, qemu, PRIV_QEMU_DEVIATIONS, "PRIV_QEMU_DEVIATIONS");
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
