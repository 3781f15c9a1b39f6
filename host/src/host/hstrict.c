/*
** hstrict.c -- the calls whose results cannot repeat from run to run
** (des_config.strict, deshost --strict; docs/lua-api.md "Reproducibility").
**
**   os.time()               the wall clock (os.time{...} of a date is fine)
**   os.clock()              the processor clock
**   os.date(fmt)            the wall clock (os.date(fmt, t) is fine)
**   collectgarbage("count") the memory in use
**   tostring(v), print(v)   of a table, function, thread or userdata with no
**                           __tostring of its own: its address
**   string.format           %p, or %s of such a value: an address
**   pairs / next            a key that is an object comes in the order of
**                           its address: counted only, never refused (a
**                           set of objects summed in any order is fine)
**
** The host wraps each (in place: the `os`, `string` and base tables, so
** package.loaded and the string methods see the wrappers too), after the
** des library loaded. A wrapper notes a call that cannot repeat when it
** is made inside a run of any simulation of the host, or while a model or
** chunk loads (des_load_*, des_dostring): code that the host runs for its
** embedder between runs, such as the REPL printing a value, is not the
** model's computation. DES_STRICT_ON raises an error naming the call and
** why; DES_STRICT_COUNT counts (des_nondet_calls), for the determinism
** checker's report. The originals are C functions without upvalues, kept
** in the host (not in upvalues or the registry, out of the model's reach)
** and called in the wrapper's own frame, so that their argument errors
** name the function as the model called it ("bad argument #1 to
** 'tostring'").
*/
#include "hostint.h"

#include <string.h>

/* The calls, as des_nondet_calls names them, and why each cannot repeat. */
static const struct {
  const char *lib, *field; /* where the function lives (NULL: globals) */
  const char *call, *why;  /* why == NULL: counted, never refused */
} strict_calls[HOST_NONDET_N] = {
    {"os", "time", "os.time()", "reads the wall clock"},
    {"os", "clock", "os.clock()", "reads the processor clock"},
    {"os", "date", "os.date() without a time", "reads the wall clock"},
    {NULL, "collectgarbage", "collectgarbage(\"count\")",
     "reads the memory in use, which differs from run to run"},
    {NULL, "tostring", "tostring of an object (its address)",
     "shows its address, which differs from run to run"},
    {NULL, "print", "print of an object (its address)",
     "shows its address, which differs from run to run"},
    {"string", "format", "string.format of an address (%p, or %s of an object)",
     "shows its address, which differs from run to run"},
    {NULL, "next",
     "pairs/next visiting a key that is an object (address "
     "order)",
     NULL},
    {NULL, "pairs", "pairs", NULL}, /* hands out the wrapped next */
};

/* Does the host's strict mode see calls now: inside a run, or a load? */
static int strict_active(des_host *h) {
  return h->rt != NULL && (h->rt->G->dispatching != NULL || h->loading > 0);
}

/* A call of kind `which` that cannot repeat: count it, and raise in
** DES_STRICT_ON. `what` names the value at fault ("a table"), or NULL. */
static void strict_note(lua_State *L, int which, const char *what) {
  des_host *h = des_host_of(L);
  if (h == NULL || !strict_active(h))
    return;
  h->nondet[which]++;
  if (h->strict != DES_STRICT_ON || strict_calls[which].why == NULL)
    return;
  if (what != NULL)
    luaL_error(L,
               "%s%s of %s %s: a run that uses it cannot be reproduced "
               "(--strict%s)",
               strict_calls[which].lib ? "string." : "",
               strict_calls[which].field, what, strict_calls[which].why,
               what[0] == 'a' ? "; give it a __tostring, or print a name" : "");
  luaL_error(L, "%s %s: a run that uses it cannot be reproduced (--strict)",
             strict_calls[which].call, strict_calls[which].why);
}

/* Run the original of kind `which` in this frame, on the arguments. */
static int strict_call(lua_State *L, int which) {
  des_host *h = des_host_of(L);
  if (h == NULL || h->strict_orig[which] == NULL)
    return luaL_error(L, "%s: not available", strict_calls[which].call);
  return h->strict_orig[which](L);
}

/* The value at idx, when tostring would show its address: "a table",
** "a function", ...; NULL when it would not (a number, a string, a value
** with a __tostring of its own; a file handle's shows an address). Reads
** the metatable raw: no metamethod of the model runs. */
static const char *strict_address(lua_State *L, int idx) {
  int t = lua_type(L, idx);
  if (t == LUA_TLIGHTUSERDATA)
    return "a light userdata";
  if (t != LUA_TTABLE && t != LUA_TFUNCTION && t != LUA_TTHREAD &&
      t != LUA_TUSERDATA)
    return NULL;
  if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL) {
    int nt, file = 0;
    lua_pop(L, 1);
    if (t != LUA_TUSERDATA)
      return NULL; /* the model's own text */
    nt = luaL_getmetafield(L, idx, "__name");
    file = nt == LUA_TSTRING && strcmp(lua_tostring(L, -1), "FILE*") == 0;
    if (nt != LUA_TNIL)
      lua_pop(L, 1);
    return file ? "a file handle" : NULL;
  }
  switch (t) {
  case LUA_TTABLE:
    return "a table";
  case LUA_TFUNCTION:
    return "a function";
  case LUA_TTHREAD:
    return "a thread";
  default:
    return "a userdata";
  }
}

static int strict_os_time(lua_State *L) {
  if (lua_isnoneornil(L, 1))
    strict_note(L, 0, NULL);
  return strict_call(L, 0);
}

static int strict_os_clock(lua_State *L) {
  strict_note(L, 1, NULL);
  return strict_call(L, 1);
}

static int strict_os_date(lua_State *L) {
  if (lua_isnoneornil(L, 2))
    strict_note(L, 2, NULL);
  return strict_call(L, 2);
}

static int strict_collectgarbage(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING && strcmp(lua_tostring(L, 1), "count") == 0)
    strict_note(L, 3, NULL);
  return strict_call(L, 3);
}

static int strict_tostring(lua_State *L) {
  const char *what = strict_address(L, 1);
  if (what != NULL)
    strict_note(L, 4, what);
  return strict_call(L, 4);
}

static int strict_print(lua_State *L) {
  int i, n = lua_gettop(L);
  for (i = 1; i <= n; i++) {
    const char *what = strict_address(L, i);
    if (what != NULL) {
      strict_note(L, 5, what);
      break; /* one call, counted once */
    }
  }
  return strict_call(L, 5);
}

/* string.format: each conversion of the format takes the next argument;
** %p shows an address, %s of an object too (through tostring). */
static int strict_format(lua_State *L) {
  size_t len = 0;
  const char *f =
      lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &len) : "";
  int arg = 1;
  rt_charge(L, len >> 6); /* this scan of the format, before the real one */
  while ((f = strchr(f, '%')) != NULL) {
    f++;
    if (*f == '%') {
      f++;
      continue;
    }
    f += strspn(f, "-+ #0123456789.");
    arg++;
    if (*f == 'p' || (*f == 's' && strict_address(L, arg) != NULL)) {
      strict_note(L, 6, *f == 'p' ? "'%p'" : strict_address(L, arg));
      break;
    }
    if (*f != '\0')
      f++;
  }
  return strict_call(L, 6);
}

/* next: a key that is an object comes in address order. */
static int strict_next(lua_State *L) {
  int n = strict_call(L, 7);
  if (n == 2 && lua_type(L, -2) >= LUA_TLIGHTUSERDATA &&
      lua_type(L, -2) != LUA_TNUMBER && lua_type(L, -2) != LUA_TSTRING)
    strict_note(L, 7, NULL);
  return n;
}

/* pairs: as Lua's, handing out the wrapped next instead of the original
** (a __pairs metamethod's results are the model's own). */
static int strict_pairs(lua_State *L) {
  des_host *h = des_host_of(L);
  int n = strict_call(L, 8);
  if (n == 3 && h != NULL && lua_tocfunction(L, -3) == h->strict_orig[7]) {
    lua_pushcfunction(L, strict_next);
    lua_replace(L, -4);
  }
  return n;
}

static const lua_CFunction strict_wrappers[HOST_NONDET_N] = {
    strict_os_time,        strict_os_clock, strict_os_date,
    strict_collectgarbage, strict_tostring, strict_print,
    strict_format,         strict_next,     strict_pairs};

void host_open_strict(des_host *h, lua_State *L, int mode) {
  int i;
  if (mode != DES_STRICT_ON && mode != DES_STRICT_COUNT)
    return;
  for (i = 0; i < HOST_NONDET_N; i++) {
    lua_CFunction f;
    if (strict_calls[i].lib != NULL)
      lua_getglobal(L, strict_calls[i].lib);
    else
      lua_pushglobaltable(L);
    if (lua_type(L, -1) != LUA_TTABLE) { /* the sandbox has no os */
      lua_pop(L, 1);
      continue;
    }
    lua_getfield(L, -1, strict_calls[i].field);
    f = lua_tocfunction(L, -1);
    /* the library's own: a C function without upvalues, run in place */
    if (f != NULL && lua_getupvalue(L, -1, 1) == NULL) {
      h->strict_orig[i] = f;
      lua_pushcfunction(L, strict_wrappers[i]);
      lua_setfield(L, -3, strict_calls[i].field);
    } else if (f != NULL)
      lua_pop(L, 1); /* the upvalue */
    lua_pop(L, 2);
  }
}

int des_nondet_calls(des_host *h, des_nondet_fn fn, void *ctx) {
  int i, rc;
  HOST_CHECK(h);
  host_clear_error(h);
  if (fn == NULL)
    return host_fail(h, DES_EINVAL, "des_nondet_calls: fn is NULL");
  for (i = 0; i < HOST_NONDET_N; i++)
    if (h->nondet[i] > 0 &&
        (rc = fn(ctx, strict_calls[i].call, h->nondet[i])) != 0)
      return rc;
  return DES_OK;
}
