/**
 * One TCP connection of the user-mode stack, as seen from the guest: the stack is the guest's peer (RFC 9293) and
 * carries the byte stream to a host socket. Outbound connections start with the guest's SYN (answered once the host
 * connect succeeds, reset when it fails); forwarded host ports start with our SYN. Sequence numbers, the guest's
 * window (with window scaling, RFC 7323 §2) and MSS, our window sized by what the host socket has not yet taken, FIN
 * and RST both ways, retransmission by go-back-N after a timeout (the link is lossless unless the guest's receive
 * ring overflows), zero-window probes, and TIME_WAIT. Data segments are accepted in order only: an out-of-order
 * segment gets a duplicate ACK and the guest retransmits. Leaves out SACK, timestamps, urgent data, congestion
 * control (the guest is one hop away) and delayed ACKs.
 */
import type { HostTcp, HostTcpEvents, NetHost } from "./host.ts";
import {
  ETH_HLEN,
  fold,
  IP_HLEN,
  IPPROTO_TCP,
  pseudoSum,
  put16,
  put32,
  putIp,
  sum16,
  TCP_ACK,
  TCP_FIN,
  TCP_HLEN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
} from "./packet.ts";

/** Connection states (RFC 9293 §3.3.2), plus CONNECTING: the guest's SYN is in, the host connect is pending. */
export const TcpState = {
  CONNECTING: 0,
  SYN_SENT: 1,
  SYN_RCVD: 2,
  ESTABLISHED: 3,
  FIN_WAIT_1: 4,
  FIN_WAIT_2: 5,
  CLOSE_WAIT: 6,
  CLOSING: 7,
  LAST_ACK: 8,
  TIME_WAIT: 9,
  CLOSED: 10,
} as const;
export type TcpState = (typeof TcpState)[keyof typeof TcpState];

/** Our MSS: an Ethernet MTU minus the IPv4 and TCP headers. */
export const TCP_MSS = 1460;
/** Guest's MSS when its SYN has no MSS option (RFC 9293 §3.7.1). */
const DEFAULT_MSS = 536;
/** Bytes we accept from the guest that the host socket has not yet taken (our receive window). */
export const RCV_BUF = 256 * 1024;
/** Bytes from the host held for the guest before the host socket is paused. */
export const SND_BUF = 256 * 1024;
/** Our window scale shift: 256 KiB needs 3 (65535 << 3 > 2^18). */
const OUR_WSCALE = 3;
const RTO_INITIAL_MS = 1000;
const RTO_MAX_MS = 16_000;
/** Retransmissions without progress before the connection is reset. */
const MAX_RETRIES = 8;
/** Unacknowledged bytes from the guest after which the ACK goes out at once instead of with the batch. */
const ACK_EVERY = 64 * 1024;
/** How long a closed connection lingers to answer a retransmitted FIN. */
const TIME_WAIT_MS = 2000;

/** A parsed segment from the guest (one object reused by the stack). */
export class TcpSegment {
  seq = 0;
  ack = 0;
  flags = 0;
  /** Window field as sent (unscaled). */
  wnd = 0;
  /** The frame holding the payload, its offset and length. */
  data: Uint8Array = new Uint8Array(0);
  dataOff = 0;
  dataLen = 0;
  /** MSS option, or -1. */
  mss = -1;
  /** Window scale option, or -1. */
  wscale = -1;
}

/** What a connection needs from the stack. */
export interface TcpLink {
  readonly host: NetHost;
  /** A frame buffer of at least ETH_HLEN + MTU bytes that segments are built in (IPv4 header at ETH_HLEN). */
  readonly scratch: Uint8Array;
  /** Whether the card takes frames now (no frames held back). */
  canSend(): boolean;
  /** Send the IPv4 packet in `frame` at ETH_HLEN, `ipLen` bytes long, to `dst` (the stack adds the Ethernet header). */
  sendIp(frame: Uint8Array, ipLen: number, dst: number): void;
  /** Next IPv4 identification. */
  nextIpId(): number;
  /** The connection is finished: forget it. */
  remove(c: TcpConnection): void;
  /** A connection set a deadline: make sure the stack's timer runs. */
  armTimer(): void;
  /** Call `c.flushAck()` once the current burst of guest frames has been handled (a microtask later). */
  deferAck(c: TcpConnection): void;
}

/** Bytes from the host not yet acknowledged by the guest: chunks in order, the first `headOff` bytes consumed. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private headOff = 0;
  length = 0;

  push(b: Uint8Array): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.length += b.length;
  }

  /** Drop `n` bytes from the front. */
  consume(n: number): void {
    this.length -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      const left = c.length - this.headOff;
      if (n < left) {
        this.headOff += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.headOff = 0;
    }
  }

  /** Copy `len` bytes starting `off` bytes from the front into `dst` at `at`. */
  copy(off: number, len: number, dst: Uint8Array, at: number): void {
    let i = 0;
    off += this.headOff;
    while (off >= this.chunks[i]!.length) off -= this.chunks[i++]!.length;
    while (len > 0) {
      const c = this.chunks[i++]!;
      const n = Math.min(len, c.length - off);
      dst.set(c.subarray(off, off + n), at);
      at += n;
      len -= n;
      off = 0;
    }
  }

  clear(): void {
    this.chunks = [];
    this.headOff = 0;
    this.length = 0;
  }
}

const seqLt = (a: number, b: number): boolean => ((a - b) | 0) < 0;
const seqLe = (a: number, b: number): boolean => ((a - b) | 0) <= 0;
const seqDiff = (a: number, b: number): number => (a - b) | 0;

export class TcpConnection implements HostTcpEvents {
  readonly guestIp: number;
  readonly guestPort: number;
  /** The address and port the guest sees as its peer. */
  readonly remoteIp: number;
  readonly remotePort: number;
  state: TcpState;
  private readonly link: TcpLink;
  private sock: HostTcp | null = null;
  private hostClosed = false;
  /** The host sent FIN: ours goes out after the queued data. */
  private hostEof = false;
  private paused = false;

  // Send side (towards the guest).
  private readonly iss: number;
  private sndUna: number;
  private sndNxt: number;
  /** Guest's window in bytes, and the segment that last set it (RFC 9293 SND.WL1/WL2). */
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private sndScale = 0;
  private mss = DEFAULT_MSS;
  /** Highest sequence number sent so far (sndNxt goes back to sndUna on a retransmission timeout). */
  private sndMax: number;
  private readonly sndQueue = new ByteQueue();
  /** Our FIN is in flight at sndNxt - 1, or acknowledged. */
  private finSent = false;
  /** Our FIN's sequence number once it was first sent (finSeq valid when finEver). */
  private finEver = false;
  private finSeq = 0;

  // Receive side (from the guest).
  private irs = 0;
  private rcvNxt = 0;
  private rcvScale = 0;
  /** Window we last advertised, in bytes, and its right edge (sequence number). */
  private rcvAdvertised = 0;
  private rcvRight = 0;
  private ackPending = false;
  /** The pending ACK acknowledges in-order data only: it may wait for the end of the guest's time slice. */
  private ackDelayed = false;
  /** The acknowledgment number we last sent. */
  private rcvAcked = 0;

  /** When the retransmission / persist / TIME_WAIT timer fires (host.now() ms), or 0. */
  deadline = 0;
  private rto = RTO_INITIAL_MS;
  private retries = 0;

  constructor(link: TcpLink, guestIp: number, guestPort: number, remoteIp: number, remotePort: number) {
    this.link = link;
    this.guestIp = guestIp;
    this.guestPort = guestPort;
    this.remoteIp = remoteIp;
    this.remotePort = remotePort;
    this.state = TcpState.CONNECTING;
    this.iss = (Math.random() * 2 ** 32) >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
  }

  /** Outbound: the guest's SYN arrived; connect `sock` (already connecting) and answer when it succeeds. */
  openFromGuest(seg: TcpSegment, sock: HostTcp): void {
    this.sock = sock;
    this.irs = seg.seq;
    this.rcvNxt = (seg.seq + 1) >>> 0;
    this.takeSynOptions(seg);
  }

  /** A forwarded host port: `sock` (paused) was accepted; send our SYN to the guest. */
  openToGuest(sock: HostTcp): void {
    this.sock = sock;
    this.state = TcpState.SYN_SENT;
    this.rcvScale = OUR_WSCALE; // offered; kept only if the guest's SYN-ACK offers one too
    this.sendSyn(false);
  }

  /** Bytes from the host held for the guest (sent and unacknowledged, or not yet sent). */
  get held(): number {
    return this.sndQueue.length;
  }

  /** The stack's per-connection flow: whether the card's queue is free and we have something to send. */
  get wantsOutput(): boolean {
    return (
      (this.ackPending && !this.ackDelayed) ||
      (this.state >= TcpState.ESTABLISHED && this.sndQueue.length > 0) ||
      this.hostEof
    );
  }

  // ---- Host socket events ----

  onConnect(): void {
    if (this.state !== TcpState.CONNECTING) return;
    this.state = TcpState.SYN_RCVD;
    this.sendSyn(true);
  }

  onData(data: Uint8Array): void {
    if (this.state === TcpState.CLOSED) return;
    this.sndQueue.push(data);
    if (this.sndQueue.length >= SND_BUF && !this.paused) {
      this.paused = true;
      this.sock?.pause();
    }
    this.output();
  }

  onEnd(): void {
    if (this.state === TcpState.CLOSED) return;
    this.hostEof = true;
    this.output();
  }

  onDrain(): void {
    // Our window opened: tell the guest if what it last heard was small (RFC 9293 §3.8.6.2.2 receiver-side SWS).
    if (this.state < TcpState.ESTABLISHED || this.state === TcpState.CLOSED) return;
    if (this.rcvAdvertised < RCV_BUF / 2) {
      this.ackNow();
      this.output();
    }
  }

  onClose(error: string | null): void {
    this.hostClosed = true;
    this.sock = null;
    if (this.state === TcpState.CLOSED) return;
    if (this.state === TcpState.CONNECTING) {
      // Connect failed: refuse the guest's SYN with RST|ACK.
      this.sendRaw(TCP_RST | TCP_ACK, 0, this.rcvNxt, 0, false);
      this.finish();
      return;
    }
    if (error !== null || this.state === TcpState.SYN_SENT) {
      this.sendRaw(TCP_RST | TCP_ACK, this.sndNxt, this.rcvNxt, 0, false);
      this.finish();
      return;
    }
    // An orderly close: the FIN (onEnd) is already recorded; what we still owe the guest goes out as usual.
    this.hostEof = true;
    this.output();
  }

  // ---- Segments from the guest (RFC 9293 §3.10.7) ----

  input(seg: TcpSegment): void {
    const flags = seg.flags;
    const st = this.state;
    if (st === TcpState.CLOSED) return;
    if (st === TcpState.CONNECTING) return; // retransmitted SYNs while the host connects
    if (st === TcpState.SYN_SENT) {
      this.inputSynSent(seg);
      return;
    }
    if ((flags & TCP_RST) !== 0) {
      // Accept a reset whose sequence number is in the window (RFC 5961 §3 asks for exactly rcvNxt; the guest is
      // the only sender on this link).
      const d = seqDiff(seg.seq, this.rcvNxt);
      if (d >= 0 && d <= Math.max(this.rcvWindow(), 1)) this.abort(false);
      return;
    }
    if ((flags & TCP_SYN) !== 0) {
      if (st === TcpState.SYN_RCVD && seg.seq === this.irs)
        this.sendSyn(true); // our SYN-ACK was lost
      else this.sendAck(); // RFC 5961 §4: challenge ACK
      return;
    }
    if ((flags & TCP_ACK) === 0) return;

    // Trim what we already have; drop and re-ACK what is out of order.
    let off = seg.dataOff;
    let len = seg.dataLen;
    let fin = (flags & TCP_FIN) !== 0;
    const early = seqDiff(this.rcvNxt, seg.seq);
    if (early < 0) {
      this.sendAck();
      return;
    }
    if (early > 0) {
      if (early >= len + (fin ? 1 : 0)) {
        this.ackNow(); // wholly old (a retransmission, a keepalive or window probe): re-ACK
        len = 0;
        fin = false;
      } else if (early > len) {
        len = 0; // only the FIN is new
      } else {
        off += early;
        len -= early;
      }
    }

    // The acknowledgment.
    if (st === TcpState.SYN_RCVD) {
      if (seg.ack !== this.sndNxt) {
        this.sendRaw(TCP_RST, seg.ack, 0, 0, false);
        return;
      }
      this.sndUna = seg.ack;
      this.state = TcpState.ESTABLISHED;
      this.setWindow(seg, true);
      this.progress();
    } else {
      if (seqLt(this.sndMax, seg.ack)) {
        this.sendAck(); // acknowledges something we never sent
        return;
      }
      if (seqLt(this.sndUna, seg.ack)) this.acked(seg.ack);
      this.setWindow(seg, false);
    }
    if (this.state === TcpState.CLOSED) return;

    // The payload.
    if (len > 0) {
      const s = this.state;
      if (s === TcpState.ESTABLISHED || s === TcpState.FIN_WAIT_1 || s === TcpState.FIN_WAIT_2) {
        const take = Math.min(len, this.rcvWindow());
        if (take > 0 && this.sock !== null && !this.hostClosed) {
          this.sock.write(seg.data.slice(off, off + take));
          this.rcvNxt = (this.rcvNxt + take) >>> 0;
        } else if (this.sock === null || this.hostClosed) {
          // The host side is gone: nobody can take the data.
          this.abort(true);
          return;
        }
        if (take < len) fin = false; // the FIN lies beyond what we took
        // In-order data: acknowledge once the guest's burst is over (delayed ACK, RFC 9293 §3.8.6.3), unless much
        // is unacknowledged or the window is closing.
        const delay =
          take === len && !fin && seqDiff(this.rcvNxt, this.rcvAcked) < ACK_EVERY && this.rcvWindow() > ACK_EVERY;
        if (delay && !this.ackPending) {
          this.ackDelayed = true;
          this.link.deferAck(this);
        } else if (!delay) {
          this.ackDelayed = false;
        }
        this.ackPending = true;
      }
    }

    // The FIN.
    if (fin) {
      this.rcvNxt = (this.rcvNxt + 1) >>> 0;
      this.ackNow();
      switch (this.state) {
        case TcpState.ESTABLISHED:
          this.state = TcpState.CLOSE_WAIT;
          this.sock?.end();
          break;
        case TcpState.FIN_WAIT_1:
          this.state = TcpState.CLOSING;
          this.sock?.end();
          break;
        case TcpState.FIN_WAIT_2:
          this.sock?.end();
          this.enterTimeWait();
          break;
        default:
          break; // a retransmitted FIN: just ACK it again
      }
    }
    this.output();
  }

  private inputSynSent(seg: TcpSegment): void {
    const flags = seg.flags;
    const ackOk = (flags & TCP_ACK) !== 0 && seg.ack === (this.iss + 1) >>> 0;
    if ((flags & TCP_ACK) !== 0 && !ackOk) {
      if ((flags & TCP_RST) === 0) this.sendRaw(TCP_RST, seg.ack, 0, 0, false);
      return;
    }
    if ((flags & TCP_RST) !== 0) {
      if (ackOk) this.abort(false); // the guest port is closed
      return;
    }
    if ((flags & TCP_SYN) === 0 || !ackOk) return;
    this.irs = seg.seq;
    this.rcvNxt = (seg.seq + 1) >>> 0;
    this.takeSynOptions(seg);
    this.sndUna = seg.ack;
    this.state = TcpState.ESTABLISHED;
    this.setWindow(seg, true);
    this.progress();
    this.ackNow();
    if (this.paused === false) this.sock?.resume();
    this.output();
  }

  // ---- Output ----

  /** Send what the window and the card allow: data, then our FIN, then a pending ACK. */
  output(): void {
    const st = this.state;
    if (st < TcpState.ESTABLISHED || st === TcpState.CLOSED || st === TcpState.TIME_WAIT) {
      if (this.ackPending && st === TcpState.TIME_WAIT) this.sendAck();
      return;
    }
    const link = this.link;
    while (link.canSend()) {
      const sent = Math.max(0, seqDiff(this.sndNxt, this.sndUna) - (this.finSent ? 1 : 0));
      const avail = this.sndQueue.length - sent;
      const room = this.sndWnd - sent;
      if (avail > 0 && room > 0 && !this.finSent) {
        const n = Math.min(avail, room, this.mss);
        this.sendData(sent, n, n === avail);
        continue;
      }
      if (avail === 0 && this.hostEof && !this.finSent) {
        this.finSent = true;
        this.finEver = true;
        this.finSeq = this.sndNxt;
        this.sendRaw(TCP_FIN | TCP_ACK, this.sndNxt, this.rcvNxt, 0, false);
        this.advance((this.sndNxt + 1) >>> 0);
        if (this.state === TcpState.ESTABLISHED) this.state = TcpState.FIN_WAIT_1;
        else if (this.state === TcpState.CLOSE_WAIT) this.state = TcpState.LAST_ACK;
        this.armRto();
        continue;
      }
      if (avail > 0 && this.sndWnd <= sent && this.deadline === 0) this.armRto(); // zero window: probe later
      break;
    }
    if (this.ackPending && !this.ackDelayed && link.canSend()) this.sendAck();
  }

  /** An ACK is due at the next output, not delayed. */
  private ackNow(): void {
    this.ackPending = true;
    this.ackDelayed = false;
  }

  /** The guest's burst is over: send the delayed ACK (unless a segment carried it already). */
  flushAck(): void {
    if (!this.ackDelayed) return;
    this.ackDelayed = false;
    this.output();
  }

  /** The stack's timer reached `deadline`. */
  onTimer(now: number): void {
    if (this.deadline === 0 || now < this.deadline) return;
    this.deadline = 0;
    switch (this.state) {
      case TcpState.TIME_WAIT:
        this.finish();
        return;
      case TcpState.CLOSED:
      case TcpState.CONNECTING:
        return;
      default:
        break;
    }
    const inFlight = seqDiff(this.sndNxt, this.sndUna);
    if (inFlight === 0) {
      // Zero-window probe: an old sequence number makes the guest answer with its current window.
      if (this.sndQueue.length > 0 && this.sndWnd === 0) {
        this.sendRaw(TCP_ACK, (this.sndUna - 1) >>> 0, this.rcvNxt, 0, false);
        this.rto = Math.min(this.rto * 2, RTO_MAX_MS);
        this.deadline = now + this.rto;
        this.link.armTimer();
      }
      return;
    }
    if (++this.retries > MAX_RETRIES) {
      this.abort(true);
      return;
    }
    this.rto = Math.min(this.rto * 2, RTO_MAX_MS);
    if (this.state === TcpState.SYN_SENT) {
      this.sendSyn(false);
    } else if (this.state === TcpState.SYN_RCVD) {
      this.sendSyn(true);
    } else {
      // Go back N: resend from the oldest unacknowledged byte.
      this.sndNxt = this.sndUna;
      this.finSent = false;
      this.armRto();
      this.output();
    }
  }

  /** Abort: RST to the guest (if `tellGuest`), reset the host socket, forget the connection. */
  abort(tellGuest: boolean): void {
    if (this.state === TcpState.CLOSED) return;
    if (tellGuest && this.state !== TcpState.CONNECTING) {
      this.sendRaw(TCP_RST | TCP_ACK, this.sndNxt, this.rcvNxt, 0, false);
    }
    this.finish();
  }

  /** Close everything now and leave the table (also used when the stack shuts down). */
  finish(): void {
    if (this.state === TcpState.CLOSED) return;
    this.state = TcpState.CLOSED;
    this.deadline = 0;
    this.sndQueue.clear();
    const s = this.sock;
    this.sock = null;
    if (s !== null && !this.hostClosed) s.destroy();
    this.link.remove(this);
  }

  // ---- Helpers ----

  private takeSynOptions(seg: TcpSegment): void {
    this.mss = Math.max(64, Math.min(seg.mss > 0 ? seg.mss : DEFAULT_MSS, TCP_MSS));
    if (seg.wscale >= 0) {
      this.sndScale = Math.min(seg.wscale, 14);
      this.rcvScale = OUR_WSCALE;
    } else {
      this.sndScale = 0;
      this.rcvScale = 0;
    }
  }

  private setWindow(seg: TcpSegment, initial: boolean): void {
    if (initial || seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, seg.ack))) {
      const opened = this.sndWnd === 0;
      this.sndWnd = seg.wnd * 2 ** this.sndScale;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
      if (opened && this.sndWnd > 0 && seqDiff(this.sndNxt, this.sndUna) === 0) this.deadline = 0;
    }
  }

  /** The guest acknowledged up to `ack`. */
  private acked(ack: number): void {
    let n = seqDiff(ack, this.sndUna);
    this.sndUna = ack;
    if (seqLt(this.sndNxt, ack)) this.sndNxt = ack; // acknowledges what was sent before a go-back-N
    if (this.finEver && ack === (this.finSeq + 1) >>> 0) {
      n--; // the FIN's sequence number
      this.finSent = true;
      switch (this.state) {
        case TcpState.FIN_WAIT_1:
          this.state = TcpState.FIN_WAIT_2;
          break;
        case TcpState.CLOSING:
          this.enterTimeWait();
          break;
        case TcpState.LAST_ACK:
          this.finish();
          return;
        default:
          break;
      }
    }
    if (n > 0) this.sndQueue.consume(Math.min(n, this.sndQueue.length));
    this.progress();
    if (this.paused && this.sndQueue.length < SND_BUF / 2 && this.sock !== null) {
      this.paused = false;
      this.sock.resume();
    }
  }

  /** The guest acknowledged something: reset the retransmission timer. */
  private progress(): void {
    this.retries = 0;
    this.rto = RTO_INITIAL_MS;
    if (this.state === TcpState.TIME_WAIT) return;
    this.deadline = 0;
    if (seqDiff(this.sndNxt, this.sndUna) > 0) this.armRto();
  }

  private armRto(): void {
    this.deadline = this.link.host.now() + this.rto;
    this.link.armTimer();
  }

  private enterTimeWait(): void {
    this.state = TcpState.TIME_WAIT;
    this.deadline = this.link.host.now() + TIME_WAIT_MS;
    this.link.armTimer();
  }

  /** Our receive window: what the host socket can still take. */
  private rcvWindow(): number {
    const buffered = this.sock === null ? 0 : this.sock.bufferedAmount;
    return Math.max(0, RCV_BUF - buffered);
  }

  /** Move sndNxt (and sndMax) forward to `seq`. */
  private advance(seq: number): void {
    this.sndNxt = seq;
    if (seqLt(this.sndMax, seq)) this.sndMax = seq;
  }

  private sendAck(): void {
    this.sendRaw(TCP_ACK, this.sndNxt, this.rcvNxt, 0, false);
  }

  /** SYN (ours, to a forwarded port) or SYN-ACK (answer to the guest's SYN), with MSS and window scale options. */
  private sendSyn(ack: boolean): void {
    this.advance((this.iss + 1) >>> 0);
    this.sendRaw(ack ? TCP_SYN | TCP_ACK : TCP_SYN, this.iss, ack ? this.rcvNxt : 0, 0, true);
    this.armRto();
  }

  /** A data segment of `len` bytes from `off` bytes past sndUna. */
  private sendData(off: number, len: number, push: boolean): void {
    this.sendRaw(TCP_ACK | (push ? TCP_PSH : 0), (this.sndUna + off) >>> 0, this.rcvNxt, len, false, off);
    this.advance((this.sndUna + off + len) >>> 0);
    if (this.deadline === 0) this.armRto();
  }

  /** Build and send one segment; data comes from the send queue at `dataOff`. */
  private sendRaw(flags: number, seq: number, ack: number, len: number, synOpts: boolean, dataOff = 0): void {
    const f = this.link.scratch;
    const ip = ETH_HLEN;
    const t = ip + IP_HLEN;
    // Options: MSS (4 bytes), and in a SYN-ACK window scale only if the guest offered it (RFC 7323 §2.2).
    const ws = synOpts && (this.state === TcpState.SYN_SENT || this.rcvScale > 0);
    const optLen = synOpts ? (ws ? 8 : 4) : 0;
    const hlen = TCP_HLEN + optLen;
    put16(f, t, this.remotePort);
    put16(f, t + 2, this.guestPort);
    put32(f, t + 4, seq);
    put32(f, t + 8, ack);
    f[t + 12] = (hlen / 4) << 4;
    f[t + 13] = flags;
    let wnd = 0;
    if ((flags & TCP_RST) === 0) {
      const scale = synOpts ? 0 : this.rcvScale; // the window in a SYN is never scaled
      // Receiver-side silly window avoidance (RFC 9293 §3.8.6.2.2): keep the right edge we advertised until the
      // window can move it on by min(MSS, half the buffer); never move it back.
      const avail = Math.min(this.rcvWindow(), 0xffff * 2 ** scale);
      const promised = Math.max(0, seqDiff(this.rcvRight, this.rcvNxt));
      const bytes = avail - promised >= Math.min(TCP_MSS, RCV_BUF / 2) || synOpts ? avail : promised;
      wnd = Math.min(Math.floor(bytes / 2 ** scale), 0xffff);
      this.rcvAdvertised = wnd * 2 ** scale;
      this.rcvRight = (this.rcvNxt + this.rcvAdvertised) >>> 0;
    }
    put16(f, t + 14, wnd);
    put32(f, t + 16, 0); // checksum, urgent pointer
    if (synOpts) {
      f[t + 20] = 2; // MSS
      f[t + 21] = 4;
      put16(f, t + 22, TCP_MSS);
      if (ws) {
        f[t + 24] = 1; // NOP
        f[t + 25] = 3; // window scale
        f[t + 26] = 3;
        f[t + 27] = OUR_WSCALE;
      }
    }
    if (len > 0) this.sndQueue.copy(dataOff, len, f, t + hlen);
    const tcpLen = hlen + len;
    putIp(f, ip, IP_HLEN + tcpLen, this.link.nextIpId(), IPPROTO_TCP, this.remoteIp, this.guestIp);
    put16(f, t + 16, fold(sum16(f, t, t + tcpLen, pseudoSum(this.remoteIp, this.guestIp, IPPROTO_TCP, tcpLen))));
    if ((flags & TCP_ACK) !== 0) {
      this.ackPending = false;
      this.ackDelayed = false;
      this.rcvAcked = ack;
    }
    this.link.sendIp(f, IP_HLEN + tcpLen, this.guestIp);
  }
}

/**
 * A reset for a segment that belongs to no connection (RFC 9293 §3.10.7.1): built in `f` at ETH_HLEN from the
 * offending segment's fields; returns the IPv4 packet length. Never answers a RST.
 */
export function buildReset(
  f: Uint8Array,
  id: number,
  src: number,
  srcPort: number,
  dst: number,
  dstPort: number,
  seg: TcpSegment,
): number {
  const ip = ETH_HLEN;
  const t = ip + IP_HLEN;
  let seq = 0;
  let ack = 0;
  let flags = TCP_RST;
  if ((seg.flags & TCP_ACK) !== 0) {
    seq = seg.ack;
  } else {
    flags |= TCP_ACK;
    ack = (seg.seq + seg.dataLen + ((seg.flags & TCP_SYN) !== 0 ? 1 : 0) + ((seg.flags & TCP_FIN) !== 0 ? 1 : 0)) >>> 0;
  }
  put16(f, t, srcPort);
  put16(f, t + 2, dstPort);
  put32(f, t + 4, seq);
  put32(f, t + 8, ack);
  f[t + 12] = (TCP_HLEN / 4) << 4;
  f[t + 13] = flags;
  put16(f, t + 14, 0);
  put32(f, t + 16, 0);
  putIp(f, ip, IP_HLEN + TCP_HLEN, id, IPPROTO_TCP, src, dst);
  put16(f, t + 16, fold(sum16(f, t, t + TCP_HLEN, pseudoSum(src, dst, IPPROTO_TCP, TCP_HLEN))));
  return IP_HLEN + TCP_HLEN;
}
