/*
** ldes.c -- the helpers every file of the Lua binding uses to make its
** userdata types: functions with the rt_global as upvalue, __index with a
** methods table, and protected metatables whose addresses the checks
** compare (ldes.h). One file, so that no binding file imports another.
*/
#include "ldes.h"

/* Set functions l into the table at t, each with the rt_global as its
** upvalue 1 (what rt_current and ldes_testudata need). */
void ldes_setfuncs(lua_State *L, int t, const luaL_Reg *l) {
  lua_pushvalue(L, t);
  lua_getfield(L, LUA_REGISTRYINDEX, RT_GLOBAL_KEY);
  luaL_setfuncs(L, l, 1);
  lua_pop(L, 1);
}

/* Give the metatable at mt its methods (mt.methods) and the C function
** `index` for the properties, with the rt_global and mt.methods as
** upvalues. With the vendored Lua, mt.methods is __index and `index` is
** __props (patch 0013): a method is found by the VM without a C call.
** Otherwise `index` is __index, and finds methods by one raw lookup. */
void ldes_set_index(lua_State *L, int mt, lua_CFunction index) {
  mt = lua_absindex(L, mt);
  lua_getfield(L, LUA_REGISTRYINDEX, RT_GLOBAL_KEY);
  lua_getfield(L, mt, "methods");
#ifdef LUA_DESHOST
  lua_pushvalue(L, -1);
  lua_setfield(L, mt, "__index");
  lua_pushcclosure(L, index, 2);
  lua_setfield(L, mt, LUA_PROPS_FIELD);
#else
  lua_pushcclosure(L, index, 2);
  lua_setfield(L, mt, "__index");
#endif
}

/* For the index functions: push the method named by the key at 2 and
** return 1, or return 0 if there is none. As __props (the vendored Lua),
** they run only once the methods table lacked the key. */
int ldes_method(lua_State *L) {
#ifdef LUA_DESHOST
  (void)L;
  return 0;
#else
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL)
    return 1;
  lua_pop(L, 1);
  return 0;
#endif
}

/* Hide the metatable at mt from Lua: getmetatable gives its type name, so
** a model cannot remove a __gc (which keeps C pointers right), replace
** __index or reach the methods table. */
void ldes_lockmetatable(lua_State *L, int mt, const char *tname) {
  mt = lua_absindex(L, mt);
  lua_pushstring(L, tname);
  lua_setfield(L, mt, "__metatable");
}

/* Create metatable tname (locked) and remember its address as
** G->mt[which], for checks by address (ldes_testudata), and its registry
** ref as G->mt_ref[which] (rt_setmetatable_g). */
int ldes_newmetatable(lua_State *L, int which, const char *tname) {
  int created = luaL_newmetatable(L, tname);
  rt_global *G = rt_global_get(L);
  ldes_lockmetatable(L, -1, tname);
  G->mt[which] = lua_topointer(L, -1);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &rt_mt_keys[which]);
  lua_pushvalue(L, -1); /* and by an integer ref (rt_setmetatable_g) */
  if (G->mt_ref[which] > 0)
    lua_rawseti(L, LUA_REGISTRYINDEX, G->mt_ref[which]);
  else
    G->mt_ref[which] = luaL_ref(L, LUA_REGISTRYINDEX);
  return created;
}
