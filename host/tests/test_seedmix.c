/*
** test_seedmix.c -- the seeds of an experiment's runs (core/seedmix.c):
** splitmix64's known output, a pinned seed (the rule must never change:
** results files and reruns by seed depend on it), the top bit always
** clear, every input part mattering (S, each byte of the point, its
** length, i), and the avalanche between neighbouring inputs.
*/
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "seedmix.h"

/* Bits that differ between a and b. */
static int hamming(uint64_t a, uint64_t b) {
  uint64_t x = a ^ b;
  int n = 0;
  while (x) {
    x &= x - 1;
    n++;
  }
  return n;
}

static void test_known(void) {
  /* splitmix64 seeded with 0: its first output */
  CHECK(seedmix_mix(0) == 0xe220a8397b1dcdafULL);
  /* the rule, pinned (docs/experiments.md) */
  CHECK(seedmix_run(1, NULL, 0, 0) == seedmix_run(1, "", 0, 0));
  CHECK(seedmix_run(42, "servers=2\n", 10, 3) == 988410706297574987ULL);
  CHECK(seedmix_run(1, NULL, 0, 0) == 2177329790634779506ULL);
}

static void test_parts_matter(void) {
  const char *p = "rho=0.5\nservers=2\n";
  size_t n = strlen(p);
  uint64_t base = seedmix_run(7, p, n, 0);
  char q[32];
  size_t k;
  CHECK(seedmix_run(8, p, n, 0) != base);
  CHECK(seedmix_run(7, p, n, 1) != base);
  CHECK(seedmix_run(7, p, n - 1, 0) != base);
  for (k = 0; k < n; k++) { /* every byte of the point counts */
    memcpy(q, p, n);
    q[k] ^= 1;
    CHECK(seedmix_run(7, q, n, 0) != base);
  }
  /* zero padding does not make "a" and "a\0" the same point */
  CHECK(seedmix_run(7, "a", 1, 0) != seedmix_run(7, "a\0", 2, 0));
  /* the point and i do not trade places */
  CHECK(seedmix_run(7, NULL, 0, 1) != seedmix_run(7, "\1", 1, 0));
}

static void test_range_and_avalanche(void) {
  uint64_t i;
  long bits = 0, bits_s = 0;
  int top_clear = 1;
  for (i = 0; i < 4000; i++) {
    uint64_t a = seedmix_run(1, "x=1\n", 4, i);
    uint64_t b = seedmix_run(1, "x=1\n", 4, i + 1);
    uint64_t c = seedmix_run(i, NULL, 0, 0), d = seedmix_run(i + 1, NULL, 0, 0);
    if ((a >> 63) != 0 || (c >> 63) != 0)
      top_clear = 0;
    bits += hamming(a, b);
    bits_s += hamming(c, d);
  }
  CHECK(top_clear);
  /* 63 random bits: about 31.5 differ on average between neighbours */
  CHECK(bits > 4000L * 30 && bits < 4000L * 33);
  CHECK(bits_s > 4000L * 30 && bits_s < 4000L * 33);
}

int main(void) {
  test_known();
  test_parts_matter();
  test_range_and_avalanche();
  if (failures)
    fprintf(stderr, "test_seedmix: %d failure(s)\n", failures);
  return failures != 0;
}
