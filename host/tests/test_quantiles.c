/*
** test_quantiles.c -- unit tests of a tally's quantiles (stats.h) and of
** the DDSketch behind them (ddsketch.h): exact type-7 quantiles up to
** STATS_EXACT_MAX observations against a sorted array (ties, every
** prefix, numpy's values); past it, every quantile within the sketch's
** relative bound of the exact one on 10^6 samples of several
** distributions (uniform, exponential, heavy-tailed on one and both
** sides, integers with ties, a constant, zeros and infinities), whatever
** the order of the input; the collapse past 4096 buckets; merge in every
** mode; reset; the memory used; allocation failure with the allocator's
** balance.
*/
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddsketch.h"
#include "rng.h"
#include "stats.h"

#include "check.h"

/* A counting allocator that can be told to fail from the n-th call on;
** peak_bytes is the most ever live. */
static long live_bytes, peak_bytes, calls, fail_from = -1;

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
  if (live_bytes > peak_bytes)
    peak_bytes = live_bytes;
  return q;
}

static stats_alloc A = {test_alloc, NULL};

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The type-7 quantile of sorted s[0..n) (R's and numpy's default). */
static double type7(const double *s, size_t n, double p) {
  double h = (double)(n - 1) * p, f;
  size_t k = (size_t)h;
  if (k >= n - 1)
    return s[n - 1];
  f = h - (double)k;
  if (f == 0 || s[k] == s[k + 1])
    return s[k];
  return s[k] + f * (s[k + 1] - s[k]);
}

/* The probabilities every test asks for. */
static const double PS[] = {0,      1e-6,  0.001,  0.01,     0.1, 0.25,
                            0.3333, 0.5,   0.6,    0.75,     0.9, 0.95,
                            0.99,   0.999, 0.9999, 1 - 1e-6, 1};
#define NPS (sizeof(PS) / sizeof(PS[0]))

/* {====================================================================
** Exact below the threshold
** ===================================================================== */

/* numpy.quantile([3, 1, 4, 1, 5, 9, 2, 6], [0.25, 0.5, 0.9]) and the
** issue's 20 uniforms (P-square said 65.6 for an exact 46.9). */
static void test_exact_known(void) {
  static const double in[] = {3, 1, 4, 1, 5, 9, 2, 6};
  double p = 0.5, s[20];
  stats_tally t;
  des_rng r;
  int i;
  stats_tally_init(&t, A);
  CHECK(stats_tally_setup(&t, &p, 1, NULL, 0) == STATS_OK);
  CHECK(isnan(stats_tally_quantile_at(&t, 0.5))); /* empty */
  for (i = 0; i < 8; i++)
    CHECK(stats_tally_add(&t, in[i]) == STATS_OK);
  CHECK(stats_tally_quantile_at(&t, 0.25) == 1.75);
  CHECK(stats_tally_quantile_at(&t, 0.5) == 3.5);
  CHECK(fabs(stats_tally_quantile_at(&t, 0.9) - 6.9) < 1e-12);
  CHECK(stats_tally_quantile_at(&t, 0) == 1 &&
        stats_tally_quantile_at(&t, 1) == 9);
  CHECK(stats_tally_quantile(&t, 0) == 3.5);
  CHECK(isnan(stats_tally_quantile(&t, 1))); /* no such probability */
  CHECK(isnan(stats_tally_quantile_at(&t, 1.5)) &&
        isnan(stats_tally_quantile_at(&t, NAN)));
  /* set only before the first observation */
  CHECK(stats_tally_quantiles(&t, &p, 1) == STATS_EBUSY);
  stats_tally_reset(&t);
  des_rng_seed(&r, 20);
  for (i = 0; i < 20; i++)
    stats_tally_add(&t, s[i] = 100 * des_rng_double(&r));
  qsort(s, 20, sizeof(double), cmp_double);
  CHECK(stats_tally_quantile(&t, 0) == type7(s, 20, 0.5));
  stats_tally_free(&t);
  /* a tally without quantiles keeps nothing and answers NaN */
  stats_tally_init(&t, A);
  stats_tally_add(&t, 1);
  CHECK(t.obs == NULL && isnan(stats_tally_quantile_at(&t, 0.5)));
  stats_tally_free(&t);
}

/* Every prefix up to STATS_EXACT_MAX, data with many ties and both signs,
** asked between additions (so the kept array is sorted, then appended
** to): equal, bit for bit, to the type-7 quantile of a sorted copy. */
static void test_exact_prefixes(void) {
  static double in[STATS_EXACT_MAX], s[STATS_EXACT_MAX];
  stats_tally t;
  des_rng r;
  int n, k, bad = 0;
  des_rng_seed(&r, 3);
  stats_tally_init(&t, A);
  CHECK(stats_tally_quantiles(&t, NULL, 0) == STATS_OK && t.keep);
  for (n = 1; n <= STATS_EXACT_MAX; n++) {
    double u = des_rng_double(&r);
    in[n - 1] = u < 0.3 ? floor(u * 20) - 3 : (u - 0.5) * 1e6;
    stats_tally_add(&t, in[n - 1]);
    if (n > 64 && n % 97 != 0 && n != STATS_EXACT_MAX)
      continue;
    memcpy(s, in, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    for (k = 0; k < (int)NPS; k++)
      bad += stats_tally_quantile_at(&t, PS[k]) != type7(s, (size_t)n, PS[k]);
  }
  CHECK(bad == 0);
  CHECK(!t.sketching && t.nobs == STATS_EXACT_MAX);
  /* the memory of the kept observations: the array, no more */
  CHECK(t.capobs == STATS_EXACT_MAX);
  printf("exact: %d observations kept in %zu bytes\n", STATS_EXACT_MAX,
         sizeof(double) * STATS_EXACT_MAX);
  /* one more: the sketch takes over, the array is freed */
  stats_tally_add(&t, 0.5);
  CHECK(t.sketching && t.obs == NULL && t.sk.n == STATS_EXACT_MAX + 1);
  /* reset: exact again */
  stats_tally_reset(&t);
  CHECK(!t.sketching && t.nobs == 0 && t.keep);
  stats_tally_add(&t, 7);
  CHECK(stats_tally_quantile_at(&t, 0.3) == 7);
  stats_tally_free(&t);
}

/* }==================================================================== */

/* {====================================================================
** The sketch's bound
** ===================================================================== */

#define NBIG 1000000
static double big[NBIG];

/* The sample of distribution d (0..9) at u, v uniforms in (0, 1). */
static double draw(int d, double u, double v) {
  switch (d) {
  case 0:
    return u; /* uniform */
  case 1:
    return -log(u) * 3; /* exponential */
  case 2:
    return exp(4 * sqrt(-2 * log(u)) * cos(6.283185307179586 * v));
  case 3:
    return pow(u, -1 / 1.1); /* Pareto 1.1 */
  case 4:
    return tan(3.141592653589793 * (u - 0.5)); /* Cauchy */
  case 5:
    return floor(u * 10); /* ties: 0..9 */
  case 6:
    return 42.5; /* a constant */
  case 7:
    return u < 0.3 ? 0 : u < 0.5 ? -v * 1e-3 : v * 1e9; /* zeros */
  case 8:
    return u < 1e-4 ? (v < 0.5 ? -HUGE_VAL : HUGE_VAL) : 1e300 * v;
  default:
    return 1e9 + u; /* a large offset */
  }
}

/* The bound: |est - Q| <= a max(|x[k]|, |x[k+1]|) around Q (with a few
** ulps of slack for the logarithm at bucket edges). */
static int within(double est, const double *s, size_t n, double p) {
  double q = type7(s, n, p), h = (double)(n - 1) * p, m;
  size_t k = (size_t)h;
  if (est == q)
    return 1;
  m = fabs(s[k]);
  if (k + 1 < n && fabs(s[k + 1]) > m)
    m = fabs(s[k + 1]);
  return fabs(est - q) <= DDS_ALPHA * m * (1 + 1e-9);
}

static void test_sketch_bound(void) {
  stats_tally t, rev;
  des_rng r;
  int d, k;
  size_t i;
  des_rng_seed(&r, 11);
  for (d = 0; d < 10; d++) {
    int bad = 0, same = 1;
    long before = live_bytes;
    peak_bytes = live_bytes;
    stats_tally_init(&t, A);
    stats_tally_init(&rev, A);
    CHECK(stats_tally_quantiles(&t, PS, NPS) == STATS_OK);
    CHECK(stats_tally_quantiles(&rev, PS, NPS) == STATS_OK);
    for (i = 0; i < NBIG; i++) {
      double u = des_rng_open01(&r), v = des_rng_open01(&r);
      big[i] = draw(d, u, v);
      CHECK(stats_tally_add(&t, big[i]) == STATS_OK);
    }
    /* after: the counts (at most 32 KiB a sign) and the probabilities;
    ** at the peak also the kept array and a store being re-laid */
    printf("sketch of distribution %d: %ld bytes (peak %ld), %u + %u "
           "buckets\n",
           d, live_bytes - before, peak_bytes - before, t.sk.pos.cap,
           t.sk.neg.cap);
    CHECK(live_bytes - before <= 2 * 8 * DDS_MAXBUCKETS + 1024);
    CHECK(peak_bytes - before <= 4 * 8 * DDS_MAXBUCKETS + 1024);
    for (i = NBIG; i-- > 0;) /* the same data backwards */
      stats_tally_add(&rev, big[i]);
    qsort(big, NBIG, sizeof(double), cmp_double);
    for (k = 0; k < (int)NPS; k++) {
      double est = stats_tally_quantile_at(&t, PS[k]);
      if (!within(est, big, NBIG, PS[k])) {
        bad++;
        fprintf(stderr, "  distribution %d, p %g: %.17g, exact %.17g\n", d,
                PS[k], est, type7(big, NBIG, PS[k]));
      }
      same &= est == stats_tally_quantile_at(&rev, PS[k]);
    }
    CHECK(bad == 0);
    CHECK(same); /* the order of the input does not matter */
    CHECK(stats_tally_quantile_at(&t, 0) == big[0] &&
          stats_tally_quantile_at(&t, 1) == big[NBIG - 1]);
    stats_tally_free(&t);
    stats_tally_free(&rev);
    CHECK(live_bytes == before);
  }
}

/* Magnitudes over 10^80: the store keeps 4096 buckets (10^35.6), the
** quantiles in that range of the largest keep the bound; below it, the
** folded values answer with the lowest bucket kept (too large). */
static void test_sketch_collapse(void) {
  stats_tally t;
  des_rng r;
  size_t i, n = 200000;
  des_rng_seed(&r, 12);
  stats_tally_init(&t, A);
  CHECK(stats_tally_quantiles(&t, NULL, 0) == STATS_OK);
  for (i = 0; i < n; i++) {
    big[i] = pow(10, 80 * des_rng_double(&r) - 40);
    stats_tally_add(&t, big[i]);
  }
  CHECK(t.sk.pos.cap == DDS_MAXBUCKETS && t.sk.neg.cap == 0);
  qsort(big, n, sizeof(double), cmp_double);
  /* the top ~44% of the data (above 1e40 / 3.7e35) keep the bound */
  CHECK(within(stats_tally_quantile_at(&t, 0.6), big, n, 0.6));
  CHECK(within(stats_tally_quantile_at(&t, 0.99), big, n, 0.99));
  CHECK(stats_tally_quantile_at(&t, 0.1) > type7(big, n, 0.1)); /* folded */
  stats_tally_free(&t);
}

/* The extremes of the doubles: the largest, subnormals, both zeros and
** both infinities, many times over (past the threshold): no bucket index
** overflows, the answers are ordered, min and max exact, the zeros (the
** middle) exactly 0, and the largest magnitudes within the bound. */
static void test_sketch_extremes(void) {
  static const double xs[] = {DBL_MAX,
                              -DBL_MAX,
                              4.9406564584124654e-324,
                              -4.9406564584124654e-324,
                              0.0,
                              -0.0,
                              0.0,
                              0.0,
                              0.0,
                              0.0,
                              2.2250738585072014e-308,
                              1e308,
                              -1e308,
                              HUGE_VAL,
                              -HUGE_VAL};
  enum { N = sizeof(xs) / sizeof(xs[0]), REPS = 1000 };
  stats_tally t;
  double prev = -HUGE_VAL;
  int i, k, ordered = 1;
  stats_tally_init(&t, A);
  CHECK(stats_tally_quantiles(&t, NULL, 0) == STATS_OK);
  for (i = 0; i < REPS; i++)
    for (k = 0; k < N; k++)
      CHECK(stats_tally_add(&t, xs[k]) == STATS_OK);
  CHECK(t.sketching);
  for (k = 0; k <= 100; k++) {
    double q = stats_tally_quantile_at(&t, k / 100.0);
    ordered &= q >= prev;
    prev = q;
  }
  CHECK(ordered);
  CHECK(stats_tally_quantile_at(&t, 0) == -HUGE_VAL);
  CHECK(stats_tally_quantile_at(&t, 1) == HUGE_VAL);
  CHECK(stats_tally_quantile_at(&t, 0.5) == 0);
  /* rank of DBL_MAX's: 1000 +inf above them, 1000 1e308 below */
  CHECK(fabs(stats_tally_quantile_at(&t, 1 - 1500.0 / (N * REPS - 1)) -
             DBL_MAX) <= DDS_ALPHA * DBL_MAX);
  stats_tally_free(&t);
}

/* }==================================================================== */

/* {====================================================================
** Merge, allocation failure
** ===================================================================== */

/* Halves merged give the whole: exact + exact (staying exact, and over
** the threshold), exact + sketch, sketch + exact, sketch + sketch. */
static void test_merge(void) {
  static const size_t sizes[][2] = {
      {100, 200}, {3000, 3000}, {100, 9000}, {9000, 100}, {9000, 9000}};
  stats_tally whole, a, b, plain;
  des_rng r;
  size_t c, i, n;
  int k, bad = 0;
  des_rng_seed(&r, 13);
  for (c = 0; c < 5; c++) {
    n = sizes[c][0] + sizes[c][1];
    stats_tally_init(&whole, A);
    stats_tally_init(&a, A);
    stats_tally_init(&b, A);
    stats_tally_quantiles(&whole, NULL, 0);
    stats_tally_quantiles(&a, NULL, 0);
    stats_tally_quantiles(&b, NULL, 0);
    for (i = 0; i < n; i++) {
      big[i] = -log(des_rng_open01(&r)) - 0.5;
      stats_tally_add(&whole, big[i]);
      stats_tally_add(i < sizes[c][0] ? &a : &b, big[i]);
    }
    CHECK(stats_tally_can_merge(&a, &b));
    CHECK(stats_tally_merge(&a, &b) == STATS_OK);
    CHECK(a.count == n && a.lost == 0 && a.sketching == (n > STATS_EXACT_MAX));
    qsort(big, n, sizeof(double), cmp_double);
    for (k = 0; k < (int)NPS; k++) {
      double est = stats_tally_quantile_at(&a, PS[k]);
      if (n <= STATS_EXACT_MAX)
        bad += est != type7(big, n, PS[k]);
      else
        bad += !within(est, big, n, PS[k]);
    }
    stats_tally_free(&whole);
    stats_tally_free(&a);
    stats_tally_free(&b);
  }
  CHECK(bad == 0);
  /* a tally without a distribution cannot go into one that keeps one */
  stats_tally_init(&a, A);
  stats_tally_init(&plain, A);
  stats_tally_quantiles(&a, NULL, 0);
  CHECK(stats_tally_can_merge(&a, &plain)); /* empty: nothing to lose */
  stats_tally_add(&plain, 1);
  CHECK(!stats_tally_can_merge(&a, &plain));
  CHECK(stats_tally_can_merge(&plain, &a));
  CHECK(stats_tally_merge(&a, &plain) == STATS_ENOMEM && a.lost == 1);
  CHECK(isnan(stats_tally_quantile_at(&a, 0.5)));
  stats_tally_free(&a);
  stats_tally_free(&plain);
}

/* Out of memory at every allocation in turn: add reports it, still
** counts the observation, and the distribution's loss makes its
** quantiles NaN (never wrong); nothing leaks. */
static void test_alloc_failure(void) {
  stats_tally t, o;
  long before = live_bytes;
  int k, j, failed;
  for (k = 0; k < 12; k++) {
    stats_tally_init(&t, A);
    stats_tally_init(&o, A);
    stats_tally_quantiles(&t, NULL, 0);
    stats_tally_quantiles(&o, NULL, 0);
    for (j = 0; j < 5000; j++)
      stats_tally_add(&o, j * 1e-3);
    calls = 0;
    fail_from = k;
    failed = 0;
    for (j = 0; j < 5000; j++)
      failed += stats_tally_add(&t, j % 7 ? j : 1e-30 * j) != STATS_OK;
    failed += stats_tally_merge(&t, &o) != STATS_OK;
    fail_from = -1;
    CHECK(t.count == 10000);
    CHECK(failed > 0 && t.lost > 0);
    CHECK(t.lost + (t.sketching ? t.sk.n : t.nobs) == t.count);
    CHECK(isnan(stats_tally_quantile_at(&t, 0.5)));
    stats_tally_reset(&t); /* forgets the loss too */
    stats_tally_add(&t, 2);
    CHECK(stats_tally_quantile_at(&t, 0.5) == 2);
    stats_tally_free(&t);
    stats_tally_free(&o);
    CHECK(live_bytes == before);
  }
  /* setting the quantiles fails and changes nothing */
  stats_tally_init(&t, A);
  calls = 0;
  fail_from = 0;
  CHECK(stats_tally_quantiles(&t, PS, 3) == STATS_ENOMEM);
  fail_from = -1;
  CHECK(!t.keep && t.ps == NULL && t.nquant == 0);
  stats_tally_free(&t);
  CHECK(live_bytes == before);
}

/* }==================================================================== */

int main(void) {
  test_exact_known();
  test_exact_prefixes();
  test_sketch_bound();
  test_sketch_collapse();
  test_sketch_extremes();
  test_merge();
  test_alloc_failure();
  CHECK(live_bytes == 0);
  if (failures)
    fprintf(stderr, "test_quantiles: %d check(s) failed\n", failures);
  return failures != 0;
}
