/*
** sim.c -- the simulation: clock, components and the dispatch loop.
**
** The loop, read top to bottom: take the earliest event (sim_next: from
** the wheel, which also moves the clock to its time), call the trace hook,
** call its component's handler, repeat. Everything else is bookkeeping.
**
** Tie shuffling (sim_set_shuffle) is the one twist: to let a modeller find
** results that depend on the arbitrary FIFO order of simultaneous events,
** sim_next then takes *all* events due at the next time into a batch and
** hands them out in a seeded random order. Events scheduled for that same
** time while the batch runs form the next batch. Cancelling an event that
** sits in the batch marks it dead there, so handles keep their meaning.
*/
#include "sim.h"

#include <stdatomic.h>
#include <stddef.h>

#include "rng.h"

typedef struct sim_component {
  sim_handler fn;
  void *ctx;
  sim_hint hint; /* or NULL */
} sim_component;

struct sim_state {
  wheel *queue;
  des_allocf allocf;
  void *ud;
  sim_component *comps;
  uint32_t ncomps, capcomps;
  int running;      /* inside sim_step / sim_run* */
  int looping;      /* inside sim_run* (sim_loop): sim_take_next may take */
  des_time limit;   /* and the limit of that run */
  atomic_int stop;  /* sim_stop was called */
  uint64_t handled; /* events handed to their components so far */
  atomic_int yield; /* sim_yield was called */
  int failure;      /* the value of the handler that stopped the last run */
  uint32_t failed;  /* and its component */
  sim_trace_fn trace;
  void *trace_ctx;
  /* tie shuffling */
  int shuffle;
  des_rng shuffle_rng;
  wheel_event *batch; /* events of one time, in the order to hand out */
  size_t nbatch, capbatch, ibatch; /* ibatch: next to hand out */
  size_t bdead; /* cancelled entries in batch[ibatch..nbatch) */
  /* where each batch entry sits, by its handle's node index (checked
  ** against the handle): a cancel, a pending check or a target look-up
  ** in a batch of many same-time events is O(1), not a walk of it (a
  ** model cancelling its events one by one made that quadratic) */
  uint32_t *bpos;
  size_t capbpos;
  int bpos_ok; /* bpos covers the batch (else: the walk, as before) */
};

#define SIM_DEAD UINT32_MAX /* component of a cancelled batch entry */

/* The one place where a wheel code becomes a simulation outcome. */
static int sim_from_wheel(int rc) {
  switch (rc) {
  case WHEEL_OK:
    return SIM_OK;
  case WHEEL_EPAST:
    return SIM_EPAST;
  case WHEEL_ENOMEM:
    return SIM_ENOMEM;
  case WHEEL_ESTALE:
    return SIM_ESTALE;
  case WHEEL_EMPTY:
    return SIM_EMPTY;
  default:
    return SIM_ERANGE;
  }
}

sim_state *sim_new(des_allocf allocf, void *ud) {
  sim_state *sim;
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
  sim->looping = 0;
  sim->limit = 0;
  atomic_init(&sim->stop, 0);
  sim->handled = 0;
  atomic_init(&sim->yield, 0);
  sim->failure = 0;
  sim->failed = 0;
  sim->trace = NULL;
  sim->trace_ctx = NULL;
  sim->shuffle = 0;
  sim->batch = NULL;
  sim->nbatch = sim->capbatch = sim->ibatch = sim->bdead = 0;
  sim->bpos = NULL;
  sim->capbpos = 0;
  sim->bpos_ok = 0;
  return sim;
}

void sim_free(sim_state *sim) {
  if (sim == NULL)
    return;
  wheel_free(sim->queue);
  sim->allocf(sim->ud, sim->comps, sim->capcomps * sizeof(sim_component), 0);
  sim->allocf(sim->ud, sim->batch, sim->capbatch * sizeof(wheel_event), 0);
  sim->allocf(sim->ud, sim->bpos, sim->capbpos * sizeof(uint32_t), 0);
  sim->allocf(sim->ud, sim, sizeof(*sim), 0);
}

des_time sim_now(const sim_state *sim) {
  return wheel_now(sim->queue);
}

/* Live entries left in the shuffled batch. */
static size_t batch_live(const sim_state *sim) {
  return sim->nbatch - sim->ibatch - sim->bdead;
}

/* The position of the live batch entry of handle h, or -1. */
static ptrdiff_t batch_find(const sim_state *sim, wheel_handle h) {
  size_t i;
  if (sim->bpos_ok) {
    uint32_t node = (uint32_t)h;
    if (node < sim->capbpos) {
      i = sim->bpos[node];
      if (i >= sim->ibatch && i < sim->nbatch && sim->batch[i].handle == h &&
          sim->batch[i].payload.target != SIM_DEAD)
        return (ptrdiff_t)i;
    }
    return -1;
  }
  for (i = sim->ibatch; i < sim->nbatch; i++)
    if (sim->batch[i].handle == h && sim->batch[i].payload.target != SIM_DEAD)
      return (ptrdiff_t)i;
  return -1;
}

size_t sim_pending(const sim_state *sim) {
  return wheel_count(sim->queue) + batch_live(sim);
}

uint64_t sim_handled(const sim_state *sim) {
  return sim->handled;
}

int sim_running(const sim_state *sim) {
  return sim->running;
}

/* Components live in a growable array; their id is the index. */
int sim_add_component(sim_state *sim, sim_handler fn, void *ctx) {
  if (sim->ncomps == sim->capcomps) {
    uint32_t ncap = sim->capcomps ? sim->capcomps * 2 : 4;
    sim_component *c = sim->allocf(
        sim->ud, sim->comps, sim->capcomps * sizeof(*c), ncap * sizeof(*c));
    if (c == NULL)
      return SIM_ENOMEM;
    sim->comps = c;
    sim->capcomps = ncap;
  }
  sim->comps[sim->ncomps].fn = fn;
  sim->comps[sim->ncomps].ctx = ctx;
  sim->comps[sim->ncomps].hint = NULL;
  return (int)sim->ncomps++;
}

int sim_set_hint(sim_state *sim, uint32_t component, sim_hint hint) {
  if (component >= sim->ncomps)
    return SIM_ENOCOMP;
  sim->comps[component].hint = hint;
  return SIM_OK;
}

/* Hints pay off only when what handlers touch no longer stays in the
** cache between two visits: with many pending events (ping's 1000 tasks:
** -3% time), not with a few (M/M/2's 3: +4% instructions for nothing). */
#define SIM_HINT_PENDING 128

/* Tell the next event's component what comes (sim_set_hint), when the
** wheel knows it without moving anything: while the loop pops it, what
** its handler touches is loaded. */
static void sim_hint_next(const sim_state *sim) {
  const wheel_payload *p = wheel_next_ready(sim->queue);
  const sim_component *c;
  if (p == NULL || p->target >= sim->ncomps)
    return;
  c = &sim->comps[p->target];
  if (c->hint != NULL)
    c->hint(c->ctx, p->kind, p->data);
}

int sim_schedule(sim_state *sim, des_time when, uint32_t component,
                 uint32_t kind, uint64_t data, wheel_handle *out) {
  wheel_payload p;
  if (component >= sim->ncomps)
    return SIM_ENOCOMP;
  p.data = data;
  p.target = component;
  p.kind = kind;
  return sim_from_wheel(wheel_schedule(sim->queue, when, &p, out));
}

int sim_cancel(sim_state *sim, wheel_handle h) {
  ptrdiff_t i;
  if (wheel_cancel(sim->queue, h) == WHEEL_OK)
    return SIM_OK;
  if ((i = batch_find(sim, h)) < 0) /* in the batch? */
    return SIM_ESTALE;
  sim->batch[i].payload.target = SIM_DEAD;
  sim->bdead++;
  return SIM_OK;
}

int sim_time_after(const sim_state *sim, des_time dt, des_time *out) {
  des_time now = sim_now(sim);
  if (dt < 0)
    return SIM_ERANGE;
  if (dt > DES_TIME_MAX - now)
    return SIM_EOVERFLOW;
  *out = now + dt;
  return SIM_OK;
}

/* Skip dead entries at the batch's front; empty it when used up. */
static void batch_settle(sim_state *sim) {
  while (sim->ibatch < sim->nbatch &&
         sim->batch[sim->ibatch].payload.target == SIM_DEAD) {
    sim->ibatch++;
    sim->bdead--;
  }
  if (sim->ibatch == sim->nbatch)
    sim->ibatch = sim->nbatch = sim->bdead = 0;
}

int sim_peek(sim_state *sim, des_time *when) {
  batch_settle(sim);
  if (sim->nbatch > 0) {
    *when = sim->batch[sim->ibatch].when;
    return SIM_OK;
  }
  return sim_from_wheel(wheel_peek(sim->queue, when));
}

/* Grow the batch array (doubling). */
static int batch_grow(sim_state *sim) {
  size_t ncap = sim->capbatch ? sim->capbatch * 2 : 64;
  wheel_event *b = sim->allocf(sim->ud, sim->batch, sim->capbatch * sizeof(*b),
                               ncap * sizeof(*b));
  if (b == NULL)
    return SIM_ENOMEM;
  sim->batch = b;
  sim->capbatch = ncap;
  return 0;
}

/* A uniform integer in [0, n), n >= 1, without modulo bias. */
static uint64_t shuffle_below(des_rng *r, uint64_t n) {
  uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;
  do
    x = des_rng_next(r);
  while (x >= limit);
  return x % n;
}

/* Record where each batch entry sits (bpos); without the memory for it,
** the look-ups walk the batch. */
static void batch_index(sim_state *sim) {
  size_t i, need = 0;
  for (i = 0; i < sim->nbatch; i++)
    if ((size_t)(uint32_t)sim->batch[i].handle + 1 > need)
      need = (size_t)(uint32_t)sim->batch[i].handle + 1;
  sim->bpos_ok = 0;
  if (need > sim->capbpos) {
    size_t ncap = sim->capbpos ? sim->capbpos : 64;
    uint32_t *p;
    while (ncap < need)
      ncap *= 2;
    p = sim->allocf(sim->ud, sim->bpos, sim->capbpos * sizeof(*p),
                    ncap * sizeof(*p));
    if (p == NULL)
      return;
    sim->bpos = p;
    sim->capbpos = ncap;
  }
  for (i = 0; i < sim->nbatch; i++)
    sim->bpos[(uint32_t)sim->batch[i].handle] = (uint32_t)i;
  sim->bpos_ok = 1;
}

/* Move every event due at the next time into the batch and shuffle it
** (Fisher-Yates with the simulation's shuffle stream). */
static int batch_fill(sim_state *sim) {
  des_time t, next;
  size_t i;
  if (wheel_peek(sim->queue, &t) != WHEEL_OK)
    return SIM_EMPTY;
  sim->ibatch = sim->nbatch = sim->bdead = 0;
  do {
    if (sim->nbatch == sim->capbatch && batch_grow(sim) != 0) {
      if (sim->nbatch == 0)
        return SIM_ENOMEM;
      break; /* hand out what fits; the rest forms the next batch */
    }
    wheel_pop(sim->queue, &sim->batch[sim->nbatch++]);
  } while (wheel_peek(sim->queue, &next) == WHEEL_OK && next == t);
  for (i = sim->nbatch - 1; i > 0; i--) {
    size_t j = (size_t)shuffle_below(&sim->shuffle_rng, (uint64_t)i + 1);
    wheel_event tmp = sim->batch[i];
    sim->batch[i] = sim->batch[j];
    sim->batch[j] = tmp;
  }
  batch_index(sim);
  return SIM_OK;
}

/* Take the next event at a time <= limit: from the wheel, or the shuffled
** batch. SIM_EMPTY if there is none. */
static int sim_next(sim_state *sim, des_time limit, wheel_event *we) {
  des_time t;
  if (!sim->shuffle)
    return sim_from_wheel(wheel_pop_until(sim->queue, limit, we));
  if (sim_peek(sim, &t) != SIM_OK || t > limit)
    return SIM_EMPTY;
  if (sim->nbatch == 0) {
    int rc = batch_fill(sim);
    if (rc != 0)
      return rc;
  }
  *we = sim->batch[sim->ibatch++];
  return SIM_OK;
}

/* An event taken out of the queue becomes the handled event: counted,
** traced, described for its handler. */
static void sim_hand_out(sim_state *sim, const wheel_event *we, sim_event *ev) {
  ev->when = we->when;
  ev->handle = we->handle;
  ev->component = we->payload.target;
  ev->kind = we->payload.kind;
  ev->data = we->payload.data;
  sim->handled++;
  if (sim->trace != NULL)
    sim->trace(sim->trace_ctx, ev);
}

/* Take one event at a time <= limit and hand it to its component. A
** handler's non-zero value is kept aside (sim_failure), never returned:
** the outcomes stay the simulation's own whatever the handler says. With
** `hint`, the event after it is hinted (sim_hint_next) while this one is
** handled: its node is loaded first, its component told after. */
static inline __attribute__((always_inline)) int
sim_dispatch(sim_state *sim, des_time limit, int hint) {
  wheel_event we;
  sim_event ev;
  const sim_component *c;
  int rc = sim_next(sim, limit, &we);
  if (rc != SIM_OK)
    return rc;
  sim_hand_out(sim, &we, &ev);
  if (hint)
    wheel_prefetch_next(sim->queue);
  c = &sim->comps[ev.component];
  rc = c->fn(sim, c->ctx, &ev);
  if (rc == 0) {
    if (hint)
      sim_hint_next(sim);
    return SIM_OK;
  }
  sim->failure = rc;
  sim->failed = ev.component;
  return SIM_FAILED;
}

/* The events sim_take_next takes: of its component, of its kind or of one
** of its kinds (a bit each, for kinds below 32). */
typedef struct sim_want {
  uint32_t component, kind, kinds;
} sim_want;

static int sim_take_accept(const wheel_payload *p, void *ud) {
  const sim_want *want = ud;
  return p->target == want->component &&
         (p->kind == want->kind ||
          (p->kind < 32 && (want->kinds >> p->kind & 1) != 0));
}

/* What sim_loop would do next, done by the handler itself: the next event
** when it is due within the run's limit, no stop or yield is asked for, and
** it is for the same component and a kind wanted; never with tie shuffling
** (its batches), a trace hook (it would run inside the handler) or in
** sim_step (one event). wheel_pop_if looks before it moves anything (a
** cascade moves the cursor, which only a pop may do). Hints as sim_loop
** does (sim_dispatch). */
static int sim_take(sim_state *sim, const sim_want *want, sim_event *ev) {
  wheel_event we;
  int hint;
  if (!sim->looping || sim->shuffle || sim->trace != NULL ||
      atomic_load_explicit(&sim->stop, memory_order_relaxed) ||
      atomic_load_explicit(&sim->yield, memory_order_relaxed))
    return 0;
  hint = wheel_count(sim->queue) >= SIM_HINT_PENDING;
  if (hint)
    sim_hint_next(sim);
  if (wheel_pop_if(sim->queue, sim->limit, sim_take_accept, (void *)want,
                   &we) != WHEEL_OK)
    return 0;
  sim_hand_out(sim, &we, ev);
  if (hint)
    wheel_prefetch_next(sim->queue);
  return 1;
}

int sim_take_next(sim_state *sim, uint32_t component, uint32_t kind,
                  sim_event *ev) {
  sim_want want;
  want.component = component;
  want.kind = kind;
  want.kinds = 0;
  return sim_take(sim, &want, ev);
}

int sim_take_next_of(sim_state *sim, uint32_t component, uint32_t kinds,
                     sim_event *ev) {
  sim_want want;
  want.component = component;
  want.kind = UINT32_MAX; /* no kind by itself: the bits only */
  want.kinds = kinds;
  return sim_take(sim, &want, ev);
}

int sim_step(sim_state *sim) {
  int rc;
  if (sim->running)
    return SIM_ERUNNING;
  sim->running = 1;
  rc = sim_dispatch(sim, DES_TIME_MAX, 0);
  sim->running = 0;
  return rc;
}

/* The run loop shared by sim_run and sim_run_until: dispatch events at
** times <= limit until none is left, a handler fails, or a stop. */
static int sim_loop(sim_state *sim, des_time limit) {
  int rc;
  if (sim->running)
    return SIM_ERUNNING;
  sim->running = sim->looping = 1;
  sim->limit = limit;
  atomic_store(&sim->stop, 0);
  do {
    if (atomic_load_explicit(&sim->stop, memory_order_relaxed)) {
      atomic_store(&sim->stop, 0);
      sim->running = sim->looping = 0;
      return SIM_STOPPED;
    }
    if (atomic_load_explicit(&sim->yield, memory_order_relaxed)) {
      atomic_store(&sim->yield, 0);
      sim->running = sim->looping = 0;
      return SIM_YIELDED;
    }
    rc = sim_dispatch(sim, limit,
                      !sim->shuffle &&
                          wheel_count(sim->queue) >= SIM_HINT_PENDING);
  } while (rc == SIM_OK);
  sim->running = sim->looping = 0;
  return rc == SIM_EMPTY ? SIM_OK : rc;
}

int sim_run_until(sim_state *sim, des_time t) {
  int rc;
  if (t < sim_now(sim))
    return SIM_EPAST;
  rc = sim_loop(sim, t - 1); /* events at exactly t are not handled */
  if (rc == SIM_OK)
    wheel_advance(sim->queue, t);
  return rc;
}

int sim_run_through(sim_state *sim, des_time t) {
  return sim_loop(sim, t);
}

int sim_run(sim_state *sim) {
  return sim_loop(sim, DES_TIME_MAX);
}

void sim_stop(sim_state *sim) {
  atomic_store(&sim->stop, 1);
}

void sim_yield(sim_state *sim) {
  atomic_store(&sim->yield, 1);
}

void sim_abandon_run(sim_state *sim) {
  sim->running = sim->looping = 0;
}

void sim_set_trace(sim_state *sim, sim_trace_fn fn, void *ctx) {
  sim->trace = fn;
  sim->trace_ctx = ctx;
}

size_t sim_list(sim_state *sim, wheel_event *out, size_t n) {
  size_t i, k = 0;
  for (i = sim->ibatch; i < sim->nbatch && k < n; i++)
    if (sim->batch[i].payload.target != SIM_DEAD)
      out[k++] = sim->batch[i];
  return k + wheel_list(sim->queue, out + k, n - k);
}

int sim_event_pending(sim_state *sim, wheel_handle h, des_time *when) {
  ptrdiff_t i;
  if (wheel_pending(sim->queue, h, when))
    return 1;
  if ((i = batch_find(sim, h)) < 0)
    return 0;
  if (when != NULL)
    *when = sim->batch[i].when;
  return 1;
}

int sim_event_target(sim_state *sim, wheel_handle h, uint32_t *component) {
  wheel_payload p;
  ptrdiff_t i;
  if (wheel_payload_of(sim->queue, h, &p)) {
    *component = p.target;
    return 1;
  }
  if ((i = batch_find(sim, h)) < 0)
    return 0;
  *component = sim->batch[i].payload.target;
  return 1;
}

void sim_set_shuffle(sim_state *sim, int on, uint64_t seed) {
  sim->shuffle = on;
  des_rng_stream(&sim->shuffle_rng, seed, "shuffle-ties", 12);
}

int sim_failure(const sim_state *sim, uint32_t *component) {
  if (component != NULL)
    *component = sim->failed;
  return sim->failure;
}

const char *sim_strerror(int code) {
  switch (code) {
  case SIM_OK:
    return "no error";
  case SIM_EMPTY:
    return "no pending event";
  case SIM_STOPPED:
    return "stopped by a request";
  case SIM_FAILED:
    return "a component's handler stopped the run";
  case SIM_ENOMEM:
    return "not enough memory";
  case SIM_EPAST:
    return "time is before the current time";
  case SIM_ERANGE:
    return "negative time";
  case SIM_ESTALE:
    return "stale handle (the event fired or was cancelled)";
  case SIM_ENOCOMP:
    return "no such component";
  case SIM_EOVERFLOW:
    return "time past the representable range";
  case SIM_ERUNNING:
    return "the simulation is already running";
  default:
    return "unknown error";
  }
}
