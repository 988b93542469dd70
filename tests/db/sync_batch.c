/* SPDX-License-Identifier: MIT */
/* The set-based batch path of the sync core (src/sync/batch.c): mixed pages of Odoo deliveries
 * with every outcome, the same page again, the result compared with one delivery at a time,
 * the statistics counters against a recount, two records that reach one customer by different
 * keys, and a pull of a few large pages from the stand-in Odoo next to webhook deliveries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fake_odoo/harness.h"
#include "sync.h"
#include "testdb.h"

#define KEY "hook"

TestSuite(sync_batch, .init = fptest_setup_schema, .fini = fptest_teardown, .timeout = 180);

static fastepost_odoo_options *hook_options(void) {
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), 0);
  cr_assert_eq(fastepost_odoo_options_add_api_key(o, KEY), 0);
  return o;
}

/* A native webhook body of partner id. */
static char *partner(int id, const char *name, const char *email, const char *write_date, const char *comment) {
  char *s = malloc(1024);
  snprintf(s, 1024,
           "{\"_model\": \"res.partner\", \"_id\": %d, \"name\": \"%s\", \"email\": \"%s\", \"write_date\": "
           "\"%s\"%s%s%s}",
           id, name, email, write_date, comment ? ", \"comment\": \"" : "", comment ? comment : "",
           comment ? "\"" : "");
  return s;
}

/* The deliveries before the page: partners 1-4 and 99 (whose customer holds taken@mixed.example). */
static char *pre[5];
/* The page: one record per outcome (see expected[] below). */
enum { NPAGE = 10 };
static char *page[NPAGE];

static void bodies(void) {
  pre[0] = partner(1, "One", "one@mixed.example", "2026-01-01 10:00:01", NULL);
  pre[1] = partner(2, "Two", "two@mixed.example", "2026-01-01 12:00:00", NULL);
  pre[2] = partner(3, "Three", "three@mixed.example", "2026-01-01 10:00:03", NULL);
  pre[3] = partner(4, "Four", "four@mixed.example", "2026-01-01 10:00:04", NULL);
  pre[4] = partner(99, "Ninety-nine", "taken@mixed.example", "2026-01-01 10:00:09", NULL);
  page[0] = partner(10, "Ten", "ten@mixed.example", "2026-01-01 10:00:10", NULL);          /* created */
  page[1] = partner(1, "One v2", "one@mixed.example", "2026-01-01 11:00:00", NULL);        /* updated */
  page[2] = partner(2, "Two old", "two@mixed.example", "2026-01-01 11:00:00", NULL);       /* stale */
  page[3] = strdup(pre[2]);                                                                 /* duplicate */
  page[4] = partner(4, "Four", "four@mixed.example", "2026-01-01 11:00:04", NULL);         /* unchanged */
  page[5] = partner(11, "Eleven", "taken@mixed.example", "2026-01-01 10:00:11", NULL);     /* conflict */
  page[6] = partner(12, "Refused", "refused@mixed.example", "2026-01-01 10:00:12", NULL);  /* the database refuses it */
  page[7] = partner(13, "Ancient", "ancient@mixed.example", "1990-01-01 00:00:00", NULL);  /* the adapter refuses it */
  page[8] = partner(14, "Noted", "noted@mixed.example", "2026-01-01 10:00:14", "<p>Call back</p>"); /* created + remark */
  page[9] = strdup("{\"_model\": \"crm.lead\", \"_id\": 5, \"name\": \"Lead of Ten\", \"email_from\": "
                   "\"ten@mixed.example\", \"partner_id\": [10, \"Ten\"], \"write_date\": \"2026-01-01 10:00:15\"}");
}

static void bodies_free(void) {
  for (int i = 0; i < 5; i++)
    free(pre[i]);
  for (int i = 0; i < NPAGE; i++)
    free(page[i]);
}

/* A record the database refuses on its own (as a too long value or a check of the host's would). */
static void refuse_one(void) {
  fptest_exec("ALTER TABLE customers ADD CONSTRAINT refuse_one CHECK (name IS DISTINCT FROM 'Refused')");
}

static void process_one(const char *body, const fastepost_odoo_options *o, fastepost_outcome *oc, int *code) {
  fastepost_event_result *res = NULL;
  fastepost_odoo_process(&res, fptest_conn(), KEY, body, strlen(body), o);
  cr_assert_not_null(res);
  if (oc)
    *oc = fastepost_event_result_outcome(res);
  if (code)
    *code = fastepost_event_result_code(res);
  fastepost_event_result_free(res);
}

static fastepost_event_batch *process_page(const fastepost_odoo_options *o) {
  const char *keys[NPAGE];
  size_t lens[NPAGE];
  for (int i = 0; i < NPAGE; i++) {
    keys[i] = KEY;
    lens[i] = strlen(page[i]);
  }
  fastepost_event_batch *b = NULL;
  cr_assert_eq(fastepost_odoo_process_batch(&b, fptest_conn(), keys, (const void *const *)page, lens, NPAGE, o), 0,
               "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_event_batch_count(b), NPAGE);
  return b;
}

/* What the customers hold, without ids and clocks. */
static char *customers_state(void) {
  return strdup(fptest_scalar("SELECT string_agg(concat_ws('|', name, email, phone, company, address, active, "
                              "crm_source, crm_id, crm_updated_at), E'\\n' ORDER BY crm_id, name) FROM customers"));
}

Test(sync_batch, a_mixed_page_gives_each_record_its_outcome_and_event) {
  bodies();
  refuse_one();
  fastepost_odoo_options *o = hook_options();
  for (int i = 0; i < 5; i++)
    process_one(pre[i], o, NULL, NULL);
  long long events_before = fptest_count("SELECT count(*) FROM integration_events");
  cr_assert_eq(events_before, 5);

  fastepost_event_batch *b = process_page(o);
  static const fastepost_outcome expected[NPAGE - 1] = {
      FASTEPOST_OUTCOME_CREATED,   FASTEPOST_OUTCOME_UPDATED,   FASTEPOST_OUTCOME_STALE,
      FASTEPOST_OUTCOME_DUPLICATE, FASTEPOST_OUTCOME_UNCHANGED, FASTEPOST_OUTCOME_CONFLICT,
      FASTEPOST_OUTCOME_NONE,      FASTEPOST_OUTCOME_NONE,      FASTEPOST_OUTCOME_CREATED};
  static const int codes[NPAGE - 1] = {0, 0, 0, 0, 0, FASTEPOST_ECONFLICT, FASTEPOST_EDB, FASTEPOST_EINVALID, 0};
  for (int i = 0; i < NPAGE - 1; i++) {
    const fastepost_event_result *r = fastepost_event_batch_get(b, (size_t)i);
    cr_expect_eq(fastepost_event_result_outcome(r), expected[i], "record %d: outcome %s", i,
                 fastepost_outcome_name(fastepost_event_result_outcome(r)));
    cr_expect_eq(fastepost_event_result_code(r), codes[i], "record %d: code %d", i, fastepost_event_result_code(r));
    cr_expect_gt(fastepost_event_result_event_id(r), 0, "record %d has no event", i);
  }
  /* the lead found the customer its partner created in the same page */
  const fastepost_event_result *lead = fastepost_event_batch_get(b, 9);
  cr_assert_eq(fastepost_event_result_code(lead), 0);
  cr_assert_eq(fastepost_event_result_customer_id(lead), fastepost_event_result_customer_id(fastepost_event_batch_get(b, 0)));
  /* one event per record, the duplicate's being the earlier one */
  long long events = fptest_count("SELECT count(*) FROM integration_events");
  cr_assert_eq(events, events_before + NPAGE - 1, "%lld events", events);
  cr_assert_eq(fastepost_event_result_event_id(fastepost_event_batch_get(b, 3)),
               fptest_count("SELECT id FROM integration_events WHERE payload->>'_id' = '3'"));
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE status = 'error'"), 3);
  /* the data: created, updated, the stale one left alone, the remark written */
  cr_assert_str_eq(fptest_scalar("SELECT name FROM customers WHERE crm_id = 'res.partner:1'"), "One v2");
  cr_assert_str_eq(fptest_scalar("SELECT name FROM customers WHERE crm_id = 'res.partner:2'"), "Two");
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE crm_id IN ('res.partner:11', 'res.partner:12', "
                            "'res.partner:13')"), 0);
  cr_assert_eq(fptest_count("SELECT count(*) FROM remarks r JOIN customers c ON c.id = r.customer_id "
                            "WHERE c.crm_id = 'res.partner:14' AND r.body LIKE '%Call back%'"), 1);
  cr_assert_str_eq(fptest_scalar("SELECT crm_updated_at::text FROM customers WHERE crm_id = 'res.partner:4'"),
                   "2026-01-01 11:00:04");
  fptest_assert_counters_exact();
  fastepost_event_batch_free(b);

  /* the same page again: the applied records are duplicates, nothing changes, no event is added
   * but the refused body's */
  char *state = customers_state();
  const char *stamps = fptest_scalar("SELECT string_agg(updated_at::text, ',' ORDER BY id) FROM customers");
  char *saved = strdup(stamps);
  b = process_page(o);
  for (int i = 0; i < NPAGE; i++) {
    const fastepost_event_result *r = fastepost_event_batch_get(b, (size_t)i);
    if (i == 5 || i == 6 || i == 7) /* failed before: processed again on their rows, failing again */
      cr_expect_neq(fastepost_event_result_code(r), 0, "record %d", i);
    else
      cr_expect_eq(fastepost_event_result_outcome(r), FASTEPOST_OUTCOME_DUPLICATE, "record %d: %s", i,
                   fastepost_outcome_name(fastepost_event_result_outcome(r)));
  }
  /* (a body the adapter refused has no idempotency key: each delivery of it is logged anew) */
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events"), events_before + NPAGE);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE attempts = 2"), 2);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE external_id = 'res.partner:13'"), 2);
  char *state2 = customers_state();
  cr_assert_str_eq(state2, state);
  cr_assert_str_eq(fptest_scalar("SELECT string_agg(updated_at::text, ',' ORDER BY id) FROM customers"), saved);
  fptest_assert_counters_exact();
  fastepost_event_batch_free(b);

  /* one delivery at a time gives the same customers and outcomes */
  fptest_exec("TRUNCATE customers, remarks, tasks, integration_events RESTART IDENTITY CASCADE");
  for (int i = 0; i < 5; i++)
    process_one(pre[i], o, NULL, NULL);
  for (int i = 0; i < NPAGE - 1; i++) {
    fastepost_outcome oc;
    int code;
    process_one(page[i], o, &oc, &code);
    cr_expect_eq(oc, expected[i], "record %d alone: %s", i, fastepost_outcome_name(oc));
    cr_expect_eq(code, codes[i], "record %d alone: code %d", i, code);
  }
  process_one(page[9], o, NULL, NULL);
  char *state3 = customers_state();
  cr_assert_str_eq(state3, state, "one at a time:\n%s\nas a page:\n%s", state3, state);
  free(state);
  free(state2);
  free(state3);
  free(saved);
  fastepost_odoo_options_free(o);
  bodies_free();
}

/* Records of a source that matches by phone (built directly for the core): two records that
 * share no key but reach the same customer, one by email and one by phone. */
static void record(fastepost__sync_record *rec, const char *crm_id, const char *email, const char *phone,
                   const char *name) {
  fastepost__sync_record_init(rec, "test");
  rec->event_type = strdup("contact.change");
  rec->external_id = strdup(crm_id);
  rec->crm_id = strdup(crm_id);
  char key[64];
  snprintf(key, sizeof key, "k-%s", crm_id);
  rec->idempotency_key = strdup(key);
  rec->owns_customer = true;
  rec->match_phone = true;
  rec->version = strdup("2026-01-01 10:00:00.000000");
  cr_assert_eq(fastepost__fact_set(&rec->facts.name, name), 0);
  if (email)
    cr_assert_eq(fastepost__fact_set(&rec->facts.email, email), 0);
  if (phone)
    cr_assert_eq(fastepost__fact_set(&rec->facts.phone, phone), 0);
}

static void run_records(bool batch, fastepost_outcome *out) {
  fastepost__sync_record recs[3];
  record(&recs[0], "c:1", "shared@phone.example", NULL, "By email");
  record(&recs[1], "c:2", NULL, "+49 30 123", "By phone");
  record(&recs[2], "c:3", "other@phone.example", NULL, "Elsewhere");
  fastepost_event_result *res[3];
  for (int i = 0; i < 3; i++)
    res[i] = fastepost__result_new();
  fastepost__sync_ctx ctx = {.now_us = FASTEPOST__SYNC_SERVER_CLOCK, .max_attempts = 3, .in_batch = batch};
  if (batch) {
    cr_assert_eq(fastepost__sync_batch_begin(fptest_conn()), 0);
    cr_assert_eq(fastepost__sync_process_many(res, fptest_conn(), recs, 3, &ctx), 0);
    cr_assert_eq(fastepost__sync_batch_commit(fptest_conn()), 0);
  } else {
    for (int i = 0; i < 3; i++)
      fastepost__sync_process(res[i], fptest_conn(), &recs[i], &ctx);
  }
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(res[i]->code, 0, "record %d: %s", i, res[i]->error ? res[i]->error : "");
    out[i] = res[i]->outcome;
    fastepost_event_result_free(res[i]);
    fastepost__sync_record_clear(&recs[i]);
  }
}

Test(sync_batch, two_records_reaching_one_customer_by_different_keys_apply_in_order) {
  const char *setup = "INSERT INTO customers (name, email, phone, created_at, updated_at) VALUES "
                      "('Walk-in', 'shared@phone.example', '+49 30 123', now(), now())";
  fptest_exec(setup);
  fastepost_outcome batch[3], alone[3];
  run_records(true, batch);
  char *state = customers_state();
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events"), 3);
  fptest_assert_counters_exact();
  fptest_exec("TRUNCATE customers, remarks, tasks, integration_events RESTART IDENTITY CASCADE");
  fptest_exec(setup);
  run_records(false, alone);
  char *state2 = customers_state();
  cr_assert_str_eq(state, state2, "as a batch:\n%s\none at a time:\n%s", state, state2);
  for (int i = 0; i < 3; i++)
    cr_expect_eq(batch[i], alone[i], "record %d: %s as a batch, %s alone", i, fastepost_outcome_name(batch[i]),
                 fastepost_outcome_name(alone[i]));
  /* both wrote the walk-in customer: the second saw the first's change */
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE name = 'By phone' AND email = "
                            "'shared@phone.example'"), 1);
  free(state);
  free(state2);
}

/* ---- a pull of large pages from the stand-in Odoo ------------------------------------------- */

static fastepost_odoo_sync_options *pull_options(size_t page_size) {
  fastepost_odoo_sync_options *o = fake_odoo_options(FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2);
  cr_assert_eq(fastepost_odoo_sync_options_set_full(o, 1), 0);
  cr_assert_eq(fastepost_odoo_sync_options_set_page_size(o, page_size), 0);
  return o;
}

Test(sync_batch, a_pull_of_large_pages_next_to_webhook_deliveries) {
  fake_odoo_start();
  enum { N = 1200 };
  fake_odoo_do("bulk", "{\"count\": 1200, \"tx_start\": \"2026-01-01 10:00:00\"}");
  /* before the pull: a webhook brought partner 7 in a newer state than Odoo's (a change the
   * pull's page predates), and partner 8 as it is in Odoo (microseconds kept) */
  fastepost_odoo_options *wo = hook_options();
  char *newer = partner(7, "Hooked", "p7@bulk.example", "2026-01-02 09:00:00", NULL);
  fastepost_outcome oc;
  process_one(newer, wo, &oc, NULL);
  cr_assert_eq(oc, FASTEPOST_OUTCOME_CREATED);
  const char *same = "{\"_model\": \"res.partner\", \"_id\": 8, \"name\": \"Partner 8\", \"email\": "
                     "\"p8@bulk.example\", \"phone\": \"+49 30 0000008\", \"is_company\": false, "
                     "\"write_date\": \"2026-01-01 10:00:00.000000\"}";
  process_one(same, wo, &oc, NULL);
  cr_assert_eq(oc, FASTEPOST_OUTCOME_CREATED);

  fastepost_odoo_sync_options *o = pull_options(500);
  fastepost_odoo_pull_report *r = NULL;
  cr_assert_eq(fastepost_odoo_pull(&r, fptest_conn(), o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_odoo_pull_report_fetched(r), N);
  cr_assert_eq(fastepost_odoo_pull_report_pages(r), 3);
  cr_assert_eq(fastepost_odoo_pull_report_failed(r), 0);
  cr_assert_eq(fastepost_odoo_pull_report_outcome_count(r, FASTEPOST_OUTCOME_CREATED), N - 2);
  cr_assert_eq(fastepost_odoo_pull_report_outcome_count(r, FASTEPOST_OUTCOME_STALE), 1);
  uint64_t dup = fastepost_odoo_pull_report_outcome_count(r, FASTEPOST_OUTCOME_DUPLICATE),
           unchanged = fastepost_odoo_pull_report_outcome_count(r, FASTEPOST_OUTCOME_UNCHANGED);
  cr_assert_eq(dup + unchanged, 1, "partner 8: duplicate %llu, unchanged %llu", (unsigned long long)dup,
               (unsigned long long)unchanged);
  cr_assert_str_eq(fptest_scalar("SELECT name FROM customers WHERE crm_id = 'res.partner:7'"), "Hooked");
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE crm_source = 'odoo'"), N);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE event_type = 'res.partner.pull'"),
               N - dup);
  cr_assert_eq(fptest_count("SELECT count(*) FROM (SELECT customer_id FROM integration_events WHERE "
                            "event_type = 'res.partner.pull' AND outcome = 'created' GROUP BY 1 HAVING count(*) > 1) x"),
               0, "a customer was created twice");
  cr_assert_str_eq(fptest_scalar("SELECT email || ' ' || phone FROM customers WHERE crm_id = 'res.partner:1000'"),
                   "p1000@bulk.example +49 30 0001000");
  fptest_assert_counters_exact();

  /* the pull again: every record is a duplicate; then a webhook of the same state as well */
  char *state = customers_state();
  fastepost_odoo_pull_report_free(r);
  r = NULL;
  cr_assert_eq(fastepost_odoo_pull(&r, fptest_conn(), o), 0, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_odoo_pull_report_outcome_count(r, FASTEPOST_OUTCOME_DUPLICATE), N);
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events WHERE event_type = 'res.partner.pull'"),
               N - dup);
  char *state2 = customers_state();
  cr_assert_str_eq(state2, state);
  fptest_assert_counters_exact();
  free(state);
  free(state2);
  free(newer);
  fastepost_odoo_pull_report_free(r);
  fastepost_odoo_sync_options_free(o);
  fastepost_odoo_options_free(wo);
  fake_odoo_stop();
}
