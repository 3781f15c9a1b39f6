/*
** link.c -- embedding deshost: a network link written in C, used by
** senders written in Lua (link_model.lua).
**
** The link serialises packets one at a time at a fixed bandwidth, then
** each travels for a fixed propagation delay. A sender calls it from Lua:
**
**   local latency = link:call(SEND, size_in_bytes)
**
** and its task waits until the C side answers with des_wake at the moment
** the packet arrives. This program owns the loop: it steps the simulation
** one simulated second at a time, prints progress, and reads the model's
** statistics at the end.
**
**   link [model.lua] [seconds] [seed]
*/
#include <stdio.h>
#include <stdlib.h>

#include "deshost.h"

enum { SEND = 1 };

typedef struct link {
  des_time busy_until;  /* when the transmitter is free again */
  des_time per_byte;    /* serialisation time of one byte, in ticks */
  des_time propagation; /* in ticks */
  long packets, bytes;
} link;

/* The link component: a SEND call is answered when its packet arrives. */
static int link_handler(des_host *h, void *ctx, const des_event *ev) {
  link *l = ctx;
  des_time start, arrive;
  if (ev->kind != SEND)
    return 0;
  start = ev->when > l->busy_until ? ev->when : l->busy_until;
  l->busy_until = start + (des_time)ev->data * l->per_byte;
  arrive = l->busy_until + l->propagation;
  l->packets++;
  l->bytes += (long)ev->data;
  /* the caller's link:call returns the latency in ticks, at `arrive` */
  return des_wake(h, ev->caller, arrive, arrive - ev->when);
}

/* Print the host's error and leave. */
static int fail(des_host *h, const char *what) {
  fprintf(stderr, "link: %s: %s\n", what, des_last_error(h));
  des_host_free(h);
  return 1;
}

int main(int argc, char **argv) {
  const char *model = argc > 1 ? argv[1] : "link_model.lua";
  int seconds = argc > 2 ? atoi(argv[2]) : 5;
  des_config cfg;
  des_host *h;
  link l = {0, 80, 2000000, 0, 0}; /* 100 Mbit/s (80 ns/byte), 2 ms */
  double mean, p_max;
  int s, rc;

  des_config_init(&cfg);
  cfg.seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1;
  cfg.mem_limit = 64u << 20; /* the model may not take more than 64 MiB */
  if (des_host_new(&h, &cfg) != DES_OK) {
    fprintf(stderr, "link: cannot create a host\n");
    return 1;
  }
  if (des_component_add(h, "link", link_handler, &l) < 0)
    return fail(h, "component");
  if (des_load_file(h, model, 0, NULL) != DES_OK)
    return fail(h, "load");

  for (s = 1; s <= seconds; s++) {
    rc = des_run_until(h, (des_time)s * 1000000000);
    if (rc != DES_OK)
      return fail(h, "run");
    printf("t=%ds  packets=%ld  bytes=%ld  link busy until t=%.6fs\n", s,
           l.packets, l.bytes, des_units(h, l.busy_until));
  }
  if (des_eval_number(h, "latency:report().mean", &mean) != DES_OK ||
      des_eval_number(h, "latency:report().max", &p_max) != DES_OK)
    return fail(h, "results");
  printf("latency: mean %.3f ms, max %.3f ms over %ld packets\n", mean * 1e3,
         p_max * 1e3, l.packets);
  des_host_free(h);
  return 0;
}
