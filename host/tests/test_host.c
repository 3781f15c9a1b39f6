/*
** test_host.c -- the embedding API, through deshost.h only: every function
** and error code, C components talking both ways with Lua tasks (a 10^5
** call ping-pong in exact order), the memory limit, the instruction budget
** and interrupts hit and recovered from, the sandbox, two hosts at once,
** and a host freed with tasks still suspended (LeakSanitizer checks).
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include "deshost.h"

#include "check.h"

/* CHECK that rc is want; on failure show the host's message. */
#define CHECK_RC(h, rc, want)                                                  \
  do {                                                                         \
    int rc_ = (rc);                                                            \
    if (rc_ != (want)) {                                                       \
      fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d\n  %s\n",       \
              __FILE__, __LINE__, #rc, rc_, des_strerror(rc_), (want),         \
              des_last_error(h));                                              \
      failures++;                                                              \
    }                                                                          \
  } while (0)

#define CONTAINS(s, sub) (strstr((s), (sub)) != NULL)

static des_host *new_host(void) {
  des_host *h = NULL;
  CHECK(des_host_new(&h, NULL) == DES_OK && h != NULL);
  return h;
}

/* A host with one limit or setting changed from the defaults. */
enum { WITH_MEM_LIMIT, WITH_MAX_STEPS, WITH_SANDBOX, WITH_SEED };
static des_host *new_host_with(int what, uint64_t value) {
  des_config cfg;
  des_host *h = NULL;
  des_config_init(&cfg);
  if (what == WITH_MEM_LIMIT)
    cfg.mem_limit = (size_t)value;
  else if (what == WITH_MAX_STEPS)
    cfg.max_steps = value;
  else if (what == WITH_SANDBOX)
    cfg.sandbox = (int)value;
  else
    cfg.seed = value;
  CHECK(des_host_new(&h, &cfg) == DES_OK && h != NULL);
  return h;
}

/* The global number `name` of the host's model. */
static double global_number(des_host *h, const char *name) {
  double v = -1;
  CHECK_RC(h, des_eval_number(h, name, &v), DES_OK);
  return v;
}

/* {==================================================================
** Life cycle, errors, loading
** =================================================================== */

static void test_config_and_errors(void) {
  des_config cfg;
  des_host *h = (des_host *)1;
  int codes[] = {DES_OK,        DES_EMPTY,   DES_STOPPED,    DES_ENOMEM,
                 DES_EINVAL,    DES_EFILE,   DES_ESYNTAX,    DES_EMODEL,
                 DES_EPAST,     DES_ERANGE,  DES_ESTALE,     DES_EBUSY,
                 DES_EMEMLIMIT, DES_EBUDGET, DES_EINTERRUPT, DES_ENOTFOUND};
  size_t i, j;
  des_config_init(&cfg);
  CHECK(cfg.resolution == 1000000000 && cfg.seed == 0 && cfg.mem_limit == 0);
  cfg.resolution = 0;
  CHECK(des_host_new(&h, &cfg) == DES_EINVAL && h == NULL);
  for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
    CHECK(strcmp(des_strerror(codes[i]), "unknown error code") != 0);
    for (j = 0; j < i; j++)
      CHECK(strcmp(des_strerror(codes[i]), des_strerror(codes[j])) != 0);
  }
  CHECK(strcmp(des_strerror(12345), "unknown error code") == 0);
  CHECK(strcmp(des_version(), DESHOST_VERSION) == 0);
  des_host_free(NULL);
}

static void test_load_and_step(void) {
  des_host *h = new_host();
  des_time t = -1;
  CHECK(strcmp(des_last_error(h), "") == 0);
  CHECK(des_now(h) == 0 && des_pending(h) == 0);
  CHECK(des_peek(h, &t) == DES_EMPTY);
  CHECK_RC(h, des_step(h), DES_EMPTY);
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "log = ''\n"
                           "for i = 1, 3 do des.sleep(1.5); log = log .. i "
                           "end\n"
                           "done = des.now()\n",
                           "=step"),
           DES_OK);
  CHECK(des_pending(h) == 1);
  CHECK(des_peek(h, &t) == DES_OK && t == 0);
  CHECK_RC(h, des_step(h), DES_OK); /* the main chunk starts */
  CHECK(des_peek(h, &t) == DES_OK && t == 1500000000);
  CHECK_RC(h, des_run_until(h, 3000000000), DES_OK); /* 1.5 only */
  CHECK(des_now(h) == 3000000000);
  CHECK_RC(h, des_run_until(h, 1), DES_EPAST);
  CHECK(CONTAINS(des_last_error(h), "before the current time"));
  CHECK_RC(h, des_run_until(h, -5), DES_EINVAL);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(global_number(h, "done") == 4.5);
  CHECK(des_now(h) == 4500000000);
  CHECK(des_units(h, des_now(h)) == 4.5);
  CHECK(des_resolution(h) == 1000000000);
  t = 0;
  CHECK(des_ticks(h, 0.25, &t) == DES_OK && t == 250000000);
  CHECK(des_ticks(h, -1, &t) == DES_EINVAL);
  CHECK(des_ticks(h, 1e300, &t) == DES_ERANGE);
  CHECK(des_step(h) == DES_EMPTY);
  des_host_free(h);
}

static void test_load_errors(void) {
  des_host *h = new_host();
  const char *args[] = {"a", "b"};
  CHECK_RC(h, des_load_file(h, "/no/such/model.lua", 0, NULL), DES_EFILE);
  CHECK(CONTAINS(des_last_error(h), "/no/such/model.lua"));
  CHECK_RC(h, des_load_string(h, "x = = 1", "=bad"), DES_ESYNTAX);
  CHECK(CONTAINS(des_last_error(h), "bad:1:"));
  CHECK_RC(h, des_load_file(h, NULL, 0, NULL), DES_EINVAL);
  CHECK_RC(h, des_load_file(h, "x", 2, NULL), DES_EINVAL);
  CHECK(des_pending(h) == 0); /* nothing half-loaded */
  /* a failing main chunk: the run reports task, time and traceback */
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "des.sleep(2)\n"
                           "error('boom')\n",
                           "=failing"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "task 'main'"));
  CHECK(CONTAINS(des_last_error(h), "t=2"));
  CHECK(CONTAINS(des_last_error(h), "failing:3: boom"));
  CHECK(CONTAINS(des_last_error(h), "stack traceback"));
  /* the host is still usable */
  CHECK_RC(h, des_dostring(h, "return 6 * 7", 1), DES_OK);
  CHECK(lua_tointeger(des_lua(h), -1) == 42);
  lua_pop(des_lua(h), 1);
  CHECK_RC(h, des_dostring(h, "error('nope')", 0), DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "nope"));
  CHECK_RC(h, des_dostring(h, "return +", 0), DES_ESYNTAX);
  CHECK_RC(h, des_dostring(h, "error(setmetatable({}, {}))", 0), DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "table value"));
  CHECK(lua_gettop(des_lua(h)) == 0);
  /* arguments reach the model as ... */
  {
    FILE *f = fopen("test_host_model.lua", "w");
    CHECK(f != NULL);
    if (f != NULL) {
      fputs("got = table.concat({...}, ',')\n", f);
      fclose(f);
      CHECK_RC(h, des_load_file(h, "test_host_model.lua", 2, args), DES_OK);
      CHECK_RC(h, des_run(h), DES_OK);
      CHECK_RC(h, des_dostring(h, "return got", 1), DES_OK);
      CHECK(strcmp(lua_tostring(des_lua(h), -1), "a,b") == 0);
      lua_pop(des_lua(h), 1);
      remove("test_host_model.lua");
    }
  }
  des_host_free(h);
}

/* A C function exposed to the model. */
static int c_twice(lua_State *L) {
  des_host *h = des_host_of(L);
  lua_pushinteger(L, 2 * luaL_checkinteger(L, 1) + (h != NULL ? 0 : 1000));
  return 1;
}

static void test_lua_bridge(void) {
  des_host *h = new_host();
  lua_State *L = des_lua(h);
  double v = 0;
  CHECK(des_host_of(L) == h);
  CHECK(des_host_of(NULL) == NULL);
  CHECK_RC(h, des_register(h, "twice", c_twice), DES_OK);
  CHECK_RC(h, des_register(h, NULL, c_twice), DES_EINVAL);
  CHECK_RC(h, des_dostring(h, "function add(a, b) return a + b end", 0),
           DES_OK);
  lua_pushinteger(L, 2);
  lua_pushinteger(L, 40);
  CHECK_RC(h, des_call(h, "add", 2, 1), DES_OK);
  CHECK(lua_tointeger(L, -1) == 42);
  lua_pop(L, 1);
  CHECK_RC(h, des_call(h, "missing", 0, 0), DES_ENOTFOUND);
  CHECK(CONTAINS(des_last_error(h), "missing"));
  CHECK(lua_gettop(L) == 0);
  CHECK_RC(h, des_eval_number(h, "twice(21)", &v), DES_OK);
  CHECK(v == 42);
  CHECK_RC(h, des_eval_number(h, "'text'", &v), DES_EINVAL);
  CHECK_RC(h, des_eval_number(h, "nope.x", &v), DES_EMODEL);
  CHECK(lua_gettop(L) == 0);
  /* a monitor read back as a number */
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "m = des.monitor 'x'\n"
                           "for i = 1, 4 do m:observe(i) end\n",
                           NULL),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(global_number(h, "m:report().mean") == 2.5);
  des_host_free(h);
}

/* }================================================================== */

/* {==================================================================
** C components
** =================================================================== */

enum { K_PING = 1, K_TICK, K_TRIGGER, K_STOP, K_NESTED };

typedef struct link {
  long calls, ticks;
  des_time last;
  int order_ok;
  des_caller last_caller;
  int nested_rc[3];
} link;

/* Answers every call 3 ticks later with twice its data; counts ticks;
** triggers the global event `ev`; stops the run when asked. */
static int link_handler(des_host *h, void *ctx, const des_event *ev) {
  link *l = ctx;
  if (ev->when < l->last)
    l->order_ok = 0;
  l->last = ev->when;
  switch (ev->kind) {
  case K_PING:
    l->calls++;
    l->last_caller = ev->caller;
    CHECK(ev->caller.task != 0);
    return des_wake(h, ev->caller, ev->when + 3, (int64_t)ev->data * 2);
  case K_TICK:
    l->ticks++;
    CHECK(ev->caller.task == 0);
    return 0;
  case K_TRIGGER: {
    lua_State *L = des_lua(h);
    lua_getglobal(L, "ev");
    lua_pushinteger(L, (lua_Integer)ev->data);
    lua_pushliteral(L, "from C");
    CHECK_RC(h, des_trigger(h, -3, 2), DES_OK);
    lua_pop(L, 1);
    return 0;
  }
  case K_STOP:
    des_stop(h);
    return 0;
  case K_NESTED:
    l->nested_rc[0] = des_step(h);
    l->nested_rc[1] = des_load_string(h, "x = 1", NULL);
    l->nested_rc[2] = 99;
    return (int)ev->data; /* non-zero stops the run with that code */
  }
  return 0;
}

static void test_component_pingpong(void) {
  des_host *h = new_host();
  link l;
  int id;
  memset(&l, 0, sizeof(l));
  l.order_ok = 1;
  id = des_component_add(h, "link", link_handler, &l);
  CHECK(id >= 0);
  CHECK_RC(h, des_component_add(h, "link", link_handler, &l), DES_EINVAL);
  CHECK_RC(h, des_component_add(h, "x", NULL, &l), DES_EINVAL);
  CHECK_RC(h, des_component_add(h, "", link_handler, &l), DES_EINVAL);
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "local link = des.component 'link'\n"
                           "bad = 0\n"
                           "for i = 1, 100000 do\n"
                           "  local t0 = des.now()\n"
                           "  if link:call(1, i) ~= 2 * i then bad = bad + 1 "
                           "end\n"
                           "  if math.abs(des.now() - t0 - 3e-9) > 1e-12 "
                           "then bad = bad + 1 end\n"
                           "end\n"
                           "finished = des.now()\n",
                           "=pingpong"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(l.calls == 100000);
  CHECK(l.order_ok);
  CHECK(global_number(h, "bad") == 0);
  CHECK(des_now(h) == 300000);
  /* the call was answered: answering again is stale */
  CHECK_RC(h, des_wake(h, l.last_caller, des_now(h), 0), DES_ESTALE);
  CHECK(CONTAINS(des_last_error(h), "no longer open"));
  des_host_free(h);
}

/* A trace function counting lines about the component 'link'. */
static void count_named(void *ctx, const char *line) {
  if (strstr(line, "component 'link' kind 2 data 5") != NULL)
    ++*(int *)ctx;
}

static void test_component_events(void) {
  des_host *h = new_host();
  link l;
  des_handle a = 0, b = 0;
  int id, rc;
  memset(&l, 0, sizeof(l));
  l.order_ok = 1;
  id = des_component_add(h, "link", link_handler, &l);
  /* schedule: explicit times, checked */
  CHECK_RC(h, des_schedule(h, 10, id, K_TICK, 0, &a), DES_OK);
  CHECK_RC(h, des_schedule(h, 20, id, K_TICK, 0, &b), DES_OK);
  CHECK(a != 0 && b != 0 && a != b);
  CHECK_RC(h, des_schedule(h, 5, id + 7, K_TICK, 0, NULL), DES_EINVAL);
  CHECK_RC(h, des_schedule(h, 5, id, 0x80000000u, 0, NULL), DES_EINVAL);
  CHECK_RC(h, des_cancel(h, b), DES_OK);
  CHECK_RC(h, des_cancel(h, b), DES_ESTALE);
  CHECK_RC(h, des_cancel(h, 0), DES_ESTALE);
  CHECK_RC(h, des_cancel(h, 0xdeadbeef12345ull), DES_ESTALE);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(l.ticks == 1 && des_now(h) == 10);
  CHECK_RC(h, des_cancel(h, a), DES_ESTALE); /* fired */
  CHECK_RC(h, des_schedule(h, 9, id, K_TICK, 0, NULL), DES_EPAST);
  /* a task's wake is not the embedder's to cancel */
  CHECK_RC(h, des_load_string(h, "require('des').sleep(1)", NULL), DES_OK);
  CHECK_RC(h, des_step(h), DES_OK);
  CHECK(des_pending(h) == 1);
  /* Lua -> C with send, C -> Lua with a triggered event */
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "local link = des.component 'link'\n"
                           "ev = des.event()\n"
                           "link:send(2)\n"
                           "link:send(3, 77, 0.5)\n"
                           "got = table.pack(ev:wait())\n"
                           "at = des.now()\n",
                           "=trigger"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(l.ticks == 2);
  CHECK(global_number(h, "got.n") == 2 && global_number(h, "got[1]") == 77);
  CHECK(global_number(h, "at") == des_units(h, 10 + 500000000));
  CHECK_RC(h, des_dostring(h, "return got[2]", 1), DES_OK);
  CHECK(strcmp(lua_tostring(des_lua(h), -1), "from C") == 0);
  lua_pop(des_lua(h), 1);
  /* trigger twice, or a non-event */
  lua_getglobal(des_lua(h), "ev");
  CHECK_RC(h, des_trigger(h, -1, 0), DES_EINVAL);
  CHECK(CONTAINS(des_last_error(h), "succeed"));
  lua_pushinteger(des_lua(h), 5);
  CHECK_RC(h, des_trigger(h, -1, 0), DES_EINVAL);
  CHECK(lua_gettop(des_lua(h)) == 2); /* the values are popped, not these */
  lua_settop(des_lua(h), 0);
  /* traces and listings name the component */
  {
    int named = 0;
    CHECK_RC(h, des_set_trace(h, count_named, &named), DES_OK);
    CHECK_RC(h, des_schedule(h, des_now(h), id, K_TICK, 5, NULL), DES_OK);
    CHECK_RC(
        h,
        des_dostring(h,
                     "local e = require('des').events(1)[1]\n"
                     "return e.component .. ' ' .. e.kind .. ' ' .. e.data",
                     1),
        DES_OK);
    CHECK(strcmp(lua_tostring(des_lua(h), -1), "link 2 5") == 0);
    lua_pop(des_lua(h), 1);
    CHECK_RC(h, des_run(h), DES_OK);
    CHECK(named == 1);
    CHECK_RC(h, des_set_trace(h, NULL, NULL), DES_OK);
    CHECK(l.ticks == 3);
  }
  /* a handler stops the run: des_stop, and its own code */
  CHECK_RC(h, des_schedule(h, des_now(h) + 1, id, K_STOP, 0, NULL), DES_OK);
  CHECK_RC(h, des_schedule(h, des_now(h) + 2, id, K_TICK, 0, NULL), DES_OK);
  CHECK_RC(h, des_run(h), DES_STOPPED);
  CHECK(des_pending(h) == 1);
  CHECK_RC(h, des_schedule(h, des_now(h), id, K_NESTED, 77, NULL), DES_OK);
  rc = des_run(h);
  CHECK(rc == 77);
  CHECK(l.nested_rc[0] == DES_EBUSY && l.nested_rc[1] == DES_EBUSY);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(l.ticks == 4); /* and the one after the stop */
  des_host_free(h);
}

/* Calls that are interrupted, cancelled or outside tasks. */
static void test_component_calls(void) {
  des_host *h = new_host();
  link l;
  int id;
  memset(&l, 0, sizeof(l));
  l.order_ok = 1;
  id = des_component_add(h, "link", link_handler, &l);
  (void)id;
  /* interrupted before delivery: the call is withdrawn */
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "local link = des.component 'link'\n"
                           "local t = des.spawn(function()\n"
                           "  local ok, e = pcall(link.call, link, 1, 5, 10)\n"
                           "  caught = des.interrupted(e)\n"
                           "end)\n"
                           "des.sleep(1)\n"
                           "t:interrupt('stop')\n",
                           "=withdrawn"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(l.calls == 0);
  CHECK_RC(h, des_dostring(h, "return caught", 1), DES_OK);
  CHECK(strcmp(lua_tostring(des_lua(h), -1), "stop") == 0);
  lua_pop(des_lua(h), 1);
  CHECK(des_now(h) == 1000000000);
  /* errors at the Lua boundary */
  CHECK_RC(h, des_dostring(h, "require('des').component('nope')", 0),
           DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "no C component named 'nope'"));
  CHECK_RC(h, des_dostring(h, "require('des').component('link'):call(1)", 0),
           DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "not inside a task"));
  CHECK_RC(h, des_dostring(h, "require('des').component('link'):send(-1)", 0),
           DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "kind must be from 0"));
  CHECK_RC(h,
           des_dostring(h, "require('des').component('link'):send(1, 0.5)", 0),
           DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "data must be an integer"));
  CHECK_RC(
      h, des_dostring(h, "require('des').component('link'):send(1, 1, -1)", 0),
      DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "must be >= 0"));
  CHECK(des_pending(h) == 0); /* nothing half-scheduled */
  des_host_free(h);
}

/* }================================================================== */

/* {==================================================================
** Limits: memory, instructions, interrupts; the sandbox
** =================================================================== */

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

static void test_sandbox(void) {
  des_host *h = new_host_with(WITH_SANDBOX, 1);
  CHECK_RC(h,
           des_dostring(h,
                        "assert(io == nil and os == nil and debug == nil)\n"
                        "assert(dofile == nil and loadfile == nil)\n"
                        "assert(package.loadlib == nil)\n"
                        "assert(not pcall(require, 'socket'))\n"
                        "local bin = string.dump(function() return 1 end)\n"
                        "local f, err = load(bin)\n"
                        "assert(f == nil and err:find('binary'), err)\n"
                        "assert(load('return 2')() == 2)\n"
                        "local des = require 'des'\n"
                        "assert(des.resource and des.monitor)\n",
                        0),
           DES_OK);
  /* binary chunks are refused by the loader too */
  CHECK_RC(h, des_load_string(h, "\x1bLua", "=bin"), DES_ESYNTAX);
  CHECK(CONTAINS(des_last_error(h), "binary"));
  /* a model still simulates with the library */
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "local r = des.resource(1)\n"
                           "for i = 1, 3 do des.spawn(function()\n"
                           "  local _ <close> = r:acquire(); des.sleep(1)\n"
                           "end) end\n",
                           "=sandboxed"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(des_now(h) == 3000000000);
  des_host_free(h);
}

/* }================================================================== */

/* {==================================================================
** Several hosts, allocators, tracing, freeing with suspended tasks
** =================================================================== */

typedef struct counting {
  long long bytes;
  long allocs;
} counting;

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  counting *c = ud;
  if (ptr == NULL)
    osize = 0;
  c->bytes += (long long)nsize - (long long)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  c->allocs++;
  return realloc(ptr, nsize);
}

static void test_two_hosts_and_allocator(void) {
  des_config cfg;
  des_host *a = NULL, *b = NULL;
  counting ca = {0, 0}, cb = {0, 0};
  const char *model = "local des = require 'des'\n"
                      "local r = des.rng()\n"
                      "sum = 0\n"
                      "for i = 1, 100 do des.sleep(r:exponential(1)); "
                      "sum = sum + des.now() end\n";
  double sa = 0, sb = 0, sa2 = 0;
  des_config_init(&cfg);
  cfg.allocf = counting_alloc;
  cfg.allocud = &ca;
  cfg.seed = 1;
  CHECK_RC(a, des_host_new(&a, &cfg), DES_OK);
  cfg.allocud = &cb;
  cfg.seed = 2;
  CHECK_RC(b, des_host_new(&b, &cfg), DES_OK);
  CHECK_RC(a, des_load_string(a, model, "=a"), DES_OK);
  CHECK_RC(b, des_load_string(b, model, "=b"), DES_OK);
  while (des_step(a) == DES_OK && des_step(b) == DES_OK) /* interleaved */
    ;
  CHECK_RC(a, des_run(a), DES_OK);
  CHECK_RC(b, des_run(b), DES_OK);
  sa = global_number(a, "sum");
  sb = global_number(b, "sum");
  CHECK(sa != sb && des_now(a) != des_now(b));
  CHECK(ca.allocs > 0 && cb.allocs > 0);
  /* the host's own record and message are not counted as the model's */
  CHECK((size_t)ca.bytes >= des_memory(a) &&
        (size_t)ca.bytes - des_memory(a) < 4096);
  des_host_free(a);
  des_host_free(b);
  CHECK(ca.bytes == 0 && cb.bytes == 0);
  /* the same seed replays the same run */
  cfg.allocud = &ca;
  cfg.seed = 1;
  CHECK_RC(a, des_host_new(&a, &cfg), DES_OK);
  CHECK_RC(a, des_load_string(a, model, "=a"), DES_OK);
  CHECK_RC(a, des_run(a), DES_OK);
  sa2 = global_number(a, "sum");
  CHECK(sa2 == sa);
  des_host_free(a);
}

static void collect_line(void *ctx, const char *line) {
  int *n = ctx;
  if (strstr(line, "timer task 'main'") != NULL)
    (*n)++;
}

/* A stream from C gives the model's numbers for the same name. */
static void test_random_streams(void) {
  des_host *h = new_host_with(WITH_SEED, 42);
  des_rng *a, *b;
  double xs[3];
  int i;
  a = des_rng_new(h, "arrivals");
  b = des_rng_new(h, NULL);
  CHECK(a != NULL && b != NULL);
  CHECK_RC(h,
           des_dostring(h,
                        "local r = require('des').rng('arrivals')\n"
                        "return r:exponential(2), r:gamma(3, 1), "
                        "require('des').rng():uniform(0, 1)",
                        3),
           DES_OK);
  for (i = 0; i < 3; i++)
    xs[i] = lua_tonumber(des_lua(h), i + 1);
  lua_settop(des_lua(h), 0);
  CHECK(des_rng_exponential(a, 2) == xs[0]);
  CHECK(des_rng_gamma(a, 3, 1) == xs[1]);
  CHECK(des_rng_uniform(b, 0, 1) == xs[2]);
  {
    int64_t k = des_rng_poisson(a, 4);
    double d[] = {1, 2, 3};
    double e = des_rng_empirical(a, d, 3, 1);
    CHECK(k >= 0 && e >= 1 && e <= 3);
  }
  des_rng_free(h, a);
  des_rng_free(h, b);
  des_host_free(h);
}

static void test_trace_and_shuffle(void) {
  des_host *h = new_host();
  int lines = 0;
  CHECK_RC(h, des_set_trace(h, collect_line, &lines), DES_OK);
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "for i = 1, 5 do des.sleep(1) end\n",
                           NULL),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(lines == 5);
  CHECK_RC(h, des_set_trace(h, NULL, NULL), DES_OK);
  des_shuffle_ties(h, 1, 3);
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "order = ''\n"
                           "for i = 1, 9 do des.spawn(function() "
                           "order = order .. i end) end\n",
                           NULL),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(lines == 5);
  CHECK_RC(h, des_dostring(h, "return order", 1), DES_OK);
  CHECK(strlen(lua_tostring(des_lua(h), -1)) == 9);
  CHECK(strcmp(lua_tostring(des_lua(h), -1), "123456789") != 0);
  lua_pop(des_lua(h), 1);
  des_host_free(h);
}

static void test_free_with_suspended_tasks(void) {
  des_host *h = new_host();
  link l;
  memset(&l, 0, sizeof(l));
  l.order_ok = 1;
  des_component_add(h, "link", link_handler, &l);
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "local ev = des.event()\n"
                           "for i = 1, 100 do des.spawn(function()\n"
                           "  if i % 2 == 0 then ev:wait() else "
                           "des.sleep(i) end\n"
                           "end) end\n"
                           "des.spawn(function() "
                           "des.component('link'):call(99, 1) end)\n"
                           "des.sleep(1000)\n",
                           NULL),
           DES_OK);
  CHECK_RC(h, des_run_until(h, 5000000000), DES_OK);
  CHECK(des_pending(h) > 0);
  des_host_free(h); /* LeakSanitizer: nothing left */
}

/* An allocator that refuses the next `fail_next` growths (armed from Lua
** by arm(n)): for the error paths of the runtime itself. */
static int fail_next;

static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  if (fail_next > 0 && nsize > (ptr != NULL ? osize : 0)) {
    fail_next--;
    return NULL;
  }
  return realloc(ptr, nsize);
}

static int arm_failures(lua_State *L) {
  fail_next = (int)luaL_checkinteger(L, 1);
  return 0;
}

/* A task whose end cannot be recorded (out of memory while its results
** are kept) still ends, FAILED: never left "running", so cancel, join and
** the next runs work. Every count of refusals, at several points. */
static void test_task_end_out_of_memory(void) {
  int n;
  for (n = 0; n < 12; n++) {
    des_config cfg;
    des_host *h = NULL;
    char model[256];
    des_config_init(&cfg);
    cfg.allocf = failing_alloc;
    CHECK_RC(h, des_host_new(&h, &cfg), DES_OK);
    CHECK_RC(h, des_register(h, "arm", arm_failures), DES_OK);
    snprintf(model, sizeof(model),
             "local des = require 'des'\n"
             "T = des.spawn{name = 'r', function() des.sleep(1)%s\n"
             "  arm(%d); return 1, 2, 3 end}\n"
             "des.sleep(2)\n",
             n >= 4 ? "; local x = {}" : "", 2 + n % 4);
    CHECK_RC(h, des_load_string(h, model, "=m"), DES_OK);
    CHECK(des_run(h) != DES_OK);
    fail_next = 0;
    CHECK_RC(h, des_dostring(h, "T:cancel(); return T.status", 1), DES_OK);
    CHECK(strcmp(lua_tostring(des_lua(h), -1), "failed") == 0);
    lua_pop(des_lua(h), 1);
    CHECK_RC(
        h,
        des_load_string(h, "local des = require 'des'; des.sleep(1)", "=again"),
        DES_OK);
    CHECK_RC(h, des_run(h), DES_OK);
    des_host_free(h);
  }
}

/* }================================================================== */

int main(void) {
  test_config_and_errors();
  test_load_and_step();
  test_load_errors();
  test_lua_bridge();
  test_component_pingpong();
  test_component_events();
  test_component_calls();
  test_memory_limit();
  test_budget();
  test_interrupt();
  test_sandbox();
  test_two_hosts_and_allocator();
  test_random_streams();
  test_trace_and_shuffle();
  test_free_with_suspended_tasks();
  test_task_end_out_of_memory();
  if (failures != 0) {
    fprintf(stderr, "test_host: %d check(s) failed\n", failures);
    return 1;
  }
  printf("test_host: all checks passed\n");
  return 0;
}
