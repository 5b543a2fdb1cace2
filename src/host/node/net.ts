/**
 * The user-mode network stack's host side on Node (core/net/host.ts): TCP through node:net (half-open allowed, so a
 * guest's FIN and the host's FIN travel separately; an abort sends RST), UDP through node:dgram, names through
 * node:dns lookup (getaddrinfo, which reads /etc/hosts), timers that do not keep the process alive.
 */
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { promises as dnsPromises, getServers } from "node:dns";
import { connect, createServer, isIPv4, type Socket } from "node:net";
import type { HostListener, HostTcp, HostTcpEvents, HostTimer, HostUdp, NetHost } from "../../core/net/host.ts";
import { HostNetError } from "../../core/net/host.ts";

const REASONS: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EACCES: "permission denied",
  EADDRNOTAVAIL: "address not available on this host",
  EINVAL: "invalid address",
};

/** A node:net socket seen through HostTcp; events reach `events` until the stack destroys it. */
class NodeTcp implements HostTcp {
  private readonly sock: Socket;
  private error: string | null = null;
  private dead = false;

  constructor(sock: Socket) {
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on("error", (e: NodeJS.ErrnoException) => {
      this.error = e.code ?? "EIO";
    });
  }

  /** Start delivering events (for an accepted socket, once the stack has taken it). */
  listen(events: HostTcpEvents): void {
    const s = this.sock;
    s.on("connect", () => {
      if (!this.dead) events.onConnect();
    });
    s.on("data", (d: Buffer) => {
      if (!this.dead) events.onData(d);
    });
    s.on("end", () => {
      if (!this.dead) events.onEnd();
    });
    s.on("drain", () => {
      if (!this.dead) events.onDrain();
    });
    s.on("close", () => {
      if (this.dead) return;
      this.dead = true;
      events.onClose(this.error);
    });
  }

  get bufferedAmount(): number {
    return this.sock.writableLength;
  }

  write(data: Uint8Array): void {
    if (!this.dead && this.sock.writable) this.sock.write(data);
  }

  end(): void {
    if (!this.dead) this.sock.end();
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    try {
      this.sock.resetAndDestroy();
    } catch {
      this.sock.destroy();
    }
  }

  pause(): void {
    this.sock.pause();
  }

  resume(): void {
    if (!this.dead) this.sock.resume();
  }
}

class NodeUdp implements HostUdp {
  readonly sock: UdpSocket;

  constructor(sock: UdpSocket) {
    this.sock = sock;
  }

  get localPort(): number {
    try {
      return this.sock.address().port;
    } catch {
      return 0;
    }
  }

  send(data: Uint8Array, address: string, port: number): void {
    try {
      this.sock.send(data, port, address, () => {});
    } catch {
      // A closed socket or an unsendable address: the datagram is lost, as on a real network.
    }
  }

  close(): void {
    try {
      this.sock.close();
    } catch {
      // already closed
    }
  }
}

function describe(e: unknown, what: string): HostNetError {
  const code = (e as NodeJS.ErrnoException).code ?? "EIO";
  return new HostNetError(code, `${what}: ${REASONS[code] ?? (e as Error).message}`);
}

export class NodeNetHost implements NetHost {
  tcpConnect(address: string, port: number, events: HostTcpEvents): HostTcp {
    const t = new NodeTcp(connect({ host: address, port, allowHalfOpen: true }));
    t.listen(events);
    return t;
  }

  tcpListen(
    address: string,
    port: number,
    onAccept: (socket: HostTcp, peer: string, peerPort: number) => HostTcpEvents | null,
  ): Promise<HostListener> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => {
      const t = new NodeTcp(sock);
      const events = onAccept(t, sock.remoteAddress ?? "", sock.remotePort ?? 0);
      if (events === null) sock.destroy();
      else t.listen(events);
    });
    const where = `cannot listen on ${address === "" ? "*" : address}:${port}`;
    return new Promise((resolve, reject) => {
      server.once("error", (e) => reject(describe(e, where)));
      server.listen({ host: address === "" ? undefined : address, port }, () => {
        server.on("error", () => {});
        const a = server.address();
        resolve({
          port: typeof a === "object" && a !== null ? a.port : port,
          close: () => server.close(),
        });
      });
    });
  }

  udpOpen(events: { onMessage(data: Uint8Array, address: string, port: number): void }): HostUdp {
    const s = createSocket("udp4");
    s.on("error", () => {});
    s.on("message", (msg, rinfo) => events.onMessage(msg, rinfo.address, rinfo.port));
    return new NodeUdp(s);
  }

  udpBind(
    address: string,
    port: number,
    events: { onMessage(data: Uint8Array, address: string, port: number): void },
  ): Promise<HostUdp> {
    const s = createSocket("udp4");
    s.on("message", (msg, rinfo) => events.onMessage(msg, rinfo.address, rinfo.port));
    const where = `cannot bind UDP ${address === "" ? "*" : address}:${port}`;
    return new Promise((resolve, reject) => {
      s.once("error", (e) => reject(describe(e, where)));
      s.bind({ port, address: address === "" ? undefined : address }, () => {
        s.on("error", () => {});
        resolve(new NodeUdp(s));
      });
    });
  }

  async lookup(name: string): Promise<{ address: string; family: 4 | 6 }[]> {
    try {
      const r = await dnsPromises.lookup(name, { all: true, verbatim: true });
      return r
        .filter((a) => a.family === 4 || a.family === 6)
        .map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOTFOUND" || code === "ENODATA" || code === "EAI_NONAME") return [];
      throw e;
    }
  }

  dnsServers(): string[] {
    return getServers().filter((s) => isIPv4(s));
  }

  now(): number {
    return performance.now();
  }

  timer(ms: number, fn: () => void): HostTimer {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  }
}
