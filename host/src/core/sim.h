/*
** sim.h -- the simulation: the clock, components and dispatch.
**
** A simulation owns one event queue (wheel.h) and a table of components,
** each a C handler with its own context. An event names its component, a
** kind the component defines and a 64-bit payload. No Lua here.
*/
#ifndef DES_SIM_H
#define DES_SIM_H

#include "wheel.h"

typedef struct sim_state sim_state;

/* One event as a component sees it. */
typedef struct sim_event {
  des_time when;
  wheel_handle handle; /* stale by the time the handler runs */
  uint32_t component;
  uint32_t kind;
  uint64_t data;
} sim_event;

/* A component's handler. 0 goes on; any other value (every int is the
** handler's own) stops the run in progress, which then returns SIM_FAILED
** and keeps the value for sim_failure. */
typedef int (*sim_handler)(sim_state *sim, void *ctx, const sim_event *ev);

/* Called before every event is handled, when set (tracing, breakpoints). */
typedef void (*sim_trace_fn)(void *ctx, const sim_event *ev);

/* The simulation's outcomes: its own, never a handler's value nor a wheel
** code. Positive: how a step or run ended when nothing went wrong;
** negative: errors (nothing changed). */
enum sim_status {
  SIM_OK = 0,
  SIM_EMPTY = 1,      /* nothing (left) to do */
  SIM_STOPPED = 2,    /* sim_stop ended a run */
  SIM_FAILED = 3,     /* a handler returned non-zero: see sim_failure */
  SIM_YIELDED = 4,    /* sim_yield ended a run (the caller goes on) */
  SIM_ENOMEM = -1,    /* the allocator refused */
  SIM_EPAST = -2,     /* a time before the current time */
  SIM_ERANGE = -3,    /* a negative time or duration */
  SIM_ESTALE = -4,    /* a handle of an event that fired or was cancelled */
  SIM_ENOCOMP = -5,   /* no such component */
  SIM_EOVERFLOW = -6, /* time past the representable range */
  SIM_ERUNNING = -7   /* run/step called from inside a handler */
};

sim_state *sim_new(des_allocf allocf, void *ud);
void sim_free(sim_state *sim);

des_time sim_now(const sim_state *sim);
size_t sim_pending(const sim_state *sim);

/* The number of events handed to their components so far (a progress
** counter: one increment per event). */
uint64_t sim_handled(const sim_state *sim);
int sim_running(const sim_state *sim);

/* Register a component; returns its id (>= 0) or SIM_ENOMEM. */
int sim_add_component(sim_state *sim, sim_handler fn, void *ctx);

/* A component's hint: the kind and data of an event of it that comes next
** (or soon), given while an earlier event is handled so that the hint can
** start loading (prefetching) what its handler will touch. It must change
** nothing: the event may yet be cancelled or come later. */
typedef void (*sim_hint)(void *ctx, uint32_t kind, uint64_t data);

/* Set (or clear, NULL) a component's hint: SIM_OK or SIM_ENOCOMP. */
int sim_set_hint(sim_state *sim, uint32_t component, sim_hint hint);

/* Schedule an event at the explicit time `when` (>= now): SIM_OK, or
** SIM_ENOCOMP / SIM_EPAST / SIM_ERANGE / SIM_ENOMEM with nothing done. */
int sim_schedule(sim_state *sim, des_time when, uint32_t component,
                 uint32_t kind, uint64_t data, wheel_handle *out);
/* Cancel a pending event: SIM_OK, or SIM_ESTALE (and nothing else). */
int sim_cancel(sim_state *sim, wheel_handle h);

/* now + dt: SIM_OK, SIM_ERANGE (dt < 0) or SIM_EOVERFLOW. */
int sim_time_after(const sim_state *sim, des_time dt, des_time *out);

/* Time of the next event (read-only): SIM_OK, or SIM_EMPTY if none. */
int sim_peek(sim_state *sim, des_time *when);

/* For a handler that handles a run of its own events in one call (the
** scheduled calls of lsched.c): inside sim_run*, take the event the loop
** would dispatch next into *ev, counted as the loop would, if it is for
** `component` with `kind`, due within the run's limit, with no sim_stop or
** sim_yield pending, no tie shuffling and no trace hook; the handler then
** handles it as if called for it. 1 if taken, else 0 (sim_step: always 0).
** Only from inside a handler of this simulation. */
int sim_take_next(sim_state *sim, uint32_t component, uint32_t kind,
                  sim_event *ev);
/* sim_take_next for an event of `component` with any of the kinds below
** 32 whose bit is set in `kinds` (a run of its own events of mixed kinds:
** the runtime's task wakes, rt_handler). */
int sim_take_next_of(sim_state *sim, uint32_t component, uint32_t kinds,
                     sim_event *ev);

/* Handle exactly one event: SIM_OK when one was handled, SIM_EMPTY when
** the queue is empty, SIM_FAILED when its handler returned non-zero. */
int sim_step(sim_state *sim);

/* Handle events while their time is < t, then set the clock to t (as
** SimPy's run(until=t): an event at exactly t is not handled). Returns
** SIM_OK, SIM_FAILED (a handler), or SIM_STOPPED after sim_stop (the clock
** then stays at the last handled event). */
int sim_run_until(sim_state *sim, des_time t);

/* Handle the events due at times <= t, leaving the clock at the last one
** handled (a paced run's batch): SIM_OK, SIM_FAILED or SIM_STOPPED. */
int sim_run_through(sim_state *sim, des_time t);

/* Handle events until none is left (SIM_OK), a handler stops the run
** (SIM_FAILED), or sim_stop (SIM_STOPPED). */
int sim_run(sim_state *sim);

/* Ask the run in progress to return after the current event. Only sets a
** flag, so it is safe from a handler; see deshost.h for threads. */
void sim_stop(sim_state *sim);

/* Ask the run in progress to return SIM_YIELDED after the current event
** (or the next run at once): the host looks at the outside world (posts)
** and runs on. Apart from sim_stop, so that neither hides the other. Only
** sets a flag: safe from another thread or a signal handler. */
void sim_yield(sim_state *sim);

/* After an error unwound (longjmp) through a handler out of sim_step /
** sim_run*: mark the run as over. The queue is consistent: the event being
** handled was already taken out. */
void sim_abandon_run(sim_state *sim);

void sim_set_trace(sim_state *sim, sim_trace_fn fn, void *ctx);

/* Race exploration: when on, events due at the same time are handled in a
** random order drawn from a stream seeded by `seed` (the same seed replays
** the same order) instead of FIFO. */
void sim_set_shuffle(sim_state *sim, int on, uint64_t seed);

/* Is h a pending event? If so, *when (if not NULL) gets its time. */
int sim_event_pending(sim_state *sim, wheel_handle h, des_time *when);

/* Is h a pending event? If so, *component gets the component it is for. */
int sim_event_target(sim_state *sim, wheel_handle h, uint32_t *component);

/* Copy up to n next events in order, without changing anything (the
** payload's target is the component, its kind the component's kind). */
size_t sim_list(sim_state *sim, wheel_event *out, size_t n);

/* After SIM_FAILED: the value the handler returned, and (if component is
** not NULL) the component whose handler it was. 0 before any failure. */
int sim_failure(const sim_state *sim, uint32_t *component);

/* Human-readable text for a SIM_* outcome. */
const char *sim_strerror(int code);

#endif
