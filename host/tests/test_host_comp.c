/*
** test_host_comp.c -- C components through deshost.h: events both ways
** with Lua tasks (a 10^5 call ping-pong in exact order), calls that are
** interrupted or cancelled, a handler's own return value given back as it
** is for every int, and a host freed with tasks still suspended
** (LeakSanitizer checks).
*/
#include <limits.h>

#include "test_host.h"

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

/* A handler that returns the value it is given as its payload. */
static int return_data(des_host *h, void *ctx, const des_event *ev) {
  (void)h;
  ++*(int *)ctx;
  return (int)(int32_t)(uint32_t)ev->data;
}

/* deshost.h promises a handler's own return value back from des_step,
** des_run and des_run_until, whatever int it is: values that are also
** internal codes of a lower layer (the wheel's -4, the runtime's old -30,
** -31 and 101, "stopped" 1 and 2) included, with a Lua task pending so
** that the runtime is in the picture, and the host usable afterwards. */
static void test_handler_codes(void) {
  static const int values[] = {
      0,     1,    2,          3,       -1,      -2,          -3,         -4,
      -5,    -6,   -7,         -12,     -13,     -20,         -21,        -22,
      -30,   -31,  -100,       100,     101,     102,         255,        256,
      65535, -255, 1000000007, INT_MAX, INT_MIN, INT_MAX - 1, INT_MIN + 1};
  des_host *h = new_host();
  int calls = 0, id, mode;
  size_t i;
  id = des_component_add(h, "echo", return_data, &calls);
  CHECK(id >= 0);
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "while true do des.sleep(1) end\n",
                           "=forever"),
           DES_OK);
  for (mode = 0; mode < 3; mode++) {
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
      int v = values[i], rc, before = calls;
      des_time now = des_now(h);
      CHECK_RC(h, des_schedule(h, now + 10, id, 1, (uint64_t)(uint32_t)v, NULL),
               DES_OK);
      if (mode == 0) { /* step until the component's event is handled */
        do
          rc = des_step(h);
        while (rc == DES_OK && calls == before);
      } else if (mode == 1) /* run: stops only for a non-zero value */
        rc = v != 0 ? des_run(h) : des_run_until(h, now + 11);
      else
        rc = des_run_until(h, now + 11);
      CHECK(calls == before + 1);
      if (rc != v)
        fprintf(stderr, "  mode %d: handler returned %d, the host said %d\n",
                mode, v, rc);
      CHECK_RC(h, rc, v);
      CHECK(des_now(h) == now + 10 || (v == 0 && des_now(h) == now + 11));
      if (v != 0) {
        CHECK(CONTAINS(des_last_error(h), "handler"));
        CHECK(des_pending(h) >= 1); /* the task's sleep is still there */
      }
    }
  }
  /* the model still runs, and a negative value raises in Lua's sim:run */
  CHECK_RC(h, des_run_until(h, des_now(h) + 5000000000), DES_OK);
  CHECK_RC(h, des_schedule(h, des_now(h), id, 1, (uint64_t)(uint32_t)-31, NULL),
           DES_OK);
  CHECK_RC(h, des_dostring(h, "require('des').default():step()", 0),
           DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "code -31"));
  des_host_free(h);
}

/* A handler that records when its events come. */
static int record_when(des_host *h, void *ctx, const des_event *ev) {
  (void)h;
  *(des_time *)ctx = ev->when;
  return 0;
}

/* comp:send and comp:call with a positive delay below one tick still wait
** one tick (DESIGN "Positive durations advance time"); 0 waits none. */
static void test_component_tiny_delay(void) {
  des_config cfg;
  des_host *h = NULL;
  des_time when = -1;
  des_config_init(&cfg);
  cfg.resolution = 1000;
  CHECK(des_host_new(&h, &cfg) == DES_OK);
  CHECK(des_component_add(h, "rec", record_when, &when) >= 0);
  CHECK_RC(
      h,
      des_dostring(h, "require('des').component('rec'):send(1, 0, 1e-12)", 0),
      DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(when == 1);
  CHECK_RC(h,
           des_dostring(h, "require('des').component('rec'):send(1, 0, 0)", 0),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(when == 1 && des_now(h) == 1);
  des_host_free(h);
}

int main(void) {
  test_component_pingpong();
  test_component_events();
  test_component_calls();
  test_free_with_suspended_tasks();
  test_handler_codes();
  test_component_tiny_delay();
  return test_host_report("test_host_comp");
}
