/*
** stats.c -- tallies, quantiles, histograms and time-weighted levels.
** See stats.h.
*/
#include "stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Integer levels below this are counted in the dense array. */
#define STATS_DENSE_MAX 65536u

/* Resize an array through the statistic's allocator; NULL on failure
** (nsize > 0) or after freeing (nsize == 0). */
static void *stats_realloc(stats_alloc a, void *p, size_t osize, size_t nsize) {
  return a.f(a.ud, p, osize, nsize);
}

/* {====================================================================
** The distribution: kept observations, then a DDSketch
** ===================================================================== */

/* Resize the observations' array to cap (0: free). */
static int obs_resize(stats_tally *t, uint32_t cap) {
  double *p = stats_realloc(t->a, t->obs, sizeof(double) * t->capobs,
                            sizeof(double) * cap);
  if (p == NULL && cap > 0)
    return STATS_ENOMEM;
  t->obs = p;
  t->capobs = cap;
  return STATS_OK;
}

/* Forget the distribution (keeping a small array for the next ones). */
static void dist_clear(stats_tally *t) {
  if (t->sketching)
    dds_free(&t->sk);
  t->sketching = 0;
  if (t->capobs > 64)
    obs_resize(t, 0);
  t->nobs = 0;
  t->sorted = 1;
  t->lost = 0;
}

/* Move the kept observations into the sketch, then free them. */
static int dist_to_sketch(stats_tally *t) {
  uint32_t i;
  dds_init(&t->sk, t->a.f, t->a.ud);
  for (i = 0; i < t->nobs; i++)
    if (dds_add(&t->sk, t->obs[i], 1) != 0) {
      dds_free(&t->sk);
      return STATS_ENOMEM;
    }
  t->sketching = 1;
  obs_resize(t, 0);
  t->nobs = 0;
  return STATS_OK;
}

/* Add x to the distribution, k times; the array doubles as it fills (from
** 16), the sketch takes over past STATS_EXACT_MAX. */
static int dist_add(stats_tally *t, double x, uint64_t k) {
  if (!t->sketching && t->nobs + k > STATS_EXACT_MAX &&
      dist_to_sketch(t) != STATS_OK)
    return STATS_ENOMEM;
  if (t->sketching)
    return dds_add(&t->sk, x, k) == 0 ? STATS_OK : STATS_ENOMEM;
  if (t->nobs + k > t->capobs) {
    uint32_t cap = t->capobs ? t->capobs : 16;
    while (cap < t->nobs + k)
      cap *= 2;
    if (cap > STATS_EXACT_MAX)
      cap = STATS_EXACT_MAX;
    if (obs_resize(t, cap) != STATS_OK)
      return STATS_ENOMEM;
  }
  t->sorted = t->sorted && (t->nobs == 0 || t->obs[t->nobs - 1] <= x);
  while (k-- > 0)
    t->obs[t->nobs++] = x;
  return STATS_OK;
}

/* Order for qsort (no NaN is ever kept). */
static int dist_cmp(const void *pa, const void *pb) {
  double a = *(const double *)pa, b = *(const double *)pb;
  return (a > b) - (a < b);
}

/* The order statistic of rank r (from 0) of the distribution. */
static double dist_rank(stats_tally *t, uint64_t r) {
  if (r == 0)
    return t->min;
  if (r + 1 == t->count)
    return t->max;
  if (t->sketching) {
    double v = dds_rank(&t->sk, r); /* within [min, max]: closer to truth */
    return v < t->min ? t->min : v > t->max ? t->max : v;
  }
  return t->obs[r];
}

double stats_tally_quantile_at(stats_tally *t, double p) {
  double h, frac, lo, hi;
  uint64_t k;
  if (!t->keep || t->count == 0 || t->lost > 0 || !(p >= 0 && p <= 1))
    return NAN;
  if (!t->sketching && !t->sorted) {
    qsort(t->obs, t->nobs, sizeof(double), dist_cmp);
    t->sorted = 1;
  }
  h = (double)(t->count - 1) * p;
  k = (uint64_t)h;
  if (k >= t->count - 1)
    return t->max;
  frac = h - (double)k;
  lo = dist_rank(t, k);
  if (frac == 0)
    return lo;
  hi = dist_rank(t, k + 1);
  if (lo == hi || isinf(lo))
    return lo;
  if (isinf(hi))
    return hi;
  h = lo + frac * (hi - lo);
  return h < lo ? lo : h > hi ? hi : h;
}

double stats_tally_quantile(stats_tally *t, uint32_t i) {
  return i < t->nquant ? stats_tally_quantile_at(t, t->ps[i]) : NAN;
}

/* }==================================================================== */

/* {====================================================================
** Tallies
** ===================================================================== */

void stats_tally_init(stats_tally *t, stats_alloc a) {
  memset(t, 0, sizeof(*t));
  t->a = a;
  t->min = HUGE_VAL;
  t->max = -HUGE_VAL;
  t->sorted = 1;
  dds_init(&t->sk, a.f, a.ud);
}

int stats_tally_quantiles(stats_tally *t, const double *ps, uint32_t n) {
  double *p = NULL;
  if (t->count > 0)
    return STATS_EBUSY;
  if (n > 0 && (p = stats_realloc(t->a, NULL, 0, sizeof(double) * n)) == NULL)
    return STATS_ENOMEM;
  if (n > 0)
    memcpy(p, ps, sizeof(double) * n);
  if (t->ps)
    stats_realloc(t->a, t->ps, sizeof(double) * t->nquant, 0);
  t->ps = p;
  t->nquant = n;
  t->keep = 1;
  return STATS_OK;
}

int stats_tally_setup(stats_tally *t, const double *ps, uint32_t n,
                      const double *edges, uint32_t nedges) {
  double *e = NULL;
  uint64_t *bins = NULL;
  if (nedges > 0) {
    e = stats_realloc(t->a, NULL, 0, sizeof(double) * nedges);
    bins = e ? stats_realloc(t->a, NULL, 0, sizeof(uint64_t) * (nedges + 1))
             : NULL;
    if (bins == NULL) {
      if (e)
        stats_realloc(t->a, e, sizeof(double) * nedges, 0);
      return STATS_ENOMEM;
    }
    memcpy(e, edges, sizeof(double) * nedges);
    memset(bins, 0, sizeof(uint64_t) * (nedges + 1));
  }
  if (n > 0 && stats_tally_quantiles(t, ps, n) != STATS_OK) {
    if (e) {
      stats_realloc(t->a, e, sizeof(double) * nedges, 0);
      stats_realloc(t->a, bins, sizeof(uint64_t) * (nedges + 1), 0);
    }
    return STATS_ENOMEM;
  }
  t->edges = e;
  t->bins = bins;
  t->nedges = nedges;
  return STATS_OK;
}

void stats_tally_free(stats_tally *t) {
  dist_clear(t);
  obs_resize(t, 0);
  if (t->ps)
    stats_realloc(t->a, t->ps, sizeof(double) * t->nquant, 0);
  if (t->edges)
    stats_realloc(t->a, t->edges, sizeof(double) * t->nedges, 0);
  if (t->bins)
    stats_realloc(t->a, t->bins, sizeof(uint64_t) * (t->nedges + 1), 0);
  stats_tally_init(t, t->a);
}

/* The bin of x: 0 below edges[0], i for [edges[i-1], edges[i]), nedges
** from the last edge on (binary search). */
static uint32_t tally_bin(const stats_tally *t, double x) {
  uint32_t lo = 0, hi = t->nedges;
  while (lo < hi) {
    uint32_t mid = (lo + hi + 1) / 2;
    if (x >= t->edges[mid - 1])
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

/* Welford's update (the mean as it always was, M2 on the data shifted by
** the first observation), then the distribution and the histogram. */
int stats_tally_add(stats_tally *t, double x) {
  double d = x - t->mean, y, ds;
  int r = STATS_OK;
  if (t->count == 0)
    t->shift = x;
  t->count++;
  t->mean += d / (double)t->count;
  y = x - t->shift;
  ds = y - t->smean;
  t->smean += ds / (double)t->count;
  t->m2 += ds * (y - t->smean);
  if (x < t->min)
    t->min = x;
  if (x > t->max)
    t->max = x;
  if (t->keep && dist_add(t, x, 1) != STATS_OK) {
    t->lost++;
    r = STATS_ENOMEM;
  }
  if (t->bins)
    t->bins[tally_bin(t, x)]++;
  return r;
}

void stats_tally_reset(stats_tally *t) {
  t->count = 0;
  t->mean = t->m2 = t->shift = t->smean = 0;
  t->min = HUGE_VAL;
  t->max = -HUGE_VAL;
  dist_clear(t);
  if (t->bins)
    memset(t->bins, 0, sizeof(uint64_t) * (t->nedges + 1));
}

int stats_tally_can_merge(const stats_tally *into, const stats_tally *from) {
  return !into->keep || from->keep || from->count == 0;
}

/* Add the distribution of `from` to that of `into`: its kept
** observations, or its sketch (into's becomes one if needed). */
static int dist_merge(stats_tally *into, const stats_tally *from) {
  uint64_t before;
  uint32_t i;
  if (from->lost > 0 || !from->keep) {
    into->lost += from->count;
    return STATS_ENOMEM;
  }
  if (!from->sketching) {
    for (i = 0; i < from->nobs; i++)
      if (dist_add(into, from->obs[i], 1) != STATS_OK) {
        into->lost += from->nobs - i;
        return STATS_ENOMEM;
      }
    return STATS_OK;
  }
  if (!into->sketching && dist_to_sketch(into) != STATS_OK) {
    into->lost += from->count;
    return STATS_ENOMEM;
  }
  before = into->sk.n;
  if (dds_merge(&into->sk, &from->sk) == 0)
    return STATS_OK;
  into->lost += from->count - (into->sk.n - before); /* the part not taken */
  return STATS_ENOMEM;
}

/* Chan, Golub and LeVeque's pairwise combination of mean and M2; the
** difference of the means is taken between the shifted means. */
int stats_tally_merge(stats_tally *into, const stats_tally *from) {
  double na = (double)into->count, nb = (double)from->count, n, d;
  int r = STATS_OK;
  if (from->count == 0)
    return STATS_OK;
  if (into->keep)
    r = dist_merge(into, from);
  if (into->count == 0) {
    into->mean = from->mean;
    into->m2 = from->m2;
    into->shift = from->shift;
    into->smean = from->smean;
  } else {
    n = na + nb;
    d = (from->shift - into->shift) + (from->smean - into->smean);
    into->mean += d * (nb / n);
    into->smean += d * (nb / n);
    into->m2 += from->m2 + d * d * (na * (nb / n));
  }
  into->count += from->count;
  if (from->min < into->min)
    into->min = from->min;
  if (from->max > into->max)
    into->max = from->max;
  if (into->bins && from->bins && into->nedges == from->nedges &&
      memcmp(into->edges, from->edges, sizeof(double) * into->nedges) == 0) {
    uint32_t i;
    for (i = 0; i <= into->nedges; i++)
      into->bins[i] += from->bins[i];
  }
  return r;
}

double stats_tally_variance(const stats_tally *t) {
  return t->count > 1 ? t->m2 / (double)(t->count - 1) : NAN;
}

/* }==================================================================== */

/* {====================================================================
** Time at each value
** ===================================================================== */

/* Is v an integer the dense array counts? */
static inline int at_dense(double v, uint32_t *idx) {
  if (v >= 0 && v < STATS_DENSE_MAX) {
    *idx = (uint32_t)v;
    return (double)*idx == v;
  }
  return 0;
}

/* The slot of v in the table (its own or the free one where it goes). */
static stats_at_slot *at_find(stats_at_slot *slots, uint32_t nslots, double v) {
  uint64_t bits;
  uint32_t i;
  if (v == 0)
    v = 0; /* -0 and 0 are one value */
  memcpy(&bits, &v, sizeof(bits));
  bits ^= bits >> 29;
  bits *= 0xbf58476d1ce4e5b9ull;
  bits ^= bits >> 32;
  for (i = (uint32_t)bits & (nslots - 1);; i = (i + 1) & (nslots - 1))
    if (!slots[i].used || slots[i].v == v)
      return &slots[i];
}

/* Grow the dense array to hold idx. */
static int at_grow_dense(stats_level *l, uint32_t idx) {
  uint32_t n = l->ndense ? l->ndense : 8;
  int64_t *p;
  while (n <= idx)
    n *= 2;
  if (n > STATS_DENSE_MAX)
    n = STATS_DENSE_MAX;
  p = stats_realloc(l->a, l->dense, sizeof(int64_t) * l->ndense,
                    sizeof(int64_t) * n);
  if (p == NULL)
    return STATS_ENOMEM;
  memset(p + l->ndense, 0, sizeof(int64_t) * (n - l->ndense));
  l->dense = p;
  l->ndense = n;
  return STATS_OK;
}

/* Grow the table (to keep it at most half full), rehashing. */
static int at_grow_table(stats_level *l) {
  uint32_t n = l->nslots ? l->nslots * 2 : 8, i;
  stats_at_slot *p = stats_realloc(l->a, NULL, 0, sizeof(*p) * n);
  if (p == NULL)
    return STATS_ENOMEM;
  memset(p, 0, sizeof(*p) * n);
  for (i = 0; i < l->nslots; i++)
    if (l->slots[i].used)
      *at_find(p, n, l->slots[i].v) = l->slots[i];
  if (l->slots)
    stats_realloc(l->a, l->slots, sizeof(*l->slots) * l->nslots, 0);
  l->slots = p;
  l->nslots = n;
  return STATS_OK;
}

/* The counter of v if it exists (never allocates), else NULL. */
static inline int64_t *at_lookup(stats_level *l, double v) {
  uint32_t idx;
  stats_at_slot *s;
  if (at_dense(v, &idx))
    return idx < l->ndense ? &l->dense[idx] : NULL;
  if (l->nslots == 0)
    return NULL;
  s = at_find(l->slots, l->nslots, v);
  return s->used ? &s->ticks : NULL;
}

/* The counter of v, made if needed; NULL when it cannot be made. Growing
** moves the counters: callers re-find the current one after. */
static int64_t *at_counter(stats_level *l, double v) {
  uint32_t idx;
  stats_at_slot *s;
  int64_t *c = at_lookup(l, v);
  if (c != NULL)
    return c;
  if (at_dense(v, &idx)) {
    if (at_grow_dense(l, idx) != STATS_OK)
      return NULL;
    return &l->dense[idx];
  }
  if (2 * (l->nused + 1) > l->nslots && at_grow_table(l) != STATS_OK)
    return NULL;
  s = at_find(l->slots, l->nslots, v);
  s->used = 1;
  s->v = v == 0 ? 0 : v;
  s->ticks = 0;
  l->nused++;
  return &s->ticks;
}

/* }==================================================================== */

/* {====================================================================
** Levels
** ===================================================================== */

/* Take v as the current value: integers of at most 2^32 in magnitude
** are integrated in int64 arithmetic (exact and cheaper). */
static inline void level_value(stats_level *l, double v) {
  int inrange = (v >= -4294967296.0) & (v <= 4294967296.0); /* not NaN */
  int64_t iv = (int64_t)(inrange ? v : 0);
  l->value = v;
  l->isint = inrange & ((double)iv == v);
  l->ivalue = iv;
}

int stats_level_init(stats_level *l, stats_alloc a, int64_t now, double value,
                     int keep_at) {
  memset(l, 0, sizeof(*l));
  l->a = a;
  level_value(l, value);
  l->min = l->max = value;
  l->since = l->start = now;
  l->keep_at = keep_at;
  if (keep_at && (l->cur = at_counter(l, value)) == NULL)
    return STATS_ENOMEM;
  return STATS_OK;
}

void stats_level_free(stats_level *l) {
  if (l->dense)
    stats_realloc(l->a, l->dense, sizeof(int64_t) * l->ndense, 0);
  if (l->slots)
    stats_realloc(l->a, l->slots, sizeof(*l->slots) * l->nslots, 0);
  l->dense = NULL;
  l->slots = NULL;
  l->ndense = l->nslots = l->nused = 0;
  l->cur = NULL;
  l->keep_at = 0;
  stats_series_free(l);
}

int stats_level_reserve_slow(stats_level *l, double v) {
  if (!l->keep_at || at_lookup(l, v) != NULL)
    return STATS_OK;
  if (at_counter(l, v) == NULL)
    return STATS_ENOMEM;
  /* growing may have moved the current value's counter */
  if (l->cur != NULL)
    l->cur = at_counter(l, l->value);
  return STATS_OK;
}

/* Neumaier's compensated sum: area + comp is the exact running total to
** within one rounding of the final result. With infinite levels comp
** turns NaN: stats_level_mean then reads the area alone. */
void stats_level_accumulate(stats_level *l, double x) {
  double s = l->area + x;
  if (fabs(l->area) >= fabs(x))
    l->comp += (l->area - s) + x;
  else
    l->comp += (x - s) + l->area;
  l->area = s;
}

void stats_level_advance(stats_level *l, int64_t now) {
  stats_level_advance_to(l, now);
}

int stats_level_set(stats_level *l, int64_t now, double v) {
  stats_level_advance_to(l, now);
  level_value(l, v);
  if (l->series != NULL)
    stats_series_set(l->series, l->since, v); /* (now, or later) */
  if (v > l->max)
    l->max = v;
  if (v < l->min)
    l->min = v;
  if (!l->keep_at)
    return STATS_OK;
  if (l->isint && l->ivalue >= 0 && l->ivalue < (int64_t)l->ndense)
    l->cur = &l->dense[l->ivalue];             /* counts: the common case */
  else if ((l->cur = at_lookup(l, v)) == NULL) /* found when reserved */
    l->cur = at_counter(l, v);
  return l->cur != NULL ? STATS_OK : STATS_ENOMEM;
}

void stats_level_reset(stats_level *l, int64_t now) {
  uint32_t i;
  if (now > l->since)
    l->since = now;
  l->start = l->since;
  l->area = l->comp = 0;
  l->iarea = 0;
  l->min = l->max = l->value;
  if (l->dense)
    memset(l->dense, 0, sizeof(int64_t) * l->ndense);
  for (i = 0; i < l->nslots; i++)
    l->slots[i].ticks = 0;
  if (l->series != NULL)
    stats_series_reset(l->series, l->since, l->value);
}

int64_t stats_level_duration(const stats_level *l) {
  return l->since - l->start;
}

double stats_level_mean(const stats_level *l) {
  int64_t d = l->since - l->start;
  if (d <= 0)
    return l->value;
  return ((double)l->iarea +
          (l->comp == l->comp ? l->area + l->comp : l->area)) /
         (double)d;
}

void stats_level_each_at(const stats_level *l,
                         void (*f)(void *ctx, double v, int64_t ticks),
                         void *ctx) {
  uint32_t i;
  for (i = 0; i < l->ndense; i++)
    if (l->dense[i] > 0)
      f(ctx, (double)i, l->dense[i]);
  for (i = 0; i < l->nslots; i++)
    if (l->slots[i].used && l->slots[i].ticks > 0)
      f(ctx, l->slots[i].v, l->slots[i].ticks);
}

/* }==================================================================== */
