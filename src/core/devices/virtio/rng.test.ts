// virtio-rng: requests are filled from the entropy source (the host's crypto by default) across buffers and
// indirect tables; a request with nothing writable puts the device in DEVICE_NEEDS_RESET.
import assert from "node:assert/strict";
import { test } from "node:test";
import { VirtioRng } from "./rng.ts";
import { TestDriver } from "./test-driver.ts";

test("device ID 4, one queue, no config; buffers are filled from the source, split buffers included", () => {
  let counter = 0;
  const rng = new VirtioRng((b) => {
    for (let i = 0; i < b.length; i++) b[i] = counter++ & 0xff;
  });
  const d = new TestDriver(rng);
  d.init();
  assert.equal(d.r32(0x008), 4);
  const q = d.queues[0]!;
  assert.equal(d.queues.length, 1);
  const h = d.submit(q, [
    { len: 3, write: true },
    { len: 5, write: true },
  ]);
  assert.deepEqual(d.takeUsed(q), [{ id: h, len: 8 }]);
  assert.deepEqual(Array.from(d.bytes(d.bufAddr(q, h, 0), 3)), [0, 1, 2]);
  assert.deepEqual(Array.from(d.bytes(d.bufAddr(q, h, 1), 5)), [3, 4, 5, 6, 7]);
  const h2 = d.submit(q, [{ len: 70_000, write: true }], { indirect: true });
  assert.deepEqual(d.takeUsed(q), [{ id: h2, len: 70_000 }]);
  assert.equal(rng.served, 70_008);
  assert.ok(d.irqLevel);
});

test("the default source is the host's cryptographic RNG", () => {
  const d = new TestDriver(new VirtioRng());
  d.init();
  const q = d.queues[0]!;
  const h = d.submit(q, [{ len: 4096, write: true }]);
  assert.deepEqual(d.takeUsed(q), [{ id: h, len: 4096 }]);
  const got = d.bytes(d.bufAddr(q, h, 0), 4096);
  const counts = new Array(256).fill(0);
  for (const b of got) counts[b]++;
  // 4096 random bytes: every value appears fewer than 60 times (expected 16; a stuck source fails at once).
  assert.ok(Math.max(...counts) < 60, `max count ${Math.max(...counts)}`);
});

test("a request with only device-readable buffers is a driver error", () => {
  const d = new TestDriver(new VirtioRng());
  d.init();
  const q = d.queues[0]!;
  d.submit(q, [{ data: new Uint8Array(16) }]);
  assert.ok(d.needsReset);
  assert.match(d.t.lastError!, /without a device-writable buffer/);
  assert.deepEqual(d.takeUsed(q), []);
});
