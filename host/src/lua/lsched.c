/*
** lsched.c -- event-style models: des.schedule(dt, fn, ...) and
** des.at(t, fn, ...) (also sim:schedule / sim:at, and des_call_at from C).
**
** A scheduled function is called at its time outside any task, with no
** coroutine and no object per call: the wheel event (kind RT_SCHED) names
** a slot of a per-state slot table, and the function (or, with extra
** arguments, a table packing it with them) sits at that slot's index of
** its simulation's call table (the sim object's user value 5, so that a
** closure that holds its simulation is collected with it). The handle
** returned is a light userdata that encodes slot and generation: :cancel()
** and .time check the generation, so a handle that fired, was cancelled
** or whose slot was reused is stale and harmless. In steady state a call
** with no extra arguments allocates nothing.
*/
#include "ldes.h"

#include "dtime.h"

/* One scheduled call. A free slot keeps gen (bumped when it is freed, so
** that old handles go stale) and links to the next free one. */
typedef struct sched_slot {
  rt_runtime *rt;     /* its simulation; NULL when free */
  wheel_handle ev;    /* its pending wheel event */
  des_time when;      /* when it is due */
  uint32_t gen;       /* generation, from 1 */
  uint32_t next_free; /* free list (index + 1), when free */
} sched_slot;

/* The per-state table of slots (rt_global.sched). Its array is a userdata
** anchored in the registry, replaced (never freed by hand) when it grows,
** so finalizers that run during an allocation never see freed memory. */
typedef struct sched_store {
  sched_slot *slots;
  uint32_t n, cap, free_head; /* free_head: index + 1, 0 if none */
  rt_runtime *cache_rt;       /* whose call table registry[cache_ref][1]
                                  holds (weakly), or NULL */
  int cache_ref;
} sched_store;

static const char sched_key = 's';       /* registry: the store */
static const char sched_slots_key = 'a'; /* registry: its array */

/* The store of L's state, created on first use. */
static sched_store *store_get(lua_State *L, rt_global *G) {
  sched_store *S;
  if (G->sched != NULL)
    return G->sched;
  S = lua_newuserdatauv(L, sizeof(*S), 0);
  memset(S, 0, sizeof(*S));
  lua_rawsetp(L, LUA_REGISTRYINDEX, &sched_key);
  lua_createtable(L, 1, 0); /* the cache: weak, so that it holds no sim */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  S->cache_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  G->sched = S;
  return S;
}

/* Make room for one more slot. The allocation may run finalizers that
** schedule calls themselves: the store is read again after it. */
static void store_grow(lua_State *L, sched_store *S) {
  uint32_t cap = S->cap ? S->cap * 2 : 64;
  sched_slot *a;
  if (cap > (UINT32_MAX >> 1))
    luaL_error(L, "schedule: too many pending scheduled calls");
  a = lua_newuserdatauv(L, (size_t)cap * sizeof(*a), 0);
  if (S->cap >= cap || S->free_head != 0) { /* a finalizer made room */
    lua_pop(L, 1);
    return;
  }
  if (S->n > 0)
    memcpy(a, S->slots, (size_t)S->n * sizeof(*a));
  S->slots = a;
  S->cap = cap;
  lua_rawsetp(L, LUA_REGISTRYINDEX, &sched_slots_key);
}

/* Take a free slot for rt; returns its index (from 1). */
static uint32_t slot_take(lua_State *L, sched_store *S, rt_runtime *rt) {
  uint32_t i;
  sched_slot *s;
  while (S->free_head == 0 && S->n == S->cap)
    store_grow(L, S);
  if (S->free_head != 0) {
    i = S->free_head;
    S->free_head = S->slots[i - 1].next_free;
  } else {
    i = ++S->n;
    S->slots[i - 1].gen = 1;
  }
  s = &S->slots[i - 1];
  s->rt = rt;
  s->ev = 0;
  s->when = 0;
  s->next_free = 0;
  return i;
}

/* Give slot i back: its handles go stale. */
static void slot_free(sched_store *S, uint32_t i) {
  sched_slot *s = &S->slots[i - 1];
  s->rt = NULL;
  s->ev = 0;
  s->gen = s->gen == UINT32_MAX ? 1 : s->gen + 1;
  s->next_free = S->free_head;
  S->free_head = i;
}

/* Push rt's call table (the sim object's user value 5), creating it. The
** last one used is also in a weak cache reached by integer keys (finding
** the sim object by its pointer costs two hashed lookups): `cache` is its
** stack index (des.schedule's upvalue 2), or 0 to take it from the
** registry. */
static void push_calls(lua_State *L, sched_store *S, rt_runtime *rt,
                       int cache) {
  if (S->cache_rt == rt) {
    if (cache != 0) {
      if (lua_rawgeti(L, cache, 1) == LUA_TTABLE)
        return;
      lua_pop(L, 1);
    } else {
      lua_rawgeti(L, LUA_REGISTRYINDEX, S->cache_ref);
      if (lua_rawgeti(L, -1, 1) == LUA_TTABLE) {
        lua_remove(L, -2);
        return;
      }
      lua_pop(L, 2);
    }
  }
  rt_push_object(L, rt);
  if (lua_getiuservalue(L, -1, RT_UV_CALLS) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 16, 0);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, -3, RT_UV_CALLS);
  }
  lua_remove(L, -2);
  lua_rawgeti(L, LUA_REGISTRYINDEX, S->cache_ref);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, 1); /* an existing array slot: no allocation */
  lua_pop(L, 1);
  S->cache_rt = rt;
}

/* The handle of slot i: a light userdata, never NULL (gen >= 1). */
static void push_handle(lua_State *L, sched_store *S, uint32_t i) {
  uint64_t v = ((uint64_t)S->slots[i - 1].gen << 32) | i;
  lua_pushlightuserdata(L, (void *)(uintptr_t)v);
}

/* The pending slot a handle names, or 0 if it fired, was cancelled, or
** is not a handle at all. */
static uint32_t handle_slot(lua_State *L, sched_store *S, int idx) {
  uint64_t v = (uint64_t)(uintptr_t)lua_touserdata(L, idx);
  uint32_t i = (uint32_t)v, gen = (uint32_t)(v >> 32);
  if (S == NULL || i == 0 || i > S->n || S->slots[i - 1].gen != gen ||
      S->slots[i - 1].rt == NULL)
    return 0;
  return i;
}

/* Schedule fn (at fidx) with the nargs values after it at `when` on rt;
** pushes the handle (and leaves the call table below it: the callers
** return one value). `cache`: see push_calls. */
static int sched_push(lua_State *L, rt_runtime *rt, des_time when, int fidx,
                      int nargs, const char *fname, int cache) {
  rt_global *G = rt->G;
  sched_store *S;
  uint32_t i;
  int rc;
  if (G->closing)
    rt_check_state(L, fname); /* raises */
  S = store_get(L, G);
  if (lua_type(L, fidx) != LUA_TFUNCTION)
    luaL_checktype(L, fidx, LUA_TFUNCTION);
  rt_check_live(L, rt);
  push_calls(L, S, rt, cache);
  if (nargs == 0)
    lua_pushvalue(L, fidx);
  else { /* {fn, n, args...} */
    int k;
    lua_createtable(L, nargs + 2, 0);
    lua_pushvalue(L, fidx);
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, nargs);
    lua_rawseti(L, -2, 2);
    for (k = 1; k <= nargs; k++) {
      lua_pushvalue(L, fidx + k);
      lua_rawseti(L, -2, k + 2);
    }
  }
  i = slot_take(L, S, rt);     /* may run finalizers */
  lua_rawseti(L, -2, i);       /* may too; a memory error: lsched_forget */
  if (rt->closed != RT_OPEN) { /* a finalizer closed it meanwhile */
    slot_free(S, i);
    rt_check_live(L, rt);
  }
  rc = sim_schedule(rt->sim, when, rt->comp, RT_SCHED,
                    ((uint64_t)S->slots[i - 1].gen << 32) | i,
                    &S->slots[i - 1].ev);
  if (rc != 0) {
    push_calls(L, S, rt, 0);
    lua_pushnil(L);
    lua_rawseti(L, -2, i);
    slot_free(S, i);
    return luaL_error(L, "%s: %s", fname, sim_strerror(rc));
  }
  S->slots[i - 1].when = when;
  push_handle(L, S, i);
  return 1;
}

/* The simulation at 1 (sim:schedule) or the current one (des.schedule);
** *first gets the index of the first argument. */
static rt_runtime *self_sim(lua_State *L, int *first) {
  if (lua_type(L, 1) == LUA_TUSERDATA &&
      ldes_testudata(L, 1, RT_MT_SIM, DES_SIM_MT)) {
    *first = 2;
    return lua_touserdata(L, 1);
  }
  *first = 1;
  { /* inside a scheduled function: the simulation calling it (what
    ** ldes_runtime_of finds, without looking for a task) */
    rt_global *G = lua_touserdata(L, lua_upvalueindex(1));
    if (G != NULL && G->sched_firing == L && G->dispatching != NULL)
      return G->dispatching;
  }
  return ldes_runtime_of(L);
}

/* des.schedule(dt, fn, ...) --> handle: fn(...) at now + dt */
static int l_schedule(lua_State *L) {
  int first;
  rt_runtime *rt = self_sim(L, &first);
  des_time dt = rt_check_duration(L, rt, first, "schedule"), when;
  rt_check_open(L, rt);
  if (sim_time_after(rt->sim, dt, &when) != 0)
    return luaL_error(L, "schedule: time overflows the simulated clock");
  return sched_push(L, rt, when, first + 1, lua_gettop(L) - first - 1,
                    "schedule", lua_upvalueindex(2));
}

/* des.at(t, fn, ...) --> handle: fn(...) at time t (>= now) */
static int l_at(lua_State *L) {
  int first;
  rt_runtime *rt = self_sim(L, &first);
  des_time when = rt_check_duration(L, rt, first, "at");
  rt_check_open(L, rt);
  if (when < sim_now(rt->sim))
    return luaL_error(L, "at: time %f is before the current time %f",
                      rt_units(rt, when), rt_units(rt, sim_now(rt->sim)));
  return sched_push(L, rt, when, first + 1, lua_gettop(L) - first - 1, "at",
                    lua_upvalueindex(2));
}

/* Cancel the pending call of slot i. */
static void sched_cancel(lua_State *L, sched_store *S, uint32_t i) {
  rt_runtime *rt = S->slots[i - 1].rt;
  sim_cancel(rt->sim, S->slots[i - 1].ev); /* stale once closed: fine */
  slot_free(S, i);
  rt_push_object(L, rt);
  if (lua_getiuservalue(L, -1, RT_UV_CALLS) == LUA_TTABLE) {
    lua_pushnil(L);
    lua_rawseti(L, -2, i);
  }
  lua_pop(L, 2);
}

/* handle:cancel() --> true if it was pending (it will not be called),
** false if it fired or was cancelled already */
static int h_cancel(lua_State *L) {
  rt_global *G = lua_touserdata(L, lua_upvalueindex(1));
  sched_store *S = G->sched;
  uint32_t i;
  luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
  i = handle_slot(L, S, 1);
  if (i != 0)
    sched_cancel(L, S, i);
  lua_pushboolean(L, i != 0);
  return 1;
}

int lsched_cancel(lua_State *L, uint64_t handle) {
  sched_store *S = rt_global_get(L)->sched;
  uint32_t i;
  lua_pushlightuserdata(L, (void *)(uintptr_t)handle);
  i = handle_slot(L, S, -1);
  lua_pop(L, 1);
  if (i != 0)
    sched_cancel(L, S, i);
  return i != 0;
}

/* handle.time (when it is due; nil once it fired or was cancelled),
** handle.pending, and the methods */
static int h_index(lua_State *L) {
  rt_global *G = lua_touserdata(L, lua_upvalueindex(1));
  sched_store *S = G->sched;
  const char *k = lua_tostring(L, 2);
  uint32_t i = handle_slot(L, S, 1);
  if (k != NULL && strcmp(k, "time") == 0) {
    if (i == 0)
      return 0;
    lua_pushnumber(L, rt_units(S->slots[i - 1].rt, S->slots[i - 1].when));
    return 1;
  }
  if (k != NULL && strcmp(k, "pending") == 0) {
    lua_pushboolean(L, i != 0);
    return 1;
  }
  if (k != NULL && strcmp(k, "cancel") == 0) {
    lua_pushvalue(L, lua_upvalueindex(2));
    return 1;
  }
  return 0;
}

static int h_tostring(lua_State *L) {
  rt_global *G = lua_touserdata(L, lua_upvalueindex(1));
  sched_store *S = G->sched;
  uint32_t i = handle_slot(L, S, 1);
  if (i == 0)
    lua_pushliteral(L, "des.scheduled (done)");
  else
    lua_pushfstring(L, "des.scheduled (at t=%f)",
                    rt_units(S->slots[i - 1].rt, S->slots[i - 1].when));
  return 1;
}

/* Message handler of a scheduled call: the message and its traceback. */
static int fire_msgh(lua_State *L) {
  rt_push_error_text(L, 1);
  luaL_traceback(L, L, lua_tostring(L, -1), 1);
  return 1;
}

/* A run of scheduled calls, handled in one protected call (fire_calls). */
typedef struct sched_run {
  rt_runtime *rt;
  sim_event ev; /* the event whose function is called now */
} sched_run;

/* Call the function of r->ev, then of each event after it that
** sim_take_next hands over (the next event of the run, when it is a
** scheduled call too): an event-style model pays one lua_pcall and one
** trip through the run loop per run of calls, not per call. Stops at a
** stop request to the host (rt_handler passes it on) or a closed
** simulation. Stack: the sched_run, the weak cache, the call table. */
static int fire_calls(lua_State *L) {
  sched_run *r = lua_touserdata(L, 1);
  rt_runtime *rt = r->rt;
  rt_global *G = rt->G;
  for (;;) {
    sched_store *S = G->sched;
    uint32_t i = (uint32_t)r->ev.data, gen = (uint32_t)(r->ev.data >> 32);
    if (i != 0 && i <= S->n && S->slots[i - 1].gen == gen &&
        S->slots[i - 1].rt == rt) { /* else cannot happen: cancel cancels */
      int nargs = 0;
      int ty = lua_rawgeti(L, 3, i); /* the function, or {fn, n, args...} */
      lua_pushnil(L);
      lua_rawseti(L, 3, i); /* the call is gone before it runs */
      slot_free(S, i);
      if (ty == LUA_TTABLE) {
        int t = lua_gettop(L), k;
        lua_rawgeti(L, t, 2);
        nargs = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (!lua_checkstack(L, nargs + 2))
          return luaL_error(L, "schedule: too many arguments");
        for (k = 1; k <= nargs + 2; k++)
          if (k != 2)
            lua_rawgeti(L, t, k);
        lua_remove(L, t);
      }
      lua_call(L, nargs, 0);
    }
    if (atomic_load_explicit(&G->stop_all, memory_order_relaxed) ||
        rt->closed != RT_OPEN ||
        !sim_take_next(rt->sim, r->ev.component, RT_SCHED, &r->ev))
      return 0;
  }
}

int lsched_fire(rt_runtime *rt, const sim_event *ev) {
  lua_State *L = rt->L, *outer;
  sched_store *S = rt->G->sched;
  sched_run r;
  int top = lua_gettop(L), status;
  if (S == NULL)
    return 0; /* cannot happen: a call was scheduled */
  r.rt = rt;
  r.ev = *ev;
  lua_pushcfunction(L, fire_msgh);
  lua_pushcfunction(L, fire_calls);
  lua_pushlightuserdata(L, &r);
  lua_rawgeti(L, LUA_REGISTRYINDEX, S->cache_ref); /* top + 4 */
  push_calls(L, S, rt, top + 4);
  outer = rt->G->sched_firing;
  rt->G->sched_firing = L;
  status = lua_pcall(L, 3, 0, top + 1);
  rt->G->sched_firing = outer;
  if (status != LUA_OK) {
    lua_pushfstring(L, "scheduled function failed at t=%f: %s",
                    rt_units(rt, sim_now(rt->sim)), lua_tostring(L, -1));
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return 1;
  }
  lua_settop(L, top);
  return 0;
}

int lsched_calling(rt_global *G, lua_State *L) {
  return G->sched_firing == L;
}

void lsched_forget(lua_State *L, rt_runtime *rt, int obj) {
  sched_store *S = rt->G->sched;
  uint32_t i;
  if (S == NULL)
    return;
  rt_charge_later(L, S->n >> 2); /* every simulation's slots: charged */
  for (i = 1; i <= S->n; i++)
    if (S->slots[i - 1].rt == rt)
      slot_free(S, i);
  if (S->cache_rt == rt)
    S->cache_rt = NULL;
  lua_pushnil(L); /* drop the call table: no allocation */
  lua_setiuservalue(L, obj, RT_UV_CALLS);
}

/* des_call_at's protected part: (sim, ticks, fn, args...). */
int lsched_at_ticks(lua_State *L) {
  rt_runtime *rt = luaL_checkudata(L, 1, DES_SIM_MT);
  des_time when = (des_time)luaL_checkinteger(L, 2);
  rt_check_open(L, rt);
  if (when < sim_now(rt->sim))
    return luaL_error(L, "des_call_at: time %I is before the current time %I",
                      (lua_Integer)when, (lua_Integer)sim_now(rt->sim));
  if (lua_type(L, 3) != LUA_TFUNCTION)
    return luaL_error(L, "des_call_at: no function below the %d arguments",
                      lua_gettop(L) - 3);
  return sched_push(L, rt, when, 3, lua_gettop(L) - 3, "des_call_at", 0);
}

static const luaL_Reg sched_funcs[] = {
    {"schedule", l_schedule}, {"at", l_at}, {NULL, NULL}};

/* Register des.schedule/at, the sim methods and the handles' metatable
** (the metatable of light userdata: handles are the only light userdata
** a model sees). */
void lsched_open(lua_State *L, int mod) {
  sched_store *S = store_get(L, rt_global_get(L));
  const luaL_Reg *f;
  mod = lua_absindex(L, mod);
  rt_global_get(L)->bind.fire_scheduled = lsched_fire;
  rt_global_get(L)->bind.sched_forget = lsched_forget;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &rt_mt_keys[RT_MT_SIM]);
  lua_getfield(L, -1, "methods");
  for (f = sched_funcs; f->name != NULL; f++) {
    lua_getfield(L, LUA_REGISTRYINDEX, RT_GLOBAL_KEY);
    lua_rawgeti(L, LUA_REGISTRYINDEX, S->cache_ref);
    lua_pushcclosure(L, f->func, 2);
    lua_pushvalue(L, -1);
    lua_setfield(L, mod, f->name);
    lua_setfield(L, -2, f->name);
  }
  lua_pop(L, 2);
  lua_createtable(L, 0, 3);
  lua_getfield(L, LUA_REGISTRYINDEX, RT_GLOBAL_KEY);
  lua_pushcclosure(L, h_tostring, 1);
  lua_setfield(L, -2, "__tostring");
  lua_getfield(L, LUA_REGISTRYINDEX, RT_GLOBAL_KEY);
  lua_getfield(L, LUA_REGISTRYINDEX, RT_GLOBAL_KEY);
  lua_pushcclosure(L, h_cancel, 1);
  lua_pushcclosure(L, h_index, 2);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "des.scheduled");
  lua_setfield(L, -2, "__metatable");
  lua_pushlightuserdata(L, NULL);
  lua_pushvalue(L, -2);
  lua_setmetatable(L, -2);
  lua_pop(L, 2);
}
