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

int main(void) {
  test_sandbox();
  test_sandbox_ignores_lua_path();
  return test_host_report("test_host_sandbox");
}
