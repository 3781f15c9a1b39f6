/*
** fuzz_host.c -- libFuzzer harness of the embedding API (deshost.h): the
** bytes choose a host's limits, then drive a sequence of calls -- step,
** run_until, schedule, cancel (live and stale handles), des_wake (live and
** stale callers), trigger, interrupt, stop, dostring -- against a model whose
** tasks call, send to and wait on a C component. Checks: the clock never
** goes back, a handler sees events at the current time, every call returns
** a documented code, and the allocator balances to zero once the host is
** freed (nothing leaks, whatever failed).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deshost.h"
#include "fuzz_alloc.h"

#define MAX_HANDLES 32
#define MAX_CALLERS 16

typedef struct fuzz_state {
  const uint8_t *data;
  size_t size, pos;
  des_handle handles[MAX_HANDLES];
  des_caller callers[MAX_CALLERS];
  int nhandles, ncallers, comp;
  long long bytes; /* the allocator's balance */
} fuzz_state;

static void fuzz_fail(const char *what) {
  fprintf(stderr, "fuzz_host: %s\n", what);
  abort();
}

static uint8_t next_byte(fuzz_state *f) {
  return f->pos < f->size ? f->data[f->pos++] : 0;
}

/* The component: remembers callers, sometimes answers or schedules more. */
static int on_event(des_host *h, void *ctx, const des_event *ev) {
  fuzz_state *f = ctx;
  if (ev->when != des_now(h))
    fuzz_fail("a handler saw an event not at the current time");
  if (ev->caller.task != 0 && f->ncallers < MAX_CALLERS)
    f->callers[f->ncallers++] = ev->caller;
  switch (ev->kind % 4) {
  case 1:
    if (ev->caller.task != 0)
      des_wake(h, ev->caller, ev->when + (des_time)(ev->data % 5), 7);
    break;
  case 2:
    des_schedule(h, ev->when + 3, f->comp, 0, 0, NULL);
    break;
  case 3:
    return ev->data % 7 == 0 ? 42 : 0; /* a handler's own stop code */
  }
  return 0;
}

static const char model[] =
    "local des = require 'des'\n"
    "local c = des.component 'c'\n"
    "ev = des.event()\n"
    "local res = des.resource(1)\n"
    "for i = 1, 6 do des.spawn(function()\n"
    "  for j = 1, 4 do\n"
    "    local k = (i * 7 + j) % 5\n"
    "    if k == 0 then c:call(j, i)\n"
    "    elseif k == 1 then c:send(j, i, 0.000000001 * i)\n"
    "    elseif k == 2 then local _r <close> = res:acquire(nil, 0.5); "
    "des.sleep(1e-9)\n"
    "    elseif k == 3 then pcall(ev.wait, ev)\n"
    "    else des.sleep(1e-9 * j) end\n"
    "  end\n"
    "end) end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_state f;
  des_config cfg;
  des_host *h = NULL;
  des_time last = 0;
  int i, rc;
  memset(&f, 0, sizeof(f));
  f.data = data;
  f.size = size;
  des_config_init(&cfg);
  cfg.allocf = fuzz_counting_alloc;
  cfg.allocud = &f.bytes;
  if (next_byte(&f) & 1)
    cfg.mem_limit = (size_t)(next_byte(&f) + 1) << 14; /* 16 KiB .. 4 MiB */
  if (next_byte(&f) & 1)
    cfg.max_steps = (uint64_t)(next_byte(&f) + 1) << 10;
  if (des_host_new(&h, &cfg) != DES_OK)
    return 0; /* a limit too small for the host itself */
  f.comp = des_component_add(h, "c", on_event, &f);
  if (f.comp >= 0 && des_load_string(h, model, "=fuzz") == DES_OK) {
    for (i = 0; i < 64 && f.pos < f.size; i++) {
      uint8_t op = next_byte(&f), arg = next_byte(&f);
      des_time now = des_now(h);
      switch (op % 10) {
      case 0:
      case 1:
        rc = des_step(h);
        break;
      case 2:
        rc = des_run_until(h, now + (des_time)arg);
        break;
      case 3:
        if (f.nhandles < MAX_HANDLES)
          rc = des_schedule(h, now + arg, f.comp, arg, arg,
                            &f.handles[f.nhandles++]);
        else
          rc = des_schedule(h, now + arg, f.comp, arg, arg, NULL);
        break;
      case 4:
        rc = f.nhandles ? des_cancel(h, f.handles[arg % f.nhandles])
                        : des_cancel(h, arg);
        break;
      case 5:
        rc = f.ncallers
                 ? des_wake(h, f.callers[arg % f.ncallers], now + arg % 3, arg)
                 : DES_OK;
        break;
      case 6: {
        lua_State *L = des_lua(h);
        lua_getglobal(L, "ev");
        lua_pushinteger(L, arg);
        rc = des_trigger(h, -2, 1);
        lua_settop(L, 0);
        break;
      }
      case 7:
        des_stop(h);
        rc = des_run(h);
        break;
      case 8:
        rc = des_dostring(h, arg & 1 ? "return #des_fuzz_nothing" : "x = 1", 0);
        lua_settop(des_lua(h), 0);
        break;
      default:
        rc = des_run_until(h, now + 3 * (des_time)arg);
        break;
      }
      if (!fuzz_known_code(rc) && rc != 42)
        fuzz_fail("a call returned an undocumented code");
      if (des_now(h) < last)
        fuzz_fail("the clock went back");
      last = des_now(h);
      if (rc == DES_EBUDGET)
        des_set_budget(h, 0);
    }
  }
  des_host_free(h);
  if (f.bytes != 0)
    fuzz_fail("the allocator does not balance after des_host_free");
  return 0;
}
