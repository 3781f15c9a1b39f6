/*
** report.c -- write the HTML report of a run (report.h). The page is the
** template report.html with three parts put in at generation time: uPlot's
** CSS and JS (vendor/uplot, embedded in the binary at build time) and the
** data, one JSON object {info, statistics, dropped, experiment} in a
** <script type="application/json">. Every '<' of the data is written as
** \u003c (the same JSON), so no text of the model can end the script.
** The page draws everything from that object: no network at view time.
*/
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lua.h>

/* The embedded files (cmake/embed_files.cmake). */
extern const char report_report_html[];
extern const char report_uPlot_iife_min_js[];
extern const char report_uPlot_min_css[];

/* Write s[0..len) with '<' as \u003c (inside JSON strings only: JSON has
** '<' nowhere else). */
static void put_json_safe(FILE *f, const char *s, size_t len) {
  size_t i, from = 0;
  for (i = 0; i < len; i++)
    if (s[i] == '<') {
      fwrite(s + from, 1, i - from, f);
      fputs("\\u003c", f);
      from = i + 1;
    }
  fwrite(s + from, 1, len - from, f);
}

/* A JSON string of s (NULL: null), escaping quotes, backslashes, control
** characters and '<'. */
static void put_str(FILE *f, const char *s) {
  if (s == NULL) {
    fputs("null", f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20 || c == '<' || c == 0x7f)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

/* A JSON number (null when not finite). */
static void put_num(FILE *f, double x) {
  if (isfinite(x))
    fprintf(f, "%.17g", x);
  else
    fputs("null", f);
}

/* "key": as the start of an object member (first: no comma). */
static void put_key(FILE *f, const char *k, int first) {
  if (!first)
    fputc(',', f);
  put_str(f, k);
  fputc(':', f);
}

/* The info object: what the header shows. */
static void put_info(FILE *f, des_host *h, const report_info *in) {
  int i;
  fputc('{', f);
  put_key(f, "model", 1);
  put_str(f, in->model);
  put_key(f, "seed", 0);
  fprintf(f, "\"%llu\"", (unsigned long long)in->seed);
  put_key(f, "args", 0);
  fputc('[', f);
  for (i = 0; i < in->nargs; i++) {
    if (i > 0)
      fputc(',', f);
    put_str(f, in->args[i]);
  }
  fputc(']', f);
  put_key(f, "until", 0);
  put_str(f, in->until);
  put_key(f, "outcome", 0);
  put_str(f, in->outcome);
  put_key(f, "wall", 0);
  put_num(f, in->wall_seconds);
  put_key(f, "version", 0);
  put_str(f, des_version());
  if (h != NULL) {
    uint64_t n = des_events_handled(h);
    put_key(f, "time", 0);
    put_num(f, des_units(h, des_now(h)));
    put_key(f, "events", 0);
    fprintf(f, "%llu", (unsigned long long)n);
    put_key(f, "rate", 0);
    put_num(f, in->wall_seconds > 0 ? (double)n / in->wall_seconds : NAN);
  }
  fputc('}', f);
}

/* The experiment rows as a JSON array. */
static void put_rows(FILE *f, const report_row *rows, size_t nrows) {
  size_t i, k;
  fputc('[', f);
  for (i = 0; i < nrows; i++) {
    const report_row *r = &rows[i];
    fputs(i > 0 ? ",{" : "{", f);
    put_key(f, "result", 1);
    put_str(f, r->result);
    put_key(f, "point", 0);
    put_num(f, r->point);
    put_key(f, "mean", 0);
    put_num(f, r->mean);
    put_key(f, "lo", 0);
    put_num(f, r->lo);
    put_key(f, "hi", 0);
    put_num(f, r->hi);
    put_key(f, "reps", 0);
    fputc('[', f);
    for (k = 0; r->reps != NULL && k < r->nreps; k++) {
      if (k > 0)
        fputc(',', f);
      put_num(f, r->reps[k]);
    }
    fputs("]}", f);
  }
  fputc(']', f);
}

/* Write the template up to the next marker "/ *@NAME@* /" (without the
** spaces); return the marker's name, or NULL at the end. */
static const char *put_until_marker(FILE *f, const char **tpl, char *name,
                                    size_t size) {
  const char *m = strstr(*tpl, "/*@"), *e;
  size_t n;
  if (m == NULL || (e = strstr(m + 3, "@*/")) == NULL) {
    fputs(*tpl, f);
    *tpl += strlen(*tpl);
    return NULL;
  }
  fwrite(*tpl, 1, (size_t)(m - *tpl), f);
  n = (size_t)(e - (m + 3));
  if (n >= size)
    n = size - 1;
  memcpy(name, m + 3, n);
  name[n] = '\0';
  *tpl = e + 3;
  return name;
}

/* printf into err. */
static int report_fail(char *err, size_t errsize, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errsize, fmt, ap);
  va_end(ap);
  return -1;
}

int report_write(des_host *h, const char *path, const report_info *info,
                 const report_row *rows, size_t nrows, char *err,
                 size_t errsize) {
  const char *tpl = report_report_html, *json = NULL;
  char name[32];
  size_t jlen = 0;
  int bad;
  lua_State *L = h != NULL ? des_lua(h) : NULL;
  FILE *f;
  if (h != NULL) {
    if (des_statistics(h) != DES_OK)
      return report_fail(err, errsize, "%s", des_last_error(h));
    json = lua_tolstring(L, -1, &jlen); /* anchored on the stack */
  }
  f = fopen(path, "w");
  if (f == NULL) {
    if (L != NULL)
      lua_pop(L, 1);
    return report_fail(err, errsize, "cannot write '%s': %s", path,
                       strerror(errno));
  }
  while (put_until_marker(f, &tpl, name, sizeof(name)) != NULL) {
    if (strcmp(name, "UPLOT_CSS") == 0)
      fputs(report_uPlot_min_css, f);
    else if (strcmp(name, "UPLOT_JS") == 0)
      fputs(report_uPlot_iife_min_js, f);
    else if (strcmp(name, "DATA") == 0) {
      fputs("{\"info\":", f);
      put_info(f, h, info);
      fputs(",\"experiment\":", f);
      put_rows(f, rows, nrows);
      fputs(",\"run\":", f);
      if (json != NULL)
        put_json_safe(f, json, jlen);
      else
        fputs("null", f);
      fputc('}', f);
    }
  }
  if (L != NULL)
    lua_pop(L, 1);
  bad = ferror(f);
  if (fclose(f) != 0 || bad)
    return report_fail(err, errsize, "cannot write '%s': %s", path,
                       strerror(errno));
  return 0;
}
