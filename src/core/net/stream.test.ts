// Length-prefixed frames on a byte stream (QEMU -netdev socket framing): every split of the stream decodes the same
// frames; empty frames are skipped; an oversized length is a protocol error.
import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeFrame, FrameDecoder, MAX_STREAM_FRAME } from "./stream.ts";

test("frames survive any chunking of the stream", () => {
  const frames = [new Uint8Array([1, 2, 3]), new Uint8Array(1514).fill(7), new Uint8Array([9]), new Uint8Array(60)];
  const parts = frames.map(encodeFrame);
  assert.deepEqual([...parts[0]!.subarray(0, 4)], [0, 0, 0, 3], "big-endian length");
  const stream = new Uint8Array(parts.reduce((n, p) => n + p.length, 0) + 4); // plus an empty frame
  let o = 0;
  for (const p of parts.slice(0, 2)) {
    stream.set(p, o);
    o += p.length;
  }
  o += 4; // a zero length
  for (const p of parts.slice(2)) {
    stream.set(p, o);
    o += p.length;
  }
  for (const size of [1, 2, 3, 5, 7, 64, 1000, stream.length]) {
    const d = new FrameDecoder();
    const got: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i += size) {
      assert.equal(
        d.push(stream.subarray(i, i + size), (f) => got.push(f)),
        null,
      );
    }
    assert.deepEqual(got, frames, `chunks of ${size}`);
  }
});

test("a length beyond the limit is an error", () => {
  const d = new FrameDecoder();
  const bad = new Uint8Array(8);
  new DataView(bad.buffer).setUint32(0, MAX_STREAM_FRAME + 1);
  assert.match(d.push(bad, () => assert.fail("no frame expected")) ?? "", /exceeds/);
  const ok = new FrameDecoder();
  const max = encodeFrame(new Uint8Array(MAX_STREAM_FRAME));
  let n = 0;
  assert.equal(
    ok.push(max, () => n++),
    null,
  );
  assert.equal(n, 1);
});
