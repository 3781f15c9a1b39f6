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
#include "hostint.h"

#include <string.h>

#include <lualib.h>

#define HOST_HOOK_COUNT 1000 /* instructions between budget checks */
#define HOST_DEFAULT_RESOLUTION 1000000000

static void host_hook(lua_State *L, lua_Debug *ar);

/* {====================================================================
** Memory: the counting allocator
** ===================================================================== */

/* lua_Alloc over the embedder's allocator: counts what the host holds and
** refuses to grow past the limit (Lua then collects and retries once,
** and raises a memory error in the model if that is not enough). Once the
** retry failed too, a reserve over the limit lets the error path (the
** failure report, closing the task, its traceback) run to the end, so that
** the failed task lets go of what it held; the reserve ends with the call. */
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
    h->mem_hit++; /* the 2nd in a row: Lua's retry after a full GC failed */
    return NULL;
  }
  p = h->allocf(h->allocud, ptr, osize, nsize);
  if (p != NULL) {
    h->mem_used = h->mem_used - old + nsize;
    if (h->mem_hit == 1)
      h->mem_hit = 0; /* the collection made room: no error after all */
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
** Instruction budget and interrupts
** ===================================================================== */

/* The count hook. Charges the instructions since the last call to the
** budget; raises when the budget is spent or an interrupt is asked for,
** and then fires at every instruction so that a model that catches the
** error with pcall meets it again at once. Without either, it removes
** itself (it was set on a coroutine only to deliver an interrupt). */
static void host_hook(lua_State *L, lua_Debug *ar) {
  des_host *h = des_host_of(L);
  (void)ar;
  if (h == NULL)
    return;
  if (h->interrupt && L == h->interrupt_co) {
    lua_sethook(L, host_hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "interrupted by the host");
  }
  if (h->max_steps == 0) {
    lua_sethook(L, NULL, 0, 0);
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
}

void des_set_budget(des_host *h, uint64_t max_steps) {
  h->max_steps = max_steps;
  h->steps = 0;
  h->budget_hit = 0;
  if (max_steps != 0)
    lua_sethook(h->L, host_hook, LUA_MASKCOUNT, HOST_HOOK_COUNT);
}

void des_interrupt(des_host *h) {
  lua_State *co = h->rt->G->running;
  if (co == NULL)
    co = h->L;
  h->interrupt_co = co;
  h->interrupt = 1;
  if (h->rt->sim != NULL)
    sim_stop(h->rt->sim);
  host_post_wake(h, 1); /* a paced run's sleep */
  /* lua_sethook is safe here: lua.c uses it from its SIGINT handler */
  lua_sethook(co, host_hook, LUA_MASKCOUNT, 1);
}

void des_stop(des_host *h) {
  if (h->rt->sim != NULL)
    sim_stop(h->rt->sim);
  host_post_wake(h, 1); /* a paced run's sleep */
}

/* }==================================================================== */

/* {====================================================================
** Creating and freeing
** ===================================================================== */

void des_config_init(des_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->resolution = HOST_DEFAULT_RESOLUTION;
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
  host_post_init(h, cfg);
  status = host_pace_init(h, cfg);
  if (status != DES_OK) {
    des_host_free(h);
    return status;
  }
  *out = h;
  return DES_OK;
}

void des_host_free(des_host *h) {
  des_allocf allocf;
  if (h == NULL)
    return;
  if (h->rt != NULL && h->rt->sim != NULL && sim_running(h->rt->sim))
    return;          /* from inside a handler: refused (see deshost.h) */
  host_post_free(h); /* refuses posts, waits for those in progress */
  lua_close(h->L);   /* collects every simulation and task */
  host_free_components(h);
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
  if (host_check_open(h, "load") != DES_OK)
    return DES_EINVAL;
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
