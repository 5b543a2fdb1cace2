// A 9P2000.L client for tests: encodes T-messages as Linux's v9fs does (net/9p/client.c formats), passes them to a
// P9Server, decodes the reply and throws FsError(errno) for Rlerror. Not for production use.
import { FsError } from "../../src/core/devices/virtio/p9-fs.ts";
import { E, HEADER_SIZE, NOFID, P9, P9Reader, P9Writer } from "../../src/core/devices/virtio/p9-proto.ts";
import type { P9Server } from "../../src/core/devices/virtio/p9-server.ts";

export interface Qid {
  type: number;
  version: number;
  path: bigint;
}

export interface Getattr {
  valid: bigint;
  qid: Qid;
  mode: number;
  uid: number;
  gid: number;
  nlink: bigint;
  size: bigint;
  atimeSec: bigint;
  atimeNsec: bigint;
  mtimeSec: bigint;
  mtimeNsec: bigint;
}

export interface Dirent {
  qid: Qid;
  offset: bigint;
  type: number;
  name: string;
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function qid(r: P9Reader): Qid {
  return { type: r.u8(), version: r.u32(), path: r.u64() };
}

export class P9TestClient {
  readonly server: P9Server;
  /** Room the "device" gives each reply. */
  room: number;
  private nextTag = 1;
  /** Tag of the last request sent. */
  lastTag = 0;

  constructor(server: P9Server, room = 1 << 20) {
    this.server = server;
    this.room = room;
  }

  /** Send a raw message; returns the raw reply. */
  raw(msg: Uint8Array): Promise<Uint8Array> {
    return this.server.handle(msg, this.room);
  }

  /** Build, send and check one request; returns a reader positioned after the reply header. */
  async rpc(type: number, build: (w: P9Writer) => void, tag = this.nextTag++ & 0x7fff): Promise<P9Reader> {
    this.lastTag = tag;
    const w = new P9Writer(1 << 21);
    build(w);
    const reply = await this.raw(w.finish(type, tag));
    const r = new P9Reader(reply, 0, reply.length);
    const size = r.u32();
    const rtype = r.u8();
    const rtag = r.u16();
    if (size !== reply.length) throw new Error(`reply size field ${size} != ${reply.length}`);
    if (rtag !== tag) throw new Error(`reply tag ${rtag} != ${tag}`);
    if (rtype === P9.Rlerror) {
      const errno = r.u32();
      throw new FsError(errno, `Rlerror ${errno} for type ${type}`);
    }
    if (rtype !== type + 1) throw new Error(`reply type ${rtype} for request ${type}`);
    if (reply.length < HEADER_SIZE) throw new Error("short reply");
    return r;
  }

  async version(msize = 65536, version = "9P2000.L"): Promise<{ msize: number; version: string }> {
    const r = await this.rpc(
      P9.Tversion,
      (w) => {
        w.u32(msize);
        w.str(version);
      },
      0xffff,
    );
    return { msize: r.u32(), version: r.str() };
  }

  async attach(fid: number, aname = ""): Promise<Qid> {
    const r = await this.rpc(P9.Tattach, (w) => {
      w.u32(fid);
      w.u32(NOFID);
      w.str("root");
      w.str(aname);
      w.u32(0);
    });
    return qid(r);
  }

  /** Connect: version + attach of fid 0. */
  async connect(msize = 65536): Promise<Qid> {
    await this.version(msize);
    return this.attach(0);
  }

  async walk(fid: number, newfid: number, names: string[]): Promise<Qid[]> {
    const r = await this.rpc(P9.Twalk, (w) => {
      w.u32(fid);
      w.u32(newfid);
      w.u16(names.length);
      for (const n of names) w.str(n);
    });
    const n = r.u16();
    const out: Qid[] = [];
    for (let i = 0; i < n; i++) out.push(qid(r));
    return out;
  }

  async getattr(fid: number): Promise<Getattr> {
    const r = await this.rpc(P9.Tgetattr, (w) => {
      w.u32(fid);
      w.u64(0x3fffn);
    });
    const valid = r.u64();
    const q = qid(r);
    const mode = r.u32();
    const uid = r.u32();
    const gid = r.u32();
    const nlink = r.u64();
    r.u64(); // rdev
    const size = r.u64();
    r.u64(); // blksize
    r.u64(); // blocks
    const atimeSec = r.u64();
    const atimeNsec = r.u64();
    const mtimeSec = r.u64();
    const mtimeNsec = r.u64();
    return { valid, qid: q, mode, uid, gid, nlink, size, atimeSec, atimeNsec, mtimeSec, mtimeNsec };
  }

  async setattr(
    fid: number,
    a: { valid: number; mode?: number; uid?: number; gid?: number; size?: bigint; atime?: bigint; mtime?: bigint },
  ): Promise<void> {
    await this.rpc(P9.Tsetattr, (w) => {
      w.u32(fid);
      w.u32(a.valid);
      w.u32(a.mode ?? 0);
      w.u32(a.uid ?? 0);
      w.u32(a.gid ?? 0);
      w.u64(a.size ?? 0n);
      w.u64(a.atime ?? 0n);
      w.u64(0n);
      w.u64(a.mtime ?? 0n);
      w.u64(0n);
    });
  }

  async lopen(fid: number, flags: number): Promise<Qid> {
    const r = await this.rpc(P9.Tlopen, (w) => {
      w.u32(fid);
      w.u32(flags);
    });
    return qid(r);
  }

  async lcreate(fid: number, name: string, flags: number, mode: number): Promise<Qid> {
    const r = await this.rpc(P9.Tlcreate, (w) => {
      w.u32(fid);
      w.str(name);
      w.u32(flags);
      w.u32(mode);
      w.u32(0);
    });
    return qid(r);
  }

  async read(fid: number, offset: bigint | number, count: number): Promise<Uint8Array> {
    const r = await this.rpc(P9.Tread, (w) => {
      w.u32(fid);
      w.u64(offset);
      w.u32(count);
    });
    const n = r.u32();
    return r.bytes(n).slice();
  }

  async write(fid: number, offset: bigint | number, data: Uint8Array): Promise<number> {
    const r = await this.rpc(P9.Twrite, (w) => {
      w.u32(fid);
      w.u64(offset);
      w.u32(data.length);
      w.reserve(data.length)!.set(data);
    });
    return r.u32();
  }

  async readdir(fid: number, offset: bigint, count: number): Promise<Dirent[]> {
    const r = await this.rpc(P9.Treaddir, (w) => {
      w.u32(fid);
      w.u64(offset);
      w.u32(count);
    });
    const n = r.u32();
    const end = r.pos + n;
    const out: Dirent[] = [];
    while (r.pos < end) out.push({ qid: qid(r), offset: r.u64(), type: r.u8(), name: r.str() });
    return out;
  }

  /** Every entry name of the directory at `names` (walks a fresh fid, opens, reads all, clunks). */
  async list(names: string[], fid = 900): Promise<string[]> {
    await this.walk(0, fid, names);
    await this.lopen(fid, 0);
    const out: string[] = [];
    let offset = 0n;
    for (;;) {
      const batch = await this.readdir(fid, offset, 4096);
      if (batch.length === 0) break;
      for (const d of batch) out.push(d.name);
      offset = batch[batch.length - 1]!.offset;
    }
    await this.clunk(fid);
    return out;
  }

  async clunk(fid: number): Promise<void> {
    await this.rpc(P9.Tclunk, (w) => w.u32(fid));
  }

  async remove(fid: number): Promise<void> {
    await this.rpc(P9.Tremove, (w) => w.u32(fid));
  }

  async unlinkat(dfid: number, name: string, flags = 0): Promise<void> {
    await this.rpc(P9.Tunlinkat, (w) => {
      w.u32(dfid);
      w.str(name);
      w.u32(flags);
    });
  }

  async mkdir(dfid: number, name: string, mode = 0o755): Promise<Qid> {
    const r = await this.rpc(P9.Tmkdir, (w) => {
      w.u32(dfid);
      w.str(name);
      w.u32(mode);
      w.u32(0);
    });
    return qid(r);
  }

  async symlink(dfid: number, name: string, target: string): Promise<Qid> {
    const r = await this.rpc(P9.Tsymlink, (w) => {
      w.u32(dfid);
      w.str(name);
      w.str(target);
      w.u32(0);
    });
    return qid(r);
  }

  async readlink(fid: number): Promise<string> {
    const r = await this.rpc(P9.Treadlink, (w) => w.u32(fid));
    return r.str();
  }

  async link(dfid: number, fid: number, name: string): Promise<void> {
    await this.rpc(P9.Tlink, (w) => {
      w.u32(dfid);
      w.u32(fid);
      w.str(name);
    });
  }

  async mknod(dfid: number, name: string, mode: number, major = 0, minor = 0): Promise<Qid> {
    const r = await this.rpc(P9.Tmknod, (w) => {
      w.u32(dfid);
      w.str(name);
      w.u32(mode);
      w.u32(major);
      w.u32(minor);
      w.u32(0);
    });
    return qid(r);
  }

  async rename(fid: number, dfid: number, name: string): Promise<void> {
    await this.rpc(P9.Trename, (w) => {
      w.u32(fid);
      w.u32(dfid);
      w.str(name);
    });
  }

  async renameat(odfid: number, oldName: string, ndfid: number, newName: string): Promise<void> {
    await this.rpc(P9.Trenameat, (w) => {
      w.u32(odfid);
      w.str(oldName);
      w.u32(ndfid);
      w.str(newName);
    });
  }

  async statfs(fid: number): Promise<{ type: number; bsize: number; blocks: bigint; namelen: number }> {
    const r = await this.rpc(P9.Tstatfs, (w) => w.u32(fid));
    const type = r.u32();
    const bsize = r.u32();
    const blocks = r.u64();
    for (let i = 0; i < 5; i++) r.u64();
    return { type, bsize, blocks, namelen: r.u32() };
  }

  async fsync(fid: number, datasync = 0): Promise<void> {
    await this.rpc(P9.Tfsync, (w) => {
      w.u32(fid);
      w.u32(datasync);
    });
  }

  async xattrwalk(fid: number, newfid: number, name: string): Promise<bigint> {
    const r = await this.rpc(P9.Txattrwalk, (w) => {
      w.u32(fid);
      w.u32(newfid);
      w.str(name);
    });
    return r.u64();
  }

  async lock(fid: number, type: number): Promise<number> {
    const r = await this.rpc(P9.Tlock, (w) => {
      w.u32(fid);
      w.u8(type);
      w.u32(0);
      w.u64(0n);
      w.u64(0n);
      w.u32(42);
      w.str("guest");
    });
    return r.u8();
  }

  async getlock(fid: number, type: number): Promise<{ type: number; procId: number; clientId: string }> {
    const r = await this.rpc(P9.Tgetlock, (w) => {
      w.u32(fid);
      w.u8(type);
      w.u64(0n);
      w.u64(10n);
      w.u32(42);
      w.str("guest");
    });
    const t = r.u8();
    r.u64();
    r.u64();
    return { type: t, procId: r.u32(), clientId: r.str() };
  }
}

/** The errno of a rejected promise (for assert.rejects matchers). */
export const errno = (n: number) => (e: unknown) => e instanceof FsError && e.errno === n;
/** The errno of a rejected promise is one of `ns`. */
export const errnoIn =
  (...ns: number[]) =>
  (e: unknown) =>
    e instanceof FsError && ns.includes(e.errno);
export { E };
