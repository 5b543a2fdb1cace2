/**
 * Guest image sets on the host: the cache (`$XDG_CACHE_HOME/popek/images/<id>`, default `~/.cache/popek`), each set's
 * manifest (size and sha256 of every file, versions, date), the registry of names given with `popek image add`,
 * integrity checks (a set whose files do not match its manifest is never booted), and a lock file so that one process
 * at a time builds or changes a set. The build itself is in image-build.ts.
 */
import { createHash } from "node:crypto";
import { constants, createReadStream } from "node:fs";
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** What went wrong with an image set; the CLI prints the message on one line. */
export type ImageErrorCode =
  | "ENOIMAGE" // no set by that name, or no default image built yet
  | "ECORRUPT" // a file does not match the manifest
  | "EMANIFEST" // manifest missing or malformed
  | "EINPUT" // bad `image add` input (name, directory)
  | "EBUILD" // a build step failed
  | "ENEEDROOT"; // build dependencies missing and not root to install them

/** A host-side image problem with a `code` callers map to messages or exit codes. */
export class ImageError extends Error {
  readonly code: ImageErrorCode;
  /** Lines to show before the one-line message (a failed step's last output, the commands to install packages). */
  readonly details: string;
  constructor(code: ImageErrorCode, message: string, details = "") {
    super(message);
    this.name = "ImageError";
    this.code = code;
    this.details = details;
  }
}

export const MANIFEST = "manifest.json";
/** Name of the image set built from tools/image. */
export const DEFAULT_IMAGE = "default";
/** Registered names: letters, digits, `.`, `_`, `-`; not starting with a dot or dash. */
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
/** Kernel command line of a set that says none: the console on the UART. */
export const DEFAULT_SET_APPEND = "console=ttyS0";

export interface ManifestFile {
  readonly size: number;
  readonly sha256: string;
}

/** manifest.json of an image set. Version 1. */
export interface Manifest {
  readonly format: 1;
  /** "build": built from a recipe by popek; "add": registered from a user's directory. */
  readonly source: "build" | "add";
  /** Recipe hash (built sets). */
  readonly recipe?: string;
  /** Directory the set was added from (added sets). */
  readonly origin?: string;
  /** ISO 8601 date of the build or the add. */
  readonly created: string;
  /** File names inside the set for each role. */
  readonly kernel: string;
  readonly initrd?: string;
  readonly disk?: string;
  /** Kernel command line to boot the set with. */
  readonly append: string;
  /** Package and component versions (built sets), free-form for added ones. */
  readonly versions: Readonly<Record<string, string>>;
  /** Build statistics (built sets): seconds, kernel build lines. */
  readonly build?: { readonly seconds: number; readonly kernelLines: number; readonly jobs: number };
  /** Every file of the set except the manifest. */
  readonly files: Readonly<Record<string, ManifestFile>>;
}

/** An image set in the cache. */
export interface ImageSet {
  /** Directory name under images/ (the first 16 hex digits of a hash). */
  readonly id: string;
  readonly dir: string;
  readonly manifest: Manifest;
}

/** popek's cache directory: `$XDG_CACHE_HOME/popek`, else `~/.cache/popek` (a relative XDG path is ignored). */
export function popekCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg?.startsWith("/") ? xdg : join(homedir(), ".cache"), "popek");
}

export function imagesDir(cache: string): string {
  return join(cache, "images");
}

/** tools/image in the popek checkout or package (this file is src/host/node or dist/host/node). */
export function recipeDir(): string {
  return fileURLToPath(new URL("../../../tools/image/", import.meta.url));
}

/** sha256 of a file, streamed. */
export async function hashFile(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** Regular files under `dir`, as sorted relative paths (symbolic links and other kinds are an error). */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(relative(dir, p));
      else throw new ImageError("EINPUT", `${p}: not a regular file or directory`);
    }
  };
  await walk(dir);
  return out.sort();
}

/**
 * Hash of a recipe directory: every file's path, executable bit and content. Any change to the configs, the init
 * script, the pinned versions or the build script gives a new hash, hence a new cache entry.
 */
export async function recipeHash(dir: string = recipeDir()): Promise<string> {
  const h = createHash("sha256");
  for (const f of await listFiles(dir)) {
    const st = await stat(join(dir, f));
    h.update(`${f}\0${st.mode & 0o111 ? "x" : "-"}\0${await hashFile(join(dir, f))}\n`);
  }
  return h.digest("hex");
}

/** Cache id of the default image set built from a recipe with this hash. */
export function builtImageId(recipe: string): string {
  return recipe.slice(0, 16);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parse and check a manifest; throws EMANIFEST naming `where` on anything malformed. */
export function parseManifest(text: string, where: string): Manifest {
  const bad = (why: string) => new ImageError("EMANIFEST", `${where}: ${why}`);
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw bad(`not JSON (${(e as Error).message})`);
  }
  if (!isRecord(m)) throw bad("not a JSON object");
  if (m.format !== 1) throw bad(`unknown format ${JSON.stringify(m.format)} (expected 1)`);
  if (m.source !== "build" && m.source !== "add") throw bad('"source" must be "build" or "add"');
  if (typeof m.created !== "string") throw bad('"created" is missing');
  if (typeof m.append !== "string") throw bad('"append" is missing');
  if (!isRecord(m.files)) throw bad('"files" is missing');
  for (const [name, f] of Object.entries(m.files)) {
    if (name.includes("/") || name === "." || name === ".." || name === MANIFEST) throw bad(`bad file name ${name}`);
    if (
      !isRecord(f) ||
      !Number.isSafeInteger(f.size) ||
      typeof f.sha256 !== "string" ||
      !/^[0-9a-f]{64}$/.test(f.sha256)
    )
      throw bad(`files.${name}: needs a size and a sha256`);
  }
  for (const role of ["kernel", "initrd", "disk"] as const) {
    const v = m[role];
    if (v === undefined && role !== "kernel") continue;
    if (typeof v !== "string" || !(v in m.files)) throw bad(`"${role}" must name one of its files`);
  }
  if (!isRecord(m.versions) || Object.values(m.versions).some((v) => typeof v !== "string"))
    throw bad('"versions" must map names to strings');
  return m as unknown as Manifest;
}

export async function readManifest(dir: string): Promise<Manifest> {
  const path = join(dir, MANIFEST);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new ImageError("EMANIFEST", `${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  return parseManifest(text, path);
}

/** Size and sha256 of each named file in `dir`, for a manifest. */
export async function describeFiles(dir: string, names: readonly string[]): Promise<Record<string, ManifestFile>> {
  const files: Record<string, ManifestFile> = {};
  for (const n of [...names].sort()) {
    const p = join(dir, n);
    files[n] = { size: (await stat(p)).size, sha256: await hashFile(p) };
  }
  return files;
}

export async function writeManifest(dir: string, m: Manifest): Promise<void> {
  await writeFile(join(dir, MANIFEST), `${JSON.stringify(m, null, 2)}\n`);
}

/** One file that does not match the manifest. */
export interface Damage {
  readonly file: string;
  readonly problem: string;
}

/** Check every file of a set against its manifest (size first, then sha256); an empty list means intact. */
export async function verifySet(dir: string, m: Manifest): Promise<Damage[]> {
  const damage: Damage[] = [];
  for (const [name, want] of Object.entries(m.files)) {
    const p = join(dir, name);
    let size: number;
    try {
      size = (await stat(p)).size;
    } catch {
      damage.push({ file: name, problem: "missing" });
      continue;
    }
    if (size !== want.size) damage.push({ file: name, problem: `${size} bytes, manifest says ${want.size}` });
    else if ((await hashFile(p)) !== want.sha256) damage.push({ file: name, problem: "sha256 differs from manifest" });
  }
  return damage;
}

export function describeDamage(damage: readonly Damage[]): string {
  return damage.map((d) => `${d.file}: ${d.problem}`).join("; ");
}

/**
 * Read one file of a set whole and check it against the manifest: the bytes returned are the bytes that were hashed,
 * so what boots is what was verified. Throws ECORRUPT on a mismatch.
 */
export async function readVerified(set: ImageSet, name: string): Promise<Uint8Array> {
  const want = set.manifest.files[name];
  if (!want) throw new ImageError("EMANIFEST", `${set.dir}: manifest lists no file ${name}`);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(join(set.dir, name)));
  } catch (e) {
    throw new ImageError("ECORRUPT", `${join(set.dir, name)}: cannot read (${(e as NodeJS.ErrnoException).code})`);
  }
  if (bytes.length !== want.size)
    throw new ImageError("ECORRUPT", `${join(set.dir, name)}: ${bytes.length} bytes, manifest says ${want.size}`);
  if (createHash("sha256").update(bytes).digest("hex") !== want.sha256)
    throw new ImageError("ECORRUPT", `${join(set.dir, name)}: sha256 differs from the manifest`);
  return bytes;
}

/** The set with this id in the cache, or undefined if there is none (a malformed manifest throws). */
export async function openSet(cache: string, id: string): Promise<ImageSet | undefined> {
  const dir = join(imagesDir(cache), id);
  try {
    await stat(join(dir, MANIFEST));
  } catch {
    return undefined;
  }
  return { id, dir, manifest: await readManifest(dir) };
}

/** Run `fn` holding `<cache>/images/<key>.lock`; waits (calling `onWait` once) while another live process holds it. */
export async function withLock<T>(
  cache: string,
  key: string,
  fn: () => Promise<T>,
  onWait?: (holder: number) => void,
): Promise<T> {
  await mkdir(imagesDir(cache), { recursive: true });
  const path = join(imagesDir(cache), `${key}.lock`);
  let told = false;
  for (;;) {
    try {
      const f = await open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
      await f.writeFile(`${process.pid}\n`);
      await f.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    if (!alive(holder)) {
      // Left by a process that died (or still being written: the pid appears within microseconds, so retry once).
      await new Promise((r) => setTimeout(r, 50));
      const again = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
      if (!alive(again)) await rm(path, { force: true });
      continue;
    }
    if (!told) onWait?.(holder);
    told = true;
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

// --- the registry of names -----------------------------------------------------------------------------------------

const REGISTRY = "registry.json";

/** Registered names → set ids. */
export async function readRegistry(cache: string): Promise<Record<string, string>> {
  const path = join(imagesDir(cache), REGISTRY);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return {};
  }
  let r: unknown;
  try {
    r = JSON.parse(text);
  } catch {
    throw new ImageError("EMANIFEST", `${path}: not JSON`);
  }
  if (!isRecord(r) || r.format !== 1 || !isRecord(r.names)) throw new ImageError("EMANIFEST", `${path}: malformed`);
  const names: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.names)) if (typeof v === "string" && /^[0-9a-f]{16}$/.test(v)) names[k] = v;
  return names;
}

async function writeRegistry(cache: string, names: Record<string, string>): Promise<void> {
  const path = join(imagesDir(cache), REGISTRY);
  const sorted = Object.fromEntries(Object.entries(names).sort(([a], [b]) => (a < b ? -1 : 1)));
  await writeFile(`${path}.tmp`, `${JSON.stringify({ format: 1, names: sorted }, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}

/** File names `image add` looks for in a directory without a manifest, in order of preference. */
const KERNEL_NAMES = ["Image"];
const INITRD_NAMES = ["initramfs.cpio.gz", "initramfs.cpio", "initrd.img", "initrd"];
const DISK_NAMES = ["rootfs.ext4", "disk.img"];

async function firstExisting(dir: string, names: readonly string[]): Promise<string | undefined> {
  for (const n of names) {
    try {
      if ((await stat(join(dir, n))).isFile()) return n;
    } catch {}
  }
  return undefined;
}

export interface AddOptions {
  /** Kernel command line for the set (default: the directory's manifest's, else console=ttyS0). */
  readonly append?: string;
}

/**
 * Register a user's image set under `name`: the kernel (`Image`), an initrd and a disk if present (or exactly the
 * files a manifest.json in `src` names, after checking them against it) are copied into the cache, hashed there, and
 * given a manifest. Re-adding a name replaces it. Returns the new set.
 */
export async function addImage(cache: string, src: string, name: string, opts: AddOptions = {}): Promise<ImageSet> {
  if (!NAME_RE.test(name))
    throw new ImageError("EINPUT", `bad name ${JSON.stringify(name)}: use letters, digits, '.', '_' or '-' (max 64)`);
  if (name === DEFAULT_IMAGE) throw new ImageError("EINPUT", `"${DEFAULT_IMAGE}" is the image popek builds itself`);
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(src);
  } catch {
    throw new ImageError("EINPUT", `${src}: no such directory`);
  }
  if (!st.isDirectory()) throw new ImageError("EINPUT", `${src}: not a directory`);

  let kernel: string | undefined;
  let initrd: string | undefined;
  let disk: string | undefined;
  let append = opts.append;
  let versions: Record<string, string> = {};
  let own: Manifest | undefined;
  if (await firstExisting(src, [MANIFEST])) {
    own = await readManifest(src);
    const damage = await verifySet(src, own);
    if (damage.length > 0)
      throw new ImageError("ECORRUPT", `${src}: files do not match its manifest (${describeDamage(damage)})`);
    ({ kernel, initrd, disk } = own);
    append ??= own.append;
    versions = { ...own.versions };
  } else {
    kernel = await firstExisting(src, KERNEL_NAMES);
    initrd = await firstExisting(src, INITRD_NAMES);
    disk = await firstExisting(src, DISK_NAMES);
  }
  if (kernel === undefined)
    throw new ImageError("EINPUT", `${src}: no kernel (a file named ${KERNEL_NAMES.join(", ")})`);
  const names = [kernel, initrd, disk].filter((n): n is string => n !== undefined);

  return withLock(cache, "registry", async () => {
    const staging = join(imagesDir(cache), `.add-${process.pid}-${Date.now()}`);
    await mkdir(staging, { recursive: true });
    try {
      for (const n of names) await copyFile(join(src, n), join(staging, n), constants.COPYFILE_FICLONE);
      const files = await describeFiles(staging, names);
      // The copies are what gets registered: if the source changed under us, its manifest no longer matches them.
      if (own) {
        for (const n of names)
          if (files[n]!.sha256 !== own.files[n]!.sha256)
            throw new ImageError("ECORRUPT", `${join(src, n)} changed while it was being copied`);
      }
      const id = createHash("sha256")
        .update(JSON.stringify([names.map((n) => [n, files[n]!.sha256]), append ?? DEFAULT_SET_APPEND]))
        .digest("hex")
        .slice(0, 16);
      const manifest: Manifest = {
        format: 1,
        source: "add",
        origin: src,
        created: new Date().toISOString(),
        kernel,
        ...(initrd === undefined ? {} : { initrd }),
        ...(disk === undefined ? {} : { disk }),
        append: append ?? DEFAULT_SET_APPEND,
        versions,
        files,
      };
      await writeManifest(staging, manifest);
      const dir = join(imagesDir(cache), id);
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
      const reg = await readRegistry(cache);
      reg[name] = id;
      await writeRegistry(cache, reg);
      return { id, dir, manifest };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  });
}

/** A registered set by name (not "default": that one is built, see image-build.ts). */
export async function findRegistered(cache: string, name: string): Promise<ImageSet> {
  const id = (await readRegistry(cache))[name];
  if (id === undefined) {
    const known = Object.keys(await readRegistry(cache));
    throw new ImageError(
      "ENOIMAGE",
      `no image named ${JSON.stringify(name)} (registered: ${known.length ? known.join(", ") : "none"}; ` +
        "add one with `popek image add DIR --name NAME`)",
    );
  }
  const set = await openSet(cache, id);
  if (!set) throw new ImageError("ENOIMAGE", `image ${name}: its files are gone from ${join(imagesDir(cache), id)}`);
  return set;
}

/** One row of `popek image list`. */
export interface ListedImage {
  /** Registered name, "default", or "" for an unnamed built set of another recipe. */
  readonly name: string;
  readonly id: string;
  readonly set?: ImageSet;
  /** Empty when intact; "not built" for a missing default set. */
  readonly damage: readonly Damage[];
  readonly note: string;
}

/** Everything in the cache: the default set of the current recipe (built or not), registered sets, other builds. */
export async function listImages(cache: string, currentRecipe: string): Promise<ListedImage[]> {
  const rows: ListedImage[] = [];
  const seen = new Set<string>();
  const row = async (name: string, id: string, note: string) => {
    seen.add(id);
    let set: ImageSet | undefined;
    try {
      set = await openSet(cache, id);
    } catch (e) {
      rows.push({ name, id, damage: [{ file: MANIFEST, problem: (e as Error).message }], note });
      return;
    }
    if (!set) {
      rows.push({ name, id, damage: [], note: name === DEFAULT_IMAGE ? "not built yet (popek image build)" : "gone" });
      return;
    }
    rows.push({ name, id, set, damage: await verifySet(set.dir, set.manifest), note });
  };
  await row(DEFAULT_IMAGE, builtImageId(currentRecipe), "built from tools/image");
  for (const [name, id] of Object.entries(await readRegistry(cache))) await row(name, id, "added");
  let entries: string[] = [];
  try {
    entries = await readdir(imagesDir(cache));
  } catch {}
  for (const id of entries.sort()) {
    if (!/^[0-9a-f]{16}$/.test(id) || seen.has(id)) continue;
    await row("", id, "built from an older recipe");
  }
  return rows;
}
