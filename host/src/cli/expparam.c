/*
** expparam.c -- the parameters on the command line against the model's:
** --param name=value split, the check of given names and values against
** what the model asks for (a usage error listing the model's parameters),
** and --param for a single run (des_set_param, then the check after it).
*/
#include <stdlib.h>
#include <string.h>

#include "experiment.h"

/* Split "name=..." into a malloc'd name; *value points after '='. */
char *exp_split_assign(const char *a, const char **value) {
  const char *eq = strchr(a, '=');
  *value = eq + 1;
  return strndup(a, (size_t)(eq - a));
}

/* "name=default, ..." of the model's parameters, on stderr. */
static void list_known(char **names, char **dflts, int n) {
  int k;
  fprintf(stderr, "deshost: the model's parameters: ");
  for (k = 0; k < n; k++)
    fprintf(stderr, "%s%s=%s", k ? ", " : "", names[k], dflts[k]);
  fprintf(stderr, "%s\n", n ? "" : "none (it calls no des.param at time 0)");
}

/* Does s read as a number (as des.param converts it)? */
static int is_number(const char *s) {
  char *end;
  strtod(s, &end);
  return *s != '\0' && *end == '\0';
}

/* Can value v be given to a parameter whose default is dflt (as des_params
** shows it: a number, true/false, "quoted text" or nil)? */
static int value_fits(const char *dflt, const char *v) {
  if (strcmp(dflt, "true") == 0 || strcmp(dflt, "false") == 0)
    return strcmp(v, "true") == 0 || strcmp(v, "false") == 0;
  if (is_number(dflt))
    return is_number(v);
  return 1;
}

/* Every given parameter is the model's, with a value of its default's
** type: 0, or 2 after a usage error. */
int exp_check_given(const exp_plan *pl, char **names, char **dflts, int n) {
  int k, j, s;
  for (k = 0; k < pl->nnames; k++) {
    for (j = 0; j < n && strcmp(names[j], pl->name[k]) != 0; j++)
      ;
    if (j == n) {
      fprintf(stderr, "deshost: unknown parameter '%s'\n", pl->name[k]);
      list_known(names, dflts, n);
      return 2;
    }
    for (s = 0;; s++) { /* each value given for it */
      const char *v = k < pl->nfixed ? (s ? NULL : pl->fixed_value[k])
                                     : pl->sweep_values[k - pl->nfixed][s];
      if (v == NULL)
        break;
      if (!value_fits(dflts[j], v)) {
        fprintf(stderr,
                "deshost: bad value '%s' for parameter '%s' (it needs %s, "
                "as its default %s)\n",
                v, pl->name[k],
                is_number(dflts[j]) ? "a number" : "true or false", dflts[j]);
        return 2;
      }
    }
  }
  return 0;
}

int exp_set_params(des_host *h, const cli_options *o) {
  int k;
  for (k = 0; k < o->nparams; k++) {
    const char *v;
    char *name = exp_split_assign(o->params[k], &v);
    int rc = des_set_param(h, name, v);
    free(name);
    if (rc != DES_OK)
      return rc;
  }
  return DES_OK;
}

/* des_params callback: collect names and defaults. */
typedef struct known {
  char **names, **dflts;
  int n;
} known;
static int collect(void *ctx, const char *name, const char *dflt) {
  known *kn = ctx;
  kn->names = realloc(kn->names, (size_t)(kn->n + 1) * sizeof(char *));
  kn->dflts = realloc(kn->dflts, (size_t)(kn->n + 1) * sizeof(char *));
  if (kn->names == NULL || kn->dflts == NULL)
    return 1;
  kn->names[kn->n] = strdup(name);
  kn->dflts[kn->n++] = strdup(dflt);
  return 0;
}

int exp_check_unknown(des_host *h, const cli_options *o) {
  known kn = {NULL, NULL, 0};
  exp_plan pl;
  int rc, k;
  if (o->nparams == 0)
    return 0;
  memset(&pl, 0, sizeof(pl));
  for (k = 0; k < o->nparams; k++) {
    const char *v;
    pl.name[k] = exp_split_assign(o->params[k], &v);
    pl.fixed_value[k] = (char *)v;
  }
  pl.nnames = pl.nfixed = o->nparams;
  des_params(h, collect, &kn);
  rc = exp_check_given(&pl, kn.names, kn.dflts, kn.n);
  for (k = 0; k < kn.n; k++) {
    free(kn.names[k]);
    free(kn.dflts[k]);
  }
  for (k = 0; k < o->nparams; k++)
    free((char *)pl.name[k]);
  free(kn.names);
  free(kn.dflts);
  return rc;
}
