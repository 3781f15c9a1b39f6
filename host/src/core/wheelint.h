/*
** wheelint.h -- the wheel's insides, shared by wheel.c (placing, cascading,
** popping) and wheel_view.c (finding the next event without moving
** anything, listings): layouts and the small helpers both use. See the
** design notes atop wheel.c.
*/
#ifndef DES_WHEELINT_H
#define DES_WHEELINT_H

#include "wheel.h"

/* 6 bits per level: 8 (256 slots, 8 levels) measured 15-20% slower in
** scripts/bench/hold at every N (more slot structs to touch), so 64 slots
** it is; the code takes any width. */
#define WH_BITS 6                                /* bits of `when` per level */
#define WH_SLOTS (1 << WH_BITS)                  /* slots per level */
#define WH_LEVELS ((63 + WH_BITS - 1) / WH_BITS) /* enough for 63-bit times */
#define WH_WORDS ((WH_SLOTS + 63) / 64)          /* occupancy words per level */

typedef struct wh_entry {
  des_time when;
  uint32_t idx; /* node index */
  uint32_t gen; /* the node's generation when it was scheduled */
} wh_entry;

typedef struct wh_slot {
  wh_entry *a;
  uint32_t head, len, cap; /* live part is a[head..len) */
  uint32_t dead;           /* cancelled entries still in a[head..len) */
  uint32_t pending;        /* entries a cascade is about to append */
} wh_slot;

typedef struct wh_node {
  des_time when; /* its entry is at wh_level_of(cursor, when): see above */
  wheel_payload payload;
  uint32_t gen;
  uint32_t next_free; /* WH_LIVE while scheduled, else the free list */
} wh_node;

struct wheel {
  des_allocf allocf;
  void *ud;
  des_time now;    /* last popped time / advance target */
  uint64_t cursor; /* start of the block the wheel is placed around */
  uint64_t occupied[WH_LEVELS][WH_WORDS]; /* a bit per non-empty slot */
  uint32_t levels; /* bit L: level L has a non-empty slot */
  wh_slot slots[WH_LEVELS][WH_SLOTS];
  wh_node *nodes;
  uint32_t nnodes, capnodes, free_head;
  size_t live;
};

#define NO_NODE UINT32_MAX
#define WH_LIVE (UINT32_MAX - 1) /* next_free of a scheduled node */

static inline int wh_clz(uint64_t x) {
  return __builtin_clzll(x);
}

static inline int wh_ctz(uint64_t x) {
  return __builtin_ctzll(x);
}

/* The level where an event at `when` belongs while the cursor is at c. */
static inline int wh_level_of(uint64_t c, uint64_t when) {
  uint64_t x = c ^ when;
  return x == 0 ? 0 : (63 - wh_clz(x)) / WH_BITS;
}

static inline int wh_slot_of(uint64_t when, int level) {
  return (int)((when >> (WH_BITS * level)) & (WH_SLOTS - 1));
}

static inline void *wh_realloc(wheel *w, void *p, size_t osize, size_t nsize) {
  return w->allocf(w->ud, p, osize, nsize);
}

/* Is the entry still its node's pending event? */
static inline int wh_entry_live(const wheel *w, const wh_entry *e) {
  const wh_node *n = &w->nodes[e->idx];
  return n->next_free == WH_LIVE && n->gen == e->gen;
}

/* The lowest non-empty slot of a non-empty level. */
static inline int wh_first_slot(const wheel *w, int level) {
  int k = 0;
  while (w->occupied[level][k] == 0)
    k++;
  return k * 64 + wh_ctz(w->occupied[level][k]);
}

/* The entry the next pop takes where it lies, and its slot: the head of
** the first occupied slot when that slot is at level 0 or holds a lone
** entry, and no cancelled one (see wh_settle); NULL when a cascade or a
** skip comes first, or nothing is pending. Reads only. */
static inline const wh_entry *wh_ready(const wheel *w, const wh_slot **out) {
  const wh_slot *s;
  int level;
  if (w->live == 0)
    return NULL;
  level = wh_ctz(w->levels);
  s = &w->slots[level][wh_first_slot(w, level)];
  if (s->dead != 0 || (level != 0 && s->len - s->head != 1))
    return NULL;
  *out = s;
  return &s->a[s->head];
}

/* The entry the next pop takes, read-only (wheel_view.c). */
const wh_entry *wh_next_entry(const wheel *w);

#endif
