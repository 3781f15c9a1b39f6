/*
** hpace.c -- paced runs: simulated time tied to the wall clock.
**
** A paced run maps model time to wall time from an anchor (wall0, sim0)
** taken at its first paced run: model time t is due at wall0 + (t - sim0)
** / (resolution * factor) seconds. The run loop (hrun.c) sleeps until an
** event's wall time with ppoll on the wake fd (hpost.c), so that a post
** or des_stop wakes it at once, then measures how late it is. Pacing
** decides when events are handled, never which or in what order: a paced
** run handles the same events as an unpaced one with the same inputs.
*/
#define _GNU_SOURCE /* ppoll */
#include "hostint.h"

#include <lauxlib.h>

#include <math.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#define HPACE_LATE_NS 1000000 /* later than this counts as late (1 ms) */
#define HPACE_MIN 1e-9        /* the factors a run may be paced by */
#define HPACE_MAX 1e9

/* Is factor a valid pacing (0: off), strict a valid tolerance? */
static int hpace_valid(double factor, double strict) {
  return (factor == 0 || (factor >= HPACE_MIN && factor <= HPACE_MAX)) &&
         strict >= 0 && !isinf(strict);
}

int64_t host_clock_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts); /* async-signal-safe */
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Set the pacing; a run in progress yields, so that the run loop (hrun.c)
** switches to it at once, anchored at the current time. */
static void hpace_set(des_host *h, double factor, double strict) {
  h->pace_factor = factor;
  h->pace_strict = strict;
  h->pace_anchored = 0;
  memset(&h->pace_stats, 0, sizeof(h->pace_stats));
  h->pace_stats.factor = factor;
  if (h->rt != NULL && h->rt->sim != NULL && sim_running(h->rt->sim))
    sim_yield(h->rt->sim);
}

/* The registry's pacing function (LDES_PACE_KEY in ldes.h), for the
** model: ("realtime", rt, factor | false | nil, strict | nil) sets the
** pacing of the host's simulation; ("lateness", rt) returns the worst
** lateness in wall seconds, the number of late batches and of batches. */
static int hpace_lua(lua_State *L) {
  des_host *h = des_host_of(L);
  const char *what = lua_tostring(L, 1);
  if (h == NULL || lua_touserdata(L, 2) != (void *)h->rt)
    return luaL_error(L, "%s: only the host's own simulation is paced", what);
  if (strcmp(what, "realtime") == 0) {
    double factor = 0, strict = 0;
    if (lua_toboolean(L, 3)) {
      factor = (double)luaL_checknumber(L, 3);
      if (!hpace_valid(factor, 0) || factor == 0)
        return luaL_error(L,
                          "realtime: factor must be a number from 1e-9 to "
                          "1e9 (model units per wall second) or false (got "
                          "%f)",
                          factor);
    }
    if (!lua_isnoneornil(L, 4)) {
      strict = (double)luaL_checknumber(L, 4);
      if (!hpace_valid(0, strict))
        return luaL_error(L,
                          "realtime: strict must be a finite number >= 0 "
                          "(wall seconds; got %f)",
                          strict);
    }
    hpace_set(h, factor, strict);
    return 0;
  }
  lua_pushnumber(L, (lua_Number)h->pace_stats.worst);
  lua_pushinteger(L, (lua_Integer)h->pace_stats.late);
  lua_pushinteger(L, (lua_Integer)h->pace_stats.batches);
  return 3;
}

/* Protected: registry[LDES_PACE_KEY] = hpace_lua */
static int hpace_register(lua_State *L) {
  lua_pushcfunction(L, hpace_lua);
  lua_setfield(L, LUA_REGISTRYINDEX, LDES_PACE_KEY);
  return 0;
}

int host_pace_init(des_host *h, const des_config *cfg) {
  double factor = cfg->realtime, strict = cfg->realtime_strict;
  if (!hpace_valid(factor, strict))
    return DES_EINVAL;
  hpace_set(h, factor, strict);
  lua_pushcfunction(h->L, hpace_register);
  return host_pcall(h, 0, 0);
}

int des_set_realtime(des_host *h, double factor, double strict) {
  host_enter(h);
  if (!hpace_valid(factor, strict))
    return host_fail(h, DES_EINVAL,
                     "set_realtime: factor %g must be 0 or from 1e-9 to 1e9, "
                     "strictness %g a finite number >= 0",
                     factor, strict);
  hpace_set(h, factor, strict);
  return DES_OK;
}

void des_realtime_stats(const des_host *h, des_realtime_info *out) {
  *out = h->pace_stats;
}

/* Anchor the wall clock to the simulated clock on the first paced run
** after des_set_realtime (later runs keep the anchor: the clock stays tied
** to the wall clock across des_run_until calls), or after a change of
** pacing. Makes the wake fd, so that des_stop can wake the sleep. */
void host_pace_start(des_host *h) {
  if (!h->pace_anchored) {
    h->pace_wall0 = host_clock_ns();
    h->pace_sim0 = sim_now(h->rt->sim);
    h->pace_anchored = 1;
    (void)host_post_open(h); /* without it, sleeps end at their deadline */
  }
}

/* Model ticks -> wall nanoseconds since the anchor, and back. */
static double hpace_ns_per_tick(des_host *h) {
  return 1e9 / ((double)h->rt->resolution * h->pace_factor);
}

/* The wall time (ns) at which model time t is due, saturated: a slow
** factor with a far time is "never" (INT64_MAX), not an overflow. */
static int64_t hpace_deadline(des_host *h, des_time t) {
  double d =
      (double)h->pace_wall0 + (double)(t - h->pace_sim0) * hpace_ns_per_tick(h);
  if (!(d < 9.2e18))
    return INT64_MAX;
  return d > -9.2e18 ? (int64_t)d : INT64_MIN;
}

/* The simulated time matching wall time wall_ns (for a post's arrival). */
des_time host_pace_sim_time(des_host *h, int64_t wall_ns) {
  double t;
  if (!h->pace_anchored || wall_ns <= h->pace_wall0)
    return sim_now(h->rt->sim);
  t = (double)h->pace_sim0 +
      (double)(wall_ns - h->pace_wall0) / hpace_ns_per_tick(h);
  return t >= (double)DES_TIME_MAX ? DES_TIME_MAX : (des_time)t;
}

/* Sleep until simulated time t is due on the wall clock. Returns 0 when it
** is, 1 when woken before by a post or des_stop (the caller looks and
** calls again). Sleeps with ppoll on the wake fd: no spinning. */
int host_pace_wait(des_host *h, des_time t) {
  int64_t deadline = hpace_deadline(h, t);
  int fd = host_post_fd(h);
  for (;;) {
    int64_t now = host_clock_ns(), left;
    struct pollfd p;
    struct timespec ts;
    if (now >= deadline)
      return 0;
    if (atomic_load(&h->stop_req) || host_post_ready(h))
      return 1;
    left = deadline - now;
    ts.tv_sec = (time_t)(left / 1000000000);
    ts.tv_nsec = (long)(left % 1000000000);
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    if (ppoll(&p, fd >= 0 ? 1 : 0, &ts, NULL) > 0 && (p.revents & POLLIN))
      return 1;
  }
}

/* Measure how late the batch at t starts; in strict mode, fail past the
** tolerance, naming the time and how late it is. */
int host_pace_check(des_host *h, des_time t) {
  des_realtime_info *st = &h->pace_stats;
  int64_t late = host_clock_ns() - hpace_deadline(h, t);
  double s = late > 0 ? (double)late / 1e9 : 0;
  st->batches++;
  st->total += s;
  if (late > HPACE_LATE_NS)
    st->late++;
  if (s > st->worst) {
    st->worst = s;
    st->worst_when = t;
  }
  if (h->pace_strict > 0 && s > h->pace_strict)
    return host_fail(h, DES_ELATE,
                     "realtime: the events at t=%g [%lld] are %.3f ms late "
                     "on the wall clock (strict tolerance %.3f ms, factor "
                     "%g, %zu events pending)",
                     rt_units(h->rt, t), (long long)t, s * 1e3,
                     h->pace_strict * 1e3, h->pace_factor,
                     sim_pending(h->rt->sim));
  return DES_OK;
}
