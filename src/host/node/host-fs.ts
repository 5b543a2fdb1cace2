/**
 * The process VM's view of a host folder (`popek exec --root DIR`): a FileSystem (core/uvm/vfs.ts) over Node's
 * synchronous fs calls. The core resolves every path inside the guest's root (`..` stops at the root, symlinks,
 * absolute ones too, are resolved against it), so paths arriving here are absolute, normalised and free of
 * symlinked directories; this backend maps them under the root folder, refuses any path that would leave it, and opens
 * files with O_NOFOLLOW so a symlink swapped in after resolution is not followed. Host errors become -errno values.
 */
import * as fs from "node:fs";
import { resolve as resolveHost, sep } from "node:path";
import { E, ERRNO_BY_NAME } from "../../core/uvm/abi.ts";
import type { DirEntry, FileHandle, FileSystem, Stat } from "../../core/uvm/vfs.ts";

const C = fs.constants;

/** Linux open flags (asm-generic) to the host's. */
function hostFlags(flags: number): number {
  let f = [C.O_RDONLY, C.O_WRONLY, C.O_RDWR, C.O_RDWR][flags & 3]!;
  if (flags & 0o100) f |= C.O_CREAT;
  if (flags & 0o200) f |= C.O_EXCL;
  if (flags & 0o1000) f |= C.O_TRUNC;
  if (flags & 0o2000) f |= C.O_APPEND;
  if (flags & 0o200000) f |= C.O_DIRECTORY;
  return f | C.O_NOFOLLOW;
}

function errno(e: unknown): number {
  const code = (e as NodeJS.ErrnoException).code ?? "EIO";
  return -(ERRNO_BY_NAME[code] ?? E.IO);
}

function toStat(s: fs.BigIntStats): Stat {
  return {
    dev: Number(s.dev & 0xffffffffn),
    ino: s.ino,
    mode: Number(s.mode),
    nlink: Number(s.nlink),
    uid: Number(s.uid),
    gid: Number(s.gid),
    rdev: Number(s.rdev & 0xffffffffn),
    size: Number(s.size),
    blksize: Number(s.blksize),
    blocks: Number(s.blocks),
    atimeNs: s.atimeNs,
    mtimeNs: s.mtimeNs,
    ctimeNs: s.ctimeNs,
  };
}

/** d_type from a host directory entry. */
function dtype(d: fs.Dirent): number {
  if (d.isFile()) return 8;
  if (d.isDirectory()) return 4;
  if (d.isSymbolicLink()) return 10;
  if (d.isFIFO()) return 1;
  if (d.isCharacterDevice()) return 2;
  if (d.isBlockDevice()) return 6;
  if (d.isSocket()) return 12;
  return 0;
}

export class HostFs implements FileSystem {
  /** The root folder (absolute, no trailing separator unless it is "/"). */
  readonly root: string;

  constructor(root: string) {
    this.root = resolveHost(root);
  }

  /** Host path of guest path `p`; throws if `p` is not absolute and normalised (a core bug, never a guest's). */
  hostPath(p: string): string {
    if (!p.startsWith("/") || p.split("/").some((c) => c === ".." || c === ".")) {
      throw new RangeError(`HostFs: guest path ${JSON.stringify(p)} is not normalised`);
    }
    const h = resolveHost(this.root, `.${p}`);
    if (h !== this.root && !h.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep)) {
      throw new RangeError(`HostFs: ${JSON.stringify(p)} leaves the root`);
    }
    return h;
  }

  private run<T>(fn: () => T): T | number {
    try {
      return fn();
    } catch (e) {
      if (e instanceof RangeError) throw e;
      return errno(e);
    }
  }

  lstat(p: string): Stat | number {
    return this.run(() => toStat(fs.lstatSync(this.hostPath(p), { bigint: true })));
  }

  readlink(p: string): string | number {
    return this.run(() => fs.readlinkSync(this.hostPath(p)));
  }

  open(p: string, flags: number, mode: number): FileHandle | number {
    const hp = this.hostPath(p);
    return this.run(() => {
      const fd = fs.openSync(hp, hostFlags(flags), mode);
      return new HostFile(fd);
    });
  }

  readdir(p: string): DirEntry[] | number {
    return this.run(() => {
      const hp = this.hostPath(p);
      // opendir/readdir keep the host's getdents order (readdirSync sorts), as a native program would see it.
      const dir = fs.opendirSync(hp);
      const out: DirEntry[] = [];
      try {
        for (let d = dir.readSync(); d !== null; d = dir.readSync()) {
          let ino = 0n;
          try {
            ino = fs.lstatSync(`${hp}${sep}${d.name}`, { bigint: true }).ino;
          } catch {
            // vanished meanwhile: report inode 0
          }
          out.push({ name: d.name, ino, type: dtype(d) });
        }
      } finally {
        dir.closeSync();
      }
      return out;
    });
  }

  mkdir(p: string, mode: number): number {
    return this.run(() => {
      fs.mkdirSync(this.hostPath(p), { mode });
      return 0;
    });
  }

  rmdir(p: string): number {
    return this.run(() => {
      fs.rmdirSync(this.hostPath(p));
      return 0;
    });
  }

  unlink(p: string): number {
    return this.run(() => {
      fs.unlinkSync(this.hostPath(p));
      return 0;
    });
  }

  rename(from: string, to: string): number {
    return this.run(() => {
      fs.renameSync(this.hostPath(from), this.hostPath(to));
      return 0;
    });
  }

  link(from: string, to: string): number {
    return this.run(() => {
      fs.linkSync(this.hostPath(from), this.hostPath(to));
      return 0;
    });
  }

  symlink(target: string, p: string): number {
    // The target is stored as given: it is resolved inside the guest root when followed.
    return this.run(() => {
      fs.symlinkSync(target, this.hostPath(p));
      return 0;
    });
  }

  chmod(p: string, mode: number): number {
    return this.run(() => {
      fs.chmodSync(this.hostPath(p), mode & 0o7777);
      return 0;
    });
  }

  utimens(p: string, atimeNs: bigint | null, mtimeNs: bigint | null): number {
    return this.run(() => {
      const hp = this.hostPath(p);
      const st = fs.lstatSync(hp, { bigint: true });
      const a = Number(atimeNs ?? st.atimeNs) / 1e9;
      const m = Number(mtimeNs ?? st.mtimeNs) / 1e9;
      fs.lutimesSync(hp, a, m);
      return 0;
    });
  }

  truncate(p: string, len: number): number {
    return this.run(() => {
      const fd = fs.openSync(this.hostPath(p), C.O_WRONLY | C.O_NOFOLLOW);
      try {
        fs.ftruncateSync(fd, len);
      } finally {
        fs.closeSync(fd);
      }
      return 0;
    });
  }
}

class HostFile implements FileHandle {
  private fd: number;
  constructor(fd: number) {
    this.fd = fd;
  }
  private run<T>(fn: () => T): T | number {
    try {
      return fn();
    } catch (e) {
      return errno(e);
    }
  }
  pread(buf: Uint8Array, pos: number): number {
    return this.run(() => fs.readSync(this.fd, buf, 0, buf.length, pos));
  }
  pwrite(buf: Uint8Array, pos: number): number {
    return this.run(() => fs.writeSync(this.fd, buf, 0, buf.length, pos));
  }
  fstat(): Stat | number {
    return this.run(() => toStat(fs.fstatSync(this.fd, { bigint: true })));
  }
  ftruncate(len: number): number {
    return this.run(() => {
      fs.ftruncateSync(this.fd, len);
      return 0;
    });
  }
  fsync(): number {
    return this.run(() => {
      fs.fsyncSync(this.fd);
      return 0;
    });
  }
  close(): void {
    if (this.fd >= 0) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed by the host: nothing to release
      }
      this.fd = -1;
    }
  }
}
