/* The benchmark workloads' runtime (common/bench.h) for Linux: the same types, PRNG, mix and SCALED knob, with
   output through write(2) and exit(2), so each workload runs as a static Linux program under `popek exec` and
   qemu-riscv64. Included with -include before the workload; it defines BENCH_H so common/bench.h is skipped. */
#ifndef BENCH_H
#define BENCH_H
#include <stdlib.h>
#include <unistd.h>

typedef __UINT8_TYPE__ u8;
typedef __UINT16_TYPE__ u16;
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
typedef __INT32_TYPE__ i32;
typedef __INT64_TYPE__ i64;

#ifndef SCALE_PERMILLE
#define SCALE_PERMILLE 1000
#endif
#define SCALED(n) ((u64)(n) * SCALE_PERMILLE / 1000 > 0 ? (u64)(n) * SCALE_PERMILLE / 1000 : 1)

u64 workload(void);

static void putch(int c) {
  char ch = (char)c;
  (void)!write(1, &ch, 1);
}
static void puts_(const char *s) {
  while (*s) putch(*s++);
}
static void put_hex(u64 v) {
  puts_("0x");
  for (int i = 60; i >= 0; i -= 4) putch("0123456789abcdef"[(v >> i) & 15]);
}
static void __attribute__((noreturn, unused)) bench_fail(const char *what) {
  puts_("FAIL: ");
  puts_(what);
  putch('\n');
  exit(1);
}
static u64 rng_state = 0x9e3779b97f4a7c15ull;
static inline u64 __attribute__((unused)) rng_next(void) {
  u64 x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x2545f4914f6cdd1dull;
}
static inline u64 __attribute__((unused)) mix(u64 h, u64 v) { return (h ^ v) * 0x100000001b3ull + (h >> 29); }

int main(void) {
  u64 sum = workload();
  puts_("checksum: ");
  put_hex(sum);
  putch('\n');
  return 0;
}
#endif
