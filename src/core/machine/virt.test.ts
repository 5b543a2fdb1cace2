// The virt machine: where boot images go (QEMU 7.2's addresses), the boot ROM, configuration errors, and small S-mode
// programs (built with riscv64-unknown-elf-gcc at test time) that use the built-in SBI — HSM, IPI, timer + wfi, DBCN,
// SRST — and the syscon, run through the real run loop, including that an idle wait does not spin the host CPU.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { RAM_OFFSET } from "../cpu/layout.ts";
import { parseFdt } from "../firmware/fdt.ts";
import { BootError, FW_DYNAMIC_INFO, type MachineConfig, MROM, VirtMachine } from "./virt.ts";

const MiB = 1024 * 1024;
const RAM = 0x8000_0000;

/** A minimal Linux Image: the 64-byte header with text_offset 2 MiB and image_size, then `body`. */
function fakeImage(imageSize: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = new Uint8Array(64 + body.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x0000006f, true); // j .
  dv.setBigUint64(8, 0x20_0000n, true);
  dv.setBigUint64(16, BigInt(imageSize), true);
  dv.setUint32(56, 0x05435352, true); // "RSC\x05"
  b.set(body, 64);
  return b;
}

function machine(cfg: Partial<MachineConfig>, out: number[] = []): VirtMachine {
  return new VirtMachine(
    { ramSize: 256 * MiB, harts: 1, kernel: fakeImage(8 * MiB), ...cfg },
    { onOutput: (b) => out.push(...b), random: (buf) => buf.fill(7) },
  );
}

function ramView(m: VirtMachine, addr: number, len: number): Uint8Array {
  return new Uint8Array(m.memory.buffer, RAM_OFFSET + addr - RAM, len);
}

test("images go where QEMU 7.2 puts them: kernel at RAM + 2 MiB, initrd at kernel + 128 MiB, DTB 2 MiB-aligned at the top", () => {
  const initrd = new Uint8Array(1000).fill(0xab);
  const m = machine({ initrd, bootargs: "console=ttyS0" });
  const l = m.layout;
  assert.equal(l.firmware, null);
  assert.deepEqual(l.kernel, { start: 0x8020_0000, end: 0x8020_0000 + 8 * MiB, entry: 0x8020_0000 });
  assert.deepEqual(l.initrd, { start: 0x8820_0000, end: 0x8820_0000 + 1000 });
  assert.equal(l.dtb.start, 0x8fe0_0000);
  assert.deepEqual(Array.from(ramView(m, 0x8820_0000, 2)), [0xab, 0xab]);
  const dt = parseFdt(ramView(m, l.dtb.start, l.dtb.end - l.dtb.start));
  const chosen = dt.root.find("chosen")!;
  assert.equal(chosen.getStrings("bootargs")?.[0], "console=ttyS0");
  assert.deepEqual(chosen.getU32s("linux,initrd-start"), [0x8820_0000]);
  assert.deepEqual(chosen.getU32s("linux,initrd-end"), [0x8820_0000 + 1000]);
  const isa = dt.root.find("cpus/cpu@0")!.getStrings("riscv,isa")![0]!;
  assert.match(isa, /^rv64ima.*c_zicsr_zifencei_sstc$/);
  // The built-in SBI entered the kernel in S-mode with a0 = 0, a1 = DTB.
  const h = m.harts[0]!;
  assert.equal(h.priv, 1);
  assert.equal(h.pc, 0x8020_0000n);
  assert.equal(h.x[11], BigInt(l.dtb.start));
  // 128 MiB of RAM: the initrd goes at kernel + 64 MiB, the DTB below 0x8800_0000.
  const small = machine({ ramSize: 128 * MiB, initrd });
  assert.equal(small.layout.initrd!.start, 0x8420_0000);
  assert.equal(small.layout.dtb.start, 0x87e0_0000);
});

test("--bios: firmware at the RAM base, kernel at the next 2 MiB boundary, harts in M-mode with QEMU's reset-vector registers", () => {
  const bios = new Uint8Array(0x1_c280).fill(0x13);
  const m = machine({ bios, harts: 2 });
  assert.deepEqual(m.layout.firmware, { start: RAM, end: RAM + 0x1_c280, entry: RAM });
  assert.equal(m.layout.kernel.start, 0x8020_0000);
  for (const h of m.harts) {
    assert.equal(h.priv, 3);
    assert.equal(h.pc, BigInt(RAM));
    assert.equal(h.x[10], BigInt(h.hartId));
    assert.equal(h.x[11], BigInt(m.layout.dtb.start));
    assert.equal(h.x[12], BigInt(FW_DYNAMIC_INFO));
  }
  // fw_dynamic_info in the boot ROM, read through the bus as OpenSBI's fw_dynamic reads it.
  const rd64 = (a: number) => BigInt(m.bus.read(a, 4)) | (BigInt(m.bus.read(a + 4, 4)) << 32n);
  assert.equal(rd64(FW_DYNAMIC_INFO), 0x4942534fn); // magic
  assert.equal(rd64(FW_DYNAMIC_INFO + 8), 2n); // version
  assert.equal(rd64(FW_DYNAMIC_INFO + 16), 0x8020_0000n); // next_addr
  assert.equal(rd64(FW_DYNAMIC_INFO + 24), 1n); // next_mode S
  assert.equal(m.bus.read(MROM.base, 4), 0x00000297); // auipc t0, 0
  // A firmware bigger than 2 MiB pushes the kernel to 4 MiB.
  const big = machine({ bios: new Uint8Array(2 * MiB + 4) });
  assert.equal(big.layout.kernel.start, 0x8040_0000);
});

test("empty virtio slots answer like QEMU's: magic, version 2, device ID 0", () => {
  const m = machine({});
  for (let i = 0; i < 8; i++) {
    const base = 0x1000_1000 + i * 0x1000;
    assert.equal(m.bus.read(base, 4), 0x74726976);
    assert.equal(m.bus.read(base + 4, 4), 2);
    assert.equal(m.bus.read(base + 8, 4), 0);
  }
});

test("configuration errors are BootErrors naming the problem", () => {
  const bad = (cfg: Partial<MachineConfig>, code: string, re: RegExp) =>
    assert.throws(
      () => machine(cfg),
      (e: unknown) => e instanceof BootError && e.code === code && re.test(e.message),
    );
  bad({ harts: 0 }, "BAD_CONFIG", /harts/);
  bad({ harts: 65 }, "BAD_CONFIG", /harts/);
  bad({ ramSize: 8 * MiB }, "BAD_CONFIG", /RAM/);
  bad({ ramSize: 32 * MiB, kernel: fakeImage(40 * MiB) }, "IMAGE_OUTSIDE_RAM", /kernel/);
  bad({ ramSize: 32 * MiB, initrd: new Uint8Array(20 * MiB) }, "IMAGE_OUTSIDE_RAM", /initrd/);
  bad({ ramSize: 32 * MiB, kernel: fakeImage(17 * MiB), initrd: new Uint8Array(10) }, "IMAGE_OVERLAP", /initrd/);
});

// ---- S-mode programs on the run loop ----

const GCC = "riscv64-unknown-elf-gcc";
const OBJCOPY = "riscv64-unknown-elf-objcopy";
const hasGcc = spawnSync(GCC, ["--version"], { stdio: "ignore" }).status === 0;
const skipNoGcc = hasGcc ? false : `${GCC} is not installed`;
const dir = mkdtempSync(join(tmpdir(), "popek-virt-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Assemble `source` linked at 0x8020_0000 and return the raw binary (loaded like an Image without header). */
function build(name: string, source: string): Uint8Array {
  const src = join(dir, `${name}.S`);
  const elf = join(dir, `${name}.elf`);
  const bin = join(dir, `${name}.bin`);
  const lds = join(dir, "link.ld");
  writeFileSync(lds, "SECTIONS { . = 0x80200000; .text : { *(.text*) } .data : { *(.data*) *(.bss*) } }\n");
  writeFileSync(src, source);
  execFileSync(GCC, ["-march=rv64imac_zicsr_zifencei", "-mabi=lp64", "-nostdlib", "-T", lds, "-o", elf, src]);
  execFileSync(OBJCOPY, ["-O", "binary", elf, bin]);
  return new Uint8Array(readFileSync(bin));
}

const SBI = `
.equ EID_BASE, 0x10
.equ EID_TIME, 0x54494D45
.equ EID_IPI, 0x735049
.equ EID_HSM, 0x48534D
.equ EID_SRST, 0x53525354
.equ EID_DBCN, 0x4442434E
.macro sbi eid, fid
  li a7, \\eid
  li a6, \\fid
  ecall
.endm
`;

/**
 * Hart 0 prints through the UART, starts hart 1 (which prints through DBCN, sends hart 0 an IPI and stops), waits
 * for the IPI with wfi, sets a timer WAIT ticks ahead, sleeps in wfi until it fires, records what it saw in
 * `results`, and shuts down through SRST.
 */
const SMP_PROGRAM = `${SBI}
.globl _start
_start:
  bnez a0, secondary
  li t0, 0x10000000
  li t1, 'A'
  sb t1, 0(t0)
  la s0, results
  sbi EID_BASE, 0
  sd a1, 0(s0)
  li t0, 2                  # sie.SSIE
  csrs sie, t0
  li a0, 1
  la a1, secondary
  li a2, 0x42
  sbi EID_HSM, 0
  sd a0, 8(s0)
1: csrr t0, sip             # wait for hart 1's IPI
  andi t0, t0, 2
  bnez t0, 2f
  wfi
  j 1b
2: csrc sip, t0
  li a0, 1
  sbi EID_HSM, 2            # hart 1 status: stopped by now
  sd a1, 16(s0)
  csrr s1, time
  li t0, WAIT
  add a0, s1, t0
  sbi EID_TIME, 0
  li t0, 0x20               # sie.STIE
  csrs sie, t0
3: wfi
  csrr t0, sip
  andi t0, t0, 0x20
  beqz t0, 3b
  csrr t1, time
  sub t1, t1, s1
  sd t1, 24(s0)
  li a0, 0
  li a1, 0
  sbi EID_SRST, 0
  j .

secondary:
  la s0, results
  sd a1, 32(s0)             # opaque
  li a0, 'B'
  sbi EID_DBCN, 2
  li a0, 1
  li a1, 0
  sbi EID_IPI, 0
  sbi EID_HSM, 1
  j .

.data
.align 3
results: .dword 0, 0, 0, 0, 0
`;

test("an S-mode SMP program: UART and DBCN output, HSM start/status/stop, IPI, timer wake-up, SRST poweroff", {
  skip: skipNoGcc,
}, async (t) => {
  const WAIT = 3_000_000; // 300 ms of mtime
  const kernel = build("smp", SMP_PROGRAM.replace("WAIT", String(WAIT)));
  const out: number[] = [];
  const m = new VirtMachine({ ramSize: 64 * MiB, harts: 2, kernel }, { onOutput: (b) => out.push(...b) });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const exit = await m.run();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  assert.deepEqual(exit, { kind: "poweroff", code: 0, via: "sbi" });
  assert.equal(String.fromCharCode(...out), "AB");
  const resultsAt = m.layout.kernel.start + kernel.length - 40;
  const r = new BigUint64Array(m.memory.buffer.slice(RAM_OFFSET + resultsAt - RAM, RAM_OFFSET + resultsAt - RAM + 40));
  assert.equal(r[0], 0x0100_0000n, "SBI spec version 1.0");
  assert.equal(r[1], 0n, "hart_start succeeded");
  assert.equal(r[2], 1n, "hart 1 STOPPED after hart_stop");
  assert.ok(r[3]! >= BigInt(WAIT), `woke after ${r[3]} ticks, not before ${WAIT}`);
  assert.equal(r[4], 0x42n, "opaque passed to hart 1");
  assert.ok(wall >= 300, `ran ${wall} ms`);
  // The 300 ms wait is slept, not spun: well under half a core.
  const cpuMs = (cpu.user + cpu.system) / 1000;
  assert.ok(cpuMs < wall * 0.5, `used ${cpuMs.toFixed(1)} ms of CPU in ${wall.toFixed(1)} ms`);
  t.diagnostic(`${cpuMs.toFixed(1)} ms of CPU in ${wall.toFixed(1)} ms`);
});

test("syscon: poweroff with a failure code, and reboot then reset() boots the guest again", {
  skip: skipNoGcc,
}, async () => {
  // Count boots in a word of the boot ROM? RAM is cleared on reset, so count on the host: UART output per boot.
  const program = `
.globl _start
_start:
  li t0, 0x10000000
  li t1, 'R'
  sb t1, 0(t0)
  li t0, 0x100000
  li t1, VALUE
  sw t1, 0(t0)
  j .
`;
  const out: number[] = [];
  const fail = new VirtMachine(
    { ramSize: 32 * MiB, harts: 1, kernel: build("fail", program.replace("VALUE", "0x00073333")) },
    { onOutput: (b) => out.push(...b) },
  );
  assert.deepEqual(await fail.run(), { kind: "poweroff", code: 7, via: "syscon" });
  const reboot = new VirtMachine(
    { ramSize: 32 * MiB, harts: 1, kernel: build("reboot", program.replace("VALUE", "0x7777")) },
    { onOutput: (b) => out.push(...b) },
  );
  assert.deepEqual(await reboot.run(), { kind: "reboot", via: "syscon" });
  reboot.reset();
  assert.deepEqual(await reboot.run(), { kind: "reboot", via: "syscon" });
  assert.equal(String.fromCharCode(...out), "RRR");
});

test("console input reaches the guest through the UART's receive interrupt, and stop() ends run()", {
  skip: skipNoGcc,
}, async () => {
  // Echo: enable the UART's RDA interrupt and PLIC source 10 for hart 0's S context, then wfi until SEIP;
  // claim, read every byte, echo it, complete. 'q' shuts down.
  const program = `${SBI}
.globl _start
_start:
  li s0, 0x10000000
  li t0, 1
  sb t0, 1(s0)              # IER = RDA
  li s1, 0x0c000000
  li t0, 1
  sw t0, 40(s1)             # priority[10] = 1
  li t0, 0x400
  li t1, 0x0c002080         # context 1 (hart 0 S) enables
  sw t0, 0(t1)
  li t1, 0x0c201000         # context 1 threshold
  sw zero, 0(t1)
  li t0, 0x200              # sie.SEIE
  csrs sie, t0
loop:
  wfi
  li t1, 0x0c201004
  lw t2, 0(t1)              # claim
  beqz t2, loop
1: lbu t0, 5(s0)
  andi t0, t0, 1
  beqz t0, 2f
  lbu t3, 0(s0)
  sb t3, 0(s0)
  li t4, 'q'
  bne t3, t4, 1b
  li a0, 0
  li a1, 0
  sbi EID_SRST, 0
2: sw t2, 0(t1)             # complete
  j loop
`;
  const out: number[] = [];
  const m = new VirtMachine(
    { ramSize: 32 * MiB, harts: 1, kernel: build("echo", program) },
    { onOutput: (b) => out.push(...b) },
  );
  const done = m.run();
  setTimeout(() => m.sendInput(new TextEncoder().encode("hello, popek! this is more than sixteen bytes long")), 50);
  setTimeout(() => m.sendInput(new TextEncoder().encode("q")), 150);
  assert.deepEqual(await done, { kind: "poweroff", code: 0, via: "sbi" });
  assert.equal(String.fromCharCode(...out), "hello, popek! this is more than sixteen bytes longq");

  const idle = new VirtMachine({ ramSize: 32 * MiB, harts: 1, kernel: build("echo", program) }, { onOutput: () => {} });
  const running = idle.run();
  setTimeout(() => idle.stop(), 30);
  assert.deepEqual(await running, { kind: "stopped" });
});

test("fence.i on one hart makes another hart's stores to code visible to its instruction fetch", {
  skip: skipNoGcc,
}, async () => {
  // Hart 1 runs `patch` (c.li a0, 1), hart 0 rewrites it to c.li a0, 2, hart 1 executes fence.i and runs it again.
  const program = `${SBI}
.globl _start
_start:
  bnez a0, secondary
  la s0, flag
  li a0, 1
  la a1, secondary
  li a2, 0
  sbi EID_HSM, 0
1: lw t0, 0(s0)
  li t1, 1
  bne t0, t1, 1b
  la t2, patch
  li t3, 0x4509
  sh t3, 0(t2)
  li t1, 2
  sw t1, 0(s0)
2: lw t0, 0(s0)
  li t1, 3
  bne t0, t1, 2b
  ld a0, 8(s0)
  addi a0, a0, '0'
  li t4, 0x10000000
  sb a0, 0(t4)
  li a0, 0
  li a1, 0
  sbi EID_SRST, 0
secondary:
  la s0, flag
  call patch
  li t1, 1
  sw t1, 0(s0)
3: lw t0, 0(s0)
  li t1, 2
  bne t0, t1, 3b
  fence.i
  call patch
  sd a0, 8(s0)
  li t1, 3
  sw t1, 0(s0)
  j .
.balign 4096
patch:
  li a0, 1
  ret
.data
.balign 4096
flag: .dword 0, 0
`;
  const out: number[] = [];
  const m = new VirtMachine(
    {
      ramSize: 32 * MiB,
      harts: 2,
      kernel: build("fencei", program),
    },
    { onOutput: (b) => out.push(...b) },
  );
  assert.deepEqual(await m.run(), { kind: "poweroff", code: 0, via: "sbi" });
  assert.equal(String.fromCharCode(...out), "2");
});
