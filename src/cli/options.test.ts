// Size, count and parameter-list parsing for CLI options: accepted spellings, and one clear CliError for each kind
// of bad value.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CliError, keyValue, onOff, parseCount, parseSize, splitParams } from "./options.ts";

test("parseSize accepts binary K/M/G suffixes, with or without B/iB, and plain bytes", () => {
  assert.equal(parseSize("128M", "--mem"), 128 * 2 ** 20);
  assert.equal(parseSize("1G", "--mem"), 2 ** 30);
  assert.equal(parseSize("2g", "--mem"), 2 ** 31);
  assert.equal(parseSize("512KiB", "--mem"), 512 * 1024);
  assert.equal(parseSize("64MB", "--mem"), 64 * 2 ** 20);
  assert.equal(parseSize("65536", "--mem"), 65536);
  assert.equal(parseSize("4K", "--mem"), 4096);
});

test("parseSize rejects non-sizes, zero, non-page multiples and too much", () => {
  const bad = (text: string, message: RegExp) =>
    assert.throws(
      () => parseSize(text, "--mem"),
      (e: Error) => e instanceof CliError && message.test(e.message),
    );
  bad("lots", /^--mem lots: not a size; use a number with an optional K, M or G suffix, e.g. 128M$/);
  bad("1.5G", /not a size/);
  bad("-1M", /not a size/);
  bad("12T", /not a size/);
  bad("", /not a size/);
  bad("0", /must be a positive multiple of 4K/);
  bad("1000", /must be a positive multiple of 4K/);
  bad("3G", /at most 2G/);
  bad("99999999999999999999G", /at most 2G/);
});

test("parseCount accepts whole numbers with optional underscores and rejects the rest", () => {
  assert.equal(parseCount("1", "--max-insns"), 1);
  assert.equal(parseCount("1_000_000", "--max-insns"), 1_000_000);
  for (const text of ["0", "-5", "1e9", "ten", "", "9007199254740993"]) {
    assert.throws(() => parseCount(text, "--max-insns"), CliError, text);
  }
});

test("QEMU-style parameter lists: ,, is a literal comma; key=value pairs and on/off values", () => {
  assert.deepEqual(splitParams("file=a,,b.img,readonly=on"), ["file=a,b.img", "readonly=on"]);
  assert.deepEqual(splitParams("a,,,b"), ["a,", "b"]);
  assert.deepEqual(splitParams("user,"), ["user", ""]);
  assert.deepEqual(splitParams(""), [""]);
  assert.deepEqual(keyValue("hostfwd=tcp::2222-:22", "--net x"), ["hostfwd", "tcp::2222-:22"]);
  assert.deepEqual(keyValue("serial=", "--drive x"), ["serial", ""]);
  const bad: [string, RegExp][] = [
    ["", /^--drive x: empty parameter; use USAGE$/],
    ["readonly", /^--drive x: readonly needs a value \(readonly=…\); use USAGE$/],
    ["=on", /^--drive x: =on needs a value/],
  ];
  for (const [p, re] of bad) {
    assert.throws(
      () => keyValue(p, "--drive x", "USAGE"),
      (e: unknown) => e instanceof CliError && re.test(e.message),
      p,
    );
  }
  for (const v of ["on", "yes", "true"]) assert.equal(onOff(v, "readonly"), true);
  for (const v of ["off", "no", "false"]) assert.equal(onOff(v, "readonly"), false);
  assert.throws(() => onOff("maybe", "--share x: readonly"), /^CliError: --share x: readonly=maybe: use on or off$/);
});
