/**
 * Disassembler: exactly the text GNU objdump 2.40 (`objdump -d`, default options) prints for an RV64IMAC + Zicsr +
 * Zifencei + F + D + privileged instruction, as objdump prints it for an rv64gc object. Operands come from the table's
 * `fmt`; an alias layer, in the order of binutils' opcodes/riscv-opc.c (where the first matching entry wins), picks
 * the pseudo-instruction objdump prints instead. Checked line by line against objdump by tests/isa/objdump.test.ts.
 * Leaves out encodings longer than 32 bits, which objdump would read as one 6- or 8-byte unknown and popek as 4-byte
 * words.
 */
import { compressedSpec, type Decoded, immB, immI, immJ, immS, immU, opSpec, rdOf, rs1Of, rs2Of } from "./decode.ts";
import { type Format, INSNS } from "./table.ts";

/** Names an address for the `<sym+off>` objdump prints after branch targets and `# addr` comments. */
export type SymbolLookup = (addr: bigint) => string | undefined;

export interface DisasmOptions {
  /** Symbol decoration; without it addresses print as bare hex, as objdump does where it has no symbol. */
  readonly symbol?: SymbolLookup;
  /** objdump's memory of lui/auipc results across instructions; without it each call starts afresh. */
  readonly context?: DisasmContext;
  /**
   * Privileged spec whose CSR names to use. objdump takes it from the ELF attribute `Tag_RISCV_priv_spec`, which
   * Debian's gcc 12 / gas 2.40 set to 1.11 (the default here); with no attribute objdump uses 1.12.
   */
  readonly privSpec?: "1.11" | "1.12";
}

/**
 * What objdump remembers between instructions (binutils riscv-dis.c `riscv_private_data`): the value a `lui` or
 * `auipc` left in each register, consumed by the next addi/load/store/jalr on that register, which then prints the
 * address it forms as a `# addr` comment.
 */
export class DisasmContext {
  /** Value last set by lui/auipc (objdump's `hi_addr`), undefined once consumed or never set. */
  readonly hiAddr: (bigint | undefined)[];
  /** The global pointer, when known (objdump takes it from the symbol `__global_pointer$`). */
  gp: bigint | undefined;

  constructor(gp?: bigint) {
    this.hiAddr = new Array<bigint | undefined>(32).fill(undefined);
    this.gp = gp;
  }
}

/** ABI register names, as objdump prints them (riscv_gpr_names_abi). */
// biome-ignore format: two rows of sixteen registers
export const ABI_NAMES: readonly string[] = [
  "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
  "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
];

/** ABI names of the floating-point registers (riscv_fpr_names_abi). */
// biome-ignore format: two rows of sixteen registers
export const FPR_ABI_NAMES: readonly string[] = [
  "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
  "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
];

/** Rounding-mode operand names (riscv_rm); 5 and 6 are reserved and print as "unknown". */
const RM_NAMES = ["rne", "rtz", "rdn", "rup", "rmm", "unknown", "unknown", "dyn"];

// ---- CSR names (binutils include/opcode/riscv-opc.h DECLARE_CSR, as objdump 2.40 resolves them) ----

/** CSRs objdump names under every privileged spec, "number name" pairs; numbered families are added below. */
const CSR_LIST = `
  1 fflags 2 frm 3 fcsr 8 vstart 9 vxsat a vxrm f vcsr 15 seed
  100 sstatus 104 sie 105 stvec 106 scounteren 10c sstateen0 10d sstateen1 10e sstateen2 10f sstateen3 114 sieh
  140 sscratch 141 sepc 142 scause 143 stval 144 sip 14d stimecmp 150 siselect 151 sireg 154 siph 15c stopei
  15d stimecmph 180 satp 200 vsstatus 204 vsie 205 vstvec 214 vsieh 240 vsscratch 241 vsepc 242 vscause 243 vstval
  244 vsip 24d vstimecmp 250 vsiselect 251 vsireg 254 vsiph 25c vstopei 25d vstimecmph 280 vsatp
  300 mstatus 301 misa 302 medeleg 303 mideleg 304 mie 305 mtvec 306 mcounteren 308 mvien 309 mvip
  30c mstateen0 30d mstateen1 30e mstateen2 30f mstateen3 313 midelegh 314 mieh 318 mvienh 319 mviph
  31c mstateen0h 31d mstateen1h 31e mstateen2h 31f mstateen3h 320 mcountinhibit 340 mscratch 341 mepc 342 mcause
  343 mtval 344 mip 350 miselect 351 mireg 354 miph 35c mtopei 5a8 scontext
  600 hstatus 602 hedeleg 603 hideleg 604 hie 605 htimedelta 606 hcounteren 607 hgeie 608 hvien 609 hvictl
  60a henvcfg 60c hstateen0 60d hstateen1 60e hstateen2 60f hstateen3 613 hidelegh 615 htimedeltah 618 hvienh
  61a henvcfgh 61c hstateen0h 61d hstateen1h 61e hstateen2h 61f hstateen3h 643 htval 644 hip 645 hvip 646 hviprio1
  647 hviprio2 64a htinst 655 hviph 656 hviprio1h 657 hviprio2h 680 hgatp 6a8 hcontext
  7a0 tselect 7a1 tdata1 7a2 tdata2 7a3 tdata3 7a4 tinfo 7a5 tcontrol 7a8 mcontext 7aa mscontext
  7b0 dcsr 7b1 dpc 7b2 dscratch0 7b3 dscratch1 b00 mcycle b02 minstret b80 mcycleh b82 minstreth
  c00 cycle c01 time c02 instret c20 vl c21 vtype c22 vlenb c80 cycleh c81 timeh c82 instreth
  da0 scountovf db0 stopi e12 hgeip eb0 vstopi f11 mvendorid f12 marchid f13 mimpid f14 mhartid fb0 mtopi`;

/** Named only before privileged spec 1.12 (the N extension's user trap CSRs, sedeleg/sideleg). */
const CSR_LIST_1_11 = "0 ustatus 4 uie 5 utvec 40 uscratch 41 uepc 42 ucause 43 utval 44 uip 102 sedeleg 103 sideleg";

/** Named from privileged spec 1.12 on (pmpcfg4–15 and pmpaddr16–63 are added below). */
const CSR_LIST_1_12 = `10a senvcfg 30a menvcfg 310 mstatush 31a menvcfgh 34a mtinst 34b mtval2 747 mseccfg 757 mseccfgh
  f15 mconfigptr`;

function csrTable(spec: "1.11" | "1.12"): readonly (string | undefined)[] {
  const t = new Array<string | undefined>(4096).fill(undefined);
  const add = (list: string): void => {
    const w = list.trim().split(/\s+/);
    for (let i = 0; i < w.length; i += 2) t[Number.parseInt(w[i]!, 16)] = w[i + 1]!;
  };
  add(CSR_LIST);
  add(spec === "1.11" ? CSR_LIST_1_11 : CSR_LIST_1_12);
  const pmp = spec === "1.11" ? 4 : 16;
  for (let i = 0; i < pmp; i++) t[0x3a0 + i] = `pmpcfg${i}`;
  for (let i = 0; i < pmp * 4; i++) t[0x3b0 + i] = `pmpaddr${i}`;
  for (let i = 3; i < 32; i++) {
    t[0x320 + i] = `mhpmevent${i}`;
    t[0x720 + i] = `mhpmevent${i}h`;
    t[0xb00 + i] = `mhpmcounter${i}`;
    t[0xb80 + i] = `mhpmcounter${i}h`;
    t[0xc00 + i] = `hpmcounter${i}`;
    t[0xc80 + i] = `hpmcounter${i}h`;
  }
  return t;
}

const CSR_NAMES = { "1.11": csrTable("1.11"), "1.12": csrTable("1.12") };

/** The name objdump prints for a CSR number, or its hex form (`0x7c0`) when it has none. */
export function csrText(csr: number, privSpec: "1.11" | "1.12" = "1.11"): string {
  return CSR_NAMES[privSpec][csr] ?? `0x${csr.toString(16)}`;
}

// ---- Operand strings ----
//
// Operands are written in objdump's own letters (riscv-dis.c print_insn_args), so each alias below reads like the
// riscv-opc.c entry it mirrors: d rd, s rs1, t rs2, j I-immediate, o load offset, q store offset, p branch target,
// a jump target, u U-immediate >> 12 in hex, > 6-bit shamt, < 5-bit shamt, E CSR, Z rs1 as uimm5, P/Q fence
// predecessor/successor, 0 an implicit zero offset (printed only when last), D/S/T/R frd/frs1/frs2/frs3, m the
// rounding mode (a trailing ",m" is dropped for the dynamic mode: riscv-opc.c lists each such instruction first
// without the operand, with MASK_RM, so objdump prints rm only when it is static). Other characters print as
// themselves.

/** The operands each format prints when no alias applies. */
const FMT_ARGS: Readonly<Record<Format, string>> = {
  R: "d,s,t",
  I: "d,s,j",
  LOAD: "d,o(s)",
  S: "t,q(s)",
  B: "s,t,p",
  U: "d,u",
  J: "d,a",
  JALR: "d,o(s)",
  SH6: "d,s,>",
  SH5: "d,s,<",
  CSR: "d,E,s",
  CSRI: "d,E,Z",
  AMO: "d,t,0(s)",
  LR: "d,0(s)",
  FENCE: "P,Q",
  NONE: "",
  FLOAD: "D,o(s)",
  FSTORE: "T,q(s)",
  FR_RM: "D,S,T,m",
  FR: "D,S,T",
  FR4: "D,S,T,R,m",
  FR1_RM: "D,S,m",
  FCMP: "d,S,T",
  FCLASS: "d,S",
  FCVT_XF: "d,S,m",
  FCVT_FX: "D,s,m",
  FMV_XF: "d,S",
  FMV_FX: "D,s",
};

/** FENCE predecessor/successor sets (riscv_pred_succ); objdump prints "unknown" for the empty set. */
const PRED_SUCC = "unknown w r rw o ow or orw i iw ir irw io iow ior iorw".split(" ");

/** aq/rl suffixes of LR, SC and AMOs, indexed by instruction bits 26:25. */
const AQRL = ["", ".rl", ".aq", ".aqrl"];

// ---- The alias layer ----

/**
 * One riscv-opc.c entry that prints an instruction differently from its table name and format. It applies when
 * `(word & mask) === match`; `name: null` marks encodings popek accepts but objdump has no entry for (printed as
 * `.4byte`, like any unknown word).
 */
interface Alias {
  readonly mask: number;
  readonly match: number;
  readonly name: string | null;
  readonly args: string;
  /** A further condition mask/match cannot state (riscv-opc.c's match_rs1_eq_rs2). */
  readonly when: ((w: number) => boolean) | undefined;
}

const FULL = 0xffffffff;
const RD0 = 0x00000f80; // rd = 0
const RS10 = 0x000f8000; // rs1 = 0
const RS20 = 0x01f00000; // rs2 = 0
const IMM0 = 0xfff00000; // imm12 = 0
const ANY = 0; // with match 0: always

const RM = 0x00007000; // rounding mode = 0
const a = (mask: number, match: number, name: string | null, args = ""): Alias => ({
  mask,
  match,
  name,
  args,
  when: undefined,
});
const rs1EqRs2 = (w: number): boolean => rs1Of(w) === rs2Of(w);
/** fsgnj with rs1 = rs2: fmv/fneg/fabs. */
const sameSource = (name: string): Alias => ({ mask: ANY, match: 0, name, args: "D,S", when: rs1EqRs2 });
/** Conversions that cannot round: riscv-opc.c gives them no rm operand and requires rm = 0. */
const exact = (name: string, args: string): Alias[] => [a(RM, 0, name, args), a(ANY, 0, null)];

/**
 * Aliases by base instruction, each list in riscv-opc.c order. Only entries that can win are listed: an entry is
 * left out when an earlier one with the same encoding always matches first (so `ble`, `bgt`, `slli`, `csrrwi`…
 * are never printed) or when its extension is not in the objects compared (Zbb `sext.b`, Zihintpause `pause`).
 * binutils 2.40 lists the old immediate forms of `add`, `and`, `or`, `xor`, `sll`, `srl`, `sra` and `addw`, `sllw`…
 * before addi, andi… themselves, so objdump prints `add sp,sp,-16` where the spec writes addi.
 */
const ALIASES: Readonly<Record<string, readonly Alias[]>> = {
  addi: [a(FULL, 0x00000013, "nop"), a(RS10, 0, "li", "d,j"), a(IMM0, 0, "mv", "d,s"), a(ANY, 0, "add", "d,s,j")],
  sltiu: [a(IMM0, 0x00100000, "seqz", "d,s")],
  xori: [a(IMM0, 0xfff00000, "not", "d,s"), a(ANY, 0, "xor", "d,s,j")],
  ori: [a(ANY, 0, "or", "d,s,j")],
  andi: [a(IMM0, 0x0ff00000, "zext.b", "d,s"), a(ANY, 0, "and", "d,s,j")],
  slli: [a(ANY, 0, "sll", "d,s,>")],
  srli: [a(ANY, 0, "srl", "d,s,>")],
  srai: [a(ANY, 0, "sra", "d,s,>")],
  addiw: [a(IMM0, 0, "sext.w", "d,s"), a(ANY, 0, "addw", "d,s,j")],
  slliw: [a(ANY, 0, "sllw", "d,s,<")],
  srliw: [a(ANY, 0, "srlw", "d,s,<")],
  sraiw: [a(ANY, 0, "sraw", "d,s,<")],
  sub: [a(RS10, 0, "neg", "d,t")],
  subw: [a(RS10, 0, "negw", "d,t")],
  slt: [a(RS20, 0, "sltz", "d,s"), a(RS10, 0, "sgtz", "d,t")],
  sltu: [a(RS10, 0, "snez", "d,t")],
  beq: [a(RS20, 0, "beqz", "s,p")],
  bne: [a(RS20, 0, "bnez", "s,p")],
  blt: [a(RS20, 0, "bltz", "s,p"), a(RS10, 0, "bgtz", "t,p")],
  bge: [a(RS10, 0, "blez", "t,p"), a(RS20, 0, "bgez", "s,p")],
  jal: [a(RD0, 0, "j", "a"), a(RD0, 0x80, "jal", "a")],
  jalr: [
    a(FULL, 0x00008067, "ret"),
    a(RD0 | IMM0, 0, "jr", "s"),
    a(RD0, 0, "jr", "o(s)"),
    a(RD0 | IMM0, 0x80, "jalr", "s"),
    a(RD0, 0x80, "jalr", "o(s)"),
    a(IMM0, 0, "jalr", "d,s"),
  ],
  // objdump knows only fm=0 fences with rd = rs1 = 0, besides fence.tso and the plain `fence` (iorw,iorw).
  fence: [a(FULL, 0x0ff0000f, "fence"), a(0xf00fffff, 0x0000000f, "fence", "P,Q"), a(ANY, 0, null)],
  "fence.tso": [a(FULL, 0x8330000f, "fence.tso"), a(ANY, 0, null)],
  "fence.i": [a(FULL, 0x0000100f, "fence.i"), a(ANY, 0, null)],
  // `unimp` is csrrw zero, cycle, zero (a write to a read-only CSR, so guaranteed to trap).
  // The F-extension CSR aliases come before the generic csr* ones in riscv-opc.c.
  csrrw: [
    a(FULL, 0xc0001073, "unimp"),
    a(IMM0 | RD0, 0x00300000, "fscsr", "s"),
    a(IMM0, 0x00300000, "fscsr", "d,s"),
    a(IMM0 | RD0, 0x00200000, "fsrm", "s"),
    a(IMM0, 0x00200000, "fsrm", "d,s"),
    a(IMM0 | RD0, 0x00100000, "fsflags", "s"),
    a(IMM0, 0x00100000, "fsflags", "d,s"),
    a(RD0, 0, "csrw", "E,s"),
  ],
  csrrs: [
    a(IMM0 | RS10, 0x00300000, "frcsr", "d"),
    a(IMM0 | RS10, 0x00200000, "frrm", "d"),
    a(IMM0 | RS10, 0x00100000, "frflags", "d"),
    a(IMM0 | RS10, 0xc0000000, "rdcycle", "d"),
    a(IMM0 | RS10, 0xc0200000, "rdinstret", "d"),
    a(IMM0 | RS10, 0xc0100000, "rdtime", "d"),
    a(RS10, 0, "csrr", "d,E"),
    a(RD0, 0, "csrs", "E,s"),
  ],
  csrrc: [a(RD0, 0, "csrc", "E,s")],
  csrrwi: [
    a(IMM0, 0x00200000, "fsrmi", "d,Z"),
    a(IMM0, 0x00100000, "fsflagsi", "d,Z"),
    a(RD0, 0, "csrw", "E,Z"),
    a(ANY, 0, "csrrw", "d,E,Z"),
  ],
  csrrsi: [a(RD0, 0, "csrs", "E,Z"), a(ANY, 0, "csrrs", "d,E,Z")],
  csrrci: [a(RD0, 0, "csrc", "E,Z"), a(ANY, 0, "csrrc", "d,E,Z")],
  // The table gives sfence.vma format R for its fields; it has no rd operand to print.
  "sfence.vma": [a(FULL, 0x12000073, "sfence.vma"), a(RS20, 0, "sfence.vma", "s"), a(ANY, 0, "sfence.vma", "s,t")],
  "fsgnj.s": [sameSource("fmv.s")],
  "fsgnjn.s": [sameSource("fneg.s")],
  "fsgnjx.s": [sameSource("fabs.s")],
  "fsgnj.d": [sameSource("fmv.d")],
  "fsgnjn.d": [sameSource("fneg.d")],
  "fsgnjx.d": [sameSource("fabs.d")],
  "fcvt.d.s": exact("fcvt.d.s", "D,S"),
  "fcvt.d.w": exact("fcvt.d.w", "D,s"),
  "fcvt.d.wu": exact("fcvt.d.wu", "D,s"),
};

/**
 * Words popek does not execute (its decoder returns op 0) that objdump still names: N-extension `uret`, the
 * withdrawn `hret` and `sfence.vm` (privileged spec 1.9), and debug-mode `dret`.
 */
const OBJDUMP_ONLY: readonly Alias[] = [
  a(FULL, 0x00200073, "uret"),
  a(FULL, 0x20200073, "hret"),
  a(FULL, 0x7b200073, "dret"),
  a(FULL, 0x10400073, "sfence.vm"),
  a(0xfff07fff, 0x10400073, "sfence.vm", "s"),
];

/** Aliases indexed by op id. */
const aliasesByOp: (readonly Alias[])[] = [[]];
for (const s of INSNS) aliasesByOp.push(ALIASES[s.name] ?? []);
for (const name of Object.keys(ALIASES)) {
  if (!INSNS.some((s) => s.name === name)) throw new Error(`disasm: aliases for ${name}, which the table lacks`);
}

/**
 * Compressed encodings objdump prints differently from the 32-bit instruction they expand to: HINTs (spec §16.7),
 * which it names `c.*`, and a few forms whose alias differs from the expansion's. `args` are read from `word` when
 * given (for encodings the decoder rejects), otherwise from the expansion.
 */
interface CompressedAlias {
  readonly of: string;
  readonly when: (h: number) => boolean;
  readonly name: string;
  readonly args: string;
  readonly word?: number;
}

const cRd = (h: number): number => (h >>> 7) & 31;
/** The 6-bit immediate or shift amount of CI/CB formats, bits 12 and 6:2, unsigned. */
const cImm6 = (h: number): number => ((h >>> 7) & 0x20) | ((h >>> 2) & 0x1f);
const always = (): boolean => true;
const rdZero = (h: number): boolean => cRd(h) === 0;
const immZero = (h: number): boolean => cImm6(h) === 0;

const C_ALIASES: readonly CompressedAlias[] = [
  { of: "c.addi4spn", when: (h) => h === 0, name: "unimp", args: "" },
  { of: "c.nop", when: (h) => h !== 0x0001, name: "c.nop", args: "j" },
  { of: "c.addi", when: immZero, name: "add", args: "d,s,j" }, // not `mv`: the C entry has no imm=0 special case
  { of: "c.li", when: rdZero, name: "c.li", args: "d,j" },
  { of: "c.lui", when: (h) => rdZero(h) && !immZero(h), name: "c.lui", args: "d,u" },
  { of: "c.addi16sp", when: immZero, name: "add", args: "d,s,j", word: 0x00010113 }, // reserved; objdump accepts
  { of: "c.mv", when: rdZero, name: "c.mv", args: "d,t" },
  { of: "c.mv", when: always, name: "mv", args: "d,t" },
  { of: "c.add", when: rdZero, name: "c.add", args: "d,t" },
  { of: "c.slli", when: immZero, name: "c.slli64", args: "d" },
  { of: "c.slli", when: rdZero, name: "c.slli", args: "d,>" },
  { of: "c.srli", when: immZero, name: "c.srli64", args: "d" },
  { of: "c.srai", when: immZero, name: "c.srai64", args: "d" },
];

// ---- Printing ----

/**
 * Which operands consume remembered lui/auipc values. objdump does so for 32-bit addi/addiw/loads/stores/jalr, but
 * among compressed instructions only for c.addi and c.addiw; their other operand letters never look.
 */
const Track = { Full: 0, CAddi: 1, None: 2 } as const;
type Track = (typeof Track)[keyof typeof Track];

const MASK_OPF3 = 0x707f;
const isAddi = (w: number): boolean => (w & MASK_OPF3) === 0x0013;
const isAddiw = (w: number): boolean => (w & MASK_OPF3) === 0x001b;
const isJalr = (w: number): boolean => (w & MASK_OPF3) === 0x0067;

class Printer {
  readonly ctx: DisasmContext;
  readonly opts: DisasmOptions;
  /** The address of the pending `# addr` comment (riscv-dis.c print_addr / to_print_addr). */
  addr: bigint;
  printAddr: boolean;

  constructor(ctx: DisasmContext, opts: DisasmOptions) {
    this.ctx = ctx;
    this.opts = opts;
    this.addr = 0n;
    this.printAddr = false;
  }

  /** riscv-dis.c maybe_print_address: note the address `base + offset` forms if objdump knows `base`. */
  maybeAddress(base: number, offset: number, wide: boolean): void {
    const hi = this.ctx.hiAddr[base];
    if (hi !== undefined) {
      this.addr = (base !== 0 ? hi : 0n) + BigInt(offset);
      this.ctx.hiAddr[base] = undefined;
    } else if (base === 3 && this.ctx.gp !== undefined) this.addr = this.ctx.gp + BigInt(offset);
    else if (base === 4 || base === 0) this.addr = BigInt(offset);
    else return;
    this.printAddr = true;
    this.addr = wide ? BigInt.asUintN(64, BigInt.asIntN(32, this.addr)) : BigInt.asUintN(64, this.addr);
  }

  address(addr: bigint): string {
    const v = BigInt.asUintN(64, addr);
    const sym = this.opts.symbol?.(v);
    return sym === undefined ? v.toString(16) : `${v.toString(16)} <${sym}>`;
  }

  /** Print `args` (objdump operand letters) for `word` at `pc`. */
  operands(args: string, w: number, pc: bigint, track: Track): string {
    const rd = rdOf(w);
    const rs1 = rs1Of(w);
    let out = "";
    for (let i = 0; i < args.length; i++) {
      const c = args[i]!;
      switch (c) {
        case "d":
          if ((w & 0x7f) === 0x17) this.ctx.hiAddr[rd] = BigInt.asUintN(64, pc + BigInt(immU(w)));
          else if ((w & 0x7f) === 0x37) this.ctx.hiAddr[rd] = BigInt.asUintN(64, BigInt(immU(w)));
          out += ABI_NAMES[rd];
          break;
        case "s":
          if (track === Track.Full && isJalr(w)) this.maybeAddress(rs1, immI(w), false);
          out += ABI_NAMES[rs1];
          break;
        case "t":
          out += ABI_NAMES[rs2Of(w)];
          break;
        case "o":
        case "j":
          // A load offset is an address in its own right; then, as riscv-dis.c falls through from 'o' to 'j':
          if (c === "o" && track === Track.Full) this.maybeAddress(rs1, immI(w), false);
          if (track !== Track.None) {
            if ((isAddi(w) && rs1 !== 0) || (track === Track.Full && isJalr(w))) this.maybeAddress(rs1, immI(w), false);
            if (isAddiw(w) && rs1 !== 0) this.maybeAddress(rs1, immI(w), true);
          }
          out += immI(w);
          break;
        case "q":
          if (track === Track.Full) this.maybeAddress(rs1, immS(w), false);
          out += immS(w);
          break;
        case "p":
          out += this.address(pc + BigInt(immB(w)));
          break;
        case "a":
          out += this.address(pc + BigInt(immJ(w)));
          break;
        case "u":
          out += `0x${(immU(w) >>> 12).toString(16)}`;
          break;
        case ">":
          out += `0x${((w >>> 20) & 0x3f).toString(16)}`;
          break;
        case "<":
          out += `0x${((w >>> 20) & 0x1f).toString(16)}`;
          break;
        case "E":
          out += csrText(w >>> 20, this.opts.privSpec);
          break;
        case "Z":
          out += rs1;
          break;
        case "P":
          out += PRED_SUCC[(w >>> 24) & 15];
          break;
        case "Q":
          out += PRED_SUCC[(w >>> 20) & 15];
          break;
        case "0":
          if (i === args.length - 1) out += "0";
          break;
        case "D":
          out += FPR_ABI_NAMES[rd];
          break;
        case "S":
          out += FPR_ABI_NAMES[rs1];
          break;
        case "T":
          out += FPR_ABI_NAMES[rs2Of(w)];
          break;
        case "R":
          out += FPR_ABI_NAMES[w >>> 27];
          break;
        case "m":
          out += RM_NAMES[(w >>> 12) & 7];
          break;
        default:
          out += c;
      }
    }
    return out;
  }

  insn(name: string, args: string, w: number, pc: bigint, track: Track): string {
    let s = args === "" ? name : `${name}\t${this.operands(args, w, pc, track)}`;
    if (this.printAddr) {
      s += ` # ${this.address(this.addr)}`;
      this.printAddr = false;
    }
    return s;
  }
}

const unknown = (d: Decoded): string => `${d.len === 2 ? ".2byte" : ".4byte"}\t0x${d.bits.toString(16)}`;

/** The first alias in `list` that matches `w`, or undefined. */
function findAlias(list: readonly Alias[], w: number): Alias | undefined {
  for (const al of list) {
    if ((w & al.mask) >>> 0 === al.match >>> 0 && (al.when === undefined || al.when(w))) return al;
  }
  return undefined;
}

/** Mnemonic and operands of a 32-bit instruction word (or a compressed one's expansion) with op id `op`. */
function print32(p: Printer, op: number, w: number, pc: bigint, track: Track, d: Decoded): string {
  const al = findAlias(aliasesByOp[op]!, w);
  if (al !== undefined) return al.name === null ? unknown(d) : p.insn(al.name, al.args, w, pc, track);
  const spec = opSpec(op);
  const name = spec.fmt === "AMO" || spec.fmt === "LR" ? spec.name + AQRL[(w >>> 25) & 3] : spec.name;
  let args = FMT_ARGS[spec.fmt];
  if (args.endsWith(",m") && ((w >>> 12) & 7) === 7) args = args.slice(0, -2);
  return p.insn(name, args, w, pc, track);
}

/**
 * The text objdump prints for the instruction `d` at `pc`: mnemonic, a tab, operands, and objdump's ` # addr`
 * comment where it has one. Branch and jump targets are absolute hex addresses followed by ` <sym>` when
 * `opts.symbol` names them. Words objdump does not know print as `.2byte 0x…` / `.4byte 0x…`.
 */
export function disassemble(d: Decoded, pc: bigint, opts: DisasmOptions = {}): string {
  const p = new Printer(opts.context ?? new DisasmContext(), opts);
  if (d.len === 2) {
    const cs = compressedSpec(d.bits);
    if (cs !== undefined) {
      for (const ca of C_ALIASES) {
        if (ca.of !== cs.name || !ca.when(d.bits)) continue;
        const w = ca.word ?? d.word;
        return p.insn(ca.name, ca.args, w, pc, ca.of === "c.addi" ? Track.CAddi : Track.None);
      }
    }
    if (d.op === 0 || cs === undefined) return unknown(d);
    const track = cs.name === "c.addi" || cs.name === "c.addiw" ? Track.CAddi : Track.None;
    return print32(p, d.op, d.word, pc, track, d);
  }
  if (d.op === 0) {
    const al = findAlias(OBJDUMP_ONLY, d.word);
    return al === undefined ? unknown(d) : p.insn(al.name!, al.args, d.word, pc, Track.Full);
  }
  return print32(p, d.op, d.word, pc, Track.Full, d);
}

/**
 * Width of objdump's address column for a section ending (exclusively) at `end`: the 16 hex digits of a 64-bit
 * address less the leading zeros, in steps of four, keeping at least one (binutils objdump.c disassemble_section).
 */
export function objdumpAddrWidth(end: bigint): number {
  const zeros = 16 - (end === 0n ? 0 : end.toString(16).length);
  return zeros === 0 ? 16 : 16 - ((zeros - 1) & ~3);
}

/**
 * One line of `objdump -d`: address, raw bits (one halfword or one word), the disassembly; e.g.
 * `   8:\t1141                \taddi\tsp,sp,-16`. `addrWidth` is the column width, see objdumpAddrWidth.
 */
export function objdumpLine(
  d: Decoded,
  pc: bigint,
  opts: DisasmOptions & { readonly addrWidth?: number } = {},
): string {
  const addr = pc.toString(16).padStart(opts.addrWidth ?? 4, " ");
  const raw =
    d.len === 2
      ? `${d.bits.toString(16).padStart(4, "0")}${" ".repeat(16)}`
      : `${d.bits.toString(16).padStart(8, "0")}${" ".repeat(10)}`;
  return `${addr}:\t${raw}\t${disassemble(d, pc, opts)}`;
}
