/* Single-precision matrix multiply, C = A * B (N = 80, i-k-j order, fmadd.s), then a double-precision pass that
   normalises each row (fdiv.d, fcvt between formats) and feeds it back into A. The checksum mixes the bits of every
   row sum, so any rounding difference shows. */
#include "common/bench.h"

#define N 80
static float A[N][N], B[N][N], C[N][N];

static u64 bits(double d) {
  union {
    double d;
    u64 u;
  } v = {d};
  return v.u;
}

u64 workload(void) {
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      A[i][j] = (float)(i64)(rng_next() >> 44) / (1 << 20) - 0.5f;
      B[i][j] = (float)(i64)(rng_next() >> 44) / (1 << 20) - 0.5f;
    }
  u64 h = 0;
  u64 reps = SCALED(60);
  for (u64 r = 0; r < reps; r++) {
    for (int i = 0; i < N; i++) {
      for (int j = 0; j < N; j++) C[i][j] = 0;
      for (int k = 0; k < N; k++) {
        float a = A[i][k];
        for (int j = 0; j < N; j++) C[i][j] = __builtin_fmaf(a, B[k][j], C[i][j]);
      }
    }
    for (int i = 0; i < N; i++) {
      double s = 0, s2 = 0;
      for (int j = 0; j < N; j++) {
        s += C[i][j];
        s2 += (double)C[i][j] * C[i][j];
      }
      double scale = 1.0 / (__builtin_sqrt(s2 / N) + 1e-30);
      for (int j = 0; j < N; j++) A[i][j] = (float)(C[i][j] * scale * 0.5);
      h = mix(h, bits(s));
    }
  }
  return h;
}
