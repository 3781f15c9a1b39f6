/*
** hsandbox.c -- the libraries of a sandboxed host.
*/
#include "hostint.h"

#include <lualib.h>

/* The libraries of a sandbox: what computes, nothing that touches files,
** processes, the host's memory or native code. */
void host_open_sandbox(lua_State *L) {
  static const luaL_Reg libs[] = {
      {LUA_GNAME, luaopen_base},          {LUA_LOADLIBNAME, luaopen_package},
      {LUA_COLIBNAME, luaopen_coroutine}, {LUA_TABLIBNAME, luaopen_table},
      {LUA_STRLIBNAME, luaopen_string},   {LUA_MATHLIBNAME, luaopen_math},
      {LUA_UTF8LIBNAME, luaopen_utf8},    {NULL, NULL}};
  const luaL_Reg *lib;
  for (lib = libs; lib->func != NULL; lib++) {
    luaL_requiref(L, lib->name, lib->func, 1);
    lua_pop(L, 1);
  }
  /* no file loading, no binary chunks: load() takes text only */
  if (luaL_dostring(L,
                    "local load = load\n"
                    "_G.load = function(chunk, name, _, env)\n"
                    "  return load(chunk, name, 't', env)\n"
                    "end\n"
                    "_G.dofile, _G.loadfile = nil, nil\n"
                    "package.loadlib, package.path, package.cpath = "
                    "nil, '', ''\n"
                    "package.searchers = { package.searchers[1] }\n") != LUA_OK)
    lua_error(L);
}
