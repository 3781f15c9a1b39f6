/*
** cli_lualib.h -- the CLI's own Lua chunks (the .lua files next to it:
** the REPL), compiled into the deshost binary by cmake/embed_lua.cmake.
** They are not part of des.so, so a model cannot require them.
*/
#ifndef DES_CLI_LUALIB_H
#define DES_CLI_LUALIB_H

#include <stddef.h>

typedef struct cli_source {
  const char *module, *chunkname, *text;
  size_t len;
} cli_source;

extern const cli_source cli_lualib[]; /* ends with a NULL module */

#endif
