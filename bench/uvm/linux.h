/* The benchmark workloads' runtime for Linux: common/runtime.h (types, PRNG, mix, the SCALED knob) with output
   through write(2) and exit(2), so each workload runs as a static Linux program under `popek exec` and
   qemu-riscv64. Included with -include before the workload; it defines BENCH_H so common/bench.h is skipped. */
#ifndef BENCH_H
#define BENCH_H
#include <stdlib.h>
#include <unistd.h>

#include "common/runtime.h"

static void putch(int c) {
  char ch = (char)c;
  (void)!write(1, &ch, 1);
}

static void bench_exit(u64 code) { exit((int)code); }

int main(void) {
  u64 sum = workload();
  puts_("checksum: ");
  put_hex(sum);
  putch('\n');
  return 0;
}
#endif
