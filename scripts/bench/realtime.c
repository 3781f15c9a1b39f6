/*
** realtime.c -- benchmark of real time (issue 20), through deshost.h:
**   1. a paced run (factor 1) of N events spread over S seconds: the
**      lateness of each event (wall time of its handling minus its due
**      time) as median, 99th percentile and worst, and CPU time / wall time
**      (the CPU is idle between events: ppoll, not spinning);
**   2. posts from 2 producer threads into one unpaced host whose thread
**      sleeps on des_fd: posts per second flat out (the latency is then
**      the queue's depth), and under light load (a post every 200 us per
**      thread) the latency from des_post to the model's inbox:get()
**      returning (median, 99th percentile).
** usage: bench_realtime [events [seconds [posts]]]  (10000 5 200000)
*/
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <lauxlib.h>

#include "deshost.h"

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sort v[0..n-1] and print its median, 99th percentile and worst. */
static void print_quantiles(const char *what, double *v, size_t n) {
  if (n == 0) {
    printf("%s: no samples\n", what);
    return;
  }
  qsort(v, n, sizeof(*v), cmp_double);
  printf("%s: median %.3f ms, p99 %.3f ms, worst %.3f ms (%zu samples)\n", what,
         v[n / 2] * 1e3, v[(size_t)((double)n * 0.99)] * 1e3, v[n - 1] * 1e3,
         n);
}

/* {====================================================================
** 1. Lateness of a paced run
** ===================================================================== */

typedef struct pace_run {
  int64_t wall0;
  double *late;
  size_t n, cap;
} pace_run;

/* The trace: each handled event's due time ("t=<units> ..."), against
** the wall clock. */
static void pace_trace(void *ctx, const char *line) {
  pace_run *r = ctx;
  double t = strtod(line + 2, NULL);
  double late = (double)(now_ns() - r->wall0) / 1e9 - t;
  if (r->n < r->cap)
    r->late[r->n++] = late > 0 ? late : 0;
}

static void bench_paced(int events, double seconds) {
  des_host *h;
  des_config cfg;
  pace_run r;
  char model[512];
  double cpu0, cpu, wall;
  int rc;
  des_config_init(&cfg);
  cfg.realtime = 1;
  if (des_host_new(&h, &cfg) != DES_OK)
    exit(1);
  snprintf(model, sizeof(model),
           "local des = require 'des'\n"
           "local r = des.rng('gaps')\n"
           "for i = 1, %d do des.sleep(r:exponential(%.9f)) end\n",
           events, seconds / events);
  memset(&r, 0, sizeof(r));
  r.cap = (size_t)events + 16;
  r.late = calloc(r.cap, sizeof(double));
  des_set_trace(h, pace_trace, &r);
  if (des_load_string(h, model, "=paced") != DES_OK)
    exit(1);
  cpu0 = cpu_seconds();
  r.wall0 = now_ns(); /* the host anchors right after: lateness >= ours */
  rc = des_run(h);
  wall = (double)(now_ns() - r.wall0) / 1e9;
  cpu = cpu_seconds() - cpu0;
  printf("paced run: %d events over %.2f s of model time, factor 1: "
         "%s, wall %.3f s, CPU %.3f s (%.1f%% of wall)\n",
         events, des_units(h, des_now(h)), des_strerror(rc), wall, cpu,
         100 * cpu / wall);
  print_quantiles("lateness", r.late, r.n);
  free(r.late);
  des_host_free(h);
}

/* }==================================================================== */

/* {====================================================================
** 2. Posts: throughput and latency
** ===================================================================== */

static double *lat;
static size_t nlat, caplat;

/* record(data): the model got a post whose data is its des_post time. */
static int l_record(lua_State *L) {
  size_t len;
  const char *d = luaL_checklstring(L, 1, &len);
  int64_t sent;
  if (len == sizeof(sent) && nlat < caplat) {
    memcpy(&sent, d, sizeof(sent));
    lat[nlat++] = (double)(now_ns() - sent) / 1e9;
  }
  return 0;
}

typedef struct producer {
  des_host *h;
  int inbox, n, gap_us; /* gap_us > 0: sleep between posts (light load) */
  long full;
  atomic_int *done;
} producer;

static void *produce(void *arg) {
  producer *p = arg;
  int i = 0;
  while (i < p->n) {
    int64_t t = now_ns();
    int rc = des_post(p->h, p->inbox, 0, &t, sizeof(t));
    if (rc == DES_OK) {
      i++;
      if (p->gap_us > 0) {
        struct timespec ts = {0, p->gap_us * 1000L};
        nanosleep(&ts, NULL);
      }
    } else if (rc == DES_EFULL) {
      p->full++;
      sched_yield();
    } else
      break;
  }
  atomic_fetch_add(p->done, 1);
  return NULL;
}

/* The host's thread sleeps on des_fd (as an event loop would) and runs
** when posts come. */
static void bench_posts(int posts, int gap_us) {
  des_host *h;
  pthread_t th[2];
  producer p[2];
  atomic_int done;
  int64_t t0;
  double wall;
  int i, in;
  if (des_host_new(&h, NULL) != DES_OK)
    exit(1);
  caplat = (size_t)posts;
  nlat = 0;
  lat = calloc(caplat, sizeof(double));
  des_register(h, "record", l_record);
  in = des_inbox(h, "in");
  if (des_load_string(h,
                      "local des = require 'des'\n"
                      "local inbox = des.inbox('in')\n"
                      "while true do record(inbox:get().data) end\n",
                      "=posts") != DES_OK)
    exit(1);
  des_run(h);
  atomic_init(&done, 0);
  t0 = now_ns();
  for (i = 0; i < 2; i++) {
    p[i].h = h;
    p[i].inbox = in;
    p[i].n = posts / 2;
    p[i].full = 0;
    p[i].gap_us = gap_us;
    p[i].done = &done;
    pthread_create(&th[i], NULL, produce, &p[i]);
  }
  while (atomic_load(&done) < 2 || nlat < (size_t)(posts / 2) * 2) {
    struct pollfd pfd = {des_fd(h), POLLIN, 0};
    poll(&pfd, 1, 10);
    if (des_run(h) != DES_OK)
      break;
  }
  wall = (double)(now_ns() - t0) / 1e9;
  for (i = 0; i < 2; i++)
    pthread_join(th[i], NULL);
  printf("posts (%s): %zu from 2 threads in %.3f s: %.0f posts/s (%ld "
         "refused as full and retried)\n",
         gap_us ? "light load" : "flat out", nlat, wall, (double)nlat / wall,
         p[0].full + p[1].full);
  print_quantiles("des_post -> inbox:get()", lat, nlat);
  free(lat);
  des_host_free(h);
}

/* }==================================================================== */

int main(int argc, char **argv) {
  int events = argc > 1 ? atoi(argv[1]) : 10000;
  double seconds = argc > 2 ? atof(argv[2]) : 5;
  int posts = argc > 3 ? atoi(argv[3]) : 200000;
  if (events < 1 || !(seconds > 0) || posts < 2) {
    fprintf(stderr, "usage: bench_realtime [events [seconds [posts]]]\n");
    return 2;
  }
  bench_paced(events, seconds);
  bench_posts(posts, 0);
  bench_posts(posts / 20 > 2 ? posts / 20 : 2, 200);
  return 0;
}
