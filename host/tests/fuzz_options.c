/*
** fuzz_options.c -- libFuzzer harness of the CLI's option parser
** (options.c). The bytes, split at NUL bytes, are argv[1..]. Checks that
** the parser returns one of its three outcomes, that a usage error says
** "usage", and that every value it keeps points into argv and is valid.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define MAX_ARGS 64

/* Abort with a message: libFuzzer reports it with the input. */
static void fuzz_fail(const char *what) {
  fprintf(stderr, "fuzz_options: %s\n", what);
  abort();
}

/* Is p one of the argument strings? */
static int in_argv(const char *p, int argc, char **argv) {
  int i;
  for (i = 0; i < argc; i++)
    if (p == argv[i] || /* or the value of a --name=value argument */
        (strncmp(argv[i], "--", 2) == 0 && strchr(argv[i], '=') != NULL &&
         p == strchr(argv[i], '=') + 1))
      return 1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = malloc(size + 1), *outbuf = NULL, *errbuf = NULL;
  char *argv[MAX_ARGS + 1];
  size_t outlen = 0, errlen = 0, i, start = 0;
  int argc = 1, rc, k;
  cli_options o;
  FILE *out, *err;
  if (buf == NULL)
    return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  argv[0] = "deshost";
  for (i = 0; i <= size && argc < MAX_ARGS; i++) {
    if (i == size || buf[i] == '\0') {
      if (i < size || start < size)
        argv[argc++] = buf + start;
      start = i + 1;
    }
  }
  argv[argc] = NULL;
  out = open_memstream(&outbuf, &outlen);
  err = open_memstream(&errbuf, &errlen);
  rc = cli_parse(argc, argv, &o, out, err);
  fclose(out);
  fclose(err);
  if (rc != 0 && rc != 2 && rc != -1)
    fuzz_fail("unexpected result");
  if (rc == 2 && (errbuf == NULL || strstr(errbuf, "usage") == NULL))
    fuzz_fail("a usage error without the usage line");
  if (rc == -1 && outlen == 0)
    fuzz_fail("help or version printed nothing");
  if (rc == 0) {
    if (o.script < 0 || o.script >= argc ||
        (o.script == 0 && o.nchunks == 0 && !o.interactive))
      fuzz_fail("no model, no chunk and no -i, or a model index out of argv");
    if (o.nchunks < 0 || o.nchunks > CLI_MAX_CHUNKS)
      fuzz_fail("chunk count out of range");
    for (k = 0; k < o.nchunks; k++)
      if (!in_argv(o.chunks[k], argc, argv))
        fuzz_fail("a chunk that is not an argument");
    if (o.until != NULL &&
        (!in_argv(o.until, argc, argv) || !(strtod(o.until, NULL) >= 0)))
      fuzz_fail("--until kept but invalid");
    if (o.shuffle != NULL && !in_argv(o.shuffle, argc, argv))
      fuzz_fail("--shuffle-ties seed that is not an argument");
  }
  free(outbuf);
  free(errbuf);
  free(buf);
  return 0;
}
