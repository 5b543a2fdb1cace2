// The user-mode network stack driven by hand-built Ethernet frames, as a guest would send them, against real host
// sockets on loopback (Node's host backend): ARP, DHCP, ping, DNS, UDP relay, TCP outbound (handshake, data both
// ways, close both ways, resets, guest retransmissions, flow control, our retransmission), forwarded host ports, a
// guest that posts no receive buffers, and malformed frames of every kind.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createSocket } from "node:dgram";
import { connect, createServer, type Server, type Socket } from "node:net";
import { after, describe, test } from "node:test";
import { NodeNetHost } from "../../host/node/net.ts";
import type { NetPort } from "./backend.ts";
import type { HostTcp, HostTcpEvents } from "./host.ts";
import {
  checksum,
  fold,
  ipToString,
  parseIp,
  pseudoSum,
  put16,
  put32,
  sum16,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_RST,
  TCP_SYN,
  u16,
  u32,
} from "./packet.ts";
import { type HostForward, SLIRP_DHCP_START, SLIRP_DNS, SLIRP_HOST, Slirp } from "./slirp.ts";
import { RCV_BUF } from "./tcp.ts";

const GUEST_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const GW_MAC = Uint8Array.of(0x52, 0x55, 0x0a, 0x00, 0x02, 0x02);
const BCAST = Uint8Array.of(255, 255, 255, 255, 255, 255);
const GUEST = SLIRP_DHCP_START;
const GW = SLIRP_HOST;

// ---- Frame building (what a guest sends) ----

function eth(dst: Uint8Array, type: number, payload: Uint8Array, src = GUEST_MAC): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  put16(f, 12, type);
  f.set(payload, 14);
  return f;
}

function ipv4(src: number, dst: number, proto: number, payload: Uint8Array, frag = 0x4000): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  p[0] = 0x45;
  put16(p, 2, p.length);
  put16(p, 4, 7);
  put16(p, 6, frag);
  p[8] = 64;
  p[9] = proto;
  put32(p, 12, src);
  put32(p, 16, dst);
  put16(p, 10, checksum(p, 0, 20));
  p.set(payload, 20);
  return p;
}

function udp(src: number, dst: number, sport: number, dport: number, data: Uint8Array): Uint8Array {
  const u = new Uint8Array(8 + data.length);
  put16(u, 0, sport);
  put16(u, 2, dport);
  put16(u, 4, u.length);
  u.set(data, 8);
  const c = fold(sum16(u, 0, u.length, pseudoSum(src, dst, 17, u.length)));
  put16(u, 6, c === 0 ? 0xffff : c);
  return eth(GW_MAC, 0x0800, ipv4(src, dst, 17, u));
}

function tcpFrame(
  src: number,
  dst: number,
  sport: number,
  dport: number,
  seq: number,
  ack: number,
  flags: number,
  wnd: number,
  data: Uint8Array = new Uint8Array(0),
  options: number[] = [],
): Uint8Array {
  const hlen = 20 + options.length;
  const t = new Uint8Array(hlen + data.length);
  put16(t, 0, sport);
  put16(t, 2, dport);
  put32(t, 4, seq);
  put32(t, 8, ack);
  t[12] = (hlen / 4) << 4;
  t[13] = flags;
  put16(t, 14, wnd);
  t.set(options, 20);
  t.set(data, hlen);
  put16(t, 16, fold(sum16(t, 0, t.length, pseudoSum(src, dst, 6, t.length))));
  return eth(GW_MAC, 0x0800, ipv4(src, dst, 6, t));
}

function arpRequest(spa: number, tpa: number): Uint8Array {
  const a = new Uint8Array(28);
  put16(a, 0, 1);
  put16(a, 2, 0x0800);
  a[4] = 6;
  a[5] = 4;
  put16(a, 6, 1);
  a.set(GUEST_MAC, 8);
  put32(a, 14, spa);
  put32(a, 24, tpa);
  return eth(BCAST, 0x0806, a);
}

function icmpEcho(src: number, dst: number, id: number, seq: number, data: Uint8Array): Uint8Array {
  const m = new Uint8Array(8 + data.length);
  m[0] = 8;
  put16(m, 4, id);
  put16(m, 6, seq);
  m.set(data, 8);
  put16(m, 2, checksum(m, 0, m.length));
  return eth(GW_MAC, 0x0800, ipv4(src, dst, 1, m));
}

function dhcpMessage(type: number, mac: Uint8Array, xid: number, extra: number[] = []): Uint8Array {
  const m = new Uint8Array(300);
  m[0] = 1;
  m[1] = 1;
  m[2] = 6;
  put32(m, 4, xid);
  m.set(mac, 28);
  put32(m, 236, 0x63825363);
  const opts = [53, 1, type, 55, 3, 1, 3, 6, ...extra, 255];
  m.set(opts, 240);
  return m;
}

function dnsQuery(id: number, name: string, qtype: number): Uint8Array {
  const parts: number[] = [];
  for (const label of name.split(".")) parts.push(label.length, ...Buffer.from(label));
  const q = new Uint8Array(12 + parts.length + 5);
  put16(q, 0, id);
  q[2] = 1; // RD
  put16(q, 4, 1);
  q.set(parts, 12);
  put16(q, 12 + parts.length + 1, qtype);
  put16(q, 12 + parts.length + 3, 1);
  return q;
}

// ---- Frame parsing (what the guest receives) ----

interface Parsed {
  readonly frame: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly type: number;
  readonly ip?: { src: number; dst: number; proto: number; id: number; frag: number; payload: Uint8Array };
  readonly tcp?: {
    sport: number;
    dport: number;
    seq: number;
    ack: number;
    flags: number;
    wnd: number;
    data: Uint8Array;
    options: Uint8Array;
  };
  readonly udp?: { sport: number; dport: number; data: Uint8Array };
}

function parse(f: Uint8Array): Parsed {
  const type = u16(f, 12);
  const base = { frame: f, dst: f.slice(0, 6), src: f.slice(6, 12), type };
  if (type !== 0x0800) return base;
  const ihl = (f[14]! & 15) * 4;
  const total = u16(f, 16);
  assert.equal(checksum(f, 14, 14 + ihl), 0, "IPv4 header checksum");
  const ip = {
    src: u32(f, 26),
    dst: u32(f, 30),
    proto: f[23]!,
    id: u16(f, 18),
    frag: u16(f, 20),
    payload: f.slice(14 + ihl, 14 + total),
  };
  const p = ip.payload;
  if (ip.proto === 6) {
    assert.equal(fold(sum16(p, 0, p.length, pseudoSum(ip.src, ip.dst, 6, p.length))), 0, "TCP checksum");
    const hlen = (p[12]! >> 4) * 4;
    return {
      ...base,
      ip,
      tcp: {
        sport: u16(p, 0),
        dport: u16(p, 2),
        seq: u32(p, 4),
        ack: u32(p, 8),
        flags: p[13]!,
        wnd: u16(p, 14),
        data: p.slice(hlen),
        options: p.slice(20, hlen),
      },
    };
  }
  if (ip.proto === 17 && (ip.frag & 0x3fff) === 0) {
    if (u16(p, 6) !== 0) {
      assert.equal(fold(sum16(p, 0, p.length, pseudoSum(ip.src, ip.dst, 17, p.length))), 0, "UDP checksum");
    }
    return { ...base, ip, udp: { sport: u16(p, 0), dport: u16(p, 2), data: p.slice(8, u16(p, 4)) } };
  }
  return { ...base, ip };
}

/** The guest's card: records frames, can refuse them (no receive buffers), and lets a test wait for one. */
class TestPort implements NetPort {
  frames: Parsed[] = [];
  full = false;
  link = false;
  /** Frames to pretend the card lost (taken but dropped). */
  lose = 0;
  /** Called with each frame as the stack hands it over. */
  check: ((p: Parsed) => void) | null = null;
  private waiters: (() => void)[] = [];

  receive(frame: Uint8Array): boolean {
    if (this.full) return false;
    if (this.lose > 0) {
      this.lose--;
      return true;
    }
    const p = parse(frame.slice());
    this.check?.(p);
    this.frames.push(p);
    for (const w of this.waiters.splice(0)) w();
    return true;
  }

  setLink(up: boolean): void {
    this.link = up;
  }

  /** Take the first frame matching `pred` (waiting up to `ms`). */
  async take(pred: (p: Parsed) => boolean, ms = 3000, what = "frame"): Promise<Parsed> {
    const end = Date.now() + ms;
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(i, 1)[0]!;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${ms} ms; have ${this.frames.length} other frames`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

const closers: (() => void)[] = [];
after(() => {
  for (const c of closers) c();
});

async function stack(forwards: HostForward[] = [], host = new NodeNetHost()) {
  const s = new Slirp(host, { hostForwards: forwards });
  await s.start();
  const port = new TestPort();
  s.attach(port);
  closers.push(() => s.close());
  return { s, port };
}

function listen(handler: (sock: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    sock.on("error", () => {}); // resets when a stack closes are expected
    handler(sock);
  });
  closers.push(() => server.close());
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

const isTcp = (sport: number, dport: number, flags?: number) => (p: Parsed) =>
  p.tcp !== undefined &&
  p.tcp.sport === sport &&
  p.tcp.dport === dport &&
  (flags === undefined || p.tcp.flags === flags);

/** A guest-side TCP endpoint over the test port: enough of TCP to drive the stack, acknowledging what it receives. */
class GuestTcp {
  seq = 1000;
  ack = 0;
  received: Uint8Array[] = [];
  receivedBytes = 0;
  finReceived = false;
  readonly s: Slirp;
  readonly port: TestPort;
  readonly lport: number;
  readonly rip: number;
  readonly rport: number;
  wnd: number;
  /** The acknowledgment and window the guest last sent. */
  lastAck = 0;
  lastWnd = 0;
  constructor(s: Slirp, port: TestPort, lport: number, rip: number, rport: number, wnd = 65535) {
    this.s = s;
    this.port = port;
    this.lport = lport;
    this.rip = rip;
    this.rport = rport;
    this.wnd = wnd;
  }

  send(flags: number, data?: Uint8Array, options?: number[], seq = this.seq): void {
    if ((flags & TCP_ACK) !== 0) {
      this.lastAck = this.ack;
      this.lastWnd = this.wnd;
    }
    this.s.transmit(tcpFrame(GUEST, this.rip, this.lport, this.rport, seq, this.ack, flags, this.wnd, data, options));
  }

  /** Active open; returns the SYN-ACK. */
  async connect(options = [2, 4, 0x05, 0xb4]): Promise<Parsed> {
    this.send(TCP_SYN, undefined, options);
    const synack = await this.port.take(isTcp(this.rport, this.lport), 3000, "SYN-ACK");
    assert.equal(synack.tcp!.flags, TCP_SYN | TCP_ACK, "SYN-ACK flags");
    assert.equal(synack.tcp!.ack, (this.seq + 1) >>> 0);
    this.seq = (this.seq + 1) >>> 0;
    this.ack = (synack.tcp!.seq + 1) >>> 0;
    this.send(TCP_ACK);
    return synack;
  }

  write(data: Uint8Array): void {
    this.send(TCP_ACK | TCP_PSH, data);
    this.seq = (this.seq + data.length) >>> 0;
  }

  fin(): void {
    this.send(TCP_ACK | TCP_FIN);
    this.seq = (this.seq + 1) >>> 0;
  }

  /** Consume the stack's segments for this connection, acknowledging in-order data, until `until` is true. */
  async pump(until: () => boolean, ms = 5000, ackEach = true): Promise<void> {
    const end = Date.now() + ms;
    while (!until()) {
      const seg = await this.port.take(isTcp(this.rport, this.lport), end - Date.now(), "segment");
      const t = seg.tcp!;
      if ((t.flags & TCP_RST) !== 0) throw new Error("connection reset by the stack");
      if (t.seq === this.ack && t.data.length > 0) {
        this.received.push(t.data);
        this.receivedBytes += t.data.length;
        this.ack = (this.ack + t.data.length) >>> 0;
      }
      if ((t.flags & TCP_FIN) !== 0 && (t.seq + t.data.length) >>> 0 === this.ack) {
        this.ack = (this.ack + 1) >>> 0;
        this.finReceived = true;
      }
      if (ackEach && (t.data.length > 0 || (t.flags & TCP_FIN) !== 0)) this.send(TCP_ACK);
    }
  }

  text(): string {
    return Buffer.concat(this.received).toString();
  }
}

describe("ARP", () => {
  test("the gateway and DNS addresses answer with 52:55:<ip>; other addresses do not", async () => {
    const { s, port } = await stack();
    assert.equal(port.link, true);
    s.transmit(arpRequest(GUEST, GW));
    const r = await port.take((p) => p.type === 0x0806);
    assert.deepEqual(r.dst, GUEST_MAC);
    const a = r.frame.subarray(14);
    assert.equal(u16(a, 6), 2, "op = reply");
    assert.deepEqual(a.slice(8, 14), GW_MAC);
    assert.equal(u32(a, 14), GW);
    assert.deepEqual(a.slice(18, 24), GUEST_MAC);
    assert.equal(u32(a, 24), GUEST);
    s.transmit(arpRequest(GUEST, SLIRP_DNS));
    const d = await port.take((p) => p.type === 0x0806);
    assert.deepEqual(d.frame.slice(22, 28), Uint8Array.of(0x52, 0x55, 10, 0, 2, 3));
    s.transmit(arpRequest(GUEST, parseIp("10.0.2.99")!));
    s.transmit(arpRequest(GUEST, GUEST)); // a gratuitous ARP / conflict probe for the guest's own address
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(port.frames.length, 0);
  });
});

describe("DHCP", () => {
  test("DISCOVER/OFFER/REQUEST/ACK with router, DNS and lease; a second client; NAK; RELEASE", async () => {
    const { s, port } = await stack();
    const options = (p: Parsed): Map<number, Uint8Array> => {
      const d = p.udp!.data;
      assert.equal(u32(d, 236), 0x63825363);
      const m = new Map<number, Uint8Array>();
      for (let o = 240; d[o] !== 255; ) {
        if (d[o] === 0) {
          o++;
          continue;
        }
        m.set(d[o]!, d.slice(o + 2, o + 2 + d[o + 1]!));
        o += 2 + d[o + 1]!;
      }
      return m;
    };
    const isDhcp = (p: Parsed) => p.udp !== undefined && p.udp.sport === 67 && p.udp.dport === 68;
    s.transmit(udp(0, 0xffffffff, 68, 67, dhcpMessage(1, GUEST_MAC, 0x1234)));
    const offer = await port.take(isDhcp);
    assert.equal(u32(offer.udp!.data, 4), 0x1234, "xid");
    assert.equal(ipToString(u32(offer.udp!.data, 16)), "10.0.2.15", "yiaddr");
    assert.equal(offer.ip!.src, GW);
    assert.deepEqual(offer.dst, GUEST_MAC);
    let o = options(offer);
    assert.deepEqual([...o.get(53)!], [2], "OFFER");
    assert.equal(ipToString(u32(o.get(54)!, 0)), "10.0.2.2", "server id");
    assert.equal(ipToString(u32(o.get(1)!, 0)), "255.255.255.0");
    assert.equal(ipToString(u32(o.get(3)!, 0)), "10.0.2.2", "router");
    assert.equal(ipToString(u32(o.get(6)!, 0)), "10.0.2.3", "dns");
    assert.equal(u32(o.get(51)!, 0), 86400, "lease");

    s.transmit(
      udp(0, 0xffffffff, 68, 67, dhcpMessage(3, GUEST_MAC, 0x1235, [50, 4, 10, 0, 2, 15, 54, 4, 10, 0, 2, 2])),
    );
    const ack = await port.take(isDhcp);
    o = options(ack);
    assert.deepEqual([...o.get(53)!], [5], "ACK");
    assert.equal(ipToString(u32(ack.udp!.data, 16)), "10.0.2.15");

    const other = Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x57);
    const m2 = dhcpMessage(1, other, 0x99);
    m2[10] = 0x80; // broadcast flag
    s.transmit(eth(BCAST, 0x0800, ipv4(0, 0xffffffff, 17, udp(0, 0xffffffff, 68, 67, m2).subarray(34)), other));
    const offer2 = await port.take(isDhcp);
    assert.equal(ipToString(u32(offer2.udp!.data, 16)), "10.0.2.16", "second client gets the next address");
    assert.deepEqual(offer2.dst, BCAST, "broadcast flag honoured");
    assert.equal(offer2.ip!.dst, 0xffffffff);

    // The second client asks for the first one's address: NAK.
    const bad = dhcpMessage(3, other, 0x9a, [50, 4, 10, 0, 2, 15]);
    s.transmit(eth(BCAST, 0x0800, ipv4(0, 0xffffffff, 17, udp(0, 0xffffffff, 68, 67, bad).subarray(34)), other));
    const nak = await port.take(isDhcp);
    assert.deepEqual([...options(nak).get(53)!], [6], "NAK");

    // RELEASE frees .15: a new client gets it.
    const rel = dhcpMessage(7, GUEST_MAC, 0x77);
    put32(rel, 12, GUEST);
    s.transmit(udp(GUEST, GW, 68, 67, rel));
    const third = Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x58);
    s.transmit(eth(BCAST, 0x0800, udp(0, 0xffffffff, 68, 67, dhcpMessage(1, third, 5)).subarray(14), third));
    const offer3 = await port.take(isDhcp);
    assert.equal(ipToString(u32(offer3.udp!.data, 16)), "10.0.2.15");
  });
});

describe("ICMP", () => {
  test("echo requests to the gateway and the DNS address are answered; a bad checksum is dropped", async () => {
    const { s, port } = await stack();
    const payload = Uint8Array.from({ length: 56 }, (_, i) => i);
    for (const dst of [GW, SLIRP_DNS]) {
      s.transmit(icmpEcho(GUEST, dst, 0x4242, 7, payload));
      const r = await port.take((p) => p.ip?.proto === 1);
      const m = r.ip!.payload;
      assert.equal(m[0], 0, "echo reply");
      assert.equal(checksum(m, 0, m.length), 0, "ICMP checksum");
      assert.equal(u16(m, 4), 0x4242);
      assert.equal(u16(m, 6), 7);
      assert.deepEqual(m.slice(8), payload);
      assert.equal(r.ip!.src, dst);
      assert.equal(r.ip!.dst, GUEST);
      assert.deepEqual(r.dst, GUEST_MAC);
    }
    const bad = icmpEcho(GUEST, GW, 1, 1, payload);
    bad[40] ^= 1;
    const before = s.stats.malformed;
    s.transmit(bad);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(port.frames.length, 0);
    assert.equal(s.stats.malformed, before + 1);
  });
});

describe("IPv4 fragments", () => {
  test("a 4000-byte ping in fragments is reassembled and answered in fragments", async () => {
    const { s, port } = await stack();
    const payload = Uint8Array.from({ length: 4000 }, (_, i) => (i * 3) & 255);
    const whole = icmpEcho(GUEST, GW, 0x77, 1, payload).subarray(34); // the ICMP message
    for (let at = 0; at < whole.length; at += 1480) {
      const piece = whole.subarray(at, at + 1480);
      const more = at + 1480 < whole.length ? 0x2000 : 0;
      s.transmit(eth(GW_MAC, 0x0800, ipv4(GUEST, GW, 1, piece, more | (at / 8))));
    }
    const frags: Parsed[] = [];
    for (let i = 0; i < 3; i++) frags.push(await port.take((p) => p.ip?.proto === 1));
    const reply = new Uint8Array(whole.length);
    for (const f of frags) reply.set(f.ip!.payload, (f.ip!.frag & 0x1fff) * 8);
    assert.equal(checksum(reply, 0, reply.length), 0);
    assert.equal(reply[0], 0, "echo reply");
    assert.deepEqual(reply.subarray(8), payload);
  });
});

describe("UDP and DNS", () => {
  test("datagrams to 10.0.2.2 reach the host's loopback and replies come back from 10.0.2.2", async () => {
    const { s, port } = await stack();
    const server = createSocket("udp4");
    closers.push(() => server.close());
    server.on("message", (msg, r) => server.send(Buffer.concat([Buffer.from("echo:"), msg]), r.port, r.address));
    await new Promise<void>((r) => server.bind(0, "127.0.0.1", r));
    const sp = server.address().port;
    s.transmit(udp(GUEST, GW, 5555, sp, Buffer.from("ping over udp")));
    const r = await port.take((p) => p.udp?.dport === 5555);
    assert.equal(Buffer.from(r.udp!.data).toString(), "echo:ping over udp");
    assert.equal(r.ip!.src, GW);
    assert.equal(r.udp!.sport, sp);
    // A reply bigger than the MTU arrives in IPv4 fragments.
    const big = new Uint8Array(4000).fill(0x61);
    s.transmit(udp(GUEST, GW, 5556, sp, big));
    const frags: Parsed[] = [];
    for (let i = 0; i < 3; i++) frags.push(await port.take((p) => p.ip?.proto === 17));
    const id = frags[0]!.ip!.id;
    const whole = new Uint8Array(8 + 4005);
    for (const f of frags) {
      assert.equal(f.ip!.id, id);
      whole.set(f.ip!.payload, (f.ip!.frag & 0x1fff) * 8);
    }
    assert.deepEqual(
      frags.map((f) => f.ip!.frag & 0x2000),
      [0x2000, 0x2000, 0],
    );
    assert.equal(fold(sum16(whole, 0, whole.length, pseudoSum(GW, GUEST, 17, whole.length))), 0);
    assert.equal(Buffer.from(whole.subarray(8, 13)).toString(), "echo:");
  });

  test("A and AAAA queries to 10.0.2.3 are answered from the host's resolver; unknown names get NXDOMAIN", async () => {
    const host = new NodeNetHost();
    host.lookup = async (name: string) =>
      name === "localhost"
        ? [
            { address: "127.0.0.1", family: 4 as const },
            { address: "::1", family: 6 as const },
          ]
        : name === "only4.test"
          ? [{ address: "192.0.2.7", family: 4 as const }]
          : [];
    const { s, port } = await stack([], host);
    const ask = async (id: number, name: string, qtype: number) => {
      s.transmit(udp(GUEST, SLIRP_DNS, 40000 + id, 53, dnsQuery(id, name, qtype)));
      const r = await port.take((p) => p.udp?.dport === 40000 + id);
      assert.equal(r.udp!.sport, 53);
      assert.equal(r.ip!.src, SLIRP_DNS);
      const d = r.udp!.data;
      assert.equal(u16(d, 0), id);
      assert.equal(d[2]! & 0x80, 0x80, "QR");
      return d;
    };
    let d = await ask(1, "LocalHost", 1);
    assert.equal(d[3]! & 15, 0, "NOERROR");
    assert.equal(u16(d, 6), 1, "one answer");
    assert.deepEqual([...d.slice(d.length - 4)], [127, 0, 0, 1]);
    d = await ask(2, "localhost", 28);
    assert.equal(u16(d, 6), 1);
    assert.deepEqual([...d.slice(d.length - 16)], [...new Array(15).fill(0), 1]);
    d = await ask(3, "only4.test", 28);
    assert.equal(d[3]! & 15, 0, "NODATA is NOERROR");
    assert.equal(u16(d, 6), 0);
    d = await ask(4, "nothing.invalid", 1);
    assert.equal(d[3]! & 15, 3, "NXDOMAIN");
    // A compression pointer in a query: FORMERR.
    const q = dnsQuery(5, "a", 1);
    q[12] = 0xc0;
    s.transmit(udp(GUEST, SLIRP_DNS, 40099, 53, q));
    const r = await port.take((p) => p.udp?.dport === 40099);
    assert.equal(r.udp!.data[3]! & 15, 1, "FORMERR");
  });

  test("the Node host resolves localhost through getaddrinfo", async () => {
    const addrs = await new NodeNetHost().lookup("localhost");
    assert.ok(
      addrs.some((a) => a.family === 4 && a.address === "127.0.0.1"),
      JSON.stringify(addrs),
    );
  });
});

describe("TCP from the guest", () => {
  test("handshake, data both ways, the host closes first, then the guest", async () => {
    const { s, port } = await stack();
    let serverGot = "";
    let serverEnded = false;
    const { port: sp } = await listen((sock) => {
      sock.on("data", (d) => {
        serverGot += d.toString();
        sock.write(`reply to ${d.toString()}`);
        sock.end();
      });
      sock.on("end", () => {
        serverEnded = true;
      });
    });
    const g = new GuestTcp(s, port, 33000, GW, sp);
    const synack = await g.connect();
    assert.deepEqual([...synack.tcp!.options.slice(0, 4)], [2, 4, 0x05, 0xb4], "MSS 1460");
    assert.deepEqual(synack.src, GW_MAC);
    g.write(Buffer.from("hello"));
    await g.pump(() => g.finReceived);
    assert.equal(g.text(), "reply to hello");
    assert.equal(serverGot, "hello");
    assert.equal(serverEnded, false, "the guest has not closed yet");
    g.fin();
    const last = await port.take(isTcp(sp, 33000));
    assert.equal(last.tcp!.flags, TCP_ACK);
    assert.equal(last.tcp!.ack, g.seq);
    await waitUntil(() => serverEnded && s.tcpConnections === 0);
  });

  test("the guest closes first (half-close): the host still sends, then closes", async () => {
    const { s, port } = await stack();
    const { port: sp } = await listen((sock) => {
      let got = "";
      sock.on("data", (d) => {
        got += d.toString();
      });
      sock.on("end", () => {
        sock.end(`you said ${got}`);
      });
    });
    const g = new GuestTcp(s, port, 33001, GW, sp);
    await g.connect();
    g.write(Buffer.from("abc"));
    g.fin();
    await g.pump(() => g.finReceived);
    assert.equal(g.text(), "you said abc");
    await waitUntil(() => s.tcpConnections === 0);
  });

  test("a closed host port answers the SYN with RST; a stray segment gets RST; RST from the guest resets the host", async () => {
    const { s, port } = await stack();
    const { server, port: closedPort } = await listen(() => {});
    await new Promise<void>((r) => server.close(() => r()));
    const g = new GuestTcp(s, port, 33002, GW, closedPort);
    g.send(TCP_SYN);
    const rst = await port.take(isTcp(closedPort, 33002));
    assert.equal(rst.tcp!.flags, TCP_RST | TCP_ACK);
    assert.equal(rst.tcp!.ack, g.seq + 1);
    // A segment for no connection.
    s.transmit(tcpFrame(GUEST, GW, 33003, 80, 5, 777, TCP_ACK, 100));
    const r2 = await port.take(isTcp(80, 33003));
    assert.equal(r2.tcp!.flags, TCP_RST);
    assert.equal(r2.tcp!.seq, 777);
    // Guest RST: the host sees a reset.
    let hostError = "";
    const { port: sp } = await listen((sock) => {
      sock.on("error", (e: NodeJS.ErrnoException) => {
        hostError = e.code ?? "?";
      });
    });
    const g2 = new GuestTcp(s, port, 33004, GW, sp);
    await g2.connect();
    g2.send(TCP_RST);
    await waitUntil(() => hostError !== "" && s.tcpConnections === 0);
    assert.equal(hostError, "ECONNRESET");
    // No route: another address on the virtual network.
    const g3 = new GuestTcp(s, port, 33005, parseIp("10.0.2.77")!, 80);
    g3.send(TCP_SYN);
    assert.equal((await port.take(isTcp(80, 33005))).tcp!.flags, TCP_RST | TCP_ACK);
  });

  test("guest retransmissions and out-of-order segments do not duplicate or reorder data", async () => {
    const { s, port } = await stack();
    let got = "";
    const { port: sp } = await listen((sock) => {
      sock.on("data", (d) => {
        got += d.toString();
      });
    });
    const g = new GuestTcp(s, port, 33006, GW, sp);
    await g.connect();
    const start = g.seq;
    g.write(Buffer.from("AAAA"));
    g.send(TCP_ACK, Buffer.from("AAAA"), [], start); // retransmitted
    g.send(TCP_ACK, Buffer.from("CCCC"), [], (start + 8) >>> 0); // out of order: dropped, duplicate ACK
    const dup = await port.take((p) => isTcp(sp, 33006)(p) && p.tcp!.ack === (start + 4) >>> 0);
    assert.equal(dup.tcp!.flags, TCP_ACK);
    g.send(TCP_ACK, Buffer.from("AABBBB"), [], (start + 2) >>> 0); // overlaps what the stack has
    g.seq = (start + 8) >>> 0;
    g.send(TCP_ACK, Buffer.from("CCCC"));
    g.seq = (start + 12) >>> 0;
    await waitUntil(() => got.length >= 12);
    assert.equal(got, "AAAABBBBCCCC");
  });

  test("a burst of in-order segments is acknowledged once, after the burst; out-of-order at once", async () => {
    const { s, port } = await stack();
    const { port: sp } = await listen(() => {});
    const g = new GuestTcp(s, port, 33010, GW, sp);
    await g.connect();
    await new Promise((r) => setTimeout(r, 20));
    port.frames.length = 0;
    for (let i = 0; i < 10; i++) g.write(new Uint8Array(1000));
    assert.equal(port.frames.length, 0, "no ACK inside the burst");
    await new Promise((r) => setImmediate(r));
    const acks = port.frames.filter(isTcp(sp, 33010));
    assert.equal(acks.length, 1);
    assert.equal(acks[0]!.tcp!.ack, g.seq);
  });

  test("megabytes both ways arrive intact (hashes), within the guest's window", async () => {
    const { s, port } = await stack();
    const size = 3 * 1024 * 1024;
    const down = Buffer.alloc(size);
    for (let i = 0; i < size; i++) down[i] = (i * 7 + (i >> 11)) & 255;
    const upHash = createHash("sha256");
    let upBytes = 0;
    const { port: sp } = await listen((sock) => {
      sock.write(down);
      sock.on("data", (d) => {
        upHash.update(d);
        upBytes += d.length;
      });
      sock.on("end", () => sock.end());
    });
    const g = new GuestTcp(s, port, 33007, GW, sp, 8192);
    await g.connect([2, 4, 0x05, 0xb4]); // no window scale: an 8 KiB window
    const upTotal = 2 * 1024 * 1024;
    const up = Buffer.alloc(upTotal);
    for (let i = 0; i < upTotal; i++) up[i] = (i * 13) & 255;
    let sent = 0;
    // Every segment, when the stack sends it, lies within the window the guest last advertised.
    port.check = (p) => {
      if (!isTcp(sp, 33007)(p) || p.tcp!.data.length === 0) return;
      const beyond = ((p.tcp!.seq + p.tcp!.data.length - g.lastAck) | 0) - g.lastWnd;
      assert.ok(beyond <= 0, `segment beyond the guest's window by ${beyond}`);
    };
    const upStart = g.seq;
    let peerAck = upStart;
    let peerWnd = 0;
    // Interleave: send guest data within the stack's advertised window, read the host's data with an 8 KiB window.
    const end = Date.now() + 60_000;
    while ((g.receivedBytes < size || (peerAck - upStart) >>> 0 < upTotal) && Date.now() < end) {
      while (sent < upTotal && sent - ((peerAck - upStart) >>> 0) < Math.min(peerWnd, 65536)) {
        const n = Math.min(1460, upTotal - sent);
        g.seq = (upStart + sent) >>> 0;
        g.send(TCP_ACK, up.subarray(sent, sent + n));
        sent += n;
      }
      const seg = await port.take(isTcp(sp, 33007), 5000, "segment");
      const t = seg.tcp!;
      assert.ok(t.data.length <= 1460, "segments within the MSS");
      peerAck = t.ack;
      peerWnd = t.wnd;
      if (t.seq === g.ack && t.data.length > 0) {
        g.received.push(t.data);
        g.receivedBytes += t.data.length;
        g.ack = (g.ack + t.data.length) >>> 0;
        g.seq = (upStart + sent) >>> 0;
        g.send(TCP_ACK);
      }
    }
    assert.equal(g.receivedBytes, size);
    assert.equal(
      createHash("sha256").update(Buffer.concat(g.received)).digest("hex"),
      createHash("sha256").update(down).digest("hex"),
    );
    await waitUntil(() => upBytes === upTotal);
    assert.equal(upHash.digest("hex"), createHash("sha256").update(up).digest("hex"));
  });

  test("a guest that stops reading: the window closes, the host socket is paused, buffering stays bounded", async () => {
    const { s, port } = await stack();
    let written = 0;
    let done = false;
    const { port: sp } = await listen((sock) => {
      const chunk = Buffer.alloc(65536, 0x5a);
      const write = () => {
        while (!done && sock.write(chunk)) written += chunk.length;
        if (!done) written += chunk.length;
      };
      sock.on("drain", write);
      sock.on("error", () => {});
      write();
    });
    const g = new GuestTcp(s, port, 33008, GW, sp, 4096);
    await g.connect();
    // Read 4 KiB, acknowledge it with a zero window, then stop.
    await g.pump(() => g.receivedBytes >= 4096, 5000, false);
    g.wnd = 0;
    g.send(TCP_ACK);
    await new Promise((r) => setTimeout(r, 1500));
    const held = s.heldBytes;
    assert.ok(held <= 256 * 1024 + 65536, `the stack holds ${held} bytes`);
    assert.ok(written > 0);
    // Nothing beyond the 4 KiB window was sent.
    for (const f of port.frames) {
      if (!isTcp(sp, 33008)(f)) continue;
      assert.ok(((f.tcp!.seq + f.tcp!.data.length - g.ack) | 0) <= 4096);
    }
    done = true;
  });

  test("a host that stops reading: the window the stack advertises closes, then opens again", async () => {
    const { s, port } = await stack();
    let server: Socket | null = null;
    const got: Buffer[] = [];
    const { port: sp } = await listen((sock) => {
      server = sock;
      sock.pause();
      sock.on("data", (d) => got.push(d));
    });
    const g = new GuestTcp(s, port, 33011, GW, sp);
    const synack = await g.connect([2, 4, 0x05, 0xb4, 1, 3, 3, 0]); // window scale 0 from the guest
    const scale = synack.tcp!.options[7]!; // the stack's shift (MSS, NOP, WS)
    await waitUntil(() => server !== null);
    let wnd = synack.tcp!.wnd;
    let acked = g.seq;
    let sent = 0;
    let smallWindows = 0;
    const chunk = new Uint8Array(1460).fill(0x33);
    // Send within the advertised window until it closes (the host socket's buffers and then ours fill up).
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      const room = ((acked + wnd * 2 ** scale - g.seq) | 0) >>> 0;
      if (room > 0) {
        const n = Math.min(room, chunk.length);
        g.write(chunk.subarray(0, n));
        sent += n;
        continue;
      }
      await new Promise((r) => setImmediate(r));
      const acks = port.frames.splice(0).filter(isTcp(sp, 33011));
      if (acks.length > 0) {
        acked = acks.at(-1)!.tcp!.ack;
        wnd = acks.at(-1)!.tcp!.wnd;
      }
      if (wnd === 0 && acked === g.seq) break;
      if (wnd > 0 && wnd * 2 ** scale < 1460) smallWindows++;
      if (acks.length === 0) await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(wnd, 0, "the window closed");
    assert.equal(smallWindows, 0, "no silly windows (below one MSS) were advertised");
    assert.ok(sent > 0);
    // The host reads again: the stack reopens the window (a window update), and every byte arrives.
    (server as unknown as Socket).resume();
    const update = await port.take((p) => isTcp(sp, 33011)(p) && p.tcp!.wnd > 0, 5000, "window update");
    assert.equal(update.tcp!.ack, g.seq);
    await waitUntil(() => got.reduce((n, b) => n + b.length, 0) === sent);
  });

  test("silly window avoidance: a window that grows by less than an MSS is not advertised", async () => {
    // A host socket whose unsent bytes the test controls.
    let events: HostTcpEvents | null = null;
    // The host socket holds all but 65535 bytes of the stack's buffer: the window starts at exactly 65535.
    const fake = { bufferedAmount: RCV_BUF - 65535, written: 0 };
    const host = new NodeNetHost();
    host.tcpConnect = (_a: string, _p: number, ev: HostTcpEvents): HostTcp => {
      events = ev;
      setImmediate(() => ev.onConnect());
      return {
        get bufferedAmount() {
          return fake.bufferedAmount;
        },
        write(d: Uint8Array) {
          fake.written += d.length;
          fake.bufferedAmount += d.length;
        },
        end() {},
        destroy() {},
        pause() {},
        resume() {},
      };
    };
    const { s, port } = await stack([], host);
    const g = new GuestTcp(s, port, 33012, GW, 9999);
    await g.connect(); // no window scaling: windows in bytes, at most 65535
    const probe = async () => {
      g.send(TCP_ACK, undefined, undefined, (g.seq - 1) >>> 0); // an old sequence number: the stack ACKs its window
      return (await port.take(isTcp(9999, 33012), 1000, "ACK")).tcp!.wnd;
    };
    assert.equal(await probe(), 65535);
    // Fill the window to 1000 bytes short of its edge; the host takes nothing.
    for (let left = 65535 - 1000; left > 0; ) {
      const n = Math.min(1460, left);
      g.write(new Uint8Array(n));
      left -= n;
    }
    await new Promise((r) => setImmediate(r));
    port.frames.length = 0;
    assert.equal(await probe(), 1000, "the right edge stays where it was");
    fake.bufferedAmount -= 500; // the host takes 500 bytes: not worth a window update
    assert.equal(await probe(), 1000);
    fake.bufferedAmount -= 1000; // now 1500 more: the edge moves
    assert.equal(await probe(), 2500);
    fake.bufferedAmount = 0;
    events!.onDrain();
    assert.equal((await port.take(isTcp(9999, 33012), 1000, "window update")).tcp!.wnd, 65535);
  });

  test("a segment the guest's card lost is sent again after the retransmission timeout", async () => {
    const { s, port } = await stack();
    const { port: sp } = await listen((sock) => {
      sock.on("data", () => sock.write("important"));
    });
    const g = new GuestTcp(s, port, 33009, GW, sp);
    await g.connect();
    const t0 = Date.now();
    g.write(Buffer.from("?"));
    // The (delayed) ACK of "?" goes through; the reply's segment is lost.
    await port.take((p) => isTcp(sp, 33009)(p) && p.tcp!.ack === g.seq && p.tcp!.data.length === 0);
    port.lose = 1;
    await g.pump(() => g.receivedBytes >= 9, 5000);
    assert.equal(g.text(), "important");
    assert.ok(Date.now() - t0 >= 900, "came after the RTO");
  });
});

describe("forwarded host ports", () => {
  test("a host connection to hostfwd reaches the guest port; data both ways; the guest closes", async () => {
    const { s, port } = await stack([{ proto: "tcp", hostAddr: "127.0.0.1", hostPort: 0, guestPort: 22 }]);
    const hostPort = s.forwards[0]!.boundPort;
    assert.ok(hostPort > 0);
    // The guest has an address (it talked once, so the stack knows its MAC).
    s.transmit(arpRequest(GUEST, GW));
    await port.take((p) => p.type === 0x0806);
    const client = connect(hostPort, "127.0.0.1");
    let clientGot = "";
    let clientEnded = false;
    client.on("data", (d) => {
      clientGot += d.toString();
    });
    client.on("end", () => {
      clientEnded = true;
      client.end();
    });
    const syn = await port.take((p) => p.tcp?.dport === 22);
    assert.equal(syn.tcp!.flags, TCP_SYN);
    assert.equal(syn.ip!.src, GW);
    assert.equal(syn.ip!.dst, GUEST);
    const g = new GuestTcp(s, port, 22, GW, syn.tcp!.sport);
    g.ack = (syn.tcp!.seq + 1) >>> 0;
    g.send(TCP_SYN | TCP_ACK, undefined, [2, 4, 0x05, 0xb4, 1, 3, 3, 7]);
    g.seq++;
    client.write("from host");
    await g.pump(() => g.receivedBytes >= 9);
    assert.equal(g.text(), "from host");
    g.write(Buffer.from("from guest"));
    g.fin();
    await waitUntil(() => clientEnded);
    assert.equal(clientGot, "from guest");
    await g.pump(() => g.finReceived);
    g.send(TCP_ACK);
    await waitUntil(() => s.tcpConnections === 0);
  });

  test("before the guest has spoken, the stack ARPs for it; a closed guest port resets the host connection", async () => {
    const { s, port } = await stack([{ proto: "tcp", hostAddr: "127.0.0.1", hostPort: 0, guestPort: 23 }]);
    const client = connect(s.forwards[0]!.boundPort, "127.0.0.1");
    let closed = false;
    client.on("error", () => {});
    client.on("close", () => {
      closed = true;
    });
    const who = await port.take((p) => p.type === 0x0806);
    assert.deepEqual(who.dst, BCAST);
    assert.equal(u32(who.frame, 14 + 24), GUEST);
    // The guest answers the ARP; the waiting SYN follows.
    const reply = arpRequest(GUEST, GW);
    put16(reply, 14 + 6, 2);
    s.transmit(reply);
    const syn = await port.take((p) => p.tcp?.dport === 23);
    s.transmit(tcpFrame(GUEST, GW, 23, syn.tcp!.sport, 0, (syn.tcp!.seq + 1) >>> 0, TCP_RST | TCP_ACK, 0));
    await waitUntil(() => closed);
    assert.equal(s.tcpConnections, 0);
  });

  test("a forwarded UDP port relays datagrams both ways", async () => {
    const { s, port } = await stack([{ proto: "udp", hostAddr: "127.0.0.1", hostPort: 0, guestPort: 5353 }]);
    s.transmit(arpRequest(GUEST, GW));
    await port.take((p) => p.type === 0x0806);
    const client = createSocket("udp4");
    closers.push(() => client.close());
    const got = new Promise<string>((resolve) => client.on("message", (m) => resolve(m.toString())));
    client.send("question", s.forwards[0]!.boundPort, "127.0.0.1");
    const d = await port.take((p) => p.udp?.dport === 5353);
    assert.equal(Buffer.from(d.udp!.data).toString(), "question");
    s.transmit(udp(GUEST, GW, 5353, d.udp!.sport, Buffer.from("answer")));
    assert.equal(await got, "answer");
  });
});

describe("restrict=on", () => {
  test("no outbound TCP or UDP; DHCP, DNS answers, ping and forwards still work", async () => {
    const s = new Slirp(new NodeNetHost(), {
      restrict: true,
      hostForwards: [{ proto: "tcp", hostAddr: "127.0.0.1", hostPort: 0, guestPort: 22 }],
    });
    await s.start();
    closers.push(() => s.close());
    const port = new TestPort();
    s.attach(port);
    let connected = false;
    const { port: sp } = await listen(() => {
      connected = true;
    });
    const g = new GuestTcp(s, port, 34000, GW, sp);
    g.send(TCP_SYN);
    assert.equal((await port.take(isTcp(sp, 34000))).tcp!.flags, TCP_RST | TCP_ACK);
    let udpSeen = false;
    const server = createSocket("udp4");
    closers.push(() => server.close());
    server.on("message", () => {
      udpSeen = true;
    });
    await new Promise<void>((r) => server.bind(0, "127.0.0.1", r));
    s.transmit(udp(GUEST, GW, 5000, server.address().port, Buffer.from("x")));
    s.transmit(icmpEcho(GUEST, GW, 1, 1, new Uint8Array(8)));
    await port.take((p) => p.ip?.proto === 1);
    s.transmit(udp(GUEST, SLIRP_DNS, 4444, 53, dnsQuery(1, "localhost", 1)));
    await port.take((p) => p.udp?.dport === 4444);
    const client = connect(s.forwards[0]!.boundPort, "127.0.0.1");
    client.on("error", () => {});
    closers.push(() => client.destroy());
    await port.take((p) => p.tcp?.dport === 22 && p.tcp.flags === TCP_SYN);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(connected, false);
    assert.equal(udpSeen, false);
  });
});

describe("flow control towards the card", () => {
  test("frames wait while the guest has no receive buffers and arrive in order afterwards", async () => {
    const { s, port } = await stack();
    port.full = true;
    for (let i = 0; i < 5; i++) s.transmit(icmpEcho(GUEST, GW, 1, i, new Uint8Array(8)));
    assert.equal(port.frames.length, 0);
    port.full = false;
    s.rxReady();
    assert.deepEqual(
      port.frames.map((f) => u16(f.ip!.payload, 6)),
      [0, 1, 2, 3, 4],
    );
  });
});

describe("malformed frames", () => {
  test("random, truncated and corrupted frames never throw and the stack keeps working", async () => {
    const { s, port } = await stack();
    const { port: sp } = await listen((sock) => sock.on("data", (d) => sock.write(d)));
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 8;
    };
    const samples = [
      arpRequest(GUEST, GW),
      icmpEcho(GUEST, GW, 1, 1, new Uint8Array(32)),
      udp(0, 0xffffffff, 68, 67, dhcpMessage(1, GUEST_MAC, 1)),
      udp(GUEST, SLIRP_DNS, 999, 53, dnsQuery(1, "localhost", 1)),
      tcpFrame(GUEST, GW, 40000, sp, 1, 0, TCP_SYN, 1000, undefined, [2, 4, 5, 0xb4, 3, 3, 7, 0]),
      tcpFrame(GUEST, GW, 40001, 9, 1, 2, TCP_ACK | TCP_FIN, 1000, new Uint8Array(10)),
    ];
    const iterations = 30_000;
    for (let i = 0; i < iterations; i++) {
      const base = samples[rand() % samples.length]!;
      let f: Uint8Array;
      switch (rand() % 5) {
        case 0: // random bytes with a plausible EtherType
          f = Uint8Array.from({ length: rand() % 200 }, () => rand() & 255);
          if (f.length > 14) put16(f, 12, rand() % 2 ? 0x0800 : 0x0806);
          break;
        case 1: // truncated
          f = base.slice(0, rand() % base.length);
          break;
        case 2: {
          // bit flips
          f = base.slice();
          for (let k = rand() % 4; k >= 0; k--) {
            const at = rand() % f.length;
            f[at] = f[at]! ^ (1 << (rand() % 8));
          }
          break;
        }
        case 3: {
          // lying length fields, with the IPv4 header checksum fixed so they get past it
          f = base.slice();
          if (f.length > 34) {
            put16(f, 16, rand() & 0xffff);
            f[14] = 0x40 | (rand() % 16);
            put16(f, 24, 0);
            put16(f, 24, checksum(f, 14, 14 + Math.min(60, (f[14]! & 15) * 4)));
            if (f.length > 40) put16(f, 38, rand() & 0xffff); // UDP length
          }
          break;
        }
        default: // extended with garbage
          f = new Uint8Array(base.length + (rand() % 64));
          f.set(base);
          for (let k = base.length; k < f.length; k++) f[k] = rand() & 255;
      }
      s.transmit(f);
    }
    assert.ok(s.stats.malformed > 1000, `malformed ${s.stats.malformed}`);
    // Still answers, and a TCP connection still works.
    await new Promise((r) => setTimeout(r, 100));
    port.frames.length = 0;
    s.transmit(icmpEcho(GUEST, GW, 9, 9, new Uint8Array(4)));
    await port.take((p) => p.ip?.proto === 1 && u16(p.ip.payload, 6) === 9);
    const g = new GuestTcp(s, port, 41000, GW, sp);
    await g.connect();
    g.write(Buffer.from("still alive"));
    await g.pump(() => g.receivedBytes >= 11);
    assert.equal(g.text(), "still alive");
  });
});

async function waitUntil(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
