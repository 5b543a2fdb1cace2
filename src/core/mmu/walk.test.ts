// Page-table walk tests (privileged spec 1.12 §4.3–4.5): page tables are built in a RAM buffer laid out like the
// machine's memory, then walked for every permission combination, superpage level, canonical edge and fault source.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Access, type AccessType, PRV_M, PRV_S, PRV_U } from "./access.ts";
import { PMP_R, PMP_W, PMP_X, Pmp } from "./pmp.ts";
import { legalSatp, PTE_A, PTE_D, PTE_G, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, SatpMode, Walker } from "./walk.ts";

const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 0x10_0000;
const RAM_OFF = 0x2000; // RAM does not start at the beginning of the buffer, as in the machine
const ACCESSES = [Access.Fetch, Access.Load, Access.Store] as const;
const PF = [12, 13, 15];
const AF = [1, 5, 7];

/** Guest RAM with a bump allocator for page-table pages and helpers to build Sv39/Sv48 tables. */
class Space {
  readonly mem = new WebAssembly.Memory({ initial: 32, maximum: 32, shared: true });
  readonly dv = new DataView(this.mem.buffer);
  next = RAM_BASE + 0x1000;
  readonly levels: number;
  readonly root: number;
  readonly walker: Walker;

  constructor(mode: number = SatpMode.Sv39, pmp: Pmp | null = null, asid = 0) {
    this.levels = mode === SatpMode.Sv48 ? 4 : 3;
    this.root = this.alloc();
    this.walker = new Walker({
      buffer: this.mem.buffer,
      ramOffset: RAM_OFF,
      ramBase: RAM_BASE,
      ramSize: RAM_SIZE,
      pmp,
    });
    this.walker.setSatp((BigInt(mode) << 60n) | (BigInt(asid) << 44n) | BigInt(this.root / 4096));
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

  /** Map `va` to `pa` with a leaf at `level` (0 = 4 KiB); returns the leaf PTE's address. Raw PTE bits in `extra`. */
  map(va: number, pa: number, flags: number, level = 0, extra = 0n): number {
    let table = this.root;
    for (let l = this.levels - 1; l > level; l--) {
      const at = table + vpn(va, l) * 8;
      let e = this.read(at);
      if ((e & 1n) === 0n) {
        e = pte(this.alloc(), PTE_V);
        this.write(at, e);
      }
      table = Number((e >> 10n) << 12n);
    }
    const at = table + vpn(va, level) * 8;
    this.write(at, pte(pa, flags) | extra);
    return at;
  }

  /** Address of the PTE at `level` on the path of `va` (after map). */
  pteAt(va: number, level: number): number {
    let table = this.root;
    for (let l = this.levels - 1; l > level; l--) table = Number((this.read(table + vpn(va, l) * 8) >> 10n) << 12n);
    return table + vpn(va, level) * 8;
  }

  t(va: number, access: AccessType, priv: number = PRV_S, sum = false, mxr = false): number {
    return this.walker.translate(va, access, priv, sum, mxr);
  }
}

const vpn = (va: number, level: number) => Number((BigInt.asUintN(64, BigInt(va)) >> BigInt(12 + 9 * level)) & 511n);
const pte = (pa: number, flags: number) => ((BigInt(pa) >> 12n) << 10n) | BigInt(flags);

test("Bare mode and M-mode do not translate", () => {
  const s = new Space();
  s.walker.setSatp(0n);
  assert.equal(s.walker.mode, SatpMode.Bare);
  assert.equal(s.t(0x8000_1234, Access.Load), 0x8000_1234);
  assert.equal(s.t(-8, Access.Store), -7, "above 2^63: nothing there, an access fault");
  const s39 = new Space();
  assert.equal(s39.t(0x1234_5678, Access.Fetch, PRV_M), 0x1234_5678);
  assert.equal(s39.walker.pteAddr, -1);
});

test("legalSatp: unsupported modes leave satp unchanged", () => {
  const old = (8n << 60n) | 5n;
  for (let m = 0n; m < 16n; m++) {
    const v = (m << 60n) | (0xabcdn << 44n) | 0x12345n;
    const ok = m === 0n || m === 8n || m === 9n;
    assert.equal(legalSatp(old, v), ok ? v : old, `mode ${m}`);
  }
  const w = new Space().walker;
  w.setSatp((9n << 60n) | (0xfedcn << 44n) | 0xf_ffff_ffffn);
  assert.equal(w.mode, 9);
  assert.equal(w.asid, 0xfedc);
  assert.equal(w.root, 0xf_ffff_ffff * 4096);
});

test("every R/W/X combination against fetch, load and store, with and without MXR", () => {
  for (let rwx = 0; rwx < 8; rwx++) {
    const flags = PTE_V | PTE_A | PTE_D | (rwx & 1 ? PTE_R : 0) | (rwx & 2 ? PTE_W : 0) | (rwx & 4 ? PTE_X : 0);
    const r = (flags & PTE_R) !== 0;
    const w = (flags & PTE_W) !== 0;
    const x = (flags & PTE_X) !== 0;
    const reserved = rwx === 0 || (w && !r); // no R/W/X at level 0 is a pointer with nowhere to go; W and W+X
    for (const priv of [PRV_S, PRV_U]) {
      const s = new Space();
      const va = 0x4000_3000;
      s.map(va, 0x8020_0000, flags | (priv === PRV_U ? PTE_U : 0));
      for (const mxr of [false, true]) {
        for (const a of ACCESSES) {
          const ok = !reserved && (a === Access.Fetch ? x : a === Access.Load ? r || (mxr && x) : w);
          assert.equal(
            s.t(va + 0x123, a, priv, false, mxr),
            ok ? 0x8020_0123 : -PF[a]!,
            `rwx=${rwx} priv=${priv} mxr=${mxr} access=${a}`,
          );
        }
      }
    }
  }
});

test("U bit against privilege and SUM", () => {
  const s = new Space();
  s.map(0x1000, 0x8030_0000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D);
  s.map(0x2000, 0x8030_1000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
  for (const a of ACCESSES) {
    assert.equal(s.t(0x1008, a, PRV_U), 0x8030_0008, "U page from U");
    assert.equal(s.t(0x2008, a, PRV_U), -PF[a]!, "S page from U");
    assert.equal(s.t(0x2008, a, PRV_U, true), -PF[a]!, "S page from U, SUM irrelevant");
    assert.equal(s.t(0x2008, a, PRV_S), 0x8030_1008, "S page from S");
    assert.equal(s.t(0x2008, a, PRV_S, true), 0x8030_1008, "S page from S with SUM");
    assert.equal(s.t(0x1008, a, PRV_S), -PF[a]!, "U page from S without SUM");
    assert.equal(s.t(0x1008, a, PRV_S, true), a === Access.Fetch ? -PF[a]! : 0x8030_0008, "U page from S with SUM");
  }
});

test("MXR makes execute-only pages readable, for U and for S with SUM", () => {
  const s = new Space();
  s.map(0x5000, 0x8040_0000, PTE_V | PTE_X | PTE_U | PTE_A);
  assert.equal(s.t(0x5010, Access.Load, PRV_U), -13);
  assert.equal(s.t(0x5010, Access.Load, PRV_U, false, true), 0x8040_0010);
  assert.equal(s.t(0x5010, Access.Load, PRV_S, true, true), 0x8040_0010);
  assert.equal(s.t(0x5010, Access.Load, PRV_S, false, true), -13);
  assert.equal(s.t(0x5010, Access.Store, PRV_U, false, true), -15);
});

test("invalid and reserved PTEs are page faults", () => {
  const va = 0x7000;
  const bad: [string, number, bigint][] = [
    ["V clear", PTE_R | PTE_W | PTE_A | PTE_D, 0n],
    ["bit 54", PTE_V | PTE_R | PTE_A, 1n << 54n],
    ["PBMT (bits 62:61)", PTE_V | PTE_R | PTE_A, 1n << 61n],
    ["N (bit 63)", PTE_V | PTE_R | PTE_A, 1n << 63n],
  ];
  for (const [what, flags, extra] of bad) {
    const s = new Space();
    s.map(va, 0x8050_0000, flags, 0, extra);
    for (const a of ACCESSES) assert.equal(s.t(va, a), -PF[a]!, what);
  }
  // Reserved bits in a non-leaf PTE too, and D/A/U in a non-leaf.
  for (const [what, set] of [
    ["non-leaf bit 60", 1n << 60n],
    ["non-leaf A", BigInt(PTE_A)],
    ["non-leaf D", BigInt(PTE_D)],
    ["non-leaf U", BigInt(PTE_U)],
  ] as const) {
    const s = new Space();
    s.map(va, 0x8050_0000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D);
    const at = s.pteAt(va, 1);
    s.write(at, s.read(at) | set);
    assert.equal(s.t(va, Access.Load), -13, what);
  }
  // G in a non-leaf PTE is fine.
  const s = new Space();
  s.map(va, 0x8050_0000, PTE_V | PTE_R | PTE_A);
  const at = s.pteAt(va, 2);
  s.write(at, s.read(at) | BigInt(PTE_G));
  assert.equal(s.t(va, Access.Load), 0x8050_0000);
  // An unmapped address: V clear at the top level.
  assert.equal(s.t(0x40_0000_0000 - 4096, Access.Load), -13);
});

test("superpages at every level, aligned and misaligned (Sv39 and Sv48)", () => {
  const cases: [number, number, number, number][] = [
    // mode, level, va, pa (aligned to the level)
    [SatpMode.Sv39, 1, 0x4020_0000, 0x8060_0000],
    [SatpMode.Sv39, 2, 0x4000_0000, 0xc000_0000],
    [SatpMode.Sv48, 1, 0x7f_0020_0000, 0x8020_0000],
    [SatpMode.Sv48, 2, 0x7f_4000_0000, 0x1_0000_0000],
    [SatpMode.Sv48, 3, 0x80_0000_0000, 0x100_0000_0000],
    [SatpMode.Sv48, 0, 0x7fff_ffff_f000, 0x8000_5000],
  ];
  for (const [mode, level, va, pa] of cases) {
    const size = 2 ** (12 + 9 * level);
    const s = new Space(mode);
    s.map(va, pa, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D, level);
    const off = size - 8;
    assert.equal(s.t(va + off, Access.Store), pa + off, `mode ${mode} level ${level}`);
    assert.equal(s.walker.level, level);
    assert.equal(s.t(va + 0x10, Access.Load), pa + 0x10);
    if (level > 0) {
      // Any PPN bit below the level set is misaligned: the lowest, PPN[level-1]'s lowest, and the highest (for a
      // 512 GiB page that one sits in the PTE's high word).
      for (const skew of [4096, size / 512, size / 2]) {
        const m = new Space(mode);
        m.map(va, pa + skew, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D, level);
        assert.equal(m.t(va, Access.Load), -13, `misaligned by ${skew} at level ${level}`);
        assert.equal(m.t(va, Access.Fetch), -12);
      }
    }
  }
});

test("a pointer PTE at level 0 is a page fault", () => {
  const s = new Space();
  s.map(0x9000, 0x8070_0000, PTE_V); // R=W=X=0 at the last level
  assert.equal(s.t(0x9000, Access.Load), -13);
});

test("A and D are set as QEMU does: A on any access, D on stores, only when the access is allowed", () => {
  const s = new Space();
  const at = s.map(0x3000, 0x8080_0000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_G);
  const hi = s.read(at) >> 32n;
  assert.equal(s.t(0x3000, Access.Load), 0x8080_0000);
  assert.equal(Number(s.read(at) & 0xffn), PTE_V | PTE_R | PTE_W | PTE_X | PTE_G | PTE_A);
  assert.equal(s.walker.pteLo & 0xff, PTE_V | PTE_R | PTE_W | PTE_X | PTE_G | PTE_A);
  assert.equal(s.walker.pteAddr, at);
  assert.equal(s.t(0x3000, Access.Store), 0x8080_0000);
  assert.equal(Number(s.read(at) & 0xffn), PTE_V | PTE_R | PTE_W | PTE_X | PTE_G | PTE_A | PTE_D);
  assert.equal(s.read(at) >> 32n, hi, "high word untouched");
  assert.equal(s.read(at) >> 10n, BigInt(0x8080_0000 / 4096), "PPN untouched");

  const f = new Space();
  const at2 = f.map(0x3000, 0x8080_0000, PTE_V | PTE_X);
  assert.equal(f.t(0x3000, Access.Fetch), 0x8080_0000);
  assert.equal(Number(f.read(at2) & 0xffn), PTE_V | PTE_X | PTE_A);
  // A failing access changes nothing.
  const n = new Space();
  const at3 = n.map(0x3000, 0x8080_0000, PTE_V | PTE_R);
  assert.equal(n.t(0x3000, Access.Store), -15);
  assert.equal(Number(n.read(at3) & 0xffn), PTE_V | PTE_R);
  // Non-leaf PTEs are never written.
  const up = s.pteAt(0x3000, 1);
  assert.equal(Number(s.read(up) & 0xffn), PTE_V);
  // Superpage leaf gets A/D too.
  const sp = new Space();
  const at4 = sp.map(0x4020_0000, 0x8020_0000, PTE_V | PTE_R | PTE_W, 1);
  assert.equal(sp.t(0x4020_1234, Access.Store), 0x8020_1234);
  assert.equal(Number(sp.read(at4) & 0xffn), PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
});

test("canonical addresses: Sv39 uses bits 38:0, Sv48 bits 47:0", () => {
  const s39 = new Space(SatpMode.Sv39);
  const top39 = -(2 ** 38); // 0xffff_ffc0_0000_0000
  s39.map(top39, 0x8090_0000, PTE_V | PTE_R | PTE_A);
  s39.map(2 ** 38 - 4096, 0x8090_1000, PTE_V | PTE_R | PTE_A);
  s39.map(-4096, 0x8090_2000, PTE_V | PTE_R | PTE_A);
  assert.equal(s39.t(top39 + 8, Access.Load), 0x8090_0008);
  assert.equal(s39.t(2 ** 38 - 8, Access.Load), 0x8090_1ff8);
  assert.equal(s39.t(-8, Access.Load), 0x8090_2ff8);
  for (const va of [2 ** 38, 2 ** 39, 2 ** 47 - 8, top39 - 8, -(2 ** 47), 2 ** 62, -(2 ** 63)]) {
    for (const a of ACCESSES) assert.equal(s39.t(va, a), -PF[a]!, `Sv39 ${va}`);
  }
  // The same low bits with a non-canonical top would alias the mapping: it must not.
  assert.equal(s39.t(2 ** 39 + 8, Access.Load), -13);

  const s48 = new Space(SatpMode.Sv48);
  s48.map(-(2 ** 47), 0x80a0_0000, PTE_V | PTE_R | PTE_A);
  s48.map(2 ** 47 - 4096, 0x80a0_1000, PTE_V | PTE_R | PTE_A);
  s48.map(2 ** 38, 0x80a0_2000, PTE_V | PTE_R | PTE_A);
  s48.map(-(2 ** 31), 0x80a0_3000, PTE_V | PTE_R | PTE_A); // where Linux puts its kernel image
  assert.equal(s48.t(-(2 ** 47), Access.Load), 0x80a0_0000);
  assert.equal(s48.t(2 ** 47 - 1, Access.Load), 0x80a0_1fff);
  assert.equal(s48.t(2 ** 38 + 5, Access.Load), 0x80a0_2005, "canonical in Sv48, not in Sv39");
  assert.equal(s48.t(-(2 ** 31) + 0x10, Access.Load), 0x80a0_3010);
  for (const va of [2 ** 47, -(2 ** 47) - 8, 2 ** 52, -(2 ** 60)]) {
    for (const a of ACCESSES) assert.equal(s48.t(va, a), -PF[a]!, `Sv48 ${va}`);
  }
});

test("PTEs outside RAM are access faults of the original access type", () => {
  const s = new Space();
  s.walker.setSatp((8n << 60n) | BigInt(0x1000_0000 / 4096)); // root table in MMIO space
  for (const a of ACCESSES) assert.equal(s.t(0x1000, a), -AF[a]!);
  const t = new Space();
  t.map(0x1000, 0x8000_0000, PTE_V | PTE_R | PTE_A);
  const mid = t.pteAt(0x1000, 1);
  t.write(mid, pte(RAM_BASE + RAM_SIZE, PTE_V)); // next level just past the end of RAM
  for (const a of ACCESSES) assert.equal(t.t(0x1000, a), -AF[a]!);
  // A leaf pointing outside RAM is fine: the access itself is the caller's business.
  const u = new Space();
  u.map(0x1000, 0x1000_0000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
  assert.equal(u.t(0x1004, Access.Store), 0x1000_0004);
});

test("PMP checks PTE accesses with privilege S: reads, and the A/D write-back", () => {
  const csr = new BigInt64Array(64);
  const pmp = new Pmp(csr);
  const s = new Space(SatpMode.Sv39, pmp);
  const at = s.map(0x1000, 0x8080_0000, PTE_V | PTE_R | PTE_W | PTE_X);
  // No PMP entries: S-mode PTE reads fail.
  for (const a of ACCESSES) assert.equal(s.t(0x1000, a), -AF[a]!);
  // Entry 0: the page-table pages read-only; entry 1: everything RWX.
  const napot = (base: number, size: number) => (BigInt(base) + BigInt(size / 2) - 1n) >> 2n;
  pmp.writeCsr(0x3b0, napot(RAM_BASE, 0x1_0000)); // covers the tables the allocator handed out
  pmp.writeCsr(0x3b1, (1n << 54n) - 1n);
  pmp.writeCsr(0x3a0, BigInt(0x18 | PMP_R) | (BigInt(0x18 | PMP_R | PMP_W | PMP_X) << 8n));
  assert.equal(s.t(0x1000, Access.Load), -5, "A needs writing and PMP forbids the store");
  s.write(at, s.read(at) | BigInt(PTE_A));
  assert.equal(s.t(0x1000, Access.Load), 0x8080_0000, "A already set: no write needed");
  assert.equal(s.t(0x1000, Access.Store), -7, "D needs writing");
  assert.equal(s.t(0x1000, Access.Fetch), 0x8080_0000);
  // Page tables not readable at all.
  pmp.writeCsr(0x3a0, BigInt(0x18) | (BigInt(0x18 | PMP_R | PMP_W | PMP_X) << 8n));
  for (const a of ACCESSES) assert.equal(s.t(0x1000, a), -AF[a]!);
});

test("walker reports the leaf for TLB fills", () => {
  const s = new Space(SatpMode.Sv48);
  const at = s.map(0x12_3456_7000, 0x8012_3000, PTE_V | PTE_R | PTE_X | PTE_U | PTE_G | PTE_A);
  assert.equal(s.t(0x12_3456_7abc, Access.Fetch, PRV_U), 0x8012_3abc);
  assert.equal(s.walker.level, 0);
  assert.equal(s.walker.pteAddr, at);
  assert.equal(s.walker.pteLo & 0xff, PTE_V | PTE_R | PTE_X | PTE_U | PTE_G | PTE_A);
  assert.equal(s.walker.pteHi, 0);
  // Physical addresses above 2^32 (PPN bits in the PTE's high word).
  const b = new Space(SatpMode.Sv39);
  b.map(0x2000, 0x3_ffff_f000, PTE_V | PTE_R | PTE_A);
  b.map(0x3000, 2 ** 52, PTE_V | PTE_R | PTE_A);
  assert.equal(b.t(0x2010, Access.Load), 0x3_ffff_f010);
  assert.equal(b.t(0x3010, Access.Load), 2 ** 52 + 0x10);
});
