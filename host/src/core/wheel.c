/*
** wheel.c -- the event queue: an exact, FIFO, hierarchical timer wheel.
**
** Levels. Times are 63-bit tick counts, read as eleven 6-bit digits
** (66 bits >= 63): level L has 64 slots, one per value of digit L. An
** event at `when` lives at the level of the highest digit in which `when`
** differs from the cursor (x = cursor ^ when; L = (63 - clz(x)) / 6; 0 if
** equal), in slot (when >> 6L) & 63. So level 0 holds events of the current
** 64-tick block, one exact tick per slot; level L > 0 only *parks* events
** whose digit L is ahead of the cursor's. Eleven levels cover every int64
** time: no overflow list, no wrap-around, no rounding.
**
** Finding the next event. occupied[L] has a bit per non-empty slot
** and `levels` a bit per non-empty level. Level 0's lowest set bit is the
** next tick; otherwise the lowest occupied slot of the lowest non-empty
** level is the next block that holds anything: the cursor jumps to that
** slot's earliest event and the slot is cascaded (its entries re-placed by
** the rule above, now at lower levels; the earliest at level 0 at once, so
** a lone far event costs one cascade, not one per level). Empty stretches
** of any length cost two ctz.
**
** Ties are FIFO by construction: slots are arrays appended at the tail and
** drained from the head, cascades re-append in array order, and the level
** rule depends on (cursor, when) only, so all events for a tick meet in one
** level-0 slot in scheduling order (so a listing sorts by time alone,
** stably, and needs no sequence number).
**
** Memory. Slots hold 16-byte {when, node index, generation} entries; the
** 32-byte nodes (time, payload, generation) live in a pool addressed by
** index that grows by doubling, with a free list: no malloc per event in
** steady state, and slot arrays keep their capacity. A cascade first
** reserves room in every destination slot, so it never fails halfway.
** A cascade moves entries only, never reading a node (an entry carries
** its time, and a slot without cancelled entries needs no liveness check),
** so at 10^6 pending events the pool's cache misses are paid once per
** event: when its entry reaches level 2 or below, its node is prefetched,
** a few pops ahead of its use.
**
** Cancel is O(1): the node's generation is bumped and it goes back to the
** pool; its entry dies in place (skipped when reached; its slot is found by
** the level rule from the cursor) and a slot whose entries are mostly dead
** is compacted. A handle is (generation << 32 |
** index): stale handles fail the generation check, never touch freed memory.
*/
#include "wheelint.h"

#include <stdlib.h>
#include <string.h>

/* {====================================================================
** Helpers
** ===================================================================== */

/* wh_slot_reserve's slow part: slide or grow the array. */
static int wh_slot_grow(wheel *w, wh_slot *s, uint32_t more) {
  uint32_t need = s->len + more, ncap;
  wh_entry *a;
  if (s->head > 0) { /* slide the live part down first */
    memmove(s->a, s->a + s->head, (s->len - s->head) * sizeof(wh_entry));
    s->len -= s->head;
    s->head = 0;
    need = s->len + more;
    if (need <= s->cap)
      return WHEEL_OK;
  }
  ncap = s->cap ? s->cap : 4;
  while (ncap < need)
    ncap *= 2;
  a = wh_realloc(w, s->a, s->cap * sizeof(wh_entry), ncap * sizeof(wh_entry));
  if (a == NULL)
    return WHEEL_ENOMEM;
  s->a = a;
  s->cap = ncap;
  return WHEEL_OK;
}

/* Make room for `more` entries at the tail of slot s (may move the live
** part down to the start of the array). Inline: in steady state a slot
** keeps its capacity and this is one compare. */
static inline int wh_slot_reserve(wheel *w, wh_slot *s, uint32_t more) {
  if (s->len + more <= s->cap)
    return WHEEL_OK;
  return wh_slot_grow(w, s, more);
}

/* Append entry e to slot (level, sl) (room must be reserved). Inlined:
** every schedule and every entry a cascade moves (an out-of-line call
** cost a fifth of it). */
#define WH_INLINE static inline __attribute__((always_inline))
WH_INLINE void wh_append(wheel *w, int level, int sl, const wh_entry *e) {
  wh_slot *s = &w->slots[level][sl];
  s->a[s->len++] = *e;
  w->occupied[level][sl >> 6] |= (uint64_t)1 << (sl & 63);
  w->levels |= 1u << level;
}

/* Append entry e at its place (room must be reserved, and counted in the
** slot's `pending`, which this clears). Touches no node: a cascade moves
** entries without reading the node pool. */
static void wh_place(wheel *w, const wh_entry *e) {
  int level = wh_level_of(w->cursor, (uint64_t)e->when);
  int sl = wh_slot_of((uint64_t)e->when, level);
  w->slots[level][sl].pending = 0;
  wh_append(w, level, sl, e);
  if (level <= 2) /* it pops soon: start loading its node */
    __builtin_prefetch(&w->nodes[e->idx]);
}

/* Mark slot (level, sl) empty (every pop that empties a slot). */
WH_INLINE void wh_slot_clear(wheel *w, int level, int sl) {
  wh_slot *s = &w->slots[level][sl];
  s->head = s->len = s->dead = 0;
  int k;
  w->occupied[level][sl >> 6] &= ~((uint64_t)1 << (sl & 63));
  for (k = 0; k < WH_WORDS; k++)
    if (w->occupied[level][k] != 0)
      return;
  w->levels &= ~(1u << level);
}

/* Drop dead entries of a slot in place, keeping the order of the rest. */
static void wh_slot_compact(wheel *w, int level, int sl) {
  wh_slot *s = &w->slots[level][sl];
  uint32_t i, k = 0;
  for (i = s->head; i < s->len; i++)
    if (wh_entry_live(w, &s->a[i]))
      s->a[k++] = s->a[i];
  s->head = 0;
  s->len = k;
  s->dead = 0;
  if (k == 0)
    wh_slot_clear(w, level, sl);
}

/* Return node idx to the pool; its handles become stale. */
static void wh_node_free(wheel *w, uint32_t idx) {
  wh_node *n = &w->nodes[idx];
  n->gen++;
  if (n->gen == 0) { /* wrapped: retire the index rather than reuse gen 0 */
    n->next_free = NO_NODE;
    return;
  }
  n->next_free = w->free_head;
  w->free_head = idx;
}

/* Take a node from the pool, growing it by doubling. */
static int wh_node_alloc(wheel *w, uint32_t *out) {
  uint32_t idx;
  if (w->free_head != NO_NODE) {
    idx = w->free_head;
    w->free_head = w->nodes[idx].next_free;
  } else {
    if (w->nnodes == w->capnodes) {
      uint32_t ncap = w->capnodes ? w->capnodes * 2 : 256;
      wh_node *nodes;
      if (ncap <= w->capnodes) /* 2^32 nodes */
        return WHEEL_ENOMEM;
      nodes = wh_realloc(w, w->nodes, w->capnodes * sizeof(wh_node),
                         (size_t)ncap * sizeof(wh_node));
      if (nodes == NULL)
        return WHEEL_ENOMEM;
      w->nodes = nodes;
      w->capnodes = ncap;
    }
    idx = w->nnodes++;
    w->nodes[idx].gen = 1;
  }
  *out = idx;
  return WHEEL_OK;
}

/* }==================================================================== */

/* {====================================================================
** Cascading and finding the next event
** ===================================================================== */

/* Start of the block of slot (level, sl) in the cursor's current
** (level+1)-block. */
static uint64_t wh_block_start(const wheel *w, int level, int sl) {
  uint64_t shift = (uint64_t)WH_BITS * (uint64_t)(level + 1);
  uint64_t high = shift >= 64 ? 0 : (w->cursor >> shift) << shift;
  return high | ((uint64_t)sl << (WH_BITS * level));
}

/* The destination slot of a live entry after the cursor moved. */
static wh_slot *wh_dest(wheel *w, const wh_entry *e) {
  int nl = wh_level_of(w->cursor, (uint64_t)e->when);
  return &w->slots[nl][wh_slot_of((uint64_t)e->when, nl)];
}

/* Move the cursor to `target`, a time inside the block of slot (level, sl),
** level > 0, and no later than its earliest live entry, and re-place the
** slot's live entries at lower levels, in order. Room is reserved in every
** destination first (counting in wh_slot.pending), so on ENOMEM nothing
** has changed. */
static int wh_cascade(wheel *w, int level, int sl, uint64_t target) {
  wh_slot *s = &w->slots[level][sl];
  uint64_t old = w->cursor;
  uint32_t i;
  int rc = WHEEL_OK;
  if (s->dead > 0) /* then every entry is live: no node is read below */
    wh_slot_compact(w, level, sl);
  w->cursor = target;
  for (i = s->head; i < s->len && rc == WHEEL_OK; i++) {
    wh_slot *d = wh_dest(w, &s->a[i]);
    rc = wh_slot_reserve(w, d, ++d->pending);
  }
  if (rc != WHEEL_OK) {
    for (i = s->head; i < s->len; i++) /* clear the counts */
      wh_dest(w, &s->a[i])->pending = 0;
    w->cursor = old;
    return rc;
  }
  for (i = s->head; i < s->len; i++) /* place, clearing the counts */
    wh_place(w, &s->a[i]);
  wh_slot_clear(w, level, sl);
  return WHEEL_OK;
}

/* The earliest time of the live entries of a slot (UINT64_MAX if none). */
static uint64_t wh_slot_min(const wheel *w, const wh_slot *s) {
  uint64_t best = UINT64_MAX;
  uint32_t i;
  for (i = s->head; i < s->len; i++)
    if ((uint64_t)s->a[i].when < best &&
        (s->dead == 0 || wh_entry_live(w, &s->a[i])))
      best = (uint64_t)s->a[i].when;
  return best;
}

#define WH_LATER 1 /* wh_settle: the next block starts after the limit */

/* Bring the next live event to the head of a slot, cascading as needed but
** never past `limit`: the cursor only moves to a block that holds an event
** at or before limit, so it never passes the current time for a pop that
** returns nothing. The slot (*out) is at level 0, or, for a pop, a higher
** slot whose one entry is live: that entry is the earliest event (lower
** levels are empty, later slots and levels hold later blocks) and the only
** one at its time (equal times share a slot), so it is popped from there,
** with no cascade (in a sparse queue, PHOLD's ten events, that is most
** pops); the pop moves the cursor, settling leaves it. With to_limit
*(wheel_advance,
** which then moves the cursor to limit itself) every block starting at or
** before limit is cascaded, so that none is left holding the cursor's own
** slot. Returns WHEEL_OK, WHEEL_EMPTY if nothing is pending, WH_LATER if
** the next block starts after limit, or WHEEL_ENOMEM. */
static int wh_settle(wheel *w, uint64_t limit, int to_limit, wh_slot **out) {
  for (;;) {
    int level, sl;
    wh_slot *s;
    uint64_t target;
    if (w->live == 0)
      return WHEEL_EMPTY;
    level = wh_ctz(w->levels);
    sl = wh_first_slot(w, level);
    s = &w->slots[level][sl];
    if (level == 0) {
      while (s->dead > 0 && s->head < s->len &&
             !wh_entry_live(w, &s->a[s->head])) {
        s->head++;
        s->dead--;
      }
      if (s->head < s->len) {
        *out = s;
        return WHEEL_OK;
      }
      wh_slot_clear(w, 0, sl);
      continue;
    }
    if (s->dead == s->len - s->head) { /* only dead entries: drop them */
      wh_slot_clear(w, level, sl);
      continue;
    }
    if (wh_block_start(w, level, sl) > limit)
      return WH_LATER;
    if (!to_limit && s->dead == 0 && s->len - s->head == 1) { /* lone */
      if ((uint64_t)s->a[s->head].when > limit)
        return WH_LATER;
      *out = s;
      return WHEEL_OK;
    }
    if (to_limit)
      target = wh_block_start(w, level, sl);
    else {
      /* Move the cursor straight to the slot's earliest event: it lands at
      ** level 0 in one cascade instead of one per level (all lower levels
      ** are empty and every other event is later, so no event is passed;
      ** equal times still meet in one slot, as the level rule holds). */
      target = wh_slot_min(w, s);
      if (target > limit)
        return WH_LATER; /* its events are after limit: cascading would
                         ** move the cursor past now */
    }
    if (wh_cascade(w, level, sl, target) != WHEEL_OK)
      return WHEEL_ENOMEM;
  }
}

/* }==================================================================== */

/* {====================================================================
** The API
** ===================================================================== */

wheel *wheel_new(des_allocf allocf, void *ud) {
  wheel *w;
  if (allocf == NULL)
    allocf = des_default_alloc;
  w = allocf(ud, NULL, 0, sizeof(*w));
  if (w == NULL)
    return NULL;
  memset(w, 0, sizeof(*w));
  w->allocf = allocf;
  w->ud = ud;
  w->free_head = NO_NODE;
  return w;
}

void wheel_free(wheel *w) {
  int l, k;
  if (w == NULL)
    return;
  /* only the slots that ever held an entry: no allocator call for the
  ** others (WH_LEVELS * WH_SLOTS of them, most of a young wheel) */
  for (l = 0; l < WH_LEVELS; l++)
    for (k = 0; k < WH_SLOTS; k++)
      if (w->slots[l][k].a != NULL)
        wh_realloc(w, w->slots[l][k].a, w->slots[l][k].cap * sizeof(wh_entry),
                   0);
  wh_realloc(w, w->nodes, w->capnodes * sizeof(wh_node), 0);
  w->allocf(w->ud, w, sizeof(*w), 0);
}

des_time wheel_now(const wheel *w) {
  return w->now;
}

size_t wheel_count(const wheel *w) {
  return w->live;
}

int wheel_schedule(wheel *w, des_time when, const wheel_payload *p,
                   wheel_handle *out) {
  uint32_t idx;
  wh_node *n;
  wh_slot *s;
  int level, sl, rc;
  if (when < 0)
    return WHEEL_ERANGE;
  if (when < w->now)
    return WHEEL_EPAST;
  rc = wh_node_alloc(w, &idx);
  if (rc != WHEEL_OK)
    return rc;
  level = wh_level_of(w->cursor, (uint64_t)when);
  sl = wh_slot_of((uint64_t)when, level);
  s = &w->slots[level][sl];
  if (wh_slot_reserve(w, s, 1) != WHEEL_OK) {
    w->nodes[idx].next_free = w->free_head; /* back to the pool, same gen */
    w->free_head = idx;
    return WHEEL_ENOMEM;
  }
  n = &w->nodes[idx];
  n->when = when;
  n->payload = *p;
  n->next_free = WH_LIVE;
  {
    wh_entry e;
    e.when = when;
    e.idx = idx;
    e.gen = n->gen;
    wh_append(w, level, sl, &e);
  }
  w->live++;
  if (out != NULL)
    *out = ((uint64_t)n->gen << 32) | idx;
  return WHEEL_OK;
}

/* The node of a pending event's handle, or NULL. */
static wh_node *wh_lookup(const wheel *w, wheel_handle h) {
  uint32_t idx = (uint32_t)h, gen = (uint32_t)(h >> 32);
  wh_node *n;
  if (h == 0 || idx >= w->nnodes)
    return NULL;
  n = &w->nodes[idx];
  return (n->next_free == WH_LIVE && n->gen == gen) ? n : NULL;
}

int wheel_cancel(wheel *w, wheel_handle h) {
  wh_node *n = wh_lookup(w, h);
  wh_slot *s;
  int level, sl;
  if (n == NULL)
    return WHEEL_ESTALE;
  /* its entry is where the level rule puts it now (see the top) */
  level = wh_level_of(w->cursor, (uint64_t)n->when);
  sl = wh_slot_of((uint64_t)n->when, level);
  s = &w->slots[level][sl];
  s->dead++;
  wh_node_free(w, (uint32_t)h);
  w->live--;
  if (s->len - s->head == s->dead)
    wh_slot_clear(w, level, sl);
  else if (s->dead > 16 && s->dead * 2 > s->len - s->head)
    wh_slot_compact(w, level, sl);
  return WHEEL_OK;
}

int wheel_pending(const wheel *w, wheel_handle h, des_time *when) {
  wh_node *n = wh_lookup(w, h);
  if (n == NULL)
    return 0;
  if (when != NULL)
    *when = n->when;
  return 1;
}

int wheel_payload_of(const wheel *w, wheel_handle h, wheel_payload *out) {
  wh_node *n = wh_lookup(w, h);
  if (n == NULL)
    return 0;
  *out = n->payload;
  return 1;
}

int wheel_pop(wheel *w, wheel_event *ev) {
  return wheel_pop_until(w, DES_TIME_MAX, ev);
}

/* Pop the head entry of slot s, the next event: s is at level 0, or a
** higher slot with one live entry (see wh_settle). */
static void wh_pop_head(wheel *w, wh_slot *s, wheel_event *ev) {
  wh_entry *e = &s->a[s->head++];
  wh_node *n = &w->nodes[e->idx];
  ev->when = n->when;
  ev->handle = ((uint64_t)n->gen << 32) | e->idx;
  ev->payload = n->payload;
  w->now = n->when;
  w->cursor = (uint64_t)n->when;
  wh_node_free(w, e->idx);
  w->live--;
  if (s->head == s->len) {
    ptrdiff_t k = s - &w->slots[0][0];
    wh_slot_clear(w, (int)(k / WH_SLOTS), (int)(k % WH_SLOTS));
  }
}

int wheel_pop_until(wheel *w, des_time limit, wheel_event *ev) {
  wh_slot *s;
  int rc;
  if (limit < w->now)
    return WHEEL_EMPTY;
  rc = wh_settle(w, (uint64_t)limit, 0, &s);
  if (rc == WH_LATER)
    return WHEEL_EMPTY;
  if (rc != WHEEL_OK)
    return rc;
  if (s->a[s->head].when > limit)
    return WHEEL_EMPTY; /* the next event is after limit */
  wh_pop_head(w, s, ev);
  return WHEEL_OK;
}

int wheel_pop_if(wheel *w, des_time limit, wheel_accept accept, void *ud,
                 wheel_event *ev) {
  const wh_entry *e;
  const wh_slot *s = NULL;
  if (w->live == 0 || limit < w->now)
    return WHEEL_EMPTY;
  e = wh_ready(w, &s); /* settled already: popped in place */
  if (e == NULL) {     /* a cascade (or cancelled entries) first */
    e = wh_next_entry(w);
    s = NULL;
    if (e == NULL)
      return WHEEL_EMPTY;
  }
  if (e->when > limit || !accept(&w->nodes[e->idx].payload, ud))
    return WHEEL_EMPTY; /* read, nothing moved */
  if (s == NULL)
    return wheel_pop_until(w, limit, ev); /* takes that same entry */
  wh_pop_head(w, (wh_slot *)s, ev);
  return WHEEL_OK;
}

int wheel_advance(wheel *w, des_time t) {
  des_time next;
  int rc;
  if (t <= w->now)
    return WHEEL_OK;
  if (wheel_peek(w, &next) == WHEEL_OK && next < t)
    return WHEEL_EPAST;
  /* cascade every block that starts at or before t, then move there */
  {
    wh_slot *s;
    rc = wh_settle(w, (uint64_t)t, 1, &s);
  }
  if (rc == WHEEL_ENOMEM)
    return rc;
  w->cursor = (uint64_t)t;
  w->now = t;
  return WHEEL_OK;
}

void wheel_clear(wheel *w) {
  int l, sl;
  for (l = 0; l < WH_LEVELS; l++) {
    for (sl = 0; sl < WH_SLOTS; sl++) {
      wh_slot *s = &w->slots[l][sl];
      uint32_t i;
      for (i = s->head; i < s->len; i++)
        if (wh_entry_live(w, &s->a[i]))
          wh_node_free(w, s->a[i].idx);
      s->head = s->len = s->dead = 0;
    }
    memset(w->occupied[l], 0, sizeof(w->occupied[l]));
  }
  w->levels = 0;
  w->live = 0;
  w->cursor = (uint64_t)w->now;
}

/* }==================================================================== */
