/**
 * The disk part of `npm run bench` (issue 6): sequential write and read of a virtio-blk disk from the guest, for QEMU
 * (`-drive … -device virtio-blk-device`) and popek (`--drive`) with the same kernel, initramfs, scratch image and guest
 * commands. Write: `dd` of 32 MiB of zeros to /dev/vda in 1 MiB blocks, then `sync` (so the data reached the image
 * file). Read: the page cache is dropped, then `dd` reads the disk back. Each is timed on the host, from typing the
 * command to the shell's marker after it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GuestConsole, guestSetups, median, PROMPT, withTimeout } from "./guest-console.ts";

const TIMEOUT_MS = 300_000;
/** Size of the scratch disk and of each transfer. */
const MIB = 32;

export interface DiskResult {
  readonly name: string;
  /** MB/s (10^6 bytes) written and read, one entry per run. */
  readonly write: readonly number[];
  readonly read: readonly number[];
}

async function measure(cmd: string, args: readonly string[], runs: number, log: (s: string) => void) {
  const g = new GuestConsole(cmd, args);
  try {
    const body = async () => {
      await g.waitFor(PROMPT, 0);
      const write: number[] = [];
      const read: number[] = [];
      const bytes = MIB * 1048576;
      for (let i = 0; i < runs; i++) {
        const [w, ws] = await g.run(`dd if=/dev/zero of=/dev/vda bs=1048576 count=${MIB} 2>&1 && sync`);
        if (!w.includes(`${MIB}+0 records out`)) throw new Error(`dd write failed: ${w}`);
        write.push(bytes / ws / 1e6);
        await g.run("sync; echo 3 > /proc/sys/vm/drop_caches");
        const [r, rs] = await g.run(`dd if=/dev/vda of=/dev/null bs=1048576 2>&1`);
        if (!r.includes(`${MIB}+0 records in`)) throw new Error(`dd read failed: ${r}`);
        read.push(bytes / rs / 1e6);
        log(`disk: run ${i + 1}/${runs}: write ${write.at(-1)!.toFixed(1)} MB/s, read ${read.at(-1)!.toFixed(1)} MB/s`);
      }
      return { write, read };
    };
    return await withTimeout(body(), TIMEOUT_MS);
  } finally {
    g.kill();
  }
}

/** Sequential virtio-blk write and read under QEMU and popek, `runs` times each. */
export async function diskBench(
  images: string,
  runs: number,
  log: (s: string) => void,
): Promise<DiskResult[] | string> {
  const dir = mkdtempSync(join(tmpdir(), "popek-bench-disk-"));
  try {
    const image = join(dir, "scratch.img");
    const setups = guestSetups(
      images,
      {
        name: "QEMU 7.2, virtio-blk-device",
        extra: ["-drive", `file=${image},format=raw,if=none,id=hd0`, "-device", "virtio-blk-device,drive=hd0"],
      },
      { name: "popek, --drive", extra: ["--net", "none", "--drive", `file=${image}`] },
    );
    if (typeof setups === "string") return setups;
    writeFileSync(image, new Uint8Array(MIB * 1048576));
    const results: DiskResult[] = [];
    for (const s of setups) {
      log(`disk: ${s.name}`);
      const r = await measure(s.cmd, s.args, runs, log);
      results.push({ name: s.name, ...r });
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function diskTable(results: readonly DiskResult[]): string {
  const q = results[0]!;
  const rows = results.map((r) => {
    const w = median(r.write);
    const rd = median(r.read);
    return `| ${r.name} | ${w.toFixed(1)} | ${(w / median(q.write)).toFixed(3)} | ${rd.toFixed(1)} | ${(rd / median(q.read)).toFixed(3)} |`;
  });
  return [
    `| virtio-blk, ${MIB} MiB sequential, 1 MiB blocks (BusyBox dd, 1 hart) | write + sync MB/s | ratio to QEMU | read (cache dropped) MB/s | ratio to QEMU |`,
    "|---|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}
