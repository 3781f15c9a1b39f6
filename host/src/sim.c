/*
** sim.c -- the simulation: clock, components and the dispatch loop.
**
** The loop, read top to bottom: pop the earliest event from the wheel (which
** also moves the clock to its time), find its component, call the handler,
** call the trace hook, repeat. Everything else is bookkeeping around it.
*/
#include "sim.h"

#include <stdatomic.h>

typedef struct sim_component {
  sim_handler fn;
  void *ctx;
} sim_component;

struct des_sim {
  wheel *queue;
  des_allocf allocf;
  void *ud;
  sim_component *comps;
  uint32_t ncomps, capcomps;
  int running;             /* inside sim_step / sim_run* */
  atomic_int stop;         /* sim_stop was called */
  sim_trace_fn trace;
  void *trace_ctx;
};

des_sim *sim_new(des_allocf allocf, void *ud) {
  des_sim *sim;
  if (allocf == NULL)
    allocf = des_default_alloc;
  sim = allocf(ud, NULL, 0, sizeof(*sim));
  if (sim == NULL)
    return NULL;
  sim->queue = wheel_new(allocf, ud);
  if (sim->queue == NULL) {
    allocf(ud, sim, sizeof(*sim), 0);
    return NULL;
  }
  sim->allocf = allocf;
  sim->ud = ud;
  sim->comps = NULL;
  sim->ncomps = sim->capcomps = 0;
  sim->running = 0;
  atomic_init(&sim->stop, 0);
  sim->trace = NULL;
  sim->trace_ctx = NULL;
  return sim;
}

void sim_free(des_sim *sim) {
  if (sim == NULL)
    return;
  wheel_free(sim->queue);
  sim->allocf(sim->ud, sim->comps, sim->capcomps * sizeof(sim_component), 0);
  sim->allocf(sim->ud, sim, sizeof(*sim), 0);
}

des_time sim_now(const des_sim *sim) {
  return wheel_now(sim->queue);
}

size_t sim_pending(const des_sim *sim) {
  return wheel_count(sim->queue);
}

int sim_running(const des_sim *sim) {
  return sim->running;
}

/* Components live in a growable array; their id is the index. */
int sim_add_component(des_sim *sim, sim_handler fn, void *ctx) {
  if (sim->ncomps == sim->capcomps) {
    uint32_t ncap = sim->capcomps ? sim->capcomps * 2 : 4;
    sim_component *c =
        sim->allocf(sim->ud, sim->comps, sim->capcomps * sizeof(*c),
                    ncap * sizeof(*c));
    if (c == NULL)
      return WHEEL_ENOMEM;
    sim->comps = c;
    sim->capcomps = ncap;
  }
  sim->comps[sim->ncomps].fn = fn;
  sim->comps[sim->ncomps].ctx = ctx;
  return (int)sim->ncomps++;
}

int sim_schedule(des_sim *sim, des_time when, uint32_t component,
                 uint32_t kind, uint64_t data, wheel_handle *out) {
  wheel_payload p;
  if (component >= sim->ncomps)
    return SIM_ENOCOMP;
  p.data = data;
  p.target = component;
  p.kind = kind;
  return wheel_schedule(sim->queue, when, &p, out);
}

int sim_cancel(des_sim *sim, wheel_handle h) {
  return wheel_cancel(sim->queue, h);
}

int sim_time_after(const des_sim *sim, des_time dt, des_time *out) {
  des_time now = sim_now(sim);
  if (dt < 0)
    return WHEEL_ERANGE;
  if (dt > DES_TIME_MAX - now)
    return SIM_EOVERFLOW;
  *out = now + dt;
  return 0;
}

int sim_peek(des_sim *sim, des_time *when) {
  return wheel_peek(sim->queue, when);
}

/* Pop one event and hand it to its component. Assumes one is pending. */
static int sim_dispatch(des_sim *sim) {
  wheel_event we;
  sim_event ev;
  const sim_component *c;
  int rc = wheel_pop(sim->queue, &we);
  if (rc != WHEEL_OK)
    return rc;
  ev.when = we.when;
  ev.seq = we.seq;
  ev.handle = we.handle;
  ev.component = we.payload.target;
  ev.kind = we.payload.kind;
  ev.data = we.payload.data;
  c = &sim->comps[ev.component];
  rc = c->fn(sim, c->ctx, &ev);
  if (sim->trace != NULL)
    sim->trace(sim->trace_ctx, &ev);
  return rc;
}

int sim_step(des_sim *sim) {
  int rc;
  if (sim->running)
    return SIM_ERUNNING;
  sim->running = 1;
  rc = sim_dispatch(sim);
  sim->running = 0;
  return rc;
}

/* The run loop shared by sim_run and sim_run_until: dispatch while the next
** event is before `limit` (inclusive when `inclusive`), honouring stops. */
static int sim_loop(des_sim *sim, des_time limit, int inclusive) {
  des_time next;
  int rc = 0;
  if (sim->running)
    return SIM_ERUNNING;
  sim->running = 1;
  atomic_store(&sim->stop, 0);
  for (;;) {
    if (atomic_exchange(&sim->stop, 0)) {
      rc = 1;
      break;
    }
    if (wheel_peek(sim->queue, &next) != WHEEL_OK)
      break;
    if (next > limit || (next == limit && !inclusive))
      break;
    rc = sim_dispatch(sim);
    if (rc != 0)
      break;
  }
  if (rc == 0 && !inclusive)
    wheel_advance(sim->queue, limit);
  sim->running = 0;
  return rc;
}

int sim_run_until(des_sim *sim, des_time t) {
  if (t < sim_now(sim))
    return WHEEL_EPAST;
  return sim_loop(sim, t, 0);
}

int sim_run(des_sim *sim) {
  return sim_loop(sim, DES_TIME_MAX, 1);
}

void sim_stop(des_sim *sim) {
  atomic_store(&sim->stop, 1);
}

void sim_set_trace(des_sim *sim, sim_trace_fn fn, void *ctx) {
  sim->trace = fn;
  sim->trace_ctx = ctx;
}

size_t sim_list(des_sim *sim, wheel_event *out, size_t n) {
  return wheel_list(sim->queue, out, n);
}

const char *sim_strerror(int code) {
  switch (code) {
  case SIM_ENOCOMP:
    return "no such component";
  case SIM_EOVERFLOW:
    return "time past the representable range";
  case SIM_ERUNNING:
    return "the simulation is already running";
  default:
    return wheel_strerror(code);
  }
}
