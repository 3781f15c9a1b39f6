/*
** rterror.c -- how the runtime turns errors into text and objects: the
** text of any error value (its __tostring run protected, with a fallback),
** a task's label, tracebacks, and the runtime's own error objects
** (des.Cancelled, des.Interrupt), whose metatables a model cannot reach.
*/
#include "rtint.h"

#include <string.h>

#define RT_CANCELLED_MT "des.Cancelled"
#define RT_INTERRUPT_MT "des.Interrupt"

/* Describe a task for messages: task 'name' (#serial). */
void rt_push_task_label(lua_State *L, int task_idx) {
  rt_task *t = lua_touserdata(L, task_idx);
  task_idx = lua_absindex(L, task_idx);
  if (lua_getiuservalue(L, task_idx, UV_NAME) == LUA_TSTRING) {
    lua_pushfstring(L, "task '%s' (#%I)", lua_tostring(L, -1),
                    (lua_Integer)t->serial);
  } else
    lua_pushfstring(L, "task #%I", (lua_Integer)t->serial);
  lua_remove(L, -2);
}

/* The error objects' __tostring read their own fields raw: no metamethod
** of the model runs, except the cause's own __tostring (protected). */
static int cancelled_tostring(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushliteral(L, "task");
  lua_rawget(L, 1);
  if (rt_is_kind(L, -1, RT_MT_TASK)) {
    rt_push_task_label(L, -1);
    lua_pushfstring(L, "%s was cancelled", lua_tostring(L, -1));
  } else
    lua_pushliteral(L, "task was cancelled");
  return 1;
}

static int interrupt_tostring(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushliteral(L, "cause");
  lua_rawget(L, 1);
  rt_push_error_text(L, -1);
  lua_pushfstring(L, "interrupted: %s", lua_tostring(L, -1));
  return 1;
}

/* Push the (shared) metatable `name`, creating it with its __tostring.
** Its __metatable hides it: a model can neither change how every such
** error prints nor forge one (rt_is_cancelled trusts it). */
static void push_error_mt(lua_State *L, const char *name, lua_CFunction ts) {
  if (luaL_newmetatable(L, name)) {
    lua_pushcfunction(L, ts);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__metatable");
  }
}

/* luaL_tolstring, for rt_push_error_text's protected call. */
static int tostring_protected(lua_State *L) {
  luaL_tolstring(L, 1, NULL);
  return 1;
}

void rt_push_error_text(lua_State *L, int idx) {
  int t = lua_type(L, idx);
  idx = lua_absindex(L, idx);
  if (t == LUA_TSTRING) {
    lua_pushvalue(L, idx);
    return;
  }
  if (luaL_getmetafield(L, idx, "__tostring") != LUA_TNIL)
    lua_pop(L, 1);
  else if (t != LUA_TNIL && t != LUA_TBOOLEAN && t != LUA_TNUMBER) {
    /* as lua.c says it, without an address (runs must repeat) */
    int tt = luaL_getmetafield(L, idx, "__name");
    lua_pushfstring(L, "(error object is a %s value)",
                    tt == LUA_TSTRING ? lua_tostring(L, -1)
                                      : luaL_typename(L, idx));
    if (tt != LUA_TNIL)
      lua_remove(L, -2);
    return;
  }
  lua_pushcfunction(L, tostring_protected);
  lua_pushvalue(L, idx);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK)
    return;
  /* the second error is shown only if it is a string: never a second
  ** __tostring */
  if (lua_type(L, -1) == LUA_TSTRING)
    lua_pushfstring(L,
                    "(error object is a %s value; its __tostring failed: %s)",
                    luaL_typename(L, idx), lua_tostring(L, -1));
  else
    lua_pushfstring(L,
                    "(error object is a %s value; its __tostring failed "
                    "with a %s value)",
                    luaL_typename(L, idx), luaL_typename(L, -1));
  lua_remove(L, -2);
}

void rt_push_cancelled(lua_State *L, int task_idx) {
  task_idx = lua_absindex(L, task_idx);
  lua_createtable(L, 0, 2);
  lua_pushvalue(L, task_idx);
  lua_setfield(L, -2, "task");
  lua_pushliteral(L, "cancelled");
  lua_setfield(L, -2, "kind");
  push_error_mt(L, RT_CANCELLED_MT, cancelled_tostring);
  lua_setmetatable(L, -2);
}

int rt_is_cancelled(lua_State *L, int idx) {
  int r;
  if (!lua_getmetatable(L, idx))
    return 0;
  luaL_getmetatable(L, RT_CANCELLED_MT);
  r = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return r;
}

/* Raise the first pending interrupt of the running task t (in L). */
int rt_raise_interrupt(lua_State *L, rt_task *t) {
  rt_runtime *rt = t->rt;
  /* the queue shifts down by one per delivery: a model that queued many
  ** interrupts made their deliveries quadratic (charged) */
  rt_charge(L, (size_t)t->interrupts >> 2);
  lua_createtable(L, 0, 4);
  /* the pending causes are in the task object's UV_VALUES array */
  rt_push_task(L, t);
  lua_getiuservalue(L, -1, UV_VALUES);
  lua_rawgeti(L, -1, 1); /* first cause */
  lua_setfield(L, -4, "cause");
  /* shift the queue down */
  {
    lua_Integer i, n = (lua_Integer)t->interrupts;
    for (i = 1; i < n; i++) {
      lua_rawgeti(L, -1, i + 1);
      lua_rawseti(L, -2, i);
    }
    lua_pushnil(L);
    lua_rawseti(L, -2, n);
  }
  lua_pop(L, 1);
  lua_setfield(L, -2, "task");
  lua_pushnumber(L, rt_units(rt, sim_now(rt->sim)));
  lua_setfield(L, -2, "time");
  lua_pushliteral(L, "interrupt");
  lua_setfield(L, -2, "kind");
  push_error_mt(L, RT_INTERRUPT_MT, interrupt_tostring);
  lua_setmetatable(L, -2);
  t->interrupts--;
  t->resume = RESUME_NORMAL;
  return lua_error(L);
}

#define RT_TB_HEAD 10 /* frames shown before the gap of a deep stack */
#define RT_TB_TAIL 11 /* and after it */

/* The deepest valid level of co's stack, by doubling then bisection:
** lua_getstack walks from the top, so a linear count would be quadratic
** in the depth (a stack overflow is some 200000 levels deep). */
static int rt_last_level(lua_State *co) {
  lua_Debug ar;
  int li = 1, le = 1;
  while (lua_getstack(co, le, &ar)) {
    li = le;
    le *= 2;
  }
  while (li < le) {
    int m = (li + le) / 2;
    if (lua_getstack(co, m, &ar))
      li = m + 1;
    else
      le = m;
  }
  return le - 1;
}

/* Push the traceback of co with msg on top, as luaL_traceback does but
** without its search of package.loaded for a global name of every
** function (it walks every loaded module's fields per frame: most of the
** cost of a failing task). Names come from the calling code instead. */
void rt_traceback(lua_State *L, lua_State *co, const char *msg) {
  luaL_Buffer b;
  lua_Debug ar;
  int level = 0, last = rt_last_level(co);
  luaL_buffinit(L, &b);
  if (msg != NULL) {
    luaL_addstring(&b, msg);
    luaL_addchar(&b, '\n');
  }
  luaL_addstring(&b, "stack traceback:");
  while (lua_getstack(co, level++, &ar)) {
    if (level > RT_TB_HEAD && level <= last - RT_TB_TAIL + 1) {
      lua_pushfstring(L, "\n\t...\t(skipping %d levels)",
                      last - RT_TB_TAIL - RT_TB_HEAD + 1);
      luaL_addvalue(&b);
      level = last - RT_TB_TAIL + 1;
      continue;
    }
    lua_getinfo(co, "Slnt", &ar);
    if (ar.currentline <= 0)
      lua_pushfstring(L, "\n\t%s: in ", ar.short_src);
    else
      lua_pushfstring(L, "\n\t%s:%d: in ", ar.short_src, ar.currentline);
    luaL_addvalue(&b);
    if (*ar.namewhat != '\0')
      lua_pushfstring(L, "%s '%s'",
                      strcmp(ar.namewhat, "global") == 0 ? "function"
                                                         : ar.namewhat,
                      ar.name);
    else if (*ar.what == 'm')
      lua_pushliteral(L, "main chunk");
    else if (*ar.what != 'C')
      lua_pushfstring(L, "function <%s:%d>", ar.short_src, ar.linedefined);
    else
      lua_pushliteral(L, "?");
    luaL_addvalue(&b);
    if (ar.istailcall)
      luaL_addstring(&b, "\n\t(...tail calls...)");
  }
  luaL_pushresult(&b);
}
