/**
 * virtio-9p, the 9P transport device (device ID 9; Linux net/9p/trans_virtio.c, QEMU hw/9pfs/virtio-9p-device.c):
 * one request queue; each chain holds one T-message in its device-readable part and room for the R-message in its
 * device-writable part (Linux's zero-copy reads and writes put the data pages right after a short header, so both
 * parts are treated as byte streams across buffers). Feature VIRTIO_9P_MOUNT_TAG: the config space is le16 tag_len
 * followed by the tag, which the guest names in `mount -t 9p -o trans=virtio TAG /mnt`. Requests are served
 * concurrently by the 9P server (p9-server.ts) and complete in any order. Not modelled: the legacy transport.
 */
import type { VirtioDevice, VirtioMmio } from "./mmio.ts";
import type { P9Backend } from "./p9-fs.ts";
import { HEADER_SIZE } from "./p9-proto.ts";
import { MAX_MSIZE, P9Server, type P9ServerOptions } from "./p9-server.ts";
import { Chain, type Virtqueue } from "./queue.ts";

/** Device ID (virtio 1.2 §5: 9 = 9P transport). */
export const VIRTIO_ID_9P = 9;
/** Feature bit 0: the config space holds a mount tag. */
export const VIRTIO_9P_MOUNT_TAG = 0n;
/** Longest tag accepted (QEMU's limit; Linux takes what the config says). */
export const MAX_TAG_LEN = 255;
/** Queue size (Linux's VIRTQUEUE_NUM for 9p is 128). */
const QUEUE_SIZE = 128;
/** Longest request read from a chain: a Twrite of msize bytes plus its header. */
const MAX_REQUEST = MAX_MSIZE + 64;
/** Rlerror: the least room a reply needs. */
const MIN_REPLY = HEADER_SIZE + 4;

/** Host error: a bad mount tag. */
export class Virtio9pError extends Error {
  readonly code = "VIRTIO_9P_TAG";
  constructor(message: string) {
    super(message);
    this.name = "Virtio9pError";
  }
}

export class Virtio9p implements VirtioDevice {
  readonly name: string;
  readonly deviceId = VIRTIO_ID_9P;
  readonly features = 1n << VIRTIO_9P_MOUNT_TAG;
  readonly queueSizes = [QUEUE_SIZE];
  readonly config: Uint8Array;
  readonly tag: string;
  readonly server: P9Server;
  private t: VirtioMmio | null = null;
  /** Chains not in use (one per request in flight, reused). */
  private readonly free: Chain[] = [];
  /** Requests being served. */
  inFlight = 0;

  /** `tag`: 1..255 bytes of printable ASCII without spaces or commas. */
  constructor(backend: P9Backend, tag: string, opts: P9ServerOptions = {}) {
    if (!/^[\x21-\x7e]{1,255}$/.test(tag) || tag.includes(",")) {
      throw new Virtio9pError(`bad 9p mount tag ${JSON.stringify(tag)}: use 1 to ${MAX_TAG_LEN} printable characters`);
    }
    this.tag = tag;
    this.name = `virtio-9p:${tag}`;
    this.server = new P9Server(backend, opts);
    this.config = new Uint8Array(2 + tag.length);
    this.config[0] = tag.length & 0xff;
    this.config[1] = tag.length >> 8;
    for (let i = 0; i < tag.length; i++) this.config[2 + i] = tag.charCodeAt(i);
  }

  attach(t: VirtioMmio): void {
    this.t = t;
  }

  activate(): void {}

  reset(): void {
    // Chains in flight belong to the old epoch: their late completions are dropped by the queue.
    void this.server.reset();
  }

  notify(index: number): void {
    const t = this.t!;
    const q = t.queue(index);
    for (;;) {
      const c = this.free.pop() ?? new Chain();
      if (!q.pop(c)) {
        this.free.push(c);
        return;
      }
      if (c.readable < HEADER_SIZE || c.writable < MIN_REPLY) {
        this.free.push(c);
        t.needsReset("9P request without a message header or room for a reply");
        return;
      }
      this.serve(t, q, c);
    }
  }

  private serve(t: VirtioMmio, q: Virtqueue, c: Chain): void {
    const req = new Uint8Array(Math.min(c.readable, MAX_REQUEST));
    c.read(0, req);
    this.inFlight++;
    void this.server.handle(req, c.writable).then((reply) => {
      this.inFlight--;
      // After a reset the chain's epoch is stale: write and complete do nothing.
      const n = c.write(0, reply);
      q.complete(c, n);
      this.free.push(c);
      t.wake();
    });
  }
}
