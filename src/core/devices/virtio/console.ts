/**
 * virtio-console (virtio 1.2 §5.3, device ID 3) with a single port: receiveq0 carries host input into the guest's
 * buffers, transmitq0 the guest's output to the host. Linux makes the port an hvc console (hvc0, or hvc1 when the
 * kernel also has the SBI console HVC_RISCV_SBI, which claims hvc0 first). Offered: VIRTIO_CONSOLE_F_SIZE (the host
 * terminal's size, updated with `resize`) and VIRTIO_CONSOLE_F_EMERG_WRITE. Not offered: MULTIPORT (no control
 * queues, no named ports).
 */
import type { VirtioDevice, VirtioMmio } from "./mmio.ts";
import { Chain } from "./queue.ts";

export const VIRTIO_CONSOLE_F_SIZE = 0n;
export const VIRTIO_CONSOLE_F_EMERG_WRITE = 2n;

/** Configuration space (§5.3.4): cols u16, rows u16, max_nr_ports u32, emerg_wr u32. */
const CFG_COLS = 0;
const CFG_ROWS = 2;
const CFG_EMERG_WR = 8;
const CFG_SIZE = 12;
/** Output taken from one transmit chain at most (Linux sends at most a page); the rest is dropped. */
const MAX_TX = 1 << 20;
/** Output copied out of guest RAM per host call. */
const TX_PIECE = 64 * 1024;

const RX = 0;
const TX = 1;

export interface VirtioConsoleOptions {
  /** Terminal size to report (VIRTIO_CONSOLE_F_SIZE); absent: the feature is not offered. */
  readonly size?: { readonly cols: number; readonly rows: number };
}

export class VirtioConsole implements VirtioDevice {
  readonly name = "virtio-console";
  readonly deviceId = 3;
  readonly features: bigint;
  readonly queueSizes = [128, 128];
  readonly config = new Uint8Array(CFG_SIZE);
  private readonly onOutput: (bytes: Uint8Array) => void;
  private t: VirtioMmio | null = null;
  private readonly chain = new Chain();
  /** Host input not yet given to the guest. */
  private readonly input: Uint8Array[] = [];
  private inputOff = 0;
  /** Bytes of input waiting. */
  queued = 0;

  /** `onOutput` receives the guest's output; the array is not reused after the call. */
  constructor(onOutput: (bytes: Uint8Array) => void, opts: VirtioConsoleOptions = {}) {
    this.onOutput = onOutput;
    this.features = (opts.size !== undefined ? 1n << VIRTIO_CONSOLE_F_SIZE : 0n) | (1n << VIRTIO_CONSOLE_F_EMERG_WRITE);
    if (opts.size !== undefined) this.setSize(opts.size.cols, opts.size.rows);
    new DataView(this.config.buffer).setUint32(4, 1, true); // max_nr_ports (meaningful only with MULTIPORT)
  }

  attach(t: VirtioMmio): void {
    this.t = t;
  }

  /** The guest's driver is running: input will reach it. */
  get listening(): boolean {
    return this.t?.live === true && this.t.queue(RX).ready;
  }

  /** Host input (keyboard, pipe): handed to the guest as it posts receive buffers; kept until then. */
  receive(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.input.push(bytes.slice());
    this.queued += bytes.length;
    if (this.deliver()) this.t?.wake();
  }

  /** The host terminal changed size (reported if VIRTIO_CONSOLE_F_SIZE was offered). */
  resize(cols: number, rows: number): void {
    if ((this.features & (1n << VIRTIO_CONSOLE_F_SIZE)) === 0n) return;
    this.setSize(cols, rows);
    if (this.t !== null) {
      this.t.configChanged();
      this.t.wake();
    }
  }

  activate(): void {}

  /** Input already queued stays queued: it belongs to the user, not to the driver that was reset. */
  reset(): void {}

  notify(index: number): void {
    if (index === RX) this.deliver();
    else if (index === TX) this.transmit();
  }

  configWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    // emerg_wr: the driver writes one character for immediate output (§5.3.6, VIRTIO_CONSOLE_F_EMERG_WRITE).
    if (offset === CFG_EMERG_WR && size === 4) this.onOutput(Uint8Array.of(value & 0xff));
  }

  private setSize(cols: number, rows: number): void {
    const dv = new DataView(this.config.buffer);
    dv.setUint16(CFG_COLS, Math.max(0, Math.min(0xffff, cols | 0)), true);
    dv.setUint16(CFG_ROWS, Math.max(0, Math.min(0xffff, rows | 0)), true);
  }

  /** Move queued input into receive buffers; returns whether any went in. */
  private deliver(): boolean {
    const t = this.t;
    if (t === null || this.queued === 0) return false;
    const q = t.queue(RX);
    const c = this.chain;
    let any = false;
    while (this.queued > 0 && q.pop(c)) {
      if (c.writable === 0) {
        t.needsReset("console receive buffer without a device-writable part");
        return any;
      }
      let n = 0;
      while (n < c.writable && this.input.length > 0) {
        const head = this.input[0]!;
        const k = c.write(n, head, this.inputOff, Math.min(head.length - this.inputOff, c.writable - n));
        n += k;
        this.inputOff += k;
        if (this.inputOff === head.length) {
          this.input.shift();
          this.inputOff = 0;
        }
        if (k === 0) break;
      }
      this.queued -= n;
      q.push(c, n);
      any = true;
    }
    if (any) q.interrupt();
    return any;
  }

  private transmit(): void {
    const q = this.t!.queue(TX);
    const c = this.chain;
    let any = false;
    while (q.pop(c)) {
      const len = Math.min(c.readable, MAX_TX);
      for (let done = 0; done < len; ) {
        const out = new Uint8Array(Math.min(TX_PIECE, len - done));
        done += c.read(done, out);
        this.onOutput(out);
      }
      q.push(c, 0);
      any = true;
    }
    if (any) q.interrupt();
  }
}
