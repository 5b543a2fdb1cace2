import assert from "node:assert/strict";
import { test } from "node:test";
import { E } from "./abi.ts";
import { MemFs, resolvePath } from "./vfs.ts";

function fs(): MemFs {
  const m = new MemFs(() => 0n);
  m.writeFile("/etc/passwd", "root");
  m.writeFile("/a/b/file", "data");
  m.symlink("../../..", "/a/b/up");
  m.symlink("/etc", "/a/abs");
  m.symlink("../../../../../../../etc/passwd", "/a/far");
  m.symlink("loop2", "/a/loop1");
  m.symlink("loop1", "/a/loop2");
  m.symlink("/a/b/file", "/a/tofile");
  return m;
}

test("path resolution: .. never climbs above the root", () => {
  const m = fs();
  assert.equal(resolvePath(m, "/", "../../../../etc/passwd", true), "/etc/passwd");
  assert.equal(resolvePath(m, "/a/b", "../../../../..", true), "/");
  assert.equal(resolvePath(m, "/a/b", "./file", true), "/a/b/file");
});

test("path resolution: relative symlinks that point above the root stop at the root", () => {
  const m = fs();
  assert.equal(resolvePath(m, "/", "/a/b/up/etc/passwd", true), "/etc/passwd");
  assert.equal(resolvePath(m, "/", "/a/far", true), "/etc/passwd");
});

test("path resolution: absolute symlinks are resolved inside the root", () => {
  const m = fs();
  assert.equal(resolvePath(m, "/", "/a/abs/passwd", true), "/etc/passwd");
  assert.equal(resolvePath(m, "/a", "tofile", true), "/a/b/file");
  // Not followed in the last component without followLast (lstat, unlink, readlink see the link itself).
  assert.equal(resolvePath(m, "/", "/a/abs", false), "/a/abs");
});

test("path resolution: loops, non-directories, missing components, empty and trailing-slash paths", () => {
  const m = fs();
  assert.equal(resolvePath(m, "/", "/a/loop1", true), -E.LOOP);
  assert.equal(resolvePath(m, "/", "/a/b/file/x", true), -E.NOTDIR);
  assert.equal(resolvePath(m, "/", "/a/b/file/", true), -E.NOTDIR);
  assert.equal(resolvePath(m, "/", "/nope/x", true), -E.NOENT);
  assert.equal(resolvePath(m, "/", "/a/newfile", true), "/a/newfile");
  assert.equal(resolvePath(m, "/", "", true), -E.NOENT);
  assert.equal(resolvePath(m, "/", `/${"x".repeat(300)}`, true), -E.NAMETOOLONG);
});
