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
*/
#include <math.h>
#include <stdarg.h>

#include "ldes.h"

#define LSTATS_TALLY_MT "des.tally"
#define LSTATS_LEVEL_MT "des.level"

typedef struct lstats_tally {
  stats_tally t;
  int owned; /* kept by a resource: Lua may read and reset, not add */
} lstats_tally;

typedef struct lstats_level {
  stats_level l;
  rt_runtime *rt; /* its simulation (anchored as user value 2) */
  int owned;
} lstats_level;

/* The allocator of the Lua state: statistics count against its limits. */
static stats_alloc lstats_alloc(lua_State *L) {
  stats_alloc a;
  a.f = lua_getallocf(L, &a.ud);
  return a;
}

/* Raise msg with the position of the caller (as error(msg, 2) in Lua:
** the model's line that made the bad call). */
static int lstats_error(lua_State *L, const char *fmt, ...) {
  va_list ap;
  luaL_where(L, 1);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 2);
  return lua_error(L);
}

/* Push x, as an integer when it is one (counts, levels of whole items). */
static void lstats_pushvalue(lua_State *L, double x) {
  if (x == floor(x) && x >= (double)LUA_MININTEGER &&
      x < -(double)LUA_MININTEGER)
    lua_pushinteger(L, (lua_Integer)x);
  else
    lua_pushnumber(L, x);
}

/* Set t[k] = x (a number) on the table at the top. */
static void setnum(lua_State *L, const char *k, double x) {
  lua_pushnumber(L, x);
  lua_setfield(L, -2, k);
}

static void setvalue(lua_State *L, const char *k, double x) {
  lstats_pushvalue(L, x);
  lua_setfield(L, -2, k);
}

/* Start a report: {name = user value 1, kind = kind}. */
static void report_head(lua_State *L, int idx, const char *kind) {
  lua_createtable(L, 0, 10);
  lua_getiuservalue(L, idx, 1);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
}

/* A name for messages: user value 1 as a string. */
static const char *lstats_name(lua_State *L, int idx) {
  const char *s;
  lua_getiuservalue(L, idx, 1);
  s = luaL_tolstring(L, -1, NULL);
  lua_replace(L, -2);
  return s;
}

/* The number argument idx of `fname` on the statistic at 1 (not a
** string, not NaN): observe, set and add check theirs here. */
static double check_number(lua_State *L, int idx, const char *fname,
                           const char *kind) {
  double x = lua_tonumber(L, idx);
  if (lua_type(L, idx) != LUA_TNUMBER || x != x)
    lstats_error(L, "%s: %s '%s' needs a number (got %s)", fname, kind,
                 lstats_name(L, 1), luaL_tolstring(L, idx, NULL));
  return x;
}

/* The head of __index: push a method or the name and return NULL, or
** return the key to look up (a string). */
static const char *index_key(lua_State *L) {
  const char *k;
  if (ldes_method(L))
    return NULL;
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "name") != 0)
    return k;
  lua_getiuservalue(L, 1, 1);
  return NULL;
}

/* {====================================================================
** Tallies
** ===================================================================== */

static stats_tally *check_tally(lua_State *L, int idx) {
  return &((lstats_tally *)luaL_checkudata(L, idx, LSTATS_TALLY_MT))->t;
}

/* Refuse to change a statistic its owner keeps (a resource's). */
static void check_free(lua_State *L, int owned, const char *fname) {
  if (owned)
    lstats_error(L,
                 "%s: statistic '%s' is kept by its resource (read it, "
                 "reset it, but do not change it)",
                 fname, lstats_name(L, 1));
}

/* {====================================================================
** The cost of the C work a model can repeat on statistics it made large
** (charged with rt_charge before anything changes: issue 14, item 9)
** ===================================================================== */

/* Buckets a sketch's store walks for one rank. */
static size_t store_span(const dds_store *st) {
  return st->hi >= st->lo ? (size_t)(st->hi - st->lo) + 1 : 0;
}

/* Work of nq quantiles of t: sorting the kept observations (when they are
** not in order yet), or two walks over the sketch's buckets each. */
static size_t tally_quantile_cost(const stats_tally *t, size_t nq) {
  if (!t->keep || nq == 0)
    return 0;
  if (t->sketching)
    return nq * ((store_span(&t->sk.pos) + store_span(&t->sk.neg)) >> 1);
  return nq + (t->sorted ? 0 : (size_t)t->nobs * 2);
}

/* Work of merging from (its observations or buckets) and the bins. */
static size_t tally_merge_cost(const stats_tally *from) {
  return (size_t)from->nobs + store_span(&from->sk.pos) +
         store_span(&from->sk.neg) + from->nedges;
}

/* Work of a level's report or reset: its time-at-value table. */
static size_t level_cost(const stats_level *l) {
  return ((size_t)l->ndense + l->nslots) >> 2;
}

/* }==================================================================== */

/* Read the array at the top (opts[field]) as numbers into a buffer
** userdata that replaces it (so it is anchored while the core copies it);
** *n its length. quantiles: each in (0, 1) (report keys stay fractions:
** min and max are reported apart); edges: increasing, not NaN. */
static double *array_numbers(lua_State *L, const char *fname, const char *field,
                             uint32_t *n) {
  lua_Integer i, len;
  double *buf;
  if (!lua_istable(L, -1))
    lstats_error(L, "%s: %s must be an array of %s", fname, field,
                 field[0] == 'q' ? "probabilities" : "bin edges");
  len = (lua_Integer)lua_rawlen(L, -1);
  if (len < 1 && field[0] == 'h')
    lstats_error(L, "%s: histogram must be an array of bin edges", fname);
  if (len > 1000000)
    lstats_error(L, "%s: too many %s (%I)", fname, field, len);
  rt_charge(L, (size_t)len); /* the copy, and the core's copy of it */
  buf = lua_newuserdatauv(L, sizeof(double) * (size_t)(len ? len : 1), 0);
  for (i = 1; i <= len; i++) {
    int isnum = lua_rawgeti(L, -2, i) == LUA_TNUMBER; /* no strings */
    double x = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (field[0] == 'q') {
      if (!isnum || !(x > 0 && x < 1)) { /* 0, 1: min, max */
        lua_rawgeti(L, -2, i);
        lstats_error(L,
                     "%s: quantile %I must be a probability in (0, 1) "
                     "(got %s)",
                     fname, i, luaL_tolstring(L, -1, NULL));
      }
    } else if (!isnum || x != x || (i > 1 && x <= buf[i - 2]))
      lstats_error(L,
                   "%s: histogram edges must be increasing numbers "
                   "(edge %I)",
                   fname, i);
    buf[i - 1] = x;
  }
  lua_replace(L, -2); /* the buffer in the table's slot */
  *n = (uint32_t)len;
  return buf;
}

/* array_numbers of opts[field], pushing nil when absent (one slot each). */
static double *opts_numbers(lua_State *L, int opts, const char *field,
                            uint32_t *n) {
  *n = 0;
  if (lua_getfield(L, opts, field) == LUA_TNIL)
    return NULL; /* the nil keeps the stack shape */
  return array_numbers(L, "monitor", field, n);
}

/* tally(name [, opts]): a new des.tally. */
static int l_tally(lua_State *L) {
  lstats_tally *u;
  double *ps = NULL, *edges = NULL;
  uint32_t nps = 0, nedges = 0;
  lua_settop(L, 2);
  if (!lua_isnil(L, 2)) {
    if (!lua_istable(L, 2))
      return lstats_error(L, "monitor: options must be a table");
    ps = opts_numbers(L, 2, "quantiles", &nps);       /* slot 3 */
    edges = opts_numbers(L, 2, "histogram", &nedges); /* slot 4 */
  }
  rt_check_state(L, "monitor");
  u = lua_newuserdatauv(L, sizeof(*u), 1);
  u->owned = 0;
  stats_tally_init(&u->t, lstats_alloc(L));
  luaL_setmetatable(L, LSTATS_TALLY_MT);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  if (stats_tally_setup(&u->t, ps, nps, edges, nedges) != STATS_OK)
    return luaL_error(L, "monitor: not enough memory for statistics");
  lstats_register(L, -1, ldes_runtime_of(L));
  return 1;
}

/* des.monitor(name [, opts]): the __call of the monitor module, so that
** errors name the model's line rather than a Lua wrapper's. */
static int l_tally_call(lua_State *L) {
  lua_remove(L, 1);
  return l_tally(L);
}

/* Push a new tally named name (NULL: none), kept by C code (a resource). */
stats_tally *lstats_push_tally(lua_State *L, const char *name) {
  lstats_tally *u;
  rt_check_state(L, "monitor");
  u = lua_newuserdatauv(L, sizeof(*u), 1);
  u->owned = 1;
  stats_tally_init(&u->t, lstats_alloc(L));
  luaL_setmetatable(L, LSTATS_TALLY_MT);
  lua_pushstring(L, name);
  lua_setiuservalue(L, -2, 1);
  return &u->t;
}

/* t:observe(x): record a number (not NaN). */
static int t_observe(lua_State *L) {
  lstats_tally *u = luaL_checkudata(L, 1, LSTATS_TALLY_MT);
  double x;
  check_free(L, u->owned, "observe");
  x = check_number(L, 2, "observe", "monitor");
  if (stats_tally_add(&u->t, x) != STATS_OK)
    return lstats_error(L,
                        "observe: not enough memory for the quantiles of "
                        "monitor '%s' (it is counted without them)",
                        lstats_name(L, 1));
  return 0;
}

/* Raise when the tally's distribution missed observations (no memory):
** its quantiles are unknown, never silently wrong. */
static void check_lost(lua_State *L, stats_tally *t, const char *fname) {
  if (t->lost > 0)
    lstats_error(L,
                 "%s: the quantiles of '%s' miss %I observations (not "
                 "enough memory when they were made)",
                 fname, lstats_name(L, 1), (lua_Integer)t->lost);
}

/* t:keep_quantiles{p, ...}: keep the observations for quantiles (any p by
** t:quantile(p)) and report these; on any tally, a resource's included,
** before its first observation or after a reset. */
static int t_keep_quantiles(lua_State *L) {
  stats_tally *t = check_tally(L, 1);
  double *ps;
  uint32_t n;
  int r;
  lua_settop(L, 2);
  if (lua_isnil(L, 2))
    lua_newtable(L);
  ps = array_numbers(L, "keep_quantiles", "quantiles", &n);
  r = stats_tally_quantiles(t, ps, n);
  if (r == STATS_EBUSY)
    return lstats_error(L,
                        "keep_quantiles: '%s' already has %I observations "
                        "(call it before the first one, or after reset)",
                        lstats_name(L, 1), (lua_Integer)t->count);
  if (r != STATS_OK)
    return luaL_error(L, "keep_quantiles: not enough memory for statistics");
  return 0;
}

/* t:quantile(p) --> the p-quantile (type 7), nil without observations. */
static int t_quantile(lua_State *L) {
  stats_tally *t = check_tally(L, 1);
  double p = lua_tonumber(L, 2);
  if (lua_type(L, 2) != LUA_TNUMBER || !(p >= 0 && p <= 1))
    return lstats_error(L,
                        "quantile: p must be a probability in [0, 1] (got "
                        "%s)",
                        luaL_tolstring(L, 2, NULL));
  if (!t->keep)
    return lstats_error(L,
                        "quantile: '%s' keeps no quantiles (make it with "
                        "{quantiles = {...}} or call keep_quantiles before "
                        "its first observation)",
                        lstats_name(L, 1));
  check_lost(L, t, "quantile");
  rt_charge(L, tally_quantile_cost(t, 1));
  if (t->count == 0)
    lua_pushnil(L);
  else
    lua_pushnumber(L, stats_tally_quantile_at(t, p));
  return 1;
}

/* t:reset(): forget every observation (e.g. a warm-up period). */
static int t_reset(lua_State *L) {
  stats_tally *t = check_tally(L, 1);
  rt_charge(L, t->nedges >> 3); /* the bins cleared */
  stats_tally_reset(t);
  return 0;
}

/* t:merge(other): fold another tally's observations into this one. */
static int t_merge(lua_State *L) {
  lstats_tally *u = luaL_checkudata(L, 1, LSTATS_TALLY_MT);
  stats_tally *t = &u->t, *o = check_tally(L, 2);
  check_free(L, u->owned, "merge");
  if (t == o)
    return 0;
  rt_charge(L, tally_merge_cost(o));
  if (!stats_tally_can_merge(t, o))
    return lstats_error(L,
                        "merge: '%s' keeps quantiles and the monitor merged "
                        "into it does not (give both {quantiles = ...})",
                        lstats_name(L, 1));
  if (stats_tally_merge(t, o) != STATS_OK)
    return lstats_error(L,
                        "merge: not enough memory for the quantiles of "
                        "'%s' (counted without them)",
                        lstats_name(L, 1));
  return 0;
}

/* t:report() --> {name, kind="tally", count, mean, variance, sd, min, max
** [, quantiles = {[p] = estimate}] [, histogram = {{lo, hi, count}...}]};
** mean/min/max nil without observations, variance/sd below two. */
static int t_report(lua_State *L) {
  stats_tally *t = check_tally(L, 1);
  uint32_t i;
  /* the quantiles, and a table per histogram bin */
  rt_charge(L, tally_quantile_cost(t, t->nquant) + (size_t)t->nedges * 4);
  report_head(L, 1, "tally");
  lua_pushinteger(L, (lua_Integer)t->count);
  lua_setfield(L, -2, "count");
  if (t->count > 0) {
    setnum(L, "mean", t->mean);
    setvalue(L, "min", t->min);
    setvalue(L, "max", t->max);
  }
  if (t->count > 1) {
    double var = stats_tally_variance(t);
    setnum(L, "variance", var);
    setnum(L, "sd", sqrt(var));
  }
  if (t->nquant > 0) {
    check_lost(L, t, "report");
    lua_createtable(L, 0, (int)t->nquant);
    for (i = 0; i < t->nquant; i++)
      if (t->count > 0) {
        lua_pushnumber(L, t->ps[i]);
        lua_pushnumber(L, stats_tally_quantile(t, i));
        lua_rawset(L, -3);
      }
    lua_setfield(L, -2, "quantiles");
  }
  if (t->bins != NULL) { /* bin i is [edges[i-1], edges[i]), tails at inf */
    lua_createtable(L, (int)t->nedges + 1, 0);
    for (i = 0; i <= t->nedges; i++) {
      lua_createtable(L, 3, 0);
      lua_pushnumber(L, i > 0 ? t->edges[i - 1] : -HUGE_VAL);
      lua_rawseti(L, -2, 1);
      lua_pushnumber(L, i < t->nedges ? t->edges[i] : HUGE_VAL);
      lua_rawseti(L, -2, 2);
      lua_pushinteger(L, (lua_Integer)t->bins[i]);
      lua_rawseti(L, -2, 3);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "histogram");
  }
  return 1;
}

/* t.name, .count, .mean, .min, .max (nil when empty); methods */
static int t_index(lua_State *L) {
  stats_tally *t = check_tally(L, 1);
  const char *k = index_key(L);
  if (k == NULL)
    return 1;
  if (strcmp(k, "count") == 0)
    lua_pushinteger(L, (lua_Integer)t->count);
  else if (t->count > 0 && strcmp(k, "mean") == 0)
    lua_pushnumber(L, t->mean);
  else if (t->count > 0 && strcmp(k, "min") == 0)
    lstats_pushvalue(L, t->min);
  else if (t->count > 0 && strcmp(k, "max") == 0)
    lstats_pushvalue(L, t->max);
  else
    lua_pushnil(L);
  return 1;
}

static int t_gc(lua_State *L) {
  stats_tally_free(check_tally(L, 1));
  return 0;
}

static int t_tostring(lua_State *L) {
  stats_tally *t = check_tally(L, 1);
  lua_pushfstring(L, "des.tally '%s': %I observations", lstats_name(L, 1),
                  (lua_Integer)t->count);
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** Levels
** ===================================================================== */

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
  check_free(L, u->owned, fname);
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
  return level_set(L, u, check_number(L, 2, "set", "level"), "set");
}

/* l:add(dv): the level changes by dv. */
static int l_add(lua_State *L) {
  lstats_level *u = check_level(L, 1);
  return level_set(L, u, u->l.value + check_number(L, 2, "add", "level"),
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
  report_head(L, 1, "level");
  setvalue(L, "value", l->value);
  setnum(L, "mean", stats_level_mean(l));
  setvalue(L, "max", l->max);
  setvalue(L, "min", l->min);
  setnum(L, "duration", rt_units(u->rt, stats_level_duration(l)));
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
  setnum(L, "t", rt_units(rt, p->t0));
  setnum(L, "t_end", rt_units(rt, p->t1));
  setvalue(L, "min", p->min);
  setvalue(L, "max", p->max);
  setnum(L, "mean", p->mean);
  setvalue(L, "last", p->last);
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
  const char *k = index_key(L);
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

/* }==================================================================== */

static const luaL_Reg tally_methods[] = {{"observe", t_observe},
                                         {"report", t_report},
                                         {"reset", t_reset},
                                         {"merge", t_merge},
                                         {"quantile", t_quantile},
                                         {"keep_quantiles", t_keep_quantiles},
                                         {NULL, NULL}};

static const luaL_Reg level_methods[] = {
    {"set", l_set},     {"add", l_add},       {"report", l_report},
    {"reset", l_reset}, {"series", l_series}, {NULL, NULL}};

/* A metatable with its methods (behind `index`), __gc and __tostring. */
static void new_mt(lua_State *L, const char *name, const luaL_Reg *methods,
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

static const luaL_Reg module_funcs[] = {{"tally", l_tally},
                                        {"tally_call", l_tally_call},
                                        {"level", l_level},
                                        {NULL, NULL}};

void lstats_open(lua_State *L, int mod) {
  new_mt(L, LSTATS_TALLY_MT, tally_methods, t_index, t_gc, t_tostring);
  new_mt(L, LSTATS_LEVEL_MT, level_methods, l_index, l_gc, l_tostring);
  lua_newtable(L);
  ldes_setfuncs(L, -1, module_funcs);
  lstatreg_setfuncs(L, -1);
  lua_setfield(L, mod, "_stats");
}
