/**
 * Block storage behind virtio-blk: the `BlockBackend` interface host backends implement (src/host/node/block-file.ts
 * for raw image files), `MemoryDisk` (a disk in a byte array: tests, browsers), and `CowOverlay`, the copy-on-write
 * layer of `snapshot=on` drives: writes land in memory in 4 KiB chunks and never reach the backend below.
 * Positions and lengths are bytes; the device only asks for whole 512-byte sectors inside `size`.
 */

/** A host error from a backend; the device answers the request with VIRTIO_BLK_S_IOERR. */
export class BlockError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "BlockError";
    this.code = code;
  }
}

export interface BlockBackend {
  /** Size in bytes (the device shows floor(size / 512) sectors). */
  readonly size: number;
  /** Writes are refused: the device offers VIRTIO_BLK_F_RO and fails writes with IOERR. */
  readonly readOnly: boolean;
  /** Fill `dst` from [pos, pos + dst.length); the promise settles once `dst` is filled (or rejects). */
  read(pos: number, dst: Uint8Array): Promise<void>;
  /** Write all of `src` at `pos`; settles once the write is complete (not necessarily durable). */
  write(pos: number, src: Uint8Array): Promise<void>;
  /** Make every completed write durable (fsync). */
  flush(): Promise<void>;
  /** Zero [pos, pos + len); reads must return zeroes afterwards. */
  writeZeroes(pos: number, len: number): Promise<void>;
  /** The guest no longer needs [pos, pos + len); the backend may deallocate it (contents then unspecified). */
  discard(pos: number, len: number): Promise<void>;
}

/** Bytes zeroed per write when a backend has no cheaper way (BlockBackend.writeZeroes helpers). */
export const ZERO_CHUNK = 1 << 20;

/** A disk held in memory. */
export class MemoryDisk implements BlockBackend {
  readonly bytes: Uint8Array;
  readonly readOnly: boolean;
  flushes = 0;

  constructor(bytes: Uint8Array, readOnly = false) {
    this.bytes = bytes;
    this.readOnly = readOnly;
  }

  get size(): number {
    return this.bytes.length;
  }

  async read(pos: number, dst: Uint8Array): Promise<void> {
    this.check(pos, dst.length);
    dst.set(this.bytes.subarray(pos, pos + dst.length));
  }

  async write(pos: number, src: Uint8Array): Promise<void> {
    this.check(pos, src.length, true);
    this.bytes.set(src, pos);
  }

  async flush(): Promise<void> {
    this.flushes++;
  }

  async writeZeroes(pos: number, len: number): Promise<void> {
    this.check(pos, len, true);
    this.bytes.fill(0, pos, pos + len);
  }

  async discard(pos: number, len: number): Promise<void> {
    this.check(pos, len, true);
  }

  private check(pos: number, len: number, write = false): void {
    if (write && this.readOnly) throw new BlockError("EROFS", "read-only disk");
    if (pos < 0 || pos + len > this.bytes.length) throw new BlockError("ERANGE", `[${pos}, +${len}) outside the disk`);
  }
}

/** Overlay chunk size: ext4's block size, so a typical write copies nothing from below. */
const CHUNK = 4096;

/**
 * Copy-on-write over a backend that is only ever read: chunks written by the guest live in a Map; the rest comes
 * from below. Operations run one at a time (a partial-chunk write reads the chunk from below first, and two of those
 * racing would lose one). Flush has nothing to make durable: the overlay dies with the VM, as QEMU's snapshot=on.
 */
export class CowOverlay implements BlockBackend {
  readonly base: BlockBackend;
  readonly readOnly = false;
  /** Chunk index -> its bytes, or null for a chunk known to be all zeroes. */
  private readonly chunks = new Map<number, Uint8Array | null>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(base: BlockBackend) {
    this.base = base;
  }

  get size(): number {
    return this.base.size;
  }

  /** Bytes of guest writes held in memory. */
  get overlayBytes(): number {
    let n = 0;
    for (const c of this.chunks.values()) if (c !== null) n += c.length;
    return n;
  }

  read(pos: number, dst: Uint8Array): Promise<void> {
    return this.serial(async () => {
      this.check(pos, dst.length);
      const end = pos + dst.length;
      // Runs of chunks not in the overlay are read from below in one call each.
      let run = -1;
      for (let p = pos; p < end; ) {
        const idx = Math.floor(p / CHUNK);
        const next = Math.min((idx + 1) * CHUNK, end);
        const chunk = this.chunks.get(idx);
        if (chunk === undefined) {
          if (run < 0) run = p;
        } else {
          if (run >= 0) await this.base.read(run, dst.subarray(run - pos, p - pos));
          run = -1;
          if (chunk === null) dst.fill(0, p - pos, next - pos);
          else dst.set(chunk.subarray(p - idx * CHUNK, next - idx * CHUNK), p - pos);
        }
        p = next;
      }
      if (run >= 0) await this.base.read(run, dst.subarray(run - pos));
    });
  }

  write(pos: number, src: Uint8Array): Promise<void> {
    return this.serial(async () => {
      this.check(pos, src.length);
      const end = pos + src.length;
      for (let p = pos; p < end; ) {
        const idx = Math.floor(p / CHUNK);
        const next = Math.min((idx + 1) * CHUNK, end);
        const chunk = await this.own(idx, p === idx * CHUNK && next - p === this.chunkLen(idx));
        chunk.set(src.subarray(p - pos, next - pos), p - idx * CHUNK);
        p = next;
      }
    });
  }

  async flush(): Promise<void> {}

  writeZeroes(pos: number, len: number): Promise<void> {
    return this.serial(async () => {
      this.check(pos, len);
      const end = pos + len;
      for (let p = pos; p < end; ) {
        const idx = Math.floor(p / CHUNK);
        const next = Math.min((idx + 1) * CHUNK, end);
        if (p === idx * CHUNK && next - p === this.chunkLen(idx)) this.chunks.set(idx, null);
        else (await this.own(idx, false)).fill(0, p - idx * CHUNK, next - idx * CHUNK);
        p = next;
      }
    });
  }

  /** Deallocates nothing: what lies below would show through, which discard allows but gains little here. */
  async discard(pos: number, len: number): Promise<void> {
    this.check(pos, len);
  }

  /** The overlay's copy of chunk `idx`, made from below (or zeroes) unless the caller overwrites it all. */
  private async own(idx: number, whole: boolean): Promise<Uint8Array> {
    const have = this.chunks.get(idx);
    if (have) return have;
    const chunk = new Uint8Array(this.chunkLen(idx));
    if (have === undefined && !whole) await this.base.read(idx * CHUNK, chunk);
    this.chunks.set(idx, chunk);
    return chunk;
  }

  /** Length of chunk `idx` (the last one may be short). */
  private chunkLen(idx: number): number {
    return Math.min(CHUNK, this.size - idx * CHUNK);
  }

  private check(pos: number, len: number): void {
    if (pos < 0 || pos + len > this.size) throw new BlockError("ERANGE", `[${pos}, +${len}) outside the disk`);
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const p = this.tail.then(op);
    this.tail = p.catch(() => {});
    return p;
  }
}
