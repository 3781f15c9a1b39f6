/*
** levent.c -- one-shot events and their compositions: des.event,
** des.timeout, des.any, des.all (the des.event userdata).
**
** An event is a waitable (runtime.h): tasks wait on it, and composites
** (any/all) listen to their members through waiter nodes kept inline in the
** composite, so a composite that is done unlinks from every other member
** in O(1) each. Lua callbacks (ev:on) run when the event triggers, in the
** order they were added, after the waiting tasks have been scheduled.
*/
#include "ldes.h"

/* User values of an event: values or error, callbacks, name, members (a
** timeout's simulation, which ev->rt points into). */
enum { EV_VALUES = UV_VALUES, EV_CALLBACKS, EV_NAME, EV_MEMBERS, EV_NUV };

enum { EVK_PLAIN, EVK_TIMEOUT, EVK_ANY, EVK_ALL };

static const char *const event_kinds[] = {"event", "timeout", "any", "all"};

typedef struct des_event {
  rt_waitable w;        /* first: tasks and events share this layout */
  des_runtime *rt;      /* timeouts: the simulation that fires them */
  uint8_t kind;         /* EVK_* */
  wheel_handle timer;   /* timeouts: the pending wheel event */
  des_time when;        /* when it triggered */
  uint32_t n;           /* composites: number of members */
  uint32_t remaining;   /* all: members not yet succeeded */
  uint8_t handled;      /* failed: waited on, had a callback, or defused */
  des_runtime *check;   /* failed unhandled: the simulation whose
                           RT_UNHANDLED event checks it again */
  rt_waiter members[1]; /* composites: one node per member (n of them) */
} des_event;

static des_event *check_event(lua_State *L, int idx) {
  return ldes_checkudata(L, idx, RT_MT_EVENT, DES_EVENT_MT);
}

/* A new pending event with room for n member nodes; pushes it. */
static des_event *event_new(lua_State *L, int kind, uint32_t n) {
  size_t size = sizeof(des_event) + (n > 1 ? n - 1 : 0) * sizeof(rt_waiter);
  des_event *ev = lua_newuserdatauv(L, size, EV_NUV - 1);
  memset(ev, 0, size);
  ev->kind = (uint8_t)kind;
  ev->n = n;
  ldes_setmetatable(L, RT_MT_EVENT);
  return ev;
}

/* Push "event 'name'" (or the kind) for messages. */
static void push_event_label(lua_State *L, int idx) {
  des_event *ev = lua_touserdata(L, idx);
  idx = lua_absindex(L, idx);
  if (lua_getiuservalue(L, idx, EV_NAME) == LUA_TSTRING)
    lua_pushfstring(L, "%s '%s'", event_kinds[ev->kind], lua_tostring(L, -1));
  else
    lua_pushstring(L, event_kinds[ev->kind]);
  lua_remove(L, -2);
}

/* Unlink the composite's member nodes from members still pending. */
static void composite_detach(des_event *ev) {
  uint32_t i;
  if (ev->kind != EVK_ANY && ev->kind != EVK_ALL)
    return;
  for (i = 0; i < ev->n; i++)
    rt_waiter_unlink(&ev->members[i]);
}

/* Push the anchor table of the simulation whose object is at idx. */
static void push_anchors_of(lua_State *L, des_runtime *rt) {
  rt_push_object(L, rt);
  lua_getiuservalue(L, -1, 1);
  lua_remove(L, -2);
}

/* {====================================================================
** Failures nobody handles (issue 15 item 3)
** ===================================================================== */

/* The event at idx failed with no waiter and no callback: something may
** still handle it in this instant (a wait, ev:on, ev:defuse, a composite
** made of it, also from a task spawned or woken in this instant), so an
** RT_UNHANDLED event looks again once nothing else is due at this time
** (SimPy checks "defused" when the event is processed).
** Anchored in the simulation meanwhile; a plain event keeps where it
** failed (EV_MEMBERS is free) for the report. */
static void arm_unhandled(lua_State *L, int idx, des_event *ev) {
  rt_global *G = rt_global_get(L);
  des_task *t = rt_thread_task(G, L);
  des_runtime *rt = ev->rt;
  wheel_handle h;
  if (rt == NULL) /* the simulation where it failed */
    rt = t != NULL                ? t->rt
         : G->dispatching != NULL ? G->dispatching
                                  : rt_runtime_of(L);
  if (rt->closed != RT_OPEN)
    return;
  if (ev->kind == EVK_PLAIN) {
    luaL_traceback(L, L, NULL, 1);
    lua_setiuservalue(L, idx, EV_MEMBERS);
  }
  push_anchors_of(L, rt);
  lua_pushvalue(L, idx);
  lua_rawsetp(L, -2, ev);
  lua_pop(L, 1);
  if (sim_schedule(rt->sim, sim_now(rt->sim), rt->comp, RT_UNHANDLED,
                   (uint64_t)(uintptr_t)ev, &h) != 0) {
    push_anchors_of(L, rt);
    lua_pushnil(L);
    lua_rawsetp(L, -2, ev);
    luaL_error(L, "fail: not enough memory");
  }
  ev->check = rt;
}

int rt_check_unhandled(lua_State *L) {
  des_event *ev = lua_touserdata(L, 1);
  des_runtime *rt = ev->check;
  des_time next;
  wheel_handle h;
  if (!ev->handled && sim_peek(rt->sim, &next) == SIM_OK &&
      next == sim_now(rt->sim) &&
      sim_schedule(rt->sim, next, rt->comp, RT_UNHANDLED,
                   (uint64_t)(uintptr_t)ev, &h) == SIM_OK)
    return 0; /* more is due in this instant: look again after it */
  ev->check = NULL;
  push_anchors_of(L, rt);
  lua_pushnil(L);
  lua_rawsetp(L, -2, ev);
  lua_pop(L, 1);
  if (ev->handled)
    return 0;
  ev->handled = 1; /* reported once */
  push_event_label(L, 1);
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

/* Mark the event at idx handled (a wait, a callback, a composite). */
static void mark_handled(des_event *ev) {
  ev->handled = 1;
}

/* }==================================================================== */

/* Trigger the event at idx: its values are already in EV_VALUES. Wakes the
** waiters, then runs the callbacks (unprotected: an error goes to whoever
** triggered, which is a task, or a protected call in the runtime). A
** failure with neither waiters nor callbacks is checked again later. */
static void event_trigger(lua_State *L, int idx, int state) {
  des_event *ev = lua_touserdata(L, idx);
  int i, n, nv;
  idx = lua_absindex(L, idx);
  if (state == WAITABLE_FAILED && !ev->handled) {
    if (ev->w.head != NULL)
      mark_handled(ev);
    else {
      int cb = lua_getiuservalue(L, idx, EV_CALLBACKS) == LUA_TTABLE;
      lua_pop(L, 1);
      if (cb)
        mark_handled(ev);
      else
        arm_unhandled(L, idx, ev);
    }
  }
  composite_detach(ev);
  rt_trigger(L, &ev->w, idx, state);
  if (lua_getiuservalue(L, idx, EV_CALLBACKS) != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_pushnil(L);
  lua_setiuservalue(L, idx, EV_CALLBACKS);
  n = (int)lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    lua_pushvalue(L, idx);
    if (state == WAITABLE_OK)
      nv = rt_push_result(L, idx); /* never raises when OK */
    else {
      lua_getiuservalue(L, idx, EV_VALUES);
      nv = 1;
    }
    lua_call(L, 1 + nv, 0);
  }
  lua_pop(L, 1);
}

/* Store the values at [first, top] as EV_VALUES = {n=..., ...}. */
static void store_values(lua_State *L, int idx, int first) {
  int i, n = lua_gettop(L) - first + 1;
  if (n <= 0) {
    lua_pushnil(L);
    lua_setiuservalue(L, idx, EV_VALUES);
    return;
  }
  lua_createtable(L, n, 1);
  for (i = 0; i < n; i++) {
    lua_pushvalue(L, first + i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
  lua_setiuservalue(L, idx, EV_VALUES);
}

/* Refuse a second trigger, saying when the first was. */
static void check_pending(lua_State *L, des_event *ev, const char *fname) {
  if (ev->w.state == WAITABLE_PENDING)
    return;
  push_event_label(L, 1);
  luaL_error(L, "%s: %s was already triggered (it %s)", fname,
             lua_tostring(L, -1),
             ev->w.state == WAITABLE_OK ? "succeeded" : "failed");
}

/* ev:succeed(...) --> ev */
static int ev_succeed(lua_State *L) {
  des_event *ev = check_event(L, 1);
  check_pending(L, ev, "succeed");
  if (ev->kind != EVK_PLAIN)
    luaL_error(L, "succeed: a %s triggers by itself", event_kinds[ev->kind]);
  store_values(L, 1, 2);
  lua_settop(L, 1);
  event_trigger(L, 1, WAITABLE_OK);
  return 1;
}

/* ev:fail(err) --> ev */
static int ev_fail(lua_State *L) {
  des_event *ev = check_event(L, 1);
  check_pending(L, ev, "fail");
  if (ev->kind != EVK_PLAIN)
    luaL_error(L, "fail: a %s triggers by itself", event_kinds[ev->kind]);
  luaL_argcheck(L, !lua_isnoneornil(L, 2), 2, "an error value is required");
  lua_settop(L, 2);
  lua_setiuservalue(L, 1, EV_VALUES);
  event_trigger(L, 1, WAITABLE_FAILED);
  return 1;
}

/* ev:wait() --> its values, or raises its error */
static int ev_wait(lua_State *L) {
  des_event *ev = check_event(L, 1);
  des_task *t = rt_current(L);
  if (ev->w.state == WAITABLE_FAILED)
    mark_handled(ev); /* its failure is raised here */
  if (ev->kind == EVK_TIMEOUT && ev->w.state == WAITABLE_PENDING)
    rt_check_open(L, ev->rt); /* it would never fire */
  if (t == NULL) {
    if (ev->w.state != WAITABLE_PENDING)
      return rt_push_result(L, 1);
    return luaL_error(L, "wait: not inside a task (only a task can wait "
                         "for an event that has not triggered)");
  }
  return rt_wait(L, t, &ev->w, 1, event_kinds[ev->kind]);
}

/* ev:on(fn): call fn(ev, values...) when it triggers (at once if it has) */
static int ev_on(lua_State *L) {
  des_event *ev = check_event(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (ev->w.state == WAITABLE_FAILED)
    mark_handled(ev); /* the callback gets its failure */
  if (ev->w.state != WAITABLE_PENDING) {
    int nv;
    lua_settop(L, 2);
    lua_pushvalue(L, 1);
    if (ev->w.state == WAITABLE_OK)
      nv = rt_push_result(L, 1);
    else {
      lua_getiuservalue(L, 1, EV_VALUES);
      nv = 1;
    }
    lua_call(L, 1 + nv, 0);
    lua_settop(L, 1);
    return 1;
  }
  if (lua_getiuservalue(L, 1, EV_CALLBACKS) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 1, EV_CALLBACKS);
  }
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  lua_settop(L, 1);
  return 1;
}

/* des.event([name]) */
static int l_event(lua_State *L) {
  const char *name = luaL_optstring(L, 1, NULL);
  event_new(L, EVK_PLAIN, 0);
  if (name != NULL) {
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, EV_NAME);
  }
  rt_register_object(L, -1, lua_touserdata(L, -1));
  return 1;
}

/* des.timeout(dt [, value]): succeeds with value after dt */
static int l_timeout(lua_State *L) {
  des_runtime *rt = rt_runtime_of(L);
  des_time dt = rt_check_duration(L, rt, 1, "timeout"), when;
  des_event *ev;
  int rc;
  rt_check_live(L, rt);
  lua_settop(L, 2);
  if (sim_time_after(rt->sim, dt, &when) != 0)
    return luaL_error(L, "timeout: time overflows the simulated clock");
  ev = event_new(L, EVK_TIMEOUT, 0);
  ev->rt = rt;
  rt_push_object(L, rt); /* ev->rt lives as long as the timeout */
  lua_setiuservalue(L, 3, EV_MEMBERS);
  if (!lua_isnil(L, 2)) { /* the value it succeeds with */
    lua_createtable(L, 1, 1);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, 1);
    lua_setfield(L, -2, "n");
    lua_setiuservalue(L, 3, EV_VALUES);
  }
  rt_check_live(L, rt); /* a finalizer may have closed it meanwhile */
  rc = sim_schedule(rt->sim, when, rt->comp, RT_TIMEOUT,
                    (uint64_t)(uintptr_t)ev, &ev->timer);
  if (rc != 0)
    return luaL_error(L, "timeout: %s", sim_strerror(rc));
  rt_register_object(L, 3, ev);
  push_anchors_of(L, rt); /* pending timeouts fire even if unreferenced */
  lua_pushvalue(L, 3);
  lua_rawsetp(L, -2, ev);
  lua_pop(L, 1);
  return 1;
}

/* Called (protected) by the runtime when a timeout is due: event at 1. */
int rt_fire_timeout(lua_State *L) {
  des_event *ev = lua_touserdata(L, 1);
  ev->timer = 0;
  ev->when = sim_now(ev->rt->sim);
  push_anchors_of(L, ev->rt);
  lua_pushnil(L);
  lua_rawsetp(L, -2, ev);
  lua_pop(L, 1);
  event_trigger(L, 1, WAITABLE_OK);
  return 0;
}

/* Push member values as a packed table ({n=0} when it has none). */
static void push_packed(lua_State *L, int idx) {
  lua_getiuservalue(L, idx, UV_VALUES);
  if (lua_type(L, -1) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 1);
  lua_pushinteger(L, 0);
  lua_setfield(L, -2, "n");
}

/* A member of a composite triggered (member object at src). */
static void composite_notify(lua_State *L, rt_waiter *w, int src) {
  des_event *ev = w->owner;
  rt_waitable *m = lua_touserdata(L, src);
  int top = lua_gettop(L), obj;
  if (m->state == WAITABLE_FAILED && luaL_testudata(L, src, DES_EVENT_MT))
    mark_handled((des_event *)m); /* the composite carries it on */
  rt_push_object(L, ev);
  obj = lua_gettop(L);
  if (m->state == WAITABLE_FAILED) { /* a failing member fails the whole */
    lua_getiuservalue(L, src, UV_VALUES);
    lua_setiuservalue(L, obj, EV_VALUES);
    event_trigger(L, obj, WAITABLE_FAILED);
  } else if (ev->kind == EVK_ANY) { /* any: (member, its values...) */
    lua_pushvalue(L, src);
    rt_push_result(L, src);
    store_values(L, obj, obj + 1);
    lua_settop(L, obj);
    event_trigger(L, obj, WAITABLE_OK);
  } else if (--ev->remaining == 0) { /* all: list of packed values */
    uint32_t i;
    lua_createtable(L, (int)ev->n, 0);
    lua_getiuservalue(L, obj, EV_MEMBERS);
    for (i = 1; i <= ev->n; i++) {
      lua_rawgeti(L, -1, i);
      push_packed(L, lua_gettop(L));
      lua_rawseti(L, -4, i);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    store_values(L, obj, obj + 1);
    lua_settop(L, obj);
    event_trigger(L, obj, WAITABLE_OK);
  }
  lua_settop(L, top);
}

/* des.any{...} / des.all{...}: members are events or tasks. */
static int new_composite(lua_State *L, int kind) {
  const char *fname = event_kinds[kind];
  des_event *ev;
  uint32_t i, n;
  int obj;
  luaL_checktype(L, 1, LUA_TTABLE);
  n = (uint32_t)lua_rawlen(L, 1);
  if (kind == EVK_ANY && n == 0)
    luaL_error(L, "any: needs at least one member");
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    if (!luaL_testudata(L, -1, DES_EVENT_MT) &&
        !luaL_testudata(L, -1, DES_TASK_MT))
      luaL_error(L, "%s: member %d is a %s, expected an event or a task", fname,
                 (int)i, luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  lua_settop(L, 1);
  ev = event_new(L, kind, n);
  obj = lua_gettop(L);
  ev->remaining = n;
  rt_register_object(L, obj, ev);
  lua_createtable(L, (int)n, 0);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    lua_rawseti(L, -2, i);
  }
  lua_setiuservalue(L, obj, EV_MEMBERS);
  for (i = 0; i < n && ev->w.state == WAITABLE_PENDING; i++) {
    rt_waitable *m;
    lua_rawgeti(L, 1, (lua_Integer)i + 1);
    m = lua_touserdata(L, -1);
    ev->members[i].notify = composite_notify;
    ev->members[i].owner = ev;
    ev->members[i].index = i;
    if (m->state == WAITABLE_PENDING)
      rt_waiter_link(m, &ev->members[i]);
    else
      composite_notify(L, &ev->members[i], lua_gettop(L));
    lua_pop(L, 1);
  }
  if (kind == EVK_ALL && n == 0) {
    lua_newtable(L);
    store_values(L, obj, obj + 1);
    lua_settop(L, obj);
    event_trigger(L, obj, WAITABLE_OK);
  }
  lua_settop(L, obj);
  return 1;
}

static int l_any(lua_State *L) {
  return new_composite(L, EVK_ANY);
}

static int l_all(lua_State *L) {
  return new_composite(L, EVK_ALL);
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
  else if (strcmp(k, "kind") == 0)
    lua_pushstring(L, event_kinds[ev->kind]);
  else if (strcmp(k, "defused") == 0)
    lua_pushboolean(L, ev->handled);
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
  push_event_label(L, 1);
  lua_pushfstring(L, "des.event: %s (%s)", lua_tostring(L, -1),
                  ev->w.state == WAITABLE_PENDING ? "pending"
                  : ev->w.state == WAITABLE_OK    ? "succeeded"
                                                  : "failed");
  return 1;
}

/* Collected: nothing may keep pointing into it. */
static int ev_gc(lua_State *L) {
  des_event *ev = lua_touserdata(L, 1);
  composite_detach(ev);
  while (ev->w.head != NULL)
    rt_waiter_unlink(ev->w.head);
  return 0;
}

/* ev:defuse() --> ev: its failure (now or later) is handled: it does not
** stop the run (SimPy's `defused`); waiting on it still raises. */
static int ev_defuse(lua_State *L) {
  mark_handled(check_event(L, 1));
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
                                        {"any", l_any},
                                        {"all", l_all},
                                        {NULL, NULL}};

void levent_open(lua_State *L, int mod) {
  mod = lua_absindex(L, mod);
  ldes_newmetatable(L, RT_MT_EVENT, DES_EVENT_MT);
  ldes_setfuncs(L, -1, event_meta);
  lua_newtable(L);
  ldes_setfuncs(L, -1, event_methods);
  lua_setfield(L, -2, "methods");
  ldes_set_index(L, -1, ev_index);
  lua_pop(L, 1);
  ldes_setfuncs(L, mod, module_funcs);
}
