// A Linux guest's console for the boot tests: the output so far, waiting for text (failing at once on a kernel
// panic, an oops or an early exit rather than at the test's timeout), typing shell commands and reading their output,
// and powering off. The console is fed by `popek run` as a child process (spawnGuest) or by an in-process machine.
import { spawn } from "node:child_process";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;
/** The pinned Node and popek's CLI, to run `popek run` as a child process. */
export const NODE = join(ROOT, "node_modules/.bin/node");
export const CLI = join(ROOT, "src/cli/main.ts");
/** Debian's opensbi package (1.1): jumps to the kernel at 0x8020_0000. */
export const FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";
/** The shell prompt of the test guests' BusyBox init. */
export const PROMPT = "guest:/# ";
/** Console text that means the guest is broken: waiting fails at once. */
export const FATAL = /Kernel panic|Oops|BUG:|Unable to handle kernel|unhandled signal/;

/** An SGR (colour) escape sequence. */
const SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

export interface GuestOptions {
  /** What makes waiting fail at once (default FATAL). */
  readonly fatal?: RegExp;
  /** Also look for `fatal` in the emulator's stderr (popek reports device errors there). */
  readonly fatalInStderr?: boolean;
}

export class Guest {
  readonly name: string;
  out = "";
  err = "";
  /** Set once the guest has exited (code null when it was killed by a signal). */
  exitCode: number | null = null;
  hasExited = false;
  readonly exited: Promise<number | null>;
  /** Send console input. */
  type: (text: string) => void = () => {};
  /** Stop the guest at once. */
  kill: () => void = () => {};
  private readonly fatal: RegExp;
  private readonly fatalInStderr: boolean;
  private resolveExit: (code: number | null) => void = () => {};
  private waiters: (() => void)[] = [];
  private n = 0;

  constructor(name: string, opts: GuestOptions = {}) {
    this.name = name;
    this.fatal = opts.fatal ?? FATAL;
    this.fatalInStderr = opts.fatalInStderr ?? false;
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  /** Console output arrived. */
  output(text: string): void {
    this.out += text;
    this.wake();
  }

  /** The emulator wrote to its stderr. */
  error(text: string): void {
    this.err += text;
    this.wake();
  }

  /** The guest stopped with `code` (null: killed). */
  exit(code: number | null): void {
    this.exitCode = code;
    this.hasExited = true;
    this.resolveExit(code);
    this.wake();
  }

  /** Wait until the output after `from` contains `text`; returns the index just past it. */
  async waitFor(text: string, from = 0): Promise<number> {
    for (;;) {
      const i = this.out.indexOf(text, from);
      if (i >= 0) return i + text.length;
      const fatal = this.fatal.exec(this.out);
      if (fatal !== null) {
        const context = this.out.slice(Math.max(0, fatal.index - 3000), fatal.index + 2000);
        throw new Error(`${this.name}: ${fatal[0]} before ${JSON.stringify(text)}; console:\n${context}`);
      }
      const fatalErr = this.fatalInStderr ? this.fatal.exec(this.err) : null;
      if (fatalErr !== null)
        throw new Error(`${this.name}: ${fatalErr[0]} before ${JSON.stringify(text)}:\n${this.err}`);
      if (this.hasExited) {
        throw new Error(
          `${this.name} exited (${this.exitCode}) before printing ${JSON.stringify(text)}:\n` +
            `${this.out.slice(-1500)}\n${this.err}`,
        );
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /**
   * Type `command` and return what the console printed until a marker after it (the echoed command line included
   * when the terminal echoes; CRLF turned into LF, and the colour sequences BusyBox's ls prints on a tty removed). The
   * marker is typed as `__do""ne_N__`, which the shell prints as
   * `__done_N__`, so the echo of the command line never matches it.
   */
  async run(command: string): Promise<string> {
    const k = ++this.n;
    const marker = `__done_${k}__`;
    const from = this.out.length;
    this.type(`${command}; echo __do""ne_${k}__\n`);
    const t0 = performance.now();
    const end = await this.waitFor(marker, from);
    if (process.env.POPEK_TRACE_RUN)
      console.error(`${((performance.now() - t0) / 1000).toFixed(2)} s: ${command.slice(0, 60)}`);
    const text = this.out.slice(from, end - marker.length);
    await this.waitFor(PROMPT, end);
    return text.replaceAll("\r\n", "\n").replace(SGR, "");
  }

  /** Turn the terminal's echo off, so that what `run` returns is only the command's output. */
  async noEcho(): Promise<void> {
    await this.run("stty -echo");
  }

  /** `poweroff -f`, then the exit status. */
  async poweroff(): Promise<number | null> {
    this.type("poweroff -f\n");
    return await this.exited;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** `popek run ARGS` as a child process with its console on pipes. */
export function spawnGuest(args: readonly string[], opts: GuestOptions & { readonly name?: string } = {}): Guest {
  return spawnProcessGuest(opts.name ?? "popek", NODE, [CLI, "run", ...args], opts);
}

/** Any emulator (`cmd args`, QEMU for one) as a child process with the guest's console on its stdin and stdout. */
export function spawnProcessGuest(name: string, cmd: string, args: readonly string[], opts: GuestOptions = {}): Guest {
  const g = new Guest(name, opts);
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  child.stdout.on("data", (d: Buffer) => g.output(d.toString("latin1")));
  child.stderr.on("data", (d: Buffer) => g.error(d.toString()));
  child.on("exit", (code) => g.exit(code));
  child.stdin.on("error", () => {}); // typing after the guest exited: its exit is what the test sees
  g.type = (text) => {
    child.stdin.write(text);
  };
  g.kill = () => {
    if (!g.hasExited) child.kill("SIGKILL");
  };
  return g;
}

/**
 * Run `body` under a hard time limit of `ms`: when it runs out, the guests are killed and the run fails with their
 * console tails. The guests are killed afterwards either way.
 */
export async function bounded(guests: () => readonly Guest[], ms: number, body: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const g of guests()) g.kill();
      const tails = guests().map((g) => `--- ${g.name}\n${g.out.slice(-3000)}\n${g.err}`);
      reject(new Error(`timed out after ${ms} ms; console tails:\n${tails.join("\n")}`));
    }, ms);
  });
  try {
    await Promise.race([body(), timeout]);
  } finally {
    clearTimeout(timer);
    for (const g of guests()) g.kill();
  }
}
