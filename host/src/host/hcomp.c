/*
** hcomp.c -- C components of the embedding API: the embedder's handlers
** as components of the host's simulation, their events, and answers to
** Lua tasks that called them.
*/
#include "hostint.h"

#include <string.h>

/* {====================================================================
** C components
** ===================================================================== */

/* A caller as the embedder sees it: task is the task's serial (its Lua
** `task.id`); call packs the task's slot (high 32 bits: where to find it
** again) and the runtime's call sequence number (low 32 bits). The
** runtime names tasks by slot and generation instead: these convert. */
static des_caller host_caller_out(des_host *h, uint64_t id, uint64_t seq) {
  des_caller c;
  rt_global *G = h->rt->G;
  uint32_t slot = (uint32_t)id;
  c.task = G->slots[slot].task->serial;
  c.call = ((uint64_t)slot << 32) | (uint32_t)seq;
  return c;
}

/* The runtime's id of the task a caller names, or 0 if that task is gone
** (its slot empty, or holding another task, or one of another sim). */
static uint64_t host_caller_in(des_host *h, des_caller c) {
  rt_global *G = h->rt->G;
  uint32_t slot = (uint32_t)(c.call >> 32);
  rt_task *t = slot < G->nslots ? G->slots[slot].task : NULL;
  if (t == NULL || t->rt != h->rt || t->serial != c.task)
    return 0;
  return rt_task_id(t);
}

/* The simulation's handler for every C component: decode a call from a
** Lua task, then hand the event to the embedder. */
static int host_dispatch(sim_state *sim, void *ctx, const sim_event *sev) {
  host_component *c = ctx;
  des_event ev;
  uint64_t id = 0, seq = 0;
  int call;
  (void)sim;
  ev.when = sev->when;
  ev.handle = sev->handle;
  ev.component = c->id;
  ev.kind = sev->kind;
  ev.data = sev->data;
  ev.caller.task = ev.caller.call = 0;
  call = rt_call_delivered(c->h->rt, sev, &ev.kind, &ev.data, &id, &seq);
  if (call < 0)
    return 0;
  if (call > 0)
    ev.caller = host_caller_out(c->h, id, seq);
  return c->fn(c->h, c->ctx, &ev);
}

/* Protected: name the component for des.component. */
static int host_name_component(lua_State *L) {
  des_host *h = lua_touserdata(L, 1);
  ldes_add_component(L, h->rt, lua_tostring(L, 2), (int)lua_tointeger(L, 3));
  return 0;
}

int des_component_add(des_host *h, const char *name, des_handler fn,
                      void *ctx) {
  host_component *c;
  size_t size;
  int id, rc;
  HOST_CHECK(h);
  host_enter(h);
  if (name == NULL || name[0] == '\0')
    return host_fail(h, DES_EINVAL, "des_component_add: name is %s",
                     name == NULL ? "NULL" : "empty");
  if (fn == NULL)
    return host_fail(h, DES_EINVAL, "des_component_add: fn is NULL");
  if (host_check_open(h, "des_component_add") != DES_OK)
    return DES_EINVAL;
  for (id = 0; id < h->ncomps; id++)
    if (strcmp(h->comps[id]->name, name) == 0)
      return host_fail(h, DES_EINVAL,
                       "des_component_add: a component named '%s' exists",
                       name);
  if (h->ncomps == h->capcomps) {
    int ncap = h->capcomps ? h->capcomps * 2 : 4;
    void *p = host_realloc(h, h->comps, (size_t)h->capcomps * sizeof(*h->comps),
                           (size_t)ncap * sizeof(*h->comps));
    if (p == NULL)
      return host_fail(h, DES_ENOMEM, "des_component_add: not enough memory");
    h->comps = p;
    h->capcomps = ncap;
  }
  size = sizeof(*c) + strlen(name) + 1;
  c = host_realloc(h, NULL, 0, size);
  if (c == NULL)
    return host_fail(h, DES_ENOMEM, "component_add: not enough memory");
  id = sim_add_component(h->rt->sim, host_dispatch, c);
  if (id < 0) {
    host_realloc(h, c, size, 0);
    return host_fail(h, DES_ENOMEM, "component_add: not enough memory");
  }
  c->size = size;
  memcpy(c->name, name, strlen(name) + 1);
  c->h = h;
  c->fn = fn;
  c->ctx = ctx;
  c->id = id;
  h->comps[h->ncomps++] = c;
  lua_pushcfunction(h->L, host_name_component);
  lua_pushlightuserdata(h->L, h);
  lua_pushstring(h->L, name);
  lua_pushinteger(h->L, id);
  rc = host_pcall(h, 3, 0);
  return rc != DES_OK ? rc : id;
}

/* Is id one of the embedder's components? */
static host_component *host_component_of(des_host *h, int id) {
  int i;
  for (i = 0; i < h->ncomps; i++)
    if (h->comps[i]->id == id)
      return h->comps[i];
  return NULL;
}

/* Check an absolute time against the clock. */
static int host_check_time(des_host *h, des_time when, const char *fname) {
  des_time now;
  if (host_check_open(h, fname) != DES_OK)
    return DES_EINVAL;
  now = sim_now(h->rt->sim);
  if (when < now)
    return host_fail(h, DES_EPAST,
                     "%s: time %lld is before the current time %lld", fname,
                     (long long)when, (long long)now);
  return DES_OK;
}

int des_schedule(des_host *h, des_time when, int component, uint32_t kind,
                 uint64_t data, des_handle *out) {
  int rc;
  HOST_CHECK(h);
  host_clear_error(h);
  if (host_component_of(h, component) == NULL)
    return host_fail(h, DES_EINVAL,
                     "des_schedule: component %d is not a C component",
                     component);
  if (kind >= RT_CALL_BIT)
    return host_fail(h, DES_EINVAL, "des_schedule: kind %u is past 2^31-1",
                     (unsigned)kind);
  rc = host_check_time(h, when, "des_schedule");
  if (rc != DES_OK)
    return rc;
  rc = sim_schedule(h->rt->sim, when, (uint32_t)component, kind, data, out);
  if (rc != SIM_OK)
    return host_fail(h, host_code_sim(rc), "des_schedule: %s",
                     sim_strerror(rc));
  return DES_OK;
}

int des_cancel(des_host *h, des_handle handle) {
  uint32_t target;
  HOST_CHECK(h);
  if (host_check_open(h, "des_cancel") != DES_OK)
    return DES_EINVAL;
  /* only the embedder's own events: never a task's wake */
  if (!sim_event_target(h->rt->sim, handle, &target) ||
      host_component_of(h, (int)target) == NULL)
    return host_fail(h, DES_ESTALE,
                     "des_cancel: handle %llu is not a pending event of a C "
                     "component",
                     (unsigned long long)handle);
  sim_cancel(h->rt->sim, handle);
  return DES_OK;
}

int des_wake(des_host *h, des_caller caller, des_time when, int64_t value) {
  uint64_t id;
  int rc;
  HOST_CHECK(h);
  rc = host_check_time(h, when, "des_wake");
  if (rc != DES_OK)
    return rc;
  id = host_caller_in(h, caller);
  rc = id != 0 ? rt_answer(h->rt, id, (uint32_t)caller.call, when, value)
               : RT_ESTALE;
  if (rc == RT_ESTALE)
    return host_fail(h, DES_ESTALE,
                     "des_wake: call %llu of task %llu is no longer open "
                     "(answered, interrupted, cancelled or ended)",
                     (unsigned long long)(uint32_t)caller.call,
                     (unsigned long long)caller.task);
  if (rc != RT_OK)
    return host_fail(h, host_code_rt(h, rc, 0), "des_wake: %s",
                     rt_strerror(rc));
  return DES_OK;
}

/* Protected: ev:succeed(values...) with the event at 1. */
static int host_trigger(lua_State *L) {
  int n = lua_gettop(L) - 1;
  lua_getfield(L, 1, "succeed");
  lua_insert(L, 1);
  lua_call(L, n + 1, 0);
  return 0;
}

int des_trigger(des_host *h, int idx, int nvalues) {
  lua_State *L;
  int rc;
  HOST_CHECK(h);
  L = h->L;
  host_enter(h);
  if (nvalues < 0 || lua_gettop(L) < nvalues)
    return host_fail(h, DES_EINVAL,
                     "des_trigger: nvalues is %d but the stack holds %d values",
                     nvalues, lua_gettop(L));
  idx = lua_absindex(L, idx);
  if (idx < 1 || idx > lua_gettop(L) - nvalues ||
      luaL_testudata(L, idx, DES_EVENT_MT) == NULL) {
    lua_pop(L, nvalues);
    return host_fail(h, DES_EINVAL, "des_trigger: idx %d is not a des.event",
                     idx);
  }
  lua_pushcfunction(L, host_trigger);
  lua_pushvalue(L, idx);
  lua_rotate(L, -nvalues - 2, 2);
  rc = host_pcall(h, nvalues + 1, 0);
  if (rc == DES_EMODEL)
    rc = DES_EINVAL; /* e.g. triggered twice: the message says */
  host_leave(h);
  return rc;
}

/* }==================================================================== */

int des_call_at(des_host *h, des_time when, int nargs, des_handle *out) {
  lua_State *L;
  int rc;
  HOST_CHECK(h);
  L = h->L;
  host_enter(h);
  if (out != NULL)
    *out = 0;
  if (nargs < 0 || lua_gettop(L) < nargs + 1)
    return host_fail(h, DES_EINVAL,
                     "des_call_at: nargs is %d but the stack holds %d values",
                     nargs, lua_gettop(L));
  lua_pushcfunction(L, lsched_at_ticks);
  rt_push_object(L, h->rt);
  lua_pushinteger(L, (lua_Integer)when);
  lua_rotate(L, -nargs - 4, 3); /* f, sim, when below fn and its args */
  rc = host_pcall(h, nargs + 3, 1);
  if (rc == DES_EMODEL)
    rc = DES_EINVAL; /* a past time, no function: the message says */
  if (rc == DES_OK) {
    if (out != NULL)
      *out = (des_handle)(uintptr_t)lua_touserdata(L, -1);
    lua_pop(L, 1);
  }
  host_leave(h);
  return rc;
}

int des_call_cancel(des_host *h, des_handle handle) {
  HOST_CHECK(h);
  host_clear_error(h);
  return lsched_cancel(h->L, handle) ? DES_OK : DES_ESTALE;
}

/* Free the component records (after lua_close: nothing calls them). */
void host_free_components(des_host *h) {
  int i;
  for (i = 0; i < h->ncomps; i++)
    h->allocf(h->allocud, h->comps[i], h->comps[i]->size, 0);
  if (h->comps != NULL)
    h->allocf(h->allocud, h->comps, (size_t)h->capcomps * sizeof(*h->comps), 0);
}
