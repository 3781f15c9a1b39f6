/*
** hcodes.c -- status codes and errors of the embedding API: the one place
** where the outcomes of the lower layers (sim_*, rt_*, dtime_*) become
** DES_* codes, des_strerror, the message of the last failure, and the
** protected call every entry that runs Lua goes through.
*/
#include "hostint.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dtime.h"

/* {====================================================================
** Codes: the one place where the lower layers' outcomes become DES_*
** ===================================================================== */

/* A simulation outcome (scheduling, cancelling, peeking) as a DES code. */
int host_code_sim(int rc) {
  switch (rc) {
  case SIM_OK:
    return DES_OK;
  case SIM_EMPTY:
    return DES_EMPTY;
  case SIM_STOPPED:
    return DES_STOPPED;
  case SIM_ENOMEM:
    return DES_ENOMEM;
  case SIM_EPAST:
    return DES_EPAST;
  case SIM_ESTALE:
    return DES_ESTALE;
  case SIM_ERUNNING:
    return DES_EBUSY;
  case SIM_ENOCOMP:
  case SIM_ERANGE:
    return DES_EINVAL;
  default: /* SIM_EOVERFLOW */
    return DES_ERANGE;
  }
}

/* A conversion's outcome (dtime_ticks) as a DES code. */
int host_code_dtime(int rc) {
  switch (rc) {
  case DTIME_OK:
    return DES_OK;
  case DTIME_EINF:
  case DTIME_ERANGE:
    return DES_ERANGE;
  default: /* NaN, negative */
    return DES_EINVAL;
  }
}

/* A runtime outcome (rt_run_raw, rt_answer) as a DES code. RT_HANDLER
** gives the C handler's own value back, whatever int it is: it travelled
** beside the outcomes (sim_failure), never inside them. `step`: an empty
** queue is DES_EMPTY for a step, success for a run. */
int host_code_rt(des_host *h, int rc, int step) {
  switch (rc) {
  case RT_OK:
    return DES_OK;
  case RT_EMPTY:
    return step ? DES_EMPTY : DES_OK;
  case RT_STOPPED:
    return h->interrupt ? DES_EINTERRUPT : DES_STOPPED;
  case RT_HANDLER:
    return sim_failure(h->rt->sim, NULL);
  case RT_ERROR:
    return DES_EMODEL;
  case RT_ENOMEM:
    return DES_ENOMEM;
  case RT_ESTALE:
    return DES_ESTALE;
  case RT_EBUSY:
    return DES_EBUSY;
  case RT_EPAST:
    return DES_EPAST;
  default: /* RT_ERANGE */
    return DES_ERANGE;
  }
}

/* }==================================================================== */

/* {====================================================================
** Errors
** ===================================================================== */

const char *des_strerror(int code) {
  switch (code) {
  case DES_OK:
    return "success";
  case DES_EMPTY:
    return "no event left";
  case DES_STOPPED:
    return "stopped by a request";
  case DES_PAUSED:
    return "paused (the run goes on at the next call)";
  case DES_ENOMEM:
    return "not enough memory";
  case DES_EINVAL:
    return "invalid argument";
  case DES_EFILE:
    return "cannot read the model file";
  case DES_ESYNTAX:
    return "the model does not compile";
  case DES_EMODEL:
    return "the model raised an error";
  case DES_EPAST:
    return "time is before the current time";
  case DES_ERANGE:
    return "time is past the simulated clock's range";
  case DES_ESTALE:
    return "stale handle: the event or call is no longer pending";
  case DES_EBUSY:
    return "not allowed while the simulation runs";
  case DES_EMEMLIMIT:
    return "the model reached the memory limit";
  case DES_EBUDGET:
    return "the model used up its instruction budget";
  case DES_EINTERRUPT:
    return "interrupted by the host";
  case DES_ENOTFOUND:
    return "not found";
  case DES_EFULL:
    return "the post queue is full";
  case DES_ECLOSED:
    return "the host takes no more posts";
  case DES_ELATE:
    return "a strict paced run fell behind the wall clock";
  default:
    return "unknown error code";
  }
}

const char *des_version(void) {
  return DESHOST_VERSION;
}

const char *des_last_error(const des_host *h) {
  if (h == NULL)
    return "des_last_error: h is NULL";
  return h->err != NULL ? h->err : "";
}

/* Keep msg (len bytes) followed by suffix as the last error, in the raw
** allocator: it must work when the memory limit is what failed. */
static void host_keep_error(des_host *h, const char *msg, size_t len,
                            const char *suffix) {
  size_t slen = strlen(suffix);
  if (len + slen + 1 > h->errcap) {
    char *p =
        h->allocf(h->allocud, h->err, h->err ? h->errcap : 0, len + slen + 1);
    if (p == NULL)
      return; /* keep the old message rather than none */
    h->err = p;
    h->errcap = len + slen + 1;
  }
  memcpy(h->err, msg, len);
  memcpy(h->err + len, suffix, slen + 1);
}

/* Record an error from a format and return its code. */
int host_fail(des_host *h, int code, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  host_keep_error(h, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1,
                  "");
  return code;
}

/* Turn a failed lua_pcall into a code, keeping the error value on the top
** of the stack (popped) as the message. The limits' flags say whether one
** of them caused it. */
int host_lua_fail(des_host *h, int status) {
  lua_State *L = h->L;
  size_t len = 0;
  const char *msg = lua_tolstring(L, -1, &len);
  int code;
  if (msg == NULL) { /* an error object without __tostring */
    msg = "(an error object that is not a string)";
    len = strlen(msg);
  }
  if (h->interrupt)
    code = DES_EINTERRUPT;
  else if (h->budget_hit)
    code = DES_EBUDGET;
  else if ((h->mem_hit || h->mem_error) &&
           (status == LUA_ERRMEM || strstr(msg, "memory")))
    code = DES_EMEMLIMIT;
  else if (status == LUA_ERRMEM)
    code = DES_ENOMEM;
  else
    code = DES_EMODEL;
  if (code == DES_EMEMLIMIT) {
    char limit[80];
    snprintf(limit, sizeof(limit), " (the host's memory limit is %zu bytes)",
             h->mem_limit);
    host_keep_error(h, msg, len, limit);
  } else
    host_keep_error(h, msg, len, "");
  lua_pop(L, 1);
  return code;
}

/* Message handler: the message and a traceback. */
static int host_msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) { /* __tostring runs protected: it names the object */
    rt_push_error_text(L, 1);
    msg = lua_tostring(L, -1);
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* lua_pcall with a traceback; returns a DES code (the message kept). */
int host_pcall(des_host *h, int nargs, int nresults) {
  lua_State *L = h->L;
  int base = lua_gettop(L) - nargs, status;
  lua_pushcfunction(L, host_msghandler);
  lua_insert(L, base);
  status = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  if (status != LUA_OK)
    return host_lua_fail(h, status);
  return DES_OK;
}

/* Every entry that runs Lua starts here: the limits' flags are per call. */
void host_enter(des_host *h) {
  h->mem_hit = 0;
  h->mem_error = 0;
  h->budget_hit = 0;
  host_clear_error(h);
}

int host_check_open(des_host *h, const char *fname) {
  host_clear_error(h);
  if (h->rt->closed == RT_OPEN)
    return DES_OK;
  return host_fail(h, DES_EINVAL, "%s: closed simulation", fname);
}

/* Leaving a call that was interrupted: the request is served (and with
** the vendored Lua, the hook request withdrawn: threads that took the
** hook drop it at their next count, host_hook). */
void host_leave(des_host *h) {
#ifdef LUA_DESHOST
  lua_asynchook(h->L, LUA_ASYNC_OFF);
  h->interrupt_served = 0;
#endif
  atomic_store(&h->interrupt, 0);
}

/* }==================================================================== */
