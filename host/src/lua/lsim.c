/*
** lsim.c -- the `des` module (luaopen_des) and simulations as Lua objects
** (des.new, sim:run/step/peek/now/...), plus the default simulation that
** the module-level functions act on outside a task.
**
** A sim userdata holds its rt_runtime; user value 1 is its anchor table
** (live tasks by slot + 1, pending timeouts by address), user value 2 its
** error handler (des.on_error), user value 3 its trace function, user
** value 4 its C components by name (lcomp.c).
*/
#include "ldes.h"

#define DEFAULT_SIM_KEY "des.default"
#define DEFAULT_RESOLUTION 1000000000

/* The simulation at idx, which must not be closed (spawn and run check
** for closing too). */
static rt_runtime *check_sim(lua_State *L, int idx) {
  rt_runtime *rt = ldes_checkudata(L, idx, RT_MT_SIM, DES_SIM_MT);
  rt_check_open(L, rt);
  return rt;
}

/* Create a simulation object and push it. */
static rt_runtime *sim_push_new(lua_State *L, uint64_t seed,
                                int64_t resolution) {
  rt_runtime *rt;
  rt_check_state(L, "new");
  rt = lua_newuserdatauv(L, sizeof(*rt), RT_UV_NSIM);
  int obj = lua_gettop(L);
  memset(rt, 0, sizeof(*rt));
  rt->closed = RT_CLOSED; /* until initialised: __gc frees nothing */
  rt_setmetatable(L, RT_MT_SIM);
  lua_newtable(L);
  lua_setiuservalue(L, obj, 1);
  if (rt_init(L, rt, seed, resolution) != 0)
    luaL_error(L, "not enough memory for a simulation");
  rt_register_object(L, obj, rt);
  return rt;
}

/* The default simulation of this state, created on first use. */
static rt_runtime *default_sim(lua_State *L) {
  rt_runtime *rt;
  if (lua_getfield(L, LUA_REGISTRYINDEX, DEFAULT_SIM_KEY) == LUA_TUSERDATA) {
    rt = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return rt;
  }
  lua_pop(L, 1);
  rt = sim_push_new(L, 0, DEFAULT_RESOLUTION);
  lua_setfield(L, LUA_REGISTRYINDEX, DEFAULT_SIM_KEY);
  return rt;
}

/* Make the simulation at idx the default one (the CLI's, with its seed). */
void ldes_set_default(lua_State *L, int idx) {
  luaL_checkudata(L, idx, DES_SIM_MT);
  lua_pushvalue(L, idx);
  lua_setfield(L, LUA_REGISTRYINDEX, DEFAULT_SIM_KEY);
}

/* The simulation module functions act on: the running task's; else the
** one whose run is dispatching (e.g. in an event callback); else the
** default simulation. */
rt_runtime *ldes_runtime_of(lua_State *L) {
  rt_task *t = rt_current(L);
  rt_runtime *rt;
  rt_global *G;
  if (t != NULL) /* its simulation runs, or is closing (<close> variables) */
    return t->rt;
  G = lua_touserdata(L, lua_upvalueindex(1));
  if (G != NULL && G->dispatching != NULL)
    return G->dispatching;
  rt = default_sim(L);
  rt_check_open(L, rt); /* cannot fail: a model cannot close it */
  return rt;
}

/* An absolute time in units at idx, as ticks (for run's `until`): a
** number (not a string: "3.14" is refused, not converted) at or after
** the current time, with the messages of docs/bad-inputs.md. */
static des_time check_time(lua_State *L, rt_runtime *rt, int idx,
                           const char *fname) {
  lua_Number u;
  if (lua_type(L, idx) != LUA_TNUMBER)
    luaL_error(L, "%s: until must be a time (a number) or an event (got %s)",
               fname, luaL_typename(L, idx));
  u = lua_tonumber(L, idx);
  if (u != u)
    luaL_error(L, "%s: until must be a number (got nan)", fname);
  if (u < 0 || (lua_isinteger(L, idx) && lua_tointeger(L, idx) < 0))
    luaL_error(L,
               "%s: until time is before the current time (until %s, now "
               "%f)",
               fname, lua_tostring(L, idx), rt_units(rt, sim_now(rt->sim)));
  return rt_check_duration(L, rt, idx, fname);
}

/* run(ev): a waiter on the event or task that stops the run when it
** triggers (rt_waiter.notify, owner the runtime). In a userdata, so that
** an error unwinding through the run leaves no pointer into the C stack;
** unlinked however the run ends. */
static int until_notify(lua_State *L, rt_waiter *w, int src) {
  (void)L;
  (void)src;
  sim_stop(((rt_runtime *)w->owner)->sim);
  return 0;
}

/* Protected: run the simulation at 1 until the waitable at 2 triggers
** (its waiter at 3); unlinked by the caller. */
static int run_until_event(lua_State *L) {
  rt_runtime *rt = lua_touserdata(L, 1);
  rt_run(L, rt, -1, 0);
  return 0;
}

/* sim:run(ev): run until ev (an event or a task) triggers, then return
** its values (or raise its error), as SimPy's run(until=event). Raises
** if the run ends first (no event left, only daemons, stop) with ev still
** pending. */
static int run_event(lua_State *L, rt_runtime *rt, int idx) {
  rt_waitable *w = lua_touserdata(L, idx);
  rt_waiter *n;
  int status;
  if (w->state == WAITABLE_PENDING) {
    rt_check_live(L, rt);
    rt_check_state(L, "run");
    n = lua_newuserdatauv(L, sizeof(*n), 0);
    memset(n, 0, sizeof(*n));
    n->notify = until_notify;
    n->owner = rt;
    rt_waiter_link(w, n);
    lua_pushlightuserdata(L, rt->G); /* upvalue 1, as every des function */
    lua_pushcclosure(L, run_until_event, 1);
    lua_pushlightuserdata(L, rt);
    status = lua_pcall(L, 1, 0, 0);
    rt_waiter_unlink(n);
    if (status != LUA_OK)
      return lua_error(L);
    if (w->state == WAITABLE_PENDING) {
      lua_pushvalue(L, idx);
      lua_pushfstring(L,
                      "run: the run ended at t=%f (no event left, only "
                      "daemons, or a stop) before %s triggered",
                      rt_units(rt, sim_now(rt->sim)),
                      luaL_tolstring(L, -1, NULL));
      return lua_error(L);
    }
  }
  return rt_push_result(L, idx);
}

/* What making a simulation (or closing one, which puts a fresh queue in
** place) costs the budget, in instructions: its queue's tables are tens of
** KiB to set up and free again, about as long as this many instructions
** run (a loop of des.new and close ran 500 times slower than its count). */
#define LSIM_COST 2048

/* des.new{seed=, resolution=} */
static int l_new(lua_State *L) {
  lua_Integer seed = 0, res = DEFAULT_RESOLUTION;
  rt_charge(L, LSIM_COST);
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushliteral(L, "seed"); /* raw: options are plain data */
    if (lua_rawget(L, 1) != LUA_TNIL) {
      if (!lua_isinteger(L, -1))
        luaL_error(L, "new: seed must be an integer (got %s)",
                   luaL_typename(L, -1));
      seed = lua_tointeger(L, -1);
    }
    lua_pushliteral(L, "resolution");
    if (lua_rawget(L, 1) != LUA_TNIL) {
      if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
        luaL_error(L, "new: resolution must be an integer >= 1 (ticks per "
                      "unit)");
      res = lua_tointeger(L, -1);
    }
    lua_settop(L, 1);
  }
  sim_push_new(L, (uint64_t)seed, res);
  return 1;
}

/* The simulation at index 1: a sim object, or the module (des.run). */
static rt_runtime *self_sim(lua_State *L, int *first) {
  if (ldes_testudata(L, 1, RT_MT_SIM, DES_SIM_MT)) {
    *first = 2;
    return check_sim(L, 1);
  }
  *first = 1;
  return ldes_runtime_of(L);
}

/* sim:spawn(fn, ...) */
static int s_spawn(lua_State *L) {
  int first;
  rt_runtime *rt = self_sim(L, &first);
  return ltask_spawn(L, rt, first);
}

/* sim:run([until | event]): an event, a task, or a request (a resource's:
** it returns the request, as req:wait(); a store's or container's: what
** its wait returns). */
static int s_run(lua_State *L) {
  int first;
  rt_runtime *rt = self_sim(L, &first);
  des_time limit = -1;
  if (ldes_testudata(L, first, RT_MT_REQUEST, "des.request")) {
    lua_settop(L, first);
    run_event(L, rt, first); /* raises if it failed or the run ended */
    lua_settop(L, first);
    return 1;
  }
  if (ldes_testudata(L, first, RT_MT_EVENT, DES_EVENT_MT) ||
      ldes_testudata(L, first, RT_MT_TASK, DES_TASK_MT) ||
      ldes_testudata(L, first, RT_MT_WAITER, "des.waitq.waiter")) {
    lua_settop(L, first);
    return run_event(L, rt, first);
  }
  if (!lua_isnoneornil(L, first))
    limit = check_time(L, rt, first, "run");
  rt_run(L, rt, limit, 0);
  return 0;
}

/* sim:step() --> true if an event was handled, false if none is left */
static int s_step(lua_State *L) {
  int first;
  rt_runtime *rt = self_sim(L, &first);
  lua_pushboolean(L, rt_run(L, rt, -1, 1) != RT_EMPTY);
  return 1;
}

/* sim:peek() --> time of the next event, or nil */
static int s_peek(lua_State *L) {
  int first;
  rt_runtime *rt = self_sim(L, &first);
  des_time t;
  if (sim_peek(rt->sim, &t) != 0)
    return 0;
  lua_pushnumber(L, rt_units(rt, t));
  return 1;
}

/* sim:now() */
static int s_now(lua_State *L) {
  int first;
  rt_runtime *rt = self_sim(L, &first);
  lua_pushnumber(L, rt_units(rt, sim_now(rt->sim)));
  return 1;
}

/* sim:clock() --> sim:now(), frozen at the close time once closed (what
** statistics read: they stay readable after close) */
static int s_clock(lua_State *L) {
  rt_runtime *rt = ldes_checkudata(L, 1, RT_MT_SIM, DES_SIM_MT);
  lua_pushnumber(L, rt_units(rt, rt_now(rt)));
  return 1;
}

/* sim:pending() --> number of events in the queue */
static int s_pending(lua_State *L) {
  int first;
  rt_runtime *rt = self_sim(L, &first);
  lua_pushinteger(L, (lua_Integer)sim_pending(rt->sim));
  return 1;
}

/* sim:stop(): the run in progress returns after the current event */
static int s_stop(lua_State *L) {
  int first;
  rt_runtime *rt = self_sim(L, &first);
  sim_stop(rt->sim);
  return 0;
}

/* sim:realtime(factor | false [, strict]) and sim:lateness(): pacing is
** the host's (deshost: host/src/host/hpace.c), which puts its function in
** the registry; under a plain lua, a clear error. */
static int s_pace(lua_State *L, const char *what) {
  int first;
  rt_runtime *rt = self_sim(L, &first);
  lua_settop(L, first + 1); /* the two arguments, nil if missing */
  if (lua_getfield(L, LUA_REGISTRYINDEX, LDES_PACE_KEY) != LUA_TFUNCTION)
    return luaL_error(L,
                      "%s: paced runs need deshost (--realtime or "
                      "des_set_realtime)",
                      what);
  lua_pushstring(L, what);
  lua_pushlightuserdata(L, rt);
  lua_pushvalue(L, first);
  lua_pushvalue(L, first + 1);
  lua_call(L, 4, 3);
  return 3;
}

static int s_realtime(lua_State *L) {
  return s_pace(L, "realtime");
}

static int s_lateness(lua_State *L) {
  return s_pace(L, "lateness");
}

/* sim:on_error(fn | nil): fn(task, err) handles tasks' unjoined errors */
static int s_on_error(lua_State *L) {
  int first;
  rt_runtime *rt = self_sim(L, &first);
  if (!lua_isnil(L, first))
    luaL_checktype(L, first, LUA_TFUNCTION);
  rt_push_object(L, rt);
  lua_pushvalue(L, first);
  lua_setiuservalue(L, -2, 2);
  return 0;
}

/* sim:trace(true | fn | false): print every handled event to stderr, or
** pass each line to fn(line), or stop tracing. */
static int s_trace(lua_State *L) {
  int first, mode;
  rt_runtime *rt = self_sim(L, &first);
  if (lua_isfunction(L, first))
    mode = RT_TRACE_LUA;
  else if (lua_isnoneornil(L, first) || lua_isboolean(L, first))
    mode = lua_toboolean(L, first) ? RT_TRACE_STDERR : RT_TRACE_OFF;
  else
    return luaL_error(L, "trace: expected true, false or a function (got %s)",
                      luaL_typename(L, first));
  rt_push_object(L, rt);
  if (mode == RT_TRACE_LUA)
    lua_pushvalue(L, first);
  else
    lua_pushnil(L);
  lua_setiuservalue(L, -2, 3);
  rt_set_trace(rt, mode);
  return 0;
}

/* sim:shuffle_ties(seed | false): handle events due at the same time in a
** seeded random order instead of FIFO, to find order-dependent results. */
static int s_shuffle_ties(lua_State *L) {
  int first;
  rt_runtime *rt = self_sim(L, &first);
  if (lua_isnoneornil(L, first) ||
      (lua_isboolean(L, first) && !lua_toboolean(L, first)))
    sim_set_shuffle(rt->sim, 0, 0);
  else
    sim_set_shuffle(rt->sim, 1, (uint64_t)luaL_checkinteger(L, first));
  return 0;
}

/* sim:events([n]) --> the next n (default 10) events in handling order,
** each {time=, kind=, task=} (runtime events) or {time=, component=,
** kind=, data=} (events of C components; component is its name, or its id
** when it has none). */
static int s_events(lua_State *L) {
  int first, i, n;
  rt_runtime *rt = self_sim(L, &first);
  wheel_event *evs;
  lua_Integer want = luaL_optinteger(L, first, 10);
  luaL_argcheck(L, want >= 0 && want <= 100000, first, "0 to 100000 events");
  /* the queue is listed and sorted whole, then a table per event */
  if (want > 0)
    rt_charge(L, sim_pending(rt->sim) * 2 + (size_t)want * 8);
  evs = lua_newuserdatauv(L, (size_t)want * sizeof(*evs) + 1, 0);
  n = (int)sim_list(rt->sim, evs, (size_t)want);
  if ((size_t)n < (size_t)want && (size_t)n < sim_pending(rt->sim))
    return luaL_error(L, "events: not enough memory to list the queue");
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    lua_createtable(L, 0, 4);
    lua_pushnumber(L, rt_units(rt, evs[i].when));
    lua_setfield(L, -2, "time");
    if (evs[i].payload.target == rt->comp) {
      rt_push_event_subject(L, rt, evs[i].payload.kind, evs[i].payload.data);
      lua_setfield(L, -2, "task");
      lua_pushstring(L, rt_kind_name(evs[i].payload.kind));
      lua_setfield(L, -2, "kind");
    } else {
      rt_push_component_name(L, rt, evs[i].payload.target);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushinteger(L, (lua_Integer)evs[i].payload.target);
      }
      lua_setfield(L, -2, "component");
      lua_pushinteger(L, (lua_Integer)(evs[i].payload.kind & ~RT_CALL_BIT));
      lua_setfield(L, -2, "kind");
      lua_pushinteger(L, (lua_Integer)evs[i].payload.data);
      lua_setfield(L, -2, "data");
    }
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* The spawn serial of the task at list[i]. */
static uint64_t list_serial(lua_State *L, int list, lua_Integer i) {
  uint64_t serial;
  lua_rawgeti(L, list, i);
  serial = ((rt_task *)lua_touserdata(L, -1))->serial;
  lua_pop(L, 1);
  return serial;
}

/* Swap list[i] and list[j] (existing keys: never allocates). */
static void list_swap(lua_State *L, int list, lua_Integer i, lua_Integer j) {
  lua_rawgeti(L, list, i);
  lua_rawgeti(L, list, j);
  lua_rawseti(L, list, i);
  lua_rawseti(L, list, j);
}

/* Sort list[1..n] (tasks) by spawn serial: a heap sort in place, in C. It
** calls no Lua function (the model's table.sort could be anything) and
** allocates nothing, so no finalizer runs while it works. */
static void sort_tasks(lua_State *L, int list, lua_Integer n) {
  lua_Integer start, end, root, child;
  for (start = n / 2; start >= 1; start--) /* heapify, then pop maxima */
    for (root = start; (child = 2 * root) <= n; root = child) {
      if (child < n &&
          list_serial(L, list, child) < list_serial(L, list, child + 1))
        child++;
      if (list_serial(L, list, root) >= list_serial(L, list, child))
        break;
      list_swap(L, list, root, child);
    }
  for (end = n; end > 1; end--) {
    list_swap(L, list, 1, end);
    for (root = 1; (child = 2 * root) <= end - 1; root = child) {
      if (child < end - 1 &&
          list_serial(L, list, child) < list_serial(L, list, child + 1))
        child++;
      if (list_serial(L, list, root) >= list_serial(L, list, child))
        break;
      list_swap(L, list, root, child);
    }
  }
}

/* sim:tasks() --> the live tasks, in spawn order. The list is made (and
** allocated) first, then filled from the task slots, which are read afresh
** at each step (a finalizer run by a growing list can spawn or end tasks). */
static int s_tasks(lua_State *L) {
  int first, list;
  lua_Integer n = 0;
  rt_runtime *rt = self_sim(L, &first);
  rt_global *G = rt->G;
  uint32_t i;
  size_t lg = 1;
  while (((size_t)1 << lg) < rt->alive)
    lg++;
  /* a walk of every slot and a heap sort: the budget counts them */
  rt_charge(L, (G->nslots + rt->alive * lg) >> 3);
  lua_createtable(L, (int)rt->alive, 0);
  list = lua_gettop(L);
  for (i = 0; i < G->nslots; i++) {
    rt_task *t = G->slots[i].task;
    if (t == NULL || t->rt != rt)
      continue;
    rt_push_task(L, t);
    if (lua_touserdata(L, -1) != t) { /* not anchored (cannot happen) */
      lua_pop(L, 1);
      continue;
    }
    lua_rawseti(L, list, ++n);
  }
  sort_tasks(L, list, n);
  return 1;
}

/* Is the simulation at idx the default one (des.default())? */
static int is_default_sim(lua_State *L, int idx) {
  int r;
  lua_getfield(L, LUA_REGISTRYINDEX, DEFAULT_SIM_KEY);
  r = lua_rawequal(L, idx, -1);
  lua_pop(L, 1);
  return r;
}

/* sim:close(): cancel every live task (their <close> variables run, in
** spawn order) and close the simulation: from then on only its statistics
** and its objects' fields can be read. Closing a closed simulation, or one
** that is closing (from a <close> variable of one of its tasks), does
** nothing. The default simulation belongs to its host (or to the Lua state)
** and is closed only with it. */
static int s_close(lua_State *L) {
  rt_runtime *rt = ldes_checkudata(L, 1, RT_MT_SIM, DES_SIM_MT);
  if (rt->closed != RT_OPEN)
    return 0;
  if (is_default_sim(L, 1))
    return luaL_error(L, "close: the default simulation is closed by its "
                         "host, not by a model");
  if (sim_running(rt->sim))
    return luaL_error(L, "close: the simulation is running (close it after "
                         "its run returns)");
  rt_charge(L, LSIM_COST); /* a fresh, empty queue replaces the old one */
  rt_close(L, rt, 1);
  return 0;
}

/* Collected: free the simulation (live tasks are detached, no Lua runs). */
static int s_gc(lua_State *L) {
  rt_free(L, lua_touserdata(L, 1), 1);
  return 0;
}

static int s_tostring(lua_State *L) {
  rt_runtime *rt = luaL_checkudata(L, 1, DES_SIM_MT);
  if (rt->closed == RT_CLOSED)
    lua_pushfstring(L, "des.sim (closed at t=%f)", rt_units(rt, rt->closed_at));
  else
    lua_pushfstring(L, "des.sim: t=%f, %d tasks, %d events",
                    rt_units(rt, sim_now(rt->sim)), (int)rt->alive,
                    (int)sim_pending(rt->sim));
  return 1;
}

/* sim.seed, sim.resolution, sim.closed (true once closed), sim.closed_at
** (the close time, what statistics read afterwards; nil while open),
** methods */
/* sim:at_end(fn): fn(sim) runs once, when the next run of the
** simulation ends for any reason (no event left, only daemons left, its
** `until`, stop, an error, the host's interrupt), with the clock at the
** end time. Hooks run in the order they were added. */
static int s_at_end(lua_State *L) {
  int first;
  rt_runtime *rt = self_sim(L, &first);
  luaL_checktype(L, first, LUA_TFUNCTION);
  lua_settop(L, first);
  rt_push_object(L, rt);
  if (lua_getiuservalue(L, -1, RT_UV_AT_END) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, -3, RT_UV_AT_END);
  }
  lua_pushvalue(L, first);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  return 0;
}

static int s_index(lua_State *L) {
  rt_runtime *rt = luaL_checkudata(L, 1, DES_SIM_MT);
  const char *k;
  if (ldes_method(L))
    return 1;
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "seed") == 0)
    lua_pushinteger(L, (lua_Integer)rt->seed);
  else if (strcmp(k, "resolution") == 0)
    lua_pushinteger(L, rt->resolution);
  else if (strcmp(k, "closed") == 0)
    lua_pushboolean(L, rt->closed == RT_CLOSED);
  else if (strcmp(k, "closed_at") == 0 && rt->closed == RT_CLOSED)
    lua_pushnumber(L, rt_units(rt, rt->closed_at));
  else
    lua_pushnil(L);
  return 1;
}

/* des.interrupted(err) --> err.cause if err is an interrupt, else nil */
static int l_interrupted(lua_State *L) {
  if (lua_getmetatable(L, 1)) {
    luaL_getmetatable(L, "des.Interrupt");
    if (lua_rawequal(L, -1, -2)) {
      lua_getfield(L, 1, "cause");
      if (lua_isnil(L, -1))
        lua_pushboolean(L, 1);
      return 1;
    }
  }
  lua_pushnil(L);
  return 1;
}

/* des.cancelled(err) --> true if err reports a cancelled task */
static int l_cancelled(lua_State *L) {
  lua_pushboolean(L, rt_is_cancelled(L, 1));
  return 1;
}

/* des.current() --> the simulation module functions act on here */
static int l_current(lua_State *L) {
  rt_push_object(L, ldes_runtime_of(L));
  return 1;
}

/* des.default() --> the default simulation */
static int l_default(lua_State *L) {
  rt_push_object(L, default_sim(L));
  return 1;
}

static const luaL_Reg sim_methods[] = {
    {"spawn", s_spawn},       {"run", s_run},
    {"step", s_step},         {"peek", s_peek},
    {"now", s_now},           {"pending", s_pending},
    {"stop", s_stop},         {"tasks", s_tasks},
    {"on_error", s_on_error}, {"close", s_close},
    {"trace", s_trace},       {"shuffle_ties", s_shuffle_ties},
    {"events", s_events},     {"clock", s_clock},
    {"at_end", s_at_end},     {"realtime", s_realtime},
    {"lateness", s_lateness}, {NULL, NULL}};

static const luaL_Reg sim_meta[] = {{"__gc", s_gc},
                                    {"__close", s_close},
                                    {"__tostring", s_tostring},
                                    {NULL, NULL}};

static const luaL_Reg module_funcs[] = {{"new", l_new},
                                        {"run", s_run},
                                        {"step", s_step},
                                        {"peek", s_peek},
                                        {"pending", s_pending},
                                        {"stop", s_stop},
                                        {"tasks", s_tasks},
                                        {"on_error", s_on_error},
                                        {"interrupted", l_interrupted},
                                        {"cancelled", l_cancelled},
                                        {"default", l_default},
                                        {"current", l_current},
                                        {"trace", s_trace},
                                        {"shuffle_ties", s_shuffle_ties},
                                        {"events", s_events},
                                        {"at_end", s_at_end},
                                        {"realtime", s_realtime},
                                        {"lateness", s_lateness},
                                        {NULL, NULL}};

int luaopen_des(lua_State *L) {
  int mod;
  rt_global_get(L);
  lua_newtable(L);
  mod = lua_gettop(L);
  ldes_newmetatable(L, RT_MT_SIM, DES_SIM_MT);
  ldes_setfuncs(L, -1, sim_meta);
  lua_newtable(L);
  ldes_setfuncs(L, -1, sim_methods);
  lua_setfield(L, -2, "methods");
  ldes_set_index(L, -1, s_index);
  lua_pop(L, 1);
  ldes_setfuncs(L, mod, module_funcs);
  ltask_open(L, mod);
  levent_open(L, mod);
  lrng_open(L, mod);
  lcomp_open(L, mod);
  lres_open(L, mod);
  lco_open(L);
  lwait_open(L, mod);
  lstats_open(L, mod);
  lparam_open(L, mod);
  lsched_open(L, mod);
  lua_pushliteral(L, "deshost " DES_VERSION);
  lua_setfield(L, mod, "_VERSION");
  llib_open(L, mod); /* last: it copies the module for the library */
  return 1;
}
