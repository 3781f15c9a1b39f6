/*
** fuzz_sandbox_grammar.h -- a small grammar over the des API that turns
** fuzz bytes into a Lua model (fuzz_sandbox.c runs it in a sandboxed host).
** Every production belongs to an attack class; a class can be left out (to
** keep fuzzing the others once one has a known, saved find).
*/
#ifndef FUZZ_SANDBOX_GRAMMAR_H
#define FUZZ_SANDBOX_GRAMMAR_H

#include <stddef.h>
#include <stdint.h>

/* The attack classes, as bits of a skip mask. */
enum {
  FSG_TASKS = 1 << 0,     /* spawn, sleep, join, cancel, interrupt */
  FSG_EVENTS = 1 << 1,    /* event, timeout, any, all (nested), on */
  FSG_RES = 1 << 2,       /* resource, store, container and their stats */
  FSG_MONITOR = 1 << 3,   /* monitors, csv/json export, rng */
  FSG_CLOSE = 1 << 4,     /* sim:close, des.default():close(), new sims */
  FSG_GC = 1 << 5,        /* __gc / __close finalizers, collectgarbage */
  FSG_COROUTINE = 1 << 6, /* coroutine.* over task threads */
  FSG_GLOBALS = 1 << 7,   /* swapped globals (table.sort, require, ...) */
  FSG_ERRORS = 1 << 8,    /* error objects with hostile __tostring */
  FSG_CLOOP = 1 << 9,     /* C-level loops: string.rep/find, table.move */
  FSG_META = 1 << 10,     /* the library's own metatables changed */
  FSG_NCLASSES = 11
};

/* The name of class bit i (0 <= i < FSG_NCLASSES). */
const char *fsg_class_name(int i);

/* Parse a comma-separated list of class names ("gc,coroutine") into a
** skip mask; unknown names are ignored. NULL gives 0. */
unsigned fsg_parse_skip(const char *list);

/* The Lua program for data[0..size-1], leaving out the classes in skip:
** a malloc'ed NUL-terminated string (NULL on no memory). */
char *fsg_program(const uint8_t *data, size_t size, unsigned skip);

#endif
