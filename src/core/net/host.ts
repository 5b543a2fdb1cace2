/**
 * What the user-mode network stack needs from the host: TCP and UDP sockets, name lookup and timers. The Node
 * implementation is host/node/net.ts; tests may pass their own. Addresses are IPv4 dotted-quad strings here.
 * Callbacks never run inside a call into the host object (always from the event loop later).
 */

/** Events of one host TCP connection. */
export interface HostTcpEvents {
  /** An outgoing connection is established. */
  onConnect(): void;
  /** Bytes from the peer; the stack owns the array. */
  onData(data: Uint8Array): void;
  /** The peer closed its sending side (FIN). */
  onEnd(): void;
  /** Everything written has left the user-space buffer (bufferedAmount is 0). */
  onDrain(): void;
  /** The socket is gone: `error` is null after an orderly close, else a short reason (`ECONNREFUSED`, `ECONNRESET`). */
  onClose(error: string | null): void;
}

export interface HostTcp {
  /** Queue bytes for the peer; the host takes ownership of the array. */
  write(data: Uint8Array): void;
  /** Bytes written but not yet handed to the host's kernel. */
  readonly bufferedAmount: number;
  /** Send FIN after the queued bytes. */
  end(): void;
  /** Close at once, with a reset when the host can send one. No events follow. */
  destroy(): void;
  /** Stop / restart reading (flow control towards a slow guest). */
  pause(): void;
  resume(): void;
}

export interface HostUdpEvents {
  /** A datagram from `address:port`; the stack owns the array. */
  onMessage(data: Uint8Array, address: string, port: number): void;
}

export interface HostUdp {
  /** The bound port (0 until an ephemeral socket first sends). */
  readonly localPort: number;
  send(data: Uint8Array, address: string, port: number): void;
  close(): void;
}

export interface HostListener {
  /** The port listened on (the one chosen when 0 was asked for). */
  readonly port: number;
  close(): void;
}

export interface HostTimer {
  cancel(): void;
}

export interface NetHost {
  /** Open a TCP connection to `address:port`; events go to `events` (onConnect or onClose(error) first). */
  tcpConnect(address: string, port: number, events: HostTcpEvents): HostTcp;
  /**
   * Listen on `address:port`. For each connection `onAccept` is called with the paused socket and the peer's address
   * and returns the socket's events (or null to refuse it). Rejects with a HostNetError if the address cannot be bound.
   */
  tcpListen(
    address: string,
    port: number,
    onAccept: (socket: HostTcp, peer: string, peerPort: number) => HostTcpEvents | null,
  ): Promise<HostListener>;
  /** A UDP socket on an ephemeral port (bound when it first sends). */
  udpOpen(events: HostUdpEvents): HostUdp;
  /** A UDP socket bound to `address:port`; rejects with a HostNetError if it cannot be bound. */
  udpBind(address: string, port: number, events: HostUdpEvents): Promise<HostUdp>;
  /** Addresses of a host name through the host's resolver (which reads /etc/hosts): [] if there are none. */
  lookup(name: string): Promise<{ address: string; family: 4 | 6 }[]>;
  /** IPv4 addresses of the host's DNS servers, for queries other than A/AAAA. */
  dnsServers(): string[];
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Run `fn` after `ms` milliseconds (does not keep the host process alive on its own). */
  timer(ms: number, fn: () => void): HostTimer;
}

/** A host-side networking problem the user can fix (a port in use, a bad address); `code` is the errno name. */
export class HostNetError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "HostNetError";
    this.code = code;
  }
}
