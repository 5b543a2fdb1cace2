/**
 * The file systems a process VM sees: the FileSystem interface that backends implement (host folder in
 * src/host/node/host-fs.ts, in-memory MemFs here), and path resolution done here, in the core, one component at a
 * time (Linux's path_walk): `..` never climbs above the root, and symlinks, absolute ones included, are resolved
 * inside the root, so no guest path names a file outside it. Backends receive only absolute, normalised paths whose
 * directories contain no symlinks. Results are values: a negative number is -errno.
 */
import { E, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "./abi.ts";

export interface Stat {
  dev: number;
  ino: bigint;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export interface DirEntry {
  readonly name: string;
  readonly ino: bigint;
  /** d_type (abi.ts DT). */
  readonly type: number;
}

/** An open regular file (or a host device). Offsets are the caller's: reads and writes are positional. */
export interface FileHandle {
  pread(buf: Uint8Array, pos: number): number;
  pwrite(buf: Uint8Array, pos: number): number;
  fstat(): Stat | number;
  ftruncate(len: number): number;
  fsync(): number;
  close(): void;
}

/** A file system; paths are absolute and normalised (`/`, `/a/b`), every directory in them symlink-free. */
export interface FileSystem {
  lstat(path: string): Stat | number;
  readlink(path: string): string | number;
  /** Open (and with O_CREAT create) the file at `path`, never following a symlink there. Linux O_* flags. */
  open(path: string, flags: number, mode: number): FileHandle | number;
  readdir(path: string): DirEntry[] | number;
  mkdir(path: string, mode: number): number;
  rmdir(path: string): number;
  unlink(path: string): number;
  rename(from: string, to: string): number;
  link(from: string, to: string): number;
  symlink(target: string, path: string): number;
  chmod(path: string, mode: number): number;
  /** Set times (null: leave unchanged). */
  utimens(path: string, atimeNs: bigint | null, mtimeNs: bigint | null): number;
  truncate(path: string, len: number): number;
}

/** Symlinks followed in one lookup before ELOOP (Linux: 40). */
const MAX_LINKS = 40;
const MAX_PATH = 4096;

/** Split a path into its non-empty components. */
function parts(p: string): string[] {
  return p.split("/").filter((c) => c.length > 0);
}

export function joinPath(comps: readonly string[]): string {
  return `/${comps.join("/")}`;
}

/**
 * Resolve `path` (relative to `cwd`, an absolute normalised path) in `fs`: the absolute symlink-free path, or -errno.
 * With `followLast`, a symlink in the last component is followed too. The last component need not exist (ENOENT is
 * the caller's to report, for O_CREAT / mkdir); missing or non-directory components before it give ENOENT / ENOTDIR.
 */
export function resolvePath(fs: FileSystem, cwd: string, path: string, followLast: boolean): string | number {
  if (path.length === 0) return -E.NOENT;
  if (path.length >= MAX_PATH) return -E.NAMETOOLONG;
  const stack = path.startsWith("/") ? [] : parts(cwd);
  const queue = parts(path);
  // A trailing slash asks for a directory: follow a final symlink and check.
  const mustBeDir = path.endsWith("/");
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === ".") continue;
    if (c === "..") {
      stack.pop();
      continue;
    }
    if (c.length > 255) return -E.NAMETOOLONG;
    stack.push(c);
    const last = queue.length === 0;
    if (last && !followLast && !mustBeDir) break;
    const here = joinPath(stack);
    const st = fs.lstat(here);
    if (typeof st === "number") {
      if (last && st === -E.NOENT) break;
      return st;
    }
    const type = st.mode & S_IFMT;
    if (type === S_IFLNK) {
      if (++links > MAX_LINKS) return -E.LOOP;
      const target = fs.readlink(here);
      if (typeof target === "number") return target;
      stack.pop();
      if (target.startsWith("/")) stack.length = 0;
      queue.unshift(...parts(target));
      continue;
    }
    if (!last && type !== S_IFDIR) return -E.NOTDIR;
    if (last && mustBeDir && type !== S_IFDIR) return -E.NOTDIR;
  }
  return joinPath(stack);
}

/** The parent directory and last component of a normalised path ("/" has none: returns null). */
export function splitLast(path: string): { dir: string; name: string } | null {
  const c = parts(path);
  if (c.length === 0) return null;
  const name = c.pop()!;
  return { dir: joinPath(c), name };
}

// ---- An in-memory file system (embedding, tests) ----

interface MemNode {
  ino: bigint;
  mode: number;
  nlink: number;
  data: Uint8Array;
  size: number;
  target: string;
  children: Map<string, MemNode> | null;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** A small in-memory file system: directories, regular files, symlinks, hard links. */
export class MemFs implements FileSystem {
  private readonly root: MemNode;
  private nextIno = 2n;
  private readonly now: () => bigint;

  constructor(now: () => bigint = () => BigInt(Date.now()) * 1_000_000n) {
    this.now = now;
    this.root = this.node(S_IFDIR | 0o755);
  }

  private node(mode: number): MemNode {
    const t = this.now();
    return {
      ino: this.nextIno++,
      mode,
      nlink: 1,
      data: new Uint8Array(0),
      size: 0,
      target: "",
      children: (mode & S_IFMT) === S_IFDIR ? new Map() : null,
      atimeNs: t,
      mtimeNs: t,
      ctimeNs: t,
    };
  }

  private get(path: string): MemNode | number {
    let n = this.root;
    for (const c of parts(path)) {
      if (n.children === null) return -E.NOTDIR;
      const next = n.children.get(c);
      if (next === undefined) return -E.NOENT;
      n = next;
    }
    return n;
  }

  private parent(path: string): { dir: MemNode; name: string } | number {
    const s = splitLast(path);
    if (s === null) return -E.EXIST;
    const dir = this.get(s.dir);
    if (typeof dir === "number") return dir;
    if (dir.children === null) return -E.NOTDIR;
    return { dir, name: s.name };
  }

  /** Create or replace a file with `data` (host-side helper; creates parent directories). */
  writeFile(path: string, data: Uint8Array | string, mode = 0o644): void {
    const c = parts(path);
    let n = this.root;
    for (const name of c.slice(0, -1)) {
      let next = n.children!.get(name);
      if (next === undefined) {
        next = this.node(S_IFDIR | 0o755);
        n.children!.set(name, next);
      }
      n = next;
    }
    const f = this.node(S_IFREG | mode);
    f.data = typeof data === "string" ? new TextEncoder().encode(data) : data.slice();
    f.size = f.data.length;
    n.children!.set(c[c.length - 1]!, f);
  }

  /** Read a whole file (host-side helper), or null. */
  readFile(path: string): Uint8Array | null {
    const n = this.get(path);
    return typeof n === "number" || n.children !== null ? null : n.data.slice(0, n.size);
  }

  private statOf(n: MemNode): Stat {
    return {
      dev: 1,
      ino: n.ino,
      mode: n.mode,
      nlink: n.nlink,
      uid: 0,
      gid: 0,
      rdev: 0,
      size: (n.mode & S_IFMT) === S_IFLNK ? n.target.length : n.children !== null ? 4096 : n.size,
      blksize: 4096,
      blocks: Math.ceil(n.size / 512),
      atimeNs: n.atimeNs,
      mtimeNs: n.mtimeNs,
      ctimeNs: n.ctimeNs,
    };
  }

  lstat(path: string): Stat | number {
    const n = this.get(path);
    return typeof n === "number" ? n : this.statOf(n);
  }

  readlink(path: string): string | number {
    const n = this.get(path);
    if (typeof n === "number") return n;
    return (n.mode & S_IFMT) === S_IFLNK ? n.target : -E.INVAL;
  }

  open(path: string, flags: number, mode: number): FileHandle | number {
    let n = this.get(path);
    if (n === -E.NOENT && (flags & 0o100) !== 0) {
      const p = this.parent(path);
      if (typeof p === "number") return p;
      n = this.node(S_IFREG | (mode & 0o7777));
      p.dir.children!.set(p.name, n);
    } else if (typeof n !== "number" && (flags & 0o300) === 0o300) return -E.EXIST;
    if (typeof n === "number") return n;
    if ((n.mode & S_IFMT) === S_IFLNK) return -E.LOOP;
    if (n.children !== null && (flags & 3) !== 0) return -E.ISDIR;
    if ((flags & 0o1000) !== 0 && n.children === null && (flags & 3) !== 0) n.size = 0;
    const node = n;
    const fs = this;
    return {
      pread(buf, pos) {
        if (node.children !== null) return -E.ISDIR;
        const len = Math.max(0, Math.min(buf.length, node.size - pos));
        buf.set(node.data.subarray(pos, pos + len));
        return len;
      },
      pwrite(buf, pos) {
        const end = pos + buf.length;
        if (end > node.data.length) {
          const grown = new Uint8Array(Math.max(end, node.data.length * 2));
          grown.set(node.data.subarray(0, node.size));
          node.data = grown;
        }
        if (pos > node.size) node.data.fill(0, node.size, pos);
        node.data.set(buf, pos);
        node.size = Math.max(node.size, end);
        node.mtimeNs = fs.now();
        return buf.length;
      },
      fstat: () => fs.statOf(node),
      ftruncate(len) {
        fs.resize(node, len);
        return 0;
      },
      fsync: () => 0,
      close() {},
    };
  }

  private resize(n: MemNode, len: number): void {
    if (len > n.data.length) {
      const grown = new Uint8Array(len);
      grown.set(n.data.subarray(0, n.size));
      n.data = grown;
    } else n.data.fill(0, len, n.size);
    n.size = len;
    n.mtimeNs = this.now();
  }

  readdir(path: string): DirEntry[] | number {
    const n = this.get(path);
    if (typeof n === "number") return n;
    if (n.children === null) return -E.NOTDIR;
    const out: DirEntry[] = [];
    for (const [name, c] of n.children) out.push({ name, ino: c.ino, type: ((c.mode & S_IFMT) >>> 12) & 15 });
    return out;
  }

  mkdir(path: string, mode: number): number {
    const p = this.parent(path);
    if (typeof p === "number") return p;
    if (p.dir.children!.has(p.name)) return -E.EXIST;
    p.dir.children!.set(p.name, this.node(S_IFDIR | (mode & 0o7777)));
    return 0;
  }

  rmdir(path: string): number {
    const p = this.parent(path);
    if (typeof p === "number") return p;
    const n = p.dir.children!.get(p.name);
    if (n === undefined) return -E.NOENT;
    if (n.children === null) return -E.NOTDIR;
    if (n.children.size > 0) return -E.NOTEMPTY;
    p.dir.children!.delete(p.name);
    return 0;
  }

  unlink(path: string): number {
    const p = this.parent(path);
    if (typeof p === "number") return p;
    const n = p.dir.children!.get(p.name);
    if (n === undefined) return -E.NOENT;
    if (n.children !== null) return -E.ISDIR;
    n.nlink--;
    p.dir.children!.delete(p.name);
    return 0;
  }

  rename(from: string, to: string): number {
    const a = this.parent(from);
    const b = this.parent(to);
    if (typeof a === "number") return a;
    if (typeof b === "number") return b;
    const n = a.dir.children!.get(a.name);
    if (n === undefined) return -E.NOENT;
    const old = b.dir.children!.get(b.name);
    if (old !== undefined && old.children !== null && old.children.size > 0) return -E.NOTEMPTY;
    a.dir.children!.delete(a.name);
    b.dir.children!.set(b.name, n);
    return 0;
  }

  link(from: string, to: string): number {
    const n = this.get(from);
    if (typeof n === "number") return n;
    const b = this.parent(to);
    if (typeof b === "number") return b;
    if (b.dir.children!.has(b.name)) return -E.EXIST;
    n.nlink++;
    b.dir.children!.set(b.name, n);
    return 0;
  }

  symlink(target: string, path: string): number {
    const p = this.parent(path);
    if (typeof p === "number") return p;
    if (p.dir.children!.has(p.name)) return -E.EXIST;
    const n = this.node(S_IFLNK | 0o777);
    n.target = target;
    p.dir.children!.set(p.name, n);
    return 0;
  }

  chmod(path: string, mode: number): number {
    const n = this.get(path);
    if (typeof n === "number") return n;
    n.mode = (n.mode & S_IFMT) | (mode & 0o7777);
    return 0;
  }

  utimens(path: string, atimeNs: bigint | null, mtimeNs: bigint | null): number {
    const n = this.get(path);
    if (typeof n === "number") return n;
    if (atimeNs !== null) n.atimeNs = atimeNs;
    if (mtimeNs !== null) n.mtimeNs = mtimeNs;
    return 0;
  }

  truncate(path: string, len: number): number {
    const n = this.get(path);
    if (typeof n === "number") return n;
    if (n.children !== null) return -E.ISDIR;
    this.resize(n, len);
    return 0;
  }
}
