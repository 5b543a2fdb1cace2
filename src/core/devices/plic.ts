/**
 * SiFive PLIC as QEMU 7.2 virt configures it at 0x0C00_0000 (RISC-V PLIC spec 1.0.0): 96 sources counting the
 * unused source 0, priorities 0..7, two contexts per hart (2h = M-mode, 2h+1 = S-mode, QEMU's "MS,MS,…"), each
 * driving the hart's MEIP or SEIP. All sources are level-triggered. Registers are 32-bit; other sizes and misaligned
 * offsets, which QEMU faults, read 0 and are ignored here.
 */
import type { MmioDevice } from "../mem/bus.ts";
import { type HartIrq, type IrqLine, Mip } from "../mem/irq.ts";

/** Sources including source 0 (QEMU's VIRT_IRQCHIP_NUM_SOURCES). */
export const PLIC_SOURCES = 96;
/** Highest priority (QEMU: 3 priority bits). Priority 0 means "never interrupt". */
export const PLIC_MAX_PRIORITY = 7;
/** Bytes the PLIC occupies on the virt board (room for 512 harts × 2 contexts, as QEMU maps it). */
export const PLIC_SIZE = 0x600000;

/** Source priorities, one 32-bit word per source from source 0. */
const PRIORITY_BASE = 0x0;
/** Pending bits, 32 sources per word (read-only). */
const PENDING_BASE = 0x1000;
/** Enable bits of context c at ENABLE_BASE + ENABLE_STRIDE * c. */
const ENABLE_BASE = 0x2000;
const ENABLE_STRIDE = 0x80;
/** Context c's priority threshold (+0) and claim/complete (+4) at CONTEXT_BASE + CONTEXT_STRIDE * c. */
const CONTEXT_BASE = 0x200000;
const CONTEXT_STRIDE = 0x1000;
const THRESHOLD = 0;
const CLAIM = 4;

/** 32-bit words in each source bitmap. */
const WORDS = (PLIC_SOURCES + 31) >>> 5;

/** Saved PLIC state (STYLE.md rule 8). Bitmaps are arrays of 32-bit words, source n at bit n % 32 of word n / 32. */
export interface PlicState {
  readonly version: 1;
  readonly priority: readonly number[];
  readonly threshold: readonly number[];
  readonly pending: readonly number[];
  readonly claimed: readonly number[];
  /** Context c's enable words at [c * WORDS, (c + 1) * WORDS). */
  readonly enable: readonly number[];
  /** Input line levels. */
  readonly level: readonly number[];
}

/**
 * Behaviour follows QEMU's sifive_plic.c: a line's level sets or clears its pending bit; a claim returns the
 * enabled, pending, unclaimed source with the highest priority above the threshold (lowest number on ties), clears
 * its pending bit and marks it claimed until completion; completing any source number below 96 unclaims it. One
 * deliberate difference: completing a source whose line is still high makes it pending again, as the spec's level
 * gateway does (QEMU relies on devices re-asserting their line), so a device need only call `set` on changes; and
 * for the same reason an enable write re-evaluates the outputs at once (QEMU waits for the next PLIC event).
 */
export class Plic implements MmioDevice {
  readonly name = "plic";
  private readonly harts: readonly HartIrq[];
  private readonly contexts: number;
  private readonly priority = new Uint32Array(PLIC_SOURCES);
  private readonly threshold: Uint32Array;
  private readonly pending = new Uint32Array(WORDS);
  private readonly claimed = new Uint32Array(WORDS);
  private readonly level = new Uint32Array(WORDS);
  private readonly enable: Uint32Array;
  private readonly lines: IrqLine[];

  constructor(harts: readonly HartIrq[]) {
    if (harts.length < 1 || harts.length * 2 * CONTEXT_STRIDE > PLIC_SIZE - CONTEXT_BASE) {
      throw new RangeError(`bad hart count ${harts.length}`);
    }
    this.harts = harts;
    this.contexts = harts.length * 2;
    this.threshold = new Uint32Array(this.contexts);
    this.enable = new Uint32Array(this.contexts * WORDS);
    this.lines = [];
    for (let s = 0; s < PLIC_SOURCES; s++) {
      this.lines.push({ set: (l: boolean) => this.setLevel(s, l) });
    }
  }

  /** The input line of `source` (1..95). Throws RangeError for source 0 or out of range. */
  irq(source: number): IrqLine {
    if (!Number.isInteger(source) || source < 1 || source >= PLIC_SOURCES) {
      throw new RangeError(`PLIC source ${source} is not in 1..${PLIC_SOURCES - 1}`);
    }
    return this.lines[source]!;
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4 || (offset & 3) !== 0) return 0;
    if (offset >= PRIORITY_BASE && offset < PRIORITY_BASE + PLIC_SOURCES * 4) {
      return this.priority[(offset - PRIORITY_BASE) >>> 2]!;
    }
    if (offset >= PENDING_BASE && offset < PENDING_BASE + WORDS * 4) {
      return this.pending[(offset - PENDING_BASE) >>> 2]!;
    }
    if (offset >= ENABLE_BASE && offset < ENABLE_BASE + this.contexts * ENABLE_STRIDE) {
      const ctx = ((offset - ENABLE_BASE) / ENABLE_STRIDE) | 0;
      const word = ((offset - ENABLE_BASE) % ENABLE_STRIDE) >>> 2;
      return word < WORDS ? this.enable[ctx * WORDS + word]! : 0;
    }
    if (offset >= CONTEXT_BASE && offset < CONTEXT_BASE + this.contexts * CONTEXT_STRIDE) {
      const ctx = ((offset - CONTEXT_BASE) / CONTEXT_STRIDE) | 0;
      const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (reg === THRESHOLD) return this.threshold[ctx]!;
      if (reg === CLAIM) return this.claim(ctx);
    }
    return 0;
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) return;
    const v = value >>> 0;
    if (offset >= PRIORITY_BASE && offset < PRIORITY_BASE + PLIC_SOURCES * 4) {
      // WARL: 2^3 levels, so unsupported high bits are dropped (QEMU: value % (num_priorities + 1)).
      this.priority[(offset - PRIORITY_BASE) >>> 2] = v & PLIC_MAX_PRIORITY;
      this.update();
      return;
    }
    if (offset >= PENDING_BASE && offset < PENDING_BASE + WORDS * 4) return; // read-only
    if (offset >= ENABLE_BASE && offset < ENABLE_BASE + this.contexts * ENABLE_STRIDE) {
      const ctx = ((offset - ENABLE_BASE) / ENABLE_STRIDE) | 0;
      const word = ((offset - ENABLE_BASE) % ENABLE_STRIDE) >>> 2;
      if (word < WORDS) {
        this.enable[ctx * WORDS + word] = v;
        this.update();
      }
      return;
    }
    if (offset >= CONTEXT_BASE && offset < CONTEXT_BASE + this.contexts * CONTEXT_STRIDE) {
      const ctx = ((offset - CONTEXT_BASE) / CONTEXT_STRIDE) | 0;
      const reg = (offset - CONTEXT_BASE) % CONTEXT_STRIDE;
      if (reg === THRESHOLD) {
        this.threshold[ctx] = v & PLIC_MAX_PRIORITY;
        this.update();
      } else if (reg === CLAIM && v < PLIC_SOURCES) {
        this.complete(v);
      }
    }
  }

  /** Clear all registers and lower every MEIP/SEIP (QEMU's sifive_plic_reset). Input line levels are kept. */
  reset(): void {
    this.priority.fill(0);
    this.threshold.fill(0);
    this.claimed.fill(0);
    this.enable.fill(0);
    this.pending.set(this.level);
    for (let h = 0; h < this.harts.length; h++) {
      this.harts[h]!.setPending(Mip.MEIP, false);
      this.harts[h]!.setPending(Mip.SEIP, false);
    }
  }

  save(): PlicState {
    return {
      version: 1,
      priority: Array.from(this.priority),
      threshold: Array.from(this.threshold),
      pending: Array.from(this.pending),
      claimed: Array.from(this.claimed),
      enable: Array.from(this.enable),
      level: Array.from(this.level),
    };
  }

  /** Restore a saved state and drive MEIP/SEIP to match it. Throws RangeError on a mismatched state. */
  restore(s: PlicState): void {
    if (s.version !== 1) throw new RangeError(`unknown PLIC state version ${s.version}`);
    const sizes: [readonly number[], number][] = [
      [s.priority, PLIC_SOURCES],
      [s.threshold, this.contexts],
      [s.pending, WORDS],
      [s.claimed, WORDS],
      [s.enable, this.contexts * WORDS],
      [s.level, WORDS],
    ];
    for (const [a, n] of sizes) {
      if (a.length !== n) throw new RangeError(`PLIC state does not fit ${this.harts.length} harts`);
    }
    this.priority.set(s.priority);
    this.threshold.set(s.threshold);
    this.pending.set(s.pending);
    this.claimed.set(s.claimed);
    this.enable.set(s.enable);
    this.level.set(s.level);
    this.update();
  }

  private setLevel(source: number, high: boolean): void {
    const w = source >>> 5;
    const bit = 1 << (source & 31);
    if (high) {
      this.level[w]! |= bit;
      this.pending[w]! |= bit;
    } else {
      this.level[w]! &= ~bit;
      this.pending[w]! &= ~bit;
    }
    this.update();
  }

  /** The source context `ctx` would claim now, or 0 (QEMU's sifive_plic_claimed). */
  private best(ctx: number): number {
    let bestSource = 0;
    let bestPriority = this.threshold[ctx]!;
    for (let w = 0; w < WORDS; w++) {
      let ready = this.pending[w]! & ~this.claimed[w]! & this.enable[ctx * WORDS + w]!;
      while (ready !== 0) {
        const b = 31 - Math.clz32(ready & -ready);
        ready &= ready - 1;
        const source = (w << 5) | b;
        if (this.priority[source]! > bestPriority) {
          bestSource = source;
          bestPriority = this.priority[source]!;
        }
      }
    }
    return bestSource;
  }

  private claim(ctx: number): number {
    const source = this.best(ctx);
    if (source !== 0) {
      const bit = 1 << (source & 31);
      this.pending[source >>> 5]! &= ~bit;
      this.claimed[source >>> 5]! |= bit;
    }
    this.update();
    return source;
  }

  private complete(source: number): void {
    const w = source >>> 5;
    const bit = 1 << (source & 31);
    this.claimed[w]! &= ~bit;
    if (source !== 0 && (this.level[w]! & bit) !== 0) this.pending[w]! |= bit;
    this.update();
  }

  /** Drive each context's external interrupt line: high while it has a claimable source. */
  private update(): void {
    for (let ctx = 0; ctx < this.contexts; ctx++) {
      this.harts[ctx >>> 1]!.setPending((ctx & 1) === 0 ? Mip.MEIP : Mip.SEIP, this.best(ctx) !== 0);
    }
  }
}
