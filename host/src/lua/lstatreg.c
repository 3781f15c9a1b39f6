/*
** lstatreg.c -- the registry of each simulation's statistics: what its
** report shows (des.monitor.gather, des_statistics, --report). It lists
** the monitors made on the simulation and the objects that own statistics
** (resources, stores, containers), in creation order, at most
** LSTATREG_MAX of them: a model making monitors in a loop keeps bounded
** memory (the rest are counted, not kept). The lists hang from a table
** with weak keys, keyed by the simulation object: a simulation that is
** gone takes its list along (its entries refer back to it, which an
** ephemeron table allows).
**
**   des._stats.register(obj)          -- list obj in the current simulation
**   des._stats.registered([sim])      -- a copy of the list, and dropped
*/
#include "ldes.h"

#define LSTATREG_MAX 10000

static const char lstatreg_key = 'R'; /* {[sim object] = list} */

/* Push the registry list of simulation rt ({n = kept, dropped = count}),
** made on first use; the table of lists has weak keys, so a simulation
** that is gone takes its list with it. */
static void registry_list(lua_State *L, rt_runtime *rt) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &lstatreg_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &lstatreg_key);
  }
  rt_push_object(L, rt);
  if (lua_rawget(L, -2) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    rt_push_object(L, rt);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4);
  }
  lua_remove(L, -2);
}

/* Add the value at idx to the registry of rt (kept until the simulation
** goes, so a report made after the model's tasks ended still sees it). */
void lstats_register(lua_State *L, int idx, rt_runtime *rt) {
  lua_Integer n;
  idx = lua_absindex(L, idx);
  registry_list(L, rt);
  n = (lua_Integer)lua_rawlen(L, -1);
  if (n < LSTATREG_MAX) {
    lua_pushvalue(L, idx);
    lua_rawseti(L, -2, n + 1);
  } else {
    lua_pushliteral(L, "dropped");
    lua_pushliteral(L, "dropped");
    lua_rawget(L, -3);
    lua_pushinteger(L, lua_tointeger(L, -1) + 1);
    lua_replace(L, -2);
    lua_rawset(L, -3);
  }
  lua_pop(L, 1);
}

/* register(obj): list a resource, store or container (anything with a
** `stats` table of statistics) in the current simulation's report. */
static int l_register(lua_State *L) {
  luaL_checkany(L, 1);
  lstats_register(L, 1, ldes_runtime_of(L));
  return 0;
}

/* registered([sim]) --> a copy of the registry list of sim (a simulation
** object; default: the current one), and how many were not kept. */
static int l_registered(lua_State *L) {
  lua_Integer i, n;
  rt_runtime *rt = ldes_runtime_of(L);
  if (!lua_isnoneornil(L, 1)) {
    rt = ldes_testudata(L, 1, RT_MT_SIM, DES_SIM_MT);
    if (rt == NULL)
      return luaL_error(L, "statistics: expected a simulation (got %s)",
                        luaL_typename(L, 1));
  }
  registry_list(L, rt);
  n = (lua_Integer)lua_rawlen(L, -1);
  rt_charge(L, (size_t)n); /* the copy (a model registers any number) */
  lua_createtable(L, (int)n, 0);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -2, i);
    lua_rawseti(L, -2, i);
  }
  lua_pushliteral(L, "dropped");
  lua_rawget(L, -3);
  lua_pushinteger(L, lua_tointeger(L, -1));
  lua_replace(L, -2);
  return 2;
}

static const luaL_Reg lstatreg_funcs[] = {
    {"register", l_register}, {"registered", l_registered}, {NULL, NULL}};

/* Add register and registered to the table at t (des._stats). */
void lstatreg_setfuncs(lua_State *L, int t) {
  ldes_setfuncs(L, t, lstatreg_funcs);
}
