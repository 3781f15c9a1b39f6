/*
** hexper.c -- what experiments need from a host (deshost.h, "Experiments"):
** parameters for des.param, the listing of those the model asked for, the
** table a model's main chunk returned, and the seed of a run.
*/
#include <string.h>

#include <lauxlib.h>

#include "hostint.h"
#include "seedmix.h"

/* Protected part of des_set_param: registry[LDES_PARAMS][name] = value. */
static int hexper_set(lua_State *L) {
  const char *name = lua_touserdata(L, 1), *value = lua_touserdata(L, 2);
  if (lua_getfield(L, LUA_REGISTRYINDEX, LDES_PARAMS) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, LDES_PARAMS);
  }
  lua_pushstring(L, value);
  lua_setfield(L, -2, name);
  return 0;
}

int des_set_param(des_host *h, const char *name, const char *value) {
  int rc;
  HOST_CHECK(h);
  host_enter(h);
  if (name == NULL || name[0] == '\0')
    return host_fail(h, DES_EINVAL, "des_set_param: name is %s",
                     name == NULL ? "NULL" : "empty");
  if (value == NULL)
    return host_fail(h, DES_EINVAL, "des_set_param: value is NULL");
  lua_pushcfunction(h->L, hexper_set);
  lua_pushlightuserdata(h->L, (void *)name);
  lua_pushlightuserdata(h->L, (void *)value);
  rc = host_pcall(h, 2, 0);
  host_leave(h);
  return rc;
}

int des_params(des_host *h, des_param_fn fn, void *ctx) {
  lua_State *L;
  lua_Integer i, n;
  int rc = DES_OK, top;
  HOST_CHECK(h);
  host_clear_error(h);
  if (fn == NULL)
    return host_fail(h, DES_EINVAL, "des_params: fn is NULL");
  L = h->L;
  top = lua_gettop(L);
  if (!lua_checkstack(L, 4))
    return host_fail(h, DES_ENOMEM, "des_params: not enough memory");
  if (lua_getfield(L, LUA_REGISTRYINDEX, LDES_PARAMS_ASKED) == LUA_TTABLE) {
    n = (lua_Integer)lua_rawlen(L, -1);
    for (i = 1; i + 1 <= n && rc == DES_OK; i += 2) {
      lua_rawgeti(L, top + 1, i);
      lua_rawgeti(L, top + 1, i + 1);
      /* both are strings (lparam.c): no conversion, no allocation */
      if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING)
        rc = fn(ctx, lua_tostring(L, -2), lua_tostring(L, -1));
      lua_settop(L, top + 1);
    }
  }
  lua_settop(L, top);
  return rc;
}

int des_results(des_host *h) {
  rt_task *t;
  HOST_CHECK(h);
  host_clear_error(h);
  if (!lua_checkstack(h->L, 3))
    return host_fail(h, DES_ENOMEM, "des_results: not enough memory");
  lua_getfield(h->L, LUA_REGISTRYINDEX, HOST_MAIN_KEY);
  t = luaL_testudata(h->L, -1, DES_TASK_MT);
  if (t == NULL || t->state != TASK_DONE) {
    lua_pop(h->L, 1);
    return host_fail(h, DES_ENOTFOUND, "des_results: %s",
                     t == NULL ? "no model was loaded"
                               : "the model's main chunk has not returned");
  }
  if (lua_getiuservalue(h->L, -1, UV_VALUES) == LUA_TTABLE)
    lua_rawgeti(h->L, -1, 1);
  else
    lua_pushnil(h->L);
  lua_replace(h->L, -3);
  lua_pop(h->L, 1);
  return DES_OK;
}

uint64_t des_seed_mix(uint64_t seed, const char *point, size_t len,
                      uint64_t i) {
  return seedmix_run(seed, point, point == NULL ? 0 : len, i);
}
