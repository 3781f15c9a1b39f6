/*
** test_closed.c -- a host's simulation and closing, through deshost.h:
** a model cannot close the host's (default) simulation, whatever way it
** tries (close, a <close> variable, getmetatable for __gc), and the host
** functions keep working after such tries; if C code holding the raw Lua
** state does close it (the only way), every host function refuses with
** DES_EINVAL "closed simulation" (des_now gives the close time), the
** model's module functions and components raise, and freeing the host is
** safe (ASan/LeakSanitizer check it). Also simulations a model makes and
** closes inside a host.
*/
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "deshost.h"

#include "check_host.h"

/* CHECK that the host's last error contains sub. */
#define CHECK_MSG(h, sub)                                                      \
  do {                                                                         \
    if (strstr(des_last_error(h), (sub)) == NULL) {                            \
      fprintf(stderr, "%s:%d: expected the error to contain '%s', got: %s\n",  \
              __FILE__, __LINE__, (sub), des_last_error(h));                   \
      failures++;                                                              \
    }                                                                          \
  } while (0)

static des_host *new_host(int sandbox) {
  des_config cfg;
  des_host *h = NULL;
  des_config_init(&cfg);
  cfg.sandbox = sandbox;
  CHECK(des_host_new(&h, &cfg) == DES_OK && h != NULL);
  return h;
}

static int handled;

/* A component that counts its events. */
static int count_handler(des_host *h, void *ctx, const des_event *ev) {
  (void)h;
  (void)ctx;
  (void)ev;
  handled++;
  return 0;
}

/* The model's ways to close the host's simulation are all refused, and
** the simulation goes on working. */
static void test_model_cannot_close(int sandbox) {
  des_host *h = new_host(sandbox);
  static const char *const tries[] = {
      "require('des').default():close()",
      "require('des').current():close()",
      "local _ <close> = require('des').default()",
      "local s = require('des').default(); getmetatable(s).__gc(s)",
      "local s = require('des').default(); getmetatable(s).__close(s)",
      ("local d = require('des'); d.spawn(function() d.default():close() "
       "end); d.run()"),
  };
  size_t i;
  for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
    CHECK(des_dostring(h, tries[i], 0) != DES_OK);
  }
  CHECK_RC(h, des_dostring(h, tries[0], 0), DES_EMODEL);
  CHECK_MSG(h, "the default simulation is closed by its host");
  /* a model running as the main task tries too: the run reports it */
  CHECK_RC(
      h,
      des_load_string(h,
                      "local des = require 'des'\n"
                      "des.sleep(2)\n"
                      "local ok, e = pcall(des.default().close, "
                      "des.default())\n"
                      "assert(not ok and tostring(e):find('by its host'))\n"
                      "des.sleep(1)\n"
                      "done = true\n",
                      "=closer"),
      DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(des_now(h) == 3 * des_resolution(h));
  CHECK_RC(h, des_dostring(h, "assert(done)", 0), DES_OK);
  CHECK_RC(h, des_load_string(h, "require('des').sleep(1)", NULL), DES_OK);
  CHECK_RC(h, des_step(h), DES_OK);
  des_host_free(h);
}

/* Simulations a model makes inside a host close and stay inert. */
static void test_model_sims(void) {
  des_host *h = new_host(1);
  CHECK_RC(h,
           des_dostring(h,
                        "local des = require 'des'\n"
                        "local s = des.new{}\n"
                        "local res\n"
                        "s:spawn(function() res = des.resource(1); "
                        "local r <close> = res:acquire(); des.sleep(10) end)\n"
                        "s:run(4)\n"
                        "s:close()\n"
                        "assert(res.stats.busy:report().duration == 4)\n"
                        "assert(not pcall(s.run, s))\n"
                        "assert(not pcall(res.acquire, res))\n"
                        "kept = { s = s, res = res }\n",
                        0),
           DES_OK);
  CHECK_RC(h,
           des_dostring(h, "kept = nil; collectgarbage(); collectgarbage()", 0),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  des_host_free(h);
}

/* Close frees a simulation's queue at once, not when it is collected. */
static void test_close_frees_queue(void) {
  des_host *h = new_host(1);
  size_t before, after;
  CHECK_RC(h,
           des_dostring(h,
                        "local des = require 'des'\n"
                        "big = des.new{}\n"
                        "big:spawn(function() for i = 1, 100000 do "
                        "des.timeout(i) end end)\n"
                        "big:run(0.5)\n"
                        "assert(big:pending() == 100000)\n",
                        0),
           DES_OK);
  before = des_memory(h);
  CHECK_RC(h, des_dostring(h, "big:close()", 0), DES_OK);
  after = des_memory(h);
  CHECK(before > after && before - after > 100000 * 24);
  CHECK_RC(h, des_dostring(h, "assert(big.closed_at == 0.5)", 0), DES_OK);
  des_host_free(h);
}

/* Close the host's simulation the only way there is: from C, through the
** raw Lua state, calling the metamethod a model cannot reach. */
static void close_from_c(des_host *h) {
  lua_State *L = des_lua(h);
  int top = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, "des.default");
  CHECK(lua_getmetatable(L, -1));
  lua_getfield(L, -1, "__gc");
  lua_pushvalue(L, -3);
  CHECK(lua_pcall(L, 1, 0, 0) == LUA_OK);
  lua_settop(L, top);
}

/* After C closed it, every host function refuses, and the model raises. */
static void test_host_functions_after_close(void) {
  des_host *h = new_host(0);
  des_handle hd = 0;
  des_caller caller = {1, 1};
  des_time t;
  int i, comp = des_component_add(h, "link", count_handler, NULL);
  CHECK(comp >= 0);
  CHECK_RC(h, des_schedule(h, 5 * des_resolution(h), comp, 1, 0, &hd), DES_OK);
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "link = des.component 'link'\n"
                           "ev = des.event()\n"
                           "des.spawn(function() ev:wait() end)\n"
                           "des.sleep(3)\n",
                           NULL),
           DES_OK);
  CHECK_RC(h, des_run_until(h, 3 * des_resolution(h) + 1), DES_OK);
  close_from_c(h);
  CHECK(des_now(h) == 3 * des_resolution(h) + 1); /* the close time */
  CHECK(des_pending(h) == 0);
  CHECK_RC(h, des_run(h), DES_EINVAL);
  CHECK_MSG(h, "run: closed simulation");
  CHECK_RC(h, des_step(h), DES_EINVAL);
  CHECK_MSG(h, "step: closed simulation");
  CHECK_RC(h, des_run_until(h, 10 * des_resolution(h)), DES_EINVAL);
  CHECK_RC(h, des_peek(h, &t), DES_EINVAL);
  CHECK_MSG(h, "peek: closed simulation");
  CHECK_RC(h, des_schedule(h, 9 * des_resolution(h), comp, 1, 0, NULL),
           DES_EINVAL);
  CHECK_MSG(h, "schedule: closed simulation");
  CHECK_RC(h, des_cancel(h, hd), DES_EINVAL);
  CHECK_MSG(h, "cancel: closed simulation");
  CHECK_RC(h, des_wake(h, caller, 9 * des_resolution(h), 1), DES_EINVAL);
  CHECK_MSG(h, "wake: closed simulation");
  CHECK_RC(h, des_component_add(h, "other", count_handler, NULL), DES_EINVAL);
  CHECK_MSG(h, "component_add: closed simulation");
  CHECK_RC(h, des_set_trace(h, NULL, NULL), DES_EINVAL);
  CHECK_RC(h, des_load_string(h, "x = 1", NULL), DES_EINVAL);
  CHECK_MSG(h, "des_load_string: closed simulation");
  des_shuffle_ties(h, 1, 7); /* no effect, no crash */
  des_stop(h);
  des_interrupt(h);
  for (i = 0; i < 3 && des_dostring(h, "x = 1", 0) != DES_OK; i++)
    ; /* the interrupt is served by a call that runs Lua */
  CHECK_RC(h, des_dostring(h, "x = 1", 0), DES_OK);
  /* the model's module functions and objects raise */
  CHECK_RC(h, des_dostring(h, "return require('des').now()", 1), DES_EMODEL);
  CHECK_MSG(h, "closed simulation");
  CHECK_RC(h, des_dostring(h, "require('des').spawn(print)", 0), DES_EMODEL);
  CHECK_MSG(h, "closed simulation");
  CHECK_RC(h, des_dostring(h, "require('des').timeout(1)", 0), DES_EMODEL);
  CHECK_MSG(h, "closed simulation");
  CHECK_RC(h, des_dostring(h, "link:send(1)", 0), DES_EMODEL);
  CHECK_MSG(h, "closed simulation");
  CHECK_RC(h, des_dostring(h, "require('des').component('link')", 0),
           DES_EMODEL);
  CHECK_MSG(h, "closed simulation");
  /* an event is not a simulation's: triggering it is fine (its waiter, a
  ** task of the closed simulation, was detached) */
  CHECK_RC(h, des_dostring(h, "ev:succeed(1)", 0), DES_OK);
  CHECK(handled == 0);
  CHECK_RC(h, des_dostring(h, "collectgarbage(); collectgarbage()", 0), DES_OK);
  des_host_free(h);
}

int main(void) {
  test_model_cannot_close(0);
  test_model_cannot_close(1);
  test_model_sims();
  test_close_frees_queue();
  test_host_functions_after_close();
  if (failures != 0) {
    fprintf(stderr, "test_closed: %d check(s) failed\n", failures);
    return 1;
  }
  printf("test_closed: all checks passed\n");
  return 0;
}
