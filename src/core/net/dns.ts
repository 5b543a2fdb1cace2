/**
 * DNS messages (RFC 1035 §4) for the user-mode stack's resolver at 10.0.2.3: parse a standard query with one
 * question, and build the answer to an A or AAAA question from addresses the host's resolver returned (so names in
 * the host's /etc/hosts work offline, as with QEMU's slirp on hosts where it uses getaddrinfo). Other question types
 * are relayed to the host's DNS server as they are (slirp.ts).
 */
import { parseIp, put16, put32, u16 } from "./packet.ts";

const HEADER = 12;
export const QTYPE_A = 1;
export const QTYPE_AAAA = 28;
const QCLASS_IN = 1;
/** Response codes (RFC 1035 §4.1.1). */
export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
/** TTL of answers: short, since the host's view may change. */
const TTL = 60;
/** Largest UDP answer without EDNS (RFC 1035 §4.2.1). */
const UDP_MAX = 512;

export interface DnsQuestion {
  /** The name, lower-case, without the final dot. */
  readonly name: string;
  readonly qtype: number;
  readonly qclass: number;
  /** Offset just past the question (the question's bytes are copied into the answer). */
  readonly end: number;
}

/**
 * Parse a query: QR = 0, OPCODE = QUERY, exactly one question whose name has no compression pointers. Returns null
 * for anything else (the caller answers FORMERR when the header at least is there).
 */
export function parseQuery(msg: Uint8Array): DnsQuestion | null {
  if (msg.length < HEADER + 5) return null;
  if ((msg[2]! & 0xf8) !== 0) return null; // QR and OPCODE
  if (u16(msg, 4) !== 1 || u16(msg, 6) !== 0 || u16(msg, 8) !== 0) return null;
  let o = HEADER;
  let name = "";
  for (;;) {
    if (o >= msg.length) return null;
    const len = msg[o]!;
    if (len === 0) {
      o++;
      break;
    }
    if (len > 63 || o + 1 + len > msg.length) return null;
    if (name.length > 0) name += ".";
    for (let i = o + 1; i <= o + len; i++) {
      const c = msg[i]!;
      // Host names: letters, digits, '-' and '_' (other bytes could mean something else to the host's resolver).
      const ok =
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x5f;
      if (!ok) return null;
      name += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
    }
    if (name.length > 253) return null;
    o += 1 + len;
  }
  if (o + 4 > msg.length) return null;
  return { name, qtype: u16(msg, o), qclass: u16(msg, o + 2), end: o + 4 };
}

/** Whether the stack answers this question itself (A or AAAA in class IN, a non-empty name). */
export const answersItself = (q: DnsQuestion): boolean =>
  q.qclass === QCLASS_IN && (q.qtype === QTYPE_A || q.qtype === QTYPE_AAAA) && q.name.length > 0;

/**
 * The response to `query` (whose question `q` is): `rcode`, and one record per address of the question's family
 * (4-byte A or 16-byte AAAA data). Truncated (TC) past 512 bytes. `q` null: a FORMERR with no question.
 */
export function buildAnswer(query: Uint8Array, q: DnsQuestion | null, rcode: number, addrs: Uint8Array[]): Uint8Array {
  const qlen = q === null ? 0 : q.end - HEADER;
  const rdlen = q === null ? 0 : q.qtype === QTYPE_A ? 4 : 16;
  let n = 0;
  for (const a of addrs) if (a.length === rdlen) n++;
  const recLen = 12 + rdlen;
  let fit = n;
  let tc = 0;
  if (HEADER + qlen + n * recLen > UDP_MAX) {
    fit = Math.floor((UDP_MAX - HEADER - qlen) / recLen);
    tc = 0x02;
  }
  const r = new Uint8Array(HEADER + qlen + fit * recLen);
  r[0] = query[0] ?? 0;
  r[1] = query[1] ?? 0;
  r[2] = 0x80 | tc | ((query[2] ?? 0) & 0x01); // QR, TC, RD copied
  r[3] = 0x80 | (rcode & 0x0f); // RA
  put16(r, 4, q === null ? 0 : 1);
  put16(r, 6, fit);
  if (q !== null) r.set(query.subarray(HEADER, q.end), HEADER);
  let o = HEADER + qlen;
  for (const a of addrs) {
    if (a.length !== rdlen || fit === 0) continue;
    fit--;
    put16(r, o, 0xc000 | HEADER); // the name: a pointer to the question's
    put16(r, o + 2, q!.qtype);
    put16(r, o + 4, QCLASS_IN);
    put32(r, o + 6, TTL);
    put16(r, o + 10, rdlen);
    r.set(a, o + 12);
    o += recLen;
  }
  return r;
}

/** IPv4 or IPv6 text to its 4 or 16 bytes; null if malformed. */
export function addressBytes(text: string): Uint8Array | null {
  const v4 = parseIp(text);
  if (v4 !== null) {
    const b = new Uint8Array(4);
    put32(b, 0, v4);
    return b;
  }
  return parseIpv6(text);
}

function parseIpv6(text: string): Uint8Array | null {
  const pct = text.indexOf("%");
  if (pct >= 0) text = text.slice(0, pct);
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIp(p);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-f]{1,4}$/i.test(p)) return null;
        out.push(Number.parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0 || (halves.length === 2 && fill < 1)) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const b = new Uint8Array(16);
  for (let i = 0; i < 8; i++) put16(b, i * 2, all[i]!);
  return b;
}
