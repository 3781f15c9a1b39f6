/*
** levfail.c -- failures nobody handles (issue 15 item 3): an event that
** fails with no waiter, no callback and no defuse is looked at again once
** nothing else is due in its instant (the simulation's RT_UNHANDLED
** events), and if still unhandled then, stops the run with a clear error
** naming the event, the time and where it failed.
*/
#include "levent.h"

/* The event at idx failed with no waiter and no callback: something may
** still handle it in this instant (a wait, ev:on, ev:defuse, a composite
** made of it, also from a task spawned or woken in this instant), so an
** RT_UNHANDLED event looks again once nothing else is due at this time
** (SimPy checks "defused" when the event is processed).
** Anchored in the simulation meanwhile; a plain event keeps where it
** failed (EV_MEMBERS is free) for the report. */
void levent_arm_unhandled(lua_State *L, int idx, des_event *ev) {
  rt_global *G = rt_global_get(L);
  rt_task *t = rt_thread_task(G, L);
  rt_runtime *rt = ev->rt;
  wheel_handle h;
  if (rt == NULL) /* the simulation where it failed */
    rt = t != NULL                ? t->rt
         : G->dispatching != NULL ? G->dispatching
                                  : ldes_runtime_of(L);
  if (rt->closed != RT_OPEN)
    return;
  if (ev->kind == EVK_PLAIN) {
    luaL_traceback(L, L, NULL, 1);
    lua_setiuservalue(L, idx, EV_MEMBERS);
  }
  levent_push_anchors(L, rt);
  lua_pushvalue(L, idx);
  lua_rawsetp(L, -2, ev);
  lua_pop(L, 1);
  if (sim_schedule(rt->sim, sim_now(rt->sim), rt->comp, RT_UNHANDLED,
                   (uint64_t)(uintptr_t)ev, &h) != 0) {
    levent_push_anchors(L, rt);
    lua_pushnil(L);
    lua_rawsetp(L, -2, ev);
    luaL_error(L, "fail: not enough memory");
  }
  ev->check = rt;
  ev->quiet = sim_handled(rt->sim) - rt->checks;
  ev->looks = 0;
}

/* Should the check of ev look again later in this instant? Yes while
** something else is due now, except when only checks are: two unhandled
** failures at the same time used to look again after each other forever.
** `others` counts the events handled that are not checks. Once it has
** not moved over two looks in a row, everything that was due at the
** first of them has been handled (each look goes behind what is due, in
** FIFO order and in a shuffled run's batches alike) and was a check, and
** checks schedule nothing else: only checks are left. */
static int unhandled_look_again(rt_runtime *rt, des_event *ev) {
  des_time next;
  uint64_t others = sim_handled(rt->sim) - rt->checks;
  if (sim_peek(rt->sim, &next) != SIM_OK || next != sim_now(rt->sim))
    return 0;
  if (others != ev->quiet) {
    ev->quiet = others;
    ev->looks = 0;
  } else if (++ev->looks >= 2)
    return 0;
  return 1;
}

/* rt_global.bind.check_unhandled: the RT_UNHANDLED check of the event
** at 1 (runtime.h says what it returns). */
int levent_check_unhandled(lua_State *L) {
  des_event *ev = lua_touserdata(L, 1);
  rt_runtime *rt;
  wheel_handle h;
  /* no object (cannot happen: the check's event is anchored, and the
  ** runtime finds it through the anchor; before that, the registry lost an
  ** event a finalizer brought back, host/tests/unhandled_check_gone.lua)
  ** or its check is over: nothing to look at */
  if (ev == NULL || ev->check == NULL)
    return 0;
  rt = ev->check;
  rt->checks++;
  if (!ev->handled && unhandled_look_again(rt, ev) &&
      sim_schedule(rt->sim, sim_now(rt->sim), rt->comp, RT_UNHANDLED,
                   (uint64_t)(uintptr_t)ev, &h) == SIM_OK) {
    rt_charge(L, 1); /* a look runs no Lua: the budget counts it */
    return 0;        /* more is due in this instant: look again after it */
  }
  ev->check = NULL;
  levent_push_anchors(L, rt);
  lua_pushnil(L);
  lua_rawsetp(L, -2, ev);
  lua_pop(L, 1);
  if (ev->handled)
    return 0;
  ev->handled = 1; /* reported once */
  levent_push_label(L, 1);
  lua_getiuservalue(L, 1, EV_VALUES);
  rt_push_error_text(L, -1);
  lua_replace(L, -2);
  lua_pushfstring(L,
                  "%s failed at t=%f and nothing handled it: %s\n(wait on "
                  "it, give it a callback with ev:on, or mark it handled "
                  "with ev:defuse())",
                  lua_tostring(L, -2), rt_units(rt, sim_now(rt->sim)),
                  lua_tostring(L, -1));
  if (ev->kind == EVK_PLAIN) { /* where it failed */
    if (lua_getiuservalue(L, 1, EV_MEMBERS) == LUA_TSTRING) {
      lua_pushliteral(L, "\nwhere it failed: ");
      lua_insert(L, -2);
      lua_concat(L, 3);
    } else
      lua_pop(L, 1);
  }
  return 1;
}
