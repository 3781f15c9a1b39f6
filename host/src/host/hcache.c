/*
** hcache.c -- small freed blocks kept for reuse, in front of the default
** allocator (host_alloc). A process-style model frees a task and a request
** per customer, in bursts (a collection's sweep), and glibc's own per-size
** cache (7 blocks a size) overflows into its slower bins: malloc and free
** were 5% of M/M/2 (issue 19 item 2).
**
** A freed block goes to the list of its size class, found from the block
** itself (malloc_usable_size: what a caller says the size is never
** matters), at most HCACHE_DEPTH blocks a class and HCACHE_BYTES in all; a
** new block of nsize bytes comes from the class whose every block holds at
** least nsize. Only over des_default_alloc (blocks from malloc), and never
** under AddressSanitizer or valgrind, which must see every free to catch a
** use after it. What the cache holds is not counted in the host's memory
** (des_memory is what Lua holds): at most HCACHE_BYTES over the limit.
*/
#include "hostint.h"

#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define HCACHE_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HCACHE_SANITIZED 1
#endif

#if defined(__GLIBC__) && !defined(HCACHE_SANITIZED)
#define HCACHE_ON 1
#include <malloc.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#endif

#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* The class whose blocks all hold nsize bytes: 16k - 8 >= nsize. */
static size_t hcache_class_for(size_t nsize) {
  return (nsize + 8 + 15) >> 4;
}

void hcache_init(des_host *h) {
  memset(&h->cache, 0, sizeof(h->cache));
#ifdef HCACHE_ON
  h->cache.on = h->allocf == des_default_alloc && !RUNNING_ON_VALGRIND;
#endif
}

void *hcache_get(des_host *h, size_t nsize) {
  size_t k = hcache_class_for(nsize);
  void *p;
  if (k >= HCACHE_CLASSES || (p = h->cache.head[k]) == NULL)
    return NULL;
  memcpy(&h->cache.head[k], p, sizeof(void *)); /* its next */
  h->cache.n[k]--;
#ifdef HCACHE_ON
  h->cache.bytes -= malloc_usable_size(p);
#endif
  return p;
}

#ifdef HCACHE_ON
/* The class of a block that holds `usable` bytes: every block of class k
** holds at least 16k - 8 bytes (glibc's sizes are 16j - 8, class j). */
static size_t hcache_class_of_block(size_t usable) {
  return (usable + 8) >> 4;
}
#endif

int hcache_put(des_host *h, void *p) {
#ifdef HCACHE_ON
  size_t usable = malloc_usable_size(p), k = hcache_class_of_block(usable);
  if (k >= HCACHE_CLASSES || h->cache.n[k] >= HCACHE_DEPTH ||
      h->cache.bytes + usable > HCACHE_BYTES || usable < sizeof(void *))
    return 0;
  memcpy(p, &h->cache.head[k], sizeof(void *));
  h->cache.head[k] = p;
  h->cache.n[k]++;
  h->cache.bytes += usable;
  return 1;
#else
  (void)h;
  (void)p;
  return 0;
#endif
}

void hcache_free(des_host *h) {
  size_t k;
  for (k = 0; k < HCACHE_CLASSES; k++) {
    void *p;
    while ((p = h->cache.head[k]) != NULL) {
      memcpy(&h->cache.head[k], p, sizeof(void *));
      h->allocf(h->allocud, p, 0, 0); /* (des_default_alloc: free) */
    }
    h->cache.n[k] = 0;
  }
  h->cache.bytes = 0;
  h->cache.on = 0;
}
