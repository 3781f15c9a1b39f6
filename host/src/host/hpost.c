/*
** hpost.c -- posts: input from other threads (or signal handlers) into a
** host's simulation, delivered into the model's des.inbox(name) stores.
**
** The wheel is single-threaded, so producers never touch it: des_post
** copies the post into a bounded lock-free ring (Vyukov's bounded queue:
** each slot has a sequence number; a producer claims a position with a
** compare-and-swap, writes, then publishes with a release store). The
** consumer is the host's thread, with two cursors behind the producers':
**   sched  posts up to here are scheduled as events of the post component
**          (host_post_schedule, between events, never inside one);
**   tail   posts up to here are delivered (the post component's handler
**          puts them into their inbox) and their slots free again.
** A slot stays taken until its post is delivered, so the capacity bounds
** the posts not yet delivered. The handler delivers the post at `tail`
** whichever post event fires (ties may be shuffled): posts reach the model
** in post order. A pipe (the wake fd) becomes readable when a post is
** published or des_stop is called: a paced run sleeps on it, and an
** embedder's event loop may poll it (des_fd).
*/
#include "hostint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HPOST_CAPACITY 1024
#define HPOST_SIZE 256
#define HPOST_MAX_INBOXES 4096

typedef struct hpost_slot {
  atomic_size_t seq; /* == pos: free; pos + 1: published */
  int inbox;
  uint32_t kind;
  uint32_t len;
  int64_t arrived; /* ns, CLOCK_MONOTONIC */
  des_time at;     /* explicit time (des_post_at), -1: none */
} hpost_slot;      /* followed by post_size bytes of data */

typedef struct host_mailbox {
  unsigned char *slots;
  size_t cap, stride;
  atomic_size_t head;   /* next position a producer claims */
  size_t sched, tail;   /* host thread only, see above */
  des_time last;        /* time of the last scheduled post */
  atomic_int ninbox;    /* inbox ids des_post accepts */
  atomic_int signalled; /* a byte is in the pipe, not yet read */
  int fd[2];            /* the wake pipe: read end, write end */
  int comp;             /* the post component in the simulation */
  char *names[HPOST_MAX_INBOXES];
} host_mailbox;

static int hpost_key; /* registry: the cached des.inbox deliver function */

static hpost_slot *hpost_slot_at(host_mailbox *mb, size_t pos) {
  return (hpost_slot *)(mb->slots + (pos & (mb->cap - 1)) * mb->stride);
}

/* {====================================================================
** The mailbox's life
** ===================================================================== */

void host_post_init(des_host *h, const des_config *cfg) {
  size_t cap = cfg->post_capacity ? cfg->post_capacity : HPOST_CAPACITY;
  size_t pow2 = 1;
  while (pow2 < cap && pow2 < ((size_t)1 << 30))
    pow2 <<= 1; /* positions wrap with a mask */
  h->post_capacity = pow2;
  h->post_size = cfg->post_size ? cfg->post_size : HPOST_SIZE;
  if (h->post_size > (1u << 30))
    h->post_size = 1u << 30;
  atomic_init(&h->mb, NULL);
  atomic_init(&h->post_closed, 0);
  atomic_init(&h->post_inflight, 0);
  atomic_init(&h->stop_req, 0);
  atomic_init(&h->pause_req, 0);
}

static int hpost_dispatch(sim_state *sim, void *ctx, const sim_event *ev);

/* The mailbox in *out, made on first use (host thread): the ring, the
** pipe and the post component. A DES code (the message set). */
static int hpost_box(des_host *h, const char *fname, host_mailbox **out) {
  host_mailbox *mb = atomic_load(&h->mb);
  size_t i, bytes;
  *out = mb;
  if (mb != NULL)
    return DES_OK;
  if (host_check_open(h, fname) != DES_OK)
    return DES_EINVAL;
  mb = h->allocf(h->allocud, NULL, 0, sizeof(*mb));
  if (mb == NULL)
    goto nomem;
  memset(mb, 0, sizeof(*mb));
  mb->cap = h->post_capacity;
  mb->stride = (sizeof(hpost_slot) + h->post_size + 7) & ~(size_t)7;
  bytes = mb->cap * mb->stride;
  mb->slots = h->allocf(h->allocud, NULL, 0, bytes);
  if (mb->slots == NULL || pipe(mb->fd) != 0) {
    if (mb->slots != NULL)
      h->allocf(h->allocud, mb->slots, bytes, 0);
    h->allocf(h->allocud, mb, sizeof(*mb), 0);
    goto nomem;
  }
  for (i = 0; i < 2; i++) {
    fcntl(mb->fd[i], F_SETFL, fcntl(mb->fd[i], F_GETFL) | O_NONBLOCK);
    fcntl(mb->fd[i], F_SETFD, FD_CLOEXEC);
  }
  for (i = 0; i < mb->cap; i++)
    atomic_init(&hpost_slot_at(mb, i)->seq, i);
  atomic_init(&mb->head, 0);
  atomic_init(&mb->ninbox, 0);
  atomic_init(&mb->signalled, 0);
  mb->comp = sim_add_component(h->rt->sim, hpost_dispatch, h);
  if (mb->comp < 0) {
    close(mb->fd[0]);
    close(mb->fd[1]);
    h->allocf(h->allocud, mb->slots, bytes, 0);
    h->allocf(h->allocud, mb, sizeof(*mb), 0);
    goto nomem;
  }
  atomic_store(&h->mb, mb); /* release: producers see it whole */
  *out = mb;
  return DES_OK;
nomem:
  return host_fail(h, DES_ENOMEM, "%s: not enough memory for the post queue",
                   fname);
}

void des_post_close(des_host *h) {
  if (h == NULL)
    return;
  atomic_store(&h->post_closed, 1);
  while (atomic_load(&h->post_inflight) != 0)
    ; /* a producer between its check and its publish: a few instructions */
}

void host_post_free(des_host *h) {
  host_mailbox *mb = atomic_load(&h->mb);
  int i;
  des_post_close(h);
  if (mb == NULL)
    return;
  atomic_store(&h->mb, NULL);
  close(mb->fd[0]);
  close(mb->fd[1]);
  for (i = 0; i < atomic_load(&mb->ninbox); i++)
    h->allocf(h->allocud, mb->names[i], strlen(mb->names[i]) + 1, 0);
  h->allocf(h->allocud, mb->slots, mb->cap * mb->stride, 0);
  h->allocf(h->allocud, mb, sizeof(*mb), 0);
}

/* Make the wake fd readable (once until it is read) and yield the run in
** progress. Async-signal-safe: atomic stores, an exchange and write(2).
** stop: for des_stop / des_interrupt (a stop, not a yield). */
void host_post_wake(des_host *h, int stop) {
  host_mailbox *mb = atomic_load(&h->mb);
  if (stop)
    atomic_store(&h->stop_req, 1);
  else if (h->rt != NULL && h->rt->sim != NULL)
    sim_yield(h->rt->sim); /* an unpaced run returns to schedule it */
  if (mb != NULL && atomic_exchange(&mb->signalled, 1) == 0) {
    int saved = errno; /* a signal handler must keep errno */
    char c = 1;
    if (write(mb->fd[1], &c, 1) < 0) {
      /* full pipe: readable anyway */
    }
    errno = saved;
  }
}

int host_post_fd(des_host *h) {
  host_mailbox *mb = atomic_load(&h->mb);
  return mb != NULL ? mb->fd[0] : -1;
}

int host_post_open(des_host *h) {
  host_mailbox *mb;
  return hpost_box(h, "realtime", &mb);
}

int des_fd(des_host *h) {
  host_mailbox *mb;
  host_enter(h);
  return hpost_box(h, "fd", &mb) == DES_OK ? mb->fd[0] : -1;
}

int host_post_ready(des_host *h) {
  host_mailbox *mb = atomic_load(&h->mb);
  return mb != NULL &&
         atomic_load_explicit(&hpost_slot_at(mb, mb->sched)->seq,
                              memory_order_acquire) == mb->sched + 1;
}

/* }==================================================================== */

/* {====================================================================
** Posting
** ===================================================================== */

int des_inbox(des_host *h, const char *name) {
  host_mailbox *mb;
  int i, n, rc;
  size_t len;
  host_enter(h);
  if (name == NULL || name[0] == '\0')
    return host_fail(h, DES_EINVAL, "inbox: no name");
  rc = hpost_box(h, "inbox", &mb);
  if (rc != DES_OK)
    return rc;
  n = atomic_load(&mb->ninbox);
  for (i = 0; i < n; i++)
    if (strcmp(mb->names[i], name) == 0)
      return i;
  if (n == HPOST_MAX_INBOXES)
    return host_fail(h, DES_EINVAL, "inbox: more than %d inboxes",
                     HPOST_MAX_INBOXES);
  len = strlen(name) + 1;
  mb->names[n] = h->allocf(h->allocud, NULL, 0, len);
  if (mb->names[n] == NULL)
    return host_fail(h, DES_ENOMEM, "inbox: not enough memory");
  memcpy(mb->names[n], name, len);
  atomic_store(&mb->ninbox, n + 1); /* release: the name is written */
  return n;
}

/* Queue a post (any thread, or a signal handler): no lock, no allocation,
** no error message. */
static int hpost_push(des_host *h, des_time at, int inbox, uint32_t kind,
                      const void *data, size_t len) {
  host_mailbox *mb;
  hpost_slot *s;
  size_t pos;
  int rc = DES_OK;
  atomic_fetch_add(&h->post_inflight, 1);
  if (atomic_load(&h->post_closed)) {
    rc = DES_ECLOSED;
    goto done;
  }
  mb = atomic_load(&h->mb);
  if (mb == NULL || inbox < 0 || inbox >= atomic_load(&mb->ninbox) ||
      len > h->post_size || (data == NULL && len > 0) || kind >= RT_CALL_BIT) {
    rc = DES_EINVAL;
    goto done;
  }
  pos = atomic_load_explicit(&mb->head, memory_order_relaxed);
  for (;;) {
    size_t seq;
    s = hpost_slot_at(mb, pos);
    seq = atomic_load_explicit(&s->seq, memory_order_acquire);
    if (seq == pos) {
      if (atomic_compare_exchange_weak_explicit(&mb->head, &pos, pos + 1,
                                                memory_order_relaxed,
                                                memory_order_relaxed))
        break;
    } else if (seq < pos) { /* the slot still holds an undelivered post */
      rc = DES_EFULL;
      goto done;
    } else
      pos = atomic_load_explicit(&mb->head, memory_order_relaxed);
  }
  s->inbox = inbox;
  s->kind = kind;
  s->len = (uint32_t)len;
  s->at = at;
  s->arrived = host_clock_ns();
  if (len > 0)
    memcpy(s + 1, data, len);
  atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
  host_post_wake(h, 0);
done:
  atomic_fetch_sub(&h->post_inflight, 1);
  return rc;
}

int des_post(des_host *h, int inbox, uint32_t kind, const void *data,
             size_t len) {
  if (h == NULL)
    return DES_EINVAL;
  return hpost_push(h, -1, inbox, kind, data, len);
}

int des_post_at(des_host *h, des_time when, int inbox, uint32_t kind,
                const void *data, size_t len) {
  int rc;
  host_enter(h);
  if (host_check_open(h, "post_at") != DES_OK)
    return DES_EINVAL;
  if (when < sim_now(h->rt->sim))
    return host_fail(h, DES_EPAST,
                     "post_at: time %lld is before the current time %lld",
                     (long long)when, (long long)sim_now(h->rt->sim));
  rc = hpost_push(h, when, inbox, kind, data, len);
  if (rc == DES_EFULL)
    return host_fail(h, rc,
                     "post_at: %zu posts wait to be delivered (the "
                     "capacity): run until some are, then post again",
                     h->post_capacity);
  if (rc != DES_OK)
    return host_fail(h, rc,
                     "post_at: inbox %d is not an inbox of des_inbox, or "
                     "the data is longer than %zu bytes, or the kind is past "
                     "2^31-1, or the host is closed to posts",
                     inbox, h->post_size);
  return DES_OK;
}

void des_set_post_log(des_host *h, des_post_log_fn fn, void *ctx) {
  h->post_log = fn;
  h->post_log_ctx = ctx;
}

/* }==================================================================== */

/* {====================================================================
** Delivery: posts -> events -> inboxes
** ===================================================================== */

/* Schedule the posts published since the last call (at most max), each
** at its time:
** its explicit time, or the simulated time of its arrival (paced), or
** now; never before the previous post's (post order is delivery order).
** Host thread, between events. Also empties the wake pipe. */
int host_post_schedule(des_host *h, size_t max) {
  host_mailbox *mb = atomic_load(&h->mb);
  sim_state *sim = h->rt->sim;
  char buf[64];
  if (mb == NULL)
    return DES_OK;
  atomic_store(&mb->signalled, 0); /* before reading: a later post writes */
  while (read(mb->fd[0], buf, sizeof(buf)) > 0)
    ;
  while (max-- > 0 && host_post_ready(h)) {
    hpost_slot *s = hpost_slot_at(mb, mb->sched);
    des_time now = sim_now(sim), t;
    int rc;
    if (s->at >= 0)
      t = s->at;
    else if (h->pace_factor > 0)
      t = host_pace_sim_time(h, s->arrived);
    else
      t = now;
    if (t < now)
      t = now;
    if (mb->sched != mb->tail && t < mb->last)
      t = mb->last;
    rc = sim_schedule(sim, t, (uint32_t)mb->comp, 0, 0, NULL);
    if (rc != SIM_OK)
      return host_fail(h, host_code_sim(rc),
                       "post: cannot schedule post %zu "
                       "at %lld: %s",
                       mb->sched, (long long)t, sim_strerror(rc));
    mb->last = t;
    mb->sched++;
  }
  return DES_OK;
}

/* Protected: push des.inbox's deliver function, from the library's own
** instance of des.inbox (the one the model's des.inbox and require get),
** and cache the function for the host. */
static int hpost_fetch(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &hpost_key) == LUA_TFUNCTION)
    return 1;
  llib_module(L, "des.inbox");
  if (!lua_istable(L, -1) || lua_getfield(L, -1, "deliver") != LUA_TFUNCTION)
    return luaL_error(L, "post: des.inbox has no deliver function");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &hpost_key);
  return 1;
}

/* Protected: deliver(name, kind, data) with the mailbox's tail post. */
static int hpost_deliver(lua_State *L) {
  host_mailbox *mb = lua_touserdata(L, 1);
  hpost_slot *s = hpost_slot_at(mb, mb->tail);
  lua_pushcfunction(L, hpost_fetch);
  lua_call(L, 0, 1);
  lua_pushstring(L, mb->names[s->inbox]);
  lua_pushinteger(L, (lua_Integer)s->kind);
  lua_pushlstring(L, (const char *)(s + 1), s->len);
  lua_call(L, 3, 0);
  return 0;
}

/* The post component's handler: deliver the oldest undelivered post into
** its inbox, log it, free its slot. A failure (the memory limit, a model
** that broke des.inbox) stops the run with the message kept. */
static int hpost_dispatch(sim_state *sim, void *ctx, const sim_event *ev) {
  des_host *h = ctx;
  host_mailbox *mb = atomic_load(&h->mb);
  hpost_slot *s;
  int rc, inbox;
  (void)sim;
  if (mb == NULL || mb->tail == mb->sched)
    return 0; /* cannot happen: one event per scheduled post */
  s = hpost_slot_at(mb, mb->tail);
  lua_pushcfunction(h->L, hpost_deliver);
  lua_pushlightuserdata(h->L, mb);
  rc = host_pcall(h, 1, 0);
  if (rc == DES_OK && h->post_log != NULL)
    h->post_log(h->post_log_ctx, ev->when, s->inbox, s->kind, s + 1, s->len);
  inbox = s->inbox; /* the slot is a producer's again after this: */
  atomic_store_explicit(&s->seq, mb->tail + mb->cap, memory_order_release);
  mb->tail++;
  if (rc != DES_OK) {
    char why[400];
    snprintf(why, sizeof(why), "%s", des_last_error(h));
    h->run_code =
        host_fail(h, rc,
                  "post: cannot deliver post %zu to inbox '%s' at "
                  "t=%g (it is dropped): %s",
                  mb->tail, mb->names[inbox], rt_units(h->rt, ev->when), why);
    return 1;
  }
  return 0;
}

/* }==================================================================== */
