/**
 * virtio-blk (virtio 1.2 §5.2, device ID 2): one request queue over a BlockBackend. Requests — IN, OUT, FLUSH,
 * GET_ID, DISCARD, WRITE_ZEROES — run asynchronously (any number in flight, completed in any order, as §5.2.6
 * allows) and move data through bounded bounce buffers, so a late completion after a reset never touches RAM.
 * Offered: SEG_MAX, BLK_SIZE (512), FLUSH, DISCARD, WRITE_ZEROES, and RO for read-only backends (writes then fail
 * with IOERR, as QEMU and the spec require). Not offered: multiqueue, CONFIG_WCE, TOPOLOGY, zoned devices, secure
 * erase, lifetime. A request without its 16-byte header or a writable status byte is a driver error
 * (DEVICE_NEEDS_RESET, as QEMU's "virtio-blk missing headers").
 */
import type { BlockBackend } from "./blk-backend.ts";
import type { VirtioDevice, VirtioMmio } from "./mmio.ts";
import { Chain, type Virtqueue } from "./queue.ts";

/** Feature bits (§5.2.3). */
export const VIRTIO_BLK_F_SIZE_MAX = 1n;
export const VIRTIO_BLK_F_SEG_MAX = 2n;
export const VIRTIO_BLK_F_RO = 5n;
export const VIRTIO_BLK_F_BLK_SIZE = 6n;
export const VIRTIO_BLK_F_FLUSH = 9n;
export const VIRTIO_BLK_F_DISCARD = 13n;
export const VIRTIO_BLK_F_WRITE_ZEROES = 14n;

/** Request types (§5.2.6). */
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_T_DISCARD = 11;
export const VIRTIO_BLK_T_WRITE_ZEROES = 13;

/** Status values. */
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;

export const SECTOR = 512;
/** GET_ID answers with at most this many bytes. */
export const VIRTIO_BLK_ID_BYTES = 20;
/** Request queue size (QEMU's default); SEG_MAX is two less (header and status), as QEMU's seg-max-adjust. */
const QUEUE_SIZE = 256;
/** Largest piece of a request moved through a bounce buffer at once. */
const BOUNCE = 1 << 20;
/** Most sectors one DISCARD or WRITE_ZEROES segment may cover (QEMU's BDRV_REQUEST_MAX_SECTORS). */
const MAX_DWZ_SECTORS = 0x3f_ffff;
/** The unmap flag of a discard/write-zeroes segment; other flag bits are reserved. */
const DWZ_UNMAP = 1;

/** Configuration space layout (§5.2.4). */
const CFG_CAPACITY = 0;
const CFG_SEG_MAX = 12;
const CFG_BLK_SIZE = 20;
const CFG_MAX_DISCARD_SECTORS = 36;
const CFG_MAX_DISCARD_SEG = 40;
const CFG_DISCARD_SECTOR_ALIGNMENT = 44;
const CFG_MAX_WRITE_ZEROES_SECTORS = 48;
const CFG_MAX_WRITE_ZEROES_SEG = 52;
const CFG_SIZE = 60;

export interface VirtioBlkOptions {
  /** The device ID string GET_ID returns (ASCII, at most 20 bytes; QEMU's serial=). Default: none (all zeroes). */
  readonly serial?: string;
}

export class VirtioBlk implements VirtioDevice {
  readonly name = "virtio-blk";
  readonly deviceId = 2;
  readonly features: bigint;
  readonly queueSizes = [QUEUE_SIZE];
  readonly config = new Uint8Array(CFG_SIZE);
  readonly backend: BlockBackend;
  /** Sectors the guest sees. */
  readonly capacity: number;
  private readonly id = new Uint8Array(VIRTIO_BLK_ID_BYTES);
  private t: VirtioMmio | null = null;
  private readonly pool: Chain[] = [];
  private inflight = 0;
  private idle: (() => void)[] = [];
  /** Requests completed, by outcome (tests, statistics). */
  readonly stats = { requests: 0, ioErrors: 0, unsupported: 0, bytesRead: 0, bytesWritten: 0, flushes: 0 };

  constructor(backend: BlockBackend, opts: VirtioBlkOptions = {}) {
    this.backend = backend;
    this.capacity = Math.floor(backend.size / SECTOR);
    const serial = opts.serial ?? "";
    if (serial.length > VIRTIO_BLK_ID_BYTES || !/^[\x20-\x7e]*$/.test(serial)) {
      throw new RangeError(`virtio-blk serial must be at most ${VIRTIO_BLK_ID_BYTES} printable ASCII characters`);
    }
    for (let i = 0; i < serial.length; i++) this.id[i] = serial.charCodeAt(i);
    this.features =
      (1n << VIRTIO_BLK_F_SEG_MAX) |
      (1n << VIRTIO_BLK_F_BLK_SIZE) |
      (1n << VIRTIO_BLK_F_FLUSH) |
      (1n << VIRTIO_BLK_F_DISCARD) |
      (1n << VIRTIO_BLK_F_WRITE_ZEROES) |
      (backend.readOnly ? 1n << VIRTIO_BLK_F_RO : 0n);
    const dv = new DataView(this.config.buffer);
    dv.setBigUint64(CFG_CAPACITY, BigInt(this.capacity), true);
    dv.setUint32(CFG_SEG_MAX, QUEUE_SIZE - 2, true);
    dv.setUint32(CFG_BLK_SIZE, SECTOR, true);
    dv.setUint32(CFG_MAX_DISCARD_SECTORS, MAX_DWZ_SECTORS, true);
    dv.setUint32(CFG_MAX_DISCARD_SEG, 1, true);
    dv.setUint32(CFG_DISCARD_SECTOR_ALIGNMENT, 1, true);
    dv.setUint32(CFG_MAX_WRITE_ZEROES_SECTORS, MAX_DWZ_SECTORS, true);
    dv.setUint32(CFG_MAX_WRITE_ZEROES_SEG, 1, true);
    // write_zeroes_may_unmap stays 0: zeroing never deallocates here.
  }

  attach(t: VirtioMmio): void {
    this.t = t;
  }

  activate(): void {}

  /** In-flight requests keep running to completion; their results are dropped (their chains are stale). */
  reset(): void {}

  /** Requests still running. */
  get pending(): number {
    return this.inflight;
  }

  /** Resolves when no request is in flight (shutdown waits for this before closing the backend). */
  drain(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  notify(index: number): void {
    const q = this.t!.queue(index);
    for (;;) {
      const c = this.pool.pop() ?? new Chain();
      if (!q.pop(c)) {
        this.pool.push(c);
        return;
      }
      if (c.readable < 16 || c.writable < 1) {
        this.pool.push(c);
        this.t!.needsReset("virtio-blk request without its 16-byte header or status byte");
        return;
      }
      this.inflight++;
      void this.run(q, c);
    }
  }

  private async run(q: Virtqueue, c: Chain): Promise<void> {
    let status = VIRTIO_BLK_S_IOERR;
    let written = 0;
    try {
      const hdr = new Uint8Array(16);
      c.read(0, hdr);
      const dv = new DataView(hdr.buffer);
      const type = dv.getUint32(0, true);
      const sectorLo = dv.getUint32(8, true);
      const sectorHi = dv.getUint32(12, true);
      [status, written] = await this.execute(c, type, sectorLo, sectorHi);
    } catch (e) {
      status = VIRTIO_BLK_S_IOERR;
      this.t!.warn(`virtio-blk: I/O error: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.stats.requests++;
    if (status === VIRTIO_BLK_S_IOERR) this.stats.ioErrors++;
    else if (status === VIRTIO_BLK_S_UNSUPP) this.stats.unsupported++;
    if (c.writeByte(c.writable - 1, status)) {
      q.complete(c, written + 1);
      this.t!.wake();
    }
    this.pool.push(c);
    if (--this.inflight === 0) for (const f of this.idle.splice(0)) f();
  }

  /** Carry out one request; returns the status and the data bytes written into the chain. */
  private async execute(c: Chain, type: number, sectorLo: number, sectorHi: number): Promise<[number, number]> {
    const b = this.backend;
    switch (type) {
      case VIRTIO_BLK_T_IN: {
        const len = c.writable - 1;
        const pos = this.range(sectorLo, sectorHi, len);
        if (pos < 0) return [VIRTIO_BLK_S_IOERR, 0];
        const buf = new Uint8Array(Math.min(len, BOUNCE));
        for (let done = 0; done < len; ) {
          const k = Math.min(BOUNCE, len - done);
          const piece = buf.subarray(0, k);
          await b.read(pos + done, piece);
          if (c.write(done, piece) !== k) return [VIRTIO_BLK_S_IOERR, done];
          done += k;
        }
        this.stats.bytesRead += len;
        return [VIRTIO_BLK_S_OK, len];
      }
      case VIRTIO_BLK_T_OUT: {
        const len = c.readable - 16;
        if (b.readOnly) return [VIRTIO_BLK_S_IOERR, 0];
        const pos = this.range(sectorLo, sectorHi, len);
        if (pos < 0) return [VIRTIO_BLK_S_IOERR, 0];
        const buf = new Uint8Array(Math.min(len, BOUNCE));
        for (let done = 0; done < len; ) {
          const k = Math.min(BOUNCE, len - done);
          const piece = buf.subarray(0, k);
          c.read(16 + done, piece);
          await b.write(pos + done, piece);
          done += k;
        }
        this.stats.bytesWritten += len;
        return [VIRTIO_BLK_S_OK, 0];
      }
      case VIRTIO_BLK_T_FLUSH:
        this.stats.flushes++;
        if (!b.readOnly) await b.flush();
        return [VIRTIO_BLK_S_OK, 0];
      case VIRTIO_BLK_T_GET_ID: {
        const n = Math.min(c.writable - 1, VIRTIO_BLK_ID_BYTES);
        return [VIRTIO_BLK_S_OK, c.write(0, this.id, 0, n)];
      }
      case VIRTIO_BLK_T_DISCARD:
      case VIRTIO_BLK_T_WRITE_ZEROES: {
        // One segment (max_*_seg = 1): { le64 sector; le32 num_sectors; le32 flags }.
        if (c.readable - 16 !== 16) return [VIRTIO_BLK_S_UNSUPP, 0];
        const seg = new Uint8Array(16);
        c.read(16, seg);
        const dv = new DataView(seg.buffer);
        const num = dv.getUint32(8, true);
        const flags = dv.getUint32(12, true);
        const discard = type === VIRTIO_BLK_T_DISCARD;
        if ((flags & ~DWZ_UNMAP) !== 0 || (discard && flags !== 0)) return [VIRTIO_BLK_S_UNSUPP, 0];
        if (b.readOnly || num > MAX_DWZ_SECTORS) return [VIRTIO_BLK_S_IOERR, 0];
        const pos = this.range(dv.getUint32(0, true), dv.getUint32(4, true), num * SECTOR);
        if (pos < 0) return [VIRTIO_BLK_S_IOERR, 0];
        if (discard) await b.discard(pos, num * SECTOR);
        else await b.writeZeroes(pos, num * SECTOR);
        return [VIRTIO_BLK_S_OK, 0];
      }
      default:
        return [VIRTIO_BLK_S_UNSUPP, 0];
    }
  }

  /** Byte position of `len` bytes at sector hi:lo, or -1 if not whole sectors inside the disk. */
  private range(lo: number, hi: number, len: number): number {
    if (len % SECTOR !== 0 || hi >= 0x20_0000) return -1;
    const sector = hi * 2 ** 32 + lo;
    if (sector + len / SECTOR > this.capacity) return -1;
    return sector * SECTOR;
  }
}
