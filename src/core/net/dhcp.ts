/**
 * The user-mode stack's DHCP server (RFC 2131, options RFC 2132), as QEMU's slirp bootp.c offers it: addresses from
 * a small pool (10.0.2.15 onwards) leased per client MAC, with subnet mask, router, DNS server and lease time.
 * DISCOVER/OFFER, REQUEST/ACK or NAK, DECLINE, RELEASE and INFORM. Leaves out relays (giaddr), option overload, boot
 * file names and lease expiry (a lease lasts as long as the stack).
 */
import { put32, u32 } from "./packet.ts";

/** BOOTP fixed part: op..file (RFC 2131 §2, figure 1), then the magic cookie. */
const BOOTP_FIXED = 236;
const MAGIC = 0x63825363;
/** Smallest BOOTP message some clients accept (RFC 1542 §3.1.1). */
const BOOTP_MIN = 300;

export const DHCPDISCOVER = 1;
export const DHCPOFFER = 2;
export const DHCPREQUEST = 3;
export const DHCPDECLINE = 4;
export const DHCPACK = 5;
export const DHCPNAK = 6;
export const DHCPRELEASE = 7;
export const DHCPINFORM = 8;

/** Option codes (RFC 2132). */
const OPT_PAD = 0;
const OPT_SUBNET = 1;
const OPT_ROUTER = 3;
const OPT_DNS = 6;
const OPT_BROADCAST = 28;
const OPT_REQUESTED_IP = 50;
const OPT_LEASE_TIME = 51;
const OPT_MSG_TYPE = 53;
const OPT_SERVER_ID = 54;
const OPT_END = 255;

export interface DhcpConfig {
  /** The server's address (the gateway), also the router option. */
  readonly server: number;
  readonly netmask: number;
  readonly dns: number;
  /** First address of the pool and how many there are. */
  readonly first: number;
  readonly count: number;
  /** Lease time in seconds (QEMU: 86400). */
  readonly leaseSeconds: number;
}

/** A reply to send: the UDP payload, the IPv4 destination (an address or 255.255.255.255) and whether to broadcast. */
export interface DhcpReply {
  readonly payload: Uint8Array;
  readonly dst: number;
  readonly broadcast: boolean;
  /** The client's hardware address (chaddr), for a unicast frame. */
  readonly mac: Uint8Array;
}

export class DhcpServer {
  private readonly cfg: DhcpConfig;
  /** Pool slot -> client MAC ("" when free). */
  private readonly leases: string[];

  constructor(cfg: DhcpConfig) {
    this.cfg = cfg;
    this.leases = new Array<string>(cfg.count).fill("");
  }

  /** The address leased to `mac` (xx:xx:.. hex), or null. */
  leaseOf(mac: string): number | null {
    const i = this.leases.indexOf(mac);
    return i < 0 ? null : this.cfg.first + i;
  }

  /** Handle one message from a client (a UDP payload to port 67); returns the reply or null to stay silent. */
  handle(msg: Uint8Array): DhcpReply | null {
    if (msg.length < BOOTP_FIXED + 4 || msg[0] !== 1 || msg[1] !== 1 || msg[2] !== 6) return null;
    if (u32(msg, BOOTP_FIXED) !== MAGIC) return null;
    if (u32(msg, 24) !== 0) return null; // giaddr: relays are not supported
    let type = 0;
    let requested = -1;
    let serverId = -1;
    // Options: code, length, value; PAD and END have no length (RFC 2132 §3).
    for (let o = BOOTP_FIXED + 4; o < msg.length; ) {
      const code = msg[o]!;
      if (code === OPT_END) break;
      if (code === OPT_PAD) {
        o++;
        continue;
      }
      if (o + 1 >= msg.length) break;
      const len = msg[o + 1]!;
      const v = o + 2;
      if (v + len > msg.length) break;
      if (code === OPT_MSG_TYPE && len === 1) type = msg[v]!;
      else if (code === OPT_REQUESTED_IP && len === 4) requested = u32(msg, v);
      else if (code === OPT_SERVER_ID && len === 4) serverId = u32(msg, v);
      o = v + len;
    }
    const mac = msg.slice(28, 34);
    const key = macKey(mac);
    const ciaddr = u32(msg, 12);
    const cfg = this.cfg;
    switch (type) {
      case DHCPDISCOVER: {
        const addr = this.allocate(key, requested);
        if (addr === null) return null; // pool exhausted: no offer
        return this.reply(msg, DHCPOFFER, addr, 0, true);
      }
      case DHCPREQUEST: {
        if (serverId >= 0 && serverId !== cfg.server) {
          // The client took another server's offer: forget ours.
          this.release(key);
          return null;
        }
        const want = requested >= 0 ? requested : ciaddr;
        const slot = want - cfg.first;
        if (want === 0 || slot < 0 || slot >= cfg.count || (this.leases[slot] !== "" && this.leases[slot] !== key)) {
          return this.reply(msg, DHCPNAK, 0, 0, true);
        }
        const old = this.leases.indexOf(key);
        if (old >= 0 && old !== slot) this.leases[old] = "";
        this.leases[slot] = key;
        return this.reply(msg, DHCPACK, want, ciaddr, true);
      }
      case DHCPDECLINE:
      case DHCPRELEASE:
        this.release(key);
        return null;
      case DHCPINFORM:
        return ciaddr === 0 ? null : this.reply(msg, DHCPACK, 0, ciaddr, false);
      default:
        return null;
    }
  }

  /** The client's current lease, else the requested address if free, else the first free one. */
  private allocate(key: string, requested: number): number | null {
    const cfg = this.cfg;
    const have = this.leases.indexOf(key);
    if (have >= 0) return cfg.first + have;
    const slot = requested - cfg.first;
    if (requested >= 0 && slot >= 0 && slot < cfg.count && this.leases[slot] === "") {
      this.leases[slot] = key;
      return requested;
    }
    const free = this.leases.indexOf("");
    if (free < 0) return null;
    this.leases[free] = key;
    return cfg.first + free;
  }

  private release(key: string): void {
    const i = this.leases.indexOf(key);
    if (i >= 0) this.leases[i] = "";
  }

  private reply(req: Uint8Array, type: number, yiaddr: number, ciaddr: number, lease: boolean): DhcpReply {
    const cfg = this.cfg;
    const r = new Uint8Array(BOOTP_MIN + 64);
    r[0] = 2; // BOOTREPLY
    r[1] = 1;
    r[2] = 6;
    r.set(req.subarray(4, 8), 4); // xid
    r.set(req.subarray(10, 12), 10); // flags
    put32(r, 12, ciaddr);
    put32(r, 16, yiaddr);
    if (type !== DHCPNAK) put32(r, 20, cfg.server); // siaddr
    r.set(req.subarray(28, 44), 28); // chaddr
    put32(r, BOOTP_FIXED, MAGIC);
    let o = BOOTP_FIXED + 4;
    const opt = (code: number, value: number, len = 4) => {
      r[o] = code;
      r[o + 1] = len;
      if (len === 1) r[o + 2] = value;
      else put32(r, o + 2, value);
      o += 2 + len;
    };
    opt(OPT_MSG_TYPE, type, 1);
    opt(OPT_SERVER_ID, cfg.server);
    if (type !== DHCPNAK) {
      if (lease) opt(OPT_LEASE_TIME, cfg.leaseSeconds);
      opt(OPT_SUBNET, cfg.netmask);
      opt(OPT_ROUTER, cfg.server);
      opt(OPT_DNS, cfg.dns);
      opt(OPT_BROADCAST, (cfg.server & cfg.netmask) | (~cfg.netmask >>> 0));
    }
    r[o++] = OPT_END;
    const payload = r.subarray(0, Math.max(o, BOOTP_MIN));
    // RFC 2131 §4.1: NAKs and replies to clients asking for broadcast go to 255.255.255.255; otherwise to ciaddr if
    // the client has one, else to yiaddr at the client's MAC.
    const wantsBroadcast = (req[10]! & 0x80) !== 0;
    const mac = req.slice(28, 34);
    if (type === DHCPNAK || (ciaddr === 0 && wantsBroadcast)) {
      return { payload, dst: 0xffffffff, broadcast: true, mac };
    }
    return { payload, dst: ciaddr !== 0 ? ciaddr : yiaddr, broadcast: false, mac };
  }
}

function macKey(mac: Uint8Array): string {
  let s = "";
  for (let i = 0; i < 6; i++) s += (mac[i]! < 16 ? "0" : "") + mac[i]!.toString(16) + (i < 5 ? ":" : "");
  return s;
}
