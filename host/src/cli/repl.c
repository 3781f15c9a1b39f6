/*
** repl.c -- the terminal side of `deshost -i`: reads lines and hands them
** to the Lua session of repl.lua (next to it, compiled into the CLI only:
** models cannot require it), which does all the commands.
**
** On a terminal: line editing, history in ~/.deshost_history (or
** $DESHOST_HISTORY) and completion of commands and Lua globals, through
** libedit. Otherwise lines are read plainly and no prompt is printed, so a
** session can be scripted through a pipe. Ctrl-C during a run asks the
** simulation to stop after the current event and returns to the prompt
** (des_stop reaches a sim:run that a typed call started, such as
** des.replicate: it raises, and the prompt prints the error); a
** second Ctrl-C before it does interrupts the running Lua code (a model
** stuck in a loop, in Lua or in a library's C loop); a third, for code that
** still does not stop, ends the process with status 130. Ctrl-C at the
** prompt cancels the line being typed; only end of input or `quit` leave.
** It also gives the session a view of suspended tasks (des_task_thread)
** for frames and locals. A client of
** deshost.h only.
*/
#include "repl.h"

#include "cli_lualib.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>
#include <lauxlib.h>

static lua_State *repl_L;                 /* for the completion callback */
static volatile sig_atomic_t repl_sigint; /* Ctrl-Cs since the last line */
static des_host *volatile repl_busy;      /* the host, while a line runs */

/* SIGINT: ask the running simulation to stop; the second time, interrupt
** the Lua code that runs (both only set flags, deshost.h: signal-safe);
** the third time, end the process. */
static void repl_on_sigint(int sig) {
  static const char msg[] = "\ndeshost: interrupted again, exiting\n";
  des_host *h = repl_busy;
  (void)sig;
  if (repl_sigint < 3)
    repl_sigint++;
  if (h == NULL) /* at the prompt: nothing runs */
    return;
  if (repl_sigint == 1)
    des_stop(h);
  else if (repl_sigint == 2)
    des_interrupt(h);
  else {
    if (write(2, msg, sizeof(msg) - 1) < 0) {
      /* nothing more to do: we exit anyway */
    }
    _exit(130);
  }
}

/* interrupted() for the Lua session. */
static int repl_interrupted(lua_State *L) {
  lua_pushboolean(L, repl_sigint != 0);
  return 1;
}

/* write(s) for the Lua session: straight to stdout. */
static int repl_write(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  fwrite(s, 1, len, stdout);
  fflush(stdout);
  return 0;
}

/* {====================================================================
** The debugger's view of suspended tasks (for frame, up, down, list,
** finish and the locals at the prompt). Given to the session only, never
** to the model: they read and write a task's locals, which no model may.
** ===================================================================== */

/* The coroutine of the task at index 1, or an error. */
static lua_State *repl_thread(lua_State *L) {
  des_host *h = des_host_of(L);
  lua_State *co = NULL;
  if (h != NULL && L == des_lua(h))
    co = des_task_thread(h, 1);
  if (co == NULL)
    luaL_error(L, "not a live task");
  return co;
}

/* frames(task) -> the task's stack where it is suspended, innermost
** first: {level=, what=, source=, short_src=, currentline=, linedefined=,
** name=} each. */
static int repl_frames(lua_State *L) {
  lua_State *co = repl_thread(L);
  lua_Debug ar;
  int level;
  lua_newtable(L);
  for (level = 0; lua_getstack(co, level, &ar); level++) {
    lua_getinfo(co, "Sln", &ar);
    lua_createtable(L, 0, 7);
    lua_pushinteger(L, level);
    lua_setfield(L, -2, "level");
    lua_pushstring(L, ar.what);
    lua_setfield(L, -2, "what");
    lua_pushstring(L, ar.source);
    lua_setfield(L, -2, "source");
    lua_pushstring(L, ar.short_src);
    lua_setfield(L, -2, "short_src");
    lua_pushinteger(L, ar.currentline);
    lua_setfield(L, -2, "currentline");
    lua_pushinteger(L, ar.linedefined);
    lua_setfield(L, -2, "linedefined");
    if (ar.name != NULL) {
      lua_pushstring(L, ar.name);
      lua_setfield(L, -2, "name");
    }
    lua_rawseti(L, -2, level + 1);
  }
  return 1;
}

/* The activation record of level (argument 2) of the task's thread. */
static lua_State *repl_level(lua_State *L, lua_Debug *ar) {
  lua_State *co = repl_thread(L);
  if (!lua_getstack(co, (int)luaL_checkinteger(L, 2), ar))
    luaL_error(L, "no such frame");
  if (!lua_checkstack(co, 2))
    luaL_error(L, "stack overflow");
  return co;
}

/* getlocal(task, level, n) -> name, value (nothing past the last). */
static int repl_getlocal(lua_State *L) {
  lua_Debug ar;
  lua_State *co = repl_level(L, &ar);
  const char *name = lua_getlocal(co, &ar, (int)luaL_checkinteger(L, 3));
  if (name == NULL)
    return 0;
  lua_pushstring(L, name);
  lua_xmove(co, L, 1);
  return 2;
}

/* setlocal(task, level, n, value): assign an active local. */
static int repl_setlocal(lua_State *L) {
  lua_Debug ar;
  lua_State *co = repl_level(L, &ar);
  int n = (int)luaL_checkinteger(L, 3);
  luaL_checkany(L, 4);
  lua_settop(L, 4);
  lua_xmove(L, co, 1);
  if (lua_setlocal(co, &ar, n) == NULL)
    lua_pop(co, 1);
  return 0;
}

/* func(task, level) -> the function running at that level. */
static int repl_func(lua_State *L) {
  lua_Debug ar;
  lua_State *co = repl_level(L, &ar);
  lua_getinfo(co, "f", &ar);
  lua_xmove(co, L, 1);
  return 1;
}

/* getupvalue(f, n) -> name, value; setupvalue(f, n, value). Lua
** functions only (a C function's upvalues are its own business). */
static int repl_getupvalue(lua_State *L) {
  const char *name;
  luaL_checktype(L, 1, LUA_TFUNCTION);
  if (lua_iscfunction(L, 1))
    return 0;
  name = lua_getupvalue(L, 1, (int)luaL_checkinteger(L, 2));
  if (name == NULL)
    return 0;
  lua_pushstring(L, name);
  lua_insert(L, -2);
  return 2;
}

static int repl_setupvalue(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  luaL_checkany(L, 3);
  lua_settop(L, 3);
  if (!lua_iscfunction(L, 1))
    lua_setupvalue(L, 1, (int)luaL_checkinteger(L, 2));
  return 0;
}

/* source_text(path) -> the text of a model file for `list`, or nil and a
** message. The CLI reads it: a sandboxed model has no io. */
static int repl_source_text(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  FILE *f = fopen(path, "rb");
  luaL_Buffer b;
  size_t n;
  if (f == NULL) {
    luaL_pushfail(L);
    lua_pushfstring(L, "cannot open %s", path);
    return 2;
  }
  luaL_buffinit(L, &b);
  do {
    char *p = luaL_prepbuffer(&b);
    n = fread(p, 1, LUAL_BUFFERSIZE, f);
    luaL_addsize(&b, n);
  } while (n == LUAL_BUFFERSIZE);
  fclose(f);
  luaL_pushresult(&b);
  return 1;
}

/* The debugger functions as fields of the table on top. */
static void repl_set_debugger(lua_State *L) {
  static const luaL_Reg fns[] = {
      {"frames", repl_frames},           {"getlocal", repl_getlocal},
      {"setlocal", repl_setlocal},       {"func", repl_func},
      {"getupvalue", repl_getupvalue},   {"setupvalue", repl_setupvalue},
      {"source_text", repl_source_text}, {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}

/* }==================================================================== */

#define REPL_MODULE_KEY "deshost.cli.repl"

/* Run the embedded CLI chunk `name` (repl.lua, repl_frames.lua) with its
** name, the des module and the nargs values on top as arguments; leaves
** its result. Found without the model's globals. Raises on failure. */
static void repl_load(lua_State *L, const char *name, int nargs) {
  const cli_source *s = cli_lualib;
  while (s->module != NULL && strcmp(s->module, name) != 0)
    s++;
  if (s->module == NULL)
    luaL_error(L, "repl: the CLI was built without %s.lua", name);
  if (luaL_loadbufferx(L, s->text, s->len, s->chunkname, "t") != LUA_OK)
    lua_error(L);
  lua_insert(L, -nargs - 1);
  lua_pushstring(L, s->module);
  lua_insert(L, -nargs - 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "des");
  lua_remove(L, -2);
  lua_insert(L, -nargs - 1);
  lua_call(L, nargs + 2, 1);
}

/* Push the session module (repl.lua, given repl_frames.lua, repl_show.lua
** and repl_std.lua's copies of the standard library), loading it
** the first time; kept in the registry, never in package.loaded. */
static void repl_push_module(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, REPL_MODULE_KEY) == LUA_TTABLE)
    return;
  lua_pop(L, 1);
  repl_load(L, "repl_std", 0); /* std: first, before the model runs */
  lua_pushvalue(L, -1);
  repl_load(L, "repl_frames", 1); /* std frames */
  lua_pushvalue(L, -2);
  repl_load(L, "repl_show", 1); /* std frames show */
  lua_pushvalue(L, -3);
  repl_load(L, "repl", 3); /* std repl */
  lua_remove(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, REPL_MODULE_KEY);
}

/* Protected: the completion candidates into the registry. */
static int repl_completions(lua_State *L) {
  repl_push_module(L);
  lua_getfield(L, -1, "completions");
  lua_call(L, 0, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "des.repl.completions");
  return 0;
}

/* Completion candidates (commands, then global names) from the Lua side,
** computed once per completion and kept in the registry meanwhile. */
static char *repl_complete_next(const char *text, int state) {
  static lua_Integer idx;
  lua_State *L = repl_L;
  size_t n = strlen(text);
  if (state == 0) {
    idx = 0;
    lua_pushcfunction(L, repl_completions);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
      lua_pop(L, 1);
      return NULL;
    }
  }
  lua_getfield(L, LUA_REGISTRYINDEX, "des.repl.completions");
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    return NULL;
  }
  while (lua_rawgeti(L, -1, ++idx) == LUA_TSTRING) {
    const char *cand = lua_tostring(L, -1);
    if (strncmp(cand, text, n) == 0) {
      char *copy = strdup(cand); /* libedit frees it */
      lua_pop(L, 2);
      return copy;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
  return NULL;
}

static char **repl_complete(const char *text, int start, int end) {
  (void)start;
  (void)end;
  return rl_completion_matches(text, repl_complete_next);
}

/* Where history is kept; NULL for none. */
static const char *repl_history_path(char *buf, size_t size) {
  const char *p = getenv("DESHOST_HISTORY"), *home = getenv("HOME");
  if (p != NULL)
    return p[0] ? p : NULL;
  if (home == NULL)
    return NULL;
  snprintf(buf, size, "%s/.deshost_history", home);
  return buf;
}

/* Read one line: editline on a terminal, fgets otherwise. The result is
** malloc'ed; NULL at end of input. */
static char *repl_read(int tty, const char *prompt) {
  char buf[4096];
  size_t len;
  if (tty)
    return readline(prompt);
  if (fgets(buf, sizeof(buf), stdin) == NULL)
    return NULL;
  len = strlen(buf);
  if (len > 0 && buf[len - 1] == '\n')
    buf[len - 1] = '\0';
  return strdup(buf);
}

/* Protected: session = repl.new(des.default(), {write=, interrupted=})
** and its banner; leaves the session and the banner. The des module is
** the one in the registry's loaded table, not the model's `require`. */
static int repl_open(lua_State *L) {
  const char *model = lua_touserdata(L, 1);
  repl_push_module(L);
  lua_getfield(L, -1, "new");
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "des");
  lua_remove(L, -2);
  lua_getfield(L, -1, "default");
  lua_call(L, 0, 1);
  lua_remove(L, -2);
  lua_createtable(L, 0, 10);
  lua_pushcfunction(L, repl_write);
  lua_setfield(L, -2, "write");
  lua_pushcfunction(L, repl_interrupted);
  lua_setfield(L, -2, "interrupted");
  repl_set_debugger(L);
  lua_call(L, 2, 1);
  lua_getfield(L, -1, "banner");
  lua_pushvalue(L, -2);
  lua_pushstring(L, model);
  lua_call(L, 2, 1);
  return 2;
}

/* Ctrl-C at the prompt cancels the line being typed, and a Lua chunk
** still awaiting lines, as gdb, pdb and python do: only end of input or
** `quit` leave. Resets the prompt. */
static void repl_cancel_line(lua_State *L, int session, int tty, char *prompt,
                             size_t size) {
  if (!tty)
    clearerr(stdin); /* the read was interrupted, not at its end */
  fputs(tty ? "^C\n" : "", stdout);
  fflush(stdout);
  lua_pushnil(L);
  lua_setfield(L, session, "pending");
  snprintf(prompt, size, "(des) ");
}

int repl_run(des_host *h, const char *model) {
  lua_State *L = des_lua(h);
  int tty = isatty(0) && isatty(1), session, top = lua_gettop(L);
  char hbuf[1024];
  const char *hist = tty ? repl_history_path(hbuf, sizeof(hbuf)) : NULL;
  char prompt[32];
  struct sigaction sa, old;
  lua_pushcfunction(L, repl_open);
  lua_pushlightuserdata(L, (void *)model);
  if (des_pcall(h, 1, 2) != DES_OK) {
    fprintf(stderr, "deshost: repl: %s\n", des_last_error(h));
    return 1;
  }
  session = lua_gettop(L) - 1;
  if (tty)
    printf("%s\n", lua_tostring(L, -1));
  lua_pop(L, 1);
  snprintf(prompt, sizeof(prompt), "(des) ");
  repl_L = L;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = repl_on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  if (tty) {
    rl_attempted_completion_function = repl_complete;
    if (hist != NULL)
      read_history(hist);
  }
  for (;;) {
    char *line;
    int rc;
    repl_sigint = 0;
    line = repl_read(tty, prompt);
    if (line == NULL && repl_sigint) { /* Ctrl-C at the prompt */
      repl_cancel_line(L, session, tty, prompt, sizeof(prompt));
      continue;
    }
    if (line == NULL)
      break;
    if (tty && line[0] != '\0')
      add_history(line);
    repl_sigint = 0;
    lua_getfield(L, session, "feed");
    lua_pushvalue(L, session);
    lua_pushstring(L, line);
    free(line);
    repl_busy = h;
    rc = des_pcall(h, 2, 1);
    repl_busy = NULL;
    if (rc != DES_OK) { /* interrupted, or a bug in the session itself */
      fprintf(stderr, "deshost: %s\n", des_last_error(h));
      continue;
    }
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      break;
    }
    snprintf(prompt, sizeof(prompt), "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  if (tty && hist != NULL)
    write_history(hist);
  sigaction(SIGINT, &old, NULL);
  repl_L = NULL;
  lua_settop(L, top);
  return 0;
}
