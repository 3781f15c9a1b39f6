/*
** test_host.c -- the embedding API, through deshost.h only: life cycle, every
** error code, loading, the Lua bridge, two hosts at once with their own
** allocators, random streams, tracing and tie shuffling.
*/
#include "test_host.h"

static void test_config_and_errors(void) {
  des_config cfg;
  des_host *h = (des_host *)1;
  int codes[] = {DES_OK,        DES_EMPTY,   DES_STOPPED,    DES_ENOMEM,
                 DES_EINVAL,    DES_EFILE,   DES_ESYNTAX,    DES_EMODEL,
                 DES_EPAST,     DES_ERANGE,  DES_ESTALE,     DES_EBUSY,
                 DES_EMEMLIMIT, DES_EBUDGET, DES_EINTERRUPT, DES_ENOTFOUND};
  size_t i, j;
  des_config_init(&cfg);
  CHECK(cfg.resolution == 1000000000 && cfg.seed == 0 && cfg.mem_limit == 0);
  cfg.resolution = 0;
  CHECK(des_host_new(&h, &cfg) == DES_EINVAL && h == NULL);
  for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
    CHECK(strcmp(des_strerror(codes[i]), "unknown error code") != 0);
    for (j = 0; j < i; j++)
      CHECK(strcmp(des_strerror(codes[i]), des_strerror(codes[j])) != 0);
  }
  CHECK(strcmp(des_strerror(12345), "unknown error code") == 0);
  CHECK(strcmp(des_version(), DESHOST_VERSION) == 0);
  des_host_free(NULL);
}

static void test_load_and_step(void) {
  des_host *h = new_host();
  des_time t = -1;
  CHECK(strcmp(des_last_error(h), "") == 0);
  CHECK(des_now(h) == 0 && des_pending(h) == 0);
  CHECK(des_peek(h, &t) == DES_EMPTY);
  CHECK_RC(h, des_step(h), DES_EMPTY);
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "log = ''\n"
                           "for i = 1, 3 do des.sleep(1.5); log = log .. i "
                           "end\n"
                           "done = des.now()\n",
                           "=step"),
           DES_OK);
  CHECK(des_pending(h) == 1);
  CHECK(des_peek(h, &t) == DES_OK && t == 0);
  CHECK_RC(h, des_step(h), DES_OK); /* the main chunk starts */
  CHECK(des_peek(h, &t) == DES_OK && t == 1500000000);
  CHECK_RC(h, des_run_until(h, 3000000000), DES_OK); /* 1.5 only */
  CHECK(des_now(h) == 3000000000);
  CHECK_RC(h, des_run_until(h, 1), DES_EPAST);
  CHECK(CONTAINS(des_last_error(h), "before the current time"));
  CHECK_RC(h, des_run_until(h, -5), DES_EINVAL);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(global_number(h, "done") == 4.5);
  CHECK(des_now(h) == 4500000000);
  CHECK(des_units(h, des_now(h)) == 4.5);
  CHECK(des_resolution(h) == 1000000000);
  t = 0;
  CHECK(des_ticks(h, 0.25, &t) == DES_OK && t == 250000000);
  CHECK(des_ticks(h, -1, &t) == DES_EINVAL);
  CHECK(des_ticks(h, 1e300, &t) == DES_ERANGE);
  CHECK(des_ticks(h, 1.0 / 0.0, &t) == DES_ERANGE);
  CHECK(des_ticks(h, 0.0 / 0.0, &t) == DES_EINVAL);
  CHECK(CONTAINS(des_last_error(h), "ticks"));
  t = -1; /* a positive duration is at least one tick; zero is none */
  CHECK(des_ticks(h, 1e-12, &t) == DES_OK && t == 1);
  CHECK(des_ticks(h, 0, &t) == DES_OK && t == 0);
  CHECK(des_step(h) == DES_EMPTY);
  des_host_free(h);
}

static void test_load_errors(void) {
  des_host *h = new_host();
  const char *args[] = {"a", "b"};
  CHECK_RC(h, des_load_file(h, "/no/such/model.lua", 0, NULL), DES_EFILE);
  CHECK(CONTAINS(des_last_error(h), "/no/such/model.lua"));
  CHECK_RC(h, des_load_string(h, "x = = 1", "=bad"), DES_ESYNTAX);
  CHECK(CONTAINS(des_last_error(h), "bad:1:"));
  CHECK_RC(h, des_load_file(h, NULL, 0, NULL), DES_EINVAL);
  CHECK_RC(h, des_load_file(h, "x", 2, NULL), DES_EINVAL);
  CHECK(des_pending(h) == 0); /* nothing half-loaded */
  /* a failing main chunk: the run reports task, time and traceback */
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "des.sleep(2)\n"
                           "error('boom')\n",
                           "=failing"),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "task 'main'"));
  CHECK(CONTAINS(des_last_error(h), "t=2"));
  CHECK(CONTAINS(des_last_error(h), "failing:3: boom"));
  CHECK(CONTAINS(des_last_error(h), "stack traceback"));
  /* the host is still usable */
  CHECK_RC(h, des_dostring(h, "return 6 * 7", 1), DES_OK);
  CHECK(lua_tointeger(des_lua(h), -1) == 42);
  lua_pop(des_lua(h), 1);
  CHECK_RC(h, des_dostring(h, "error('nope')", 0), DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "nope"));
  CHECK_RC(h, des_dostring(h, "return +", 0), DES_ESYNTAX);
  CHECK_RC(h, des_dostring(h, "error(setmetatable({}, {}))", 0), DES_EMODEL);
  CHECK(CONTAINS(des_last_error(h), "table value"));
  CHECK(lua_gettop(des_lua(h)) == 0);
  /* arguments reach the model as ... */
  {
    FILE *f = fopen("test_host_model.lua", "w");
    CHECK(f != NULL);
    if (f != NULL) {
      fputs("got = table.concat({...}, ',')\n", f);
      fclose(f);
      CHECK_RC(h, des_load_file(h, "test_host_model.lua", 2, args), DES_OK);
      CHECK_RC(h, des_run(h), DES_OK);
      CHECK_RC(h, des_dostring(h, "return got", 1), DES_OK);
      CHECK(strcmp(lua_tostring(des_lua(h), -1), "a,b") == 0);
      lua_pop(des_lua(h), 1);
      remove("test_host_model.lua");
    }
  }
  des_host_free(h);
}

/* A C function exposed to the model. */
static int c_twice(lua_State *L) {
  des_host *h = des_host_of(L);
  lua_pushinteger(L, 2 * luaL_checkinteger(L, 1) + (h != NULL ? 0 : 1000));
  return 1;
}

static void test_lua_bridge(void) {
  des_host *h = new_host();
  lua_State *L = des_lua(h);
  double v = 0;
  CHECK(des_host_of(L) == h);
  CHECK(des_host_of(NULL) == NULL);
  CHECK_RC(h, des_register(h, "twice", c_twice), DES_OK);
  CHECK_RC(h, des_register(h, NULL, c_twice), DES_EINVAL);
  CHECK_RC(h, des_dostring(h, "function add(a, b) return a + b end", 0),
           DES_OK);
  lua_pushinteger(L, 2);
  lua_pushinteger(L, 40);
  CHECK_RC(h, des_call(h, "add", 2, 1), DES_OK);
  CHECK(lua_tointeger(L, -1) == 42);
  lua_pop(L, 1);
  CHECK_RC(h, des_call(h, "missing", 0, 0), DES_ENOTFOUND);
  CHECK(CONTAINS(des_last_error(h), "missing"));
  CHECK(lua_gettop(L) == 0);
  CHECK_RC(h, des_eval_number(h, "twice(21)", &v), DES_OK);
  CHECK(v == 42);
  CHECK_RC(h, des_eval_number(h, "'text'", &v), DES_EINVAL);
  CHECK_RC(h, des_eval_number(h, "nope.x", &v), DES_EMODEL);
  CHECK(lua_gettop(L) == 0);
  /* a monitor read back as a number */
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "m = des.monitor 'x'\n"
                           "for i = 1, 4 do m:observe(i) end\n",
                           NULL),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(global_number(h, "m:report().mean") == 2.5);
  des_host_free(h);
}

typedef struct counting {
  long long bytes;
  long allocs;
} counting;

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  counting *c = ud;
  if (ptr == NULL)
    osize = 0;
  c->bytes += (long long)nsize - (long long)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  c->allocs++;
  return realloc(ptr, nsize);
}

static void test_two_hosts_and_allocator(void) {
  des_config cfg;
  des_host *a = NULL, *b = NULL;
  counting ca = {0, 0}, cb = {0, 0};
  const char *model = "local des = require 'des'\n"
                      "local r = des.rng()\n"
                      "sum = 0\n"
                      "for i = 1, 100 do des.sleep(r:exponential(1)); "
                      "sum = sum + des.now() end\n";
  double sa = 0, sb = 0, sa2 = 0;
  des_config_init(&cfg);
  cfg.allocf = counting_alloc;
  cfg.allocud = &ca;
  cfg.seed = 1;
  CHECK_RC(a, des_host_new(&a, &cfg), DES_OK);
  cfg.allocud = &cb;
  cfg.seed = 2;
  CHECK_RC(b, des_host_new(&b, &cfg), DES_OK);
  CHECK_RC(a, des_load_string(a, model, "=a"), DES_OK);
  CHECK_RC(b, des_load_string(b, model, "=b"), DES_OK);
  while (des_step(a) == DES_OK && des_step(b) == DES_OK) /* interleaved */
    ;
  CHECK_RC(a, des_run(a), DES_OK);
  CHECK_RC(b, des_run(b), DES_OK);
  sa = global_number(a, "sum");
  sb = global_number(b, "sum");
  CHECK(sa != sb && des_now(a) != des_now(b));
  CHECK(ca.allocs > 0 && cb.allocs > 0);
  /* the host's own record and message are not counted as the model's */
  CHECK((size_t)ca.bytes >= des_memory(a) &&
        (size_t)ca.bytes - des_memory(a) < 4096);
  des_host_free(a);
  des_host_free(b);
  CHECK(ca.bytes == 0 && cb.bytes == 0);
  /* the same seed replays the same run */
  cfg.allocud = &ca;
  cfg.seed = 1;
  CHECK_RC(a, des_host_new(&a, &cfg), DES_OK);
  CHECK_RC(a, des_load_string(a, model, "=a"), DES_OK);
  CHECK_RC(a, des_run(a), DES_OK);
  sa2 = global_number(a, "sum");
  CHECK(sa2 == sa);
  des_host_free(a);
}

static void collect_line(void *ctx, const char *line) {
  int *n = ctx;
  if (strstr(line, "timer task 'main'") != NULL)
    (*n)++;
}

/* A stream from C gives the model's numbers for the same name. */
static void test_random_streams(void) {
  des_host *h = new_host_with(WITH_SEED, 42);
  des_rng *a, *b;
  double xs[3];
  int i;
  a = des_rng_new(h, "arrivals");
  b = des_rng_new(h, NULL);
  CHECK(a != NULL && b != NULL);
  CHECK_RC(h,
           des_dostring(h,
                        "local r = require('des').rng('arrivals')\n"
                        "return r:exponential(2), r:gamma(3, 1), "
                        "require('des').rng():uniform(0, 1)",
                        3),
           DES_OK);
  for (i = 0; i < 3; i++)
    xs[i] = lua_tonumber(des_lua(h), i + 1);
  lua_settop(des_lua(h), 0);
  CHECK(des_rng_exponential(a, 2) == xs[0]);
  CHECK(des_rng_gamma(a, 3, 1) == xs[1]);
  CHECK(des_rng_uniform(b, 0, 1) == xs[2]);
  {
    int64_t k = des_rng_poisson(a, 4);
    double d[] = {1, 2, 3};
    double e = des_rng_empirical(a, d, 3, 1);
    CHECK(k >= 0 && e >= 1 && e <= 3);
  }
  des_rng_free(h, a);
  des_rng_free(h, b);
  des_host_free(h);
}

static void test_trace_and_shuffle(void) {
  des_host *h = new_host();
  int lines = 0;
  CHECK_RC(h, des_set_trace(h, collect_line, &lines), DES_OK);
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "for i = 1, 5 do des.sleep(1) end\n",
                           NULL),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(lines == 5);
  CHECK_RC(h, des_set_trace(h, NULL, NULL), DES_OK);
  des_shuffle_ties(h, 1, 3);
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "order = ''\n"
                           "for i = 1, 9 do des.spawn(function() "
                           "order = order .. i end) end\n",
                           NULL),
           DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(lines == 5);
  CHECK_RC(h, des_dostring(h, "return order", 1), DES_OK);
  CHECK(strlen(lua_tostring(des_lua(h), -1)) == 9);
  CHECK(strcmp(lua_tostring(des_lua(h), -1), "123456789") != 0);
  lua_pop(des_lua(h), 1);
  des_host_free(h);
}

/* What a des_tasks callback saw. */
typedef struct listing {
  int n, stop_at;
  uint64_t serial[8];
  int state[8], daemon[8];
  char name[8][16], what[8][16];
  des_time since[8];
} listing;

static int list_task(void *ctx, const des_task_info *t) {
  listing *l = ctx;
  if (l->n < 8) {
    l->serial[l->n] = t->serial;
    l->state[l->n] = t->state;
    l->daemon[l->n] = t->daemon;
    snprintf(l->name[l->n], sizeof(l->name[0]), "%s", t->name);
    snprintf(l->what[l->n], sizeof(l->what[0]), "%s", t->waiting_on);
    l->since[l->n] = t->since;
  }
  l->n++;
  return l->n == l->stop_at ? 42 : 0;
}

/* des_tasks lists the live tasks in spawn order, from C: it works after
** the model removed every global it could, in a sandbox. */
static void test_tasks_listing(void) {
  des_host *h = new_host_with(WITH_SANDBOX, 1);
  listing l;
  memset(&l, 0, sizeof(l));
  CHECK_RC(h, des_tasks(h, NULL, NULL), DES_EINVAL);
  CHECK_RC(h, des_tasks(h, list_task, &l), DES_OK);
  CHECK(l.n == 0);
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "des.spawn{name = 'sleeper', function() "
                           "des.sleep(10) end}\n"
                           "des.spawn{name = 'waiter', daemon = true, "
                           "function() des.event('x'):wait() end}\n"
                           "des.spawn(function() des.sleep(1) end)\n"
                           "des.sleep(2)\n"
                           "require, table, string, setmetatable = nil\n"
                           "des.event():wait()\n",
                           "=model"),
           DES_OK);
  CHECK_RC(h, des_tasks(h, list_task, &l), DES_OK);
  CHECK(l.n == 1 && l.serial[0] == 1 && l.state[0] == DES_TASK_READY);
  CHECK(strcmp(l.name[0], "main") == 0 && strcmp(l.what[0], "") == 0);
  CHECK_RC(h, des_run_until(h, 3000000000), DES_OK);
  memset(&l, 0, sizeof(l));
  CHECK_RC(h, des_tasks(h, list_task, &l), DES_OK);
  CHECK(l.n == 3); /* task #4 ended at t=1 */
  CHECK(l.serial[0] == 1 && l.serial[1] == 2 && l.serial[2] == 3);
  CHECK(strcmp(l.name[0], "main") == 0 && l.state[0] == DES_TASK_WAITING);
  CHECK(l.since[0] == 2000000000 && strcmp(l.what[0], "event") == 0);
  CHECK(strcmp(l.name[1], "sleeper") == 0 && l.state[1] == DES_TASK_SLEEPING);
  CHECK(strcmp(l.what[1], "sleep") == 0 && l.since[1] == 0 && !l.daemon[1]);
  CHECK(strcmp(l.name[2], "waiter") == 0 && l.daemon[2]);
  /* a non-zero return ends the listing with that value */
  memset(&l, 0, sizeof(l));
  l.stop_at = 2;
  CHECK_RC(h, des_tasks(h, list_task, &l), 42);
  CHECK(l.n == 2);
  des_host_free(h);
}

/* An allocator that refuses the next `fail_next` growths (armed from Lua
** by arm(n)): for the error paths of the runtime itself. */
static int fail_next;

static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  if (fail_next > 0 && nsize > (ptr != NULL ? osize : 0)) {
    fail_next--;
    return NULL;
  }
  return realloc(ptr, nsize);
}

static int arm_failures(lua_State *L) {
  fail_next = (int)luaL_checkinteger(L, 1);
  return 0;
}

/* A task whose end cannot be recorded (out of memory while its results
** are kept) still ends, FAILED: never left "running", so cancel, join and
** the next runs work. Every count of refusals, at several points. */
static void test_task_end_out_of_memory(void) {
  int n;
  for (n = 0; n < 12; n++) {
    des_config cfg;
    des_host *h = NULL;
    char model[256];
    des_config_init(&cfg);
    cfg.allocf = failing_alloc;
    CHECK_RC(h, des_host_new(&h, &cfg), DES_OK);
    CHECK_RC(h, des_register(h, "arm", arm_failures), DES_OK);
    snprintf(model, sizeof(model),
             "local des = require 'des'\n"
             "T = des.spawn{name = 'r', function() des.sleep(1)%s\n"
             "  arm(%d); return 1, 2, 3 end}\n"
             "des.sleep(2)\n",
             n >= 4 ? "; local x = {}" : "", 2 + n % 4);
    CHECK_RC(h, des_load_string(h, model, "=m"), DES_OK);
    CHECK(des_run(h) != DES_OK);
    fail_next = 0;
    CHECK_RC(h, des_dostring(h, "T:cancel(); return T.status", 1), DES_OK);
    CHECK(strcmp(lua_tostring(des_lua(h), -1), "failed") == 0);
    lua_pop(des_lua(h), 1);
    CHECK_RC(
        h,
        des_load_string(h, "local des = require 'des'; des.sleep(1)", "=again"),
        DES_OK);
    CHECK_RC(h, des_run(h), DES_OK);
    des_host_free(h);
  }
}

/* }================================================================== */

int main(void) {
  test_tasks_listing();
  test_config_and_errors();
  test_load_and_step();
  test_load_errors();
  test_lua_bridge();
  test_two_hosts_and_allocator();
  test_random_streams();
  test_trace_and_shuffle();
  test_task_end_out_of_memory();
  return test_host_report("test_host");
}
