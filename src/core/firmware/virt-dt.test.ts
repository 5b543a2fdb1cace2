// The virt device tree, decompiled with Debian's dtc and compared with the tree QEMU 7.2 builds for the same board
// (dumped live when qemu-system-riscv64 is installed, else ../shared/images/qemu-virt.dts), node for node, minus the
// devices popek leaves out; plus explicit checks of every node popek emits.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { parseFdt } from "./fdt.ts";
import { DEFAULT_ISA, VIRT_IRQ, VIRT_MAP, type VirtDtConfig, virtDtb, virtFdt } from "./virt-dt.ts";

const hasDtc = spawnSync("dtc", ["--version"]).status === 0;
const skipNoDtc = hasDtc ? false : "dtc (device-tree-compiler) is not installed";
const QEMU = "qemu-system-riscv64";
const hasQemu = spawnSync(QEMU, ["--version"]).status === 0;
const skipNoQemu = hasDtc && hasQemu ? false : `${QEMU} or dtc is not installed`;
const SHARED_DTS = new URL("../../../../shared/images/qemu-virt.dts", import.meta.url);
const SHARED_DTB = new URL("../../../../shared/images/qemu-virt.dtb", import.meta.url);
const skipNoShared =
  hasDtc && existsSync(SHARED_DTS) && existsSync(SHARED_DTB)
    ? false
    : "dtc or ../shared/images/qemu-virt.dt[sb] missing";

/** The ISA string QEMU 7.2's default rv64 CPU reports; used where our tree is compared with QEMU's. */
const QEMU_ISA = "rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc";
/** Nodes in QEMU's tree for devices popek does not have. */
const ABSENT = new Set(["/pmu", "/fw-cfg@10100000", "/flash@20000000", "/platform-bus@4000000", "/soc/pci@30000000"]);

const dir = mkdtempSync(join(tmpdir(), "popek-virt-dt-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A node of dtc's DTS output: properties as the text dtc printed for them, children in order. */
interface DtsNode {
  name: string;
  props: [string, string][];
  children: DtsNode[];
}

/** Parse dtc -O dts output (one property or node bracket per line). Returns the root and the /memreserve/ lines. */
function parseDts(text: string): { root: DtsNode; memreserve: string[] } {
  const lines = text.split("\n").map((l) => l.trim());
  assert.equal(lines[0], "/dts-v1/;");
  const memreserve = lines.filter((l) => l.startsWith("/memreserve/")).map((l) => l.replace(/\s+/g, " "));
  const stack: DtsNode[] = [];
  let root: DtsNode | undefined;
  for (const line of lines.slice(1)) {
    if (line === "" || line.startsWith("/memreserve/")) continue;
    if (line.endsWith(" {")) {
      const node: DtsNode = { name: line.slice(0, -2), props: [], children: [] };
      if (stack.length === 0) root = node;
      else stack[stack.length - 1]!.children.push(node);
      stack.push(node);
    } else if (line === "};") {
      stack.pop();
    } else {
      assert.ok(line.endsWith(";"), `unexpected DTS line: ${line}`);
      const eq = line.indexOf(" = ");
      const prop: [string, string] = eq < 0 ? [line.slice(0, -1), ""] : [line.slice(0, eq), line.slice(eq + 3, -1)];
      stack[stack.length - 1]!.props.push(prop);
    }
  }
  assert.equal(stack.length, 0);
  assert.ok(root);
  return { root, memreserve };
}

/** `node` without the subtrees whose paths are in `drop` and without the named properties ("path:prop"). */
function prune(node: DtsNode, drop: Set<string>, path = ""): DtsNode {
  const here = node.name === "/" ? "" : `${path}/${node.name}`;
  return {
    name: node.name,
    props: node.props.filter(([p]) => !drop.has(`${here || "/"}:${p}`)),
    children: node.children.filter((c) => !drop.has(`${here}/${c.name}`)).map((c) => prune(c, drop, here)),
  };
}

function find(root: DtsNode, path: string): DtsNode {
  let n = root;
  for (const part of path.split("/").filter((p) => p !== "")) {
    const c = n.children.find((x) => x.name === part);
    assert.ok(c, `no node ${path}`);
    n = c;
  }
  return n;
}

function props(node: DtsNode): Record<string, string> {
  return Object.fromEntries(node.props);
}

/** dtc's decompilation of `blob` and its warnings (with the "<stdout>: " prefix removed), sorted. */
function decompile(blob: Uint8Array): { dts: string; warnings: string[] } {
  const r = spawnSync("dtc", ["-I", "dtb", "-O", "dts", "-"], { input: blob, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const warnings = r.stderr
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.replace(/^[^:]*: /, ""))
    .sort();
  return { dts: r.stdout, warnings };
}

/** QEMU's own tree for -m `mem` -smp `smp` (no kernel, so /chosen holds only stdout-path and rng-seed). */
function qemuTree(mem: string, smp: number): { dts: string; warnings: string[] } {
  const file = join(dir, `qemu-${mem}-${smp}.dtb`);
  const r = spawnSync(QEMU, ["-M", `virt,dumpdtb=${file}`, "-m", mem, "-smp", String(smp), "-nographic"], {
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return decompile(new Uint8Array(readFileSync(file)));
}

/** Compare our tree with QEMU's: equal after dropping absent devices and the per-run rng-seed; warnings a subset. */
function assertLikeQemu(ours: Uint8Array, qemu: { dts: string; warnings: string[] }): void {
  const mine = decompile(ours);
  const drop = new Set([...ABSENT, "/chosen:rng-seed"]);
  assert.deepEqual(parseDts(mine.dts).root, prune(parseDts(qemu.dts).root, drop));
  for (const w of mine.warnings) assert.ok(qemu.warnings.includes(w), `dtc warns about our tree only: ${w}`);
}

describe("against QEMU 7.2's own tree", () => {
  test("the shared -m 256M -smp 1 dump, with its bootargs and initrd", { skip: skipNoShared }, () => {
    const ours = virtDtb({
      ramSize: 256n << 20n,
      harts: 1,
      isa: QEMU_ISA,
      bootargs: "console=ttyS0",
      initrd: { start: 0x8820_0000n, end: 0x8831_971an },
    });
    const qemu = decompile(new Uint8Array(readFileSync(SHARED_DTB)));
    assert.deepEqual(parseDts(qemu.dts), parseDts(readFileSync(SHARED_DTS, "utf8")));
    assertLikeQemu(ours, qemu);
  });

  for (const [mem, smp] of [
    ["128M", 1],
    ["256M", 2],
    ["1G", 4],
    ["6G", 3],
  ] as const) {
    test(`a live dump: -m ${mem} -smp ${smp}`, { skip: skipNoQemu }, () => {
      const bytes = BigInt(Number.parseInt(mem, 10)) << (mem.endsWith("G") ? 30n : 20n);
      assertLikeQemu(virtDtb({ ramSize: bytes, harts: smp, isa: QEMU_ISA }), qemuTree(mem, smp));
    });
  }
});

describe("structure", { skip: skipNoDtc }, () => {
  const cfg: VirtDtConfig = {
    ramSize: 512n << 20n,
    harts: 2,
    bootargs: "console=ttyS0 earlycon",
    initrd: { start: 0x8400_0000, end: 0x8412_3456 },
    rngSeed: Uint8Array.from({ length: 8 }, (_, i) => i + 1),
    reserved: [{ address: 0x8000_0000, size: 0x4_0000 }],
  };
  const { dts, warnings } = hasDtc ? decompile(virtDtb(cfg)) : { dts: "", warnings: [] };
  const { root, memreserve } = hasDtc ? parseDts(dts) : { root: { name: "", props: [], children: [] }, memreserve: [] };

  test("dtc's only warnings are the ones QEMU's tree has too", () => {
    assert.deepEqual(warnings, [
      "Warning (interrupt_provider): /cpus/cpu@0/interrupt-controller: Missing #address-cells in interrupt provider",
      "Warning (interrupt_provider): /cpus/cpu@1/interrupt-controller: Missing #address-cells in interrupt provider",
    ]);
  });

  test("root, memory and reservations", () => {
    assert.deepEqual(
      root.children.map((c) => c.name),
      ["chosen", "poweroff", "reboot", "memory@80000000", "cpus", "soc"],
    );
    assert.deepEqual(props(root), {
      "#address-cells": "<0x02>",
      "#size-cells": "<0x02>",
      compatible: '"riscv-virtio"',
      model: '"riscv-virtio,qemu"',
    });
    assert.deepEqual(props(find(root, "memory@80000000")), {
      device_type: '"memory"',
      reg: "<0x00 0x80000000 0x00 0x20000000>",
    });
    assert.deepEqual(memreserve, ["/memreserve/ 0x0000000080000000 0x0000000000040000;"]);
  });

  test("chosen: initrd range, rng-seed, bootargs, stdout-path", () => {
    assert.deepEqual(props(find(root, "chosen")), {
      "linux,initrd-end": "<0x84123456>",
      "linux,initrd-start": "<0x84000000>",
      "rng-seed": "<0x1020304 0x5060708>",
      bootargs: '"console=ttyS0 earlycon"',
      "stdout-path": '"/soc/serial@10000000"',
    });
  });

  test("harts: cpu nodes, their interrupt controllers and the cpu-map, with QEMU's phandles", () => {
    const cpus = find(root, "cpus");
    assert.deepEqual(props(cpus), {
      "#address-cells": "<0x01>",
      "#size-cells": "<0x00>",
      "timebase-frequency": "<0x989680>",
    });
    assert.deepEqual(
      cpus.children.map((c) => c.name),
      ["cpu@0", "cpu@1", "cpu-map"],
    );
    for (const [i, cpuPh, intcPh] of [
      [0, 3, 4],
      [1, 1, 2],
    ] as const) {
      const cpu = find(cpus, `cpu@${i}`);
      assert.deepEqual(cpu.props, [
        ["phandle", `<0x0${cpuPh}>`],
        ["device_type", '"cpu"'],
        ["reg", `<0x0${i}>`],
        ["status", '"okay"'],
        ["compatible", '"riscv"'],
        ["riscv,isa", `"${DEFAULT_ISA}"`],
        ["mmu-type", '"riscv,sv48"'],
      ]);
      assert.deepEqual(find(cpu, "interrupt-controller").props, [
        ["#interrupt-cells", "<0x01>"],
        ["interrupt-controller", ""],
        ["compatible", '"riscv,cpu-intc"'],
        ["phandle", `<0x0${intcPh}>`],
      ]);
      assert.deepEqual(props(find(cpus, `cpu-map/cluster0/core${i}`)), { cpu: `<0x0${cpuPh}>` });
    }
  });

  test("CLINT and PLIC reach every hart's interrupt controller", () => {
    assert.deepEqual(find(root, "soc/clint@2000000").props, [
      ["interrupts-extended", "<0x04 0x03 0x04 0x07 0x02 0x03 0x02 0x07>"],
      ["reg", "<0x00 0x2000000 0x00 0x10000>"],
      ["compatible", '"sifive,clint0\\0riscv,clint0"'],
    ]);
    assert.deepEqual(find(root, "soc/plic@c000000").props, [
      ["phandle", "<0x05>"],
      ["riscv,ndev", "<0x60>"],
      ["reg", "<0x00 0xc000000 0x00 0x600000>"],
      ["interrupts-extended", "<0x04 0x0b 0x04 0x09 0x02 0x0b 0x02 0x09>"],
      ["interrupt-controller", ""],
      ["compatible", '"sifive,plic-1.0.0\\0riscv,plic0"'],
      ["#address-cells", "<0x00>"],
      ["#interrupt-cells", "<0x01>"],
    ]);
  });

  test("UART, RTC, the syscon and its poweroff/reboot users", () => {
    assert.deepEqual(props(find(root, "soc/serial@10000000")), {
      interrupts: "<0x0a>",
      "interrupt-parent": "<0x05>",
      "clock-frequency": '"\\08@"', // 3686400 = 00 38 40 00, which dtc guesses is a string, as for QEMU's
      reg: "<0x00 0x10000000 0x00 0x100>",
      compatible: '"ns16550a"',
    });
    assert.deepEqual(props(find(root, "soc/rtc@101000")), {
      interrupts: "<0x0b>",
      "interrupt-parent": "<0x05>",
      reg: "<0x00 0x101000 0x00 0x1000>",
      compatible: '"google,goldfish-rtc"',
    });
    assert.deepEqual(props(find(root, "soc/test@100000")), {
      phandle: "<0x06>",
      reg: "<0x00 0x100000 0x00 0x1000>",
      compatible: '"sifive,test1\\0sifive,test0\\0syscon"',
    });
    for (const [name, value] of [
      ["poweroff", "0x5555"],
      ["reboot", "0x7777"],
    ]) {
      assert.deepEqual(props(find(root, name!)), {
        value: `<${value}>`,
        offset: "<0x00>",
        regmap: "<0x06>",
        compatible: `"syscon-${name}"`,
      });
    }
  });

  test("the eight virtio-mmio slots, sources 1 to 8", () => {
    const soc = find(root, "soc");
    assert.deepEqual(props(soc), {
      "#address-cells": "<0x02>",
      "#size-cells": "<0x02>",
      compatible: '"simple-bus"',
      ranges: "",
    });
    const slots = soc.children.filter((c) => c.name.startsWith("virtio_mmio@"));
    assert.equal(slots.length, 8);
    for (let i = 0; i < 8; i++) {
      const base = (0x1000_1000 + 0x1000 * i).toString(16);
      assert.deepEqual(props(find(soc, `virtio_mmio@${base}`)), {
        interrupts: `<0x0${i + 1}>`,
        "interrupt-parent": "<0x05>",
        reg: `<0x00 0x${base} 0x00 0x1000>`,
        compatible: '"virtio,mmio"',
      });
    }
  });
});

describe("configurations", () => {
  test("every phandle reference resolves to the right kind of node", () => {
    const p = parseFdt(virtDtb({ ramSize: 1n << 30n, harts: 3 }));
    const byPhandle = new Map<number, string>();
    const walk = (n: typeof p.root, path: string): void => {
      const ph = n.getU32s("phandle");
      if (ph) byPhandle.set(ph[0]!, path);
      for (const c of n.children) walk(c, `${path}/${c.name}`);
    };
    walk(p.root, "");
    const plic = `/soc/plic@${VIRT_MAP.plic.base.toString(16)}`;
    for (const dev of ["serial@10000000", "rtc@101000", "virtio_mmio@10001000"]) {
      assert.equal(byPhandle.get(p.root.find(`soc/${dev}`)!.getU32s("interrupt-parent")![0]!), plic);
    }
    assert.equal(p.root.find("soc/serial@10000000")!.getU32s("interrupts")![0], VIRT_IRQ.uart0);
    assert.equal(byPhandle.get(p.root.find("poweroff")!.getU32s("regmap")![0]!), "/soc/test@100000");
    const ext = p.root.find(plic)!.getU32s("interrupts-extended")!;
    assert.equal(ext.length, 3 * 4);
    for (let h = 0; h < 3; h++) {
      assert.equal(byPhandle.get(ext[h * 4]!), `/cpus/cpu@${h}/interrupt-controller`);
      assert.equal(byPhandle.get(ext[h * 4 + 2]!), `/cpus/cpu@${h}/interrupt-controller`);
      const core = p.root.find(`cpus/cpu-map/cluster0/core${h}`)!.getU32s("cpu")![0]!;
      assert.equal(byPhandle.get(core), `/cpus/cpu@${h}`);
    }
  });

  test("RAM and initrd above 4 GiB use two cells; no bootargs, no initrd, no seed leave chosen bare", () => {
    const p = parseFdt(
      virtDtb({
        ramBase: 0x8000_0000,
        ramSize: 8n << 30n,
        harts: 1,
        initrd: { start: 0x1_2000_0000n, end: 0x1_2010_0000n },
      }),
    ).root;
    assert.deepEqual(p.find("memory@80000000")!.getU32s("reg"), [0, 0x8000_0000, 2, 0]);
    assert.deepEqual(p.find("chosen")!.getU32s("linux,initrd-start"), [1, 0x2000_0000]);
    assert.deepEqual(p.find("chosen")!.getU32s("linux,initrd-end"), [1, 0x2010_0000]);
    const bare = parseFdt(virtDtb({ ramSize: 1n << 27n, harts: 1, bootargs: "" })).root.find("chosen")!;
    assert.deepEqual(
      bare.props.map((x) => x.name),
      ["stdout-path"],
    );
  });

  test("many harts: unit addresses in hex, no new dtc warnings", { skip: skipNoDtc }, () => {
    const { dts, warnings } = decompile(virtDtb({ ramSize: 1n << 30n, harts: 12 }));
    const cpus = find(parseDts(dts).root, "cpus");
    assert.deepEqual(props(find(cpus, "cpu@a")).reg, "<0x0a>");
    assert.ok(find(cpus, "cpu-map/cluster0/core11"));
    assert.equal(warnings.length, 12);
    for (const w of warnings)
      assert.match(w, /^Warning \(interrupt_provider\): \/cpus\/cpu@[0-9a-f]+\/interrupt-controller/);
  });

  test("the tree can be extended before serialisation", () => {
    const fdt = virtFdt({ ramSize: 1n << 27n, harts: 1 });
    fdt.root.find("chosen")!.string("popek,note", "x");
    assert.deepEqual(parseFdt(fdt.build()).root.find("chosen")!.getStrings("popek,note"), ["x"]);
  });

  test("bad configurations are refused", () => {
    assert.throws(() => virtDtb({ ramSize: 1n << 27n, harts: 0 }), RangeError);
    assert.throws(() => virtDtb({ ramSize: 1n << 27n, harts: 513 }), RangeError);
    assert.throws(() => virtDtb({ ramSize: 1n << 27n, harts: 1.5 }), RangeError);
    assert.throws(() => virtDtb({ ramSize: 0, harts: 1 }), RangeError);
    assert.throws(() => virtDtb({ ramSize: 1n << 27n, harts: 1, initrd: { start: 10, end: 5 } }), RangeError);
  });
});
