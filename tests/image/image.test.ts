// The default guest image set built from tools/image (issue 5): built from scratch when the cache has none (the
// kernel build takes 5-10 min on 2 cores), then checked file by file; a second `popek image build` is a cache hit;
// the kernel and initramfs boot under qemu-system-riscv64 -M virt (with virtio-net DHCP and a 9p share) and from the
// ext4 disk over virtio-blk, and under popek (`popek run` with no image options, with its DHCP and 9p share, and
// from the disk with --drive); `popek image add/list` and `popek run --image`
// work on a temporary cache, where a damaged set is reported and never booted.
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import type { DefaultImage } from "../../src/host/node/image-build.ts";
import { popekCacheDir, recipeDir, verifySet } from "../../src/host/node/images.ts";
import { defaultImage, IMAGE_BUILD_TIMEOUT_MS } from "./default-image.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const NODE = join(ROOT, "node_modules/.bin/node");
const CLI = join(ROOT, "src/cli/main.ts");
const QEMU = "qemu-system-riscv64";
/** Debian's opensbi package (1.1): jumps to the kernel at 0x8020_0000. */
const FW_JUMP = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";
const PROMPT = "guest:/# ";
/** One boot, a few commands and poweroff under popek's interpreter (~5-20 s on an idle machine). */
const BOOT_TIMEOUT_MS = Number(process.env.POPEK_BOOT_TIMEOUT_MS ?? 300_000);
/** The same under QEMU (~1 s idle). */
const QEMU_TIMEOUT_MS = 120_000;

const noQemu =
  spawnSync(QEMU, ["--version"], { stdio: "ignore" }).status === 0
    ? false
    : `${QEMU} is not installed (Debian package qemu-system-misc)`;
const noOpenSbi = spawnSync("test", ["-f", FW_JUMP]).status === 0 ? false : `${FW_JUMP} is missing (package opensbi)`;

const tmp = mkdtempSync(join(tmpdir(), "popek-image-test-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A guest on a child process's console: output so far, waits for text, and fails at once on a kernel panic. */
class Console {
  readonly child: ChildProcessWithoutNullStreams;
  out = "";
  err = "";
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env });
    const wake = () => {
      for (const w of this.waiters.splice(0)) w();
    };
    this.child.stdout.on("data", (d: Buffer) => {
      this.out += d.toString("latin1");
      wake();
    });
    this.child.stderr.on("data", (d: Buffer) => {
      this.err += d.toString();
    });
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code) => {
        resolve(code);
        wake();
      }),
    );
  }

  /** Wait until the output after `from` contains `text`; returns the index just past it. */
  async waitFor(text: string, from = 0): Promise<number> {
    for (;;) {
      const panic = this.out.indexOf("Kernel panic");
      if (panic >= 0) throw new Error(`kernel panic:\n${this.out.slice(Math.max(0, panic - 1500), panic + 500)}`);
      const i = this.out.indexOf(text, from);
      if (i >= 0) return i + text.length;
      if (this.child.exitCode !== null)
        throw new Error(
          `exited (${this.child.exitCode}) before ${JSON.stringify(text)}:\n${this.out.slice(-1500)}\n${this.err}`,
        );
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Type `command`; return its output up to a marker the echoed command line cannot contain. */
  async run(command: string, n: number): Promise<string> {
    const from = this.out.length;
    this.child.stdin.write(`${command}; echo __do""ne_${n}__\n`);
    const end = await this.waitFor(`__done_${n}__`, from + command.length);
    await this.waitFor(PROMPT, end);
    return this.out.slice(from, end).replaceAll("\r\n", "\n");
  }

  /** Run `session` with a hard time limit; the child is killed however it ends. */
  async within(ms: number, session: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        reject(new Error(`timed out after ${ms} ms; console tail:\n${this.out.slice(-2000)}\n${this.err}`));
      }, ms);
    });
    try {
      await Promise.race([session(), timeout]);
    } finally {
      clearTimeout(timer);
      if (this.child.exitCode === null) this.child.kill("SIGKILL");
    }
  }
}

function qemuArgs(img: DefaultImage, extra: string[]): string[] {
  return [
    "-M",
    "virt",
    "-m",
    "256M",
    "-nographic",
    "-no-reboot",
    "-bios",
    FW_JUMP,
    "-kernel",
    img.kernelPath,
    ...extra,
  ];
}

/** `popek` as a child process with its own cache directory (XDG_CACHE_HOME). */
function popek(args: string[], cacheHome?: string) {
  const env = cacheHome === undefined ? process.env : { ...process.env, XDG_CACHE_HOME: cacheHome };
  return spawnSync(NODE, [CLI, ...args], { encoding: "utf8", env, timeout: 120_000 });
}

describe("the default image set", {
  timeout: IMAGE_BUILD_TIMEOUT_MS + 2 * QEMU_TIMEOUT_MS + 2 * BOOT_TIMEOUT_MS + 60_000,
}, () => {
  let img: DefaultImage;

  before(async () => {
    const t = performance.now();
    img = await defaultImage();
    const s = (performance.now() - t) / 1000;
    process.stderr.write(
      `# default image ${img.built ? `built in ${s.toFixed(0)} s` : `from the cache (${s.toFixed(2)} s)`}\n`,
    );
  });

  test("has a kernel Image, a BusyBox initramfs and an ext4 disk, matching the manifest and the recipe", async (t) => {
    assert.deepEqual(await verifySet(img.dir, img.manifest), []);
    const m = img.manifest;
    t.diagnostic(
      `${img.dir}: ${Object.entries(m.files)
        .map(([f, { size }]) => `${f} ${size}`)
        .join(", ")}; build ${m.build?.seconds} s, ${m.build?.kernelLines} kernel build lines`,
    );
    assert.match(m.versions.kernel_release ?? "", /^6\.1\.\d+$/);
    assert.match(m.versions["linux-source-6.1"] ?? "", /^6\.1\.\d+/);
    assert.match(m.versions.busybox_source ?? "", /^1:1\.35\.0-/);

    // RISC-V Image header: magic "RISCV\0\0\0" at 48, "RSC\x05" at 56; small (no modules, no debug).
    const kernel = readFileSync(img.kernelPath);
    assert.equal(kernel.subarray(48, 56).toString("latin1"), "RISCV\0\0\0");
    assert.equal(kernel.subarray(56, 60).toString("latin1"), "RSC\x05");
    assert.ok(kernel.length < 8 * 2 ** 20, `Image is ${kernel.length} bytes`);

    // newc cpio: /init, busybox, the rcS script, device nodes; owners 0, fixed mtimes.
    const cpio = gunzipSync(readFileSync(img.initrdPath));
    const names = new Map<string, { mode: number; uid: number; mtime: number }>();
    for (let off = 0; ; ) {
      assert.equal(cpio.subarray(off, off + 6).toString(), "070701", `cpio header at ${off}`);
      const field = (i: number) => Number.parseInt(cpio.subarray(off + 6 + 8 * i, off + 14 + 8 * i).toString(), 16);
      const nameSize = field(11);
      const name = cpio.subarray(off + 110, off + 110 + nameSize - 1).toString();
      if (name === "TRAILER!!!") break;
      names.set(name, { mode: field(1), uid: field(2), mtime: field(5) });
      const data = (off + 110 + nameSize + 3) & ~3;
      off = (data + field(6) + 3) & ~3;
    }
    for (const f of [
      "init",
      "bin/busybox",
      "bin/sh",
      "etc/init.d/rcS",
      "dev/console",
      "usr/share/udhcpc/default.script",
    ])
      assert.ok(names.has(f), `initramfs lacks ${f}`);
    assert.equal(names.get("init")!.mode & 0o777, 0o755);
    assert.equal(names.get("dev/console")!.mode & 0o170000, 0o020000, "/dev/console is a character device");
    assert.ok([...names.values()].every((e) => e.uid === 0 && e.mtime === names.get("init")!.mtime));

    // ext4: superblock magic 0xEF53 at 1024 + 56, volume label at 1024 + 120.
    const disk = readFileSync(img.diskPath);
    assert.equal(disk.readUInt16LE(1024 + 56), 0xef53);
    assert.equal(disk.subarray(1024 + 120, 1024 + 129).toString(), "guestroot");

    // Every line of the recipe's kernel fragment holds in the final .config.
    const config = readFileSync(join(img.dir, "kernel.config"), "utf8");
    for (const line of readFileSync(join(recipeDir(), "kernel.config"), "utf8").split("\n")) {
      if (/^CONFIG_\w+=/.test(line)) assert.ok(config.includes(`\n${line}\n`), line);
      const off = /^# (CONFIG_\w+) is not set$/.exec(line);
      if (off) assert.doesNotMatch(config, new RegExp(`^${off[1]}=`, "m"), line);
    }
    assert.match(readFileSync(join(img.dir, "busybox.config"), "utf8"), /^CONFIG_STATIC=y$/m);
  });

  test("build.sh fails when a line of the kernel fragment does not hold after olddefconfig", async () => {
    // A copy of the recipe asking for virtio-pci, which needs the PCI the fragment turns off.
    const recipe = join(tmp, "recipe");
    cpSync(recipeDir(), recipe, { recursive: true });
    appendFileSync(join(recipe, "kernel.config"), "CONFIG_VIRTIO_PCI=y\n");
    const r = spawnSync("bash", [join(recipe, "build.sh"), "kernel-config"], {
      encoding: "utf8",
      timeout: 300_000,
      env: { ...process.env, POPEK_IMAGE_WORK: join(tmp, "work"), POPEK_IMAGE_SRC: join(popekCacheDir(), "sources") },
    });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /kernel\.config asks for CONFIG_VIRTIO_PCI=y, olddefconfig gave n/);
  });

  test("a second `popek image build` is a cache hit", () => {
    const t = performance.now();
    const r = popek(["image", "build"]);
    const ms = performance.now() - t;
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /the default image is up to date \(cached\)/);
    assert.ok(r.stdout.startsWith(img.dir), r.stdout);
    // Node start-up, hashing the recipe and ~40 MB of image files.
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  test("boots under QEMU from the initramfs, with DHCP on virtio-net and the 9p share mounted", {
    skip: noQemu || noOpenSbi,
  }, async (t) => {
    const share = join(tmp, "share");
    mkdirSync(share, { recursive: true });
    writeFileSync(join(share, "hello.txt"), "hello from the host\n");
    const start = performance.now();
    const g = new Console(
      QEMU,
      qemuArgs(img, [
        "-initrd",
        img.initrdPath,
        "-append",
        "console=ttyS0",
        "-netdev",
        "user,id=n0",
        "-device",
        "virtio-net-device,netdev=n0",
        "-fsdev",
        `local,id=fs0,path=${share},security_model=none`,
        "-device",
        "virtio-9p-device,fsdev=fs0,mount_tag=host",
        "-device",
        "virtio-rng-device",
      ]),
    );
    await g.within(QEMU_TIMEOUT_MS, async () => {
      await g.waitFor("guest ready");
      await g.waitFor(PROMPT);
      t.diagnostic(`QEMU: prompt after ${((performance.now() - start) / 1000).toFixed(2)} s`);
      assert.match(g.out, /eth0: 10\.0\.2\.15\r?\n/);
      assert.match(g.out, /host share on \/mnt\/host/);
      assert.match(await g.run("cat /mnt/host/hello.txt", 1), /\nhello from the host\n/);
      assert.match(await g.run("uname -a", 2), /Linux guest 6\.1\.\d+ #1 SMP .* riscv64/);
      assert.match(await g.run("route -n", 3), /0\.0\.0\.0\s+10\.0\.2\.2\s+0\.0\.0\.0\s+UG/);
      assert.match(await g.run("cat /sys/class/misc/hw_random/rng_current", 4), /virtio_rng/);
      g.child.stdin.write("poweroff -f\n");
      assert.equal(await g.exited, 0);
    });
  });

  test("boots under QEMU from the ext4 disk over virtio-blk (BusyBox init)", {
    skip: noQemu || noOpenSbi,
  }, async (t) => {
    const disk = join(tmp, "rootfs.ext4");
    copyFileSync(img.diskPath, disk);
    chmodSync(disk, 0o644);
    const start = performance.now();
    const g = new Console(
      QEMU,
      qemuArgs(img, [
        "-drive",
        `file=${disk},format=raw,if=none,id=hd0`,
        "-device",
        "virtio-blk-device,drive=hd0",
        "-append",
        "root=/dev/vda rw console=ttyS0",
      ]),
    );
    await g.within(QEMU_TIMEOUT_MS, async () => {
      await g.waitFor("guest ready");
      await g.waitFor(PROMPT);
      t.diagnostic(`QEMU (disk): prompt after ${((performance.now() - start) / 1000).toFixed(2)} s`);
      assert.match(await g.run("mount", 1), /\/dev\/root on \/ type ext4 \(rw/);
      assert.match(await g.run("echo written > /root/file && sync && cat /root/file", 2), /\nwritten\n/);
      g.child.stdin.write("poweroff -f\n");
      assert.equal(await g.exited, 0);
    });
    // The cached disk is untouched (QEMU wrote to the copy).
    assert.deepEqual(await verifySet(img.dir, img.manifest), []);
  });

  test("boots under popek: `popek run` reaches the shell, with DHCP and the 9p share (--share)", async (t) => {
    const share = join(tmp, "popek-share");
    mkdirSync(share, { recursive: true });
    writeFileSync(join(share, "hello.txt"), "hello from the host\n");
    const start = performance.now();
    const g = new Console(NODE, [CLI, "run", "--share", share]);
    await g.within(BOOT_TIMEOUT_MS, async () => {
      await g.waitFor("guest ready");
      await g.waitFor(PROMPT);
      t.diagnostic(`popek: prompt after ${((performance.now() - start) / 1000).toFixed(2)} s`);
      // popek run has user-mode networking on by default (QEMU's 10.0.2.x addresses).
      assert.match(g.out, /eth0: 10\.0\.2\.15\r?\n/);
      assert.match(g.out, /host share on \/mnt\/host/);
      assert.match(await g.run("cat /mnt/host/hello.txt", 1), /\nhello from the host\n/);
      assert.match(await g.run("uname -a", 2), /Linux guest 6\.1\.\d+ #1 SMP .* riscv64/);
      assert.match(await g.run("cat /proc/cpuinfo", 3), /isa\s*: rv64imafdc/);
      g.child.stdin.write("poweroff -f\n");
      assert.equal(await g.exited, 0, g.err);
    });
    assert.doesNotMatch(g.err, /building/);
  });

  test("boots under popek from the ext4 disk (--drive)", async (t) => {
    const disk = join(tmp, "popek-rootfs.ext4");
    copyFileSync(img.diskPath, disk);
    chmodSync(disk, 0o644);
    const start = performance.now();
    const g = new Console(NODE, [
      CLI,
      "run",
      "--kernel",
      img.kernelPath,
      "--drive",
      `file=${disk}`,
      "--append",
      "root=/dev/vda rw console=ttyS0",
    ]);
    await g.within(BOOT_TIMEOUT_MS, async () => {
      await g.waitFor("guest ready");
      await g.waitFor(PROMPT);
      t.diagnostic(`popek (disk): prompt after ${((performance.now() - start) / 1000).toFixed(2)} s`);
      assert.match(await g.run("mount", 1), /\/dev\/root on \/ type ext4 \(rw/);
      g.child.stdin.write("poweroff -f\n");
      assert.equal(await g.exited, 0, g.err);
    });
  });

  test("image add, list and run --image; a damaged set is listed as such and never booted", async (t) => {
    const cache = join(tmp, "cache");
    const out = join(tmp, "out");
    // `image build --out` copies the set with its manifest; `image add` registers the copy.
    const built = popek(["image", "build", "--out", out]);
    assert.equal(built.status, 0, built.stderr);
    const added = popek(["image", "add", out, "--name", "mine"], cache);
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stderr, /added image mine/);

    let list = popek(["image", "list"], cache);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^default\s+[0-9a-f]{16}\s+-\s+-\s+-\s+-\s+not built yet/m);
    assert.match(list.stdout, /^mine\s+[0-9a-f]{16}\s+\d+\.\dM\s+\d+\.\dM\s+\d+\.\dM\s+\S+ \S+\s+ok, added$/m);

    const start = performance.now();
    const g = new Console(NODE, [CLI, "run", "--image", "mine"], { ...process.env, XDG_CACHE_HOME: cache });
    await g.within(BOOT_TIMEOUT_MS, async () => {
      await g.waitFor(PROMPT);
      t.diagnostic(`popek run --image: prompt after ${((performance.now() - start) / 1000).toFixed(2)} s`);
      g.child.stdin.write("poweroff -f\n");
      assert.equal(await g.exited, 0, g.err);
    });

    // Truncate the registered initramfs: listed as damaged, refused by `popek run`, which starts no guest.
    const id = /^mine\s+([0-9a-f]{16})/m.exec(list.stdout)![1]!;
    const initrd = join(cache, "popek/images", id, "initramfs.cpio.gz");
    chmodSync(initrd, 0o644);
    truncateSync(initrd, 1000);
    list = popek(["image", "list"], cache);
    assert.match(list.stdout, /^mine\s.*DAMAGED: initramfs\.cpio\.gz: 1000 bytes, manifest says \d+$/m);
    const run = popek(["run", "--image", "mine"], cache);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^popek: image mine is damaged, not booting it: initramfs\.cpio\.gz: 1000 bytes/);
    assert.equal(run.stdout, "");

    const unknown = popek(["run", "--image", "nope"], cache);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /no image named "nope" \(registered: mine;/);
  });
});
