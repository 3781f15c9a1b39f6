/*
** wheel_ref.h -- the differential check of the wheel: a plain reference
** queue (a binary heap on (time, seq) with lazy cancellation) driven by the
** same operations as the wheel, comparing every result. Used by the
** differential test (operations from a PRNG) and by the fuzzer (from bytes).
*/
#ifndef DES_WHEEL_REF_H
#define DES_WHEEL_REF_H

#include <stddef.h>
#include <stdint.h>

/* A source of operation bytes: the fuzzer's buffer, or a PRNG. */
typedef struct wref_source {
  const uint8_t *data; /* NULL: use the PRNG */
  size_t size, pos;
  uint64_t prng;
} wref_source;

/* Run `nops` operations (or until the bytes run out) against a new wheel
** and the reference. Returns 0, or prints the first mismatch and returns 1. */
int wref_run(wref_source *src, long nops);

#endif
