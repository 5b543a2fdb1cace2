/* Shared runtime for the benchmark workloads: fixed-width types, HTIF console and exit (the spike/QEMU `tohost`
   protocol: device 1 command 1 is putchar, payload bit 0 set with device 0 is exit), a PRNG, and the main that
   prints the workload's checksum and the guest's own minstret. No libc. */
#ifndef BENCH_H
#define BENCH_H

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

volatile u64 tohost __attribute__((section(".tohost"), aligned(64)));
volatile u64 fromhost __attribute__((section(".tohost"), aligned(8)));

static void htif_send(u64 v) {
  while (tohost != 0) {
  }
  tohost = v;
}

static void bench_exit(u64 code) {
  htif_send((code << 1) | 1);
  for (;;) {
  }
}

static void putch(int c) { htif_send((1ull << 56) | (1ull << 48) | (u8)c); }

static void puts_(const char *s) {
  while (*s) putch(*s++);
}

static void put_hex(u64 v) {
  puts_("0x");
  for (int i = 60; i >= 0; i -= 4) putch("0123456789abcdef"[(v >> i) & 15]);
}

static void put_dec(u64 v) {
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
  __builtin_unreachable();
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

static inline u64 read_minstret(void) {
  u64 v;
  __asm__ volatile("csrr %0, minstret" : "=r"(v));
  return v;
}

/* Prints the checksum, then the instructions the guest counted itself across workload() (minstret difference; under
   QEMU this needs -icount, which is how run.ts counts instructions when popek is not available). */
void bench_main(void) {
  u64 start = read_minstret();
  u64 sum = workload();
  u64 end = read_minstret();
  puts_("checksum: ");
  put_hex(sum);
  puts_("\ninstret: ");
  put_dec(end - start);
  putch('\n');
  bench_exit(0);
}

void bench_trap(u64 mcause, u64 mepc, u64 mtval) {
  puts_("TRAP mcause=");
  put_hex(mcause);
  puts_(" mepc=");
  put_hex(mepc);
  puts_(" mtval=");
  put_hex(mtval);
  putch('\n');
  bench_exit(2);
}

#endif
