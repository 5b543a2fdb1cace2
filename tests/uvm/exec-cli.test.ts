/**
 * `popek exec` as a command: stdin piped from the host, exit statuses (a signal n gives 128 + n), --strace output
 * and its ENOSYS report, host errors (exit 2), and an interactive `busybox sh` on a pseudo-terminal (line editing,
 * pipelines of applets, Ctrl-C in the line editor and for a foreground command, `exit 5`), driven through python3's pty module.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { IMAGE_BUILD_TIMEOUT_MS } from "../image/default-image.ts";
import { build, guestInitramfs, requireTool, runQemu, tempDir, unpackCpio } from "./harness.ts";

const CLI = new URL("../../src/cli/main.ts", import.meta.url).pathname;

function popek(args: string[], input = "") {
  const r = spawnSync(process.execPath, [CLI, "exec", ...args], {
    input,
    timeout: 120_000,
    env: { PATH: "/bin:/usr/bin" },
  });
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString(), status: r.status };
}

/**
 * Drive a command on a pseudo-terminal: for each step wait until `expect` has appeared and then `settle` seconds more
 * (a key typed while the shell still edits its line would reach the shell, not the command), then type `text`.
 */
const PTY_DRIVER = `
import os, pty, sys, time, select, json
steps = json.loads(sys.argv[1]); cmd = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
out = b""
def pump(expect, t):
    global out
    end = time.time() + t
    while time.time() < end and expect.encode() not in out:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try: out += os.read(fd, 4096)
            except OSError: return
for expect, text, settle in steps:
    pump(expect, 30)
    pump("\\0never", settle)
    os.write(fd, text.encode())
pump("\\0never", 3)
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.stdout.write("\\nEXIT %d\\n" % (os.WEXITSTATUS(st) if os.WIFEXITED(st) else -1))
`;

describe("popek exec", { timeout: IMAGE_BUILD_TIMEOUT_MS + 300_000 }, () => {
  const dir = tempDir("cli");
  const rootfs = join(dir, "rootfs");

  before(async () => {
    await requireTool("riscv64-linux-gnu-gcc");
    await requireTool("qemu-riscv64");
    await build("stdin.c", join(dir, "stdin"), "static");
    const progs: Record<string, string> = {
      segv: "int main(void) { *(volatile int *)0 = 1; return 0; }",
      code: "int main(void) { return 42; }",
      nosys:
        '#include <unistd.h>\n#include <stdio.h>\nint main(void) { printf("%ld\\n", syscall(0, 1, 2)); return 0; }',
    };
    for (const [name, src] of Object.entries(progs)) {
      writeFileSync(join(dir, `${name}.c`), src);
      execFileSync("riscv64-linux-gnu-gcc", ["-O1", "-static", "-o", join(dir, name), join(dir, `${name}.c`)]);
    }
    mkdirSync(rootfs);
    unpackCpio(await guestInitramfs(), rootfs);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("stdin from the host, compared with qemu-riscv64", async () => {
    const input = Array.from({ length: 2000 }, (_, i) => `line ${i} of input`).join("\n");
    const q = await runQemu({ prog: join(dir, "stdin"), stdin: input, cwd: dir, linking: "static" });
    const p = popek([join(dir, "stdin")], input);
    assert.equal(p.stdout, q.stdout);
    assert.equal(p.status, 0);
  });

  test("exit statuses: the program's code, 128 + signal, 2 for a host error", () => {
    assert.equal(popek([join(dir, "code")]).status, 42);
    const segv = popek([join(dir, "segv")]);
    assert.equal(segv.status, 128 + 11);
    const missing = popek([join(dir, "no-such-program")]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^popek: .*no-such-program: no such file\n$/);
    writeFileSync(join(dir, "junk"), "neither ELF nor #! script\n", { mode: 0o755 });
    const notElf = popek([join(dir, "junk")]);
    assert.equal(notElf.status, 2);
    assert.match(notElf.stderr, /not a RISC-V 64-bit Linux executable/);
    const notExecutable = popek([join(dir, "code.c")]);
    assert.equal(notExecutable.status, 2);
    assert.match(notExecutable.stderr, /permission denied/);
  });

  test("a reader that goes away gives the program SIGPIPE (`yes | head`)", () => {
    const r = spawnSync(
      "bash",
      [
        "-c",
        `"${process.execPath}" "${CLI}" exec "${join(rootfs, "bin/busybox")}" yes | head -n 2; echo "status \${PIPESTATUS[0]}"`,
      ],
      { timeout: 120_000 },
    );
    assert.equal(r.stdout.toString(), "y\ny\nstatus 141\n");
  });

  test("--strace prints each call and the unimplemented ones", () => {
    const r = popek(["--strace", join(dir, "nosys")]);
    assert.equal(r.stdout, "-1\n");
    assert.match(r.stderr, /\[pid \d+\] io_setup\(0x1, 0x2.*\) = -1 ENOSYS \(Function not implemented\)\n/);
    assert.match(r.stderr, /\[pid \d+\] write\(1, 0x[0-9a-f]+, 3\) = 3\n/);
    assert.match(r.stderr, /popek: unimplemented system calls \(ENOSYS\): io_setup \(0\) ×1\n$/);
  });

  test("an interactive busybox sh on a terminal", {
    skip: !existsSync("/usr/bin/python3") && "python3 missing",
  }, () => {
    // [text to wait for, keys to type, seconds to settle]; the prompt is "/ # ". Ctrl-C at the prompt is the line
    // editor's (the terminal is raw there): it drops the line. Ctrl-C while `sleep` runs (the terminal is cooked
    // then) is SIGINT from the host terminal, forwarded to the foreground process group.
    const steps: [string, string, number][] = [
      ["/ # ", "echo hello-$((6*7))\r", 0.3],
      ["hello-42", "for i in 1 2 3; do echo n$i; done | sort -r | head -n 2\r", 0.3],
      ["n2", "echo dropped\x03", 0.3],
      ["^C", "cd /usr/bin && pwd; (exit 3); echo status-$?\r", 0.3],
      ["status-3", "sleep 20\r", 0.3],
      ["sleep 20", "\x03", 2],
      ["^C", "echo st-$?\r", 0.5],
      ["st-1", "exit 5\r", 0.3],
    ];
    const r = spawnSync(
      "python3",
      [
        "-c",
        PTY_DRIVER,
        JSON.stringify(steps),
        "env",
        "-i",
        "PATH=/bin:/usr/bin",
        "TERM=vt100",
        process.execPath,
        CLI,
        "exec",
        "--root",
        rootfs,
        join(rootfs, "bin/busybox"),
        "sh",
      ],
      { timeout: 120_000 },
    );
    const out = r.stdout.toString().replaceAll("\r", "");
    assert.match(out, /\nhello-42\n/);
    assert.match(out, /\nn3\nn2\n/);
    assert.doesNotMatch(out, /\ndropped\n/, "Ctrl-C dropped the edited line");
    assert.match(out, /\n\/usr\/bin\nstatus-3\n/);
    assert.match(out, /\nst-130\n/, "Ctrl-C ended sleep with SIGINT");
    assert.match(out, /\nEXIT 5\n$/);
  });
});
