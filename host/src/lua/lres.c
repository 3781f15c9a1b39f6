/*
** lres.c -- des.resource: n identical servers that tasks acquire and
** release, in C because it sits on the hot path of most models.
**
**   local clerks = des.resource(2)                -- FIFO
**   local req <close> = clerks:acquire()          -- wait for a clerk
**   local req, err = clerks:acquire(nil, 5)       -- nil, "timed out" after 5
**   local pr = des.resource(1, {priority = true, preemptive = true})
**   local req <close> = pr:acquire(0)             -- lower number first
**
** Waiting requests form a queue ordered by (priority, arrival); holders are
** kept for preemption and listings. A request is an event (lreq.c): tasks
** and des.any/des.all wait on it, and a grant wakes them through the
** scheduler. A request abandoned while it waits (cancel, interrupt,
** timeout) leaves the queue at once through the task's leave hook; one
** granted to a task that left before it resumed is handed on. Preemption
** interrupts the worst holder (the most recent among equals) with a cause
** {kind="preempted", by=, usage_since=, resource=}.
**
** Statistics kept without model code, by the statistics core as for
** des.monitor (lstats.c): res.stats.queue and res.stats.busy (des.level,
** with the time at each count), res.stats.wait (des.tally of the waiting
** times of granted requests) and res.stats.reneged (how long the requests
** that left the queue unserved had waited: timed out, withdrawn,
** interrupted, cancelled). They stay readable after the resource and its
** simulation.
**
** Layouts and user values: lres.h. This file has des.resource's object
** (making it, its statistics table, capacity, listings, properties); the
** policy (grant, queue, release, preemption, anchors) is lrespol.c's.
*/
#include "lres.h"

/* {====================================================================
** Statistics: res.stats.queue / busy / wait
** ===================================================================== */

/* res.stats: {queue=, busy=, wait=, reneged=}, made once per resource */
static void push_stats(lua_State *L, int ridx) {
  static const char *const keys[] = {"queue", "busy", "wait", "reneged"};
  int i;
  if (lua_getiuservalue(L, ridx, 4) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 4);
  for (i = 0; i < 4; i++) {
    lua_getiuservalue(L, ridx, 5 + i);
    lua_setfield(L, -2, keys[i]);
  }
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, ridx, 4);
}

/* The statistics of the new resource r at the top: queue length and busy
** count (time-weighted, time at each count), waiting times of the granted
** requests and of those that reneged, anchored in its user values 5..8. */
static void new_stats(lua_State *L, lres *r) {
  r->lqueue = lstats_push_level(L, r->rt, "queue length", 0, 1);
  lua_setiuservalue(L, -2, 5);
  r->lbusy = lstats_push_level(L, r->rt, "in use", 0, 1);
  lua_setiuservalue(L, -2, 6);
  r->wait = lstats_push_tally(L, "waiting time");
  lua_setiuservalue(L, -2, 7);
  r->reneged = lstats_push_tally(L, "waiting time before reneging");
  lua_setiuservalue(L, -2, 8);
}

/* }==================================================================== */

/* {====================================================================
** des.resource and its methods
** ===================================================================== */

lres *lres_check(lua_State *L, int idx) {
  return ldes_checkudata(L, idx, RT_MT_RESOURCE, DES_RESOURCE_MT);
}
#define check_res lres_check

/* The option maxlen of des.resource's options at 2: -1 when absent. */
static lua_Integer opt_maxlen(lua_State *L) {
  lua_Integer k = -1;
  lua_pushliteral(L, "maxlen");
  lua_rawget(L, 2);
  if (!lua_isnil(L, -1) &&
      (!lua_isinteger(L, -1) || (k = lua_tointeger(L, -1)) < 0))
    luaL_error(L, "resource: maxlen must be an integer >= 0 (got %s)",
               luaL_tolstring(L, -1, NULL));
  lua_pop(L, 1);
  return k;
}

/* des.resource(capacity [, {priority=, preemptive=, maxlen=, name=}]) */
static int l_resource(lua_State *L) {
  lua_Integer cap;
  rt_runtime *rt = ldes_runtime_of(L);
  lres *r;
  rt_check_state(L, "resource");
  int priority = 0, preemptive = 0;
  lua_Integer maxlen = -1;
  if (!lua_isinteger(L, 1) || (cap = lua_tointeger(L, 1)) < 1)
    return luaL_error(L, "resource: capacity must be an integer >= 1 (got %s)",
                      luaL_tolstring(L, 1, NULL));
  if (!lua_isnoneornil(L, 2)) {
    if (!lua_istable(L, 2))
      return luaL_error(L, "resource: options must be a table");
    lua_pushliteral(L, "priority"); /* raw: options are plain data */
    lua_rawget(L, 2);
    lua_pushliteral(L, "preemptive");
    lua_rawget(L, 2);
    preemptive = lua_toboolean(L, -1);
    priority = lua_toboolean(L, -2) || preemptive;
    lua_pop(L, 2);
    maxlen = opt_maxlen(L);
  }
  r = lua_newuserdatauv(L, sizeof(*r), LRES_UV_ANCHOR - 1 + LRES_UV_ANCHORS);
  memset(r, 0, sizeof(*r));
  r->uvfree = LRES_UV_ANCHORS == 64 ? ~(uint64_t)0
                                    : ((uint64_t)1 << LRES_UV_ANCHORS) - 1;
  r->rt = rt;
  r->G = rt->G;
  r->capacity = cap;
  r->maxlen = maxlen;
  r->priority = (uint8_t)priority;
  r->preemptive = (uint8_t)preemptive;
  wq_init(&r->q, priority);
  rt_setmetatable(L, RT_MT_RESOURCE);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  if (lua_istable(L, 2)) {
    lua_pushliteral(L, "name");
    lua_rawget(L, 2);
    lua_setiuservalue(L, -2, 2);
  }
  rt_push_object(L, rt);
  lua_setiuservalue(L, -2, 3);
  new_stats(L, r);
  lres_reserve_users(L, r, (size_t)(cap < 16 ? cap : 16));
  lres_level_reserve(L, r->lqueue, 8);
  lstats_register(L, -1, rt); /* its statistics in the report */
  return 1;
}

/* res:set_capacity(n): growing grants waiters at once; shrinking never
** takes a server from its holder, it only stops new grants. */
static int r_set_capacity(lua_State *L) {
  lres *r = check_res(L, 1);
  lua_Integer n;
  rt_check_open(L, r->rt);
  if (!lua_isinteger(L, 2) || (n = lua_tointeger(L, 2)) < 1)
    return luaL_error(L,
                      "set_capacity: capacity must be an integer >= 1 (got %s)",
                      luaL_tolstring(L, 2, NULL));
  lres_reserve_users(L, r,
                     (size_t)(n < r->count + (lua_Integer)r->q.len
                                  ? n
                                  : r->count + (lua_Integer)r->q.len));
  r->capacity = n;
  lres_grant_waiting(L, r);
  return 0;
}

/* A list of the holders' tasks (LIST_HOLDERS), the waiters' tasks
** (LIST_WAITERS) or the waiting requests (LIST_QUEUE), in order. The
** counts are read afresh at each step: an allocation (the list growing)
** can run a finalizer that releases or queues requests. */
enum { LIST_HOLDERS, LIST_WAITERS, LIST_QUEUE };
static int push_list(lua_State *L, lres *r, int which) {
  size_t i;
  lua_createtable(L, (int)(which == LIST_HOLDERS ? r->nusers : r->q.len), 0);
  lua_getiuservalue(L, 1, 1);
  /* each push may allocate and so run a finalizer that changes the
  ** resource: the count and the position are read again at every step
  ** (quadratic in the queue's length, for a listing) */
  for (i = 0; i < (which == LIST_HOLDERS ? r->nusers : r->q.len); i++) {
    lres_req *req;
    if (which == LIST_HOLDERS)
      req = r->users[i];
    else {
      wq_node *qn = wq_first(&r->q);
      size_t k;
      rt_charge(L, i); /* nothing changed: a listing */
      for (k = 0; k < i; k++)
        qn = wq_next(qn);
      req = lres_req_of(qn);
    }
    if (which == LIST_QUEUE)
      lres_push_req(L, req);
    else
      rt_push_task_by_id(L, r->rt, req->task_id); /* its task */
    lua_rawseti(L, -3, (lua_Integer)i + 1);
  }
  lua_pop(L, 1);
  return 1;
}

static int r_holders(lua_State *L) {
  return push_list(L, check_res(L, 1), LIST_HOLDERS);
}

static int r_waiters(lua_State *L) {
  return push_list(L, check_res(L, 1), LIST_WAITERS);
}

/* }==================================================================== */

/* {====================================================================
** Properties and metatables
** ===================================================================== */

/* res.capacity, .count, .name, .priority, .preemptive, .maxlen, .queue (a
** list of the waiting requests), .queued (their number), .stats; methods */
static int r_index(lua_State *L) {
  lres *r;
  const char *k;
  if (ldes_method(L)) /* first: methods check their resource themselves */
    return 1;
  r = check_res(L, 1);
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "count") == 0)
    lua_pushinteger(L, r->count);
  else if (strcmp(k, "capacity") == 0)
    lua_pushinteger(L, r->capacity);
  else if (strcmp(k, "stats") == 0)
    push_stats(L, 1);
  else if (strcmp(k, "name") == 0)
    lua_getiuservalue(L, 1, 2);
  else if (strcmp(k, "queue") == 0)
    push_list(L, r, LIST_QUEUE);
  else if (strcmp(k, "priority") == 0)
    lua_pushboolean(L, r->priority);
  else if (strcmp(k, "preemptive") == 0)
    lua_pushboolean(L, r->preemptive);
  else if (strcmp(k, "queued") == 0)
    lua_pushinteger(L, (lua_Integer)r->q.len);
  else if (strcmp(k, "maxlen") == 0 && r->maxlen >= 0)
    lua_pushinteger(L, r->maxlen);
  else
    lua_pushnil(L);
  return 1;
}

static int r_tostring(lua_State *L) {
  lres *r = check_res(L, 1);
  if (lua_getiuservalue(L, 1, 2) == LUA_TSTRING)
    lua_pushfstring(L, "des.resource '%s': %I/%I in use, %I waiting",
                    lua_tostring(L, -1), r->count, r->capacity,
                    (lua_Integer)r->q.len);
  else
    lua_pushfstring(L, "des.resource: %I/%I in use, %I waiting", r->count,
                    r->capacity, (lua_Integer)r->q.len);
  return 1;
}

static int r_gc(lua_State *L) {
  lres *r = lua_touserdata(L, 1);
  wq_node *n;
  /* inert from now on (a finalizer may bring it back): nobody waits, so a
  ** late release grants nothing into the freed holders' array */
  while ((n = wq_first(&r->q)) != NULL)
    wq_expire(n);
  lres_realloc(r, r->users, r->capusers * sizeof(*r->users), 0);
  lres_realloc(r, r->free_slots, r->capslots * sizeof(*r->free_slots), 0);
  r->free_slots = NULL;
  r->nfree = r->capslots = 0; /* nslots stays: no slot is handed out twice */
  r->users = NULL;
  r->capusers = r->nusers = 0;
  return 0;
}

static const luaL_Reg res_methods[] = {{"acquire", lreq_acquire},
                                       {"request", lreq_request},
                                       {"release", lreq_release},
                                       {"set_capacity", r_set_capacity},
                                       {"holders", r_holders},
                                       {"waiters", r_waiters},
                                       {NULL, NULL}};

static const luaL_Reg module_funcs[] = {{"resource", l_resource}, {NULL, NULL}};

void lres_open(lua_State *L, int mod) {
  ldes_newmetatable(L, RT_MT_RESOURCE, DES_RESOURCE_MT);
  lua_pushcfunction(L, r_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, r_gc);
  lua_setfield(L, -2, "__gc");
  lua_newtable(L);
  ldes_setfuncs(L, -1, res_methods);
  lua_setfield(L, -2, "methods");
  ldes_set_index(L, -1, r_index);
  lua_pop(L, 1);
  lreq_open(L);
  ldes_setfuncs(L, mod, module_funcs);
}
