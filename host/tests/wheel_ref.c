/*
** wheel_ref.c -- reference queue and differential driver (see wheel_ref.h).
*/
#include "wheel_ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wheel.h"

typedef struct ref_item {
  des_time when;
  uint64_t seq;
} ref_item;

/* The reference: a binary min-heap on (when, seq); cancelled seqs are
** remembered and skipped when they reach the top. */
typedef struct ref_queue {
  ref_item *heap;
  size_t n, cap;
  uint8_t *cancelled;    /* by seq */
  wheel_handle *handles; /* by seq: the wheel's handle of that event */
  size_t nseq, capseq;
  size_t live;
  des_time now;
} ref_queue;

static int ref_less(ref_item a, ref_item b) {
  return a.when < b.when || (a.when == b.when && a.seq < b.seq);
}

static void ref_push(ref_queue *q, ref_item it) {
  size_t i;
  if (q->n == q->cap) {
    q->cap = q->cap ? q->cap * 2 : 1024;
    q->heap = realloc(q->heap, q->cap * sizeof(*q->heap));
  }
  i = q->n++;
  while (i > 0 && ref_less(it, q->heap[(i - 1) / 2])) {
    q->heap[i] = q->heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  q->heap[i] = it;
}

static ref_item ref_pop_raw(ref_queue *q) {
  ref_item top = q->heap[0], last = q->heap[--q->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= q->n)
      break;
    if (c + 1 < q->n && ref_less(q->heap[c + 1], q->heap[c]))
      c++;
    if (!ref_less(q->heap[c], last))
      break;
    q->heap[i] = q->heap[c];
    i = c;
  }
  if (q->n > 0)
    q->heap[i] = last;
  return top;
}

/* Drop cancelled items from the top; then the top is the next event. */
static void ref_settle(ref_queue *q) {
  while (q->n > 0 && q->cancelled[q->heap[0].seq])
    ref_pop_raw(q);
}

/* Next operation byte. */
static uint8_t src_byte(wref_source *s) {
  if (s->data != NULL)
    return s->pos < s->size ? s->data[s->pos++] : 0;
  s->prng ^= s->prng << 13;
  s->prng ^= s->prng >> 7;
  s->prng ^= s->prng << 17;
  return (uint8_t)(s->prng >> 24);
}

static uint64_t src_u64(wref_source *s) {
  uint64_t v = 0;
  int i;
  for (i = 0; i < 8; i++)
    v = (v << 8) | src_byte(s);
  return v;
}

static int src_done(const wref_source *s) {
  return s->data != NULL && s->pos >= s->size;
}

/* A delay from one of several families: zero, ties, small, clustered,
** exponential-like, heavy-tailed, huge jumps up to the end of time. */
static des_time src_delay(wref_source *s, des_time now) {
  uint8_t kind = src_byte(s) % 8;
  uint64_t r = src_u64(s), room = (uint64_t)(DES_TIME_MAX - now);
  uint64_t d;
  switch (kind) {
  case 0:
    d = 0;
    break;
  case 1:
    d = r % 4;
    break;
  case 2:
    d = r % 64;
    break;
  case 3:
    d = (r % 8) * 4096; /* clustered on a few far ticks */
    break;
  case 4:
    d = r % 1000000;
    break;
  case 5: /* heavy tail: 2^k with k up to 62 */
    d = (uint64_t)1 << (r % 63);
    d += r % (d ? d : 1);
    break;
  case 6:
    d = room;
    break; /* exactly INT64_MAX */
  default:
    d = r;
    break;
  }
  return (des_time)(d > room ? room : d);
}

/* wheel_pop_if's question, answered with `answer`; remembers what it was
** asked about. */
typedef struct wref_ask {
  int answer, asked;
  wheel_payload p;
} wref_ask;

static int wref_accept(const wheel_payload *p, void *ud) {
  wref_ask *a = ud;
  a->asked++;
  a->p = *p;
  return a->answer;
}

/* Pop (up to limit) one of three ways, chosen by `how`: wheel_pop_until;
** wheel_pop_if saying yes; wheel_pop_if saying no first (which must
** change nothing), then yes (about the event it pops). */
static int wref_pop(wheel *w, des_time limit, int how, wheel_event *ev) {
  wref_ask a = {0, 0, {UINT64_MAX, 0, 0}};
  size_t n = wheel_count(w);
  des_time now = wheel_now(w);
  int rc;
  if (how == 0)
    return wheel_pop_until(w, limit, ev);
  if (how == 2) {
    rc = wheel_pop_if(w, limit, wref_accept, &a, ev);
    if (rc != WHEEL_EMPTY || wheel_count(w) != n || wheel_now(w) != now)
      return -100; /* a refusal changed the wheel */
  }
  a.answer = 1;
  rc = wheel_pop_if(w, limit, wref_accept, &a, ev);
  if (rc == WHEEL_OK && (a.asked == 0 || a.p.data != ev->payload.data))
    return -101; /* popped what it did not ask about */
  return rc;
}

int wref_run(wref_source *src, long nops) {
  ref_queue q;
  wheel *w = wheel_new(NULL, NULL);
  long op;
  int bad = 0;
  memset(&q, 0, sizeof(q));
#define FAIL(...)                                                              \
  do {                                                                         \
    fprintf(stderr, "wheel mismatch at op %ld: ", op);                         \
    fprintf(stderr, __VA_ARGS__);                                              \
    fprintf(stderr, "\n");                                                     \
    bad = 1;                                                                   \
    goto done;                                                                 \
  } while (0)
  for (op = 0; op < nops && !src_done(src); op++) {
    uint8_t kind = src_byte(src) % 16;
    if (kind < 7) { /* schedule, sometimes a burst at one time */
      int i, n = (kind == 6) ? 1 + src_byte(src) % 32 : 1;
      des_time when = q.now + src_delay(src, q.now);
      for (i = 0; i < n; i++) {
        wheel_payload p;
        wheel_handle h;
        ref_item it;
        p.data = q.nseq;
        p.target = (uint32_t)q.nseq * 7u;
        p.kind = 1;
        if (wheel_schedule(w, when, &p, &h) != WHEEL_OK)
          FAIL("schedule at %lld refused", (long long)when);
        if (q.nseq == q.capseq) {
          q.capseq = q.capseq ? q.capseq * 2 : 1024;
          q.cancelled = realloc(q.cancelled, q.capseq);
          q.handles = realloc(q.handles, q.capseq * sizeof(*q.handles));
        }
        q.cancelled[q.nseq] = 0;
        q.handles[q.nseq] = h;
        it.when = when;
        it.seq = q.nseq++;
        ref_push(&q, it);
        q.live++;
      }
    } else if (kind < 12) { /* pop, sometimes through wheel_pop_if */
      wheel_event ev;
      const wheel_payload *np = wheel_next_ready(w);
      uint64_t next = np != NULL ? np->data : UINT64_MAX;
      int rc = wref_pop(w, DES_TIME_MAX, (int)(q.nseq % 3), &ev);
      if (rc == WHEEL_OK && np != NULL && next != ev.payload.data)
        FAIL("next_ready named #%llu, the pop took #%llu",
             (unsigned long long)next, (unsigned long long)ev.payload.data);
      ref_settle(&q);
      if (q.n == 0) {
        if (rc != WHEEL_EMPTY)
          FAIL("pop on empty queue returned %d", rc);
      } else {
        ref_item it = ref_pop_raw(&q);
        if (rc != WHEEL_OK || ev.when != it.when || ev.payload.data != it.seq ||
            ev.payload.target != (uint32_t)it.seq * 7u)
          FAIL("pop got (%lld, #%llu) want (%lld, #%llu)", (long long)ev.when,
               (unsigned long long)ev.payload.data, (long long)it.when,
               (unsigned long long)it.seq);
        q.cancelled[it.seq] = 1; /* fired: its handle is stale now */
        q.live--;
        q.now = it.when;
        if (wheel_cancel(w, ev.handle) != WHEEL_ESTALE)
          FAIL("cancel of a fired event did not say stale");
      }
    } else if (kind < 14) { /* cancel some earlier event (maybe stale) */
      uint64_t seq;
      int rc;
      if (q.nseq == 0)
        continue;
      seq = src_u64(src) % q.nseq;
      rc = wheel_cancel(w, q.handles[seq]);
      if (q.cancelled[seq]) {
        if (rc != WHEEL_ESTALE)
          FAIL("cancel of stale #%llu returned %d", (unsigned long long)seq,
               rc);
      } else {
        if (rc != WHEEL_OK)
          FAIL("cancel of #%llu returned %d", (unsigned long long)seq, rc);
        q.cancelled[seq] = 1;
        q.live--;
      }
    } else if (kind == 14) { /* advance, as run(until) does */
      des_time t = q.now + src_delay(src, q.now) % 100000, next;
      ref_settle(&q);
      if (q.n > 0 && q.heap[0].when < t)
        t = q.heap[0].when;
      if (wheel_advance(w, t) != WHEEL_OK)
        FAIL("advance to %lld refused", (long long)t);
      if (t > q.now)
        q.now = t;
      if (wheel_now(w) != q.now)
        FAIL("now %lld want %lld", (long long)wheel_now(w), (long long)q.now);
      (void)next;
    } else if (src_byte(src) % 2 == 0) { /* pop_until a limit */
      des_time limit = q.now + src_delay(src, q.now) % 5000;
      wheel_event ev;
      int rc = wref_pop(w, limit, (int)(q.nseq % 3), &ev);
      ref_settle(&q);
      if (q.n == 0 || q.heap[0].when > limit) {
        if (rc != WHEEL_EMPTY)
          FAIL("pop_until %lld popped past its limit", (long long)limit);
      } else {
        ref_item it = ref_pop_raw(&q);
        if (rc != WHEEL_OK || ev.when != it.when || ev.payload.data != it.seq)
          FAIL("pop_until got (%lld, #%llu) want (%lld, #%llu)",
               (long long)ev.when, (unsigned long long)ev.payload.data,
               (long long)it.when, (unsigned long long)it.seq);
        q.cancelled[it.seq] = 1;
        q.live--;
        q.now = it.when;
      }
      if (wheel_now(w) != q.now)
        FAIL("pop_until moved the time");
    } else { /* peek, and schedule in the past */
      des_time t;
      int rc = wheel_peek(w, &t);
      ref_settle(&q);
      if (q.n == 0 ? rc != WHEEL_EMPTY
                   : (rc != WHEEL_OK || t != q.heap[0].when))
        FAIL("peek mismatch");
      if (q.now > 0) {
        wheel_payload p = {0, 0, 0};
        if (wheel_schedule(w, q.now - 1, &p, NULL) != WHEEL_EPAST)
          FAIL("schedule in the past accepted");
      }
    }
    if (wheel_count(w) != q.live)
      FAIL("count %zu want %zu", wheel_count(w), q.live);
  }
done:
  wheel_free(w);
  free(q.heap);
  free(q.cancelled);
  free(q.handles);
  return bad;
#undef FAIL
}
