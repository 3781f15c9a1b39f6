/*
** progress.c -- a sign of life for long runs: simulated time (with a bar
** and an ETA under --until), events handled, events per second and live
** tasks, on one line of stderr. A timer (SIGALRM) asks the run to pause
** (des_pause, which deshost.h allows from a signal handler: the run is not
** over, so no end hooks run and a Ctrl-C's des_stop is never taken for a
** pause); the line is
** printed between two des_run calls, through deshost.h only, and the run
** goes on. So the hot loop carries no check of its own: off, nothing is
** set up at all.
*/
#include "progress.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static des_host *volatile progress_host; /* while a timer is set */

/* SIGALRM: a line is due; let the run pause after its current event. */
static void progress_on_alarm(int sig) {
  des_host *h = progress_host;
  (void)sig;
  if (h != NULL)
    des_pause(h);
}

/* Seconds on a monotonic clock. */
static double progress_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* des_tasks callback: count the live tasks. */
static int progress_count(void *ctx, const des_task_info *t) {
  (void)t;
  ++*(size_t *)ctx;
  return 0;
}

/* A count as people read it: 1234, 12.3k, 4.56M, 7.89G. */
static const char *progress_count_text(char *buf, size_t size, double n) {
  if (n < 1e4)
    snprintf(buf, size, "%.0f", n);
  else if (n < 1e6)
    snprintf(buf, size, "%.1fk", n / 1e3);
  else if (n < 1e9)
    snprintf(buf, size, "%.2fM", n / 1e6);
  else
    snprintf(buf, size, "%.2fG", n / 1e9);
  return buf;
}

/* The line of now: on a terminal, over the previous one. */
static void progress_print(des_host *h, des_time until, int tty,
                           double started) {
  char line[256], ev[32], rate[32];
  double now = des_units(h, des_now(h)), wall = progress_clock() - started;
  uint64_t n = des_events_handled(h);
  size_t tasks = 0;
  int len = 0;
  des_tasks(h, progress_count, &tasks);
  if (until >= 0) {
    double end = des_units(h, until), frac = end > 0 ? now / end : 1;
    int i, filled;
    if (frac > 1)
      frac = 1;
    filled = (int)(frac * 20);
    len = snprintf(line, sizeof(line), "t=%.6g/%.6g [", now, end);
    for (i = 0; i < 20 && len < (int)sizeof(line) - 1; i++)
      line[len++] = i < filled ? '#' : '.';
    len += snprintf(line + len, sizeof(line) - (size_t)len, "] %3.0f%%",
                    frac * 100);
    if (frac > 0 && frac < 1)
      len += snprintf(line + len, sizeof(line) - (size_t)len, " ETA %.0fs",
                      wall * (1 - frac) / frac);
  } else
    len = snprintf(line, sizeof(line), "t=%.6g", now);
  snprintf(
      line + len, sizeof(line) - (size_t)len, "  events %s  %s/s  tasks %zu",
      progress_count_text(ev, sizeof(ev), (double)n),
      progress_count_text(rate, sizeof(rate), wall > 0 ? (double)n / wall : 0),
      tasks);
  if (tty)
    fprintf(stderr, "\r\033[K%s", line);
  else
    fprintf(stderr, "deshost: %s\n", line);
  fflush(stderr);
}

/* Arm (or disarm, seconds == 0) the interval timer. */
static void progress_timer(double first, double every) {
  struct itimerval it;
  memset(&it, 0, sizeof(it));
  it.it_value.tv_sec = (time_t)first;
  it.it_value.tv_usec = (suseconds_t)((first - (double)(time_t)first) * 1e6);
  it.it_interval.tv_sec = (time_t)every;
  it.it_interval.tv_usec = (suseconds_t)((every - (double)(time_t)every) * 1e6);
  setitimer(ITIMER_REAL, &it, NULL);
}

/* One des_run / des_run_until. */
static int progress_once(des_host *h, des_time until) {
  return until >= 0 ? des_run_until(h, until) : des_run(h);
}

int progress_run(des_host *h, des_time until, int mode) {
  struct sigaction sa, old;
  int tty = isatty(2), shown = 0, rc;
  double started;
  if (mode == 0 || (mode < 0 && !tty))
    return progress_once(h, until);
  started = progress_clock();
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = progress_on_alarm;
  sa.sa_flags = SA_RESTART; /* the model's io is not disturbed */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, &old);
  progress_host = h;
  progress_timer(1.0, tty ? 0.25 : 1.0); /* the first line after a second */
  for (;;) {
    rc = progress_once(h, until);
    if (rc != DES_PAUSED)
      break; /* done, failed, or stopped */
    progress_print(h, until, tty, started);
    shown = 1;
  }
  progress_timer(0, 0);
  progress_host = NULL;
  sigaction(SIGALRM, &old, NULL);
  if (shown && tty) /* leave the terminal as it was */
    fputs("\r\033[K", stderr);
  return rc;
}
