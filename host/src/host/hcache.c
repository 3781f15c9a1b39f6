/*
** hcache.c -- small freed blocks kept for reuse, in front of the default
** allocator (host_alloc). A process-style model frees a task and a request
** per customer, in bursts (a collection's sweep), and glibc's own per-size
** cache (7 blocks a size) overflows into its slower bins: malloc and free
** were 5% of M/M/2 (issue 19 item 2).
**
** A freed block goes on the stack of its size class, found from the size
** Lua frees it with (lua_Alloc's osize, exact for every block Lua frees:
** no malloc_usable_size, which was 2% of M/M/2), at most HCACHE_DEPTH
** blocks a class and HCACHE_BYTES in all (blocks and stacks); a new block
** of nsize bytes comes from the class whose every block holds at least
** nsize (hostint.h: hcache_get and hcache_put, inline in host_alloc).
** That needs glibc's block sizes, which hcache_init checks (an allocator
** interposed with LD_PRELOAD, or glibc's malloc debugging, has others: the
** cache stays off). Only over des_default_alloc (blocks from malloc), and
** never under AddressSanitizer or valgrind, which must see every free to
** catch a use after it. What the cache holds is not counted in the host's
** memory (des_memory is what Lua holds): at most HCACHE_BYTES over the
** limit.
*/
#include "hostint.h"

#include <stdlib.h>
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

/* Callgrind and cachegrind keep glibc's malloc (memcheck replaces it): a
** build with -DHCACHE_UNDER_VALGRIND keeps the cache on under them, to
** count what it costs. Never for memcheck. */
#if defined(HCACHE_UNDER_VALGRIND) && defined(RUNNING_ON_VALGRIND)
#undef RUNNING_ON_VALGRIND
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#ifdef HCACHE_ON
/* Whether malloc gives the block sizes the classes assume: malloc(n)
** holds exactly 16k - 8 bytes, k = HCACHE_CLASS(n), at least 24 (glibc on
** 64 bits). Probed through malloc itself, so an interposed allocator is
** seen too. */
static int hcache_sizes_ok(void) {
  static const size_t sizes[] = {1, 8, 9, 24, 25, 40, 100, 1000, 1032};
  size_t i;
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    size_t n = sizes[i], want = (HCACHE_CLASS(n) << 4) - 8, got;
    void *p = malloc(n);
    if (p == NULL)
      return 0;
    got = malloc_usable_size(p);
    free(p);
    if (got != (want < 24 ? 24 : want))
      return 0;
  }
  return 1;
}
#endif

void hcache_init(des_host *h) {
  memset(&h->cache, 0, sizeof(h->cache));
#ifdef HCACHE_ON
  h->cache.on = h->allocf == des_default_alloc && !RUNNING_ON_VALGRIND &&
                hcache_sizes_ok();
#endif
}

/* The stack of a class counts in the cache's bytes (at most HCACHE_BYTES
** in all, blocks and stacks). */
#define HCACHE_STACK_BYTES (HCACHE_DEPTH * sizeof(void *))

int hcache_put_first(des_host *h, void *p, size_t k) {
  void **stack;
  if (h->cache.bytes + HCACHE_STACK_BYTES + HCACHE_HELD(k) > HCACHE_BYTES)
    return 0;
  stack = h->allocf(h->allocud, NULL, 0, HCACHE_STACK_BYTES);
  if (stack == NULL)
    return 0;
  h->cache.stack[k] = stack;
  stack[0] = p;
  h->cache.n[k] = 1;
  h->cache.bytes += HCACHE_STACK_BYTES + HCACHE_HELD(k);
  return 1;
}

void hcache_free(des_host *h) {
  size_t k;
  for (k = 0; k < HCACHE_CLASSES; k++) {
    void **stack = h->cache.stack[k];
    if (stack == NULL)
      continue;
    while (h->cache.n[k] > 0) /* (des_default_alloc: free) */
      h->allocf(h->allocud, stack[--h->cache.n[k]], 0, 0);
    h->allocf(h->allocud, stack, HCACHE_STACK_BYTES, 0);
    h->cache.stack[k] = NULL;
  }
  h->cache.bytes = 0;
  h->cache.on = 0;
}
