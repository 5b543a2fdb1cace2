import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { E } from "../../core/uvm/abi.ts";
import { resolvePath } from "../../core/uvm/vfs.ts";
import { HostFs } from "./host-fs.ts";

const base = mkdtempSync(join(tmpdir(), "popek-hostfs-"));
const root = join(base, "root");
const outside = join(base, "outside");
mkdirSync(join(root, "etc"), { recursive: true });
mkdirSync(outside);
writeFileSync(join(root, "etc", "passwd"), "guest");
writeFileSync(join(outside, "secret"), "host secret");
// Links a careless implementation would follow out of the root.
symlinkSync(join(outside, "secret"), join(root, "abs-out"));
symlinkSync("../outside/secret", join(root, "rel-out"));
symlinkSync(outside, join(root, "dir-out"));
symlinkSync("/etc", join(root, "etc-abs"));
after(() => rmSync(base, { recursive: true, force: true }));

const read = (fs: HostFs, path: string): string | number => {
  const p = resolvePath(fs, "/", path, true);
  if (typeof p === "number") return p;
  const h = fs.open(p, 0, 0);
  if (typeof h === "number") return h;
  const buf = new Uint8Array(100);
  const n = h.pread(buf, 0);
  h.close();
  return new TextDecoder().decode(buf.subarray(0, n));
};

test("HostFs: files inside the root are reachable, through absolute symlinks resolved in the root", () => {
  const fs = new HostFs(root);
  assert.equal(read(fs, "/etc/passwd"), "guest");
  assert.equal(read(fs, "/etc-abs/passwd"), "guest");
  assert.equal(read(fs, "/../../etc/passwd"), "guest");
});

test("HostFs: no guest path reaches a host file outside the root", () => {
  const fs = new HostFs(root);
  // The absolute link names a host path; inside the root that path does not exist.
  assert.equal(read(fs, "/abs-out"), -E.NOENT);
  // ../outside from the root's top stays at the root: /outside does not exist in it.
  assert.equal(read(fs, "/rel-out"), -E.NOENT);
  assert.equal(read(fs, "/dir-out/secret"), -E.NOENT);
  assert.equal(read(fs, `/..${outside}/secret`), -E.NOENT);
});

test("HostFs: opening a symlink itself fails (O_NOFOLLOW) and unnormalised paths are refused", () => {
  const fs = new HostFs(root);
  assert.equal(fs.open("/abs-out", 0, 0), -E.LOOP);
  assert.throws(() => fs.lstat("/../outside/secret"), RangeError);
  assert.throws(() => fs.lstat("relative"), RangeError);
  assert.equal(fs.readlink("/rel-out"), "../outside/secret");
});
