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

typedef struct des_sim des_sim;

/* One event as a component sees it. */
typedef struct sim_event {
  des_time when;
  wheel_handle handle; /* stale by the time the handler runs */
  uint32_t component;
  uint32_t kind;
  uint64_t data;
} sim_event;

/* A component's handler. Returning non-zero stops the run in progress:
** sim_step / sim_run / sim_run_until return that code. */
typedef int (*sim_handler)(des_sim *sim, void *ctx, const sim_event *ev);

/* Called before every event is handled, when set (tracing, breakpoints). */
typedef void (*sim_trace_fn)(void *ctx, const sim_event *ev);

/* Result codes: 0, the wheel's WHEEL_* codes, and these. Handlers' own
** codes should be positive so they never clash. */
#define SIM_EMPTY WHEEL_EMPTY /* nothing left to do */
#define SIM_ENOCOMP (-20)     /* no such component */
#define SIM_EOVERFLOW (-21)   /* time past the representable range */
#define SIM_ERUNNING (-22)    /* run/step called from inside a handler */

des_sim *sim_new(des_allocf allocf, void *ud);
void sim_free(des_sim *sim);

des_time sim_now(const des_sim *sim);
size_t sim_pending(const des_sim *sim);
int sim_running(const des_sim *sim);

/* Register a component; returns its id (>= 0) or a negative code. */
int sim_add_component(des_sim *sim, sim_handler fn, void *ctx);

/* Schedule an event at the explicit time `when` (>= now). */
int sim_schedule(des_sim *sim, des_time when, uint32_t component, uint32_t kind,
                 uint64_t data, wheel_handle *out);
int sim_cancel(des_sim *sim, wheel_handle h);

/* now + dt, or SIM_EOVERFLOW (dt must be >= 0). */
int sim_time_after(const des_sim *sim, des_time dt, des_time *out);

/* Time of the next event (read-only); SIM_EMPTY if none. */
int sim_peek(des_sim *sim, des_time *when);

/* Handle exactly one event. 0 when one was handled, SIM_EMPTY when the
** queue is empty, or the handler's non-zero code. */
int sim_step(des_sim *sim);

/* Handle events while their time is < t, then set the clock to t (as
** SimPy's run(until=t): an event at exactly t is not handled). Returns 0,
** or a handler's code, or 1 if sim_stop was called (the clock then stays at
** the last handled event). */
int sim_run_until(des_sim *sim, des_time t);

/* Handle events until none is left (0), a handler fails, or sim_stop (1). */
int sim_run(des_sim *sim);

/* Ask the run in progress to return after the current event. Only sets a
** flag, so it is safe from a handler; see deshost.h for threads. */
void sim_stop(des_sim *sim);

/* After an error unwound (longjmp) through a handler out of sim_step /
** sim_run*: mark the run as over. The queue is consistent: the event being
** handled was already taken out. */
void sim_abandon_run(des_sim *sim);

void sim_set_trace(des_sim *sim, sim_trace_fn fn, void *ctx);

/* Race exploration: when on, events due at the same time are handled in a
** random order drawn from a stream seeded by `seed` (the same seed replays
** the same order) instead of FIFO. */
void sim_set_shuffle(des_sim *sim, int on, uint64_t seed);

/* Is h a pending event? If so, *when (if not NULL) gets its time. */
int sim_event_pending(des_sim *sim, wheel_handle h, des_time *when);

/* Is h a pending event? If so, *component gets the component it is for. */
int sim_event_target(des_sim *sim, wheel_handle h, uint32_t *component);

/* Copy up to n next events in order, without changing anything (the
** payload's target is the component, its kind the component's kind). */
size_t sim_list(des_sim *sim, wheel_event *out, size_t n);

const char *sim_strerror(int code);

#endif
