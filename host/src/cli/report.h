/*
** report.h -- the HTML report of a run (report.c): one self-contained
** page (the template report.html with uPlot and the data inlined) that
** opens offline. A client of deshost.h like the rest of the CLI: the data
** is des_statistics' JSON plus what the caller knows of the run.
*/
#ifndef DES_REPORT_H
#define DES_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "deshost.h"

/* What the caller knows of the run, for the header. */
typedef struct report_info {
  const char *model;       /* the model's path ("stdin", ...), or NULL */
  uint64_t seed;           /* the seed of the default simulation */
  int nargs;               /* the model's arguments */
  const char *const *args; /* (its parameters) */
  const char *until;       /* --until as given, or NULL */
  double wall_seconds;     /* wall-clock time of the run */
  const char *outcome;     /* "completed", or what ended the run */
} report_info;

/* One row of an experiment (--replications / --sweep): a result's mean
** and confidence interval at one sweep point, and the value of each
** replication there. The report draws, per result, the mean against the
** point with its band, and the replications as dots. */
typedef struct report_row {
  const char *result;  /* the result's name */
  double point;        /* the sweep point (x); the replication set's index
                          when there is no sweep */
  double mean, lo, hi; /* mean and confidence interval */
  const double *reps;  /* each replication's value, or NULL */
  size_t nreps;
} report_row;

/* Write the report of host h (NULL: none, e.g. an experiment's summary)
** to path, with the experiment rows[0..nrows) (may be 0). Returns 0, or
** -1 with a message in err[0..errsize). */
int report_write(des_host *h, const char *path, const report_info *info,
                 const report_row *rows, size_t nrows, char *err,
                 size_t errsize);

#endif
