/*
** lreq.c -- resource requests (des.request): the request is an event.
**
**   local req <close> = res:request()             -- queued (or granted)
**   local got = des.any{ req, des.timeout(5) }:wait()   -- renege after 5
**   if req.granted then ... end                   -- closing releases it,
**                                                 -- or withdraws it if queued
**   local req <close> = res:acquire([prio [, timeout]])  -- request + wait
**
** A request is made, and granted or queued, at once; tasks (req:wait) and
** composites (des.any/des.all) wait on it as on any event, and a grant
** wakes them. It stays valid whatever happens to the waits on it (an
** interrupt, an `any` that fired elsewhere): only req:release (or its
** `<close>`) lets it go: a queued request is withdrawn (a reneging, in
** res.stats.reneged), a granted one frees its server. A request granted
** and never released keeps its server, whatever became of its task (as
** SimPy's). A withdrawn request fails with "withdrawn": a task waiting
** on it is woken with that error, later waits raise it, and a composite
** holding it keeps waiting for its other members (SimPy's cancelled
** request never triggers). One refused by a full queue (maxlen) fails
** with a des.QueueFull error object.
**
** acquire is the blocking shorthand: the same request, made and decided
** by the same code (lres_new_request, lres_decide), held by the waiting
** task's stack instead of the registered objects (nothing to register on
** the hot path), withdrawn at once if its task leaves the wait (leave
** hook), and anchored in the resource from its making to its release
** (one with a deadline: only once received).
*/
#include "lres.h"

static lres_req *check_req(lua_State *L, int idx) {
  return ldes_checkudata(L, idx, RT_MT_REQUEST, DES_REQUEST_MT);
}

/* {====================================================================
** Errors: a full queue, a withdrawn request
** ===================================================================== */

/* des.QueueFull's __tostring: "resource 'x' is full: 3 requests queued
** (maxlen 3) at t=2.0". Reads its fields raw. */
static int full_tostring(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_pushliteral(L, "resource"); /* 2 */
  lua_rawget(L, 1);
  if (lua_type(L, 2) == LUA_TUSERDATA &&
      lua_getiuservalue(L, 2, 2) == LUA_TSTRING) /* 3 */
    lua_pushfstring(L, "resource '%s'", lua_tostring(L, 3));
  else
    lua_pushliteral(L, "resource");
  lua_pushliteral(L, "maxlen");
  lua_rawget(L, 1);
  lua_pushliteral(L, "time");
  lua_rawget(L, 1);
  lua_pushfstring(L,
                  "%s is full: its queue holds %I requests (maxlen) at t=%f; "
                  "the request was refused",
                  lua_tostring(L, -3), (lua_Integer)lua_tointeger(L, -2),
                  lua_tonumber(L, -1));
  return 1;
}

/* Push the error of a request refused by the full resource at ridx:
** {kind="queue full", resource=, maxlen=, time=} (des.QueueFull). */
static void push_full(lua_State *L, lres *r, int ridx) {
  ridx = lua_absindex(L, ridx);
  lua_createtable(L, 0, 4);
  lua_pushliteral(L, "queue full");
  lua_setfield(L, -2, "kind");
  lua_pushvalue(L, ridx);
  lua_setfield(L, -2, "resource");
  lua_pushinteger(L, r->maxlen);
  lua_setfield(L, -2, "maxlen");
  lua_pushnumber(L, rt_units(r->rt, rt_now(r->rt)));
  lua_setfield(L, -2, "time");
  if (luaL_newmetatable(L, "des.QueueFull")) { /* hidden from models */
    lua_pushcfunction(L, full_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "des.QueueFull");
    lua_setfield(L, -2, "__metatable");
  }
  lua_setmetatable(L, -2);
}

/* The request at idx, not yet triggered, fails with err (at the top,
** popped): its waiters (tasks, composites) are told, and later waits
** raise it. Does nothing to a request already triggered. */
static void fail_with(lua_State *L, lres_req *req, int idx) {
  idx = lua_absindex(L, idx);
  if (req->w.state != WAITABLE_PENDING) {
    lua_pop(L, 1);
    return;
  }
  lua_setiuservalue(L, idx, UV_VALUES);
  rt_trigger(L, &req->w, idx, WAITABLE_FAILED);
}

/* A queued request was withdrawn (released before its grant): it fails,
** so that no task waits on it forever and later waits raise; composites
** holding it keep waiting for their other members. */
static void fail_withdrawn(lua_State *L, lres_req *req, int idx) {
  idx = lua_absindex(L, idx);
  ldes_detach_composites(&req->w);
  lua_pushfstring(L,
                  "request #%I was withdrawn (released before it was "
                  "granted) at t=%f",
                  (lua_Integer)req->seq,
                  rt_units(req->res->rt, rt_now(req->res->rt)));
  fail_with(L, req, idx);
}

/* }==================================================================== */

/* {====================================================================
** res:request, req:wait, req:release
** ===================================================================== */

/* The priority at 2 (nil or a number) and the options at 3 ({preempt =
** false}); returns nopreempt. */
static int check_args(lua_State *L, const char *fname) {
  int nopreempt = 0;
  if (!lua_isnoneornil(L, 2) && lua_type(L, 2) != LUA_TNUMBER)
    luaL_error(L, "%s: priority must be a number (got %s)", fname,
               luaL_typename(L, 2));
  if (!lua_isnoneornil(L, 3)) {
    if (!lua_istable(L, 3))
      luaL_error(L, "%s: options must be a table (got %s)", fname,
                 luaL_typename(L, 3));
    lua_pushliteral(L, "preempt"); /* raw: options are plain data */
    lua_rawget(L, 3);
    if (!lua_isnil(L, -1) && !lua_isboolean(L, -1))
      luaL_error(L, "%s: preempt must be a boolean (got %s)", fname,
                 luaL_typename(L, -1));
    nopreempt = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  return nopreempt;
}

/* res:request([priority [, {preempt = false}]]) --> request (an event):
** granted now, queued, or failed at once when the queue is full. */
int lreq_request(lua_State *L) {
  lres *r = lres_check(L, 1);
  rt_task *t = rt_current(L);
  int nopreempt = check_args(L, "request");
  lres_req *req;
  rt_check_live(L, r->rt);
  if (t != NULL && t->rt != r->rt)
    return luaL_error(L, "request: the resource belongs to another simulation");
  lua_settop(L, 3);
  req = lres_new_request(L, r, 1, 2, t, 1); /* at 4 */
  req->nopreempt = (uint8_t)nopreempt;
  switch (lres_decide(L, r, req, 1)) {
  case LRES_QUEUE:
    lres_enqueue(L, req);
    break;
  case LRES_FULL:
    req->released = 1;
    lres_unanchor(L, 1, req);
    push_full(L, r, 1);
    fail_with(L, req, 4);
    break;
  }
  lua_settop(L, 4);
  return 1;
}

/* Continuation of req:wait (the request at 1). */
static int wait_k(lua_State *L, int status, lua_KContext ctx) {
  rt_task *t = rt_current(L);
  (void)status;
  (void)ctx;
  rt_check_resumed(L, t);
  if (t->resume == RESUME_INTERRUPT) /* the request stays as it is */
    return rt_raise_interrupt(L, t);
  if (check_req(L, 1)->w.state == WAITABLE_FAILED)
    return rt_push_result(L, 1); /* raises */
  lua_settop(L, 1);
  return 1;
}

/* req:wait() --> req, once granted (at once if it is); raises if it
** failed or was released. A pending interrupt is raised first. */
static int q_wait(lua_State *L) {
  lres_req *req = check_req(L, 1);
  rt_task *t = rt_current(L);
  rt_check_interrupt(L, t);
  if (req->w.state == WAITABLE_FAILED)
    return rt_push_result(L, 1); /* raises */
  if (req->released)
    return luaL_error(L, "wait: request #%I was released",
                      (lua_Integer)req->seq);
  lua_settop(L, 1);
  if (req->granted)
    return 1;
  if (t == NULL)
    return luaL_error(L, "wait: not inside a task (only a task can wait "
                         "for a request that is not granted)");
  if (t->rt != req->res->rt)
    return luaL_error(L, "wait: the request belongs to another simulation");
  rt_check_suspend(L, t, "request");
  lua_getiuservalue(L, 1, LRES_UV_RES); /* 2: task.waiting_on */
  rt_suspend(L, t, &req->w, "request", -1);
  t->wait_obj = 2;
  return lua_yieldk(L, 0, 0, wait_k);
}

/* req:release() / res:release(req) / the request's __close: frees its
** server, or withdraws it if queued. A second release does nothing. */
static int q_release(lua_State *L) {
  lres_req *req = check_req(L, 1);
  int queued;
  if (req->released)
    return 0;
  queued = !req->granted;
  lres_release(L, req);
  if (req->slot != 0) { /* (its resource only to reach its anchor) */
    lua_getiuservalue(L, 1, LRES_UV_RES);
    lres_unanchor(L, -1, req);
    lua_pop(L, 1);
  }
  if (queued)
    fail_withdrawn(L, req, 1);
  return 0;
}

int lreq_release(lua_State *L) {
  lres *r = lres_check(L, 1);
  lres_req *req = ldes_testudata(L, 2, RT_MT_REQUEST, DES_REQUEST_MT);
  if (req == NULL || req->res != r)
    return luaL_error(L, "release: not a request of this resource");
  lua_settop(L, 2);
  lua_remove(L, 1);
  return q_release(L);
}

/* }==================================================================== */

/* {====================================================================
** res:acquire: the blocking shorthand
** ===================================================================== */

/* The wait queue's leave hook while a task blocks in acquire on req: it
** was cancelled or interrupted (L is the runtime's, or NULL). A request
** still queued is withdrawn; one granted but not yet received is handed
** on. Another task waiting on it (it found it in res.queue) is told it
** was withdrawn. */
static void req_leave(wq_node *n, void *ctx) {
  lres_req *req = lres_req_of(n);
  lua_State *L = ctx;
  int queued = !req->granted;
  if (req->received) /* the model holds it now: nothing to clear */
    return;
  if (req->task != NULL)
    rt_waiter_unlink(&req->task->waiter); /* not told about itself */
  lres_release(L, req);
  if (L != NULL && (req->slot != 0 || (queued && req->w.head != NULL))) {
    lres_push_req(L, req); /* (from the task's stack: still intact) */
    if (lua_touserdata(L, -1) == req) {
      if (req->slot != 0) { /* anchored while it waited: let it go */
        lua_getiuservalue(L, -1, LRES_UV_RES);
        lres_unanchor(L, -1, req);
        lua_pop(L, 1);
      }
      if (queued && req->w.head != NULL)
        fail_withdrawn(L, req, -1);
    }
    lua_pop(L, 1);
  }
  req->task = NULL;
}

/* Continuation of a blocked acquire: the request (ctx) is at LRES_REQ_SLOT,
** which keeps it alive. */
static int acquire_k(lua_State *L, int status, lua_KContext ctx) {
  lres_req *req = (lres_req *)ctx;
  rt_task *t = rt_current(L); /* req->task, if the runtime resumed it */
  (void)status;
  rt_check_resumed(L, t);
  if (t->resume == RESUME_INTERRUPT) /* the leave hook let it go already */
    return rt_raise_interrupt(L, t);
  req->task = NULL;
  if (t->waiter.on != NULL) { /* the deadline came first */
    t->wq = NULL;
    rt_waiter_unlink(&t->waiter);
    lres_expire(req); /* a grant would have cancelled the deadline */
    lres_unanchor(L, 1, req);
    lua_pushnil(L);
    lua_pushliteral(L, "timed out");
    return 2;
  }
  if (req->w.state == WAITABLE_FAILED) { /* released by someone else */
    t->wq = NULL;
    lres_unanchor(L, 1, req);                /* (that release did already) */
    return rt_push_result(L, LRES_REQ_SLOT); /* raises */
  }
  /* anchored while it waited (no deadline), or now (may raise: t->wq
  ** hands it on); a holder preempted before it resumed is not */
  if (!req->released && req->slot == 0)
    lres_anchor(L, 1, req, LRES_REQ_SLOT);
  t->wq = NULL;
  req->received = 1;
  wq_claim(&req->n);
  if (lua_gettop(L) != LRES_REQ_SLOT)
    lua_settop(L, LRES_REQ_SLOT);
  return 1;
}

/* res:acquire([priority [, timeout]]) --> request, or nil, "timed out".
** Raises the des.QueueFull error when the queue holds maxlen requests.
** Everything that allocates through Lua (and so can run finalizers, which
** can acquire, release or close) happens before the request is timed and
** the grant decided (lres_new_request, lres_decide). */
int lreq_acquire(lua_State *L) {
  lres *r = lres_check(L, 1);
  rt_task *t = rt_current(L);
  lres_req *req;
  des_time deadline = -1, wait = -1;
  int d;
  int nargs = lua_gettop(L);
  rt_check_live(L, r->rt);
  if (nargs >= 2 && !lua_isnoneornil(L, 2) && lua_type(L, 2) != LUA_TNUMBER)
    return luaL_error(L, "acquire: priority must be a number (got %s)",
                      luaL_typename(L, 2));
  if (nargs >= 3 && !lua_isnoneornil(L, 3)) {
    if (lua_type(L, 3) != LUA_TNUMBER || !(lua_tonumber(L, 3) >= 0))
      return luaL_error(L, "acquire: timeout must be a number >= 0 (got %s)",
                        luaL_tolstring(L, 3, NULL));
    wait = rt_check_duration(L, r->rt, 3, "acquire");
  }
  if (t != NULL && t->rt != r->rt)
    return luaL_error(L, "acquire: the resource belongs to another simulation");
  rt_check_interrupt(L, t); /* before a free server is granted */
  if (lua_gettop(L) == 1) { /* res:acquire(): cheaper than lua_settop */
    lua_pushnil(L);
    lua_pushnil(L);
  } else
    lua_settop(L, LRES_REQ_SLOT - 1);
  req = lres_new_request(L, r, 1, nargs >= 2 ? 2 : 0, t, 0); /* at 4 */
  if (wait >= 0 && sim_time_after(r->rt->sim, wait, &deadline) != 0) {
    lres_unanchor(L, 1, req);
    return luaL_error(L, "acquire: timeout overflows the simulated clock");
  }
  d = lres_decide(L, r, req, 1);
  if (d == LRES_GRANTED) {
    req->received = 1;
    req->n.state = WQ_CLAIMED; /* served without queueing */
    if (lua_gettop(L) != LRES_REQ_SLOT)
      lua_settop(L, LRES_REQ_SLOT);
    return 1;
  }
  /* A waiting request stays anchored (its grant then needs no anchor, so
  ** cannot fail), unless it has a deadline (rt_suspend may raise) or
  ** cannot wait here (the errors below): every exit clears the anchor
  ** before it raises, and so do the leave hook, the deadline and a release
  ** by someone else (acquire_k). */
  if (d == LRES_FULL || deadline >= 0 || t == NULL || t->interrupts > 0 ||
      t->state != TASK_RUNNING || t->co != L || !lua_isyieldable(L))
    lres_unanchor(L, 1, req);
  if (d == LRES_FULL) {
    req->released = 1;
    req->w.state = WAITABLE_FAILED;
    push_full(L, r, 1);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, LRES_REQ_SLOT, UV_VALUES);
    return lua_error(L);
  }
  if (t == NULL)
    return luaL_error(L, "acquire: not inside a task (only a task can wait "
                         "for a server; none is free)");
  rt_check_suspend(L, t, "acquire");
  rt_suspend(L, t, &req->w, "acquire", deadline); /* raises before queueing */
  t->wait_obj = 1;          /* the resource (task.waiting_on) */
  req->task = t;            /* its stack holds req (lres_push_req) */
  req->n.leave = req_leave; /* if the task leaves the wait unfinished */
  lres_enqueue(L, req);
  t->wq = &req->n;
  return lua_yieldk(L, 0, (lua_KContext)req, acquire_k);
}

/* }==================================================================== */

/* {====================================================================
** Fields and metatable
** ===================================================================== */

/* req.resource, .task, .priority, .seq, .time, .granted, .granted_at,
** .queued, .released, .reneged, .preempted, .triggered, .ok, .error,
** .kind; methods */
static int q_index(lua_State *L) {
  lres_req *req = check_req(L, 1);
  rt_runtime *rt = req->res->rt;
  const char *k;
  if (ldes_method(L))
    return 1;
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "resource") == 0)
    lua_getiuservalue(L, 1, LRES_UV_RES);
  else if (strcmp(k, "task") == 0)
    rt_push_task_by_id(L, rt, req->task_id);
  else if (strcmp(k, "priority") == 0)
    lua_pushnumber(L, req->priority);
  else if (strcmp(k, "seq") == 0)
    lua_pushinteger(L, (lua_Integer)req->seq);
  else if (strcmp(k, "time") == 0)
    lua_pushnumber(L, rt_units(rt, req->time));
  else if (strcmp(k, "granted") == 0)
    lua_pushboolean(L, req->granted);
  else if (strcmp(k, "granted_at") == 0 && req->granted)
    lua_pushnumber(L, rt_units(rt, req->granted_at));
  else if (strcmp(k, "queued") == 0)
    lua_pushboolean(L, req->n.state == WQ_QUEUED);
  else if (strcmp(k, "released") == 0)
    lua_pushboolean(L, req->released);
  else if (strcmp(k, "reneged") == 0)
    lua_pushboolean(L, req->reneged);
  else if (strcmp(k, "preempted") == 0)
    lua_pushboolean(L, req->preempted);
  else if (strcmp(k, "triggered") == 0)
    lua_pushboolean(L, req->w.state != WAITABLE_PENDING);
  else if (strcmp(k, "ok") == 0) {
    if (req->w.state == WAITABLE_PENDING)
      lua_pushnil(L);
    else
      lua_pushboolean(L, req->w.state == WAITABLE_OK);
  } else if (strcmp(k, "error") == 0 && req->w.state == WAITABLE_FAILED)
    lua_getiuservalue(L, 1, UV_VALUES);
  else if (strcmp(k, "kind") == 0)
    lua_pushliteral(L, "request");
  else
    lua_pushnil(L);
  return 1;
}

static int q_tostring(lua_State *L) {
  lres_req *req = check_req(L, 1);
  lua_pushfstring(L, "des.request #%I (%s)", (lua_Integer)req->seq,
                  req->w.state == WAITABLE_FAILED ? "failed"
                  : req->reneged                  ? "withdrawn"
                  : req->released                 ? "released"
                  : req->granted                  ? "granted"
                                                  : "waiting");
  return 1;
}

static const luaL_Reg req_methods[] = {
    {"release", q_release}, {"wait", q_wait}, {NULL, NULL}};

void lreq_open(lua_State *L) {
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
}

/* }==================================================================== */
