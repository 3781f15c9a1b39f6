/*
** fuzz_wheel.c -- libFuzzer harness: the differential check of
** wheel_ref.c driven by the fuzzer's bytes.
*/
#include <stdlib.h>

#include "wheel_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wref_source src = {data, size, 0, 0};
  if (wref_run(&src, 100000) != 0)
    abort();
  return 0;
}
