/*
** checkdet.h -- deshost --check-determinism (checkdet.c).
*/
#ifndef DES_CHECKDET_H
#define DES_CHECKDET_H

#include <stdio.h>

#include "deshost.h"
#include "options.h"

/* The parent: run the model o->runs times (default 2) in child processes
** and write the verdict to out. Returns the exit status: 0 when every run
** handled the same events and printed the same output, 1 otherwise. */
int checkdet_main(int argc, char **argv, const cli_options *o, FILE *out);

/* The same for a command line of one run already made (cargv, NULL-
** terminated: deshost's options for that run, the model, its arguments;
** none of the checker's own options), run nruns times (2 to
** CLI_MAX_RUNS). Returns 0 or 1 as checkdet_main. */
int checkdet_compare(char **cargv, int nruns, FILE *out);

/* In a child (DESHOST_DET_RECORD set by the parent): record h's events
** and compare them with run 1's. Returns 0 when not a child, 1 when set
** up, -1 on failure. `echo`: also print each event to stderr (--trace). */
int checkdet_child(des_host *h, int echo);

/* Whether this process is a child of the checker (before making the host:
** its config counts the calls that cannot repeat, DES_STRICT_COUNT). */
int checkdet_is_child(void);

/* In a child, before h is freed: write the calls that cannot repeat which
** the model made, for the parent's report. Nothing otherwise. */
void checkdet_child_finish(des_host *h);

#endif
