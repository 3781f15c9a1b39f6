/*
** lcomp.c -- C components as Lua objects: des.component(name).
**
** An embedding program adds C components to its host (des_component_add in
** deshost.h); a model reaches one by name and talks to it with events:
**
**   local link = des.component "link"
**   link:send(KIND, 42)              -- an event for the component, now
**   local v = link:call(KIND, 42, 1) -- sent in 1 unit; waits for the answer
**
** A simulation keeps its components' names in its sim object's user value
** 4 (name -> id). A component object holds its simulation and id, and
** keeps its name and its sim object as user values 1 and 2.
*/
#include "ldes.h"

typedef struct lcomp {
  rt_runtime *rt;
  uint32_t id;
} lcomp;

/* Register component `id` under `name` in the simulation rt (host side). */
void ldes_add_component(lua_State *L, rt_runtime *rt, const char *name,
                        int id) {
  rt_push_object(L, rt);
  if (lua_getiuservalue(L, -1, 4) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, -3, 4);
  }
  lua_pushinteger(L, id);
  lua_setfield(L, -2, name);
  lua_pop(L, 2);
}

/* The component at idx, whose simulation takes new events. */
static lcomp *check_comp(lua_State *L, int idx) {
  lcomp *c = luaL_checkudata(L, idx, DES_COMPONENT_MT);
  rt_check_live(L, c->rt);
  return c;
}

/* The event kind at idx: an integer from 0 to 2^31 - 1. */
static uint32_t check_kind(lua_State *L, int idx, const char *fname) {
  lua_Integer k;
  if (!lua_isinteger(L, idx))
    luaL_error(L, "%s: kind must be an integer (got %s)", fname,
               luaL_typename(L, idx));
  k = lua_tointeger(L, idx);
  if (k < 0 || k >= (lua_Integer)RT_CALL_BIT)
    luaL_error(L, "%s: kind must be from 0 to 2^31-1 (got %I)", fname, k);
  return (uint32_t)k;
}

/* The payload at idx: an integer, 0 if nil. */
static uint64_t check_data(lua_State *L, int idx, const char *fname) {
  if (lua_isnoneornil(L, idx))
    return 0;
  if (!lua_isinteger(L, idx))
    luaL_error(L, "%s: data must be an integer (got %s)", fname,
               luaL_typename(L, idx));
  return (uint64_t)lua_tointeger(L, idx);
}

/* des.component(name) --> the C component of that name */
static int l_component(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  rt_runtime *rt = ldes_runtime_of(L);
  lcomp *c;
  rt_push_object(L, rt);
  if (lua_getiuservalue(L, -1, 4) != LUA_TTABLE ||
      lua_getfield(L, -1, name) != LUA_TNUMBER)
    return luaL_error(L,
                      "component: no C component named '%s' in this "
                      "simulation (an embedding program adds them with "
                      "des_component_add)",
                      name);
  rt_check_state(L, "component");
  c = lua_newuserdatauv(L, sizeof(*c), 2);
  c->rt = rt;
  c->id = (uint32_t)lua_tointeger(L, -2);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, -4); /* the sim object: c->rt lives as long as c */
  lua_setiuservalue(L, -2, 2);
  luaL_setmetatable(L, DES_COMPONENT_MT);
  return 1;
}

/* comp:send(kind [, data [, delay]]): an event for the component at
** now + delay (default 0). */
static int c_send(lua_State *L) {
  lcomp *c = check_comp(L, 1);
  uint32_t kind = check_kind(L, 2, "send");
  uint64_t data = check_data(L, 3, "send");
  des_time dt = 0, when;
  int rc;
  if (!lua_isnoneornil(L, 4))
    dt = rt_check_duration(L, c->rt, 4, "send");
  if (sim_time_after(c->rt->sim, dt, &when) != 0)
    return luaL_error(L, "send: time overflows the simulated clock");
  rc = sim_schedule(c->rt->sim, when, c->id, kind, data, NULL);
  if (rc != 0)
    return luaL_error(L, "send: %s", sim_strerror(rc));
  return 0;
}

/* comp:call(kind [, data [, delay]]) --> the component's answer (an
** integer), once it gives it with des_wake. Only inside a task. */
static int c_call(lua_State *L) {
  lcomp *c = check_comp(L, 1);
  uint32_t kind = check_kind(L, 2, "call");
  uint64_t data = check_data(L, 3, "call");
  rt_task *t = rt_current(L);
  des_time dt = 0;
  if (t == NULL)
    return luaL_error(L, "call: not inside a task (only a task can wait "
                         "for a component's answer; use send outside)");
  if (t->rt != c->rt)
    return luaL_error(L, "call: the component belongs to another simulation");
  if (!lua_isnoneornil(L, 4))
    dt = rt_check_duration(L, c->rt, 4, "call");
  return rt_call(L, t, c->id, kind, data, dt);
}

/* comp.name, comp.id, methods */
static int c_index(lua_State *L) {
  lcomp *c = luaL_checkudata(L, 1, DES_COMPONENT_MT);
  const char *k;
  if (ldes_method(L))
    return 1;
  k = luaL_checkstring(L, 2);
  if (strcmp(k, "name") == 0)
    lua_getiuservalue(L, 1, 1);
  else if (strcmp(k, "id") == 0)
    lua_pushinteger(L, c->id);
  else
    lua_pushnil(L);
  return 1;
}

static int c_tostring(lua_State *L) {
  luaL_checkudata(L, 1, DES_COMPONENT_MT);
  lua_getiuservalue(L, 1, 1);
  lua_pushfstring(L, "des.component '%s'", lua_tostring(L, -1));
  return 1;
}

static const luaL_Reg comp_methods[] = {
    {"send", c_send}, {"call", c_call}, {NULL, NULL}};

static const luaL_Reg module_funcs[] = {{"component", l_component},
                                        {NULL, NULL}};

void lcomp_open(lua_State *L, int mod) {
  luaL_newmetatable(L, DES_COMPONENT_MT);
  ldes_lockmetatable(L, -1, DES_COMPONENT_MT);
  lua_pushcfunction(L, c_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L);
  ldes_setfuncs(L, -1, comp_methods);
  lua_setfield(L, -2, "methods");
  ldes_set_index(L, -1, c_index);
  lua_pop(L, 1);
  ldes_setfuncs(L, mod, module_funcs);
}
