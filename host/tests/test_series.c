/*
** test_series.c -- unit tests of a level's bounded time series (stats.h,
** core/series.c): buckets by hand through a pairwise merge, then 10^6
** random changes (zero-length spikes included) checked bucket by bucket
** against a brute-force recomputation from the full history: exact min
** and max, time-weighted mean, last value; the memory bound; the overall
** mean equal to the level's; reset; times near the end of the clock;
** allocation failure with the allocator's balance; the bucket array grown
** only as the clock passes it, and a growth refused (merged instead, just
** as exact).
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rng.h"
#include "stats.h"

#include "check.h"

static long live_bytes, calls, fail_from = -1;

/* A counting allocator that can be told to fail from the n-th call on. */
static void *test_alloc(void *ud, void *p, size_t osize, size_t nsize) {
  void *q;
  (void)ud;
  if (nsize == 0) {
    if (p != NULL)
      live_bytes -= (long)osize;
    free(p);
    return NULL;
  }
  if (fail_from >= 0 && calls++ >= fail_from)
    return NULL;
  q = realloc(p, nsize);
  if (q != NULL)
    live_bytes += (long)nsize - (p != NULL ? (long)osize : 0);
  return q;
}

static stats_alloc A = {test_alloc, NULL};

static int close_rel(double a, double b, double tol) {
  return fabs(a - b) <= tol * (fabs(b) > 1 ? fabs(b) : 1);
}

/* The buckets by hand, with a merge. */
static void test_hand(void) {
  stats_level l;
  stats_point p;
  CHECK(stats_level_init(&l, A, 0, 0, 0) == STATS_OK);
  CHECK(stats_level_keep_series(&l, 4) == STATS_OK);
  stats_level_set(&l, 1, 3);
  stats_level_set(&l, 2, 1);
  stats_level_set(&l, 3, 7); /* a spike of no duration */
  stats_level_set(&l, 3, 0);
  stats_level_advance(&l, 4);
  CHECK(stats_level_series_len(&l) == 4);
  p = stats_level_series_at(&l, 1);
  CHECK(p.t0 == 1 && p.t1 == 2 && p.min == 3 && p.max == 3 && p.mean == 3);
  p = stats_level_series_at(&l, 3);
  CHECK(p.t0 == 3 && p.t1 == 4 && p.min == 0 && p.max == 7 && p.mean == 0);
  CHECK(p.last == 0);
  stats_level_set(&l, 5, 2); /* tick 5 is past 4 buckets of 1: merge */
  CHECK(stats_level_series_len(&l) == 3);
  p = stats_level_series_at(&l, 0);
  CHECK(p.t0 == 0 && p.t1 == 2 && p.min == 0 && p.max == 3 && p.mean == 1.5);
  p = stats_level_series_at(&l, 1);
  CHECK(p.t0 == 2 && p.t1 == 4 && p.min == 0 && p.max == 7 && p.mean == 0.5);
  p = stats_level_series_at(&l, 2); /* [4, 5): 0, then 2 from 5 */
  CHECK(p.t0 == 4 && p.t1 == 5 && p.min == 0 && p.max == 2 && p.last == 2);
  CHECK(p.mean == 0);
  stats_level_free(&l);
  CHECK(live_bytes == 0);
}

/* A bucket's min and max follow fmin and fmax: a NaN loses to any
** number, even when the bucket opened with it. */
static void test_nan(void) {
  stats_level l;
  stats_point p;
  CHECK(stats_level_init(&l, A, 0, 0, 0) == STATS_OK);
  CHECK(stats_level_keep_series(&l, 4) == STATS_OK);
  stats_level_set(&l, 1, NAN); /* opens bucket 1 */
  stats_level_set(&l, 1, 4);
  stats_level_set(&l, 1, 2);
  stats_level_set(&l, 2, NAN); /* opens bucket 2 */
  stats_level_set(&l, 2, -1);
  stats_level_set(&l, 2, NAN);
  stats_level_set(&l, 3, 5);
  stats_level_advance(&l, 4);
  p = stats_level_series_at(&l, 1);
  CHECK(p.min == 2 && p.max == 4 && p.last == 2 && p.mean == 2);
  p = stats_level_series_at(&l, 2);
  CHECK(p.min == -1 && p.max == -1 && isnan(p.last));
  p = stats_level_series_at(&l, 3);
  CHECK(p.min == 5 && p.max == 5);
  stats_level_set(&l, 5, 0); /* a merge: pairs keep the rule */
  p = stats_level_series_at(&l, 0);
  CHECK(p.min == 0 && p.max == 4);
  p = stats_level_series_at(&l, 1);
  CHECK(p.min == -1 && p.max == 5);
  stats_level_free(&l);
  CHECK(live_bytes == 0);
}

/* 10^6 random changes against the full history; with refuse_growth, the
** allocator refuses every growth of the bucket array (the series stays at
** its first STATS_SERIES_FIRST buckets, merging, and as exact). */
#define NCHANGES 1000000
static void test_random(int spikes, double scale, int refuse_growth) {
  static int64_t ts[NCHANGES + 1];
  static double vs[NCHANGES + 1];
  stats_level l;
  des_rng r;
  int64_t t = 1000;
  uint32_t i, n, j = 0;
  double lo = INFINITY, hi = -INFINITY, area = 0;
  des_rng_seed(&r, 42 + (uint64_t)spikes);
  CHECK(stats_level_init(&l, A, t, 0, 1) == STATS_OK);
  CHECK(stats_level_keep_series(&l, 512) == STATS_OK);
  CHECK(l.series->cap == STATS_SERIES_FIRST); /* grown as time passes */
  if (refuse_growth) {
    calls = 0;
    fail_from = 0;
  }
  ts[0] = t;
  vs[0] = 0;
  for (i = 1; i <= NCHANGES; i++) {
    double v = floor(des_rng_double(&r) * 100) * scale;
    if (des_rng_next(&r) % 100000 == 0)
      v = 1e6 * scale; /* rare peaks */
    if (!spikes || des_rng_next(&r) % 4 != 0)
      t += (int64_t)(des_rng_next(&r) % 1000);
    ts[i] = t;
    vs[i] = v;
    stats_level_set(&l, t, v);
  }
  t += 10;
  stats_level_advance(&l, t);
  fail_from = -1;
  n = stats_level_series_len(&l);
  if (refuse_growth) /* merged in place of every growth */
    CHECK(n >= STATS_SERIES_FIRST / 2 && n <= STATS_SERIES_FIRST && calls > 0 &&
          l.series->cap == STATS_SERIES_FIRST);
  else /* bounded: never more than the cap */
    CHECK(n >= 256 && n <= 512 && l.series->cap == 512);
  for (i = 0; i < n; i++) {
    stats_point p = stats_level_series_at(&l, i);
    double bmin = INFINITY, bmax = -INFINITY, barea = 0, last = NAN;
    /* the changes that matter to [t0, t1): the one held at t0, those in */
    while (j + 1 <= NCHANGES && ts[j + 1] <= p.t0)
      j++;
    for (uint32_t k = j; k <= NCHANGES && (ts[k] < p.t1 || k == j); k++) {
      int64_t a = ts[k] > p.t0 ? ts[k] : p.t0;
      int64_t b = k < NCHANGES && ts[k + 1] < p.t1 ? ts[k + 1] : p.t1;
      if (b > a || ts[k] >= p.t0) { /* held some time, or set inside */
        bmin = fmin(bmin, vs[k]);
        bmax = fmax(bmax, vs[k]);
      }
      if (b > a)
        barea += vs[k] * (double)(b - a);
      last = vs[k];
    }
    CHECK(p.min == bmin && p.max == bmax && p.last == last);
    CHECK(close_rel(p.mean, barea / (double)(p.t1 - p.t0), 1e-12));
    CHECK(i == 0 || p.t0 == stats_level_series_at(&l, i - 1).t1);
    lo = fmin(lo, p.min);
    hi = fmax(hi, p.max);
    area += p.mean * (double)(p.t1 - p.t0);
  }
  CHECK(lo == l.min && hi == l.max && hi == 1e6 * scale);
  CHECK(close_rel(area / (double)stats_level_duration(&l), stats_level_mean(&l),
                  1e-12));
  stats_level_free(&l);
  CHECK(live_bytes == 0);
}

/* Reset restarts the series with the level's statistics. */
static void test_reset(void) {
  stats_level l;
  stats_point p;
  CHECK(stats_level_init(&l, A, 0, 5, 0) == STATS_OK);
  CHECK(stats_level_keep_series(&l, 8) == STATS_OK);
  stats_level_set(&l, 100, 9);
  stats_level_reset(&l, 200);
  stats_level_set(&l, 300, 1);
  stats_level_advance(&l, 400);
  p = stats_level_series_at(&l, 0);
  CHECK(p.t0 == 200 && p.max == 9 && p.min == 9); /* 5 is forgotten */
  CHECK(stats_level_series_len(&l) <= 8);
  p = stats_level_series_at(&l, stats_level_series_len(&l) - 1);
  CHECK(p.t1 == 400 && p.min == 1 && p.max == 1);
  CHECK(close_rel(stats_level_mean(&l), 5, 1e-15));
  stats_level_free(&l);
}

/* Times near the end of the clock: no overflow in bucket bounds. */
static void test_far(void) {
  stats_level l;
  stats_point p;
  int64_t end = INT64_MAX - 1;
  CHECK(stats_level_init(&l, A, 0, 0, 0) == STATS_OK);
  CHECK(stats_level_keep_series(&l, 2) == STATS_OK);
  stats_level_set(&l, end / 2, 4);
  stats_level_set(&l, end, 1);
  stats_level_advance(&l, INT64_MAX);
  CHECK(stats_level_series_len(&l) == 2);
  p = stats_level_series_at(&l, 1);
  CHECK(p.t1 == INT64_MAX && p.max == 4 && p.min == 1 && p.last == 1);
  p = stats_level_series_at(&l, 0);
  CHECK(p.t0 == 0 && p.max == 4 && p.min == 0);
  stats_level_free(&l);
}

/* Out of memory: no series, the level unchanged, nothing leaked. */
static void test_alloc_failure(void) {
  stats_level l;
  int k;
  for (k = 0; k < 2; k++) {
    CHECK(stats_level_init(&l, A, 0, 3, 0) == STATS_OK);
    calls = 0;
    fail_from = k;
    CHECK(stats_level_keep_series(&l, 64) == STATS_ENOMEM);
    fail_from = -1;
    CHECK(l.series == NULL && stats_level_series_len(&l) == 0);
    CHECK(stats_level_set(&l, 10, 4) == STATS_OK);
    stats_level_free(&l);
    CHECK(live_bytes == 0);
  }
}

/* A level that changes only early, or never, keeps its first few buckets:
** no memory for a history it does not have; the array grows by doubling
** as the clock passes it. */
static void test_lazy(void) {
  stats_level l;
  long before = live_bytes;
  uint32_t cap;
  CHECK(stats_level_init(&l, A, 0, 0, 0) == STATS_OK);
  CHECK(stats_level_keep_series(&l, 512) == STATS_OK);
  CHECK(
      live_bytes - before <
      (long)(sizeof(stats_series) + STATS_SERIES_FIRST * sizeof(stats_bucket)) +
          1);
  stats_level_set(&l, 3, 1);
  stats_level_advance(&l, STATS_SERIES_FIRST - 1);
  CHECK(l.series->cap == STATS_SERIES_FIRST);
  for (cap = STATS_SERIES_FIRST; cap < 512; cap *= 2) {
    stats_level_advance(&l, cap + 1); /* held through tick cap: bucket cap */
    CHECK(l.series->cap == 2 * cap && l.series->shift == 0);
    CHECK(stats_level_series_len(&l) == cap + 1);
  }
  stats_level_advance(&l, 513); /* past the cap: merged, not grown */
  CHECK(l.series->cap == 512 && l.series->shift == 1);
  CHECK(stats_level_series_len(&l) == 257);
  CHECK(live_bytes - before ==
        (long)(sizeof(stats_series) + 512 * sizeof(stats_bucket)));
  stats_level_free(&l);
  CHECK(live_bytes == before);
}

int main(void) {
  test_nan();
  test_hand();
  test_lazy();
  test_random(0, 1, 0);
  test_random(1, 1, 0);
  test_random(1, 0.37, 0);
  test_random(1, 1, 1);
  test_reset();
  test_far();
  test_alloc_failure();
  CHECK(live_bytes == 0);
  if (failures)
    fprintf(stderr, "test_series: %d check(s) failed\n", failures);
  return failures != 0;
}
