import assert from "node:assert/strict";
import { test } from "node:test";
import { AT } from "./abi.ts";
import { buildStack } from "./stack.ts";

const enc = (s: string) => new TextEncoder().encode(s);

test("initial stack: strings at the top, AT_RANDOM below, argc/argv/envp/auxv 16-byte aligned (create_elf_tables)", () => {
  const top = 0x1000_0000;
  const random = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  const s = buildStack({
    top,
    argv: [enc("a"), enc("bc")],
    envp: [enc("X=1")],
    execfn: enc("/p"),
    random,
    auxv: [
      [AT.HWCAP, 0x112d],
      [AT.PAGESZ, 4096],
    ],
  });
  // From the top: 8 zero bytes, "/p\0" at top-11, "X=1\0" at top-15, "bc\0" at top-18, "a\0" at top-20.
  const at = (addr: number) => addr - s.base;
  const str = (addr: number) => {
    const end = s.bytes.indexOf(0, at(addr));
    return new TextDecoder().decode(s.bytes.subarray(at(addr), end));
  };
  assert.deepEqual([...s.bytes.subarray(s.bytes.length - 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(str(top - 11), "/p");
  assert.equal(str(top - 15), "X=1");
  assert.equal(str(top - 18), "bc");
  assert.equal(str(top - 20), "a");
  // p = top-20 rounded down to 16 → top-32; AT_RANDOM 16 bytes below → top-48.
  const randomAt = top - 48;
  assert.deepEqual([...s.bytes.subarray(at(randomAt), at(randomAt) + 16)], [...random]);
  // 5 auxv pairs (80 bytes) and 6 words (argc, 2 argv, NULL, 1 envp, NULL) below, rounded down to 16.
  assert.equal(s.sp, Math.floor((randomAt - 80 - 48) / 16) * 16);
  assert.equal(s.sp % 16, 0);
  const dv = new DataView(s.bytes.buffer);
  const word = (addr: number) => Number(dv.getBigUint64(at(addr), true));
  assert.equal(word(s.sp), 2, "argc");
  assert.equal(s.argvAt, s.sp + 8);
  assert.deepEqual([word(s.argvAt), word(s.argvAt + 8), word(s.argvAt + 16)], [top - 20, top - 18, 0]);
  assert.equal(s.envpAt, s.argvAt + 24);
  assert.deepEqual([word(s.envpAt), word(s.envpAt + 8)], [top - 15, 0]);
  assert.equal(s.auxvAt, s.envpAt + 16);
  const aux: number[][] = [];
  for (let a = s.auxvAt; ; a += 16) {
    aux.push([word(a), word(a + 8)]);
    if (word(a) === AT.NULL) break;
  }
  assert.deepEqual(aux, [
    [AT.HWCAP, 0x112d],
    [AT.PAGESZ, 4096],
    [AT.RANDOM, randomAt],
    [AT.EXECFN, top - 11],
    [AT.NULL, 0],
  ]);
});

test("initial stack: AT_RANDOM goes before AT_HWCAP2 and AT_EXECFN last, as Linux orders them", () => {
  const s = buildStack({
    top: 0x2000_0000,
    argv: [enc("prog")],
    envp: [],
    execfn: enc("prog"),
    random: new Uint8Array(16),
    auxv: [
      [AT.ENTRY, 0x1234],
      [AT.HWCAP2, 0],
    ],
  });
  const dv = new DataView(s.bytes.buffer);
  const tags: number[] = [];
  for (let a = s.auxvAt - s.base; ; a += 16) {
    const tag = Number(dv.getBigUint64(a, true));
    tags.push(tag);
    if (tag === AT.NULL) break;
  }
  assert.deepEqual(tags, [AT.ENTRY, AT.RANDOM, AT.HWCAP2, AT.EXECFN, AT.NULL]);
});

test("initial stack: an argument list beyond the limit is refused (E2BIG)", () => {
  assert.throws(
    () =>
      buildStack(
        {
          top: 0x1000_0000,
          argv: [new Uint8Array(5000)],
          envp: [],
          execfn: enc("x"),
          random: new Uint8Array(16),
          auxv: [],
        },
        4096,
      ),
    RangeError,
  );
});
