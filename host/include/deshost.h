/*
** deshost.h -- the public C API of deshost: embed a discrete-event
** simulation host (a Lua 5.4 state, a simulation and its task runtime) in a
** C program. This is the only public header.
**
**   des_config cfg;
**   des_host *h;
**   des_config_init(&cfg);
**   cfg.seed = 7;
**   if (des_host_new(&h, &cfg) != DES_OK) ...
**   if (des_load_file(h, "model.lua", 0, NULL) != DES_OK)
**     fprintf(stderr, "%s\n", des_last_error(h));
**   while (des_step(h) == DES_OK) ...      (or des_run / des_run_until)
**   des_host_free(h);
**
** Conventions (as libuv's): every function that can fail returns an int,
** DES_OK (0) or a positive status (DES_EMPTY, DES_STOPPED) when all went
** well, a negative DES_E* code when not; des_strerror names a code and
** des_last_error(h) gives the whole message (what went wrong, the task and
** simulated time, a Lua traceback where there is one). A failure leaves
** the host consistent and usable.
**
** des_last_error follows SQLite's rule: it is about the most recent call
** on h that returns a status -- its failure, or "" if it succeeded; calls
** that return a value instead (des_now, des_pending, ...) leave it. A
** message starts with the function called ("des_step: ...") and names the
** argument at fault ("des_eval_number: out is NULL").
**
** Arguments: a NULL host is never a crash: a call that returns a status
** returns DES_EINVAL, one that returns a value returns its zero (NULL, 0),
** a void one does nothing. The same holds for every pointer a call needs
** (DES_EINVAL with a message naming it); the pointers said to be optional
** ("may be NULL", "if not NULL") are.
**
** Time in this API is in ticks (des_time, signed 64-bit); a model's Lua
** numbers are in units of des_resolution(h) ticks (10^9 by default).
**
** Threads: a host belongs to one thread at a time; hosts share nothing, so
** several hosts may run in several threads at once. Only des_stop,
** des_interrupt and des_post may be called from another thread or from a
** signal handler (see "Real time" below). Inside a component's handler (during
*des_step / des_run*) a
** program may schedule, cancel, wake, trigger, read the clock and use Lua;
** it may not step, run, load files or free the host (DES_EBUSY).
*/
#ifndef DESHOST_H
#define DESHOST_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DESHOST_VERSION "0.1.0"
#define DESHOST_VERSION_NUM 100 /* major * 10000 + minor * 100 + patch */

/* Simulated time in ticks; valid times are >= 0. */
typedef int64_t des_time;

/* An allocator, with lua_Alloc's contract: nsize == 0 frees ptr, otherwise
** it behaves as realloc; when ptr is NULL, osize is not a size. */
typedef void *(*des_allocf)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct des_host des_host;

/* A scheduled event of a C component. 0 is never a valid handle; a handle
** whose event fired or was cancelled is stale, and stays so. */
typedef uint64_t des_handle;

/* Return codes. */
#define DES_OK 0
#define DES_EMPTY 1          /* status: no event left in the queue */
#define DES_STOPPED 2        /* status: des_stop ended the run early */
#define DES_PAUSED 3         /* status: des_pause returned; the run goes on */
#define DES_ENOMEM (-1)      /* out of memory */
#define DES_EINVAL (-2)      /* an argument is invalid */
#define DES_EFILE (-3)       /* a model file cannot be read */
#define DES_ESYNTAX (-4)     /* a model does not compile */
#define DES_EMODEL (-5)      /* Lua code raised an error nobody handled */
#define DES_EPAST (-6)       /* a time before the current time */
#define DES_ERANGE (-7)      /* a time past the simulated clock's range */
#define DES_ESTALE (-8)      /* a handle or caller that is no longer pending */
#define DES_EBUSY (-9)       /* not allowed while the simulation runs */
#define DES_EMEMLIMIT (-10)  /* the model reached the host's memory limit */
#define DES_EBUDGET (-11)    /* the model used up its instruction budget */
#define DES_EINTERRUPT (-12) /* des_interrupt stopped running Lua code */
#define DES_ENOTFOUND (-13)  /* no such global, function or component */
#define DES_EFULL (-20)      /* the post queue is full (des_post) */
#define DES_ECLOSED (-21)    /* the host takes no more posts */
#define DES_ELATE (-22)      /* a strict paced run fell behind the wall clock */

/* What a host is made from. Fill it with des_config_init, then change what
** you need; fields may be added at the end in later versions. */
typedef struct des_config {
  uint64_t seed;        /* seed of the default simulation's random streams */
  int64_t resolution;   /* ticks per model time unit (default 10^9) */
  des_allocf allocf;    /* every allocation of the host (NULL: realloc/free) */
  void *allocud;        /* allocf's first argument */
  size_t mem_limit;     /* bytes the host may hold at once; 0: no limit */
  uint64_t max_steps;   /* Lua VM instructions the host may run; 0: no limit */
  int sandbox;          /* non-zero: no io, os, debug, no C modules, no
                           binary chunks, no file loading from models */
  const char *lua_path; /* extra package.path entries ("dir/?.lua;..."),
                           ignored in a sandbox; may be NULL */
  double realtime;      /* > 0: a paced run, model units per wall second
                           (see des_set_realtime); 0: as fast as possible */
  double realtime_strict; /* > 0: a paced run more late than this many
                             wall seconds fails (DES_ELATE); 0: catch up */
  size_t post_capacity;   /* posts waiting at most (0: 1024) */
  size_t post_size;       /* bytes of data a post carries at most (0: 256) */
  int strict; /* DES_STRICT_ON: the calls whose results cannot repeat
                 (os.time(), os.clock(), os.date() without a time,
                 collectgarbage("count"), an address shown by tostring,
                 print or string.format) raise an error inside a run and
                 while a model loads; DES_STRICT_COUNT: they are only
                 counted (des_nondet_calls); 0: neither */
} des_config;

enum { DES_STRICT_OFF, DES_STRICT_ON, DES_STRICT_COUNT };

void des_config_init(des_config *cfg);

/* Create a host: a Lua state with the standard libraries (or the sandboxed
** subset) and the `des` module, whose default simulation is the host's.
** cfg may be NULL (the defaults of des_config_init); out may not. */
int des_host_new(des_host **out, const des_config *cfg);

/* The calls whose results cannot repeat (see des_config.strict) that the
** model made so far, inside a run or a load: fn(ctx, call, count) once per
** kind made, `call` naming it ("os.clock()", ...). Counted with
** DES_STRICT_COUNT, and with DES_STRICT_ON (the calls refused). Returns
** DES_OK, the callback's non-zero value that ended the listing, or
** DES_EINVAL. */
typedef int (*des_nondet_fn)(void *ctx, const char *call, uint64_t count);
int des_nondet_calls(des_host *h, des_nondet_fn fn, void *ctx);

/* Free the host, its simulation and every task, even suspended ones.
** Not from inside a handler. */
void des_host_free(des_host *h);

const char *des_strerror(int code);
const char *des_version(void);

/* The message of the most recent call on h that returns a status: "" if
** it succeeded (see the rule above). Valid until the next call on h. */
const char *des_last_error(const des_host *h);

/* ---- Models --------------------------------------------------------- */

/* Load a model file: its main chunk becomes a task named "main", started
** at the current time with the strings argv[0..argc-1] as its arguments
** (the model's `...`). Nothing runs until the simulation steps. */
int des_load_file(des_host *h, const char *path, int argc,
                  const char *const *argv);

/* The same from a string; chunkname names it in messages (NULL: "=model"). */
int des_load_string(des_host *h, const char *code, const char *chunkname);

/* Run Lua code at once, outside any task (as the REPL does): its first
** nresults results (LUA_MULTRET: all) are left on the Lua stack of
** des_lua(h). On failure nothing is left there. */
int des_dostring(des_host *h, const char *code, int nresults);

/* Call the global function `name` with the nargs values on top of the Lua
** stack, leaving nresults results (as lua_pcall, plus a traceback in the
** error message). DES_ENOTFOUND if there is no such function. */
int des_call(des_host *h, const char *name, int nargs, int nresults);

/* Call the function below the nargs values on top of the Lua stack, as
** des_call does: protected, with a traceback, the limits enforced and an
** interrupt served. */
int des_pcall(des_host *h, int nargs, int nresults);

/* Evaluate a Lua expression to a number (e.g. "queue:mean()"). */
int des_eval_number(des_host *h, const char *expr, double *out);

/* ---- Running -------------------------------------------------------- */

/* Handle exactly one event: DES_OK, or DES_EMPTY when none is left. */
int des_step(des_host *h);

/* Handle events until none is left, or only daemon tasks and their own
** wakes are (docs/lua-api.md "How a run ends"): DES_OK, or DES_STOPPED
** after des_stop. Both end the run and run the simulation's end hooks
** (des.at_end); DES_PAUSED (des_pause) does not end it. */
int des_run(des_host *h);

/* Handle the events due before t, then set the clock to t (an event at
** exactly t is not handled, as SimPy's run(until=t)): DES_OK or
** DES_STOPPED (the clock then stays at the last handled event). Daemon
** tasks run on to t. */
int des_run_until(des_host *h, des_time t);

/* The time of the next event, or DES_EMPTY. */
int des_peek(des_host *h, des_time *when);

des_time des_now(const des_host *h);
size_t des_pending(const des_host *h);

/* The number of events the simulation has handled so far (0 once it is
** closed): with des_now, what a progress line or a report shows. */
uint64_t des_events_handled(const des_host *h);

/* Push onto des_lua(h)'s stack one JSON text: {"dropped": n, "statistics":
** [...]}, the report of every statistic of the host's simulation (its
** monitors, the statistics of its resources, stores and containers, with
** the time series of levels), as des.monitor.report_json gives it. What
** the CLI's --report draws; nothing is pushed on failure. */
int des_statistics(des_host *h);
int64_t des_resolution(const des_host *h);

/* Model units <-> ticks, with the rounding of the Lua API: whole units
** times the resolution plus the rounded fraction, and a duration > 0 is
** at least one tick. des_ticks: DES_EINVAL for NaN or a negative number,
** DES_ERANGE for infinity or past the clock's range (*out untouched). */
double des_units(const des_host *h, des_time ticks);
int des_ticks(const des_host *h, double units, des_time *out);

/* Ask the run in progress to return DES_PAUSED after the current event,
** without ending it: no end hooks run, and the next des_run or
** des_run_until goes on where it paused (a progress line, a GUI's frame).
** A run that is not in progress pauses at its start. Safe from a handler,
** a signal handler or another thread. */
void des_pause(des_host *h);

/* Ask the run in progress to return DES_STOPPED after the current event.
** A run of another simulation that Lua code started (sim:run, sim:step,
** des.replicate) stops after its current event too and raises "run:
** stopped at t=T by a stop request to the host", as does one started
** before the host's call returns, so that the Lua code unwinds; the next
** top-level call (des_run, des_step, des_pcall, des_dostring,
** des_load_*) forgets the request. Safe from a handler, a signal handler
** or another thread. */
void des_stop(des_host *h);

/* Stop Lua code that is running now (a model stuck in `while true do
** end`): the coroutine running now (the running task's, else the main
** one) gets the error "interrupted by the host" at its next instruction,
** and again at every instruction until the host call returns, so that a
** pcall in the model cannot swallow it; the call returns DES_EINTERRUPT.
** Also stops the run as des_stop does. Safe from a signal handler or
** another thread: with the vendored Lua it only stores flags, and the
** thread that runs takes the interrupt itself at its next jump, call or
** library checkpoint, with or without a budget; every coroutine that runs
** until the call returns meets it too (tasks, the model's own coroutines),
** but once a coroutine raised it, the host's own Lua on the main thread
** (a REPL session reporting the failure) goes on. (With the system's Lua
** only the coroutine running at the interrupt is reached.) */
void des_interrupt(des_host *h);

/* Give the model a new instruction budget, counted from now (0: none). */
void des_set_budget(des_host *h, uint64_t max_steps);

/* Bytes the host holds now. */
size_t des_memory(const des_host *h);

/* Trace every handled event as one line ("t=<units> [<ticks>] <kind>
** <what>") to fn, or stop tracing with fn == NULL. */
typedef void (*des_trace_fn)(void *ctx, const char *line);
int des_set_trace(des_host *h, des_trace_fn fn, void *ctx);

/* Order events due at the same time by a random permutation drawn from
** seed instead of FIFO (on != 0), to find results that depend on an
** arbitrary tie order. The same seed replays the same order. */
void des_shuffle_ties(des_host *h, int on, uint64_t seed);

/* ---- Tasks ------------------------------------------------------------ */

/* What a live task of the host's simulation is doing. */
enum {
  DES_TASK_READY,    /* spawned or woken; its resume is scheduled */
  DES_TASK_RUNNING,  /* executing now (the caller is inside it) */
  DES_TASK_SLEEPING, /* in des.sleep */
  DES_TASK_WAITING   /* waiting on an event, a task, a resource, a call... */
};

/* A live task as des_tasks shows it. The strings are valid during the
** callback only. */
typedef struct des_task_info {
  uint64_t id;             /* an opaque handle: stale once the task ended */
  uint64_t serial;         /* spawn order in the simulation, from 1: the
                              Lua task.id, and des_caller.task */
  const char *name;        /* its name, "" if it has none */
  int state;               /* DES_TASK_* */
  int daemon;              /* non-zero: a daemon (left out of deadlocks) */
  const char *waiting_on;  /* what it sleeps or waits on ("sleep", "event",
                              "join", ...), "" when ready or running */
  des_time since;          /* when that sleep or wait began (ticks) */
  const char *description; /* what it waits on, named for people:
                              "waiting on event 'a-ready'", "joining task
                              'parent' (#3)", "queued at resource 'clerk'",
                              "sleeping", ...; "" when ready or running.
                              Valid during the callback only. */
} des_task_info;

/* Called once per task; a non-zero return ends the listing. */
typedef int (*des_task_fn)(void *ctx, const des_task_info *task);

/* List the live tasks of the host's default simulation in spawn order,
** without running any Lua code (safe after any failure, at the memory
** limit, in a sandbox whatever the model did to its globals). Returns
** DES_OK, the callback's non-zero value that ended the listing, or
** DES_EINVAL / DES_ENOMEM. fn may read the host (des_now, des_units) but
** must not run Lua, step or free it. */
int des_tasks(des_host *h, des_task_fn fn, void *ctx);

/* The coroutine of the live task at index idx of des_lua(h)'s stack (a
** des.task value), for debuggers: lua_getstack / lua_getlocal on it read
** the task where it is suspended, as the REPL's `frame`, `list` and locals
** do. NULL when the value is not a task, or the task ended. Never resume
** or close it: the task runtime alone does (models cannot reach it). */
lua_State *des_task_thread(des_host *h, int idx);

/* ---- C components ----------------------------------------------------- */

/* Who sent an event with component:call from Lua, so that the component
** can answer with des_wake. {0, 0} for events sent otherwise. */
typedef struct des_caller {
  uint64_t task; /* the calling task: its Lua `task.id` (its serial) */
  uint64_t call; /* which of its calls (opaque: pass it back to des_wake) */
} des_caller;

/* An event as a component's handler sees it. */
typedef struct des_event {
  des_time when;     /* when it is due: the current time */
  des_handle handle; /* its handle, stale by now */
  int component;     /* the component it was sent to */
  uint32_t kind;     /* the component's own event kind */
  uint64_t data;     /* payload */
  des_caller caller; /* the Lua task to answer, for component:call */
} des_event;

/* A component's handler. Returning 0 goes on. Returning any other int
** stops the run after this event: des_step / des_run / des_run_until
** return exactly that value (it never mixes with the host's own codes on
** the way, so even 1, 2 or a DES_E* value comes back as it was; choosing
** values apart from DES_* keeps them easy to tell apart), and
** des_last_error names the component and the time. */
typedef int (*des_handler)(des_host *h, void *ctx, const des_event *ev);

/* Add a C component named `name` (how Lua finds it: des.component(name));
** returns its id (>= 0) or a negative code. */
int des_component_add(des_host *h, const char *name, des_handler fn, void *ctx);

/* Schedule an event for component `component` at the explicit time `when`
** (>= now). *out (if not NULL) gets its handle. */
int des_schedule(des_host *h, des_time when, int component, uint32_t kind,
                 uint64_t data, des_handle *out);

/* Cancel a scheduled event: DES_OK, or DES_ESTALE if it already fired or
** was cancelled (harmless). */
int des_cancel(des_host *h, des_handle handle);

/* Answer a Lua task waiting in component:call: at time `when` (>= now) its
** call returns `value`. DES_ESTALE if that call was answered already, or
** the task was interrupted, cancelled or ended meanwhile. */
int des_wake(des_host *h, des_caller caller, des_time when, int64_t value);

/* Call a Lua function at time `when` (>= now), outside any task, as
** des.at does: the function is below the nargs arguments on top of the
** stack (all popped). *out (if not NULL) gets its handle for
** des_call_cancel. An error inside the function stops the run that calls
** it (DES_EMODEL, with its message and traceback). */
int des_call_at(des_host *h, des_time when, int nargs, des_handle *out);

/* Cancel a call made by des_call_at: DES_OK, or DES_ESTALE if it was
** called or cancelled already (harmless). */
int des_call_cancel(des_host *h, des_handle handle);

/* Trigger the des.event at index idx of the Lua stack: it succeeds with the
** nvalues values on top of the stack (popped), at the current time. */
int des_trigger(des_host *h, int idx, int nvalues);

/* ---- Random streams ---------------------------------------------------- */

/* A stream of the host's seed, as des.rng(name) gives the model: the same
** (seed, name) gives the same numbers on every platform, and streams of
** different names are independent (NULL: "default"). NULL on no memory;
** free it with des_rng_free. */
typedef struct des_rng des_rng;
des_rng *des_rng_new(des_host *h, const char *name);
void des_rng_free(des_host *h, des_rng *r);

/* Draws; the parameters are trusted (the Lua binding checks them). */
uint64_t des_rng_next(des_rng *r);                         /* 64 bits */
double des_rng_double(des_rng *r);                         /* [0, 1) */
double des_rng_uniform(des_rng *r, double a, double b);    /* [a, b) */
int64_t des_rng_integer(des_rng *r, int64_t a, int64_t b); /* [a, b] */
double des_rng_exponential(des_rng *r, double mean);
double des_rng_normal(des_rng *r, double mu, double sd);
double des_rng_lognormal(des_rng *r, double mu, double sigma);
double des_rng_triangular(des_rng *r, double low, double mode, double high);
int des_rng_bernoulli(des_rng *r, double p);
double des_rng_gamma(des_rng *r, double k, double theta);
double des_rng_erlang(des_rng *r, int64_t k, double mean);
double des_rng_beta(des_rng *r, double a, double b);
double des_rng_weibull(des_rng *r, double shape, double scale);
int64_t des_rng_poisson(des_rng *r, double mean); /* mean <= 1e15 */
double des_rng_empirical(des_rng *r, const double *x, size_t n,
                         int interpolate); /* x sorted if interpolate */

/* ---- Experiments -------------------------------------------------------*/

/* Set the model's parameter `name` to the text `value`, which des.param
** converts to its default's type (a number when it reads as one). Set
** before des_load_file: the model reads it when it runs. */
int des_set_param(des_host *h, const char *name, const char *value);

/* The parameters the model asked for with des.param so far, in the order
** first asked: fn gets each name and its default as text ("nil" for none).
** Runs no Lua code. Returns DES_OK or the callback's non-zero value. */
typedef int (*des_param_fn)(void *ctx, const char *name, const char *dflt);
int des_params(des_host *h, des_param_fn fn, void *ctx);

/* Push onto des_lua(h)'s stack the first value the main chunk of the model
** loaded last returned (a run's results; nil if it returned nothing).
** DES_ENOTFOUND, pushing nothing, if no model was loaded or its main task
** has not returned (still running, failed, cancelled). */
int des_results(des_host *h);

/* The seed of replication i (from 0) at the sweep point whose canonical
** encoding (docs/experiments.md: "name=value\n" per parameter, sorted by
** name) is point[0..len-1], in an experiment of seed `seed`: splitmix64
** over the encoding, always < 2^63. Runs never share seeds by accident. */
uint64_t des_seed_mix(uint64_t seed, const char *point, size_t len, uint64_t i);

/* ---- Real time: paced runs and posts from other threads ---------------
**
** A paced run ties simulated time to the wall clock: an event at model
** time t is handled when (t - t0) / factor wall seconds have passed since
** the run's anchor (the first paced run after des_set_realtime, at model
** time t0). The host sleeps on a monotonic clock in between (never
** spins), wakes at once for a post or des_stop, and never lets the clock
** run ahead of the wall clock (des_run_until(h, t) returns at t's wall
** time). A run that falls behind catches up and records how late it was
** (des_realtime_stats), or, in strict mode, fails with DES_ELATE naming
** the event's time and how late it is. Pacing only decides WHEN events are
** handled: the same seed gives the same events, paced or not.
**
** Posts are input from the outside world: des_post copies a message into
** a bounded, lock-free queue (post_capacity slots of post_size bytes,
** allocated once; no allocation, no lock, so it is async-signal-safe) and
** returns. The run loop takes posts out between events (never inside one)
** and schedules each as an event at an explicit time: the current time,
** or in a paced run the simulated time matching the post's wall arrival;
** that event puts the post into the model's des.inbox(name) as an item
** {kind=, data=, time=, seq=}, waking a getter through the scheduler. Posts
** reach an inbox in post order, once each. A post stays in the queue until
** it is delivered (DES_EFULL past the capacity).
**
** Determinism: a run fed by posts depends on when they arrived. To
** reproduce it, record the delivered posts (des_set_post_log) and replay
** them into a fresh host with des_post_at, which gives each its recorded
** time: the replayed run handles the same events as the recorded one. */

/* Pace runs at `factor` model units per wall second (1e-9 to 1e9), or not
** at all (factor == 0; DES_EINVAL otherwise, and from des_host_new for a
** bad cfg.realtime or cfg.realtime_strict). strict > 0: fail with DES_ELATE
*once an event is handled
** more than `strict` wall seconds after its time; 0: catch up. Resets the
** anchor and the statistics. From a handler too (as the model's
** sim:realtime does): the run in progress switches at once. */
int des_set_realtime(des_host *h, double factor, double strict);

/* How a paced run kept up with the wall clock, since des_set_realtime. */
typedef struct des_realtime_info {
  double factor;       /* model units per wall second, 0: not paced */
  uint64_t batches;    /* distinct event times handled while paced */
  uint64_t late;       /* those handled more than 1 ms after their time */
  double worst;        /* the worst lateness, wall seconds */
  des_time worst_when; /* the simulated time of the worst one (ticks) */
  double total;        /* the sum of the latenesses, wall seconds */
} des_realtime_info;
void des_realtime_stats(const des_host *h, des_realtime_info *out);

/* The id of the inbox named `name` (the model's des.inbox(name)), for
** des_post: the same name gives the same id. The model need not have
** created the inbox yet: the first post creates it. Host thread only. */
int des_inbox(des_host *h, const char *name);

/* Post a message to inbox `inbox`: kind (an integer >= 0 the model reads
** as msg.kind) and len bytes of data (msg.data, a string; data may be NULL
** when len is 0). Callable from any thread and from a signal handler, at
** any time the host exists; it sets no error message. Returns DES_OK (the
** post is queued and will be delivered once, in order), DES_EFULL (the
** queue holds post_capacity posts not yet delivered: retry later),
** DES_EINVAL (no such inbox, len > post_size, kind > 2^31-1), or
** DES_ECLOSED (after des_post_close or during des_host_free). */
int des_post(des_host *h, int inbox, uint32_t kind, const void *data,
             size_t len);

/* The same on the host's thread, delivered at simulated time `when`
** (>= now; ticks): to replay a recorded post. Messages as other calls. */
int des_post_at(des_host *h, des_time when, int inbox, uint32_t kind,
                const void *data, size_t len);

/* Take no more posts: des_post returns DES_ECLOSED from now on; posts
** already queued are still delivered. Waits for posts in progress in
** other threads. Safe from any thread, but not from a signal handler (it
** would wait for a des_post it interrupted). des_host_free closes too, but a
** program must stop calling des_post on h before des_host_free returns:
** close, join the producers, then free. */
void des_post_close(des_host *h);

/* A file descriptor that becomes readable when posts are waiting (or
** des_stop was called), for a program with its own event loop (epoll,
** libuv, a GUI): when it fires, call des_run (unpaced) or des_run_until
** (h, t) with t the simulated time of the wall clock now (paced), which
** read it and deliver the posts. Owned by the host; -1 on failure. */
int des_fd(des_host *h);

/* Call fn for every post as it is delivered (its time in ticks, inbox,
** kind and data), to record a run for des_post_at; NULL stops. */
typedef void (*des_post_log_fn)(void *ctx, des_time when, int inbox,
                                uint32_t kind, const void *data, size_t len);
void des_set_post_log(des_host *h, des_post_log_fn fn, void *ctx);

/* ---- Lua ---------------------------------------------------------------*/

/* The host's Lua state, for anything the API above does not cover. */
lua_State *des_lua(des_host *h);

/* The host a Lua state (or any of its coroutines) belongs to, or NULL. */
des_host *des_host_of(lua_State *L);

/* Make the C function fn a global of the model, called `name`. */
int des_register(des_host *h, const char *name, lua_CFunction fn);

#ifdef __cplusplus
}
#endif

#endif
