/**
 * Split virtqueues (virtio 1.2 §2.7) as a device sees them: guest RAM access with bounds checks, descriptor chains
 * walked into a Chain (direct and VIRTQ_DESC_F_INDIRECT tables, §2.7.5.3), the used ring, and notification
 * suppression with VIRTIO_F_EVENT_IDX (§2.7.7, §2.7.10). Anything malformed the driver hands over (buffers outside
 * RAM, loops, over-long chains, lengths past 4 GiB, readable after writable, bad indices) fails the queue through
 * `VirtqueueOwner.needsReset` and is never thrown. Packed virtqueues (§2.8) are not offered.
 */

/** Descriptor flags (§2.7.5). */
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
/** avail.flags: the driver asks for no used-buffer notifications (ignored with EVENT_IDX). */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** Largest queue a split ring may have (§2.7). */
export const VIRTQ_MAX_SIZE = 32768;
/** Most descriptors an indirect table may hold here (QEMU's VIRTQUEUE_MAX_SIZE: Linux never needs more). */
export const VIRTQ_MAX_INDIRECT = 1024;

const DESC_SIZE = 16;
/** Largest total length of one chain's readable or writable part (used.len is 32-bit). */
const MAX_CHAIN_BYTES = 0xffff_ffff;

/**
 * Guest RAM as devices reach it: `u8` covers [base, base + size) of the physical address space. Every access
 * through `range` is checked; `written` tells the harts that the host changed RAM (their decode caches).
 */
export class GuestMemory {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  readonly base: number;
  readonly size: number;
  private readonly onWrite: (off: number, len: number) => void;

  constructor(ram: Uint8Array, base: number, onWrite: (off: number, len: number) => void = () => {}) {
    this.u8 = ram;
    this.dv = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
    this.base = base;
    this.size = ram.byteLength;
    this.onWrite = onWrite;
  }

  /**
   * The RAM offset of the guest-physical range [hi:lo, hi:lo + len), or -1 if any byte of it lies outside RAM.
   * `lo` and `hi` are the unsigned 32-bit halves of a 64-bit address; `len` is 0..2^32-1.
   */
  range(lo: number, hi: number, len: number): number {
    if (hi !== 0) return -1; // RAM lies below 4 GiB on every board popek builds
    const off = lo - this.base;
    if (off < 0 || off + len > this.size) return -1;
    return off;
  }

  /** Tell the harts that [off, off + len) of RAM changed. */
  written(off: number, len: number): void {
    if (len > 0) this.onWrite(off, len);
  }
}

/** What a virtqueue needs from its transport. */
export interface VirtqueueOwner {
  /** Negotiated VIRTIO_F_INDIRECT_DESC. */
  readonly indirect: boolean;
  /** Negotiated VIRTIO_F_EVENT_IDX. */
  readonly eventIdx: boolean;
  /** The device is running (DRIVER_OK set, not failed). */
  readonly live: boolean;
  /** The driver broke the rules: mark the device DEVICE_NEEDS_RESET. */
  needsReset(reason: string): void;
  /** Raise the used-buffer interrupt. */
  usedBufferNotify(): void;
}

/**
 * One descriptor chain taken from the available ring: its buffers as RAM offsets and lengths, the device-readable
 * ones first. Devices copy out of the readable part and into the writable part by byte position within each part;
 * writes after a device reset (an old `epoch`) are dropped, so a late asynchronous completion cannot touch RAM the
 * driver has since reused. Reuse one Chain per in-flight request; it grows to the longest chain seen.
 */
export class Chain {
  /** Head descriptor index (the used element's id). */
  head = 0;
  /** The queue's epoch when the chain was taken. */
  epoch = 0;
  /** Buffers in the chain (zero-length descriptors are skipped). */
  count = 0;
  /** Buffers [0, readCount) are device-readable, [readCount, count) device-writable. */
  readCount = 0;
  /** Total bytes the device may read. */
  readable = 0;
  /** Total bytes the device may write. */
  writable = 0;
  /** RAM offset and length of each buffer. */
  off: Uint32Array;
  len: Uint32Array;
  queue: Virtqueue | null = null;

  constructor(capacity = 8) {
    this.off = new Uint32Array(capacity);
    this.len = new Uint32Array(capacity);
  }

  /** Copy up to `n` readable bytes from position `pos` into `dst` at `at`; returns the number copied. */
  read(pos: number, dst: Uint8Array, at = 0, n = dst.length - at): number {
    const q = this.queue;
    if (q === null) return 0;
    const ram = q.mem.u8;
    let done = 0;
    for (let i = 0; i < this.readCount && done < n; i++) {
      const len = this.len[i]!;
      if (pos >= len) {
        pos -= len;
        continue;
      }
      const k = Math.min(len - pos, n - done);
      const src = this.off[i]! + pos;
      dst.set(ram.subarray(src, src + k), at + done);
      done += k;
      pos = 0;
    }
    return done;
  }

  /** Copy up to `n` bytes of `src` from `at` into the writable part at position `pos`; returns the number copied. */
  write(pos: number, src: Uint8Array, at = 0, n = src.length - at): number {
    const q = this.queue;
    if (q === null || q.epoch !== this.epoch) return 0;
    const mem = q.mem;
    let done = 0;
    for (let i = this.readCount; i < this.count && done < n; i++) {
      const len = this.len[i]!;
      if (pos >= len) {
        pos -= len;
        continue;
      }
      const k = Math.min(len - pos, n - done);
      const dst = this.off[i]! + pos;
      mem.u8.set(src.subarray(at + done, at + done + k), dst);
      mem.written(dst, k);
      done += k;
      pos = 0;
    }
    return done;
  }

  /** Write one byte at writable position `pos`; false if outside the writable part or the chain is stale. */
  writeByte(pos: number, value: number): boolean {
    const q = this.queue;
    if (q === null || q.epoch !== this.epoch) return false;
    for (let i = this.readCount; i < this.count; i++) {
      const len = this.len[i]!;
      if (pos < len) {
        const dst = this.off[i]! + pos;
        q.mem.u8[dst] = value;
        q.mem.written(dst, 1);
        return true;
      }
      pos -= len;
    }
    return false;
  }

  /** Reset for a new chain. */
  begin(q: Virtqueue, head: number): void {
    this.queue = q;
    this.head = head;
    this.epoch = q.epoch;
    this.count = 0;
    this.readCount = 0;
    this.readable = 0;
    this.writable = 0;
  }

  /** Append a buffer; false if the totals would pass 4 GiB. */
  add(off: number, len: number, writable: boolean): boolean {
    if (len === 0) return true;
    if (writable) {
      if (this.writable + len > MAX_CHAIN_BYTES) return false;
      this.writable += len;
    } else {
      if (this.readable + len > MAX_CHAIN_BYTES) return false;
      this.readable += len;
      this.readCount++;
    }
    if (this.count === this.off.length) {
      const off = new Uint32Array(this.count * 2);
      const lens = new Uint32Array(this.count * 2);
      off.set(this.off);
      lens.set(this.len);
      this.off = off;
      this.len = lens;
    }
    this.off[this.count] = off;
    this.len[this.count] = len;
    this.count++;
    return true;
  }
}

/** Saved virtqueue state (STYLE.md rule 8). */
export interface VirtqueueState {
  readonly version: 1;
  readonly num: number;
  readonly ready: boolean;
  /** Register values: descriptor area, driver area (avail), device area (used), each as [low, high]. */
  readonly desc: readonly [number, number];
  readonly driver: readonly [number, number];
  readonly device: readonly [number, number];
  readonly lastAvail: number;
  readonly usedIdx: number;
  readonly signalledUsed: number;
  readonly signalledValid: boolean;
}

/**
 * A split virtqueue: the transport's registers for it (size, ring addresses, ready) and the device's side of the
 * rings. `enable()` checks size and ring placement once; afterwards every ring access lies inside RAM.
 */
export class Virtqueue {
  readonly index: number;
  /** QueueNumMax: the largest size the device accepts (a power of 2, or 0 for a queue that does not exist). */
  readonly max: number;
  readonly mem: GuestMemory;
  private readonly owner: VirtqueueOwner;
  /** QueueNum as written by the driver. */
  num = 0;
  /** QueueReady as the driver set it (and the checks passed). */
  ready = false;
  descLo = 0;
  descHi = 0;
  driverLo = 0;
  driverHi = 0;
  deviceLo = 0;
  deviceHi = 0;
  /** Bumped at every reset: chains taken earlier are stale. */
  epoch = 0;
  /** RAM offsets of the three areas once enabled. */
  private desc = 0;
  private avail = 0;
  private used = 0;
  /** The next available-ring slot the device will take (free-running 16-bit). */
  lastAvail = 0;
  /** The device's used index (free-running 16-bit). */
  usedIdx = 0;
  /** The used index at the last notification decision (EVENT_IDX). */
  private signalledUsed = 0;
  private signalledValid = false;

  constructor(owner: VirtqueueOwner, mem: GuestMemory, index: number, max: number) {
    if (max !== 0 && (!Number.isInteger(max) || max < 1 || max > VIRTQ_MAX_SIZE || (max & (max - 1)) !== 0)) {
      throw new RangeError(`virtqueue ${index}: maximum size ${max} is not a power of 2 in 1..${VIRTQ_MAX_SIZE}`);
    }
    this.owner = owner;
    this.mem = mem;
    this.index = index;
    this.max = max;
    this.num = max;
  }

  /** Back to the state after device reset: not ready, default size, addresses 0, chains taken so far stale. */
  reset(): void {
    this.num = this.max;
    this.ready = false;
    this.descLo = this.descHi = this.driverLo = this.driverHi = this.deviceLo = this.deviceHi = 0;
    this.desc = this.avail = this.used = 0;
    this.lastAvail = 0;
    this.usedIdx = 0;
    this.signalledUsed = 0;
    this.signalledValid = false;
    this.epoch++;
  }

  /** QueueReady = 0: stop using the rings; chains taken so far become stale. */
  disable(): void {
    this.ready = false;
    this.epoch++;
  }

  /** QueueReady = 1: check the size and the three areas (§2.7: alignment 16/2/4, all inside RAM). */
  enable(): boolean {
    const n = this.num;
    if (this.max === 0) return this.fail("driver enabled a queue that does not exist");
    if (n < 1 || n > this.max || (n & (n - 1)) !== 0) {
      return this.fail(`queue size ${n} is not a power of 2 in 1..${this.max}`);
    }
    const desc = this.mem.range(this.descLo, this.descHi, DESC_SIZE * n);
    const avail = this.mem.range(this.driverLo, this.driverHi, 6 + 2 * n);
    const used = this.mem.range(this.deviceLo, this.deviceHi, 6 + 8 * n);
    if (desc < 0 || avail < 0 || used < 0) return this.fail("a ring lies outside RAM");
    if ((this.descLo & 15) !== 0 || (this.driverLo & 1) !== 0 || (this.deviceLo & 3) !== 0) {
      return this.fail("a ring is misaligned");
    }
    this.desc = desc;
    this.avail = avail;
    this.used = used;
    this.lastAvail = 0;
    this.usedIdx = 0;
    this.signalledValid = false;
    this.ready = true;
    return true;
  }

  /** Buffers are available (without taking one). */
  get pending(): boolean {
    if (!this.ready || !this.owner.live) return false;
    return this.mem.dv.getUint16(this.avail + 2, true) !== this.lastAvail;
  }

  /**
   * Take the next available chain into `c`. False when none is available, the queue is not running, or the chain
   * is malformed (then the device has been marked DEVICE_NEEDS_RESET and every later call returns false).
   */
  pop(c: Chain): boolean {
    if (!this.ready || !this.owner.live) return false;
    const dv = this.mem.dv;
    const n = this.num;
    const availIdx = dv.getUint16(this.avail + 2, true);
    const waiting = (availIdx - this.lastAvail) & 0xffff;
    if (waiting === 0) {
      this.setAvailEvent();
      return false;
    }
    if (waiting > n) return this.fail(`available index moved ${waiting} entries ahead on a queue of ${n}`);
    const head = dv.getUint16(this.avail + 4 + 2 * (this.lastAvail & (n - 1)), true);
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    this.setAvailEvent();
    if (head >= n) return this.fail(`head descriptor ${head} is outside the table of ${n}`);
    return this.walk(c, head);
  }

  private walk(c: Chain, head: number): boolean {
    const dv = this.mem.dv;
    c.begin(this, head);
    let table = this.desc;
    let size = this.num;
    let i = head;
    let seen = 0;
    let indirect = false;
    let writable = false;
    for (;;) {
      if (i >= size) return this.fail(`descriptor index ${i} is outside its table of ${size}`);
      if (++seen > size) return this.fail("descriptor chain loops or is longer than its table");
      const d = table + DESC_SIZE * i;
      const lo = dv.getUint32(d, true);
      const hi = dv.getUint32(d + 4, true);
      const len = dv.getUint32(d + 8, true);
      const flags = dv.getUint16(d + 12, true);
      const next = dv.getUint16(d + 14, true);
      if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        if (!this.owner.indirect) return this.fail("indirect descriptor without VIRTIO_F_INDIRECT_DESC");
        if (indirect) return this.fail("indirect descriptor inside an indirect table");
        if ((flags & VIRTQ_DESC_F_NEXT) !== 0) return this.fail("indirect descriptor with VIRTQ_DESC_F_NEXT");
        if (len === 0 || len % DESC_SIZE !== 0 || len / DESC_SIZE > VIRTQ_MAX_INDIRECT) {
          return this.fail(`indirect table of ${len} bytes (a multiple of 16, at most ${VIRTQ_MAX_INDIRECT} entries)`);
        }
        const t = this.mem.range(lo, hi, len);
        if (t < 0) return this.fail("indirect table outside RAM");
        table = t;
        size = len / DESC_SIZE;
        i = 0;
        seen = 0;
        indirect = true;
        continue;
      }
      const off = this.mem.range(lo, hi, len);
      if (off < 0) return this.fail(`buffer [0x${hex64(hi, lo)}, +0x${len.toString(16)}) outside RAM`);
      const w = (flags & VIRTQ_DESC_F_WRITE) !== 0;
      if (w) writable = true;
      else if (writable) return this.fail("device-readable buffer after a device-writable one");
      if (!c.add(off, len, w)) return this.fail("chain longer than 4 GiB");
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) return true;
      i = next;
    }
  }

  /** Put `c` in the used ring with `len` bytes written. Dropped if the chain is stale or the device stopped. */
  push(c: Chain, len: number): void {
    if (c.queue !== this || c.epoch !== this.epoch || !this.ready || !this.owner.live) return;
    const dv = this.mem.dv;
    const e = this.used + 4 + 8 * (this.usedIdx & (this.num - 1));
    dv.setUint32(e, c.head, true);
    dv.setUint32(e + 4, len >>> 0, true);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    dv.setUint16(this.used + 2, this.usedIdx, true);
    this.mem.written(e, 8);
    this.mem.written(this.used + 2, 2);
  }

  /** After pushing: raise the used-buffer interrupt unless the driver suppressed it (§2.7.7, §2.7.10). */
  interrupt(): void {
    if (!this.ready || !this.owner.live) return;
    const dv = this.mem.dv;
    if (this.owner.eventIdx) {
      const old = this.signalledUsed;
      const now = this.usedIdx;
      const valid = this.signalledValid;
      this.signalledUsed = now;
      this.signalledValid = true;
      if (valid) {
        // vring_need_event: notify iff used_event lies in [old, now).
        const event = dv.getUint16(this.avail + 4 + 2 * this.num, true);
        if (((now - event - 1) & 0xffff) >= ((now - old) & 0xffff)) return;
      }
    } else if ((dv.getUint16(this.avail, true) & VIRTQ_AVAIL_F_NO_INTERRUPT) !== 0) {
      return;
    }
    this.owner.usedBufferNotify();
  }

  /** Push and interrupt: one completed request. */
  complete(c: Chain, len: number): void {
    this.push(c, len);
    this.interrupt();
  }

  /** With EVENT_IDX: ask to be notified when the driver makes the next buffer available (avail_event, §2.7.10). */
  private setAvailEvent(): void {
    if (this.owner.eventIdx) {
      const at = this.used + 4 + 8 * this.num;
      this.mem.dv.setUint16(at, this.lastAvail, true);
      this.mem.written(at, 2);
    }
  }

  private fail(reason: string): false {
    this.owner.needsReset(`queue ${this.index}: ${reason}`);
    return false;
  }

  save(): VirtqueueState {
    return {
      version: 1,
      num: this.num,
      ready: this.ready,
      desc: [this.descLo, this.descHi],
      driver: [this.driverLo, this.driverHi],
      device: [this.deviceLo, this.deviceHi],
      lastAvail: this.lastAvail,
      usedIdx: this.usedIdx,
      signalledUsed: this.signalledUsed,
      signalledValid: this.signalledValid,
    };
  }

  /** Restore a saved state; a ready queue is checked again as QueueReady = 1 checks it. */
  restore(s: VirtqueueState): void {
    if (s.version !== 1) throw new RangeError(`unknown virtqueue state version ${s.version}`);
    this.reset();
    this.num = s.num;
    [this.descLo, this.descHi] = s.desc;
    [this.driverLo, this.driverHi] = s.driver;
    [this.deviceLo, this.deviceHi] = s.device;
    if (s.ready) {
      if (!this.enable()) return;
      this.lastAvail = s.lastAvail & 0xffff;
      this.usedIdx = s.usedIdx & 0xffff;
      this.signalledUsed = s.signalledUsed & 0xffff;
      this.signalledValid = s.signalledValid;
    }
  }
}

const hex64 = (hi: number, lo: number): string =>
  hi === 0 ? lo.toString(16) : `${hi.toString(16)}${lo.toString(16).padStart(8, "0")}`;
