/*
** levany.c -- composite events: des.any{...} and des.all{...}, events
** (the des.event userdata, levent.h) that trigger from their members:
** events, tasks and requests.
**
** A composite listens to its members through waiter nodes kept inline in
** the composite, so a composite that is done unlinks from every other
** member in O(1) each. A failing member fails the whole; an `any`
** succeeds with the first member that does, an `all` once every member
** has.
*/
#include "levent.h"

/* Unlink the composite's member nodes from members still pending. */
void levent_composite_detach(des_event *ev) {
  uint32_t i;
  if (ev->kind != EVK_ANY && ev->kind != EVK_ALL)
    return;
  for (i = 0; i < ev->n; i++)
    rt_waiter_unlink(&ev->members[i]);
}

/* Store the values at [first, top] as EV_VALUES = {n=..., ...}. */
static void store_values(lua_State *L, int idx, int first) {
  levent_pack_values(L, first);
  lua_setiuservalue(L, idx, EV_VALUES);
}

/* Push a copy of member values as a packed table ({n=0} when it has
** none): a copy, so that the model never holds the member's own table. */
static void push_packed(lua_State *L, int idx) {
  int n = lua_gettop(L);
  lua_pushnil(L);         /* the slot of the result */
  rt_push_result(L, idx); /* OK: never raises */
  levent_pack_values(L, n + 2);
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
    levent_mark_handled((des_event *)m); /* the composite carries it on */
  if (ev->w.state != WAITABLE_PENDING)
    return 0;
  if (state == WAITABLE_OK && ev->kind == EVK_ALL && --ev->remaining > 0)
    return 0; /* all: still waiting for others */
  levent_composite_detach(ev);
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
  if (state == WAITABLE_FAILED && !ev->handled) { /* as levent_trigger */
    if (ev->w.head != NULL || ev->w.callbacks)
      levent_mark_handled(ev);
    else {
      levent_arm_unhandled(L, obj, ev);
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
  const char *fname = levent_kinds[kind];
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
  ev = levent_new(L, kind, n);
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
    levent_trigger(L, obj, WAITABLE_OK);
  }
  lua_settop(L, obj);
  return 1;
}

/* des.any{...}: the first member to trigger decides. */
int levent_any(lua_State *L) {
  return new_composite(L, EVK_ANY);
}

/* des.all{...}: every member succeeds, or the first to fail decides. */
int levent_all(lua_State *L) {
  return new_composite(L, EVK_ALL);
}
