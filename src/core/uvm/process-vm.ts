/**
 * ProcessVm: the embedding API of the process VM. Runs one RISC-V Linux program (and whatever it forks and execs)
 * from bytes or from a path in its file system, with given argv and environment, captured or host stdio, and limits
 * (an instruction budget and a memory cap): exceeding one ends the run with a result saying so, never an exception.
 * Host problems (the program cannot be loaded) throw ProcessVmError.
 */
import { E } from "./abi.ts";
import type { StdioHost } from "./files.ts";
import { type Clock, Kernel, type KernelExit } from "./kernel.ts";
import { type FileSystem, MemFs } from "./vfs.ts";

export type { StdioHost } from "./files.ts";
export type { DirEntry, FileHandle, FileSystem, Stat } from "./vfs.ts";
export { MemFs } from "./vfs.ts";

export interface ProcessVmOptions {
  /** argv; argv[0] is also the path run unless `path` is given. */
  readonly argv: readonly string[];
  /** Path of the program in the file system (default argv[0]). */
  readonly path?: string;
  /** The program itself: run from these bytes (as if it were the file at `path`). */
  readonly program?: Uint8Array;
  /** Environment, "NAME=value" strings (default: none). */
  readonly env?: readonly string[];
  /** The guest's file system (default: an empty MemFs). */
  readonly fs?: FileSystem;
  /** Searched first for absolute paths, like qemu-user's -L (e.g. a riscv64 sysroot for the dynamic loader). */
  readonly sysroot?: FileSystem | null;
  /** Working directory (default "/"). */
  readonly cwd?: string;
  /** Host stdio; without it stdout and stderr are captured and stdin is `stdin`. */
  readonly stdio?: StdioHost;
  readonly stdin?: Uint8Array | string;
  /** Guest RAM in bytes for all pages and page tables (default 256 MiB, at most 2 GiB). */
  readonly memory?: number;
  /** Stop after this many instructions (all threads together). */
  readonly maxInstructions?: number;
  /** Receives strace-style lines, one per system call. */
  readonly strace?: (line: string) => void;
  readonly clock?: Clock;
  readonly random?: (buf: Uint8Array) => void;
}

/** Why the program stopped: the kernel's exit (an exit status, a fatal signal, a limit, or all threads blocked). */
export type ProcessVmExit = KernelExit;

export interface ProcessVmResult {
  readonly exit: ProcessVmExit;
  /** Captured output (empty when host stdio was given). */
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  /** Guest instructions executed, all threads. */
  readonly instructions: number;
  /** System calls made, and the unimplemented ones (name → count). */
  readonly syscalls: number;
  readonly unimplemented: ReadonlyMap<number, number>;
  /** Most RAM in use at once, in bytes. */
  readonly peakMemory: number;
}

/** The program could not be started. `code` is the errno name (ENOENT, ENOEXEC, EACCES, ENOMEM, …). */
export class ProcessVmError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "ProcessVmError";
    this.code = code;
  }
}

const MAX_MEMORY = 2 * 1024 ** 3;

/** stdio kept in memory: stdin from a buffer, stdout and stderr collected. */
export class BufferStdio implements StdioHost {
  private input: Uint8Array;
  private readonly out: Uint8Array[][] = [[], [], []];
  constructor(stdin: Uint8Array = new Uint8Array(0)) {
    this.input = stdin;
  }
  readStdin(max: number): Uint8Array | null {
    const n = Math.min(max, this.input.length);
    const r = this.input.slice(0, n);
    this.input = this.input.subarray(n);
    return r;
  }
  write(fd: number, data: Uint8Array): number {
    this.out[fd]?.push(data.slice());
    return data.length;
  }
  isatty(_fd: number): boolean {
    return false;
  }
  winsize(): null {
    return null;
  }
  setRaw(_raw: boolean): void {}
  onInput(_cb: () => void): void {}
  inputEnded(): boolean {
    return true;
  }
  /** Everything written to fd 1 or 2 so far. */
  output(fd: number): Uint8Array {
    const parts = this.out[fd] ?? [];
    const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  }
}

/** Host stdio that can also tell when input arrives (ProcessVm waits for it instead of polling). */
interface WaitableStdio extends StdioHost {
  onInput?(cb: () => void): void;
  inputEnded?(): boolean;
}

const defaultClock: Clock = {
  realtimeNs: () => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6)),
  monotonicNs: () => BigInt(Math.round(performance.now() * 1e6)),
};

function defaultRandom(buf: Uint8Array): void {
  for (let i = 0; i < buf.length; i += 65536) crypto.getRandomValues(buf.subarray(i, Math.min(buf.length, i + 65536)));
}

export class ProcessVm {
  readonly kernel: Kernel;
  private readonly opts: ProcessVmOptions;
  private readonly stdio: WaitableStdio;
  private readonly captured: BufferStdio | null;
  private wake: (() => void) | null = null;
  private started = false;

  constructor(opts: ProcessVmOptions) {
    if (opts.argv.length === 0) throw new ProcessVmError("EINVAL", "argv must name the program");
    const memory = opts.memory ?? 256 * 1024 * 1024;
    if (!(memory >= 1024 * 1024 && memory <= MAX_MEMORY)) {
      throw new ProcessVmError("EINVAL", `memory must be between 1 MiB and 2 GiB, not ${memory}`);
    }
    this.opts = opts;
    const stdin = typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin;
    this.captured = opts.stdio === undefined ? new BufferStdio(stdin) : null;
    this.stdio = opts.stdio ?? this.captured!;
    this.stdio.onInput?.(() => this.wakeUp());
    let fs = opts.fs ?? new MemFs();
    const path = opts.path ?? opts.argv[0]!;
    if (opts.program !== undefined) fs = withProgram(fs, path, opts.program);
    this.kernel = new Kernel({
      memory,
      fs,
      sysroot: opts.sysroot ?? null,
      stdio: this.stdio,
      clock: opts.clock ?? defaultClock,
      random: opts.random ?? defaultRandom,
      strace: opts.strace ?? null,
      cwd: opts.cwd ?? "/",
    });
    if (opts.maxInstructions !== undefined) this.kernel.maxInsns = opts.maxInstructions;
  }

  /** Deliver `sig` to the foreground process group (the CLI forwards SIGINT, SIGTERM, …). */
  signal(sig: number): void {
    this.kernel.signalPgrp(this.kernel.term.pgrp, sig);
    this.wakeUp();
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Run the program to its end. Throws ProcessVmError if it cannot be started. */
  async run(): Promise<ProcessVmResult> {
    if (this.started) throw new ProcessVmError("EBUSY", "a ProcessVm runs once");
    this.started = true;
    const k = this.kernel;
    const path = this.opts.path ?? this.opts.argv[0]!;
    const r = k.spawn(path, [...this.opts.argv], [...(this.opts.env ?? [])]);
    if (r < 0) {
      const name = Object.entries(E).find(([, v]) => v === -r)?.[0] ?? String(-r);
      throw new ProcessVmError(`E${name}`, `cannot run ${path}: ${EXEC_ERRORS[-r] ?? `error E${name}`}`);
    }
    let exit: KernelExit;
    for (;;) {
      const next = k.runFor(25);
      if (k.result !== null) {
        exit = k.result;
        break;
      }
      if (next < 0) {
        await macrotask();
        continue;
      }
      const now = k.nowMs();
      const io = k.waitingForIo() && !(this.stdio.inputEnded?.() ?? false);
      if (next === Number.POSITIVE_INFINITY && !io && !k.waitingForIo()) {
        exit = { kind: "deadlock" };
        break;
      }
      if (next === Number.POSITIVE_INFINITY && !io) {
        // Waiting threads retry once more; if nothing moves after that, nothing ever will.
        k.kick();
        const again = k.runFor(25);
        if (k.result !== null) {
          exit = k.result;
          break;
        }
        if (again === Number.POSITIVE_INFINITY && !this.progressed(k)) {
          exit = { kind: "deadlock" };
          break;
        }
        await macrotask();
        continue;
      }
      await new Promise<void>((resolve) => {
        const ms = Math.max(0, Math.min(next - now, 2 ** 31 - 1));
        const timer = Number.isFinite(ms) ? setTimeout(resolve, ms) : null;
        this.wake = () => {
          if (timer !== null) clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
      k.kick();
    }
    return {
      exit,
      stdout: this.captured?.output(1) ?? new Uint8Array(0),
      stderr: this.captured?.output(2) ?? new Uint8Array(0),
      instructions: k.insns,
      syscalls: k.syscalls,
      unimplemented: k.unimplemented,
      peakMemory: k.phys.peak * 4096,
    };
  }

  private lastSyscalls = -1;
  private progressed(k: Kernel): boolean {
    const moved = k.progress !== this.lastSyscalls;
    this.lastSyscalls = k.progress;
    return moved;
  }
}

const EXEC_ERRORS: Record<number, string> = {
  [E.NOENT]: "no such file (or its program interpreter is missing: give a sysroot)",
  [E.NOEXEC]: "not a RISC-V 64-bit Linux executable",
  [E.ACCES]: "permission denied (not a regular executable file)",
  [E.NOMEM]: "does not fit in the memory limit",
  [E.TOOBIG]: "argument list too long",
  [E.NOTDIR]: "a component of the path is not a directory",
  [E.LOOP]: "too many symbolic links",
};

/** Yield to the host's event loop (input, timers, signals) between scheduling rounds. */
function macrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** `fs` with one more executable file at `path` (the program given as bytes). */
function withProgram(fs: FileSystem, path: string, program: Uint8Array): FileSystem {
  const bytes = program.slice();
  const st = {
    dev: 1,
    ino: 1n,
    mode: 0o100755,
    nlink: 1,
    uid: 0,
    gid: 0,
    rdev: 0,
    size: bytes.length,
    blksize: 4096,
    blocks: Math.ceil(bytes.length / 512),
    atimeNs: 0n,
    mtimeNs: 0n,
    ctimeNs: 0n,
  };
  const norm = `/${path
    .split("/")
    .filter((c) => c.length > 0 && c !== ".")
    .join("/")}`;
  const wrapped: FileSystem = Object.create(fs);
  // The program's directories exist even when `fs` lacks them (an empty MemFs).
  const dirs = new Set<string>();
  for (let d = norm.slice(0, norm.lastIndexOf("/")); d.length > 0; d = d.slice(0, d.lastIndexOf("/"))) dirs.add(d);
  wrapped.lstat = (p) => {
    if (p === norm) return { ...st };
    const r = fs.lstat(p);
    return typeof r === "number" && dirs.has(p) ? { ...st, ino: 2n, mode: 0o40755, size: 4096 } : r;
  };
  wrapped.open = (p, flags, mode) => {
    if (p !== norm) return fs.open(p, flags, mode);
    if ((flags & 3) !== 0) return -E.TXTBSY;
    return {
      pread: (buf, pos) => {
        const n = Math.max(0, Math.min(buf.length, bytes.length - pos));
        buf.set(bytes.subarray(pos, pos + n));
        return n;
      },
      pwrite: () => -E.BADF,
      fstat: () => ({ ...st }),
      ftruncate: () => -E.INVAL,
      fsync: () => 0,
      close: () => {},
    };
  };
  for (const m of [
    "readlink",
    "readdir",
    "mkdir",
    "rmdir",
    "unlink",
    "rename",
    "link",
    "symlink",
    "chmod",
    "utimens",
    "truncate",
  ] as const) {
    (wrapped as unknown as Record<string, unknown>)[m] = (fs[m] as (...a: unknown[]) => unknown).bind(fs);
  }
  return wrapped;
}
