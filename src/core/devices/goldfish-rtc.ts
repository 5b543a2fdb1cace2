/**
 * Goldfish RTC as QEMU 7.2 virt has it at 0x0010_1000 (PLIC source 11), after Android's GOLDFISH-VIRTUAL-HARDWARE.TXT
 * and QEMU's hw/rtc/goldfish_rtc.c: a 64-bit nanosecond count of wall-clock time, one alarm, one interrupt. Registers
 * are 32-bit; other sizes read 0 and are ignored (QEMU faults them). The count starts at the whole second of the
 * wall clock when the device is created, as QEMU's does.
 */
import type { MmioDevice } from "../mem/bus.ts";
import type { IrqLine } from "../mem/irq.ts";

/** Bytes the RTC occupies on the virt board (its registers use the first 0x24). */
export const RTC_SIZE = 0x1000;

/** Time in ns, low half; reading it latches the high half into TIME_HIGH. */
const TIME_LOW = 0x00;
/** Time in ns, high half as latched by the last TIME_LOW read; writing sets the count's high half. */
const TIME_HIGH = 0x04;
/** Alarm time in ns, low half; writing it arms the alarm (write ALARM_HIGH first). */
const ALARM_LOW = 0x08;
/** Alarm time, high half. */
const ALARM_HIGH = 0x0c;
/** Bit 0 enables the interrupt. */
const IRQ_ENABLED = 0x10;
/** Any write disarms the alarm. */
const CLEAR_ALARM = 0x14;
/** Reads 1 while the alarm is armed. */
const ALARM_STATUS = 0x18;
/** Any write clears the pending interrupt. */
const CLEAR_INTERRUPT = 0x1c;

const MASK32 = 0xffff_ffffn;
const NS_PER_S = 1_000_000_000n;

/** Wall-clock time in nanoseconds since the Unix epoch. */
export interface WallClock {
  nowNs(): bigint;
}

/** The host's wall clock: `Date.now()` once, then advanced by `performance.now()` so it is monotonic and sub-ms. */
export class HostWallClock implements WallClock {
  private readonly baseNs: bigint;
  private readonly t0: number;

  constructor() {
    this.baseNs = BigInt(Date.now()) * 1_000_000n;
    this.t0 = performance.now();
  }

  nowNs(): bigint {
    return this.baseNs + BigInt(Math.round((performance.now() - this.t0) * 1e6));
  }
}

/** A wall clock that moves only when told to, for tests. */
export class ManualWallClock implements WallClock {
  ns: bigint;

  constructor(ns = 0n) {
    this.ns = ns;
  }

  nowNs(): bigint {
    return this.ns;
  }

  advance(ns: bigint): void {
    this.ns += ns;
  }
}

/** Saved RTC state (STYLE.md rule 8). `tickOffset` is relative to the wall clock, so the guest's time stays true. */
export interface GoldfishRtcState {
  readonly version: 1;
  readonly tickOffset: bigint;
  readonly alarmNext: bigint;
  readonly alarmRunning: boolean;
  /** Wall-clock time (WallClock units) at which a running alarm fires. */
  readonly alarmAt: bigint;
  readonly irqPending: boolean;
  readonly irqEnabled: boolean;
  readonly timeHigh: number;
}

export class GoldfishRtc implements MmioDevice {
  readonly name = "goldfish-rtc";
  private readonly irq: IrqLine;
  private readonly clock: WallClock;
  /** count = clock.nowNs() + tickOffset (mod 2^64). */
  private tickOffset: bigint;
  private alarmNext = 0n;
  private alarmRunning = false;
  private alarmAt = 0n;
  private irqPending = false;
  private irqEnabled = false;
  private timeHigh = 0;

  constructor(irq: IrqLine, clock: WallClock) {
    this.irq = irq;
    this.clock = clock;
    const now = clock.nowNs();
    this.tickOffset = (now / NS_PER_S) * NS_PER_S - now;
  }

  /** The RTC's count: nanoseconds since the epoch as the guest sees them. */
  count(): bigint {
    return BigInt.asUintN(64, this.clock.nowNs() + this.tickOffset);
  }

  /** Fire the alarm if its time has come. Call from the run loop between slices. */
  poll(): void {
    if (this.alarmRunning && this.clock.nowNs() >= this.alarmAt) this.fire();
  }

  /** Wall-clock time (WallClock units) at which the running alarm fires, or null when none is running. */
  nextDeadline(): bigint | null {
    return this.alarmRunning ? this.alarmAt : null;
  }

  /** Host milliseconds until `nextDeadline()` (0 when already due), or null when no alarm is running. */
  msUntilDeadline(): number | null {
    if (!this.alarmRunning) return null;
    const now = this.clock.nowNs();
    return this.alarmAt <= now ? 0 : Number(this.alarmAt - now) / 1e6;
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4) return 0;
    switch (offset) {
      case TIME_LOW: {
        const c = this.count();
        this.timeHigh = Number(c >> 32n);
        return Number(c & MASK32);
      }
      case TIME_HIGH:
        return this.timeHigh;
      case ALARM_LOW:
        return Number(this.alarmNext & MASK32);
      case ALARM_HIGH:
        return Number(this.alarmNext >> 32n);
      case IRQ_ENABLED:
        return this.irqEnabled ? 1 : 0;
      case ALARM_STATUS:
        return this.alarmRunning ? 1 : 0;
      default:
        return 0;
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4) return;
    const v = BigInt(value >>> 0);
    switch (offset) {
      case TIME_LOW:
      case TIME_HIGH: {
        const cur = this.count();
        const next = offset === TIME_LOW ? (cur & ~MASK32) | v : (v << 32n) | (cur & MASK32);
        this.tickOffset = BigInt.asUintN(64, this.tickOffset + next - cur);
        break;
      }
      case ALARM_LOW:
        this.alarmNext = (this.alarmNext & ~MASK32) | v;
        this.setAlarm();
        break;
      case ALARM_HIGH:
        this.alarmNext = (v << 32n) | (this.alarmNext & MASK32);
        break;
      case IRQ_ENABLED:
        this.irqEnabled = (value & 1) !== 0;
        this.update();
        break;
      case CLEAR_ALARM:
        this.alarmRunning = false;
        break;
      case CLEAR_INTERRUPT:
        this.irqPending = false;
        this.update();
        break;
      default:
        break;
    }
  }

  /** QEMU's goldfish_rtc_reset: alarm and interrupt state cleared; the count keeps running. */
  reset(): void {
    this.alarmNext = 0n;
    this.alarmRunning = false;
    this.irqPending = false;
    this.irqEnabled = false;
    this.update();
  }

  save(): GoldfishRtcState {
    return {
      version: 1,
      tickOffset: this.tickOffset,
      alarmNext: this.alarmNext,
      alarmRunning: this.alarmRunning,
      alarmAt: this.alarmAt,
      irqPending: this.irqPending,
      irqEnabled: this.irqEnabled,
      timeHigh: this.timeHigh,
    };
  }

  /**
   * Restore a saved state and drive the interrupt line to match. A running alarm keeps its wall-clock deadline and
   * fires at the next `poll()` if that has passed. (QEMU's post_load re-arms even a stopped alarm, firing it again if
   * its time has passed; popek does not.)
   */
  restore(s: GoldfishRtcState): void {
    if (s.version !== 1) throw new RangeError(`unknown goldfish RTC state version ${s.version}`);
    this.tickOffset = BigInt.asUintN(64, s.tickOffset);
    this.alarmNext = BigInt.asUintN(64, s.alarmNext);
    this.alarmRunning = s.alarmRunning;
    this.alarmAt = s.alarmAt;
    this.irqPending = s.irqPending;
    this.irqEnabled = s.irqEnabled;
    this.timeHigh = s.timeHigh >>> 0;
    this.update();
  }

  /** QEMU's goldfish_rtc_set_alarm: fire now if the alarm time has passed, else arm it at that wall-clock time. */
  private setAlarm(): void {
    if (this.alarmNext <= this.count()) {
      this.fire();
    } else {
      // The deadline is fixed in wall-clock terms now; a later TIME write does not move it (as QEMU's timer_mod).
      this.alarmAt = BigInt.asUintN(64, this.alarmNext - this.tickOffset);
      this.alarmRunning = true;
    }
  }

  private fire(): void {
    this.alarmRunning = false;
    this.irqPending = true;
    this.update();
  }

  private update(): void {
    this.irq.set(this.irqPending && this.irqEnabled);
  }
}
