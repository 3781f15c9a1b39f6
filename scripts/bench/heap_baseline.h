/*
** heap_baseline.h -- the baseline of the hold benchmark: a plain binary
** min-heap on (time, seq), written the way one usually is. Header-only.
*/
#ifndef DES_HEAP_BASELINE_H
#define DES_HEAP_BASELINE_H

#include <stdint.h>
#include <stdlib.h>

typedef struct hb_item {
  int64_t when;
  uint64_t seq;
  uint64_t data;
} hb_item;

typedef struct hb_heap {
  hb_item *a;
  size_t n, cap;
  uint64_t seq;
} hb_heap;

static int hb_less(const hb_item *x, const hb_item *y) {
  return x->when < y->when || (x->when == y->when && x->seq < y->seq);
}

static void hb_push(hb_heap *h, int64_t when, uint64_t data) {
  size_t i;
  hb_item it;
  if (h->n == h->cap) {
    h->cap = h->cap ? h->cap * 2 : 1024;
    h->a = realloc(h->a, h->cap * sizeof(*h->a));
  }
  it.when = when;
  it.seq = h->seq++;
  it.data = data;
  for (i = h->n++; i > 0 && hb_less(&it, &h->a[(i - 1) / 2]); i = (i - 1) / 2)
    h->a[i] = h->a[(i - 1) / 2];
  h->a[i] = it;
}

static hb_item hb_pop(hb_heap *h) {
  hb_item top = h->a[0], last = h->a[--h->n];
  size_t i = 0, c;
  while ((c = 2 * i + 1) < h->n) {
    if (c + 1 < h->n && hb_less(&h->a[c + 1], &h->a[c]))
      c++;
    if (!hb_less(&h->a[c], &last))
      break;
    h->a[i] = h->a[c];
    i = c;
  }
  if (h->n > 0)
    h->a[i] = last;
  return top;
}

#endif
