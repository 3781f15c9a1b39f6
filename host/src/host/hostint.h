/*
** hostint.h -- what the files of the host layer share: the host record
** and the helpers every deshost.h entry uses (errors, protected calls,
** the code mapping). Not installed; deshost.h is the public face.
**
**   host.c     lifecycle, memory limit, budget and interrupts, models
**   hcodes.c   status codes: des_strerror, the mapping of every lower
**              layer's outcome to DES_*, error messages, protected calls
**   hrun.c     stepping and running, the clock, units, tracing, streams
**   hcomp.c    C components: schedule, cancel, wake, trigger
**   hsandbox.c the sandbox's libraries (the allow-list)
**   htasks.c   des_tasks: the listing of live tasks; des_task_thread
**   hexper.c   experiments: parameters, a run's results, run seeds
**   hpost.c    posts from other threads: the lock-free mailbox, inboxes,
**              delivery through the scheduler, the post log
**   hpace.c    paced runs: the wall clock, sleeping, lateness
**   hstrict.c  the calls whose results cannot repeat: --strict, counts
**   hcache.c   small freed blocks kept for reuse (host_alloc)
*/
#ifndef DES_HOSTINT_H
#define DES_HOSTINT_H

#include "deshost.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "ldes.h"

/* A C component as the simulation sees it: the embedder's handler. */
typedef struct host_component {
  des_host *h;
  des_handler fn;
  void *ctx;
  int id;
  size_t size; /* of this record, name included */
  char name[];
} host_component;

#define HOST_NONDET_N 9 /* kinds of calls hstrict.c watches */
/* hcache.c: small freed blocks kept for reuse, a stack per size class
** (an array of HCACHE_DEPTH pointers, made on the class's first block),
** while `on`: blocks of up to 1016 bytes, at most HCACHE_DEPTH a class and
** HCACHE_BYTES in all (M/M/2: 64 and 256 KB were 7% slower, 4096 and 4 MB
** no faster). Class k holds blocks whose every byte up to 16k - 8 is
** usable (glibc's sizes). An array, not a list through the blocks: a get
** reads nothing from the block it hands out (reading the next pointer
** from a cold block was 60% of host_alloc in M/M/2). */
#define HCACHE_CLASSES 65
#define HCACHE_DEPTH 1024
#define HCACHE_BYTES (1024 * 1024)
typedef struct host_cache {
  void **stack[HCACHE_CLASSES]; /* NULL until the class's first block */
  uint16_t n[HCACHE_CLASSES];
  size_t bytes; /* HCACHE_HELD of each block kept, and the stacks */
  int on;
} host_cache;

struct des_host {
  lua_State *L;
  rt_runtime *rt; /* the default simulation */
  des_allocf allocf;
  void *allocud;
  size_t mem_used, mem_limit;
  size_t reserve; /* room over the limit for the error path, once hit */
  int mem_hit;    /* refusals in a row; >= 2: the reserve is open */
  int mem_error;  /* a memory error was raised in this call */
  uint64_t max_steps, steps;
  int budget_hit;
  atomic_int interrupt; /* des_interrupt: set from any thread */
#ifdef LUA_DESHOST
  int interrupt_served; /* raised in a coroutine: the main thread goes on */
#else
  lua_State *volatile interrupt_co; /* the coroutine to interrupt */
#endif
  int sandbox;
  host_component **comps;
  int ncomps, capcomps;
  des_trace_fn trace_fn;
  void *trace_ctx;
  char *err; /* the last error message (raw allocator, not counted) */
  size_t errcap;
  /* hpost.c: the mailbox, made on first use and published atomically */
  _Atomic(struct host_mailbox *) mb;
  atomic_int post_closed;   /* des_post refuses (DES_ECLOSED) */
  atomic_int post_inflight; /* des_post calls in progress */
  atomic_int stop_req;      /* des_stop / des_interrupt, for a paced wait */
  atomic_int pause_req;     /* des_pause: return DES_PAUSED, the run goes on */
  size_t post_capacity, post_size;
  des_post_log_fn post_log;
  void *post_log_ctx;
  int run_code; /* a failure of the post delivery or pacing, message kept */
  /* hpace.c */
  double pace_factor, pace_strict;
  int pace_anchored;
  int64_t pace_wall0; /* ns, CLOCK_MONOTONIC, at model time pace_sim0 */
  des_time pace_sim0;
  des_realtime_info pace_stats;
  /* hstrict.c */
  int strict;  /* DES_STRICT_*, from the config */
  int loading; /* des_load_* / des_dostring under way (strict applies) */
  uint64_t nondet[HOST_NONDET_N]; /* calls that cannot repeat, by kind */
  lua_CFunction strict_orig[HOST_NONDET_N]; /* the functions wrapped */
  host_cache cache;                         /* hcache.c */
};

/* hcache.c: turn the cache on if it can be (des_default_alloc with
** glibc's block sizes, no sanitizer, no valgrind); keep block p as the
** first of class k (makes the class's stack: 0 if that fails); free what
** the cache holds and turn it off. */
void hcache_init(des_host *h);
void hcache_free(des_host *h);
int hcache_put_first(des_host *h, void *p, size_t k);

/* The class whose every block holds n bytes (16k - 8 >= n). A block
** that Lua frees with size osize holds at least that class's bytes:
** glibc gives malloc(osize) exactly 16k - 8 (k = HCACHE_CLASS(osize)),
** and a realloc to osize keeps or makes a chunk at least that big; a
** block from the cache came from that class. */
#define HCACHE_CLASS(n) (((n) + 8 + 15) >> 4)

/* What the cache counts for a block of class k: the most it can hold
** (glibc hands a chunk whole, up to 16 bytes over, when the rest would be
** smaller than its 32-byte minimum), so `bytes` bounds what it keeps. */
#define HCACHE_HELD(k) (((size_t)(k) << 4) + 8)

/* A block for nsize bytes from the cache, or NULL (host_alloc's fast
** path, inline: it runs twice per customer in M/M/2). Only when on. */
static inline void *hcache_get(des_host *h, size_t nsize) {
  size_t k = HCACHE_CLASS(nsize);
  if (k >= HCACHE_CLASSES || h->cache.n[k] == 0)
    return NULL;
  h->cache.bytes -= HCACHE_HELD(k);
  return h->cache.stack[k][--h->cache.n[k]];
}

/* Keep block p, which Lua frees with size osize (Lua's exact size of
** every block it frees: lua_Alloc's contract), if its class has room:
** 1 kept, 0 not (the caller frees it). Only when on. */
static inline int hcache_put(des_host *h, void *p, size_t osize) {
  size_t k = HCACHE_CLASS(osize);
  if (k >= HCACHE_CLASSES || h->cache.n[k] >= HCACHE_DEPTH ||
      h->cache.bytes + HCACHE_HELD(k) > HCACHE_BYTES)
    return 0;
  if (h->cache.stack[k] == NULL)
    return hcache_put_first(h, p, k);
  h->cache.stack[k][h->cache.n[k]++] = p;
  h->cache.bytes += HCACHE_HELD(k);
  return 1;
}

/* Allocate through the host's counting allocator (the Lua state's). */
static inline void *host_realloc(des_host *h, void *p, size_t osize,
                                 size_t nsize) {
  void *ud;
  lua_Alloc f = lua_getallocf(h->L, &ud);
  return f(ud, p, osize, nsize);
}

/* The checks at the API boundary (deshost.h, "Arguments"): a NULL host
** makes a call that returns a status return DES_EINVAL, and one that
** returns a value return its zero; no message can be kept without h. */
#define HOST_CHECK(h)                                                          \
  do {                                                                         \
    if ((h) == NULL)                                                           \
      return DES_EINVAL;                                                       \
  } while (0)

/* The most recent call's status is the one des_last_error tells (SQLite's
** rule): every call that returns a status starts with no message. */
static inline void host_clear_error(des_host *h) {
  if (h->err != NULL)
    h->err[0] = '\0';
}

/* hcodes.c: errors, protected calls and the code mapping */
int host_code_sim(int rc);
int host_code_dtime(int rc);
int host_code_rt(des_host *h, int rc, int step);
int host_fail(des_host *h, int code, const char *fmt, ...);
int host_lua_fail(des_host *h, int status);
int host_pcall(des_host *h, int nargs, int nresults);
void host_enter(des_host *h);

/* DES_OK, or DES_EINVAL naming fname when the host's simulation is closed
** (a model cannot close it; C code holding the Lua state could). */
int host_check_open(des_host *h, const char *fname);
void host_leave(des_host *h);

/* The registry field holding the task of the model loaded last (its main
** chunk), whose returned table des_results gives (hexper.c). */
#define HOST_MAIN_KEY "deshost.main"

/* hsandbox.c: open the sandbox's libraries (inside a protected call) */
void host_open_sandbox(lua_State *L);

/* hstrict.c: wrap the calls that cannot repeat (mode DES_STRICT_ON or
** DES_STRICT_COUNT; otherwise nothing), inside a protected call */
void host_open_strict(des_host *h, lua_State *L, int mode);

/* hpost.c: posts (see deshost.h); host_post_run* on the host's thread */
void host_post_init(des_host *h, const des_config *cfg);
void host_post_free(des_host *h); /* close, wait for producers, free */
void host_post_wake(des_host *h, int stop); /* signal-safe */
int host_post_fd(des_host *h);              /* -1 if none */
int host_post_open(des_host *h);            /* make the mailbox: DES code */
int host_post_ready(des_host *h);           /* posts waiting to be scheduled? */
int host_post_schedule(des_host *h, size_t max); /* DES code */

/* hpace.c: the wall clock and pacing */
int64_t host_clock_ns(void);
int host_pace_init(des_host *h, const des_config *cfg); /* DES code */
void host_pace_start(des_host *h); /* anchor on the first paced run */
des_time host_pace_sim_time(des_host *h, int64_t wall_ns);
int host_pace_wait(des_host *h, des_time t);  /* 1: woken early */
int host_pace_check(des_host *h, des_time t); /* lateness: DES code */

/* hcomp.c: free the component records (after lua_close) */
void host_free_components(des_host *h);

#endif
