/*
** main.c -- the deshost command line: run a Lua model as a simulation.
**
**   deshost [options] model.lua [args...]
**
** The model's main chunk runs as a task named "main" at time 0; then the
** simulation runs until no event is left or --until T. A thin client of
** deshost.h: a host made from the options, the model loaded into it, run.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "deshost.h"
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
    "  --sandbox     run a model you do not trust: no io, os, debug, no C\n"
    "                modules, no binary chunks, no loading of files\n"
    "  --mem-limit N stop the model from holding more than N bytes (suffix\n"
    "                K, M or G): past it, allocations fail with a memory "
    "error\n"
    "  --max-steps N stop the model after N Lua VM instructions\n"
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
  int interactive, trace, sandbox;
  size_t mem_limit;
  unsigned long long max_steps;
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

/* A count > 0 in decimal; with K, M or G suffixes (powers of 1024) when
** `sizes`. Returns 0, or -1 if s is not one. */
static int parse_count(const char *s, int sizes, unsigned long long *out) {
  char *end;
  unsigned long long n, mul = 1;
  errno = 0;
  if (*s < '0' || *s > '9')
    return -1;
  n = strtoull(s, &end, 10);
  if (errno != 0 || n == 0)
    return -1;
  if (sizes && *end != '\0' && end[1] == '\0') {
    mul = *end == 'K'   ? 1ull << 10
          : *end == 'M' ? 1ull << 20
          : *end == 'G' ? 1ull << 30
                        : 0;
    end++;
  }
  if (*end != '\0' || mul == 0 || n > SIZE_MAX / mul)
    return -1;
  *out = n * mul;
  return 0;
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
    } else if (strcmp(a, "--sandbox") == 0) {
      o->sandbox = 1;
    } else if (strcmp(a, "--mem-limit") == 0 || strcmp(a, "--max-steps") == 0) {
      const char *v = (i + 1 < argc) ? argv[++i] : NULL;
      unsigned long long n;
      if (v == NULL || parse_count(v, a[2] == 'm' && a[3] == 'e', &n) != 0) {
        print_usage_error(a[3] == 'e' ? "--mem-limit needs a size in bytes "
                                        "> 0, with K, M or G (got '%s')"
                                      : "--max-steps needs a count > 0 "
                                        "(got '%s')",
                          v ? v : "nothing");
        return 2;
      }
      if (a[3] == 'e')
        o->mem_limit = (size_t)n;
      else
        o->max_steps = n;
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
      printf("deshost %s (%s)\n", DESHOST_VERSION, LUA_RELEASE);
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

/* --trace: each handled event on stderr. */
static void trace_to_stderr(void *ctx, const char *line) {
  (void)ctx;
  fprintf(stderr, "%s\n", line);
}

/* Protected: the global `arg`, as lua.c makes it (the script at 0). */
static int set_arg(lua_State *L) {
  char **argv = lua_touserdata(L, 1);
  int argc = (int)lua_tointeger(L, 2), script = (int)lua_tointeger(L, 3);
  int i;
  lua_createtable(L, argc, 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - (script ? script : argc));
  }
  lua_setglobal(L, "arg");
  return 0;
}

/* Protected: print the tasks still waiting when the queue ran dry. */
static int report_stuck(lua_State *L) {
  int i, n, shown = 0;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "des");
  lua_call(L, 1, 1);
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
  return 0;
}

/* Print the host's last error and return the exit status 1. */
static int fail(des_host *h) {
  fprintf(stderr, "%s: %s\n", progname, des_last_error(h));
  return 1;
}

/* Everything after the options: make the host, load, run. */
static int run_model(des_host *h, int argc, char **argv, const options *o) {
  lua_State *L = des_lua(h);
  int i, rc;
  lua_pushcfunction(L, set_arg);
  lua_pushlightuserdata(L, argv);
  lua_pushinteger(L, argc);
  lua_pushinteger(L, o->script);
  if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
    fprintf(stderr, "%s: %s\n", progname, lua_tostring(L, -1));
    return 1;
  }
  if (o->trace)
    des_set_trace(h, trace_to_stderr, NULL);
  if (o->shuffle != NULL)
    des_shuffle_ties(h, 1, (uint64_t)strtoll(o->shuffle, NULL, 10));
  for (i = 0; i < o->nchunks; i++) {
    if (des_dostring(h, o->chunks[i], 0) != DES_OK)
      return fail(h);
  }
  if (o->script == 0)
    return 0;
  if (des_load_file(h, argv[o->script], argc - o->script - 1,
                    (const char *const *)argv + o->script + 1) != DES_OK)
    return fail(h);
  if (o->interactive) /* the prompt drives the run */
    return repl_run(h, argv[o->script]);
  if (o->until != NULL) {
    des_time t;
    if (des_ticks(h, strtod(o->until, NULL), &t) != DES_OK)
      return fail(h);
    rc = des_run_until(h, t);
  } else
    rc = des_run(h);
  if (rc < 0)
    return fail(h);
  if (o->until == NULL && des_pending(h) == 0) { /* the queue ran dry */
    lua_pushcfunction(L, report_stuck);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK)
      lua_pop(L, 1);
  }
  return 0;
}

int main(int argc, char **argv) {
  options o;
  des_config cfg;
  des_host *h;
  int rc = parse_args(argc, argv, &o);
  if (rc != 0)
    return rc < 0 ? 0 : rc;
  des_config_init(&cfg);
  cfg.seed = (uint64_t)o.seed;
  cfg.sandbox = o.sandbox;
  cfg.mem_limit = o.mem_limit;
  cfg.max_steps = o.max_steps;
  rc = des_host_new(&h, &cfg);
  if (rc != DES_OK) {
    fprintf(stderr, "%s: cannot create the host: %s\n", progname,
            des_strerror(rc));
    return 1;
  }
  rc = run_model(h, argc, argv, &o);
  des_host_free(h);
  return rc;
}
