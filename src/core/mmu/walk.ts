/**
 * Sv39/Sv48 page-table walk (privileged spec 1.12 §4.3.2, §4.4, §4.5) over guest RAM in the machine's memory, with
 * hardware A/D updating as QEMU 7.2 does (A on every access, D on stores, compare-and-swap; a lost race re-walks).
 * PTE accesses are PMP-checked with privilege S. Svnapot and Svpbmt are absent, so PTE bits 63:54 must be zero.
 * Differences from QEMU 7.2, both as the spec says: a PTE outside RAM, and an A/D write-back that PMP denies, raise an
 * access fault (QEMU: a page fault, and no PMP check of the write).
 *
 * Virtual addresses are the signed value of the 64-bit register as a number (canonical Sv39/Sv48 addresses are
 * within ±2^47, exact in a double). The result is a number: the physical address, or minus the exception cause.
 */
import { ACCESS_FAULT, Access, type AccessType, PAGE_FAULT, PRV_M, PRV_S, PRV_U } from "./access.ts";
import type { Pmp } from "./pmp.ts";

/** satp.MODE values (RV64). */
export const SatpMode = { Bare: 0, Sv39: 8, Sv48: 9 } as const;

/** PTE bits (§4.3.1). */
export const PTE_V = 0x01;
export const PTE_R = 0x02;
export const PTE_W = 0x04;
export const PTE_X = 0x08;
export const PTE_U = 0x10;
export const PTE_G = 0x20;
export const PTE_A = 0x40;
export const PTE_D = 0x80;

const TWO32 = 2 ** 32;

/**
 * satp after software writes `v` over `old` (WARL, §4.1.11): a write with an unsupported MODE has no effect at all;
 * ASID is 16 bits, all writable; PPN is 44 bits.
 */
export function legalSatp(old: bigint, v: bigint): bigint {
  const mode = Number(BigInt.asUintN(64, v) >> 60n);
  if (mode !== SatpMode.Bare && mode !== SatpMode.Sv39 && mode !== SatpMode.Sv48) return old;
  return v;
}

export interface WalkerOptions {
  /** The buffer holding guest RAM (the machine's WebAssembly.Memory buffer). */
  readonly buffer: ArrayBufferLike;
  /** Byte offset of guest RAM in `buffer` (cpu/layout.ts RAM_OFFSET). */
  readonly ramOffset: number;
  /** Guest physical address of the first RAM byte. */
  readonly ramBase: number;
  /** RAM size in bytes (a multiple of 8). */
  readonly ramSize: number;
  /** PMP applied to PTE accesses, or null for none. */
  readonly pmp: Pmp | null;
}

export class Walker {
  private readonly i32: Int32Array;
  private readonly ramOffset: number;
  private readonly ramBase: number;
  private readonly ramSize: number;
  private readonly pmp: Pmp | null;

  // ---- Decoded satp (setSatp) ----
  /** satp.MODE (SatpMode). */
  mode = 0;
  /** satp.ASID. */
  asid = 0;
  /** Physical address of the root page table (satp.PPN × 4096). */
  root = 0;

  // ---- What the last successful translate found (for filling a TLB); meaningless after a fault ----
  /** Low and high words of the leaf PTE, after its A/D update (0 when no translation happened: Bare or M). */
  pteLo = 0;
  pteHi = 0;
  /** Level of the leaf: 0 = 4 KiB page, 1 = 2 MiB, 2 = 1 GiB, 3 = 512 GiB. */
  level = 0;
  /** Physical address of the leaf PTE (−1 when no translation happened). */
  pteAddr = -1;

  constructor(opts: WalkerOptions) {
    // An explicit length: a view of a shared wasm memory's growable buffer without one tracks its length (slow).
    this.i32 = new Int32Array(opts.buffer, 0, opts.buffer.byteLength >>> 2);
    this.ramOffset = opts.ramOffset;
    this.ramBase = opts.ramBase;
    this.ramSize = opts.ramSize;
    this.pmp = opts.pmp;
  }

  /** Take a new satp value (already legal: see legalSatp). The caller decides what to flush from its TLBs. */
  setSatp(satp: bigint): void {
    const v = BigInt.asUintN(64, satp);
    this.mode = Number(v >> 60n);
    this.asid = Number((v >> 44n) & 0xffffn);
    this.root = Number(v & 0xfff_ffff_ffffn) * 4096;
  }

  /**
   * Translate virtual address `va` for an access of type `access` at effective privilege `priv` (U or S; M, and satp
   * Bare, mean no translation: the caller applies mstatus.MPRV first). `sum` and `mxr` are mstatus.SUM and MXR.
   * Returns the physical address (≥ 0; addresses above 2^53 may be rounded, but nothing is there), or −cause:
   * 12/13/15 page faults, 1/5/7 access faults when a PTE is outside RAM or PMP denies a PTE access.
   */
  translate(va: number, access: AccessType, priv: number, sum: boolean, mxr: boolean): number {
    this.pteLo = 0;
    this.pteHi = 0;
    this.level = 0;
    this.pteAddr = -1;
    const mode = this.mode;
    if (priv === PRV_M || mode === SatpMode.Bare) return va >= 0 ? va : -ACCESS_FAULT[access]!;
    const levels = mode === SatpMode.Sv48 ? 4 : 3;
    // Canonical check (§4.4.1, §4.5.1): bits 63:39 (Sv39) or 63:48 (Sv48) equal to the top VA bit.
    const half = levels === 4 ? 2 ** 47 : 2 ** 38;
    if (!(va >= -half && va < half)) return -PAGE_FAULT[access]!;
    // VA as two's-complement words: bits 12..47 hold VPN[0..3].
    const vaHi = Math.floor(va / TWO32);
    const vaLo = (va - vaHi * TWO32) >>> 0;
    const i32 = this.i32;
    const pmp = this.pmp;

    // A lost A/D race restarts the walk from the root.
    walk: for (;;) {
      let base = this.root;
      let level = levels - 1;
      for (;;) {
        const vpn =
          level === 0
            ? (vaLo >>> 12) & 511
            : level === 1
              ? (vaLo >>> 21) & 511
              : level === 2
                ? ((vaLo >>> 30) | (vaHi << 2)) & 511
                : (vaHi >>> 7) & 511;
        const pteAddr = base + vpn * 8;
        const off = pteAddr - this.ramBase;
        if (!(off >= 0 && off < this.ramSize)) return -ACCESS_FAULT[access]!;
        if (pmp !== null && !pmp.check(pteAddr, 8, Access.Load, PRV_S)) return -ACCESS_FAULT[access]!;
        const k = (this.ramOffset + off) >>> 2;
        const lo = i32[k]!;
        const hi = i32[k + 1]!;

        // Bits 63:54 are reserved (PBMT, N and the rest): nonzero is a page fault without Svpbmt/Svnapot.
        if (hi >>> 22 !== 0 || (lo & PTE_V) === 0) return -PAGE_FAULT[access]!;
        const rwx = lo & (PTE_R | PTE_W | PTE_X);
        if (rwx === 0) {
          // Pointer to the next level. D, A, U are reserved in non-leaf PTEs (QEMU faults on them).
          if ((lo & (PTE_D | PTE_A | PTE_U)) !== 0 || level === 0) return -PAGE_FAULT[access]!;
          base = ((hi & 0x3fffff) * 4194304 + (lo >>> 10)) * 4096;
          level--;
          continue;
        }
        // Leaf. W without R is reserved (W and W+X).
        if ((rwx & PTE_R) === 0 && (rwx & PTE_W) !== 0) return -PAGE_FAULT[access]!;
        if ((lo & PTE_U) !== 0) {
          if (priv !== PRV_U && (!sum || access === Access.Fetch)) return -PAGE_FAULT[access]!;
        } else if (priv !== PRV_S) {
          return -PAGE_FAULT[access]!;
        }
        // Superpage alignment: PPN bits below the level must be zero (§4.3.2 step 6).
        if (level > 0) {
          const ppnLo = lo >>> 10; // PPN bits 21:0
          if (level < 3 ? (ppnLo & ((1 << (9 * level)) - 1)) !== 0 : ppnLo !== 0 || (hi & 0x1f) !== 0) {
            return -PAGE_FAULT[access]!;
          }
        }
        if (access === Access.Load) {
          if ((lo & PTE_R) === 0 && !(mxr && (lo & PTE_X) !== 0)) return -PAGE_FAULT[access]!;
        } else if (access === Access.Store) {
          if ((lo & PTE_W) === 0) return -PAGE_FAULT[access]!;
        } else if ((lo & PTE_X) === 0) {
          return -PAGE_FAULT[access]!;
        }

        let pte = lo;
        const want = lo | PTE_A | (access === Access.Store ? PTE_D : 0);
        if (want !== lo) {
          // The A/D write is a store to the PTE: PMP must allow it (§4.3.2 step 7).
          if (pmp !== null && !pmp.check(pteAddr, 8, Access.Store, PRV_S)) return -ACCESS_FAULT[access]!;
          // Atomic on the low word (A and D live there); a PTE that changed meanwhile is walked again, as QEMU does.
          if (Atomics.compareExchange(i32, k, lo, want) !== lo) continue walk;
          if (i32[k + 1] !== hi) continue walk;
          pte = want;
        }

        const pageBytes = 2 ** (12 + 9 * level);
        const pageOff = va - Math.floor(va / pageBytes) * pageBytes;
        this.pteLo = pte;
        this.pteHi = hi;
        this.level = level;
        this.pteAddr = pteAddr;
        return ((hi & 0x3fffff) * 4194304 + (lo >>> 10)) * 4096 + pageOff;
      }
    }
  }
}
