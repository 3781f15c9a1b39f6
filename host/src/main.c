/*
** main.c -- the deshost command line: run a Lua model as a simulation.
**
**   deshost [options] model.lua [args...]
**
** The model's main chunk runs as a task named "main" at time 0; then the
** simulation runs until no event is left or --until T. As in lua.c, all the
** work happens inside one protected call (dsmain), so no error escapes.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "ldes.h"
#include "repl.h"

static const char *progname = "deshost";

static const char usage_text[] =
    "usage: deshost [options] model.lua [args...]\n"
    "\n"
    "Run a discrete-event simulation model written in Lua. The model's main\n"
    "chunk runs as a task named 'main' at simulated time 0 (so it may call\n"
    "des.sleep); then the simulation runs until no event is left, or until\n"
    "the time given by --until. Events at exactly that time are not handled\n"
    "and the clock ends at it (as SimPy's run(until=t)).\n"
    "\n"
    "options:\n"
    "  --until T     stop the run at simulated time T (in model units)\n"
    "  --seed N      seed of the default simulation's random streams "
    "(default 0)\n"
    "  -e CHUNK      run the Lua CHUNK before the model (not as a task)\n"
    "  -i            interactive: load the model paused at time 0 and open a\n"
    "                prompt to step, inspect and break it ('help' there)\n"
    "  --trace       print every handled event to stderr (time, kind, task)\n"
    "  --shuffle-ties SEED  handle events due at the same time in a random\n"
    "                order drawn from SEED instead of FIFO, to find results\n"
    "                that depend on an arbitrary tie order\n"
    "  --version     print the version and exit\n"
    "  -h, --help    print this help and exit\n"
    "  --            end of options\n"
    "\n"
    "The model gets its arguments as '...' and in the global table 'arg'.\n"
    "Exit status: 0 when the run ends normally, 1 when a task failed with an\n"
    "error nobody joined (or the model does not load), 2 for a usage error.\n"
    "When the run ends with tasks still waiting on something that can no\n"
    "longer happen, deshost lists them on stderr (a likely deadlock).\n"
    "\n"
    "examples:\n"
    "  deshost scripts/models/clock.lua\n"
    "  deshost --until 60 --seed 7 scripts/models/bank.lua\n"
    "  deshost -e 'CUSTOMERS=50' scripts/models/bank.lua\n"
    "  deshost -i scripts/models/clerk.lua\n"
    "  deshost --trace --shuffle-ties 3 scripts/models/pingpong.lua\n";

typedef struct options {
  const char *until;
  int interactive, trace;
  const char *shuffle; /* seed, or NULL */
  lua_Integer seed;
  const char *chunks[16];
  int nchunks;
  int script; /* index of the model in argv, 0 if none */
} options;

static void print_usage_error(const char *fmt, const char *arg) {
  fprintf(stderr, "%s: ", progname);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nusage: deshost [options] model.lua [args...] "
                  "(deshost --help for more)\n");
}

/* Parse argv; returns 0, or 2 after printing a usage error, or -1 when the
** program should just exit 0 (help, version). */
static int parse_args(int argc, char **argv, options *o) {
  int i;
  memset(o, 0, sizeof(*o));
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (a[0] != '-' || a[1] == '\0')
      break;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(usage_text, stdout);
      return -1;
    } else if (strcmp(a, "-i") == 0) {
      o->interactive = 1;
    } else if (strcmp(a, "--trace") == 0) {
      o->trace = 1;
    } else if (strcmp(a, "--shuffle-ties") == 0) {
      char *end;
      const char *v = (i + 1 < argc) ? argv[++i] : NULL;
      if (v == NULL || (strtoll(v, &end, 10), *v == '\0' || *end != '\0')) {
        print_usage_error("--shuffle-ties needs an integer seed (got '%s')",
                          v ? v : "nothing");
        return 2;
      }
      o->shuffle = v;
    } else if (strcmp(a, "--version") == 0) {
      printf("deshost %s (%s)\n", DES_VERSION, LUA_RELEASE);
      return -1;
    } else if (strcmp(a, "--until") == 0 || strcmp(a, "--seed") == 0 ||
               strcmp(a, "-e") == 0) {
      const char *v = (i + 1 < argc) ? argv[++i] : NULL;
      if (v == NULL) {
        print_usage_error("option '%s' needs a value", a);
        return 2;
      }
      if (a[1] == 'e') {
        if (o->nchunks == 16) {
          print_usage_error("too many %s options", a);
          return 2;
        }
        o->chunks[o->nchunks++] = v;
      } else if (a[2] == 'u') {
        char *end;
        double d;
        errno = 0;
        d = strtod(v, &end);
        if (*v == '\0' || *end != '\0' || errno != 0 || !(d >= 0)) {
          print_usage_error("--until needs a time >= 0 (got '%s')", v);
          return 2;
        }
        o->until = v;
      } else {
        char *end;
        long long s;
        errno = 0;
        s = strtoll(v, &end, 10);
        if (*v == '\0' || *end != '\0' || errno != 0) {
          print_usage_error("--seed needs an integer (got '%s')", v);
          return 2;
        }
        o->seed = (lua_Integer)s;
      }
    } else {
      print_usage_error("unknown option '%s'", a);
      return 2;
    }
  }
  if (i >= argc) {
    if (o->nchunks > 0) {
      o->script = 0;
      return 0;
    }
    print_usage_error("%s", "no model given");
    return 2;
  }
  o->script = i;
  return 0;
}

/* Error handler for chunks run outside tasks: adds a traceback. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL)
    msg = luaL_tolstring(L, 1, NULL);
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static int docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg, status;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  return status;
}

/* Ctrl-C in the REPL: stop the run in progress (only sets a flag). */
static void repl_stop(void *sim_object) {
  des_runtime *rt = sim_object;
  sim_stop(rt->sim);
}

/* Print the tasks still waiting when the queue ran dry. */
static void report_stuck(lua_State *L) {
  int i, n, shown = 0;
  lua_getfield(L, -1, "tasks");
  lua_call(L, 0, 1);
  n = (int)lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    lua_getfield(L, -1, "daemon");
    if (!lua_toboolean(L, -1)) {
      if (shown++ == 0) {
        lua_getfield(L, -4, "now");
        lua_call(L, 0, 1);
        fprintf(stderr,
                "%s: the simulation ran out of events at t=%s while tasks "
                "still wait (a deadlock?):\n",
                progname, luaL_tolstring(L, -1, NULL));
        lua_pop(L, 2);
      }
      /* one value at a time: argument evaluation order is unspecified */
      const char *label = luaL_tolstring(L, -2, NULL);
      const char *what, *since;
      lua_getfield(L, -3, "waiting_on");
      what = luaL_optstring(L, -1, "?");
      lua_getfield(L, -4, "since");
      since = luaL_tolstring(L, -1, NULL);
      fprintf(stderr, "  %s on %s since t=%s\n", label, what, since);
      lua_pop(L, 4);
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
}

/* Everything, protected. argv and options come as light userdata. */
static int dsmain(lua_State *L) {
  char **argv = lua_touserdata(L, 1);
  options *o = lua_touserdata(L, 2);
  int argc = (int)lua_tointeger(L, 3);
  int i, status, des_idx;
  lua_Integer pending;
  luaL_openlibs(L);
  /* the Lua library (lua/des/...) comes first on the module path */
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", DES_LUA_DIR, DES_LUA_DIR);
  lua_getfield(L, -2, "path");
  lua_concat(L, 2);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  luaL_requiref(L, "des", luaopen_des, 0);
  des_idx = lua_gettop(L);
  /* the default simulation, with the seed asked for */
  lua_getfield(L, des_idx, "new");
  lua_createtable(L, 0, 1);
  lua_pushinteger(L, o->seed);
  lua_setfield(L, -2, "seed");
  lua_call(L, 1, 1);
  ldes_set_default(L, -1);
  if (o->trace) {
    lua_getfield(L, -1, "trace");
    lua_pushvalue(L, -2);
    lua_pushboolean(L, 1);
    lua_call(L, 2, 0);
  }
  if (o->shuffle != NULL) {
    lua_getfield(L, -1, "shuffle_ties");
    lua_pushvalue(L, -2);
    lua_pushinteger(L, (lua_Integer)strtoll(o->shuffle, NULL, 10));
    lua_call(L, 2, 0);
  }
  lua_pop(L, 1);
  /* arg: like lua.c, the script at 0 */
  lua_createtable(L, argc, 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - (o->script ? o->script : argc));
  }
  lua_setglobal(L, "arg");
  for (i = 0; i < o->nchunks; i++) {
    if (luaL_loadbuffer(L, o->chunks[i], strlen(o->chunks[i]), "=(-e)") !=
            LUA_OK ||
        docall(L, 0, 0) != LUA_OK)
      return lua_error(L);
  }
  if (o->script == 0)
    return 0;
  status = luaL_loadfile(L, argv[o->script]);
  if (status != LUA_OK)
    return lua_error(L);
  /* des.spawn{name="main", chunk, args...} */
  lua_getfield(L, des_idx, "spawn");
  lua_createtable(L, argc - o->script, 1);
  lua_pushvalue(L, -3);
  lua_rawseti(L, -2, 1);
  for (i = o->script + 1; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - o->script + 1);
  }
  lua_pushliteral(L, "main");
  lua_setfield(L, -2, "name");
  lua_call(L, 1, 0);
  lua_pop(L, 1);
  if (o->interactive) { /* the prompt drives the run */
    lua_getfield(L, des_idx, "default");
    lua_call(L, 0, 1);
    repl_run(L, -1, argv[o->script], repl_stop, lua_touserdata(L, -1));
    return 0;
  }
  /* des.run([until]) */
  lua_getfield(L, des_idx, "run");
  if (o->until != NULL)
    lua_pushnumber(L, strtod(o->until, NULL));
  else
    lua_pushnil(L);
  lua_call(L, 1, 0);
  lua_getfield(L, des_idx, "pending");
  lua_call(L, 0, 1);
  pending = lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (o->until == NULL && pending == 0) { /* the queue ran dry */
    lua_pushvalue(L, des_idx);
    report_stuck(L);
    lua_pop(L, 1);
  }
  return 0;
}

int main(int argc, char **argv) {
  options o;
  lua_State *L;
  int rc = parse_args(argc, argv, &o);
  if (rc != 0)
    return rc < 0 ? 0 : rc;
  L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "%s: cannot create a Lua state: not enough memory\n",
            progname);
    return 1;
  }
  lua_pushcfunction(L, dsmain);
  lua_pushlightuserdata(L, argv);
  lua_pushlightuserdata(L, &o);
  lua_pushinteger(L, argc);
  rc = lua_pcall(L, 3, 0, 0);
  if (rc != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL)
      msg = luaL_tolstring(L, -1, NULL);
    fprintf(stderr, "%s: %s\n", progname, msg);
  }
  lua_close(L);
  return rc == LUA_OK ? 0 : 1;
}
