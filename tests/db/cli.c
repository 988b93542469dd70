/* The fastepost CLI: exit codes, error format, schema commands. */
#include <stdio.h>
#include <string.h>

#include "testdb.h"

TestSuite(cli, .init = fptest_setup, .fini = fptest_teardown);

static char out[65536];

#include <stdarg.h>
__attribute__((format(printf, 1, 2))) static int cli(const char *fmt, ...) {
  char args[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  return fptest_cli(out, sizeof out, args);
}

Test(cli, version_and_help) {
  cr_assert_eq(cli("--version"), 0);
  cr_assert(strstr(out, "fastepost " FASTEPOST_VERSION), "%s", out);
  cr_assert_eq(cli("--help"), 0);
  cr_assert(strstr(out, "schema install") && strstr(out, "--db"), "%s", out);
  cr_assert_eq(cli("schema install --help"), 0);
  cr_assert(strstr(out, "Usage: fastepost schema install"), "%s", out);
  cr_assert_eq(cli("schema --help"), 0);
  cr_assert(strstr(out, "schema status"), "%s", out);
}

Test(cli, usage_errors_exit_2) {
  cr_assert_eq(cli(" "), 2);
  cr_assert_eq(cli("frobnicate"), 2);
  cr_assert(strstr(out, "fastepost: unknown command 'frobnicate'"), "%s", out);
  cr_assert_eq(cli("schema"), 2);
  cr_assert_eq(cli("schema install --bogus"), 2);
  cr_assert(strstr(out, "fastepost: unknown option '--bogus'"), "%s", out);
  cr_assert_eq(cli("schema install extra"), 2);
  cr_assert_eq(cli("schema install --db"), 2);
}

Test(cli, schema_install_twice_then_status) {
  cr_assert_eq(cli("--db '%s' schema install", fptest_current.conninfo), 0, "%s", out);
  cr_assert(strstr(out, "Schema installed"), "%s", out);
  cr_assert_eq(cli("--db '%s' schema install", fptest_current.conninfo), 0, "%s", out);
  cr_assert(strstr(out, "up to date"), "%s", out);
  /* Global options also after the command; JSON output. */
  cr_assert_eq(cli("schema install --json --db '%s'", fptest_current.conninfo), 0, "%s", out);
  cr_assert(strstr(out, "\"applied\":0"), "%s", out);
  cr_assert_eq(cli("--json --db '%s' schema status", fptest_current.conninfo), 0, "%s", out);
  cr_assert(strstr(out, "\"state\":\"up_to_date\""), "%s", out);
}

Test(cli, database_url_is_used) {
  char args[2048];
  snprintf(args, sizeof args, "DATABASE_URL='%s' '%s' schema status", fptest_current.conninfo,
           getenv("FASTEPOST_CLI"));
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s 2>&1", args);
  FILE *p = popen(cmd, "r");
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  cr_assert_eq(pclose(p), 0, "%s", out);
  cr_assert(strstr(out, fptest_current.name), "%s", out);
}

Test(cli, connection_failure_exit_1_with_message) {
  cr_assert_eq(cli("--db '%s' schema status", "host=/nonexistent dbname=x"), 1);
  cr_assert(strncmp(out, "fastepost: ", 11) == 0, "%s", out);
  cr_assert(strstr(out, "cannot connect"), "%s", out);
  cr_assert_eq(cli("--json --db '%s' schema status", "host=/nonexistent dbname=x"), 1);
  cr_assert(strstr(out, "\"code\":\"FASTEPOST_ECONN\""), "%s", out);
}

Test(cli, schema_sql_needs_no_database) {
  cr_assert_eq(cli("schema sql"), 0);
  cr_assert(strstr(out, "CREATE TABLE IF NOT EXISTS integration_events"), "%s", out);
}
