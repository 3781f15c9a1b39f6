/*
** fuzz_runtime.c -- libFuzzer harness for the task runtime through its Lua
** API: the bytes drive fuzz_runtime.lua (spawn, sleep, events, any/all,
** join, cancel, interrupt, and the hostile classes: coroutines over task
** threads, finalizers calling des, sim:close at random points, swapped
** globals, nested any/all, hostile error objects) in a fresh state; an
** invariant broken there, a crash or a leak (LeakSanitizer at exit) is a
** find.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ldes.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FUZZ_RUNTIME_SKIP: hostile classes to leave out ("gc,coroutine"), to
** keep fuzzing the others once a class has a saved find. */
static const char *runtime_skip = "";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  const char *skip = getenv("FUZZ_RUNTIME_SKIP");
  (void)argc;
  (void)argv;
  if (skip != NULL) {
    runtime_skip = skip;
    fprintf(stderr, "fuzz_runtime: leaving out %s\n", skip);
  }
  return 0;
}

/* A count hook: stop runaway inputs (the interpreter itself is bounded). */
static void fuzz_budget(lua_State *L, lua_Debug *ar) {
  (void)ar;
  luaL_error(L, "instruction budget exhausted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  /* des loads when the script requires it, after it may swap globals */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_des);
  lua_setfield(L, -2, "des");
  lua_pop(L, 1);
  lua_sethook(L, fuzz_budget, LUA_MASKCOUNT, 10000000);
  if (luaL_loadfile(L, FUZZ_RUNTIME_LUA) != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    abort();
  }
  lua_pushlstring(L, (const char *)data, size);
  lua_pushstring(L, runtime_skip);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL || strstr(msg, "instruction budget") == NULL) {
      fprintf(stderr, "fuzz_runtime: %s\n", msg ? msg : "(error object)");
      abort();
    }
  }
  lua_close(L);
  return 0;
}
