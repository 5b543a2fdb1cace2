/**
 * The file-system backend behind the 9P server (p9-server.ts): one shared folder, addressed by paths of validated
 * name components relative to its root. The server resolves `..` itself and never passes `.`, `..`, empty names or
 * names holding '/' or NUL; a backend checks again (checkName) and must never follow a symbolic link on the host —
 * the guest sees symlinks as symlinks and its own kernel resolves them. Host implementations: src/host/node/share.ts.
 * Names and symlink targets are byte strings (one byte per char code).
 */
import { E, NAME_MAX } from "./p9-proto.ts";

/** A path inside the share: name components from its root ([] is the root). */
export type FsPath = readonly string[];

/** A file system failure as a Linux errno; backends reject with this, the server answers Rlerror(errno). */
export class FsError extends Error {
  readonly errno: number;
  constructor(errno: number, message?: string) {
    super(message ?? `errno ${errno}`);
    this.name = "FsError";
    this.errno = errno;
  }
}

/** lstat of one file (Linux st_mode bits whatever the host). */
export interface FsAttr {
  /** Unique within the share for the file's lifetime (becomes qid.path and st_ino). */
  readonly ino: bigint;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly rdev: number;
  readonly size: number;
  readonly blksize: number;
  readonly blocks: number;
  readonly atimeSec: number;
  readonly atimeNsec: number;
  readonly mtimeSec: number;
  readonly mtimeNsec: number;
  readonly ctimeSec: number;
  readonly ctimeNsec: number;
  /** Birth time, or -1 seconds when the host does not know it. */
  readonly btimeSec: number;
  readonly btimeNsec: number;
}

export interface FsTime {
  readonly sec: number;
  readonly nsec: number;
}

/** What Tsetattr changes; absent fields stay. Times: a value, or "now" (the host's clock). */
export interface FsSetattr {
  mode?: number;
  size?: number;
  atime?: FsTime | "now";
  mtime?: FsTime | "now";
}

export interface FsStatfs {
  readonly type: number;
  readonly bsize: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
  readonly files: number;
  readonly ffree: number;
}

export interface FsDirent {
  readonly name: string;
  /** d_type (DT_* in p9-proto.ts), DT.UNKNOWN if the host does not say. */
  readonly type: number;
}

/** An open regular file or directory. */
export interface FsFile {
  read(dst: Uint8Array, position: number): Promise<number>;
  write(src: Uint8Array, position: number): Promise<number>;
  stat(): Promise<FsAttr>;
  setattr(attr: FsSetattr): Promise<void>;
  sync(dataOnly: boolean): Promise<void>;
  /** Directories: every entry except `.` and `..`. */
  readdir(): Promise<FsDirent[]>;
  /** Directories: lstat of the entry `name`. */
  statEntry(name: string): Promise<FsAttr>;
  /** Release the host handle; waits for operations in flight on it. */
  close(): Promise<void>;
}

/**
 * One shared folder. Every method rejects with FsError on failure. `flags` are Linux O_* values (p9-proto.ts O),
 * already reduced by the server to access mode, TRUNC, APPEND, DSYNC, SYNC, DIRECTORY (and CREAT/EXCL for create).
 */
export interface P9Backend {
  /** Writes of any kind are refused with EROFS (the server checks first; the backend enforces it again). */
  readonly readOnly: boolean;
  lstat(path: FsPath): Promise<FsAttr>;
  /** Open a regular file or directory; anything else (symlink, device, FIFO, socket) is refused. */
  open(path: FsPath, flags: number): Promise<FsFile>;
  /** Create `name` in `dir` (O_EXCL honoured) with permission bits `mode`, or open it if it exists and !O_EXCL. */
  create(dir: FsPath, name: string, flags: number, mode: number): Promise<FsFile>;
  mkdir(dir: FsPath, name: string, mode: number): Promise<FsAttr>;
  symlink(dir: FsPath, name: string, target: string): Promise<FsAttr>;
  /** Hard link: `dir/name` becomes another name of `target` (which must not be a directory). */
  link(target: FsPath, dir: FsPath, name: string): Promise<void>;
  readlink(path: FsPath): Promise<string>;
  unlink(dir: FsPath, name: string, rmdir: boolean): Promise<void>;
  rename(oldDir: FsPath, oldName: string, newDir: FsPath, newName: string): Promise<void>;
  setattr(path: FsPath, attr: FsSetattr): Promise<void>;
  statfs(): Promise<FsStatfs>;
}

/** 0 if `name` may be a directory entry's name, else the errno to answer (EINVAL, ENAMETOOLONG). */
export function checkName(name: string): number {
  if (name === "" || name === "." || name === "..") return E.EINVAL;
  if (name.length > NAME_MAX) return E.ENAMETOOLONG;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2f || c === 0 || c > 0xff) return E.EINVAL;
  }
  return 0;
}
