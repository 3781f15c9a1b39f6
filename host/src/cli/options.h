/*
** options.h -- the deshost command line's options (options.c).
*/
#ifndef DES_OPTIONS_H
#define DES_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_MAX_CHUNKS 16
#define CLI_MAX_RUNS 64   /* --check-determinism --runs */
#define CLI_MAX_PARAMS 64 /* --param and --sweep, each */
#define CLI_MAX_JOBS 1024
#define CLI_MAX_NAME 64 /* characters of a parameter's name */

typedef struct cli_options {
  const char *until; /* --until, as given (checked: a number >= 0) */
  int interactive, trace, sandbox;
  int strict;       /* --strict: calls that cannot repeat raise (hstrict.c) */
  size_t mem_limit; /* 0: none */
  unsigned long long max_steps; /* 0: none */
  const char *shuffle;          /* --shuffle-ties seed, or NULL */
  int64_t seed;
  const char *chunks[CLI_MAX_CHUNKS]; /* -e chunks, in order */
  int nchunks;
  int check_determinism;  /* --check-determinism */
  int runs;               /* --runs N (0: the default) */
  int script;             /* index of the model in argv, 0 if none */
  const char *argv_model; /* argv[script], or NULL */
  const char *report;     /* --report FILE.html, or NULL */
  int progress;           /* --progress 1, --no-progress 0, default -1 */
  double realtime;        /* --realtime: model units per wall second, 0: no */
  double realtime_strict; /* --realtime-strict: tolerance in wall seconds */
  /* experiments (expopts.c, experiment.c) */
  const char *params[CLI_MAX_PARAMS]; /* --param name=value */
  int nparams;
  const char *sweeps[CLI_MAX_PARAMS]; /* --sweep name=v1,v2,... */
  int nsweeps;
  long replications;   /* --replications N (0: a single run) */
  int jobs;            /* --jobs K (0: the number of cores) */
  const char *results; /* --results FILE */
  int resume, list_params;
  double confidence; /* --confidence (0: the default 0.95) */
} cli_options;

/* Parse argv into o. Returns 0; or 2 after writing a usage error to err;
** or -1 after writing the help or the version to out (exit 0). */
int cli_parse(int argc, char **argv, cli_options *o, FILE *out, FILE *err);

/* expopts.c: the experiment options. expopts_parse returns 0 when a (with
** its value v, NULL if none) was one and is fine, 2 after a usage error,
** -1 when a is not an experiment option; expopts_check (after parsing)
** returns 0 or 2 after a usage error. */
int expopts_takes_value(const char *a);
int expopts_parse(const char *a, const char *v, cli_options *o, FILE *err);
int expopts_check(const cli_options *o, FILE *err);

#endif
