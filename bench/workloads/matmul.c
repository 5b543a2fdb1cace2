/* Dense 64-bit integer matrix multiply, C = A * B (N = 96, i-k-j order), fed back into A each repetition so every
   product differs. Loads, 64-bit multiplies and adds; each matrix is 72 KiB. Checksum mixes a sum of each C. */
#include "common/bench.h"

#define N 96
static u64 A[N][N], B[N][N], C[N][N];

u64 workload(void) {
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      A[i][j] = rng_next() >> 40;
      B[i][j] = rng_next() >> 40;
    }
  u64 h = 0;
  u64 reps = SCALED(53);
  for (u64 r = 0; r < reps; r++) {
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < N; j++) C[i][j] = 0;
      for (int k = 0; k < N; k++) {
        u64 a = A[i][k];
        for (int j = 0; j < N; j++) C[i][j] += a * B[k][j];
      }
    }
    u64 s = 0;
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) {
        s += C[i][j] ^ (u64)(i * N + j);
        A[i][j] = C[i][j] >> 20; /* keep values bounded but data-dependent */
      }
    h = mix(h, s);
  }
  return h;
}
