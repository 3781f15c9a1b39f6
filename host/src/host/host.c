/*
** host.c -- the embedding API (deshost.h): a Lua state, its default
** simulation and runtime as one object, with the limits an embedder needs
** to run models it does not trust.
**
** Every call that runs Lua does so inside lua_pcall, so no error escapes
** to the embedder: a failure becomes a DES_E* code and a message kept in
** the host (des_last_error). The limits:
**   - memory: every allocation of the host (Lua, the wheel, the runtime)
**     goes through host_alloc, which refuses to grow past mem_limit; Lua
**     turns the refusal into a memory error in the model.
**   - instructions: a count hook (every HOST_HOOK_COUNT instructions, on
**     the main thread, inherited by every coroutine created after it)
**     charges the budget and raises an error once it is spent.
**   - interrupts: des_interrupt sets a flag and a hook on the running
**     coroutine, which raises "interrupted by the host" at once.
*/
#include "deshost.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lualib.h>

#include "ldes.h"
#include "rng.h"

#define HOST_HOOK_COUNT 1000 /* instructions between budget checks */
#define HOST_DEFAULT_RESOLUTION 1000000000

/* A C component as the simulation sees it: the embedder's handler. */
typedef struct host_component {
  des_host *h;
  des_handler fn;
  void *ctx;
  int id;
  size_t size; /* of this record, name included */
  char name[];
} host_component;

struct des_host {
  lua_State *L;
  des_runtime *rt; /* the default simulation */
  des_allocf allocf;
  void *allocud;
  size_t mem_used, mem_limit;
  size_t reserve; /* room over the limit for the error path, once hit */
  int mem_hit;    /* refusals in a row; >= 2: the reserve is open */
  int mem_error;  /* a memory error was raised in this call */
  uint64_t max_steps, steps;
  int budget_hit;
  volatile sig_atomic_t interrupt;
  lua_State *volatile interrupt_co; /* the coroutine to interrupt */
  int sandbox;
  host_component **comps;
  int ncomps, capcomps;
  des_trace_fn trace_fn;
  void *trace_ctx;
  char *err; /* the last error message (raw allocator, not counted) */
  size_t errcap;
};

static void host_hook(lua_State *L, lua_Debug *ar);
static void host_hook_soon(des_host *h);

/* {====================================================================
** Memory: the counting allocator
** ===================================================================== */

/* lua_Alloc over the embedder's allocator: counts what the host holds and
** refuses to grow past the limit (Lua then collects and retries once,
** and raises a memory error in the model if that is not enough). Once the
** retry failed too, a reserve over the limit lets the error path (the
** failure report, closing the task, its traceback) run to the end, so that
** the failed task lets go of what it held. The reserve closes again as soon
** as Lua code runs after the error (the model caught it, or the host moved
** on to other work): host_hook_soon makes the count hook fire at the next
** instruction, and host_hook closes it; a model that catches the error
** gets the same cap as before, not the cap plus the reserve. */
static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  des_host *h = ud;
  size_t old = ptr != NULL ? osize : 0;
  void *p;
  if (nsize == 0) {
    h->allocf(h->allocud, ptr, osize, 0);
    h->mem_used -= old;
    return NULL;
  }
  if (h->mem_limit != 0 && nsize > old &&
      h->mem_used - old + nsize >
          h->mem_limit + (h->mem_hit >= 2 ? h->reserve : 0)) {
    /* the 2nd in a row: Lua's retry after a full GC failed, so Lua
       raises a memory error and the reserve opens for its error path */
    if (++h->mem_hit == 2) {
      h->mem_error = 1;
      host_hook_soon(h);
    }
    return NULL;
  }
  p = h->allocf(h->allocud, ptr, osize, nsize);
  if (p != NULL) {
    h->mem_used = h->mem_used - old + nsize;
    if (h->mem_hit == 1) /* the collection made room: no error after all */
      h->mem_hit = 0;
  }
  return p;
}

des_host *des_host_of(lua_State *L) {
  void *ud;
  if (L == NULL || lua_getallocf(L, &ud) != host_alloc)
    return NULL;
  return ud;
}

size_t des_memory(const des_host *h) {
  return h->mem_used;
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
  default:
    return "unknown error code";
  }
}

const char *des_version(void) {
  return DESHOST_VERSION;
}

const char *des_last_error(const des_host *h) {
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
static int host_fail(des_host *h, int code, const char *fmt, ...) {
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
static int host_lua_fail(des_host *h, int status) {
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
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)",
                            luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* lua_pcall with a traceback; returns a DES code (the message kept). */
static int host_pcall(des_host *h, int nargs, int nresults) {
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
static void host_enter(des_host *h) {
  h->mem_hit = 0;
  h->mem_error = 0;
  h->budget_hit = 0;
  if (h->err != NULL)
    h->err[0] = '\0';
}

/* Leaving a call that was interrupted: the request is served. */
static void host_leave(des_host *h) {
  h->interrupt = 0;
}

/* }==================================================================== */

/* {====================================================================
** Instruction budget and interrupts
** ===================================================================== */

/* The thread running Lua now (for a hook to reach it at once): the
** innermost coroutine with the vendored Lua, the running task otherwise. */
static lua_State *host_running(des_host *h) {
#ifdef LUA_DESHOST
  return lua_runningthread(h->L);
#else
  return h->rt->G->running != NULL ? h->rt->G->running : h->L;
#endif
}

/* The count hook. Charges the instructions since the last call to the
** budget; raises when the budget is spent or an interrupt is asked for,
** and then fires at every instruction so that a model that catches the
** error with pcall meets it again at once. Without either, it removes
** itself (it was set on a coroutine only to deliver an interrupt).
** With the vendored Lua (LUA_DESHOST) it also fires inside the C loops of
** the libraries (string.rep, patterns, table.move, sort, ...), and a
** coroutine runs under its resumer's hook, so an interrupt is raised in
** whichever thread meets it first. With the system's Lua only the thread
** des_interrupt set it on raises. */
static void host_hook(lua_State *L, lua_Debug *ar) {
  des_host *h = des_host_of(L);
  (void)ar;
  if (h == NULL)
    return;
  if (h->mem_hit >= 2) /* Lua runs again after a memory error: it was */
    h->mem_hit = 0;    /* handled, and the reserve closes */
#ifdef LUA_DESHOST
  if (h->interrupt) {
#else
  if (h->interrupt && L == h->interrupt_co) {
#endif
    lua_sethook(L, host_hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "interrupted by the host");
  }
  if (h->max_steps == 0) {
    lua_sethook(L, NULL, 0, 0);
    if (L != h->L && !h->interrupt && lua_gethook(h->L) == host_hook)
      lua_sethook(h->L, NULL, 0, 0); /* a one-shot of host_hook_soon */
    return;
  }
  h->steps += (uint64_t)lua_gethookcount(L);
  if (h->steps >= h->max_steps) {
    h->budget_hit = 1;
    lua_sethook(L, host_hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "instruction budget of %I exhausted",
               (lua_Integer)h->max_steps);
  }
  if (lua_gethookcount(L) != HOST_HOOK_COUNT)
    lua_sethook(L, host_hook, LUA_MASKCOUNT, HOST_HOOK_COUNT);
  if (L != h->L && !h->interrupt && lua_gethookcount(h->L) != HOST_HOOK_COUNT)
    lua_sethook(h->L, host_hook, LUA_MASKCOUNT, HOST_HOOK_COUNT);
}

/* Make host_hook run at the next instruction of the running thread and of
** every thread resumed from the main one. Safe inside the allocator and
** from another thread, like des_interrupt. */
static void host_hook_soon(des_host *h) {
  if (h->L == NULL || h->rt == NULL) /* still being made: no Lua runs */
    return;
  lua_sethook(host_running(h), host_hook, LUA_MASKCOUNT, 1);
  lua_sethook(h->L, host_hook, LUA_MASKCOUNT, 1);
}

/* The budget's hook goes on the main thread and on the running one (when
** called from a C function during a run); with the vendored Lua every
** other thread takes it from its resumer when it runs next, tasks and
** pooled threads included (tasks are resumed from the main thread). */
void des_set_budget(des_host *h, uint64_t max_steps) {
  h->max_steps = max_steps;
  h->steps = 0;
  h->budget_hit = 0;
  if (max_steps != 0) {
    lua_sethook(h->L, host_hook, LUA_MASKCOUNT, HOST_HOOK_COUNT);
    lua_sethook(host_running(h), host_hook, LUA_MASKCOUNT, HOST_HOOK_COUNT);
  }
}

void des_interrupt(des_host *h) {
  lua_State *co = host_running(h);
  h->interrupt_co = co;
  h->interrupt = 1;
  sim_stop(h->rt->sim);
  /* lua_sethook is safe here: lua.c uses it from its SIGINT handler */
  lua_sethook(co, host_hook, LUA_MASKCOUNT, 1);
}

void des_stop(des_host *h) {
  sim_stop(h->rt->sim);
}

/* }==================================================================== */

/* {====================================================================
** Creating and freeing
** ===================================================================== */

void des_config_init(des_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->resolution = HOST_DEFAULT_RESOLUTION;
}

/* The libraries of a sandbox: what computes, nothing that touches files,
** processes, the host's memory or native code. */
static void host_open_sandbox(lua_State *L) {
  static const luaL_Reg libs[] = {
      {LUA_GNAME, luaopen_base},          {LUA_LOADLIBNAME, luaopen_package},
      {LUA_COLIBNAME, luaopen_coroutine}, {LUA_TABLIBNAME, luaopen_table},
      {LUA_STRLIBNAME, luaopen_string},   {LUA_MATHLIBNAME, luaopen_math},
      {LUA_UTF8LIBNAME, luaopen_utf8},    {NULL, NULL}};
  const luaL_Reg *lib;
  for (lib = libs; lib->func != NULL; lib++) {
    luaL_requiref(L, lib->name, lib->func, 1);
    lua_pop(L, 1);
  }
  /* no file loading, no binary chunks: load() takes text only */
  if (luaL_dostring(L,
                    "local load = load\n"
                    "_G.load = function(chunk, name, _, env)\n"
                    "  return load(chunk, name, 't', env)\n"
                    "end\n"
                    "_G.dofile, _G.loadfile = nil, nil\n"
                    "package.loadlib, package.path, package.cpath = "
                    "nil, '', ''\n"
                    "package.searchers = { package.searchers[1] }\n") != LUA_OK)
    lua_error(L);
}

/* Protected part of des_host_new: libraries, the des module, and the
** default simulation with the configured seed and resolution. */
static int host_open(lua_State *L) {
  des_host *h = lua_touserdata(L, 1);
  const des_config *cfg = lua_touserdata(L, 2);
  if (cfg->sandbox)
    host_open_sandbox(L);
  else {
    luaL_openlibs(L);
    if (cfg->lua_path != NULL) {
      lua_getglobal(L, "package");
      lua_pushfstring(L, "%s;", cfg->lua_path);
      lua_getfield(L, -2, "path");
      lua_concat(L, 2);
      lua_setfield(L, -2, "path");
      lua_pop(L, 1);
    }
  }
  luaL_requiref(L, "des", luaopen_des, 0);
  lua_getfield(L, -1, "new");
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, (lua_Integer)cfg->seed);
  lua_setfield(L, -2, "seed");
  lua_pushinteger(L, cfg->resolution);
  lua_setfield(L, -2, "resolution");
  lua_call(L, 1, 1);
  ldes_set_default(L, -1);
  h->rt = lua_touserdata(L, -1);
  return 0;
}

int des_host_new(des_host **out, const des_config *cfg) {
  des_config def;
  des_allocf allocf;
  des_host *h;
  int status;
  *out = NULL;
  if (cfg == NULL) {
    des_config_init(&def);
    cfg = &def;
  }
  if (cfg->resolution < 1)
    return DES_EINVAL;
  allocf = cfg->allocf != NULL ? cfg->allocf : des_default_alloc;
  h = allocf(cfg->allocud, NULL, 0, sizeof(*h));
  if (h == NULL)
    return DES_ENOMEM;
  memset(h, 0, sizeof(*h));
  h->allocf = allocf;
  h->allocud = cfg->allocud;
  h->mem_limit = cfg->mem_limit;
  h->reserve =
      cfg->mem_limit / 8 > 256 * 1024 ? cfg->mem_limit / 8 : 256 * 1024;
  h->sandbox = cfg->sandbox;
  h->L = lua_newstate(host_alloc, h);
  if (h->L == NULL) {
    allocf(h->allocud, h, sizeof(*h), 0);
    return DES_ENOMEM;
  }
  lua_pushcfunction(h->L, host_open);
  lua_pushlightuserdata(h->L, h);
  lua_pushlightuserdata(h->L, (void *)cfg);
  status = lua_pcall(h->L, 2, 0, 0);
  if (status != LUA_OK) {
    h->rt = NULL;
    des_host_free(h);
    return status == LUA_ERRMEM ? DES_ENOMEM : DES_EINVAL;
  }
  if (cfg->max_steps != 0)
    des_set_budget(h, cfg->max_steps);
  *out = h;
  return DES_OK;
}

void des_host_free(des_host *h) {
  int i;
  des_allocf allocf;
  if (h == NULL)
    return;
  if (h->rt != NULL && sim_running(h->rt->sim))
    return;        /* from inside a handler: refused (see deshost.h) */
  lua_close(h->L); /* collects every simulation and task */
  for (i = 0; i < h->ncomps; i++)
    h->allocf(h->allocud, h->comps[i], h->comps[i]->size, 0);
  if (h->comps != NULL)
    h->allocf(h->allocud, h->comps, (size_t)h->capcomps * sizeof(*h->comps), 0);
  if (h->err != NULL)
    h->allocf(h->allocud, h->err, h->errcap, 0);
  allocf = h->allocf;
  allocf(h->allocud, h, sizeof(*h), 0);
}

lua_State *des_lua(des_host *h) {
  return h->L;
}

/* }==================================================================== */

/* {====================================================================
** Models
** ===================================================================== */

typedef struct load_args {
  const char *path, *code, *chunkname;
  int argc;
  const char *const *argv;
  int status; /* of the load itself */
} load_args;

/* Protected part of des_load_*: compile, then spawn as task "main". */
static int host_load(lua_State *L) {
  des_host *h = lua_touserdata(L, 1);
  load_args *a = lua_touserdata(L, 2);
  const char *mode = h->sandbox ? "t" : "bt";
  int i;
  if (a->path != NULL)
    a->status = luaL_loadfilex(L, a->path, mode);
  else
    a->status =
        luaL_loadbufferx(L, a->code, strlen(a->code), a->chunkname, mode);
  if (a->status != LUA_OK)
    return lua_error(L);
  luaL_checkstack(L, a->argc + 2, "too many model arguments");
  lua_pushliteral(L, "main");
  for (i = 0; i < a->argc; i++)
    lua_pushstring(L, a->argv[i]);
  rt_spawn(L, h->rt, -a->argc - 2, a->argc, -a->argc - 1, 0);
  return 0;
}

static int host_load_common(des_host *h, load_args *a) {
  int rc;
  host_enter(h);
  if (sim_running(h->rt->sim))
    return host_fail(h, DES_EBUSY, "load: not from inside a handler");
  a->status = LUA_OK;
  lua_pushcfunction(h->L, host_load);
  lua_pushlightuserdata(h->L, h);
  lua_pushlightuserdata(h->L, a);
  rc = host_pcall(h, 2, 0);
  if (rc == DES_EMODEL && a->status == LUA_ERRFILE)
    rc = DES_EFILE;
  else if (rc == DES_EMODEL && a->status == LUA_ERRSYNTAX)
    rc = DES_ESYNTAX;
  host_leave(h);
  return rc;
}

int des_load_file(des_host *h, const char *path, int argc,
                  const char *const *argv) {
  load_args a;
  if (path == NULL || argc < 0 || (argc > 0 && argv == NULL))
    return host_fail(h, DES_EINVAL, "load_file: no path, or bad arguments");
  memset(&a, 0, sizeof(a));
  a.path = path;
  a.argc = argc;
  a.argv = argv;
  return host_load_common(h, &a);
}

int des_load_string(des_host *h, const char *code, const char *chunkname) {
  load_args a;
  if (code == NULL)
    return host_fail(h, DES_EINVAL, "load_string: no code");
  memset(&a, 0, sizeof(a));
  a.code = code;
  a.chunkname = chunkname != NULL ? chunkname : "=model";
  return host_load_common(h, &a);
}

int des_dostring(des_host *h, const char *code, int nresults) {
  int top = lua_gettop(h->L), rc, status;
  host_enter(h);
  if (code == NULL)
    return host_fail(h, DES_EINVAL, "dostring: no code");
  status = luaL_loadbufferx(h->L, code, strlen(code), "=(dostring)",
                            h->sandbox ? "t" : "bt");
  if (status != LUA_OK) {
    rc = host_lua_fail(h, status);
    host_leave(h);
    return rc == DES_EMODEL ? DES_ESYNTAX : rc;
  }
  rc = host_pcall(h, 0, nresults);
  if (rc != DES_OK)
    lua_settop(h->L, top);
  host_leave(h);
  return rc;
}

int des_pcall(des_host *h, int nargs, int nresults) {
  int rc;
  host_enter(h);
  if (nargs < 0 || lua_gettop(h->L) < nargs + 1)
    return host_fail(h, DES_EINVAL, "pcall: missing function or arguments");
  rc = host_pcall(h, nargs, nresults);
  host_leave(h);
  return rc;
}

int des_call(des_host *h, const char *name, int nargs, int nresults) {
  lua_State *L = h->L;
  host_enter(h);
  if (name == NULL || nargs < 0 || lua_gettop(L) < nargs)
    return host_fail(h, DES_EINVAL, "call: no name, or missing arguments");
  if (lua_getglobal(L, name) != LUA_TFUNCTION) {
    lua_pop(L, nargs + 1);
    return host_fail(h, DES_ENOTFOUND, "call: no global function '%s'", name);
  }
  lua_insert(L, -nargs - 1);
  return des_pcall(h, nargs, nresults);
}

int des_eval_number(des_host *h, const char *expr, double *out) {
  lua_State *L = h->L;
  int rc;
  if (expr == NULL || out == NULL)
    return host_fail(h, DES_EINVAL, "eval_number: no expression");
  lua_pushfstring(L, "return %s", expr);
  rc = des_dostring(h, lua_tostring(L, -1), 1);
  lua_remove(L, rc == DES_OK ? -2 : -1);
  if (rc != DES_OK)
    return rc;
  if (!lua_isnumber(L, -1)) {
    rc = host_fail(h, DES_EINVAL, "eval_number: '%s' is a %s, not a number",
                   expr, luaL_typename(L, -1));
    lua_pop(L, 1);
    return rc;
  }
  *out = (double)lua_tonumber(L, -1);
  lua_pop(L, 1);
  return DES_OK;
}

/* Protected: _G[name] = fn */
static int host_register(lua_State *L) {
  lua_setglobal(L, lua_tostring(L, 1));
  return 0;
}

int des_register(des_host *h, const char *name, lua_CFunction fn) {
  int rc;
  host_enter(h);
  if (name == NULL || fn == NULL)
    return host_fail(h, DES_EINVAL, "register: no name or no function");
  lua_pushcfunction(h->L, host_register);
  lua_pushstring(h->L, name);
  lua_pushcfunction(h->L, fn);
  rc = host_pcall(h, 2, 0);
  host_leave(h);
  return rc;
}

/* }==================================================================== */

/* {====================================================================
** Running
** ===================================================================== */

/* Step or run (limit < 0: no limit); map the outcome to a DES code. */
static int host_run(des_host *h, des_time limit, int step) {
  des_runtime *rt = h->rt;
  int rc;
  host_enter(h);
  if (sim_running(rt->sim))
    return host_fail(h, DES_EBUSY, "run: called from inside a handler");
  if (limit >= 0 && limit < sim_now(rt->sim))
    return host_fail(h, DES_EPAST,
                     "run_until: time %lld is before the current time %lld",
                     (long long)limit, (long long)sim_now(rt->sim));
  rc = rt_run_raw(h->L, rt, limit, step);
  if (rc == RT_RUN_ERROR)
    rc = host_lua_fail(h, LUA_ERRRUN);
  else if (rc == SIM_EMPTY)
    rc = step ? DES_EMPTY : DES_OK;
  else if (rc == 1 && !step)
    rc = DES_STOPPED;
  else if (rc == WHEEL_ENOMEM)
    rc = host_fail(h, DES_ENOMEM, "run: not enough memory for the queue");
  else if (rc != 0 && h->err != NULL && h->err[0] == '\0')
    host_fail(h, rc, "run: stopped by a component's handler (code %d)", rc);
  if (h->interrupt && rc == DES_STOPPED) {
    rc = host_fail(h, DES_EINTERRUPT, "run: interrupted by the host at t=%g",
                   rt_units(rt, sim_now(rt->sim)));
  }
  host_leave(h);
  return rc;
}

int des_step(des_host *h) {
  return host_run(h, -1, 1);
}

int des_run(des_host *h) {
  return host_run(h, -1, 0);
}

int des_run_until(des_host *h, des_time t) {
  if (t < 0)
    return host_fail(h, DES_EINVAL, "run_until: negative time %lld",
                     (long long)t);
  return host_run(h, t, 0);
}

int des_peek(des_host *h, des_time *when) {
  des_time t;
  if (sim_peek(h->rt->sim, &t) != 0)
    return DES_EMPTY;
  if (when != NULL)
    *when = t;
  return DES_OK;
}

des_time des_now(const des_host *h) {
  return sim_now(h->rt->sim);
}

size_t des_pending(const des_host *h) {
  return sim_pending(h->rt->sim);
}

int64_t des_resolution(const des_host *h) {
  return h->rt->resolution;
}

double des_units(const des_host *h, des_time ticks) {
  return (double)rt_units(h->rt, ticks);
}

/* Protected: ticks of the number at 1 (rt_check_duration raises). */
static int host_ticks(lua_State *L) {
  des_host *h = lua_touserdata(L, 2);
  des_time *out = lua_touserdata(L, 3);
  *out = rt_check_duration(L, h->rt, 1, "ticks");
  return 0;
}

int des_ticks(const des_host *hc, double units, des_time *out) {
  des_host *h = (des_host *)hc;
  int rc;
  lua_pushcfunction(h->L, host_ticks);
  lua_pushnumber(h->L, units);
  lua_pushlightuserdata(h->L, h);
  lua_pushlightuserdata(h->L, out);
  rc = lua_pcall(h->L, 3, 0, 0);
  if (rc != LUA_OK) {
    rc = host_lua_fail(h, rc);
    return rc == DES_EMODEL
               ? (units < 0 || units != units ? DES_EINVAL : DES_ERANGE)
               : rc;
  }
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
  h->trace_fn = fn;
  h->trace_ctx = ctx;
  lua_pushcfunction(h->L, host_set_trace);
  lua_pushlightuserdata(h->L, h);
  return host_pcall(h, 1, 0);
}

void des_shuffle_ties(des_host *h, int on, uint64_t seed) {
  sim_set_shuffle(h->rt->sim, on, seed);
}

/* }==================================================================== */

/* {====================================================================
** Random streams
** ===================================================================== */

des_rng *des_rng_new(des_host *h, const char *name) {
  des_rng *r;
  if (name == NULL)
    name = "default"; /* as des.rng() */
  r = host_alloc(h, NULL, 0, sizeof(*r));
  if (r != NULL)
    des_rng_stream(r, h->rt->seed, name, strlen(name));
  return r;
}

void des_rng_free(des_host *h, des_rng *r) {
  if (r != NULL)
    host_alloc(h, r, sizeof(*r), 0);
}

/* }==================================================================== */

/* {====================================================================
** C components
** ===================================================================== */

/* The simulation's handler for every C component: decode a call from a
** Lua task, then hand the event to the embedder. */
static int host_dispatch(des_sim *sim, void *ctx, const sim_event *sev) {
  host_component *c = ctx;
  des_event ev;
  int call;
  (void)sim;
  ev.when = sev->when;
  ev.handle = sev->handle;
  ev.component = c->id;
  ev.kind = sev->kind;
  ev.data = sev->data;
  ev.caller.task = ev.caller.call = 0;
  call = rt_call_delivered(c->h->rt, sev, &ev.kind, &ev.data, &ev.caller.task,
                           &ev.caller.call);
  if (call < 0)
    return 0;
  return c->fn(c->h, c->ctx, &ev);
}

/* Protected: name the component for des.component. */
static int host_name_component(lua_State *L) {
  des_host *h = lua_touserdata(L, 1);
  ldes_add_component(L, h->rt, lua_tostring(L, 2), (int)lua_tointeger(L, 3));
  return 0;
}

int des_component_add(des_host *h, const char *name, des_handler fn,
                      void *ctx) {
  host_component *c;
  size_t size;
  int id, rc;
  host_enter(h);
  if (name == NULL || name[0] == '\0' || fn == NULL)
    return host_fail(h, DES_EINVAL, "component_add: no name or no handler");
  for (id = 0; id < h->ncomps; id++)
    if (strcmp(h->comps[id]->name, name) == 0)
      return host_fail(h, DES_EINVAL,
                       "component_add: a component named '%s' exists", name);
  if (h->ncomps == h->capcomps) {
    int ncap = h->capcomps ? h->capcomps * 2 : 4;
    void *p = host_alloc(h, h->comps, (size_t)h->capcomps * sizeof(*h->comps),
                         (size_t)ncap * sizeof(*h->comps));
    if (p == NULL)
      return host_fail(h, DES_ENOMEM, "component_add: not enough memory");
    h->comps = p;
    h->capcomps = ncap;
  }
  size = sizeof(*c) + strlen(name) + 1;
  c = host_alloc(h, NULL, 0, size);
  if (c == NULL)
    return host_fail(h, DES_ENOMEM, "component_add: not enough memory");
  id = sim_add_component(h->rt->sim, host_dispatch, c);
  if (id < 0) {
    host_alloc(h, c, size, 0);
    return host_fail(h, DES_ENOMEM, "component_add: not enough memory");
  }
  c->size = size;
  memcpy(c->name, name, strlen(name) + 1);
  c->h = h;
  c->fn = fn;
  c->ctx = ctx;
  c->id = id;
  h->comps[h->ncomps++] = c;
  lua_pushcfunction(h->L, host_name_component);
  lua_pushlightuserdata(h->L, h);
  lua_pushstring(h->L, name);
  lua_pushinteger(h->L, id);
  rc = host_pcall(h, 3, 0);
  return rc != DES_OK ? rc : id;
}

/* Is id one of the embedder's components? */
static host_component *host_component_of(des_host *h, int id) {
  int i;
  for (i = 0; i < h->ncomps; i++)
    if (h->comps[i]->id == id)
      return h->comps[i];
  return NULL;
}

/* Check an absolute time against the clock. */
static int host_check_time(des_host *h, des_time when, const char *fname) {
  des_time now = sim_now(h->rt->sim);
  if (when < now)
    return host_fail(h, DES_EPAST,
                     "%s: time %lld is before the current time %lld", fname,
                     (long long)when, (long long)now);
  return DES_OK;
}

int des_schedule(des_host *h, des_time when, int component, uint32_t kind,
                 uint64_t data, des_handle *out) {
  int rc;
  if (host_component_of(h, component) == NULL)
    return host_fail(h, DES_EINVAL, "schedule: no C component %d", component);
  if (kind >= RT_CALL_BIT)
    return host_fail(h, DES_EINVAL, "schedule: kind %u is past 2^31-1",
                     (unsigned)kind);
  rc = host_check_time(h, when, "schedule");
  if (rc != DES_OK)
    return rc;
  rc = sim_schedule(h->rt->sim, when, (uint32_t)component, kind, data, out);
  if (rc == WHEEL_ENOMEM)
    return host_fail(h, DES_ENOMEM, "schedule: not enough memory");
  if (rc != 0)
    return host_fail(h, DES_ERANGE, "schedule: %s", sim_strerror(rc));
  return DES_OK;
}

int des_cancel(des_host *h, des_handle handle) {
  uint32_t target;
  /* only the embedder's own events: never a task's wake */
  if (!sim_event_target(h->rt->sim, handle, &target) ||
      host_component_of(h, (int)target) == NULL)
    return host_fail(h, DES_ESTALE,
                     "cancel: handle %llu is not a pending event of a C "
                     "component",
                     (unsigned long long)handle);
  sim_cancel(h->rt->sim, handle);
  return DES_OK;
}

int des_wake(des_host *h, des_caller caller, des_time when, int64_t value) {
  int rc = host_check_time(h, when, "wake");
  if (rc != DES_OK)
    return rc;
  rc = rt_answer(h->rt, caller.task, caller.call, when, value);
  if (rc == RT_ESTALE)
    return host_fail(
        h, DES_ESTALE,
        "wake: call %llu of task %llu is no longer open (answered, "
        "interrupted, cancelled or ended)",
        (unsigned long long)caller.call, (unsigned long long)caller.task);
  if (rc != 0)
    return host_fail(h, DES_ENOMEM, "wake: %s", sim_strerror(rc));
  return DES_OK;
}

/* Protected: ev:succeed(values...) with the event at 1. */
static int host_trigger(lua_State *L) {
  int n = lua_gettop(L) - 1;
  lua_getfield(L, 1, "succeed");
  lua_insert(L, 1);
  lua_call(L, n + 1, 0);
  return 0;
}

int des_trigger(des_host *h, int idx, int nvalues) {
  lua_State *L = h->L;
  int rc;
  host_enter(h);
  if (nvalues < 0 || lua_gettop(L) < nvalues)
    return host_fail(h, DES_EINVAL, "trigger: missing values");
  idx = lua_absindex(L, idx);
  if (idx < 1 || idx > lua_gettop(L) - nvalues ||
      luaL_testudata(L, idx, DES_EVENT_MT) == NULL) {
    lua_pop(L, nvalues);
    return host_fail(h, DES_EINVAL, "trigger: index %d is not a des.event",
                     idx);
  }
  lua_pushcfunction(L, host_trigger);
  lua_pushvalue(L, idx);
  lua_rotate(L, -nvalues - 2, 2);
  rc = host_pcall(h, nvalues + 1, 0);
  if (rc == DES_EMODEL)
    rc = DES_EINVAL; /* e.g. triggered twice: the message says */
  host_leave(h);
  return rc;
}

/* }==================================================================== */
