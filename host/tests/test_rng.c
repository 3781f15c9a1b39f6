/*
** test_rng.c -- unit tests of the random streams (rng.h), through core/
** only: known values against an independent reference of splitmix64 and
** xoshiro256** written here, named streams (same name same numbers,
** another name or seed other numbers, uncorrelated), the ranges of the
** uniform draws, the unbiased integer draw, and every distribution's mean
** and variance against the exact ones. Seeds are fixed, so the sample
** moments are fixed numbers: the tolerance (6 standard errors, computed
** from the exact variance) never makes the test flaky, it only says how
** far a correct generator may be.
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rng.h"

#include "check.h"

#define N 200000 /* draws per distribution */

/* ---- The reference: splitmix64 and xoshiro256** as published ---------- */

static uint64_t ref_splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t ref_rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

static uint64_t ref_next(uint64_t s[4]) {
  uint64_t result = ref_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = ref_rotl(s[3], 45);
  return result;
}

static void test_known_values(void) {
  des_rng r;
  uint64_t s[4], x = 0;
  int i, same = 1;
  /* splitmix64(0)'s first output is a published constant */
  CHECK(ref_splitmix(&x) == 0xe220a8397b1dcdafULL);
  x = 42;
  for (i = 0; i < 4; i++)
    s[i] = ref_splitmix(&x);
  des_rng_seed(&r, 42);
  for (i = 0; i < 1000; i++)
    if (des_rng_next(&r) != ref_next(s))
      same = 0;
  CHECK(same);
  /* doubles are the top 53 bits */
  des_rng_seed(&r, 42);
  x = 42;
  for (i = 0; i < 4; i++)
    s[i] = ref_splitmix(&x);
  CHECK(des_rng_double(&r) == (double)(ref_next(s) >> 11) * 0x1.0p-53);
}

static void test_streams(void) {
  des_rng a, a2, b, c;
  double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0, cov, corr;
  int i, same_ab = 0, same_ac = 0, same_aa = 1;
  des_rng_stream(&a, 7, "arrivals", 8);
  des_rng_stream(&a2, 7, "arrivals", 8);
  des_rng_stream(&b, 7, "service", 7);
  des_rng_stream(&c, 8, "arrivals", 8);
  for (i = 0; i < N; i++) {
    uint64_t xa = des_rng_next(&a), xb = des_rng_next(&b);
    double ua, ub;
    if (xa != des_rng_next(&a2))
      same_aa = 0;
    if (xa == xb)
      same_ab++;
    if (xa == des_rng_next(&c))
      same_ac++;
    ua = (double)(xa >> 11) * 0x1.0p-53;
    ub = (double)(xb >> 11) * 0x1.0p-53;
    sa += ua;
    sb += ub;
    sab += ua * ub;
    saa += ua * ua;
    sbb += ub * ub;
  }
  CHECK(same_aa);
  CHECK(same_ab == 0 && same_ac == 0);
  cov = sab / N - (sa / N) * (sb / N);
  corr = cov / sqrt((saa / N - (sa / N) * (sa / N)) *
                    (sbb / N - (sb / N) * (sb / N)));
  CHECK(fabs(corr) < 6 / sqrt((double)N));
  /* a name's bytes all count, including past a NUL */
  des_rng_stream(&a, 7, "ab\0c", 4);
  des_rng_stream(&b, 7, "ab\0d", 4);
  CHECK(des_rng_next(&a) != des_rng_next(&b));
  /* the empty name is a stream too, not the plain seed */
  des_rng_stream(&a, 7, "", 0);
  des_rng_seed(&b, 7);
  CHECK(des_rng_next(&a) != des_rng_next(&b));
}

static void test_ranges(void) {
  des_rng r;
  int i, in01 = 1, open = 1, inab = 1, ends = 1, counts[6] = {0};
  double chi2 = 0;
  des_rng_seed(&r, 1);
  for (i = 0; i < N; i++) {
    double d = des_rng_double(&r), o = des_rng_open01(&r);
    double u = des_rng_uniform(&r, -2, 3);
    int64_t k = des_rng_integer(&r, 1, 6);
    if (!(d >= 0 && d < 1))
      in01 = 0;
    if (!(o > 0 && o < 1))
      open = 0;
    if (!(u >= -2 && u < 3))
      inab = 0;
    if (k < 1 || k > 6)
      ends = 0;
    else
      counts[k - 1]++;
  }
  CHECK(in01 && open && inab && ends);
  for (i = 0; i < 6; i++) {
    double e = N / 6.0;
    chi2 += (counts[i] - e) * (counts[i] - e) / e;
  }
  CHECK(chi2 < 30); /* 5 degrees of freedom: p < 2e-5 */
  /* degenerate and full ranges */
  CHECK(des_rng_integer(&r, 5, 5) == 5);
  CHECK(des_rng_integer(&r, INT64_MIN, INT64_MIN) == INT64_MIN);
  for (i = 0; i < 100; i++) {
    int64_t k = des_rng_integer(&r, INT64_MAX - 1, INT64_MAX);
    CHECK(k == INT64_MAX - 1 || k == INT64_MAX);
  }
  (void)des_rng_integer(&r, INT64_MIN, INT64_MAX); /* the full span */
  /* an unbiased draw over a span just above 2^63 stays in range */
  for (i = 0; i < 100; i++) {
    int64_t k = des_rng_integer(&r, -1, INT64_MAX);
    CHECK(k >= -1);
  }
}

/* ---- Moments ----------------------------------------------------------- */

typedef double (*draw_fn)(des_rng *r, const double *p);

typedef struct dist {
  const char *name;
  draw_fn draw;
  double p[3];
  double mean, var;
} dist;

static double d_uniform(des_rng *r, const double *p) {
  return des_rng_uniform(r, p[0], p[1]);
}
static double d_exponential(des_rng *r, const double *p) {
  return des_rng_exponential(r, p[0]);
}
static double d_normal(des_rng *r, const double *p) {
  return des_rng_normal(r, p[0], p[1]);
}
static double d_lognormal(des_rng *r, const double *p) {
  return des_rng_lognormal(r, p[0], p[1]);
}
static double d_triangular(des_rng *r, const double *p) {
  return des_rng_triangular(r, p[0], p[1], p[2]);
}
static double d_bernoulli(des_rng *r, const double *p) {
  return des_rng_bernoulli(r, p[0]);
}
static double d_gamma(des_rng *r, const double *p) {
  return des_rng_gamma(r, p[0], p[1]);
}
static double d_erlang(des_rng *r, const double *p) {
  return des_rng_erlang(r, (int64_t)p[0], p[1]);
}
static double d_beta(des_rng *r, const double *p) {
  return des_rng_beta(r, p[0], p[1]);
}
static double d_weibull(des_rng *r, const double *p) {
  return des_rng_weibull(r, p[0], p[1]);
}
static double d_poisson(des_rng *r, const double *p) {
  return (double)des_rng_poisson(r, p[0]);
}
static double d_integer(des_rng *r, const double *p) {
  return (double)des_rng_integer(r, (int64_t)p[0], (int64_t)p[1]);
}
static const double emp_data[] = {1, 2, 3, 10};
static double d_empirical(des_rng *r, const double *p) {
  return des_rng_empirical(r, emp_data, 4, (int)p[0]);
}

/* Check the sample mean within 6 standard errors of the exact mean, and
** the sample variance within 6 standard errors of the exact variance
** (using the fourth central moment the sample itself shows, bounded
** below by the normal's 2 var^2). */
static void check_moments(const dist *d, uint64_t seed) {
  des_rng r;
  static double x[N];
  double sum = 0, mean, m2 = 0, m4 = 0, var, se_mean, se_var;
  int i;
  des_rng_stream(&r, seed, d->name, strlen(d->name));
  for (i = 0; i < N; i++) {
    x[i] = d->draw(&r, d->p);
    sum += x[i];
  }
  mean = sum / N;
  for (i = 0; i < N; i++) {
    double e = x[i] - mean;
    m2 += e * e;
    m4 += e * e * e * e;
  }
  var = m2 / (N - 1);
  m4 /= N;
  se_mean = sqrt(d->var / N);
  se_var = sqrt(fmax(m4 - var * var, 2 * d->var * d->var) / N);
  if (fabs(mean - d->mean) > 6 * se_mean + 1e-12 ||
      fabs(var - d->var) > 6 * se_var + 1e-12) {
    fprintf(stderr,
            "test_rng: %s: mean %.6g (exact %.6g, se %.3g), variance %.6g "
            "(exact %.6g, se %.3g)\n",
            d->name, mean, d->mean, se_mean, var, d->var, se_var);
    failures++;
  }
}

static void test_moments(void) {
  const double g15 = tgamma(1.5), lv = exp(0.25);
  const dist dists[] = {
      {"uniform", d_uniform, {2, 5, 0}, 3.5, 0.75},
      {"exponential", d_exponential, {2, 0, 0}, 2, 4},
      {"normal", d_normal, {1, 3, 0}, 1, 9},
      {"lognormal", d_lognormal, {0, 0.5, 0}, exp(0.125), (lv - 1) * lv},
      {"triangular",
       d_triangular,
       {0, 1, 3},
       4.0 / 3,
       (0 + 1 + 9 - 0 - 0 - 3) / 18.0},
      {"bernoulli", d_bernoulli, {0.3, 0, 0}, 0.3, 0.21},
      {"gamma", d_gamma, {2.5, 2, 0}, 5, 10},
      {"gamma<1", d_gamma, {0.5, 1, 0}, 0.5, 0.5},
      {"erlang", d_erlang, {3, 6, 0}, 6, 12},
      {"beta", d_beta, {2, 3, 0}, 0.4, 0.04},
      {"weibull", d_weibull, {2, 1, 0}, g15, 1 - g15 * g15},
      {"poisson small", d_poisson, {4, 0, 0}, 4, 4},
      {"poisson large", d_poisson, {1000, 0, 0}, 1000, 1000},
      {"integer", d_integer, {1, 6, 0}, 3.5, 35.0 / 12},
      {"empirical", d_empirical, {0, 0, 0}, 4, (1 + 4 + 9 + 100) / 4.0 - 16},
      /* piecewise-linear CDF over 1, 2, 3, 10: a third of the mass on each
      ** segment, uniform within it */
      {"empirical interpolated",
       d_empirical,
       {1, 0, 0},
       (1.5 + 2.5 + 6.5) / 3,
       ((1.5 * 1.5 + 1 / 12.0) + (2.5 * 2.5 + 1 / 12.0) +
        (6.5 * 6.5 + 49 / 12.0)) /
               3 -
           (3.5) * (3.5)},
  };
  size_t i;
  for (i = 0; i < sizeof(dists) / sizeof(dists[0]); i++)
    check_moments(&dists[i], 2026);
}

/* Edge parameters give what they must. */
static void test_edges(void) {
  des_rng r;
  int i, ok = 1;
  des_rng_seed(&r, 3);
  for (i = 0; i < 1000; i++) {
    if (des_rng_normal(&r, 2, 0) != 2)
      ok = 0;
    if (des_rng_bernoulli(&r, 0) != 0 || des_rng_bernoulli(&r, 1) != 1)
      ok = 0;
    if (des_rng_poisson(&r, 0) != 0)
      ok = 0;
    if (!(des_rng_exponential(&r, 1) >= 0))
      ok = 0;
    if (des_rng_poisson(&r, DES_RNG_POISSON_MAX) < 0)
      ok = 0;
    {
      double b = des_rng_beta(&r, 0.01, 0.01);
      if (!(b >= 0 && b <= 1))
        ok = 0;
    }
    {
      double g = des_rng_gamma(&r, 0.001, 1);
      if (!(g >= 0) || isinf(g))
        ok = 0;
    }
  }
  CHECK(ok);
}

int main(void) {
  test_known_values();
  test_streams();
  test_ranges();
  test_moments();
  test_edges();
  if (failures)
    fprintf(stderr, "test_rng: %d check(s) failed\n", failures);
  return failures != 0;
}
