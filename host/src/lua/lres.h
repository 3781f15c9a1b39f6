/*
** lres.h -- what the resource (lres.c) and its requests (lreq.c) share:
** their layouts, and the policy over the wait queue (grant, release,
** preempt: lrespol.c) that both the blocking acquire and request events
** use.
**
** A resource userdata's user values: 1 its anchor table, 2 its name, 3
** its simulation object, 4 its stats table (made on first use), 5..8 its
** queue, busy, wait and reneged statistics (anchors the model cannot
** reach), and LRES_UV_ANCHOR.. the first LRES_UV_ANCHORS anchor slots.
** Anchors keep alive every request that is held: granted and received,
** made by res:request and not yet released, or waiting in acquire without
** a deadline. Slot s (a small integer, reused) is the user value
** LRES_UV_ANCHOR + s - 1 up to LRES_UV_ANCHORS (the lowest free first: no
** table, no allocation: the hot path), past that key s - LRES_UV_ANCHORS
** of the anchor table (an array).
**
** A request's user values: 1 (UV_VALUES) its error once it failed (a full
** queue, or withdrawn while something waited on it), 2 its resource.
*/
#ifndef DES_LRES_H
#define DES_LRES_H

#include "ldes.h"

#define DES_RESOURCE_MT "des.resource"
#define DES_REQUEST_MT "des.request"

/* A request's user value holding its resource. */
#define LRES_UV_RES 2

/* A resource's anchor slots in user values: how many, and the first's. */
#define LRES_UV_ANCHORS 32
#define LRES_UV_ANCHOR 9

/* Where a blocked acquire keeps its request: its task's stack. */
#define LRES_REQ_SLOT 4

typedef struct lres lres;

typedef struct lres_req {
  rt_waitable w; /* first: tasks and composites wait on this */
  wq_node n;     /* its place in the resource's wait queue */
  lres *res;
  rt_task *task;    /* the task blocked in acquire on it (at REQ_SLOT of
                        its stack), or NULL */
  uint64_t task_id; /* the task that made it (rt_task_id), or 0 */
  double priority;
  uint64_t seq;
  des_time time, granted_at;
  uint32_t slot; /* its anchor slot while anchored, or 0 */
  uint8_t granted, released, preempted, received;
  uint8_t nopreempt; /* queues by priority without preempting */
  uint8_t event;     /* made by res:request (registered, anchored) */
  uint8_t reneged;   /* left the queue before its grant */
} lres_req;

#define lres_req_of(node) ((lres_req *)((char *)(node)-offsetof(lres_req, n)))

struct lres {
  rt_runtime *rt;
  lua_Integer capacity, count;
  lua_Integer maxlen; /* most requests queued, or -1 */
  uint64_t seq;
  uint8_t priority, preemptive;
  wq_queue q;                       /* the waiting requests (waitq.h) */
  uint64_t uvfree;                  /* the anchor slots in user values that
                                       are free (bit s - 1: slot s) */
  uint32_t *free_slots;             /* the table's anchor slots free for
                                       reuse (a stack) */
  uint32_t nfree, nslots, capslots; /* its height; the table's slots handed
                                       out so far; room in free_slots */
  lres_req **users;                 /* holders, in grant order */
  size_t nusers, capusers;
  stats_level *lqueue, *lbusy; /* in user values 5 and 6 */
  stats_tally *wait, *reneged; /* in user values 7 and 8 */
  rt_global *G;
};

lres *lres_check(lua_State *L, int idx);

/* Resize an array through the state's allocator; NULL on failure. */
static inline void *lres_realloc(lres *r, void *p, size_t osize, size_t nsize) {
  return r->G->allocf(r->G->allocud, p, osize, nsize);
}

/* Make room to count the time at the count n (raises on no memory), so
** that setting the level to n later cannot fail. */
static inline void lres_level_reserve(lua_State *L, stats_level *lv, size_t n) {
  if (stats_level_reserve_count(lv, n) != STATS_OK)
    luaL_error(L, "resource: not enough memory for statistics");
}

/* Room for n holders and their busy counts (raises on no memory). */
void lres_reserve_users_slow(lua_State *L, lres *r, size_t n);

/* The same, inline when there is room already (every request). */
static inline void lres_reserve_users(lua_State *L, lres *r, size_t n) {
  if (n > r->capusers || (r->lbusy->keep_at && n >= r->lbusy->ndense))
    lres_reserve_users_slow(L, r, n);
}

/* Hand free servers to waiting requests (a finalizer may change the
** resource meanwhile: each turn reads it anew). */
void lres_grant_waiting(lua_State *L, lres *r);

/* Make a request of the resource r at ridx (absolute; checked by the
** caller) with the priority at pidx (a number, or nil or none for 0:
** checked by the caller) for task t (may be NULL) and push it,
** anchored in the resource: every allocation is done, so granting or
** queueing it cannot fail. Raises
** before anything changes. An `event` request (res:request) is also
** registered, so that a grant can wake the composites holding it. */
lres_req *lres_new_request(lua_State *L, lres *r, int ridx, int pidx,
                           rt_task *t, int event);

/* What becomes of a new request: LRES_GRANTED (a free server, or one taken
** by preemption: granted now), LRES_QUEUE (the caller queues it) or
** LRES_FULL (the queue holds maxlen requests). May allocate (preemption)
** and so run finalizers: the caller checks the simulation afterwards. */
enum { LRES_GRANTED, LRES_QUEUE, LRES_FULL };
int lres_decide(lua_State *L, lres *r, lres_req *req, int ridx);

/* Queue a request in its resource's wait queue (its walk by priority is
** charged to L's budget). */
void lres_enqueue(lua_State *L, lres_req *req);

/* Release a request (withdraw it if still queued: a reneging recorded);
** its server goes to the next waiters. L may be NULL (no composite is
** told then). A second release does nothing. */
void lres_release(lua_State *L, lres_req *req);

/* A queued request leaves the queue because its wait ended first (an
** acquire's deadline): recorded as reneged. */
void lres_expire(lres_req *req);

/* Anchor the request at idx in the resource at ridx (raises on no memory
** before anything changes), and drop that anchor (allocates nothing). */
void lres_anchor(lua_State *L, int ridx, lres_req *req, int idx);
void lres_unanchor(lua_State *L, int ridx, lres_req *req);

/* Push a request that the resource knows (queued or held): from its
** acquiring task's stack, its anchor or the registered objects; nil if
** it cannot be reached (being collected). */
void lres_push_req(lua_State *L, lres_req *req);

/* The methods of requests and the resource's request/acquire/release
** (lreq.c). */
int lreq_request(lua_State *L);
int lreq_acquire(lua_State *L);
int lreq_release(lua_State *L);
void lreq_open(lua_State *L);

#endif
