/*
** lwait.c -- the wait queue (rt/waitq.h) for policies written in Lua:
** des.store and des.container keep their items and levels in Lua and
** decide who can be served; their waiters queue here, in C, exactly as a
** resource's requests do.
**
**   local q = des._waitq("store get") -- a FIFO queue, named by what its
**                                     -- waiters show as waiting on
**   local ok = q:wait(data [, dt])    -- in a task: true once served, false
**                                     -- when dt passed first (it has left)
**   local w, data = q:first()         -- the first waiter and its data
**   w, data = q:next(w)               -- the next one (nil after the last,
**                                     -- or after a waiter no longer queued)
**   q:serve(w)                        -- it leaves the queue, its task wakes:
**                                     -- true (false if it left already)
**   #q                                -- waiters queued
**
** Requests as events (st:get_request, c:put_request...): a waiter that no
** task is blocked on, queued until served or released:
**
**   local r = q:request(data)         -- queued; the policy settles next
**   q:serve(r, ...)                   -- granted: its values are ...
**   r:wait([dt])                      -- its values once served (nil,
**                                     -- "timed out" after dt; it stays
**                                     -- queued), in des.any/des.all too
**   r:release() / <close>             -- withdraw it if queued; then the
**                                     -- policy's on_leave(owner, data,
**                                     -- "withdrawn" | "unclaimed")
**
** A request served but never claimed by a wait ("unclaimed") is for the
** policy to give back or keep (data.giveback: the blocking shorthands
** give back what a task that left never received). r.granted, r.queued,
** r.withdrawn, r.triggered, r.ok; any other field is read from data.
**
** A waiter's deadline is its task's one wake slot: serving it cancels the
** deadline, and a deadline that fires first makes wait return false, so
** exactly one of the two happens and no timer outlives the wait. A waiter
** whose task is cancelled or interrupted leaves the queue at once (the
** runtime's leave hook). A grant its task never claimed (cancelled between
** serve and resume) is for the Lua policy to give back: its `<close>`
** guard runs while the task unwinds.
**
** A queue's user values: 1 its owner, 2 its policy's on_leave function,
** 3 its queued requests (address -> waiter: the queue holds them). A
** waiter's: 1 (UV_VALUES) its values once served (or its error once
** withdrawn), 2 its data, 3 its queue (kept alive while the waiter is). A
** blocking waiter is held by its waiting task's stack; the queue reaches
** every waiter through the registered objects (rt_register_object).
*/
#include "ldes.h"

#define LWAIT_QUEUE_MT "des.waitq"
#define LWAIT_NODE_MT "des.waitq.waiter"

/* A waiter's user values. */
enum { NODE_VALUES = UV_VALUES, NODE_DATA, NODE_QUEUE, NODE_NUV = NODE_QUEUE };
/* A queue's. */
enum { QUEUE_OWNER = 1, QUEUE_ON_LEAVE, QUEUE_REQUESTS, QUEUE_NUV = 3 };

/* What a queue's waiters show as task.waiting_on (static strings). */
static const char *const lwait_whats[] = {
    "store get", "store put", "container get", "container put", NULL};

typedef struct lwait_queue {
  wq_queue q;
  const char *what;
} lwait_queue;

typedef struct lwait_node {
  rt_waitable w; /* first: tasks and composites wait on this (as events) */
  wq_node n;
  uint8_t request;   /* made by q:request: an event no task is blocked on */
  uint8_t held;      /* ... held by the queue while queued */
  uint8_t released;  /* released (r:release, <close>) */
  uint8_t withdrawn; /* ... while still queued */
} lwait_node;

#define node_of(p) ((lwait_node *)((char *)(p)-offsetof(lwait_node, n)))

static lwait_queue *check_queue(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, LWAIT_QUEUE_MT);
}

/* des._waitq(what [, owner [, on_leave]]): owner (a store or container)
** is what a task waiting in the queue shows as task.waiting_on; on_leave
** is called as on_leave(owner, data, how) when a request is released
** (see the top). A queue belongs to no simulation (a store is made before
** anyone knows which will use it): each waiter's deadline and wake are
** its own task's, as a task waiting on an event another simulation
** triggers. */
static int l_waitq(lua_State *L) {
  int what = luaL_checkoption(L, 1, NULL, lwait_whats);
  lwait_queue *q;
  if (!lua_isnoneornil(L, 3))
    luaL_checktype(L, 3, LUA_TFUNCTION);
  lua_settop(L, 3);
  rt_check_state(L, "wait queue");
  q = lua_newuserdatauv(L, sizeof(*q), QUEUE_NUV);
  wq_init(&q->q, 0);
  q->what = lwait_whats[what];
  luaL_setmetatable(L, LWAIT_QUEUE_MT);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, -2, QUEUE_OWNER);
  lua_pushvalue(L, 3);
  lua_setiuservalue(L, -2, QUEUE_ON_LEAVE);
  lua_newtable(L);
  lua_setiuservalue(L, -2, QUEUE_REQUESTS);
  return 1;
}

/* The runtime's hook when a waiting task leaves unfinished: the node
** leaves the queue (a grant it held is the Lua guard's to give back). */
static void node_leave(wq_node *n, void *ctx) {
  (void)ctx;
  wq_leave(n);
}

/* A new waiter of the queue at 1 with the data at didx, pushed. */
static lwait_node *node_new(lua_State *L, int didx) {
  lwait_node *w;
  rt_check_state(L, "request");
  w = lua_newuserdatauv(L, sizeof(*w), NODE_NUV);
  memset(w, 0, sizeof(*w));
  rt_setmetatable(L, RT_MT_WAITER);
  lua_pushvalue(L, didx);
  lua_setiuservalue(L, -2, NODE_DATA);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, NODE_QUEUE);
  rt_register_object(L, -1, w);
  return w;
}

/* The queue holds (1) or lets go of (0) its request at idx, by address:
** holding allocates, letting go does not. */
static void hold_request(lua_State *L, int qidx, int idx, int hold) {
  idx = lua_absindex(L, idx);
  lua_getiuservalue(L, qidx, QUEUE_REQUESTS);
  if (hold)
    lua_pushvalue(L, idx);
  else
    lua_pushnil(L);
  lua_rawsetp(L, -2, lua_touserdata(L, idx));
  lua_pop(L, 1);
}

/* Continuation of q:wait (ctx: the waiter's stack index). */
static int wait_k(lua_State *L, int status, lua_KContext ctx) {
  lwait_node *w = lua_touserdata(L, (int)ctx);
  rt_task *t = rt_current(L);
  (void)status;
  t->wq = NULL;
  if (t->resume == RESUME_INTERRUPT) /* the leave hook took it out */
    return rt_raise_interrupt(L, t);
  if (t->waiter.on != NULL) { /* the deadline came first */
    rt_waiter_unlink(&t->waiter);
    wq_expire(&w->n); /* a serve would have cancelled the deadline */
    lua_pushboolean(L, 0);
    return 1;
  }
  wq_claim(&w->n);
  lua_pushboolean(L, 1);
  return 1;
}

/* q:wait(data [, timeout]) --> true when served, false when timed out */
static int q_wait(lua_State *L) {
  lwait_queue *q = check_queue(L, 1);
  rt_task *t = rt_current(L);
  des_time deadline = -1;
  lwait_node *w;
  if (t == NULL)
    return luaL_error(L, "%s: not inside a task (only a task can wait)",
                      q->what);
  if (!lua_isnoneornil(L, 3) &&
      sim_time_after(t->rt->sim, rt_check_duration(L, t->rt, 3, q->what),
                     &deadline) != 0)
    return luaL_error(L, "%s: timeout overflows the simulated clock", q->what);
  rt_check_suspend(L, t, q->what);
  lua_settop(L, 2);
  w = node_new(L, 2);                         /* at 3 */
  rt_suspend(L, t, &w->w, q->what, deadline); /* raises before queueing */
  t->wait_obj = 1; /* the queue's owner, else the queue (task.waiting_on) */
  if (lua_getiuservalue(L, 1, QUEUE_OWNER) != LUA_TNIL)
    lua_replace(L, 1);
  else
    lua_pop(L, 1);
  w->n.leave = node_leave;
  wq_push(&q->q, &w->n, 0);
  t->wq = &w->n;
  return lua_yieldk(L, 0, 3, wait_k);
}

/* Push node n (a queued waiter) and its data, or nil: returns 2 or 1. */
static int push_node(lua_State *L, wq_node *n) {
  if (n == NULL) {
    lua_pushnil(L);
    return 1;
  }
  rt_push_object(L, node_of(n));
  if (lua_type(L, -1) != LUA_TUSERDATA) /* being collected: see node_gc */
    return 1;
  lua_getiuservalue(L, -1, NODE_DATA);
  return 2;
}

/* q:first() --> waiter, data | nil */
static int q_first(lua_State *L) {
  return push_node(L, wq_first(&check_queue(L, 1)->q));
}

/* A waiter of queue q at idx (an error for anything else). */
static lwait_node *check_node(lua_State *L, lwait_queue *q, int idx) {
  lwait_node *w = ldes_checkudata(L, idx, RT_MT_WAITER, LWAIT_NODE_MT);
  if (w->n.q != &q->q)
    luaL_error(L, "%s: a waiter of another queue", q->what);
  return w;
}

/* q:next(w) --> the waiter after w, its data | nil */
static int q_next(lua_State *L) {
  lwait_queue *q = check_queue(L, 1);
  return push_node(L, wq_next(&check_node(L, q, 2)->n));
}

/* Push the values at [first, top] packed as {n=..., ...}. */
static void pack_values(lua_State *L, int first) {
  int i, n = lua_gettop(L) - first + 1;
  lua_createtable(L, n, 1);
  for (i = 0; i < n; i++) {
    lua_pushvalue(L, first + i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushinteger(L, n);
  lua_setfield(L, -2, "n");
}

/* q:serve(w, ...) --> true: w leaves the queue, granted with the values
** ..., and what waits on it wakes now (tasks, composites); false if w is
** no longer queued (it left while the policy looked at it). The values
** are packed first: nothing allocates between the check and the grant. */
static int q_serve(lua_State *L) {
  lwait_queue *q = check_queue(L, 1);
  lwait_node *w = check_node(L, q, 2);
  int queued;
  pack_values(L, 3);
  queued = w->n.state == WQ_QUEUED;
  if (queued) {
    wq_serve(&w->n);
    lua_setiuservalue(L, 2, NODE_VALUES);
    if (w->held)
      hold_request(L, 1, 2, 0);
    rt_trigger(L, &w->w, 2, WAITABLE_OK);
  }
  lua_pushboolean(L, queued);
  return 1;
}

/* q:request(data [, unheld]) --> a waiter queued with data (a table): an
** event for tasks and composites to wait on. The queue holds it while it
** is queued, unless `unheld` (a blocking get or put: its task's stack
** holds it, and it leaves the queue if collected with its simulation). */
static int q_request(lua_State *L) {
  lwait_queue *q = check_queue(L, 1);
  int held = !lua_toboolean(L, 3);
  lwait_node *w;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  w = node_new(L, 2); /* at 3 */
  w->request = 1;
  w->n.leave = node_leave;
  if (held)
    hold_request(L, 1, 3, 1); /* the last allocation */
  w->held = (uint8_t)held;
  wq_push(&q->q, &w->n, 0);
  return 1;
}

/* {====================================================================
** Requests: r:wait, r:release, fields
** ===================================================================== */

static lwait_node *check_waiter(lua_State *L, int idx) {
  return ldes_checkudata(L, idx, RT_MT_WAITER, LWAIT_NODE_MT);
}

/* Push the queue of the waiter at idx, and return it. */
static lwait_queue *push_queue_of(lua_State *L, int idx) {
  lua_getiuservalue(L, idx, NODE_QUEUE);
  return lua_touserdata(L, -1);
}

/* Continuation of r:wait (the waiter at 1). */
static int request_wait_k(lua_State *L, int status, lua_KContext ctx) {
  rt_task *t = rt_current(L);
  lwait_node *w = lua_touserdata(L, 1);
  (void)status;
  (void)ctx;
  rt_check_resumed(L, t);
  if (t->resume == RESUME_INTERRUPT) /* the request stays as it is */
    return rt_raise_interrupt(L, t);
  if (t->waiter.on != NULL) { /* the deadline came first: still queued */
    rt_waiter_unlink(&t->waiter);
    lua_pushnil(L);
    lua_pushliteral(L, "timed out");
    return 2;
  }
  if (w->w.state == WAITABLE_OK)
    wq_claim(&w->n);
  return rt_push_result(L, 1); /* raises if it failed (withdrawn) */
}

/* r:wait([timeout]) --> its values once served (at once if it is); nil,
** "timed out" when timeout passed first (the request stays queued). */
static int r_wait(lua_State *L) {
  lwait_node *w = check_waiter(L, 1);
  rt_task *t = rt_current(L);
  lwait_queue *q;
  des_time deadline = -1;
  rt_check_interrupt(L, t);
  lua_settop(L, 2);
  q = push_queue_of(L, 1); /* 3 */
  if (w->w.state != WAITABLE_PENDING) {
    if (w->w.state == WAITABLE_OK)
      wq_claim(&w->n);
    return rt_push_result(L, 1);
  }
  if (w->released || w->n.state != WQ_QUEUED)
    return luaL_error(L, "%s: the request was released", q->what);
  if (t == NULL)
    return luaL_error(L, "%s: not inside a task (only a task can wait)",
                      q->what);
  if (!lua_isnil(L, 2) &&
      sim_time_after(t->rt->sim, rt_check_duration(L, t->rt, 2, q->what),
                     &deadline) != 0)
    return luaL_error(L, "%s: timeout overflows the simulated clock", q->what);
  rt_check_suspend(L, t, q->what);
  if (lua_getiuservalue(L, 3, QUEUE_OWNER) != LUA_TNIL) /* 4 */
    lua_replace(L, 3);
  lua_settop(L, 3);
  rt_suspend(L, t, &w->w, q->what, deadline);
  t->wait_obj = 3; /* the queue's owner, else the queue */
  return lua_yieldk(L, 0, 0, request_wait_k);
}

/* r:release() / <close>: withdraw it if still queued (it fails for the
** tasks waiting on it, and later waits raise; a composite holding it
** keeps waiting for its other members), then tell the policy: on_leave(owner,
** data, "withdrawn" or "unclaimed"). A second release does nothing. */
static int r_release(lua_State *L) {
  lwait_node *w = check_waiter(L, 1);
  lwait_queue *q;
  int was;
  if (w->released)
    return 0;
  w->released = 1;
  lua_settop(L, 1);
  q = push_queue_of(L, 1); /* 2 */
  was = wq_leave(&w->n);
  if (was == WQ_QUEUED) {
    w->withdrawn = 1;
    if (w->held)
      hold_request(L, 2, 1, 0);
    lua_pushfstring(L,
                    "%s: the request was withdrawn (released before it "
                    "was served)",
                    q->what);
    lua_setiuservalue(L, 1, NODE_VALUES);
    ldes_detach_composites(&w->w); /* they wait for their other members */
    rt_trigger(L, &w->w, 1, WAITABLE_FAILED);
  }
  if ((was == WQ_QUEUED || was == WQ_SERVED) &&
      lua_getiuservalue(L, 2, QUEUE_ON_LEAVE) == LUA_TFUNCTION) {
    lua_getiuservalue(L, 2, QUEUE_OWNER);
    lua_getiuservalue(L, 1, NODE_DATA);
    lua_pushstring(L, was == WQ_QUEUED ? "withdrawn" : "unclaimed");
    lua_call(L, 3, 0);
  }
  return 0;
}

/* r.granted, .queued, .withdrawn, .released, .triggered, .ok; methods;
** any other key is read (raw) from its data. */
static int r_index(lua_State *L) {
  lwait_node *w = check_waiter(L, 1);
  const char *k;
  if (ldes_method(L))
    return 1;
  k = lua_tostring(L, 2);
  if (k == NULL)
    lua_pushnil(L);
  else if (strcmp(k, "granted") == 0)
    lua_pushboolean(L, w->w.state == WAITABLE_OK);
  else if (strcmp(k, "queued") == 0)
    lua_pushboolean(L, w->n.state == WQ_QUEUED);
  else if (strcmp(k, "withdrawn") == 0)
    lua_pushboolean(L, w->withdrawn);
  else if (strcmp(k, "released") == 0)
    lua_pushboolean(L, w->released);
  else if (strcmp(k, "triggered") == 0)
    lua_pushboolean(L, w->w.state != WAITABLE_PENDING);
  else if (strcmp(k, "ok") == 0) {
    if (w->w.state == WAITABLE_PENDING)
      lua_pushnil(L);
    else
      lua_pushboolean(L, w->w.state == WAITABLE_OK);
  } else {
    if (lua_getiuservalue(L, 1, NODE_DATA) != LUA_TTABLE)
      lua_pushnil(L);
    else {
      lua_pushvalue(L, 2);
      lua_rawget(L, -2);
    }
  }
  return 1;
}

static int r_tostring(lua_State *L) {
  lwait_node *w = check_waiter(L, 1);
  lwait_queue *q = push_queue_of(L, 1);
  lua_pushfstring(L, "des.request (%s: %s)", q->what,
                  w->withdrawn                    ? "withdrawn"
                  : w->w.state == WAITABLE_OK     ? "granted"
                  : w->w.state == WAITABLE_FAILED ? "failed"
                  : w->n.state == WQ_QUEUED       ? "queued"
                                                  : "released");
  return 1;
}

/* }==================================================================== */

/* A waiter collected while still queued (its task was collected with its
** whole simulation, the queue outliving them) leaves, so the queue never
** points into freed memory; its queue, its user value, is still alive. */
static int node_gc(lua_State *L) {
  lwait_node *w = lua_touserdata(L, 1);
  wq_leave(&w->n);
  return 0;
}

static int q_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)check_queue(L, 1)->q.len);
  return 1;
}

static int q_tostring(lua_State *L) {
  lwait_queue *q = check_queue(L, 1);
  lua_pushfstring(L, "des.waitq '%s': %I waiting", q->what,
                  (lua_Integer)q->q.len);
  return 1;
}

/* q:enter() -- at the start of every put and get, also one served at
** once: a pending interrupt of the running task is raised here (an
** interrupt is never lost to a wait that does not suspend). */
static int q_enter(lua_State *L) {
  check_queue(L, 1);
  rt_check_interrupt(L, rt_current(L));
  return 0;
}

static const luaL_Reg queue_methods[] = {
    {"wait", q_wait}, {"enter", q_enter}, {"first", q_first},
    {"next", q_next}, {"serve", q_serve}, {"request", q_request},
    {NULL, NULL}};

static const luaL_Reg waiter_methods[] = {
    {"wait", r_wait}, {"release", r_release}, {NULL, NULL}};

static const luaL_Reg module_funcs[] = {{"_waitq", l_waitq}, {NULL, NULL}};

void lwait_open(lua_State *L, int mod) {
  mod = lua_absindex(L, mod);
  luaL_newmetatable(L, LWAIT_QUEUE_MT);
  lua_pushcfunction(L, q_len);
  lua_setfield(L, -2, "__len");
  lua_pushcfunction(L, q_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L);
  ldes_setfuncs(L, -1, queue_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  ldes_newmetatable(L, RT_MT_WAITER, LWAIT_NODE_MT);
  lua_pushcfunction(L, node_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, r_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_getfield(L, LUA_REGISTRYINDEX, RT_GLOBAL_KEY);
  lua_pushcclosure(L, r_release, 1);
  lua_setfield(L, -2, "__close");
  lua_newtable(L);
  ldes_setfuncs(L, -1, waiter_methods);
  lua_setfield(L, -2, "methods");
  ldes_set_index(L, -1, r_index);
  lua_pop(L, 1);
  ldes_setfuncs(L, mod, module_funcs);
}
