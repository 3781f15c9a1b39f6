/*
** ddsketch.h -- a quantile sketch with a relative-error guarantee: the
** DDSketch of Masson, Rim and Lee (VLDB 2019), with dense stores that
** collapse their lowest buckets. No Lua, no randomness.
**
** A value x > 0 goes to bucket i = ceil(log(x) / log(g)), which holds
** (g^(i-1), g^i], with g = (1 + a) / (1 - a); the bucket answers for its
** values with g^i (1 - a), within a relative error a of each of them.
** Negative values go to a second store by -x; zero and the infinities are
** counted apart. So the value of the order statistic of rank r that the
** sketch gives is within a (relatively) of the true one, whatever the
** distribution, the order of the input and the count.
**
** Here a = DDS_ALPHA = 0.01 and each store keeps at most DDS_MAXBUCKETS
** buckets (32 KiB of counts): a range of magnitudes of g^4095 (about
** 3.7e35). When a store would need more, its lowest buckets (the values
** nearest zero) are folded into the lowest one kept: the guarantee then
** holds for the order statistics whose magnitude is within that range of
** the store's largest. It grows only over the range the data use (about
** 50 buckets per factor of e: values from 0.001 to 1000 take 700).
*/
#ifndef DES_DDSKETCH_H
#define DES_DDSKETCH_H

#include <stdint.h>

#include "dalloc.h"

#define DDS_ALPHA 0.01
#define DDS_MAXBUCKETS 4096

/* Counts of the buckets base .. base + cap - 1 (lo .. hi used). */
typedef struct dds_store {
  uint64_t *c;
  int32_t base, lo, hi;
  uint32_t cap;
  uint64_t n;
} dds_store;

typedef struct dds_sketch {
  dds_store pos, neg;        /* x > 0 by the index of x; x < 0 by -x */
  uint64_t zero, ninf, pinf; /* zeros (either sign), -inf, +inf */
  uint64_t n;                /* every value added */
  des_allocf f;
  void *ud;
} dds_sketch;

/* An empty sketch allocating through f (never fails). */
void dds_init(dds_sketch *s, des_allocf f, void *ud);

/* Free the counts; the sketch is then empty. */
void dds_free(dds_sketch *s);

/* Add x (not NaN) k times; -1 when out of memory, leaving s as it was. */
int dds_add(dds_sketch *s, double x, uint64_t k);

/* Add every value of `from` to `into` (same bound); -1 when out of
** memory, with `into` holding part of `from` (the caller's to account). */
int dds_merge(dds_sketch *into, const dds_sketch *from);

/* The value of the order statistic of rank r (from 0, r < n). */
double dds_rank(const dds_sketch *s, uint64_t r);

#endif
