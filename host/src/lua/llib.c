/*
** llib.c -- the Lua library (the files of lua/des, embedded) and what it runs
** against: a private environment captured when `des` loads.
**
** A model can replace any global (table.sort, require, pairs, string,
** setmetatable...) or a field of the des module, before or after a library
** module is first used (des.store, des.monitor are loaded lazily). So the
** library never sees the model's globals: each of its chunks runs with an
** _ENV made in luaopen_des from the globals as they were then (under
** deshost, before any model code), in which `require` is a private loader
** of the embedded modules and `require "des"` gives a copy of the module
** table taken at load. The model's own `require "des.store"` (through
** package.preload) and `des.store` get the same instances.
**
** Registry: the table of loaded library modules (name -> module) under
** &llib_loaded_key; the environment is the private require's upvalue.
*/
#include "ldes.h"

static const char llib_loaded_key = 'l';

/* The base functions the library may call, taken from the globals. */
static const char *const llib_base[] = {
    "assert",   "error",    "getmetatable", "ipairs", "load",
    "next",     "pairs",    "pcall",        "print",  "rawequal",
    "rawget",   "rawlen",   "rawset",       "select", "setmetatable",
    "tonumber", "tostring", "type",         "xpcall", NULL};

/* The library tables it may use, each copied field by field (so that
** replacing string.format later does not reach it). io, os and debug are
** absent in a sandbox: the library then finds them nil. */
static const char *const llib_tables[] = {
    "string", "table", "math", "utf8", "coroutine", "io", "os", "debug", NULL};

/* Push a raw shallow copy of the table at idx. */
static void push_copy(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
}

/* The embedded module `name`, or -1. */
static int llib_find(const char *name) {
  int i;
  for (i = 0; ldes_lualib[i].module != NULL; i++)
    if (strcmp(ldes_lualib[i].module, name) == 0)
      return i;
  return -1;
}

/* The library's require(name) (upvalue 1: its environment): a module
** already loaded, or the embedded one run with that environment. Only
** library modules (and "des") exist for it. */
static int llib_require(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  const ldes_source *s;
  int i;
  lua_settop(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &llib_loaded_key);
  lua_pushvalue(L, 1);
  if (lua_rawget(L, 2) != LUA_TNIL)
    return 1;
  lua_pop(L, 1);
  if ((i = llib_find(name)) < 0)
    return luaL_error(L, "module '%s' not found in the des library", name);
  s = &ldes_lualib[i];
  if (luaL_loadbufferx(L, s->text, s->len, s->chunkname, "t") != LUA_OK)
    return lua_error(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setupvalue(L, -2, 1); /* its _ENV */
  lua_pushvalue(L, 1);
  lua_pushliteral(L, ":preload:");
  lua_call(L, 2, 1);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -2);
  lua_rawset(L, 2);
  return 1;
}

/* Push the library's require. */
static void push_require(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &llib_loaded_key);
  lua_getfield(L, -1, "des"); /* raw: the loaded table has no metatable */
  lua_getmetatable(L, -1);    /* the copy's: __index is the lazy loader */
  lua_getfield(L, -1, "__index");
  lua_getupvalue(L, -1, 1); /* its upvalue: the library's require */
  lua_replace(L, -5);
  lua_pop(L, 3);
}

/* Push the library's instance of module `name` (loading it with the
** library's environment), as the model's require and des.<name> get it:
** the host's parts that call into the library (hpost.c's des.inbox) use
** this, never a copy of their own. Raises if there is no such module. */
void llib_module(lua_State *L, const char *name) {
  push_require(L);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
}

/* __index of the des module (and of the library's copy): des.store ->
** the library module "des.store", kept in the table; nil if none. Upvalue
** 1: the library's require. */
static int llib_lazy_index(lua_State *L) {
  const char *k = luaL_checkstring(L, 2);
  lua_pushfstring(L, "des.%s", k);
  if (llib_find(lua_tostring(L, -1)) < 0)
    return 0;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, -2);
  lua_call(L, 1, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1); /* cache it in the table */
  return 1;
}

/* package.preload loader of a library module: the library's own instance
** (upvalue 1: the library's require). */
static int llib_preload(lua_State *L) {
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

/* Put the loaders into package.preload, when there is a package library,
** without replacing loaders the program set itself. */
static void open_preload(lua_State *L) {
  int i, top = lua_gettop(L);
  lua_pushglobaltable(L);
  if (lua_getfield(L, -1, "package") != LUA_TTABLE ||
      lua_getfield(L, -1, "preload") != LUA_TTABLE) {
    lua_settop(L, top);
    return;
  }
  for (i = 0; ldes_lualib[i].module != NULL; i++) {
    if (lua_getfield(L, -1, ldes_lualib[i].module) == LUA_TNIL) {
      push_require(L);
      lua_pushcclosure(L, llib_preload, 1);
      lua_setfield(L, -3, ldes_lualib[i].module);
    }
    lua_pop(L, 1);
  }
  lua_settop(L, top);
}

/* Build the environment from the globals as they are now; its _G is the
** global table itself, which the library only reads as data (the REPL's
** completions list the model's names). */
static void push_env(lua_State *L) {
  int i, g;
  lua_pushglobaltable(L);
  g = lua_gettop(L);
  lua_newtable(L);
  for (i = 0; llib_base[i] != NULL; i++) {
    lua_pushstring(L, llib_base[i]);
    lua_rawget(L, g);
    lua_setfield(L, -2, llib_base[i]);
  }
  for (i = 0; llib_tables[i] != NULL; i++) {
    lua_pushstring(L, llib_tables[i]);
    if (lua_rawget(L, g) == LUA_TTABLE) {
      push_copy(L, -1);
      lua_setfield(L, -3, llib_tables[i]);
    }
    lua_pop(L, 1);
  }
  lua_pushvalue(L, g); /* _G: the model's globals, as data (completions) */
  lua_setfield(L, -2, "_G");
  lua_remove(L, g);
}

void llib_open(lua_State *L, int mod) {
  mod = lua_absindex(L, mod);
  /* the loaded modules, and the library's require over its environment */
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &llib_loaded_key);
  push_env(L);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, llib_require, 1);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "require");
  /* the library's copy of the module, with the same lazy loading */
  push_copy(L, mod);
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, -3);
  lua_pushcclosure(L, llib_lazy_index, 1);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &llib_loaded_key);
  lua_insert(L, -2);
  lua_setfield(L, -2, "des");
  lua_pop(L, 1);
  /* the module's own lazy loading */
  lua_createtable(L, 0, 1);
  lua_insert(L, -2);
  lua_pushcclosure(L, llib_lazy_index, 1);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, mod);
  lua_pop(L, 1); /* the environment */
  open_preload(L);
}
