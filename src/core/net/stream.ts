/**
 * Ethernet frames over a byte stream, as QEMU's `-netdev socket` and `-netdev stream` carry them between VMs: each
 * frame preceded by its length as a 4-byte big-endian number (net/socket.c, net/stream.c). The decoder takes the
 * stream in chunks of any size and yields whole frames; a length of more than MAX_STREAM_FRAME is a protocol error.
 */

/** Largest frame accepted from a peer (QEMU's NET_BUFSIZE: 4096 + 65536). */
export const MAX_STREAM_FRAME = 4096 + 65536;

/** A frame with its 4-byte length prefix, ready to write. */
export function encodeFrame(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + frame.length);
  const n = frame.length;
  out[0] = n >>> 24;
  out[1] = n >>> 16;
  out[2] = n >>> 8;
  out[3] = n;
  out.set(frame, 4);
  return out;
}

export class FrameDecoder {
  private readonly head = new Uint8Array(4);
  private headLen = 0;
  private frame: Uint8Array | null = null;
  private got = 0;

  /**
   * Consume `chunk`, calling `onFrame` for each complete frame (the array is the decoder's to give away: the callee
   * may keep it). Returns null, or a message when the peer broke the framing (the stream is unusable afterwards).
   */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): string | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.frame === null) {
        while (this.headLen < 4 && i < chunk.length) this.head[this.headLen++] = chunk[i++]!;
        if (this.headLen < 4) break;
        const h = this.head;
        const n = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
        this.headLen = 0;
        if (n > MAX_STREAM_FRAME) return `frame length ${n} exceeds ${MAX_STREAM_FRAME}`;
        if (n === 0) continue; // an empty frame carries nothing
        this.frame = new Uint8Array(n);
        this.got = 0;
      }
      const f = this.frame;
      const take = Math.min(f.length - this.got, chunk.length - i);
      f.set(chunk.subarray(i, i + take), this.got);
      this.got += take;
      i += take;
      if (this.got === f.length) {
        this.frame = null;
        onFrame(f);
      }
    }
    return null;
  }
}
