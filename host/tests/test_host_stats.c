/*
** test_host_stats.c -- what reports read through deshost.h: the events
** counter (one per handled event, by step and by run) and des_statistics
** (the JSON of every statistic, with series), including a sandboxed model
** that breaks des.monitor: a clear error, nothing pushed, no crash.
*/
#include "test_host.h"

static const char *model = "local des = require 'des'\n"
                           "local srv = des.resource(1, {name = 'srv'})\n"
                           "local q = des.monitor.level('q')\n"
                           "for i = 1, 3 do des.spawn(function()\n"
                           "  local r <close> = srv:acquire(); q:add(1)\n"
                           "  des.sleep(1) end) end\n";

static void test_events_handled(void) {
  des_host *h = new_host();
  uint64_t n;
  CHECK(des_events_handled(h) == 0);
  CHECK_RC(h, des_load_string(h, model, NULL), DES_OK);
  CHECK_RC(h, des_step(h), DES_OK);
  CHECK(des_events_handled(h) == 1);
  CHECK_RC(h, des_step(h), DES_OK);
  CHECK(des_events_handled(h) == 2);
  CHECK_RC(h, des_run(h), DES_OK);
  n = des_events_handled(h);
  CHECK(n > 2);
  CHECK(des_step(h) == DES_EMPTY && des_events_handled(h) == n);
  des_host_free(h);
}

static void test_statistics(void) {
  des_host *h = new_host_with(WITH_SANDBOX, 1);
  lua_State *L = des_lua(h);
  const char *s;
  int top;
  CHECK_RC(h, des_load_string(h, model, NULL), DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  top = lua_gettop(L);
  CHECK_RC(h, des_statistics(h), DES_OK);
  CHECK(lua_gettop(L) == top + 1);
  s = lua_tostring(L, -1);
  CHECK(s != NULL && CONTAINS(s, "{\"dropped\":0,\"statistics\":[{"));
  CHECK(s != NULL && CONTAINS(s, "\"name\":\"srv.queue\""));
  CHECK(s != NULL && CONTAINS(s, "\"name\":\"q\""));
  CHECK(s != NULL && CONTAINS(s, "\"series\":[{\"last\":"));
  lua_pop(L, 1);
  /* a model that breaks the export: an error naming it, nothing pushed */
  CHECK_RC(h, des_dostring(h, "require('des').monitor.report_json = 42", 0),
           DES_OK);
  CHECK(des_statistics(h) < 0);
  CHECK(CONTAINS(des_last_error(h), "report_json"));
  CHECK(lua_gettop(L) == top);
  CHECK_RC(h,
           des_dostring(h,
                        "require('des').monitor.report_json = "
                        "function() return {} end",
                        0),
           DES_OK);
  CHECK(des_statistics(h) < 0 && lua_gettop(L) == top);
  CHECK(CONTAINS(des_last_error(h), "not a string"));
  CHECK_RC(h,
           des_dostring(h,
                        "require('des').monitor.report_json = "
                        "function() error('boom') end",
                        0),
           DES_OK);
  CHECK(des_statistics(h) == DES_EMODEL && lua_gettop(L) == top);
  CHECK(CONTAINS(des_last_error(h), "boom"));
  des_host_free(h);
}

int main(void) {
  test_events_handled();
  test_statistics();
  return test_host_report("test_host_stats");
}
