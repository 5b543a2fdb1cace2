// Boot a Linux guest (../shared/images when present, else popek's own default image, built first if missing: kernel 6.1
// Image + BusyBox initramfs) with `popek run` as a child
// process, console on pipes, under the built-in SBI and under Debian's OpenSBI fw_jump, with 1 and 2 harts, and
// fw_dynamic with 1: wait for the shell prompt, run uname -a, cat /proc/cpuinfo, ls / and a shell loop, then
// poweroff -f, and check the output
// and the exit status. Each boot has a hard timeout after which the child is killed and the test fails.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { defaultImage, IMAGE_BUILD_TIMEOUT_MS } from "../image/default-image.ts";
import { bounded, CLI, FW_JUMP, NODE, PROMPT, spawnGuest } from "./guest.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const IMAGES = process.env.POPEK_IMAGES ?? join(ROOT, "../shared/images");
const SHARED = existsSync(join(IMAGES, "Image")) && existsSync(join(IMAGES, "initramfs.cpio.gz"));

/** The prebuilt guest when present (a cache), else the project's own default image, built first if missing. */
async function guestImage(): Promise<{ kernel: string; initrd: string }> {
  if (SHARED) return { kernel: join(IMAGES, "Image"), initrd: join(IMAGES, "initramfs.cpio.gz") };
  const img = await defaultImage();
  return { kernel: img.kernelPath, initrd: img.initrdPath };
}
const FW_DYNAMIC = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin";
/** Hard limit for one boot, commands and poweroff (QEMU needs 0.5 s, popek about 5 s on an idle machine). */
const BOOT_TIMEOUT_MS = Number(process.env.POPEK_BOOT_TIMEOUT_MS ?? 120_000);

const noOpenSbi = existsSync(FW_JUMP) ? false : `${FW_JUMP} is missing (Debian package opensbi)`;
const noPython =
  spawnSync("python3", ["-c", "import pty"], { stdio: "ignore" }).status === 0
    ? false
    : "no python3 (drives the pseudo-terminal)";

async function bootAndCheck(args: string[], harts: number, diag: (msg: string) => void): Promise<void> {
  const { kernel, initrd } = await guestImage();
  const start = performance.now();
  const g = spawnGuest([
    "--kernel",
    kernel,
    "--initrd",
    initrd,
    "--append",
    "console=ttyS0",
    "--smp",
    `${harts}`,
    ...args,
  ]);
  const session = async () => {
    await g.waitFor("guest ready");
    const afterPrompt = await g.waitFor(PROMPT);
    diag(`prompt after ${((performance.now() - start) / 1000).toFixed(2)} s`);
    assert.ok(afterPrompt > 0);

    const uname = await g.run("uname -a");
    assert.match(uname, /Linux \S+ 6\.1\.\d+ #1 SMP .* riscv64/);

    const cpuinfo = await g.run("cat /proc/cpuinfo");
    for (let h = 0; h < harts; h++) assert.match(cpuinfo, new RegExp(`processor\\s*: ${h}\\n`));
    assert.doesNotMatch(cpuinfo, new RegExp(`processor\\s*: ${harts}\\n`));
    assert.match(cpuinfo, /isa\s*: rv64imafdc/);
    assert.match(cpuinfo, /mmu\s*: sv(39|48)/);

    const ls = await g.run("ls /");
    for (const dir of ["bin", "dev", "etc", "proc", "sbin", "sys"]) assert.match(ls, new RegExp(`\\b${dir}\\b`));

    const loop = await g.run('i=0; while [ $i -lt 5 ]; do echo "loop $i $((i * i))"; i=$((i + 1)); done');
    assert.match(loop, /loop 0 0\nloop 1 1\nloop 2 4\nloop 3 9\nloop 4 16\n/);

    const smp = await g.run("grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online");
    assert.match(smp, new RegExp(`\\n${harts}\\n${harts === 1 ? "0" : `0-${harts - 1}`}\\n`));

    const code = await g.poweroff();
    diag(`powered off after ${((performance.now() - start) / 1000).toFixed(2)} s`);
    assert.equal(code, 0, `exit status ${code}; stderr: ${g.err}`);
    assert.doesNotMatch(g.out, /Kernel panic|Oops|BUG:|unhandled signal/);
  };
  await bounded(() => [g], BOOT_TIMEOUT_MS, session);
}

describe("Linux boots to a shell and powers off", {
  timeout: IMAGE_BUILD_TIMEOUT_MS + 5 * BOOT_TIMEOUT_MS + 10_000,
}, () => {
  for (const harts of [1, 2]) {
    test(`built-in SBI, ${harts} hart${harts > 1 ? "s" : ""}`, {}, async (t) => {
      await bootAndCheck([], harts, (m) => t.diagnostic(m));
    });
    test(`OpenSBI fw_jump, ${harts} hart${harts > 1 ? "s" : ""}`, { skip: noOpenSbi }, async (t) => {
      await bootAndCheck(["--bios", FW_JUMP], harts, (m) => t.diagnostic(m));
    });
  }
  test("OpenSBI fw_dynamic (boot ROM hands it fw_dynamic_info), 1 hart", { skip: noOpenSbi }, async (t) => {
    await bootAndCheck(["--bios", FW_DYNAMIC], 1, (m) => t.diagnostic(m));
  });
});

/**
 * Drives `popek run` in a pseudo-terminal through a shell: waits for the kernel's first line, types Ctrl-A h and
 * Ctrl-A x, and lets the shell print popek's exit status and `stty -a` (the terminal must be cooked again).
 */
const PTY_DRIVER = `
import os, pty, select, sys, time
cmd = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("sh", ["sh", "-c", cmd + "; echo STATUS=$?; stty -a"])
out = b""
def until(pat, secs):
    global out
    end = time.time() + secs
    while pat not in out:
        left = end - time.time()
        if left <= 0:
            raise SystemExit("timeout waiting for %r; got %r" % (pat, out[-500:]))
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                raise SystemExit("EOF waiting for %r; got %r" % (pat, out[-500:]))
            out += data
until(b"Linux version", 120)
os.write(fd, b"\x01h")
until(b"C-a x", 20)
os.write(fd, b"\x01x")
until(b"STATUS=", 20)
try:
    until(b"\\xff", 20)  # read to EOF (never matches): the shell exits after stty
except SystemExit as e:
    if not str(e).startswith("EOF"):
        raise
sys.stdout.buffer.write(out)
`;

describe("the console in a terminal", () => {
  test("is raw with Ctrl-A escapes (h lists the keys, x quits with status 0) and the terminal is restored", {
    skip: noPython,
    timeout: IMAGE_BUILD_TIMEOUT_MS + 180_000,
  }, async () => {
    const { kernel, initrd } = await guestImage();
    const cmd = `${NODE} ${CLI} run --kernel ${kernel} --initrd ${initrd} --append console=ttyS0`;
    const r = spawnSync("python3", ["-c", PTY_DRIVER, cmd], { encoding: "latin1", timeout: 170_000 });
    assert.equal(r.status, 0, `driver failed: ${r.stderr}${r.stdout.slice(-1000)}`);
    // libuv's raw mode keeps ONLCR, so the guest's "\r\n" reaches the terminal as "\r\r\n".
    const out = r.stdout.replace(/\r+\n/g, "\n");
    assert.match(out, /C-a h {4}print this help\nC-a x {4}exit popek\n/);
    assert.match(out, /popek: terminated\n/);
    assert.match(out, /STATUS=0\n/);
    // stty -a after popek: canonical mode and echo are back on.
    assert.match(out, /(^|\s)icanon(\s|$)/m);
    assert.match(out, /(^|\s)echo(\s|$)/m);
    assert.doesNotMatch(out, /-icanon|(^|\s)-echo(\s|$)/m);
  });
});
