/*
** ping_raw.c -- the raw bound of deshost's design for the ping benchmark:
** a plain binary heap of Lua coroutines; pop the earliest, lua_resume it;
** the coroutine computes its next delay in Lua and calls a C function that
** pushes its wake and yields. No runtime, no checks: what deshost's
** executor costs at least. Prints "wakeups_per_s <n>", timed in process
** CPU time as the Lua variants' os.clock() is (wall time made the bound
** look slower on a loaded machine: deshost at "1.33x" of it).
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "heap_baseline.h"

#define NTASKS 1000
#define TOTAL 1000000
#define UNIT 1000000000LL

static hb_heap heap;
static int64_t now;
static lua_State *threads[NTASKS];

/* wait(dt) from the coroutine: push its wake at now + dt and yield. */
static int raw_wait(lua_State *L) {
  double d = luaL_checknumber(L, 1), whole = floor(d);
  int64_t ticks = (int64_t)whole * UNIT + llround((d - whole) * (double)UNIT);
  uint64_t id = (uint64_t)lua_tointeger(L, lua_upvalueindex(1));
  hb_push(&heap, now + ticks, id);
  return lua_yield(L, 0);
}

static const char worker_src[] =
    "local wait, per = ...\n"
    "local x = 88172645463325252\n"
    "return function()\n"
    "  for _ = 1, per do\n"
    "    x = x ~ (x << 13); x = x ~ (x >> 7); x = x ~ (x << 17)\n"
    "    wait(-math.log(((x >> 11) + 0.5) * (1.0 / 9007199254740992)))\n"
    "  end\n"
    "end\n";

int main(void) {
  lua_State *L = luaL_newstate();
  struct timespec t0, t1;
  long wakeups = 0;
  int i, nres;
  luaL_openlibs(L);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  for (i = 0; i < NTASKS; i++) {
    lua_State *co = lua_newthread(L);
    threads[i] = co;
    lua_rawsetp(L, LUA_REGISTRYINDEX, co); /* keep it alive */
    luaL_loadstring(co, worker_src);
    lua_pushinteger(co, i);
    lua_pushcclosure(co, raw_wait, 1);
    lua_pushinteger(co, TOTAL / NTASKS);
    lua_call(co, 2, 1); /* the worker function, on co's stack */
    hb_push(&heap, 0, (uint64_t)i);
  }
  while (heap.n > 0) {
    hb_item it = hb_pop(&heap);
    now = it.when;
    if (lua_resume(threads[it.data], L, 0, &nres) > LUA_YIELD) {
      fprintf(stderr, "%s\n", lua_tostring(threads[it.data], -1));
      return 1;
    }
    wakeups++;
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  printf("wakeups_per_s %.0f\n",
         (double)(wakeups - NTASKS) /
             ((double)(t1.tv_sec - t0.tv_sec) +
              (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9));
  lua_close(L);
  return 0;
}
