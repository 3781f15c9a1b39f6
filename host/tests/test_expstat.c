/*
** test_expstat.c -- the statistics of an experiment's summary
** (host/src/cli/expstat.c): Student t quantiles against published values
** for small and large degrees of freedom and several levels, symmetry,
** and the running mean / sd against a two-pass computation.
*/
#include <math.h>

#include "check.h"
#include "experiment.h"

/* CHECK that exp_t_quantile(p, df) is want to 8 significant digits. */
static void expect_t(double p, double df, double want) {
  double got = exp_t_quantile(p, df);
  if (!(fabs(got - want) <= 1e-7 * fabs(want))) {
    fprintf(stderr, "  t(%g, %g) = %.10g; expected %.10g\n", p, df, got, want);
    failures++;
  }
}

static void test_quantiles(void) {
  /* R: qt(p, df) */
  expect_t(0.975, 1, 12.70620474);
  expect_t(0.975, 2, 4.302652730);
  expect_t(0.975, 3, 3.182446305);
  expect_t(0.975, 10, 2.228138852);
  expect_t(0.975, 30, 2.042272456);
  expect_t(0.975, 1000, 1.962339081);
  expect_t(0.995, 5, 4.032142984);
  expect_t(0.95, 19, 1.729132812);
  expect_t(0.9995, 4, 8.610301581);
  expect_t(0.025, 10, -2.228138852);
  CHECK(exp_t_quantile(0.5, 7) == 0 || fabs(exp_t_quantile(0.5, 7)) < 1e-12);
  CHECK(isnan(exp_t_quantile(1, 3)));
  CHECK(isnan(exp_t_quantile(0.9, 0)));
  /* large df: the normal quantile */
  expect_t(0.975, 1e7, 1.959964085);
}

static void test_running(void) {
  static const double x[] = {2.5, 3.25, -1, 1e6, 1e6 + 1, 7, 0.125};
  exp_stat s = {0, 0, 0};
  double mean = 0, ss = 0;
  int i, n = (int)(sizeof(x) / sizeof(x[0]));
  for (i = 0; i < n; i++) {
    exp_stat_add(&s, x[i]);
    mean += x[i];
  }
  mean /= n;
  for (i = 0; i < n; i++)
    ss += (x[i] - mean) * (x[i] - mean);
  CHECK(s.n == n);
  CHECK(fabs(s.mean - mean) < 1e-9);
  CHECK(fabs(exp_stat_sd(&s) - sqrt(ss / (n - 1))) < 1e-6);
  s.n = 1;
  CHECK(isnan(exp_stat_sd(&s)));
}

int main(void) {
  test_quantiles();
  test_running();
  if (failures)
    fprintf(stderr, "test_expstat: %d failure(s)\n", failures);
  return failures != 0;
}
