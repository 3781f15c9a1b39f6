/*
** wheel_view.c -- the wheel looked at without moving anything: the next
** event (peek, and the entry a pop would take where it lies, for hints),
** listings, error texts. The wheel's layout: wheelint.h; its design:
** atop wheel.c.
*/
#include "wheelint.h"

#include <stdlib.h>

/* The entry the next pop takes, read-only: in the first occupied slot (by
** level, then slot: every event of a later slot or level is later) that
** holds a live entry, at level 0 its first live entry (a slot is one
** tick), above its first live entry of the earliest time (a cascade keeps
** equal times in order). NULL if nothing is pending. */
const wh_entry *wh_next_entry(const wheel *w) {
  uint32_t levels;
  if (w->live == 0)
    return NULL;
  for (levels = w->levels; levels != 0; levels &= levels - 1) {
    int level = wh_ctz(levels), k;
    for (k = 0; k < WH_WORDS; k++) {
      uint64_t bits;
      for (bits = w->occupied[level][k]; bits != 0; bits &= bits - 1) {
        const wh_slot *s = &w->slots[level][k * 64 + wh_ctz(bits)];
        const wh_entry *best = NULL;
        uint32_t i;
        for (i = s->head; i < s->len; i++) {
          const wh_entry *e = &s->a[i];
          if ((s->dead == 0 || wh_entry_live(w, e)) &&
              (best == NULL || e->when < best->when)) {
            best = e;
            if (level == 0)
              break;
          }
        }
        if (best != NULL)
          return best;
      }
    }
  }
  return NULL;
}

int wheel_peek(wheel *w, des_time *when) {
  const wh_entry *e = wh_next_entry(w);
  if (e == NULL)
    return WHEEL_EMPTY;
  *when = e->when;
  return WHEEL_OK;
}

const wheel_payload *wheel_next_ready(const wheel *w) {
  const wh_slot *s;
  const wh_entry *e = wh_ready(w, &s);
  return e != NULL ? &w->nodes[e->idx].payload : NULL;
}

void wheel_prefetch_next(const wheel *w) {
  const wh_slot *s;
  const wh_entry *e = wh_ready(w, &s);
  if (e != NULL)
    __builtin_prefetch(&w->nodes[e->idx]);
}

/* An event collected for a listing, with its place in the collection:
** equal times were collected in FIFO order (they share a slot), so
** (when, place) is the handling order. */
typedef struct wh_listed {
  wheel_event ev;
  size_t place;
} wh_listed;

static int wh_event_cmp(const void *a, const void *b) {
  const wh_listed *x = a, *y = b;
  if (x->ev.when != y->ev.when)
    return x->ev.when < y->ev.when ? -1 : 1;
  return x->place < y->place ? -1 : x->place > y->place;
}

size_t wheel_list(wheel *w, wheel_event *out, size_t n) {
  wh_listed *all;
  size_t k = 0, i;
  int l, sl;
  if (n == 0 || w->live == 0)
    return 0;
  all = wh_realloc(w, NULL, 0, w->live * sizeof(*all));
  if (all == NULL)
    return 0;
  for (l = 0; l < WH_LEVELS; l++) {
    for (sl = 0; sl < WH_SLOTS; sl++) {
      const wh_slot *s = &w->slots[l][sl];
      uint32_t j;
      for (j = s->head; j < s->len; j++) {
        const wh_entry *e = &s->a[j];
        if (wh_entry_live(w, e)) {
          const wh_node *nd = &w->nodes[e->idx];
          all[k].ev.when = nd->when;
          all[k].ev.handle = ((uint64_t)nd->gen << 32) | e->idx;
          all[k].ev.payload = nd->payload;
          all[k].place = k;
          k++;
        }
      }
    }
  }
  qsort(all, k, sizeof(*all), wh_event_cmp);
  if (n > k)
    n = k;
  for (i = 0; i < n; i++)
    out[i] = all[i].ev;
  wh_realloc(w, all, w->live * sizeof(*all), 0);
  return n;
}

const char *wheel_strerror(int code) {
  switch (code) {
  case WHEEL_OK:
    return "no error";
  case WHEEL_EPAST:
    return "time is before the current time";
  case WHEEL_ENOMEM:
    return "not enough memory";
  case WHEEL_ESTALE:
    return "stale handle (the event fired or was cancelled)";
  case WHEEL_EMPTY:
    return "no pending event";
  case WHEEL_ERANGE:
    return "negative time";
  default:
    return "unknown error";
  }
}
