/*
** test_lua_props.c -- the vendored Lua's patch 0013 (vendor/lua/patches),
** through Lua's C API only:
**   - a full userdata whose __index is a table finds its methods there
**     without calling __props, and gets every other key from __props
**     called with the userdata itself (not the methods table) and the key,
**     through every way of indexing (field, method call, computed key,
**     lua_getfield, lua_gettable);
**   - what __props returns or raises is what the index gives or raises,
**     a Lua function works as well as a C one;
**   - without __props, with an __index function, for tables and for
**     userdata whose __index table has its own __index: upstream's rules;
**   - lua_touserdatamt: the block for the right metatable, NULL for any
**     other value (other metatable, none, light userdata, not userdata,
**     an index with nothing).
** With the system's Lua (no LUA_DESHOST) there is nothing to test.
*/
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "check.h"

#ifdef LUA_DESHOST

static int props_calls;

/* __props: "prop:<key>" for a string key, nil for "none", raises for
** "bad"; checks that it got the userdata (not the methods table). */
static int props(lua_State *L) {
  const char *k;
  props_calls++;
  CHECK(lua_type(L, 1) == LUA_TUSERDATA);
  CHECK(lua_touserdatamt(L, 1, lua_topointer(L, lua_upvalueindex(1))) != NULL);
  if (lua_type(L, 2) != LUA_TSTRING) {
    lua_pushliteral(L, "nonstring");
    return 1;
  }
  k = lua_tostring(L, 2);
  if (strcmp(k, "none") == 0)
    return 0;
  if (strcmp(k, "bad") == 0)
    return luaL_error(L, "props raised for %s", k);
  lua_pushfstring(L, "prop:%s", k);
  return 1;
}

/* A method: returns its self's type name and its first argument. */
static int method(lua_State *L) {
  lua_pushstring(L, luaL_typename(L, 1));
  lua_pushvalue(L, 2);
  return 2;
}

/* The metatable "T" {__index = {m = method, answer = 42}, __props = props}
** and a global `u`, a userdata with it; `plain`, a userdata whose
** metatable has no __props; `fn`, one whose __index is a function. */
static void setup(lua_State *L) {
  luaL_newmetatable(L, "T");
  lua_createtable(L, 0, 2); /* the methods */
  lua_pushcfunction(L, method);
  lua_setfield(L, -2, "m");
  lua_pushinteger(L, 42);
  lua_setfield(L, -2, "answer");
  lua_setfield(L, -2, "__index");
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, props, 1); /* knows its metatable */
  lua_setfield(L, -2, LUA_PROPS_FIELD);
  lua_newuserdatauv(L, 8, 0);
  lua_pushvalue(L, -2);
  lua_setmetatable(L, -2);
  lua_setglobal(L, "u");
  lua_pop(L, 1);
}

/* Run code; 1 if it ran without error (the error is printed). */
static int run(lua_State *L, const char *code) {
  if (luaL_dostring(L, code) != LUA_OK) {
    fprintf(stderr, "test_lua_props: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

static void test_methods_and_props(lua_State *L) {
  setup(L);
  props_calls = 0;
  CHECK(run(L, "local t, x = u:m(7) assert(t == 'userdata' and x == 7)\n"
               "assert(u.answer == 42 and u['m'] ~= nil)\n"
               "local k = 'answer' assert(u[k] == 42)"));
  CHECK(props_calls == 0); /* methods never reach __props */
  CHECK(run(L, "assert(u.count == 'prop:count')\n"
               "local k = 'x' .. 1 assert(u[k] == 'prop:x1')\n"
               "assert(u.none == nil)\n"
               "assert(u[1] == 'nonstring' and u[true] == 'nonstring')"));
  CHECK(props_calls == 5);
  CHECK(run(L, "local ok, e = pcall(function() return u.bad end)\n"
               "assert(not ok and e:find('props raised for bad'))\n"
               "ok, e = pcall(function() return u:nomethod() end)\n"
               "assert(not ok and e:find('call a string value'))"));
  /* the C API's ways in */
  lua_getglobal(L, "u");
  CHECK(lua_getfield(L, -1, "answer") == LUA_TNUMBER);
  CHECK(lua_getfield(L, -2, "size") == LUA_TSTRING);
  CHECK(strcmp(lua_tostring(L, -1), "prop:size") == 0);
  lua_pushliteral(L, "m");
  CHECK(lua_gettable(L, -4) == LUA_TFUNCTION);
  lua_settop(L, 0);
}

/* A Lua function as __props gets the userdata too. */
static void test_lua_props(lua_State *L) {
  CHECK(run(L, "local mt = debug.getmetatable(u)\n"
               "mt.__props = function(o, k) return o == u and k .. '!' end\n"
               "assert(u.answer == 42 and u.z == 'z!')"));
}

/* Without __props, or with __index a function: upstream's rules. */
static void test_upstream(lua_State *L) {
  CHECK(run(L,
            "local mt = debug.getmetatable(u)\n"
            "mt.__props = nil\n"
            "assert(u.answer == 42 and u.count == nil)\n"
            /* the methods table's own __index gets the methods table */
            "local methods = mt.__index\n"
            "setmetatable(methods, {__index = function(t, k)\n"
            "  return t == methods and 'chained:' .. k end})\n"
            "assert(u.count == 'chained:count')\n"
            "setmetatable(methods, nil)\n"
            /* an __index function wins over __props */
            "mt.__props = function() return 'props' end\n"
            "mt.__index = function(o, k) return o == u and 'index:' .. k end\n"
            "assert(u.answer == 'index:answer' and u.x == 'index:x')\n"
            /* tables never consult __props */
            "local t = setmetatable({}, {__index = {a = 1},\n"
            "  __props = function() return 'props' end})\n"
            "assert(t.a == 1 and t.b == nil)\n"
            /* a string __index (an odd chain) still works as upstream */
            "mt.__index = 'abc'\n"
            "assert(u.len == string.len)"));
}

static void test_touserdatamt(lua_State *L) {
  const void *mt;
  void *blk;
  luaL_getmetatable(L, "T");
  mt = lua_topointer(L, -1);
  lua_pop(L, 1);
  blk = lua_newuserdatauv(L, 16, 1); /* 1: no metatable yet */
  CHECK(lua_touserdatamt(L, 1, mt) == NULL);
  CHECK(lua_touserdatamt(L, 1, NULL) == NULL);
  luaL_setmetatable(L, "T");
  CHECK(lua_touserdatamt(L, 1, mt) == blk);
  CHECK(lua_touserdatamt(L, -1, mt) == blk);
  lua_newtable(L); /* 2: another metatable */
  CHECK(lua_touserdatamt(L, 1, lua_topointer(L, 2)) == NULL);
  lua_pushlightuserdata(L, blk); /* 3 */
  CHECK(lua_touserdatamt(L, 3, mt) == NULL);
  lua_pushinteger(L, 1); /* 4 */
  CHECK(lua_touserdatamt(L, 4, mt) == NULL);
  CHECK(lua_touserdatamt(L, 5, mt) == NULL); /* nothing there */
  luaL_getmetatable(L, "T");                 /* a table whose address is mt */
  CHECK(lua_touserdatamt(L, -1, mt) == NULL);
  lua_settop(L, 0);
}

int main(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  test_methods_and_props(L);
  test_lua_props(L);
  test_touserdatamt(L);
  test_upstream(L);
  lua_close(L);
  if (failures == 0)
    printf("test_lua_props: ok\n");
  return failures != 0;
}

#else

int main(void) {
  printf("test_lua_props: the system's Lua, no patch 0013 to test\n");
  return 0;
}

#endif
