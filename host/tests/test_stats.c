/*
** test_stats.c -- unit tests of the statistics core (stats.h): tallies
** against a naive two-pass reference on random data (and on data with a
** large offset, where a one-pass sum of squares would fail), merge,
** histograms (quantiles: test_quantiles.c),
** levels against hand-computed and reference integrals, the time at each
** value (dense and table), reset, the edges (no sample, one sample, no
** time), and allocation failure with the allocator's balance.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "stats.h"

#include "check.h"

/* A counting allocator that can be told to fail from the n-th call on. */
static long live_bytes, calls, fail_from = -1;

static void *test_alloc(void *ud, void *p, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    if (p != NULL)
      live_bytes -= (long)osize;
    free(p);
    return NULL;
  }
  void *q;
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

/* {====================================================================
** Tallies
** ===================================================================== */

/* The naive two-pass mean and variance of xs[0..n). */
static void two_pass(const double *xs, int n, double *mean, double *var) {
  long double s = 0, ss = 0;
  int i;
  for (i = 0; i < n; i++)
    s += xs[i];
  *mean = (double)(s / n);
  for (i = 0; i < n; i++)
    ss += ((long double)xs[i] - *mean) * ((long double)xs[i] - *mean);
  *var = n > 1 ? (double)(ss / (n - 1)) : NAN;
}

static void test_tally_reference(void) {
  static double xs[20000];
  des_rng r;
  int round;
  des_rng_seed(&r, 42);
  for (round = 0; round < 4; round++) {
    /* uniform, exponential, a large offset, tiny values */
    double offset = round == 2 ? 1e9 : 0, scale = round == 3 ? 1e-12 : 1;
    double mean, var, mn = HUGE_VAL, mx = -HUGE_VAL;
    stats_tally t;
    int i, n = 20000;
    stats_tally_init(&t, A);
    for (i = 0; i < n; i++) {
      double u = des_rng_open01(&r);
      xs[i] = offset + scale * (round == 1 ? -log(u) : u);
      if (xs[i] < mn)
        mn = xs[i];
      if (xs[i] > mx)
        mx = xs[i];
      stats_tally_add(&t, xs[i]);
    }
    two_pass(xs, n, &mean, &var);
    CHECK(t.count == (uint64_t)n);
    CHECK(close_rel(t.mean, mean, 1e-12));
    CHECK(close_rel(stats_tally_variance(&t), var, 1e-9));
    if (!close_rel(stats_tally_variance(&t), var, 1e-9))
      fprintf(stderr, "  round %d: %.17g vs %.17g\n", round,
              stats_tally_variance(&t), var);
    CHECK(t.min == mn && t.max == mx);
    stats_tally_free(&t);
  }
}

static void test_tally_hand(void) {
  static const double xs[] = {2, 4, 4, 4, 5, 5, 7, 9};
  stats_tally t;
  unsigned i;
  stats_tally_init(&t, A);
  for (i = 0; i < 8; i++)
    stats_tally_add(&t, xs[i]);
  CHECK(t.count == 8 && t.mean == 5);
  CHECK(fabs(stats_tally_variance(&t) - 32.0 / 7) < 1e-12);
  CHECK(t.min == 2 && t.max == 9);
  stats_tally_reset(&t);
  CHECK(t.count == 0 && t.mean == 0 && t.m2 == 0);
  CHECK(t.min == HUGE_VAL && t.max == -HUGE_VAL);
}

/* No sample: count 0, variance and quantiles NaN; one: variance NaN. */
static void test_tally_edges(void) {
  stats_tally t;
  double p = 0.5;
  stats_tally_init(&t, A);
  CHECK(stats_tally_setup(&t, &p, 1, NULL, 0) == STATS_OK);
  CHECK(t.count == 0 && isnan(stats_tally_variance(&t)));
  CHECK(isnan(stats_tally_quantile(&t, 0)));
  CHECK(isnan(stats_tally_quantile(&t, 7))); /* no such estimator */
  stats_tally_add(&t, -3.5);
  CHECK(t.count == 1 && t.mean == -3.5 && t.min == -3.5 && t.max == -3.5);
  CHECK(isnan(stats_tally_variance(&t)));
  CHECK(stats_tally_quantile(&t, 0) == -3.5);
  stats_tally_add(&t, HUGE_VAL); /* infinities are numbers too */
  CHECK(t.max == HUGE_VAL && t.mean == HUGE_VAL);
  stats_tally_free(&t);
  CHECK(t.nquant == 0 && t.ps == NULL && t.obs == NULL && !t.keep);
}

/* Merging halves gives the whole (Chan), in both orders and with empties. */
static void test_tally_merge(void) {
  stats_tally whole, a, b, empty;
  double edges[] = {0.25, 0.5, 0.75};
  des_rng r;
  int i;
  des_rng_seed(&r, 7);
  stats_tally_init(&whole, A);
  stats_tally_init(&a, A);
  stats_tally_init(&b, A);
  stats_tally_init(&empty, A);
  CHECK(stats_tally_setup(&whole, NULL, 0, edges, 3) == STATS_OK);
  CHECK(stats_tally_setup(&a, NULL, 0, edges, 3) == STATS_OK);
  CHECK(stats_tally_setup(&b, NULL, 0, edges, 3) == STATS_OK);
  for (i = 0; i < 1000; i++) {
    double x = 100 + des_rng_double(&r) * (i < 300 ? 1 : 5);
    stats_tally_add(&whole, x);
    stats_tally_add(i < 300 ? &a : &b, x);
  }
  stats_tally_merge(&a, &empty);
  CHECK(a.count == 300);
  stats_tally_merge(&empty, &b); /* into an empty tally: a copy */
  CHECK(empty.count == b.count && empty.mean == b.mean && empty.m2 == b.m2);
  stats_tally_merge(&a, &b);
  CHECK(a.count == whole.count);
  CHECK(close_rel(a.mean, whole.mean, 1e-13));
  CHECK(
      close_rel(stats_tally_variance(&a), stats_tally_variance(&whole), 1e-10));
  CHECK(a.min == whole.min && a.max == whole.max);
  for (i = 0; i <= 3; i++)
    CHECK(a.bins[i] == whole.bins[i]);
  stats_tally_free(&whole);
  stats_tally_free(&a);
  stats_tally_free(&b);
}

static void test_histogram(void) {
  static const double edges[] = {0, 1, 10};
  static const double xs[] = {-5, 0, 0.5, 1, 9.99, 10, 100, -HUGE_VAL};
  static const uint64_t want[] = {2, 2, 2, 2};
  stats_tally t;
  unsigned i;
  stats_tally_init(&t, A);
  CHECK(stats_tally_setup(&t, NULL, 0, edges, 3) == STATS_OK);
  for (i = 0; i < 8; i++)
    stats_tally_add(&t, xs[i]);
  for (i = 0; i < 4; i++)
    CHECK(t.bins[i] == want[i]);
  stats_tally_reset(&t);
  for (i = 0; i < 4; i++)
    CHECK(t.bins[i] == 0);
  stats_tally_free(&t);
}

/* }==================================================================== */

/* {====================================================================
** Levels
** ===================================================================== */

static double at_of(const stats_level *l, double v);

/* Sum the visited times; remember the time at one value. */
typedef struct at_sum {
  int64_t total;
  double v;
  int64_t at_v;
  int n;
} at_sum;

static void sum_at(void *ctx, double v, int64_t ticks) {
  at_sum *s = ctx;
  s->total += ticks;
  s->n++;
  if (v == s->v)
    s->at_v += ticks;
}

static double at_of(const stats_level *l, double v) {
  at_sum s = {0, v, 0, 0};
  stats_level_each_at(l, sum_at, &s);
  return (double)s.at_v;
}

/* monitor_spec's case: 0 on [0,1), 2 on [1,4), 1 on [4,4.5), 0 to 6. */
static void test_level_hand(void) {
  stats_level l;
  const int64_t R = 1000000000; /* ticks per unit */
  CHECK(stats_level_init(&l, A, 0, 0, 1) == STATS_OK);
  CHECK(stats_level_set(&l, 1 * R, 2) == STATS_OK);
  CHECK(stats_level_set(&l, 4 * R, 1) == STATS_OK);
  CHECK(stats_level_set(&l, 4 * R + R / 2, 0) == STATS_OK);
  stats_level_advance(&l, 6 * R);
  CHECK(stats_level_duration(&l) == 6 * R);
  CHECK(stats_level_mean(&l) == (2 * 3 + 1 * 0.5) / 6);
  CHECK(at_of(&l, 0) == 2.5 * R && at_of(&l, 1) == 0.5 * R &&
        at_of(&l, 2) == 3.0 * R);
  CHECK(l.max == 2 && l.min == 0 && l.value == 0);
  /* reading again at the same or an earlier time changes nothing */
  stats_level_advance(&l, 6 * R);
  stats_level_advance(&l, 5 * R);
  CHECK(stats_level_duration(&l) == 6 * R && l.since == 6 * R);
  /* reset: the value held stays the min and max; time starts afresh */
  CHECK(stats_level_set(&l, 6 * R, 5) == STATS_OK);
  stats_level_reset(&l, 10 * R);
  CHECK(l.min == 5 && l.max == 5 && stats_level_duration(&l) == 0);
  CHECK(stats_level_mean(&l) == 5); /* no time yet: the value */
  CHECK(at_of(&l, 5) == 0 && at_of(&l, 2) == 0);
  CHECK(stats_level_set(&l, 10 * R, 1) == STATS_OK);
  stats_level_advance(&l, 14 * R);
  CHECK(stats_level_duration(&l) == 4 * R && stats_level_mean(&l) == 1);
  CHECK(at_of(&l, 1) == 4.0 * R && l.max == 5 && l.min == 1);
  stats_level_free(&l);
}

/* Random integer and fractional levels against exact references: the
** integral of integer levels is exact; the time at each value sums to the
** duration; values off the dense range (negative, fractional, huge) use
** the table, -0 and 0 are one value. */
static void test_level_random(void) {
  static const double odd[] = {-1, 0.5, 1e6, -0.0, 2.25, -7.75};
  stats_level l, f;
  des_rng r;
  int64_t now = 0, exact = 0;
  long double fref = 0;
  double fv = 0;
  int64_t v = 0;
  int i;
  des_rng_seed(&r, 99);
  CHECK(stats_level_init(&l, A, 0, 0, 1) == STATS_OK);
  CHECK(stats_level_init(&f, A, 0, 0, 1) == STATS_OK);
  for (i = 0; i < 200000; i++) {
    int64_t dt = (int64_t)des_rng_integer(&r, 0, 1000000);
    now += dt;
    exact += v * dt;
    fref += (long double)fv * dt;
    v = (int64_t)des_rng_integer(&r, 0, 300);
    fv = i % 7 == 0 ? odd[i % 6] : (double)des_rng_integer(&r, 0, 40) / 8;
    CHECK(stats_level_set(&l, now, (double)v) == STATS_OK);
    CHECK(stats_level_set(&f, now, fv) == STATS_OK);
  }
  stats_level_advance(&l, now + 5);
  stats_level_advance(&f, now + 5);
  exact += v * 5;
  fref += (long double)fv * 5;
  CHECK(l.iarea == exact && l.area == 0 && l.comp == 0);
  CHECK(stats_level_mean(&l) == (double)exact / (double)(now + 5));
  CHECK(close_rel((double)f.iarea + f.area + f.comp, (double)fref, 1e-15));
  {
    at_sum s = {0, 0, 0, 0}, t = {0, -0.0, 0, 0};
    stats_level_each_at(&l, sum_at, &s);
    CHECK(s.total == now + 5);
    stats_level_each_at(&f, sum_at, &t);
    CHECK(t.total == now + 5);
    CHECK(t.n == 41 + 3); /* 0..5 by 1/8 (with 0.5, 2.25, -0), -1, 1e6, -7.75 */
  }
  stats_level_free(&l);
  stats_level_free(&f);
}

/* Two levels hold the same statistics: fields, time at each value, series. */
static int same_level(const stats_level *a, const stats_level *b) {
  uint32_t i, n = stats_level_series_len(a);
  if (a->value != b->value || a->min != b->min || a->max != b->max ||
      a->iarea != b->iarea || a->area != b->area || a->comp != b->comp ||
      a->ivalue != b->ivalue || a->isint != b->isint || a->since != b->since ||
      a->ndense != b->ndense || a->nused != b->nused ||
      (a->cur == NULL) != (b->cur == NULL) || n != stats_level_series_len(b))
    return 0;
  if (a->cur != NULL && *a->cur != *b->cur)
    return 0;
  for (i = 0; i < a->ndense; i++)
    if (a->dense[i] != b->dense[i])
      return 0;
  for (i = 0; i < n; i++) {
    stats_point p = stats_level_series_at(a, i),
                q = stats_level_series_at(b, i);
    if (memcmp(&p, &q, sizeof(p)) != 0)
      return 0;
  }
  return 1;
}

/* stats_level_set_count (the resources' inline path) against
** stats_level_set: counts in and past the dense array, past 2^32, with
** and without the time at each value and a series, repeated times, a
** clock that jumps past the series' buckets, and a reset. */
static void test_level_count(void) {
  int keep, series, i;
  for (keep = 0; keep < 2; keep++)
    for (series = 0; series < 2; series++) {
      stats_level a, b;
      des_rng r;
      int64_t now = 7;
      des_rng_seed(&r, 5 + (uint64_t)(2 * keep + series));
      CHECK(stats_level_init(&a, A, now, 0, keep) == STATS_OK);
      CHECK(stats_level_init(&b, A, now, 0, keep) == STATS_OK);
      if (series) {
        CHECK(stats_level_keep_series(&a, 16) == STATS_OK);
        CHECK(stats_level_keep_series(&b, 16) == STATS_OK);
      }
      for (i = 0; i < 100000; i++) {
        uint64_t n = des_rng_integer(&r, 0, 12);
        uint64_t pick = des_rng_next(&r) % 1000;
        if (pick == 0)
          n = 5000 + des_rng_integer(&r, 0, 100); /* past the dense array */
        else if (pick == 1)
          n = ((uint64_t)1 << 32) + des_rng_integer(&r, 0, 2); /* past 2^32 */
        if (des_rng_next(&r) % 3 != 0) /* else the same tick */
          now += (int64_t)des_rng_integer(&r, 0, pick == 2 ? 1 << 30 : 50);
        if (keep && stats_level_reserve(&a, (double)n) == STATS_OK)
          CHECK(stats_level_reserve(&b, (double)n) == STATS_OK);
        CHECK(stats_level_set_count(&a, now, n) ==
              stats_level_set(&b, now, (double)n));
        if (pick == 3) {
          stats_level_reset(&a, now);
          stats_level_reset(&b, now);
        }
        if (i % 997 == 0)
          CHECK(same_level(&a, &b));
      }
      stats_level_advance(&a, now + 3);
      stats_level_advance(&b, now + 3);
      CHECK(same_level(&a, &b));
      CHECK(stats_level_mean(&a) == stats_level_mean(&b));
      stats_level_free(&a);
      stats_level_free(&b);
    }
}

/* A level without time_at allocates nothing; no time passed: the value. */
static void test_level_edges(void) {
  stats_level l;
  long before = live_bytes;
  CHECK(stats_level_init(&l, A, 100, 3, 0) == STATS_OK);
  CHECK(stats_level_mean(&l) == 3 && stats_level_duration(&l) == 0);
  CHECK(stats_level_set(&l, 100, 7) == STATS_OK); /* zero-length time */
  CHECK(stats_level_mean(&l) == 7 && l.area == 0 && l.max == 7);
  CHECK(stats_level_reserve(&l, 1e9) == STATS_OK);
  CHECK(live_bytes == before);
  stats_level_advance(&l, 50); /* earlier than since: ignored */
  CHECK(l.since == 100);
  stats_level_set(&l, 101, HUGE_VAL);
  stats_level_advance(&l, 102);
  CHECK(stats_level_mean(&l) == HUGE_VAL);
  stats_level_free(&l);
  /* integer products that would overflow int64 go to the double area */
  CHECK(stats_level_init(&l, A, 0, 4294967296.0, 0) == STATS_OK);
  CHECK(l.isint && l.ivalue == 4294967296);
  stats_level_advance(&l, (int64_t)1 << 40);
  CHECK(l.iarea == 0 && l.area == 0x1p72);
  CHECK(stats_level_set(&l, ((int64_t)1 << 40) + 1, -3) == STATS_OK);
  stats_level_advance(&l, ((int64_t)1 << 40) + 3);
  /* one tick more at 2^32 (fits again), then two at -3 */
  CHECK(l.iarea == 4294967296 - 6 && l.area == 0x1p72);
  CHECK(stats_level_mean(&l) ==
        ((double)(4294967296 - 6) + 0x1p72) / (double)(((int64_t)1 << 40) + 3));
  CHECK(stats_level_set(&l, 0, 4294967297.0) == STATS_OK && !l.isint);
  stats_level_free(&l);
  /* free leaves a usable, empty level (a finalizer may run it again) */
  CHECK(stats_level_init(&l, A, 0, 0, 1) == STATS_OK);
  stats_level_free(&l);
  CHECK(stats_level_set(&l, 5, 2) == STATS_OK && l.value == 2);
  stats_level_free(&l);
  CHECK(live_bytes == before);
}

/* Allocation failure: reserve and setup fail and change nothing; a set
** whose counter cannot be made still sets the level. */
static void test_alloc_failure(void) {
  stats_level l;
  stats_tally t;
  double ps[] = {0.5}, edges[] = {1, 2};
  long before = live_bytes;
  int k;
  for (k = 0; k < 3; k++) {
    calls = 0;
    fail_from = k;
    stats_tally_init(&t, A);
    if (stats_tally_setup(&t, ps, 1, edges, 2) != STATS_OK)
      CHECK(t.ps == NULL && t.bins == NULL && t.nquant == 0 && !t.keep);
    stats_tally_add(&t, 1.5);
    stats_tally_free(&t);
    fail_from = -1;
    CHECK(live_bytes == before);
  }
  CHECK(stats_level_init(&l, A, 0, 0, 1) == STATS_OK);
  CHECK(stats_level_set(&l, 10, 3) == STATS_OK);
  calls = 0;
  fail_from = 0;
  CHECK(stats_level_reserve(&l, 1000) == STATS_ENOMEM);
  CHECK(stats_level_reserve(&l, 0.5) == STATS_ENOMEM);
  CHECK(l.value == 3 && l.max == 3);
  CHECK(stats_level_set(&l, 20, 0.5) == STATS_ENOMEM);
  CHECK(l.value == 0.5 && l.cur == NULL);
  stats_level_advance(&l, 30); /* the time at 0.5 is lost, the area kept */
  CHECK(l.iarea == 3 * 10 && l.area == 0.5 * 10);
  fail_from = -1;
  CHECK(stats_level_set(&l, 30, 2) == STATS_OK);
  stats_level_advance(&l, 40);
  CHECK(at_of(&l, 3) == 10 && at_of(&l, 2) == 10 && at_of(&l, 0) == 10);
  stats_level_free(&l);
  CHECK(live_bytes == before);
}

/* }==================================================================== */

int main(void) {
  test_tally_reference();
  test_tally_hand();
  test_tally_edges();
  test_tally_merge();
  test_histogram();
  test_level_hand();
  test_level_random();
  test_level_count();
  test_level_edges();
  test_alloc_failure();
  CHECK(live_bytes == 0);
  if (failures)
    fprintf(stderr, "test_stats: %d check(s) failed\n", failures);
  return failures != 0;
}
