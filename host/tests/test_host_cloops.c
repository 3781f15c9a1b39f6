/*
** test_host_cloops.c -- every limit holds inside the C loops of Lua's libraries
** (issue 14, items 9 and 10), through deshost.h only:
**   - the instruction budget stops each C-loop case (string.rep of "",
**     backtracking patterns, table.move, sort through metamethods, ...),
**     in a task, in a model's own coroutine, behind pcall, and when the
**     budget is set after the tasks exist;
**   - des_interrupt from another thread stops each case;
**   - failed events nothing handles in one instant end in a report;
**   - once a model caught a memory error, the cap holds again.
** No timing assertion: a watchdog thread only ends a run that hangs.
** The C-loop cases need the vendored Lua (LUA_DESHOST): with the system's
** Lua they are skipped and only the memory test runs.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lua.h>

#include "deshost.h"

#include "check_host.h"

/* Ends the process if a run hangs (a failed test, not a timing check). */
static void *watchdog(void *p) {
  (void)p;
  sleep(600);
  fprintf(stderr, "test_host_cloops: a run did not end in 600 s\n");
  _exit(2);
}

#ifdef LUA_DESHOST
/* The C-loop cases: each runs no VM instruction while it loops, for far
** longer than any test may take, unless a checkpoint stops it. */
static const struct {
  const char *name, *code;
} cases[] = {
    {"rep", "string.rep('', math.maxinteger)"},
    {"rep_sep", "string.rep('', math.maxinteger, '')"},
    {"find_backtrack", "string.find(('a'):rep(40), ('a*'):rep(40) .. 'b')"},
    {"match_min", "string.match(('a'):rep(40), ('a-'):rep(40) .. 'b')"},
    {"gmatch", "for _ in string.gmatch(('a'):rep(5000), ('a*'):rep(30) .. "
               "'b') do end"},
    {"gsub_backtrack", "string.gsub(('a'):rep(40), ('a*'):rep(40) .. 'b', "
                       "'x')"},
    {"gsub_repl", "string.gsub(('x'):rep(1 << 16), '', ('%0'):rep(1 << 15))"},
    {"bracket_class",
     "string.find(('a'):rep(1 << 14), '[' .. ('b'):rep(1 << 16) .. ']')"},
    {"balance", "string.find(('('):rep(1 << 16), '%b()')"},
    {"find_plain", "string.find(('a'):rep(1 << 20), ('a'):rep(1 << 19) .. "
                   "'b', 1, true)"},
    {"upper", "local s = ('a'):rep(1 << 12):rep(1 << 12)\n"
              "for _ = 1, 100000 do s:upper() end"},
    {"move", "table.move({}, 1, math.maxinteger >> 1, 2)"},
    {"move_back", "local t = {} table.move(t, 1, math.maxinteger >> 1, 2, "
                  "t)"},
    {"concat", "table.concat(setmetatable({}, {__index = rawlen}), '', 1, "
               "math.maxinteger)"},
    {"insert", "table.insert(setmetatable({}, {__len = function() "
               "return math.maxinteger - 1 end}), 1, 0)"},
    {"remove", "table.remove(setmetatable({}, {__len = function() "
               "return math.maxinteger end}), 1)"},
    {"sort", "table.sort(setmetatable({}, {__len = function() "
             "return (1 << 31) - 2 end, __index = rawlen, "
             "__newindex = rawequal}))"},
    {"utf8_len", "utf8.len(('a'):rep(1 << 12):rep(1 << 12))"},
    {"packsize", "string.packsize(('b'):rep(1 << 12):rep(1 << 12))"},
    {"vm_concat", "local s = ('a'):rep(1 << 12):rep(1 << 12)\n"
                  "for _ = 1, 1000000 do local x = s .. 'b' end"},
    {"sub", "local s = ('a'):rep(1 << 12):rep(1 << 12)\n"
            "for _ = 1, 1000000 do s:sub(2) end"},
    {"format_s", "local s = ('a'):rep(1 << 12):rep(1 << 12)\n"
                 "for _ = 1, 1000000 do string.format('%s', s) end"},
    {"full_gc", "local t = {} for i = 1, 200000 do t[i] = {} end\n"
                "for _ = 1, 1000000 do collectgarbage() end"},
    {"gc_step", "for _ = 1, 1000000 do collectgarbage('step', 1 << 30) end"},
    {"finalizer", "setmetatable({}, {__gc = function() while true do end "
                  "end}) collectgarbage() while true do end"},
    {"finalizer_c", "setmetatable({}, {__gc = function() "
                    "string.rep('', math.maxinteger) end}) collectgarbage() "
                    "while true do end"},
    /* Lua's own walks of a deep stack (patch 0006): each caught error
    ** shrank the stack by walking every frame, error's level walks as far
    ** as it says, each 'stack overflow' reallocates the whole stack twice,
    ** and a tree of __index calls cut at the C stack limit regrows from
    ** each caught error, deeper and deeper (host/tests/repro) */
    {"deep_pcall", "local function d(n) if n == 0 then "
                   "while true do pcall(error) end end "
                   "return 1 + d(n - 1) end d(150000)"},
    {"deep_error_level", "local function d(n) if n == 0 then "
                         "while true do pcall(error, 'x', 1 << 30) end end "
                         "return 1 + d(n - 1) end d(150000)"},
    {"stack_limit", "local function r() return 1 + r() end "
                    "while true do pcall(r) end"},
    {"cstack_tree", "local t = setmetatable({}, {})\n"
                    "getmetatable(t).__index = function(...)\n"
                    "  pcall(function() local _ = t.a.b end) return ...\n"
                    "end\nwhile true do pcall(function() return t.a end) end"},
    /* our own C work that grows with what the model made: the list of
    ** every task, sorted (rt_charge) */
    {"tasks_list", "for _ = 1, 20000 do des.spawn(function() "
                   "des.sleep(1e9) end) end\n"
                   "while true do des.tasks() end"},
    /* ... simulations made and closed (their queues), and coroutines too
    ** short to finish a count of their own (patch 0006) */
    {"sims", "while true do local s = des.new{} s:spawn(function() end) "
             "s:step() s:close() end"},
    {"short_coroutines", "while true do coroutine.wrap(function() "
                         "for _ = 1, 300 do end end)() end"},
    /* ... and the collector's steps, however the model tunes it */
    {"gc_params", "collectgarbage('incremental', 10, 1000)\n"
                  "local keep = {} for i = 1, 100000 do keep[i] = {} end\n"
                  "while true do local _ = {} end"},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static des_host *host_with(size_t mem_limit, uint64_t max_steps) {
  des_config cfg;
  des_host *h = NULL;
  des_config_init(&cfg);
  cfg.sandbox = 1;
  cfg.mem_limit = mem_limit;
  cfg.max_steps = max_steps;
  CHECK(des_host_new(&h, &cfg) == DES_OK && h != NULL);
  return h;
}

/* Load `code` as a task that first sleeps, in one of the ways a model can
** reach a C loop: plainly, behind pcall (which must not swallow the
** error), or in a coroutine of its own. */
enum { PLAIN, PCALL, COROUTINE, NWAYS };
static int load_case(des_host *h, const char *code, int way) {
  static const char *const fmt[NWAYS] = {
      "local des = require 'des'\ndes.sleep(1)\n%s\n",
      "local des = require 'des'\ndes.sleep(1)\n"
      "while true do pcall(function()\n%s\nend) end\n",
      "local des = require 'des'\ndes.sleep(1)\n"
      "coroutine.wrap(function()\n%s\nend)()\n"};
  char buf[1024];
  snprintf(buf, sizeof(buf), fmt[way], code);
  return des_load_string(h, buf, "=case");
}

/* Each case, each way, ends with the budget error. */
static void test_budget_cases(void) {
  size_t i;
  int way;
  for (i = 0; i < NCASES; i++)
    for (way = 0; way < NWAYS; way++) {
      des_host *h = host_with(0, 1000000);
      CHECK_RC(h, load_case(h, cases[i].code, way), DES_OK);
      CHECK_RC(h, des_run(h), DES_EBUDGET);
      if (!CONTAINS(des_last_error(h), "instruction budget of 1000000")) {
        fprintf(stderr, "case %s, way %d: %s\n", cases[i].name, way,
                des_last_error(h));
        failures++;
      }
      if (!CONTAINS(des_last_error(h), "task 'main'"))
        fprintf(stderr, "case %s, way %d: no task: %s\n", cases[i].name, way,
                des_last_error(h));
      CHECK(CONTAINS(des_last_error(h), "task 'main'"));
      des_host_free(h);
    }
}

/* des_set_budget after the tasks exist reaches them: tasks parked in
** sleeps, one inside a coroutine of its own, all on old threads. */
static void test_budget_after_tasks(void) {
  size_t i;
  for (i = 0; i < NCASES; i++) {
    des_host *h = host_with(0, 0);
    char buf[1024];
    snprintf(buf, sizeof(buf),
             "local des = require 'des'\n"
             "des.spawn{name = 'other', function() des.sleep(5) end}\n"
             "local co = coroutine.wrap(function()\n"
             "  coroutine.yield()\n%s\nend)\n"
             "co()\ndes.sleep(1)\nco()\n",
             cases[i].code);
    CHECK_RC(h, des_load_string(h, buf, "=late"), DES_OK);
    CHECK_RC(h, des_run_until(h, 500000000), DES_OK); /* t = 0.5 */
    des_set_budget(h, 1000000);
    CHECK_RC(h, des_run(h), DES_EBUDGET);
    if (!CONTAINS(des_last_error(h), "instruction budget")) {
      fprintf(stderr, "late case %s: %s\n", cases[i].name, des_last_error(h));
      failures++;
    }
    des_host_free(h);
  }
}

typedef struct interrupter {
  des_host *h;
  pthread_t th;
} interrupter;

static void *interrupt_later(void *p) {
  interrupter *it = p;
  struct timespec ts = {0, 30 * 1000 * 1000};
  nanosleep(&ts, NULL);
  des_interrupt(it->h);
  return NULL;
}

/* des_interrupt from another thread stops each case, each way: with no
** budget, and under a budget that it does not reach. It only stores
** (vendored patch 0007): the thread running takes the hook itself, so the
** deep-stack cases, where lua_sethook from another thread walked a stack
** that changed, run here too; and since the request stands until the
** call returns, a coroutine started after the interrupt is raised (the
** short_coroutines case) and a nested simulation's task (sims) take it. */
static void test_interrupt_cases(void) {
  size_t i;
  int way, budget;
  for (i = 0; i < NCASES; i++)
    for (way = 0; way < NWAYS * 2; way++) {
      interrupter it;
      budget = way >= NWAYS;
      it.h = host_with(0, budget ? UINT64_MAX / 2 : 0);
      CHECK_RC(it.h, load_case(it.h, cases[i].code, way % NWAYS), DES_OK);
      CHECK(pthread_create(&it.th, NULL, interrupt_later, &it) == 0);
      CHECK_RC(it.h, des_run(it.h), DES_EINTERRUPT);
      pthread_join(it.th, NULL);
      /* (or a nested run's step saw the same request first) */
      if (!CONTAINS(des_last_error(it.h), "interrupted by the host") &&
          !CONTAINS(des_last_error(it.h), "by a stop request to the host")) {
        fprintf(stderr, "interrupt case %s, way %d: %s\n", cases[i].name, way,
                des_last_error(it.h));
        failures++;
      }
      /* served: the host runs Lua again */
      CHECK_RC(it.h, des_dostring(it.h, "x = 1", 0), DES_OK);
      des_host_free(it.h);
    }
}
#endif

#ifdef LUA_DESHOST
/* At the memory limit every failed allocation runs an emergency full
** collection of the heap: a model that catches the memory error in a loop
** made each instruction one (patch 0006 charges it). */
static void test_budget_emergency_gc(void) {
  des_host *h = host_with(16u << 20, 1000000);
  CHECK_RC(
      h,
      des_load_string(h,
                      "local keep = {}\n"
                      "for i = 1, 1e9 do\n"
                      "  if not pcall(function() keep[i] = {} end) "
                      "then break end\n"
                      "end\n"
                      "while true do pcall(string.rep, 'x', 1 << 20) end\n",
                      "=emergency"),
      DES_OK);
  CHECK_RC(h, des_run(h), DES_EBUDGET);
  des_host_free(h);
}
#endif

#ifdef LUA_DESHOST
/* A task stopped by the budget or an interrupt (an error raised by the
** hook, which left the thread's hooks off as the error left the
** coroutine): its <close> handlers still meet the limit, in Lua and in a
** library loop (the sandbox fuzzer's timeout, cloops2; patch 0009), and
** the thread, pooled for the next task, runs that task under the limit. */
static void test_limit_after_hook_error(void) {
  static const char *const closers[] = {
      "string.find(('a'):rep(40), ('a*'):rep(40) .. 'b')",
      "while true do end",
      "pcall(function() while true do end end) while true do end",
  };
  size_t i;
  int budget;
  for (i = 0; i < sizeof(closers) / sizeof(closers[0]); i++)
    for (budget = 1; budget >= 0; budget--) {
      interrupter it;
      char buf[1024];
      int rc;
      it.h = host_with(0, budget ? 1000000 : 0);
      snprintf(buf, sizeof(buf),
               "local des = require 'des'\n"
               "local t = des.spawn(function()\n"
               "  local x <close> = setmetatable({}, {__close = function()\n"
               "    %s\n"
               "  end})\n"
               "  des.sleep(1)\n"
               "  while true do end\n"
               "end)\n",
               closers[i]);
      CHECK_RC(it.h, des_load_string(it.h, buf, "=closer"), DES_OK);
      if (!budget)
        CHECK(pthread_create(&it.th, NULL, interrupt_later, &it) == 0);
      rc = des_run(it.h);
      if (!budget)
        pthread_join(it.th, NULL);
      CHECK_RC(it.h, rc, budget ? DES_EBUDGET : DES_EINTERRUPT);
      /* the next task may take the same (pooled) thread */
      des_set_budget(it.h, budget ? 1000000 : 0);
      CHECK_RC(it.h,
               des_load_string(it.h,
                               "local des = require 'des'\n"
                               "des.spawn(function() while true do end end)\n",
                               "=next"),
               DES_OK);
      if (!budget)
        CHECK(pthread_create(&it.th, NULL, interrupt_later, &it) == 0);
      rc = des_run(it.h);
      if (!budget)
        pthread_join(it.th, NULL);
      CHECK_RC(it.h, rc, budget ? DES_EBUDGET : DES_EINTERRUPT);
      des_host_free(it.h);
    }
}
#endif

/* {==================================================================
** Unhandled failures in one instant (our own loop in the dispatch)
** =================================================================== */

/* Failed events that nothing handles, all at the same time, are reported
** one per run: their checks used to look again after each other forever
** (each saw the other's check due now), with no Lua to count. Also in a
** shuffled simulation, in a nested one, with many, and with a task due in
** the same instant that does handle them (which must still get its turn). */
static void test_unhandled_same_instant(void) {
  static const struct {
    const char *name, *code, *want;
    int rc;
  } v[] = {
      {"two", "des.event('a'):fail('x') des.event('b'):fail('y')",
       "event 'a' failed at t=0.0 and nothing handled it: x", DES_EMODEL},
      {"many", "for i = 1, 1000 do des.event('e' .. i):fail(i) end",
       "event 'e1' failed", DES_EMODEL},
      {"later",
       "des.sleep(3) des.event('a'):fail('x') "
       "des.event('b'):fail('y')",
       "event 'a' failed at t=3.0", DES_EMODEL},
      {"shuffled",
       "local s = des.new{} s:shuffle_ties(7)\n"
       "s:spawn(function() des.event('a'):fail('x') "
       "des.event('b'):fail('y') end)\n"
       "local ok, e = pcall(s.run, s) error(e, 0)",
       "and nothing handled it", DES_EMODEL},
      {"nested",
       "local s = des.new{}\n"
       "s:spawn(function() des.event('a'):fail('x') "
       "des.event('b'):fail('y') end)\n"
       "local ok, e = pcall(s.run, s) error(e, 0)",
       "event 'a' failed at t=0.0", DES_EMODEL},
      {"handled_later",
       "local a, b = des.event('a'), des.event('b')\n"
       "a:fail('x') b:fail('y')\n"
       "des.spawn(function() des.sleep(0) des.sleep(0) "
       "pcall(a.wait, a) pcall(b.wait, b) end)",
       NULL, DES_OK},
      {"handled_later_shuffled",
       "local s = des.new{} s:shuffle_ties(3)\n"
       "s:spawn(function()\n"
       "  local a, b = des.event('a'), des.event('b')\n"
       "  a:fail('x') b:fail('y')\n"
       "  des.spawn(function() des.sleep(0) des.sleep(0) "
       "pcall(a.wait, a) pcall(b.wait, b) end)\n"
       "end)\n"
       "s:run()",
       NULL, DES_OK},
  };
  size_t i;
  for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    int with_budget;
    for (with_budget = 0; with_budget <= 1; with_budget++) {
      des_host *h = host_with(0, with_budget ? 100000000 : 0);
      char buf[1024];
      snprintf(buf, sizeof(buf), "local des = require 'des'\n%s\n", v[i].code);
      CHECK_RC(h, des_load_string(h, buf, "=unhandled"), DES_OK);
      CHECK_RC(h, des_run(h), v[i].rc);
      if (v[i].want != NULL && !CONTAINS(des_last_error(h), v[i].want)) {
        fprintf(stderr, "unhandled %s: %s\n", v[i].name, des_last_error(h));
        failures++;
      }
      des_host_free(h);
    }
  }
}

/* }================================================================== */

/* {==================================================================
** Memory: the cap after a caught error (issue 14, item 10)
** =================================================================== */

typedef struct counting {
  size_t used, peak;
} counting;

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  counting *c = ud;
  size_t old = ptr != NULL ? osize : 0;
  void *p;
  if (nsize == 0) {
    free(ptr);
    c->used -= old;
    return NULL;
  }
  p = realloc(ptr, nsize);
  if (p != NULL) {
    c->used = c->used - old + nsize;
    if (c->used > c->peak)
      c->peak = c->used;
  }
  return p;
}

static counting mem;
static size_t second_peak; /* the peak between mark() and record() */

/* mark(): the model says "from here"; the peak starts again. */
static int c_mark(lua_State *L) {
  (void)L;
  mem.peak = mem.used;
  return 0;
}

/* record(): keep the peak since mark() (allocates nothing). */
static int c_record(lua_State *L) {
  (void)L;
  second_peak = mem.peak;
  return 0;
}

/* A model fills memory until it gets the error and catches it; then it
** fills again. The second time, the host must stop it at the limit, not
** at the limit plus the reserve the first error path used. The slack
** allows the second error's own path (its message). Variants: what the
** first fill took is dropped, or kept (then hardly anything fits); caught
** in the task or in a coroutine of the model's; tables or strings; with a
** budget (its count hook already set) or without. */
static void test_cap_after_caught_error(void) {
  static const struct {
    const char *fill, *catch, *after;
    int budget;
  } v[] = {
      {"t[#t + 1] = {}", "pcall(fill, keep)", "keep = nil collectgarbage()", 0},
      {"t[#t + 1] = {}", "pcall(fill, keep)", "", 0},
      {"t[#t + 1] = ('x'):rep(64) .. #t", "pcall(fill, keep)",
       "keep = nil collectgarbage()", 1},
      {"t[#t + 1] = {}", "coroutine.wrap(function() pcall(fill, keep) end)()",
       "keep = nil collectgarbage()", 0},
      {"t[#t + 1] = ('y'):rep(100) .. #t",
       "coroutine.wrap(function() pcall(fill, keep) end)()", "", 1},
  };
  const size_t limit = 8u << 20, slack = 64u << 10;
  size_t i;
  for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    des_config cfg;
    des_host *h = NULL;
    char model[1024];
    des_config_init(&cfg);
    cfg.sandbox = 1;
    cfg.mem_limit = limit;
    cfg.max_steps = v[i].budget ? 100000000 : 0;
    cfg.allocf = counting_alloc;
    cfg.allocud = &mem;
    memset(&mem, 0, sizeof(mem));
    second_peak = (size_t)-1;
    CHECK(des_host_new(&h, &cfg) == DES_OK);
    CHECK_RC(h, des_register(h, "mark", c_mark), DES_OK);
    CHECK_RC(h, des_register(h, "record", c_record), DES_OK);
    snprintf(model, sizeof(model),
             "local function fill(t) while true do %s end end\n"
             "local function again() mark() fill({}) end\n"
             "keep = {}\n%s\n%s\n"
             "pcall(again)\n"
             "record()\n",
             v[i].fill, v[i].catch, v[i].after);
    CHECK_RC(h, des_load_string(h, model, "=fill"), DES_OK);
    CHECK_RC(h, des_run(h), DES_OK);
    if (second_peak > limit + slack) {
      fprintf(stderr, "fill %zu: peak %zu after a caught error, limit %zu\n", i,
              second_peak, limit);
      failures++;
    }
    CHECK(des_memory(h) <= limit);
    des_host_free(h);
  }
}

/* }================================================================== */

int main(void) {
  pthread_t dog;
  pthread_create(&dog, NULL, watchdog, NULL);
  pthread_detach(dog);
#ifdef LUA_DESHOST
  test_budget_cases();
  test_budget_after_tasks();
  test_interrupt_cases();
  test_budget_emergency_gc();
  test_limit_after_hook_error();
#else
  printf("test_host_cloops: the system's Lua has no C-loop checkpoints; "
         "C-loop cases skipped\n");
#endif
  test_unhandled_same_instant();
  test_cap_after_caught_error();
  if (failures == 0)
    printf("test_host_cloops: all checks passed\n");
  return failures != 0;
}
