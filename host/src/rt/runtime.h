/*
** runtime.h -- the task runtime: Lua coroutines as simulated processes.
**
** One runtime per simulation. It is a component of its sim_state whose event
** kinds are the seed design's RuntimeEvent: SPAWN (start a task), TIMER
** (a sleep ended), WAKE (something the task waited for happened), and
** EXTERNAL (a wake sent from C). Every resume of a task goes through the
** simulation's queue with an explicit time; nothing is resumed inline.
**
** Tasks can wait on "waitables": one-shot events and other tasks. A
** waitable keeps its waiters in an intrusive FIFO list so that a waiter that
** leaves (an `any` fired elsewhere, a cancel, an interrupt) is unlinked in
** O(1): no leak and no late wake.
*/
#ifndef DES_RUNTIME_H
#define DES_RUNTIME_H

#include <stdatomic.h>

#include <lauxlib.h>
#include <lua.h>

#include "sim.h"
#include "waitq.h"

typedef struct rt_global rt_global;

#define RT_THREADS_MAX 64 /* free threads the pool keeps for new tasks */

/* The kinds of object the runtime makes or checks. The binding
** (host/src/lua/) makes their metatables and registers each one's address
** in rt_global.mt (and the registry, rt_mt_keys): the runtime knows them
** only as those opaque addresses, never by name or layout. */
enum {
  RT_MT_SIM,
  RT_MT_TASK,
  RT_MT_EVENT,
  RT_MT_RESOURCE,
  RT_MT_REQUEST,
  RT_MT_WAITER, /* a store's or container's request (lwait.c) */
  RT_NMT
};
typedef struct rt_runtime rt_runtime;
typedef struct rt_task rt_task;
typedef struct rt_waitable rt_waitable;
typedef struct rt_waiter rt_waiter;
typedef struct rt_binding rt_binding;

/* Runtime event kinds (sim_event.kind for the runtime component). */
enum {
  RT_SPAWN = 1,
  RT_TIMER,
  RT_WAKE,
  RT_EXTERNAL,
  RT_TIMEOUT,
  RT_UNHANDLED, /* a failed event's check: did anything handle it? */
  RT_SCHED      /* a scheduled call (des.schedule / des.at) */
};

/* Task states, in the order a task goes through them. */
enum {
  TASK_READY,    /* spawned or woken, its resume is scheduled */
  TASK_RUNNING,  /* the coroutine is executing */
  TASK_SLEEPING, /* in des.sleep, a TIMER is scheduled */
  TASK_WAITING,  /* waiting on a waitable */
  TASK_DONE,     /* returned; results kept for join */
  TASK_FAILED,   /* raised an error; the error is kept for join */
  TASK_CANCELLED /* ended by task:cancel */
};

/* Why a suspended task is being resumed (rt_task.resume). */
enum { RESUME_NORMAL, RESUME_INTERRUPT };

/* Waitable states. */
enum { WAITABLE_PENDING, WAITABLE_OK, WAITABLE_FAILED };

/* A waiter is notified when the waitable it is on triggers. The source
** object (event or task userdata) is at stack index `src` of L. A notify
** whose owner triggers in turn (a composite) sets the owner's state and
** pushes the owner's object, returning 1: rt_trigger then notifies the
** owner's waiters before the source's next one (depth first, without C
** recursion). Otherwise it pushes nothing and returns 0. */
typedef int (*rt_notify)(lua_State *L, rt_waiter *w, int src);

struct rt_waiter {
  rt_waiter *prev, *next;
  rt_waitable *on;  /* NULL when not linked */
  rt_notify notify; /* NULL: the owner is a task to wake */
  void *owner;      /* the task, or the composite event */
  uint32_t index;   /* member index inside a composite */
};

struct rt_waitable {
  rt_waiter *head, *tail;
  uint8_t state;     /* WAITABLE_* */
  uint8_t callbacks; /* has Lua callbacks: rt_global.triggered runs them */
};

/* The user values of task and event userdata. A task's are: UV_VALUES its
** results or error once ended (pending interrupt causes before), UV_AUX its
** coroutine while alive (its traceback once failed), UV_NAME, UV_SIM. */
enum { UV_VALUES = 1, UV_AUX, UV_NAME, UV_SIM, UV_CAUSE, UV_NTASK = UV_CAUSE };
/* UV_CAUSE: {task, where} of the last failed task whose error a join
** re-raised in this task: its report chains to that task's (issue 15
** item 4). */

/* A task. Lives in a full userdata (DES_TASK_MT); its coroutine is its user
** value UV_AUX while it runs. */
struct rt_task {
  rt_waitable done; /* triggers when the task ends: what join waits on */
  rt_runtime *rt;
  lua_State *co;        /* NULL once ended */
  uint64_t serial;      /* spawn order within the simulation, from 1 */
  uint32_t slot;        /* index in the global task slots */
  uint32_t gen;         /* generation of that slot for this task */
  uint8_t state;        /* TASK_* */
  uint8_t resume;       /* RESUME_* for the next resume */
  uint8_t daemon;       /* not listed in deadlock reports */
  uint8_t yielding;     /* set by des before it yields: foreign yields show */
  uint8_t escaped;      /* coroutine.running handed its thread to Lua: the
                           thread is never pooled for another task */
  uint8_t has_values;   /* UV_VALUES was set while it lived (interrupts) */
  uint32_t interrupts;  /* pending interrupts not yet delivered */
  uint32_t call_seq;    /* component:call's made so far: names the open one */
  wheel_handle wake;    /* pending SPAWN/TIMER/WAKE event (or the event of a
                           call not yet delivered to its component), or 0 */
  des_time since;       /* when the current sleep or wait began */
  rt_waiter waiter;     /* the node linked into what the task waits on */
  const char *what;     /* what it waits on, for reports (static string) */
  rt_task *inline_next; /* in rt->inline_head's list (see rt_handler) */
  rt_task *inline_prev; /* ... the one before it */
  uint8_t inlined;      /* ... is in that list */
  int wait_obj;         /* the stack index, in co, of the object waited on
                           (task.waiting_on), 0 if none (a sleep) */
  /* component:call (a request to a C component, answered by rt_answer) */
  union {
    uint64_t data; /* the open call's payload until delivered */
    int64_t value; /* then its answer, once given */
  } call;          /* (the call's event, until delivered, is t->wake) */
  /* When set, the task waits in a wait queue (waitq.h): if it leaves that
  ** wait unfinished (cancelled, interrupted), wq->leave(wq) lets the queue
  ** forget it or hand its grant on. Cleared when it resumes. */
  wq_node *wq;
};

/* The simulation as Lua sees it (DES_SIM_MT userdata). */
struct rt_runtime {
  sim_state *sim;
  rt_global *G;
  lua_State *L;       /* the state running the simulation (during run) */
  uint32_t comp;      /* the runtime's component id */
  int64_t resolution; /* ticks per unit */
  uint64_t seed;
  uint64_t serials;    /* last task serial handed out */
  size_t alive;        /* tasks not yet ended */
  size_t daemons;      /* ... of which daemons */
  int daemon_end;      /* this run may end when only daemons remain */
  rt_waitable *firing; /* the timeout firing now, if any */
  rt_task *inline_head, *inline_tail; /* its waiters, resumed in its turn */
  int daemon_ended;                   /* ... and it did */
  int error_pending;                  /* an unhandled error stopped the run */
  int trace;                          /* RT_TRACE_* */
  int closed;                         /* RT_OPEN, RT_CLOSING or RT_CLOSED */
  des_time closed_at; /* the clock when it closed (statistics read it) */
  /* During a run, its anchor table sits at this index of L's stack (the
  ** run's own frame, run_protected), checked by its address: the end of
  ** every task, on L, finds it there instead of in the cache. 0: none. */
  int anchors_idx;
  const void *anchors_p;
  uint64_t checks; /* RT_UNHANDLED checks handled (levfail.c) */
};

/* The user values of a simulation object (DES_SIM_MT): 1 its anchors
** (live tasks by slot + 1), 2 the error handler, 3 the trace function, 4
** the names of C components, 5 the end hooks (sim:at_end), 6 the
** scheduled calls (des.schedule, lsched.c). */
enum { RT_UV_AT_END = 5, RT_UV_CALLS = 6, RT_UV_NSIM = 6 };

/* rt_runtime.closed. While CLOSING (sim:close cancels the live tasks and
** their <close> variables run) nothing new may start: no spawn, run, step,
** timeout, request or send; reads and releases still work. Once CLOSED
** only statistics and the objects' own fields can be read: every other
** entry point raises "closed simulation". rt->sim stays valid until the
** sim object is collected (rt_free): close frees the queue by putting an
** empty sim_state in its place, so a finalizer that closes a simulation in
** the middle of a call on it leaves no dangling pointer. */
enum { RT_OPEN, RT_CLOSING, RT_CLOSED };

/* What the binding (host/src/lua/) does for the runtime: the callbacks it
** registers when it opens (luaopen_des), so that no call of the runtime
** goes up into the binding. A NULL entry is never called. */
struct rt_binding {
  /* Run the Lua callbacks of the waitable whose object is at idx (one
  ** with `callbacks` set), after its waiters were notified (levent.c). */
  void (*triggered)(lua_State *L, int idx);
  /* Fire the timeout event at index 1; protected by the caller (levent.c). */
  lua_CFunction fire_timeout;
  /* The RT_UNHANDLED check of the failed event at index 1, protected by
  ** the caller: returns 1 with the report on top if nothing handled its
  ** failure (no wait, no callback, no defuse), else 0 (levfail.c). */
  lua_CFunction check_unhandled;
  /* Call the function of the RT_SCHED event ev outside any task; 0, or
  ** non-zero with the error report on rt->L's top (lsched.c). */
  int (*fire_scheduled)(rt_runtime *rt, const sim_event *ev);
  /* Drop rt's pending scheduled calls when it closes or is freed (never
  ** raises; obj: the sim object's index) (lsched.c). */
  void (*sched_forget)(lua_State *L, rt_runtime *rt, int obj);
};

/* Per lua_State: the registry of task slots, so that a coroutine finds its
** task in O(1) through LUA_EXTRASPACE (it holds slot + 1). */
struct rt_global {
  struct {
    rt_task *task;
    uint32_t gen;
    uint32_t next_free;
  } * slots;
  uint32_t nslots, capslots, free_head;
  rt_runtime *dispatching;     /* the simulation whose run is under way */
  lua_State *volatile running; /* the task coroutine resumed now, or NULL */
  lua_Alloc allocf;
  void *allocud;
  const void *mt[RT_NMT]; /* the metatables, for checks without a lookup */
  int mt_ref[RT_NMT];     /* ... and their registry refs (0: none yet), for
                             rt_setmetatable_g without hashing a key */
  int ref_objects, ref_threads; /* registry refs: integer keys, no hashing */
  /* The thread pool (rttask.c): the free threads for new tasks are on the
  ** stack of a keeper thread (anchored at registry[ref_threads], its stack
  ** made room for once), so taking one and giving one back are each one
  ** lua_xmove; a task holds the thread it took in its UV_AUX. */
  lua_State *pool; /* the keeper (dead by an error: it cannot be resumed);
                      NULL once found changed behind our back */
  lua_State *pool_list[RT_THREADS_MAX]; /* what its stack holds */
  uint32_t nthreads; /* free threads: the keeper's stack 1..nthreads */
  int closing;       /* the state is closing: finalizers then run once and what
                        they create is never finalized, so nothing that holds C
                        memory may be made (rt_check_state) */
  rt_binding bind;   /* what the binding does for the runtime */
  void *sched;       /* lsched.c's slots of scheduled calls (des.schedule) */
  lua_State *sched_firing; /* the thread running a scheduled call: in no
                              task (rt_current), or NULL */
  /* The anchor table of anchors_rt (the last simulation that spawned or
  ** ended a task) at [1] of the weak table registry[ref_anchors]: found
  ** by integer keys instead of the sim object's pointer (two hashes). */
  rt_runtime *anchors_rt;
  int ref_anchors;
  atomic_int stop_all; /* rt_stop_all: every run of the state stops */
};

/* Registry keys. */
#define RT_GLOBAL_KEY "des.global"
/* The metatables are also in the registry under &rt_mt_keys[RT_MT_*]. */
extern const char rt_mt_keys[RT_NMT];

/* Set the metatable `which` (RT_MT_*) on the value at the top. */
static inline void rt_setmetatable(lua_State *L, int which) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &rt_mt_keys[which]);
  lua_setmetatable(L, -2);
}

/* The same with the state's rt_global at hand (every task and request
** made): the metatable by its integer ref. */
static inline void rt_setmetatable_g(lua_State *L, const rt_global *G,
                                     int which) {
  if (G->mt_ref[which] > 0)
    lua_rawgeti(L, LUA_REGISTRYINDEX, G->mt_ref[which]);
  else
    lua_rawgetp(L, LUA_REGISTRYINDEX, &rt_mt_keys[which]);
  lua_setmetatable(L, -2);
}

rt_global *rt_global_get(lua_State *L);

/* Raise "<what>: the Lua state is closing" once rt_global.closing is set
** (des_host_free sets it before lua_close): every constructor of an object
** that holds C memory calls it, so a finalizer cannot leak such memory. */
void rt_check_state(lua_State *L, const char *what);

/* Create a runtime inside a DES_SIM_MT userdata at stack top. */
int rt_init(lua_State *L, rt_runtime *rt, uint64_t seed, int64_t resolution);

/* Close the simulation whose object is at obj (sim:close; the caller
** checked that it is open and not running): cancel its live tasks in spawn
** order, running their <close> variables, then mark it closed. Raises the
** first error a cancel raised, once the simulation is closed. */
void rt_close(lua_State *L, rt_runtime *rt, int obj);

/* Free the simulation of the object at obj (its __gc): tasks still alive
** are detached without running Lua code. Never raises. */
void rt_free(lua_State *L, rt_runtime *rt, int obj);

/* The clock, frozen at the close time once closed. */
des_time rt_now(const rt_runtime *rt);

/* Raise "<function>: closed simulation" if rt is closed. rt_check_live
** also refuses a simulation that is closing: for what would start new
** work (spawn, run, timeouts, requests, events sent to components). */
void rt_check_open(lua_State *L, const rt_runtime *rt);
void rt_check_live(lua_State *L, const rt_runtime *rt);

/* The task rt_task_resume is resuming now on this OS thread (the innermost
** one in nested runs), or NULL: a Lua state runs on one OS thread at a
** time, and a task's C functions (des.now, des.sleep, acquire) ask for it
** on every call. Cleared when that task's slot is freed. */
extern _Thread_local rt_task *rt_running_task;

/* The running task of coroutine L, or NULL if L is not a task.
** rt_current_slow finds it by L's extra space (needs a des function's
** upvalue 1); the common case, L the coroutine being resumed, needs
** neither the upvalue nor a slot look-up. */
rt_task *rt_current_slow(lua_State *L);
static inline rt_task *rt_current(lua_State *L) {
  rt_task *t = rt_running_task;
  if (t != NULL && t->co == L && t->rt->G->sched_firing != L)
    return t;
  return rt_current_slow(L);
}

/* Ownership of threads (lco.c refuses to drive them): the live task whose
** coroutine is co, or NULL; and whether the runtime retired co: 0, or
** RT_RETIRED_POOLED (it waits in the thread pool for a new task) or
** RT_RETIRED_ORPHAN (its task was collected with its simulation). */
enum { RT_RETIRED_POOLED = 1, RT_RETIRED_ORPHAN };
rt_task *rt_thread_task(rt_global *G, lua_State *co);
int rt_thread_retired(lua_State *L, rt_global *G, lua_State *co);

/* In a continuation of a task's suspension: raise if the runtime did not
** resume it (its coroutine was driven by hand, e.g. through the C API). */
void rt_check_resumed(lua_State *L, rt_task *t);

/* Spawn fn (at stack index fidx) with nargs args taken from the stack top;
** pushes the task. Raises Lua errors. */
rt_task *rt_spawn(lua_State *L, rt_runtime *rt, int fidx, int nargs,
                  int name_idx, int daemon);

/* Suspend the running task t for ticks (>= 0). Never returns to C. */
int rt_sleep(lua_State *L, rt_task *t, des_time ticks);

/* Suspend the running task t until the waitable w (object at stack index
** obj) triggers; then return its values / raise its error. */
int rt_wait(lua_State *L, rt_task *t, rt_waitable *w, int obj,
            const char *what);

/* The parts of rt_wait, for waits whose owner has its own continuation
** (lreq.c): rt_check_suspend raises a pending interrupt or refuses a task
** that cannot yield; rt_suspend links t on w (may be NULL) and, when
** deadline >= 0, schedules a TIMER wake at that time; the caller then
** yields with lua_yieldk. On resume, t->resume says whether an interrupt
** came (raise it with rt_raise_interrupt), and a waiter still linked
** (t->waiter.on != NULL) means the deadline came first. */
void rt_check_suspend(lua_State *L, rt_task *t, const char *what);
int rt_suspend(lua_State *L, rt_task *t, rt_waitable *w, const char *what,
               des_time deadline);
int rt_raise_interrupt(lua_State *L, rt_task *t);

/* At the start of every wait, also one that returns at once (a triggered
** event, an ended task, a free server, an item in a store): if t (the
** running task of L, or NULL) has a pending interrupt, raise it. */
void rt_check_interrupt(lua_State *L, rt_task *t);

/* Push the object the suspended task t waits on (task.waiting_on: the
** event, the task joined, the resource, the store or container), or nil
** (a sleep, a call, a task not waiting). Runs no Lua code. */
void rt_push_waiting_on(lua_State *L, rt_task *t);

/* Trigger w as OK without Lua: wakes its waiting tasks (for waitables that
** only tasks wait on, such as resource requests). */
void rt_trigger_tasks(rt_waitable *w);

/* Values of a triggered waitable whose object is at idx: pushes them
** (returns count), or raises its error. */
int rt_push_result(lua_State *L, int idx);

/* Trigger w (object at stack index src) as OK or FAILED. Its values must
** already be stored in the object's UV_VALUES. Notifies every waiter in
** order, then calls the Lua callbacks; a composite that triggers in turn
** has its own waiters and callbacks handled first, depth first, through a
** work list on L's stack rather than C recursion (any nesting depth that
** fits in a Lua stack; past that, a clear error). */
void rt_trigger(lua_State *L, rt_waitable *w, int src, int state);

/* Link / unlink a waiter. */
void rt_waiter_link(rt_waitable *w, rt_waiter *n);
void rt_waiter_unlink(rt_waiter *n);

/* Cancel / interrupt a task (t's object at stack index idx). */
void rt_cancel(lua_State *L, rt_task *t, int idx);
int rt_interrupt(lua_State *L, rt_task *t, int idx, int value);

/* Tracing: every handled event as one line, to stderr or to the Lua
** function in the sim object's user value 3. */
enum { RT_TRACE_OFF, RT_TRACE_STDERR, RT_TRACE_LUA };
void rt_set_trace(rt_runtime *rt, int mode);

/* Listings: the name of a runtime event kind, and what an event is about
** (its task, or a timeout's event; nil if the task is gone). */
const char *rt_kind_name(uint32_t kind);
void rt_push_event_subject(lua_State *L, rt_runtime *rt, uint32_t kind,
                           uint64_t data);

/* Push the name a C component was added with (lcomp.c), or nil. */
void rt_push_component_name(lua_State *L, rt_runtime *rt, uint32_t id);

/* component:call -- send an event of `kind` (< RT_CALL_BIT) with `data`
** to component comp at now + ticks, and suspend the running task t until
** the component answers (rt_answer); then return the answer. */
#define RT_CALL_BIT 0x80000000u
int rt_call(lua_State *L, rt_task *t, uint32_t comp, uint32_t kind,
            uint64_t data, des_time ticks);

/* For a component's dispatcher: if ev was sent by rt_call, replace *kind
** and *data by the caller's, set *task / *call to name the call, and
** return 1; return 0 for other events (-1: a stale call, to drop). */
int rt_call_delivered(rt_runtime *rt, const sim_event *ev, uint32_t *kind,
                      uint64_t *data, uint64_t *task, uint64_t *call);

/* The runtime's outcomes (rt_run_raw, rt_answer): its own, mapped from
** the simulation's; a C component's handler value never travels in them.
** Positive: how a run or step ended when nothing went wrong. */
enum rt_status {
  RT_OK = 0,
  RT_EMPTY = 1,   /* a step found no event left */
  RT_STOPPED = 2, /* sim_stop (des_stop, des_interrupt) ended the run */
  RT_HANDLER = 3, /* a C component's handler stopped the run: its value
                     and component are sim_failure's */
  RT_YIELDED = 4, /* sim_yield (a post, hpost.c) ended it: run on */
  RT_ERROR = -1,  /* a Lua error (a task's failure report, or memory),
                     left on the top of L */
  RT_ENOMEM = -2, /* the queue could not grow */
  RT_ESTALE = -3, /* rt_answer: the call is no longer open */
  RT_ERANGE = -4, /* rt_answer: a time past the clock's range */
  RT_EBUSY = -5,  /* the simulation is running already */
  RT_EPAST = -6   /* an until time before the current time */
};
const char *rt_strerror(int code);

/* How a run ends (rtend.c). rt_only_daemons_left: in a run that may end so
** (rt->daemon_end), every live task is a daemon and every pending event is
** one of their own wakes; rt_end_if_only_daemons then stops the run (after
** each runtime event). rt_run_at_end: a run ended with outcome rc (RT_ERROR
** with its error on top): call the end hooks, returning the outcome (an
** error in a hook becomes, or is added to, the run's error). */
int rt_only_daemons_left(rt_runtime *rt);
void rt_end_if_only_daemons(rt_runtime *rt);
int rt_run_at_end(lua_State *L, rt_runtime *rt, int rc);

/* Answer the open call `call` of task `task`: it resumes at `when` (>=
** now), its call returning value. RT_ESTALE if that call is no longer
** open (answered, interrupted, cancelled, ended); RT_ENOMEM, RT_ERANGE. */
int rt_answer(rt_runtime *rt, uint64_t task, uint64_t call, des_time when,
              int64_t value);

/* A stop request for every run of the state's simulations (des_stop: a
** Ctrl-C must reach a sim:run that Lua code started, not only the host's
** own run): each run in progress ends after its current event, and a run
** or step called from Lua (rt_run) raises "stopped by a stop request",
** after its end hooks, so that the code that started it unwinds instead
** of starting the next. The request stands until rt_stop_clear.
** Signal-safe, and callable from another thread. */
void rt_stop_all(rt_global *G);
/* Forget the stop request, unless a run is under way (the host's next
** top-level call, when nothing runs). */
void rt_stop_clear(rt_global *G);

/* Run/step the simulation from Lua: a task's failure, an error and a C
** handler's negative value raise; returns RT_OK, RT_EMPTY, RT_STOPPED or
** RT_HANDLER. `limit` < 0 means no limit. */
int rt_run(lua_State *L, rt_runtime *rt, des_time limit, int step);

/* The same without the checks and without raising: returns an RT_*
** outcome; RT_ERROR with the error (a task's failure report, with its
** name, the time and a traceback) on L's top. The caller checks that the
** simulation is open and not running. step == RT_RUN_THROUGH handles the
** events due at times <= limit and leaves the clock at the last one (a
** paced run's batch, host/src/host/hpace.c). It runs no end hooks: a
** host's run may be many of these (batches, posts, pauses), so the caller
** calls rt_run_at_end once its run is over. */
#define RT_RUN_THROUGH 2
int rt_run_raw(lua_State *L, rt_runtime *rt, des_time limit, int step);

/* A task's generation-checked id (stale once it ended), and pushing the
** live task of an id: 1, or nil and 0 if it ended. */
uint64_t rt_task_id(const rt_task *t);
int rt_push_task_by_id(lua_State *L, rt_runtime *rt, uint64_t id);

/* Push the object of a live task (from its simulation's anchors). */
void rt_push_task(lua_State *L, rt_task *t);

/* Push the Lua object registered for a C pointer (events, simulations),
** or nil. The registry has weak values; with the vendored Lua (patch
** 0012) an object a finalizer brings back keeps its entry, with a stock
** Lua it loses it for good though it lives on. An event the runtime's
** queue names by address is anchored by that address in its simulation:
** rt_push_anchored finds it there with either Lua. */
void rt_push_object(lua_State *L, const void *p);
void rt_register_object(lua_State *L, int idx, const void *p);
void rt_push_anchored(lua_State *L, rt_runtime *rt, const void *p);

/* Time conversions: Lua numbers in units <-> ticks (DESIGN "Time"). */
des_time rt_check_duration(lua_State *L, rt_runtime *rt, int idx,
                           const char *fname);
lua_Number rt_units(const rt_runtime *rt, des_time ticks);

/* Whether the value at idx is an object of kind `which` (RT_MT_*). */
int rt_is_kind(lua_State *L, int idx, int which);

/* Charge `units` instructions' worth of C work that grows with what a
** model controls (a list of every task, a walk of the queue, an event
** that reschedules itself) to the count hook, as the libraries' loops do
** with the vendored Lua (patch 0006): a budget or an interrupt then stops
** it. May raise an error: call it before changing anything. A no-op
** against the system's Lua (des.so), which has no such budget. */
static inline void rt_charge(lua_State *L, size_t units) {
#ifdef LUA_DESHOST
  lua_checkpoint(L, units);
#else
  (void)L;
  (void)units;
#endif
}

/* The same for work that is only known, or only happens, where no error
** may be raised (in the middle of a change, a notification): the units
** wait for the count hook (vendored patch 0008), which runs at the next
** instruction once they reach what is left of its count. Never raises. */
static inline void rt_charge_later(lua_State *L, size_t units) {
#ifdef LUA_DESHOST
  lua_chargelater(L, units);
#else
  (void)L;
  (void)units;
#endif
}

/* Error objects. */
void rt_push_cancelled(lua_State *L, int task_idx);
int rt_is_cancelled(lua_State *L, int idx);

/* Push a string describing the (error) value at idx: its __tostring run
** protected, with a fallback naming its type and why __tostring failed
** when it raises, yields, loops past the budget or returns a non-string. */
void rt_push_error_text(lua_State *L, int idx);

/* Push msg (may be NULL) and the traceback of coroutine co. */
void rt_traceback(lua_State *L, lua_State *co, const char *msg);

/* Describe a task for messages: task 'name' (#serial). */
void rt_push_task_label(lua_State *L, int task_idx);

#endif
