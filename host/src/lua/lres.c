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
** Layouts and user values: lres.h.
*/
#include "lres.h"

/* {====================================================================
** Memory and statistics
** ===================================================================== */

/* Resize an array through the state's allocator; NULL on failure. */
static void *lres_realloc(lres *r, void *p, size_t osize, size_t nsize) {
  return r->G->allocf(r->G->allocud, p, osize, nsize);
}

/* Make room to count the time at the count n (raises on no memory), so
** that setting the level to n later cannot fail. */
static inline void level_reserve(lua_State *L, stats_level *lv, size_t n) {
  if (stats_level_reserve_count(lv, n) != STATS_OK)
    luaL_error(L, "resource: not enough memory for statistics");
}

/* Set a level to the count n from now on. */
static inline void level_set(lres *r, stats_level *lv, uint64_t n) {
  stats_level_set_count(lv, rt_now(r->rt), n);
}

/* }==================================================================== */

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
** The queue and the holders
** ===================================================================== */

/* Take req out of the holders. The search and the move grow with the
** number of holders (a model sets the capacity): charged, later (this is
** the middle of a release). */
static void users_remove(lua_State *L, lres *r, lres_req *req) {
  size_t i;
  for (i = 0; i < r->nusers; i++)
    if (r->users[i] == req) {
      for (r->nusers--; i < r->nusers; i++)
        r->users[i] = r->users[i + 1];
      break;
    }
  if (L != NULL && r->nusers >= 4)
    rt_charge_later(L, r->nusers >> 2);
}

/* Room for n holders and their busy counts (raises on no memory). */
static void reserve_users_slow(lua_State *L, lres *r, size_t n) {
  if (n > r->capusers) {
    void *p = lres_realloc(r, r->users, r->capusers * sizeof(*r->users),
                           n * sizeof(*r->users));
    if (p == NULL)
      luaL_error(L, "resource: not enough memory");
    r->users = p;
    r->capusers = n;
  }
  level_reserve(L, r->lbusy, n);
}

/* The same, inline when there is room already (every request). */
static inline void reserve_users(lua_State *L, lres *r, size_t n) {
  if (n > r->capusers || (r->lbusy->keep_at && n >= r->lbusy->ndense))
    reserve_users_slow(L, r, n);
}

/* Wake what waits on req, now granted: tasks without Lua; composites
** (des.any/des.all holding it) through rt_trigger, which needs the
** request's object and L. Without L (never expected: the runtime passes
** it to leave hooks) composites are unlinked rather than woken as tasks. */
static void wake(lua_State *L, lres_req *req) {
  rt_waiter *n = req->w.head;
  while (n != NULL && n->notify == NULL)
    n = n->next;
  if (n != NULL && L != NULL) {
    lres_push_req(L, req);
    if (lua_touserdata(L, -1) == req) {
      rt_trigger(L, &req->w, -1, WAITABLE_OK);
      lua_pop(L, 1);
      return;
    }
    lua_pop(L, 1);
  }
  if (n != NULL)
    ldes_detach_composites(&req->w); /* (no composite can be told) */
  rt_trigger_tasks(&req->w);
}

/* Give a server to req now; wakes what waits on it. Allocates nothing
** when only tasks wait: users has room for capacity holders. */
static void grant(lua_State *L, lres *r, lres_req *req) {
  req->granted = 1;
  req->granted_at = rt_now(r->rt);
  r->users[r->nusers++] = req;
  r->count++;
  level_set(r, r->lbusy, (uint64_t)r->count);
  stats_tally_add(r->wait, rt_units(r->rt, req->granted_at - req->time));
  if (req->w.head != NULL)
    wake(L, req);
  else
    req->w.state = WAITABLE_OK;
}

/* Hand free servers to waiting requests. Waking a composite allocates, so
** a finalizer may change the resource meanwhile: each turn reads it anew. */
static void grant_waiting(lua_State *L, lres *r) {
  wq_node *n;
  while (r->count < r->capacity && r->capusers > (size_t)r->count &&
         (n = wq_first(&r->q)) != NULL) {
    lres_req *req = lres_req_of(n);
    wq_serve(n);
    level_set(r, r->lqueue, r->q.len);
    grant(L, r, req);
  }
}

/* A queued request left unserved: how long it waited is a reneging. */
static void renege(lres_req *req) {
  lres *r = req->res;
  req->reneged = 1;
  level_set(r, r->lqueue, r->q.len);
  stats_tally_add(r->reneged, rt_units(r->rt, rt_now(r->rt) - req->time));
}

void lres_release(lua_State *L, lres_req *req) {
  lres *r = req->res;
  int was = wq_leave(&req->n);
  if (req->released)
    return;
  req->released = 1;
  if (req->granted) {
    users_remove(L, r, req);
    r->count--;
    level_set(r, r->lbusy, (uint64_t)r->count);
    grant_waiting(L, r);
  } else if (was == WQ_QUEUED)
    renege(req);
}

void lres_expire(lres_req *req) {
  if (wq_expire(&req->n)) {
    req->released = 1;
    renege(req);
  }
}

void lres_enqueue(lua_State *L, lres_req *req) {
  lres *r = req->res;
  /* a request more urgent than those queued walks past them: charged */
  size_t walked = wq_push(&r->q, &req->n, req->priority);
  if (walked > 0)
    rt_charge_later(L, walked);
  level_set(r, r->lqueue, r->q.len);
}

/* }==================================================================== */

/* {====================================================================
** Lua objects: anchoring, checks
** ===================================================================== */

lres *lres_check(lua_State *L, int idx) {
  return ldes_checkudata(L, idx, RT_MT_RESOURCE, DES_RESOURCE_MT);
}
#define check_res lres_check

/* Anchor the request at idx in the resource at ridx (a received request
** stays alive until released): in a free slot, or a new one. Raises on no
** memory before anything changes. */
void lres_anchor(lua_State *L, int ridx, lres_req *req, int idx) {
  lres *r = req->res;
  uint32_t slot;
  if (r->uvfree != 0) { /* the lowest free user value: cannot fail */
    int b = __builtin_ctzll(r->uvfree);
    ridx = lua_absindex(L, ridx);
    lua_pushvalue(L, idx);
    lua_setiuservalue(L, ridx, LRES_UV_ANCHOR + b);
    r->uvfree &= r->uvfree - 1;
    req->slot = (uint32_t)b + 1;
    return;
  }
  idx = lua_absindex(L, idx);
  if (r->nfree == 0 && r->capslots <= r->nslots) { /* room to free every
                                                      slot, a new one too */
    uint32_t n = r->capslots ? r->capslots * 2 : 4;
    uint32_t *p = lres_realloc(r, r->free_slots, r->capslots * sizeof(*p),
                               n * sizeof(*p));
    if (p == NULL)
      luaL_error(L, "request: not enough memory");
    r->free_slots = p;
    r->capslots = n;
  }
  slot = r->nfree > 0 ? r->free_slots[r->nfree - 1] : r->nslots + 1;
  lua_getiuservalue(L, ridx, 1);
  lua_pushvalue(L, idx);
  lua_rawseti(L, -2, slot); /* may grow the table: raises before we commit */
  lua_pop(L, 1);
  if (r->nfree > 0)
    r->nfree--;
  else
    r->nslots++;
  req->slot = LRES_UV_ANCHORS + slot;
}

/* Drop the request's anchor, if any (allocates nothing). */
void lres_unanchor(lua_State *L, int ridx, lres_req *req) {
  lres *r = req->res;
  uint32_t slot = req->slot;
  if (slot == 0)
    return;
  req->slot = 0;
  if (slot <= LRES_UV_ANCHORS) {
    ridx = lua_absindex(L, ridx);
    lua_pushnil(L);
    lua_setiuservalue(L, ridx, LRES_UV_ANCHOR - 1 + (int)slot);
    r->uvfree |= (uint64_t)1 << (slot - 1);
    return;
  }
  slot -= LRES_UV_ANCHORS;
  lua_getiuservalue(L, ridx, 1);
  lua_pushnil(L);
  lua_rawseti(L, -2, slot);
  lua_pop(L, 1);
  if (r->nfree < r->capslots) /* (not after __gc freed the stack) */
    r->free_slots[r->nfree++] = slot;
}

/* }==================================================================== */

/* {====================================================================
** des.resource and its methods
** ===================================================================== */

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
  reserve_users(L, r, (size_t)(cap < 16 ? cap : 16));
  level_reserve(L, r->lqueue, 8);
  lstats_register(L, -1, rt); /* its statistics in the report */
  return 1;
}

/* A preemption cause as text, for the interrupt error that carries it:
** "preempted by task 'x' (#4) at t=2.0 from resource 'm' (held since
** t=0.0)". Reads its fields raw: no model metamethod runs. */
static int preempted_tostring(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_pushliteral(L, "by"); /* 2 */
  lua_rawget(L, 1);
  if (luaL_testudata(L, 2, DES_TASK_MT))
    rt_push_task_label(L, 2); /* 3 */
  else
    lua_pushliteral(L, "a task that ended");
  lua_pushliteral(L, "resource"); /* 4 */
  lua_rawget(L, 1);
  if (lua_type(L, 4) == LUA_TUSERDATA &&
      lua_getiuservalue(L, 4, 2) == LUA_TSTRING) /* 5 */
    lua_pushfstring(L, " from resource '%s'", lua_tostring(L, 5));
  else
    lua_pushliteral(L, "");
  lua_pushliteral(L, "time");
  lua_rawget(L, 1);
  lua_pushliteral(L, "usage_since");
  lua_rawget(L, 1);
  lua_pushfstring(L, "preempted by %s at t=%f%s (held since t=%f)",
                  lua_tostring(L, 3), lua_tonumber(L, -2), lua_tostring(L, -3),
                  lua_tonumber(L, -1));
  return 1;
}

/* Preempt the worst holder if req is strictly more urgent: it is released
** and its task interrupted with the cause. Returns 1 if done. */
static int preempt_for(lua_State *L, lres *r, lres_req *req, int ridx) {
  lres_req *worst = NULL;
  size_t i;
  rt_charge_later(L, r->nusers >> 2); /* the search for the worst */
  for (i = 0; i < r->nusers; i++) {
    lres_req *u = r->users[i];
    if (worst == NULL || u->priority > worst->priority ||
        (u->priority == worst->priority && u->seq > worst->seq))
      worst = u;
  }
  if (worst == NULL || worst->priority <= req->priority)
    return 0;
  users_remove(L, r, worst);
  r->count--;
  worst->released = worst->preempted = 1;
  level_set(r, r->lbusy, (uint64_t)r->count);
  /* the holder's task, if still alive, gets the cause */
  if (rt_push_task_by_id(L, r->rt, worst->task_id)) {
    rt_task *t = lua_touserdata(L, -1);
    lua_createtable(L, 0, 4);
    lua_pushliteral(L, "preempted");
    lua_setfield(L, -2, "kind");
    rt_push_task_by_id(L, r->rt, req->task_id);
    lua_setfield(L, -2, "by");
    lua_pushnumber(L, rt_units(r->rt, worst->granted_at));
    lua_setfield(L, -2, "usage_since");
    lua_pushnumber(L, rt_units(r->rt, sim_now(r->rt->sim)));
    lua_setfield(L, -2, "time");
    lua_pushvalue(L, ridx);
    lua_setfield(L, -2, "resource");
    if (luaL_newmetatable(L, "des.Preempted")) { /* hidden from models */
      lua_pushcfunction(L, preempted_tostring);
      lua_setfield(L, -2, "__tostring");
      lua_pushliteral(L, "des.Preempted");
      lua_setfield(L, -2, "__metatable");
    }
    lua_setmetatable(L, -2);
    rt_interrupt(L, t, -2, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lres_unanchor(L, ridx, worst);
  return 1;
}

void lres_push_req(lua_State *L, lres_req *req) {
  if (req->task != NULL && req->task->co != NULL &&
      lua_gettop(req->task->co) >= LRES_REQ_SLOT &&
      lua_touserdata(req->task->co, LRES_REQ_SLOT) == req) {
    lua_State *co = req->task->co;
    lua_pushvalue(co, LRES_REQ_SLOT);
    lua_xmove(co, L, 1);
  } else if (req->event)
    rt_push_object(L, req);
  else
    lua_pushnil(L);
}

lres_req *lres_new_request(lua_State *L, lres *r, int ridx, int pidx,
                           rt_task *t, int event) {
  lres_req *req;
  int reqidx;
  if (r->G->closing) /* (r->G: no lookup per request) */
    rt_check_state(L, "request");
  req = lua_newuserdatauv(L, sizeof(*req), 2);
  reqidx = lua_gettop(L);
  memset(req, 0, sizeof(*req));
  req->res = r;
  req->task_id = t != NULL ? rt_task_id(t) : 0;
  req->priority = pidx > 0 ? lua_tonumberx(L, pidx, NULL) : 0; /* or nil */
  req->seq = ++r->seq;
  rt_setmetatable_g(L, r->G, RT_MT_REQUEST);
  lua_pushvalue(L, ridx);
  lua_setiuservalue(L, reqidx, LRES_UV_RES);
  if (event) { /* waits and composites reach it by its address */
    req->event = 1;
    rt_register_object(L, reqidx, req);
  }
  /* Every allocation comes before the decision (an allocation can run a
  ** finalizer that closes the simulation or takes a server): room for one
  ** more holder and one more waiter, then the anchor, the last one. */
  do {
    reserve_users(L, r, (size_t)r->count + 1);
    level_reserve(L, r->lqueue, r->q.len + 1);
    lres_anchor(L, ridx, req, reqidx);
    if (r->capusers > (size_t)r->count)
      break;
    lres_unanchor(L, ridx, req); /* a finalizer took the room: again */
  } while (1);
  if (r->rt->closed != RT_OPEN) {
    lres_unanchor(L, ridx, req);
    rt_check_live(L, r->rt);
  }
  req->time = rt_now(r->rt);
  return req;
}

int lres_decide(lua_State *L, lres *r, lres_req *req, int ridx) {
  int now_free = r->count < r->capacity && r->q.len == 0;
  if (!now_free && r->preemptive && !req->nopreempt &&
      preempt_for(L, r, req, ridx)) {
    /* preempting allocated: a finalizer may have closed the simulation
    ** or taken the freed server */
    if (r->rt->closed != RT_OPEN) {
      lres_unanchor(L, ridx, req);
      rt_check_live(L, r->rt);
    }
    now_free = r->count < r->capacity && r->capusers > (size_t)r->count;
  }
  if (now_free) {
    grant(L, r, req); /* nothing waits on it yet */
    return LRES_GRANTED;
  }
  if (r->maxlen >= 0 && (lua_Integer)r->q.len >= r->maxlen)
    return LRES_FULL;
  return LRES_QUEUE;
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
  reserve_users(L, r,
                (size_t)(n < r->count + (lua_Integer)r->q.len
                             ? n
                             : r->count + (lua_Integer)r->q.len));
  r->capacity = n;
  grant_waiting(L, r);
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
=======
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
