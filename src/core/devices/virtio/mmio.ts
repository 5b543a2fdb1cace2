/**
 * The virtio-mmio transport, version 2 ("modern", virtio 1.2 §4.2.2), shared by every popek virtio device: the
 * register block, feature negotiation (VIRTIO_F_VERSION_1 is required: a legacy-only driver's FEATURES_OK is
 * refused), device status and reset (§2.1, §3.1), the interrupt status/ack pair on the slot's PLIC line, the device
 * configuration space with its generation counter, and DEVICE_NEEDS_RESET when the driver breaks the rules (§2.1.2).
 * Split virtqueues with VIRTIO_F_INDIRECT_DESC and VIRTIO_F_EVENT_IDX come from queue.ts. Not modelled: the legacy
 * (version 1) register layout, packed rings, VIRTIO_F_NOTIFICATION_DATA, VIRTIO_F_RING_RESET, shared memory regions
 * (SHMLen reads as -1: none).
 *
 * Adding a device (9p, net, …): write a class implementing `VirtioDevice` in its own file beside this one.
 *  - `deviceId` (§5), `features` (the device-specific bits, e.g. 1n << 5n; the transport adds VERSION_1,
 *    INDIRECT_DESC and EVENT_IDX itself), `queueSizes` (QueueNumMax per queue: powers of 2, Linux insists) and
 *    `config` (the configuration space as little-endian bytes the driver reads; update it in place and call
 *    `transport.configChanged()` when it changes at run time; implement `configWrite` for writable fields).
 *  - `attach(t)` is called once by the transport's constructor: keep `t`; `t.queue(i)` is queue i, `t.mem` is RAM.
 *  - `notify(q)` runs when the driver kicks queue q (and for each ready queue when DRIVER_OK is set): take chains
 *    with `while (queue.pop(chain))`, read requests with `chain.read(pos, buf)`, answer with `chain.write(pos, buf)`,
 *    then `queue.push(chain, bytesWritten)` and `queue.interrupt()` (or `queue.complete(chain, n)` for one).
 *    A malformed chain makes `pop` return false after marking the device DEVICE_NEEDS_RESET; for a request that is
 *    malformed at the device's level (a missing header, say), call `t.needsReset("why")` and stop.
 *  - Asynchronous work (host files, sockets): keep the Chain (one per in-flight request, reused from a pool), and on
 *    completion `chain.write` + `queue.complete`, then `t.wake()` so a sleeping machine notices the interrupt. After
 *    a reset those calls are no-ops for chains taken before it (their epoch is stale), so late completions are safe.
 *  - `reset()` drops device state (the transport has already reset the queues); `activate()` runs at DRIVER_OK with
 *    `t.features` negotiated.
 *  - Wire it into a slot with `virtioMmio(device, { onError })` — a `VirtioFactory` for MachineConfig.virtio — and
 *    add the CLI option in src/cli (slots are taken from the highest address down, as QEMU does).
 *  - Test it without a guest through test-driver.ts (negotiation, rings, malformed chains), as mmio.test.ts does.
 * Never throw for anything the guest does; never size a host buffer by `chain.readable`/`chain.writable` (the guest
 * chooses them, up to 4 GiB) — work in bounded pieces. Allocate nothing per instruction; per request is fine.
 */
import { RAM_OFFSET } from "../../cpu/layout.ts";
import type { VirtioFactory } from "../../machine/virt.ts";
import type { MmioDevice } from "../../mem/bus.ts";
import type { IrqLine } from "../../mem/irq.ts";
import { GuestMemory, Virtqueue, type VirtqueueOwner, type VirtqueueState } from "./queue.ts";

/** Register offsets (§4.2.2, table "MMIO Device Register Layout"). */
export const MMIO = {
  MagicValue: 0x000,
  Version: 0x004,
  DeviceID: 0x008,
  VendorID: 0x00c,
  DeviceFeatures: 0x010,
  DeviceFeaturesSel: 0x014,
  DriverFeatures: 0x020,
  DriverFeaturesSel: 0x024,
  QueueSel: 0x030,
  QueueNumMax: 0x034,
  QueueNum: 0x038,
  QueueReady: 0x044,
  QueueNotify: 0x050,
  InterruptStatus: 0x060,
  InterruptACK: 0x064,
  Status: 0x070,
  QueueDescLow: 0x080,
  QueueDescHigh: 0x084,
  QueueDriverLow: 0x090,
  QueueDriverHigh: 0x094,
  QueueDeviceLow: 0x0a0,
  QueueDeviceHigh: 0x0a4,
  SHMSel: 0x0ac,
  SHMLenLow: 0x0b0,
  SHMLenHigh: 0x0b4,
  SHMBaseLow: 0x0b8,
  SHMBaseHigh: 0x0bc,
  ConfigGeneration: 0x0fc,
  Config: 0x100,
} as const;

/** "virt" */
export const VIRTIO_MMIO_MAGIC = 0x74726976;
/** "QEMU", as QEMU's transports report it (drivers do not care). */
export const VIRTIO_MMIO_VENDOR = 0x554d4551;
/** Size of one virtio-mmio register block on the virt board. */
export const VIRTIO_MMIO_SIZE = 0x1000;

/** Device status bits (§2.1). */
export const STATUS = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 64,
  FAILED: 128,
} as const;

/** InterruptStatus bits (§4.2.2). */
export const INT_VRING = 1;
export const INT_CONFIG = 2;

/** Reserved feature bits (§6). */
export const VIRTIO_F_INDIRECT_DESC = 28n;
export const VIRTIO_F_EVENT_IDX = 29n;
export const VIRTIO_F_VERSION_1 = 32n;
/** What every popek device offers on top of its own bits. */
const TRANSPORT_FEATURES = (1n << VIRTIO_F_INDIRECT_DESC) | (1n << VIRTIO_F_EVENT_IDX) | (1n << VIRTIO_F_VERSION_1);

/** The device-type half of a virtio device; the transport below does the rest. */
export interface VirtioDevice {
  /** Short name for messages: "virtio-blk". */
  readonly name: string;
  /** Device ID (§5: 2 block, 3 console, 4 entropy, 1 net, 9 9p). */
  readonly deviceId: number;
  /** Device-specific feature bits offered (the transport adds VERSION_1, INDIRECT_DESC and EVENT_IDX). */
  readonly features: bigint;
  /** QueueNumMax of each queue, powers of 2. */
  readonly queueSizes: readonly number[];
  /** The device configuration space, little-endian, read by the driver at Config + offset. */
  readonly config: Uint8Array;
  /** Called once by the transport's constructor. */
  attach(t: VirtioMmio): void;
  /** The driver kicked queue `q` (or DRIVER_OK was just set and the queue is ready). */
  notify(q: number): void;
  /** DRIVER_OK was set: `t.features` holds the negotiated features. */
  activate(): void;
  /** Device reset (status 0, or the machine's reset): drop all device state. */
  reset(): void;
  /** A driver write to the configuration space (absent: read-only). */
  configWrite?(offset: number, size: 1 | 2 | 4, value: number): void;
}

/** How the transport reaches the machine. */
export interface VirtioMmioContext {
  readonly irq: IrqLine;
  readonly mem: GuestMemory;
  /** Poke the machine's run loop (an interrupt was raised outside a hart's turn). */
  readonly wake: () => void;
  /** DEVICE_NEEDS_RESET was set, features were refused, or a host I/O error: one line for the host's log. */
  readonly onError?: (message: string) => void;
}

/** Saved transport state (STYLE.md rule 8); the device's own state is saved by the device. */
export interface VirtioMmioState {
  readonly version: 1;
  readonly status: number;
  readonly deviceFeaturesSel: number;
  readonly driverFeaturesSel: number;
  /** Driver features as written, hex. */
  readonly driverFeatures: string;
  readonly queueSel: number;
  readonly interruptStatus: number;
  readonly configGeneration: number;
  readonly broken: boolean;
  readonly queues: readonly VirtqueueState[];
}

export class VirtioMmio implements MmioDevice, VirtqueueOwner {
  readonly name: string;
  readonly device: VirtioDevice;
  readonly mem: GuestMemory;
  /** Features offered: the device's and the transport's. */
  readonly offered: bigint;
  private readonly irq: IrqLine;
  private readonly queues: Virtqueue[];
  private readonly ctx: VirtioMmioContext;
  status = 0;
  /** Driver features as written (negotiated once FEATURES_OK is accepted). */
  features = 0n;
  indirect = false;
  eventIdx = false;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private queueSel = 0;
  private interruptStatus = 0;
  private configGeneration = 0;
  /** The driver broke the rules: nothing runs until reset. */
  private broken = false;
  /** Why the device last needed a reset (tests and diagnostics). */
  lastError: string | null = null;

  constructor(device: VirtioDevice, ctx: VirtioMmioContext, name = device.name) {
    this.name = name;
    this.device = device;
    this.ctx = ctx;
    this.mem = ctx.mem;
    this.irq = ctx.irq;
    this.offered = BigInt.asUintN(64, device.features | TRANSPORT_FEATURES);
    this.queues = device.queueSizes.map((max, i) => new Virtqueue(this, ctx.mem, i, max));
    device.attach(this);
  }

  /** Queue `i` (throws RangeError for a queue the device does not have: a device bug, not a guest one). */
  queue(i: number): Virtqueue {
    const q = this.queues[i];
    if (q === undefined) throw new RangeError(`${this.name} has no queue ${i}`);
    return q;
  }

  /** DRIVER_OK is set and the device has not failed. */
  get live(): boolean {
    return (this.status & STATUS.DRIVER_OK) !== 0 && !this.broken;
  }

  /** Negotiated feature `bit`. */
  has(bit: bigint): boolean {
    return ((this.features >> bit) & 1n) !== 0n;
  }

  /** Poke the machine after raising an interrupt from outside a hart's turn (asynchronous completions). */
  wake(): void {
    this.ctx.wake();
  }

  /** Set DEVICE_NEEDS_RESET and stop (§2.1.2); the driver hears of it through a configuration change interrupt. */
  needsReset(reason: string): void {
    if (this.broken) return;
    this.broken = true;
    this.lastError = reason;
    this.status |= STATUS.DEVICE_NEEDS_RESET;
    this.ctx.onError?.(`${this.name}: device needs reset: ${reason}`);
    if ((this.status & STATUS.DRIVER_OK) !== 0) this.raise(INT_CONFIG);
  }

  /** A host-side problem worth the host's log (an I/O error); the guest sees only the device's answer. */
  warn(message: string): void {
    this.ctx.onError?.(message);
  }

  /** The device changed its configuration space. */
  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) >>> 0;
    if ((this.status & STATUS.DRIVER_OK) !== 0) this.raise(INT_CONFIG);
  }

  usedBufferNotify(): void {
    this.raise(INT_VRING);
  }

  /** Device reset (§2.4): status 0, queues and features forgotten, interrupt lowered, the device told. */
  reset(): void {
    this.status = 0;
    this.features = 0n;
    this.indirect = false;
    this.eventIdx = false;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.queueSel = 0;
    this.broken = false;
    this.lastError = null;
    this.interruptStatus = 0;
    this.irq.set(false);
    for (const q of this.queues) q.reset();
    this.device.reset();
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (offset >= MMIO.Config) return this.configRead(offset - MMIO.Config, size);
    if (size !== 4 || (offset & 3) !== 0) return 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case MMIO.MagicValue:
        return VIRTIO_MMIO_MAGIC;
      case MMIO.Version:
        return 2;
      case MMIO.DeviceID:
        return this.device.deviceId;
      case MMIO.VendorID:
        return VIRTIO_MMIO_VENDOR;
      case MMIO.DeviceFeatures:
        return this.deviceFeaturesSel > 1 ? 0 : Number((this.offered >> BigInt(32 * this.deviceFeaturesSel)) & MASK32);
      case MMIO.QueueNumMax:
        return q?.max ?? 0;
      case MMIO.QueueNum:
        return q?.num ?? 0;
      case MMIO.QueueReady:
        return q?.ready ? 1 : 0;
      case MMIO.QueueDescLow:
        return q?.descLo ?? 0;
      case MMIO.QueueDescHigh:
        return q?.descHi ?? 0;
      case MMIO.QueueDriverLow:
        return q?.driverLo ?? 0;
      case MMIO.QueueDriverHigh:
        return q?.driverHi ?? 0;
      case MMIO.QueueDeviceLow:
        return q?.deviceLo ?? 0;
      case MMIO.QueueDeviceHigh:
        return q?.deviceHi ?? 0;
      case MMIO.InterruptStatus:
        return this.interruptStatus;
      case MMIO.Status:
        return this.status;
      case MMIO.SHMLenLow:
      case MMIO.SHMLenHigh:
      case MMIO.SHMBaseLow:
      case MMIO.SHMBaseHigh:
        return 0xffff_ffff; // no shared memory region (§4.2.2: a length of -1)
      case MMIO.ConfigGeneration:
        return this.configGeneration;
      default:
        return 0;
    }
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset >= MMIO.Config) {
      this.device.configWrite?.(offset - MMIO.Config, size, value);
      return;
    }
    if (size !== 4 || (offset & 3) !== 0) return;
    value >>>= 0;
    const q = this.queues[this.queueSel];
    // Queue registers may change only while the queue is off (§4.2.3.2).
    const qw = q !== undefined && !q.ready;
    switch (offset) {
      case MMIO.DeviceFeaturesSel:
        this.deviceFeaturesSel = value;
        return;
      case MMIO.DriverFeatures:
        if ((this.status & STATUS.FEATURES_OK) !== 0 || this.driverFeaturesSel > 1) return;
        {
          const shift = BigInt(32 * this.driverFeaturesSel);
          this.features = (this.features & ~(MASK32 << shift)) | (BigInt(value) << shift);
        }
        return;
      case MMIO.DriverFeaturesSel:
        this.driverFeaturesSel = value;
        return;
      case MMIO.QueueSel:
        this.queueSel = value;
        return;
      case MMIO.QueueNum:
        if (qw) q.num = value;
        return;
      case MMIO.QueueReady:
        if (q === undefined) return;
        if ((value & 1) === 0) q.disable();
        else if (!q.ready && !this.broken) q.enable();
        return;
      case MMIO.QueueNotify:
        this.notify(value & 0xffff);
        return;
      case MMIO.InterruptACK:
        this.interruptStatus &= ~value;
        this.irq.set(this.interruptStatus !== 0);
        return;
      case MMIO.Status:
        this.writeStatus(value & 0xff);
        return;
      case MMIO.QueueDescLow:
        if (qw) q.descLo = value;
        return;
      case MMIO.QueueDescHigh:
        if (qw) q.descHi = value;
        return;
      case MMIO.QueueDriverLow:
        if (qw) q.driverLo = value;
        return;
      case MMIO.QueueDriverHigh:
        if (qw) q.driverHi = value;
        return;
      case MMIO.QueueDeviceLow:
        if (qw) q.deviceLo = value;
        return;
      case MMIO.QueueDeviceHigh:
        if (qw) q.deviceHi = value;
        return;
      // SHMSel: no shared memory regions, so every selection reads as absent.
    }
  }

  private writeStatus(v: number): void {
    if (v === 0) {
      this.reset();
      return;
    }
    const old = this.status;
    let next = (v & ~STATUS.DEVICE_NEEDS_RESET) | (old & STATUS.DEVICE_NEEDS_RESET);
    if ((next & STATUS.FEATURES_OK) !== 0 && (old & STATUS.FEATURES_OK) === 0) {
      // §3.1.1 step 5-6: accept only a subset of what was offered, and only a modern driver.
      const unknown = this.features & ~this.offered;
      if (unknown !== 0n || !this.has(VIRTIO_F_VERSION_1)) {
        next &= ~STATUS.FEATURES_OK;
        this.ctx.onError?.(
          `${this.name}: refused the driver's features 0x${this.features.toString(16)}` +
            (unknown !== 0n ? ` (not offered: 0x${unknown.toString(16)})` : " (no VIRTIO_F_VERSION_1: legacy driver)"),
        );
      } else {
        this.indirect = this.has(VIRTIO_F_INDIRECT_DESC);
        this.eventIdx = this.has(VIRTIO_F_EVENT_IDX);
      }
    }
    this.status = next;
    if ((next & STATUS.DRIVER_OK) !== 0 && (old & STATUS.DRIVER_OK) === 0) {
      if ((next & STATUS.FEATURES_OK) === 0) {
        this.needsReset("DRIVER_OK without FEATURES_OK (a legacy driver, or features were refused)");
        return;
      }
      this.device.activate();
      for (const q of this.queues) if (q.ready && this.live) this.device.notify(q.index);
    }
  }

  private notify(index: number): void {
    const q = this.queues[index];
    if (q === undefined || !q.ready || !this.live) return;
    this.device.notify(index);
  }

  private configRead(offset: number, size: 1 | 2 | 4): number {
    const c = this.device.config;
    if (offset + size > c.length) return 0;
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + c[offset + i]!;
    return v;
  }

  private raise(bit: number): void {
    this.interruptStatus |= bit;
    this.irq.set(true);
  }

  save(): VirtioMmioState {
    return {
      version: 1,
      status: this.status,
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeaturesSel: this.driverFeaturesSel,
      driverFeatures: this.features.toString(16),
      queueSel: this.queueSel,
      interruptStatus: this.interruptStatus,
      configGeneration: this.configGeneration,
      broken: this.broken,
      queues: this.queues.map((q) => q.save()),
    };
  }

  /** Restore the transport (the device restores its own state afterwards). Throws RangeError on a mismatch. */
  restore(s: VirtioMmioState): void {
    if (s.version !== 1) throw new RangeError(`unknown virtio-mmio state version ${s.version}`);
    if (s.queues.length !== this.queues.length) {
      throw new RangeError(`virtio-mmio state has ${s.queues.length} queues, ${this.name} has ${this.queues.length}`);
    }
    this.reset();
    this.features = BigInt.asUintN(64, BigInt(`0x${s.driverFeatures}`));
    this.indirect = (s.status & STATUS.FEATURES_OK) !== 0 && this.has(VIRTIO_F_INDIRECT_DESC);
    this.eventIdx = (s.status & STATUS.FEATURES_OK) !== 0 && this.has(VIRTIO_F_EVENT_IDX);
    this.deviceFeaturesSel = s.deviceFeaturesSel >>> 0;
    this.driverFeaturesSel = s.driverFeaturesSel >>> 0;
    this.queueSel = s.queueSel >>> 0;
    this.configGeneration = s.configGeneration >>> 0;
    this.broken = s.broken;
    this.status = s.status & 0xff;
    for (let i = 0; i < s.queues.length; i++) this.queues[i]!.restore(s.queues[i]!);
    this.interruptStatus = s.interruptStatus & (INT_VRING | INT_CONFIG);
    this.irq.set(this.interruptStatus !== 0);
  }
}

const MASK32 = 0xffff_ffffn;

/** Options for `virtioMmio`. */
export interface VirtioMmioOptions {
  /** Told when the device enters DEVICE_NEEDS_RESET, refuses the driver's features or meets a host I/O error. */
  readonly onError?: (message: string) => void;
  /** Receives the transport once the machine has built it (tests, snapshots). */
  readonly onCreate?: (t: VirtioMmio) => void;
}

/** A MachineConfig.virtio slot entry: `device` behind a virtio-mmio transport on the slot's PLIC line. */
export function virtioMmio(device: VirtioDevice, opts: VirtioMmioOptions = {}): VirtioFactory {
  return (ctx) => {
    const ram = new Uint8Array(ctx.memory.buffer, RAM_OFFSET, ctx.ramSize);
    const mem = new GuestMemory(ram, ctx.ramBase, ctx.ramWritten);
    const t = new VirtioMmio(device, { irq: ctx.irq, mem, wake: ctx.wake, onError: opts.onError });
    opts.onCreate?.(t);
    return t;
  };
}
