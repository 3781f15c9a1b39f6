/*
** wheel.h -- the event queue: an exact, FIFO, hierarchical timer wheel.
**
** Stores events keyed by (time, scheduling order) and hands them back in that
** order. Knows nothing of Lua, tasks or components: an event carries an opaque
** 16-byte payload. See the comment block at the top of wheel.c for the design.
*/
#ifndef DES_WHEEL_H
#define DES_WHEEL_H

#include <stddef.h>
#include <stdint.h>

#include "dalloc.h"

typedef int64_t des_time; /* simulated time in ticks; valid times are >= 0 */

#define DES_TIME_MAX INT64_MAX

/* A handle names one scheduled event: (generation << 32) | node index.
** 0 is never a valid handle. A handle whose event fired or was cancelled is
** stale: the generation no longer matches. */
typedef uint64_t wheel_handle;

/* What the wheel stores for its user; it never looks inside. */
typedef struct wheel_payload {
  uint64_t data;   /* e.g. a task id, or a pointer cast to uintptr_t */
  uint32_t target; /* e.g. the component that handles the event */
  uint32_t kind;   /* e.g. the component's event kind */
} wheel_payload;

/* An event handed back by wheel_pop / wheel_list. */
typedef struct wheel_event {
  des_time when;
  wheel_handle handle;
  wheel_payload payload;
} wheel_event;

/* The wheel's outcomes (0 or negative). They are the wheel's own: the
** simulation above maps them to its SIM_* outcomes (sim.c), never passes
** them on as they are. */
enum wheel_status {
  WHEEL_OK = 0,
  WHEEL_EPAST = -1,  /* time before the wheel's current time */
  WHEEL_ENOMEM = -2, /* the allocator refused */
  WHEEL_ESTALE = -3, /* handle of an event that fired or was cancelled */
  WHEEL_EMPTY = -4,  /* no event pending (or none before a limit) */
  WHEEL_ERANGE = -5  /* negative time */
};

typedef struct wheel wheel;

/* Create an empty wheel at time 0; allocf NULL means des_default_alloc.
** Returns NULL when out of memory. */
wheel *wheel_new(des_allocf allocf, void *ud);
void wheel_free(wheel *w);

/* The wheel's current time: the time of the last popped event or the last
** wheel_advance, never decreasing. */
des_time wheel_now(const wheel *w);

/* Number of pending (scheduled, not fired, not cancelled) events. */
size_t wheel_count(const wheel *w);

/* Schedule an event at `when` (>= wheel_now). O(1). *out (if not NULL) gets
** its handle. WHEEL_EPAST / WHEEL_ERANGE / WHEEL_ENOMEM leave the wheel as it
** was. Events at equal times come back in the order they were scheduled. */
int wheel_schedule(wheel *w, des_time when, const wheel_payload *p,
                   wheel_handle *out);

/* Cancel a pending event. O(1). WHEEL_ESTALE (and nothing else happens) if
** the handle is stale, 0, or was never issued by this wheel. */
int wheel_cancel(wheel *w, wheel_handle h);

/* Is h a pending event? If so and when != NULL, *when gets its time. */
int wheel_pending(const wheel *w, wheel_handle h, des_time *when);

/* The payload of pending event h: 1 and *out, or 0 if h is stale. */
int wheel_payload_of(const wheel *w, wheel_handle h, wheel_payload *out);

/* Time of the next event, read-only (never moves the current time).
** WHEEL_EMPTY if nothing is pending. */
int wheel_peek(wheel *w, des_time *when);

/* Remove the next event into *ev and set the current time to its time.
** WHEEL_EMPTY if nothing is pending. */
int wheel_pop(wheel *w, wheel_event *ev);

/* wheel_pop, but only an event at a time <= limit (else WHEEL_EMPTY, and
** the current time stays). The run loop's one call per event. */
int wheel_pop_until(wheel *w, des_time limit, wheel_event *ev);

/* wheel_pop_until, but only when accept(payload, ud) is non-zero for the
** next event's payload; otherwise WHEEL_EMPTY and nothing has changed (the
** next event is found by reading only, before any cascade). For a handler
** that takes a run of its own events (sim_take_next). */
typedef int (*wheel_accept)(const wheel_payload *p, void *ud);
int wheel_pop_if(wheel *w, des_time limit, wheel_accept accept, void *ud,
                 wheel_event *ev);

/* The payload of the next event when the next pop takes it where it lies
** (no cascade, no cancelled entry to skip), else NULL (although events may
** be pending). Reads only; valid until the wheel changes. For hints: what
** the next handler will touch can be loaded ahead (sim_set_hint). */
const wheel_payload *wheel_next_ready(const wheel *w);
/* Start loading the node of that next event (a prefetch, reads only). */
void wheel_prefetch_next(const wheel *w);

/* Move the current time forward to t (no-op if t <= now). Precondition: no
** pending event is earlier than t (callers peek first); returns WHEEL_EPAST
** and does nothing if one is. */
int wheel_advance(wheel *w, des_time t);

/* Copy up to n of the next pending events, in pop order, into out without
** changing anything; returns how many were copied. O(pending) -- for
** listings (REPL, diagnostics), not for the hot path. */
size_t wheel_list(wheel *w, wheel_event *out, size_t n);

/* Drop every pending event (their handles become stale); the current time
** stays where it is. */
void wheel_clear(wheel *w);

/* Human-readable text for a WHEEL_* code. */
const char *wheel_strerror(int code);

#endif
