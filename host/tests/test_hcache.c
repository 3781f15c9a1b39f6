/*
** test_hcache.c -- the host's cache of small freed blocks (hcache.c): a
** block handed out always holds what was asked (whatever sizes went in),
** the cache keeps at most its depth per class and its bytes in all, it is
** off over any allocator but the default one, and freeing it empties it.
** In a sanitized build (or without glibc) the cache is off: the checks
** then see it refuse everything.
*/
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hostint.h"

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

/* Bounds on the cache's content: per class and in all. */
static void check_bounds(const des_host *h) {
  size_t k, total = 0;
  for (k = 0; k < HCACHE_CLASSES; k++) {
    size_t n = 0;
    void *p = h->cache.head[k];
    while (p != NULL) {
      n++;
      total += USABLE(p);
      memcpy(&p, p, sizeof(p));
    }
    CHECK(n == h->cache.n[k] && n <= HCACHE_DEPTH);
  }
  CHECK(total == h->cache.bytes && total <= HCACHE_BYTES);
}

/* Blocks of every size in, random sizes out: each fits what was asked. */
static void test_fit(void) {
  des_host h;
  size_t i, got = 0;
  new_host(&h, des_default_alloc);
  for (i = 0; i < 20000; i++) {
    size_t n = 1 + draw(1200);
    if (draw(2)) {
      void *p = malloc(n);
      CHECK(p != NULL);
      memset(p, 0xab, n);
      if (!hcache_put(&h, p))
        free(p);
    } else {
      void *q = hcache_get(&h, n);
      if (q != NULL) {
        got++;
        CHECK(USABLE(q) >= n);
        memset(q, 0xcd, n);
        free(q);
      }
    }
  }
  check_bounds(&h);
  CHECK(h.cache.on ? got > 0 : got == 0);
  hcache_free(&h);
  for (i = 0; i < HCACHE_CLASSES; i++)
    CHECK(h.cache.head[i] == NULL && h.cache.n[i] == 0);
  CHECK(h.cache.bytes == 0 && !h.cache.on);
}

/* The same size back: the block just kept, for a task-sized block. */
static void test_same_size(void) {
  des_host h;
  void *p, *q;
  new_host(&h, des_default_alloc);
  p = malloc(300);
  if (hcache_put(&h, p)) {
    q = hcache_get(&h, 300);
    CHECK(q == p);
    CHECK(hcache_get(&h, 300) == NULL);
    free(q);
  } else {
    CHECK(!h.cache.on);
    free(p);
  }
  /* too big for any class: never kept */
  p = malloc(4096);
  CHECK(!hcache_put(&h, p));
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
    void *p = malloc(16 + 16 * (i % 60));
    if (!hcache_put(&h, p))
      free(p);
  }
  check_bounds(&h);
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
