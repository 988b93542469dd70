/* SPDX-License-Identifier: MIT */
/* Odoo ingestion against a real database: every mapping rule and outcome. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "retry_counts.h"
#include "testdb.h"

TestSuite(odoo, .init = fptest_setup_schema, .fini = fptest_teardown);

static int64_t fixed_clock(void *payload) {
  (void)payload;
  return 1722513600LL * 1000000 + 123456; /* 2024-08-01 12:00:00.123456 UTC */
}

#define KEY "odoo-test-key-1"

/* New options that accept KEY (free them). */
static fastepost_odoo_options *new_options(void) {
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_add_api_key(o, KEY), FASTEPOST_OK);
  return o;
}

/* Options that accept KEY, for calls that used the defaults (each test runs in its own process). */
static const fastepost_odoo_options *keyed(void) {
  static fastepost_odoo_options *o;
  if (!o)
    o = new_options();
  return o;
}

/* n copies of KEY, for batches. */
static const char *const *keys(size_t n) {
  static const char *k[64];
  cr_assert_leq(n, 64);
  for (size_t i = 0; i < n; i++)
    k[i] = KEY;
  return k;
}

static fastepost_status process(fastepost_event_result **r, const char *body, const char *hint) {
  fastepost_odoo_options *o = new_options();
  if (hint)
    cr_assert_eq(fastepost_odoo_options_set_event(o, hint), FASTEPOST_OK);
  fastepost_odoo_options_set_clock(o, fixed_clock, NULL);
  fastepost_status st = fastepost_odoo_process(r, fptest_conn(), KEY, body, strlen(body), o);
  fastepost_odoo_options_free(o);
  return st;
}

static char *fixture(const char *name) {
  char rel[256];
  snprintf(rel, sizeof rel, "tests/fixtures/odoo/%s", name);
  return fptest_read_file(fptest_source_path(rel), NULL);
}

/* Process a fixture, expect a status and an outcome; returns the result (free it). */
static fastepost_event_result *expect(const char *name, const char *hint, fastepost_status want,
                                      fastepost_outcome outcome) {
  char *body = fixture(name);
  fastepost_event_result *r = NULL;
  fastepost_status st = process(&r, body, hint);
  free(body);
  cr_assert_not_null(r);
  cr_assert_eq(st, want, "%s: status %s, want %s: %s", name, fastepost_error_name(st),
               fastepost_error_name(want), fastepost_event_result_error(r));
  cr_assert_eq(fastepost_event_result_code(r), want);
  cr_assert_eq(fastepost_event_result_outcome(r), outcome, "%s: outcome %s, want %s", name,
               fastepost_outcome_name(fastepost_event_result_outcome(r)), fastepost_outcome_name(outcome));
  return r;
}

static fastepost_event_result *expect_body(const char *body, const char *hint, fastepost_status want,
                                           fastepost_outcome outcome) {
  fastepost_event_result *r = NULL;
  fastepost_status st = process(&r, body, hint);
  cr_assert_eq(st, want, "status %s, want %s: %s", fastepost_error_name(st), fastepost_error_name(want),
               fastepost_event_result_error(r));
  cr_assert_eq(fastepost_event_result_outcome(r), outcome, "outcome %s, want %s",
               fastepost_outcome_name(fastepost_event_result_outcome(r)), fastepost_outcome_name(outcome));
  return r;
}

#define Q(sql) fptest_scalar(sql)
#define N(sql) fptest_count(sql)

Test(odoo, partner_creates_customer_with_every_mapping_rule) {
  fastepost_event_result *r = expect("partner_webhook.json", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_CREATED);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_str_eq(Q("SELECT name FROM customers"), "J\xc3\xbcrgen M\xc3\xbcller \xf0\x9f\x8c\x9f");
  cr_assert_str_eq(Q("SELECT email FROM customers"), "juergen.mueller@example.de");
  cr_assert_str_eq(Q("SELECT phone FROM customers"), "+49 170 1234567");
  cr_assert_str_eq(Q("SELECT company FROM customers"), "Stra\xc3\x9f" "enbau GmbH");
  cr_assert_str_eq(Q("SELECT address FROM customers"), "Friedrichstra\xc3\x9f" "e 123, 10117 Berlin, DE");
  cr_assert_str_eq(Q("SELECT crm_source || ' ' || crm_id FROM customers"), "odoo res.partner:42");
  cr_assert_str_eq(Q("SELECT crm_updated_at::text FROM customers"), "2024-05-03 14:22:07.48392");
  cr_assert_str_eq(Q("SELECT last_synced_at::text FROM customers"), "2024-08-01 12:00:00.123456");
  cr_assert_str_eq(Q("SELECT active::text FROM customers"), "true");
  cr_assert_eq(fastepost_event_result_customer_id(r), N("SELECT id FROM customers"));
  /* the HTML note became a remark */
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 1);
  cr_assert_str_eq(Q("SELECT body FROM remarks"), "Prefers morning deliveries & calls.\n\nGate code: 1234");
  cr_assert_str_eq(Q("SELECT source FROM remarks"), "odoo");
  cr_assert_eq(fastepost_event_result_remark_id(r), N("SELECT id FROM remarks"));
  cr_assert_eq(N("SELECT customer_id FROM remarks"), fastepost_event_result_customer_id(r));
  /* the event */
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1);
  cr_assert_str_eq(Q("SELECT concat_ws('|', source, event_type, status, outcome, external_id, "
                     "attempts, processed_at, customer_id IS NOT NULL, next_attempt_at IS NULL, "
                     "error_message IS NULL, length(idempotency_key)) FROM integration_events"),
                   "odoo|res.partner|success|created|res.partner:42|1|2024-08-01 12:00:00.123456|t|t|t|64");
  cr_assert_str_eq(Q("SELECT payload->>'name' FROM integration_events"), "J\xc3\xbcrgen M\xc3\xbcller \xf0\x9f\x8c\x9f");
  cr_assert_eq(fastepost_event_result_event_id(r), N("SELECT id FROM integration_events"));
  fastepost_event_result_free(r);
  fptest_assert_counters_exact();
}

Test(odoo, redelivery_is_a_duplicate_and_changes_nothing) {
  fastepost_event_result *r1 = expect("partner_webhook.json", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_CREATED);
  char before[256];
  snprintf(before, sizeof before, "%s", Q("SELECT updated_at::text || last_synced_at::text FROM customers"));
  fastepost_event_result *r2 = expect("partner_webhook.json", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_DUPLICATE);
  cr_assert_eq(fastepost_event_result_event_id(r2), fastepost_event_result_event_id(r1), "the first event's id");
  cr_assert_eq(fastepost_event_result_customer_id(r2), fastepost_event_result_customer_id(r1));
  cr_assert_eq(fastepost_event_result_remark_id(r2), 0);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 1);
  cr_assert_str_eq(Q("SELECT updated_at::text || last_synced_at::text FROM customers"), before);
  fastepost_event_result_free(r1);
  fastepost_event_result_free(r2);
  fptest_assert_counters_exact();
}

Test(odoo, newer_version_updates_older_is_stale_same_is_unchanged) {
  fastepost_event_result_free(expect_body("{\"_id\": 5, \"_model\": \"res.partner\", \"name\": \"A\", "
                                          "\"phone\": \"1\", \"write_date\": \"2024-05-01 10:00:00\"}",
                                          NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_CREATED));
  fastepost_event_result_free(expect_body("{\"_id\": 5, \"_model\": \"res.partner\", \"name\": \"A\", "
                                          "\"phone\": \"2\", \"write_date\": \"2024-05-02 10:00:00\"}",
                                          NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_UPDATED));
  cr_assert_str_eq(Q("SELECT phone FROM customers"), "2");
  cr_assert_str_eq(Q("SELECT crm_updated_at::text FROM customers"), "2024-05-02 10:00:00");
  fastepost_event_result *r = expect_body("{\"_id\": 5, \"_model\": \"res.partner\", \"name\": \"B\", "
                                          "\"phone\": \"3\", \"write_date\": \"2024-05-01 12:00:00\"}",
                                          NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_STALE);
  cr_assert_str_eq(Q("SELECT name || phone FROM customers"), "A2", "nothing applied");
  cr_assert_eq(fastepost_event_result_customer_id(r), N("SELECT id FROM customers"));
  cr_assert_str_eq(Q("SELECT status || outcome FROM integration_events ORDER BY id DESC LIMIT 1"), "successstale");
  fastepost_event_result_free(r);
  /* same content, newer stamp (a save that changed a field we do not map) */
  fastepost_event_result_free(expect_body("{\"_id\": 5, \"_model\": \"res.partner\", \"name\": \"A\", "
                                          "\"phone\": \"2\", \"write_date\": \"2024-05-03 10:00:00\"}",
                                          NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_UNCHANGED));
  cr_assert_str_eq(Q("SELECT crm_updated_at::text FROM customers"), "2024-05-03 10:00:00");
  /* absent fields are left alone; false clears */
  fastepost_event_result_free(expect_body("{\"_id\": 5, \"_model\": \"res.partner\", \"phone\": false, "
                                          "\"write_date\": \"2024-05-04 10:00:00\"}",
                                          NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_UPDATED));
  cr_assert_str_eq(Q("SELECT name || '|' || coalesce(phone, 'NULL') FROM customers"), "A|NULL");
  fptest_assert_counters_exact();
}

Test(odoo, unlink_and_archive_hints_deactivate) {
  fastepost_event_result_free(expect("partner_webhook.json", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_CREATED));
  fastepost_event_result *r = expect("partner_webhook.json", "unlink", FASTEPOST_OK, FASTEPOST_OUTCOME_UPDATED);
  cr_assert_str_eq(Q("SELECT active::text FROM customers"), "false");
  cr_assert_str_eq(Q("SELECT event_type FROM integration_events ORDER BY id DESC LIMIT 1"), "res.partner.unlink");
  fastepost_event_result_free(r);
  /* ids only with the hint: still enough to deactivate a known customer */
  fptest_exec("UPDATE customers SET active = true");
  fastepost_event_result_free(expect("partner_ids_only.json", "archive", FASTEPOST_OK, FASTEPOST_OUTCOME_UPDATED));
  cr_assert_str_eq(Q("SELECT active::text FROM customers"), "false");
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 1, "the same comment is not added twice");
  fptest_assert_counters_exact();
}

Test(odoo, email_of_another_partner_is_a_conflict_and_changes_nothing) {
  fastepost_event_result_free(expect_body("{\"_id\": 1, \"_model\": \"res.partner\", \"name\": \"A\", "
                                          "\"email\": \"same@x.de\"}", NULL, FASTEPOST_OK,
                                          FASTEPOST_OUTCOME_CREATED));
  fastepost_event_result *r = expect_body("{\"_id\": 2, \"_model\": \"res.partner\", \"name\": \"B\", "
                                          "\"email\": \"SAME@x.de\", \"comment\": \"<p>note</p>\"}",
                                          NULL, FASTEPOST_ECONFLICT, FASTEPOST_OUTCOME_CONFLICT);
  const char *msg = fastepost_event_result_error(r);
  cr_assert(strstr(msg, "res.partner:1") && strstr(msg, "res.partner:2"), "%s", msg);
  cr_assert_eq(fastepost_status_http(fastepost_event_result_code(r)), 409);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_str_eq(Q("SELECT name FROM customers"), "A");
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 0);
  cr_assert_str_eq(Q("SELECT status || '|' || outcome FROM integration_events ORDER BY id DESC LIMIT 1"),
                   "error|conflict");
  cr_assert(strstr(Q("SELECT error_message FROM integration_events ORDER BY id DESC LIMIT 1"), "res.partner:1"));
  fastepost_event_result_free(r);
  /* and a partner changing its email to one that belongs to another customer */
  fptest_exec("INSERT INTO customers (name, email) VALUES ('Rails', 'rails@x.de')");
  r = expect_body("{\"_id\": 1, \"_model\": \"res.partner\", \"email\": \"rails@x.de\"}", NULL,
                  FASTEPOST_ECONFLICT, FASTEPOST_OUTCOME_CONFLICT);
  cr_assert_str_eq(Q("SELECT email FROM customers WHERE crm_id = 'res.partner:1'"), "same@x.de");
  fastepost_event_result_free(r);
  fptest_assert_counters_exact();
}

Test(odoo, email_match_links_an_existing_customer) {
  fptest_exec("INSERT INTO customers (name, email, phone) VALUES ('Old', 'Juergen.Mueller@example.de', '0')");
  fastepost_event_result *r = expect("partner_webhook.json", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_UPDATED);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_str_eq(Q("SELECT crm_source || ' ' || crm_id || ' ' || phone FROM customers"),
                   "odoo res.partner:42 +49 170 1234567");
  fastepost_event_result_free(r);
  /* a customer of another source keeps its link */
  fptest_exec("INSERT INTO customers (name, email, crm_source, crm_id) VALUES ('H', 'h@x.de', 'hubspot', 'contact:1')");
  fastepost_event_result_free(expect_body("{\"_id\": 9, \"_model\": \"res.partner\", \"name\": \"H2\", "
                                          "\"email\": \"h@x.de\"}", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_UPDATED));
  cr_assert_str_eq(Q("SELECT name || ' ' || crm_source || ' ' || crm_id FROM customers WHERE email = 'h@x.de'"),
                   "H2 hubspot contact:1");
  fptest_assert_counters_exact();
}

Test(odoo, lead_creates_customer_and_one_remark_per_distinct_content) {
  fastepost_event_result *r = expect("lead_webhook.json", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_CREATED);
  cr_assert_str_eq(Q("SELECT concat_ws('|', name, email, phone, company, crm_id) FROM customers"),
                   "Jane Doe|jane.doe@example.com|+49 89 987654|Doe Logistics|crm.lead:118");
  cr_assert(strncmp(Q("SELECT body FROM remarks"), "Opportunity: Parcel contract 2024\n\nWants a quote", 47) == 0);
  cr_assert_str_eq(Q("SELECT left(external_key, 18) FROM remarks"), "odoo:crm.lead:118:");
  fastepost_event_result_free(r);
  /* a new version with the same content: no new remark */
  const char *same = "{\"_id\": 118, \"_model\": \"crm.lead\", \"name\": \"Parcel contract 2024\", \"type\": "
                     "\"opportunity\", \"description\": \"<p>Wants a quote for <strong>500</strong> "
                     "parcels/month.</p><ul><li>Start: June</li><li>Budget &lt; 10k&#8364;</li></ul>\", "
                     "\"email_from\": \"jane.doe@example.com\", \"write_date\": \"2024-05-07 00:00:00\"}";
  r = expect_body(same, NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_UNCHANGED);
  cr_assert_eq(fastepost_event_result_remark_id(r), 0);
  fastepost_event_result_free(r);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 1);
  /* a changed description adds one */
  r = expect_body("{\"_id\": 118, \"_model\": \"crm.lead\", \"name\": \"Parcel contract 2024\", \"type\": "
                  "\"opportunity\", \"description\": \"<p>Now 800 parcels.</p>\", \"email_from\": "
                  "\"jane.doe@example.com\", \"write_date\": \"2024-05-08 00:00:00\"}",
                  NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_UPDATED);
  cr_assert_neq(fastepost_event_result_remark_id(r), 0);
  fastepost_event_result_free(r);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 2);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_str_eq(Q("SELECT body FROM remarks ORDER BY id DESC LIMIT 1"),
                   "Opportunity: Parcel contract 2024\n\nNow 800 parcels.");
  fptest_assert_counters_exact();
}

Test(odoo, lead_matches_by_partner_then_email_then_phone) {
  fastepost_event_result_free(expect("partner_webhook.json", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_CREATED));
  fastepost_event_result *r = expect("lead_with_partner.json", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_UPDATED);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1, "found by partner_id");
  cr_assert_str_eq(Q("SELECT name FROM customers"), "J\xc3\xbcrgen M\xc3\xbcller \xf0\x9f\x8c\x9f",
                   "a lead does not rewrite the contact");
  cr_assert_eq(N("SELECT count(*) FROM remarks WHERE body = 'Lead: Follow-up visit'"), 1);
  fastepost_event_result_free(r);
  fastepost_event_result_free(expect_body("{\"_id\": 200, \"_model\": \"crm.lead\", \"name\": \"By mail\", "
                                          "\"email_from\": \"JUERGEN.MUELLER@example.de\"}", NULL,
                                          FASTEPOST_OK, FASTEPOST_OUTCOME_UPDATED));
  fastepost_event_result_free(expect_body("{\"_id\": 201, \"_model\": \"crm.lead\", \"name\": \"By phone\", "
                                          "\"mobile\": \"+49 170 1234567\"}", NULL, FASTEPOST_OK,
                                          FASTEPOST_OUTCOME_UPDATED));
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 4);
  /* nothing matches: a new customer named after the contact */
  fastepost_event_result_free(expect("wrapper_data.json", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_CREATED));
  cr_assert_str_eq(Q("SELECT name || ' ' || crm_id FROM customers ORDER BY id DESC LIMIT 1"),
                   "Max Mustermann crm.lead:120");
  fptest_assert_counters_exact();
}

Test(odoo, task_links) {
  fptest_exec("INSERT INTO customers (id, name) VALUES (500, 'Other')");
  fptest_exec("INSERT INTO tasks (id, barcode) VALUES (10, 'FE-0001'), (11, 'FE-0002'), (12, 'FE-0003')");
  fptest_exec("UPDATE tasks SET customer_id = 500 WHERE id = 12");
  /* barcode field of a lead */
  fastepost_event_result *r = expect("lead_webhook.json", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_CREATED);
  cr_assert_eq(fastepost_event_result_task_id(r), 10);
  cr_assert_eq(N("SELECT customer_id FROM tasks WHERE id = 10"), fastepost_event_result_customer_id(r));
  cr_assert_eq(N("SELECT task_id FROM remarks"), 10);
  fastepost_event_result_free(r);
  /* task_id 999999 does not exist: the barcode in ref wins */
  r = expect("partner_task_barcode.json", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_CREATED);
  cr_assert_eq(fastepost_event_result_task_id(r), 11);
  cr_assert_eq(N("SELECT customer_id FROM tasks WHERE id = 11"), fastepost_event_result_customer_id(r));
  fastepost_event_result_free(r);
  /* a task_id that exists; the task belongs to someone else: left alone with a warning */
  r = expect_body("{\"_id\": 77, \"_model\": \"res.partner\", \"name\": \"T\", \"task_id\": 12, "
                  "\"comment\": \"see task\"}", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_CREATED);
  cr_assert_eq(fastepost_event_result_task_id(r), 12);
  cr_assert_eq(N("SELECT customer_id FROM tasks WHERE id = 12"), 500);
  cr_assert_eq(fastepost_event_result_warning_count(r), 1);
  cr_assert(strstr(fastepost_event_result_warning(r, 0), "task 12 belongs to customer 500"));
  cr_assert_eq(N("SELECT task_id FROM remarks WHERE body = 'see task'"), 12);
  fastepost_event_result_free(r);
  /* no match is not an error */
  r = expect_body("{\"_id\": 78, \"_model\": \"res.partner\", \"name\": \"U\", \"x_task_barcode\": \"NOPE\"}",
                  NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_CREATED);
  cr_assert_eq(fastepost_event_result_task_id(r), 0);
  fastepost_event_result_free(r);
  fptest_assert_counters_exact();
}

static void assert_only_error_event(const char *status_outcome) {
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 0);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1);
  cr_assert_str_eq(Q("SELECT status || '|' || coalesce(outcome, '') FROM integration_events"), status_outcome);
}

Test(odoo, hostile_input_is_logged_and_nothing_else_written) {
  fastepost_event_result *r = expect("hostile_truncated.json", NULL, FASTEPOST_EPARSE, FASTEPOST_OUTCOME_NONE);
  cr_assert_eq(fastepost_status_http(fastepost_event_result_code(r)), 400);
  assert_only_error_event("error|");
  cr_assert_str_eq(Q("SELECT payload IS NULL FROM integration_events"), "t");
  cr_assert(strstr(Q("SELECT error_message FROM integration_events"), "at byte"));
  cr_assert_str_eq(Q("SELECT next_attempt_at IS NULL FROM integration_events"), "t", "not retried");
  cr_assert_eq(fastepost_event_result_event_id(r), N("SELECT id FROM integration_events"));
  fastepost_event_result_free(r);
  fptest_exec("DELETE FROM integration_events");

  r = expect("hostile_bad_id.json", NULL, FASTEPOST_EINVALID, FASTEPOST_OUTCOME_NONE);
  assert_only_error_event("error|");
  cr_assert_str_eq(Q("SELECT payload->>'_id' FROM integration_events"), "abc", "valid JSON is kept");
  fastepost_event_result_free(r);
  fptest_exec("DELETE FROM integration_events");

  const char bad[] = "{\"_id\": 1, \"_model\": \"res.partner\", \"name\": \"M\xfcller\"}";
  fastepost_odoo_options *o = new_options();
  cr_assert_eq(fastepost_odoo_process(&r, fptest_conn(), KEY, bad, sizeof bad - 1, o), FASTEPOST_EPARSE);
  assert_only_error_event("error|");
  cr_assert_str_eq(Q("SELECT payload IS NULL FROM integration_events"), "t");
  fastepost_event_result_free(r);
  fptest_exec("DELETE FROM integration_events");

  size_t big = 10 * 1024 * 1024;
  char *huge = malloc(big);
  memset(huge, 'a', big);
  cr_assert_eq(fastepost_odoo_process(&r, fptest_conn(), KEY, huge, big, o), FASTEPOST_ETOOBIG);
  cr_assert_eq(fastepost_status_http(FASTEPOST_ETOOBIG), 413);
  assert_only_error_event("error|");
  free(huge);
  fastepost_event_result_free(r);
  fptest_exec("DELETE FROM integration_events");

  char deep[1024] = "{\"_id\": 1, \"_model\": \"res.partner\", \"x\": ";
  for (int i = 0; i < 100; i++)
    strcat(deep, "{\"a\":");
  strcat(deep, "1");
  for (int i = 0; i < 101; i++)
    strcat(deep, "}");
  cr_assert_eq(fastepost_odoo_process(&r, fptest_conn(), KEY, deep, strlen(deep), o), FASTEPOST_EPARSE);
  assert_only_error_event("error|");
  fastepost_event_result_free(r);
  fastepost_odoo_options_free(o);
  fptest_assert_counters_exact();
}

Test(odoo, ignored_deliveries_are_logged_as_success) {
  fastepost_event_result *r = expect("unknown_model.json", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_IGNORED);
  cr_assert_str_eq(Q("SELECT concat_ws('|', event_type, status, outcome, external_id) FROM integration_events"),
                   "sale.order|success|ignored|sale.order:9");
  fastepost_event_result_free(r);
  r = expect("partner_ids_only.json", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_IGNORED);
  fastepost_event_result_free(r);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  cr_assert_eq(fastepost_status_http(FASTEPOST_OK), 200);
  fptest_assert_counters_exact();
}

Test(odoo, form_body_and_every_fixture_shape) {
  char *body = fixture("partner_form.txt");
  fastepost_odoo_options *o = new_options();
  fastepost_odoo_options_set_content_type(o, "application/x-www-form-urlencoded");
  fastepost_event_result *r = NULL;
  cr_assert_eq(fastepost_odoo_process(&r, fptest_conn(), KEY, body, strlen(body), o), FASTEPOST_OK);
  cr_assert_str_eq(Q("SELECT name || ' ' || email FROM customers"), "Anna M\xc3\xbcller anna.mueller@example.org");
  cr_assert_str_eq(Q("SELECT payload->>'_id' FROM integration_events"), "48");
  fastepost_event_result_free(r);
  fastepost_odoo_options_free(o);
  free(body);
  const char *shapes[] = {"jsonrpc_read.json", "wrapper_model_record.json", "wrapper_params.json",
                          "partner_company.json", "partner_oca_false_email.json"};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    fastepost_event_result_free(expect(shapes[i], NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_CREATED));
  fastepost_event_result_free(expect("wrapper_event_data.json", NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_UPDATED));
  cr_assert_str_eq(Q("SELECT name FROM customers WHERE crm_id = 'res.partner:44'"), "Anna Schmidt-Lang");
  cr_assert_str_eq(Q("SELECT coalesce(email, 'NULL') FROM customers WHERE crm_id = 'res.partner:46'"), "NULL");
  cr_assert_eq(N("SELECT count(*) FROM customers"), 6);
  fptest_assert_counters_exact();
}

Test(odoo, batch_commits_once_and_isolates_failures) {
  const char *bodies[] = {
      "{\"_id\": 1, \"_model\": \"res.partner\", \"name\": \"One\", \"email\": \"one@x.de\"}",
      "{\"_id\": 2, \"_model\": \"res.partner\", \"name\": \"Two\", \"email\": \"two@x.de\"}",
      "{\"_id\": 3, \"_model\": \"res.partner\", \"name\": \"Bro",
      "{\"_id\": 4, \"_model\": \"res.partner\", \"name\": \"Clash\", \"email\": \"one@x.de\"}",
      "{\"_id\": 1, \"_model\": \"res.partner\", \"name\": \"One\", \"email\": \"one@x.de\"}",
      "{\"_id\": 9, \"_model\": \"crm.lead\", \"name\": \"Deal\", \"email_from\": \"two@x.de\"}",
  };
  size_t n = sizeof bodies / sizeof bodies[0], lens[6];
  for (size_t i = 0; i < n; i++)
    lens[i] = strlen(bodies[i]);
  fastepost_event_batch *res = NULL;
  cr_assert_eq(fastepost_odoo_process_batch(&res, fptest_conn(), keys(n), (const void *const *)bodies, lens, n, keyed()), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  fastepost_outcome want[] = {FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_NONE,
                              FASTEPOST_OUTCOME_CONFLICT, FASTEPOST_OUTCOME_DUPLICATE, FASTEPOST_OUTCOME_UPDATED};
  int codes[] = {FASTEPOST_OK, FASTEPOST_OK, FASTEPOST_EPARSE, FASTEPOST_ECONFLICT, FASTEPOST_OK, FASTEPOST_OK};
  for (size_t i = 0; i < n; i++) {
    cr_assert_eq(fastepost_event_result_code(fastepost_event_batch_get(res, i)), codes[i], "delivery %zu: %s", i,
                 fastepost_event_result_error(fastepost_event_batch_get(res, i)));
    cr_assert_eq(fastepost_event_result_outcome(fastepost_event_batch_get(res, i)), want[i], "delivery %zu", i);
  }
  cr_assert_eq(fastepost_event_result_event_id(fastepost_event_batch_get(res, 4)), fastepost_event_result_event_id(fastepost_event_batch_get(res, 0)));
  /* The generic batch result: counts, status and what each delivery was. */
  cr_assert_eq(fastepost_event_batch_count(res), n);
  cr_assert_eq(fastepost_event_batch_failed(res), 2);
  cr_assert_eq(fastepost_event_batch_status(res), FASTEPOST_OK);
  cr_assert_eq(fastepost_event_batch_http_status(res), 200);
  cr_assert_str_eq(fastepost_event_batch_event_type(res, 0), "res.partner");
  cr_assert_eq(fastepost_event_batch_object_id(res, 0), 1);
  cr_assert_str_eq(fastepost_event_batch_event_type(res, 5), "crm.lead");
  cr_assert_eq(fastepost_event_batch_object_id(res, 5), 9);
  cr_assert_str_eq(fastepost_event_batch_event_type(res, 2), "unknown", "a body that is not JSON");
  cr_assert_eq(fastepost_event_batch_object_id(res, 2), 0);
  cr_assert_null(fastepost_event_batch_get(res, n));
  cr_assert_eq(N("SELECT count(*) FROM customers"), 2);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 5);
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE status = 'error'"), 2);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 1);
  cr_assert_str_eq(Q("SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%' AND datname = current_database()"), "0");
  fastepost_event_batch_free(res);
  fptest_assert_counters_exact();
}

Test(odoo, closed_connection_is_econn) {
  fastepost_conn *c = fptest_conn();
  fastepost_conn_close(c);
  fastepost_event_result *r = NULL;
  const char *body = "{\"_id\": 1, \"_model\": \"res.partner\", \"name\": \"One\"}";
  cr_assert_eq(fastepost_odoo_process(&r, c, KEY, body, strlen(body), keyed()), FASTEPOST_ECONN);
  cr_assert_eq(fastepost_status_http(fastepost_event_result_code(r)), 503);
  fastepost_event_result_free(r);
  cr_assert_eq(fastepost_odoo_process(NULL, NULL, KEY, body, strlen(body), keyed()), FASTEPOST_EINVALID);
}

Test(odoo, batch_of_many_keeps_order_and_replays_a_failing_chunk) {
  /* A trigger refuses one customer name: the chunk it is in is replayed one event at a time. */
  fptest_exec("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
              "IF NEW.name = 'Refused' THEN RAISE EXCEPTION 'refused by trigger'; END IF; RETURN NEW; END $$");
  fptest_exec("CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION refuse()");
  enum { N = 40 };
  char bodies[N][256];
  const char *ptrs[N];
  size_t lens[N];
  for (int i = 0; i < N; i++) {
    if (i == 25) /* a later version of contact 3, in the same batch */
      snprintf(bodies[i], sizeof bodies[i], "{\"_id\": 103, \"_model\": \"res.partner\", \"name\": \"Three v2\", "
               "\"email\": \"c3@x.de\", \"write_date\": \"2024-02-01 00:00:00\"}");
    else if (i == 30)
      snprintf(bodies[i], sizeof bodies[i], "{\"_id\": 999, \"_model\": \"res.partner\", \"name\": \"Refused\"}");
    else if (i % 7 == 6) /* a lead by the email of an earlier contact */
      snprintf(bodies[i], sizeof bodies[i], "{\"_id\": %d, \"_model\": \"crm.lead\", \"name\": \"Deal %d\", "
               "\"email_from\": \"c%d@x.de\"}", i + 100, i, i - 1);
    else
      snprintf(bodies[i], sizeof bodies[i], "{\"_id\": %d, \"_model\": \"res.partner\", \"name\": \"C%d\", "
               "\"email\": \"c%d@x.de\", \"comment\": \"note %d\", \"write_date\": \"2024-01-01 00:00:00\"}",
               i + 100, i, i, i);
    ptrs[i] = bodies[i];
    lens[i] = strlen(bodies[i]);
  }
  fastepost_event_batch *res = NULL;
  cr_assert_eq(fastepost_odoo_process_batch(&res, fptest_conn(), keys(N), (const void *const *)ptrs, lens, N, keyed()), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  for (int i = 0; i < N; i++) {
    fastepost_outcome want = i == 25 ? FASTEPOST_OUTCOME_UPDATED
                             : i == 30 ? FASTEPOST_OUTCOME_NONE
                             : i % 7 == 6 ? FASTEPOST_OUTCOME_UPDATED : FASTEPOST_OUTCOME_CREATED;
    cr_assert_eq(fastepost_event_result_outcome(fastepost_event_batch_get(res, i)), want, "delivery %d: %s (%s)", i,
                 fastepost_outcome_name(fastepost_event_result_outcome(fastepost_event_batch_get(res, i))), fastepost_event_result_error(fastepost_event_batch_get(res, i)));
    cr_assert_eq(fastepost_event_result_code(fastepost_event_batch_get(res, i)), i == 30 ? FASTEPOST_EDB : FASTEPOST_OK, "delivery %d", i);
    cr_assert(i == 30 || fastepost_event_result_event_id(fastepost_event_batch_get(res, i)) > 0);
  }
  cr_assert_str_eq(Q("SELECT name FROM customers WHERE crm_id = 'res.partner:103'"), "Three v2");
  cr_assert_eq(N("SELECT count(*) FROM customers"), N - 5 - 1 - 1, "contacts only, minus 3's second version and the refused one");
  cr_assert_eq(N("SELECT count(*) FROM remarks"), (N - 5 - 1 - 1) + 5);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), N);
  cr_assert_str_eq(Q("SELECT status || ' ' || (error_message LIKE '%refused by trigger%') FROM integration_events "
                     "WHERE external_id = 'res.partner:999'"), "error true");
  fastepost_event_batch_free(res);
  fptest_assert_counters_exact();
}

Test(odoo, refuses_to_run_inside_the_callers_transaction) {
  fastepost_conn *c = fptest_conn();
  cr_assert_eq(fastepost__tx_begin(c), FASTEPOST_OK); /* as a host that forgot to commit */
  const char *body = "{\"_id\": 1, \"_model\": \"res.partner\", \"name\": \"One\"}";
  fastepost_event_result *r = NULL;
  cr_assert_eq(fastepost_odoo_process(&r, c, KEY, body, strlen(body), keyed()), FASTEPOST_EINVALID);
  cr_assert(strstr(fastepost_event_result_error(r), "inside a transaction"));
  fastepost_event_result_free(r);
  size_t len = strlen(body);
  fastepost_event_batch *rs = NULL;
  cr_assert_eq(fastepost_odoo_process_batch(&rs, c, keys(1), (const void *const *)&body, &len, 1, keyed()), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_event_batch_count(rs), 1);
  cr_assert_eq(fastepost_event_result_code(fastepost_event_batch_get(rs, 0)), FASTEPOST_EINVALID);
  fastepost_event_batch_free(rs);
  cr_assert_eq(fastepost__exec(c, "SELECT 1", "still in the caller's transaction"), FASTEPOST_OK);
  cr_assert_eq(PQtransactionStatus(c->pg), PQTRANS_INTRANS, "the caller's transaction is left alone");
  fastepost__tx_rollback(c);
  cr_assert_eq(fastepost_odoo_process(NULL, c, KEY, body, strlen(body), keyed()), FASTEPOST_OK);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1);
  fptest_assert_counters_exact();
}

/* ---- authentication: the presented key is an argument of processing (issue 11 item 1) ---- */

static const char AUTH_BODY[] = "{\"_id\": 7, \"_model\": \"res.partner\", \"name\": \"Key\", \"email\": \"key@x.de\"}";

/* Process AUTH_BODY with presented key and options; assert the status, a 401 result for a
 * refusal, and that a refusal wrote nothing. */
static void expect_auth(const fastepost_odoo_options *o, const char *presented, fastepost_status want) {
  long long events = N("SELECT count(*) FROM integration_events"), customers = N("SELECT count(*) FROM customers");
  fastepost_event_result *r = NULL;
  fastepost_status st = fastepost_odoo_process(&r, fptest_conn(), presented, AUTH_BODY, strlen(AUTH_BODY), o);
  cr_assert_eq(st, want, "key \"%s\": %s, want %s", presented ? presented : "(null)", fastepost_error_name(st),
               fastepost_error_name(want));
  cr_assert_not_null(r, "a refused request still gets a result");
  cr_assert_eq(fastepost_event_result_code(r), want);
  if (want != FASTEPOST_OK) {
    cr_assert_eq(fastepost_event_result_http(r, st), 401);
    cr_assert_eq(fastepost_event_result_event_id(r), 0);
    cr_assert_eq(N("SELECT count(*) FROM integration_events"), events, "a refused request logs no event");
    cr_assert_eq(N("SELECT count(*) FROM customers"), customers, "a refused request writes no customer");
    const char *err = fastepost_event_result_error(r);
    cr_assert(err && !strstr(err, KEY) && !strstr(err, "second-key"), "no key in the message: %s", err);
  }
  fastepost_event_result_free(r);
  cr_assert_eq(fastepost_odoo_process(NULL, fptest_conn(), presented, AUTH_BODY, strlen(AUTH_BODY), o), want,
               "the same without a result");
}

Test(odoo, no_key_configured_refuses_every_request) {
  expect_auth(NULL, KEY, FASTEPOST_ENOKEY);
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
  expect_auth(o, KEY, FASTEPOST_ENOKEY);
  expect_auth(o, NULL, FASTEPOST_ENOKEY);
  /* The environment configures nothing: the host passes its keys. */
  setenv("ODOO_API_KEY", KEY, 1);
  expect_auth(o, KEY, FASTEPOST_ENOKEY);
  unsetenv("ODOO_API_KEY");
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 0);
  fastepost_odoo_options_free(o);
  fptest_assert_counters_exact();
}

Test(odoo, missing_empty_and_wrong_keys_are_refused_right_key_and_rotation_pass) {
  fastepost_odoo_options *o = new_options();
  expect_auth(o, NULL, FASTEPOST_EAUTH);
  expect_auth(o, "", FASTEPOST_EAUTH);
  expect_auth(o, "wrong", FASTEPOST_EAUTH);
  expect_auth(o, KEY "x", FASTEPOST_EAUTH);
  expect_auth(o, "odoo-test-key-", FASTEPOST_EAUTH);
  expect_auth(o, "second-key", FASTEPOST_EAUTH);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 0);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  expect_auth(o, KEY, FASTEPOST_OK);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  /* Rotation: a second accepted key; the first keeps working until the host drops it. */
  cr_assert_eq(fastepost_odoo_options_add_api_key(o, "second-key"), FASTEPOST_OK);
  expect_auth(o, "second-key", FASTEPOST_OK);
  expect_auth(o, KEY, FASTEPOST_OK);
  expect_auth(o, "third-key", FASTEPOST_EAUTH);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1, "the redeliveries were duplicates");
  fastepost_odoo_options_free(o);
  fptest_assert_counters_exact();
}

Test(odoo, host_authenticated_is_the_only_way_around_the_key) {
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
  expect_auth(o, NULL, FASTEPOST_ENOKEY);
  cr_assert_eq(fastepost_odoo_options_set_host_authenticated(o, true), FASTEPOST_OK);
  expect_auth(o, NULL, FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_set_host_authenticated(o, false), FASTEPOST_OK);
  expect_auth(o, "anything", FASTEPOST_ENOKEY);
  fastepost_odoo_options_free(o);
  fptest_assert_counters_exact();
}

Test(odoo, refused_request_is_never_spooled) {
  char dir[256];
  fptest_tmpdir(dir, sizeof dir, "authspool");
  fastepost_spool *spool = NULL;
  cr_assert_eq(fastepost_spool_open(&spool, dir), FASTEPOST_OK);
  fastepost_odoo_options *o = new_options();
  cr_assert_eq(fastepost_odoo_options_set_spool(o, spool), FASTEPOST_OK);
  fastepost_event_result *r = NULL;
  cr_assert_eq(fastepost_odoo_process(&r, NULL, "wrong", AUTH_BODY, strlen(AUTH_BODY), o), FASTEPOST_EAUTH);
  cr_assert_eq(fastepost_event_result_http(r, FASTEPOST_EAUTH), 401);
  fastepost_event_result_free(r);
  cr_assert_eq(fastepost_odoo_process(NULL, NULL, NULL, AUTH_BODY, strlen(AUTH_BODY), o), FASTEPOST_EAUTH);
  fastepost_spool_entries *l = NULL;
  cr_assert_eq(fastepost_spool_list(&l, spool), FASTEPOST_OK);
  cr_assert_eq(fastepost_spool_entries_count(l), 0, "nothing spooled for a refused request");
  fastepost_spool_entries_free(l);
  /* The right key is spooled, and replay (which trusts what was spooled) ingests it. */
  cr_assert_eq(fastepost_odoo_process(&r, NULL, KEY, AUTH_BODY, strlen(AUTH_BODY), o), FASTEPOST_OK);
  cr_assert_eq(fastepost_event_result_outcome(r), FASTEPOST_OUTCOME_SPOOLED);
  fastepost_event_result_free(r);
  fptest_replay rep;
  cr_assert_eq(fptest_spool_replay(&rep, spool, fptest_conn(), 0), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(N("SELECT count(*) FROM customers WHERE email = 'key@x.de'"), 1);
  fastepost_odoo_options_free(o);
  fastepost_spool_free(spool);
  fptest_assert_counters_exact();
}

Test(odoo, batch_refuses_each_delivery_without_its_key) {
  const char *bodies[] = {
      "{\"_id\": 1, \"_model\": \"res.partner\", \"name\": \"One\", \"email\": \"one@x.de\"}",
      "{\"_id\": 2, \"_model\": \"res.partner\", \"name\": \"Two\", \"email\": \"two@x.de\"}",
      "{\"_id\": 3, \"_model\": \"res.partner\", \"name\": \"Three\", \"email\": \"three@x.de\"}",
      "{\"_id\": 4, \"_model\": \"res.partner\", \"name\": \"Four\", \"email\": \"four@x.de\"}",
  };
  const char *presented[] = {KEY, "wrong", NULL, ""};
  size_t lens[4];
  for (size_t i = 0; i < 4; i++)
    lens[i] = strlen(bodies[i]);
  fastepost_event_batch *res = NULL;
  cr_assert_eq(fastepost_odoo_process_batch(&res, fptest_conn(), presented, (const void *const *)bodies, lens, 4, keyed()), FASTEPOST_OK,
               "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_event_result_outcome(fastepost_event_batch_get(res, 0)), FASTEPOST_OUTCOME_CREATED);
  for (size_t i = 1; i < 4; i++) {
    cr_assert_eq(fastepost_event_result_code(fastepost_event_batch_get(res, i)), FASTEPOST_EAUTH, "delivery %zu", i);
    cr_assert_eq(fastepost_status_http(fastepost_event_result_code(fastepost_event_batch_get(res, i))), 401, "delivery %zu", i);
  }
  fastepost_event_batch_free(res);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1);
  /* No keys at all: refused unless the host authenticated. */
  cr_assert_eq(fastepost_odoo_process_batch(&res, fptest_conn(), NULL, (const void *const *)bodies, lens, 4, keyed()), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_event_batch_status(res), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_event_batch_count(res), 0);
  fastepost_event_batch_free(res);
  cr_assert_eq(fastepost_odoo_process_batch(&res, fptest_conn(), keys(4), (const void *const *)bodies, lens, 4, NULL), FASTEPOST_OK);
  cr_assert_eq(fastepost_event_batch_count(res), 4);
  cr_assert_eq(fastepost_event_batch_failed(res), 4);
  for (size_t i = 0; i < 4; i++)
    cr_assert_eq(fastepost_event_result_code(fastepost_event_batch_get(res, i)), FASTEPOST_ENOKEY);
  fastepost_event_batch_free(res);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1);
  fptest_assert_counters_exact();
}

/* ---- source times that cannot poison state (issue 11 item 6) ---- */

Test(odoo, write_date_outside_the_sane_range_is_refused_and_not_retried) {
  static const char *const bad[] = {"1999-12-31 23:59:59", "2024-08-02 12:01:00", "9999-12-31 23:59:59",
                                    "0001-01-01 00:00:00"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char body[256];
    snprintf(body, sizeof body, "{\"_id\": 7, \"_model\": \"res.partner\", \"name\": \"Poison\", "
             "\"email\": \"p@x.de\", \"write_date\": \"%s\"}", bad[i]);
    fastepost_event_result *r = expect_body(body, NULL, FASTEPOST_EINVALID, FASTEPOST_OUTCOME_NONE);
    cr_assert(strstr(fastepost_event_result_error(r), "write_date") &&
              strstr(fastepost_event_result_error(r), "outside the accepted range"), "%s",
              fastepost_event_result_error(r));
    fastepost_event_result_free(r);
  }
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE status = 'error' AND next_attempt_at IS NULL"), 4);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  /* Within the range (the fixed clock is 2024-08-01 12:00; a day ahead is fine). */
  fastepost_event_result_free(expect_body("{\"_id\": 7, \"_model\": \"res.partner\", \"name\": \"Real\", "
                                          "\"email\": \"p@x.de\", \"write_date\": \"2024-08-02 11:59:00\"}",
                                          NULL, FASTEPOST_OK, FASTEPOST_OUTCOME_CREATED));
  fptest_assert_counters_exact();
}

Test(odoo, time_range_is_configurable) {
  fastepost_odoo_options *o = new_options();
  fastepost_odoo_options_set_clock(o, fixed_clock, NULL);
  cr_assert_eq(fastepost_odoo_options_set_time_range(o, -1, 0), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_options_set_time_range(NULL, 0, 0), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_odoo_options_set_time_range(o, 0, INT64_MAX), FASTEPOST_EINVALID);
  /* From 1990 on, and nothing ahead of the clock. */
  cr_assert_eq(fastepost_odoo_options_set_time_range(o, 631152000LL * 1000000, 0), FASTEPOST_OK);
  const char old[] = "{\"_id\": 8, \"_model\": \"res.partner\", \"name\": \"Old\", \"write_date\": \"1995-01-01 00:00:00\"}";
  const char ahead[] = "{\"_id\": 9, \"_model\": \"res.partner\", \"name\": \"Ahead\", \"write_date\": \"2024-08-01 12:00:01\"}";
  cr_assert_eq(fastepost_odoo_process(NULL, fptest_conn(), KEY, old, strlen(old), o), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_process(NULL, fptest_conn(), KEY, ahead, strlen(ahead), o), FASTEPOST_EINVALID);
  fastepost_odoo_options_free(o);
  fptest_assert_counters_exact();
}

Test(odoo, event_rows_use_the_server_clock_unless_one_is_injected) {
  const char body[] = "{\"_id\": 5, \"_model\": \"res.partner\", \"name\": \"Srv\", \"email\": \"s@x.de\"}";
  cr_assert_eq(fastepost_odoo_process(NULL, fptest_conn(), KEY, body, strlen(body), keyed()), FASTEPOST_OK);
  /* The server's statement_timestamp() of the same transaction: created_at equals the
   * customer's, and both lie within the server's last minute. */
  cr_assert_str_eq(Q("SELECT (e.created_at = c.created_at AND e.created_at BETWEEN localtimestamp - interval "
                     "'1 minute' AND localtimestamp)::text FROM integration_events e JOIN customers c ON "
                     "c.id = e.customer_id"), "true");
  fastepost_event_result_free(expect_body("{\"_id\": 6, \"_model\": \"res.partner\", \"name\": \"Inj\"}", NULL,
                                          FASTEPOST_OK, FASTEPOST_OUTCOME_CREATED));
  cr_assert_str_eq(Q("SELECT created_at FROM integration_events WHERE external_id = 'res.partner:6'"),
                   "2024-08-01 12:00:00.123456");
  fptest_assert_counters_exact();
}

/* ---- bounded waits (issue 11 item 3) ---- */

static double seconds_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(odoo, a_locked_customer_is_ebusy_within_the_lock_timeout_and_queued_for_retry) {
  const char body[] = "{\"_id\": 5, \"_model\": \"res.partner\", \"name\": \"Locked\", \"email\": \"l@x.de\", "
                      "\"write_date\": \"2024-07-01 00:00:00\"}";
  const char later[] = "{\"_id\": 5, \"_model\": \"res.partner\", \"name\": \"Locked v2\", \"email\": \"l@x.de\", "
                       "\"write_date\": \"2024-07-02 00:00:00\"}";
  cr_assert_eq(fastepost_odoo_process(NULL, fptest_conn(), KEY, body, strlen(body), keyed()), FASTEPOST_OK);
  /* A short lock timeout for this session (the sync core keeps one the host set). */
  cr_assert_eq(fastepost_conn_set_lock_timeout(fptest_conn(), 300000), FASTEPOST_OK);
  fptest_exec("BEGIN");
  fptest_exec("SELECT id FROM customers WHERE crm_id = 'res.partner:5' FOR UPDATE");
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  fastepost_event_result *r = NULL;
  fastepost_status st = fastepost_odoo_process(&r, fptest_conn(), KEY, later, strlen(later), keyed());
  double took = seconds_since(&t0);
  fptest_exec("ROLLBACK");
  cr_assert_eq(st, FASTEPOST_EBUSY, "%s: %s", fastepost_error_name(st), fastepost_event_result_error(r));
  cr_assert_eq(fastepost_status_http(st), 503);
  cr_assert_lt(took, 0.9, "a bound, not a speed claim: %.3f s for a 300 ms lock timeout", took);
  cr_assert_gt(fastepost_event_result_event_id(r), 0, "logged for retry");
  fastepost_event_result_free(r);
  cr_assert_str_eq(Q("SELECT status || ' ' || (next_attempt_at IS NOT NULL) FROM integration_events "
                     "WHERE id = (SELECT max(id) FROM integration_events)"), "error true");
  cr_assert_str_eq(Q("SELECT name FROM customers"), "Locked");
  fptest_assert_counters_exact();
}

Test(odoo, an_advisory_lock_on_the_customer_is_ebusy_too) {
  const char body[] = "{\"_id\": 5, \"_model\": \"res.partner\", \"name\": \"Adv\", \"email\": \"adv@x.de\"}";
  cr_assert_eq(fastepost_conn_set_lock_timeout(fptest_conn(), 300000), FASTEPOST_OK);
  /* Another delivery of the same customer, mid-transaction in another session: it holds the
   * advisory locks the sync core takes on the customer's keys. */
  fptest_exec("BEGIN");
  fptest_exec("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(ARRAY['odoo:res.partner:5', "
              "'res.partner:5', 'adv@x.de', 'email:adv@x.de', 'crm:odoo:res.partner:5']) AS k");
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  fastepost_status st = fastepost_odoo_process(NULL, fptest_conn(), KEY, body, strlen(body), keyed());
  double took = seconds_since(&t0);
  fptest_exec("ROLLBACK");
  cr_assert_lt(took, 0.9, "%.3f s", took);
  cr_assert_eq(st, FASTEPOST_EBUSY, "%s: %s (the advisory lock keys changed?)", fastepost_error_name(st),
               fastepost_error_last()->message);
  fptest_assert_counters_exact();
}

/* ---- named prepared statements (src/sync/pipeline.c) ----------------------------------------- */

/* Deliver partner `id` (with a note, so that a batch applies it through the per-event path). */
static void deliver_partner(int id) {
  char body[256];
  snprintf(body, sizeof body,
           "{\"_id\": %d, \"_model\": \"res.partner\", \"name\": \"P%d\", \"email\": \"p%d@prep.example\", "
           "\"comment\": \"note %d\"}", id, id, id, id);
  fastepost_event_result *r = NULL;
  cr_assert_eq(fastepost_odoo_process(&r, fptest_conn(), KEY, body, strlen(body), keyed()), FASTEPOST_OK,
               "partner %d: %s", id, fastepost_error_last()->message);
  cr_assert_eq(fastepost_event_result_outcome(r), FASTEPOST_OUTCOME_CREATED, "partner %d", id);
  cr_assert_eq(fastepost_event_result_warning_count(r), 0, "partner %d", id);
  fastepost_event_result_free(r);
}

/* Whether the library's connection reaches its server directly (no pooler in between): the pid
 * of the session equals the one libpq got at connect time. Found here on its own, not through
 * the library's detection. */
static bool direct_connection(void) {
  PGresult *res;
  cr_assert_eq(fastepost__query(&res, fptest_conn(), "SELECT pg_backend_pid()", 0, NULL, PGRES_TUPLES_OK, "pid"),
               FASTEPOST_OK);
  bool direct = atoi(PQgetvalue(res, 0, 0)) == PQbackendPID(fastepost__conn_pg(fptest_conn()));
  PQclear(res);
  return direct;
}

/* The sync core's statements prepared in the library's session (through a pooler: in whichever
 * session answers). */
static long long prepared_in_session(void) {
  PGresult *res;
  cr_assert_eq(fastepost__query(&res, fptest_conn(),
                                "SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'fastepost_sync_%'", 0,
                                NULL, PGRES_TUPLES_OK, "prepared"),
               FASTEPOST_OK);
  long long n = atoll(PQgetvalue(res, 0, 0));
  PQclear(res);
  return n;
}

static void expect_partners_applied_once(int n) {
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE email LIKE '%@prep.example'"), n);
  cr_assert_eq(fptest_count("SELECT count(*) FROM remarks"), n);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE status = 'success'"), n);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE status <> 'success'"), 0);
  fptest_assert_counters_exact();
}

Test(odoo, calls_are_prepared_by_name_only_on_a_direct_connection) {
  for (int i = 1; i <= 3; i++)
    deliver_partner(i);
  bool direct = direct_connection();
  /* The first delivery finds out (its settings report the server's pid), the second prepares
   * the settings, lock_seen, match and apply. Through PgBouncer nothing is ever prepared. */
  cr_assert_eq(fastepost__conn_prepare_on(fptest_conn()), direct);
  if (direct)
    cr_assert_eq(prepared_in_session(), 4);
  else
    cr_assert_eq(prepared_in_session(), 0);
  expect_partners_applied_once(3);
}

Test(odoo, a_prepared_statement_dropped_from_the_session_is_sent_again_unnamed) {
  deliver_partner(1);
  deliver_partner(2);
  /* Someone runs DEALLOCATE ALL on the connection: the next delivery meets 26000 (prepared
   * statement does not exist), undoes, and runs again unnamed, once, with nothing lost or
   * doubled and no failure logged. */
  cr_assert_eq(fastepost__exec(fptest_conn(), "DEALLOCATE ALL", "deallocate"), FASTEPOST_OK);
  deliver_partner(3);
  cr_assert(!fastepost__conn_prepare_on(fptest_conn()));
  deliver_partner(4);
  cr_assert_eq(prepared_in_session(), 0);
  expect_partners_applied_once(4);
  /* Within a batch: a record alone takes the per-event path, in a savepoint, which is undone
   * (a chunk of several sends its statements unnamed). */
  fastepost_conn_reset(fptest_conn());
  deliver_partner(5); /* a new session: found out again */
  deliver_partner(6);
  cr_assert(fastepost__conn_prepare_on(fptest_conn()) == direct_connection());
  cr_assert_eq(fastepost__exec(fptest_conn(), "DEALLOCATE ALL", "deallocate"), FASTEPOST_OK);
  const char *bodies[] = {
      "{\"_id\": 7, \"_model\": \"res.partner\", \"name\": \"P7\", \"email\": \"p7@prep.example\", \"comment\": \"a\"}"};
  size_t lens[] = {strlen(bodies[0])};
  fastepost_event_batch *res = NULL;
  cr_assert_eq(fastepost_odoo_process_batch(&res, fptest_conn(), keys(1), (const void *const *)bodies, lens, 1, keyed()),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_event_result_outcome(fastepost_event_batch_get(res, 0)), FASTEPOST_OUTCOME_CREATED, "%s",
               fastepost_event_result_error(fastepost_event_batch_get(res, 0)));
  cr_assert_eq(fastepost_event_result_warning_count(fastepost_event_batch_get(res, 0)), 0);
  fastepost_event_batch_free(res);
  cr_assert(!fastepost__conn_prepare_on(fptest_conn())); /* the batch's event met it */
  expect_partners_applied_once(7);
}

Test(odoo, a_statement_name_taken_in_the_session_turns_preparing_off) {
  /* The host prepared a statement of the same name on this connection: our Prepare fails with
   * 42P05 in the second delivery's pipeline, which is undone and run again unnamed. */
  cr_assert_eq(fastepost__exec(fptest_conn(), "PREPARE fastepost_sync_apply AS SELECT 1", "prepare"), FASTEPOST_OK);
  fptest_exec("INSERT INTO customers (id, name) VALUES (500, 'Owner')");
  fptest_exec("INSERT INTO tasks (id, barcode, customer_id) VALUES (12, 'FE-0003', 500)");
  deliver_partner(1);
  /* The second delivery's first round prepares and runs; its decision warns (the task is
   * another customer's); its second round meets the taken name. Run again, it warns once. */
  const char *body = "{\"_id\": 2, \"_model\": \"res.partner\", \"name\": \"P2\", \"email\": \"p2@prep.example\", "
                     "\"task_id\": 12, \"comment\": \"see task\"}";
  fastepost_event_result *r = NULL;
  cr_assert_eq(fastepost_odoo_process(&r, fptest_conn(), KEY, body, strlen(body), keyed()), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(fastepost_event_result_outcome(r), FASTEPOST_OUTCOME_CREATED);
  cr_assert_eq(fastepost_event_result_warning_count(r), 1);
  cr_assert(strstr(fastepost_event_result_warning(r, 0), "task 12 belongs to customer 500"));
  fastepost_event_result_free(r);
  cr_assert(!fastepost__conn_prepare_on(fptest_conn()));
  deliver_partner(3);
  cr_assert_eq(fptest_count("SELECT customer_id FROM tasks WHERE id = 12"), 500);
  expect_partners_applied_once(3);
}
