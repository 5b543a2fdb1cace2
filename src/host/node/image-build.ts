/**
 * Building the default guest image set from tools/image: runs the recipe's build.sh one step at a time as child
 * processes (full output to a log file), reports progress (the kernel step as a fraction of its expected build lines),
 * and moves the result into the cache under the recipe hash with a manifest. `ensureDefaultImage` is what `popek run`
 * and the tests call: an intact cached set is returned at once, a missing or damaged one is (re)built first.
 */
import { spawn } from "node:child_process";
import { chmod, cp, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import {
  builtImageId,
  DEFAULT_SET_APPEND,
  describeDamage,
  describeFiles,
  ImageError,
  type ImageSet,
  imagesDir,
  MANIFEST,
  type Manifest,
  openSet,
  popekCacheDir,
  recipeDir,
  recipeHash,
  verifySet,
  withLock,
  writeManifest,
} from "./images.ts";

/** One step of build.sh. `lines`: how many build lines (`  CC  file.o`) it prints, for progress; 0 = unknown. */
export interface BuildStep {
  readonly name: string;
  readonly title: string;
  readonly lines: number;
}

/** The steps in order. Kernel and BusyBox line counts come from builds of this recipe (recipe.env has the kernel's). */
export function buildSteps(kernelLines: number): BuildStep[] {
  return [
    { name: "deps", title: "checking build dependencies (Debian packages, deb-src)", lines: 0 },
    { name: "sources", title: "unpacking linux-source-6.1, fetching BusyBox's source package", lines: 0 },
    { name: "kernel-config", title: "configuring the kernel (defconfig + tools/image/kernel.config)", lines: 0 },
    { name: "busybox", title: "compiling BusyBox (static)", lines: 640 },
    { name: "kernel", title: "compiling the kernel (make Image)", lines: kernelLines },
    { name: "rootfs", title: "packing initramfs.cpio.gz and rootfs.ext4", lines: 0 },
  ];
}

/** Files of a built set; the first three are what boots. */
const BUILT_FILES = ["Image", "initramfs.cpio.gz", "rootfs.ext4", "kernel.config", "busybox.config", "versions.txt"];

/** What a build reports while it runs. */
export interface BuildEvents {
  /** A step starts (index from 0). */
  step?(index: number, count: number, step: BuildStep): void;
  /** Progress within the current step, 0..1 (only for steps with a known line count). */
  progress?(fraction: number, lines: number): void;
  /** The current step finished after `seconds`. */
  stepDone?(seconds: number): void;
  /** Something to tell the user (waiting for another build, a damaged set being replaced). */
  note?(text: string): void;
}

/** The lock every build takes (they share the work directory, and each one uses all cores anyway). */
const BUILD_LOCK = "build";

export interface BuildOptions {
  /** popek's cache directory (default: popekCacheDir()). */
  readonly cache?: string;
  /** Recipe directory (default: tools/image). */
  readonly recipe?: string;
  /** Parallel make jobs (default: the CPU count). */
  readonly jobs?: number;
  readonly events?: BuildEvents;
  /** Build even if the cache holds an intact set (e.g. to pick up newer Debian packages). */
  readonly rebuild?: boolean;
  /** Delete the work directory (sources stay) before building, so nothing is reused from an earlier build. */
  readonly clean?: boolean;
}

/**
 * Rough wall time of a full build with `jobs` jobs on otherwise idle cores, in seconds: about 330 CPU-seconds of
 * compiling (kernel ~270, BusyBox ~60; 158 s kernel wall time on 2 idle cores) plus ~60 s of apt, unpacking and
 * packing. Compiling runs at nice 19, so on a machine busy with other work it takes longer (24 min measured with
 * four other CPU-bound jobs on 2 cores).
 */
export function estimateBuildSeconds(jobs: number = availableParallelism()): { low: number; high: number } {
  const cpu = 330 / Math.max(1, Math.min(jobs, availableParallelism()));
  return { low: Math.round(cpu + 60), high: Math.round(3 * cpu + 120) };
}

/** Values of recipe.env (KEY=value lines). */
async function readRecipeEnv(recipe: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const line of (await readFile(join(recipe, "recipe.env"), "utf8")).split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/** A build line of kbuild or BusyBox's kbuild copy: two spaces, an upper-case tag, spaces, a target. */
const BUILD_LINE = /^ {2}[A-Z][A-Z0-9_[\]]* +\S/;

/** Run one build.sh step; output appended to `log`. Returns its build-line count. Throws EBUILD/ENEEDROOT. */
async function runStep(
  recipe: string,
  step: BuildStep,
  env: NodeJS.ProcessEnv,
  logPath: string,
  events: BuildEvents,
): Promise<number> {
  const log = await open(logPath, "a");
  await log.write(`\n===== build.sh ${step.name} (${new Date().toISOString()})\n`);
  let lines = 0;
  let tail = "";
  let stderr = "";
  let partial = "";
  let lastReport = 0;
  try {
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn("bash", [join(recipe, "build.sh"), step.name], { env, stdio: ["ignore", "pipe", "pipe"] });
      const onData = (isErr: boolean) => (d: Buffer) => {
        log.write(d).catch(() => {});
        const text = d.toString("utf8");
        tail = (tail + text).slice(-4000);
        if (isErr) stderr = (stderr + text).slice(-8000);
        if (step.lines === 0) return;
        const parts = (partial + text).split("\n");
        partial = parts.pop()!;
        for (const l of parts) if (BUILD_LINE.test(l)) lines++;
        const now = performance.now();
        if (now - lastReport > 200) {
          lastReport = now;
          events.progress?.(Math.min(0.99, lines / step.lines), lines);
        }
      };
      child.stdout.on("data", onData(false));
      child.stderr.on("data", onData(true));
      child.on("error", reject);
      child.on("close", (c, sig) => resolve(c ?? (sig ? 128 : 1)));
    });
    if (code === 3 && step.name === "deps")
      throw new ImageError(
        "ENEEDROOT",
        "the image build needs Debian packages that are not installed (commands above)",
        stderr.trim(),
      );
    if (code !== 0) {
      const last = tail.trimEnd().split("\n").slice(-15).join("\n");
      throw new ImageError(
        "EBUILD",
        `image build step '${step.name}' failed (exit ${code}); full log: ${logPath}`,
        last,
      );
    }
    if (step.lines > 0) events.progress?.(1, lines);
    return lines;
  } finally {
    await log.close();
  }
}

/**
 * Build the default image set from the recipe into the cache (replacing whatever is at its id), without checking
 * the cache first; callers hold the recipe's lock (ensureDefaultImage does).
 */
async function buildInto(cache: string, recipe: string, hash: string, jobs: number, events: BuildEvents) {
  const id = builtImageId(hash);
  // One work directory for every recipe: after a recipe change, make rebuilds only what the change affects.
  const work = join(cache, "build", "work");
  const staging = join(imagesDir(cache), `.build-${id}-${process.pid}`);
  await mkdir(work, { recursive: true });
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const logPath = join(work, "build.log");
  await rm(logPath, { force: true });
  const renv = await readRecipeEnv(recipe);
  const steps = buildSteps(Number(renv.KERNEL_BUILD_STEPS ?? 0) || 1600);
  const env = {
    ...process.env,
    POPEK_IMAGE_WORK: work,
    POPEK_IMAGE_SRC: join(cache, "sources"),
    POPEK_IMAGE_OUT: staging,
    JOBS: String(jobs),
    LC_ALL: "C",
  };
  const start = performance.now();
  let kernelLines = 0;
  try {
    for (const [i, step] of steps.entries()) {
      events.step?.(i, steps.length, step);
      const t = performance.now();
      const lines = await runStep(recipe, step, env, logPath, events);
      if (step.name === "kernel") kernelLines = lines;
      events.stepDone?.((performance.now() - t) / 1000);
    }
    const versions: Record<string, string> = {};
    for (const line of (await readFile(join(staging, "versions.txt"), "utf8")).split("\n")) {
      const eq = line.indexOf("=");
      if (eq > 0) versions[line.slice(0, eq)] = line.slice(eq + 1);
    }
    const manifest: Manifest = {
      format: 1,
      source: "build",
      recipe: hash,
      created: new Date().toISOString(),
      kernel: "Image",
      initrd: "initramfs.cpio.gz",
      disk: "rootfs.ext4",
      append: DEFAULT_SET_APPEND,
      versions,
      build: { seconds: Math.round((performance.now() - start) / 100) / 10, kernelLines, jobs },
      files: await describeFiles(staging, BUILT_FILES),
    };
    // Read-only: a VM must work on a copy of the disk, never on the cached one.
    for (const f of BUILT_FILES) await chmod(join(staging, f), 0o444);
    await writeManifest(staging, manifest);
    const dir = join(imagesDir(cache), id);
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
    return { id, dir, manifest };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The result of ensureDefaultImage. */
export interface DefaultImage extends ImageSet {
  /** Whether this call built it (false: it was in the cache). */
  readonly built: boolean;
  /** Absolute paths of the bootable files. */
  readonly kernelPath: string;
  readonly initrdPath: string;
  readonly diskPath: string;
}

/**
 * The default image set of the current recipe: from the cache when it is there and intact (its files are hashed
 * against the manifest), else built first (a damaged set is reported through `events.note` and replaced). With
 * `build: false`, a missing or damaged set throws ENOIMAGE / ECORRUPT instead. Concurrent callers build once: the
 * others wait for the lock and then find the set in the cache.
 */
export async function ensureDefaultImage(
  opts: BuildOptions & {
    readonly build?: boolean;
    /** Called before a build starts (`popek run` says what is happening and how long it takes). */
    readonly beforeBuild?: (reason: string) => void;
  } = {},
): Promise<DefaultImage> {
  const cache = opts.cache ?? popekCacheDir();
  const recipe = opts.recipe ?? recipeDir();
  const events = opts.events ?? {};
  const hash = await recipeHash(recipe);
  const id = builtImageId(hash);
  const found = await intact(cache, id);
  if (found.set && !opts.rebuild) return withPaths(found.set, false);
  if (opts.build === false) {
    throw found.reason === "missing"
      ? new ImageError("ENOIMAGE", "the default image is not built yet (popek image build)")
      : new ImageError("ECORRUPT", `the cached default image is damaged: ${found.reason}`);
  }
  return withLock(
    cache,
    BUILD_LOCK,
    async () => {
      // Another process may have built it while we waited.
      const again = await intact(cache, id);
      if (again.set && (!opts.rebuild || again.set.manifest.created !== found.set?.manifest.created))
        return withPaths(again.set, false);
      const reason = again.set
        ? "rebuilding the default image (--rebuild)"
        : again.reason === "missing"
          ? `the default image is not built yet for this recipe (tools/image, hash ${id})`
          : `the cached default image is damaged (${again.reason}); rebuilding it`;
      if (again.reason !== "missing" && !again.set) events.note?.(reason);
      opts.beforeBuild?.(reason);
      if (opts.clean) await rm(join(cache, "build", "work"), { recursive: true, force: true });
      return withPaths(await buildInto(cache, recipe, hash, opts.jobs ?? availableParallelism(), events), true);
    },
    (pid) => events.note?.(`waiting for another popek (pid ${pid}) that is building the default image`),
  );
}

async function intact(cache: string, id: string): Promise<{ set?: ImageSet; reason: string }> {
  let set: ImageSet | undefined;
  try {
    set = await openSet(cache, id);
  } catch (e) {
    return { reason: (e as Error).message };
  }
  if (!set) return { reason: "missing" };
  const damage = await verifySet(set.dir, set.manifest);
  if (damage.length > 0) return { reason: describeDamage(damage) };
  return { set, reason: "" };
}

function withPaths(set: ImageSet, built: boolean): DefaultImage {
  const m = set.manifest;
  return {
    ...set,
    built,
    kernelPath: join(set.dir, m.kernel),
    initrdPath: join(set.dir, m.initrd ?? "initramfs.cpio.gz"),
    diskPath: join(set.dir, m.disk ?? "rootfs.ext4"),
  };
}

/** Copy an intact set (its files and manifest) to `out` (`popek image build --out DIR`). */
export async function exportSet(set: ImageSet, out: string): Promise<void> {
  await mkdir(out, { recursive: true });
  for (const f of [...Object.keys(set.manifest.files), MANIFEST]) {
    await rm(join(out, f), { force: true });
    await cp(join(set.dir, f), join(out, f));
    await chmod(join(out, f), 0o644);
  }
}
