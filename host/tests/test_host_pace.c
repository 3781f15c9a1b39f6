/*
** test_host_pace.c -- paced runs through deshost.h: a lower bound on wall
** time only (never an upper one beyond "not the 100 s it would sleep"),
** waking for a post or a stop (from a thread and from a signal handler:
** Ctrl-C), strict mode, the lateness statistics, and the same events paced
** or not.
*/
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "test_post.h"

/* ---- Paced runs ------------------------------------------------------------
 */

/* A 0.2 s simulated run at factor 1 takes at least 0.15 s of wall time
** (a lower bound only); at factor 100 it is paced too, and the clock ends
** where an unpaced run's does. */
static void test_paced_lower_bound(void) {
  des_host *h = post_host(0, 0, 1.0, 0);
  des_realtime_info st;
  double t0;
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "for i = 1, 4 do des.sleep(0.05) end\n",
                           "=pace"),
           DES_OK);
  t0 = wall();
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(wall() - t0 >= 0.15);
  CHECK(des_now(h) == 200000000);
  des_realtime_stats(h, &st);
  CHECK(st.factor == 1.0 && st.batches >= 4);
  CHECK_RC(h, des_set_realtime(h, -1, 0), DES_EINVAL);
  CHECK_RC(h, des_set_realtime(h, 1.0 / 0.0, 0), DES_EINVAL);
  CHECK_RC(h, des_set_realtime(h, 1, -1), DES_EINVAL);
  CHECK_RC(h, des_set_realtime(h, 1e10, 0), DES_EINVAL);
  CHECK_RC(h, des_set_realtime(h, 1e-10, 0), DES_EINVAL);
  CHECK_RC(h, des_set_realtime(h, 0.0 / 0.0, 0), DES_EINVAL);
  CHECK(CONTAINS(des_last_error(h), "from 1e-9 to 1e9"));
  {
    des_config bad;
    des_host *b = NULL;
    des_config_init(&bad);
    bad.realtime = -1;
    CHECK(des_host_new(&b, &bad) == DES_EINVAL && b == NULL);
    bad.realtime = 1;
    bad.realtime_strict = 1.0 / 0.0;
    CHECK(des_host_new(&b, &bad) == DES_EINVAL && b == NULL);
  }
  /* run_until at factor 1: the clock reaches 0.3 no sooner than its time */
  CHECK_RC(h, des_set_realtime(h, 1, 0), DES_OK);
  t0 = wall();
  CHECK_RC(h, des_run_until(h, 300000000), DES_OK);
  CHECK(wall() - t0 >= 0.075);
  CHECK(des_now(h) == 300000000);
  des_host_free(h);
}

/* A paced run asleep until its next event (100 s away) wakes at once for
** a post, delivers it at the simulated time of its arrival (after 0, long
** before 100), and for des_stop. */
static void test_paced_wake(void) {
  des_host *h = post_host(0, 0, 1.0, 0);
  pthread_t th;
  poster p;
  double t0, at;
  p.h = h;
  p.inbox = des_inbox(h, "in");
  p.stop = 0;
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "des.spawn(function() des.sleep(100) end)\n"
                           "local m = des.inbox('in'):get()\n"
                           "at, data = des.now(), m.data\n"
                           "des.default():stop()\n",
                           "=wake"),
           DES_OK);
  t0 = wall();
  pthread_create(&th, NULL, post_later, &p);
  CHECK_RC(h, des_run(h), DES_STOPPED);
  pthread_join(th, NULL);
  at = global_number(h, "at");
  CHECK(at > 0 && at < 50);
  CHECK(wall() - t0 < 50);
  CHECK_RC(h, des_eval_number(h, "#data", &at), DES_OK);
  CHECK(at == 5);
  /* des_stop from another thread wakes the sleep too */
  p.stop = 1;
  t0 = wall();
  pthread_create(&th, NULL, post_later, &p);
  CHECK_RC(h, des_run(h), DES_STOPPED);
  pthread_join(th, NULL);
  CHECK(wall() - t0 < 50);
  CHECK(des_now(h) < 100000000000);
  /* the slowest pacing: the next event is due in ~30 years; a stop wakes */
  CHECK_RC(h, des_set_realtime(h, 1e-9, 0), DES_OK);
  t0 = wall();
  pthread_create(&th, NULL, post_later, &p);
  CHECK_RC(h, des_run(h), DES_STOPPED);
  pthread_join(th, NULL);
  CHECK(wall() - t0 < 50);
  des_host_free(h);
}

/* A model that burns wall time in one event, so that the next is late. */
static const char *BURN = "local des = require 'des'\n"
                          "local x = 0\n"
                          "local t = os.clock()\n"
                          "while os.clock() - t < 0.2 do x = x + 1 end\n"
                          "des.sleep(0.001)\n"
                          "done = true\n";

/* Strict mode fails with DES_ELATE naming how late and when; the default
** mode catches up and records the lateness. */
static void test_paced_strict(void) {
  des_host *h = post_host(0, 0, 1.0, 0.05);
  des_realtime_info st;
  CHECK_RC(h, des_load_string(h, BURN, "=burn"), DES_OK);
  CHECK_RC(h, des_run(h), DES_ELATE);
  CHECK(CONTAINS(des_last_error(h), "late on the wall clock"));
  CHECK(CONTAINS(des_last_error(h), "t=0.001"));
  CHECK(des_now(h) == 0); /* the late event was not handled */
  des_host_free(h);

  h = post_host(0, 0, 1.0, 0);
  CHECK_RC(h, des_load_string(h, BURN, "=burn"), DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  CHECK(global_number(h, "done and 1 or 0") == 1);
  des_realtime_stats(h, &st);
  CHECK(st.late >= 1 && st.worst >= 0.1 && st.worst_when == 1000000);
  des_host_free(h);
}

/* The same seed gives the same trace with and without pacing. */
static void test_paced_same_trace(void) {
  static const char *model =
      "local des = require 'des'\n"
      "local r = des.rng('x')\n"
      "for i = 1, 5 do des.spawn(function()\n"
      "  for k = 1, 4 do des.sleep(r:exponential(1)) end end) end\n";
  trace t[2];
  int paced;
  for (paced = 0; paced < 2; paced++) {
    des_host *h = post_host(0, 0, paced ? 200.0 : 0, 0);
    memset(&t[paced], 0, sizeof(t[paced]));
    CHECK_RC(h, des_set_trace(h, trace_line, &t[paced]), DES_OK);
    CHECK_RC(h, des_load_string(h, model, "=same"), DES_OK);
    CHECK_RC(h, des_run(h), DES_OK);
    des_host_free(h);
  }
  CHECK(t[0].len > 0 && t[0].len == t[1].len &&
        memcmp(t[0].text, t[1].text, t[0].len) == 0);
}

/* ---- Signal handlers ------------------------------------------------- */

static des_host *sig_host;
static int sig_inbox, sig_interrupt;

static void on_alarm(int sig) {
  (void)sig;
  if (sig_interrupt)
    des_interrupt(sig_host); /* as a CLI's Ctrl-C handler does */
  else
    des_post(sig_host, sig_inbox, 9, "sig", 3);
}

static void alarm_in_ms(int ms) {
  struct itimerval it;
  memset(&it, 0, sizeof(it));
  it.it_value.tv_usec = ms * 1000;
  setitimer(ITIMER_REAL, &it, NULL);
}

/* From a signal handler: a post wakes a paced run asleep for 100 s, and
** des_interrupt (Ctrl-C) stops it with DES_EINTERRUPT, at once. */
static void test_signals(void) {
  des_host *h = post_host(0, 0, 1.0, 0);
  struct sigaction sa;
  double t0;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, NULL);
  sig_host = h;
  sig_inbox = des_inbox(h, "in");
  sig_interrupt = 0;
  CHECK_RC(h,
           des_load_string(h,
                           "local des = require 'des'\n"
                           "des.spawn(function() des.sleep(100) end)\n"
                           "local m = des.inbox('in'):get()\n"
                           "data = m.data\n"
                           "des.default():stop()\n",
                           "=sig"),
           DES_OK);
  t0 = wall();
  alarm_in_ms(50);
  CHECK_RC(h, des_run(h), DES_STOPPED);
  CHECK(global_number(h, "#data") == 3);
  sig_interrupt = 1;
  alarm_in_ms(50);
  CHECK_RC(h, des_run(h), DES_EINTERRUPT);
  CHECK(CONTAINS(des_last_error(h), "interrupted"));
  CHECK(wall() - t0 < 50);
  CHECK(des_now(h) < 100000000000);
  signal(SIGALRM, SIG_DFL);
  des_host_free(h);
}

int main(void) {
  test_paced_lower_bound();
  test_paced_wake();
  test_paced_strict();
  test_paced_same_trace();
  test_signals();
  return test_host_report("test_host_pace");
}
