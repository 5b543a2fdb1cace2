/**
 * One RV64IMAC hart: the interpreter loop, its decode cache, loads and stores, LR/SC and AMOs, traps (privileged
 * spec 1.12 §3.1.6, §3.3) and the M-mode CSRs a bare-metal program uses. State lives at fixed offsets of the
 * machine's WebAssembly.Memory (cpu/layout.ts). Guest faults are values: a faulting instruction redirects pc to the
 * trap vector and the loop goes on. Not here yet: S/U modes, the MMU, interrupts from devices, F/D (issues 3, 4).
 *
 * Integer registers live in a BigInt64Array also viewed as an Int32Array (`xi[2r]` low word, `xi[2r+1]` high word),
 * so that most instructions are done on 32-bit halves and never allocate; only multiply and divide use BigInt
 * (STYLE.md rule 5, V8-FACTS.md).
 */
import { Cause } from "../isa/csr.ts";
import { decode, opSpec } from "../isa/decode.ts";
import { Op } from "../isa/ops.generated.ts";
import type { Bus } from "../mem/bus.ts";
import { Access, type AccessType } from "../mmu/access.ts";
import { Mmu } from "../mmu/mmu.ts";
import { tlbContext } from "../mmu/tlb.ts";
import {
  MIP_MEIP,
  MIP_MSIP,
  MIP_MTIP,
  MIP_SEIP,
  MIP_SSIP,
  MIP_STIP,
  MSTATUS_FS,
  MSTATUS_MIE,
  MSTATUS_MPIE,
  MSTATUS_MPP,
  MSTATUS_MPRV,
  MSTATUS_MXR,
  MSTATUS_SIE,
  MSTATUS_SPIE,
  MSTATUS_SPP,
  MSTATUS_SUM,
  MSTATUS_TSR,
  MSTATUS_TVM,
  MSTATUS_TW,
  MSTATUS_XLEN,
  readCsr,
  writeCsr,
} from "./csr-file.ts";
import { Fpu } from "./fpu.ts";
import {
  CSR_OFF,
  CsrSlot,
  F_OFF,
  hartBase,
  MAX_HARTS,
  PC_OFF,
  RAM_OFFSET,
  TLB_BASE,
  TLB_STRIDE,
  X_OFF,
  X_SINK,
} from "./layout.ts";

/** Why `run` returned. */
export const Exit = {
  /** The instruction budget ran out. */
  Budget: 0,
  /** A device asked the machine to stop (HTIF exit, syscon poweroff): see the machine for the reason. */
  Stop: 1,
  /** The hart executed `wfi` and nothing can wake it in this machine yet. */
  Wfi: 2,
} as const;

const MISA_A = 1n << 0n;
const MISA_C = 1n << 2n;
const MISA_D = 1n << 3n;
const MISA_F = 1n << 5n;
const MISA_I = 1n << 8n;
const MISA_M = 1n << 12n;
const MISA_S = 1n << 18n;
const MISA_U = 1n << 20n;

/** Page-flag bits: the page holds decoded instructions; stores to the page must call the store hook. */
const PAGE_CODE = 1;
const PAGE_HOOK = 2;

/**
 * Decode-cache slot: [packed, imm], packed = op | 2·rd << 8 | 2·rs1 << 15 | 2·rs2 << 21 | length << 27 (never 0:
 * the length is 2 or 4). rd is 32 (the x0 sink) when the instruction names x0.
 */
const SLOTS_PER_PAGE = 2048;
const TWO32 = 4294967296;
/** 1 for the ops whose encoding has a rounding-mode field (an invalid rm makes them illegal). */
const FP_HAS_RM: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const op of Object.values(Op)) {
    const fmt = opSpec(op).fmt;
    if (fmt === "FR_RM" || fmt === "FR4" || fmt === "FR1_RM" || fmt === "FCVT_XF" || fmt === "FCVT_FX") t[op] = 1;
  }
  return t;
})();

/** Formats whose rd is a floating-point register. */
const FP_DEST_FORMATS: ReadonlySet<string> = new Set(["FLOAD", "FR_RM", "FR", "FR4", "FR1_RM", "FCVT_FX", "FMV_FX"]);

/** Offset that puts the loop's page-relative pc outside [0, 4096), forcing the next fetch to enter its page. */
const REL = 1 << 24;
/** Run-loop pc meaning "the real pc is in farPc" (set whenever this value is produced); fetching it faults. */
const FAR_PC = -(2 ** 62);

/** Called after a guest store to a page registered with `hookPage`; returns true to stop the run loop. */
export type StoreHook = (addr: number, size: number) => boolean;

/**
 * The page flags (PAGE_CODE, PAGE_HOOK per RAM page) and decode caches of all harts sharing one RAM. A store by any
 * hart to a page some hart has decoded drops that page from every hart's cache at once, so instruction fetch is
 * always coherent with stores (stronger than Zifencei requires; fence.i and SBI remote fence.i have nothing to do).
 */
export class CodeMap {
  readonly flags: Uint8Array;
  readonly harts: Hart[] = [];

  constructor(ramSize: number) {
    this.flags = new Uint8Array(Math.ceil(ramSize / 4096));
  }
}

export interface HartOptions {
  readonly memory: WebAssembly.Memory;
  readonly hartId: number;
  readonly ramBase: number;
  readonly ramSize: number;
  readonly bus: Bus;
  /** The `time` CSR source (mtime, 10 MHz), or null: then reading `time` is an illegal instruction. */
  readonly timeSource?: (() => bigint) | null;
  /** Shared with the other harts on the same RAM (a hart alone gets its own). */
  readonly codeMap?: CodeMap;
}

export class Hart {
  readonly hartId: number;
  readonly ramBase: number;
  readonly ramSize: number;
  readonly bus: Bus;
  readonly timeSource: (() => bigint) | null;
  /** F and D are implemented: mstatus.FS and the FP CSRs exist. */
  readonly hasFpu = true;
  /** f0..f31 as raw 64-bit patterns, and as 32-bit halves (NaN-boxed singles have a high word of -1). */
  readonly f: BigInt64Array;
  private readonly fi: Int32Array;
  /** The low word of fcsr (fflags in bits 4:0, frm in 7:5). */
  private readonly fcsrLo: Int32Array;
  /** Floating-point arithmetic on register slots of the shared memory (cpu/fpu.ts). */
  readonly fpu: Fpu;
  /** Slot indices (8-byte units of the memory) of x0 and f0, for the Fpu. */
  private readonly xSlot0: number;
  private readonly fSlot0: number;
  /** mstatus.FS is not Off (FP instructions are legal) / is Dirty (nothing to mark). Recomputed by updateModes(). */
  private fpOn = false;
  private fpDirty = false;
  /** The built-in SBI firmware: serves an ecall from S-mode and returns true, or false to trap as usual. */
  sbi: ((hart: Hart) => boolean) | null = null;
  /** x0..x31 and the x0 write sink, as i64. */
  readonly x: BigInt64Array;
  /** The same registers as 32-bit halves. */
  readonly xi: Int32Array;
  /** Hot CSRs (layout.ts CsrSlot). */
  readonly csr: BigInt64Array;
  private readonly pcSlot: BigInt64Array;
  // Views of the whole memory for RAM access; index with (RAM_OFFSET + offset) >> log2(size).
  private readonly u8: Uint8Array;
  private readonly i8: Int8Array;
  private readonly u16: Uint16Array;
  private readonly i16: Int16Array;
  private readonly i32: Int32Array;
  /** Decode cache per RAM page (null until executed). */
  private readonly pages: (Int32Array | null)[];
  /** PAGE_CODE / PAGE_HOOK bits per RAM page, shared by the harts of `codeMap`. */
  private readonly pageFlags: Uint8Array;
  private readonly codeMap: CodeMap;
  private storeHook: StoreHook | null = null;
  /** Address translation and protection: page-table walker, PMP and this hart's TLB (in the shared memory). */
  readonly mmu: Mmu;
  private readonly tlbT: Float64Array;
  private readonly tlbSets: number;
  private readonly tlbMask: number;
  private readonly tlbShift: number;
  /**
   * TLB context of data accesses (mmu/tlb.ts TlbCtx), or -1 when they are physical and unchecked (M-mode, or MPRV
   * with MPP = M, and PMP unable to deny M), taking the RAM fast path. Recomputed by updateModes().
   */
  private dctx = -1;
  /** Effective privilege of data accesses (mstatus.MPRV applied) and mstatus.SUM. */
  private dpriv = 3;
  private sum = false;
  /** The same for instruction fetch (no MPRV, no SUM). */
  private fctx = -1;
  /** Cause of the last failed `fill` (the upper half of an instruction could not be fetched). */
  private fillCause = 0;
  /** Pages whose last slot holds a 4-byte instruction straddling into the next page (dropped on sfence.vma). */
  private readonly straddlers: number[] = [];
  /** The current code page: its virtual address and the RAM offset it maps to (for fill and bitsAtPc). */
  private codePageVa = 0;
  private codePageOff = 0;
  /** The exact pc when `pc === FAR_PC`. */
  private farPc = 0n;
  /** Retired instructions of the current `run` not yet added to minstret (read by the CSR file). */
  retiredInRun = 0;
  /**
   * Loads and stores take the fast path when the address's high word is 0 and (low word − ramBase) mod 2^32 is below
   * this: computed in 32-bit arithmetic, which is exact only while RAM avoids the first and last 4 KiB of the low
   * 4 GiB (an offset of ±2 KiB cannot wrap into RAM) and offsets stay below 2^31 − RAM_OFFSET. Beyond: slow path.
   */
  private readonly fastSize: number;
  /** Traps taken since reset (the instruction that traps does not retire). */
  trapCount = 0;
  /** Budget the last `run` used: retired instructions plus traps taken. */
  lastRunSteps = 0;

  constructor(opts: HartOptions) {
    const buf = opts.memory.buffer;
    const base = hartBase(opts.hartId);
    this.hartId = opts.hartId;
    this.ramBase = opts.ramBase;
    this.ramSize = opts.ramSize;
    this.bus = opts.bus;
    this.timeSource = opts.timeSource ?? null;
    this.x = new BigInt64Array(buf, base + X_OFF, 33);
    this.xi = new Int32Array(buf, base + X_OFF, 66);
    this.csr = new BigInt64Array(buf, base + CSR_OFF, 64);
    this.pcSlot = new BigInt64Array(buf, base + PC_OFF, 1);
    this.f = new BigInt64Array(buf, base + F_OFF, 32);
    this.fi = new Int32Array(buf, base + F_OFF, 64);
    this.fcsrLo = new Int32Array(buf, base + CSR_OFF + 8 * CsrSlot.fcsr, 1);
    this.xSlot0 = (base + X_OFF) / 8;
    this.fSlot0 = (base + F_OFF) / 8;
    // fflags are the low bits of the fcsr slot's low word, where the Fpu ORs its flags.
    this.fpu = new Fpu(buf, (base + CSR_OFF + 8 * CsrSlot.fcsr) / 4);
    // Explicit lengths: a view of a shared wasm memory's (growable) buffer without one tracks the buffer's length,
    // and every element access then reloads it; measured 2x slower for the whole interpreter.
    const bytes = buf.byteLength;
    this.u8 = new Uint8Array(buf, 0, bytes);
    this.i8 = new Int8Array(buf, 0, bytes);
    this.u16 = new Uint16Array(buf, 0, bytes >>> 1);
    this.i16 = new Int16Array(buf, 0, bytes >>> 1);
    this.i32 = new Int32Array(buf, 0, bytes >>> 2);
    if (!(opts.hartId >= 0 && opts.hartId < MAX_HARTS))
      throw new RangeError(`hart id ${opts.hartId}: at most ${MAX_HARTS} harts`);
    this.mmu = new Mmu({
      buffer: buf,
      ramOffset: RAM_OFFSET,
      ramBase: opts.ramBase,
      ramSize: opts.ramSize,
      csr: this.csr,
      tlbOffset: TLB_BASE + opts.hartId * TLB_STRIDE,
    });
    this.tlbT = this.mmu.tlb.t;
    this.tlbSets = this.mmu.tlb.sets;
    this.tlbMask = this.mmu.tlb.mask;
    this.tlbShift = this.mmu.tlb.shift;
    const npages = Math.ceil(opts.ramSize / 4096);
    this.pages = new Array<Int32Array | null>(npages).fill(null);
    this.codeMap = opts.codeMap ?? new CodeMap(opts.ramSize);
    if (this.codeMap.flags.length !== npages) throw new RangeError("hart: code map of a different RAM size");
    this.codeMap.harts.push(this);
    this.pageFlags = this.codeMap.flags;
    const fits = opts.ramBase >= 4096 && opts.ramBase + opts.ramSize <= 2 ** 32 - 4096;
    this.fastSize = fits ? Math.min(opts.ramSize, 2 ** 31 - RAM_OFFSET) : 0;
    this.reset();
  }

  /** Reset state (privileged spec §3.4): M-mode, mstatus.MIE = 0, misa = RV64IMAC, registers zero. */
  reset(): void {
    this.x.fill(0n);
    this.csr.fill(0n);
    this.csr[CsrSlot.priv] = 3n;
    // misa: MXL = 2 (64-bit), extensions A, C, D, F, I, M, S, U (RV64GC with S and U modes).
    this.csr[CsrSlot.misa] = (2n << 62n) | MISA_A | MISA_C | MISA_D | MISA_F | MISA_I | MISA_M | MISA_S | MISA_U;
    this.f.fill(0n);
    // mstatus: SXL = UXL = 2 (read-only, 64-bit), as QEMU reports them.
    this.csr[CsrSlot.mstatus] = MSTATUS_XLEN;
    this.csr[CsrSlot.mhartid] = BigInt(this.hartId);
    this.csr[CsrSlot.loadRes] = -1n;
    this.pcSlot[0] = BigInt(this.ramBase);
    for (let p = 0; p < this.pages.length; p++) this.invalidatePage(p);
    this.mmu.reload(0n, false);
    this.updateModes();
  }

  get pc(): bigint {
    return this.pcSlot[0]!;
  }

  set pc(v: bigint) {
    this.pcSlot[0] = v;
  }

  /** Call `hook` after every guest store to the RAM page containing `addr` (HTIF's tohost lives in RAM). */
  hookPage(addr: number, hook: StoreHook): void {
    const off = addr - this.ramBase;
    if (off < 0 || off >= this.ramSize) throw new RangeError(`hookPage: 0x${addr.toString(16)} is not in RAM`);
    this.pageFlags[Math.floor(off / 4096)]! |= PAGE_HOOK;
    this.storeHook = hook;
  }

  /**
   * Drop decoded instructions of RAM page `p` from every hart's cache (a store wrote code, or the host changed RAM).
   * A page holds decodings only while its PAGE_CODE flag is set: `fill` sets it with every decoding.
   */
  invalidatePage(p: number): void {
    const flags = this.pageFlags;
    if ((flags[p]! & PAGE_CODE) !== 0) this.dropPage(p);
    // A 4-byte instruction at the end of page p-1 straddles into p; drop p-1's decodings too.
    if (p > 0 && (flags[p - 1]! & PAGE_CODE) !== 0) this.dropPage(p - 1);
  }

  private dropPage(p: number): void {
    for (const h of this.codeMap.harts) {
      const cache = h.pages[p];
      if (cache !== null && cache !== undefined) cache.fill(0);
    }
    this.pageFlags[p]! &= ~PAGE_CODE;
  }

  /** The host wrote guest RAM directly (loader, devices): keep the decode cache coherent. */
  ramWritten(off: number, len: number): void {
    if (len <= 0) return;
    for (let p = Math.floor(off / 4096); p <= Math.floor((off + len - 1) / 4096); p++) this.invalidatePage(p);
  }

  /**
   * Run at most `budget` instructions (traps count against the budget too, so a trap loop cannot hang the host).
   * Returns an `Exit` reason.
   *
   * Speed: `pc`, `next` and `n` are kept int32 (`| 0` on every assignment) so that V8 holds them in machine words;
   * without it `pc` was a tagged number boxed on every instruction (sha256 went from 75 to 138 MIPS). Callers should
   * pass budgets of at most about 10^5: V8 then sees run() called often and compiles it whole, whereas a run() entered
   * only a few times is optimised by on-stack replacement of this loop, whose loop variables stay tagged (measured
   * 86 against 120 MIPS on the interp workload).
   */
  run(budget: number): number {
    const xi = this.xi;
    const u8 = this.u8;
    const i8 = this.i8;
    const u16 = this.u16;
    const i16 = this.i16;
    const i32 = this.i32;
    const fi = this.fi;
    const pageFlags = this.pageFlags;
    const ramBase = this.ramBase;
    const rb32 = ramBase | 0;
    const fast = this.fastSize;
    const fast2 = fast - 1;
    const fast4 = fast - 3;
    const fast8 = fast - 7;
    // The pc is vbase + pc: `pc` is a small integer (V8 keeps it unboxed), the offset into the current code page
    // at vbase; it leaves [0, 4096) when control leaves the page, and jumps to an absolute address set
    // vbase = target − REL, pc = REL, which also forces the page to be entered (translated) again.
    let vbase = this.pcNumber() - REL;
    let pc = REL;
    let cache: Int32Array = this.pages[0] ?? new Int32Array(0);
    this.updateModes();
    let dctx = this.dctx;
    let n = 0;
    const traps0 = this.trapCount;
    let exit: number = Exit.Budget;
    this.retiredInRun = 0;
    this.stopRequested = false;
    {
      const irq = this.pendingInterrupt();
      if (irq >= 0) vbase = this.trap(irq, 0n, vbase + pc, true) - REL;
    }
    // n counts in int32: a budget beyond 2^31 - 1 runs that many (the caller calls again for the rest).
    const limit = Math.min(budget, 0x7fff_ffff);
    loop: while (n < limit) {
      n = (n + 1) | 0;
      if (pc >>> 0 >= 4096) {
        // Entering a page (or re-entering after anything that may change translation: traps, CSR writes, xRET).
        dctx = this.dctx;
        const abs = vbase + pc;
        const base = this.fetchPage(abs);
        if (base < 0) {
          vbase = this.pcNumber() - REL; // the fetch faulted: the trap is taken
          pc = REL;
          continue;
        }
        const p = base >>> 12;
        let c = this.pages[p]!;
        if (c === null) {
          c = new Int32Array(SLOTS_PER_PAGE * 2);
          this.pages[p] = c;
        }
        cache = c;
        vbase = abs - (abs - Math.floor(abs / 4096) * 4096);
        this.codePageVa = vbase;
        this.codePageOff = base;
        pc = (abs - vbase) | 0;
      }
      const s = pc & ~1;
      let w = cache[s]!;
      if (w === 0) {
        w = this.fill(cache, s);
        if (w === 0) {
          // Fetching the second half of a 4-byte instruction faulted (outside RAM, or its page).
          vbase = this.trap(this.fillCause, this.exactPc(vbase + pc) + 2n, vbase + pc) - REL;
          pc = REL;
          continue;
        }
      }
      const imm = cache[s + 1]!;
      // Register fields come pre-doubled: xi[a2] is the low word of rs1, xi[a2 + 1] its high word.
      const d2 = (w >>> 8) & 127;
      const a2 = (w >>> 15) & 63;
      const b2 = (w >>> 21) & 63;
      const rd = d2 >>> 1;
      const rs1 = a2 >>> 1;
      const rs2 = b2 >>> 1;
      const next = (pc + (w >>> 27)) | 0;

      switch (w & 0xff) {
        case 0: // illegal: imm holds the instruction bits (mtval, privileged spec §3.1.16)
          vbase = this.trap(Cause.IllegalInstruction, BigInt(imm >>> 0), vbase + pc) - REL;
          pc = REL;
          continue;
        case 1: // lui
          xi[d2] = imm;
          xi[d2 + 1] = imm >> 31;
          break;
        case 2: // auipc
          setXNum(xi, d2, vbase + pc + imm);
          break;
        case 3: // jal
          setXNum(xi, d2, vbase + next);
          pc = (pc + imm) | 0;
          continue;
        case 4: {
          // jalr: target computed before rd is written (rd may equal rs1)
          const lo = (xi[a2]! >>> 0) + imm;
          const hi = xi[a2 + 1]! + Math.floor(lo / TWO32);
          setXNum(xi, d2, vbase + next);
          const target = this.pcFromHalves(hi, (lo >>> 0) & ~1);
          const rel = target - vbase;
          if (rel >= 0 && rel < 4096) {
            pc = rel | 0; // same page, same translation: no re-entry (switch dispatch, short returns)
            continue;
          }
          vbase = target - REL;
          pc = REL;
          continue;
        }
        case 5: // beq
          if (xi[a2] === xi[b2] && xi[a2 + 1] === xi[b2 + 1]) {
            pc = (pc + imm) | 0;
            continue;
          }
          break;
        case 6: // bne
          if (xi[a2] !== xi[b2] || xi[a2 + 1] !== xi[b2 + 1]) {
            pc = (pc + imm) | 0;
            continue;
          }
          break;
        case 7: // blt
          if (lt64(xi, a2, b2)) {
            pc = (pc + imm) | 0;
            continue;
          }
          break;
        case 8: // bge
          if (!lt64(xi, a2, b2)) {
            pc = (pc + imm) | 0;
            continue;
          }
          break;
        case 9: // bltu
          if (ltu64(xi, a2, b2)) {
            pc = (pc + imm) | 0;
            continue;
          }
          break;
        case 10: // bgeu
          if (!ltu64(xi, a2, b2)) {
            pc = (pc + imm) | 0;
            continue;
          }
          break;

        // ---- Loads and stores: RAM fast path (physical in M-mode, else a TLB hit), else the slow path ----
        case 11: {
          // lb
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 1, 1);
          if (h >= 0) {
            const v = i8[h]!;
            xi[d2] = v;
            xi[d2 + 1] = v >> 31;
          } else if (!this.loadSlow(rd, rs1, imm, 1, true, vbase + pc)) {
            vbase = this.pcNumber() - REL;
            pc = REL;
            continue;
          }
          break;
        }
        case 12: {
          // lh
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast2 && (off & 1) === 0 ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 2, 1);
          if (h >= 0) {
            const v = i16[h >>> 1]!;
            xi[d2] = v;
            xi[d2 + 1] = v >> 31;
          } else if (!this.loadSlow(rd, rs1, imm, 2, true, vbase + pc)) {
            vbase = this.pcNumber() - REL;
            pc = REL;
            continue;
          }
          break;
        }
        case 13: {
          // lw
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast4 && (off & 3) === 0 ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 4, 1);
          if (h >= 0) {
            const v = i32[h >>> 2]!;
            xi[d2] = v;
            xi[d2 + 1] = v >> 31;
          } else if (!this.loadSlow(rd, rs1, imm, 4, true, vbase + pc)) {
            vbase = this.pcNumber() - REL;
            pc = REL;
            continue;
          }
          break;
        }
        case 14: {
          // ld
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast8 && (off & 7) === 0 ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 8, 1);
          if (h >= 0) {
            const k = h >>> 2;
            xi[d2] = i32[k]!;
            xi[d2 + 1] = i32[k + 1]!;
          } else if (!this.loadSlow(rd, rs1, imm, 8, true, vbase + pc)) {
            vbase = this.pcNumber() - REL;
            pc = REL;
            continue;
          }
          break;
        }
        case 15: {
          // lbu
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 1, 1);
          if (h >= 0) {
            xi[d2] = u8[h]!;
            xi[d2 + 1] = 0;
          } else if (!this.loadSlow(rd, rs1, imm, 1, false, vbase + pc)) {
            vbase = this.pcNumber() - REL;
            pc = REL;
            continue;
          }
          break;
        }
        case 16: {
          // lhu
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast2 && (off & 1) === 0 ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 2, 1);
          if (h >= 0) {
            xi[d2] = u16[h >>> 1]!;
            xi[d2 + 1] = 0;
          } else if (!this.loadSlow(rd, rs1, imm, 2, false, vbase + pc)) {
            vbase = this.pcNumber() - REL;
            pc = REL;
            continue;
          }
          break;
        }
        case 17: {
          // lwu
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast4 && (off & 3) === 0 ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 4, 1);
          if (h >= 0) {
            xi[d2] = i32[h >>> 2]!;
            xi[d2 + 1] = 0;
          } else if (!this.loadSlow(rd, rs1, imm, 4, false, vbase + pc)) {
            vbase = this.pcNumber() - REL;
            pc = REL;
            continue;
          }
          break;
        }
        case 18: {
          // sb
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 1, 2);
          if (h >= 0 && pageFlags[(h - RAM_OFFSET) >>> 12] === 0) {
            u8[h] = xi[b2]!;
          } else {
            const r = this.storeSlow(rs1, imm, 1, xi[b2]!, 0, vbase + pc);
            if (r !== 0) {
              if (r === 1) {
                vbase = this.pcNumber() - REL;
                pc = REL;
                continue;
              }
              pc = next;
              if (r === 2) {
                exit = Exit.Stop;
                break loop;
              }
              continue;
            }
          }
          break;
        }
        case 19: {
          // sh
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast2 && (off & 1) === 0 ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 2, 2);
          if (h >= 0 && pageFlags[(h - RAM_OFFSET) >>> 12] === 0) {
            u16[h >>> 1] = xi[b2]!;
          } else {
            const r = this.storeSlow(rs1, imm, 2, xi[b2]!, 0, vbase + pc);
            if (r !== 0) {
              if (r === 1) {
                vbase = this.pcNumber() - REL;
                pc = REL;
                continue;
              }
              pc = next;
              if (r === 2) {
                exit = Exit.Stop;
                break loop;
              }
              continue;
            }
          }
          break;
        }
        case 20: {
          // sw
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast4 && (off & 3) === 0 ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 4, 2);
          if (h >= 0 && pageFlags[(h - RAM_OFFSET) >>> 12] === 0) {
            i32[h >>> 2] = xi[b2]!;
          } else {
            const r = this.storeSlow(rs1, imm, 4, xi[b2]!, 0, vbase + pc);
            if (r !== 0) {
              if (r === 1) {
                vbase = this.pcNumber() - REL;
                pc = REL;
                continue;
              }
              pc = next;
              if (r === 2) {
                exit = Exit.Stop;
                break loop;
              }
              continue;
            }
          }
          break;
        }
        case 21: {
          // sd
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast8 && (off & 7) === 0 ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 8, 2);
          if (h >= 0 && pageFlags[(h - RAM_OFFSET) >>> 12] === 0) {
            const k = h >>> 2;
            i32[k] = xi[b2]!;
            i32[k + 1] = xi[b2 + 1]!;
          } else {
            const r = this.storeSlow(rs1, imm, 8, xi[b2]!, xi[b2 + 1]!, vbase + pc);
            if (r !== 0) {
              if (r === 1) {
                vbase = this.pcNumber() - REL;
                pc = REL;
                continue;
              }
              pc = next;
              if (r === 2) {
                exit = Exit.Stop;
                break loop;
              }
              continue;
            }
          }
          break;
        }

        // ---- Integer register-immediate ----
        case 22: {
          // addi: 32-bit halves; the unsigned low-word sum wrapped (carried) iff it is below an addend
          const al = xi[a2]!;
          const lo = (al + imm) | 0;
          xi[d2 + 1] = (xi[a2 + 1]! + (imm >> 31) + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
          xi[d2] = lo;
          break;
        }
        case 23: {
          // slti
          const hi = xi[a2 + 1]!;
          const ihi = imm >> 31;
          xi[d2] = hi < ihi || (hi === ihi && xi[a2]! >>> 0 < imm >>> 0) ? 1 : 0;
          xi[d2 + 1] = 0;
          break;
        }
        case 24: {
          // sltiu: the immediate is sign-extended, then compared unsigned
          const hi = xi[a2 + 1]! >>> 0;
          const ihi = (imm >> 31) >>> 0;
          xi[d2] = hi < ihi || (hi === ihi && xi[a2]! >>> 0 < imm >>> 0) ? 1 : 0;
          xi[d2 + 1] = 0;
          break;
        }
        case 25: // xori
          xi[d2 + 1] = xi[a2 + 1]! ^ (imm >> 31);
          xi[d2] = xi[a2]! ^ imm;
          break;
        case 26: // ori
          xi[d2 + 1] = xi[a2 + 1]! | (imm >> 31);
          xi[d2] = xi[a2]! | imm;
          break;
        case 27: // andi
          xi[d2 + 1] = xi[a2 + 1]! & (imm >> 31);
          xi[d2] = xi[a2]! & imm;
          break;
        case 28: // slli
          sll64(xi, d2, a2, imm);
          break;
        case 29: // srli
          srl64(xi, d2, a2, imm);
          break;
        case 30: // srai
          sra64(xi, d2, a2, imm);
          break;

        // ---- Integer register-register ----
        case 31: {
          // add
          const al = xi[a2]!;
          const lo = (al + xi[b2]!) | 0;
          xi[d2 + 1] = (xi[a2 + 1]! + xi[b2 + 1]! + (lo >>> 0 < al >>> 0 ? 1 : 0)) | 0;
          xi[d2] = lo;
          break;
        }
        case 32: {
          // sub: borrow iff the unsigned low words compare below
          const al = xi[a2]!;
          const bl = xi[b2]!;
          xi[d2 + 1] = (xi[a2 + 1]! - xi[b2 + 1]! - (al >>> 0 < bl >>> 0 ? 1 : 0)) | 0;
          xi[d2] = (al - bl) | 0;
          break;
        }
        case 33: // sll
          sll64(xi, d2, a2, xi[b2]! & 63);
          break;
        case 34: {
          // slt
          const v = lt64(xi, a2, b2) ? 1 : 0;
          xi[d2] = v;
          xi[d2 + 1] = 0;
          break;
        }
        case 35: {
          // sltu
          const v = ltu64(xi, a2, b2) ? 1 : 0;
          xi[d2] = v;
          xi[d2 + 1] = 0;
          break;
        }
        case 36: // xor
          xi[d2 + 1] = xi[a2 + 1]! ^ xi[b2 + 1]!;
          xi[d2] = xi[a2]! ^ xi[b2]!;
          break;
        case 37: // srl
          srl64(xi, d2, a2, xi[b2]! & 63);
          break;
        case 38: // sra
          sra64(xi, d2, a2, xi[b2]! & 63);
          break;
        case 39: // or
          xi[d2 + 1] = xi[a2 + 1]! | xi[b2 + 1]!;
          xi[d2] = xi[a2]! | xi[b2]!;
          break;
        case 40: // and
          xi[d2 + 1] = xi[a2 + 1]! & xi[b2 + 1]!;
          xi[d2] = xi[a2]! & xi[b2]!;
          break;

        // ---- RV64 word operations: 32-bit result, sign-extended ----
        case 41: {
          // addiw
          const v = (xi[a2]! + imm) | 0;
          xi[d2] = v;
          xi[d2 + 1] = v >> 31;
          break;
        }
        case 42: {
          // slliw
          const v = xi[a2]! << imm;
          xi[d2] = v;
          xi[d2 + 1] = v >> 31;
          break;
        }
        case 43: {
          // srliw
          const v = (xi[a2]! >>> imm) | 0;
          xi[d2] = v;
          xi[d2 + 1] = v >> 31;
          break;
        }
        case 44: {
          // sraiw
          const v = xi[a2]! >> imm;
          xi[d2] = v;
          xi[d2 + 1] = v >> 31;
          break;
        }
        case 45: {
          // addw
          const v = (xi[a2]! + xi[b2]!) | 0;
          xi[d2] = v;
          xi[d2 + 1] = v >> 31;
          break;
        }
        case 46: {
          // subw
          const v = (xi[a2]! - xi[b2]!) | 0;
          xi[d2] = v;
          xi[d2 + 1] = v >> 31;
          break;
        }
        case 47: {
          // sllw: JS shifts use the low 5 bits of the amount, as RV64 W shifts do
          const v = xi[a2]! << xi[b2]!;
          xi[d2] = v;
          xi[d2 + 1] = v >> 31;
          break;
        }
        case 48: {
          // srlw
          const v = (xi[a2]! >>> xi[b2]!) | 0;
          xi[d2] = v;
          xi[d2 + 1] = v >> 31;
          break;
        }
        case 49: {
          // sraw
          const v = xi[a2]! >> xi[b2]!;
          xi[d2] = v;
          xi[d2 + 1] = v >> 31;
          break;
        }

        case 50: // fence.tso
        case 51: // fence: one hart, memory is sequentially consistent here
        case 54: // fence.i: every store keeps all harts' decode caches coherent (CodeMap): nothing to flush
          break;
        case 52: {
          // ecall; from S-mode with the built-in firmware, the SBI call is served here (no M-mode code runs)
          const priv = Number(this.csr[CsrSlot.priv]!);
          if (priv === 1 && this.sbi !== null) {
            this.setPcNumber(vbase + pc);
            this.retiredInRun = n - 1 - (this.trapCount - traps0);
            if (this.sbi(this)) {
              if (this.stopRequested) {
                pc = next;
                exit = Exit.Stop;
                break loop;
              }
              const irq = this.pendingInterrupt();
              vbase = (irq < 0 ? vbase + next : this.trap(irq, 0n, vbase + next, true)) - REL;
              pc = REL;
              continue;
            }
          }
          vbase = this.trap(Cause.EcallFromU + priv, 0n, vbase + pc) - REL;
          pc = REL;
          continue;
        }
        case 53: // ebreak: QEMU 7.2 leaves mtval 0 for breakpoints
          vbase = this.trap(Cause.Breakpoint, 0n, vbase + pc) - REL;
          pc = REL;
          continue;

        // ---- Zicsr ----
        case 55: // csrrw
        case 56: // csrrs
        case 57: // csrrc
        case 58: // csrrwi
        case 59: // csrrsi
        case 60: {
          // csrrci
          this.retiredInRun = n - 1 - (this.trapCount - traps0);
          if (!this.csrOp(w & 0xff, rd, rs1, imm, vbase + pc)) {
            vbase = this.pcNumber() - REL;
            pc = REL;
            continue;
          }
          {
            // A CSR write may change translation (refetch through it) or enable a pending interrupt (taken now).
            const irq = this.pendingInterrupt();
            vbase = (irq < 0 ? vbase + next : this.trap(irq, 0n, vbase + next, true)) - REL;
            pc = REL;
            continue;
          }
        }

        // ---- M ----
        case 61: // mul
        case 62: // mulh
        case 63: // mulhsu
        case 64: // mulhu
        case 65: // div
        case 66: // divu
        case 67: // rem
        case 68: // remu
          this.mulDiv64(w & 0xff, rd, rs1, rs2);
          break;
        case 69: {
          // mulw
          const v = Math.imul(xi[a2]!, xi[b2]!);
          xi[d2] = v;
          xi[d2 + 1] = v >> 31;
          break;
        }
        case 70: {
          // divw
          const a = xi[a2]!;
          const b = xi[b2]!;
          const v = b === 0 ? -1 : b === -1 ? -a | 0 : (a / b) | 0;
          xi[d2] = v;
          xi[d2 + 1] = v >> 31;
          break;
        }
        case 71: {
          // divuw
          const b = xi[b2]! >>> 0;
          const v = b === 0 ? -1 : ((xi[a2]! >>> 0) / b) | 0;
          xi[d2] = v;
          xi[d2 + 1] = v >> 31;
          break;
        }
        case 72: {
          // remw
          const a = xi[a2]!;
          const b = xi[b2]!;
          const v = b === 0 ? a : b === -1 ? 0 : (a % b) | 0;
          xi[d2] = v;
          xi[d2 + 1] = v >> 31;
          break;
        }
        case 73: {
          // remuw
          const b = xi[b2]! >>> 0;
          const v = b === 0 ? xi[a2]! : ((xi[a2]! >>> 0) % b) | 0;
          xi[d2] = v;
          xi[d2 + 1] = v >> 31;
          break;
        }

        // ---- A ----
        case 74: // lr.w
        case 75: // sc.w
        case 76: // amoswap.w
        case 77: // amoadd.w
        case 78: // amoxor.w
        case 79: // amoand.w
        case 80: // amoor.w
        case 81: // amomin.w
        case 82: // amomax.w
        case 83: // amominu.w
        case 84: // amomaxu.w
        case 85: // lr.d
        case 86: // sc.d
        case 87: // amoswap.d
        case 88: // amoadd.d
        case 89: // amoxor.d
        case 90: // amoand.d
        case 91: // amoor.d
        case 92: // amomin.d
        case 93: // amomax.d
        case 94: // amominu.d
        case 95: // amomaxu.d
          if (!this.atomic(w & 0xff, rd, rs1, rs2, vbase + pc)) {
            vbase = this.pcNumber() - REL;
            pc = REL;
            continue;
          }
          if (this.stopRequested) {
            pc = next;
            exit = Exit.Stop;
            break loop;
          }
          break;

        // ---- Privileged ----
        case 96: {
          // mret
          if (this.csr[CsrSlot.priv] !== 3n) {
            vbase = this.trap(Cause.IllegalInstruction, BigInt(this.bitsAtPc(vbase + pc)), vbase + pc) - REL;
            pc = REL;
            continue;
          }
          vbase = this.mret();
          const irq = this.pendingInterrupt();
          if (irq >= 0) vbase = this.trap(irq, 0n, vbase, true);
          vbase -= REL;
          pc = REL;
          continue;
        }
        case 97: {
          // sret: S or M only; TSR makes it illegal in S (privileged spec §3.1.6.5)
          const priv = this.csr[CsrSlot.priv]!;
          if (priv === 0n || (priv === 1n && (this.csr[CsrSlot.mstatus]! & MSTATUS_TSR) !== 0n)) {
            vbase = this.trap(Cause.IllegalInstruction, BigInt(this.bitsAtPc(vbase + pc)), vbase + pc) - REL;
            pc = REL;
            continue;
          }
          vbase = this.sret();
          const irq = this.pendingInterrupt();
          if (irq >= 0) vbase = this.trap(irq, 0n, vbase, true);
          vbase -= REL;
          pc = REL;
          continue;
        }
        case 98: {
          // wfi: illegal in U, and in S when mstatus.TW is set (QEMU 7.2 traps at once rather than after a timeout)
          const priv = this.csr[CsrSlot.priv]!;
          if (priv === 0n || (priv === 1n && (this.csr[CsrSlot.mstatus]! & MSTATUS_TW) !== 0n)) {
            vbase = this.trap(Cause.IllegalInstruction, BigInt(this.bitsAtPc(vbase + pc)), vbase + pc) - REL;
            pc = REL;
            continue;
          }
          pc = next;
          // Nothing pending and enabled in mie: the hart sleeps until the machine raises an interrupt.
          if ((this.csr[CsrSlot.mip]! & this.csr[CsrSlot.mie]!) === 0n) {
            exit = Exit.Wfi;
            break loop;
          }
          continue;
        }
        case 99: {
          // sfence.vma: illegal in U, and in S when mstatus.TVM is set
          const priv = this.csr[CsrSlot.priv]!;
          if (priv === 0n || (priv === 1n && (this.csr[CsrSlot.mstatus]! & MSTATUS_TVM) !== 0n)) {
            vbase = this.trap(Cause.IllegalInstruction, BigInt(this.bitsAtPc(vbase + pc)), vbase + pc) - REL;
            pc = REL;
            continue;
          }
          this.sfenceVma(rs1, rs2);
          vbase = vbase + next - REL;
          pc = REL;
          continue;
        }

        // ---- F and D: loads and stores inline (as the integer ones), everything else in fpOp ----
        case 100: {
          // flw
          if (!this.fpOn) {
            vbase = this.trap(Cause.IllegalInstruction, BigInt(this.bitsAtPc(vbase + pc)), vbase + pc) - REL;
            pc = REL;
            continue;
          }
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast4 && (off & 3) === 0 ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 4, 1);
          if (h >= 0) {
            fi[d2] = i32[h >>> 2]!;
            fi[d2 + 1] = -1; // NaN-boxed
          } else if (!this.fpLoadSlow(d2 >>> 1, rs1, imm, 4, vbase + pc)) {
            vbase = this.pcNumber() - REL;
            pc = REL;
            continue;
          }
          if (!this.fpDirty) this.markFpDirty();
          break;
        }
        case 101: {
          // fsw
          if (!this.fpOn) {
            vbase = this.trap(Cause.IllegalInstruction, BigInt(this.bitsAtPc(vbase + pc)), vbase + pc) - REL;
            pc = REL;
            continue;
          }
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast4 && (off & 3) === 0 ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 4, 2);
          if (h >= 0 && pageFlags[(h - RAM_OFFSET) >>> 12] === 0) {
            i32[h >>> 2] = fi[b2]!;
          } else {
            const r = this.storeSlow(rs1, imm, 4, fi[b2]!, 0, vbase + pc);
            if (r !== 0) {
              if (r === 1) {
                vbase = this.pcNumber() - REL;
                pc = REL;
                continue;
              }
              pc = next;
              exit = Exit.Stop;
              break loop;
            }
          }
          break;
        }
        case 131: {
          // fld
          if (!this.fpOn) {
            vbase = this.trap(Cause.IllegalInstruction, BigInt(this.bitsAtPc(vbase + pc)), vbase + pc) - REL;
            pc = REL;
            continue;
          }
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast8 && (off & 7) === 0 ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 8, 1);
          if (h >= 0) {
            const k = h >>> 2;
            fi[d2] = i32[k]!;
            fi[d2 + 1] = i32[k + 1]!;
          } else if (!this.fpLoadSlow(d2 >>> 1, rs1, imm, 8, vbase + pc)) {
            vbase = this.pcNumber() - REL;
            pc = REL;
            continue;
          }
          if (!this.fpDirty) this.markFpDirty();
          break;
        }
        case 132: {
          // fsd
          if (!this.fpOn) {
            vbase = this.trap(Cause.IllegalInstruction, BigInt(this.bitsAtPc(vbase + pc)), vbase + pc) - REL;
            pc = REL;
            continue;
          }
          let h: number;
          if (dctx < 0) {
            const off = (xi[a2]! + imm - rb32) | 0;
            h = xi[a2 + 1] === 0 && off >>> 0 < fast8 && (off & 7) === 0 ? RAM_OFFSET + off : -1;
          } else h = this.probe(xi[a2 + 1]! * TWO32 + (xi[a2]! >>> 0) + imm, 8, 2);
          if (h >= 0 && pageFlags[(h - RAM_OFFSET) >>> 12] === 0) {
            const k = h >>> 2;
            i32[k] = fi[b2]!;
            i32[k + 1] = fi[b2 + 1]!;
          } else {
            const r = this.storeSlow(rs1, imm, 8, fi[b2]!, fi[b2 + 1]!, vbase + pc);
            if (r !== 0) {
              if (r === 1) {
                vbase = this.pcNumber() - REL;
                pc = REL;
                continue;
              }
              pc = next;
              exit = Exit.Stop;
              break loop;
            }
          }
          break;
        }
        case 102: // fmadd.s
        case 103: // fmsub.s
        case 104: // fnmsub.s
        case 105: // fnmadd.s
        case 106: // fadd.s
        case 107: // fsub.s
        case 108: // fmul.s
        case 109: // fdiv.s
        case 110: // fsqrt.s
        case 111: // fsgnj.s
        case 112: // fsgnjn.s
        case 113: // fsgnjx.s
        case 114: // fmin.s
        case 115: // fmax.s
        case 116: // fcvt.s.d
        case 117: // feq.s
        case 118: // flt.s
        case 119: // fle.s
        case 120: // fclass.s
        case 121: // fcvt.w.s
        case 122: // fcvt.wu.s
        case 123: // fcvt.l.s
        case 124: // fcvt.lu.s
        case 125: // fcvt.s.w
        case 126: // fcvt.s.wu
        case 127: // fcvt.s.l
        case 128: // fcvt.s.lu
        case 129: // fmv.x.w
        case 130: // fmv.w.x
        case 133: // fmadd.d
        case 134: // fmsub.d
        case 135: // fnmsub.d
        case 136: // fnmadd.d
        case 137: // fadd.d
        case 138: // fsub.d
        case 139: // fmul.d
        case 140: // fdiv.d
        case 141: // fsqrt.d
        case 142: // fsgnj.d
        case 143: // fsgnjn.d
        case 144: // fsgnjx.d
        case 145: // fmin.d
        case 146: // fmax.d
        case 147: // fcvt.d.s
        case 148: // feq.d
        case 149: // flt.d
        case 150: // fle.d
        case 151: // fclass.d
        case 152: // fcvt.w.d
        case 153: // fcvt.wu.d
        case 154: // fcvt.l.d
        case 155: // fcvt.lu.d
        case 156: // fcvt.d.w
        case 157: // fcvt.d.wu
        case 158: // fcvt.d.l
        case 159: // fcvt.d.lu
        case 160: // fmv.x.d
        case 161: // fmv.d.x
          if (!this.fpOp(w & 0xff, d2 >>> 1, rs1, rs2, imm, vbase + pc)) {
            vbase = this.pcNumber() - REL;
            pc = REL;
            continue;
          }
          break;
        default:
          vbase = this.trap(Cause.IllegalInstruction, BigInt(this.bitsAtPc(vbase + pc)), vbase + pc) - REL;
          pc = REL;
          continue;
      }
      pc = next;
    }
    this.setPcNumber(vbase + pc);
    // Every step retired an instruction except those that trapped.
    const retired = n - (this.trapCount - traps0);
    this.csr[CsrSlot.minstret] = this.csr[CsrSlot.minstret]! + BigInt(retired);
    this.retiredInRun = 0;
    this.lastRunSteps = n;
    return exit;
  }

  /** The 64-bit M instructions (BigInt arithmetic, kept out of the run loop so it stays free of BigInt code). */
  private mulDiv64(op: number, rd: number, rs1: number, rs2: number): void {
    const x = this.x;
    switch (op) {
      case 61: // mul
        x[rd] = x[rs1]! * x[rs2]!;
        break;
      case 62: // mulh
        x[rd] = (x[rs1]! * x[rs2]!) >> 64n;
        break;
      case 63: // mulhsu
        x[rd] = (x[rs1]! * BigInt.asUintN(64, x[rs2]!)) >> 64n;
        break;
      case 64: // mulhu
        x[rd] = (BigInt.asUintN(64, x[rs1]!) * BigInt.asUintN(64, x[rs2]!)) >> 64n;
        break;
      case 65: {
        // div: x/0 = -1; INT64_MIN / -1 = INT64_MIN (the BigInt64Array store wraps 2^63 back)
        const b = x[rs2]!;
        x[rd] = b === 0n ? -1n : x[rs1]! / b;
        break;
      }
      case 66: {
        // divu: x/0 = 2^64 - 1
        const b = x[rs2]!;
        x[rd] = b === 0n ? -1n : BigInt.asUintN(64, x[rs1]!) / BigInt.asUintN(64, b);
        break;
      }
      case 67: {
        // rem: x%0 = x; INT64_MIN % -1 = 0
        const b = x[rs2]!;
        x[rd] = b === 0n ? x[rs1]! : x[rs1]! % b;
        break;
      }
      case 68: {
        // remu
        const b = x[rs2]!;
        x[rd] = b === 0n ? x[rs1]! : BigInt.asUintN(64, x[rs1]!) % BigInt.asUintN(64, b);
        break;
      }
    }
  }

  // ---- F and D (unprivileged spec ch. 11, 12) ----

  /** FP load that missed the fast path; false when it trapped. A single is NaN-boxed into the 64-bit register. */
  private fpLoadSlow(rd: number, rs1: number, imm: number, size: number, pc: number): boolean {
    const v = this.readVirt(this.exactAddr(rs1, imm), size, Access.Load, pc);
    if (v === null) return false;
    this.f[rd] = size === 4 ? BigInt.asIntN(64, v | (0xffff_ffffn << 32n)) : BigInt.asIntN(64, v);
    return true;
  }

  /**
   * Every F/D instruction but loads and stores. Illegal when mstatus.FS is Off or the rounding mode (the
   * instruction's, or frm for dyn) is invalid; false when it trapped. Registers are passed to the Fpu as slot
   * indices of the shared memory; results and accrued flags are written there, and the FP state becomes Dirty.
   */
  private fpOp(op: number, rd: number, rs1: number, rs2: number, imm: number, pc: number): boolean {
    let rm = imm & 7;
    if (rm === 7) rm = (this.fcsrLo[0]! >>> 5) & 7; // frm, read without BigInt arithmetic
    if (!this.fpOn || (rm > 4 && FP_HAS_RM[op] === 1)) {
      this.setPcNumber(this.trap(Cause.IllegalInstruction, BigInt(this.bitsAtPc(pc)), pc));
      return false;
    }
    const u = this.fpu;
    const F = this.fSlot0;
    const X = this.xSlot0;
    const fd = F + rd;
    const fa = F + rs1;
    const fb = F + rs2;
    const fc = F + (imm >>> 3);
    const xd = X + rd; // rd 32 is the x0 sink
    const xa = X + rs1;
    switch (op) {
      case 102: // fmadd.s
        u.fmadd_s(fd, fa, fb, fc, rm);
        break;
      case 103: // fmsub.s
        u.fmsub_s(fd, fa, fb, fc, rm);
        break;
      case 104: // fnmsub.s
        u.fnmsub_s(fd, fa, fb, fc, rm);
        break;
      case 105: // fnmadd.s
        u.fnmadd_s(fd, fa, fb, fc, rm);
        break;
      case 106: // fadd.s
        u.fadd_s(fd, fa, fb, rm);
        break;
      case 107: // fsub.s
        u.fsub_s(fd, fa, fb, rm);
        break;
      case 108: // fmul.s
        u.fmul_s(fd, fa, fb, rm);
        break;
      case 109: // fdiv.s
        u.fdiv_s(fd, fa, fb, rm);
        break;
      case 110: // fsqrt.s
        u.fsqrt_s(fd, fa, rm);
        break;
      case 111: // fsgnj.s
        u.fsgnj_s(fd, fa, fb);
        break;
      case 112: // fsgnjn.s
        u.fsgnjn_s(fd, fa, fb);
        break;
      case 113: // fsgnjx.s
        u.fsgnjx_s(fd, fa, fb);
        break;
      case 114: // fmin.s
        u.fmin_s(fd, fa, fb);
        break;
      case 115: // fmax.s
        u.fmax_s(fd, fa, fb);
        break;
      case 116: // fcvt.s.d
        u.fcvt_s_d(fd, fa, rm);
        break;
      case 117: // feq.s
        u.feq_s(xd, fa, fb);
        break;
      case 118: // flt.s
        u.flt_s(xd, fa, fb);
        break;
      case 119: // fle.s
        u.fle_s(xd, fa, fb);
        break;
      case 120: // fclass.s
        u.fclass_s(xd, fa);
        return true; // reads FP state only
      case 121: // fcvt.w.s
        u.fcvt_w_s(xd, fa, rm);
        break;
      case 122: // fcvt.wu.s
        u.fcvt_wu_s(xd, fa, rm);
        break;
      case 123: // fcvt.l.s
        u.fcvt_l_s(xd, fa, rm);
        break;
      case 124: // fcvt.lu.s
        u.fcvt_lu_s(xd, fa, rm);
        break;
      case 125: // fcvt.s.w
        u.fcvt_s_w(fd, xa, rm);
        break;
      case 126: // fcvt.s.wu
        u.fcvt_s_wu(fd, xa, rm);
        break;
      case 127: // fcvt.s.l
        u.fcvt_s_l(fd, xa, rm);
        break;
      case 128: // fcvt.s.lu
        u.fcvt_s_lu(fd, xa, rm);
        break;
      case 129: // fmv.x.w
        u.fmv_x_w(xd, fa);
        return true; // reads FP state only
      case 130: // fmv.w.x
        u.fmv_w_x(fd, xa);
        break;
      case 133: // fmadd.d
        u.fmadd_d(fd, fa, fb, fc, rm);
        break;
      case 134: // fmsub.d
        u.fmsub_d(fd, fa, fb, fc, rm);
        break;
      case 135: // fnmsub.d
        u.fnmsub_d(fd, fa, fb, fc, rm);
        break;
      case 136: // fnmadd.d
        u.fnmadd_d(fd, fa, fb, fc, rm);
        break;
      case 137: // fadd.d
        u.fadd_d(fd, fa, fb, rm);
        break;
      case 138: // fsub.d
        u.fsub_d(fd, fa, fb, rm);
        break;
      case 139: // fmul.d
        u.fmul_d(fd, fa, fb, rm);
        break;
      case 140: // fdiv.d
        u.fdiv_d(fd, fa, fb, rm);
        break;
      case 141: // fsqrt.d
        u.fsqrt_d(fd, fa, rm);
        break;
      case 142: // fsgnj.d
        u.fsgnj_d(fd, fa, fb);
        break;
      case 143: // fsgnjn.d
        u.fsgnjn_d(fd, fa, fb);
        break;
      case 144: // fsgnjx.d
        u.fsgnjx_d(fd, fa, fb);
        break;
      case 145: // fmin.d
        u.fmin_d(fd, fa, fb);
        break;
      case 146: // fmax.d
        u.fmax_d(fd, fa, fb);
        break;
      case 147: // fcvt.d.s
        u.fcvt_d_s(fd, fa);
        break;
      case 148: // feq.d
        u.feq_d(xd, fa, fb);
        break;
      case 149: // flt.d
        u.flt_d(xd, fa, fb);
        break;
      case 150: // fle.d
        u.fle_d(xd, fa, fb);
        break;
      case 151: // fclass.d
        u.fclass_d(xd, fa);
        return true; // reads FP state only
      case 152: // fcvt.w.d
        u.fcvt_w_d(xd, fa, rm);
        break;
      case 153: // fcvt.wu.d
        u.fcvt_wu_d(xd, fa, rm);
        break;
      case 154: // fcvt.l.d
        u.fcvt_l_d(xd, fa, rm);
        break;
      case 155: // fcvt.lu.d
        u.fcvt_lu_d(xd, fa, rm);
        break;
      case 156: // fcvt.d.w
        u.fcvt_d_w(fd, xa);
        break;
      case 157: // fcvt.d.wu
        u.fcvt_d_wu(fd, xa);
        break;
      case 158: // fcvt.d.l
        u.fcvt_d_l(fd, xa, rm);
        break;
      case 159: // fcvt.d.lu
        u.fcvt_d_lu(fd, xa, rm);
        break;
      case 160: // fmv.x.d
        u.fmv_x_d(xd, fa);
        return true; // reads FP state only
      case 161: // fmv.d.x
        u.fmv_d_x(fd, xa);
        break;
    }
    if (!this.fpDirty) this.markFpDirty();
    return true;
  }

  // ---- pc in the run loop: the signed virtual address as a number, or FAR_PC with the exact value in farPc ----

  private pcNumber(): number {
    return this.pcFromBig(this.pcSlot[0]!);
  }

  private pcFromBig(v: bigint): number {
    const sv = BigInt.asIntN(64, v);
    if (sv >= -(1n << 52n) && sv < 1n << 52n) return Number(sv);
    this.farPc = sv;
    return FAR_PC;
  }

  private pcFromHalves(hi: number, lo: number): number {
    if (hi >= -(1 << 20) && hi < 1 << 20) return hi * TWO32 + (lo >>> 0);
    return this.pcFromBig((BigInt(hi | 0) << 32n) | BigInt(lo >>> 0));
  }

  private setPcNumber(pc: number): void {
    this.pcSlot[0] = this.exactPc(pc);
  }

  private exactPc(pc: number): bigint {
    return pc === FAR_PC ? this.farPc : BigInt(pc);
  }

  /**
   * The RAM offset of the page holding the instruction at virtual address `pc`, or -1 after taking the fetch fault.
   * Translated through the TLB / page tables unless fetches are physical (M-mode with PMP unable to deny).
   */
  private fetchPage(pc: number): number {
    let pa: number;
    if (pc === FAR_PC) {
      pa = -(this.fctx < 0 ? Cause.InstructionAccessFault : Cause.InstructionPageFault);
    } else if (this.fctx < 0) {
      pa = pc;
    } else {
      pa = this.mmu.translate(pc, 2, Access.Fetch, this.priv, false);
    }
    const off = pa - this.ramBase;
    if (pa < 0 || !(off >= 0 && off < this.ramSize)) {
      const cause = pa < 0 ? -pa : Cause.InstructionAccessFault;
      this.setPcNumber(this.trap(cause, this.exactPc(pc), pc));
      return -1;
    }
    return off & ~4095; // off < ramSize < 2^31
  }

  // ---- Decode cache ----

  /** Decode the instruction at `pc` (in RAM) into slot `s` of `cache`; returns packed, or 0 if it leaves RAM. */
  private fill(cache: Int32Array, s: number): number {
    const off = this.codePageOff + s;
    const lo = this.u16[(RAM_OFFSET + off) >>> 1]!;
    let hi = 0;
    if ((lo & 3) === 3) {
      let off2 = off + 2;
      if (s === 4094) {
        // The upper half lies on the next virtual page, which may map anywhere.
        const next = this.codePageVa + 4096;
        const pa = this.fctx < 0 ? next : this.mmu.translate(next, 2, Access.Fetch, this.priv, false);
        if (pa < 0) {
          this.fillCause = -pa;
          return 0;
        }
        off2 = pa - this.ramBase;
        this.straddlers.push(Math.floor(off / 4096));
      }
      if (!(off2 >= 0 && off2 + 2 <= this.ramSize)) return 0;
      hi = this.u16[(RAM_OFFSET + off2) >>> 1]!;
    }
    const d = decode(lo, hi);
    // Writes to x0 go to the sink slot; f0 is a real register, so FP destinations keep their number.
    const rdSlot = d.rd === 0 && (d.op === 0 || !FP_DEST_FORMATS.has(opSpec(d.op).fmt)) ? X_SINK : d.rd;
    const packed = d.op | (rdSlot << 9) | (d.rs1 << 16) | (d.rs2 << 22) | (d.len << 27);
    cache[s] = packed;
    cache[s + 1] = d.op === 0 ? d.bits : d.imm;
    this.pageFlags[Math.floor(off / 4096)]! |= PAGE_CODE;
    return packed;
  }

  /** The raw bits of the instruction at `pc` (in RAM: it was just fetched), for mtval of illegal instructions. */
  private bitsAtPc(pc: number): number {
    const off = this.codePageOff + (pc - this.codePageVa);
    const lo = this.u16[(RAM_OFFSET + off) >>> 1]!;
    if ((lo & 3) !== 3) return lo;
    return ((this.u16[(RAM_OFFSET + off + 2) >>> 1]! << 16) | lo) >>> 0;
  }

  // ---- Memory slow paths ----

  /** The exact 64-bit address rs1 + imm. */
  private exactAddr(rs1: number, imm: number): bigint {
    return BigInt.asUintN(64, this.x[rs1]! + BigInt(imm));
  }

  /**
   * Translate a data access of `size` bytes at virtual `va` that does not cross a page: the physical address, or
   * -cause (page or access fault). Physical (identity) when data accesses are untranslated.
   */
  private translateData(va: bigint, size: number, acc: AccessType): bigint {
    if (this.dctx < 0) return BigInt.asUintN(64, va);
    const sva = BigInt.asIntN(64, va);
    // A value past ±2^52 is not canonical in Sv39/Sv48: any such number makes the walk fault.
    const n = sva >= -(1n << 52n) && sva < 1n << 52n ? Number(sva) : 2 ** 60;
    const pa = this.mmu.translate(n, size, acc, this.dpriv, this.sum);
    return BigInt(pa);
  }

  /**
   * Read `size` bytes at virtual `va` (any alignment; an access crossing a page is translated per page): the value,
   * or null after taking the fault.
   */
  private readVirt(va: bigint, size: number, acc: AccessType, pc: number): bigint | null {
    const inPage = Number(BigInt.asUintN(12, va));
    const first = inPage + size > 4096 ? 4096 - inPage : size;
    let v = 0n;
    for (let done = 0, part = first; done < size; done += part, part = size - done) {
      const pva = BigInt.asUintN(64, va + BigInt(done));
      const pa = this.translateData(pva, part, acc);
      const r = pa < 0n ? null : this.readPhys(pa, part);
      if (r === null) {
        const cause = pa < 0n ? Number(-pa) : acc === Access.Load ? Cause.LoadAccessFault : Cause.StoreAccessFault;
        this.setPcNumber(this.trap(cause, pva, pc));
        return null;
      }
      v |= r << BigInt(8 * done);
    }
    return v;
  }

  /** Write `size` bytes at virtual `va`: 0 done, 1 trapped (pc in state), 2 done and a store hook asked to stop. */
  private writeVirt(va: bigint, size: number, value: bigint, pc: number): number {
    const inPage = Number(BigInt.asUintN(12, va));
    const first = inPage + size > 4096 ? 4096 - inPage : size;
    // Translate every part before writing any, so a fault on the second page leaves memory unchanged.
    const pa0 = this.translateData(va, first, Access.Store);
    const va1 = BigInt.asUintN(64, va + BigInt(first));
    const pa1 = first < size ? this.translateData(va1, size - first, Access.Store) : 0n;
    if (pa0 < 0n || pa1 < 0n) {
      this.setPcNumber(this.trap(Number(pa0 < 0n ? -pa0 : -pa1), pa0 < 0n ? va : va1, pc));
      return 1;
    }
    if (!this.writePhys(pa0, first, BigInt.asUintN(first * 8, value))) {
      this.setPcNumber(this.trap(Cause.StoreAccessFault, va, pc));
      return 1;
    }
    let r = this.afterStore(pa0, first);
    if (first < size) {
      if (!this.writePhys(pa1, size - first, value >> BigInt(8 * first))) {
        this.setPcNumber(this.trap(Cause.StoreAccessFault, va1, pc));
        return 1;
      }
      r |= this.afterStore(pa1, size - first);
    }
    return r;
  }

  /**
   * Load that missed the fast path: a TLB miss, a misaligned access (allowed, as QEMU does), MMIO, or a fault.
   * Writes x[rd] and returns true, or takes the trap (pc updated in state) and returns false.
   */
  private loadSlow(rd: number, rs1: number, imm: number, size: number, signed: boolean, pc: number): boolean {
    const v = this.readVirt(this.exactAddr(rs1, imm), size, Access.Load, pc);
    if (v === null) return false;
    this.x[rd] = signed ? BigInt.asIntN(size * 8, v) : v;
    return true;
  }

  /** Read `size` bytes at physical `addr` (any alignment); null when some byte is not backed by RAM or a device. */
  readPhys(addr: bigint, size: number): bigint | null {
    if (addr > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    const a = Number(addr);
    const off = a - this.ramBase;
    if (off >= 0 && off + size <= this.ramSize) {
      let v = 0n;
      for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.u8[RAM_OFFSET + off + i]!);
      return v;
    }
    if (size === 8 && (a & 7) === 0) {
      const lo = this.bus.read(a, 4);
      const hi = this.bus.read(a + 4, 4);
      if (lo < 0 || hi < 0) return null;
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
    if (size <= 4 && a % size === 0) {
      const v = this.bus.read(a, size as 1 | 2 | 4);
      return v < 0 ? null : BigInt(v);
    }
    return null; // misaligned MMIO
  }

  /** Write `size` bytes at physical `addr`; false when some byte is not backed. Keeps the decode cache coherent. */
  writePhys(addr: bigint, size: number, value: bigint): boolean {
    if (addr > BigInt(Number.MAX_SAFE_INTEGER)) return false;
    const a = Number(addr);
    const off = a - this.ramBase;
    if (off >= 0 && off + size <= this.ramSize) {
      for (let i = 0; i < size; i++) this.u8[RAM_OFFSET + off + i] = Number((value >> BigInt(8 * i)) & 0xffn);
      const p0 = Math.floor(off / 4096);
      const p1 = Math.floor((off + size - 1) / 4096);
      for (let p = p0; p <= p1; p++) if ((this.pageFlags[p]! & PAGE_CODE) !== 0) this.invalidatePage(p);
      return true;
    }
    if (size === 8 && (a & 7) === 0) {
      if (this.bus.find(a, 8) === undefined) return false;
      this.bus.write(a, 4, Number(value & 0xffffffffn));
      this.bus.write(a + 4, 4, Number((value >> 32n) & 0xffffffffn));
      return true;
    }
    if (size <= 4 && a % size === 0) return this.bus.write(a, size as 1 | 2 | 4, Number(value & 0xffffffffn));
    return false;
  }

  /** Store that missed the fast path. Returns 0 (done), 1 (trapped; pc in state) or 2 (done, stop requested). */
  private storeSlow(rs1: number, imm: number, size: number, lo: number, hi: number, pc: number): number {
    const value = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    return this.writeVirt(this.exactAddr(rs1, imm), size, value, pc);
  }

  /** Run the store hook if the stored bytes touch a hooked page. */
  private afterStore(addr: bigint, size: number): number {
    const off = Number(addr) - this.ramBase;
    if (off < 0 || off >= this.ramSize) return 0;
    if ((this.pageFlags[Math.floor(off / 4096)]! & PAGE_HOOK) === 0 || this.storeHook === null) return 0;
    return this.storeHook(Number(addr), size) ? 2 : 0;
  }

  // ---- A extension (unprivileged spec ch. 8) ----

  /**
   * LR/SC and AMOs. LR/SC follow QEMU 7.2: LR records the address and the loaded value; SC succeeds when its address
   * is the reserved one and memory still holds that value (a compare-and-swap), and always clears the reservation.
   * AMOs and LR must be naturally aligned (misaligned: store/AMO or load address-misaligned) and in RAM.
   */
  private atomic(op: number, rd: number, rs1: number, rs2: number, pc: number): boolean {
    const isD = op >= 85;
    const size = isD ? 8 : 4;
    const kind = op - (isD ? 85 : 74); // 0 lr, 1 sc, 2 swap, 3 add, 4 xor, 5 and, 6 or, 7 min, 8 max, 9 minu, 10 maxu
    const addr = BigInt.asUintN(64, this.x[rs1]!);
    const csr = this.csr;
    if (kind === 1) {
      // sc: a misaligned address traps even without a reservation (as QEMU 7.2 does)
      if ((addr & BigInt(size - 1)) !== 0n) {
        csr[CsrSlot.loadRes] = -1n;
        this.setPcNumber(this.trap(Cause.StoreAddressMisaligned, addr, pc));
        return false;
      }
      if (addr !== BigInt.asUintN(64, csr[CsrSlot.loadRes]!)) {
        this.x[rd] = 1n;
        csr[CsrSlot.loadRes] = -1n;
        return true;
      }
      const pa = this.translateData(addr, size, Access.Store);
      if (pa < 0n) {
        csr[CsrSlot.loadRes] = -1n;
        this.setPcNumber(this.trap(Number(-pa), addr, pc));
        return false;
      }
      const cur = this.readPhysRam(pa, size);
      const expect = isD ? BigInt.asUintN(64, csr[CsrSlot.loadVal]!) : BigInt.asUintN(32, csr[CsrSlot.loadVal]!);
      csr[CsrSlot.loadRes] = -1n;
      if (cur === null) {
        this.setPcNumber(this.trap(Cause.StoreAccessFault, addr, pc));
        return false;
      }
      if (cur !== expect) {
        this.x[rd] = 1n;
        return true;
      }
      this.writePhys(pa, size, BigInt.asUintN(size * 8, this.x[rs2]!));
      this.x[rd] = 0n;
      const r = this.afterStore(pa, size);
      if (r === 2) this.stopRequested = true;
      return true;
    }
    if ((addr & BigInt(size - 1)) !== 0n) {
      const cause = kind === 0 ? Cause.LoadAddressMisaligned : Cause.StoreAddressMisaligned;
      this.setPcNumber(this.trap(cause, addr, pc));
      return false;
    }
    // LR needs read permission; AMOs need read and write, and fault as stores (privileged spec §4.3.1).
    const pa = this.translateData(addr, size, kind === 0 ? Access.Load : Access.Store);
    if (pa < 0n) {
      this.setPcNumber(this.trap(Number(-pa), addr, pc));
      return false;
    }
    const old = this.readPhysRam(pa, size);
    if (old === null) {
      this.setPcNumber(this.trap(kind === 0 ? Cause.LoadAccessFault : Cause.StoreAccessFault, addr, pc));
      return false;
    }
    const bits = size * 8;
    const oldS = BigInt.asIntN(bits, old);
    if (kind === 0) {
      csr[CsrSlot.loadRes] = addr;
      csr[CsrSlot.loadVal] = oldS;
      this.x[rd] = oldS;
      return true;
    }
    const src = this.x[rs2]!;
    const srcS = BigInt.asIntN(bits, src);
    const srcU = BigInt.asUintN(bits, src);
    let nv: bigint;
    switch (kind) {
      case 2:
        nv = srcU;
        break;
      case 3:
        nv = old + srcU;
        break;
      case 4:
        nv = old ^ srcU;
        break;
      case 5:
        nv = old & srcU;
        break;
      case 6:
        nv = old | srcU;
        break;
      case 7:
        nv = oldS < srcS ? old : srcU;
        break;
      case 8:
        nv = oldS > srcS ? old : srcU;
        break;
      case 9:
        nv = old < srcU ? old : srcU;
        break;
      default:
        nv = old > srcU ? old : srcU;
        break;
    }
    this.writePhys(pa, size, BigInt.asUintN(bits, nv));
    this.x[rd] = oldS;
    if (this.afterStore(pa, size) === 2) this.stopRequested = true;
    return true;
  }

  /** Set by an atomic store to a hooked page that asked to stop; checked by the machine after `run`. */
  stopRequested = false;

  /** Like readPhys, but only RAM (AMOs on devices are access faults). */
  private readPhysRam(addr: bigint, size: number): bigint | null {
    const off = Number(addr) - this.ramBase;
    if (addr > BigInt(Number.MAX_SAFE_INTEGER) || off < 0 || off + size > this.ramSize) return null;
    return this.readPhys(addr, size);
  }

  // ---- Zicsr (unprivileged ch. 9; access rules: privileged spec §2.1) ----

  /** Execute a CSR instruction; false when it trapped (pc in state). */
  private csrOp(op: number, rd: number, rs1: number, csrNum: number, pc: number): boolean {
    const bits = this.bitsAtPc(pc);
    const isImm = op >= 58;
    const kind = isImm ? op - 58 : op - 55; // 0 write, 1 set, 2 clear
    const src = isImm ? BigInt(rs1) : this.x[rs1]!;
    // csrrw with rd = x0 does not read; csrrs/csrrc with rs1 = x0 (or uimm 0) do not write.
    const doRead = kind !== 0 || rd !== X_SINK;
    const doWrite = kind === 0 || rs1 !== 0;
    const priv = Number(this.csr[CsrSlot.priv]!);
    const readOnly = csrNum >>> 10 === 3;
    if (((csrNum >>> 8) & 3) > priv || (doWrite && readOnly)) {
      this.setPcNumber(this.trap(Cause.IllegalInstruction, BigInt(bits), pc));
      return false;
    }
    let old = 0n;
    if (doRead || kind !== 0) {
      const v = readCsr(this, csrNum, priv);
      if (v === null) {
        this.setPcNumber(this.trap(Cause.IllegalInstruction, BigInt(bits), pc));
        return false;
      }
      old = v;
    }
    if (doWrite) {
      const nv = kind === 0 ? src : kind === 1 ? old | src : old & ~src;
      if (!writeCsr(this, csrNum, BigInt.asIntN(64, nv), priv)) {
        this.setPcNumber(this.trap(Cause.IllegalInstruction, BigInt(bits), pc));
        return false;
      }
      this.updateModes();
    }
    this.x[rd] = old;
    return true;
  }

  // ---- Traps and interrupts (privileged spec §3.1.6.1, §3.1.7–3.1.9, §3.3.2, §4.1.1) ----

  /**
   * Take trap `cause` (an exception, or with `interrupt` an interrupt) at pc `epc`: to S-mode when the current mode
   * is S or U and medeleg/mideleg delegates it, else to M-mode. Returns the new pc.
   */
  trap(cause: number, tval: bigint, epc: number, interrupt = false): number {
    this.trapCount++;
    const csr = this.csr;
    const st = csr[CsrSlot.mstatus]!;
    const priv = csr[CsrSlot.priv]!;
    const deleg = csr[interrupt ? CsrSlot.mideleg : CsrSlot.medeleg]!;
    const causeValue = interrupt ? BigInt(cause) | (1n << 63n) : BigInt(cause);
    let vector: bigint;
    if (priv <= 1n && ((deleg >> BigInt(cause)) & 1n) !== 0n) {
      // SPIE ← SIE, SIE ← 0, SPP ← current privilege (0 or 1).
      const sie = (st & MSTATUS_SIE) !== 0n ? MSTATUS_SPIE : 0n;
      csr[CsrSlot.mstatus] = (st & ~(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP)) | sie | (priv << 8n);
      csr[CsrSlot.sepc] = BigInt.asIntN(64, this.exactPc(epc));
      csr[CsrSlot.scause] = BigInt.asIntN(64, causeValue);
      csr[CsrSlot.stval] = BigInt.asIntN(64, tval);
      csr[CsrSlot.priv] = 1n;
      vector = csr[CsrSlot.stvec]!;
    } else {
      // MPIE ← MIE, MIE ← 0, MPP ← current privilege.
      const mie = (st & MSTATUS_MIE) !== 0n ? MSTATUS_MPIE : 0n;
      csr[CsrSlot.mstatus] = (st & ~(MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP)) | mie | (priv << 11n);
      csr[CsrSlot.mepc] = BigInt.asIntN(64, this.exactPc(epc));
      csr[CsrSlot.mcause] = BigInt.asIntN(64, causeValue);
      csr[CsrSlot.mtval] = BigInt.asIntN(64, tval);
      csr[CsrSlot.priv] = 3n;
      vector = csr[CsrSlot.mtvec]!;
    }
    this.privChanged();
    // Exceptions go to BASE; interrupts in vectored mode to BASE + 4 × cause.
    const base = BigInt.asUintN(64, vector & ~3n);
    const target = interrupt && (vector & 3n) === 1n ? base + BigInt(4 * cause) : base;
    return this.pcFromBig(target);
  }

  /**
   * The interrupt to take now, or -1: pending (mip) and enabled (mie) bits, M-level ones unless delegated, taken
   * when the hart runs below M or mstatus.MIE is set; delegated ones when below S or in S with SIE. Priority:
   * MEI, MSI, MTI, SEI, SSI, STI (§3.1.9).
   */
  pendingInterrupt(): number {
    const csr = this.csr;
    this.updateStip();
    const pending = csr[CsrSlot.mip]! & csr[CsrSlot.mie]!;
    if (pending === 0n) return -1;
    const priv = csr[CsrSlot.priv]!;
    const st = csr[CsrSlot.mstatus]!;
    const deleg = csr[CsrSlot.mideleg]!;
    let enabled = 0n;
    if (priv < 3n || (st & MSTATUS_MIE) !== 0n) enabled |= pending & ~deleg;
    if (priv < 1n || (priv === 1n && (st & MSTATUS_SIE) !== 0n)) enabled |= pending & deleg;
    if (enabled === 0n) return -1;
    for (const bit of IRQ_PRIORITY) if ((enabled & bit.mask) !== 0n) return bit.cause;
    return -1;
  }

  /** Sstc: with menvcfg.STCE, mip.STIP follows (time ≥ stimecmp). */
  private updateStip(): void {
    const csr = this.csr;
    if (csr[CsrSlot.menvcfg]! >= 0n || this.timeSource === null) return; // STCE is bit 63: the sign bit
    const due = BigInt.asUintN(64, this.timeSource()) >= BigInt.asUintN(64, csr[CsrSlot.stimecmp]!);
    csr[CsrSlot.mip] = due ? csr[CsrSlot.mip]! | MIP_STIP : csr[CsrSlot.mip]! & ~MIP_STIP;
  }

  /** Sstc: the `time` value at which STIP will rise, or null when Sstc is off or STIP is already pending. */
  stimecmpDeadline(): bigint | null {
    const csr = this.csr;
    if (csr[CsrSlot.menvcfg]! >= 0n) return null;
    return BigInt.asUintN(64, csr[CsrSlot.stimecmp]!);
  }

  /** HartIrq (mem/irq.ts): a device raises or lowers a mip bit (MSIP, MTIP, MEIP, SEIP, SSIP, STIP). */
  setPending(bit: number, level: boolean): void {
    const mask = 1n << BigInt(bit);
    const csr = this.csr;
    csr[CsrSlot.mip] = level ? csr[CsrSlot.mip]! | mask : csr[CsrSlot.mip]! & ~mask;
  }

  /** Current privilege level (0 U, 1 S, 3 M). */
  get priv(): number {
    return Number(this.csr[CsrSlot.priv]!);
  }

  set priv(p: number) {
    this.csr[CsrSlot.priv] = BigInt(p);
    this.privChanged();
  }

  /** Drop every cached translation and the decodings of instructions that straddle into another page. */
  flushTlb(): void {
    this.mmu.tlb.flushAll();
    this.dropStraddlers();
  }

  /** Privilege or mstatus changed: translation state that depends on them must be recomputed. */
  private privChanged(): void {
    this.updateModes();
  }

  /** Derive the translation contexts of fetches and data accesses from priv, mstatus (MPRV, MPP, SUM, MXR) and PMP. */
  private updateModes(): void {
    const csr = this.csr;
    const priv = Number(csr[CsrSlot.priv]!);
    const st = csr[CsrSlot.mstatus]!;
    const dpriv = priv === 3 && (st & MSTATUS_MPRV) !== 0n ? Number((st & MSTATUS_MPP) >> 11n) : priv;
    const sum = (st & MSTATUS_SUM) !== 0n;
    this.mmu.setMxr((st & MSTATUS_MXR) !== 0n);
    const mFree = this.mmu.pmp.mFree;
    this.dpriv = dpriv;
    this.sum = sum;
    this.dctx = dpriv === 3 && mFree ? -1 : tlbContext(dpriv, sum);
    this.fctx = priv === 3 && mFree ? -1 : tlbContext(priv, false);
    this.fpOn = (st & MSTATUS_FS) !== 0n;
    this.fpDirty = (st & MSTATUS_FS) === MSTATUS_FS;
  }

  /** Mark the FP state Dirty (mstatus.FS = 3, which also sets SD when read) for lazy context switching. */
  private markFpDirty(): void {
    this.csr[CsrSlot.mstatus] = this.csr[CsrSlot.mstatus]! | MSTATUS_FS;
    this.fpDirty = true;
  }

  /** sfence.vma rs1, rs2 (privileged spec §4.2.1). */
  private sfenceVma(rs1: number, rs2: number): void {
    const va = this.x[rs1]!;
    const vaN = va >= -(1n << 52n) && va < 1n << 52n ? Number(va) : 2 ** 60;
    this.mmu.sfenceVma(rs1 !== 0, vaN, rs2 !== 0, Number(this.x[rs2]! & 0xffffn));
    this.dropStraddlers();
  }

  private dropStraddlers(): void {
    for (const p of this.straddlers) {
      const c = this.pages[p];
      if (c !== null && c !== undefined) {
        c[4094] = 0;
        c[4095] = 0;
      }
    }
    this.straddlers.length = 0;
  }

  /** CsrHost: satp write through the MMU (WARL, TLB maintenance). */
  writeSatp(v: bigint): bigint {
    const nv = this.mmu.writeSatp(v);
    this.dropStraddlers();
    return nv;
  }

  /** CsrHost: PMP CSRs. */
  readPmp(num: number): bigint | null {
    return this.mmu.readPmpCsr(num);
  }

  writePmp(num: number, v: bigint): boolean {
    return this.mmu.writePmpCsr(num, v);
  }

  /**
   * TLB probe of a data access (mmu/tlb.ts): the host byte offset of `va`, or -1 on a miss or when the access is
   * misaligned (which also rules out crossing a page).
   */
  private probe(va: number, size: number, acc: number): number {
    const lo = va | 0;
    if ((lo & (size - 1)) !== 0) return -1;
    const t = this.tlbT;
    const si = (this.dctx * this.tlbSets + (((lo >>> 12) ^ (lo >>> this.tlbShift)) & this.tlbMask)) << 3;
    const k = (va - (lo & 4095)) * 16 + this.mmu.tlb.asid;
    if (t[si + acc] === k) return t[si + 3]! + va;
    if (t[si + 4 + acc] === k) return t[si + 7]! + va;
    return -1;
  }

  /** mret: back to MPP with MIE ← MPIE, MPIE ← 1, MPP ← U (the least-privileged mode), MPRV ← 0 unless MPP = M. */
  private mret(): number {
    const csr = this.csr;
    const st = csr[CsrSlot.mstatus]!;
    const mpp = (st & MSTATUS_MPP) >> 11n;
    const mie = (st & MSTATUS_MPIE) !== 0n ? MSTATUS_MIE : 0n;
    let ns = (st & ~(MSTATUS_MIE | MSTATUS_MPP)) | mie | MSTATUS_MPIE;
    if (mpp !== 3n) ns &= ~MSTATUS_MPRV;
    csr[CsrSlot.mstatus] = ns;
    csr[CsrSlot.priv] = mpp;
    this.privChanged();
    return this.pcFromBig(BigInt.asUintN(64, csr[CsrSlot.mepc]!));
  }

  /** sret: back to SPP with SIE ← SPIE, SPIE ← 1, SPP ← U, MPRV ← 0. */
  private sret(): number {
    const csr = this.csr;
    const st = csr[CsrSlot.mstatus]!;
    const spp = (st & MSTATUS_SPP) >> 8n;
    const sie = (st & MSTATUS_SPIE) !== 0n ? MSTATUS_SIE : 0n;
    csr[CsrSlot.mstatus] = (st & ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV)) | sie | MSTATUS_SPIE;
    csr[CsrSlot.priv] = spp;
    this.privChanged();
    return this.pcFromBig(BigInt.asUintN(64, csr[CsrSlot.sepc]!));
  }
}

/** Interrupt causes in priority order with their mip bits. */
const IRQ_PRIORITY: readonly { readonly cause: number; readonly mask: bigint }[] = [
  { cause: 11, mask: MIP_MEIP },
  { cause: 3, mask: MIP_MSIP },
  { cause: 7, mask: MIP_MTIP },
  { cause: 9, mask: MIP_SEIP },
  { cause: 1, mask: MIP_SSIP },
  { cause: 5, mask: MIP_STIP },
];

// ---- 64-bit helpers on 32-bit halves (xi[i] low, xi[i + 1] high) ----

/** Write a number |v| < 2^53 as a sign-extended 64-bit register value. */
function setXNum(xi: Int32Array, d: number, v: number): void {
  xi[d] = v >>> 0;
  xi[d + 1] = Math.floor(v / TWO32) | 0;
}

function lt64(xi: Int32Array, a: number, b: number): boolean {
  const ha = xi[a + 1]!;
  const hb = xi[b + 1]!;
  return ha < hb || (ha === hb && xi[a]! >>> 0 < xi[b]! >>> 0);
}

function ltu64(xi: Int32Array, a: number, b: number): boolean {
  const ha = xi[a + 1]! >>> 0;
  const hb = xi[b + 1]! >>> 0;
  return ha < hb || (ha === hb && xi[a]! >>> 0 < xi[b]! >>> 0);
}

function sll64(xi: Int32Array, d: number, a: number, s: number): void {
  const lo = xi[a]!;
  const hi = xi[a + 1]!;
  if (s === 0) {
    xi[d] = lo;
    xi[d + 1] = hi;
  } else if (s < 32) {
    xi[d + 1] = (hi << s) | (lo >>> (32 - s));
    xi[d] = lo << s;
  } else {
    xi[d + 1] = lo << (s - 32);
    xi[d] = 0;
  }
}

function srl64(xi: Int32Array, d: number, a: number, s: number): void {
  const lo = xi[a]!;
  const hi = xi[a + 1]!;
  if (s === 0) {
    xi[d] = lo;
    xi[d + 1] = hi;
  } else if (s < 32) {
    xi[d] = (lo >>> s) | (hi << (32 - s));
    xi[d + 1] = hi >>> s;
  } else {
    xi[d] = hi >>> (s - 32);
    xi[d + 1] = 0;
  }
}

function sra64(xi: Int32Array, d: number, a: number, s: number): void {
  const lo = xi[a]!;
  const hi = xi[a + 1]!;
  if (s === 0) {
    xi[d] = lo;
    xi[d + 1] = hi;
  } else if (s < 32) {
    xi[d] = (lo >>> s) | (hi << (32 - s));
    xi[d + 1] = hi >> s;
  } else {
    xi[d] = hi >> (s - 32);
    xi[d + 1] = hi >> 31;
  }
}
