// Software TLB tests: layout in a shared buffer, the inline probe, 2-way sets and the hash, contexts, ASIDs and global
// entries, and every sfence.vma form including superpages.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Access, Perm } from "./access.ts";
import { TLB_CONTEXTS, TLB_SETS, Tlb, TlbCtx, tlbContext } from "./tlb.ts";

const OFFSET = 0x4_0000; // where the TLB sits in the machine's memory, say
const mem = () => new WebAssembly.Memory({ initial: 8, maximum: 8, shared: true });
const fresh = (sets = TLB_SETS) => new Tlb(mem().buffer, OFFSET, sets);
const R = Perm.Load;
const W = Perm.Store;
const X = Perm.Fetch;
const KERNEL = -(2 ** 31); // 0xffff_ffff_8000_0000

test("layout: the arrays live in the caller's buffer at the documented offsets", () => {
  const m = mem();
  const tlb = new Tlb(m.buffer, OFFSET);
  const n = TLB_CONTEXTS * TLB_SETS * 2;
  assert.equal(tlb.entries, n);
  assert.equal(Tlb.byteLength(), n * 44);
  assert.equal(tlb.t.byteOffset, OFFSET);
  assert.equal(tlb.page.byteOffset, OFFSET + n * 32);
  assert.equal(tlb.info.byteOffset, OFFSET + n * 40);
  assert.equal(tlb.info.byteOffset + tlb.info.byteLength, OFFSET + Tlb.byteLength());
  tlb.fill(TlbCtx.S, 0x1234_5000, R, 0x10_0000, 0, false);
  // Probe with plain loads from another view of the same memory, as JIT code would.
  const f64 = new Float64Array(m.buffer);
  const va = 0x1234_5678;
  const lo = va | 0;
  const s = (TlbCtx.S * tlb.sets + (((lo >>> 12) ^ (lo >>> tlb.shift)) & tlb.mask)) << 3;
  const k = (va - (lo & 4095)) * 16 + tlb.asid;
  const at = OFFSET / 8 + s;
  assert.equal(f64[at + Access.Load], k);
  assert.equal(f64[at + 3]! + va, 0x10_0678);
  assert.notEqual(f64[at + Access.Store], k);
  assert.throws(() => new Tlb(m.buffer, OFFSET, 100), RangeError);
  assert.throws(() => new Tlb(m.buffer, OFFSET + 4), RangeError);
});

test("lookup: per-access permissions, host offset with one add, negative (kernel) addresses", () => {
  const tlb = fresh();
  tlb.fill(TlbCtx.S, 0x4000_2000, R | X, 0x12_3000, 0, false);
  assert.equal(tlb.lookup(TlbCtx.S, 0x4000_2abc, Access.Load), 0x12_3abc);
  assert.equal(tlb.lookup(TlbCtx.S, 0x4000_2ffe, Access.Fetch), 0x12_3ffe);
  assert.equal(tlb.lookup(TlbCtx.S, 0x4000_2abc, Access.Store), -1, "no store permission: D clear or read-only");
  assert.equal(tlb.lookup(TlbCtx.S, 0x4000_3000, Access.Load), -1, "next page");
  assert.equal(tlb.lookup(TlbCtx.S, 0x4000_1fff, Access.Load), -1, "previous page");
  assert.equal(tlb.lookup(TlbCtx.U, 0x4000_2abc, Access.Load), -1, "other context");
  tlb.fill(TlbCtx.S, KERNEL + 0x5123, R | W, 0x20_0000, 0, true);
  assert.equal(tlb.lookup(TlbCtx.S, KERNEL + 0x5000, Access.Store), 0x20_0000);
  assert.equal(tlb.lookup(TlbCtx.S, KERNEL + 0x5fff, Access.Load), 0x20_0fff);
  assert.equal(tlb.lookup(TlbCtx.S, KERNEL + 0x4fff, Access.Load), -1);
  const low = -(2 ** 47); // the bottom of Sv48's upper half
  tlb.fill(TlbCtx.S, low, R, 0x30_0000, 0, false);
  assert.equal(tlb.lookup(TlbCtx.S, low + 7, Access.Load), 0x30_0007);
  assert.equal(tlb.lookup(TlbCtx.S, 2 ** 47 + low + 7, Access.Load), -1);
  // Refilling the same page replaces its entry (here adding store permission once D is set).
  tlb.fill(TlbCtx.S, 0x4000_2000, R | W | X, 0x12_3000, 0, false);
  assert.equal(tlb.lookup(TlbCtx.S, 0x4000_2000, Access.Store), 0x12_3000);
  assert.equal(tlb.contexts, 4);
  assert.deepEqual(
    [tlbContext(0, false), tlbContext(0, true), tlbContext(1, false), tlbContext(1, true), tlbContext(3, false)],
    [TlbCtx.U, TlbCtx.U, TlbCtx.S, TlbCtx.SSum, TlbCtx.M],
  );
});

test("2-way sets: two colliding pages both stay, a third evicts the older", () => {
  const tlb = fresh(16);
  const base = 0x8000_0000;
  const s0 = tlb.slot(TlbCtx.S, base);
  const colliding: number[] = [];
  for (let p = 1; colliding.length < 2; p++)
    if (tlb.slot(TlbCtx.S, base + p * 4096) === s0) colliding.push(base + p * 4096);
  const [b, c] = colliding as [number, number];
  tlb.fill(TlbCtx.S, base, R, 0x1000, 0, false);
  tlb.fill(TlbCtx.S, b, R, 0x2000, 0, false);
  assert.equal(tlb.lookup(TlbCtx.S, base, Access.Load), 0x1000);
  assert.equal(tlb.lookup(TlbCtx.S, b, Access.Load), 0x2000);
  tlb.fill(TlbCtx.S, b, R | W, 0x2000, 0, false); // refill in place (way 0): base must survive
  assert.equal(tlb.lookup(TlbCtx.S, base, Access.Load), 0x1000);
  tlb.fill(TlbCtx.S, base, R | X, 0x1000, 0, false); // refill in place (way 1): b must survive
  assert.equal(tlb.lookup(TlbCtx.S, base, Access.Fetch), 0x1000);
  assert.equal(tlb.lookup(TlbCtx.S, b, Access.Store), 0x2000);
  tlb.fill(TlbCtx.S, c, R, 0x3000, 0, false); // evicts way 1 (b, the older fill)
  assert.equal(tlb.lookup(TlbCtx.S, c, Access.Load), 0x3000);
  assert.equal(tlb.lookup(TlbCtx.S, base, Access.Load), 0x1000, "most recent fill survives");
  assert.equal(tlb.lookup(TlbCtx.S, b, Access.Load), -1, "older fill evicted");
});

test("hash: pages one set-stride apart (code and data of one program) use different sets", () => {
  const tlb = fresh();
  const stride = tlb.sets * 4096; // vpn & (sets-1) would put these in one set
  for (const base of [0x8000_0000, 0x1_0000, KERNEL, 0x3f_ffff_f000 - 8 * stride]) {
    const sets = new Set<number>();
    for (let i = 0; i < 8; i++) sets.add(tlb.slot(TlbCtx.S, base + i * stride));
    assert.equal(sets.size, 8, `base ${base}`);
  }
  // Consecutive pages use consecutive sets.
  const s = tlb.slot(TlbCtx.U, 0x1_0000);
  assert.equal(tlb.slot(TlbCtx.U, 0x1_1000), s + 8);
});

test("ASIDs: entries are tagged, survive switches, globals match every ASID", () => {
  const tlb = fresh();
  tlb.setAsid(1);
  tlb.fill(TlbCtx.U, 0x1_0000, R | X, 0x1000, 0, false);
  tlb.fill(TlbCtx.S, KERNEL, R | W | X, 0x2000, 0, true);
  tlb.setAsid(2);
  assert.equal(tlb.lookup(TlbCtx.U, 0x1_0000, Access.Load), -1, "other address space");
  assert.equal(tlb.lookup(TlbCtx.S, KERNEL, Access.Store), 0x2000, "global");
  tlb.fill(TlbCtx.U, 0x1_0000, R, 0x5000, 0, false); // process 2's own page at the same address
  assert.equal(tlb.lookup(TlbCtx.U, 0x1_0000, Access.Load), 0x5000);
  tlb.setAsid(1);
  assert.equal(tlb.lookup(TlbCtx.U, 0x1_0000, Access.Fetch), 0x1000, "process 1's entry kept across the switch");
  assert.equal(tlb.lookup(TlbCtx.S, KERNEL, Access.Fetch), 0x2000);
  tlb.setAsid(0xffff);
  assert.equal(tlb.lookup(TlbCtx.S, KERNEL + 0xff8, Access.Load), 0x2ff8);
});

test("sfence.vma x0, asid: drops that ASID's non-global entries only", () => {
  const tlb = fresh();
  tlb.setAsid(1);
  tlb.fill(TlbCtx.U, 0x1_0000, R, 0x1000, 0, false);
  tlb.fill(TlbCtx.S, KERNEL, R, 0x2000, 0, true);
  tlb.setAsid(2);
  tlb.fill(TlbCtx.U, 0x2_0000, R, 0x3000, 0, false);
  tlb.setAsid(1);
  tlb.flushAsid(1);
  assert.equal(tlb.lookup(TlbCtx.U, 0x1_0000, Access.Load), -1);
  assert.equal(tlb.lookup(TlbCtx.S, KERNEL, Access.Load), 0x2000, "global kept");
  tlb.setAsid(2);
  assert.equal(tlb.lookup(TlbCtx.U, 0x2_0000, Access.Load), 0x3000, "ASID 2 kept");
  tlb.flushAsid(0);
  assert.equal(tlb.lookup(TlbCtx.U, 0x2_0000, Access.Load), 0x3000);
});

test("sfence.vma addr: every ASID and global entries; sfence.vma addr, asid: that ASID's non-global only", () => {
  const tlb = fresh();
  const va = 0x4000_0000;
  tlb.setAsid(1);
  tlb.fill(TlbCtx.U, va, R, 0x1000, 0, false);
  tlb.fill(TlbCtx.S, va + 4096, R, 0x4000, 0, false);
  tlb.setAsid(2);
  tlb.fill(TlbCtx.SSum, va, R, 0x2000, 0, false);
  tlb.fill(TlbCtx.S, KERNEL, R, 0x3000, 0, true);

  tlb.flushPageAsid(va, 1);
  assert.equal(tlb.lookup(TlbCtx.SSum, va, Access.Load), 0x2000, "other ASID kept");
  tlb.flushPageAsid(KERNEL, 2);
  assert.equal(tlb.lookup(TlbCtx.S, KERNEL, Access.Load), 0x3000, "global kept by an ASID flush");
  tlb.setAsid(1);
  assert.equal(tlb.lookup(TlbCtx.U, va, Access.Load), -1, "ASID 1's entry at va dropped");
  assert.equal(tlb.lookup(TlbCtx.S, va + 4096, Access.Load), 0x4000, "other page kept");

  tlb.flushPage(KERNEL + 0x123);
  assert.equal(tlb.lookup(TlbCtx.S, KERNEL, Access.Load), -1, "global dropped by an address flush");
  tlb.setAsid(2);
  tlb.flushPage(va + 0xfff);
  assert.equal(tlb.lookup(TlbCtx.SSum, va, Access.Load), -1, "all contexts, all ASIDs");
  tlb.setAsid(1);
  assert.equal(tlb.lookup(TlbCtx.S, va + 4096, Access.Load), 0x4000);
  tlb.flushAll();
  assert.equal(tlb.lookup(TlbCtx.S, va + 4096, Access.Load), -1);
});

test("superpages: an address flush anywhere in the superpage drops all its cached pieces", () => {
  for (const [level, base] of [
    [1, 0x4020_0000],
    [2, KERNEL - 2 ** 30],
    [3, 2 ** 39],
  ] as const) {
    const tlb = fresh();
    const size = 2 ** (12 + 9 * level);
    const host = 0x10_0000;
    tlb.fill(TlbCtx.S, base, R, host, level, false);
    tlb.fill(TlbCtx.S, base + size - 4096, R, host + 4096, level, false);
    tlb.fill(TlbCtx.S, base + size, R, host + 8192, 0, false); // a 4 KiB page just after it
    tlb.flushPage(base + size / 2);
    assert.equal(tlb.lookup(TlbCtx.S, base, Access.Load), -1, `level ${level} first piece`);
    assert.equal(tlb.lookup(TlbCtx.S, base + size - 1, Access.Load), -1, `level ${level} last piece`);
    assert.equal(tlb.lookup(TlbCtx.S, base + size, Access.Load), host + 8192, `level ${level} neighbour kept`);

    tlb.setAsid(3);
    tlb.fill(TlbCtx.U, base + 4096, R, host, level, false);
    tlb.fill(TlbCtx.U, base + 8192, R, host, level, true);
    tlb.flushPageAsid(base + size - 1, 4);
    assert.equal(tlb.lookup(TlbCtx.U, base + 4096, Access.Load), host, "other ASID kept");
    tlb.flushPageAsid(base + size - 1, 3);
    assert.equal(tlb.lookup(TlbCtx.U, base + 4096, Access.Load), -1);
    assert.equal(tlb.lookup(TlbCtx.U, base + 8192, Access.Load), host, "global kept");
    tlb.flushPage(base - 1);
    assert.equal(tlb.lookup(TlbCtx.U, base + 8192, Access.Load), host, "address just below: kept");
  }
});

test("revokeStores: every mapping of a host page loses store permission, nothing else changes", () => {
  const tlb = fresh();
  tlb.fill(TlbCtx.S, 0x1000, R | W | X, 0x5_0000, 0, false);
  tlb.fill(TlbCtx.U, 0x7_7000, R | W, 0x5_0000, 0, false); // an alias of the same physical page
  tlb.fill(TlbCtx.S, 0x2000, R | W, 0x6_0000, 0, false);
  tlb.revokeStores(0x5_0000);
  assert.equal(tlb.lookup(TlbCtx.S, 0x1008, Access.Store), -1);
  assert.equal(tlb.lookup(TlbCtx.U, 0x7_7008, Access.Store), -1);
  assert.equal(tlb.lookup(TlbCtx.S, 0x1008, Access.Load), 0x5_0008);
  assert.equal(tlb.lookup(TlbCtx.S, 0x1008, Access.Fetch), 0x5_0008);
  assert.equal(tlb.lookup(TlbCtx.S, 0x2008, Access.Store), 0x6_0008);
});
