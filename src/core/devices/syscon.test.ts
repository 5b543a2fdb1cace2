// SiFive test finisher: pass, fail with code, reset; everything else ignored (QEMU 7.2 hw/misc/sifive_test.c).
import assert from "node:assert/strict";
import { test } from "node:test";
import { FINISHER_FAIL, FINISHER_PASS, FINISHER_RESET, Syscon, type SysconEvent } from "./syscon.ts";

function setup() {
  const events: SysconEvent[] = [];
  return { events, dev: new Syscon((e) => events.push(e)) };
}

test("0x5555 powers off with success, in a 32-bit or a 16-bit write (OpenSBI uses writew)", () => {
  const { events, dev } = setup();
  dev.write(0, 4, FINISHER_PASS);
  dev.write(0, 2, FINISHER_PASS);
  dev.write(0, 4, 0x1234_5555); // the code bits do not matter for pass
  assert.deepEqual(events, [{ kind: "pass" }, { kind: "pass" }, { kind: "pass" }]);
});

test("0x3333 | code << 16 powers off with that failure code", () => {
  const { events, dev } = setup();
  dev.write(0, 4, (42 << 16) | FINISHER_FAIL);
  dev.write(0, 4, (0xffff << 16) | FINISHER_FAIL);
  dev.write(0, 2, FINISHER_FAIL);
  assert.deepEqual(events, [
    { kind: "fail", code: 42 },
    { kind: "fail", code: 0xffff },
    { kind: "fail", code: 0 },
  ]);
});

test("0x7777 resets", () => {
  const { events, dev } = setup();
  dev.write(0, 4, FINISHER_RESET);
  assert.deepEqual(events, [{ kind: "reset" }]);
});

test("other values, other offsets and byte writes are ignored; reads are 0", () => {
  const { events, dev } = setup();
  dev.write(0, 4, 0x1111);
  dev.write(0, 4, 0);
  dev.write(4, 4, FINISHER_PASS);
  dev.write(2, 2, FINISHER_PASS);
  dev.write(0, 1, 0x55);
  assert.deepEqual(events, []);
  assert.equal(dev.read(0, 4), 0);
  assert.equal(dev.read(0, 2), 0);
});
