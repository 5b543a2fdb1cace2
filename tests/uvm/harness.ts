/**
 * Differential harness for the process VM: builds Linux programs with Debian's riscv64 cross compilers, runs each
 * under qemu-riscv64 (Debian's qemu-user, the oracle) and under popek's ProcessVm (in this process, host file system
 * through HostFs), and returns both results for comparison. Missing tools fail with the Debian package to install.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { ProcessVm } from "../../src/core/uvm/process-vm.ts";
import { HostFs } from "../../src/host/node/host-fs.ts";
import { defaultImage } from "../image/default-image.ts";

const SHARED_IMAGES = process.env.POPEK_IMAGES ?? new URL("../../../shared/images/", import.meta.url).pathname;

/**
 * The guest's initramfs (newc cpio, with its static riscv64 BusyBox): ../shared/images' copy when present, else the
 * project's own default image (built first if missing).
 */
export async function guestInitramfs(): Promise<Uint8Array> {
  const shared = join(SHARED_IMAGES, "initramfs.cpio");
  if (existsSync(shared)) return readFileSync(shared);
  return gunzipSync(readFileSync((await defaultImage()).initrdPath));
}

const run = promisify(execFile);

export const SYSROOT = "/usr/riscv64-linux-gnu";
export const PROGRAMS = new URL("./programs/", import.meta.url).pathname;

const TOOLS: Record<string, string> = {
  "riscv64-linux-gnu-gcc": "gcc-riscv64-linux-gnu",
  "riscv64-linux-gnu-g++": "g++-riscv64-linux-gnu",
  "riscv64-linux-gnu-gccgo": "gccgo-riscv64-linux-gnu",
  "qemu-riscv64": "qemu-user",
};

/** Throw a clear error if `tool` is not installed. */
export async function requireTool(tool: string): Promise<void> {
  try {
    await run(tool, ["--version"], { timeout: 30_000 });
  } catch {
    throw new Error(
      `${tool} not found: install the Debian package ${TOOLS[tool] ?? tool} (apt-get install ${TOOLS[tool] ?? tool})`,
    );
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `popek-uvm-${prefix}-`));
}

export type Linking = "static" | "dynamic";

/** Compile `source` (in tests/uvm/programs) to `out`, with the compiler its extension asks for. */
export async function build(source: string, out: string, linking: Linking): Promise<void> {
  const src = join(PROGRAMS, source);
  const link = linking === "static" ? ["-static"] : [];
  if (source.endsWith(".c")) {
    await run("riscv64-linux-gnu-gcc", ["-O2", "-Wall", ...link, "-o", out, src, "-lpthread"], { timeout: 120_000 });
  } else if (source.endsWith(".cc")) {
    await run("riscv64-linux-gnu-g++", ["-O2", "-std=c++17", ...link, "-o", out, src, "-lpthread"], {
      timeout: 180_000,
    });
  } else if (source.endsWith(".go")) {
    await run("riscv64-linux-gnu-gccgo", ["-O2", ...link, "-o", out, src], { timeout: 180_000 });
  } else throw new Error(`no compiler for ${source}`);
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  /** "exit N" or "signal N". */
  readonly status: string;
}

export interface RunSpec {
  readonly prog: string;
  readonly args?: readonly string[];
  readonly env?: readonly string[];
  readonly stdin?: string;
  readonly cwd: string;
  readonly linking: Linking;
  /** Root folder the program sees (default /). */
  readonly root?: string;
  readonly timeoutMs?: number;
}

/** Run under qemu-riscv64 (with -L for dynamic programs). */
export function runQemu(spec: RunSpec): Promise<RunResult> {
  const args = spec.linking === "dynamic" ? ["-L", SYSROOT] : [];
  const env = Object.fromEntries(
    (spec.env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
  );
  return new Promise((resolve, reject) => {
    const p = spawn("qemu-riscv64", [...args, spec.prog, ...(spec.args ?? [])], { cwd: spec.cwd, env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on("data", (d: Buffer) => out.push(d));
    p.stderr.on("data", (d: Buffer) => err.push(d));
    const timer = setTimeout(() => p.kill("SIGKILL"), spec.timeoutMs ?? 60_000);
    p.on("error", reject);
    p.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        status: signal !== null ? `signal ${signal}` : `exit ${code}`,
      });
    });
    p.stdin.on("error", () => {});
    p.stdin.end(spec.stdin ?? "");
  });
}

const SIGNAL_NAMES: Record<number, string> = { 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM" };

/** Run under popek's process VM in this process. */
export async function runPopek(spec: RunSpec): Promise<RunResult & { instructions: number }> {
  const root = spec.root ?? "/";
  const vm = new ProcessVm({
    argv: [spec.prog, ...(spec.args ?? [])],
    env: spec.env ?? [],
    fs: new HostFs(root),
    sysroot: spec.linking === "dynamic" ? new HostFs(SYSROOT) : null,
    cwd: spec.cwd,
    stdin: spec.stdin ?? "",
    memory: 1024 * 1024 * 1024,
    maxInstructions: 20_000_000_000,
  });
  const r = await vm.run();
  const dec = new TextDecoder();
  const e = r.exit;
  const status =
    e.kind === "exit"
      ? `exit ${e.code}`
      : e.kind === "signal"
        ? `signal ${SIGNAL_NAMES[e.signal] ?? e.signal}`
        : e.kind === "limit"
          ? `limit ${e.limit}`
          : "deadlock";
  return { stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr), status, instructions: r.instructions };
}

/**
 * Unpack a newc cpio archive (the guest image's initramfs.cpio) into `dest`: directories, regular files with their
 * modes and mtimes, symlinks; device nodes and other specials are skipped (the process VM provides /dev itself).
 */
export function unpackCpio(archive: Uint8Array, dest: string): void {
  const dec = new TextDecoder();
  let at = 0;
  const align = (n: number) => (n + 3) & ~3;
  while (at + 110 <= archive.length) {
    const magic = dec.decode(archive.subarray(at, at + 6));
    if (magic !== "070701" && magic !== "070702") throw new Error(`cpio: bad magic at ${at}`);
    const field = (i: number) => Number.parseInt(dec.decode(archive.subarray(at + 6 + 8 * i, at + 14 + 8 * i)), 16);
    const mode = field(1);
    const mtime = field(5);
    const size = field(6);
    const nameSize = field(11);
    const name = dec.decode(archive.subarray(at + 110, at + 110 + nameSize - 1));
    const dataAt = align(at + 110 + nameSize);
    const data = archive.subarray(dataAt, dataAt + size);
    at = align(dataAt + size);
    if (name === "TRAILER!!!") break;
    if (name === "." || name.startsWith("/") || name.split("/").includes("..")) continue;
    const path = join(dest, name);
    const type = mode & 0o170000;
    if (type === 0o040000) mkdirSync(path, { recursive: true, mode: mode & 0o7777 });
    else if (type === 0o100000) {
      writeFileSync(path, data, { mode: mode & 0o7777 });
      utimesSync(path, mtime, mtime);
    } else if (type === 0o120000) symlinkSync(dec.decode(data).replace(/\0+$/, ""), path); // gen_init_cpio adds a NUL
  }
}
