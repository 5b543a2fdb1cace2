/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) over a pseudo-random buffer, computed bit by bit (shifts and
   branches) and with a 256-entry table (loads); the two must agree, and "123456789" must give 0xCBF43926. */
#include "common/bench.h"

#define BUF_SIZE (64 * 1024)
static u8 buf[BUF_SIZE];
static u32 table[256];

/* Both take the CRC so far (0 to start), so passes can be chained. */
static u32 crc32_bitwise(u32 crc, const u8 *p, u32 n) {
  u32 c = ~crc;
  for (u32 i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
  }
  return ~c;
}

static u32 crc32_table(u32 crc, const u8 *p, u32 n) {
  u32 c = ~crc;
  for (u32 i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}

u64 workload(void) {
  for (u32 i = 0; i < 256; i++) {
    u32 c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
    table[i] = c;
  }
  static const u8 check[] = "123456789";
  if (crc32_bitwise(0, check, 9) != 0xcbf43926u || crc32_table(0, check, 9) != 0xcbf43926u)
    bench_fail("crc32 check value");
  for (u32 i = 0; i < BUF_SIZE; i += 8) {
    u64 v = rng_next();
    for (int k = 0; k < 8; k++) buf[i + k] = (u8)(v >> (8 * k));
  }
  u64 h = 0;
  u64 reps = SCALED(42);
  for (u64 r = 0; r < reps; r++) {
    u32 a = crc32_bitwise(0, buf, BUF_SIZE);
    u32 b = crc32_table(0, buf, BUF_SIZE);
    if (a != b) bench_fail("bitwise and table CRC differ");
    /* The table version is ~6x cheaper per byte: chain more passes so both halves weigh about the same. */
    for (int k = 0; k < 6; k++) b = crc32_table(b, buf, BUF_SIZE);
    h = mix(mix(h, a), b);
    buf[r % BUF_SIZE] ^= (u8)a; /* change the input for the next repetition */
  }
  return h;
}
