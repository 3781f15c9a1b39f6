/*
** test_sim.c -- unit tests of the simulation (sim.h), through core/ only:
** the clock, components and dispatch, step / run / run_until / peek, stop,
** a handler's own code, re-entry refused, cancel, FIFO order at equal
** times (also after cascading in the wheel), shuffled ties (a seeded
** permutation), tracing, listing, time overflow, and the allocator
** balancing after sim_free. Each result is checked against what the
** header promises, with symbolic codes only.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#include "check.h"

#define MAX_SEEN 4096

/* What the handlers saw, in order. */
typedef struct seen {
  int n;
  sim_event ev[MAX_SEEN];
  des_time now[MAX_SEEN]; /* sim_now inside the handler */
  int running[MAX_SEEN];  /* sim_running inside the handler */
  int stop_at;            /* call sim_stop at this event (1-based), or 0 */
  int fail_at;            /* return fail_code at this event, or 0 */
  int fail_code;
  int reenter; /* try step/run inside the handler */
  int reenter_rc[2];
  int schedule_now; /* schedule one more event at now, once */
} seen;

static int record(sim_state *sim, void *ctx, const sim_event *ev) {
  seen *s = ctx;
  if (s->n < MAX_SEEN) {
    s->ev[s->n] = *ev;
    s->now[s->n] = sim_now(sim);
    s->running[s->n] = sim_running(sim);
  }
  s->n++;
  if (s->reenter) {
    s->reenter = 0;
    s->reenter_rc[0] = sim_step(sim);
    s->reenter_rc[1] = sim_run(sim);
  }
  if (s->schedule_now) {
    s->schedule_now = 0;
    CHECK(sim_schedule(sim, sim_now(sim), ev->component, 99, 999, NULL) == 0);
  }
  if (s->stop_at == s->n)
    sim_stop(sim);
  if (s->fail_at == s->n)
    return s->fail_code;
  return 0;
}

/* A counting allocator: the balance must be 0 after sim_free. */
static long long balance;
static void *count_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (ptr == NULL)
    osize = 0;
  balance += (long long)nsize - (long long)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}

static sim_state *new_sim(void) {
  sim_state *sim = sim_new(count_alloc, NULL);
  CHECK(sim != NULL);
  return sim;
}

static void test_empty(void) {
  sim_state *sim = new_sim();
  des_time t = -7;
  CHECK(sim_now(sim) == 0);
  CHECK(sim_pending(sim) == 0);
  CHECK(!sim_running(sim));
  CHECK(sim_peek(sim, &t) == SIM_EMPTY);
  CHECK(sim_step(sim) == SIM_EMPTY);
  CHECK(sim_run(sim) == 0);
  CHECK(sim_now(sim) == 0);
  CHECK(sim_run_until(sim, 50) == 0);
  CHECK(sim_now(sim) == 50); /* the clock moves to `until` */
  CHECK(sim_strerror(SIM_EMPTY) != NULL && sim_strerror(SIM_ENOCOMP) != NULL);
  sim_free(sim);
}

static void test_dispatch(void) {
  sim_state *sim = new_sim();
  seen a, b;
  int ca, cb;
  des_time t;
  wheel_handle h = 0;
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  ca = sim_add_component(sim, record, &a);
  cb = sim_add_component(sim, record, &b);
  CHECK(ca >= 0 && cb >= 0 && ca != cb);
  CHECK(sim_schedule(sim, 10, (uint32_t)ca, 1, 100, &h) == 0 && h != 0);
  CHECK(sim_schedule(sim, 5, (uint32_t)cb, 2, 200, NULL) == 0);
  CHECK(sim_schedule(sim, 7, 77, 0, 0, NULL) == SIM_ENOCOMP);
  CHECK(sim_pending(sim) == 2);
  CHECK(sim_event_pending(sim, h, &t) && t == 10);
  CHECK(sim_peek(sim, &t) == 0 && t == 5);
  CHECK(sim_pending(sim) == 2 && sim_now(sim) == 0); /* peek changes nothing */
  CHECK(sim_step(sim) == 0);
  CHECK(b.n == 1 && a.n == 0);
  CHECK(b.ev[0].when == 5 && b.ev[0].kind == 2 && b.ev[0].data == 200);
  CHECK(b.ev[0].component == (uint32_t)cb);
  CHECK(b.now[0] == 5 && b.running[0]);
  CHECK(sim_now(sim) == 5 && !sim_running(sim));
  CHECK(sim_schedule(sim, 4, (uint32_t)ca, 0, 0, NULL) < 0); /* the past */
  CHECK(sim_step(sim) == 0);
  CHECK(a.n == 1 && a.ev[0].when == 10 && a.ev[0].data == 100);
  CHECK(!sim_event_pending(sim, h, NULL)); /* fired: stale */
  CHECK(sim_cancel(sim, h) != 0);
  CHECK(sim_step(sim) == SIM_EMPTY);
  sim_free(sim);
}

/* Events due at the same time run in the order they were scheduled, across
** components, including times far enough apart to cascade in the wheel. */
static void test_fifo(void) {
  static const des_time times[] = {0, 1, 255, 256, 65536, (des_time)1 << 40};
  sim_state *sim = new_sim();
  seen s;
  int c[3], i, k, ok = 1;
  memset(&s, 0, sizeof(s));
  for (i = 0; i < 3; i++)
    c[i] = sim_add_component(sim, record, &s);
  /* interleave: for each time in reverse, 50 events round-robin */
  for (k = 5; k >= 0; k--)
    for (i = 0; i < 50; i++)
      CHECK(sim_schedule(sim, times[k], (uint32_t)c[i % 3], 0,
                         (uint64_t)(k * 1000 + i), NULL) == 0);
  CHECK(sim_run(sim) == 0);
  CHECK(s.n == 300);
  for (i = 0; i < s.n && i < 300; i++) {
    int want_k = i / 50, want_i = i % 50;
    if (s.ev[i].when != times[want_k] ||
        s.ev[i].data != (uint64_t)(want_k * 1000 + want_i) ||
        s.ev[i].component != (uint32_t)c[want_i % 3])
      ok = 0;
  }
  CHECK(ok);
  CHECK(sim_now(sim) == times[5]);
  sim_free(sim);
}

/* A pseudo-random schedule (a fixed LCG) comes out sorted by time, stable. */
static void test_order(void) {
  sim_state *sim = new_sim();
  seen *s = calloc(1, sizeof(*s));
  uint64_t x = 12345;
  int c = sim_add_component(sim, record, s), i, ok = 1;
  for (i = 0; i < 2000; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    CHECK(sim_schedule(sim, (des_time)((x >> 33) % 5000), (uint32_t)c, 0,
                       (uint64_t)i, NULL) == 0);
  }
  CHECK(sim_run(sim) == 0);
  CHECK(s->n == 2000);
  for (i = 1; i < s->n; i++)
    if (s->ev[i].when < s->ev[i - 1].when ||
        (s->ev[i].when == s->ev[i - 1].when &&
         s->ev[i].data < s->ev[i - 1].data))
      ok = 0;
  CHECK(ok);
  free(s);
  sim_free(sim);
}

/* run_until handles events strictly before t and leaves the clock at t. */
static void test_run_until(void) {
  sim_state *sim = new_sim();
  seen s;
  int c;
  des_time t;
  memset(&s, 0, sizeof(s));
  c = sim_add_component(sim, record, &s);
  CHECK(sim_schedule(sim, 3, (uint32_t)c, 0, 3, NULL) == 0);
  CHECK(sim_schedule(sim, 10, (uint32_t)c, 0, 10, NULL) == 0);
  CHECK(sim_schedule(sim, 11, (uint32_t)c, 0, 11, NULL) == 0);
  CHECK(sim_run_until(sim, 10) == 0);
  CHECK(s.n == 1 && sim_now(sim) == 10);
  CHECK(sim_peek(sim, &t) == 0 && t == 10); /* the event at exactly 10 waits */
  CHECK(sim_run_until(sim, 10) == 0 && s.n == 1);
  CHECK(sim_run_until(sim, 11) == 0 && s.n == 2 && sim_now(sim) == 11);
  CHECK(sim_run_until(sim, 5) < 0); /* before now */
  CHECK(sim_run(sim) == 0 && s.n == 3);
  sim_free(sim);
}

/* sim_stop ends the run after the current event; a handler's own code
** ends it too (SIM_FAILED, its value kept for sim_failure); both leave
** the rest pending. */
static void test_stop_and_codes(void) {
  sim_state *sim = new_sim();
  seen s;
  int c, i;
  memset(&s, 0, sizeof(s));
  c = sim_add_component(sim, record, &s);
  for (i = 1; i <= 10; i++)
    CHECK(sim_schedule(sim, i, (uint32_t)c, 0, (uint64_t)i, NULL) == 0);
  s.stop_at = 3;
  CHECK(sim_run(sim) == SIM_STOPPED);
  CHECK(s.n == 3 && sim_now(sim) == 3 && sim_pending(sim) == 7);
  s.stop_at = 5;
  CHECK(sim_run_until(sim, 100) == SIM_STOPPED);
  CHECK(s.n == 5 && sim_now(sim) == 5); /* stays at the last handled event */
  s.fail_at = 6;
  s.fail_code = 42;
  CHECK(sim_run(sim) == SIM_FAILED && sim_failure(sim, NULL) == 42);
  CHECK(s.n == 6 && sim_now(sim) == 6 && sim_pending(sim) == 4);
  s.fail_at = 7;
  s.fail_code = 7;
  CHECK(sim_step(sim) == SIM_FAILED && sim_failure(sim, NULL) == 7);
  CHECK(sim_run(sim) == 0 && s.n == 10);
  /* a stop asked outside a run does not end the next one early forever */
  sim_stop(sim);
  CHECK(sim_schedule(sim, 20, (uint32_t)c, 0, 20, NULL) == 0);
  sim_run(sim);
  sim_run(sim);
  CHECK(s.n == 11 && sim_pending(sim) == 0);
  sim_free(sim);
}

/* step/run from inside a handler are refused; scheduling at now from a
** handler runs after what is already due now. */
static void test_reentry(void) {
  sim_state *sim = new_sim();
  seen s;
  int c;
  memset(&s, 0, sizeof(s));
  c = sim_add_component(sim, record, &s);
  CHECK(sim_schedule(sim, 5, (uint32_t)c, 0, 1, NULL) == 0);
  CHECK(sim_schedule(sim, 5, (uint32_t)c, 0, 2, NULL) == 0);
  s.reenter = 1;
  s.schedule_now = 1;
  CHECK(sim_run(sim) == 0);
  CHECK(s.reenter_rc[0] == SIM_ERUNNING && s.reenter_rc[1] == SIM_ERUNNING);
  CHECK(s.n == 3);
  CHECK(s.ev[0].data == 1 && s.ev[1].data == 2 && s.ev[2].data == 999);
  CHECK(s.ev[2].when == 5);
  sim_free(sim);
}

static void test_cancel(void) {
  sim_state *sim = new_sim();
  seen s;
  int c, i;
  wheel_handle h[10];
  uint32_t comp = 99;
  memset(&s, 0, sizeof(s));
  c = sim_add_component(sim, record, &s);
  for (i = 0; i < 10; i++)
    CHECK(sim_schedule(sim, 4, (uint32_t)c, 0, (uint64_t)i, &h[i]) == 0);
  CHECK(sim_event_target(sim, h[3], &comp) && comp == (uint32_t)c);
  for (i = 0; i < 10; i += 2)
    CHECK(sim_cancel(sim, h[i]) == 0);
  CHECK(sim_cancel(sim, h[0]) != 0); /* twice: stale */
  CHECK(sim_pending(sim) == 5);
  CHECK(sim_run(sim) == 0);
  CHECK(s.n == 5);
  for (i = 0; i < s.n && i < 5; i++)
    CHECK(s.ev[i].data == (uint64_t)(2 * i + 1));
  CHECK(sim_cancel(sim, h[1]) != 0); /* fired: stale */
  sim_free(sim);
}

static void test_overflow(void) {
  sim_state *sim = new_sim();
  des_time out = 0;
  seen s;
  int c;
  memset(&s, 0, sizeof(s));
  c = sim_add_component(sim, record, &s);
  CHECK(sim_time_after(sim, 5, &out) == 0 && out == 5);
  CHECK(sim_time_after(sim, INT64_MAX, &out) == 0 && out == INT64_MAX);
  CHECK(sim_schedule(sim, 100, (uint32_t)c, 0, 0, NULL) == 0);
  CHECK(sim_run(sim) == 0 && sim_now(sim) == 100);
  CHECK(sim_time_after(sim, INT64_MAX, &out) == SIM_EOVERFLOW);
  CHECK(sim_time_after(sim, INT64_MAX - 100, &out) == 0 && out == INT64_MAX);
  CHECK(sim_schedule(sim, INT64_MAX, (uint32_t)c, 0, 1, NULL) == 0);
  CHECK(sim_run(sim) == 0 && sim_now(sim) == INT64_MAX && s.n == 2);
  sim_free(sim);
}

/* Shuffled ties: a permutation of the tie, the same for the same seed,
** not FIFO for some seed; times still in order. */
static void run_shuffled(uint64_t seed, uint64_t *order, int n) {
  sim_state *sim = new_sim();
  seen *s = calloc(1, sizeof(*s));
  int c = sim_add_component(sim, record, s), i;
  sim_set_shuffle(sim, 1, seed);
  for (i = 0; i < n; i++)
    CHECK(sim_schedule(sim, i < n / 2 ? 3 : 8, (uint32_t)c, 0, (uint64_t)i,
                       NULL) == 0);
  CHECK(sim_run(sim) == 0);
  CHECK(s->n == n);
  for (i = 0; i < n && i < s->n; i++) {
    order[i] = s->ev[i].data;
    if (i > 0)
      CHECK(s->ev[i].when >= s->ev[i - 1].when);
  }
  free(s);
  sim_free(sim);
}

static void test_shuffle(void) {
  enum { N = 64 };
  uint64_t a[N], b[N], d[N];
  int hits[N], i, fifo_a = 1, differ = 0;
  run_shuffled(7, a, N);
  run_shuffled(7, b, N);
  run_shuffled(8, d, N);
  CHECK(memcmp(a, b, sizeof(a)) == 0);
  memset(hits, 0, sizeof(hits));
  for (i = 0; i < N; i++) {
    if (a[i] < N)
      hits[a[i]]++;
    if (a[i] != (uint64_t)i)
      fifo_a = 0;
    if (a[i] != d[i])
      differ = 1;
    /* the first half (t=3) stays before the second (t=8) */
    CHECK((i < N / 2) == (a[i] < N / 2));
  }
  for (i = 0; i < N; i++)
    CHECK(hits[i] == 1);
  CHECK(!fifo_a);
  CHECK(differ);
}

/* Cancelling in a shuffled batch (found by index, not a walk: cloops2):
** the first event of a tie of 1000 cancels the even ones still pending,
** each once (a second cancel is stale; pending says no), schedules more at
** the same time (reusing freed nodes, with new handles), and the counts
** add up: what was cancelled never runs, everything else does once. */
enum { SC_N = 1000 };
static wheel_handle sc_h[SC_N];
static int sc_ran[SC_N + 10], sc_first = 1, sc_cancelled;
static uint32_t sc_comp;

static int cancel_evens(sim_state *sim, void *ctx, const sim_event *ev) {
  (void)ctx;
  CHECK(ev->data < SC_N + 10 && !sc_ran[ev->data]);
  if (ev->data < SC_N + 10)
    sc_ran[ev->data] = 1;
  if (sc_first) {
    size_t before = sim_pending(sim);
    int i;
    sc_first = 0;
    for (i = 0; i < SC_N; i += 2) {
      des_time w = 0;
      if (!sim_event_pending(sim, sc_h[i], &w))
        continue; /* this one ran (it is the first) */
      CHECK(w == 5);
      CHECK(sim_cancel(sim, sc_h[i]) == SIM_OK);
      CHECK(!sim_event_pending(sim, sc_h[i], NULL));
      CHECK(sim_cancel(sim, sc_h[i]) == SIM_ESTALE);
      sc_cancelled++;
    }
    CHECK(sim_pending(sim) == before - (size_t)sc_cancelled);
    for (i = 0; i < 10; i++)
      CHECK(sim_schedule(sim, 5, sc_comp, 0, (uint64_t)(SC_N + i), NULL) == 0);
  }
  return 0;
}

static void test_shuffle_cancel(void) {
  sim_state *sim = new_sim();
  int i, ran = 0;
  sc_comp = (uint32_t)sim_add_component(sim, cancel_evens, NULL);
  sim_set_shuffle(sim, 1, 42);
  for (i = 0; i < SC_N; i++)
    CHECK(sim_schedule(sim, 5, sc_comp, 0, (uint64_t)i, &sc_h[i]) == 0);
  CHECK(sim_run(sim) == 0);
  for (i = 0; i < SC_N + 10; i++)
    ran += sc_ran[i];
  CHECK(sc_cancelled >= SC_N / 2 - 1);
  CHECK(ran == SC_N + 10 - sc_cancelled);
  for (i = 0; i < SC_N; i += 2)
    CHECK(sim_cancel(sim, sc_h[i]) == SIM_ESTALE);
  sim_free(sim);
}

static int traced;
static void trace_fn(void *ctx, const sim_event *ev) {
  seen *s = ctx;
  CHECK(s->n == traced); /* before the handler */
  CHECK(ev->data == (uint64_t)traced);
  traced++;
}

static void test_trace_and_list(void) {
  sim_state *sim = new_sim();
  seen s;
  wheel_event list[8];
  int c, i;
  memset(&s, 0, sizeof(s));
  c = sim_add_component(sim, record, &s);
  for (i = 0; i < 6; i++)
    CHECK(sim_schedule(sim, 10 - i, (uint32_t)c, 5, (uint64_t)(5 - i), NULL) ==
          0);
  CHECK(sim_list(sim, list, 8) == 6);
  for (i = 0; i < 6; i++)
    CHECK(list[i].when == 5 + i);
  CHECK(sim_list(sim, list, 2) == 2 && list[1].when == 6);
  CHECK(sim_pending(sim) == 6);
  sim_set_trace(sim, trace_fn, &s);
  CHECK(sim_run(sim) == 0);
  CHECK(traced == 6 && s.n == 6);
  sim_set_trace(sim, NULL, NULL);
  CHECK(sim_schedule(sim, 11, (uint32_t)c, 0, 0, NULL) == 0);
  CHECK(sim_run(sim) == 0 && traced == 6 && s.n == 7);
  sim_free(sim);
}

/* Many pending events freed with the simulation: nothing leaks. */
static void test_free_pending(void) {
  sim_state *sim = new_sim();
  seen s;
  int c, i;
  memset(&s, 0, sizeof(s));
  c = sim_add_component(sim, record, &s);
  for (i = 0; i < 5000; i++)
    CHECK(sim_schedule(sim, (des_time)i * 977, (uint32_t)c, 0, 0, NULL) == 0);
  CHECK(sim_run_until(sim, 977 * 100) == 0);
  sim_free(sim);
}

/* Hints (sim_set_hint): each one names the event the loop (or
** sim_take_next_of) hands out next (nothing moves between a hint and that
** pop), and they come only for the component that set one. A ping-like
** load: 300 pending events, a handler that reschedules its event at a
** pseudo-random delay. */
enum { HINT_N = 300, HINT_EVENTS = 20000 };
static uint64_t hint_next = UINT64_MAX; /* data of the last hint, pending */
static long hints, hint_right, hint_wrong, hint_other, hint_handled;
static uint64_t hint_x = 0x9e3779b97f4a7c15ULL;

static void hint_fn(void *ctx, uint32_t kind, uint64_t data) {
  (void)ctx;
  hints++;
  hint_next = kind == 5 ? data : UINT64_MAX - 1;
}

static void hint_other_fn(void *ctx, uint32_t kind, uint64_t data) {
  (void)ctx;
  (void)kind;
  (void)data;
  hint_other++;
}

/* One event of test_hint: was it the one hinted? Then reschedule it. */
static void hint_act(sim_state *sim, uint32_t comp, const sim_event *ev) {
  if (hint_next == ev->data)
    hint_right++;
  else if (hint_next != UINT64_MAX)
    hint_wrong++;
  hint_next = UINT64_MAX;
  if (++hint_handled < HINT_EVENTS) {
    des_time dt;
    hint_x ^= hint_x << 13;
    hint_x ^= hint_x >> 7;
    hint_x ^= hint_x << 17;
    dt = (des_time)(hint_x % 2000000000u) >> (hint_x % 4 * 9);
    CHECK(sim_schedule(sim, sim_now(sim) + dt, comp, 5, ev->data, NULL) ==
          SIM_OK);
  }
}

/* Handles its event, then (every other time) takes the next ones itself
** while they are its own (sim_take_next_of hints too). */
static int hint_handler(sim_state *sim, void *ctx, const sim_event *ev) {
  uint32_t comp = *(uint32_t *)ctx;
  sim_event next;
  hint_act(sim, comp, ev);
  while (hint_handled % 2 == 0 && hint_handled < HINT_EVENTS &&
         sim_take_next_of(sim, ev->component, 1u << 5, &next))
    hint_act(sim, comp, &next);
  return 0;
}

static void test_hint(void) {
  sim_state *sim = new_sim();
  uint32_t comp, other;
  int i;
  comp = (uint32_t)sim_add_component(sim, hint_handler, &comp);
  other = (uint32_t)sim_add_component(sim, hint_handler, &comp);
  CHECK(sim_set_hint(sim, 7, hint_fn) == SIM_ENOCOMP);
  CHECK(sim_set_hint(sim, comp, hint_fn) == SIM_OK);
  CHECK(sim_set_hint(sim, other, hint_other_fn) == SIM_OK);
  CHECK(sim_set_hint(sim, other, NULL) == SIM_OK); /* cleared */
  for (i = 0; i < HINT_N; i++)
    CHECK(sim_schedule(sim, (des_time)i * 7919, i % 2 ? comp : other, 5,
                       (uint64_t)i, NULL) == SIM_OK);
  CHECK(sim_run(sim) == SIM_OK);
  CHECK(hint_other == 0);
  /* hinted in the common case (the same event again after a refused
  ** sim_take_next_of), and always right */
  CHECK(hints >= hint_right && hint_right > HINT_EVENTS / 2);
  CHECK(hint_wrong == 0);
  sim_free(sim);
}

int main(void) {
  test_empty();
  test_hint();
  test_dispatch();
  test_fifo();
  test_order();
  test_run_until();
  test_stop_and_codes();
  test_reentry();
  test_cancel();
  test_overflow();
  test_shuffle();
  test_shuffle_cancel();
  test_trace_and_list();
  test_free_pending();
  CHECK(balance == 0);
  if (failures)
    fprintf(stderr, "test_sim: %d check(s) failed\n", failures);
  return failures != 0;
}
