/* Quicksort (median-of-three, insertion sort below 16 elements) of 100 000 pseudo-random 64-bit keys, then a bottom-up
   merge sort of a fresh array; both results are checked to be sorted. Checksum mixes sampled keys of each result. */
#include "common/bench.h"

#define COUNT 100000
static u64 a[COUNT], tmp[COUNT];

static void insertion_sort(u64 *v, i64 lo, i64 hi) {
  for (i64 i = lo + 1; i <= hi; i++) {
    u64 x = v[i];
    i64 j = i - 1;
    while (j >= lo && v[j] > x) {
      v[j + 1] = v[j];
      j--;
    }
    v[j + 1] = x;
  }
}

static void quicksort(u64 *v, i64 lo, i64 hi) {
  while (hi - lo >= 16) {
    i64 mid = lo + (hi - lo) / 2;
    u64 x = v[lo], y = v[mid], z = v[hi];
    u64 pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    i64 i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        u64 t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
      }
    }
    /* Recurse into the smaller half, loop on the larger: stack depth stays O(log n). */
    if (j - lo < hi - i) {
      quicksort(v, lo, j);
      lo = i;
    } else {
      quicksort(v, i, hi);
      hi = j;
    }
  }
  insertion_sort(v, lo, hi);
}

static void merge_sort(u64 *v, u64 *t, i64 n) {
  u64 *src = v, *dst = t;
  for (i64 width = 1; width < n; width *= 2) {
    for (i64 lo = 0; lo < n; lo += 2 * width) {
      i64 mid = lo + width < n ? lo + width : n;
      i64 hi = lo + 2 * width < n ? lo + 2 * width : n;
      i64 i = lo, j = mid, k = lo;
      while (i < mid && j < hi) dst[k++] = src[i] <= src[j] ? src[i++] : src[j++];
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    u64 *s = src;
    src = dst;
    dst = s;
  }
  if (src != v)
    for (i64 i = 0; i < n; i++) v[i] = src[i];
}

static u64 check_and_sample(const u64 *v) {
  u64 h = 0;
  for (i64 i = 1; i < COUNT; i++)
    if (v[i - 1] > v[i]) bench_fail("array not sorted");
  for (i64 i = 0; i < COUNT; i += 997) h = mix(h, v[i]);
  return h;
}

u64 workload(void) {
  u64 h = 0;
  u64 reps = SCALED(10);
  for (u64 r = 0; r < reps; r++) {
    for (i64 i = 0; i < COUNT; i++) a[i] = rng_next();
    quicksort(a, 0, COUNT - 1);
    h = mix(h, check_and_sample(a));
    for (i64 i = 0; i < COUNT; i++) a[i] = rng_next();
    merge_sort(a, tmp, COUNT);
    h = mix(h, check_and_sample(a));
  }
  return h;
}
