/**
 * The RV64 instruction table: every instruction popek knows, as (mask, match) pairs with its operand format and
 * extension. Unprivileged spec 20191213 ch. 24 ("RV32/64G Instruction Set Listings") and ch. 16 (RVC), privileged
 * spec 1.12 §3.3 and §4.2. The decoder, the disassembler, the tests and the JIT are all derived from this one list.
 */

/**
 * Operand formats of 32-bit instructions (how the disassembler prints them and which fields the decoder extracts).
 * - R: rd, rs1, rs2            - I: rd, rs1, imm12        - LOAD: rd, imm12(rs1)       - S: rs2, imm12(rs1)
 * - B: rs1, rs2, pc+imm13      - U: rd, imm20             - J: rd, pc+imm21            - JALR: rd, imm12(rs1)
 * - SH6: rd, rs1, shamt6       - SH5: rd, rs1, shamt5     - CSR: rd, csr, rs1          - CSRI: rd, csr, uimm5
 * - AMO: rd, rs2, (rs1)        - LR: rd, (rs1)            - FENCE: pred, succ          - NONE: no operands
 */
export type Format =
  | "R"
  | "I"
  | "LOAD"
  | "S"
  | "B"
  | "U"
  | "J"
  | "JALR"
  | "SH6"
  | "SH5"
  | "CSR"
  | "CSRI"
  | "AMO"
  | "LR"
  | "FENCE"
  | "NONE"
  // F and D (unprivileged ch. 11–12): `f` marks floating-point registers, rm the rounding-mode field (funct3)
  | "FLOAD" // frd, imm12(rs1)
  | "FSTORE" // frs2, imm12(rs1)
  | "FR_RM" // frd, frs1, frs2, rm
  | "FR" // frd, frs1, frs2 (funct3 selects the operation)
  | "FR4" // frd, frs1, frs2, frs3, rm
  | "FR1_RM" // frd, frs1, rm (fsqrt, fcvt between formats)
  | "FCMP" // rd, frs1, frs2
  | "FCLASS" // rd, frs1
  | "FCVT_XF" // rd, frs1, rm (float to integer)
  | "FCVT_FX" // frd, rs1, rm (integer to float)
  | "FMV_XF" // rd, frs1 (bit move float to integer)
  | "FMV_FX"; // frd, rs1 (bit move integer to float)

/**
 * Formats of 16-bit (RVC) instructions. Each names the immediate layout of its encoding; unprivileged spec §16.2–16.8,
 * tables 16.4–16.6. A compressed instruction is decoded by expanding it to the 32-bit instruction named by `expands`.
 */
export type CFormat =
  | "CIW_ADDI4SPN" // rd', nzuimm[5:4|9:6|2|3]
  | "CL_W" // rd', uimm[5:3|2|6](rs1')
  | "CL_D" // rd', uimm[5:3|7:6](rs1') (also c.fld with frd')
  | "CS_W" // rs2', uimm[5:3|2|6](rs1')
  | "CS_D" // rs2', uimm[5:3|7:6](rs1') (also c.fsd with frs2')
  | "CI_NOP" // no operands, imm must be... (c.nop)
  | "CI_ADDI" // rd, nzimm[5|4:0]
  | "CI_ADDIW" // rd, imm[5|4:0]
  | "CI_LI" // rd, imm[5|4:0]
  | "CI_ADDI16SP" // nzimm[9|4|6|8:7|5]
  | "CI_LUI" // rd, nzimm[17|16:12]
  | "CB_SHIFT" // rd', shamt[5|4:0]
  | "CB_ANDI" // rd', imm[5|4:0]
  | "CA" // rd', rs2'
  | "CJ" // offset[11|4|9:8|10|6|7|3:1|5]
  | "CB_BRANCH" // rs1', offset[8|4:3|7:6|2:1|5]
  | "CI_SLLI" // rd, shamt[5|4:0]
  | "CI_LWSP" // rd, uimm[5|4:2|7:6](sp)
  | "CI_LDSP" // rd, uimm[5|4:3|8:6](sp) (also c.fldsp with frd)
  | "CR_JR" // rs1
  | "CR_MV" // rd, rs2
  | "CR_EBREAK"
  | "CR_JALR" // rs1
  | "CR_ADD" // rd, rs2
  | "CSS_SWSP" // rs2, uimm[5:2|7:6](sp)
  | "CSS_SDSP"; // rs2, uimm[5:3|8:6](sp) (also c.fsdsp with frs2)

/** Extensions, named as in the ISA string; "I64"/"M64"/"A64" are the RV64-only parts. */
export type Extension =
  | "I"
  | "I64"
  | "M"
  | "M64"
  | "A"
  | "A64"
  | "C"
  | "Zicsr"
  | "Zifencei"
  | "Priv"
  | "F"
  | "F64"
  | "D"
  | "D64";

export interface InsnSpec {
  readonly name: string;
  readonly mask: number;
  readonly match: number;
  readonly fmt: Format;
  readonly ext: Extension;
}

export interface CompressedSpec {
  readonly name: string;
  readonly mask: number;
  readonly match: number;
  readonly fmt: CFormat;
  readonly ext: "C";
  /** The 32-bit instruction this one expands to (unprivileged spec §16, each instruction's "expands to"). */
  readonly expands: string;
}

// Masks for the common shapes: opcode; opcode+funct3; opcode+funct3+funct7; and so on.
const OP = 0x0000007f;
const F3 = 0x0000707f;
const F7 = 0xfe00707f;
const F6 = 0xfc00707f; // RV64 shifts: funct6 + 6-bit shamt
const AMO_M = 0xf800707f; // funct5 + funct3 + opcode, aq/rl free
const LR_M = 0xf9f0707f; // as AMO, with rs2 = 0
const FULL = 0xffffffff;
const CSR_M = 0x0000707f;

/** Every 32-bit instruction. Order matters only where encodings overlap; more specific entries come first. */
export const INSNS: readonly InsnSpec[] = [
  // RV32I / RV64I base (unprivileged ch. 2 and 5)
  { name: "lui", mask: OP, match: 0x00000037, fmt: "U", ext: "I" },
  { name: "auipc", mask: OP, match: 0x00000017, fmt: "U", ext: "I" },
  { name: "jal", mask: OP, match: 0x0000006f, fmt: "J", ext: "I" },
  { name: "jalr", mask: F3, match: 0x00000067, fmt: "JALR", ext: "I" },
  { name: "beq", mask: F3, match: 0x00000063, fmt: "B", ext: "I" },
  { name: "bne", mask: F3, match: 0x00001063, fmt: "B", ext: "I" },
  { name: "blt", mask: F3, match: 0x00004063, fmt: "B", ext: "I" },
  { name: "bge", mask: F3, match: 0x00005063, fmt: "B", ext: "I" },
  { name: "bltu", mask: F3, match: 0x00006063, fmt: "B", ext: "I" },
  { name: "bgeu", mask: F3, match: 0x00007063, fmt: "B", ext: "I" },
  { name: "lb", mask: F3, match: 0x00000003, fmt: "LOAD", ext: "I" },
  { name: "lh", mask: F3, match: 0x00001003, fmt: "LOAD", ext: "I" },
  { name: "lw", mask: F3, match: 0x00002003, fmt: "LOAD", ext: "I" },
  { name: "ld", mask: F3, match: 0x00003003, fmt: "LOAD", ext: "I64" },
  { name: "lbu", mask: F3, match: 0x00004003, fmt: "LOAD", ext: "I" },
  { name: "lhu", mask: F3, match: 0x00005003, fmt: "LOAD", ext: "I" },
  { name: "lwu", mask: F3, match: 0x00006003, fmt: "LOAD", ext: "I64" },
  { name: "sb", mask: F3, match: 0x00000023, fmt: "S", ext: "I" },
  { name: "sh", mask: F3, match: 0x00001023, fmt: "S", ext: "I" },
  { name: "sw", mask: F3, match: 0x00002023, fmt: "S", ext: "I" },
  { name: "sd", mask: F3, match: 0x00003023, fmt: "S", ext: "I64" },
  { name: "addi", mask: F3, match: 0x00000013, fmt: "I", ext: "I" },
  { name: "slti", mask: F3, match: 0x00002013, fmt: "I", ext: "I" },
  { name: "sltiu", mask: F3, match: 0x00003013, fmt: "I", ext: "I" },
  { name: "xori", mask: F3, match: 0x00004013, fmt: "I", ext: "I" },
  { name: "ori", mask: F3, match: 0x00006013, fmt: "I", ext: "I" },
  { name: "andi", mask: F3, match: 0x00007013, fmt: "I", ext: "I" },
  { name: "slli", mask: F6, match: 0x00001013, fmt: "SH6", ext: "I64" },
  { name: "srli", mask: F6, match: 0x00005013, fmt: "SH6", ext: "I64" },
  { name: "srai", mask: F6, match: 0x40005013, fmt: "SH6", ext: "I64" },
  { name: "add", mask: F7, match: 0x00000033, fmt: "R", ext: "I" },
  { name: "sub", mask: F7, match: 0x40000033, fmt: "R", ext: "I" },
  { name: "sll", mask: F7, match: 0x00001033, fmt: "R", ext: "I" },
  { name: "slt", mask: F7, match: 0x00002033, fmt: "R", ext: "I" },
  { name: "sltu", mask: F7, match: 0x00003033, fmt: "R", ext: "I" },
  { name: "xor", mask: F7, match: 0x00004033, fmt: "R", ext: "I" },
  { name: "srl", mask: F7, match: 0x00005033, fmt: "R", ext: "I" },
  { name: "sra", mask: F7, match: 0x40005033, fmt: "R", ext: "I" },
  { name: "or", mask: F7, match: 0x00006033, fmt: "R", ext: "I" },
  { name: "and", mask: F7, match: 0x00007033, fmt: "R", ext: "I" },
  { name: "addiw", mask: F3, match: 0x0000001b, fmt: "I", ext: "I64" },
  { name: "slliw", mask: F7, match: 0x0000101b, fmt: "SH5", ext: "I64" },
  { name: "srliw", mask: F7, match: 0x0000501b, fmt: "SH5", ext: "I64" },
  { name: "sraiw", mask: F7, match: 0x4000501b, fmt: "SH5", ext: "I64" },
  { name: "addw", mask: F7, match: 0x0000003b, fmt: "R", ext: "I64" },
  { name: "subw", mask: F7, match: 0x4000003b, fmt: "R", ext: "I64" },
  { name: "sllw", mask: F7, match: 0x0000103b, fmt: "R", ext: "I64" },
  { name: "srlw", mask: F7, match: 0x0000503b, fmt: "R", ext: "I64" },
  { name: "sraw", mask: F7, match: 0x4000503b, fmt: "R", ext: "I64" },
  // fence.tso is a fence with fm=1000, pred=succ=rw; it is listed first so the disassembler names it.
  { name: "fence.tso", mask: 0xfff0707f, match: 0x8330000f, fmt: "NONE", ext: "I" },
  { name: "fence", mask: F3, match: 0x0000000f, fmt: "FENCE", ext: "I" },
  { name: "ecall", mask: FULL, match: 0x00000073, fmt: "NONE", ext: "I" },
  { name: "ebreak", mask: FULL, match: 0x00100073, fmt: "NONE", ext: "I" },

  // Zifencei (unprivileged ch. 3)
  { name: "fence.i", mask: F3, match: 0x0000100f, fmt: "NONE", ext: "Zifencei" },

  // Zicsr (unprivileged ch. 9)
  { name: "csrrw", mask: CSR_M, match: 0x00001073, fmt: "CSR", ext: "Zicsr" },
  { name: "csrrs", mask: CSR_M, match: 0x00002073, fmt: "CSR", ext: "Zicsr" },
  { name: "csrrc", mask: CSR_M, match: 0x00003073, fmt: "CSR", ext: "Zicsr" },
  { name: "csrrwi", mask: CSR_M, match: 0x00005073, fmt: "CSRI", ext: "Zicsr" },
  { name: "csrrsi", mask: CSR_M, match: 0x00006073, fmt: "CSRI", ext: "Zicsr" },
  { name: "csrrci", mask: CSR_M, match: 0x00007073, fmt: "CSRI", ext: "Zicsr" },

  // M (unprivileged ch. 7)
  { name: "mul", mask: F7, match: 0x02000033, fmt: "R", ext: "M" },
  { name: "mulh", mask: F7, match: 0x02001033, fmt: "R", ext: "M" },
  { name: "mulhsu", mask: F7, match: 0x02002033, fmt: "R", ext: "M" },
  { name: "mulhu", mask: F7, match: 0x02003033, fmt: "R", ext: "M" },
  { name: "div", mask: F7, match: 0x02004033, fmt: "R", ext: "M" },
  { name: "divu", mask: F7, match: 0x02005033, fmt: "R", ext: "M" },
  { name: "rem", mask: F7, match: 0x02006033, fmt: "R", ext: "M" },
  { name: "remu", mask: F7, match: 0x02007033, fmt: "R", ext: "M" },
  { name: "mulw", mask: F7, match: 0x0200003b, fmt: "R", ext: "M64" },
  { name: "divw", mask: F7, match: 0x0200403b, fmt: "R", ext: "M64" },
  { name: "divuw", mask: F7, match: 0x0200503b, fmt: "R", ext: "M64" },
  { name: "remw", mask: F7, match: 0x0200603b, fmt: "R", ext: "M64" },
  { name: "remuw", mask: F7, match: 0x0200703b, fmt: "R", ext: "M64" },

  // A (unprivileged ch. 8): aq/rl (bits 26, 25) are accepted in any combination.
  { name: "lr.w", mask: LR_M, match: 0x1000202f, fmt: "LR", ext: "A" },
  { name: "sc.w", mask: AMO_M, match: 0x1800202f, fmt: "AMO", ext: "A" },
  { name: "amoswap.w", mask: AMO_M, match: 0x0800202f, fmt: "AMO", ext: "A" },
  { name: "amoadd.w", mask: AMO_M, match: 0x0000202f, fmt: "AMO", ext: "A" },
  { name: "amoxor.w", mask: AMO_M, match: 0x2000202f, fmt: "AMO", ext: "A" },
  { name: "amoand.w", mask: AMO_M, match: 0x6000202f, fmt: "AMO", ext: "A" },
  { name: "amoor.w", mask: AMO_M, match: 0x4000202f, fmt: "AMO", ext: "A" },
  { name: "amomin.w", mask: AMO_M, match: 0x8000202f, fmt: "AMO", ext: "A" },
  { name: "amomax.w", mask: AMO_M, match: 0xa000202f, fmt: "AMO", ext: "A" },
  { name: "amominu.w", mask: AMO_M, match: 0xc000202f, fmt: "AMO", ext: "A" },
  { name: "amomaxu.w", mask: AMO_M, match: 0xe000202f, fmt: "AMO", ext: "A" },
  { name: "lr.d", mask: LR_M, match: 0x1000302f, fmt: "LR", ext: "A64" },
  { name: "sc.d", mask: AMO_M, match: 0x1800302f, fmt: "AMO", ext: "A64" },
  { name: "amoswap.d", mask: AMO_M, match: 0x0800302f, fmt: "AMO", ext: "A64" },
  { name: "amoadd.d", mask: AMO_M, match: 0x0000302f, fmt: "AMO", ext: "A64" },
  { name: "amoxor.d", mask: AMO_M, match: 0x2000302f, fmt: "AMO", ext: "A64" },
  { name: "amoand.d", mask: AMO_M, match: 0x6000302f, fmt: "AMO", ext: "A64" },
  { name: "amoor.d", mask: AMO_M, match: 0x4000302f, fmt: "AMO", ext: "A64" },
  { name: "amomin.d", mask: AMO_M, match: 0x8000302f, fmt: "AMO", ext: "A64" },
  { name: "amomax.d", mask: AMO_M, match: 0xa000302f, fmt: "AMO", ext: "A64" },
  { name: "amominu.d", mask: AMO_M, match: 0xc000302f, fmt: "AMO", ext: "A64" },
  { name: "amomaxu.d", mask: AMO_M, match: 0xe000302f, fmt: "AMO", ext: "A64" },

  // Privileged (privileged spec 1.12 §3.3.2, §3.3.3, §4.2.1)
  { name: "mret", mask: FULL, match: 0x30200073, fmt: "NONE", ext: "Priv" },
  { name: "sret", mask: FULL, match: 0x10200073, fmt: "NONE", ext: "Priv" },
  { name: "wfi", mask: FULL, match: 0x10500073, fmt: "NONE", ext: "Priv" },
  { name: "sfence.vma", mask: 0xfe007fff, match: 0x12000073, fmt: "R", ext: "Priv" },

  // F and D (unprivileged ch. 11, 12): single then double precision
  { name: "flw", mask: 0x0000707f, match: 0x00002007, fmt: "FLOAD", ext: "F" },
  { name: "fsw", mask: 0x0000707f, match: 0x00002027, fmt: "FSTORE", ext: "F" },
  { name: "fmadd.s", mask: 0x0600007f, match: 0x00000043, fmt: "FR4", ext: "F" },
  { name: "fmsub.s", mask: 0x0600007f, match: 0x00000047, fmt: "FR4", ext: "F" },
  { name: "fnmsub.s", mask: 0x0600007f, match: 0x0000004b, fmt: "FR4", ext: "F" },
  { name: "fnmadd.s", mask: 0x0600007f, match: 0x0000004f, fmt: "FR4", ext: "F" },
  { name: "fadd.s", mask: 0xfe00007f, match: 0x00000053, fmt: "FR_RM", ext: "F" },
  { name: "fsub.s", mask: 0xfe00007f, match: 0x08000053, fmt: "FR_RM", ext: "F" },
  { name: "fmul.s", mask: 0xfe00007f, match: 0x10000053, fmt: "FR_RM", ext: "F" },
  { name: "fdiv.s", mask: 0xfe00007f, match: 0x18000053, fmt: "FR_RM", ext: "F" },
  { name: "fsqrt.s", mask: 0xfff0007f, match: 0x58000053, fmt: "FR1_RM", ext: "F" },
  { name: "fsgnj.s", mask: 0xfe00707f, match: 0x20000053, fmt: "FR", ext: "F" },
  { name: "fsgnjn.s", mask: 0xfe00707f, match: 0x20001053, fmt: "FR", ext: "F" },
  { name: "fsgnjx.s", mask: 0xfe00707f, match: 0x20002053, fmt: "FR", ext: "F" },
  { name: "fmin.s", mask: 0xfe00707f, match: 0x28000053, fmt: "FR", ext: "F" },
  { name: "fmax.s", mask: 0xfe00707f, match: 0x28001053, fmt: "FR", ext: "F" },
  { name: "fcvt.s.d", mask: 0xfff0007f, match: 0x40100053, fmt: "FR1_RM", ext: "D" },
  { name: "feq.s", mask: 0xfe00707f, match: 0xa0002053, fmt: "FCMP", ext: "F" },
  { name: "flt.s", mask: 0xfe00707f, match: 0xa0001053, fmt: "FCMP", ext: "F" },
  { name: "fle.s", mask: 0xfe00707f, match: 0xa0000053, fmt: "FCMP", ext: "F" },
  { name: "fclass.s", mask: 0xfff0707f, match: 0xe0001053, fmt: "FCLASS", ext: "F" },
  { name: "fcvt.w.s", mask: 0xfff0007f, match: 0xc0000053, fmt: "FCVT_XF", ext: "F" },
  { name: "fcvt.wu.s", mask: 0xfff0007f, match: 0xc0100053, fmt: "FCVT_XF", ext: "F" },
  { name: "fcvt.l.s", mask: 0xfff0007f, match: 0xc0200053, fmt: "FCVT_XF", ext: "F64" },
  { name: "fcvt.lu.s", mask: 0xfff0007f, match: 0xc0300053, fmt: "FCVT_XF", ext: "F64" },
  { name: "fcvt.s.w", mask: 0xfff0007f, match: 0xd0000053, fmt: "FCVT_FX", ext: "F" },
  { name: "fcvt.s.wu", mask: 0xfff0007f, match: 0xd0100053, fmt: "FCVT_FX", ext: "F" },
  { name: "fcvt.s.l", mask: 0xfff0007f, match: 0xd0200053, fmt: "FCVT_FX", ext: "F64" },
  { name: "fcvt.s.lu", mask: 0xfff0007f, match: 0xd0300053, fmt: "FCVT_FX", ext: "F64" },
  { name: "fmv.x.w", mask: 0xfff0707f, match: 0xe0000053, fmt: "FMV_XF", ext: "F" },
  { name: "fmv.w.x", mask: 0xfff0707f, match: 0xf0000053, fmt: "FMV_FX", ext: "F" },
  { name: "fld", mask: 0x0000707f, match: 0x00003007, fmt: "FLOAD", ext: "D" },
  { name: "fsd", mask: 0x0000707f, match: 0x00003027, fmt: "FSTORE", ext: "D" },
  { name: "fmadd.d", mask: 0x0600007f, match: 0x02000043, fmt: "FR4", ext: "D" },
  { name: "fmsub.d", mask: 0x0600007f, match: 0x02000047, fmt: "FR4", ext: "D" },
  { name: "fnmsub.d", mask: 0x0600007f, match: 0x0200004b, fmt: "FR4", ext: "D" },
  { name: "fnmadd.d", mask: 0x0600007f, match: 0x0200004f, fmt: "FR4", ext: "D" },
  { name: "fadd.d", mask: 0xfe00007f, match: 0x02000053, fmt: "FR_RM", ext: "D" },
  { name: "fsub.d", mask: 0xfe00007f, match: 0x0a000053, fmt: "FR_RM", ext: "D" },
  { name: "fmul.d", mask: 0xfe00007f, match: 0x12000053, fmt: "FR_RM", ext: "D" },
  { name: "fdiv.d", mask: 0xfe00007f, match: 0x1a000053, fmt: "FR_RM", ext: "D" },
  { name: "fsqrt.d", mask: 0xfff0007f, match: 0x5a000053, fmt: "FR1_RM", ext: "D" },
  { name: "fsgnj.d", mask: 0xfe00707f, match: 0x22000053, fmt: "FR", ext: "D" },
  { name: "fsgnjn.d", mask: 0xfe00707f, match: 0x22001053, fmt: "FR", ext: "D" },
  { name: "fsgnjx.d", mask: 0xfe00707f, match: 0x22002053, fmt: "FR", ext: "D" },
  { name: "fmin.d", mask: 0xfe00707f, match: 0x2a000053, fmt: "FR", ext: "D" },
  { name: "fmax.d", mask: 0xfe00707f, match: 0x2a001053, fmt: "FR", ext: "D" },
  { name: "fcvt.d.s", mask: 0xfff0007f, match: 0x42000053, fmt: "FR1_RM", ext: "D" },
  { name: "feq.d", mask: 0xfe00707f, match: 0xa2002053, fmt: "FCMP", ext: "D" },
  { name: "flt.d", mask: 0xfe00707f, match: 0xa2001053, fmt: "FCMP", ext: "D" },
  { name: "fle.d", mask: 0xfe00707f, match: 0xa2000053, fmt: "FCMP", ext: "D" },
  { name: "fclass.d", mask: 0xfff0707f, match: 0xe2001053, fmt: "FCLASS", ext: "D" },
  { name: "fcvt.w.d", mask: 0xfff0007f, match: 0xc2000053, fmt: "FCVT_XF", ext: "D" },
  { name: "fcvt.wu.d", mask: 0xfff0007f, match: 0xc2100053, fmt: "FCVT_XF", ext: "D" },
  { name: "fcvt.l.d", mask: 0xfff0007f, match: 0xc2200053, fmt: "FCVT_XF", ext: "D64" },
  { name: "fcvt.lu.d", mask: 0xfff0007f, match: 0xc2300053, fmt: "FCVT_XF", ext: "D64" },
  { name: "fcvt.d.w", mask: 0xfff0007f, match: 0xd2000053, fmt: "FCVT_FX", ext: "D" },
  { name: "fcvt.d.wu", mask: 0xfff0007f, match: 0xd2100053, fmt: "FCVT_FX", ext: "D" },
  { name: "fcvt.d.l", mask: 0xfff0007f, match: 0xd2200053, fmt: "FCVT_FX", ext: "D64" },
  { name: "fcvt.d.lu", mask: 0xfff0007f, match: 0xd2300053, fmt: "FCVT_FX", ext: "D64" },
  { name: "fmv.x.d", mask: 0xfff0707f, match: 0xe2000053, fmt: "FMV_XF", ext: "D64" },
  { name: "fmv.d.x", mask: 0xfff0707f, match: 0xf2000053, fmt: "FMV_FX", ext: "D64" },
];

// Compressed masks: opcode (bits 1:0) + funct3 (15:13), plus the extra fields some instructions fix.
const CQ = 0xe003;
const CQ_RD0 = 0xef83; // funct3 + rd field = x2 (c.addi16sp)
const CA_M = 0xfc63; // funct6 + funct2
const CB2_M = 0xec03; // funct3 + funct2 (bits 11:10) for c.srli/c.srai/c.andi
const CR_M = 0xf003; // funct4
const CR_RS2 = 0xf07f; // funct4 + rs2 = 0
const CR_FULL = 0xffff;

/** Every RV64C instruction, RVD forms included (unprivileged spec ch. 16, tables 16.5–16.7, RV64 column). */
export const CINSNS: readonly CompressedSpec[] = [
  // Quadrant 0
  { name: "c.addi4spn", mask: CQ, match: 0x0000, fmt: "CIW_ADDI4SPN", ext: "C", expands: "addi" },
  { name: "c.fld", mask: CQ, match: 0x2000, fmt: "CL_D", ext: "C", expands: "fld" },
  { name: "c.lw", mask: CQ, match: 0x4000, fmt: "CL_W", ext: "C", expands: "lw" },
  { name: "c.ld", mask: CQ, match: 0x6000, fmt: "CL_D", ext: "C", expands: "ld" },
  { name: "c.fsd", mask: CQ, match: 0xa000, fmt: "CS_D", ext: "C", expands: "fsd" },
  { name: "c.sw", mask: CQ, match: 0xc000, fmt: "CS_W", ext: "C", expands: "sw" },
  { name: "c.sd", mask: CQ, match: 0xe000, fmt: "CS_D", ext: "C", expands: "sd" },
  // Quadrant 1
  { name: "c.nop", mask: 0xef83, match: 0x0001, fmt: "CI_NOP", ext: "C", expands: "addi" },
  { name: "c.addi", mask: CQ, match: 0x0001, fmt: "CI_ADDI", ext: "C", expands: "addi" },
  { name: "c.addiw", mask: CQ, match: 0x2001, fmt: "CI_ADDIW", ext: "C", expands: "addiw" },
  { name: "c.li", mask: CQ, match: 0x4001, fmt: "CI_LI", ext: "C", expands: "addi" },
  { name: "c.addi16sp", mask: CQ_RD0, match: 0x6101, fmt: "CI_ADDI16SP", ext: "C", expands: "addi" },
  { name: "c.lui", mask: CQ, match: 0x6001, fmt: "CI_LUI", ext: "C", expands: "lui" },
  { name: "c.srli", mask: CB2_M, match: 0x8001, fmt: "CB_SHIFT", ext: "C", expands: "srli" },
  { name: "c.srai", mask: CB2_M, match: 0x8401, fmt: "CB_SHIFT", ext: "C", expands: "srai" },
  { name: "c.andi", mask: CB2_M, match: 0x8801, fmt: "CB_ANDI", ext: "C", expands: "andi" },
  { name: "c.sub", mask: CA_M, match: 0x8c01, fmt: "CA", ext: "C", expands: "sub" },
  { name: "c.xor", mask: CA_M, match: 0x8c21, fmt: "CA", ext: "C", expands: "xor" },
  { name: "c.or", mask: CA_M, match: 0x8c41, fmt: "CA", ext: "C", expands: "or" },
  { name: "c.and", mask: CA_M, match: 0x8c61, fmt: "CA", ext: "C", expands: "and" },
  { name: "c.subw", mask: CA_M, match: 0x9c01, fmt: "CA", ext: "C", expands: "subw" },
  { name: "c.addw", mask: CA_M, match: 0x9c21, fmt: "CA", ext: "C", expands: "addw" },
  { name: "c.j", mask: CQ, match: 0xa001, fmt: "CJ", ext: "C", expands: "jal" },
  { name: "c.beqz", mask: CQ, match: 0xc001, fmt: "CB_BRANCH", ext: "C", expands: "beq" },
  { name: "c.bnez", mask: CQ, match: 0xe001, fmt: "CB_BRANCH", ext: "C", expands: "bne" },
  // Quadrant 2
  { name: "c.slli", mask: CQ, match: 0x0002, fmt: "CI_SLLI", ext: "C", expands: "slli" },
  { name: "c.fldsp", mask: CQ, match: 0x2002, fmt: "CI_LDSP", ext: "C", expands: "fld" },
  { name: "c.lwsp", mask: CQ, match: 0x4002, fmt: "CI_LWSP", ext: "C", expands: "lw" },
  { name: "c.ldsp", mask: CQ, match: 0x6002, fmt: "CI_LDSP", ext: "C", expands: "ld" },
  { name: "c.ebreak", mask: CR_FULL, match: 0x9002, fmt: "CR_EBREAK", ext: "C", expands: "ebreak" },
  { name: "c.jr", mask: CR_RS2, match: 0x8002, fmt: "CR_JR", ext: "C", expands: "jalr" },
  { name: "c.jalr", mask: CR_RS2, match: 0x9002, fmt: "CR_JALR", ext: "C", expands: "jalr" },
  { name: "c.mv", mask: CR_M, match: 0x8002, fmt: "CR_MV", ext: "C", expands: "add" },
  { name: "c.add", mask: CR_M, match: 0x9002, fmt: "CR_ADD", ext: "C", expands: "add" },
  { name: "c.fsdsp", mask: CQ, match: 0xa002, fmt: "CSS_SDSP", ext: "C", expands: "fsd" },
  { name: "c.swsp", mask: CQ, match: 0xc002, fmt: "CSS_SWSP", ext: "C", expands: "sw" },
  { name: "c.sdsp", mask: CQ, match: 0xe002, fmt: "CSS_SDSP", ext: "C", expands: "sd" },
];
