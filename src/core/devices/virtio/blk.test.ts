// virtio-blk over MemoryDisk and CowOverlay, driven by the test driver: config space and features, reads and writes
// (split, indirect, large), read-only drives (IOERR, nothing written), range and size errors, FLUSH, GET_ID,
// DISCARD/WRITE_ZEROES, malformed requests (DEVICE_NEEDS_RESET), asynchronous completion and reset with requests in
// flight, the snapshot overlay, and a fuzz run of random requests.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  VIRTIO_BLK_F_DISCARD,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_DISCARD,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_BLK_T_WRITE_ZEROES,
  VirtioBlk,
} from "./blk.ts";
import { type BlockBackend, CowOverlay, MemoryDisk } from "./blk-backend.ts";
import { MMIO } from "./mmio.ts";
import { VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from "./queue.ts";
import { type Buf, type DriverQueue, TestDriver } from "./test-driver.ts";

const MiB = 1 << 20;

function header(type: number, sector: number | bigint): Uint8Array {
  const h = new Uint8Array(16);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, type, true);
  dv.setBigUint64(8, BigInt(sector), true);
  return h;
}

function segment(sector: number, num: number, flags = 0): Uint8Array {
  const s = new Uint8Array(16);
  const dv = new DataView(s.buffer);
  dv.setBigUint64(0, BigInt(sector), true);
  dv.setUint32(8, num, true);
  dv.setUint32(12, flags, true);
  return s;
}

function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

function setup(backend: BlockBackend = new MemoryDisk(pattern(MiB, 1)), serial?: string) {
  const blk = new VirtioBlk(backend, { serial });
  const d = new TestDriver(blk, 8 * MiB);
  d.init();
  return { blk, d, q: d.queues[0]! };
}

/** Submit a request, wait for the device, return its status byte and used length. */
async function request(
  d: TestDriver,
  blk: VirtioBlk,
  q: DriverQueue,
  bufs: Buf[],
  opts: { indirect?: boolean } = {},
): Promise<{ status: number; len: number; head: number; statusAddr: number }> {
  const head = d.submit(q, [...bufs, { len: 1, write: true }], opts);
  await blk.drain();
  const used = d.takeUsed(q);
  assert.equal(used.length, 1, "one used element");
  assert.equal(used[0]!.id, head);
  const statusAddr = opts.indirect ? -1 : d.bufAddr(q, head, bufs.length);
  // The status byte is the last byte the request wrote: find it through the descriptor (direct) or the table.
  const status = statusAddr >= 0 ? d.bytes(statusAddr, 1)[0]! : lastIndirectByte(d, q, head, bufs.length);
  return { status, len: used[0]!.len, head, statusAddr };
}

function lastIndirectByte(d: TestDriver, q: DriverQueue, head: number, k: number): number {
  const table = Number(d.dv.getBigUint64(d.off(q.desc) + 16 * head, true));
  return d.bytes(Number(d.dv.getBigUint64(d.off(table) + 16 * k, true)), 1)[0]!;
}

describe("virtio-blk", () => {
  test("config space: capacity, seg_max, blk_size, discard/write-zeroes limits; features", () => {
    const { d } = setup(new MemoryDisk(new Uint8Array(MiB + 100)));
    assert.equal(d.r32(MMIO.DeviceID), 2);
    const cfg = (off: number) => d.t.read(MMIO.Config + off, 4);
    assert.equal(cfg(0) + cfg(4) * 2 ** 32, 2048, "capacity rounds down to whole sectors");
    assert.equal(cfg(12), 254);
    assert.equal(cfg(20), 512);
    assert.equal(cfg(36), 0x3fffff);
    assert.equal(cfg(40), 1);
    assert.equal(cfg(48), 0x3fffff);
    assert.equal(d.t.read(MMIO.Config + 56, 1), 0, "write_zeroes_may_unmap");
    const f = d.deviceFeatures();
    assert.ok(f & (1n << VIRTIO_BLK_F_FLUSH) && f & (1n << VIRTIO_BLK_F_DISCARD));
    assert.equal(f & (1n << VIRTIO_BLK_F_RO), 0n);
    const ro = setup(new MemoryDisk(new Uint8Array(4096), true));
    assert.ok(ro.d.deviceFeatures() & (1n << VIRTIO_BLK_F_RO));
  });

  test("reads: sectors land in split and indirect buffers; used length counts data and status", async () => {
    const disk = new MemoryDisk(pattern(MiB, 3));
    const { blk, d, q } = setup(disk);
    const r = await request(d, blk, q, [
      { data: header(VIRTIO_BLK_T_IN, 5) },
      { len: 100, write: true },
      { len: 924, write: true },
    ]);
    assert.equal(r.status, VIRTIO_BLK_S_OK);
    assert.equal(r.len, 1025);
    const got = new Uint8Array(1024);
    got.set(d.bytes(d.bufAddr(q, r.head, 1), 100), 0);
    got.set(d.bytes(d.bufAddr(q, r.head, 2), 924), 100);
    assert.deepEqual(got, disk.bytes.subarray(5 * 512, 7 * 512));
    const ri = await request(d, blk, q, [{ data: header(VIRTIO_BLK_T_IN, 0) }, { len: 512, write: true }], {
      indirect: true,
    });
    assert.equal(ri.status, VIRTIO_BLK_S_OK);
    assert.ok(d.wakes > 0, "an asynchronous completion wakes the machine");
    assert.ok(d.irqLevel);
  });

  test("writes reach the disk; a 3 MiB request goes through in bounded pieces", async () => {
    const disk = new MemoryDisk(new Uint8Array(4 * MiB));
    const { blk, d, q } = setup(disk);
    const data = pattern(3 * MiB, 9);
    const w = await request(d, blk, q, [{ data: header(VIRTIO_BLK_T_OUT, 8) }, { data }]);
    assert.equal(w.status, VIRTIO_BLK_S_OK);
    assert.equal(w.len, 1);
    assert.deepEqual(disk.bytes.subarray(4096, 4096 + 3 * MiB), data);
    const r = await request(d, blk, q, [{ data: header(VIRTIO_BLK_T_IN, 8) }, { len: 3 * MiB, write: true }]);
    assert.equal(r.status, VIRTIO_BLK_S_OK);
    assert.deepEqual(d.bytes(d.bufAddr(q, r.head, 1), 3 * MiB), data);
  });

  test("a read-only drive fails writes, discards and write-zeroes with IOERR and changes nothing", async () => {
    const disk = new MemoryDisk(pattern(MiB, 4), true);
    const before = disk.bytes.slice();
    const { blk, d, q } = setup(disk);
    const w = await request(d, blk, q, [{ data: header(VIRTIO_BLK_T_OUT, 0) }, { data: new Uint8Array(512) }]);
    assert.equal(w.status, VIRTIO_BLK_S_IOERR);
    for (const t of [VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES]) {
      const r = await request(d, blk, q, [{ data: header(t, 0) }, { data: segment(0, 8) }]);
      assert.equal(r.status, VIRTIO_BLK_S_IOERR);
    }
    assert.deepEqual(disk.bytes, before);
    const r = await request(d, blk, q, [{ data: header(VIRTIO_BLK_T_IN, 0) }, { len: 512, write: true }]);
    assert.equal(r.status, VIRTIO_BLK_S_OK);
    const f = await request(d, blk, q, [{ data: header(VIRTIO_BLK_T_FLUSH, 0) }]);
    assert.equal(f.status, VIRTIO_BLK_S_OK);
  });

  test("out of range, partial sectors and sector numbers past 2^53 fail with IOERR", async () => {
    const { blk, d, q } = setup();
    const cases: Buf[][] = [
      [{ data: header(VIRTIO_BLK_T_IN, 2047) }, { len: 1024, write: true }],
      [{ data: header(VIRTIO_BLK_T_IN, 2048) }, { len: 512, write: true }],
      [{ data: header(VIRTIO_BLK_T_IN, 0) }, { len: 100, write: true }],
      [{ data: header(VIRTIO_BLK_T_OUT, 0) }, { data: new Uint8Array(513) }],
      [{ data: header(VIRTIO_BLK_T_IN, 0xffff_ffff_ffff_ffffn) }, { len: 512, write: true }],
      [{ data: header(VIRTIO_BLK_T_OUT, 1n << 60n) }, { data: new Uint8Array(512) }],
      [{ data: header(VIRTIO_BLK_T_WRITE_ZEROES, 0) }, { data: segment(2040, 9) }],
    ];
    for (const bufs of cases) assert.equal((await request(d, blk, q, bufs)).status, VIRTIO_BLK_S_IOERR);
    assert.equal(blk.stats.ioErrors, cases.length);
    assert.ok(!d.needsReset);
  });

  test("FLUSH reaches the backend; GET_ID returns the serial, NUL-padded, cut to the buffer", async () => {
    const disk = new MemoryDisk(new Uint8Array(MiB));
    const { blk, d, q } = setup(disk, "popek-disk-0");
    assert.equal((await request(d, blk, q, [{ data: header(VIRTIO_BLK_T_FLUSH, 0) }])).status, VIRTIO_BLK_S_OK);
    assert.equal(disk.flushes, 1);
    const id = await request(d, blk, q, [{ data: header(VIRTIO_BLK_T_GET_ID, 0) }, { len: 20, write: true }]);
    assert.equal(id.status, VIRTIO_BLK_S_OK);
    assert.equal(id.len, 21);
    const text = new TextDecoder().decode(d.bytes(d.bufAddr(q, id.head, 1), 20));
    assert.equal(text, "popek-disk-0\0\0\0\0\0\0\0\0");
    const short = await request(d, blk, q, [{ data: header(VIRTIO_BLK_T_GET_ID, 0) }, { len: 5, write: true }]);
    assert.equal(new TextDecoder().decode(d.bytes(d.bufAddr(q, short.head, 1), 5)), "popek");
    assert.throws(() => new VirtioBlk(disk, { serial: "x".repeat(21) }), RangeError);
  });

  test("WRITE_ZEROES zeroes; DISCARD succeeds; reserved flags and unmap on discard are UNSUPP; unknown types too", async () => {
    const disk = new MemoryDisk(pattern(MiB, 5));
    const { blk, d, q } = setup(disk);
    const wz = await request(d, blk, q, [{ data: header(VIRTIO_BLK_T_WRITE_ZEROES, 0) }, { data: segment(3, 2, 1) }]);
    assert.equal(wz.status, VIRTIO_BLK_S_OK);
    assert.deepEqual(disk.bytes.subarray(1536, 2560), new Uint8Array(1024));
    assert.notEqual(disk.bytes[1535], 0);
    const dc = await request(d, blk, q, [{ data: header(VIRTIO_BLK_T_DISCARD, 0) }, { data: segment(8, 8) }]);
    assert.equal(dc.status, VIRTIO_BLK_S_OK);
    const unsupported: Buf[][] = [
      [{ data: header(VIRTIO_BLK_T_DISCARD, 0) }, { data: segment(8, 8, 1) }],
      [{ data: header(VIRTIO_BLK_T_WRITE_ZEROES, 0) }, { data: segment(8, 8, 2) }],
      [{ data: header(VIRTIO_BLK_T_DISCARD, 0) }, { data: new Uint8Array(32) }],
      [{ data: header(99, 0) }, { len: 512, write: true }],
      [{ data: header(0x8000_0000, 0) }],
    ];
    for (const bufs of unsupported) assert.equal((await request(d, blk, q, bufs)).status, VIRTIO_BLK_S_UNSUPP);
  });

  test("a request without a header, or whose status buffer is read-only, puts the device in DEVICE_NEEDS_RESET", () => {
    for (const bufs of [
      [{ data: new Uint8Array(8) }, { len: 1, write: true }],
      // A read whose data and status buffers are device-readable: nothing writable for the status.
      [{ data: header(VIRTIO_BLK_T_IN, 0) }, { data: new Uint8Array(512) }, { data: new Uint8Array(1) }],
    ] as Buf[][]) {
      const { d, q } = setup();
      d.submit(q, bufs);
      assert.ok(d.needsReset);
      assert.match(d.t.lastError!, /without its 16-byte header or status byte/);
      assert.deepEqual(d.takeUsed(q), []);
    }
  });

  test("a read whose data buffer is read-only never writes it: the status lands in the only writable byte", async () => {
    const { blk, d, q } = setup();
    // header, a device-readable 512-byte "data" buffer (wrong), status: the device sees a zero-length read.
    const head = d.take(q);
    const mid = d.take(q);
    const st = d.take(q);
    const h = d.alloc(16);
    d.ram.set(header(VIRTIO_BLK_T_IN, 0), d.off(h));
    const data = d.alloc(512);
    const s = d.alloc(1);
    d.desc(q.desc, head, h, 16, VIRTQ_DESC_F_NEXT, mid);
    d.desc(q.desc, mid, data, 512, VIRTQ_DESC_F_NEXT, st);
    d.desc(q.desc, st, s, 1, VIRTQ_DESC_F_WRITE);
    d.publish(q, head);
    d.kick(q);
    await blk.drain();
    assert.deepEqual(d.takeUsed(q), [{ id: head, len: 1 }]);
    assert.deepEqual(d.bytes(data, 512), new Uint8Array(512), "the read-only buffer is untouched");
    assert.equal(d.bytes(s, 1)[0], VIRTIO_BLK_S_OK);
  });

  test("completions are asynchronous; a reset with requests in flight drops their results", async () => {
    const gate: (() => void)[] = [];
    const disk = new MemoryDisk(pattern(MiB, 6));
    const slow: BlockBackend = {
      size: disk.size,
      readOnly: false,
      read: async (pos, dst) => {
        await new Promise<void>((r) => gate.push(r));
        await disk.read(pos, dst);
      },
      write: (pos, src) => disk.write(pos, src),
      flush: () => disk.flush(),
      writeZeroes: (pos, len) => disk.writeZeroes(pos, len),
      discard: (pos, len) => disk.discard(pos, len),
    };
    const { blk, d, q } = setup(slow);
    const head = d.submit(q, [
      { data: header(VIRTIO_BLK_T_IN, 0) },
      { len: 512, write: true },
      { len: 1, write: true },
    ]);
    const dst = d.bufAddr(q, head, 1);
    await new Promise((r) => setImmediate(r));
    assert.equal(blk.pending, 1);
    assert.deepEqual(d.takeUsed(q), [], "nothing completes before the backend answers");
    d.w32(MMIO.Status, 0);
    for (const g of gate.splice(0)) g();
    await blk.drain();
    assert.deepEqual(d.bytes(dst, 512), new Uint8Array(512), "no RAM write after the reset");
    assert.equal(d.dv.getUint16(d.off(q.used) + 2, true), 0);
    // After renegotiation the device works again.
    d.init();
    const q2 = d.queues[0]!;
    const h2 = d.submit(q2, [{ data: header(VIRTIO_BLK_T_IN, 1) }, { len: 512, write: true }, { len: 1, write: true }]);
    await new Promise((r) => setImmediate(r));
    for (const g of gate.splice(0)) g();
    await blk.drain();
    assert.deepEqual(d.takeUsed(q2), [{ id: h2, len: 513 }]);
    assert.deepEqual(d.bytes(d.bufAddr(q2, h2, 1), 512), disk.bytes.subarray(512, 1024));
  });

  test("a backend error answers IOERR and is reported, the device keeps going", async () => {
    const failing: BlockBackend = {
      ...new MemoryDisk(new Uint8Array(MiB)),
      size: MiB,
      readOnly: false,
      read: async () => {
        throw new Error("EIO: disk on fire");
      },
      write: async () => {},
      flush: async () => {},
      writeZeroes: async () => {},
      discard: async () => {},
    };
    const { blk, d, q } = setup(failing);
    const r = await request(d, blk, q, [{ data: header(VIRTIO_BLK_T_IN, 0) }, { len: 512, write: true }]);
    assert.equal(r.status, VIRTIO_BLK_S_IOERR);
    assert.match(d.errors.join("\n"), /disk on fire/);
    assert.ok(!d.needsReset);
  });
});

describe("CowOverlay (snapshot=on)", () => {
  test("writes stay in memory, reads see them, the disk below is never written", async () => {
    const base = new MemoryDisk(pattern(64 * 1024 + 1000, 7), true);
    const orig = base.bytes.slice();
    const o = new CowOverlay(base);
    assert.equal(o.size, base.size);
    assert.equal(o.readOnly, false);
    await o.write(100, pattern(10, 50)); // partial chunk: copied from below first
    await o.write(8192, pattern(4096, 60)); // a whole chunk
    await o.write(65536, pattern(1000, 70)); // the short last chunk, whole
    await o.writeZeroes(4096 * 3, 4096 * 2); // whole chunks as zero markers
    await o.writeZeroes(20_000, 10); // partial
    const want = orig.slice();
    want.set(pattern(10, 50), 100);
    want.set(pattern(4096, 60), 8192);
    want.set(pattern(1000, 70), 65536);
    want.fill(0, 4096 * 3, 4096 * 5);
    want.fill(0, 20_000, 20_010);
    const got = new Uint8Array(base.size);
    await o.read(0, got);
    assert.deepEqual(got, want);
    // Reads at odd offsets spanning overlay and base chunks.
    const part = new Uint8Array(9000);
    await o.read(5000, part);
    assert.deepEqual(part, want.subarray(5000, 14000));
    await o.flush();
    await o.discard(0, 4096);
    assert.deepEqual(base.bytes, orig);
    assert.ok(o.overlayBytes >= 4096 * 3);
    await assert.rejects(o.write(base.size - 1, new Uint8Array(2)), /outside the disk/);
  });

  test("concurrent partial writes to one chunk both survive", async () => {
    const base = new MemoryDisk(new Uint8Array(8192), true);
    const o = new CowOverlay(base);
    await Promise.all([
      o.write(0, Uint8Array.of(1, 1)),
      o.write(10, Uint8Array.of(2, 2)),
      o.write(4000, Uint8Array.of(3)),
    ]);
    const got = new Uint8Array(4096);
    await o.read(0, got);
    assert.deepEqual([got[0], got[1], got[10], got[11], got[4000]], [1, 1, 2, 2, 3]);
  });

  test("virtio-blk over the overlay: the guest reads back its writes, the image is unchanged", async () => {
    const base = new MemoryDisk(pattern(MiB, 8), true);
    const orig = base.bytes.slice();
    const { blk, d, q } = setup(new CowOverlay(base));
    assert.equal(d.deviceFeatures() & (1n << VIRTIO_BLK_F_RO), 0n);
    const data = pattern(4096, 99);
    assert.equal((await request(d, blk, q, [{ data: header(VIRTIO_BLK_T_OUT, 3) }, { data }])).status, 0);
    const r = await request(d, blk, q, [{ data: header(VIRTIO_BLK_T_IN, 3) }, { len: 4096, write: true }]);
    assert.deepEqual(d.bytes(d.bufAddr(q, r.head, 1), 4096), data);
    assert.deepEqual(base.bytes, orig);
  });
});

describe("fuzz", () => {
  test("random requests and malformed chains: no exception, every answered request carries a status", async (t) => {
    let seed = 0xdead_beef;
    const rnd = (n: number) => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return seed % n;
    };
    const iterations = Number(process.env.POPEK_FUZZ_ITERATIONS ?? 100_000);
    const disk = new MemoryDisk(new Uint8Array(256 * 1024));
    const blk = new VirtioBlk(disk);
    const d = new TestDriver(blk, 2 * MiB);
    d.init();
    let q = d.queues[0]!;
    const counts = [0, 0, 0, 0];
    for (let it = 0; it < iterations; it++) {
      if (d.needsReset || rnd(300) === 0) {
        await blk.drain();
        d.init();
        q = d.queues[0]!;
      }
      const types = [0, 1, 4, 8, 11, 13, rnd(0x1_0000_0000)];
      const type = types[rnd(types.length)]!;
      const sector = rnd(4) === 0 ? BigInt(rnd(0x1_0000_0000)) << BigInt(rnd(33)) : BigInt(rnd(520));
      const bufs: Buf[] = [{ data: header(type, sector) }];
      if (rnd(10) === 0) bufs[0] = { data: new Uint8Array(rnd(16)) };
      const n = rnd(4);
      for (let k = 0; k < n; k++) {
        const len = rnd(3) === 0 ? 512 * (1 + rnd(8)) : rnd(600);
        bufs.push(type === 1 || rnd(5) === 0 ? { data: new Uint8Array(len) } : { len, write: true });
      }
      if (type === 11 || type === 13) bufs.splice(1, 0, { data: segment(rnd(520), rnd(16), rnd(3)) });
      bufs.push(rnd(10) === 0 ? { data: new Uint8Array(1) } : { len: 1, write: true });
      d.submit(q, bufs, { indirect: rnd(2) === 0 });
      await blk.drain();
      for (const u of d.takeUsed(q)) {
        assert.ok(u.len >= 1);
        counts[0]!++;
      }
      d.ack();
    }
    counts[1] = blk.stats.ioErrors;
    counts[2] = blk.stats.unsupported;
    t.diagnostic(`${iterations} requests: ${counts[0]} answered (${counts[1]} IOERR, ${counts[2]} UNSUPP)`);
    assert.ok(counts[0]! > iterations / 2);
  });
});
