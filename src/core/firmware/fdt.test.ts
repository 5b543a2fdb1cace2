// FDT builder and reader: property encodings, header and block layout, string dedup, reservations, errors; checked
// against Debian's dtc (decompiling what we build) and against a DTB dtc wrote (read back and rebuilt byte for byte).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { Fdt, FdtError, FdtNode, parseFdt } from "./fdt.ts";

const hasDtc = spawnSync("dtc", ["--version"]).status === 0;
const skipNoDtc = hasDtc ? false : "dtc (device-tree-compiler) is not installed";
const QEMU_DTB = new URL("../../../../shared/images/qemu-virt.dtb", import.meta.url);
const skipNoQemuDtb = existsSync(QEMU_DTB) ? false : "../shared/images/qemu-virt.dtb is missing";

/** Decompile with dtc; returns stdout and stderr. */
function dtc(blob: Uint8Array): { dts: string; stderr: string } {
  const r = spawnSync("dtc", ["-I", "dtb", "-O", "dts", "-o", "-", "-"], { input: blob, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return { dts: r.stdout, stderr: r.stderr };
}

/** A small tree using every kind of property. */
function sample(): Fdt {
  const fdt = new Fdt();
  fdt.root.u32("#address-cells", 2).u32("#size-cells", 2).string("model", "popek,test");
  const intc = fdt.root.node("intc");
  const ph = fdt.phandle(intc);
  intc.empty("interrupt-controller").u32("#interrupt-cells", 1).u32("#address-cells", 0);
  fdt.root
    .node("dev@1000")
    .strings("compatible", ["vendor,dev1", "vendor,dev0"])
    .u64("reg", 0x1000, 0x100n)
    .u32("interrupts-extended", ph, 3, ph, 7)
    .bytes("mac-address", Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56))
    .string("status", "okay");
  fdt.reserve(0x8000_0000n, 0x20_0000);
  return fdt;
}

describe("building", () => {
  test("header, block layout and string dedup", () => {
    const blob = sample().build();
    const dv = new DataView(blob.buffer);
    const h = (i: number) => dv.getUint32(i * 4);
    assert.equal(h(0), 0xd00dfeed);
    assert.equal(h(1), blob.length);
    assert.equal(h(4), 40); // memory reservation block right after the header, 8-aligned
    assert.equal(h(2), 40 + 2 * 16); // one reservation + terminator
    assert.equal(h(5), 17);
    assert.equal(h(6), 16);
    assert.equal(h(7), 0);
    assert.equal(h(3), h(2) + h(9));
    assert.equal(h(3) + h(8), blob.length);
    const names = new TextDecoder()
      .decode(blob.subarray(h(3)))
      .split("\0")
      .slice(0, -1);
    assert.deepEqual(names, [
      "#address-cells",
      "#size-cells",
      "model",
      "phandle",
      "interrupt-controller",
      "#interrupt-cells",
      "compatible",
      "reg",
      "interrupts-extended",
      "mac-address",
      "status",
    ]);
  });

  test("reads back what it wrote", () => {
    const fdt = sample();
    fdt.bootCpuid = 3;
    const p = parseFdt(fdt.build());
    assert.equal(p.version, 17);
    assert.equal(p.bootCpuid, 3);
    assert.deepEqual(p.reservations, [{ address: 0x8000_0000n, size: 0x20_0000n }]);
    assert.deepEqual(p.root, fdt.root);
    const dev = p.root.find("/dev@1000")!;
    assert.deepEqual(dev.getStrings("compatible"), ["vendor,dev1", "vendor,dev0"]);
    assert.deepEqual(dev.getU32s("reg"), [0, 0x1000, 0, 0x100]);
    assert.deepEqual(dev.getU32s("interrupts-extended"), [1, 3, 1, 7]);
    assert.deepEqual(dev.getStrings("status"), ["okay"]);
    assert.equal(dev.getU32s("mac-address"), undefined);
    assert.equal(dev.getStrings("mac-address"), undefined);
    assert.equal(p.root.find("nothing/here"), undefined);
  });

  test("dtc decompiles it to the expected source without complaint", { skip: skipNoDtc }, () => {
    const { dts, stderr } = dtc(sample().build());
    assert.equal(stderr, "");
    assert.equal(
      dts,
      `/dts-v1/;

/memreserve/	0x0000000080000000 0x0000000000200000;
/ {
	#address-cells = <0x02>;
	#size-cells = <0x02>;
	model = "popek,test";

	intc {
		phandle = <0x01>;
		interrupt-controller;
		#interrupt-cells = <0x01>;
		#address-cells = <0x00>;
	};

	dev@1000 {
		compatible = "vendor,dev1\\0vendor,dev0";
		reg = <0x00 0x1000 0x00 0x100>;
		interrupts-extended = <0x01 0x03 0x01 0x07>;
		mac-address = [52 54 00 12 34 56];
		status = "okay";
	};
};
`,
    );
  });

  test("phandles: allocated in order, kept when present, duplicates refused at build", () => {
    const fdt = new Fdt();
    const a = fdt.root.node("a");
    const b = fdt.root.node("b");
    assert.equal(fdt.phandle(a), 1);
    assert.equal(fdt.phandle(b), 2);
    assert.equal(fdt.phandle(a), 1);
    const c = fdt.root.node("c").phandle(2);
    assert.equal(fdt.phandle(c), 2);
    assert.throws(() => fdt.build(), FdtError);
    assert.throws(() => new FdtNode("x").phandle(0), FdtError);
    assert.throws(() => new FdtNode("x").phandle(0xffff_ffff), FdtError);
  });

  test("bad names, duplicates and out-of-range values are host errors", () => {
    const n = new FdtNode("n");
    assert.throws(() => new FdtNode("has space"), FdtError);
    assert.throws(() => new FdtNode("x".repeat(32)), FdtError);
    assert.throws(() => n.u32("bad name", 1), FdtError);
    n.node("c");
    assert.throws(() => n.node("c"), FdtError);
    n.u32("p", 1);
    assert.throws(() => n.u32("p", 2), FdtError);
    assert.throws(() => n.u32("q", -1), FdtError);
    assert.throws(() => n.u32("q", 2 ** 32), FdtError);
    assert.throws(() => n.u32("q", 1.5), FdtError);
    assert.throws(() => n.u64("q", -1n), FdtError);
    assert.throws(() => n.u64("q", 1n << 64n), FdtError);
    assert.throws(() => n.string("q", "a\0b"), FdtError);
    assert.throws(() => new Fdt().reserve(0, 0), FdtError);
    const err = (() => {
      try {
        n.node("c");
      } catch (e) {
        return e as FdtError;
      }
    })();
    assert.equal(err?.code, "FDT_INVALID");
  });

  test("u64 cells are big-endian high word first", () => {
    const v = new FdtNode("n").u64("x", 0x1_2345_6789n).prop("x")!;
    assert.deepEqual(Array.from(v), [0, 0, 0, 1, 0x23, 0x45, 0x67, 0x89]);
  });
});

describe("reading", () => {
  test("a DTB written by dtc (QEMU's virt tree) reads back and rebuilds byte for byte", { skip: skipNoQemuDtb }, () => {
    const blob = new Uint8Array(readFileSync(QEMU_DTB));
    const p = parseFdt(blob);
    assert.deepEqual(p.root.find("/soc/plic@c000000")?.getStrings("compatible"), ["sifive,plic-1.0.0", "riscv,plic0"]);
    assert.deepEqual(p.root.find("/cpus")?.getU32s("timebase-frequency"), [10_000_000]);
    const fdt = new Fdt();
    fdt.root.props.push(...p.root.props);
    fdt.root.children.push(...p.root.children);
    for (const r of p.reservations) fdt.reserve(r.address, r.size);
    assert.deepEqual(fdt.build(), blob);
  });

  test("skips NOPs and accepts names it would not build", () => {
    const fdt = new Fdt();
    fdt.root.node("a").u32("x", 5);
    const blob = fdt.build();
    const dv = new DataView(blob.buffer);
    const offStruct = dv.getUint32(8);
    // Rename the child "a" to " " (not a valid name to build), then insert an FDT_NOP after the root's
    // FDT_BEGIN_NODE and its empty name, fixing up the header's sizes and offsets.
    const nameAt = blob.indexOf(0x61, offStruct + 8);
    blob[nameAt] = 0x20; // " "
    const withNop = new Uint8Array(blob.length + 4);
    withNop.set(blob.subarray(0, offStruct + 8));
    new DataView(withNop.buffer).setUint32(offStruct + 8, 4);
    withNop.set(blob.subarray(offStruct + 8), offStruct + 12);
    const w = new DataView(withNop.buffer);
    w.setUint32(4, withNop.length);
    w.setUint32(12, dv.getUint32(12) + 4);
    w.setUint32(36, dv.getUint32(36) + 4);
    const p = parseFdt(withNop);
    assert.equal(p.root.children[0]?.name, " ");
    assert.deepEqual(p.root.children[0]?.getU32s("x"), [5]);
  });

  test("malformed blobs are refused", () => {
    const good = sample().build();
    assert.throws(() => parseFdt(good.subarray(0, 20)), FdtError);
    const badMagic = good.slice();
    badMagic[0] = 0;
    assert.throws(() => parseFdt(badMagic), FdtError);
    assert.throws(() => parseFdt(good.subarray(0, good.length - 8)), FdtError);
    const badToken = good.slice();
    const off = new DataView(badToken.buffer).getUint32(8);
    new DataView(badToken.buffer).setUint32(off, 7);
    assert.throws(() => parseFdt(badToken), FdtError);
    const oldVersion = good.slice();
    new DataView(oldVersion.buffer).setUint32(20, 15);
    assert.throws(() => parseFdt(oldVersion), FdtError);
  });

  test("dtc's own compilation of a source reads back as expected", { skip: skipNoDtc }, () => {
    const src = '/dts-v1/;\n/ { a { b = <1 2>; c = "x", "y"; d; }; };\n';
    const blob = new Uint8Array(execFileSync("dtc", ["-I", "dts", "-O", "dtb", "-"], { input: src }));
    const a = parseFdt(blob).root.find("a")!;
    assert.deepEqual(a.getU32s("b"), [1, 2]);
    assert.deepEqual(a.getStrings("c"), ["x", "y"]);
    assert.deepEqual(a.prop("d"), new Uint8Array(0));
  });
});
