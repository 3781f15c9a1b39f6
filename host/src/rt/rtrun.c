/*
** rtrun.c -- a simulation's life cycle (init, close, free) and its runs:
** the dispatch loop inside one protected call, and time conversions.
*/
#include "rtint.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtime.h"

/* {====================================================================
** Life cycle and running
** ===================================================================== */

/* The key of the message a task collected with its simulation keeps as
** its error (detach_all). It is made with the first simulation: the
** simulation's __gc must not allocate, since a memory error there would cut
** it short, leaving pointers into freed tasks behind. */
static const char collected_key = 0;

int rt_init(lua_State *L, rt_runtime *rt, uint64_t seed, int64_t resolution) {
  void *ud;
  lua_Alloc f = lua_getallocf(L, &ud);
  int comp;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &collected_key) == LUA_TNIL) {
    lua_pushliteral(L, "task: closed simulation (the task was collected "
                       "with its simulation)");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &collected_key);
  }
  lua_pop(L, 1);
  memset(rt, 0, sizeof(*rt));
  rt->G = rt_global_get(L);
  rt->closed = RT_CLOSED; /* until it is complete */
  rt->sim = sim_new((des_allocf)f, ud);
  if (rt->sim == NULL)
    return -1;
  comp = sim_add_component(rt->sim, rt_handler, rt);
  if (comp >= 0)
    sim_set_hint(rt->sim, (uint32_t)comp, rt_hint);
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

des_time rt_now(const rt_runtime *rt) {
  return rt->sim != NULL && rt->closed != RT_CLOSED ? sim_now(rt->sim)
                                                    : rt->closed_at;
}

/* Raise "<function>: closed simulation (...)", naming the running C
** function as Lua's argument errors do. */
static void closed_error(lua_State *L, const rt_runtime *rt) {
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

void rt_check_open(lua_State *L, const rt_runtime *rt) {
  if (rt->closed == RT_CLOSED)
    closed_error(L, rt);
}

void rt_check_live(lua_State *L, const rt_runtime *rt) {
  if (rt->closed != RT_OPEN)
    closed_error(L, rt);
}

/* The task at idx, if the value there is one (allocates nothing). */
static rt_task *to_task(lua_State *L, rt_global *G, int idx) {
  rt_task *t = NULL;
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
static void task_detach(lua_State *L, rt_task *t, int leave) {
  rt_runtime *rt = t->rt;
  if (!leave)
    t->wq = NULL;
  if (rt->sim != NULL)
    rt_task_leave_wait(L, t);
  t->wq = NULL;
  t->wake = 0;
  rt_waiter_unlink(&t->waiter);
  if (t->co != NULL) { /* from __gc, Lua may still hold the thread */
    rt_set_extraspace(t->co, leave ? 0 : RT_EXTRA_ORPHAN);
    rt_slot_free(rt->G, t);
    t->co = NULL;
  }
  if (t->inlined)
    rt_inline_remove(t);
  t->state = TASK_CANCELLED;
  rt->alive--;
  rt->daemons -= t->daemon;
}

/* Detach the live tasks of the simulation whose object is at obj; when
** `leave`, not those running (a task whose cancel closes it: that cancel
** ends it). */
static void detach_all(lua_State *L, rt_runtime *rt, int obj, int leave) {
  lua_getiuservalue(L, obj, 1);
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      rt_task *t = to_task(L, rt->G, -1);
      if (t != NULL && t->rt == rt && t->state < TASK_DONE && !leave &&
          t->done.state == WAITABLE_PENDING) {
        /* collected with its simulation (task objects have no __gc): a
        ** finalizer may bring it back, and its join then fails clearly */
        t->done.state = WAITABLE_FAILED;
        lua_rawgetp(L, LUA_REGISTRYINDEX, &collected_key); /* no allocation */
        lua_setiuservalue(L, -2, UV_VALUES);
      }
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
** its pending timeouts and component events): an empty sim_state, its clock
** at the close time, takes the place of the old one, so that rt->sim stays
** valid for whatever still holds rt. Without memory, the old one stays. */
static void free_queue(lua_State *L, rt_runtime *rt) {
  void *ud;
  lua_Alloc f = lua_getallocf(L, &ud);
  sim_state *fresh = sim_new((des_allocf)f, ud);
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

void rt_close(lua_State *L, rt_runtime *rt, int obj) {
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
    rt_task *t = to_task(L, rt->G, -1);
    if (t != NULL && t->state < TASK_DONE && t->state != TASK_RUNNING)
      lua_rawseti(L, list, ++n); /* (a running one is being cancelled) */
    else
      lua_pop(L, 1);
  }
  lua_pop(L, 1);
  order = lua_newuserdatauv(L, (size_t)n * sizeof(*order) + 1, 0);
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, list, i + 1);
    order[i].serial = ((rt_task *)lua_touserdata(L, -1))->serial;
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

void rt_free(lua_State *L, rt_runtime *rt, int obj) {
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
static int rt_failed_itself(rt_runtime *rt) {
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
  rt_runtime *rt;
  des_time limit;
  int step, rc;
} rt_run_args;

/* The dispatch loop, inside one lua_pcall per run or step (not per event):
** an error that escapes a handler (memory) unwinds to rt_run_raw, which
** puts the simulation back in order. */
static int run_protected(lua_State *L) {
  rt_run_args *a = lua_touserdata(L, 1);
  sim_state *sim = a->rt->sim;
  rt_push_anchors(L, a->rt); /* held here for the run (rt_anchors_index) */
  a->rt->anchors_p = lua_topointer(L, -1);
  a->rt->anchors_idx = lua_gettop(L);
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

int rt_run_raw(lua_State *L, rt_runtime *rt, des_time limit, int step) {
  lua_State *saved = rt->L;
  rt_runtime *prev = rt->G->dispatching;
  rt_run_args a;
  int status, rc, saved_idx = rt->anchors_idx;
  const void *saved_p = rt->anchors_p;
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
  rt->anchors_idx = saved_idx;
  rt->anchors_p = saved_p;
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

void rt_stop_all(rt_global *G) {
  atomic_store(&G->stop_all, 1);
}

void rt_stop_clear(rt_global *G) {
  if (G->dispatching == NULL)
    atomic_store(&G->stop_all, 0);
}

/* Raise the error of a run from Lua that rt_stop_all ended (or refused to
** start), naming where the simulation's clock stands. */
static int stopped_error(lua_State *L, rt_runtime *rt, int step) {
  return luaL_error(L,
                    "%s: stopped at t=%f by a stop request to the host "
                    "(des_stop; Ctrl-C under deshost)",
                    step ? "step" : "run", rt_units(rt, sim_now(rt->sim)));
}

int rt_run(lua_State *L, rt_runtime *rt, des_time limit, int step) {
  rt_task *cur = rt_current(L);
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
  if (atomic_load(&rt->G->stop_all))
    return stopped_error(L, rt, step); /* a Ctrl-C stands: start nothing */
  do /* a post's yield (hpost.c) is the host's business: run on */
    rc = rt_run_raw(L, rt, limit, step);
  while (rc == RT_YIELDED);
  if (!step) /* the run is over: the end hooks, once */
    rc = rt_run_at_end(L, rt, rc);
  if (rc == RT_ERROR)
    return lua_error(L);
  if (rc == RT_STOPPED && atomic_load(&rt->G->stop_all))
    return stopped_error(L, rt, step);
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
lua_Number rt_units(const rt_runtime *rt, des_time ticks) {
  return (lua_Number)dtime_units(ticks, rt->resolution);
}

/* A duration in units at idx, as ticks (dtime.c: whole units times R plus
** the rounded fraction, and a positive duration at least one tick).
** Refuses non-numbers, NaN, infinities, negatives and anything past the
** clock's range, naming `fname`. */
des_time rt_check_duration(lua_State *L, rt_runtime *rt, int idx,
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
