/**
 * File system calls of the process VM (openat … utimensat, pipes, poll), over the open file descriptions of files.ts
 * and the FileSystem path resolution of vfs.ts. Structures are written in the riscv64 (asm-generic) layouts: struct
 * stat (128 bytes), struct statx (256), linux_dirent64, struct pollfd, fd_set, struct iovec. Also the argument
 * formatting of --strace.
 */
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_REMOVEDIR,
  AT_SYMLINK_FOLLOW,
  AT_SYMLINK_NOFOLLOW,
  E,
  IOCTL,
  O,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
} from "./abi.ts";
import {
  DirFile,
  EpollFile,
  EventFd,
  isDir,
  type OpenFile,
  Pipe,
  PipeEnd,
  RegularFile,
  StdioFile,
  WOULD_BLOCK,
} from "./files.ts";
import { type Kernel, NO_RETURN, type Thread, WaitKind } from "./kernel.ts";
import { type AddressSpace, USER_TOP } from "./memory.ts";
import { type FileSystem, resolvePath, type Stat, splitLast } from "./vfs.ts";

/** Largest single read or write moved in one call (a short count, as Linux gives for huge requests). */
const MAX_IO = 1 << 24;
const UTIME_NOW = (1 << 30) - 1;
const UTIME_OMIT = (1 << 30) - 2;

const dec = new TextDecoder();
const enc = new TextEncoder();

/** Bytes of argv and envp strings together an execve may pass (Linux: a quarter of the 8 MiB stack). */
const ARG_MAX = 2 * 1024 * 1024;

/** A NULL-terminated array of string pointers (argv, envp): the strings, -EFAULT, or -E2BIG past `budget` bytes. */
export function readStringArray(mm: AddressSpace, at: number, budget = ARG_MAX): Uint8Array[] | number {
  const out: Uint8Array[] = [];
  if (at === 0) return out;
  if (at < 0) return -E.FAULT;
  let left = budget;
  for (let i = 0; ; i++) {
    if (left < 8) return -E.TOOBIG;
    const p = mm.readU64(at + 8 * i);
    if (p === null) return -E.FAULT;
    if (p === 0n) return out;
    if (p >= BigInt(USER_TOP)) return -E.FAULT;
    const s = mm.readCString(Number(p), Math.min(131072, left));
    if (s === null) return left <= 131072 ? -E.TOOBIG : -E.FAULT;
    left -= s.length + 1 + 8;
    out.push(s);
  }
}

interface Loc {
  fs: FileSystem;
  path: string;
}

/** Resolve (dirfd, path) of an *at call. */
function lookup(k: Kernel, t: Thread, dirfd: number, pathAt: number, follow: boolean, flags = 0): Loc | number {
  const raw = t.proc.mm.readCString(pathAt);
  if (raw === null) return pathAt < 0 ? -E.FAULT : -E.NAMETOOLONG;
  const path = dec.decode(raw);
  return lookupStr(k, t, dirfd, path, follow, flags);
}

function lookupStr(k: Kernel, t: Thread, dirfd: number, path: string, follow: boolean, flags = 0): Loc | number {
  const p = t.proc;
  if (path.length === 0) {
    if ((flags & AT_EMPTY_PATH) === 0) return -E.NOENT;
    const e = p.fds.get(dirfd);
    if (dirfd === AT_FDCWD) return { fs: k.opts.fs, path: p.fsInfo.cwd };
    if (e === null) return -E.BADF;
    const f = e.file;
    if (f instanceof DirFile) return { fs: f.fs, path: f.path };
    return -E.NOENT;
  }
  if (path.startsWith("/") || dirfd === AT_FDCWD) return k.fsFor(path, p.fsInfo.cwd, follow);
  const e = p.fds.get(dirfd);
  if (e === null) return -E.BADF;
  if (!(e.file instanceof DirFile)) return -E.NOTDIR;
  const r = resolvePath(e.file.fs, e.file.path, path, follow);
  return typeof r === "number" ? r : { fs: e.file.fs, path: r };
}

function normalise(cwd: string, path: string): string {
  const stack = path.startsWith("/") ? [] : cwd.split("/").filter(Boolean);
  for (const c of path.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") stack.pop();
    else stack.push(c);
  }
  return `/${stack.join("/")}`;
}

export function statBytes(st: Stat): Uint8Array {
  const out = new Uint8Array(128);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(st.dev), true);
  dv.setBigUint64(8, st.ino, true);
  dv.setUint32(16, st.mode, true);
  dv.setUint32(20, st.nlink, true);
  dv.setUint32(24, st.uid, true);
  dv.setUint32(28, st.gid, true);
  dv.setBigUint64(32, BigInt(st.rdev), true);
  dv.setBigInt64(48, BigInt(st.size), true);
  dv.setInt32(56, st.blksize, true);
  dv.setBigInt64(64, BigInt(st.blocks), true);
  const times = [st.atimeNs, st.mtimeNs, st.ctimeNs];
  times.forEach((ns, i) => {
    dv.setBigInt64(72 + 16 * i, ns / 1_000_000_000n, true);
    dv.setBigInt64(80 + 16 * i, ns % 1_000_000_000n, true);
  });
  return out;
}

function statxBytes(st: Stat): Uint8Array {
  const out = new Uint8Array(256);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x7ff, true);
  dv.setUint32(4, st.blksize, true);
  dv.setUint32(16, st.nlink, true);
  dv.setUint32(20, st.uid, true);
  dv.setUint32(24, st.gid, true);
  dv.setUint16(28, st.mode, true);
  dv.setBigUint64(32, st.ino, true);
  dv.setBigUint64(40, BigInt(st.size), true);
  dv.setBigUint64(48, BigInt(st.blocks), true);
  const put = (off: number, ns: bigint) => {
    dv.setBigInt64(off, ns / 1_000_000_000n, true);
    dv.setUint32(off + 8, Number(ns % 1_000_000_000n), true);
  };
  put(64, st.atimeNs);
  put(96, st.ctimeNs);
  put(112, st.mtimeNs);
  const major = (d: number) => Math.floor(d / 256) & 0xfff;
  const minor = (d: number) => d & 0xff;
  dv.setUint32(128, major(st.rdev), true);
  dv.setUint32(132, minor(st.rdev), true);
  dv.setUint32(136, major(st.dev), true);
  dv.setUint32(140, minor(st.dev), true);
  return out;
}

/** stat of a path, with the kernel's own device nodes. */
function statPath(k: Kernel, t: Thread, dirfd: number, pathAt: number, flags: number): Stat | number {
  const raw = t.proc.mm.readCString(pathAt);
  if (raw === null) return -E.FAULT;
  const path = dec.decode(raw);
  const dev = k.devFile(normalise(t.proc.fsInfo.cwd, path), 0);
  if (dev !== null && (path.startsWith("/") || dirfd === AT_FDCWD)) return dev.stat();
  if (path.length === 0 && (flags & AT_EMPTY_PATH) !== 0 && dirfd !== AT_FDCWD) {
    const e = t.proc.fds.get(dirfd);
    return e === null ? -E.BADF : e.file.stat();
  }
  const loc = lookupStr(k, t, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) === 0, flags);
  if (typeof loc === "number") return loc;
  return loc.fs.lstat(loc.path);
}

function openFile(k: Kernel, t: Thread, dirfd: number, pathAt: number, flags: number, mode: number): number {
  const p = t.proc;
  const raw = p.mm.readCString(pathAt);
  if (raw === null) return -E.FAULT;
  const path = dec.decode(raw);
  const norm = normalise(p.fsInfo.cwd, path);
  const cloexec = (flags & O.CLOEXEC) !== 0;
  const status = flags & (O.ACCMODE | O.APPEND | O.NONBLOCK);
  if (path.startsWith("/") || dirfd === AT_FDCWD) {
    const dev = k.devFile(norm, status);
    if (dev !== null) return p.fds.add(dev, cloexec);
    const std = /^\/dev\/(stdin|stdout|stderr|fd\/(\d+))$/.exec(norm) ?? /^\/proc\/self\/fd\/(\d+)$/.exec(norm);
    if (std !== null) {
      const fd =
        std[2] !== undefined
          ? Number(std[2])
          : std[1] === "stdin"
            ? 0
            : std[1] === "stdout"
              ? 1
              : std[1] === "stderr"
                ? 2
                : Number(std[1]);
      const e = p.fds.get(fd);
      if (e === null) return -E.NOENT;
      return p.fds.add(e.file, cloexec);
    }
    if (norm === "/dev/tty") {
      if (!k.opts.stdio.isatty(0)) return -E.NXIO;
      const f = new StdioFile(k.opts.stdio, 0, k.term);
      f.flags = O.RDWR;
      f.onSignal = (sig) => k.signalPgrp(k.term.pgrp, sig);
      return p.fds.add(f, cloexec);
    }
  }
  const create = (flags & O.CREAT) !== 0;
  const follow = (flags & O.NOFOLLOW) === 0 && !(create && (flags & O.EXCL) !== 0);
  const loc = lookup(k, t, dirfd, pathAt, follow);
  if (typeof loc === "number") return loc;
  const st = loc.fs.lstat(loc.path);
  if (typeof st === "number") {
    if (st !== -E.NOENT || !create) return st;
    if ((flags & O.DIRECTORY) !== 0) return -E.INVAL;
  } else {
    if (create && (flags & O.EXCL) !== 0) return -E.EXIST;
    const type = st.mode & S_IFMT;
    if (type === S_IFLNK) return (flags & O.PATH) !== 0 ? -E.LOOP : -E.LOOP;
    if (type === S_IFDIR) {
      if ((flags & O.ACCMODE) !== O.RDONLY || (create && (flags & O.EXCL) === 0 && false)) return -E.ISDIR;
      return p.fds.add(new DirFile(loc.fs, loc.path, st, status), cloexec);
    }
    if ((flags & O.DIRECTORY) !== 0) return -E.NOTDIR;
  }
  const h = loc.fs.open(loc.path, flags & ~O.CLOEXEC, mode & ~p.fsInfo.umask & 0o7777);
  if (typeof h === "number") return h;
  return p.fds.add(new RegularFile(h, status, loc.path), cloexec);
}

/** Parent directory inode for "..", or the directory's own at the root. */
function parentIno(f: DirFile): bigint {
  const s = splitLast(f.path);
  if (s === null) return f.stat() === null ? 0n : (f.stat() as Stat).ino;
  const st = f.fs.lstat(s.dir);
  return typeof st === "number" ? 0n : st.ino;
}

/** read(2) into guest memory, parking the thread when the file would block. */
function doRead(k: Kernel, t: Thread, f: OpenFile, at: number, count: number, pos: number): number {
  const n = Math.min(count, MAX_IO);
  const buf = new Uint8Array(n);
  const r = pos < 0 ? f.read(buf) : f.pread(buf, pos);
  if (r === WOULD_BLOCK) return k.block(t, WaitKind.Retry, Number.POSITIVE_INFINITY);
  if (r <= 0) return r;
  return t.proc.mm.write(at, buf.subarray(0, r)) ? r : -E.FAULT;
}

function doWrite(k: Kernel, t: Thread, f: OpenFile, data: Uint8Array, pos: number): number {
  const r = pos < 0 ? f.write(data) : f.pwrite(data, pos);
  if (r === WOULD_BLOCK) return k.block(t, WaitKind.Retry, Number.POSITIVE_INFINITY);
  return r;
}

function readIov(mm: AddressSpace, at: number, cnt: number): { base: number; len: number }[] | null {
  if (cnt < 0 || cnt > 1024) return null;
  const b = mm.read(at, cnt * 16);
  if (b === null) return null;
  const dv = new DataView(b.buffer);
  const out: { base: number; len: number }[] = [];
  for (let i = 0; i < cnt; i++) {
    const len = dv.getBigUint64(16 * i + 8, true);
    if (len > BigInt(MAX_IO)) return null;
    out.push({ base: Number(dv.getBigUint64(16 * i, true)), len: Number(len) });
  }
  return out;
}

/** Readers of syscall argument i (register a0 + i) in the forms the syscalls take it. */
export interface SyscallArgs {
  /** The whole register, unsigned. */
  u(i: number): bigint;
  /** A C int (the low 32 bits, signed). */
  int(i: number): number;
  /** An address: a number below USER_TOP, or -1 (EFAULT) beyond. */
  ptr(i: number): number;
  /** A size_t, capped at 2^52 (more than any guest buffer). */
  size(i: number): number;
}

export function syscallArgs(x: BigInt64Array): SyscallArgs {
  const u = (i: number): bigint => BigInt.asUintN(64, x[10 + i]!);
  return {
    u,
    int: (i) => Number(BigInt.asIntN(32, x[10 + i]!)),
    ptr: (i) => {
      const v = u(i);
      return v < BigInt(USER_TOP) ? Number(v) : -1;
    },
    size: (i) => {
      const v = u(i);
      return v > 2n ** 52n ? 2 ** 52 : Number(v);
    },
  };
}

export function fileSyscall(k: Kernel, t: Thread, nr: number): number {
  const x = k.hart.x;
  const { u, int, ptr, size } = syscallArgs(x);
  const p = t.proc;
  const mm = p.mm;
  const fd = (i: number) => p.fds.get(int(i));
  /**
   * The file offset (a3) of pread64, pwrite64, preadv and pwritev: null when negative (EINVAL); -1, the current
   * position, for read, write, readv and writev.
   */
  const offset = (positional: boolean): number | null => {
    if (!positional) return -1;
    const v = Number(BigInt.asIntN(64, x[13]!));
    return v < 0 ? null : v;
  };
  switch (nr) {
    case 56: // openat(dirfd, path, flags, mode)
      return openFile(k, t, int(0), ptr(1), int(2), int(3));
    case 57: // close
      return p.fds.close(int(0));
    case 436: {
      // close_range(first, last, flags)
      const last = Math.min(Number(u(1) > 65536n ? 65536n : u(1)), p.fds.fds.length - 1);
      for (let i = int(0); i <= last; i++) {
        if ((int(2) & 4) !== 0) {
          const e = p.fds.get(i);
          if (e !== null) e.cloexec = true;
        } else p.fds.close(i);
      }
      return 0;
    }
    case 63: // read
    case 67: {
      // pread64
      const e = fd(0);
      if (e === null) return -E.BADF;
      if (e.file instanceof DirFile) return -E.ISDIR;
      const pos = offset(nr === 67);
      if (pos === null) return -E.INVAL;
      return doRead(k, t, e.file, ptr(1), size(2), pos);
    }
    case 64: // write
    case 68: {
      // pwrite64
      const e = fd(0);
      if (e === null) return -E.BADF;
      const n = Math.min(size(2), MAX_IO);
      const data = mm.read(ptr(1), n);
      if (data === null) return -E.FAULT;
      const pos = offset(nr === 68);
      if (pos === null) return -E.INVAL;
      return doWrite(k, t, e.file, data, pos);
    }
    case 65: // readv
    case 69: {
      // preadv
      const e = fd(0);
      if (e === null) return -E.BADF;
      const pos = offset(nr === 69);
      if (pos === null) return -E.INVAL;
      const iov = readIov(mm, ptr(1), int(2));
      if (iov === null) return -E.INVAL;
      const total = iov.reduce((a, v) => a + v.len, 0);
      const buf = new Uint8Array(Math.min(total, MAX_IO));
      const r = pos < 0 ? e.file.read(buf) : e.file.pread(buf, pos);
      if (r === WOULD_BLOCK) return k.block(t, WaitKind.Retry, Number.POSITIVE_INFINITY);
      if (r <= 0) return r;
      let done = 0;
      for (const v of iov) {
        if (done >= r) break;
        const n = Math.min(v.len, r - done);
        if (!mm.write(v.base, buf.subarray(done, done + n))) return -E.FAULT;
        done += n;
      }
      return r;
    }
    case 66: // writev
    case 70: {
      // pwritev
      const e = fd(0);
      if (e === null) return -E.BADF;
      const pos = offset(nr === 70);
      if (pos === null) return -E.INVAL;
      const iov = readIov(mm, ptr(1), int(2));
      if (iov === null) return -E.INVAL;
      const total = iov.reduce((a, v) => a + v.len, 0);
      const data = new Uint8Array(Math.min(total, MAX_IO));
      let done = 0;
      for (const v of iov) {
        const n = Math.min(v.len, data.length - done);
        if (n <= 0) {
          if (done >= data.length) break;
          continue;
        }
        const part = mm.read(v.base, n);
        if (part === null) return -E.FAULT;
        data.set(part, done);
        done += n;
      }
      return doWrite(k, t, e.file, data, pos);
    }
    case 62: {
      // lseek
      const e = fd(0);
      if (e === null) return -E.BADF;
      return e.file.lseek(Number(BigInt.asIntN(64, x[11]!)), int(2));
    }
    case 23: {
      // dup
      const e = fd(0);
      if (e === null) return -E.BADF;
      return p.fds.add(e.file, false);
    }
    case 24: {
      // dup3(old, new, flags)
      const e = fd(0);
      if (e === null) return -E.BADF;
      if (int(0) === int(1)) return -E.INVAL;
      if (int(1) < 0 || int(1) >= 1024) return -E.BADF;
      p.fds.set(int(1), e.file, (int(2) & O.CLOEXEC) !== 0);
      return int(1);
    }
    case 25: {
      // fcntl(fd, cmd, arg)
      const e = fd(0);
      if (e === null) return -E.BADF;
      const cmd = int(1);
      switch (cmd) {
        case 0: // F_DUPFD
        case 1030: // F_DUPFD_CLOEXEC
          return p.fds.add(e.file, cmd === 1030, int(2));
        case 1: // F_GETFD
          return e.cloexec ? 1 : 0;
        case 2: // F_SETFD
          e.cloexec = (int(2) & 1) !== 0;
          return 0;
        case 3: // F_GETFL
          return e.file.flags | (e.file.kind === "file" ? O.LARGEFILE : 0);
        case 4: {
          // F_SETFL: only O_APPEND and O_NONBLOCK change
          const m = O.APPEND | O.NONBLOCK;
          e.file.flags = (e.file.flags & ~m) | (int(2) & m);
          return 0;
        }
        case 5: {
          // F_GETLK: no conflicting lock (l_type = F_UNLCK)
          const b = new Uint8Array(2);
          b[0] = 2;
          return mm.write(ptr(2), b) ? 0 : -E.FAULT;
        }
        case 6: // F_SETLK
        case 7: // F_SETLKW
        case 37: // F_OFD_SETLK
        case 38: // F_OFD_SETLKW
          return 0;
        case 1031: // F_SETPIPE_SZ
        case 1032: // F_GETPIPE_SZ
          return e.file.kind === "pipe" ? 65536 : -E.BADF;
      }
      return -E.INVAL;
    }
    case 29: {
      // ioctl(fd, req, arg)
      const e = fd(0);
      if (e === null) return -E.BADF;
      const req = Number(u(1) & 0xffffffffn);
      if (req === IOCTL.FIONBIO) {
        const v = mm.readU32(ptr(2));
        if (v === null) return -E.FAULT;
        e.file.flags = v !== 0 ? e.file.flags | O.NONBLOCK : e.file.flags & ~O.NONBLOCK;
        return 0;
      }
      if (req === IOCTL.FIOCLEX || req === IOCTL.FIONCLEX) {
        e.cloexec = req === IOCTL.FIOCLEX;
        return 0;
      }
      const inLen =
        req === IOCTL.TCSETS || req === IOCTL.TCSETSW || req === IOCTL.TCSETSF
          ? 36
          : req === IOCTL.TIOCSPGRP
            ? 4
            : req === IOCTL.TIOCSWINSZ
              ? 8
              : 0;
      let arg: Uint8Array | null = null;
      if (inLen > 0) {
        arg = mm.read(ptr(2), inLen);
        if (arg === null) return -E.FAULT;
      }
      const r = e.file.ioctl(req, arg);
      if (r.out !== undefined && r.ret >= 0 && !mm.write(ptr(2), r.out)) return -E.FAULT;
      return r.ret;
    }
    case 80: {
      // fstat
      const e = fd(0);
      if (e === null) return -E.BADF;
      const st = e.file.stat();
      if (typeof st === "number") return st;
      return mm.write(ptr(1), statBytes(st)) ? 0 : -E.FAULT;
    }
    case 79: {
      // newfstatat(dirfd, path, statbuf, flags)
      const st = statPath(k, t, int(0), ptr(1), int(3));
      if (typeof st === "number") return st;
      return mm.write(ptr(2), statBytes(st)) ? 0 : -E.FAULT;
    }
    case 291: {
      // statx(dirfd, path, flags, mask, buf)
      const st = statPath(k, t, int(0), ptr(1), int(2));
      if (typeof st === "number") return st;
      return mm.write(ptr(4), statxBytes(st)) ? 0 : -E.FAULT;
    }
    case 61: {
      // getdents64(fd, dirp, count)
      const e = fd(0);
      if (e === null) return -E.BADF;
      if (!(e.file instanceof DirFile)) return -E.NOTDIR;
      const buf = new Uint8Array(Math.min(size(2), 1 << 20));
      const n = e.file.getdents(buf, parentIno(e.file));
      if (n <= 0) return n;
      return mm.write(ptr(1), buf.subarray(0, n)) ? n : -E.FAULT;
    }
    case 78: {
      // readlinkat(dirfd, path, buf, size)
      const raw = mm.readCString(ptr(1));
      if (raw === null) return -E.FAULT;
      const path = dec.decode(raw);
      const bufsz = int(3);
      if (bufsz <= 0) return -E.INVAL;
      let target: string | number;
      const norm = normalise(p.fsInfo.cwd, path);
      const self = /^\/proc\/(self|\d+)\/exe$/.exec(norm);
      if (self !== null) {
        const q = self[1] === "self" ? p : k.procs.get(Number(self[1]));
        if (q === undefined) return -E.NOENT;
        target = q.exe;
      } else {
        const loc = lookupStr(k, t, int(0), path, false);
        if (typeof loc === "number") return loc;
        target = loc.fs.readlink(loc.path);
      }
      if (typeof target === "number") return target;
      const b = enc.encode(target).subarray(0, bufsz);
      return mm.write(ptr(2), b) ? b.length : -E.FAULT;
    }
    case 48: // faccessat(dirfd, path, mode)
    case 439: {
      // faccessat2(dirfd, path, mode, flags)
      const flags = nr === 439 ? int(3) : 0;
      const st = statPath(k, t, int(0), ptr(1), flags);
      if (typeof st === "number") return st;
      const mode = int(2);
      if ((mode & 1) !== 0 && (st.mode & S_IFMT) === S_IFREG && (st.mode & 0o111) === 0) return -E.ACCES;
      return 0;
    }
    case 34: {
      // mkdirat(dirfd, path, mode)
      const loc = lookup(k, t, int(0), ptr(1), false);
      if (typeof loc === "number") return loc;
      return loc.fs.mkdir(loc.path, int(2) & ~p.fsInfo.umask & 0o7777);
    }
    case 35: {
      // unlinkat(dirfd, path, flags)
      const loc = lookup(k, t, int(0), ptr(1), false);
      if (typeof loc === "number") return loc;
      if ((int(2) & AT_REMOVEDIR) !== 0) return loc.fs.rmdir(loc.path);
      const st = loc.fs.lstat(loc.path);
      if (typeof st === "number") return st;
      if ((st.mode & S_IFMT) === S_IFDIR) return -E.ISDIR;
      return loc.fs.unlink(loc.path);
    }
    case 38: // renameat(olddirfd, old, newdirfd, new)
    case 276: {
      // renameat2(..., flags)
      const a = lookup(k, t, int(0), ptr(1), false);
      const b = lookup(k, t, int(2), ptr(3), false);
      if (typeof a === "number") return a;
      if (typeof b === "number") return b;
      if (a.fs !== b.fs) return -E.XDEV;
      const flags = nr === 276 ? int(4) : 0;
      if ((flags & 1) !== 0 && typeof b.fs.lstat(b.path) !== "number") return -E.EXIST;
      if ((flags & ~1) !== 0) return -E.INVAL;
      return a.fs.rename(a.path, b.path);
    }
    case 37: {
      // linkat(olddirfd, old, newdirfd, new, flags)
      const a = lookup(k, t, int(0), ptr(1), (int(4) & AT_SYMLINK_FOLLOW) !== 0);
      const b = lookup(k, t, int(2), ptr(3), false);
      if (typeof a === "number") return a;
      if (typeof b === "number") return b;
      if (a.fs !== b.fs) return -E.XDEV;
      return a.fs.link(a.path, b.path);
    }
    case 36: {
      // symlinkat(target, dirfd, path)
      const target = mm.readCString(ptr(0));
      if (target === null) return -E.FAULT;
      const loc = lookup(k, t, int(1), ptr(2), false);
      if (typeof loc === "number") return loc;
      return loc.fs.symlink(dec.decode(target), loc.path);
    }
    case 46: {
      // ftruncate
      const e = fd(0);
      if (e === null) return -E.BADF;
      const len = Number(BigInt.asIntN(64, x[11]!));
      if (len < 0) return -E.INVAL;
      if (!(e.file instanceof RegularFile) || (e.file.flags & O.ACCMODE) === O.RDONLY) return -E.INVAL;
      return e.file.handle.ftruncate(len);
    }
    case 45: {
      // truncate(path, len)
      const loc = lookup(k, t, AT_FDCWD, ptr(0), true);
      if (typeof loc === "number") return loc;
      const len = Number(BigInt.asIntN(64, x[11]!));
      return len < 0 ? -E.INVAL : loc.fs.truncate(loc.path, len);
    }
    case 82: // fsync
    case 83: {
      // fdatasync
      const e = fd(0);
      if (e === null) return -E.BADF;
      return e.file instanceof RegularFile ? e.file.handle.fsync() : 0;
    }
    case 81: // sync
    case 267: // syncfs
    case 223: // fadvise64
    case 32: // flock
    case 213: // readahead
      return 0;
    case 47: // fallocate
      return -E.OPNOTSUPP;
    case 59: {
      // pipe2(fds, flags)
      const flags = int(1);
      if ((flags & ~(O.CLOEXEC | O.NONBLOCK | O.DIRECT)) !== 0) return -E.INVAL;
      const pipe = new Pipe(BigInt(0x10000 + k.syscalls));
      const st = flags & O.NONBLOCK;
      const r = new PipeEnd(pipe, false, O.RDONLY | st);
      const w = new PipeEnd(pipe, true, O.WRONLY | st);
      const cloexec = (flags & O.CLOEXEC) !== 0;
      const rfd = p.fds.add(r, cloexec);
      if (rfd < 0) {
        r.release();
        w.release();
        return rfd;
      }
      const wfd = p.fds.add(w, cloexec);
      if (wfd < 0) {
        p.fds.close(rfd);
        w.release();
        return wfd;
      }
      const out = new Uint8Array(8);
      const dv = new DataView(out.buffer);
      dv.setInt32(0, rfd, true);
      dv.setInt32(4, wfd, true);
      if (!mm.write(ptr(0), out)) {
        p.fds.close(rfd);
        p.fds.close(wfd);
        return -E.FAULT;
      }
      return 0;
    }
    case 17: {
      // getcwd(buf, size): the length including the NUL
      const s = enc.encode(`${p.fsInfo.cwd}\0`);
      if (size(1) < s.length) return -E.RANGE;
      return mm.write(ptr(0), s) ? s.length : -E.FAULT;
    }
    case 49: {
      // chdir
      const loc = lookup(k, t, AT_FDCWD, ptr(0), true);
      if (typeof loc === "number") return loc;
      const st = loc.fs.lstat(loc.path);
      if (typeof st === "number") return st;
      if (!isDir(st)) return -E.NOTDIR;
      p.fsInfo.cwd = loc.path;
      return 0;
    }
    case 50: {
      // fchdir
      const e = fd(0);
      if (e === null) return -E.BADF;
      if (!(e.file instanceof DirFile)) return -E.NOTDIR;
      p.fsInfo.cwd = e.file.path;
      return 0;
    }
    case 51: // chroot
      return -E.PERM;
    case 88: {
      // utimensat(dirfd, path, times, flags)
      let loc: Loc | number;
      if (u(1) === 0n) {
        const e = fd(0);
        if (e === null) return -E.BADF;
        const f = e.file;
        if (!(f instanceof RegularFile || f instanceof DirFile)) return 0;
        loc = lookupStr(k, t, AT_FDCWD, f.path, false);
      } else loc = lookup(k, t, int(0), ptr(1), (int(3) & AT_SYMLINK_NOFOLLOW) === 0);
      if (typeof loc === "number") return loc;
      const now = k.opts.clock.realtimeNs();
      let at: bigint | null = now;
      let mt: bigint | null = now;
      if (u(2) !== 0n) {
        const b = mm.read(ptr(2), 32);
        if (b === null) return -E.FAULT;
        const dv = new DataView(b.buffer);
        const conv = (off: number): bigint | null => {
          const ns = dv.getBigInt64(off + 8, true);
          if (ns === BigInt(UTIME_OMIT)) return null;
          if (ns === BigInt(UTIME_NOW)) return now;
          return dv.getBigInt64(off, true) * 1_000_000_000n + ns;
        };
        at = conv(0);
        mt = conv(16);
      }
      return loc.fs.utimens(loc.path, at, mt);
    }
    case 52: {
      // fchmod
      const e = fd(0);
      if (e === null) return -E.BADF;
      const f = e.file;
      if (!(f instanceof RegularFile || f instanceof DirFile)) return 0;
      const loc = lookupStr(k, t, AT_FDCWD, f.path, false);
      return typeof loc === "number" ? loc : loc.fs.chmod(loc.path, int(1));
    }
    case 53: {
      // fchmodat(dirfd, path, mode)
      const loc = lookup(k, t, int(0), ptr(1), true);
      if (typeof loc === "number") return loc;
      return loc.fs.chmod(loc.path, int(2));
    }
    case 54: // fchownat
    case 55: // fchown
      return 0;
    case 43: // statfs(path, buf)
    case 44: {
      // fstatfs(fd, buf)
      if (nr === 43) {
        const loc = lookup(k, t, AT_FDCWD, ptr(0), true);
        if (typeof loc === "number") return loc;
      } else if (fd(0) === null) return -E.BADF;
      const out = new Uint8Array(120);
      const dv = new DataView(out.buffer);
      dv.setBigInt64(0, 0xef53n, true);
      dv.setBigInt64(8, 4096n, true);
      dv.setBigUint64(16, 1n << 24n, true);
      dv.setBigUint64(24, 1n << 23n, true);
      dv.setBigUint64(32, 1n << 23n, true);
      dv.setBigUint64(40, 1n << 20n, true);
      dv.setBigUint64(48, 1n << 19n, true);
      dv.setBigInt64(64, 255n, true);
      dv.setBigInt64(72, 4096n, true);
      return mm.write(ptr(1), out) ? 0 : -E.FAULT;
    }
    case 73: // ppoll(fds, nfds, tmo, sigmask, size)
      return ppoll(k, t, ptr(0), size(1), u(2) === 0n ? -1 : ptr(2));
    case 72: // pselect6(n, in, out, ex, tmo, sig)
      return pselect(
        k,
        t,
        int(0),
        [u(1) === 0n ? 0 : ptr(1), u(2) === 0n ? 0 : ptr(2), u(3) === 0n ? 0 : ptr(3)],
        u(4) === 0n ? -1 : ptr(4),
      );
    case 71: {
      // sendfile(out, in, offset, count)
      const out = fd(0);
      const inp = fd(1);
      if (out === null || inp === null) return -E.BADF;
      const n = Math.min(size(3), 1 << 20);
      const buf = new Uint8Array(n);
      let off = -1;
      if (u(2) !== 0n) {
        const o = mm.readU64(ptr(2));
        if (o === null) return -E.FAULT;
        off = Number(o);
      }
      const r = off < 0 ? inp.file.read(buf) : inp.file.pread(buf, off);
      if (r === WOULD_BLOCK) return k.block(t, WaitKind.Retry, Number.POSITIVE_INFINITY);
      if (r <= 0) return r;
      const w = out.file.write(buf.subarray(0, r));
      if (w === WOULD_BLOCK) return k.block(t, WaitKind.Retry, Number.POSITIVE_INFINITY);
      if (w > 0 && off >= 0) mm.writeU64(ptr(2), BigInt(off + w));
      return w;
    }
    case 33: // mknodat
      return -E.PERM;
    case 19: {
      // eventfd2(initval, flags): EFD_SEMAPHORE 1, EFD_NONBLOCK, EFD_CLOEXEC
      const flags = int(1);
      const f = new EventFd(Number(u(0) & 0xffffffffn), flags & O.NONBLOCK, (flags & 1) !== 0);
      return p.fds.add(f, (flags & O.CLOEXEC) !== 0);
    }
    case 20: {
      // epoll_create1(flags)
      const flags = int(0);
      if ((flags & ~O.CLOEXEC) !== 0) return -E.INVAL;
      return p.fds.add(new EpollFile(0), (flags & O.CLOEXEC) !== 0);
    }
    case 21: {
      // epoll_ctl(epfd, op, fd, event): ADD 1, DEL 2, MOD 3
      const ep = fd(0);
      const target = fd(2);
      if (ep === null || target === null) return -E.BADF;
      if (!(ep.file instanceof EpollFile) || target.file === ep.file) return -E.INVAL;
      const op = int(1);
      const set = ep.file.interest;
      if (op === 2) return set.delete(int(2)) ? 0 : -E.NOENT;
      const ev = mm.read(ptr(3), 16);
      if (ev === null) return -E.FAULT;
      const dv = new DataView(ev.buffer);
      const entry = { events: dv.getUint32(0, true), data: dv.getBigUint64(8, true), file: target.file };
      if (op === 1) {
        if (set.has(int(2))) return -E.EXIST;
      } else if (op === 3) {
        if (!set.has(int(2))) return -E.NOENT;
      } else return -E.INVAL;
      set.set(int(2), entry);
      return 0;
    }
    case 22: {
      // epoll_pwait(epfd, events, maxevents, timeout_ms, sigmask, size)
      const ep = fd(0);
      if (ep === null) return -E.BADF;
      if (!(ep.file instanceof EpollFile)) return -E.INVAL;
      const max = int(2);
      if (max <= 0 || max > 4096) return -E.INVAL;
      const ready = ep.file.ready(max);
      if (ready.length > 0) {
        const out = new Uint8Array(16 * ready.length);
        const dv = new DataView(out.buffer);
        ready.forEach(([ev, data], i) => {
          dv.setUint32(16 * i, ev, true);
          dv.setBigUint64(16 * i + 8, data, true);
        });
        return mm.write(ptr(1), out) ? ready.length : -E.FAULT;
      }
      const tmo = int(3);
      if (tmo === 0) return 0;
      const deadline = t.retrying ? t.deadline : tmo < 0 ? Number.POSITIVE_INFINITY : k.nowMs() + tmo;
      if (k.nowMs() >= deadline) return 0;
      return k.block(t, WaitKind.Retry, deadline);
    }
  }
  return -E.NOSYS;
}

function ppoll(k: Kernel, t: Thread, at: number, nfds: number, tmo: number): number {
  const mm = t.proc.mm;
  if (nfds > 1024) return -E.INVAL;
  const b = mm.read(at, nfds * 8);
  if (b === null) return -E.FAULT;
  const dv = new DataView(b.buffer);
  let ready = 0;
  for (let i = 0; i < nfds; i++) {
    const fdn = dv.getInt32(8 * i, true);
    const events = dv.getInt16(8 * i + 4, true);
    let rev = 0;
    if (fdn >= 0) {
      const e = t.proc.fds.get(fdn);
      if (e === null) rev = 0x20;
      else {
        const f = e.file;
        if ((events & 1) !== 0 && f.pollIn()) rev |= 1;
        if ((events & 4) !== 0 && f.pollOut()) rev |= 4;
        if (f instanceof PipeEnd) {
          if (!f.writer && f.pipe.writers === 0) rev |= 0x10;
          if (f.writer && f.pipe.readers === 0) rev |= 8;
        }
      }
    }
    dv.setInt16(8 * i + 6, rev, true);
    if (rev !== 0) ready++;
  }
  if (ready > 0 || tmo === 0) {
    return mm.write(at, b) ? ready : -E.FAULT;
  }
  let deadline = t.deadline;
  if (!t.retrying) {
    deadline = Number.POSITIVE_INFINITY;
    if (tmo > 0) {
      const ts = mm.read(tmo, 16);
      if (ts === null) return -E.FAULT;
      const tv = new DataView(ts.buffer);
      const ms = Number(tv.getBigInt64(0, true)) * 1000 + Number(tv.getBigInt64(8, true)) / 1e6;
      if (ms <= 0) return mm.write(at, b) ? 0 : -E.FAULT;
      deadline = k.nowMs() + ms;
    }
  }
  if (k.nowMs() >= deadline) return mm.write(at, b) ? 0 : -E.FAULT;
  return k.block(t, WaitKind.Retry, deadline);
}

function pselect(k: Kernel, t: Thread, n: number, sets: number[], tmo: number): number {
  const mm = t.proc.mm;
  if (n < 0 || n > 1024) return -E.INVAL;
  const bytes = Math.ceil(n / 64) * 8;
  const inSets = sets.map((s) => (s === 0 ? null : mm.read(s, bytes)));
  if (inSets.some((s, i) => s === null && sets[i] !== 0)) return -E.FAULT;
  const outSets = inSets.map((s) => (s === null ? null : new Uint8Array(bytes)));
  let ready = 0;
  for (let fdn = 0; fdn < n; fdn++) {
    for (let kind = 0; kind < 3; kind++) {
      const s = inSets[kind];
      if (s === null || s === undefined || ((s[fdn >> 3]! >> (fdn & 7)) & 1) === 0) continue;
      const e = t.proc.fds.get(fdn);
      if (e === null) return -E.BADF;
      const ok = kind === 0 ? e.file.pollIn() : kind === 1 ? e.file.pollOut() : false;
      if (ok) {
        outSets[kind]![fdn >> 3]! |= 1 << (fdn & 7);
        ready++;
      }
    }
  }
  const writeBack = () => {
    for (let kind = 0; kind < 3; kind++)
      if (outSets[kind] !== null && !mm.write(sets[kind]!, outSets[kind]!)) return false;
    return true;
  };
  if (ready > 0 || tmo === 0) return writeBack() ? ready : -E.FAULT;
  let deadline = t.deadline;
  if (!t.retrying) {
    deadline = Number.POSITIVE_INFINITY;
    if (tmo > 0) {
      const ts = mm.read(tmo, 16);
      if (ts === null) return -E.FAULT;
      const tv = new DataView(ts.buffer);
      const ms = Number(tv.getBigInt64(0, true)) * 1000 + Number(tv.getBigInt64(8, true)) / 1e6;
      if (ms <= 0) return writeBack() ? 0 : -E.FAULT;
      deadline = k.nowMs() + ms;
    }
  }
  if (k.nowMs() >= deadline) return writeBack() ? 0 : -E.FAULT;
  return k.block(t, WaitKind.Retry, deadline);
}

/** Arguments of a call as strace prints them (strings quoted for the path arguments). */
export function straceArgs(k: Kernel, t: Thread, nr: number): string {
  const x = t === k.current ? k.hart.x : t.x;
  const mm = t.proc.mm;
  const str = (i: number) => {
    const v = BigInt.asUintN(64, x[10 + i]!);
    if (v === 0n) return "NULL";
    const s = v < BigInt(USER_TOP) ? mm.readCString(Number(v), 256) : null;
    return s === null ? `0x${v.toString(16)}` : JSON.stringify(dec.decode(s));
  };
  const n = (i: number) => Number(BigInt.asIntN(64, x[10 + i]!)).toString();
  const h = (i: number) => `0x${BigInt.asUintN(64, x[10 + i]!).toString(16)}`;
  const dirfd = (i: number) => (Number(BigInt.asIntN(32, x[10 + i]!)) === AT_FDCWD ? "AT_FDCWD" : n(i));
  switch (nr) {
    case 56:
      return `${dirfd(0)}, ${str(1)}, 0${Number(x[12]! & 0xffffffffn).toString(8)}, 0${Number(x[13]! & 0xfffn).toString(8)}`;
    case 79:
    case 291:
    case 48:
    case 439:
    case 34:
    case 35:
    case 78:
    case 53:
    case 88:
      return `${dirfd(0)}, ${str(1)}, ${h(2)}, ${h(3)}`;
    case 221:
      return `${str(0)}, ${h(1)}, ${h(2)}`;
    case 49:
    case 45:
    case 43:
      return `${str(0)}, ${h(1)}`;
    case 36:
      return `${str(0)}, ${dirfd(1)}, ${str(2)}`;
    case 38:
    case 276:
    case 37:
      return `${dirfd(0)}, ${str(1)}, ${dirfd(2)}, ${str(3)}`;
    case 63:
    case 64:
    case 67:
    case 68:
      return `${n(0)}, ${h(1)}, ${n(2)}`;
    case 57:
    case 23:
    case 93:
    case 94:
      return n(0);
    default:
      return [0, 1, 2, 3, 4, 5].map(h).join(", ");
  }
}

export { NO_RETURN };
