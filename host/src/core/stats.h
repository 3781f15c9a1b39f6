/*
** stats.h -- the one statistics core of deshost: tallies of observations
** (with quantiles and a histogram), time-weighted levels (with
** the time spent at each value), reset and merge. No Lua, no clock: time
** comes in as integer ticks passed by the caller at every call, results
** go out as doubles in ticks; the caller converts units. So a statistic
** holds no pointer into a simulation and stays readable after it closed.
**
** Monitors, resource/store/container statistics and replications are all
** bound to these (host/src/lua/lstats.c, ltally.c, llevel.c); the report
** format lives there.
**
** Numerics: tallies use Welford's update (on shifted data for the
** variance) and Chan's formula to merge. A level integrates value x dt
** over integer ticks: in int64 arithmetic while the value is an integer
** (exact, until it would overflow), otherwise with compensated (Neumaier)
** summation; the time at each value is counted in integer ticks, exactly.
** Quantiles (Hyndman and Fan's type 7) are exact up to STATS_EXACT_MAX
** observations, which are kept; past that they come from a DDSketch
** (ddsketch.h), each order statistic within a relative error of 1%.
**
** Functions that allocate do it through a des_allocf and return
** STATS_ENOMEM on failure, leaving the statistic as it was.
*/
#ifndef DES_STATS_H
#define DES_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "dalloc.h"
#include "ddsketch.h"

#define STATS_OK 0
#define STATS_ENOMEM (-1)
#define STATS_EBUSY (-2)

/* The allocator a statistic's arrays come from. */
typedef struct stats_alloc {
  des_allocf f;
  void *ud;
} stats_alloc;

/* {====================================================================
** Tallies
** ===================================================================== */

/* Observations kept exactly (for exact quantiles) up to this count; past
** it a tally's quantiles come from a DDSketch (ddsketch.h). */
#define STATS_EXACT_MAX 4096

/* A tally: count, mean, M2 (sum of squared deviations), min, max; with
** optional quantiles and histogram bins. M2 is accumulated on the
** observations shifted by the first one (smean: their mean), so a large
** common offset (times near 1e9) costs no precision.
**
** With quantiles, the tally keeps its distribution: the observations
** themselves (obs, unsorted until asked) up to STATS_EXACT_MAX, then
** (sketching) a DDSketch of them all. `lost` counts the observations the
** distribution missed (out of memory): its quantiles are then unknown. */
typedef struct stats_tally {
  uint64_t count;
  double mean, m2, min, max;
  double shift, smean;
  double *ps;    /* nquant probabilities to report, or NULL */
  double *obs;   /* nobs observations (room for capobs), while exact */
  dds_sketch sk; /* when sketching */
  uint64_t lost;
  double *edges;  /* nedges increasing bin edges, or NULL */
  uint64_t *bins; /* nedges + 1 counts: bin i is [edges[i-1], edges[i]) */
  uint32_t nquant, nobs, capobs, nedges;
  int keep;      /* keeping the distribution */
  int sorted;    /* obs is sorted */
  int sketching; /* past STATS_EXACT_MAX: the distribution is sk */
  stats_alloc a;
} stats_tally;

/* An empty tally without quantiles or histogram (never fails). */
void stats_tally_init(stats_tally *t, stats_alloc a);

/* Add quantiles for the probabilities ps[0..n) (each in [0, 1]) and a
** histogram with the edges[0..nedges) (increasing, not NaN); either count
** may be 0. Call once, on a fresh tally. */
int stats_tally_setup(stats_tally *t, const double *ps, uint32_t n,
                      const double *edges, uint32_t nedges);

/* Keep the distribution from now on and report the quantiles ps[0..n)
** (replacing any before; n may be 0). Only without observations (fresh or
** reset): STATS_EBUSY otherwise. STATS_ENOMEM leaves t as it was. */
int stats_tally_quantiles(stats_tally *t, const double *ps, uint32_t n);

/* Free the arrays; the tally is then empty and without options. */
void stats_tally_free(stats_tally *t);

/* Record x (not NaN). STATS_ENOMEM when the distribution could not keep
** it: x is counted all the same (count, mean, ...), and in `lost`. */
int stats_tally_add(stats_tally *t, double x);

/* Forget every observation, keeping the options. */
void stats_tally_reset(stats_tally *t);

/* Fold `from` into `into` (count, mean, variance, min, max, histogram when
** both have the same edges, the distribution when both keep one). Check
** stats_tally_can_merge first. STATS_ENOMEM: the distribution could not
** take all of `from` (counted in `lost`); the rest is merged. */
int stats_tally_merge(stats_tally *into, const stats_tally *from);

/* Can `from` be merged into `into` without losing the quantiles of
** `into`? (No when `into` keeps a distribution and `from` does not.) */
int stats_tally_can_merge(const stats_tally *into, const stats_tally *from);

/* The sample variance M2 / (n - 1); NaN below 2 observations. */
double stats_tally_variance(const stats_tally *t);

/* The p-quantile (p in [0, 1]) by the definition of Hyndman and Fan's
** type 7 (R's and numpy's default): with the observations sorted,
** x[0] <= ... <= x[n-1], h = (n - 1) p, it is x[floor h] + (h - floor h)
** (x[floor h + 1] - x[floor h]). Exact while the tally has kept its
** observations (up to STATS_EXACT_MAX); past that the same formula on the
** sketch's order statistics, each within DDS_ALPHA (relatively) of the
** true one, and x[0], x[n-1] exact (min and max). NaN without
** observations, without a distribution, or when some were lost. Sorts the
** kept observations (hence not const). */
double stats_tally_quantile_at(stats_tally *t, double p);

/* The quantile of the i-th probability given (NaN when none). */
double stats_tally_quantile(stats_tally *t, uint32_t i);

/* }==================================================================== */

/* {====================================================================
** Time-weighted levels
** ===================================================================== */

/* The time spent at each value: dense for the integers 0..ndense-1, an
** open-addressing table of (value, ticks) for the others. */
typedef struct stats_at_slot {
  double v;
  int64_t ticks;
  int used;
} stats_at_slot;

typedef struct stats_level {
  double value, min, max;
  int64_t iarea;     /* sum of value x dt (ticks) while value is an integer */
  double area, comp; /* the rest of the sum, and its compensation */
  int64_t ivalue;    /* value, when isint */
  int isint;         /* value is an integer of magnitude <= 2^32 */
  int64_t since;     /* integrated up to here */
  int64_t start;     /* the statistics start here (creation or reset) */
  int keep_at;       /* counting the time at each value */
  int64_t *dense;    /* time at 0, 1, ..., ndense-1 */
  uint32_t ndense;
  stats_at_slot *slots; /* nslots (a power of 2) slots, nused used */
  uint32_t nslots, nused;
  int64_t *cur; /* where the time at the current value goes, or NULL */
  struct stats_series *series; /* the bounded history, or NULL */
  stats_alloc a;
} stats_level;

/* A level at `value` from tick `now`; keep_at: count the time at each
** value. Fails only when keep_at and the first slot cannot be made. */
int stats_level_init(stats_level *l, stats_alloc a, int64_t now, double value,
                     int keep_at);

void stats_level_free(stats_level *l);

/* Make sure the time at value v can be counted without allocating (so a
** later set to v cannot fail); STATS_ENOMEM leaves l as it was. Inline:
** resources reserve on every request, nearly always a small count that
** is already there. */
int stats_level_reserve_slow(stats_level *l, double v);
static inline int stats_level_reserve(stats_level *l, double v) {
  if (!l->keep_at ||
      (v >= 0 && v < (double)l->ndense && (double)(uint32_t)v == v))
    return STATS_OK;
  return stats_level_reserve_slow(l, v);
}

/* stats_level_reserve for a count n. */
static inline int stats_level_reserve_count(stats_level *l, uint64_t n) {
  if (!l->keep_at || n < l->ndense)
    return STATS_OK;
  return stats_level_reserve_slow(l, (double)n);
}

/* Integrate the current value up to `now` (earlier times are ignored). */
void stats_level_advance(stats_level *l, int64_t now);

/* Set the level to v (not NaN) from `now` on. Returns STATS_ENOMEM if the
** time at v cannot be counted (the level is still set; the time at v is
** then lost): call stats_level_reserve first to fail before changing. */
int stats_level_set(stats_level *l, int64_t now, double v);

/* stats_level_set(l, now, (double)n) for a count n, inline (below): a
** resource sets its queue and busy counts several times per request. */
static inline int stats_level_set_count(stats_level *l, int64_t now,
                                        uint64_t n);

/* Start afresh from `now` at the current value (e.g. after a warm-up). */
void stats_level_reset(stats_level *l, int64_t now);

/* After stats_level_advance(l, now): the time covered, in ticks, and the
** time-weighted mean (the current value when no time has passed). */
int64_t stats_level_duration(const stats_level *l);
double stats_level_mean(const stats_level *l);

/* Visit the time at each value with nonzero time, in increasing order of
** value for the dense part, then the others in table order. */
void stats_level_each_at(const stats_level *l,
                         void (*f)(void *ctx, double v, int64_t ticks),
                         void *ctx);

/* }==================================================================== */

/* {====================================================================
** Time series of a level: its history in bounded memory
** =====================================================================
** The time since the series' origin is cut into at most `cap` buckets
** of 2^shift ticks each; when the clock passes the last one, neighbours
** merge pairwise and the width doubles. A bucket keeps the min and max of
** every value the level held in it (even for no time: peaks are never
** lost), the integral of value x dt (so its time-weighted mean), and the
** last value. Fed by stats_level_advance / stats_level_set. The buckets
** grow by doubling as the clock passes them, from STATS_SERIES_FIRST up to
** the cap (a level that never changes costs a few hundred bytes, not the
** cap's worth); a growth the allocator refuses merges instead, so a set
** never fails: the series is then coarser than the cap allows, but still
** exact in min, max and area. */

typedef struct stats_bucket {
  double min, max, last, area;
} stats_bucket;

typedef struct stats_series {
  stats_bucket *b;
  uint32_t cap, n; /* buckets allocated, in use (b[n-1]: the current one) */
  uint32_t max;    /* most buckets ever allocated (the cap asked for) */
  int shift;       /* bucket width: 2^shift ticks */
  int64_t origin;  /* start of b[0] */
  stats_alloc a;   /* the level's allocator, for growing */
} stats_series;

#define STATS_SERIES_BUCKETS 512 /* default number of buckets */
#define STATS_SERIES_FIRST 8     /* buckets allocated at first */

/* Keep the history of l from its current time on, in at most `cap`
** (>= 2, even) buckets. Call once; STATS_ENOMEM leaves l without one. */
int stats_level_keep_series(stats_level *l, uint32_t cap);

/* One bucket as read: [t0, t1) in ticks (t1: the level's clock for the
** last bucket), min, max, time-weighted mean (the last value when t1 ==
** t0) and last value. */
typedef struct stats_point {
  int64_t t0, t1;
  double min, max, mean, last;
} stats_point;

/* After stats_level_advance(l, now): the number of buckets (0 without a
** series) and bucket i of them. */
uint32_t stats_level_series_len(const stats_level *l);
stats_point stats_level_series_at(const stats_level *l, uint32_t i);

/* Internal to the core (stats.c calls them, series.c has them): the value
** x was held over [since, now); the level becomes v at now; restart the
** series at now (a reset); free it. Holding and setting inside the current
** bucket (nearly every change) are inline: resources set their levels
** several times per request; the rest is series.c's walks. */
void stats_series_hold_walk(stats_series *s, int64_t since, int64_t now,
                            double x);
void stats_series_set_walk(stats_series *s, int64_t now, double v);
void stats_series_reset(stats_series *s, int64_t now, double v);
void stats_series_free(stats_level *l);

/* fmin and fmax with their NaN rule (a NaN argument loses), without a
** libm call. */
static inline double stats_series_min(double a, double b) {
  return (b < a || a != a) ? b : a;
}

static inline double stats_series_max(double a, double b) {
  return (b > a || a != a) ? b : a;
}

/* The bucket of tick t (>= origin) without merging: >= cap when past the
** last one. */
static inline uint64_t stats_series_bucket_of(const stats_series *s,
                                              int64_t t) {
  return (uint64_t)(t - s->origin) >> s->shift;
}

/* Hold x over [since, now) inside the current bucket (the walk's arithmetic
** for one bucket: lo = since, hi = now), else walk. The current bucket saw
** x already (x is the level's value: set there, or the bucket opened with
** it), so its min, max and last stay as they are. */
static inline void stats_series_hold(stats_series *s, int64_t since,
                                     int64_t now, double x) {
  uint64_t cur = (uint64_t)s->n - 1;
  if (now > since && stats_series_bucket_of(s, since) == cur &&
      stats_series_bucket_of(s, now - 1) == cur)
    s->b[cur].area += x * (double)(now - since);
  else
    stats_series_hold_walk(s, since, now, x);
}

/* Set v at now inside the current bucket, else walk. */
static inline void stats_series_set(stats_series *s, int64_t now, double v) {
  if (stats_series_bucket_of(s, now) == (uint64_t)s->n - 1) {
    stats_bucket *b = &s->b[s->n - 1];
    b->min = stats_series_min(b->min, v);
    b->max = stats_series_max(b->max, v);
    b->last = v;
  } else
    stats_series_set_walk(s, now, v);
}

/* {====================================================================
** Inline hot paths of levels (internal to the core, but for the callers
** of stats_level_set_count)
** ===================================================================== */

/* Add x to the compensated area (stats.c). */
void stats_level_accumulate(stats_level *l, double x);

/* stats_level_advance: value x dt into iarea exactly, or (fractions,
** overflow) into the compensated area; the time at the value; the series. */
static inline void stats_level_advance_to(stats_level *l, int64_t now) {
  int64_t dt, p, sum;
  if (now <= l->since)
    return;
  dt = now - l->since;
  if (l->isint && !__builtin_mul_overflow(l->ivalue, dt, &p) &&
      !__builtin_add_overflow(l->iarea, p, &sum))
    l->iarea = sum;
  else
    stats_level_accumulate(l, l->value * (double)dt);
  if (l->cur != NULL)
    *l->cur += dt;
  if (l->series != NULL)
    stats_series_hold(l->series, l->since, now, l->value);
  l->since = now;
}

/* What stats_level_set does for v = n, when n is an integer it counts the
** time at in the dense array (or keeps no time at each value): the same
** fields, without the double's checks. */
static inline int stats_level_set_count(stats_level *l, int64_t now,
                                        uint64_t n) {
  double v;
  if (n > 4294967296u || (l->keep_at && n >= l->ndense))
    return stats_level_set(l, now, (double)n);
  v = (double)(int64_t)n; /* (cheaper than from unsigned) */
  stats_level_advance_to(l, now);
  l->value = v;
  l->ivalue = (int64_t)n;
  l->isint = 1;
  if (l->series != NULL)
    stats_series_set(l->series, l->since, v);
  if (v > l->max)
    l->max = v;
  if (v < l->min)
    l->min = v;
  if (l->keep_at)
    l->cur = &l->dense[n];
  return STATS_OK;
}

/* }==================================================================== */

#endif
