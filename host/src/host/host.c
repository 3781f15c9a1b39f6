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
**   - interrupts: des_interrupt sets a flag; with the vendored Lua also an
**     asynchronous hook request (patch 0007: an atomic store), and the
**     thread running Lua installs host_hook on itself at its next jump,
**     call or library checkpoint, which raises "interrupted by the host".
**     Nothing walks the stack of a thread that runs, and a run with no
**     budget pays no count hook.
*/
#include "hostint.h"

#include <string.h>

#include <lualib.h>

#include "rng.h"

#define HOST_HOOK_COUNT 1000 /* instructions between budget checks */
#define HOST_DEFAULT_RESOLUTION 1000000000

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
** gets the same cap as before, not the cap plus the reserve. The slow path
** of host_alloc: every (re)allocation the cache does not serve. */
#if defined(__GNUC__)
__attribute__((noinline)) /* (kept out of host_alloc's fast paths) */
#endif
static void *
host_alloc_slow(des_host *h, void *ptr, size_t osize, size_t nsize) {
  size_t old = ptr != NULL ? osize : 0;
  void *p;
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

/* The host's lua_Alloc. Its fast paths, a free and a new block from the
** cache under the limit, make no call (M/M/2 frees and makes two blocks a
** customer); everything else is host_alloc_slow's. */
static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  des_host *h = ud;
  if (nsize == 0) {
    if (ptr != NULL) {
      h->mem_used -= osize;
      if (!(h->cache.on && hcache_put(h, ptr, osize)))
        h->allocf(h->allocud, ptr, osize, 0);
    }
    return NULL;
  }
  if (ptr == NULL && h->cache.on &&
      (h->mem_limit == 0 || h->mem_used + nsize <= h->mem_limit)) {
    void *p = hcache_get(h, nsize);
    if (p != NULL) {
      h->mem_used += nsize;
      if (h->mem_hit == 1) /* the collection made room */
        h->mem_hit = 0;
      return p;
    }
  }
  return host_alloc_slow(h, ptr, osize, nsize);
}

des_host *des_host_of(lua_State *L) {
  void *ud;
  if (L == NULL || lua_getallocf(L, &ud) != host_alloc)
    return NULL;
  return ud;
}

size_t des_memory(const des_host *h) {
  return h != NULL ? h->mem_used : 0;
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

/* Whether the hook on thread L raises the interrupt now. With the
** vendored Lua, the request (patch 0007) stands until host_leave, so that
** no pcall in the model swallows it: every thread that runs takes the
** hook. Once it was raised in a coroutine (a task, or the model's own),
** the main thread is left out (LUA_ASYNC_COROUTINES): it runs the host's
** own Lua around the model (the REPL's session reporting the task that
** failed), as when the hook went to the running coroutine only. Without
** an interrupt, a request left by a des_interrupt that raced with
** host_leave is withdrawn (unless one came meanwhile). */
static int host_interrupt_due(des_host *h, lua_State *L) {
#ifdef LUA_DESHOST
  if (!atomic_load(&h->interrupt)) {
    if (h->budget_hit) /* the budget's request (host_hook) stands */
      return 0;
    lua_asynchook(L, LUA_ASYNC_OFF);
    if (atomic_load(&h->interrupt))
      lua_asynchook(L, LUA_ASYNC_ALL);
    return 0;
  }
  if (L != h->L)
    h->interrupt_served = 1;
  lua_asynchook(L, h->interrupt_served ? LUA_ASYNC_COROUTINES : LUA_ASYNC_ALL);
  return L != h->L || !h->interrupt_served;
#else
  return atomic_load(&h->interrupt) && L == h->interrupt_co;
#endif
}

/* The count hook. Charges the instructions since the last call to the
** budget; raises when the budget is spent or an interrupt is asked for,
** and then fires at every instruction so that a model that catches the
** error with pcall meets it again at once. Without either, it removes
** itself (it was set on a coroutine only to deliver an interrupt).
** With the vendored Lua (LUA_DESHOST) it also fires inside the C loops of
** the libraries (string.rep, patterns, table.move, sort, ...), takes the
** work charged where no hook could run (walks of a deep stack: patch
** 0006), and a coroutine runs under its resumer's hook, so an interrupt
** is raised in whichever thread meets it first (every thread that runs
** while the request stands takes the hook: patch 0007). With the system's
** Lua only the thread des_interrupt set it on raises. */
static void host_hook(lua_State *L, lua_Debug *ar) {
  des_host *h = des_host_of(L);
  (void)ar;
  if (h == NULL)
    return;
  if (h->mem_hit >= 2) /* Lua runs again after a memory error: it was */
    h->mem_hit = 0;    /* handled, and the reserve closes */
  if (host_interrupt_due(h, L)) {
    if (lua_gethookcount(L) != 1) /* lua_sethook walks the whole stack */
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
#ifdef LUA_DESHOST
  h->steps += (uint64_t)lua_takehookdebt(L); /* work charged later */
#endif
  if (h->steps >= h->max_steps) {
    h->budget_hit = 1;
    if (lua_gethookcount(L) != 1) /* lua_sethook walks the whole stack */
      lua_sethook(L, host_hook, LUA_MASKCOUNT, 1);
#ifdef LUA_DESHOST
    /* every other thread too raises at its next jump or call (patch
    ** 0007): the resumers up the chain, whose counts ran on, caught the
    ** error and went on for up to a count each, and a model nesting
    ** coroutines in pcall loops multiplied that into hours. As for an
    ** interrupt, the main thread is left out once a coroutine raised it:
    ** the host's own Lua there reports the failed task. */
    lua_asynchook(L, L != h->L ? LUA_ASYNC_COROUTINES : LUA_ASYNC_ALL);
#endif
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
  if (h == NULL)
    return;
  h->max_steps = max_steps;
  h->steps = 0;
#ifdef LUA_DESHOST
  if (h->budget_hit && !atomic_load(&h->interrupt))
    lua_asynchook(h->L, LUA_ASYNC_OFF); /* the spent budget's request */
#endif
  h->budget_hit = 0;
  if (max_steps != 0) {
    lua_sethook(h->L, host_hook, LUA_MASKCOUNT, HOST_HOOK_COUNT);
    lua_sethook(host_running(h), host_hook, LUA_MASKCOUNT, HOST_HOOK_COUNT);
  }
}

/* With the vendored Lua, only atomic stores: the flag, then the hook
** request (patch 0007) that the running thread takes at its next jump,
** call or checkpoint, installing host_hook on itself. lua_sethook from
** here walked the running thread's whole stack while that thread changed
** it (a data race; a use-after-free on a deep stack). */
void des_interrupt(des_host *h) {
  if (h == NULL)
    return;
#ifndef LUA_DESHOST
  h->interrupt_co = host_running(h);
#endif
  atomic_store(&h->interrupt, 1);
  if (h->rt->sim != NULL)
    sim_stop(h->rt->sim);
  rt_stop_all(h->rt->G); /* and the runs of other simulations */
  host_post_wake(h, 1);  /* a paced run's sleep */
#ifdef LUA_DESHOST
  lua_asynchook(h->L, LUA_ASYNC_ALL);
#else
  /* the system's Lua: as lua.c does from its SIGINT handler */
  lua_sethook(h->interrupt_co, host_hook, LUA_MASKCOUNT, 1);
#endif
}

void des_stop(des_host *h) {
  if (h == NULL)
    return;
  if (h->rt->sim != NULL)
    sim_stop(h->rt->sim);
  rt_stop_all(h->rt->G); /* and a sim:run of another simulation */
  host_post_wake(h, 1);  /* a paced run's sleep */
}

void des_pause(des_host *h) {
  if (h == NULL)
    return;
  atomic_store(&h->pause_req, 1);
  host_post_wake(h, 0); /* yields an unpaced run, wakes a paced sleep */
}

/* }==================================================================== */

/* {====================================================================
** Creating and freeing
** ===================================================================== */

void des_config_init(des_config *cfg) {
  if (cfg == NULL)
    return;
  memset(cfg, 0, sizeof(*cfg));
  cfg->resolution = HOST_DEFAULT_RESOLUTION;
}

/* Protected part of des_host_new: libraries, the des module, and the
** default simulation with the configured seed and resolution. */
/* math.randomseed under a host: with arguments, as Lua's (upvalue 1);
** without, the seed it had at the start (upvalues 2 and 3), never the
** clock: scripts written for plain Lua repeat under the same --seed. */
static int host_randomseed(lua_State *L) {
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  if (n == 0) {
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushvalue(L, lua_upvalueindex(3));
    n = 2;
  } else
    lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

/* Seed math.random from the simulation's seed (DESIGN "Determinism"):
** the stream "math.random" of that seed, as des.rng would name it, and
** make math.randomseed() with no argument go back to it. */
static void host_seed_math(lua_State *L, uint64_t seed) {
  des_rng r;
  lua_Integer a, b;
  des_rng_stream(&r, seed, "math.random", sizeof("math.random") - 1);
  a = (lua_Integer)des_rng_next(&r);
  b = (lua_Integer)des_rng_next(&r);
  if (lua_getglobal(L, "math") != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_getfield(L, -1, "randomseed");
  lua_pushvalue(L, -1);
  lua_pushinteger(L, a);
  lua_pushinteger(L, b);
  lua_call(L, 2, 0);
  lua_pushinteger(L, a);
  lua_pushinteger(L, b);
  lua_pushcclosure(L, host_randomseed, 3);
  lua_setfield(L, -2, "randomseed");
  lua_pop(L, 1);
}

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
  host_seed_math(L, cfg->seed);
#ifdef LUA_DESHOST
  lua_setasynchook(L, host_hook); /* what des_interrupt asks for */
#endif
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
  host_open_strict(h, L, cfg->strict); /* after des: its own copies are kept */
  return 0;
}

int des_host_new(des_host **out, const des_config *cfg) {
  des_config def;
  des_allocf allocf;
  des_host *h;
  int status;
  if (out == NULL)
    return DES_EINVAL;
  *out = NULL;
  if (cfg == NULL) { /* the defaults, as des_config_init makes them */
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
  h->strict = cfg->strict;
  hcache_init(h);
  h->L = lua_newstate(host_alloc, h);
  if (h->L == NULL) {
    hcache_free(h); /* what the failed state freed */
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
  /* finalizers that lua_close runs cannot make objects holding C memory */
  rt_global_get(h->L)->closing = 1;
  lua_close(h->L); /* collects every simulation and task */
  hcache_free(h);
  host_free_components(h);
  if (h->err != NULL)
    h->allocf(h->allocud, h->err, h->errcap, 0);
  allocf = h->allocf;
  allocf(h->allocud, h, sizeof(*h), 0);
}

lua_State *des_lua(des_host *h) {
  return h != NULL ? h->L : NULL;
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
    return 1; /* the message alone: a traceback would show only "[C]: in ?" */
  luaL_checkstack(L, a->argc + 2, "too many model arguments");
  lua_pushliteral(L, "main");
  for (i = 0; i < a->argc; i++)
    lua_pushstring(L, a->argv[i]);
  rt_spawn(L, h->rt, -a->argc - 2, a->argc, -a->argc - 1, 0);
  lua_setfield(L, LUA_REGISTRYINDEX, HOST_MAIN_KEY); /* for des_results */
  return 0;
}

static int host_load_common(des_host *h, load_args *a, const char *fname) {
  int rc;
  host_enter(h);
  if (host_check_open(h, fname) != DES_OK)
    return DES_EINVAL;
  if (sim_running(h->rt->sim))
    return host_fail(h, DES_EBUSY, "%s: called from inside a handler", fname);
  a->status = LUA_OK;
  rt_stop_clear(h->rt->G); /* a new top-level call: no stop stands */
  lua_pushcfunction(h->L, host_load);
  lua_pushlightuserdata(h->L, h);
  lua_pushlightuserdata(h->L, a);
  h->loading++; /* --strict applies */
  rc = host_pcall(h, 2, 1);
  h->loading--;
  if (rc == DES_OK && a->status != LUA_OK) { /* did not load: its message */
    rc = host_lua_fail(h, a->status);
    if (a->status == LUA_ERRFILE)
      rc = DES_EFILE;
    else if (a->status == LUA_ERRSYNTAX)
      rc = DES_ESYNTAX;
  } else if (rc == DES_OK)
    lua_pop(h->L, 1);
  host_leave(h);
  return rc;
}

int des_load_file(des_host *h, const char *path, int argc,
                  const char *const *argv) {
  load_args a;
  HOST_CHECK(h);
  host_clear_error(h);
  if (path == NULL)
    return host_fail(h, DES_EINVAL, "des_load_file: path is NULL");
  if (argc < 0 || (argc > 0 && argv == NULL))
    return host_fail(h, DES_EINVAL, "des_load_file: argc is %d with argv %s",
                     argc, argv == NULL ? "NULL" : "given");
  memset(&a, 0, sizeof(a));
  a.path = path;
  a.argc = argc;
  a.argv = argv;
  return host_load_common(h, &a, "des_load_file");
}

int des_load_string(des_host *h, const char *code, const char *chunkname) {
  load_args a;
  HOST_CHECK(h);
  host_clear_error(h);
  if (code == NULL)
    return host_fail(h, DES_EINVAL, "des_load_string: code is NULL");
  memset(&a, 0, sizeof(a));
  a.code = code;
  a.chunkname = chunkname != NULL ? chunkname : "=model";
  return host_load_common(h, &a, "des_load_string");
}

int des_dostring(des_host *h, const char *code, int nresults) {
  int top, rc, status;
  HOST_CHECK(h);
  top = lua_gettop(h->L);
  host_enter(h);
  if (code == NULL)
    return host_fail(h, DES_EINVAL, "des_dostring: code is NULL");
  status = luaL_loadbufferx(h->L, code, strlen(code), "=(dostring)",
                            h->sandbox ? "t" : "bt");
  if (status != LUA_OK) {
    rc = host_lua_fail(h, status);
    host_leave(h);
    return rc == DES_EMODEL ? DES_ESYNTAX : rc;
  }
  rt_stop_clear(h->rt->G); /* a new top-level call: no stop stands */
  h->loading++;            /* --strict applies */
  rc = host_pcall(h, 0, nresults);
  h->loading--;
  if (rc != DES_OK)
    lua_settop(h->L, top);
  host_leave(h);
  return rc;
}

int des_pcall(des_host *h, int nargs, int nresults) {
  int rc;
  HOST_CHECK(h);
  host_enter(h);
  if (nargs < 0 || lua_gettop(h->L) < nargs + 1)
    return host_fail(h, DES_EINVAL,
                     "des_pcall: nargs is %d but the stack holds %d values "
                     "(the function and its arguments)",
                     nargs, lua_gettop(h->L));
  rt_stop_clear(h->rt->G); /* a new top-level call: no stop stands */
  rc = host_pcall(h, nargs, nresults);
  host_leave(h);
  return rc;
}

int des_call(des_host *h, const char *name, int nargs, int nresults) {
  lua_State *L;
  HOST_CHECK(h);
  L = h->L;
  host_enter(h);
  if (name == NULL)
    return host_fail(h, DES_EINVAL, "des_call: name is NULL");
  if (nargs < 0 || lua_gettop(L) < nargs)
    return host_fail(h, DES_EINVAL,
                     "des_call: nargs is %d but the stack holds %d values",
                     nargs, lua_gettop(L));
  if (lua_getglobal(L, name) != LUA_TFUNCTION) {
    lua_pop(L, nargs + 1);
    return host_fail(h, DES_ENOTFOUND, "des_call: no global function '%s'",
                     name);
  }
  lua_insert(L, -nargs - 1);
  return des_pcall(h, nargs, nresults);
}

int des_eval_number(des_host *h, const char *expr, double *out) {
  lua_State *L;
  int rc;
  HOST_CHECK(h);
  L = h->L;
  host_clear_error(h);
  if (expr == NULL)
    return host_fail(h, DES_EINVAL, "des_eval_number: expr is NULL");
  if (out == NULL)
    return host_fail(h, DES_EINVAL, "des_eval_number: out is NULL");
  lua_pushfstring(L, "return %s", expr);
  rc = des_dostring(h, lua_tostring(L, -1), 1);
  lua_remove(L, rc == DES_OK ? -2 : -1);
  if (rc != DES_OK)
    return rc;
  if (!lua_isnumber(L, -1)) {
    rc = host_fail(h, DES_EINVAL, "des_eval_number: '%s' is a %s, not a number",
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
  HOST_CHECK(h);
  host_enter(h);
  if (name == NULL)
    return host_fail(h, DES_EINVAL, "des_register: name is NULL");
  if (fn == NULL)
    return host_fail(h, DES_EINVAL, "des_register: fn is NULL");
  lua_pushcfunction(h->L, host_register);
  lua_pushstring(h->L, name);
  lua_pushcfunction(h->L, fn);
  rc = host_pcall(h, 2, 0);
  host_leave(h);
  return rc;
}

/* }==================================================================== */
