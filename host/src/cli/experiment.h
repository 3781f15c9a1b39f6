/*
** experiment.h -- experiments: replications x parameter sweeps, run in
** forked worker processes (and MPI ranks), results identical whatever
** their number (docs/experiments.md). A client of deshost.h only.
**
**   experiment.c  the command: the plan, the coordinator, the summary
**   expparam.c    the parameters given against the model's
**   exprun.c      one run in a fresh host, in a forked process; the probe
**   expfile.c     the results file: rows, CSV / JSON Lines, --resume
**   expstat.c     mean, sd, Student t intervals
**   expmpi.c      MPI ranks as remote workers (when built with MPI)
**   expcheck.c    --check-determinism: each point checked before the study
*/
#ifndef DES_EXPERIMENT_H
#define DES_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "deshost.h"
#include "options.h"

/* The experiment, from the command line: the parameters (fixed --param
** ones first, then the sweeps, in the order given), the points (every
** combination of the sweeps' values, the last sweep varying fastest), the
** runs (run r is replication r % reps of point r / reps). */
typedef struct exp_plan {
  const cli_options *o;
  int argc;
  char **argv;
  int nnames, nfixed; /* parameters, of which fixed */
  const char *name[2 * CLI_MAX_PARAMS];
  char *fixed_value[CLI_MAX_PARAMS];
  char **sweep_values[CLI_MAX_PARAMS]; /* each NULL-terminated */
  int nvalues[CLI_MAX_PARAMS];
  long npoints, reps, total;
  uint64_t seed;
  const char *model;
} exp_plan;

/* A run's outcome: status, the first line of a failure's message (the
** whole message in `full`), and its results as name/value texts. */
typedef struct exp_kv {
  char *name, *value;
} exp_kv;

typedef struct exp_result {
  long run;
  int ok;
  char *message, *full;
  exp_kv *kv;
  int nkv;
} exp_result;

/* Remote workers (MPI ranks) as the coordinator sees them: idle() says
** whether one can take a run now, assign() hands it one, busy() counts
** those running, collect() delivers the results that came back. */
typedef struct exp_remote {
  int size; /* how many */
  int (*idle)(struct exp_remote *);
  void (*assign)(struct exp_remote *, long run);
  int (*busy)(struct exp_remote *);
  void (*collect)(struct exp_remote *, void (*deliver)(void *, exp_result *),
                  void *ctx);
} exp_remote;

/* expmpi.c (a stub without MPI): on rank 0 (or without MPI) returns -1,
** with *remote the other ranks (NULL if none); on another rank, serves
** runs until told to stop and returns its exit status. exp_mpi_finish
** stops the ranks and returns rc. */
int exp_mpi_start(const exp_plan *pl, exp_remote **remote);
int exp_mpi_finish(exp_remote *remote, int rc);

/* experiment.c */
void exp_deliver(void *ctx, exp_result *r);
int experiment_main(const cli_options *o, int argc, char **argv);
int experiment_list_params(const cli_options *o, int argc, char **argv);
/* expcheck.c: --check-determinism with an experiment: replication 0 of
** every point, checked before the study. 0, or 1 after the report. */
int exp_check_determinism(const exp_plan *pl);
/* The values of point p's parameters, in the plan's order (vals[nnames]). */
void exp_point(const exp_plan *pl, long p, const char **vals);
uint64_t exp_seed(const exp_plan *pl, long run);

/* exprun.c: run `run` in a forked process writing its payload to the pipe
** whose read end is *fd; returns the pid or -1. exp_payload_parse turns a
** payload (and the process's wait status) into a result. */
pid_t exp_fork_run(const exp_plan *pl, long run, int *fd);
void exp_payload_parse(const char *buf, size_t len, int wstatus, long run,
                       exp_result *res);
void exp_result_free(exp_result *res);
/* Run `run` in a forked worker and wait for it: its payload (malloc'd,
** *len bytes, NULL if none) and wait status. */
char *exp_run_payload(const exp_plan *pl, long run, size_t *len, int *wstatus);
/* In a fresh host with the plan's --param values, run the model's events
** at time 0 and list its parameters (name, default) into *names / *dflts
** (malloc'd arrays of strdup'd texts). Returns their number, or -1 after
** printing why on stderr. In a forked process. */
int exp_probe(const exp_plan *pl, char ***names, char ***dflts);
/* A single run (not an experiment): set the --param values into h before
** the model loads; after it ran, exp_check_unknown names those the model
** never asked for, with the model's parameters, on stderr: 2 if any. */
int exp_set_params(des_host *h, const cli_options *o);
int exp_check_unknown(des_host *h, const cli_options *o);

/* expparam.c: split "name=value" (a malloc'd name; *value after '=');
** check the plan's parameters against the model's n (names, defaults as
** des_params gives them): 0, or 2 after a usage error on stderr. */
char *exp_split_assign(const char *a, const char **value);
int exp_check_given(const exp_plan *pl, char **names, char **dflts, int n);

/* expstat.c */
typedef struct exp_stat {
  double n, mean, m2;
} exp_stat;
void exp_stat_add(exp_stat *s, double x);
double exp_stat_sd(const exp_stat *s);
/* The Student t quantile: P(T <= t) = p for T with df degrees. */
double exp_t_quantile(double p, double df);

/* expfile.c: the results file (csv, or jsonl by its suffix). */
typedef struct exp_file exp_file;
/* Open for writing (truncating) or, when resuming, read the runs already
** there (each checked against the plan: a mismatch is an error), pass each
** to done(ctx, result), and open for appending. NULL after printing why. */
exp_file *exp_file_open(const exp_plan *pl, int resume, long *nread,
                        void (*done)(void *ctx, exp_result *r), void *ctx);
/* Write run res's row (in run order), flushed. -1 on an I/O error. */
int exp_file_write(exp_file *f, const exp_result *res);
int exp_file_close(exp_file *f);

#endif
