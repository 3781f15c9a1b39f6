/*
** options.h -- the deshost command line's options (options.c).
*/
#ifndef DES_OPTIONS_H
#define DES_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_MAX_CHUNKS 16
#define CLI_MAX_RUNS 64 /* --check-determinism --runs */

typedef struct cli_options {
  const char *until; /* --until, as given (checked: a number >= 0) */
  int interactive, trace, sandbox;
  size_t mem_limit;             /* 0: none */
  unsigned long long max_steps; /* 0: none */
  const char *shuffle;          /* --shuffle-ties seed, or NULL */
  int64_t seed;
  const char *chunks[CLI_MAX_CHUNKS]; /* -e chunks, in order */
  int nchunks;
  int check_determinism;  /* --check-determinism */
  int runs;               /* --runs N (0: the default) */
  int script;             /* index of the model in argv, 0 if none */
  double realtime;        /* --realtime: model units per wall second, 0: no */
  double realtime_strict; /* --realtime-strict: tolerance in wall seconds */
} cli_options;

/* Parse argv into o. Returns 0; or 2 after writing a usage error to err;
** or -1 after writing the help or the version to out (exit 0). */
int cli_parse(int argc, char **argv, cli_options *o, FILE *out, FILE *err);

#endif
