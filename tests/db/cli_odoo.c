/* The odoo and events commands of the fastepost CLI. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  int rc = run(out, sizeof out, "odoo process --api-key s3cret --json '%s'", fx);
  cr_assert_eq(rc, 0, "%s", out);
  cr_assert(strstr(out, "{\"status\":\"ok\",\"http_status\":200,\"outcome\":\"created\",\"event_id\":"), "%s", out);
  cr_assert(strstr(out, "\"customer_id\":1,\"remark_id\":1,\"task_id\":null,\"warnings\":[],\"error\":null}"), "%s", out);
  rc = run(out, sizeof out, "odoo process --api-key s3cret --json - < '%s'", fx);
  cr_assert_eq(rc, 0);
  cr_assert(strstr(out, "\"outcome\":\"duplicate\""), "%s", out);
  rc = run(out, sizeof out, "odoo process --api-key s3cret --event unlink '%s'", fx);
  cr_assert_eq(rc, 0, "%s", out);
  cr_assert(strstr(out, "updated (HTTP 200): event 2, customer 1"), "%s", out);
  cr_assert_str_eq(fptest_scalar("SELECT active::text FROM customers"), "false");
  rc = run(out, sizeof out, "odoo process --api-key s3cret --json --content-type application/x-www-form-urlencoded '%s'",
           fptest_source_path("tests/fixtures/odoo/partner_form.txt"));
  cr_assert_eq(rc, 0, "%s", out);
  cr_assert(strstr(out, "\"outcome\":\"created\""), "%s", out);
}

Test(cli_odoo, failures_exit_1_with_the_http_status) {
  setenv("ODOO_API_KEY", "s3cret", 1);
  char out[4096];
  const char *fx = fptest_source_path("tests/fixtures/odoo/partner_webhook.json");
  cr_assert_eq(run(out, sizeof out, "odoo process --api-key wrong --json '%s'", fx), 1);
  cr_assert(strstr(out, "\"status\":\"FASTEPOST_EAUTH\",\"http_status\":401"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo process --json '%s'", fx), 1);
  cr_assert(strstr(out, "\"http_status\":401"), "%s", out);
  unsetenv("ODOO_API_KEY");
  cr_assert_eq(run(out, sizeof out, "odoo process --api-key s3cret --json '%s'", fx), 1);
  cr_assert(strstr(out, "FASTEPOST_ENOKEY"), "%s", out);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events"), 0, "refused before anything is written");
  setenv("ODOO_API_KEY", "s3cret", 1);
  cr_assert_eq(run(out, sizeof out, "odoo process --api-key s3cret --json '%s'",
                   fptest_source_path("tests/fixtures/odoo/hostile_truncated.json")), 1);
  cr_assert(strstr(out, "\"http_status\":400") && strstr(out, "at byte"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo process --api-key s3cret --max-body 10 --json '%s'", fx), 1);
  cr_assert(strstr(out, "\"http_status\":413"), "%s", out);
  cr_assert_eq(run(out, sizeof out, "odoo process --api-key s3cret --event destroy '%s'", fx), 2);
  cr_assert_eq(run(out, sizeof out, "odoo process --help"), 0);
  cr_assert(strstr(out, "X-Odoo-Api-Key"), "%s", out);
}

Test(cli_odoo, events_list_and_retry) {
  setenv("ODOO_API_KEY", "s3cret", 1);
  char out[8192];
  run(out, sizeof out, "odoo process --api-key s3cret '%s'", fptest_source_path("tests/fixtures/odoo/lead_webhook.json"));
  run(out, sizeof out, "odoo process --api-key s3cret '%s'", fptest_source_path("tests/fixtures/odoo/hostile_bad_id.json"));
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
