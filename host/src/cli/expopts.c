/*
** expopts.c -- the command line's experiment options (--replications,
** --jobs, --param, --sweep, --params, --results, --resume, --confidence),
** parsed for options.c without side effects beyond the error stream.
** What needs the model (an unknown parameter, a value of the wrong type)
** is checked later, by experiment.c, once the model says what it has.
*/
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const expopts_valued[] = {
    "--replications", "--jobs",       "--param", "--sweep",
    "--results",      "--confidence", NULL};

int expopts_takes_value(const char *a) {
  int k;
  for (k = 0; expopts_valued[k] != NULL; k++)
    if (strcmp(a, expopts_valued[k]) == 0)
      return 1;
  return 0;
}

/* A usage error as options.c prints them; returns 2. */
static int expopts_error(FILE *err, const char *fmt, const char *arg) {
  fprintf(err, "deshost: ");
  fprintf(err, fmt, arg);
  fprintf(err, "\nusage: deshost [options] model.lua [args...] "
               "(deshost --help for more)\n");
  return 2;
}

/* A whole number in [lo, hi], or -1. */
static long expopts_count(const char *s, long lo, long hi) {
  char *end;
  long n;
  if (s == NULL || *s < '0' || *s > '9')
    return -1;
  errno = 0;
  n = strtol(s, &end, 10);
  return (errno != 0 || *end != '\0' || n < lo || n > hi) ? -1 : n;
}

/* A parameter name: a letter or '_', then letters, digits, '_' or '.'. */
static int expopts_name_ok(const char *s, size_t n) {
  size_t k;
  if (n == 0 || n > CLI_MAX_NAME || (s[0] >= '0' && s[0] <= '9') || s[0] == '.')
    return 0;
  for (k = 0; k < n; k++) {
    char c = s[k];
    if (!(c == '_' || c == '.' || (c >= '0' && c <= '9') ||
          ((c | 32) >= 'a' && (c | 32) <= 'z')))
      return 0;
  }
  return 1;
}

/* "name=..." given twice (in --param or --sweep)? */
static int expopts_dup(const cli_options *o, const char *v, size_t n) {
  int k;
  for (k = 0; k < o->nparams; k++)
    if (strncmp(o->params[k], v, n + 1) == 0)
      return 1;
  for (k = 0; k < o->nsweeps; k++)
    if (strncmp(o->sweeps[k], v, n + 1) == 0)
      return 1;
  return 0;
}

/* --param k=v / --sweep k=v1,v2,...: a valid name, values not empty, not
** containing a newline (the seed's encoding), a name given once. */
static int expopts_assign(const char *a, const char *v, cli_options *o,
                          FILE *err) {
  int sweep = a[2] == 's';
  const char *eq = v != NULL ? strchr(v, '=') : NULL, *p;
  size_t n;
  if (eq == NULL)
    return expopts_error(err,
                         sweep ? "--sweep needs name=v1,v2,... (got '%s')"
                               : "--param needs name=value (got '%s')",
                         v ? v : "nothing");
  n = (size_t)(eq - v);
  if (!expopts_name_ok(v, n))
    return expopts_error(err,
                         "bad parameter name in '%s' (a letter or _, "
                         "then letters, digits, _ or .)",
                         v);
  if (strchr(v, '\n') != NULL || strchr(v, '"') != NULL)
    return expopts_error(err,
                         "a parameter value may not hold a newline or "
                         "a double quote (in '%s')",
                         v);
  if (expopts_dup(o, v, n))
    return expopts_error(err, "parameter given twice: '%s'", v);
  if (!sweep) {
    if (o->nparams == CLI_MAX_PARAMS)
      return expopts_error(err, "too many %s options", a);
    o->params[o->nparams++] = v;
    return 0;
  }
  for (p = eq + 1;; p++) { /* no empty value, no empty list */
    if (*p == '\0' || *p == ',') {
      if (p[-1] == '=' || p[-1] == ',')
        return expopts_error(err, "--sweep has an empty value in '%s'", v);
      if (*p == '\0')
        break;
    }
  }
  if (o->nsweeps == CLI_MAX_PARAMS)
    return expopts_error(err, "too many %s options", a);
  o->sweeps[o->nsweeps++] = v;
  return 0;
}

int expopts_parse(const char *a, const char *v, cli_options *o, FILE *err) {
  if (strcmp(a, "--replications") == 0) {
    long n = expopts_count(v, 1, 100000000);
    if (n < 0)
      return expopts_error(err,
                           "--replications needs a count from 1 to "
                           "10^8 (got '%s')",
                           v ? v : "nothing");
    o->replications = n;
  } else if (strcmp(a, "--jobs") == 0) {
    long n = expopts_count(v, 1, CLI_MAX_JOBS);
    if (n < 0)
      return expopts_error(err,
                           "--jobs needs a count from 1 to 1024 (got "
                           "'%s')",
                           v ? v : "nothing");
    o->jobs = (int)n;
  } else if (strcmp(a, "--param") == 0 || strcmp(a, "--sweep") == 0) {
    return expopts_assign(a, v, o, err);
  } else if (strcmp(a, "--results") == 0) {
    if (v == NULL || *v == '\0')
      return expopts_error(err, "--results needs a file name%s", "");
    o->results = v;
  } else if (strcmp(a, "--confidence") == 0) {
    char *end;
    double c = v != NULL ? strtod(v, &end) : 0;
    if (v == NULL || *v == '\0' || *end != '\0' || !(c > 0 && c < 1))
      return expopts_error(err,
                           "--confidence needs a level between 0 and 1 "
                           "(got '%s')",
                           v ? v : "nothing");
    o->confidence = c;
  } else if (strcmp(a, "--resume") == 0) {
    o->resume = 1;
  } else if (strcmp(a, "--params") == 0) {
    o->list_params = 1;
  } else
    return -1;
  return 0;
}

int expopts_check(const cli_options *o, FILE *err) {
  const char *need = o->jobs         ? "--jobs"
                     : o->nsweeps    ? "--sweep"
                     : o->results    ? "--results"
                     : o->resume     ? "--resume"
                     : o->confidence ? "--confidence"
                                     : NULL;
  if (o->replications == 0 && need != NULL)
    return expopts_error(err, "%s goes with --replications N", need);
  if (o->resume && o->results == NULL)
    return expopts_error(err, "%s", "--resume needs --results FILE");
  if ((o->replications || o->list_params) &&
      (o->interactive || (o->list_params && o->check_determinism) ||
       o->script == 0))
    return expopts_error(err, "%s",
                         o->script == 0 ? "an experiment needs a model file"
                         : o->interactive
                             ? "an experiment runs in batch: not with -i"
                             : "--params lists the parameters: not with "
                               "--check-determinism");
  if (o->script != 0 && o->replications && o->argv_model != NULL &&
      strcmp(o->argv_model, "-") == 0)
    return expopts_error(err, "%s",
                         "an experiment needs a model file, not "
                         "standard input");
  return 0;
}
