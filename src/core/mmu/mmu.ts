/**
 * One hart's MMU: the slow path behind its TLB probe. Translates (walk.ts), checks PMP for the access (pmp.ts), and
 * caches RAM pages in the TLB (tlb.ts) with exactly the permissions a walk and PMP grant for the whole 4 KiB page, so a
 * TLB hit needs no further check. Also the satp / mstatus.MXR / PMP-CSR / sfence.vma hooks that keep the TLB right
 * (privileged spec 1.12 §3.7, §4.1.11, §4.2.1, §4.3). Results: physical address ≥ 0, or −cause.
 */
import { ACCESS_FAULT, type AccessType, Perm, PRV_M, PRV_S, PRV_U } from "./access.ts";
import { Pmp } from "./pmp.ts";
import { TLB_SETS, Tlb, tlbContext } from "./tlb.ts";
import { legalSatp, PTE_D, PTE_G, PTE_R, PTE_U, PTE_W, PTE_X, SatpMode, Walker } from "./walk.ts";

export interface MmuOptions {
  /** The machine's memory buffer: guest RAM at `ramOffset`, the TLB at `tlbOffset`. */
  readonly buffer: ArrayBufferLike;
  readonly ramOffset: number;
  readonly ramBase: number;
  readonly ramSize: number;
  /** The hart's CSR slots (cpu/layout.ts), where the PMP registers live. */
  readonly csr: BigInt64Array;
  /** Byte offset of this hart's TLB in `buffer` (Tlb.byteLength(tlbSets) bytes). */
  readonly tlbOffset: number;
  readonly tlbSets?: number;
}

/**
 * Which access types a TLB entry in the context of (`priv`, `sum`) may allow for leaf PTE `pte` (low word, A/D
 * already updated): U pages only for U, and for S with SUM (loads and stores, never fetches); S pages never for U;
 * stores only once D is set, so the first store still walks to set it.
 */
export function leafPerms(pte: number, priv: number, sum: boolean, mxr: boolean): number {
  const user = (pte & PTE_U) !== 0;
  if (priv === PRV_U ? !user : user && !sum) return 0;
  let p = 0;
  if ((pte & PTE_X) !== 0 && !(user && priv === PRV_S)) p |= Perm.Fetch;
  if ((pte & PTE_R) !== 0 || (mxr && (pte & PTE_X) !== 0)) p |= Perm.Load;
  if ((pte & PTE_W) !== 0 && (pte & PTE_D) !== 0) p |= Perm.Store;
  return p;
}

export class Mmu {
  readonly pmp: Pmp;
  readonly walker: Walker;
  readonly tlb: Tlb;
  private readonly ramOffset: number;
  private readonly ramBase: number;
  private readonly ramSize: number;
  /** Current satp (legal), signed as the hart's BigInt64Array CSR slots hold it. */
  satp = 0n;
  /** Current mstatus.MXR. */
  mxr = false;

  constructor(opts: MmuOptions) {
    this.ramOffset = opts.ramOffset;
    this.ramBase = opts.ramBase;
    this.ramSize = opts.ramSize;
    this.pmp = new Pmp(opts.csr);
    this.walker = new Walker({
      buffer: opts.buffer,
      ramOffset: opts.ramOffset,
      ramBase: opts.ramBase,
      ramSize: opts.ramSize,
      pmp: this.pmp,
    });
    this.tlb = new Tlb(opts.buffer, opts.tlbOffset, opts.tlbSets ?? TLB_SETS);
  }

  /** Re-derive everything from architectural state (after reset or snapshot restore): satp, MXR, the PMP slots. */
  reload(satp: bigint, mxr: boolean): void {
    this.satp = legalSatp(0n, BigInt.asIntN(64, satp));
    this.walker.setSatp(this.satp);
    this.mxr = mxr;
    this.pmp.reload();
    this.tlb.flushAll();
    this.tlb.asid = this.walker.asid;
  }

  /**
   * The slow path of an access of `size` bytes at `va` (not crossing a 4 KiB page: the caller splits) that missed the
   * TLB, at effective privilege `priv` (mstatus.MPRV already applied for loads and stores) with mstatus.SUM `sum`.
   * Returns the physical address (RAM or a device: the caller routes it), or −cause (page fault 12/13/15 or access
   * fault 1/5/7, for mtval = va). RAM pages that PMP allows as a whole are cached in the TLB context of (priv, sum).
   */
  translate(va: number, size: number, access: AccessType, priv: number, sum: boolean): number {
    const w = this.walker;
    let pa: number;
    let perms: number;
    let level = 0;
    let global = true;
    if (priv === PRV_M || w.mode === SatpMode.Bare) {
      if (!(va >= 0)) return -ACCESS_FAULT[access]!;
      pa = va;
      perms = Perm.All;
    } else {
      pa = w.translate(va, access, priv, sum, this.mxr);
      if (pa < 0) return pa;
      perms = leafPerms(w.pteLo, priv, sum, this.mxr);
      level = w.level;
      global = (w.pteLo & PTE_G) !== 0;
    }
    const pageOff = pa % 4096;
    const pagePa = pa - pageOff;
    const pmpPerms = priv === PRV_M && this.pmp.mFree ? Perm.All : this.pmp.allowed(pagePa, 4096, priv);
    if ((pmpPerms & (1 << access)) === 0) {
      // The page is not allowed as a whole; the access itself may be (a PMP bound inside the page). Never cached.
      return this.pmp.check(pa, size, access, priv) ? pa : -ACCESS_FAULT[access]!;
    }
    const ramOff = pagePa - this.ramBase;
    if (ramOff >= 0 && ramOff + 4096 <= this.ramSize) {
      this.tlb.fill(tlbContext(priv, sum), va, perms & pmpPerms, this.ramOffset + ramOff, level, global);
    }
    return pa;
  }

  /**
   * Write satp (WARL: an unsupported MODE leaves it unchanged); returns the value satp now holds (signed). A MODE change drops
   * the whole TLB (Bare and M entries are identity maps a real TLB would not hold); an ASID change switches the TLB's
   * ASID (nothing dropped); a new root with the same ASID drops that ASID's entries, as QEMU flushes on every satp
   * change (the spec asks software for an sfence.vma there, so this only forgives guests that omit it).
   */
  writeSatp(v: bigint): bigint {
    const old = this.satp;
    const nv = legalSatp(old, BigInt.asIntN(64, v));
    if (nv === old) return old;
    const w = this.walker;
    const oldMode = w.mode;
    const oldAsid = w.asid;
    this.satp = nv;
    w.setSatp(nv);
    if (w.mode !== oldMode) {
      this.tlb.flushAll();
      this.tlb.asid = w.asid;
    } else if (w.asid !== oldAsid) {
      this.tlb.setAsid(w.asid);
    } else {
      this.tlb.flushAsid(w.asid);
    }
    return nv;
  }

  /** mstatus was written: clearing MXR withdraws load permission from execute-only pages, so cached entries go. */
  setMxr(mxr: boolean): void {
    if (this.mxr && !mxr) this.tlb.flushAll();
    this.mxr = mxr;
  }

  /** Read a PMP CSR (pmp.ts readCsr). */
  readPmpCsr(num: number): bigint | null {
    return this.pmp.readCsr(num);
  }

  /** Write a PMP CSR (pmp.ts writeCsr) and drop the TLB, whose entries carry PMP permissions. */
  writePmpCsr(num: number, v: bigint): boolean {
    const ok = this.pmp.writeCsr(num, v);
    if (ok) this.tlb.flushAll();
    return ok;
  }

  /**
   * sfence.vma rs1, rs2: `hasVa` is rs1 ≠ x0 with `va` its value (signed, as a number), `hasAsid` is rs2 ≠ x0 with
   * `asid` its value (only bits 15:0 count).
   */
  sfenceVma(hasVa: boolean, va: number, hasAsid: boolean, asid: number): void {
    const a = asid & 0xffff;
    if (!hasVa) {
      if (hasAsid) this.tlb.flushAsid(a);
      else this.tlb.flushAll();
    } else if (hasAsid) {
      this.tlb.flushPageAsid(va, a);
    } else {
      this.tlb.flushPage(va);
    }
  }
}
