/**
 * IPv4 reassembly (RFC 791 §3.2, "fragmentation and reassembly") for datagrams the guest sends in fragments, e.g. a
 * `ping -s 4000` or a large UDP datagram. Fragments are keyed by source, destination, protocol and identification;
 * a datagram completes when its pieces cover [0, total) with the last (MF = 0) piece giving total. Overlapping
 * fragments drop the whole datagram (as RFC 5722 asks of IPv6: overlaps only serve evasion), as do datagrams over
 * 65535 bytes and ones not completed within the timeout. At most MAX_DATAGRAMS are pending at once.
 */

/** Datagrams being reassembled at once; a new one beyond this is dropped. */
const MAX_DATAGRAMS = 16;
/** Largest IPv4 payload (65535 minus a 20-byte header). */
const MAX_PAYLOAD = 65515;
/** How long a datagram may take to complete (RFC 791 suggests 15 s as the lower bound of the timer). */
export const REASSEMBLY_TIMEOUT_MS = 30_000;

interface Pending {
  readonly key: string;
  readonly buf: Uint8Array;
  /** Received [start, end) ranges, sorted, not overlapping. */
  readonly ranges: [number, number][];
  /** Payload length once the last fragment came, else -1. */
  total: number;
  readonly born: number;
}

export class IpReassembly {
  private readonly pending = new Map<string, Pending>();
  /** Datagrams dropped (overlap, too big, timeout, too many pending). */
  dropped = 0;

  get size(): number {
    return this.pending.size;
  }

  /**
   * Add the fragment at byte `offset` with payload `data` (`more`: MF was set). Returns the whole payload when the
   * datagram is complete, else null. A fragment that breaks the rules drops its datagram.
   */
  add(
    now: number,
    src: number,
    dst: number,
    proto: number,
    id: number,
    offset: number,
    more: boolean,
    data: Uint8Array,
  ): Uint8Array | null {
    const key = `${src}/${dst}/${proto}/${id}`;
    let p = this.pending.get(key);
    const end = offset + data.length;
    if (end > MAX_PAYLOAD || (more && (data.length === 0 || data.length % 8 !== 0))) {
      this.drop(key, p);
      return null;
    }
    if (p === undefined) {
      if (this.pending.size >= MAX_DATAGRAMS) {
        this.dropped++;
        return null;
      }
      p = { key, buf: new Uint8Array(MAX_PAYLOAD), ranges: [], total: -1, born: now };
      this.pending.set(key, p);
    }
    if (!more) {
      if (p.total >= 0 && p.total !== end) {
        this.drop(key, p);
        return null;
      }
      p.total = end;
    }
    if (p.total >= 0 && end > p.total) {
      this.drop(key, p);
      return null;
    }
    const r = p.ranges;
    if (data.length > 0) {
      // Insert [offset, end) unless it overlaps a range already there.
      let i = 0;
      while (i < r.length && r[i]![1] <= offset) i++;
      if (i < r.length && r[i]![0] < end) {
        this.drop(key, p);
        return null;
      }
      r.splice(i, 0, [offset, end]);
      p.buf.set(data, offset);
    }
    // Merge neighbours so a complete datagram is one range [0, total).
    for (let k = r.length - 1; k > 0; k--) {
      if (r[k - 1]![1] === r[k]![0]) {
        r[k - 1]![1] = r[k]![1];
        r.splice(k, 1);
      }
    }
    if (p.total > 0 && r.length === 1 && r[0]![0] === 0 && r[0]![1] === p.total) {
      this.pending.delete(key);
      return p.buf.subarray(0, p.total);
    }
    return null;
  }

  /** Drop datagrams older than the timeout; returns whether any remain. */
  expire(now: number): boolean {
    for (const p of this.pending.values()) {
      if (now - p.born >= REASSEMBLY_TIMEOUT_MS) {
        this.pending.delete(p.key);
        this.dropped++;
      }
    }
    return this.pending.size > 0;
  }

  private drop(key: string, p: Pending | undefined): void {
    if (p !== undefined) this.pending.delete(key);
    this.dropped++;
  }
}
