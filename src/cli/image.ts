/**
 * `popek image build|list|add` and the image side of `popek run`: the default guest image set built from
 * tools/image (cached under its recipe hash), sets registered by name, and a progress display for the build
 * (cli-progress bars in a terminal, one line per step and per quarter of the kernel build otherwise).
 */
import { availableParallelism } from "node:os";
import cliProgress from "cli-progress";
import {
  type BuildEvents,
  type BuildStep,
  ensureDefaultImage,
  estimateBuildSeconds,
  exportSet,
} from "../host/node/image-build.ts";
import {
  addImage,
  DEFAULT_IMAGE,
  describeDamage,
  findRegistered,
  ImageError,
  type ImageSet,
  listImages,
  popekCacheDir,
  readVerified,
  recipeHash,
  verifySet,
} from "../host/node/images.ts";
import type { CliIo } from "./io.ts";
import { CliError } from "./options.ts";

/** `12.3s`, `4m05s`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.round(seconds - 60 * m)).padStart(2, "0")}s`;
}

/**
 * Shows a build's progress: the step and its elapsed time; for the kernel and BusyBox, a bar with the share of files
 * compiled. `tty`: the terminal stream to draw bars on (undefined: plain lines through io.stderr).
 */
export class BuildProgress implements BuildEvents {
  private bar: cliProgress.SingleBar | undefined = undefined;
  private current: BuildStep | undefined = undefined;
  private nextQuarter = 0.25;
  private readonly start = performance.now();
  private readonly io: CliIo;
  private readonly tty: NodeJS.WriteStream | undefined;

  constructor(io: CliIo, tty: NodeJS.WriteStream | undefined) {
    this.io = io;
    this.tty = tty;
  }

  step(index: number, count: number, step: BuildStep): void {
    this.current = step;
    this.nextQuarter = 0.25;
    const label = `[${index + 1}/${count}] ${step.title}`;
    if (!this.tty) {
      this.io.stderr(`popek image: ${label}\n`);
      return;
    }
    this.bar = new cliProgress.SingleBar({
      stream: this.tty,
      format:
        step.lines > 0
          ? `${label} {bar} {percentage}% ({lines} files) {duration_formatted}`
          : `${label} {duration_formatted}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    });
    this.bar.start(100, 0, { lines: 0 });
  }

  progress(fraction: number, lines: number): void {
    if (this.bar) {
      this.bar.update(Math.floor(fraction * 100), { lines });
      return;
    }
    if (this.current && this.current.lines > 0 && fraction >= this.nextQuarter && fraction < 1) {
      this.io.stderr(`popek image:       ${Math.floor(fraction * 100)}% (${lines} files)\n`);
      while (this.nextQuarter <= fraction) this.nextQuarter += 0.25;
    }
  }

  stepDone(seconds: number): void {
    if (this.bar) {
      if (this.current && this.current.lines > 0) this.bar.update(100);
      this.bar.stop();
      this.bar = undefined;
    } else {
      this.io.stderr(`popek image:       done in ${formatDuration(seconds)}\n`);
    }
  }

  note(text: string): void {
    this.stop();
    this.io.stderr(`popek: ${text}\n`);
  }

  /** Remove a bar left running by a failed step. */
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  elapsed(): number {
    return (performance.now() - this.start) / 1000;
  }
}

/** The terminal to draw bars on: stderr when it is one and popek writes to the process's own streams. */
function ttyOf(tty: boolean | undefined): NodeJS.WriteStream | undefined {
  return tty && process.stderr.isTTY ? process.stderr : undefined;
}

function estimate(jobs: number): string {
  const e = estimateBuildSeconds(jobs);
  return `${Math.max(1, Math.round(e.low / 60))}–${Math.round(e.high / 60)} minutes on ${jobs} idle core${jobs > 1 ? "s" : ""}`;
}

/** ImageError → CliError; its details (missing packages, a failed step's last lines) are printed first. */
function asCliError(e: unknown, io: CliIo): unknown {
  if (!(e instanceof ImageError)) return e;
  if (e.details) io.stderr(`${e.details}\n`);
  return new CliError(e.message);
}

/** The default set, built first if it is missing or damaged (saying so, with an estimate). */
async function defaultSet(
  io: CliIo,
  jobs: number,
  tty: boolean | undefined,
  why: string,
  force: { rebuild?: boolean; clean?: boolean } = {},
) {
  const progress = new BuildProgress(io, ttyOf(tty));
  try {
    const set = await ensureDefaultImage({
      ...force,
      jobs,
      events: progress,
      beforeBuild: (reason) =>
        io.stderr(
          `popek: ${reason}${why}: building it from Debian's sources (about ${estimate(jobs)}; ` +
            `later runs start at once)\n`,
        ),
    });
    if (set.built) io.stderr(`popek: default image built in ${formatDuration(progress.elapsed())}: ${set.dir}\n`);
    return set;
  } catch (e) {
    progress.stop();
    throw asCliError(e, io);
  }
}

export interface ImageBuildOptions {
  readonly out?: string;
  readonly jobs?: number;
  readonly rebuild?: boolean;
  readonly clean?: boolean;
  /** Draw progress bars when stderr is a terminal (default true). */
  readonly tty?: boolean;
}

/** `popek image build [--out DIR]`: make sure the default set is built and intact; print where it is. */
export async function imageBuild(opts: ImageBuildOptions, io: CliIo): Promise<number> {
  const jobs = opts.jobs ?? availableParallelism();
  const set = await defaultSet(io, jobs, opts.tty ?? true, "", { rebuild: opts.rebuild, clean: opts.clean });
  if (!set.built) io.stderr(`popek: the default image is up to date (cached)\n`);
  io.stdout(describeSet(set));
  if (opts.out !== undefined) {
    await exportSet(set, opts.out);
    io.stderr(`popek: copied to ${opts.out}\n`);
  }
  return 0;
}

function describeSet(set: ImageSet): string {
  const m = set.manifest;
  const v = m.versions;
  const what = [
    v.kernel_release ? `Linux ${v.kernel_release}` : "",
    v.busybox_source ? `BusyBox ${v.busybox_source}` : "",
  ]
    .filter(Boolean)
    .join(", ");
  const lines = [`${set.dir}${what ? ` (${what})` : ""}`];
  for (const [name, f] of Object.entries(m.files))
    lines.push(`  ${name.padEnd(18)} ${String(f.size).padStart(9)} bytes`);
  return `${lines.join("\n")}\n`;
}

/** `popek image list`: every set in the cache with its state (each file checked against its manifest). */
export async function imageList(io: CliIo): Promise<number> {
  const cache = popekCacheDir();
  let rows: Awaited<ReturnType<typeof listImages>>;
  try {
    rows = await listImages(cache, await recipeHash());
  } catch (e) {
    throw asCliError(e, io);
  }
  const table = [["NAME", "ID", "KERNEL", "INITRD", "DISK", "CREATED", "STATE"]];
  for (const r of rows) {
    const m = r.set?.manifest;
    const size = (f: string | undefined) => (f && m ? `${(m.files[f]!.size / 2 ** 20).toFixed(1)}M` : "-");
    const state = !r.set
      ? r.damage.length
        ? `damaged: ${describeDamage(r.damage)}`
        : r.note
      : r.damage.length
        ? `DAMAGED: ${describeDamage(r.damage)}`
        : `ok, ${r.note}`;
    table.push([
      r.name || "-",
      r.id,
      size(m?.kernel),
      size(m?.initrd),
      size(m?.disk),
      m ? m.created.slice(0, 16).replace("T", " ") : "-",
      state,
    ]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table)
    io.stdout(`${row.map((c, i) => (i < row.length - 1 ? c.padEnd(widths[i]!) : c)).join("  ")}\n`);
  io.stdout(`cache: ${cache}/images\n`);
  return 0;
}

/** `popek image add DIR --name NAME [--append CMDLINE]`. */
export async function imageAdd(dir: string, name: string, append: string | undefined, io: CliIo): Promise<number> {
  try {
    const set = await addImage(popekCacheDir(), dir, name, append === undefined ? {} : { append });
    io.stderr(`popek: added image ${name} (boot it with \`popek run --image ${name}\`)\n`);
    io.stdout(describeSet(set));
    return 0;
  } catch (e) {
    throw asCliError(e, io);
  }
}

/** What `popek run` boots when it is given no --kernel: checked bytes and the set's command line. */
export interface BootImage {
  readonly kernel: Uint8Array;
  readonly initrd: Uint8Array | undefined;
  readonly append: string;
}

/**
 * The kernel and initrd of a registered set, or of the default set (built first if missing or damaged). The bytes
 * returned are the ones checked against the manifest; a damaged registered set is an error and is not booted.
 */
export async function bootImage(name: string | undefined, io: CliIo): Promise<BootImage> {
  let set: ImageSet;
  if (name === undefined || name === DEFAULT_IMAGE) {
    set = await defaultSet(io, availableParallelism(), true, " (popek run boots it without --kernel)");
  } else {
    try {
      set = await findRegistered(popekCacheDir(), name);
      const damage = await verifySet(set.dir, set.manifest);
      if (damage.length > 0)
        throw new CliError(
          `image ${name} is damaged, not booting it: ${describeDamage(damage)}; add it again with \`popek image add\``,
        );
    } catch (e) {
      throw asCliError(e, io);
    }
  }
  try {
    const m = set.manifest;
    return {
      kernel: await readVerified(set, m.kernel),
      initrd: m.initrd === undefined ? undefined : await readVerified(set, m.initrd),
      append: m.append,
    };
  } catch (e) {
    if (e instanceof ImageError && e.code === "ECORRUPT") {
      const label = name ?? DEFAULT_IMAGE;
      const fix =
        label === DEFAULT_IMAGE ? "run `popek image build` to rebuild it" : `add it again with \`popek image add\``;
      throw new CliError(`image ${label} is damaged, not booting it: ${e.message}; ${fix}`);
    }
    throw asCliError(e, io);
  }
}
