/* SHA-256 (FIPS 180-4) over a 16 KiB pseudo-random buffer, chained: each digest is written back into the buffer
   before the next pass. 32-bit rotates, adds and big-endian loads. Checked first against the "abc" test vector. */
#include "common/bench.h"

#define BUF_SIZE (16 * 1024)
static u8 buf[BUF_SIZE];

static const u32 K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
    0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
    0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
    0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static inline u32 ror(u32 x, int n) { return (x >> n) | (x << (32 - n)); }

static void compress(u32 *s, const u8 *p) {
  u32 w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (u32)p[4 * i] << 24 | (u32)p[4 * i + 1] << 16 | (u32)p[4 * i + 2] << 8 | (u32)p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    u32 s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
    u32 s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  u32 a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
  for (int i = 0; i < 64; i++) {
    u32 t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    u32 t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  s[0] += a;
  s[1] += b;
  s[2] += c;
  s[3] += d;
  s[4] += e;
  s[5] += f;
  s[6] += g;
  s[7] += h;
}

/* Hash n bytes (any length) into out[8]. */
static void sha256(const u8 *p, u64 n, u32 *out) {
  static const u32 init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                              0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  for (int i = 0; i < 8; i++) out[i] = init[i];
  u64 done = 0;
  for (; done + 64 <= n; done += 64) compress(out, p + done);
  u8 last[128];
  u64 rest = n - done;
  for (u64 i = 0; i < 128; i++) last[i] = i < rest ? p[done + i] : 0;
  last[rest] = 0x80;
  u64 total = rest + 9 <= 64 ? 64 : 128;
  u64 bits = n * 8;
  for (int i = 0; i < 8; i++) last[total - 1 - i] = (u8)(bits >> (8 * i));
  compress(out, last);
  if (total == 128) compress(out, last + 64);
}

u64 workload(void) {
  u32 d[8];
  static const u8 abc[] = "abc";
  sha256(abc, 3, d);
  if (d[0] != 0xba7816bf || d[7] != 0xf20015ad) bench_fail("sha256(\"abc\") test vector");
  for (u32 i = 0; i < BUF_SIZE; i += 8) {
    u64 v = rng_next();
    for (int k = 0; k < 8; k++) buf[i + k] = (u8)(v >> (8 * k));
  }
  u64 h = 0;
  u64 reps = SCALED(280);
  for (u64 r = 0; r < reps; r++) {
    sha256(buf, BUF_SIZE - (r & 63), d);
    for (int i = 0; i < 8; i++) {
      buf[(r * 32 + i * 4) % (BUF_SIZE - 4)] ^= (u8)d[i];
      h = mix(h, d[i]);
    }
  }
  return h;
}
