/*
** ltally.c -- des.tally: the tallies of des.monitor and of the waiting
** times of resources (a stats_tally of core/stats.h): observe, keep and
** read quantiles, histograms, merge, reset, report. The helpers it shares
** with levels are in lstats.c (lstats.h); lstats.c's head comment says
** what the binding is.
*/
#include <math.h>

#include "lstats.h"

#define LSTATS_TALLY_MT "des.tally"

typedef struct lstats_tally {
  stats_tally t;
  int owned; /* kept by a resource: Lua may read and reset, not add */
} lstats_tally;

static stats_tally *check_tally(lua_State *L, int idx) {
  return &((lstats_tally *)luaL_checkudata(L, idx, LSTATS_TALLY_MT))->t;
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
  lstats_check_free(L, u->owned, "observe");
  x = lstats_check_number(L, 2, "observe", "monitor");
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
  lstats_check_free(L, u->owned, "merge");
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
  lstats_report_head(L, 1, "tally");
  lua_pushinteger(L, (lua_Integer)t->count);
  lua_setfield(L, -2, "count");
  if (t->count > 0) {
    lstats_setnum(L, "mean", t->mean);
    lstats_setvalue(L, "min", t->min);
    lstats_setvalue(L, "max", t->max);
  }
  if (t->count > 1) {
    double var = stats_tally_variance(t);
    lstats_setnum(L, "variance", var);
    lstats_setnum(L, "sd", sqrt(var));
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
  const char *k = lstats_index_key(L);
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

static const luaL_Reg tally_methods[] = {{"observe", t_observe},
                                         {"report", t_report},
                                         {"reset", t_reset},
                                         {"merge", t_merge},
                                         {"quantile", t_quantile},
                                         {"keep_quantiles", t_keep_quantiles},
                                         {NULL, NULL}};

static const luaL_Reg module_funcs[] = {
    {"tally", l_tally}, {"tally_call", l_tally_call}, {NULL, NULL}};

/* des.tally's metatable, and _stats.tally and .tally_call into the table
** at t. */
void lstats_tally_open(lua_State *L, int t) {
  lstats_new_mt(L, LSTATS_TALLY_MT, tally_methods, t_index, t_gc, t_tostring);
  ldes_setfuncs(L, t, module_funcs);
}
