/**
 * A 9P2000.L file server for one shared folder, speaking what Linux's v9fs (`mount -t 9p -o version=9p2000.L`) sends:
 * version, attach, walk, getattr/setattr, lopen/lcreate, read/write, readdir, clunk/remove, unlinkat, mkdir,
 * rename/renameat, symlink/readlink, link, mknod (regular files only), statfs, fsync, xattrwalk, lock/getlock, flush.
 * Everything else gets Rlerror(EOPNOTSUPP). Requests run concurrently (each `handle` call is independent); a fid names
 * a path inside the share, which the server keeps (resolving `..` itself, never above the root) and fixes up when the
 * guest renames a parent. Policy, whatever the backend: no setuid bit, no setgid bit on files, ownership changes are
 * ignored (as QEMU's security_model=none), no device nodes or FIFOs, no extended attributes (reads see none),
 * locks are granted without host-side locking (as QEMU; the guest kernel still arbitrates between guest processes),
 * qid.version is 0 (v9fs would otherwise make a new inode for a file each time it changes).
 * A guest's request never throws out of `handle`: malformed messages get EPROTO, host failures their errno.
 */
import { checkName, type FsAttr, FsError, type FsFile, type FsPath, type FsSetattr, type P9Backend } from "./p9-fs.ts";
import {
  AT_REMOVEDIR,
  ATTR,
  DT,
  E,
  HEADER_SIZE,
  IOHDR_SIZE,
  LOCK_SUCCESS,
  LOCK_TYPE_UNLCK,
  LOCK_TYPE_WRLCK,
  MAXWELEM,
  modeToQidType,
  NOFID,
  NOTAG,
  O,
  P9,
  P9Reader,
  P9Writer,
  PATH_MAX,
  QID_SIZE,
  QTDIR,
  rlerror,
  S_IFDIR,
  S_IFMT,
  S_IFREG,
  S_ISGID,
  S_ISUID,
  STATS_BASIC,
  STATS_BTIME,
  VERSION_9P2000_L,
} from "./p9-proto.ts";

/** Largest msize offered (Linux's virtio transport caps at ~500 KiB: PAGE_SIZE * (VIRTQUEUE_NUM - 3)). */
export const MAX_MSIZE = 512 * 1024;
/** Smallest msize accepted (the Linux client refuses less). */
export const MIN_MSIZE = 4096;
/** Bound on fids (each is a small record; Linux holds one per cached dentry). */
export const MAX_FIDS = 1 << 18;
/** Bound on fids with an open host file (host descriptors are a shared, limited resource). */
export const MAX_OPEN = 1024;
/** V9FS_MAGIC, reported as f_type when the host gives none. */
const V9FS_MAGIC = 0x01021997;

/** Open flags passed on to the backend; the rest (NOCTTY, NONBLOCK, DIRECT, NOATIME, ...) are hints dropped here. */
const OPEN_PASS = O.ACCMODE | O.TRUNC | O.APPEND | O.DSYNC | O.SYNC | O.DIRECTORY;

/** Fid states: names a path, not open; a Tlopen/Tlcreate is in flight; has an open host file; from Txattrwalk. */
const FidState = { Path: 0, Opening: 1, Open: 2, Xattr: 3 } as const;
type FidState = (typeof FidState)[keyof typeof FidState];

class Fid {
  /** The server session the fid belongs to. */
  readonly session: number;
  path: string[];
  qidType: number;
  state: FidState = FidState.Path as FidState;
  file: FsFile | null = null;
  /** Linux O_* flags of the open file. */
  flags = 0;
  /** Directory listing snapshot for Treaddir (taken at offset 0), with "." and ".." first. */
  dirents: { name: string; type: number }[] | null = null;
  xattr: Uint8Array | null = null;

  constructor(session: number, path: string[], qidType: number) {
    this.session = session;
    this.path = path;
    this.qidType = qidType;
  }
}

export interface P9ServerOptions {
  /** Called with host errors that are not FsError (they are answered with EIO); for logging. */
  readonly onHostError?: (e: unknown) => void;
}

const errnoOf = (e: unknown, onHostError?: (e: unknown) => void): number => {
  if (e instanceof FsError) return e.errno;
  onHostError?.(e);
  return E.EIO;
};

function fail(errno: number): never {
  throw new FsError(errno);
}

/** Permission bits the server lets a guest set: no setuid, and no setgid except on directories (group inheritance). */
function safeMode(mode: number, isDir: boolean): number {
  return mode & 0o7777 & ~S_ISUID & (isDir ? ~0 : ~S_ISGID);
}

export class P9Server {
  private readonly fids = new Map<number, Fid>();
  private readonly pending = new Map<number, Promise<unknown>>();
  private msize = 0;
  private openCount = 0;
  /** Bumped by reset(): work that started in an earlier session must not touch this one's fids or counts. */
  private session = 0;
  private readonly onHostError: ((e: unknown) => void) | undefined;
  readonly backend: P9Backend;

  constructor(backend: P9Backend, opts: P9ServerOptions = {}) {
    this.backend = backend;
    this.onHostError = opts.onHostError;
  }

  /** Number of fids in use (tests, diagnostics). */
  get fidCount(): number {
    return this.fids.size;
  }

  /** Number of fids holding an open host file. */
  get openFiles(): number {
    return this.openCount;
  }

  /**
   * Answer one request. `limit` is the room for the reply (the device's writable buffer); replies never exceed it or
   * the negotiated msize. Never rejects.
   */
  async handle(req: Uint8Array, limit: number): Promise<Uint8Array> {
    if (req.length < HEADER_SIZE) return rlerror(NOTAG, E.EPROTO);
    const size = (req[0]! | (req[1]! << 8) | (req[2]! << 16) | (req[3]! << 24)) >>> 0;
    const type = req[4]!;
    const tag = req[5]! | (req[6]! << 8);
    if (size < HEADER_SIZE || size > req.length) return rlerror(tag, E.EPROTO);
    const r = new P9Reader(req, HEADER_SIZE, size);
    const room = Math.min(limit, this.msize > 0 ? this.msize : MAX_MSIZE);
    if (type === P9.Tflush) return this.flush(r, tag);
    const work = this.dispatch(type, tag, r, room);
    this.pending.set(tag, work);
    try {
      return await work;
    } catch (e) {
      return rlerror(tag, errnoOf(e, this.onHostError));
    } finally {
      if (this.pending.get(tag) === work) this.pending.delete(tag);
    }
  }

  /** Forget every fid and close every open file (Tversion, device reset). */
  async reset(): Promise<void> {
    const open: FsFile[] = [];
    for (const f of this.fids.values()) {
      if (f.file !== null) open.push(f.file);
      f.file = null;
      f.dirents = null;
    }
    this.session++;
    this.fids.clear();
    this.openCount = 0;
    this.msize = 0;
    await Promise.allSettled(open.map((f) => f.close()));
  }

  private async flush(r: P9Reader, tag: number): Promise<Uint8Array> {
    const oldtag = r.u16();
    if (r.bad) return rlerror(tag, E.EPROTO);
    // Rflush must not overtake the reply to the flushed request (the client may reuse the tag after Rflush).
    const old = this.pending.get(oldtag);
    if (old !== undefined) await old.catch(() => undefined);
    return new P9Writer(HEADER_SIZE).finish(P9.Tflush + 1, tag);
  }

  private dispatch(type: number, tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    if (type === P9.Tversion) return this.version(tag, r, room);
    if (this.msize === 0) return Promise.resolve(rlerror(tag, E.EPROTO));
    switch (type) {
      case P9.Tattach:
        return this.attach(tag, r, room);
      case P9.Twalk:
        return this.walk(tag, r, room);
      case P9.Tgetattr:
        return this.getattr(tag, r, room);
      case P9.Tsetattr:
        return this.setattr(tag, r, room);
      case P9.Tlopen:
        return this.lopen(tag, r, room);
      case P9.Tlcreate:
        return this.lcreate(tag, r, room);
      case P9.Tread:
        return this.read(tag, r, room);
      case P9.Twrite:
        return this.write(tag, r, room);
      case P9.Treaddir:
        return this.readdir(tag, r, room);
      case P9.Tclunk:
        return this.clunk(tag, r, room);
      case P9.Tremove:
        return this.remove(tag, r, room);
      case P9.Tunlinkat:
        return this.unlinkat(tag, r, room);
      case P9.Tmkdir:
        return this.mkdir(tag, r, room);
      case P9.Trename:
        return this.rename(tag, r, room);
      case P9.Trenameat:
        return this.renameat(tag, r, room);
      case P9.Tsymlink:
        return this.symlink(tag, r, room);
      case P9.Treadlink:
        return this.readlink(tag, r, room);
      case P9.Tlink:
        return this.link(tag, r, room);
      case P9.Tmknod:
        return this.mknod(tag, r, room);
      case P9.Tstatfs:
        return this.statfs(tag, r, room);
      case P9.Tfsync:
        return this.fsync(tag, r, room);
      case P9.Txattrwalk:
        return this.xattrwalk(tag, r, room);
      case P9.Tlock:
        return this.lock(tag, r, room);
      case P9.Tgetlock:
        return this.getlock(tag, r, room);
      default:
        // Tauth (no authentication), Txattrcreate (no xattrs), 9P2000/9P2000.u messages, R-messages.
        return Promise.resolve(rlerror(tag, E.EOPNOTSUPP));
    }
  }

  // --- helpers -------------------------------------------------------------------------------------------------

  private fid(n: number): Fid {
    const f = this.fids.get(n);
    return f === undefined ? fail(E.EBADF) : f;
  }

  /** A fid that names a directory (for operations taking a directory fid). */
  private dirFid(n: number): Fid {
    const f = this.fid(n);
    if (f.state === FidState.Xattr) fail(E.EBADF);
    if (f.qidType !== QTDIR) fail(E.ENOTDIR);
    return f;
  }

  private addFid(n: number, f: Fid): void {
    if (n === NOFID) fail(E.EBADF);
    if (!this.fids.has(n) && this.fids.size >= MAX_FIDS) fail(E.ENFILE);
    this.fids.set(n, f);
  }

  private writable(): void {
    if (this.backend.readOnly) fail(E.EROFS);
  }

  private name(name: string): string {
    const err = checkName(name);
    return err !== 0 ? fail(err) : name;
  }

  private static decoded(r: P9Reader): void {
    if (r.bad) fail(E.EPROTO);
  }

  private static qid(w: P9Writer, a: FsAttr): void {
    w.qid(modeToQidType(a.mode), 0, a.ino);
  }

  private static reply(w: P9Writer, type: number, tag: number): Uint8Array {
    return w.overflow ? rlerror(tag, E.EMSGSIZE) : w.finish(type + 1, tag);
  }

  private static empty(type: number, tag: number): Uint8Array {
    return new P9Writer(HEADER_SIZE).finish(type + 1, tag);
  }

  private async attrOf(f: Fid): Promise<FsAttr> {
    return f.file !== null ? f.file.stat() : this.backend.lstat(f.path);
  }

  /** After renaming `from` to `to`, fids at or below `from` follow it. */
  private renamed(from: FsPath, to: FsPath): void {
    for (const f of this.fids.values()) {
      const p = f.path;
      if (p.length < from.length) continue;
      let under = true;
      for (let i = 0; i < from.length; i++) {
        if (p[i] !== from[i]) {
          under = false;
          break;
        }
      }
      if (under) f.path = [...to, ...p.slice(from.length)];
    }
  }

  private async closeFid(f: Fid): Promise<void> {
    const file = f.file;
    f.file = null;
    f.dirents = null;
    if (file !== null) {
      if (f.session === this.session) this.openCount--;
      await file.close().catch((e) => this.onHostError?.(e));
    }
  }

  // --- session ---------------------------------------------------------------------------------------------------

  private async version(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const msize = r.u32();
    const version = r.str();
    P9Server.decoded(r);
    await this.reset();
    const w = new P9Writer(room);
    // "9P2000.L" and any dotted extension of it is answered as 9P2000.L; anything else as "unknown".
    const ok = version === VERSION_9P2000_L || version.startsWith(`${VERSION_9P2000_L}.`);
    const size = Math.min(msize, MAX_MSIZE);
    if (ok && size < MIN_MSIZE) return rlerror(tag, E.EINVAL);
    if (ok) this.msize = size;
    w.u32(size);
    w.str(ok ? VERSION_9P2000_L : "unknown");
    return P9Server.reply(w, P9.Tversion, tag);
  }

  private async attach(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const fid = r.u32();
    const afid = r.u32();
    r.str(); // uname
    r.str(); // aname: every attach gets the share's root
    r.u32(); // n_uname
    P9Server.decoded(r);
    if (afid !== NOFID) fail(E.EBADF);
    if (this.fids.has(fid)) fail(E.EBADF);
    const session = this.session;
    const a = await this.backend.lstat([]);
    if (session !== this.session || this.fids.has(fid)) fail(E.EBADF);
    if ((a.mode & S_IFMT) !== S_IFDIR) fail(E.ENOTDIR);
    this.addFid(fid, new Fid(this.session, [], QTDIR));
    const w = new P9Writer(room);
    P9Server.qid(w, a);
    return P9Server.reply(w, P9.Tattach, tag);
  }

  // --- names -----------------------------------------------------------------------------------------------------

  private async walk(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const fidn = r.u32();
    const newfid = r.u32();
    const nwname = r.u16();
    if (nwname > MAXWELEM) fail(E.EINVAL);
    const names: string[] = [];
    for (let i = 0; i < nwname; i++) names.push(r.str());
    P9Server.decoded(r);
    const f = this.fid(fidn);
    if (f.state === FidState.Xattr) fail(E.EBADF);
    if (newfid !== fidn && this.fids.has(newfid)) fail(E.EBADF);

    const session = this.session;
    const path = f.path.slice();
    let isDir = f.qidType === QTDIR;
    let qidType = f.qidType;
    const qids: FsAttr[] = [];
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      let err = isDir ? 0 : E.ENOTDIR;
      if (err === 0) {
        if (name === "..") {
          if (path.length > 0) path.pop();
        } else if (name !== ".") {
          err = checkName(name);
          if (err === 0) path.push(name);
        }
      }
      let a: FsAttr | undefined;
      if (err === 0) {
        try {
          a = await this.backend.lstat(path);
        } catch (e) {
          err = errnoOf(e, this.onHostError);
        }
      }
      if (a === undefined) {
        // The first name failing is an error; a later one ends the walk early (newfid is not created).
        if (i === 0) fail(err);
        break;
      }
      qids.push(a);
      qidType = modeToQidType(a.mode);
      isDir = qidType === QTDIR;
    }
    if (session !== this.session) fail(E.EBADF);
    if (qids.length === names.length) {
      // The fid may have been clunked while we walked; the new fid is independent of it.
      if (newfid !== fidn && this.fids.has(newfid)) fail(E.EBADF);
      if (newfid === fidn) {
        if (f.state !== FidState.Path) fail(E.EBADF);
        f.path = path;
        f.qidType = qidType;
      } else {
        this.addFid(newfid, new Fid(this.session, path, qidType));
      }
    }
    const w = new P9Writer(room);
    w.u16(qids.length);
    for (const a of qids) P9Server.qid(w, a);
    return P9Server.reply(w, P9.Twalk, tag);
  }

  private async getattr(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const f = this.fid(r.u32());
    r.u64(); // request_mask: everything basic is always returned
    P9Server.decoded(r);
    if (f.state === FidState.Xattr) fail(E.EBADF);
    const a = await this.attrOf(f);
    const w = new P9Writer(room);
    w.u64(a.btimeSec >= 0 ? STATS_BASIC | STATS_BTIME : STATS_BASIC);
    P9Server.qid(w, a);
    w.u32(a.mode);
    w.u32(a.uid);
    w.u32(a.gid);
    w.u64(a.nlink);
    w.u64(a.rdev);
    w.u64(a.size);
    w.u64(a.blksize);
    w.u64(a.blocks);
    w.u64(a.atimeSec);
    w.u64(a.atimeNsec);
    w.u64(a.mtimeSec);
    w.u64(a.mtimeNsec);
    w.u64(a.ctimeSec);
    w.u64(a.ctimeNsec);
    w.u64(Math.max(a.btimeSec, 0));
    w.u64(a.btimeSec >= 0 ? a.btimeNsec : 0);
    w.u64(0); // gen
    w.u64(0); // data_version
    return P9Server.reply(w, P9.Tgetattr, tag);
  }

  private async setattr(tag: number, r: P9Reader, _room: number): Promise<Uint8Array> {
    const f = this.fid(r.u32());
    const valid = r.u32();
    const mode = r.u32();
    r.u32(); // uid
    r.u32(); // gid
    const size = r.u64n();
    const atimeSec = r.u64n();
    const atimeNsec = r.u64n();
    const mtimeSec = r.u64n();
    const mtimeNsec = r.u64n();
    P9Server.decoded(r);
    if (f.state === FidState.Xattr) fail(E.EBADF);
    this.writable();
    const attr: FsSetattr = {};
    let any = false;
    if (valid & ATTR.MODE) {
      attr.mode = safeMode(mode, f.qidType === QTDIR);
      any = true;
    }
    if (valid & ATTR.SIZE) {
      if (!Number.isSafeInteger(size)) fail(E.EFBIG);
      attr.size = size;
      any = true;
    }
    if (valid & ATTR.ATIME) {
      attr.atime = valid & ATTR.ATIME_SET ? P9Server.time(atimeSec, atimeNsec) : "now";
      any = true;
    }
    if (valid & ATTR.MTIME) {
      attr.mtime = valid & ATTR.MTIME_SET ? P9Server.time(mtimeSec, mtimeNsec) : "now";
      any = true;
    }
    // UID/GID: ownership stays the host user's (changes are accepted and ignored); CTIME follows any change.
    if (any) {
      try {
        await this.backend.setattr(f.path, attr);
      } catch (e) {
        // An open file whose name is gone (unlinked or renamed on the host): change it through its handle.
        if (!(e instanceof FsError && e.errno === E.ENOENT && f.file !== null)) throw e;
        await f.file.setattr(attr);
      }
    }
    return P9Server.empty(P9.Tsetattr, tag);
  }

  private static time(sec: number, nsec: number): { sec: number; nsec: number } {
    if (!Number.isSafeInteger(sec) || nsec >= 1e9) fail(E.EINVAL);
    return { sec, nsec };
  }

  // --- open files ------------------------------------------------------------------------------------------------

  /** Claim fid `f` for an open in flight (a second Tlopen on it fails; the open-file budget is taken now). */
  private beginOpen(f: Fid): void {
    if (f.state !== FidState.Path) fail(E.EINVAL);
    if (this.openCount >= MAX_OPEN) fail(E.ENFILE);
    f.state = FidState.Opening;
    this.openCount++;
  }

  /** Install `file` in fid `n` (= `f`), or close it if the open failed or the fid was clunked meanwhile. */
  private async endOpen(n: number, f: Fid, file: FsFile | null, flags: number): Promise<boolean> {
    if (file === null || this.fids.get(n) !== f) {
      if (f.session === this.session) this.openCount--;
      if (this.fids.get(n) === f) f.state = FidState.Path;
      if (file !== null) await file.close().catch((e) => this.onHostError?.(e));
      return false;
    }
    f.file = file;
    f.flags = flags;
    f.state = FidState.Open;
    return true;
  }

  private openFlags(flags: number): number {
    const acc = flags & O.ACCMODE;
    if (acc === O.ACCMODE) fail(E.EINVAL);
    if (this.backend.readOnly && (acc !== O.RDONLY || flags & O.TRUNC)) fail(E.EROFS);
    return flags & OPEN_PASS;
  }

  private async lopen(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const n = r.u32();
    const flags = r.u32();
    P9Server.decoded(r);
    const f = this.fid(n);
    const pass = this.openFlags(flags);
    this.beginOpen(f);
    let file: FsFile | null = null;
    let a: FsAttr;
    try {
      file = await this.backend.open(f.path, pass);
      a = await file.stat();
    } catch (e) {
      await this.endOpen(n, f, file, 0).catch(() => undefined);
      throw e;
    }
    if (!(await this.endOpen(n, f, file, pass))) fail(E.EBADF);
    f.qidType = modeToQidType(a.mode);
    const w = new P9Writer(room);
    P9Server.qid(w, a);
    w.u32(0); // iounit: the client uses msize - P9_IOHDRSZ
    return P9Server.reply(w, P9.Tlopen, tag);
  }

  private async lcreate(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const n = r.u32();
    const name = r.str();
    const flags = r.u32();
    const mode = r.u32();
    r.u32(); // gid
    P9Server.decoded(r);
    const f = this.dirFid(n);
    this.writable();
    this.name(name);
    const pass = (this.openFlags(flags) & ~O.DIRECTORY) | (flags & O.EXCL) | O.CREAT;
    this.beginOpen(f);
    let file: FsFile | null = null;
    let a: FsAttr;
    try {
      file = await this.backend.create(f.path, name, pass, safeMode(mode, false));
      a = await file.stat();
    } catch (e) {
      await this.endOpen(n, f, file, 0).catch(() => undefined);
      throw e;
    }
    if (!(await this.endOpen(n, f, file, pass))) fail(E.EBADF);
    // The fid now stands for the new file.
    f.path = [...f.path, name];
    f.qidType = modeToQidType(a.mode);
    const w = new P9Writer(room);
    P9Server.qid(w, a);
    w.u32(0);
    return P9Server.reply(w, P9.Tlcreate, tag);
  }

  private async read(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const f = this.fid(r.u32());
    const offset = r.u64n();
    let count = r.u32();
    P9Server.decoded(r);
    count = Math.max(0, Math.min(count, room - IOHDR_SIZE));
    const w = new P9Writer(IOHDR_SIZE + count, IOHDR_SIZE + count);
    if (f.state === FidState.Xattr) {
      const x = f.xattr!;
      const from = Math.min(offset, x.length);
      const n = Math.min(count, x.length - from);
      w.u32(n);
      w.reserve(n)?.set(x.subarray(from, from + n));
      return P9Server.reply(w, P9.Tread, tag);
    }
    if (f.file === null) fail(E.EBADF);
    if ((f.flags & O.ACCMODE) === O.WRONLY) fail(E.EBADF);
    if (f.qidType === QTDIR) fail(E.EISDIR);
    w.u32(0);
    const dst = w.reserve(count)!;
    // Offsets past 2^53 are beyond any host file: end of file.
    const got = Number.isSafeInteger(offset) && count > 0 ? await f.file!.read(dst, offset) : 0;
    const n = Math.max(0, Math.min(got, count));
    w.pos = HEADER_SIZE;
    w.u32(n);
    w.pos = IOHDR_SIZE + n;
    return P9Server.reply(w, P9.Tread, tag);
  }

  private async write(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const f = this.fid(r.u32());
    const offset = r.u64n();
    const count = r.u32();
    const data = r.bytes(count);
    P9Server.decoded(r);
    if (f.file === null) fail(E.EBADF);
    if ((f.flags & O.ACCMODE) === O.RDONLY) fail(E.EBADF);
    if (!Number.isSafeInteger(offset + count)) fail(E.EFBIG);
    const n = count === 0 ? 0 : await f.file!.write(data, offset);
    const w = new P9Writer(room);
    w.u32(n);
    return P9Server.reply(w, P9.Twrite, tag);
  }

  private async readdir(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const f = this.fid(r.u32());
    const offset = r.u64n();
    const count = r.u32();
    P9Server.decoded(r);
    const file = f.file;
    if (file === null || f.qidType !== QTDIR) fail(f.file === null ? E.EBADF : E.ENOTDIR);
    if (offset === 0 || f.dirents === null) {
      const list = await file!.readdir();
      f.dirents = [{ name: ".", type: DT.DIR }, { name: "..", type: DT.DIR }, ...list];
    }
    const dirents = f.dirents;
    const limit = Math.min(room, IOHDR_SIZE + count);
    // Choose the entries that fit (qid[13] offset[8] type[1] name[s] each), then stat them together.
    const first = Number.isSafeInteger(offset) ? offset : dirents.length;
    let used = IOHDR_SIZE;
    let last = first;
    while (last < dirents.length) {
      const len = QID_SIZE + 8 + 1 + 2 + dirents[last]!.name.length;
      if (used + len > limit) break;
      used += len;
      last++;
    }
    const parent = f.path.length > 0 ? f.path.slice(0, -1) : f.path;
    const attrs = await Promise.all(
      dirents.slice(first, last).map((d) => {
        const p =
          d.name === "." ? file!.stat() : d.name === ".." ? this.backend.lstat(parent) : file!.statEntry(d.name);
        // An entry removed since the listing is left out.
        return p.catch(() => null);
      }),
    );
    const w = new P9Writer(limit, used);
    w.u32(0);
    for (let i = first; i < last; i++) {
      const a = attrs[i - first];
      if (a === null || a === undefined) continue;
      const d = dirents[i]!;
      P9Server.qid(w, a);
      w.u64(i + 1);
      w.u8(d.type);
      w.str(d.name);
    }
    const end = w.pos;
    w.pos = HEADER_SIZE;
    w.u32(end - IOHDR_SIZE);
    w.pos = end;
    return P9Server.reply(w, P9.Treaddir, tag);
  }

  private async clunk(tag: number, r: P9Reader, _room: number): Promise<Uint8Array> {
    const n = r.u32();
    P9Server.decoded(r);
    const f = this.fid(n);
    this.fids.delete(n);
    await this.closeFid(f);
    return P9Server.empty(P9.Tclunk, tag);
  }

  private async fsync(tag: number, r: P9Reader, _room: number): Promise<Uint8Array> {
    const f = this.fid(r.u32());
    // datasync[4] was added in Linux 3.x; older clients send only the fid.
    const datasync = r.pos < r.end ? r.u32() : 0;
    P9Server.decoded(r);
    if (f.file === null) fail(E.EBADF);
    await f.file!.sync(datasync !== 0);
    return P9Server.empty(P9.Tfsync, tag);
  }

  // --- directory changes -----------------------------------------------------------------------------------------

  private async remove(tag: number, r: P9Reader, _room: number): Promise<Uint8Array> {
    const n = r.u32();
    P9Server.decoded(r);
    const f = this.fid(n);
    // Tremove clunks the fid whether or not the remove succeeds.
    this.fids.delete(n);
    await this.closeFid(f);
    this.writable();
    if (f.path.length === 0) fail(E.EBUSY);
    const a = await this.backend.lstat(f.path);
    await this.backend.unlink(f.path.slice(0, -1), f.path[f.path.length - 1]!, (a.mode & S_IFMT) === S_IFDIR);
    return P9Server.empty(P9.Tremove, tag);
  }

  private async unlinkat(tag: number, r: P9Reader, _room: number): Promise<Uint8Array> {
    const d = this.dirFid(r.u32());
    const name = r.str();
    const flags = r.u32();
    P9Server.decoded(r);
    this.writable();
    await this.backend.unlink(d.path, this.name(name), (flags & AT_REMOVEDIR) !== 0);
    return P9Server.empty(P9.Tunlinkat, tag);
  }

  private async mkdir(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const d = this.dirFid(r.u32());
    const name = r.str();
    const mode = r.u32();
    r.u32(); // gid
    P9Server.decoded(r);
    this.writable();
    const a = await this.backend.mkdir(d.path, this.name(name), safeMode(mode, true));
    const w = new P9Writer(room);
    P9Server.qid(w, a);
    return P9Server.reply(w, P9.Tmkdir, tag);
  }

  private async rename(tag: number, r: P9Reader, _room: number): Promise<Uint8Array> {
    const f = this.fid(r.u32());
    const d = this.dirFid(r.u32());
    const name = r.str();
    P9Server.decoded(r);
    this.writable();
    if (f.path.length === 0) fail(E.EBUSY);
    const from = f.path.slice();
    const to = [...d.path, this.name(name)];
    await this.backend.rename(from.slice(0, -1), from[from.length - 1]!, d.path, name);
    this.renamed(from, to);
    return P9Server.empty(P9.Trename, tag);
  }

  private async renameat(tag: number, r: P9Reader, _room: number): Promise<Uint8Array> {
    const od = this.dirFid(r.u32());
    const oldName = r.str();
    const nd = this.dirFid(r.u32());
    const newName = r.str();
    P9Server.decoded(r);
    this.writable();
    this.name(oldName);
    this.name(newName);
    const from = [...od.path, oldName];
    const to = [...nd.path, newName];
    await this.backend.rename(od.path, oldName, nd.path, newName);
    this.renamed(from, to);
    return P9Server.empty(P9.Trenameat, tag);
  }

  private async symlink(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const d = this.dirFid(r.u32());
    const name = r.str();
    const target = r.str();
    r.u32(); // gid
    P9Server.decoded(r);
    this.writable();
    this.name(name);
    if (target.length === 0 || target.includes("\0")) fail(E.EINVAL);
    if (target.length >= PATH_MAX) fail(E.ENAMETOOLONG);
    const a = await this.backend.symlink(d.path, name, target);
    const w = new P9Writer(room);
    P9Server.qid(w, a);
    return P9Server.reply(w, P9.Tsymlink, tag);
  }

  private async readlink(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const f = this.fid(r.u32());
    P9Server.decoded(r);
    const target = await this.backend.readlink(f.path);
    const w = new P9Writer(room);
    w.str(target);
    return P9Server.reply(w, P9.Treadlink, tag);
  }

  private async link(tag: number, r: P9Reader, _room: number): Promise<Uint8Array> {
    const d = this.dirFid(r.u32());
    const f = this.fid(r.u32());
    const name = r.str();
    P9Server.decoded(r);
    this.writable();
    this.name(name);
    if (f.path.length === 0 || f.qidType === QTDIR) fail(E.EPERM);
    await this.backend.link(f.path, d.path, name);
    return P9Server.empty(P9.Tlink, tag);
  }

  private async mknod(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const d = this.dirFid(r.u32());
    const name = r.str();
    const mode = r.u32();
    r.u32(); // major
    r.u32(); // minor
    r.u32(); // gid
    P9Server.decoded(r);
    this.writable();
    this.name(name);
    // Device nodes would open host devices; FIFOs and sockets have no portable host call. Regular files only.
    const fmt = mode & S_IFMT;
    if (fmt !== S_IFREG && fmt !== 0) fail(E.EPERM);
    const file = await this.backend.create(d.path, name, O.WRONLY | O.CREAT | O.EXCL, safeMode(mode, false));
    let a: FsAttr;
    try {
      a = await file.stat();
    } finally {
      await file.close();
    }
    const w = new P9Writer(room);
    P9Server.qid(w, a);
    return P9Server.reply(w, P9.Tmknod, tag);
  }

  // --- file system -----------------------------------------------------------------------------------------------

  private async statfs(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    this.fid(r.u32());
    P9Server.decoded(r);
    const s = await this.backend.statfs();
    const w = new P9Writer(room);
    w.u32(s.type || V9FS_MAGIC);
    w.u32(s.bsize);
    w.u64(s.blocks);
    w.u64(s.bfree);
    w.u64(s.bavail);
    w.u64(s.files);
    w.u64(s.ffree);
    w.u64(0); // fsid
    w.u32(255); // namelen
    return P9Server.reply(w, P9.Tstatfs, tag);
  }

  private async xattrwalk(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const fidn = r.u32();
    const newfid = r.u32();
    const name = r.str();
    P9Server.decoded(r);
    const f = this.fid(fidn);
    if (newfid !== fidn && this.fids.has(newfid)) fail(E.EBADF);
    // No extended attributes: the list is empty and every named attribute is absent.
    if (name !== "") fail(E.ENODATA);
    const x = new Fid(this.session, f.path.slice(), f.qidType);
    x.state = FidState.Xattr;
    x.xattr = new Uint8Array(0);
    if (newfid === fidn) await this.closeFid(f);
    this.addFid(newfid, x);
    const w = new P9Writer(room);
    w.u64(0);
    return P9Server.reply(w, P9.Txattrwalk, tag);
  }

  private async lock(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const f = this.fid(r.u32());
    const type = r.u8();
    r.u32(); // flags
    r.u64(); // start
    r.u64(); // length
    r.u32(); // proc_id
    r.str(); // client_id
    P9Server.decoded(r);
    if (f.file === null) fail(E.EBADF);
    if (type > LOCK_TYPE_UNLCK) fail(E.EINVAL);
    const w = new P9Writer(room);
    w.u8(LOCK_SUCCESS);
    return P9Server.reply(w, P9.Tlock, tag);
  }

  private async getlock(tag: number, r: P9Reader, room: number): Promise<Uint8Array> {
    const f = this.fid(r.u32());
    const type = r.u8();
    const start = r.u64();
    const length = r.u64();
    const procId = r.u32();
    const clientId = r.str();
    P9Server.decoded(r);
    if (f.file === null) fail(E.EBADF);
    if (type > LOCK_TYPE_WRLCK) fail(E.EINVAL);
    // No host process holds a conflicting lock as far as the server knows.
    const w = new P9Writer(room);
    w.u8(LOCK_TYPE_UNLCK);
    w.u64(start);
    w.u64(length);
    w.u32(procId);
    w.str(clientId);
    return P9Server.reply(w, P9.Tgetlock, tag);
  }
}
