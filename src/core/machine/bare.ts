/**
 * The bare-metal machine: one hart in M-mode, RAM, an NS16550A UART at 0x1000_0000 and HTIF (`tohost`/`fromhost`)
 * as spike and QEMU's `-M spike` provide it (QEMU 7.2 hw/char/riscv_htif.c: device 0 command 0 with bit 0 set exits
 * with payload >> 1; device 1 command 1 writes a console byte; each handled request clears tohost and answers in
 * fromhost). Runs ELF test programs and benchmarks; the virt board comes with issue 4.
 */
import { Exit, Hart } from "../cpu/hart.ts";
import { CsrSlot, RAM_OFFSET } from "../cpu/layout.ts";
import { Uart16550 } from "../devices/uart-16550.ts";
import { type ElfImage, LoadError } from "../firmware/elf.ts";
import { Bus, hex } from "../mem/bus.ts";

export interface BareMachineOptions {
  /** Physical base of RAM (default 0x8000_0000). */
  readonly ramBase?: number;
  /** RAM size in bytes (default 128 MiB). */
  readonly ramSize?: number;
  /** Receives console bytes written by the guest (HTIF putchar and the UART). */
  readonly onOutput: (bytes: Uint8Array) => void;
}

/**
 * Why `run` returned: the guest exited through HTIF, the instruction limit was reached, or the hart executed `wfi`
 * in a machine where no interrupt can ever wake it.
 */
export type BareExit =
  | { readonly kind: "exit"; readonly code: number }
  | { readonly kind: "limit" }
  | { readonly kind: "wfi" };

const WASM_PAGE = 65536;
export const UART_BASE = 0x1000_0000;
/**
 * Instructions per call of Hart.run: large enough to amortise the call, small enough that V8 sees run() called often
 * and compiles it whole. With 4 Mi per call, V8 only ever entered run() by on-stack replacement of its loop, whose
 * code keeps the loop's variables as tagged values (27-32% slower on the interp and sha256 workloads, see Hart.run).
 */
const CHUNK = 1 << 16;

export class BareMachine {
  readonly memory: WebAssembly.Memory;
  readonly hart: Hart;
  readonly bus: Bus;
  readonly uart: Uart16550;
  readonly ramBase: number;
  readonly ramSize: number;
  private readonly ram: Uint8Array;
  private readonly onOutput: (bytes: Uint8Array) => void;
  private tohost = -1;
  private fromhost = -1;
  private exitCode: number | null = null;

  constructor(opts: BareMachineOptions) {
    this.ramBase = opts.ramBase ?? 0x8000_0000;
    this.ramSize = opts.ramSize ?? 128 * 1024 * 1024;
    if (this.ramSize <= 0 || this.ramSize % 4096 !== 0) {
      throw new RangeError(`RAM size must be a positive multiple of 4 KiB, not ${this.ramSize}`);
    }
    const pages = Math.ceil((RAM_OFFSET + this.ramSize) / WASM_PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    this.ram = new Uint8Array(this.memory.buffer, RAM_OFFSET, this.ramSize);
    this.onOutput = opts.onOutput;
    this.bus = new Bus();
    this.uart = new Uart16550((b) => this.onOutput(Uint8Array.of(b)));
    this.bus.map(UART_BASE, 0x100, this.uart);
    const start = performance.now();
    this.hart = new Hart({
      memory: this.memory,
      hartId: 0,
      ramBase: this.ramBase,
      ramSize: this.ramSize,
      bus: this.bus,
      // mtime at 10 MHz from the host's monotonic clock, as QEMU's CLINT counts.
      timeSource: () => BigInt(Math.floor((performance.now() - start) * 10_000)),
    });
  }

  /** Copy the ELF's segments into RAM, find `tohost`/`fromhost`, set pc to the entry. Throws LoadError. */
  load(elf: ElfImage): void {
    const ramEnd = BigInt(this.ramBase + this.ramSize);
    for (const seg of elf.segments) {
      if (seg.memsz === 0n) continue;
      const end = seg.paddr + seg.memsz;
      if (seg.paddr < BigInt(this.ramBase) || end > ramEnd) {
        throw new LoadError(
          "IMAGE_OUTSIDE_RAM",
          `segment at ${hex(seg.paddr)}–${hex(end)} is outside RAM (${hex(this.ramBase)}–${hex(ramEnd)})`,
        );
      }
    }
    for (const seg of elf.segments) {
      if (seg.memsz === 0n) continue;
      const off = Number(seg.paddr) - this.ramBase;
      this.ram.set(seg.data, off);
      this.ram.fill(0, off + seg.data.length, off + Number(seg.memsz));
      this.hart.ramWritten(off, Number(seg.memsz));
    }
    this.hart.reset();
    this.hart.pc = elf.entry;
    this.exitCode = null;
    const tohost = elf.symbols.get("tohost");
    const fromhost = elf.symbols.get("fromhost");
    this.tohost = tohost !== undefined && this.inRam(tohost, 8) ? Number(tohost) : -1;
    this.fromhost = fromhost !== undefined && this.inRam(fromhost, 8) ? Number(fromhost) : -1;
    if (this.tohost >= 0) this.hart.hookPage(this.tohost, (addr, size) => this.onTohostStore(addr, size));
  }

  /** Run until the guest exits or `limit` instructions have been executed (default: no limit). */
  run(limit = Number.POSITIVE_INFINITY): BareExit {
    let left = limit;
    while (left > 0) {
      const chunk = Math.min(left, CHUNK);
      const r = this.hart.run(chunk);
      left -= this.hart.lastRunSteps;
      if (r === Exit.Stop || this.exitCode !== null) return { kind: "exit", code: this.exitCode ?? 0 };
      if (r === Exit.Wfi) return { kind: "wfi" };
    }
    return { kind: "limit" };
  }

  /** Instructions retired so far (minstret). */
  get instret(): bigint {
    return this.hart.csr[CsrSlot.minstret]!;
  }

  /** Read integer register x0..x31. */
  reg(i: number): bigint {
    return i === 0 ? 0n : this.hart.x[i]!;
  }

  private inRam(addr: bigint, size: number): boolean {
    return addr >= BigInt(this.ramBase) && addr + BigInt(size) <= BigInt(this.ramBase + this.ramSize);
  }

  private readU64(addr: number): bigint {
    return new DataView(this.memory.buffer).getBigUint64(RAM_OFFSET + addr - this.ramBase, true);
  }

  private writeU64(addr: number, v: bigint): void {
    new DataView(this.memory.buffer).setBigUint64(RAM_OFFSET + addr - this.ramBase, v, true);
  }

  /** A guest store touched the tohost page. QEMU acts when the high word of tohost is written. */
  private onTohostStore(addr: number, size: number): boolean {
    const t = this.tohost;
    if (addr >= t + 8 || addr + size <= t + 4) return false;
    const val = this.readU64(t);
    if (val === 0n) return false;
    const device = Number(val >> 56n);
    const cmd = Number((val >> 48n) & 0xffn);
    const payload = val & 0xffff_ffff_ffffn;
    let resp = 0n;
    if (device === 0 && cmd === 0 && (payload & 1n) === 1n) {
      this.exitCode = Number((payload >> 1n) & 0x7fff_ffffn);
      return true;
    }
    if (device === 1 && cmd === 1) {
      this.onOutput(Uint8Array.of(Number(payload & 0xffn)));
      resp = 0x100n | (payload & 0xffn);
    }
    // Other requests (the pk syscall proxy, console input) are not supported by QEMU 7.2 either: acknowledged only.
    if (this.fromhost >= 0) this.writeU64(this.fromhost, ((val >> 48n) << 48n) | resp);
    this.writeU64(t, 0n);
    return false;
  }
}
