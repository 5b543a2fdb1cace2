/**
 * Conformance of the disassembler with GNU objdump 2.40: compiles fixtures/disasm-sample.c and assembles
 * fixtures/disasm-all.S with Debian's riscv64-linux-gnu-gcc, runs `riscv64-linux-gnu-objdump -d` on each object, and
 * requires every instruction line, whole (address, raw bits, mnemonic, operands, `# addr` comment), to equal
 * popek's line for the same bytes. Needs gcc-riscv64-linux-gnu and binutils-riscv64-linux-gnu: without them it fails.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { decode } from "../../src/core/isa/decode.ts";
import { DisasmContext, objdumpAddrWidth, objdumpLine, type SymbolLookup } from "../../src/core/isa/disasm.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
const GCC = "riscv64-linux-gnu-gcc";
const OBJDUMP = "riscv64-linux-gnu-objdump";
const OBJCOPY = "riscv64-linux-gnu-objcopy";
const READELF = "riscv64-linux-gnu-readelf";
const FLAGS = ["-O2", "-march=rv64gc", "-mabi=lp64d", "-c"];

const dir = mkdtempSync(join(tmpdir(), "popek-objdump-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let toolsChecked = false;
function requireTools(): void {
  if (toolsChecked) return;
  for (const tool of [GCC, OBJDUMP, OBJCOPY, READELF]) {
    try {
      execFileSync(tool, ["--version"], { stdio: "pipe" });
    } catch {
      throw new Error(
        `${tool} not found: the objdump conformance test needs the Debian packages gcc-riscv64-linux-gnu and ` +
          "binutils-riscv64-linux-gnu (apt-get install gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu)",
      );
    }
  }
  toolsChecked = true;
}

const run = (tool: string, args: string[]): string =>
  execFileSync(tool, args, { encoding: "utf8", maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "pipe"] });

/**
 * objdump decorates an address with the nearest symbol at or below it in the section (`<sym+0xoff>`); in a
 * relocatable object these include gcc's local labels (`.L3`) and gas's numeric-label symbols (`.L1^B2`), and reach
 * past the section's end. It prints one `<sym>:` header per symbol address, naming the symbol it prefers there, so
 * the lookup is built from those headers and needs no normalisation. Before the first symbol objdump falls back to
 * the section symbol.
 */
function symbolLookup(headers: readonly (readonly [bigint, string])[]): SymbolLookup {
  return (addr) => {
    let best: readonly [bigint, string] | undefined;
    for (const h of headers) if (h[0] <= addr && (best === undefined || h[0] >= best[0])) best = h;
    if (best === undefined) return `.text+0x${addr.toString(16)}`;
    return addr === best[0] ? best[1] : `${best[1]}+0x${(addr - best[0]).toString(16)}`;
  };
}

interface Comparison {
  readonly lines: number;
  readonly mismatches: readonly string[];
}

/** Disassemble the .text of `obj` with objdump and with popek; every objdump instruction line must match. */
function compare(obj: string): Comparison {
  const bin = join(dir, "text.bin");
  run(OBJCOPY, ["-O", "binary", "--only-section=.text", obj, bin]);
  const text = readFileSync(bin);
  const dump = run(OBJDUMP, ["-d", obj]);
  // objdump names CSRs for the privileged spec in the object's attributes, and the newest (1.12) without one.
  const attrs = run(READELF, ["-A", obj]);
  const privSpec = /Tag_RISCV_priv_spec: 1\s+Tag_RISCV_priv_spec_minor: 11/.test(attrs) ? "1.11" : "1.12";

  const headers: [bigint, string][] = [];
  const insns: { addr: bigint; line: string }[] = [];
  for (const line of dump.split("\n")) {
    const h = /^([0-9a-f]{16}) <(.*)>:$/.exec(line);
    if (h !== null) headers.push([BigInt(`0x${h[1]}`), h[2]!]);
    const m = /^ *([0-9a-f]+):\t/.exec(line);
    if (m !== null) insns.push({ addr: BigInt(`0x${m[1]}`), line });
  }

  const opts = {
    symbol: symbolLookup(headers),
    context: new DisasmContext(), // objdump carries lui/auipc values through the whole section
    privSpec,
    addrWidth: objdumpAddrWidth(BigInt(text.length)),
  } as const;
  const mismatches: string[] = [];
  let pc = 0;
  for (const { addr, line } of insns) {
    if (addr !== BigInt(pc)) {
      mismatches.push(`objdump line at ${addr.toString(16)}, popek's next instruction at ${pc.toString(16)}`);
      pc = Number(addr);
    }
    const lo = text.readUInt16LE(pc);
    const hi = pc + 4 <= text.length ? text.readUInt16LE(pc + 2) : 0;
    const d = decode(lo, hi);
    const mine = objdumpLine(d, BigInt(pc), opts);
    if (mine !== line) mismatches.push(`objdump ${JSON.stringify(line)}\n  popek ${JSON.stringify(mine)}`);
    pc += d.len;
  }
  if (pc !== text.length) mismatches.push(`objdump stopped at ${pc.toString(16)} of ${text.length.toString(16)}`);
  return { lines: insns.length, mismatches };
}

function check(name: string, cmp: Comparison, minLines: number): void {
  assert.ok(cmp.lines >= minLines, `${name}: only ${cmp.lines} instruction lines from objdump`);
  assert.equal(
    cmp.mismatches.length,
    0,
    `${name}: ${cmp.mismatches.length} of ${cmp.lines} lines differ from objdump:\n${cmp.mismatches.slice(0, 30).join("\n")}`,
  );
}

test("gcc -O2 output of disasm-sample.c disassembles exactly as objdump -d prints it", () => {
  requireTools();
  const obj = join(dir, "disasm-sample.o");
  run(GCC, [...FLAGS, join(FIXTURES, "disasm-sample.c"), "-o", obj]);
  check("disasm-sample.c", compare(obj), 800);
});

test("every instruction form and every 16-bit encoding in disasm-all.S disassembles exactly as objdump -d prints it", () => {
  requireTools();
  const obj = join(dir, "disasm-all.o");
  run(GCC, [...FLAGS, join(FIXTURES, "disasm-all.S"), "-o", obj]);
  check("disasm-all.S", compare(obj), 50000 + 8192);
});
