/* SPDX-License-Identifier: MIT */
/* Export: CSV identical to COPY, JSON equal to the rows, filters, names, directories, pg_dump. */
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "testdb.h"

TestSuite(transfer_export, .init = fptest_setup_schema, .fini = fptest_teardown);

typedef struct sink {
  char *data;
  size_t len, cap;
  int calls, stop_after;
} sink;

static int sink_write(const char *data, size_t len, void *payload) {
  sink *s = payload;
  if (s->stop_after && ++s->calls > s->stop_after)
    return 1;
  if (s->len + len + 1 > s->cap) {
    s->cap = (s->len + len + 1) * 2;
    s->data = realloc(s->data, s->cap);
    cr_assert(s->data);
  }
  memcpy(s->data + s->len, data, len);
  s->len += len;
  s->data[s->len] = '\0';
  return 0;
}

static fastepost_export_options *opts(const char *table, fastepost_export_format f) {
  fastepost_export_options *o = NULL;
  cr_assert_eq(fastepost_export_options_new(&o), FASTEPOST_OK);
  if (table)
    cr_assert_eq(fastepost_export_options_set_table(o, table), FASTEPOST_OK);
  cr_assert_eq(fastepost_export_options_set_format(o, f), FASTEPOST_OK);
  return o;
}

/* Run an export into memory; returns the status, output in *out (free it). */
static int run(char **out, size_t *len, fastepost_export_options *o) {
  sink s = {0};
  int rc = fastepost_export_run(NULL, fptest_conn(), sink_write, &s, o);
  *out = s.data ? s.data : strdup("");
  if (len)
    *len = s.len;
  return rc;
}

/* Rows with everything that is hard to get right in CSV and JSON. */
static void create_alltypes(const char *name) {
  char sql[4096];
  snprintf(sql, sizeof sql,
           "CREATE TABLE %s (id integer PRIMARY KEY, i2 smallint, i8 bigint, n numeric(12,3),"
           " r real, d double precision, b boolean, dt date, ts timestamp(6), tz timestamptz,"
           " u uuid, j json, jb jsonb, v varchar(20), c char(3), t text)",
           name);
  fptest_exec(sql);
  snprintf(sql, sizeof sql,
           "INSERT INTO %s VALUES"
           " (1, -32768, 9223372036854775807, 123456789.125, 1.5, -2.25e-10, true, '2024-02-29',"
           "  '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05+02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',"
           "  '{\"a\": [1, 2], \"s\": \"x\\\"y\"}', '{\"k\": \"ü\", \"n\": null}', 'Müller, \"Max\"', 'ab',"
           "  E'line1\\nline2\\r\\nline3')"
           ",(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
           ",(3, 0, 0, 0, 0, 0, false, '0001-01-01', '1999-12-31 23:59:59', '1970-01-01 00:00:00+00',"
           "  '00000000-0000-0000-0000-000000000000', 'null', '[]', '', '   ', '')"
           ",(4, 1, -1, -0.001, 'NaN', 'Infinity', true, 'infinity', '-infinity', 'infinity',"
           "  'ffffffff-ffff-ffff-ffff-ffffffffffff', '\"\\\\u00e9 \\\\t\"', '\"tab\\\\there\"', 'Ωμέγα 😀',"
           "  'x', E'\\\\.\\n\\\\.\\nback\\\\slash\\t\"quote\"')",
           name);
  fptest_exec(sql);
}

static void assert_golden(const char *rel, const char *got, size_t len) {
  const char *path = fptest_source_path(rel);
  if (getenv("FASTEPOST_UPDATE_GOLDEN")) {
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot write %s", path);
    fwrite(got, 1, len, f);
    fclose(f);
  }
  size_t glen;
  char *want = fptest_read_file(path, &glen);
  cr_assert_eq(len, glen, "%s: %zu bytes, golden has %zu (FASTEPOST_UPDATE_GOLDEN=1 rewrites it)", rel,
               len, glen);
  cr_assert_eq(memcmp(got, want, len), 0, "%s differs from the golden file", rel);
  free(want);
}

Test(transfer_export, csv_is_byte_identical_to_copy_and_golden) {
  create_alltypes("alltypes");
  fastepost_export_options *o = opts("alltypes", FASTEPOST_EXPORT_FORMAT_CSV);
  char *out;
  size_t len;
  cr_assert_eq(run(&out, &len, o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  size_t clen;
  char *copy = fptest_copy_out("COPY alltypes TO STDOUT (FORMAT csv, HEADER)", &clen);
  cr_assert_eq(len, clen);
  cr_assert_eq(memcmp(out, copy, len), 0);
  assert_golden("tests/fixtures/transfer/alltypes.csv", out, len);
  free(out);
  free(copy);
  /* With columns, filters, order and limit: the same as COPY of the equivalent query. */
  fastepost_export_options_add_column(o, "t");
  fastepost_export_options_add_column(o, "ID");
  fastepost_export_options_add_filter_expr(o, "id >= 2");
  fastepost_export_options_add_order(o, "id", 1);
  fastepost_export_options_set_limit(o, 2);
  cr_assert_eq(run(&out, &len, o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  copy = fptest_copy_out("COPY (SELECT t, id FROM alltypes WHERE id >= 2 ORDER BY id DESC LIMIT 2) "
                         "TO STDOUT (FORMAT csv, HEADER)",
                         &clen);
  cr_assert_str_eq(out, copy);
  free(out);
  free(copy);
  fastepost_export_options_free(o);
}

Test(transfer_export, every_type_round_trips_through_import) {
  create_alltypes("alltypes");
  fptest_exec("CREATE TABLE copy2 (LIKE alltypes INCLUDING ALL)");
  fastepost_export_options *o = opts("alltypes", FASTEPOST_EXPORT_FORMAT_CSV);
  const char *path = "/tmp/fptest_alltypes.csv";
  cr_assert_eq(fastepost_export_to_file(NULL, fptest_conn(), path, o), FASTEPOST_OK);
  fastepost_import_report *r = NULL;
  cr_assert_eq(fastepost_import_csv(&r, fptest_conn(), "copy2", path, NULL), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(fastepost_import_report_rows_written(r), 4);
  fastepost_import_report_free(r);
  /* Row text representations distinguish NULL from '' and keep every character. */
  cr_assert_str_eq(fptest_scalar("SELECT string_agg(a::text, '|' ORDER BY id) FROM alltypes a"),
                   fptest_scalar("SELECT string_agg(a::text, '|' ORDER BY id) FROM copy2 a"));
  char *first = fptest_read_file(path, NULL);
  fastepost_export_options_set_table(o, "copy2");
  char *again;
  cr_assert_eq(run(&again, NULL, o), FASTEPOST_OK);
  /* Only the header's table name could differ: it does not appear, so the bytes match. */
  cr_assert_str_eq(again, first);
  free(first);
  free(again);
  fastepost_export_options_free(o);
  remove(path);
}

static json_object *query_json(const char *sql) {
  json_object *j = json_tokener_parse(fptest_scalar(sql));
  cr_assert(j, "%s", sql);
  return j;
}

Test(transfer_export, json_and_ndjson_equal_the_rows) {
  create_alltypes("alltypes");
  json_object *want = query_json("SELECT json_agg(row_to_json(a) ORDER BY id) FROM alltypes a");
  fastepost_export_options *o = opts("alltypes", FASTEPOST_EXPORT_FORMAT_JSON);
  fastepost_export_options_add_order(o, "id", 0);
  char *out;
  size_t len;
  cr_assert_eq(run(&out, &len, o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  json_object *got = json_tokener_parse(out);
  cr_assert(got, "not JSON: %s", out);
  cr_assert(json_object_equal(got, want), "json export differs:\n%s", out);
  /* Values are the database's own: a JSON string holding quotes and line breaks. */
  json_object *t = NULL;
  json_object_object_get_ex(json_object_array_get_idx(got, 0), "t", &t);
  cr_assert_str_eq(json_object_get_string(t), "line1\nline2\r\nline3");
  assert_golden("tests/fixtures/transfer/alltypes.json", out, len);
  json_object_put(got);
  free(out);

  fastepost_export_options_set_format(o, FASTEPOST_EXPORT_FORMAT_NDJSON);
  cr_assert_eq(run(&out, &len, o), FASTEPOST_OK);
  assert_golden("tests/fixtures/transfer/alltypes.ndjson", out, len);
  size_t i = 0;
  for (char *save = NULL, *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
    json_object *row = json_tokener_parse(line);
    cr_assert(row, "line %zu is not JSON: %s", i + 1, line);
    cr_assert(json_object_equal(row, json_object_array_get_idx(want, i)));
    json_object_put(row);
  }
  cr_assert_eq(i, 4);
  free(out);
  json_object_put(want);

  /* No rows: an empty array, and no lines. */
  fastepost_export_options_add_filter(o, "id", FASTEPOST_EXPORT_FILTER_GT, "100");
  cr_assert_eq(run(&out, &len, o), FASTEPOST_OK);
  cr_assert_eq(len, 0);
  free(out);
  fastepost_export_options_set_format(o, FASTEPOST_EXPORT_FORMAT_JSON);
  cr_assert_eq(run(&out, &len, o), FASTEPOST_OK);
  cr_assert_str_eq(out, "[]\n");
  free(out);
  fastepost_export_options_free(o);
}

Test(transfer_export, json_with_selected_columns_and_a_column_named_like_the_alias) {
  fptest_exec("CREATE TABLE fr (id int, fastepost_row text, \"Odd Col\" text)");
  fptest_exec("INSERT INTO fr VALUES (1, 'x', 'y')");
  fastepost_export_options *o = opts("fr", FASTEPOST_EXPORT_FORMAT_NDJSON);
  char *out;
  cr_assert_eq(run(&out, NULL, o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_str_eq(out, "{\"id\":1,\"fastepost_row\":\"x\",\"Odd Col\":\"y\"}\n");
  free(out);
  fastepost_export_options_add_column(o, "Odd Col");
  fastepost_export_options_add_column(o, "fastepost_row");
  cr_assert_eq(run(&out, NULL, o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_str_eq(out, "{\"Odd Col\":\"y\",\"fastepost_row\":\"x\"}\n");
  free(out);
  fastepost_export_options_free(o);
}

static long long rows_for(const char *expr) {
  fastepost_export_options *o = opts("customers", FASTEPOST_EXPORT_FORMAT_CSV);
  cr_assert_eq(fastepost_export_options_add_filter_expr(o, expr), FASTEPOST_OK, "%s: %s", expr,
               fastepost_error_last()->message);
  char *out;
  int rc = run(&out, NULL, o);
  cr_assert_eq(rc, FASTEPOST_OK, "%s: %s", expr, fastepost_error_last()->message);
  long long lines = -1; /* header */
  for (char *p = out; *p; p++)
    lines += *p == '\n';
  free(out);
  fastepost_export_options_free(o);
  return lines;
}

Test(transfer_export, filters) {
  fptest_exec("INSERT INTO customers (id, name, email, active, crm_id) VALUES"
              " (1, 'O''Brien', 'ob@x.de', true, NULL), (2, 'Anna', 'anna@y.de', false, 'c2'),"
              " (3, 'anna lena', NULL, true, 'c3')");
  cr_assert_eq(rows_for("id = 2"), 1);
  cr_assert_eq(rows_for("id != 2"), 2);
  cr_assert_eq(rows_for("id <> 2"), 2);
  cr_assert_eq(rows_for("id<2"), 1);
  cr_assert_eq(rows_for("id <= 2"), 2);
  cr_assert_eq(rows_for("id > 1"), 2);
  cr_assert_eq(rows_for("id >= 1"), 3);
  cr_assert_eq(rows_for("name = O'Brien"), 1);
  cr_assert_eq(rows_for("name like Anna%"), 1);
  cr_assert_eq(rows_for("name ILIKE anna%"), 2);
  cr_assert_eq(rows_for("id like 1%"), 1);
  cr_assert_eq(rows_for("email is_null"), 1);
  cr_assert_eq(rows_for("crm_id not_null"), 2);
  cr_assert_eq(rows_for("active = false"), 1);
  cr_assert_eq(rows_for("\"name\" = anna lena"), 1);
  /* Values are quoted, never pasted. */
  cr_assert_eq(rows_for("name = x' OR '1'='1"), 0);
  cr_assert_eq(rows_for("name = x\\' OR 1=1 --"), 0);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 3);

  fastepost_export_options *o = opts("customers", FASTEPOST_EXPORT_FORMAT_CSV);
  char *out;
  fastepost_export_options_add_filter(o, "id", FASTEPOST_EXPORT_FILTER_EQ, "1; DROP TABLE customers");
  cr_assert_eq(run(&out, NULL, o), FASTEPOST_EINVALID);
  cr_assert(strstr(fastepost_error_last()->message, "not an integer"), "%s", fastepost_error_last()->message);
  free(out);
  fastepost_export_options_free(o);
  o = opts("customers", FASTEPOST_EXPORT_FORMAT_CSV);
  fastepost_export_options_add_filter(o, "id; drop table customers", FASTEPOST_EXPORT_FILTER_EQ, "1");
  cr_assert_eq(run(&out, NULL, o), FASTEPOST_ENOTFOUND);
  free(out);
  fastepost_export_options_free(o);
  o = opts("customers", FASTEPOST_EXPORT_FORMAT_CSV);
  cr_assert_eq(fastepost_export_options_add_filter_expr(o, "id ~ 1"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_export_options_add_filter_expr(o, "id"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_export_options_add_filter_expr(o, "id is_null 3"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_export_options_add_filter(o, "id", FASTEPOST_EXPORT_FILTER_EQ, NULL), FASTEPOST_EINVALID);
  fastepost_export_options_add_column(o, "name\"; --");
  cr_assert_eq(run(&out, NULL, o), FASTEPOST_ENOTFOUND);
  free(out);
  fastepost_export_options_free(o);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 3);
}

Test(transfer_export, hostile_names_and_schemas) {
  const char *bad[] = {"customers; drop table x", "\"customers; drop table x\"", "customers\"",
                       "pg_catalog.pg_authid", "information_schema.tables", "pg_toast.x", "", ".customers",
                       "public.customers.x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fastepost_export_options *o = opts(bad[i], FASTEPOST_EXPORT_FORMAT_CSV);
    char *out;
    int rc = run(&out, NULL, o);
    cr_assert(rc == FASTEPOST_ENOTFOUND || (rc == FASTEPOST_EINVALID && !*bad[i]), "%s: %s", bad[i],
              fastepost_error_name(rc));
    free(out);
    fastepost_export_options_free(o);
  }
  cr_assert_eq(fptest_count("SELECT count(*) FROM pg_tables WHERE tablename = 'customers'"), 1);

  fptest_exec("CREATE SCHEMA secret; CREATE TABLE secret.keys (k text); INSERT INTO secret.keys VALUES ('s3')");
  fptest_exec("CREATE TABLE \"we.ird \"\"t\"\"\" (\"a b\" text); INSERT INTO \"we.ird \"\"t\"\"\" VALUES ('ok')");
  fastepost_export_options *o = opts("secret.keys", FASTEPOST_EXPORT_FORMAT_CSV);
  char *out;
  cr_assert_eq(run(&out, NULL, o), FASTEPOST_OK);
  cr_assert_str_eq(out, "k\ns3\n");
  free(out);
  fastepost_export_options_add_schema(o, "public");
  cr_assert_eq(run(&out, NULL, o), FASTEPOST_ENOTFOUND);
  free(out);
  cr_assert_eq(fastepost_export_options_set_table(o, "public.\"we.ird \"\"t\"\"\""), FASTEPOST_OK);
  cr_assert_eq(run(&out, NULL, o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_str_eq(out, "a b\nok\n");
  free(out);
  /* Unquoted parts match exactly, else a unique case-insensitive match. */
  cr_assert_eq(fastepost_export_options_set_table(o, "CUSTOMERS"), FASTEPOST_OK);
  cr_assert_eq(run(&out, NULL, o), FASTEPOST_OK);
  free(out);
  fastepost_export_options_free(o);
}

Test(transfer_export, all_tables_into_a_directory) {
  fptest_exec("CREATE TABLE \"a/b..c\" (x int); INSERT INTO \"a/b..c\" VALUES (1)");
  fptest_exec("CREATE SCHEMA other; CREATE TABLE other.t (y text); INSERT INTO other.t VALUES ('z')");
  fptest_exec("INSERT INTO customers (name) VALUES ('A')");
  char dir[] = "/tmp/fptest_exportdir_XXXXXX";
  cr_assert(mkdtemp(dir));
  char sub[128];
  snprintf(sub, sizeof sub, "%s/out", dir);
  fastepost_export_options *o = opts(NULL, FASTEPOST_EXPORT_FORMAT_NDJSON);
  size_t n = 0;
  cr_assert_eq(fastepost_export_all(&n, fptest_conn(), sub, o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  /* Every user table, whatever the schema migrations have added, in every non-system schema. */
  long long tables = fptest_count("SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "
                                  "('pg_catalog', 'information_schema')");
  cr_assert_geq(tables, 7);
  cr_assert_eq((long long)n, tables, "one file per table: %zu of %lld", n, tables);
  char path[256];
  snprintf(path, sizeof path, "%s/customers.ndjson", sub);
  char *c = fptest_read_file(path, NULL);
  cr_assert(strstr(c, "\"name\":\"A\""));
  free(c);
  snprintf(path, sizeof path, "%s/a%%2Fb%%2E%%2Ec.ndjson", sub);
  c = fptest_read_file(path, NULL);
  cr_assert_str_eq(c, "{\"x\":1}\n");
  free(c);
  snprintf(path, sizeof path, "%s/other.t.ndjson", sub);
  c = fptest_read_file(path, NULL);
  cr_assert_str_eq(c, "{\"y\":\"z\"}\n");
  free(c);
  struct stat st;
  cr_assert_eq(stat(path, &st), 0);
  cr_assert_eq(st.st_mode & 0777, 0600);
  fastepost_export_options_set_table(o, "customers");
  cr_assert_eq(fastepost_export_all(&n, fptest_conn(), sub, o), FASTEPOST_EINVALID);
  fastepost_export_options_free(o);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

Test(transfer_export, sql_through_pg_dump_with_password_in_environment) {
  fptest_exec("INSERT INTO customers (name, email) VALUES ('Dump Me', 'd@x.de')");
  fptest_exec("GRANT SELECT ON ALL TABLES IN SCHEMA public TO fp_password;"
              "GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO fp_password");
  char conninfo[1200];
  snprintf(conninfo, sizeof conninfo, "%s user=fp_password password=secret", fptest_current.conninfo);
  fastepost_conn *c = NULL;
  cr_assert_eq(fastepost_conn_open(&c, conninfo), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  fastepost_export_options *o = opts("customers", FASTEPOST_EXPORT_FORMAT_SQL);
  sink s = {0};
  cr_assert_eq(fastepost_export_run(NULL, c, sink_write, &s, o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert(strstr(s.data, "CREATE TABLE public.customers"));
  cr_assert(strstr(s.data, "Dump Me"));
  cr_assert_null(strstr(s.data, "CREATE TABLE public.tasks"));
  free(s.data);
  /* Columns or filters do not apply to a dump. */
  fastepost_export_options_add_column(o, "id");
  memset(&s, 0, sizeof s);
  cr_assert_eq(fastepost_export_run(NULL, c, sink_write, &s, o), FASTEPOST_EINVALID);
  free(s.data);
  fastepost_export_options_free(o);
  fastepost_conn_free(c);
  /* The whole database. */
  o = opts(NULL, FASTEPOST_EXPORT_FORMAT_SQL);
  char *out;
  cr_assert_eq(run(&out, NULL, o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert(strstr(out, "CREATE TABLE public.tasks"));
  cr_assert(strstr(out, "CREATE TABLE public.customers"));
  free(out);
  /* The library reads no environment (docs/api.md rule 14): FASTEPOST_PG_DUMP is the CLI's ... */
  setenv("FASTEPOST_PG_DUMP", "/nonexistent/pg_dump", 1);
  fastepost_export_options *later = opts(NULL, FASTEPOST_EXPORT_FORMAT_SQL);
  cr_assert_eq(run(&out, NULL, later), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert(strstr(out, "CREATE TABLE public.customers"));
  free(out);
  unsetenv("FASTEPOST_PG_DUMP");
  /* ... the options say which pg_dump: one that cannot be found is ENOTFOUND, naming it, ... */
  cr_assert_eq(fastepost_export_options_set_tool_path(later, "/nonexistent/pg_dump"), FASTEPOST_OK);
  cr_assert_eq(run(&out, NULL, later), FASTEPOST_ENOTFOUND);
  cr_assert(strstr(fastepost_error_last()->message, "/nonexistent/pg_dump"), "%s",
            fastepost_error_last()->message);
  free(out);
  /* ... and where to search (the CLI passes PATH): nothing there is ENOTFOUND too. */
  cr_assert_eq(fastepost_export_options_set_tool_path(later, NULL), FASTEPOST_OK);
  cr_assert_eq(fastepost_export_options_set_search_path(later, "/nonexistent/bin"), FASTEPOST_OK);
  int src = run(&out, NULL, later);
  cr_assert(src == FASTEPOST_ENOTFOUND || src == FASTEPOST_OK, "%s", fastepost_error_last()->message);
  if (src == FASTEPOST_ENOTFOUND)
    cr_assert(strstr(fastepost_error_last()->message, "/nonexistent/bin"), "%s",
              fastepost_error_last()->message);
  free(out);
  fastepost_export_options_free(later);
  fastepost_export_options_free(o);
}

Test(transfer_export, stopped_writer_and_failed_file) {
  fptest_exec("INSERT INTO customers (name) SELECT 'n' || g FROM generate_series(1, 50000) g");
  fastepost_export_options *o = opts("customers", FASTEPOST_EXPORT_FORMAT_CSV);
  sink s = {0};
  s.stop_after = 1;
  cr_assert_eq(fastepost_export_run(NULL, fptest_conn(), sink_write, &s, o), FASTEPOST_ECANCELED);
  free(s.data);
  /* The connection is usable afterwards. */
  cr_assert_eq(fastepost_conn_ping(fptest_conn()), FASTEPOST_OK);
  cr_assert_eq(fastepost_export_to_file(NULL, fptest_conn(), "/nonexistent/dir/x.csv", o), FASTEPOST_EIO);
  /* A failed export leaves no partial file. */
  fastepost_export_options_add_column(o, "nosuch");
  cr_assert_eq(fastepost_export_to_file(NULL, fptest_conn(), "/tmp/fptest_partial.csv", o), FASTEPOST_ENOTFOUND);
  cr_assert_neq(access("/tmp/fptest_partial.csv", F_OK), 0);
  fastepost_export_options_free(o);
}

Test(transfer_export, cli_export_and_import) {
  char out[8192], args[2048];
  const char *csv = "/tmp/fptest_cli_customers.csv";
  FILE *f = fopen(csv, "w");
  fputs("name,email\nAnn,ann@x.de\nBob,bob@x.de\n", f);
  fclose(f);
  snprintf(args, sizeof args, "import --db '%s' --table customers --dry-run %s", fptest_current.conninfo, csv);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "Dry run"), "%s", out);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 0);
  snprintf(args, sizeof args, "import --db '%s' --table customers %s", fptest_current.conninfo, csv);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 2);
  /* Again: duplicates; the report names the lines, exit 1, JSON parses. */
  snprintf(args, sizeof args, "import --db '%s' --json --table customers %s", fptest_current.conninfo, csv);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 1, "%s", out);
  json_object *rep = json_tokener_parse(out);
  cr_assert(rep, "%s", out);
  json_object *errors = NULL, *total = NULL;
  json_object_object_get_ex(rep, "errors", &errors);
  json_object_object_get_ex(rep, "error_total", &total);
  cr_assert_eq(json_object_get_int(total), 2);
  cr_assert_eq(json_object_get_int(json_object_object_get(json_object_array_get_idx(errors, 1), "line")), 3);
  json_object_put(rep);
  snprintf(args, sizeof args, "import --db '%s' --table customers --on-conflict skip --quiet - < %s",
           fptest_current.conninfo, csv);
  /* Skip without a key: rows that clash with any unique constraint are skipped. */
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "0 inserted, 0 updated, 2 skipped"), "%s", out);
  snprintf(args, sizeof args,
           "export --db '%s' --table customers --columns name,email --where 'name = Bob' --order 'id desc'",
           fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert_str_eq(out, "name,email\nBob,bob@x.de\n");
  snprintf(args, sizeof args, "export --db '%s' --table 'customers; drop table tasks'", fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 1, "%s", out);
  cr_assert(strstr(out, "not found"), "%s", out);
  snprintf(args, sizeof args, "export --db '%s' --format xml --table customers", fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 2, "%s", out);
  snprintf(args, sizeof args, "import --db '%s' --table customers --on-conflict maybe x.csv", fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 2, "%s", out);
  remove(csv);
}

/* The names in dir (not . and ..), sorted by readdir order, space-separated. */
static const char *dir_entries(const char *dir) {
  static char out[2048];
  out[0] = '\0';
  DIR *d = opendir(dir);
  cr_assert(d, "%s", dir);
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      snprintf(out + strlen(out), sizeof out - strlen(out), "%s ", e->d_name);
  closedir(d);
  return out;
}

static void assert_untouched(const char *dir, const char *path, const char *what) {
  char *text = fptest_read_file(path, NULL);
  cr_assert_str_eq(text, "yesterday's good export\n", "%s changed the file", what);
  free(text);
  cr_assert_str_eq(dir_entries(dir), "good.csv ", "%s left: %s", what, dir_entries(dir));
}

Test(transfer_export, a_failed_export_never_touches_the_existing_file) {
  fptest_exec("INSERT INTO customers (name, email) SELECT 'n' || g, 'e' || g || '@x.de' FROM generate_series(1, 100000) g");
  char dir[256], path[320], args[2048], out[4096];
  fptest_tmpdir(dir, sizeof dir, "export_atomic");
  snprintf(path, sizeof path, "%s/good.csv", dir);
  fptest_write_file(path, "yesterday's good export\n", 0640);
  /* A mistyped table, an unknown column, a filter value that does not fit its column: refused
   * before any file is created. */
  fastepost_export_options *o = opts("custmers", FASTEPOST_EXPORT_FORMAT_CSV);
  cr_assert_eq(fastepost_export_to_file(NULL, fptest_conn(), path, o), FASTEPOST_ENOTFOUND);
  assert_untouched(dir, path, "a mistyped table");
  fastepost_export_options_free(o);
  snprintf(args, sizeof args, "export --db '%s' --table custmers --output '%s'", fptest_current.conninfo, path);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 1, "%s", out);
  assert_untouched(dir, path, "the CLI with a mistyped table");
  snprintf(args, sizeof args, "export --db '%s' --table customers --where 'id = abc' --output '%s'",
           fptest_current.conninfo, path);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 1, "%s", out);
  assert_untouched(dir, path, "a bad --where");
  snprintf(args, sizeof args, "export --db '%s' --table customers --where 'nosuch = 1' --output '%s'",
           fptest_current.conninfo, path);
  cr_assert_neq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  assert_untouched(dir, path, "an unknown filter column");
  /* A failure in the middle of the stream (the statement times out on the server). */
  o = opts("customers", FASTEPOST_EXPORT_FORMAT_JSON);
  PGresult *r = PQexec(fastepost__conn_pg(fptest_conn()), "SET statement_timeout = '1ms'");
  PQclear(r);
  fastepost_status st = fastepost_export_to_file(NULL, fptest_conn(), path, o);
  r = PQexec(fastepost__conn_pg(fptest_conn()), "RESET statement_timeout");
  PQclear(r);
  cr_assert_neq(st, FASTEPOST_OK);
  assert_untouched(dir, path, "a failure while streaming");
  /* Success replaces it whole, private. */
  cr_assert_eq(fastepost_export_to_file(NULL, fptest_conn(), path, o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_str_eq(dir_entries(dir), "good.csv ");
  struct stat sb;
  cr_assert_eq(stat(path, &sb), 0);
  cr_assert_eq(sb.st_mode & 0777, 0600);
  cr_assert_gt(sb.st_size, 100000);
  fastepost_export_options_free(o);
  /* The same for any whole file (the CLI's report). */
  cr_assert_eq(fastepost_file_write(path, "abc", 3), FASTEPOST_OK);
  char *text = fptest_read_file(path, NULL);
  cr_assert_str_eq(text, "abc");
  free(text);
  snprintf(args, sizeof args, "%s/nosuchdir/x.html", dir);
  cr_assert_eq(fastepost_file_write(args, "abc", 3), FASTEPOST_EIO);
  cr_assert_str_eq(dir_entries(dir), "good.csv ");
  fptest_rmtree(dir);
}

Test(transfer_export, rows_written_limit_zero_is_all_and_names_round_trip) {
  fptest_exec("INSERT INTO customers (name, email) SELECT 'n' || g, 'e' || g || '@x.de' FROM generate_series(1, 25) g");
  fastepost_export_options *o = opts("customers", FASTEPOST_EXPORT_FORMAT_NDJSON);
  sink s = {0};
  uint64_t rows = 99;
  /* 0 is the default: every row. */
  cr_assert_eq(fastepost_export_options_set_limit(o, 0), FASTEPOST_OK);
  cr_assert_eq(fastepost_export_run(&rows, fptest_conn(), sink_write, &s, o), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(rows, 25);
  free(s.data);
  /* CSV counts data rows, not the header; the limit applies. */
  cr_assert_eq(fastepost_export_options_set_format(o, FASTEPOST_EXPORT_FORMAT_CSV), FASTEPOST_OK);
  cr_assert_eq(fastepost_export_options_set_limit(o, 7), FASTEPOST_OK);
  char dir[256], path[320];
  fptest_tmpdir(dir, sizeof dir, "export_rows");
  snprintf(path, sizeof path, "%s/c.csv", dir);
  cr_assert_eq(fastepost_export_to_file(&rows, fptest_conn(), path, o), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(rows, 7);
  /* A failure reports no rows. */
  cr_assert_eq(fastepost_export_options_set_table(o, "nosuch"), FASTEPOST_OK);
  cr_assert_eq(fastepost_export_to_file(&rows, fptest_conn(), path, o), FASTEPOST_ENOTFOUND);
  cr_assert_eq(rows, 0);
  cr_assert_eq(fastepost_export_to_fd(&rows, fptest_conn(), -1, o), FASTEPOST_EINVALID);
  fastepost_export_options_free(o);
  fptest_rmtree(dir);
  /* Every enum value has a name that parses back to it. */
  for (int f = FASTEPOST_EXPORT_FORMAT_CSV; f <= FASTEPOST_EXPORT_FORMAT_SQL; f++) {
    fastepost_export_format back;
    cr_assert_eq(fastepost_export_format_parse(&back, fastepost_export_format_name((fastepost_export_format)f)),
                 FASTEPOST_OK);
    cr_assert_eq((int)back, f);
  }
  cr_assert_str_eq(fastepost_export_format_name((fastepost_export_format)42), "");
  for (int op = FASTEPOST_EXPORT_FILTER_EQ; op <= FASTEPOST_EXPORT_FILTER_NOT_NULL; op++) {
    fastepost_export_filter_op back;
    cr_assert_eq(fastepost_export_filter_op_parse(&back, fastepost_export_filter_op_name((fastepost_export_filter_op)op)),
                 FASTEPOST_OK);
    cr_assert_eq((int)back, op);
  }
  cr_assert_str_eq(fastepost_export_filter_op_name((fastepost_export_filter_op)-1), "");
  for (int m = FASTEPOST_IMPORT_CONFLICT_ERROR; m <= FASTEPOST_IMPORT_CONFLICT_UPDATE; m++) {
    fastepost_import_conflict back;
    cr_assert_eq(fastepost_import_conflict_parse(&back, fastepost_import_conflict_name((fastepost_import_conflict)m)),
                 FASTEPOST_OK);
    cr_assert_eq((int)back, m);
  }
  fastepost_import_conflict mode;
  cr_assert_eq(fastepost_import_conflict_parse(&mode, "UPDATE"), FASTEPOST_OK);
  cr_assert_eq(mode, FASTEPOST_IMPORT_CONFLICT_UPDATE);
  cr_assert_eq(fastepost_import_conflict_parse(&mode, "merge"), FASTEPOST_EINVALID);
}
