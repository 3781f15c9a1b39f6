/*
** lrng.c -- Lua binding of random streams: des.rng([name]) and the
** des.rng userdata with its distributions.
**
** A stream is named; its state derives from the simulation's seed and the
** name (rng.h), so adding a stream never shifts another one, and the same
** seed gives the same numbers on every platform and build.
*/
#include <math.h>
#include <stdlib.h>

#include "ldes.h"
#include "rng.h"
#include "seedmix.h"

#define DES_RNG_MT "des.rng"

typedef struct lrng {
  des_rng r;
  uint64_t seed;
} lrng;

static des_rng *check_rng(lua_State *L) {
  return &((lrng *)luaL_checkudata(L, 1, DES_RNG_MT))->r;
}

/* A finite number argument, or an error naming the method. */
static double check_finite(lua_State *L, int idx, const char *fname) {
  double v = luaL_checknumber(L, idx);
  if (!isfinite(v))
    luaL_error(L, "%s: argument %d must be finite (got %f)", fname, idx - 1,
               (lua_Number)v);
  return v;
}

/* r:random() --> uniform in [0, 1) */
static int r_random(lua_State *L) {
  lua_pushnumber(L, des_rng_double(check_rng(L)));
  return 1;
}

/* r:uniform(a, b) --> uniform in [a, b) */
static int r_uniform(lua_State *L) {
  des_rng *r = check_rng(L);
  double a = check_finite(L, 2, "uniform"), b = check_finite(L, 3, "uniform");
  if (b < a)
    luaL_error(L, "uniform: needs a <= b (got %f, %f)", a, b);
  lua_pushnumber(L, des_rng_uniform(r, a, b));
  return 1;
}

/* r:integer(a, b) --> uniform integer in [a, b], without modulo bias */
static int r_integer(lua_State *L) {
  des_rng *r = check_rng(L);
  lua_Integer a = luaL_checkinteger(L, 2), b = luaL_checkinteger(L, 3);
  if (b < a)
    luaL_error(L, "integer: needs a <= b (got %I, %I)", a, b);
  lua_pushinteger(L, (lua_Integer)des_rng_integer(r, (int64_t)a, (int64_t)b));
  return 1;
}

/* r:exponential(mean) */
static int r_exponential(lua_State *L) {
  des_rng *r = check_rng(L);
  double mean = check_finite(L, 2, "exponential");
  if (!(mean > 0))
    luaL_error(L, "exponential: mean must be > 0 (got %f)", mean);
  lua_pushnumber(L, des_rng_exponential(r, mean));
  return 1;
}

/* r:normal(mu, sd) */
static int r_normal(lua_State *L) {
  des_rng *r = check_rng(L);
  double mu = check_finite(L, 2, "normal"), sd = check_finite(L, 3, "normal");
  if (sd < 0)
    luaL_error(L, "normal: sd must be >= 0 (got %f)", sd);
  lua_pushnumber(L, des_rng_normal(r, mu, sd));
  return 1;
}

/* r:lognormal(mu, sigma): exp of a normal(mu, sigma) */
static int r_lognormal(lua_State *L) {
  des_rng *r = check_rng(L);
  double mu = check_finite(L, 2, "lognormal");
  double sigma = check_finite(L, 3, "lognormal");
  if (sigma < 0)
    luaL_error(L, "lognormal: sigma must be >= 0 (got %f)", sigma);
  lua_pushnumber(L, des_rng_lognormal(r, mu, sigma));
  return 1;
}

/* r:triangular(low, mode, high) by inversion */
static int r_triangular(lua_State *L) {
  des_rng *r = check_rng(L);
  double lo = check_finite(L, 2, "triangular");
  double mode = check_finite(L, 3, "triangular");
  double hi = check_finite(L, 4, "triangular");
  if (!(lo <= mode && mode <= hi && lo < hi))
    luaL_error(L, "triangular: needs low <= mode <= high and low < high");
  lua_pushnumber(L, des_rng_triangular(r, lo, mode, hi));
  return 1;
}

/* r:bernoulli(p) --> boolean */
static int r_bernoulli(lua_State *L) {
  des_rng *r = check_rng(L);
  double p = check_finite(L, 2, "bernoulli");
  if (p < 0 || p > 1)
    luaL_error(L, "bernoulli: p must be in [0, 1] (got %f)", p);
  lua_pushboolean(L, des_rng_bernoulli(r, p));
  return 1;
}

/* A finite number argument > 0, or an error naming the method and what. */
static double check_positive(lua_State *L, int idx, const char *fname,
                             const char *what) {
  double v = check_finite(L, idx, fname);
  if (!(v > 0))
    luaL_error(L, "%s: %s must be > 0 (got %f)", fname, what, (lua_Number)v);
  return v;
}

/* r:gamma(k, theta): shape k, scale theta, mean k * theta */
static int r_gamma(lua_State *L) {
  des_rng *r = check_rng(L);
  double k = check_positive(L, 2, "gamma", "shape k");
  double theta = check_positive(L, 3, "gamma", "scale theta");
  lua_pushnumber(L, des_rng_gamma(r, k, theta));
  return 1;
}

/* r:erlang(k, mean): k stages, total mean */
static int r_erlang(lua_State *L) {
  des_rng *r = check_rng(L);
  int isint;
  lua_Integer k = lua_tointegerx(L, 2, &isint);
  double mean;
  if (!isint || k < 1)
    luaL_error(L, "erlang: k must be an integer >= 1 (got %s)",
               luaL_tolstring(L, 2, NULL));
  mean = check_positive(L, 3, "erlang", "mean");
  lua_pushnumber(L, des_rng_erlang(r, (int64_t)k, mean));
  return 1;
}

/* r:beta(a, b) --> in [0, 1] */
static int r_beta(lua_State *L) {
  des_rng *r = check_rng(L);
  double a = check_positive(L, 2, "beta", "a");
  double b = check_positive(L, 3, "beta", "b");
  lua_pushnumber(L, des_rng_beta(r, a, b));
  return 1;
}

/* r:weibull(shape, scale) */
static int r_weibull(lua_State *L) {
  des_rng *r = check_rng(L);
  double shape = check_positive(L, 2, "weibull", "shape");
  double scale = check_positive(L, 3, "weibull", "scale");
  lua_pushnumber(L, des_rng_weibull(r, shape, scale));
  return 1;
}

/* r:poisson(mean) --> integer >= 0 */
static int r_poisson(lua_State *L) {
  des_rng *r = check_rng(L);
  double mean = check_finite(L, 2, "poisson");
  if (!(mean >= 0 && mean <= DES_RNG_POISSON_MAX))
    luaL_error(L, "poisson: mean must be in [0, %f] (got %f)",
               (lua_Number)DES_RNG_POISSON_MAX, mean);
  lua_pushinteger(L, (lua_Integer)des_rng_poisson(r, mean));
  return 1;
}

/* data[i] of the table at index 2, which must be a finite number. */
static double empirical_at(lua_State *L, lua_Integer i) {
  double v;
  if (lua_rawgeti(L, 2, i) != LUA_TNUMBER)
    luaL_error(L, "empirical: data[%I] must be a number (got %s)", i,
               luaL_typename(L, -1));
  v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (!isfinite(v))
    luaL_error(L, "empirical: data[%I] must be finite (got %f)", i,
               (lua_Number)v);
  return v;
}

static int empirical_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* r:empirical(data [, interpolate]): one of the numbers of the array data,
** uniformly; with interpolate, a draw from the piecewise-linear empirical
** CDF of the sorted data, within [min, max]. */
static int r_empirical(lua_State *L) {
  des_rng *r = check_rng(L);
  lua_Integer i, n;
  int interp, sorted = 1;
  double *x;
  n = lua_istable(L, 2) ? (lua_Integer)lua_rawlen(L, 2) : 0;
  if (n < 1)
    luaL_error(L, "empirical: data must be a non-empty array of numbers");
  if (!lua_isnoneornil(L, 3) && !lua_isboolean(L, 3))
    luaL_error(L, "empirical: interpolate must be a boolean (got %s)",
               luaL_typename(L, 3));
  interp = lua_toboolean(L, 3);
  rt_charge(L, (size_t)n * (interp ? 2 : 1)); /* the checks (and the sort) */
  if (!interp) { /* no copy: check them all, then pick one */
    for (i = 1; i <= n; i++)
      empirical_at(L, i);
    lua_pushnumber(L, empirical_at(L, 1 + (lua_Integer)des_rng_integer(
                                              r, 0, (int64_t)n - 1)));
    return 1;
  }
  if ((lua_Unsigned)n > (size_t)-1 / sizeof(double))
    luaL_error(L, "empirical: data too large");
  x = lua_newuserdatauv(L, (size_t)n * sizeof(double), 0); /* collected */
  for (i = 0; i < n; i++) {
    x[i] = empirical_at(L, i + 1);
    if (i > 0 && x[i] < x[i - 1])
      sorted = 0;
  }
  if (!sorted)
    qsort(x, (size_t)n, sizeof(double), empirical_cmp);
  lua_pushnumber(L, des_rng_empirical(r, x, (size_t)n, 1));
  return 1;
}

/* r:choice(weights) --> index i with probability weights[i] / sum */
static int r_choice(lua_State *L) {
  des_rng *r = check_rng(L);
  lua_Integer i, n;
  double total = 0, x;
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, 2);
  rt_charge(L, (size_t)n * 2); /* two walks over the weights */
  for (i = 1; i <= n; i++) {
    double wgt;
    lua_rawgeti(L, 2, i);
    wgt = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!(wgt >= 0) || !isfinite(wgt))
      luaL_error(L, "choice: weight %I must be a finite number >= 0", i);
    total += wgt;
  }
  if (!(total > 0))
    luaL_error(L, "choice: needs at least one weight > 0");
  x = des_rng_double(r) * total;
  for (i = 1; i < n; i++) {
    lua_rawgeti(L, 2, i);
    x -= lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (x < 0)
      break;
  }
  lua_pushinteger(L, i);
  return 1;
}

static int r_tostring(lua_State *L) {
  lrng *g = luaL_checkudata(L, 1, DES_RNG_MT);
  lua_getiuservalue(L, 1, 1);
  lua_pushfstring(L, "des.rng '%s' (seed %I)", lua_tostring(L, -1),
                  (lua_Integer)g->seed);
  return 1;
}

/* des.rng([name]) / sim:rng([name]): the stream `name` ("default") of the
** current simulation's seed. Each call starts the stream afresh. */
static int l_rng(lua_State *L) {
  rt_runtime *rt;
  int nameidx = 1;
  size_t len;
  const char *name;
  lrng *g;
  if (luaL_testudata(L, 1, DES_SIM_MT)) {
    rt = luaL_checkudata(L, 1, DES_SIM_MT);
    rt_check_open(L, rt);
    nameidx = 2;
  } else
    rt = ldes_runtime_of(L);
  name = luaL_optlstring(L, nameidx, "default", &len);
  rt_charge(L, len >> 4); /* the name is hashed byte by byte */
  g = lua_newuserdatauv(L, sizeof(*g), 1);
  g->seed = rt->seed;
  des_rng_stream(&g->r, rt->seed, name, len);
  lua_pushlstring(L, name, len);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, DES_RNG_MT);
  return 1;
}

/* des.seed_mix(seed, i [, point]) --> the seed of replication i (from 0)
** of an experiment of seed `seed` at the point whose canonical encoding is
** `point` (default ""): experiments' rule (seedmix.h), which
** des.replicate follows too. Seeds are read as 64-bit patterns. */
static int l_seed_mix(lua_State *L) {
  size_t len = 0;
  const char *point = NULL;
  int k;
  for (k = 1; k <= 2; k++)
    if (!lua_isinteger(L, k))
      return luaL_error(L, "seed_mix: %s must be an integer (got %s)",
                        k == 1 ? "seed" : "replication", luaL_typename(L, k));
  if (lua_tointeger(L, 2) < 0)
    return luaL_error(L, "seed_mix: replication must be >= 0 (got %I)",
                      lua_tointeger(L, 2));
  if (!lua_isnoneornil(L, 3)) {
    if (lua_type(L, 3) != LUA_TSTRING)
      return luaL_error(L, "seed_mix: point must be a string (got %s)",
                        luaL_typename(L, 3));
    point = lua_tolstring(L, 3, &len);
    rt_charge(L, len >> 5); /* hashed 8 bytes at a time */
  }
  lua_pushinteger(L,
                  (lua_Integer)seedmix_run((uint64_t)lua_tointeger(L, 1), point,
                                           len, (uint64_t)lua_tointeger(L, 2)));
  return 1;
}

static const luaL_Reg rng_methods[] = {
    {"random", r_random},         {"uniform", r_uniform},
    {"integer", r_integer},       {"exponential", r_exponential},
    {"normal", r_normal},         {"lognormal", r_lognormal},
    {"triangular", r_triangular}, {"bernoulli", r_bernoulli},
    {"choice", r_choice},         {"gamma", r_gamma},
    {"erlang", r_erlang},         {"beta", r_beta},
    {"weibull", r_weibull},       {"poisson", r_poisson},
    {"empirical", r_empirical},   {NULL, NULL}};

static const luaL_Reg module_funcs[] = {{"rng", l_rng}, {NULL, NULL}};

void lrng_open(lua_State *L, int mod) {
  mod = lua_absindex(L, mod);
  luaL_newmetatable(L, DES_RNG_MT);
  ldes_lockmetatable(L, -1, DES_RNG_MT);
  lua_newtable(L);
  luaL_setfuncs(L, rng_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, r_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  ldes_setfuncs(L, mod, module_funcs);
  lua_pushcfunction(L, l_seed_mix); /* des.seed_mix, not a sim method */
  lua_setfield(L, mod, "seed_mix");
  luaL_getmetatable(L, DES_SIM_MT); /* sim:rng too */
  lua_getfield(L, -1, "methods");
  ldes_setfuncs(L, -1, module_funcs);
  lua_pop(L, 2);
}
