/*
** hsandbox.c -- the libraries of a sandboxed host: an allow-list.
**
** A sandboxed model computes and simulates; it cannot open, stat or probe
** a path, start a process, load native code or binary chunks, or reach
** the debug library. docs/bad-inputs.md ("Sandbox and limits") lists
** every global of Lua 5.4 with what the sandbox does with it; the tests
** are host/tests/test_host_sandbox.c and spec/sandbox_spec.lua.
**
**   opened as they are: base (less dofile, loadfile; load and require
**     replaced, below), coroutine, table, string, math, utf8
**   not opened: io, os, debug, and the package library: no searchers,
**     no path, cpath, searchpath or loadlib. `package` is a plain table
**     holding only `loaded` and `preload` (the registry's own tables).
**   require: package.loaded, then package.preload (where the des library
**     is), and nothing else: never a file.
**   load: text chunks only; with no env argument a chunk gets the
**     sandbox's globals, as in stock Lua.
*/
#include "hostint.h"

#include <string.h>

#include <lualib.h>

/* require(name) over package.loaded and package.preload only (the
** registry's tables, whatever the model did to the global `package`). */
static int sandbox_require(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_settop(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE); /* 2 */
  lua_getfield(L, 2, name);
  if (lua_toboolean(L, -1))
    return 1; /* already loaded */
  lua_pop(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE); /* 3 */
  if (lua_getfield(L, 3, name) == LUA_TNIL)
    return luaL_error(L,
                      "module '%s' not found: a sandboxed model has no file "
                      "access (only preloaded modules such as the des "
                      "library can be required)",
                      name);
  lua_pushvalue(L, 1);
  lua_pushliteral(L, ":preload:");
  lua_call(L, 2, 1); /* loader(name, ":preload:") */
  if (!lua_isnil(L, -1))
    lua_setfield(L, 2, name);
  else
    lua_pop(L, 1);
  if (lua_getfield(L, 2, name) == LUA_TNIL) { /* no value: true, as Lua */
    lua_pushboolean(L, 1);
    lua_copy(L, -1, -2);
    lua_setfield(L, 2, name);
  }
  lua_pushliteral(L, ":preload:");
  return 2;
}

/* load(chunk [, chunkname [, mode [, env]]]) with the mode forced to text
** (upvalue 1: the base library's load). A missing env leaves the chunk
** the globals, as stock Lua; an explicit nil gives it none, as stock. */
static int sandbox_load(lua_State *L) {
  int n = lua_gettop(L);
  if (n < 1)
    n = 1;
  if (n < 3)
    n = 3;
  lua_settop(L, n);
  if (!lua_isnoneornil(L, 3) && strchr(luaL_checkstring(L, 3), 't') == NULL) {
    luaL_pushfail(L); /* as stock load with mode "b" on a text chunk */
    lua_pushliteral(L, "a sandbox loads text chunks only (mode must "
                       "include 't')");
    return 2;
  }
  lua_pushliteral(L, "t");
  lua_replace(L, 3);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

/* The sandbox's globals: see the allow-list above. */
void host_open_sandbox(lua_State *L) {
  static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                  {LUA_COLIBNAME, luaopen_coroutine},
                                  {LUA_TABLIBNAME, luaopen_table},
                                  {LUA_STRLIBNAME, luaopen_string},
                                  {LUA_MATHLIBNAME, luaopen_math},
                                  {LUA_UTF8LIBNAME, luaopen_utf8},
                                  {NULL, NULL}};
  static const char *const removed[] = {"dofile", "loadfile", NULL};
  const luaL_Reg *lib;
  const char *const *name;
  for (lib = libs; lib->func != NULL; lib++) {
    luaL_requiref(L, lib->name, lib->func, 1);
    lua_pop(L, 1);
  }
  for (name = removed; *name != NULL; name++) {
    lua_pushnil(L);
    lua_setglobal(L, *name);
  }
  lua_getglobal(L, "load");
  lua_pushcclosure(L, sandbox_load, 1);
  lua_setglobal(L, "load");
  lua_pushcfunction(L, sandbox_require);
  lua_setglobal(L, "require");
  /* package: loaded and preload, nothing that names a path */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_createtable(L, 0, 2);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "loaded");
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_setfield(L, -2, "preload");
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, LUA_LOADLIBNAME); /* package.loaded.package */
  lua_setglobal(L, LUA_LOADLIBNAME);
  lua_pop(L, 1);
}
