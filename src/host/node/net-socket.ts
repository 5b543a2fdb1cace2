/**
 * A network cable between two VMs in different processes over a TCP connection, compatible with QEMU's
 * `-netdev socket,listen=…` / `-netdev socket,connect=…` (and `-netdev stream`): frames with a 4-byte big-endian
 * length (core/net/stream.ts). One side listens and takes one peer at a time (the link is down until a peer
 * connects, and again after it leaves); the other connects once at start. Flow control: while the guest posts no
 * receive buffers the socket is not read; when the peer does not read, frames beyond WRITE_LIMIT are dropped, as a
 * congested link drops them. Leaves out: reconnecting after the peer goes away (connect side), UDP multicast.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { FrameQueue, type NetBackend, type NetPort } from "../../core/net/backend.ts";
import { HostNetError } from "../../core/net/host.ts";
import { encodeFrame, FrameDecoder } from "../../core/net/stream.ts";

/** Bytes queued for a peer that does not read before frames are dropped. */
const WRITE_LIMIT = 4 * 1024 * 1024;

export interface SocketBackendOptions {
  readonly mode: "listen" | "connect";
  readonly host: string;
  readonly port: number;
}

export class SocketBackend implements NetBackend {
  readonly opts: SocketBackendOptions;
  /** Frames sent, received, and dropped because the peer was gone or did not read. */
  readonly stats = { sent: 0, received: 0, dropped: 0 };
  private card: NetPort | null = null;
  private server: Server | null = null;
  private sock: Socket | null = null;
  private decoder = new FrameDecoder();
  private readonly held = new FrameQueue();
  private closed = false;
  /** Called with a message when the peer broke the framing or the connection failed (default: ignore). */
  onError: (message: string) => void = () => {};

  constructor(opts: SocketBackendOptions) {
    this.opts = opts;
  }

  /** The port listened on (after `start` in listen mode). */
  get port(): number {
    const a = this.server?.address();
    return typeof a === "object" && a !== null ? a.port : this.opts.port;
  }

  get linkUp(): boolean {
    return this.sock !== null && !this.closed;
  }

  /** Listen, or connect to the peer; rejects with a HostNetError if that fails. */
  start(): Promise<void> {
    const { mode, host, port } = this.opts;
    if (mode === "listen") {
      const server = createServer((s) => {
        if (this.sock !== null || this.closed) {
          s.destroy(); // one peer at a time
          return;
        }
        this.use(s);
      });
      this.server = server;
      return new Promise((resolve, reject) => {
        server.once("error", (e) => reject(hostError(e, `cannot listen on ${host}:${port}`)));
        server.listen({ host, port }, () => {
          server.on("error", (e) => this.onError(`${e.message}`));
          resolve();
        });
      });
    }
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      const fail = (e: Error) => reject(hostError(e, `cannot connect to ${host}:${port}`));
      s.once("error", fail);
      s.once("connect", () => {
        s.off("error", fail);
        this.use(s);
        resolve();
      });
    });
  }

  attach(port: NetPort): void {
    this.card = port;
    port.setLink(this.linkUp);
    this.rxReady();
  }

  transmit(frame: Uint8Array): void {
    const s = this.sock;
    if (s === null || this.closed || s.writableLength > WRITE_LIMIT) {
      this.stats.dropped++;
      return;
    }
    this.stats.sent++;
    s.write(encodeFrame(frame));
  }

  rxReady(): void {
    if (this.held.deliver(this.card) && this.sock?.isPaused()) this.sock.resume();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock?.destroy();
    this.sock = null;
    this.server?.close();
    this.server = null;
    this.held.clear();
  }

  private use(s: Socket): void {
    this.sock = s;
    this.decoder = new FrameDecoder();
    s.setNoDelay(true);
    s.on("data", (chunk: Buffer) => {
      if (this.sock !== s) return;
      const err = this.decoder.push(chunk, (f) => this.fromPeer(f));
      if (err !== null) {
        this.onError(`peer ${s.remoteAddress}:${s.remotePort}: ${err}; disconnecting`);
        s.destroy();
      } else if (this.held.length > 0) {
        s.pause(); // the guest has no buffers: stop reading until it posts some
      }
    });
    s.on("error", (e) => this.onError(`peer connection: ${e.message}`));
    s.on("close", () => {
      if (this.sock !== s) return;
      this.sock = null;
      this.card?.setLink(false);
    });
    this.card?.setLink(true);
  }

  private fromPeer(f: Uint8Array): void {
    this.stats.received++;
    if (this.held.length === 0 && this.card !== null && this.card.receive(f)) return;
    if (!this.held.push(f)) this.stats.dropped++;
  }
}

function hostError(e: unknown, what: string): HostNetError {
  const code = (e as NodeJS.ErrnoException).code ?? "EIO";
  const reasons: Record<string, string> = {
    EADDRINUSE: "address already in use",
    ECONNREFUSED: "connection refused",
    EADDRNOTAVAIL: "address not available on this host",
    EACCES: "permission denied",
  };
  return new HostNetError(code, `${what}: ${reasons[code] ?? (e as Error).message}`);
}
