/* Sieve of Eratosthenes over a byte array: byte stores with strided loops, then a counting pass. Checksum mixes the
   prime count and the sum of primes of every repetition; the count is checked against pi(2^20) = 82025. */
#include "common/bench.h"

#define LIMIT (1u << 20)
static u8 composite[LIMIT];

u64 workload(void) {
  u64 h = 0;
  u64 reps = SCALED(15);
  for (u64 r = 0; r < reps; r++) {
    /* Vary the upper bound a little per repetition so no pass is identical. */
    u32 n = LIMIT - (u32)(r & 7) * 64;
    for (u32 i = 0; i < n; i++) composite[i] = 0;
    for (u32 i = 2; i * i < n; i++) {
      if (composite[i]) continue;
      for (u32 j = i * i; j < n; j += i) composite[j] = 1;
    }
    u64 count = 0, sum = 0;
    for (u32 i = 2; i < n; i++) {
      if (!composite[i]) {
        count++;
        sum += i;
      }
    }
    if (n == LIMIT && count != 82025) bench_fail("pi(2^20) != 82025");
    h = mix(mix(h, count), sum);
  }
  return h;
}
