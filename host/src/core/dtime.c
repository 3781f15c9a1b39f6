/*
** dtime.c -- model time units <-> ticks (see dtime.h and DESIGN "Time").
*/
#include "dtime.h"

#include <math.h>

int dtime_ticks(double d, int64_t R, des_time *out) {
  double whole, frac;
  int64_t w, f;
  int small;
  /* (one test for the common case: a NaN fails d >= 0) */
  if (!(d >= 0 && d < 0x1p31 && R >= 1 && R <= ((int64_t)1 << 31))) {
    if (R < 1)
      return DTIME_EINVAL;
    if (d != d)
      return DTIME_ENAN;
    if (d < 0)
      return DTIME_ENEG;
    if (d == HUGE_VAL)
      return DTIME_EINF;
  } else {
    /* The common case, as below but with no libm call (floor and round
    ** are calls without SSE4.1): truncation is floor for d >= 0; the
    ** scaled fraction x is below 2^31, so x - trunc(x) is exact and
    ** comparing it with 1/2 rounds half away from zero as round() does. */
    double x;
    w = (int64_t)d;
    x = (d - (double)w) * (double)R;
    f = (int64_t)x;
    if (x - (double)f >= 0.5)
      f++;
    if (f >= R) {
      w++;
      f = 0;
    }
    *out = w * R + f;
    if (*out == 0 && d > 0)
      *out = 1;
    return DTIME_OK;
  }
  whole = floor(d);
  /* below 2^31 units at a resolution up to 2^31, w * R + f <= 2^62 + f:
  ** nothing to check, and no division (two on every sleep otherwise) */
  small = whole < 0x1p31 && R <= ((int64_t)1 << 31);
  if (!small && (whole >= 0x1p63 || (int64_t)whole > DES_TIME_MAX / R))
    return DTIME_ERANGE;
  w = (int64_t)whole;
  /* d - whole is exact (Sterbenz); its product with R is < R, but may
  ** round up to R itself: then it carries into the whole units */
  frac = round((d - whole) * (double)R);
  if (frac >= (double)R) {
    w++;
    f = 0;
  } else
    f = (int64_t)frac;
  if (!small && w > (DES_TIME_MAX - f) / R)
    return DTIME_ERANGE;
  *out = w * R + f;
  if (*out == 0 && d > 0)
    *out = 1; /* a positive duration is never none */
  return DTIME_OK;
}

int dtime_ticks_int(int64_t units, int64_t R, des_time *out) {
  if (R < 1)
    return DTIME_EINVAL;
  if (units < 0)
    return DTIME_ENEG;
  if (units > DES_TIME_MAX / R)
    return DTIME_ERANGE;
  *out = units * R;
  return DTIME_OK;
}

/* Below 2^53 ticks and resolution both are exact doubles, so one correctly
** rounded division gives the double nearest the exact time; beyond,
** ticks // R + (ticks % R) / R keeps the whole units exact. */
double dtime_units(des_time ticks, int64_t R) {
  if (ticks < ((des_time)1 << 53) && R < ((int64_t)1 << 53))
    return (double)ticks / (double)R;
  return (double)(ticks / R) + (double)(ticks % R) / (double)R;
}

const char *dtime_strerror(int code) {
  switch (code) {
  case DTIME_OK:
    return "no error";
  case DTIME_ENAN:
    return "not a number";
  case DTIME_EINF:
    return "not finite";
  case DTIME_ENEG:
    return "negative";
  case DTIME_ERANGE:
    return "past the simulated clock's range";
  case DTIME_EINVAL:
    return "resolution below 1";
  default:
    return "unknown error";
  }
}
