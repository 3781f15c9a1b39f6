/*
** main.c -- the deshost command line: run a Lua model as a simulation.
**
**   deshost [options] model.lua [args...]
**
** The model's main chunk runs as a task named "main" at time 0; then the
** simulation runs until no event is left or --until T. A thin client of
** deshost.h: a host made from the options, the model loaded into it, run.
**
** Ctrl-C stops the run after the current event (the end hooks, des.at_end,
** run; so does a sim:run the model started, which raises) and deshost
** exits with status 130, saying where it stopped: the time, the events
** handled and the live tasks (report_ctrl_c); a second Ctrl-C interrupts Lua
** code that does not get there (an error with the task, time and
** traceback, even inside a C loop of Lua's libraries); a third ends the
** process at once (130).
*/
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "checkdet.h"
#include "deshost.h"
#include "experiment.h"
#include "options.h"
#include "progress.h"
#include "repl.h"
#include "report.h"

static const char *progname = "deshost";
static des_host *volatile cli_host;      /* the host, while one exists */
static volatile sig_atomic_t cli_sigint; /* Ctrl-Cs so far */

/* SIGINT, as Python and gdb users expect: the first stops the run after
** the event under way (the end hooks, des.at_end, then run and report);
** the second, for a run that does not get there (a loop in Lua or in a C
** loop of Lua's libraries), interrupts the Lua code running; the third
** ends the process. des_stop and des_interrupt are signal-safe. */
static void cli_on_sigint(int sig) {
  static const char msg[] = "\ndeshost: interrupted again, exiting\n";
  des_host *h = cli_host;
  (void)sig;
  if (h != NULL && cli_sigint < 2) {
    if (cli_sigint++ == 0)
      des_stop(h);
    else
      des_interrupt(h);
    return;
  }
  if (write(2, msg, sizeof(msg) - 1) < 0) {
    /* nothing more to do: we exit anyway */
  }
  _exit(130);
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

/* A time in units as Lua prints a float: "%.14g", and ".0" when that
** looks like an integer ("3.0", "2.5"). */
static const char *fmt_units(char *buf, size_t size, double u) {
  snprintf(buf, size, "%.14g", u);
  if (buf[strspn(buf, "-0123456789")] == '\0')
    strncat(buf, ".0", size - strlen(buf) - 1);
  return buf;
}

/* After a paced run (--realtime, or the model's sim:realtime): how it kept
** up with the wall clock (lag is never silent). */
static void report_lateness(des_host *h) {
  des_realtime_info st;
  des_realtime_stats(h, &st);
  if (st.factor == 0 && st.batches == 0)
    return; /* never paced */
  fprintf(stderr,
          "%s: realtime x%g: %llu event times, %llu late by more than 1 ms, "
          "worst %.3f ms (at t=%g), mean %.3f ms\n",
          progname, st.factor, (unsigned long long)st.batches,
          (unsigned long long)st.late, st.worst * 1e3,
          des_units(h, st.worst_when),
          st.batches ? st.total * 1e3 / (double)st.batches : 0.0);
}

/* What list_tasks needs while listing: the header printed before the
** first task, and how many tasks to name at most (0: all). */
typedef struct task_list {
  des_host *h;
  const char *header;
  size_t shown, max, live;
} task_list;

/* des_tasks callback: one line per non-daemon task still waiting (the
** header before the first), up to r->max of them; counts them all. */
static int list_task(void *ctx, const des_task_info *t) {
  static const char *const states[] = {"ready", "running", "sleeping",
                                       "waiting"};
  task_list *r = ctx;
  char since[40], label[160];
  if (t->daemon)
    return 0;
  r->live++;
  if (r->max != 0 && r->shown == r->max)
    return 0;
  if (r->shown++ == 0)
    fputs(r->header, stderr);
  if (t->name[0] != '\0')
    snprintf(label, sizeof(label), "task '%s' (#%llu)", t->name,
             (unsigned long long)t->serial);
  else
    snprintf(label, sizeof(label), "task #%llu", (unsigned long long)t->serial);
  if (t->description[0] != '\0')
    fprintf(stderr, "  %s: %s since t=%s\n", label, t->description,
            fmt_units(since, sizeof(since), des_units(r->h, t->since)));
  else if (t->state == DES_TASK_READY || t->state == DES_TASK_RUNNING)
    fprintf(stderr, "  %s: %s\n", label, states[t->state & 3]);
  else
    fprintf(stderr, "  %s: %s on %s since t=%s\n", label, states[t->state & 3],
            t->waiting_on[0] ? t->waiting_on : "?",
            fmt_units(since, sizeof(since), des_units(r->h, t->since)));
  return 0;
}

/* List the live tasks (not daemons) on stderr, at most max of them (0:
** all) after header, and "... and N more" past them: through deshost.h,
** without running the model's Lua (whose globals it owns). Returns how
** many there are. */
static size_t list_tasks(des_host *h, const char *header, size_t max) {
  task_list r;
  memset(&r, 0, sizeof(r));
  r.h = h;
  r.header = header;
  r.max = max;
  des_tasks(h, list_task, &r);
  if (r.live > r.shown)
    fprintf(stderr, "  ... and %zu more\n", r.live - r.shown);
  return r.live;
}

/* Print the tasks still waiting when the queue ran dry. */
static void report_stuck(des_host *h) {
  char now[40], header[160];
  snprintf(header, sizeof(header),
           "%s: the simulation ran out of events at t=%s while tasks "
           "still wait (a deadlock?):\n",
           progname, fmt_units(now, sizeof(now), des_units(h, des_now(h))));
  list_tasks(h, header, 0);
}

/* des_tasks callback: count the live tasks that are not daemons. */
static int count_task(void *ctx, const des_task_info *t) {
  if (!t->daemon)
    ++*(size_t *)ctx;
  return 0;
}

/* Ctrl-C stopped the run: where (the clock, the events handled so far)
** and the live tasks, the first CLI_CTRL_C_TASKS of them named with what
** they wait on, as the deadlock report does. */
#define CLI_CTRL_C_TASKS 10
static void report_ctrl_c(des_host *h) {
  size_t live = 0;
  char now[40], header[200];
  unsigned long long n = (unsigned long long)des_events_handled(h);
  des_tasks(h, count_task, &live);
  snprintf(header, sizeof(header),
           "%s: stopped by Ctrl-C at t=%s after %llu event%s, with %zu live "
           "task%s (not daemons)%s\n",
           progname, fmt_units(now, sizeof(now), des_units(h, des_now(h))), n,
           n == 1 ? "" : "s", live, live == 1 ? "" : "s", live ? ":" : "");
  if (live == 0)
    fputs(header, stderr);
  else
    list_tasks(h, header, CLI_CTRL_C_TASKS);
}

/* --until stopped the run: say so on stderr when tasks (other than
** daemons) were still pending, since their work is cut short. */
static void report_until(des_host *h) {
  size_t live = 0;
  char now[40];
  des_tasks(h, count_task, &live);
  if (live > 0)
    fprintf(stderr,
            "%s: --until stopped the run at t=%s with %zu live task%s "
            "(not daemons) still pending\n",
            progname, fmt_units(now, sizeof(now), des_units(h, des_now(h))),
            live, live == 1 ? "" : "s");
}

/* `deshost -`: the model is the text on standard input, loaded as the
** chunk "stdin" (the model's arguments are in the global `arg`). */
static int load_stdin(des_host *h) {
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap), *p;
  int rc;
  while (buf != NULL) {
    size_t n = fread(buf + len, 1, cap - len - 1, stdin);
    len += n;
    if (n == 0)
      break;
    if (len + 1 == cap) {
      p = realloc(buf, cap * 2);
      if (p == NULL)
        free(buf);
      buf = p;
      cap *= 2;
    }
  }
  if (buf == NULL) {
    fprintf(stderr, "%s: not enough memory for the model on stdin\n", progname);
    return DES_ENOMEM;
  }
  buf[len] = '\0';
  rc = des_load_string(h, buf, "=stdin");
  free(buf);
  return rc;
}

/* Print the host's last error and return the exit status 1. */
static int fail(des_host *h) {
  fprintf(stderr, "%s: %s\n", progname, des_last_error(h));
  return 1;
}

/* --report: write the HTML report of the run that ended with rc after
** `wall` seconds. Returns 0, or 1 after saying why it could not. */
static int write_report(des_host *h, const cli_options *o, int argc,
                        char **argv, int rc, double wall, const char *msg) {
  report_info in;
  char err[512];
  memset(&in, 0, sizeof(in));
  in.model = strcmp(argv[o->script], "-") == 0 ? "stdin" : argv[o->script];
  in.seed = (uint64_t)o->seed;
  in.nargs = argc - o->script - 1;
  in.args = (const char *const *)argv + o->script + 1;
  in.until = o->until;
  in.wall_seconds = wall;
  in.outcome = rc == DES_OK || rc == DES_EMPTY ? "completed"
               : rc == DES_STOPPED             ? "stopped by the model"
                                               : msg;
  if (report_write(h, o->report, &in, NULL, 0, err, sizeof(err)) == 0)
    return 0;
  fprintf(stderr, "%s: --report: %s\n", progname, err);
  return 1;
}

/* Seconds on a monotonic clock (the report's wall time). */
static double wall_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Everything after the options: make the host, load, run. */
static int run_model(des_host *h, int argc, char **argv, const cli_options *o) {
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
  rc = checkdet_child(h, o->trace);
  if (rc < 0) {
    fprintf(stderr, "%s: --check-determinism: cannot record the run\n",
            progname);
    return 1;
  }
  if (o->trace && rc == 0)
    des_set_trace(h, trace_to_stderr, NULL);
  if (o->shuffle != NULL)
    des_shuffle_ties(h, 1, (uint64_t)strtoll(o->shuffle, NULL, 10));
  if (exp_set_params(h, o) != DES_OK) /* --param, for des.param */
    return fail(h);
  for (i = 0; i < o->nchunks; i++) {
    if (des_dostring(h, o->chunks[i], 0) != DES_OK)
      return fail(h);
  }
  if (o->script == 0) /* -e chunks only; with -i, a prompt over no model */
    return o->interactive ? repl_run(h, NULL) : 0;
  if (strcmp(argv[o->script], "-") == 0)
    rc = load_stdin(h);
  else
    rc = des_load_file(h, argv[o->script], argc - o->script - 1,
                       (const char *const *)argv + o->script + 1);
  if (rc != DES_OK)
    return fail(h);
  if (o->interactive) /* the prompt drives the run */
    return repl_run(h, argv[o->script]);
  {
    des_time t = -1;
    double started = wall_clock();
    char *msg;
    int bad = 0;
    if (o->until != NULL && des_ticks(h, strtod(o->until, NULL), &t) != DES_OK)
      return fail(h);
    rc = progress_run(h, t, o->progress);
    report_lateness(h);
    msg = strdup(des_last_error(h)); /* the run's: a report clears it */
    if (o->report != NULL)
      bad = write_report(h, o, argc, argv, rc, wall_clock() - started,
                         msg != NULL ? msg : "(no memory for the message)");
    if (rc < 0)
      fprintf(stderr, "%s: %s\n", progname, msg != NULL ? msg : "?");
    free(msg);
    if (cli_sigint > 0) { /* Ctrl-C: the run stopped, its end hooks ran */
      report_ctrl_c(h);
      return 130; /* as a shell reports SIGINT */
    }
    if (rc < 0)
      return rc == DES_EINTERRUPT ? 130 : 1;
    if (bad)
      return 1;
  }
  if (exp_check_unknown(h, o) != 0) /* --param names the model lacks */
    return 2;
  if (o->until != NULL)
    report_until(h);
  else if (des_pending(h) == 0) /* the queue ran dry */
    report_stuck(h);
  return 0;
}

int main(int argc, char **argv) {
  cli_options o;
  des_config cfg;
  des_host *h;
  int rc = cli_parse(argc, argv, &o, stdout, stderr);
  if (rc != 0)
    return rc < 0 ? 0 : rc;
  if (o.list_params)
    return experiment_list_params(&o, argc, argv);
  if (o.replications > 0) /* with --check-determinism: checked first */
    return experiment_main(&o, argc, argv);
  if (o.check_determinism)
    return checkdet_main(argc, argv, &o, stdout);
  des_config_init(&cfg);
  cfg.seed = (uint64_t)o.seed;
  cfg.sandbox = o.sandbox;
  cfg.strict = o.strict              ? DES_STRICT_ON
               : checkdet_is_child() ? DES_STRICT_COUNT
                                     : DES_STRICT_OFF;
  cfg.mem_limit = o.mem_limit;
  cfg.max_steps = o.max_steps;
  cfg.realtime = o.realtime;
  cfg.realtime_strict = o.realtime_strict;
  rc = des_host_new(&h, &cfg);
  if (rc != DES_OK) {
    fprintf(stderr, "%s: cannot create the host: %s\n", progname,
            des_strerror(rc));
    return 1;
  }
  if (!o.interactive) { /* the REPL has its own Ctrl-C */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = cli_on_sigint;
    sigemptyset(&sa.sa_mask);
    cli_host = h;
    sigaction(SIGINT, &sa, NULL);
  }
  rc = run_model(h, argc, argv, &o);
  checkdet_child_finish(h); /* a checker's child: its report's calls */
  cli_host = NULL;
  des_host_free(h);
  return rc;
}
