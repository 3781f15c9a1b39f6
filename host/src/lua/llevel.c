/*
** llevel.c -- des.level: time-weighted levels (a stats_level of
** core/stats.h) of des.monitor and of resources' queue and busy counts:
** set, add, reset, report (with the time at each value), and the bounded
** time series (core/series.c). A level reads its simulation's clock at
** each call (lstats.c's head comment says why that is safe after the
** close). The helpers it shares with tallies are in lstats.c (lstats.h).
*/
#include "lstats.h"

#define LSTATS_LEVEL_MT "des.level"

typedef struct lstats_level {
  stats_level l;
  rt_runtime *rt; /* its simulation (anchored as user value 2) */
  int owned;
} lstats_level;

/* Work of a level's report or reset: its time-at-value table (charged
** with rt_charge before anything changes: issue 14, item 9). */
static size_t level_cost(const stats_level *l) {
  return ((size_t)l->ndense + l->nslots) >> 2;
}

static lstats_level *check_level(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, LSTATS_LEVEL_MT);
}

/* Push a new level of simulation rt named name, at `initial` from now;
** keep_at: count the time at each value. Kept by C code (a resource)
** unless l_level makes it a monitor. Raises on no memory. */
stats_level *lstats_push_level(lua_State *L, rt_runtime *rt, const char *name,
                               double initial, int keep_at) {
  lstats_level *u;
  rt_check_state(L, "monitor");
  u = lua_newuserdatauv(L, sizeof(*u), 2);
  /* without time_at it allocates nothing, so it cannot fail */
  stats_level_init(&u->l, lstats_alloc(L), rt_now(rt), initial, 0);
  u->rt = rt;
  u->owned = 1;
  luaL_setmetatable(L, LSTATS_LEVEL_MT);
  lua_pushstring(L, name);
  lua_setiuservalue(L, -2, 1);
  rt_push_object(L, rt);
  lua_setiuservalue(L, -2, 2);
  if ((keep_at && /* with its __gc set: what it allocates is freed */
       stats_level_init(&u->l, lstats_alloc(L), rt_now(rt), initial, 1) !=
           STATS_OK) ||
      stats_level_keep_series(&u->l, STATS_SERIES_BUCKETS) != STATS_OK)
    luaL_error(L, "not enough memory for statistics");
  return &u->l;
}

/* level(name [, initial [, {time_at = true}]]): a new des.level on the
** current simulation. */
static int l_level(lua_State *L) {
  int keep_at = 0;
  double initial = 0;
  if (!lua_isnoneornil(L, 2)) {
    initial = lua_tonumber(L, 2);
    if (lua_type(L, 2) != LUA_TNUMBER || initial != initial)
      return lstats_error(
          L, "monitor.level: initial value must be a number (got %s)",
          luaL_tolstring(L, 2, NULL));
  }
  if (!lua_isnoneornil(L, 3)) {
    if (!lua_istable(L, 3))
      return lstats_error(L, "monitor.level: options must be a table");
    lua_getfield(L, 3, "time_at");
    keep_at = lua_toboolean(L, -1);
  }
  lstats_push_level(L, ldes_runtime_of(L), NULL, initial, keep_at);
  ((lstats_level *)lua_touserdata(L, -1))->owned = 0;
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  lstats_register(L, -1, ldes_runtime_of(L));
  return 1;
}

/* The level's clock now, in ticks; raises when `fname` changes a level of
** a closed simulation (reading it is fine: frozen at the close). */
static des_time level_clock(lua_State *L, lstats_level *u, const char *fname) {
  if (fname != NULL && u->rt->closed == RT_CLOSED)
    luaL_error(L, "%s: level '%s' belongs to a closed simulation", fname,
               lstats_name(L, 1));
  return rt_now(u->rt);
}

/* Set the level to v, failing before any change when out of memory. */
static int level_set(lua_State *L, lstats_level *u, double v,
                     const char *fname) {
  des_time now;
  lstats_check_free(L, u->owned, fname);
  now = level_clock(L, u, fname);
  if (v != v) /* inf + -inf */
    return lstats_error(L, "%s: level '%s' needs a number (got nan)", fname,
                        lstats_name(L, 1));
  if (stats_level_reserve(&u->l, v) != STATS_OK)
    return luaL_error(L, "%s: not enough memory for statistics", fname);
  stats_level_set(&u->l, now, v);
  return 0;
}

/* l:set(v): the level is v from now on. */
static int l_set(lua_State *L) {
  lstats_level *u = check_level(L, 1);
  return level_set(L, u, lstats_check_number(L, 2, "set", "level"), "set");
}

/* l:add(dv): the level changes by dv. */
static int l_add(lua_State *L) {
  lstats_level *u = check_level(L, 1);
  return level_set(L, u, u->l.value + lstats_check_number(L, 2, "add", "level"),
                   "add");
}

/* l:reset(): start afresh from now at the current value. */
static int l_reset(lua_State *L) {
  lstats_level *u = check_level(L, 1);
  rt_charge(L, level_cost(&u->l));
  stats_level_reset(&u->l, level_clock(L, u, NULL));
  return 0;
}

/* One time_at entry: [v] = time in units (the table at the top). */
typedef struct at_ctx {
  lua_State *L;
  rt_runtime *rt;
} at_ctx;

static void push_at(void *ctx, double v, int64_t ticks) {
  at_ctx *c = ctx;
  lstats_pushvalue(c->L, v);
  lua_pushnumber(c->L, rt_units(c->rt, ticks));
  lua_rawset(c->L, -3);
}

/* l:report() --> {name, kind="level", value, mean, min, max, duration
** [, time_at = {[v] = time}]}, integrated up to now (or the close). */
static int l_report(lua_State *L) {
  lstats_level *u = check_level(L, 1);
  stats_level *l = &u->l;
  rt_charge(L, level_cost(l) + (l->keep_at ? (size_t)l->nused * 2 : 0));
  stats_level_advance(l, level_clock(L, u, NULL));
  lstats_report_head(L, 1, "level");
  lstats_setvalue(L, "value", l->value);
  lstats_setnum(L, "mean", stats_level_mean(l));
  lstats_setvalue(L, "max", l->max);
  lstats_setvalue(L, "min", l->min);
  lstats_setnum(L, "duration", rt_units(u->rt, stats_level_duration(l)));
  if (l->keep_at) {
    at_ctx c;
    c.L = L;
    c.rt = u->rt;
    lua_newtable(L);
    stats_level_each_at(l, push_at, &c);
    lua_setfield(L, -2, "time_at");
  }
  return 1;
}

/* One bucket as a row {t, t_end, min, max, mean, last} (times in units). */
static void push_point(lua_State *L, rt_runtime *rt, const stats_point *p) {
  lua_createtable(L, 0, 6);
  lstats_setnum(L, "t", rt_units(rt, p->t0));
  lstats_setnum(L, "t_end", rt_units(rt, p->t1));
  lstats_setvalue(L, "min", p->min);
  lstats_setvalue(L, "max", p->max);
  lstats_setnum(L, "mean", p->mean);
  lstats_setvalue(L, "last", p->last);
}

/* l:series() --> {{t=, t_end=, min=, max=, mean=, last=}...}: the level's
** history up to now (or the close) in at most STATS_SERIES_BUCKETS rows
** of equal width (the last one up to now); min/max are exact (every value
** set, even for no time), the rows' time-weighted mean is the level's. */
static int l_series(lua_State *L) {
  lstats_level *u = check_level(L, 1);
  uint32_t i, n;
  stats_level_advance(&u->l, level_clock(L, u, NULL));
  n = stats_level_series_len(&u->l);
  rt_charge(L, (size_t)n * 8); /* a table of six fields per row */
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    stats_point p = stats_level_series_at(&u->l, i);
    push_point(L, u->rt, &p);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* l.name, .value, .min, .max; methods */
static int l_index(lua_State *L) {
  lstats_level *u = check_level(L, 1);
  const char *k = lstats_index_key(L);
  if (k == NULL)
    return 1;
  if (strcmp(k, "value") == 0)
    lstats_pushvalue(L, u->l.value);
  else if (strcmp(k, "min") == 0)
    lstats_pushvalue(L, u->l.min);
  else if (strcmp(k, "max") == 0)
    lstats_pushvalue(L, u->l.max);
  else
    lua_pushnil(L);
  return 1;
}

static int l_gc(lua_State *L) {
  stats_level_free(&check_level(L, 1)->l);
  return 0;
}

static int l_tostring(lua_State *L) {
  lstats_level *u = check_level(L, 1);
  const char *name = lstats_name(L, 1);
  lstats_pushvalue(L, u->l.value);
  lua_pushfstring(L, "des.level '%s': %s", name, luaL_tolstring(L, -1, NULL));
  return 1;
}

static const luaL_Reg level_methods[] = {
    {"set", l_set},     {"add", l_add},       {"report", l_report},
    {"reset", l_reset}, {"series", l_series}, {NULL, NULL}};

static const luaL_Reg module_funcs[] = {{"level", l_level}, {NULL, NULL}};

/* des.level's metatable, and _stats.level into the table at t. */
void lstats_level_open(lua_State *L, int t) {
  lstats_new_mt(L, LSTATS_LEVEL_MT, level_methods, l_index, l_gc, l_tostring);
  ldes_setfuncs(L, t, module_funcs);
}
