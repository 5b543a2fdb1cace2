// Size and count parsing for CLI options: accepted spellings, and one clear CliError for each kind of bad value.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CliError, parseCount, parseSize } from "./options.ts";

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
