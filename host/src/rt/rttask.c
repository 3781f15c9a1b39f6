/*
** rttask.c -- tasks: suspending (sleep, wait, calls to C components),
** spawning, ending, cancelling and interrupting. The per-state tables they
** use are in runtime.c; the handler that resumes them in rtdispatch.c.
*/
#include "rtint.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtime.h"

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
  rt_task *t = rt_current(L);
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

void rt_check_resumed(lua_State *L, rt_task *t) {
  if (t == NULL || t->state != TASK_RUNNING)
    luaL_error(L, "a des task's coroutine was resumed from outside the des "
                  "runtime (its coroutine belongs to the runtime)");
}

/* Common checks before a task suspends: a pending interrupt is raised at
** once, and a task that cannot yield (inside a C call such as table.sort's
** comparator, or a plain coroutine) gets a message naming it. */
void rt_check_suspend(lua_State *L, rt_task *t, const char *what) {
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

int rt_suspend(lua_State *L, rt_task *t, rt_waitable *w, const char *what,
               des_time deadline) {
  rt_runtime *rt = t->rt;
  if (deadline >= 0) {
    int rc = sim_schedule(rt->sim, deadline, rt->comp, RT_TIMER, rt_task_id(t),
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

void rt_push_waiting_on(lua_State *L, rt_task *t) {
  if (t->state != TASK_WAITING || t->wait_obj <= 0 || t->co == NULL ||
      t->co == L || lua_gettop(t->co) < t->wait_obj ||
      !lua_checkstack(t->co, 1)) {
    lua_pushnil(L);
    return;
  }
  lua_pushvalue(t->co, t->wait_obj);
  lua_xmove(t->co, L, 1);
}

int rt_sleep(lua_State *L, rt_task *t, des_time ticks) {
  des_time when;
  rt_check_suspend(L, t, "sleep");
  if (sim_time_after(t->rt->sim, ticks, &when) != 0)
    return luaL_error(L, "sleep: wake time overflows the simulated clock");
  rt_suspend(L, t, NULL, "sleep", when);
  t->state = TASK_SLEEPING;
  return lua_yieldk(L, 0, 0, resume_k);
}

void rt_check_interrupt(lua_State *L, rt_task *t) {
  if (t != NULL && t->interrupts > 0 && t->co == L && t->state == TASK_RUNNING)
    rt_raise_interrupt(L, t);
}

int rt_wait(lua_State *L, rt_task *t, rt_waitable *w, int obj,
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

int rt_call(lua_State *L, rt_task *t, uint32_t comp, uint32_t kind,
            uint64_t data, des_time ticks) {
  rt_runtime *rt = t->rt;
  des_time when;
  int rc;
  rt_check_suspend(L, t, "call");
  rc = sim_time_after(rt->sim, ticks, &when);
  if (rc != 0)
    return luaL_error(L, "call: send time overflows the simulated clock");
  rc = sim_schedule(rt->sim, when, comp, kind | RT_CALL_BIT, rt_task_id(t),
                    &t->wake);
  if (rc != 0)
    return luaL_error(L, "call: %s", sim_strerror(rc));
  t->call_seq++;
  t->call.data = data;
  rt_suspend(L, t, NULL, rt_call_what, -1);
  return lua_yieldk(L, 0, RT_CTX_CALL, resume_k);
}

int rt_call_delivered(rt_runtime *rt, const sim_event *ev, uint32_t *kind,
                      uint64_t *data, uint64_t *task, uint64_t *call) {
  rt_task *t;
  if (!(ev->kind & RT_CALL_BIT))
    return 0;
  t = rt_task_from_id(rt->G, ev->data);
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
** most RT_THREADS_MAX free threads wait there, on the stack of the pool's
** keeper thread (G->pool), which had room made for them when it was made:
** taking one is one lua_xmove, and so is giving one back, neither
** allocates. The collector shrinks the stacks of the free ones. A task
** holds the thread it took in its UV_AUX (never the pool: a live task's
** stack may hold its own simulation, which must stay collectable). */

/* The keeper's body: it raises at once, so the keeper is dead by an
** error (coroutine.resume refuses it, should the debug library reach it)
** and its stack is the pool's to use. Allocates nothing. */
static int pool_keeper(lua_State *K) {
  lua_pushboolean(K, 0);
  return lua_error(K);
}

int rt_pool_new(lua_State *L, rt_global *G) {
  lua_State *K = lua_newthread(L);
  int nres;
  rt_set_extraspace(K, 0); /* (no task's) */
  lua_pushcfunction(K, pool_keeper);
  if (lua_resume(K, L, 0, &nres) == LUA_ERRRUN && lua_checkstack(K, 0)) {
    lua_settop(K, 0);
    /* room for every free thread now: giving one back never allocates
    ** (rt_task_resume relies on it) */
    if (lua_checkstack(K, RT_THREADS_MAX + 1))
      G->pool = K;
  }
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Whether the keeper is as the pool left it (else it is never used again:
** only the debug library can reach it). */
static int pool_intact(rt_global *G) {
  lua_State *K = G->pool;
  if (K == NULL)
    return 0;
  if (lua_status(K) == LUA_ERRRUN && lua_gettop(K) == (int)G->nthreads)
    return 1;
  G->pool = NULL;
  G->nthreads = 0;
  return 0;
}

/* Push a thread for a new task: from the pool, or a new one. */
static lua_State *thread_get(lua_State *L, rt_global *G) {
  if (G->nthreads > 0 && pool_intact(G)) {
    lua_State *co = G->pool_list[--G->nthreads];
    lua_xmove(G->pool, L, 1);
    if (lua_tothread(L, -1) == co)
      return co;
    lua_pop(L, 1);
    G->pool = NULL; /* (cannot happen: pool_intact) */
    G->nthreads = 0;
  }
  return lua_newthread(L);
}

/* Whether the pool takes t's thread back: it returned normally, nothing
** but the task held it (an escaped one: Lua may hold it, and a new task's
** must be unreachable), and there is room. */
static int thread_poolable(rt_global *G, const rt_task *t) {
  lua_State *co = t->co;
  return !t->escaped && co != NULL && G->nthreads < RT_THREADS_MAX &&
         lua_status(co) == LUA_OK && lua_gettop(co) == 0 && pool_intact(G);
}

/* Give t's thread, poolable, to the pool: from the task's UV_AUX (object
** at idx), or with idx 0 pushed from the thread itself (ended: its empty
** stack has room). */
static void thread_put(lua_State *L, rt_global *G, rt_task *t, int idx) {
  lua_State *co = t->co;
  if (idx == 0) {
    lua_pushthread(co);
    lua_xmove(co, G->pool, 1);
  } else {
    lua_getiuservalue(L, idx, UV_AUX);
    if (lua_tothread(L, -1) != co) {
      lua_pop(L, 1);
      return;
    }
    lua_xmove(L, G->pool, 1);
  }
  G->pool_list[G->nthreads++] = co;
  rt_set_extraspace(co, RT_EXTRA_POOLED);
}

/* Whether co is one of the pool's free threads. */
int rt_thread_pooled(const rt_global *G, const lua_State *co) {
  uint32_t i;
  for (i = 0; i < G->nthreads; i++)
    if (G->pool_list[i] == co)
      return 1;
  return 0;
}

rt_task *rt_spawn(lua_State *L, rt_runtime *rt, int fidx, int nargs,
                  int name_idx, int daemon) {
  rt_global *G = rt->G;
  rt_task *t;
  lua_State *co;
  int tidx;
  uint32_t slot;
  fidx = lua_absindex(L, fidx);
  name_idx = name_idx ? lua_absindex(L, name_idx) : 0;
  rt_check_live(L, rt);
  if (G->closing) /* (rt->G: no registry lookup per spawn) */
    rt_check_state(L, "spawn");
  t = lua_newuserdatauv(L, sizeof(*t), UV_NTASK);
  memset(t, 0, sizeof(*t));
  tidx = lua_gettop(L);
  rt_setmetatable_g(L, G, RT_MT_TASK);
  t->rt = rt;
  t->serial = ++rt->serials;
  t->daemon = (uint8_t)(daemon != 0);
  t->state = TASK_READY;
  t->what = "start";
  co = thread_get(L, G);
  lua_setiuservalue(L, tidx, UV_AUX);
  /* the new coroutine's stack takes the function and every argument (a
  ** model passes as many as its own stack holds: it was a wild write) */
  if (!lua_checkstack(co, nargs + 1))
    luaL_error(L, "spawn: too many arguments (%d)", nargs);
  if (name_idx) {
    lua_pushvalue(L, name_idx);
    lua_setiuservalue(L, tidx, UV_NAME);
  }
  /* function and arguments move onto the new coroutine */
  lua_pushvalue(L, fidx);
  lua_xmove(L, co, 1);
  lua_rotate(L, -nargs - 1, 1); /* task object below the arguments */
  lua_xmove(L, co, nargs);
  /* now the task object is on top; the allocations above may have run a
  ** finalizer that closed the simulation */
  rt_check_live(L, rt);
  t->since = sim_now(rt->sim);
  /* Anchored before it takes its slot and its event: a task object has no
  ** finalizer (one per task is costly), so a task that a slot or an event
  ** names must never be collectable. The anchor may grow the table (raises
  ** on no memory, runs no finalizer); the slot is reserved first so that
  ** taking it then cannot fail. */
  slot = rt_slot_reserve(L, G);
  rt_push_anchors_sim(L, rt); /* (neither allocates) */
  lua_setiuservalue(L, -3, UV_SIM);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, (lua_Integer)slot + 1);
  rt_slot_alloc(L, G, t);
  if (sim_schedule(rt->sim, sim_now(rt->sim), rt->comp, RT_SPAWN, rt_task_id(t),
                   &t->wake) != 0) {
    lua_pushnil(L); /* an existing key: allocates nothing */
    lua_rawseti(L, -2, (lua_Integer)slot + 1);
    rt_slot_free(G, t);
    luaL_error(L, "spawn: not enough memory");
  }
  lua_pop(L, 1);
  t->co = co;
  rt_set_extraspace(co, (uintptr_t)t->slot + 1);
  rt->alive++;
  rt->daemons += t->daemon;
  return t;
}

/* rt_task_finish, with the anchor table at index `anchors` (0: pushed
** here). idx 0: the common end (rt_task_end), which needs no object: the
** pool takes the thread, there are no values to drop and nothing to run
** on its end. A finished task whose thread went back to the pool may
** still name it in UV_AUX (the pool holds it anyway; nothing reads the
** thread of an ended task: t->co is NULL). */
static void task_finish(lua_State *L, rt_task *t, int idx, int state,
                        int anchors) {
  rt_runtime *rt = t->rt;
  if (idx != 0)
    idx = lua_absindex(L, idx);
  rt_task_leave_wait(L, t);
  if (t->inlined)
    rt_inline_remove(t);
  if (t->co != NULL)
    rt_set_extraspace(t->co, 0);
  t->state = (uint8_t)state;
  t->since = sim_now(rt->sim);
  if (state == TASK_DONE && thread_poolable(rt->G, t))
    thread_put(L, rt->G, t, idx);
  else if (state != TASK_FAILED) {
    lua_pushnil(L);
    lua_setiuservalue(L, idx, UV_AUX); /* drop the thread */
  }
  t->co = NULL;
  if (anchors == 0) {
    rt_push_anchors(L, rt);
    lua_pushnil(L);
    lua_rawseti(L, -2, (lua_Integer)t->slot + 1);
    lua_pop(L, 1);
  } else {
    lua_pushnil(L);
    lua_rawseti(L, anchors, (lua_Integer)t->slot + 1);
  }
  rt_slot_free(rt->G, t);
  rt->alive--;
  rt->daemons -= t->daemon;
  rt_trigger(L, &t->done, idx,
             state == TASK_DONE ? WAITABLE_OK : WAITABLE_FAILED);
}

void rt_task_finish(lua_State *L, rt_task *t, int idx, int state) {
  task_finish(L, t, idx, state, 0);
}

void rt_task_end(lua_State *L, rt_task *t) {
  int top = lua_gettop(L), anchors = rt_anchors_index(L, t->rt);
  if (anchors == 0) {          /* (not in a run's handler) */
    rt_push_anchors(L, t->rt); /* once for the object and its end */
    anchors = lua_gettop(L);
  }
  if (!t->has_values && !t->done.callbacks && t->done.head == NULL &&
      thread_poolable(t->rt->G, t)) {
    task_finish(L, t, 0, TASK_DONE, anchors); /* the common end */
    lua_settop(L, top);
    return;
  }
  lua_rawgeti(L, anchors, (lua_Integer)t->slot + 1);
  if (t->has_values) { /* (interrupt causes, all delivered) */
    lua_pushnil(L);
    lua_setiuservalue(L, -2, UV_VALUES);
  }
  task_finish(L, t, lua_gettop(L), TASK_DONE, anchors);
  lua_settop(L, top);
}

/* Close a suspended coroutine: runs its pending <close> variables. Returns
** the status (LUA_OK, or the error a __close raised, left on co's top). */
int rt_close_thread(lua_State *L, lua_State *co) {
#if LUA_VERSION_RELEASE_NUM >= 50406
  return lua_closethread(co, L);
#else
  (void)L;
  return lua_resetthread(co);
#endif
}

/* Whether the error at err is the cancellation of the task at task_idx
** (raised by its own cancel): the task then ends cancelled, not failed. */
int rt_is_own_cancel(lua_State *L, int err, int task_idx) {
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

void rt_cancel(lua_State *L, rt_task *t, int idx) {
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
  rt_task_leave_wait(L, t);
  if (lua_status(co) == LUA_YIELD) { /* started: run its <close> vars */
    t->state = TASK_RUNNING;
    status = rt_close_thread(L, co);
  }
  if (status != LUA_OK) { /* a __close failed: that is the task's error */
    lua_xmove(co, L, 1);
    if (rt_is_own_cancel(L, -1, idx)) { /* a __close cancelled it again */
      lua_setiuservalue(L, idx, UV_VALUES);
      rt_task_finish(L, t, idx, TASK_CANCELLED);
      return;
    }
    lua_setiuservalue(L, idx, UV_VALUES);
    lua_pushliteral(L, "(raised by a <close> variable while cancelling)");
    lua_setiuservalue(L, idx, UV_AUX);
    rt_task_finish(L, t, idx, TASK_FAILED);
    return;
  }
  rt_push_cancelled(L, idx);
  lua_setiuservalue(L, idx, UV_VALUES);
  rt_task_finish(L, t, idx, TASK_CANCELLED);
}

int rt_interrupt(lua_State *L, rt_task *t, int idx, int value) {
  idx = lua_absindex(L, idx);
  value = lua_absindex(L, value);
  if (t->state >= TASK_DONE)
    return 0;
  if (lua_getiuservalue(L, idx, UV_VALUES) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, idx, UV_VALUES);
    t->has_values = 1;
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
    rt_task_leave_wait(L, t);
    t->resume = RESUME_INTERRUPT;
    rt_task_wake_now(t);
  }
  return 1;
}

/* Answer an open call (see runtime.h). The task is waiting in rt_call
** with the same call number, or the answer is stale. */
int rt_answer(rt_runtime *rt, uint64_t task, uint64_t call, des_time when,
              int64_t value) {
  rt_task *t = rt_task_from_id(rt->G, task);
  wheel_handle h;
  int rc;
  if (t == NULL || t->rt != rt || t->state != TASK_WAITING ||
      t->what != rt_call_what || t->call_seq != call)
    return RT_ESTALE;
  rc = sim_schedule(rt->sim, when, rt->comp, RT_EXTERNAL, task, &h);
  if (rc != SIM_OK) /* nothing changed */
    return rc == SIM_ENOMEM ? RT_ENOMEM : RT_ERANGE;
  rt_task_leave_wait(NULL, t);
  t->wake = h;
  t->call.value = value;
  t->state = TASK_READY;
  return 0;
}

/* }==================================================================== */
