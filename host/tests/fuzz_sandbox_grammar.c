/*
** fuzz_sandbox_grammar.c -- fuzz bytes to a Lua model over the des API.
**
** The model is a prelude (pools of events E, tasks T, resources R, stores S,
** containers C, monitors M, coroutines K, values X and functions F, and
** error objects HE whose __tostring is hostile), four functions F[1..4]
** whose bodies are statements, and a main body. A statement is one
** production of the table below, chosen by a byte, usually wrapped in a
** pcall so that a failing statement does not end its task; its arguments
** (pool slots, durations, values) are read from the next bytes. When the
** bytes run out every choice reads 0, so every input gives a complete,
** syntactically valid program: the fuzzer explores behaviour, not syntax.
*/
#include "fuzz_sandbox_grammar.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FSG_MAX_DEPTH 3   /* statements nested in statements */
#define FSG_MAX_STMTS 400 /* statements per program */
#define FSG_POOL 4        /* slots per pool: E[1..4], T[1..4], ... */

typedef struct fsg {
  const uint8_t *d;
  size_t n, pos;
  char *out;
  size_t len, cap;
  int oom, depth, stmts;
  unsigned skip;
} fsg;

static const char *const class_names[FSG_NCLASSES] = {
    "tasks",     "events",  "res",    "monitor", "close", "gc",
    "coroutine", "globals", "errors", "cloop",   "meta"};

const char *fsg_class_name(int i) {
  return i >= 0 && i < FSG_NCLASSES ? class_names[i] : "?";
}

unsigned fsg_parse_skip(const char *list) {
  unsigned mask = 0;
  int i;
  while (list != NULL && *list != '\0') {
    size_t len = strcspn(list, ",");
    for (i = 0; i < FSG_NCLASSES; i++)
      if (strlen(class_names[i]) == len &&
          strncmp(list, class_names[i], len) == 0)
        mask |= 1u << i;
    list += len;
    if (*list == ',')
      list++;
  }
  return mask;
}

/* The next byte, or 0 once the input is used up. */
static unsigned u8(fsg *g) {
  return g->pos < g->n ? g->d[g->pos++] : 0;
}

/* A pool slot 1..FSG_POOL. */
static int slot(fsg *g) {
  return (int)(u8(g) % FSG_POOL) + 1;
}

/* Append formatted text to the program. */
static void emit(fsg *g, const char *fmt, ...) {
  va_list ap;
  int need;
  if (g->oom)
    return;
  va_start(ap, fmt);
  need = vsnprintf(g->out + g->len, g->cap - g->len, fmt, ap);
  va_end(ap);
  if (need < 0) {
    g->oom = 1;
    return;
  }
  if ((size_t)need >= g->cap - g->len) {
    size_t cap = (g->cap + (size_t)need) * 2;
    char *p = realloc(g->out, cap);
    if (p == NULL) {
      g->oom = 1;
      return;
    }
    g->out = p;
    g->cap = cap;
    va_start(ap, fmt);
    vsnprintf(g->out + g->len, g->cap - g->len, fmt, ap);
    va_end(ap);
  }
  g->len += (size_t)need;
}

/* Pick one of n literal strings. */
static const char *pick(fsg *g, const char *const *list, size_t n) {
  return list[u8(g) % n];
}
#define PICK(g, list) pick(g, list, sizeof(list) / sizeof(list[0]))

/* A duration: mostly valid, sometimes hostile. */
static const char *dur(fsg *g) {
  static const char *const d[] = {
      "0", "1", "0.5", "1e-9",  "2",   "3",         "0.25",  "10",
      "1", "0", "-1",  "(0/0)", "'x'", "math.huge", "1e300", "nil"};
  return PICK(g, d);
}

/* A value: anything a model could pass. */
static void val(fsg *g) {
  unsigned k = u8(g) % 16;
  int i = slot(g);
  switch (k) {
  case 0:
    emit(g, "nil");
    break;
  case 1:
    emit(g, "%d", i);
    break;
  case 2:
    emit(g, "0.5");
    break;
  case 3:
    emit(g, "-1");
    break;
  case 4:
    emit(g, "(0/0)");
    break;
  case 5:
    emit(g, "math.maxinteger");
    break;
  case 6:
    emit(g, "'s'");
    break;
  case 7:
    emit(g, "{}");
    break;
  case 8:
    emit(g, "E[%d]", i);
    break;
  case 9:
    emit(g, "T[%d]", i);
    break;
  case 10:
    emit(g, "R[%d]", i);
    break;
  case 11:
    emit(g, g->skip & FSG_ERRORS ? "'err'" : "HE[%d]", (i - 1) % 6 + 1);
    break;
  case 12:
    emit(g, "F[%d]", i);
    break;
  case 13:
    emit(g, "K[%d]", i);
    break;
  case 14:
    emit(g, "S[%d]", i);
    break;
  default:
    emit(g, "X[%d]", i);
    break;
  }
}

static void stmt(fsg *g);

/* A statement nested in another (a block of one statement). */
static void sub(fsg *g) {
  if (g->depth >= FSG_MAX_DEPTH || g->stmts >= FSG_MAX_STMTS) {
    emit(g, "do end");
    return;
  }
  g->depth++;
  stmt(g);
  g->depth--;
}

/* Something des.any / des.all accept (or not), nested up to depth 3. */
static void waitable(fsg *g, int depth) {
  unsigned k = u8(g) % 8;
  int i = slot(g);
  if (depth >= 3 && k >= 4)
    k = 0;
  switch (k) {
  case 0:
    emit(g, "E[%d]", i);
    break;
  case 1:
    emit(g, "T[%d]", i);
    break;
  case 2:
    emit(g, "des.timeout(%s)", dur(g));
    break;
  case 3:
    emit(g, "X[%d]", i);
    break;
  default: {
    int n = (int)(u8(g) % 3), j;
    emit(g, k % 2 ? "des.any{" : "des.all{");
    for (j = 0; j <= n; j++) {
      if (j)
        emit(g, ", ");
      waitable(g, depth + 1);
    }
    emit(g, "}");
  }
  }
}

/* ---- Productions, one function per attack class ------------------------- */

static void p_tasks(fsg *g) {
  int i = slot(g), j = slot(g);
  switch (u8(g) % 11) {
  case 0:
    emit(g, "des.sleep(%s)", dur(g));
    break;
  case 1:
    emit(g, "T[%d] = des.spawn(F[%d], ", i, j);
    val(g);
    emit(g, ")");
    break;
  case 2:
    emit(g, "T[%d] = des.spawn{name = 't%d', daemon = %s, F[%d]}", i, j,
         u8(g) & 1 ? "true" : "false", j);
    break;
  case 3:
    emit(g, "X[%d] = T[%d]:join()", i, j);
    break;
  case 4:
    emit(g, "T[%d]:cancel()", i);
    break;
  case 5:
    emit(g, "T[%d]:interrupt(", i);
    val(g);
    emit(g, ")");
    break;
  case 6: {
    static const char *const f[] = {"T[%d]:traceback()", "T[%d].status",
                                    "T[%d].waiting_on", "T[%d].error"};
    emit(g, "X[%d] = ", j);
    emit(g, PICK(g, f), i);
    break;
  }
  case 7: {
    static const char *const f[] = {
        "des.tasks()", "des.self()", "des.now()",     "des.run()",
        "des.step()",  "des.peek()", "des.pending()", "des.default():events()"};
    emit(g, "X[%d] = %s", i, PICK(g, f));
    break;
  }
  case 8:
    emit(g, "for _ = 1, %d do ", 1 + (int)(u8(g) % 8) * 3);
    sub(g);
    emit(g, " end");
    break;
  case 9:
    emit(g, "T[%d] = des.spawn(function() ", i);
    sub(g);
    emit(g, " end)");
    break;
  default:
    emit(g, "X[%d] = des.interrupted(X[%d]) or des.cancelled(X[%d])", i, j, j);
    break;
  }
}

static void p_events(fsg *g) {
  int i = slot(g), j = slot(g);
  switch (u8(g) % 10) {
  case 0:
    emit(g, "E[%d] = des.event('e%d')", i, i);
    break;
  case 1:
    emit(g, "E[%d]:succeed(", i);
    val(g);
    emit(g, ")");
    break;
  case 2:
    emit(g, "E[%d]:fail(", i);
    val(g);
    emit(g, ")");
    break;
  case 3:
    emit(g, "X[%d] = E[%d]:wait()", j, i);
    break;
  case 4:
    emit(g, "E[%d]:on(F[%d])", i, j);
    break;
  case 5:
    emit(g, "E[%d] = des.timeout(%s, ", i, dur(g));
    val(g);
    emit(g, ")");
    break;
  case 6:
    emit(g, "E[%d] = ", i);
    waitable(g, 0);
    break;
  case 7:
    emit(g, "X[%d] = ", i);
    waitable(g, 0);
    emit(g, ":wait()");
    break;
  case 8: {
    static const char *const n[] = {"3", "50", "2000", "20000"};
    emit(g,
         "do local e = E[%d] for _ = 1, %s do e = des.%s{e} end E[%d] = e end",
         i, PICK(g, n), u8(g) & 1 ? "all" : "any", j);
    break;
  }
  default:
    emit(g, "X[%d] = {E[%d].triggered, E[%d].ok, E[%d].value}", j, i, i, i);
    break;
  }
}

static void p_res(fsg *g) {
  int i = slot(g), j = slot(g);
  static const char *const cap[] = {"1",  "2",   "3",   "0",
                                    "-1", "0.5", "nil", "1"};
  static const char *const prio[] = {"nil", "0", "1", "-5", "(0/0)", "'p'"};
  switch (u8(g) % 16) {
  case 0:
    emit(g, "R[%d] = des.resource(%s, {priority = %s, preemptive = %s})", i,
         PICK(g, cap), u8(g) & 1 ? "true" : "false",
         u8(g) & 1 ? "true" : "false");
    break;
  case 1:
    emit(g, "do local q <close> = R[%d]:acquire(%s, %s) ", i, PICK(g, prio),
         dur(g));
    sub(g);
    emit(g, " end");
    break;
  case 2:
    emit(g, "X[%d] = R[%d]:acquire(%s, %s)", j, i, PICK(g, prio), dur(g));
    break;
  case 3:
    emit(g, "R[%d]:release(X[%d])", i, j);
    break;
  case 4:
    emit(g, "X[%d]:release()", j);
    break;
  case 5:
    emit(g, "R[%d]:set_capacity(%s)", i, PICK(g, cap));
    break;
  case 6: {
    static const char *const s[] = {"busy", "queue", "wait"};
    emit(g, "X[%d] = R[%d].stats.%s:report()", j, i, PICK(g, s));
    break;
  }
  case 7:
    emit(g, "X[%d] = {R[%d]:holders(), R[%d]:waiters(), R[%d].count}", j, i, i,
         i);
    break;
  case 8:
    emit(g, "S[%d] = des.store(%s, {priority = %s})", i, PICK(g, cap),
         u8(g) & 1 ? "true" : "false");
    break;
  case 9:
    emit(g, "S[%d]:put(", i);
    val(g);
    emit(g, ", %s)", dur(g));
    break;
  case 10:
    emit(g, "X[%d] = S[%d]:get(%s, %s)", j, i, u8(g) & 1 ? "nil" : "F[1]",
         dur(g));
    break;
  case 11:
    emit(g, "X[%d] = S[%d].stats.%s:report()", j, i,
         u8(g) & 1 ? "level" : "wait");
    break;
  case 12:
    emit(g, "C[%d] = des.container(%s, %s)", i, PICK(g, cap), PICK(g, cap));
    break;
  case 13:
    emit(g, "C[%d]:put(%s, %s)", i, PICK(g, cap), dur(g));
    break;
  case 14:
    emit(g, "C[%d]:get(%s, %s)", i, PICK(g, cap), dur(g));
    break;
  default:
    emit(g, "X[%d] = C[%d].stats.level:report()", j, i);
    break;
  }
}

static void p_monitor(fsg *g) {
  int i = slot(g), j = slot(g);
  switch (u8(g) % 10) {
  case 0:
    emit(g,
         "M[%d] = des.monitor('m%d', {quantiles = {0.5, 0.9}, histogram = {0, "
         "1, 5}})",
         i, i);
    break;
  case 1:
    emit(g, "M[%d] = des.monitor.level('l%d', 0, {time_at = true})", i, i);
    break;
  case 2:
    emit(g, "M[%d]:observe(", i);
    val(g);
    emit(g, ")");
    break;
  case 3:
    emit(g, "M[%d]:%s(", i, u8(g) & 1 ? "add" : "set");
    val(g);
    emit(g, ")");
    break;
  case 4:
    emit(g, "X[%d] = M[%d]:report()", j, i);
    break;
  case 5:
    emit(g, "M[%d]:reset()", i);
    break;
  case 6:
    emit(g, "X[%d] = des.monitor.%s({M[%d], R[%d], S[%d], C[%d]}%s)", j,
         u8(g) & 1 ? "csv" : "json", i, j, i, j,
         u8(g) % 4 == 0 ? ", 'fuzz.out'" : "");
    break;
  case 7: {
    static const char *const d[] = {
        "exponential(%s)", "normal(0, %s)",   "uniform(0, %s)",
        "integer(1, 6)",   "poisson(%s)",     "gamma(%s, 1)",
        "beta(%s, 2)",     "choice({1, %s})", "empirical({1, 2, 3}, true)",
        "weibull(%s, 1)",  "erlang(2, %s)",   "random()"};
    emit(g, "X[%d] = des.rng('r%d'):", i, j);
    emit(g, PICK(g, d), dur(g));
    break;
  }
  case 8:
    emit(g, "X[%d] = des.replicate(%d, F[%d], {seed = %d, ['until'] = 5})", i,
         1 + (int)(u8(g) % 2), j, (int)u8(g));
    break;
  default:
    emit(g, "X[%d] = X[%d] and X[%d].runs and X[%d].runs[1]", i, j, j, j);
    break;
  }
}

static void p_close(fsg *g) {
  int i = slot(g), j = slot(g);
  switch (u8(g) % 9) {
  case 0:
    emit(g, "des.default():close()");
    break;
  case 1:
    emit(g, "X[%d] = des.new{seed = %d}", i, (int)u8(g));
    break;
  case 2:
    emit(g, "X[%d]:close()", i);
    break;
  case 3:
    emit(g, "T[%d] = X[%d]:spawn(F[%d])", i, j, slot(g));
    break;
  case 4:
    emit(g, "X[%d]:run(%s)", i, dur(g));
    break;
  case 5:
    emit(g, "X[%d]:step()", i);
    break;
  case 6:
    emit(g, "des.current():close()");
    break;
  case 7:
    emit(g, "do local s <close> = des.new{} T[%d] = s:spawn(F[%d]) s:step() ",
         i, j);
    sub(g);
    emit(g, " end");
    break;
  default:
    emit(g, "X[%d] = {X[%d]:now(), X[%d]:pending(), X[%d]:tasks()}", j, i, i,
         i);
    break;
  }
}

static void p_gc(fsg *g) {
  switch (u8(g) % 7) {
  case 0:
    emit(g, "setmetatable({}, {__gc = function() ");
    sub(g);
    emit(g, " end})");
    break;
  case 1:
    emit(g, "do local x <close> = setmetatable({}, {__close = function() ");
    sub(g);
    emit(g, " end}) ");
    sub(g);
    emit(g, " end");
    break;
  case 2: {
    static const char *const o[] = {
        "'collect'",      "'step'",      "'incremental', 10, 1000",
        "'generational'", "'step', 100", "'incremental'"};
    emit(g, "collectgarbage(%s)", PICK(g, o));
    break;
  }
  case 3:
    emit(g, "for _ = 1, %d do local _ = {{}, {}} end", 10 * (int)(u8(g) % 100));
    break;
  case 4:
    /* a finalizer that re-arms itself: runs during later allocations */
    emit(g, "do local mt = {} mt.__gc = function() ");
    sub(g);
    emit(g, " if GCN > 0 then GCN = GCN - 1 setmetatable({}, mt) end end "
            "for _ = 1, 20 do setmetatable({}, mt) end end");
    break;
  case 5:
    emit(g, "setmetatable(X, {__gc = function(t) ");
    sub(g);
    emit(g, " end}) X = {}");
    break;
  default:
    emit(g,
         "T[%d] = des.spawn(function() local x <close> = setmetatable({}, "
         "{__close = function() ",
         slot(g));
    sub(g);
    emit(g, " end}) des.sleep(%s) end)", dur(g));
    break;
  }
}

static void p_coroutine(fsg *g) {
  int i = slot(g), j = slot(g);
  switch (u8(g) % 10) {
  case 0:
    emit(g, "K[%d] = coroutine.running()", i);
    break;
  case 1:
    emit(g, "X[%d] = {coroutine.resume(K[%d], ", j, i);
    val(g);
    emit(g, ")}");
    break;
  case 2:
    emit(g, "X[%d] = coroutine.status(K[%d])", j, i);
    break;
  case 3:
    emit(g, "X[%d] = {coroutine.close(K[%d])}", j, i);
    break;
  case 4:
    emit(g, "K[%d] = coroutine.create(F[%d])", i, j);
    break;
  case 5:
    emit(g, "K[%d] = coroutine.wrap(F[%d])", i, j);
    break;
  case 6:
    emit(g, "X[%d] = K[%d](", j, i);
    val(g);
    emit(g, ")");
    break;
  case 7:
    emit(g, "coroutine.yield(");
    val(g);
    emit(g, ")");
    break;
  case 8:
    emit(g, "coroutine.wrap(function() ");
    sub(g);
    emit(g, " end)()");
    break;
  default:
    emit(g, "T[%d] = des.spawn(function() K[%d] = coroutine.running() ", i, j);
    sub(g);
    emit(g, " end)");
    break;
  }
}

static void p_globals(fsg *g) {
  static const char *const names[] = {"table.sort",
                                      "require",
                                      "pairs",
                                      "ipairs",
                                      "setmetatable",
                                      "getmetatable",
                                      "tostring",
                                      "tonumber",
                                      "type",
                                      "error",
                                      "pcall",
                                      "next",
                                      "select",
                                      "rawget",
                                      "rawset",
                                      "table.pack",
                                      "table.unpack",
                                      "table.insert",
                                      "table.remove",
                                      "table.concat",
                                      "string.format",
                                      "math.floor",
                                      "math.type",
                                      "coroutine.running",
                                      "coroutine.resume",
                                      "coroutine.wrap",
                                      "coroutine.yield",
                                      "coroutine.close",
                                      "coroutine.status",
                                      "coroutine.create",
                                      "des.sleep",
                                      "des.event",
                                      "des.spawn",
                                      "des.self",
                                      "des.now",
                                      "des.any",
                                      "package.loaded.des",
                                      "package.preload['des.store']",
                                      "des.monitor",
                                      "xpcall",
                                      "collectgarbage",
                                      "math.huge",
                                      "string.rep"};
  const char *name = PICK(g, names);
  switch (u8(g) % 5) {
  case 0:
    emit(g, "%s = nil", name);
    break;
  case 1:
    emit(g, "%s = F[%d]", name, slot(g));
    break;
  case 2:
    emit(g, "%s = function(...) ", name);
    sub(g);
    emit(g, " return ... end");
    break;
  case 3:
    emit(g, "%s = function() error(HE[%d]) end", name, (slot(g) - 1) % 6 + 1);
    break;
  default:
    emit(g, "%s = function() return X[%d] end", name, slot(g));
    break;
  }
}

static void p_errors(fsg *g) {
  int i = slot(g), h = (slot(g) + (int)u8(g)) % 6 + 1;
  switch (u8(g) % 7) {
  case 0:
    emit(g, "error(HE[%d])", h);
    break;
  case 1:
    emit(g, "error(HE[%d], 0)", h);
    break;
  case 2:
    emit(g, "E[%d]:fail(HE[%d])", i, h);
    break;
  case 3:
    emit(g, "X[%d] = tostring(HE[%d])", i, h);
    break;
  case 4:
    emit(g, "T[%d] = des.spawn(function() error(HE[%d]) end)", i, h);
    break;
  case 5:
    emit(g, "des.default():on_error(F[%d])", i);
    break;
  default:
    emit(g, "T[%d]:interrupt(HE[%d])", i, h);
    break;
  }
}

static void p_cloop(fsg *g) {
  static const char *const reps[] = {
      "10", "1000", "100000", "math.maxinteger", "1 << 31", "1 << 40"};
  static const char *const pats[] = {"(.-)%%1b",
                                     ".-.-.-.-.-.-.-.-.-.-b",
                                     "(a*)*b",
                                     "a-a-a-a-a-a-a-a-b",
                                     "(.-)(.-)(.-)(.-)(.-)x",
                                     "%%f[%%w]%%w+",
                                     "((((((((((a))))))))))b"};
  static const char *const subj[] = {"10", "25", "40", "5000"};
  int i = slot(g);
  switch (u8(g) % 6) {
  case 0:
    emit(g, "X[%d] = string.rep('%s', %s%s)", i, u8(g) & 1 ? "" : "ab",
         PICK(g, reps), u8(g) & 1 ? ", ''" : "");
    break;
  case 1:
    emit(g, "X[%d] = string.find(string.rep('a', %s), '%s')", i, PICK(g, subj),
         PICK(g, pats));
    break;
  case 2:
    emit(g, "X[%d] = table.move({}, 1, %s, 2)", i, PICK(g, reps));
    break;
  case 3:
    emit(g, "X[%d] = {string.gsub(string.rep('a', %s), '%s', '%%0%%0')}", i,
         PICK(g, subj), PICK(g, pats));
    break;
  case 4:
    emit(g, "X[%d] = table.concat({}, '', 1, %s)", i, PICK(g, reps));
    break;
  default:
    emit(g, "X[%d] = select('#', table.unpack({}, 1, %s))", i, PICK(g, reps));
    break;
  }
}

static void p_meta(fsg *g) {
  static const char *const objs[] = {
      "E[1]",           "T[1]", "R[1]", "des.default()",
      "des.timeout(1)", "S[1]", "M[1]", "des"};
  static const char *const fields[] = {"__index",    "__gc",      "__close",
                                       "__tostring", "__name",    "__metatable",
                                       "wait",       "__newindex"};
  const char *o = PICK(g, objs);
  switch (u8(g) % 3) {
  case 0:
    emit(g, "X[%d] = getmetatable(%s)", slot(g), o);
    break;
  case 1:
    emit(g, "getmetatable(%s).%s = F[%d]", o, PICK(g, fields), slot(g));
    break;
  default:
    emit(g, "setmetatable(%s, {__index = F[%d]})", o, slot(g));
    break;
  }
}

typedef void (*production)(fsg *g);
static const production productions[FSG_NCLASSES] = {
    p_tasks,     p_events,  p_res,    p_monitor, p_close, p_gc,
    p_coroutine, p_globals, p_errors, p_cloop,   p_meta};

/* One statement: a production of a class not skipped, usually in a pcall.
** The common classes weigh more. */
static void stmt(fsg *g) {
  static const uint8_t weights[] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,  3, 3,
                                    4, 4, 5, 5, 6, 6, 7, 8, 8, 9, 10, 0, 1};
  unsigned w = u8(g);
  int c = weights[u8(g) % sizeof(weights)];
  g->stmts++;
  if (g->skip & (1u << c)) {
    emit(g, "do end");
    return;
  }
  if (w % 8 != 0) {
    emit(g, "P(function() ");
    productions[c](g);
    emit(g, " end)");
  } else
    productions[c](g);
}

/* A body: statements until n are written or the input is used up. */
static void body(fsg *g, int n) {
  int k;
  for (k = 0; k < n && g->pos < g->n && g->stmts < FSG_MAX_STMTS; k++) {
    emit(g, "\n  ");
    stmt(g);
  }
}

static const char prelude[] =
    "local des = require 'des'\n"
    "local P, setmetatable, collectgarbage, error = pcall, setmetatable, "
    "collectgarbage, error\n"
    "local E, T, R, S, C, M, K, X, F = {}, {}, {}, {}, {}, {}, {}, {}, {}\n"
    "GCN = 50\n"
    "local HE = {}\n"
    "HE[1] = setmetatable({}, {__tostring = function() error('tostring "
    "fails') end})\n"
    "HE[2] = setmetatable({}, {__tostring = function() return {} end})\n"
    "HE[3] = setmetatable({}, {__tostring = function() des.sleep(1) return "
    "'slept' end})\n"
    "HE[4] = setmetatable({}, {__tostring = function(e) error(e) end})\n"
    "HE[5] = setmetatable({}, {__index = function() error('index') end, "
    "__tostring = function() return nil end})\n"
    "HE[6] = setmetatable({}, {__tostring = function() return "
    "string.rep('x', 1 << 16) end, __name = 'des.task'})\n";

char *fsg_program(const uint8_t *data, size_t size, unsigned skip) {
  fsg g;
  int f;
  memset(&g, 0, sizeof(g));
  g.d = data;
  g.n = size;
  g.skip = skip;
  g.cap = 4096;
  g.out = malloc(g.cap);
  if (g.out == NULL)
    return NULL;
  g.out[0] = '\0';
  emit(&g, "%s", prelude);
  for (f = 1; f <= FSG_POOL; f++) {
    emit(&g, "F[%d] = function(...)", f);
    body(&g, 1 + (int)(u8(&g) % 6));
    emit(&g, "\n  return ...\nend\n");
  }
  emit(&g, "-- main");
  body(&g, FSG_MAX_STMTS);
  emit(&g, "\n");
  if (g.oom) {
    free(g.out);
    return NULL;
  }
  return g.out;
}
