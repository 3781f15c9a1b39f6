/*
** options.c -- the deshost command line's options (see usage_text): parsed
** without side effects beyond the two streams, so that a fuzzer can drive
** it (host/tests/fuzz_options.c).
*/
#include "options.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deshost.h"

static const char usage_text[] =
    "usage: deshost [options] model.lua [args...]\n"
    "       deshost [options] - [args...]     (the model from standard input)\n"
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
    "                prompt to step, inspect and break it ('help' there);\n"
    "                expressions see the locals of the selected task's frame\n"
    "                (the main task's by default). On a terminal the lines\n"
    "                typed are kept in ~/.deshost_history, or in the file\n"
    "                $DESHOST_HISTORY names (DESHOST_HISTORY= keeps none)\n"
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
    "  --report FILE  write FILE: one self-contained HTML page with the run's\n"
    "                statistics, time series and histograms (opens offline)\n"
    "  --progress    show a progress line on stderr even when it is not a\n"
    "                terminal (one line a second); on a terminal it shows\n"
    "                itself for runs longer than a second\n"
    "  --no-progress never show the progress line\n"
    "  --realtime [F]  pace the run by the wall clock: F model time units\n"
    "                per wall second (default 1; give F as --realtime=F when\n"
    "                the model's name is a number). Late events are caught\n"
    "                up; the lateness is reported on stderr at the end\n"
    "  --realtime-strict TOL  with --realtime: fail when an event is more\n"
    "                than TOL wall seconds late\n"
    "  --strict      make the calls whose results cannot repeat raise an\n"
    "                error: os.time, os.clock, os.date without a time,\n"
    "                collectgarbage('count'), and tostring, print or\n"
    "                string.format of a table, function, thread or userdata\n"
    "                (they show its address)\n"
    "  --check-determinism  run the model several times (--runs N, default\n"
    "                2) in processes that differ in address layout and\n"
    "                environment; exit 0 when every run handles the same\n"
    "                events and prints the same output, else 1 with the\n"
    "                first event where they part, each run's tracebacks and\n"
    "                the calls above that the model made. With\n"
    "                --replications: replication 0 of each point is\n"
    "                checked before the study, which runs only if it passes\n"
    "  --param NAME=VALUE  set the model's parameter NAME (des.param)\n"
    "  --params      list the model's parameters and their defaults\n"
    "  --replications N  run an experiment: N runs at each sweep point, each\n"
    "                in a fresh host with its own seed; prints each result's\n"
    "                mean, sd and confidence interval (docs/experiments.md)\n"
    "  --sweep NAME=V1,V2,...  a parameter's values (points: every\n"
    "                combination of the sweeps)\n"
    "  --jobs K      worker processes (default: the number of cores)\n"
    "  --results FILE  one row per run, CSV (or JSON Lines for .jsonl)\n"
    "  --resume      skip the runs already in the results file\n"
    "  --confidence C  level of the intervals (default 0.95)\n"
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
    "  deshost --until 60 --seed 7 scripts/models/carwash.lua\n"
    "  deshost -e 'SEED_NOTE=1' --until=30 scripts/models/reneging.lua\n"
    "  deshost --check-determinism scripts/models/machineshop.lua\n"
    "  deshost -i scripts/models/clerk.lua\n"
    "  deshost --trace --shuffle-ties 3 scripts/models/pingpong.lua\n"
    "  deshost --report out.html scripts/models/machineshop.lua\n";

/* Print a usage error naming arg to err. */
static void usage_error(FILE *err, const char *fmt, const char *arg) {
  fprintf(err, "deshost: ");
  fprintf(err, fmt, arg);
  fprintf(err, "\nusage: deshost [options] model.lua [args...] "
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

/* A finite number > 0 (--realtime's factor, --realtime-strict's
** tolerance). Returns 0, or -1 if s is not one. */
static int parse_positive(const char *s, double *out) {
  char *end;
  double d;
  errno = 0;
  d = strtod(s, &end);
  if (*s == '\0' || *end != '\0' || errno != 0 || !(d > 0) || d > 1e300)
    return -1;
  *out = d;
  return 0;
}

/* The value of the option at argv[*i]: the part after '=' of a long
** option given as --name=value (GNU getopt_long's form), else the next
** argument (consumed), or NULL when there is none. */
static const char *option_value(int argc, char **argv, int *i,
                                const char *inline_value) {
  if (inline_value != NULL)
    return inline_value;
  return *i + 1 < argc ? argv[++*i] : NULL;
}

int cli_parse(int argc, char **argv, cli_options *o, FILE *out, FILE *err) {
  int i;
  char name[32];
  memset(o, 0, sizeof(*o));
  o->progress = -1;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i], *inline_value = NULL, *eq;
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    }
    if (a[0] != '-' || a[1] == '\0')
      break; /* the model ("-": read from standard input) */
    eq = strchr(a, '=');
    if (a[1] == '-' && eq != NULL) { /* --name=value */
      size_t n = (size_t)(eq - a);
      if (n >= sizeof(name)) {
        usage_error(err, "unknown option '%s'", a);
        return 2;
      }
      memcpy(name, a, n);
      name[n] = '\0';
      a = name;
      inline_value = eq + 1;
    }
    if (inline_value != NULL &&
        (strcmp(a, "--until") && strcmp(a, "--seed") &&
         strcmp(a, "--mem-limit") && strcmp(a, "--max-steps") &&
         strcmp(a, "--shuffle-ties") && strcmp(a, "--runs") &&
         strcmp(a, "--report") && strcmp(a, "--realtime") &&
         strcmp(a, "--realtime-strict") && !expopts_takes_value(a))) {
      usage_error(err, "option '%s' takes no value", argv[i]);
      return 2;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(usage_text, out);
      return -1;
    } else if (strcmp(a, "-i") == 0) {
      o->interactive = 1;
    } else if (strcmp(a, "--trace") == 0) {
      o->trace = 1;
    } else if (strcmp(a, "--progress") == 0 ||
               strcmp(a, "--no-progress") == 0) {
      o->progress = a[2] == 'p';
    } else if (strcmp(a, "--report") == 0) {
      if ((o->report = option_value(argc, argv, &i, inline_value)) == NULL ||
          o->report[0] == '\0') {
        usage_error(err, "%s needs a file name", a);
        return 2;
      }
    } else if (strcmp(a, "--sandbox") == 0) {
      o->sandbox = 1;
    } else if (strcmp(a, "--strict") == 0) {
      o->strict = 1;
    } else if (strcmp(a, "--mem-limit") == 0 || strcmp(a, "--max-steps") == 0) {
      const char *v = option_value(argc, argv, &i, inline_value);
      unsigned long long n;
      if (v == NULL || parse_count(v, a[2] == 'm' && a[3] == 'e', &n) != 0) {
        usage_error(err,
                    a[3] == 'e' ? "--mem-limit needs a size in bytes "
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
      const char *v = option_value(argc, argv, &i, inline_value);
      if (v == NULL || (strtoll(v, &end, 10), *v == '\0' || *end != '\0')) {
        usage_error(err, "--shuffle-ties needs an integer seed (got '%s')",
                    v ? v : "nothing");
        return 2;
      }
      o->shuffle = v;
    } else if (strcmp(a, "--realtime") == 0 ||
               strcmp(a, "--realtime-strict") == 0) {
      const char *v = inline_value;
      int strict = a[10] == '-';
      double d = 1;
      if (v == NULL &&
          (strict || (i + 1 < argc && parse_positive(argv[i + 1], &d) == 0)))
        v = option_value(argc, argv, &i, NULL);
      if (v != NULL &&
          (parse_positive(v, &d) != 0 || (!strict && (d < 1e-9 || d > 1e9)))) {
        usage_error(err,
                    strict ? "--realtime-strict needs a tolerance > 0 in "
                             "wall seconds (got '%s')"
                           : "--realtime needs a factor from 1e-9 to 1e9 "
                             "(got '%s')",
                    v);
        return 2;
      }
      if (v == NULL && strict) {
        usage_error(err, "%s", "--realtime-strict needs a tolerance");
        return 2;
      }
      if (strict)
        o->realtime_strict = d;
      else
        o->realtime = d;
    } else if (strcmp(a, "--check-determinism") == 0) {
      o->check_determinism = 1;
    } else if (strcmp(a, "--runs") == 0) {
      const char *v = option_value(argc, argv, &i, inline_value);
      unsigned long long n;
      if (v == NULL || parse_count(v, 0, &n) != 0 || n < 2 ||
          n > CLI_MAX_RUNS) {
        usage_error(err, "--runs needs a count from 2 to 64 (got '%s')",
                    v ? v : "nothing");
        return 2;
      }
      o->runs = (int)n;
    } else if (strcmp(a, "--version") == 0) {
      fprintf(out, "deshost %s (%s)\n", DESHOST_VERSION, LUA_RELEASE);
      return -1;
    } else if (strcmp(a, "--until") == 0 || strcmp(a, "--seed") == 0 ||
               strcmp(a, "-e") == 0) {
      const char *v = option_value(argc, argv, &i, inline_value);
      if (v == NULL) {
        usage_error(err, "option '%s' needs a value", a);
        return 2;
      }
      if (a[1] == 'e') {
        if (o->nchunks == CLI_MAX_CHUNKS) {
          usage_error(err, "too many %s options", a);
          return 2;
        }
        o->chunks[o->nchunks++] = v;
      } else if (a[2] == 'u') {
        char *end;
        double d;
        errno = 0;
        d = strtod(v, &end);
        if (*v == '\0' || *end != '\0' || errno != 0 || !(d >= 0) ||
            d > 1e300) {
          usage_error(err, "--until needs a finite time >= 0 (got '%s')", v);
          return 2;
        }
        o->until = v;
      } else {
        char *end;
        long long s;
        errno = 0;
        s = strtoll(v, &end, 10);
        if (*v == '\0' || *end != '\0' || errno != 0) {
          usage_error(err, "--seed needs an integer (got '%s')", v);
          return 2;
        }
        o->seed = (int64_t)s;
      }
    } else {
      int rc = expopts_parse(a,
                             expopts_takes_value(a)
                                 ? option_value(argc, argv, &i, inline_value)
                                 : NULL,
                             o, err);
      if (rc >= 0) {
        if (rc != 0)
          return rc;
        continue;
      }
      usage_error(err, "unknown option '%s'", a);
      return 2;
    }
  }
  if (i >= argc) {
    if ((o->nchunks > 0 || o->interactive) &&
        !(o->replications || o->list_params)) {
      o->script = 0;
      return 0;
    }
    usage_error(err, "%s", "no model given");
    return 2;
  }
  o->script = i;
  o->argv_model = argv[i];
  if (expopts_check(o, err) != 0)
    return 2;
  if (o->runs != 0 && !o->check_determinism) {
    usage_error(err, "%s", "--runs goes with --check-determinism");
    return 2;
  }
  if (o->realtime_strict > 0 && o->realtime == 0)
    o->realtime = 1; /* --realtime-strict alone: factor 1 */
  if (o->check_determinism && o->interactive) {
    usage_error(err, "%s",
                "--check-determinism runs the model in batch, not with -i");
    return 2;
  }
  return 0;
}
