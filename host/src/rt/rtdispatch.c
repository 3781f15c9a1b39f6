/*
** rtdispatch.c -- the runtime's event handler: resume the task an event is
** for and see how it stopped (slept, waits, ended, failed); timeouts,
** scheduled calls and unhandled-failure checks through the binding's
** callbacks; and the trace, one line per handled event.
*/
#include "rtint.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtime.h"

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
  rt_task *t = lua_touserdata(L, 1);
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
    rt_task_finish(L, t, 1, TASK_DONE);
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
  if (nres == 0 && rt_close_thread(L, co) != LUA_OK) {
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
  if (rt_is_own_cancel(L, -1, 1)) { /* not a failure */
    lua_setiuservalue(L, 1, UV_VALUES);
    rt_task_finish(L, t, 1, TASK_CANCELLED);
    return 0;
  }
  chain_cause(L, 1);
  lua_setiuservalue(L, 1, UV_VALUES); /* the original error object */
  lua_setiuservalue(L, 1, UV_AUX);    /* message + traceback */
  {
    int joined = t->done.head != NULL; /* joiners, or an any/all */
    rt_task_finish(L, t, 1, TASK_FAILED);
    lua_pushboolean(L, joined);
  }
  return 1;
}

/* Format the report of an unhandled task error, leaving it on top. */
static void push_failure_report(lua_State *L, rt_task *t, int idx) {
  rt_runtime *rt = t->rt;
  rt_push_task_label(L, idx);
  lua_getiuservalue(L, idx, UV_AUX);
  lua_pushfstring(L, "%s failed at t=%f: %s", lua_tostring(L, -2),
                  rt_units(rt, sim_now(rt->sim)), lua_tostring(L, -1));
  lua_replace(L, -3);
  lua_pop(L, 1);
}

static rt_task *t_of(lua_State *L, int idx) {
  return lua_touserdata(L, idx);
}

/* Ask the model's error handler (des.on_error) about an unhandled failure.
** Returns 1 if it handled it. */
static int call_error_handler(lua_State *L, rt_runtime *rt, int idx) {
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
  rt_task *t = lua_touserdata(L, 1);
  if (t->state < TASK_DONE) {
    if (t->co != NULL)
      lua_settop(t->co, 0);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, 1, UV_VALUES);
    rt_push_error_text(L, 2);
    lua_setiuservalue(L, 1, UV_AUX);
    rt_task_finish(L, t, 1, TASK_FAILED);
  }
  push_failure_report(L, t, 1);
  return 1;
}

/* finish_protected failed (out of memory) with the error on top: the task
** still ends, FAILED with that error, so that it is never left running;
** replaces the error by the failure report (or by what failed then). */
static void end_broken(lua_State *L, rt_task *t, int tidx) {
  lua_pushcfunction(L, end_broken_protected);
  lua_pushvalue(L, tidx);
  lua_pushvalue(L, -3);
  lua_pcall(L, 2, 1, 0);
  lua_replace(L, -2);
  if (t->state < TASK_DONE) { /* not even that: end it without a word */
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, tidx, UV_VALUES);
    rt_task_finish(L, t, tidx, TASK_FAILED);
  }
  lua_replace(L, tidx);
}

/* Task t returned while interrupts were pending, none of them delivered
** (no wait came after them): that is an error in its report, never
** silence. Replaces its results (nres on its stack) by the message, with
** the first cause, and makes *status an error; returns the new nres (1:
** the message needs no traceback, the coroutine has ended). */
static int end_interrupted(lua_State *L, rt_task *t, int *status, int nres) {
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

/* How task t stopped on co (its thread when resumed), when not by a des
** suspension (task_resume): a foreign yield, an error, or its end.
** Returns as rt_task_resume. */
static __attribute__((noinline)) int
task_stopped(rt_runtime *rt, rt_task *t, lua_State *co, int status, int nres) {
  lua_State *L = rt->L;
  int top;
  if (status == LUA_YIELD) {
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
    rt_close_thread(L, co);
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
    rt_task_end(L, t);
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

/* Resume t and deal with how it stopped. Returns 0, or RT_STOP_ERROR with
** the report on rt->L's top. Inlined into the handler: a task's yield
** comes back by a longjmp, after which every return up to the run loop is
** mispredicted (the return stack still holds the task's frames), so the
** fewer frames between the loop and lua_resume, the fewer such returns. */
static inline __attribute__((always_inline)) int
task_resume(rt_runtime *rt, rt_task *t, int nargs) {
  lua_State *co = t->co, *outer = rt->G->running;
  int status, nres;
  t->state = TASK_RUNNING;
  t->wake = 0;
  t->yielding = 0;
  rt->G->running = co; /* for des_interrupt */
  rt_running_task = t; /* for rt_current */
  status = lua_resume(co, rt->L, nargs, &nres);
  rt->G->running = outer;
  /* a nested run's outer task, looked up again (it may have ended) */
  rt_running_task = outer != NULL ? rt_thread_task(rt->G, outer) : NULL;
  if (status == LUA_YIELD && t->yielding) { /* a des suspension: common */
    t->yielding = 0;
    return 0;
  }
  return task_stopped(rt, t, co, status, nres);
}

int rt_task_resume(rt_runtime *rt, rt_task *t, int nargs) {
  return task_resume(rt, t, nargs);
}

/* Resume the tasks a timeout woke in its turn (rt_task_wake_inline), in
** order; once one stops the run (rc != 0, its report on top), the others
** are scheduled as ordinary wakes instead. Returns rc. */
static int resume_inline(rt_runtime *rt, int rc) {
  rt_task *t;
  while ((t = rt->inline_head) != NULL) {
    rt->inline_head = t->inline_next;
    if (rt->inline_head == NULL)
      rt->inline_tail = NULL;
    else
      rt->inline_head->inline_prev = NULL;
    t->inline_next = NULL;
    t->inlined = 0;
    if (t->state != TASK_READY || t->wake != 0)
      continue; /* interrupted or woken again as usual meanwhile */
    if (rc == 0)
      rc = rt_task_resume(rt, t, 0);
    else
      sim_schedule(rt->sim, sim_now(rt->sim), rt->comp, RT_WAKE, rt_task_id(t),
                   &t->wake);
  }
  return rc;
}

/* Handle one event of the runtime (rt_handler), inlined there (see
** task_resume). */
static inline __attribute__((always_inline)) int
rt_handle(rt_runtime *rt, const sim_event *ev) {
  lua_State *L = rt->L;
  rt_task *t;
  int rc;
  if (ev->kind == RT_SCHED)
    return rt->G->bind.fire_scheduled(rt, ev) ? RT_STOP_ERROR : 0;
  if (ev->kind == RT_UNHANDLED) {
    int top = lua_gettop(L);
    lua_pushcfunction(L, rt->G->bind.check_unhandled);
    rt_push_anchored(L, rt, (void *)(uintptr_t)ev->data);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || lua_type(L, -1) == LUA_TSTRING)
      return RT_STOP_ERROR; /* the report (or what failed) at top + 1 */
    lua_settop(L, top);
    return 0;
  }
  if (ev->kind == RT_TIMEOUT) {
    int top = lua_gettop(L), status;
    lua_pushcfunction(L, rt->G->bind.fire_timeout);
    rt_push_anchored(L, rt, (void *)(uintptr_t)ev->data);
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
  t = rt_task_from_id(rt->G, ev->data);
  if (t == NULL || t->wake != ev->handle)
    return 0; /* cannot happen: ended tasks' wakes are cancelled */
  rc = task_resume(rt, t, ev->kind == RT_SPAWN ? lua_gettop(t->co) - 1 : 0);
  if (rc == 0)
    rt_end_if_only_daemons(rt);
  return rc;
}

/* The events that resume a task. */
#define RT_TASK_KINDS ((1u << RT_SPAWN) | (1u << RT_TIMER) | (1u << RT_WAKE))

/* The runtime's component handler: an event, then a stop request for
** every run of the state (rt_stop_all: a Ctrl-C during this event) ends
** this run after it, as sim_stop does for the host's own. While the next
** events resume tasks, it takes them itself (sim_take_next_of). */
int rt_handler(sim_state *sim, void *ctx, const sim_event *ev) {
  rt_runtime *rt = ctx;
  sim_event next;
  int rc;
  for (;;) {
    rc = rt_handle(rt, ev);
    if (atomic_load_explicit(&rt->G->stop_all, memory_order_relaxed)) {
      sim_stop(sim);
      return rc;
    }
    /* the next event resumes a task too: handled here, not after a return
    ** to the loop (after a task's yield, by longjmp, that return is
    ** mispredicted: see task_resume) */
    if (rc != 0 || !sim_take_next_of(sim, rt->comp, RT_TASK_KINDS, &next))
      return rc;
    ev = &next;
  }
}

/* The runtime's hint (sim_set_hint): the next event resumes a task; start
** loading the task's struct (its lines are cold: a thousand other tasks
** ran since it slept), which rt_handle and rt_task_resume read first. */
void rt_hint(void *ctx, uint32_t kind, uint64_t data) {
  rt_global *G = ((rt_runtime *)ctx)->G;
  uint32_t i = (uint32_t)data;
  if (kind <= RT_WAKE && i < G->nslots) {
    const char *t = (const char *)G->slots[i].task;
    __builtin_prefetch(t);
    __builtin_prefetch(t + 64);
    __builtin_prefetch(t + 128);
  }
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
void rt_push_event_subject(lua_State *L, rt_runtime *rt, uint32_t kind,
                           uint64_t data) {
  rt_task *t;
  if (kind == RT_TIMEOUT || kind == RT_UNHANDLED) {
    rt_push_anchored(L, rt, (void *)(uintptr_t)data);
    return;
  }
  if (kind == RT_SCHED) { /* no task */
    lua_pushnil(L);
    return;
  }
  t = rt_task_from_id(rt->G, data);
  if (t == NULL)
    lua_pushnil(L);
  else
    rt_push_task(L, t);
}

void rt_push_component_name(lua_State *L, rt_runtime *rt, uint32_t id) {
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
static void push_trace_line(lua_State *L, rt_runtime *rt, const sim_event *ev) {
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
    rt_task *t = rt_task_from_id(rt->G, ev->data);
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
  rt_runtime *rt = ctx;
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

void rt_set_trace(rt_runtime *rt, int mode) {
  rt->trace = mode;
  sim_set_trace(rt->sim, mode == RT_TRACE_OFF ? NULL : rt_trace_hook, rt);
}

/* }==================================================================== */
