/**
 * virtio-net, the network card (virtio 1.2 §5.1, device ID 1): receiveq1 and transmitq1, VIRTIO_NET_F_MAC (the
 * card's address in the configuration space, QEMU's 52:54:00:12:34:56 by default) and VIRTIO_NET_F_STATUS (link up
 * or down from the backend, with a configuration change interrupt). Every buffer starts with the 12-byte
 * virtio_net_hdr of VERSION_1 (§5.1.6); the device offers no checksum or segmentation offload, so headers from the
 * driver carry nothing it must act on and headers to it are zero with num_buffers = 1. Frames go to and come from a
 * NetBackend (user-mode stack, socket cable, switch). Not offered: CSUM/GSO offloads, MRG_RXBUF, CTRL_VQ (so no
 * promiscuous/multicast filtering: every frame is delivered), MQ, MTU, ANNOUNCE.
 */
import type { NetBackend, NetPort } from "../../net/backend.ts";
import type { VirtioDevice, VirtioMmio } from "./mmio.ts";
import { Chain } from "./queue.ts";

/** Feature bits (§5.1.3). */
export const VIRTIO_NET_F_MAC = 5n;
export const VIRTIO_NET_F_STATUS = 16n;
/** Configuration status bits (§5.1.4). */
export const VIRTIO_NET_S_LINK_UP = 1;
/** struct virtio_net_hdr with VIRTIO_F_VERSION_1: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset,
 * num_buffers. */
export const VIRTIO_NET_HDR_SIZE = 12;
const RXQ = 0;
const TXQ = 1;
/** Ring sizes (QEMU's default for virtio-net: 256). */
const QUEUE_SIZE = 256;
/** Largest frame taken from the driver: without GSO a frame is at most an MTU of 1500 + header + VLAN tag; allow
 * jumbo frames up to 64 KiB for backends that carry them. */
export const MAX_TX_FRAME = 65535 + 14;
/** Smallest Ethernet frame worth sending (a header). */
const MIN_FRAME = 14;

/** Saved device state (STYLE.md rule 8): the transport saves the rings. */
export interface VirtioNetState {
  readonly version: 1;
  readonly mac: string;
  readonly linkUp: boolean;
}

export class VirtioNet implements VirtioDevice, NetPort {
  readonly name = "virtio-net";
  readonly deviceId = 1;
  readonly features = (1n << VIRTIO_NET_F_MAC) | (1n << VIRTIO_NET_F_STATUS);
  readonly queueSizes = [QUEUE_SIZE, QUEUE_SIZE];
  /** mac[6], status (le16), max_virtqueue_pairs (le16, 1), mtu (le16, 1500: not offered, read as QEMU fills it). */
  readonly config = new Uint8Array(12);
  readonly backend: NetBackend;
  /** Frames in each direction, and frames dropped (malformed from the driver, or too big for its buffer). */
  readonly stats = { rxFrames: 0, txFrames: 0, txDropped: 0, rxDropped: 0 };
  private t: VirtioMmio | null = null;
  private readonly rxChain = new Chain();
  private readonly txChain = new Chain();
  private readonly txBuf = new Uint8Array(MAX_TX_FRAME);
  /** The header written before each received frame: all zero but num_buffers = 1. */
  private readonly rxHdr = new Uint8Array(VIRTIO_NET_HDR_SIZE);

  constructor(backend: NetBackend, mac: Uint8Array) {
    if (mac.length !== 6 || (mac[0]! & 1) !== 0) throw new RangeError("virtio-net: the MAC must be 6 bytes, unicast");
    this.backend = backend;
    this.config.set(mac, 0);
    this.config[8] = 1; // max_virtqueue_pairs
    this.config[10] = 1500 & 0xff;
    this.config[11] = 1500 >> 8;
    this.rxHdr[10] = 1; // num_buffers
    this.setStatus(backend.linkUp);
  }

  /** The card's MAC address. */
  get mac(): Uint8Array {
    return this.config.subarray(0, 6);
  }

  attach(t: VirtioMmio): void {
    this.t = t;
    this.backend.attach(this);
  }

  activate(): void {}

  reset(): void {}

  notify(q: number): void {
    if (q === RXQ) this.backend.rxReady();
    else if (q === TXQ) this.transmit();
  }

  // ---- NetPort: the backend's side ----

  receive(frame: Uint8Array): boolean {
    const t = this.t;
    if (t === null || !t.live) return false;
    const q = t.queue(RXQ);
    const c = this.rxChain;
    if (!q.pop(c)) return false;
    if (c.writable < VIRTIO_NET_HDR_SIZE + frame.length) {
      // Without MRG_RXBUF every buffer must hold a whole frame (§5.1.6.3.1); Linux's hold 1518 bytes. Drop it and
      // give the buffer back empty (the driver counts a length error).
      this.stats.rxDropped++;
      q.complete(c, 0);
      t.wake();
      return true;
    }
    c.write(0, this.rxHdr);
    c.write(VIRTIO_NET_HDR_SIZE, frame);
    this.stats.rxFrames++;
    q.complete(c, VIRTIO_NET_HDR_SIZE + frame.length);
    t.wake();
    return true;
  }

  setLink(up: boolean): void {
    if (((this.config[6]! & VIRTIO_NET_S_LINK_UP) !== 0) === up) return;
    this.setStatus(up);
    this.t?.configChanged();
  }

  // ---- Transmit ----

  private transmit(): void {
    const t = this.t!;
    const q = t.queue(TXQ);
    const c = this.txChain;
    let any = false;
    while (q.pop(c)) {
      if (c.readable < VIRTIO_NET_HDR_SIZE) {
        t.needsReset("transmit buffer without a virtio_net_hdr");
        return;
      }
      const len = c.readable - VIRTIO_NET_HDR_SIZE;
      if (len < MIN_FRAME || len > MAX_TX_FRAME) {
        this.stats.txDropped++;
      } else {
        const buf = this.txBuf;
        c.read(VIRTIO_NET_HDR_SIZE, buf, 0, len);
        this.stats.txFrames++;
        this.backend.transmit(buf.subarray(0, len));
      }
      q.push(c, 0);
      any = true;
    }
    if (any) q.interrupt();
  }

  private setStatus(up: boolean): void {
    this.config[6] = up ? VIRTIO_NET_S_LINK_UP : 0;
    this.config[7] = 0;
  }

  save(): VirtioNetState {
    return {
      version: 1,
      mac: Array.from(this.mac, (b) => b.toString(16).padStart(2, "0")).join(":"),
      linkUp: (this.config[6]! & VIRTIO_NET_S_LINK_UP) !== 0,
    };
  }

  /** Restore the device's own state (the MAC must match: it is part of the machine's configuration). */
  restore(s: VirtioNetState): void {
    if (s.version !== 1) throw new RangeError(`unknown virtio-net state version ${s.version}`);
    if (s.mac !== this.save().mac) throw new RangeError(`virtio-net state is for MAC ${s.mac}, not ${this.save().mac}`);
    this.setStatus(s.linkUp);
  }
}
