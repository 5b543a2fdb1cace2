/**
 * Open file descriptions and descriptor tables of the process VM (Linux's struct file and files_struct): regular
 * files and directories from a FileSystem, pipes (64 KiB, POSIX atomicity up to PIPE_BUF), the host's stdio (with a
 * terminal's termios, window size and foreground process group), and the character devices /dev/null, /dev/zero,
 * /dev/full, /dev/random, /dev/urandom, eventfd and epoll instances (level-triggered; EPOLLET is treated as level,
 * which only costs spurious wake-ups). Reads and writes that cannot proceed return WOULD_BLOCK and the kernel parks
 * the thread and retries the system call later. Left out: sockets, inotify, signalfd, timerfd, file locks.
 */
import { DT, E, IOCTL, O, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT } from "./abi.ts";
import type { DirEntry, FileHandle, FileSystem, Stat } from "./vfs.ts";

/** "Cannot proceed now; park the thread and retry the system call" (Linux's -ERESTARTSYS, never seen by the guest). */
export const WOULD_BLOCK = -512;
export const PIPE_BUF = 4096;
const PIPE_SIZE = 65536;

/** The host side of stdin, stdout and stderr. */
export interface StdioHost {
  /** Up to `max` bytes of stdin now; null when none is available yet; an empty array at end of input. */
  readStdin(max: number): Uint8Array | null;
  /** Write to fd 1 or 2 of the host; may return -EPIPE when nobody reads it any more (the guest gets SIGPIPE). */
  write(fd: number, data: Uint8Array): number | undefined;
  /** Whether host fd 0, 1 or 2 is a terminal. */
  isatty(fd: number): boolean;
  /** Terminal size, or null when not a terminal. */
  winsize(): { rows: number; cols: number } | null;
  /** The guest switched the terminal between canonical (line) and raw (character) input. */
  setRaw(raw: boolean): void;
  /** Register a callback for "stdin has data or reached its end" (so the VM can sleep until then). */
  onInput?(cb: () => void): void;
  /** stdin has ended (no more input will ever come). */
  inputEnded?(): boolean;
}

export interface OpenFile {
  readonly kind: "file" | "dir" | "pipe" | "stdio" | "dev" | "epoll" | "eventfd";
  /** O_ACCMODE bits plus O_APPEND / O_NONBLOCK (the status flags F_GETFL reports). */
  flags: number;
  /** Descriptors (in all processes) that refer to this description. */
  refs: number;
  read(buf: Uint8Array): number;
  write(data: Uint8Array): number;
  /** Positional I/O (pread64/pwrite64), or -ESPIPE. */
  pread(buf: Uint8Array, pos: number): number;
  pwrite(data: Uint8Array, pos: number): number;
  lseek(off: number, whence: number): number;
  stat(): Stat | number;
  ioctl(req: number, arg: Uint8Array | null): { ret: number; out?: Uint8Array };
  /** Readiness for poll: readable / writable now. */
  pollIn(): boolean;
  pollOut(): boolean;
  /** The last descriptor was closed. */
  release(): void;
  /** Guest-visible path (for /proc/self/fd and fchdir), if any. */
  readonly path: string;
}

const EMPTY_STAT: Stat = {
  dev: 0,
  ino: 0n,
  mode: 0,
  nlink: 1,
  uid: 0,
  gid: 0,
  rdev: 0,
  size: 0,
  blksize: 4096,
  blocks: 0,
  atimeNs: 0n,
  mtimeNs: 0n,
  ctimeNs: 0n,
};

abstract class Base {
  flags: number;
  refs = 0;
  readonly path: string;
  constructor(flags: number, path: string) {
    this.flags = flags;
    this.path = path;
  }
  pread(_buf: Uint8Array, _pos: number): number {
    return -E.SPIPE;
  }
  pwrite(_data: Uint8Array, _pos: number): number {
    return -E.SPIPE;
  }
  lseek(_off: number, _whence: number): number {
    return -E.SPIPE;
  }
  ioctl(_req: number, _arg: Uint8Array | null): { ret: number; out?: Uint8Array } {
    return { ret: -E.NOTTY };
  }
  pollIn(): boolean {
    return true;
  }
  pollOut(): boolean {
    return true;
  }
  release(): void {}
}

/** A regular file of a FileSystem. */
export class RegularFile extends Base implements OpenFile {
  readonly kind = "file";
  pos = 0;
  readonly handle: FileHandle;
  constructor(handle: FileHandle, flags: number, path: string) {
    super(flags, path);
    this.handle = handle;
  }
  read(buf: Uint8Array): number {
    if ((this.flags & O.ACCMODE) === O.WRONLY) return -E.BADF;
    const n = this.handle.pread(buf, this.pos);
    if (n > 0) this.pos += n;
    return n;
  }
  write(data: Uint8Array): number {
    if ((this.flags & O.ACCMODE) === O.RDONLY) return -E.BADF;
    if ((this.flags & O.APPEND) !== 0) {
      const st = this.handle.fstat();
      if (typeof st === "number") return st;
      this.pos = st.size;
    }
    const n = this.handle.pwrite(data, this.pos);
    if (n > 0) this.pos += n;
    return n;
  }
  override pread(buf: Uint8Array, pos: number): number {
    if ((this.flags & O.ACCMODE) === O.WRONLY) return -E.BADF;
    return this.handle.pread(buf, pos);
  }
  override pwrite(data: Uint8Array, pos: number): number {
    if ((this.flags & O.ACCMODE) === O.RDONLY) return -E.BADF;
    return this.handle.pwrite(data, pos);
  }
  override lseek(off: number, whence: number): number {
    let base: number;
    if (whence === 0) base = 0;
    else if (whence === 1) base = this.pos;
    else if (whence === 2) {
      const st = this.handle.fstat();
      if (typeof st === "number") return st;
      base = st.size;
    } else if (whence === 3 || whence === 4) {
      // SEEK_DATA / SEEK_HOLE: no holes are reported.
      const st = this.handle.fstat();
      if (typeof st === "number") return st;
      if (off >= st.size) return -E.NXIO;
      this.pos = whence === 3 ? off : st.size;
      return this.pos;
    } else return -E.INVAL;
    const np = base + off;
    if (np < 0) return -E.INVAL;
    this.pos = np;
    return np;
  }
  stat(): Stat | number {
    return this.handle.fstat();
  }
  override ioctl(req: number, _arg: Uint8Array | null): { ret: number; out?: Uint8Array } {
    if (req === IOCTL.FIONREAD) {
      const st = this.handle.fstat();
      if (typeof st === "number") return { ret: st };
      return { ret: 0, out: u32(Math.max(0, st.size - this.pos)) };
    }
    return { ret: -E.NOTTY };
  }
  override release(): void {
    this.handle.close();
  }
}

/** A directory opened for getdents64 (entries listed when first read, as a snapshot). */
export class DirFile extends Base implements OpenFile {
  readonly kind = "dir";
  pos = 0;
  readonly fs: FileSystem;
  private entries: DirEntry[] | null = null;
  private readonly st: Stat;
  constructor(fs: FileSystem, path: string, st: Stat, flags: number) {
    super(flags, path);
    this.fs = fs;
    this.st = st;
  }
  read(_buf: Uint8Array): number {
    return -E.ISDIR;
  }
  write(_data: Uint8Array): number {
    return -E.BADF;
  }
  override lseek(off: number, whence: number): number {
    if (whence !== 0 || off < 0) return -E.INVAL;
    this.pos = off;
    if (off === 0) this.entries = null;
    return off;
  }
  stat(): Stat | number {
    return this.st;
  }
  /** Fill `buf` with linux_dirent64 records (d_ino, d_off, d_reclen, d_type, d_name); bytes used or -errno. */
  getdents(buf: Uint8Array, parentIno: bigint): number {
    if (this.entries === null) {
      const list = this.fs.readdir(this.path);
      if (typeof list === "number") return list;
      this.entries = [
        { name: ".", ino: this.st.ino, type: DT.DIR },
        { name: "..", ino: parentIno, type: DT.DIR },
        ...list,
      ];
    }
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const enc = new TextEncoder();
    let used = 0;
    while (this.pos < this.entries.length) {
      const e = this.entries[this.pos]!;
      const name = enc.encode(e.name);
      const reclen = Math.ceil((19 + name.length + 1) / 8) * 8;
      if (used + reclen > buf.length) {
        if (used === 0) return -E.INVAL;
        break;
      }
      dv.setBigUint64(used, e.ino, true);
      dv.setBigInt64(used + 8, BigInt(this.pos + 1), true);
      dv.setUint16(used + 16, reclen, true);
      buf[used + 18] = e.type;
      buf.set(name, used + 19);
      buf.fill(0, used + 19 + name.length, used + reclen);
      used += reclen;
      this.pos++;
    }
    return used;
  }
}

/** A pipe's buffer, shared by its two ends. */
export class Pipe {
  readonly buf = new Uint8Array(PIPE_SIZE);
  head = 0;
  len = 0;
  readers = 0;
  writers = 0;
  readonly ino: bigint;
  constructor(ino: bigint) {
    this.ino = ino;
  }
}

export class PipeEnd extends Base implements OpenFile {
  readonly kind = "pipe";
  readonly pipe: Pipe;
  readonly writer: boolean;
  /** Called when the guest writes to a pipe nobody reads (the kernel sends SIGPIPE). */
  constructor(pipe: Pipe, writer: boolean, flags: number) {
    super(flags, `pipe:[${pipe.ino}]`);
    this.pipe = pipe;
    this.writer = writer;
    if (writer) pipe.writers++;
    else pipe.readers++;
  }
  read(buf: Uint8Array): number {
    if (this.writer) return -E.BADF;
    const p = this.pipe;
    if (p.len === 0) {
      if (p.writers === 0 || buf.length === 0) return 0;
      return (this.flags & O.NONBLOCK) !== 0 ? -E.AGAIN : WOULD_BLOCK;
    }
    const n = Math.min(buf.length, p.len);
    for (let i = 0; i < n; i++) buf[i] = p.buf[(p.head + i) % PIPE_SIZE]!;
    p.head = (p.head + n) % PIPE_SIZE;
    p.len -= n;
    return n;
  }
  /** Bytes written, -EPIPE (the kernel raises SIGPIPE), or WOULD_BLOCK. */
  write(data: Uint8Array): number {
    if (!this.writer) return -E.BADF;
    const p = this.pipe;
    if (p.readers === 0) return -E.PIPE;
    const room = PIPE_SIZE - p.len;
    // Writes of at most PIPE_BUF bytes are atomic: all or nothing.
    if (room === 0 || (data.length <= PIPE_BUF && room < data.length)) {
      return (this.flags & O.NONBLOCK) !== 0 ? -E.AGAIN : WOULD_BLOCK;
    }
    const n = Math.min(room, data.length);
    const tail = (p.head + p.len) % PIPE_SIZE;
    for (let i = 0; i < n; i++) p.buf[(tail + i) % PIPE_SIZE] = data[i]!;
    p.len += n;
    return n;
  }
  stat(): Stat | number {
    return { ...EMPTY_STAT, ino: this.pipe.ino, mode: S_IFIFO | 0o600, blksize: 4096, dev: 12 };
  }
  override ioctl(req: number, _arg: Uint8Array | null): { ret: number; out?: Uint8Array } {
    if (req === IOCTL.FIONREAD) return { ret: 0, out: u32(this.pipe.len) };
    return { ret: -E.NOTTY };
  }
  override pollIn(): boolean {
    return !this.writer && (this.pipe.len > 0 || this.pipe.writers === 0);
  }
  override pollOut(): boolean {
    return this.writer && (this.pipe.readers === 0 || PIPE_SIZE - this.pipe.len >= PIPE_BUF);
  }
  override release(): void {
    if (this.writer) this.pipe.writers--;
    else this.pipe.readers--;
  }
}

/** Terminal state shared by the stdio descriptions (one controlling terminal). */
export class Terminal {
  /** struct termios (kernel layout, 36 bytes: iflag, oflag, cflag, lflag, line, cc[19]). */
  readonly termios = new Uint8Array(36);
  /** Foreground process group. */
  pgrp = 1;
  /** Session that owns it. */
  sid = 1;
  constructor() {
    // Linux's defaults for a fresh tty (drivers/tty/tty_io.c tty_std_termios): ICRNL|IXON, OPOST|ONLCR,
    // B38400|CS8|CREAD|HUPCL, ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN; INIT_C_CC.
    const dv = new DataView(this.termios.buffer);
    dv.setUint32(0, 0o2400, true);
    dv.setUint32(4, 0o5, true);
    dv.setUint32(8, 0o2277, true);
    dv.setUint32(12, 0o105073, true);
    this.termios.set([3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0], 17);
  }
  get lflag(): number {
    return new DataView(this.termios.buffer).getUint32(12, true);
  }
  /** ICANON is clear (characters are delivered as they come). */
  get raw(): boolean {
    return (this.lflag & 2) === 0;
  }
  /** ISIG: ^C, ^\ and ^Z raise signals. */
  get isig(): boolean {
    return (this.lflag & 1) !== 0;
  }
}

/** fd 0, 1 or 2 of the host. */
export class StdioFile extends Base implements OpenFile {
  readonly kind = "stdio";
  readonly fd: number;
  readonly host: StdioHost;
  readonly term: Terminal;
  /** Called with a signal number when terminal input is an interrupt character (ISIG). */
  onSignal: (sig: number) => void = () => {};
  constructor(host: StdioHost, fd: number, term: Terminal) {
    super(fd === 0 ? O.RDONLY : O.WRONLY, fd === 0 ? "/dev/stdin" : fd === 1 ? "/dev/stdout" : "/dev/stderr");
    this.host = host;
    this.fd = fd;
    this.term = term;
  }
  read(buf: Uint8Array): number {
    if (this.fd !== 0) return -E.BADF;
    if (buf.length === 0) return 0;
    const data = this.host.readStdin(buf.length);
    if (data === null) return (this.flags & O.NONBLOCK) !== 0 ? -E.AGAIN : WOULD_BLOCK;
    if (this.host.isatty(0) && this.term.raw && this.term.isig) {
      // The host terminal is raw: the line discipline's signal characters are ours to act on.
      const out: number[] = [];
      for (const b of data) {
        if (b === this.term.termios[17]) this.onSignal(2);
        else if (b === this.term.termios[18]) this.onSignal(3);
        else out.push(b);
      }
      if (out.length === 0 && data.length > 0) return -E.INTR;
      buf.set(out);
      return out.length;
    }
    buf.set(data);
    return data.length;
  }
  write(data: Uint8Array): number {
    if (this.fd === 0) {
      // A terminal's stdin is also writable (as /dev/tty is); a pipe's is not.
      if (!this.host.isatty(0)) return -E.BADF;
      const r = this.host.write(1, data);
      return r !== undefined && r < 0 ? r : data.length;
    }
    const r = this.host.write(this.fd, data);
    return r !== undefined && r < 0 ? r : data.length;
  }
  stat(): Stat | number {
    const tty = this.host.isatty(this.fd);
    return { ...EMPTY_STAT, mode: tty ? S_IFCHR | 0o620 : S_IFIFO | 0o600, rdev: tty ? 0x8800 : 0, dev: 22 };
  }
  override ioctl(req: number, arg: Uint8Array | null): { ret: number; out?: Uint8Array } {
    const tty = this.host.isatty(this.fd);
    if (req === IOCTL.FIONREAD && this.fd === 0) return { ret: 0, out: u32(0) };
    if (!tty) return { ret: -E.NOTTY };
    switch (req) {
      case IOCTL.TCGETS:
        return { ret: 0, out: this.term.termios.slice() };
      case IOCTL.TCSETS:
      case IOCTL.TCSETSW:
      case IOCTL.TCSETSF: {
        if (arg === null || arg.length < 36) return { ret: -E.FAULT };
        const wasRaw = this.term.raw;
        this.term.termios.set(arg.subarray(0, 36));
        if (wasRaw !== this.term.raw) this.host.setRaw(this.term.raw);
        return { ret: 0 };
      }
      case IOCTL.TIOCGWINSZ: {
        const ws = this.host.winsize() ?? { rows: 24, cols: 80 };
        const out = new Uint8Array(8);
        const dv = new DataView(out.buffer);
        dv.setUint16(0, ws.rows, true);
        dv.setUint16(2, ws.cols, true);
        return { ret: 0, out };
      }
      case IOCTL.TIOCSWINSZ:
        return { ret: 0 };
      case IOCTL.TIOCGPGRP:
        return { ret: 0, out: u32(this.term.pgrp) };
      case IOCTL.TIOCSPGRP: {
        if (arg === null || arg.length < 4) return { ret: -E.FAULT };
        this.term.pgrp = new DataView(arg.buffer, arg.byteOffset).getInt32(0, true);
        return { ret: 0 };
      }
      case IOCTL.TIOCGSID:
        return { ret: 0, out: u32(this.term.sid) };
      case IOCTL.TIOCSCTTY:
      case IOCTL.TIOCNOTTY:
        return { ret: 0 };
    }
    return { ret: -E.NOTTY };
  }
  override pollIn(): boolean {
    return this.fd !== 0 || this.peek();
  }
  private peek(): boolean {
    const data = this.host.readStdin(0);
    return data !== null;
  }
}

/** Character devices: /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty. */
export class DevFile extends Base implements OpenFile {
  readonly kind = "dev";
  readonly dev: "null" | "zero" | "full" | "random" | "urandom";
  private readonly random: (buf: Uint8Array) => void;
  constructor(dev: DevFile["dev"], flags: number, random: (buf: Uint8Array) => void) {
    super(flags, `/dev/${dev}`);
    this.dev = dev;
    this.random = random;
  }
  read(buf: Uint8Array): number {
    if (this.dev === "null") return 0;
    if (this.dev === "random" || this.dev === "urandom") this.random(buf);
    else buf.fill(0);
    return buf.length;
  }
  write(data: Uint8Array): number {
    return this.dev === "full" ? -E.NOSPC : data.length;
  }
  override pread(buf: Uint8Array, _pos: number): number {
    return this.read(buf);
  }
  override pwrite(data: Uint8Array, _pos: number): number {
    return this.write(data);
  }
  override lseek(_off: number, _whence: number): number {
    return 0;
  }
  stat(): Stat | number {
    const minor = { null: 3, zero: 5, full: 7, random: 8, urandom: 9 }[this.dev];
    return { ...EMPTY_STAT, mode: S_IFCHR | 0o666, rdev: (1 << 8) | minor, dev: 5, ino: BigInt(minor) };
  }
}

/** eventfd(2): a 64-bit counter. */
export class EventFd extends Base implements OpenFile {
  readonly kind = "eventfd";
  count: bigint;
  readonly semaphore: boolean;
  constructor(init: number, flags: number, semaphore: boolean) {
    super(O.RDWR | flags, "anon_inode:[eventfd]");
    this.count = BigInt(init);
    this.semaphore = semaphore;
  }
  read(buf: Uint8Array): number {
    if (buf.length < 8) return -E.INVAL;
    if (this.count === 0n) return (this.flags & O.NONBLOCK) !== 0 ? -E.AGAIN : WOULD_BLOCK;
    const v = this.semaphore ? 1n : this.count;
    this.count -= v;
    new DataView(buf.buffer, buf.byteOffset, 8).setBigUint64(0, v, true);
    return 8;
  }
  write(data: Uint8Array): number {
    if (data.length < 8) return -E.INVAL;
    const v = new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true);
    if (v === 0xffff_ffff_ffff_ffffn) return -E.INVAL;
    if (this.count + v > 0xffff_ffff_ffff_fffen) return (this.flags & O.NONBLOCK) !== 0 ? -E.AGAIN : WOULD_BLOCK;
    this.count += v;
    return 8;
  }
  stat(): Stat | number {
    return { ...EMPTY_STAT, mode: 0o600, dev: 13 };
  }
  override pollIn(): boolean {
    return this.count > 0n;
  }
  override pollOut(): boolean {
    return this.count < 0xffff_ffff_ffff_fffen;
  }
}

export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDHUP = 0x2000;
export const EPOLLONESHOT = 1 << 30;

/** An epoll instance: the interest list (descriptor → events, user data, the description it named). */
export class EpollFile extends Base implements OpenFile {
  readonly kind = "epoll";
  readonly interest = new Map<number, { events: number; data: bigint; file: OpenFile }>();
  constructor(flags: number) {
    super(O.RDWR | flags, "anon_inode:[eventpoll]");
  }
  read(_buf: Uint8Array): number {
    return -E.INVAL;
  }
  write(_data: Uint8Array): number {
    return -E.INVAL;
  }
  stat(): Stat | number {
    return { ...EMPTY_STAT, mode: 0o600, dev: 13 };
  }
  /** Ready events now (at most `max`), as [events, data] pairs. */
  ready(max: number): [number, bigint][] {
    const out: [number, bigint][] = [];
    for (const [, e] of this.interest) {
      if (out.length >= max) break;
      const f = e.file;
      let ev = 0;
      if ((e.events & EPOLLIN) !== 0 && f.pollIn()) ev |= EPOLLIN;
      if ((e.events & EPOLLOUT) !== 0 && f.pollOut()) ev |= EPOLLOUT;
      if (f instanceof PipeEnd) {
        if (!f.writer && f.pipe.writers === 0) ev |= EPOLLHUP | (e.events & EPOLLRDHUP);
        if (f.writer && f.pipe.readers === 0) ev |= EPOLLERR;
      }
      if (ev !== 0) {
        out.push([ev, e.data]);
        if ((e.events & EPOLLONESHOT) !== 0) e.events = 0;
      }
    }
    return out;
  }
  override pollIn(): boolean {
    return this.ready(1).length > 0;
  }
}

/** One descriptor: the description and close-on-exec. */
export interface FdEntry {
  file: OpenFile;
  cloexec: boolean;
}

/** A descriptor table (shared by threads; copied by fork). RLIMIT_NOFILE is 1024. */
export class FdTable {
  readonly fds: (FdEntry | null)[] = [];
  static readonly LIMIT = 1024;

  get(fd: number): FdEntry | null {
    return fd >= 0 && fd < this.fds.length ? (this.fds[fd] ?? null) : null;
  }

  /** Install at the lowest free descriptor ≥ `min`; the descriptor or -EMFILE. */
  add(file: OpenFile, cloexec: boolean, min = 0): number {
    for (let fd = min; fd < FdTable.LIMIT; fd++) {
      if (this.get(fd) === null) {
        this.set(fd, file, cloexec);
        return fd;
      }
    }
    return -E.MFILE;
  }

  set(fd: number, file: OpenFile, cloexec: boolean): void {
    const old = this.get(fd);
    file.refs++;
    while (this.fds.length <= fd) this.fds.push(null);
    this.fds[fd] = { file, cloexec };
    if (old !== null) drop(old.file);
  }

  close(fd: number): number {
    const e = this.get(fd);
    if (e === null) return -E.BADF;
    this.fds[fd] = null;
    drop(e.file);
    return 0;
  }

  /** A copy for fork: same descriptions, one more reference each. */
  clone(): FdTable {
    const t = new FdTable();
    this.fds.forEach((e, fd) => {
      if (e !== null) t.set(fd, e.file, e.cloexec);
    });
    return t;
  }

  closeOnExec(): void {
    this.fds.forEach((e, fd) => {
      if (e?.cloexec) this.close(fd);
    });
  }

  closeAll(): void {
    this.fds.forEach((e, fd) => {
      if (e !== null) this.close(fd);
    });
  }
}

function drop(f: OpenFile): void {
  if (--f.refs === 0) f.release();
}

function u32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v >>> 0, true);
  return out;
}

export function isDir(st: Stat): boolean {
  return (st.mode & S_IFMT) === S_IFDIR;
}
