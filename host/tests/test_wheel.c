/*
** test_wheel.c -- unit tests of the event queue (wheel.h): every operation
** and the edges: time 0 and INT64_MAX, every level boundary, bursts at one
** time, cancels (of the head, inside a cascade), stale handles, advance,
** listing, clear, allocation failure, and sparse queues (lone entries).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wheel.h"

#include "check.h"

static wheel_handle sched(wheel *w, des_time when, uint64_t data) {
  wheel_payload p = {data, 3, 4};
  wheel_handle h = 0;
  CHECK(wheel_schedule(w, when, &p, &h) == WHEEL_OK);
  return h;
}

/* Pop and check (when, data). */
static void expect_pop(wheel *w, des_time when, uint64_t data) {
  wheel_event ev;
  int rc = wheel_pop(w, &ev);
  CHECK(rc == WHEEL_OK);
  if (rc == WHEEL_OK && (ev.when != when || ev.payload.data != data)) {
    fprintf(stderr, "  popped (%lld, %llu), expected (%lld, %llu)\n",
            (long long)ev.when, (unsigned long long)ev.payload.data,
            (long long)when, (unsigned long long)data);
    failures++;
  }
}

static void test_basic(void) {
  wheel *w = wheel_new(NULL, NULL);
  des_time t;
  wheel_event ev;
  CHECK(wheel_now(w) == 0 && wheel_count(w) == 0);
  CHECK(wheel_peek(w, &t) == WHEEL_EMPTY);
  CHECK(wheel_pop(w, &ev) == WHEEL_EMPTY);
  sched(w, 0, 1); /* time 0 */
  sched(w, 5, 2);
  sched(w, 0, 3);
  CHECK(wheel_count(w) == 3);
  CHECK(wheel_peek(w, &t) == WHEEL_OK && t == 0);
  CHECK(wheel_now(w) == 0);
  expect_pop(w, 0, 1);
  expect_pop(w, 0, 3);
  CHECK(wheel_peek(w, &t) == WHEEL_OK && t == 5);
  CHECK(wheel_now(w) == 0); /* peek never moves time */
  expect_pop(w, 5, 2);
  CHECK(wheel_now(w) == 5 && wheel_count(w) == 0);
  {
    wheel_payload p = {0, 0, 0};
    CHECK(wheel_schedule(w, 4, &p, NULL) == WHEEL_EPAST);
    CHECK(wheel_schedule(w, -1, &p, NULL) == WHEEL_ERANGE);
    CHECK(wheel_count(w) == 0);
  }
  CHECK(strlen(wheel_strerror(WHEEL_ESTALE)) > 0);
  wheel_free(w);
}

/* Every level boundary, from cursors at 0 and just past a boundary. */
static void test_boundaries(void) {
  int k;
  for (k = 1; k <= 10; k++) {
    des_time b = (des_time)1 << (6 * k);
    des_time starts[2];
    int s;
    starts[0] = 0;
    starts[1] = b - 3;
    for (s = 0; s < 2; s++) {
      wheel *w = wheel_new(NULL, NULL);
      if (starts[s] > 0) {
        CHECK(wheel_advance(w, starts[s]) == WHEEL_OK);
      }
      sched(w, b + 1, 3);
      sched(w, b - 1, 1);
      sched(w, b, 2);
      sched(w, b, 4); /* tie: after 2 */
      expect_pop(w, b - 1, 1);
      expect_pop(w, b, 2);
      expect_pop(w, b, 4);
      expect_pop(w, b + 1, 3);
      wheel_free(w);
    }
  }
}

static void test_int64_max(void) {
  wheel *w = wheel_new(NULL, NULL);
  sched(w, DES_TIME_MAX, 1);
  sched(w, DES_TIME_MAX - 1, 2);
  sched(w, 7, 3);
  sched(w, DES_TIME_MAX, 4);
  expect_pop(w, 7, 3);
  expect_pop(w, DES_TIME_MAX - 1, 2);
  expect_pop(w, DES_TIME_MAX, 1);
  expect_pop(w, DES_TIME_MAX, 4);
  CHECK(wheel_now(w) == DES_TIME_MAX);
  sched(w, DES_TIME_MAX, 5); /* still allowed at the very end */
  expect_pop(w, DES_TIME_MAX, 5);
  wheel_free(w);
}

/* 10^5 events at one time come back in order, with others around. */
static void test_burst(void) {
  wheel *w = wheel_new(NULL, NULL);
  uint64_t i;
  sched(w, 1000, 999999);
  for (i = 0; i < 100000; i++)
    sched(w, 500, i);
  sched(w, 499, 888888);
  expect_pop(w, 499, 888888);
  for (i = 0; i < 100000; i++) {
    wheel_event ev;
    if (wheel_pop(w, &ev) != WHEEL_OK || ev.when != 500 ||
        ev.payload.data != i) {
      failures++;
      fprintf(stderr, "burst: order broken at %llu\n", (unsigned long long)i);
      break;
    }
    if (i % 1000 == 0)
      sched(w, 500, 1000000 + i); /* scheduled now: after the whole burst */
  }
  for (i = 0; i < 100; i++)
    expect_pop(w, 500, 1000000 + i * 1000);
  expect_pop(w, 1000, 999999);
  wheel_free(w);
}

/* FIFO through cascades: A scheduled long before for T, B later by a short
** delay for the same T: A first. */
static void test_fifo_through_cascade(void) {
  int k;
  for (k = 1; k <= 10; k++) {
    wheel *w = wheel_new(NULL, NULL);
    des_time T = ((des_time)1 << (6 * k)) + 12345 % ((des_time)1 << (6 * k));
    sched(w, T, 1);      /* parked at a high level */
    sched(w, T - 10, 2); /* something to pop just before */
    expect_pop(w, T - 10, 2);
    sched(w, T, 3); /* short delay: lands low */
    sched(w, T - 5, 4);
    expect_pop(w, T - 5, 4);
    expect_pop(w, T, 1);
    expect_pop(w, T, 3);
    wheel_free(w);
  }
}

static void test_cancel(void) {
  wheel *w = wheel_new(NULL, NULL);
  wheel_handle a = sched(w, 10, 1), b = sched(w, 10, 2);
  wheel_handle far = sched(w, (des_time)1 << 40, 3);
  wheel_handle far2 = sched(w, ((des_time)1 << 40) + 1, 4);
  des_time t;
  CHECK(wheel_pending(w, a, &t) && t == 10);
  CHECK(wheel_cancel(w, a) == WHEEL_OK); /* the head */
  CHECK(!wheel_pending(w, a, NULL));
  CHECK(wheel_cancel(w, a) == WHEEL_ESTALE); /* twice: harmless */
  CHECK(wheel_cancel(w, 0) == WHEEL_ESTALE);
  CHECK(wheel_cancel(w, 0xdeadbeef00001234ULL) == WHEEL_ESTALE);
  CHECK(wheel_count(w) == 3);
  CHECK(wheel_peek(w, &t) == WHEEL_OK && t == 10);
  expect_pop(w, 10, 2);
  CHECK(wheel_cancel(w, b) == WHEEL_ESTALE); /* fired */
  CHECK(wheel_cancel(w, far) == WHEEL_OK);   /* parked high, then cascade */
  expect_pop(w, ((des_time)1 << 40) + 1, 4);
  CHECK(wheel_cancel(w, far2) == WHEEL_ESTALE);
  CHECK(wheel_count(w) == 0);
  {
    /* a reused node must not answer to the old handle */
    wheel_handle c = sched(w, wheel_now(w) + 1, 5);
    CHECK(c != far && c != far2);
    CHECK(wheel_cancel(w, far) == WHEEL_ESTALE);
    CHECK(wheel_pending(w, c, NULL));
  }
  wheel_free(w);
}

/* Cancel inside a cascade: half of a parked slot cancelled, rest in order. */
static void test_cancel_in_cascade(void) {
  wheel *w = wheel_new(NULL, NULL);
  wheel_handle h[200];
  int i;
  for (i = 0; i < 200; i++)
    h[i] = sched(w, 1000000 + (i % 7), (uint64_t)i);
  for (i = 0; i < 200; i += 2)
    CHECK(wheel_cancel(w, h[i]) == WHEEL_OK);
  {
    int k;
    for (k = 0; k < 7; k++)
      for (i = 1; i < 200; i += 2)
        if (i % 7 == k)
          expect_pop(w, 1000000 + k, (uint64_t)i);
  }
  CHECK(wheel_count(w) == 0);
  /* all cancelled: the queue is empty and time does not move */
  for (i = 0; i < 10; i++)
    h[i] = sched(w, 5000000 + i, (uint64_t)i);
  for (i = 0; i < 10; i++)
    wheel_cancel(w, h[i]);
  {
    wheel_event ev;
    des_time t;
    CHECK(wheel_pop(w, &ev) == WHEEL_EMPTY);
    CHECK(wheel_peek(w, &t) == WHEEL_EMPTY);
    CHECK(wheel_now(w) == 1000006);
  }
  wheel_free(w);
}

static void test_advance_list_clear(void) {
  wheel *w = wheel_new(NULL, NULL);
  wheel_event evs[8];
  wheel_handle h;
  sched(w, 100, 1);
  sched(w, 1 << 20, 2);
  sched(w, 100, 3);
  CHECK(wheel_advance(w, 101) == WHEEL_EPAST); /* an event is earlier */
  CHECK(wheel_advance(w, 100) == WHEEL_OK && wheel_now(w) == 100);
  CHECK(wheel_list(w, evs, 8) == 3);
  CHECK(evs[0].payload.data == 1 && evs[1].payload.data == 3 &&
        evs[2].payload.data == 2 && evs[2].when == 1 << 20);
  CHECK(wheel_list(w, evs, 1) == 1 && evs[0].payload.data == 1);
  CHECK(wheel_count(w) == 3); /* listing changes nothing */
  expect_pop(w, 100, 1);
  expect_pop(w, 100, 3);
  CHECK(wheel_advance(w, 5000) == WHEEL_OK && wheel_now(w) == 5000);
  h = sched(w, 5000, 4);
  wheel_clear(w);
  CHECK(wheel_count(w) == 0 && wheel_now(w) == 5000);
  CHECK(wheel_cancel(w, h) == WHEEL_ESTALE);
  sched(w, 6000, 5);
  expect_pop(w, 6000, 5);
  wheel_free(w);
}

/* pop_until that finds nothing before its limit must not move the wheel
** past the current time (a fuzzer find: the next block was cascaded and a
** later schedule between now and that block came back out of order). */
static void test_pop_until(void) {
  wheel *w = wheel_new(NULL, NULL);
  wheel_event ev;
  sched(w, 79903, 1); /* parked at level 2, in the block [77824, 81920) */
  CHECK(wheel_pop_until(w, 78000, &ev) == WHEEL_EMPTY); /* block straddles */
  CHECK(wheel_now(w) == 0);
  sched(w, 100, 2);
  sched(w, 75807, 3);
  CHECK(wheel_pop_until(w, 99, &ev) == WHEEL_EMPTY);
  CHECK(wheel_pop_until(w, 100, &ev) == WHEEL_OK && ev.payload.data == 2);
  expect_pop(w, 75807, 3);
  expect_pop(w, 79903, 1);
  /* advance into a block that holds later events: they must be re-placed,
  ** or events scheduled after the advance overtake them (fuzzer find) */
  sched(w, 159903, 4); /* block [159744, 163840) at level 2 */
  CHECK(wheel_advance(w, 159800) == WHEEL_OK);
  sched(w, 159850, 5);
  sched(w, 161000, 6);
  expect_pop(w, 159850, 5);
  expect_pop(w, 159903, 4);
  expect_pop(w, 161000, 6);
  wheel_free(w);
}

/* A lone entry of a higher-level slot is popped from there, with no
** cascade (wheel.c, wh_settle): it must be the earliest event, the only
** one at its time, and a pop_until that stops before it must leave the
** wheel where it was. */
static void test_lone(void) {
  wheel *w = wheel_new(NULL, NULL);
  wheel_event ev;
  wheel_handle h;
  sched(w, 1000000000, 1); /* alone at level 4 */
  CHECK(wheel_pop_until(w, 999999999, &ev) == WHEEL_EMPTY);
  CHECK(wheel_now(w) == 0);
  sched(w, 999999999, 2); /* before it, in the same high block */
  sched(w, 5, 3);
  expect_pop(w, 5, 3);
  expect_pop(w, 999999999, 2);
  CHECK(wheel_pop_until(w, 1000000000, &ev) == WHEEL_OK &&
        ev.when == 1000000000 && ev.payload.data == 1);
  CHECK(wheel_now(w) == 1000000000 && wheel_count(w) == 0);
  /* after a lone pop the clock and the level rule agree: ties at now, and
  ** events in the popped entry's old block, come out in order */
  sched(w, 1000000000, 4);
  sched(w, 1000000063, 5);
  sched(w, 1000000000, 6);
  sched(w, 1000004096, 7);
  expect_pop(w, 1000000000, 4);
  expect_pop(w, 1000000000, 6);
  expect_pop(w, 1000000063, 5);
  expect_pop(w, 1000004096, 7);
  /* two entries at one far time share a slot: not lone, FIFO */
  sched(w, 3000000000, 8);
  sched(w, 3000000000, 9);
  expect_pop(w, 3000000000, 8);
  expect_pop(w, 3000000000, 9);
  /* a slot of one live and one cancelled entry takes the cascade path */
  h = sched(w, 5000000000, 10);
  sched(w, 5000000001, 11);
  CHECK(wheel_cancel(w, h) == WHEEL_OK);
  expect_pop(w, 5000000001, 11);
  /* a cancelled lone entry leaves nothing behind */
  h = sched(w, 7000000000, 12);
  CHECK(wheel_cancel(w, h) == WHEEL_OK);
  CHECK(wheel_pop(w, &ev) == WHEEL_EMPTY && wheel_count(w) == 0);
  /* advance short of a lone entry, then pop it */
  sched(w, 9000000000, 13);
  CHECK(wheel_advance(w, 8999999999) == WHEEL_OK);
  CHECK(wheel_now(w) == 8999999999);
  sched(w, 8999999999, 14);
  expect_pop(w, 8999999999, 14);
  expect_pop(w, 9000000000, 13);
  /* the stale handle of a lone entry once popped */
  h = sched(w, 9500000000, 15);
  expect_pop(w, 9500000000, 15);
  CHECK(wheel_cancel(w, h) == WHEEL_ESTALE && !wheel_pending(w, h, NULL));
  wheel_free(w);
}

/* wheel_pop_if's answers. */
static int refuse(const wheel_payload *p, void *ud) {
  (void)p;
  ++*(int *)ud;
  return 0;
}

static int accept(const wheel_payload *p, void *ud) {
  (void)p;
  (void)ud;
  return 1;
}

/* A sparse queue as in PHOLD (a few events, delays of about 10^9 ticks,
** so most pops find a lone entry), against a reference by linear search:
** schedules (sometimes a tie with a pending time, sometimes at now),
** pops (some through wheel_pop_if, refused first), pop_until short of or
** at the next time, cancels and advances. */
static void test_sparse_random(void) {
  enum { MAXP = 16, OPS = 400000 };
  struct {
    des_time when;
    uint64_t seq;
    wheel_handle h;
  } ref[MAXP];
  int n = 0, op;
  long ready = 0;
  uint64_t seq = 0, x = 0x2545f4914f6cdd1dULL;
  wheel *w = wheel_new(NULL, NULL);
  for (op = 0; op < OPS && failures == 0; op++) {
    uint64_t r;
    int k, best = -1;
    const wheel_payload *np = wheel_next_ready(w);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r = x;
    for (k = 0; k < n; k++)
      if (best < 0 || ref[k].when < ref[best].when ||
          (ref[k].when == ref[best].when && ref[k].seq < ref[best].seq))
        best = k;
    if (np != NULL) { /* wheel_next_ready names the next event, if any */
      CHECK(n > 0 && np->data == ref[best].seq);
      ready++;
    }
    if (n < 2 || (n < MAXP && r % 8 < 3)) { /* schedule */
      des_time when = wheel_now(w);
      uint64_t v = r >> 8;
      if (n > 0 && v % 6 == 0)
        when = ref[v / 6 % (uint64_t)n].when; /* a tie */
      else if (v % 6 != 1)                    /* else at now */
        when += (des_time)(v % 3000000000u) >> (v % 5 * 7);
      ref[n].when = when;
      ref[n].seq = seq;
      ref[n].h = sched(w, when, seq);
      seq++;
      n++;
    } else if (r % 8 == 3) { /* cancel */
      k = (int)((r >> 8) % (uint64_t)n);
      CHECK(wheel_cancel(w, ref[k].h) == WHEEL_OK);
      ref[k] = ref[--n];
    } else if (r % 8 == 4) { /* pop_until (or pop_if), short of the next
                              ** or at it */
      wheel_event ev;
      des_time limit = ref[best].when - (des_time)((r >> 8) % 3);
      int rc;
      if (limit < wheel_now(w))
        limit = wheel_now(w);
      rc = op % 2 ? wheel_pop_if(w, limit, accept, NULL, &ev)
                  : wheel_pop_until(w, limit, &ev);
      if (limit < ref[best].when)
        CHECK(rc == WHEEL_EMPTY && wheel_count(w) == (size_t)n);
      else {
        CHECK(rc == WHEEL_OK && ev.when == ref[best].when &&
              ev.payload.data == ref[best].seq);
        ref[best] = ref[--n];
      }
    } else if (r % 8 == 5) { /* advance, never past the next */
      des_time t = wheel_now(w) + (des_time)((r >> 8) % 100000000u);
      if (t > ref[best].when)
        t = ref[best].when;
      CHECK(wheel_advance(w, t) == WHEEL_OK && wheel_now(w) == t);
    } else { /* pop; through wheel_pop_if, first refusing, every third */
      wheel_event ev;
      int asked = 0;
      if (op % 3 == 0) {
        CHECK(wheel_pop_if(w, DES_TIME_MAX, refuse, &asked, &ev) ==
              WHEEL_EMPTY);
        CHECK(asked == 1 && wheel_count(w) == (size_t)n);
        CHECK(wheel_pop_if(w, DES_TIME_MAX, accept, NULL, &ev) == WHEEL_OK &&
              ev.when == ref[best].when && ev.payload.data == ref[best].seq &&
              ev.handle == ref[best].h);
      } else
        expect_pop(w, ref[best].when, ref[best].seq);
      ref[best] = ref[--n];
    }
    CHECK(wheel_count(w) == (size_t)n);
  }
  CHECK(ready > OPS / 2); /* sparse: mostly known without a cascade */
  wheel_free(w);
}

/* An allocator that fails after a budget of allocations. */
static long alloc_budget;
static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  if (alloc_budget-- <= 0)
    return NULL;
  return realloc(ptr, nsize);
}

static void test_enomem(void) {
  int budget;
  for (budget = 1; budget < 12; budget++) {
    wheel *w;
    int i, ok = 0, rc = 0;
    alloc_budget = budget;
    w = wheel_new(failing_alloc, NULL);
    if (w == NULL)
      continue;
    for (i = 0; i < 2000; i++) {
      wheel_payload p = {(uint64_t)i, 0, 0};
      rc = wheel_schedule(w, (des_time)((i * 7919) % 100000), &p, NULL);
      if (rc != WHEEL_OK)
        break;
      ok++;
    }
    CHECK(rc == WHEEL_ENOMEM || ok == 2000);
    CHECK(wheel_count(w) == (size_t)ok); /* the failed one left no trace */
    alloc_budget = 1000000;
    {
      wheel_event ev;
      des_time last = -1;
      size_t n = 0;
      while (wheel_pop(w, &ev) == WHEEL_OK) {
        CHECK(ev.when >= last);
        last = ev.when;
        n++;
      }
      CHECK(n == (size_t)ok);
    }
    wheel_free(w);
  }
}

int main(void) {
  test_basic();
  test_boundaries();
  test_int64_max();
  test_burst();
  test_fifo_through_cascade();
  test_cancel();
  test_cancel_in_cascade();
  test_advance_list_clear();
  test_pop_until();
  test_lone();
  test_sparse_random();
  test_enomem();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("wheel unit tests passed\n");
  return 0;
}
