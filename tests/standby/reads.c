/* SPDX-License-Identifier: MIT */
/*
 * Reads against a streaming hot standby (label `standby`; run by
 * `scripts/with-postgres --standby ctest -L standby`, skipped without FASTEPOST_TEST_STANDBY_DSN).
 * Each test writes its data through the primary, waits until the standby has replayed it, then
 * runs the read-only operations against the standby: database and CRM statistics, the report,
 * every export format, `backup create`; and checks that a write there fails with one clear error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "retry_counts.h"
#include "testdb.h"

TestSuite(standby, .init = fptest_setup_schema, .fini = fptest_teardown);

static fastepost_conn *standby_conn;

static void standby_conninfo(char *out, size_t outsize, const char *dbname) {
  const char *dsn = getenv("FASTEPOST_TEST_STANDBY_DSN");
  cr_assert(dsn && *dsn, "FASTEPOST_TEST_STANDBY_DSN is not set: run under scripts/with-postgres --standby");
  snprintf(out, outsize, "%s dbname=%s", dsn, dbname);
}

/* Bounded wait (30 s) until the standby has replayed everything the primary wrote so far. */
static void wait_for_replay(void) {
  char lsn[64];
  snprintf(lsn, sizeof lsn, "%s", fptest_scalar("SELECT pg_current_wal_lsn()"));
  char conninfo[1100];
  standby_conninfo(conninfo, sizeof conninfo, "postgres");
  PGconn *pg = PQconnectdb(conninfo);
  cr_assert_eq(PQstatus(pg), CONNECTION_OK, "standby: %s", PQerrorMessage(pg));
  const char *params[] = {lsn};
  bool done = false;
  for (int i = 0; i < 300 && !done; i++) {
    PGresult *r = PQexecParams(pg,
                               "SELECT pg_is_in_recovery() AND pg_last_wal_replay_lsn() >= $1::pg_lsn",
                               1, NULL, params, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(pg));
    done = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!done)
      nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
  }
  PQfinish(pg);
  cr_assert(done, "the standby did not replay up to %s within 30 s", lsn);
}

static fastepost_status odoo_deliver(fastepost_conn *conn, const char *fixture_name,
                                     fastepost_event_result **r) {
  char rel[256];
  snprintf(rel, sizeof rel, "tests/fixtures/odoo/%s", fixture_name);
  size_t len = 0;
  char *body = fptest_read_file(fptest_source_path(rel), &len);
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_add_api_key(o, "standby-key"), FASTEPOST_OK);
  fastepost_status st = fastepost_odoo_process(r, conn, "standby-key", body, len, o);
  fastepost_odoo_options_free(o);
  free(body);
  return st;
}

/* Data through the primary (an Odoo delivery, plain rows, events of two sources), replayed,
 * then a library connection to the same database on the standby. */
static fastepost_conn *seeded_standby(void) {
  fastepost_event_result *r = NULL;
  cr_assert_eq(odoo_deliver(fptest_conn(), "partner_webhook.json", &r), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  fastepost_event_result_free(r);
  fptest_exec("INSERT INTO customers (name, email, created_at, updated_at) "
              "SELECT 'Customer ' || g, 'c' || g || '@example.com', now(), now() "
              "FROM generate_series(1, 25) g");
  fptest_exec("INSERT INTO integration_events (source, event_type, status, created_at, updated_at) "
              "SELECT 'hubspot', 'contact.creation', 'success', now(), now() FROM generate_series(1, 3)");
  fptest_exec("ANALYZE");
  wait_for_replay();
  char conninfo[1100];
  standby_conninfo(conninfo, sizeof conninfo, fptest_current.name);
  cr_assert_eq(fastepost_conn_open(&standby_conn, conninfo), FASTEPOST_OK, "open standby: %s",
               fastepost_error_last()->message);
  return standby_conn;
}

static void close_standby(void) {
  fastepost_conn_free(standby_conn);
  standby_conn = NULL;
}

Test(standby, is_a_standby) {
  char conninfo[1100];
  standby_conninfo(conninfo, sizeof conninfo, "postgres");
  PGconn *pg = PQconnectdb(conninfo);
  cr_assert_eq(PQstatus(pg), CONNECTION_OK, "%s", PQerrorMessage(pg));
  PGresult *r = PQexec(pg, "SELECT pg_is_in_recovery()");
  cr_assert_str_eq(PQgetvalue(r, 0, 0), "t", "the standby DSN must reach a server in recovery");
  PQclear(r);
  PQfinish(pg);
}

Test(standby, db_and_crm_statistics) {
  fastepost_conn *sb = seeded_standby();
  fastepost_stats_db *s = NULL;
  cr_assert_eq(fastepost_stats_db_get(&s, sb, NULL, FASTEPOST_STATS_DB_EXACT), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_str_eq(fastepost_stats_db_database(s), fptest_current.name);
  cr_assert_gt(fastepost_stats_db_size_bytes(s), 0);
  bool found = false;
  for (size_t i = 0; i < fastepost_stats_db_table_count(s); i++) {
    const fastepost_stats_db_table *t = fastepost_stats_db_table_get(s, i);
    if (strcmp(fastepost_stats_db_table_name(t), "customers") == 0) {
      found = true;
      cr_assert_eq(fastepost_stats_db_table_rows_exact(t), 26, "25 rows + the Odoo partner, got %llu",
                   (unsigned long long)fastepost_stats_db_table_rows_exact(t));
    }
  }
  cr_assert(found, "customers is listed");
  fastepost_stats_db_free(s);

  fastepost_crm_stats *c = NULL;
  fastepost_crm_stats_options *co = NULL;
  cr_assert_eq(fastepost_crm_stats_options_new(&co), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_base_url(co, "https://app.example.com/"), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_collect(&c, sb, co), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  fastepost_crm_stats_options_free(co);
  const fastepost_crm_source_stats *odoo = fastepost_crm_stats_find_source(c, "odoo");
  const fastepost_crm_source_stats *hub = fastepost_crm_stats_find_source(c, "hubspot");
  cr_assert_not_null(odoo);
  cr_assert_not_null(hub);
  cr_assert_eq(odoo->total_events, 1);
  cr_assert_eq(hub->total_events, 3);
  cr_assert_eq(fastepost_crm_stats_recent_count(c), 4);
  fastepost_crm_stats_free(c);
  close_standby();
}

Test(standby, report) {
  fastepost_conn *sb = seeded_standby();
  fastepost_report_options *o = NULL;
  cr_assert_eq(fastepost_report_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_report_options_set_base_url(o, "https://app.example.com"), FASTEPOST_OK);
  char *html = NULL;
  cr_assert_eq(fastepost_report_html(&html, sb, o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert(strstr(html, "<html"), "an HTML page");
  cr_assert(strstr(html, fptest_current.name), "names the database");
  fastepost_free(html);
  fastepost_report_options_free(o);
  close_standby();
}

typedef struct sink {
  char *data;
  size_t len;
} sink;

static int to_sink(const char *data, size_t len, void *payload) {
  sink *s = payload;
  char *grown = realloc(s->data, s->len + len + 1);
  if (!grown)
    return -1;
  memcpy(grown + s->len, data, len);
  s->data = grown;
  s->len += len;
  s->data[s->len] = '\0';
  return 0;
}

static sink export_customers(fastepost_conn *conn, fastepost_export_format format) {
  fastepost_export_options *o = NULL;
  cr_assert_eq(fastepost_export_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_export_options_set_table(o, "customers"), FASTEPOST_OK);
  cr_assert_eq(fastepost_export_options_set_format(o, format), FASTEPOST_OK);
  if (format != FASTEPOST_EXPORT_FORMAT_SQL)
    cr_assert_eq(fastepost_export_options_add_order(o, "id", 0), FASTEPOST_OK);
  sink s = {NULL, 0};
  cr_assert_eq(fastepost_export_run(NULL, conn, to_sink, &s, o), FASTEPOST_OK, "export format %d: %s",
               (int)format, fastepost_error_last()->message);
  fastepost_export_options_free(o);
  cr_assert_not_null(s.data);
  return s;
}

Test(standby, every_export_format) {
  fastepost_conn *sb = seeded_standby();
  const fastepost_export_format formats[] = {FASTEPOST_EXPORT_FORMAT_CSV, FASTEPOST_EXPORT_FORMAT_JSON,
                                             FASTEPOST_EXPORT_FORMAT_NDJSON, FASTEPOST_EXPORT_FORMAT_SQL};
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
    sink on_standby = export_customers(sb, formats[i]);
    sink on_primary = export_customers(fptest_conn(), formats[i]);
    cr_assert(strstr(on_standby.data, "c25@example.com"), "format %d has the rows", (int)formats[i]);
    if (formats[i] != FASTEPOST_EXPORT_FORMAT_SQL) /* pg_dump's header names the server; rows are equal */
      cr_assert(on_standby.len == on_primary.len &&
                    memcmp(on_standby.data, on_primary.data, on_standby.len) == 0,
                "format %d: the standby's export equals the primary's", (int)formats[i]);
    free(on_standby.data);
    free(on_primary.data);
  }
  close_standby();
}

Test(standby, backup_create) {
  fastepost_conn *sb = seeded_standby();
  char dir[256];
  fptest_tmpdir(dir, sizeof dir, "fpsb");
  fastepost_backup_dir *bd = NULL;
  cr_assert_eq(fastepost_backup_dir_new(&bd, dir), FASTEPOST_OK);
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bd, sb, FASTEPOST_BACKUP_FORMAT_PLAIN, NULL), FASTEPOST_OK,
               "%s", fastepost_error_last()->message);
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  size_t len = 0;
  char *dump = fptest_read_file(path, &len);
  cr_assert(strstr(dump, "c25@example.com"), "the dump holds the replayed rows");
  free(dump);
  cr_assert_eq(fastepost_backup_verify(bd, sb, name, 0), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  fastepost_free(name);
  fastepost_backup_dir_free(bd);
  fptest_rmtree(dir);
  close_standby();
}

/*
 * One clear error for a write. After the merge with the connection work, SQLSTATE 25006 maps
 * to FASTEPOST_EREADONLY (HTTP 503); until then it is FASTEPOST_EDB. Both name the cause.
 */
static void assert_read_only_failure(fastepost_status st, const char *what) {
  cr_assert_neq(st, FASTEPOST_OK, "%s on a standby must fail", what);
  const fastepost_error *e = fastepost_error_last();
  cr_assert_eq(e->code, st);
  cr_assert(strstr(e->message, "read-only"), "%s: the message says read-only: %s", what, e->message);
  /* The Odoo path records its own message without the SQLSTATE; where one is kept, it is 25006. */
  if (*e->sqlstate)
    cr_assert_str_eq(e->sqlstate, "25006", "%s: SQLSTATE %s", what, e->sqlstate);
  cr_log_info("%s on the standby: %s (%s)", what, e->message, fastepost_strerror(st));
  cr_assert_eq(st, FASTEPOST_EREADONLY, "%s: %s", what, fastepost_strerror(st));
  cr_assert_eq(fastepost_status_http(st), 503);
}

Test(standby, writes_fail_clearly) {
  fastepost_conn *sb = seeded_standby();
  long long before = fptest_count("SELECT count(*) FROM integration_events");
  fastepost_event_result *r = NULL;
  fastepost_status st = odoo_deliver(sb, "partner_company.json", &r);
  assert_read_only_failure(st, "an Odoo delivery");
  fastepost_event_result_free(r);
  fptest_prune pr;
  assert_read_only_failure(fptest_events_prune(&pr, sb, 7, "all", 0), "events prune");
  cr_assert_eq(pr.deleted, 0);
  close_standby();

  /* A database without the schema: installing it there is a write. */
  fptest_db empty;
  fptest_db_create(&empty, "fpsbe");
  wait_for_replay();
  char conninfo[1100];
  standby_conninfo(conninfo, sizeof conninfo, empty.name);
  fastepost_conn *c = NULL;
  cr_assert_eq(fastepost_conn_open(&c, conninfo), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  assert_read_only_failure(fastepost_schema_install(NULL, c), "schema install");
  fastepost_conn_free(c);
  fptest_db_drop(&empty);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events"), before, "nothing written");
}
