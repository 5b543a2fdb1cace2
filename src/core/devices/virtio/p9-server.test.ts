// The 9P server's protocol handling: version negotiation, malformed and truncated messages, random messages (no
// exception, every reply well formed and within the room given), walk rules, reply size limits, Tflush ordering,
// open-file limits and fids clunked while their open is in flight. Backed by a real temporary folder (NodeShare);
// the escape tests are in src/host/node/share.test.ts.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { bytes, E, errno, P9TestClient, text } from "../../../../tests/devices/p9-client.ts";
import { NodeShare } from "../../../host/node/share.ts";
import type { FsFile, P9Backend } from "./p9-fs.ts";
import { HEADER_SIZE, NOTAG, O, P9, P9Reader, P9Writer } from "./p9-proto.ts";
import { MAX_MSIZE, MAX_OPEN, P9Server } from "./p9-server.ts";

const base = fs.mkdtempSync(join(tmpdir(), "popek-9p-"));
after(() => fs.rmSync(base, { recursive: true, force: true }));
fs.mkdirSync(join(base, "dir"));
fs.writeFileSync(join(base, "file"), "0123456789".repeat(1000));
fs.symlinkSync("x".repeat(4000), join(base, "longlink"));

/** A gate that holds backend calls until opened. */
class Gate {
  open!: () => void;
  readonly wait = new Promise<void>((r) => {
    this.open = r;
  });
  /** Opens that have reached the gate (so the server has the request in flight). */
  arrived = 0;

  /** Resolves once `n` opens wait at the gate (a fixed sleep is not enough on a loaded machine); 10 s at most. */
  async until(n: number): Promise<void> {
    const end = Date.now() + 10_000;
    while (this.arrived < n) {
      if (Date.now() > end) throw new Error(`only ${this.arrived} of ${n} opens reached the backend`);
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}

/** `b` with file reads (and, if asked, opens) held until the gate opens. */
function gated(b: P9Backend, gate: Gate, what: { open?: boolean; read?: boolean }): P9Backend {
  return new Proxy(b, {
    get(target, prop, receiver) {
      if (prop !== "open") return Reflect.get(target, prop, receiver);
      return async (path: string[], flags: number): Promise<FsFile> => {
        if (what.open) {
          gate.arrived++;
          await gate.wait;
        }
        const file = await target.open(path, flags);
        if (!what.read) return file;
        return new Proxy(file, {
          get(f, p, r) {
            if (p !== "read") {
              const v = Reflect.get(f, p, r);
              return typeof v === "function" ? v.bind(f) : v;
            }
            return async (dst: Uint8Array, pos: number) => {
              await gate.wait;
              return f.read(dst, pos);
            };
          },
        });
      };
    },
  });
}

const backends: NodeShare[] = [];
after(async () => {
  for (const b of backends) await b.close();
});

async function server(wrap?: (b: P9Backend) => P9Backend): Promise<{ s: P9Server; c: P9TestClient }> {
  const b = await NodeShare.open(base);
  backends.push(b);
  const s = new P9Server(wrap ? wrap(b) : b, {
    onHostError: (e) => assert.fail(`host error: ${e}`),
  });
  return { s, c: new P9TestClient(s) };
}

/** Check a reply's framing: size field = length, at most `room`, an R type, the tag echoed (or NOTAG). */
function checkReply(reply: Uint8Array, room: number, tag: number): number {
  assert.ok(reply.length >= HEADER_SIZE && reply.length <= Math.max(room, 11), `reply length ${reply.length}`);
  const r = new P9Reader(reply, 0, reply.length);
  assert.equal(r.u32(), reply.length);
  const type = r.u8();
  assert.equal(type % 2, 1, `R type ${type}`);
  const rtag = r.u16();
  assert.ok(rtag === tag || rtag === NOTAG);
  return type;
}

describe("9P server: session", () => {
  test("Tversion negotiates msize and version; nothing works before it; it forgets fids", async () => {
    const { s, c } = await server();
    await assert.rejects(c.attach(0), errno(E.EPROTO));
    assert.deepEqual(await c.version(1 << 30), { msize: MAX_MSIZE, version: "9P2000.L" });
    assert.deepEqual(await c.version(8192), { msize: 8192, version: "9P2000.L" });
    await assert.rejects(c.version(1000), errno(E.EINVAL));
    assert.deepEqual(await c.version(8192, "9P2000.u"), { msize: 8192, version: "unknown" });
    await assert.rejects(c.attach(0), errno(E.EPROTO), "no session after an unknown version");
    await c.connect();
    await c.walk(0, 1, ["file"]);
    await c.lopen(1, O.RDONLY);
    assert.equal(s.openFiles, 1);
    await c.version();
    assert.equal(s.fidCount, 0);
    assert.equal(s.openFiles, 0);
    await assert.rejects(c.getattr(1), errno(E.EBADF));
  });

  test("messages of other protocol versions and Tauth/Txattrcreate get EOPNOTSUPP", async () => {
    const { c } = await server();
    await c.connect();
    for (const type of [P9.Tauth, 112 /* Topen */, 114 /* Tcreate */, 124 /* Tstat */, 126 /* Twstat */]) {
      await assert.rejects(
        c.rpc(type, (w) => w.u32(0)),
        errno(E.EOPNOTSUPP),
      );
    }
    await assert.rejects(
      c.rpc(P9.Txattrcreate, (w) => {
        w.u32(0);
        w.str("user.a");
        w.u64(1n);
        w.u32(0);
      }),
      errno(E.EOPNOTSUPP),
    );
  });
});

describe("9P server: malformed input", () => {
  test("short, oversized and truncated messages get EPROTO (never an exception)", async () => {
    const { s, c } = await server();
    await c.connect();
    for (let len = 0; len < HEADER_SIZE; len++) {
      const reply = await s.handle(new Uint8Array(len), 4096);
      checkReply(reply, 4096, NOTAG);
      assert.equal(new DataView(reply.buffer, reply.byteOffset).getUint32(7, true), E.EPROTO);
    }
    // size field larger than the buffer, and smaller than a header
    for (const size of [100, 3]) {
      const m = new Uint8Array(20);
      new DataView(m.buffer).setUint32(0, size, true);
      m[4] = P9.Tclunk;
      const reply = await s.handle(m, 4096);
      assert.equal(checkReply(reply, 4096, 0), P9.Rlerror);
    }
    // Every request type, cut short at every length.
    const full: Uint8Array[] = [];
    const w = (type: number, f: (w: P9Writer) => void) => {
      const x = new P9Writer(1 << 16);
      f(x);
      full.push(x.finish(type, 7).slice());
    };
    w(P9.Twalk, (x) => {
      x.u32(0);
      x.u32(5);
      x.u16(2);
      x.str("dir");
      x.str("..");
    });
    w(P9.Tlcreate, (x) => {
      x.u32(0);
      x.str("new");
      x.u32(O.RDWR);
      x.u32(0o644);
      x.u32(0);
    });
    w(P9.Twrite, (x) => {
      x.u32(0);
      x.u64(0n);
      x.u32(10);
      x.reserve(10);
    });
    w(P9.Tsetattr, (x) => {
      x.u32(0);
      x.u32(0);
      for (let i = 0; i < 3; i++) x.u32(0);
      for (let i = 0; i < 5; i++) x.u64(0n);
    });
    w(P9.Trenameat, (x) => {
      x.u32(0);
      x.str("a");
      x.u32(0);
      x.str("b");
    });
    w(P9.Tlock, (x) => {
      x.u32(0);
      x.u8(0);
      x.u32(0);
      x.u64(0n);
      x.u64(0n);
      x.u32(0);
      x.str("id");
    });
    for (const m of full) {
      for (let cut = HEADER_SIZE; cut < m.length; cut++) {
        const t = m.slice(0, cut);
        new DataView(t.buffer).setUint32(0, cut, true);
        const reply = await s.handle(t, 4096);
        assert.equal(checkReply(reply, 4096, 7), P9.Rlerror);
        assert.equal(
          new DataView(reply.buffer, reply.byteOffset).getUint32(7, true),
          E.EPROTO,
          `type ${m[4]} cut ${cut}`,
        );
      }
    }
    assert.ok(!fs.existsSync(join(base, "new")));
  });

  test("20,000 random and mutated messages: every reply well formed, within the room, no host error", async () => {
    const dir = fs.mkdtempSync(join(base, "fuzz-"));
    fs.writeFileSync(join(dir, "f"), "fuzz");
    const b = await NodeShare.open(dir, { readOnly: true });
    backends.push(b);
    const s = new P9Server(b, { onHostError: (e) => assert.fail(`host error: ${e}`) });
    const c = new P9TestClient(s);
    await c.connect(8192);
    await c.walk(0, 1, ["f"]);
    await c.lopen(1, O.RDONLY);
    let seed = 12345;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    const types = Object.values(P9).filter((t) => t !== P9.Tversion && t !== P9.Tflush);
    for (let i = 0; i < 20_000; i++) {
      const len = HEADER_SIZE + (rand() % 64);
      const m = new Uint8Array(len);
      for (let j = 0; j < len; j++) m[j] = rand() & 0xff;
      // Small fid numbers and names so that some requests reach the backend.
      if (rand() % 2) for (let j = HEADER_SIZE; j + 4 <= len; j += 4) m[j] = rand() % 3;
      new DataView(m.buffer).setUint32(0, rand() % 8 ? len : rand(), true);
      m[4] = rand() % 4 ? types[rand() % types.length]! : rand() & 0xff;
      const room = rand() % 4 ? 8192 : 11 + (rand() % 64);
      checkReply(await s.handle(m, room), room, m[5]! | (m[6]! << 8));
    }
    // The session still works.
    assert.equal(text(await c.read(1, 0, 100)), "fuzz");
    assert.deepEqual(fs.readdirSync(dir), ["f"]);
  });
});

describe("9P server: rules", () => {
  test("walk: at most 16 names, clone, fid reuse, walking from a file, walking an open fid in place", async () => {
    const { c } = await server();
    await c.connect();
    await assert.rejects(c.walk(0, 1, Array(17).fill("dir")), errno(E.EINVAL));
    assert.equal((await c.walk(0, 1, Array(16).fill(".."))).length, 16);
    assert.deepEqual(await c.walk(0, 2, []), []);
    await assert.rejects(c.walk(0, 1, []), errno(E.EBADF), "newfid in use");
    await c.walk(0, 3, ["file"]);
    await assert.rejects(c.walk(3, 4, ["x"]), errno(E.ENOTDIR));
    await assert.rejects(c.walk(99, 4, []), errno(E.EBADF));
    await c.lopen(3, O.RDONLY);
    await assert.rejects(c.walk(3, 3, []), errno(E.EBADF));
    await c.walk(2, 2, ["dir"]);
    assert.equal((await c.getattr(2)).qid.type, 0x80);
  });

  test("replies never exceed the room or msize: reads and readdir shrink, long replies fail with EMSGSIZE", async () => {
    const { s, c } = await server();
    await c.connect(4096);
    await c.walk(0, 1, ["file"]);
    await c.lopen(1, O.RDONLY);
    assert.equal((await c.read(1, 0, 1 << 20)).length, 4096 - 11, "msize bounds a read");
    c.room = 100;
    assert.equal((await c.read(1, 0, 1 << 20)).length, 100 - 11, "the room bounds a read");
    assert.equal(text(await c.read(1, 10, 5)), "01234");
    await c.walk(0, 2, []);
    await c.lopen(2, O.RDONLY);
    const some = await c.readdir(2, 0n, 1 << 20);
    assert.ok(some.length >= 1 && some.length < 4);
    c.room = 4096;
    await c.walk(0, 3, ["longlink"]);
    assert.equal((await c.readlink(3)).length, 4000);
    c.room = 1000;
    await assert.rejects(c.readlink(3), errno(E.EMSGSIZE));
    const reply = await s.handle(new Uint8Array([11, 0, 0, 0, P9.Tclunk, 1, 0, 3, 0, 0, 0]), 11);
    assert.equal(checkReply(reply, 11, 1), P9.Tclunk + 1);
  });

  test("open rules: access mode 3, a second Tlopen, I/O on the wrong kind of fid", async () => {
    const { s, c } = await server();
    await c.connect();
    await c.walk(0, 1, ["file"]);
    await assert.rejects(c.lopen(1, 3), errno(E.EINVAL));
    await assert.rejects(c.read(1, 0, 10), errno(E.EBADF), "not open");
    await c.lopen(1, O.RDONLY);
    await assert.rejects(c.lopen(1, O.RDONLY), errno(E.EINVAL));
    await assert.rejects(c.write(1, 0, bytes("x")), errno(E.EBADF), "read-only open");
    await assert.rejects(c.readdir(1, 0n, 100), errno(E.ENOTDIR));
    await c.walk(0, 2, ["dir"]);
    await assert.rejects(c.lopen(2, O.WRONLY), errno(E.EISDIR));
    await c.lopen(2, O.RDONLY);
    await assert.rejects(c.read(2, 0, 10), errno(E.EISDIR));
    await assert.rejects(c.lock(0, 0), errno(E.EBADF), "locks need an open file");
    assert.equal(s.openFiles, 2);
  });

  test(`at most ${MAX_OPEN} open files; clunking one frees a slot`, async () => {
    const { s, c } = await server();
    await c.connect();
    for (let i = 0; i < MAX_OPEN; i++) {
      await c.walk(0, 10 + i, ["file"]);
      await c.lopen(10 + i, O.RDONLY);
    }
    await c.walk(0, 5, ["file"]);
    await assert.rejects(c.lopen(5, O.RDONLY), errno(E.ENFILE));
    await c.clunk(10);
    await c.lopen(5, O.RDONLY);
    assert.equal(s.openFiles, MAX_OPEN);
    await s.reset();
    assert.equal(s.openFiles, 0);
  });

  test("Tflush answers only after the flushed request's reply", async () => {
    const gate = new Gate();
    const { c } = await server((b) => gated(b, gate, { read: true }));
    await c.connect();
    await c.walk(0, 1, ["file"]);
    await c.lopen(1, O.RDONLY);
    const order: string[] = [];
    const read = c.read(1, 0, 4).then((b) => order.push(`read ${text(b)}`));
    const readTag = c.lastTag;
    const flush = c.rpc(P9.Tflush, (w) => w.u16(readTag)).then(() => order.push("flush"));
    const other = c.rpc(P9.Tflush, (w) => w.u16(0x7777)).then(() => order.push("flush of nothing"));
    await other;
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(order, ["flush of nothing"]);
    gate.open();
    await Promise.all([read, flush]);
    assert.deepEqual(order, ["flush of nothing", "read 0123", "flush"]);
  });

  test("a fid clunked while its open is in flight: the late file is closed, not leaked", async () => {
    const gate = new Gate();
    const { s, c } = await server((b) => gated(b, gate, { open: true }));
    await c.connect();
    await c.walk(0, 1, ["file"]);
    const open = c.lopen(1, O.RDONLY);
    await gate.until(1);
    await assert.rejects(c.lopen(1, O.RDONLY), errno(E.EINVAL), "a second open while one is in flight");
    await c.clunk(1);
    gate.open();
    await assert.rejects(open, errno(E.EBADF));
    assert.equal(s.openFiles, 0);
  });

  test("a reset with opens in flight: late completions touch neither the new session's fids nor its counts", async () => {
    const gate = new Gate();
    const { s, c } = await server((b) => gated(b, gate, { open: true }));
    await c.connect();
    await c.walk(0, 1, ["file"]);
    await c.walk(0, 2, ["file"]);
    const opens = [c.lopen(1, O.RDONLY), c.lopen(2, O.RDONLY)];
    await gate.until(2);
    await s.reset();
    await c.connect();
    await c.walk(0, 1, ["dir"]);
    // Handlers on both before either settles: the second rejection can arrive in a later task than the first, and
    // a rejection with no handler by then fails the test as unhandled.
    const rejected = opens.map((o) => assert.rejects(o, errno(E.EBADF)));
    gate.open();
    await Promise.all(rejected);
    assert.equal(s.openFiles, 0);
    assert.equal(s.fidCount, 2);
    assert.equal((await c.getattr(1)).qid.type, 0x80, "fid 1 of the new session is untouched");
    await c.lopen(1, O.RDONLY);
    await c.clunk(1);
    assert.equal(s.openFiles, 0);
  });
});
