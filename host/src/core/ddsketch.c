/*
** ddsketch.c -- DDSketch, the relative-error quantile sketch (see
** ddsketch.h for the rule and the bound).
*/
#include "ddsketch.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* log(g) = 2 atanh(a) for a = 0.01, and its inverse: the bucket of x is
** ceil(log(x) / log(g)); g^i (1 - a) = g^i 2 / (g + 1) answers for it. */
#define DDS_LOGG 0.020000666706669525
#define DDS_INVLOGG 49.998333288886556

/* Room kept around a store's data when it grows (fewer reallocations). */
#define DDS_SLACK 64

void dds_init(dds_sketch *s, des_allocf f, void *ud) {
  memset(s, 0, sizeof(*s));
  s->f = f;
  s->ud = ud;
}

void dds_free(dds_sketch *s) {
  if (s->pos.c)
    s->f(s->ud, s->pos.c, sizeof(uint64_t) * s->pos.cap, 0);
  if (s->neg.c)
    s->f(s->ud, s->neg.c, sizeof(uint64_t) * s->neg.cap, 0);
  dds_init(s, s->f, s->ud);
}

/* The bucket of a finite m > 0 (subnormals included: log is finite). */
static int32_t dds_index(double m) {
  return (int32_t)ceil(log(m) * DDS_INVLOGG);
}

/* The value a bucket answers with, never above the largest double. */
static double dds_value(int32_t i) {
  double v = exp((double)i * DDS_LOGG) * (1 - DDS_ALPHA);
  return v > DBL_MAX ? DBL_MAX : v;
}

/* Re-lay st over the buckets [base, base + cap): counts below base fold
** into base (the collapse). -1 when out of memory, st unchanged. */
static int store_relayout(dds_sketch *s, dds_store *st, int32_t base,
                          uint32_t cap) {
  uint64_t *c = s->f(s->ud, NULL, 0, sizeof(uint64_t) * cap);
  int32_t i;
  if (c == NULL)
    return -1;
  memset(c, 0, sizeof(uint64_t) * cap);
  if (st->n > 0)
    for (i = st->lo; i <= st->hi; i++)
      c[(i < base ? base : i) - base] += st->c[i - st->base];
  if (st->c)
    s->f(s->ud, st->c, sizeof(uint64_t) * st->cap, 0);
  st->c = c;
  st->base = base;
  st->cap = cap;
  if (st->n > 0 && st->lo < base)
    st->lo = base;
  return 0;
}

/* Make room for bucket *i in st: grow the window over the data and *i, or
** when that would pass DDS_MAXBUCKETS, keep the highest ones and fold the
** rest (*i included) into the lowest kept. -1 when out of memory. */
static int store_fit(dds_sketch *s, dds_store *st, int32_t *i) {
  int64_t lo, hi, span;
  int32_t base;
  uint32_t cap;
  if (st->c != NULL && *i >= st->base && *i < st->base + (int64_t)st->cap)
    return 0;
  lo = st->n > 0 && st->lo < *i ? st->lo : *i;
  hi = st->n > 0 && st->hi > *i ? st->hi : *i;
  span = hi - lo + 1;
  if (span > DDS_MAXBUCKETS) {
    if (store_relayout(s, st, (int32_t)(hi - DDS_MAXBUCKETS + 1),
                       DDS_MAXBUCKETS) != 0)
      return -1;
    if (*i < st->base)
      *i = st->base;
    return 0;
  }
  cap = (uint32_t)span + DDS_SLACK;
  if (cap < st->cap * 2)
    cap = st->cap * 2;
  if (cap > DDS_MAXBUCKETS)
    cap = DDS_MAXBUCKETS;
  /* the slack goes around a first value, else on the side that grew */
  if (st->n == 0)
    base = *i - (int32_t)(cap / 2);
  else if (*i < st->lo)
    base = (int32_t)(hi - cap + 1);
  else
    base = (int32_t)lo;
  return store_relayout(s, st, base, cap);
}

/* Count k more in bucket i of st. */
static int store_add(dds_sketch *s, dds_store *st, int32_t i, uint64_t k) {
  if (store_fit(s, st, &i) != 0)
    return -1;
  st->c[i - st->base] += k;
  if (st->n == 0 || i < st->lo)
    st->lo = i;
  if (st->n == 0 || i > st->hi)
    st->hi = i;
  st->n += k;
  return 0;
}

int dds_add(dds_sketch *s, double x, uint64_t k) {
  if (x > 0 && x <= DBL_MAX) {
    if (store_add(s, &s->pos, dds_index(x), k) != 0)
      return -1;
  } else if (x < 0 && x >= -DBL_MAX) {
    if (store_add(s, &s->neg, dds_index(-x), k) != 0)
      return -1;
  } else if (x == 0)
    s->zero += k;
  else if (x > 0)
    s->pinf += k;
  else
    s->ninf += k;
  s->n += k;
  return 0;
}

/* Fold the buckets of `from` into st, by value (so a collapse on either
** side is applied the same way). */
static int store_merge(dds_sketch *s, dds_store *st, const dds_store *from,
                       uint64_t *added) {
  int32_t i;
  if (from->n == 0)
    return 0;
  for (i = from->hi; i >= from->lo; i--) { /* highest first: fewer folds */
    uint64_t k = from->c[i - from->base];
    if (k > 0) {
      if (store_add(s, st, i, k) != 0)
        return -1;
      *added += k;
    }
  }
  return 0;
}

int dds_merge(dds_sketch *into, const dds_sketch *from) {
  uint64_t added = 0;
  int r = store_merge(into, &into->pos, &from->pos, &added);
  if (r == 0)
    r = store_merge(into, &into->neg, &from->neg, &added);
  into->n += added;
  if (r != 0)
    return -1;
  into->zero += from->zero;
  into->ninf += from->ninf;
  into->pinf += from->pinf;
  into->n += from->zero + from->ninf + from->pinf;
  return 0;
}

/* The bucket of rank r within st, from its lowest (r < st->n). */
static int32_t store_rank_up(const dds_store *st, uint64_t r) {
  int32_t i;
  for (i = st->lo; i < st->hi; i++) {
    uint64_t k = st->c[i - st->base];
    if (r < k)
      return i;
    r -= k;
  }
  return st->hi;
}

/* Ranks run -inf, the negatives from the largest magnitude down, zero,
** the positives up, +inf. */
double dds_rank(const dds_sketch *s, uint64_t r) {
  if (r < s->ninf)
    return -HUGE_VAL;
  r -= s->ninf;
  if (r < s->neg.n) /* rank r from the most negative is n-1-r from zero */
    return -dds_value(store_rank_up(&s->neg, s->neg.n - 1 - r));
  r -= s->neg.n;
  if (r < s->zero)
    return 0;
  r -= s->zero;
  if (r < s->pos.n)
    return dds_value(store_rank_up(&s->pos, r));
  return HUGE_VAL;
}
