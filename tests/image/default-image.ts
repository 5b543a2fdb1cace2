// The default guest image set for tests: from popek's cache when it holds an intact set for the current recipe,
// otherwise built first by `tools/image/build.sh` (once per machine: test files that ask at the same time wait for
// the one build). Boot tests call `defaultImage()` to get the kernel, initrd and disk paths:
//
//   import { defaultImage, IMAGE_BUILD_TIMEOUT_MS } from "../image/default-image.ts";
//   test("boots", { timeout: IMAGE_BUILD_TIMEOUT_MS + BOOT_MS }, async () => { const img = await defaultImage(); ... });
import { type DefaultImage, ensureDefaultImage } from "../../src/host/node/image-build.ts";

/** Upper bound for a from-scratch build on 2 busy cores, including apt installs (a cache hit takes well under 1 s). */
export const IMAGE_BUILD_TIMEOUT_MS = 25 * 60_000;

let pending: Promise<DefaultImage> | undefined;

/** The default image set (built if needed); progress goes to stderr as `# image build …` lines. */
export function defaultImage(): Promise<DefaultImage> {
  pending ??= ensureDefaultImage({
    events: {
      step: (i, count, step) => process.stderr.write(`# image build [${i + 1}/${count}] ${step.title}\n`),
      stepDone: (s) => process.stderr.write(`# image build   done in ${s.toFixed(1)} s\n`),
      note: (text) => process.stderr.write(`# image build: ${text}\n`),
    },
    beforeBuild: (reason) => process.stderr.write(`# ${reason}: building it (5-10 min on 2 cores)\n`),
  });
  return pending;
}
