/**
 * A guest under an emulator (QEMU or `popek run`) as a child process with its console on pipes, for the benchmarks
 * that type shell commands: wait for text, run a command and wait for a marker printed after it.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";

export const PROMPT = "guest:/# ";

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
