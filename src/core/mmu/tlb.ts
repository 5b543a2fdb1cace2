/**
 * Software TLB: 2-way set-associative, one table per translation context (U, S, S with SUM, M), kept in typed arrays
 * over a caller's buffer (the machine's WebAssembly.Memory) so JIT code can probe it with plain loads. A hit gives the
 * host byte offset of the guest byte with one add. Entries are 4 KiB (superpages are cached one 4 KiB piece at a time
 * and flushed as a whole), ASID-tagged, global-aware, and flushed with sfence.vma semantics (privileged spec 1.12
 * §4.2.1). It caches only what a walk allowed; stores hit only pages whose PTE already has D set.
 *
 * Layout from `byteOffset`, with E = contexts × sets × 2 entries (entry e = (ctx × sets + set) × 2 + way):
 *   [0, 32E)     f64 × 4 per entry: key for fetch, key for load, key for store, addend
 *   [32E, 40E)   f64 per entry: the 4 KiB page's virtual address (NaN when empty)
 *   [40E, 44E)   i32 per entry: ASID (bits 15:0) | G (bit 16) | level of the leaf (bits 18:17)
 * key = pageVA × 16 + ASID (exact in a double for pageVA within ±2^47); a permission the entry lacks holds 0.5, which
 * no key equals. host offset = va + addend. The set of `va` is
 *   ctx × sets + (((va | 0) >>> 12) ^ ((va | 0) >>> shift)) & (sets − 1),    shift = 12 + log2(sets)
 * so pages 2^(12+log2 sets) bytes apart (code and data of one program) land in different sets (V8-FACTS.md hazards).
 * Interpreter probe, inline:
 *   const lo = va | 0, s = (ctxBase + (((lo >>> 12) ^ (lo >>> shift)) & mask)) << 3, k = (va - (lo & 4095)) * 16 + asid;
 *   if (t[s + access] === k) off = t[s + 3] + va; else if (t[s + 4 + access] === k) off = t[s + 7] + va; else slow
 * Global entries carry the current ASID in their key and are re-keyed when the ASID changes (setAsid), so a probe is a
 * single compare; entries of other ASIDs stay cached across address-space switches.
 */
import type { AccessType } from "./access.ts";

/** Translation contexts: one table each, so changing privilege or mstatus.SUM never flushes. */
export const TlbCtx = { U: 0, S: 1, SSum: 2, M: 3 } as const;
/** Number of contexts in the default layout. */
export const TLB_CONTEXTS = 4;
/** Default sets per context (2 ways each): 512 entries per context. */
export const TLB_SETS = 256;

/** The value of a key slot that nothing matches (keys are integers). */
const NO_KEY = 0.5;
const G_BIT = 1 << 16;

/** Context of a translated access at effective privilege `priv` (0 U, 1 S, 3 M) with mstatus.SUM `sum`. */
export function tlbContext(priv: number, sum: boolean): number {
  return priv === 0 ? TlbCtx.U : priv === 1 ? (sum ? TlbCtx.SSum : TlbCtx.S) : TlbCtx.M;
}

export class Tlb {
  /** Bytes a TLB with `sets` sets per context and `contexts` contexts occupies in its buffer. */
  static byteLength(sets: number = TLB_SETS, contexts: number = TLB_CONTEXTS): number {
    return contexts * sets * 2 * 44;
  }

  readonly sets: number;
  /** sets − 1. */
  readonly mask: number;
  /** 12 + log2(sets): the second shift of the set hash. */
  readonly shift: number;
  readonly contexts: number;
  readonly entries: number;
  /** Keys and addends, 4 per entry (see the file header). */
  readonly t: Float64Array;
  /** Page virtual address per entry, NaN when empty. */
  readonly page: Float64Array;
  /** ASID | G << 16 | level << 17 per entry. */
  readonly info: Int32Array;
  /** The current ASID (satp.ASID): part of every key. */
  asid = 0;
  /** Lowest and highest virtual address covered by a superpage cached since the last full flush, per context. */
  private readonly lpLo: Float64Array;
  private readonly lpHi: Float64Array;
  /** Upper bound of global entries present (re-keying is skipped when 0). */
  private globals = 0;

  constructor(buffer: ArrayBufferLike, byteOffset: number, sets: number = TLB_SETS, contexts: number = TLB_CONTEXTS) {
    if (!(sets >= 1 && (sets & (sets - 1)) === 0 && sets <= 1 << 16)) throw new RangeError(`Tlb: sets ${sets}`);
    if (byteOffset % 8 !== 0) throw new RangeError(`Tlb: byteOffset ${byteOffset} is not 8-byte aligned`);
    this.sets = sets;
    this.mask = sets - 1;
    this.shift = 12 + Math.log2(sets);
    this.contexts = contexts;
    const n = contexts * sets * 2;
    this.entries = n;
    this.t = new Float64Array(buffer, byteOffset, n * 4);
    this.page = new Float64Array(buffer, byteOffset + n * 32, n);
    this.info = new Int32Array(buffer, byteOffset + n * 40, n);
    this.lpLo = new Float64Array(contexts);
    this.lpHi = new Float64Array(contexts);
    this.flushAll();
  }

  /** Index in `t` of way 0 of the set holding `va` in context `ctx` (way 1 is 4 further). */
  slot(ctx: number, va: number): number {
    const lo = va | 0;
    return (ctx * this.sets + (((lo >>> 12) ^ (lo >>> this.shift)) & this.mask)) << 3;
  }

  /** Host byte offset of `va` for `access` in context `ctx`, or −1 on a miss. */
  lookup(ctx: number, va: number, access: AccessType): number {
    const lo = va | 0;
    const s = (ctx * this.sets + (((lo >>> 12) ^ (lo >>> this.shift)) & this.mask)) << 3;
    const k = (va - (lo & 4095)) * 16 + this.asid;
    const t = this.t;
    if (t[s + access] === k) return t[s + 3]! + va;
    if (t[s + 4 + access] === k) return t[s + 7]! + va;
    return -1;
  }

  /**
   * Cache the 4 KiB page holding `va` in context `ctx`: `perms` (access.ts Perm) says which access types may hit,
   * `hostPage` is the host byte offset of the page's first byte, `level` the leaf's level (superpages are flushed as a
   * whole), `global` the PTE's G bit. Replaces an entry for the same page and ASID; the newest fill sits in way 0 (the probe's first compare).
   */
  fill(ctx: number, va: number, perms: number, hostPage: number, level: number, global: boolean): void {
    const lo = va | 0;
    const pageVa = va - (lo & 4095);
    const s = this.slot(ctx, va);
    const asid = this.asid;
    const t = this.t;
    const e = s >> 2;
    if (!(this.page[e] === pageVa && (this.info[e]! & 0xffff) === asid)) {
      // The newest fill goes to way 0 and way 0's entry to way 1, evicting way 1's (which may be this very page:
      // then nothing else is lost and no duplicate remains).
      t[s + 4] = t[s]!;
      t[s + 5] = t[s + 1]!;
      t[s + 6] = t[s + 2]!;
      t[s + 7] = t[s + 3]!;
      this.page[e + 1] = this.page[e]!;
      this.info[e + 1] = this.info[e]!;
    }
    const k = pageVa * 16 + asid;
    const f = e << 2;
    t[f] = (perms & 1) !== 0 ? k : NO_KEY;
    t[f + 1] = (perms & 2) !== 0 ? k : NO_KEY;
    t[f + 2] = (perms & 4) !== 0 ? k : NO_KEY;
    t[f + 3] = hostPage - pageVa;
    this.page[e] = pageVa;
    this.info[e] = asid | (global ? G_BIT : 0) | (level << 17);
    if (global) this.globals++;
    if (level > 0) {
      const size = 2 ** (12 + 9 * level);
      const base = pageVa - mod(pageVa, size);
      if (base < this.lpLo[ctx]!) this.lpLo[ctx] = base;
      if (base + size > this.lpHi[ctx]!) this.lpHi[ctx] = base + size;
    }
  }

  /**
   * Switch to address space `asid` (after a satp write that changed satp.ASID). Entries of other ASIDs stay cached;
   * global entries are re-keyed to the new ASID.
   */
  setAsid(asid: number): void {
    const old = this.asid;
    if (asid === old) return;
    this.asid = asid;
    if (this.globals === 0) return;
    const d = asid - old;
    const t = this.t;
    for (let e = 0; e < this.entries; e++) {
      const inf = this.info[e]!;
      if ((inf & G_BIT) === 0 || Number.isNaN(this.page[e]!)) continue;
      const f = e << 2;
      for (let a = 0; a < 3; a++) if (t[f + a] !== NO_KEY) t[f + a] = t[f + a]! + d;
      this.info[e] = (inf & ~0xffff) | asid;
    }
  }

  /**
   * Withdraw store permission from every entry mapping the host page at `hostPage` (any context or ASID), so that
   * stores to it take the slow path: for a page that just became code (decode cache) or has a store hook. Scans the
   * whole TLB; meant for rare events.
   */
  revokeStores(hostPage: number): void {
    const t = this.t;
    for (let e = 0; e < this.entries; e++) {
      const f = e << 2;
      if (t[f + 2] !== NO_KEY && t[f + 3]! + this.page[e]! === hostPage) t[f + 2] = NO_KEY;
    }
  }

  // ---- sfence.vma (§4.2.1): rs1 = x0 → every address, rs2 = x0 → every ASID, global entries kept by ASID flushes ----

  /** sfence.vma x0, x0 (and PMP or satp.MODE changes): drop everything. */
  flushAll(): void {
    const t = this.t;
    for (let f = 0; f < t.length; f += 4) {
      t[f] = NO_KEY;
      t[f + 1] = NO_KEY;
      t[f + 2] = NO_KEY;
      t[f + 3] = 0;
    }
    this.page.fill(Number.NaN);
    this.info.fill(0);
    this.lpLo.fill(Number.POSITIVE_INFINITY);
    this.lpHi.fill(Number.NEGATIVE_INFINITY);
    this.globals = 0;
  }

  /** sfence.vma x0, rs2: drop the non-global entries of ASID `asid`. */
  flushAsid(asid: number): void {
    for (let e = 0; e < this.entries; e++) {
      if ((this.info[e]! & (G_BIT | 0xffff)) === asid) this.drop(e);
    }
  }

  /** sfence.vma rs1, x0: drop every entry (any ASID, global too) for the leaf mapping `va`. */
  flushPage(va: number): void {
    this.flushVa(va, -1);
  }

  /** sfence.vma rs1, rs2: drop the non-global entries of ASID `asid` for the leaf mapping `va`. */
  flushPageAsid(va: number, asid: number): void {
    this.flushVa(va, asid);
  }

  /** Entries mapping `va`; `asid` −1 means any ASID, global entries included. */
  private flushVa(va: number, asid: number): void {
    const lo = va | 0;
    const pageVa = va - (lo & 4095);
    const perCtx = this.sets * 2;
    for (let ctx = 0; ctx < this.contexts; ctx++) {
      if (va >= this.lpLo[ctx]! && va < this.lpHi[ctx]!) {
        // A superpage may cover va: its 4 KiB pieces sit in other sets, so look at the whole context.
        const first = ctx * perCtx;
        for (let e = first; e < first + perCtx; e++) if (this.covers(e, va) && this.asidMatches(e, asid)) this.drop(e);
      } else {
        const e = this.slot(ctx, va) >> 2;
        if (this.page[e] === pageVa && this.asidMatches(e, asid)) this.drop(e);
        if (this.page[e + 1] === pageVa && this.asidMatches(e + 1, asid)) this.drop(e + 1);
      }
    }
  }

  private asidMatches(e: number, asid: number): boolean {
    return asid < 0 || (this.info[e]! & (G_BIT | 0xffff)) === asid;
  }

  /** Whether entry `e` comes from a leaf whose page (of its level) contains `va`. */
  private covers(e: number, va: number): boolean {
    const p = this.page[e]!;
    if (Number.isNaN(p)) return false;
    const size = 2 ** (12 + 9 * ((this.info[e]! >> 17) & 3));
    const base = p - mod(p, size);
    return va >= base && va < base + size;
  }

  private drop(e: number): void {
    const f = e << 2;
    this.t[f] = NO_KEY;
    this.t[f + 1] = NO_KEY;
    this.t[f + 2] = NO_KEY;
    this.page[e] = Number.NaN;
    this.info[e] = 0;
  }
}

/** Non-negative remainder (for negative addresses). */
function mod(a: number, m: number): number {
  const r = a % m;
  return r < 0 ? r + m : r;
}
