/**
 * Byte-level helpers for the user-mode network stack: big-endian field access, the Internet checksum (RFC 1071),
 * IPv4 addresses as unsigned 32-bit numbers, and the Ethernet/IPv4/UDP/TCP/ICMP header layouts (RFC 894, 791, 768,
 * 9293, 792) the stack reads and writes. Reads past the end of a buffer return 0 (callers check lengths first).
 */

/** Ethernet header: destination MAC, source MAC, EtherType (IEEE 802.3 / RFC 894). */
export const ETH_HLEN = 14;
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
/** Largest IPv4 packet the link carries (Ethernet MTU). */
export const MTU = 1500;
/** Largest frame without FCS: the MTU plus the Ethernet header. */
export const MAX_FRAME = ETH_HLEN + MTU;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** IPv4 header without options. */
export const IP_HLEN = 20;
export const UDP_HLEN = 8;
/** TCP header without options. */
export const TCP_HLEN = 20;

/** TCP flags (RFC 9293 §3.1). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export const u16 = (b: Uint8Array, o: number): number => ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
export const u32 = (b: Uint8Array, o: number): number =>
  (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;

export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** One's-complement sum of `b[start, end)` added to `sum` (not folded). Odd lengths pad with a zero byte. */
export function sum16(b: Uint8Array, start: number, end: number, sum: number): number {
  let i = start;
  // Fold every 64 K words so the sum stays a small integer.
  while (i + 1 < end) {
    sum += (b[i]! << 8) | b[i + 1]!;
    i += 2;
    if ((i & 0x1ffff) === 0) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i < end) sum += b[i]! << 8;
  return sum;
}

/** Fold a one's-complement sum to 16 bits and complement it: the Internet checksum. */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Internet checksum of `b[start, end)`. */
export const checksum = (b: Uint8Array, start: number, end: number): number => fold(sum16(b, start, end, 0));

/** Sum of the TCP/UDP pseudo-header (RFC 9293 §3.1, RFC 768) for a segment of `len` bytes. */
export function pseudoSum(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}

/** Dotted-quad text of an address held as an unsigned 32-bit number. */
export const ipToString = (a: number): string => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

/** Parse dotted-quad IPv4 text; null if it is not exactly four decimal numbers 0..255. */
export function parseIp(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) return null;
  let a = 0;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255) return null;
    a = a * 256 + n;
  }
  return a;
}

/** A MAC address as six bytes. */
export type Mac = Uint8Array;

/** Parse `52:54:00:12:34:56`; null if malformed. */
export function parseMac(text: string): Mac | null {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(text);
  if (m === null) return null;
  const mac = new Uint8Array(6);
  for (let i = 0; i < 6; i++) mac[i] = Number.parseInt(m[i + 1]!, 16);
  return mac;
}

export const macToString = (m: Uint8Array, o = 0): string =>
  Array.from(m.subarray(o, o + 6), (b) => b.toString(16).padStart(2, "0")).join(":");

/** Write an Ethernet header at 0. */
export function putEth(f: Uint8Array, dst: Uint8Array, src: Uint8Array, type: number): void {
  f.set(dst.subarray(0, 6), 0);
  f.set(src.subarray(0, 6), 6);
  put16(f, 12, type);
}

/** Bytes of an Ethernet frame carrying an IPv4-over-Ethernet ARP packet. */
export const ARP_FRAME_LEN = ETH_HLEN + 28;

/**
 * Write into `f` an Ethernet frame to MAC `dst` carrying an ARP packet (RFC 826, IPv4 over Ethernet): operation `op`
 * (1 request, 2 reply), sender `sha`/`spa` (`sha` is also the frame's source), target `tha`/`tpa`. ARP_FRAME_LEN bytes.
 */
export function putArp(
  f: Uint8Array,
  dst: Uint8Array,
  op: number,
  sha: Uint8Array,
  spa: number,
  tha: Uint8Array,
  tpa: number,
): void {
  const a = ETH_HLEN;
  putEth(f, dst, sha, ETHERTYPE_ARP);
  put16(f, a, 1);
  put16(f, a + 2, ETHERTYPE_IPV4);
  f[a + 4] = 6;
  f[a + 5] = 4;
  put16(f, a + 6, op);
  f.set(sha.subarray(0, 6), a + 8);
  put32(f, a + 14, spa);
  f.set(tha.subarray(0, 6), a + 18);
  put32(f, a + 24, tpa);
}

/**
 * Write a 20-byte IPv4 header at `o` for a packet of `total` bytes (header included) with its checksum. DF is set
 * unless `frag` gives the flags/fragment-offset field.
 */
export function putIp(
  f: Uint8Array,
  o: number,
  total: number,
  id: number,
  proto: number,
  src: number,
  dst: number,
  frag = 0x4000,
  ttl = 64,
): void {
  f[o] = 0x45;
  f[o + 1] = 0;
  put16(f, o + 2, total);
  put16(f, o + 4, id & 0xffff);
  put16(f, o + 6, frag);
  f[o + 8] = ttl;
  f[o + 9] = proto;
  put16(f, o + 10, 0);
  put32(f, o + 12, src);
  put32(f, o + 16, dst);
  put16(f, o + 10, checksum(f, o, o + IP_HLEN));
}
