// Goldfish RTC: wall-clock count in ns, TIME_HIGH latching, alarm and interrupt as QEMU 7.2, snapshots.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { IrqLine } from "../mem/irq.ts";
import { GoldfishRtc, type GoldfishRtcState, HostWallClock, ManualWallClock } from "./goldfish-rtc.ts";

const TIME_LOW = 0x00;
const TIME_HIGH = 0x04;
const ALARM_LOW = 0x08;
const ALARM_HIGH = 0x0c;
const IRQ_ENABLED = 0x10;
const CLEAR_ALARM = 0x14;
const ALARM_STATUS = 0x18;
const CLEAR_INTERRUPT = 0x1c;

class Line implements IrqLine {
  level = false;
  calls = 0;
  set(level: boolean): void {
    this.level = level;
    this.calls++;
  }
}

/** 2023-11-14T22:13:20.123456789Z */
const START = 1_700_000_000_123_456_789n;
const START_S = 1_700_000_000_000_000_000n;

function setup(start = START) {
  const line = new Line();
  const clock = new ManualWallClock(start);
  return { line, clock, rtc: new GoldfishRtc(line, clock) };
}

function readTime(rtc: GoldfishRtc): bigint {
  const lo = BigInt(rtc.read(TIME_LOW, 4));
  return (BigInt(rtc.read(TIME_HIGH, 4)) << 32n) | lo;
}

function setAlarm(rtc: GoldfishRtc, t: bigint): void {
  rtc.write(ALARM_HIGH, 4, Number(t >> 32n));
  rtc.write(ALARM_LOW, 4, Number(t & 0xffff_ffffn));
}

describe("time", () => {
  test("starts at the whole second of the wall clock and advances with it", () => {
    const { rtc, clock } = setup();
    assert.equal(readTime(rtc), START_S);
    clock.advance(1_500n);
    assert.equal(readTime(rtc), START_S + 1_500n);
    assert.equal(rtc.count(), START_S + 1_500n);
  });

  test("TIME_HIGH is the half latched by the last TIME_LOW read", () => {
    const { rtc, clock } = setup(4_000_000_005n); // the count starts at 4 s = 4_000_000_000 ns, below 2^32
    assert.equal(rtc.read(TIME_HIGH, 4), 0);
    assert.equal(rtc.read(TIME_LOW, 4), 4_000_000_000);
    assert.equal(rtc.read(TIME_HIGH, 4), 0);
    clock.advance(1_000_000_000n); // 5e9 ns: past 2^32
    assert.equal(rtc.read(TIME_HIGH, 4), 0); // still the old latch
    assert.equal(rtc.read(TIME_LOW, 4), 5_000_000_000 - 2 ** 32);
    assert.equal(rtc.read(TIME_HIGH, 4), 1);
  });

  test("writing TIME_LOW or TIME_HIGH sets that half of the count, which keeps running", () => {
    const { rtc, clock } = setup();
    rtc.write(TIME_HIGH, 4, 0x10);
    rtc.write(TIME_LOW, 4, 0x20);
    assert.equal(readTime(rtc), 0x10_0000_0020n);
    clock.advance(7n);
    assert.equal(readTime(rtc), 0x10_0000_0027n);
  });

  test("HostWallClock is close to Date.now() and never goes backwards", () => {
    const c = new HostWallClock();
    const a = c.nowNs();
    const b = c.nowNs();
    assert.ok(b >= a);
    const diffMs = Number(a / 1_000_000n) - Date.now();
    assert.ok(Math.abs(diffMs) < 1000, `HostWallClock is ${diffMs} ms off`);
    const real = new GoldfishRtc({ set: () => {} }, c);
    assert.ok(real.count() > START_S);
  });

  test("unknown offsets read 0; sub-word accesses are ignored", () => {
    const { rtc } = setup();
    assert.equal(rtc.read(0x20, 4), 0);
    assert.equal(rtc.read(0x800, 4), 0);
    assert.equal(rtc.read(TIME_LOW, 2), 0);
    rtc.write(IRQ_ENABLED, 1, 1);
    assert.equal(rtc.read(IRQ_ENABLED, 4), 0);
  });
});

describe("alarm and interrupt", () => {
  test("a future alarm runs, fires on poll() when due, and interrupts only when enabled", () => {
    const { rtc, clock, line } = setup();
    setAlarm(rtc, START_S + 1_000_000n);
    assert.equal(rtc.read(ALARM_STATUS, 4), 1);
    assert.equal(rtc.read(ALARM_LOW, 4), Number((START_S + 1_000_000n) & 0xffff_ffffn));
    assert.equal(rtc.read(ALARM_HIGH, 4), Number((START_S + 1_000_000n) >> 32n));
    // The count started 123_456_789 ns behind the wall clock, so the alarm is due at this wall-clock time:
    assert.equal(rtc.nextDeadline(), START + 1_000_000n);
    assert.equal(rtc.msUntilDeadline(), 1);
    clock.advance(999_999n);
    rtc.poll();
    assert.equal(rtc.read(ALARM_STATUS, 4), 1);
    clock.advance(1n);
    assert.equal(rtc.msUntilDeadline(), 0);
    rtc.poll();
    assert.equal(rtc.read(ALARM_STATUS, 4), 0);
    assert.equal(rtc.nextDeadline(), null);
    assert.equal(rtc.msUntilDeadline(), null);
    assert.equal(line.level, false); // pending but not enabled
    rtc.write(IRQ_ENABLED, 4, 3);
    assert.equal(rtc.read(IRQ_ENABLED, 4), 1);
    assert.equal(line.level, true);
    rtc.write(CLEAR_INTERRUPT, 4, 0);
    assert.equal(line.level, false);
  });

  test("an alarm at or before the count fires at once", () => {
    const { rtc, line } = setup();
    rtc.write(IRQ_ENABLED, 4, 1);
    setAlarm(rtc, START_S);
    assert.equal(line.level, true);
    assert.equal(rtc.read(ALARM_STATUS, 4), 0);
  });

  test("only ALARM_LOW arms: a lone ALARM_HIGH write just stores", () => {
    const { rtc } = setup();
    rtc.write(ALARM_HIGH, 4, 0xffff_ffff);
    assert.equal(rtc.read(ALARM_STATUS, 4), 0);
    assert.equal(rtc.read(ALARM_HIGH, 4), 0xffff_ffff);
  });

  test("CLEAR_ALARM disarms", () => {
    const { rtc, clock, line } = setup();
    rtc.write(IRQ_ENABLED, 4, 1);
    setAlarm(rtc, START_S + 10n);
    rtc.write(CLEAR_ALARM, 4, 1);
    assert.equal(rtc.read(ALARM_STATUS, 4), 0);
    clock.advance(1_000n);
    rtc.poll();
    assert.equal(line.level, false);
  });

  test("setting the time does not move a running alarm's wall-clock deadline (QEMU)", () => {
    const { rtc, clock, line } = setup();
    rtc.write(IRQ_ENABLED, 4, 1);
    setAlarm(rtc, START_S + 100n);
    rtc.write(TIME_HIGH, 4, 0xffff); // far future count
    assert.equal(rtc.nextDeadline(), START + 100n);
    clock.advance(99n);
    rtc.poll();
    assert.equal(line.level, false);
    clock.advance(1n);
    rtc.poll();
    assert.equal(line.level, true);
  });
});

describe("reset and snapshots", () => {
  test("reset clears alarm and interrupt; time keeps running", () => {
    const { rtc, line } = setup();
    rtc.write(IRQ_ENABLED, 4, 1);
    setAlarm(rtc, 0n);
    assert.equal(line.level, true);
    setAlarm(rtc, START_S + 5n);
    rtc.reset();
    assert.equal(line.level, false);
    assert.equal(rtc.read(ALARM_STATUS, 4), 0);
    assert.equal(rtc.read(ALARM_LOW, 4), 0);
    assert.equal(rtc.read(IRQ_ENABLED, 4), 0);
    assert.equal(readTime(rtc), START_S);
  });

  test("save and restore keep guest time tied to the wall clock and keep a running alarm", () => {
    const a = setup();
    a.rtc.write(IRQ_ENABLED, 4, 1);
    a.rtc.write(TIME_HIGH, 4, 0x1234); // the guest set its clock
    setAlarm(a.rtc, a.rtc.count() + 1_000n);
    a.rtc.read(TIME_LOW, 4);
    const saved: GoldfishRtcState = a.rtc.save();
    assert.equal(saved.version, 1);
    const countAtSave = a.rtc.count();

    const b = setup(START + 500n); // restored half a microsecond later in wall-clock time
    b.rtc.restore(saved);
    assert.equal(b.rtc.count(), countAtSave + 500n);
    assert.equal(b.rtc.read(TIME_HIGH, 4), a.rtc.read(TIME_HIGH, 4));
    assert.equal(b.rtc.read(ALARM_STATUS, 4), 1);
    assert.equal(b.line.level, false);
    b.clock.advance(500n);
    b.rtc.poll();
    assert.equal(b.line.level, true);
    assert.deepEqual(b.rtc.save(), { ...saved, alarmRunning: false, irqPending: true });
  });

  test("restore of a fired, cleared alarm does not fire it again", () => {
    const a = setup();
    a.rtc.write(IRQ_ENABLED, 4, 1);
    setAlarm(a.rtc, 1n);
    a.rtc.write(CLEAR_INTERRUPT, 4, 0);
    const b = setup();
    b.rtc.restore(a.rtc.save());
    b.rtc.poll();
    assert.equal(b.line.level, false);
    assert.throws(() => b.rtc.restore({ ...a.rtc.save(), version: 0 as 1 }), RangeError);
  });
});
