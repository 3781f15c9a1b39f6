/*
** test_host_sched.c -- Lua functions scheduled from C (des_call_at,
** des_call_cancel, issue 19): they run at their time outside any task,
** with their arguments, in FIFO order with the model's own calls; a
** cancelled one never runs; bad arguments and errors are reported.
*/
#include "test_host.h"

/* Push the global function `name` of the host's model. */
static void push_global(des_host *h, const char *name) {
  lua_getglobal(des_lua(h), name);
}

static void test_call_at(void) {
  des_host *h = new_host();
  lua_State *L = des_lua(h);
  des_handle a = 0, b = 0, c = 0;
  int top;
  CHECK_RC(h,
           des_dostring(h,
                        "local des = require 'des'\n"
                        "LOG = ''\n"
                        "function put(x, y)\n"
                        "  LOG = LOG .. x .. (y or '') .. '@' .. des.now()\n"
                        "    .. (des.self() and 'T' or '') .. ' '\n"
                        "end\n"
                        "function boom() error('bad call') end\n"
                        "function sleepy() des.sleep(1) end\n"
                        "des.at(2, put, 'lua')\n",
                        0),
           DES_OK);
  top = lua_gettop(L);
  push_global(h, "put");
  lua_pushstring(L, "c1");
  lua_pushstring(L, "!");
  CHECK_RC(h, des_call_at(h, 2 * des_resolution(h), 2, &a), DES_OK);
  CHECK(a != 0);
  push_global(h, "put");
  lua_pushstring(L, "c2");
  CHECK_RC(h, des_call_at(h, des_resolution(h), 1, &b), DES_OK);
  push_global(h, "put");
  lua_pushstring(L, "never");
  CHECK_RC(h, des_call_at(h, des_resolution(h), 1, &c), DES_OK);
  CHECK(lua_gettop(L) == top); /* everything popped */
  CHECK_RC(h, des_call_cancel(h, c), DES_OK);
  CHECK_RC(h, des_call_cancel(h, c), DES_ESTALE);
  CHECK_RC(h, des_call_cancel(h, 0), DES_ESTALE);
  CHECK_RC(h, des_call_cancel(h, 12345), DES_ESTALE);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK_RC(h, des_call_cancel(h, a), DES_ESTALE); /* already called */
  CHECK_RC(h, des_dostring(h, "return LOG", 1), DES_OK);
  CHECK(lua_isstring(L, -1) &&
        strcmp(lua_tostring(L, -1), "c2@1.0 lua@2.0 c1!@2.0 ") == 0);
  if (lua_isstring(L, -1) &&
      strcmp(lua_tostring(L, -1), "c2@1.0 lua@2.0 c1!@2.0 ") != 0)
    fprintf(stderr, "  LOG = %s\n", lua_tostring(L, -1));
  lua_settop(L, top);

  /* bad arguments: a past time, no function, too few values */
  push_global(h, "put");
  CHECK_RC(h, des_call_at(h, 0, 0, NULL), DES_EINVAL);
  CHECK(CONTAINS(des_last_error(h), "before the current time"));
  lua_pushinteger(L, 7);
  CHECK_RC(h, des_call_at(h, des_now(h), 0, NULL), DES_EINVAL);
  CHECK(CONTAINS(des_last_error(h), "no function"));
  lua_settop(L, top);
  CHECK_RC(h, des_call_at(h, des_now(h), 3, NULL), DES_EINVAL);
  CHECK_RC(h, des_call_at(h, des_now(h), -1, NULL), DES_EINVAL);
  CHECK(des_call_at(NULL, 0, 0, NULL) == DES_EINVAL);
  CHECK(des_call_cancel(NULL, 1) == DES_EINVAL);

  /* an error, and a suspension, stop the run with a clear message */
  push_global(h, "boom");
  CHECK_RC(h, des_call_at(h, des_now(h) + 1, 0, NULL), DES_OK);
  CHECK_RC(h, des_run(h), DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "scheduled function failed at t="));
  CHECK(CONTAINS(des_last_error(h), "bad call"));
  push_global(h, "sleepy");
  CHECK_RC(h, des_call_at(h, des_now(h) + 1, 0, NULL), DES_OK);
  CHECK_RC(h, des_run(h), DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "runs outside any task"));
  lua_settop(L, top);
  des_host_free(h);
}

/* A host freed with calls pending: nothing runs, nothing leaks (ASan). */
static void test_free_pending(void) {
  des_host *h = new_host();
  lua_State *L = des_lua(h);
  int i;
  CHECK_RC(h, des_dostring(h, "function f(t) return t end", 0), DES_OK);
  for (i = 0; i < 100; i++) {
    lua_getglobal(L, "f");
    lua_newtable(L);
    CHECK_RC(h, des_call_at(h, des_now(h) + i, 1, NULL), DES_OK);
  }
  CHECK(des_pending(h) >= 100);
  des_host_free(h);
}

/* stop_host(): des_stop on the host in its upvalue, as a Ctrl-C would. */
static int stop_host(lua_State *L) {
  des_stop(lua_touserdata(L, lua_upvalueindex(1)));
  return 0;
}

/* A stop request to the host between two scheduled calls due at the same
** time (which lsched.c handles in one protected call): the run ends right
** after the call that asked, for the host's simulation and for a sim:run
** of another one; the calls left run on the next run. */
static void test_stop_between_calls(void) {
  des_host *h = new_host();
  lua_State *L = des_lua(h);
  lua_pushlightuserdata(L, h);
  lua_pushcclosure(L, stop_host, 1);
  lua_setglobal(L, "stop_host");
  CHECK_RC(h,
           des_dostring(h,
                        "local des = require 'des'\n"
                        "LOG = ''\n"
                        "local function put(x) LOG = LOG .. x end\n"
                        "for i = 1, 3 do\n"
                        "  des.at(1, put, 'a' .. i)\n"
                        "  if i == 2 then des.at(1, stop_host) end\n"
                        "end\n"
                        "des.at(2, put, 'z')\n",
                        0),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_STOPPED);
  CHECK_RC(h, des_dostring(h, "return LOG", 1), DES_OK);
  CHECK(lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "a1a2") == 0);
  lua_pop(L, 1);
  CHECK(des_pending(h) == 2);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK_RC(h, des_dostring(h, "return LOG", 1), DES_OK);
  CHECK(lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "a1a2a3z") == 0);
  lua_pop(L, 1);
  /* another simulation, run from Lua: its run raises the stop */
  CHECK_RC(h,
           des_dostring(h,
                        "local des = require 'des'\n"
                        "local sim, log = des.new(), ''\n"
                        "for i = 1, 3 do\n"
                        "  sim:at(1, function() log = log .. i end)\n"
                        "  if i == 2 then sim:at(1, stop_host) end\n"
                        "end\n"
                        "local ok, e = pcall(sim.run, sim)\n"
                        "return log .. ' ' .. tostring(e) .. ' ' .. "
                        "sim:pending()\n",
                        1),
           DES_OK);
  CHECK(lua_isstring(L, -1) && strncmp(lua_tostring(L, -1), "12 ", 3) == 0 &&
        strstr(lua_tostring(L, -1), "stop request") != NULL &&
        lua_tostring(L, -1)[strlen(lua_tostring(L, -1)) - 1] == '1');
  lua_pop(L, 1);
  des_host_free(h);
}

int main(void) {
  test_call_at();
  test_free_pending();
  test_stop_between_calls();
  return test_host_report("test_host_sched");
}
