// CLINT: msip, mtimecmp and mtime at QEMU 7.2 virt offsets, MTIP/MSIP driven through HartIrq, deadlines, snapshots.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type HartIrq, Mip } from "../mem/irq.ts";
import { Clint, type ClintState, HostClock, ManualClock, TIMEBASE_FREQ } from "./clint.ts";

/** A hart that records its mip bits and how often each was driven. */
class FakeHart implements HartIrq {
  mip = 0;
  calls = 0;
  setPending(bit: number, level: boolean): void {
    this.calls++;
    this.mip = level ? this.mip | (1 << bit) : this.mip & ~(1 << bit);
  }
  has(bit: number): boolean {
    return (this.mip & (1 << bit)) !== 0;
  }
}

const MSIP = 0x0;
const MTIMECMP = 0x4000;
const MTIME = 0xbff8;

function setup(harts = 2, start = 0n) {
  const hs = Array.from({ length: harts }, () => new FakeHart());
  const clock = new ManualClock(start);
  const clint = new Clint(hs, clock);
  return { hs, clock, clint };
}

/** A 64-bit store as the bus performs it: two 4-byte writes, low half first. */
function write64(clint: Clint, offset: number, v: bigint): void {
  clint.write(offset, 4, Number(v & 0xffff_ffffn));
  clint.write(offset + 4, 4, Number(v >> 32n));
}

function read64(clint: Clint, offset: number): bigint {
  const lo = BigInt(clint.read(offset, 4));
  return (BigInt(clint.read(offset + 4, 4)) << 32n) | lo;
}

describe("msip", () => {
  test("bit 0 drives MSIP on its own hart and reads back", () => {
    const { hs, clint } = setup(2);
    clint.write(MSIP + 4, 4, 1);
    assert.equal(hs[1]!.has(Mip.MSIP), true);
    assert.equal(hs[0]!.has(Mip.MSIP), false);
    assert.equal(clint.read(MSIP + 4, 4), 1);
    assert.equal(clint.read(MSIP, 4), 0);
    clint.write(MSIP + 4, 4, 0xffff_fffe); // bit 0 clear: lowers
    assert.equal(hs[1]!.has(Mip.MSIP), false);
    assert.equal(clint.read(MSIP + 4, 4), 0);
  });

  test("registers past the last hart, sub-word and misaligned accesses are ignored", () => {
    const { hs, clint } = setup(2);
    clint.write(MSIP + 8, 4, 1);
    clint.write(MSIP, 1, 1);
    clint.write(MSIP, 2, 1);
    clint.write(MSIP + 2, 4, 1);
    assert.equal(hs[0]!.calls + hs[1]!.calls, 0);
    assert.equal(clint.read(MSIP + 8, 4), 0);
    clint.write(MSIP, 4, 1);
    assert.equal(clint.read(MSIP, 1), 0);
    assert.equal(clint.read(MSIP, 4), 1);
  });
});

describe("mtime", () => {
  test("follows the clock, both halves", () => {
    const { clock, clint } = setup(1, 0x1_2345_6789n);
    assert.equal(read64(clint, MTIME), 0x1_2345_6789n);
    assert.equal(clint.mtime(), 0x1_2345_6789n);
    clock.advance(0xffff_ffffn);
    assert.equal(read64(clint, MTIME), 0x2_2345_6788n);
  });

  test("writes set the counter, which keeps counting from there", () => {
    const { clock, clint } = setup(1, 500n);
    write64(clint, MTIME, 0x7_0000_0010n);
    assert.equal(clint.mtime(), 0x7_0000_0010n);
    clock.advance(5n);
    assert.equal(read64(clint, MTIME), 0x7_0000_0015n);
    clint.write(MTIME + 4, 4, 1); // high half only
    assert.equal(clint.mtime(), 0x1_0000_0015n);
    clint.write(MTIME, 4, 0); // low half only
    assert.equal(clint.mtime(), 0x1_0000_0000n);
  });

  test("wraps modulo 2^64", () => {
    const { clock, clint } = setup(1);
    write64(clint, MTIME, 0xffff_ffff_ffff_fffen);
    clock.advance(3n);
    assert.equal(clint.mtime(), 1n);
  });

  test("HostClock counts 10 MHz ticks of its source", () => {
    let ms = 1000;
    const c = new HostClock(() => ms);
    assert.equal(c.now(), 0n);
    ms += 1.5;
    assert.equal(c.now(), 15_000n);
    ms += 1000;
    assert.equal(c.now(), BigInt(TIMEBASE_FREQ) + 15_000n);
    const real = new HostClock();
    assert.ok(real.now() >= 0n);
  });
});

describe("mtimecmp and MTIP", () => {
  test("a fresh CLINT has mtimecmp 0, MTIP low and nothing armed (QEMU 7.2)", () => {
    const { hs, clint, clock } = setup(2, 1000n);
    assert.equal(read64(clint, MTIMECMP), 0n);
    assert.equal(clint.nextDeadline(), null);
    assert.equal(clint.msUntilDeadline(), null);
    clock.advance(10n);
    clint.poll();
    assert.equal(hs[0]!.has(Mip.MTIP), false);
  });

  test("a future compare arms a deadline that poll() raises when reached", () => {
    const { hs, clint, clock } = setup(2, 100n);
    write64(clint, MTIMECMP + 8, 150n); // hart 1
    assert.equal(read64(clint, MTIMECMP + 8), 150n);
    assert.equal(hs[1]!.has(Mip.MTIP), false);
    assert.equal(clint.nextDeadline(), 150n);
    assert.equal(clint.msUntilDeadline(), 50 / 10_000);
    clock.advance(49n);
    clint.poll();
    assert.equal(hs[1]!.has(Mip.MTIP), false);
    clock.advance(1n);
    assert.equal(clint.msUntilDeadline(), 0);
    clint.poll();
    assert.equal(hs[1]!.has(Mip.MTIP), true);
    assert.equal(hs[0]!.has(Mip.MTIP), false);
    assert.equal(clint.nextDeadline(), null);
  });

  test("a compare in the past raises at once; a later future one lowers", () => {
    const { hs, clint } = setup(1, 1000n);
    write64(clint, MTIMECMP, 1000n);
    assert.equal(hs[0]!.has(Mip.MTIP), true);
    write64(clint, MTIMECMP, 2000n);
    assert.equal(hs[0]!.has(Mip.MTIP), false);
    assert.equal(clint.nextDeadline(), 2000n);
  });

  test("writing all ones (low half first) ends with MTIP low and nothing due", () => {
    const { hs, clint } = setup(1, 1000n);
    write64(clint, MTIMECMP, 10n);
    assert.equal(hs[0]!.has(Mip.MTIP), true);
    write64(clint, MTIMECMP, 0xffff_ffff_ffff_ffffn);
    assert.equal(hs[0]!.has(Mip.MTIP), false);
    assert.equal(read64(clint, MTIMECMP), 0xffff_ffff_ffff_ffffn);
    assert.equal(clint.nextDeadline(), 0xffff_ffff_ffff_ffffn);
  });

  test("compare halves are written independently", () => {
    const { clint } = setup(1, 0n);
    write64(clint, MTIMECMP, 0x1111_1111_2222_2222n);
    clint.write(MTIMECMP, 4, 0x3333_3333);
    assert.equal(read64(clint, MTIMECMP), 0x1111_1111_3333_3333n);
    clint.write(MTIMECMP + 4, 4, 0x4444_4444);
    assert.equal(read64(clint, MTIMECMP), 0x4444_4444_3333_3333n);
  });

  test("writing mtime re-evaluates every hart, including unarmed ones", () => {
    const { hs, clint } = setup(2, 0n);
    write64(clint, MTIMECMP, 1000n);
    write64(clint, MTIME, 2000n);
    assert.equal(hs[0]!.has(Mip.MTIP), true);
    assert.equal(hs[1]!.has(Mip.MTIP), true); // mtimecmp 0 <= 2000
    write64(clint, MTIMECMP, 5000n);
    write64(clint, MTIME, 10n);
    assert.equal(hs[0]!.has(Mip.MTIP), false);
    assert.equal(clint.nextDeadline(), 5000n);
  });

  test("the earliest of several deadlines is reported", () => {
    const { clint } = setup(3, 0n);
    write64(clint, MTIMECMP, 900n);
    write64(clint, MTIMECMP + 8, 300n);
    write64(clint, MTIMECMP + 16, 600n);
    assert.equal(clint.nextDeadline(), 300n);
  });

  test("compare registers past the last hart and outside the windows read 0 and ignore writes", () => {
    const { hs, clint } = setup(1, 0n);
    write64(clint, MTIMECMP + 8, 5n);
    assert.equal(read64(clint, MTIMECMP + 8), 0n);
    assert.equal(hs[0]!.calls, 0);
    assert.equal(clint.read(0xc000, 4), 0);
    assert.equal(clint.read(0xbff0, 4), 0);
  });
});

describe("reset and snapshots", () => {
  test("reset clears msip and mtimecmp and lowers both lines; mtime keeps going", () => {
    const { hs, clint } = setup(1, 50n);
    clint.write(MSIP, 4, 1);
    write64(clint, MTIMECMP, 10n);
    clint.reset();
    assert.equal(hs[0]!.mip, 0);
    assert.equal(read64(clint, MTIMECMP), 0n);
    assert.equal(clint.nextDeadline(), null);
    assert.equal(clint.mtime(), 50n);
  });

  test("save then restore into a new CLINT on another clock resumes mtime and re-drives the lines", () => {
    const a = setup(2, 12_345n);
    a.clint.write(MSIP + 4, 4, 1);
    write64(a.clint, MTIMECMP, 100n); // due: MTIP high on hart 0
    write64(a.clint, MTIMECMP + 8, 20_000n); // armed on hart 1
    const saved: ClintState = a.clint.save();
    assert.equal(saved.version, 1);
    assert.equal(saved.mtime, 12_345n);
    const copy = JSON.parse(
      JSON.stringify(saved, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)),
      (_k, v) => (typeof v === "string" && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v),
    ) as ClintState;

    const b = setup(2, 999_999n);
    b.clint.restore(copy);
    assert.equal(b.clint.mtime(), 12_345n);
    assert.equal(b.hs[0]!.has(Mip.MTIP), true);
    assert.equal(b.hs[1]!.has(Mip.MSIP), true);
    assert.equal(b.hs[1]!.has(Mip.MTIP), false);
    assert.equal(b.clint.nextDeadline(), 20_000n);
    b.clock.advance(20_000n - 12_345n);
    b.clint.poll();
    assert.equal(b.hs[1]!.has(Mip.MTIP), true);
    assert.deepEqual(b.clint.save(), { ...saved, mtime: 20_000n, armed: [false, false], mtip: [true, true] });
  });

  test("restore refuses a state for another hart count or version", () => {
    const a = setup(2);
    const b = setup(1);
    assert.throws(() => b.clint.restore(a.clint.save()), RangeError);
    assert.throws(() => a.clint.restore({ ...a.clint.save(), version: 2 as 1 }), RangeError);
  });

  test("hart count is checked", () => {
    assert.throws(() => new Clint([], new ManualClock()), RangeError);
  });
});
