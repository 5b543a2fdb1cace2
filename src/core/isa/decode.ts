/**
 * Decoder built from the instruction table at load time: 32-bit words to an op id (the table index + 1, see
 * ops.generated.ts), RVC halfwords to the 32-bit word they expand to (unprivileged spec ch. 16), and field and
 * immediate extraction. Not on the hot path: the interpreter decodes each instruction once into its decode cache.
 */
import { CINSNS, type CompressedSpec, INSNS, type InsnSpec } from "./table.ts";

/** Buckets of 32-bit specs by opcode[6:2] and funct3, in table order. */
const buckets: InsnSpec[][] = [];
const bucketOps: number[][] = [];
for (let i = 0; i < 256; i++) {
  buckets.push([]);
  bucketOps.push([]);
}
for (let i = 0; i < INSNS.length; i++) {
  const spec = INSNS[i]!;
  const opc = (spec.match >>> 2) & 0x1f;
  const f3fixed = (spec.mask & 0x7000) === 0x7000;
  for (let f3 = 0; f3 < 8; f3++) {
    if (f3fixed && ((spec.match >>> 12) & 7) !== f3) continue;
    buckets[(opc << 3) | f3]!.push(spec);
    bucketOps[(opc << 3) | f3]!.push(i + 1);
  }
}

/** The op id (1-based index into INSNS) of a 32-bit instruction word, or 0 if the word is not a known instruction. */
export function decodeOp(insn: number): number {
  if ((insn & 3) !== 3) return 0;
  const key = (((insn >>> 2) & 0x1f) << 3) | ((insn >>> 12) & 7);
  const specs = buckets[key]!;
  const ops = bucketOps[key]!;
  for (let i = 0; i < specs.length; i++) {
    const s = specs[i]!;
    if ((insn & s.mask) >>> 0 === s.match >>> 0) return ops[i]!;
  }
  return 0;
}

/** The spec of an op id. */
export function opSpec(op: number): InsnSpec {
  const s = INSNS[op - 1];
  if (s === undefined) throw new RangeError(`no instruction with op id ${op}`);
  return s;
}

/** Op id of an instruction name, for tests and tools. */
export function opByName(name: string): number {
  const i = INSNS.findIndex((s) => s.name === name);
  if (i < 0) throw new RangeError(`no instruction named ${name}`);
  return i + 1;
}

// ---- Fields of 32-bit instructions (unprivileged spec §2.2, §2.3) ----

export const rdOf = (insn: number): number => (insn >>> 7) & 31;
export const rs1Of = (insn: number): number => (insn >>> 15) & 31;
export const rs2Of = (insn: number): number => (insn >>> 20) & 31;
export const immI = (insn: number): number => insn >> 20;
export const immS = (insn: number): number => ((insn >> 25) << 5) | ((insn >>> 7) & 31);
export const immB = (insn: number): number =>
  ((insn >> 31) << 12) | (((insn >>> 7) & 1) << 11) | (((insn >>> 25) & 0x3f) << 5) | (((insn >>> 8) & 0xf) << 1);
export const immU = (insn: number): number => insn & 0xfffff000;
export const immJ = (insn: number): number =>
  ((insn >> 31) << 20) | (((insn >>> 12) & 0xff) << 12) | (((insn >>> 20) & 1) << 11) | (((insn >>> 21) & 0x3ff) << 1);

/** The immediate of a decoded instruction as the interpreter wants it (shift amount, CSR number, offset…). */
export function immOf(op: number, insn: number): number {
  switch (opSpec(op).fmt) {
    case "I":
    case "LOAD":
    case "JALR":
      return immI(insn);
    case "S":
      return immS(insn);
    case "B":
      return immB(insn);
    case "U":
      return immU(insn);
    case "J":
      return immJ(insn);
    case "SH6":
      return (insn >>> 20) & 63;
    case "SH5":
      return (insn >>> 20) & 31;
    case "CSR":
    case "CSRI":
      return (insn >>> 20) & 0xfff;
    case "FENCE":
      return (insn >>> 20) & 0xfff;
    case "AMO":
    case "LR":
      return (insn >>> 25) & 3; // aq<<1 | rl
    case "FLOAD":
      return immI(insn);
    case "FSTORE":
      return immS(insn);
    case "FR_RM":
    case "FR4":
    case "FR1_RM":
    case "FCVT_XF":
    case "FCVT_FX":
      // rounding mode (funct3) and rs3: rm | rs3 << 3
      return ((insn >>> 12) & 7) | (((insn >>> 27) & 31) << 3);
    default:
      return 0;
  }
}

// ---- Encoders, used to expand RVC instructions into their 32-bit forms ----

const encR = (opc: number, f3: number, f7: number, rd: number, rs1: number, rs2: number): number =>
  ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc) >>> 0;
const encI = (opc: number, f3: number, rd: number, rs1: number, imm: number): number =>
  (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | opc) >>> 0;
const encS = (opc: number, f3: number, rs1: number, rs2: number, imm: number): number =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 31) << 7) | opc) >>> 0;
const encB = (f3: number, rs1: number, rs2: number, imm: number): number =>
  ((((imm >> 12) & 1) << 31) |
    (((imm >> 5) & 0x3f) << 25) |
    (rs2 << 20) |
    (rs1 << 15) |
    (f3 << 12) |
    (((imm >> 1) & 0xf) << 8) |
    (((imm >> 11) & 1) << 7) |
    0x63) >>>
  0;
const encJ = (rd: number, imm: number): number =>
  ((((imm >> 20) & 1) << 31) |
    (((imm >> 1) & 0x3ff) << 21) |
    (((imm >> 11) & 1) << 20) |
    (((imm >> 12) & 0xff) << 12) |
    (rd << 7) |
    0x6f) >>>
  0;

const bit = (h: number, b: number): number => (h >>> b) & 1;
const bits = (h: number, hi: number, lo: number): number => (h >>> lo) & ((1 << (hi - lo + 1)) - 1);
const sext = (v: number, width: number): number => (v << (32 - width)) >> (32 - width);
/** rd'/rs1'/rs2' (3-bit register fields) name x8–x15. */
const creg = (f: number): number => 8 + f;

/** Compressed specs by quadrant and funct3. */
const cbuckets: CompressedSpec[][] = [];
for (let i = 0; i < 32; i++) cbuckets.push([]);
for (const s of CINSNS) cbuckets[((s.match >>> 13) << 2) | (s.match & 3)]!.push(s);

/** The spec of a compressed halfword, or undefined if it matches none. */
export function compressedSpec(h: number): CompressedSpec | undefined {
  for (const s of cbuckets[((h >>> 13) << 2) | (h & 3)]!) if ((h & s.mask) === s.match) return s;
  return undefined;
}

/**
 * Expand an RVC halfword into the 32-bit instruction it stands for, or return 0 when the encoding is illegal or
 * reserved on RV64 (the all-zero halfword, c.addi4spn with zero immediate, c.addi16sp/c.lui with zero immediate,
 * c.lwsp/c.ldsp with rd=0, c.jr with rs1=0). HINT encodings
 * expand to their no-op base forms, as QEMU 7.2 executes them.
 */
export function expandCompressed(h: number): number {
  const s = compressedSpec(h);
  if (s === undefined) return 0;
  const rd = bits(h, 11, 7);
  const rs2 = bits(h, 6, 2);
  const rdp = creg(bits(h, 4, 2));
  const rs1p = creg(bits(h, 9, 7));
  const imm6 = sext((bit(h, 12) << 5) | bits(h, 6, 2), 6);
  switch (s.fmt) {
    case "CIW_ADDI4SPN": {
      const imm = (bits(h, 12, 11) << 4) | (bits(h, 10, 7) << 6) | (bit(h, 6) << 2) | (bit(h, 5) << 3);
      if (imm === 0) return 0;
      return encI(0x13, 0, rdp, 2, imm);
    }
    case "CL_W":
      return encI(0x03, 2, rdp, rs1p, (bits(h, 12, 10) << 3) | (bit(h, 6) << 2) | (bit(h, 5) << 6));
    case "CL_D":
      return encI(s.expands === "fld" ? 0x07 : 0x03, 3, rdp, rs1p, (bits(h, 12, 10) << 3) | (bits(h, 6, 5) << 6));
    case "CS_W":
      return encS(0x23, 2, rs1p, rdp, (bits(h, 12, 10) << 3) | (bit(h, 6) << 2) | (bit(h, 5) << 6));
    case "CS_D":
      return encS(s.expands === "fsd" ? 0x27 : 0x23, 3, rs1p, rdp, (bits(h, 12, 10) << 3) | (bits(h, 6, 5) << 6));
    case "CI_NOP":
      return encI(0x13, 0, 0, 0, imm6);
    case "CI_ADDI":
      return encI(0x13, 0, rd, rd, imm6);
    case "CI_ADDIW":
      if (rd === 0) return 0; // reserved
      return encI(0x1b, 0, rd, rd, imm6);
    case "CI_LI":
      return encI(0x13, 0, rd, 0, imm6);
    case "CI_ADDI16SP": {
      const imm = sext(
        (bit(h, 12) << 9) | (bit(h, 6) << 4) | (bit(h, 5) << 6) | (bits(h, 4, 3) << 7) | (bit(h, 2) << 5),
        10,
      );
      if (imm === 0) return 0;
      return encI(0x13, 0, 2, 2, imm);
    }
    case "CI_LUI": {
      if (imm6 === 0) return 0;
      return ((imm6 << 12) | (rd << 7) | 0x37) >>> 0;
    }
    case "CB_SHIFT": {
      const shamt = (bit(h, 12) << 5) | bits(h, 6, 2);
      const f6 = s.expands === "srai" ? 0x10 : 0;
      return encI(0x13, 5, rs1p, rs1p, (f6 << 6) | shamt);
    }
    case "CB_ANDI":
      return encI(0x13, 7, rs1p, rs1p, imm6);
    case "CA": {
      const r2 = rdp;
      switch (s.expands) {
        case "sub":
          return encR(0x33, 0, 0x20, rs1p, rs1p, r2);
        case "xor":
          return encR(0x33, 4, 0, rs1p, rs1p, r2);
        case "or":
          return encR(0x33, 6, 0, rs1p, rs1p, r2);
        case "and":
          return encR(0x33, 7, 0, rs1p, rs1p, r2);
        case "subw":
          return encR(0x3b, 0, 0x20, rs1p, rs1p, r2);
        default:
          return encR(0x3b, 0, 0, rs1p, rs1p, r2); // addw
      }
    }
    case "CJ": {
      const off = sext(
        (bit(h, 12) << 11) |
          (bit(h, 11) << 4) |
          (bits(h, 10, 9) << 8) |
          (bit(h, 8) << 10) |
          (bit(h, 7) << 6) |
          (bit(h, 6) << 7) |
          (bits(h, 5, 3) << 1) |
          (bit(h, 2) << 5),
        12,
      );
      return encJ(0, off);
    }
    case "CB_BRANCH": {
      const off = sext(
        (bit(h, 12) << 8) | (bits(h, 11, 10) << 3) | (bits(h, 6, 5) << 6) | (bits(h, 4, 3) << 1) | (bit(h, 2) << 5),
        9,
      );
      return encB(s.expands === "beq" ? 0 : 1, rs1p, 0, off);
    }
    case "CI_SLLI":
      return encI(0x13, 1, rd, rd, (bit(h, 12) << 5) | bits(h, 6, 2));
    case "CI_LWSP":
      if (rd === 0) return 0;
      return encI(0x03, 2, rd, 2, (bit(h, 12) << 5) | (bits(h, 6, 4) << 2) | (bits(h, 3, 2) << 6));
    case "CI_LDSP": {
      const imm = (bit(h, 12) << 5) | (bits(h, 6, 5) << 3) | (bits(h, 4, 2) << 6);
      if (s.expands === "fld") return encI(0x07, 3, rd, 2, imm); // c.fldsp: f0 is a valid destination
      if (rd === 0) return 0;
      return encI(0x03, 3, rd, 2, imm);
    }
    case "CR_JR":
      if (rd === 0) return 0;
      return encI(0x67, 0, 0, rd, 0);
    case "CR_MV":
      return encR(0x33, 0, 0, rd, 0, rs2);
    case "CR_EBREAK":
      return 0x00100073;
    case "CR_JALR":
      return encI(0x67, 0, 1, rd, 0);
    case "CR_ADD":
      return encR(0x33, 0, 0, rd, rd, rs2);
    case "CSS_SWSP":
      return encS(0x23, 2, 2, rs2, (bits(h, 12, 9) << 2) | (bits(h, 8, 7) << 6));
    case "CSS_SDSP":
      return encS(s.expands === "fsd" ? 0x27 : 0x23, 3, 2, rs2, (bits(h, 12, 10) << 3) | (bits(h, 9, 7) << 6));
  }
}

/** A fully decoded instruction, for the disassembler, tests and tools (the interpreter packs the same fields). */
export interface Decoded {
  /** Op id, 0 when illegal. */
  readonly op: number;
  /** The instruction bits as fetched (16 or 32 bits). */
  readonly bits: number;
  /** 2 or 4. */
  readonly len: number;
  /** The 32-bit word executed: `bits` itself, or the expansion of a compressed instruction (0 if illegal). */
  readonly word: number;
  readonly rd: number;
  readonly rs1: number;
  readonly rs2: number;
  readonly imm: number;
}

/** Decode the instruction whose low halfword is `lo` and (for 32-bit instructions) high halfword is `hi`. */
export function decode(lo: number, hi: number): Decoded {
  const len = (lo & 3) === 3 ? 4 : 2;
  const bitsIn = len === 4 ? ((hi << 16) | (lo & 0xffff)) >>> 0 : lo & 0xffff;
  const word = len === 4 ? bitsIn : expandCompressed(bitsIn);
  const op = word === 0 ? 0 : decodeOp(word);
  return {
    op,
    bits: bitsIn,
    len,
    word,
    rd: rdOf(word),
    rs1: rs1Of(word),
    rs2: rs2Of(word),
    imm: op === 0 ? 0 : immOf(op, word),
  };
}
