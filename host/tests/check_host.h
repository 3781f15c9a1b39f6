/*
** check_host.h -- the checks of the C tests that drive a host through
** deshost.h: CHECK_RC shows the host's message when a call's code is not
** the one wanted; CONTAINS tests a message for a part; check_host_sandboxed
** makes a sandboxed host with a budget.
*/
#ifndef DES_CHECK_HOST_H
#define DES_CHECK_HOST_H

#include <string.h>

#include "check.h"
#include "deshost.h"

/* CHECK that rc is want; on failure show the host's message. */
#define CHECK_RC(h, rc, want)                                                  \
  do {                                                                         \
    int rc_ = (rc);                                                            \
    if (rc_ != (want)) {                                                       \
      fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d\n  %s\n",       \
              __FILE__, __LINE__, #rc, rc_, des_strerror(rc_), (want),         \
              des_last_error(h));                                              \
      failures++;                                                              \
    }                                                                          \
  } while (0)

#define CONTAINS(s, sub) (strstr((s), (sub)) != NULL)

/* A new sandboxed host with a budget of max_steps (0: none). */
static inline des_host *check_host_sandboxed(uint64_t max_steps) {
  des_config cfg;
  des_host *h = NULL;
  des_config_init(&cfg);
  cfg.sandbox = 1;
  cfg.max_steps = max_steps;
  CHECK(des_host_new(&h, &cfg) == DES_OK && h != NULL);
  return h;
}

#endif
