/**
 * A host folder shared with a guest over 9P (the P9Backend of src/core/devices/virtio/p9-fs.ts), read-only or
 * read-write. The guest must never reach a host path outside the folder, so nothing here resolves a guest path as a
 * whole: the folder is opened once, and every operation opens the path's directories one name at a time, each
 * relative to the descriptor of the one before (`/proc/self/fd/N/name`, which is openat(N, name) for Node, which has
 * no *at calls), with O_NOFOLLOW | O_DIRECTORY, then acts on the last name relative to its directory's descriptor
 * with a call that does not follow a final symlink (lstat, readlink, unlink, rmdir, rename, link, symlink, mkdir,
 * lutimes, open with O_NOFOLLOW). chmod, utimes and truncate go through a descriptor opened that way. So `..`, names
 * with '/', symlinks (relative, absolute, dangling, swapped in for a directory between two requests) never lead out:
 * a directory renamed or replaced while an operation walks is either still the one the descriptor holds or an error.
 * Only regular files and directories are opened (FIFOs would block, device nodes would reach host devices).
 * Needs Linux's /proc/self/fd; elsewhere `NodeShare.open` fails with ShareError code SHARE_UNSUPPORTED. Timestamps
 * are set with microsecond precision (Node passes seconds as a double). Hard links made on the host from inside the
 * folder to files outside it are the host user's choice and are served like any file.
 */
import { type BigIntStats, constants as C, type Dirent } from "node:fs";
import * as fsp from "node:fs/promises";
import {
  checkName,
  type FsAttr,
  type FsDirent,
  FsError,
  type FsFile,
  type FsPath,
  type FsSetattr,
  type FsStatfs,
  type P9Backend,
} from "../../core/devices/virtio/p9-fs.ts";
import { DT, E, O, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "../../core/devices/virtio/p9-proto.ts";

/** A share that cannot be set up; `code`: SHARE_NOT_FOUND, SHARE_NOT_DIR, SHARE_UNSUPPORTED, SHARE_ACCESS. */
export class ShareError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "ShareError";
    this.code = code;
  }
}

const PROC_FD = "/proc/self/fd/";
/** Flags of every directory opened on the way down a path. */
const DIR_FLAGS = C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW | C.O_NOCTTY;
/** Added to every open of a file: never follow, never block on a FIFO, never take a terminal. */
const FILE_FLAGS = C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY;
const NS = 1_000_000_000n;
const DEV_INDEX_SHIFT = 48n;
const INO_MASK = (1n << DEV_INDEX_SHIFT) - 1n;

/** Node's error codes that are Linux errno names, plus aliases. */
const ERRNO: Record<string, number> = { ...E, ENOTSUP: E.EOPNOTSUPP, EWOULDBLOCK: E.EAGAIN };

/** A host error as FsError; errors without an errno code (host bugs) are passed through for the server to log. */
function fsError(e: unknown): unknown {
  if (e instanceof FsError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string") {
    const errno = ERRNO[code];
    if (errno !== undefined) return new FsError(errno, (e as Error).message);
    if (code.startsWith("E")) return new FsError(E.EIO, (e as Error).message);
  }
  return e;
}

function fail(errno: number): never {
  throw new FsError(errno);
}

/** `/proc/self/fd/<fd>/<name>` as bytes (the name is a byte string; "." only where `dot` allows it: the root). */
function at(fd: number, name?: string, dot = false): Buffer {
  const dir = Buffer.from(`${PROC_FD}${fd}`);
  if (name === undefined) return dir;
  const err = checkName(name);
  if (err !== 0 && !(dot && name === ".")) fail(err);
  return Buffer.concat([dir, Buffer.from("/"), Buffer.from(name, "latin1")]);
}

/** Host open flags for Linux O_* flags from the server (on Linux hosts they are the same numbers). */
function hostFlags(flags: number): number {
  const acc = flags & O.ACCMODE;
  let f = acc === O.WRONLY ? C.O_WRONLY : acc === O.RDWR ? C.O_RDWR : C.O_RDONLY;
  if (flags & O.TRUNC) f |= C.O_TRUNC;
  if (flags & O.APPEND) f |= C.O_APPEND;
  if (flags & O.DSYNC) f |= C.O_DSYNC;
  if (flags & O.SYNC) f |= C.O_SYNC;
  if (flags & O.DIRECTORY) f |= C.O_DIRECTORY;
  return f;
}

const isRegOrDir = (mode: number): boolean => (mode & S_IFMT) === S_IFREG || (mode & S_IFMT) === S_IFDIR;

/** Seconds (as Node's utimes wants them) for a time to set, given the current value in ns. */
function seconds(t: FsSetattr["atime"], currentNs: bigint): number {
  if (t === undefined) return Number(currentNs) / 1e9;
  if (t === "now") return Date.now() / 1000;
  return t.sec + t.nsec / 1e9;
}

/** A directory reached by walking: its descriptor, and whether we must close it (the root stays open). */
interface Dir {
  readonly fd: number;
  readonly handle: fsp.FileHandle | null;
}

export class NodeShare implements P9Backend {
  readonly readOnly: boolean;
  /** The shared folder as the user named it (messages only). */
  readonly hostPath: string;
  private readonly root: fsp.FileHandle;
  private readonly rootDev: bigint;
  private readonly devs = new Map<bigint, bigint>();

  private constructor(hostPath: string, root: fsp.FileHandle, rootDev: bigint, readOnly: boolean) {
    this.hostPath = hostPath;
    this.root = root;
    this.rootDev = rootDev;
    this.readOnly = readOnly;
  }

  /** Open `dir` for sharing. Throws ShareError if it is not a directory or the host lacks /proc/self/fd. */
  static async open(dir: string, opts: { readOnly?: boolean } = {}): Promise<NodeShare> {
    let root: fsp.FileHandle;
    try {
      // The folder itself may be reached through symlinks: it is the user's choice, resolved once, here.
      root = await fsp.open(dir, C.O_RDONLY | C.O_DIRECTORY);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw new ShareError("SHARE_NOT_FOUND", `${dir}: no such directory`);
      if (code === "ENOTDIR") throw new ShareError("SHARE_NOT_DIR", `${dir}: not a directory`);
      throw new ShareError("SHARE_ACCESS", `${dir}: ${(e as Error).message}`);
    }
    try {
      const st = await root.stat({ bigint: true });
      // The fd-relative walk needs Linux's /proc/self/fd/N/name; check that it names this very directory.
      let via: BigIntStats | undefined;
      try {
        via = await fsp.lstat(at(root.fd, ".", true), { bigint: true });
      } catch {
        via = undefined;
      }
      if (via === undefined || via.ino !== st.ino || via.dev !== st.dev) {
        throw new ShareError(
          "SHARE_UNSUPPORTED",
          "sharing a folder needs Linux's /proc/self/fd (descriptor-relative paths); it is not available here",
        );
      }
      return new NodeShare(dir, root, st.dev, opts.readOnly === true);
    } catch (e) {
      await root.close();
      throw e;
    }
  }

  /** Close the folder's descriptor (the server must not be used afterwards). */
  async close(): Promise<void> {
    await this.root.close();
  }

  /** Open the directory `path` one name at a time from the root, never following a symlink. */
  private async openDir(path: FsPath): Promise<Dir> {
    let cur: Dir = { fd: this.root.fd, handle: null };
    try {
      for (const name of path) {
        const next = await fsp.open(at(cur.fd, name), DIR_FLAGS);
        await cur.handle?.close();
        cur = { fd: next.fd, handle: next };
      }
      return cur;
    } catch (e) {
      await cur.handle?.close();
      throw e;
    }
  }

  /** Run `fn` with the directory holding the last name of `path` (the root itself is "." in the root). */
  private async inParent<T>(path: FsPath, fn: (dir: number, name: string) => Promise<T>): Promise<T> {
    try {
      const dir = await this.openDir(path.slice(0, -1));
      try {
        return await fn(dir.fd, path.length === 0 ? "." : path[path.length - 1]!);
      } finally {
        await dir.handle?.close();
      }
    } catch (e) {
      throw fsError(e);
    }
  }

  private async inDir<T>(path: FsPath, fn: (dir: number) => Promise<T>): Promise<T> {
    try {
      const dir = await this.openDir(path);
      try {
        return await fn(dir.fd);
      } finally {
        await dir.handle?.close();
      }
    } catch (e) {
      throw fsError(e);
    }
  }

  private writable(): void {
    if (this.readOnly) fail(E.EROFS);
  }

  /** FsAttr from a host stat; qid paths of files on other devices get a device index in their top 16 bits. */
  attr(st: BigIntStats): FsAttr {
    let ino = st.ino;
    if (st.dev !== this.rootDev) {
      let index = this.devs.get(st.dev);
      if (index === undefined) {
        index = BigInt(this.devs.size + 1);
        this.devs.set(st.dev, index);
      }
      ino = (index << DEV_INDEX_SHIFT) | (ino & INO_MASK);
    }
    const split = (ns: bigint): [number, number] => {
      let s = ns / NS;
      let n = ns % NS;
      if (n < 0n) {
        s -= 1n;
        n += NS;
      }
      return [Number(s), Number(n)];
    };
    const [atimeSec, atimeNsec] = split(st.atimeNs);
    const [mtimeSec, mtimeNsec] = split(st.mtimeNs);
    const [ctimeSec, ctimeNsec] = split(st.ctimeNs);
    const [btimeSec, btimeNsec] = st.birthtimeNs > 0n ? split(st.birthtimeNs) : [-1, 0];
    return {
      ino,
      mode: Number(st.mode),
      uid: Number(st.uid),
      gid: Number(st.gid),
      nlink: Number(st.nlink),
      rdev: Number(st.rdev),
      size: Number(st.size),
      blksize: Number(st.blksize),
      blocks: Number(st.blocks),
      atimeSec,
      atimeNsec,
      mtimeSec,
      mtimeNsec,
      ctimeSec,
      ctimeNsec,
      btimeSec,
      btimeNsec,
    };
  }

  lstat(path: FsPath): Promise<FsAttr> {
    if (path.length === 0) return this.root.stat({ bigint: true }).then((st) => this.attr(st), rethrow);
    return this.inParent(path, async (dir, name) => this.attr(await fsp.lstat(at(dir, name), { bigint: true })));
  }

  /**
   * Open `name` in `dir` if it is a regular file or directory (lstat first: a FIFO or device is never opened);
   * with `root`, "." (the root itself) is allowed.
   */
  private async openIn(dir: number, name: string, flags: number, root = false): Promise<NodeFile> {
    const p = at(dir, name, root);
    const before = await fsp.lstat(p, { bigint: true });
    const mode = Number(before.mode);
    if ((mode & S_IFMT) === S_IFLNK) fail(E.ELOOP);
    if (!isRegOrDir(mode)) fail(E.ENXIO);
    return this.wrap(await fsp.open(p, hostFlags(flags) | FILE_FLAGS));
  }

  /** Check what was opened (a name swapped between lstat and open could be anything) and wrap it. */
  private async wrap(fh: fsp.FileHandle): Promise<NodeFile> {
    try {
      const st = await fh.stat({ bigint: true });
      if (!isRegOrDir(Number(st.mode))) fail(E.ENXIO);
      return new NodeFile(this, fh, (Number(st.mode) & S_IFMT) === S_IFDIR);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  open(path: FsPath, flags: number): Promise<FsFile> {
    if (this.readOnly && ((flags & O.ACCMODE) !== O.RDONLY || flags & O.TRUNC))
      return Promise.reject(new FsError(E.EROFS));
    return this.inParent(path, (dir, name) => this.openIn(dir, name, flags, path.length === 0));
  }

  create(dir: FsPath, name: string, flags: number, mode: number): Promise<FsFile> {
    return this.inDir(dir, async (d) => {
      this.writable();
      const p = at(d, name);
      let fh: fsp.FileHandle;
      try {
        fh = await fsp.open(p, hostFlags(flags & ~O.DIRECTORY) | C.O_CREAT | C.O_EXCL | FILE_FLAGS, mode & 0o7777);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST" || flags & O.EXCL) throw e;
        // It exists and the guest did not ask for O_EXCL: open it like Tlopen would (never through a symlink).
        return this.openIn(d, name, flags & ~O.DIRECTORY);
      }
      const file = await this.wrap(fh);
      // The host's umask must not change the mode the guest asked for (the guest applied its own umask).
      await fh.chmod(mode & 0o7777);
      return file;
    });
  }

  mkdir(dir: FsPath, name: string, mode: number): Promise<FsAttr> {
    return this.inDir(dir, async (d) => {
      this.writable();
      const p = at(d, name);
      await fsp.mkdir(p, { mode: mode & 0o7777 });
      // chmod through a descriptor: a path-based chmod would follow a symlink swapped in for the new directory.
      const fh = await fsp.open(p, DIR_FLAGS);
      try {
        await fh.chmod(mode & 0o7777);
        return this.attr(await fh.stat({ bigint: true }));
      } finally {
        await fh.close();
      }
    });
  }

  symlink(dir: FsPath, name: string, target: string): Promise<FsAttr> {
    return this.inDir(dir, async (d) => {
      this.writable();
      const p = at(d, name);
      // Stored verbatim; never resolved on the host.
      await fsp.symlink(Buffer.from(target, "latin1"), p);
      return this.attr(await fsp.lstat(p, { bigint: true }));
    });
  }

  link(target: FsPath, dir: FsPath, name: string): Promise<void> {
    if (target.length === 0) return Promise.reject(new FsError(E.EPERM));
    return this.inParent(target, (from, fromName) =>
      this.inDir(dir, async (d) => {
        this.writable();
        // link(2) on Linux does not follow a symlink named as the source: the new name is another symlink.
        await fsp.link(at(from, fromName), at(d, name));
      }),
    );
  }

  readlink(path: FsPath): Promise<string> {
    if (path.length === 0) return Promise.reject(new FsError(E.EINVAL));
    return this.inParent(path, async (dir, name) =>
      (await fsp.readlink(at(dir, name), { encoding: "buffer" })).toString("latin1"),
    );
  }

  unlink(dir: FsPath, name: string, rmdir: boolean): Promise<void> {
    return this.inDir(dir, async (d) => {
      this.writable();
      await (rmdir ? fsp.rmdir(at(d, name)) : fsp.unlink(at(d, name)));
    });
  }

  rename(oldDir: FsPath, oldName: string, newDir: FsPath, newName: string): Promise<void> {
    return this.inDir(oldDir, (o) =>
      this.inDir(newDir, async (n) => {
        this.writable();
        await fsp.rename(at(o, oldName), at(n, newName));
      }),
    );
  }

  setattr(path: FsPath, attr: FsSetattr): Promise<void> {
    if (path.length === 0) {
      return (async () => {
        this.writable();
        await applyAttr(this.root, attr, true);
      })().catch(rethrow);
    }
    return this.inParent(path, async (dir, name) => {
      this.writable();
      const p = at(dir, name);
      const st = await fsp.lstat(p, { bigint: true });
      const fmt = Number(st.mode) & S_IFMT;
      if (fmt === S_IFLNK) {
        // A symlink's own times can be set without following it; its mode and size cannot be set at all.
        if (attr.mode !== undefined) fail(E.EOPNOTSUPP);
        if (attr.size !== undefined) fail(E.EINVAL);
        if (attr.atime !== undefined || attr.mtime !== undefined) {
          await fsp.lutimes(p, seconds(attr.atime, st.atimeNs), seconds(attr.mtime, st.mtimeNs));
        }
        return;
      }
      if (!isRegOrDir(Number(st.mode))) fail(E.EPERM);
      const isDir = fmt === S_IFDIR;
      const flags = isDir ? C.O_RDONLY | C.O_DIRECTORY : attr.size !== undefined ? C.O_WRONLY : C.O_RDONLY;
      const fh = await fsp.open(p, flags | FILE_FLAGS);
      try {
        const now = await fh.stat({ bigint: true });
        if (!isRegOrDir(Number(now.mode))) fail(E.EPERM);
        await applyAttr(fh, attr, isDir);
      } finally {
        await fh.close();
      }
    });
  }

  async statfs(): Promise<FsStatfs> {
    try {
      const s = await fsp.statfs(at(this.root.fd));
      return {
        type: s.type >>> 0,
        bsize: s.bsize,
        blocks: s.blocks,
        bfree: s.bfree,
        bavail: s.bavail,
        files: s.files,
        ffree: s.ffree,
      };
    } catch (e) {
      throw fsError(e);
    }
  }
}

function rethrow(e: unknown): never {
  throw fsError(e);
}

/** Mode, then size, then times (a truncate would move mtime after it was set). */
async function applyAttr(fh: fsp.FileHandle, attr: FsSetattr, isDir: boolean): Promise<void> {
  if (attr.mode !== undefined) await fh.chmod(attr.mode & 0o7777);
  if (attr.size !== undefined) {
    if (isDir) fail(E.EISDIR);
    await fh.truncate(attr.size);
  }
  if (attr.atime !== undefined || attr.mtime !== undefined) {
    const st = await fh.stat({ bigint: true });
    await fh.utimes(seconds(attr.atime, st.atimeNs), seconds(attr.mtime, st.mtimeNs));
  }
}

/** An open regular file or directory of a share. */
class NodeFile implements FsFile {
  private readonly share: NodeShare;
  private readonly fh: fsp.FileHandle;
  private readonly isDir: boolean;

  constructor(share: NodeShare, fh: fsp.FileHandle, isDir: boolean) {
    this.share = share;
    this.fh = fh;
    this.isDir = isDir;
  }

  async read(dst: Uint8Array, position: number): Promise<number> {
    try {
      return (await this.fh.read(dst, 0, dst.length, position)).bytesRead;
    } catch (e) {
      throw fsError(e);
    }
  }

  async write(src: Uint8Array, position: number): Promise<number> {
    try {
      if (this.share.readOnly) fail(E.EROFS);
      return (await this.fh.write(src, 0, src.length, position)).bytesWritten;
    } catch (e) {
      throw fsError(e);
    }
  }

  async stat(): Promise<FsAttr> {
    try {
      return this.share.attr(await this.fh.stat({ bigint: true }));
    } catch (e) {
      throw fsError(e);
    }
  }

  async setattr(attr: FsSetattr): Promise<void> {
    try {
      if (this.share.readOnly) fail(E.EROFS);
      await applyAttr(this.fh, attr, this.isDir);
    } catch (e) {
      throw fsError(e);
    }
  }

  async sync(dataOnly: boolean): Promise<void> {
    try {
      await (dataOnly ? this.fh.datasync() : this.fh.sync());
    } catch (e) {
      throw fsError(e);
    }
  }

  async readdir(): Promise<FsDirent[]> {
    try {
      if (!this.isDir) fail(E.ENOTDIR);
      // /proc/self/fd/N is this open directory itself, wherever it has moved.
      const list = await fsp.readdir(at(this.fh.fd), { withFileTypes: true, encoding: "buffer" });
      return list.map((d) => ({ name: d.name.toString("latin1"), type: direntType(d) }));
    } catch (e) {
      throw fsError(e);
    }
  }

  async statEntry(name: string): Promise<FsAttr> {
    try {
      if (!this.isDir) fail(E.ENOTDIR);
      return this.share.attr(await fsp.lstat(at(this.fh.fd, name), { bigint: true }));
    } catch (e) {
      throw fsError(e);
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

function direntType(e: Dirent<Buffer>): number {
  if (e.isFile()) return DT.REG;
  if (e.isDirectory()) return DT.DIR;
  if (e.isSymbolicLink()) return DT.LNK;
  if (e.isFIFO()) return DT.FIFO;
  if (e.isCharacterDevice()) return DT.CHR;
  if (e.isBlockDevice()) return DT.BLK;
  if (e.isSocket()) return DT.SOCK;
  return DT.UNKNOWN;
}
