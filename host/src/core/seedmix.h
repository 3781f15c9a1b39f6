/*
** seedmix.h -- the seed of one run of an experiment, derived from the
** experiment's seed S, the run's point (its parameters) and its
** replication number i by a mixing function (splitmix64 over a canonical
** encoding). No Lua.
**
** The rule (docs/experiments.md): the point is encoded canonically as
** "name=value\n" for each parameter, sorted by name (bytewise), values as
** given in the command line's canonical text (numbers in "%.17g"). Then
**   h = mix(S ^ K), h = mix(h ^ word) for each 8-byte little-endian word
**   of the encoding (the last one zero-padded), h = mix(h ^ len),
**   h = mix(h ^ i)
** where mix is splitmix64's finaliser after adding its golden-ratio
** increment. The seed is h with its top bit cleared, so that it is a
** positive 64-bit integer that `deshost --seed` accepts as it is.
** Nearby inputs (i and i + 1, S and S + 1) share nothing: every bit of the
** input reaches every bit of the output through the avalanche of mix.
** des.replicate should follow the same rule (with an empty point).
*/
#ifndef DES_SEEDMIX_H
#define DES_SEEDMIX_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64's step as a pure function of its input. */
uint64_t seedmix_mix(uint64_t x);

/* The seed of replication i (from 0) at the point whose canonical encoding
** is point[0..len-1] (may be NULL when len is 0), in an experiment of seed
** s. Always < 2^63. */
uint64_t seedmix_run(uint64_t s, const char *point, size_t len, uint64_t i);

#endif
