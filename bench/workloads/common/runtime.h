/* The platform-neutral part of the workloads' runtime: fixed-width types, the SCALED size knob, console output, the
   self-check failure, a PRNG and the checksum mix. Included by bench.h (bare metal, HTIF) and bench/uvm/linux.h
   (a Linux program), each of which defines putch() and bench_exit() after it. No libc. */
#ifndef BENCH_RUNTIME_H
#define BENCH_RUNTIME_H

typedef __UINT8_TYPE__ u8;
typedef __UINT16_TYPE__ u16;
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
typedef __INT32_TYPE__ i32;
typedef __INT64_TYPE__ i64;

/* The size knob: run.ts passes -DSCALE_PERMILLE=<scale * 1000>. */
#ifndef SCALE_PERMILLE
#define SCALE_PERMILLE 1000
#endif
#define SCALED(n) ((u64)(n) * SCALE_PERMILLE / 1000 > 0 ? (u64)(n) * SCALE_PERMILLE / 1000 : 1)

/* Each workload defines this; its result is printed as the checksum run.ts compares between popek and QEMU. */
u64 workload(void);

/* The platform's: one console byte, and the end of the program with an exit code. */
static void putch(int c);
static void __attribute__((noreturn)) bench_exit(u64 code);

static void puts_(const char *s) {
  while (*s) putch(*s++);
}

static void put_hex(u64 v) {
  puts_("0x");
  for (int i = 60; i >= 0; i -= 4) putch("0123456789abcdef"[(v >> i) & 15]);
}

static void __attribute__((unused)) put_dec(u64 v) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) putch(buf[--n]);
}

/* A workload's self-check failed: say which and exit with code 1. */
static void __attribute__((noreturn, unused)) bench_fail(const char *what) {
  puts_("FAIL: ");
  puts_(what);
  putch('\n');
  bench_exit(1);
}

/* xorshift64* (Vigna): deterministic input data without libc. */
static u64 rng_state = 0x9e3779b97f4a7c15ull;
static inline u64 __attribute__((unused)) rng_next(void) {
  u64 x = rng_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng_state = x;
  return x * 0x2545f4914f6cdd1dull;
}

/* Fold a value into a running checksum (a 64-bit FNV-1a-like mix). */
static inline u64 __attribute__((unused)) mix(u64 h, u64 v) { return (h ^ v) * 0x100000001b3ull + (h >> 29); }

#endif
