// --net values: user (default) with hostfwd/restrict/mac, socket listen/connect, none; every bad value is a CliError
// naming the option; opening a backend binds forwards and reports a port in use as a CliError.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { macToString } from "../core/net/packet.ts";
import type { Slirp } from "../core/net/slirp.ts";
import { openNetBackend, parseNetOptions } from "./net-options.ts";
import { CliError } from "./options.ts";

test("defaults and good values", () => {
  const [d] = parseNetOptions([]);
  assert.equal(d!.kind, "user");
  assert.equal(macToString(d!.mac), "52:54:00:12:34:56");
  assert.deepEqual(parseNetOptions(["none"]), []);
  const [u] = parseNetOptions([
    "user,hostfwd=tcp:127.0.0.1:8022-:22,hostfwd=udp::5353-10.0.2.15:53,hostfwd=::80-:8080,restrict=on",
  ]);
  assert.ok(u!.kind === "user");
  assert.equal(u.restrict, true);
  assert.deepEqual(
    u.hostForwards.map((f) => [f.proto, f.hostAddr, f.hostPort, f.guestAddr, f.guestPort]),
    [
      ["tcp", "127.0.0.1", 8022, 0x0a00020f, 22],
      ["udp", "", 5353, 0x0a00020f, 53],
      ["tcp", "", 80, 0x0a00020f, 8080],
    ],
  );
  const two = parseNetOptions(["socket,listen=127.0.0.1:9000", "socket,connect=:9001,mac=52:54:00:aa:bb:cc"]);
  assert.deepEqual(
    two.map((s) => (s.kind === "socket" ? [s.mode, s.host, s.port, macToString(s.mac)] : [])),
    [
      ["listen", "127.0.0.1", 9000, "52:54:00:12:34:56"],
      ["connect", "127.0.0.1", 9001, "52:54:00:aa:bb:cc"],
    ],
  );
  assert.equal(macToString(parseNetOptions(["user", "user"])[1]!.mac), "52:54:00:12:34:57");
});

test("bad values are CliErrors that say what is wrong", () => {
  const bad: [string[], RegExp][] = [
    [["none", "user"], /cannot be combined/],
    [["tap"], /unknown network type tap/],
    [["user,hostfwd=tcp:127.0.0.1:8022"], /expected \[tcp\|udp\]/],
    [["user,hostfwd=sctp::1-:2"], /expected/],
    [["user,hostfwd=tcp::70000-:22"], /not a port number/],
    [["user,hostfwd=tcp::8022-:0"], /not a port number/],
    [["user,hostfwd=tcp:host:8022-:22"], /not IPv4/],
    [["user,hostfwd=tcp::8022-192.168.1.1:22"], /not on the guest network/],
    [["user,hostfwd=tcp::8022-:22,hostfwd=tcp::8022-:23"], /forwarded twice/],
    [["user,restrict=maybe"], /use on or off/],
    [["user,mac=01:00:5e:00:00:01"], /multicast/],
    [["user,mac=zz"], /six hex bytes/],
    [["user,speed=10"], /unknown parameter speed/],
    [["user,hostfwd"], /needs a value/],
    [["socket"], /needs listen=HOST:PORT/],
    [["socket,listen=1234"], /expected HOST:PORT/],
    [["socket,connect=example.com:1"], /IPv4 address or localhost/],
    [["socket,listen=:1,connect=:2"], /one of listen= or connect=/],
    [["user", "user,mac=52:54:00:12:34:56"], /two cards with MAC/],
  ];
  for (const [values, re] of bad) {
    assert.throws(
      () => parseNetOptions(values),
      (e: unknown) => e instanceof CliError && re.test(e.message) && e.message.startsWith("--net"),
      values.join(" "),
    );
  }
});

test("opening a user backend binds its forwards; a port in use is a CliError", async () => {
  const [spec] = parseNetOptions(["user,hostfwd=tcp:127.0.0.1:0-:22"]);
  const b = (await openNetBackend(spec!, () => {})) as Slirp;
  const port = b.forwards[0]!.boundPort;
  assert.ok(port > 0);
  b.close();
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
  const used = (busy.address() as { port: number }).port;
  const [spec2] = parseNetOptions([`user,hostfwd=tcp:127.0.0.1:${used}-:22`]);
  await assert.rejects(
    openNetBackend(spec2!, () => {}),
    (e: unknown) =>
      e instanceof CliError && /cannot listen on 127\.0\.0\.1:\d+: address already in use/.test(e.message),
  );
  busy.close();
});
