/*
** series.c -- the bounded time series of a level (stats.h): buckets of
** 2^shift ticks from an origin, merged pairwise when the clock passes the
** last one. Each bucket's min/max see every value set in it, whatever its
** duration, so a plot of a long run keeps its peaks; its area is the
** integral of the level over the bucket, so the buckets' time-weighted
** mean is the level's. The bucket array grows by doubling up to the cap
** as the clock passes it (most levels of a large model hold few buckets);
** when the allocator refuses, the buckets merge instead, so feeding never
** fails. With every growth granted, the buckets are exactly those of an
** array allocated at the cap from the start.
*/
#include "stats.h"

#include <math.h>
#include <string.h>

/* Merge neighbours pairwise and double the width: n buckets become
** ceil(n / 2); the origin stays. */
static void series_halve(stats_series *s) {
  uint32_t i, j;
  for (i = 0, j = 0; j < s->n; i++, j += 2) {
    stats_bucket b = s->b[j];
    if (j + 1 < s->n) {
      const stats_bucket *c = &s->b[j + 1];
      b.min = stats_series_min(b.min, c->min);
      b.max = stats_series_max(b.max, c->max);
      b.area += c->area;
      b.last = c->last;
    }
    s->b[i] = b;
  }
  s->n = i;
  s->shift++;
}

/* Grow the bucket array towards the cap so that it holds index k (or
** as near as the cap allows). Returns 0 if the allocator refused. */
static int series_grow(stats_series *s, uint64_t k) {
  uint32_t ncap = s->cap;
  stats_bucket *b;
  while (ncap < s->max && ncap <= k)
    ncap = ncap > s->max / 2 ? s->max : ncap * 2;
  b = s->a.f(s->a.ud, s->b, sizeof(stats_bucket) * s->cap,
             sizeof(stats_bucket) * ncap);
  if (b == NULL)
    return 0;
  s->b = b;
  s->cap = ncap;
  return 1;
}

/* The index of the bucket holding tick t (>= origin), growing the array
** or merging until it fits. The index of the current bucket only grows,
** so growing and merging are amortised O(1) per bucket ever made. */
static uint32_t series_index(stats_series *s, int64_t t) {
  uint64_t k = (uint64_t)(t - s->origin) >> s->shift;
  while (k >= s->cap) {
    if (s->cap < s->max && series_grow(s, k))
      continue;
    series_halve(s);
    k >>= 1;
  }
  return (uint32_t)k;
}

/* Open bucket k (> the current one) with nothing in it yet. */
static stats_bucket *series_open(stats_series *s, uint32_t k, double x) {
  stats_bucket *b = &s->b[k];
  b->min = b->max = b->last = x;
  b->area = 0;
  s->n = k + 1;
  return b;
}

/* stats_series_hold past its inline common case (stats.h): a walk over
** the buckets from since's to now's, merging first if now is past them. */
void stats_series_hold_walk(stats_series *s, int64_t since, int64_t now,
                            double x) {
  uint32_t k, kend;
  stats_bucket *b;
  if (now <= since)
    return;
  kend = series_index(s, now - 1); /* the last tick held */
  k = (uint32_t)stats_series_bucket_of(s, since);
  for (; k <= kend; k++) {
    int64_t b0 = s->origin + ((int64_t)k << s->shift);
    int64_t lo = since > b0 ? since : b0;
    int64_t hi = now - b0 <= ((int64_t)1 << s->shift) /* no overflow */
                     ? now
                     : b0 + ((int64_t)1 << s->shift);
    b = k + 1 > s->n ? series_open(s, k, x) : &s->b[k];
    b->area += x * (double)(hi - lo);
    b->min = stats_series_min(b->min, x);
    b->max = stats_series_max(b->max, x);
    b->last = x;
  }
}

/* stats_series_set past its inline common case (stats.h): a later bucket,
** opened (after merging if needed). */
void stats_series_set_walk(stats_series *s, int64_t now, double v) {
  uint32_t k = series_index(s, now);
  stats_bucket *b = k + 1 > s->n ? series_open(s, k, v) : &s->b[k];
  b->min = stats_series_min(b->min, v);
  b->max = stats_series_max(b->max, v);
  b->last = v;
}

void stats_series_reset(stats_series *s, int64_t now, double v) {
  s->origin = now;
  s->shift = 0;
  s->n = 0;
  series_open(s, 0, v);
}

int stats_level_keep_series(stats_level *l, uint32_t cap) {
  stats_series *s;
  uint32_t first;
  if (cap < 2)
    cap = 2;
  cap += cap & 1;
  first = cap < STATS_SERIES_FIRST ? cap : STATS_SERIES_FIRST;
  s = l->a.f(l->a.ud, NULL, 0, sizeof(*s));
  if (s == NULL)
    return STATS_ENOMEM;
  s->b = l->a.f(l->a.ud, NULL, 0, sizeof(stats_bucket) * first);
  if (s->b == NULL) {
    l->a.f(l->a.ud, s, sizeof(*s), 0);
    return STATS_ENOMEM;
  }
  s->cap = first;
  s->max = cap;
  s->a = l->a;
  stats_series_reset(s, l->since, l->value);
  l->series = s;
  return STATS_OK;
}

void stats_series_free(stats_level *l) {
  stats_series *s = l->series;
  if (s == NULL)
    return;
  l->a.f(l->a.ud, s->b, sizeof(stats_bucket) * s->cap, 0);
  l->a.f(l->a.ud, s, sizeof(*s), 0);
  l->series = NULL;
}

uint32_t stats_level_series_len(const stats_level *l) {
  return l->series != NULL ? l->series->n : 0;
}

stats_point stats_level_series_at(const stats_level *l, uint32_t i) {
  const stats_series *s = l->series;
  const stats_bucket *b = &s->b[i];
  stats_point p;
  p.t0 = s->origin + ((int64_t)i << s->shift);
  if (i + 1 == s->n || l->since - p.t0 <= ((int64_t)1 << s->shift))
    p.t1 = l->since > p.t0 ? l->since : p.t0; /* the current bucket */
  else
    p.t1 = p.t0 + ((int64_t)1 << s->shift);
  p.min = b->min;
  p.max = b->max;
  p.last = b->last;
  p.mean = p.t1 > p.t0 ? b->area / (double)(p.t1 - p.t0) : b->last;
  return p;
}
