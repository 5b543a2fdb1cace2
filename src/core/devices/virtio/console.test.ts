// virtio-console: output from the transmit queue, host input into receive buffers (kept until the driver is ready,
// split across buffers), terminal size and resize, emergency write, bad receive buffers, oversized output chains.
import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtioConsole } from "./console.ts";
import { INT_CONFIG, MMIO } from "./mmio.ts";
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT } from "./queue.ts";
import { TestDriver } from "./test-driver.ts";

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

function setup(size?: { cols: number; rows: number }) {
  const out: Uint8Array[] = [];
  const con = new VirtioConsole((b) => out.push(b), { size });
  const d = new TestDriver(con);
  return { con, d, out, output: () => str(Uint8Array.from(out.flatMap((b) => Array.from(b)))) };
}

test("device ID 3 with two queues; output of the transmit queue reaches the host", () => {
  const { d, output } = setup();
  d.init();
  assert.equal(d.r32(MMIO.DeviceID), 3);
  assert.equal(d.queues.length, 2);
  const tx = d.queues[1]!;
  const h = d.submit(tx, [{ data: text("hello, ") }, { data: text("world\n") }]);
  assert.deepEqual(d.takeUsed(tx), [{ id: h, len: 0 }]);
  assert.equal(output(), "hello, world\n");
  assert.ok(d.irqLevel);
});

test("input typed before the driver is ready is kept, then split across receive buffers", () => {
  const { con, d } = setup();
  con.receive(text("early "));
  assert.equal(con.listening, false);
  d.init();
  assert.equal(con.listening, true);
  con.receive(text("and later"));
  const rx = d.queues[0]!;
  const a = d.submit(rx, [{ len: 4, write: true }]);
  const b = d.submit(rx, [{ len: 64, write: true }]);
  const used = d.takeUsed(rx);
  assert.deepEqual(used, [
    { id: a, len: 4 },
    { id: b, len: 11 },
  ]);
  assert.equal(str(d.bytes(d.bufAddr(rx, a, 0), 4)), "earl");
  assert.equal(str(d.bytes(d.bufAddr(rx, b, 0), 11)), "y and later");
  assert.equal(con.queued, 0);
  // A buffer posted before input arrives is filled when it comes, and the machine is woken.
  const c = d.submit(rx, [{ len: 8, write: true }]);
  assert.deepEqual(d.takeUsed(rx), []);
  const wakes = d.wakes;
  d.ack();
  con.receive(text("x"));
  assert.deepEqual(d.takeUsed(rx), [{ id: c, len: 1 }]);
  assert.ok(d.irqLevel);
  assert.equal(d.wakes, wakes + 1);
});

test("terminal size in the config space; resize raises a configuration change", () => {
  const { con, d } = setup({ cols: 132, rows: 43 });
  d.init();
  assert.ok(d.deviceFeatures() & 1n);
  assert.equal(d.t.read(MMIO.Config, 2), 132);
  assert.equal(d.t.read(MMIO.Config + 2, 2), 43);
  const gen = d.r32(MMIO.ConfigGeneration);
  con.resize(80, 25);
  assert.equal(d.t.read(MMIO.Config, 2), 80);
  assert.equal(d.r32(MMIO.ConfigGeneration), gen + 1);
  assert.ok(d.r32(MMIO.InterruptStatus) & INT_CONFIG);
  // Without a size, F_SIZE is not offered and resize does nothing.
  const plain = setup();
  assert.equal(plain.d.deviceFeatures() & 1n, 0n);
});

test("emergency write prints one character", () => {
  const { d, output } = setup();
  d.init();
  d.t.write(MMIO.Config + 8, 4, 0x41);
  assert.equal(output(), "A");
});

test("a receive buffer the device cannot write is a driver error", () => {
  const { con, d } = setup();
  d.init();
  con.receive(text("x"));
  d.submit(d.queues[0]!, [{ data: new Uint8Array(4) }]);
  assert.ok(d.needsReset);
  assert.match(d.t.lastError!, /receive buffer without a device-writable part/);
});

test("an output chain of 4 GiB (one buffer repeated) is cut at 1 MiB and does not stall the host", () => {
  const { d, out } = setup();
  d.init();
  const tx = d.queues[1]!;
  const table = d.alloc(16 * 1024);
  for (let i = 0; i < 1024; i++) d.desc(table, i, d.base, 4 << 20, i < 1023 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
  d.desc(tx.desc, 0, table, 16 * 1024, VIRTQ_DESC_F_INDIRECT);
  d.publish(tx, 0);
  const start = performance.now();
  d.kick(tx);
  assert.ok(d.needsReset, "4 GiB of readable buffers exceeds the chain limit");
  // Just below the limit: 1023 x 4 MiB is accepted, and only 1 MiB is taken.
  d.init();
  const tx2 = d.queues[1]!;
  const t2 = d.alloc(16 * 1023);
  for (let i = 0; i < 1023; i++) d.desc(t2, i, d.base, 4 << 20, i < 1022 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
  d.desc(tx2.desc, 0, t2, 16 * 1023, VIRTQ_DESC_F_INDIRECT);
  d.publish(tx2, 0);
  out.length = 0;
  d.kick(tx2);
  assert.equal(
    out.reduce((n, b) => n + b.length, 0),
    1 << 20,
  );
  assert.ok(performance.now() - start < 2000);
});
