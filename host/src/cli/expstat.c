/*
** expstat.c -- the statistics of an experiment's summary: running mean and
** variance (Welford: one pass, in run order, so the same runs give the
** same digits whatever the number of workers), and the Student t quantile
** for confidence intervals, computed (the regularized incomplete beta
** function by its continued fraction, inverted by bisection), not looked
** up in a table.
*/
#include <math.h>

#include "experiment.h"

void exp_stat_add(exp_stat *s, double x) {
  double d = x - s->mean;
  s->n += 1;
  s->mean += d / s->n;
  s->m2 += d * (x - s->mean);
}

/* The sample standard deviation (n - 1), NaN below two values. */
double exp_stat_sd(const exp_stat *s) {
  return s->n < 2 ? NAN : sqrt(s->m2 / (s->n - 1));
}

/* The continued fraction of the incomplete beta function (Lentz's method,
** as in Numerical Recipes' betacf). */
static double beta_cf(double a, double b, double x) {
  const double tiny = 1e-300, eps = 1e-15;
  double c = 1, d = 1 - (a + b) * x / (a + 1), h;
  int m;
  if (fabs(d) < tiny)
    d = tiny;
  d = 1 / d;
  h = d;
  for (m = 1; m <= 1000; m++) {
    double m2 = 2 * m, aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2)), del;
    d = 1 + aa * d;
    d = fabs(d) < tiny ? 1 / tiny : 1 / d;
    c = 1 + aa / c;
    if (fabs(c) < tiny)
      c = tiny;
    h *= d * c;
    aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    d = fabs(d) < tiny ? 1 / tiny : 1 / d;
    c = 1 + aa / c;
    if (fabs(c) < tiny)
      c = tiny;
    del = d * c;
    h *= del;
    if (fabs(del - 1) < eps)
      break;
  }
  return h;
}

/* The regularized incomplete beta function I_x(a, b). */
static double beta_inc(double a, double b, double x) {
  double front;
  if (x <= 0)
    return 0;
  if (x >= 1)
    return 1;
  front =
      exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
  if (x < (a + 1) / (a + b + 2))
    return front * beta_cf(a, b, x) / a;
  return 1 - front * beta_cf(b, a, 1 - x) / b;
}

/* P(T <= t) for Student's t with df degrees of freedom. */
static double t_cdf(double t, double df) {
  double tail = 0.5 * beta_inc(df / 2, 0.5, df / (df + t * t));
  return t >= 0 ? 1 - tail : tail;
}

double exp_t_quantile(double p, double df) {
  double lo = 0, hi = 1, mid;
  int k;
  if (!(p > 0 && p < 1) || !(df > 0))
    return NAN;
  if (p < 0.5)
    return -exp_t_quantile(1 - p, df);
  while (t_cdf(hi, df) < p && hi < 1e300)
    hi *= 2;
  for (k = 0; k < 200 && hi - lo > 1e-15 * hi; k++) {
    mid = 0.5 * (lo + hi);
    if (t_cdf(mid, df) < p)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}
