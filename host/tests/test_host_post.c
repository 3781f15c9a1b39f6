/*
** test_host_post.c -- posts through deshost.h: from other threads into
** des.inbox (order, no loss, the bound, refusals, a backlog, closing,
** freeing with posts pending, the wake fd, recording and replaying,
** hostile models, the memory limit, shuffled ties). Also built with
** ThreadSanitizer (host_post_tsan). Paced runs: test_host_pace.c.
*/
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#include "test_post.h"

/* A model that gets `n` posts from inbox "in" and keeps them in order in
** the global `got` as "kind:data@time" strings. */
static const char *COLLECT =
    "local des = require 'des'\n"
    "local inbox = des.inbox('in')\n"
    "got = {}\n"
    "while true do\n"
    "  local m = inbox:get()\n"
    "  got[#got + 1] = string.format('%d:%s@%g', m.kind, m.data, m.time)\n"
    "  assert(m.seq == #got, 'seq')\n"
    "end\n";

/* got[i] of the model, "" when it has none. */
static const char *got(des_host *h, int i) {
  static char buf[256];
  lua_State *L = des_lua(h);
  buf[0] = '\0';
  lua_getglobal(L, "got");
  if (lua_istable(L, -1) && lua_geti(L, -1, i) == LUA_TSTRING)
    snprintf(buf, sizeof(buf), "%s", lua_tostring(L, -1));
  lua_settop(L, 0);
  return buf;
}

/* Posts reach the model's inbox in post order, at the current time, with
** their kind and data (binary data too); a post before the model made its
** inbox makes it. */
static void test_basic(void) {
  des_host *h = post_host(0, 0, 0, 0);
  int in = des_inbox(h, "in");
  CHECK(in == 0);
  CHECK(des_inbox(h, "in") == in); /* same name, same id */
  CHECK(des_inbox(h, "other") == 1);
  CHECK_RC(h, des_inbox(h, ""), DES_EINVAL);
  CHECK_RC(h, des_inbox(h, NULL), DES_EINVAL);
  CHECK_RC(h, des_post(h, in, 1, "a", 1), DES_OK); /* before the model */
  CHECK_RC(h, des_load_string(h, COLLECT, "=collect"), DES_OK);
  CHECK_RC(h, des_post(h, in, 2, "b\0c", 3), DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(strcmp(got(h, 1), "1:a@0") == 0);
  CHECK(global_number(h, "#got[2]") == 7); /* "2:b\0c@0" */
  CHECK_RC(h, des_run_until(h, 3000000000), DES_OK);
  CHECK_RC(h, des_post(h, in, 3, NULL, 0), DES_OK);
  CHECK_RC(h, des_step(h), DES_OK);  /* the post's event: wakes the getter */
  CHECK(strcmp(got(h, 3), "") == 0); /* through the scheduler */
  CHECK(des_pending(h) == 1);
  CHECK_RC(h, des_step(h), DES_OK);
  CHECK(strcmp(got(h, 3), "3:@3") == 0);
  des_host_free(h);
}

/* Refusals: a bad inbox, data too long, a kind past 2^31-1, no data with
** a length, no inbox made yet; the queue's bound (DES_EFULL) and freeing
** slots by delivery. */
static void test_refusals(void) {
  des_host *h = post_host(4, 8, 0, 0);
  int in, i;
  CHECK(des_post(h, 0, 0, "x", 1) == DES_EINVAL); /* no inbox yet */
  CHECK(des_post(NULL, 0, 0, "x", 1) == DES_EINVAL);
  in = des_inbox(h, "in");
  CHECK(des_post(h, in + 1, 0, "x", 1) == DES_EINVAL);
  CHECK(des_post(h, -1, 0, "x", 1) == DES_EINVAL);
  CHECK(des_post(h, in, 0, "123456789", 9) == DES_EINVAL);
  CHECK(des_post(h, in, 0, "12345678", 8) == DES_OK);
  CHECK(des_post(h, in, 0x80000000u, "x", 1) == DES_EINVAL);
  CHECK(des_post(h, in, 0, NULL, 1) == DES_EINVAL);
  for (i = 1; i < 4; i++)
    CHECK(des_post(h, in, (uint32_t)i, "x", 1) == DES_OK);
  CHECK(des_post(h, in, 9, "x", 1) == DES_EFULL);
  CHECK_RC(h, des_load_string(h, COLLECT, "=collect"), DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(strcmp(got(h, 1), "0:12345678@0") == 0);
  CHECK(strcmp(got(h, 4), "3:x@0") == 0);
  CHECK(strcmp(got(h, 5), "") == 0);
  for (i = 0; i < 4; i++) /* delivered: the slots are free again */
    CHECK(des_post(h, in, 5, "y", 1) == DES_OK);
  CHECK(des_post(h, in, 5, "y", 1) == DES_EFULL);
  CHECK_RC(h, des_post_at(h, 0, in, 5, "y", 1), DES_EFULL);
  CHECK(CONTAINS(des_last_error(h), "capacity"));
  des_host_free(h); /* with 4 posts pending: nothing leaks (ASan) */
}

/* A backlog of posts goes into the model in chunks, each taken by the
** model before the next comes: its inbox never holds the whole backlog
** (getting from a long store is slow), and the order is kept. */
static void test_backlog(void) {
  des_host *h = post_host(2048, 0, 0, 0);
  int in = des_inbox(h, "in"), i;
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "local inbox = des.inbox('in')\n"
                           "most, total = 0, 0\n"
                           "while true do\n"
                           "  most = math.max(most, #inbox)\n"
                           "  local m = inbox:get()\n"
                           "  assert(tonumber(m.data) == total)\n"
                           "  total = total + 1\n"
                           "end\n",
                           "=backlog"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  for (i = 0; i < 2000; i++) {
    char d[8];
    snprintf(d, sizeof(d), "%d", i);
    CHECK(des_post(h, in, 0, d, strlen(d)) == DES_OK);
  }
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(global_number(h, "total") == 2000);
  /* chunks of 64; a yield left from the posts adds one more at first */
  CHECK(global_number(h, "most") <= 128);
  CHECK(des_now(h) == 0);
  des_host_free(h);
}

/* ---- Several producer threads ---------------------------------------- */

#define NTHREADS 4
#define PER_THREAD 5000

typedef struct producer {
  des_host *h;
  int inbox, id, n;
  atomic_int *done;
  int accepted, full;
  int until_closed; /* post until DES_ECLOSED instead of n times */
} producer;

static void *produce(void *arg) {
  producer *p = arg;
  int i = 0;
  while (p->until_closed || i < p->n) {
    char buf[32];
    int len = snprintf(buf, sizeof(buf), "%d", i);
    int rc = des_post(p->h, p->inbox, (uint32_t)p->id, buf, (size_t)len);
    if (rc == DES_OK) {
      p->accepted++;
      i++;
    } else if (rc == DES_EFULL) {
      p->full++;
      sched_yield();
    } else
      break; /* DES_ECLOSED */
  }
  atomic_fetch_add(p->done, 1);
  return NULL;
}

/* Per producer, posts arrive in order, each once: the model checks that
** the data of kind k counts 0, 1, 2... and counts them. */
static const char *ORDERED =
    "local des = require 'des'\n"
    "local inbox = des.inbox('in')\n"
    "nextof, total = {}, 0\n"
    "while true do\n"
    "  local m = inbox:get()\n"
    "  local want = nextof[m.kind] or 0\n"
    "  if tonumber(m.data) ~= want then\n"
    "    error(('producer %d: got %s, expected %d'):format(m.kind, m.data, "
    "want))\n"
    "  end\n"
    "  nextof[m.kind] = want + 1\n"
    "  total = total + 1\n"
    "end\n";

/* Drive the host (as an embedder's loop would) until every producer is
** done, then once more. */
static void drive(des_host *h, atomic_int *done, int nthreads) {
  while (atomic_load(done) < nthreads) {
    int rc = des_run(h);
    CHECK_RC(h, rc, DES_OK);
    if (rc != DES_OK)
      break;
    sched_yield();
  }
  CHECK_RC(h, des_run(h), DES_OK);
}

static void test_threads(void) {
  des_host *h = post_host(256, 0, 0, 0);
  pthread_t th[NTHREADS];
  producer p[NTHREADS];
  atomic_int done;
  int in = des_inbox(h, "in"), i, full = 0;
  atomic_init(&done, 0);
  CHECK_RC(h, des_load_string(h, ORDERED, "=ordered"), DES_OK);
  for (i = 0; i < NTHREADS; i++) {
    memset(&p[i], 0, sizeof(p[i]));
    p[i].h = h;
    p[i].inbox = in;
    p[i].id = i;
    p[i].n = PER_THREAD;
    p[i].done = &done;
    pthread_create(&th[i], NULL, produce, &p[i]);
  }
  drive(h, &done, NTHREADS);
  for (i = 0; i < NTHREADS; i++) {
    pthread_join(th[i], NULL);
    CHECK(p[i].accepted == PER_THREAD);
    full += p[i].full;
  }
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(global_number(h, "total") == NTHREADS * PER_THREAD);
  for (i = 0; i < NTHREADS; i++) {
    char expr[32];
    snprintf(expr, sizeof(expr), "nextof[%d]", i);
    CHECK(global_number(h, expr) == PER_THREAD);
  }
  printf("threads: %d posts, %d refused as full and retried\n",
         NTHREADS * PER_THREAD, full);
  des_host_free(h);
}

/* Closing while producers post: every accepted post is delivered, every
** other is refused with DES_ECLOSED; des_host_free after joining. */
static void test_close_race(void) {
  des_host *h = post_host(64, 0, 0, 0);
  pthread_t th[2];
  producer p[2];
  atomic_int done;
  int in = des_inbox(h, "in"), i, k;
  atomic_init(&done, 0);
  CHECK_RC(h, des_load_string(h, ORDERED, "=ordered"), DES_OK);
  for (i = 0; i < 2; i++) {
    memset(&p[i], 0, sizeof(p[i]));
    p[i].h = h;
    p[i].inbox = in;
    p[i].id = i;
    p[i].until_closed = 1;
    p[i].done = &done;
    pthread_create(&th[i], NULL, produce, &p[i]);
  }
  for (k = 0; k < 200; k++) {
    CHECK_RC(h, des_run(h), DES_OK);
    sched_yield();
  }
  des_post_close(h);
  CHECK(des_post(h, in, 0, "x", 1) == DES_ECLOSED);
  drive(h, &done, 2);
  for (i = 0; i < 2; i++)
    pthread_join(th[i], NULL);
  CHECK_RC(h, des_run(h), DES_OK); /* queued before the close: delivered */
  CHECK(global_number(h, "total") == p[0].accepted + p[1].accepted);
  des_host_free(h);

  /* freeing with producers' posts pending, never run */
  h = post_host(64, 0, 0, 0);
  in = des_inbox(h, "in");
  atomic_init(&done, 0);
  memset(&p[0], 0, sizeof(p[0]));
  p[0].h = h;
  p[0].inbox = in;
  p[0].n = 50;
  p[0].done = &done;
  pthread_create(&th[0], NULL, produce, &p[0]);
  pthread_join(th[0], NULL);
  CHECK(p[0].accepted == 50);
  des_host_free(h);
}

/* A post during a long unpaced run is delivered while that run goes on:
** des_post yields it, the host schedules the post and runs on. (The task
** sleeps once every 256 turns of its loop: each sleep is a yield, a
** longjmp out of the binding's frames, which ThreadSanitizer's shadow
** stack does not see unwind; a yield per turn overflowed it within the
** poster's 50 ms once sleeps got fast enough.) */
static void test_post_mid_run(void) {
  des_host *h = post_host(0, 0, 0, 0);
  pthread_t th;
  poster p;
  p.h = h;
  p.inbox = des_inbox(h, "in");
  p.stop = 0;
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "des.spawn(function()\n"
                           "  for i = 1, 1e10 do\n"
                           "    if i % 256 == 0 then des.sleep(1) end\n"
                           "  end end)\n"
                           "local m = des.inbox('in'):get()\n"
                           "at = des.now()\n"
                           "des.default():stop()\n",
                           "=midrun"),
           DES_OK);
  pthread_create(&th, NULL, post_later, &p);
  CHECK_RC(h, des_run(h), DES_STOPPED);
  pthread_join(th, NULL);
  CHECK(global_number(h, "at") > 0 && global_number(h, "at") < 1e8);
  des_host_free(h);
}

/* ---- The wake fd --------------------------------------------------------- */

static int readable(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* des_fd becomes readable on a post and is read by the run that takes it. */
static void test_fd(void) {
  des_host *h = post_host(0, 0, 0, 0);
  int fd = des_fd(h), in = des_inbox(h, "in");
  CHECK(fd >= 0);
  CHECK(des_fd(h) == fd);
  CHECK(!readable(fd));
  CHECK_RC(h, des_load_string(h, COLLECT, "=collect"), DES_OK);
  CHECK_RC(h, des_post(h, in, 1, "a", 1), DES_OK);
  CHECK_RC(h, des_post(h, in, 2, "b", 1), DES_OK);
  CHECK(readable(fd));
  CHECK_RC(h, des_run_until(h, des_now(h) + 1), DES_OK);
  CHECK(!readable(fd));
  CHECK(strcmp(got(h, 2), "2:b@0") == 0);
  des_host_free(h);
}

/* ---- Recording and replaying ------------------------------------------- */

typedef struct record {
  des_time when[16];
  int inbox[16];
  uint32_t kind[16];
  char data[16][8];
  size_t len[16];
  int n;
} record;

static void log_post(void *ctx, des_time when, int inbox, uint32_t kind,
                     const void *data, size_t len) {
  record *r = ctx;
  if (r->n < 16 && len < 8) {
    r->when[r->n] = when;
    r->inbox[r->n] = inbox;
    r->kind[r->n] = kind;
    memcpy(r->data[r->n], data, len);
    r->len[r->n++] = len;
  }
}

/* A model whose behaviour depends on its posts: each post's kind is a
** delay before the answer, and the answer draws a random number. */
static const char *REACT =
    "local des = require 'des'\n"
    "local inbox, rng = des.inbox('in'), des.rng('r')\n"
    "log = ''\n"
    "while true do\n"
    "  local m = inbox:get()\n"
    "  des.spawn(function() des.sleep(m.kind + rng:uniform(0, 1))\n"
    "    log = log .. ('%s@%.6f;'):format(m.data, des.now()) end)\n"
    "end\n";

/* A run fed by posts at moments of the embedder's choosing, recorded with
** des_set_post_log, replays into a fresh host with des_post_at: the same
** trace, the same results. */
static void test_record_replay(void) {
  des_host *h = post_host(0, 0, 0, 0);
  record rec;
  trace t1, t2;
  int in = des_inbox(h, "in"), i;
  memset(&rec, 0, sizeof(rec));
  memset(&t1, 0, sizeof(t1));
  memset(&t2, 0, sizeof(t2));
  des_set_post_log(h, log_post, &rec);
  CHECK_RC(h, des_set_trace(h, trace_line, &t1), DES_OK);
  CHECK_RC(h, des_load_string(h, REACT, "=react"), DES_OK);
  for (i = 0; i < 5; i++) { /* posts "arrive" between runs */
    char d[4];
    snprintf(d, sizeof(d), "p%d", i);
    CHECK_RC(h, des_post(h, in, (uint32_t)(i % 3), d, strlen(d)), DES_OK);
    CHECK_RC(h, des_run_until(h, des_now(h) + (des_time)700000000 * (i + 1)),
             DES_OK);
  }
  CHECK_RC(h, des_run_until(h, 100000000000), DES_OK);
  CHECK(rec.n == 5);
  CHECK(rec.when[1] > rec.when[0]);
  des_host_free(h);

  h = post_host(0, 0, 0, 0);
  in = des_inbox(h, "in");
  CHECK_RC(h, des_set_trace(h, trace_line, &t2), DES_OK);
  CHECK_RC(h, des_load_string(h, REACT, "=react"), DES_OK);
  CHECK_RC(h, des_post_at(h, -1 + 0 * in, in, 0, "x", 1), DES_EPAST);
  for (i = 0; i < rec.n; i++)
    CHECK_RC(h,
             des_post_at(h, rec.when[i], rec.inbox[i], rec.kind[i], rec.data[i],
                         rec.len[i]),
             DES_OK);
  CHECK_RC(h, des_run_until(h, 100000000000), DES_OK);
  CHECK(t1.len > 0 && t1.len == t2.len &&
        memcmp(t1.text, t2.text, t1.len) == 0);
  des_host_free(h);
}

/* ---- Hostile models ------------------------------------------------------ */

/* A model that breaks its inbox makes the delivery fail with a clear
** message (the post, the inbox, the time), and the host stays usable. (A
** model that replaces package.loaded['des.inbox'] changes nothing: the
** host delivers through the library's own instance, test_fake_module.) */
static void test_fake_module(void) {
  des_host *h = post_host(0, 0, 0, 0);
  int in = des_inbox(h, "in");
  CHECK_RC(h,
           des_load_string(h,
                           "package.loaded['des.inbox'] = { deliver = "
                           "function() error('fake') end }\n"
                           "local inbox = require('des').inbox('in')\n"
                           "got = inbox:get().data\n",
                           "=fake"),
           DES_OK);
  CHECK(des_post(h, in, 1, "x", 1) == DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(global_number(h, "#got") == 1);
  des_host_free(h);
}

static void test_hostile(void) {
  static const char *breakers[] = {
      "require('des').inbox('in').put = 42\n",
      "require('des').inbox('in').put = function() coroutine.yield() end\n",
      "require('des').inbox('in').items = 'junk'\n",
      "setmetatable(require('des').inbox('in'), nil)\n",
  };
  size_t i;
  for (i = 0; i < sizeof(breakers) / sizeof(*breakers); i++) {
    des_host *h = post_host(0, 0, 0, 0);
    int in = des_inbox(h, "in");
    CHECK_RC(h, des_load_string(h, breakers[i], "=breaker"), DES_OK);
    CHECK_RC(h, des_run(h), DES_OK);
    CHECK(des_post(h, in, 1, "x", 1) == DES_OK);
    CHECK(des_post(h, in, 2, "y", 1) == DES_OK);
    CHECK_RC(h, des_run(h), DES_EMODEL);
    CHECK(CONTAINS(des_last_error(h), "post: cannot deliver post 1 to inbox "
                                      "'in' at t=0 (it is dropped)"));
    CHECK_RC(h, des_run(h), DES_EMODEL); /* the next one, then done */
    CHECK(CONTAINS(des_last_error(h), "post 2"));
    CHECK_RC(h, des_run(h), DES_OK);
    des_host_free(h);
  }
}

/* A flood of posts nobody takes reaches the memory limit: a clear error,
** never a crash; the host goes on. */
static void test_flood_memory(void) {
  des_config cfg;
  des_host *h = NULL;
  char data[200];
  int in, i, rc = DES_OK;
  des_config_init(&cfg);
  cfg.mem_limit = 2 << 20;
  cfg.sandbox = 1;
  CHECK(des_host_new(&h, &cfg) == DES_OK);
  in = des_inbox(h, "in");
  memset(data, 'd', sizeof(data));
  CHECK_RC(h, des_load_string(h, "x = require('des').inbox('in')", "=m"),
           DES_OK);
  for (i = 0; i < 100000 && rc == DES_OK; i++) {
    CHECK(des_post(h, in, 1, data, sizeof(data)) == DES_OK);
    rc = des_run(h);
  }
  CHECK_RC(h, rc, DES_EMEMLIMIT);
  CHECK(CONTAINS(des_last_error(h), "post: cannot deliver post"));
  CHECK(CONTAINS(des_last_error(h), "memory"));
  CHECK_RC(h, des_dostring(h, "x.items = {} collectgarbage()", 0), DES_OK);
  CHECK(des_post(h, in, 1, data, sizeof(data)) == DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  des_host_free(h);
}

/* With ties shuffled, posts still reach the inbox in post order. */
static void test_shuffled_ties(void) {
  des_host *h = post_host(0, 0, 0, 0);
  int in = des_inbox(h, "in"), i;
  des_shuffle_ties(h, 1, 42);
  CHECK_RC(h, des_load_string(h, ORDERED, "=ordered"), DES_OK);
  for (i = 0; i < 100; i++) {
    char d[8];
    snprintf(d, sizeof(d), "%d", i);
    CHECK(des_post(h, in, 0, d, strlen(d)) == DES_OK);
  }
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(global_number(h, "total") == 100);
  des_host_free(h);
}

int main(void) {
  test_basic();
  test_refusals();
  test_backlog();
  test_threads();
  test_close_race();
  test_fd();
  test_post_mid_run();
  test_record_replay();
  test_hostile();
  test_fake_module();
  test_flood_memory();
  test_shuffled_ties();
  return test_host_report("test_host_post");
}
