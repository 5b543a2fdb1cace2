// The in-process switch: floods until it has learned where a MAC is, then forwards unicast to that port only;
// holds frames for a card without receive buffers; drops runts and oversized frames.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { NetPort } from "./backend.ts";
import { NetSwitch } from "./switch.ts";

class Card implements NetPort {
  got: number[] = [];
  full = false;
  link = false;
  receive(frame: Uint8Array): boolean {
    if (this.full) return false;
    this.got.push(frame[14]!);
    return true;
  }
  setLink(up: boolean): void {
    this.link = up;
  }
}

const frame = (dst: number, src: number, tag: number): Uint8Array => {
  const f = new Uint8Array(60);
  f.set([0x52, 0x54, 0, 0, 0, dst], 0);
  if (dst === 0xff) f.fill(0xff, 0, 6);
  f.set([0x52, 0x54, 0, 0, 0, src], 6);
  f[12] = 0x08;
  f[14] = tag;
  return f;
};

test("learning, flooding, unicast forwarding and held frames", () => {
  const sw = new NetSwitch();
  const [a, b, c] = [sw.port(), sw.port(), sw.port()];
  const [ca, cb, cc] = [new Card(), new Card(), new Card()];
  a.attach(ca);
  b.attach(cb);
  c.attach(cc);
  assert.equal(ca.link, true);
  a.transmit(frame(2, 1, 10)); // unknown destination: flooded
  assert.deepEqual([ca.got, cb.got, cc.got], [[], [10], [10]]);
  b.transmit(frame(1, 2, 11)); // 1 was learned on a
  assert.deepEqual([ca.got, cb.got, cc.got], [[11], [10], [10]]);
  a.transmit(frame(2, 1, 12)); // 2 was learned on b
  assert.deepEqual([ca.got, cb.got, cc.got], [[11], [10, 12], [10]]);
  c.transmit(frame(0xff, 3, 13)); // broadcast
  assert.deepEqual([ca.got, cb.got, cc.got], [[11, 13], [10, 12, 13], [10]]);
  cb.full = true;
  a.transmit(frame(2, 1, 14));
  a.transmit(frame(2, 1, 15));
  assert.deepEqual(cb.got, [10, 12, 13]);
  cb.full = false;
  b.rxReady();
  assert.deepEqual(cb.got, [10, 12, 13, 14, 15]);
  a.transmit(new Uint8Array(10));
  a.transmit(new Uint8Array(1515));
  assert.equal(sw.dropped, 2);
  b.close();
  a.transmit(frame(2, 1, 16)); // b is gone: flooded to c
  assert.deepEqual(cc.got, [10, 16]);
});
