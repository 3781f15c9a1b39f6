/*
** ldes.h -- internals shared by the files of the Lua binding (luaopen_des):
** lsim.c (module, simulations), ltask.c (tasks), levent.c (events).
*/
#ifndef DES_LDES_H
#define DES_LDES_H

#include <string.h>

#include "runtime.h"

/* Set functions l into the table at t, each with the rt_global as its
** upvalue 1 (what rt_current needs). */
void ldes_setfuncs(lua_State *L, int t, const luaL_Reg *l);

/* __index with the methods table as upvalue 2 (see lsim.c). */
void ldes_set_index(lua_State *L, int mt, lua_CFunction index);
int ldes_method(lua_State *L);

/* Create metatable tname (as luaL_newmetatable) and remember its address
** as G->mt[which]. */
int ldes_newmetatable(lua_State *L, int which, const char *tname);

/* luaL_testudata for the metatables of rt_global.mt, compared by address
** instead of looked up by name: for functions whose upvalue 1 is the
** rt_global (see ldes_setfuncs); others fall back to luaL_testudata. */
static inline void *ldes_testudata(lua_State *L, int idx, int which,
                                   const char *tname) {
  rt_global *G = lua_touserdata(L, lua_upvalueindex(1));
  void *p = lua_touserdata(L, idx);
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

/* spawn on rt from arguments starting at `first`; pushes the task. */
int ltask_spawn(lua_State *L, des_runtime *rt, int first);

/* Each registers its metatables and its functions into the module at mod. */
void ltask_open(lua_State *L, int mod);
void levent_open(lua_State *L, int mod);
void lrng_open(lua_State *L, int mod);

void lcomp_open(lua_State *L, int mod);
void lres_open(lua_State *L, int mod);
void lwait_open(lua_State *L, int mod);

/* Replace the coroutine library's resume, close, status and running by
** versions that keep a task's coroutine to the runtime (lco.c). */
void lco_open(lua_State *L);

/* Register component `id` under `name` in simulation rt, for
** des.component(name). */
void ldes_add_component(lua_State *L, des_runtime *rt, const char *name,
                        int id);

/* The Lua library (the files of lua/des), compiled in by cmake/embed_lua.cmake;
** luaopen_des puts a loader for each into package.preload. */
typedef struct ldes_source {
  const char *module, *chunkname, *text;
  size_t len;
} ldes_source;
extern const ldes_source ldes_lualib[];

/* Registry field of the host's pacing function (deshost's hpace.c):
** f(what, rt, a, b) for sim:realtime(a, b) and sim:lateness(). */
#define LDES_PACE_KEY "deshost.pace"

/* Make the simulation object at idx the default simulation. */
void ldes_set_default(lua_State *L, int idx);

int luaopen_des(lua_State *L);

#endif
