/**
 * The boot part of `npm run bench` (issue 4): time from process start to the guest's shell prompt for popek and for
 * QEMU on the same kernel and initramfs, and host CPU used by a guest sitting idle at the prompt over 10 s. Each
 * emulator is a child process with the console on pipes; CPU time comes from /proc/<pid>/stat (Linux hosts).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { FW_JUMP, guestSetups, median, NODE, PROMPT } from "./guest-console.ts";

const BOOT_TIMEOUT_MS = 180_000;
const IDLE_SECONDS = 10;

export interface BootResult {
  readonly name: string;
  /** Seconds from spawn to the prompt (median). */
  readonly seconds: readonly number[];
  /** Host CPU seconds per wall second while idle at the prompt (1 = one core busy). */
  readonly idleCpu: number;
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on every Linux that runs here). */
const USER_HZ = 100;

/** utime + stime of a process and its waited-for children, in seconds; undefined where /proc is missing. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces, so split after its closing parenthesis).
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / USER_HZ; // fields 14 and 15: utime, stime
  } catch {
    return undefined;
  }
}

/** Boot once: returns seconds to the prompt and, if asked, idle CPU use over IDLE_SECONDS; always kills the child. */
async function bootOnce(cmd: string, args: readonly string[], idle: boolean): Promise<[number, number | undefined]> {
  const t0 = performance.now();
  const child: ChildProcessWithoutNullStreams = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  try {
    const prompt = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no prompt after ${BOOT_TIMEOUT_MS} ms`)), BOOT_TIMEOUT_MS);
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString("latin1");
        if (out.includes(PROMPT)) {
          clearTimeout(timer);
          resolve((performance.now() - t0) / 1000);
        }
      });
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`exited (${code}) before the prompt`));
      });
    });
    const seconds = await prompt.catch((e: Error) => {
      throw new Error(`${cmd} ${args.join(" ")}: ${e.message}\n${out.slice(-1500)}\n${err}`);
    });
    let idleCpu: number | undefined;
    if (idle) {
      // Let the boot's tail (init scripts, the shell's first read) settle before measuring.
      await new Promise((r) => setTimeout(r, 2000));
      const c0 = cpuSeconds(child.pid!);
      const w0 = performance.now();
      await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
      const c1 = cpuSeconds(child.pid!);
      if (c0 !== undefined && c1 !== undefined) idleCpu = (c1 - c0) / ((performance.now() - w0) / 1000);
    }
    return [seconds, idleCpu];
  } finally {
    child.kill("SIGKILL");
  }
}

/** Boot-to-prompt for QEMU and popek (built-in SBI and OpenSBI), `runs` times each, plus idle CPU from the first. */
export async function bootBench(
  images: string,
  runs: number,
  log: (s: string) => void,
): Promise<BootResult[] | string> {
  const setups = guestSetups(
    images,
    { name: "QEMU 7.2, OpenSBI fw_jump", extra: [] },
    { name: "popek, built-in SBI", extra: [] },
  );
  if (typeof setups === "string") return setups;
  // popek with QEMU's firmware too (like for like), between QEMU and popek's built-in SBI.
  const popek = setups[1]!;
  setups.splice(1, 0, { name: "popek, OpenSBI fw_jump", cmd: NODE, args: [...popek.args, "--bios", FW_JUMP] });
  const results: BootResult[] = [];
  for (const s of setups) {
    const seconds: number[] = [];
    let idleCpu = Number.NaN;
    for (let i = 0; i < runs; i++) {
      const [t, idle] = await bootOnce(s.cmd, s.args, i === 0);
      seconds.push(t);
      if (idle !== undefined) idleCpu = idle;
      log(`boot: ${s.name}: run ${i + 1}/${runs}: prompt after ${t.toFixed(2)} s`);
    }
    results.push({ name: s.name, seconds, idleCpu });
  }
  return results;
}

export function bootTable(results: readonly BootResult[]): string {
  const qemu = median(results[0]!.seconds);
  const rows = results.map((r) => {
    const t = median(r.seconds);
    const idle = Number.isNaN(r.idleCpu) ? "n/a" : `${(r.idleCpu * 100).toFixed(1)}%`;
    return `| ${r.name} | ${t.toFixed(2)} | ${(t / qemu).toFixed(1)} | ${idle} |`;
  });
  return [
    `| boot to prompt (Linux 6.1 + BusyBox initramfs, 1 hart, 256 MiB) | time (s) | ratio to QEMU | idle CPU over ${IDLE_SECONDS} s (one core = 100%) |`,
    "|---|---:|---:|---:|",
    ...rows,
  ].join("\n");
}
