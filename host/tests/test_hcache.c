/*
** test_hcache.c -- the host's cache of small freed blocks (hcache.c): a
** block handed out always holds what was asked (whatever sizes went in),
** and blocks go in with the size Lua frees them with (osize), whether
** malloc, realloc (shrunk or grown) or the cache itself made them; the cache
** keeps at most its depth per class and its bytes in all (what the blocks
** really hold included), it is off over any allocator but the default one,
** and freeing it empties it.
** In a sanitized build (or without glibc) the cache is off: the checks
** then see it refuse everything.
*/
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hostint.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define TEST_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TEST_SANITIZED 1
#endif
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#if defined(__GLIBC__)
#include <malloc.h>
#define USABLE(p) malloc_usable_size(p)
#else
#define USABLE(p) ((size_t)-1)
#endif

static uint64_t rng = 0x9e3779b97f4a7c15u;
static size_t draw(size_t n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (size_t)(rng % n);
}

static void *other_alloc(void *ud, void *p, size_t o, size_t n) {
  return des_default_alloc(ud, p, o, n);
}

static void new_host(des_host *h, des_allocf f) {
  memset(h, 0, sizeof(*h));
  h->allocf = f;
  hcache_init(h);
}

/* Bounds on the cache's content: per class and in all, counted and real. */
static void check_bounds(const des_host *h) {
  size_t k, counted = 0, real = 0;
  for (k = 0; k < HCACHE_CLASSES; k++) {
    size_t i;
    CHECK(h->cache.n[k] <= HCACHE_DEPTH);
    if (h->cache.stack[k] == NULL) {
      CHECK(h->cache.n[k] == 0);
      continue;
    }
    counted += HCACHE_DEPTH * sizeof(void *);
    real += HCACHE_DEPTH * sizeof(void *);
    for (i = 0; i < h->cache.n[k]; i++) {
      CHECK(USABLE(h->cache.stack[k][i]) >= (k << 4) - 8);
      counted += HCACHE_HELD(k);
      real += USABLE(h->cache.stack[k][i]);
    }
  }
  CHECK(counted == h->cache.bytes && counted <= HCACHE_BYTES);
  CHECK(real <= counted);
}

/* A block of n bytes as Lua may free it: from malloc, from realloc of a
** bigger or smaller block (glibc keeps a chunk up to 16 bytes bigger when
** shrinking), or from the cache itself. */
static void *make_block(des_host *h, size_t n) {
  void *p = NULL;
  switch (draw(4)) {
  case 0:
    p = malloc(n);
    break;
  case 1: /* shrunk, by up to 40 bytes */
    p = realloc(malloc(n + draw(41)), n);
    break;
  case 2: /* grown */
    p = realloc(malloc(1 + draw(n)), n);
    break;
  default:
    if (h->cache.on)
      p = hcache_get(h, n);
    if (p == NULL)
      p = malloc(n);
  }
  CHECK(p != NULL);
  return p;
}

/* Blocks of every size and origin in, random sizes out: each block handed
** out holds what was asked (a wrong class would hand out a block too small:
** USABLE says so). */
static void test_fit(void) {
  des_host h;
  size_t i, got = 0;
  new_host(&h, des_default_alloc);
  for (i = 0; i < 40000; i++) {
    size_t n = 1 + draw(1200);
    if (draw(2)) {
      void *p = make_block(&h, n);
      memset(p, 0xab, n);
      if (!(h.cache.on && hcache_put(&h, p, n)))
        free(p);
    } else {
      void *q = h.cache.on ? hcache_get(&h, n) : NULL;
      if (q != NULL) {
        got++;
        CHECK(USABLE(q) >= n);
        memset(q, 0xcd, n);
        free(q);
      }
    }
    if (i % 1000 == 0)
      check_bounds(&h);
  }
  check_bounds(&h);
  CHECK(h.cache.on ? got > 0 : got == 0);
  hcache_free(&h);
  for (i = 0; i < HCACHE_CLASSES; i++)
    CHECK(h.cache.stack[i] == NULL && h.cache.n[i] == 0);
  CHECK(h.cache.bytes == 0 && !h.cache.on);
}

/* The same size back: the block just kept, for a task-sized block; sizes
** at the edges of a class (16k - 8 and one more) stay in their class. */
static void test_same_size(void) {
  des_host h;
  void *p, *q;
  size_t n;
  new_host(&h, des_default_alloc);
  if (!h.cache.on) {
    hcache_free(&h);
    return;
  }
  p = malloc(300);
  CHECK(hcache_put(&h, p, 300));
  q = hcache_get(&h, 300);
  CHECK(q == p);
  CHECK(hcache_get(&h, 300) == NULL);
  free(q);
  for (n = 1; n <= 1016; n++) { /* 1016: the top of the last class */
    p = malloc(n);
    CHECK(hcache_put(&h, p, n));
    if ((n + 8) % 16 == 0) /* the top of its class: n + 1 is the next */
      CHECK(hcache_get(&h, n + 1) == NULL);
    q = hcache_get(&h, n);
    CHECK(q == p && USABLE(q) >= n);
    free(q);
  }
  /* too big for any class: never kept */
  p = malloc(1017);
  CHECK(!hcache_put(&h, p, 1017));
  free(p);
  p = malloc(4096);
  CHECK(!hcache_put(&h, p, 4096));
  free(p);
  CHECK(hcache_get(&h, 4096) == NULL);
  hcache_free(&h);
}

/* Many blocks of one size: the depth and the byte bound hold. */
static void test_bounds(void) {
  des_host h;
  size_t i;
  new_host(&h, des_default_alloc);
  for (i = 0; i < 20000; i++) {
    size_t n = 16 + 16 * (i % 60);
    void *p = malloc(n);
    if (!(h.cache.on && hcache_put(&h, p, n)))
      free(p);
  }
  check_bounds(&h);
  hcache_free(&h);
}

/* Over glibc's malloc, unsanitized and outside valgrind, the cache is on:
** hcache_init's check of the block sizes (which uses the classes) passes,
** so a wrong class or a changed malloc fails here, not in a model. */
static void test_on(void) {
  des_host h;
  new_host(&h, des_default_alloc);
#if defined(__GLIBC__) && !defined(TEST_SANITIZED)
  if (!RUNNING_ON_VALGRIND)
    CHECK(h.cache.on);
#endif
  hcache_free(&h);
}

/* Over another allocator the cache is off. */
static void test_other_allocator(void) {
  des_host h;
  void *p = malloc(100);
  new_host(&h, other_alloc);
  CHECK(!h.cache.on);
  hcache_free(&h);
  free(p);
}

int main(void) {
  test_on();
  test_fit();
  test_same_size();
  test_bounds();
  test_other_allocator();
  if (failures != 0) {
    fprintf(stderr, "test_hcache: %d check(s) failed\n", failures);
    return 1;
  }
  printf("test_hcache: all checks passed\n");
  return 0;
}
