/*
** stats.c -- tallies, quantiles, histograms and time-weighted levels.
** See stats.h.
*/
#include "stats.h"

#include <math.h>
#include <string.h>

/* Integer levels below this are counted in the dense array. */
#define STATS_DENSE_MAX 65536u

/* Resize an array through the statistic's allocator; NULL on failure
** (nsize > 0) or after freeing (nsize == 0). */
static void *stats_realloc(stats_alloc a, void *p, size_t osize, size_t nsize) {
  return a.f(a.ud, p, osize, nsize);
}

/* {====================================================================
** P-square
** ===================================================================== */

/* A fresh estimator of the p-quantile. */
void stats_psquare_init(stats_psquare *e, double p) {
  int i;
  memset(e, 0, sizeof(*e));
  e->p = p;
  for (i = 0; i < 5; i++)
    e->pos[i] = i + 1;
  e->want[0] = 1;
  e->want[1] = 1 + 2 * p;
  e->want[2] = 1 + 4 * p;
  e->want[3] = 3 + 2 * p;
  e->want[4] = 5;
  e->dwant[0] = 0;
  e->dwant[1] = p / 2;
  e->dwant[2] = p;
  e->dwant[3] = (1 + p) / 2;
  e->dwant[4] = 1;
}

/* Insertion sort of n <= 5 doubles. */
static void sort5(double *s, int n) {
  int i, j;
  for (i = 1; i < n; i++) {
    double x = s[i];
    for (j = i; j > 0 && s[j - 1] > x; j--)
      s[j] = s[j - 1];
    s[j] = x;
  }
}

/* Add x: the first five are kept; then the markers move (parabolic
** prediction, linear when it leaves the neighbours' interval). */
void stats_psquare_add(stats_psquare *e, double x) {
  double *q = e->q, *pos = e->pos;
  int i, k;
  e->n++;
  if (e->n <= 5) {
    q[e->n - 1] = x;
    if (e->n == 5)
      sort5(q, 5);
    return;
  }
  if (x < q[0]) {
    q[0] = x;
    k = 0;
  } else if (x >= q[4]) {
    q[4] = x;
    k = 3;
  } else {
    k = 0;
    while (x >= q[k + 1])
      k++;
  }
  for (i = k + 1; i < 5; i++)
    pos[i] += 1;
  for (i = 0; i < 5; i++)
    e->want[i] += e->dwant[i];
  for (i = 1; i <= 3; i++) {
    double d = e->want[i] - pos[i];
    if ((d >= 1 && pos[i + 1] - pos[i] > 1) ||
        (d <= -1 && pos[i - 1] - pos[i] < -1)) {
      int s = d >= 0 ? 1 : -1;
      double np = pos[i + 1], pp = pos[i - 1], ni = pos[i], qp;
      d = s;
      qp = q[i] + d / (np - pp) *
                      ((ni - pp + d) * (q[i + 1] - q[i]) / (np - ni) +
                       (np - ni - d) * (q[i] - q[i - 1]) / (ni - pp));
      if (!(q[i - 1] < qp && qp < q[i + 1]))
        qp = q[i] + d * (q[i + s] - q[i]) / (pos[i + s] - ni);
      q[i] = qp;
      pos[i] = ni + d;
    }
  }
}

/* The estimate: exact (interpolating the sorted values) up to five
** observations, the middle marker after; NaN when empty. */
double stats_psquare_value(const stats_psquare *e) {
  if (e->n == 0)
    return NAN;
  if (e->n <= 5) {
    double s[5], h, frac;
    int n = (int)e->n, lo;
    memcpy(s, e->q, sizeof(double) * (size_t)n);
    sort5(s, n);
    h = (n - 1) * e->p + 1;
    lo = (int)floor(h);
    frac = h - lo;
    return s[lo - 1] + frac * ((lo < n ? s[lo] : s[lo - 1]) - s[lo - 1]);
  }
  return e->q[2];
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
}

int stats_tally_setup(stats_tally *t, const double *ps, uint32_t n,
                      const double *edges, uint32_t nedges) {
  stats_psquare *quant = NULL;
  double *e = NULL;
  uint64_t *bins = NULL;
  uint32_t i;
  if (n > 0) {
    quant = stats_realloc(t->a, NULL, 0, sizeof(*quant) * n);
    if (quant == NULL)
      return STATS_ENOMEM;
  }
  if (nedges > 0) {
    e = stats_realloc(t->a, NULL, 0, sizeof(double) * nedges);
    bins = e ? stats_realloc(t->a, NULL, 0, sizeof(uint64_t) * (nedges + 1))
             : NULL;
    if (bins == NULL) {
      if (e)
        stats_realloc(t->a, e, sizeof(double) * nedges, 0);
      if (quant)
        stats_realloc(t->a, quant, sizeof(*quant) * n, 0);
      return STATS_ENOMEM;
    }
    memcpy(e, edges, sizeof(double) * nedges);
    memset(bins, 0, sizeof(uint64_t) * (nedges + 1));
  }
  for (i = 0; i < n; i++)
    stats_psquare_init(&quant[i], ps[i]);
  t->quant = quant;
  t->nquant = n;
  t->edges = e;
  t->bins = bins;
  t->nedges = nedges;
  return STATS_OK;
}

void stats_tally_free(stats_tally *t) {
  if (t->quant)
    stats_realloc(t->a, t->quant, sizeof(*t->quant) * t->nquant, 0);
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
** the first observation), then the estimators and the histogram. */
void stats_tally_add(stats_tally *t, double x) {
  double d = x - t->mean, y, ds;
  uint32_t i;
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
  for (i = 0; i < t->nquant; i++)
    stats_psquare_add(&t->quant[i], x);
  if (t->bins)
    t->bins[tally_bin(t, x)]++;
}

void stats_tally_reset(stats_tally *t) {
  uint32_t i;
  t->count = 0;
  t->mean = t->m2 = t->shift = t->smean = 0;
  t->min = HUGE_VAL;
  t->max = -HUGE_VAL;
  for (i = 0; i < t->nquant; i++)
    stats_psquare_init(&t->quant[i], t->quant[i].p);
  if (t->bins)
    memset(t->bins, 0, sizeof(uint64_t) * (t->nedges + 1));
}

/* Chan, Golub and LeVeque's pairwise combination of mean and M2; the
** difference of the means is taken between the shifted means. */
void stats_tally_merge(stats_tally *into, const stats_tally *from) {
  double na = (double)into->count, nb = (double)from->count, n, d;
  if (from->count == 0)
    return;
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
}

double stats_tally_variance(const stats_tally *t) {
  return t->count > 1 ? t->m2 / (double)(t->count - 1) : NAN;
}

double stats_tally_quantile(const stats_tally *t, uint32_t i) {
  return i < t->nquant ? stats_psquare_value(&t->quant[i]) : NAN;
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
static inline void level_accumulate(stats_level *l, double x) {
  double s = l->area + x;
  if (fabs(l->area) >= fabs(x))
    l->comp += (l->area - s) + x;
  else
    l->comp += (x - s) + l->area;
  l->area = s;
}

/* stats_level_advance, inlined into the hot stats_level_set: value x dt
** into iarea exactly, or (fractions, overflow) into the compensated area. */
static inline void level_advance(stats_level *l, int64_t now) {
  int64_t dt, p, sum;
  if (now <= l->since)
    return;
  dt = now - l->since;
  if (l->isint && !__builtin_mul_overflow(l->ivalue, dt, &p) &&
      !__builtin_add_overflow(l->iarea, p, &sum))
    l->iarea = sum;
  else
    level_accumulate(l, l->value * (double)dt);
  if (l->cur != NULL)
    *l->cur += dt;
  if (l->series != NULL)
    stats_series_hold(l->series, l->since, now, l->value);
  l->since = now;
}

void stats_level_advance(stats_level *l, int64_t now) {
  level_advance(l, now);
}

int stats_level_set(stats_level *l, int64_t now, double v) {
  level_advance(l, now);
  level_value(l, v);
  if (l->series != NULL)
    stats_series_set(l->series, now > l->since ? now : l->since, v);
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
