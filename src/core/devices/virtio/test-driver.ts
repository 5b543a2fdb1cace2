/**
 * A minimal virtio driver for tests and fuzzers (no guest needed): RAM in an ArrayBuffer, the device behind a real
 * VirtioMmio transport, feature negotiation and queue setup done through the registers as Linux's virtio_mmio does
 * them, and split-ring helpers that place buffers, publish chains (direct or indirect) and collect used elements.
 * The raw helpers (`desc`, `publish`, `setAvailIdx`) let tests hand the device malformed rings on purpose.
 */
import type { IrqLine } from "../../mem/irq.ts";
import { INT_CONFIG, MMIO, STATUS, VIRTIO_F_VERSION_1, type VirtioDevice, VirtioMmio } from "./mmio.ts";
import { GuestMemory, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from "./queue.ts";

export const TEST_RAM_BASE = 0x8000_0000;

/** One buffer of a chain: `data` to place (device-readable), or `len` bytes for the device to write. */
export interface Buf {
  readonly data?: Uint8Array;
  readonly len?: number;
  readonly write?: boolean;
}

/** A used element. */
export interface Used {
  readonly id: number;
  readonly len: number;
}

/** The driver's view of one queue. */
export interface DriverQueue {
  readonly index: number;
  readonly num: number;
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  /** Next free descriptor (the driver hands them out round-robin; tests never run out). */
  nextDesc: number;
  availIdx: number;
  lastUsed: number;
}

export class TestDriver {
  readonly ram: Uint8Array;
  readonly dv: DataView;
  readonly mem: GuestMemory;
  readonly t: VirtioMmio;
  readonly base = TEST_RAM_BASE;
  /** The interrupt line's level and how often it rose. */
  irqLevel = false;
  irqRises = 0;
  wakes = 0;
  errors: string[] = [];
  readonly queues: DriverQueue[] = [];
  /** Bump allocator for rings and buffers (guest-physical). */
  private next: number;

  constructor(device: VirtioDevice, ramSize = 4 << 20) {
    this.ram = new Uint8Array(ramSize);
    this.dv = new DataView(this.ram.buffer);
    this.mem = new GuestMemory(this.ram, TEST_RAM_BASE);
    const irq: IrqLine = {
      set: (level) => {
        if (level && !this.irqLevel) this.irqRises++;
        this.irqLevel = level;
      },
    };
    this.t = new VirtioMmio(device, {
      irq,
      mem: this.mem,
      wake: () => this.wakes++,
      onError: (m) => this.errors.push(m),
    });
    this.next = TEST_RAM_BASE + 0x1000;
  }

  r32(off: number): number {
    return this.t.read(off, 4);
  }

  w32(off: number, v: number): void {
    this.t.write(off, 4, v >>> 0);
  }

  get status(): number {
    return this.r32(MMIO.Status);
  }

  get needsReset(): boolean {
    return (this.status & STATUS.DEVICE_NEEDS_RESET) !== 0;
  }

  /** Device features (both halves). */
  deviceFeatures(): bigint {
    this.w32(MMIO.DeviceFeaturesSel, 0);
    const lo = BigInt(this.r32(MMIO.DeviceFeatures));
    this.w32(MMIO.DeviceFeaturesSel, 1);
    return lo | (BigInt(this.r32(MMIO.DeviceFeatures)) << 32n);
  }

  /** Write the driver features (both halves). */
  writeFeatures(f: bigint): void {
    this.w32(MMIO.DriverFeaturesSel, 0);
    this.w32(MMIO.DriverFeatures, Number(f & 0xffff_ffffn));
    this.w32(MMIO.DriverFeaturesSel, 1);
    this.w32(MMIO.DriverFeatures, Number(f >> 32n));
  }

  /**
   * Linux's probe sequence (§3.1.1): reset, ACKNOWLEDGE, DRIVER, features (`want` & offered, default all offered),
   * FEATURES_OK and its check, queues (size `sizes[i]` or QueueNumMax), DRIVER_OK. Returns the negotiated features.
   * The allocator starts over, so rings land where the previous init put them.
   */
  init(opts: { want?: bigint; sizes?: readonly number[] } = {}): bigint {
    this.w32(MMIO.Status, 0);
    this.next = TEST_RAM_BASE + 0x1000;
    this.w32(MMIO.Status, STATUS.ACKNOWLEDGE);
    this.w32(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    const f = this.deviceFeatures() & (opts.want ?? ~0n);
    this.writeFeatures(f);
    this.w32(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
    if ((this.status & STATUS.FEATURES_OK) === 0) throw new Error(`features 0x${f.toString(16)} refused`);
    this.queues.length = 0;
    for (let i = 0; ; i++) {
      this.w32(MMIO.QueueSel, i);
      const max = this.r32(MMIO.QueueNumMax);
      if (max === 0) break;
      this.setupQueue(i, opts.sizes?.[i] ?? max);
    }
    this.w32(MMIO.Status, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK);
    return f;
  }

  /** Allocate `size` bytes of guest RAM aligned to `align`; returns the guest-physical address. */
  alloc(size: number, align = 16): number {
    const a = Math.ceil(this.next / align) * align;
    if (a + size > this.base + this.ram.length) throw new Error("test RAM exhausted");
    this.next = a + size;
    return a;
  }

  /** Rings for queue `i` of `num` entries, written through the queue registers, then QueueReady = 1. */
  setupQueue(i: number, num: number): DriverQueue {
    const desc = this.alloc(16 * num, 16);
    const avail = this.alloc(6 + 2 * num, 2);
    const used = this.alloc(6 + 8 * num, 4);
    this.ram.fill(0, this.off(desc), this.off(used) + 6 + 8 * num);
    this.w32(MMIO.QueueSel, i);
    this.w32(MMIO.QueueNum, num);
    this.w32(MMIO.QueueDescLow, desc);
    this.w32(MMIO.QueueDescHigh, 0);
    this.w32(MMIO.QueueDriverLow, avail);
    this.w32(MMIO.QueueDriverHigh, 0);
    this.w32(MMIO.QueueDeviceLow, used);
    this.w32(MMIO.QueueDeviceHigh, 0);
    this.w32(MMIO.QueueReady, 1);
    const q: DriverQueue = { index: i, num, desc, avail, used, nextDesc: 0, availIdx: 0, lastUsed: 0 };
    this.queues[i] = q;
    return q;
  }

  /** RAM offset of guest-physical `addr`. */
  off(addr: number): number {
    return addr - this.base;
  }

  /** Write descriptor `i` of the table at `table` (guest-physical). `addr` may be a bigint for 64-bit addresses. */
  desc(table: number, i: number, addr: number | bigint, len: number, flags: number, next = 0): void {
    const d = this.off(table) + 16 * i;
    this.dv.setBigUint64(d, BigInt(addr), true);
    this.dv.setUint32(d + 8, len >>> 0, true);
    this.dv.setUint16(d + 12, flags, true);
    this.dv.setUint16(d + 14, next, true);
  }

  /** Put `head` in the available ring and bump avail.idx. */
  publish(q: DriverQueue, head: number): void {
    this.dv.setUint16(this.off(q.avail) + 4 + 2 * (q.availIdx % q.num), head, true);
    q.availIdx = (q.availIdx + 1) & 0xffff;
    this.dv.setUint16(this.off(q.avail) + 2, q.availIdx, true);
  }

  /** Set avail.idx directly. */
  setAvailIdx(q: DriverQueue, idx: number): void {
    q.availIdx = idx & 0xffff;
    this.dv.setUint16(this.off(q.avail) + 2, q.availIdx, true);
  }

  /** Place `bufs` in fresh RAM and chain them; `indirect` puts the chain in an indirect table. Returns the head. */
  submit(q: DriverQueue, bufs: readonly Buf[], opts: { indirect?: boolean; kick?: boolean } = {}): number {
    const addrs = bufs.map((b) => {
      const len = b.data?.length ?? b.len ?? 0;
      const a = this.alloc(Math.max(len, 1), 8);
      if (b.data !== undefined) this.ram.set(b.data, this.off(a));
      return { a, len, flags: b.write ? VIRTQ_DESC_F_WRITE : 0 };
    });
    let head: number;
    if (opts.indirect) {
      const table = this.alloc(16 * bufs.length, 16);
      addrs.forEach((x, i) => {
        const last = i === addrs.length - 1;
        this.desc(table, i, x.a, x.len, x.flags | (last ? 0 : VIRTQ_DESC_F_NEXT), last ? 0 : i + 1);
      });
      head = this.take(q);
      this.desc(q.desc, head, table, 16 * bufs.length, VIRTQ_DESC_F_INDIRECT);
    } else {
      const ids = addrs.map(() => this.take(q));
      addrs.forEach((x, i) => {
        const last = i === addrs.length - 1;
        this.desc(q.desc, ids[i]!, x.a, x.len, x.flags | (last ? 0 : VIRTQ_DESC_F_NEXT), last ? 0 : ids[i + 1]!);
      });
      head = ids[0]!;
    }
    this.publish(q, head);
    if (opts.kick !== false) this.kick(q);
    return head;
  }

  /** Next descriptor index, round-robin. */
  take(q: DriverQueue): number {
    const i = q.nextDesc;
    q.nextDesc = (q.nextDesc + 1) % q.num;
    return i;
  }

  kick(q: DriverQueue): void {
    this.w32(MMIO.QueueNotify, q.index);
  }

  /** Used elements added since the last call; then used_event = the next one (re-arm the interrupt). */
  takeUsed(q: DriverQueue): Used[] {
    const out: Used[] = [];
    const u = this.off(q.used);
    const idx = this.dv.getUint16(u + 2, true);
    while (q.lastUsed !== idx) {
      const e = u + 4 + 8 * (q.lastUsed % q.num);
      out.push({ id: this.dv.getUint32(e, true), len: this.dv.getUint32(e + 4, true) });
      q.lastUsed = (q.lastUsed + 1) & 0xffff;
    }
    // As Linux's virtqueue_enable_cb with EVENT_IDX: interrupt me for the next used buffer.
    this.dv.setUint16(this.off(q.avail) + 4 + 2 * q.num, q.lastUsed, true);
    return out;
  }

  /** The bytes at guest-physical `addr`. */
  bytes(addr: number, len: number): Uint8Array {
    return this.ram.slice(this.off(addr), this.off(addr) + len);
  }

  /** Address of buffer `k` of the chain at `head` (direct chains only). */
  bufAddr(q: DriverQueue, head: number, k: number): number {
    let i = head;
    for (let n = 0; n < k; n++) i = this.dv.getUint16(this.off(q.desc) + 16 * i + 14, true);
    return Number(this.dv.getBigUint64(this.off(q.desc) + 16 * i, true));
  }

  /** Read InterruptStatus and acknowledge it all (as vm_interrupt does). */
  ack(): number {
    const s = this.r32(MMIO.InterruptStatus);
    this.w32(MMIO.InterruptACK, s);
    return s;
  }

  /** The config-change interrupt bit is pending. */
  get configInterrupt(): boolean {
    return (this.r32(MMIO.InterruptStatus) & INT_CONFIG) !== 0;
  }
}

/** All features a modern driver without device-specific features would take. */
export const MODERN = 1n << VIRTIO_F_VERSION_1;
