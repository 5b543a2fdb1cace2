// virtio-9p through the real virtio-mmio transport and the test driver (no guest): the mount tag in the config space,
// requests and replies split across buffers as Linux's zero-copy path splits them, requests served concurrently,
// malformed chains, a reset with requests in flight, and a fuzz run of 100,000 random 9P requests in random buffer
// layouts (POPEK_FUZZ_ITERATIONS to change) with every reply checked against the room the chain gave.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { NodeShare } from "../../../host/node/share.ts";
import { VIRTIO_9P_MOUNT_TAG, Virtio9p } from "./9p.ts";
import { VIRTIO_F_VERSION_1 } from "./mmio.ts";
import type { P9Backend } from "./p9-fs.ts";
import { HEADER_SIZE, NOFID, O, P9, P9Reader, P9Writer } from "./p9-proto.ts";
import { type Buf, type DriverQueue, TestDriver } from "./test-driver.ts";

const base = fs.mkdtempSync(join(tmpdir(), "popek-v9p-"));
const shares: NodeShare[] = [];
after(async () => {
  for (const s of shares) await s.close();
  fs.rmSync(base, { recursive: true, force: true });
});
fs.writeFileSync(join(base, "file"), "0123456789abcdef".repeat(512));
fs.mkdirSync(join(base, "dir"));

async function device(opts: { wrap?: (b: P9Backend) => P9Backend; ram?: number } = {}) {
  const b = await NodeShare.open(base);
  shares.push(b);
  const hostErrors: unknown[] = [];
  const dev = new Virtio9p(opts.wrap ? opts.wrap(b) : b, "host", { onHostError: (e) => hostErrors.push(e) });
  const d = new TestDriver(dev, opts.ram ?? 4 << 20);
  return { dev, d, hostErrors };
}

function msg(type: number, tag: number, build: (w: P9Writer) => void): Uint8Array {
  const w = new P9Writer(1 << 20);
  build(w);
  return w.finish(type, tag).slice();
}

const version = (msize = 8192) =>
  msg(P9.Tversion, 0xffff, (w) => {
    w.u32(msize);
    w.str("9P2000.L");
  });
const attach = (fid: number) =>
  msg(P9.Tattach, 1, (w) => {
    w.u32(fid);
    w.u32(NOFID);
    w.str("root");
    w.str("");
    w.u32(0);
  });
const walk = (fid: number, newfid: number, names: string[]) =>
  msg(P9.Twalk, 2, (w) => {
    w.u32(fid);
    w.u32(newfid);
    w.u16(names.length);
    for (const n of names) w.str(n);
  });
const lopen = (fid: number, flags: number) =>
  msg(P9.Tlopen, 3, (w) => {
    w.u32(fid);
    w.u32(flags);
  });

/** Wait until the device has finished every request in flight (bounded). */
async function settle(dev: Virtio9p): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (dev.inFlight > 0) {
    if (Date.now() > deadline) throw new Error(`${dev.inFlight} requests still in flight`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Submit one request with `room` bytes to write (split as `split` says), wait, return the reply bytes. */
async function rpc(
  d: TestDriver,
  dev: Virtio9p,
  q: DriverQueue,
  req: Uint8Array,
  room: number[] = [8192],
): Promise<Uint8Array> {
  const head = d.submit(q, [{ data: req }, ...room.map((len) => ({ len, write: true }))]);
  await settle(dev);
  const used = d.takeUsed(q);
  assert.equal(used.length, 1);
  assert.equal(used[0]!.id, head);
  const parts: Uint8Array[] = [];
  let left = used[0]!.len;
  for (let k = 0; k < room.length && left > 0; k++) {
    const n = Math.min(room[k]!, left);
    parts.push(d.bytes(d.bufAddr(q, head, k + 1), n));
    left -= n;
  }
  return Buffer.concat(parts);
}

function header(reply: Uint8Array): { size: number; type: number; tag: number; r: P9Reader } {
  const r = new P9Reader(reply, 0, reply.length);
  return { size: r.u32(), type: r.u8(), tag: r.u16(), r };
}

describe("virtio-9p device", () => {
  test("offers VIRTIO_9P_MOUNT_TAG, and the config space holds le16 length + tag", async () => {
    const { d } = await device();
    const f = d.deviceFeatures();
    assert.ok(f & (1n << VIRTIO_9P_MOUNT_TAG));
    assert.ok(f & (1n << VIRTIO_F_VERSION_1));
    assert.equal(d.r32(0x008), 9, "DeviceID 9");
    const cfg = Array.from({ length: 6 }, (_, i) => d.t.read(0x100 + i, 1));
    assert.deepEqual(cfg, [4, 0, 0x68, 0x6f, 0x73, 0x74]);
    assert.throws(() => new Virtio9p(shares[0]!, "has space"), /bad 9p mount tag/);
    assert.throws(() => new Virtio9p(shares[0]!, ""), /bad 9p mount tag/);
  });

  test("requests and replies span buffers (zero-copy layout), interrupts and wake-ups follow", async () => {
    const { dev, d, hostErrors } = await device();
    d.init();
    const q = d.queues[0]!;
    const v = header(await rpc(d, dev, q, version()));
    assert.equal(v.type, P9.Tversion + 1);
    assert.equal(v.r.u32(), 8192);
    assert.equal(header(await rpc(d, dev, q, attach(0))).type, P9.Tattach + 1);
    assert.equal(header(await rpc(d, dev, q, walk(0, 1, ["file"]))).type, P9.Twalk + 1);
    assert.equal(header(await rpc(d, dev, q, lopen(1, O.RDWR))).type, P9.Tlopen + 1);
    // Tread: an 11-byte header buffer, then the data pages (Linux's p9_virtio_zc_request).
    const read = msg(P9.Tread, 9, (w) => {
      w.u32(1);
      w.u64(16n);
      w.u32(5000);
    });
    const reply = await rpc(d, dev, q, read, [11, 4096, 4096]);
    const h = header(reply);
    assert.equal(h.type, P9.Tread + 1);
    assert.equal(h.size, 11 + 5000);
    assert.equal(h.r.u32(), 5000);
    assert.equal(
      Buffer.from(reply.subarray(11)).toString(),
      fs.readFileSync(join(base, "file"), "latin1").slice(16, 5016),
    );
    // Twrite: the header in one buffer, the data in two more.
    const data = Buffer.from("X".repeat(3000) + "Y".repeat(3000));
    const hdr = msg(P9.Twrite, 10, (w) => {
      w.u32(1);
      w.u64(0n);
      w.u32(data.length);
    });
    new DataView(hdr.buffer).setUint32(0, hdr.length + data.length, true);
    const head = d.submit(q, [
      { data: hdr },
      { data: data.subarray(0, 100) },
      { data: data.subarray(100) },
      { len: 64, write: true },
    ]);
    await settle(dev);
    const used = d.takeUsed(q);
    assert.deepEqual(used, [{ id: head, len: 11 }]);
    assert.equal(new DataView(d.bytes(d.bufAddr(q, head, 3), 11).buffer).getUint32(7, true), data.length);
    assert.equal(fs.readFileSync(join(base, "file"), "latin1").slice(0, 6000), data.toString());
    fs.writeFileSync(join(base, "file"), "0123456789abcdef".repeat(512));
    assert.ok(d.irqRises > 0 && d.wakes > 0);
    // Several requests at once complete (in any order).
    const heads = [0, 1, 2, 3, 4, 5].map((i) =>
      d.submit(q, [{ data: walk(0, 20 + i, ["dir"]) }, { len: 100, write: true }], { kick: false }),
    );
    d.kick(q);
    await settle(dev);
    assert.deepEqual(
      d
        .takeUsed(q)
        .map((u) => u.id)
        .sort(),
      heads.sort(),
    );
    assert.equal(dev.server.fidCount, 2 + 6);
    assert.deepEqual(hostErrors, []);
  });

  test("a chain without a message header or without room for a reply marks the device DEVICE_NEEDS_RESET", async () => {
    for (const bufs of [
      [{ data: new Uint8Array(5) }, { len: 100, write: true }],
      [{ data: version() }],
      [{ data: version() }, { len: 10, write: true }],
    ] as Buf[][]) {
      const { d } = await device();
      d.init();
      d.submit(d.queues[0]!, bufs);
      assert.ok(d.needsReset);
      assert.match(d.errors.join(), /9P request without/);
    }
  });

  test("a reset with a request in flight: its late reply is neither written nor used", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { dev, d } = await device({
      wrap: (b) =>
        new Proxy(b, {
          get(t, p, r) {
            if (p !== "lstat") return Reflect.get(t, p, r);
            return async (path: string[]) => {
              await gate;
              return t.lstat(path);
            };
          },
        }),
    });
    d.init();
    let q = d.queues[0]!;
    await rpc(d, dev, q, version());
    const head = d.submit(q, [{ data: attach(0) }, { len: 64, write: true }]);
    const replyAt = d.bufAddr(q, head, 1);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(dev.inFlight, 1);
    d.init(); // reset + re-initialise: the old chain is stale
    q = d.queues[0]!;
    release();
    await settle(dev);
    assert.deepEqual(d.takeUsed(q), []);
    // The rings were re-allocated at the same place; the stale reply must not have been written anywhere.
    assert.deepEqual([...d.bytes(replyAt, 11)], Array(11).fill(0));
    assert.ok(!d.needsReset);
    assert.equal(dev.server.fidCount, 0);
  });

  test("fuzz: random 9P requests in random buffer layouts; replies fit their rooms and are well formed", async (t) => {
    const iterations = Number(process.env.POPEK_FUZZ_ITERATIONS ?? 100_000);
    const { dev, d, hostErrors } = await device({ ram: 16 << 20 });
    let seed = 0x9e37_79b9;
    const rnd = (n: number) => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return seed % n;
    };
    const types = Object.values(P9);
    const names = ["file", "dir", "..", ".", "nope", "a/b", ""];
    /** A random request: well-formed fields of a random type with small fids, often cut short or with junk added. */
    const request = (): Uint8Array => {
      const type = rnd(10) === 0 ? rnd(256) : types[rnd(types.length)]!;
      const w = new P9Writer(4096);
      const fields = rnd(12);
      for (let k = 0; k < fields; k++) {
        const f = rnd(6);
        if (f === 0) w.u32(rnd(4));
        else if (f === 1) w.u32(rnd(2) ? rnd(0x10000) : 0xffff_ffff);
        else if (f === 2) w.u64(BigInt(rnd(2) ? rnd(64) : rnd(0x1_0000_0000)) << BigInt(rnd(40)));
        else if (f === 3) w.str(names[rnd(names.length)]!);
        else if (f === 4) w.u16(rnd(20));
        else w.u8(rnd(256));
      }
      const m = w.finish(type, rnd(0x10000)).slice();
      if (rnd(20) === 0) new DataView(m.buffer).setUint32(0, rnd(2) ? rnd(64) : rnd(0x1_0000_0000), true);
      return m;
    };
    let q = d.queues[0];
    let served = 0;
    let resets = 0;
    let errnos = 0;
    let batches = 0;
    const restart = async () => {
      d.init();
      q = d.queues[0]!;
      const r = await rpc(d, dev, q, version(rnd(2) ? 8192 : 65536));
      assert.equal(header(r).type, P9.Tversion + 1);
      await rpc(d, dev, q, attach(0));
      await rpc(d, dev, q, walk(0, 1, ["file"]));
      await rpc(d, dev, q, lopen(1, O.RDONLY));
      await rpc(d, dev, q, walk(0, 2, ["dir"]));
      await rpc(d, dev, q, lopen(2, O.RDONLY));
    };
    await restart();
    let done = 0;
    while (done < iterations) {
      if (d.needsReset || ++batches % 40 === 0) {
        if (d.needsReset) resets++;
        await restart();
      }
      const batch: { head: number; nread: number; rooms: number[] }[] = [];
      // The driver hands out descriptors round-robin: a batch must not use more than the table holds.
      let descs = 0;
      let n = 0;
      while (n < Math.min(1 + rnd(32), iterations - done) && descs + 6 <= q!.num) {
        n++;
        const m = request();
        const cuts = rnd(3);
        const bufs: Buf[] = [];
        let at = 0;
        for (let k = 0; k < cuts && at < m.length; k++) {
          const len = 1 + rnd(m.length - at);
          bufs.push({ data: m.subarray(at, at + len) });
          at += len;
        }
        if (at < m.length) bufs.push({ data: m.subarray(at) });
        const nread = bufs.length;
        const rooms = Array.from({ length: 1 + rnd(3) }, () => (rnd(4) === 0 ? 1 + rnd(40) : 1 + rnd(9000)));
        for (const len of rooms) bufs.push({ len, write: true });
        descs += bufs.length;
        batch.push({ head: d.submit(q!, bufs, { kick: false }), nread, rooms });
      }
      d.kick(q!);
      await settle(dev);
      const used = new Map(d.takeUsed(q!).map((u) => [u.id, u.len]));
      for (const { head, nread, rooms } of batch) {
        const len = used.get(head);
        if (len === undefined) continue; // the device was marked broken (a chain with too little room)
        served++;
        const room = rooms.reduce((a, b) => a + b, 0);
        assert.ok(len <= room, `reply of ${len} bytes in ${room}`);
        // Reassemble the reply from the writable buffers and check its framing.
        const parts: Uint8Array[] = [];
        let left = len;
        for (let k = 0; k < rooms.length && left > 0; k++) {
          const take = Math.min(rooms[k]!, left);
          parts.push(d.bytes(d.bufAddr(q!, head, nread + k), take));
          left -= take;
        }
        const h = header(Buffer.concat(parts));
        assert.ok(len >= HEADER_SIZE, `reply of ${len} bytes`);
        assert.equal(h.size, len);
        assert.equal(h.type % 2, 1, `reply type ${h.type}`);
        if (h.type === P9.Rlerror) errnos++;
      }
      done += n;
      d.ack();
    }
    t.diagnostic(
      `${iterations} requests: ${served} served (${served - errnos} succeeded, ${errnos} Rlerror), ` +
        `${resets} device resets after DEVICE_NEEDS_RESET`,
    );
    assert.deepEqual(hostErrors, []);
    assert.ok(served > iterations / 2 && resets > 0, `served ${served}, resets ${resets}`);
  });
});
