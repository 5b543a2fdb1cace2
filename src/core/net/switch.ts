/**
 * An Ethernet switch inside one process, for VMs that share a host process: each `port()` is a NetBackend for one
 * card. Learns source MACs (IEEE 802.1D, without ageing: a MAC seen on another port moves), forwards unicast to the
 * learned port and floods broadcast, multicast and unknown destinations. Frames for a card without receive buffers
 * wait in that port's queue, dropped beyond HELD_FRAMES as a real switch drops.
 */
import { FrameQueue, type NetBackend, type NetPort } from "./backend.ts";
import { ETH_HLEN } from "./packet.ts";

/** Largest frame forwarded (an MTU of 1500 plus the header; larger ones are dropped). */
const MAX_SWITCH_FRAME = ETH_HLEN + 1500;

class SwitchPort implements NetBackend {
  readonly sw: NetSwitch;
  readonly queue = new FrameQueue();
  card: NetPort | null = null;
  closed = false;

  constructor(sw: NetSwitch) {
    this.sw = sw;
  }

  get linkUp(): boolean {
    return !this.closed;
  }

  attach(port: NetPort): void {
    this.card = port;
    port.setLink(true);
    this.queue.deliver(port);
  }

  transmit(frame: Uint8Array): void {
    if (!this.closed) this.sw.forward(this, frame);
  }

  rxReady(): void {
    this.queue.deliver(this.card);
  }

  /** A frame from another port. */
  deliver(frame: Uint8Array): void {
    if (this.closed) return;
    if (this.queue.length === 0 && this.card !== null && this.card.receive(frame)) return;
    this.queue.push(frame);
  }

  close(): void {
    this.closed = true;
    this.queue.clear();
    this.sw.unplug(this);
  }
}

export class NetSwitch {
  private readonly ports: SwitchPort[] = [];
  /** MAC (as a 48-bit number) -> port. */
  private readonly table = new Map<number, SwitchPort>();
  /** Frames forwarded and dropped (too short or too long). */
  forwarded = 0;
  dropped = 0;

  /** A new port: the backend for one card. */
  port(): NetBackend {
    const p = new SwitchPort(this);
    this.ports.push(p);
    return p;
  }

  forward(from: SwitchPort, f: Uint8Array): void {
    if (f.length < ETH_HLEN || f.length > MAX_SWITCH_FRAME) {
      this.dropped++;
      return;
    }
    const src = mac48(f, 6);
    if ((f[6]! & 1) === 0) this.table.set(src, from);
    const to = (f[0]! & 1) === 0 ? this.table.get(mac48(f, 0)) : undefined;
    this.forwarded++;
    if (to !== undefined) {
      if (to !== from) to.deliver(f);
      return;
    }
    for (const p of this.ports) if (p !== from) p.deliver(f);
  }

  unplug(p: SwitchPort): void {
    const i = this.ports.indexOf(p);
    if (i >= 0) this.ports.splice(i, 1);
    for (const [m, q] of this.table) if (q === p) this.table.delete(m);
  }
}

const mac48 = (f: Uint8Array, o: number): number =>
  f[o]! * 2 ** 40 + f[o + 1]! * 2 ** 32 + f[o + 2]! * 2 ** 24 + ((f[o + 3]! << 16) | (f[o + 4]! << 8) | f[o + 5]!);
