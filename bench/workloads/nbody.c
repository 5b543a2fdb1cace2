/* N-body simulation in double precision (the Computer Language Benchmarks Game's five planets, plus 27 light
   bodies on circular orbits): pairwise distances with fsqrt and fdiv, fused multiply-adds where gcc forms them, velocity and position
   updates. The checksum mixes the bits of the total energy after each block of steps, so any rounding difference
   shows; the energy drift is checked to stay small. */
#include "common/bench.h"

#define NB 32
#define PI 3.141592653589793
#define SOLAR_MASS (4 * PI * PI)
#define DAYS_PER_YEAR 365.24

static double x[NB], y[NB], z[NB], vx[NB], vy[NB], vz[NB], m[NB];

static u64 bits(double d) {
  union {
    double d;
    u64 u;
  } v = {d};
  return v.u;
}

static double energy(void) {
  double e = 0;
  for (int i = 0; i < NB; i++) {
    e += 0.5 * m[i] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i]);
    for (int j = i + 1; j < NB; j++) {
      double dx = x[i] - x[j], dy = y[i] - y[j], dz = z[i] - z[j];
      e -= m[i] * m[j] / __builtin_sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return e;
}

static void advance(double dt) {
  for (int i = 0; i < NB; i++) {
    for (int j = i + 1; j < NB; j++) {
      double dx = x[i] - x[j], dy = y[i] - y[j], dz = z[i] - z[j];
      double d2 = dx * dx + dy * dy + dz * dz;
      double mag = dt / (d2 * __builtin_sqrt(d2));
      vx[i] -= dx * m[j] * mag;
      vy[i] -= dy * m[j] * mag;
      vz[i] -= dz * m[j] * mag;
      vx[j] += dx * m[i] * mag;
      vy[j] += dy * m[i] * mag;
      vz[j] += dz * m[i] * mag;
    }
  }
  for (int i = 0; i < NB; i++) {
    x[i] += dt * vx[i];
    y[i] += dt * vy[i];
    z[i] += dt * vz[i];
  }
}

u64 workload(void) {
  static const double init[5][7] = {
      {0, 0, 0, 0, 0, 0, 1},
      {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01, 1.66007664274403694e-03,
       7.69901118419740425e-03, -6.90460016972063023e-05, 9.54791938424326609e-04},
      {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01, -2.76742510726862411e-03,
       4.99852801234917238e-03, 2.30417297573763929e-05, 2.85885980666130812e-04},
      {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01, 2.96460137564761618e-03,
       2.37847173959480950e-03, -2.96589568540237556e-05, 4.36624404335156298e-05},
      {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01, 2.68067772490389322e-03,
       1.62824170038242295e-03, -9.51592254519715870e-05, 5.15138902046611451e-05},
  };
  for (int i = 0; i < NB; i++) {
    if (i < 5) {
      x[i] = init[i][0], y[i] = init[i][1], z[i] = init[i][2];
      vx[i] = init[i][3] * DAYS_PER_YEAR, vy[i] = init[i][4] * DAYS_PER_YEAR, vz[i] = init[i][5] * DAYS_PER_YEAR;
      m[i] = init[i][6] * SOLAR_MASS;
    } else {
      /* light bodies on circular orbits 0.8 AU apart, from 19 AU out, in random directions (no close encounters) */
      double r = 15 + 0.8 * i;
      /* a random direction in the plane: (u, w) normalised */
      double u = (double)((i64)(rng_next() >> 40) - (1 << 23)) + 0.5, w = (double)((i64)(rng_next() >> 40) - (1 << 23));
      double norm = __builtin_sqrt(u * u + w * w);
      double c = u / norm, s = w / norm;
      x[i] = r * c, y[i] = r * s, z[i] = (double)((i64)(rng_next() >> 40) - (1 << 23)) / (1 << 26);
      double v = __builtin_sqrt(SOLAR_MASS / r) / DAYS_PER_YEAR;
      vx[i] = -v * s * DAYS_PER_YEAR, vy[i] = v * c * DAYS_PER_YEAR, vz[i] = 0;
      m[i] = 1e-7 * SOLAR_MASS;
    }
  }
  /* move to the centre-of-momentum frame */
  double px = 0, py = 0, pz = 0;
  for (int i = 0; i < NB; i++) px += vx[i] * m[i], py += vy[i] * m[i], pz += vz[i] * m[i];
  vx[0] = -px / SOLAR_MASS, vy[0] = -py / SOLAR_MASS, vz[0] = -pz / SOLAR_MASS;

  double e0 = energy();
  u64 h = bits(e0);
  u64 blocks = SCALED(160);
  for (u64 b = 0; b < blocks; b++) {
    for (int s = 0; s < 50; s++) advance(0.01);
    h = mix(h, bits(energy()));
  }
  double drift = (energy() - e0) / e0;
  if (drift > 1e-3 || drift < -1e-3) bench_fail("energy drift above 1e-3");
  return h;
}
