/*
** rng.c -- xoshiro256** (Blackman and Vigna): small state, fast, passes
** BigCrush, identical on every platform since it is integer-only. Never
** libc rand() nor Lua's math.random, whose results vary by build.
*/
#include "rng.h"

#include <math.h>

/* splitmix64: expands one 64-bit value into well-mixed state words. */
static uint64_t rng_splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void des_rng_seed(des_rng *r, uint64_t seed) {
  int i;
  for (i = 0; i < 4; i++)
    r->s[i] = rng_splitmix(&seed);
}

/* The stream's seed is the splitmix of seed mixed with an FNV-1a hash of
** the name: a different name gives an unrelated state. */
void des_rng_stream(des_rng *r, uint64_t seed, const char *name, size_t len) {
  uint64_t h = 0xcbf29ce484222325ULL;
  size_t i;
  for (i = 0; i < len; i++) {
    h ^= (unsigned char)name[i];
    h *= 0x100000001b3ULL;
  }
  seed ^= rng_splitmix(&h);
  des_rng_seed(r, seed);
}

static uint64_t rng_rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t des_rng_next(des_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rng_rotl(s[3], 45);
  return result;
}

double des_rng_double(des_rng *r) {
  return (double)(des_rng_next(r) >> 11) * 0x1.0p-53;
}

double des_rng_open01(des_rng *r) {
  return ((double)(des_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

double des_rng_uniform(des_rng *r, double a, double b) {
  return a + (b - a) * des_rng_double(r);
}

/* Uniform in [0, n), n >= 1: rejects the top partial block of 2^64 so
** that every residue is equally likely. */
static uint64_t rng_below(des_rng *r, uint64_t n) {
  uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;
  do
    x = des_rng_next(r);
  while (x >= limit);
  return x % n;
}

int64_t des_rng_integer(des_rng *r, int64_t a, int64_t b) {
  uint64_t span = (uint64_t)b - (uint64_t)a + 1; /* 0: the full 2^64 */
  if (span == 0)
    return (int64_t)des_rng_next(r);
  return (int64_t)((uint64_t)a + rng_below(r, span));
}

double des_rng_exponential(des_rng *r, double mean) {
  return -mean * log(des_rng_open01(r));
}

/* A standard normal by the polar method (no caching: each call draws
** afresh, so streams stay aligned with the calls made). */
static double rng_std_normal(des_rng *r) {
  double u, v, s;
  do {
    u = 2.0 * des_rng_open01(r) - 1.0;
    v = 2.0 * des_rng_open01(r) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  return u * sqrt(-2.0 * log(s) / s);
}

double des_rng_normal(des_rng *r, double mu, double sd) {
  return mu + sd * rng_std_normal(r);
}

double des_rng_lognormal(des_rng *r, double mu, double sigma) {
  return exp(mu + sigma * rng_std_normal(r));
}

double des_rng_triangular(des_rng *r, double low, double mode, double high) {
  double u = des_rng_double(r), c = (mode - low) / (high - low);
  return u < c ? low + sqrt(u * (high - low) * (mode - low))
               : high - sqrt((1 - u) * (high - low) * (high - mode));
}

int des_rng_bernoulli(des_rng *r, double p) {
  return des_rng_double(r) < p;
}

/* Gamma(k, 1) for k >= 1: Marsaglia and Tsang, "A simple method for
** generating gamma variables" (2000), with their squeeze. */
static double rng_std_gamma(des_rng *r, double k) {
  double d = k - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d), x, v, u;
  for (;;) {
    do {
      x = rng_std_normal(r);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    u = des_rng_open01(r);
    if (u < 1.0 - 0.0331 * (x * x) * (x * x))
      return d * v;
    if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
      return d * v;
  }
}

/* log of a Gamma(k, 1) draw, k > 0: for k < 1 the boost
** gamma(k + 1) * U^(1/k), taken in logs so that it cannot underflow. */
static double rng_log_std_gamma(des_rng *r, double k) {
  double g;
  if (k >= 1.0)
    return log(rng_std_gamma(r, k));
  g = rng_std_gamma(r, k + 1.0);
  return log(g) + log(des_rng_open01(r)) / k;
}

double des_rng_gamma(des_rng *r, double k, double theta) {
  double g;
  if (k >= 1.0)
    return theta * rng_std_gamma(r, k);
  g = rng_std_gamma(r, k + 1.0);
  return theta * g * pow(des_rng_open01(r), 1.0 / k);
}

/* Up to 8 stages, the sum of k exponentials (so erlang(1, m) is the same
** draw as exponential(m)); beyond, a gamma(k, mean / k), cheaper. */
double des_rng_erlang(des_rng *r, int64_t k, double mean) {
  double sum = 0.0;
  int64_t i;
  if (k > 8)
    return des_rng_gamma(r, (double)k, mean / (double)k);
  for (i = 0; i < k; i++)
    sum -= log(des_rng_open01(r));
  return mean / (double)k * sum;
}

/* X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b), from their logs: small
** shapes would underflow both gammas to 0. */
double des_rng_beta(des_rng *r, double a, double b) {
  double lx = rng_log_std_gamma(r, a), ly = rng_log_std_gamma(r, b), e;
  if (lx == ly) /* also both -inf */
    return 0.5;
  if (lx > ly)
    return 1.0 / (1.0 + exp(ly - lx));
  e = exp(lx - ly);
  return e / (1.0 + e);
}

double des_rng_weibull(des_rng *r, double shape, double scale) {
  return scale * pow(-log(des_rng_open01(r)), 1.0 / shape);
}

/* Poisson by sequential inversion, for small means: the smallest k with
** U < F(k). Should rounding leave F(k) below U when the terms underflow
** (probability ~1e-16), start afresh rather than return a wrong k. */
static int64_t rng_poisson_inversion(des_rng *r, double mean) {
  double emu = exp(-mean);
  for (;;) {
    double u = des_rng_double(r), p = emu, f = emu;
    int64_t k = 0;
    while (u >= f && p > 0.0) {
      k++;
      p *= mean / (double)k;
      f += p;
    }
    if (u < f)
      return k;
  }
}

/* log(k!) for k < 10. */
static const double rng_logfact[10] = {0.0,
                                       0.0,
                                       0.69314718055994530942,
                                       1.7917594692280550008,
                                       3.1780538303479456196,
                                       4.7874917427820459942,
                                       6.5792512120101009951,
                                       8.5251613610654143002,
                                       10.604602902745250228,
                                       12.801827480081469611};

/* log of the Poisson(lam) probability of k: for k >= 10, Stirling's series
** for log(k!) (error < 2e-14) rearranged as (k - lam) - k log(k / lam) -
** log(2 pi k) / 2 - S(k), which keeps its precision for large means. */
static double rng_poisson_logpmf(double k, double lam, double loglam) {
  double d, k2, s;
  if (k < 10.0)
    return -lam + k * loglam - rng_logfact[(int)k];
  d = k - lam;
  k2 = 1.0 / (k * k);
  s = (1.0 / 12 -
       k2 * (1.0 / 360 - k2 * (1.0 / 1260 - k2 * (1.0 / 1680 - k2 / 1188)))) /
      k;
  return d - k * log1p(d / lam) - 0.5 * log(6.283185307179586477 * k) - s;
}

/* PTRS: Hoermann, "The transformed rejection method for generating Poisson
** random variables" (1993), for lam >= 10; about 1.1 uniforms pairs a draw.
** U is drawn from (0, 1) so that us > 0, and a candidate beyond 2^53 (of
** probability 0 in doubles for lam <= DES_RNG_POISSON_MAX) is refused
** before any conversion. */
static int64_t rng_poisson_ptrs(des_rng *r, double lam) {
  double slam = sqrt(lam), loglam = log(lam);
  double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
  double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    double u = des_rng_open01(r) - 0.5, v = des_rng_double(r);
    double us = 0.5 - fabs(u);
    double k = floor((2.0 * a / us + b) * u + lam + 0.43);
    if (us >= 0.07 && v <= vr)
      return (int64_t)k;
    if (k < 0.0 || k > 0x1p53 || (us < 0.013 && v > us))
      continue;
    if (log(v * invalpha / (a / (us * us) + b)) <=
        rng_poisson_logpmf(k, lam, loglam))
      return (int64_t)k;
  }
}

int64_t des_rng_poisson(des_rng *r, double mean) {
  return mean < 10.0 ? rng_poisson_inversion(r, mean)
                     : rng_poisson_ptrs(r, mean);
}

double des_rng_empirical(des_rng *r, const double *x, size_t n,
                         int interpolate) {
  double p, t, d, v;
  size_t i;
  if (!interpolate || n == 1)
    return x[rng_below(r, n)];
  /* F(x[i]) = i / (n - 1), linear in between */
  p = des_rng_double(r) * (double)(n - 1);
  i = (size_t)p;
  if (i > n - 2)
    i = n - 2;
  t = p - (double)i;
  d = x[i + 1] - x[i];
  v = isfinite(d) ? x[i] + t * d : (1.0 - t) * x[i] + t * x[i + 1];
  return v < x[i] ? x[i] : v > x[i + 1] ? x[i + 1] : v;
}
