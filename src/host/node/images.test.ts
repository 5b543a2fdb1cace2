// Image cache, manifests, registry and build runner, on small files in temporary directories: recipe hashing, damage
// detection (truncated, altered, missing files), `image add` and its registry, the build lock, and ensureDefaultImage
// driving a stand-in recipe whose build.sh writes small files (the real recipe is built in tests/image).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ensureDefaultImage } from "./image-build.ts";
import {
  addImage,
  builtImageId,
  describeFiles,
  findRegistered,
  ImageError,
  listImages,
  type Manifest,
  openSet,
  parseManifest,
  popekCacheDir,
  readVerified,
  recipeHash,
  verifySet,
  withLock,
  writeManifest,
} from "./images.ts";

const tmp = mkdtempSync(join(tmpdir(), "popek-images-test-"));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (what: string) => {
  const d = join(tmp, `${what}-${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

const isImageError = (code: string, message?: RegExp) => (e: unknown) =>
  e instanceof ImageError && e.code === code && (message === undefined || message.test(e.message));

test("popekCacheDir follows XDG_CACHE_HOME (absolute only), else ~/.cache", () => {
  assert.equal(popekCacheDir({ XDG_CACHE_HOME: "/var/c" }), "/var/c/popek");
  assert.match(popekCacheDir({ XDG_CACHE_HOME: "relative" }), /\/\.cache\/popek$/);
  assert.match(popekCacheDir({}), /\/\.cache\/popek$/);
});

test("the recipe hash covers every file's path, content and executable bit", async () => {
  const r = fresh("recipe");
  mkdirSync(join(r, "rootfs/etc"), { recursive: true });
  writeFileSync(join(r, "kernel.config"), "CONFIG_SMP=y\n");
  writeFileSync(join(r, "rootfs/etc/hostname"), "guest\n");
  const h0 = await recipeHash(r);
  assert.match(h0, /^[0-9a-f]{64}$/);
  assert.equal(await recipeHash(r), h0, "stable");
  writeFileSync(join(r, "kernel.config"), "CONFIG_SMP=n\n");
  const h1 = await recipeHash(r);
  assert.notEqual(h1, h0, "content");
  chmodSync(join(r, "kernel.config"), 0o755);
  const h2 = await recipeHash(r);
  assert.notEqual(h2, h1, "executable bit");
  writeFileSync(join(r, "rootfs/etc/motd"), "");
  assert.notEqual(await recipeHash(r), h2, "a new file");
  // The real recipe hashes too (tools/image exists in the checkout).
  assert.match(await recipeHash(), /^[0-9a-f]{64}$/);
});

/** A small set: Image, initrd, disk, with a manifest. */
async function makeSet(dir: string): Promise<Manifest> {
  writeFileSync(join(dir, "Image"), Buffer.alloc(4096, 0x11));
  writeFileSync(join(dir, "initramfs.cpio.gz"), Buffer.alloc(1000, 0x22));
  writeFileSync(join(dir, "rootfs.ext4"), Buffer.alloc(8192, 0x33));
  const m: Manifest = {
    format: 1,
    source: "build",
    recipe: "0".repeat(64),
    created: new Date().toISOString(),
    kernel: "Image",
    initrd: "initramfs.cpio.gz",
    disk: "rootfs.ext4",
    append: "console=ttyS0",
    versions: { kernel_release: "6.1.0" },
    files: await describeFiles(dir, ["Image", "initramfs.cpio.gz", "rootfs.ext4"]),
  };
  await writeManifest(dir, m);
  return m;
}

describe("integrity", () => {
  test("an intact set verifies; truncated, altered and missing files are each reported", async () => {
    const d = fresh("set");
    const m = await makeSet(d);
    assert.deepEqual(await verifySet(d, m), []);
    truncateSync(join(d, "Image"), 4000);
    const b = readFileSync(join(d, "initramfs.cpio.gz"));
    b[500] ^= 1;
    writeFileSync(join(d, "initramfs.cpio.gz"), b);
    rmSync(join(d, "rootfs.ext4"));
    assert.deepEqual(await verifySet(d, m), [
      { file: "Image", problem: "4000 bytes, manifest says 4096" },
      { file: "initramfs.cpio.gz", problem: "sha256 differs from manifest" },
      { file: "rootfs.ext4", problem: "missing" },
    ]);
  });

  test("readVerified returns the checked bytes and refuses damaged ones", async () => {
    const d = fresh("set");
    const manifest = await makeSet(d);
    const set = { id: "x", dir: d, manifest };
    assert.equal((await readVerified(set, "Image")).length, 4096);
    const b = readFileSync(join(d, "Image"));
    b[0] = 0;
    writeFileSync(join(d, "Image"), b);
    await assert.rejects(readVerified(set, "Image"), isImageError("ECORRUPT", /sha256 differs/));
    truncateSync(join(d, "Image"), 0);
    await assert.rejects(readVerified(set, "Image"), isImageError("ECORRUPT", /0 bytes, manifest says 4096/));
  });

  test("malformed manifests are rejected with the reason", () => {
    const ok = {
      format: 1,
      source: "add",
      created: "2024-01-01T00:00:00Z",
      kernel: "Image",
      append: "",
      versions: {},
      files: { Image: { size: 1, sha256: "a".repeat(64) } },
    };
    assert.equal(parseManifest(JSON.stringify(ok), "m").kernel, "Image");
    const bad = (patch: object, why: RegExp) =>
      assert.throws(() => parseManifest(JSON.stringify({ ...ok, ...patch }), "m"), isImageError("EMANIFEST", why));
    bad({ format: 2 }, /unknown format 2/);
    bad({ kernel: "vmlinux" }, /"kernel" must name one of its files/);
    bad({ initrd: "nope" }, /"initrd" must name/);
    bad({ files: { "../Image": { size: 1, sha256: "a".repeat(64) } } }, /bad file name/);
    bad({ files: { Image: { size: 1, sha256: "xyz" } } }, /needs a size and a sha256/);
    assert.throws(() => parseManifest("{", "m"), isImageError("EMANIFEST", /not JSON/));
  });
});

describe("image add and the registry", () => {
  test("add copies the set into the cache; list shows it; a damaged copy is reported; re-adding replaces it", async () => {
    const cache = fresh("cache");
    const src = fresh("mine");
    writeFileSync(join(src, "Image"), "kernel bytes");
    writeFileSync(join(src, "initramfs.cpio"), "initrd bytes");
    const set = await addImage(cache, src, "mine", { append: "console=hvc0" });
    assert.equal(set.manifest.kernel, "Image");
    assert.equal(set.manifest.initrd, "initramfs.cpio");
    assert.equal(set.manifest.disk, undefined);
    assert.equal(set.manifest.append, "console=hvc0");
    assert.equal(set.manifest.source, "add");
    // The cache holds copies: changing the source does not change the registered set.
    writeFileSync(join(src, "Image"), "changed kernel");
    const found = await findRegistered(cache, "mine");
    assert.equal(Buffer.from(await readVerified(found, "Image")).toString(), "kernel bytes");

    let rows = await listImages(cache, "f".repeat(64));
    assert.deepEqual(
      rows.map((r) => [r.name, r.set !== undefined, r.damage.length, r.note]),
      [
        ["default", false, 0, "not built yet (popek image build)"],
        ["mine", true, 0, "added"],
      ],
    );
    truncateSync(join(found.dir, "initramfs.cpio"), 3);
    rows = await listImages(cache, "f".repeat(64));
    assert.deepEqual(rows[1]!.damage, [{ file: "initramfs.cpio", problem: "3 bytes, manifest says 12" }]);

    const again = await addImage(cache, src, "mine");
    assert.notEqual(again.id, set.id);
    assert.equal(
      Buffer.from(await readVerified(await findRegistered(cache, "mine"), "Image")).toString(),
      "changed kernel",
    );
  });

  test("a directory with a manifest (popek image build --out) is added as its manifest says, after a check", async () => {
    const cache = fresh("cache");
    const src = fresh("out");
    await makeSet(src);
    const set = await addImage(cache, src, "built-copy");
    assert.deepEqual(Object.keys(set.manifest.files).sort(), ["Image", "initramfs.cpio.gz", "rootfs.ext4"]);
    assert.equal(set.manifest.disk, "rootfs.ext4");
    assert.deepEqual(set.manifest.versions, { kernel_release: "6.1.0" });
    truncateSync(join(src, "rootfs.ext4"), 1);
    await assert.rejects(addImage(cache, src, "broken"), isImageError("ECORRUPT", /do not match its manifest/));
  });

  test("bad names, a missing directory, no kernel and unknown names are errors", async () => {
    const cache = fresh("cache");
    const empty = fresh("empty");
    await assert.rejects(addImage(cache, empty, "../x"), isImageError("EINPUT", /bad name/));
    await assert.rejects(addImage(cache, empty, "default"), isImageError("EINPUT", /popek builds itself/));
    await assert.rejects(addImage(cache, join(tmp, "nope"), "x"), isImageError("EINPUT", /no such directory/));
    await assert.rejects(addImage(cache, empty, "x"), isImageError("EINPUT", /no kernel/));
    await assert.rejects(findRegistered(cache, "x"), isImageError("ENOIMAGE", /no image named "x"/));
  });
});

describe("the build lock", () => {
  test("a second holder waits for the first; a lock left by a dead process is taken over", async () => {
    const cache = fresh("cache");
    const order: string[] = [];
    let release!: () => void;
    const first = withLock(cache, "k", async () => {
      order.push("first in");
      await new Promise<void>((r) => {
        release = r;
      });
      order.push("first out");
    });
    await new Promise((r) => setTimeout(r, 50));
    let waited = 0;
    const second = withLock(
      cache,
      "k",
      async () => {
        order.push("second in");
      },
      (pid) => {
        waited = pid;
      },
    );
    await new Promise((r) => setTimeout(r, 700));
    assert.deepEqual(order, ["first in"]);
    assert.equal(waited, process.pid);
    release();
    await Promise.all([first, second]);
    assert.deepEqual(order, ["first in", "first out", "second in"]);

    // A pid that cannot be alive (a child that has exited).
    const child = spawn(process.execPath, ["-e", ""]);
    const dead = child.pid!;
    await new Promise((r) => child.on("exit", r));
    writeFileSync(join(cache, "images", "k.lock"), `${dead}\n`);
    const t = performance.now();
    assert.equal(await withLock(cache, "k", async () => 42), 42);
    assert.ok(performance.now() - t < 400, "stale lock taken over without waiting");
  });
});

/** A stand-in recipe: build.sh writes small files instead of compiling, and prints build lines in the kernel step. */
function fakeRecipe(opts: { failAt?: string; needRoot?: boolean } = {}): string {
  const r = fresh("fake-recipe");
  writeFileSync(join(r, "recipe.env"), "KERNEL_BUILD_STEPS=20\n");
  writeFileSync(
    join(r, "build.sh"),
    `set -e
step=$1
echo "step $step" >> "$POPEK_IMAGE_WORK/steps"
${opts.needRoot ? 'if [ "$step" = deps ]; then echo "Run as root: apt-get install x" >&2; exit 3; fi' : ""}
${opts.failAt ? `if [ "$step" = ${opts.failAt} ]; then echo "cc1: error: something broke"; exit 2; fi` : ""}
case $step in
kernel) for i in $(seq 1 10); do echo "  CC      kernel/f$i.o"; done; echo "  LD      vmlinux" ;;
rootfs)
  cd "$POPEK_IMAGE_OUT"
  printf 'kernel %s' "$(cat "$POPEK_IMAGE_WORK/steps" | wc -l)" > Image
  printf 'initrd' > initramfs.cpio.gz; printf 'disk' > rootfs.ext4
  printf 'k' > kernel.config; printf 'b' > busybox.config
  printf 'kernel_release=6.1.0\\nbusybox_source=1:1.35.0\\n' > versions.txt ;;
esac
`,
  );
  return r;
}

describe("ensureDefaultImage (stand-in recipe)", () => {
  test("builds when missing, then hits the cache; a damaged set is rebuilt, never returned", async () => {
    const cache = fresh("cache");
    const recipe = fakeRecipe();
    const events: string[] = [];
    let fractions: number[] = [];
    const ev = {
      step: (i: number, count: number, s: { name: string }) => events.push(`${i + 1}/${count} ${s.name}`),
      progress: (f: number) => fractions.push(f),
      note: (t: string) => events.push(`note: ${t}`),
    };
    await assert.rejects(ensureDefaultImage({ cache, recipe, build: false }), isImageError("ENOIMAGE"));
    let before = "";
    const a = await ensureDefaultImage({ cache, recipe, events: ev, beforeBuild: (r) => (before = r) });
    assert.equal(a.built, true);
    assert.equal(before, `the default image is not built yet for this recipe (tools/image, hash ${a.id})`);
    assert.equal(a.id, builtImageId(await recipeHash(recipe)));
    assert.deepEqual(events, [
      "1/6 deps",
      "2/6 sources",
      "3/6 kernel-config",
      "4/6 busybox",
      "5/6 kernel",
      "6/6 rootfs",
    ]);
    // 11 build lines of an expected 20: the last report is 1 (step done).
    assert.equal(fractions.at(-1), 1);
    assert.equal(a.manifest.build?.kernelLines, 11);
    assert.equal(a.manifest.versions.kernel_release, "6.1.0");
    assert.equal(a.kernelPath, join(cache, "images", a.id, "Image"));
    assert.deepEqual(await verifySet(a.dir, a.manifest), []);
    const log = readFileSync(join(cache, "build", "work", "build.log"), "utf8");
    assert.match(log, /===== build.sh kernel/);
    assert.match(log, / {2}CC {6}kernel\/f10\.o/);

    events.length = 0;
    fractions = [];
    const t = performance.now();
    const b = await ensureDefaultImage({ cache, recipe, events: ev, beforeBuild: () => assert.fail("no build") });
    const ms = performance.now() - t;
    assert.equal(b.built, false);
    assert.equal(b.manifest.created, a.manifest.created);
    assert.deepEqual(events, []);
    assert.ok(ms < 500, `cache hit took ${ms} ms`);

    // Damage: a truncated kernel. Without building allowed it is an error; otherwise it is rebuilt.
    chmodSync(a.kernelPath, 0o644);
    truncateSync(a.kernelPath, 2);
    await assert.rejects(
      ensureDefaultImage({ cache, recipe, build: false }),
      isImageError("ECORRUPT", /Image: 2 bytes/),
    );
    const c = await ensureDefaultImage({ cache, recipe, events: ev });
    assert.equal(c.built, true);
    assert.match(
      events[0]!,
      /^note: the cached default image is damaged \(Image: 2 bytes, manifest says \d+\); rebuilding it$/,
    );
    assert.deepEqual(await verifySet(c.dir, c.manifest), []);
    assert.ok((await openSet(cache, c.id))!.manifest.created >= a.manifest.created);
  });

  test("a failing step is an EBUILD error with its last lines and the log's path; missing packages are ENEEDROOT", async () => {
    const cache = fresh("cache");
    await assert.rejects(
      ensureDefaultImage({ cache, recipe: fakeRecipe({ failAt: "busybox" }) }),
      (e: unknown) =>
        isImageError("EBUILD", /^image build step 'busybox' failed \(exit 2\); full log: .*\/build\.log$/)(e) &&
        /cc1: error: something broke$/.test((e as ImageError).details),
    );
    assert.equal(await openSet(cache, builtImageId(await recipeHash(fakeRecipe({ failAt: "busybox" })))), undefined);
    await assert.rejects(
      ensureDefaultImage({ cache, recipe: fakeRecipe({ needRoot: true }) }),
      (e: unknown) => isImageError("ENEEDROOT")(e) && (e as ImageError).details === "Run as root: apt-get install x",
    );
  });

  test("concurrent callers build once", async () => {
    const cache = fresh("cache");
    const recipe = fakeRecipe();
    const [a, b] = await Promise.all([ensureDefaultImage({ cache, recipe }), ensureDefaultImage({ cache, recipe })]);
    assert.equal([a.built, b.built].filter(Boolean).length, 1);
    assert.equal(a.manifest.created, b.manifest.created);
    assert.equal(readFileSync(join(cache, "build", "work", "steps"), "utf8").match(/step rootfs/g)?.length, 1);
  });
});
