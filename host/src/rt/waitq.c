/*
** waitq.c -- one wait queue (see waitq.h): an intrusive doubly linked
** list in (priority, arrival) order, and each waiter's outcome decided
** once.
*/
#include "waitq.h"

void wq_init(wq_queue *q, int ordered) {
  q->head = q->tail = NULL;
  q->len = 0;
  q->seq = 0;
  q->ordered = (uint8_t)(ordered != 0);
}

/* Is a served before b? By priority in an ordered queue, then arrival. */
static int wq_before(const wq_queue *q, const wq_node *a, const wq_node *b) {
  if (q->ordered && a->priority != b->priority)
    return a->priority < b->priority;
  return a->seq < b->seq;
}

/* Link n after `at` (NULL: at the head). */
static void wq_link_after(wq_queue *q, wq_node *at, wq_node *n) {
  n->prev = at;
  n->next = at != NULL ? at->next : q->head;
  if (n->next != NULL)
    n->next->prev = n;
  else
    q->tail = n;
  if (at != NULL)
    at->next = n;
  else
    q->head = n;
}

/* Take a QUEUED node out of its queue in O(1). */
static void wq_unlink(wq_node *n) {
  wq_queue *q = n->q;
  if (n->prev != NULL)
    n->prev->next = n->next;
  else
    q->head = n->next;
  if (n->next != NULL)
    n->next->prev = n->prev;
  else
    q->tail = n->prev;
  n->prev = n->next = NULL;
  q->len--;
}

size_t wq_push(wq_queue *q, wq_node *n, double priority) {
  wq_node *at = q->tail;
  size_t walked = 0;
  n->q = q;
  n->priority = q->ordered ? priority : 0;
  n->seq = ++q->seq;
  n->state = WQ_QUEUED;
  while (q->ordered && at != NULL && wq_before(q, n, at)) { /* FIFO: O(1) */
    at = at->prev;
    walked++;
  }
  wq_link_after(q, at, n);
  q->len++;
  return walked;
}

wq_node *wq_first(const wq_queue *q) {
  return q->head;
}

wq_node *wq_next(const wq_node *n) {
  return n->state == WQ_QUEUED ? n->next : NULL;
}

void wq_serve(wq_node *n) {
  if (n->state != WQ_QUEUED)
    return;
  wq_unlink(n);
  n->state = WQ_SERVED;
}

void wq_claim(wq_node *n) {
  if (n->state == WQ_SERVED)
    n->state = WQ_CLAIMED;
}

int wq_expire(wq_node *n) {
  if (n->state != WQ_QUEUED)
    return 0;
  wq_unlink(n);
  n->state = WQ_EXPIRED;
  return 1;
}

int wq_leave(wq_node *n) {
  int was = n->state;
  if (was == WQ_QUEUED)
    wq_unlink(n);
  if (was == WQ_QUEUED || was == WQ_SERVED)
    n->state = WQ_LEFT;
  return was;
}
