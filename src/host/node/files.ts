/**
 * Reading guest input files (ELF programs, later kernels and disk images) from the host file system, with errors that
 * say what went wrong in a few words instead of Node's `ENOENT: no such file or directory, open '…'`.
 */
import { open } from "node:fs/promises";

/** A host file that could not be read; `code` is the errno name (`ENOENT`, `EISDIR`, …) or `ENOTREG`/`EFBIG`. */
export class FileError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "FileError";
    this.code = code;
  }
}

/** Largest input file read whole into memory (Node's Buffer limit is about this). */
const MAX_FILE = 2 ** 31 - 1;

const REASONS: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "a parent of it is not a directory",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "file name too long",
};

/** Read a regular file whole. Throws FileError with a short reason (the caller adds the path). */
export async function readInputFile(path: string): Promise<Uint8Array> {
  try {
    const file = await open(path, "r");
    try {
      const st = await file.stat();
      if (st.isDirectory()) throw new FileError("EISDIR", REASONS.EISDIR!);
      if (!st.isFile()) throw new FileError("ENOTREG", "not a regular file");
      if (st.size > MAX_FILE) throw new FileError("EFBIG", `too large (${st.size} bytes)`);
      return new Uint8Array(await file.readFile());
    } finally {
      await file.close();
    }
  } catch (e) {
    if (e instanceof FileError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new FileError(code, REASONS[code] ?? (e as Error).message);
  }
}
