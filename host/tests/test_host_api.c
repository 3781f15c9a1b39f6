/*
** test_host_api.c -- deshost.h as people coming from libuv and SQLite use
** it (issue 16, items 12-15): des_caller.task is the Lua task.id; the
** message of des_last_error is the most recent call's; messages name the
** function called and the argument at fault; NULL hosts and NULL required
** pointers give DES_EINVAL (or the zero value), never a crash -- every
** function of the header is called with them.
*/
#include "test_host.h"

/* {====================================================================
** des_caller.task == task.id (item 12)
** ===================================================================== */

typedef struct seen {
  uint64_t tasks[8];
  int n;
} seen;

/* Answers every call at once with the caller's task number. */
static int echo_handler(des_host *h, void *ctx, const des_event *ev) {
  seen *s = ctx;
  if (ev->caller.task != 0 && s->n < 8)
    s->tasks[s->n++] = ev->caller.task;
  if (ev->caller.task != 0)
    return des_wake(h, ev->caller, ev->when, (int64_t)ev->caller.task);
  return 0;
}

static void test_caller_is_task_id(void) {
  des_host *h = new_host();
  seen s;
  memset(&s, 0, sizeof(s));
  CHECK(des_component_add(h, "echo", echo_handler, &s) >= 0);
  /* tasks of serials 2..5 (main is 1); a few end before others call, so
  ** slots are reused: the number must still be the Lua id */
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "local echo = des.component('echo')\n"
                           "BAD = 0\n"
                           "for i = 1, 4 do des.spawn(function()\n"
                           "  des.sleep(i)\n"
                           "  local got = echo:call(1, 0)\n"
                           "  if got ~= des.self().id then BAD = BAD + 1 end\n"
                           "end) end\n"
                           "des.sleep(10)\n"
                           "local late = des.spawn(function()\n"
                           "  LATE = des.self().id\n"
                           "  LATE_GOT = echo:call(1, 0)\n"
                           "end)\n",
                           NULL),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(global_number(h, "BAD") == 0);
  CHECK(global_number(h, "LATE") == 6);
  CHECK(global_number(h, "LATE_GOT") == 6);
  CHECK(s.n == 5 && s.tasks[0] == 2 && s.tasks[3] == 5 && s.tasks[4] == 6);
  des_host_free(h);
}

/* A caller kept past its call, or made up, is stale: never another task's. */
static des_caller kept;
static int keep_handler(des_host *h, void *ctx, const des_event *ev) {
  (void)h;
  (void)ctx;
  if (ev->caller.task != 0)
    kept = ev->caller;
  return 0;
}

static void test_caller_stale(void) {
  des_host *h = new_host();
  des_caller forged;
  int id = des_component_add(h, "keep", keep_handler, NULL);
  CHECK(id >= 0);
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "local t = des.spawn(function()\n"
                           "  des.component('keep'):call(1, 0) end)\n"
                           "des.sleep(1); t:cancel()\n"
                           "des.spawn(function() des.sleep(5) end)\n",
                           NULL),
           DES_OK);
  CHECK_RC(h, des_run_until(h, 2000000000), DES_OK);
  CHECK(kept.task == 2);
  /* the task was cancelled; its slot now holds task 3 */
  CHECK_RC(h, des_wake(h, kept, des_now(h), 1), DES_ESTALE);
  CHECK(CONTAINS(des_last_error(h), "des_wake: call"));
  CHECK(CONTAINS(des_last_error(h), "of task 2 is no longer open"));
  forged = kept;
  forged.task = 3; /* the task in that slot now, but it made no call */
  CHECK_RC(h, des_wake(h, forged, des_now(h), 1), DES_ESTALE);
  forged.call = (uint64_t)1000000 << 32; /* no such slot */
  CHECK_RC(h, des_wake(h, forged, des_now(h), 1), DES_ESTALE);
  forged.task = forged.call = 0;
  CHECK_RC(h, des_wake(h, forged, des_now(h), 1), DES_ESTALE);
  CHECK_RC(h, des_run(h), DES_OK);
  des_host_free(h);
}

/* }==================================================================== */

/* {====================================================================
** des_last_error: the most recent call's message (item 13)
** ===================================================================== */

static void test_last_error_rule(void) {
  des_host *h = new_host();
  double v;
  des_time t;
  CHECK_RC(h, des_eval_number(h, "nosuch.x", &v), DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "nosuch"));
  /* calls that return a value, not a status, leave it */
  (void)des_now(h);
  (void)des_pending(h);
  (void)des_units(h, 5);
  CHECK(CONTAINS(des_last_error(h), "nosuch"));
  /* every call that returns a status and succeeds clears it */
  CHECK_RC(h, des_ticks(h, 1.5, &t), DES_OK);
  CHECK(strcmp(des_last_error(h), "") == 0);
  CHECK_RC(h, des_ticks(h, -1, &t), DES_EINVAL);
  CHECK(CONTAINS(des_last_error(h), "des_ticks: units -1"));
  CHECK_RC(h, des_peek(h, &t), DES_EMPTY);
  CHECK(strcmp(des_last_error(h), "") == 0);
  CHECK_RC(h, des_ticks(h, -1, &t), DES_EINVAL);
  CHECK_RC(h, des_dostring(h, "x = 1", 0), DES_OK);
  CHECK(strcmp(des_last_error(h), "") == 0);
  CHECK_RC(h, des_ticks(h, -1, &t), DES_EINVAL);
  CHECK_RC(h, des_schedule(h, 0, 99, 1, 0, NULL), DES_EINVAL);
  CHECK(CONTAINS(des_last_error(h), "des_schedule: component 99"));
  CHECK_RC(h, des_cancel(h, 12345), DES_ESTALE);
  CHECK(CONTAINS(des_last_error(h), "des_cancel: handle 12345"));
  CHECK_RC(h, des_set_trace(h, NULL, NULL), DES_OK);
  CHECK(strcmp(des_last_error(h), "") == 0);
  des_host_free(h);
}

/* }==================================================================== */

/* {====================================================================
** Messages name the function and the argument (item 14)
** ===================================================================== */

typedef struct nested {
  int rc[3];
  char msg[3][200];
} nested;

/* Tries to step, run and load from inside a handler. */
static int nested_handler(des_host *h, void *ctx, const des_event *ev) {
  nested *n = ctx;
  (void)ev;
  n->rc[0] = des_step(h);
  snprintf(n->msg[0], sizeof(n->msg[0]), "%s", des_last_error(h));
  n->rc[1] = des_run_until(h, des_now(h) + 5);
  snprintf(n->msg[1], sizeof(n->msg[1]), "%s", des_last_error(h));
  n->rc[2] = des_load_file(h, "x.lua", 0, NULL);
  snprintf(n->msg[2], sizeof(n->msg[2]), "%s", des_last_error(h));
  return 0;
}

static void test_messages(void) {
  des_host *h = new_host();
  nested n;
  double v;
  des_time t;
  int id;
  memset(&n, 0, sizeof(n));
  id = des_component_add(h, "nested", nested_handler, &n);
  CHECK(id >= 0);
  CHECK_RC(h, des_schedule(h, 0, id, 1, 0, NULL), DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(n.rc[0] == DES_EBUSY && n.rc[1] == DES_EBUSY && n.rc[2] == DES_EBUSY);
  CHECK(CONTAINS(n.msg[0], "des_step: called from inside a handler"));
  CHECK(CONTAINS(n.msg[1], "des_run_until: called from inside a handler"));
  CHECK(CONTAINS(n.msg[2], "des_load_file: called from inside a handler"));

  CHECK_RC(h, des_eval_number(h, "1", NULL), DES_EINVAL);
  CHECK(strcmp(des_last_error(h), "des_eval_number: out is NULL") == 0);
  CHECK_RC(h, des_eval_number(h, NULL, &v), DES_EINVAL);
  CHECK(strcmp(des_last_error(h), "des_eval_number: expr is NULL") == 0);
  CHECK_RC(h, des_eval_number(h, "'a'", &v), DES_EINVAL);
  CHECK(CONTAINS(des_last_error(h), "des_eval_number: ''a'' is a string"));
  CHECK_RC(h, des_ticks(h, 1, NULL), DES_EINVAL);
  CHECK(strcmp(des_last_error(h), "des_ticks: out is NULL") == 0);
  CHECK_RC(h, des_load_file(h, NULL, 0, NULL), DES_EINVAL);
  CHECK(strcmp(des_last_error(h), "des_load_file: path is NULL") == 0);
  CHECK_RC(h, des_load_file(h, "m.lua", 2, NULL), DES_EINVAL);
  CHECK(CONTAINS(des_last_error(h), "des_load_file: argc is 2 with argv NULL"));
  CHECK_RC(h, des_load_string(h, NULL, NULL), DES_EINVAL);
  CHECK(strcmp(des_last_error(h), "des_load_string: code is NULL") == 0);
  CHECK_RC(h, des_dostring(h, NULL, 0), DES_EINVAL);
  CHECK(strcmp(des_last_error(h), "des_dostring: code is NULL") == 0);
  CHECK_RC(h, des_call(h, NULL, 0, 0), DES_EINVAL);
  CHECK(strcmp(des_last_error(h), "des_call: name is NULL") == 0);
  CHECK_RC(h, des_call(h, "nosuch", 0, 0), DES_ENOTFOUND);
  CHECK(CONTAINS(des_last_error(h), "des_call: no global function 'nosuch'"));
  CHECK_RC(h, des_pcall(h, 3, 0), DES_EINVAL);
  CHECK(CONTAINS(des_last_error(h), "des_pcall: nargs is 3"));
  CHECK_RC(h, des_register(h, "f", NULL), DES_EINVAL);
  CHECK(strcmp(des_last_error(h), "des_register: fn is NULL") == 0);
  CHECK_RC(h, des_register(h, NULL, NULL), DES_EINVAL);
  CHECK(strcmp(des_last_error(h), "des_register: name is NULL") == 0);
  CHECK_RC(h, des_component_add(h, NULL, nested_handler, NULL), DES_EINVAL);
  CHECK(strcmp(des_last_error(h), "des_component_add: name is NULL") == 0);
  CHECK_RC(h, des_component_add(h, "x", NULL, NULL), DES_EINVAL);
  CHECK(strcmp(des_last_error(h), "des_component_add: fn is NULL") == 0);
  CHECK_RC(h, des_tasks(h, NULL, NULL), DES_EINVAL);
  CHECK(strcmp(des_last_error(h), "des_tasks: fn is NULL") == 0);
  CHECK_RC(h, des_run_until(h, -1), DES_EINVAL);
  CHECK(CONTAINS(des_last_error(h), "des_run_until: t is negative"));
  CHECK_RC(h, des_trigger(h, 1, 5), DES_EINVAL);
  CHECK(CONTAINS(des_last_error(h), "des_trigger: nvalues is 5"));
  lua_pushnil(des_lua(h));
  CHECK_RC(h, des_trigger(h, -1, 0), DES_EINVAL);
  CHECK(CONTAINS(des_last_error(h), "des_trigger: idx"));
  lua_settop(des_lua(h), 0);
  CHECK_RC(h, des_schedule(h, -5, id, 1, 0, NULL), DES_EPAST);
  CHECK(CONTAINS(des_last_error(h), "des_schedule: time -5 is before"));
  CHECK_RC(h, des_peek(h, &t), DES_EMPTY);
  des_host_free(h);
}

/* }==================================================================== */

/* {====================================================================
** NULL arguments (item 15): every function of deshost.h
** ===================================================================== */

static int never(des_host *h, void *ctx, const des_event *ev) {
  (void)h;
  (void)ctx;
  (void)ev;
  return 0;
}

static int never_task(void *ctx, const des_task_info *t) {
  (void)ctx;
  (void)t;
  return 0;
}

static void test_null_arguments(void) {
  des_host *h = NULL;
  des_config cfg;
  des_time t = 7;
  double v = 3;
  des_caller c = {0, 0};
  int id;
  /* creating */
  des_config_init(NULL); /* nothing to fill */
  des_config_init(&cfg);
  CHECK(des_host_new(NULL, &cfg) == DES_EINVAL);
  CHECK(des_host_new(&h, NULL) == DES_OK && h != NULL); /* the defaults */
  des_host_free(h);
  des_host_free(NULL);
  /* every call that takes a host, with NULL */
  CHECK(strcmp(des_last_error(NULL), "des_last_error: h is NULL") == 0);
  CHECK(des_load_file(NULL, "m.lua", 0, NULL) == DES_EINVAL);
  CHECK(des_load_string(NULL, "x = 1", NULL) == DES_EINVAL);
  CHECK(des_dostring(NULL, "x = 1", 0) == DES_EINVAL);
  CHECK(des_call(NULL, "f", 0, 0) == DES_EINVAL);
  CHECK(des_pcall(NULL, 0, 0) == DES_EINVAL);
  CHECK(des_eval_number(NULL, "1", &v) == DES_EINVAL && v == 3);
  CHECK(des_step(NULL) == DES_EINVAL);
  CHECK(des_run(NULL) == DES_EINVAL);
  CHECK(des_run_until(NULL, 5) == DES_EINVAL);
  CHECK(des_peek(NULL, &t) == DES_EINVAL && t == 7);
  CHECK(des_now(NULL) == 0);
  CHECK(des_pending(NULL) == 0);
  CHECK(des_events_handled(NULL) == 0);
  CHECK(des_statistics(NULL) == DES_EINVAL);
  CHECK(des_resolution(NULL) == 0);
  CHECK(des_units(NULL, 5) == 0.0);
  CHECK(des_ticks(NULL, 1.0, &t) == DES_EINVAL && t == 7);
  des_stop(NULL);
  des_pause(NULL);
  des_interrupt(NULL);
  des_set_budget(NULL, 5);
  CHECK(des_memory(NULL) == 0);
  CHECK(des_set_trace(NULL, NULL, NULL) == DES_EINVAL);
  des_shuffle_ties(NULL, 1, 5);
  CHECK(des_tasks(NULL, never_task, NULL) == DES_EINVAL);
  CHECK(des_task_thread(NULL, 1) == NULL);
  CHECK(des_component_add(NULL, "c", never, NULL) == DES_EINVAL);
  CHECK(des_schedule(NULL, 0, 0, 1, 0, NULL) == DES_EINVAL);
  CHECK(des_cancel(NULL, 1) == DES_EINVAL);
  CHECK(des_wake(NULL, c, 0, 0) == DES_EINVAL);
  CHECK(des_trigger(NULL, 1, 0) == DES_EINVAL);
  CHECK(des_rng_new(NULL, "x") == NULL);
  des_rng_free(NULL, NULL);
  CHECK(des_lua(NULL) == NULL);
  CHECK(des_host_of(NULL) == NULL);
  CHECK(des_register(NULL, "f", NULL) == DES_EINVAL);
  /* optional pointers stay optional */
  h = new_host();
  CHECK_RC(h, des_peek(h, NULL), DES_EMPTY);
  id = des_component_add(h, "c", never, NULL);
  CHECK(id >= 0);
  CHECK_RC(h, des_schedule(h, 0, id, 1, 0, NULL), DES_OK);
  CHECK_RC(h, des_peek(h, NULL), DES_OK);
  CHECK_RC(h, des_load_string(h, "x = 1", NULL), DES_OK);
  des_rng_free(h, NULL);
  CHECK(des_task_thread(h, 1) == NULL); /* not a task */
  des_host_free(h);
}

/* }==================================================================== */

/* A handler that pauses the run it is in (as a signal handler or another
** thread may), the first time it fires. */
static int pause_handler(des_host *h, void *ctx, const des_event *ev) {
  (void)ctx;
  (void)ev;
  des_pause(h);
  return 0;
}

/* des_pause returns DES_PAUSED without ending the run: no end hooks then;
** the next des_run goes on and the hooks run once, when it is over. */
static void test_pause(void) {
  des_host *h = new_host();
  int comp;
  CHECK_RC(h,
           des_dostring(h,
                        "local des = require \"des\"\nends = 0\n"
                        "des.at_end(function() ends = ends + 1 end)\n"
                        "des.spawn(function() for i = 1, 10 do des.sleep(1) "
                        "end end)\n",
                        0),
           DES_OK);
  comp = des_component_add(h, "pauser", pause_handler, NULL);
  CHECK(comp >= 0);
  CHECK_RC(h, des_schedule(h, 3000000000, comp, 0, 0, NULL), DES_OK);
  CHECK_RC(h, des_run(h), DES_PAUSED);
  CHECK(des_now(h) == 3000000000);
  CHECK(global_number(h, "ends") == 0);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(des_now(h) == 10000000000);
  CHECK(global_number(h, "ends") == 1);
  des_pause(h); /* outside a run: the next run pauses at its start */
  CHECK_RC(h, des_run(h), DES_PAUSED);
  CHECK(global_number(h, "ends") == 1);
  des_host_free(h);
}

int main(void) {
  test_caller_is_task_id();
  test_caller_stale();
  test_last_error_rule();
  test_messages();
  test_null_arguments();
  test_pause();
  return test_host_report("test_host_api");
}
