// MMU facade tests: what translate caches (RAM only, permissions of walk ∩ PMP, stores only once D is set, one
// context per privilege/SUM), and how satp, MXR, PMP writes and sfence.vma keep the TLB right.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Access, Perm, PRV_M, PRV_S, PRV_U } from "./access.ts";
import { leafPerms, Mmu } from "./mmu.ts";
import { PMP_L, PMP_R, PMP_W, PMP_X } from "./pmp.ts";
import { Tlb, TlbCtx } from "./tlb.ts";
import { PTE_A, PTE_D, PTE_G, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X } from "./walk.ts";

const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 0x20_0000;
const TLB_OFF = 0x1000;
const RAM_OFF = 0x10_0000;
const SV39 = 8n << 60n;
const NAPOT = 0x18;
const NA4 = 0x10;
const RWX = PMP_R | PMP_W | PMP_X;
const host = (pa: number) => RAM_OFF + pa - RAM_BASE;

class Machine {
  readonly mem = new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true });
  readonly dv = new DataView(this.mem.buffer);
  readonly csr = new BigInt64Array(64);
  readonly mmu: Mmu;
  next = RAM_BASE + 0x10_0000; // page tables in the upper half of RAM
  readonly root: number;

  constructor(pmpAll = true) {
    assert.ok(TLB_OFF + Tlb.byteLength() <= RAM_OFF);
    this.mmu = new Mmu({
      buffer: this.mem.buffer,
      ramOffset: RAM_OFF,
      ramBase: RAM_BASE,
      ramSize: RAM_SIZE,
      csr: this.csr,
      tlbOffset: TLB_OFF,
    });
    if (pmpAll) this.pmpEntry(15, NAPOT | RWX, (1n << 54n) - 1n);
    this.root = this.alloc();
  }

  pmpEntry(i: number, cfg: number, addr: bigint): void {
    assert.ok(this.mmu.writePmpCsr(0x3b0 + i, addr));
    const num = 0x3a0 + (i >> 3) * 2;
    const sh = BigInt(8 * (i & 7));
    const cur = this.mmu.readPmpCsr(num)!;
    assert.ok(this.mmu.writePmpCsr(num, (cur & ~(0xffn << sh)) | (BigInt(cfg) << sh)));
  }

  alloc(): number {
    const pa = this.next;
    this.next += 4096;
    return pa;
  }

  read(pa: number): bigint {
    return this.dv.getBigUint64(RAM_OFF + pa - RAM_BASE, true);
  }

  write(pa: number, v: bigint): void {
    this.dv.setBigUint64(RAM_OFF + pa - RAM_BASE, v, true);
  }

  /** Sv39 4 KiB mapping (or a superpage at `level`); returns the leaf PTE address. */
  map(va: number, pa: number, flags: number, level = 0): number {
    let table = this.root;
    for (let l = 2; l > level; l--) {
      const at = table + vpn(va, l) * 8;
      let e = this.read(at);
      if ((e & 1n) === 0n) {
        e = ((BigInt(this.alloc()) >> 12n) << 10n) | 1n;
        this.write(at, e);
      }
      table = Number((e >> 10n) << 12n);
    }
    const at = table + vpn(va, level) * 8;
    this.write(at, ((BigInt(pa) >> 12n) << 10n) | BigInt(flags));
    return at;
  }

  /** An Sv39 satp value, signed as the CSR slots hold it. */
  satp(asid = 0, root = this.root): bigint {
    return BigInt.asIntN(64, SV39 | (BigInt(asid) << 44n) | BigInt(root / 4096));
  }
}
const vpn = (va: number, level: number) => Number((BigInt.asUintN(64, BigInt(va)) >> BigInt(12 + 9 * level)) & 511n);

test("leafPerms: U pages for U and for S with SUM (no fetch); stores only with D; MXR", () => {
  const rwx = PTE_V | PTE_R | PTE_W | PTE_X | PTE_A;
  assert.equal(leafPerms(rwx, PRV_S, false, false), Perm.Fetch | Perm.Load);
  assert.equal(leafPerms(rwx | PTE_D, PRV_S, false, false), Perm.All);
  assert.equal(leafPerms(rwx | PTE_D, PRV_U, false, false), 0);
  assert.equal(leafPerms(rwx | PTE_D | PTE_U, PRV_U, false, false), Perm.All);
  assert.equal(leafPerms(rwx | PTE_D | PTE_U, PRV_S, false, false), 0);
  assert.equal(leafPerms(rwx | PTE_D | PTE_U, PRV_S, true, false), Perm.Load | Perm.Store);
  assert.equal(leafPerms(PTE_V | PTE_X | PTE_A, PRV_S, false, false), Perm.Fetch);
  assert.equal(leafPerms(PTE_V | PTE_X | PTE_A, PRV_S, false, true), Perm.Fetch | Perm.Load);
  assert.equal(leafPerms(PTE_V | PTE_X | PTE_A | PTE_U, PRV_S, true, true), Perm.Load);
});

test("translate caches RAM pages; stores hit only after the walk has set D", () => {
  const m = new Machine();
  m.mmu.writeSatp(m.satp());
  const va = 0x4000_1000;
  const pa = RAM_BASE + 0x5000;
  const at = m.map(va, pa, PTE_V | PTE_R | PTE_W | PTE_X);
  const tlb = m.mmu.tlb;
  assert.equal(tlb.lookup(TlbCtx.S, va, Access.Load), -1);
  assert.equal(m.mmu.translate(va + 0x10, 8, Access.Load, PRV_S, false), pa + 0x10);
  assert.equal(tlb.lookup(TlbCtx.S, va + 0x18, Access.Load), host(pa + 0x18));
  assert.equal(tlb.lookup(TlbCtx.S, va, Access.Fetch), host(pa), "fetch cached by the same walk");
  assert.equal(tlb.lookup(TlbCtx.S, va, Access.Store), -1, "D clear: a store must walk");
  assert.equal(Number(m.read(at) & BigInt(PTE_D)), 0);
  assert.equal(m.mmu.translate(va + 0x20, 4, Access.Store, PRV_S, false), pa + 0x20);
  assert.equal(Number(m.read(at) & BigInt(PTE_D)), PTE_D);
  assert.equal(tlb.lookup(TlbCtx.S, va + 0x20, Access.Store), host(pa + 0x20));
  assert.equal(tlb.lookup(TlbCtx.U, va, Access.Load), -1, "S page not in the U context");
  // Faults are returned, not cached.
  assert.equal(m.mmu.translate(va, 8, Access.Load, PRV_U, false), -13);
  assert.equal(m.mmu.translate(0x7000_0000, 8, Access.Store, PRV_S, false), -15);
});

test("contexts: U, S and S+SUM are cached separately", () => {
  const m = new Machine();
  m.mmu.writeSatp(m.satp());
  const va = 0x1_0000;
  const pa = RAM_BASE + 0x6000;
  m.map(va, pa, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D);
  const tlb = m.mmu.tlb;
  assert.equal(m.mmu.translate(va, 8, Access.Load, PRV_S, true), pa);
  assert.equal(tlb.lookup(TlbCtx.SSum, va, Access.Store), host(pa));
  assert.equal(tlb.lookup(TlbCtx.SSum, va, Access.Fetch), -1, "S never executes U pages");
  assert.equal(tlb.lookup(TlbCtx.S, va, Access.Load), -1, "not without SUM");
  assert.equal(tlb.lookup(TlbCtx.U, va, Access.Load), -1);
  assert.equal(m.mmu.translate(va, 4, Access.Fetch, PRV_S, true), -12);
  assert.equal(m.mmu.translate(va, 4, Access.Fetch, PRV_U, false), pa);
  assert.equal(tlb.lookup(TlbCtx.U, va, Access.Fetch), host(pa));
});

test("device pages are translated but never cached", () => {
  const m = new Machine();
  m.mmu.writeSatp(m.satp());
  m.map(0x2000, 0x1000_0000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  assert.equal(m.mmu.translate(0x2005, 1, Access.Store, PRV_S, false), 0x1000_0005);
  assert.equal(m.mmu.tlb.lookup(TlbCtx.S, 0x2005, Access.Store), -1);
  assert.equal(m.mmu.tlb.lookup(TlbCtx.S, 0x2005, Access.Load), -1);
});

test("PMP: the access is checked; only pages PMP allows as a whole are cached; PMP writes flush", () => {
  const m = new Machine(false);
  m.mmu.writeSatp(m.satp());
  const va = 0x3000;
  const pa = RAM_BASE + 0x8000;
  m.map(va, pa, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  assert.equal(m.mmu.translate(va, 8, Access.Load, PRV_S, false), -5, "no PMP entry: S cannot even read the PTEs");
  m.pmpEntry(15, NAPOT | RWX, (1n << 54n) - 1n);
  m.pmpEntry(0, NA4, BigInt((pa + 0x100) / 4)); // 4 bytes in the middle of the page: no access
  assert.equal(m.mmu.translate(va + 0x100, 4, Access.Load, PRV_S, false), -5);
  assert.equal(m.mmu.translate(va + 0x104, 4, Access.Store, PRV_S, false), pa + 0x104);
  assert.equal(m.mmu.translate(va + 0xfc, 8, Access.Load, PRV_S, false), -5, "straddles the NA4 entry");
  assert.equal(m.mmu.tlb.lookup(TlbCtx.S, va + 0x104, Access.Load), -1, "page not cacheable as a whole");
  // A read-only region: loads cached, stores faulted.
  m.pmpEntry(0, NAPOT | PMP_R, (BigInt(pa) + 2047n) >> 2n);
  assert.equal(m.mmu.translate(va, 8, Access.Load, PRV_S, false), pa);
  assert.equal(m.mmu.tlb.lookup(TlbCtx.S, va, Access.Load), host(pa));
  assert.equal(m.mmu.tlb.lookup(TlbCtx.S, va, Access.Store), -1, "PMP forbids stores");
  assert.equal(m.mmu.translate(va, 8, Access.Store, PRV_S, false), -7);
  m.pmpEntry(0, NAPOT | PMP_R | PMP_W, (BigInt(pa) + 2047n) >> 2n);
  assert.equal(m.mmu.tlb.lookup(TlbCtx.S, va, Access.Load), -1, "a PMP write flushes the TLB");
  assert.equal(m.mmu.translate(va, 8, Access.Store, PRV_S, false), pa);
  assert.equal(m.mmu.tlb.lookup(TlbCtx.S, va, Access.Store), host(pa));
});

test("M-mode and Bare: identity, cached with PMP permissions (locked entries bind M)", () => {
  const m = new Machine();
  const pa = RAM_BASE + 0x9000;
  assert.equal(m.mmu.translate(pa + 8, 8, Access.Store, PRV_M, false), pa + 8);
  assert.equal(m.mmu.tlb.lookup(TlbCtx.M, pa, Access.Fetch), host(pa));
  assert.equal(m.mmu.translate(-8, 8, Access.Load, PRV_M, false), -5);
  // Bare S-mode: identity through the S context, PMP applies.
  assert.equal(m.mmu.translate(pa, 8, Access.Load, PRV_S, false), pa);
  assert.equal(m.mmu.tlb.lookup(TlbCtx.S, pa, Access.Store), host(pa));
  // A locked read-only entry over the page: M loses store permission.
  m.pmpEntry(0, NAPOT | PMP_R | PMP_X | PMP_L, (BigInt(pa) + 2047n) >> 2n);
  assert.equal(m.mmu.pmp.mFree, false);
  assert.equal(m.mmu.translate(pa, 8, Access.Store, PRV_M, false), -7);
  assert.equal(m.mmu.translate(pa, 8, Access.Load, PRV_M, false), pa);
  assert.equal(m.mmu.tlb.lookup(TlbCtx.M, pa, Access.Load), host(pa));
  assert.equal(m.mmu.tlb.lookup(TlbCtx.M, pa, Access.Store), -1);
});

test("writeSatp: WARL, mode changes flush, ASID switches keep entries, a new root for the same ASID flushes it", () => {
  const m = new Machine();
  const mmu = m.mmu;
  assert.equal(mmu.writeSatp(7n << 60n), 0n, "unsupported mode: no effect");
  const pa = RAM_BASE + 0xa000;
  mmu.translate(pa, 8, Access.Load, PRV_S, false); // Bare identity entry
  assert.equal(mmu.writeSatp(m.satp(5)), m.satp(5));
  assert.equal(mmu.tlb.lookup(TlbCtx.S, pa, Access.Load), -1, "Bare entries gone when paging starts");
  assert.equal(mmu.tlb.asid, 5);
  m.map(0x1_0000, pa, PTE_V | PTE_R | PTE_U | PTE_A);
  m.map(-(2 ** 31), pa, PTE_V | PTE_R | PTE_W | PTE_X | PTE_G | PTE_A | PTE_D);
  assert.equal(mmu.translate(0x1_0000, 8, Access.Load, PRV_U, false), pa);
  assert.equal(mmu.translate(-(2 ** 31), 8, Access.Load, PRV_S, false), pa);
  // Another address space (ASID 6, its own root sharing nothing): process 5's entry stays cached.
  const root6 = m.alloc();
  mmu.writeSatp(m.satp(6, root6));
  assert.equal(mmu.tlb.lookup(TlbCtx.U, 0x1_0000, Access.Load), -1);
  assert.equal(mmu.tlb.lookup(TlbCtx.S, -(2 ** 31), Access.Store), host(pa), "global entries follow");
  mmu.writeSatp(m.satp(5));
  assert.equal(mmu.tlb.lookup(TlbCtx.U, 0x1_0000, Access.Load), host(pa));
  // Same ASID, new root (a guest that forgot sfence.vma): ASID 5's entries go, globals stay.
  mmu.writeSatp(m.satp(5, root6));
  assert.equal(mmu.tlb.lookup(TlbCtx.U, 0x1_0000, Access.Load), -1);
  assert.equal(mmu.tlb.lookup(TlbCtx.S, -(2 ** 31), Access.Load), host(pa));
  assert.equal(mmu.satp, m.satp(5, root6));
  // Back to Bare: everything goes.
  mmu.writeSatp(0n);
  assert.equal(mmu.tlb.lookup(TlbCtx.S, -(2 ** 31), Access.Load), -1);
});

test("clearing MXR withdraws cached loads from execute-only pages", () => {
  const m = new Machine();
  m.mmu.writeSatp(m.satp());
  const pa = RAM_BASE + 0xb000;
  m.map(0x5000, pa, PTE_V | PTE_X | PTE_A);
  m.mmu.setMxr(true);
  assert.equal(m.mmu.translate(0x5000, 8, Access.Load, PRV_S, false), pa);
  assert.equal(m.mmu.tlb.lookup(TlbCtx.S, 0x5000, Access.Load), host(pa));
  m.mmu.setMxr(false);
  assert.equal(m.mmu.tlb.lookup(TlbCtx.S, 0x5000, Access.Load), -1);
  assert.equal(m.mmu.translate(0x5000, 8, Access.Load, PRV_S, false), -13);
});

test("sfenceVma: the four forms", () => {
  const m = new Machine();
  const mmu = m.mmu;
  mmu.writeSatp(m.satp(1));
  const pa = RAM_BASE + 0xc000;
  m.map(0x1000, pa, PTE_V | PTE_R | PTE_A);
  m.map(0x2000, pa, PTE_V | PTE_R | PTE_A);
  m.map(0x4000_0000, RAM_BASE, PTE_V | PTE_R | PTE_A | PTE_G, 1); // a global 2 MiB page
  const fill = () => {
    for (const va of [0x1000, 0x2000, 0x4000_0000, 0x401f_f000]) mmu.translate(va, 8, Access.Load, PRV_S, false);
  };
  const cached = () =>
    [0x1000, 0x2000, 0x4000_0000, 0x401f_f000].map((va) => mmu.tlb.lookup(TlbCtx.S, va, Access.Load) >= 0);
  fill();
  assert.deepEqual(cached(), [true, true, true, true]);
  mmu.sfenceVma(true, 0x1008, true, 0x1_0001); // ASID 1 (bits above 15 ignored), one page
  assert.deepEqual(cached(), [false, true, true, true]);
  mmu.sfenceVma(true, 0x4010_0000, true, 1); // global superpage: kept by an ASID flush
  assert.deepEqual(cached(), [false, true, true, true]);
  mmu.sfenceVma(true, 0x4010_0000, false, 0); // any ASID: the whole superpage goes
  assert.deepEqual(cached(), [false, true, false, false]);
  fill();
  mmu.sfenceVma(false, 0, true, 1);
  assert.deepEqual(cached(), [false, false, true, true]);
  mmu.sfenceVma(false, 0, false, 0);
  assert.deepEqual(cached(), [false, false, false, false]);
});

test("reload re-derives state after a restore", () => {
  const m = new Machine();
  m.mmu.writeSatp(m.satp(3));
  m.mmu.translate(0x4000, 8, Access.Load, PRV_S, false);
  m.mmu.reload(m.satp(9), true);
  assert.equal(m.mmu.walker.asid, 9);
  assert.equal(m.mmu.tlb.asid, 9);
  assert.equal(m.mmu.mxr, true);
  assert.equal(m.mmu.pmp.active, 1);
});
