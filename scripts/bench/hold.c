/*
** hold.c -- the classic hold benchmark: keep N events pending; repeatedly
** pop the earliest and schedule a new one at now + delay. Runs the wheel
** and the binary-heap baseline (heap_baseline.h) on the same delay
** sequence, interleaved, and prints ns per hold operation (pop + schedule,
** including drawing the delay) and the ratio heap/wheel per row.
**
** Usage: bench_hold [ops per measurement] [repetitions]   (scripts/bench/hold)
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "heap_baseline.h"
#include "wheel.h"

#define UNIT 1000000000LL /* ticks per time unit, as deshost's default */

static uint64_t bench_rng;

/* xorshift64: a uniform in (0, 1). */
static double bench_uniform(void) {
  bench_rng ^= bench_rng << 13;
  bench_rng ^= bench_rng >> 7;
  bench_rng ^= bench_rng << 17;
  return ((double)(bench_rng >> 11) + 0.5) * 0x1.0p-53;
}

/* A delay in ticks, exponential (mean 1 unit) or uniform on [0, 2). */
static int64_t bench_delay(int exponential) {
  double u = bench_uniform();
  return (int64_t)llround((exponential ? -log(u) : 2.0 * u) * (double)UNIT);
}

static double bench_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ns per hold operation on the wheel. */
static double run_wheel(size_t n, long ops, int exponential) {
  wheel *w = wheel_new(NULL, NULL);
  wheel_payload p = {0, 0, 0};
  wheel_event ev;
  double t0;
  long i;
  bench_rng = 88172645463325252ULL;
  for (i = 0; i < (long)n; i++)
    wheel_schedule(w, bench_delay(exponential), &p, NULL);
  t0 = bench_seconds();
  for (i = 0; i < ops; i++) {
    wheel_pop(w, &ev);
    wheel_schedule(w, ev.when + bench_delay(exponential), &p, NULL);
  }
  t0 = bench_seconds() - t0;
  wheel_free(w);
  return t0 * 1e9 / (double)ops;
}

/* ns per hold operation on the heap baseline. */
static double run_heap(size_t n, long ops, int exponential) {
  hb_heap h = {NULL, 0, 0, 0};
  double t0;
  long i;
  bench_rng = 88172645463325252ULL;
  for (i = 0; i < (long)n; i++)
    hb_push(&h, bench_delay(exponential), 0);
  t0 = bench_seconds();
  for (i = 0; i < ops; i++) {
    hb_item it = hb_pop(&h);
    hb_push(&h, it.when + bench_delay(exponential), 0);
  }
  t0 = bench_seconds() - t0;
  free(h.a);
  return t0 * 1e9 / (double)ops;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  long ops = argc > 1 ? atol(argv[1]) : 2000000;
  int reps = argc > 2 ? atoi(argv[2]) : 5, d, r, k;
  static const size_t sizes[] = {10, 100, 1000, 10000, 100000, 1000000};
  const int nsizes = (int)(sizeof(sizes) / sizeof(sizes[0]));
  printf("hold model: %ld ops per run, median of %d runs, ns per op\n", ops,
         reps);
  printf("%-12s %9s %10s %10s %12s\n", "delays", "N", "wheel", "heap",
         "heap/wheel");
  for (d = 1; d >= 0; d--) {
    for (k = 0; k < nsizes; k++) {
      double wt[32], ht[32];
      if (reps > 32)
        reps = 32;
      for (r = 0; r < reps; r++) { /* interleaved, same delay sequence */
        wt[r] = run_wheel(sizes[k], ops, d);
        ht[r] = run_heap(sizes[k], ops, d);
      }
      qsort(wt, (size_t)reps, sizeof(double), cmp_double);
      qsort(ht, (size_t)reps, sizeof(double), cmp_double);
      printf("%-12s %9zu %10.1f %10.1f %11.2fx\n",
             d ? "exponential" : "uniform", sizes[k], wt[reps / 2],
             ht[reps / 2], ht[reps / 2] / wt[reps / 2]);
      fflush(stdout);
    }
  }
  return 0;
}
