/*
** repl.h -- the interactive prompt of `deshost -i` (see repl.c).
*/
#ifndef DES_REPL_H
#define DES_REPL_H

#include <lua.h>

/* Run a session over the simulation object at sim_idx until the user quits
** or the input ends. stop(stop_ctx) is called from the SIGINT handler to
** stop a run in progress (it must only set a flag). */
int repl_run(lua_State *L, int sim_idx, const char *model, void (*stop)(void *),
             void *stop_ctx);

#endif
