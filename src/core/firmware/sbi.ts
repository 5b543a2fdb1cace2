/**
 * The built-in SBI firmware (RISC-V SBI spec 1.0.0, plus DBCN from 2.0): serves S-mode `ecall`s in the host, so a
 * kernel boots without an M-mode firmware file. Extensions: base, TIME, IPI, RFENCE, HSM, SRST, DBCN and the legacy
 * (0.1) console, timer, IPI, fence and shutdown calls. Not here: PMU, SUSP, CPPC, NACL, STA, the hypervisor fences.
 * Also the M-mode CSR setup OpenSBI 1.1 does before entering S-mode (delegation, counters, Sstc, an open PMP).
 */
import { CsrSlot } from "../cpu/layout.ts";
import { Mip } from "../mem/irq.ts";

/** What the SBI needs of a hart (cpu/hart.ts Hart has all of it). */
export interface SbiHart {
  readonly hartId: number;
  /** x0..x31 as i64: a0 = x[10] … a7 = x[17]. */
  readonly x: BigInt64Array;
  /** CSR slots (cpu/layout.ts). */
  readonly csr: BigInt64Array;
  pc: bigint;
  priv: number;
  /** Set to end the hart's current `run` right after this call (Exit.Stop). */
  stopRequested: boolean;
  setPending(bit: number, level: boolean): void;
  flushTlb(): void;
  /** Write a PMP CSR (pmpcfg0 0x3a0, pmpaddr0 0x3b0, …) with its WARL rules, keeping the hart's PMP state in step. */
  writePmp(num: number, v: bigint): boolean;
  /** Write satp with its WARL rules and TLB maintenance; returns the value it took. */
  writeSatp(v: bigint): bigint;
  readonly ramSize: number;
}

/** What the SBI needs of the machine. */
export interface SbiPlatform {
  /** The `time` CSR's value (mtime, 10 MHz). */
  time(): bigint;
  /** Guest console output (legacy putchar, DBCN). */
  consoleWrite(bytes: Uint8Array): void;
  /** The next byte of console input, or -1 when there is none. */
  consoleRead(): number;
  /** A copy of guest physical memory [addr, addr + len), or null when it is not all RAM. */
  readRam(addr: bigint, len: number): Uint8Array | null;
  /** Write guest physical memory; false when [addr, addr + data.length) is not all RAM. */
  writeRam(addr: bigint, data: Uint8Array): boolean;
  /** SRST (or legacy shutdown): the machine should stop the guest and power off or reboot. */
  systemReset(type: ResetType, reason: number): void;
}

export type ResetType = "shutdown" | "cold-reboot" | "warm-reboot";

/** SBI error codes (spec §3, table 1). */
export const SbiError = {
  SUCCESS: 0,
  FAILED: -1,
  NOT_SUPPORTED: -2,
  INVALID_PARAM: -3,
  DENIED: -4,
  INVALID_ADDRESS: -5,
  ALREADY_AVAILABLE: -6,
  ALREADY_STARTED: -7,
  ALREADY_STOPPED: -8,
} as const;

/** Extension IDs (a7). */
export const Eid = {
  LegacySetTimer: 0x00,
  LegacyConsolePutchar: 0x01,
  LegacyConsoleGetchar: 0x02,
  LegacyClearIpi: 0x03,
  LegacySendIpi: 0x04,
  LegacyRemoteFenceI: 0x05,
  LegacyRemoteSfenceVma: 0x06,
  LegacyRemoteSfenceVmaAsid: 0x07,
  LegacyShutdown: 0x08,
  Base: 0x10,
  Time: 0x54494d45,
  Ipi: 0x735049,
  Rfence: 0x52464e43,
  Hsm: 0x48534d,
  Srst: 0x53525354,
  Dbcn: 0x4442434e,
} as const;

/** HSM hart states (spec §9, table 23). */
export const HartState = {
  STARTED: 0,
  STOPPED: 1,
  START_PENDING: 2,
  STOP_PENDING: 3,
  SUSPENDED: 4,
  SUSPEND_PENDING: 5,
  RESUME_PENDING: 6,
} as const;

/** SBI specification version 1.0 (major << 24 | minor). */
export const SPEC_VERSION = 1 << 24;
/** Implementation ID: not in the spec's registry (0–10 are taken); "popk" in ASCII. */
export const IMPL_ID = 0x706f706b;
/** Implementation version (0.1.0). */
export const IMPL_VERSION = 0x000100;

/** Exceptions OpenSBI 1.1 delegates: misaligned fetch, breakpoint, ecall from U, and the three page faults. */
const OPENSBI_MEDELEG = (1n << 0n) | (1n << 3n) | (1n << 8n) | (1n << 12n) | (1n << 13n) | (1n << 15n);
/**
 * The built-in firmware has no M-mode trap handler, so it delegates everything medeleg can take: all exceptions
 * but ecall from S (served by the SBI) and from M (not delegable). OpenSBI keeps illegal instructions, misaligned
 * and access faults to emulate them; this hart implements what OpenSBI would emulate, so S-mode sees what is left.
 */
const BUILTIN_MEDELEG = OPENSBI_MEDELEG | (1n << 1n) | (1n << 2n) | (1n << 4n) | (1n << 5n) | (1n << 6n) | (1n << 7n);
const MIDELEG_S = (1n << BigInt(Mip.SSIP)) | (1n << BigInt(Mip.STIP)) | (1n << BigInt(Mip.SEIP));
const MSTATUS_SIE = 1n << 1n;
const MSTATUS_SPIE = 1n << 5n;
const MSTATUS_SPP = 1n << 8n;
const MSTATUS_MPP = 3n << 11n;
const MSTATUS_FS = 3n << 13n;
const MSTATUS_MPRV = 1n << 17n;
const MENVCFG_STCE = 1n << 63n;
/** pmpcfg entry 0: NAPOT, R, W, X; pmpaddr0 all ones: the whole address space (privileged spec §3.7.1). */
const PMP_NAPOT_RWX = 0x1fn;
const PMPADDR_ALL = (1n << 54n) - 1n;
const CSR_PMPCFG0 = 0x3a0;
const CSR_PMPADDR0 = 0x3b0;

const SUSPEND_RETENTIVE = 0x0000_0000;
const SUSPEND_NON_RETENTIVE = 0x8000_0000;

const A0 = 10;
const A1 = 11;

/**
 * Put `hart` in the state OpenSBI 1.1 leaves it in when it enters the next stage: M-mode CSRs set up, S-mode,
 * satp = 0, pc = `entry`, a0 = hart id, a1 = `arg1` (the DTB for the boot hart, `opaque` for hart_start).
 */
export function enterSupervisor(hart: SbiHart, entry: bigint, arg1: bigint): void {
  const c = hart.csr;
  // mstatus: MPP = S as after OpenSBI's mret, FS = Dirty as OpenSBI's mstatus_init leaves it (Linux turns it off),
  // SIE = 0 and MPRV = 0 (SBI spec §4: "sstatus.SIE = 0" at entry).
  let st = c[CsrSlot.mstatus]!;
  st &= ~(MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_FS);
  st |= 1n << 11n;
  c[CsrSlot.mstatus] = st | MSTATUS_FS;
  c[CsrSlot.medeleg] = BUILTIN_MEDELEG;
  c[CsrSlot.mideleg] = MIDELEG_S;
  // M-level interrupts stay disabled: nothing in M-mode would handle them.
  c[CsrSlot.mie] &= MIDELEG_S;
  c[CsrSlot.mcounteren] = 0xffff_ffffn;
  c[CsrSlot.scounteren] = 7n;
  // Sstc: S-mode may use stimecmp. No timer until the kernel sets one (QEMU resets stimecmp to 0, which is due).
  c[CsrSlot.menvcfg] = MENVCFG_STCE;
  c[CsrSlot.stimecmp] = -1n;
  // PMP entry 0 opens everything to S and U (OpenSBI's last entry does the same); other entries are left alone.
  hart.writePmp(CSR_PMPADDR0, PMPADDR_ALL);
  hart.writePmp(CSR_PMPCFG0, (c[CsrSlot.pmpcfg]! & ~0xffn) | PMP_NAPOT_RWX);
  hart.writeSatp(0n);
  hart.x[A0] = BigInt(hart.hartId);
  hart.x[A1] = arg1;
  hart.pc = entry;
  hart.priv = 1;
  hart.flushTlb();
}

/** An SBI call's result: error code (a0) and value (a1). */
type SbiRet = readonly [number, bigint];

/** Per-hart state the SBI keeps. */
interface HartRecord {
  state: number;
  /** Non-retentive suspend: where and with what the hart resumes. */
  resumeAddr: bigint;
  resumeOpaque: bigint;
  nonRetentive: boolean;
}

export class Sbi {
  private readonly harts: readonly SbiHart[];
  private readonly platform: SbiPlatform;
  private readonly records: HartRecord[];

  constructor(harts: readonly SbiHart[], platform: SbiPlatform) {
    this.harts = harts;
    this.platform = platform;
    this.records = harts.map(() => ({
      state: HartState.STOPPED,
      resumeAddr: 0n,
      resumeOpaque: 0n,
      nonRetentive: false,
    }));
  }

  /** Boot: hart `boot` enters the kernel at `entry` with a1 = `dtb`; the others wait in STOPPED for hart_start. */
  boot(entry: bigint, dtb: bigint, boot = 0): void {
    for (let h = 0; h < this.harts.length; h++) {
      const r = this.records[h]!;
      r.nonRetentive = false;
      if (h === boot) {
        r.state = HartState.STARTED;
        enterSupervisor(this.harts[h]!, entry, dtb);
      } else {
        r.state = HartState.STOPPED;
      }
    }
  }

  /** HSM state of hart `h`. The machine runs only STARTED harts and wakes SUSPENDED ones with `resume`. */
  state(h: number): number {
    return this.records[h]!.state;
  }

  /** A SUSPENDED hart has an interrupt pending (mip & mie): it continues (retentive) or restarts at resume_addr. */
  resume(h: number): void {
    const r = this.records[h]!;
    if (r.state !== HartState.SUSPENDED) return;
    r.state = HartState.STARTED;
    if (r.nonRetentive) {
      r.nonRetentive = false;
      enterSupervisor(this.harts[h]!, r.resumeAddr, r.resumeOpaque);
    }
  }

  /** The hart's ecall hook: serve the call in a7/a6 with arguments a0–a5; always handled. */
  readonly handle = (hart: SbiHart): boolean => {
    const x = hart.x;
    const eid = Number(BigInt.asUintN(32, x[17]!));
    const fid = Number(BigInt.asUintN(32, x[16]!));
    if (eid <= Eid.LegacyShutdown) {
      // Legacy calls return only a0 (spec §5); a1 is left as it was.
      x[A0] = BigInt(this.legacy(hart, eid));
      return true;
    }
    let err: number = SbiError.SUCCESS;
    let value = 0n;
    switch (eid) {
      case Eid.Base:
        [err, value] = this.base(fid, x[A0]!);
        break;
      case Eid.Time:
        if (fid === 0) this.setTimer(hart, x[A0]!);
        else err = SbiError.NOT_SUPPORTED;
        break;
      case Eid.Ipi:
        if (fid === 0) err = this.forHarts(x[A0]!, x[A1]!, (t) => t.setPending(Mip.SSIP, true));
        else err = SbiError.NOT_SUPPORTED;
        break;
      case Eid.Rfence:
        err = this.rfence(hart, fid);
        break;
      case Eid.Hsm:
        [err, value] = this.hsm(hart, fid);
        break;
      case Eid.Srst:
        err = this.srst(hart, fid, x[A0]!, x[A1]!);
        break;
      case Eid.Dbcn:
        [err, value] = this.dbcn(fid, x[A0]!, x[A1]!, x[12]!);
        break;
      default:
        err = SbiError.NOT_SUPPORTED;
        break;
    }
    x[A0] = BigInt(err);
    x[A1] = value;
    return true;
  };

  private base(fid: number, arg: bigint): SbiRet {
    switch (fid) {
      case 0: // get_spec_version
        return [0, BigInt(SPEC_VERSION)];
      case 1: // get_impl_id
        return [0, BigInt(IMPL_ID)];
      case 2: // get_impl_version
        return [0, BigInt(IMPL_VERSION)];
      case 3: // probe_extension
        return [0, this.probe(arg) ? 1n : 0n];
      case 4: // get_mvendorid
      case 5: // get_marchid
      case 6: // get_mimpid: popek's mvendorid, marchid and mimpid read 0
        return [0, 0n];
      default:
        return [SbiError.NOT_SUPPORTED, 0n];
    }
  }

  private probe(eid: bigint): boolean {
    const e = Number(BigInt.asUintN(64, eid) & 0xffff_ffffn);
    if (BigInt.asUintN(64, eid) > 0xffff_ffffn) return false;
    if (e <= Eid.LegacyShutdown) return true;
    return (
      e === Eid.Base ||
      e === Eid.Time ||
      e === Eid.Ipi ||
      e === Eid.Rfence ||
      e === Eid.Hsm ||
      e === Eid.Srst ||
      e === Eid.Dbcn
    );
  }

  /**
   * TIME.set_timer: the next timer event at `time` ≥ stime_value, clearing the pending one. This hart has Sstc and
   * the firmware enables menvcfg.STCE, so, as OpenSBI 1.1 does on Sstc harts, the call just writes stimecmp: the
   * hart raises STIP by itself, and the machine learns the deadline from `hart.stimecmpDeadline()`.
   */
  private setTimer(hart: SbiHart, stime: bigint): void {
    hart.csr[CsrSlot.stimecmp] = stime;
    // The hart recomputes STIP from stimecmp whenever it checks for interrupts (after this call returns).
    if (BigInt.asUintN(64, stime) > BigInt.asUintN(64, this.platform.time())) hart.setPending(Mip.STIP, false);
  }

  /**
   * Apply `fn` to each hart named by (hart_mask, hart_mask_base) (spec §3.1): bit i of the mask is hart base + i;
   * base = -1 means every hart. SBI_ERR_INVALID_PARAM if a named hart does not exist (nothing is done then).
   */
  private forHarts(mask: bigint, base: bigint, fn: (h: SbiHart) => void): number {
    const n = this.harts.length;
    if (base === -1n) {
      for (const h of this.harts) fn(h);
      return SbiError.SUCCESS;
    }
    const b = BigInt.asUintN(64, base);
    let m = BigInt.asUintN(64, mask);
    const targets: SbiHart[] = [];
    for (let i = 0n; m !== 0n; i++, m >>= 1n) {
      if ((m & 1n) === 0n) continue;
      const id = b + i;
      if (id >= BigInt(n)) return SbiError.INVALID_PARAM;
      targets.push(this.harts[Number(id)]!);
    }
    for (const t of targets) fn(t);
    return SbiError.SUCCESS;
  }

  /** RFENCE: the harts run on one thread, so a remote fence is done at once on each target. */
  private rfence(caller: SbiHart, fid: number): number {
    const x = caller.x;
    switch (fid) {
      case 0: // remote_fence_i: stores keep every hart's decode cache coherent (cpu/hart.ts CodeMap)
        return this.forHarts(x[A0]!, x[A1]!, () => {});
      case 1: // remote_sfence_vma(start, size)
      case 2: // remote_sfence_vma_asid(start, size, asid): flushing everything is a correct over-approximation
        return this.forHarts(x[A0]!, x[A1]!, (t) => t.flushTlb());
      case 3: // remote_hfence_gvma_vmid
      case 4: // remote_hfence_gvma
      case 5: // remote_hfence_vvma_asid
      case 6: // remote_hfence_vvma: no hypervisor extension
        return SbiError.NOT_SUPPORTED;
      default:
        return SbiError.NOT_SUPPORTED;
    }
  }

  private hsm(caller: SbiHart, fid: number): SbiRet {
    const x = caller.x;
    switch (fid) {
      case 0: {
        // hart_start(hartid, start_addr, opaque)
        const id = BigInt.asUintN(64, x[A0]!);
        if (id >= BigInt(this.harts.length)) return [SbiError.INVALID_PARAM, 0n];
        const r = this.records[Number(id)]!;
        if (r.state !== HartState.STOPPED) return [SbiError.ALREADY_AVAILABLE, 0n];
        const addr = BigInt.asUintN(64, x[A1]!);
        if (this.platform.readRam(addr, 4) === null) return [SbiError.INVALID_ADDRESS, 0n];
        r.state = HartState.STARTED;
        enterSupervisor(this.harts[Number(id)]!, addr, x[12]!);
        return [SbiError.SUCCESS, 0n];
      }
      case 1: {
        // hart_stop: does not return on success
        const r = this.records[caller.hartId]!;
        r.state = HartState.STOPPED;
        caller.stopRequested = true;
        return [SbiError.SUCCESS, 0n];
      }
      case 2: {
        // hart_get_status(hartid)
        const id = BigInt.asUintN(64, x[A0]!);
        if (id >= BigInt(this.harts.length)) return [SbiError.INVALID_PARAM, 0n];
        return [SbiError.SUCCESS, BigInt(this.records[Number(id)]!.state)];
      }
      case 3: {
        // hart_suspend(suspend_type, resume_addr, opaque)
        const type = Number(BigInt.asUintN(64, x[A0]!) & 0xffff_ffffn);
        if (BigInt.asUintN(64, x[A0]!) > 0xffff_ffffn) return [SbiError.INVALID_PARAM, 0n];
        if (type !== SUSPEND_RETENTIVE && type !== SUSPEND_NON_RETENTIVE) {
          // 0x1000_0000–0x7fff_ffff and 0x9000_0000–0xffff_ffff are platform-specific; the rest reserved.
          const platformSpecific =
            (type >= 0x1000_0000 && type <= 0x7fff_ffff) || (type >= 0x9000_0000 && type <= 0xffff_ffff);
          return [platformSpecific ? SbiError.NOT_SUPPORTED : SbiError.INVALID_PARAM, 0n];
        }
        const r = this.records[caller.hartId]!;
        if (type === SUSPEND_NON_RETENTIVE) {
          const addr = BigInt.asUintN(64, x[A1]!);
          if (this.platform.readRam(addr, 4) === null) return [SbiError.INVALID_ADDRESS, 0n];
          r.resumeAddr = addr;
          r.resumeOpaque = x[12]!;
          r.nonRetentive = true;
        }
        // Like wfi: the machine resumes the hart when an interrupt enabled in sie is pending.
        r.state = HartState.SUSPENDED;
        caller.stopRequested = true;
        return [SbiError.SUCCESS, 0n];
      }
      default:
        return [SbiError.NOT_SUPPORTED, 0n];
    }
  }

  private srst(caller: SbiHart, fid: number, type: bigint, reason: bigint): number {
    if (fid !== 0) return SbiError.NOT_SUPPORTED;
    const t = BigInt.asUintN(64, type);
    const r = BigInt.asUintN(64, reason);
    // reset_reason: 0 none, 1 system failure, 0xf000_0000–0xffff_ffff vendor; the rest reserved.
    if (!(r <= 1n || (r >= 0xf000_0000n && r <= 0xffff_ffffn))) return SbiError.INVALID_PARAM;
    const kind: ResetType | null = t === 0n ? "shutdown" : t === 1n ? "cold-reboot" : t === 2n ? "warm-reboot" : null;
    if (kind === null) return SbiError.INVALID_PARAM;
    this.platform.systemReset(kind, Number(r));
    caller.stopRequested = true;
    return SbiError.SUCCESS;
  }

  /** DBCN (SBI 2.0 §12): console_write, console_read, console_write_byte on physical memory. */
  private dbcn(fid: number, a0: bigint, lo: bigint, hi: bigint): SbiRet {
    if (fid === 2) {
      this.platform.consoleWrite(Uint8Array.of(Number(a0 & 0xffn)));
      return [SbiError.SUCCESS, 0n];
    }
    if (fid !== 0 && fid !== 1) return [SbiError.NOT_SUPPORTED, 0n];
    const num = BigInt.asUintN(64, a0);
    // RV64: the address is base_addr_lo; base_addr_hi must be 0.
    if (hi !== 0n) return [SbiError.INVALID_PARAM, 0n];
    const addr = BigInt.asUintN(64, lo);
    // At most 64 KiB per call: the guest loops on partial writes (the spec allows writing fewer bytes).
    const len = Number(num > 0x1_0000n ? 0x1_0000n : num);
    if (fid === 0) {
      const bytes = this.platform.readRam(addr, len);
      if (bytes === null) return [SbiError.INVALID_PARAM, 0n];
      this.platform.consoleWrite(bytes);
      return [SbiError.SUCCESS, BigInt(len)];
    }
    if (this.platform.readRam(addr, len) === null) return [SbiError.INVALID_PARAM, 0n];
    const got: number[] = [];
    while (got.length < len) {
      const b = this.platform.consoleRead();
      if (b < 0) break;
      got.push(b);
    }
    this.platform.writeRam(addr, Uint8Array.from(got));
    return [SbiError.SUCCESS, BigInt(got.length)];
  }

  /** The SBI 0.1 calls (spec §5). Returns a0. */
  private legacy(hart: SbiHart, eid: number): number {
    const x = hart.x;
    switch (eid) {
      case Eid.LegacySetTimer:
        this.setTimer(hart, x[A0]!);
        return 0;
      case Eid.LegacyConsolePutchar:
        this.platform.consoleWrite(Uint8Array.of(Number(x[A0]! & 0xffn)));
        return 0;
      case Eid.LegacyConsoleGetchar:
        return this.platform.consoleRead();
      case Eid.LegacyClearIpi:
        hart.setPending(Mip.SSIP, false);
        return 0;
      case Eid.LegacySendIpi:
      case Eid.LegacyRemoteFenceI:
      case Eid.LegacyRemoteSfenceVma:
      case Eid.LegacyRemoteSfenceVmaAsid: {
        // a0 is the S-mode virtual address of an unsigned long hart mask; 0 means every hart.
        const ptr = x[A0]!;
        let mask = -1n;
        let base = -1n;
        if (ptr !== 0n) {
          const m = this.readVirtU64(hart, ptr);
          if (m === null) return SbiError.INVALID_ADDRESS;
          mask = m;
          base = 0n;
        }
        if (eid === Eid.LegacySendIpi) return this.forHarts(mask, base, (t) => t.setPending(Mip.SSIP, true));
        if (eid === Eid.LegacyRemoteFenceI) return this.forHarts(mask, base, () => {}); // see rfence
        return this.forHarts(mask, base, (t) => t.flushTlb());
      }
      case Eid.LegacyShutdown:
        this.platform.systemReset("shutdown", 0);
        hart.stopRequested = true;
        return 0;
      default:
        return SbiError.NOT_SUPPORTED;
    }
  }

  /**
   * Read a u64 at S-mode virtual address `va` of `hart` (for the legacy calls' mask pointers): Bare, or a walk of
   * Sv39/Sv48/Sv57 page tables (privileged spec §4.3.2) checking only validity and that the leaf is readable.
   */
  private readVirtU64(hart: SbiHart, va: bigint): bigint | null {
    const satp = BigInt.asUintN(64, hart.csr[CsrSlot.satp]!);
    const mode = satp >> 60n;
    let pa: bigint;
    if (mode === 0n) {
      pa = va;
    } else {
      const levels = mode === 8n ? 3 : mode === 9n ? 4 : mode === 10n ? 5 : 0;
      if (levels === 0) return null;
      let table = (satp & ((1n << 44n) - 1n)) << 12n;
      const v = BigInt.asUintN(64, va);
      let found: bigint | null = null;
      for (let level = levels - 1; level >= 0; level--) {
        const idx = (v >> BigInt(12 + 9 * level)) & 0x1ffn;
        const pte = this.readU64(table + idx * 8n);
        if (pte === null || (pte & 1n) === 0n) return null;
        const ppn = (pte >> 10n) & ((1n << 44n) - 1n);
        if ((pte & 0xen) !== 0n) {
          if ((pte & 2n) === 0n) return null;
          const pageBits = BigInt(12 + 9 * level);
          found = ((ppn << 12n) & ~((1n << pageBits) - 1n)) | (v & ((1n << pageBits) - 1n));
          break;
        }
        table = ppn << 12n;
      }
      if (found === null) return null;
      pa = found;
    }
    return this.readU64(pa);
  }

  private readU64(pa: bigint): bigint | null {
    const b = this.platform.readRam(pa, 8);
    if (b === null) return null;
    return new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true);
  }
}
