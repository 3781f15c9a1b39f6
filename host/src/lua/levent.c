/*
** levent.c -- one-shot events: des.event and des.timeout (the des.event
** userdata; its layout and user values are in levent.h, which it shares
** with the composites of levany.c and the unhandled-failure check of
** levfail.c).
**
** An event is a waitable (runtime.h): tasks wait on it, and composites
** (any/all, levany.c) listen to it through waiter nodes of their own. Lua
** callbacks (ev:on) run when the event triggers, in the order they were
** added, after the waiting tasks have been scheduled.
*/
#include "levent.h"

const char *const levent_kinds[] = {"event", "timeout", "any", "all"};

static des_event *check_event(lua_State *L, int idx) {
  return ldes_checkudata(L, idx, RT_MT_EVENT, DES_EVENT_MT);
}

/* A new pending event with room for n member nodes; pushes it. */
des_event *levent_new(lua_State *L, int kind, uint32_t n) {
  size_t size = sizeof(des_event) + (n > 1 ? n - 1 : 0) * sizeof(rt_waiter);
  des_event *ev;
  rt_check_state(L, levent_kinds[kind]); /* no finalizer would unlink it */
  ev = lua_newuserdatauv(L, size, EV_NUV - 1);
  memset(ev, 0, size);
  ev->kind = (uint8_t)kind;
  ev->n = n;
  rt_setmetatable(L, RT_MT_EVENT);
  return ev;
}

/* Push "event 'name'" (or the kind) for messages. */
void levent_push_label(lua_State *L, int idx) {
  des_event *ev = lua_touserdata(L, idx);
  idx = lua_absindex(L, idx);
  if (lua_getiuservalue(L, idx, EV_NAME) == LUA_TSTRING)
    lua_pushfstring(L, "%s '%s'", levent_kinds[ev->kind], lua_tostring(L, -1));
  else
    lua_pushstring(L, levent_kinds[ev->kind]);
  lua_remove(L, -2);
}

/* Call fn (at fidx) with the triggered event at idx and its values (or
** its error). Unprotected: an error goes to whoever triggered. */
static void call_with_values(lua_State *L, int fidx, int idx) {
  des_event *ev = lua_touserdata(L, idx);
  int nv;
  lua_pushvalue(L, fidx);
  lua_pushvalue(L, idx);
  if (ev->w.state == WAITABLE_OK)
    nv = rt_push_result(L, idx); /* never raises when OK */
  else {
    lua_getiuservalue(L, idx, EV_VALUES);
    nv = 1;
  }
  lua_call(L, 1 + nv, 0);
}

/* rt_global.triggered: run the callbacks of the event at idx, whose
** waiters have all been told, in the order they were added (unprotected:
** an error goes to whoever triggered, which is a task, or a protected call
** in the runtime). */
static void event_callbacks(lua_State *L, int idx) {
  int i, n;
  idx = lua_absindex(L, idx);
  if (lua_getiuservalue(L, idx, EV_CALLBACKS) != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_pushnil(L);
  lua_setiuservalue(L, idx, EV_CALLBACKS);
  n = (int)lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    call_with_values(L, lua_gettop(L), idx);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* Push the anchor table of the simulation whose object is at idx. */
void levent_push_anchors(lua_State *L, rt_runtime *rt) {
  rt_push_object(L, rt);
  lua_getiuservalue(L, -1, 1);
  lua_remove(L, -2);
}

/* Trigger the event at idx: its values are already in EV_VALUES. Wakes the
** waiters, then runs the callbacks (rt_trigger, through event_callbacks).
** A failure with neither waiters nor callbacks is checked again later. */
void levent_trigger(lua_State *L, int idx, int state) {
  des_event *ev = lua_touserdata(L, idx);
  idx = lua_absindex(L, idx);
  if (state == WAITABLE_FAILED && !ev->handled) {
    if (ev->w.head != NULL || ev->w.callbacks)
      levent_mark_handled(ev);
    else
      levent_arm_unhandled(L, idx, ev);
  }
  levent_composite_detach(ev);
  rt_trigger(L, &ev->w, idx, state);
}

/* Push the values at [first, top] packed as {n=..., ...} (nil if none). */
void levent_pack_values(lua_State *L, int first) {
  int i, n = lua_gettop(L) - first + 1;
  if (n <= 0) {
    lua_pushnil(L);
    return;
  }
  lua_createtable(L, n, 1);
  for (i = 0; i < n; i++) {
    lua_pushvalue(L, first + i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
}

/* Refuse a second trigger, saying when the first was. */
static void check_pending(lua_State *L, des_event *ev, const char *fname) {
  if (ev->w.state == WAITABLE_PENDING)
    return;
  levent_push_label(L, 1);
  luaL_error(L, "%s: %s was already triggered (it %s)", fname,
             lua_tostring(L, -1),
             ev->w.state == WAITABLE_OK ? "succeeded" : "failed");
}

/* ev:succeed(...) --> ev. The values are packed (which allocates, and can
** run a finalizer that triggers ev) before the check that ev is pending;
** nothing allocates from that check to the trigger. */
static int ev_succeed(lua_State *L) {
  des_event *ev = check_event(L, 1);
  if (ev->kind != EVK_PLAIN)
    luaL_error(L, "succeed: a %s triggers by itself", levent_kinds[ev->kind]);
  levent_pack_values(L, 2);
  check_pending(L, ev, "succeed");
  lua_setiuservalue(L, 1, EV_VALUES);
  lua_settop(L, 1);
  levent_trigger(L, 1, WAITABLE_OK);
  return 1;
}

/* ev:fail(err) --> ev */
static int ev_fail(lua_State *L) {
  des_event *ev = check_event(L, 1);
  check_pending(L, ev, "fail");
  if (ev->kind != EVK_PLAIN)
    luaL_error(L, "fail: a %s triggers by itself", levent_kinds[ev->kind]);
  luaL_argcheck(L, !lua_isnoneornil(L, 2), 2, "an error value is required");
  lua_settop(L, 2);
  lua_setiuservalue(L, 1, EV_VALUES);
  levent_trigger(L, 1, WAITABLE_FAILED);
  return 1;
}

/* ev:wait() --> its values, or raises its error */
static int ev_wait(lua_State *L) {
  des_event *ev = check_event(L, 1);
  rt_task *t = rt_current(L);
  if (ev->w.state == WAITABLE_FAILED)
    levent_mark_handled(ev); /* its failure is raised here */
  if (ev->kind == EVK_TIMEOUT && ev->w.state == WAITABLE_PENDING)
    rt_check_open(L, ev->rt); /* it would never fire */
  if (t == NULL) {
    if (ev->w.state != WAITABLE_PENDING)
      return rt_push_result(L, 1);
    return luaL_error(L, "wait: not inside a task (only a task can wait "
                         "for an event that has not triggered)");
  }
  return rt_wait(L, t, &ev->w, 1, levent_kinds[ev->kind]);
}

/* ev:on(fn): call fn(ev, values...) when it triggers (at once if it has).
** Adding fn allocates, which can run a finalizer that triggers ev before
** fn is in the list (fn is stored last, with nothing allocated after): so
** an event found triggered afterwards has not called fn, and calls it now. */
static int ev_on(lua_State *L) {
  des_event *ev = check_event(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  if (ev->w.state == WAITABLE_PENDING) {
    if (lua_getiuservalue(L, 1, EV_CALLBACKS) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_createtable(L, 1, 0);
      lua_pushvalue(L, -1);
      lua_setiuservalue(L, 1, EV_CALLBACKS);
    }
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    ev->w.callbacks = 1;
  }
  if (ev->w.state != WAITABLE_PENDING) {
    if (ev->w.state == WAITABLE_FAILED)
      levent_mark_handled(ev); /* the callback gets its failure */
    call_with_values(L, 2, 1);
  }
  lua_settop(L, 1);
  return 1;
}

/* des.event([name]) */
static int l_event(lua_State *L) {
  const char *name = luaL_optstring(L, 1, NULL);
  levent_new(L, EVK_PLAIN, 0);
  if (name != NULL) {
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, EV_NAME);
  }
  rt_register_object(L, -1, lua_touserdata(L, -1));
  return 1;
}

/* des.timeout(dt [, value]): succeeds with value after dt. Everything that
** allocates (and can run finalizers, which may run or close the
** simulation) comes first; the time is read and the event scheduled with
** nothing allocated in between. */
static int l_timeout(lua_State *L) {
  rt_runtime *rt = ldes_runtime_of(L);
  des_time dt = rt_check_duration(L, rt, 1, "timeout"), when;
  const char *why = NULL;
  des_event *ev;
  int rc;
  rt_check_live(L, rt);
  lua_settop(L, 2);
  ev = levent_new(L, EVK_TIMEOUT, 0);
  ev->rt = rt;
  rt_push_object(L, rt);
  lua_setiuservalue(L, 3, EV_SIM);
  if (!lua_isnil(L, 2)) { /* the value it succeeds with */
    lua_createtable(L, 1, 1);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, 1);
    lua_setfield(L, -2, "n");
    lua_setiuservalue(L, 3, EV_VALUES);
  }
  rt_register_object(L, 3, ev);
  levent_push_anchors(L, rt); /* pending timeouts fire even if unreferenced */
  lua_pushvalue(L, 3);
  lua_rawsetp(L, -2, ev);
  if (rt->closed || rt->sim == NULL)
    why = "the simulation is closed";
  else if (sim_time_after(rt->sim, dt, &when) != 0)
    why = "time overflows the simulated clock";
  else if ((rc = sim_schedule(rt->sim, when, rt->comp, RT_TIMEOUT,
                              (uint64_t)(uintptr_t)ev, &ev->timer)) != 0)
    why = sim_strerror(rc);
  if (why != NULL) { /* not scheduled: no anchor (removing never allocates) */
    lua_pushnil(L);
    lua_rawsetp(L, -2, ev);
    return luaL_error(L, "timeout: %s", why);
  }
  lua_pop(L, 1);
  return 1;
}

/* Called (protected) by the runtime when a timeout is due: event at 1. */
int levent_fire_timeout(lua_State *L) {
  des_event *ev = lua_touserdata(L, 1);
  if (ev == NULL) /* being finalized (a resurrected simulation ran) */
    return 0;
  ev->timer = 0;
  ev->when = sim_now(ev->rt->sim);
  levent_push_anchors(L, ev->rt);
  lua_pushnil(L);
  lua_rawsetp(L, -2, ev);
  lua_pop(L, 1);
  levent_trigger(L, 1, WAITABLE_OK);
  return 0;
}

/* ev.triggered, ev.ok, ev.name, ev.kind, ev.value, methods */
static int ev_index(lua_State *L) {
  des_event *ev = check_event(L, 1);
  const char *k;
  if (ldes_method(L))
    return 1;
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "triggered") == 0)
    lua_pushboolean(L, ev->w.state != WAITABLE_PENDING);
  else if (strcmp(k, "ok") == 0) {
    if (ev->w.state == WAITABLE_PENDING)
      lua_pushnil(L);
    else
      lua_pushboolean(L, ev->w.state == WAITABLE_OK);
  } else if (strcmp(k, "name") == 0)
    lua_getiuservalue(L, 1, EV_NAME);
  else if (strcmp(k, "defused") == 0)
    lua_pushboolean(L, ev->handled);
  else if (strcmp(k, "kind") == 0)
    lua_pushstring(L, levent_kinds[ev->kind]);
  else if (strcmp(k, "value") == 0) {
    if (ev->w.state == WAITABLE_OK) {
      int nv = rt_push_result(L, 1);
      if (nv == 0)
        lua_pushnil(L);
      else if (nv > 1)
        lua_pop(L, nv - 1);
    } else if (ev->w.state == WAITABLE_FAILED)
      lua_getiuservalue(L, 1, EV_VALUES);
    else
      lua_pushnil(L);
  } else
    lua_pushnil(L);
  return 1;
}

static int ev_tostring(lua_State *L) {
  des_event *ev = check_event(L, 1);
  levent_push_label(L, 1);
  lua_pushfstring(L, "des.event: %s (%s)", lua_tostring(L, -1),
                  ev->w.state == WAITABLE_PENDING ? "pending"
                  : ev->w.state == WAITABLE_OK    ? "succeeded"
                                                  : "failed");
  return 1;
}

/* Collected: nothing may keep pointing into it. A finalized object can
** come back (a finalizer can store it): a composite or timeout still
** pending then fails at once with a clear error instead of never
** triggering (its members no longer tell it; its simulation may be gone). */
static int ev_gc(lua_State *L) {
  des_event *ev = lua_touserdata(L, 1);
  levent_composite_detach(ev);
  while (ev->w.head != NULL)
    rt_waiter_unlink(ev->w.head);
  ev->w.callbacks = 0;
  if (ev->kind != EVK_PLAIN && ev->w.state == WAITABLE_PENDING) {
    if (ev->kind == EVK_TIMEOUT && ev->timer != 0 && !ev->rt->closed &&
        ev->rt->sim != NULL)
      sim_cancel(ev->rt->sim, ev->timer);
    ev->w.state = WAITABLE_FAILED;
    ev->timer = 0;
    lua_pushfstring(
        L, "%s: the event was collected (its finalizer ran%s)",
        levent_kinds[ev->kind],
        ev->kind == EVK_TIMEOUT && ev->rt->closed ? "; closed simulation" : "");
    lua_setiuservalue(L, 1, EV_VALUES);
  }
  return 0;
}

/* ev:defuse() --> ev: its failure (now or later) is handled: it does not
** stop the run (SimPy's `defused`); waiting on it still raises. */
static int ev_defuse(lua_State *L) {
  levent_mark_handled(check_event(L, 1));
  lua_settop(L, 1);
  return 1;
}

static const luaL_Reg event_methods[] = {
    {"succeed", ev_succeed}, {"defuse", ev_defuse}, {"fail", ev_fail},
    {"wait", ev_wait},       {"on", ev_on},         {NULL, NULL}};

static const luaL_Reg event_meta[] = {
    {"__tostring", ev_tostring}, {"__gc", ev_gc}, {NULL, NULL}};

static const luaL_Reg module_funcs[] = {{"event", l_event},
                                        {"timeout", l_timeout},
                                        {"any", levent_any},
                                        {"all", levent_all},
                                        {NULL, NULL}};

void levent_open(lua_State *L, int mod) {
  rt_global *G = rt_global_get(L);
  mod = lua_absindex(L, mod);
  G->bind.triggered = event_callbacks;
  G->bind.fire_timeout = levent_fire_timeout;
  G->bind.check_unhandled = levent_check_unhandled;
  ldes_newmetatable(L, RT_MT_EVENT, DES_EVENT_MT);
  ldes_setfuncs(L, -1, event_meta);
  lua_newtable(L);
  ldes_setfuncs(L, -1, event_methods);
  lua_setfield(L, -2, "methods");
  ldes_set_index(L, -1, ev_index);
  lua_pop(L, 1);
  ldes_setfuncs(L, mod, module_funcs);
}
