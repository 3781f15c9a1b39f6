/*
** test_host.h -- what the embedding API's C tests share (test_host*.c):
** CHECK_RC, which shows the host's message on failure, hosts with one
** setting changed, reading a model's global number, and the main that
** runs a file's tests and turns failures into the exit status.
*/
#ifndef DES_TEST_HOST_H
#define DES_TEST_HOST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "deshost.h"

#include "check_host.h"

static inline des_host *new_host(void) {
  des_host *h = NULL;
  CHECK(des_host_new(&h, NULL) == DES_OK && h != NULL);
  return h;
}

/* A host with one limit or setting changed from the defaults. */
enum { WITH_MEM_LIMIT, WITH_MAX_STEPS, WITH_SANDBOX, WITH_SEED };
static inline des_host *new_host_with(int what, uint64_t value) {
  des_config cfg;
  des_host *h = NULL;
  des_config_init(&cfg);
  if (what == WITH_MEM_LIMIT)
    cfg.mem_limit = (size_t)value;
  else if (what == WITH_MAX_STEPS)
    cfg.max_steps = value;
  else if (what == WITH_SANDBOX)
    cfg.sandbox = (int)value;
  else
    cfg.seed = value;
  CHECK(des_host_new(&h, &cfg) == DES_OK && h != NULL);
  return h;
}

/* The global number `name` of the host's model. */
static inline double global_number(des_host *h, const char *name) {
  double v = -1;
  CHECK_RC(h, des_eval_number(h, name, &v), DES_OK);
  return v;
}

/* The exit status of a test program named `name`. */
static inline int test_host_report(const char *name) {
  if (failures != 0) {
    fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
    return 1;
  }
  printf("%s: all checks passed\n", name);
  return 0;
}

#endif
