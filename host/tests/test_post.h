/*
** test_post.h -- what test_host_post.c and test_host_pace.c share: the
** wall clock, hosts with the post queue and pacing set, a thread that
** posts or stops after 50 ms, and a trace collected in a buffer.
*/
#ifndef DES_TEST_POST_H
#define DES_TEST_POST_H

#include <pthread.h>
#include <time.h>

#include "test_host.h"

/* Wall seconds, monotonic. */
static inline double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* A host with the post queue and pacing set. */
static inline des_host *post_host(size_t capacity, size_t size, double realtime,
                                  double strict) {
  des_config cfg;
  des_host *h = NULL;
  des_config_init(&cfg);
  cfg.post_capacity = capacity;
  cfg.post_size = size;
  cfg.realtime = realtime;
  cfg.realtime_strict = strict;
  CHECK(des_host_new(&h, &cfg) == DES_OK && h != NULL);
  return h;
}

typedef struct poster {
  des_host *h;
  int inbox;
  int stop; /* des_stop instead of posting */
} poster;

/* A thread: after 50 ms, post "hello" (kind 7) to p->inbox, or stop. */
static inline void *post_later(void *arg) {
  poster *p = arg;
  sleep_ms(50);
  if (p->stop)
    des_stop(p->h);
  else
    CHECK(des_post(p->h, p->inbox, 7, "hello", 5) == DES_OK);
  return NULL;
}

typedef struct trace {
  char text[8192];
  size_t len;
} trace;

static inline void trace_line(void *ctx, const char *line) {
  trace *t = ctx;
  int n = snprintf(t->text + t->len, sizeof(t->text) - t->len, "%s\n", line);
  if (n > 0 && t->len + (size_t)n < sizeof(t->text))
    t->len += (size_t)n;
}

#endif
