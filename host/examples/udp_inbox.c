/*
** udp_inbox.c -- example: a paced deshost whose thread receives UDP
** datagrams on 127.0.0.1 and posts them into the model's inbox "udp"; the
** Lua model (udp_model.lua) reacts to them as they come, in simulated time
** tied to the wall clock.
**
**   udp_inbox MODEL [FACTOR]      receive: prints "port N", runs MODEL
**   udp_inbox --send PORT COUNT   send COUNT datagrams "seq value" to PORT,
**                                 then "end"
**
** The receiving thread never touches the simulation: it only calls
** des_post (retrying on DES_EFULL). The main thread runs the host paced,
** one model unit at a time; a post wakes it at once and is delivered at
** the simulated time of its arrival. The model stops the run when done.
*/
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "deshost.h"

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

/* --send: COUNT datagrams "seq value", a short pause every 50 so that
** the receiver's socket buffer never overflows, then "end". */
static int send_all(int port, int count) {
  struct sockaddr_in to;
  int fd = socket(AF_INET, SOCK_DGRAM, 0), i;
  if (fd < 0)
    return 1;
  memset(&to, 0, sizeof(to));
  to.sin_family = AF_INET;
  to.sin_port = htons((unsigned short)port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (i = 1; i <= count; i++) {
    char msg[64];
    int n = snprintf(msg, sizeof(msg), "%d %d", i, (i * 37) % 101);
    if (sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
      perror("sendto");
      return 1;
    }
    if (i % 50 == 0)
      sleep_us(1000);
  }
  sendto(fd, "end", 3, 0, (struct sockaddr *)&to, sizeof(to));
  close(fd);
  return 0;
}

typedef struct receiver {
  des_host *h;
  int fd, inbox;
} receiver;

/* The receiving thread: each datagram becomes a post (kind 0; "end" is
** kind 1), until "end". */
static void *receive(void *arg) {
  receiver *r = arg;
  char buf[256];
  for (;;) {
    ssize_t n = recv(r->fd, buf, sizeof(buf), 0);
    uint32_t kind;
    int rc;
    if (n <= 0)
      break; /* an error, or the shutdown at the end */
    kind = n == 3 && memcmp(buf, "end", 3) == 0;
    while ((rc = des_post(r->h, r->inbox, kind, buf, (size_t)n)) == DES_EFULL)
      sleep_us(100); /* the model is behind: wait, lose nothing */
    if (rc != DES_OK || kind == 1)
      break;
  }
  return NULL;
}

int main(int argc, char **argv) {
  des_config cfg;
  des_host *h;
  receiver r;
  pthread_t th;
  struct sockaddr_in addr;
  socklen_t alen = sizeof(addr);
  int rc, rcvbuf = 4 << 20;
  if (argc == 4 && strcmp(argv[1], "--send") == 0)
    return send_all(atoi(argv[2]), atoi(argv[3]));
  if (argc < 2) {
    fprintf(stderr, "usage: udp_inbox MODEL [FACTOR] | --send PORT COUNT\n");
    return 2;
  }
  des_config_init(&cfg);
  cfg.realtime = argc > 2 ? atof(argv[2]) : 1;
  if (des_host_new(&h, &cfg) != DES_OK)
    return 1;
  r.h = h;
  r.inbox = des_inbox(h, "udp");
  r.fd = socket(AF_INET, SOCK_DGRAM, 0);
  setsockopt(r.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (r.fd < 0 || bind(r.fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
      getsockname(r.fd, (struct sockaddr *)&addr, &alen) != 0) {
    perror("udp_inbox: socket");
    return 1;
  }
  if (des_load_file(h, argv[1], 0, NULL) != DES_OK) {
    fprintf(stderr, "udp_inbox: %s\n", des_last_error(h));
    return 1;
  }
  printf("port %d\n", ntohs(addr.sin_port));
  fflush(stdout);
  pthread_create(&th, NULL, receive, &r);
  /* paced, one model unit at a time, until the model stops the run */
  do
    rc = des_run_until(h, des_now(h) + des_resolution(h));
  while (rc == DES_OK);
  if (rc != DES_STOPPED)
    fprintf(stderr, "udp_inbox: %s\n", des_last_error(h));
  des_post_close(h);         /* the thread's posts now fail: it ends */
  shutdown(r.fd, SHUT_RDWR); /* and so does its recv */
  pthread_join(th, NULL);
  close(r.fd);
  des_host_free(h);
  return rc == DES_STOPPED ? 0 : 1;
}
