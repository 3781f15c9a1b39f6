/*
** exprun.c -- one run of an experiment in a forked worker process: a fresh
** host with the run's seed, parameters and limits, the model run, the
** table its main chunk returned flattened into sorted name/value texts and
** written to a pipe as a payload:
**
**   ok | fail            the status line
**   E<line>              the failure's message, line by line
**   R<name>\t<value>     one result
**
** A worker that dies (a crash, a signal) writes no status line: the
** coordinator reports its wait status instead. The probe (exp_probe) uses
** the same machinery to learn the model's parameters without trusting the
** model in the coordinating process.
*/
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>

#include "experiment.h"

#define EXP_MAX_DEPTH 16
#define EXP_MAX_LEAVES 100000
#define EXP_MAX_NAME 256

/* A growable text buffer (malloc'd). */
typedef struct exp_buf {
  char *p;
  size_t len, cap;
  int oom;
} exp_buf;

/* Append n bytes of s. */
static void buf_add(exp_buf *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *p;
    while (cap < b->len + n + 1)
      cap *= 2;
    p = realloc(b->p, cap);
    if (p == NULL) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void buf_str(exp_buf *b, const char *s) {
  buf_add(b, s, strlen(s));
}

/* Write all of p to fd (a pipe), whatever the interruptions. */
static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    p += w;
    n -= (size_t)w;
  }
}

/* Make a text safe in a row: no control characters, no double quote or
** backslash (so that CSV and JSON need no escapes beyond quoting). */
static void sanitize(char *s, int name) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 32 || c == 127)
      *s = name ? '_' : ' ';
    else if (c == '"' || c == '\\' || (name && c == ','))
      *s = name ? '_' : '\'';
  }
}

/* A number as results carry it: integers exactly, floats in the fewest
** digits (15 to 17) that read back as the same double. */
static void fmt_number(lua_State *L, int idx, char *out, size_t size) {
  double d;
  int prec;
  if (lua_isinteger(L, idx)) {
    snprintf(out, size, "%lld", (long long)lua_tointeger(L, idx));
    return;
  }
  d = (double)lua_tonumber(L, idx);
  for (prec = 15; prec <= 17; prec++) {
    snprintf(out, size, "%.*g", prec, d);
    if (strtod(out, NULL) == d)
      return;
  }
}

/* The flattening's state: the pairs found so far, in a buffer. */
typedef struct flat {
  exp_kv *kv;
  int n, cap;
} flat;

/* Add one leaf (the value at -1) under name. */
static void flat_leaf(lua_State *L, flat *f, const char *name) {
  char num[64], *v;
  const char *text;
  if (f->n == EXP_MAX_LEAVES)
    luaL_error(L, "the results have more than %d values", EXP_MAX_LEAVES);
  switch (lua_type(L, -1)) {
  case LUA_TNUMBER:
    fmt_number(L, -1, num, sizeof(num));
    text = num;
    break;
  case LUA_TSTRING:
    text = lua_tostring(L, -1);
    break;
  case LUA_TBOOLEAN:
    text = lua_toboolean(L, -1) ? "true" : "false";
    break;
  default:
    text = lua_typename(L, lua_type(L, -1));
  }
  if (f->n == f->cap) {
    int cap = f->cap ? 2 * f->cap : 32;
    exp_kv *kv = realloc(f->kv, (size_t)cap * sizeof(*kv));
    if (kv == NULL)
      luaL_error(L, "not enough memory for the results");
    f->kv = kv;
    f->cap = cap;
  }
  f->kv[f->n].name = strdup(name);
  f->kv[f->n].value = v = strdup(text);
  if (f->kv[f->n].name == NULL || v == NULL)
    luaL_error(L, "not enough memory for the results");
  sanitize(f->kv[f->n].name, 1);
  sanitize(v, 0);
  f->n++;
}

/* Flatten the table at -1 under prefix: raw reads only (no metamethod,
** no allocation inside Lua, so no finalizer of the model runs), keys that
** are strings or numbers, dotted names. */
static void flat_table(lua_State *L, flat *f, const char *prefix, int depth) {
  char name[EXP_MAX_NAME], key[64];
  if (depth > EXP_MAX_DEPTH)
    luaL_error(L, "the results nest deeper than %d tables", EXP_MAX_DEPTH);
  luaL_checkstack(L, 4, "results");
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    const char *k;
    if (lua_type(L, -2) == LUA_TSTRING)
      k = lua_tostring(L, -2);
    else if (lua_type(L, -2) == LUA_TNUMBER) {
      fmt_number(L, -2, key, sizeof(key));
      k = key;
    } else {
      lua_pop(L, 1);
      continue;
    }
    if (snprintf(name, sizeof(name), "%s%s%s", prefix, prefix[0] ? "." : "",
                 k) >= (int)sizeof(name))
      luaL_error(L, "a result's name is longer than %d bytes: '%s...'",
                 EXP_MAX_NAME - 1, prefix);
    if (lua_type(L, -1) == LUA_TTABLE)
      flat_table(L, f, name, depth + 1);
    else
      flat_leaf(L, f, name);
    lua_pop(L, 1);
  }
}

/* Protected: flatten the value at 1 (a table, or one value named
** "value"; nil: no results) into the flat at upvalue... (arg 2). */
static int flat_run(lua_State *L) {
  flat *f = lua_touserdata(L, 2);
  lua_settop(L, 1);
  if (lua_istable(L, 1))
    flat_table(L, f, "", 0);
  else if (!lua_isnil(L, 1))
    flat_leaf(L, f, "value");
  return 0;
}

static int kv_cmp(const void *a, const void *b) {
  return strcmp(((const exp_kv *)a)->name, ((const exp_kv *)b)->name);
}

/* Test only (DESHOST_TEST_CRASH set): a C function that kills its worker
** with SIGSEGV, as a crashing C component would. */
static int test_crash(lua_State *L) {
  (void)L;
  signal(SIGSEGV, SIG_DFL); /* past the sanitizers' handlers */
  raise(SIGSEGV);
  return 0;
}

/* A fresh host with the options' limits, seed and the given parameters
** (names[k] = values[k]); NULL after writing the reason into b. */
static des_host *new_host(const exp_plan *pl, uint64_t seed, const char **vals,
                          exp_buf *b) {
  des_config cfg;
  des_host *h;
  int k;
  des_config_init(&cfg);
  cfg.seed = seed;
  cfg.sandbox = pl->o->sandbox;
  cfg.strict = pl->o->strict ? DES_STRICT_ON : DES_STRICT_OFF;
  cfg.mem_limit = pl->o->mem_limit;
  cfg.max_steps = pl->o->max_steps;
  if (des_host_new(&h, &cfg) != DES_OK) {
    buf_str(b, "fail\nEcannot create a host\n");
    return NULL;
  }
  if (getenv("DESHOST_TEST_CRASH") != NULL)
    des_register(h, "deshost_test_crash", test_crash);
  for (k = 0; vals != NULL && k < pl->nnames; k++)
    if (des_set_param(h, pl->name[k], vals[k]) != DES_OK) {
      buf_str(b, "fail\nEcannot set a parameter\n");
      des_host_free(h);
      return NULL;
    }
  return h;
}

/* Append a failure: its status and each line of the host's message. */
static void payload_fail(exp_buf *b, const char *msg) {
  buf_str(b, "fail\n");
  while (*msg) {
    size_t n = strcspn(msg, "\n");
    buf_str(b, "E");
    buf_add(b, msg, n);
    buf_str(b, "\n");
    msg += n + (msg[n] == '\n');
  }
}

/* The worker's whole life: run `run` and write its payload to fd. */
static void child_run(const exp_plan *pl, long run, int fd) {
  const char *vals[2 * CLI_MAX_PARAMS];
  exp_buf b = {0};
  des_host *h;
  flat f = {0};
  int rc, k;
  exp_point(pl, run / pl->reps, vals);
  h = new_host(pl, exp_seed(pl, run), vals, &b);
  if (h == NULL)
    goto out;
  rc = des_load_file(h, pl->model, pl->argc - pl->o->script - 1,
                     (const char *const *)pl->argv + pl->o->script + 1);
  if (rc == DES_OK && pl->o->until != NULL) {
    des_time t;
    rc = des_ticks(h, strtod(pl->o->until, NULL), &t);
    if (rc == DES_OK)
      rc = des_run_until(h, t);
  } else if (rc == DES_OK)
    rc = des_run(h);
  if (rc < 0) {
    payload_fail(&b, des_last_error(h));
    goto out;
  }
  if (des_results(h) != DES_OK) {
    payload_fail(&b, pl->o->until != NULL
                         ? "the model's main chunk did not return by --until"
                         : "the model's main chunk did not return");
    goto out;
  }
  {
    lua_State *L = des_lua(h);
    lua_pushcfunction(L, flat_run);
    lua_rotate(L, -2, 1);
    lua_pushlightuserdata(L, &f);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
      const char *m = lua_tostring(L, -1);
      char msg[512];
      snprintf(msg, sizeof(msg), "bad results: %s", m ? m : "?");
      payload_fail(&b, msg);
      goto out;
    }
  }
  if (f.n > 1)
    qsort(f.kv, (size_t)f.n, sizeof(*f.kv), kv_cmp);
  buf_str(&b, "ok\n");
  for (k = 0; k < f.n; k++) {
    if (k > 0 && strcmp(f.kv[k].name, f.kv[k - 1].name) == 0)
      continue; /* "a.b" and a = {b = ...}: the first */
    buf_str(&b, "R");
    buf_str(&b, f.kv[k].name);
    buf_str(&b, "\t");
    buf_str(&b, f.kv[k].value);
    buf_str(&b, "\n");
  }
out:
  if (b.oom) {
    free(b.p);
    b.p = NULL;
    b.len = 0;
    b.oom = 0;
    buf_str(&b, "fail\nEnot enough memory for the results\n");
  }
  if (b.len > 0)
    write_all(fd, b.p, b.len);
  /* no des_host_free, no exit handlers: the process ends now */
  _exit(0);
}

/* Fork a worker running fn(pl, run, write end); *fd gets the read end. */
static pid_t fork_worker(const exp_plan *pl, long run, int *fd,
                         void (*fn)(const exp_plan *, long, int)) {
  int p[2];
  pid_t pid;
  if (pipe(p) != 0)
    return -1;
  fflush(NULL);
  pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return -1;
  }
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    signal(SIGINT, SIG_IGN); /* Ctrl-C: the runs in progress finish */
    signal(SIGPIPE, SIG_DFL);
    close(p[0]);
    if (null >= 0) { /* the model's prints are not the experiment's */
      dup2(null, 0);
      dup2(null, 1);
      close(null);
    }
    fn(pl, run, p[1]);
    _exit(0);
  }
  close(p[1]);
  *fd = p[0];
  return pid;
}

pid_t exp_fork_run(const exp_plan *pl, long run, int *fd) {
  return fork_worker(pl, run, fd, child_run);
}

/* des_params callback of the probe: one "P" line. */
static int probe_entry(void *ctx, const char *name, const char *d) {
  exp_buf *b = ctx;
  buf_str(b, "P");
  buf_str(b, name);
  buf_str(b, "\t");
  buf_add(b, d, strcspn(d, "\n"));
  buf_str(b, "\n");
  return 0;
}

/* Probe: the model's events at time 0, then its parameters as
** "P<name>\t<default>" lines, or "X<message>" if it does not load. */
static void child_probe(const exp_plan *pl, long run, int fd) {
  exp_buf b = {0};
  des_host *h;
  des_time when;
  int rc;
  const char *vals[2 * CLI_MAX_PARAMS];
  (void)run;
  exp_point(pl, 0, vals); /* the first point's values: a model that asks
                             for a parameter only given another's value */
  h = new_host(pl, pl->seed, vals, &b);
  if (h == NULL)
    goto out;
  rc = des_load_file(h, pl->model, pl->argc - pl->o->script - 1,
                     (const char *const *)pl->argv + pl->o->script + 1);
  if (rc != DES_OK) {
    buf_str(&b, "X");
    buf_str(&b, des_last_error(h));
    goto out;
  }
  while (des_peek(h, &when) == DES_OK && when == 0 && des_step(h) == DES_OK)
    ;
  buf_str(&b, "ok\n");
  des_params(h, probe_entry, &b);
out:
  if (b.len > 0)
    write_all(fd, b.p, b.len);
  _exit(0);
}

/* Read everything from fd until EOF (closing it). */
static char *read_all(int fd, size_t *len) {
  exp_buf b = {0};
  char tmp[4096];
  for (;;) {
    ssize_t n = read(fd, tmp, sizeof(tmp));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    buf_add(&b, tmp, (size_t)n);
  }
  close(fd);
  *len = b.len;
  return b.p;
}

int exp_probe(const exp_plan *pl, char ***names, char ***dflts) {
  int fd, st, n = 0, cap = 0;
  size_t len;
  pid_t pid = fork_worker(pl, 0, &fd, child_probe);
  char *buf, *line;
  *names = *dflts = NULL;
  if (pid < 0) {
    fprintf(stderr, "deshost: cannot start a process: %s\n", strerror(errno));
    return -1;
  }
  buf = read_all(fd, &len);
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  if (buf == NULL || strncmp(buf, "ok\n", 3) != 0) {
    if (buf != NULL && buf[0] == 'X')
      fprintf(stderr, "deshost: %s\n", buf + 1);
    else
      fprintf(stderr, "deshost: %s: the model's process died while loading\n",
              pl->model);
    free(buf);
    return -1;
  }
  for (line = strtok(buf + 3, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    char *tab = strchr(line, '\t');
    if (line[0] != 'P' || tab == NULL)
      continue;
    *tab = '\0';
    if (n == cap) {
      cap = cap ? 2 * cap : 16;
      *names = realloc(*names, (size_t)cap * sizeof(char *));
      *dflts = realloc(*dflts, (size_t)cap * sizeof(char *));
      if (*names == NULL || *dflts == NULL) {
        fprintf(stderr, "deshost: not enough memory\n");
        exit(1);
      }
    }
    (*names)[n] = strdup(line + 1);
    (*dflts)[n] = strdup(tab + 1);
    n++;
  }
  free(buf);
  return n;
}

void exp_payload_parse(const char *buf, size_t len, int wstatus, long run,
                       exp_result *res) {
  exp_buf msg = {0};
  const char *p = buf, *end = buf + len;
  memset(res, 0, sizeof(*res));
  res->run = run;
  if (buf == NULL || len < 3 ||
      (strncmp(buf, "ok\n", 3) != 0 && strncmp(buf, "fail\n", 5) != 0)) {
    char m[128];
    if (WIFSIGNALED(wstatus))
      snprintf(m, sizeof(m), "the worker crashed: killed by signal %d (%s)",
               WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
    else
      snprintf(m, sizeof(m), "the worker died: exit status %d",
               WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
    res->message = strdup(m);
    res->full = strdup(m);
    return;
  }
  res->ok = buf[0] == 'o';
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (p[0] == 'E') {
      if (msg.len > 0)
        buf_str(&msg, "\n");
      buf_add(&msg, p + 1, n - 1);
    } else if (p[0] == 'R') {
      const char *tab = memchr(p, '\t', n);
      if (tab != NULL) {
        exp_kv *kv = realloc(res->kv, (size_t)(res->nkv + 1) * sizeof(*kv));
        if (kv != NULL) {
          res->kv = kv;
          kv[res->nkv].name = strndup(p + 1, (size_t)(tab - p - 1));
          kv[res->nkv].value = strndup(tab + 1, n - (size_t)(tab - p) - 1);
          res->nkv++;
        }
      }
    }
    p += n + 1;
  }
  if (!res->ok) {
    char *full = msg.p ? msg.p : strdup("failed");
    char *first = strndup(full, strcspn(full, "\n"));
    sanitize(first, 0);
    res->full = full;
    res->message = first;
  }
}

void exp_result_free(exp_result *res) {
  int k;
  for (k = 0; k < res->nkv; k++) {
    free(res->kv[k].name);
    free(res->kv[k].value);
  }
  free(res->kv);
  free(res->message);
  free(res->full);
  memset(res, 0, sizeof(*res));
}

char *exp_run_payload(const exp_plan *pl, long run, size_t *len, int *wstatus) {
  int fd;
  char *buf;
  pid_t pid = exp_fork_run(pl, run, &fd);
  *len = 0;
  *wstatus = 0;
  if (pid < 0)
    return NULL;
  buf = read_all(fd, len);
  while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR)
    ;
  return buf;
}
