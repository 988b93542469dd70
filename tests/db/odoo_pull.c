/* SPDX-License-Identifier: MIT */
/* The Odoo reconciliation pull (fastepost/odoo_sync.h) against the stand-in Odoo server
 * (tests/fake_odoo/): counts, cursor, overlap, paging, deletions, errors, webhook then pull. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fake_odoo/harness.h"
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
TestSuite(odoo_pull, .init = setup, .fini = teardown, .timeout = 120);


static fastepost_status pull(fastepost_odoo_pull_report **r, const fastepost_odoo_sync_options *o) {
  fastepost_odoo_pull_report_free(*r);
  *r = NULL;
  return fastepost_odoo_pull(r, fptest_conn(), o);
}

static uint64_t count(const fastepost_odoo_pull_report *r, fastepost_outcome oc) {
  return fastepost_odoo_pull_report_outcome_count(r, oc);
}

/* n partners, partner i written in a transaction that started at 2026-01-01 10:00:<i>.5 */
static void partners(int n) {
  for (int i = 1; i <= n; i++) {
    char json[512];
    snprintf(json, sizeof json,
             "{\"model\": \"res.partner\", \"id\": %d, \"values\": {\"name\": \"Partner %d\", \"email\": "
             "\"p%d@pull.example\"}, \"tx_start\": \"2026-01-01 10:%02d:%02d.5\"}",
             i, i, i, i / 60, i % 60);
    fake_odoo_do("write", json);
  }
}

static const char *cursor_text(const char *model) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT cursor_at::text FROM fastepost_sync_cursors WHERE source = 'odoo' AND model = '%s'",
           model);
  return fptest_scalar(sql);
}

static void full_pull_then_idempotent(fastepost_odoo_sync_protocol proto) {
  partners(25);
  fastepost_odoo_sync_options *o = fake_odoo_options(proto);
  cr_assert_eq(fastepost_odoo_sync_options_set_page_size(o, 10), 0);
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_eq(pull(&r, o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_odoo_pull_report_fetched(r), 25);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_CREATED), 25);
  cr_assert_eq(fastepost_odoo_pull_report_pages(r), 3);
  cr_assert_eq(fastepost_odoo_pull_report_failed(r), 0);
  cr_assert_eq(fastepost_odoo_pull_report_model_count(r), 1);
  cr_assert_str_eq(fastepost_odoo_pull_report_model(r, 0), "res.partner");
  /* 10:00:25 (Odoo answers whole seconds): 1767261625 */
  cr_assert_eq(fastepost_odoo_pull_report_cursor_us(r, 0), INT64_C(1767261625) * 1000000);
  cr_assert_str_eq(cursor_text("res.partner"), "2026-01-01 10:00:25");
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE crm_source = 'odoo'"), 25);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE event_type = 'res.partner.pull' "
                            "AND source = 'odoo'"), 25);
  cr_assert_str_eq(fptest_scalar("SELECT name || ' ' || email FROM customers WHERE crm_id = 'res.partner:7'"),
                   "Partner 7 p7@pull.example");
  /* again: the overlap reads them all again, and nothing changes or is logged twice */
  cr_assert_eq(pull(&r, o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_odoo_pull_report_fetched(r), 25);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_DUPLICATE), 25);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_CREATED) + count(r, FASTEPOST_OUTCOME_UPDATED), 0);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events"), 25);
  cr_assert_str_eq(cursor_text("res.partner"), "2026-01-01 10:00:25");
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_pull, full_pull_then_idempotent_json2) { full_pull_then_idempotent(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2); }
Test(odoo_pull, full_pull_then_idempotent_jsonrpc) { full_pull_then_idempotent(FASTEPOST_ODOO_SYNC_PROTOCOL_JSONRPC); }
Test(odoo_pull, full_pull_then_idempotent_detected) { full_pull_then_idempotent(FASTEPOST_ODOO_SYNC_PROTOCOL_AUTO); }

Test(odoo_pull, a_late_commit_with_an_older_write_date_is_caught_by_the_overlap) {
  partners(10); /* cursor 10:00:10 */
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_eq(pull(&r, o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_CREATED), 10);
  /* a transaction that started at 10:00:05 commits only now */
  fake_odoo_do("write", "{\"model\": \"res.partner\", \"id\": 50, \"values\": {\"name\": \"Late\", \"email\": "
                        "\"late@pull.example\"}, \"tx_start\": \"2026-01-01 10:00:05.9\"}");
  /* an overlap of 1 s misses it: a strict cursor would lose it for ever */
  cr_assert_eq(fastepost_odoo_sync_options_set_overlap(o, 1000000), 0);
  cr_assert_eq(pull(&r, o), 0);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_CREATED), 0);
  cr_assert_eq(fastepost_odoo_pull_report_fetched(r), 2); /* 10:00:09 and 10:00:10 again */
  /* the default 300 s catches it */
  cr_assert_eq(fastepost_odoo_sync_options_set_overlap(o, 0), 0);
  cr_assert_eq(pull(&r, o), 0);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_CREATED), 1);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_DUPLICATE), 10);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE crm_id = 'res.partner:50'"), 1);
  cr_assert_str_eq(cursor_text("res.partner"), "2026-01-01 10:00:10"); /* never moved back */
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_pull, since_and_full_choose_the_window) {
  partners(6);
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  cr_assert_eq(fastepost_odoo_sync_options_set_overlap(o, 1000000), 0);
  cr_assert_eq(fastepost_odoo_sync_options_set_since(o, INT64_C(1767261604) * 1000000), 0); /* 10:00:04 */
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_eq(pull(&r, o), 0);
  cr_assert_eq(fastepost_odoo_pull_report_fetched(r), 4); /* 10:00:03 .. 10:00:06 */
  cr_assert_eq(fastepost_odoo_sync_options_set_full(o, 1), 0);
  cr_assert_eq(pull(&r, o), 0);
  cr_assert_eq(fastepost_odoo_pull_report_fetched(r), 6);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_CREATED), 2);
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_pull, archived_records_are_pulled_and_make_the_customer_inactive) {
  partners(3);
  fake_odoo_do("write", "{\"id\": 2, \"values\": {\"active\": false}, \"tx_start\": \"2026-01-01 10:00:30\"}");
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSONRPC);
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_eq(pull(&r, o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_odoo_pull_report_fetched(r), 3);
  cr_assert_str_eq(fptest_scalar("SELECT active::text FROM customers WHERE crm_id = 'res.partner:2'"), "false");
  cr_assert_str_eq(fptest_scalar("SELECT active::text FROM customers WHERE crm_id = 'res.partner:3'"), "true");
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_pull, the_cursor_moves_only_after_a_committed_page) {
  partners(6);
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  cr_assert_eq(fastepost_odoo_sync_options_set_page_size(o, 2), 0);
  /* fields_get and page 1 pass; page 2 gets a server error */
  fake_odoo_do("fail", "{\"status\": 500, \"count\": 1, \"skip\": 2, \"body\": {\"name\": "
                       "\"builtins.RuntimeError\", \"message\": \"disk on fire\"}}");
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_eq(pull(&r, o), FASTEPOST_EEXTERNAL);
  cr_assert(strstr(fastepost_error_last()->message, "disk on fire"), "%s", fastepost_error_last()->message);
  cr_assert_not_null(r);
  cr_assert_eq(fastepost_odoo_pull_report_pages(r), 1);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_CREATED), 2);
  cr_assert_str_eq(cursor_text("res.partner"), "2026-01-01 10:00:02");
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 2);
  /* the next pull goes on from there */
  cr_assert_eq(pull(&r, o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_CREATED), 4);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_DUPLICATE), 2);
  cr_assert_str_eq(cursor_text("res.partner"), "2026-01-01 10:00:06");
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

/* A page as large as the API allows: 5000 partners with an email and a phone each. One
 * transaction for all of them would hold ~15,000 advisory locks (one per contact key, to the
 * commit), more than PostgreSQL's whole lock table by default (max_locks_per_transaction 64 x
 * max_connections 100): "out of shared memory", and a third of the page failed unlogged. */
Test(odoo_pull, the_largest_page_fits_in_the_servers_lock_table) {
  fake_odoo_do("bulk", "{\"model\": \"res.partner\", \"count\": 5000, \"tx_start\": \"2026-01-01 10:00:00\"}");
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  cr_assert_eq(fastepost_odoo_sync_options_set_page_size(o, FASTEPOST_ODOO_SYNC_MAX_PAGE_SIZE), 0);
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_eq(pull(&r, o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_odoo_pull_report_failed(r), 0);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_CREATED), 5000);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE status = 'success'"), 5000);
  cr_assert_str_eq(cursor_text("res.partner"), "2026-01-01 10:00:00");
  fptest_assert_counters_exact();
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

/* A record whose failure cannot be logged either (here a trigger refuses its event row both
 * times) would be lost if the cursor moved past it: the pull stops with the record's error and
 * the cursor stays before the page, which is read again by the next pull. */
Test(odoo_pull, a_record_that_cannot_be_logged_keeps_the_cursor_before_it) {
  partners(6);
  fptest_exec("CREATE FUNCTION refuse_4() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
              "IF NEW.external_id LIKE '%:4' THEN RAISE EXCEPTION 'event row refused'; END IF; RETURN NEW; END $$");
  fptest_exec("CREATE TRIGGER refuse_4 BEFORE INSERT ON integration_events FOR EACH ROW EXECUTE FUNCTION refuse_4()");
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  cr_assert_eq(fastepost_odoo_sync_options_set_page_size(o, 2), 0);
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_neq(pull(&r, o), 0);
  cr_assert(strstr(fastepost_error_last()->message, "event row refused"), "%s", fastepost_error_last()->message);
  cr_assert(strstr(fastepost_error_last()->message, "were not logged"), "%s", fastepost_error_last()->message);
  cr_assert_not_null(r);
  cr_assert_eq(fastepost_odoo_pull_report_failed(r), 1);
  cr_assert_str_eq(cursor_text("res.partner"), "2026-01-01 10:00:02");
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE crm_id = 'res.partner:5'"), 0);
  fptest_exec("DROP TRIGGER refuse_4 ON integration_events");
  cr_assert_eq(pull(&r, o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_odoo_pull_report_failed(r), 0);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE crm_source = 'odoo'"), 6);
  cr_assert_str_eq(cursor_text("res.partner"), "2026-01-01 10:00:06");
  fptest_assert_counters_exact();
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

/* JSON-2 options with pages of 2 records and a progress callback (called after each page). */
static fastepost_odoo_sync_options *pages_of_2(fastepost_progress_cb cb, void *payload) {
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  cr_assert_eq(fastepost_odoo_sync_options_set_page_size(o, 2), 0);
  cr_assert_eq(fastepost_odoo_sync_options_set_progress(o, cb, payload), 0);
  return o;
}

/* Stops after the first page. */
static int stop_at_once(uint64_t rows, uint64_t bytes, void *payload) {
  (void)bytes;
  *(uint64_t *)payload = rows;
  return 1;
}

/* The page fetched ahead while page 1 is applied (slow here: still in flight at the stop) is
 * waited for and dropped: neither applied nor counted. */
Test(odoo_pull, a_stopped_pull_keeps_what_was_committed) {
  partners(5);
  uint64_t seen = 0;
  fastepost_odoo_sync_options *o = pages_of_2(stop_at_once, &seen);
  /* fields_get and page 1 pass; page 2 answers after a second */
  fake_odoo_do("slow", "{\"seconds\": 1, \"count\": 1, \"skip\": 2}");
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_eq(pull(&r, o), FASTEPOST_ECANCELED);
  cr_assert_eq(seen, 2);
  cr_assert_eq(fastepost_odoo_pull_report_fetched(r), 2);
  cr_assert_eq(fastepost_odoo_pull_report_pages(r), 1);
  cr_assert_str_eq(cursor_text("res.partner"), "2026-01-01 10:00:02");
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 2);
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

/* After the first page, record 1 changes in Odoo: it leaves the frozen window and every offset
 * shifts by one. Without the check, record 3 would be skipped. */
static int change_record_1(uint64_t rows, uint64_t bytes, void *payload) {
  (void)bytes;
  (void)payload;
  if (rows == 2)
    fake_odoo_do("write", "{\"id\": 1, \"values\": {\"name\": \"Changed\"}}");
  return 0;
}

Test(odoo_pull, a_window_that_shifts_while_paging_loses_nothing) {
  partners(6);
  fastepost_odoo_sync_options *o = pages_of_2(change_record_1, NULL);
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_eq(pull(&r, o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_CREATED), 6);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 6);
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

/* How many search_read requests the stand-in has seen (its log). */
static int search_reads_seen(void) {
  char *log = fake_odoo_admin("log", "{}");
  int n = 0;
  for (const char *p = log; (p = strstr(p, "/search_read")); p++)
    n++;
  free(log);
  return n;
}

/* After page 1 is committed: waits (up to 10 s) for the request of page 2, which comes only if
 * it was sent while page 1 was being applied; a sequential pull sends it after this returns. */
static int wait_for_page_2(uint64_t rows, uint64_t bytes, void *payload) {
  (void)bytes;
  if (rows == 2) {
    int seen = search_reads_seen();
    for (int i = 0; i < 200 && seen < 2; i++) {
      fake_odoo_sleep_ms(50);
      seen = search_reads_seen();
    }
    *(int *)payload = seen;
  }
  return 0;
}

Test(odoo_pull, the_next_page_is_fetched_while_one_is_applied) {
  partners(5);
  int seen_at_page_1 = 0;
  fastepost_odoo_sync_options *o = pages_of_2(wait_for_page_2, &seen_at_page_1);
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_eq(pull(&r, o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(seen_at_page_1, 2, "page 2 was not asked for while page 1 was applied");
  /* no page fetched twice, none lost: 2 + 2 + 1 */
  cr_assert_eq(search_reads_seen(), 3);
  cr_assert_eq(fastepost_odoo_pull_report_pages(r), 3);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_CREATED), 5);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 5);
  cr_assert_str_eq(cursor_text("res.partner"), "2026-01-01 10:00:05");
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_pull, deleted_records_make_their_customers_inactive) {
  partners(5);
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_eq(pull(&r, o), 0);
  fake_odoo_do("write", "{\"id\": 4, \"values\": {\"active\": false}, \"tx_start\": \"2026-01-01 10:00:40\"}");
  fake_odoo_do("unlink", "{\"ids\": [2, 3]}");
  cr_assert_eq(fastepost_odoo_sync_options_set_detect_deletions(o, 1), 0);
  cr_assert_eq(pull(&r, o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_odoo_pull_report_deleted(r), 2); /* archived 4 is not deleted */
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE NOT active"), 3);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE event_type = 'res.partner.unlink'"), 2);
  cr_assert_eq(pull(&r, o), 0);
  cr_assert_eq(fastepost_odoo_pull_report_deleted(r), 0);
  /* Odoo says it has nothing at all: a wrong database, not everything deleted */
  fake_odoo_do("unlink", "{\"ids\": [1, 4, 5]}");
  cr_assert_eq(pull(&r, o), FASTEPOST_ECONFLICT);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE active"), 2); /* 1 and 5 untouched */
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_pull, leads_are_pulled_too) {
  fake_odoo_do("write", "{\"model\": \"crm.lead\", \"id\": 3, \"values\": {\"name\": \"Big deal\", \"email_from\": "
                        "\"Jane Roe <jane@lead.example>\", \"contact_name\": \"Jane Roe\", \"type\": \"lead\"}, "
                        "\"tx_start\": \"2026-01-01 11:00:00\"}");
  partners(1);
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSONRPC);
  cr_assert_eq(fastepost_odoo_sync_options_set_models(o, "res.partner, crm.lead"), 0);
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_eq(pull(&r, o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_odoo_pull_report_fetched(r), 2);
  cr_assert_eq(fastepost_odoo_pull_report_model_count(r), 2);
  cr_assert_str_eq(fastepost_odoo_pull_report_model(r, 1), "crm.lead");
  cr_assert_str_eq(cursor_text("crm.lead"), "2026-01-01 11:00:00");
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE email = 'jane@lead.example'"), 1);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE event_type = 'crm.lead.pull'"), 1);
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_pull, a_webhook_delivery_then_the_pull_changes_nothing_twice) {
  partners(3);
  fastepost_odoo_options *wo = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&wo), 0);
  cr_assert_eq(fastepost_odoo_options_add_api_key(wo, "hook"), 0);
  /* the native webhook of partner 1 (microseconds kept) */
  const char *native = "{\"_model\": \"res.partner\", \"_id\": 1, \"name\": \"Partner 1\", \"email\": "
                       "\"p1@pull.example\", \"write_date\": \"2026-01-01 10:00:01.500000\"}";
  cr_assert_eq(fastepost_odoo_process(NULL, fptest_conn(), "hook", native, strlen(native), wo), 0);
  /* partner 2 relayed as a JSON-RPC read() result (whole seconds), with the model hint */
  const char *relayed = "{\"jsonrpc\": \"2.0\", \"id\": 4711, \"result\": [{\"id\": 2, \"name\": \"Partner 2\", "
                        "\"email\": \"p2@pull.example\", \"write_date\": \"2026-01-01 10:00:02\"}]}";
  cr_assert_eq(fastepost_odoo_options_set_model(wo, "res.partner"), 0);
  cr_assert_eq(fastepost_odoo_process(NULL, fptest_conn(), "hook", relayed, strlen(relayed), wo), 0);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 2);
  const char *before = fptest_scalar("SELECT string_agg(updated_at::text, ',' ORDER BY id) FROM customers");
  char *saved = strdup(before);
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_eq(pull(&r, o), 0);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_CREATED), 1); /* partner 3, which no webhook brought */
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_DUPLICATE), 1); /* the relayed one: same record, same version */
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_STALE) + count(r, FASTEPOST_OUTCOME_UNCHANGED), 1); /* the native one */
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_UPDATED), 0);
  cr_assert_str_eq(fptest_scalar("SELECT string_agg(updated_at::text, ',' ORDER BY id) FROM customers WHERE id <= 2"),
                   saved);
  free(saved);
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
  fastepost_odoo_options_free(wo);
}

Test(odoo_pull, the_model_hint_maps_a_relayed_read) {
  const char *relayed = "{\"jsonrpc\": \"2.0\", \"id\": 4711, \"result\": [{\"id\": 9, \"name\": \"Hinted\", "
                        "\"email\": \"hint@pull.example\", \"write_date\": \"2026-01-01 10:00:02\"}]}";
  fastepost_odoo_options *wo = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&wo), 0);
  cr_assert_eq(fastepost_odoo_options_set_host_authenticated(wo, 1), 0);
  fastepost_event_result *res = NULL;
  cr_assert_eq(fastepost_odoo_process(&res, fptest_conn(), NULL, relayed, strlen(relayed), wo), 0);
  cr_assert_eq(fastepost_event_result_outcome(res), FASTEPOST_OUTCOME_IGNORED);
  fastepost_event_result_free(res);
  cr_assert_eq(fastepost_odoo_options_set_model(wo, "Res Partner"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_options_set_model(wo, "res.partner."), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_options_set_model(NULL, "res.partner"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_options_set_model(wo, "res.partner"), 0);
  cr_assert_eq(fastepost_odoo_process(&res, fptest_conn(), NULL, relayed, strlen(relayed), wo), 0);
  cr_assert_eq(fastepost_event_result_outcome(res), FASTEPOST_OUTCOME_CREATED);
  cr_assert_str_eq(fptest_scalar("SELECT crm_id || ' ' || name FROM customers"), "res.partner:9 Hinted");
  cr_assert_str_eq(fptest_scalar("SELECT event_type FROM integration_events ORDER BY id DESC LIMIT 1"), "res.partner");
  fastepost_event_result_free(res);
  /* a body that names its model keeps it */
  const char *lead = "{\"_model\": \"crm.lead\", \"_id\": 5, \"name\": \"Lead\", \"email_from\": \"l@pull.example\"}";
  cr_assert_eq(fastepost_odoo_process(&res, fptest_conn(), NULL, lead, strlen(lead), wo), 0);
  cr_assert_str_eq(fptest_scalar("SELECT event_type FROM integration_events ORDER BY id DESC LIMIT 1"), "crm.lead");
  fastepost_event_result_free(res);
  fastepost_odoo_options_free(wo);
}

Test(odoo_pull, failures_write_nothing_and_name_no_key) {
  partners(2);
  fastepost_odoo_pull_report *r = NULL;
  fastepost_odoo_sync_options *o = NULL;
  cr_assert_eq(fastepost_odoo_sync_options_new(&o), 0);
  cr_assert_eq(pull(&r, o), FASTEPOST_EINVALID); /* no URL */
  cr_assert_eq(fastepost_odoo_sync_options_set_url(o, fo.url), 0);
  cr_assert_eq(pull(&r, o), FASTEPOST_ENOKEY);
  cr_assert_eq(fastepost_odoo_sync_options_set_api_key(o, "not-the-key-4242"), 0);
  cr_assert_eq(pull(&r, o), FASTEPOST_EAUTH);
  cr_assert_null(strstr(fastepost_error_last()->message, "not-the-key-4242"));
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 0);
  cr_assert_str_eq(cursor_text("res.partner"), "<none>");
  fastepost_odoo_sync_options_free(o);
  /* bad options */
  o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  cr_assert_eq(fastepost_odoo_sync_options_set_url(o, "https://bot:pw@odoo.example"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_sync_options_set_url(o, "ftp://odoo.example"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_sync_options_set_models(o, "res.partner,sale.order"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_sync_options_set_models(o, " , "), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_sync_options_set_page_size(o, 5001), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_sync_options_set_overlap(o, -1), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_sync_options_set_since(o, -5), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_sync_options_set_api_key(o, ""), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_sync_options_set_protocol(o, (fastepost_odoo_sync_protocol)7), FASTEPOST_EINVALID);
  fastepost_odoo_sync_protocol p;
  cr_assert_eq(fastepost_odoo_sync_protocol_parse(&p, "jsonrpc"), 0);
  cr_assert_eq(p, FASTEPOST_ODOO_SYNC_PROTOCOL_JSONRPC);
  cr_assert_eq(fastepost_odoo_sync_protocol_parse(&p, "xmlrpc"), FASTEPOST_EINVALID);
  cr_assert_str_eq(fastepost_odoo_sync_protocol_name(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2), "json2");
  /* a slow Odoo: ETIMEOUT within the bound */
  fake_odoo_do("slow", "{\"seconds\": 3, \"count\": 1}");
  cr_assert_eq(fastepost_odoo_sync_options_set_timeouts(o, 0, 500000), 0);
  cr_assert_eq(pull(&r, o), FASTEPOST_ETIMEOUT);
  /* 429 with Retry-After: waited for, then pulled */
  fake_odoo_do("fail", "{\"status\": 429, \"retry_after\": 1, \"count\": 1}");
  cr_assert_eq(pull(&r, o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(count(r, FASTEPOST_OUTCOME_CREATED), 2);
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_pull, answers_of_the_wrong_shape_are_refused_and_bad_records_logged) {
  partners(2);
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  fastepost_odoo_pull_report *r = NULL;
  /* fields_get passes, search_read answers a JSON string instead of a list */
  fake_odoo_do("fail", "{\"status\": 200, \"count\": 1, \"skip\": 1, \"body\": \"garbage\"}");
  cr_assert_eq(pull(&r, o), FASTEPOST_EPARSE);
  cr_assert(strstr(fastepost_error_last()->message, "not a list"), "%s", fastepost_error_last()->message);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers"), 0);
  /* a record with fields of the wrong type, and one with an invalid email: each stands alone */
  fake_odoo_do("write", "{\"id\": 3, \"values\": {\"name\": [1, 2, 3], \"email\": 42}, "
                        "\"tx_start\": \"2026-01-01 10:00:03\"}");
  fake_odoo_do("write", "{\"id\": 4, \"values\": {\"name\": \"Bad \\u00e9 mail\", \"email\": \"not an email\"}, "
                        "\"tx_start\": \"2026-01-01 10:00:04\"}");
  cr_assert_eq(pull(&r, o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_odoo_pull_report_fetched(r), 4);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE crm_id IN ('res.partner:1', 'res.partner:2')"), 2);
  cr_assert_eq(fastepost_odoo_pull_report_failed(r) + count(r, FASTEPOST_OUTCOME_CREATED) +
                   count(r, FASTEPOST_OUTCOME_IGNORED),
               4);
  cr_assert_str_eq(cursor_text("res.partner"), "2026-01-01 10:00:04");
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
}

Test(odoo_pull, cli_pull_prints_counts_and_cursor) {
  partners(4);
  char dir[256], keyfile[300], out[8192], args[2048];
  fptest_tmpdir(dir, sizeof dir, "odoopull");
  snprintf(keyfile, sizeof keyfile, "%s/key", dir);
  fptest_write_file(keyfile, KEY "\n", 0600);
  snprintf(args, sizeof args, "--db '%s' odoo pull --url '%s' --database fake --api-key-file '%s' --page-size 3 --json",
           fptest_current.conninfo, fo.url, keyfile);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "{\"status\":\"ok\",\"fetched\":4,\"created\":4,\"updated\":0,\"unchanged\":0,\"stale\":0,"
                        "\"ignored\":0,\"conflict\":0,\"duplicate\":0,\"failed\":0,\"deleted\":0,\"pages\":2,"
                        "\"cursors\":{\"res.partner\":\"2026-01-01T10:00:04Z\"}}"),
            "%s", out);
  cr_assert_null(strstr(out, KEY));
  snprintf(args, sizeof args, "--db '%s' odoo pull --url '%s' --api-key-file '%s' --since 2026-01-01T10:00:03Z "
           "--overlap 0 --protocol json2",
           fptest_current.conninfo, fo.url, keyfile);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  /* Odoo's domain has whole seconds: the lower bound 10:00:02.999999 becomes 10:00:02 */
  cr_assert(strstr(out, "fetched 3: created 0 updated 0 unchanged 0 stale 0 ignored 0 conflict 0 duplicate 3"), "%s", out);
  /* usage errors: exit 2 */
  snprintf(args, sizeof args, "--db '%s' odoo pull --url '%s' --api-key-file '%s' --since yesterday",
           fptest_current.conninfo, fo.url, keyfile);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 2, "%s", out);
  snprintf(args, sizeof args, "odoo pull --url '%s'", fo.url);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 2, "%s", out);
  /* a wrong key: exit 1 with the JSON error, 401 */
  fptest_write_file(keyfile, "wrong\n", 0600);
  snprintf(args, sizeof args, "--db '%s' odoo pull --url '%s' --api-key-file '%s' --json", fptest_current.conninfo,
           fo.url, keyfile);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 1, "%s", out);
  cr_assert(strstr(out, "\"code\":\"FASTEPOST_EAUTH\"") || strstr(out, "FASTEPOST_EAUTH"), "%s", out);
  cr_assert(strstr(out, "\"http_status\":401"), "%s", out);
  fptest_rmtree(dir);
}

Test(odoo_pull, cli_process_takes_the_model_hint) {
  char dir[256], body[300], out[4096], args[2048];
  fptest_tmpdir(dir, sizeof dir, "odoohint");
  snprintf(body, sizeof body, "%s/read.json", dir);
  fptest_write_file(body, "{\"jsonrpc\": \"2.0\", \"id\": 1, \"result\": [{\"id\": 3, \"name\": \"Via CLI\"}]}", 0600);
  setenv("ODOO_API_KEY", "s3cret", 1);
  snprintf(args, sizeof args, "--db '%s' odoo process --model res.partner --json '%s'", fptest_current.conninfo, body);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "\"outcome\":\"created\""), "%s", out);
  snprintf(args, sizeof args, "--db '%s' odoo process --model 'Bad Model' '%s'", fptest_current.conninfo, body);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 2, "%s", out);
  fptest_rmtree(dir);
}
