/*
** lrespol.c -- the policy of des.resource (lres.h): who holds a server,
** who waits, who is preempted. Grants, the wait queue and the holders,
** releases and renegings, preemption, and the anchors that keep held
** requests alive; the resource (lres.c) and its requests (lreq.c) share
** it, on the hot path of most models.
*/
#include "lres.h"

/* Set a level to the count n from now on. */
static inline void level_set(lres *r, stats_level *lv, uint64_t n) {
  stats_level_set_count(lv, rt_now(r->rt), n);
}

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
void lres_reserve_users_slow(lua_State *L, lres *r, size_t n) {
  if (n > r->capusers) {
    void *p = lres_realloc(r, r->users, r->capusers * sizeof(*r->users),
                           n * sizeof(*r->users));
    if (p == NULL)
      luaL_error(L, "resource: not enough memory");
    r->users = p;
    r->capusers = n;
  }
  lres_level_reserve(L, r->lbusy, n);
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
void lres_grant_waiting(lua_State *L, lres *r) {
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
    lres_grant_waiting(L, r);
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
** Anchoring
** ===================================================================== */

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
** Preemption
** ===================================================================== */

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

/* }==================================================================== */

/* {====================================================================
** Requests: reaching, making, deciding
** ===================================================================== */

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
    lres_reserve_users(L, r, (size_t)r->count + 1);
    lres_level_reserve(L, r->lqueue, r->q.len + 1);
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

/* }==================================================================== */
