/**
 * The link between a network card model (virtio-net) and what is on the other end of its cable: the user-mode stack
 * (slirp.ts), a switch or cable to another VM in the same process (switch.ts), or a host socket to another process
 * (host/node/net-socket.ts). Frames are Ethernet II without preamble or FCS, at most MAX_FRAME bytes unless a
 * backend says otherwise.
 */

/** The card's side of the link, as a backend sees it. */
export interface NetPort {
  /**
   * Deliver a frame to the guest. Returns false when the guest has no receive buffer posted: the frame was not taken,
   * the backend keeps it (or drops it) and waits for `NetBackend.rxReady()`. When it returns true the frame was copied
   * and the array may be reused.
   */
  receive(frame: Uint8Array): boolean;
  /** The link went up or down (virtio-net's VIRTIO_NET_S_LINK_UP). */
  setLink(up: boolean): void;
}

/** The other end of the cable, as the card sees it. */
export interface NetBackend {
  /** Connect the card; a backend has one card at a time. Frames held before this are delivered now. */
  attach(port: NetPort): void;
  /**
   * A frame from the guest. The backend copies what it keeps: the array may be reused after the call. It never
   * throws, whatever the bytes.
   */
  transmit(frame: Uint8Array): void;
  /** The guest has posted receive buffers again: deliver held frames. */
  rxReady(): void;
  /** Whether the link is up now. */
  readonly linkUp: boolean;
  /** Release host resources (sockets, timers). The backend drops frames afterwards. */
  close(): void;
}

/** QEMU's default MAC for the first NIC (qemu_macaddr_default_if_unset: 52:54:00:12:34:56). */
export const DEFAULT_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);

/** Frames a backend holds for a guest that posts no receive buffers before it starts dropping (a NIC's ring). */
export const HELD_FRAMES = 256;

/**
 * Frames waiting for the card: FIFO with a bound, dropping new frames when full as a full ring does. `deliver` hands
 * them over until the card refuses one.
 */
export class FrameQueue {
  private readonly frames: Uint8Array[] = [];
  private head = 0;
  /** Frames dropped because the queue was full. */
  dropped = 0;

  readonly limit: number;

  constructor(limit = HELD_FRAMES) {
    this.limit = limit;
  }

  get length(): number {
    return this.frames.length - this.head;
  }

  /** Queue a copy of `frame`; false (and counted) if full. */
  push(frame: Uint8Array): boolean {
    if (this.length >= this.limit) {
      this.dropped++;
      return false;
    }
    this.frames.push(frame.slice());
    return true;
  }

  /** Hand frames to `port` in order until it refuses one; returns true when the queue is empty afterwards. */
  deliver(port: NetPort | null): boolean {
    if (port !== null) {
      while (this.head < this.frames.length) {
        if (!port.receive(this.frames[this.head]!)) break;
        this.frames[this.head++] = EMPTY;
      }
    }
    if (this.head === this.frames.length) {
      this.frames.length = 0;
      this.head = 0;
      return true;
    }
    if (this.head > 64 && this.head * 2 > this.frames.length) {
      this.frames.splice(0, this.head);
      this.head = 0;
    }
    return false;
  }

  clear(): void {
    this.frames.length = 0;
    this.head = 0;
  }
}

const EMPTY = new Uint8Array(0);
