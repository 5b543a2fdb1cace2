// parseElf on real ELFs built at test time (riscv64-unknown-elf-gcc; x86-64 from /bin/true) and on broken copies of them.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { checkImageInRam, type LoadError, parseElf } from "./elf.ts";

const GCC = "riscv64-unknown-elf-gcc";
const hasGcc = (() => {
  try {
    execFileSync(GCC, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const skipNoGcc = hasGcc ? false : `${GCC} is not installed`;

const dir = mkdtempSync(join(tmpdir(), "popek-elf-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A bare-metal program with an HTIF `tohost`/`fromhost` pair, a .text segment and a .tohost+.bss segment. */
const SOURCE = `
volatile unsigned long long tohost __attribute__((section(".tohost"), aligned(8)));
volatile unsigned long long fromhost __attribute__((section(".tohost"), aligned(8)));
static char stack[4096] __attribute__((aligned(16)));
static unsigned long counter;
void main(void) {
  counter++;
  tohost = 1;
  for (;;) {}
}
__attribute__((naked)) void _start(void) { __asm__ volatile("la sp, %0 + 4096\\n j main" :: "i"(stack)); }
`;

/** Compile SOURCE with extra flags and return the output file's bytes. */
function build(name: string, flags: string[]): Uint8Array {
  const src = join(dir, "prog.c");
  writeFileSync(src, SOURCE);
  const out = join(dir, name);
  const base = ["-nostdlib", "-ffreestanding", "-O2", "-mcmodel=medany", "-Wl,--no-relax"];
  execFileSync(GCC, [...base, ...flags, "-o", out, src], { stdio: ["ignore", "ignore", "inherit"] });
  return new Uint8Array(readFileSync(out));
}

const RV64 = ["-march=rv64imac", "-mabi=lp64", "-Wl,-Ttext-segment=0x80000000"];
const rv64 = hasGcc ? build("rv64.elf", RV64) : new Uint8Array();

/** Symbol values according to binutils' nm, the oracle for the symbol table. */
function nmSymbols(file: string): Map<string, bigint> {
  const out = execFileSync("riscv64-unknown-elf-nm", ["--defined-only", file], { encoding: "utf8" });
  const map = new Map<string, bigint>();
  for (const line of out.trim().split("\n")) {
    const [value, , name] = line.split(" ");
    map.set(name!, BigInt(`0x${value}`));
  }
  return map;
}

/** A copy of `bytes` changed by `edit`, which gets a little-endian DataView on the copy. */
function mutate(bytes: Uint8Array, edit: (dv: DataView, b: Uint8Array) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer), copy);
  return copy;
}

/** File offset of the first PT_LOAD program header. */
function firstLoad(dv: DataView): number {
  const phoff = Number(dv.getBigUint64(32, true));
  for (let i = 0; i < dv.getUint16(56, true); i++) {
    if (dv.getUint32(phoff + i * 56, true) === 1) return phoff + i * 56;
  }
  throw new Error("no PT_LOAD");
}

/** Assert that parsing throws a LoadError with `code` and a one-line message matching `message`. */
function rejects(bytes: Uint8Array, code: LoadError["code"], message: RegExp): void {
  assert.throws(
    () => parseElf(bytes),
    (e: LoadError) => {
      assert.equal(e.name, "LoadError");
      assert.equal(e.code, code);
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    },
  );
}

describe("parseElf on a real RV64 executable", { skip: skipNoGcc }, () => {
  test("entry, segments and symbols agree with binutils", () => {
    const elf = parseElf(rv64);
    const nm = nmSymbols(join(dir, "rv64.elf"));
    assert.equal(elf.entry, nm.get("_start"));
    assert.equal(elf.symbols.get("tohost"), nm.get("tohost"));
    assert.equal(elf.symbols.get("fromhost"), nm.get("fromhost"));
    assert.equal(elf.symbols.get("counter"), nm.get("counter"), "local symbols are included");
    for (const [name, value] of nm) assert.equal(elf.symbols.get(name), value, name);

    // Two PT_LOADs (text; .tohost + .bss), the bss part zero-filled beyond filesz; PT_RISCV_ATTRIBUTES is skipped.
    assert.equal(elf.segments.length, 2);
    const [text, data] = elf.segments;
    assert.equal(text!.paddr, 0x8000_0000n);
    assert.equal(BigInt(text!.data.length), text!.memsz);
    assert.ok(data!.memsz > BigInt(data!.data.length), "bss is not in the file");
    assert.ok(nm.get("tohost")! >= data!.paddr && nm.get("tohost")! < data!.paddr + data!.memsz);
    // The segment bytes are the file bytes: the ELF magic opens the first (it starts at file offset 0).
    assert.deepEqual([...text!.data.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
  });

  test("a stripped file has no symbols but still loads", () => {
    const out = join(dir, "stripped.elf");
    execFileSync("riscv64-unknown-elf-strip", ["-o", out, join(dir, "rv64.elf")]);
    const elf = parseElf(new Uint8Array(readFileSync(out)));
    assert.equal(elf.symbols.size, 0);
    assert.equal(elf.segments.length, 2);
  });

  test("ET_DYN is accepted and loaded at its addresses", () => {
    const elf = parseElf(mutate(rv64, (dv) => dv.setUint16(16, 3, true)));
    assert.equal(elf.segments[0]!.paddr, 0x8000_0000n);
  });

  test("a view into a larger buffer parses the same", () => {
    const padded = new Uint8Array(rv64.length + 16);
    padded.set(rv64, 16);
    assert.deepEqual(parseElf(padded.subarray(16)).entry, parseElf(rv64).entry);
  });

  test("checkImageInRam accepts RAM-resident images and names the range of one outside", () => {
    const elf = parseElf(rv64);
    checkImageInRam(elf, 0x8000_0000n, 128n << 20n);
    assert.throws(() => checkImageInRam(elf, 0x8000_0000n, 0x100n), {
      code: "IMAGE_OUTSIDE_RAM",
      message: /^segment \[0x80000000, 0x[0-9a-f]+\) lies outside RAM \[0x80000000, 0x80000100\)$/,
    });
    const low = parseElf(build("low.elf", ["-march=rv64imac", "-mabi=lp64", "-Wl,-Ttext=0x1000"]));
    assert.throws(() => checkImageInRam(low, 0x8000_0000n, 128n << 20n), { code: "IMAGE_OUTSIDE_RAM" });
  });
});

describe("parseElf rejects bad input with a one-line LoadError", () => {
  test("not an ELF: text, empty, short", () => {
    rejects(
      new TextEncoder().encode("#!/bin/sh\necho hi\n"),
      "ELF_INVALID",
      /^not an ELF file \(bad magic 23 21 2f 62/,
    );
    rejects(new Uint8Array(), "ELF_INVALID", /^not an ELF file \(it is empty\)$/);
    rejects(new Uint8Array([0x7f, 0x45]), "ELF_INVALID", /^not an ELF file/);
  });

  test("32-bit RISC-V ELF", { skip: skipNoGcc }, () => {
    const rv32 = build("rv32.elf", ["-march=rv32i", "-mabi=ilp32", "-Wl,-Ttext-segment=0x80000000"]);
    rejects(rv32, "ELF_UNSUPPORTED", /^is a 32-bit ELF; popek runs RV64 programs$/);
  });

  test("x86-64 ELF", { skip: existsSync("/bin/true") ? false : "no /bin/true" }, () => {
    rejects(new Uint8Array(readFileSync("/bin/true")), "ELF_UNSUPPORTED", /^is an ELF for x86-64, not RISC-V$/);
  });

  describe("mutated RV64 ELF", { skip: skipNoGcc }, () => {
    test("bad class and data encoding", () => {
      rejects(
        mutate(rv64, (_, b) => (b[4] = 1)),
        "ELF_UNSUPPORTED",
        /32-bit/,
      );
      rejects(
        mutate(rv64, (_, b) => (b[4] = 7)),
        "ELF_INVALID",
        /^bad ELF class 7$/,
      );
      rejects(
        mutate(rv64, (_, b) => (b[5] = 2)),
        "ELF_UNSUPPORTED",
        /^is a big-endian ELF/,
      );
      rejects(
        mutate(rv64, (_, b) => (b[5] = 0)),
        "ELF_INVALID",
        /^bad ELF data encoding 0$/,
      );
    });

    test("other machines are named", () => {
      rejects(
        mutate(rv64, (dv) => dv.setUint16(18, 183, true)),
        "ELF_UNSUPPORTED",
        /for AArch64, not RISC-V/,
      );
      rejects(
        mutate(rv64, (dv) => dv.setUint16(18, 9999, true)),
        "ELF_UNSUPPORTED",
        /for machine 9999, not/,
      );
    });

    test("object files and core dumps", () => {
      rejects(
        mutate(rv64, (dv) => dv.setUint16(16, 1, true)),
        "ELF_UNSUPPORTED",
        /relocatable object.*link it/,
      );
      rejects(
        mutate(rv64, (dv) => dv.setUint16(16, 4, true)),
        "ELF_UNSUPPORTED",
        /core dump/,
      );
      rejects(
        mutate(rv64, (dv) => dv.setUint16(16, 0, true)),
        "ELF_UNSUPPORTED",
        /unknown ELF type 0/,
      );
    });

    test("truncated header, program headers, segment data and section headers", () => {
      rejects(rv64.slice(0, 40), "IMAGE_TRUNCATED", /^truncated: 40 bytes, shorter than the 64-byte ELF header$/);
      rejects(rv64.slice(0, 100), "IMAGE_TRUNCATED", /^truncated: program header table ends at byte \d+/);
      const phEnd = 64 + 56 * new DataView(rv64.buffer).getUint16(56, true);
      rejects(rv64.slice(0, phEnd + 8), "IMAGE_TRUNCATED", /^truncated: segment \d data ends at byte \d+/);
      const shoff = Number(new DataView(rv64.buffer).getBigUint64(40, true));
      rejects(rv64.slice(0, shoff + 10), "IMAGE_TRUNCATED", /^truncated: section header table/);
      const bigStrtab = mutate(rv64, (dv) => {
        // Every section's sh_size set past the file end: .symtab is the first one read.
        for (let i = 0; i < dv.getUint16(60, true); i++) dv.setBigUint64(shoff + i * 64 + 32, 1n << 32n, true);
      });
      rejects(bigStrtab, "IMAGE_TRUNCATED", /^truncated: \.symtab ends at byte/);
    });

    test("filesz greater than memsz", () => {
      const bad = mutate(rv64, (dv) => {
        const ph = firstLoad(dv);
        dv.setBigUint64(ph + 32, dv.getBigUint64(ph + 40, true) + 1n, true);
      });
      rejects(bad, "ELF_INVALID", /^segment \d: p_filesz 0x[0-9a-f]+ exceeds p_memsz 0x[0-9a-f]+$/);
    });

    test("overflowing offsets and addresses", () => {
      const huge = 0xffff_ffff_ffff_fff0n;
      rejects(
        mutate(rv64, (dv) => dv.setBigUint64(32, huge, true)),
        "ELF_INVALID",
        /program header table.*overflows/,
      );
      rejects(
        mutate(rv64, (dv) => dv.setBigUint64(firstLoad(dv) + 8, huge, true)),
        "ELF_INVALID",
        /segment.*over/,
      );
      rejects(
        mutate(rv64, (dv) => dv.setBigUint64(firstLoad(dv) + 24, huge, true)),
        "ELF_INVALID",
        /overflows the address space/,
      );
      rejects(
        mutate(rv64, (dv) => dv.setBigUint64(40, huge, true)),
        "ELF_INVALID",
        /section header table.*overflow/,
      );
      // Large but not overflowing: past the end of the file.
      rejects(
        mutate(rv64, (dv) => dv.setBigUint64(32, 1n << 40n, true)),
        "IMAGE_TRUNCATED",
        /program header/,
      );
    });

    test("bad table entry sizes", () => {
      rejects(
        mutate(rv64, (dv) => dv.setUint16(54, 32, true)),
        "ELF_INVALID",
        /^bad e_phentsize 32$/,
      );
      rejects(
        mutate(rv64, (dv) => dv.setUint16(58, 40, true)),
        "ELF_INVALID",
        /^bad e_shentsize 40$/,
      );
    });
  });
});
