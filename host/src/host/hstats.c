/*
** hstats.c -- des_statistics: every statistic of the host's simulation as
** one JSON text, for reports made by clients of deshost.h (the CLI's
** --report, an embedder's dashboard). The text is des.monitor's
** (report_json: the reports of des.monitor.gather with their series), so
** the Lua export, the CLI and embedders read one format.
*/
#include "hostint.h"

/* Protected: push des.monitor.report_json(), checked to be a string. */
static int stats_json(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "des") != LUA_TTABLE)
    return luaL_error(L, "des_statistics: the des module is not loaded");
  lua_getfield(L, -1, "monitor"); /* loads des.monitor if needed */
  if (!lua_istable(L, -1) ||
      lua_getfield(L, -1, "report_json") != LUA_TFUNCTION)
    return luaL_error(L, "des_statistics: des.monitor.report_json is not a "
                         "function (the model changed it?)");
  lua_call(L, 0, 1);
  if (lua_type(L, -1) != LUA_TSTRING)
    return luaL_error(L,
                      "des_statistics: des.monitor.report_json gave a %s, "
                      "not a string",
                      luaL_typename(L, -1));
  return 1;
}

int des_statistics(des_host *h) {
  int rc;
  HOST_CHECK(h);
  host_enter(h);
  lua_pushcfunction(h->L, stats_json);
  rc = host_pcall(h, 0, 1);
  host_leave(h);
  return rc;
}
