/*
** progress.h -- the progress line of a long run (progress.c).
*/
#ifndef DES_PROGRESS_H
#define DES_PROGRESS_H

#include "deshost.h"

/* Run h to the end (until < 0) or to tick `until`, as des_run /
** des_run_until do, with a progress line on stderr when `mode` says so:
** 1 always (one line a second when stderr is not a terminal), 0 never,
** -1 when stderr is a terminal and the run lasts over a second. On a
** terminal the line updates itself and is erased at the end. Off, it is
** one call of des_run: nothing is measured, no timer is set. */
int progress_run(des_host *h, des_time until, int mode);

#endif
