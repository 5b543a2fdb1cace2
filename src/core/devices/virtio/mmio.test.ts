// virtio-mmio transport and split virtqueues, driven through the registers by the test driver: register block,
// feature negotiation (legacy drivers refused), interrupts, reset, queue checks, every malformed-descriptor case
// (each must end in DEVICE_NEEDS_RESET + a config interrupt, never a throw), indirect tables, EVENT_IDX, snapshots,
// and a fuzz run of random rings.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RAM_OFFSET } from "../../cpu/layout.ts";
import { VirtMachine } from "../../machine/virt.ts";
import {
  INT_VRING,
  MMIO,
  STATUS,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_VERSION_1,
  type VirtioDevice,
  type VirtioMmio,
  virtioMmio,
} from "./mmio.ts";
import {
  Chain,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
} from "./queue.ts";
import { TEST_RAM_BASE, TestDriver } from "./test-driver.ts";

/** Copies each chain's readable bytes into its writable part; queue 1 holds chains until `release`. */
class Echo implements VirtioDevice {
  readonly name = "echo";
  readonly deviceId = 42;
  readonly features = 1n << 3n;
  readonly queueSizes = [8, 16];
  readonly config = Uint8Array.from([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
  t: VirtioMmio | null = null;
  resets = 0;
  activations = 0;
  written: { off: number; val: number; size: number }[] = [];
  held: Chain[] = [];

  attach(t: VirtioMmio): void {
    this.t = t;
  }
  activate(): void {
    this.activations++;
  }
  reset(): void {
    this.resets++;
    this.held = [];
  }
  configWrite(off: number, size: 1 | 2 | 4, val: number): void {
    this.written.push({ off, size, val });
  }
  notify(i: number): void {
    const q = this.t!.queue(i);
    if (i === 1) {
      for (;;) {
        const c = new Chain();
        if (!q.pop(c)) return;
        this.held.push(c);
      }
    }
    const c = new Chain(1);
    let any = false;
    while (q.pop(c)) {
      const buf = new Uint8Array(Math.min(c.readable, 4096));
      c.read(0, buf);
      q.push(c, c.write(0, buf));
      any = true;
    }
    if (any) q.interrupt();
  }
  release(): void {
    const q = this.t!.queue(1);
    for (const c of this.held) {
      const buf = new Uint8Array(c.readable);
      c.read(0, buf);
      q.complete(c, c.write(0, buf));
    }
    this.held = [];
  }
}

function setup(opts: { want?: bigint; sizes?: number[]; ram?: number } = {}) {
  const dev = new Echo();
  const d = new TestDriver(dev, opts.ram);
  d.init(opts);
  return { dev, d, q0: d.queues[0]!, q1: d.queues[1]! };
}

const bytes = (...v: number[]) => Uint8Array.from(v);

/** The device is in DEVICE_NEEDS_RESET with a config interrupt pending, and its reason matches `re`. */
function assertBroken(d: TestDriver, re: RegExp): void {
  assert.ok(d.needsReset, `expected DEVICE_NEEDS_RESET; status 0x${d.status.toString(16)}`);
  assert.ok(d.configInterrupt, "expected a configuration change interrupt");
  assert.ok(d.irqLevel);
  assert.match(d.t.lastError ?? "", re);
  assert.equal(d.errors.length, 1);
}

describe("virtio-mmio registers", () => {
  test("identity, features by selector, queue sizes, config space widths, no shared memory", () => {
    const dev = new Echo();
    const d = new TestDriver(dev);
    assert.equal(d.r32(MMIO.MagicValue), 0x74726976);
    assert.equal(d.r32(MMIO.Version), 2);
    assert.equal(d.r32(MMIO.DeviceID), 42);
    assert.equal(d.r32(MMIO.VendorID), 0x554d4551);
    const f = d.deviceFeatures();
    assert.equal(
      f,
      (1n << 3n) | (1n << VIRTIO_F_INDIRECT_DESC) | (1n << VIRTIO_F_EVENT_IDX) | (1n << VIRTIO_F_VERSION_1),
    );
    d.w32(MMIO.DeviceFeaturesSel, 2);
    assert.equal(d.r32(MMIO.DeviceFeatures), 0);
    d.w32(MMIO.QueueSel, 0);
    assert.equal(d.r32(MMIO.QueueNumMax), 8);
    d.w32(MMIO.QueueSel, 1);
    assert.equal(d.r32(MMIO.QueueNumMax), 16);
    d.w32(MMIO.QueueSel, 2);
    assert.equal(d.r32(MMIO.QueueNumMax), 0);
    assert.equal(d.t.read(MMIO.Config, 1), 0x11);
    assert.equal(d.t.read(MMIO.Config + 2, 2), 0x4433);
    assert.equal(d.t.read(MMIO.Config + 4, 4), 0x88776655);
    assert.equal(d.t.read(MMIO.Config + 8, 4), 0, "past the config space");
    d.t.write(MMIO.Config + 1, 1, 0x99);
    assert.deepEqual(dev.written, [{ off: 1, size: 1, val: 0x99 }]);
    assert.equal(d.r32(MMIO.SHMLenLow), 0xffff_ffff);
    assert.equal(d.r32(MMIO.SHMLenHigh), 0xffff_ffff);
    // Registers need 32-bit aligned accesses; others read 0 and are ignored.
    assert.equal(d.t.read(MMIO.MagicValue, 2), 0);
    d.t.write(MMIO.Status, 1, STATUS.ACKNOWLEDGE);
    assert.equal(d.status, 0);
  });

  test("queue registers read back, and cannot change while the queue is ready", () => {
    const { d } = setup();
    d.w32(MMIO.QueueSel, 0);
    const desc = d.r32(MMIO.QueueDescLow);
    assert.equal(desc, d.queues[0]!.desc);
    assert.equal(d.r32(MMIO.QueueNum), 8);
    assert.equal(d.r32(MMIO.QueueReady), 1);
    d.w32(MMIO.QueueDescLow, 0x1234);
    d.w32(MMIO.QueueNum, 2);
    assert.equal(d.r32(MMIO.QueueDescLow), desc);
    assert.equal(d.r32(MMIO.QueueNum), 8);
  });
});

describe("feature negotiation and status", () => {
  test("a modern driver gets FEATURES_OK and DRIVER_OK; the device is activated once", () => {
    const { dev, d } = setup();
    assert.equal(d.status, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK);
    assert.equal(dev.activations, 1);
    assert.ok(d.t.indirect && d.t.eventIdx);
  });

  test("a legacy-only driver (no VIRTIO_F_VERSION_1) is refused FEATURES_OK, and DRIVER_OK then needs reset", () => {
    const dev = new Echo();
    const d = new TestDriver(dev);
    d.w32(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    d.writeFeatures(1n << 3n);
    d.w32(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
    assert.equal(d.status & STATUS.FEATURES_OK, 0);
    assert.match(d.errors[0]!, /legacy driver/);
    d.w32(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.DRIVER_OK);
    assert.equal(dev.activations, 0);
    assert.ok(d.needsReset);
    assert.match(d.t.lastError!, /DRIVER_OK without FEATURES_OK/);
  });

  test("features that were not offered are refused; features cannot change after FEATURES_OK", () => {
    const d = new TestDriver(new Echo());
    d.w32(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    d.writeFeatures((1n << VIRTIO_F_VERSION_1) | (1n << 5n));
    d.w32(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
    assert.equal(d.status & STATUS.FEATURES_OK, 0);
    assert.match(d.errors[0]!, /not offered: 0x20/);
    d.writeFeatures(1n << VIRTIO_F_VERSION_1);
    d.w32(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
    assert.ok(d.status & STATUS.FEATURES_OK);
    d.writeFeatures((1n << VIRTIO_F_VERSION_1) | (1n << 3n));
    assert.equal(d.t.features, 1n << VIRTIO_F_VERSION_1);
  });

  test("writing status 0 resets: queues off, features and interrupts cleared, device told", () => {
    const { dev, d, q0 } = setup();
    d.submit(q0, [{ data: bytes(1) }, { len: 1, write: true }]);
    assert.ok(d.irqLevel);
    d.w32(MMIO.Status, 0);
    assert.equal(d.status, 0);
    assert.equal(d.irqLevel, false);
    assert.equal(d.r32(MMIO.InterruptStatus), 0);
    assert.equal(d.t.features, 0n);
    assert.equal(dev.resets, 2); // init's reset, then this one
    d.w32(MMIO.QueueSel, 0);
    assert.equal(d.r32(MMIO.QueueReady), 0);
    assert.equal(d.r32(MMIO.QueueNum), 8, "QueueNum back to QueueNumMax");
    // Notifications before DRIVER_OK are ignored.
    d.kick(q0);
    assert.equal(d.r32(MMIO.InterruptStatus), 0);
  });
});

describe("queues", () => {
  test("a request goes through: used element, length, interrupt status and ack", () => {
    const { d, q0 } = setup();
    const head = d.submit(q0, [{ data: bytes(1, 2, 3) }, { len: 2, write: true }, { len: 4, write: true }]);
    const used = d.takeUsed(q0);
    assert.deepEqual(used, [{ id: head, len: 3 }]);
    assert.deepEqual(d.bytes(d.bufAddr(q0, head, 1), 2), bytes(1, 2));
    assert.deepEqual(d.bytes(d.bufAddr(q0, head, 2), 1), bytes(3));
    assert.equal(d.r32(MMIO.InterruptStatus), INT_VRING);
    assert.ok(d.irqLevel);
    d.w32(MMIO.InterruptACK, INT_VRING);
    assert.equal(d.irqLevel, false);
  });

  test("indirect tables, alone and after direct descriptors", () => {
    const { d, q0 } = setup();
    const h1 = d.submit(q0, [{ data: bytes(9, 8) }, { len: 2, write: true }], { indirect: true });
    assert.deepEqual(d.takeUsed(q0), [{ id: h1, len: 2 }]);
    // A direct readable descriptor whose NEXT is an indirect table holding the writable buffer.
    const src = d.alloc(4);
    d.ram.set(bytes(5, 6, 7, 8), d.off(src));
    const dst = d.alloc(4);
    const table = d.alloc(16);
    d.desc(table, 0, dst, 4, VIRTQ_DESC_F_WRITE);
    d.desc(q0.desc, 6, src, 4, VIRTQ_DESC_F_NEXT, 7);
    d.desc(q0.desc, 7, table, 16, VIRTQ_DESC_F_INDIRECT);
    d.publish(q0, 6);
    d.kick(q0);
    assert.deepEqual(d.takeUsed(q0), [{ id: 6, len: 4 }]);
    assert.deepEqual(d.bytes(dst, 4), bytes(5, 6, 7, 8));
    assert.ok(!d.needsReset);
  });

  test("the used index wraps at 2^16", () => {
    const { d, q0 } = setup({ sizes: [2, 16] });
    for (let i = 0; i < 70_000; i++) {
      d.submit(q0, [{ data: bytes(i & 0xff) }, { len: 1, write: true }]);
      const u = d.takeUsed(q0);
      assert.equal(u.length, 1);
      if (i % 1000 === 0) d.ack();
    }
    assert.ok(!d.needsReset);
  });

  test("without EVENT_IDX, VIRTQ_AVAIL_F_NO_INTERRUPT suppresses the interrupt", () => {
    const { d, q0 } = setup({ want: ~(1n << VIRTIO_F_EVENT_IDX) });
    assert.equal(d.t.eventIdx, false);
    d.dv.setUint16(d.off(q0.avail), VIRTQ_AVAIL_F_NO_INTERRUPT, true);
    d.submit(q0, [{ data: bytes(1) }, { len: 1, write: true }]);
    assert.equal(d.takeUsed(q0).length, 1);
    assert.equal(d.irqLevel, false);
  });

  test("EVENT_IDX: interrupts only when used_event is crossed; avail_event follows last_avail_idx", () => {
    const { d, q1 } = setup();
    const usedEvent = (v: number) => d.dv.setUint16(d.off(q1.avail) + 4 + 2 * q1.num, v, true);
    const availEvent = () => d.dv.getUint16(d.off(q1.used) + 4 + 8 * q1.num, true);
    const dev = d.t.device as Echo;
    // Queue 1 holds chains until release(); used_event = 2: no interrupt until the third completion.
    usedEvent(2);
    for (let i = 0; i < 4; i++) d.submit(q1, [{ data: bytes(i) }, { len: 1, write: true }]);
    assert.equal(availEvent(), 4);
    const rises = d.irqRises;
    // The first completion always interrupts (no decision made yet), as in QEMU.
    dev.release();
    assert.equal(d.irqRises, rises + 1);
    d.ack();
    assert.equal(d.takeUsed(q1).length, 4);
    // used_event = 5: completions 5 and 6 (used idx 5 -> 6 crosses 5) ...
    usedEvent(5);
    d.submit(q1, [{ data: bytes(1) }, { len: 1, write: true }]);
    dev.release(); // used idx 4 -> 5: event 5 not crossed
    assert.equal(d.irqLevel, false);
    d.submit(q1, [{ data: bytes(1) }, { len: 1, write: true }]);
    dev.release(); // used idx 5 -> 6: crossed
    assert.equal(d.irqLevel, true);
  });

  test("completions after a reset are dropped: no RAM write, no used element", () => {
    const { dev, d, q1 } = setup();
    const head = d.submit(q1, [{ data: bytes(7) }, { len: 1, write: true }]);
    const held = dev.held.slice();
    assert.equal(held.length, 1);
    const dst = d.bufAddr(q1, head, 1);
    d.w32(MMIO.Status, 0);
    const q = d.t.queue(1);
    assert.equal(held[0]!.write(0, bytes(0xee)), 0);
    assert.equal(held[0]!.writeByte(0, 0xee), false);
    q.push(held[0]!, 1);
    assert.deepEqual(d.bytes(dst, 1), bytes(0));
    assert.equal(d.dv.getUint16(d.off(q1.used) + 2, true), 0);
  });
});

describe("bad queue setup -> DEVICE_NEEDS_RESET", () => {
  const cases: [string, (d: TestDriver) => void, RegExp][] = [
    ["size 0", (d) => d.w32(MMIO.QueueNum, 0), /size 0/],
    ["size 3 (not a power of 2)", (d) => d.w32(MMIO.QueueNum, 3), /size 3/],
    ["size above QueueNumMax", (d) => d.w32(MMIO.QueueNum, 16), /size 16/],
    ["descriptor table outside RAM", (d) => d.w32(MMIO.QueueDescLow, 0x1000), /outside RAM/],
    ["used ring crossing the end of RAM", (d) => d.w32(MMIO.QueueDeviceLow, TEST_RAM_BASE + (4 << 20) - 8), /outside/],
    ["ring above 4 GiB", (d) => d.w32(MMIO.QueueDriverHigh, 1), /outside RAM/],
    ["misaligned descriptor table", (d) => d.w32(MMIO.QueueDescLow, TEST_RAM_BASE + 0x2008), /misaligned/],
  ];
  for (const [name, spoil, re] of cases) {
    test(name, () => {
      const d = new TestDriver(new Echo());
      d.w32(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
      d.writeFeatures(1n << VIRTIO_F_VERSION_1);
      d.w32(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
      d.w32(MMIO.QueueSel, 0);
      d.w32(MMIO.QueueDescLow, TEST_RAM_BASE + 0x2000);
      d.w32(MMIO.QueueDriverLow, TEST_RAM_BASE + 0x3000);
      d.w32(MMIO.QueueDeviceLow, TEST_RAM_BASE + 0x4000);
      spoil(d);
      d.w32(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK);
      d.w32(MMIO.QueueReady, 1);
      assert.equal(d.r32(MMIO.QueueReady), 0);
      assertBroken(d, re);
    });
  }
});

describe("malformed descriptor chains -> DEVICE_NEEDS_RESET, no host exception, RAM untouched", () => {
  const END = TEST_RAM_BASE + (4 << 20);
  const cases: [string, (d: TestDriver, q: TestDriver["queues"][0]) => void, RegExp][] = [
    [
      "buffer below RAM",
      (d, q) => {
        d.desc(q.desc, 0, 0x1000, 16, VIRTQ_DESC_F_WRITE);
        d.publish(q, 0);
      },
      /outside RAM/,
    ],
    [
      "buffer crossing the end of RAM",
      (d, q) => {
        d.desc(q.desc, 0, END - 8, 16, VIRTQ_DESC_F_WRITE);
        d.publish(q, 0);
      },
      /outside RAM/,
    ],
    [
      "buffer address above 4 GiB (64-bit address)",
      (d, q) => {
        d.desc(q.desc, 0, (1n << 32n) | BigInt(TEST_RAM_BASE), 16, VIRTQ_DESC_F_WRITE);
        d.publish(q, 0);
      },
      /outside RAM/,
    ],
    [
      "address + length wrapping past 2^64",
      (d, q) => {
        d.desc(q.desc, 0, 0xffff_ffff_ffff_fff0n, 0x20, VIRTQ_DESC_F_WRITE);
        d.publish(q, 0);
      },
      /outside RAM/,
    ],
    [
      "a loop in the chain (0 -> 1 -> 0)",
      (d, q) => {
        const a = d.alloc(8);
        d.desc(q.desc, 0, a, 8, VIRTQ_DESC_F_NEXT, 1);
        d.desc(q.desc, 1, a, 8, VIRTQ_DESC_F_NEXT, 0);
        d.publish(q, 0);
      },
      /loops/,
    ],
    [
      "a self loop",
      (d, q) => {
        d.desc(q.desc, 3, d.alloc(8), 8, VIRTQ_DESC_F_NEXT, 3);
        d.publish(q, 3);
      },
      /loops/,
    ],
    [
      "next index outside the table",
      (d, q) => {
        d.desc(q.desc, 0, d.alloc(8), 8, VIRTQ_DESC_F_NEXT, 8);
        d.publish(q, 0);
      },
      /index 8 is outside/,
    ],
    [
      "head index outside the table",
      (d, q) => {
        d.publish(q, 200);
      },
      /head descriptor 200/,
    ],
    [
      "available index more than a queue ahead",
      (d, q) => {
        d.setAvailIdx(q, 9);
      },
      /moved 9 entries ahead/,
    ],
    [
      "a loop inside an indirect table",
      (d, q) => {
        const t = d.alloc(32);
        const a = d.alloc(8);
        d.desc(t, 0, a, 8, VIRTQ_DESC_F_NEXT, 1);
        d.desc(t, 1, a, 8, VIRTQ_DESC_F_NEXT, 0);
        d.desc(q.desc, 0, t, 32, VIRTQ_DESC_F_INDIRECT);
        d.publish(q, 0);
      },
      /loops/,
    ],
    [
      "an indirect table inside an indirect table",
      (d, q) => {
        const t = d.alloc(16);
        d.desc(t, 0, t, 16, VIRTQ_DESC_F_INDIRECT);
        d.desc(q.desc, 0, t, 16, VIRTQ_DESC_F_INDIRECT);
        d.publish(q, 0);
      },
      /inside an indirect table/,
    ],
    [
      "INDIRECT together with NEXT",
      (d, q) => {
        const t = d.alloc(16);
        d.desc(t, 0, d.alloc(8), 8, VIRTQ_DESC_F_WRITE);
        d.desc(q.desc, 0, t, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
        d.publish(q, 0);
      },
      /with VIRTQ_DESC_F_NEXT/,
    ],
    [
      "indirect table length not a multiple of 16",
      (d, q) => {
        d.desc(q.desc, 0, d.alloc(32), 24, VIRTQ_DESC_F_INDIRECT);
        d.publish(q, 0);
      },
      /indirect table of 24 bytes/,
    ],
    [
      "indirect table outside RAM",
      (d, q) => {
        d.desc(q.desc, 0, END - 16, 32, VIRTQ_DESC_F_INDIRECT);
        d.publish(q, 0);
      },
      /indirect table outside RAM/,
    ],
    [
      "total length past 4 GiB (1024 entries of 4 MiB each)",
      (d, q) => {
        const t = d.alloc(16 * 1024);
        for (let i = 0; i < 1024; i++)
          d.desc(t, i, TEST_RAM_BASE, 4 << 20, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, i + 1);
        d.desc(t, 1023, TEST_RAM_BASE, 4 << 20, VIRTQ_DESC_F_WRITE);
        d.desc(q.desc, 0, t, 16 * 1024, VIRTQ_DESC_F_INDIRECT);
        d.publish(q, 0);
      },
      /longer than 4 GiB/,
    ],
    [
      "a device-readable buffer after a device-writable one",
      (d, q) => {
        d.desc(q.desc, 0, d.alloc(8), 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
        d.desc(q.desc, 1, d.alloc(8), 8, 0);
        d.publish(q, 0);
      },
      /readable buffer after a device-writable/,
    ],
  ];
  for (const [name, make, re] of cases) {
    test(name, () => {
      const { d, q0 } = setup();
      const before = d.ram.slice();
      make(d, q0);
      const made = d.ram.slice();
      d.kick(q0);
      assertBroken(d, re);
      // The device wrote nothing but avail_event (EVENT_IDX) and the used ring stayed empty.
      const availEvent = d.off(q0.used) + 4 + 8 * q0.num;
      for (let i = 0; i < d.ram.length; i++) {
        if (i === availEvent || i === availEvent + 1) continue;
        if (d.ram[i] !== made[i]) assert.fail(`RAM byte ${i} changed`);
      }
      assert.equal(d.dv.getUint16(d.off(q0.used) + 2, true), 0);
      assert.ok(before.length > 0);
      // Dead until reset: further kicks do nothing, a well-formed request gets no answer.
      d.submit(q0, [{ data: bytes(1) }, { len: 1, write: true }]);
      assert.equal(d.dv.getUint16(d.off(q0.used) + 2, true), 0);
      // Reset and renegotiate: it works again.
      d.init();
      assert.ok(!d.needsReset);
      const h = d.submit(d.queues[0]!, [{ data: bytes(4) }, { len: 1, write: true }]);
      assert.deepEqual(d.takeUsed(d.queues[0]!), [{ id: h, len: 1 }]);
    });
  }

  test("indirect descriptors when VIRTIO_F_INDIRECT_DESC was not negotiated", () => {
    const { d, q0 } = setup({ want: ~(1n << VIRTIO_F_INDIRECT_DESC) });
    d.submit(q0, [{ data: bytes(1) }, { len: 1, write: true }], { indirect: true });
    assertBroken(d, /without VIRTIO_F_INDIRECT_DESC/);
  });

  test("zero-length descriptors are skipped, not an error", () => {
    const { d, q0 } = setup();
    const h = d.submit(q0, [
      { data: bytes(3) },
      { len: 0, write: false },
      { len: 0, write: true },
      { len: 1, write: true },
    ]);
    assert.deepEqual(d.takeUsed(q0), [{ id: h, len: 1 }]);
    assert.ok(!d.needsReset);
  });
});

describe("snapshots", () => {
  test("a running transport and its queues round-trip through save/restore", () => {
    const { d, q0 } = setup();
    d.submit(q0, [{ data: bytes(1) }, { len: 1, write: true }]);
    d.takeUsed(q0);
    const saved = JSON.parse(JSON.stringify(d.t.save()));
    // A second machine with the same RAM contents continues where the first left off.
    const dev2 = new Echo();
    const d2 = new TestDriver(dev2);
    d2.ram.set(d.ram);
    d2.t.restore(saved);
    assert.deepEqual(d2.t.save(), d.t.save());
    assert.equal(d2.irqLevel, true);
    const q = { ...q0 };
    d2.queues[0] = q;
    const h = d2.submit(q, [{ data: bytes(5) }, { len: 1, write: true }]);
    assert.deepEqual(d2.takeUsed(q), [{ id: h, len: 1 }]);
    assert.throws(() => d2.t.restore({ ...saved, version: 2 }), RangeError);
    assert.throws(() => d2.t.restore({ ...saved, queues: [] }), RangeError);
  });
});

describe("fuzz", () => {
  test("random descriptor tables and ring indices never throw, and all device writes stay in RAM", (t) => {
    let seed = 0x1234_5678;
    const rnd = (n: number) => {
      seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
      return seed % n;
    };
    const iterations = Number(process.env.POPEK_FUZZ_ITERATIONS ?? 100_000);
    const ram = 1 << 20;
    const { d } = setup({ ram });
    let q0 = d.queues[0]!;
    let broken = 0;
    let served = 0;
    const addr = () => {
      const r = rnd(10);
      if (r === 0) return BigInt(rnd(0x1_0000_0000));
      if (r === 1) return (BigInt(rnd(0x10000)) << 48n) | BigInt(rnd(0x1_0000_0000));
      return BigInt(TEST_RAM_BASE + rnd(ram + 64) - 32);
    };
    for (let it = 0; it < iterations; it++) {
      if (d.needsReset || rnd(200) === 0) {
        if (d.needsReset) broken++;
        d.init();
        q0 = d.queues[0]!;
      }
      const mode = rnd(3);
      if (mode === 0) {
        // A well-formed chain, direct or indirect.
        const bufs = Array.from({ length: 1 + rnd(4) }, (_, k) => ({ len: 1 + rnd(64), write: k > 0 && rnd(2) === 0 }));
        bufs.sort((a, b) => Number(a.write) - Number(b.write));
        d.submit(q0, bufs, { indirect: rnd(2) === 0, kick: false });
      } else if (mode === 1) {
        // A well-formed chain with one field of one descriptor replaced by a random value.
        const head = d.submit(q0, [{ len: 8 }, { len: 8, write: true }], { indirect: rnd(2) === 0, kick: false });
        const table = rnd(2) === 0 ? q0.desc : Number(d.dv.getBigUint64(d.off(q0.desc) + 16 * head, true));
        const e = d.off(table) + 16 * rnd(2);
        if (e >= 0 && e + 16 <= d.ram.length) {
          const field = rnd(4);
          if (field === 0) d.dv.setBigUint64(e, addr(), true);
          else if (field === 1) d.dv.setUint32(e + 8, rnd(2) ? rnd(0x1_0000_0000) : rnd(0x1000), true);
          else if (field === 2) d.dv.setUint16(e + 12, rnd(8), true);
          else d.dv.setUint16(e + 14, rnd(2) ? rnd(0x10000) : rnd(q0.num), true);
        }
      } else {
        // Random descriptors anywhere in the table (and random indirect tables), then a random head or index.
        const n = 1 + rnd(4);
        for (let k = 0; k < n; k++) {
          const i = rnd(q0.num);
          const flags = rnd(8);
          const len = rnd(4) === 0 ? rnd(0x1_0000_0000) : rnd(64);
          d.desc(q0.desc, i, addr(), len, flags, rnd(4) === 0 ? rnd(0x10000) : rnd(q0.num));
          if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0 && rnd(2) === 0) {
            const t = TEST_RAM_BASE + 0x8000 + 16 * rnd(256);
            d.desc(q0.desc, i, t, 16 * (1 + rnd(8)), flags, 0);
            for (let j = 0; j < 8; j++) d.desc(t, j, addr(), rnd(64), rnd(8), rnd(10));
          }
        }
        if (rnd(20) === 0) d.setAvailIdx(q0, rnd(0x10000));
        else d.publish(q0, rnd(20) === 0 ? rnd(0x10000) : rnd(q0.num));
      }
      d.kick(q0);
      served += d.takeUsed(q0).length;
      d.ack();
    }
    t.diagnostic(`${iterations} iterations: ${served} chains served, ${broken} resets after DEVICE_NEEDS_RESET`);
    assert.ok(broken > 0 && served > 0, `broken ${broken}, served ${served}`);
  });
});

describe("in the virt machine", () => {
  test("slot 7 answers at 0x1000_8000 on PLIC source 8; DMA lands in guest RAM; a machine reset resets the device", () => {
    const MiB = 1 << 20;
    const kernel = new Uint8Array(64);
    const dv = new DataView(kernel.buffer);
    dv.setUint32(0, 0x0000006f, true); // j .
    dv.setBigUint64(8, 0x20_0000n, true);
    dv.setBigUint64(16, BigInt(MiB), true);
    dv.setUint32(56, 0x05435352, true);
    const dev = new Echo();
    let t: VirtioMmio | null = null;
    const virtio = new Array(8).fill(undefined);
    virtio[7] = virtioMmio(dev, { onCreate: (x) => (t = x) });
    const m = new VirtMachine({ ramSize: 64 * MiB, harts: 1, kernel, virtio }, { onOutput: () => {} });
    const base = 0x1000_8000;
    const r = (off: number) => m.bus.read(base + off, 4);
    const w = (off: number, v: number) => m.bus.write(base + off, 4, v);
    assert.equal(r(MMIO.MagicValue), 0x74726976);
    assert.equal(r(MMIO.DeviceID), 42);
    assert.equal(m.bus.read(0x1000_1000 + MMIO.DeviceID, 4), 0, "other slots stay empty");
    assert.deepEqual(m.virtio, [t]);
    // Negotiate and set up queue 0 in guest RAM at 0x8100_0000 through the bus, as a driver would.
    w(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    w(MMIO.DriverFeaturesSel, 1);
    w(MMIO.DriverFeatures, 1);
    w(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
    const ram = new DataView(m.memory.buffer, RAM_OFFSET, 64 * MiB);
    const desc = 0x8100_0000;
    const avail = desc + 0x1000;
    const used = desc + 0x2000;
    w(MMIO.QueueSel, 0);
    w(MMIO.QueueNum, 8);
    w(MMIO.QueueDescLow, desc);
    w(MMIO.QueueDriverLow, avail);
    w(MMIO.QueueDeviceLow, used);
    w(MMIO.QueueReady, 1);
    w(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK);
    const off = (a: number) => a - 0x8000_0000;
    ram.setUint32(off(0x8100_4000), 0xcafef00d, true);
    ram.setBigUint64(off(desc), 0x8100_4000n, true);
    ram.setUint32(off(desc) + 8, 4, true);
    ram.setUint16(off(desc) + 12, VIRTQ_DESC_F_NEXT, true);
    ram.setUint16(off(desc) + 14, 1, true);
    ram.setBigUint64(off(desc) + 16, 0x8100_5000n, true);
    ram.setUint32(off(desc) + 24, 4, true);
    ram.setUint16(off(desc) + 28, VIRTQ_DESC_F_WRITE, true);
    ram.setUint16(off(avail) + 4, 0, true);
    ram.setUint16(off(avail) + 2, 1, true);
    w(MMIO.QueueNotify, 0);
    assert.equal(ram.getUint32(off(0x8100_5000), true), 0xcafef00d, "the device wrote guest RAM");
    assert.equal(ram.getUint16(off(used) + 2, true), 1);
    assert.equal(m.bus.read(0x0c00_1000, 4) & (1 << 8), 1 << 8, "PLIC source 8 pending");
    w(MMIO.InterruptACK, INT_VRING);
    assert.equal(m.bus.read(0x0c00_1000, 4) & (1 << 8), 0);
    m.reset();
    assert.equal(r(MMIO.Status), 0);
    assert.equal(dev.resets, 2);
  });
});
