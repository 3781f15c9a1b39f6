/*
** fuzz_alloc.h -- what the host-level fuzz harnesses (fuzz_host.c,
** fuzz_sandbox.c) share: an allocator that counts the bytes it holds, so a
** harness can check that a freed host gave everything back, the range of
** codes deshost.h documents, and the sandbox harness's sequence of runs
** (which the C tests replaying its finds share).
*/
#ifndef DES_FUZZ_ALLOC_H
#define DES_FUZZ_ALLOC_H

#include <stdlib.h>

#include "deshost.h"

/* The allocator of the host; ud is a long long counting what it holds. */
static inline void *fuzz_counting_alloc(void *ud, void *ptr, size_t osize,
                                        size_t nsize) {
  long long *bytes = ud;
  if (ptr == NULL)
    osize = 0;
  *bytes += (long long)nsize - (long long)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}

/* Is rc a code deshost.h documents? */
static inline int fuzz_known_code(int rc) {
  return rc >= DES_ENOTFOUND && rc <= DES_STOPPED;
}

/* The sandbox harness's runs of a loaded model: up to three, a new budget
** after each that spent it, then a step. */
static inline void fuzz_sandbox_runs(des_host *h, uint64_t budget) {
  int i, rc;
  for (i = 0; i < 3; i++) {
    rc = des_run(h);
    if (rc == DES_OK || rc == DES_EMPTY)
      break;
    if (rc == DES_EBUDGET)
      des_set_budget(h, budget);
  }
  (void)des_step(h);
}

#endif
