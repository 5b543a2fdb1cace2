/* The benchmark workloads' bare-metal runtime: runtime.h (types, output, PRNG) over HTIF console and exit (the
   spike/QEMU `tohost` protocol: device 1 command 1 is putchar, payload bit 0 set with device 0 is exit), and the main
   that prints the workload's checksum and the guest's own minstret. No libc. */
#ifndef BENCH_H
#define BENCH_H

#include "runtime.h"

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
