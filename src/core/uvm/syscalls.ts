/**
 * The riscv64 Linux system call table (asm-generic numbers): process, thread, memory, time, signal and futex calls
 * here; file calls in sys-files.ts. Arguments come from a0–a5 of the hart, the number from a7; results go to a0 as
 * the kernel returns them (-errno on failure). Unimplemented numbers return -ENOSYS and are counted for the report.
 */
import { CsrSlot } from "../cpu/layout.ts";
import {
  CLONE,
  E,
  FUTEX,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  NSIG,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  SI_TKILL,
  SI_USER,
  SIG,
  SYSCALL_NAMES,
  WNOHANG,
} from "./abi.ts";
import { DevFile, RegularFile } from "./files.ts";
import {
  FsInfo,
  type Kernel,
  NO_RETURN,
  Process,
  SigHand,
  type SigInfo,
  STACK_SIZE,
  STACK_TOP,
  Thread,
  WaitKind,
} from "./kernel.ts";
import { PAGE, USER_TOP } from "./memory.ts";
import { fileSyscall, readStringArray, straceArgs, syscallArgs } from "./sys-files.ts";

/** Calls that cannot unblock another thread (no kick after them). */
const PURE = new Set([
  17, 62, 79, 80, 96, 98, 99, 101, 113, 114, 115, 124, 134, 135, 169, 172, 173, 174, 175, 176, 177, 178, 214, 215, 216,
  222, 226, 233, 261, 278, 291,
]);

/** Run system call `nr` for the current thread `t`; returns a0, or NO_RETURN when the handler set up `t` itself. */
export function syscall(k: Kernel, t: Thread, nr: number): number {
  const retrying = t.retrying;
  const args = k.opts.strace !== null ? straceArgs(k, t, nr) : "";
  let ret = dispatch(k, t, nr);
  if (ret === -E.NOSYS) k.unimplemented.set(nr, (k.unimplemented.get(nr) ?? 0) + 1);
  if (k.opts.strace !== null && !(retrying && ret === NO_RETURN)) {
    const name = SYSCALL_NAMES[nr] ?? `syscall_${nr}`;
    const r =
      ret === NO_RETURN
        ? t.state === 1
          ? " <unfinished ...>"
          : " = ?"
        : ret < 0 && ret > -4096
          ? ` = -1 ${ERRNO_NAMES[-ret] ?? `E${-ret}`}${ret === -E.NOSYS ? " (Function not implemented)" : ""}`
          : ` = ${nr === 222 || nr === 214 || nr === 216 ? `0x${ret.toString(16)}` : ret}`;
    k.opts.strace(`[pid ${t.tid}] ${name}(${args})${r}`);
  }
  if (!PURE.has(nr) && t.state === 0) k.kick();
  if (ret === -E.PIPE && (nr === 64 || nr === 66 || nr === 68)) {
    k.sendThread(t, SIG.PIPE, { signo: SIG.PIPE, code: SI_USER, pid: t.proc.pid, uid: 0, addr: 0, status: 0 });
  }
  if (ret !== NO_RETURN && t.state !== 0) ret = NO_RETURN;
  if (t.state !== 1) k.progress++;
  return ret;
}

const ERRNO_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(E).map(([k, v]) => [v, `E${k}`]),
) as Record<number, string>;

function dispatch(k: Kernel, t: Thread, nr: number): number {
  const x = k.hart.x;
  const { u, int, ptr, size } = syscallArgs(x);
  const p = t.proc;
  const mm = p.mm;
  switch (nr) {
    // ---- Process and thread identity ----
    case 93: // exit
      k.exitThread(t, int(0));
      return NO_RETURN;
    case 94: // exit_group
      k.exitGroup(p, int(0), false);
      return NO_RETURN;
    case 172: // getpid
      return p.pid;
    case 173: // getppid
      return p.parent?.pid ?? 1;
    case 178: // gettid
      return t.tid;
    case 174: // getuid
    case 175: // geteuid
    case 176: // getgid
    case 177: // getegid
      return 0;
    case 148: // getresuid
    case 150: // getresgid
      for (let i = 0; i < 3; i++) if (!mm.writeU32(ptr(i), 0)) return -E.FAULT;
      return 0;
    case 143: // setregid
    case 144: // setgid
    case 145: // setreuid
    case 146: // setuid
    case 147: // setresuid
    case 149: // setresgid
    case 151: // setfsuid
    case 152: // setfsgid
    case 159: // setgroups
      return 0;
    case 158: // getgroups
      return 0;
    case 96: // set_tid_address
      t.clearChildTid = Math.max(0, ptr(0));
      return t.tid;
    case 99: // set_robust_list
      t.robustList = ptr(0);
      return size(1) === 24 ? 0 : -E.INVAL;
    case 100: // get_robust_list
      return -E.PERM;
    case 154: {
      // setpgid
      const pid = int(0) === 0 ? p.pid : int(0);
      const pg = int(1) === 0 ? pid : int(1);
      const target = k.procs.get(pid);
      if (target === undefined || !target.alive) return -E.SRCH;
      if (pg < 0) return -E.INVAL;
      target.pgid = pg;
      return 0;
    }
    case 155: {
      // getpgid
      const target = int(0) === 0 ? p : k.procs.get(int(0));
      return target === undefined ? -E.SRCH : target.pgid;
    }
    case 156: {
      // getsid
      const target = int(0) === 0 ? p : k.procs.get(int(0));
      return target === undefined ? -E.SRCH : target.sid;
    }
    case 157: // setsid
      if (p.pgid === p.pid) return -E.PERM;
      p.sid = p.pid;
      p.pgid = p.pid;
      return p.pid;
    case 160: {
      // uname: struct utsname, six 65-byte fields
      const out = new Uint8Array(390);
      const enc = new TextEncoder();
      const fields = ["Linux", "popek", "6.1.0", "#1 SMP popek", "riscv64", "(none)"];
      for (let i = 0; i < fields.length; i++) out.set(enc.encode(fields[i]!), i * 65);
      return mm.write(ptr(0), out) ? 0 : -E.FAULT;
    }
    case 166: {
      // umask
      const old = p.fsInfo.umask;
      p.fsInfo.umask = int(0) & 0o777;
      return old;
    }
    case 167: {
      // prctl: PR_SET_NAME / PR_GET_NAME keep a name; the rest succeed as no-ops or EINVAL
      const op = int(0);
      if (op === 15) return 0;
      if (op === 16)
        return mm.write(ptr(1), new TextEncoder().encode(`${p.exe.split("/").pop() ?? ""}\0`.slice(-16)))
          ? 0
          : -E.FAULT;
      if (op === 38 || op === 39) return 0; // PR_SET/GET_NO_NEW_PRIVS
      return -E.INVAL;
    }
    case 92: // personality
      return 0;
    case 163: // getrlimit
    case 261: {
      // prlimit64(pid, resource, new, old) / getrlimit(resource, old)
      const res = nr === 163 ? int(0) : int(1);
      const oldp = nr === 163 ? ptr(1) : ptr(3);
      const inf = 2n ** 64n - 1n;
      const lim = res === 3 ? [BigInt(STACK_SIZE), inf] : res === 7 ? [1024n, 4096n] : [inf, inf];
      if (nr === 261 && u(3) === 0n) return 0;
      const out = new Uint8Array(16);
      const dv = new DataView(out.buffer);
      dv.setBigUint64(0, lim[0]!, true);
      dv.setBigUint64(8, lim[1]!, true);
      return mm.write(oldp, out) ? 0 : -E.FAULT;
    }
    case 164: // setrlimit
      return 0;
    case 165: {
      // getrusage(who, ru): times from the guest's run time, maxrss from resident pages
      const out = new Uint8Array(144);
      const dv = new DataView(out.buffer);
      const ns = k.opts.clock.monotonicNs() - p.startNs;
      dv.setBigInt64(0, ns / 1_000_000_000n, true);
      dv.setBigInt64(8, (ns % 1_000_000_000n) / 1000n, true);
      dv.setBigInt64(32, BigInt(p.alive ? (mm.residentPages() * PAGE) / 1024 : 0), true);
      return mm.write(ptr(1), out) ? 0 : -E.FAULT;
    }
    case 153: {
      // times
      const ticks = (k.opts.clock.monotonicNs() - k.t0) / 10_000_000n;
      if (u(0) !== 0n) {
        const out = new Uint8Array(32);
        new DataView(out.buffer).setBigInt64(0, (k.opts.clock.monotonicNs() - p.startNs) / 10_000_000n, true);
        if (!mm.write(ptr(0), out)) return -E.FAULT;
      }
      return Number(ticks);
    }
    case 179: {
      // sysinfo
      const out = new Uint8Array(112);
      const dv = new DataView(out.buffer);
      dv.setBigInt64(0, (k.opts.clock.monotonicNs() - k.t0) / 1_000_000_000n, true);
      dv.setBigUint64(32, BigInt(k.phys.frames * PAGE), true);
      dv.setBigUint64(40, BigInt(k.phys.free * PAGE), true);
      dv.setUint16(80, k.procs.size, true);
      dv.setUint32(104, 1, true);
      return mm.write(ptr(0), out) ? 0 : -E.FAULT;
    }
    case 123: {
      // sched_getaffinity: one CPU
      const len = size(1);
      if (len < 8) return -E.INVAL;
      const out = new Uint8Array(8);
      out[0] = 1;
      return mm.write(ptr(2), out) ? 8 : -E.FAULT;
    }
    case 122: // sched_setaffinity
    case 118: // sched_setparam
    case 119: // sched_setscheduler
    case 120: // sched_getscheduler
    case 140: // setpriority
      return 0;
    case 121: // sched_getparam
      return mm.writeU32(ptr(1), 0) ? 0 : -E.FAULT;
    case 141: // getpriority: 20 - nice
      return 20;
    case 125: // sched_get_priority_max
    case 126: // sched_get_priority_min
      return 0;
    case 124: // sched_yield
      k.yieldNow = true; // the scheduler runs the other threads before this one again
      return 0;
    case 168: // getcpu
      if (u(0) !== 0n && !mm.writeU32(ptr(0), 0)) return -E.FAULT;
      if (u(1) !== 0n && !mm.writeU32(ptr(1), 0)) return -E.FAULT;
      return 0;
    case 283: // membarrier: MEMBARRIER_CMD_QUERY reports none; one hart needs no barrier
      return int(0) === 0 ? 0 : -E.INVAL;
    case 259: // riscv_flush_icache: the decode cache is always coherent
      return 0;

    // ---- Memory ----
    case 214: {
      // brk
      const want = ptr(0);
      if (want < mm.brkStart || want < 0) return mm.brk;
      const oldTop = Math.ceil(mm.brk / PAGE) * PAGE;
      const newTop = Math.ceil(want / PAGE) * PAGE;
      if (newTop > oldTop) {
        if (!mm.isFree(oldTop, newTop) || newTop > STACK_TOP - STACK_SIZE) return mm.brk;
        mm.map(oldTop, newTop, PROT_READ | PROT_WRITE, MAP_PRIVATE, null, "[heap]");
        mm.mergeAdjacent();
      } else if (newTop < oldTop) mm.unmap(newTop, oldTop);
      mm.brk = want;
      return want;
    }
    case 222: {
      // mmap(addr, len, prot, flags, fd, off)
      const hint = ptr(0);
      const len = Math.ceil(size(1) / PAGE) * PAGE;
      const prot = int(2) & (PROT_READ | PROT_WRITE | PROT_EXEC);
      const flags = int(3);
      const off = Number(BigInt.asIntN(64, x[15]!));
      const type = flags & MAP_SHARED_VALIDATE;
      if (len === 0 || len > USER_TOP || off % PAGE !== 0 || off < 0) return -E.INVAL;
      if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) return -E.INVAL;
      let data: Uint8Array | null = null;
      let anon = (flags & MAP_ANONYMOUS) !== 0;
      if (!anon) {
        const e = p.fds.get(int(4));
        if (e === null) return -E.BADF;
        const f = e.file;
        if (f instanceof DevFile && f.dev === "zero") anon = true;
        else if (!(f instanceof RegularFile)) return -E.NODEV;
        else {
          if ((f.flags & 3) === 1) return -E.ACCES;
          const st = f.handle.fstat();
          if (typeof st === "number") return st;
          const n = Math.max(0, Math.min(len, st.size - off));
          data = new Uint8Array(n);
          if (n > 0 && f.handle.pread(data, off) < 0) return -E.IO;
        }
      }
      let at: number;
      if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0) {
        if (hint < 0 || hint % PAGE !== 0 || hint + len > USER_TOP) return -E.INVAL;
        if ((flags & MAP_FIXED) === 0 && !mm.isFree(hint, hint + len)) return -E.EXIST;
        at = hint;
      } else {
        const h = hint > 0 ? Math.ceil(hint / PAGE) * PAGE : 0;
        at = h >= 0x10000 && h + len <= USER_TOP && mm.isFree(h, h + len) ? h : mm.findFree(len);
        if (at < 0) return -E.NOMEM;
      }
      const shared = type !== MAP_PRIVATE && anon ? MAP_SHARED : MAP_PRIVATE;
      mm.map(at, at + len, prot, shared | (flags & ~MAP_SHARED_VALIDATE), anon ? null : data, anon ? "" : "file");
      if (anon && shared === MAP_PRIVATE) mm.mergeAdjacent();
      return at;
    }
    case 215: {
      // munmap
      const a = ptr(0);
      const len = Math.ceil(size(1) / PAGE) * PAGE;
      if (a < 0 || a % PAGE !== 0 || len === 0 || a + len > USER_TOP) return -E.INVAL;
      mm.unmap(a, a + len);
      return 0;
    }
    case 226: {
      // mprotect
      const a = ptr(0);
      const len = Math.ceil(size(1) / PAGE) * PAGE;
      if (a < 0 || a % PAGE !== 0) return -E.INVAL;
      if (len === 0) return 0;
      return mm.protect(a, a + len, int(2) & 7) ? 0 : -E.NOMEM;
    }
    case 216: {
      // mremap(old, oldlen, newlen, flags, new)
      const a = ptr(0);
      const oldLen = Math.ceil(size(1) / PAGE) * PAGE;
      const newLen = Math.ceil(size(2) / PAGE) * PAGE;
      const flags = int(3);
      if (a < 0 || a % PAGE !== 0 || newLen === 0) return -E.INVAL;
      const fixed = (flags & MREMAP_FIXED) !== 0 ? ptr(4) : -1;
      if ((flags & MREMAP_FIXED) !== 0 && (fixed < 0 || fixed % PAGE !== 0)) return -E.INVAL;
      const r = mm.remap(a, oldLen, newLen, (flags & MREMAP_MAYMOVE) !== 0, fixed);
      return r === -1 ? -E.FAULT : r === -2 ? -E.NOMEM : r;
    }
    case 233: {
      // madvise: MADV_DONTNEED drops private pages (they read back as zero); the rest are hints
      const a = ptr(0);
      if (a < 0 || a % PAGE !== 0) return -E.INVAL;
      if (int(2) === 4) mm.discard(a, a + Math.ceil(size(1) / PAGE) * PAGE);
      return 0;
    }
    case 227: // msync
    case 228: // mlock
    case 229: // munlock
    case 230: // mlockall
    case 231: // munlockall
    case 284: // mlock2
      return 0;

    // ---- Time ----
    case 113: // clock_gettime
    case 114: {
      // clock_getres
      const clk = int(0);
      if (u(1) === 0n) return 0;
      let ns: bigint;
      if (nr === 114) ns = clk === 5 || clk === 6 ? 4_000_000n : 1n;
      else if (clk === 0 || clk === 5 || clk === 8) ns = k.opts.clock.realtimeNs();
      else if (clk === 1 || clk === 4 || clk === 6 || clk === 7 || clk === 9) ns = k.opts.clock.monotonicNs();
      else if (clk === 2 || clk === 3 || clk < 0) ns = k.opts.clock.monotonicNs() - p.startNs;
      else return -E.INVAL;
      return writeTimespec(k, t, ptr(1), ns) ? 0 : -E.FAULT;
    }
    case 169: {
      // gettimeofday
      if (u(0) === 0n) return 0;
      const ns = k.opts.clock.realtimeNs();
      const out = new Uint8Array(16);
      const dv = new DataView(out.buffer);
      dv.setBigInt64(0, ns / 1_000_000_000n, true);
      dv.setBigInt64(8, (ns % 1_000_000_000n) / 1000n, true);
      return mm.write(ptr(0), out) ? 0 : -E.FAULT;
    }
    case 101: // nanosleep(req, rem)
    case 115: {
      // clock_nanosleep(clk, flags, req, rem)
      const reqp = nr === 101 ? ptr(0) : ptr(2);
      if (!t.retrying) {
        const ts = readTimespec(k, t, reqp);
        if (ts === null) return -E.FAULT;
        if (ts < 0n) return -E.INVAL;
        const abs = nr === 115 && (int(1) & 1) !== 0;
        const clk = nr === 115 ? int(0) : 1;
        let ms = Number(ts) / 1e6;
        if (abs) {
          const now = clk === 0 ? k.opts.clock.realtimeNs() : k.opts.clock.monotonicNs();
          ms = Number(ts - now) / 1e6;
        }
        if (ms <= 0) return 0;
        return k.block(t, WaitKind.Retry, k.nowMs() + ms);
      }
      if (k.nowMs() >= t.deadline) return 0;
      return k.block(t, WaitKind.Retry, t.deadline);
    }
    case 103: {
      // setitimer(ITIMER_REAL) as alarm: one-shot (the interval is not re-armed)
      if (int(0) !== 0) return -E.INVAL;
      const oldMs = Number.isFinite(p.alarmAt) ? Math.max(0, p.alarmAt - k.nowMs()) : 0;
      if (u(2) !== 0n) {
        const out = new Uint8Array(32);
        const dv = new DataView(out.buffer);
        dv.setBigInt64(16, BigInt(Math.floor(oldMs / 1000)), true);
        dv.setBigInt64(24, BigInt(Math.floor((oldMs % 1000) * 1000)), true);
        if (!mm.write(ptr(2), out)) return -E.FAULT;
      }
      if (u(1) !== 0n) {
        const b = mm.read(ptr(1), 32);
        if (b === null) return -E.FAULT;
        const dv = new DataView(b.buffer);
        const ms = Number(dv.getBigInt64(16, true)) * 1000 + Number(dv.getBigInt64(24, true)) / 1000;
        p.alarmAt = ms > 0 ? k.nowMs() + ms : Number.POSITIVE_INFINITY;
      }
      return 0;
    }
    case 102: {
      // getitimer
      const out = new Uint8Array(32);
      const ms = Number.isFinite(p.alarmAt) ? Math.max(0, p.alarmAt - k.nowMs()) : 0;
      const dv = new DataView(out.buffer);
      dv.setBigInt64(16, BigInt(Math.floor(ms / 1000)), true);
      dv.setBigInt64(24, BigInt(Math.floor((ms % 1000) * 1000)), true);
      return mm.write(ptr(1), out) ? 0 : -E.FAULT;
    }

    // ---- Randomness ----
    case 278: {
      // getrandom
      const len = Math.min(size(1), 1 << 25);
      const buf = new Uint8Array(len);
      k.opts.random(buf);
      return mm.write(ptr(0), buf) ? len : -E.FAULT;
    }

    // ---- Signals ----
    case 134: {
      // rt_sigaction(sig, act, oact, sigsetsize)
      const sig = int(0);
      if (sig < 1 || sig > NSIG || size(3) !== 8) return -E.INVAL;
      const a = p.sighand.actions[sig]!;
      if (u(2) !== 0n) {
        const out = new Uint8Array(24);
        const dv = new DataView(out.buffer);
        dv.setBigUint64(0, BigInt.asUintN(64, a.handler), true);
        dv.setBigUint64(8, BigInt(a.flags >>> 0), true);
        dv.setBigUint64(16, BigInt.asUintN(64, a.mask), true);
        if (!mm.write(ptr(2), out)) return -E.FAULT;
      }
      if (u(1) !== 0n) {
        if (sig === SIG.KILL || sig === SIG.STOP) return -E.INVAL;
        const b = mm.read(ptr(1), 24);
        if (b === null) return -E.FAULT;
        const dv = new DataView(b.buffer);
        a.handler = dv.getBigUint64(0, true);
        a.flags = Number(dv.getBigUint64(8, true) & 0xffffffffn);
        a.mask = dv.getBigUint64(16, true);
        if (a.handler === 1n) {
          // Setting SIG_IGN discards a pending instance.
          const bit = 1n << BigInt(sig - 1);
          p.pending &= ~bit;
          for (const th of p.threads) th.pending &= ~bit;
        }
      }
      return 0;
    }
    case 135: {
      // rt_sigprocmask(how, set, oset, size)
      if (size(3) !== 8) return -E.INVAL;
      const old = t.sigmask;
      if (u(1) !== 0n) {
        const set = mm.readU64(ptr(1));
        if (set === null) return -E.FAULT;
        const how = int(0);
        if (how === 0) t.sigmask |= set;
        else if (how === 1) t.sigmask &= ~set;
        else if (how === 2) t.sigmask = set;
        else return -E.INVAL;
        t.sigmask &= ~((1n << BigInt(SIG.KILL - 1)) | (1n << BigInt(SIG.STOP - 1)));
      }
      if (u(2) !== 0n && !mm.writeU64(ptr(2), old)) return -E.FAULT;
      return 0;
    }
    case 136: // rt_sigpending
      return mm.writeU64(ptr(0), (t.pending | p.pending) & t.sigmask) ? 0 : -E.FAULT;
    case 133: {
      // rt_sigsuspend(mask, size): wait for a signal with `mask` in force; always -EINTR
      if (!t.retrying) {
        const m = mm.readU64(ptr(0));
        if (m === null) return -E.FAULT;
        t.savedMask = t.sigmask;
        t.sigmask = m & ~((1n << BigInt(SIG.KILL - 1)) | (1n << BigInt(SIG.STOP - 1)));
      }
      if (((t.pending | p.pending) & ~t.sigmask) !== 0n) return -E.INTR;
      return k.block(t, WaitKind.Signal, Number.POSITIVE_INFINITY);
    }
    case 137: {
      // rt_sigtimedwait(set, info, timeout, size): take a pending signal of `set`
      const set = mm.readU64(ptr(0));
      if (set === null) return -E.FAULT;
      const pend = (t.pending | p.pending) & set;
      if (pend !== 0n) {
        let sig = 1;
        while (((pend >> BigInt(sig - 1)) & 1n) === 0n) sig++;
        const bit = 1n << BigInt(sig - 1);
        const info = (t.pending & bit) !== 0n ? t.info.get(sig) : p.info.get(sig);
        t.pending &= ~bit;
        p.pending &= ~bit;
        t.info.delete(sig);
        p.info.delete(sig);
        if (u(1) !== 0n) {
          const out = new Uint8Array(128);
          const dv = new DataView(out.buffer);
          dv.setInt32(0, sig, true);
          dv.setInt32(8, info?.code ?? 0, true);
          dv.setInt32(16, info?.pid ?? 0, true);
          if (!mm.write(ptr(1), out)) return -E.FAULT;
        }
        return sig;
      }
      let deadline = t.deadline;
      if (!t.retrying) {
        deadline = Number.POSITIVE_INFINITY;
        if (u(2) !== 0n) {
          const ts = readTimespec(k, t, ptr(2));
          if (ts === null) return -E.FAULT;
          deadline = k.nowMs() + Number(ts) / 1e6;
        }
      }
      if (k.nowMs() >= deadline) return -E.AGAIN;
      return k.block(t, WaitKind.Retry, deadline);
    }
    case 139: // rt_sigreturn
      return k.sigreturn(t);
    case 132: {
      // sigaltstack(ss, oss)
      if (u(1) !== 0n) {
        const out = new Uint8Array(24);
        const dv = new DataView(out.buffer);
        dv.setBigUint64(0, BigInt(t.altSp), true);
        dv.setInt32(8, t.altFlags, true);
        dv.setBigUint64(16, BigInt(t.altSize), true);
        if (!mm.write(ptr(1), out)) return -E.FAULT;
      }
      if (u(0) !== 0n) {
        const b = mm.read(ptr(0), 24);
        if (b === null) return -E.FAULT;
        const dv = new DataView(b.buffer);
        const flags = dv.getInt32(8, true);
        if (flags === 2) {
          t.altFlags = 2;
          t.altSp = 0;
          t.altSize = 0;
        } else if (flags === 0) {
          const sz = Number(dv.getBigUint64(16, true));
          if (sz < 2048) return -E.NOMEM;
          t.altSp = Number(dv.getBigUint64(0, true));
          t.altSize = sz;
          t.altFlags = 0;
        } else return -E.INVAL;
      }
      return 0;
    }
    case 129: {
      // kill(pid, sig)
      const pid = int(0);
      const sig = int(1);
      if (sig < 0 || sig > NSIG) return -E.INVAL;
      const info: SigInfo = { signo: sig, code: SI_USER, pid: p.pid, uid: 0, addr: 0, status: 0 };
      if (pid > 0) {
        const target = k.procs.get(pid) ?? k.threads.find((th) => th.tid === pid)?.proc;
        if (target === undefined || !target.alive) return -E.SRCH;
        k.sendProc(target, sig, info);
        return 0;
      }
      const group = pid === 0 ? p.pgid : -pid;
      let found = false;
      for (const q of k.procs.values()) {
        if (!q.alive || (pid !== -1 && q.pgid !== group)) continue;
        found = true;
        k.sendProc(q, sig, info);
      }
      return found ? 0 : -E.SRCH;
    }
    case 130: // tkill(tid, sig)
    case 131: {
      // tgkill(tgid, tid, sig)
      const tid = nr === 130 ? int(0) : int(1);
      const sig = nr === 130 ? int(1) : int(2);
      if (sig < 0 || sig > NSIG) return -E.INVAL;
      const target = k.threads.find((th) => th.tid === tid);
      if (target === undefined || (nr === 131 && target.proc.pid !== int(0))) return -E.SRCH;
      k.sendThread(target, sig, { signo: sig, code: SI_TKILL, pid: p.pid, uid: 0, addr: 0, status: 0 });
      return 0;
    }

    // ---- Futex ----
    case 98:
      return futex(k, t);

    // ---- clone, execve, wait ----
    case 220:
      return clone(k, t, u(0), ptr(1), ptr(2), u(3), ptr(4));
    case 435: // clone3: glibc falls back to clone
      return -E.NOSYS;
    case 221: {
      // execve(path, argv, envp)
      const path = mm.readCString(ptr(0));
      if (path === null) return -E.FAULT;
      const argv = readStringArray(mm, ptr(1));
      if (typeof argv === "number") return argv;
      const used = argv.reduce((a, s) => a + s.length + 9, 0);
      const envp = readStringArray(mm, ptr(2), 2 * 1024 * 1024 - used);
      if (typeof envp === "number") return envp;
      const r = k.execve(t, new TextDecoder().decode(path), argv, envp);
      return r < 0 ? r : NO_RETURN;
    }
    case 260: // wait4(pid, wstatus, options, rusage)
      return wait4(k, t, int(0), ptr(1), int(2), u(3) !== 0n ? ptr(3) : 0);
    case 95: {
      // waitid(idtype, id, infop, options): P_ALL 0, P_PID 1, P_PGID 2
      const idtype = int(0);
      const id = int(1);
      const pid = idtype === 0 ? -1 : idtype === 1 ? id : -id;
      return waitid(k, t, pid, ptr(2), int(3));
    }
  }
  return fileSyscall(k, t, nr);
}

function readTimespec(k: Kernel, t: Thread, at: number): bigint | null {
  const b = t.proc.mm.read(at, 16);
  if (b === null) return null;
  const dv = new DataView(b.buffer);
  const s = dv.getBigInt64(0, true);
  const ns = dv.getBigInt64(8, true);
  if (ns < 0n || ns >= 1_000_000_000n || s < 0n) return -1n;
  void k;
  return s * 1_000_000_000n + ns;
}

function writeTimespec(k: Kernel, t: Thread, at: number, ns: bigint): boolean {
  const out = new Uint8Array(16);
  const dv = new DataView(out.buffer);
  dv.setBigInt64(0, ns / 1_000_000_000n, true);
  dv.setBigInt64(8, ns % 1_000_000_000n, true);
  void k;
  return t.proc.mm.write(at, out);
}

function futex(k: Kernel, t: Thread): number {
  const x = k.hart.x;
  const uaddr = Number(BigInt.asUintN(64, x[10]!));
  const op = Number(x[11]! & 0xffffffffn);
  const val = Number(BigInt.asUintN(32, x[12]!));
  const cmd = op & 127;
  const priv = (op & FUTEX.PRIVATE_FLAG) !== 0;
  const mm = t.proc.mm;
  if (uaddr % 4 !== 0 || uaddr >= USER_TOP) return -E.INVAL;
  const key = k.futexKey(t, uaddr, priv);
  if (key === null) return -E.FAULT;
  switch (cmd) {
    case FUTEX.WAIT:
    case FUTEX.WAIT_BITSET: {
      const bitset = cmd === FUTEX.WAIT ? -1 : Number(BigInt.asIntN(32, x[15]!));
      if (bitset === 0) return -E.INVAL;
      const cur = mm.readU32(uaddr);
      if (cur === null) return -E.FAULT;
      if (cur !== val) return -E.AGAIN;
      let deadline = Number.POSITIVE_INFINITY;
      const tsp = Number(BigInt.asUintN(64, x[13]!));
      if (tsp !== 0) {
        const ts = readTimespec(k, t, tsp);
        if (ts === null) return -E.FAULT;
        if (ts < 0n) return -E.INVAL;
        if (cmd === FUTEX.WAIT) deadline = k.nowMs() + Number(ts) / 1e6;
        else {
          const now = (op & FUTEX.CLOCK_REALTIME) !== 0 ? k.opts.clock.realtimeNs() : k.opts.clock.monotonicNs();
          deadline = k.nowMs() + Number(ts - now) / 1e6;
        }
        if (deadline <= k.nowMs()) return -E.TIMEDOUT;
      }
      return k.futexWait(t, key, bitset, deadline);
    }
    case FUTEX.WAKE:
      return k.futexWake(key, val, -1);
    case FUTEX.WAKE_BITSET: {
      const bitset = Number(BigInt.asIntN(32, x[15]!));
      if (bitset === 0) return -E.INVAL;
      return k.futexWake(key, val, bitset);
    }
    case FUTEX.REQUEUE:
    case FUTEX.CMP_REQUEUE: {
      const uaddr2 = Number(BigInt.asUintN(64, x[14]!));
      const n2 = Number(BigInt.asUintN(32, x[13]!));
      if (cmd === FUTEX.CMP_REQUEUE) {
        const cur = mm.readU32(uaddr);
        if (cur === null) return -E.FAULT;
        if (cur !== Number(BigInt.asUintN(32, x[15]!))) return -E.AGAIN;
      }
      const key2 = k.futexKey(t, uaddr2, priv);
      if (key2 === null) return -E.FAULT;
      const woken = k.futexWake(key, val, -1);
      return woken + k.futexRequeue(key, key2, n2);
    }
    case FUTEX.WAKE_OP: {
      const uaddr2 = Number(BigInt.asUintN(64, x[14]!));
      const n2 = Number(BigInt.asUintN(32, x[13]!));
      const enc = Number(BigInt.asUintN(32, x[15]!));
      const key2 = k.futexKey(t, uaddr2, priv);
      if (key2 === null) return -E.FAULT;
      const old = mm.readU32(uaddr2);
      if (old === null) return -E.FAULT;
      const opc = (enc >>> 28) & 7;
      const shift = (enc >>> 28) & 8;
      let oparg = (enc << 8) >> 20;
      const cmp = (enc >>> 24) & 15;
      const cmparg = (enc << 20) >> 20;
      if (shift !== 0) oparg = 1 << (oparg & 31);
      const nv = [oparg, old + oparg, old | oparg, old & ~oparg, old ^ oparg][opc];
      if (nv === undefined) return -E.NOSYS;
      if (!mm.writeU32(uaddr2, nv)) return -E.FAULT;
      const o = old | 0;
      const c = [o === cmparg, o !== cmparg, o < cmparg, o <= cmparg, o > cmparg, o >= cmparg][cmp];
      let n = k.futexWake(key, val, -1);
      if (c === true) n += k.futexWake(key2, n2, -1);
      return n;
    }
  }
  return -E.NOSYS;
}

/** clone(flags, stack, ptid, tls, ctid): a thread (CLONE_THREAD) or a process (fork, vfork, posix_spawn). */
function clone(k: Kernel, t: Thread, flags64: bigint, stack: number, ptid: number, tls: bigint, ctid: number): number {
  const flags = Number(flags64 & 0xffffffffn);
  const p = t.proc;
  const h = k.hart;
  if ((flags & CLONE.THREAD) !== 0 && ((flags & CLONE.SIGHAND) === 0 || (flags & CLONE.VM) === 0)) return -E.INVAL;
  if ((flags & CLONE.SIGHAND) !== 0 && (flags & CLONE.VM) === 0) return -E.INVAL;
  const tid = k.allocPid();
  let proc: Process;
  if ((flags & CLONE.THREAD) !== 0) {
    proc = p;
  } else {
    const mm = (flags & CLONE.VM) !== 0 ? p.mm : k.forkMm(p.mm);
    if (mm === null) return -E.NOMEM;
    const fds = (flags & CLONE.FILES) !== 0 ? p.fds : p.fds.clone();
    const fsInfo =
      (flags & CLONE.FS) !== 0 ? p.fsInfo : Object.assign(new FsInfo(p.fsInfo.cwd), { umask: p.fsInfo.umask });
    const sh = (flags & CLONE.SIGHAND) !== 0 ? p.sighand : p.sighand.clone();
    proc = new Process(tid, p, mm, fds, fsInfo, sh, k.opts.clock.monotonicNs());
    proc.exitSignal = flags & 0xff;
    proc.exe = p.exe;
    proc.argv = p.argv;
    p.children.push(proc);
    k.procs.set(tid, proc);
  }
  const c = new Thread(tid, proc);
  c.x.set(h.x.subarray(0, 32), 0);
  c.f.set(h.f, 0);
  c.fcsr = h.csr[CsrSlot.fcsr]!;
  c.x[10] = 0n;
  if (stack > 0) c.x[2] = BigInt(stack);
  if ((flags & CLONE.SETTLS) !== 0) c.x[4] = tls;
  c.pc = t.pc + 4n;
  c.sigmask = t.sigmask;
  c.altFlags = 2;
  if ((flags & CLONE.CHILD_CLEARTID) !== 0) c.clearChildTid = ctid;
  proc.threads.push(c);
  k.threads.push(c);
  if ((flags & CLONE.PARENT_SETTID) !== 0) p.mm.writeU32(ptid, tid);
  if ((flags & CLONE.CHILD_SETTID) !== 0) proc.mm.writeU32(ctid, tid);
  if ((flags & CLONE.VFORK) !== 0 && proc !== p) {
    proc.vforkParent = t;
    return k.block(t, WaitKind.Vfork, Number.POSITIVE_INFINITY);
  }
  return tid;
}

/** The children of `t`'s process that `pid` selects (wait4's rules). */
function selectChildren(t: Thread, pid: number): Process[] {
  const p = t.proc;
  return p.children.filter((c) =>
    pid > 0 ? c.pid === pid : pid === 0 ? c.pgid === p.pgid : pid === -1 || c.pgid === -pid,
  );
}

function reap(k: Kernel, parent: Process, c: Process): void {
  parent.children.splice(parent.children.indexOf(c), 1);
  k.procs.delete(c.pid);
}

function wait4(k: Kernel, t: Thread, pid: number, wstatus: number, options: number, rusage: number): number {
  const kids = selectChildren(t, pid);
  if (kids.length === 0) return -E.CHILD;
  const z = kids.find((c) => !c.alive);
  if (z !== undefined) {
    if (wstatus > 0 && !t.proc.mm.writeU32(wstatus, z.wstatus!)) return -E.FAULT;
    if (rusage > 0) t.proc.mm.write(rusage, new Uint8Array(144));
    reap(k, t.proc, z);
    return z.pid;
  }
  if ((options & WNOHANG) !== 0) return 0;
  return k.block(t, WaitKind.Retry, Number.POSITIVE_INFINITY);
}

function waitid(k: Kernel, t: Thread, pid: number, infop: number, options: number): number {
  const kids = selectChildren(t, pid);
  if (kids.length === 0) return -E.CHILD;
  const z = kids.find((c) => !c.alive);
  if (z !== undefined) {
    const ws = z.wstatus!;
    const sig = ws & 0x7f;
    const out = new Uint8Array(128);
    const dv = new DataView(out.buffer);
    dv.setInt32(0, SIG.CHLD, true);
    dv.setInt32(8, sig === 0 ? 1 : (ws & 0x80) !== 0 ? 3 : 2, true);
    dv.setInt32(16, z.pid, true);
    dv.setInt32(24, sig === 0 ? (ws >> 8) & 0xff : sig, true);
    if (infop > 0 && !t.proc.mm.write(infop, out)) return -E.FAULT;
    if ((options & 0x01000000) === 0) reap(k, t.proc, z); // WNOWAIT keeps it
    return 0;
  }
  if ((options & WNOHANG) !== 0) {
    if (infop > 0) t.proc.mm.write(infop, new Uint8Array(128));
    return 0;
  }
  return k.block(t, WaitKind.Retry, Number.POSITIVE_INFINITY);
}

export { SigHand };
