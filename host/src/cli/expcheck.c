/*
** expcheck.c -- `deshost --replications N --check-determinism [--runs K]
** [--sweep ...] model.lua`: before the study runs, the first replication
** of each sweep point (of the experiment, without sweeps) is checked for
** determinism by the checker (checkdet.c), as a single run with that
** replication's seed and parameters: K runs in processes that differ in
** address layout and environment. A difference prints the checker's
** report and stops the study before its first run (exit 1), so that a
** study is not run a thousand times on a model that does not repeat.
**
** The verdicts go to stderr: stdout holds the study's summary only.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checkdet.h"
#include "experiment.h"

/* Append a copy of the text made from fmt to argv at *n (NULL on failure:
** the caller checks the whole argv). */
static void arg_add(char **argv, int *n, const char *fmt, const char *a,
                    const char *b) {
  size_t len = strlen(fmt) + strlen(a) + (b ? strlen(b) : 0) + 1;
  char *s = malloc(len);
  if (s != NULL)
    snprintf(s, len, fmt, a, b ? b : "");
  argv[(*n)++] = s;
}

/* The command line of replication 0 of point p as a single run: the
** run's seed and parameters, the limits the workers have, the model and
** its arguments. NULL-terminated, every string malloc'd; *n gets the
** count. NULL when out of memory. */
static char **point_argv(const exp_plan *pl, long p, int *n) {
  const cli_options *o = pl->o;
  const char *vals[2 * CLI_MAX_PARAMS];
  char num[64];
  int k, cap = 16 + 2 * pl->nnames + (pl->argc - o->script), bad = 0;
  char **argv = calloc((size_t)cap, sizeof(char *));
  if (argv == NULL)
    return NULL;
  *n = 0;
  exp_point(pl, p, vals);
  arg_add(argv, n, "%s", pl->argv[0], NULL);
  snprintf(num, sizeof(num), "%llu",
           (unsigned long long)exp_seed(pl, p * pl->reps));
  arg_add(argv, n, "--seed=%s", num, NULL);
  for (k = 0; k < pl->nnames; k++)
    arg_add(argv, n, "--param=%s=%s", pl->name[k], vals[k]);
  if (o->sandbox)
    arg_add(argv, n, "%s", "--sandbox", NULL);
  if (o->strict)
    arg_add(argv, n, "%s", "--strict", NULL);
  if (o->mem_limit) {
    snprintf(num, sizeof(num), "%zu", o->mem_limit);
    arg_add(argv, n, "--mem-limit=%s", num, NULL);
  }
  if (o->max_steps) {
    snprintf(num, sizeof(num), "%llu", o->max_steps);
    arg_add(argv, n, "--max-steps=%s", num, NULL);
  }
  if (o->until != NULL)
    arg_add(argv, n, "--until=%s", o->until, NULL);
  arg_add(argv, n, "%s", "--", NULL);
  for (k = o->script; k < pl->argc; k++)
    arg_add(argv, n, "%s", pl->argv[k], NULL);
  for (k = 0; k < *n; k++)
    bad |= argv[k] == NULL;
  if (bad) {
    for (k = 0; k < *n; k++)
      free(argv[k]);
    free(argv);
    return NULL;
  }
  return argv;
}

int exp_check_determinism(const exp_plan *pl) {
  const cli_options *o = pl->o;
  const char *vals[2 * CLI_MAX_PARAMS];
  int nruns = o->runs > 0 ? o->runs : 2;
  long p;
  for (p = 0; p < pl->npoints; p++) {
    int n, k, rc;
    char **argv = point_argv(pl, p, &n);
    if (argv == NULL) {
      fprintf(stderr, "deshost: --check-determinism: %s\n", strerror(ENOMEM));
      return 1;
    }
    exp_point(pl, p, vals);
    fprintf(stderr, "deshost: --check-determinism: point %ld of %ld", p + 1,
            pl->npoints);
    for (k = 0; k < pl->nnames; k++)
      fprintf(stderr, "%s%s=%s", k ? ", " : " (", pl->name[k], vals[k]);
    fprintf(stderr, "%s, replication 0, as: deshost --check-determinism",
            pl->nnames ? ")" : "");
    for (k = 1; k < n; k++) /* the command that checks it alone */
      fprintf(stderr, " %s", argv[k]);
    fputs("\n", stderr);
    fflush(stderr);
    rc = checkdet_compare(argv, nruns, stderr);
    for (k = 0; k < n; k++)
      free(argv[k]);
    free(argv);
    if (rc != 0) {
      fprintf(stderr,
              "deshost: the study does not run: its model does not repeat "
              "(--check-determinism)\n");
      return 1;
    }
  }
  return 0;
}
