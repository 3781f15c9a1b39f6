/*
** lco.c -- the coroutine library as a model sees it once `des` is loaded:
** a task's coroutine belongs to the runtime.
**
** coroutine.running() inside a task returns the task's thread. Resuming or
** closing it by hand would run the task outside the scheduler (its waiter
** still linked where it waits, its resource request still queued), and a
** finished task's thread goes to a pool for new tasks. So luaopen_des
** replaces, in the `coroutine` table of the globals and in
** package.loaded.coroutine, the functions that take a thread:
**   resume, close  refuse a des task's thread, naming the task, and a
**                  thread the runtime retired (pooled, or orphaned: its
**                  task was collected with its simulation while it waited);
**   status         reports "normal" for a task's thread that is not the
**                  running coroutine (active, driven by the runtime; never
**                  "suspended", which would invite a resume), "dead" for a
**                  retired thread;
**   running        marks the task's thread as seen by Lua: it is never
**                  pooled, so a stale reference can only reach a dead thread.
** The originals come from a fresh luaopen_coroutine, never from tables the
** model could have changed. Out of reach: code that captured the originals
** before `require "des"` (a stock lua5.4; deshost loads des first), the
** debug library (not in the sandbox) and lua_resume by an embedder.
*/
#include <lualib.h>

#include "ldes.h"

/* Upvalues of every replacement: 1 the rt_global, 2 the original. */
#define LCO_ORIG lua_upvalueindex(2)

/* Call the original with the arguments as given; return its results. */
static int lco_forward(lua_State *L) {
  lua_pushvalue(L, LCO_ORIG);
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* Raise if the thread at 1 belongs to the des runtime (`verb` it). */
static void lco_refuse(lua_State *L, const char *verb) {
  rt_global *G = lua_touserdata(L, lua_upvalueindex(1));
  lua_State *co = lua_tothread(L, 1);
  rt_task *t;
  if (co == NULL)
    return; /* the original reports the wrong type */
  t = rt_thread_task(G, co);
  if (t != NULL) {
    rt_push_task(L, t);
    if (lua_touserdata(L, -1) == t)
      rt_push_task_label(L, -1);
    else
      lua_pushliteral(L, "a des task");
    luaL_error(L,
               "cannot %s %s: its coroutine belongs to the des runtime "
               "(wake it through des: trigger what it waits for, "
               "task:interrupt or task:cancel)",
               verb, lua_tostring(L, -1));
  }
  switch (rt_thread_retired(L, G, co)) {
  case RT_RETIRED_POOLED:
    luaL_error(L, "cannot %s a coroutine of the des runtime's thread pool",
               verb);
    break;
  case RT_RETIRED_ORPHAN:
    luaL_error(L,
               "cannot %s the coroutine of a des task that was collected "
               "with its simulation",
               verb);
    break;
  }
}

/* coroutine.resume(co, ...), as lcorolib's (lua_resume itself refuses a
** dead or running coroutine), without forwarding to the original: one C
** call per resume, as before des loaded. */
static int lco_resume(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  int narg = lua_gettop(L) - 1, status, nres;
  luaL_argexpected(L, co != NULL, 1, "coroutine");
  lco_refuse(L, "resume");
  if (!lua_checkstack(co, narg)) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "too many arguments to resume");
    return 2;
  }
  lua_xmove(L, co, narg);
  status = lua_resume(co, L, narg, &nres);
  if (status == LUA_OK || status == LUA_YIELD) {
    if (!lua_checkstack(L, nres + 1)) {
      lua_pop(co, nres);
      lua_pushboolean(L, 0);
      lua_pushliteral(L, "too many results to resume");
      return 2;
    }
    lua_pushboolean(L, 1);
    lua_xmove(co, L, nres);
    return nres + 1;
  }
  lua_pushboolean(L, 0);
  lua_xmove(co, L, 1); /* the error */
  return 2;
}

/* coroutine.close(co) */
static int lco_close(lua_State *L) {
  lco_refuse(L, "close");
  return lco_forward(L);
}

/* coroutine.status(co) */
static int lco_status(lua_State *L) {
  rt_global *G = lua_touserdata(L, lua_upvalueindex(1));
  lua_State *co = lua_tothread(L, 1);
  if (co != NULL && co != L) {
    if (rt_thread_task(G, co) != NULL) {
      lua_pushliteral(L, "normal");
      return 1;
    }
    if (rt_thread_retired(L, G, co)) {
      lua_pushliteral(L, "dead");
      return 1;
    }
  }
  return lco_forward(L);
}

/* coroutine.running() */
static int lco_running(lua_State *L) {
  rt_task *t = rt_current(L);
  if (t != NULL)
    t->escaped = 1;
  return lco_forward(L);
}

static const luaL_Reg lco_funcs[] = {{"resume", lco_resume},
                                     {"close", lco_close},
                                     {"status", lco_status},
                                     {"running", lco_running},
                                     {NULL, NULL}};

/* Set the replacements (table at repl) into the table at t, raw (a
** metatable the model gave it never sees the writes). */
static void lco_patch(lua_State *L, int t, int repl) {
  const luaL_Reg *f;
  t = lua_absindex(L, t);
  if (lua_type(L, t) != LUA_TTABLE)
    return;
  for (f = lco_funcs; f->name != NULL; f++) {
    lua_pushstring(L, f->name);
    lua_getfield(L, repl, f->name);
    lua_rawset(L, t);
  }
}

/* Install the replacements (see the top of the file). */
void lco_open(lua_State *L) {
  const luaL_Reg *f;
  int repl;
  luaopen_coroutine(L); /* a fresh table: the real originals */
  lua_createtable(L, 0, 4);
  repl = lua_gettop(L);
  for (f = lco_funcs; f->name != NULL; f++) {
    lua_getfield(L, LUA_REGISTRYINDEX, RT_GLOBAL_KEY);
    lua_getfield(L, repl - 1, f->name);
    lua_pushcclosure(L, f->func, 2);
    lua_setfield(L, repl, f->name);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushliteral(L, LUA_COLIBNAME);
  lua_rawget(L, -2); /* the globals' coroutine */
  lco_patch(L, -1, repl);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushliteral(L, LUA_COLIBNAME);
  lua_rawget(L, -2); /* package.loaded.coroutine */
  if (!lua_rawequal(L, -1, -3))
    lco_patch(L, -1, repl);
  lua_settop(L, repl - 2);
}
