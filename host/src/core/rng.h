/*
** rng.h -- random streams: xoshiro256** seeded through splitmix64, with
** named streams derived from (seed, name), and the distributions drawn
** from them. No Lua, no time.
**
** The distribution functions trust their arguments (finite, in range as
** stated); the Lua binding (lrng.c) checks them first. Each result is
** exact for its distribution up to floating-point rounding: no normal or
** other approximation.
*/
#ifndef DES_RNG_H
#define DES_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct des_rng {
  uint64_t s[4];
} des_rng;

/* Seed a generator (splitmix64 expands the seed into the state). */
void des_rng_seed(des_rng *r, uint64_t seed);

/* The stream `name` of seed: independent of every other name, so adding a
** stream never shifts the others. */
void des_rng_stream(des_rng *r, uint64_t seed, const char *name, size_t len);

/* Next 64 random bits. */
uint64_t des_rng_next(des_rng *r);

/* A double uniform in [0, 1), 53 random bits. */
double des_rng_double(des_rng *r);

/* A double uniform in (0, 1), never 0 nor 1: log() of it is finite. */
double des_rng_open01(des_rng *r);

/* Uniform in [a, b), a <= b. */
double des_rng_uniform(des_rng *r, double a, double b);

/* Uniform integer in [a, b], a <= b, without modulo bias. */
int64_t des_rng_integer(des_rng *r, int64_t a, int64_t b);

/* Exponential of the given mean > 0, by inversion. */
double des_rng_exponential(des_rng *r, double mean);

/* Normal of mean mu and standard deviation sd >= 0 (polar method). */
double des_rng_normal(des_rng *r, double mu, double sd);

/* Lognormal: exp of a normal(mu, sigma), sigma >= 0. */
double des_rng_lognormal(des_rng *r, double mu, double sigma);

/* Triangular on [low, high] with peak at mode, low <= mode <= high and
** low < high, by inversion. */
double des_rng_triangular(des_rng *r, double low, double mode, double high);

/* 1 with probability p in [0, 1], else 0. */
int des_rng_bernoulli(des_rng *r, double p);

/* Gamma of shape k > 0 and scale theta > 0 (mean k * theta), by
** Marsaglia and Tsang; for k < 1, gamma(k + 1) * U^(1/k). */
double des_rng_gamma(des_rng *r, double k, double theta);

/* Erlang: the sum of k >= 1 exponentials, of total mean mean > 0. */
double des_rng_erlang(des_rng *r, int64_t k, double mean);

/* Beta(a, b), a > 0 and b > 0, as X / (X + Y) of two gammas. */
double des_rng_beta(des_rng *r, double a, double b);

/* Weibull of shape > 0 and scale > 0, by inversion. */
double des_rng_weibull(des_rng *r, double shape, double scale);

/* The largest Poisson mean des_rng_poisson takes. */
#define DES_RNG_POISSON_MAX 1e15

/* Poisson of mean in [0, DES_RNG_POISSON_MAX]: inversion below 10, else
** Hoermann's transformed rejection (PTRS). */
int64_t des_rng_poisson(des_rng *r, double mean);

/* One of the n >= 1 values x, uniformly; or, if interpolate, a draw from
** the piecewise-linear empirical CDF of x, which must then be sorted
** ascending. */
double des_rng_empirical(des_rng *r, const double *x, size_t n,
                         int interpolate);

#endif
