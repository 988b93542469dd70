/* SPDX-License-Identifier: MIT */
/* The fastepost CLI: exit codes, error format, schema commands. */
#include <stdio.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

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

/* A migration that outlasts the statement timeout (here: held up by a session that reads the
 * event log; in production, an index build over 100M events) changes nothing and says which knob
 * to turn; --statement-timeout turns it. */
Test(cli, schema_install_past_the_statement_timeout_changes_nothing_and_says_why) {
  cr_assert_eq(cli("--db '%s' schema install", fptest_current.conninfo), 0, "%s", out);
  /* Back to schema 16, with its descending index. */
  fptest_exec("DELETE FROM fastepost_schema_migrations WHERE version = 17");
  fptest_exec("DROP INDEX index_integration_events_on_created_at; CREATE INDEX "
              "index_integration_events_on_created_at ON integration_events (created_at DESC, id DESC)");
  PGresult *r = PQexec(fptest_current.check, "BEGIN; LOCK TABLE integration_events IN ACCESS SHARE MODE");
  cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQerrorMessage(fptest_current.check));
  PQclear(r);
  int code = cli("--db '%s' schema install --statement-timeout 1", fptest_current.conninfo);
  r = PQexec(fptest_current.check, "COMMIT");
  PQclear(r);
  cr_assert_eq(code, 1, "%s", out);
  cr_assert(strstr(out, "schema migration 17") && strstr(out, "nothing was changed") &&
                strstr(out, "--statement-timeout SECONDS"),
            "%s", out);
  cr_assert_eq(fptest_count("SELECT max(version) FROM fastepost_schema_migrations"), 16);
  cr_assert_eq(fptest_count("SELECT count(*) FROM pg_indexes WHERE indexname = "
                            "'index_integration_events_on_created_at' AND indexdef LIKE '%DESC%'"),
               1);
  cr_assert_eq(cli("--db '%s' schema install --statement-timeout 0", fptest_current.conninfo), 2, "%s", out);
  cr_assert_eq(cli("--db '%s' schema install --statement-timeout 600", fptest_current.conninfo), 0, "%s", out);
  cr_assert_eq(fptest_count("SELECT max(version) FROM fastepost_schema_migrations"), 17);
  cr_assert_eq(fptest_count("SELECT count(*) FROM pg_indexes WHERE indexname = "
                            "'index_integration_events_on_created_at' AND indexdef LIKE '%DESC%'"),
               0);
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

/* Run the CLI with `env` (assignments, may be "") and args; stdout only (stderr dropped) into
 * out, parsed as one JSON object. Returns the exit status. */
static int cli_json(json_object **doc, const char *env, const char *args) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "%s '%s' %s 2>/dev/null", env, getenv("FASTEPOST_CLI"), args);
  FILE *p = popen(cmd, "r");
  cr_assert(p);
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  int st = pclose(p);
  *doc = json_tokener_parse(out);
  cr_assert(*doc && json_object_is_type(*doc, json_type_object), "%s: stdout is not one JSON object: '%s'", args,
            out);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static const char *jstr(json_object *doc, const char *key) {
  json_object *v = NULL;
  return json_object_object_get_ex(doc, key, &v) && v ? json_object_get_string(v) : "";
}

static int jint(json_object *doc, const char *key) {
  json_object *v = NULL;
  cr_assert(json_object_object_get_ex(doc, key, &v) && v, "no %s in %s", key, out);
  return json_object_get_int(v);
}

Test(cli, json_for_every_outcome_usage_errors_included) {
  struct {
    const char *args;
    int exit;
  } cases[] = {
      {"--json frobnicate", 2},
      {"--json schema", 2},
      {"--json schema install --bogus", 2},
      {"schema install --bogus --json", 2}, /* an error found before the parser reached --json */
      {"export --json --format xml --table customers", 2},
      {"import --table customers --json", 2},
      {"--json import --table customers --max-field 0 x.csv", 2},
      {"--json spool list", 2},
      {"--json --db 'host=/nonexistent dbname=x' events list", 1},
      {"--json odoo process --api-key-file /nonexistent/key /nonexistent/body", -1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_object *doc = NULL;
    int rc = cli_json(&doc, "FASTEPOST_SPOOL_DIR=", cases[i].args);
    if (cases[i].exit >= 0)
      cr_assert_eq(rc, cases[i].exit, "%s: exit %d: %s", cases[i].args, rc, out);
    else
      cr_assert_neq(rc, 0, "%s", cases[i].args);
    cr_assert_str_eq(jstr(doc, "status"), "error", "%s: %s", cases[i].args, out);
    cr_assert(strncmp(jstr(doc, "code"), "FASTEPOST_E", 11) == 0, "%s: %s", cases[i].args, out);
    cr_assert_neq(*jstr(doc, "error"), '\0', "%s: %s", cases[i].args, out);
    cr_assert_geq(jint(doc, "http_status"), 400, "%s: %s", cases[i].args, out);
    json_object_put(doc);
  }
}

Test(cli, missing_connection_or_schema_says_how_to_fix_it) {
  json_object *doc = NULL;
  /* No --db, no DATABASE_URL: libpq's defaults lead nowhere. */
  cr_assert_eq(cli_json(&doc, "DATABASE_URL= PGHOST=/nonexistent", "--json events list"), 1);
  cr_assert_str_eq(jstr(doc, "code"), "FASTEPOST_ECONN");
  cr_assert_eq(jint(doc, "http_status"), 503);
  cr_assert(strstr(jstr(doc, "hint"), "set DATABASE_URL or --db"), "%s", out);
  json_object_put(doc);
  char args[2048];
  cr_assert_eq(fptest_cli(out, sizeof out, "--db 'host=/nonexistent' events list"), 1);
  cr_assert_null(strstr(out, "set DATABASE_URL"), "--db was given: %s", out);
  /* A database without our schema. */
  snprintf(args, sizeof args, "--json --db '%s' events list", fptest_current.conninfo);
  cr_assert_eq(cli_json(&doc, "", args), 1);
  cr_assert(strstr(jstr(doc, "hint"), "fastepost schema install"), "%s", out);
  json_object_put(doc);
  cr_assert_eq(cli("--db '%s' events list", fptest_current.conninfo), 1);
  cr_assert(strstr(out, "hint: run `fastepost schema install`"), "%s", out);
}

/* backup and stats report every failure through the shared error object with --json: an
 * unusable directory, a missing backup, an unreachable database, a usage error. */
Test(cli, backup_and_stats_print_json_for_every_failure) {
  char good[256], open_dir[256], args[4096];
  fptest_tmpdir(good, sizeof good, "clibk");
  fptest_tmpdir(open_dir, sizeof open_dir, "clibk777");
  cr_assert_eq(chmod(open_dir, 0777), 0);
  const char *db = fptest_current.conninfo;
  struct {
    char args[2048];
    int exit;
  } cases[12];
  size_t n = 0;
#define CASE(code, ...) (snprintf(cases[n].args, sizeof cases[n].args, __VA_ARGS__), cases[n++].exit = (code))
  CASE(1, "--json backup list --dir '%s'", open_dir);
  CASE(2, "--json backup prune --keep 0 --dir '%s'", good);
  CASE(1, "--json backup prune --keep 1 --dir '%s'", open_dir);
  CASE(1, "--json backup verify backup_20000101_000000.sql --dir '%s'", good);
  CASE(2, "--json backup restore backup_20000101_000000.sql --dir '%s'", good);
  CASE(1, "--json --db 'host=/nonexistent dbname=x' backup create --dir '%s'", good);
  CASE(1, "--json --db '%s' backup create --dir '%s'", db, open_dir);
  CASE(2, "--json backup create --format zip --dir '%s'", good);
  CASE(1, "--json --db 'host=/nonexistent dbname=x' stats db --dir '%s'", good);
  CASE(1, "--json --db '%s' stats db --dir '%s'", db, open_dir);
  CASE(2, "--json stats db --bogus");
#undef CASE
  for (size_t i = 0; i < n; i++) {
    json_object *doc = NULL;
    int rc = cli_json(&doc, "", cases[i].args);
    cr_assert_eq(rc, cases[i].exit, "%s: exit %d: %s", cases[i].args, rc, out);
    cr_assert_str_eq(jstr(doc, "status"), "error", "%s: %s", cases[i].args, out);
    cr_assert(strncmp(jstr(doc, "code"), "FASTEPOST_E", 11) == 0, "%s: %s", cases[i].args, out);
    cr_assert_neq(*jstr(doc, "error"), '\0', "%s: %s", cases[i].args, out);
    cr_assert_geq(jint(doc, "http_status"), 400, "%s: %s", cases[i].args, out);
    json_object_put(doc);
  }
  /* A prune that fails still says what it removed (nothing here). */
  json_object *doc = NULL, *removed = NULL;
  snprintf(args, sizeof args, "--json backup prune --keep 1 --dir '%s'", open_dir);
  cli_json(&doc, "", args);
  cr_assert(json_object_object_get_ex(doc, "removed", &removed) && json_object_array_length(removed) == 0, "%s", out);
  json_object_put(doc);
  /* And success is JSON too, with its status. */
  snprintf(args, sizeof args, "--json backup prune --keep 1 --dir '%s'", good);
  cr_assert_eq(cli_json(&doc, "", args), 0, "%s", out);
  cr_assert_str_eq(jstr(doc, "status"), "ok");
  cr_assert_eq(jint(doc, "http_status"), 200);
  json_object_put(doc);
  snprintf(args, sizeof args, "--json --db '%s' stats db --dir '%s'", db, good);
  cr_assert_eq(cli_json(&doc, "", args), 0, "%s", out);
  cr_assert_eq(json_object_array_length(json_object_object_get(doc, "tables")), 0, "%s", out);
  json_object_put(doc);
  fptest_rmtree(good);
  fptest_rmtree(open_dir);
}
