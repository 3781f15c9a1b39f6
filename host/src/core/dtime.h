/*
** dtime.h -- model time units <-> ticks, as DESIGN's "Time" says. No Lua.
**
** Into ticks: whole units times R plus the rounded fraction times R
** (never round(d * R), which loses ticks once times grow large), and any
** duration > 0 is at least one tick, so that rounding never turns a
** positive wait into none. Out of ticks: ticks // R + (ticks % R) / R,
** the double nearest the exact time. R (ticks per unit) is >= 1.
*/
#ifndef DES_DTIME_H
#define DES_DTIME_H

#include "wheel.h"

/* Outcomes of a conversion into ticks (nothing is written on an error). */
enum dtime_status {
  DTIME_OK = 0,
  DTIME_ENAN = -1,   /* not a number */
  DTIME_EINF = -2,   /* +infinity */
  DTIME_ENEG = -3,   /* negative (-infinity too) */
  DTIME_ERANGE = -4, /* past the simulated clock's range */
  DTIME_EINVAL = -5  /* a resolution < 1 */
};

/* A duration of `units` (a double) as ticks at resolution R. */
int dtime_ticks(double units, int64_t R, des_time *out);

/* A whole number of units as ticks (exact, or DTIME_ENEG/ERANGE). */
int dtime_ticks_int(int64_t units, int64_t R, des_time *out);

/* ticks (>= 0) in units at resolution R. */
double dtime_units(des_time ticks, int64_t R);

/* Human-readable text for a DTIME_* outcome. */
const char *dtime_strerror(int code);

#endif
