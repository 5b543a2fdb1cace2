// The socket cable between two VMs: a listening and a connecting SocketBackend on loopback exchange frames both ways
// with QEMU's length-prefixed framing, the link goes down when the peer leaves, a card without receive buffers
// pauses reading without losing frames, a peer breaking the framing is disconnected, and errors are HostNetErrors.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import type { NetPort } from "../../core/net/backend.ts";
import { HostNetError } from "../../core/net/host.ts";
import { SocketBackend } from "./net-socket.ts";

class Card implements NetPort {
  got: Uint8Array[] = [];
  full = false;
  link = false;
  receive(frame: Uint8Array): boolean {
    if (this.full) return false;
    this.got.push(frame.slice());
    return true;
  }
  setLink(up: boolean): void {
    this.link = up;
  }
}

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
};

test("two backends on loopback carry frames both ways; flow control; link state", async () => {
  const l = new SocketBackend({ mode: "listen", host: "127.0.0.1", port: 0 });
  await l.start();
  const cl = new Card();
  l.attach(cl);
  assert.equal(cl.link, false, "no peer yet");
  const c = new SocketBackend({ mode: "connect", host: "127.0.0.1", port: l.port });
  await c.start();
  const cc = new Card();
  c.attach(cc);
  assert.equal(cc.link, true);
  await until(() => cl.link);
  const frames = Array.from({ length: 200 }, (_, i) => new Uint8Array(60 + (i % 1400)).fill(i & 255));
  for (const f of frames) c.transmit(f);
  await until(() => cl.got.length === frames.length);
  assert.deepEqual(cl.got, frames);
  // The connecting side's card has no buffers: frames wait, reading pauses, nothing is lost.
  cc.full = true;
  for (const f of frames) l.transmit(f);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(cc.got.length, 0);
  cc.full = false;
  c.rxReady();
  await until(() => cc.got.length === frames.length);
  assert.deepEqual(cc.got, frames);
  c.close();
  await until(() => !cl.link);
  l.close();
});

test("a peer that breaks the framing is disconnected; a second peer waits its turn", async () => {
  const l = new SocketBackend({ mode: "listen", host: "127.0.0.1", port: 0 });
  const errors: string[] = [];
  l.onError = (m) => errors.push(m);
  await l.start();
  const card = new Card();
  l.attach(card);
  const bad = connect(l.port, "127.0.0.1");
  bad.on("error", () => {});
  await new Promise((r) => bad.once("connect", r));
  await until(() => card.link);
  const other = connect(l.port, "127.0.0.1");
  let otherClosed = false;
  other.on("error", () => {});
  other.on("close", () => {
    otherClosed = true;
  });
  await until(() => otherClosed); // refused while the first peer is connected
  bad.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
  await until(() => !card.link);
  assert.match(errors.join("\n"), /exceeds/);
  l.close();
});

test("connect and listen failures are HostNetErrors", async () => {
  const l = new SocketBackend({ mode: "listen", host: "127.0.0.1", port: 0 });
  await l.start();
  const again = new SocketBackend({ mode: "listen", host: "127.0.0.1", port: l.port });
  await assert.rejects(again.start(), (e: unknown) => e instanceof HostNetError && e.code === "EADDRINUSE");
  l.close();
  await new Promise((r) => setTimeout(r, 20));
  const c = new SocketBackend({ mode: "connect", host: "127.0.0.1", port: l.port });
  await assert.rejects(
    c.start(),
    (e: unknown) => e instanceof HostNetError && e.code === "ECONNREFUSED" && /connection refused/.test(e.message),
  );
});
