// Hart unit tests on hand-encoded programs (no toolchain needed): edge cases of the integer ISA, traps, HTIF exit,
// and a stress run long enough for V8's optimising compiler to take over the interpreter loop (V8-FACTS.md).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ElfImage } from "../firmware/elf.ts";
import { BareMachine } from "../machine/bare.ts";

const BASE = 0x8000_0000;
const r = (f7: number, rs2: number, rs1: number, f3: number, rd: number, opc: number): number =>
  ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc) >>> 0;
const i = (imm: number, rs1: number, f3: number, rd: number, opc: number): number =>
  (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc) >>> 0;
const s = (imm: number, rs2: number, rs1: number, f3: number): number =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | 0x23) >>> 0;
const b = (imm: number, rs2: number, rs1: number, f3: number): number =>
  ((((imm >> 12) & 1) << 31) |
    (((imm >> 5) & 0x3f) << 25) |
    (rs2 << 20) |
    (rs1 << 15) |
    (f3 << 12) |
    (((imm >> 1) & 0xf) << 8) |
    (((imm >> 11) & 1) << 7) |
    0x63) >>>
  0;
const addi = (rd: number, rs1: number, imm: number) => i(imm, rs1, 0, rd, 0x13);
const lui = (rd: number, imm20: number) => (((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37) >>> 0;
const slli = (rd: number, rs1: number, sh: number) => i(sh, rs1, 1, rd, 0x13);
const OPS = {
  add: [0, 0],
  sub: [0x20, 0],
  sll: [0, 1],
  xor: [0, 4],
  srl: [0, 5],
  sra: [0x20, 5],
  or: [0, 6],
  and: [0, 7],
  mul: [1, 0],
  mulh: [1, 1],
  mulhsu: [1, 2],
  mulhu: [1, 3],
  div: [1, 4],
  divu: [1, 5],
  rem: [1, 6],
  remu: [1, 7],
} as const;
const rr = (op: keyof typeof OPS, rd: number, rs1: number, rs2: number, w = false) =>
  r(OPS[op][0], rs2, rs1, OPS[op][1], rd, w ? 0x3b : 0x33);

/** A program that runs `body`, then exits through tohost (at BASE + 0x2000) with the code in a0. */
function program(body: number[]): ElfImage {
  const words = [
    ...body,
    lui(30, 0x40001), // t5 = tohost = 0x8000_2000 (lui sign-extends, so build it as 0x4000_1000 << 1)
    slli(30, 30, 1),
    slli(31, 10, 1), // t6 = a0 << 1 | 1
    i(1, 31, 6, 31, 0x13),
    s(0, 31, 30, 3), // sd t6, 0(t5)
    0x0000006f, // j .
  ];
  const data = new Uint8Array(words.length * 4);
  words.forEach((w, k) => {
    new DataView(data.buffer).setUint32(k * 4, w, true);
  });
  return {
    entry: BigInt(BASE),
    segments: [
      { paddr: BigInt(BASE), data, memsz: BigInt(data.length) },
      { paddr: BigInt(BASE + 0x2000), data: new Uint8Array(16), memsz: 16n },
    ],
    symbols: new Map([
      ["tohost", BigInt(BASE + 0x2000)],
      ["fromhost", BigInt(BASE + 0x2008)],
    ]),
  };
}

function run(body: number[], limit = 1e6): BareMachine {
  const m = new BareMachine({ ramSize: 1 << 20, onOutput: () => {} });
  m.load(program(body));
  const res = m.run(limit);
  assert.equal(res.kind, "exit");
  return m;
}

/** Load a 64-bit constant into register rd 16 bits at a time (x28 as scratch). */
function li(rd: number, v: bigint): number[] {
  const out: number[] = [addi(rd, 0, 0)];
  for (let k = 3; k >= 0; k--) {
    const chunk = Number((BigInt.asUintN(64, v) >> BigInt(16 * k)) & 0xffffn);
    out.push(slli(rd, rd, 16), lui(28, chunk), i(12, 28, 5, 28, 0x13)); // x28 = chunk << 12 >> 12
    out.push(rr("or", rd, rd, 28));
  }
  return out;
}

const INT64_MIN = -(1n << 63n);

test("writes to x0 are discarded and x0 reads zero", () => {
  const m = run([addi(0, 0, 5), addi(5, 0, 0), addi(10, 0, 0)]);
  assert.equal(m.reg(0), 0n);
  assert.equal(m.reg(5), 0n);
});

test("division edge cases: INT64_MIN / -1 and division by zero", () => {
  const m = run([
    ...li(5, INT64_MIN),
    addi(6, 0, -1),
    rr("div", 7, 5, 6),
    rr("rem", 8, 5, 6),
    rr("div", 9, 5, 0),
    rr("divu", 11, 5, 0),
    rr("rem", 12, 5, 0),
    rr("remu", 13, 6, 0),
    rr("div", 14, 5, 6, true), // divw: low word of INT64_MIN is 0 → 0 / -1 = 0
    addi(10, 0, 0),
  ]);
  assert.equal(m.reg(7), INT64_MIN);
  assert.equal(m.reg(8), 0n);
  assert.equal(m.reg(9), -1n);
  assert.equal(m.reg(11), -1n);
  assert.equal(m.reg(12), INT64_MIN);
  assert.equal(m.reg(13), -1n);
  assert.equal(m.reg(14), 0n);
});

test("W forms sign-extend their 32-bit results", () => {
  const m = run([
    lui(5, 0x7ffff),
    addi(5, 5, 0x7ff), // 0x7ffff7ff
    rr("add", 6, 5, 5, true), // addw → 0xffffffffffffeffe
    slli(7, 5, 4),
    i(4, 5, 1, 8, 0x1b), // slliw 4 → 0x7ffff7ff << 4 = 0xfffff7ff0 → low word 0xffff7ff0
    addi(10, 0, 0),
  ]);
  assert.equal(m.reg(6), BigInt.asIntN(64, 0xffff_ffff_ffff_effen));
  assert.equal(m.reg(8), BigInt.asIntN(32, 0xffff7ff0n));
});

test("an illegal instruction traps with mcause 2 and mtval = its bits", () => {
  // mtvec = handler (at the program's end: it reads mcause/mtval into a1/a2 and exits).
  const body = [
    0x00000297, // auipc t0, 0
    addi(5, 5, 24), // t0 → handler (6 words ahead of the auipc)
    i(0, 5, 1, 0, 0x73) | (0x305 << 20), // csrrw x0, mtvec, t0
    0xffffffff, // illegal
    addi(10, 0, 9),
    0x0000006f,
    // handler:
    i(0, 0, 2, 11, 0x73) | (0x342 << 20), // csrrs a1, mcause, x0
    i(0, 0, 2, 12, 0x73) | (0x343 << 20), // csrrs a2, mtval, x0
    addi(10, 0, 0),
  ];
  const m = run(body);
  assert.equal(m.reg(11), 2n);
  assert.equal(m.reg(12), 0xffffffffn);
});

/** Reference model of the stress loop body, in plain BigInt. */
function stressModel(iters: number): bigint[] {
  const x = new Array<bigint>(32).fill(0n);
  const u = (v: bigint) => BigInt.asUintN(64, v);
  const sx = (v: bigint) => BigInt.asIntN(64, v);
  x[5] = 0x123456789abcdefn;
  x[6] = sx(0xfedcba9876543210n);
  for (let k = 0; k < iters; k++) {
    x[7] = sx(x[5]! << (x[6]! & 63n));
    x[8] = sx(u(x[6]!) >> (x[5]! & 63n));
    x[9] = sx(x[6]! >> (x[7]! & 63n));
    x[12] = sx(x[5]! * x[6]!);
    x[13] = sx((u(x[5]!) * u(x[6]!)) >> 64n);
    x[14] = x[9] === 0n ? -1n : sx(x[12]! / x[9]!);
    x[15] = x[8] === 0n ? x[13]! : sx(u(x[13]!) % u(x[8]!));
    x[5] = sx(x[5]! + x[12]! + x[14]!);
    x[6] = sx((x[6]! ^ x[13]! ^ x[15]!) + 0x55n);
  }
  return x;
}

test("stress: 2M iterations of shifts, multiplies and divides (V8's optimising compiler engages)", () => {
  const iters = 2_000_000;
  const body = [
    ...li(5, 0x123456789abcdefn),
    ...li(6, 0xfedcba9876543210n),
    ...li(29, BigInt(iters)),
    // loop:
    rr("sll", 7, 5, 6),
    rr("srl", 8, 6, 5),
    rr("sra", 9, 6, 7),
    rr("mul", 12, 5, 6),
    rr("mulhu", 13, 5, 6),
    rr("div", 14, 12, 9),
    rr("remu", 15, 13, 8),
    rr("add", 5, 5, 12),
    rr("add", 5, 5, 14),
    rr("xor", 6, 6, 13),
    rr("xor", 6, 6, 15),
    addi(6, 6, 0x55),
    addi(29, 29, -1),
    b(-13 * 4, 0, 29, 1), // bne t4, x0, loop
    addi(10, 0, 0),
  ];
  const m = run(body, 1e9);
  const want = stressModel(iters);
  for (const reg of [5, 6, 7, 8, 9, 12, 13, 14, 15]) assert.equal(m.reg(reg), want[reg], `x${reg}`);
});

const csrw = (csr: number, rs1: number) => i(csr, rs1, 1, 0, 0x73);
const csrr = (rd: number, csr: number) => i(csr, 0, 2, rd, 0x73);
const MRET = 0x30200073;
const SRET = 0x10200073;
const ECALL = 0x00000073;
const WFI = 0x10500073;

/** Assemble with labels: items are words or [label] markers; `la(rd, label)` makes auipc+addi pairs. */
function asm(items: (number | string | { la: [number, string] })[]): number[] {
  const labels = new Map<string, number>();
  let at = 0;
  for (const it of items) {
    if (typeof it === "string") labels.set(it, at);
    else at += typeof it === "number" ? 1 : 2;
  }
  const out: number[] = [];
  for (const it of items) {
    if (typeof it === "string") continue;
    if (typeof it === "number") out.push(it);
    else {
      const [rd, label] = it.la;
      const off = (labels.get(label)! - out.length) * 4;
      out.push(0x17 | (rd << 7), addi(rd, rd, off));
    }
  }
  return out;
}

/** Open PMP entry 0 over all memory (NAPOT, RWX): without a PMP entry, S and U may access nothing. */
const PMP_OPEN = [addi(6, 0, -1), i(10, 6, 5, 6, 0x13), csrw(0x3b0, 6), addi(6, 0, 0x1f), csrw(0x3a0, 6)];

test("mret drops to U-mode; an ecall from U is delegated to S by medeleg and sret returns", () => {
  const m = run(
    asm([
      ...PMP_OPEN,
      { la: [5, "s_handler"] },
      csrw(0x105, 5), // stvec
      addi(6, 0, 1 << 8),
      csrw(0x302, 6), // medeleg: ecall from U
      { la: [7, "user"] },
      csrw(0x341, 7), // mepc
      MRET, // MPP = 0 after reset: to U
      "user",
      ECALL,
      addi(13, 0, 7), // after sret: back in U
      ECALL, // second ecall: again to S, which now exits
      "s_handler",
      csrr(11, 0x142), // scause
      csrr(12, 0x100), // sstatus
      b(5 * 4, 0, 13, 1), // bne a3, x0 → done (second time)
      csrr(14, 0x141), // sepc
      addi(14, 14, 4),
      csrw(0x141, 14),
      SRET,
      addi(10, 0, 0), // done: a0 = 0 and fall into the exit sequence (S-mode may store to tohost: PMP allows)
    ]),
  );
  assert.equal(m.reg(11), 8n, "scause = ecall from U");
  assert.equal(m.reg(12) & 0x100n, 0n, "sstatus.SPP = U");
  assert.equal(m.reg(13), 7n, "sret returned to the instruction after the ecall");
  assert.equal(m.hart.priv, 1, "the exit ran in S-mode");
});

test("a pending, enabled machine timer interrupt is taken with mcause = 2^63 | 7", () => {
  const m = new BareMachine({ ramSize: 1 << 20, onOutput: () => {} });
  m.load(
    program(
      asm([
        { la: [5, "handler"] },
        csrw(0x305, 5), // mtvec
        addi(6, 0, 0x80),
        csrw(0x304, 6), // mie.MTIE
        addi(6, 0, 8),
        i(0, 6, 2, 0, 0x73) | (0x300 << 20), // csrrs x0, mstatus, t1: MIE = 1 → the interrupt is taken here
        addi(10, 0, 9), // not reached
        "handler",
        csrr(11, 0x342),
        addi(10, 0, 0),
      ]),
    ),
  );
  m.hart.setPending(7, true);
  assert.equal(m.run(1e6).kind, "exit");
  assert.equal(m.reg(10), 0n);
  assert.equal(m.reg(11), (1n << 63n) | (7n - (1n << 64n)));
});

test("U-mode without a PMP entry cannot fetch: instruction access fault to M", () => {
  const m = run(
    asm([
      { la: [5, "m_handler"] },
      csrw(0x305, 5), // mtvec
      { la: [7, "user"] },
      csrw(0x341, 7), // mepc
      MRET,
      "user",
      addi(10, 0, 9),
      "m_handler",
      csrr(11, 0x342), // mcause
      csrr(12, 0x343), // mtval
      csrr(13, 0x341), // mepc
      addi(10, 0, 0),
    ]),
  );
  assert.equal(m.reg(11), 1n, "instruction access fault");
  assert.equal(m.reg(12), m.reg(13), "mtval = mepc = the user entry");
});

test("wfi with nothing pending stops the run so the machine can sleep", () => {
  const m = new BareMachine({ ramSize: 1 << 20, onOutput: () => {} });
  m.load(program([WFI, addi(10, 0, 0)]));
  assert.equal(m.run(1e6).kind, "wfi");
  m.hart.setPending(3, true); // MSIP pending (not enabled globally): wfi would now fall through
  assert.equal(m.run(1e6).kind, "exit");
});

const faddD = (rd: number, rs1: number, rs2: number, rm: number) =>
  (0x02000053 | (rs2 << 20) | (rs1 << 15) | (rm << 12) | (rd << 7)) >>> 0;

test("FP instructions are illegal while mstatus.FS is Off, and make FS Dirty (SD set) once enabled", () => {
  const m = run(
    asm([
      { la: [5, "handler"] },
      csrw(0x305, 5), // mtvec
      faddD(1, 2, 3, 0), // FS = Off after reset: illegal
      lui(6, 2), // t1 = 0x2000: FS = Initial
      i(0, 6, 2, 0, 0x73) | (0x300 << 20), // csrrs x0, mstatus, t1
      faddD(1, 2, 3, 0),
      csrr(12, 0x300), // mstatus after the add
      faddD(1, 2, 3, 5), // rm = 5 is reserved: illegal
      addi(10, 0, 0),
      0x0000006f, // j . (not reached: the handler exits)
      "handler",
      csrr(13, 0x342),
      addi(14, 14, 1), // count traps in a4
      csrr(15, 0x341),
      addi(15, 15, 4),
      csrw(0x341, 15), // skip the trapping instruction
      addi(6, 0, 2),
      b(8, 6, 14, 0), // second trap → exit
      MRET,
      addi(10, 0, 0),
    ]),
  );
  assert.equal(m.reg(13), 2n, "both traps are illegal-instruction traps");
  assert.equal(m.reg(14), 2n);
  assert.equal((m.reg(12) >> 13n) & 3n, 3n, "FS = Dirty");
  assert.ok(m.reg(12) < 0n, "mstatus.SD is set");
});
