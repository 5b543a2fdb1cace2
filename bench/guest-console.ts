/**
 * A Linux guest under an emulator (QEMU or `popek run`) for the benchmarks that boot one: the two command lines for
 * the same kernel, initramfs and firmware, and the guest as a child process with its console on pipes (wait for text,
 * run a command and wait for a marker printed after it).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const PROMPT = "guest:/# ";
const ROOT = new URL("../", import.meta.url).pathname;
/** The Node that runs `popek run` (the project's pinned one) and the CLI's entry point. */
export const NODE = join(ROOT, "node_modules/.bin/node");
export const CLI = join(ROOT, "src/cli/main.ts");
/** Debian's opensbi package: the firmware both emulators run in the like-for-like rows. */
export const FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";

/** One emulator's command line. */
export interface Setup {
  readonly name: string;
  readonly cmd: string;
  readonly args: readonly string[];
}

/** Kernel and initramfs of the guest image in `images`, or why they (or the firmware) are missing. */
export function guestFiles(images: string): { kernel: string; initrd: string } | string {
  const kernel = join(images, "Image");
  const initrd = join(images, "initramfs.cpio.gz");
  if (!existsSync(kernel) || !existsSync(initrd)) return `no guest image in ${images} (Image, initramfs.cpio.gz)`;
  if (!existsSync(FW_JUMP)) return `${FW_JUMP} is missing (Debian package opensbi)`;
  return { kernel, initrd };
}

/**
 * The guest in `images` (console on ttyS0, 1 hart, 256 MiB) under QEMU's virt machine with OpenSBI fw_jump and under
 * `popek run` (built-in SBI), each with its own extra options (devices); or why it cannot run.
 */
export function guestSetups(
  images: string,
  qemu: { readonly name: string; readonly extra: readonly string[] },
  popek: { readonly name: string; readonly extra: readonly string[] },
): Setup[] | string {
  const files = guestFiles(images);
  if (typeof files === "string") return files;
  const boot = ["-kernel", files.kernel, "-initrd", files.initrd, "-append", "console=ttyS0"];
  return [
    {
      name: qemu.name,
      cmd: "qemu-system-riscv64",
      args: ["-M", "virt", "-m", "256M", "-nographic", "-bios", FW_JUMP, ...boot, ...qemu.extra],
    },
    {
      name: popek.name,
      cmd: NODE,
      args: [CLI, "run", "--mem", "256M", ...boot.map((a) => a.replace(/^-/, "--")), ...popek.extra],
    },
  ];
}

/** `body`, or a rejection after `ms` milliseconds (the timer is cleared either way). */
export async function withTimeout<T>(body: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      body,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export class GuestConsole {
  readonly cmd: string;
  readonly child: ChildProcessWithoutNullStreams;
  private out = "";
  private err = "";
  private wake: (() => void) | null = null;
  private n = 0;

  constructor(cmd: string, args: readonly string[]) {
    this.cmd = cmd;
    this.child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.on("data", (d: Buffer) => {
      this.out += d.toString("latin1");
      this.wake?.();
    });
    this.child.stderr.on("data", (d: Buffer) => {
      this.err += d.toString();
    });
    this.child.on("exit", () => this.wake?.());
  }

  /** Wait until the output after `from` contains `text`; returns the index just past it. */
  async waitFor(text: string, from: number): Promise<number> {
    for (;;) {
      const i = this.out.indexOf(text, from);
      if (i >= 0) return i + text.length;
      if (this.child.exitCode !== null) {
        throw new Error(`${this.cmd} exited (${this.child.exitCode}): ${this.out.slice(-500)} ${this.err}`);
      }
      await new Promise<void>((r) => {
        this.wake = r;
      });
    }
  }

  /** Type `command`; returns its output and the seconds until the marker after it, then waits for the prompt. */
  async run(command: string): Promise<[string, number]> {
    const k = ++this.n;
    const from = this.out.length;
    const t0 = performance.now();
    // "__do""ne" is echoed as typed but printed by the shell as the marker.
    this.child.stdin.write(`${command}; echo __do""ne_${k}__\n`);
    const end = await this.waitFor(`__done_${k}__`, from + command.length);
    const seconds = (performance.now() - t0) / 1000;
    await this.waitFor(PROMPT, end);
    return [this.out.slice(from, end), seconds];
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}
