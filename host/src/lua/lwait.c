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
** A waiter's deadline is its task's one wake slot: serving it cancels the
** deadline, and a deadline that fires first makes wait return false, so
** exactly one of the two happens and no timer outlives the wait. A waiter
** whose task is cancelled or interrupted leaves the queue at once (the
** runtime's leave hook). A grant its task never claimed (cancelled between
** serve and resume) is for the Lua policy to give back: its `<close>`
** guard runs while the task unwinds.
**
** A queue userdata has no user value. A waiter's (one per wait): 1 its
** data, 2 its queue (kept alive while the waiter is). A waiter is held by
** its waiting task's stack; the queue reaches it through the registered
** objects (rt_register_object), which are valid while it is queued.
*/
#include "ldes.h"

#define LWAIT_QUEUE_MT "des.waitq"
#define LWAIT_NODE_MT "des.waitq.waiter"

/* What a queue's waiters show as task.waiting_on (static strings). */
static const char *const lwait_whats[] = {
    "store get", "store put", "container get", "container put", NULL};

typedef struct lwait_queue {
  wq_queue q;
  const char *what;
} lwait_queue;

typedef struct lwait_node {
  rt_waitable w; /* first: its task waits on this (a waitable, as events) */
  wq_node n;
} lwait_node;

#define node_of(p) ((lwait_node *)((char *)(p)-offsetof(lwait_node, n)))

static const char lwait_node_key = 0; /* the waiter metatable, by address */

static lwait_queue *check_queue(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, LWAIT_QUEUE_MT);
}

/* des._waitq(what [, owner]): owner (a store or container) is what a
** task waiting in the queue shows as task.waiting_on. A queue belongs to no
*simulation (a store is made
** before anyone knows which will use it): each waiter's deadline and wake
** are its own task's, as a task waiting on an event another simulation
** triggers. */
static int l_waitq(lua_State *L) {
  int what = luaL_checkoption(L, 1, NULL, lwait_whats);
  lwait_queue *q = lua_newuserdatauv(L, sizeof(*q), 1);
  wq_init(&q->q, 0);
  q->what = lwait_whats[what];
  luaL_setmetatable(L, LWAIT_QUEUE_MT);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

/* The runtime's hook when a waiting task leaves unfinished: the node
** leaves the queue (a grant it held is the Lua guard's to give back). */
static void node_leave(wq_node *n) {
  wq_leave(n);
}

/* Continuation of q:wait (ctx: the waiter's stack index). */
static int wait_k(lua_State *L, int status, lua_KContext ctx) {
  lwait_node *w = lua_touserdata(L, (int)ctx);
  des_task *t = rt_current(L);
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
  des_task *t = rt_current(L);
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
  w = lua_newuserdatauv(L, sizeof(*w), 2); /* at 3 */
  memset(w, 0, sizeof(*w));
  lua_rawgetp(L, LUA_REGISTRYINDEX, &lwait_node_key);
  lua_setmetatable(L, 3);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, 3, 1);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, 3, 2);
  rt_register_object(L, 3, w);
  rt_suspend(L, t, &w->w, q->what, deadline); /* raises before queueing */
  t->wait_obj = 1; /* the queue's owner, else the queue (task.waiting_on) */
  if (lua_getiuservalue(L, 1, 1) != LUA_TNIL)
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
  lua_getiuservalue(L, -1, 1);
  return 2;
}

/* q:first() --> waiter, data | nil */
static int q_first(lua_State *L) {
  return push_node(L, wq_first(&check_queue(L, 1)->q));
}

/* A waiter of queue q at idx (an error for anything else). */
static lwait_node *check_node(lua_State *L, lwait_queue *q, int idx) {
  lwait_node *w = luaL_checkudata(L, idx, LWAIT_NODE_MT);
  if (w->n.q != &q->q)
    luaL_error(L, "%s: a waiter of another queue", q->what);
  return w;
}

/* q:next(w) --> the waiter after w, its data | nil */
static int q_next(lua_State *L) {
  lwait_queue *q = check_queue(L, 1);
  return push_node(L, wq_next(&check_node(L, q, 2)->n));
}

/* q:serve(w) --> true: w leaves the queue and its task wakes now; false
** if w is no longer queued (it left while the policy looked at it). */
static int q_serve(lua_State *L) {
  lwait_queue *q = check_queue(L, 1);
  lwait_node *w = check_node(L, q, 2);
  int queued = w->n.state == WQ_QUEUED;
  if (queued) {
    wq_serve(&w->n);
    rt_trigger_tasks(&w->w);
  }
  lua_pushboolean(L, queued);
  return 1;
}

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

static const luaL_Reg queue_methods[] = {{"wait", q_wait},   {"enter", q_enter},
                                         {"first", q_first}, {"next", q_next},
                                         {"serve", q_serve}, {NULL, NULL}};

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
  luaL_newmetatable(L, LWAIT_NODE_MT);
  lua_pushcfunction(L, node_gc);
  lua_setfield(L, -2, "__gc");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &lwait_node_key);
  ldes_setfuncs(L, mod, module_funcs);
}
