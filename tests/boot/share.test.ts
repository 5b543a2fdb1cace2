// Shared host folders over virtio-9p, proven with the real guest: boot the shared Linux image on `popek run` with a
// read-write share and a read-only share of temporary folders, mount them in the guest with Linux's 9p file system
// (trans=virtio, version=9p2000.L), read host files, write files back (checked on the host, a 1 MiB file by hash),
// ls/mkdir/mv/rm/ln/chmod, then try the ways out of the share (.., host symlinks absolute and relative pointing
// outside, a symlink to /etc/passwd, writing through such a link, setuid) and writes to the read-only share; none
// may reveal or change anything outside. Bounded: the boot has a hard timeout and fails at once on a kernel panic.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { bounded, FATAL, PROMPT, spawnGuest } from "./guest.ts";
import { INITRD, KERNEL } from "./guest-files.ts";

const TIMEOUT_MS = Number(process.env.POPEK_BOOT_TIMEOUT_MS ?? 300_000);
const noImages = fs.existsSync(KERNEL) && fs.existsSync(INITRD) ? false : `no guest image: ${KERNEL} or ${INITRD}`;

const base = fs.mkdtempSync(join(tmpdir(), "popek-9p-boot-"));
after(() => fs.rmSync(base, { recursive: true, force: true }));

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("virtio-9p: host folders in a Linux guest", { timeout: TIMEOUT_MS + 30_000 }, () => {
  test("mount, read, write back, change, escape attempts fail, read-only share refuses writes", {
    skip: noImages,
  }, async (t) => {
    const share = join(base, "share");
    const outside = join(base, "outside");
    const ro = join(base, "ro");
    for (const d of [share, outside, ro, join(share, "emptydir")]) fs.mkdirSync(d, { recursive: true });
    const secret = join(outside, "secret.txt");
    fs.writeFileSync(secret, "TOP SECRET host data\n");
    fs.writeFileSync(join(share, "hello.txt"), "hello from the host\n");
    fs.chmodSync(join(share, "hello.txt"), 0o644);
    const big = randomBytes(1 << 20);
    fs.writeFileSync(join(share, "big.bin"), big);
    fs.symlinkSync(secret, join(share, "abs-link"));
    fs.symlinkSync("../outside/secret.txt", join(share, "rel-link"));
    fs.symlinkSync(outside, join(share, "dir-link"));
    fs.symlinkSync("/etc/passwd", join(share, "passwd-link"));
    fs.writeFileSync(join(ro, "readme.txt"), "read only\n");
    const roBefore = JSON.stringify(fs.readdirSync(ro).map((f) => [f, fs.statSync(join(ro, f)).mtimeMs]));

    const start = performance.now();
    const g = spawnGuest([
      "--kernel",
      KERNEL,
      "--initrd",
      INITRD,
      "--append",
      "console=ttyS0",
      "--share",
      `${share},tag=host`,
      "--share",
      `${ro},tag=ro,readonly=on`,
    ]);
    const session = async () => {
      await g.waitFor(PROMPT);
      t.diagnostic(`prompt after ${((performance.now() - start) / 1000).toFixed(2)} s`);
      await g.noEcho();
      const mount = await g.run(
        // The project's own image mounts the tag `host` on /mnt/host at boot (one channel, one mount): undo that.
        "umount /mnt/host 2>/dev/null; mkdir -p /mnt /mnt2 && mount -t 9p -o trans=virtio,version=9p2000.L host /mnt && echo mounted-ok",
      );
      assert.match(mount, /mounted-ok/);
      assert.match(await g.run("grep 9p /proc/mounts"), /^host \/mnt 9p .*trans=virtio/m);

      // Read host files.
      assert.equal(await g.run("cat /mnt/hello.txt"), "hello from the host\n");
      let t0 = performance.now();
      await g.run("cat /mnt/big.bin > /dev/null");
      t.diagnostic(`cat of a 1 MiB host file to /dev/null: ${(performance.now() - t0).toFixed(0)} ms (wall)`);
      assert.equal(await g.run("sha256sum /mnt/big.bin"), `${sha256(big)}  /mnt/big.bin\n`);

      // Write back: a new file, a 1 MiB copy, both checked on the host.
      await g.run('echo "written by the guest" > /mnt/from-guest.txt');
      assert.equal(fs.readFileSync(join(share, "from-guest.txt"), "utf8"), "written by the guest\n");
      t0 = performance.now();
      await g.run("cp /mnt/big.bin /mnt/big-copy.bin && sync");
      t.diagnostic(`cp of a 1 MiB file within the share: ${(performance.now() - t0).toFixed(0)} ms`);
      assert.equal(sha256(fs.readFileSync(join(share, "big-copy.bin"))), sha256(big));

      // ls, mkdir, mv, rm, rmdir, ln, chmod.
      const ls = await g.run("ls -a /mnt");
      for (const name of [".", "..", "hello.txt", "big.bin", "abs-link", "emptydir"]) {
        assert.match(ls, new RegExp(`(^|\\s)${name.replaceAll(".", "\\.")}(\\s|$)`), `ls shows ${name}`);
      }
      await g.run("mkdir /mnt/newdir && mv /mnt/from-guest.txt /mnt/newdir/moved.txt");
      assert.ok(fs.statSync(join(share, "newdir")).isDirectory());
      assert.equal(fs.readFileSync(join(share, "newdir", "moved.txt"), "utf8"), "written by the guest\n");
      assert.ok(!fs.existsSync(join(share, "from-guest.txt")));
      assert.equal(await g.run("cat /mnt/newdir/moved.txt"), "written by the guest\n");
      await g.run("rm /mnt/big-copy.bin && rmdir /mnt/emptydir");
      assert.ok(!fs.existsSync(join(share, "big-copy.bin")));
      assert.ok(!fs.existsSync(join(share, "emptydir")));
      await g.run("ln -s /etc/hostname /mnt/guest-link && ln /mnt/hello.txt /mnt/hard.txt");
      assert.equal(fs.readlinkSync(join(share, "guest-link")), "/etc/hostname");
      assert.equal(fs.statSync(join(share, "hello.txt")).nlink, 2);
      assert.equal(await g.run("readlink /mnt/guest-link"), "/etc/hostname\n");
      assert.equal(await g.run("stat -c %s:%h /mnt/hard.txt"), "20:2\n");
      // setuid is dropped on the host and reported as dropped.
      assert.equal(await g.run("chmod 4755 /mnt/hello.txt; stat -c %a /mnt/hello.txt"), "755\n");
      assert.equal(fs.statSync(join(share, "hello.txt")).mode & 0o7777, 0o755);

      // Escape attempts. ".." of the mount point is the guest's own root.
      const up = await g.run("ls /mnt/..; (cd /mnt/.. && pwd)");
      assert.match(up, /(^|\s)proc(\s|$)/);
      assert.doesNotMatch(up, /outside|share/);
      assert.match(up, /^\/$/m);
      const attempts = [
        "cat /mnt/../outside/secret.txt",
        "cat /mnt/abs-link",
        "cat /mnt/rel-link",
        "ls /mnt/dir-link/",
        "cat /mnt/dir-link/secret.txt",
        `cat /mnt/${"../".repeat(12)}${secret.slice(1)}`,
        "echo pwned > /mnt/abs-link",
        "echo pwned > /mnt/rel-link",
      ];
      for (const cmd of attempts) {
        const out = await g.run(`${cmd}; echo "status=$?"`);
        assert.doesNotMatch(out, /TOP SECRET/, cmd);
        assert.match(out, /status=[1-9]/, `${cmd} fails in the guest`);
      }
      // A host symlink to /etc/passwd resolves in the guest, to the guest's own file.
      const passwd = await g.run("cat /mnt/passwd-link");
      assert.match(passwd, /^root::0:0:root:\/root:\/bin\/sh$/m);
      assert.ok(!passwd.includes(fs.readFileSync("/etc/passwd", "utf8")), "not the host's /etc/passwd");
      assert.equal(fs.readFileSync(secret, "utf8"), "TOP SECRET host data\n", "the outside file is unchanged");
      assert.deepEqual(fs.readdirSync(outside), ["secret.txt"]);

      // The read-only share: reads work, every write fails with EROFS.
      await g.run("mount -t 9p -o trans=virtio,version=9p2000.L ro /mnt2");
      assert.equal(await g.run("cat /mnt2/readme.txt"), "read only\n");
      for (const cmd of [
        "echo x > /mnt2/new.txt",
        "echo x >> /mnt2/readme.txt",
        "rm /mnt2/readme.txt",
        "mkdir /mnt2/d",
        "touch /mnt2/readme.txt",
        "mv /mnt2/readme.txt /mnt2/moved.txt",
        "ln -s x /mnt2/link",
        "chmod 777 /mnt2/readme.txt",
      ]) {
        const out = await g.run(`${cmd}; echo "status=$?"`);
        assert.match(out, /Read-only file system/, cmd);
        assert.match(out, /status=[1-9]/, cmd);
      }
      assert.equal(
        JSON.stringify(fs.readdirSync(ro).map((f) => [f, fs.statSync(join(ro, f)).mtimeMs])),
        roBefore,
        "the read-only folder is unchanged",
      );

      assert.match(await g.run("umount /mnt && umount /mnt2 && echo umounted"), /umounted/);
      const code = await g.poweroff();
      t.diagnostic(`powered off after ${((performance.now() - start) / 1000).toFixed(2)} s`);
      assert.equal(code, 0, `exit status ${code}; stderr: ${g.err}`);
      assert.doesNotMatch(g.out, FATAL);
      assert.doesNotMatch(g.out, /(9pnet|9p|v9fs)[^\n]*(error|fail|bad|unknown|invalid)/i, "no 9p errors in the log");
    };
    await bounded(() => [g], TIMEOUT_MS, session);
  });
});
