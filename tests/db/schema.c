/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testdb.h"

TestSuite(schema, .init = fptest_setup, .fini = fptest_teardown);

static long long columns_of(const char *table) {
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM information_schema.columns WHERE table_name = '%s'", table);
  return fptest_count(sql);
}

Test(schema, install_creates_tables_and_is_idempotent) {
  fastepost_conn *c = fptest_conn();
  size_t applied = 99;
  int current = -1, latest = -1;
  cr_assert_eq(fastepost_schema_version(&current, &latest, c), FASTEPOST_OK);
  cr_assert_eq(current, 0);
  cr_assert_geq(latest, 1);
  cr_assert_eq(fastepost_schema_install(&applied, c), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(applied, (size_t)latest);
  cr_assert_eq(columns_of("customers"), 13);
  cr_assert_eq(columns_of("tasks"), 7);
  cr_assert_eq(columns_of("remarks"), 8);
  cr_assert_eq(columns_of("integration_events"), 15);
  cr_assert_eq(fastepost_schema_version(&current, NULL, c), FASTEPOST_OK);
  cr_assert_eq(current, latest);

  /* A second run applies nothing and changes nothing. */
  const char *fingerprint_sql =
      "SELECT md5(string_agg(table_name || '.' || column_name || ':' || data_type || ':' || "
      "coalesce(column_default, ''), ',' ORDER BY table_name, column_name)) "
      "FROM information_schema.columns WHERE table_schema = 'public'";
  char before[64];
  snprintf(before, sizeof before, "%s", fptest_scalar(fingerprint_sql));
  long long indexes = fptest_count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'");
  cr_assert_eq(fastepost_schema_install(&applied, c), FASTEPOST_OK);
  cr_assert_eq(applied, 0);
  cr_assert_str_eq(fptest_scalar(fingerprint_sql), before);
  cr_assert_eq(fptest_count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'"), indexes);
  cr_assert_eq(fptest_count("SELECT count(*) FROM fastepost_schema_migrations"), latest);
}

Test(schema, contract_rules_hold) {
  cr_assert_eq(fastepost_schema_install(NULL, fptest_conn()), FASTEPOST_OK);
  /* Rails conventions: bigint id, timestamp(6) created_at/updated_at filled in. */
  cr_assert_str_eq(fptest_scalar("SELECT data_type FROM information_schema.columns "
                                 "WHERE table_name = 'customers' AND column_name = 'id'"),
                   "bigint");
  cr_assert_str_eq(fptest_scalar("SELECT datetime_precision FROM information_schema.columns "
                                 "WHERE table_name = 'customers' AND column_name = 'created_at'"),
                   "6");
  fptest_exec("INSERT INTO customers (name, email) VALUES ('A', 'a@x.de')");
  cr_assert_str_eq(fptest_scalar("SELECT active::text FROM customers"), "true");
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE created_at IS NOT NULL "
                            "AND abs(extract(epoch FROM created_at - (now() AT TIME ZONE 'UTC'))) < 60"),
               1, "created_at defaults to the current UTC time");
  /* Unique lower(email). */
  PGresult *r = PQexec(fptest_current.check, "INSERT INTO customers (email) VALUES ('A@X.DE')");
  cr_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505");
  PQclear(r);
  /* Unique (crm_source, crm_id) where crm_id is not null; NULL crm_ids may repeat. */
  fptest_exec("INSERT INTO customers (crm_source, crm_id) VALUES ('odoo', 'res.partner:1')");
  fptest_exec("INSERT INTO customers (crm_source, crm_id) VALUES ('hubspot', 'res.partner:1')");
  fptest_exec("INSERT INTO customers (name) VALUES ('no crm'), ('no crm 2')");
  r = PQexec(fptest_current.check,
             "INSERT INTO customers (crm_source, crm_id) VALUES ('odoo', 'res.partner:1')");
  cr_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505");
  PQclear(r);
  /* Task status set and default; barcode required and unique. */
  fptest_exec("INSERT INTO tasks (barcode) VALUES ('B1')");
  cr_assert_str_eq(fptest_scalar("SELECT status FROM tasks"), "pending");
  r = PQexec(fptest_current.check, "INSERT INTO tasks (barcode, status) VALUES ('B2', 'lost')");
  cr_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23514");
  PQclear(r);
  r = PQexec(fptest_current.check, "INSERT INTO tasks (barcode) VALUES ('B1')");
  cr_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505");
  PQclear(r);
  /* Event status set; idempotency key unique per source. */
  fptest_exec("INSERT INTO integration_events (source, event_type, status, idempotency_key) "
              "VALUES ('odoo', 'res.partner', 'success', 'k1'), ('hubspot', 'x', 'error', 'k1')");
  r = PQexec(fptest_current.check, "INSERT INTO integration_events (source, event_type, status, "
                                   "idempotency_key) VALUES ('odoo', 'x', 'success', 'k1')");
  cr_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505");
  PQclear(r);
  r = PQexec(fptest_current.check, "INSERT INTO integration_events (source, event_type, status) "
                                   "VALUES ('odoo', 'x', 'weird')");
  cr_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23514");
  PQclear(r);
  /* Deleting a customer nulls references instead of failing or cascading. */
  fptest_exec("UPDATE tasks SET customer_id = (SELECT min(id) FROM customers)");
  fptest_exec("INSERT INTO remarks (customer_id, body) SELECT min(id), 'note' FROM customers");
  fptest_exec("DELETE FROM customers WHERE id = (SELECT min(id) FROM customers)");
  cr_assert_eq(fptest_count("SELECT count(*) FROM tasks WHERE customer_id IS NULL"), 1);
  cr_assert_eq(fptest_count("SELECT count(*) FROM remarks WHERE customer_id IS NULL"), 1);
}

Test(schema, existing_rails_tables_are_completed_not_rewritten) {
  /* What a Rails app may already have: fewer columns, its own data. */
  fptest_exec("CREATE TABLE customers (id bigserial PRIMARY KEY, name varchar, email varchar, "
              "legacy_note text, created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)");
  fptest_exec("INSERT INTO customers (name, email, legacy_note, created_at, updated_at) "
              "VALUES ('Old', 'old@x.de', 'keep me', '2020-01-01', '2020-01-02')");
  size_t applied = 0;
  cr_assert_eq(fastepost_schema_install(&applied, fptest_conn()), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_geq(applied, 1);
  cr_assert_str_eq(fptest_scalar("SELECT legacy_note FROM customers"), "keep me");
  cr_assert_str_eq(fptest_scalar("SELECT created_at::text FROM customers"), "2020-01-01 00:00:00");
  cr_assert_str_eq(fptest_scalar("SELECT active::text FROM customers"), "true");
  cr_assert_eq(columns_of("customers"), 14, "13 of ours plus the user's own column");
}

Test(schema, incompatible_column_is_econflict_and_changes_nothing) {
  fptest_exec("CREATE TABLE tasks (id bigserial PRIMARY KEY, barcode varchar NOT NULL)");
  fptest_exec("CREATE TABLE customers (id bigserial PRIMARY KEY, email integer)");
  int rc = fastepost_schema_install(NULL, fptest_conn());
  cr_assert_eq(rc, FASTEPOST_ECONFLICT);
  const char *msg = fastepost_error_last()->message;
  cr_assert(strstr(msg, "customers") && strstr(msg, "email") && strstr(msg, "integer"), "%s", msg);
  cr_assert_eq(fptest_count("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), 2,
               "nothing created");
  cr_assert_eq(columns_of("tasks"), 2, "nothing added");
  cr_assert_str_eq(fptest_scalar("SELECT to_regclass('fastepost_schema_migrations') IS NULL"), "t");
}

Test(schema, newer_database_is_eversion) {
  cr_assert_eq(fastepost_schema_install(NULL, fptest_conn()), FASTEPOST_OK);
  fptest_exec("INSERT INTO fastepost_schema_migrations (version, name) VALUES (9999, 'future')");
  cr_assert_eq(fastepost_schema_install(NULL, fptest_conn()), FASTEPOST_EVERSION);
  cr_assert(strstr(fastepost_error_last()->message, "9999"));
}

Test(schema, closed_connection_is_econn) {
  fastepost_conn *c = fptest_conn();
  fastepost_conn_close(c);
  int current;
  cr_assert_eq(fastepost_schema_install(NULL, c), FASTEPOST_ECONN);
  cr_assert_eq(fastepost_schema_version(&current, NULL, c), FASTEPOST_ECONN);
  cr_assert_eq(fastepost_schema_version(NULL, NULL, c), FASTEPOST_EINVALID);
}

Test(schema, sql_matches_docs_and_installs) {
  char *sql = NULL;
  cr_assert_eq(fastepost_schema_sql(&sql), FASTEPOST_OK);
  size_t len;
  char *doc = fptest_read_file(fptest_source_path("docs/schema.sql"), &len);
  cr_assert_str_eq(doc, sql, "docs/schema.sql is stale: regenerate it with "
                             "`fastepost schema sql > docs/schema.sql`");
  /* The script itself is valid SQL that gives the same schema. */
  PGresult *r = PQexec(fptest_current.check, sql);
  cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQerrorMessage(fptest_current.check));
  PQclear(r);
  cr_assert_eq(columns_of("integration_events"), 15);
  int current;
  cr_assert_eq(fastepost_schema_version(&current, NULL, fptest_conn()), FASTEPOST_OK);
  cr_assert_geq(current, 1);
  free(doc);
  fastepost_free(sql);
}

/* Pages of an index, by name. */
static long long index_pages(const char *name) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT pg_relation_size('%s'::regclass) / 8192", name);
  return fptest_count(sql);
}

/* Migration 17: events arrive in (created_at, id) order, and the event list's indexes must fill
 * as they do. A descending index takes each insert on its leftmost leaf and settles at half full
 * (the right half of every split there never gets a row again): 1.8x its rebuilt size here. Each
 * index as 20,000 arriving events left it, against the same index rebuilt. */
Test(schema, event_list_indexes_fill_as_events_arrive) {
  cr_assert_eq(fastepost_schema_install(NULL, fptest_conn()), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  fptest_exec("INSERT INTO integration_events (source, event_type, status, idempotency_key, created_at, updated_at) "
              "SELECT 'odoo', 'res.partner.write', 'success', 'fill-' || g, "
              "timestamp '2026-01-01' + g * interval '1 second', timestamp '2026-01-01' + g * interval '1 second' "
              "FROM generate_series(1, 20000) g");
  static const char *const names[] = {"index_integration_events_on_created_at",
                                      "index_integration_events_on_source_created_at_id",
                                      "index_integration_events_on_status_created_at_id",
                                      "index_integration_events_on_source_status_created_at_id"};
  enum { N = sizeof names / sizeof names[0] };
  long long grown[N];
  for (size_t i = 0; i < N; i++)
    grown[i] = index_pages(names[i]);
  fptest_exec("REINDEX TABLE integration_events");
  for (size_t i = 0; i < N; i++) {
    long long rebuilt = index_pages(names[i]);
    cr_assert_gt(rebuilt, 10, "%s: %lld pages rebuilt", names[i], rebuilt);
    cr_assert_leq(grown[i] * 10, rebuilt * 12, "%s: %lld pages as the events arrived, %lld rebuilt", names[i],
                  grown[i], rebuilt);
  }
}
