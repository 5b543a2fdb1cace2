/**
 * Raw disk images for virtio-blk in Node: a BlockBackend over one open file, read-only or read-write, with a lock
 * against a second VM opening the image read-write, and `snapshot` drives whose writes go to an in-memory overlay.
 *
 * The image is opened once, and only guest requests write it: WRITE and WRITE_ZEROES, each carried out completely
 * (pwrite until every byte is written) before the guest hears of it; FLUSH is fsync. `close` waits for requests in
 * flight, fsyncs what was written and only then closes, so a VM that exits (poweroff, Ctrl-A x, SIGINT/SIGTERM)
 * leaves no write half-done. Discard deallocates nothing (Node has no fallocate/punch-hole); the spec allows that.
 *
 * Locking: Node has no flock/fcntl without a native addon, so the lock is a file beside the image,
 * `IMAGE.popek-lock`, holding the owner's pid, host name and a nonce. It is created atomically (written under a
 * temporary name, then link(2)ed into place, which fails if a lock exists), so a reader never sees a half-written
 * lock. A read-write opener takes it; read-only and snapshot openers take no lock but refuse an image a live VM
 * holds read-write (as QEMU's shared locks refuse it). A lock whose process is gone (same host, pid not running)
 * is stale and taken over. The lock is removed on close and, failing that, when the process exits. Limits: a
 * writer that starts while a reader runs is not detected, and a lock from another host is never considered stale
 * (delete it by hand once sure). A lock file works on any file system, including ones without POSIX locks.
 */
import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, unlinkSync } from "node:fs";
import { type FileHandle, link, open, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { type BlockBackend, BlockError, CowOverlay, ZERO_CHUNK } from "../../core/devices/virtio/blk-backend.ts";

/** A drive that cannot be opened; `code` is an errno name or EBUSY (locked), ENOTREG, EEMPTY. */
export class DriveError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "DriveError";
    this.code = code;
  }
}

export interface DriveOptions {
  /** Open read-only; the guest sees a read-only disk (VIRTIO_BLK_F_RO). */
  readonly readOnly?: boolean;
  /** Open read-only and keep the guest's writes in memory (lost when the VM exits; the image never changes). */
  readonly snapshot?: boolean;
}

/** An open drive: the backend for VirtioBlk and how to close it. */
export interface Drive {
  readonly path: string;
  readonly backend: BlockBackend;
  /** Wait for requests in flight, fsync what was written, close the file and drop the lock. */
  close(): Promise<void>;
}

/** Lock file suffix. */
export const LOCK_SUFFIX = ".popek-lock";

const REASONS: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "read-only file system",
  EISDIR: "is a directory",
  ENOTDIR: "a parent of it is not a directory",
  ELOOP: "too many levels of symbolic links",
};

/** Open `path` as a drive. Throws DriveError with a one-line reason. */
export async function openDrive(path: string, opts: DriveOptions = {}): Promise<Drive> {
  const writable = !opts.readOnly && !opts.snapshot;
  const lockPath = path + LOCK_SUFFIX;
  let lock: HeldLock | null = null;
  if (writable) lock = await acquireLock(path, lockPath);
  else await refuseIfWriter(path, lockPath);
  let fh: FileHandle;
  try {
    fh = await open(path, writable ? "r+" : "r");
  } catch (e) {
    await lock?.release();
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    const hint =
      writable && (code === "EACCES" || code === "EPERM" || code === "EROFS")
        ? " (readonly=on or snapshot=on open it read-only)"
        : "";
    throw new DriveError(code, `${REASONS[code] ?? (e as Error).message}${hint}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile())
      throw new DriveError(
        st.isDirectory() ? "EISDIR" : "ENOTREG",
        st.isDirectory() ? "is a directory" : "not a regular file",
      );
    if (st.size < 512) throw new DriveError("EEMPTY", `the image has ${st.size} bytes, less than one 512-byte sector`);
    const file = new FileBlockBackend(fh, st.size, !writable);
    const backend: BlockBackend = opts.snapshot && !opts.readOnly ? new CowOverlay(file) : file;
    let closed: Promise<void> | null = null;
    return {
      path,
      backend,
      close: () => {
        closed ??= (async () => {
          try {
            await file.close();
          } finally {
            await lock?.release();
          }
        })();
        return closed;
      },
    };
  } catch (e) {
    await fh.close();
    await lock?.release();
    throw e;
  }
}

/** A raw image file. Positions are bytes; reads past the end of the file (none are asked for) give zeroes. */
export class FileBlockBackend implements BlockBackend {
  readonly size: number;
  readonly readOnly: boolean;
  private readonly fh: FileHandle;
  private inflight = 0;
  private idle: (() => void)[] = [];
  private dirty = false;
  private closing = false;

  constructor(fh: FileHandle, size: number, readOnly: boolean) {
    this.fh = fh;
    this.size = size;
    this.readOnly = readOnly;
  }

  read(pos: number, dst: Uint8Array): Promise<void> {
    return this.op(async () => {
      for (let done = 0; done < dst.length; ) {
        const { bytesRead } = await this.fh.read(dst, done, dst.length - done, pos + done);
        if (bytesRead === 0) {
          dst.fill(0, done);
          return;
        }
        done += bytesRead;
      }
    });
  }

  write(pos: number, src: Uint8Array): Promise<void> {
    return this.op(async () => {
      this.writable();
      this.dirty = true;
      for (let done = 0; done < src.length; ) {
        const { bytesWritten } = await this.fh.write(src, done, src.length - done, pos + done);
        done += bytesWritten;
      }
    });
  }

  flush(): Promise<void> {
    return this.op(async () => {
      if (this.readOnly) return;
      this.dirty = false;
      await this.fh.sync();
    });
  }

  writeZeroes(pos: number, len: number): Promise<void> {
    return this.op(async () => {
      this.writable();
      this.dirty = true;
      const zero = new Uint8Array(Math.min(len, ZERO_CHUNK));
      for (let done = 0; done < len; ) {
        const { bytesWritten } = await this.fh.write(zero, 0, Math.min(zero.length, len - done), pos + done);
        done += bytesWritten;
      }
    });
  }

  async discard(_pos: number, _len: number): Promise<void> {
    this.writable();
  }

  /** Wait for operations in flight, fsync if anything was written since the last flush, close the file. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    while (this.inflight > 0) await new Promise<void>((r) => this.idle.push(r));
    try {
      if (this.dirty) await this.fh.sync();
    } finally {
      await this.fh.close();
    }
  }

  private writable(): void {
    if (this.readOnly) throw new BlockError("EROFS", "the drive is read-only");
  }

  private async op(f: () => Promise<void>): Promise<void> {
    if (this.closing) throw new BlockError("ECLOSED", "the drive is closed");
    this.inflight++;
    try {
      await f();
    } finally {
      if (--this.inflight === 0) for (const r of this.idle.splice(0)) r();
    }
  }
}

// ---- The lock file ----

interface LockInfo {
  readonly pid: number;
  readonly host: string;
  readonly nonce: string;
  readonly image: string;
}

interface HeldLock {
  release(): Promise<void>;
}

/** Locks this process holds, removed synchronously at exit if not released before. */
const held = new Map<string, string>();
let exitHook = false;

function removeHeldLocks(): void {
  for (const [path, nonce] of held) {
    try {
      if (parseLock(readFileSync(path, "utf8"))?.nonce === nonce) unlinkSync(path);
    } catch {
      // already gone
    }
  }
  held.clear();
}

function parseLock(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid === "number" && typeof v.host === "string" && typeof v.nonce === "string") return v as LockInfo;
  } catch {
    // not ours, or half-written by something else
  }
  return null;
}

/** Whether process `pid` runs on this host (EPERM: it does, under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readLock(lockPath: string): Promise<LockInfo | null | "missing"> {
  try {
    return parseLock(await readFile(lockPath, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw e;
  }
}

function busy(image: string, lockPath: string, info: LockInfo | null): DriveError {
  const who =
    info === null
      ? "another program"
      : `popek process ${info.pid}${info.host === hostname() ? "" : ` on ${info.host}`}`;
  return new DriveError(
    "EBUSY",
    `in use read-write by ${who} (lock file ${lockPath}; delete it only if no VM uses ${basename(image)})`,
  );
}

/** Take the lock for a read-write opener, taking over a stale one. */
async function acquireLock(image: string, lockPath: string): Promise<HeldLock> {
  const info: LockInfo = { pid: process.pid, host: hostname(), nonce: randomBytes(8).toString("hex"), image };
  const tmp = join(dirname(lockPath), `.${basename(lockPath)}.${process.pid}.${info.nonce}`);
  try {
    await writeFile(tmp, `${JSON.stringify(info)}\n`, { flag: "wx" });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new DriveError(code, `cannot create the lock file ${lockPath}: ${REASONS[code] ?? (e as Error).message}`);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, lockPath);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
          const code = (e as NodeJS.ErrnoException).code ?? "EIO";
          throw new DriveError(
            code,
            `cannot create the lock file ${lockPath}: ${REASONS[code] ?? (e as Error).message}`,
          );
        }
      }
      const other = await readLock(lockPath);
      if (other === "missing" && attempt < 8) continue; // released meanwhile
      if (other === "missing" || other === null || other.host !== hostname() || alive(other.pid) || attempt >= 3) {
        throw busy(image, lockPath, other === "missing" ? null : other);
      }
      await takeOverStale(lockPath, other);
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
  held.set(lockPath, info.nonce);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", removeHeldLocks);
  }
  return {
    release: async () => {
      if (held.get(lockPath) !== info.nonce) return;
      held.delete(lockPath);
      const now = await readLock(lockPath).catch(() => "missing" as const);
      if (now !== "missing" && now?.nonce === info.nonce) await unlink(lockPath).catch(() => {});
    },
  };
}

/**
 * Remove a stale lock without removing a live one that replaced it meanwhile: move it aside under a private name,
 * check that what moved is the stale lock that was judged, and put it back if not.
 */
async function takeOverStale(lockPath: string, stale: LockInfo): Promise<void> {
  const aside = `${lockPath}.stale.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // someone else moved it: try again
  }
  const moved = parseLock(await readFile(aside, "utf8").catch(() => ""));
  if (moved !== null && moved.nonce !== stale.nonce) {
    try {
      linkSync(aside, lockPath);
    } catch {
      // a third opener took the place: it holds the lock now
    }
  }
  await unlink(aside).catch(() => {});
}

/** Read-only and snapshot openers: refuse an image a live VM holds read-write. */
async function refuseIfWriter(image: string, lockPath: string): Promise<void> {
  const other = await readLock(lockPath).catch(() => "missing" as const);
  if (other === "missing") return;
  if (other !== null && other.host === hostname() && !alive(other.pid)) return; // stale
  throw busy(image, lockPath, other);
}
