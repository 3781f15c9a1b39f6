/*
** lstats.c -- the Lua binding of the statistics core (core/stats.h): the
** one implementation behind des.monitor tallies and levels, the
** statistics of resources, stores and containers, and des.replicate's
** summaries. The report table (the format every export reads) is built
** here and only here.
**
**   local S = des._stats                 -- what des.monitor is made of
**   local t = S.tally(name [, {quantiles = {p...}, histogram = {edges}}])
**   t:observe(x); t:report(); t:reset(); t:merge(other)
**   local l = S.level(name [, initial [, {time_at = true}]])
**   l:set(v); l:add(dv); l:report(); l:reset(); l:series()
**   S.register(obj); S.registered([sim])  -- what a report shows
**
** A des.tally / des.level userdata holds its statistic by value; its user
** values are 1 its name and (levels) 2 the simulation object whose clock
** it reads. It reads that clock at each call (rt_now), so once the
** simulation is closed it reads the time it closed at: a level reported
** after des.replicate closed its run is frozen there, never dangling.
** Times go into the core in ticks; durations come out in model units.
**
** Every level keeps its bounded time series (core/series.c). Monitors
** are listed in their simulation's registry (lstatreg.c) for reports.
**
** The binding is three files with lstats.h: this one has the helpers
** both kinds share and makes des._stats; ltally.c has des.tally, llevel.c
** des.level.
*/
#include <math.h>
#include <stdarg.h>

#include "lstats.h"

/* The allocator of the Lua state: statistics count against its limits. */
stats_alloc lstats_alloc(lua_State *L) {
  stats_alloc a;
  a.f = lua_getallocf(L, &a.ud);
  return a;
}

/* Raise msg with the position of the caller (as error(msg, 2) in Lua:
** the model's line that made the bad call). */
int lstats_error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  luaL_where(L, 1);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 2);
  return lua_error(L);
}

/* Push x, as an integer when it is one (counts, levels of whole items). */
void lstats_pushvalue(lua_State *L, double x) {
  if (x == floor(x) && x >= (double)LUA_MININTEGER &&
      x < -(double)LUA_MININTEGER)
    lua_pushinteger(L, (lua_Integer)x);
  else
    lua_pushnumber(L, x);
}

/* Set t[k] = x (a number) on the table at the top. */
void lstats_setnum(lua_State *L, const char *k, double x) {
  lua_pushnumber(L, x);
  lua_setfield(L, -2, k);
}

void lstats_setvalue(lua_State *L, const char *k, double x) {
  lstats_pushvalue(L, x);
  lua_setfield(L, -2, k);
}

/* Start a report: {name = user value 1, kind = kind}. */
void lstats_report_head(lua_State *L, int idx, const char *kind) {
  lua_createtable(L, 0, 10);
  lua_getiuservalue(L, idx, 1);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
}

/* A name for messages: user value 1 as a string. */
const char *lstats_name(lua_State *L, int idx) {
  const char *s;
  lua_getiuservalue(L, idx, 1);
  s = luaL_tolstring(L, -1, NULL);
  lua_replace(L, -2);
  return s;
}

/* The number argument idx of `fname` on the statistic at 1 (not a
** string, not NaN): observe, set and add check theirs here. */
double lstats_check_number(lua_State *L, int idx, const char *fname,
                           const char *kind) {
  double x = lua_tonumber(L, idx);
  if (lua_type(L, idx) != LUA_TNUMBER || x != x)
    lstats_error(L, "%s: %s '%s' needs a number (got %s)", fname, kind,
                 lstats_name(L, 1), luaL_tolstring(L, idx, NULL));
  return x;
}

/* The head of __index: push a method or the name and return NULL, or
** return the key to look up (a string). */
const char *lstats_index_key(lua_State *L) {
  const char *k;
  if (ldes_method(L))
    return NULL;
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "name") != 0)
    return k;
  lua_getiuservalue(L, 1, 1);
  return NULL;
}

/* Refuse to change a statistic its owner keeps (a resource's). */
void lstats_check_free(lua_State *L, int owned, const char *fname) {
  if (owned)
    lstats_error(L,
                 "%s: statistic '%s' is kept by its resource (read it, "
                 "reset it, but do not change it)",
                 fname, lstats_name(L, 1));
}

/* A metatable with its methods (behind `index`), __gc and __tostring. */
void lstats_new_mt(lua_State *L, const char *name, const luaL_Reg *methods,
                   lua_CFunction index, lua_CFunction gc,
                   lua_CFunction tostring) {
  luaL_newmetatable(L, name);
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "methods");
  ldes_set_index(L, -1, index);
  lua_pushliteral(L, "des statistics"); /* getmetatable() hides it */
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

/* des._stats: tally, tally_call, level (in that order), register,
** registered. */
void lstats_open(lua_State *L, int mod) {
  lua_newtable(L);
  lstats_tally_open(L, lua_gettop(L));
  lstats_level_open(L, lua_gettop(L));
  lstatreg_setfuncs(L, -1);
  lua_setfield(L, mod, "_stats");
}
