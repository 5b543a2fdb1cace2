/**
 * The process VM's kernel: processes and threads interleaved on one hart, the trap path (ecall, page faults and
 * illegal instructions from U-mode reach it through an M-mode `wfi` at mtvec, which makes Hart.run return), signal
 * delivery with Linux's riscv64 rt_sigframe (arch/riscv/kernel/signal.c), execve through the ELF loader and the
 * initial stack, and the scheduler. System calls themselves are in syscalls.ts and sys-files.ts.
 *
 * The program runs in U-mode with Sv39 page tables the kernel keeps in guest RAM (memory.ts); each process has its own
 * ASID. Left out: job-control stops (SIGSTOP/SIGTSTP are ignored), real-time signal queues (one pending instance per
 * signal), itimers other than alarm, ptrace, namespaces, credentials other than uid 0.
 */
import { Exit, Hart } from "../cpu/hart.ts";
import { CsrSlot, RAM_OFFSET } from "../cpu/layout.ts";
import { LoadError } from "../firmware/elf.ts";
import { Cause } from "../isa/csr.ts";
import { Bus } from "../mem/bus.ts";
import {
  AT,
  CLD_DUMPED,
  CLD_EXITED,
  CLD_KILLED,
  E,
  ILL_ILLOPC,
  MAP_PRIVATE,
  NSIG,
  PROT_READ,
  PROT_WRITE,
  SA_NODEFER,
  SA_ONSTACK,
  SA_RESETHAND,
  SA_RESTART,
  SEGV_ACCERR,
  SEGV_MAPERR,
  SIG,
  SIG_DFL,
  SIG_IGN,
} from "./abi.ts";
import { ET_DYN_BASE, loadElf, parseExecElf } from "./elf-exec.ts";
import { DevFile, FdTable, StdioFile, type StdioHost, Terminal, WOULD_BLOCK } from "./files.ts";
import { AddressSpace, Fault, PAGE, PhysMem, type TlbControl, USER_TOP } from "./memory.ts";
import { buildStack } from "./stack.ts";
import { syscall } from "./syscalls.ts";
import { type FileSystem, resolvePath } from "./vfs.ts";

/** Physical base of the process VM's RAM. */
const RAM_BASE = 0x8000_0000;
const WASM_PAGE = 65536;
/** Stack: 8 MiB below the top of the Sv39 user half (Linux: STACK_TOP = TASK_SIZE). */
export const STACK_TOP = USER_TOP;
export const STACK_SIZE = 8 * 1024 * 1024;
/** mmap placement starts 128 MiB below the stack top (Linux's minimum gap), below the signal trampoline page. */
export const MMAP_BASE = USER_TOP - 128 * 1024 * 1024;
export const TRAMPOLINE = MMAP_BASE - PAGE;
/** Instructions a thread runs before the scheduler looks at the others. */
const SLICE = 200_000;
/** riscv hwcap: one bit per single-letter extension, IMAFDC. */
const HWCAP = ["I", "M", "A", "F", "D", "C"].reduce((a, c) => a | (1 << (c.charCodeAt(0) - 65)), 0);
/** Syscall return value meaning "the handler set up the thread itself" (blocked, exec'd, exited, sigreturn). */
export const NO_RETURN = -4096;

export interface Clock {
  /** CLOCK_REALTIME in ns. */
  realtimeNs(): bigint;
  /** CLOCK_MONOTONIC in ns. */
  monotonicNs(): bigint;
}

export interface KernelOptions {
  /** Guest RAM in bytes (the memory cap): page tables and every page of every process. */
  readonly memory: number;
  readonly fs: FileSystem;
  /** Tried first for absolute paths, as qemu-user's -L prefix. */
  readonly sysroot: FileSystem | null;
  readonly stdio: StdioHost;
  readonly clock: Clock;
  readonly random: (buf: Uint8Array) => void;
  /** Called with each line of --strace output. */
  readonly strace: ((line: string) => void) | null;
  readonly cwd: string;
}

/** How a thread waits. */
export const WaitKind = { Retry: 0, Futex: 1, Signal: 2, Vfork: 3 } as const;

export interface SigAction {
  handler: bigint;
  flags: number;
  mask: bigint;
}

/** Signal dispositions (shared by threads of a process; CLONE_SIGHAND). */
export class SigHand {
  readonly actions: SigAction[] = Array.from({ length: NSIG + 1 }, () => ({ handler: SIG_DFL, flags: 0, mask: 0n }));
  clone(): SigHand {
    const s = new SigHand();
    this.actions.forEach((a, i) => {
      s.actions[i] = { ...a };
    });
    return s;
  }
}

/** Information about a pending signal (siginfo fields). */
export interface SigInfo {
  signo: number;
  code: number;
  pid: number;
  uid: number;
  addr: number;
  status: number;
}

export class Thread {
  readonly tid: number;
  proc: Process;
  readonly x = new BigInt64Array(32);
  readonly f = new BigInt64Array(32);
  fcsr = 0n;
  pc = 0n;
  sigmask = 0n;
  /** Thread-directed pending signals (tgkill, faults). */
  pending = 0n;
  readonly info = new Map<number, SigInfo>();
  /** 0 runnable, 1 blocked, 2 dead. */
  state = 0;
  waitKind = 0;
  deadline = Number.POSITIVE_INFINITY;
  /** The current system call is being retried after a wait (timeouts keep their first deadline). */
  retrying = false;
  futexKey = "";
  futexBitset = 0;
  clearChildTid = 0;
  robustList = 0;
  altSp = 0;
  altSize = 0;
  altFlags = 2; // SS_DISABLE
  /** Saved mask to restore after rt_sigsuspend / ppoll with a mask. */
  savedMask: bigint | null = null;
  constructor(tid: number, proc: Process) {
    this.tid = tid;
    this.proc = proc;
  }
}

export class FsInfo {
  cwd: string;
  umask = 0o022;
  constructor(cwd: string) {
    this.cwd = cwd;
  }
}

export class Process {
  readonly pid: number;
  parent: Process | null;
  pgid: number;
  sid: number;
  mm: AddressSpace;
  fds: FdTable;
  fsInfo: FsInfo;
  sighand: SigHand;
  readonly threads: Thread[] = [];
  readonly children: Process[] = [];
  pending = 0n;
  readonly info = new Map<number, SigInfo>();
  /** wait status once a zombie, else null. */
  wstatus: number | null = null;
  /** Signal sent to the parent on exit (SIGCHLD unless clone said otherwise). */
  exitSignal: number = SIG.CHLD;
  exe = "";
  argv: string[] = [];
  /** A vfork child: the parent thread waits until this process execs or exits. */
  vforkParent: Thread | null = null;
  readonly startNs: bigint;
  alarmAt = Number.POSITIVE_INFINITY;
  /** Instructions retired by this process's threads (for getrusage/times). */
  insns = 0;
  constructor(
    pid: number,
    parent: Process | null,
    mm: AddressSpace,
    fds: FdTable,
    fsInfo: FsInfo,
    sh: SigHand,
    t0: bigint,
  ) {
    this.pid = pid;
    this.parent = parent;
    this.pgid = parent?.pgid ?? pid;
    this.sid = parent?.sid ?? pid;
    this.mm = mm;
    this.fds = fds;
    this.fsInfo = fsInfo;
    this.sighand = sh;
    this.startNs = t0;
  }
  get alive(): boolean {
    return this.wstatus === null;
  }
}

/** Why the VM stopped. */
export type KernelExit =
  | { readonly kind: "exit"; readonly code: number }
  | { readonly kind: "signal"; readonly signal: number; readonly core: boolean }
  | { readonly kind: "limit"; readonly limit: "instructions" | "memory" }
  | { readonly kind: "deadlock" };

export class Kernel {
  readonly opts: KernelOptions;
  readonly memory: WebAssembly.Memory;
  readonly hart: Hart;
  readonly phys: PhysMem;
  readonly term = new Terminal();
  readonly threads: Thread[] = [];
  readonly procs = new Map<number, Process>();
  readonly futexes = new Map<string, Thread[]>();
  init: Process | null = null;
  current: Thread | null = null;
  private loadedMm: AddressSpace | null = null;
  private nextPid = 100;
  private nextAsid = 1;
  private readonly freeAsids: number[] = [];
  private rr = 0;
  /** Frame holding the signal-return trampoline. */
  private readonly trampFrame: number;
  /** sched_yield asked to end the current thread's slice. */
  yieldNow = false;
  /** Total instructions run (all threads). */
  insns = 0;
  /** Instruction budget (Infinity: none). */
  maxInsns = Number.POSITIVE_INFINITY;
  result: KernelExit | null = null;
  readonly tlb: TlbControl;
  /** Unimplemented system calls seen (number → count), for the ENOSYS report. */
  readonly unimplemented = new Map<number, number>();
  readonly t0: bigint;
  syscalls = 0;
  /** System calls that completed (not parked again): the deadlock check watches it. */
  progress = 0;
  private readonly exeCache = new Map<string, { fs: FileSystem; ino: bigint; mtimeNs: bigint; bytes: Uint8Array }>();

  constructor(opts: KernelOptions) {
    this.opts = opts;
    const ramSize = Math.ceil(opts.memory / PAGE) * PAGE;
    const pages = Math.ceil((RAM_OFFSET + ramSize) / WASM_PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const start = performance.now();
    this.hart = new Hart({
      memory: this.memory,
      hartId: 0,
      ramBase: RAM_BASE,
      ramSize,
      bus: new Bus(),
      timeSource: () => BigInt(Math.floor((performance.now() - start) * 10_000)),
    });
    this.phys = new PhysMem(this.memory.buffer, RAM_OFFSET, RAM_BASE, ramSize);
    this.phys.onWrite = (off, len) => this.hart.ramWritten(off, len);
    this.t0 = opts.clock.monotonicNs();
    const hart = this.hart;
    this.tlb = {
      flushPage: (va) => hart.mmu.sfenceVma(true, va, false, 0),
      flushAll: () => hart.flushTlb(),
    };
    // The trap vector: a frame holding `wfi`, run in M-mode (physical fetch); it makes Hart.run return Exit.Wfi.
    const vec = this.phys.alloc();
    new DataView(this.phys.u8.buffer, this.phys.u8.byteOffset + vec * PAGE).setUint32(0, 0x10500073, true);
    // The signal trampoline (Linux's vDSO __vdso_rt_sigreturn): li a7, 139; ecall.
    this.trampFrame = this.phys.alloc();
    const tv = new DataView(this.phys.u8.buffer, this.phys.u8.byteOffset + this.trampFrame * PAGE);
    tv.setUint32(0, 0x08b00893, true);
    tv.setUint32(4, 0x00000073, true);
    const csr = hart.csr;
    csr[CsrSlot.mtvec] = BigInt(RAM_BASE + vec * PAGE);
    // U-mode may read cycle, time and instret; FP on (mstatus.FS = Initial); PMP entry 0 allows all (NAPOT).
    csr[CsrSlot.mcounteren] = 7n;
    csr[CsrSlot.scounteren] = 7n;
    csr[CsrSlot.mstatus] = csr[CsrSlot.mstatus]! | (1n << 13n);
    hart.writePmp(0x3b0, (1n << 54n) - 1n);
    hart.writePmp(0x3a0, 0x1fn);
    hart.priv = 0;
  }

  // ---- Processes ----

  allocPid(): number {
    while (this.procs.has(this.nextPid) || this.threads.some((t) => t.tid === this.nextPid)) this.nextPid++;
    return this.nextPid++;
  }

  newMm(): AddressSpace | null {
    const asid = this.freeAsids.pop() ?? this.nextAsid++;
    const mm = AddressSpace.create(this.phys, asid);
    if (mm === null) return null;
    mm.mmapBase = TRAMPOLINE;
    mm.mapFixedFrame(TRAMPOLINE, this.trampFrame, "[vdso]");
    return mm;
  }

  forkMm(src: AddressSpace): AddressSpace | null {
    const asid = this.freeAsids.pop() ?? this.nextAsid++;
    if (this.loadedMm === src) src.tlb = this.tlb;
    return src.fork(asid);
  }

  /** Drop an address space no process uses any more. */
  releaseMm(mm: AddressSpace): void {
    for (const p of this.procs.values()) if (p.mm === mm && p.alive) return;
    if (this.loadedMm === mm) this.loadedMm = null;
    mm.destroy();
    // Its ASID may still tag TLB entries: drop them all before the ASID is used again.
    this.hart.flushTlb();
    this.freeAsids.push(mm.asid);
  }

  /** Start the first process: `exec` of `path` with argv/envp. Returns an errno (negative) or 0. */
  spawn(path: string, argv: string[], envp: string[]): number {
    const mm = this.newMm();
    if (mm === null) return -E.NOMEM;
    const fds = new FdTable();
    for (let fd = 0; fd < 3; fd++) {
      const f = new StdioFile(this.opts.stdio, fd, this.term);
      f.onSignal = (sig) => this.signalPgrp(this.term.pgrp, sig);
      fds.set(fd, f, false);
    }
    const pid = this.allocPid();
    const p = new Process(pid, null, mm, fds, new FsInfo(this.opts.cwd), new SigHand(), this.opts.clock.monotonicNs());
    this.term.pgrp = pid;
    this.term.sid = pid;
    const t = new Thread(pid, p);
    p.threads.push(t);
    this.procs.set(pid, p);
    this.threads.push(t);
    this.init = p;
    const enc = new TextEncoder();
    const r = this.execve(
      t,
      path,
      argv.map((a) => enc.encode(a)),
      envp.map((e) => enc.encode(e)),
    );
    if (r < 0) {
      this.procs.delete(pid);
      this.threads.length = 0;
      mm.destroy();
      return r;
    }
    return 0;
  }

  /** A device file for /dev paths the kernel provides itself, or null. */
  devFile(path: string, flags: number): DevFile | null {
    const m = /^\/dev\/(null|zero|full|random|urandom)$/.exec(path);
    return m === null ? null : new DevFile(m[1] as DevFile["dev"], flags, this.opts.random);
  }

  /** Which file system serves absolute guest path `path` (the sysroot first, if it has it). */
  fsFor(path: string, cwd: string, follow: boolean): { fs: FileSystem; path: string } | number {
    const sys = this.opts.sysroot;
    if (sys !== null && path.startsWith("/")) {
      const r = resolvePath(sys, "/", path, follow);
      if (typeof r === "string" && typeof sys.lstat(r) !== "number") return { fs: sys, path: r };
    }
    const r = resolvePath(this.opts.fs, cwd, path, follow);
    return typeof r === "number" ? r : { fs: this.opts.fs, path: r };
  }

  /** Read a whole file for exec. */
  private readExe(path: string, cwd: string): { bytes: Uint8Array; path: string } | number {
    const loc = this.fsFor(path, cwd, true);
    if (typeof loc === "number") return loc;
    const st = loc.fs.lstat(loc.path);
    if (typeof st === "number") return st;
    if ((st.mode & 0o170000) === 0o040000) return -E.ACCES;
    if ((st.mode & 0o170000) !== 0o100000) return -E.ACCES;
    if ((st.mode & 0o111) === 0) return -E.ACCES;
    // Programs are exec'd again and again (a shell's children): keep the bytes while the file is unchanged.
    const cached = this.exeCache.get(loc.path);
    if (
      cached !== undefined &&
      cached.fs === loc.fs &&
      cached.ino === st.ino &&
      cached.mtimeNs === st.mtimeNs &&
      cached.bytes.length === st.size
    ) {
      return { bytes: cached.bytes, path: loc.path };
    }
    const h = loc.fs.open(loc.path, 0, 0);
    if (typeof h === "number") return h;
    const bytes = new Uint8Array(st.size);
    let done = 0;
    while (done < st.size) {
      const n = h.pread(bytes.subarray(done), done);
      if (n <= 0) break;
      done += n;
    }
    h.close();
    if (done === st.size && st.size <= 64 * 1024 * 1024) {
      if (this.exeCache.size >= 16) this.exeCache.clear();
      this.exeCache.set(loc.path, { fs: loc.fs, ino: st.ino, mtimeNs: st.mtimeNs, bytes });
    }
    return { bytes: bytes.subarray(0, done), path: loc.path };
  }

  /**
   * execve: load `path` into a fresh address space and start thread `t` there. On success the old image is gone
   * (other threads killed, close-on-exec descriptors closed, handlers reset) and 0 is returned; else -errno and
   * nothing changed.
   */
  execve(t: Thread, path: string, argv: Uint8Array[], envp: Uint8Array[], depth = 0): number {
    const p = t.proc;
    const exe = this.readExe(path, p.fsInfo.cwd);
    if (typeof exe === "number") return exe;
    let bytes = exe.bytes;
    // #! scripts: the interpreter gets [interp, optional-arg, path, argv[1..]] (fs/binfmt_script.c).
    if (bytes[0] === 0x23 && bytes[1] === 0x21) {
      if (depth > 4) return -E.LOOP;
      let end = bytes.indexOf(10);
      if (end < 0) end = Math.min(bytes.length, 256);
      const line = new TextDecoder().decode(bytes.subarray(2, end)).trim();
      const m = /^(\S+)(?:\s+(.*))?$/.exec(line);
      if (m === null) return -E.NOEXEC;
      const enc = new TextEncoder();
      const nargv: Uint8Array[] = [enc.encode(m[1]!)];
      if (m[2] !== undefined && m[2].length > 0) nargv.push(enc.encode(m[2]));
      nargv.push(enc.encode(path), ...argv.slice(1));
      return this.execve(t, m[1]!, nargv, envp, depth + 1);
    }
    let elf: ReturnType<typeof parseExecElf>;
    let interp: ReturnType<typeof parseExecElf> | null = null;
    try {
      elf = parseExecElf(bytes);
      if (elf.interp !== null) {
        const ie = this.readExe(elf.interp, "/");
        if (typeof ie === "number") return ie === -E.ACCES ? -E.ACCES : -E.NOENT;
        interp = parseExecElf(ie.bytes);
      }
    } catch (e) {
      if (e instanceof LoadError) return -E.NOEXEC;
      throw e;
    }
    bytes = new Uint8Array(0);
    const mm = this.newMm();
    if (mm === null) return -E.NOMEM;
    const main = loadElf(mm, elf, ET_DYN_BASE);
    if (main === null) {
      mm.destroy();
      return -E.NOMEM;
    }
    let base = 0;
    let entry = main.entry;
    if (interp !== null) {
      const li = loadElf(mm, interp, null);
      if (li === null) {
        mm.destroy();
        return -E.NOMEM;
      }
      base = li.bias;
      entry = li.entry;
    }
    mm.brkStart = mm.brk = Math.ceil(main.end / PAGE) * PAGE;
    mm.map(STACK_TOP - STACK_SIZE, STACK_TOP, PROT_READ | PROT_WRITE, MAP_PRIVATE, null, "[stack]");
    const random = new Uint8Array(16);
    this.opts.random(random);
    let stack: ReturnType<typeof buildStack>;
    try {
      stack = buildStack({
        top: STACK_TOP,
        argv,
        envp,
        execfn: new TextEncoder().encode(path),
        random,
        auxv: [
          [AT.HWCAP, HWCAP],
          [AT.PAGESZ, PAGE],
          [AT.CLKTCK, 100],
          [AT.PHDR, main.phdr],
          [AT.PHENT, 56],
          [AT.PHNUM, elf.phnum],
          [AT.BASE, base],
          [AT.FLAGS, 0],
          [AT.ENTRY, main.entry],
          [AT.UID, 0],
          [AT.EUID, 0],
          [AT.GID, 0],
          [AT.EGID, 0],
          [AT.SECURE, 0],
        ],
      });
    } catch {
      mm.destroy();
      return -E.TOOBIG;
    }
    if (!mm.write(stack.base, stack.bytes)) {
      mm.destroy();
      return -E.NOMEM;
    }
    // Point of no return: the new image replaces the old one.
    for (const o of [...p.threads]) if (o !== t) this.killThread(o);
    p.threads.length = 0;
    p.threads.push(t);
    const old = p.mm;
    p.mm = mm;
    if (old !== mm) this.releaseMm(old);
    if (this.loadedMm === old) this.loadedMm = null;
    p.fds.closeOnExec();
    for (const a of p.sighand.actions) {
      if (a.handler !== SIG_IGN) a.handler = SIG_DFL;
      a.flags = 0;
      a.mask = 0n;
    }
    const dec = new TextDecoder();
    p.exe = exe.path;
    p.argv = argv.map((a) => dec.decode(a));
    t.x.fill(0n);
    t.f.fill(0n);
    t.fcsr = 0n;
    t.x[2] = BigInt(stack.sp);
    t.pc = BigInt(entry);
    t.clearChildTid = 0;
    t.altFlags = 2;
    t.altSp = 0;
    t.altSize = 0;
    if (this.current === t) this.loadRegs(t);
    if (p.vforkParent !== null) this.releaseVfork(p);
    return 0;
  }

  releaseVfork(p: Process): void {
    const pt = p.vforkParent;
    p.vforkParent = null;
    if (pt !== null && pt.state === 1 && pt.waitKind === WaitKind.Vfork) {
      this.complete(pt, p.pid);
    }
  }

  // ---- Thread context on the hart ----

  loadRegs(t: Thread): void {
    const h = this.hart;
    h.x.set(t.x, 0);
    h.x[0] = 0n;
    h.f.set(t.f, 0);
    h.csr[CsrSlot.fcsr] = t.fcsr;
    h.csr[CsrSlot.loadRes] = -1n;
    const mm = t.proc.mm;
    if (this.loadedMm !== mm) {
      if (this.loadedMm !== null) this.loadedMm.tlb = null;
      h.csr[CsrSlot.satp] = h.writeSatp(mm.satp());
      mm.tlb = this.tlb;
      this.loadedMm = mm;
    }
  }

  saveRegs(t: Thread): void {
    const h = this.hart;
    t.x.set(h.x.subarray(0, 32), 0);
    t.f.set(h.f, 0);
    t.fcsr = h.csr[CsrSlot.fcsr]!;
  }

  /** Registers of `t`, wherever they live now (the hart for the current thread). */
  regs(t: Thread): BigInt64Array {
    return t === this.current ? this.hart.x : t.x;
  }

  /** Finish `t`'s blocked system call with `ret` (a0), moving past the ecall. */
  complete(t: Thread, ret: number): void {
    this.regs(t)[10] = BigInt(ret);
    t.pc += 4n;
    t.state = 0;
    t.retrying = false;
    t.deadline = Number.POSITIVE_INFINITY;
    if (t.savedMask !== null && ret !== -E.INTR) {
      t.sigmask = t.savedMask;
      t.savedMask = null;
    }
  }

  /** Park `t` in its current system call (to be retried on a wake-up, or completed by whoever wakes it). */
  block(t: Thread, kind: number, deadline: number): number {
    t.state = 1;
    t.waitKind = kind;
    t.deadline = deadline;
    return NO_RETURN;
  }

  /** Something changed (pipe data, a child exited, input arrived): retry every thread parked for a retry. */
  kick(): void {
    for (const t of this.threads) {
      if (t.state === 1 && t.waitKind === WaitKind.Retry) {
        t.state = 0;
        t.retrying = true;
      }
    }
  }

  nowMs(): number {
    return Number(this.opts.clock.monotonicNs() / 1000n) / 1000;
  }

  // ---- Scheduling ----

  /**
   * Run threads until none is runnable or about `ms` milliseconds have passed. Returns the earliest deadline of a
   * waiting thread (ms, monotonic; Infinity when none), or -1 when some thread is still runnable.
   */
  runFor(ms: number): number {
    const until = this.nowMs() + ms;
    for (;;) {
      if (this.result !== null) return -1;
      this.wakeTimers();
      const t = this.pick();
      if (t === null) break;
      this.runThread(t);
      if (this.nowMs() >= until) return -1;
    }
    if (this.result !== null) return -1;
    let next = Number.POSITIVE_INFINITY;
    for (const t of this.threads) if (t.state === 1) next = Math.min(next, t.deadline);
    for (const p of this.procs.values()) if (p.alive) next = Math.min(next, p.alarmAt);
    return next;
  }

  /** Whether a thread waits for host input (so the VM should wait for it rather than report a deadlock). */
  waitingForIo(): boolean {
    return this.threads.some((t) => t.state === 1 && t.waitKind !== WaitKind.Futex && t.waitKind !== WaitKind.Vfork);
  }

  private wakeTimers(): void {
    const now = this.nowMs();
    for (const p of this.procs.values()) {
      if (p.alive && p.alarmAt <= now) {
        p.alarmAt = Number.POSITIVE_INFINITY;
        this.sendProc(p, SIG.ALRM, { signo: SIG.ALRM, code: 0x80, pid: 0, uid: 0, addr: 0, status: 0 });
      }
    }
    for (const t of this.threads) {
      if (t.state === 1 && t.deadline <= now) {
        if (t.waitKind === WaitKind.Futex) {
          this.unqueueFutex(t);
          this.complete(t, -E.TIMEDOUT);
        } else {
          t.state = 0;
          t.retrying = true;
        }
      }
    }
  }

  private pick(): Thread | null {
    const n = this.threads.length;
    for (let i = 0; i < n; i++) {
      const t = this.threads[(this.rr + i) % n]!;
      if (t.state === 0) {
        this.rr = (this.rr + i + 1) % n;
        return t;
      }
    }
    return null;
  }

  private runThread(t: Thread): void {
    const h = this.hart;
    if (this.current !== t) {
      if (this.current !== null && this.current.state !== 2) this.saveRegs(this.current);
      this.current = t;
      this.loadRegs(t);
    }
    this.deliverSignals(t);
    let left = SLICE;
    this.yieldNow = false;
    while (left > 0 && t.state === 0 && this.result === null && this.current === t && !this.yieldNow) {
      const budget = Math.min(left, this.maxInsns - this.insns);
      if (budget <= 0) {
        this.finish({ kind: "limit", limit: "instructions" });
        return;
      }
      h.priv = 0;
      h.pc = t.pc;
      let r = h.run(budget);
      let steps = h.lastRunSteps;
      if (r !== Exit.Wfi && h.priv === 3) {
        // The budget ran out between taking a trap and the vector's wfi: finish that one instruction.
        r = h.run(1);
        steps += h.lastRunSteps;
      }
      left -= steps;
      this.insns += steps;
      t.proc.insns += steps;
      if (r !== Exit.Wfi) {
        t.pc = h.pc;
        continue;
      }
      const cause = Number(h.csr[CsrSlot.mcause]!);
      t.pc = h.csr[CsrSlot.mepc]!;
      this.handleTrap(t, cause, h.csr[CsrSlot.mtval]!);
      if (t.state === 0 && this.current === t) this.deliverSignals(t);
    }
  }

  private handleTrap(t: Thread, cause: number, tval: bigint): void {
    if (cause === Cause.EcallFromU) {
      const nr = Number(this.hart.x[17]!);
      this.syscalls++;
      const ret = syscall(this, t, nr);
      if (ret !== NO_RETURN) {
        this.hart.x[10] = BigInt(ret);
        t.pc += 4n;
        t.retrying = false;
      }
      return;
    }
    const va = Number(BigInt.asIntN(64, tval));
    if (cause === Cause.LoadPageFault || cause === Cause.StorePageFault || cause === Cause.InstructionPageFault) {
      const access = cause === Cause.InstructionPageFault ? 0 : cause === Cause.LoadPageFault ? 1 : 2;
      const r = va >= 0 && va < USER_TOP ? t.proc.mm.fault(va, access) : Fault.MapErr;
      if (r === Fault.Ok) return;
      if (r === Fault.NoMem) {
        this.finish({ kind: "limit", limit: "memory" });
        return;
      }
      this.force(t, SIG.SEGV, r === Fault.AccErr ? SEGV_ACCERR : SEGV_MAPERR, va);
      return;
    }
    if (cause === Cause.IllegalInstruction) this.force(t, SIG.ILL, ILL_ILLOPC, Number(t.pc));
    else if (cause === Cause.Breakpoint) this.force(t, SIG.TRAP, 1, Number(t.pc));
    else if (cause === Cause.LoadAddressMisaligned || cause === Cause.StoreAddressMisaligned) {
      this.force(t, SIG.BUS, 1, va);
    } else this.force(t, SIG.SEGV, SEGV_MAPERR, va);
  }

  /** A synchronous fault signal: unblocked and with the default action if blocked or ignored (force_sig_fault). */
  private force(t: Thread, sig: number, code: number, addr: number): void {
    this.opts.strace?.(
      `[pid ${t.tid}] --- signal ${sig} {si_code=${code}, si_addr=0x${addr.toString(16)}} at pc=0x${t.pc.toString(16)} ---`,
    );
    const act = t.proc.sighand.actions[sig]!;
    const bit = 1n << BigInt(sig - 1);
    if ((t.sigmask & bit) !== 0n || act.handler === SIG_IGN) {
      t.sigmask &= ~bit;
      act.handler = SIG_DFL;
    }
    t.pending |= bit;
    t.info.set(sig, { signo: sig, code, pid: 0, uid: 0, addr, status: 0 });
  }

  // ---- Signals ----

  /** Send `sig` to process `p` (kill): delivered to some thread that does not block it. */
  sendProc(p: Process, sig: number, info: SigInfo): void {
    if (!p.alive || sig === 0) return;
    const act = p.sighand.actions[sig]!;
    if (act.handler === SIG_IGN && sig !== SIG.KILL) return;
    if (act.handler === SIG_DFL && isDefaultIgnored(sig)) return;
    p.pending |= 1n << BigInt(sig - 1);
    if (!p.info.has(sig)) p.info.set(sig, info);
    this.interruptFor(p);
  }

  /** Send `sig` to thread `t` (tgkill). */
  sendThread(t: Thread, sig: number, info: SigInfo): void {
    if (t.state === 2 || sig === 0) return;
    const act = t.proc.sighand.actions[sig]!;
    if (act.handler === SIG_IGN && sig !== SIG.KILL) return;
    if (act.handler === SIG_DFL && isDefaultIgnored(sig)) return;
    t.pending |= 1n << BigInt(sig - 1);
    if (!t.info.has(sig)) t.info.set(sig, info);
    this.interruptFor(t.proc);
  }

  signalPgrp(pgrp: number, sig: number): void {
    this.opts.strace?.(`--- signal ${sig} to process group ${pgrp} ---`);
    for (const p of this.procs.values()) {
      if (p.alive && p.pgid === pgrp)
        this.sendProc(p, sig, { signo: sig, code: 0x80, pid: 0, uid: 0, addr: 0, status: 0 });
    }
  }

  /** Wake threads of `p` blocked in a system call if a signal is now deliverable to them. */
  private interruptFor(p: Process): void {
    for (const t of p.threads) {
      if (t.state !== 1) continue;
      const deliverable = (t.pending | p.pending) & ~t.sigmask;
      if (deliverable === 0n) continue;
      const sig = lowestSignal(deliverable);
      const act = p.sighand.actions[sig]!;
      if (t.waitKind === WaitKind.Vfork) continue;
      if (t.waitKind === WaitKind.Futex) this.unqueueFutex(t);
      this.interruptSyscall(t, act);
      break;
    }
  }

  /**
   * A handler is about to run while `t` is inside a blocking system call: SA_RESTART restarts reads, writes and
   * waits (the ecall runs again after the handler); sleeps, poll and select, and calls without SA_RESTART, fail with
   * EINTR (signal(7)).
   */
  private interruptSyscall(t: Thread, act: SigAction): void {
    const nr = Number(this.regs(t)[17]!);
    const restartable = t.waitKind === WaitKind.Retry && !NEVER_RESTARTED.has(nr);
    if (restartable && (act.flags & SA_RESTART) !== 0 && act.handler !== SIG_DFL) {
      t.state = 0;
      t.retrying = false;
      t.deadline = Number.POSITIVE_INFINITY;
    } else {
      this.complete(t, -E.INTR);
    }
  }

  /** Deliver pending unblocked signals to `t` (the current thread) before it returns to user mode. */
  deliverSignals(t: Thread): void {
    for (let guard = 0; guard < NSIG && t.state === 0; guard++) {
      const p = t.proc;
      const deliverable = (t.pending | p.pending) & ~t.sigmask;
      if (deliverable === 0n) {
        if (t.savedMask !== null) {
          t.sigmask = t.savedMask;
          t.savedMask = null;
        }
        return;
      }
      const sig = lowestSignal(deliverable);
      const bit = 1n << BigInt(sig - 1);
      let info: SigInfo | undefined;
      if ((t.pending & bit) !== 0n) {
        t.pending &= ~bit;
        info = t.info.get(sig);
        t.info.delete(sig);
      } else {
        p.pending &= ~bit;
        info = p.info.get(sig);
        p.info.delete(sig);
      }
      info ??= { signo: sig, code: 0, pid: 0, uid: 0, addr: 0, status: 0 };
      const act = p.sighand.actions[sig]!;
      if (act.handler === SIG_IGN && sig !== SIG.KILL && sig !== SIG.STOP) continue;
      if (act.handler === SIG_DFL || sig === SIG.KILL || sig === SIG.STOP) {
        if (isDefaultIgnored(sig) || sig === SIG.STOP || sig === SIG.TSTP || sig === SIG.TTIN || sig === SIG.TTOU) {
          continue;
        }
        this.exitGroup(p, sig | (isCoreSignal(sig) ? 0x80 : 0), true);
        return;
      }
      // Parked in a system call that is being retried: the signal interrupts it first.
      if (t.retrying) this.interruptSyscall(t, act);
      if (!this.setupFrame(t, sig, act, info)) {
        this.exitGroup(p, SIG.SEGV | 0x80, true);
        return;
      }
    }
  }

  /** Push an rt_sigframe on the user stack and enter the handler; false if the stack is not writable. */
  private setupFrame(t: Thread, sig: number, act: SigAction, info: SigInfo): boolean {
    const x = this.regs(t);
    let sp = Number(BigInt.asUintN(64, x[2]!));
    const onAlt = t.altFlags !== 2 && sp > t.altSp && sp <= t.altSp + t.altSize;
    if ((act.flags & SA_ONSTACK) !== 0 && t.altFlags !== 2 && !onAlt) sp = t.altSp + t.altSize;
    const FRAME = 128 + 960;
    sp = Math.floor((sp - FRAME) / 16) * 16;
    const frame = new Uint8Array(FRAME);
    const dv = new DataView(frame.buffer);
    // siginfo
    dv.setInt32(0, sig, true);
    dv.setInt32(8, info.code, true);
    if (sig === SIG.SEGV || sig === SIG.BUS || sig === SIG.ILL || sig === SIG.TRAP || sig === SIG.FPE) {
      dv.setBigUint64(16, BigInt.asUintN(64, BigInt(info.addr)), true);
    } else {
      dv.setInt32(16, info.pid, true);
      dv.setInt32(20, info.uid, true);
      dv.setInt32(24, info.status, true);
    }
    // ucontext: uc_flags, uc_link, uc_stack, uc_sigmask, then mcontext at 176 (regs) and 432 (FP).
    const uc = 128;
    dv.setBigUint64(uc + 16, BigInt(t.altSp), true);
    dv.setInt32(uc + 24, t.altFlags === 2 ? 2 : onAlt ? 1 : 0, true);
    dv.setBigUint64(uc + 32, BigInt(t.altSize), true);
    dv.setBigUint64(uc + 40, BigInt.asUintN(64, t.savedMask ?? t.sigmask), true);
    const mc = uc + 176;
    dv.setBigUint64(mc, BigInt.asUintN(64, t.pc), true);
    for (let r = 1; r < 32; r++) dv.setBigUint64(mc + 8 * r, BigInt.asUintN(64, x[r]!), true);
    const fregs = t === this.current ? this.hart.f : t.f;
    for (let r = 0; r < 32; r++) dv.setBigUint64(mc + 256 + 8 * r, BigInt.asUintN(64, fregs[r]!), true);
    const fcsr = t === this.current ? this.hart.csr[CsrSlot.fcsr]! : t.fcsr;
    dv.setUint32(mc + 256 + 256, Number(fcsr & 0xffn), true);
    if (!t.proc.mm.write(sp, frame)) return false;
    if (t.savedMask !== null) {
      t.sigmask = t.savedMask;
      t.savedMask = null;
    }
    x[2] = BigInt(sp);
    x[1] = BigInt(TRAMPOLINE);
    x[10] = BigInt(sig);
    x[11] = BigInt(sp);
    x[12] = BigInt(sp + uc);
    t.pc = act.handler;
    t.sigmask |= act.mask | ((act.flags & SA_NODEFER) !== 0 ? 0n : 1n << BigInt(sig - 1));
    t.sigmask &= ~((1n << BigInt(SIG.KILL - 1)) | (1n << BigInt(SIG.STOP - 1)));
    if ((act.flags & SA_RESETHAND) !== 0) {
      act.handler = SIG_DFL;
      act.flags = 0;
    }
    return true;
  }

  /** rt_sigreturn: restore the context saved by setupFrame. */
  sigreturn(t: Thread): number {
    const x = this.hart.x;
    const sp = Number(BigInt.asUintN(64, x[2]!));
    const frame = t.proc.mm.read(sp, 128 + 960);
    if (frame === null) {
      this.force(t, SIG.SEGV, SEGV_MAPERR, sp);
      return NO_RETURN;
    }
    const dv = new DataView(frame.buffer);
    const uc = 128;
    const mc = uc + 176;
    t.sigmask = dv.getBigUint64(uc + 40, true) & ~((1n << BigInt(SIG.KILL - 1)) | (1n << BigInt(SIG.STOP - 1)));
    t.pc = dv.getBigInt64(mc, true);
    for (let r = 1; r < 32; r++) x[r] = dv.getBigInt64(mc + 8 * r, true);
    for (let r = 0; r < 32; r++) this.hart.f[r] = dv.getBigInt64(mc + 256 + 8 * r, true);
    this.hart.csr[CsrSlot.fcsr] = BigInt(dv.getUint32(mc + 512, true) & 0xff);
    return NO_RETURN;
  }

  // ---- Futex ----

  futexKey(t: Thread, uaddr: number, priv: boolean): string | null {
    if (priv) return `${t.proc.mm.asid}:${uaddr}`;
    const off = t.proc.mm.hostOffset(uaddr, false);
    return off < 0 ? null : `p:${off}`;
  }

  futexWake(key: string, n: number, bitset: number): number {
    const q = this.futexes.get(key);
    if (q === undefined) return 0;
    let woken = 0;
    for (let i = 0; i < q.length && woken < n; ) {
      const w = q[i]!;
      if ((w.futexBitset & bitset) === 0) {
        i++;
        continue;
      }
      q.splice(i, 1);
      this.complete(w, 0);
      woken++;
    }
    if (q.length === 0) this.futexes.delete(key);
    return woken;
  }

  futexWait(t: Thread, key: string, bitset: number, deadline: number): number {
    t.futexKey = key;
    t.futexBitset = bitset;
    let q = this.futexes.get(key);
    if (q === undefined) {
      q = [];
      this.futexes.set(key, q);
    }
    q.push(t);
    return this.block(t, WaitKind.Futex, deadline);
  }

  unqueueFutex(t: Thread): void {
    const q = this.futexes.get(t.futexKey);
    if (q === undefined) return;
    const i = q.indexOf(t);
    if (i >= 0) q.splice(i, 1);
    if (q.length === 0) this.futexes.delete(t.futexKey);
  }

  /** Move up to `n` waiters from `from` to `to` (FUTEX_CMP_REQUEUE). */
  futexRequeue(from: string, to: string, n: number): number {
    const q = this.futexes.get(from);
    if (q === undefined) return 0;
    const moved = q.splice(0, n);
    if (q.length === 0) this.futexes.delete(from);
    if (moved.length > 0) {
      let dst = this.futexes.get(to);
      if (dst === undefined) {
        dst = [];
        this.futexes.set(to, dst);
      }
      for (const w of moved) {
        w.futexKey = to;
        dst.push(w);
      }
    }
    return moved.length;
  }

  // ---- Exit ----

  /** A thread ends (exit): CLONE_CHILD_CLEARTID, and the process ends with its last thread. */
  exitThread(t: Thread, status: number): void {
    const p = t.proc;
    this.killThread(t);
    p.threads.splice(p.threads.indexOf(t), 1);
    if (p.threads.length === 0) this.exitProcess(p, (status & 0xff) << 8);
  }

  /** Remove `t` from scheduling (its process is exiting or exec'ing), clearing its child tid word. */
  private killThread(t: Thread): void {
    if (t.state === 1 && t.waitKind === WaitKind.Futex) this.unqueueFutex(t);
    if (t.clearChildTid !== 0 && t.proc.alive) {
      if (t.proc.mm.writeU32(t.clearChildTid, 0)) {
        const key = this.futexKey(t, t.clearChildTid, true);
        if (key !== null) this.futexWake(key, 1, -1);
        const skey = this.futexKey(t, t.clearChildTid, false);
        if (skey !== null) this.futexWake(skey, 1, -1);
      }
    }
    t.state = 2;
    const i = this.threads.indexOf(t);
    if (i >= 0) this.threads.splice(i, 1);
    if (this.current === t) this.current = null;
  }

  /** exit_group or a fatal signal: every thread of `p` ends; `wstatus` as wait reports it. */
  exitGroup(p: Process, wstatus: number, bySignal: boolean): void {
    for (const t of [...p.threads]) this.killThread(t);
    p.threads.length = 0;
    this.exitProcess(p, bySignal ? wstatus & 0xff : (wstatus & 0xff) << 8);
  }

  private exitProcess(p: Process, wstatus: number): void {
    if (!p.alive) return;
    p.wstatus = wstatus;
    p.fds.closeAll();
    p.alarmAt = Number.POSITIVE_INFINITY;
    if (p.vforkParent !== null) this.releaseVfork(p);
    const mm = p.mm;
    this.releaseMm(mm);
    // Children go to init (auto-reaped when init is gone or ignores them).
    for (const c of p.children) {
      c.parent = null;
      if (!c.alive) this.procs.delete(c.pid);
    }
    p.children.length = 0;
    const parent = p.parent;
    if (p === this.init) {
      const sig = wstatus & 0x7f;
      this.finish(
        sig === 0
          ? { kind: "exit", code: (wstatus >> 8) & 0xff }
          : { kind: "signal", signal: sig, core: (wstatus & 0x80) !== 0 },
      );
      return;
    }
    if (parent === null || !parent.alive) {
      this.procs.delete(p.pid);
    } else {
      const act = parent.sighand.actions[SIG.CHLD]!;
      if (p.exitSignal === SIG.CHLD && (act.handler === SIG_IGN || (act.flags & 2) !== 0)) {
        // SA_NOCLDWAIT or SIGCHLD ignored: no zombie.
        parent.children.splice(parent.children.indexOf(p), 1);
        this.procs.delete(p.pid);
      } else if (p.exitSignal > 0) {
        const sig = wstatus & 0x7f;
        this.sendProc(parent, p.exitSignal, {
          signo: p.exitSignal,
          code: sig === 0 ? CLD_EXITED : (wstatus & 0x80) !== 0 ? CLD_DUMPED : CLD_KILLED,
          pid: p.pid,
          uid: 0,
          addr: 0,
          status: sig === 0 ? (wstatus >> 8) & 0xff : sig,
        });
      }
    }
    this.kick();
  }

  finish(r: KernelExit): void {
    if (this.result === null) this.result = r;
  }
}

/** ppoll, pselect6, nanosleep, clock_nanosleep, rt_sigsuspend, rt_sigtimedwait, epoll_pwait. */
const NEVER_RESTARTED = new Set([73, 72, 101, 115, 133, 137, 22]);

function lowestSignal(set: bigint): number {
  // SIGKILL first, then the lowest number (Linux: synchronous signals first, then lowest).
  if ((set & (1n << BigInt(SIG.KILL - 1))) !== 0n) return SIG.KILL;
  for (let s = 1; s <= NSIG; s++) if ((set & (1n << BigInt(s - 1))) !== 0n) return s;
  return 0;
}

function isDefaultIgnored(sig: number): boolean {
  return sig === SIG.CHLD || sig === SIG.URG || sig === SIG.WINCH || sig === SIG.CONT;
}

function isCoreSignal(sig: number): boolean {
  return (
    sig === SIG.QUIT ||
    sig === SIG.ILL ||
    sig === SIG.TRAP ||
    sig === SIG.ABRT ||
    sig === SIG.BUS ||
    sig === SIG.FPE ||
    sig === SIG.SEGV ||
    sig === SIG.SYS ||
    sig === SIG.XCPU ||
    sig === SIG.XFSZ
  );
}

export { WOULD_BLOCK };
