/*
** test_host_interrupt.c -- des_interrupt from another thread, many times,
** while the model runs deep in recursion (issue 14, item 9; cloops2): the
** call may only store flags (with the vendored Lua, an asynchronous hook
** request, patch 0007) and never touch the running thread's stack, which
** grows and shrinks under it. Built also with -fsanitize=thread, the
** vendored Lua included (ctest host_interrupt_tsan), and run under the
** ASan build, where lua_sethook from another thread showed as a
** use-after-free. Each round ends in DES_EINTERRUPT with the message and
** leaves a host that runs Lua again. No timing assertion: the interrupter
** keeps interrupting until the run returned, and a watchdog only ends a
** run that hangs.
*/
#include <pthread.h>
#include <stdatomic.h>
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
  fprintf(stderr, "test_host_interrupt: a run did not end in 600 s\n");
  _exit(2);
}

typedef struct interrupter {
  des_host *h;
  pthread_t th;
  atomic_int done; /* the run returned: stop interrupting */
  atomic_long sent;
  unsigned seed;
} interrupter;

/* Interrupt at short random intervals until the run returned, then a few
** more times (racing with the host's leaving the call). */
static void *interrupt_loop(void *p) {
  interrupter *it = p;
  int after = 0;
  while (after < 3) {
    struct timespec ts = {0, (long)(rand_r(&it->seed) % 200000) + 1000};
    nanosleep(&ts, NULL);
    des_interrupt(it->h);
    atomic_fetch_add(&it->sent, 1);
    if (atomic_load(&it->done))
      after++;
  }
  return NULL;
}

/* Models that keep the running thread's stack changing: recursion that
** goes deep and comes back (its CallInfo list grows, then the collector
** shrinks it), errors caught deep down, recursion in coroutines and in
** tasks, and a C loop at the bottom of a deep stack. */
static const struct {
  const char *name, *code;
} models[] = {
    {"up_down", "local function d(n) if n == 0 then return 0 end "
                "return 1 + d(n - 1) end\n"
                "while true do d(20000) collectgarbage('step') end"},
    {"deep_pcall", "local function d(n) if n == 0 then "
                   "while true do pcall(error) end end "
                   "return 1 + d(n - 1) end d(50000)"},
    {"deep_pcall_loop", "local function d(n) if n == 0 then error('x') end "
                        "return 1 + d(n - 1) end\n"
                        "while true do pcall(d, 30000) end"},
    {"coroutines",
     "local function d(n) if n == 0 then coroutine.yield() return 0 end "
     "return 1 + d(n - 1) end\n"
     "while true do local co = coroutine.wrap(d) co(5000) co() end"},
    {"tasks", "local function d(n) if n == 0 then des.sleep(0) return 0 end "
              "return 1 + d(n - 1) end\n"
              "for _ = 1, 4 do des.spawn(function() while true do d(3000) end "
              "end) end\n"
              "while true do d(3000) end"},
    {"deep_c_loop", "local function d(n) if n == 0 then "
                    "string.rep('', math.maxinteger) end "
                    "return 1 + d(n - 1) end d(50000)"},
};
#define NMODELS (sizeof(models) / sizeof(models[0]))

/* Each model, with no budget and under one it does not reach, several
** rounds: interrupted many times while it runs, DES_EINTERRUPT with the
** message, and Lua runs again on the same host afterwards. */
static void test_interrupt_deep(void) {
  size_t i;
  int round;
  long total = 0;
  for (i = 0; i < NMODELS; i++)
    for (round = 0; round < 20; round++) {
      interrupter it;
      char buf[1024];
      int rc;
      it.h = check_host_sandboxed(round % 2 ? UINT64_MAX / 2 : 0);
      atomic_init(&it.done, 0);
      atomic_init(&it.sent, 0);
      it.seed = (unsigned)(i * 31 + (size_t)round);
      snprintf(buf, sizeof(buf), "local des = require 'des'\n%s\n",
               models[i].code);
      CHECK_RC(it.h, des_load_string(it.h, buf, "=deep"), DES_OK);
      CHECK(pthread_create(&it.th, NULL, interrupt_loop, &it) == 0);
      rc = des_run(it.h);
      atomic_store(&it.done, 1);
      if (rc != DES_EINTERRUPT ||
          (!CONTAINS(des_last_error(it.h), "interrupted by the host") &&
           !CONTAINS(des_last_error(it.h), "stop request to the host"))) {
        fprintf(stderr, "model %s, round %d: %d %s\n", models[i].name, round,
                rc, des_last_error(it.h));
        failures++;
      }
      /* interrupts still coming: either outcome, but never a crash */
      rc = des_dostring(it.h, "x = 1", 0);
      CHECK(rc == DES_OK || rc == DES_EINTERRUPT);
      pthread_join(it.th, NULL);
      total += atomic_load(&it.sent);
      /* the last interrupt may still stand: the next call serves it */
      rc = des_dostring(it.h, "x = 2", 0);
      CHECK(rc == DES_OK || rc == DES_EINTERRUPT);
      /* served: the host runs Lua again, to the end */
      CHECK_RC(it.h,
               des_dostring(it.h,
                            "local s = 0 for i = 1, 1e5 do "
                            "s = s + i end x = s",
                            0),
               DES_OK);
      des_host_free(it.h);
    }
  printf("test_host_interrupt: %ld interrupts sent\n", total);
}

int main(void) {
  pthread_t dog;
  pthread_create(&dog, NULL, watchdog, NULL);
  pthread_detach(dog);
  test_interrupt_deep();
  if (failures == 0)
    printf("test_host_interrupt: all checks passed\n");
  return failures != 0;
}
