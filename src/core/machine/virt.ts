/**
 * The virt machine: QEMU 7.2's `-M virt` board (hw/riscv/virt.c) from a MachineConfig — RAM, N harts, CLINT, PLIC,
 * NS16550A UART, goldfish RTC, SiFive test syscon, eight virtio-mmio slots and the boot ROM — with the kernel, initrd
 * and device tree placed where QEMU's hw/riscv/boot.c puts them, booted through the built-in SBI (firmware/sbi.ts)
 * or an M-mode firmware such as OpenSBI. `run()` interleaves the harts on one thread and sleeps while all wait.
 */
import { CodeMap, Exit, Hart } from "../cpu/hart.ts";
import { CsrSlot, HART_STRIDE, RAM_OFFSET, STATE_BYTES } from "../cpu/layout.ts";
import { CLINT_SIZE, Clint, type Clock, HostClock, TIMEBASE_FREQ } from "../devices/clint.ts";
import { GoldfishRtc, HostWallClock, RTC_SIZE, type WallClock } from "../devices/goldfish-rtc.ts";
import { PLIC_SIZE, Plic } from "../devices/plic.ts";
import { SYSCON_SIZE, Syscon, type SysconEvent } from "../devices/syscon.ts";
import { UART_FIFO_SIZE, Uart16550 } from "../devices/uart-16550.ts";
import { LoadError, parseElf } from "../firmware/elf.ts";
import { HartState, type ResetType, Sbi } from "../firmware/sbi.ts";
import { VIRT_IRQ, VIRT_MAP, virtDtb } from "../firmware/virt-dt.ts";
import { Bus, hex, type MmioDevice } from "../mem/bus.ts";
import type { IrqLine } from "../mem/irq.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const WASM_PAGE = 64 * KiB;

/** QEMU virt's boot ROM (VIRT_MROM): the reset vector and, for fw_dynamic, struct fw_dynamic_info. */
export const MROM = { base: 0x1000, size: 0xf000 } as const;
/** Where QEMU puts fw_dynamic_info: after the 10-word reset vector (riscv_setup_rom_reset_vec). */
export const FW_DYNAMIC_INFO = MROM.base + 40;
/** OpenSBI's fw_dynamic_info magic ("OSBI") and version 2 (with boot_hart), next_mode S. */
const FW_DYNAMIC_MAGIC = 0x4942534fn;
const FW_DYNAMIC_VERSION = 2n;
const FW_DYNAMIC_NEXT_MODE_S = 1n;

/** Linux RISC-V Image header (Documentation/riscv/boot-image-header.rst): "RSC\x05" at byte 56. */
const IMAGE_MAGIC2 = 0x05435352;
/** RV64 kernels are loaded 2 MiB aligned (QEMU's riscv_calc_kernel_start_addr; the Image's text_offset). */
const KERNEL_ALIGN = 2 * MiB;
/** Most harts the state area holds (cpu/layout.ts). */
export const MAX_VIRT_HARTS = STATE_BYTES / HART_STRIDE;

/** Instructions a hart runs before the next one gets its turn. */
const SLICE = 20_000;
/** Longest stretch of guest execution before yielding to the host's event loop (console input, timers). */
const YIELD_MS = 10;
/** Longest single sleep: the loop re-checks every deadline at least this often. */
const MAX_SLEEP_MS = 1000;

/** A device in a virtio-mmio slot; `reset` runs when the machine resets (devices/virtio/mmio.ts builds these). */
export interface VirtioSlotDevice extends MmioDevice {
  reset?(): void;
}

/** A virtio-mmio device for slot `i` (devices/virtio/mmio.ts); gets its PLIC line and guest memory. */
export type VirtioFactory = (ctx: {
  readonly irq: IrqLine;
  readonly memory: WebAssembly.Memory;
  readonly ramBase: number;
  readonly ramSize: number;
  /**
   * A device MUST call this after writing guest RAM [off, off + len) (offsets from ramBase), e.g. a disk read
   * into a buffer: the harts drop decoded instructions of those pages (a guest may execute what a device wrote).
   */
  readonly ramWritten: (off: number, len: number) => void;
  /** Wake the run loop if it sleeps: an asynchronous completion (a disk read, host input) raised an interrupt. */
  readonly wake: () => void;
}) => VirtioSlotDevice;

export interface MachineConfig {
  /** Guest RAM in bytes (a multiple of 4 KiB). */
  readonly ramSize: number;
  /** Number of harts (1..MAX_VIRT_HARTS). */
  readonly harts: number;
  /** Linux `Image`, an ELF, or a raw binary. */
  readonly kernel: Uint8Array;
  readonly initrd?: Uint8Array;
  /** M-mode firmware (OpenSBI fw_jump/fw_dynamic, raw or ELF); absent: the built-in SBI. */
  readonly bios?: Uint8Array;
  /** Kernel command line (/chosen/bootargs). */
  readonly bootargs?: string;
  /** riscv,isa for every hart (default: what the hart implements). */
  readonly isa?: string;
  /** Devices for virtio slots 0..7; empty slots answer as QEMU's empty virtio-mmio transports. */
  readonly virtio?: readonly (VirtioFactory | undefined)[];
}

/** How the host sees the machine: console output, clocks and randomness (defaults: the host's). */
export interface VirtHost {
  /** Console bytes from the guest (UART and SBI console). The array is not reused after the call. */
  onOutput(bytes: Uint8Array): void;
  /** mtime source (10 MHz). */
  readonly clock?: Clock;
  /** The RTC's wall clock. */
  readonly wallClock?: WallClock;
  /** Fill `buf` with random bytes (/chosen/rng-seed); default crypto.getRandomValues. */
  readonly random?: (buf: Uint8Array) => void;
}

/** Why `run` returned. */
export type VirtExit =
  /** The guest powered off (syscon or SBI SRST); `code` is 0 unless it reported a failure. */
  | { readonly kind: "poweroff"; readonly code: number; readonly via: "syscon" | "sbi" }
  /** The guest asked for a reboot: call `reset()` and `run()` again to restart it. */
  | { readonly kind: "reboot"; readonly via: "syscon" | "sbi" }
  /** `stop()` was called. */
  | { readonly kind: "stopped" };

/** A host problem building or booting the machine; `code` for the CLI and API. */
export class BootError extends Error {
  readonly code: "BAD_CONFIG" | "IMAGE_OUTSIDE_RAM" | "IMAGE_OVERLAP";
  constructor(code: BootError["code"], message: string) {
    super(message);
    this.name = "BootError";
    this.code = code;
  }
}

/** Where the boot images went (physical addresses, half-open ranges). */
export interface BootLayout {
  readonly firmware: { readonly start: number; readonly end: number; readonly entry: number } | null;
  readonly kernel: { readonly start: number; readonly end: number; readonly entry: number };
  readonly initrd: { readonly start: number; readonly end: number } | null;
  readonly dtb: { readonly start: number; readonly end: number };
}

/** Read-only memory (the boot ROM): little-endian reads, writes ignored. */
class Rom implements MmioDevice {
  readonly name = "mrom";
  readonly bytes: Uint8Array;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  read(offset: number, size: 1 | 2 | 4): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (this.bytes[offset + i] ?? 0);
    return v;
  }

  write(_offset: number, _size: 1 | 2 | 4, _value: number): void {}
}

/**
 * An empty virtio-mmio slot as QEMU presents one (virtio spec 1.2 §4.2.2): the magic, version 2, vendor "QEMU" and
 * device ID 0, which drivers take to mean "nothing here"; everything else reads 0 and writes are ignored.
 */
class EmptyVirtioSlot implements MmioDevice {
  readonly name: string;

  constructor(slot: number) {
    this.name = `virtio-mmio.${slot}`;
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (size !== 4) return 0;
    if (offset === 0x000) return 0x74726976; // MagicValue "virt"
    if (offset === 0x004) return 2; // Version
    if (offset === 0x00c) return 0x554d4551; // VendorID "QEMU"
    return 0; // DeviceID 0: no device
  }

  write(_offset: number, _size: 1 | 2 | 4, _value: number): void {}
}

export class VirtMachine {
  readonly config: MachineConfig;
  readonly memory: WebAssembly.Memory;
  readonly ramBase = VIRT_MAP.dram.base;
  readonly ramSize: number;
  readonly bus: Bus;
  readonly harts: readonly Hart[];
  readonly clint: Clint;
  readonly plic: Plic;
  readonly uart: Uart16550;
  readonly rtc: GoldfishRtc;
  readonly syscon: Syscon;
  readonly rom: Rom;
  /** The devices in the virtio-mmio slots that are not empty. */
  readonly virtio: readonly VirtioSlotDevice[];
  /** The built-in firmware, or null when booting an M-mode firmware (`config.bios`). */
  readonly sbi: Sbi | null;
  /** Where the last boot placed the images. */
  layout: BootLayout;
  private readonly ram: Uint8Array;
  private readonly host: VirtHost;
  private readonly clock: Clock;
  /** Per hart: it executed wfi and waits for an interrupt. */
  private readonly waiting: boolean[];
  /** Console input not yet taken by the UART. */
  private readonly input: number[] = [];
  private inputHead = 0;
  private output: number[] = [];
  private result: VirtExit | null = null;
  /** The hart inside `run` now (for device side effects that must end its slice). */
  private current = 0;
  private nextHart = 0;
  private wake: (() => void) | null = null;
  private running = false;

  constructor(config: MachineConfig, host: VirtHost) {
    const n = config.harts;
    if (!Number.isInteger(n) || n < 1 || n > MAX_VIRT_HARTS) {
      throw new BootError("BAD_CONFIG", `harts must be 1..${MAX_VIRT_HARTS}, not ${n}`);
    }
    if (!Number.isInteger(config.ramSize) || config.ramSize < 16 * MiB || config.ramSize % (4 * KiB) !== 0) {
      throw new BootError(
        "BAD_CONFIG",
        `RAM size must be a multiple of 4 KiB and at least 16 MiB, not ${config.ramSize}`,
      );
    }
    if (this.ramBase + config.ramSize > 2 ** 32 || RAM_OFFSET + config.ramSize > 2 ** 32) {
      throw new BootError("BAD_CONFIG", `RAM of ${config.ramSize / MiB} MiB does not fit below 4 GiB`);
    }
    this.config = config;
    this.host = host;
    this.ramSize = config.ramSize;
    const pages = Math.ceil((RAM_OFFSET + this.ramSize) / WASM_PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    this.ram = new Uint8Array(this.memory.buffer, RAM_OFFSET, this.ramSize);
    this.clock = host.clock ?? new HostClock();
    this.bus = new Bus();
    const harts: Hart[] = [];
    const codeMap = new CodeMap(this.ramSize);
    for (let h = 0; h < n; h++) {
      harts.push(
        new Hart({
          memory: this.memory,
          hartId: h,
          ramBase: this.ramBase,
          ramSize: this.ramSize,
          bus: this.bus,
          timeSource: () => this.clint.mtime(),
          codeMap,
        }),
      );
    }
    this.harts = harts;
    this.waiting = harts.map(() => false);

    this.clint = new Clint(harts, this.clock);
    this.plic = new Plic(harts);
    this.uart = new Uart16550((b) => this.output.push(b), this.plic.irq(VIRT_IRQ.uart0));
    this.rtc = new GoldfishRtc(this.plic.irq(VIRT_IRQ.rtc), host.wallClock ?? new HostWallClock());
    this.syscon = new Syscon((e) => this.onSyscon(e));
    this.rom = new Rom(MROM.size);
    const m = VIRT_MAP;
    this.bus.map(MROM.base, MROM.size, this.rom);
    this.bus.map(m.test.base, SYSCON_SIZE, this.syscon);
    this.bus.map(m.rtc.base, RTC_SIZE, this.rtc);
    this.bus.map(m.clint.base, CLINT_SIZE, this.clint);
    this.bus.map(m.plic.base, PLIC_SIZE, this.plic);
    this.bus.map(m.uart0.base, m.uart0.size, this.uart);
    const virtio: VirtioSlotDevice[] = [];
    for (let i = 0; i < m.virtio.count; i++) {
      const factory = config.virtio?.[i];
      const dev =
        factory === undefined
          ? new EmptyVirtioSlot(i)
          : factory({
              irq: this.plic.irq(VIRT_IRQ.virtio + i),
              memory: this.memory,
              ramBase: this.ramBase,
              ramSize: this.ramSize,
              ramWritten: (off, len) => this.harts[0]!.ramWritten(off, len),
              wake: () => this.wake?.(),
            });
      if (factory !== undefined) virtio.push(dev);
      this.bus.map(m.virtio.base + i * m.virtio.size, m.virtio.size, dev);
    }
    this.virtio = virtio;

    this.sbi =
      config.bios === undefined
        ? new Sbi(harts, {
            time: () => this.clint.mtime(),
            consoleWrite: (bytes) => {
              for (const b of bytes) this.output.push(b);
            },
            consoleRead: () => this.consoleRead(),
            readRam: (addr, len) => this.readRam(addr, len),
            writeRam: (addr, data) => this.writeRam(addr, data),
            systemReset: (type, reason) => this.onSystemReset(type, reason),
          })
        : null;
    if (this.sbi !== null) for (const h of harts) h.sbi = this.sbi.handle;
    // A new memory is zero already; clearing it would also commit every page of it (slow, and memory-hungry).
    this.layout = this.boot(false);
  }

  /** Restart the guest from power-on: RAM cleared, images reloaded, devices and harts reset. */
  reset(): void {
    this.layout = this.boot(true);
  }

  /** Console input from the host (keyboard, pipe); delivered to the UART as its FIFO has room. */
  sendInput(bytes: Uint8Array): void {
    for (const b of bytes) this.input.push(b);
    this.wake?.();
  }

  /** Ask `run` to return `{ kind: "stopped" }` soon (from an event handler while it runs). */
  stop(): void {
    this.result ??= { kind: "stopped" };
    this.harts[this.current]!.stopRequested = true;
    this.wake?.();
  }

  /** Instructions retired by all harts. */
  get instret(): bigint {
    let n = 0n;
    for (const h of this.harts) n += h.csr[CsrSlot.minstret]!;
    return n;
  }

  /**
   * Run the guest until it powers off, asks for a reboot or `stop()` is called. Harts take turns of SLICE
   * instructions; between turns the timers are polled and input delivered; when every hart waits for an interrupt
   * the loop sleeps until the next timer deadline or input. Yields to the event loop at least every YIELD_MS.
   */
  async run(): Promise<VirtExit> {
    if (this.running) throw new Error("VirtMachine.run is already running");
    this.running = true;
    try {
      let lastYield = performance.now();
      for (;;) {
        if (this.result !== null) break;
        this.poll();
        let ran = false;
        const n = this.harts.length;
        for (let k = 0; k < n && this.result === null; k++) {
          const h = (this.nextHart + k) % n;
          if (!this.runnable(h)) continue;
          ran = true;
          this.current = h;
          const exit = this.harts[h]!.run(SLICE);
          if (exit === Exit.Wfi) this.waiting[h] = true;
          if (n > 1) this.poll();
        }
        this.nextHart = (this.nextHart + 1) % n;
        this.flushOutput();
        if (this.result !== null) break;
        if (!ran) {
          await this.sleep();
          lastYield = performance.now();
        } else if (performance.now() - lastYield >= YIELD_MS) {
          await yieldToHost();
          lastYield = performance.now();
        }
      }
      this.flushOutput();
      const r = this.result!;
      this.result = null;
      return r;
    } finally {
      this.running = false;
    }
  }

  // ---- Boot (QEMU 7.2 hw/riscv/boot.c and virt.c virt_machine_done) ----

  private boot(clear: boolean): BootLayout {
    const cfg = this.config;
    if (clear) this.ram.fill(0);
    this.rom.bytes.fill(0);
    this.result = null;
    // Host input not yet taken stays queued: it belongs to the user, not to the machine being reset.
    this.output = [];
    this.waiting.fill(false);
    this.nextHart = 0;
    for (const h of this.harts) h.reset();
    this.clint.reset();
    this.plic.reset();
    this.uart.reset();
    this.rtc.reset();
    for (const d of this.virtio) d.reset?.();

    const ramBase = this.ramBase;
    const ramEnd = ramBase + this.ramSize;
    let firmware: BootLayout["firmware"] = null;
    let kernelStart: number;
    if (cfg.bios !== undefined) {
      const fw = this.loadImage(cfg.bios, ramBase, "firmware");
      firmware = { start: fw.start, end: fw.end, entry: fw.entry };
      kernelStart = alignUp(fw.end, KERNEL_ALIGN);
    } else {
      kernelStart = ramBase + KERNEL_ALIGN;
    }
    const kernel = this.loadImage(cfg.kernel, kernelStart, "kernel", firmware);

    // riscv_load_initrd: at kernel + min(RAM / 2, 128 MiB), so that the kernel does not overwrite it.
    let initrd: BootLayout["initrd"] = null;
    if (cfg.initrd !== undefined) {
      const start = kernel.entry + Math.min(this.ramSize / 2, 128 * MiB);
      const end = start + cfg.initrd.length;
      if (end > ramEnd) {
        throw new BootError(
          "IMAGE_OUTSIDE_RAM",
          `the initrd (${cfg.initrd.length} bytes at ${hex(start)}) does not fit in ${this.ramSize / MiB} MiB of RAM`,
        );
      }
      if (start < kernel.end) {
        throw new BootError(
          "IMAGE_OVERLAP",
          `the initrd at ${hex(start)} overlaps the kernel (ends at ${hex(kernel.end)})`,
        );
      }
      this.ram.set(cfg.initrd, start - ramBase);
      initrd = { start, end };
    }

    const seed = new Uint8Array(32);
    (this.host.random ?? ((b: Uint8Array) => crypto.getRandomValues(b)))(seed);
    const dtb = virtDtb({
      ramBase,
      ramSize: this.ramSize,
      harts: this.harts.length,
      isa: cfg.isa ?? this.isaString(),
      bootargs: cfg.bootargs,
      initrd: initrd ?? undefined,
      rngSeed: seed,
    });
    // riscv_load_fdt: 2 MiB aligned, as high as possible but below 3 GiB, so 32-bit kernels reach it too.
    const dtbStart = alignDown(Math.min(ramEnd, 3072 * MiB) - dtb.length, 2 * MiB);
    const used = Math.max(kernel.end, initrd?.end ?? 0);
    if (dtbStart < used) {
      throw new BootError(
        "IMAGE_OVERLAP",
        `RAM of ${this.ramSize / MiB} MiB is too small: the device tree at ${hex(dtbStart)} would overlap the kernel or initrd (end ${hex(used)})`,
      );
    }
    this.ram.set(dtb, dtbStart - ramBase);
    const layout: BootLayout = { firmware, kernel, initrd, dtb: { start: dtbStart, end: dtbStart + dtb.length } };

    if (firmware !== null) {
      this.writeResetVector(firmware.entry, kernel.entry, dtbStart);
      // Every hart runs the reset vector: a0 = mhartid, a1 = DTB, a2 = fw_dynamic_info, t0 = the firmware entry.
      for (const h of this.harts) {
        h.x[5] = BigInt(firmware.entry);
        h.x[10] = BigInt(h.hartId);
        h.x[11] = BigInt(dtbStart);
        h.x[12] = BigInt(FW_DYNAMIC_INFO);
        h.pc = BigInt(firmware.entry);
      }
    } else {
      this.sbi!.boot(BigInt(kernel.entry), BigInt(dtbStart));
    }
    return layout;
  }

  /**
   * Load `bytes` (ELF, Linux Image or raw) and return its extent and entry. An ELF goes to its physical addresses
   * and enters at the lowest one for a kernel (QEMU's riscv_load_kernel) or its entry for firmware; an Image or raw
   * binary at `at`.
   */
  private loadImage(
    bytes: Uint8Array,
    at: number,
    what: "kernel" | "firmware",
    below: BootLayout["firmware"] = null,
  ): { start: number; end: number; entry: number } {
    const ramBase = this.ramBase;
    const ramEnd = ramBase + this.ramSize;
    if (bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
      const elf = parseElf(bytes);
      if (elf.segments.length === 0) throw new LoadError("ELF_INVALID", `the ${what} ELF has no loadable segment`);
      let start = Number.POSITIVE_INFINITY;
      let end = 0;
      for (const s of elf.segments) {
        if (s.paddr < BigInt(ramBase) || s.paddr + s.memsz > BigInt(ramEnd)) {
          throw new LoadError(
            "IMAGE_OUTSIDE_RAM",
            `${what} segment [${hex(s.paddr)}, ${hex(s.paddr + s.memsz)}) lies outside RAM [${hex(ramBase)}, ${hex(ramEnd)})` +
              (what === "kernel" && s.paddr >= 1n << 63n
                ? " (a vmlinux linked at virtual addresses: use the Image)"
                : ""),
          );
        }
        start = Math.min(start, Number(s.paddr));
        end = Math.max(end, Number(s.paddr + s.memsz));
      }
      if (below !== null && start < below.end) {
        throw new BootError(
          "IMAGE_OVERLAP",
          `the kernel at ${hex(start)} overlaps the firmware (ends at ${hex(below.end)})`,
        );
      }
      for (const s of elf.segments) this.ram.set(s.data, Number(s.paddr) - ramBase);
      return { start, end, entry: what === "kernel" ? start : Number(elf.entry) };
    }
    let size = bytes.length;
    if (what === "kernel" && bytes.length >= 64) {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, 64);
      if (dv.getUint32(56, true) === IMAGE_MAGIC2) {
        // image_size is the kernel's whole footprint (with .bss); text_offset the offset from a 2 MiB boundary.
        const imageSize = Number(dv.getBigUint64(16, true));
        const textOffset = Number(dv.getBigUint64(8, true));
        if (below === null && textOffset > 0 && textOffset % (4 * KiB) === 0) at = ramBase + textOffset;
        size = Math.max(size, imageSize);
      }
    }
    if (at + size > ramEnd) {
      throw new BootError(
        "IMAGE_OUTSIDE_RAM",
        `the ${what} (${size} bytes at ${hex(at)}) does not fit in ${this.ramSize / MiB} MiB of RAM`,
      );
    }
    this.ram.set(bytes, at - ramBase);
    return { start: at, end: at + size, entry: at };
  }

  /** QEMU's riscv_setup_rom_reset_vec (RV64) and riscv_rom_copy_firmware_info, at the boot ROM. */
  private writeResetVector(start: number, kernelEntry: number, fdt: number): void {
    const dv = new DataView(this.rom.bytes.buffer);
    const words = [0x00000297, 0x02828613, 0xf1402573, 0x0202b583, 0x0182b283, 0x00028067];
    for (let i = 0; i < words.length; i++) dv.setUint32(i * 4, words[i]!, true);
    dv.setBigUint64(24, BigInt(start), true);
    dv.setBigUint64(32, BigInt(fdt), true);
    const info = FW_DYNAMIC_INFO - MROM.base;
    dv.setBigUint64(info, FW_DYNAMIC_MAGIC, true);
    dv.setBigUint64(info + 8, FW_DYNAMIC_VERSION, true);
    dv.setBigUint64(info + 16, BigInt(kernelEntry), true);
    dv.setBigUint64(info + 24, FW_DYNAMIC_NEXT_MODE_S, true);
    dv.setBigUint64(info + 32, 0n, true); // options
    dv.setBigUint64(info + 40, 0n, true); // boot_hart
  }

  /** The riscv,isa string for what hart 0 implements (misa letters, Zicsr, Zifencei and Sstc). */
  private isaString(): string {
    const misa = this.harts[0]!.csr[CsrSlot.misa]!;
    let s = "rv64";
    for (const ch of "imafdc") {
      if (((misa >> BigInt(ch.charCodeAt(0) - 97)) & 1n) !== 0n) s += ch;
    }
    return `${s}_zicsr_zifencei_sstc`;
  }

  // ---- Run loop helpers ----

  /** Whether hart `h` should run now: started (HSM), and not waiting in wfi with nothing to wake it. */
  private runnable(h: number): boolean {
    if (this.sbi !== null) {
      const st = this.sbi.state(h);
      if (st === HartState.STOPPED) {
        // hart_start may restart it at any time; whatever it waited for before does not carry over.
        this.waiting[h] = false;
        return false;
      }
      if (st === HartState.SUSPENDED) {
        if (!this.wakeable(h)) return false;
        this.sbi.resume(h);
        return true;
      }
    }
    if (this.waiting[h]) {
      if (!this.wakeable(h)) return false;
      this.waiting[h] = false;
    }
    return true;
  }

  /** wfi ends when an interrupt is pending and enabled in mie, whatever the global enables (privileged spec §3.3.3). */
  private wakeable(h: number): boolean {
    const hart = this.harts[h]!;
    const csr = hart.csr;
    const mie = csr[CsrSlot.mie]!;
    if ((csr[CsrSlot.mip]! & mie) !== 0n) return true;
    // Sstc raises STIP lazily: a passed stimecmp counts although mip does not show it yet.
    if ((mie & STIE) === 0n) return false;
    const d = hart.stimecmpDeadline();
    return d !== null && this.clint.mtime() >= d;
  }

  /** Timers and input: raise what is due, move queued input into the UART. */
  private poll(): void {
    this.clint.poll();
    this.rtc.poll();
    this.feedUart();
  }

  /** Move queued input into the UART while a guest driver listens and the FIFO has room. */
  private feedUart(): void {
    if (this.uart.listening) {
      while (this.inputHead < this.input.length && this.uart.rxSpace() > 0) {
        this.uart.receive(this.input[this.inputHead++]!);
      }
    }
    if (this.inputHead === this.input.length && this.inputHead > 0) {
      this.input.length = 0;
      this.inputHead = 0;
    }
  }

  /** Sleep until the earliest timer deadline of a waiting hart or device, or new input, or `stop()`. */
  private async sleep(): Promise<void> {
    if (this.inputHead < this.input.length && this.uart.rxSpace() > 0 && this.uart.listening) return;
    let ms = this.clint.msUntilDeadline();
    const rtc = this.rtc.msUntilDeadline();
    if (rtc !== null && (ms === null || rtc < ms)) ms = rtc;
    const now = this.clint.mtime();
    for (let h = 0; h < this.harts.length; h++) {
      if (this.sbi !== null && this.sbi.state(h) === HartState.STOPPED) continue;
      const hart = this.harts[h]!;
      if ((hart.csr[CsrSlot.mie]! & STIE) === 0n) continue;
      const d = hart.stimecmpDeadline();
      if (d === null) continue;
      const t = d <= now ? 0 : Number(d - now) / (TIMEBASE_FREQ / 1000);
      if (ms === null || t < ms) ms = t;
    }
    if (ms !== null && ms <= 0) return;
    const wait = Math.min(ms ?? MAX_SLEEP_MS, MAX_SLEEP_MS);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, wait);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }

  private flushOutput(): void {
    if (this.output.length === 0) return;
    const bytes = Uint8Array.from(this.output);
    this.output = [];
    this.host.onOutput(bytes);
  }

  /** SBI console input: what the UART holds first (as OpenSBI's uart8250_getc reads it), then the queue. */
  private consoleRead(): number {
    if (this.uart.rxSpace() < UART_FIFO_SIZE) return this.uart.read(0, 1);
    if (this.inputHead >= this.input.length) return -1;
    return this.input[this.inputHead++]!;
  }

  private readRam(addr: bigint, len: number): Uint8Array | null {
    const off = addr - BigInt(this.ramBase);
    if (off < 0n || off + BigInt(len) > BigInt(this.ramSize)) return null;
    return this.ram.slice(Number(off), Number(off) + len);
  }

  private writeRam(addr: bigint, data: Uint8Array): boolean {
    const off = addr - BigInt(this.ramBase);
    if (off < 0n || off + BigInt(data.length) > BigInt(this.ramSize)) return false;
    this.ram.set(data, Number(off));
    for (const h of this.harts) h.ramWritten(Number(off), data.length);
    return true;
  }

  private onSyscon(e: SysconEvent): void {
    if (e.kind === "reset") this.finish({ kind: "reboot", via: "syscon" });
    else this.finish({ kind: "poweroff", code: e.kind === "pass" ? 0 : e.code, via: "syscon" });
  }

  private onSystemReset(type: ResetType, reason: number): void {
    if (type === "shutdown") this.finish({ kind: "poweroff", code: reason === 1 ? 1 : 0, via: "sbi" });
    else this.finish({ kind: "reboot", via: "sbi" });
  }

  private finish(r: VirtExit): void {
    this.result ??= r;
    this.harts[this.current]!.stopRequested = true;
  }
}

const STIE = 1n << 5n;

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;
const alignDown = (v: number, a: number): number => Math.floor(v / a) * a;

/** Let the host's event loop run (I/O callbacks, timers): setImmediate where it exists (Node), else a 0 ms timer. */
function yieldToHost(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
  return new Promise((resolve) => (g.setImmediate !== undefined ? g.setImmediate(resolve) : setTimeout(resolve, 0)));
}
