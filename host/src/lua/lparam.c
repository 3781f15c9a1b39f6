/*
** lparam.c -- des.param(name, default): a model's parameter, set by the
** host (des_set_param: --param, --sweep in experiments) or its default.
**
** Two tables in the registry, shared with the host layer (ldes.h):
** LDES_PARAMS maps a name to the text the host gave; LDES_PARAMS_ASKED
** lists the parameters the model asked for, in the order first asked, as
** {name, default as text} pairs (a string default in double quotes) (so that
*the host can list them and find
** names given but never asked for, without running the model's code).
** Under a stock lua5.4 (des.so) nobody sets any: des.param gives defaults.
*/
#include <lauxlib.h>
#include <lua.h>

#include "ldes.h"

/* The table at registry[key], created if missing; pushed. */
static void lparam_table(lua_State *L, const char *key) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, key) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, key);
  }
}

/* Remember that the model asked for `name` (at 1) with the default at 2,
** as text (only numbers, strings, booleans and nil are defaults). */
static void lparam_remember(lua_State *L) {
  lua_Integer n, i;
  lparam_table(L, LDES_PARAMS_ASKED);
  n = (lua_Integer)lua_rawlen(L, -1);
  rt_charge(L, (size_t)n >> 1); /* the names asked so far, one by one */
  for (i = 1; i < n; i += 2) {
    int same;
    lua_rawgeti(L, -1, i);
    same = lua_rawequal(L, -1, 1);
    lua_pop(L, 1);
    if (same) {
      lua_pop(L, 1);
      return;
    }
  }
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, n + 1);
  switch (lua_type(L, 2)) {
  case LUA_TNUMBER:
    lua_pushvalue(L, 2);
    lua_tostring(L, -1); /* as Lua prints it */
    break;
  case LUA_TSTRING: /* quoted: "5" is text, 5 a number */
    lua_pushfstring(L, "\"%s\"", lua_tostring(L, 2));
    break;
  case LUA_TBOOLEAN:
    lua_pushstring(L, lua_toboolean(L, 2) ? "true" : "false");
    break;
  default:
    lua_pushliteral(L, "nil");
  }
  lua_rawseti(L, -2, n + 2);
  lua_pop(L, 1);
}

/* The value the host gave (string at -1) converted to the default's type:
** a number for a number default (or for no default, when it reads as
** one), true/false for a boolean one, the text for a string one. */
static int lparam_convert(lua_State *L) {
  const char *name = lua_tostring(L, 1), *text = lua_tostring(L, -1);
  int dt = lua_type(L, 2);
  if (dt == LUA_TSTRING)
    return 1;
  if (dt == LUA_TBOOLEAN) {
    if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
      lua_pushboolean(L, text[0] == 't');
      return 1;
    }
    return luaL_error(L,
                      "des.param: parameter '%s' needs true or false "
                      "(got '%s')",
                      name, text);
  }
  if (lua_stringtonumber(L, text) != 0)
    return 1;
  if (dt == LUA_TNUMBER)
    return luaL_error(L, "des.param: parameter '%s' needs a number (got '%s')",
                      name, text);
  return 1; /* no default: the text */
}

/* des.param(name [, default]) --> the value given by the host, or default */
static int l_param(lua_State *L) {
  int dt;
  luaL_checktype(L, 1, LUA_TSTRING);
  dt = lua_type(L, 2);
  if (dt != LUA_TNONE && dt != LUA_TNIL && dt != LUA_TNUMBER &&
      dt != LUA_TSTRING && dt != LUA_TBOOLEAN)
    return luaL_argerror(L, 2,
                         "a default must be a number, a string, a "
                         "boolean or nil");
  lua_settop(L, 2);
  lparam_remember(L);
  lparam_table(L, LDES_PARAMS);
  lua_pushvalue(L, 1);
  if (lua_rawget(L, -2) != LUA_TSTRING) {
    lua_settop(L, 2);
    return 1;
  }
  return lparam_convert(L);
}

void lparam_open(lua_State *L, int mod) {
  lua_pushcfunction(L, l_param);
  lua_setfield(L, mod, "param");
}
