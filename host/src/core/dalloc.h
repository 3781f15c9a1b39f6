/*
** dalloc.h -- the one allocator hook every deshost layer allocates through.
** Same signature as lua_Alloc, so an embedder's allocator serves Lua and the
** C core alike: nsize == 0 frees, otherwise it behaves as realloc.
*/
#ifndef DES_DALLOC_H
#define DES_DALLOC_H

#include <stddef.h>

typedef void *(*des_allocf)(void *ud, void *ptr, size_t osize, size_t nsize);

/* realloc/free based default, used whenever an embedder passes NULL */
void *des_default_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

#endif
