/*
** rng.h -- random streams: xoshiro256** seeded through splitmix64, with
** named streams derived from (seed, name). No Lua, no time.
*/
#ifndef DES_RNG_H
#define DES_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct des_rng {
  uint64_t s[4];
} des_rng;

/* Seed a generator (splitmix64 expands the seed into the state). */
void des_rng_seed(des_rng *r, uint64_t seed);

/* The stream `name` of seed: independent of every other name, so adding a
** stream never shifts the others. */
void des_rng_stream(des_rng *r, uint64_t seed, const char *name, size_t len);

/* Next 64 random bits. */
uint64_t des_rng_next(des_rng *r);

/* A double uniform in [0, 1), 53 random bits. */
double des_rng_double(des_rng *r);

#endif
