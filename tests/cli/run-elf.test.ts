// `popek run-elf` end to end: the CLI as a child process (and once in-process through `main`) on guests built at test
// time with riscv64-unknown-elf-gcc, and on inputs that must fail with exit code 2 and one line on stderr.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { main } from "../../src/cli/main.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const NODE = join(ROOT, "node_modules/.bin/node");
const CLI = join(ROOT, "src/cli/main.ts");
const GCC = "riscv64-unknown-elf-gcc";

const hasGcc = spawnSync(GCC, ["--version"], { stdio: "ignore" }).status === 0;
const skipNoGcc = hasGcc ? false : `${GCC} is not installed`;

const dir = mkdtempSync(join(tmpdir(), "popek-cli-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Prints "hi" through HTIF console putchar (device 1, cmd 1), then exits with EXIT_CODE via tohost = (code<<1)|1. */
const HI_C = `
volatile unsigned long long tohost __attribute__((section(".tohost"), aligned(8)));
volatile unsigned long long fromhost __attribute__((section(".tohost"), aligned(8)));
static char stack[4096] __attribute__((aligned(16)));
/* The riscv-tests handshake: wait for the host to take the previous request, then post this one. */
static void htif(unsigned long long v) {
  while (tohost) fromhost = 0;
  tohost = v;
}
void main(void) {
  htif((1ULL << 56) | (1ULL << 48) | 'h');
  htif((1ULL << 56) | (1ULL << 48) | 'i');
  htif(((unsigned long long)EXIT_CODE << 1) | 1);
  for (;;) {}
}
__attribute__((naked)) void _start(void) { __asm__ volatile("la sp, %0 + 4096\\n j main" :: "i"(stack)); }
`;

/** Spins forever without a word to the host. */
const SPIN_S = `.globl _start\n_start: j _start\n.section .tohost, "aw"\n.globl tohost\n.align 3\ntohost: .dword 0\n`;

const RV64 = ["-march=rv64imac", "-mabi=lp64"];
// -Ttext-segment, not -Ttext: with -Ttext alone GNU ld also loads the ELF headers, a page below the text (outside RAM).
const AT_RAM = "-Wl,-Ttext-segment=0x80000000";

/** Compile `source` (C or assembly, by `ext`) with `flags`; returns the output path. */
function build(name: string, ext: "c" | "S", source: string, flags: string[]): string {
  const src = join(dir, `${name}.${ext}`);
  const out = join(dir, `${name}.elf`);
  writeFileSync(src, source);
  const base = ["-nostdlib", "-ffreestanding", "-O2", "-mcmodel=medany", "-Wl,--no-relax"];
  execFileSync(GCC, [...base, ...flags, "-o", out, src], { stdio: ["ignore", "ignore", "inherit"] });
  return out;
}

interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `popek <args>` as a child process. */
function popek(...args: string[]): Result {
  const r = spawnSync(NODE, [CLI, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Assert a host error: exit code 2, nothing on stdout, exactly one `popek: …` line on stderr matching `message`. */
function assertHostError(r: Result, message: RegExp): void {
  assert.equal(r.status, 2, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^popek: [^\n]+\n$/, "exactly one line on stderr");
  assert.match(r.stderr.trimEnd(), message);
}

describe("popek run-elf: host errors give exit code 2 and one line", () => {
  test("missing file", () => {
    assertHostError(popek("run-elf", join(dir, "nope.elf")), /nope\.elf: no such file$/);
  });

  test("a text file", () => {
    const text = join(dir, "readme.txt");
    writeFileSync(text, "hello, not an ELF\n");
    assertHostError(popek("run-elf", text), /readme\.txt: not an ELF file \(bad magic/);
  });

  test("a directory", () => {
    assertHostError(popek("run-elf", dir), /: is a directory$/);
  });

  test("a truncated ELF", { skip: skipNoGcc }, () => {
    const whole = readFileSync(build("whole", "c", HI_C, [...RV64, AT_RAM, "-DEXIT_CODE=0"]));
    const cut = join(dir, "cut.elf");
    writeFileSync(cut, whole.subarray(0, 200));
    assertHostError(popek("run-elf", cut), /cut\.elf: truncated: /);
  });

  test("a 32-bit RISC-V ELF", { skip: skipNoGcc }, () => {
    const rv32 = build("rv32", "c", HI_C, ["-march=rv32i", "-mabi=ilp32", AT_RAM, "-DEXIT_CODE=0"]);
    assertHostError(popek("run-elf", rv32), /rv32\.elf: is a 32-bit ELF; popek runs RV64 programs$/);
  });

  test("an x86-64 ELF", { skip: existsSync("/bin/true") ? false : "no /bin/true" }, () => {
    assertHostError(popek("run-elf", "/bin/true"), /true: is an ELF for x86-64, not RISC-V$/);
  });

  test("an ELF linked at 0x1000, outside RAM", { skip: skipNoGcc }, () => {
    const low = build("low", "c", HI_C, [...RV64, "-Wl,-Ttext=0x1000", "-DEXIT_CODE=0"]);
    assertHostError(popek("run-elf", low), /low\.elf: segment \[0x[0-9a-f]+, 0x[0-9a-f]+\) lies outside RAM/);
  });

  test("an ELF larger than --mem", { skip: skipNoGcc }, () => {
    const hi = build("hi-small-ram", "c", HI_C, [...RV64, AT_RAM, "-DEXIT_CODE=0"]);
    assertHostError(popek("run-elf", "--mem", "4K", hi), /outside RAM \[0x80000000, 0x80001000\)$/);
  });

  test("bad option values and usage", () => {
    assertHostError(popek("run-elf", "--mem", "lots", "x.elf"), /^popek: --mem lots: not a size;/);
    assertHostError(popek("run-elf", "--mem", "0", "x.elf"), /--mem 0: must be a positive multiple of 4K/);
    assertHostError(popek("run-elf", "--mem", "64G", "x.elf"), /--mem 64G: at most 2G/);
    assertHostError(popek("run-elf", "--max-insns", "-3", "x.elf"), /--max-insns -3: not a whole number/);
    assertHostError(popek("run-elf", "--max-insns", "0", "x.elf"), /--max-insns 0: must be between 1/);
    assertHostError(popek("run-elf", "--frobnicate", "x.elf"), /^popek: unknown option '--frobnicate'$/m);
    assertHostError(popek("run-elf"), /missing required argument 'prog\.elf'/);
    assertHostError(popek("boot"), /unknown command 'boot'/);
  });
});

describe("popek: help and version", () => {
  test("--help lists run-elf and exits 0", () => {
    const r = popek("--help");
    assert.equal(r.status, 0);
    assert.match(r.stdout, /run-elf \[options\] <prog\.elf>/);
    assert.equal(r.stderr, "");
  });

  test("run-elf --help documents options and exit codes", () => {
    const r = popek("run-elf", "--help");
    assert.equal(r.status, 0);
    for (const s of ["--mem <size>", "--max-insns <n>", "--stats", "124", "tohost"]) assert.ok(r.stdout.includes(s), s);
  });

  test("--version prints package.json's version", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const r = popek("--version");
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `${version}\n`);
  });
});

describe("popek run-elf: running guests", { skip: skipNoGcc }, () => {
  const hi = hasGcc ? build("hi", "c", HI_C, [...RV64, AT_RAM, "-DEXIT_CODE=3"]) : "";

  test('prints "hi" and exits with the guest\'s code 3', () => {
    // The limit only guards against a hang if HTIF is broken; the program needs a few dozen instructions.
    const r = popek("run-elf", "--max-insns", "1000000", hi);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout, "hi");
    assert.equal(r.status, 3);
  });

  test("--stats adds one line with instructions, time and MIPS", () => {
    const r = popek("run-elf", "--stats", "--mem", "1M", hi);
    assert.equal(r.stdout, "hi");
    assert.equal(r.status, 3);
    assert.match(r.stderr, /^popek: \d+ instructions retired in \d+\.\d{3} s \((\d+\.\d\d|-) MIPS\)\n$/);
  });

  test("--max-insns stops a spinning guest with exit code 124", () => {
    const spin = build("spin", "S", SPIN_S, [...RV64, AT_RAM]);
    const r = popek("run-elf", "--max-insns", "10_000", spin);
    assert.equal(r.stdout, "");
    assert.equal(r.status, 124);
    assert.match(r.stderr, /^popek: stopped after \d+ instructions \(--max-insns 10000\)\n$/);
  });

  test("a guest asleep in wfi with nothing to wake it stops with exit code 124", () => {
    const sleeper = build("wfi", "S", SPIN_S.replace("_start: j _start", "_start: wfi\nj _start"), [...RV64, AT_RAM]);
    const r = popek("run-elf", sleeper);
    assert.equal(r.status, 124);
    assert.match(r.stderr, /^popek: stopped after \d+ instructions: wfi with no interrupt that could wake the hart\n$/);
  });

  test("an exit code that does not fit in 8 bits becomes 255, with a note", () => {
    const big = build("exit300", "c", HI_C, [...RV64, AT_RAM, "-DEXIT_CODE=300"]);
    const r = popek("run-elf", "--max-insns", "1000000", big);
    assert.equal(r.stdout, "hi");
    assert.equal(r.status, 255);
    assert.match(r.stderr, /^popek: guest exit code 300 does not fit in 8 bits; exiting with 255\n$/);
  });

  test("main() in-process returns the exit code and routes output through its io", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: (c: Uint8Array | string) => out.push(typeof c === "string" ? c : new TextDecoder().decode(c)),
      stderr: (t: string) => err.push(t),
    };
    assert.equal(await main(["run-elf", "--max-insns", "1000000", hi], io), 3);
    assert.deepEqual([out.join(""), err.join("")], ["hi", ""]);
    assert.equal(await main(["run-elf", join(dir, "missing.elf")], io), 2);
    assert.match(err.join(""), /^popek: .*missing\.elf: no such file\n$/);
  });
});
