/*
** waitq.h -- one wait queue for everything a task can queue at: resource
** requests, store gets and puts, container gets and puts.
**
** The queue keeps order and nothing else: FIFO, or by priority (a lower
** number first, FIFO among equals, as SimPy), with O(1) leaving through
** intrusive links, so a waiter that goes away (cancelled, interrupted, an
** `any` fired elsewhere, its deadline passed) leaves no stale entry. Who
** can be served is the policy's decision (capacity, level, a store
** filter); the queue only records the outcome of each waiter, exactly once:
**
**   QUEUED --serve--> SERVED --claim--> CLAIMED   (it resumed with the grant)
**      |                 |
**      +--expire--> EXPIRED                       (its deadline came first)
**      +--leave---> LEFT  <--leave--+             (a grant never claimed:
**                                                  wq_leave says so, and the
**                                                  policy hands it on)
**
** A node is embedded in its owner (no allocation: linking and unlinking
** never allocate). The deadline itself is the waiting task's one wake
** slot (rt_suspend): a grant cancels the pending deadline when it wakes
** the task, and a deadline that fires finds the node still QUEUED, so the
** first of the two wins and the other never happens. This file knows no
** Lua and no tasks: host/tests/test_waitq.c drives it directly.
*/
#ifndef DES_WAITQ_H
#define DES_WAITQ_H

#include <stddef.h>
#include <stdint.h>

typedef struct wq_node wq_node;
typedef struct wq_queue wq_queue;

/* A waiter's state: where it is in the diagram above. */
enum { WQ_IDLE, WQ_QUEUED, WQ_SERVED, WQ_CLAIMED, WQ_EXPIRED, WQ_LEFT };

struct wq_node {
  wq_node *prev, *next; /* neighbours while QUEUED */
  wq_queue *q;          /* the queue it was pushed on */
  /* the owner's hook when its task leaves the wait unfinished (the
  ** runtime's leave hook); ctx is the caller's (the runtime passes the
  ** lua_State it runs in, or NULL when no Lua may run) */
  void (*leave)(wq_node *n, void *ctx);
  double priority; /* ordered queues: lower first */
  uint64_t seq;    /* arrival number in its queue, from 1 */
  uint8_t state;   /* WQ_* */
};

struct wq_queue {
  wq_node *head, *tail;
  size_t len;      /* QUEUED nodes */
  uint64_t seq;    /* last arrival number handed out */
  uint8_t ordered; /* by (priority, arrival); else arrival only */
};

/* An empty queue: FIFO, or ordered by priority. */
void wq_init(wq_queue *q, int ordered);

/* Queue n (IDLE) with its priority (ignored by a FIFO queue): O(1) at the
** tail for FIFO and for a priority not better than the tail's. Returns how
** many queued nodes it walked past (for the caller to charge: a model
** controls the priorities). */
size_t wq_push(wq_queue *q, wq_node *n, double priority);

/* The first / the next QUEUED node, or NULL (NULL after a node that is no
** longer queued: a walk stops rather than follow a stale link). */
wq_node *wq_first(const wq_queue *q);
wq_node *wq_next(const wq_node *n);

/* Serve a QUEUED node: it leaves the queue with a grant to claim. */
void wq_serve(wq_node *n);

/* The waiter resumed with its grant: SERVED -> CLAIMED. */
void wq_claim(wq_node *n);

/* Its deadline fired: a QUEUED node leaves as EXPIRED and 1 is returned;
** 0 if it was served first (the grant wins; the node is unchanged). */
int wq_expire(wq_node *n);

/* Its waiter left unfinished (cancelled, interrupted): a QUEUED node
** leaves, a SERVED node gives up its grant. Returns the state it was in,
** so that the caller hands an unclaimed grant (WQ_SERVED) on to the next
** waiter. Other states: nothing changes. */
int wq_leave(wq_node *n);

#endif
