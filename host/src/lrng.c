/*
** lrng.c -- Lua binding of random streams: des.rng([name]) and the
** des.rng userdata with its distributions.
**
** A stream is named; its state derives from the simulation's seed and the
** name (rng.h), so adding a stream never shifts another one, and the same
** seed gives the same numbers on every platform and build.
*/
#include <math.h>

#include "ldes.h"
#include "rng.h"

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

/* Uniform in (0, 1): never 0, so log() is safe. */
static double open01(des_rng *r) {
  return ((double)(des_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
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
  lua_pushnumber(L, a + (b - a) * des_rng_double(r));
  return 1;
}

/* r:integer(a, b) --> uniform integer in [a, b], without modulo bias */
static int r_integer(lua_State *L) {
  des_rng *r = check_rng(L);
  lua_Integer a = luaL_checkinteger(L, 2), b = luaL_checkinteger(L, 3);
  uint64_t span, limit, x;
  if (b < a)
    luaL_error(L, "integer: needs a <= b (got %I, %I)", a, b);
  span = (uint64_t)b - (uint64_t)a + 1; /* 0 means the full 2^64 range */
  if (span == 0) {
    lua_pushinteger(L, (lua_Integer)des_rng_next(r));
    return 1;
  }
  limit = UINT64_MAX - UINT64_MAX % span;
  do
    x = des_rng_next(r);
  while (x >= limit);
  lua_pushinteger(L, (lua_Integer)((uint64_t)a + x % span));
  return 1;
}

/* r:exponential(mean) */
static int r_exponential(lua_State *L) {
  des_rng *r = check_rng(L);
  double mean = check_finite(L, 2, "exponential");
  if (!(mean > 0))
    luaL_error(L, "exponential: mean must be > 0 (got %f)", mean);
  lua_pushnumber(L, -mean * log(open01(r)));
  return 1;
}

/* A standard normal by the polar method (no caching: each call draws
** afresh, so streams stay aligned with the calls made). */
static double std_normal(des_rng *r) {
  double u, v, s;
  do {
    u = 2.0 * open01(r) - 1.0;
    v = 2.0 * open01(r) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  return u * sqrt(-2.0 * log(s) / s);
}

/* r:normal(mu, sd) */
static int r_normal(lua_State *L) {
  des_rng *r = check_rng(L);
  double mu = check_finite(L, 2, "normal"), sd = check_finite(L, 3, "normal");
  if (sd < 0)
    luaL_error(L, "normal: sd must be >= 0 (got %f)", sd);
  lua_pushnumber(L, mu + sd * std_normal(r));
  return 1;
}

/* r:lognormal(mu, sigma): exp of a normal(mu, sigma) */
static int r_lognormal(lua_State *L) {
  des_rng *r = check_rng(L);
  double mu = check_finite(L, 2, "lognormal");
  double sigma = check_finite(L, 3, "lognormal");
  if (sigma < 0)
    luaL_error(L, "lognormal: sigma must be >= 0 (got %f)", sigma);
  lua_pushnumber(L, exp(mu + sigma * std_normal(r)));
  return 1;
}

/* r:triangular(low, mode, high) by inversion */
static int r_triangular(lua_State *L) {
  des_rng *r = check_rng(L);
  double lo = check_finite(L, 2, "triangular");
  double mode = check_finite(L, 3, "triangular");
  double hi = check_finite(L, 4, "triangular"), u, c;
  if (!(lo <= mode && mode <= hi && lo < hi))
    luaL_error(L, "triangular: needs low <= mode <= high and low < high");
  u = des_rng_double(r);
  c = (mode - lo) / (hi - lo);
  lua_pushnumber(L, u < c ? lo + sqrt(u * (hi - lo) * (mode - lo))
                          : hi - sqrt((1 - u) * (hi - lo) * (hi - mode)));
  return 1;
}

/* r:bernoulli(p) --> boolean */
static int r_bernoulli(lua_State *L) {
  des_rng *r = check_rng(L);
  double p = check_finite(L, 2, "bernoulli");
  if (p < 0 || p > 1)
    luaL_error(L, "bernoulli: p must be in [0, 1] (got %f)", p);
  lua_pushboolean(L, des_rng_double(r) < p);
  return 1;
}

/* r:choice(weights) --> index i with probability weights[i] / sum */
static int r_choice(lua_State *L) {
  des_rng *r = check_rng(L);
  lua_Integer i, n;
  double total = 0, x;
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (lua_Integer)lua_rawlen(L, 2);
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
  des_runtime *rt;
  int nameidx = 1;
  size_t len;
  const char *name;
  lrng *g;
  if (luaL_testudata(L, 1, DES_SIM_MT)) {
    rt = luaL_checkudata(L, 1, DES_SIM_MT);
    nameidx = 2;
  } else
    rt = rt_runtime_of(L);
  name = luaL_optlstring(L, nameidx, "default", &len);
  g = lua_newuserdatauv(L, sizeof(*g), 1);
  g->seed = rt->seed;
  des_rng_stream(&g->r, rt->seed, name, len);
  lua_pushlstring(L, name, len);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, DES_RNG_MT);
  return 1;
}

static const luaL_Reg rng_methods[] = {
    {"random", r_random},         {"uniform", r_uniform},
    {"integer", r_integer},       {"exponential", r_exponential},
    {"normal", r_normal},         {"lognormal", r_lognormal},
    {"triangular", r_triangular}, {"bernoulli", r_bernoulli},
    {"choice", r_choice},         {NULL, NULL}};

static const luaL_Reg module_funcs[] = {{"rng", l_rng}, {NULL, NULL}};

void lrng_open(lua_State *L, int mod) {
  mod = lua_absindex(L, mod);
  luaL_newmetatable(L, DES_RNG_MT);
  lua_newtable(L);
  luaL_setfuncs(L, rng_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, r_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  ldes_setfuncs(L, mod, module_funcs);
  luaL_getmetatable(L, DES_SIM_MT); /* sim:rng too */
  lua_getfield(L, -1, "methods");
  ldes_setfuncs(L, -1, module_funcs);
  lua_pop(L, 2);
}
