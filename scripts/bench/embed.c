/*
** embed.c -- what embedding costs (scripts/bench/embed): one process runs,
** interleaved and `reps` times each, through deshost.h:
**   sleep        a task that sleeps 10^6 times (the baseline)
**   call         a task that calls a C component 10^6 times, each answered
**                at now + 1 tick with des_wake (a C <-> Lua round trip)
**   sleep + mem limit, sleep + budget   the sleep loop under a memory
**                limit, and under an instruction budget (the count hook)
**   loop, loop+budget  a plain Lua loop of 10^7 additions, without and with
**                the budget: the hook's worst case
** and prints medians and ratios to the baseline. Not a test: timings only.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deshost.h"

#define N 1000000

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int echo(des_host *h, void *ctx, const des_event *ev) {
  (void)ctx;
  return des_wake(h, ev->caller, ev->when + 1, (int64_t)ev->data);
}

/* Seconds to load and run `model` in a fresh host. */
static double run_case(const char *model, size_t mem_limit, uint64_t budget) {
  des_config cfg;
  des_host *h;
  double t0, t1;
  des_config_init(&cfg);
  cfg.mem_limit = mem_limit;
  cfg.max_steps = budget;
  if (des_host_new(&h, &cfg) != DES_OK)
    exit(1);
  des_component_add(h, "echo", echo, NULL);
  if (des_load_string(h, model, "=bench") != DES_OK) {
    fprintf(stderr, "%s\n", des_last_error(h));
    exit(1);
  }
  t0 = now_s();
  if (des_run(h) != DES_OK) {
    fprintf(stderr, "%s\n", des_last_error(h));
    exit(1);
  }
  t1 = now_s();
  des_host_free(h);
  return t1 - t0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  static const char *sleep_model = "local des = require 'des'\n"
                                   "for i = 1, 1000000 do des.sleep(1) end\n";
  static const char *call_model = "local des = require 'des'\n"
                                  "local echo = des.component 'echo'\n"
                                  "for i = 1, 1000000 do echo:call(1, i) end\n";
  static const char *loop_model = "local x = 0\n"
                                  "for i = 1, 10000000 do x = x + i end\n";
  enum { SLEEP, CALL, MEMLIMIT, BUDGET, LOOP, LOOP_BUDGET, NCASES };
  static const char *names[NCASES] = {
      "sleep", "call (C component)", "sleep + mem limit", "sleep + budget",
      "loop",  "loop + budget"};
  int reps = argc > 1 ? atoi(argv[1]) : 5, r, c;
  double t[NCASES][64], med[NCASES];
  if (reps < 1 || reps > 64)
    reps = 5;
  for (r = 0; r < reps; r++) {
    t[SLEEP][r] = run_case(sleep_model, 0, 0);
    t[CALL][r] = run_case(call_model, 0, 0);
    t[MEMLIMIT][r] = run_case(sleep_model, 1u << 30, 0);
    t[BUDGET][r] = run_case(sleep_model, 0, UINT64_MAX / 2);
    t[LOOP][r] = run_case(loop_model, 0, 0);
    t[LOOP_BUDGET][r] = run_case(loop_model, 0, UINT64_MAX / 2);
  }
  for (c = 0; c < NCASES; c++) {
    qsort(t[c], (size_t)reps, sizeof(double), cmp_double);
    med[c] = t[c][reps / 2];
  }
  printf("%-28s %10s %14s %10s\n", "case (median of reps)", "seconds",
         "per second", "ratio");
  for (c = 0; c < NCASES; c++) {
    double base = c >= LOOP ? med[LOOP] : med[SLEEP];
    double ops = c >= LOOP ? 1e7 : 1e6;
    printf("%-28s %10.3f %14.0f %9.2fx\n", names[c], med[c], ops / med[c],
           med[c] / base);
  }
  return 0;
}
