/**
 * 9P2000.L wire format: message numbers, the constants Linux's v9fs client uses (open flags, setattr and getattr
 * masks, lock types, errno values) and a bounds-checked little-endian reader and writer. Sources: the 9P2000.L
 * description (github.com/chaos/diod protocol.md) and Linux's include/net/9p/9p.h and net/9p/client.c (6.1).
 * Strings on the wire are byte strings; here they are JS strings holding one byte per char code (latin1), so names
 * that are not UTF-8 survive a round trip unchanged.
 */

/** Message types (include/net/9p/9p.h enum p9_msg_t); each R type is its T type + 1. */
export const P9 = {
  Tlerror: 6,
  Rlerror: 7,
  Tstatfs: 8,
  Tlopen: 12,
  Tlcreate: 14,
  Tsymlink: 16,
  Tmknod: 18,
  Trename: 20,
  Treadlink: 22,
  Tgetattr: 24,
  Tsetattr: 26,
  Txattrwalk: 30,
  Txattrcreate: 32,
  Treaddir: 40,
  Tfsync: 50,
  Tlock: 52,
  Tgetlock: 54,
  Tlink: 70,
  Tmkdir: 72,
  Trenameat: 74,
  Tunlinkat: 76,
  Tversion: 100,
  Tauth: 102,
  Tattach: 104,
  Tflush: 108,
  Twalk: 110,
  Tread: 116,
  Twrite: 118,
  Tclunk: 120,
  Tremove: 122,
} as const;

/** The protocol version this server speaks. */
export const VERSION_9P2000_L = "9P2000.L";
/** No tag / no fid (P9_NOTAG, P9_NOFID). */
export const NOTAG = 0xffff;
export const NOFID = 0xffff_ffff;
/** Most names in one Twalk (P9_MAXWELEM). */
export const MAXWELEM = 16;
/** size[4] type[1] tag[2]. */
export const HEADER_SIZE = 7;
/** Header of Rread/Rreaddir: header + count[4]. */
export const IOHDR_SIZE = 11;
/** qid: type[1] version[4] path[8]. */
export const QID_SIZE = 13;

/** qid.type bits. */
export const QTDIR = 0x80;
export const QTSYMLINK = 0x02;
export const QTFILE = 0x00;

/** Linux errno values (asm-generic/errno-base.h, errno.h): Rlerror carries these on every architecture. */
export const E = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENXIO: 6,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  ERANGE: 34,
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ENOLCK: 37,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  EPROTO: 71,
  EOVERFLOW: 75,
  EILSEQ: 84,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  ESTALE: 116,
  EDQUOT: 122,
} as const;

/** Tlopen/Tlcreate flags: Linux's generic O_* values (P9_DOTL_*), octal as in asm-generic/fcntl.h. */
export const O = {
  ACCMODE: 0o3,
  RDONLY: 0o0,
  WRONLY: 0o1,
  RDWR: 0o2,
  CREAT: 0o100,
  EXCL: 0o200,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  DSYNC: 0o10000,
  DIRECTORY: 0o200000,
  /** __O_SYNC; O_SYNC is __O_SYNC | O_DSYNC. */
  SYNC: 0o4000000,
} as const;

/** st_mode type bits (Linux). */
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;

/** Directory entry types (d_type) in Rreaddir. */
export const DT = { UNKNOWN: 0, FIFO: 1, CHR: 2, DIR: 4, BLK: 6, REG: 8, LNK: 10, SOCK: 12 } as const;

/** Rgetattr valid bits (P9_STATS_*). */
export const STATS_BASIC = 0x7ff;
export const STATS_BTIME = 0x800;

/** Tsetattr valid bits (P9_ATTR_*, the kernel's ATTR_* values). */
export const ATTR = {
  MODE: 1 << 0,
  UID: 1 << 1,
  GID: 1 << 2,
  SIZE: 1 << 3,
  ATIME: 1 << 4,
  MTIME: 1 << 5,
  CTIME: 1 << 6,
  ATIME_SET: 1 << 7,
  MTIME_SET: 1 << 8,
} as const;

/** Tunlinkat flag (AT_REMOVEDIR). */
export const AT_REMOVEDIR = 0x200;
/** Tlock/Tgetlock types and Rlock status (P9_LOCK_*). */
export const LOCK_TYPE_RDLCK = 0;
export const LOCK_TYPE_WRLCK = 1;
export const LOCK_TYPE_UNLCK = 2;
export const LOCK_SUCCESS = 0;
/** Longest file name component (NAME_MAX) and symlink target (PATH_MAX - 1). */
export const NAME_MAX = 255;
export const PATH_MAX = 4096;

/** The file-type bits of a mode as a d_type. */
export function modeToDt(mode: number): number {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return DT.DIR;
    case S_IFREG:
      return DT.REG;
    case S_IFLNK:
      return DT.LNK;
    case S_IFIFO:
      return DT.FIFO;
    case S_IFCHR:
      return DT.CHR;
    case S_IFBLK:
      return DT.BLK;
    case S_IFSOCK:
      return DT.SOCK;
    default:
      return DT.UNKNOWN;
  }
}

/** The qid type for a mode. */
export function modeToQidType(mode: number): number {
  const fmt = mode & S_IFMT;
  return fmt === S_IFDIR ? QTDIR : fmt === S_IFLNK ? QTSYMLINK : QTFILE;
}

/** Byte string (one byte per char code) from bytes. */
export function bytesToString(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode.apply(null, b.subarray(i, i + 4096) as never);
  return s;
}

/** Bytes from a byte string (char codes above 255 keep their low byte; byte strings have none). */
export function stringToBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/**
 * Reads a request. A read past the end sets `bad` and yields zeros/empty strings, so a handler decodes all fields,
 * then checks `bad` once (a truncated message is a guest error, answered with EPROTO, never an exception).
 */
export class P9Reader {
  readonly buf: Uint8Array;
  readonly end: number;
  pos: number;
  bad = false;
  private readonly view: DataView;

  constructor(buf: Uint8Array, start: number, end: number) {
    this.buf = buf;
    this.end = end;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
  }

  private take(n: number): number {
    const p = this.pos;
    if (p + n > this.end) {
      this.bad = true;
      this.pos = this.end;
      return -1;
    }
    this.pos = p + n;
    return p;
  }

  u8(): number {
    const p = this.take(1);
    return p < 0 ? 0 : this.buf[p]!;
  }

  u16(): number {
    const p = this.take(2);
    return p < 0 ? 0 : this.view.getUint16(p, true);
  }

  u32(): number {
    const p = this.take(4);
    return p < 0 ? 0 : this.view.getUint32(p, true);
  }

  /** A u64 as a bigint (exact). */
  u64(): bigint {
    const p = this.take(8);
    return p < 0 ? 0n : this.view.getBigUint64(p, true);
  }

  /** A u64 as a number; values above 2^53 come back as Infinity so range checks reject them. */
  u64n(): number {
    const p = this.take(8);
    if (p < 0) return 0;
    const hi = this.view.getUint32(p + 4, true);
    if (hi >= 0x20_0000) return Number.POSITIVE_INFINITY;
    return hi * 2 ** 32 + this.view.getUint32(p, true);
  }

  /** string[s]: u16 length and bytes, as a byte string. */
  str(): string {
    const n = this.u16();
    const p = this.take(n);
    return p < 0 ? "" : bytesToString(this.buf.subarray(p, p + n));
  }

  /** `n` raw bytes (a view into the request). */
  bytes(n: number): Uint8Array {
    const p = this.take(n);
    return p < 0 ? new Uint8Array(0) : this.buf.subarray(p, p + n);
  }
}

/**
 * Builds a reply of at most `limit` bytes. Writing past the limit sets `overflow` instead of throwing; the server then
 * answers with an error. The buffer grows as needed, so small replies stay small whatever the msize.
 */
export class P9Writer {
  readonly limit: number;
  buf: Uint8Array;
  private view: DataView;
  pos: number;
  overflow = false;

  constructor(limit: number, initial = 256) {
    this.limit = limit;
    this.buf = new Uint8Array(Math.min(initial, limit));
    this.view = new DataView(this.buf.buffer);
    this.pos = HEADER_SIZE;
  }

  /** Room for `n` more bytes: the offset to write at, or -1 (overflow). */
  private room(n: number): number {
    const p = this.pos;
    if (p + n > this.limit) {
      this.overflow = true;
      return -1;
    }
    if (p + n > this.buf.length) {
      const grown = new Uint8Array(Math.min(this.limit, Math.max(p + n, this.buf.length * 2)));
      grown.set(this.buf.subarray(0, p));
      this.buf = grown;
      this.view = new DataView(grown.buffer);
    }
    this.pos = p + n;
    return p;
  }

  /** Bytes left before the limit. */
  get left(): number {
    return this.limit - this.pos;
  }

  u8(v: number): void {
    const p = this.room(1);
    if (p >= 0) this.buf[p] = v;
  }

  u16(v: number): void {
    const p = this.room(2);
    if (p >= 0) this.view.setUint16(p, v, true);
  }

  u32(v: number): void {
    const p = this.room(4);
    if (p >= 0) this.view.setUint32(p, v >>> 0, true);
  }

  /** A u64 from a bigint, or from a number (negative numbers are written in two's complement). */
  u64(v: bigint | number): void {
    const p = this.room(8);
    if (p < 0) return;
    const b = typeof v === "bigint" ? v : BigInt(Math.trunc(v));
    this.view.setBigUint64(p, BigInt.asUintN(64, b), true);
  }

  str(s: string): void {
    if (s.length > 0xffff) {
      this.overflow = true;
      return;
    }
    const p = this.room(2 + s.length);
    if (p < 0) return;
    this.view.setUint16(p, s.length, true);
    for (let i = 0; i < s.length; i++) this.buf[p + 2 + i] = s.charCodeAt(i);
  }

  qid(type: number, version: number, path: bigint): void {
    this.u8(type);
    this.u32(version);
    this.u64(path);
  }

  /** Reserve `n` bytes and return a view on them to fill in place (e.g. file data). */
  reserve(n: number): Uint8Array | null {
    const p = this.room(n);
    return p < 0 ? null : this.buf.subarray(p, p + n);
  }

  /** Finish the message: header filled in, trimmed to its size. */
  finish(type: number, tag: number): Uint8Array {
    this.view.setUint32(0, this.pos, true);
    this.buf[4] = type;
    this.view.setUint16(5, tag, true);
    return this.buf.subarray(0, this.pos);
  }
}

/** Rlerror for `tag`. */
export function rlerror(tag: number, errno: number): Uint8Array {
  const w = new P9Writer(HEADER_SIZE + 4, HEADER_SIZE + 4);
  w.u32(errno);
  return w.finish(P9.Rlerror, tag);
}
