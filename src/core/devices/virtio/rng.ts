/**
 * virtio-rng, the entropy device (virtio 1.2 §5.4, device ID 4): one requestq; each chain's device-writable buffers
 * are filled with random bytes from the host (crypto.getRandomValues unless another source is passed) and returned.
 * A chain with nothing writable is a driver error (DEVICE_NEEDS_RESET). No device-specific features or config.
 */
import type { VirtioDevice, VirtioMmio } from "./mmio.ts";
import { Chain } from "./queue.ts";

/** Bytes filled per source call (getRandomValues takes at most 65536). */
const BLOCK = 65536;
/** Most bytes given per request: Linux asks for at most a page at a time; a bigger buffer is filled this far. */
const MAX_REQUEST = 1 << 20;

/** Fills `buf` with random bytes; must not keep `buf`. */
export type EntropySource = (buf: Uint8Array) => void;

/** The host's cryptographic RNG (Web Crypto, present in Node and browsers). */
export const hostEntropy: EntropySource = (buf) => {
  crypto.getRandomValues(buf);
};

export class VirtioRng implements VirtioDevice {
  readonly name = "virtio-rng";
  readonly deviceId = 4;
  readonly features = 0n;
  readonly queueSizes = [64];
  readonly config = new Uint8Array(0);
  private t: VirtioMmio | null = null;
  private readonly source: EntropySource;
  private readonly chain = new Chain();
  private readonly block = new Uint8Array(BLOCK);
  /** Bytes handed to the guest so far. */
  served = 0;

  constructor(source: EntropySource = hostEntropy) {
    this.source = source;
  }

  attach(t: VirtioMmio): void {
    this.t = t;
  }

  activate(): void {}

  reset(): void {}

  notify(index: number): void {
    const t = this.t!;
    const q = t.queue(index);
    const c = this.chain;
    let any = false;
    while (q.pop(c)) {
      if (c.writable === 0) {
        t.needsReset("entropy request without a device-writable buffer");
        return;
      }
      const want = Math.min(c.writable, MAX_REQUEST);
      let done = 0;
      while (done < want) {
        const n = Math.min(BLOCK, want - done);
        const b = n === BLOCK ? this.block : this.block.subarray(0, n);
        this.source(b);
        const k = c.write(done, b);
        if (k === 0) break;
        done += k;
      }
      this.served += done;
      q.push(c, done);
      any = true;
    }
    if (any) q.interrupt();
  }
}
