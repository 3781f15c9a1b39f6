/*
** hrun.c -- stepping and running the host's simulation, its clock, units
** and tracing, and the random streams of its seed.
*/
#include "hostint.h"

#include "dtime.h"
#include "rng.h"

/* {====================================================================
** Running
** ===================================================================== */

#define HOST_SWITCH 100    /* not an RT_* code: the pacing changed */
#define HOST_PAUSED 101    /* not an RT_* code: des_pause */
#define HOST_POST_CHUNK 64 /* posts scheduled at once in an unpaced run */

/* A paced run: batch by batch (the events due at one time), sleeping
** until each is due on the wall clock (hpace.c) and scheduling the posts
** that came meanwhile (hpost.c). Returns an RT_* outcome, or RT_ERROR with
** h->run_code set and the message kept (a post that could not be
** delivered, a strict paced run that fell behind). */
static int host_run_paced(des_host *h, des_time limit, int step) {
  rt_runtime *rt = h->rt;
  int rc;
  des_time t;
  for (;;) {
    if (h->pace_factor <= 0)
      return HOST_SWITCH; /* the model or a handler stopped pacing */
    host_pace_start(h);   /* (again after a change of pacing) */
    rc = host_post_schedule(h, SIZE_MAX);
    if (rc != DES_OK) {
      h->run_code = rc;
      return RT_ERROR;
    }
    if (atomic_load(&h->stop_req))
      return RT_STOPPED;
    if (atomic_exchange(&h->pause_req, 0))
      return HOST_PAUSED;
    if (sim_peek(rt->sim, &t) != SIM_OK || (limit >= 0 && t >= limit)) {
      if (limit < 0) /* nothing left to do */
        return step ? RT_EMPTY : RT_OK;
      if (host_pace_wait(h, limit))
        continue;                          /* a post or a stop: look again */
      rc = rt_run_raw(h->L, rt, limit, 0); /* sets the clock to limit */
      if (rc != RT_YIELDED)
        return rc;
      continue;
    }
    if (host_pace_wait(h, t))
      continue;
    rc = host_pace_check(h, t);
    if (rc != DES_OK) {
      h->run_code = rc;
      return RT_ERROR;
    }
    rc = rt_run_raw(h->L, rt, step ? -1 : t, step ? 1 : RT_RUN_THROUGH);
    if (step || (rc != RT_OK && rc != RT_YIELDED))
      return rc;
  }
}

/* An unpaced run: at full speed, returning to schedule posts whenever one
** comes (des_post yields the run: sim_yield), then running on. A backlog
** goes in chunks, each handled (with what it wakes) before the next is
** scheduled, so that the model's inboxes do not fill up with it. */
static int host_run_fast(des_host *h, des_time limit, int step) {
  rt_runtime *rt = h->rt;
  int rc;
  for (;;) {
    des_time now = sim_now(rt->sim);
    int chunked = !step && (limit < 0 || now < limit);
    rc = host_post_schedule(h, chunked ? HOST_POST_CHUNK : SIZE_MAX);
    if (rc != DES_OK) {
      h->run_code = rc;
      return RT_ERROR;
    }
    if (atomic_load(&h->stop_req))
      return RT_STOPPED;
    if (atomic_exchange(&h->pause_req, 0))
      return HOST_PAUSED;
    if (chunked && host_post_ready(h)) { /* more to come: this chunk first */
      rc = rt_run_raw(h->L, rt, now, RT_RUN_THROUGH);
      if (rc != RT_OK && rc != RT_YIELDED)
        return rc;
      continue;
    }
    rc = rt_run_raw(h->L, rt, limit, step);
    if (rc != RT_YIELDED)
      return rc;
    if (h->pace_factor > 0)
      return HOST_SWITCH; /* the model or a handler started pacing */
  }
}

/* A run is over (not paused): the simulation's end hooks run once, with
** the run's outcome. A failure of the post delivery or pacing keeps its
** own message (a hook's error is then dropped). */
static int host_run_end(des_host *h, int rc) {
  if (h->run_code != DES_OK) {
    if (rt_run_at_end(h->L, h->rt, RT_STOPPED) == RT_ERROR)
      lua_pop(h->L, 1);
    return rc;
  }
  return rt_run_at_end(h->L, h->rt, rc);
}

/* Step or run (limit < 0: no limit); map the outcome to a DES code. */
static int host_run(des_host *h, des_time limit, int step, const char *fname) {
  rt_runtime *rt = h->rt;
  int rc;
  host_enter(h);
  if (host_check_open(h, fname) != DES_OK)
    return DES_EINVAL;
  if (sim_running(rt->sim))
    return host_fail(h, DES_EBUSY,
                     "%s: called from inside a handler (a handler may "
                     "schedule events, not step or run)",
                     fname);
  if (limit >= 0 && limit < sim_now(rt->sim))
    return host_fail(h, DES_EPAST,
                     "%s: time %lld is before the current time %lld", fname,
                     (long long)limit, (long long)sim_now(rt->sim));
  h->run_code = DES_OK;
  atomic_store(&h->stop_req, 0);
  do
    rc = h->pace_factor > 0 ? host_run_paced(h, limit, step)
                            : host_run_fast(h, limit, step);
  while (rc == HOST_SWITCH);
  if (rc == HOST_PAUSED) {
    host_leave(h);
    return DES_PAUSED; /* not over: no end hooks */
  }
  if (!step)
    rc = host_run_end(h, rc);
  if (h->run_code != DES_OK)
    rc = h->run_code; /* the message is kept */
  else if (rc == RT_ERROR)
    rc = host_lua_fail(h, LUA_ERRRUN);
  else if (rc == RT_HANDLER) {
    uint32_t comp;
    int v = sim_failure(rt->sim, &comp);
    rc = host_fail(h, host_code_rt(h, rc, step),
                   "%s: C component %d's handler stopped the run at t=%g "
                   "(its code %d)",
                   fname, (int)comp, rt_units(rt, sim_now(rt->sim)), v);
  } else if (rc == RT_STOPPED && h->interrupt)
    rc = host_fail(h, DES_EINTERRUPT, "%s: interrupted by the host at t=%g",
                   fname, rt_units(rt, sim_now(rt->sim)));
  else if (rc < 0)
    rc = host_fail(h, host_code_rt(h, rc, step), "%s: %s", fname,
                   rt_strerror(rc));
  else
    rc = host_code_rt(h, rc, step);
  host_leave(h);
  return rc;
}

int des_step(des_host *h) {
  HOST_CHECK(h);
  return host_run(h, -1, 1, "des_step");
}

int des_run(des_host *h) {
  HOST_CHECK(h);
  return host_run(h, -1, 0, "des_run");
}

int des_run_until(des_host *h, des_time t) {
  HOST_CHECK(h);
  if (t < 0)
    return host_fail(h, DES_EINVAL, "des_run_until: t is negative (%lld)",
                     (long long)t);
  return host_run(h, t, 0, "des_run_until");
}

int des_peek(des_host *h, des_time *when) {
  des_time t;
  int rc;
  HOST_CHECK(h);
  if (host_check_open(h, "des_peek") != DES_OK)
    return DES_EINVAL;
  rc = sim_peek(h->rt->sim, &t);
  if (rc != SIM_OK)
    return host_code_sim(rc);
  if (when != NULL)
    *when = t;
  return DES_OK;
}

des_time des_now(const des_host *h) {
  if (h == NULL)
    return 0;
  return rt_now(h->rt); /* closed: the close time */
}

size_t des_pending(const des_host *h) {
  if (h == NULL)
    return 0;
  return h->rt->closed == RT_OPEN ? sim_pending(h->rt->sim) : 0;
}

uint64_t des_events_handled(const des_host *h) {
  if (h == NULL)
    return 0;
  return h->rt->closed == RT_OPEN ? sim_handled(h->rt->sim) : 0;
}

int64_t des_resolution(const des_host *h) {
  return h != NULL ? h->rt->resolution : 0;
}

double des_units(const des_host *h, des_time ticks) {
  return h != NULL ? dtime_units(ticks, h->rt->resolution) : 0.0;
}

int des_ticks(const des_host *hc, double units, des_time *out) {
  des_host *h = (des_host *)hc;
  des_time t;
  int rc;
  HOST_CHECK(h);
  host_clear_error(h);
  if (out == NULL)
    return host_fail(h, DES_EINVAL, "des_ticks: out is NULL");
  rc = dtime_ticks(units, h->rt->resolution, &t);
  if (rc != DTIME_OK)
    return host_fail(h, host_code_dtime(rc), "des_ticks: units %g is %s", units,
                     dtime_strerror(rc));
  *out = t;
  return DES_OK;
}

/* The trace function: a C closure that hands each line to the embedder. */
static int host_trace_line(lua_State *L) {
  des_host *h = lua_touserdata(L, lua_upvalueindex(1));
  if (h->trace_fn != NULL)
    h->trace_fn(h->trace_ctx, lua_tostring(L, 1));
  return 0;
}

static int host_set_trace(lua_State *L) {
  des_host *h = lua_touserdata(L, 1);
  rt_push_object(L, h->rt);
  if (h->trace_fn != NULL) {
    lua_pushlightuserdata(L, h);
    lua_pushcclosure(L, host_trace_line, 1);
  } else
    lua_pushnil(L);
  lua_setiuservalue(L, -2, 3);
  rt_set_trace(h->rt, h->trace_fn != NULL ? RT_TRACE_LUA : RT_TRACE_OFF);
  return 0;
}

int des_set_trace(des_host *h, des_trace_fn fn, void *ctx) {
  HOST_CHECK(h);
  if (host_check_open(h, "des_set_trace") != DES_OK)
    return DES_EINVAL;
  h->trace_fn = fn;
  h->trace_ctx = ctx;
  lua_pushcfunction(h->L, host_set_trace);
  lua_pushlightuserdata(h->L, h);
  return host_pcall(h, 1, 0);
}

void des_shuffle_ties(des_host *h, int on, uint64_t seed) {
  if (h != NULL && h->rt->closed == RT_OPEN)
    sim_set_shuffle(h->rt->sim, on, seed);
}

/* }==================================================================== */

/* {====================================================================
** Random streams
** ===================================================================== */

des_rng *des_rng_new(des_host *h, const char *name) {
  des_rng *r;
  if (h == NULL)
    return NULL;
  if (name == NULL)
    name = "default"; /* as des.rng() */
  r = host_realloc(h, NULL, 0, sizeof(*r));
  if (r != NULL)
    des_rng_stream(r, h->rt->seed, name, strlen(name));
  return r;
}

void des_rng_free(des_host *h, des_rng *r) {
  if (h != NULL && r != NULL)
    host_realloc(h, r, sizeof(*r), 0);
}

/* }==================================================================== */
