/**
 * The disk part of `npm run bench` (issue 6): sequential write and read of a virtio-blk disk from the guest, for QEMU
 * (`-drive … -device virtio-blk-device`) and popek (`--drive`) with the same kernel, initramfs, scratch image and guest
 * commands. Write: `dd` of 32 MiB of zeros to /dev/vda in 1 MiB blocks, then `sync` (so the data reached the image
 * file). Read: the page cache is dropped, then `dd` reads the disk back. Each is timed on the host, from typing the
 * command to the shell's marker after it.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GuestConsole, PROMPT } from "./guest-console.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const NODE = join(ROOT, "node_modules/.bin/node");
const CLI = join(ROOT, "src/cli/main.ts");
const FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";
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
  let timer: NodeJS.Timeout | undefined;
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
    return await Promise.race([
      body(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    g.kill();
  }
}

/** Sequential virtio-blk write and read under QEMU and popek, `runs` times each. */
export async function diskBench(
  images: string,
  runs: number,
  log: (s: string) => void,
): Promise<DiskResult[] | string> {
  const kernel = join(images, "Image");
  const initrd = join(images, "initramfs.cpio.gz");
  if (!existsSync(kernel) || !existsSync(initrd)) return `no guest image in ${images} (Image, initramfs.cpio.gz)`;
  if (!existsSync(FW_JUMP)) return `${FW_JUMP} is missing (Debian package opensbi)`;
  const dir = mkdtempSync(join(tmpdir(), "popek-bench-disk-"));
  try {
    const image = join(dir, "scratch.img");
    writeFileSync(image, new Uint8Array(MIB * 1048576));
    const boot = ["-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0"];
    const setups = [
      {
        name: "QEMU 7.2, virtio-blk-device",
        cmd: "qemu-system-riscv64",
        args: ["-M", "virt", "-m", "256M", "-nographic", "-bios", FW_JUMP, ...boot].concat([
          "-drive",
          `file=${image},format=raw,if=none,id=hd0`,
          "-device",
          "virtio-blk-device,drive=hd0",
        ]),
      },
      {
        name: "popek, --drive",
        cmd: NODE,
        args: [CLI, "run", "--mem", "256M", "--net", "none", ...boot.map((a) => a.replace(/^-/, "--"))].concat([
          "--drive",
          `file=${image}`,
        ]),
      },
    ];
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
  const med = (xs: readonly number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  const q = results[0]!;
  const rows = results.map((r) => {
    const w = med(r.write);
    const rd = med(r.read);
    return `| ${r.name} | ${w.toFixed(1)} | ${(w / med(q.write)).toFixed(3)} | ${rd.toFixed(1)} | ${(rd / med(q.read)).toFixed(3)} |`;
  });
  return [
    `| virtio-blk, ${MIB} MiB sequential, 1 MiB blocks (BusyBox dd, 1 hart) | write + sync MB/s | ratio to QEMU | read (cache dropped) MB/s | ratio to QEMU |`,
    "|---|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}
