// Raw image drives: reads and writes reach the file, read-only drives refuse writes, snapshot drives never touch the
// file, the lock refuses a second read-write (or a read-only) opener while a live VM holds it, stale locks are taken
// over, locks go away at close and at process exit, and bad paths give one-line DriveErrors.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { type DriveError, LOCK_SUFFIX, openDrive } from "./block-file.ts";

const dir = mkdtempSync(join(tmpdir(), "popek-drive-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const NODE = new URL("../../../node_modules/.bin/node", import.meta.url).pathname;

let n = 0;
function image(size = 64 * 1024, fill = 0x5a): string {
  const p = join(dir, `img${n++}.raw`);
  writeFileSync(p, new Uint8Array(size).fill(fill));
  return p;
}
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

test("read-write: reads, writes, write-zeroes and flush reach the file; close removes the lock", async () => {
  const p = image();
  const d = await openDrive(p);
  assert.ok(existsSync(p + LOCK_SUFFIX));
  const lock = JSON.parse(readFileSync(p + LOCK_SUFFIX, "utf8"));
  assert.equal(lock.pid, process.pid);
  assert.equal(lock.host, hostname());
  const b = d.backend;
  assert.equal(b.size, 64 * 1024);
  assert.equal(b.readOnly, false);
  await b.write(512, Uint8Array.of(1, 2, 3));
  await b.writeZeroes(4096, 1024);
  await b.flush();
  const got = new Uint8Array(4);
  await b.read(511, got);
  assert.deepEqual(got, Uint8Array.of(0x5a, 1, 2, 3));
  await d.close();
  assert.ok(!existsSync(p + LOCK_SUFFIX));
  const f = readFileSync(p);
  assert.deepEqual([...f.subarray(511, 515)], [0x5a, 1, 2, 3]);
  assert.ok(f.subarray(4096, 5120).every((x) => x === 0));
  assert.equal(f[5120], 0x5a);
});

test("close waits for writes in flight", async () => {
  const p = image(4 << 20);
  const d = await openDrive(p);
  const big = new Uint8Array(4 << 20).fill(7);
  const w = d.backend.write(0, big);
  await d.close();
  await w;
  assert.ok(readFileSync(p).every((x) => x === 7));
  await assert.rejects(d.backend.read(0, new Uint8Array(1)), /closed/);
});

test("a second read-write opener and a read-only opener are refused while the lock is held", async () => {
  const p = image();
  const d = await openDrive(p);
  await assert.rejects(openDrive(p), (e: DriveError) => {
    assert.equal(e.code, "EBUSY");
    assert.match(
      e.message,
      new RegExp(`in use read-write by popek process ${process.pid} \\(lock file .*${LOCK_SUFFIX}`),
    );
    return true;
  });
  await assert.rejects(openDrive(p, { readOnly: true }), /in use read-write/);
  await assert.rejects(openDrive(p, { snapshot: true }), /in use read-write/);
  await d.close();
  const ro1 = await openDrive(p, { readOnly: true });
  const ro2 = await openDrive(p, { snapshot: true });
  assert.ok(!existsSync(p + LOCK_SUFFIX), "readers take no lock");
  await ro1.close();
  await ro2.close();
});

test("a lock left by a process that is gone is taken over; one from another host or unreadable is not", async () => {
  const p = image();
  const dead = spawnSync(NODE, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
  const pid = Number(dead.stdout.trim());
  writeFileSync(p + LOCK_SUFFIX, JSON.stringify({ pid, host: hostname(), nonce: "old", image: p }));
  const d = await openDrive(p);
  assert.equal(JSON.parse(readFileSync(p + LOCK_SUFFIX, "utf8")).pid, process.pid);
  await d.close();
  writeFileSync(p + LOCK_SUFFIX, JSON.stringify({ pid, host: "elsewhere", nonce: "x", image: p }));
  await assert.rejects(openDrive(p), /popek process \d+ on elsewhere/);
  writeFileSync(p + LOCK_SUFFIX, "garbage");
  await assert.rejects(openDrive(p), /in use read-write by another program/);
  rmSync(p + LOCK_SUFFIX);
});

test("a process that exits without closing leaves no lock behind", () => {
  const p = image();
  const script = `import { openDrive } from ${JSON.stringify(new URL("./block-file.ts", import.meta.url).pathname)};
await openDrive(${JSON.stringify(p)});
console.log("locked");
process.exit(3);`;
  const r = spawnSync(NODE, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
  assert.equal(r.stdout.trim(), "locked", r.stderr);
  assert.equal(r.status, 3);
  assert.ok(!existsSync(p + LOCK_SUFFIX));
});

test("read-only drives refuse writes; snapshot drives keep writes in memory and never change the file", async () => {
  const p = image();
  const before = sha(p);
  const ro = await openDrive(p, { readOnly: true });
  assert.equal(ro.backend.readOnly, true);
  await assert.rejects(ro.backend.write(0, new Uint8Array(512)), /read-only/);
  await assert.rejects(ro.backend.writeZeroes(0, 512), /read-only/);
  await ro.close();
  const snap = await openDrive(p, { snapshot: true });
  assert.equal(snap.backend.readOnly, false);
  await snap.backend.write(100, Uint8Array.of(9, 9));
  await snap.backend.flush();
  const got = new Uint8Array(3);
  await snap.backend.read(99, got);
  assert.deepEqual(got, Uint8Array.of(0x5a, 9, 9));
  await snap.close();
  assert.equal(sha(p), before);
});

test("bad paths: missing, a directory, empty, not writable — one-line reasons", async () => {
  await assert.rejects(
    openDrive(join(dir, "nope.raw"), { readOnly: true }),
    (e: DriveError) => e.code === "ENOENT" && /no such file/.test(e.message),
  );
  const sub = join(dir, "sub");
  mkdirSync(sub);
  await assert.rejects(openDrive(sub, { readOnly: true }), /is a directory/);
  const empty = join(dir, "empty.raw");
  writeFileSync(empty, "");
  await assert.rejects(openDrive(empty, { readOnly: true }), /less than one 512-byte sector/);
  assert.ok(!existsSync(join(dir, `nope.raw${LOCK_SUFFIX}`)));
  await assert.rejects(openDrive(join(dir, "nope2.raw")), /no such file/);
  assert.ok(!existsSync(join(dir, `nope2.raw${LOCK_SUFFIX}`)), "a failed open drops its lock");
});
