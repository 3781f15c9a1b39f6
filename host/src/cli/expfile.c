/*
** expfile.c -- an experiment's results file: one row per run, in run order,
** flushed as each is written, as CSV (a header line, then rows) or, for a
** name ending in ".jsonl", JSON Lines (one flat object per run). Columns:
** the parameters, replication, seed, status, message, then the results
** (for CSV, those of the first successful run: its header is written with
** that run's row, so failed runs before it wait for it).
**
** --resume reads the rows already there: a row cut short by a kill is
** dropped (the file is truncated to its last whole line) and its run is
** done again; every whole row must be the run the plan puts there (its
** parameters, replication and seed), else the file belongs to another
** experiment and nothing is written.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "experiment.h"

#define EXP_FIXED_COLS 4 /* replication, seed, status, message */
static const char *const fixed_cols[EXP_FIXED_COLS] = {"replication", "seed",
                                                       "status", "message"};

struct exp_file {
  const exp_plan *pl;
  FILE *fp;
  int jsonl;
  int have_header; /* CSV: written (cols known) */
  char **cols;     /* CSV: the result columns */
  int ncols;
  exp_result *held; /* CSV: failed runs waiting for the header */
  int nheld;
};

/* Is s a number as JSON writes it? */
static int json_number(const char *s) {
  if (*s == '-')
    s++;
  if (*s == '0')
    s++;
  else if (*s >= '1' && *s <= '9')
    while (*s >= '0' && *s <= '9')
      s++;
  else
    return 0;
  if (*s == '.') {
    s++;
    if (!(*s >= '0' && *s <= '9'))
      return 0;
    while (*s >= '0' && *s <= '9')
      s++;
  }
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '+' || *s == '-')
      s++;
    if (!(*s >= '0' && *s <= '9'))
      return 0;
    while (*s >= '0' && *s <= '9')
      s++;
  }
  return *s == '\0';
}

/* One field: CSV quotes it when it holds a comma; JSON writes "name":v. */
static void put_field(exp_file *f, int first, const char *name, const char *v,
                      int text) {
  if (f->jsonl) {
    fprintf(f->fp, "%s\"%s\":", first ? "{" : ",", name);
    if (!text && json_number(v))
      fputs(v, f->fp);
    else
      fprintf(f->fp, "\"%s\"", v);
  } else {
    if (!first)
      fputc(',', f->fp);
    if (strchr(v, ',') != NULL)
      fprintf(f->fp, "\"%s\"", v);
    else
      fputs(v, f->fp);
  }
}

/* The value of result `name` in res, or NULL. */
static const char *result_value(const exp_result *res, const char *name) {
  int k;
  for (k = 0; k < res->nkv; k++)
    if (strcmp(res->kv[k].name, name) == 0)
      return res->kv[k].value;
  return NULL;
}

/* Write one row (the header is known for CSV). */
static void put_row(exp_file *f, const exp_result *res) {
  const exp_plan *pl = f->pl;
  const char *vals[2 * CLI_MAX_PARAMS];
  char rep[32], seed[32];
  int k;
  exp_point(pl, res->run / pl->reps, vals);
  snprintf(rep, sizeof(rep), "%ld", res->run % pl->reps);
  snprintf(seed, sizeof(seed), "%llu",
           (unsigned long long)exp_seed(pl, res->run));
  for (k = 0; k < pl->nnames; k++)
    put_field(f, k == 0, pl->name[k], vals[k], 0);
  put_field(f, pl->nnames == 0, "replication", rep, 0);
  put_field(f, 0, "seed", seed, 0);
  put_field(f, 0, "status", res->ok ? "ok" : "failed", 1);
  put_field(f, 0, "message", res->ok ? "" : res->message, 1);
  if (f->jsonl) {
    for (k = 0; k < res->nkv; k++)
      put_field(f, 0, res->kv[k].name, res->kv[k].value, 0);
    fputs("}\n", f->fp);
  } else {
    for (k = 0; k < f->ncols; k++) {
      const char *v = res->ok ? result_value(res, f->cols[k]) : NULL;
      put_field(f, 0, f->cols[k], v ? v : "", 0);
    }
    fputc('\n', f->fp);
  }
}

/* CSV: the header, with the result columns of res (NULL: none). */
static void put_header(exp_file *f, const exp_result *res) {
  int k;
  f->ncols = res ? res->nkv : 0;
  f->cols = calloc((size_t)f->ncols + 1, sizeof(char *));
  for (k = 0; k < f->ncols; k++)
    f->cols[k] = strdup(res->kv[k].name);
  for (k = 0; k < f->pl->nnames; k++)
    fprintf(f->fp, "%s%s", k ? "," : "", f->pl->name[k]);
  for (k = 0; k < EXP_FIXED_COLS; k++)
    fprintf(f->fp, "%s%s", k || f->pl->nnames ? "," : "", fixed_cols[k]);
  for (k = 0; k < f->ncols; k++)
    fprintf(f->fp, ",%s", f->cols[k]);
  fputc('\n', f->fp);
  f->have_header = 1;
}

/* Write the held failed rows (the header is now known). */
static void put_held(exp_file *f) {
  int k;
  for (k = 0; k < f->nheld; k++) {
    put_row(f, &f->held[k]);
    exp_result_free(&f->held[k]);
  }
  free(f->held);
  f->held = NULL;
  f->nheld = 0;
}

int exp_file_write(exp_file *f, const exp_result *res) {
  if (!f->jsonl && !f->have_header) {
    if (!res->ok) { /* wait for the first successful run's columns */
      exp_result *h = realloc(f->held, (size_t)(f->nheld + 1) * sizeof(*h));
      if (h == NULL)
        return -1;
      f->held = h;
      memset(&h[f->nheld], 0, sizeof(*h));
      h[f->nheld].run = res->run;
      h[f->nheld].message = strdup(res->message ? res->message : "");
      f->nheld++;
      return 0;
    }
    put_header(f, res);
    put_held(f);
  }
  put_row(f, res);
  return fflush(f->fp) == 0 && !ferror(f->fp) ? 0 : -1;
}

int exp_file_close(exp_file *f) {
  int rc, k;
  if (f == NULL)
    return 0;
  if (!f->jsonl && !f->have_header) {
    put_header(f, NULL);
    put_held(f);
  }
  rc = fclose(f->fp) == 0 ? 0 : -1;
  for (k = 0; k < f->ncols; k++)
    free(f->cols[k]);
  free(f->cols);
  free(f);
  return rc;
}

/* {====================================================================
** Reading back (--resume)
** ===================================================================== */

/* The value at *s: a quoted one (its quotes cut off) or one running to
** the first of `stops`; *s moves past it. NULL if a quote is not closed. */
static char *take_value(char **s, const char *stops) {
  char *v = *s, *end;
  if (*v != '"') {
    *s = v + strcspn(v, stops);
    return v;
  }
  end = strchr(v + 1, '"');
  if (end == NULL)
    return NULL;
  *end = '\0';
  *s = end + 1;
  return v + 1;
}

/* Split a line into fields (in place): CSV fields, possibly quoted (no
** quote inside, as we write them); or a flat JSON object's "name":value
** pairs (names[] then get the keys). Returns the count, -1 if malformed. */
static int split_line(char *s, int jsonl, char **names, char **vals, int max) {
  int n = 0;
  if (!jsonl) {
    for (;;) {
      if (n == max)
        return -1;
      if ((vals[n++] = take_value(&s, ",")) == NULL)
        return -1;
      if (*s == '\0')
        return n;
      if (*s != ',')
        return -1;
      *s++ = '\0';
    }
  }
  if (*s++ != '{')
    return -1;
  while (*s == '"') {
    char *end = strchr(s + 1, '"');
    if (end == NULL || end[1] != ':' || n == max)
      return -1;
    *end = '\0';
    names[n] = s + 1;
    s = end + 2;
    if ((vals[n++] = take_value(&s, ",}")) == NULL)
      return -1;
    if (*s == '}') {
      *s = '\0';
      return n;
    }
    if (*s != ',')
      return -1;
    *s++ = '\0';
  }
  return -1;
}

/* Read the rows of fp (pl's file) into done(); 0, or -1 after printing. */
static int read_rows(exp_file *f, char *text, long *nread,
                     void (*done)(void *, exp_result *), void *ctx) {
  const exp_plan *pl = f->pl;
  enum { MAXF = 2 * CLI_MAX_PARAMS + EXP_FIXED_COLS + 100000 };
  static char *names[MAXF], *vals[MAXF], *hdr[MAXF];
  char *line, *next;
  const char *pv[2 * CLI_MAX_PARAMS];
  int lineno = 0, nh = 0, k, base = pl->nnames + EXP_FIXED_COLS;
  *nread = 0;
  for (line = text; *line; line = next) {
    int n;
    long run = *nread;
    exp_result res;
    char seed[32], rep[32];
    next = strchr(line, '\n');
    *next++ = '\0';
    lineno++;
    n = split_line(line, f->jsonl, names, vals, MAXF);
    if (!f->jsonl && lineno == 1) { /* the header */
      if (n < base)
        goto bad;
      for (k = 0; k < n; k++)
        hdr[k] = vals[k];
      for (k = 0; k < pl->nnames; k++)
        if (strcmp(hdr[k], pl->name[k]) != 0) {
          fprintf(stderr,
                  "deshost: %s: its column %d is '%s', but this "
                  "experiment's parameter there is '%s'\n",
                  pl->o->results, k + 1, hdr[k], pl->name[k]);
          return -1;
        }
      nh = n;
      f->ncols = n - base;
      f->cols = calloc((size_t)f->ncols + 1, sizeof(char *));
      for (k = 0; k < f->ncols; k++)
        f->cols[k] = strdup(hdr[base + k]);
      f->have_header = 1;
      continue;
    }
    if (n < base || (!f->jsonl && n != nh))
      goto bad;
    if (run >= pl->total) {
      fprintf(stderr,
              "deshost: %s: more rows than this experiment's %ld "
              "runs\n",
              pl->o->results, pl->total);
      return -1;
    }
    exp_point(pl, run / pl->reps, pv);
    snprintf(rep, sizeof(rep), "%ld", run % pl->reps);
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)exp_seed(pl, run));
    for (k = 0; k < base; k++) {
      const char *want = k < pl->nnames        ? pv[k]
                         : k == pl->nnames     ? rep
                         : k == pl->nnames + 1 ? seed
                                               : NULL;
      const char *col =
          k < pl->nnames ? pl->name[k] : fixed_cols[k - pl->nnames];
      if ((f->jsonl && strcmp(names[k], col) != 0) ||
          (want != NULL && strcmp(vals[k], want) != 0)) {
        fprintf(stderr,
                "deshost: %s line %d: %s is '%s' where this experiment's run "
                "%ld has '%s' (another experiment: other --seed, --param, "
                "--sweep or --replications?)\n",
                pl->o->results, lineno, col,
                f->jsonl && strcmp(names[k], col) != 0 ? names[k] : vals[k],
                run + 1, want ? want : col);
        return -1;
      }
    }
    memset(&res, 0, sizeof(res));
    res.run = run;
    res.ok = strcmp(vals[pl->nnames + 2], "ok") == 0;
    if (!res.ok)
      res.message = strdup(vals[pl->nnames + 3]);
    else {
      res.kv = calloc((size_t)(n - base) + 1, sizeof(exp_kv));
      for (k = base; k < n; k++) {
        const char *name = f->jsonl ? names[k] : hdr[k];
        if (vals[k][0] == '\0')
          continue;
        res.kv[res.nkv].name = strdup(name);
        res.kv[res.nkv].value = strdup(vals[k]);
        res.nkv++;
      }
    }
    done(ctx, &res);
    exp_result_free(&res);
    (*nread)++;
  }
  return 0;
bad:
  fprintf(stderr,
          "deshost: %s line %d: not a row of an experiment's "
          "results\n",
          pl->o->results, lineno);
  return -1;
}

/* Read the whole file at path, cut to its last whole line (truncating the
** file there too). NULL and *len 0 when it does not exist. */
static char *read_whole(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  char *text = NULL, *nl;
  long size;
  *len = 0;
  if (fp == NULL)
    return NULL;
  if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) >= 0 &&
      fseek(fp, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1))) {
    *len = fread(text, 1, (size_t)size, fp);
    text[*len] = '\0';
  }
  fclose(fp);
  if (text == NULL)
    return NULL;
  nl = strrchr(text, '\n');
  *len = nl ? (size_t)(nl - text) + 1 : 0;
  text[*len] = '\0';
  if (truncate(path, (off_t)*len) != 0) {
    free(text);
    return NULL;
  }
  return text;
}

exp_file *exp_file_open(const exp_plan *pl, int resume, long *nread,
                        void (*done)(void *ctx, exp_result *r), void *ctx) {
  const char *path = pl->o->results;
  size_t n = strlen(path), len = 0;
  exp_file *f = calloc(1, sizeof(*f));
  char *text = NULL;
  *nread = 0;
  if (f == NULL)
    return NULL;
  f->pl = pl;
  f->jsonl = n > 6 && strcmp(path + n - 6, ".jsonl") == 0;
  if (resume) {
    errno = 0;
    text = read_whole(path, &len);
    if (text == NULL && errno != ENOENT && errno != 0) {
      fprintf(stderr, "deshost: %s: %s\n", path, strerror(errno));
      free(f);
      return NULL;
    }
    if (text != NULL && read_rows(f, text, nread, done, ctx) != 0) {
      free(text);
      free(f); /* cols leak once, on the way to exit */
      return NULL;
    }
    free(text);
  }
  f->fp = fopen(path, resume ? "ab" : "wb");
  if (f->fp == NULL) {
    fprintf(stderr, "deshost: cannot write the results to %s: %s\n", path,
            strerror(errno));
    free(f);
    return NULL;
  }
  return f;
}

/* }==================================================================== */
