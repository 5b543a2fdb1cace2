// PMP unit tests (privileged spec 1.12 §3.7): matching modes, priority, partial matches, the lock bit, and the WARL
// rules of the pmpcfg/pmpaddr CSRs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CsrSlot } from "../cpu/layout.ts";
import { Access, Perm, PRV_M, PRV_S, PRV_U } from "./access.ts";
import { legalPmpcfgByte, PMP_L, PMP_R, PMP_W, PMP_X, Pmp } from "./pmp.ts";

const TOR = 1 << 3;
const NA4 = 2 << 3;
const NAPOT = 3 << 3;
const RWX = PMP_R | PMP_W | PMP_X;

function fresh(): { pmp: Pmp; csr: BigInt64Array } {
  const csr = new BigInt64Array(64);
  return { pmp: new Pmp(csr), csr };
}

/** Write the cfg byte of entry i (leaving the others as they are, through the CSR interface). */
function setCfg(pmp: Pmp, i: number, byte: number): void {
  const num = 0x3a0 + (i >> 3) * 2;
  const cur = pmp.readCsr(num)!;
  const sh = BigInt(8 * (i & 7));
  assert.ok(pmp.writeCsr(num, (cur & ~(0xffn << sh)) | (BigInt(byte) << sh)));
}
const setAddr = (pmp: Pmp, i: number, v: bigint | number) => assert.ok(pmp.writeCsr(0x3b0 + i, BigInt(v)));
/** pmpaddr of a NAPOT region of `size` (≥ 8, power of two) bytes at `base`. */
const napot = (base: number, size: number) => (BigInt(base) + BigInt(size / 2) - 1n) >> 2n;

test("no entries: M succeeds, S and U fail", () => {
  const { pmp } = fresh();
  assert.equal(pmp.active, 0);
  assert.equal(pmp.mFree, true);
  for (const a of [Access.Fetch, Access.Load, Access.Store] as const) {
    assert.equal(pmp.check(0x8000_0000, 8, a, PRV_M), true);
    assert.equal(pmp.check(0x8000_0000, 8, a, PRV_S), false);
    assert.equal(pmp.check(0x8000_0000, 8, a, PRV_U), false);
  }
});

test("OpenSBI-like setup: firmware hidden from S, the rest RWX", () => {
  const { pmp } = fresh();
  setAddr(pmp, 0, napot(0x8000_0000, 0x4_0000));
  setCfg(pmp, 0, NAPOT); // no permissions, unlocked
  setAddr(pmp, 1, (1n << 54n) - 1n);
  setCfg(pmp, 1, NAPOT | RWX);
  assert.equal(pmp.active, 2);
  assert.equal(pmp.mFree, true);
  assert.equal(pmp.check(0x8000_0000, 8, Access.Load, PRV_S), false);
  assert.equal(pmp.check(0x8003_fff8, 8, Access.Store, PRV_U), false);
  assert.equal(pmp.check(0x8004_0000, 8, Access.Store, PRV_S), true);
  assert.equal(pmp.check(0, 1, Access.Fetch, PRV_U), true);
  assert.equal(pmp.check(2 ** 53, 8, Access.Load, PRV_S), true);
  assert.equal(pmp.check(0x8000_0000, 8, Access.Store, PRV_M), true, "unlocked entries do not bind M");
  // Straddling the firmware's end: entry 0 matches only some bytes, so the access fails, even in M-mode.
  assert.equal(pmp.check(0x8003_fffc, 8, Access.Load, PRV_S), false);
  assert.equal(pmp.check(0x8003_fffc, 8, Access.Load, PRV_M), false);
  assert.equal(pmp.allowed(0x8003_f000, 4096, PRV_S), 0);
  assert.equal(pmp.allowed(0x8004_0000, 4096, PRV_S), Perm.All);
});

test("TOR: [pmpaddr(i-1)·4, pmpaddr(i)·4), entry 0 from 0, reversed bounds match nothing", () => {
  const { pmp } = fresh();
  setAddr(pmp, 0, 0x8000_1000 / 4);
  setCfg(pmp, 0, TOR | PMP_R);
  assert.equal(pmp.check(0, 8, Access.Load, PRV_S), true);
  assert.equal(pmp.check(0x8000_0ff8, 8, Access.Load, PRV_S), true);
  assert.equal(pmp.check(0x8000_0ff8, 8, Access.Store, PRV_S), false);
  assert.equal(pmp.check(0x8000_0ff8, 8, Access.Fetch, PRV_S), false);
  assert.equal(pmp.check(0x8000_1000, 8, Access.Load, PRV_S), false, "no match for S");
  assert.equal(pmp.check(0x8000_0ffc, 8, Access.Load, PRV_M), false, "partial match fails for M too");

  setAddr(pmp, 1, 0x8000_3000 / 4);
  setCfg(pmp, 1, TOR | PMP_R | PMP_W);
  assert.equal(pmp.check(0x8000_1000, 8, Access.Store, PRV_U), true);
  assert.equal(pmp.check(0x8000_2ff8, 8, Access.Store, PRV_U), true);
  assert.equal(pmp.check(0x8000_3000, 4, Access.Load, PRV_U), false);
  assert.equal(pmp.check(0x8000_0ffc, 8, Access.Load, PRV_U), false, "straddles entries 0 and 1");
  assert.equal(pmp.mFree, true);

  // Reversed: pmpaddr2 < pmpaddr1 → entry 2 matches nothing.
  setAddr(pmp, 2, 0x8000_2000 / 4);
  setCfg(pmp, 2, TOR | RWX);
  assert.equal(pmp.active, 2);
  assert.equal(pmp.check(0x8000_2800, 4, Access.Fetch, PRV_S), false);

  // A TOR bound that is not page-aligned means M-mode accesses need checking.
  setAddr(pmp, 1, 0x8000_3004 / 4);
  assert.equal(pmp.mFree, false);
});

test("NA4: exactly four bytes", () => {
  const { pmp } = fresh();
  setAddr(pmp, 3, 0x1000_0004 / 4);
  setCfg(pmp, 3, NA4 | PMP_R | PMP_W);
  assert.equal(pmp.mFree, false, "a 4-byte range can split an access inside a page");
  assert.equal(pmp.check(0x1000_0004, 4, Access.Store, PRV_S), true);
  assert.equal(pmp.check(0x1000_0006, 2, Access.Load, PRV_S), true);
  assert.equal(pmp.check(0x1000_0000, 4, Access.Load, PRV_S), false);
  assert.equal(pmp.check(0x1000_0008, 4, Access.Load, PRV_S), false);
  assert.equal(pmp.check(0x1000_0000, 8, Access.Load, PRV_S), false, "partial");
  assert.equal(pmp.check(0x1000_0000, 8, Access.Load, PRV_M), false, "partial, M");
  assert.equal(pmp.check(0x1000_0000, 4, Access.Load, PRV_M), true);
});

test("NAPOT: sizes from 8 bytes to everything", () => {
  for (const [base, size] of [
    [0x8000_0000, 8],
    [0x8000_0010, 16],
    [0x8000_0000, 4096],
    [0x8020_0000, 0x20_0000],
    [0, 2 ** 31],
    [2 ** 40, 2 ** 40],
  ] as const) {
    const { pmp } = fresh();
    setAddr(pmp, 0, napot(base, size));
    setCfg(pmp, 0, NAPOT | PMP_X);
    assert.equal(pmp.check(base, 4, Access.Fetch, PRV_U), true, `${base}+${size} first`);
    assert.equal(pmp.check(base + size - 4, 4, Access.Fetch, PRV_U), true, `${base}+${size} last`);
    assert.equal(pmp.check(base + size, 4, Access.Fetch, PRV_U), false, `${base}+${size} after`);
    if (base > 0) assert.equal(pmp.check(base - 4, 4, Access.Fetch, PRV_U), false, `${base}+${size} before`);
    assert.equal(pmp.check(base, 4, Access.Load, PRV_U), false);
    assert.equal(pmp.mFree, size >= 4096);
  }
  const { pmp } = fresh();
  setAddr(pmp, 0, -1n); // bits 63:54 are dropped: all ones in 53:0 is the whole 2^56 space
  assert.equal(pmp.readCsr(0x3b0), (1n << 54n) - 1n);
  setCfg(pmp, 0, NAPOT | PMP_R);
  assert.equal(pmp.check(0, 8, Access.Load, PRV_U), true);
  assert.equal(pmp.check(2 ** 52, 8, Access.Load, PRV_U), true);
  assert.equal(pmp.check(2 ** 52, 8, Access.Store, PRV_U), false);
});

test("priority: the lowest-numbered matching entry decides, even when a later one grants more", () => {
  const { pmp } = fresh();
  setAddr(pmp, 5, (1n << 54n) - 1n);
  setCfg(pmp, 5, NAPOT | RWX);
  setAddr(pmp, 2, napot(0x8010_0000, 0x1000));
  setCfg(pmp, 2, NAPOT | PMP_R);
  assert.equal(pmp.check(0x8010_0800, 8, Access.Store, PRV_S), false);
  assert.equal(pmp.check(0x8010_0800, 8, Access.Load, PRV_S), true);
  assert.equal(pmp.check(0x8010_1000, 8, Access.Store, PRV_S), true);
  // An access that entry 2 matches only partly fails although entry 5 covers it completely.
  assert.equal(pmp.check(0x8010_0ffc, 8, Access.Load, PRV_S), false);
  assert.equal(pmp.allowed(0x8010_0000, 4096, PRV_U), Perm.Load);
  assert.equal(pmp.allowed(0x8010_1000, 4096, PRV_U), Perm.All);
});

test("lock: locked entries bind M-mode and ignore writes until reset", () => {
  const { pmp } = fresh();
  setAddr(pmp, 0, napot(0x8000_0000, 0x1_0000));
  setCfg(pmp, 0, NAPOT | PMP_R | PMP_X | PMP_L);
  assert.equal(pmp.mFree, false);
  assert.equal(pmp.check(0x8000_0000, 8, Access.Load, PRV_M), true);
  assert.equal(pmp.check(0x8000_0000, 4, Access.Fetch, PRV_M), true);
  assert.equal(pmp.check(0x8000_0000, 8, Access.Store, PRV_M), false);
  assert.equal(pmp.check(0x8001_0000, 8, Access.Store, PRV_M), true, "no match: M succeeds");
  assert.equal(pmp.allowed(0x8000_0000, 4096, PRV_M), Perm.Load | Perm.Fetch);
  // cfg byte and address are frozen; entry 1 (same CSR) stays writable.
  setCfg(pmp, 0, NAPOT | RWX);
  setAddr(pmp, 0, 0);
  assert.equal(pmp.cfgByte(0), NAPOT | PMP_R | PMP_X | PMP_L);
  assert.equal(pmp.readCsr(0x3b0), napot(0x8000_0000, 0x1_0000));
  assert.ok(pmp.writeCsr(0x3a0, 0n));
  assert.equal(pmp.cfgByte(0), NAPOT | PMP_R | PMP_X | PMP_L, "cannot unlock by writing zero");
  setCfg(pmp, 1, NAPOT | PMP_W | PMP_R);
  assert.equal(pmp.cfgByte(1), NAPOT | PMP_W | PMP_R);
  pmp.reset();
  assert.equal(pmp.cfgByte(0), 0);
  assert.equal(pmp.active, 0);
});

test("lock: a locked TOR entry also freezes the pmpaddr below it; a locked NAPOT one does not", () => {
  const { pmp } = fresh();
  setAddr(pmp, 3, 0x8000_0000 / 4);
  setAddr(pmp, 4, 0x8000_4000 / 4);
  setCfg(pmp, 4, TOR | PMP_R | PMP_L);
  assert.equal(pmp.addrWritable(3), false);
  assert.equal(pmp.addrWritable(4), false);
  setAddr(pmp, 3, 0);
  assert.equal(pmp.readCsr(0x3b3), BigInt(0x8000_0000 / 4));
  assert.equal(pmp.check(0x8000_0000, 8, Access.Store, PRV_M), false);
  assert.equal(pmp.check(0x7fff_fff8, 8, Access.Store, PRV_M), true);

  setAddr(pmp, 8, napot(0x9000_0000, 4096));
  setCfg(pmp, 9, NAPOT | PMP_L); // through pmpcfg2
  assert.equal(pmp.cfgByte(9), NAPOT | PMP_L);
  assert.equal(pmp.addrWritable(8), true);
  assert.equal(pmp.addrWritable(9), false);
  assert.equal(pmp.check(0x9000_0000, 8, Access.Load, PRV_M), true, "entry 9's address is 0: covers [0, 8)");
  assert.equal(pmp.check(0, 8, Access.Load, PRV_M), false);
});

test("WARL: reserved bits, R=0 W=1, pmpaddr width, unimplemented and illegal registers", () => {
  const { pmp, csr } = fresh();
  setCfg(pmp, 0, 0x60 | NAPOT | PMP_R);
  assert.equal(pmp.cfgByte(0), NAPOT | PMP_R, "bits 6:5 read as zero");
  setCfg(pmp, 0, NAPOT | PMP_W);
  assert.equal(pmp.cfgByte(0), NAPOT | PMP_R, "R=0 W=1 is refused: the entry keeps its value");
  setCfg(pmp, 0, NAPOT | PMP_W | PMP_X);
  assert.equal(pmp.cfgByte(0), NAPOT | PMP_R);
  assert.equal(legalPmpcfgByte(0, PMP_W), 0);
  assert.equal(legalPmpcfgByte(PMP_L | PMP_R, 0), PMP_L | PMP_R);

  // The values live in the hart's CSR slots.
  setCfg(pmp, 10, TOR | PMP_X);
  assert.equal(csr[CsrSlot.pmpcfg + 1], BigInt(TOR | PMP_X) << 16n);
  setAddr(pmp, 15, 0xffff_ffff_ffff_ffffn);
  assert.equal(csr[CsrSlot.pmpaddr + 15], (1n << 54n) - 1n);

  assert.equal(pmp.readCsr(0x3a1), null, "pmpcfg1 does not exist on RV64");
  assert.equal(pmp.writeCsr(0x3af, 1n), false);
  assert.equal(pmp.readCsr(0x3a4), 0n, "pmpcfg4 (entries 16–23) is not implemented: reads zero");
  assert.ok(pmp.writeCsr(0x3a4, 0x1fn));
  assert.equal(pmp.readCsr(0x3a4), 0n);
  assert.ok(pmp.writeCsr(0x3b0 + 40, 123n));
  assert.equal(pmp.readCsr(0x3b0 + 40), 0n);
  assert.ok(Pmp.isPmpCsr(0x3a0) && Pmp.isPmpCsr(0x3ef) && !Pmp.isPmpCsr(0x3f0) && !Pmp.isPmpCsr(0x39f));
});

test("reload decodes values written straight into the CSR slots (snapshot restore)", () => {
  const { pmp, csr } = fresh();
  csr[CsrSlot.pmpaddr] = napot(0x8000_0000, 0x1000);
  csr[CsrSlot.pmpcfg] = BigInt(NAPOT | PMP_R);
  assert.equal(pmp.active, 0);
  pmp.reload();
  assert.equal(pmp.active, 1);
  assert.equal(pmp.check(0x8000_0000, 8, Access.Load, PRV_U), true);
});
