/*
** fuzz_runtime.c -- libFuzzer harness for the task runtime through its Lua
** API: the bytes drive fuzz_runtime.lua (spawn, sleep, events, any/all,
** join, cancel, interrupt) in a fresh state; an invariant broken there, a
** crash or a leak (LeakSanitizer at exit) is a find.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ldes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A count hook: stop runaway inputs (the interpreter itself is bounded). */
static void fuzz_budget(lua_State *L, lua_Debug *ar) {
  (void)ar;
  luaL_error(L, "instruction budget exhausted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "des", luaopen_des, 0);
  lua_pop(L, 1);
  lua_sethook(L, fuzz_budget, LUA_MASKCOUNT, 10000000);
  if (luaL_loadfile(L, FUZZ_RUNTIME_LUA) != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    abort();
  }
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL || strstr(msg, "instruction budget") == NULL) {
      fprintf(stderr, "fuzz_runtime: %s\n", msg ? msg : "(error object)");
      abort();
    }
  }
  lua_close(L);
  return 0;
}
