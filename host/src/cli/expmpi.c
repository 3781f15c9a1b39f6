/*
** expmpi.c -- MPI ranks as remote workers of an experiment (Open MPI, found
** at configure time: DES_MPI). Rank 0 coordinates (experiment.c) and runs
** local workers too; every other rank serves runs: it asks rank 0 for
** work, runs what it gets in a forked worker (exprun.c, so a crash costs a
** run, not the rank), and sends back the payload. Dynamic distribution
** with credits: a rank holds at most EXP_CREDITS runs (one running, the
** next already queued at it, so it never waits a round trip to rank 0
** between runs) and gets another each time it returns one. Every rank
** parses the same command line, so a run is named by its number alone.
**
** Messages (tag EXP_TAG): to rank 0, a payload: the 8-byte run number and
** wait status then the worker's bytes (run -1: "ready", EXP_CREDITS times
** at the start); from rank 0, an 8-byte run number, -1 meaning "stop".
*/
#include "experiment.h"

#ifndef DES_MPI

int exp_mpi_start(const exp_plan *pl, exp_remote **remote) {
  (void)pl;
  *remote = NULL;
  return -1;
}

int exp_mpi_finish(exp_remote *remote, int rc) {
  (void)remote;
  return rc;
}

#else

#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#define EXP_TAG 17
#define EXP_CREDITS 2

/* The ranks as the coordinator sees them. */
typedef struct mpi_remote {
  exp_remote base;
  int nranks;
  int *credit; /* credit[rank]: runs it can take now */
  int nbusy;   /* runs out at ranks */
  int nready;  /* credits, all ranks together */
} mpi_remote;

static int r_idle(exp_remote *r) {
  return ((mpi_remote *)r)->nready > 0;
}
static int r_busy(exp_remote *r) {
  return ((mpi_remote *)r)->nbusy;
}

static void r_assign(exp_remote *r, long run) {
  mpi_remote *m = (mpi_remote *)r;
  int k;
  int64_t msg = run;
  for (k = 1; k < m->nranks && m->credit[k] == 0; k++)
    ;
  m->credit[k]--;
  m->nready--;
  m->nbusy++;
  MPI_Send(&msg, 1, MPI_INT64_T, k, EXP_TAG, MPI_COMM_WORLD);
}

/* Deliver every message that has come in (without waiting). */
static void r_collect(exp_remote *r, void (*deliver)(void *, exp_result *),
                      void *ctx) {
  mpi_remote *m = (mpi_remote *)r;
  for (;;) {
    int flag, len;
    MPI_Status st;
    char *buf;
    int64_t head[2];
    exp_result res;
    MPI_Iprobe(MPI_ANY_SOURCE, EXP_TAG, MPI_COMM_WORLD, &flag, &st);
    if (!flag)
      return;
    MPI_Get_count(&st, MPI_BYTE, &len);
    buf = malloc((size_t)len + 1);
    if (buf == NULL)
      abort();
    MPI_Recv(buf, len, MPI_BYTE, st.MPI_SOURCE, EXP_TAG, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    memcpy(head, buf, sizeof(head));
    if (head[0] >= 0) {
      m->nbusy--;
      exp_payload_parse(buf + sizeof(head), (size_t)len - sizeof(head),
                        (int)head[1], (long)head[0], &res);
      deliver(ctx, &res);
    }
    free(buf);
    m->credit[st.MPI_SOURCE]++;
    m->nready++;
  }
}

/* A serving rank: ready for EXP_CREDITS runs, then run what comes until
** -1. */
static int serve(const exp_plan *pl) {
  int64_t head[2] = {-1, 0};
  int k;
  for (k = 0; k < EXP_CREDITS; k++)
    MPI_Send(head, (int)sizeof(head), MPI_BYTE, 0, EXP_TAG, MPI_COMM_WORLD);
  for (;;) {
    int64_t run;
    char *payload, *msg;
    size_t len;
    int wstatus;
    MPI_Recv(&run, 1, MPI_INT64_T, 0, EXP_TAG, MPI_COMM_WORLD,
             MPI_STATUS_IGNORE);
    if (run < 0)
      break;
    payload = exp_run_payload(pl, (long)run, &len, &wstatus);
    msg = malloc(sizeof(head) + len);
    if (msg == NULL)
      abort();
    head[0] = run;
    head[1] = wstatus;
    memcpy(msg, head, sizeof(head));
    if (len > 0)
      memcpy(msg + sizeof(head), payload, len);
    MPI_Send(msg, (int)(sizeof(head) + len), MPI_BYTE, 0, EXP_TAG,
             MPI_COMM_WORLD);
    free(msg);
    free(payload);
  }
  return 0;
}

int exp_mpi_start(const exp_plan *pl, exp_remote **remote) {
  int inited = 0, rank, size;
  mpi_remote *m;
  *remote = NULL;
  /* only under mpirun (Open MPI sets OMPI_COMM_WORLD_SIZE): a plain
  ** `deshost --replications` does not start MPI at all */
  if (getenv("OMPI_COMM_WORLD_SIZE") == NULL)
    return -1;
  /* a few bytes a run need no fast transport: Open MPI's ob1 starts in a
  ** third of the time UCX takes to probe the machine (0.14 s against
  ** 0.40 s); every rank sets the same default, a user's setting wins */
  setenv("OMPI_MCA_pml", "ob1", 0);
  MPI_Initialized(&inited);
  if (!inited)
    MPI_Init(NULL, NULL);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (rank != 0) {
    int rc = serve(pl);
    MPI_Finalize();
    return rc;
  }
  if (size < 2)
    return -1; /* MPI with one rank: local workers alone (finish below) */
  m = calloc(1, sizeof(*m));
  if (m == NULL || (m->credit = calloc((size_t)size, sizeof(int))) == NULL)
    abort();
  m->nranks = size;
  m->base.size = size - 1;
  m->base.idle = r_idle;
  m->base.assign = r_assign;
  m->base.busy = r_busy;
  m->base.collect = r_collect;
  *remote = &m->base;
  return -1;
}

int exp_mpi_finish(exp_remote *remote, int rc) {
  int inited = 0, k;
  mpi_remote *m = (mpi_remote *)remote;
  MPI_Initialized(&inited);
  if (!inited)
    return rc;
  if (m != NULL) {
    /* every rank's "ready" or result must be taken before it is stopped */
    while (m->nbusy > 0 || m->nready < EXP_CREDITS * (m->nranks - 1)) {
      int flag;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, EXP_TAG, MPI_COMM_WORLD, &flag, &st);
      if (flag) { /* a late message: read and drop it */
        int len;
        char *buf;
        int64_t run;
        MPI_Get_count(&st, MPI_BYTE, &len);
        buf = malloc((size_t)len + 1);
        if (buf == NULL)
          abort();
        MPI_Recv(buf, len, MPI_BYTE, st.MPI_SOURCE, EXP_TAG, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        memcpy(&run, buf, sizeof(run));
        if (run >= 0)
          m->nbusy--;
        free(buf);
        m->credit[st.MPI_SOURCE]++;
        m->nready++;
      }
    }
    for (k = 1; k < m->nranks; k++) {
      int64_t stop = -1;
      MPI_Send(&stop, 1, MPI_INT64_T, k, EXP_TAG, MPI_COMM_WORLD);
    }
    free(m->credit);
    free(m);
  }
  MPI_Finalize();
  return rc;
}

#endif
