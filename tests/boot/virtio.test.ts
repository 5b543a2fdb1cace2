// Linux on popek's virtio devices, with `popek run` as a child process: the ext4 root disk on virtio-blk
// (root=/dev/vda) — a file written and synced in the guest is in the image afterwards (read back with debugfs, the
// file system clean for e2fsck), and a second VM cannot open the image meanwhile; serial=, discard and a raw second
// disk (/dev/vdb) work; snapshot=on leaves the image's sha256 unchanged; readonly=on gives the guest a read-only disk
// it cannot write; the first --drive is /dev/vda; /dev/hwrng gives bytes from virtio-rng; a virtio console carries
// the shell (console=hvc1: this kernel's hvc0 is the SBI console, which works beside it). Each boot has a hard
// timeout and fails as soon as the console shows a panic, an oops or a device error.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { bounded, CLI, type Guest, NODE, PROMPT, spawnGuest } from "./guest.ts";
import { INITRD, KERNEL, ROOTFS } from "./guest-files.ts";

/** Hard limit for one boot, its commands and poweroff. */
const BOOT_TIMEOUT_MS = Number(process.env.POPEK_BOOT_TIMEOUT_MS ?? 180_000);
/** Console text that ends a boot at once: the kernel or popek reported a failure. */
const FATAL = /Kernel panic|Oops|BUG:|Unable to mount root|device needs reset|I\/O error|unhandled signal/;

const noImages = [KERNEL, INITRD, ROOTFS.path].every(existsSync)
  ? false
  : `no guest image: ${KERNEL}, ${INITRD} or ${ROOTFS.path} is missing`;

const work = mkdtempSync(join(tmpdir(), "popek-virtio-boot-"));
after(() => rmSync(work, { recursive: true, force: true }));

let images = 0;
/** A fresh copy of the 32 MiB ext4 root image. */
function rootImage(): string {
  const p = join(work, `rootfs${images++}.ext4`);
  const bytes = readFileSync(ROOTFS.path);
  writeFileSync(p, ROOTFS.gz ? gunzipSync(bytes) : bytes);
  return p;
}

const sha256 = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

/** A file's content in an ext4 image, through debugfs (e2fsprogs); null if the file does not exist. */
function debugfsCat(image: string, path: string): string | null {
  const r = spawnSync("debugfs", ["-R", `cat ${path}`, image], { encoding: "latin1" });
  if (r.error) throw new Error("debugfs not found: install the Debian package e2fsprogs");
  if (/File not found/.test(r.stderr)) return null;
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Run `popek run args` to its end (for runs that must fail at once); stdin closed. */
function runPopek(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(NODE, [CLI, "run", ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    c.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const kill = setTimeout(() => c.kill("SIGKILL"), 60_000);
    c.on("exit", (code) => {
      clearTimeout(kill);
      resolve({ code, stderr });
    });
  });
}

/** Boot with `args`, run `session`, kill the child after BOOT_TIMEOUT_MS or on failure. */
async function boot(args: string[], session: (g: Guest) => Promise<void>, diag: (m: string) => void): Promise<void> {
  const start = performance.now();
  const g = spawnGuest(["--kernel", KERNEL, ...args], { fatal: FATAL, fatalInStderr: true });
  try {
    await bounded(
      () => [g],
      BOOT_TIMEOUT_MS,
      async () => {
        await g.waitFor("guest ready");
        await g.waitFor(PROMPT);
        diag(`prompt after ${((performance.now() - start) / 1000).toFixed(2)} s`);
        await session(g);
        diag(`done after ${((performance.now() - start) / 1000).toFixed(2)} s`);
      },
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- console tail ---\n${g.out.slice(-3000)}\n--- stderr ---\n${g.err}`);
  } finally {
    await g.exited;
  }
  assert.doesNotMatch(g.out, FATAL);
  assert.doesNotMatch(g.err, /popek: /, "no device or I/O errors reported");
}

describe("virtio devices under Linux", { timeout: 5 * BOOT_TIMEOUT_MS }, () => {
  test("ext4 root on /dev/vda: a file written and synced in the guest is in the image; vda is the first --drive; serial, discard, hwrng", {
    skip: noImages,
  }, async (t) => {
    const img = rootImage();
    const second = join(work, "second.raw");
    writeFileSync(second, new Uint8Array(1 << 20));
    const proof = `written by the guest ${Date.now()}`;
    await boot(
      [
        "--append",
        "root=/dev/vda rw console=ttyS0",
        "--drive",
        `file=${img},serial=popek-root`,
        "--drive",
        `file=${second},format=raw`,
      ],
      async (g) => {
        // A second VM may not open the image while this one has it read-write, not even read-only.
        for (const drive of [`file=${img}`, `file=${img},readonly=on`]) {
          const second = await runPopek(["--kernel", KERNEL, "--drive", drive]);
          assert.equal(second.code, 2);
          assert.match(second.stderr, /^popek: --drive file=.*: in use read-write by popek process \d+ \(lock file /);
        }
        const mounts = await g.run("grep ' / ' /proc/mounts");
        assert.match(mounts, /\/dev\/root \/ ext4 rw/);
        const sizes = await g.run("cat /sys/block/vda/size /sys/block/vdb/size /sys/block/vda/ro");
        assert.match(sizes, /\n65536\n2048\n0\n/);
        await g.run(`echo '${proof}' > /root/proof.txt; sync`);
        assert.match(await g.run("cat /root/proof.txt"), new RegExp(`\n${proof}\n`));
        // GET_ID, and DISCARD / WRITE_ZEROES as the guest's block layer sees them.
        const id = await g.run(
          "cat /sys/block/vda/serial; echo; cat /sys/block/vdb/queue/discard_max_bytes " +
            "/sys/block/vdb/queue/write_zeroes_max_bytes; blkdiscard /dev/vdb; echo discard=$?",
        );
        assert.match(id, /\npopek-root\n2147483136\n2147483136\ndiscard=0\n/);
        // The raw second disk: write a sector, flush it (FLUSH -> fsync); the host reads it after exit.
        await g.run("echo second-disk-data | dd of=/dev/vdb bs=512 seek=7 conv=fsync 2>/dev/null");
        const rng = await g.run(
          "cat /sys/class/misc/hw_random/rng_current; head -c 64 /dev/hwrng | od -An -v -tx1 | wc -w",
        );
        assert.match(rng, /\nvirtio_rng\.0\n64\n/);
        // A clean file system to check on the host: remount read-only (journal written back) before power-off.
        assert.match(await g.run("mount -o remount,ro /; echo remount=$?"), /remount=0/);
        const code = await g.poweroff();
        assert.equal(code, 0);
      },
      (m) => t.diagnostic(m),
    );
    assert.equal(debugfsCat(img, "/root/proof.txt"), `${proof}\n`);
    const fsck = spawnSync("e2fsck", ["-fn", img], { encoding: "utf8" });
    assert.equal(fsck.status, 0, `e2fsck -fn found problems:\n${fsck.stdout}${fsck.stderr}`);
    const raw = readFileSync(second);
    assert.equal(raw.subarray(7 * 512, 7 * 512 + 17).toString("latin1"), "second-disk-data\n");
    assert.ok(!existsSync(`${img}.popek-lock`), "the lock is gone after exit");
  });

  test("snapshot=on: the guest reads back its writes, the image file is unchanged", { skip: noImages }, async (t) => {
    const img = rootImage();
    const before = sha256(img);
    await boot(
      ["--append", "root=/dev/vda rw console=ttyS0", "--drive", `file=${img},snapshot=on`],
      async (g) => {
        await g.run("echo only-in-memory > /root/snap.txt; dd if=/dev/urandom of=/root/big bs=64k count=32; sync");
        assert.match(await g.run("cat /root/snap.txt; wc -c < /root/big"), /\nonly-in-memory\n2097152\n/);
        assert.equal(await g.poweroff(), 0);
      },
      (m) => t.diagnostic(m),
    );
    assert.equal(sha256(img), before);
    assert.equal(debugfsCat(img, "/root/snap.txt"), null);
  });

  test("readonly=on: the guest sees a read-only disk and cannot write it; the image is unchanged", {
    skip: noImages,
  }, async (t) => {
    const img = rootImage();
    const before = sha256(img);
    await boot(
      ["--append", "root=/dev/vda ro console=ttyS0", "--drive", `file=${img},readonly=on`],
      async (g) => {
        assert.match(await g.run("cat /sys/block/vda/ro"), /\n1\n/);
        const w = await g.run("echo x > /root/x.txt; echo status=$?");
        assert.match(w, /Read-only file system/);
        assert.match(w, /status=1/);
        assert.match(await g.run("mount -o remount,rw / 2>&1; echo status=$?"), /write-protected|status=[1-9]/);
        const dd = await g.run("dd if=/dev/zero of=/dev/vda bs=512 count=1 2>&1; echo status=$?");
        assert.match(dd, /status=1/);
        assert.equal(await g.poweroff(), 0);
      },
      (m) => t.diagnostic(m),
    );
    assert.equal(sha256(img), before);
  });

  test("--virtio-console: the shell runs on hvc1 (console=hvc1), input and output through virtio; hvc0 (SBI) too", {
    skip: noImages,
  }, async (t) => {
    await boot(
      ["--initrd", INITRD, "--append", "console=hvc1", "--virtio-console"],
      async (g) => {
        const out = await g.run("tty; cat /proc/consoles; cat /sys/bus/virtio/devices/*/device");
        assert.match(out, /\n\/dev\/hvc1\n/);
        assert.match(out, /hvc1 +-W- \(EC/);
        assert.match(out, /0x0003/);
        const from = g.out.length;
        await g.run("echo through-the-sbi-console > /dev/hvc0");
        await g.waitFor("through-the-sbi-console\r\n", from);
        assert.equal(await g.poweroff(), 0);
      },
      (m) => t.diagnostic(m),
    );
  });
});
