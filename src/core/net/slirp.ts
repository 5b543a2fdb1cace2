/**
 * User-mode networking, as QEMU's `-netdev user` (libslirp) offers it: a virtual 10.0.2.0/24 network whose gateway
 * 10.0.2.2 answers ARP and ping, hands out 10.0.2.15 by DHCP (dhcp.ts), resolves names at 10.0.2.3 through the host's
 * resolver (dns.ts), and carries the guest's TCP (tcp.ts) and UDP through host sockets; the gateway address stands
 * for the host's loopback. Host ports can be forwarded to guest ports (hostfwd). Works on Ethernet frames: no root,
 * no TAP device. Every frame is checked (lengths, header and payload checksums) before use; a bad one is dropped and
 * counted. Fragmented datagrams from the guest are reassembled (ipfrag.ts). Leaves out: ICMP to other hosts than the
 * gateway and DNS address (Node has no ICMP sockets), TCP to the DNS address, IPv6, guestfwd, BOOTP/TFTP boot files.
 */
import { FrameQueue, type NetBackend, type NetPort } from "./backend.ts";
import { DhcpServer } from "./dhcp.ts";
import {
  addressBytes,
  answersItself,
  buildAnswer,
  parseQuery,
  QTYPE_A,
  RCODE_FORMERR,
  RCODE_NOERROR,
  RCODE_NXDOMAIN,
  RCODE_SERVFAIL,
} from "./dns.ts";
import type { HostListener, HostTcp, HostTimer, HostUdp, NetHost } from "./host.ts";
import { IpReassembly } from "./ipfrag.ts";
import {
  ARP_FRAME_LEN,
  checksum,
  ETH_HLEN,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  fold,
  IP_HLEN,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipToString,
  MAX_FRAME,
  MTU,
  parseIp,
  pseudoSum,
  put16,
  put32,
  putArp,
  putEth,
  putIp,
  sum16,
  TCP_ACK,
  TCP_HLEN,
  TCP_RST,
  TCP_SYN,
  UDP_HLEN,
  u16,
  u32,
} from "./packet.ts";
import { buildReset, TcpConnection, type TcpLink, TcpSegment, TcpState } from "./tcp.ts";

/** QEMU's defaults (net/slirp.c): network, gateway (host), DNS and the first DHCP address. */
export const SLIRP_NETWORK = 0x0a000200;
export const SLIRP_NETMASK = 0xffffff00;
export const SLIRP_HOST = 0x0a000202;
export const SLIRP_DNS = 0x0a000203;
export const SLIRP_DHCP_START = 0x0a00020f;
/** DHCP pool size (libslirp: NB_BOOTP_CLIENTS). */
const DHCP_CLIENTS = 16;
const DHCP_LEASE_SECONDS = 86400;

/** Most host sockets one guest may hold open (the rest are refused). */
const MAX_TCP = 1024;
const MAX_UDP = 256;
/** Concurrent name lookups on the host. */
const MAX_LOOKUPS = 64;
/** A UDP relay socket idle this long is closed (libslirp: 240 s; DNS relays 10 s). */
const UDP_IDLE_MS = 240_000;
const DNS_IDLE_MS = 10_000;
/** The stack's timer period (retransmissions, TIME_WAIT, idle sockets). */
const TICK_MS = 200;
/** Entries in the ARP table (guest addresses we answer to). */
const MAX_ARP = 64;
/** Largest UDP payload (an IPv4 datagram is at most 65535 bytes). */
const MAX_UDP_PAYLOAD = 65535 - IP_HLEN - UDP_HLEN;
/** Local ports for forwarded connections, as seen by the guest (the source port on 10.0.2.2). */
const FWD_PORT_FIRST = 49152;
const FWD_PORT_COUNT = 16384;

const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const ZERO_MAC = new Uint8Array(6);

/** A forwarded host port: `proto:hostAddr:hostPort-guestAddr:guestPort` (QEMU's hostfwd). */
export interface HostForward {
  readonly proto: "tcp" | "udp";
  /** Host address to bind ("" for every address, as QEMU). */
  readonly hostAddr: string;
  /** Host port (0: let the host choose; see `Slirp.forwards`). */
  readonly hostPort: number;
  /** Guest address (default: the first DHCP address). */
  readonly guestAddr?: number;
  readonly guestPort: number;
}

export interface SlirpConfig {
  /** Network address, netmask, gateway/host, DNS and first DHCP address (defaults: QEMU's). */
  readonly network?: number;
  readonly netmask?: number;
  readonly host?: number;
  readonly dns?: number;
  readonly dhcpStart?: number;
  /** Isolate the guest (QEMU's restrict=on): only DHCP, DNS answers from the host's resolver, ping of the gateway and
   * forwarded ports; no outbound connections. */
  readonly restrict?: boolean;
  readonly hostForwards?: readonly HostForward[];
}

/** A forward as bound: the host port actually listened on. */
export interface BoundForward extends HostForward {
  readonly boundPort: number;
}

/** Counters for tests and statistics. */
export interface SlirpStats {
  /** Frames from the guest, and those dropped as malformed or unsupported. */
  framesIn: number;
  malformed: number;
  unsupported: number;
  /** Frames to the guest, and those dropped because the guest's receive ring stayed full. */
  framesOut: number;
  droppedOut: number;
}

/** A UDP relay: the host socket standing for one guest address and port. */
interface UdpBinding {
  readonly guestIp: number;
  readonly guestPort: number;
  readonly sock: HostUdp;
  /** Replies are presented as coming from the DNS address port 53 (a relayed DNS query). */
  readonly dns: boolean;
  lastUse: number;
}

/** One peer of a forwarded UDP port, and the port on 10.0.2.2 that stands for it. */
interface UdpForwardSession {
  readonly fwd: BoundForward;
  readonly sock: HostUdp;
  readonly peer: string;
  readonly peerPort: number;
  readonly localPort: number;
  readonly guestIp: number;
  lastUse: number;
}

export class Slirp implements NetBackend {
  readonly linkUp = true;
  readonly stats: SlirpStats = { framesIn: 0, malformed: 0, unsupported: 0, framesOut: 0, droppedOut: 0 };
  /** Forwards as bound by `start()`. */
  readonly forwards: BoundForward[] = [];
  private readonly host: NetHost;
  private readonly net: number;
  private readonly mask: number;
  private readonly hostIp: number;
  private readonly dnsIp: number;
  /** The gateway's MAC: the source of every IPv4 frame to the guest. */
  private readonly hostMac: Uint8Array;
  private readonly guestDefault: number;
  private readonly restrict: boolean;
  private readonly config: SlirpConfig;
  private readonly dhcp: DhcpServer;
  private port: NetPort | null = null;
  private readonly queue = new FrameQueue();
  private closed = false;
  /** Frames are built here (the card copies them, or the queue does). */
  private readonly scratch = new Uint8Array(MAX_FRAME + 64);
  private ipId = 1;
  private readonly arp = new Map<number, Uint8Array>();
  /** Per address we are resolving: the last packet waiting for the guest's ARP reply. */
  private readonly arpWaiting = new Map<number, Uint8Array>();
  /** TCP connections by guestPort * 65536 + remotePort, then scanned for the addresses. */
  private readonly tcpByPorts = new Map<number, TcpConnection[]>();
  private readonly tcp = new Set<TcpConnection>();
  private readonly udp = new Map<number, UdpBinding[]>();
  private udpCount = 0;
  private readonly udpFwd = new Map<number, UdpForwardSession>();
  private readonly listeners: HostListener[] = [];
  private readonly fwdSockets: HostUdp[] = [];
  private nextFwdPort = 0;
  private lookups = 0;
  private timer: HostTimer | null = null;
  private pumping = false;
  /** Connections with a delayed ACK, sent from one microtask after the guest's burst of frames. */
  private readonly delayedAcks: TcpConnection[] = [];
  private readonly seg = new TcpSegment();
  private readonly frags = new IpReassembly();
  private readonly tcpLink: TcpLink;

  constructor(host: NetHost, config: SlirpConfig = {}) {
    this.host = host;
    this.config = config;
    this.net = config.network ?? SLIRP_NETWORK;
    this.mask = config.netmask ?? SLIRP_NETMASK;
    this.hostIp = config.host ?? SLIRP_HOST;
    this.dnsIp = config.dns ?? SLIRP_DNS;
    this.hostMac = specialMac(this.hostIp);
    this.guestDefault = config.dhcpStart ?? SLIRP_DHCP_START;
    this.restrict = config.restrict === true;
    this.dhcp = new DhcpServer({
      server: this.hostIp,
      netmask: this.mask,
      dns: this.dnsIp,
      first: this.guestDefault,
      count: DHCP_CLIENTS,
      leaseSeconds: DHCP_LEASE_SECONDS,
    });
    this.tcpLink = {
      host,
      scratch: this.scratch,
      canSend: () => this.canSend(),
      sendIp: (f, len, dst) => this.sendIp(f, len, dst),
      nextIpId: () => this.nextIpId(),
      remove: (c) => this.removeTcp(c),
      armTimer: () => this.armTimer(),
      deferAck: (c) => this.deferAck(c),
    };
  }

  /** Bind the host forwards. Rejects with the host's error (a HostNetError) if one cannot be bound. */
  async start(): Promise<void> {
    for (const f of this.config.hostForwards ?? []) {
      if (f.proto === "tcp") {
        const l = await this.host.tcpListen(f.hostAddr, f.hostPort, (sock, peer, peerPort) =>
          this.acceptForward(bound, sock, peer, peerPort),
        );
        const bound: BoundForward = { ...f, boundPort: l.port };
        this.listeners.push(l);
        this.forwards.push(bound);
      } else {
        let bound: BoundForward | null = null;
        const s = await this.host.udpBind(f.hostAddr, f.hostPort, {
          onMessage: (data, addr, port) => {
            if (bound !== null) this.udpFromForwardPeer(bound, s, data, addr, port);
          },
        });
        bound = { ...f, boundPort: s.localPort };
        this.fwdSockets.push(s);
        this.forwards.push(bound);
      }
    }
  }

  /** Open TCP connections, and bytes from host sockets they hold for the guest. */
  get tcpConnections(): number {
    return this.tcp.size;
  }

  get heldBytes(): number {
    let n = 0;
    for (const c of this.tcp) n += c.held;
    return n;
  }

  // ---- NetBackend ----

  attach(port: NetPort): void {
    this.port = port;
    port.setLink(true);
    this.rxReady();
  }

  rxReady(): void {
    if (this.closed) return;
    if (this.queue.deliver(this.port)) this.pump();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of [...this.tcp]) c.finish();
    for (const list of this.udp.values()) for (const b of list) b.sock.close();
    this.udp.clear();
    for (const l of this.listeners) l.close();
    for (const s of this.fwdSockets) s.close();
    this.udpFwd.clear();
    this.timer?.cancel();
    this.timer = null;
    this.queue.clear();
    this.port = null;
  }

  transmit(f: Uint8Array): void {
    if (this.closed) return;
    this.stats.framesIn++;
    if (f.length < ETH_HLEN) {
      this.stats.malformed++;
      return;
    }
    const type = u16(f, 12);
    if (type === ETHERTYPE_ARP) this.arpInput(f);
    else if (type === ETHERTYPE_IPV4) this.ipInput(f);
    else this.stats.unsupported++;
  }

  // ---- ARP (RFC 826) ----

  private arpInput(f: Uint8Array): void {
    const a = ETH_HLEN;
    if (f.length < a + 28 || u16(f, a) !== 1 || u16(f, a + 2) !== ETHERTYPE_IPV4 || f[a + 4] !== 6 || f[a + 5] !== 4) {
      this.stats.malformed++;
      return;
    }
    const op = u16(f, a + 6);
    const spa = u32(f, a + 14);
    const tpa = u32(f, a + 24);
    this.learn(spa, f, a + 8);
    if (op === 1 && (tpa === this.hostIp || tpa === this.dnsIp)) {
      const r = this.scratch;
      const sha = f.slice(a + 8, a + 14);
      putArp(r, sha, 2, specialMac(tpa), tpa, sha, spa);
      this.output(r.subarray(0, ARP_FRAME_LEN));
    } else if (op !== 1 && op !== 2) {
      this.stats.unsupported++;
    }
  }

  /** Remember `ip` at the MAC in `f` at `o` if it is a guest address on our network; send what waited for it. */
  private learn(ip: number, f: Uint8Array, o: number): void {
    if (!this.onNet(ip) || ip === this.hostIp || ip === this.dnsIp || (f[o]! & 1) !== 0) return;
    const known = this.arp.get(ip);
    if (known !== undefined && equalMac(known, f, o)) return;
    if (known === undefined && this.arp.size >= MAX_ARP) {
      const oldest = this.arp.keys().next().value!;
      this.arp.delete(oldest);
    }
    this.arp.set(ip, f.slice(o, o + 6));
    const waiting = this.arpWaiting.get(ip);
    if (waiting !== undefined) {
      this.arpWaiting.delete(ip);
      putEth(waiting, f.subarray(o, o + 6), this.hostMac, ETHERTYPE_IPV4);
      this.output(waiting);
    }
  }

  private onNet(ip: number): boolean {
    return (ip & this.mask) >>> 0 === this.net && ip !== this.net && ip !== (this.net | ~this.mask) >>> 0;
  }

  // ---- IPv4 (RFC 791) ----

  private ipInput(frame: Uint8Array): void {
    let f = frame;
    const ip = ETH_HLEN;
    if (f.length < ip + IP_HLEN || f[ip]! >> 4 !== 4) {
      this.stats.malformed++;
      return;
    }
    const ihl = (f[ip]! & 15) * 4;
    const total = u16(f, ip + 2);
    if (ihl < IP_HLEN || total < ihl || ip + total > f.length || checksum(f, ip, ip + ihl) !== 0) {
      this.stats.malformed++;
      return;
    }
    const src = u32(f, ip + 12);
    const dst = u32(f, ip + 16);
    if (src !== 0) this.learn(src, f, 6);
    let p = ip + ihl;
    let end = ip + total;
    const proto = f[ip + 9]!;
    const frag = u16(f, ip + 6);
    if ((frag & 0x3fff) !== 0) {
      // A fragment (MF set or an offset): keep it until the datagram is whole.
      const whole = this.frags.add(
        this.host.now(),
        src,
        dst,
        proto,
        u16(f, ip + 4),
        (frag & 0x1fff) * 8,
        (frag & 0x2000) !== 0,
        f.subarray(p, end),
      );
      this.armTimer();
      if (whole === null) return;
      f = whole;
      p = 0;
      end = whole.length;
    }
    switch (proto) {
      case IPPROTO_ICMP:
        this.icmpInput(f, p, end, src, dst);
        break;
      case IPPROTO_UDP:
        this.udpInput(f, p, end, src, dst);
        break;
      case IPPROTO_TCP:
        this.tcpInput(f, p, end, src, dst);
        break;
      default:
        this.stats.unsupported++;
    }
  }

  /** Send the IPv4 packet at `f[ETH_HLEN, ETH_HLEN + ipLen)` to `dst` on the guest's side. */
  private sendIp(f: Uint8Array, ipLen: number, dst: number): void {
    let mac: Uint8Array | undefined;
    if (dst === 0xffffffff) mac = BROADCAST_MAC;
    else mac = this.arp.get(dst);
    if (mac === undefined) {
      // Ask who has it; the packet waits (one per address: a retransmission replaces it).
      if (!this.arpWaiting.has(dst) && this.arpWaiting.size >= MAX_ARP) return;
      this.arpWaiting.set(dst, f.slice(0, ETH_HLEN + ipLen));
      this.arpRequest(dst);
      return;
    }
    putEth(f, mac, this.hostMac, ETHERTYPE_IPV4);
    this.output(f.subarray(0, ETH_HLEN + ipLen));
  }

  private arpRequest(tpa: number): void {
    const r = new Uint8Array(ARP_FRAME_LEN);
    putArp(r, BROADCAST_MAC, 1, this.hostMac, this.hostIp, ZERO_MAC, tpa);
    this.output(r);
  }

  /** Hand a frame to the card, or hold it while the card has no room (frames stay in order). */
  private output(frame: Uint8Array): void {
    if (this.closed) return;
    this.stats.framesOut++;
    if (this.queue.length === 0 && this.port !== null && this.port.receive(frame)) return;
    if (!this.queue.push(frame)) this.stats.droppedOut++;
  }

  private canSend(): boolean {
    return this.port !== null && this.queue.length === 0 && !this.closed;
  }

  /** The card has room again: let every connection send what it holds. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (const c of this.tcp) {
        if (!this.canSend()) break;
        if (c.wantsOutput) c.output();
      }
    } finally {
      this.pumping = false;
    }
  }

  private nextIpId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  // ---- ICMP (RFC 792): echo for the gateway and the DNS address ----

  private icmpInput(f: Uint8Array, p: number, end: number, src: number, dst: number): void {
    if (end - p < 8 || checksum(f, p, end) !== 0) {
      this.stats.malformed++;
      return;
    }
    if (f[p] !== 8 || f[p + 1] !== 0 || (dst !== this.hostIp && dst !== this.dnsIp) || !this.onNet(src)) {
      this.stats.unsupported++;
      return;
    }
    const len = end - p;
    const o = ETH_HLEN + IP_HLEN;
    const r = o + len <= this.scratch.length ? this.scratch : new Uint8Array(o + len);
    r.set(f.subarray(p, end), o);
    r[o] = 0; // echo reply
    put16(r, o + 2, 0);
    put16(r, o + 2, checksum(r, o, o + len));
    this.sendDatagram(r, len, IPPROTO_ICMP, dst, src);
  }

  // ---- UDP (RFC 768) ----

  private udpInput(f: Uint8Array, p: number, end: number, src: number, dst: number): void {
    if (end - p < UDP_HLEN) {
      this.stats.malformed++;
      return;
    }
    const ulen = u16(f, p + 4);
    if (ulen < UDP_HLEN || p + ulen > end) {
      this.stats.malformed++;
      return;
    }
    end = p + ulen;
    if (u16(f, p + 6) !== 0 && fold(sum16(f, p, end, pseudoSum(src, dst, IPPROTO_UDP, ulen))) !== 0) {
      this.stats.malformed++;
      return;
    }
    const sport = u16(f, p);
    const dport = u16(f, p + 2);
    const data = p + UDP_HLEN;
    if (dport === 67 && (dst === 0xffffffff || dst === this.hostIp)) {
      this.dhcpInput(f.subarray(data, end));
      return;
    }
    if (src === 0 || !this.onNet(src)) {
      this.stats.unsupported++;
      return;
    }
    if (dst === this.dnsIp) {
      if (dport === 53) this.dnsInput(f.subarray(data, end), src, sport);
      else this.stats.unsupported++;
      return;
    }
    if (dst === this.hostIp) {
      const s = this.udpFwd.get(dport);
      if (s !== undefined && s.guestIp === src && s.fwd.guestPort === sport) {
        s.lastUse = this.host.now();
        s.sock.send(f.slice(data, end), s.peer, s.peerPort);
        return;
      }
    }
    const to = this.outboundAddress(dst);
    if (to === null) {
      this.stats.unsupported++;
      return;
    }
    const b = this.udpBinding(src, sport, false);
    if (b === null) return;
    b.sock.send(f.slice(data, end), to, dport);
  }

  /** Where a guest packet to `dst` goes on the host; null if nowhere (our network, broadcast, restrict=on). */
  private outboundAddress(dst: number): string | null {
    if (this.restrict) return null;
    if (dst === this.hostIp) return "127.0.0.1";
    if ((dst & this.mask) >>> 0 === this.net) return null;
    const first = dst >>> 24;
    if (first === 0 || first === 127 || first >= 224) return null; // this-network, loopback, multicast, reserved
    return ipToString(dst);
  }

  /** The relay socket for a guest address and port (created on first use). */
  private udpBinding(guestIp: number, guestPort: number, dns: boolean): UdpBinding | null {
    const key = dns ? -1 - guestPort : guestPort;
    let list = this.udp.get(key);
    if (list !== undefined) {
      for (const b of list) {
        if (b.guestIp === guestIp) {
          b.lastUse = this.host.now();
          return b;
        }
      }
    }
    if (this.udpCount >= MAX_UDP) {
      this.stats.unsupported++;
      return null;
    }
    const b: UdpBinding = {
      guestIp,
      guestPort,
      dns,
      lastUse: this.host.now(),
      sock: this.host.udpOpen({ onMessage: (data, addr, port) => this.udpFromHost(b, data, addr, port) }),
    };
    if (list === undefined) {
      list = [];
      this.udp.set(key, list);
    }
    list.push(b);
    this.udpCount++;
    this.armTimer();
    return b;
  }

  private udpFromHost(b: UdpBinding, data: Uint8Array, addr: string, port: number): void {
    if (this.closed) return;
    b.lastUse = this.host.now();
    let src: number;
    let sport = port;
    if (b.dns) {
      src = this.dnsIp;
      sport = 53;
    } else {
      const a = parseIp(addr);
      if (a === null) return;
      src = a >>> 24 === 127 ? this.hostIp : a;
    }
    this.sendUdp(src, sport, b.guestIp, b.guestPort, data, 0, data.length);
  }

  /** A datagram to a forwarded UDP port: relay it to the guest from a port on 10.0.2.2 standing for the peer. */
  private udpFromForwardPeer(fwd: BoundForward, sock: HostUdp, data: Uint8Array, peer: string, peerPort: number): void {
    if (this.closed) return;
    const guestIp = fwd.guestAddr ?? this.guestDefault;
    let session: UdpForwardSession | undefined;
    for (const s of this.udpFwd.values()) {
      if (s.fwd === fwd && s.peer === peer && s.peerPort === peerPort) session = s;
    }
    if (session === undefined) {
      const localPort = this.allocForwardPort((p) => this.udpFwd.has(p));
      if (localPort < 0) return;
      session = { fwd, sock, peer, peerPort, localPort, guestIp, lastUse: 0 };
      this.udpFwd.set(localPort, session);
      this.armTimer();
    }
    session.lastUse = this.host.now();
    this.sendUdp(this.hostIp, session.localPort, guestIp, fwd.guestPort, data, 0, data.length);
  }

  /** Send a UDP datagram to the guest, in IPv4 fragments if it does not fit the MTU. */
  private sendUdp(
    src: number,
    sport: number,
    dst: number,
    dport: number,
    data: Uint8Array,
    off: number,
    len: number,
  ): void {
    if (len > MAX_UDP_PAYLOAD) return;
    const ulen = UDP_HLEN + len;
    const whole = ulen + IP_HLEN <= MTU;
    const d = whole ? this.scratch : new Uint8Array(ETH_HLEN + IP_HLEN + ulen);
    const u = ETH_HLEN + IP_HLEN;
    put16(d, u, sport);
    put16(d, u + 2, dport);
    put16(d, u + 4, ulen);
    put16(d, u + 6, 0);
    d.set(data.subarray(off, off + len), u + UDP_HLEN);
    const c = fold(sum16(d, u, u + ulen, pseudoSum(src, dst, IPPROTO_UDP, ulen)));
    put16(d, u + 6, c === 0 ? 0xffff : c);
    this.sendDatagram(d, ulen, IPPROTO_UDP, src, dst);
  }

  /**
   * Send the `len`-byte payload at `d[ETH_HLEN + IP_HLEN, …)` to the guest in one IPv4 packet, or in fragments (RFC
   * 791: 8-byte aligned pieces, MF on all but the last) when it does not fit the MTU.
   */
  private sendDatagram(d: Uint8Array, len: number, proto: number, src: number, dst: number): void {
    const id = this.nextIpId();
    if (len + IP_HLEN <= MTU) {
      putIp(d, ETH_HLEN, IP_HLEN + len, id, proto, src, dst, 0);
      this.sendIp(d, IP_HLEN + len, dst);
      return;
    }
    const u = ETH_HLEN + IP_HLEN;
    const piece = (MTU - IP_HLEN) & ~7;
    for (let at = 0; at < len; at += piece) {
      const n = Math.min(piece, len - at);
      const fr = this.scratch;
      fr.set(d.subarray(u + at, u + at + n), u);
      const mf = at + n < len ? 0x2000 : 0;
      putIp(fr, ETH_HLEN, IP_HLEN + n, id, proto, src, dst, mf | (at / 8));
      this.sendIp(fr, IP_HLEN + n, dst);
    }
  }

  // ---- DHCP and DNS ----

  private dhcpInput(msg: Uint8Array): void {
    const r = this.dhcp.handle(msg);
    if (r === null) return;
    if (!r.broadcast) this.learn(r.dst, r.mac, 0);
    const mac = r.broadcast ? BROADCAST_MAC : r.mac;
    const saved = this.arp.get(r.dst);
    // The reply goes to the client's MAC whatever our table says (it may not have the address yet).
    this.arp.set(r.dst, mac);
    this.sendUdp(this.hostIp, 67, r.dst, 68, r.payload, 0, r.payload.length);
    if (r.broadcast) {
      if (saved === undefined) this.arp.delete(r.dst);
      else this.arp.set(r.dst, saved);
    }
  }

  private dnsInput(msg: Uint8Array, src: number, sport: number): void {
    const q = parseQuery(msg);
    if (q === null) {
      if (msg.length >= 12) this.dnsReply(buildAnswer(msg, null, RCODE_FORMERR, []), src, sport);
      else this.stats.malformed++;
      return;
    }
    if (!answersItself(q)) {
      // Other questions (PTR, MX, TXT, ...) go to the host's DNS server as they are.
      const server = this.restrict ? undefined : this.host.dnsServers()[0];
      if (server === undefined) {
        this.dnsReply(buildAnswer(msg, q, RCODE_SERVFAIL, []), src, sport);
        return;
      }
      const b = this.udpBinding(src, sport, true);
      if (b !== null) b.sock.send(msg.slice(), server, 53);
      return;
    }
    if (this.lookups >= MAX_LOOKUPS) {
      this.dnsReply(buildAnswer(msg, q, RCODE_SERVFAIL, []), src, sport);
      return;
    }
    this.lookups++;
    const query = msg.slice();
    const family = q.qtype === QTYPE_A ? 4 : 6;
    this.host.lookup(q.name).then(
      (addrs) => {
        this.lookups--;
        if (this.closed) return;
        const bytes: Uint8Array[] = [];
        for (const a of addrs) {
          if (a.family !== family) continue;
          const b = addressBytes(a.address);
          if (b !== null) bytes.push(b);
        }
        this.dnsReply(buildAnswer(query, q, addrs.length === 0 ? RCODE_NXDOMAIN : RCODE_NOERROR, bytes), src, sport);
      },
      () => {
        this.lookups--;
        if (!this.closed) this.dnsReply(buildAnswer(query, q, RCODE_SERVFAIL, []), src, sport);
      },
    );
  }

  private dnsReply(msg: Uint8Array, dst: number, dport: number): void {
    this.sendUdp(this.dnsIp, 53, dst, dport, msg, 0, msg.length);
  }

  // ---- TCP ----

  private tcpInput(f: Uint8Array, p: number, end: number, src: number, dst: number): void {
    const len = end - p;
    if (len < TCP_HLEN) {
      this.stats.malformed++;
      return;
    }
    const hlen = (f[p + 12]! >> 4) * 4;
    if (hlen < TCP_HLEN || hlen > len || fold(sum16(f, p, end, pseudoSum(src, dst, IPPROTO_TCP, len))) !== 0) {
      this.stats.malformed++;
      return;
    }
    const seg = this.seg;
    seg.seq = u32(f, p + 4);
    seg.ack = u32(f, p + 8);
    seg.flags = f[p + 13]! & 0x3f;
    seg.wnd = u16(f, p + 14);
    seg.data = f;
    seg.dataOff = p + hlen;
    seg.dataLen = len - hlen;
    seg.mss = -1;
    seg.wscale = -1;
    if ((seg.flags & TCP_SYN) !== 0) parseTcpOptions(f, p + TCP_HLEN, p + hlen, seg);
    const sport = u16(f, p);
    const dport = u16(f, p + 2);
    if (!this.onNet(src) || sport === 0 || dport === 0) {
      this.stats.unsupported++;
      return;
    }
    let c = this.findTcp(src, sport, dst, dport);
    if (c !== null && c.state === TcpState.TIME_WAIT && (seg.flags & (TCP_SYN | TCP_ACK)) === TCP_SYN) {
      c.finish(); // a new connection reusing the pair
      c = null;
    }
    if (c !== null) {
      c.input(seg);
      return;
    }
    if ((seg.flags & TCP_RST) !== 0) return;
    if ((seg.flags & (TCP_SYN | TCP_ACK)) !== TCP_SYN) {
      this.reset(src, sport, dst, dport);
      return;
    }
    const to = dst === this.dnsIp ? null : this.outboundAddress(dst);
    if (to === null || this.tcp.size >= MAX_TCP) {
      this.reset(src, sport, dst, dport);
      return;
    }
    c = new TcpConnection(this.tcpLink, src, sport, dst, dport);
    this.addTcp(c);
    c.openFromGuest(seg, this.host.tcpConnect(to, dport, c));
  }

  private reset(src: number, sport: number, dst: number, dport: number): void {
    const n = buildReset(this.scratch, this.nextIpId(), dst, dport, src, sport, this.seg);
    this.sendIp(this.scratch, n, src);
  }

  private findTcp(guestIp: number, guestPort: number, remoteIp: number, remotePort: number): TcpConnection | null {
    const list = this.tcpByPorts.get(guestPort * 65536 + remotePort);
    if (list === undefined) return null;
    for (const c of list) if (c.guestIp === guestIp && c.remoteIp === remoteIp) return c;
    return null;
  }

  private addTcp(c: TcpConnection): void {
    const key = c.guestPort * 65536 + c.remotePort;
    let list = this.tcpByPorts.get(key);
    if (list === undefined) {
      list = [];
      this.tcpByPorts.set(key, list);
    }
    list.push(c);
    this.tcp.add(c);
  }

  private removeTcp(c: TcpConnection): void {
    if (!this.tcp.delete(c)) return;
    const key = c.guestPort * 65536 + c.remotePort;
    const list = this.tcpByPorts.get(key);
    if (list === undefined) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.tcpByPorts.delete(key);
  }

  private acceptForward(fwd: BoundForward, sock: HostTcp, _peer: string, _peerPort: number): TcpConnection | null {
    if (this.closed || this.tcp.size >= MAX_TCP) return null;
    const guestIp = fwd.guestAddr ?? this.guestDefault;
    const port = this.allocForwardPort((p) => this.findTcp(guestIp, fwd.guestPort, this.hostIp, p) !== null);
    if (port < 0) return null;
    const c = new TcpConnection(this.tcpLink, guestIp, fwd.guestPort, this.hostIp, port);
    this.addTcp(c);
    c.openToGuest(sock);
    return c;
  }

  /** A local port on 10.0.2.2 for a forwarded connection that `used` says is free; -1 if none is. */
  private allocForwardPort(used: (port: number) => boolean): number {
    for (let i = 0; i < FWD_PORT_COUNT; i++) {
      const p = FWD_PORT_FIRST + ((this.nextFwdPort + i) % FWD_PORT_COUNT);
      if (!used(p)) {
        this.nextFwdPort = (p - FWD_PORT_FIRST + 1) % FWD_PORT_COUNT;
        return p;
      }
    }
    return -1;
  }

  private deferAck(c: TcpConnection): void {
    if (this.delayedAcks.push(c) === 1) queueMicrotask(() => this.flushAcks());
  }

  private flushAcks(): void {
    const list = this.delayedAcks;
    for (let i = 0; i < list.length; i++) list[i]!.flushAck();
    list.length = 0;
  }

  // ---- Timers ----

  private armTimer(): void {
    if (this.timer !== null || this.closed) return;
    this.timer = this.host.timer(TICK_MS, () => {
      this.timer = null;
      this.tick();
    });
  }

  private tick(): void {
    if (this.closed) return;
    const now = this.host.now();
    let more = false;
    for (const c of [...this.tcp]) {
      if (c.deadline !== 0) {
        c.onTimer(now);
        if (c.deadline !== 0) more = true;
      }
    }
    for (const [key, list] of this.udp) {
      for (let i = list.length - 1; i >= 0; i--) {
        const b = list[i]!;
        if (now - b.lastUse >= (b.dns ? DNS_IDLE_MS : UDP_IDLE_MS)) {
          b.sock.close();
          list.splice(i, 1);
          this.udpCount--;
        }
      }
      if (list.length === 0) this.udp.delete(key);
      else more = true;
    }
    if (this.frags.expire(now)) more = true;
    for (const [port, s] of this.udpFwd) {
      if (now - s.lastUse >= UDP_IDLE_MS) this.udpFwd.delete(port);
      else more = true;
    }
    if (more) this.armTimer();
  }
}

/** libslirp's addresses for its own IPs: 52:55 followed by the IPv4 address. */
function specialMac(ip: number): Uint8Array {
  const m = new Uint8Array(6);
  m[0] = 0x52;
  m[1] = 0x55;
  put32(m, 2, ip);
  return m;
}

function equalMac(a: Uint8Array, f: Uint8Array, o: number): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== f[o + i]) return false;
  return true;
}

/** MSS and window scale from a SYN's options (RFC 9293 §3.1, RFC 7323 §2.2); stops at anything malformed. */
function parseTcpOptions(f: Uint8Array, o: number, end: number, seg: TcpSegment): void {
  while (o < end) {
    const kind = f[o]!;
    if (kind === 0) return; // end of options
    if (kind === 1) {
      o++;
      continue;
    }
    if (o + 1 >= end) return;
    const len = f[o + 1]!;
    if (len < 2 || o + len > end) return;
    if (kind === 2 && len === 4) seg.mss = u16(f, o + 2);
    else if (kind === 3 && len === 3) seg.wscale = f[o + 2]!;
    o += len;
  }
}
