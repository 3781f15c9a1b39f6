/*
** test_wheel_diff.c -- the wheel against the reference queue over long
** random operation streams (wheel_ref.c), with several fixed seeds.
*/
#include <stdio.h>
#include <stdlib.h>

#include "wheel_ref.h"

#ifndef WHEEL_DIFF_OPS
#define WHEEL_DIFF_OPS 1000000
#endif

int main(void) {
  static const uint64_t seeds[] = {1, 42, 1234567, 0x9e3779b97f4a7c15ULL,
                                   20261124};
  size_t i;
  for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
    wref_source src = {NULL, 0, 0, seeds[i]};
    if (wref_run(&src, WHEEL_DIFF_OPS) != 0) {
      fprintf(stderr, "seed %llu failed\n", (unsigned long long)seeds[i]);
      return 1;
    }
    printf("seed %llu: %d operations match the reference\n",
           (unsigned long long)seeds[i], WHEEL_DIFF_OPS);
  }
  return 0;
}
