/*
** experiment.c -- `deshost --replications N [--sweep k=v1,v2]... model.lua`:
** the plan (points, runs, seeds), the coordinator that hands runs to
** forked workers (exprun.c) and MPI ranks (expmpi.c), writes the results
** in run order (expfile.c) whatever order they finish in, and the summary
** per point (expstat.c). Also the parameters of single runs (--param,
** --params). A client of deshost.h only (docs/experiments.md).
*/
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "experiment.h"

static volatile sig_atomic_t exp_sigint; /* Ctrl-Cs so far */

/* Test only: after this many rows are written, the coordinator sends
** itself SIGKILL / SIGINT (DESHOST_TEST_KILL_AFTER, DESHOST_TEST_SIGINT_AFTER),
** so that the specs interrupt an experiment at a known point, not after a
** guessed time. 0: never. */
static long exp_kill_after, exp_int_after;

/* Ctrl-C: the first stops handing out runs (those in progress finish and
** are written), the second ends at once. */
static void exp_on_sigint(int sig) {
  static const char msg[] = "\ndeshost: interrupted: finishing the runs in "
                            "progress (Ctrl-C again to quit now)\n";
  (void)sig;
  if (exp_sigint++ == 0) {
    if (write(2, msg, sizeof(msg) - 1) < 0) {
      /* nothing to do */
    }
    return;
  }
  _exit(130);
}

/* {====================================================================
** The plan
** ===================================================================== */

/* The plan from the options (already checked by expopts.c). */
static int plan_build(exp_plan *pl, const cli_options *o, int argc,
                      char **argv) {
  int k;
  memset(pl, 0, sizeof(*pl));
  pl->o = o;
  pl->argc = argc;
  pl->argv = argv;
  pl->model = argv[o->script];
  pl->reps = o->replications > 0 ? o->replications : 1;
  pl->seed = (uint64_t)o->seed;
  pl->npoints = 1;
  for (k = 0; k < o->nparams; k++) {
    const char *v;
    pl->name[pl->nnames++] = exp_split_assign(o->params[k], &v);
    pl->fixed_value[k] = (char *)v;
  }
  pl->nfixed = o->nparams;
  for (k = 0; k < o->nsweeps; k++) {
    const char *v;
    char *list, *tok, *save;
    int n = 0;
    pl->name[pl->nnames++] = exp_split_assign(o->sweeps[k], &v);
    list = strdup(v);
    pl->sweep_values[k] = calloc(strlen(v) + 2, sizeof(char *));
    for (tok = strtok_r(list, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save))
      pl->sweep_values[k][n++] = tok;
    pl->nvalues[k] = n;
    if (pl->npoints > 1000000000L / n) {
      fprintf(stderr, "deshost: the sweeps make more than 10^9 points\n");
      return 2;
    }
    pl->npoints *= n;
  }
  if (pl->npoints > 1000000000L / pl->reps) {
    fprintf(stderr, "deshost: the experiment has more than 10^9 runs\n");
    return 2;
  }
  pl->total = pl->npoints * pl->reps;
  return 0;
}

void exp_point(const exp_plan *pl, long p, const char **vals) {
  int k;
  for (k = 0; k < pl->nfixed; k++)
    vals[k] = pl->fixed_value[k];
  for (k = pl->nnames - pl->nfixed - 1; k >= 0; k--) {
    vals[pl->nfixed + k] = pl->sweep_values[k][p % pl->nvalues[k]];
    p /= pl->nvalues[k];
  }
}

/* A value as the seed's encoding writes it: a number in its shortest
** exact form ("2", "2.0" and "2e0" are one point), other text as it is. */
static void canonical(const char *v, char *out, size_t size) {
  char *end;
  double d = strtod(v, &end);
  if (*v != '\0' && *end == '\0' && isfinite(d)) {
    if (d == floor(d) && fabs(d) < 9007199254740992.0)
      snprintf(out, size, "%lld", (long long)d);
    else
      snprintf(out, size, "%.17g", d);
  } else
    snprintf(out, size, "%s", v);
}

uint64_t exp_seed(const exp_plan *pl, long run) {
  const char *vals[2 * CLI_MAX_PARAMS];
  int order[2 * CLI_MAX_PARAMS], k, j;
  char enc[8192], val[1024];
  size_t len = 0;
  exp_point(pl, run / pl->reps, vals);
  for (k = 0; k < pl->nnames; k++) { /* sorted by name (insertion sort) */
    for (j = k; j > 0 && strcmp(pl->name[order[j - 1]], pl->name[k]) > 0; j--)
      order[j] = order[j - 1];
    order[j] = k;
  }
  for (k = 0; k < pl->nnames; k++) {
    int n;
    canonical(vals[order[k]], val, sizeof(val));
    n = snprintf(enc + len, sizeof(enc) - len, "%s=%s\n", pl->name[order[k]],
                 val);
    if (n < 0 || (size_t)n >= sizeof(enc) - len)
      break; /* over 8K of parameters: the rest still differ in the file */
    len += (size_t)n;
  }
  return des_seed_mix(pl->seed, enc, len, (uint64_t)(run % pl->reps));
}

/* }==================================================================== */

/* {====================================================================
** Parameters: the probe's check, --params, single runs
** ===================================================================== */

int experiment_list_params(const cli_options *o, int argc, char **argv) {
  exp_plan pl;
  char **names, **dflts;
  int n, k, rc = plan_build(&pl, o, argc, argv);
  if (rc != 0)
    return rc;
  n = exp_probe(&pl, &names, &dflts);
  if (n < 0)
    return 1;
  for (k = 0; k < n; k++)
    printf("%s = %s\n", names[k], dflts[k]);
  return exp_check_given(&pl, names, dflts, n);
}

/* }==================================================================== */

/* {====================================================================
** The summary: statistics per point, in run order
** ===================================================================== */

typedef struct point_stats {
  char **names;
  exp_stat *st;
  int n;
  long runs, failed;
} point_stats;

typedef struct coord {
  exp_plan *pl;
  exp_file *file;
  point_stats *pts;
  long done, failed, next, written; /* runs done, failed, handed, written */
  exp_result *win;                  /* finished runs not yet written */
  char *have;                       /* win[run % cap] holds run? */
  long cap;
  int io_error;
  struct timespec t0, shown;
} coord;

/* Count a written run in its point's statistics (numeric results only). */
static void stats_add(coord *c, const exp_result *r) {
  point_stats *ps = &c->pts[r->run / c->pl->reps];
  int k, j;
  ps->runs++;
  if (!r->ok) {
    ps->failed++;
    return;
  }
  for (k = 0; k < r->nkv; k++) {
    char *end;
    double x = strtod(r->kv[k].value, &end);
    if (r->kv[k].value[0] == '\0' || *end != '\0' || !isfinite(x))
      continue;
    for (j = 0; j < ps->n && strcmp(ps->names[j], r->kv[k].name) != 0; j++)
      ;
    if (j == ps->n) {
      char **nn = realloc(ps->names, (size_t)(j + 1) * sizeof(char *));
      exp_stat *ns = realloc(ps->st, (size_t)(j + 1) * sizeof(exp_stat));
      if (nn != NULL)
        ps->names = nn;
      if (ns != NULL)
        ps->st = ns;
      if (nn == NULL || ns == NULL)
        continue;
      ps->names[j] = strdup(r->kv[k].name);
      memset(&ps->st[j], 0, sizeof(exp_stat));
      ps->n++;
    }
    exp_stat_add(&ps->st[j], x);
  }
}

/* A run read back from the results file (--resume). */
static void resumed(void *ctx, exp_result *r) {
  coord *c = ctx;
  stats_add(c, r);
  c->done++;
  c->failed += !r->ok;
}

/* The summary on stdout: per point, each result's mean, sd, interval, n. */
static void print_summary(const coord *c) {
  const exp_plan *pl = c->pl;
  double level = pl->o->confidence > 0 ? pl->o->confidence : 0.95;
  long p;
  int k;
  for (p = 0; p < pl->npoints; p++) {
    const point_stats *ps = &c->pts[p];
    const char *vals[2 * CLI_MAX_PARAMS];
    exp_point(pl, p, vals);
    printf("%spoint %ld of %ld:", p ? "\n" : "", p + 1, pl->npoints);
    for (k = 0; k < pl->nnames; k++)
      printf(" %s=%s", pl->name[k], vals[k]);
    printf(" (%ld runs, %ld failed)\n", ps->runs, ps->failed);
    if (ps->n > 0)
      printf("  %-28s %14s %14s %14s %14s %8s\n", "result", "mean", "sd",
             "ci low", "ci high", "n");
    for (k = 0; k < ps->n; k++) {
      const exp_stat *s = &ps->st[k];
      double sd = exp_stat_sd(s), half = NAN;
      if (s->n >= 2)
        half = exp_t_quantile(0.5 + level / 2, s->n - 1) * sd / sqrt(s->n);
      printf("  %-28s %14.6g %14.6g %14.6g %14.6g %8.0f\n", ps->names[k],
             s->mean, sd, s->mean - half, s->mean + half, s->n);
    }
  }
}

/* }==================================================================== */

/* {====================================================================
** The coordinator
** ===================================================================== */

static double elapsed(const struct timespec *a, const struct timespec *b) {
  return (double)(b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Progress on a terminal: done / total, failures, rate, ETA (5 a second). */
static void progress(coord *c, int last) {
  struct timespec now;
  double t, rate;
  long todo;
  if (!isatty(2))
    return;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (!last && elapsed(&c->shown, &now) < 0.2)
    return;
  c->shown = now;
  if (last) {
    fputs("\r\033[K", stderr);
    return;
  }
  t = elapsed(&c->t0, &now);
  rate = t > 0 ? (double)c->written / t : 0;
  todo = c->pl->total - c->done;
  fprintf(stderr, "\r\033[K%ld/%ld runs, %ld failed, %.1f runs/s, ETA %.0fs",
          c->done, c->pl->total, c->failed, rate,
          rate > 0 ? (double)todo / rate : 0.0);
}

/* A failed run on stderr: its message and how to rerun it alone. The
** first EXP_FULL_REPORTS failures show their whole message (traceback);
** later ones its first line, so a model that always fails does not bury
** the terminal. */
#define EXP_FULL_REPORTS 10
static void report_failure(const exp_plan *pl, const exp_result *r) {
  static long reported;
  const char *vals[2 * CLI_MAX_PARAMS];
  unsigned long long seed = (unsigned long long)exp_seed(pl, r->run);
  int k;
  exp_point(pl, r->run / pl->reps, vals);
  fprintf(stderr, "\rdeshost: run %ld (", r->run + 1);
  for (k = 0; k < pl->nnames; k++)
    fprintf(stderr, "%s=%s, ", pl->name[k], vals[k]);
  fprintf(stderr,
          "replication %ld, seed %llu) failed: %s\n  rerun it: "
          "deshost --seed %llu",
          r->run % pl->reps, seed,
          r->full && reported < EXP_FULL_REPORTS ? r->full : r->message, seed);
  reported++;
  if (pl->o->sandbox)
    fprintf(stderr, " --sandbox");
  if (pl->o->mem_limit)
    fprintf(stderr, " --mem-limit %zu", pl->o->mem_limit);
  if (pl->o->max_steps)
    fprintf(stderr, " --max-steps %llu", pl->o->max_steps);
  if (pl->o->until)
    fprintf(stderr, " --until %s", pl->o->until);
  for (k = 0; k < pl->nnames; k++)
    fprintf(stderr, " --param %s=%s", pl->name[k], vals[k]);
  fprintf(stderr, " %s\n", pl->model);
}

/* A run finished (in any order): keep it, then write every run that is
** next in run order. Takes r's contents. */
void exp_deliver(void *ctx, exp_result *r) {
  coord *c = ctx;
  long slot = r->run % c->cap;
  c->win[slot] = *r;
  c->have[slot] = 1;
  c->done++;
  c->failed += !r->ok;
  while (c->have[c->written % c->cap]) {
    exp_result *w = &c->win[c->written % c->cap];
    if (c->file != NULL && exp_file_write(c->file, w) != 0)
      c->io_error = 1;
    if (!w->ok)
      report_failure(c->pl, w);
    stats_add(c, w);
    exp_result_free(w);
    c->have[c->written % c->cap] = 0;
    c->written++;
    if (c->written == exp_kill_after)
      raise(SIGKILL);
    if (c->written == exp_int_after)
      raise(SIGINT);
  }
  progress(c, 0);
}

/* A local worker: its process, its pipe, what it has sent so far. */
typedef struct worker {
  pid_t pid;
  int fd;
  long run;
  char *buf;
  size_t len, cap;
} worker;

/* Read what the worker at w has sent; at EOF, reap it and deliver. */
static void worker_read(coord *c, worker *w) {
  char tmp[4096];
  ssize_t n = read(w->fd, tmp, sizeof(tmp));
  exp_result r;
  int st = 0;
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n > 0) {
    if (w->len + (size_t)n + 1 > w->cap) {
      size_t cap = w->cap ? w->cap * 2 : 8192;
      char *p;
      while (cap < w->len + (size_t)n + 1)
        cap *= 2;
      p = realloc(w->buf, cap);
      if (p == NULL) { /* reported as a dead worker below */
        kill(w->pid, SIGKILL);
        w->len = 0;
        n = 0;
      } else {
        w->buf = p;
        w->cap = cap;
      }
    }
    if (n > 0) {
      memcpy(w->buf + w->len, tmp, (size_t)n);
      w->len += (size_t)n;
      return;
    }
  }
  close(w->fd);
  while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
    ;
  exp_payload_parse(w->buf, w->len, st, w->run, &r);
  free(w->buf);
  memset(w, 0, sizeof(*w));
  w->pid = 0;
  exp_deliver(c, &r);
}

/* Hand runs to local workers (and remote ranks) until all are done or
** Ctrl-C; rows go out in run order. */
static void coordinate(coord *c, int jobs, exp_remote *remote) {
  worker *ws = calloc((size_t)jobs, sizeof(*ws));
  struct pollfd *pfd = calloc((size_t)jobs + 1, sizeof(*pfd));
  int busy = 0, k;
  if (ws == NULL || pfd == NULL) {
    fprintf(stderr, "deshost: not enough memory\n");
    exit(1);
  }
  for (;;) {
    int np = 0, rc;
    /* hand out runs, within the window of unwritten ones */
    while (!exp_sigint && c->next < c->pl->total &&
           c->next - c->written < c->cap) {
      if (remote != NULL && remote->idle(remote)) {
        remote->assign(remote, c->next++);
        continue;
      }
      if (busy == jobs)
        break;
      for (k = 0; ws[k].pid != 0; k++)
        ;
      ws[k].run = c->next;
      ws[k].pid = exp_fork_run(c->pl, c->next, &ws[k].fd);
      if (ws[k].pid < 0) {
        fprintf(stderr, "deshost: cannot start a worker: %s\n",
                strerror(errno));
        ws[k].pid = 0;
        exp_sigint = 1; /* finish what runs, then stop */
        break;
      }
      c->next++;
      busy++;
    }
    if (busy == 0 && (remote == NULL || remote->busy(remote) == 0))
      break;
    for (k = 0; k < jobs; k++)
      if (ws[k].pid != 0) {
        pfd[np].fd = ws[k].fd;
        pfd[np].events = POLLIN;
        pfd[np++].revents = 0;
      }
    rc = poll(pfd, (nfds_t)np,
              remote != NULL && remote->busy(remote) ? 1 : (busy ? 200 : 0));
    if (remote != NULL)
      remote->collect(remote, exp_deliver, c);
    if (rc <= 0) {
      progress(c, 0);
      continue;
    }
    for (k = 0; k < jobs; k++) {
      int j;
      if (ws[k].pid == 0)
        continue;
      for (j = 0; j < np && pfd[j].fd != ws[k].fd; j++)
        ;
      if (j < np && (pfd[j].revents & (POLLIN | POLLHUP | POLLERR))) {
        worker_read(c, &ws[k]);
        busy -= ws[k].pid == 0;
      }
    }
  }
  free(ws);
  free(pfd);
}

int experiment_main(const cli_options *o, int argc, char **argv) {
  exp_plan pl;
  coord c;
  char **names, **dflts;
  int n, rc, jobs;
  long nread = 0;
  struct sigaction sa;
  exp_remote *remote = NULL;
  rc = plan_build(&pl, o, argc, argv);
  if (rc != 0)
    return rc;
  if (getenv("DESHOST_TEST_KILL_AFTER") != NULL)
    exp_kill_after = atol(getenv("DESHOST_TEST_KILL_AFTER"));
  if (getenv("DESHOST_TEST_SIGINT_AFTER") != NULL)
    exp_int_after = atol(getenv("DESHOST_TEST_SIGINT_AFTER"));
  rc = exp_mpi_start(&pl, &remote);
  if (rc >= 0) /* an MPI rank other than 0: it ran runs, all done */
    return rc;
  n = exp_probe(&pl, &names, &dflts);
  if (n < 0)
    return exp_mpi_finish(remote, 1);
  if ((rc = exp_check_given(&pl, names, dflts, n)) != 0)
    return exp_mpi_finish(remote, rc);
  if (o->check_determinism && exp_check_determinism(&pl) != 0)
    return exp_mpi_finish(remote, 1);
  memset(&c, 0, sizeof(c));
  c.pl = &pl;
  c.pts = calloc((size_t)pl.npoints, sizeof(point_stats));
  jobs = o->jobs > 0
             ? o->jobs
             : (remote != NULL ? 1 : (int)sysconf(_SC_NPROCESSORS_ONLN));
  if (jobs < 1)
    jobs = 1;
  c.cap = 1024 + 64L * jobs + (remote != NULL ? 64L * remote->size : 0);
  c.win = calloc((size_t)c.cap, sizeof(exp_result));
  c.have = calloc((size_t)c.cap, 1);
  if (c.pts == NULL || c.win == NULL || c.have == NULL) {
    fprintf(stderr, "deshost: not enough memory for %ld points\n", pl.npoints);
    return exp_mpi_finish(remote, 1);
  }
  if (o->results != NULL) {
    c.file = exp_file_open(&pl, o->resume, &nread, resumed, &c);
    if (c.file == NULL)
      return exp_mpi_finish(remote, 1);
  }
  c.next = c.written = nread;
  clock_gettime(CLOCK_MONOTONIC, &c.t0);
  c.shown = c.t0;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = exp_on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  coordinate(&c, jobs, remote);
  progress(&c, 1);
  if (c.file != NULL && exp_file_close(c.file) != 0)
    c.io_error = 1;
  print_summary(&c);
  fflush(stdout);
  if (c.io_error)
    fprintf(stderr, "deshost: cannot write the results to %s\n", o->results);
  if (c.written < pl.total)
    fprintf(stderr,
            "deshost: stopped after %ld of %ld runs (--resume "
            "finishes the rest)\n",
            c.written, pl.total);
  else if (c.failed > 0)
    fprintf(stderr, "deshost: %ld of %ld runs failed\n", c.failed, pl.total);
  rc = c.written < pl.total ? 130 : (c.failed > 0 || c.io_error) ? 1 : 0;
  return exp_mpi_finish(remote, rc);
}

/* }==================================================================== */
