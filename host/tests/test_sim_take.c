/*
** test_sim_take.c -- sim_take_next (sim.h): a handler that handles a run
** of its own events in one call sees exactly what the run loop would have
** handed it, in the same order, with the same clock and counts, and
** never one past the run's limit, a stop, a yield, or into sim_step,
** shuffled ties or a trace hook. A PHOLD-like model run twice, greedy and
*plain, must log
** the same events; and the wheel must stay exact after a refusal (the
** next event is another component's, deep in a cascade).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#include "check.h"

#define MAXLOG 200000

/* The model: ten chains of events of kind 1, each scheduling the next (at
** a delay of 0, a few ticks, or up to 2 * 10^9 ticks, for one of two
** components), and now and then an event of kind 2 beside it, which they
** now and then cancel again. */
typedef struct model {
  int greedy;         /* take the next events with sim_take_next */
  uint64_t rng;       /* xorshift64 */
  uint32_t comps[2];  /* the two components */
  uint64_t next_data; /* the data of the next scheduled event */
  wheel_handle last;  /* the last scheduled event (for cancels) */
  long n, taken;      /* events handled, of which taken by the handler */
  long stop_at;       /* sim_stop at this event (1-based), or 0 */
  long yield_at;      /* sim_yield at this event, or 0 */
  uint64_t *data;     /* what was handled, in order: data */
  des_time *when;     /* and sim_now then */
} model;

static uint64_t model_rand(model *m) {
  m->rng ^= m->rng << 13;
  m->rng ^= m->rng >> 7;
  m->rng ^= m->rng << 17;
  return m->rng;
}

/* One event's work, the same whoever hands it over. */
static void model_act(sim_state *sim, model *m, const sim_event *ev) {
  CHECK(ev->when == sim_now(sim));
  if (m->n < MAXLOG) {
    m->data[m->n] = ev->data;
    m->when[m->n] = ev->when;
  }
  m->n++;
  if (ev->kind == 1) {
    uint64_t r = model_rand(m);
    des_time d = r % 4 == 0   ? 0
                 : r % 4 == 1 ? (des_time)(r >> 8) % 70
                              : (des_time)(r >> 8) % 2000000000;
    uint32_t comp = m->comps[(r >> 40) & 1];
    CHECK(sim_schedule(sim, sim_now(sim) + d, comp, 1, m->next_data++, NULL) ==
          0);
    if ((r >> 41) % 3 == 0) {
      if ((r >> 44) % 2 == 0 && m->last != 0)
        sim_cancel(sim, m->last); /* may be stale: fine */
      CHECK(sim_schedule(sim, sim_now(sim) + (des_time)(r >> 46) % 1000000,
                         m->comps[(r >> 45) & 1], 2, m->next_data++,
                         &m->last) == 0);
    }
  }
  if (m->n == m->stop_at)
    sim_stop(sim);
  if (m->n == m->yield_at)
    sim_yield(sim);
}

static int model_handler(sim_state *sim, void *ctx, const sim_event *ev) {
  model *m = ctx;
  sim_event e = *ev;
  model_act(sim, m, &e);
  for (;;) {
    if (m->greedy == 1) { /* events of its own kind */
      if (!sim_take_next(sim, ev->component, ev->kind, &e))
        break;
      CHECK(e.component == ev->component && e.kind == ev->kind);
    } else if (m->greedy == 2) { /* of kinds 1 and 2, or only 1 */
      uint32_t kinds = m->n % 2 ? 1u << 1 : 1u << 1 | 1u << 2;
      if (!sim_take_next_of(sim, ev->component, kinds, &e))
        break;
      CHECK(e.component == ev->component && (kinds >> e.kind & 1) != 0);
    } else
      break;
    m->taken++;
    model_act(sim, m, &e);
  }
  return 0;
}

/* Run the model to `end` in slices (run_until's limits), with a stop and
** a yield on the way; fills m. */
static void run_model(model *m, int greedy, des_time end, uint64_t seed) {
  sim_state *sim = sim_new(NULL, NULL);
  des_time t;
  int i, rc;
  memset(m, 0, sizeof(*m));
  m->data = calloc(MAXLOG, sizeof(*m->data));
  m->when = calloc(MAXLOG, sizeof(*m->when));
  m->greedy = greedy;
  m->rng = seed;
  m->stop_at = 1000;
  m->yield_at = 2000;
  m->comps[0] = (uint32_t)sim_add_component(sim, model_handler, m);
  m->comps[1] = (uint32_t)sim_add_component(sim, model_handler, m);
  for (i = 0; i < 10; i++)
    CHECK(sim_schedule(sim, 0, m->comps[i & 1], 1, m->next_data++, NULL) == 0);
  for (t = end / 8; t <= end; t += end / 8) {
    do
      rc = sim_run_until(sim, t);
    while (rc == SIM_STOPPED || rc == SIM_YIELDED);
    CHECK(rc == SIM_OK && sim_now(sim) == t);
  }
  CHECK(sim_handled(sim) == (uint64_t)m->n);
  sim_free(sim);
}

static void test_same_as_loop(void) {
  static const uint64_t seeds[] = {1, 0x9e3779b97f4a7c15ULL, 20261130};
  size_t k;
  for (k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
    model plain, greedy;
    int how;
    run_model(&plain, 0, 1000000000000, seeds[k]);
    CHECK(plain.n > 1000 && plain.n < MAXLOG && plain.taken == 0);
    for (how = 1; how <= 2; how++) { /* sim_take_next, sim_take_next_of */
      long i, bad = -1;
      run_model(&greedy, how, 1000000000000, seeds[k]);
      CHECK(plain.n == greedy.n && greedy.taken > greedy.n / 4);
      for (i = 0; i < plain.n && i < greedy.n && i < MAXLOG && bad < 0; i++)
        if (plain.data[i] != greedy.data[i] || plain.when[i] != greedy.when[i])
          bad = i;
      if (bad >= 0)
        fprintf(stderr, "  seed %llu, greedy %d: event %ld differs\n",
                (unsigned long long)seeds[k], how, bad);
      CHECK(bad < 0);
      free(greedy.data);
      free(greedy.when);
    }
    free(plain.data);
    free(plain.when);
  }
}

/* A handler that tries to take one more event and says what it got. */
typedef struct probe {
  int tries, took;
  sim_event got;
  int stop, yield, schedule_at_now;
} probe;

static int probe_handler(sim_state *sim, void *ctx, const sim_event *ev) {
  probe *p = ctx;
  if (p->stop)
    sim_stop(sim);
  if (p->yield)
    sim_yield(sim);
  if (p->schedule_at_now) /* before the take: a later event at now */
    CHECK(sim_schedule(sim, sim_now(sim) + 1, ev->component, 3, 77, NULL) == 0);
  p->tries++;
  if (sim_take_next(sim, ev->component, ev->kind, &p->got))
    p->took++;
  return 0;
}

static void no_trace(void *ctx, const sim_event *ev) {
  (void)ctx;
  (void)ev;
}

static void test_refusals(void) {
  sim_state *sim = sim_new(NULL, NULL);
  probe p;
  sim_event ev;
  int c, other;
  memset(&p, 0, sizeof(p));
  c = sim_add_component(sim, probe_handler, &p);
  other = sim_add_component(sim, probe_handler, &p);
  CHECK(sim_take_next(sim, (uint32_t)c, 0, &ev) == 0); /* not running */
  /* sim_step handles one event: no taking */
  CHECK(sim_schedule(sim, 5, (uint32_t)c, 0, 1, NULL) == 0);
  CHECK(sim_schedule(sim, 5, (uint32_t)c, 0, 2, NULL) == 0);
  CHECK(sim_step(sim) == SIM_OK && p.took == 0 && sim_pending(sim) == 1);
  /* a run takes it */
  CHECK(sim_run(sim) == SIM_OK && p.tries == 2 && p.took == 0);
  CHECK(sim_schedule(sim, 6, (uint32_t)c, 0, 3, NULL) == 0);
  CHECK(sim_schedule(sim, 6, (uint32_t)c, 0, 4, NULL) == 0);
  CHECK(sim_run(sim) == SIM_OK && p.tries == 3 && p.took == 1);
  CHECK(p.got.data == 4 && p.got.when == 6 && sim_handled(sim) == 4);
  /* another kind, another component: not taken */
  CHECK(sim_schedule(sim, 7, (uint32_t)c, 0, 5, NULL) == 0);
  CHECK(sim_schedule(sim, 7, (uint32_t)c, 1, 6, NULL) == 0);
  CHECK(sim_schedule(sim, 7, (uint32_t)other, 0, 7, NULL) == 0);
  CHECK(sim_run(sim) == SIM_OK && p.took == 1 && p.tries == 6);
  /* the run's limit: run_until(t) leaves events at t */
  CHECK(sim_schedule(sim, 8, (uint32_t)c, 0, 8, NULL) == 0);
  CHECK(sim_schedule(sim, 9, (uint32_t)c, 0, 9, NULL) == 0);
  CHECK(sim_run_until(sim, 9) == SIM_OK && p.took == 1 &&
        sim_pending(sim) == 1);
  CHECK(sim_run_through(sim, 9) == SIM_OK && sim_pending(sim) == 0);
  /* a stop or a yield asked by the handler: the loop returns first */
  CHECK(sim_schedule(sim, 10, (uint32_t)c, 0, 10, NULL) == 0);
  CHECK(sim_schedule(sim, 10, (uint32_t)c, 0, 11, NULL) == 0);
  p.stop = 1;
  CHECK(sim_run(sim) == SIM_STOPPED && p.took == 1 && sim_pending(sim) == 1);
  p.stop = 0;
  p.yield = 1;
  CHECK(sim_schedule(sim, 10, (uint32_t)c, 0, 12, NULL) == 0);
  CHECK(sim_run(sim) == SIM_YIELDED && p.took == 1 && sim_pending(sim) == 1);
  p.yield = 0;
  CHECK(sim_run(sim) == SIM_OK && p.took == 1 && sim_pending(sim) == 0);
  /* shuffled ties hand out batches: no taking */
  sim_set_shuffle(sim, 1, 3);
  CHECK(sim_schedule(sim, 20, (uint32_t)c, 0, 13, NULL) == 0);
  CHECK(sim_schedule(sim, 20, (uint32_t)c, 0, 14, NULL) == 0);
  CHECK(sim_run(sim) == SIM_OK && p.took == 1);
  sim_set_shuffle(sim, 0, 0);
  /* a trace hook would run inside the handler: no taking */
  sim_set_trace(sim, no_trace, NULL);
  CHECK(sim_schedule(sim, 21, (uint32_t)c, 0, 13, NULL) == 0);
  CHECK(sim_schedule(sim, 21, (uint32_t)c, 0, 14, NULL) == 0);
  CHECK(sim_run(sim) == SIM_OK && p.took == 1);
  sim_set_trace(sim, NULL, NULL);
  /* refused because the next event is another component's, parked far
  ** ahead in a slot with others (a cascade would come first): the wheel
  ** must not have moved, so an event scheduled at now + 1 still comes
  ** before it */
  CHECK(sim_schedule(sim, 30, (uint32_t)c, 0, 15, NULL) == 0);
  CHECK(sim_schedule(sim, 3000000000, (uint32_t)other, 0, 16, NULL) == 0);
  CHECK(sim_schedule(sim, 3000000001, (uint32_t)other, 0, 17, NULL) == 0);
  p.schedule_at_now = 1;
  p.tries = p.took = 0;
  CHECK(sim_step(sim) == SIM_OK && p.tries == 1); /* t=30, schedules 31 */
  p.schedule_at_now = 0;
  CHECK(sim_run(sim) == SIM_OK);
  CHECK(sim_now(sim) == 3000000001 && sim_handled(sim) == 20);
  sim_free(sim);
}

int main(void) {
  test_same_as_loop();
  test_refusals();
  if (failures)
    fprintf(stderr, "test_sim_take: %d check(s) failed\n", failures);
  return failures != 0;
}
