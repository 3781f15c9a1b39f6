/*
** check.h -- the C tests' one assertion: CHECK(cond) reports the file,
** line and condition on failure and counts it in `failures`, which the
** test's main turns into its exit status. Tests go on after a failure, so
** one run shows every broken check.
*/
#ifndef DES_CHECK_H
#define DES_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                              \
    }                                                                          \
  } while (0)

#endif
