/*
** fuzz_alloc.h -- what the host-level fuzz harnesses (fuzz_host.c,
** fuzz_sandbox.c) share: an allocator that counts the bytes it holds, so a
** harness can check that a freed host gave everything back, and the range
** of codes deshost.h documents.
*/
#ifndef DES_FUZZ_ALLOC_H
#define DES_FUZZ_ALLOC_H

#include <stdlib.h>

#include "deshost.h"

/* The allocator of the host; ud is a long long counting what it holds. */
static void *fuzz_counting_alloc(void *ud, void *ptr, size_t osize,
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
static int fuzz_known_code(int rc) {
  return rc >= DES_ENOTFOUND && rc <= DES_STOPPED;
}

#endif
