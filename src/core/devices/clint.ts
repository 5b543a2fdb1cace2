/**
 * SiFive CLINT as QEMU 7.2 virt maps it at 0x0200_0000 (size 0x1_0000): an ACLINT MSWI at +0x0 (msip, one 32-bit
 * word per hart) and an ACLINT MTIMER at +0x4000 (mtimecmp, 8 bytes per hart; mtime at +0xbff8), riscv-aclint spec
 * 1.0 chapters 2 and 3. mtime counts at 10 MHz from a `Clock`. Accesses are 4 bytes (the bus splits 8-byte ones);
 * 1- and 2-byte accesses, which QEMU faults, read 0 and are ignored here. Not modelled: the ACLINT SSWI (virt's
 * `aclint=on`), reset of mtime.
 */
import type { MmioDevice } from "../mem/bus.ts";
import { type HartIrq, Mip } from "../mem/irq.ts";

/** mtime ticks per second (QEMU's RISCV_ACLINT_DEFAULT_TIMEBASE_FREQ; the device tree's timebase-frequency). */
export const TIMEBASE_FREQ = 10_000_000;
/** Bytes the CLINT occupies on the virt board. */
export const CLINT_SIZE = 0x10000;
/** Machine software interrupt pending, one 32-bit register per hart (bit 0 is MSIP). */
const MSIP = 0x0000;
/** End of the MSWI window (ACLINT SWI size). */
const MSWI_END = 0x4000;
/** Machine timer compare, one 64-bit register per hart. */
const MTIMECMP = 0x4000;
/** Machine time counter (64 bits). */
const MTIME = 0xbff8;

const MASK32 = 0xffff_ffffn;

/** A monotonic time source counting mtime ticks (TIMEBASE_FREQ per second). */
export interface Clock {
  now(): bigint;
}

/** The host's monotonic clock (`performance.now()`), counting from zero at construction. */
export class HostClock implements Clock {
  private readonly origin: number;
  private readonly source: () => number;

  /** `source` returns milliseconds (default `performance.now`); injectable for tests. */
  constructor(source: () => number = () => performance.now()) {
    this.source = source;
    this.origin = source();
  }

  now(): bigint {
    return BigInt(Math.floor((this.source() - this.origin) * (TIMEBASE_FREQ / 1000)));
  }
}

/** A clock that moves only when told to: for tests and deterministic runs. */
export class ManualClock implements Clock {
  ticks: bigint;

  constructor(ticks = 0n) {
    this.ticks = ticks;
  }

  now(): bigint {
    return this.ticks;
  }

  advance(ticks: bigint): void {
    this.ticks += ticks;
  }
}

/** Saved CLINT state (STYLE.md rule 8). `mtime` is the counter's value when saved; it resumes from there. */
export interface ClintState {
  readonly version: 1;
  readonly mtime: bigint;
  readonly msip: readonly boolean[];
  readonly mtimecmp: readonly bigint[];
  /** Per hart: a future deadline is set and MTIP will rise when mtime reaches mtimecmp. */
  readonly armed: readonly boolean[];
  /** Per hart: the level of MTIP as last driven. */
  readonly mtip: readonly boolean[];
}

/**
 * The timer follows QEMU's event model: writing mtimecmp (or mtime) compares it with mtime at once, raising MTIP if
 * mtimecmp <= mtime and otherwise lowering it and arming a deadline; `poll()` raises MTIP for harts whose deadline
 * has passed. A fresh CLINT has mtimecmp = 0 but nothing armed and MTIP low, as QEMU 7.2 (which has no CLINT reset).
 */
export class Clint implements MmioDevice {
  readonly name = "clint";
  private readonly harts: readonly HartIrq[];
  private readonly clock: Clock;
  /** mtime = clock.now() + delta (mod 2^64); QEMU's time_delta. */
  private delta = 0n;
  private readonly msip: Uint8Array;
  private readonly mtimecmp: BigUint64Array;
  private readonly armed: Uint8Array;
  private readonly mtip: Uint8Array;

  constructor(harts: readonly HartIrq[], clock: Clock) {
    if (harts.length < 1 || harts.length > MSWI_END / 4) throw new RangeError(`bad hart count ${harts.length}`);
    this.harts = harts;
    this.clock = clock;
    this.msip = new Uint8Array(harts.length);
    this.mtimecmp = new BigUint64Array(harts.length);
    this.armed = new Uint8Array(harts.length);
    this.mtip = new Uint8Array(harts.length);
  }

  /** The current mtime; also what the `time` CSR reads. */
  mtime(): bigint {
    return BigInt.asUintN(64, this.clock.now() + this.delta);
  }

  /** Raise MTIP for every hart whose armed deadline has been reached. Call from the run loop between slices. */
  poll(): void {
    let now = -1n;
    for (let h = 0; h < this.harts.length; h++) {
      if (this.armed[h] === 0) continue;
      if (now < 0n) now = this.mtime();
      if (this.mtimecmp[h]! <= now) {
        this.armed[h] = 0;
        this.driveMtip(h, true);
      }
    }
  }

  /** The earliest mtime at which an armed timer fires, or null when none is armed. */
  nextDeadline(): bigint | null {
    let best: bigint | null = null;
    for (let h = 0; h < this.harts.length; h++) {
      if (this.armed[h] === 1 && (best === null || this.mtimecmp[h]! < best)) best = this.mtimecmp[h]!;
    }
    return best;
  }

  /** Host milliseconds until `nextDeadline()` (0 when already due), or null when none is armed. */
  msUntilDeadline(): number | null {
    const d = this.nextDeadline();
    if (d === null) return null;
    const now = this.mtime();
    return d <= now ? 0 : Number(d - now) / (TIMEBASE_FREQ / 1000);
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4 || (offset & 3) !== 0) return 0;
    if (offset < MSWI_END) {
      const h = (offset - MSIP) >>> 2;
      return h < this.harts.length ? this.msip[h]! : 0;
    }
    if (offset >= MTIMECMP && offset < MTIMECMP + this.harts.length * 8) {
      const v = this.mtimecmp[(offset - MTIMECMP) >>> 3]!;
      return Number((offset & 4) === 0 ? v & MASK32 : v >> 32n);
    }
    if (offset === MTIME) return Number(this.mtime() & MASK32);
    if (offset === MTIME + 4) return Number(this.mtime() >> 32n);
    return 0;
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) return;
    const v = BigInt(value >>> 0);
    if (offset < MSWI_END) {
      const h = (offset - MSIP) >>> 2;
      if (h < this.harts.length) {
        this.msip[h] = value & 1;
        this.harts[h]!.setPending(Mip.MSIP, (value & 1) !== 0);
      }
      return;
    }
    if (offset >= MTIMECMP && offset < MTIMECMP + this.harts.length * 8) {
      const h = (offset - MTIMECMP) >>> 3;
      const old = this.mtimecmp[h]!;
      this.setMtimecmp(h, (offset & 4) === 0 ? (old & ~MASK32) | v : (v << 32n) | (old & MASK32));
      return;
    }
    if (offset === MTIME || offset === MTIME + 4) {
      const cur = this.mtime();
      const next = offset === MTIME ? (cur & ~MASK32) | v : (v << 32n) | (cur & MASK32);
      this.delta = BigInt.asUintN(64, next - this.clock.now());
      // As QEMU: every hart's comparison is redone against the new mtime.
      for (let h = 0; h < this.harts.length; h++) this.setMtimecmp(h, this.mtimecmp[h]!);
    }
  }

  /** Clear msip and mtimecmp and lower MSIP/MTIP on every hart; mtime keeps counting. */
  reset(): void {
    for (let h = 0; h < this.harts.length; h++) {
      this.msip[h] = 0;
      this.mtimecmp[h] = 0n;
      this.armed[h] = 0;
      this.harts[h]!.setPending(Mip.MSIP, false);
      this.driveMtip(h, false);
    }
  }

  save(): ClintState {
    return {
      version: 1,
      mtime: this.mtime(),
      msip: Array.from(this.msip, (b) => b !== 0),
      mtimecmp: Array.from(this.mtimecmp),
      armed: Array.from(this.armed, (b) => b !== 0),
      mtip: Array.from(this.mtip, (b) => b !== 0),
    };
  }

  /** Restore a saved state and drive the harts' MSIP/MTIP to match it. Throws RangeError on a mismatched state. */
  restore(s: ClintState): void {
    const n = this.harts.length;
    if (s.version !== 1) throw new RangeError(`unknown CLINT state version ${s.version}`);
    if (s.msip.length !== n || s.mtimecmp.length !== n || s.armed.length !== n || s.mtip.length !== n) {
      throw new RangeError(`CLINT state is for a different number of harts than ${n}`);
    }
    this.delta = BigInt.asUintN(64, s.mtime - this.clock.now());
    for (let h = 0; h < n; h++) {
      this.msip[h] = s.msip[h] ? 1 : 0;
      this.mtimecmp[h] = BigInt.asUintN(64, s.mtimecmp[h]!);
      this.armed[h] = s.armed[h] ? 1 : 0;
      this.harts[h]!.setPending(Mip.MSIP, s.msip[h]!);
      this.driveMtip(h, s.mtip[h]!);
    }
  }

  /** QEMU's riscv_aclint_mtimer_write_timecmp: store, then raise now or lower and arm. */
  private setMtimecmp(h: number, value: bigint): void {
    this.mtimecmp[h] = value;
    if (value <= this.mtime()) {
      this.armed[h] = 0;
      this.driveMtip(h, true);
    } else {
      this.armed[h] = 1;
      this.driveMtip(h, false);
    }
  }

  private driveMtip(h: number, level: boolean): void {
    this.mtip[h] = level ? 1 : 0;
    this.harts[h]!.setPending(Mip.MTIP, level);
  }
}
