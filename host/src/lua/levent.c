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

/* User values of an event: values or error, callbacks, name, and members
** (a composite's own copy of them) or, for a timeout, its simulation
** object (ev->rt stays valid as long as the timeout does). */
enum { EV_VALUES = UV_VALUES, EV_CALLBACKS, EV_NAME, EV_MEMBERS, EV_NUV };
#define EV_SIM EV_MEMBERS

enum { EVK_PLAIN, EVK_TIMEOUT, EVK_ANY, EVK_ALL };

static const char *const event_kinds[] = {"event", "timeout", "any", "all"};

typedef struct des_event {
  rt_waitable w;        /* first: tasks and events share this layout */
  rt_runtime *rt;       /* timeouts: the simulation that fires them */
  uint8_t kind;         /* EVK_* */
  wheel_handle timer;   /* timeouts: the pending wheel event */
  des_time when;        /* when it triggered */
  uint32_t n;           /* composites: number of members */
  uint32_t remaining;   /* all: members not yet succeeded */
  uint32_t depth;       /* composites: 1 + their deepest member's depth */
  uint8_t handled;      /* failed: waited on, had a callback, or defused */
  rt_runtime *check;    /* failed unhandled: the simulation whose
                            RT_UNHANDLED event checks it again */
  uint64_t quiet;       /* ... its count of other events at the last look */
  uint8_t looks;        /* ... looks since that count last changed */
  rt_waiter members[1]; /* composites: one node per member (n of them) */
} des_event;

static des_event *check_event(lua_State *L, int idx) {
  return ldes_checkudata(L, idx, RT_MT_EVENT, DES_EVENT_MT);
}

/* A new pending event with room for n member nodes; pushes it. */
static des_event *event_new(lua_State *L, int kind, uint32_t n) {
  size_t size = sizeof(des_event) + (n > 1 ? n - 1 : 0) * sizeof(rt_waiter);
  des_event *ev;
  rt_check_state(L, event_kinds[kind]); /* no finalizer would unlink it */
  ev = lua_newuserdatauv(L, size, EV_NUV - 1);
  memset(ev, 0, size);
  ev->kind = (uint8_t)kind;
  ev->n = n;
  rt_setmetatable(L, RT_MT_EVENT);
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
static void push_anchors_of(lua_State *L, rt_runtime *rt) {
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
** waiters, then runs the callbacks (rt_trigger, through event_callbacks).
** A failure with neither waiters nor callbacks is checked again later. */
static void event_trigger(lua_State *L, int idx, int state) {
  des_event *ev = lua_touserdata(L, idx);
  idx = lua_absindex(L, idx);
  if (state == WAITABLE_FAILED && !ev->handled) {
    if (ev->w.head != NULL || ev->w.callbacks)
      mark_handled(ev);
    else
      arm_unhandled(L, idx, ev);
  }
  composite_detach(ev);
  rt_trigger(L, &ev->w, idx, state);
}

/* Push the values at [first, top] packed as {n=..., ...} (nil if none). */
static void pack_values(lua_State *L, int first) {
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

/* Store the values at [first, top] as EV_VALUES = {n=..., ...}. */
static void store_values(lua_State *L, int idx, int first) {
  pack_values(L, first);
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

/* ev:succeed(...) --> ev. The values are packed (which allocates, and can
** run a finalizer that triggers ev) before the check that ev is pending;
** nothing allocates from that check to the trigger. */
static int ev_succeed(lua_State *L) {
  des_event *ev = check_event(L, 1);
  if (ev->kind != EVK_PLAIN)
    luaL_error(L, "succeed: a %s triggers by itself", event_kinds[ev->kind]);
  pack_values(L, 2);
  check_pending(L, ev, "succeed");
  lua_setiuservalue(L, 1, EV_VALUES);
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
  rt_task *t = rt_current(L);
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
      mark_handled(ev); /* the callback gets its failure */
    call_with_values(L, 2, 1);
  }
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
  ev = event_new(L, EVK_TIMEOUT, 0);
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
  push_anchors_of(L, rt); /* pending timeouts fire even if unreferenced */
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
  push_anchors_of(L, ev->rt);
  lua_pushnil(L);
  lua_rawsetp(L, -2, ev);
  lua_pop(L, 1);
  event_trigger(L, 1, WAITABLE_OK);
  return 0;
}

/* Push a copy of member values as a packed table ({n=0} when it has
** none): a copy, so that the model never holds the member's own table. */
static void push_packed(lua_State *L, int idx) {
  int n = lua_gettop(L);
  lua_pushnil(L);         /* the slot of the result */
  rt_push_result(L, idx); /* OK: never raises */
  pack_values(L, n + 2);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushinteger(L, 0);
    lua_setfield(L, -2, "n");
  }
  lua_replace(L, n + 1);
  lua_settop(L, n + 1);
}

/* A member of a composite triggered (member object at src): rt_notify.
** The composite unlinks from its other members before anything allocates
** (a finalizer run by an allocation could trigger another member), then
** stores its values, sets its state and pushes itself for rt_trigger to
** notify its waiters. A composite being finalized (no longer in the
** objects table) cannot be told: it only detaches. */
static int composite_notify(lua_State *L, rt_waiter *w, int src) {
  des_event *ev = w->owner;
  rt_waitable *m = lua_touserdata(L, src);
  int obj, state = m->state;
  if (state == WAITABLE_FAILED && luaL_testudata(L, src, DES_EVENT_MT))
    mark_handled((des_event *)m); /* the composite carries it on */
  if (ev->w.state != WAITABLE_PENDING)
    return 0;
  if (state == WAITABLE_OK && ev->kind == EVK_ALL && --ev->remaining > 0)
    return 0; /* all: still waiting for others */
  composite_detach(ev);
  rt_push_object(L, ev);
  if (lua_touserdata(L, -1) != ev) { /* being finalized */
    lua_pop(L, 1);
    return 0;
  }
  obj = lua_gettop(L);
  if (state == WAITABLE_FAILED) { /* a failing member fails the whole */
    lua_getiuservalue(L, src, UV_VALUES);
    lua_setiuservalue(L, obj, EV_VALUES);
  } else if (ev->kind == EVK_ANY) { /* any: (member, its values...) */
    lua_pushvalue(L, src);
    rt_push_result(L, src);
    store_values(L, obj, obj + 1);
    lua_settop(L, obj);
  } else { /* all: list of packed values, from its own copy of members */
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
  }
  ev->w.state = (uint8_t)state;
  if (state == WAITABLE_FAILED && !ev->handled) { /* as event_trigger */
    if (ev->w.head != NULL || ev->w.callbacks)
      mark_handled(ev);
    else {
      arm_unhandled(L, obj, ev);
      lua_settop(L, obj);
    }
  }
  return 1;
}

/* Most members a composite takes (its nodes live in one userdata). */
#define COMPOSITE_MAX 0x1000000u

/* How deep composites nest (des.any{des.any{...}}). Notification does not
** recurse in C, but an any's values hold its member's values, so a chain
** of depth d costs d*d/2 values: the limit keeps that bounded (half a
** million values at most) whatever the memory limit. */
#define COMPOSITE_DEPTH_MAX 1000

/* des.any{...} / des.all{...}: members are events, tasks or requests
** (resource, store and container requests: waitables whose UV_VALUES
** holds their values or error, as an event's). Each member is
** checked as it is copied into the composite's own members table, and only
** that copy is used after: the model's table is never read again once
** anything has allocated (a finalizer can change it). */
static int new_composite(lua_State *L, int kind) {
  const char *fname = event_kinds[kind];
  des_event *ev;
  lua_Unsigned len;
  uint32_t i, n, depth = 0;
  int obj, copy;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  len = lua_rawlen(L, 1);
  if (kind == EVK_ANY && len == 0)
    luaL_error(L, "any: needs at least one member");
  if (len > COMPOSITE_MAX)
    luaL_error(L, "%s: too many members (%I; at most %d)", fname,
               (lua_Integer)len, (int)COMPOSITE_MAX);
  n = (uint32_t)len;
  /* the copy, the links, and (once) the notification and the detaching:
  ** a model can make composites of many members over and over */
  rt_charge(L, (size_t)n * 4);
  lua_createtable(L, (int)n, 0); /* the copy (allocates: before reading) */
  copy = lua_gettop(L);
  for (i = 1; i <= n; i++) {
    des_event *m;
    lua_rawgeti(L, 1, i);
    if ((m = ldes_testudata(L, -1, RT_MT_EVENT, DES_EVENT_MT)) != NULL) {
      if (m->depth > depth)
        depth = m->depth;
    } else if (!ldes_testudata(L, -1, RT_MT_TASK, DES_TASK_MT) &&
               !ldes_testudata(L, -1, RT_MT_REQUEST, "des.request") &&
               !ldes_testudata(L, -1, RT_MT_WAITER, "des.waitq.waiter"))
      luaL_error(L,
                 "%s: member %d is a %s, expected an event, a task or a "
                 "request",
                 fname, (int)i, luaL_typename(L, -1));
    lua_rawseti(L, copy, i); /* within the presized array: no allocation */
  }
  if (depth >= COMPOSITE_DEPTH_MAX)
    luaL_error(L,
               "%s: composites nest too deep (a member is itself %d "
               "levels of des.any/des.all; at most %d levels)",
               fname, (int)depth, COMPOSITE_DEPTH_MAX);
  ev = event_new(L, kind, n);
  obj = lua_gettop(L);
  ev->remaining = n;
  ev->depth = depth + 1;
  lua_pushvalue(L, copy);
  lua_setiuservalue(L, obj, EV_MEMBERS);
  rt_register_object(L, obj, ev);
  for (i = 0; i < n; i++) {
    ev->members[i].notify = composite_notify;
    ev->members[i].owner = ev;
    ev->members[i].index = i;
  }
  /* nothing below allocates until a member is found triggered */
  for (i = 0; i < n && ev->w.state == WAITABLE_PENDING; i++) {
    rt_waitable *m;
    lua_rawgeti(L, copy, (lua_Integer)i + 1);
    m = lua_touserdata(L, -1);
    if (m->state == WAITABLE_PENDING)
      rt_waiter_link(m, &ev->members[i]);
    else if (composite_notify(L, &ev->members[i], lua_gettop(L))) {
      lua_pop(L, 1); /* itself: it triggered (nothing waits on it yet) */
      rt_trigger(L, &ev->w, obj, ev->w.state);
    }
    lua_settop(L, obj);
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
  else if (strcmp(k, "defused") == 0)
    lua_pushboolean(L, ev->handled);
  else if (strcmp(k, "kind") == 0)
    lua_pushstring(L, event_kinds[ev->kind]);
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

/* Collected: nothing may keep pointing into it. A finalized object can
** come back (a finalizer can store it): a composite or timeout still
** pending then fails at once with a clear error instead of never
** triggering (its members no longer tell it; its simulation may be gone). */
static int ev_gc(lua_State *L) {
  des_event *ev = lua_touserdata(L, 1);
  composite_detach(ev);
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
        event_kinds[ev->kind],
        ev->kind == EVK_TIMEOUT && ev->rt->closed ? "; closed simulation" : "");
    lua_setiuservalue(L, 1, EV_VALUES);
  }
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
