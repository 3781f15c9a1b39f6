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
** kept for preemption and listings. A task waits on its request (an
** rt_waitable that only it waits on): a grant wakes it through the
** scheduler. A request abandoned while it waits (cancel, interrupt,
** timeout) leaves the queue at once through the task's leave hook; one
** granted to a task that left before it resumed is handed on. Preemption
** interrupts the worst holder (the most recent among equals) with a cause
** {kind="preempted", by=, usage_since=, resource=}.
**
** Statistics kept without model code, by the statistics core as for
** des.monitor (lstats.c): res.stats.queue and res.stats.busy (des.level,
** with the time at each count) and res.stats.wait (des.tally of waiting
** times). They stay readable after the resource and its simulation.
**
** A resource userdata's user values: 1 its anchor table (slot -> request,
** for every request its task holds: granted and received, until released;
** slots are small integers reused, so the table stays an array that
** never grows in steady state), 2 its name, 3 its simulation object (which
** keeps its tasks), 4 its stats table (made on first use), 5..7 its
** queue, busy and wait statistics (anchors the model cannot reach, so the
** pointers in struct lres stay valid whatever the model does to the stats
** table). A request waiting, or granted but not yet received, is held by
** its task's stack (REQ_SLOT of the acquire that waits), so a task that
** leaves needs no Lua to let it go. A request's user values: 1 its
** resource. It names its task by id, so a request kept after its task
** ended holds nothing of it.
*/
#include "ldes.h"

#define DES_RESOURCE_MT "des.resource"
#define DES_REQUEST_MT "des.request"

typedef struct lres lres;

typedef struct lres_req {
  rt_waitable w; /* first: the waiting task waits on this */
  wq_node n;     /* its place in the resource's wait queue */
  lres *res;
  des_task *task;   /* the requesting task while it waits for the grant */
  uint64_t task_id; /* its id (rt_task_id; stale once it ended), or 0 */
  double priority;
  uint64_t seq;
  des_time time, granted_at;
  uint32_t slot; /* its anchor slot while anchored, or 0 */
  uint8_t granted, released, preempted, received;
} lres_req;

#define req_of(node) ((lres_req *)((char *)(node)-offsetof(lres_req, n)))

struct lres {
  des_runtime *rt;
  lua_Integer capacity, count;
  uint64_t seq;
  uint8_t priority, preemptive;
  wq_queue q;                       /* the waiting requests (waitq.h) */
  uint32_t *free_slots;             /* anchor slots free for reuse (a stack) */
  uint32_t nfree, nslots, capslots; /* its height; slots handed out so
                                       far; room in free_slots */
  lres_req **users;                 /* holders, in grant order */
  size_t nusers, capusers;
  stats_level *lqueue, *lbusy; /* in user values 5 and 6 */
  stats_tally *wait;           /* in user value 7 */
  rt_global *G;
};

/* {====================================================================
** Memory and statistics
** ===================================================================== */

/* Resize an array through the state's allocator; NULL on failure. */
static void *lres_realloc(lres *r, void *p, size_t osize, size_t nsize) {
  return r->G->allocf(r->G->allocud, p, osize, nsize);
}

/* Make room to count the time at value v (raises on no memory), so that
** setting the level to v later cannot fail. */
static void level_reserve(lua_State *L, stats_level *lv, size_t v) {
  if (stats_level_reserve(lv, (double)v) != STATS_OK)
    luaL_error(L, "resource: not enough memory for statistics");
}

/* Set a level to v from now on. */
static void level_set(lres *r, stats_level *lv, double v) {
  stats_level_set(lv, rt_now(r->rt), v);
}

/* }==================================================================== */

/* {====================================================================
** Statistics: res.stats.queue / busy / wait
** ===================================================================== */

/* res.stats: {queue=, busy=, wait=}, made once per resource */
static void push_stats(lua_State *L, int ridx) {
  static const char *const keys[] = {"queue", "busy", "wait"};
  int i;
  if (lua_getiuservalue(L, ridx, 4) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 3);
  for (i = 0; i < 3; i++) {
    lua_getiuservalue(L, ridx, 5 + i);
    lua_setfield(L, -2, keys[i]);
  }
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, ridx, 4);
}

/* The statistics of the new resource r at the top: queue length and busy
** count (time-weighted, time at each count) and waiting times, anchored
** in its user values 5..7. */
static void new_stats(lua_State *L, lres *r) {
  r->lqueue = lstats_push_level(L, r->rt, "queue length", 0, 1);
  lua_setiuservalue(L, -2, 5);
  r->lbusy = lstats_push_level(L, r->rt, "in use", 0, 1);
  lua_setiuservalue(L, -2, 6);
  r->wait = lstats_push_tally(L, "waiting time");
  lua_setiuservalue(L, -2, 7);
}

/* }==================================================================== */

/* {====================================================================
** The queue and the holders
** ===================================================================== */

static void users_remove(lres *r, lres_req *req) {
  size_t i;
  for (i = 0; i < r->nusers; i++)
    if (r->users[i] == req) {
      memmove(r->users + i, r->users + i + 1,
              (r->nusers - i - 1) * sizeof(*r->users));
      r->nusers--;
      return;
    }
}

/* Room for capacity holders and their busy counts (raises on no memory). */
static void reserve_users(lua_State *L, lres *r, size_t n) {
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

/* Give a server to req now; wakes its task if it waits. Allocates
** nothing: users has room for capacity holders. */
static void grant(lres *r, lres_req *req) {
  req->granted = 1;
  req->granted_at = rt_now(r->rt);
  r->users[r->nusers++] = req;
  r->count++;
  level_set(r, r->lbusy, (double)r->count);
  stats_tally_add(r->wait, rt_units(r->rt, req->granted_at - req->time));
  rt_trigger_tasks(&req->w);
}

/* Hand free servers to waiting requests. */
static void grant_waiting(lres *r) {
  wq_node *n;
  while (r->count < r->capacity && (n = wq_first(&r->q)) != NULL) {
    lres_req *req = req_of(n);
    wq_serve(n);
    level_set(r, r->lqueue, (double)r->q.len);
    grant(r, req);
  }
}

/* Release a request: its server goes to the next waiter (also when it was
** granted but never claimed: the hand-on); a waiting one leaves the queue.
** A second release does nothing. */
static void release(lres_req *req) {
  lres *r = req->res;
  int was = wq_leave(&req->n);
  if (req->released)
    return;
  req->released = 1;
  if (req->granted) {
    users_remove(r, req);
    r->count--;
    level_set(r, r->lbusy, (double)r->count);
    grant_waiting(r);
  } else if (was == WQ_QUEUED)
    level_set(r, r->lqueue, (double)r->q.len);
}

/* The wait queue's leave hook while a task waits for req: it was cancelled
** or interrupted. A request still queued leaves; one granted but not yet
** received is handed on. */
static void req_leave(wq_node *n) {
  lres_req *req = req_of(n);
  if (!req->received) /* never anchored: nothing to clear (see top) */
    release(req);
}

/* }==================================================================== */

/* {====================================================================
** Lua objects: anchoring, checks
** ===================================================================== */

static lres *check_res(lua_State *L, int idx) {
  return ldes_checkudata(L, idx, RT_MT_RESOURCE, DES_RESOURCE_MT);
}

static lres_req *check_req(lua_State *L, int idx) {
  return ldes_checkudata(L, idx, RT_MT_REQUEST, DES_REQUEST_MT);
}

/* Anchor the request at idx in the resource at ridx (a received request
** stays alive until released): in a free slot, or a new one. Raises on no
** memory before anything changes. */
static void anchor(lua_State *L, int ridx, lres_req *req, int idx) {
  lres *r = req->res;
  uint32_t slot;
  idx = lua_absindex(L, idx);
  if (r->nfree == 0 && r->capslots <= r->nslots) { /* room to free every
                                                      slot, a new one too */
    uint32_t n = r->capslots ? r->capslots * 2 : 4;
    uint32_t *p = lres_realloc(r, r->free_slots, r->capslots * sizeof(*p),
                               n * sizeof(*p));
    if (p == NULL)
      luaL_error(L, "acquire: not enough memory");
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
  req->slot = slot;
}

/* Drop the request's anchor, if any (allocates nothing). */
static void unanchor(lua_State *L, int ridx, lres_req *req) {
  lres *r = req->res;
  if (req->slot == 0)
    return;
  lua_getiuservalue(L, ridx, 1);
  lua_pushnil(L);
  lua_rawseti(L, -2, req->slot);
  lua_pop(L, 1);
  if (r->nfree < r->capslots) /* (not after __gc freed the stack) */
    r->free_slots[r->nfree++] = req->slot;
  req->slot = 0;
}

/* }==================================================================== */

/* {====================================================================
** des.resource and its methods
** ===================================================================== */

/* des.resource(capacity [, {priority=, preemptive=, name=}]) */
static int l_resource(lua_State *L) {
  lua_Integer cap;
  des_runtime *rt = rt_runtime_of(L);
  lres *r;
  rt_check_state(L, "resource");
  int priority = 0, preemptive = 0;
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
  }
  r = lua_newuserdatauv(L, sizeof(*r), 7);
  memset(r, 0, sizeof(*r));
  r->rt = rt;
  r->G = rt->G;
  r->capacity = cap;
  r->priority = (uint8_t)priority;
  r->preemptive = (uint8_t)preemptive;
  wq_init(&r->q, priority);
  ldes_setmetatable(L, RT_MT_RESOURCE);
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
  for (i = 0; i < r->nusers; i++) {
    lres_req *u = r->users[i];
    if (worst == NULL || u->priority > worst->priority ||
        (u->priority == worst->priority && u->seq > worst->seq))
      worst = u;
  }
  if (worst == NULL || worst->priority <= req->priority)
    return 0;
  users_remove(r, worst);
  r->count--;
  worst->released = worst->preempted = 1;
  level_set(r, r->lbusy, (double)r->count);
  /* the holder's task, if still alive, gets the cause */
  if (rt_push_task_by_id(L, r->rt, worst->task_id)) {
    des_task *t = lua_touserdata(L, -1);
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
  unanchor(L, ridx, worst);
  return 1;
}

/* Where a waiting acquire keeps its request: the task's stack holds it. */
#define REQ_SLOT 4

/* Push a queued request from its waiting task's stack (see the top). */
static void push_queued(lua_State *L, lres_req *req) {
  lua_State *co = req->task->co;
  lua_pushvalue(co, REQ_SLOT);
  lua_xmove(co, L, 1);
}

/* Continuation of a waiting acquire (the request at REQ_SLOT). */
static int acquire_k(lua_State *L, int status, lua_KContext ctx) {
  lres_req *req = lua_touserdata(L, REQ_SLOT);
  des_task *t = rt_current(L); /* req->task, if the runtime resumed it */
  (void)status;
  (void)ctx;
  rt_check_resumed(L, t);
  if (t->resume == RESUME_INTERRUPT) /* the leave hook let it go already */
    return rt_raise_interrupt(L, t);
  if (t->waiter.on != NULL) { /* the deadline came first */
    t->wq = NULL;
    rt_waiter_unlink(&t->waiter);
    wq_expire(&req->n); /* a grant would have cancelled the deadline */
    req->released = 1;
    level_set(req->res, req->res->lqueue, (double)req->res->q.len);
    lua_pushnil(L);
    lua_pushliteral(L, "timed out");
    return 2;
  }
  if (!req->released) /* (a holder preempted before it resumed is not) */
    anchor(L, 1, req, REQ_SLOT); /* may raise: then t->wq hands it on */
  t->wq = NULL;
  req->received = 1;
  wq_claim(&req->n);
  lua_settop(L, REQ_SLOT);
  return 1;
}

/* res:acquire([priority [, timeout]]) --> request, or nil, "timed out".
** Everything that allocates through Lua (and so can run finalizers, which
** can acquire, release or close) happens before the request is timed and
** the grant decided; the decision is made again after a preemption, which
** allocates. Arrays grow through the raw allocator (no finalizers). */
static int r_acquire(lua_State *L) {
  lres *r = check_res(L, 1);
  des_task *t = rt_current(L);
  lres_req *req;
  des_time deadline = -1, wait = -1;
  int reqidx, now_free;
  rt_check_live(L, r->rt);
  if (!lua_isnoneornil(L, 2) && lua_type(L, 2) != LUA_TNUMBER)
    return luaL_error(L, "acquire: priority must be a number (got %s)",
                      luaL_typename(L, 2));
  if (!lua_isnoneornil(L, 3)) {
    if (lua_type(L, 3) != LUA_TNUMBER || !(lua_tonumber(L, 3) >= 0))
      return luaL_error(L, "acquire: timeout must be a number >= 0 (got %s)",
                        luaL_tolstring(L, 3, NULL));
    wait = rt_check_duration(L, r->rt, 3, "acquire");
  }
  if (t != NULL && t->rt != r->rt)
    return luaL_error(L, "acquire: the resource belongs to another simulation");
  rt_check_interrupt(L, t); /* before a free server is granted */
  lua_settop(L, REQ_SLOT - 1);
  req = lua_newuserdatauv(L, sizeof(*req), 1);
  reqidx = REQ_SLOT;
  memset(req, 0, sizeof(*req));
  req->res = r;
  req->task = t;
  req->task_id = t != NULL ? rt_task_id(t) : 0;
  req->priority = luaL_optnumber(L, 2, 0);
  req->seq = ++r->seq;
  ldes_setmetatable(L, RT_MT_REQUEST);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, reqidx, 1);
  /* Every allocation comes before the decision (an allocation can run a
  ** finalizer that closes the simulation or takes a server): room for one
  ** more holder and one more waiter, then the anchor, the last one. A
  ** request that ends up waiting is held by its task's stack instead. */
  do {
    reserve_users(L, r, (size_t)r->count + 1);
    level_reserve(L, r->lqueue, r->q.len + 1);
    anchor(L, 1, req, reqidx);
    if (r->capusers > (size_t)r->count)
      break;
    unanchor(L, 1, req); /* a finalizer took the room: again */
  } while (1);
  if (r->rt->closed != RT_OPEN) {
    unanchor(L, 1, req);
    rt_check_live(L, r->rt);
  }
  req->time = rt_now(r->rt);
  if (wait >= 0 && sim_time_after(r->rt->sim, wait, &deadline) != 0) {
    unanchor(L, 1, req);
    return luaL_error(L, "acquire: timeout overflows the simulated clock");
  }
  now_free = r->count < r->capacity && r->q.len == 0;
  if (!now_free && r->preemptive && preempt_for(L, r, req, 1)) {
    /* preempting allocated: a finalizer may have closed the simulation
    ** or taken the freed server */
    if (r->rt->closed != RT_OPEN) {
      unanchor(L, 1, req);
      rt_check_live(L, r->rt);
    }
    now_free = r->count < r->capacity && r->capusers > (size_t)r->count;
  }
  if (now_free) {
    grant(r, req);
    req->received = 1;
    req->n.state = WQ_CLAIMED; /* served without queueing */
    lua_settop(L, reqidx);
    return 1;
  }
  unanchor(L, 1, req);
  if (t == NULL)
    return luaL_error(L, "acquire: not inside a task (only a task can wait "
                         "for a server; none is free)");
  rt_check_suspend(L, t, "acquire");
  rt_suspend(L, t, &req->w, "acquire", deadline); /* raises before queueing */
  t->wait_obj = 1;          /* the resource (task.waiting_on) */
  req->n.leave = req_leave; /* if the task leaves the wait unfinished */
  wq_push(&r->q, &req->n, req->priority);
  t->wq = &req->n;
  level_set(r, r->lqueue, (double)r->q.len);
  return lua_yieldk(L, 0, reqidx, acquire_k);
}

/* req:release() / res:release(req) / the request's __close */
static int q_release(lua_State *L) {
  lres_req *req = check_req(L, 1);
  int ridx;
  if (req->released)
    return 0;
  lua_getiuservalue(L, 1, 1); /* the resource */
  ridx = lua_gettop(L);
  release(req);
  unanchor(L, ridx, req);
  return 0;
}

static int r_release(lua_State *L) {
  lres *r = check_res(L, 1);
  lres_req *req = luaL_testudata(L, 2, DES_REQUEST_MT);
  if (req == NULL || req->res != r)
    return luaL_error(L, "release: not a request of this resource");
  lua_settop(L, 2);
  lua_remove(L, 1);
  return q_release(L);
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
  grant_waiting(r);
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
      for (k = 0; k < i; k++)
        qn = wq_next(qn);
      req = req_of(qn);
    }
    if (which == LIST_QUEUE)
      push_queued(L, req);
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

/* res.capacity, .count, .name, .priority, .preemptive, .queue (a list of
** the waiting requests), .stats; methods */
static int r_index(lua_State *L) {
  lres *r = check_res(L, 1);
  const char *k;
  if (ldes_method(L))
    return 1;
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

/* req.resource, .task, .priority, .seq, .time, .granted, .granted_at,
** .released, .preempted; methods */
static int q_index(lua_State *L) {
  lres_req *req = check_req(L, 1);
  const char *k;
  if (ldes_method(L))
    return 1;
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "resource") == 0)
    lua_getiuservalue(L, 1, 1);
  else if (strcmp(k, "task") == 0)
    rt_push_task_by_id(L, req->res->rt, req->task_id);
  else if (strcmp(k, "priority") == 0)
    lua_pushnumber(L, req->priority);
  else if (strcmp(k, "seq") == 0)
    lua_pushinteger(L, (lua_Integer)req->seq);
  else if (strcmp(k, "time") == 0)
    lua_pushnumber(L, rt_units(req->res->rt, req->time));
  else if (strcmp(k, "granted") == 0)
    lua_pushboolean(L, req->granted);
  else if (strcmp(k, "granted_at") == 0 && req->granted)
    lua_pushnumber(L, rt_units(req->res->rt, req->granted_at));
  else if (strcmp(k, "released") == 0)
    lua_pushboolean(L, req->released);
  else if (strcmp(k, "preempted") == 0)
    lua_pushboolean(L, req->preempted);
  else
    lua_pushnil(L);
  return 1;
}

static int q_tostring(lua_State *L) {
  lres_req *req = check_req(L, 1);
  lua_pushfstring(L, "des.request #%I (%s)", (lua_Integer)req->seq,
                  req->released  ? "released"
                  : req->granted ? "granted"
                                 : "waiting");
  return 1;
}

static const luaL_Reg res_methods[] = {
    {"acquire", r_acquire},           {"release", r_release},
    {"set_capacity", r_set_capacity}, {"holders", r_holders},
    {"waiters", r_waiters},           {NULL, NULL}};

static const luaL_Reg req_methods[] = {{"release", q_release}, {NULL, NULL}};

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
  ldes_newmetatable(L, RT_MT_REQUEST, DES_REQUEST_MT);
  lua_pushcfunction(L, q_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_getfield(L, LUA_REGISTRYINDEX, RT_GLOBAL_KEY);
  lua_pushcclosure(L, q_release, 1); /* rt_global upvalue: fast checks */
  lua_setfield(L, -2, "__close");
  lua_newtable(L);
  ldes_setfuncs(L, -1, req_methods);
  lua_setfield(L, -2, "methods");
  ldes_set_index(L, -1, q_index);
  lua_pop(L, 1);
  ldes_setfuncs(L, mod, module_funcs);
}
