// IPv4 reassembly: pieces in any order complete a datagram; overlaps, oversize, bad piece sizes, conflicting ends and
// timeouts drop it; the number of pending datagrams is bounded.
import assert from "node:assert/strict";
import { test } from "node:test";
import { IpReassembly, REASSEMBLY_TIMEOUT_MS } from "./ipfrag.ts";

const data = Uint8Array.from({ length: 4000 }, (_, i) => (i * 7) & 255);
const pieces = (d: Uint8Array, size: number) => {
  const out: [number, boolean, Uint8Array][] = [];
  for (let at = 0; at < d.length; at += size) out.push([at, at + size < d.length, d.subarray(at, at + size)]);
  return out;
};

test("pieces in order, reversed and shuffled give the datagram back", () => {
  for (const order of [
    (x: number[]) => x,
    (x: number[]) => x.reverse(),
    (x: number[]) => [x[1]!, x[3]!, x[0]!, x[2]!],
  ]) {
    const r = new IpReassembly();
    const ps = pieces(data, 1024);
    const idx = order([0, 1, 2, 3]);
    let got: Uint8Array | null = null;
    idx.forEach((i, k) => {
      const [off, more, d] = ps[i]!;
      const out = r.add(0, 1, 2, 17, 99, off, more, d);
      if (k < idx.length - 1) assert.equal(out, null);
      else got = out;
    });
    assert.deepEqual(got, data);
    assert.equal(r.size, 0);
  }
});

test("datagrams are kept apart by source, destination, protocol and id", () => {
  const r = new IpReassembly();
  const [a, b] = pieces(data.subarray(0, 2048), 1024);
  assert.equal(r.add(0, 1, 2, 17, 5, a![0], a![1], a![2]), null);
  assert.equal(r.add(0, 1, 2, 6, 5, b![0], b![1], b![2]), null, "another protocol");
  assert.equal(r.add(0, 1, 3, 17, 5, b![0], b![1], b![2]), null, "another destination");
  assert.deepEqual(r.add(0, 1, 2, 17, 5, b![0], b![1], b![2]), data.subarray(0, 2048));
  assert.equal(r.size, 2);
});

test("overlaps, oversize, unaligned pieces and conflicting ends drop the datagram", () => {
  const r = new IpReassembly();
  r.add(0, 1, 2, 1, 1, 0, true, data.subarray(0, 1024));
  assert.equal(r.add(0, 1, 2, 1, 1, 1016, false, data.subarray(0, 100)), null, "overlap");
  assert.equal(r.size, 0);
  assert.equal(r.add(0, 1, 2, 1, 2, 65512, false, data.subarray(0, 8)), null, "past 65515 bytes");
  assert.equal(r.add(0, 1, 2, 1, 3, 0, true, data.subarray(0, 1001)), null, "a middle piece not a multiple of 8");
  r.add(0, 1, 2, 1, 4, 1024, false, data.subarray(0, 100));
  assert.equal(r.add(0, 1, 2, 1, 4, 2048, false, data.subarray(0, 100)), null, "two different ends");
  assert.equal(r.size, 0);
  assert.equal(r.dropped, 4);
});

test("incomplete datagrams time out; at most 16 are pending", () => {
  const r = new IpReassembly();
  for (let id = 0; id < 20; id++) r.add(0, 1, 2, 17, id, 0, true, data.subarray(0, 8));
  assert.equal(r.size, 16);
  assert.equal(r.expire(REASSEMBLY_TIMEOUT_MS - 1), true);
  assert.equal(r.expire(REASSEMBLY_TIMEOUT_MS), false);
  assert.equal(r.size, 0);
  assert.equal(r.dropped, 4 + 16);
});
