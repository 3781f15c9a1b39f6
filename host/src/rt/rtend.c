/*
** rtend.c -- how a run ends (issue 15 items 12 and 13): a run without
** `until` ends when only daemon tasks and their own wakes are left, and the
** simulation's end hooks (sim:at_end) run once when a run ends, whatever
** the reason. rt_run_raw and the runtime's handler (runtime.c) call these.
*/
#include "rtint.h"

#include <string.h>

/* Whether only daemon tasks are left in a run that ends then (one without
** `until`): every live task is a daemon and every pending event is one of
** their own wakes (a spawn, a sleep's end, a wake, a component's answer).
** A pending timeout, scheduled callback or component event keeps the run
** going: it may start or wake a task that is not a daemon. Each daemon has
** at most one pending wake, so more pending events than daemons answer at
** once; otherwise the (few) pending events are looked at. */
int rt_only_daemons_left(rt_runtime *rt) {
  wheel_event small[16], *evs = small;
  size_t i, n, listed;
  int only = 1;
  /* the cheap tests first: this runs after every event of the runtime */
  if (!rt->daemon_end || rt->daemons == 0 || rt->alive != rt->daemons)
    return 0;
  n = sim_pending(rt->sim);
  if (n > rt->daemons)
    return 0;
  /* the listing below sorts every pending event, after every event: a
  ** model with many daemons waiting and as many other events pending
  ** made each event cost them all (charged, later: this is the dispatch) */
  if (rt->L != NULL)
    rt_charge_later(rt->L, n * 2);
  if (n > sizeof(small) / sizeof(small[0])) {
    evs = rt->G->allocf(rt->G->allocud, NULL, 0, n * sizeof(*evs));
    if (evs == NULL)
      return 0; /* runs on: the next event asks again */
  }
  /* a listing short of n (the queue's own listing found no memory)
  ** proves nothing: the run goes on, and the next event asks again */
  listed = sim_list(rt->sim, evs, n);
  only = listed == n;
  for (i = 0; i < listed && only; i++) {
    const wheel_payload *p = &evs[i].payload;
    rt_task *t;
    only = p->target == rt->comp && p->kind < RT_TIMEOUT &&
           (t = rt_task_from_id(rt->G, p->data)) != NULL && t->rt == rt &&
           t->daemon;
  }
  if (evs != small)
    rt->G->allocf(rt->G->allocud, evs, n * sizeof(*evs), 0);
  return only;
}

/* After a runtime event: end the run if only daemons are left. */
void rt_end_if_only_daemons(rt_runtime *rt) {
  if (rt->daemons == 0) /* (the common case, without a call) */
    return;
  if (rt_only_daemons_left(rt)) {
    rt->daemon_ended = 1;
    sim_stop(rt->sim);
  }
}

/* Protected: call the end hooks of the simulation at 1 (its user value
** RT_UV_AT_END, a list taken away first so that each runs once), each
** with the simulation. */
static int at_end_protected(lua_State *L) {
  lua_Integer i, n;
  if (lua_getiuservalue(L, 1, RT_UV_AT_END) != LUA_TTABLE)
    return 0;
  lua_pushnil(L);
  lua_setiuservalue(L, 1, RT_UV_AT_END);
  n = (lua_Integer)lua_rawlen(L, 2);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 2, i);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 0);
  }
  return 0;
}

/* A run ended (rc, its outcome; RT_ERROR with its error on top): call the
** end hooks with the clock at the end time. A hook's error becomes the
** run's error, or is added to the error the run already had. */
int rt_run_at_end(lua_State *L, rt_runtime *rt, int rc) {
  rt_runtime *prev = rt->G->dispatching;
  int status;
  if (rt->closed != RT_OPEN)
    return rc;
  rt_push_object(L, rt);
  if (lua_getiuservalue(L, -1, RT_UV_AT_END) != LUA_TTABLE) {
    lua_pop(L, 2);
    return rc;
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, at_end_protected);
  lua_insert(L, -2);
  rt->G->dispatching = rt; /* des.now() and friends act on rt */
  status = lua_pcall(L, 1, 0, 0);
  rt->G->dispatching = prev;
  if (status == LUA_OK)
    return rc;
  rt_push_error_text(L, -1);
  lua_pushfstring(L, "at_end function failed at t=%f: %s",
                  rt_units(rt, sim_now(rt->sim)), lua_tostring(L, -1));
  lua_replace(L, -3);
  lua_pop(L, 1);
  if (rc != RT_ERROR)
    return RT_ERROR;
  rt_push_error_text(L, -2);
  lua_pushfstring(L, "%s\n(and then: %s)", lua_tostring(L, -1),
                  lua_tostring(L, -2));
  lua_replace(L, -4);
  lua_pop(L, 2);
  return RT_ERROR;
}
