/* SPDX-License-Identifier: MIT */
/* The Odoo push-back (fastepost_odoo_push(), migration 12's outbox and triggers) against the
 * stand-in Odoo server (tests/fake_odoo/) and a real PostgreSQL: what is queued and what is not,
 * write, create, conflicts both ways, the echo of our own write, the marker's scope, failures. */
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../fake_odoo/harness.h"
#include "internal.h"
#include "testdb.h"

#define KEY FAKE_ODOO_KEY

static void setup(void) {
  fptest_setup_schema();
  fake_odoo_start();
}
static void teardown(void) {
  fake_odoo_stop();
  fptest_teardown();
}
TestSuite(odoo_push, .init = setup, .fini = teardown, .timeout = 120);


/* Partners 1..n in Odoo, pulled: customers linked to res.partner:i, synced at 10:00:0i. */
static void pulled_partners(int n) {
  for (int i = 1; i <= n; i++) {
    char json[512];
    snprintf(json, sizeof json,
             "{\"id\": %d, \"values\": {\"name\": \"Partner %d\", \"email\": \"p%d@push.example\", \"phone\": "
             "\"+49 30 %07d\"}, \"tx_start\": \"2026-01-01 10:00:%02d.5\"}",
             i, i, i, i, i);
    fake_odoo_do("write", json);
  }
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_eq(fastepost_odoo_pull(&r, fptest_conn(), o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_odoo_pull_report_outcome_count(r, FASTEPOST_OUTCOME_CREATED), (uint64_t)n);
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

static fastepost_odoo_push_report *push(const fastepost_odoo_sync_options *o, fastepost_status expect) {
  fastepost_odoo_push_report *r = NULL;
  fastepost_status st = fastepost_odoo_push(&r, fptest_conn(), o);
  cr_assert_eq(st, expect, "push: %d, expected %d: %s", st, expect, fastepost_error_last()->message);
  cr_assert_not_null(r);
  return r;
}

static long long queued(void) { return fptest_count("SELECT count(*) FROM fastepost_sync_outbox"); }

/* A field of Odoo's record as stored ("" when absent); json_object_put the result's owner. */
static json_object *odoo_record(int id) {
  char q[64];
  snprintf(q, sizeof q, "{\"id\": %d}", id);
  char *body = fake_odoo_admin("record", q);
  json_object *doc = json_tokener_parse(body);
  free(body);
  cr_assert_not_null(doc);
  return doc;
}

static const char *field(json_object *doc, const char *name) {
  json_object *rec = NULL, *v = NULL;
  if (!json_object_object_get_ex(doc, "result", &rec) || !json_object_object_get_ex(rec, name, &v))
    return "";
  return json_object_get_string(v);
}

/* The native webhook Odoo fires for record id (its write_date with microseconds): our own write
 * coming back. */
static fastepost_outcome echo_webhook(int id) {
  json_object *doc = odoo_record(id), *rec = NULL;
  cr_assert(json_object_object_get_ex(doc, "result", &rec));
  json_object_object_add(rec, "_model", json_object_new_string("res.partner"));
  json_object_object_add(rec, "_id", json_object_new_int(id));
  const char *body = json_object_to_json_string(rec);
  fastepost_odoo_options *wo = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&wo), 0);
  cr_assert_eq(fastepost_odoo_options_set_host_authenticated(wo, 1), 0);
  fastepost_event_result *res = NULL;
  cr_assert_eq(fastepost_odoo_process(&res, fptest_conn(), NULL, body, strlen(body), wo), 0, "%s",
               fastepost_error_last()->message);
  fastepost_outcome oc = fastepost_event_result_outcome(res);
  fastepost_event_result_free(res);
  fastepost_odoo_options_free(wo);
  json_object_put(doc);
  return oc;
}

Test(odoo_push, changes_by_others_are_queued_once_per_customer) {
  /* psql-like writes on another connection (the check connection) */
  fptest_exec("INSERT INTO customers (name, email, crm_source, crm_id) VALUES ('Linked', 'l@push.example', 'odoo', "
              "'res.partner:5')");
  cr_assert_eq(queued(), 1);
  cr_assert_str_eq(fptest_scalar("SELECT operation || ' ' || crm_id || ' ' || revision FROM fastepost_sync_outbox"),
                   "write res.partner:5 1");
  fptest_exec("UPDATE customers SET name = 'Linked 2' WHERE crm_id = 'res.partner:5'");
  fptest_exec("UPDATE customers SET phone = '+49 1', active = false WHERE crm_id = 'res.partner:5'");
  cr_assert_eq(queued(), 1); /* coalesced */
  cr_assert_eq(fptest_count("SELECT revision FROM fastepost_sync_outbox"), 3);
  /* fields that are not pushed, and a no-op update: nothing */
  fptest_exec("UPDATE customers SET address = 'Elsewhere', company = 'ACME', last_synced_at = now()");
  fptest_exec("UPDATE customers SET name = name");
  cr_assert_eq(fptest_count("SELECT revision FROM fastepost_sync_outbox"), 3);
  /* customers of other sources or models, and unlinked ones: not pushed to Odoo */
  fptest_exec("INSERT INTO customers (name, email, crm_source, crm_id) VALUES ('Lead', 'lead@push.example', 'odoo', "
              "'crm.lead:3'), ('Hub', 'hub@push.example', 'hubspot', '77'), ('Plain', 'plain@push.example', NULL, "
              "NULL)");
  fptest_exec("UPDATE customers SET name = name || '!' WHERE crm_id IS DISTINCT FROM 'res.partner:5'");
  cr_assert_eq(queued(), 1);
  /* marked for Odoo: crm_source 'odoo' without a crm_id, by an INSERT or an UPDATE */
  fptest_exec("INSERT INTO customers (name, email, crm_source) VALUES ('New', 'new@push.example', 'odoo')");
  fptest_exec("UPDATE customers SET crm_source = 'odoo' WHERE email = 'plain@push.example'");
  cr_assert_eq(fptest_count("SELECT count(*) FROM fastepost_sync_outbox WHERE operation = 'create' AND crm_id IS "
                            "NULL"), 2);
  /* a bulk update is one statement: one trigger call, every row queued */
  fptest_exec("INSERT INTO customers (name, crm_source, crm_id) SELECT 'Bulk ' || i, 'odoo', 'res.partner:' || (100 + "
              "i) FROM generate_series(1, 50) i");
  fptest_exec("UPDATE customers SET phone = '+1' WHERE name LIKE 'Bulk %'");
  cr_assert_eq(queued(), 53);
  /* the CRM statistics stay exact next to the new triggers */
  cr_assert_eq(fptest_count("SELECT sum(n) FROM fastepost_row_counts WHERE counter = 'customers'"),
               fptest_count("SELECT count(*) FROM customers"));
  cr_assert_eq(fptest_count("SELECT sum(n) FROM fastepost_row_counts WHERE counter = 'customers_crm_synced'"),
               fptest_count("SELECT count(crm_id) FROM customers"));
  /* a customer deleted: its row is dropped by the next push, which sends nothing for it */
  fptest_exec("DELETE FROM customers WHERE crm_id = 'res.partner:5'");
  fptest_exec("TRUNCATE customers CASCADE"); /* no foreign key holds TRUNCATE back */
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  fastepost_odoo_push_report *r = push(o, FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_push_report_attempted(r), 53);
  cr_assert_eq(fastepost_odoo_push_report_skipped(r), 53);
  cr_assert_eq(queued(), 0);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events"), 0);
  fastepost_odoo_push_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_push, the_sync_cores_own_writes_are_not_queued_and_the_marker_does_not_leak) {
  pulled_partners(2); /* the pull created two linked customers */
  cr_assert_eq(queued(), 0);
  /* a webhook delivery that changes one */
  fastepost_odoo_options *wo = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&wo), 0);
  cr_assert_eq(fastepost_odoo_options_set_host_authenticated(wo, 1), 0);
  const char *hook = "{\"_model\": \"res.partner\", \"_id\": 1, \"name\": \"Renamed in Odoo\", \"email\": "
                     "\"p1@push.example\", \"write_date\": \"2026-01-01 11:00:00.250000\"}";
  fastepost_event_result *res = NULL;
  cr_assert_eq(fastepost_odoo_process(&res, fptest_conn(), NULL, hook, strlen(hook), wo), 0);
  cr_assert_eq(fastepost_event_result_outcome(res), FASTEPOST_OUTCOME_UPDATED);
  fastepost_event_result_free(res);
  fastepost_odoo_options_free(wo);
  cr_assert_str_eq(fptest_scalar("SELECT name FROM customers WHERE crm_id = 'res.partner:1'"), "Renamed in Odoo");
  cr_assert_eq(queued(), 0);
  /* The marker is transaction-local: on the same connection (what a transaction pooler hands
   * to the next client), the next transaction does not carry it, and its writes are queued. */
  PGresult *pg = NULL;
  cr_assert_eq(fastepost__query(&pg, fptest_conn(), "SELECT coalesce(current_setting('fastepost.origin', true), '')",
                                0, NULL, PGRES_TUPLES_OK, "test"),
               0);
  cr_assert_str_eq(PQgetvalue(pg, 0, 0), "");
  PQclear(pg);
  cr_assert_eq(fastepost__exec(fptest_conn(), "UPDATE customers SET phone = '+49 99' WHERE crm_id = 'res.partner:2'",
                               "test"),
               0);
  cr_assert_eq(queued(), 1);
  /* and a transaction that sets it itself is skipped, only for that transaction */
  fptest_exec("BEGIN; SELECT set_config('fastepost.origin', 'sync', true); "
              "UPDATE customers SET phone = '+49 98' WHERE crm_id = 'res.partner:1'; COMMIT");
  cr_assert_eq(queued(), 1);
  fptest_exec("UPDATE customers SET phone = '+49 97' WHERE crm_id = 'res.partner:1'");
  cr_assert_eq(queued(), 2);
}

static void push_writes_to_odoo(fastepost_odoo_sync_protocol proto) {
  pulled_partners(2);
  fptest_exec("UPDATE customers SET name = 'Local Name', phone = '+49 40 123' WHERE crm_id = 'res.partner:1'");
  fptest_exec("UPDATE customers SET active = false WHERE crm_id = 'res.partner:2'");
  cr_assert_eq(queued(), 2);
  fastepost_odoo_sync_options *o = fake_odoo_options(proto);
  fastepost_odoo_push_report *r = push(o, FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_push_report_attempted(r), 2);
  cr_assert_eq(fastepost_odoo_push_report_written(r), 2);
  cr_assert_eq(fastepost_odoo_push_report_conflicts(r) + fastepost_odoo_push_report_failed(r), 0);
  cr_assert_eq(queued(), 0);
  json_object *doc = odoo_record(1);
  cr_assert_str_eq(field(doc, "name"), "Local Name");
  cr_assert_str_eq(field(doc, "phone"), "+49 40 123");
  cr_assert_str_eq(field(doc, "email"), "p1@push.example");
  /* the synced version is the write_date Odoo stamped on our write, in whole seconds */
  char want[32];
  snprintf(want, sizeof want, "%.19s", field(doc, "write_date"));
  cr_assert_str_eq(fptest_scalar("SELECT crm_updated_at::text FROM customers WHERE crm_id = 'res.partner:1'"), want);
  json_object_put(doc);
  doc = odoo_record(2);
  cr_assert_str_eq(field(doc, "active"), "false"); /* archived */
  json_object_put(doc);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE event_type = 'res.partner.push' AND "
                            "source = 'odoo' AND status = 'success' AND outcome = 'updated'"), 2);
  /* the webhook Odoo fires for our own write: unchanged, nothing queued, no second push */
  cr_assert_eq(echo_webhook(1), FASTEPOST_OUTCOME_UNCHANGED);
  cr_assert_eq(echo_webhook(2), FASTEPOST_OUTCOME_UNCHANGED);
  cr_assert_eq(queued(), 0);
  fastepost_odoo_push_report_free(r);
  r = push(o, FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_push_report_attempted(r), 0);
  fastepost_odoo_push_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_push, writes_to_odoo_json2) { push_writes_to_odoo(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2); }
Test(odoo_push, writes_to_odoo_jsonrpc) { push_writes_to_odoo(FASTEPOST_ODOO_SYNC_PROTOCOL_JSONRPC); }

Test(odoo_push, a_record_changed_in_odoo_is_not_overwritten_by_default) {
  pulled_partners(1);
  fptest_exec("UPDATE customers SET name = 'Local' WHERE crm_id = 'res.partner:1'");
  /* someone changes it in Odoo between our last sync and our write (just before our read) */
  fake_odoo_do("race", "{\"id\": 1, \"values\": {\"name\": \"Changed in Odoo\"}}");
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  fastepost_odoo_push_report *r = push(o, FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_push_report_conflicts(r), 1);
  cr_assert_eq(fastepost_odoo_push_report_written(r), 0);
  json_object *doc = odoo_record(1);
  cr_assert_str_eq(field(doc, "name"), "Changed in Odoo");
  json_object_put(doc);
  cr_assert_eq(queued(), 0); /* Odoo won: the next pull brings its values */
  cr_assert_str_eq(fptest_scalar("SELECT status || ' ' || outcome || ' ' || external_id FROM integration_events "
                                 "WHERE event_type = 'res.partner.push'"),
                   "error conflict res.partner:1");
  cr_assert(strstr(fptest_scalar("SELECT error_message FROM integration_events WHERE event_type = "
                                 "'res.partner.push'"), "not overwritten (prefer remote)"));
  cr_assert_str_eq(fptest_scalar("SELECT name FROM customers WHERE crm_id = 'res.partner:1'"), "Local");
  fastepost_odoo_push_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_push, prefer_local_overwrites_a_newer_odoo_record) {
  pulled_partners(1);
  fptest_exec("UPDATE customers SET name = 'Local wins' WHERE crm_id = 'res.partner:1'");
  fake_odoo_do("race", "{\"id\": 1, \"values\": {\"name\": \"Changed in Odoo\"}}");
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSONRPC);
  cr_assert_eq(fastepost_odoo_sync_options_set_prefer(o, FASTEPOST_ODOO_SYNC_PREFER_LOCAL), 0);
  fastepost_odoo_push_report *r = push(o, FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_push_report_conflicts(r), 1);
  cr_assert_eq(fastepost_odoo_push_report_written(r), 1);
  json_object *doc = odoo_record(1);
  cr_assert_str_eq(field(doc, "name"), "Local wins");
  json_object_put(doc);
  cr_assert_eq(queued(), 0);
  cr_assert(strstr(fptest_scalar("SELECT status || ' ' || outcome || ': ' || error_message FROM integration_events "
                                 "WHERE event_type = 'res.partner.push'"),
                   "success updated: conflict: res.partner:1 was changed in Odoo"));
  cr_assert_eq(echo_webhook(1), FASTEPOST_OUTCOME_UNCHANGED);
  cr_assert_eq(queued(), 0);
  /* the names round-trip; bad values are refused */
  fastepost_odoo_sync_prefer p;
  cr_assert_eq(fastepost_odoo_sync_prefer_parse(&p, "local"), 0);
  cr_assert_eq(p, FASTEPOST_ODOO_SYNC_PREFER_LOCAL);
  cr_assert_eq(fastepost_odoo_sync_prefer_parse(&p, "newest"), FASTEPOST_EINVALID);
  cr_assert_str_eq(fastepost_odoo_sync_prefer_name(FASTEPOST_ODOO_SYNC_PREFER_REMOTE), "remote");
  cr_assert_eq(fastepost_odoo_sync_options_set_prefer(o, (fastepost_odoo_sync_prefer)5), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_sync_options_set_push_limit(o, FASTEPOST_ODOO_SYNC_MAX_PUSH_LIMIT + 1),
               FASTEPOST_EINVALID);
  fastepost_odoo_push_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_push, a_customer_marked_for_odoo_is_created_there_and_linked) {
  fptest_exec("INSERT INTO customers (name, email, phone, crm_source) VALUES ('Made Here', 'made@push.example', "
              "'+49 89 1', 'odoo')");
  fptest_exec("INSERT INTO customers (email, crm_source) VALUES ('noname@push.example', 'odoo')");
  cr_assert_eq(queued(), 2);
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  fastepost_odoo_push_report *r = push(o, FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_push_report_created(r), 1);
  cr_assert_eq(fastepost_odoo_push_report_failed(r), 1); /* Odoo refuses a contact without a name */
  const char *crm_id = fptest_scalar("SELECT crm_id FROM customers WHERE email = 'made@push.example'");
  cr_assert(strncmp(crm_id, "res.partner:", 12) == 0, "%s", crm_id);
  int id = atoi(crm_id + 12);
  json_object *doc = odoo_record(id);
  cr_assert_str_eq(field(doc, "name"), "Made Here");
  cr_assert_str_eq(field(doc, "phone"), "+49 89 1");
  json_object_put(doc);
  /* linking it queued nothing; the failed one stays with its error and a backoff */
  cr_assert_eq(queued(), 1);
  cr_assert_str_eq(fptest_scalar("SELECT attempts || ' ' || (next_attempt_at > now() AT TIME ZONE 'UTC') FROM "
                                 "fastepost_sync_outbox"),
                   "1 true");
  cr_assert(strstr(fptest_scalar("SELECT last_error FROM fastepost_sync_outbox"), "Contacts require a name"));
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE outcome = 'created' AND status = "
                            "'success'"), 1);
  cr_assert_eq(echo_webhook(id), FASTEPOST_OUTCOME_UNCHANGED);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 2); /* the echo linked, not duplicated */
  fastepost_odoo_push_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_push, a_create_whose_write_date_cannot_be_read_is_not_created_twice) {
  fptest_exec("INSERT INTO customers (name, email, crm_source) VALUES ('Once', 'once@push.example', 'odoo')");
  /* create passes, the read of the new record's write_date fails */
  fake_odoo_do("fail", "{\"status\": 500, \"count\": 1, \"skip\": 1}");
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  fastepost_odoo_push_report *r = push(o, FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_push_report_created(r), 1);
  cr_assert_eq(fastepost_odoo_push_report_failed(r), 0);
  fastepost_odoo_push_report_free(r);
  cr_assert_eq(queued(), 0);
  cr_assert_str_eq(fptest_scalar("SELECT crm_id || ' ' || (crm_updated_at IS NULL) FROM customers"),
                   "res.partner:1 true");
  cr_assert(strstr(fptest_scalar("SELECT error_message FROM integration_events"), "could not be read"));
  r = push(o, FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_push_report_attempted(r), 0);
  fastepost_odoo_push_report_free(r);
  json_object *doc = odoo_record(2);
  cr_assert_str_eq(field(doc, "name"), ""); /* no second partner */
  json_object_put(doc);
  fastepost_odoo_sync_options_free(o);
}

static int64_t test_now_us;
static int64_t test_clock(void *payload) {
  (void)payload;
  return test_now_us;
}

Test(odoo_push, failures_keep_the_row_and_name_no_key) {
  pulled_partners(1);
  fptest_exec("UPDATE customers SET name = 'Try again' WHERE crm_id = 'res.partner:1'");
  test_now_us = (int64_t)time(NULL) * 1000000;
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  cr_assert_eq(fastepost_odoo_sync_options_set_clock(o, test_clock, NULL), 0);
  /* a refused key: the run stops, the row stays */
  cr_assert_eq(fastepost_odoo_sync_options_set_api_key(o, "not-the-key-4242"), 0);
  fastepost_odoo_push_report *r = push(o, FASTEPOST_EAUTH);
  cr_assert_null(strstr(fastepost_error_last()->message, "not-the-key-4242"));
  cr_assert_eq(fastepost_odoo_push_report_failed(r), 1);
  fastepost_odoo_push_report_free(r);
  cr_assert_str_eq(fptest_scalar("SELECT attempts FROM fastepost_sync_outbox"), "1");
  cr_assert_null(strstr(fptest_scalar("SELECT last_error FROM fastepost_sync_outbox"), "4242"));
  cr_assert_null(strstr(fptest_scalar("SELECT string_agg(error_message, ' ') FROM integration_events"), "4242"));
  /* backing off: not due yet; 31 s later it is */
  cr_assert_eq(fastepost_odoo_sync_options_set_api_key(o, KEY), 0);
  r = push(o, FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_push_report_attempted(r), 0);
  fastepost_odoo_push_report_free(r);
  test_now_us += 31 * INT64_C(1000000);
  /* an Odoo server error: that row failed, the run goes on */
  fake_odoo_do("fail", "{\"status\": 500, \"count\": 1, \"body\": {\"name\": \"builtins.RuntimeError\", "
                       "\"message\": \"disk on fire\"}}");
  r = push(o, FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_push_report_failed(r), 1);
  fastepost_odoo_push_report_free(r);
  cr_assert(strstr(fptest_scalar("SELECT attempts || ' ' || last_error FROM fastepost_sync_outbox"), "2 Odoo "),
            "%s", fptest_scalar("SELECT last_error FROM fastepost_sync_outbox"));
  cr_assert(strstr(fptest_scalar("SELECT last_error FROM fastepost_sync_outbox"), "disk on fire"));
  /* the backoff doubles: 60 s now */
  cr_assert_eq(fptest_count("SELECT extract(epoch FROM next_attempt_at - (SELECT max(processed_at) FROM "
                            "integration_events))::int FROM fastepost_sync_outbox"), 60);
  test_now_us += 61 * INT64_C(1000000);
  /* a slow Odoo: ETIMEOUT within the bound, the row stays */
  fake_odoo_do("slow", "{\"seconds\": 3, \"count\": 1}");
  cr_assert_eq(fastepost_odoo_sync_options_set_timeouts(o, 0, 500000), 0);
  r = push(o, FASTEPOST_ETIMEOUT);
  fastepost_odoo_push_report_free(r);
  cr_assert_eq(queued(), 1);
  cr_assert_eq(fptest_count("SELECT attempts FROM fastepost_sync_outbox"), 3);
  json_object *doc = odoo_record(1);
  cr_assert_str_eq(field(doc, "name"), "Partner 1"); /* nothing was written */
  json_object_put(doc);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE event_type = 'res.partner.push' AND "
                            "status = 'error'"), 3);
  /* later, it goes through, and the row is gone */
  test_now_us += 3600 * INT64_C(1000000);
  cr_assert_eq(fastepost_odoo_sync_options_set_timeouts(o, 0, 0), 0);
  r = push(o, FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_push_report_written(r), 1);
  fastepost_odoo_push_report_free(r);
  cr_assert_eq(queued(), 0);
  /* no URL, no key */
  fastepost_odoo_sync_options *bare = NULL;
  cr_assert_eq(fastepost_odoo_sync_options_new(&bare), 0);
  cr_assert_eq(fastepost_odoo_push(&r, fptest_conn(), bare), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_sync_options_set_url(bare, fo.url), 0);
  cr_assert_eq(fastepost_odoo_push(&r, fptest_conn(), bare), FASTEPOST_ENOKEY);
  fastepost_odoo_sync_options_free(bare);
  fastepost_odoo_sync_options_free(o);
}

/* Another session changes the customer while the push waits for Odoo. */
static void *change_meanwhile(void *arg) {
  (void)arg;
  fake_odoo_sleep_ms(400);
  PGconn *pg = PQconnectdb(fptest_current.conninfo);
  PGresult *res = PQexec(pg, "UPDATE customers SET name = 'Second' WHERE crm_id = 'res.partner:1'");
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  PQclear(res);
  PQfinish(pg);
  return ok ? arg : NULL;
}

Test(odoo_push, a_change_made_while_pushing_is_pushed_next_time) {
  pulled_partners(1);
  fptest_exec("UPDATE customers SET name = 'First' WHERE crm_id = 'res.partner:1'");
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  cr_assert_eq(fastepost_odoo_sync_options_set_push_limit(o, 1), 0);
  fastepost_odoo_push_report *r = NULL;
  /* Odoo answers the first request (the read of write_date) slowly: the push has read the
   * customer ("First") and waits; meanwhile the name changes to "Second" (a new revision of the queued row) */
  fake_odoo_do("slow", "{\"seconds\": 1.5, \"count\": 1}");
  pthread_t t;
  static int token;
  cr_assert_eq(pthread_create(&t, NULL, change_meanwhile, &token), 0);
  r = push(o, FASTEPOST_OK);
  void *ok = NULL;
  pthread_join(t, &ok);
  cr_assert_not_null(ok);
  cr_assert_eq(fastepost_odoo_push_report_written(r), 1);
  fastepost_odoo_push_report_free(r);
  json_object *doc = odoo_record(1);
  cr_assert_str_eq(field(doc, "name"), "First");
  json_object_put(doc);
  /* the row was not removed: it holds a change Odoo has not seen, due at once */
  cr_assert_str_eq(fptest_scalar("SELECT attempts || ' ' || coalesce(next_attempt_at::text, 'due') FROM "
                                 "fastepost_sync_outbox"), "0 due");
  r = push(o, FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_push_report_written(r), 1);
  cr_assert_eq(fastepost_odoo_push_report_conflicts(r), 0); /* our own write is the synced version */
  fastepost_odoo_push_report_free(r);
  cr_assert_eq(queued(), 0);
  doc = odoo_record(1);
  cr_assert_str_eq(field(doc, "name"), "Second");
  json_object_put(doc);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_push, cli_push_prints_counts) {
  pulled_partners(2);
  fptest_exec("UPDATE customers SET email = 'moved@push.example' WHERE crm_id = 'res.partner:2'");
  char dir[256], keyfile[300], out[8192];
  fptest_tmpdir(dir, sizeof dir, "odoopush");
  snprintf(keyfile, sizeof keyfile, "%s/key", dir);
  fptest_write_file(keyfile, KEY "\n", 0600);
  cr_assert_eq(fptest_cli_db(out, sizeof out, "odoo push --url '%s' --database fake --api-key-file '%s' --json",
                             fo.url, keyfile),
               0, "%s", out);
  cr_assert(strstr(out, "{\"status\":\"ok\",\"attempted\":1,\"written\":1,\"created\":0,\"conflicts\":0,"
                        "\"skipped\":0,\"failed\":0}"),
            "%s", out);
  cr_assert_null(strstr(out, KEY));
  cr_assert_eq(fptest_cli_db(out, sizeof out, "odoo push --url '%s' --api-key-file '%s' --prefer local --limit 5",
                             fo.url, keyfile),
               0, "%s", out);
  cr_assert(strstr(out, "pushed: attempted 0 written 0"), "%s", out);
  /* usage errors: exit 2 */
  cr_assert_eq(fptest_cli_db(out, sizeof out, "odoo push --url '%s' --api-key-file '%s' --prefer newest", fo.url,
                             keyfile),
               2, "%s", out);
  cr_assert_eq(fptest_cli_db(out, sizeof out, "odoo push --url '%s'", fo.url), 2, "%s", out);
  /* a wrong key: exit 1, 401, the row kept */
  fptest_exec("UPDATE customers SET email = 'again@push.example' WHERE crm_id = 'res.partner:2'");
  fptest_write_file(keyfile, "wrong-key-9999\n", 0600);
  cr_assert_eq(fptest_cli_db(out, sizeof out, "odoo push --url '%s' --api-key-file '%s' --json", fo.url, keyfile), 1,
               "%s", out);
  cr_assert(strstr(out, "\"http_status\":401"), "%s", out);
  cr_assert_null(strstr(out, "wrong-key-9999"));
  cr_assert_eq(queued(), 1);
  fptest_rmtree(dir);
}
