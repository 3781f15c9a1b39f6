/*
** test_waitq.c -- the wait queue (host/src/rt/waitq.c): its invariants one
** by one (order, deadline, leave, hand-on), then a differential check: a
** small resource policy over the queue against the same policy over a
** plain array, driven by long random operation streams with fixed seeds,
** as test_wheel_diff.c checks the wheel.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "waitq.h"

#ifndef WAITQ_DIFF_OPS
#define WAITQ_DIFF_OPS 100000
#endif

/* {====================================================================
** Unit checks
** ===================================================================== */

/* The queue's nodes in order, into out[]; returns how many. */
static size_t walk(const wq_queue *q, wq_node **out, size_t max) {
  size_t n = 0;
  const wq_node *p;
  for (p = wq_first(q); p != NULL && n < max; p = wq_next(p))
    out[n++] = (wq_node *)p;
  return n;
}

static void test_fifo_ignores_priority(void) {
  wq_queue q;
  wq_node n[4] = {{0}};
  wq_node *o[4];
  wq_init(&q, 0);
  wq_push(&q, &n[0], 5);
  wq_push(&q, &n[1], 1);
  wq_push(&q, &n[2], 3);
  CHECK(q.len == 3);
  CHECK(walk(&q, o, 4) == 3);
  CHECK(o[0] == &n[0] && o[1] == &n[1] && o[2] == &n[2]);
}

static void test_priority_then_arrival(void) {
  wq_queue q;
  wq_node n[6] = {{0}};
  wq_node *o[6];
  static const double prio[6] = {2, 1, 2, 0, 1, -0.5};
  static const int expect[6] = {5, 3, 1, 4, 0, 2};
  int i;
  wq_init(&q, 1);
  for (i = 0; i < 6; i++)
    wq_push(&q, &n[i], prio[i]);
  CHECK(walk(&q, o, 6) == 6);
  for (i = 0; i < 6; i++)
    CHECK(o[i] == &n[expect[i]]);
  CHECK(q.head == &n[5] && q.tail == &n[2]);
}

static void test_leave_anywhere(void) {
  wq_queue q;
  wq_node n[3] = {{0}};
  wq_node *o[3];
  int i;
  wq_init(&q, 0);
  for (i = 0; i < 3; i++)
    wq_push(&q, &n[i], 0);
  CHECK(wq_leave(&n[1]) == WQ_QUEUED); /* the middle */
  CHECK(n[1].state == WQ_LEFT && q.len == 2);
  CHECK(walk(&q, o, 3) == 2 && o[0] == &n[0] && o[1] == &n[2]);
  CHECK(wq_next(&n[1]) == NULL);       /* a walk stops at a node that left */
  CHECK(wq_leave(&n[2]) == WQ_QUEUED); /* the tail */
  CHECK(q.tail == &n[0]);
  CHECK(wq_leave(&n[0]) == WQ_QUEUED); /* the head: empty */
  CHECK(q.head == NULL && q.tail == NULL && q.len == 0);
  CHECK(wq_leave(&n[0]) == WQ_LEFT); /* a second leave changes nothing */
  CHECK(n[0].state == WQ_LEFT);
}

static void test_deadline_or_grant_once(void) {
  wq_queue q;
  wq_node a = {0}, b = {0};
  wq_init(&q, 0);
  wq_push(&q, &a, 0);
  wq_push(&q, &b, 0);
  wq_serve(&a); /* the grant first: the deadline loses */
  CHECK(a.state == WQ_SERVED && q.len == 1);
  CHECK(wq_expire(&a) == 0 && a.state == WQ_SERVED);
  CHECK(wq_expire(&b) == 1 && b.state == WQ_EXPIRED && q.len == 0);
  wq_serve(&b); /* the deadline first: the grant is not given */
  CHECK(b.state == WQ_EXPIRED);
  CHECK(wq_expire(&b) == 0);
  wq_claim(&a);
  CHECK(a.state == WQ_CLAIMED);
  CHECK(wq_leave(&a) == WQ_CLAIMED && a.state == WQ_CLAIMED);
}

static void test_unclaimed_grant_is_reported(void) {
  wq_queue q;
  wq_node a = {0};
  wq_init(&q, 1);
  wq_push(&q, &a, 0);
  wq_serve(&a);
  CHECK(wq_leave(&a) == WQ_SERVED); /* the caller hands the grant on */
  CHECK(a.state == WQ_LEFT);
  wq_claim(&a); /* too late: it left */
  CHECK(a.state == WQ_LEFT);
}

/* }==================================================================== */

/* {====================================================================
** Differential check: a capacity-C resource over the queue and over a
** reference array, the same random operations on both
** ===================================================================== */

#define NNODES 48
#define CAP 3

/* The reference: each node's state, priority and arrival number; the
** queued ones are found by scanning. */
typedef struct ref {
  int state[NNODES];
  double prio[NNODES];
  uint64_t seq[NNODES], nseq;
  int busy;
  int ordered;
} ref;

typedef struct sut {
  wq_queue q;
  wq_node n[NNODES];
  int busy;
} sut;

static uint64_t rng_state;

static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1DULL;
}

/* The reference's next node to serve (-1 if none). */
static int ref_first(const ref *r) {
  int i, best = -1;
  for (i = 0; i < NNODES; i++) {
    if (r->state[i] != WQ_QUEUED)
      continue;
    if (best < 0 ||
        (r->ordered && r->prio[i] != r->prio[best] ? r->prio[i] < r->prio[best]
                                                   : r->seq[i] < r->seq[best]))
      best = i;
  }
  return best;
}

/* Serve while a server is free: the policy over each side. */
static void ref_dispatch(ref *r) {
  int i;
  while (r->busy < CAP && (i = ref_first(r)) >= 0) {
    r->state[i] = WQ_SERVED;
    r->busy++;
  }
}

static void sut_dispatch(sut *s) {
  wq_node *n;
  while (s->busy < CAP && (n = wq_first(&s->q)) != NULL) {
    wq_serve(n);
    s->busy++;
  }
}

/* Both sides agree: states, count, busy servers, and the queue's order. */
static int agree(const ref *r, const sut *s) {
  ref copy = *r;
  const wq_node *p;
  size_t len = 0;
  int i;
  for (i = 0; i < NNODES; i++)
    if (r->state[i] != s->n[i].state)
      return 0;
  if (r->busy != s->busy)
    return 0;
  for (p = wq_first(&s->q); p != NULL; p = wq_next(p), len++) {
    int want = ref_first(&copy);
    if (want < 0 || p != &s->n[want])
      return 0;
    copy.state[want] = WQ_IDLE;
  }
  if (ref_first(&copy) >= 0 || len != s->q.len)
    return 0;
  return s->q.len == 0 ? s->q.head == NULL && s->q.tail == NULL : 1;
}

/* One random operation on node i, on both sides. */
static void step(ref *r, sut *s) {
  int i = (int)(rnd() % NNODES), op = (int)(rnd() % 6);
  wq_node *n = &s->n[i];
  switch (op) {
  case 0:
  case 1: /* arrive (an idle node, or one whose wait is over) */
    if (r->state[i] == WQ_QUEUED || r->state[i] == WQ_SERVED ||
        r->state[i] == WQ_CLAIMED)
      break;
    r->prio[i] = (double)(rnd() % 4) - 1.5;
    r->seq[i] = ++r->nseq;
    r->state[i] = WQ_QUEUED;
    n->state = WQ_IDLE;
    wq_push(&s->q, n, r->prio[i]);
    ref_dispatch(r);
    sut_dispatch(s);
    break;
  case 2: /* its task resumes with the grant */
    if (r->state[i] == WQ_SERVED)
      r->state[i] = WQ_CLAIMED;
    wq_claim(n);
    break;
  case 3: /* its deadline fires (only while queued: a grant cancels it) */
    if (r->state[i] == WQ_QUEUED) {
      r->state[i] = WQ_EXPIRED;
      CHECK(wq_expire(n) == 1);
    } else
      CHECK(wq_expire(n) == 0);
    break;
  case 4: { /* its task is cancelled or interrupted */
    int was = r->state[i];
    if (was == WQ_QUEUED || was == WQ_SERVED)
      r->state[i] = WQ_LEFT;
    if (was == WQ_SERVED) /* hand the unclaimed grant on */
      r->busy--;
    ref_dispatch(r);
    CHECK(wq_leave(n) == was);
    if (was == WQ_SERVED)
      s->busy--;
    sut_dispatch(s);
    break;
  }
  case 5: /* a holder releases */
    if (r->state[i] == WQ_CLAIMED) {
      r->state[i] = WQ_IDLE;
      r->busy--;
      ref_dispatch(r);
      n->state = WQ_IDLE;
      s->busy--;
      sut_dispatch(s);
    }
    break;
  }
}

static int run_diff(uint64_t seed, int ordered, long ops) {
  static ref r;
  static sut s;
  long k;
  memset(&r, 0, sizeof(r));
  memset(&s, 0, sizeof(s));
  r.ordered = ordered;
  wq_init(&s.q, ordered);
  rng_state = seed;
  for (k = 0; k < ops; k++) {
    step(&r, &s);
    if (!agree(&r, &s)) {
      fprintf(stderr, "seed %llu (%s): diverged at operation %ld\n",
              (unsigned long long)seed, ordered ? "priority" : "FIFO", k);
      return 1;
    }
  }
  return 0;
}

/* }==================================================================== */

int main(void) {
  static const uint64_t seeds[] = {1, 42, 1234567, 0x9e3779b97f4a7c15ULL,
                                   20261130};
  size_t i;
  test_fifo_ignores_priority();
  test_priority_then_arrival();
  test_leave_anywhere();
  test_deadline_or_grant_once();
  test_unclaimed_grant_is_reported();
  for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
    int ordered;
    for (ordered = 0; ordered <= 1; ordered++)
      if (run_diff(seeds[i], ordered, WAITQ_DIFF_OPS) != 0)
        failures++;
  }
  if (failures == 0)
    printf("wait queue: unit checks and %d x %d operations agree\n",
           (int)(2 * sizeof(seeds) / sizeof(seeds[0])), WAITQ_DIFF_OPS);
  return failures != 0;
}
