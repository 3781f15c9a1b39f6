/*
** test_host_dloops.c -- the C loops of deshost's own binding and runtime
** whose length a model controls are charged to the instruction budget
** (issue 14, item 9; cloops2), through deshost.h only.
**
** Each case builds big state cheaply (many events, samples, holders,
** waiters, weights...), then repeats one call whose C work grows with that
** state, counting the calls in a global. The run must end with the budget
** error, and the work done must be a bounded multiple of the budget:
** calls x (work of one call) <= SLACK x budget. Uncharged, one call costs a
** handful of instructions, so the model makes about budget / 10 calls
** (thousands of times the bound, and runs for minutes). Counting calls, not
** time: no timing assertion; a watchdog only ends a run that hangs.
** The charges need the vendored Lua (LUA_DESHOST); with the system's Lua
** the test is skipped.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lua.h>

#include "deshost.h"

#include "check_host.h"
#include "fuzz_alloc.h"

#define BUDGET 4000000
#define SLACK 16 /* work units per budget unit, at most */

/* Ends the process if a run hangs (a failed test, not a timing check). */
static void *watchdog(void *p) {
  (void)p;
  sleep(600);
  fprintf(stderr, "test_host_dloops: a run did not end in 600 s\n");
  _exit(2);
}

#ifdef LUA_DESHOST
/* setup runs once (S is the size); then `while true do step; calls =
** calls + 1 end`, unless step is NULL (setup counts calls itself). work:
** the C work of one call, in elements (a lower bound). */
static const struct {
  const char *name;
  long size, work;
  const char *setup, *step;
} cases[] = {
    /* composites of many members (made, linked, detached when collected) */
    {"any", 20000, 20000, "evs = {} for i = 1, S do evs[i] = des.event() end",
     "des.any(evs)"},
    {"all", 20000, 20000, "evs = {} for i = 1, S do evs[i] = des.event() end",
     "des.all(evs)"},
    /* the event list: the whole queue is listed and sorted for one */
    {"events", 20000, 20000, "for i = 1, S do des.timeout(i) end",
     "des.events(1)"},
    /* random choices over big tables, streams of long names */
    {"choice", 50000, 50000,
     "w = {} for i = 1, S do w[i] = 1 end r = des.rng()", "r:choice(w)"},
    {"empirical", 50000, 50000,
     "w = {} for i = 1, S do w[i] = i end r = des.rng()", "r:empirical(w)"},
    {"empirical_sorted", 20000, 20000,
     "w = {} for i = 1, S do w[i] = -i end r = des.rng()",
     "r:empirical(w, true)"},
    {"rng_name", 1 << 20, (1 << 20) / 16, "name = ('x'):rep(S)",
     "des.rng(name)"},
    {"seed_mix", 1 << 20, (1 << 20) / 32, "point = ('x'):rep(S)",
     "des.seed_mix(1, 2, point)"},
    /* statistics: exact quantiles re-sorted after each observation, the
    ** sketch's buckets walked, histograms of many bins, merges, levels
    ** with many values, series */
    {"quantile_resort", 4000, 1000,
     "local function mk() return des.monitor('q', {quantiles = {0.5}}) end\n"
     "t = mk()\n"
     "function step() if t.count >= S then t = mk() end "
     "t:observe(-t.count) t:quantile(0.5) end",
     "step()"},
    {"quantile_sketch", 6000, 1000,
     "t = des.monitor('q', {quantiles = {0.5}})\n"
     "for i = 1, S do t:observe(10 ^ (i / 100)) end",
     "t:quantile(0.5)"},
    {"report_quantiles", 6000, 1000,
     "ps = {} for i = 1, 99 do ps[i] = i / 100 end\n"
     "t = des.monitor('q', {quantiles = ps})\n"
     "for i = 1, S do t:observe(10 ^ (i / 100)) end",
     "t:report()"},
    {"histogram_report", 50000, 50000,
     "e = {} for i = 1, S do e[i] = i end\n"
     "t = des.monitor('h', {histogram = e})",
     "t:report()"},
    {"histogram_reset", 500000, 500000 / 8,
     "e = {} for i = 1, S do e[i] = i end\n"
     "t = des.monitor('h', {histogram = e})",
     "t:reset()"},
    {"merge", 4000, 4000,
     "o = des.monitor('o', {quantiles = {0.5}})\n"
     "for i = 1, S do o:observe(i) end\n"
     "t = des.monitor('t')",
     "t:merge(o)"},
    {"level_report", 20000, 20000 / 4,
     "l = des.monitor.level('l', 0, {time_at = true})\n"
     "for i = 1, S do l:set(i + 0.5) end",
     "l:report()"},
    {"level_reset", 20000, 20000 / 4,
     "l = des.monitor.level('l', 0, {time_at = true})\n"
     "for i = 1, S do l:set(i + 0.5) end",
     "l:reset()"},
    {"keep_quantiles", 100000, 100000,
     "ps = {} for i = 1, S do ps[i] = 0.5 end t = des.monitor('k')",
     "t:keep_quantiles(ps)"},
    {"registered", 5000, 5000, "for i = 1, S do des.monitor('m' .. i) end",
     "des._stats.registered()"},
    {"param", 2000, 2000 / 2,
     "for i = 1, S do des.param('p' .. i, 1) end\n"
     "last = 'p' .. S",
     "des.param(last, 1)"},
    /* resources: a request more urgent than a long queue, a release among
    ** many holders, preemption's search, the queue listed */
    {"priority_walk", 20000, 20000,
     "res = des.resource(1, {priority = true})\n"
     "local hold = res:request(0)\n"
     "for i = 1, S do res:request(0) end",
     "res:request(-1):release()"},
    {"release_search", 20000, 20000 / 4,
     "res = des.resource(S + 1)\n"
     "held = {} for i = 1, S do held[i] = res:request() end",
     "res:request():release()"},
    {"preempt_search", 20000, 20000 / 4,
     "res = des.resource(S, {priority = true, preemptive = true})\n"
     "held = {} for i = 1, S do held[i] = res:request(0) end",
     "res:request(0):release()"},
    {"queue_list", 1000, 1000 * 1000 / 2,
     "res = des.resource(1)\n"
     "local hold = res:request()\n"
     "for i = 1, S do res:request() end",
     "local _ = res.queue"},
    /* closing a simulation walks every scheduled call's slot */
    {"close_sched", 100000, 100000 / 4,
     "local f = function() end\n"
     "for i = 1, S do des.schedule(1e9, f) end",
     "des.new{}:close()"},
    /* spawning from a table of many arguments (cancelled at once) */
    {"spawn_args", 50000, 50000,
     "args = {function() end} for i = 1, S do args[i + 1] = i end",
     "des.spawn(args):cancel()"},
    /* many interrupts queued on a task: each delivery shifted the queue */
    {"interrupt_queue", 2000, 2000 * 2000 / 8,
     "T = des.spawn(function() while true do pcall(des.sleep, 1e9) end "
     "end)\n"
     "des.sleep(0)",
     "for i = 1, S do T:interrupt(i) end des.sleep(1)"},
    /* only daemons left, as many other events pending: the check lists
    ** them all after every event */
    /* (in a simulation run by sim:run, which ends when only daemons are
    ** left; the host's runs check that apart): daemons sleeping in loops,
    ** one waiting, and a timeout far ahead that keeps the run going */
    {"only_daemons", 1000, 1000,
     "local s = des.new{}\n"
     "s:spawn(function()\n"
     "  local ev = des.event()\n"
     "  des.spawn{daemon = true, function() ev:wait() end}\n"
     "  for i = 1, S - 1 do des.spawn{daemon = true, function()\n"
     "    while true do calls = calls + 1 des.sleep(1) end end}\n"
     "  end\n"
     "  keep = des.timeout(1e9)\n"
     "end)\n"
     "s:run()",
     NULL},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Each case ends with the budget error after a bounded multiple of the
** budget's work. */
static void test_charged(const char *only) {
  size_t i;
  for (i = 0; i < NCASES; i++) {
    des_host *h;
    char buf[2048];
    lua_State *L;
    double calls, work;
    int rc;
    if (only != NULL && strcmp(only, cases[i].name) != 0)
      continue;
    h = check_host_sandboxed(BUDGET);
    snprintf(buf, sizeof(buf),
             "local des = require 'des'\nS = %ld\ncalls = 0\n%s\n%s%s%s\n",
             cases[i].size, cases[i].setup,
             cases[i].step != NULL ? "while true do " : "",
             cases[i].step != NULL ? cases[i].step : "",
             cases[i].step != NULL ? " calls = calls + 1 end" : "");
    CHECK_RC(h, des_load_string(h, buf, "=case"), DES_OK);
    rc = des_run(h);
    if (rc != DES_EBUDGET ||
        !CONTAINS(des_last_error(h), "instruction budget of 4000000")) {
      fprintf(stderr, "case %s: %d %s\n", cases[i].name, rc, des_last_error(h));
      failures++;
    }
    des_set_budget(h, 0);
    L = des_lua(h);
    lua_getglobal(L, "calls");
    calls = lua_tonumber(L, -1);
    lua_pop(L, 1);
    work = calls * (double)cases[i].work;
    printf("%-18s %9.0f calls, %6.2f x the budget's work\n", cases[i].name,
           calls, work / BUDGET);
    if (calls < 1 || work > (double)SLACK * BUDGET) {
      fprintf(stderr,
              "case %s: %.0f calls of %ld units of work: %.1f times the "
              "budget (at most %d)\n",
              cases[i].name, calls, cases[i].work, work / BUDGET, SLACK);
      failures++;
    }
    des_host_free(h);
  }
}
#endif

/* Found by this audit: a task's coroutine took the spawn's arguments
** without room on its stack (a write past it, then a crash), from a table
** or from the caller's stack; far too many is an error. Any Lua. */
static void test_spawn_many_args(void) {
  des_host *h;
  des_config cfg;
  des_config_init(&cfg);
  cfg.sandbox = 1;
  CHECK(des_host_new(&h, &cfg) == DES_OK);
  CHECK_RC(h,
           des_load_string(
               h,
               "local des = require 'des'\n"
               "local got = {}\n"
               "local function f(...) got[#got + 1] = select('#', ...) end\n"
               "local args = {f} for i = 1, 50000 do args[i + 1] = i end\n"
               "local a = des.spawn(args)\n"
               "local t = {} for i = 1, 60000 do t[i] = i end\n"
               "local b = des.spawn(f, table.unpack(t))\n"
               "a:join() b:join()\n"
               "assert(got[1] == 50000 and got[2] == 60000)\n"
               "local big = {f} for i = 1, 1100000 do big[i + 1] = i end\n"
               "local ok, e = pcall(des.spawn, big)\n"
               "assert(not ok and e:find('too many arguments'), e)\n",
               "=args"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  des_host_free(h);
}

#ifndef DES_UNHANDLED_MODEL
#define DES_UNHANDLED_MODEL "host/tests/unhandled_check_gone.lua"
#endif

/* The sandbox fuzzer's find on this branch (pre-existing): an unhandled
** check fired for an event whose object was gone; the harness's sequence
** (a run to the budget error, a new budget, runs again, a step) must end
** without a crash (the ASan build sees the NULL dereference). */
static void test_unhandled_check_gone(void) {
  des_host *h;
  des_config cfg;
  FILE *f = fopen(DES_UNHANDLED_MODEL, "rb");
  static char model[1 << 16];
  size_t n;
  CHECK(f != NULL);
  if (f == NULL)
    return;
  n = fread(model, 1, sizeof(model) - 1, f);
  fclose(f);
  model[n] = '\0';
  des_config_init(&cfg);
  cfg.sandbox = 1;
  cfg.mem_limit = 16u << 20;
  cfg.max_steps = 200000;
  CHECK(des_host_new(&h, &cfg) == DES_OK);
  CHECK_RC(h, des_load_string(h, model, "=unhandled"), DES_OK);
  fuzz_sandbox_runs(h, 200000);
  des_host_free(h);
}

/* test_host_dloops [case]: every case, or the one named. */
int main(int argc, char **argv) {
  pthread_t dog;
  pthread_create(&dog, NULL, watchdog, NULL);
  pthread_detach(dog);
  test_spawn_many_args();
  test_unhandled_check_gone();
#ifdef LUA_DESHOST
  test_charged(argc > 1 ? argv[1] : NULL);
#else
  (void)argc;
  (void)argv;
  printf("test_host_dloops: the system's Lua has no budget checkpoints; "
         "skipped\n");
#endif
  if (failures == 0)
    printf("test_host_dloops: all checks passed\n");
  return failures != 0;
}
