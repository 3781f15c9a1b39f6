/*
** rng.c -- xoshiro256** (Blackman and Vigna): small state, fast, passes
** BigCrush, identical on every platform since it is integer-only. Never
** libc rand() nor Lua's math.random, whose results vary by build.
*/
#include "rng.h"

/* splitmix64: expands one 64-bit value into well-mixed state words. */
static uint64_t rng_splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void des_rng_seed(des_rng *r, uint64_t seed) {
  int i;
  for (i = 0; i < 4; i++)
    r->s[i] = rng_splitmix(&seed);
}

/* The stream's seed is the splitmix of seed mixed with an FNV-1a hash of
** the name: a different name gives an unrelated state. */
void des_rng_stream(des_rng *r, uint64_t seed, const char *name, size_t len) {
  uint64_t h = 0xcbf29ce484222325ULL;
  size_t i;
  for (i = 0; i < len; i++) {
    h ^= (unsigned char)name[i];
    h *= 0x100000001b3ULL;
  }
  seed ^= rng_splitmix(&h);
  des_rng_seed(r, seed);
}

static uint64_t rng_rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

uint64_t des_rng_next(des_rng *r) {
  uint64_t *s = r->s;
  uint64_t result = rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rng_rotl(s[3], 45);
  return result;
}

double des_rng_double(des_rng *r) {
  return (double)(des_rng_next(r) >> 11) * 0x1.0p-53;
}
