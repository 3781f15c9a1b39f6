/*
** runtime.c -- the task runtime: Lua coroutines as simulated processes.
**
** A task is a Lua thread plus a rt_task record (a full userdata). The
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
** tasks. An ended task drops its thread (one that went back to the thread
** pool, which holds it anyway, may stay named by its UV_AUX); only its
** results stay, for join.
**
** A task's thread belongs to the runtime: only rt_task_resume resumes it
** (lco.c refuses coroutine.resume/close on it from Lua), and every
** continuation checks that the runtime resumed it (rt_check_resumed). A
** finished thread is pooled for a new task unless Lua has seen it
** (coroutine.running); LUA_EXTRASPACE marks pooled and orphaned threads.
**
** The layer's files: this one holds the per-state tables (task slots,
** objects by pointer, anchors) and waitables; rttask.c suspends, spawns
** and ends tasks; rtdispatch.c is the event handler and the trace; rtrun.c
** a simulation's life cycle and runs; rterror.c error text and objects;
** rtend.c how a run ends; waitq.c the wait queue. rtint.h is what they
** share; runtime.h what the layers above see.
*/
#include "rtint.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtime.h"

/* The registry key of the objects table (by address: no string to intern
** on every use). The hot path reaches the same table by G->ref_objects. */
static const char rt_objects_key = 'o';

/* {====================================================================
** Global slot table
** ===================================================================== */

void rt_set_extraspace(lua_State *co, uintptr_t v) {
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
  atomic_init(&G->stop_all, 0);
  G->allocf = lua_getallocf(L, &G->allocud);
  G->free_head = UINT32_MAX;
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, global_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, RT_GLOBAL_KEY);
  G->ref_threads = rt_pool_new(L, G);
  /* objects: light userdata -> object, weak values; 'r' (vendored Lua,
  ** patch 0012): an object a finalizer brings back keeps its entry */
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "vr");
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
  rt_set_extraspace(lua_tothread(L, -1), 0);
  lua_pop(L, 1);
  return G;
}

void rt_check_state(lua_State *L, const char *what) {
  rt_global *G = lua_touserdata(L, lua_upvalueindex(1)); /* des functions' */
  if (G == NULL)
    G = rt_global_get(L);
  if (G->closing)
    luaL_error(L,
               "%s: the Lua state is closing (a finalizer cannot make "
               "new des objects then)",
               what);
}

/* The index the next rt_slot_alloc will take, with room for it made now
** (growing the table by doubling; raises on no memory before anything
** changes), so that the allocation itself cannot fail. */
uint32_t rt_slot_reserve(lua_State *L, rt_global *G) {
  if (G->free_head != UINT32_MAX)
    return G->free_head;
  if (G->nslots == G->capslots) {
    uint32_t ncap = G->capslots ? G->capslots * 2 : 64;
    void *p = G->allocf(G->allocud, G->slots, G->capslots * sizeof(*G->slots),
                        ncap * sizeof(*G->slots));
    if (p == NULL)
      luaL_error(L, "not enough memory for a new task");
    G->slots = p;
    G->capslots = ncap;
  }
  return G->nslots;
}

/* Take a free slot for t (the one rt_slot_reserve names). */
uint32_t rt_slot_alloc(lua_State *L, rt_global *G, rt_task *t) {
  uint32_t i = rt_slot_reserve(L, G);
  if (i == G->free_head)
    G->free_head = G->slots[i].next_free;
  else {
    G->nslots++;
    G->slots[i].gen = 1;
  }
  G->slots[i].task = t;
  G->slots[i].next_free = UINT32_MAX;
  t->slot = i;
  t->gen = G->slots[i].gen;
  return i;
}

/* Release t's slot; bumping the generation makes every id of t stale. */
void rt_slot_free(rt_global *G, rt_task *t) {
  uint32_t i = t->slot;
  if (rt_running_task == t) /* it ends while it runs (detached) */
    rt_running_task = NULL;
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
static uint64_t task_id(const rt_task *t) {
  return ((uint64_t)t->gen << 32) | t->slot;
}

uint64_t rt_task_id(const rt_task *t) {
  return task_id(t);
}

int rt_push_task_by_id(lua_State *L, rt_runtime *rt, uint64_t id) {
  rt_task *t = id != 0 ? rt_task_from_id(rt->G, id) : NULL;
  if (t == NULL || t->rt != rt) {
    lua_pushnil(L);
    return 0;
  }
  rt_push_task(L, t);
  return 1;
}

rt_task *rt_task_from_id(rt_global *G, uint64_t id) {
  uint32_t i = (uint32_t)id, gen = (uint32_t)(id >> 32);
  if (i >= G->nslots || G->slots[i].gen != gen)
    return NULL;
  return G->slots[i].task;
}

/* The live task whose coroutine is co: its LUA_EXTRASPACE names a slot
** whose task runs on co (garbage in the extra space of a thread made
** before des loaded never matches). */
rt_task *rt_thread_task(rt_global *G, lua_State *co) {
  uintptr_t idx;
  memcpy(&idx, lua_getextraspace(co), sizeof(idx));
  if (G == NULL || idx == 0 || idx > G->nslots)
    return NULL;
  if (G->slots[idx - 1].task == NULL || G->slots[idx - 1].task->co != co)
    return NULL;
  return G->slots[idx - 1].task;
}

_Thread_local rt_task *rt_running_task;

rt_task *rt_current_slow(lua_State *L) {
  rt_global *G = lua_touserdata(L, lua_upvalueindex(1));
  if (G != NULL && G->sched_firing == L)
    return NULL; /* a scheduled function runs outside any task */
  return rt_thread_task(G, L);
}

/* Whether co is a thread the runtime retired: an orphan (its task was
** collected with its simulation while it waited), or one waiting in the
** pool for new tasks (marked so, and found among the pool's free ones: at
** most RT_THREADS_MAX). */
int rt_thread_retired(lua_State *L, rt_global *G, lua_State *co) {
  uintptr_t v;
  (void)L;
  memcpy(&v, lua_getextraspace(co), sizeof(v));
  if (v == RT_EXTRA_ORPHAN)
    return RT_RETIRED_ORPHAN;
  if (v != RT_EXTRA_POOLED || G == NULL)
    return 0;
  return rt_thread_pooled(G, co) ? RT_RETIRED_POOLED : 0;
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
void rt_push_sim(lua_State *L, rt_runtime *rt) {
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
int rt_anchors_index(lua_State *L, const rt_runtime *rt) {
  int idx = rt->anchors_idx;
  if (idx > 0 && L == rt->L && lua_topointer(L, idx) == rt->anchors_p)
    return idx;
  return 0;
}

void rt_push_anchors(lua_State *L, rt_runtime *rt) {
  rt_global *G = rt->G;
  int idx = rt_anchors_index(L, rt);
  if (idx > 0) { /* the run's own */
    lua_pushvalue(L, idx);
    return;
  }
  if (G->anchors_rt == rt) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, G->ref_anchors);
    if (lua_rawgeti(L, -1, 1) == LUA_TTABLE) {
      lua_replace(L, -2);
      return;
    }
    lua_pop(L, 2);
  }
  G->anchors_rt = NULL; /* (rt_push_sim reads no stale cache) */
  rt_push_sim(L, rt);
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

void rt_push_anchored(lua_State *L, rt_runtime *rt, const void *p) {
  rt_push_anchors(L, rt);
  if (lua_type(L, -1) == LUA_TTABLE)
    lua_rawgetp(L, -1, p);
  else
    lua_pushnil(L);
  lua_replace(L, -2);
}

void rt_push_anchors_sim(lua_State *L, rt_runtime *rt) {
  rt_global *G = rt->G;
  if (G->anchors_rt == rt) { /* one look-up of the cache for both */
    int ta, ts;
    lua_rawgeti(L, LUA_REGISTRYINDEX, G->ref_anchors);
    ta = lua_rawgeti(L, -1, 1);
    ts = lua_rawgeti(L, -2, 2);
    lua_remove(L, -3);
    if (ta == LUA_TTABLE && ts == LUA_TUSERDATA)
      return;
    lua_pop(L, 2);
  }
  rt_push_anchors(L, rt); /* (fills the cache) */
  rt_push_sim(L, rt);
}

void rt_push_task(lua_State *L, rt_task *t) {
  rt_push_anchors(L, t->rt);
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
void rt_task_leave_wait(lua_State *L, rt_task *t) {
  sim_state *sim = t->rt->sim;
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
void rt_task_wake_now(rt_task *t) {
  rt_runtime *rt = t->rt;
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
void rt_task_wake_inline(rt_task *t) {
  rt_runtime *rt = t->rt;
  if (t->wake != 0) {
    sim_cancel(rt->sim, t->wake);
    t->wake = 0;
  }
  t->state = TASK_READY;
  if (t->inlined)
    return;
  t->inlined = 1;
  t->inline_next = NULL;
  t->inline_prev = rt->inline_tail;
  if (rt->inline_tail != NULL)
    rt->inline_tail->inline_next = t;
  else
    rt->inline_head = t;
  rt->inline_tail = t;
}

/* Take t out of its runtime's inline list (it ended meanwhile): O(1), as
** a model can end the tasks of a long list (one event's many waiters) in
** any order. */
void rt_inline_remove(rt_task *t) {
  rt_runtime *rt = t->rt;
  if (t->inline_prev != NULL)
    t->inline_prev->inline_next = t->inline_next;
  else if (rt->inline_head == t)
    rt->inline_head = t->inline_next;
  if (t->inline_next != NULL)
    t->inline_next->inline_prev = t->inline_prev;
  else if (rt->inline_tail == t)
    rt->inline_tail = t->inline_prev;
  t->inline_next = t->inline_prev = NULL;
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
      rt_task *t = (rt_task *)n->owner;
      if (t->rt->firing == f) /* waits on the timeout firing now */
        rt_task_wake_inline(t);
      else
        rt_task_wake_now(t);
    } else
      n->notify(L, n, top); /* may push its owner: a new frame */
  }
}

void rt_trigger_tasks(rt_waitable *w) {
  rt_waiter *n;
  w->state = WAITABLE_OK;
  while ((n = w->head) != NULL) {
    rt_waiter_unlink(n);
    rt_task_wake_now((rt_task *)n->owner);
  }
}

/* A join in L (a task) is about to re-raise the error of the failed task
** at idx: remember it and where (the caller's line) in the joiner's
** UV_CAUSE, so that the joiner's report, if it fails with that same error,
** shows the chain. */
static void note_join_failure(lua_State *L, int idx) {
  rt_global *G = rt_global_get(L);
  rt_task *self = rt_thread_task(G, L);
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
