/**
 * BusyBox (the static riscv64 build in the guest image's initramfs) under popek's process VM, compared with
 * qemu-riscv64: applets run one by one on the same files (ls -l, sort, sed, awk, md5sum, find, tar and gzip round
 * trips), `sh -c` scripts of shell builtins (loops, pipes, functions, here-documents, subshells), and pipelines of
 * applets, which need exec: qemu-user cannot exec a RISC-V file without binfmt_misc, so its side of a pipeline is run
 * stage by stage, each stage fed the previous stage's output.
 */
import assert from "node:assert/strict";
import { cpSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { IMAGE_BUILD_TIMEOUT_MS } from "../image/default-image.ts";
import { guestInitramfs, requireTool, runPopek, runQemu, tempDir, unpackCpio } from "./harness.ts";

const ENV = ["PATH=/bin:/sbin:/usr/bin:/usr/sbin", "TZ=UTC", "LANG=C", "HOME=/"];

describe("BusyBox under the process VM", { timeout: IMAGE_BUILD_TIMEOUT_MS + 600_000 }, () => {
  const dir = tempDir("busybox");
  const rootfs = join(dir, "rootfs");
  const bb = join(rootfs, "bin", "busybox");
  const work = join(dir, "work");

  before(async () => {
    await requireTool("qemu-riscv64");
    mkdirSync(rootfs);
    unpackCpio(await guestInitramfs(), rootfs);
    // A small tree of files with fixed times for ls, find, tar, md5sum.
    mkdirSync(join(work, "tree", "sub", "deep"), { recursive: true });
    const lines = Array.from(
      { length: 400 },
      (_, i) => `${(i * 7919) % 1000} item${i} ${i % 3 === 0 ? "fizz" : "buzz"}`,
    );
    writeFileSync(join(work, "data.txt"), `${lines.join("\n")}\n`);
    writeFileSync(join(work, "tree", "a.txt"), "alpha\n");
    writeFileSync(join(work, "tree", "sub", "b.txt"), "beta\nbeta\n");
    writeFileSync(join(work, "tree", "sub", "deep", "c.bin"), Buffer.alloc(5000, 7));
    const t = new Date("2024-03-01T12:00:00Z");
    for (const p of [
      "data.txt",
      "tree/a.txt",
      "tree/sub/b.txt",
      "tree/sub/deep/c.bin",
      "tree/sub/deep",
      "tree/sub",
      "tree",
    ]) {
      utimesSync(join(work, p), t, t);
    }
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * Run busybox with `args` under both with the host root (both see the same /etc), in `work`, or with `copies` in
   * two copies of it (for applets that write files).
   */
  async function both(args: string[], stdin = "", copies: { q: string; p: string } | null = null) {
    const spec = { prog: bb, args, env: ENV, stdin, linking: "static" as const };
    const [q, p] = await Promise.all([
      runQemu({ ...spec, cwd: copies?.q ?? work }),
      runPopek({ ...spec, cwd: copies?.p ?? work }),
    ]);
    return { q, p };
  }

  function copiesOfWork() {
    const q = join(dir, `q${++copyId}`);
    const p = join(dir, `p${copyId}`);
    cpSync(work, q, { recursive: true, preserveTimestamps: true });
    cpSync(work, p, { recursive: true, preserveTimestamps: true });
    return { q, p };
  }
  let copyId = 0;

  const applets: [string, string[], string?][] = [
    ["ls -l", ["ls", "-l", "--full-time", "tree", "tree/sub"]],
    ["ls -lR", ["ls", "-lR", "tree"]],
    ["sort", ["sort", "-n", "-k1,1", "-k2", "data.txt"]],
    ["sort -u from stdin", ["sort", "-ru"], "b\na\nc\na\nb\n"],
    ["sed", ["sed", "-n", "-e", "s/item\\([0-9]*\\)/<\\1>/p", "-e", "/fizz/d", "data.txt"]],
    [
      "awk",
      ["awk", '{ n[$3]++; s += $1 } END { for (k in n) print k, n[k]; printf "%d %.3f\\n", s, s / NR }', "data.txt"],
    ],
    ["md5sum", ["md5sum", "data.txt", "tree/a.txt", "tree/sub/b.txt", "tree/sub/deep/c.bin"]],
    ["find", ["find", "tree", "-type", "f", "-name", "*.txt"]],
    ["wc", ["wc", "data.txt"]],
    ["grep -c", ["grep", "-c", "fizz", "data.txt"]],
    ["cut|tr via stdin", ["tr", "a-z", "A-Z"], "mixed Case text\n"],
  ];
  for (const [name, args, stdin] of applets) {
    test(`applet: ${name}`, async () => {
      const { q, p } = await both(args, stdin);
      assert.equal(p.stdout, q.stdout);
      assert.equal(p.stderr, q.stderr);
      assert.equal(p.status, q.status);
      assert.notEqual(q.stdout, "", "the applet printed something");
    });
  }

  test("tar and gzip round trips", async () => {
    const c = copiesOfWork();
    for (const [name, args] of [
      ["tar c", ["tar", "cf", "out.tar", "tree"]],
      ["gzip", ["gzip", "-k", "-9", "data.txt"]],
      ["mkdir", ["mkdir", "x"]],
      ["tar x", ["tar", "xf", "out.tar", "-C", "x"]],
    ] as const) {
      const { q, p } = await both([...args], "", c);
      assert.equal(p.stdout, q.stdout, name);
      assert.equal(p.status, "exit 0", name);
      assert.equal(q.status, "exit 0", name);
    }
    // Each listed and unpacked its own archive: the same contents and the same checksums of the round trip.
    for (const args of [
      ["tar", "tvf", "out.tar"],
      ["gzip", "-dc", "data.txt.gz"],
      ["md5sum", "x/tree/a.txt", "x/tree/sub/b.txt", "x/tree/sub/deep/c.bin"],
    ]) {
      const { q, p } = await both(args, "", c);
      assert.equal(p.stdout, q.stdout, args.join(" "));
      assert.equal(p.status, "exit 0");
    }
    const { p } = await both(["tar", "tvf", "out.tar"], "", c);
    assert.match(p.stdout, /tree\/sub\/deep\/c.bin/);
    assert.equal(readFileSync(join(c.p, "data.txt.gz")).equals(readFileSync(join(c.q, "data.txt.gz"))), true);
  });

  const scripts: [string, string][] = [
    ["loops and arithmetic", 'i=0; s=0; while [ $i -lt 200 ]; do s=$((s + i * i)); i=$((i + 1)); done; echo "sum $s"'],
    [
      "for, case, functions",
      'f() { case $1 in a*) echo "A:$1";; *) echo "other:$1";; esac; }; for w in apple banana avocado; do f $w; done',
    ],
    [
      "builtin pipelines",
      'for i in 3 1 2; do echo "n$i"; done | while read x; do echo "got $x"; done | { read first; echo "first=$first"; cat_count=0; while read l; do cat_count=$((cat_count+1)); done; echo "rest=$cat_count"; }',
    ],
    [
      "here-document and subshell",
      'x=outer; (x=inner; echo "sub $x"); echo "main $x"; read a b <<EOF\nhello world\nEOF\necho "$b $a"',
    ],
    ["exit status and traps", 'trap "echo trapped" EXIT; false || echo "or ran"; (exit 3); echo "status $?"; exit 7'],
    [
      "redirection to files",
      'echo one > f.txt; echo two >> f.txt; while read l; do echo "[$l]"; done < f.txt; cat_ok=1 2>&1 >/dev/null',
    ],
  ];
  for (const [name, script] of scripts) {
    test(`sh -c: ${name}`, async () => {
      const { q, p } = await both(["sh", "-c", script], "", copiesOfWork());
      assert.equal(p.stdout, q.stdout);
      assert.equal(p.stderr, q.stderr);
      assert.equal(p.status, q.status);
    });
  }

  const pipelines: [string, string[][]][] = [
    [
      "seq | sort -rn | head",
      [
        ["seq", "1", "300"],
        ["sort", "-rn"],
        ["head", "-n", "5"],
      ],
    ],
    [
      "cat | grep | sed | wc",
      [
        ["cat", "data.txt"],
        ["grep", "fizz"],
        ["sed", "s/fizz/FIZZ/"],
        ["wc", "-l"],
      ],
    ],
    ["awk | sort | uniq -c", [["awk", "{ print $3 }", "data.txt"], ["sort"], ["uniq", "-c"]]],
  ];
  for (const [name, stages] of pipelines) {
    test(`sh -c pipeline with exec: ${name}`, async () => {
      let expected = "";
      for (const st of stages) {
        const q = await runQemu({ prog: bb, args: st, env: ENV, stdin: expected, cwd: work, linking: "static" });
        assert.equal(q.status, "exit 0");
        expected = q.stdout;
      }
      const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`;
      const script = stages.map((st) => st.map(quote).join(" ")).join(" | ");
      // In the image's root: the applets are /bin/* links to busybox, which sh execs.
      mkdirSync(join(rootfs, "work"), { recursive: true });
      writeFileSync(join(rootfs, "work", "data.txt"), readFileSync(join(work, "data.txt")));
      const p = await runPopek({
        prog: "/bin/busybox",
        args: ["sh", "-c", script],
        env: ENV,
        cwd: "/work",
        root: rootfs,
        linking: "static",
      });
      assert.equal(p.stdout, expected);
      assert.equal(p.stderr, "");
      assert.equal(p.status, "exit 0");
    });
  }
});
