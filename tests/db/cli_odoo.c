/* SPDX-License-Identifier: MIT */
/* The odoo and events commands of the fastepost CLI. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testdb.h"

TestSuite(cli_odoo, .init = fptest_setup_schema, .fini = fptest_teardown);

__attribute__((format(printf, 3, 4))) static int run(char *out, size_t size, const char *fmt, ...) {
  char args[4096], cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  snprintf(args, sizeof args, "--db '%s' %s", fptest_current.conninfo, cmd);
  return fptest_cli(out, size, args);
}

Test(cli_odoo, process_prints_the_json_result) {
  setenv("ODOO_API_KEY", "s3cret", 1);
  char out[4096];
  const char *fx = fptest_source_path("tests/fixtures/odoo/partner_webhook.json");
  int rc = run(out, sizeof out, "odoo process --json '%s'", fx);
  cr_assert_eq(rc, 0, "%s", out);
  cr_assert(strstr(out, "{\"status\":\"ok\",\"code\":0,\"http_status\":200,\"outcome\":\"created\",\"event_id\":"), "%s", out);
  cr_assert(strstr(out, "\"customer_id\":1,\"remark_id\":1,\"task_id\":null,\"warnings\":[],\"error\":null}"), "%s", out);
  rc = run(out, sizeof out, "odoo process --json - < '%s'", fx);
  cr_assert_eq(rc, 0);
  cr_assert(strstr(out, "\"outcome\":\"duplicate\""), "%s", out);
  rc = run(out, sizeof out, "odoo process --event unlink '%s'", fx);
  cr_assert_eq(rc, 0, "%s", out);
  cr_assert(strstr(out, "updated (HTTP 200): event 2, customer 1"), "%s", out);
  cr_assert_str_eq(fptest_scalar("SELECT active::text FROM customers"), "false");
  rc = run(out, sizeof out, "odoo process --json --content-type application/x-www-form-urlencoded '%s'",
           fptest_source_path("tests/fixtures/odoo/partner_form.txt"));
  cr_assert_eq(rc, 0, "%s", out);
  cr_assert(strstr(out, "\"outcome\":\"created\""), "%s", out);
}

Test(cli_odoo, failures_exit_1_with_the_http_status) {
  setenv("ODOO_API_KEY", "s3cret", 1);
  char out[4096];
  const char *fx = fptest_source_path("tests/fixtures/odoo/partner_webhook.json");
  cr_assert_eq(run(out, sizeof out, "odoo process --api-key s3cret --json '%s'",
                   fptest_source_path("tests/fixtures/odoo/hostile_truncated.json")), 1);
  cr_assert(strstr(out, "\"http_status\":400") && strstr(out, "at byte"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo process --max-body 10 --json '%s'", fx), 1);
  cr_assert(strstr(out, "\"http_status\":413"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo process --event destroy '%s'", fx), 2);
  cr_assert_eq(run(out, sizeof out, "odoo process --help"), 0);
  cr_assert(strstr(out, "X-Odoo-Api-Key") && strstr(out, "--api-key-file"), "%s", out);
}

/* A key file in the test's own temporary directory. */
static const char *key_file(const char *dir, const char *name, const char *content) {
  static char path[4][512];
  static int next;
  char *p = path[next++ % 4];
  snprintf(p, sizeof path[0], "%s/%s", dir, name);
  fptest_write_file(p, content, 0600);
  return p;
}

Test(cli_odoo, keys_come_from_files_or_the_environment_and_refusals_write_nothing) {
  char dir[256], out[4096];
  fptest_tmpdir(dir, sizeof dir, "clikeys");
  const char *fx = fptest_source_path("tests/fixtures/odoo/partner_webhook.json");
  const char *right = key_file(dir, "right", "s3cret\n"), *wrong = key_file(dir, "wrong", "s3creT\n"),
             *empty = key_file(dir, "empty", ""), *accepted = key_file(dir, "accepted", "old-key\ns3cret\n");
  /* No key configured: refused, whatever is presented. */
  unsetenv("ODOO_API_KEY");
  cr_assert_eq(run(out, sizeof out, "odoo process --api-key-file '%s' --json '%s'", right, fx), 1);
  cr_assert(strstr(out, "\"status\":\"FASTEPOST_ENOKEY\",\"code\":-13,\"http_status\":401"), "%s", out);
  /* Configured, but the presented key is missing (nothing in the environment), empty or wrong. */
  cr_assert_eq(run(out, sizeof out, "odoo process --expected-key-file '%s' --json '%s'", right, fx), 1);
  cr_assert(strstr(out, "\"status\":\"FASTEPOST_EAUTH\",\"code\":-11,\"http_status\":401"), "%s", out);
  setenv("ODOO_API_KEY", "s3cret", 1);
  cr_assert_eq(run(out, sizeof out, "odoo process --api-key-file '%s' --json '%s'", empty, fx), 1);
  cr_assert(strstr(out, "\"status\":\"FASTEPOST_EAUTH\",\"code\":-11,\"http_status\":401"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo process --api-key-file '%s' --json '%s'", wrong, fx), 1);
  cr_assert(strstr(out, "\"status\":\"FASTEPOST_EAUTH\",\"code\":-11,\"http_status\":401"), "%s", out);
  cr_assert(!strstr(out, "s3creT") && !strstr(out, "s3cret"), "no key in the output: %s", out);
  cr_assert_eq(run(out, sizeof out, "odoo process --api-key-file '%s/missing' '%s'", dir, fx), 1);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events"), 0, "refused before anything is written");
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 0);
  /* The right key from a file; --api-key still works but warns that ps shows it. */
  cr_assert_eq(run(out, sizeof out, "odoo process --api-key-file '%s' --json '%s'", right, fx), 0, "%s", out);
  cr_assert(strstr(out, "\"outcome\":\"created\""), "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo process --api-key s3cret --json '%s'", fx), 0, "%s", out);
  cr_assert(strstr(out, "warning: --api-key puts the key on the command line") && strstr(out, "\"duplicate\""),
            "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo process --api-key s3cret --api-key-file '%s' '%s'", right, fx), 2);
  /* Rotation: accepted keys from a file, one per line, instead of the environment. */
  unsetenv("ODOO_API_KEY");
  cr_assert_eq(run(out, sizeof out, "odoo process --expected-key-file '%s' --api-key-file '%s' --json '%s'",
                   accepted, right, fx), 0, "%s", out);
  const char *old = key_file(dir, "old", "old-key");
  cr_assert_eq(run(out, sizeof out, "odoo process --expected-key-file '%s' --api-key-file '%s' --json '%s'",
                   accepted, old, fx), 0, "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo process --expected-key-file '%s' --api-key-file '%s' --json '%s'",
                   accepted, wrong, fx), 1, "%s", out);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 1);
  fptest_rmtree(dir);
}

Test(cli_odoo, events_list_and_retry) {
  setenv("ODOO_API_KEY", "s3cret", 1);
  char out[8192];
  run(out, sizeof out, "odoo process '%s'", fptest_source_path("tests/fixtures/odoo/lead_webhook.json"));
  run(out, sizeof out, "odoo process '%s'", fptest_source_path("tests/fixtures/odoo/hostile_bad_id.json"));
  cr_assert_eq(run(out, sizeof out, "events list"), 0, "%s", out);
  cr_assert(strstr(out, "crm.lead") && strstr(out, "created") && strstr(out, "(2 events)"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "events list --status error --source odoo --json"), 0);
  cr_assert(out[0] == '[' && strstr(out, "\"status\":\"error\"") && !strstr(out, "crm.lead"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "events list --status nonsense"), 1);
  cr_assert_eq(run(out, sizeof out, "events list --limit 0"), 2);
  cr_assert_eq(run(out, sizeof out, "events retry --json"), 0, "%s", out);
  cr_assert(strstr(out, "{\"status\":\"ok\",\"attempted\":0,"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "events retry --limit 5"), 0);
  cr_assert(strstr(out, "Retried 0 due events"), "%s", out);
}

/* stdout alone (stderr to `err`), for checking that --json prints exactly one JSON object. */
static int run_split(char *out, size_t size, const char *err, const char *args) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "--db '%s' %s 2>'%s'; (exit $?)", fptest_current.conninfo, args, err);
  return fptest_cli(out, size, cmd);
}

/* Issue 12 item 7: the spool's warning is printed when it is opened (stderr), and --json has
 * http_status for every outcome, failures before processing included. */
Test(cli_odoo, spool_warning_and_http_status_in_every_json_outcome) {
  setenv("ODOO_API_KEY", "s3cret", 1);
  char dir[256], spool[512], err[512], args[2048], out[8192];
  fptest_tmpdir(dir, sizeof dir, "clispool");
  snprintf(spool, sizeof spool, "%s/spool", dir);
  snprintf(err, sizeof err, "%s/stderr", dir);
  cr_assert_eq(mkdir(spool, 0700), 0);
  cr_assert_eq(chmod(spool, 0777), 0); /* open to everyone: unusable, but the database is up */
  const char *fx = fptest_source_path("tests/fixtures/odoo/partner_webhook.json");
  snprintf(args, sizeof args, "odoo process --spool '%s' --json '%s'", spool, fx);
  cr_assert_eq(run_split(out, sizeof out, err, args), 0, "%s", out);
  const char want_json[] = "{\"status\":\"ok\",\"code\":0,\"http_status\":200,\"outcome\":\"created\"";
  cr_assert(strncmp(out, want_json, sizeof want_json - 1) == 0, "%s", out);
  size_t err_len = 0;
  char *stderr_text = fptest_read_file(err, &err_len);
  cr_assert(strstr(stderr_text, "fastepost: warning: ") && strstr(stderr_text, "chmod 700"), "%s", stderr_text);
  free(stderr_text);

  /* Failures: each one JSON object with http_status on stdout. */
  struct {
    char args[1024];
    int http;
  } cases[5];
  snprintf(cases[0].args, sizeof cases[0].args, "odoo process --json --api-key-file /nonexistent/key '%s'", fx);
  snprintf(cases[1].args, sizeof cases[1].args, "odoo process --json --expected-key-file /nonexistent/keys '%s'", fx);
  snprintf(cases[2].args, sizeof cases[2].args, "odoo process --json /nonexistent/body.json");
  snprintf(cases[3].args, sizeof cases[3].args, "odoo process --json --event destroy '%s'", fx);
  snprintf(cases[4].args, sizeof cases[4].args, "odoo process --json --api-key-file /dev/null '%s'", fx); /* empty */
  int http[] = {500, 500, 500, 400, 401};
  for (size_t i = 0; i < 5; i++) {
    const char *cmd = cases[i].args;
    cases[i].http = http[i];
    cr_assert_neq(run_split(out, sizeof out, err, cmd), 0, "%s", cmd);
    char *nl = strchr(out, '\n');
    cr_assert(out[0] == '{' && nl && nl[1] == '\0', "%s: one JSON line: '%s'", cmd, out);
    char want[64];
    snprintf(want, sizeof want, "\"http_status\":%d", cases[i].http);
    cr_assert(strstr(out, want), "%s: %s in '%s'", cmd, want, out);
  }
  /* The database down and no spool: 503, in JSON. */
  snprintf(args, sizeof args, "'%s' --db 'host=%s/nosocket dbname=x' odoo process --json '%s' 2>/dev/null; (exit $?)",
           getenv("FASTEPOST_CLI"), dir, fx);
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s", args);
  FILE *p = popen(cmd, "r");
  cr_assert(p);
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  cr_assert_neq(pclose(p), 0);
  cr_assert(strstr(out, "\"http_status\":503") && strstr(out, "FASTEPOST_ECONN"), "%s", out);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 1, "only the first delivery wrote");
  fptest_rmtree(dir);
}
