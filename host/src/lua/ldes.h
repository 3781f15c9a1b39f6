/*
** ldes.h -- internals shared by the files of the Lua binding (luaopen_des):
** lsim.c (module, simulations), ltask.c (tasks), levent.c (events).
*/
#ifndef DES_LDES_H
#define DES_LDES_H

#include <string.h>

#include "runtime.h"
#include "stats.h"

/* The metatables' names (__name, and what getmetatable gives). */
#define DES_TASK_MT "des.task"
#define DES_EVENT_MT "des.event"
#define DES_SIM_MT "des.sim"
#define DES_COMPONENT_MT "des.component"

/* The runtime of the running task, or the default simulation's (lsim.c). */
rt_runtime *ldes_runtime_of(lua_State *L);

/* The callbacks the binding registers in rt_global.bind (rt_binding says
** what each does): levent.c's, levfail.c's and lsched.c's. lsched_calling:
** is L running a scheduled call now (it is then in no task). */
int levent_fire_timeout(lua_State *L);
int levent_check_unhandled(lua_State *L);
int lsched_fire(rt_runtime *rt, const sim_event *ev);
void lsched_forget(lua_State *L, rt_runtime *rt, int obj);
int lsched_calling(rt_global *G, lua_State *L);

/* Set functions l into the table at t, each with the rt_global as its
** upvalue 1 (what rt_current needs). */
void ldes_setfuncs(lua_State *L, int t, const luaL_Reg *l);

/* __index with the methods table as upvalue 2 (see lsim.c). */
void ldes_set_index(lua_State *L, int mt, lua_CFunction index);
int ldes_method(lua_State *L);

/* Set __metatable in the metatable at mt: Lua code sees tname instead. */
void ldes_lockmetatable(lua_State *L, int mt, const char *tname);

/* Create metatable tname (as luaL_newmetatable), locked, and remember its
** address as G->mt[which]. */
int ldes_newmetatable(lua_State *L, int which, const char *tname);

/* luaL_testudata for the metatables of rt_global.mt, compared by address
** instead of looked up by name: for functions whose upvalue 1 is the
** rt_global (see ldes_setfuncs); others fall back to luaL_testudata. */
static inline void *ldes_testudata(lua_State *L, int idx, int which,
                                   const char *tname) {
  rt_global *G = lua_touserdata(L, lua_upvalueindex(1));
  void *p;
#ifdef LUA_DESHOST
  if (G != NULL) /* one call (patch 0013) */
    return lua_touserdatamt(L, idx, G->mt[which]);
#endif
  p = lua_touserdata(L, idx);
  if (p == NULL)
    return NULL;
  if (G != NULL) {
    int ok = 0;
    if (lua_getmetatable(L, idx)) {
      ok = lua_topointer(L, -1) == G->mt[which];
      lua_pop(L, 1);
    }
    return ok ? p : NULL;
  }
  return luaL_testudata(L, idx, tname);
}

/* luaL_checkudata the same way; a wrong type gets luaL_checkudata's
** message. */
static inline void *ldes_checkudata(lua_State *L, int idx, int which,
                                    const char *tname) {
  void *p = ldes_testudata(L, idx, which, tname);
  return p != NULL ? p : luaL_checkudata(L, idx, tname);
}

/* Unlink the composites (des.any/des.all) waiting on w, leaving its tasks:
** a request withdrawn fails for the tasks that wait on it, while a
** composite holding it keeps waiting for its other members (as SimPy's
** cancelled request, which never triggers): an `any` abandoned by an
** interrupted task must not report the withdrawal as an unhandled
** failure. */
static inline void ldes_detach_composites(rt_waitable *w) {
  rt_waiter *n = w->head;
  while (n != NULL) {
    rt_waiter *next = n->next;
    if (n->notify != NULL)
      rt_waiter_unlink(n);
    n = next;
  }
}

/* spawn on rt from arguments starting at `first`; pushes the task. */
int ltask_spawn(lua_State *L, rt_runtime *rt, int first);

/* Each registers its metatables and its functions into the module at mod. */
void ltask_open(lua_State *L, int mod);
void levent_open(lua_State *L, int mod);
void lrng_open(lua_State *L, int mod);

void lcomp_open(lua_State *L, int mod);
void lres_open(lua_State *L, int mod);
void lwait_open(lua_State *L, int mod);
void lparam_open(lua_State *L, int mod);

/* des.param's registry tables (lparam.c), which the host fills and reads:
** name -> the text given; and {name, default text, ...} in asked order. */
#define LDES_PARAMS "des.params"
#define LDES_PARAMS_ASKED "des.params.asked"

/* Replace the coroutine library's resume, close, status and running by
** versions that keep a task's coroutine to the runtime (lco.c). */
void lco_open(lua_State *L);

void lstats_open(lua_State *L, int mod);

/* des.schedule / des.at and sim:schedule / sim:at (lsched.c);
** lsched_at_ticks(sim, ticks, fn, ...) is des_call_at's protected part. */
void lsched_open(lua_State *L, int mod);
int lsched_at_ticks(lua_State *L);
/* Cancel the call of a des_call_at handle: 1, or 0 if it is not pending.
** Never raises. */
int lsched_cancel(lua_State *L, uint64_t handle);

/* Push a new des.tally / des.level (ltally.c, llevel.c) named name (NULL:
** none) and return its statistic, which lives as long as the userdata: a
** caller that keeps the pointer anchors the userdata. A level reads rt's
** clock. */
stats_tally *lstats_push_tally(lua_State *L, const char *name);
/* List the value at idx in simulation rt's report; add des._stats.register
** and .registered to the table at t (lstatreg.c). */
void lstats_register(lua_State *L, int idx, rt_runtime *rt);
void lstatreg_setfuncs(lua_State *L, int t);
stats_level *lstats_push_level(lua_State *L, rt_runtime *rt, const char *name,
                               double initial, int keep_at);

/* Register component `id` under `name` in simulation rt, for
** des.component(name). */
void ldes_add_component(lua_State *L, rt_runtime *rt, const char *name, int id);

/* The Lua library (the files of lua/des), compiled in by cmake/embed_lua.cmake;
** luaopen_des puts a loader for each into package.preload. */
typedef struct ldes_source {
  const char *module, *chunkname, *text;
  size_t len;
} ldes_source;
extern const ldes_source ldes_lualib[];

/* Give the module at mod its Lua library (llib.c): lazy des.store,
** package.preload loaders, and the library's private environment. Called
** last in luaopen_des. */
void llib_open(lua_State *L, int mod);
void llib_module(lua_State *L, const char *name);

/* Registry field of the host's pacing function (deshost's hpace.c):
** f(what, rt, a, b) for sim:realtime(a, b) and sim:lateness(). */
#define LDES_PACE_KEY "deshost.pace"

/* Make the simulation object at idx the default simulation. */
void ldes_set_default(lua_State *L, int idx);

int luaopen_des(lua_State *L);

#endif
