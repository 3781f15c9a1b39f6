/*
** dalloc.c -- default allocator (realloc/free), shared by every layer.
*/
#include "dalloc.h"

#include <stdlib.h>

void *des_default_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}
