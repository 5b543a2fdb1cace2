/**
 * The virt board's device tree, laid out as QEMU 7.2's hw/riscv/virt.c builds it (same nodes, properties, order and
 * phandle numbers, so the same kernel and firmware see the same tree), minus the devices popek does not have: PCIe,
 * flash, fw_cfg, the platform bus and the PMU node. Also the virt memory map and interrupt numbers it describes.
 */
import { Fdt, type FdtNode } from "./fdt.ts";

/** The virt board's physical memory map (QEMU 7.2 virt_memmap[]), half-open [base, base + size). */
export const VIRT_MAP = {
  test: { base: 0x0010_0000, size: 0x1000 },
  rtc: { base: 0x0010_1000, size: 0x1000 },
  clint: { base: 0x0200_0000, size: 0x1_0000 },
  plic: { base: 0x0c00_0000, size: 0x60_0000 },
  uart0: { base: 0x1000_0000, size: 0x100 },
  /** Slot i at base + i * size. */
  virtio: { base: 0x1000_1000, size: 0x1000, count: 8 },
  dram: { base: 0x8000_0000 },
} as const;

/** PLIC sources of the virt board's devices (QEMU 7.2 hw/riscv/virt.h). */
export const VIRT_IRQ = {
  /** virtio-mmio slot i uses source virtio + i. */
  virtio: 1,
  uart0: 10,
  rtc: 11,
} as const;

/** riscv,ndev as QEMU 7.2 writes it: its source count including source 0 (later QEMUs write 95). */
const PLIC_NDEV = 96;
/** mip bit numbers as interrupt specifiers of the harts' interrupt controllers. */
const IRQ_M_SOFT = 3;
const IRQ_M_TIMER = 7;
const IRQ_S_EXT = 9;
const IRQ_M_EXT = 11;
/** QEMU's NS16550A input clock. */
const UART_CLOCK = 3_686_400;
/** SiFive test finisher values for the syscon-poweroff and syscon-reboot nodes. */
const FINISHER_PASS = 0x5555;
const FINISHER_RESET = 0x7777;

export const DEFAULT_ISA = "rv64imafdc_zicsr_zifencei";
export const DEFAULT_MMU_TYPE = "riscv,sv48";
export const TIMEBASE_FREQUENCY = 10_000_000;
/** Most harts the board's CLINT and PLIC windows hold (QEMU's VIRT_CPUS_MAX). */
export const MAX_HARTS = 512;

export interface VirtDtConfig {
  /** Physical base of RAM (default VIRT_MAP.dram.base). */
  readonly ramBase?: bigint | number;
  readonly ramSize: bigint | number;
  /** Number of harts, ids 0..harts-1. */
  readonly harts: number;
  /** Each hart's riscv,isa string (default DEFAULT_ISA). */
  readonly isa?: string;
  /** Each hart's mmu-type (default DEFAULT_MMU_TYPE). */
  readonly mmuType?: string;
  /** Kernel command line for /chosen/bootargs (omitted when undefined or empty, as QEMU). */
  readonly bootargs?: string;
  /** Physical range [start, end) of the initrd, for /chosen/linux,initrd-start and -end. */
  readonly initrd?: { readonly start: bigint | number; readonly end: bigint | number };
  /** Bytes for /chosen/rng-seed (QEMU passes 32 random bytes). */
  readonly rngSeed?: Uint8Array;
  /** Ranges for the memory reservation block (for example firmware that must stay out of the kernel's hands). */
  readonly reserved?: readonly { readonly address: bigint | number; readonly size: bigint | number }[];
}

/** The tree for `cfg`, before serialisation (callers may add nodes). Throws RangeError on a bad configuration. */
export function virtFdt(cfg: VirtDtConfig): Fdt {
  const n = cfg.harts;
  if (!Number.isInteger(n) || n < 1 || n > MAX_HARTS) throw new RangeError(`harts must be 1..${MAX_HARTS}, not ${n}`);
  const ramBase = BigInt(cfg.ramBase ?? VIRT_MAP.dram.base);
  const ramSize = BigInt(cfg.ramSize);
  if (ramSize <= 0n) throw new RangeError(`RAM size must be positive, not ${ramSize}`);
  if (cfg.initrd !== undefined && BigInt(cfg.initrd.end) < BigInt(cfg.initrd.start)) {
    throw new RangeError("initrd ends before it starts");
  }

  const fdt = new Fdt();
  for (const r of cfg.reserved ?? []) fdt.reserve(r.address, r.size);

  // Phandles as QEMU numbers them: harts from the last, each followed by its interrupt controller; then PLIC, test.
  const cpuPhandle = (i: number) => 1 + 2 * (n - 1 - i);
  const intcPhandle = (i: number) => cpuPhandle(i) + 1;
  const plicPhandle = 2 * n + 1;
  const testPhandle = 2 * n + 2;

  const root = fdt.root;
  root.u32("#address-cells", 2).u32("#size-cells", 2).string("compatible", "riscv-virtio");
  root.string("model", "riscv-virtio,qemu");

  const serialPath = `/soc/serial@${hex(VIRT_MAP.uart0.base)}`;
  const chosen = root.node("chosen");
  if (cfg.initrd !== undefined) {
    cell(chosen, "linux,initrd-end", BigInt(cfg.initrd.end));
    cell(chosen, "linux,initrd-start", BigInt(cfg.initrd.start));
  }
  if (cfg.rngSeed !== undefined) chosen.bytes("rng-seed", cfg.rngSeed);
  if (cfg.bootargs) chosen.string("bootargs", cfg.bootargs);
  chosen.string("stdout-path", serialPath);

  // Linux's syscon-poweroff/-reboot drivers write `value` at `offset` of the `regmap` device (the test finisher).
  for (const [name, value] of [
    ["poweroff", FINISHER_PASS],
    ["reboot", FINISHER_RESET],
  ] as const) {
    root
      .node(name)
      .u32("value", value)
      .u32("offset", 0)
      .u32("regmap", testPhandle)
      .string("compatible", `syscon-${name}`);
  }

  root
    .node(`memory@${hex(ramBase)}`)
    .string("device_type", "memory")
    .u64("reg", ramBase, ramSize);

  const cpus = root.node("cpus");
  cpus.u32("#address-cells", 1).u32("#size-cells", 0).u32("timebase-frequency", TIMEBASE_FREQUENCY);
  for (let i = 0; i < n; i++) {
    // Unit address in hex as the DT spec says (QEMU prints it in decimal, which differs from hart 10 on).
    const cpu = cpus.node(`cpu@${i.toString(16)}`);
    cpu.phandle(cpuPhandle(i)).string("device_type", "cpu").u32("reg", i).string("status", "okay");
    cpu.string("compatible", "riscv").string("riscv,isa", cfg.isa ?? DEFAULT_ISA);
    cpu.string("mmu-type", cfg.mmuType ?? DEFAULT_MMU_TYPE);
    cpu
      .node("interrupt-controller")
      .u32("#interrupt-cells", 1)
      .empty("interrupt-controller")
      .string("compatible", "riscv,cpu-intc")
      .phandle(intcPhandle(i));
  }
  const cluster = cpus.node("cpu-map").node("cluster0");
  for (let i = 0; i < n; i++) cluster.node(`core${i}`).u32("cpu", cpuPhandle(i));

  const soc = root.node("soc");
  soc.u32("#address-cells", 2).u32("#size-cells", 2).string("compatible", "simple-bus").empty("ranges");

  soc
    .node(`rtc@${hex(VIRT_MAP.rtc.base)}`)
    .u32("interrupts", VIRT_IRQ.rtc)
    .u32("interrupt-parent", plicPhandle)
    .u64("reg", VIRT_MAP.rtc.base, VIRT_MAP.rtc.size)
    .string("compatible", "google,goldfish-rtc");

  soc
    .node(`serial@${hex(VIRT_MAP.uart0.base)}`)
    .u32("interrupts", VIRT_IRQ.uart0)
    .u32("interrupt-parent", plicPhandle)
    .u32("clock-frequency", UART_CLOCK)
    .u64("reg", VIRT_MAP.uart0.base, VIRT_MAP.uart0.size)
    .string("compatible", "ns16550a");

  soc
    .node(`test@${hex(VIRT_MAP.test.base)}`)
    .phandle(testPhandle)
    .u64("reg", VIRT_MAP.test.base, VIRT_MAP.test.size)
    .strings("compatible", ["sifive,test1", "sifive,test0", "syscon"]);

  for (let i = VIRT_MAP.virtio.count - 1; i >= 0; i--) {
    const base = VIRT_MAP.virtio.base + i * VIRT_MAP.virtio.size;
    soc
      .node(`virtio_mmio@${hex(base)}`)
      .u32("interrupts", VIRT_IRQ.virtio + i)
      .u32("interrupt-parent", plicPhandle)
      .u64("reg", base, VIRT_MAP.virtio.size)
      .string("compatible", "virtio,mmio");
  }

  const plicCells: number[] = [];
  const clintCells: number[] = [];
  for (let i = 0; i < n; i++) {
    plicCells.push(intcPhandle(i), IRQ_M_EXT, intcPhandle(i), IRQ_S_EXT);
    clintCells.push(intcPhandle(i), IRQ_M_SOFT, intcPhandle(i), IRQ_M_TIMER);
  }
  soc
    .node(`plic@${hex(VIRT_MAP.plic.base)}`)
    .phandle(plicPhandle)
    .u32("riscv,ndev", PLIC_NDEV)
    .u64("reg", VIRT_MAP.plic.base, VIRT_MAP.plic.size)
    .u32("interrupts-extended", ...plicCells)
    .empty("interrupt-controller")
    .strings("compatible", ["sifive,plic-1.0.0", "riscv,plic0"])
    .u32("#address-cells", 0)
    .u32("#interrupt-cells", 1);

  soc
    .node(`clint@${hex(VIRT_MAP.clint.base)}`)
    .u32("interrupts-extended", ...clintCells)
    .u64("reg", VIRT_MAP.clint.base, VIRT_MAP.clint.size)
    .strings("compatible", ["sifive,clint0", "riscv,clint0"]);

  return fdt;
}

/** The DTB for `cfg`. */
export function virtDtb(cfg: VirtDtConfig): Uint8Array {
  return virtFdt(cfg).build();
}

const hex = (v: number | bigint): string => v.toString(16);

/** One cell when the value fits (as QEMU 7.2 writes the initrd range), two otherwise. Linux reads either. */
function cell(node: FdtNode, name: string, v: bigint): void {
  if (v <= 0xffff_ffffn) node.u32(name, Number(v));
  else node.u64(name, v);
}
