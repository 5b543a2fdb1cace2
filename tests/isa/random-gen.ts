/**
 * Generator of random straight-line RV64IMAC + Zicsr programs for the differential test against QEMU
 * (random.test.ts). Each program is a pure function of (seed, index), so any one of them can be regenerated alone.
 * Memory is touched only inside a 512-byte scratch buffer through sp (its base) and s0 (base + 256), which no
 * generated instruction writes; instructions whose result the ISA leaves open (LR/SC across other stores, misaligned
 * atomics) are not generated.
 */

/** One generated program: its assembly (without the shared setup) and its initial state. */
export interface RandomProgram {
  readonly index: number;
  /** Initial scratch memory (64 dwords), mscratch, then x1..x31 (x2 and x8 are overwritten by the setup). */
  readonly table: readonly bigint[];
  /** The random instructions, one per line, as given to the assembler. */
  readonly body: readonly string[];
}

/** The fields rnd_dump_full prints after "p<index>", in order. */
export const FULL_DUMP_FIELDS: readonly string[] = [
  "mscratch",
  ...Array.from({ length: 31 }, (_, i) => `x${i + 1}`),
  "scratch-memory-hash",
];

/** The fields rnd_dump_hash prints after "p<index>". */
export const HASH_DUMP_FIELDS: readonly string[] = ["hash of mscratch and x1..x31", "scratch-memory-hash"];

const ABI = [
  "zero",
  "ra",
  "sp",
  "gp",
  "tp",
  "t0",
  "t1",
  "t2",
  "s0",
  "s1",
  "a0",
  "a1",
  "a2",
  "a3",
  "a4",
  "a5",
  "a6",
  "a7",
  "s2",
  "s3",
  "s4",
  "s5",
  "s6",
  "s7",
  "s8",
  "s9",
  "s10",
  "s11",
  "t3",
  "t4",
  "t5",
  "t6",
];

/** ABI name of register x<i>, for messages. */
export function abiName(i: number): string {
  return ABI[i] ?? `x${i}`;
}

/** sfc32, seeded through splitmix32: small, fast, and the same on every platform. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...seeds: number[]) {
    let s = 0x9e3779b9;
    const mix = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    for (const seed of seeds) s = (s ^ Math.imul(seed >>> 0, 0x27d4eb2d)) | 0;
    this.a = mix();
    this.b = mix();
    this.c = mix();
    this.d = mix();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor((this.u32() / 0x1_0000_0000) * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

const EDGE_VALUES: readonly bigint[] = [
  0n,
  1n,
  2n,
  0xffff_ffff_ffff_ffffn,
  0xffff_ffff_ffff_fffen,
  0x8000_0000_0000_0000n,
  0x7fff_ffff_ffff_ffffn,
  0x8000_0000n,
  0x7fff_ffffn,
  0xffff_ffffn,
  0xffff_ffff_8000_0000n,
  0x1_0000_0000n,
  0xffff_ffff_0000_0000n,
  0x8000_0000_0000_0001n,
  0x0000_0000_0000_003fn,
  0x0000_0000_0000_0040n,
  0x0000_0000_0000_001fn,
  0x0000_0000_0000_0020n,
];

/** A random 64-bit value biased towards the edges that break emulators. */
export function randomValue(rng: Rng): bigint {
  const r = rng.int(0, 9);
  if (r < 4) return rng.pick(EDGE_VALUES);
  if (r < 5) return BigInt.asUintN(64, BigInt(rng.int(-16, 16)));
  if (r < 6) return BigInt.asUintN(64, BigInt.asIntN(32, BigInt(rng.u32())));
  if (r < 7) return BigInt(rng.u32());
  if (r < 8) return rng.pick(EDGE_VALUES) ^ (1n << BigInt(rng.int(0, 63)));
  return rng.u64();
}

// Registers: x2 (sp) and x8 (s0) are the scratch pointers and are never written.
const WRITABLE = [
  1, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
];
const WRITABLE_C = [9, 10, 11, 12, 13, 14, 15]; // x8..x15 without s0
const ALL_C = [8, 9, 10, 11, 12, 13, 14, 15];

const R_OPS = [
  "add",
  "sub",
  "sll",
  "srl",
  "sra",
  "slt",
  "sltu",
  "xor",
  "or",
  "and",
  "addw",
  "subw",
  "sllw",
  "srlw",
  "sraw",
  "mul",
  "mulh",
  "mulhsu",
  "mulhu",
  "mulw",
  "div",
  "divu",
  "rem",
  "remu",
  "divw",
  "divuw",
  "remw",
  "remuw",
];
const I_OPS = ["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"];
const SHIFT_OPS: readonly (readonly [string, number])[] = [
  ["slli", 63],
  ["srli", 63],
  ["srai", 63],
  ["slliw", 31],
  ["srliw", 31],
  ["sraiw", 31],
];
const LOADS: readonly (readonly [string, number])[] = [
  ["lb", 1],
  ["lbu", 1],
  ["lh", 2],
  ["lhu", 2],
  ["lw", 4],
  ["lwu", 4],
  ["ld", 8],
];
const STORES: readonly (readonly [string, number])[] = [
  ["sb", 1],
  ["sh", 2],
  ["sw", 4],
  ["sd", 8],
];
const AMOS = ["amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax", "amominu", "amomaxu"];
const ORDERING = ["", "", ".aq", ".rl", ".aqrl"];
const BRANCHES = ["beq", "bne", "blt", "bge", "bltu", "bgeu"];
const CSR_OPS = ["csrrw", "csrrs", "csrrc"];
const CSR_IOPS = ["csrrwi", "csrrsi", "csrrci"];

function reg(i: number): string {
  return ABI[i]!;
}

function imm12(rng: Rng): number {
  const r = rng.int(0, 5);
  if (r === 0) return rng.pick([0, 1, -1, 2047, -2048, 0x7ff, -0x800, 0x400]);
  if (r < 3) return rng.int(-32, 31);
  return rng.int(-2048, 2047);
}

function nonzero(rng: Rng, lo: number, hi: number): number {
  for (;;) {
    const v = rng.int(lo, hi);
    if (v !== 0) return v;
  }
}

/** Generator state for one program: emits lines and hands out unique labels. */
class Emitter {
  readonly lines: string[] = [];
  private labels = 0;
  readonly prefix: string;
  readonly rng: Rng;

  constructor(index: number, rng: Rng) {
    this.prefix = `.Lr${index}_`;
    this.rng = rng;
  }

  label(): string {
    return `${this.prefix}${this.labels++}`;
  }

  emit(line: string): void {
    this.lines.push(line);
  }

  /** Compressed instructions go through the RVC macros (test.h), which switch RVC on around one instruction. */
  rvc(line: string): void {
    this.lines.push(`RVC ${line}`);
  }

  rd(): number {
    // x0 as a destination now and then: the write must vanish.
    return this.rng.chance(0.03) ? 0 : this.rng.pick(WRITABLE);
  }

  rs(): number {
    return this.rng.int(0, 31);
  }
}

/** A plain ALU instruction (never memory, control flow or CSR), optionally avoiding one destination register. */
function genAlu(e: Emitter, avoid = -1): void {
  const { rng } = e;
  let rd = e.rd();
  while (rd === avoid) rd = e.rd();
  const kind = rng.int(0, 9);
  if (kind < 4) {
    e.emit(`${rng.pick(R_OPS)} ${reg(rd)}, ${reg(e.rs())}, ${reg(e.rs())}`);
  } else if (kind < 6) {
    e.emit(`${rng.pick(I_OPS)} ${reg(rd)}, ${reg(e.rs())}, ${imm12(rng)}`);
  } else if (kind < 8) {
    const [op, max] = rng.pick(SHIFT_OPS);
    const sh = rng.chance(0.4) ? rng.pick([0, 1, max, max >> 1, (max >> 1) + 1]) : rng.int(0, max);
    e.emit(`${op} ${reg(rd)}, ${reg(e.rs())}, ${sh}`);
  } else if (kind < 9) {
    e.emit(`lui ${reg(rd)}, 0x${rng.int(0, 0xfffff).toString(16)}`);
  } else {
    e.emit(`auipc ${reg(rd)}, 0x${rng.int(0, 0xfffff).toString(16)}`);
  }
}

/** A compressed ALU instruction; destinations avoid sp and s0, and avoid `avoid`. */
function genRvcAlu(e: Emitter, avoid = -1): void {
  const { rng } = e;
  const pickW = (): number => {
    for (;;) {
      const r = rng.pick(WRITABLE);
      if (r !== avoid) return r;
    }
  };
  const pickC = (): number => {
    for (;;) {
      const r = rng.pick(WRITABLE_C);
      if (r !== avoid) return r;
    }
  };
  switch (rng.int(0, 12)) {
    case 0:
      e.rvc(`c.addi ${reg(pickW())}, ${nonzero(rng, -32, 31)}`);
      break;
    case 1:
      e.rvc(`c.addiw ${reg(pickW())}, ${rng.int(-32, 31)}`);
      break;
    case 2:
      e.rvc(`c.li ${reg(pickW())}, ${rng.int(-32, 31)}`);
      break;
    case 3: {
      const v = rng.chance(0.5) ? rng.int(1, 31) : rng.int(0xfffe0, 0xfffff);
      e.rvc(`c.lui ${reg(pickW())}, 0x${v.toString(16)}`);
      break;
    }
    case 4:
      e.rvc(`${rng.pick(["c.srli", "c.srai"])} ${reg(pickC())}, ${rng.pick([1, 31, 32, 63, rng.int(1, 63)])}`);
      break;
    case 5:
      e.rvc(`c.andi ${reg(pickC())}, ${rng.int(-32, 31)}`);
      break;
    case 6:
      e.rvc(
        `${rng.pick(["c.sub", "c.xor", "c.or", "c.and", "c.subw", "c.addw"])} ${reg(pickC())}, ${reg(rng.pick(ALL_C))}`,
      );
      break;
    case 7:
      e.rvc(`c.slli ${reg(pickW())}, ${rng.pick([1, 31, 32, 63, rng.int(1, 63)])}`);
      break;
    case 8:
      e.rvc(`c.mv ${reg(pickW())}, ${reg(rng.int(1, 31))}`);
      break;
    case 9:
      e.rvc(`c.add ${reg(pickW())}, ${reg(rng.int(1, 31))}`);
      break;
    case 10:
      e.rvc(`c.addi4spn ${reg(pickC())}, sp, ${4 * rng.int(1, 255)}`);
      break;
    case 11:
      e.rvc("c.nop");
      break;
    default:
      e.rvc(`c.addiw ${reg(pickW())}, 0`);
      break;
  }
}

/** A memory offset for a `width`-byte access from sp (base 0) or s0 (base 256) inside the 512-byte scratch. */
function memOffset(rng: Rng, base: "sp" | "s0", width: number, aligned: boolean): number {
  const lo = base === "sp" ? 0 : -256;
  const hi = base === "sp" ? 512 - width : 256 - width;
  if (aligned) return lo + width * rng.int(0, (hi - lo) / width);
  return rng.int(lo, hi);
}

function genLoadStore(e: Emitter): void {
  const { rng } = e;
  const base = rng.chance(0.5) ? "sp" : "s0";
  const aligned = !rng.chance(0.08);
  if (rng.chance(0.5)) {
    const [op, w] = rng.pick(LOADS);
    e.emit(`${op} ${reg(e.rd())}, ${memOffset(rng, base, w, aligned)}(${base})`);
  } else {
    const [op, w] = rng.pick(STORES);
    e.emit(`${op} ${reg(e.rs())}, ${memOffset(rng, base, w, aligned)}(${base})`);
  }
}

function genRvcLoadStore(e: Emitter): void {
  const { rng } = e;
  switch (rng.int(0, 7)) {
    case 0:
      e.rvc(`c.lw ${reg(rng.pick(WRITABLE_C))}, ${4 * rng.int(0, 31)}(s0)`);
      break;
    case 1:
      e.rvc(`c.ld ${reg(rng.pick(WRITABLE_C))}, ${8 * rng.int(0, 31)}(s0)`);
      break;
    case 2:
      e.rvc(`c.sw ${reg(rng.pick(ALL_C))}, ${4 * rng.int(0, 31)}(s0)`);
      break;
    case 3:
      e.rvc(`c.sd ${reg(rng.pick(ALL_C))}, ${8 * rng.int(0, 31)}(s0)`);
      break;
    case 4:
      e.rvc(`c.lwsp ${reg(rng.pick(WRITABLE))}, ${4 * rng.int(0, 63)}(sp)`);
      break;
    case 5:
      e.rvc(`c.ldsp ${reg(rng.pick(WRITABLE))}, ${8 * rng.int(0, 63)}(sp)`);
      break;
    case 6:
      e.rvc(`c.swsp ${reg(rng.int(0, 31))}, ${4 * rng.int(0, 63)}(sp)`);
      break;
    default:
      e.rvc(`c.sdsp ${reg(rng.int(0, 31))}, ${8 * rng.int(0, 63)}(sp)`);
      break;
  }
}

/** addi rX, s0, off: an aligned scratch address for an atomic, in a fresh writable register. */
function atomicAddress(e: Emitter, width: number): number {
  const rx = e.rng.pick(WRITABLE);
  e.emit(`addi ${reg(rx)}, s0, ${memOffset(e.rng, "s0", width, true)}`);
  return rx;
}

function genAmo(e: Emitter): void {
  const { rng } = e;
  const [sfx, w] = rng.chance(0.5) ? [".w", 4] : [".d", 8];
  const rx = atomicAddress(e, w);
  e.emit(`${rng.pick(AMOS)}${sfx}${rng.pick(ORDERING)} ${reg(e.rd())}, ${reg(e.rs())}, (${reg(rx)})`);
}

function genLrSc(e: Emitter): void {
  const { rng } = e;
  const [sfx, w] = rng.chance(0.5) ? [".w", 4] : [".d", 8];
  const rx = atomicAddress(e, w);
  if (rng.chance(0.2)) {
    // No reservation is held here (every LR below is closed by its SC): this SC must fail and store nothing.
    e.emit(`sc${sfx}${rng.pick(ORDERING)} ${reg(e.rd())}, ${reg(e.rs())}, (${reg(rx)})`);
    return;
  }
  let rd = e.rd();
  while (rd === rx) rd = e.rd();
  e.emit(`lr${sfx}${rng.pick(ORDERING)} ${reg(rd)}, (${reg(rx)})`);
  const between = rng.int(0, 3);
  for (let i = 0; i < between; i++) {
    if (rng.chance(0.3)) genRvcAlu(e, rx);
    else genAlu(e, rx);
  }
  e.emit(`sc${sfx}${rng.pick(ORDERING)} ${reg(e.rd())}, ${reg(e.rs())}, (${reg(rx)})`);
}

function genCsr(e: Emitter): void {
  const { rng } = e;
  if (rng.chance(0.5)) e.emit(`${rng.pick(CSR_OPS)} ${reg(e.rd())}, mscratch, ${reg(e.rs())}`);
  else e.emit(`${rng.pick(CSR_IOPS)} ${reg(e.rd())}, mscratch, ${rng.int(0, 31)}`);
}

/** A forward control transfer over one ALU instruction, taken or not depending on the registers. */
function genControl(e: Emitter): void {
  const { rng } = e;
  const skip = e.label();
  const kind = rng.int(0, 7);
  let rx = -1;
  switch (kind) {
    case 0:
    case 1:
      e.emit(`${rng.pick(BRANCHES)} ${reg(e.rs())}, ${reg(e.rs())}, ${skip}`);
      break;
    case 2:
      e.emit(`jal ${reg(e.rd())}, ${skip}`);
      break;
    case 3: {
      rx = rng.pick(WRITABLE);
      // jalr clears bit 0 of the target: sometimes hand it an odd address.
      const odd = rng.chance(0.3);
      const off = rng.pick([0, 8, -8]);
      e.emit(`la ${reg(rx)}, ${skip}${odd ? "+1" : ""}${off === 0 ? "" : off > 0 ? `-${off}` : `+${-off}`}`);
      e.emit(`jalr ${reg(e.rd())}, ${off}(${reg(rx)})`);
      break;
    }
    case 4:
      e.emit(`RVC_BRANCH ${rng.pick(["c.beqz", "c.bnez"])} ${reg(rng.pick(ALL_C))}, ${skip}`);
      break;
    case 5:
      e.emit(`RVC_BRANCH c.j ${skip}`);
      break;
    default:
      rx = rng.pick(WRITABLE);
      e.emit(`la ${reg(rx)}, ${skip}`);
      e.rvc(`${rng.pick(["c.jr", "c.jalr"])} ${reg(rx)}`);
      break;
  }
  if (rng.chance(0.3)) genRvcAlu(e, rx);
  else genAlu(e, rx);
  e.emit(`${skip}:`);
}

/** Generate program `index` of the run seeded with `seed`. */
export function generateProgram(seed: number, index: number): RandomProgram {
  const rng = new Rng(seed, index, 0x5eed);
  const table: bigint[] = [];
  for (let i = 0; i < 64; i++) table.push(randomValue(rng));
  table.push(randomValue(rng)); // mscratch
  for (let i = 1; i < 32; i++) table.push(randomValue(rng));
  const e = new Emitter(index, rng);
  const n = rng.int(10, 64);
  for (let i = 0; i < n; i++) {
    const r = rng.int(0, 99);
    if (r < 30) genAlu(e);
    else if (r < 50) genRvcAlu(e);
    else if (r < 62) genLoadStore(e);
    else if (r < 70) genRvcLoadStore(e);
    else if (r < 77) genAmo(e);
    else if (r < 83) genLrSc(e);
    else if (r < 88) genCsr(e);
    else if (r < 97) genControl(e);
    else e.emit(rng.pick(["fence", "fence.i", "fence rw, rw", "nop"]));
  }
  return { index, table, body: e.lines };
}

function hex64(v: bigint): string {
  return `0x${BigInt.asUintN(64, v).toString(16)}`;
}

/**
 * The assembly of one program: setup from its table, the body, then the register save and the dump (a full dump
 * of every register, or a hash of them).
 */
export function programAsm(p: RandomProgram, full: boolean): string {
  const out: string[] = [];
  out.push(`/* program ${p.index} */`);
  out.push(`  la t6, rnd_table_${p.index}`);
  out.push("  call rnd_setup");
  out.push("  la sp, rnd_scratch");
  out.push("  addi s0, sp, 256");
  for (let i = 1; i < 32; i++) {
    if (i === 2 || i === 8 || i === 31) continue;
    out.push(`  ld x${i}, ${512 + 8 * i}(t6)`);
  }
  out.push(`  ld x31, ${512 + 8 * 31}(t6)`);
  for (const line of p.body) out.push(line.endsWith(":") ? line : `  ${line}`);
  for (let i = 1; i < 32; i++) out.push(`  sd x${i}, ${512 + 8 * i}(sp)`);
  out.push("  csrr ra, mscratch");
  out.push("  sd ra, 512(sp)");
  out.push(`  li a0, ${p.index}`);
  out.push(full ? "  call rnd_dump_full" : "  call rnd_dump_hash");
  return out.join("\n");
}

/** A whole test program: main runs programs [first, first + count) one after another, then rnd_finish. */
export function batchAsm(seed: number, first: number, count: number, full: boolean): string {
  const out: string[] = [
    `/* Random differential programs ${first}..${first + count - 1}, seed ${seed} (generated by random-gen.ts). */`,
    '#include "test.h"',
    "  .text",
    "  .global main",
    "main:",
  ];
  const tables: string[] = ["  .data", "  .align 3"];
  for (let i = first; i < first + count; i++) {
    const p = generateProgram(seed, i);
    out.push(programAsm(p, full));
    tables.push(`rnd_table_${i}:`);
    for (let j = 0; j < p.table.length; j += 8) {
      tables.push(
        `  .dword ${p.table
          .slice(j, j + 8)
          .map(hex64)
          .join(", ")}`,
      );
    }
  }
  out.push("  j rnd_finish");
  return `${out.join("\n")}\n${tables.join("\n")}\n`;
}
