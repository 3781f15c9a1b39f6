/*
** fuzz_sandbox.c -- libFuzzer harness of the sandbox: the bytes become a Lua
** model from a small grammar over the des API (fuzz_sandbox_grammar.c),
** which a host made as the CLI's `--sandbox --mem-limit --max-steps` makes
** it runs through deshost.h: des_load_string, des_run, more runs after a
** failure (a failure leaves the host usable), then des_host_free. Checks:
** no crash or sanitizer report, every call returns (a C-level loop that no
** limit stops is a libFuzzer timeout), every code is a documented one, the
** clock never goes back, and the allocator balances to zero after
** des_host_free (nothing leaks, whatever the model did).
**
** Environment:
**   FUZZ_SANDBOX_SKIP=gc,coroutine  leave these attack classes out (the
**                                   names are in fuzz_sandbox_grammar.c), to
**                                   keep fuzzing the others once a class has
**                                   a saved find
**   FUZZ_SANDBOX_PRINT=1            print each program on stderr (run one
**                                   input to turn a crash into a .lua repro)
**   FUZZ_SANDBOX_FILE=model.lua     run this model instead of the bytes' one,
**                                   exactly as the harness runs its programs
**                                   (to minimise a repro by hand):
**                                   FUZZ_SANDBOX_FILE=x.lua fuzz_sandbox
*-runs=1
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deshost.h"
#include "fuzz_alloc.h"
#include "fuzz_sandbox_grammar.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SANDBOX_MEM_LIMIT (16u << 20)
#define SANDBOX_MAX_STEPS 200000

static unsigned skip_mask;
static int print_programs;
static char *file_program; /* FUZZ_SANDBOX_FILE's text */

typedef struct alloc_count {
  long long bytes;
} alloc_count;

static void sandbox_fail(const char *what, const char *detail) {
  fprintf(stderr, "fuzz_sandbox: %s%s%s\n", what, detail ? ": " : "",
          detail ? detail : "");
  abort();
}

/* The whole text of a file (malloc'ed), or abort. */
static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  char *text;
  long len = -1;
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0)
    sandbox_fail("cannot read", path);
  text = malloc((size_t)len + 1);
  if (text == NULL || fread(text, 1, (size_t)len, f) != (size_t)len)
    sandbox_fail("cannot read", path);
  text[len] = '\0';
  fclose(f);
  return text;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  int i;
  (void)argc;
  (void)argv;
  skip_mask = fsg_parse_skip(getenv("FUZZ_SANDBOX_SKIP"));
  print_programs = getenv("FUZZ_SANDBOX_PRINT") != NULL;
  if (getenv("FUZZ_SANDBOX_FILE") != NULL)
    file_program = read_file(getenv("FUZZ_SANDBOX_FILE"));
  if (skip_mask != 0) {
    fprintf(stderr, "fuzz_sandbox: leaving out");
    for (i = 0; i < FSG_NCLASSES; i++)
      if (skip_mask & (1u << i))
        fprintf(stderr, " %s", fsg_class_name(i));
    fprintf(stderr, "\n");
  }
  return 0;
}

/* Check one host call's outcome and the clock. */
static void sandbox_check(des_host *h, int rc, des_time *last,
                          const char *call) {
  if (!fuzz_known_code(rc)) {
    char msg[64];
    snprintf(msg, sizeof(msg), "%s returned %d", call, rc);
    sandbox_fail("an undocumented code", msg);
  }
  if (des_now(h) < *last)
    sandbox_fail("the clock went back", call);
  *last = des_now(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  alloc_count count = {0};
  des_config cfg;
  des_host *h = NULL;
  des_time last = 0;
  char *program = file_program != NULL ? strdup(file_program)
                                       : fsg_program(data, size, skip_mask);
  int rc, i;
  if (program == NULL)
    return 0;
  if (print_programs)
    fprintf(stderr, "---- program\n%s---- end\n", program);
  des_config_init(&cfg);
  cfg.allocf = fuzz_counting_alloc;
  cfg.allocud = &count.bytes;
  cfg.sandbox = 1;
  cfg.mem_limit = SANDBOX_MEM_LIMIT;
  cfg.max_steps = SANDBOX_MAX_STEPS;
  cfg.seed = size;
  if (des_host_new(&h, &cfg) != DES_OK)
    sandbox_fail("des_host_new failed", NULL);
  rc = des_load_string(h, program, "=fuzz");
  if (rc == DES_ESYNTAX)
    sandbox_fail("the grammar wrote a program that does not compile",
                 des_last_error(h));
  sandbox_check(h, rc, &last, "des_load_string");
  if (rc == DES_OK) {
    /* a failed run leaves the host usable: run what is left, twice */
    for (i = 0; i < 3; i++) {
      rc = des_run(h);
      if (print_programs)
        fprintf(stderr, "des_run: %s %s\n", des_strerror(rc),
                des_last_error(h));
      sandbox_check(h, rc, &last, "des_run");
      if (rc == DES_OK || rc == DES_EMPTY)
        break;
      if (rc == DES_EBUDGET)
        des_set_budget(h, SANDBOX_MAX_STEPS);
    }
    rc = des_step(h);
    sandbox_check(h, rc, &last, "des_step");
  }
  des_host_free(h);
  free(program);
  if (count.bytes != 0)
    sandbox_fail("the allocator does not balance after des_host_free", NULL);
  return 0;
}
