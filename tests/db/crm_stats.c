/* SPDX-License-Identifier: MIT */
/*
 * CRM statistics: known answers on crafted data (boundaries included), and the trigger-kept
 * counters against the ground truth after every kind of write by plain SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/shape.h"
#include "testdb.h"

TestSuite(crm_stats, .init = fptest_setup_schema, .fini = fptest_teardown);

/* 2026-11-27 12:34:56.789 UTC */
#define NOW_MS 1795782896789LL
#define NOW_US (NOW_MS * 1000)
#define MS_US 1000LL
#define NOW "'2026-11-27 12:34:56.789'::timestamp"
/* 2026-11-27 12:00:00 UTC: the window then starts exactly on an hour. */
#define HOUR_NOW_MS 1795780800000LL
#define HOUR_NOW "'2026-11-27 12:00:00'::timestamp"

static int64_t fixed_clock(void *payload) { return *(const int64_t *)payload; }

/* Collect with the clock at now_ms (a fixed clock, as tests and replays use). */
static fastepost_crm_stats *collect(int64_t now_ms) {
  static int64_t now_us;
  now_us = now_ms * 1000;
  fastepost_crm_stats_options *o = NULL;
  cr_assert_eq(fastepost_crm_stats_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_base_url(o, "https://app.example.com/"), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_clock(o, fixed_clock, &now_us), FASTEPOST_OK);
  fastepost_crm_stats *s = NULL;
  cr_assert_eq(fastepost_crm_stats_collect(&s, fptest_conn(), o), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  fastepost_crm_stats_options_free(o);
  return s;
}

static void add_event(const char *source, const char *type, const char *status, const char *at) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "INSERT INTO integration_events (source, event_type, status, created_at) "
           "VALUES ('%s', '%s', '%s', %s)",
           source, type, status, at);
  fptest_exec(sql);
}

Test(crm_stats, no_events) {
  fastepost_crm_stats *s = collect(NOW_MS);
  cr_assert_eq(fastepost_crm_stats_source_count(s), 2, "hubspot and odoo are always there");
  const fastepost_crm_source_stats *h = fastepost_crm_stats_source(s, 0);
  cr_assert_str_eq(h->source, "hubspot");
  cr_assert_str_eq(fastepost_crm_stats_source(s, 1)->source, "odoo");
  cr_assert_null(fastepost_crm_stats_source(s, 2));
  cr_assert_eq(h->total_events, 0);
  cr_assert_eq(h->events_24h, 0);
  cr_assert_eq(h->has_success_rate, 0);
  cr_assert_eq(h->health, FASTEPOST_CRM_STATS_HEALTH_NONE);
  cr_assert_eq(h->success_rate_tenths, 0);
  cr_assert_eq(h->last_event_at_us, 0);
  cr_assert_null(h->last_event_type);
  const fastepost_crm_sync_stats *sync = fastepost_crm_stats_sync(s);
  cr_assert_eq(sync->total_customers, 0);
  cr_assert_eq(sync->synced_customers, 0);
  cr_assert_eq(sync->pending_tasks, 0);
  cr_assert_eq(sync->last_sync_at_us, 0);
  cr_assert_eq(fastepost_crm_stats_recent_count(s), 0);
  cr_assert_null(fastepost_crm_stats_recent(s, 0));
  cr_assert_eq(fastepost_crm_stats_now_us(s), NOW_US);
  const fastepost_crm_setup *u = fastepost_crm_stats_setup(s);
  cr_assert_str_eq(u->odoo_webhook_url, "https://app.example.com/api/v1/integrations/odoo");
  cr_assert_str_eq(u->odoo_webhook_url_with_key,
                   "https://app.example.com/api/v1/integrations/odoo?api_key=YOUR_API_KEY");
  cr_assert_str_eq(u->hubspot_webhook_url, "https://app.example.com/api/v1/integrations/hubspot");
  cr_assert_str_eq(u->odoo_api_key_header, "X-Odoo-Api-Key");
  cr_assert_str_eq(u->odoo_api_key_param, "api_key");
  cr_assert_str_eq(u->hubspot_signature_header, "X-HubSpot-Signature-v3");
  cr_assert_str_eq(u->hubspot_timestamp_header, "X-HubSpot-Request-Timestamp");
  fastepost_crm_stats_free(s);

  /* Paths only without a base URL (NULL options: every default, the server's clock). */
  cr_assert_eq(fastepost_crm_stats_collect(&s, fptest_conn(), NULL), FASTEPOST_OK);
  cr_assert_str_eq(fastepost_crm_stats_setup(s)->hubspot_webhook_url, "/api/v1/integrations/hubspot");
  cr_assert_str_eq(fastepost_crm_stats_setup(s)->odoo_webhook_url, FASTEPOST_CRM_STATS_DEFAULT_ODOO_PATH);
  int64_t server_now = fastepost_crm_stats_now_us(s);
  cr_assert(server_now > NOW_US - 3650 * 86400 * 1000000LL, "the server's clock in µs: %lld",
            (long long)server_now);
  fastepost_crm_stats_free(s);
  fastepost_crm_stats_free(NULL);
  cr_assert_eq(fastepost_crm_stats_collect(NULL, fptest_conn(), NULL), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_crm_stats_collect(NULL, fptest_conn(), NULL), FASTEPOST_EINVALID);
  fastepost_conn_close(fptest_conn());
  cr_assert_eq(fastepost_crm_stats_collect(&s, fptest_conn(), NULL), FASTEPOST_ECONN);
  cr_assert_eq(fastepost_crm_stats_rebuild(fptest_conn()), FASTEPOST_ECONN);
}

Test(crm_stats, known_answers_and_boundaries) {
  /* hubspot: 4 success + 1 error = exactly 80.0 % -> yellow. */
  add_event("hubspot", "contact.creation", "success", NOW " - interval '24 hours'");
  add_event("hubspot", "contact.creation", "success", NOW " - interval '24 hours 1 millisecond'");
  add_event("hubspot", "contact.creation", "success", NOW " - interval '23 hours 59 minutes'");
  add_event("hubspot", "contact.propertyChange", "success", NOW " - interval '1 hour'");
  add_event("hubspot", "contact.creation", "error", NOW " - interval '3 days'");
  /* Pending events count as events but not in the rate. */
  add_event("hubspot", "contact.creation", "pending", NOW);
  add_event("hubspot", "contact.deletion", "pending", NOW " + interval '10 minutes'");
  /* odoo: 1601 of 2000 finished = 80.05 % -> shown 80.1 -> green; 395 error, 4 dead. */
  fptest_exec("INSERT INTO integration_events (source, event_type, status, created_at) "
              "SELECT 'odoo', 'res.partner', CASE WHEN i <= 1601 THEN 'success' "
              "WHEN i <= 1996 THEN 'error' ELSE 'dead' END, " NOW " - i * interval '1 minute' "
              "FROM generate_series(1, 2000) i");
  /* A third source with only pending events: listed, no rate. */
  add_event("pipedrive", "person.added", "pending", NOW " - interval '2 hours'");

  fastepost_crm_stats *s = collect(NOW_MS);
  cr_assert_eq(fastepost_crm_stats_source_count(s), 3);
  const fastepost_crm_source_stats *h = fastepost_crm_stats_find_source(s, "hubspot");
  cr_assert_eq(h->total_events, 7);
  cr_assert_eq(h->events_24h, 5, "exactly 24 h old counts, 24 h + 1 ms does not, future does");
  cr_assert_eq(h->success_events, 4);
  cr_assert_eq(h->error_events, 1);
  cr_assert_eq(h->pending_events, 2);
  cr_assert(h->has_success_rate);
  cr_assert_float_eq(h->success_rate, 80.0, 1e-9);
  cr_assert_eq(h->success_rate_tenths, 800);
  cr_assert_eq(h->health, FASTEPOST_CRM_STATS_HEALTH_WARNING, "exactly 80 %% is a warning");
  cr_assert_str_eq(h->last_event_type, "contact.deletion");
  cr_assert_eq(h->last_event_at_us, NOW_US + 600000 * MS_US);

  const fastepost_crm_source_stats *o = fastepost_crm_stats_find_source(s, "odoo");
  cr_assert_eq(o->total_events, 2000);
  cr_assert_eq(o->events_24h, 1440, "one per minute: minutes 1 to 1440 are in the window");
  cr_assert_eq(o->dead_events, 4);
  cr_assert_float_eq(o->success_rate, 80.1, 1e-9);
  cr_assert_eq(o->success_rate_tenths, 801);
  cr_assert_eq(o->health, FASTEPOST_CRM_STATS_HEALTH_GOOD);
  cr_assert_str_eq(o->last_event_type, "res.partner");

  const fastepost_crm_source_stats *p = fastepost_crm_stats_find_source(s, "pipedrive");
  cr_assert_eq(p->total_events, 1);
  cr_assert_eq(p->events_24h, 1);
  cr_assert_eq(p->has_success_rate, 0);
  cr_assert_eq(p->health, FASTEPOST_CRM_STATS_HEALTH_NONE);
  cr_assert_null(fastepost_crm_stats_find_source(s, "zoho"));
  fastepost_crm_stats_free(s);

  /* One more success for hubspot: 5/6 = 83.3 % -> green. */
  add_event("hubspot", "contact.creation", "success", NOW " - interval '5 days'");
  s = collect(NOW_MS);
  h = fastepost_crm_stats_find_source(s, "hubspot");
  cr_assert_float_eq(h->success_rate, 83.3, 1e-9);
  cr_assert_eq(h->health, FASTEPOST_CRM_STATS_HEALTH_GOOD);
  cr_assert_eq(h->events_24h, 5);
  fastepost_crm_stats_free(s);

  /* A day later, nothing of hubspot is in the window any more except the future-stamped one's
   * neighbourhood: the window moves with the clock, not with the data. */
  s = collect(NOW_MS + 24 * 3600000LL);
  cr_assert_eq(fastepost_crm_stats_find_source(s, "hubspot")->events_24h, 2,
               "the events at NOW and NOW + 10 min");
  fastepost_crm_stats_free(s);
  fptest_assert_counters_exact();
}

/* The window's partial first hour is counted from the rows inside it, or, when more than half
 * of that hour is inside, from the hour's counter minus the rows outside: at every offset in the
 * hour the count equals a recount of the table. Events every 37 s for 26 h, some at the same
 * instant, one at each hour boundary. */
Test(crm_stats, the_partial_first_hour_at_every_offset) {
  fptest_exec("INSERT INTO integration_events (source, event_type, status, created_at) "
              "SELECT 'odoo', 'res.partner', 'success', " HOUR_NOW " - i * interval '37 seconds' "
              "FROM generate_series(0, 2530) i "
              "UNION ALL SELECT 'odoo', 'res.partner', 'error', " HOUR_NOW " - i * interval '1 hour' "
              "FROM generate_series(0, 26) i "
              "UNION ALL SELECT 'odoo', 'res.partner', 'success', " HOUR_NOW " - interval '24 hours 29 minutes'");
  /* 5 min 31.7 s steps over an hour and a bit: both sides of the half hour, and exact boundaries */
  for (int64_t off_ms = 0; off_ms <= 3900000; off_ms += 331700) {
    int64_t now_ms = HOUR_NOW_MS + off_ms;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM integration_events WHERE created_at >= "
             "'epoch'::timestamp + %lld * interval '1 millisecond' - interval '24 hours'", (long long)now_ms);
    long long want = fptest_count(sql);
    fastepost_crm_stats *s = collect(now_ms);
    cr_assert_eq((long long)fastepost_crm_stats_find_source(s, "odoo")->events_24h, want, "now = 12:00 + %lld ms",
                 (long long)off_ms);
    fastepost_crm_stats_free(s);
  }
  fptest_assert_counters_exact();
}

Test(crm_stats, window_starting_on_an_hour) {
  /* now = 12:00:00.000, so the window starts exactly at 12:00 yesterday: no partial hour. */
  add_event("odoo", "res.partner", "success", HOUR_NOW " - interval '24 hours'");
  add_event("odoo", "res.partner", "success", HOUR_NOW " - interval '24 hours 1 millisecond'");
  add_event("odoo", "res.partner", "success", HOUR_NOW " - interval '23 hours 59 minutes 59.999 seconds'");
  add_event("odoo", "res.partner", "success", HOUR_NOW);
  fastepost_crm_stats *s = collect(HOUR_NOW_MS);
  cr_assert_eq(fastepost_crm_stats_find_source(s, "odoo")->events_24h, 3);
  fastepost_crm_stats_free(s);
  /* One millisecond later the 24-h-old event leaves the window (now from the partial hour). */
  s = collect(HOUR_NOW_MS + 1);
  cr_assert_eq(fastepost_crm_stats_find_source(s, "odoo")->events_24h, 2);
  fastepost_crm_stats_free(s);
}

Test(crm_stats, customer_sync_and_recent_events) {
  fptest_exec("INSERT INTO customers (name, crm_source, crm_id, last_synced_at) VALUES "
              "('a', 'odoo', 'res.partner:1', '2026-11-27 12:00:00'),"
              "('b', 'hubspot', '42', '2026-11-27 12:30:00.5'),"
              "('c', NULL, NULL, NULL)");
  fptest_exec("INSERT INTO tasks (barcode, status) VALUES ('B1', 'pending'), ('B2', 'pending'), "
              "('B3', 'done'), ('B4', 'in_progress')");
  /* 25 events; the newest 20 come back newest first, ties broken by id. */
  fptest_exec("INSERT INTO integration_events (source, event_type, status, outcome, "
              "error_message, created_at) SELECT CASE WHEN i % 2 = 0 THEN 'odoo' ELSE 'hubspot' "
              "END, 'type' || i, CASE WHEN i = 1 THEN 'error' ELSE 'success' END, "
              "CASE WHEN i = 1 THEN NULL ELSE 'updated' END, "
              "CASE WHEN i = 1 THEN 'no such partner' END, "
              NOW " - (i - 1) * interval '1 minute' - interval '10 seconds' "
              "FROM generate_series(1, 25) i");
  add_event("odoo", "tie", "success", NOW " - interval '10 seconds'");
  fastepost_crm_stats *s = collect(NOW_MS);
  const fastepost_crm_sync_stats *sync = fastepost_crm_stats_sync(s);
  cr_assert_eq(sync->total_customers, 3);
  cr_assert_eq(sync->synced_customers, 2);
  cr_assert_eq(sync->pending_tasks, 2);
  cr_assert_eq(sync->last_sync_at_us, NOW_US - (4 * 60000 + 56789 - 500) * MS_US, "12:30:00.5");
  cr_assert_eq(fastepost_crm_stats_recent_count(s), 20);
  const fastepost_crm_recent_event *e0 = fastepost_crm_stats_recent(s, 0);
  const fastepost_crm_recent_event *e1 = fastepost_crm_stats_recent(s, 1);
  cr_assert_str_eq(e0->event_type, "tie", "same time: the higher id first");
  cr_assert_str_eq(e1->event_type, "type1");
  cr_assert_str_eq(e1->status, "error");
  cr_assert_null(e1->outcome);
  cr_assert_str_eq(e1->error, "no such partner");
  cr_assert_str_eq(e1->source, "hubspot");
  cr_assert_eq(e1->created_at_us, NOW_US - 10000 * MS_US);
  const fastepost_crm_recent_event *e4 = fastepost_crm_stats_recent(s, 4);
  cr_assert_str_eq(e4->event_type, "type4");
  cr_assert_str_eq(e4->outcome, "updated");
  cr_assert_null(e4->error);
  cr_assert_eq(e4->created_at_us, NOW_US - (3 * 60000 + 10000) * MS_US);
  cr_assert_str_eq(fastepost_crm_stats_recent(s, 19)->event_type, "type19");
  fastepost_crm_stats_free(s);
}

Test(crm_stats, triggers_follow_plain_sql_writes) {
  /* Rows as another program (Rails, psql) writes them, in bulk and one by one. */
  fptest_exec("INSERT INTO integration_events (source, event_type, status, created_at) "
              "SELECT (ARRAY['hubspot', 'odoo', 'zoho'])[1 + i % 3], 't', "
              "(ARRAY['pending', 'success', 'error', 'dead'])[1 + i % 4], "
              NOW " - i * interval '7 minutes' FROM generate_series(1, 1000) i");
  add_event("odoo", "t", "pending", NOW);
  fptest_assert_counters_exact();
  /* Status changes (the retry worker), a source and a time change, a no-op update. */
  fptest_exec("UPDATE integration_events SET status = 'success' WHERE status = 'pending'");
  fptest_exec("UPDATE integration_events SET status = 'dead' WHERE id % 10 = 0 AND status = 'error'");
  fptest_exec("UPDATE integration_events SET created_at = created_at - interval '90 minutes' "
              "WHERE id % 7 = 0");
  fptest_exec("UPDATE integration_events SET source = 'hubspot' WHERE id % 11 = 0");
  fptest_exec("UPDATE integration_events SET attempts = attempts + 1");
  fptest_assert_counters_exact();
  /* The idempotent paths of the sync core: a duplicate skipped, or updated in place. */
  fptest_exec("INSERT INTO integration_events (source, event_type, status, idempotency_key) "
              "VALUES ('odoo', 't', 'pending', 'k1'), ('odoo', 't', 'pending', 'k2')");
  fptest_exec("INSERT INTO integration_events (source, event_type, status, idempotency_key) "
              "VALUES ('odoo', 't', 'success', 'k1'), ('odoo', 't', 'success', 'k3') "
              "ON CONFLICT (source, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING");
  fptest_exec("INSERT INTO integration_events (source, event_type, status, idempotency_key) "
              "VALUES ('odoo', 't', 'dead', 'k2'), ('hubspot', 't', 'error', 'k4') "
              "ON CONFLICT (source, idempotency_key) WHERE idempotency_key IS NOT NULL "
              "DO UPDATE SET status = excluded.status");
  fptest_assert_counters_exact();
  /* Deletes, then one source disappears entirely. */
  fptest_exec("DELETE FROM integration_events WHERE id % 3 = 0");
  fptest_exec("DELETE FROM integration_events WHERE source = 'zoho'");
  fptest_assert_counters_exact();
  fastepost_crm_stats *s = collect(NOW_MS);
  cr_assert_null(fastepost_crm_stats_find_source(s, "zoho"), "a source without events is gone");
  cr_assert_eq(fastepost_crm_stats_find_source(s, "odoo")->total_events,
               fptest_count("SELECT count(*) FROM integration_events WHERE source = 'odoo'"));
  fastepost_crm_stats_free(s);

  /* Customers and tasks. */
  fptest_exec("INSERT INTO customers (name, crm_id) SELECT 'c' || i, CASE WHEN i % 2 = 0 THEN "
              "i::text END FROM generate_series(1, 50) i");
  fptest_exec("UPDATE customers SET crm_id = NULL WHERE id % 4 = 0");
  fptest_exec("UPDATE customers SET crm_id = 'x' || id WHERE id % 5 = 1");
  fptest_exec("UPDATE customers SET name = name || '!'");
  fptest_exec("DELETE FROM customers WHERE id % 6 = 0");
  fptest_exec("INSERT INTO tasks (barcode) SELECT 'B' || i FROM generate_series(1, 30) i");
  fptest_exec("UPDATE tasks SET status = 'done' WHERE id % 3 = 0");
  fptest_exec("UPDATE tasks SET status = 'pending' WHERE id % 9 = 0");
  fptest_exec("DELETE FROM tasks WHERE id % 4 = 0");
  fptest_assert_counters_exact();

  /* Several writes in one transaction, rolled back: the counters roll back with them. */
  fptest_exec("BEGIN; INSERT INTO integration_events (source, event_type) VALUES ('odoo', 't'); "
              "DELETE FROM customers; ROLLBACK");
  fptest_assert_counters_exact();

  /* TRUNCATE resets. */
  fptest_exec("TRUNCATE integration_events");
  fptest_exec("TRUNCATE tasks, remarks, customers CASCADE");
  fptest_assert_counters_exact();
  cr_assert_eq(fptest_count("SELECT count(*) FROM fastepost_event_counts"), 0);
  s = collect(NOW_MS);
  cr_assert_eq(fastepost_crm_stats_find_source(s, "odoo")->total_events, 0);
  cr_assert_eq(fastepost_crm_stats_sync(s)->total_customers, 0);
  fastepost_crm_stats_free(s);
}

Test(crm_stats, migration_backfills_existing_rows) {
  /* A database at version 1 with rows already in it: migration 2 must count them. */
  fptest_exec("DROP TABLE fastepost_event_counts, fastepost_event_hourly_counts, "
              "fastepost_row_counts CASCADE");
  fptest_exec("DROP FUNCTION fastepost_count_events_insert, fastepost_count_events_update, "
              "fastepost_count_events_delete, fastepost_count_events_truncate, "
              "fastepost_count_customers_insert, fastepost_count_customers_update, "
              "fastepost_count_customers_delete, fastepost_count_customers_truncate, "
              "fastepost_count_tasks_insert, fastepost_count_tasks_update, "
              "fastepost_count_tasks_delete, fastepost_count_tasks_truncate CASCADE");
  fptest_exec("DELETE FROM fastepost_schema_migrations WHERE version >= 2");
  fptest_exec("INSERT INTO integration_events (source, event_type, status, created_at) "
              "SELECT 'odoo', 't', 'success', " NOW " - i * interval '1 hour' "
              "FROM generate_series(1, 100) i");
  fptest_exec("INSERT INTO customers (name, crm_id) VALUES ('a', '1'), ('b', NULL)");
  fptest_exec("INSERT INTO tasks (barcode) VALUES ('B1')");
  fastepost_crm_stats *s = NULL;
  cr_assert_eq(fastepost_crm_stats_collect(&s, fptest_conn(), NULL), FASTEPOST_EVERSION);
  cr_assert(strstr(fastepost_error_last()->message, "schema install"));
  size_t applied = 0;
  cr_assert_eq(fastepost_schema_install(&applied, fptest_conn()), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_geq(applied, 1);
  fptest_assert_counters_exact();
  s = collect(NOW_MS);
  const fastepost_crm_source_stats *o = fastepost_crm_stats_find_source(s, "odoo");
  cr_assert_eq(o->total_events, 100);
  cr_assert_eq(o->events_24h, 24);
  cr_assert_eq(fastepost_crm_stats_sync(s)->synced_customers, 1);
  cr_assert_eq(fastepost_crm_stats_sync(s)->pending_tasks, 1);
  fastepost_crm_stats_free(s);
}

Test(crm_stats, rebuild_after_writes_without_triggers) {
  /* A data-only restore with --disable-triggers, or replication, bypasses the triggers. */
  fptest_exec("SET session_replication_role = replica; "
              "INSERT INTO integration_events (source, event_type, status) VALUES "
              "('hubspot', 't', 'success'), ('hubspot', 't', 'error'); "
              "INSERT INTO customers (name) VALUES ('x'); "
              "SET session_replication_role = origin");
  cr_assert_eq(fptest_count("SELECT count(*) FROM fastepost_event_counts"), 0, "not counted yet");
  cr_assert_eq(fastepost_crm_stats_rebuild(fptest_conn()), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  fptest_assert_counters_exact();
  fastepost_crm_stats *s = collect(NOW_MS);
  cr_assert_eq(fastepost_crm_stats_find_source(s, "hubspot")->total_events, 2);
  cr_assert_float_eq(fastepost_crm_stats_find_source(s, "hubspot")->success_rate, 50.0, 1e-9);
  fastepost_crm_stats_free(s);
}

Test(crm_stats, cli_json_and_text) {
  add_event("hubspot", "contact.creation", "success", NOW " - interval '3 minutes'");
  char args[1200], out[16384];
  snprintf(args, sizeof args,
           "stats crm --json --now %lld --base-url https://app.example.com --odoo-path /hooks/odoo "
           "--db '%s'",
           NOW_US, fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  const char *keys[] = {"\"generated_at\":\"2026-11-27T12:34:56.789000Z\",\"generated_at_us\":1795782896789000}",
                        "\"source\":\"hubspot\",\"total_events\":1,\"events_24h\":1",
                        "\"success_rate\":100.0,\"health\":\"good\",\"badge\":\"green\"",
                        "\"last_event_at\":\"2026-11-27T12:31:56.789000Z\",\"last_event_at_us\":1795782716789000",
                        "\"source\":\"odoo\",\"total_events\":0",
                        "\"success_rate\":null,\"health\":\"none\",\"badge\":\"none\","
                        "\"last_event_at\":null,\"last_event_at_us\":null",
                        "\"sync\":{\"total_customers\":0,\"synced_customers\":0,"
                        "\"pending_tasks\":0,\"last_sync_at\":null,\"last_sync_at_us\":null}",
                        "\"event_type\":\"contact.creation\",\"status\":\"success\"",
                        "\"time_ago\":\"3 minutes ago\"",
                        "\"odoo_webhook_url\":\"https://app.example.com/hooks/odoo\"",
                        "\"odoo_webhook_url_with_key\":\"https://app.example.com/hooks/odoo?api_key=YOUR_API_KEY\"",
                        "\"hubspot_webhook_url\":\"https://app.example.com/api/v1/integrations/hubspot\"",
                        "\"odoo_api_key_header\":\"X-Odoo-Api-Key\""};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    cr_assert(strstr(out, keys[i]), "missing %s in %s", keys[i], out);
  /* Every key and type as tests/report/shapes.txt says (the bindings' to_dict / to_h too):
   * with a synced customer and an event with an error, so that every optional value shows. */
  fptest_exec("INSERT INTO customers (name, crm_id, last_synced_at) VALUES ('a', '1', " NOW ")");
  add_event("odoo", "res.partner", "error", NOW " - interval '1 day'");
  fptest_exec("UPDATE integration_events SET error_message = 'boom', outcome = NULL WHERE source = 'odoo'");
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  shape_check(out, "crm_stats");
  snprintf(args, sizeof args, "stats crm --now %lld --db '%s'", NOW_US, fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "100.0 %") && strstr(out, "green") && strstr(out, "X-HubSpot-Signature-v3"),
            "%s", out);
  cr_assert_eq(fptest_cli(out, sizeof out, "stats crm --now yesterday"), 2, "%s", out);
  snprintf(args, sizeof args, "stats crm --base-url ftp://x --db '%s'", fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 1, "%s", out);
}

Test(crm_stats, options_validate_and_default) {
  fastepost_crm_stats_options *o = NULL;
  cr_assert_eq(fastepost_crm_stats_options_new(NULL), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_crm_stats_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_base_url(o, "app.example.com"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_crm_stats_options_set_base_url(o, "ftp://x"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_crm_stats_options_set_path(o, "odoo", "no-slash"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_crm_stats_options_set_path(o, "acme", "/z"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_crm_stats_options_set_path(o, NULL, "/z"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_crm_stats_options_set_base_url(o, "http://h:8080//"), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_path(o, "hubspot", "/in/hubspot"), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_path(o, "odoo", "/in/odoo?tenant=1"), FASTEPOST_OK);
  fastepost_crm_stats *s = NULL;
  cr_assert_eq(fastepost_crm_stats_collect(&s, fptest_conn(), o), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  const fastepost_crm_setup *u = fastepost_crm_stats_setup(s);
  cr_assert_str_eq(u->hubspot_webhook_url, "http://h:8080/in/hubspot");
  cr_assert_str_eq(u->odoo_webhook_url, "http://h:8080/in/odoo?tenant=1");
  cr_assert_str_eq(u->odoo_webhook_url_with_key, "http://h:8080/in/odoo?tenant=1&api_key=YOUR_API_KEY");
  fastepost_crm_stats_free(s);
  /* NULL and "" restore the defaults. */
  cr_assert_eq(fastepost_crm_stats_options_set_path(o, "odoo", ""), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_path(o, "hubspot", NULL), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_base_url(o, NULL), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_collect(&s, fptest_conn(), o), FASTEPOST_OK);
  cr_assert_str_eq(fastepost_crm_stats_setup(s)->odoo_webhook_url, "/api/v1/integrations/odoo");
  cr_assert_str_eq(fastepost_crm_stats_setup(s)->hubspot_webhook_url, "/api/v1/integrations/hubspot");
  fastepost_crm_stats_free(s);
  fastepost_crm_stats_options_free(o);
  fastepost_crm_stats_options_free(NULL);
  fastepost_conn_close(fptest_conn());
  cr_assert_eq(fastepost_crm_stats_collect(&s, fptest_conn(), NULL), FASTEPOST_ECONN);
  cr_assert_null(s);
}

Test(crm_stats, counts_add_up_across_connections) {
  /* Rows counted into one connection's slot and deleted or changed by another: only the sums
   * over the slots must be right. */
  fastepost_crm_stats *s = NULL;
  const char *sql =
      "INSERT INTO integration_events (source, event_type, status) "
      "SELECT 'hubspot', 't', 'pending' FROM generate_series(1, 10)";
  PGconn *other = PQconnectdb(fptest_current.conninfo);
  cr_assert_eq(PQstatus(other), CONNECTION_OK);
  PGresult *res = PQexec(other, sql);
  cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQerrorMessage(other));
  PQclear(res);
  PQfinish(other);
  fptest_exec("UPDATE integration_events SET status = 'success' WHERE id % 2 = 0");
  fptest_exec("DELETE FROM integration_events WHERE id % 5 = 0");
  fptest_assert_counters_exact();
  s = collect(NOW_MS);
  const fastepost_crm_source_stats *h = fastepost_crm_stats_find_source(s, "hubspot");
  cr_assert_eq(h->total_events, 8);
  cr_assert_eq(h->success_events, 4);
  cr_assert_eq(h->pending_events, 4);
  cr_assert_float_eq(h->success_rate, 100.0, 1e-9);
  fastepost_crm_stats_free(s);
}

/* Issue 15: a card per source with events or configured, not a fixed pair. */
static const char *const six[] = {"hubspot", "monday", "odoo", "pipedrive", "salesforce", "zoho"};

Test(crm_stats, six_configured_sources) {
  static int64_t now_us = NOW_US;
  fastepost_crm_stats_options *o = NULL;
  cr_assert_eq(fastepost_crm_stats_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_base_url(o, "https://app.example.com"), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_clock(o, fixed_clock, &now_us), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_add_source(o, "acme"), FASTEPOST_EINVALID);
  cr_assert(strstr(fastepost_error_last()->message, "'acme'"), "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_crm_stats_options_add_source(o, NULL), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_crm_stats_options_add_source(NULL, "zoho"), FASTEPOST_EINVALID);
  /* Registry order, and one twice: harmless. */
  const char *order[] = {"zoho", "salesforce", "monday", "pipedrive", "hubspot", "odoo", "zoho"};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    cr_assert_eq(fastepost_crm_stats_options_add_source(o, order[i]), FASTEPOST_OK, "%s", order[i]);
  cr_assert_eq(fastepost_crm_stats_options_set_path(o, "salesforce", "/sf/outbound"), FASTEPOST_OK);
  /* Events of a source named nowhere: still a card, not configured. */
  add_event("legacy", "x", "success", NOW);
  add_event("zoho", "Contacts.insert", "success", NOW);
  fastepost_crm_stats *s = NULL;
  cr_assert_eq(fastepost_crm_stats_collect(&s, fptest_conn(), o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  fastepost_crm_stats_options_free(o);
  cr_assert_eq(fastepost_crm_stats_source_count(s), 7);
  for (size_t i = 0; i < 6; i++) {
    const fastepost_crm_source_stats *src = fastepost_crm_stats_find_source(s, six[i]);
    cr_assert_not_null(src, "no card for %s", six[i]);
    cr_assert_eq(src->configured, 1, "%s", six[i]);
    char want[128];
    snprintf(want, sizeof want, "https://app.example.com/api/v1/integrations/%s", six[i]);
    if (strcmp(six[i], "salesforce") == 0)
      snprintf(want, sizeof want, "https://app.example.com/sf/outbound");
    cr_assert_str_eq(src->webhook_url, want);
    cr_assert(*fastepost_report_source_instructions(six[i]), "set-up text for %s", six[i]);
    cr_assert_str_neq(fastepost_report_source_title(six[i]), "");
  }
  cr_assert_eq(fastepost_crm_stats_find_source(s, "zoho")->total_events, 1);
  const fastepost_crm_source_stats *legacy = fastepost_crm_stats_find_source(s, "legacy");
  cr_assert_not_null(legacy);
  cr_assert_eq(legacy->configured, 0);
  cr_assert_str_eq(legacy->webhook_url, "", "no adapter, no URL");
  cr_assert_str_eq(fastepost_report_source_title("legacy"), "legacy");
  cr_assert_str_eq(fastepost_report_source_title("monday"), "monday.com");
  cr_assert_str_eq(fastepost_report_source_instructions("legacy"), "");
  cr_assert_str_eq(fastepost_report_source_title(NULL), "");
  fastepost_crm_stats_free(s);
}

Test(crm_stats, configured_sources_replace_the_default_pair) {
  static int64_t now_us = NOW_US;
  fastepost_crm_stats_options *o = NULL;
  cr_assert_eq(fastepost_crm_stats_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_clock(o, fixed_clock, &now_us), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_add_source(o, "pipedrive"), FASTEPOST_OK);
  add_event("hubspot", "contact.creation", "success", NOW);
  fastepost_crm_stats *s = NULL;
  cr_assert_eq(fastepost_crm_stats_collect(&s, fptest_conn(), o), FASTEPOST_OK);
  fastepost_crm_stats_options_free(o);
  cr_assert_eq(fastepost_crm_stats_source_count(s), 2, "hubspot (events) and pipedrive (configured)");
  cr_assert_str_eq(fastepost_crm_stats_source(s, 0)->source, "hubspot");
  cr_assert_eq(fastepost_crm_stats_source(s, 0)->configured, 0);
  cr_assert_str_eq(fastepost_crm_stats_source(s, 1)->source, "pipedrive");
  cr_assert_eq(fastepost_crm_stats_source(s, 1)->configured, 1);
  cr_assert_str_eq(fastepost_crm_stats_source(s, 1)->webhook_url, "/api/v1/integrations/pipedrive");
  cr_assert_null(fastepost_crm_stats_find_source(s, "odoo"), "odoo is neither configured nor has events");
  fastepost_crm_stats_free(s);
}

Test(crm_stats, cli_six_sources) {
  static char out[65536];
  add_event("zoho", "Contacts.insert", "success", NOW);
  char args[2048];
  int n = snprintf(args, sizeof args, "stats crm --json --now %lld --db '%s'", NOW_US, fptest_current.conninfo);
  for (size_t i = 0; i < 6; i++)
    n += snprintf(args + n, sizeof args - (size_t)n, " --source %s", six[i]);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  shape_check(out, "crm_stats");
  for (size_t i = 0; i < 6; i++) {
    char want[200];
    snprintf(want, sizeof want, "\"webhook_url\":\"/api/v1/integrations/%s\"", six[i]);
    cr_assert(strstr(out, want), "missing %s in %s", want, out);
  }
  size_t configured = 0;
  for (const char *p = out; (p = strstr(p, "\"configured\":true")); p++)
    configured++;
  cr_assert_eq(configured, 6);
  cr_assert(strstr(out, "\"title\":\"Zoho CRM\""), "%s", out);
  snprintf(args, sizeof args, "stats crm --now %lld --db '%s' --source monday --source salesforce", NOW_US,
           fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "monday.com") && strstr(out, "POST /api/v1/integrations/salesforce"), "%s", out);
  snprintf(args, sizeof args, "stats crm --db '%s' --source nope", fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 2, "%s", out);
}

/* The sync functions' own statement, as the core sends it: a customer created with its event row.
 * $17 is the crm id (NULL: not linked), $8 'create' or 'update' of customer $9. */
static void sync_apply(const char *key, const char *mode, const char *customer, const char *crm_id) {
  char sql[1024];
  snprintf(sql, sizeof sql,
           "SELECT * FROM fastepost_sync_apply('0', 'odoo', 'res.partner', NULL, '%s', '{}', NULL, '%s', %s, "
           "'n', NULL, NULL, NULL, NULL, NULL, 'odoo', %s, NULL, 'true', NULL, 'false', NULL, NULL)",
           key, mode, customer, crm_id);
  fptest_exec(sql);
}

/* Migration 13: a statement run with fastepost.counted = 'self' is left to its writer (the sync
 * functions count their own rows); so a recount catches a sync function whose deltas are wrong,
 * and every other writer is still counted. */
Test(crm_stats, writes_marked_self_are_left_to_their_writer) {
  fptest_exec("BEGIN; SET LOCAL fastepost.counted = 'self'; "
              "INSERT INTO integration_events (source, event_type, status) VALUES ('odoo', 't', 'success'); "
              "INSERT INTO customers (name, crm_id) VALUES ('x', '1'); COMMIT");
  cr_assert_eq(fptest_count("SELECT count(*) FROM fastepost_event_counts"), 0, "the triggers skipped them");
  cr_assert_eq(fptest_count("SELECT coalesce(sum(n), 0) FROM fastepost_row_counts"), 0);
  cr_assert_eq(fastepost_crm_stats_rebuild(fptest_conn()), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  /* The sync functions: created, linked, unlinked, an event updated from error to success. */
  sync_apply("k1", "create", "NULL", "'res.partner:1'");
  sync_apply("k2", "create", "NULL", "NULL");
  fptest_assert_counters_exact();
  long long linked = fptest_count("SELECT id FROM customers WHERE crm_id = 'res.partner:1'");
  char id[32];
  snprintf(id, sizeof id, "'%lld'", linked);
  sync_apply("k3", "update", id, "NULL");
  fptest_assert_counters_exact();
  sync_apply("k4", "update", id, "'res.partner:9'");
  fptest_exec("UPDATE integration_events SET status = 'error', created_at = created_at - interval '3 hours' "
              "WHERE idempotency_key = 'k4'");
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT * FROM fastepost_sync_finish((SELECT id::text FROM integration_events WHERE idempotency_key = "
           "'k4'), 'odoo', 't', NULL, 'k4', '{}', NULL, 'success', 'stale', %s, NULL)", id);
  fptest_exec(sql);
  fptest_exec("SELECT * FROM fastepost_sync_finish('0', 'odoo', 't', NULL, 'k5', '{}', '2020-01-01 10:30:00', "
              "'success', 'ignored', NULL, NULL)");
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE status = 'error'"), 0);
  fptest_assert_counters_exact();
  /* Outside the functions, the setting is gone: plain writes are counted again. */
  fptest_exec("INSERT INTO integration_events (source, event_type, status) VALUES ('odoo', 't', 'dead')");
  fptest_exec("DELETE FROM customers WHERE crm_id IS NULL");
  fptest_assert_counters_exact();
}

/* Migration 13 upgrades a database at version 12 whose counters the old triggers kept (slots by
 * pid % 8): the sums stay exact across the upgrade, for the triggers and the sync functions. */
Test(crm_stats, upgrade_from_version_12_keeps_the_counters) {
  char *all = NULL;
  cr_assert_eq(fastepost_schema_sql(&all), FASTEPOST_OK);
  char *cut = strstr(all, "\n-- migration 13:");
  cr_assert_not_null(cut, "migration 13 is in the schema SQL");
  *cut = '\0';
  /* Migrations 1-12 again (idempotent): the triggers, trigger functions and sync functions of
   * version 12 come back. */
  fptest_exec("SET client_min_messages = warning");
  fptest_exec(all);
  fastepost_free(all);
  fptest_exec("DROP FUNCTION fastepost_counter_slot()");
  fptest_exec("DELETE FROM fastepost_schema_migrations WHERE version >= 13");
  cr_assert_eq(fptest_count("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'fastepost_count_%' "
                            "AND tgqual IS NOT NULL"), 0, "version 12's triggers have no WHEN");
  fptest_exec("INSERT INTO integration_events (source, event_type, status, created_at) "
              "SELECT 'odoo', 't', 'success', " NOW " - i * interval '1 hour' FROM generate_series(1, 30) i");
  fptest_exec("INSERT INTO customers (name, crm_id) VALUES ('a', '1'), ('b', NULL)");
  fptest_exec("INSERT INTO tasks (barcode) VALUES ('B1'), ('B2')");
  sync_apply("old", "create", "NULL", "'res.partner:5'");
  fptest_assert_counters_exact();
  size_t applied = 0;
  cr_assert_eq(fastepost_schema_install(&applied, fptest_conn()), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  int current = 0, latest = 0;
  cr_assert_eq(fastepost_schema_version(&current, &latest, fptest_conn()), FASTEPOST_OK);
  cr_assert_eq(applied, (size_t)(latest - 12), "migration 13 and those after it");
  cr_assert_eq(fptest_count("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'fastepost_count_%' "
                            "AND tgqual IS NOT NULL"), 9, "insert, update and delete triggers of three tables");
  fptest_assert_counters_exact();
  fptest_exec("UPDATE integration_events SET status = 'error' WHERE id % 3 = 0");
  fptest_exec("DELETE FROM integration_events WHERE id % 7 = 0");
  fptest_exec("UPDATE tasks SET status = 'done' WHERE barcode = 'B1'");
  fptest_exec("UPDATE customers SET crm_id = NULL WHERE name = 'a'");
  sync_apply("new", "create", "NULL", "'res.partner:6'");
  fptest_assert_counters_exact();
  fastepost_crm_stats *s = collect(NOW_MS);
  cr_assert_eq(fastepost_crm_stats_sync(s)->pending_tasks, 1);
  fastepost_crm_stats_free(s);
}
