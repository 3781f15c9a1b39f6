/*
** test_host_sandbox.c -- a sandboxed host through deshost.h: what a
** model can and cannot reach (no file, process or native code access).
*/
#include "test_host.h"

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
  /* no path anywhere: package holds loaded and preload only; require
  ** finds preloaded modules and never a file; load keeps the globals */
  CHECK_RC(h,
           des_dostring(h,
                        "assert(package.path == nil and package.cpath == nil)\n"
                        "assert(package.searchpath == nil)\n"
                        "assert(package.searchers == nil)\n"
                        "assert(load('return print')() == print)\n"
                        "assert(require('des.monitor'))\n",
                        0),
           DES_OK);
  CHECK_RC(h, des_dostring(h, "require 'des.nosuch'", 0), DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "no file access"));
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

/* The embedder's lua_path does not reach a sandbox. */
static void test_sandbox_ignores_lua_path(void) {
  des_config cfg;
  des_host *h = NULL;
  des_config_init(&cfg);
  cfg.sandbox = 1;
  cfg.lua_path = "/tmp/?.lua";
  CHECK(des_host_new(&h, &cfg) == DES_OK && h != NULL);
  CHECK_RC(h, des_dostring(h, "assert(package.path == nil)", 0), DES_OK);
  des_host_free(h);
}

/* des_nondet_calls callback: add "call=count;" to the buffer at ctx. */
static int note_call(void *ctx, const char *call, uint64_t count) {
  char *buf = ctx;
  size_t n = strlen(buf);
  snprintf(buf + n, 512 - n, "%s=%llu;", call, (unsigned long long)count);
  return 0;
}

/* A host whose strict setting is `mode`, sandboxed or not. */
static des_host *strict_host(int mode, int sandbox) {
  des_config cfg;
  des_host *h = NULL;
  des_config_init(&cfg);
  cfg.strict = mode;
  cfg.sandbox = sandbox;
  CHECK(des_host_new(&h, &cfg) == DES_OK && h != NULL);
  return h;
}

/* des_config.strict: the calls that cannot repeat raise inside a run and
** while a chunk loads, name the call and why; the same calls with what
** makes them repeat (a time, a __tostring) pass; code the embedder runs
** between runs (des_pcall: the REPL's display) is not the model's. */
static void test_strict(void) {
  static const char *const refused[] = {
      "os.clock()",         "os.time()",
      "os.date('%Y')",      "collectgarbage('count')",
      "tostring({})",       "print(print)",
      "('%s'):format({})",  "string.format('%5p', 'x')",
      "tostring(io.stdout)"};
  static const char *const allowed[] = {
      "assert(os.time{year = 2020, month = 1, day = 1} > 0)",
      "assert(os.date('%Y', 0))",
      "collectgarbage('step'); collectgarbage()",
      "assert(tostring(1) == '1' and tostring('a') == 'a')",
      ("assert(tostring(setmetatable({}, {__tostring = function() "
       "return 'x' end})) == 'x')"),
      "assert(string.format('%d %s %%p %5.1f', 1, 'a', 2) == '1 a %p   2.0')",
      "assert(tostring(require('des').event()):find('event'))",
      "assert(debug.getupvalue(os.clock, 1) == nil)"};
  char calls[512] = "";
  size_t i;
  des_host *h = strict_host(DES_STRICT_ON, 0);
  lua_State *L = des_lua(h);
  for (i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
    CHECK_RC(h, des_dostring(h, refused[i], 0), DES_EMODEL);
    CHECK(CONTAINS(des_last_error(h), "a run that uses it cannot be "
                                      "reproduced (--strict"));
  }
  CHECK(CONTAINS(des_last_error(h), "tostring of a file handle shows"));
  for (i = 0; i < sizeof(allowed) / sizeof(*allowed); i++)
    CHECK_RC(h, des_dostring(h, allowed[i], 0), DES_OK);
  /* inside a run: a task, and a nested simulation's */
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "des.sleep(1)\n"
                           "local s = des.new{}\n"
                           "s:spawn(function() des.sleep(2); os.clock() end)\n"
                           "s:run()\n",
                           "=inner"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "inner:4: os.clock() reads the "
                                    "processor clock"));
  /* between runs, the embedder's own Lua: not the model's computation */
  lua_getglobal(L, "tostring");
  lua_newtable(L);
  CHECK_RC(h, des_pcall(h, 1, 1), DES_OK);
  CHECK(CONTAINS(lua_tostring(L, -1), "table: "));
  lua_pop(L, 1);
  CHECK_RC(h, des_nondet_calls(h, note_call, calls), DES_OK);
  CHECK(CONTAINS(calls, "os.time()=1;"));
  CHECK(CONTAINS(calls, "os.clock()=2;"));
  CHECK(CONTAINS(calls, "tostring of an object (its address)=2;"));
  CHECK_RC(h, des_nondet_calls(h, NULL, NULL), DES_EINVAL);
  des_host_free(h);
  /* the sandbox: no os, the rest as outside */
  h = strict_host(DES_STRICT_ON, 1);
  CHECK_RC(h, des_dostring(h, "return tostring(function() end)", 0),
           DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "tostring of a function shows"));
  CHECK_RC(h, des_dostring(h, "return collectgarbage('count')", 0), DES_EMODEL);
  des_host_free(h);
  /* DES_STRICT_COUNT counts, raises nothing; without strict, neither */
  h = strict_host(DES_STRICT_COUNT, 0);
  CHECK_RC(h,
           des_dostring(h,
                        "os.clock(); os.clock(); ('%p'):format('x')\n"
                        "for _ in pairs({[{}] = 1, [print] = 2, a = 3}) do "
                        "end\n"
                        "for _ in next, {x = 1, 2} do end\n",
                        0),
           DES_OK);
  calls[0] = '\0';
  CHECK_RC(h, des_nondet_calls(h, note_call, calls), DES_OK);
  CHECK(strcmp(calls, "os.clock()=2;string.format of an address (%p, or %s "
                      "of an object)=1;pairs/next visiting a key that is an "
                      "object (address order)=2;") == 0);
  des_host_free(h);
  h = strict_host(DES_STRICT_OFF, 0);
  CHECK_RC(h, des_dostring(h, "os.clock(); tostring({})", 0), DES_OK);
  calls[0] = '\0';
  CHECK_RC(h, des_nondet_calls(h, note_call, calls), DES_OK);
  CHECK(calls[0] == '\0');
  des_host_free(h);
}

int main(void) {
  test_sandbox();
  test_strict();
  test_sandbox_ignores_lua_path();
  return test_host_report("test_host_sandbox");
}
