/*
** checkdet.c -- deshost --check-determinism: run a model several times in
** child processes that differ in everything that should not matter, and
** name the first event at which the runs part.
**
**   parent: run 1 records a hash per handled event  ->  runs 2..N record
**           theirs and compare on the fly with run 1's; the first to part
**           dumps where it parted  ->  run 1 runs again to the same event
**           and dumps its side  ->  one report, exit 0 (same) or 1.
**
** A child is the same deshost with the same options, told by environment
** variables what to do (DESHOST_DET_*); it differs from its siblings in
** its address layout (ASLR, and a heap offset of its own), its environment
** size and, with a Lua whose string hash seed is not fixed, that seed. The
** per-event record is the hash of the event's trace line (time, ticks,
** kind, task name and serial), so the runs agree when their event
** sequences agree byte for byte. The model's standard output and exit
** status are compared as well.
*/
#include "checkdet.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>

#define DET_EXIT_PARTED 86 /* a child's status when it dumped a parting */

/* {====================================================================
** The child: record, compare, dump
** ===================================================================== */

typedef struct det_child {
  des_host *h;
  FILE *record; /* one 64-bit hash per event */
  FILE *ref;    /* run 1's record, or NULL */
  const char *dump_path;
  const char *calls_path;     /* where the calls that cannot repeat go */
  unsigned long long stop_at; /* dump at this event (1-based), 0: never */
  unsigned long long n;       /* events so far */
  int echo;                   /* --trace too */
  char prev[512];             /* the previous event's trace line */
} det_child;

static det_child det_state;
void *volatile det_heap_offset; /* a child's own heap offset, kept */

/* FNV-1a, 64 bits: a stable hash of a trace line. */
static uint64_t det_hash(const char *s) {
  uint64_t h = 14695981039346656037ull;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}

/* The serial of the task an event line names ("... (#12)"), or 0. */
static long long det_line_serial(const char *line) {
  const char *p = strstr(line, "(#");
  return p != NULL ? strtoll(p + 2, NULL, 10) : 0;
}

static const char det_sites_key = 's'; /* registry: serial -> spawn site */

/* des.spawn in a child: the original (upvalue 1), then the caller's
** file:line kept by the new task's serial, so that a report can say where
** a task that parted the runs was spawned (a pairs loop, typically). */
static int det_spawn_wrapper(lua_State *L) {
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  if (lua_gettop(L) >= 1 && lua_getmetatable(L, 1)) {
    lua_pop(L, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &det_sites_key);
    lua_getfield(L, 1, "id");
    luaL_where(L, 1); /* "file:line: " */
    lua_pushlstring(L, lua_tostring(L, -1), lua_rawlen(L, -1) - 2);
    lua_remove(L, -2);
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  return lua_gettop(L);
}

/* Protected: wrap the loaded module's des.spawn with det_spawn_wrapper. */
static int det_wrap_spawn(lua_State *L) {
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &det_sites_key);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "des") != LUA_TTABLE)
    return 0;
  lua_getfield(L, -1, "spawn");
  lua_pushcclosure(L, det_spawn_wrapper, 1);
  lua_setfield(L, -2, "spawn");
  return 0;
}

/* Protected: write to the FILE at 1 where the task of serial 2 was
** spawned, when known. */
static int det_write_site(lua_State *L) {
  FILE *f = lua_touserdata(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &det_sites_key);
  if (lua_istable(L, -1) &&
      lua_rawgeti(L, -1, lua_tointeger(L, 2)) == LUA_TSTRING)
    fprintf(f, "spawned at %s\n", lua_tostring(L, -1));
  return 0;
}

/* Protected: write to the FILE at 1 the traceback of the live task whose
** serial is 2 (found through the `des` module as loaded, not the model's
** globals), or a line saying it is gone. */
static int det_write_traceback(lua_State *L) {
  FILE *f = lua_touserdata(L, 1);
  lua_Integer serial = lua_tointeger(L, 2);
  int i, n;
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "des");
  lua_getfield(L, -1, "tasks");
  lua_call(L, 0, 1);
  n = (int)lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    lua_getfield(L, -1, "id");
    if (lua_tointeger(L, -1) == serial) {
      lua_pop(L, 1);
      lua_getfield(L, -1, "traceback");
      lua_pushvalue(L, -2);
      lua_call(L, 1, 1);
      if (!lua_isstring(L, -1))
        fprintf(f, "(running: no traceback)\n");
      else if (strchr(lua_tostring(L, -1), '\n') == NULL)
        fprintf(f, "(not started yet)\n");
      else
        fprintf(f, "%s\n", lua_tostring(L, -1));
      return 0;
    }
    lua_pop(L, 2);
  }
  fprintf(f, "(the task has ended)\n");
  return 0;
}

/* Write the traceback of the task named by `line` to f. */
static void det_dump_task(FILE *f, lua_State *L, const char *line) {
  long long serial = det_line_serial(line);
  int top = lua_gettop(L);
  if (serial == 0) {
    fprintf(f, "(not a task's event)\n");
    return;
  }
  lua_pushcfunction(L, det_write_site);
  lua_pushlightuserdata(L, f);
  lua_pushinteger(L, (lua_Integer)serial);
  lua_pcall(L, 2, 0, 0);
  lua_settop(L, top);
  lua_pushcfunction(L, det_write_traceback);
  lua_pushlightuserdata(L, f);
  lua_pushinteger(L, (lua_Integer)serial);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK)
    fprintf(f, "(no traceback: %s)\n", lua_tostring(L, -1));
  lua_settop(L, top);
}

/* Where des_nondet_calls' lines go, and how many there were. */
typedef struct det_calls {
  FILE *f;
  int n;
} det_calls;

/* des_nondet_calls callback: one line "<call>: N time(s)". */
static int det_call_line(void *ctx, const char *call, uint64_t count) {
  det_calls *d = ctx;
  d->n++;
  fprintf(d->f, "%s: %llu time%s\n", call, (unsigned long long)count,
          count == 1 ? "" : "s");
  return 0;
}

/* Write to f the calls whose results cannot repeat that the model made
** so far (the host counts them: DES_STRICT_COUNT), under a header. */
static void det_write_calls(FILE *f, des_host *h, const char *when) {
  det_calls d;
  d.f = f;
  d.n = 0;
  fprintf(f, "-- calls that cannot repeat, %s:\n", when);
  des_nondet_calls(h, det_call_line, &d);
  if (d.n == 0)
    fprintf(f, "(none)\n");
}

/* The same from the calls file at path (written at the run's end). */
static void det_write_calls_file(FILE *f, const char *path) {
  char line[256];
  int n = 0;
  FILE *in = path != NULL ? fopen(path, "r") : NULL;
  fprintf(f, "-- calls that cannot repeat, made in this run:\n");
  while (in != NULL && fgets(line, sizeof(line), in) != NULL) {
    fputs(line, f);
    n++;
  }
  if (in != NULL)
    fclose(in);
  if (n == 0)
    fprintf(f, "(none)\n");
}

/* Dump where this run is at event n (the line `line`) and end the child. */
static void det_dump(det_child *c, const char *line) {
  lua_State *L = des_lua(c->h);
  FILE *f = fopen(c->dump_path, "w");
  if (f != NULL) {
    fprintf(f, "event %llu: %s\n", c->n, line);
    fprintf(f, "after event %llu: %s\n", c->n - 1,
            c->n > 1 ? c->prev : "(none: the run's first event)");
    fprintf(f, "-- the task of event %llu, where it waits:\n", c->n);
    det_dump_task(f, L, line);
    if (c->n > 1) {
      fprintf(f, "-- the task of event %llu, where it suspended after it:\n",
              c->n - 1);
      det_dump_task(f, L, c->prev);
    }
    det_write_calls(f, c->h, "made before this event");
    fclose(f);
  }
  fflush(NULL);
  _exit(DET_EXIT_PARTED);
}

/* The trace function of a child: record, compare, maybe dump. */
static void det_trace(void *ctx, const char *line) {
  det_child *c = ctx;
  uint64_t h = det_hash(line), want;
  c->n++;
  if (c->echo)
    fprintf(stderr, "%s\n", line);
  fwrite(&h, sizeof(h), 1, c->record);
  if (c->stop_at != 0 && c->n == c->stop_at)
    det_dump(c, line);
  if (c->ref != NULL &&
      (fread(&want, sizeof(want), 1, c->ref) != 1 || want != h)) {
    fflush(c->record);
    det_dump(c, line);
  }
  snprintf(c->prev, sizeof(c->prev), "%s", line);
}

void checkdet_child_finish(des_host *h) {
  det_child *c = &det_state;
  FILE *f;
  if (c->h != h || h == NULL || c->calls_path == NULL)
    return;
  f = fopen(c->calls_path, "w");
  if (f != NULL) {
    det_calls d;
    d.f = f;
    d.n = 0;
    des_nondet_calls(h, det_call_line, &d);
    fclose(f);
  }
  c->h = NULL; /* written: the host is freed next */
}

int checkdet_is_child(void) {
  return getenv("DESHOST_DET_RECORD") != NULL;
}

/* End of a child's run: a run shorter than run 1's parted where it ended. */
static void det_child_end(void) {
  det_child *c = &det_state;
  uint64_t want;
  checkdet_child_finish(c->h); /* os.exit: main did not return */
  if (c->record != NULL)
    fclose(c->record);
  if (c->ref != NULL && fread(&want, sizeof(want), 1, c->ref) == 1) {
    FILE *f = fopen(c->dump_path, "w");
    if (f != NULL) {
      fprintf(f, "event %llu: (none: this run ended after %llu events)\n",
              c->n + 1, c->n);
      fprintf(f, "after event %llu: %s\n", c->n, c->n ? c->prev : "(none)");
      det_write_calls_file(f, c->calls_path);
      fclose(f);
    }
    fflush(NULL);
    _exit(DET_EXIT_PARTED);
  }
}

int checkdet_child(des_host *h, int echo) {
  det_child *c = &det_state;
  const char *rec = getenv("DESHOST_DET_RECORD");
  const char *ref = getenv("DESHOST_DET_REF");
  const char *stop = getenv("DESHOST_DET_STOP");
  const char *pad = getenv("DESHOST_DET_RUN");
  if (rec == NULL)
    return 0;
  /* a heap offset of this run's own: later allocations move with it */
  if (pad != NULL)
    det_heap_offset = malloc(16 + 48 * (size_t)atoi(pad));
  memset(c, 0, sizeof(*c));
  c->h = h;
  c->echo = echo;
  c->dump_path = getenv("DESHOST_DET_DUMP");
  c->calls_path = getenv("DESHOST_DET_CALLS");
  c->record = fopen(rec, "wb");
  c->ref = ref != NULL ? fopen(ref, "rb") : NULL;
  c->stop_at = stop != NULL ? strtoull(stop, NULL, 10) : 0;
  if (c->record == NULL || c->dump_path == NULL)
    return -1;
  atexit(det_child_end);
  lua_pushcfunction(des_lua(h), det_wrap_spawn);
  if (lua_pcall(des_lua(h), 0, 0, 0) != LUA_OK)
    return -1;
  return des_set_trace(h, det_trace, c) == DES_OK ? 1 : -1;
}

/* }==================================================================== */

/* {====================================================================
** The parent: run the children, compare, report
** ===================================================================== */

typedef struct det_run {
  char record[64], out[64], dump[64], calls[64];
  int status; /* exit status, or 128 + signal */
} det_run;

/* Run deshost with argv (child options already filtered), as run `i`,
** against the reference record `ref` (NULL for run 1), stopping at event
** `stop` (0: never). Its standard output goes to r->out, its standard
** error to this process's (so a model's errors show). */
static int det_spawn(char **argv, int i, det_run *r, const char *ref,
                     unsigned long long stop, const char *dir) {
  pid_t pid;
  int st;
  snprintf(r->record, sizeof(r->record), "%s/rec%d", dir, i);
  snprintf(r->out, sizeof(r->out), "%s/out%d", dir, i);
  snprintf(r->dump, sizeof(r->dump), "%s/dump%d", dir, i);
  snprintf(r->calls, sizeof(r->calls), "%s/calls%d", dir, i);
  fflush(NULL);
  pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    char run[16], stopbuf[32];
    char padding[1024];
    FILE *out = freopen(r->out, "w", stdout);
    if (out == NULL)
      _exit(127);
    snprintf(run, sizeof(run), "%d", i);
    snprintf(stopbuf, sizeof(stopbuf), "%llu", stop);
    /* the environment's size moves the stack of every run differently */
    memset(padding, 'x', sizeof(padding) - 1);
    padding[(size_t)(i * 37) % (sizeof(padding) - 1)] = '\0';
    setenv("DESHOST_DET_PAD", padding, 1);
    setenv("DESHOST_DET_RUN", run, 1);
    setenv("DESHOST_DET_RECORD", r->record, 1);
    setenv("DESHOST_DET_DUMP", r->dump, 1);
    setenv("DESHOST_DET_CALLS", r->calls, 1);
    if (ref != NULL)
      setenv("DESHOST_DET_REF", ref, 1);
    else
      unsetenv("DESHOST_DET_REF");
    if (stop != 0)
      setenv("DESHOST_DET_STOP", stopbuf, 1);
    else
      unsetenv("DESHOST_DET_STOP");
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  if (waitpid(pid, &st, 0) < 0)
    return -1;
  r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return 0;
}

/* Print the file at path to out, each line indented. */
static void det_print_file(FILE *out, const char *path, const char *indent) {
  char line[1024];
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    fprintf(out, "%s(nothing recorded)\n", indent);
    return;
  }
  while (fgets(line, sizeof(line), f) != NULL)
    fprintf(out, "%s%s", indent, line);
  fclose(f);
}

/* Print the calls that cannot repeat which run i made (its calls file),
** if any, under a line naming the run. Returns how many kinds. */
static int det_print_calls(FILE *out, const det_run *r, int i) {
  char line[256];
  int n = 0;
  FILE *f = fopen(r->calls, "r");
  while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
    if (n++ == 0)
      fprintf(out, "run %d made calls that cannot repeat:\n", i);
    fprintf(out, "  %s", line);
  }
  if (f != NULL)
    fclose(f);
  return n;
}

/* The first line at which files a and b differ (1-based), 0 if equal. */
static long det_first_diff_line(const char *a, const char *b) {
  FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
  long line = 1, diff = 0;
  int ca = 0, cb = 0;
  if (fa == NULL || fb == NULL)
    diff = -1;
  while (diff == 0) {
    ca = getc(fa);
    cb = getc(fb);
    if (ca != cb)
      diff = line;
    else if (ca == EOF)
      break;
    else if (ca == '\n')
      line++;
  }
  if (fa != NULL)
    fclose(fa);
  if (fb != NULL)
    fclose(fb);
  return diff;
}

/* Number of events in a record file. */
static long det_events(const char *path) {
  FILE *f = fopen(path, "rb");
  long n = 0;
  if (f != NULL) {
    if (fseek(f, 0, SEEK_END) == 0)
      n = ftell(f) / (long)sizeof(uint64_t);
    fclose(f);
  }
  return n;
}

/* The event number of a dump's first line ("event N: ..."), or 0. */
static unsigned long long det_dump_event(const char *path) {
  unsigned long long n = 0;
  FILE *f = fopen(path, "r");
  if (f != NULL) {
    if (fscanf(f, "event %llu", &n) != 1)
      n = 0;
    fclose(f);
  }
  return n;
}

/* Remove the scratch files and folder. */
static void det_cleanup(const char *dir, det_run *runs, int n) {
  int i;
  for (i = 0; i < n; i++) {
    remove(runs[i].record);
    remove(runs[i].out);
    remove(runs[i].dump);
    remove(runs[i].calls);
  }
  rmdir(dir);
}

int checkdet_compare(char **cargv, int nruns, FILE *out) {
  char dir[] = "/tmp/deshost-det-XXXXXX";
  det_run runs[CLI_MAX_RUNS + 1];
  int i, parted = 0, rc = 1;
  memset(runs, 0, sizeof(runs));
  if (nruns < 2 || nruns > CLI_MAX_RUNS)
    nruns = 2;
  if (mkdtemp(dir) == NULL) {
    fprintf(stderr, "deshost: --check-determinism: %s\n", strerror(errno));
    return 1;
  }
  for (i = 1; i <= nruns && !parted; i++) {
    if (det_spawn(cargv, i, &runs[i - 1], i > 1 ? runs[0].record : NULL, 0,
                  dir) != 0) {
      fprintf(stderr, "deshost: --check-determinism: cannot run: %s\n",
              strerror(errno));
      goto done;
    }
    if (runs[i - 1].status == DET_EXIT_PARTED)
      parted = i;
  }
  if (parted) {
    det_run *b = &runs[parted - 1], *a = &runs[nruns];
    unsigned long long ev = det_dump_event(b->dump);
    fprintf(out,
            "deshost: not deterministic: run %d parts from run 1 at event "
            "%llu\n",
            parted, ev);
    /* run 1 again, to the same event, for its side of the story */
    if (ev > 0 && det_spawn(cargv, nruns + 1, a, NULL, ev, dir) == 0 &&
        a->status == DET_EXIT_PARTED) {
      fprintf(out, "run 1 (run again to that event):\n");
      det_print_file(out, a->dump, "  ");
    } else
      fprintf(out, "run 1: ended after %ld events\n", det_events(a->record));
    fprintf(out, "run %d:\n", parted);
    det_print_file(out, b->dump, "  ");
    fprintf(out, "(look at what the tasks above did between the two events: "
                 "pairs over a table keyed by tables or functions, the "
                 "calls that cannot repeat listed above (deshost --strict "
                 "makes those that read a clock or show an address errors "
                 "where they are made), io)\n");
    nruns = nruns + 1;
    goto done;
  }
  for (i = 1; i < nruns; i++) {
    long line = det_first_diff_line(runs[0].out, runs[i].out);
    if (runs[i].status != runs[0].status) {
      fprintf(out,
              "deshost: not deterministic: the same events, but run 1 "
              "exited with %d and run %d with %d\n",
              runs[0].status, i + 1, runs[i].status);
      det_print_calls(out, &runs[0], 1);
      det_print_calls(out, &runs[i], i + 1);
      goto done;
    }
    if (line != 0) {
      fprintf(out,
              "deshost: not deterministic: the same events, but the "
              "model's output differs from line %ld on (run 1 and run %d; "
              "printing tostring of a table or function shows its "
              "address)\n",
              line, i + 1);
      det_print_calls(out, &runs[0], 1);
      det_print_calls(out, &runs[i], i + 1);
      goto done;
    }
  }
  fprintf(out,
          "deshost: deterministic: %d runs, %ld events each, the same "
          "events and output\n",
          nruns, det_events(runs[0].record));
  if (det_print_calls(out, &runs[0], 1) > 0)
    fprintf(out, "(they gave the same run this time: another machine, "
                 "load or build may not; --strict finds each)\n");
  rc = 0;
done:
  det_cleanup(dir, runs, nruns);
  return rc;
}

int checkdet_main(int argc, char **argv, const cli_options *o, FILE *out) {
  char **cargv;
  int i, j = 0, rc;
  /* the children's argv: ours without the checker's own options */
  cargv = calloc((size_t)argc + 1, sizeof(*cargv));
  if (cargv == NULL) {
    fprintf(stderr, "deshost: --check-determinism: %s\n", strerror(errno));
    return 1;
  }
  for (i = 0; i < argc; i++) {
    if (i > 0 && i < o->script && strcmp(argv[i], "--check-determinism") == 0)
      continue;
    if (i > 0 && i < o->script && strncmp(argv[i], "--runs=", 7) == 0)
      continue;
    if (i > 0 && i < o->script && strcmp(argv[i], "--runs") == 0) {
      i++;
      continue;
    }
    cargv[j++] = argv[i];
  }
  rc = checkdet_compare(cargv, o->runs > 0 ? o->runs : 2, out);
  free(cargv);
  return rc;
}

/* }==================================================================== */
