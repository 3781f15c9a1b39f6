/*
** repl.h -- the interactive prompt of `deshost -i` (see repl.c).
*/
#ifndef DES_REPL_H
#define DES_REPL_H

#include "deshost.h"

/* Run a session over the host's simulation until the user quits or the
** input ends; returns the exit status (0). Ctrl-C during a run stops it
** after the current event (des_stop); a second Ctrl-C in the same run
** interrupts the Lua code that runs (des_interrupt). */
int repl_run(des_host *h, const char *model);

#endif
