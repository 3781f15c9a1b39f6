/*
** runtime.c -- the task runtime: Lua coroutines as simulated processes.
**
** A task is a Lua thread plus a des_task record (a full userdata). The
** runtime is a component of the simulation; its handler resumes tasks:
**
**   pop event -> rt_handler -> lua_resume(task) -> task calls des.sleep ->
**   rt_sleep schedules a TIMER at now + dt -> lua_yieldk back to rt_handler
**
** and allocates nothing on that path. A coroutine finds its task through
** LUA_EXTRASPACE (slot + 1 in the per-state slot table), checked against the
** slot's task so that a foreign thread is never mistaken for a task.
**
** Ownership: a live task is anchored in its simulation's anchor table (the
** sim userdata's first user value, keyed by slot + 1) and holds the sim
** userdata in turn, so an unreachable simulation is collected with all its
** tasks. An ended task drops its thread; only its results stay, for join.
**
** A task's thread belongs to the runtime: only task_resume resumes it
** (lco.c refuses coroutine.resume/close on it from Lua), and every
** continuation checks that the runtime resumed it (rt_check_resumed). A
** finished thread is pooled for a new task unless Lua has seen it
** (coroutine.running); LUA_EXTRASPACE marks pooled and orphaned threads.
** Error text and error objects are in rterror.c.
*/
#include "runtime.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtime.h"

/* The registry key of the objects table (by address: no string to intern
** on every use). The hot path reaches the same table by G->ref_objects. */
static const char rt_objects_key = 'o';
#define RT_THREADS_MAX 64 /* empty threads kept for new tasks */
/* LUA_EXTRASPACE of a thread in the pool (a task's holds slot + 1) */
#define RT_EXTRA_POOLED UINTPTR_MAX
/* ... and of the thread of a live task collected with its simulation */
#define RT_EXTRA_ORPHAN (UINTPTR_MAX - 1)

/* What the runtime's own handler returns to stop a run: an unhandled task
** error, whose report is on rt->L's top. The simulation keeps it aside
** (sim_failure) with the runtime's component id, which is how rt_run_raw
** tells it from a C component's handler value. */
#define RT_STOP_ERROR 1

/* {====================================================================
** Global slot table
** ===================================================================== */

static void set_extraspace(lua_State *co, uintptr_t v) {
  memcpy(lua_getextraspace(co), &v, sizeof(v));
}

static int global_gc(lua_State *L) {
  rt_global *G = lua_touserdata(L, 1);
  if (G->slots != NULL)
    G->allocf(G->allocud, G->slots, G->capslots * sizeof(*G->slots), 0);
  G->slots = NULL;
  G->nslots = G->capslots = 0;
  return 0;
}

/* The per-state global, created on first use. Created before any task or
** simulation, so it is finalized after all of them when the state closes. */
const char rt_mt_keys[RT_NMT];

/* By the metatable's address (rt_global.mt): no lookup by name. */
int rt_is_kind(lua_State *L, int idx, int which) {
  const void *mt;
  if (!lua_getmetatable(L, idx))
    return 0;
  mt = lua_topointer(L, -1);
  lua_pop(L, 1);
  return mt != NULL && mt == rt_global_get(L)->mt[which];
}

rt_global *rt_global_get(lua_State *L) {
  rt_global *G;
  if (lua_getfield(L, LUA_REGISTRYINDEX, RT_GLOBAL_KEY) == LUA_TUSERDATA) {
    G = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return G;
  }
  lua_pop(L, 1);
  G = lua_newuserdatauv(L, sizeof(*G), 0);
  memset(G, 0, sizeof(*G));
  G->allocf = lua_getallocf(L, &G->allocud);
  G->free_head = UINT32_MAX;
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, global_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, RT_GLOBAL_KEY);
  /* the pool of threads for new tasks, preallocated: putting a thread
  ** back never allocates (task_resume relies on it) */
  lua_createtable(L, RT_THREADS_MAX, 0);
  G->ref_threads = luaL_ref(L, LUA_REGISTRYINDEX);
  /* objects: light userdata -> object, weak values */
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &rt_objects_key);
  G->ref_objects = luaL_ref(L, LUA_REGISTRYINDEX);
  /* the anchor table cache: two array slots (the anchor table, its sim),
  ** weak (it holds no sim) */
  lua_createtable(L, 2, 0);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  G->ref_anchors = luaL_ref(L, LUA_REGISTRYINDEX);
  /* Threads copy the main thread's extra space when created: start it at
  ** "no task" (Lua leaves it uninitialised). des owns LUA_EXTRASPACE. */
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  set_extraspace(lua_tothread(L, -1), 0);
  lua_pop(L, 1);
  return G;
}

void rt_check_state(lua_State *L, const char *what) {
  if (rt_global_get(L)->closing)
    luaL_error(L,
               "%s: the Lua state is closing (a finalizer cannot make "
               "new des objects then)",
               what);
}

/* Take a free slot for t (growing the table by doubling). */
static uint32_t slot_alloc(lua_State *L, rt_global *G, des_task *t) {
  uint32_t i;
  if (G->free_head != UINT32_MAX) {
    i = G->free_head;
    G->free_head = G->slots[i].next_free;
  } else {
    if (G->nslots == G->capslots) {
      uint32_t ncap = G->capslots ? G->capslots * 2 : 64;
      void *p = G->allocf(G->allocud, G->slots, G->capslots * sizeof(*G->slots),
                          ncap * sizeof(*G->slots));
      if (p == NULL)
        luaL_error(L, "not enough memory for a new task");
      G->slots = p;
      G->capslots = ncap;
    }
    i = G->nslots++;
    G->slots[i].gen = 1;
  }
  G->slots[i].task = t;
  G->slots[i].next_free = UINT32_MAX;
  t->slot = i;
  t->gen = G->slots[i].gen;
  return i;
}

/* Release t's slot; bumping the generation makes every id of t stale. */
static void slot_free(rt_global *G, des_task *t) {
  uint32_t i = t->slot;
  if (i >= G->nslots || G->slots[i].task != t)
    return;
  G->slots[i].task = NULL;
  G->slots[i].gen++;
  if (G->slots[i].gen == 0)
    G->slots[i].gen = 1;
  G->slots[i].next_free = G->free_head;
  G->free_head = i;
}

/* A task's generation-checked id, as carried by its wake events. */
static uint64_t task_id(const des_task *t) {
  return ((uint64_t)t->gen << 32) | t->slot;
}

static des_task *task_from_id(rt_global *G, uint64_t id);

uint64_t rt_task_id(const des_task *t) {
  return task_id(t);
}

int rt_push_task_by_id(lua_State *L, des_runtime *rt, uint64_t id) {
  des_task *t = id != 0 ? task_from_id(rt->G, id) : NULL;
  if (t == NULL || t->rt != rt) {
    lua_pushnil(L);
    return 0;
  }
  rt_push_task(L, t);
  return 1;
}

static des_task *task_from_id(rt_global *G, uint64_t id) {
  uint32_t i = (uint32_t)id, gen = (uint32_t)(id >> 32);
  if (i >= G->nslots || G->slots[i].gen != gen)
    return NULL;
  return G->slots[i].task;
}

/* The live task whose coroutine is co: its LUA_EXTRASPACE names a slot
** whose task runs on co (garbage in the extra space of a thread made
** before des loaded never matches). */
des_task *rt_thread_task(rt_global *G, lua_State *co) {
  uintptr_t idx;
  memcpy(&idx, lua_getextraspace(co), sizeof(idx));
  if (G == NULL || idx == 0 || idx > G->nslots)
    return NULL;
  if (G->slots[idx - 1].task == NULL || G->slots[idx - 1].task->co != co)
    return NULL;
  return G->slots[idx - 1].task;
}

des_task *rt_current(lua_State *L) {
  rt_global *G = lua_touserdata(L, lua_upvalueindex(1));
  if (G != NULL && G->sched_firing == L)
    return NULL; /* a scheduled function runs outside any task */
  return rt_thread_task(G, L);
}

/* Whether co is a thread the runtime retired: an orphan (its task was
** collected with its simulation while it waited), or one waiting in the
** pool for new tasks (marked so, and found in the pool: at most
** RT_THREADS_MAX entries). */
int rt_thread_retired(lua_State *L, rt_global *G, lua_State *co) {
  uintptr_t v;
  lua_Integer i, n;
  int found = 0;
  memcpy(&v, lua_getextraspace(co), sizeof(v));
  if (v == RT_EXTRA_ORPHAN)
    return RT_RETIRED_ORPHAN;
  if (v != RT_EXTRA_POOLED || G == NULL)
    return 0;
  if (lua_rawgeti(L, LUA_REGISTRYINDEX, G->ref_threads) == LUA_TTABLE) {
    n = (lua_Integer)lua_rawlen(L, -1);
    for (i = 1; i <= n && !found; i++) {
      lua_rawgeti(L, -1, i);
      found = lua_tothread(L, -1) == co;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  return found ? RT_RETIRED_POOLED : 0;
}

/* }==================================================================== */

/* {====================================================================
** Objects by pointer, and anchors
** ===================================================================== */

void rt_register_object(lua_State *L, int idx, const void *p) {
  idx = lua_absindex(L, idx);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &rt_objects_key);
  lua_pushvalue(L, idx);
  lua_rawsetp(L, -2, p);
  lua_pop(L, 1);
}

void rt_push_object(lua_State *L, const void *p) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &rt_objects_key);
  lua_rawgetp(L, -1, p);
  lua_remove(L, -2);
}

/* rt_push_object(L, rt) for the spawn and end of every task: the objects
** table by its integer registry ref, without hashing a key. */
static void push_sim(lua_State *L, des_runtime *rt) {
  if (rt->G->anchors_rt == rt) { /* cached beside its anchor table */
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt->G->ref_anchors);
    if (lua_rawgeti(L, -1, 2) == LUA_TUSERDATA) {
      lua_replace(L, -2); /* (cheaper than lua_remove) */
      return;
    }
    lua_pop(L, 2);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->G->ref_objects);
  lua_rawgetp(L, -1, rt);
  lua_replace(L, -2);
}

/* Push the anchor table of rt's simulation: from the cache when rt was
** the last one asked (the spawn, resume and end of every task ask). Never
** allocates: the cache's slot exists. */
static void push_anchors(lua_State *L, des_runtime *rt) {
  rt_global *G = rt->G;
  if (G->anchors_rt == rt) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, G->ref_anchors);
    if (lua_rawgeti(L, -1, 1) == LUA_TTABLE) {
      lua_replace(L, -2);
      return;
    }
    lua_pop(L, 2);
  }
  G->anchors_rt = NULL; /* (push_sim reads no stale cache) */
  push_sim(L, rt);
  lua_getiuservalue(L, -1, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, G->ref_anchors);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, -3);
  lua_rawseti(L, -2, 2);
  lua_pop(L, 1);
  lua_replace(L, -2);
  G->anchors_rt = rt;
}

void rt_push_task(lua_State *L, des_task *t) {
  push_anchors(L, t->rt);
  lua_rawgeti(L, -1, (lua_Integer)t->slot + 1);
  lua_replace(L, -2);
}

/* }==================================================================== */

/* {====================================================================
** Waitables
** ===================================================================== */

void rt_waiter_link(rt_waitable *w, rt_waiter *n) {
  if (n->on != NULL) /* never in two lists (a task driven by hand) */
    rt_waiter_unlink(n);
  n->on = w;
  n->next = NULL;
  n->prev = w->tail;
  if (w->tail != NULL)
    w->tail->next = n;
  else
    w->head = n;
  w->tail = n;
}

void rt_waiter_unlink(rt_waiter *n) {
  rt_waitable *w = n->on;
  if (w == NULL)
    return;
  if (n->prev != NULL)
    n->prev->next = n->next;
  else
    w->head = n->next;
  if (n->next != NULL)
    n->next->prev = n->prev;
  else
    w->tail = n->prev;
  n->prev = n->next = NULL;
  n->on = NULL;
}

/* Take a suspended task out of whatever it waits for: its pending wake, the
** waitable it is linked on, and a call not yet delivered to its component
** (a withdrawn call never reaches the component). L (NULL when no Lua may
** run) is handed to the queue's leave hook: a grant handed on may wake a
** composite waiting on another request. */
static void task_leave_wait(lua_State *L, des_task *t) {
  des_sim *sim = t->rt->sim;
  if (t->wq != NULL) { /* its queue forgets it first */
    wq_node *n = t->wq;
    t->wq = NULL;
    n->leave(n, L);
  }
  if (t->wake != 0) {
    sim_cancel(sim, t->wake);
    t->wake = 0;
  }
  rt_waiter_unlink(&t->waiter);
}

/* Schedule the resume of a task that waits, at the current time (a
** deadline it also waited for is cancelled). */
static void task_wake_now(des_task *t) {
  des_runtime *rt = t->rt;
  if (t->wake != 0)
    sim_cancel(rt->sim, t->wake);
  t->state = TASK_READY;
  sim_schedule(rt->sim, sim_now(rt->sim), rt->comp, RT_WAKE, task_id(t),
               &t->wake);
}

/* A task waiting on the timeout that fires now (rt->firing) resumes in
** the timeout's own turn, as a sleep of the same length would (issue 15
** item 5): it is made ready and listed, and rt_handler resumes the list
** right after the timeout fired, in the order they waited. */
static void task_wake_inline(des_task *t) {
  des_runtime *rt = t->rt;
  if (t->wake != 0) {
    sim_cancel(rt->sim, t->wake);
    t->wake = 0;
  }
  t->state = TASK_READY;
  if (t->inlined)
    return;
  t->inlined = 1;
  t->inline_next = NULL;
  if (rt->inline_tail != NULL)
    rt->inline_tail->inline_next = t;
  else
    rt->inline_head = t;
  rt->inline_tail = t;
}

/* Take t out of its runtime's inline list (it ended meanwhile). */
static void inline_remove(des_task *t) {
  des_runtime *rt = t->rt;
  des_task **p = &rt->inline_head, *prev = NULL;
  while (*p != NULL && *p != t) {
    prev = *p;
    p = &(*p)->inline_next;
  }
  if (*p == t) {
    *p = t->inline_next;
    if (rt->inline_tail == t)
      rt->inline_tail = prev;
  }
  t->inline_next = NULL;
  t->inlined = 0;
}

/* Stack slots one step of rt_trigger may use: a frame and a notify's
** temporaries. */
#define RT_TRIGGER_SLOTS 16

/* The work list is the run of waitable objects on L's stack from `base` up:
** the top one is being notified; a notify that triggers its owner pushes
** it (depth first, the order plain recursion gave); a frame whose waiters
** are all told runs its callbacks and is popped. */
void rt_trigger(lua_State *L, rt_waitable *w, int src, int state) {
  int base;
  if (w->head == NULL && !w->callbacks) { /* nobody to tell: most tasks' end */
    w->state = (uint8_t)state;
    return;
  }
  src = lua_absindex(L, src);
  luaL_checkstack(L, RT_TRIGGER_SLOTS, "trigger: no stack space");
  w->state = (uint8_t)state;
  lua_pushvalue(L, src);
  base = lua_gettop(L);
  while (lua_gettop(L) >= base) {
    int top = lua_gettop(L);
    rt_waitable *f = lua_touserdata(L, top);
    rt_waiter *n = f->head;
    if (n == NULL) { /* all told: its callbacks, then the frame ends */
      if (f->callbacks) {
        rt_global *G = rt_global_get(L);
        f->callbacks = 0;
        if (G->bind.triggered != NULL)
          G->bind.triggered(L, top);
      }
      lua_settop(L, top - 1);
      continue;
    }
    if (!lua_checkstack(L, RT_TRIGGER_SLOTS))
      luaL_error(L,
                 "trigger: des.any/des.all nested too deep to notify "
                 "(%d levels pending; the Lua stack is full)",
                 top - base + 1);
    rt_waiter_unlink(n);
    if (n->notify == NULL) {
      des_task *t = (des_task *)n->owner;
      if (t->rt->firing == f) /* waits on the timeout firing now */
        task_wake_inline(t);
      else
        task_wake_now(t);
    } else
      n->notify(L, n, top); /* may push its owner: a new frame */
  }
}

void rt_trigger_tasks(rt_waitable *w) {
  rt_waiter *n;
  w->state = WAITABLE_OK;
  while ((n = w->head) != NULL) {
    rt_waiter_unlink(n);
    task_wake_now((des_task *)n->owner);
  }
}

/* A join in L (a task) is about to re-raise the error of the failed task
** at idx: remember it and where (the caller's line) in the joiner's
** UV_CAUSE, so that the joiner's report, if it fails with that same error,
** shows the chain. */
static void note_join_failure(lua_State *L, int idx) {
  rt_global *G = rt_global_get(L);
  des_task *self = rt_thread_task(G, L);
  idx = lua_absindex(L, idx);
  if (self == NULL || !lua_getmetatable(L, idx))
    return;
  if (lua_topointer(L, -1) != G->mt[RT_MT_TASK]) {
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  rt_push_task(L, self);
  lua_createtable(L, 2, 0);
  lua_pushvalue(L, idx);
  lua_rawseti(L, -2, 1);
  {
    size_t len;
    const char *where;
    luaL_where(L, 1); /* the Lua code that called join: "file:line: " */
    where = lua_tolstring(L, -1, &len);
    if (len >= 2)
      lua_pushlstring(L, where, len - 2);
    else
      lua_pushliteral(L, "(unknown)");
    lua_rawseti(L, -3, 2);
    lua_pop(L, 1);
  }
  lua_setiuservalue(L, -2, UV_CAUSE);
  lua_pop(L, 1);
}

/* The values table is the runtime's own ({n=, ...}, never handed to Lua),
** read raw all the same, and n is checked before it sizes anything. */
int rt_push_result(lua_State *L, int idx) {
  rt_waitable *w = lua_touserdata(L, idx);
  lua_Integer ln;
  int i, n;
  if (w->state == WAITABLE_FAILED) {
    note_join_failure(L, idx);
    lua_getiuservalue(L, idx, UV_VALUES);
    return lua_error(L);
  }
  if (lua_getiuservalue(L, idx, UV_VALUES) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushliteral(L, "n");
  lua_rawget(L, -2);
  ln = lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (ln < 0 || ln > INT_MAX / 2)
    luaL_error(L, "too many results (%I)", ln);
  n = (int)ln;
  luaL_checkstack(L, n, "too many results");
  for (i = 1; i <= n; i++)
    lua_rawgeti(L, -i, i);
  lua_remove(L, -n - 1);
  return n;
}

/* }==================================================================== */

/* {====================================================================
** Suspending: sleep and wait
** ===================================================================== */

/* What a task waiting in rt_call waits on (compared by address). */
static const char rt_call_what[] = "call";

/* Continuation of every suspension: deliver an interrupt, or return what
** the task waited for (ctx = stack index of the waitable, 0 for a sleep,
** RT_CTX_CALL for a call's answer). */
#define RT_CTX_CALL (-1)
static int resume_k(lua_State *L, int status, lua_KContext ctx) {
  des_task *t = rt_current(L);
  (void)status;
  rt_check_resumed(L, t);
  if (t->resume == RESUME_INTERRUPT)
    return rt_raise_interrupt(L, t);
  if (ctx == 0)
    return 0;
  if (ctx == RT_CTX_CALL) {
    lua_pushinteger(L, t->call.value);
    return 1;
  }
  return rt_push_result(L, (int)ctx);
}

void rt_check_resumed(lua_State *L, des_task *t) {
  if (t == NULL || t->state != TASK_RUNNING)
    luaL_error(L, "a des task's coroutine was resumed from outside the des "
                  "runtime (its coroutine belongs to the runtime)");
}

/* Common checks before a task suspends: a pending interrupt is raised at
** once, and a task that cannot yield (inside a C call such as table.sort's
** comparator, or a plain coroutine) gets a message naming it. */
void rt_check_suspend(lua_State *L, des_task *t, const char *what) {
  rt_check_resumed(L, t); /* a task started by hand does not suspend */
  if (t->interrupts > 0)
    rt_raise_interrupt(L, t);
  if (!lua_isyieldable(L)) {
    rt_push_task(L, t);
    rt_push_task_label(L, -1);
    luaL_error(L,
               "%s: %s cannot suspend here: attempt to yield across a "
               "C-call boundary (inside a metamethod, an iterator or a "
               "C function such as table.sort?)",
               what, lua_tostring(L, -1));
  }
}

int rt_suspend(lua_State *L, des_task *t, rt_waitable *w, const char *what,
               des_time deadline) {
  des_runtime *rt = t->rt;
  if (deadline >= 0) {
    int rc = sim_schedule(rt->sim, deadline, rt->comp, RT_TIMER, task_id(t),
                          &t->wake);
    if (rc != 0)
      return luaL_error(L, "%s: %s", what, sim_strerror(rc));
  }
  if (w != NULL) {
    t->waiter.notify = NULL;
    t->waiter.owner = t;
    rt_waiter_link(w, &t->waiter);
  }
  t->state = TASK_WAITING;
  t->since = sim_now(rt->sim);
  t->what = what;
  t->wait_obj = 0; /* the caller names the object, if any */
  t->yielding = 1;
  return 0;
}

void rt_push_waiting_on(lua_State *L, des_task *t) {
  if (t->state != TASK_WAITING || t->wait_obj <= 0 || t->co == NULL ||
      t->co == L || lua_gettop(t->co) < t->wait_obj ||
      !lua_checkstack(t->co, 1)) {
    lua_pushnil(L);
    return;
  }
  lua_pushvalue(t->co, t->wait_obj);
  lua_xmove(t->co, L, 1);
}

int rt_sleep(lua_State *L, des_task *t, des_time ticks) {
  des_time when;
  rt_check_suspend(L, t, "sleep");
  if (sim_time_after(t->rt->sim, ticks, &when) != 0)
    return luaL_error(L, "sleep: wake time overflows the simulated clock");
  rt_suspend(L, t, NULL, "sleep", when);
  t->state = TASK_SLEEPING;
  return lua_yieldk(L, 0, 0, resume_k);
}

void rt_check_interrupt(lua_State *L, des_task *t) {
  if (t != NULL && t->interrupts > 0 && t->co == L && t->state == TASK_RUNNING)
    rt_raise_interrupt(L, t);
}

int rt_wait(lua_State *L, des_task *t, rt_waitable *w, int obj,
            const char *what) {
  obj = lua_absindex(L, obj);
  if (t->interrupts > 0) /* even a wait that would return at once */
    rt_check_suspend(L, t, what);
  if (w->state != WAITABLE_PENDING)
    return rt_push_result(L, obj);
  rt_check_suspend(L, t, what);
  lua_settop(L, obj); /* keep the waitable at `obj` across the yield */
  rt_suspend(L, t, w, what, -1);
  t->wait_obj = obj;
  return lua_yieldk(L, 0, (lua_KContext)obj, resume_k);
}

int rt_call(lua_State *L, des_task *t, uint32_t comp, uint32_t kind,
            uint64_t data, des_time ticks) {
  des_runtime *rt = t->rt;
  des_time when;
  int rc;
  rt_check_suspend(L, t, "call");
  rc = sim_time_after(rt->sim, ticks, &when);
  if (rc != 0)
    return luaL_error(L, "call: send time overflows the simulated clock");
  rc = sim_schedule(rt->sim, when, comp, kind | RT_CALL_BIT, task_id(t),
                    &t->wake);
  if (rc != 0)
    return luaL_error(L, "call: %s", sim_strerror(rc));
  t->call_seq++;
  t->call.data = data;
  rt_suspend(L, t, NULL, rt_call_what, -1);
  return lua_yieldk(L, 0, RT_CTX_CALL, resume_k);
}

int rt_call_delivered(des_runtime *rt, const sim_event *ev, uint32_t *kind,
                      uint64_t *data, uint64_t *task, uint64_t *call) {
  des_task *t;
  if (!(ev->kind & RT_CALL_BIT))
    return 0;
  t = task_from_id(rt->G, ev->data);
  if (t == NULL || t->wake != ev->handle)
    return -1; /* cannot happen: a caller that leaves withdraws its call */
  t->wake = 0;
  *kind = ev->kind & ~RT_CALL_BIT;
  *data = t->call.data;
  *task = ev->data;
  *call = t->call_seq;
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** Spawning and ending tasks
** ===================================================================== */

/* A pool of finished threads for new tasks: a thread whose function
** returned is as good as new once its stack is empty, and reusing it saves
** creating (and later collecting) a thread and its stack per task. At
** most RT_THREADS_MAX empty threads wait there (the collector shrinks
** their stacks). */

/* Push a thread for a new task: from the pool, or a new one. */
static lua_State *thread_get(lua_State *L, rt_global *G) {
  lua_Integer n = G->nthreads; /* (no lua_rawlen: a search in the array) */
  if (n > 0) {
    int ok = lua_rawgeti(L, LUA_REGISTRYINDEX, G->ref_threads) == LUA_TTABLE;
    if (ok && lua_rawgeti(L, -1, n) == LUA_TTHREAD) {
      lua_pushnil(L);
      lua_rawseti(L, -3, n);
      lua_replace(L, -2);
      G->nthreads--;
      return lua_tothread(L, -1);
    }
    lua_pop(L, ok ? 2 : 1);
    G->nthreads = 0; /* (the pool is not as we left it: forget it) */
  }
  return lua_newthread(L);
}

/* Keep the thread of the task at idx, which returned normally, for a new
** task (unless the pool is full or the thread is not reusable). */
static void thread_put(lua_State *L, rt_global *G, int idx) {
  lua_State *co;
  lua_Integer n;
  if (((des_task *)lua_touserdata(L, idx))->escaped)
    return; /* Lua may hold it: a new task's thread must be unreachable */
  lua_getiuservalue(L, idx, UV_AUX);
  co = lua_tothread(L, -1);
  if (co == NULL || lua_status(co) != LUA_OK || lua_gettop(co) != 0) {
    lua_pop(L, 1);
    return;
  }
  n = G->nthreads;
  if (lua_rawgeti(L, LUA_REGISTRYINDEX, G->ref_threads) == LUA_TTABLE &&
      n < RT_THREADS_MAX) {
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, n + 1);
    G->nthreads++;
    set_extraspace(co, RT_EXTRA_POOLED);
  }
  lua_pop(L, 2);
}

des_task *rt_spawn(lua_State *L, des_runtime *rt, int fidx, int nargs,
                   int name_idx, int daemon) {
  des_task *t;
  lua_State *co;
  int tidx;
  fidx = lua_absindex(L, fidx);
  name_idx = name_idx ? lua_absindex(L, name_idx) : 0;
  rt_check_live(L, rt);
  if (rt->G->closing) /* (rt->G: no registry lookup per spawn) */
    rt_check_state(L, "spawn");
  t = lua_newuserdatauv(L, sizeof(*t), UV_NTASK);
  memset(t, 0, sizeof(*t));
  tidx = lua_gettop(L);
  rt_setmetatable_g(L, rt->G, RT_MT_TASK);
  t->rt = rt;
  t->serial = ++rt->serials;
  t->daemon = (uint8_t)(daemon != 0);
  t->state = TASK_READY;
  t->what = "start";
  co = thread_get(L, rt->G);
  lua_setiuservalue(L, tidx, UV_AUX);
  if (name_idx) {
    lua_pushvalue(L, name_idx);
    lua_setiuservalue(L, tidx, UV_NAME);
  }
  push_sim(L, rt);
  lua_setiuservalue(L, tidx, UV_SIM);
  /* function and arguments move onto the new coroutine */
  lua_pushvalue(L, fidx);
  lua_xmove(L, co, 1);
  lua_rotate(L, -nargs - 1, 1); /* task object below the arguments */
  lua_xmove(L, co, nargs);
  /* now the task object is on top; the allocations above may have run a
  ** finalizer that closed the simulation */
  rt_check_live(L, rt);
  t->since = sim_now(rt->sim);
  slot_alloc(L, rt->G, t);
  if (sim_schedule(rt->sim, sim_now(rt->sim), rt->comp, RT_SPAWN, task_id(t),
                   &t->wake) != 0) {
    slot_free(rt->G, t);
    luaL_error(L, "spawn: not enough memory");
  }
  t->co = co;
  set_extraspace(co, (uintptr_t)t->slot + 1);
  push_anchors(L, rt);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, (lua_Integer)t->slot + 1);
  lua_pop(L, 1);
  rt->alive++;
  rt->daemons += t->daemon;
  return t;
}

/* End task t (object at idx): release its coroutine and slot, unanchor it,
** and notify everything that waits for it. UV_VALUES must hold its results
** (a packed table) or its error already. */
static void task_finish(lua_State *L, des_task *t, int idx, int state) {
  des_runtime *rt = t->rt;
  idx = lua_absindex(L, idx);
  task_leave_wait(L, t);
  if (t->inlined)
    inline_remove(t);
  if (t->co != NULL)
    set_extraspace(t->co, 0);
  t->co = NULL;
  t->state = (uint8_t)state;
  t->since = sim_now(rt->sim);
  if (state != TASK_FAILED) {
    if (state == TASK_DONE)
      thread_put(L, rt->G, idx);
    lua_pushnil(L);
    lua_setiuservalue(L, idx, UV_AUX); /* drop the thread */
  }
  push_anchors(L, rt);
  lua_pushnil(L);
  lua_rawseti(L, -2, (lua_Integer)t->slot + 1);
  lua_pop(L, 1);
  slot_free(rt->G, t);
  rt->alive--;
  rt->daemons -= t->daemon;
  rt_trigger(L, &t->done, idx,
             state == TASK_DONE ? WAITABLE_OK : WAITABLE_FAILED);
}

/* Close a suspended coroutine: runs its pending <close> variables. Returns
** the status (LUA_OK, or the error a __close raised, left on co's top). */
static int close_thread(lua_State *L, lua_State *co) {
#if LUA_VERSION_RELEASE_NUM >= 50406
  return lua_closethread(co, L);
#else
  (void)L;
  return lua_resetthread(co);
#endif
}

/* Whether the error at err is the cancellation of the task at task_idx
** (raised by its own cancel): the task then ends cancelled, not failed. */
static int is_own_cancel(lua_State *L, int err, int task_idx) {
  int own;
  err = lua_absindex(L, err);
  if (!rt_is_cancelled(L, err))
    return 0;
  lua_pushliteral(L, "task");
  lua_rawget(L, err);
  own = lua_rawequal(L, -1, task_idx);
  lua_pop(L, 1);
  return own;
}

void rt_cancel(lua_State *L, des_task *t, int idx) {
  int status = LUA_OK;
  lua_State *co = t->co;
  idx = lua_absindex(L, idx);
  if (t->state >= TASK_DONE)
    return;
  if (t->state == TASK_RUNNING) {
    if (co != L) {
      rt_push_task_label(L, idx);
      luaL_error(L,
                 "cancel: %s is running and cannot be cancelled from "
                 "here (a plain coroutine it resumed, another "
                 "simulation's run it started, or its own ending)",
                 lua_tostring(L, -1));
    }
    rt_push_cancelled(L, idx); /* unwinds the task; rt_handler sees it */
    lua_error(L);
  }
  task_leave_wait(L, t);
  if (lua_status(co) == LUA_YIELD) { /* started: run its <close> vars */
    t->state = TASK_RUNNING;
    status = close_thread(L, co);
  }
  if (status != LUA_OK) { /* a __close failed: that is the task's error */
    lua_xmove(co, L, 1);
    if (is_own_cancel(L, -1, idx)) { /* a __close cancelled it again */
      lua_setiuservalue(L, idx, UV_VALUES);
      task_finish(L, t, idx, TASK_CANCELLED);
      return;
    }
    lua_setiuservalue(L, idx, UV_VALUES);
    lua_pushliteral(L, "(raised by a <close> variable while cancelling)");
    lua_setiuservalue(L, idx, UV_AUX);
    task_finish(L, t, idx, TASK_FAILED);
    return;
  }
  rt_push_cancelled(L, idx);
  lua_setiuservalue(L, idx, UV_VALUES);
  task_finish(L, t, idx, TASK_CANCELLED);
}

int rt_interrupt(lua_State *L, des_task *t, int idx, int value) {
  idx = lua_absindex(L, idx);
  value = lua_absindex(L, value);
  if (t->state >= TASK_DONE)
    return 0;
  if (lua_getiuservalue(L, idx, UV_VALUES) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, idx, UV_VALUES);
  }
  lua_pushvalue(L, value); /* by count: a nil cause keeps its place */
  lua_rawseti(L, -2, (lua_Integer)t->interrupts + 1);
  lua_pop(L, 1);
  t->interrupts++;
  /* A suspended task is woken with it; so is one already made ready by
  ** what it waited for (SimPy: the interrupt wins over an event at the
  ** same instant): leaving its wait hands a grant on, and the event's
  ** values stay in the event. A task not yet started, or running, gets
  ** it at its next wait. */
  if (t->state == TASK_SLEEPING || t->state == TASK_WAITING ||
      (t->state == TASK_READY && t->co != NULL &&
       lua_status(t->co) == LUA_YIELD && t->resume != RESUME_INTERRUPT)) {
    task_leave_wait(L, t);
    t->resume = RESUME_INTERRUPT;
    task_wake_now(t);
  }
  return 1;
}

/* Answer an open call (see runtime.h). The task is waiting in rt_call
** with the same call number, or the answer is stale. */
int rt_answer(des_runtime *rt, uint64_t task, uint64_t call, des_time when,
              int64_t value) {
  des_task *t = task_from_id(rt->G, task);
  wheel_handle h;
  int rc;
  if (t == NULL || t->rt != rt || t->state != TASK_WAITING ||
      t->what != rt_call_what || t->call_seq != call)
    return RT_ESTALE;
  rc = sim_schedule(rt->sim, when, rt->comp, RT_EXTERNAL, task, &h);
  if (rc != SIM_OK) /* nothing changed */
    return rc == SIM_ENOMEM ? RT_ENOMEM : RT_ERANGE;
  task_leave_wait(NULL, t);
  t->wake = h;
  t->call.value = value;
  t->state = TASK_READY;
  return 0;
}

/* A task object being collected (only with its whole simulation, since a
** live task is anchored): unlink it from everything and free its slot so
** nothing points into freed memory. */
void rt_task_gc(lua_State *L, des_task *t) {
  if (t->inlined)
    inline_remove(t);
  rt_waiter_unlink(&t->waiter);
  while (t->done.head != NULL)
    rt_waiter_unlink(t->done.head);
  if (t->co != NULL) { /* Lua may still hold its thread: never resumable */
    set_extraspace(t->co, RT_EXTRA_ORPHAN);
    slot_free(rt_global_get(L), t); /* (only here: an ended task's __gc,
                                       the common one, needs no lookup) */
    t->co = NULL;
  }
  /* A finalizer can bring the object back: it is then an ended task that
  ** holds nothing (no wake, no queue) and whose join fails clearly. */
  t->wake = 0;
  t->wq = NULL;
  if (t->state < TASK_DONE)
    t->state = TASK_CANCELLED;
  if (t->done.state == WAITABLE_PENDING) {
    t->done.state = WAITABLE_FAILED;
    lua_pushliteral(L, "task: closed simulation (the task was collected "
                       "with its simulation; its finalizer ran)");
    lua_setiuservalue(L, 1, UV_VALUES);
  }
}

/* }==================================================================== */

/* {====================================================================
** The handler: resume a task and see how it stopped
** ===================================================================== */

/* The task at tidx fails: its error object on top, its message and
** traceback below. If that error is the one a join re-raised from a failed
** task (UV_CAUSE), append that task's report (which carries its own chain):
** "raised by task 'child' (#2), joined at file:line:". */
static void chain_cause(lua_State *L, int tidx) {
  int err = lua_gettop(L);
  if (lua_getiuservalue(L, tidx, UV_CAUSE) != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_rawgeti(L, -1, 1); /* the child */
  lua_getiuservalue(L, -1, UV_VALUES);
  if (!lua_rawequal(L, -1, err) ||
      lua_getiuservalue(L, -2, UV_AUX) != LUA_TSTRING) {
    lua_settop(L, err);
    return;
  }
  rt_push_task_label(L, err + 2);
  lua_rawgeti(L, err + 1, 2);
  lua_pushfstring(L, "%s\n\nraised by %s, joined at %s\n%s",
                  lua_tostring(L, err - 1), lua_tostring(L, -2),
                  lua_tostring(L, -1), lua_tostring(L, err + 4));
  lua_replace(L, err - 1);
  lua_settop(L, err);
}

/* Protected part of a task's end (allocates): results, error text,
** notification. Stack: task object, then the coroutine's status. */
static int finish_protected(lua_State *L) {
  des_task *t = lua_touserdata(L, 1);
  int status = (int)lua_tointeger(L, 2);
  int nres = (int)lua_tointeger(L, 3);
  lua_State *co = t->co;
  if (status == LUA_OK) {
    int i;
    if (nres > 0) {
      lua_createtable(L, nres, 1);
      for (i = nres; i >= 1; i--) {
        lua_xmove(co, L, 1);
        lua_rawseti(L, -2, i);
      }
      lua_pushinteger(L, nres);
      lua_setfield(L, -2, "n");
      lua_setiuservalue(L, 1, UV_VALUES);
    } else {
      lua_pushnil(L);
      lua_setiuservalue(L, 1, UV_VALUES);
    }
    task_finish(L, t, 1, TASK_DONE);
    return 0;
  }
  /* error (or a foreign yield, already turned into an error by the caller).
  ** The coroutine's stack is still intact: take the traceback first, then
  ** close it so its <close> variables run (they get the error object). */
  lua_pushvalue(co, -1);
  lua_xmove(co, L, 1); /* the error object */
  if (nres == 0) {     /* the traceback (nres 1: the message has one already) */
    rt_push_error_text(L, -1);
    rt_traceback(L, co, lua_tostring(L, -1));
    lua_remove(L, -2);
  } else
    lua_pushvalue(L, -1);
  lua_insert(L, -2); /* traceback below the error object */
  if (nres == 0 && close_thread(L, co) != LUA_OK) {
    /* Lua 5.4.4 reports the task's own error again when no __close failed;
    ** a different object means a __close raised: note it, keep ours. */
    lua_xmove(co, L, 1);
    if (lua_rawequal(L, -1, -2))
      lua_pop(L, 1);
    else {
      rt_push_error_text(L, -1);
      lua_pushfstring(L, "\n(and a <close> variable raised: %s)",
                      lua_tostring(L, -1));
      lua_remove(L, -2);
      lua_remove(L, -2);
      lua_pushvalue(L, -3);
      lua_insert(L, -2);
      lua_concat(L, 2);
      lua_replace(L, -3);
    }
  }
  lua_settop(co, 0);
  if (is_own_cancel(L, -1, 1)) { /* not a failure */
    lua_setiuservalue(L, 1, UV_VALUES);
    task_finish(L, t, 1, TASK_CANCELLED);
    return 0;
  }
  chain_cause(L, 1);
  lua_setiuservalue(L, 1, UV_VALUES); /* the original error object */
  lua_setiuservalue(L, 1, UV_AUX);    /* message + traceback */
  {
    int joined = t->done.head != NULL; /* joiners, or an any/all */
    task_finish(L, t, 1, TASK_FAILED);
    lua_pushboolean(L, joined);
  }
  return 1;
}

/* Format the report of an unhandled task error, leaving it on top. */
static void push_failure_report(lua_State *L, des_task *t, int idx) {
  des_runtime *rt = t->rt;
  rt_push_task_label(L, idx);
  lua_getiuservalue(L, idx, UV_AUX);
  lua_pushfstring(L, "%s failed at t=%f: %s", lua_tostring(L, -2),
                  rt_units(rt, sim_now(rt->sim)), lua_tostring(L, -1));
  lua_replace(L, -3);
  lua_pop(L, 1);
}

static des_task *t_of(lua_State *L, int idx) {
  return lua_touserdata(L, idx);
}

/* Ask the model's error handler (des.on_error) about an unhandled failure.
** Returns 1 if it handled it. */
static int call_error_handler(lua_State *L, des_runtime *rt, int idx) {
  rt_push_object(L, rt);
  if (lua_getiuservalue(L, -1, 2) != LUA_TFUNCTION) {
    lua_pop(L, 2);
    return 0;
  }
  lua_remove(L, -2);
  lua_pushvalue(L, idx);
  lua_getiuservalue(L, idx, UV_VALUES);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    rt_push_error_text(L, -1);
    push_failure_report(L, t_of(L, idx), idx);
    lua_pushfstring(L, "error handler failed: %s\n(while handling: %s)",
                    lua_tostring(L, -2), lua_tostring(L, -1));
    lua_replace(L, -4);
    lua_pop(L, 2);
    return -1;
  }
  return 1;
}

/* Protected part of end_broken. Stack: task object, error. */
static int end_broken_protected(lua_State *L) {
  des_task *t = lua_touserdata(L, 1);
  if (t->state < TASK_DONE) {
    if (t->co != NULL)
      lua_settop(t->co, 0);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, 1, UV_VALUES);
    rt_push_error_text(L, 2);
    lua_setiuservalue(L, 1, UV_AUX);
    task_finish(L, t, 1, TASK_FAILED);
  }
  push_failure_report(L, t, 1);
  return 1;
}

/* finish_protected failed (out of memory) with the error on top: the task
** still ends, FAILED with that error, so that it is never left running;
** replaces the error by the failure report (or by what failed then). */
static void end_broken(lua_State *L, des_task *t, int tidx) {
  lua_pushcfunction(L, end_broken_protected);
  lua_pushvalue(L, tidx);
  lua_pushvalue(L, -3);
  lua_pcall(L, 2, 1, 0);
  lua_replace(L, -2);
  if (t->state < TASK_DONE) { /* not even that: end it without a word */
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, tidx, UV_VALUES);
    task_finish(L, t, tidx, TASK_FAILED);
  }
  lua_replace(L, tidx);
}

/* Task t returned while interrupts were pending, none of them delivered
** (no wait came after them): that is an error in its report, never
** silence. Replaces its results (nres on its stack) by the message, with
** the first cause, and makes *status an error; returns the new nres (1:
** the message needs no traceback, the coroutine has ended). */
static int end_interrupted(lua_State *L, des_task *t, int *status, int nres) {
  lua_State *co = t->co;
  int top = lua_gettop(L);
  lua_pop(co, nres);
  rt_push_task(L, t);
  lua_getiuservalue(L, -1, UV_VALUES);
  lua_rawgeti(L, -1, 1);
  rt_push_error_text(L, -1);
  lua_pushfstring(L,
                  "returned with %d interrupt%s never delivered (the first's "
                  "cause: %s): an interrupt is raised at the task's next "
                  "wait, and none came",
                  (int)t->interrupts, t->interrupts == 1 ? "" : "s",
                  lua_tostring(L, -1));
  lua_xmove(L, co, 1);
  lua_settop(L, top);
  *status = LUA_ERRRUN;
  return 1;
}

/* Resume t and deal with how it stopped. Returns 0, or RT_STOP_ERROR with
** the report on rt->L's top. */
static int task_resume(des_runtime *rt, des_task *t, int nargs) {
  lua_State *L = rt->L, *co = t->co, *outer = rt->G->running;
  int status, nres, top;
  t->state = TASK_RUNNING;
  t->wake = 0;
  t->yielding = 0;
  rt->G->running = co; /* for des_interrupt */
  status = lua_resume(co, L, nargs, &nres);
  rt->G->running = outer;
  if (status == LUA_YIELD) {
    if (t->yielding) { /* a des suspension: the common case */
      t->yielding = 0;
      return 0;
    }
    /* a foreign yield: the task is broken. Build the message with the
    ** traceback at the yield, close the coroutine (its <close> variables
    ** run), and end the task as failed with that message. */
    lua_pop(co, nres);
    rt_push_task(L, t);
    rt_push_task_label(L, -1);
    lua_pushfstring(L,
                    "%s yielded outside des (a plain coroutine.yield in "
                    "a task? use des.sleep or event:wait)",
                    lua_tostring(L, -1));
    rt_traceback(L, co, lua_tostring(L, -1));
    t->state = TASK_RUNNING;
    close_thread(L, co);
    lua_settop(co, 0);
    lua_xmove(L, co, 1);
    lua_pop(L, 3);
    status = LUA_ERRRUN;
    nres = 1; /* tells finish_protected the message has its traceback */
  } else if (status != LUA_OK)
    nres = 0;
  else if (t->interrupts > 0)
    nres = end_interrupted(L, t, &status, nres);
  top = lua_gettop(L);
  if (status == LUA_OK && nres == 0 && t->done.head == NULL) {
    /* the common end: no results to keep, nobody waiting to be told.
    ** Nothing here allocates (the thread pool is preallocated), so it
    ** needs no protected call. */
    rt_push_task(L, t);
    lua_pushnil(L);
    lua_setiuservalue(L, -2, UV_VALUES);
    task_finish(L, t, -1, TASK_DONE);
    lua_settop(L, top);
    return 0;
  }
  rt_push_task(L, t);
  lua_pushcfunction(L, finish_protected);
  lua_pushvalue(L, -2);
  lua_pushinteger(L, status);
  lua_pushinteger(L, nres);
  if (lua_pcall(L, 3, 1, 0) != LUA_OK) { /* out of memory while ending */
    end_broken(L, t, top + 1);
    lua_settop(L, top + 1);
    return RT_STOP_ERROR;
  }
  if (status != LUA_OK && !lua_toboolean(L, -1) && t->state == TASK_FAILED) {
    int h;
    lua_pop(L, 1);
    h = call_error_handler(L, rt, top + 1);
    if (h == 0) {
      push_failure_report(L, t, top + 1);
      h = -1;
    }
    if (h < 0) {
      lua_remove(L, top + 1);
      return RT_STOP_ERROR;
    }
  }
  lua_settop(L, top);
  return 0;
}

/* Resume the tasks a timeout woke in its turn (task_wake_inline), in
** order; once one stops the run (rc != 0, its report on top), the others
** are scheduled as ordinary wakes instead. Returns rc. */
static int resume_inline(des_runtime *rt, int rc) {
  des_task *t;
  while ((t = rt->inline_head) != NULL) {
    rt->inline_head = t->inline_next;
    if (rt->inline_head == NULL)
      rt->inline_tail = NULL;
    t->inline_next = NULL;
    t->inlined = 0;
    if (t->state != TASK_READY || t->wake != 0)
      continue; /* interrupted or woken again as usual meanwhile */
    if (rc == 0)
      rc = task_resume(rt, t, 0);
    else
      sim_schedule(rt->sim, sim_now(rt->sim), rt->comp, RT_WAKE, task_id(t),
                   &t->wake);
  }
  return rc;
}

/* The runtime's component handler. */
static int rt_handler(des_sim *sim, void *ctx, const sim_event *ev) {
  des_runtime *rt = ctx;
  lua_State *L = rt->L;
  des_task *t;
  int rc;
  (void)sim;
  if (ev->kind == RT_SCHED)
    return rt->G->bind.fire_scheduled(rt, ev) ? RT_STOP_ERROR : 0;
  if (ev->kind == RT_UNHANDLED) {
    int top = lua_gettop(L);
    lua_pushcfunction(L, rt->G->bind.check_unhandled);
    rt_push_object(L, (void *)(uintptr_t)ev->data);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || lua_type(L, -1) == LUA_TSTRING)
      return RT_STOP_ERROR; /* the report (or what failed) at top + 1 */
    lua_settop(L, top);
    return 0;
  }
  if (ev->kind == RT_TIMEOUT) {
    int top = lua_gettop(L), status;
    lua_pushcfunction(L, rt->G->bind.fire_timeout);
    rt_push_object(L, (void *)(uintptr_t)ev->data);
    rt->firing = (rt_waitable *)(uintptr_t)ev->data; /* des_event's first */
    status = lua_pcall(L, 1, 0, 0);
    rt->firing = NULL;
    if (status != LUA_OK) {
      rt_push_error_text(L, -1);
      lua_pushfstring(L, "event callback failed at t=%f: %s",
                      rt_units(rt, sim_now(rt->sim)), lua_tostring(L, -1));
      lua_replace(L, top + 1);
      lua_settop(L, top + 1);
      resume_inline(rt, RT_STOP_ERROR);
      return RT_STOP_ERROR;
    }
    lua_settop(L, top);
    rc = resume_inline(rt, 0);
    if (rc == 0)
      rt_end_if_only_daemons(rt);
    return rc;
  }
  t = task_from_id(rt->G, ev->data);
  if (t == NULL || t->wake != ev->handle)
    return 0; /* cannot happen: ended tasks' wakes are cancelled */
  rc = task_resume(rt, t, ev->kind == RT_SPAWN ? lua_gettop(t->co) - 1 : 0);
  if (rc == 0)
    rt_end_if_only_daemons(rt);
  return rc;
}

/* }==================================================================== */

/* {====================================================================
** Tracing: one line per handled event
** ===================================================================== */

static const char *const rt_kind_names[] = {"?",         "spawn",    "timer",
                                            "wake",      "external", "timeout",
                                            "unhandled", "scheduled"};

const char *rt_kind_name(uint32_t kind) {
  return kind <= RT_SCHED ? rt_kind_names[kind] : "?";
}

/* Push what a runtime event is about: its task (nil if none) or, for a
** timeout, its event. */
void rt_push_event_subject(lua_State *L, des_runtime *rt, uint32_t kind,
                           uint64_t data) {
  des_task *t;
  if (kind == RT_TIMEOUT || kind == RT_UNHANDLED) {
    rt_push_object(L, (void *)(uintptr_t)data);
    return;
  }
  if (kind == RT_SCHED) { /* no task */
    lua_pushnil(L);
    return;
  }
  t = task_from_id(rt->G, data);
  if (t == NULL)
    lua_pushnil(L);
  else
    rt_push_task(L, t);
}

void rt_push_component_name(lua_State *L, des_runtime *rt, uint32_t id) {
  rt_push_object(L, rt);
  if (lua_getiuservalue(L, -1, 4) == LUA_TTABLE) { /* name -> id */
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      if (lua_tointeger(L, -1) == (lua_Integer)id) {
        lua_pop(L, 1);
        lua_replace(L, -3);
        lua_pop(L, 1);
        return;
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 2);
  lua_pushnil(L);
}

/* Push the trace line of ev: "t=<units> [<ticks>] <kind> <what>". */
static void push_trace_line(lua_State *L, des_runtime *rt,
                            const sim_event *ev) {
  lua_pushfstring(L, "t=%f [%I] ", rt_units(rt, ev->when),
                  (lua_Integer)ev->when);
  if (ev->component != rt->comp) {
    rt_push_component_name(L, rt, ev->component);
    if (lua_isstring(L, -1))
      lua_pushfstring(L, "component '%s' kind %d data %I", lua_tostring(L, -1),
                      (int)(ev->kind & ~RT_CALL_BIT), (lua_Integer)ev->data);
    else
      lua_pushfstring(L, "component %d kind %d data %I", (int)ev->component,
                      (int)ev->kind, (lua_Integer)ev->data);
    lua_remove(L, -2);
  } else if (ev->kind == RT_TIMEOUT || ev->kind == RT_UNHANDLED)
    lua_pushstring(L, rt_kind_name(ev->kind));
  else if (ev->kind == RT_SCHED)
    lua_pushliteral(L, "scheduled function");
  else {
    des_task *t = task_from_id(rt->G, ev->data);
    const char *kind = rt_kind_name(ev->kind);
    if (t == NULL)
      lua_pushfstring(L, "%s (stale)", kind);
    else {
      rt_push_task(L, t);
      rt_push_task_label(L, -1);
      lua_pushfstring(L, "%s %s", kind, lua_tostring(L, -1));
      lua_replace(L, -3);
      lua_pop(L, 1);
    }
  }
  lua_concat(L, 2);
}

/* The simulation's trace hook: to stderr, or to the Lua function kept as
** the sim object's user value 3. */
static void rt_trace_hook(void *ctx, const sim_event *ev) {
  des_runtime *rt = ctx;
  lua_State *L = rt->L;
  int top = lua_gettop(L);
  if (!lua_checkstack(L, 8))
    return;
  if (rt->trace == RT_TRACE_STDERR) {
    push_trace_line(L, rt, ev);
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
  } else {
    rt_push_object(L, rt);
    lua_getiuservalue(L, -1, 3);
    push_trace_line(L, rt, ev);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
      rt_push_error_text(L, -1);
      fprintf(stderr, "deshost: trace function failed: %s\n",
              lua_tostring(L, -1));
    }
  }
  lua_settop(L, top);
}

void rt_set_trace(des_runtime *rt, int mode) {
  rt->trace = mode;
  sim_set_trace(rt->sim, mode == RT_TRACE_OFF ? NULL : rt_trace_hook, rt);
}

/* }==================================================================== */

/* {====================================================================
** Life cycle and running
** ===================================================================== */

int rt_init(lua_State *L, des_runtime *rt, uint64_t seed, int64_t resolution) {
  void *ud;
  lua_Alloc f = lua_getallocf(L, &ud);
  int comp;
  memset(rt, 0, sizeof(*rt));
  rt->G = rt_global_get(L);
  rt->closed = RT_CLOSED; /* until it is complete */
  rt->sim = sim_new((des_allocf)f, ud);
  if (rt->sim == NULL)
    return -1;
  comp = sim_add_component(rt->sim, rt_handler, rt);
  if (comp < 0) {
    sim_free(rt->sim);
    rt->sim = NULL;
    return -1;
  }
  rt->closed = RT_OPEN;
  rt->comp = (uint32_t)comp;
  rt->seed = seed;
  rt->resolution = resolution;
  rt->L = L;
  return 0;
}

des_time rt_now(const des_runtime *rt) {
  return rt->sim != NULL && rt->closed != RT_CLOSED ? sim_now(rt->sim)
                                                    : rt->closed_at;
}

/* Raise "<function>: closed simulation (...)", naming the running C
** function as Lua's argument errors do. */
static void closed_error(lua_State *L, const des_runtime *rt) {
  lua_Debug ar;
  if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar) && ar.name != NULL)
    lua_pushfstring(L, "%s: ", ar.name);
  else
    lua_pushliteral(L, ""); /* called by a C function such as pcall */
  if (rt->closed == RT_CLOSING)
    luaL_error(L,
               "%sclosed simulation (it is closing: nothing new starts "
               "while its tasks are cancelled)",
               lua_tostring(L, -1));
  luaL_error(L, "%sclosed simulation (closed at t=%f)", lua_tostring(L, -1),
             rt_units(rt, rt->closed_at));
}

void rt_check_open(lua_State *L, const des_runtime *rt) {
  if (rt->closed == RT_CLOSED)
    closed_error(L, rt);
}

void rt_check_live(lua_State *L, const des_runtime *rt) {
  if (rt->closed != RT_OPEN)
    closed_error(L, rt);
}

/* The task at idx, if the value there is one (allocates nothing). */
static des_task *to_task(lua_State *L, rt_global *G, int idx) {
  des_task *t = NULL;
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TUSERDATA && lua_getmetatable(L, idx)) {
    if (lua_topointer(L, -1) == G->mt[RT_MT_TASK])
      t = lua_touserdata(L, idx);
    lua_pop(L, 1);
  }
  return t;
}

/* End a task that close could not cancel (spawned by a finalizer while the
** simulation closed, or alive when its object was collected) without
** running Lua code: it leaves every wait and its slot, is unanchored and
** counts as cancelled. A resource forgets it only when `leave` (not from
** __gc, where the resource may have been finalized already). Joiners stay
** waiting: it has no result to give them. */
static void task_detach(lua_State *L, des_task *t, int leave) {
  des_runtime *rt = t->rt;
  if (!leave)
    t->wq = NULL;
  if (rt->sim != NULL)
    task_leave_wait(L, t);
  t->wq = NULL;
  t->wake = 0;
  rt_waiter_unlink(&t->waiter);
  if (t->co != NULL) {
    set_extraspace(t->co, 0);
    slot_free(rt->G, t);
    t->co = NULL;
  }
  if (t->inlined)
    inline_remove(t);
  t->state = TASK_CANCELLED;
  rt->alive--;
  rt->daemons -= t->daemon;
}

/* Detach the live tasks of the simulation whose object is at obj; when
** `leave`, not those running (a task whose cancel closes it: that cancel
** ends it). */
static void detach_all(lua_State *L, des_runtime *rt, int obj, int leave) {
  lua_getiuservalue(L, obj, 1);
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      des_task *t = to_task(L, rt->G, -1);
      lua_pop(L, 1);
      if (t != NULL && t->rt == rt && t->state < TASK_DONE &&
          !(leave && t->state == TASK_RUNNING)) {
        task_detach(L, t, leave);
        lua_pushvalue(L, -1); /* unanchor: a field set to nil while the */
        lua_pushnil(L);       /* traversal goes on allocates nothing */
        lua_rawset(L, -4);
      }
    }
  }
  lua_pop(L, 1);
}

/* Free the queue of a closed simulation now (what a run grew it to, and
** its pending timeouts and component events): an empty des_sim, its clock
** at the close time, takes the place of the old one, so that rt->sim stays
** valid for whatever still holds rt. Without memory, the old one stays. */
static void free_queue(lua_State *L, des_runtime *rt) {
  void *ud;
  lua_Alloc f = lua_getallocf(L, &ud);
  des_sim *fresh = sim_new((des_allocf)f, ud);
  if (fresh == NULL)
    return;
  sim_run_until(fresh, rt->closed_at); /* no event: sets the clock */
  sim_free(rt->sim);
  rt->sim = fresh;
}

/* Protected: cancel the task at 1 (for rt_close). */
static int close_cancel(lua_State *L) {
  rt_cancel(L, lua_touserdata(L, 1), 1);
  return 0;
}

typedef struct rt_order {
  uint64_t serial;
  lua_Integer i;
} rt_order;

static int order_cmp(const void *a, const void *b) {
  uint64_t x = ((const rt_order *)a)->serial, y = ((const rt_order *)b)->serial;
  return x < y ? -1 : x > y;
}

void rt_close(lua_State *L, des_runtime *rt, int obj) {
  lua_Integer i, n = 0;
  rt_order *order;
  int list, err = 0, top = lua_gettop(L);
  obj = lua_absindex(L, obj);
  /* Everything that allocates comes first, so that a memory error leaves
  ** the simulation open: the live tasks, held by a list, in spawn order. */
  lua_newtable(L);
  list = lua_gettop(L);
  lua_getiuservalue(L, obj, 1);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    des_task *t = to_task(L, rt->G, -1);
    if (t != NULL && t->state < TASK_DONE && t->state != TASK_RUNNING)
      lua_rawseti(L, list, ++n); /* (a running one is being cancelled) */
    else
      lua_pop(L, 1);
  }
  lua_pop(L, 1);
  order = lua_newuserdatauv(L, (size_t)n * sizeof(*order) + 1, 0);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, list, i + 1);
    order[i].serial = ((des_task *)lua_touserdata(L, -1))->serial;
    order[i].i = i + 1;
    lua_pop(L, 1);
  }
  qsort(order, (size_t)n, sizeof(*order), order_cmp);
  lua_pushnil(L);              /* the first error a cancel raised */
  if (rt->closed != RT_OPEN) { /* a finalizer closed it meanwhile */
    lua_settop(L, top);
    return;
  }
  rt->closed = RT_CLOSING;
  for (i = 0; i < n; i++) {
    lua_pushcfunction(L, close_cancel);
    lua_rawgeti(L, list, order[i].i);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
      if (!err)
        lua_replace(L, list + 2);
      else
        lua_pop(L, 1);
      err = 1;
    }
  }
  detach_all(L, rt, obj, 1); /* what a cancel could not end */
  rt->closed_at = sim_now(rt->sim);
  rt->closed = RT_CLOSED;
  if (rt->G->bind.sched_forget != NULL)
    rt->G->bind.sched_forget(L, rt, obj);
  free_queue(L, rt);
  if (err) {
    lua_pushvalue(L, list + 2);
    lua_error(L);
  }
  lua_settop(L, top);
}

void rt_free(lua_State *L, des_runtime *rt, int obj) {
  obj = lua_absindex(L, obj);
  if (rt->sim == NULL) {
    rt->closed = RT_CLOSED;
    return;
  }
  if (rt->closed != RT_CLOSED) {
    detach_all(L, rt, obj, 0);
    rt->closed_at = sim_now(rt->sim);
    rt->closed = RT_CLOSED;
  }
  if (rt->G->bind.sched_forget != NULL)
    rt->G->bind.sched_forget(L, rt, obj);
  if (rt->G->anchors_rt == rt)
    rt->G->anchors_rt = NULL; /* its memory may hold another sim later */
  sim_free(rt->sim);
  rt->sim = NULL;
}

/* Did the runtime's own handler stop the run (a task error)? */
static int rt_failed_itself(des_runtime *rt) {
  uint32_t comp;
  sim_failure(rt->sim, &comp);
  return comp == rt->comp;
}

/* The one place where a simulation outcome of a run becomes the
** runtime's. */
static int rt_from_sim(int rc) {
  switch (rc) {
  case SIM_OK:
    return RT_OK;
  case SIM_EMPTY:
    return RT_EMPTY;
  case SIM_STOPPED:
    return RT_STOPPED;
  case SIM_YIELDED:
    return RT_YIELDED;
  case SIM_FAILED:
    return RT_HANDLER; /* a C component's: the runtime's own raised */
  case SIM_ENOMEM:
    return RT_ENOMEM;
  case SIM_ERUNNING:
    return RT_EBUSY;
  default:
    return RT_EPAST;
  }
}

const char *rt_strerror(int code) {
  switch (code) {
  case RT_OK:
    return "no error";
  case RT_EMPTY:
    return "no event left";
  case RT_STOPPED:
    return "stopped by a request";
  case RT_YIELDED:
    return "yielded to the host";
  case RT_HANDLER:
    return "a C component's handler stopped the run";
  case RT_ERROR:
    return "a Lua error";
  case RT_ENOMEM:
    return "not enough memory";
  case RT_ESTALE:
    return "the call is no longer open";
  case RT_ERANGE:
    return "time past the simulated clock's range";
  case RT_EBUSY:
    return "the simulation is already running";
  case RT_EPAST:
    return "time is before the current time";
  default:
    return "unknown error";
  }
}

/* What run_protected runs. */
typedef struct rt_run_args {
  des_runtime *rt;
  des_time limit;
  int step, rc;
} rt_run_args;

/* The dispatch loop, inside one lua_pcall per run or step (not per event):
** an error that escapes a handler (memory) unwinds to rt_run_raw, which
** puts the simulation back in order. */
static int run_protected(lua_State *L) {
  rt_run_args *a = lua_touserdata(L, 1);
  des_sim *sim = a->rt->sim;
  if (a->step == RT_RUN_THROUGH)
    a->rc = sim_run_through(sim, a->limit);
  else if (a->step)
    a->rc = sim_step(sim);
  else if (a->limit >= 0)
    a->rc = sim_run_until(sim, a->limit);
  else
    a->rc = sim_run(sim);
  if (a->rc == SIM_FAILED && rt_failed_itself(a->rt))
    return lua_error(L); /* the report is on top */
  return 0;
}

int rt_run_raw(lua_State *L, des_runtime *rt, des_time limit, int step) {
  lua_State *saved = rt->L;
  des_runtime *prev = rt->G->dispatching;
  rt_run_args a;
  int status, rc;
  a.rt = rt;
  a.limit = limit;
  a.step = step;
  a.rc = 0;
  rt->daemon_end = limit < 0 && !step;
  rt->daemon_ended = 0;
  if (rt_only_daemons_left(rt)) /* nothing to run */
    return RT_OK;
  rt->L = L;
  rt->G->dispatching = rt;
  lua_pushcfunction(L, run_protected);
  lua_pushlightuserdata(L, &a);
  status = lua_pcall(L, 1, 0, 0);
  rt->L = saved;
  rt->G->dispatching = prev;
  rt->daemon_end = 0;
  if (status != LUA_OK) {
    sim_abandon_run(rt->sim);
    rc = RT_ERROR;
  } else if (a.rc == SIM_STOPPED && rt->daemon_ended)
    rc = RT_OK; /* only daemons were left: the run is over */
  else
    rc = rt_from_sim(a.rc);
  rt->daemon_ended = 0;
  return rc;
}

int rt_run(lua_State *L, des_runtime *rt, des_time limit, int step) {
  des_task *cur = rt_current(L);
  int rc;
  rt_check_live(L, rt);
  if (cur != NULL && cur->rt == rt)
    return luaL_error(L, "run: called from inside a task of the same "
                         "simulation (a task cannot drive its own clock; "
                         "under deshost the model's main chunk is already "
                         "a task, so it needs no des.run)");
  if (sim_running(rt->sim))
    return luaL_error(L, "run: the simulation is already running");
  if (limit >= 0 && limit < sim_now(rt->sim))
    return luaL_error(L, "run: until time is before the current time");
  do /* a post's yield (hpost.c) is the host's business: run on */
    rc = rt_run_raw(L, rt, limit, step);
  while (rc == RT_YIELDED);
  if (!step) /* the run is over: the end hooks, once */
    rc = rt_run_at_end(L, rt, rc);
  if (rc == RT_ERROR)
    return lua_error(L);
  if (rc == RT_HANDLER) { /* a negative value is an error, as in deshost.h */
    uint32_t comp;
    int v = sim_failure(rt->sim, &comp);
    if (v < 0)
      return luaL_error(L,
                        "run: C component %d's handler stopped the run "
                        "with code %d",
                        (int)comp, v);
  } else if (rc < 0)
    return luaL_error(L, "run: %s", rt_strerror(rc));
  return rc;
}

/* }==================================================================== */

/* {====================================================================
** Time conversion (DESIGN "Time")
** ===================================================================== */

/* ticks in units (dtime.c). */
lua_Number rt_units(const des_runtime *rt, des_time ticks) {
  return (lua_Number)dtime_units(ticks, rt->resolution);
}

/* A duration in units at idx, as ticks (dtime.c: whole units times R plus
** the rounded fraction, and a positive duration at least one tick).
** Refuses non-numbers, NaN, infinities, negatives and anything past the
** clock's range, naming `fname`. */
des_time rt_check_duration(lua_State *L, des_runtime *rt, int idx,
                           const char *fname) {
  des_time ticks = 0;
  int rc;
  if (lua_isinteger(L, idx)) {
    lua_Integer i = lua_tointeger(L, idx);
    rc = dtime_ticks_int(i, rt->resolution, &ticks);
    if (rc == DTIME_ENEG)
      luaL_error(L, "%s: duration must be >= 0 (got %I)", fname, i);
    else if (rc != DTIME_OK)
      luaL_error(L, "%s: duration %I is past the simulated clock's range",
                 fname, i);
    return ticks;
  }
  if (lua_type(L, idx) != LUA_TNUMBER)
    luaL_error(L, "%s: duration must be a number (got %s)", fname,
               luaL_typename(L, idx));
  rc = dtime_ticks((double)lua_tonumber(L, idx), rt->resolution, &ticks);
  switch (rc) {
  case DTIME_OK:
    break;
  case DTIME_ENAN:
    luaL_error(L, "%s: duration must be a number (got nan)", fname);
    break;
  case DTIME_ENEG:
    luaL_error(L, "%s: duration must be >= 0 (got %f)", fname,
               lua_tonumber(L, idx));
    break;
  case DTIME_EINF:
    luaL_error(L, "%s: duration must be finite (got inf)", fname);
    break;
  default:
    luaL_error(L, "%s: duration %f is past the simulated clock's range", fname,
               lua_tonumber(L, idx));
  }
  return ticks;
}

/* }==================================================================== */
