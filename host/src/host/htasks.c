/*
** htasks.c -- des_tasks: the live tasks of the host's simulation, listed
** from C. No Lua code runs and nothing the model can reach is used (not
** its globals, not table.sort): the CLI's deadlock report must work
** whatever a sandboxed model did, and after the memory limit was hit.
*/
#include "hostint.h"

#include <stdio.h>
#include <stdlib.h>

/* A task found in the slot table: its slot and generation name it even
** if the callback lets it end meanwhile (then it is skipped). */
typedef struct htask_ref {
  uint64_t serial;
  uint32_t slot, gen;
} htask_ref;

/* qsort order: spawn order. */
static int htask_cmp(const void *a, const void *b) {
  uint64_t x = ((const htask_ref *)a)->serial;
  uint64_t y = ((const htask_ref *)b)->serial;
  return (x > y) - (x < y);
}

/* The task of a ref if it is still the same live task, else NULL. */
static rt_task *htask_get(rt_global *G, const htask_ref *r) {
  if (r->slot >= G->nslots || G->slots[r->slot].gen != r->gen)
    return NULL;
  return G->slots[r->slot].task;
}

/* The string user value uv of the userdata on top, or NULL. */
static const char *htask_uv_string(lua_State *L, int uv) {
  const char *s = NULL;
  if (lua_getiuservalue(L, -1, uv) == LUA_TSTRING)
    s = lua_tostring(L, -1);
  lua_pop(L, 1); /* (anchored by the object, itself on the stack) */
  return s;
}

/* Describe what t waits on into buf, from the object (task.waiting_on)
** found by metatable address, reading names from user values and raw
** fields only: no Lua code runs. */
static void htask_describe(lua_State *L, rt_task *t, char *buf, size_t size) {
  rt_global *G = t->rt->G;
  const void *mt = NULL;
  const char *name;
  buf[0] = '\0';
  if (t->state == TASK_SLEEPING) {
    snprintf(buf, size, "sleeping");
    return;
  }
  if (t->state != TASK_WAITING || !lua_checkstack(L, 4))
    return;
  rt_push_waiting_on(L, t);
  if (lua_getmetatable(L, -1)) {
    mt = lua_topointer(L, -1);
    lua_pop(L, 1);
  }
  if (mt != NULL && mt == G->mt[RT_MT_TASK]) {
    rt_task *j = lua_touserdata(L, -1);
    name = htask_uv_string(L, UV_NAME);
    if (name != NULL)
      snprintf(buf, size, "joining task '%s' (#%llu)", name,
               (unsigned long long)j->serial);
    else
      snprintf(buf, size, "joining task #%llu", (unsigned long long)j->serial);
  } else if (mt != NULL && mt == G->mt[RT_MT_EVENT]) {
    name = htask_uv_string(L, 3); /* levent.h EV_NAME */
    if (name != NULL)
      snprintf(buf, size, "waiting on %s '%s'", t->what, name);
    else
      snprintf(buf, size, "waiting on %s", t->what);
  } else if (mt != NULL && mt == G->mt[RT_MT_RESOURCE]) {
    name = htask_uv_string(L, 2); /* lres.h: its name */
    if (name != NULL)
      snprintf(buf, size, "queued at resource '%s'", name);
    else
      snprintf(buf, size, "queued at a resource");
  } else if (lua_type(L, -1) == LUA_TTABLE) { /* a store or container */
    lua_pushliteral(L, "name");
    name = lua_rawget(L, -2) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (name != NULL)
      snprintf(buf, size, "queued for %s at '%s'", t->what, name);
    else
      snprintf(buf, size, "queued for %s", t->what);
    lua_pop(L, 1);
  } else
    snprintf(buf, size, "waiting on %s", t->what ? t->what : "?");
  lua_pop(L, 1);
}

/* Fill *info from t; its name comes from the task object's user value
** when the stack has room (lua_checkstack fails softly, never raises). */
static void htask_info(lua_State *L, rt_task *t, des_task_info *info) {
  static const int states[] = {DES_TASK_READY, DES_TASK_RUNNING,
                               DES_TASK_SLEEPING, DES_TASK_WAITING};
  info->id = rt_task_id(t);
  info->serial = t->serial;
  info->state = t->state <= TASK_WAITING ? states[t->state] : DES_TASK_READY;
  info->daemon = t->daemon;
  info->waiting_on =
      (t->state == TASK_SLEEPING || t->state == TASK_WAITING) && t->what
          ? t->what
          : "";
  info->since = t->since;
  info->name = "";
  if (lua_checkstack(L, 3)) {
    rt_push_task(L, t);
    if (lua_type(L, -1) == LUA_TUSERDATA &&
        lua_getiuservalue(L, -1, UV_NAME) == LUA_TSTRING)
      info->name = lua_tostring(L, -1); /* anchored by the task: see below */
  }
}

int des_tasks(des_host *h, des_task_fn fn, void *ctx) {
  lua_State *L;
  rt_global *G;
  htask_ref *refs;
  size_t n = 0, i;
  int rc = DES_OK, top;
  uint32_t s;
  HOST_CHECK(h);
  L = h->L;
  top = lua_gettop(L);
  host_clear_error(h);
  if (fn == NULL)
    return host_fail(h, DES_EINVAL, "des_tasks: fn is NULL");
  if (h->rt == NULL || h->rt->closed)
    return DES_OK;
  G = h->rt->G;
  for (s = 0; s < G->nslots; s++)
    n += G->slots[s].task != NULL && G->slots[s].task->rt == h->rt;
  if (n == 0)
    return DES_OK;
  /* the raw allocator: a listing must work at the memory limit too */
  refs = h->allocf(h->allocud, NULL, 0, n * sizeof(*refs));
  if (refs == NULL)
    return host_fail(h, DES_ENOMEM, "des_tasks: not enough memory");
  for (s = 0, i = 0; s < G->nslots && i < n; s++) {
    rt_task *t = G->slots[s].task;
    if (t != NULL && t->rt == h->rt) {
      refs[i].serial = t->serial;
      refs[i].slot = s;
      refs[i].gen = G->slots[s].gen;
      i++;
    }
  }
  qsort(refs, n, sizeof(*refs), htask_cmp);
  for (i = 0; i < n && rc == DES_OK; i++) {
    rt_task *t = htask_get(G, &refs[i]);
    des_task_info info;
    char desc[256];
    if (t == NULL)
      continue; /* ended during the listing */
    htask_info(L, t, &info);
    htask_describe(L, t, desc, sizeof(desc));
    info.description = desc;
    rc = fn(ctx, &info);
    lua_settop(L, top);
  }
  h->allocf(h->allocud, refs, n * sizeof(*refs), 0);
  return rc;
}

lua_State *des_task_thread(des_host *h, int idx) {
  rt_task *t;
  if (h == NULL)
    return NULL;
  t = luaL_testudata(h->L, idx, DES_TASK_MT);
  if (t == NULL || t->co == NULL || t->state > TASK_WAITING)
    return NULL;
  return t->co;
}
