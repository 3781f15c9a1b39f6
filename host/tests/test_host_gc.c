/*
** test_host_gc.c -- finalizers that cannot start where a collection
** happens. Objects of the des module free C memory and unlink C pointers
** in their __gc; a collection triggered near the C stack limit (nested
** simulations running inside tasks) could not call them, and upstream Lua
** dropped them (vendor/lua/patches/0010): the objects were freed without
** their finalizers. Each model makes such objects garbage and collects
** them from deep frames, to a limit; afterwards a full collection
** at the top must give the host's memory back, and a freed host must give
** its embedder's allocator everything back.
*/
#include "test_host.h"

#include "fuzz_alloc.h"

/* Nested replications, each with a daemon doing the same, until a limit:
** each inner simulation is closed by a <close> variable as the error
** unwinds (host/tests/repro/leak_sim_queue_replicate.lua). */
static const char replicate_model[] = /* (a budget too: the tree grows */
    /* at the memory limit for minutes without one) */
    "local des = require 'des'\n"
    "local F = {}\n"
    "F[4] = function()\n"
    "  pcall(function() des.spawn{name = 't4', daemon = true, F[4]} end)\n"
    "  pcall(function() des.replicate(1, F[4], {seed = 38, ['until'] = 5}) "
    "end)\n"
    "end\n"
    "pcall(function() des.replicate(2, F[4], {seed = 98, ['until'] = 5}) "
    "end)\n";

/* Run `model` in a sandboxed host with the limit given; afterwards a full
** collection brings the host back to what it held before (within slack),
** and freeing it returns every byte. */
static void check_model(const char *name, const char *model, size_t mem_limit,
                        uint64_t max_steps) {
  long long bytes = 0;
  des_config cfg;
  des_host *h = NULL;
  size_t before, after;
  const size_t slack = 512u << 10;
  des_config_init(&cfg);
  cfg.sandbox = 1;
  cfg.mem_limit = mem_limit;
  cfg.max_steps = max_steps;
  cfg.allocf = fuzz_counting_alloc;
  cfg.allocud = &bytes;
  CHECK(des_host_new(&h, &cfg) == DES_OK);
  CHECK_RC(h, des_dostring(h, "require 'des'; collectgarbage()", 0), DES_OK);
  before = des_memory(h);
  CHECK_RC(h, des_load_string(h, model, name), DES_OK);
  (void)des_run(h); /* what ends it (a limit, or nothing) does not matter */
  if (max_steps != 0)
    des_set_budget(h, 100000000); /* a budget for the collection */
  CHECK_RC(h, des_dostring(h, "collectgarbage() collectgarbage()", 0), DES_OK);
  after = des_memory(h);
  if (after > before + slack) {
    fprintf(stderr, "%s: %zu bytes before the run, %zu after a collection\n",
            name, before, after);
    failures++;
  }
  des_host_free(h);
  if (bytes != 0) {
    fprintf(stderr, "%s: %lld bytes not given back\n", name, bytes);
    failures++;
  }
}

/* A fuzz_sandbox input replayed as the harness runs it (16 MiB, a budget
** of 200000 given again after each exhausted run, the seed its size):
** gc_close_box.lua's finalizers, run by lua_close with the budget spent,
** made a buffer box (string.rep in a __tostring) whose __close then failed;
** made while the state closed, it had no __gc either, and its 64 KiB
** buffer was never given back (vendor/lua/patches/0011). */
static void check_fuzz_input(const char *path, uint64_t seed) {
  long long bytes = 0;
  des_config cfg;
  des_host *h = NULL;
  char *text;
  long n;
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  if (f == NULL)
    return;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  rewind(f);
  text = calloc(1, (size_t)n + 1);
  CHECK(fread(text, 1, (size_t)n, f) == (size_t)n);
  fclose(f);
  des_config_init(&cfg);
  cfg.allocf = fuzz_counting_alloc;
  cfg.allocud = &bytes;
  cfg.sandbox = 1;
  cfg.mem_limit = 16u << 20;
  cfg.max_steps = 200000;
  cfg.seed = seed;
  CHECK(des_host_new(&h, &cfg) == DES_OK);
  if (des_load_string(h, text, "=fuzz") == DES_OK)
    fuzz_sandbox_runs(h, 200000);
  des_host_free(h);
  free(text);
  if (bytes != 0) {
    fprintf(stderr, "%s: %lld bytes not given back\n", path, bytes);
    failures++;
  }
}

int main(void) {
  check_model("=replicate/limit", replicate_model, 16u << 20, 20000000);
  check_model("=replicate/budget", replicate_model, 0, 3000000);
  check_fuzz_input(GC_TEST_DIR "/gc_close_box.lua", 232);
  return test_host_report("test_host_gc");
}
