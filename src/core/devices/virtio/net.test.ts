// virtio-net through the test driver: identity, MAC and link status in the configuration space, frames out through
// the transmit queue (header stripped), frames in through receive buffers (header with num_buffers = 1), held frames
// delivered once the driver posts buffers, small buffers, link changes, a missing header, the user-mode stack behind
// the card, and a fuzz run of random transmit and receive chains.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FrameQueue, type NetBackend, type NetPort } from "../../net/backend.ts";
import type { HostTcpEvents, NetHost } from "../../net/host.ts";
import { u16, u32 } from "../../net/packet.ts";
import { Slirp } from "../../net/slirp.ts";
import { MMIO, VIRTIO_F_VERSION_1 } from "./mmio.ts";
import { VIRTIO_NET_F_MAC, VIRTIO_NET_F_STATUS, VIRTIO_NET_HDR_SIZE, VirtioNet } from "./net.ts";
import { VIRTQ_DESC_F_INDIRECT } from "./queue.ts";
import { TEST_RAM_BASE, TestDriver } from "./test-driver.ts";

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);

/** A backend that records what the card sends and holds frames for it until it takes them. */
class FakeBackend implements NetBackend {
  linkUp = true;
  sent: Uint8Array[] = [];
  port: NetPort | null = null;
  readonly held = new FrameQueue(100_000);
  rxReadyCalls = 0;
  /** Echo every transmitted frame back to the card. */
  echo = false;
  attach(port: NetPort): void {
    this.port = port;
  }
  transmit(frame: Uint8Array): void {
    this.sent.push(frame.slice());
    if (this.echo) this.deliver(frame);
  }
  rxReady(): void {
    this.rxReadyCalls++;
    this.held.deliver(this.port);
  }
  deliver(frame: Uint8Array): void {
    if (this.held.length === 0 && this.port!.receive(frame)) return;
    this.held.push(frame);
  }
  close(): void {}
}

const frame = (n: number, fill: number): Uint8Array => {
  const f = new Uint8Array(n).fill(fill);
  f.set(MAC, 6);
  return f;
};

function setup(backend: NetBackend = new FakeBackend()) {
  const dev = new VirtioNet(backend, MAC);
  const d = new TestDriver(dev, 8 << 20);
  const f = d.init();
  return { dev, d, f, rx: d.queues[0]!, tx: d.queues[1]! };
}

describe("virtio-net", () => {
  test("device ID 1, MAC and STATUS offered, the MAC and link state in the configuration space", () => {
    const b = new FakeBackend();
    const { d, f } = setup(b);
    assert.equal(d.r32(MMIO.DeviceID), 1);
    assert.equal(
      f & 0xffff_ffffn & ~(3n << 28n),
      (1n << VIRTIO_NET_F_MAC) | (1n << VIRTIO_NET_F_STATUS),
      "no offloads",
    );
    assert.ok((f & (1n << VIRTIO_F_VERSION_1)) !== 0n);
    assert.ok((f & (1n << VIRTIO_NET_F_MAC)) !== 0n && (f & (1n << VIRTIO_NET_F_STATUS)) !== 0n);
    assert.equal(d.queues.length, 2, "receiveq1 and transmitq1 only");
    const mac = Array.from({ length: 6 }, (_, i) => d.t.read(MMIO.Config + i, 1));
    assert.deepEqual(mac, [...MAC]);
    assert.equal(d.t.read(MMIO.Config + 6, 2), 1, "VIRTIO_NET_S_LINK_UP");
    assert.ok(b.port !== null, "the card attached itself to the backend");
  });

  test("transmit: the header is stripped and the frame goes to the backend; the buffer comes back", () => {
    const b = new FakeBackend();
    const { d, tx } = setup(b);
    const f = frame(60, 0xab);
    const h = d.submit(tx, [{ data: new Uint8Array(VIRTIO_NET_HDR_SIZE) }, { data: f }]);
    assert.deepEqual(b.sent, [f]);
    assert.deepEqual(d.takeUsed(tx), [{ id: h, len: 0 }]);
    assert.ok(d.irqLevel);
    // Header and frame in one buffer, and in an indirect table.
    const whole = new Uint8Array(VIRTIO_NET_HDR_SIZE + 100);
    whole.set(frame(100, 0xcd), VIRTIO_NET_HDR_SIZE);
    d.submit(tx, [{ data: whole }], { indirect: true });
    assert.deepEqual(b.sent[1], whole.subarray(VIRTIO_NET_HDR_SIZE));
    // A runt (shorter than an Ethernet header) is dropped, the buffer returned.
    d.submit(tx, [{ data: new Uint8Array(VIRTIO_NET_HDR_SIZE + 5) }]);
    assert.equal(b.sent.length, 2);
    assert.equal(d.takeUsed(tx).length, 2);
  });

  test("receive: held until the driver posts buffers, then written with a header, num_buffers = 1", () => {
    const b = new FakeBackend();
    const dev = new VirtioNet(b, MAC);
    const d = new TestDriver(dev, 8 << 20);
    b.deliver(frame(70, 1)); // before the driver is up
    assert.equal(b.held.length, 1);
    d.init();
    const rx = d.queues[0]!;
    assert.equal(b.held.length, 1, "no buffers yet");
    const wakes = d.wakes;
    const h = d.submit(rx, [{ len: 1526, write: true }]);
    assert.ok(b.rxReadyCalls > 0);
    assert.equal(b.held.length, 0);
    const used = d.takeUsed(rx);
    assert.deepEqual(used, [{ id: h, len: VIRTIO_NET_HDR_SIZE + 70 }]);
    const got = d.bytes(d.bufAddr(rx, h, 0), VIRTIO_NET_HDR_SIZE + 70);
    assert.deepEqual([...got.subarray(0, 10)], new Array(10).fill(0));
    assert.equal(got[10], 1, "num_buffers");
    assert.deepEqual(got.subarray(VIRTIO_NET_HDR_SIZE), frame(70, 1));
    assert.ok(d.wakes > wakes, "the machine is woken");
    // A frame split across a header buffer and a data buffer (as some drivers post them).
    const h2 = d.submit(rx, [
      { len: VIRTIO_NET_HDR_SIZE, write: true },
      { len: 1514, write: true },
    ]);
    b.deliver(frame(1514, 9));
    assert.deepEqual(d.takeUsed(rx), [{ id: h2, len: VIRTIO_NET_HDR_SIZE + 1514 }]);
    assert.deepEqual(d.bytes(d.bufAddr(rx, h2, 1), 1514), frame(1514, 9));
  });

  test("a buffer too small for the frame is returned empty and the frame dropped", () => {
    const b = new FakeBackend();
    const { d, rx, dev } = setup(b);
    const h = d.submit(rx, [{ len: 100, write: true }]);
    b.deliver(frame(200, 3));
    assert.deepEqual(d.takeUsed(rx), [{ id: h, len: 0 }]);
    assert.equal(dev.stats.rxDropped, 1);
  });

  test("link down and up: status changes with a configuration interrupt", () => {
    const b = new FakeBackend();
    const { d, dev } = setup(b);
    d.ack();
    dev.setLink(false);
    assert.equal(d.t.read(MMIO.Config + 6, 2), 0);
    assert.ok(d.configInterrupt);
    d.ack();
    dev.setLink(false);
    assert.ok(!d.configInterrupt, "no change, no interrupt");
    dev.setLink(true);
    assert.equal(d.t.read(MMIO.Config + 6, 2), 1);
    assert.ok(d.configInterrupt);
    assert.deepEqual(dev.save(), { version: 1, mac: "52:54:00:12:34:56", linkUp: true });
  });

  test("a transmit chain without a whole header needs a reset", () => {
    const { d, tx } = setup();
    d.submit(tx, [{ data: new Uint8Array(8) }]);
    assert.ok(d.needsReset);
    assert.match(d.t.lastError!, /virtio_net_hdr/);
  });

  test("behind the card, the user-mode stack answers ARP for the gateway", () => {
    const host = {
      now: () => 0,
      timer: () => ({ cancel() {} }),
      dnsServers: () => [],
      tcpConnect: (_a: string, _p: number, _e: HostTcpEvents) => {
        throw new Error("unused");
      },
    } as unknown as NetHost;
    const s = new Slirp(host);
    const { d, rx, tx } = setup(s);
    const h = d.submit(rx, [{ len: 1526, write: true }]);
    const arp = new Uint8Array(VIRTIO_NET_HDR_SIZE + 42);
    const a = arp.subarray(VIRTIO_NET_HDR_SIZE);
    a.fill(0xff, 0, 6);
    a.set(MAC, 6);
    a.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1], 12);
    a.set(MAC, 22);
    a.set([10, 0, 2, 15], 28);
    a.set([10, 0, 2, 2], 38);
    d.submit(tx, [{ data: arp }]);
    const used = d.takeUsed(rx);
    assert.deepEqual(used, [{ id: h, len: VIRTIO_NET_HDR_SIZE + 42 }]);
    const reply = d.bytes(d.bufAddr(rx, h, 0) + VIRTIO_NET_HDR_SIZE, 42);
    assert.deepEqual([...reply.subarray(0, 6)], [...MAC]);
    assert.equal(u16(reply, 20), 2, "ARP reply");
    assert.equal(u32(reply, 28), 0x0a000202);
    s.close();
  });
});

describe("fuzz", () => {
  test("random transmit and receive chains (sizes, splits, indirect, garbage) never throw; echoed frames arrive intact", (t) => {
    let seed = 0x9e37_79b9;
    const rnd = (n: number) => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return seed % n;
    };
    const iterations = Number(process.env.POPEK_FUZZ_ITERATIONS ?? 100_000);
    const b = new FakeBackend();
    b.echo = true;
    const dev = new VirtioNet(b, MAC);
    const d = new TestDriver(dev, 8 << 20);
    let rx = d.queues[0];
    let tx = d.queues[1];
    let resets = 0;
    let intact = 0;
    const init = () => {
      b.held.clear();
      d.init({ sizes: [64, 64] });
      rx = d.queues[0]!;
      tx = d.queues[1]!;
    };
    init();
    // rx head -> address and capacity of direct single-buffer chains, while no random descriptor was written.
    const posted = new Map<number, { addr: number; cap: number }>();
    let corrupted = false;
    const sent = new Set<string>();
    const key = (f: Uint8Array) => Buffer.from(f.buffer, f.byteOffset, f.length).toString("latin1");
    for (let it = 0; it < iterations; it++) {
      if (d.needsReset || (it % 2000 === 0 && it > 0)) {
        if (d.needsReset) resets++;
        init();
        posted.clear();
        corrupted = false;
      }
      const kind = rnd(40);
      if (kind < 15) {
        // A transmit chain: a header (sometimes short), then the frame in 1-3 pieces, sometimes with garbage flags.
        const len = rnd(4) === 0 ? rnd(20) : 14 + rnd(1600);
        const f = new Uint8Array(len);
        for (let i = 0; i < len; i++) f[i] = rnd(256);
        const hdr = rnd(50) === 0 ? rnd(VIRTIO_NET_HDR_SIZE) : VIRTIO_NET_HDR_SIZE;
        // What the device sees as the frame: everything after the first 12 readable bytes.
        const all = new Uint8Array(hdr + len);
        all.set(f, hdr);
        if (all.length >= VIRTIO_NET_HDR_SIZE + 14) sent.add(key(all.subarray(VIRTIO_NET_HDR_SIZE)));
        const pieces = [{ data: new Uint8Array(hdr) }];
        let at = 0;
        for (let p = rnd(3); p >= 0 && at < len; p--) {
          const n = p === 0 ? len - at : rnd(len - at + 1);
          pieces.push({ data: f.subarray(at, at + n) });
          at += n;
        }
        if (rnd(100) === 0)
          (pieces as { data: Uint8Array; write?: boolean }[]).push({ data: new Uint8Array(4), write: true });
        d.submit(tx!, pieces, { indirect: rnd(3) === 0, kick: rnd(10) !== 0 });
      } else if (kind < 30) {
        // A receive buffer of random size, split or not.
        const cap = rnd(8) === 0 ? rnd(64) : 1526;
        const split = rnd(3) === 0 ? rnd(cap + 1) : cap;
        const bufs =
          split === cap
            ? [{ len: cap, write: true }]
            : [
                { len: split, write: true },
                { len: cap - split, write: true },
              ];
        const indirect = rnd(4) === 0;
        // Descriptors are handed out round-robin: one taken again no longer describes an older posted buffer.
        const from = rx!.nextDesc;
        for (let k = 0; k < (indirect ? 1 : bufs.length); k++) posted.delete((from + k) % rx!.num);
        const h = d.submit(rx!, bufs, { indirect, kick: rnd(10) !== 0 });
        if (bufs.length === 1 && !indirect && !corrupted) posted.set(h, { addr: d.bufAddr(rx!, h, 0), cap });
        else posted.delete(h);
      } else if (kind === 30 && rnd(10) === 0) {
        // A random descriptor somewhere in either table.
        const q = rnd(2) === 0 ? rx! : tx!;
        corrupted = true;
        posted.clear();
        d.desc(
          q.desc,
          rnd(q.num),
          BigInt(TEST_RAM_BASE + rnd(9 << 20)),
          rnd(4) === 0 ? rnd(0x1_0000_0000) : rnd(4096),
          rnd(8) & ~VIRTQ_DESC_F_INDIRECT,
          rnd(q.num),
        );
        if (rnd(4) === 0) d.publish(q, rnd(q.num));
      } else {
        d.kick(rnd(2) === 0 ? rx! : tx!);
      }
      for (const u of d.takeUsed(rx!)) {
        const p = posted.get(u.id);
        if (p !== undefined && u.len > VIRTIO_NET_HDR_SIZE && !corrupted) {
          assert.ok(u.len <= p.cap, "used length within the buffer");
          const got = d.bytes(p.addr, u.len);
          assert.equal(got[10], 1, "num_buffers");
          assert.ok(sent.has(key(got.subarray(VIRTIO_NET_HDR_SIZE))), "a received frame is one that was sent");
          intact++;
        }
        posted.delete(u.id);
      }
      d.takeUsed(tx!);
      d.ack();
    }
    t.diagnostic(
      `${iterations} iterations: ${dev.stats.txFrames} frames sent, ${dev.stats.rxFrames} received, ${intact} checked, ${resets} resets`,
    );
    assert.ok(dev.stats.txFrames > 1000 && dev.stats.rxFrames > 1000 && resets > 0);
    assert.equal(b.sent.length, dev.stats.txFrames);
  });
});
