/*
** seedmix.c -- the seeds of an experiment's runs (see seedmix.h for the
** rule, which docs/experiments.md states for users).
*/
#include "seedmix.h"

#include <string.h>

/* A domain constant, so that seedmix_run(s, ...) is never plain
** splitmix64 of s (which the rng's own seeding uses). */
#define SEEDMIX_DOMAIN 0x6465736578706572ULL /* "desexper" */

uint64_t seedmix_mix(uint64_t x) {
  uint64_t z = x + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* The little-endian 64-bit word of up to 8 bytes at p (zero-padded). */
static uint64_t seedmix_word(const char *p, size_t n) {
  uint64_t w = 0;
  size_t k;
  for (k = 0; k < n; k++)
    w |= (uint64_t)(unsigned char)p[k] << (8 * k);
  return w;
}

uint64_t seedmix_run(uint64_t s, const char *point, size_t len, uint64_t i) {
  uint64_t h = seedmix_mix(s ^ SEEDMIX_DOMAIN);
  size_t off;
  for (off = 0; off < len; off += 8)
    h = seedmix_mix(h ^
                    seedmix_word(point + off, len - off < 8 ? len - off : 8));
  h = seedmix_mix(h ^ (uint64_t)len);
  h = seedmix_mix(h ^ i);
  return h & 0x7fffffffffffffffULL;
}
