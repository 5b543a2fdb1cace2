// The built-in SBI against fake harts and a fake platform: every extension's calls, their error codes, the legacy
// calls, and the M-mode state `enterSupervisor` leaves a hart in (SBI spec 1.0.0; DBCN from 2.0).
import assert from "node:assert/strict";
import { test } from "node:test";
import { CsrSlot } from "../cpu/layout.ts";
import { Mip } from "../mem/irq.ts";
import {
  Eid,
  enterSupervisor,
  HartState,
  IMPL_ID,
  type ResetType,
  Sbi,
  SbiError,
  type SbiHart,
  type SbiPlatform,
  SPEC_VERSION,
} from "./sbi.ts";

const RAM_BASE = 0x8000_0000n;
const RAM_SIZE = 1 << 20;

class FakeHart implements SbiHart {
  readonly hartId: number;
  readonly x = new BigInt64Array(33);
  readonly csr = new BigInt64Array(64);
  pc = 0n;
  priv = 3;
  stopRequested = false;
  readonly ramSize = RAM_SIZE;
  tlbFlushes = 0;

  constructor(id: number) {
    this.hartId = id;
    this.csr[CsrSlot.mhartid] = BigInt(id);
  }

  setPending(bit: number, level: boolean): void {
    const m = 1n << BigInt(bit);
    this.csr[CsrSlot.mip] = level ? this.csr[CsrSlot.mip]! | m : this.csr[CsrSlot.mip]! & ~m;
  }

  flushTlb(): void {
    this.tlbFlushes++;
  }

  writePmp(num: number, v: bigint): boolean {
    if (num === 0x3a0) this.csr[CsrSlot.pmpcfg] = v;
    else if (num >= 0x3b0 && num < 0x3c0) this.csr[CsrSlot.pmpaddr + num - 0x3b0] = v & ((1n << 54n) - 1n);
    else return false;
    return true;
  }

  writeSatp(v: bigint): bigint {
    this.csr[CsrSlot.satp] = v;
    return v;
  }

  pending(bit: number): boolean {
    return ((this.csr[CsrSlot.mip]! >> BigInt(bit)) & 1n) !== 0n;
  }
}

class FakePlatform implements SbiPlatform {
  now = 1000n;
  out: number[] = [];
  input: number[] = [];
  readonly ram = new Uint8Array(RAM_SIZE);
  resets: [ResetType, number][] = [];

  time(): bigint {
    return this.now;
  }
  consoleWrite(bytes: Uint8Array): void {
    this.out.push(...bytes);
  }
  consoleRead(): number {
    return this.input.shift() ?? -1;
  }
  readRam(addr: bigint, len: number): Uint8Array | null {
    const off = addr - RAM_BASE;
    if (off < 0n || off + BigInt(len) > BigInt(RAM_SIZE)) return null;
    return this.ram.slice(Number(off), Number(off) + len);
  }
  writeRam(addr: bigint, data: Uint8Array): boolean {
    const off = addr - RAM_BASE;
    if (off < 0n || off + BigInt(data.length) > BigInt(RAM_SIZE)) return false;
    this.ram.set(data, Number(off));
    return true;
  }
  systemReset(type: ResetType, reason: number): void {
    this.resets.push([type, reason]);
  }
}

function setup(n = 2) {
  const harts = Array.from({ length: n }, (_, i) => new FakeHart(i));
  const platform = new FakePlatform();
  const sbi = new Sbi(harts, platform);
  sbi.boot(RAM_BASE + 0x20_0000n, RAM_BASE + 0x8_0000n);
  return { harts, platform, sbi };
}

/** Make an SBI call on `hart`: returns [a0, a1]. */
function call(sbi: Sbi, hart: FakeHart, eid: number, fid: number, ...args: bigint[]): [bigint, bigint] {
  hart.x.fill(0n);
  args.forEach((a, i) => {
    hart.x[10 + i] = a;
  });
  hart.x[11] = args[1] ?? 0x5a5an; // a1 sentinel for the legacy calls
  hart.x[16] = BigInt(fid);
  hart.x[17] = BigInt(eid);
  assert.equal(sbi.handle(hart), true);
  return [hart.x[10]!, hart.x[11]!];
}

test("boot: hart 0 enters S-mode at the kernel with a0 = hartid, a1 = DTB; the others are stopped", () => {
  const { harts, sbi } = setup(3);
  const h = harts[0]!;
  assert.equal(h.priv, 1);
  assert.equal(h.pc, RAM_BASE + 0x20_0000n);
  assert.equal(h.x[10], 0n);
  assert.equal(h.x[11], RAM_BASE + 0x8_0000n);
  assert.deepEqual(
    [0, 1, 2].map((i) => sbi.state(i)),
    [HartState.STARTED, HartState.STOPPED, HartState.STOPPED],
  );
});

test("enterSupervisor sets up delegation, counters, Sstc, an open PMP and S-mode entry state like OpenSBI", () => {
  const h = new FakeHart(1);
  h.csr[CsrSlot.mstatus] = (1n << 1n) | (1n << 17n) | (2n << 32n) | (2n << 34n); // SIE, MPRV, UXL/SXL
  h.csr[CsrSlot.satp] = 8n << 60n;
  enterSupervisor(h, 0x8040_0000n, 0x1234n);
  const c = h.csr;
  assert.equal(h.priv, 1);
  assert.equal(h.pc, 0x8040_0000n);
  assert.equal(h.x[10], 1n);
  assert.equal(h.x[11], 0x1234n);
  assert.equal(c[CsrSlot.satp], 0n);
  const st = c[CsrSlot.mstatus]!;
  assert.equal(st & (1n << 1n), 0n, "SIE clear");
  assert.equal(st & (1n << 17n), 0n, "MPRV clear");
  assert.equal((st >> 32n) & 0xfn, 0xan, "UXL/SXL kept");
  // Interrupts SSI, STI, SEI to S; exceptions: all delegable ones but ecall from S/M.
  assert.equal(c[CsrSlot.mideleg], 0x222n);
  const medeleg = c[CsrSlot.medeleg]!;
  for (const cause of [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 15])
    assert.ok((medeleg >> BigInt(cause)) & 1n, `cause ${cause}`);
  assert.equal((medeleg >> 9n) & 1n, 0n);
  assert.equal((medeleg >> 11n) & 1n, 0n);
  assert.equal(c[CsrSlot.mcounteren]! & 7n, 7n);
  assert.equal(c[CsrSlot.menvcfg]! < 0n, true, "menvcfg.STCE (bit 63)");
  assert.equal(c[CsrSlot.pmpcfg]! & 0xffn, 0x1fn, "pmp0 NAPOT RWX");
  assert.equal(c[CsrSlot.pmpaddr], (1n << 54n) - 1n);
});

test("base: spec version 1.0, impl id, probe, machine ids; unknown FIDs and EIDs are not supported", () => {
  const { harts, sbi } = setup();
  const h = harts[0]!;
  assert.deepEqual(call(sbi, h, Eid.Base, 0), [0n, BigInt(SPEC_VERSION)]);
  assert.equal(SPEC_VERSION, 0x0100_0000);
  assert.deepEqual(call(sbi, h, Eid.Base, 1), [0n, BigInt(IMPL_ID)]);
  assert.equal(call(sbi, h, Eid.Base, 2)[0], 0n);
  for (const eid of [Eid.Time, Eid.Ipi, Eid.Rfence, Eid.Hsm, Eid.Srst, Eid.Dbcn, Eid.Base, 0, 1, 8]) {
    assert.deepEqual(call(sbi, h, Eid.Base, 3, BigInt(eid)), [0n, 1n], `probe ${eid.toString(16)}`);
  }
  for (const eid of [0x504d55 /* PMU */, 0x53555350 /* SUSP */, 9, 0x0a000000]) {
    assert.deepEqual(call(sbi, h, Eid.Base, 3, BigInt(eid)), [0n, 0n]);
  }
  for (const fid of [4, 5, 6]) assert.deepEqual(call(sbi, h, Eid.Base, fid), [0n, 0n]);
  assert.equal(call(sbi, h, Eid.Base, 7)[0], BigInt(SbiError.NOT_SUPPORTED));
  assert.equal(call(sbi, h, 0x12345678, 0)[0], BigInt(SbiError.NOT_SUPPORTED));
});

test("TIME.set_timer programs stimecmp (Sstc) and clears a pending STIP when the time is in the future", () => {
  const { harts, platform, sbi } = setup();
  const h = harts[0]!;
  h.setPending(Mip.STIP, true);
  assert.deepEqual(call(sbi, h, Eid.Time, 0, 5000n), [0n, 0n]);
  assert.equal(h.csr[CsrSlot.stimecmp], 5000n);
  assert.equal(h.pending(Mip.STIP), false);
  // A time already past leaves STIP to the hart (it compares stimecmp with time itself).
  platform.now = 9000n;
  h.setPending(Mip.STIP, true);
  call(sbi, h, Eid.Time, 0, 8000n);
  assert.equal(h.csr[CsrSlot.stimecmp], 8000n);
  assert.equal(h.pending(Mip.STIP), true);
  // Legacy set_timer too; returns 0 in a0 and leaves a1 alone.
  assert.deepEqual(call(sbi, h, Eid.LegacySetTimer, 0, 12345n), [0n, 0x5a5an]);
  assert.equal(h.csr[CsrSlot.stimecmp], 12345n);
});

test("IPI.send_ipi raises SSIP on the harts of (mask, base); base -1 means all; bad harts are INVALID_PARAM", () => {
  const { harts, sbi } = setup(4);
  const [h0, h1, h2, h3] = harts as [FakeHart, FakeHart, FakeHart, FakeHart];
  assert.deepEqual(call(sbi, h0, Eid.Ipi, 0, 0b101n, 1n), [0n, 0n]);
  assert.deepEqual(
    [h0, h1, h2, h3].map((h) => h.pending(Mip.SSIP)),
    [false, true, false, true],
  );
  for (const h of harts) h.setPending(Mip.SSIP, false);
  call(sbi, h0, Eid.Ipi, 0, 0n, -1n);
  assert.deepEqual(
    [h0, h1, h2, h3].map((h) => h.pending(Mip.SSIP)),
    [true, true, true, true],
  );
  for (const h of harts) h.setPending(Mip.SSIP, false);
  // Hart 4 does not exist: nothing is sent.
  assert.equal(call(sbi, h0, Eid.Ipi, 0, 0b11n, 3n)[0], BigInt(SbiError.INVALID_PARAM));
  assert.equal(h3.pending(Mip.SSIP), false);
  assert.equal(call(sbi, h0, Eid.Ipi, 0, 1n, 4n)[0], BigInt(SbiError.INVALID_PARAM));
  // Legacy clear_ipi clears the caller's SSIP.
  h2.setPending(Mip.SSIP, true);
  call(sbi, h2, Eid.LegacyClearIpi, 0);
  assert.equal(h2.pending(Mip.SSIP), false);
});

test("RFENCE flushes the targets' TLBs (sfence.vma); fence.i has nothing to flush; hypervisor fences unsupported", () => {
  const { harts, sbi } = setup(3);
  const [h0, h1, h2] = harts as [FakeHart, FakeHart, FakeHart];
  assert.deepEqual(call(sbi, h0, Eid.Rfence, 1, 0b110n, 0n, 0n, 0x1000n), [0n, 0n]);
  assert.deepEqual([h0.tlbFlushes, h1.tlbFlushes, h2.tlbFlushes], [1, 1, 1]); // boot flushed hart 0's
  call(sbi, h0, Eid.Rfence, 2, 0n, -1n, 0n, 0x1000n, 5n);
  assert.deepEqual([h0.tlbFlushes, h1.tlbFlushes, h2.tlbFlushes], [2, 2, 2]);
  // remote_fence_i succeeds with nothing to do: stores keep every hart's decode cache coherent (hart.ts CodeMap,
  // tested in machine/virt.test.ts); a bad hart mask is still an error.
  assert.deepEqual(call(sbi, h0, Eid.Rfence, 0, 0n, -1n), [0n, 0n]);
  assert.deepEqual(call(sbi, h0, Eid.Rfence, 0, 0b1000n, 0n), [BigInt(SbiError.INVALID_PARAM), 0n]);
  for (const fid of [3, 4, 5, 6, 7]) {
    assert.equal(call(sbi, h0, Eid.Rfence, fid, 0n, -1n)[0], BigInt(SbiError.NOT_SUPPORTED));
  }
});

test("HSM: hart_start, get_status, hart_stop, and their errors", () => {
  const { harts, platform, sbi } = setup(2);
  const [h0, h1] = harts as [FakeHart, FakeHart];
  assert.deepEqual(call(sbi, h0, Eid.Hsm, 2, 1n), [0n, BigInt(HartState.STOPPED)]);
  assert.deepEqual(call(sbi, h0, Eid.Hsm, 2, 0n), [0n, BigInt(HartState.STARTED)]);
  assert.equal(call(sbi, h0, Eid.Hsm, 2, 2n)[0], BigInt(SbiError.INVALID_PARAM));
  // Start address outside RAM.
  assert.equal(call(sbi, h0, Eid.Hsm, 0, 1n, 0x1000n, 7n)[0], BigInt(SbiError.INVALID_ADDRESS));
  assert.equal(call(sbi, h0, Eid.Hsm, 0, 5n, RAM_BASE, 7n)[0], BigInt(SbiError.INVALID_PARAM));
  assert.deepEqual(call(sbi, h0, Eid.Hsm, 0, 1n, RAM_BASE + 0x100n, 0x77n), [0n, 0n]);
  assert.equal(sbi.state(1), HartState.STARTED);
  assert.equal(h1.pc, RAM_BASE + 0x100n);
  assert.equal(h1.priv, 1);
  assert.equal(h1.x[10], 1n);
  assert.equal(h1.x[11], 0x77n);
  assert.equal(call(sbi, h0, Eid.Hsm, 0, 1n, RAM_BASE, 0n)[0], BigInt(SbiError.ALREADY_AVAILABLE));
  // hart_stop ends the caller's run at once.
  h1.stopRequested = false;
  call(sbi, h1, Eid.Hsm, 1);
  assert.equal(h1.stopRequested, true);
  assert.equal(sbi.state(1), HartState.STOPPED);
  assert.equal(platform.resets.length, 0);
});

test("HSM.hart_suspend: retentive and non-retentive suspend, resume, and bad types", () => {
  const { harts, sbi } = setup(1);
  const h = harts[0]!;
  assert.deepEqual(call(sbi, h, Eid.Hsm, 3, 0n), [0n, 0n]);
  assert.equal(sbi.state(0), HartState.SUSPENDED);
  assert.equal(h.stopRequested, true);
  h.pc = 0x8000_1234n;
  sbi.resume(0);
  assert.equal(sbi.state(0), HartState.STARTED);
  assert.equal(h.pc, 0x8000_1234n, "retentive: continues after the ecall");
  call(sbi, h, Eid.Hsm, 3, 0x8000_0000n, RAM_BASE + 0x400n, 0x99n);
  assert.equal(sbi.state(0), HartState.SUSPENDED);
  sbi.resume(0);
  assert.equal(h.pc, RAM_BASE + 0x400n, "non-retentive: restarts at resume_addr");
  assert.equal(h.x[10], 0n);
  assert.equal(h.x[11], 0x99n);
  assert.equal(call(sbi, h, Eid.Hsm, 3, 1n)[0], BigInt(SbiError.INVALID_PARAM));
  assert.equal(call(sbi, h, Eid.Hsm, 3, 0x1000_0000n)[0], BigInt(SbiError.NOT_SUPPORTED));
  assert.equal(call(sbi, h, Eid.Hsm, 3, 0x8000_0000n, 0x10n)[0], BigInt(SbiError.INVALID_ADDRESS));
  assert.equal(sbi.state(0), HartState.STARTED);
});

test("SRST: shutdown and reboots reach the platform; bad types and reasons are INVALID_PARAM", () => {
  const { harts, platform, sbi } = setup(1);
  const h = harts[0]!;
  assert.equal(call(sbi, h, Eid.Srst, 0, 0n, 0n)[0], 0n);
  assert.equal(h.stopRequested, true);
  call(sbi, h, Eid.Srst, 0, 1n, 1n);
  call(sbi, h, Eid.Srst, 0, 2n, 0xf000_0001n);
  assert.deepEqual(platform.resets, [
    ["shutdown", 0],
    ["cold-reboot", 1],
    ["warm-reboot", 0xf000_0001],
  ]);
  assert.equal(call(sbi, h, Eid.Srst, 0, 3n, 0n)[0], BigInt(SbiError.INVALID_PARAM));
  assert.equal(call(sbi, h, Eid.Srst, 0, 0n, 2n)[0], BigInt(SbiError.INVALID_PARAM));
  assert.equal(call(sbi, h, Eid.Srst, 1, 0n, 0n)[0], BigInt(SbiError.NOT_SUPPORTED));
  assert.equal(platform.resets.length, 3);
  call(sbi, h, Eid.LegacyShutdown, 0);
  assert.deepEqual(platform.resets[3], ["shutdown", 0]);
});

test("DBCN: console_write from physical memory, console_read into it, write_byte; bad addresses", () => {
  const { harts, platform, sbi } = setup(1);
  const h = harts[0]!;
  platform.ram.set(new TextEncoder().encode("hello"), 0x100);
  assert.deepEqual(call(sbi, h, Eid.Dbcn, 0, 5n, RAM_BASE + 0x100n, 0n), [0n, 5n]);
  assert.deepEqual(call(sbi, h, Eid.Dbcn, 2, 0x21n), [0n, 0n]);
  assert.equal(String.fromCharCode(...platform.out), "hello!");
  assert.equal(call(sbi, h, Eid.Dbcn, 0, 5n, 0x1000n, 0n)[0], BigInt(SbiError.INVALID_PARAM));
  assert.equal(call(sbi, h, Eid.Dbcn, 0, 5n, RAM_BASE, 1n)[0], BigInt(SbiError.INVALID_PARAM));
  platform.input.push(0x41, 0x42);
  assert.deepEqual(call(sbi, h, Eid.Dbcn, 1, 8n, RAM_BASE + 0x200n, 0n), [0n, 2n]);
  assert.deepEqual(Array.from(platform.ram.subarray(0x200, 0x203)), [0x41, 0x42, 0]);
  assert.deepEqual(call(sbi, h, Eid.Dbcn, 1, 8n, RAM_BASE + 0x200n, 0n), [0n, 0n]);
  assert.equal(call(sbi, h, Eid.Dbcn, 3)[0], BigInt(SbiError.NOT_SUPPORTED));
});

test("legacy console: putchar writes, getchar returns a byte or -1 in a0 only", () => {
  const { harts, platform, sbi } = setup(1);
  const h = harts[0]!;
  assert.deepEqual(call(sbi, h, Eid.LegacyConsolePutchar, 0, 0x7an), [0n, 0x5a5an]);
  assert.deepEqual(platform.out, [0x7a]);
  assert.deepEqual(call(sbi, h, Eid.LegacyConsoleGetchar, 0), [-1n, 0x5a5an]);
  platform.input.push(0x0d);
  assert.deepEqual(call(sbi, h, Eid.LegacyConsoleGetchar, 0), [0x0dn, 0x5a5an]);
});

test("legacy send_ipi and remote fences read the hart mask through the caller's page tables", () => {
  const { harts, platform, sbi } = setup(3);
  const [h0, h1, h2] = harts as [FakeHart, FakeHart, FakeHart];
  const dv = new DataView(platform.ram.buffer);
  // Bare: the mask is at a physical address.
  dv.setBigUint64(0x300, 0b100n, true);
  assert.equal(call(sbi, h0, Eid.LegacySendIpi, 0, RAM_BASE + 0x300n)[0], 0n);
  assert.deepEqual(
    [h0, h1, h2].map((h) => h.pending(Mip.SSIP)),
    [false, false, true],
  );
  // Sv39: root table at RAM + 0x1000 maps VA 0x4000_0000 (a 1 GiB gigapage) to RAM_BASE.
  const root = 0x1000;
  const pte = ((RAM_BASE >> 12n) << 10n) | 0xcfn; // V R W X A D
  dv.setBigUint64(root + 1 * 8, pte, true);
  h0.csr[CsrSlot.satp] = (8n << 60n) | ((RAM_BASE + BigInt(root)) >> 12n);
  dv.setBigUint64(0x308, 0b010n, true);
  assert.equal(call(sbi, h0, Eid.LegacySendIpi, 0, 0x4000_0308n)[0], 0n);
  assert.equal(h1.pending(Mip.SSIP), true);
  // An unmapped mask pointer.
  assert.equal(call(sbi, h0, Eid.LegacySendIpi, 0, 0x8000_0000n)[0], BigInt(SbiError.INVALID_ADDRESS));
  // A null mask means all harts.
  const before = [h0, h1, h2].map((h) => h.tlbFlushes);
  call(sbi, h0, Eid.LegacyRemoteSfenceVma, 0, 0n);
  assert.deepEqual(
    [h0, h1, h2].map((h) => h.tlbFlushes),
    before.map((n) => n + 1),
  );
});
