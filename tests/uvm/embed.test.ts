/**
 * The embedding API (ProcessVm from "popek"): a program given as bytes with an in-memory file system, captured
 * stdout/stderr and stdin from a string; the instruction budget and the memory cap end a run with a result; a deadlock
 * is reported; bad programs are ProcessVmErrors; and a program calling system calls with garbage arguments cannot
 * crash or hang the host.
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { MemFs, ProcessVm, ProcessVmError } from "../../src/index.ts";
import { requireTool, tempDir } from "./harness.ts";

const SOURCES: Record<string, string> = {
  io: `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char line[100];
  if (!fgets(line, sizeof line, stdin)) return 2;
  FILE *f = fopen("/data/out.txt", "w");
  if (!f) { perror("fopen"); return 3; }
  fprintf(f, "%s|%s|%s", argv[1], getenv("GREETING"), line);
  fclose(f);
  FILE *in = fopen("/data/in.txt", "r");
  char buf[64] = {0};
  fread(buf, 1, sizeof buf - 1, in);
  printf("argc=%d in=%s", argc, buf);
  fprintf(stderr, "to stderr\\n");
  return 9;
}`,
  spin: `int main(void) { volatile unsigned long i = 0; for (;;) i++; }`,
  hog: `
#include <stdlib.h>
#include <string.h>
int main(void) { for (int i = 0; i < 64; i++) { char *p = malloc(8 << 20); memset(p, i, 8 << 20); } return 0; }`,
  pause: `#include <unistd.h>
int main(void) { pause(); return 0; }`,
  fuzz: `
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
static uint64_t s = 88172645463325252ull;
static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
/* Pointers go to a scratch area, past the user address space, or to unmapped low memory: never into the program's
 * own data or stack, which a kernel would overwrite just as obediently. */
static char scratch[1 << 20];
static long arg(void) {
  switch (rnd() % 7) {
    case 0: return (long)rnd();
    case 1: return (long)(rnd() % 64);
    case 2: return -(long)(rnd() % 5000);
    case 3: return 0;
    case 4: return (long)(1ul << 38) + (long)(rnd() % 65536);
    case 5: return (long)(rnd() % 0x10000);
    default: return (long)(scratch + rnd() % sizeof scratch);
  }
}
int main(void) {
  /* Calls that end, replace or stop the program, or wait for ever, are left out. */
  static const int skip[] = {22, 72, 73, 93, 94, 98, 101, 115, 129, 130, 131, 133, 137, 139, 214, 215, 216, 220,
                             221, 222, 226, 233, 260, 95, 435, 281, 63, 65, 67, 69, 17, 49, 50, 34, 35, 36, 37, 38,
                             276, 46, 45, 53, 52, 88, 32, 24, 23, 57, 436, 132, 135, 134, 96, 99, 164, 157, 154};
  long calls = 0;
  for (int round = 0; round < 20; round++) {
    for (long nr = 0; nr < 460; nr++) {
      int bad = 0;
      for (unsigned i = 0; i < sizeof skip / sizeof skip[0]; i++) bad |= skip[i] == nr;
      if (bad) continue;
      syscall(nr, arg(), arg(), arg(), arg(), arg(), arg());
      calls++;
    }
  }
  /* An argument list far beyond ARG_MAX built from one string: E2BIG, not a host out-of-memory. */
  static char big[100000];
  static char *av[70000];
  memset(big, 'x', sizeof big - 1);
  for (int i = 0; i < 69999; i++) av[i] = big;
  long r = syscall(221, "/fuzz", av, av);
  printf("execve flood: %ld %d\\n", r, errno == E2BIG);
  printf("survived %ld calls\\n", calls);
  return 0;
}`,
};

describe("ProcessVm embedding API", { timeout: 300_000 }, () => {
  const dir = tempDir("embed");
  const bins = new Map<string, Uint8Array>();

  before(async () => {
    await requireTool("riscv64-linux-gnu-gcc");
    const { execFileSync } = await import("node:child_process");
    for (const [name, src] of Object.entries(SOURCES)) {
      const c = join(dir, `${name}.c`);
      writeFileSync(c, src);
      execFileSync("riscv64-linux-gnu-gcc", ["-O1", "-static", "-o", join(dir, name), c], { timeout: 120_000 });
      bins.set(name, readFileSync(join(dir, name)));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("runs a program from bytes on a MemFs with captured stdio", async () => {
    const fs = new MemFs();
    fs.writeFile("/data/in.txt", "from the host\n");
    const vm = new ProcessVm({
      argv: ["/bin/io", "first-arg"],
      program: bins.get("io")!,
      env: ["GREETING=hi there"],
      fs,
      stdin: "a line of input\nmore\n",
    });
    const r = await vm.run();
    assert.deepEqual(r.exit, { kind: "exit", code: 9 });
    assert.equal(new TextDecoder().decode(r.stdout), "argc=2 in=from the host\n");
    assert.equal(new TextDecoder().decode(r.stderr), "to stderr\n");
    assert.equal(new TextDecoder().decode(fs.readFile("/data/out.txt")!), "first-arg|hi there|a line of input\n");
    assert.ok(r.instructions > 10_000 && r.syscalls > 10);
  });

  test("the instruction budget stops a program that never ends", async () => {
    const vm = new ProcessVm({ argv: ["/spin"], program: bins.get("spin")!, maxInstructions: 5_000_000 });
    const r = await vm.run();
    assert.deepEqual(r.exit, { kind: "limit", limit: "instructions" });
    assert.ok(r.instructions >= 5_000_000 && r.instructions < 5_000_100, `${r.instructions}`);
  });

  test("the memory cap stops a program that touches more than it allows", async () => {
    const vm = new ProcessVm({ argv: ["/hog"], program: bins.get("hog")!, memory: 64 * 1024 * 1024 });
    const r = await vm.run();
    assert.deepEqual(r.exit, { kind: "limit", limit: "memory" });
    assert.ok(r.peakMemory <= 64 * 1024 * 1024);
  });

  test("a program waiting for what cannot come is reported as a deadlock", async () => {
    const vm = new ProcessVm({ argv: ["/pause"], program: bins.get("pause")! });
    assert.deepEqual((await vm.run()).exit, { kind: "deadlock" });
  });

  test("programs that cannot run are ProcessVmErrors with an errno code", async () => {
    await assert.rejects(
      new ProcessVm({ argv: ["/x"], program: new TextEncoder().encode("not an elf") }).run(),
      (e) => {
        return e instanceof ProcessVmError && e.code === "ENOEXEC";
      },
    );
    await assert.rejects(new ProcessVm({ argv: ["/missing"] }).run(), (e) => {
      return e instanceof ProcessVmError && e.code === "ENOENT";
    });
    assert.throws(() => new ProcessVm({ argv: ["/x"], memory: 3 * 1024 ** 3 }), ProcessVmError);
  });

  test("system calls with garbage arguments never crash or hang the host", async () => {
    const vm = new ProcessVm({ argv: ["/fuzz"], program: bins.get("fuzz")!, maxInstructions: 2_000_000_000 });
    const r = await vm.run();
    assert.deepEqual(r.exit, { kind: "exit", code: 0 }, new TextDecoder().decode(r.stderr));
    assert.match(new TextDecoder().decode(r.stdout), /^execve flood: -1 1\nsurvived \d+ calls\n$/);
  });
});
