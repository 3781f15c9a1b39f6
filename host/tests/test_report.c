/*
** test_report.c -- the HTML report writer (host/src/cli/report.c) from C:
** an experiment's rows without a host (the hook --replications/--sweep
** use), a run whose model names its statistics with HTML and script
** text, a run that failed, and a path that cannot be written. Checks the
** page's text; spec/report_spec.lua opens the same pages in Chromium.
**
**   test_report [DIR]   writes DIR/experiment.html, DIR/hostile.html
*/
#include <stdlib.h>

#include "report.h"
#include "test_host.h"

/* The whole file at path (malloc'd), or NULL. */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (f == NULL)
    return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  if (buf != NULL)
    buf[n] = '\0';
  fclose(f);
  return buf;
}

static void test_experiment(const char *dir) {
  static const double reps[3][5] = {{9.1, 11.0, 10.2, 8.7, 10.9},
                                    {4.0, 5.1, 4.4, 3.9, 4.6},
                                    {2.2, 2.5, 2.1, 2.6, 2.4}};
  report_row rows[6];
  report_info in;
  char path[512], err[256];
  char *text;
  int i;
  memset(&in, 0, sizeof(in));
  in.model = "sweep <servers>";
  in.outcome = "completed";
  for (i = 0; i < 3; i++) {
    rows[i].result = "mean wait";
    rows[i].point = i + 1;
    rows[i].mean = reps[i][0] * 0.2 + reps[i][1] * 0.2 + reps[i][2] * 0.2 +
                   reps[i][3] * 0.2 + reps[i][4] * 0.2;
    rows[i].lo = rows[i].mean * 0.9;
    rows[i].hi = rows[i].mean * 1.1;
    rows[i].reps = reps[i];
    rows[i].nreps = 5;
    rows[3 + i] = rows[i];
    rows[3 + i].result = "utilisation";
    rows[3 + i].mean = 0.9 / (i + 1);
    rows[3 + i].lo = rows[3 + i].mean - 0.05;
    rows[3 + i].hi = rows[3 + i].mean + 0.05;
    rows[3 + i].reps = NULL;
    rows[3 + i].nreps = 0;
  }
  snprintf(path, sizeof(path), "%s/experiment.html", dir);
  CHECK(report_write(NULL, path, &in, rows, 6, err, sizeof(err)) == 0);
  text = slurp(path);
  CHECK(text != NULL);
  if (text == NULL)
    return;
  CHECK(
      CONTAINS(text, "\"experiment\":[{\"result\":\"mean wait\",\"point\":1"));
  CHECK(CONTAINS(text, "\"run\":null"));
  CHECK(CONTAINS(text, "sweep \\u003cservers>")); /* no raw '<' in data */
  CHECK(CONTAINS(text, "uPlot"));                 /* inlined */
  CHECK(!CONTAINS(text, "/*@"));                  /* every marker filled */
  free(text);
}

static void test_hostile(const char *dir) {
  des_host *h = new_host_with(WITH_SANDBOX, 1);
  char path[512], err[256];
  char *text;
  report_info in;
  memset(&in, 0, sizeof(in));
  in.model = "</script><script>document.body.dataset.errors = 99</script>";
  in.outcome = "completed";
  CHECK_RC(
      h,
      des_load_string(h,
                      "local des = require 'des'\n"
                      "local m = des.monitor('</script><script>"
                      "document.body.dataset.errors = 98</script>', "
                      "{histogram = {0, 1}, quantiles = {0.5}})\n"
                      "local l = des.monitor.level('q\"\\n\\\\<!--')\n"
                      "local inf = des.monitor.level('inf')\n"
                      "des.resource(1, {name = '<b>x</b>'})\n"
                      "for i = 1, 50 do m:observe(i % 3); l:set(i % 5); "
                      "inf:set(i == 25 and math.huge or i); des.sleep(1) end\n",
                      NULL),
      DES_OK);
  CHECK_RC(h, des_run(h), DES_OK);
  snprintf(path, sizeof(path), "%s/hostile.html", dir);
  CHECK(report_write(h, path, &in, NULL, 0, err, sizeof(err)) == 0);
  CHECK(lua_gettop(des_lua(h)) == 0); /* the JSON is popped */
  text = slurp(path);
  CHECK(text != NULL);
  if (text != NULL) {
    CHECK(!CONTAINS(text, "<script>document"));
    CHECK(CONTAINS(text, "\\u003c!--"));
    CHECK(strstr(strstr(text, "<!--") + 4, "<!--") ==
          NULL); /* the template's */
    CHECK(!CONTAINS(text, "<b>x"));
    CHECK(CONTAINS(text, "\\u003cb>x\\u003c/b>.busy"));
    free(text);
  }
  /* a path that cannot be written: a message, the stack as it was */
  CHECK(report_write(h, "/nonexistent-dir/r.html", &in, NULL, 0, err,
                     sizeof(err)) == -1);
  CHECK(CONTAINS(err, "cannot write '/nonexistent-dir/r.html'"));
  CHECK(lua_gettop(des_lua(h)) == 0);
  /* statistics that cannot be read: the host's message */
  CHECK_RC(h, des_dostring(h, "require('des').monitor.report_json = 1", 0),
           DES_OK);
  CHECK(report_write(h, path, &in, NULL, 0, err, sizeof(err)) == -1);
  CHECK(CONTAINS(err, "des_statistics: des.monitor.report_json"));
  des_host_free(h);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : ".";
  test_experiment(dir);
  test_hostile(dir);
  return test_host_report("test_report");
}
