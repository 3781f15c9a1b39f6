/*
** test_host_limits.c -- the limits of a host through deshost.h: the
** memory limit, the instruction budget and interrupts (from the model
** and from another thread), each hit and recovered from.
*/
#include <pthread.h>
#include <time.h>

#include "test_host.h"

static void test_memory_limit(void) {
  const size_t limit = 8u << 20;
  des_host *h = new_host_with(WITH_MEM_LIMIT, limit);
  double v = 0;
  CHECK(des_memory(h) > 0 && des_memory(h) < limit);
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "local t = {}\n"
                           "des.sleep(1)\n"
                           "while true do t[#t + 1] = {} end\n",
                           "=hog"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_EMEMLIMIT);
  CHECK(CONTAINS(des_last_error(h), "not enough memory"));
  CHECK(CONTAINS(des_last_error(h), "task 'main'"));
  CHECK(CONTAINS(des_last_error(h), "memory limit is 8388608 bytes"));
  CHECK(des_memory(h) <= limit);
  /* recovered: the hog's memory is garbage, the host runs new work */
  CHECK_RC(h, des_dostring(h, "collectgarbage()", 0), DES_OK);
  CHECK(des_memory(h) < limit / 2);
  CHECK_RC(h, des_load_string(h, "require('des').sleep(1); ok = 1", NULL),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK_RC(h, des_eval_number(h, "ok", &v), DES_OK);
  CHECK(v == 1);
  /* events too count: a model that schedules without bound */
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "while true do des.timeout(1) end\n",
                           "=events"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_EMEMLIMIT);
  CHECK_RC(h, des_dostring(h, "collectgarbage()", 0), DES_OK);
  des_host_free(h);
}

/* Task objects have no finalizer: a task that a slot or an event names
** must be anchored in its simulation, whatever allocation of its spawn
** runs out of memory (the anchor table growing, the slots, the thread,
** the event). Spawns until the limit, at many paddings so that the failing
** allocation moves across the spawn, then drops the tasks and collects:
** the simulation then runs exactly the tasks whose spawn succeeded
** (under ASan, a task collected while its slot or event names it is a
** use after free). Also the simulations whose live tasks are collected
** with them (sleeping, waiting on an event, in a resource's queue, joining
** a task of another collected simulation). */
static const char spawn_oom_model[] =
    "local des = require 'des'\n"
    "bad = 0\n"
    "local function fill(hog)\n"
    "  while pcall(function() hog[#hog + 1] = ('y'):rep(1000) end) do end\n"
    "end\n"
    "for k = 1, 160 do\n"
    "  local sim = des.new{}\n"
    "  local ran, n, hog = 0, 0, {}\n"
    "  local function f() des.sleep(1); ran = ran + 1 end\n"
    "  collectgarbage()\n"
    "  fill(hog)\n"
    "  for _ = 1, 1 + k % 12 do hog[#hog] = nil end\n"
    "  collectgarbage()\n"
    "  local pad = ('x'):rep(k * 53 % 1000)\n"
    "  while true do\n"
    "    local ok, err = pcall(sim.spawn, sim, f)\n"
    "    if not ok then\n"
    "      if not tostring(err):find('memory') then bad = bad + 1 end\n"
    "      break\n"
    "    end\n"
    "    n = n + 1\n"
    "  end\n"
    "  hog, pad = nil, nil\n"
    "  collectgarbage(); collectgarbage()\n"
    "  sim:run()\n"
    "  if ran ~= n then bad = bad + 1 end\n"
    "  local s2, other = des.new{}, des.new{}\n"
    "  local far = other:spawn(function() des.sleep(10) end)\n"
    "  other:run(1)\n"
    "  s2:spawn(function()\n"
    "    local ev, res = des.event(), des.resource(1)\n"
    "    des.spawn(function() des.sleep(5) end)\n"
    "    des.spawn(function() ev:wait() end)\n"
    "    des.spawn(function() local r <close> = res:acquire(); des.sleep(9) "
    "end)\n"
    "    des.spawn(function() local r <close> = res:acquire() end)\n"
    "    des.spawn(function() far:join() end)\n"
    "    ev:wait()\n"
    "  end)\n"
    "  s2:run(1)\n"
    "  s2, other, far = nil\n"
    "  collectgarbage(); collectgarbage()\n"
    "end\n";

static void test_spawn_out_of_memory(void) {
  des_host *h = new_host_with(WITH_MEM_LIMIT, 4u << 20);
  CHECK_RC(h, des_dostring(h, spawn_oom_model, 0), DES_OK);
  CHECK(global_number(h, "bad") == 0);
  des_host_free(h);
}

static void test_budget(void) {
  des_host *h = new_host_with(WITH_MAX_STEPS, 2000000);
  /* a model may run well within its budget */
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "for i = 1, 1000 do des.sleep(1) end\n",
                           "=fine"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  /* a stuck task */
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "des.sleep(1)\n"
                           "while true do end\n",
                           "=stuck"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_EBUDGET);
  CHECK(CONTAINS(des_last_error(h), "instruction budget of 2000000"));
  CHECK(CONTAINS(des_last_error(h), "task 'main'"));
  CHECK(CONTAINS(des_last_error(h), "stuck:3:"));
  /* recovered with a new budget; a pcall cannot swallow the error */
  des_set_budget(h, 1000000);
  CHECK_RC(h,
           des_load_string(h,
                           "while true do\n"
                           "  pcall(function() while true do end end)\n"
                           "end\n",
                           "=swallow"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_EBUDGET);
  des_set_budget(h, 0);
  CHECK_RC(h, des_dostring(h, "return 1", 1), DES_OK);
  lua_pop(des_lua(h), 1);
  /* outside tasks too */
  des_set_budget(h, 100000);
  CHECK_RC(h, des_dostring(h, "while true do end", 0), DES_EBUDGET);
  des_host_free(h);
}

/* The model calls this to interrupt itself (as a signal handler would). */
static int c_interrupt_me(lua_State *L) {
  des_interrupt(des_host_of(L));
  return 0;
}

typedef struct interrupter {
  des_host *h;
} interrupter;

static void *interrupt_later(void *p) {
  interrupter *it = p;
  struct timespec ts = {0, 50 * 1000 * 1000};
  nanosleep(&ts, NULL);
  des_interrupt(it->h);
  return NULL;
}

static void test_interrupt(void) {
  des_host *h = new_host();
  pthread_t th;
  interrupter it;
  CHECK_RC(h, des_register(h, "interrupt_me", c_interrupt_me), DES_OK);
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "des.sleep(2)\n"
                           "interrupt_me()\n"
                           "while true do pcall(function() end) end\n",
                           "=loop"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_EINTERRUPT);
  CHECK(CONTAINS(des_last_error(h), "interrupted by the host"));
  CHECK(CONTAINS(des_last_error(h), "task 'main'"));
  CHECK(des_now(h) == 2000000000);
  /* served: the host runs Lua again */
  CHECK_RC(h, des_dostring(h, "x = 0; for i = 1, 1e5 do x = x + 1 end", 0),
           DES_OK);
  /* from another thread, while a task is stuck */
  CHECK_RC(h, des_load_string(h, "while true do end", "=stuck"), DES_OK);
  it.h = h;
  CHECK(pthread_create(&th, NULL, interrupt_later, &it) == 0);
  CHECK_RC(h, des_run(h), DES_EINTERRUPT);
  pthread_join(th, NULL);
  CHECK_RC(h, des_dostring(h, "x = 1", 0), DES_OK);
  des_host_free(h);
}

/* The model calls this to stop the host (as a Ctrl-C handler would). */
static int c_stop_me(lua_State *L) {
  des_stop(des_host_of(L));
  return 0;
}

/* des_stop reaches a sim:run that Lua code started (another simulation
** of the host's state): it stops after the current event and raises, in
** the run in progress and in any run or step started while the stop
** stands (the rest of the same host call); the next call runs again. */
static void test_stop_nested_runs(void) {
  des_host *h = new_host();
  CHECK_RC(h, des_register(h, "stop_me", c_stop_me), DES_OK);
  CHECK_RC(h,
           des_dostring(h,
                        "local des = require 'des'\n"
                        "sim = des.new{}\n"
                        "sim:spawn(function()\n"
                        "  for k = 1, 10 do des.sleep(1)\n"
                        "    if k == 3 then stop_me() end end end)\n"
                        "local ok, err = pcall(sim.run, sim)\n"
                        "assert(not ok and err:find('run: stopped at t=3.0 "
                        "by a stop request to the host', 1, true), err)\n"
                        "stopped_at = sim:now()\n"
                        "ok, err = pcall(sim.step, sim)\n"
                        "assert(not ok and err:find('step: stopped', 1, "
                        "true), err)\n"
                        "assert(sim:now() == 3)\n",
                        0),
           DES_OK);
  CHECK(global_number(h, "stopped_at") == 3);
  /* the stop served, the next call runs the nested simulation on */
  CHECK_RC(h, des_dostring(h, "sim:run(); finished_at = sim:now()", 0), DES_OK);
  CHECK(global_number(h, "finished_at") == 10);
  /* inside the host's own run: the model's nested run raises in its task,
  ** and the host's run stops after the event under way */
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "local inner = des.new{}\n"
                           "inner:spawn(function()\n"
                           "  for k = 1, 10 do des.sleep(1)\n"
                           "    if k == 2 then stop_me() end end end)\n"
                           "des.sleep(5)\n"
                           "inner:run()\n",
                           "=nested"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "task 'main'"));
  CHECK(CONTAINS(des_last_error(h), "run: stopped at t=2.0"));
  CHECK(des_now(h) == 5000000000);
  des_host_free(h);
}

/* A spent budget stops every thread at once, not only the one whose count
** ran out: here each level of nested coroutines catches the error and
** loops on; the resumers, whose own counts had not run out, went on for up
** to a count each, and ten calls per level made that 10^depth (a fuzz
** timeout: tens of minutes). Ends with the budget error (a hang fails the
** test by ctest's timeout), in a coroutine and in the main thread. */
static void test_budget_every_thread(void) {
  static const char *const models[] = {
      "local function f(d)\n"
      "  for _ = 1, 10 do\n"
      "    pcall(coroutine.wrap(function() if d < 120 then f(d + 1) end end))\n"
      "  end\n"
      "end\n"
      "f(1)\n",
      "local function f(d)\n"
      "  for _ = 1, 10 do\n"
      "    pcall(function()\n"
      "      local co = coroutine.create(function() if d < 120 then f(d + 1) "
      "end end)\n"
      "      coroutine.resume(co)\n"
      "    end)\n"
      "  end\n"
      "end\n"
      "require('des').spawn(function() f(1) end)\n"};
  size_t i;
  for (i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
    des_host *h = new_host_with(WITH_MAX_STEPS, 200000);
    CHECK_RC(h, des_load_string(h, models[i], "=nested"), DES_OK);
    CHECK_RC(h, des_run(h), DES_EBUDGET);
    des_host_free(h);
  }
}

int main(void) {
  test_budget_every_thread();
  test_memory_limit();
  test_spawn_out_of_memory();
  test_budget();
  test_stop_nested_runs();
  test_interrupt();
  return test_host_report("test_host_limits");
}
