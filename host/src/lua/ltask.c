/*
** ltask.c -- Lua binding of tasks: des.spawn, des.sleep, des.self, des.now
** and the des.task userdata (join, cancel, interrupt, name, status).
**
** Every function here carries the per-state rt_global as upvalue 1, which
** is how rt_current finds the running task in O(1).
*/
#include "ldes.h"

static const char *const task_states[] = {
    "ready", "running", "sleeping", "waiting", "done", "failed", "cancelled"};

static rt_task *check_task(lua_State *L, int idx) {
  return ldes_checkudata(L, idx, RT_MT_TASK, DES_TASK_MT);
}

/* The running task, or a clear error naming the function. */
static rt_task *running_task(lua_State *L, const char *fname) {
  rt_task *t = rt_current(L);
  if (t == NULL) {
    rt_global *G = lua_touserdata(L, lua_upvalueindex(1));
    if (G != NULL && lsched_calling(G, L))
      luaL_error(L,
                 "%s: not inside a task (a function scheduled with "
                 "des.schedule or des.at runs outside any task and cannot "
                 "suspend; spawn a task from it)",
                 fname);
    if (lua_pushthread(L)) /* the main thread */
      luaL_error(L,
                 "%s: not inside a task (call it from a function started "
                 "with des.spawn, or from the model's main chunk under "
                 "deshost)",
                 fname);
    luaL_error(L,
               "%s: called from a coroutine that is not a des task (a "
               "coroutine made with coroutine.create or wrap cannot "
               "suspend the simulation; use des.spawn)",
               fname);
  }
  return t;
}

/* spawn(fn, ...) or spawn{name=, daemon=, fn, ...args} on simulation rt.
** `first` is the index of the function or the options table. */
int ltask_spawn(lua_State *L, rt_runtime *rt, int first) {
  int nargs, name_idx = 0, daemon = 0;
  if (lua_type(L, first) == LUA_TTABLE) {
    int i, n;
    lua_settop(L, first);
    lua_pushliteral(L, "name"); /* raw: options are plain data */
    if (lua_rawget(L, first) != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "spawn: name must be a string (got %s)",
                   luaL_typename(L, -1));
      name_idx = lua_gettop(L);
    }
    lua_pushliteral(L, "daemon");
    lua_rawget(L, first);
    daemon = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (lua_rawgeti(L, first, 1) != LUA_TFUNCTION)
      luaL_error(L,
                 "spawn: the table's first item must be a function "
                 "(got %s)",
                 luaL_typename(L, -1));
    n = (int)lua_rawlen(L, first);
    rt_charge(L, (size_t)n); /* the arguments, copied out of the table */
    luaL_checkstack(L, n, "too many arguments to spawn");
    for (i = 2; i <= n; i++)
      lua_rawgeti(L, first, i);
    nargs = n - 1;
    rt_spawn(L, rt, -nargs - 1, nargs, name_idx, daemon);
    return 1;
  }
  if (lua_type(L, first) != LUA_TFUNCTION)
    luaL_error(L, "spawn: expected a function or {name=..., fn} (got %s)",
               luaL_typename(L, first));
  nargs = lua_gettop(L) - first;
  rt_spawn(L, rt, first, nargs, 0, 0);
  return 1;
}

/* des.spawn(fn, ...) */
static int l_spawn(lua_State *L) {
  return ltask_spawn(L, ldes_runtime_of(L), 1);
}

/* des.sleep(dt) */
static int l_sleep(lua_State *L) {
  rt_task *t = running_task(L, "sleep");
  return rt_sleep(L, t, rt_check_duration(L, t->rt, 1, "sleep"));
}

/* des.self() */
static int l_self(lua_State *L) {
  rt_task *t = rt_current(L);
  if (t == NULL)
    return 0;
  rt_push_task(L, t);
  return 1;
}

/* des.now() */
static int l_now(lua_State *L) {
  rt_runtime *rt = ldes_runtime_of(L);
  lua_pushnumber(L, rt_units(rt, sim_now(rt->sim)));
  return 1;
}

/* task:join() */
static int t_join(lua_State *L) {
  rt_task *t = check_task(L, 1);
  rt_task *self;
  if (t->done.state != WAITABLE_PENDING) { /* ended: no need to be a task */
    rt_check_interrupt(L, rt_current(L));
    return rt_push_result(L, 1);
  }
  rt_check_open(L, t->rt); /* a task detached by a close never ends */
  self = running_task(L, "join");
  if (t == self)
    luaL_error(L, "join: a task cannot join itself");
  return rt_wait(L, self, &t->done, 1, "join");
}

/* task:cancel() */
static int t_cancel(lua_State *L) {
  rt_task *t = check_task(L, 1);
  rt_cancel(L, t, 1);
  return 0;
}

/* task:interrupt([cause]) --> true if the task was alive */
static int t_interrupt(lua_State *L) {
  rt_task *t = check_task(L, 1);
  lua_settop(L, 2);
  lua_pushboolean(L, rt_interrupt(L, t, 1, 2));
  return 1;
}

/* task:traceback([msg]) --> where the task is suspended; for a failed task
** its error's message and traceback; nil otherwise. */
static int t_traceback(lua_State *L) {
  rt_task *t = check_task(L, 1);
  if (t->state == TASK_FAILED) {
    lua_getiuservalue(L, 1, UV_AUX);
    return 1;
  }
  if (t->co == NULL || t->co == L)
    return 0;
  lua_settop(L, 2);
  lua_getiuservalue(L, 1, UV_AUX); /* holds the thread while it allocates */
  /* luaL_traceback: slower, but names functions as des.sleep */
  luaL_traceback(L, lua_tothread(L, 3), luaL_optstring(L, 2, NULL), 0);
  return 1;
}

static const luaL_Reg task_methods[] = {{"traceback", t_traceback},
                                        {"join", t_join},
                                        {"cancel", t_cancel},
                                        {"interrupt", t_interrupt},
                                        {NULL, NULL}};

/* task.name, task.status, task.id, task.since, task.waiting_on, methods */
static int t_index(lua_State *L) {
  rt_task *t = check_task(L, 1);
  const char *k;
  if (ldes_method(L))
    return 1;
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "name") == 0)
    lua_getiuservalue(L, 1, UV_NAME);
  else if (strcmp(k, "status") == 0)
    lua_pushstring(L, task_states[t->state]);
  else if (strcmp(k, "id") == 0)
    lua_pushinteger(L, (lua_Integer)t->serial);
  else if (strcmp(k, "since") == 0)
    lua_pushnumber(L, rt_units(t->rt, t->since));
  else if (strcmp(k, "waiting_on") == 0)
    rt_push_waiting_on(L, t);
  else if (strcmp(k, "waiting_kind") == 0) {
    if (t->state == TASK_SLEEPING || t->state == TASK_WAITING)
      lua_pushstring(L, t->what);
    else
      lua_pushnil(L);
  } else if (strcmp(k, "wake_at") == 0) {
    des_time when;
    if (t->wake != 0 && sim_event_pending(t->rt->sim, t->wake, &when))
      lua_pushnumber(L, rt_units(t->rt, when));
    else
      lua_pushnil(L);
  } else if (strcmp(k, "daemon") == 0)
    lua_pushboolean(L, t->daemon);
  else if (strcmp(k, "error") == 0) {
    if (t->state == TASK_FAILED || t->state == TASK_CANCELLED)
      lua_getiuservalue(L, 1, UV_VALUES);
    else
      lua_pushnil(L);
  } else
    lua_pushnil(L);
  return 1;
}

static int t_tostring(lua_State *L) {
  rt_task *t = check_task(L, 1);
  rt_push_task_label(L, 1);
  lua_pushfstring(L, "%s: %s", lua_tostring(L, -1), task_states[t->state]);
  return 1;
}

/* No __gc: a finalizer per task costs a resurrection and a call on every
** task's end. A live task is anchored in its simulation (from before it
** takes its slot), and what t_gc did for a task collected with its
** simulation, the simulation's own __gc does (rt_free: detach_all). */
static const luaL_Reg task_meta[] = {
    {"__tostring", t_tostring}, {"__close", t_cancel}, {NULL, NULL}};

static const luaL_Reg module_funcs[] = {{"spawn", l_spawn},
                                        {"sleep", l_sleep},
                                        {"self", l_self},
                                        {"now", l_now},
                                        {NULL, NULL}};

/* Register the task metatable and the module functions into mod. */
void ltask_open(lua_State *L, int mod) {
  mod = lua_absindex(L, mod);
  ldes_newmetatable(L, RT_MT_TASK, DES_TASK_MT);
  ldes_setfuncs(L, -1, task_meta);
  lua_newtable(L);
  ldes_setfuncs(L, -1, task_methods);
  lua_setfield(L, -2, "methods");
  ldes_set_index(L, -1, t_index);
  lua_pop(L, 1);
  ldes_setfuncs(L, mod, module_funcs);
}
