/**
 * `popek exec`: run a RISC-V Linux program in the process VM, with the host's stdio, the host file system seen
 * through a root folder (`--root`, default `/`), and a sysroot searched first for absolute paths (`--sysroot`, as
 * qemu-user's -L) so that dynamically linked programs find their loader and libraries. Exits with the program's exit
 * status (128 + n when a signal n ended it, as shells report it).
 */
import { relative, resolve, sep } from "node:path";
import { SYSCALL_NAMES } from "../core/uvm/abi.ts";
import { ProcessVm, ProcessVmError } from "../core/uvm/process-vm.ts";
import { FileError, readInputFile } from "../host/node/files.ts";
import { HostFs } from "../host/node/host-fs.ts";
import { NodeStdio } from "../host/node/uvm-stdio.ts";
import type { CliIo } from "./io.ts";
import { CliError } from "./options.ts";
import { EXIT_LIMIT } from "./run-elf.ts";

export interface ExecOptions {
  readonly root: string;
  readonly sysroot?: string;
  readonly strace: boolean;
  readonly mem: number;
  readonly maxInsns?: number;
  /** Guest environment (default: the host's). */
  readonly env?: readonly string[];
}

/** Host signals forwarded to the guest's foreground process group. */
const FORWARDED: readonly [NodeJS.Signals, number][] = [
  ["SIGINT", 2],
  ["SIGTERM", 15],
  ["SIGHUP", 1],
  ["SIGQUIT", 3],
];

/** The guest path of host path `host` under `root`, or null when it lies outside. */
function guestPath(root: string, host: string): string | null {
  const rel = relative(root, host);
  if (rel.startsWith("..") || resolve(root, rel) !== host) return null;
  return `/${rel.split(sep).filter(Boolean).join("/")}`;
}

export async function runExec(prog: string, args: readonly string[], opts: ExecOptions, io: CliIo): Promise<number> {
  const root = resolve(opts.root);
  let program: Uint8Array;
  try {
    program = await readInputFile(prog);
  } catch (e) {
    if (e instanceof FileError) throw new CliError(`${prog}: ${e.message}`);
    throw e;
  }
  const hostProg = resolve(prog);
  const inRoot = guestPath(root, hostProg);
  const cwd = guestPath(root, process.cwd()) ?? "/";
  const stdio = new NodeStdio();
  const env = opts.env ?? Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ""}`);
  let vm: ProcessVm;
  try {
    vm = new ProcessVm({
      argv: [prog, ...args],
      path: inRoot ?? hostProg,
      program: inRoot === null ? program : undefined,
      env,
      fs: new HostFs(root),
      sysroot: opts.sysroot === undefined ? null : new HostFs(opts.sysroot),
      cwd,
      stdio,
      memory: opts.mem,
      maxInstructions: opts.maxInsns,
      strace: opts.strace ? (line) => io.stderr(`${line}\n`) : undefined,
    });
  } catch (e) {
    if (e instanceof ProcessVmError) throw new CliError(e.message);
    throw e;
  }
  const handlers = FORWARDED.map(([name, sig]) => {
    const h = () => vm.signal(sig);
    process.on(name, h);
    return [name, h] as const;
  });
  try {
    const r = await vm.run();
    if (opts.strace && r.unimplemented.size > 0) {
      const list = [...r.unimplemented].map(([nr, n]) => `${SYSCALL_NAMES[nr] ?? nr} (${nr}) ×${n}`).join(", ");
      io.stderr(`popek: unimplemented system calls (ENOSYS): ${list}\n`);
    }
    switch (r.exit.kind) {
      case "exit":
        return r.exit.code;
      case "signal":
        return 128 + r.exit.signal;
      case "limit":
        io.stderr(
          r.exit.limit === "instructions"
            ? `popek: stopped after ${opts.maxInsns} instructions (--max-insns)\n`
            : `popek: out of guest memory (--mem ${opts.mem / 1024 / 1024}M)\n`,
        );
        return EXIT_LIMIT;
      case "deadlock":
        io.stderr("popek: every thread of the program waits for something that cannot happen (deadlock)\n");
        return EXIT_LIMIT;
    }
    return EXIT_LIMIT;
  } catch (e) {
    if (e instanceof ProcessVmError) throw new CliError(e.message);
    throw e;
  } finally {
    for (const [name, h] of handlers) process.off(name, h);
    stdio.close();
  }
}
