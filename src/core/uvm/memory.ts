/**
 * The process VM's memory: guest "physical" RAM handed out in 4 KiB frames (reference-counted, so fork can share
 * pages copy-on-write), and per-process address spaces kept as Linux keeps them: a sorted list of VMAs (start, end,
 * protection, private or shared, file contents) and Sv39 page tables in RAM that the hart's MMU walks (privileged
 * spec 1.12 §4.4). Pages are filled on demand from page faults, like Linux's demand paging. Left out: file-backed
 * MAP_SHARED write-back (such mappings behave as MAP_PRIVATE), swap, huge pages, stack auto-growth below the 8 MiB VMA.
 */
import { MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE } from "./abi.ts";

export const PAGE = 4096;
/** Sv39 user addresses are below 2^38 (the lower half of the 39-bit space). */
export const USER_TOP = 2 ** 38;
const TWO32 = 2 ** 32;

// PTE bits (privileged spec §4.3.1); COW is a software bit (RSW, bit 8).
const PTE_V = 0x01;
const PTE_R = 0x02;
const PTE_W = 0x04;
const PTE_X = 0x08;
const PTE_U = 0x10;
const PTE_A = 0x40;
const PTE_D = 0x80;
const PTE_COW = 0x100;
/** Software bit (RSW, bit 9) with V clear: a page kept (with its frame) under PROT_NONE. */
const PTE_PARK = 0x200;

/** Why a page fault could not be resolved. */
export const Fault = { Ok: 0, MapErr: 1, AccErr: 2, NoMem: 3 } as const;

/** Frames of RAM: allocation with reference counts; freed frames are zeroed when handed out again. */
export class PhysMem {
  /** RAM bytes (guest physical `ramBase` is index 0). */
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly ramBase: number;
  readonly frames: number;
  readonly refs: Int32Array;
  private readonly freeList: Int32Array;
  private nfree = 0;
  private readonly dirty: Uint8Array;
  /** Called when the host changes RAM bytes (so the hart drops decoded instructions there): RAM offset, length. */
  onWrite: (off: number, len: number) => void = () => {};
  /** Frames in use, and the most ever in use. */
  used = 0;
  peak = 0;

  constructor(buffer: ArrayBufferLike, ramOffset: number, ramBase: number, ramSize: number) {
    this.u8 = new Uint8Array(buffer, ramOffset, ramSize);
    this.i32 = new Int32Array(buffer, ramOffset, ramSize >>> 2);
    this.ramBase = ramBase;
    this.frames = Math.floor(ramSize / PAGE);
    this.refs = new Int32Array(this.frames);
    this.freeList = new Int32Array(this.frames);
    this.dirty = new Uint8Array(this.frames);
    for (let f = this.frames - 1; f >= 0; f--) this.freeList[this.nfree++] = f;
  }

  get free(): number {
    return this.nfree;
  }

  /** A zeroed frame with one reference, or -1 when RAM is exhausted. */
  alloc(): number {
    if (this.nfree === 0) return -1;
    const f = this.freeList[--this.nfree]!;
    if (this.dirty[f] !== 0) {
      this.u8.fill(0, f * PAGE, f * PAGE + PAGE);
      this.onWrite(f * PAGE, PAGE);
      this.dirty[f] = 0;
    }
    this.refs[f] = 1;
    this.used++;
    if (this.used > this.peak) this.peak = this.used;
    return f;
  }

  incref(f: number): void {
    this.refs[f]!++;
  }

  decref(f: number): void {
    if (--this.refs[f]! === 0) {
      this.dirty[f] = 1;
      this.freeList[this.nfree++] = f;
      this.used--;
    }
  }

  /** Guest physical page number of frame `f`. */
  ppn(f: number): number {
    return this.ramBase / PAGE + f;
  }
}

/** Pages shared between processes (MAP_SHARED anonymous memory): a frame per page, -1 until first touched. */
export class SharedPages {
  readonly frames: Int32Array;
  refs = 0;
  constructor(pages: number) {
    this.frames = new Int32Array(pages).fill(-1);
  }
}

/** A virtual memory area: [start, end), page-aligned. */
export interface Vma {
  start: number;
  end: number;
  prot: number;
  /** MAP_SHARED | MAP_PRIVATE (and the other mmap flags kept for /proc-like reports). */
  flags: number;
  /** Initial contents from `start` on (a file's bytes), or null for zero-filled memory. */
  data: Uint8Array | null;
  /** For shared anonymous memory: the pages and the page index of `start` in them. */
  shared: SharedPages | null;
  sharedPage: number;
  name: string;
}

/** TLB maintenance the address space asks of the hart. */
export interface TlbControl {
  flushPage(va: number): void;
  flushAll(): void;
}

export class AddressSpace {
  readonly mem: PhysMem;
  readonly asid: number;
  /** Frame of the root page table. */
  readonly root: number;
  vmas: Vma[] = [];
  brkStart = 0;
  brk = 0;
  /** Top-down mmap placement starts below this address. */
  mmapBase = 0;
  /** Set while this is the hart's current address space. */
  tlb: TlbControl | null = null;
  /** Frames of page-table pages (freed with the space). */
  private readonly tables: number[] = [];

  private constructor(mem: PhysMem, asid: number, root: number) {
    this.mem = mem;
    this.asid = asid;
    this.root = root;
  }

  /** A new empty address space, or null when RAM is exhausted. */
  static create(mem: PhysMem, asid: number): AddressSpace | null {
    const root = mem.alloc();
    if (root < 0) return null;
    const as = new AddressSpace(mem, asid, root);
    as.tables.push(root);
    return as;
  }

  /** satp for this space: Sv39, ASID, root PPN. */
  satp(): bigint {
    return (8n << 60n) | (BigInt(this.asid) << 44n) | BigInt(this.mem.ppn(this.root));
  }

  // ---- Page tables ----

  /** RAM byte offset of the leaf PTE for `va`, creating intermediate tables when `create`; -1 if absent/no RAM. */
  pteOffset(va: number, create: boolean): number {
    const mem = this.mem;
    const i32 = mem.i32;
    let table = this.root;
    for (let level = 2; level > 0; level--) {
      const idx = Math.floor(va / 2 ** (12 + 9 * level)) % 512;
      const off = table * PAGE + idx * 8;
      const lo = i32[off >>> 2]!;
      if ((lo & PTE_V) === 0) {
        if (!create) return -1;
        const f = mem.alloc();
        if (f < 0) return -1;
        this.tables.push(f);
        writePte(i32, off, mem.ppn(f) * 1024 + PTE_V);
        table = f;
      } else {
        table = Math.floor(readPte(i32, off) / 1024) - mem.ramBase / PAGE;
      }
    }
    return table * PAGE + (Math.floor(va / PAGE) % 512) * 8;
  }

  /** The frame mapped at `va` (leaf present), or -1. */
  frameAt(va: number): number {
    const off = this.pteOffset(va, false);
    if (off < 0) return -1;
    const i32 = this.mem.i32;
    if ((i32[off >>> 2]! & PTE_V) === 0) return -1;
    return Math.floor(readPte(i32, off) / 1024) - this.mem.ramBase / PAGE;
  }

  /** Call `fn` with the RAM offset of every present leaf PTE in [start, end), skipping empty tables. */
  private forEachPte(start: number, end: number, fn: (off: number, va: number) => void): void {
    const i32 = this.mem.i32;
    const base = this.mem.ramBase / PAGE;
    for (let va = start; va < end; ) {
      const i2 = Math.floor(va / 2 ** 30) % 512;
      const e2 = this.root * PAGE + i2 * 8;
      if ((i32[e2 >>> 2]! & PTE_V) === 0) {
        va = (Math.floor(va / 2 ** 30) + 1) * 2 ** 30;
        continue;
      }
      const t1 = Math.floor(readPte(i32, e2) / 1024) - base;
      const i1 = Math.floor(va / 2 ** 21) % 512;
      const e1 = t1 * PAGE + i1 * 8;
      if ((i32[e1 >>> 2]! & PTE_V) === 0) {
        va = (Math.floor(va / 2 ** 21) + 1) * 2 ** 21;
        continue;
      }
      const t0 = Math.floor(readPte(i32, e1) / 1024) - base;
      const stop = Math.min(end, (Math.floor(va / 2 ** 21) + 1) * 2 ** 21);
      for (; va < stop; va += PAGE) {
        const off = t0 * PAGE + (Math.floor(va / PAGE) % 512) * 8;
        if ((i32[off >>> 2]! & (PTE_V | PTE_PARK)) !== 0) fn(off, va);
      }
    }
  }

  private frameOfPte(off: number): number {
    return Math.floor(readPte(this.mem.i32, off) / 1024) - this.mem.ramBase / PAGE;
  }

  /** Map frame `f` at `va` with `prot` (the reference is the caller's, now owned by the page table). */
  private install(off: number, f: number, prot: number, cow: boolean): void {
    writePte(this.mem.i32, off, this.mem.ppn(f) * 1024 + pteFlags(prot, cow));
  }

  /** Remove the leaf mappings in [start, end) and drop their frames. */
  private unmapPages(start: number, end: number): void {
    const i32 = this.mem.i32;
    let any = false;
    this.forEachPte(start, end, (off) => {
      this.mem.decref(this.frameOfPte(off));
      i32[off >>> 2] = 0;
      i32[(off >>> 2) + 1] = 0;
      any = true;
    });
    if (any) this.tlb?.flushAll();
  }

  // ---- VMAs ----

  find(va: number): Vma | null {
    const v = this.vmas;
    let lo = 0;
    let hi = v.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = v[mid]!;
      if (va < m.start) hi = mid - 1;
      else if (va >= m.end) lo = mid + 1;
      else return m;
    }
    return null;
  }

  /** Whether [start, end) overlaps no VMA. */
  isFree(start: number, end: number): boolean {
    for (const m of this.vmas) if (m.start < end && m.end > start) return false;
    return true;
  }

  /** The highest free gap of `len` bytes below `below` (top-down, as Linux places mmaps), or -1. */
  findFree(len: number, below: number = this.mmapBase): number {
    let top = below;
    for (let i = this.vmas.length - 1; i >= -1; i--) {
      const m = this.vmas[i];
      if (m !== undefined && m.start >= top) continue;
      const gapLo = m === undefined ? PAGE * 16 : m.end;
      if (top - gapLo >= len) return top - len;
      if (m !== undefined) top = Math.min(top, m.start);
    }
    return -1;
  }

  /** Split VMAs so that `addr` is a boundary. */
  private splitAt(addr: number): void {
    const m = this.find(addr);
    if (m === null || m.start === addr) return;
    const tail: Vma = {
      ...m,
      start: addr,
      data: m.data === null ? null : m.data.subarray(Math.min(m.data.length, addr - m.start)),
      sharedPage: m.sharedPage + (addr - m.start) / PAGE,
    };
    m.end = addr;
    const i = this.vmas.indexOf(m);
    this.vmas.splice(i + 1, 0, tail);
  }

  /** Remove every mapping in [start, end). */
  unmap(start: number, end: number): void {
    this.splitAt(start);
    this.splitAt(end);
    const keep: Vma[] = [];
    for (const m of this.vmas) {
      if (m.start >= start && m.end <= end) {
        if (m.shared !== null) this.releaseShared(m.shared, m);
      } else keep.push(m);
    }
    this.vmas = keep;
    this.unmapPages(start, end);
  }

  private releaseShared(s: SharedPages, m: Vma): void {
    // Only the VMA's share of pages is released when the last mapping goes; partial unmaps keep the frames.
    if (--s.refs === 0) {
      for (let i = 0; i < s.frames.length; i++) if (s.frames[i]! >= 0) this.mem.decref(s.frames[i]!);
      s.frames.fill(-1);
    }
    void m;
  }

  /** Add a mapping over [start, end) (replacing what was there). */
  map(start: number, end: number, prot: number, flags: number, data: Uint8Array | null, name = ""): Vma {
    this.unmap(start, end);
    const shared = (flags & MAP_SHARED) !== 0 && data === null ? new SharedPages((end - start) / PAGE) : null;
    if (shared !== null) shared.refs = 1;
    const vma: Vma = { start, end, prot, flags, data, shared, sharedPage: 0, name };
    let i = 0;
    while (i < this.vmas.length && this.vmas[i]!.start < start) i++;
    this.vmas.splice(i, 0, vma);
    return vma;
  }

  /** mprotect: change protection of [start, end), which must be fully mapped. Returns false if not. */
  protect(start: number, end: number, prot: number): boolean {
    for (let a = start; a < end; ) {
      const m = this.find(a);
      if (m === null) return false;
      a = m.end;
    }
    this.splitAt(start);
    this.splitAt(end);
    for (const m of this.vmas) if (m.start >= start && m.end <= end) m.prot = prot;
    const mem = this.mem;
    this.forEachPte(start, end, (off, va) => {
      const m = this.find(va)!;
      const f = this.frameOfPte(off);
      const priv = m.shared === null;
      const cow = priv && (prot & PROT_WRITE) !== 0 && mem.refs[f]! > 1;
      this.install(off, f, prot, cow);
    });
    this.tlb?.flushAll();
    this.mergeAdjacent();
    return true;
  }

  /** Merge neighbouring anonymous private VMAs with equal attributes (keeps the list short for malloc's churn). */
  mergeAdjacent(): void {
    const out: Vma[] = [];
    for (const m of this.vmas) {
      const p = out[out.length - 1];
      if (
        p !== undefined &&
        p.end === m.start &&
        p.prot === m.prot &&
        p.flags === m.flags &&
        p.data === null &&
        m.data === null &&
        p.shared === null &&
        m.shared === null &&
        p.name === m.name
      ) {
        p.end = m.end;
      } else out.push(m);
    }
    this.vmas = out;
  }

  /**
   * mremap of [old, old + oldLen) to `newLen` bytes: in place when possible, else (with `mayMove`) to a new address.
   * Returns the new address or a negative errno-style code: -1 not a single mapping, -2 no room.
   */
  remap(old: number, oldLen: number, newLen: number, mayMove: boolean, fixed: number): number {
    const m = this.find(old);
    if (m === null || old + oldLen > m.end) return -1;
    if (newLen <= oldLen && fixed < 0) {
      if (newLen < oldLen) this.unmap(old + newLen, old + oldLen);
      return old;
    }
    const inPlace = old + oldLen === m.end && fixed < 0 && old + newLen <= USER_TOP && this.isFree(m.end, old + newLen);
    if (inPlace && m.shared === null) {
      m.end = old + newLen;
      return old;
    }
    if (!mayMove) return -2;
    const dest = fixed >= 0 ? fixed : this.findFree(newLen);
    if (dest < 0) return -2;
    if (fixed >= 0) this.unmap(dest, dest + newLen);
    // Move the page-table entries (frames keep their contents), then the VMA.
    this.splitAt(old);
    this.splitAt(old + oldLen);
    const src = this.find(old)!;
    const moved: { va: number; lo: number; hi: number }[] = [];
    const i32 = this.mem.i32;
    this.forEachPte(old, old + oldLen, (off, va) => {
      moved.push({ va: va - old + dest, lo: i32[off >>> 2]!, hi: i32[(off >>> 2) + 1]! });
      i32[off >>> 2] = 0;
      i32[(off >>> 2) + 1] = 0;
    });
    this.vmas.splice(this.vmas.indexOf(src), 1);
    const nv: Vma = { ...src, start: dest, end: dest + newLen };
    let i = 0;
    while (i < this.vmas.length && this.vmas[i]!.start < dest) i++;
    this.vmas.splice(i, 0, nv);
    for (const p of moved) {
      const off = this.pteOffset(p.va, true);
      if (off < 0) return -2;
      i32[off >>> 2] = p.lo;
      i32[(off >>> 2) + 1] = p.hi;
    }
    this.tlb?.flushAll();
    return dest;
  }

  /** madvise(MADV_DONTNEED): private anonymous pages read back as zero. */
  discard(start: number, end: number): void {
    const i32 = this.mem.i32;
    this.forEachPte(start, end, (off, va) => {
      const m = this.find(va);
      if (m === null || m.shared !== null) return;
      this.mem.decref(this.frameOfPte(off));
      i32[off >>> 2] = 0;
      i32[(off >>> 2) + 1] = 0;
    });
    this.tlb?.flushAll();
  }

  // ---- Faults ----

  /**
   * Resolve a fault at `va` for `access` (0 fetch, 1 load, 2 store), as Linux's handle_mm_fault: a page inside a VMA
   * that allows the access is filled (zero, file bytes, or the shared page) or copied (copy-on-write).
   */
  fault(va: number, access: number): number {
    const m = this.find(va);
    if (m === null) return Fault.MapErr;
    const need = access === 0 ? PROT_EXEC : access === 1 ? PROT_READ : PROT_WRITE;
    if ((m.prot & need) === 0 && !(access === 1 && (m.prot & PROT_WRITE) !== 0)) return Fault.AccErr;
    const page = va - (va % PAGE);
    const off = this.pteOffset(page, true);
    if (off < 0) return Fault.NoMem;
    const mem = this.mem;
    const i32 = mem.i32;
    const lo = i32[off >>> 2]!;
    if ((lo & PTE_PARK) !== 0) {
      // Parked under PROT_NONE and the VMA now allows the access (protect re-installs, so rarely reached).
      this.install(off, this.frameOfPte(off), m.prot, (lo & PTE_COW) !== 0 || mem.refs[this.frameOfPte(off)]! > 1);
      return Fault.Ok;
    }
    if ((lo & PTE_V) === 0) {
      let f: number;
      if (m.shared !== null) {
        const idx = m.sharedPage + (page - m.start) / PAGE;
        // Grown by mremap past the shared object's pages: nothing backs it (Linux: SIGBUS).
        if (idx >= m.shared.frames.length) return Fault.MapErr;
        f = m.shared.frames[idx]!;
        if (f < 0) {
          f = mem.alloc();
          if (f < 0) return Fault.NoMem;
          m.shared.frames[idx] = f;
        }
        mem.incref(f);
      } else {
        f = mem.alloc();
        if (f < 0) return Fault.NoMem;
        if (m.data !== null) {
          const at = page - m.start;
          if (at < m.data.length) {
            const n = Math.min(PAGE, m.data.length - at);
            mem.u8.set(m.data.subarray(at, at + n), f * PAGE);
            mem.onWrite(f * PAGE, n);
          }
        }
      }
      this.install(off, f, m.prot, false);
      return Fault.Ok;
    }
    if (access === 2 && (lo & PTE_COW) !== 0) {
      const f = this.frameOfPte(off);
      if (mem.refs[f] === 1) {
        this.install(off, f, m.prot, false);
      } else {
        const nf = mem.alloc();
        if (nf < 0) return Fault.NoMem;
        mem.u8.copyWithin(nf * PAGE, f * PAGE, f * PAGE + PAGE);
        mem.onWrite(nf * PAGE, PAGE);
        mem.decref(f);
        this.install(off, nf, m.prot, false);
      }
      this.tlb?.flushPage(page);
      return Fault.Ok;
    }
    // Present with the right permission: a stale TLB entry (another thread changed the mapping).
    if ((lo & (access === 0 ? PTE_X : access === 1 ? PTE_R : PTE_W)) !== 0) {
      this.tlb?.flushPage(page);
      return Fault.Ok;
    }
    return Fault.AccErr;
  }

  // ---- Fork and teardown ----

  /** A copy-on-write copy of this space (fork): private writable pages become read-only in both. */
  fork(asid: number): AddressSpace | null {
    const child = AddressSpace.create(this.mem, asid);
    if (child === null) return null;
    child.brkStart = this.brkStart;
    child.brk = this.brk;
    child.mmapBase = this.mmapBase;
    const mem = this.mem;
    const i32 = mem.i32;
    for (const m of this.vmas) {
      if (m.shared !== null) m.shared.refs++;
      child.vmas.push({ ...m });
      let failed = false;
      this.forEachPte(m.start, m.end, (off, va) => {
        if (failed) return;
        const f = this.frameOfPte(off);
        const coff = child.pteOffset(va, true);
        if (coff < 0) {
          failed = true;
          return;
        }
        mem.incref(f);
        if (m.shared === null && (m.prot & PROT_WRITE) !== 0) {
          this.install(off, f, m.prot, true);
          child.install(coff, f, m.prot, true);
        } else {
          i32[coff >>> 2] = i32[off >>> 2]!;
          i32[(coff >>> 2) + 1] = i32[(off >>> 2) + 1]!;
        }
      });
      if (failed) {
        child.destroy();
        return null;
      }
    }
    this.tlb?.flushAll();
    return child;
  }

  /** Release every page and page table. */
  destroy(): void {
    for (const m of this.vmas) if (m.shared !== null) this.releaseShared(m.shared, m);
    const all = this.vmas;
    this.vmas = [];
    for (const m of all) {
      this.forEachPte(m.start, m.end, (off) => {
        this.mem.decref(this.frameOfPte(off));
      });
    }
    for (const t of this.tables) {
      this.mem.u8.fill(0, t * PAGE, t * PAGE + PAGE);
      this.mem.decref(t);
    }
    this.tables.length = 0;
  }

  /** Map a frame the caller keeps alive (the signal trampoline) at `va`, read + execute. */
  mapFixedFrame(va: number, f: number, name: string): boolean {
    const off = this.pteOffset(va, true);
    if (off < 0) return false;
    this.mem.incref(f);
    this.install(off, f, PROT_READ | PROT_EXEC, false);
    this.vmas.push({
      start: va,
      end: va + PAGE,
      prot: PROT_READ | PROT_EXEC,
      flags: MAP_SHARED,
      data: null,
      shared: null,
      sharedPage: 0,
      name,
    });
    this.vmas.sort((a, b) => a.start - b.start);
    return true;
  }

  // ---- Host access to guest memory (copy_from_user / copy_to_user) ----

  /** RAM offset of `va` for an access, faulting the page in as the guest would; -1 if the access is not allowed. */
  hostOffset(va: number, write: boolean): number {
    if (!(va >= 0 && va < USER_TOP)) return -1;
    const page = va - (va % PAGE);
    let off = this.pteOffset(page, false);
    const i32 = this.mem.i32;
    let lo = off < 0 ? 0 : i32[off >>> 2]!;
    const need = write ? PTE_W : PTE_R;
    if ((lo & PTE_V) === 0 || (lo & need) === 0) {
      if (this.fault(va, write ? 2 : 1) !== Fault.Ok) return -1;
      off = this.pteOffset(page, false);
      lo = i32[off >>> 2]!;
      if ((lo & need) === 0) return -1;
    }
    return this.frameOfPte(off) * PAGE + (va % PAGE);
  }

  /** Copy `len` guest bytes at `va` out, or null (EFAULT). */
  read(va: number, len: number): Uint8Array | null {
    const out = new Uint8Array(len);
    return this.readInto(va, out) ? out : null;
  }

  readInto(va: number, out: Uint8Array): boolean {
    const u8 = this.mem.u8;
    for (let done = 0; done < out.length; ) {
      const a = va + done;
      const n = Math.min(out.length - done, PAGE - (a % PAGE));
      const h = this.hostOffset(a, false);
      if (h < 0) return false;
      out.set(u8.subarray(h, h + n), done);
      done += n;
    }
    return true;
  }

  /** Copy bytes into guest memory at `va`; false (EFAULT) if some page is not writable. */
  write(va: number, bytes: Uint8Array): boolean {
    const mem = this.mem;
    for (let done = 0; done < bytes.length; ) {
      const a = va + done;
      const n = Math.min(bytes.length - done, PAGE - (a % PAGE));
      const h = this.hostOffset(a, true);
      if (h < 0) return false;
      mem.u8.set(bytes.subarray(done, done + n), h);
      mem.onWrite(h, n);
      done += n;
    }
    return true;
  }

  /** A NUL-terminated string at `va` (at most `max` bytes), or null on a fault or when too long. */
  readCString(va: number, max = 4096): Uint8Array | null {
    const u8 = this.mem.u8;
    const parts: number[] = [];
    for (let a = va; a - va < max; ) {
      const h = this.hostOffset(a, false);
      if (h < 0) return null;
      const n = PAGE - (a % PAGE);
      for (let i = 0; i < n; i++) {
        const b = u8[h + i]!;
        if (b === 0) return Uint8Array.from(parts);
        parts.push(b);
      }
      a += n;
    }
    return null;
  }

  readU64(va: number): bigint | null {
    const b = this.read(va, 8);
    return b === null ? null : new DataView(b.buffer).getBigUint64(0, true);
  }

  writeU64(va: number, v: bigint): boolean {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    return this.write(va, b);
  }

  readU32(va: number): number | null {
    const b = this.read(va, 4);
    return b === null ? null : new DataView(b.buffer).getUint32(0, true);
  }

  writeU32(va: number, v: number): boolean {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    return this.write(va, b);
  }

  /** Resident pages (for getrusage's maxrss and /proc-like reports). */
  residentPages(): number {
    let n = 0;
    for (const m of this.vmas) this.forEachPte(m.start, m.end, () => n++);
    return n;
  }
}

function pteFlags(prot: number, cow: boolean): number {
  // V with R = W = X = 0 would point to another table: PROT_NONE pages are parked, invalid to the MMU.
  if ((prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) === 0) return PTE_PARK | (cow ? PTE_COW : 0);
  let f = PTE_V | PTE_U | PTE_A | PTE_D;
  if ((prot & (PROT_READ | PROT_WRITE)) !== 0) f |= PTE_R;
  if ((prot & PROT_WRITE) !== 0) f |= cow ? PTE_COW : PTE_W;
  if ((prot & PROT_EXEC) !== 0) f |= PTE_X;
  return f;
}

function readPte(i32: Int32Array, off: number): number {
  return (i32[(off >>> 2) + 1]! >>> 0) * TWO32 + (i32[off >>> 2]! >>> 0);
}

function writePte(i32: Int32Array, off: number, v: number): void {
  i32[off >>> 2] = v % TWO32;
  i32[(off >>> 2) + 1] = Math.floor(v / TWO32);
}
