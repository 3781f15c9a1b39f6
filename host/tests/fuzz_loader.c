/*
** fuzz_loader.c -- libFuzzer harness for the model loader: the bytes are a
** model's text, loaded as a chunk (text only) and run as the main task of
** a simulation under an instruction budget and an event budget, as the CLI
** would. Lua errors are fine; a crash, a sanitizer report or a leak is a
** find.
*/
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ldes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void loader_budget(lua_State *L, lua_Debug *ar) {
  (void)ar;
  luaL_error(L, "instruction budget exhausted");
}

/* Protected: load the chunk, spawn it, step the simulation a bounded
** number of times. */
static int loader_run(lua_State *L) {
  size_t size;
  const char *src = lua_tolstring(L, 1, &size);
  int i;
  luaL_requiref(L, "des", luaopen_des, 0);
  if (luaL_loadbufferx(L, src, size, "=fuzz", "t") != LUA_OK)
    return 0; /* a syntax error is a fine outcome */
  lua_getfield(L, -2, "spawn");
  lua_insert(L, -2);
  lua_call(L, 1, 0);
  for (i = 0; i < 10000; i++) {
    lua_getfield(L, -1, "step");
    lua_call(L, 0, 1);
    if (!lua_toboolean(L, -1))
      break;
    lua_pop(L, 1);
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  /* no files, processes or loading from the fuzzed text */
  lua_pushnil(L);
  lua_setglobal(L, "io");
  lua_pushnil(L);
  lua_setglobal(L, "os");
  lua_pushnil(L);
  lua_setglobal(L, "require");
  lua_pushnil(L);
  lua_setglobal(L, "dofile");
  lua_pushnil(L);
  lua_setglobal(L, "loadfile");
  lua_sethook(L, loader_budget, LUA_MASKCOUNT, 1000000);
  lua_pushcfunction(L, loader_run);
  lua_pushlstring(L, (const char *)data, size);
  lua_pcall(L, 1, 0, 0); /* errors are expected outcomes */
  lua_close(L);
  return 0;
}
