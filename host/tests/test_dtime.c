/*
** test_dtime.c -- units <-> ticks (core/dtime.c) against DESIGN "Time":
** exact cases, the errors, "a positive duration is at least one tick",
** the carry of a fraction that rounds up to a whole unit, and a round
** trip ticks -> units -> ticks over many random times and resolutions.
*/
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "dtime.h"

/* CHECK that dtime_ticks(d, R) gives want (an outcome, and ticks if OK). */
static void expect(double d, int64_t R, int want, des_time ticks) {
  des_time got = -7;
  int rc = dtime_ticks(d, R, &got);
  if (rc != want || (want == DTIME_OK && got != ticks) ||
      (want != DTIME_OK && got != -7)) {
    fprintf(stderr,
            "  dtime_ticks(%.17g, %lld) = %d, %lld; expected %d, %lld\n", d,
            (long long)R, rc, (long long)got, want, (long long)ticks);
    failures++;
  }
}

static void test_exact(void) {
  expect(0, 1000, DTIME_OK, 0);
  expect(-0.0, 1000, DTIME_OK, 0);
  expect(1, 1000, DTIME_OK, 1000);
  expect(1.5, 1000, DTIME_OK, 1500);
  expect(0.25, 1000000000, DTIME_OK, 250000000);
  expect(3, 1, DTIME_OK, 3);
  expect(2.5, 1, DTIME_OK, 3); /* half away from zero */
  expect(1e6 + 0.5, 1000000000, DTIME_OK, 1000000500000000);
  /* whole units times R plus the rounded fraction: exact far out, where
  ** round(d * R) is off (2^33 units at 10^9: d * R is not exact) */
  expect(8589934592.25, 1000000000, DTIME_OK, 8589934592250000000);
  expect(9223372036.0, 1000000000, DTIME_OK, 9223372036000000000);
}

/* Any duration > 0 is at least one tick, whatever the resolution. */
static void test_positive_is_one_tick(void) {
  static const double tiny[] = {1e-9,   1e-12,  4e-4,      4.9999e-4,
                                1e-300, 5e-324, 0x1p-1074, 1e-18};
  size_t i;
  for (i = 0; i < sizeof(tiny) / sizeof(tiny[0]); i++) {
    expect(tiny[i], 1000, DTIME_OK, 1);
    expect(tiny[i], 1, DTIME_OK, 1);
  }
  expect(1e-9, 1000000000, DTIME_OK, 1);
  expect(1e-10, 1000000000, DTIME_OK, 1);
  expect(0.4, 1, DTIME_OK, 1);
  expect(1.4, 1, DTIME_OK, 1); /* rounds down, but is not zero */
}

static void test_errors(void) {
  expect(NAN, 1000, DTIME_ENAN, 0);
  expect(-NAN, 1000, DTIME_ENAN, 0);
  expect(INFINITY, 1000, DTIME_EINF, 0);
  expect(-INFINITY, 1000, DTIME_ENEG, 0);
  expect(-1e-300, 1000, DTIME_ENEG, 0);
  expect(-1, 1000, DTIME_ENEG, 0);
  expect(1e300, 1000, DTIME_ERANGE, 0);
  expect(0x1p63, 1, DTIME_ERANGE, 0);
  expect(9223372037.0, 1000000000, DTIME_ERANGE, 0);
  expect(9223372036.8547764, 1000000000, DTIME_ERANGE, 0);
  expect(1, 0, DTIME_EINVAL, 0);
  expect(1, -5, DTIME_EINVAL, 0);
  CHECK(dtime_strerror(DTIME_ERANGE)[0] != '\0');
  CHECK(dtime_strerror(12345)[0] != '\0');
}

/* The edges of the common case's one test (d in [0, 2^31), R in [1,
** 2^31]): the same answers on either side, and the errors in the same
** order as before it (a bad resolution first, then NaN, sign, infinity). */
static void test_fast_path_edges(void) {
  expect(-0.0, 1000, DTIME_OK, 0);
  expect(0.0, 1, DTIME_OK, 0);
  expect(NAN, 0, DTIME_EINVAL, 0);
  expect(-1, 0, DTIME_EINVAL, 0);
  expect(INFINITY, -1, DTIME_EINVAL, 0);
  expect(-NAN, 1, DTIME_ENAN, 0);
  expect(-INFINITY, 1, DTIME_ENEG, 0);
  expect(0x1p31 - 0.5, 1, DTIME_OK, 0x80000000LL);
  expect(0x1p31, 1, DTIME_OK, 0x80000000LL);
  expect(0x1p31 + 1, 1, DTIME_OK, 0x80000001LL);
  expect(1.5, ((int64_t)1 << 31), DTIME_OK, 3LL << 30);
  expect(1.5, ((int64_t)1 << 31) + 2, DTIME_OK,
         (((int64_t)1 << 31) + 2) * 3 / 2);
  expect(2.25, 4, DTIME_OK, 9);
}

/* A fraction that rounds up to R carries into the whole units. */
static void test_carry(void) {
  double below_one = nextafter(1.0, 0.0);
  expect(below_one, 1000, DTIME_OK, 1000);
  expect(2 + (1.0 - 0x1p-51), 1000, DTIME_OK, 3000);
  expect(below_one, INT64_MAX, DTIME_OK, INT64_MAX - 1023);
  expect(1.0, INT64_MAX, DTIME_OK, INT64_MAX);
  expect(0.5, INT64_MAX, DTIME_OK, (des_time)4611686018427387904);
}

static void test_integers(void) {
  des_time t = -7;
  CHECK(dtime_ticks_int(5, 1000000000, &t) == DTIME_OK && t == 5000000000);
  CHECK(dtime_ticks_int(0, 1000, &t) == DTIME_OK && t == 0);
  CHECK(dtime_ticks_int(-1, 1000, &t) == DTIME_ENEG);
  CHECK(dtime_ticks_int(INT64_MIN, 1000, &t) == DTIME_ENEG);
  CHECK(dtime_ticks_int(INT64_MAX / 1000 + 1, 1000, &t) == DTIME_ERANGE);
  CHECK(dtime_ticks_int(INT64_MAX / 1000, 1000, &t) == DTIME_OK &&
        t == INT64_MAX / 1000 * 1000);
  CHECK(dtime_ticks_int(INT64_MAX, 1, &t) == DTIME_OK && t == INT64_MAX);
  CHECK(dtime_ticks_int(1, 0, &t) == DTIME_EINVAL);
}

/* Out of ticks: ticks // R + (ticks % R) / R, exact in the whole units. */
static void test_units(void) {
  CHECK(dtime_units(0, 1000) == 0);
  CHECK(dtime_units(1500, 1000) == 1.5);
  CHECK(dtime_units(1, 1000000000) == 1e-9);
  CHECK(dtime_units(INT64_MAX, 1000000000) == 9223372036.0 + 854775807.0 / 1e9);
  CHECK(dtime_units(((des_time)1 << 60) + 3, 1000) ==
        (double)(((des_time)1 << 60) / 1000) +
            (double)((((des_time)1 << 60) + 3) % 1000) / 1000);
}

/* ticks -> units -> ticks is the identity below 2^51 ticks. */
static void test_round_trip(void) {
  static const int64_t res[] = {1, 7, 1000, 1000000, 1000000000, 3600000000};
  uint64_t x = 0x9e3779b97f4a7c15u;
  size_t r;
  int i;
  for (r = 0; r < sizeof(res) / sizeof(res[0]); r++) {
    for (i = 0; i < 200000; i++) {
      des_time t, back = -1;
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      t = (des_time)(x >> (13 + (unsigned)(i % 40)));
      if (dtime_ticks(dtime_units(t, res[r]), res[r], &back) != DTIME_OK ||
          (back != t && !(t == 0 && back == 0))) {
        fprintf(stderr, "  round trip of %lld at R=%lld gave %lld\n",
                (long long)t, (long long)res[r], (long long)back);
        failures++;
        break;
      }
    }
  }
}

/* dtime_ticks as it was before its fast path (every case checked by
** divisions): the reference around the fast path's bounds. */
static int ref_ticks(double d, int64_t R, des_time *out) {
  double whole = floor(d), frac;
  int64_t w, f;
  if (whole >= 0x1p63 || (int64_t)whole > INT64_MAX / R)
    return DTIME_ERANGE;
  w = (int64_t)whole;
  frac = round((d - whole) * (double)R);
  if (frac >= (double)R) {
    w++;
    f = 0;
  } else
    f = (int64_t)frac;
  if (w > (INT64_MAX - f) / R)
    return DTIME_ERANGE;
  *out = w * R + f;
  if (*out == 0 && d > 0)
    *out = 1;
  return DTIME_OK;
}

/* Below 2^31 units at resolutions up to 2^31 nothing is checked (no
** overflow is possible): the same results as the checked path on both
** sides of both bounds, with fractions that carry. */
static void test_fast_path_bounds(void) {
  static const int64_t res[] = {1,
                                1000,
                                1000000000,
                                ((int64_t)1 << 31) - 1,
                                (int64_t)1 << 31,
                                ((int64_t)1 << 31) + 1,
                                (int64_t)1 << 32,
                                (int64_t)1 << 33,
                                INT64_MAX / 3,
                                INT64_MAX};
  static const double base[] = {0x1p31 - 1,   0x1p31, 0x1p31 + 1,
                                0x1p32 - 1,   0x1p32, 0x1p33,
                                4294967295.5, 1,      0};
  static const double frac[] = {0, 0.25, 0.5, 0.999999, 1 - 0x1p-21};
  size_t r, b, k;
  for (r = 0; r < sizeof(res) / sizeof(res[0]); r++)
    for (b = 0; b < sizeof(base) / sizeof(base[0]); b++)
      for (k = 0; k < sizeof(frac) / sizeof(frac[0]); k++) {
        double d = base[b] + frac[k];
        des_time want = -7;
        int rc = ref_ticks(d, res[r], &want);
        expect(d, res[r], rc, want);
      }
}

/* The fast path rounds without libm (truncation, and the exact fraction
** of the scaled remainder against one half): the same ticks as floor and
** round (ref_ticks) for random durations, for durations of exactly a half
** tick and one ulp either side, and for exponential delays as PHOLD draws
** them. */
static void test_fast_path_random(void) {
  static const int64_t res[] = {
      1, 2, 3, 1000, 1000000, 1000000000, 3600000000, (int64_t)1 << 31};
  uint64_t x = 0x853c49e6748fea9bu;
  size_t r;
  int i;
  for (r = 0; r < sizeof(res) / sizeof(res[0]); r++) {
    double R = (double)res[r];
    for (i = 0; i < 100000; i++) {
      double d, u;
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      u = (double)(x >> 11) * 0x1p-53;
      switch (i % 5) {
      case 0: /* anywhere below 2^32 units */
        d = ldexp(u, (int)(x % 33));
        break;
      case 1: /* exactly half a tick past a whole number of ticks */
        d = ((double)(x % 1000000) + 0.5) / R;
        break;
      case 2:
        d = nextafter(((double)(x % 1000000) + 0.5) / R, 0);
        break;
      case 3:
        d = nextafter(((double)(x % 1000000) + 0.5) / R, 1e300);
        break;
      default: /* PHOLD's delays */
        d = -log(u > 0 ? u : 0x1p-53) + 0.00001;
        break;
      }
      {
        des_time want = -7;
        int rc = ref_ticks(d, res[r], &want);
        expect(d, res[r], rc, want);
      }
    }
  }
}

int main(void) {
  test_exact();
  test_positive_is_one_tick();
  test_errors();
  test_fast_path_edges();
  test_carry();
  test_integers();
  test_units();
  test_round_trip();
  test_fast_path_bounds();
  test_fast_path_random();
  if (failures != 0) {
    fprintf(stderr, "test_dtime: %d check(s) failed\n", failures);
    return 1;
  }
  printf("test_dtime: all checks passed\n");
  return 0;
}
