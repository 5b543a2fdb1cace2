// PLIC: QEMU 7.2 virt layout (96 sources, M and S context per hart), level-triggered gateways, claim/complete,
// priorities and thresholds, MEIP/SEIP through HartIrq, snapshots.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type HartIrq, Mip } from "../mem/irq.ts";
import { PLIC_SOURCES, Plic, type PlicState } from "./plic.ts";

class FakeHart implements HartIrq {
  mip = 0;
  setPending(bit: number, level: boolean): void {
    this.mip = level ? this.mip | (1 << bit) : this.mip & ~(1 << bit);
  }
  has(bit: number): boolean {
    return (this.mip & (1 << bit)) !== 0;
  }
}

const priority = (s: number) => 4 * s;
const pending = (word: number) => 0x1000 + 4 * word;
const enable = (ctx: number, word: number) => 0x2000 + 0x80 * ctx + 4 * word;
const threshold = (ctx: number) => 0x200000 + 0x1000 * ctx;
const claim = (ctx: number) => 0x200004 + 0x1000 * ctx;

function setup(harts = 2) {
  const hs = Array.from({ length: harts }, () => new FakeHart());
  return { hs, plic: new Plic(hs) };
}

/** Enable `source` in context `ctx` (keeping the other bits of its word). */
function enableSource(plic: Plic, ctx: number, source: number): void {
  const off = enable(ctx, source >>> 5);
  plic.write(off, 4, plic.read(off, 4) | (1 << (source & 31)));
}

describe("registers", () => {
  test("priorities are WARL over 3 bits, source 0 included, past the last source read 0", () => {
    const { plic } = setup();
    plic.write(priority(10), 4, 0xff);
    assert.equal(plic.read(priority(10), 4), 7);
    plic.write(priority(10), 4, 5);
    assert.equal(plic.read(priority(10), 4), 5);
    plic.write(priority(0), 4, 3);
    assert.equal(plic.read(priority(0), 4), 3);
    plic.write(priority(95), 4, 9);
    assert.equal(plic.read(priority(95), 4), 1);
    plic.write(priority(96), 4, 2); // Linux touches source 96 because QEMU 7.2 says riscv,ndev = 96
    assert.equal(plic.read(priority(96), 4), 0);
  });

  test("pending follows the line level and ignores writes", () => {
    const { plic } = setup();
    plic.irq(10).set(true);
    plic.irq(33).set(true);
    plic.irq(95).set(true);
    assert.equal(plic.read(pending(0), 4), 1 << 10);
    assert.equal(plic.read(pending(1), 4), 1 << 1);
    assert.equal(plic.read(pending(2), 4), (1 << 31) >>> 0);
    assert.equal(plic.read(pending(3), 4), 0);
    plic.write(pending(0), 4, 0);
    assert.equal(plic.read(pending(0), 4), 1 << 10);
    plic.irq(10).set(false);
    assert.equal(plic.read(pending(0), 4), 0);
  });

  test("enables are per context, 3 words each; the rest of the stride reads 0", () => {
    const { plic } = setup(2);
    plic.write(enable(3, 2), 4, 0xdead_beef);
    assert.equal(plic.read(enable(3, 2), 4), 0xdead_beef);
    assert.equal(plic.read(enable(2, 2), 4), 0);
    plic.write(enable(3, 3), 4, 1);
    assert.equal(plic.read(enable(3, 3), 4), 0);
    plic.write(enable(4, 0), 4, 1); // context 4 does not exist with 2 harts
    assert.equal(plic.read(enable(4, 0), 4), 0);
  });

  test("thresholds are WARL over 3 bits; other context words read 0", () => {
    const { plic } = setup(1);
    plic.write(threshold(1), 4, 0x1f);
    assert.equal(plic.read(threshold(1), 4), 7);
    assert.equal(plic.read(threshold(0), 4), 0);
    assert.equal(plic.read(threshold(1) + 8, 4), 0);
    assert.equal(plic.read(threshold(2), 4), 0); // context 2 does not exist with 1 hart
  });

  test("only aligned 32-bit accesses do anything", () => {
    const { plic } = setup();
    plic.write(priority(1), 1, 5);
    plic.write(priority(1), 2, 5);
    plic.write(priority(1) + 1, 4, 5);
    assert.equal(plic.read(priority(1), 4), 0);
    plic.write(priority(1), 4, 5);
    assert.equal(plic.read(priority(1), 2), 0);
    assert.equal(plic.read(priority(1), 1), 0);
  });

  test("source numbers are checked when wiring", () => {
    const { plic } = setup();
    assert.throws(() => plic.irq(0), RangeError);
    assert.throws(() => plic.irq(PLIC_SOURCES), RangeError);
    assert.throws(() => plic.irq(1.5), RangeError);
    assert.equal(plic.irq(95), plic.irq(95));
    assert.throws(() => new Plic([]), RangeError);
  });
});

describe("interrupt delivery", () => {
  test("an enabled source above threshold raises its context's line: M contexts MEIP, S contexts SEIP", () => {
    const { hs, plic } = setup(2);
    plic.write(priority(10), 4, 1);
    enableSource(plic, 1, 10); // hart 0, S
    enableSource(plic, 2, 10); // hart 1, M
    assert.equal(hs[0]!.mip | hs[1]!.mip, 0);
    plic.irq(10).set(true);
    assert.equal(hs[0]!.has(Mip.SEIP), true);
    assert.equal(hs[0]!.has(Mip.MEIP), false);
    assert.equal(hs[1]!.has(Mip.MEIP), true);
    assert.equal(hs[1]!.has(Mip.SEIP), false);
    plic.irq(10).set(false);
    assert.equal(hs[0]!.mip | hs[1]!.mip, 0);
  });

  test("priority 0 never interrupts; priority must exceed the threshold", () => {
    const { hs, plic } = setup(1);
    enableSource(plic, 0, 5);
    plic.irq(5).set(true);
    assert.equal(hs[0]!.has(Mip.MEIP), false);
    assert.equal(plic.read(claim(0), 4), 0);
    plic.write(priority(5), 4, 3);
    assert.equal(hs[0]!.has(Mip.MEIP), true);
    plic.write(threshold(0), 4, 3);
    assert.equal(hs[0]!.has(Mip.MEIP), false);
    assert.equal(plic.read(claim(0), 4), 0);
    plic.write(threshold(0), 4, 2);
    assert.equal(hs[0]!.has(Mip.MEIP), true);
  });

  test("enabling an already pending source raises the line at once", () => {
    const { hs, plic } = setup(1);
    plic.write(priority(7), 4, 1);
    plic.irq(7).set(true);
    assert.equal(hs[0]!.has(Mip.MEIP), false);
    enableSource(plic, 0, 7);
    assert.equal(hs[0]!.has(Mip.MEIP), true);
    plic.write(enable(0, 0), 4, 0);
    assert.equal(hs[0]!.has(Mip.MEIP), false);
  });

  test("claim takes the highest priority, the lowest number on ties", () => {
    const { plic } = setup(1);
    for (const [s, p] of [
      [3, 2],
      [40, 5],
      [70, 5],
      [9, 4],
    ] as const) {
      plic.write(priority(s), 4, p);
      enableSource(plic, 1, s);
      plic.irq(s).set(true);
    }
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => plic.read(claim(1), 4)),
      [40, 70, 9, 3, 0],
    );
  });

  test("claim clears pending and marks claimed; complete with the line low does not re-pend", () => {
    const { hs, plic } = setup(1);
    plic.write(priority(10), 4, 1);
    enableSource(plic, 1, 10);
    plic.irq(10).set(true);
    assert.equal(plic.read(claim(1), 4), 10);
    assert.equal(plic.read(pending(0), 4), 0);
    assert.equal(hs[0]!.has(Mip.SEIP), false);
    plic.irq(10).set(false);
    plic.write(claim(1), 4, 10);
    assert.equal(plic.read(pending(0), 4), 0);
    assert.equal(hs[0]!.has(Mip.SEIP), false);
  });

  test("complete with the line still high makes the source pending again (level gateway)", () => {
    const { hs, plic } = setup(1);
    plic.write(priority(10), 4, 1);
    enableSource(plic, 1, 10);
    plic.irq(10).set(true);
    assert.equal(plic.read(claim(1), 4), 10);
    assert.equal(hs[0]!.has(Mip.SEIP), false);
    plic.write(claim(1), 4, 10);
    assert.equal(hs[0]!.has(Mip.SEIP), true);
    assert.equal(plic.read(claim(1), 4), 10);
  });

  test("a re-assertion while claimed is held until completion", () => {
    const { hs, plic } = setup(1);
    plic.write(priority(4), 4, 1);
    enableSource(plic, 0, 4);
    plic.irq(4).set(true);
    assert.equal(plic.read(claim(0), 4), 4);
    plic.irq(4).set(false);
    plic.irq(4).set(true);
    assert.equal(plic.read(pending(0), 4), 1 << 4);
    assert.equal(hs[0]!.has(Mip.MEIP), false);
    assert.equal(plic.read(claim(0), 4), 0);
    plic.irq(4).set(false); // level-triggered: dropping the line withdraws the request
    plic.write(claim(0), 4, 4);
    assert.equal(hs[0]!.has(Mip.MEIP), false);
  });

  test("a source claimed by one context is not claimable by another until completed", () => {
    const { hs, plic } = setup(2);
    plic.write(priority(1), 4, 1);
    enableSource(plic, 1, 1);
    enableSource(plic, 3, 1);
    plic.irq(1).set(true);
    assert.equal(hs[0]!.has(Mip.SEIP) && hs[1]!.has(Mip.SEIP), true);
    assert.equal(plic.read(claim(3), 4), 1);
    assert.equal(hs[0]!.has(Mip.SEIP) || hs[1]!.has(Mip.SEIP), false);
    assert.equal(plic.read(claim(1), 4), 0);
    plic.write(claim(1), 4, 1); // any context may complete it (QEMU does not check)
    assert.equal(hs[0]!.has(Mip.SEIP) && hs[1]!.has(Mip.SEIP), true);
  });

  test("completing a number out of range does nothing", () => {
    const { hs, plic } = setup(1);
    plic.write(priority(2), 4, 1);
    enableSource(plic, 0, 2);
    plic.irq(2).set(true);
    assert.equal(plic.read(claim(0), 4), 2);
    plic.write(claim(0), 4, 96 + 2);
    plic.write(claim(0), 4, 0);
    assert.equal(hs[0]!.has(Mip.MEIP), false);
    plic.write(claim(0), 4, 2);
    assert.equal(hs[0]!.has(Mip.MEIP), true);
  });
});

describe("reset and snapshots", () => {
  test("reset clears registers and lowers the lines; high inputs stay pending", () => {
    const { hs, plic } = setup(1);
    plic.write(priority(3), 4, 1);
    enableSource(plic, 0, 3);
    enableSource(plic, 1, 3);
    plic.irq(3).set(true);
    plic.write(threshold(1), 4, 0);
    assert.equal(hs[0]!.has(Mip.MEIP) && hs[0]!.has(Mip.SEIP), true);
    plic.reset();
    assert.equal(hs[0]!.mip, 0);
    assert.equal(plic.read(priority(3), 4), 0);
    assert.equal(plic.read(enable(0, 0), 4), 0);
    assert.equal(plic.read(pending(0), 4), 1 << 3);
  });

  test("save and restore into a new PLIC reproduces registers, claims and lines", () => {
    const a = setup(2);
    a.plic.write(priority(10), 4, 2);
    a.plic.write(priority(11), 4, 3);
    enableSource(a.plic, 1, 10);
    enableSource(a.plic, 1, 11);
    enableSource(a.plic, 2, 10);
    a.plic.write(threshold(2), 4, 1);
    a.plic.irq(10).set(true);
    a.plic.irq(11).set(true);
    assert.equal(a.plic.read(claim(1), 4), 11);
    const saved: PlicState = JSON.parse(JSON.stringify(a.plic.save()));
    assert.equal(saved.version, 1);

    const b = setup(2);
    b.plic.restore(saved);
    assert.deepEqual(b.plic.save(), a.plic.save());
    assert.deepEqual(
      b.hs.map((h) => h.mip),
      a.hs.map((h) => h.mip),
    );
    assert.equal(b.hs[0]!.has(Mip.SEIP), true); // 10 still pending for context 1
    assert.equal(b.plic.read(claim(1), 4), 10);
    b.plic.write(claim(1), 4, 11); // 11's line is still high: pending again
    assert.equal(b.plic.read(claim(1), 4), 11);
  });

  test("restore refuses another hart count or version", () => {
    const a = setup(2);
    const b = setup(1);
    assert.throws(() => b.plic.restore(a.plic.save()), RangeError);
    assert.throws(() => a.plic.restore({ ...a.plic.save(), version: 3 as 1 }), RangeError);
  });
});
