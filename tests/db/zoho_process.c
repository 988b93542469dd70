/* SPDX-License-Identifier: MIT */
/* Zoho CRM deliveries through fastepost_webhook_process() against a real database: workflow
 * webhooks creating and updating customers, callbacks with affected_values, ids-only callbacks,
 * deletions, duplicates, stale versions, a batch of ids, refused requests, retry and the spool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "retry_counts.h"
#include "fixture.h"
#include "testdb.h"

TestSuite(zoho_process, .init = fptest_setup_schema, .fini = fptest_teardown);

#define Q(sql) fptest_scalar(sql)
#define N(sql) fptest_count(sql)

#define URI "https://app.example.com/api/v1/integrations/zoho"
#define CHANNEL_TOKEN "TOKEN_FOR_VERIFICATION_OF_1000000068001"
#define WF_TOKEN "zoho-test-workflow-token"
#define FORM "application/x-www-form-urlencoded"
#define JSON "application/json"

/* 2026-12-01 00:00:00 UTC: after every fixture's time, within a day of none. */
static int64_t fixed_clock(void *payload) {
  (void)payload;
  return 1796083200LL * 1000000;
}

static char *fixture(const char *name, size_t *len) { return fptest_fixture("zoho", name, len); }

/* The shared fixture's configuration, with the fixed clock (and a spool when given). */
static fastepost_webhook_config *config(fastepost_spool *spool) {
  size_t len = 0;
  char *text = fixture("config.json", &len);
  fastepost_webhook_config *cfg = NULL;
  cr_assert_eq(fastepost_webhook_config_new(&cfg), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_config_load_json(cfg, text, len), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(fastepost_webhook_config_set_clock(cfg, fixed_clock, NULL), FASTEPOST_OK);
  if (spool)
    cr_assert_eq(fastepost_webhook_config_set_spool(cfg, spool), FASTEPOST_OK);
  free(text);
  return cfg;
}

/* One delivery: its response (free with fastepost_webhook_response_free). */
static fastepost_webhook_response *deliver_with(fastepost_conn *conn, fastepost_webhook_config *cfg, const char *uri,
                                                const char *ct, const char *body, size_t len, fastepost_status want) {
  fastepost_webhook_request *req = fptest_webhook_request(uri, ct, body, len);
  fastepost_webhook_response *resp = NULL;
  fastepost_status st = fastepost_webhook_process(&resp, conn, "zoho", req, cfg);
  cr_assert_eq(st, want, "status %s, want %s: %s", fastepost_error_name(st), fastepost_error_name(want),
               fastepost_error_last()->message);
  cr_assert_not_null(resp);
  cr_assert_eq(fastepost_webhook_response_status(resp), st);
  fastepost_webhook_request_free(req);
  return resp;
}

static fastepost_webhook_response *deliver(const char *ct, const char *body, fastepost_status want) {
  fastepost_webhook_config *cfg = config(NULL);
  fastepost_webhook_response *r = deliver_with(fptest_conn(), cfg, URI, ct, body, strlen(body), want);
  fastepost_webhook_config_free(cfg);
  return r;
}

static fastepost_webhook_response *deliver_fixture_want(const char *name, const char *ct, fastepost_status want) {
  size_t len = 0;
  char *body = fixture(name, &len);
  fastepost_webhook_config *cfg = config(NULL);
  fastepost_webhook_response *r = deliver_with(fptest_conn(), cfg, URI, ct, body, len, want);
  fastepost_webhook_config_free(cfg);
  free(body);
  return r;
}

static fastepost_webhook_response *deliver_fixture(const char *name, const char *ct) {
  return deliver_fixture_want(name, ct, FASTEPOST_OK);
}

static const fastepost_event_result *event(const fastepost_webhook_response *r, size_t i) {
  return fastepost_event_batch_get(fastepost_webhook_response_events(r), i);
}

static bool has_warning(const fastepost_event_result *res, const char *needle) {
  for (size_t i = 0; i < fastepost_event_result_warning_count(res); i++)
    if (strstr(fastepost_event_result_warning(res, i), needle))
      return true;
  return false;
}

#define EXPECT_OUTCOMES(r, ...)                                                                    \
  do {                                                                                             \
    const fastepost_outcome want_[] = {__VA_ARGS__};                                               \
    size_t n_ = sizeof want_ / sizeof want_[0];                                                    \
    cr_assert_eq(fastepost_event_batch_count(fastepost_webhook_response_events(r)), n_);           \
    for (size_t i_ = 0; i_ < n_; i_++)                                                             \
      cr_assert_eq(fastepost_event_result_outcome(event(r, i_)), want_[i_], "event %zu: %s, want %s (%s)", i_, \
                   fastepost_outcome_name(fastepost_event_result_outcome(event(r, i_))),          \
                   fastepost_outcome_name(want_[i_]), fastepost_event_result_error(event(r, i_))); \
  } while (0)

/* A workflow webhook for Contacts:<id> as JSON. */
static char *workflow(const char *id, const char *modified, const char *fields) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&b, "{\"module\":\"Contacts\",\"id\":\"%s\",\"Modified_Time\":\"%s\",\"token\":\"" WF_TOKEN
                            "\"%s%s}",
                        id, modified, *fields ? "," : "", fields);
  return fastepost__buf_detach(&b);
}

/* A callback of channel 1000000068001. */
static char *callback(const char *module, const char *operation, long long server_time, const char *ids,
                      const char *affected) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&b, "{\"channel_id\":\"1000000068001\",\"token\":\"" CHANNEL_TOKEN "\",\"module\":\"%s\","
                            "\"operation\":\"%s\",\"server_time\":%lld,\"ids\":[%s],\"query_params\":{}%s%s}",
                        module, operation, server_time, ids, affected ? ",\"affected_values\":" : "",
                        affected ? affected : "");
  return fastepost__buf_detach(&b);
}

#define CUSTOMER(crm_id)                                                                           \
  Q("SELECT concat_ws('|', name, email, phone, company, address, active, crm_source) FROM customers " \
    "WHERE crm_id = '" crm_id "'")

/* ---- workflow webhooks --------------------------------------------------------------------- */

Test(zoho_process, workflow_created_then_updated_duplicate_and_stale) {
  fastepost_webhook_response *r = deliver_fixture("ok.json", JSON);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED);
  cr_assert_eq(fastepost_webhook_response_http_status(r), 200);
  cr_assert_gt(fastepost_event_result_remark_id(event(r, 0)), 0);
  fastepost_webhook_response_free(r);
  cr_assert_str_eq(CUSTOMER("Contacts:5725767000003000201"),
                   "Meera Iyer|meera.iyer@example.in|+91 80 4000 1234|Zylker Corp|12 MG Road, Bengaluru, 560001, "
                   "India|t|zoho");
  cr_assert_str_eq(Q("SELECT crm_updated_at FROM customers"), "2026-11-27 14:38:56");
  cr_assert_str_eq(Q("SELECT body FROM remarks"), "Signed up through the workflow webhook.");
  cr_assert_str_eq(Q("SELECT concat_ws('|', event_type, external_id, outcome, payload->>'First_Name', "
                     "(payload ? 'token')::text) FROM integration_events"),
                   "Contacts.webhook|Contacts:5725767000003000201|created|Meera|false");

  /* the same change again (its offset written differently): a duplicate */
  char *same = workflow("5725767000003000201", "2026-11-27T14:38:56Z", "\"Last_Name\":\"Other\"");
  r = deliver(JSON, same, FASTEPOST_OK);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_DUPLICATE);
  fastepost_webhook_response_free(r);
  free(same);

  /* a later change: updated; fields not sent are left alone */
  char *later = workflow("5725767000003000201", "2026-11-28T09:00:00+05:30",
                         "\"Last_Name\":\"Iyer-Nair\",\"Email\":\"meera@zylker.in\"");
  r = deliver(JSON, later, FASTEPOST_OK);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_UPDATED);
  fastepost_webhook_response_free(r);
  free(later);
  cr_assert_str_eq(CUSTOMER("Contacts:5725767000003000201"),
                   "Meera Iyer-Nair|meera@zylker.in|+91 80 4000 1234|Zylker Corp|12 MG Road, Bengaluru, 560001, "
                   "India|t|zoho");

  /* an older change arriving late: stale for the fields the later one set */
  char *older = workflow("5725767000003000201", "2026-11-28T01:00:00+05:30", "\"Email\":\"old@zylker.in\"");
  r = deliver(JSON, older, FASTEPOST_OK);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_STALE);
  fastepost_webhook_response_free(r);
  free(older);
  cr_assert_str_eq(Q("SELECT email FROM customers"), "meera@zylker.in");
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 3);
}

Test(zoho_process, workflow_form_body) {
  fastepost_webhook_response *r = deliver_fixture("workflow_contact.form", FORM);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED);
  fastepost_webhook_response_free(r);
  cr_assert_str_eq(CUSTOMER("Contacts:5725767000003000101"),
                   "Asha Rao|asha.rao@example.in|+91 98450 00001|Zylker Corp|12 MG Road, Bengaluru, Karnataka, "
                   "560001, India|t|zoho");
  cr_assert_str_eq(Q("SELECT body FROM remarks"), "Prefers e-mail.\nAsked for a callback.");
}

/* ---- callbacks ----------------------------------------------------------------------------- */

Test(zoho_process, callback_update_with_affected_values) {
  /* Zoho's own sample: a lead known only by this change */
  fastepost_webhook_response *r = deliver_fixture("callback_update_affected.json", JSON);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED);
  fastepost_webhook_response_free(r);
  cr_assert_str_eq(CUSTOMER("Leads:5725767000003000010"), "123456789|t|zoho");

  /* a lead from its workflow webhook, then a callback emptying Phone and changing Mobile */
  r = deliver_fixture("workflow_lead.json", JSON);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED);
  fastepost_webhook_response_free(r);
  cr_assert_str_eq(CUSTOMER("Leads:5725767000003000064"),
                   "Dana Whitfield|dana.whitfield@example.com|+1 415 555 0134|Whitfield Tooling|500 Howard St, San "
                   "Francisco, CA, 94105, USA|t|zoho");
  /* 2026-11-28 00:00:00 UTC, after the webhook's Modified_Time */
  char *cb = callback("Leads", "update", 1796083200000LL - 3 * 86400000LL, "\"5725767000003000064\"",
                      "[{\"record_id\":\"5725767000003000064\",\"values\":{\"Phone\":null,\"Mobile\":\"+1 415 555 0200\","
                      "\"First_Name\":\"Dana\",\"Last_Name\":\"Whitfield-Ross\"}}]");
  r = deliver(JSON, cb, FASTEPOST_OK);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_UPDATED);
  fastepost_webhook_response_free(r);
  cr_assert_str_eq(CUSTOMER("Leads:5725767000003000064"),
                   "Dana Whitfield-Ross|dana.whitfield@example.com|+1 415 555 0200|Whitfield Tooling|500 Howard St, San "
                   "Francisco, CA, 94105, USA|t|zoho");
  /* the same callback again: a duplicate */
  r = deliver(JSON, cb, FASTEPOST_OK);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_DUPLICATE);
  fastepost_webhook_response_free(r);
  free(cb);
  cr_assert_str_eq(Q("SELECT payload->>'record_id' || '|' || (payload ? 'token')::text FROM integration_events "
                     "WHERE event_type = 'Leads.update' ORDER BY id DESC LIMIT 1"),
                   "5725767000003000064|false");
}

Test(zoho_process, ids_only_callback_is_ignored_with_a_warning) {
  fastepost_webhook_response *r = deliver_fixture("callback_insert.json", JSON);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_IGNORED);
  cr_assert_eq(fastepost_webhook_response_http_status(r), 200);
  cr_assert(has_warning(event(r, 0), "must be fetched from Zoho CRM"));
  fastepost_webhook_response_free(r);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  cr_assert_str_eq(Q("SELECT concat_ws('|', status, outcome, event_type, external_id) FROM integration_events"),
                   "success|ignored|Leads.insert|Leads:5725767000003000064");
}

Test(zoho_process, delete_makes_the_customer_inactive_and_later_old_events_stale) {
  fastepost_webhook_response *r = deliver_fixture("ok.json", JSON);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED);
  fastepost_webhook_response_free(r);
  /* 2026-11-29 */
  char *del = callback("Contacts", "delete", 1796083200000LL - 2 * 86400000LL, "\"5725767000003000201\"", NULL);
  r = deliver(JSON, del, FASTEPOST_OK);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_UPDATED);
  fastepost_webhook_response_free(r);
  free(del);
  cr_assert_str_eq(Q("SELECT active::text || '|' || name FROM customers"), "false|Meera Iyer");
  /* a change made before the deletion, arriving after it */
  char *late = workflow("5725767000003000201", "2026-11-28T00:00:00Z", "\"Email\":\"late@zylker.in\"");
  r = deliver(JSON, late, FASTEPOST_OK);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_STALE);
  fastepost_webhook_response_free(r);
  free(late);
  cr_assert_str_eq(Q("SELECT active::text || '|' || email FROM customers"), "false|meera.iyer@example.in");

  /* deleted before anything else was seen: no customer, but what comes later and older is stale */
  r = deliver_fixture("callback_delete.json", JSON);
  cr_assert_eq(fastepost_event_result_code(event(r, 0)), FASTEPOST_OK);
  fastepost_webhook_response_free(r);
  char *before = callback("Contacts", "update", 1718117000000LL, "\"5725767000003000101\"",
                          "[{\"record_id\":\"5725767000003000101\",\"values\":{\"Last_Name\":\"Ghost\"}}]");
  r = deliver(JSON, before, FASTEPOST_OK);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_STALE);
  fastepost_webhook_response_free(r);
  free(before);
  cr_assert_eq(N("SELECT count(*) FROM customers WHERE crm_id = 'Contacts:5725767000003000101'"), 0);
}

Test(zoho_process, a_batch_of_ids_one_bad_among_good_ones) {
  fastepost_webhook_response *r = deliver_fixture("callback_batch.json", JSON);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_NONE,
                  FASTEPOST_OUTCOME_IGNORED);
  const fastepost_event_batch *b = fastepost_webhook_response_events(r);
  cr_assert_eq(fastepost_event_batch_failed(b), 1);
  cr_assert_eq(fastepost_event_result_code(event(r, 2)), FASTEPOST_EINVALID);
  cr_assert_str_eq(fastepost_event_batch_event_type(b, 0), "Contacts.update");
  cr_assert_eq(fastepost_event_batch_object_id(b, 1), 5725767000003000102LL);
  fastepost_webhook_response_free(r);
  cr_assert_str_eq(CUSTOMER("Contacts:5725767000003000101"), "Asha Rao|asha.rao@example.in|t|zoho");
  cr_assert_str_eq(CUSTOMER("Contacts:5725767000003000102"), "+91 98450 00002|Zylker|t|zoho");
  cr_assert_eq(N("SELECT count(*) FROM customers"), 2);
  cr_assert_str_eq(Q("SELECT string_agg(status || ':' || coalesce(outcome, ''), ',' ORDER BY id) FROM "
                     "integration_events"),
                   "success:created,success:created,error:,success:ignored");
  /* the secret-looking query_params never reached the event log */
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE payload::text LIKE '%not-a-real-secret%'"), 0);
  /* the whole batch again: every event a duplicate, the bad one tried again (and failing again) */
  r = deliver_fixture("callback_batch.json", JSON);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_DUPLICATE, FASTEPOST_OUTCOME_DUPLICATE, FASTEPOST_OUTCOME_NONE,
                  FASTEPOST_OUTCOME_DUPLICATE);
  fastepost_webhook_response_free(r);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 4);
}

/* ---- refused requests ---------------------------------------------------------------------- */

Test(zoho_process, refused_requests_write_nothing) {
  static const struct {
    const char *uri, *ct, *body;
    fastepost_status want;
    int http;
  } cases[] = {
      {URI, JSON,
       "{\"channel_id\":\"1000000068001\",\"token\":\"wrong\",\"module\":\"Leads\",\"operation\":\"delete\","
       "\"server_time\":1718117126473,\"ids\":[\"5\"]}",
       FASTEPOST_EAUTH, 401},
      {URI, JSON,
       "{\"channel_id\":\"1000000068009\",\"token\":\"" CHANNEL_TOKEN "\",\"module\":\"Leads\",\"operation\":"
       "\"delete\",\"server_time\":1718117126473,\"ids\":[\"5\"]}",
       FASTEPOST_EAUTH, 401},
      {URI, FORM, "module=Leads&id=1&Modified_Time=2026-11-27T20%3A08%3A56Z&Last_Name=X", FASTEPOST_EAUTH, 401},
      {URI "?token=nope", FORM, "module=Leads&id=1&Modified_Time=2026-11-27T20%3A08%3A56Z&Last_Name=X",
       FASTEPOST_EAUTH, 401},
      {URI "?token=" WF_TOKEN, FORM, "module=Leads&id=1&Last_Name=%zz", FASTEPOST_EPARSE, 400},
      {URI "?token=" WF_TOKEN, JSON, "{\"module\":\"Leads\",", FASTEPOST_EPARSE, 400},
      {URI "?token=" WF_TOKEN, JSON, "module=Leads&id=1", FASTEPOST_EPARSE, 400},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fastepost_webhook_config *cfg = config(NULL);
    fastepost_webhook_response *r = deliver_with(fptest_conn(), cfg, cases[i].uri, cases[i].ct, cases[i].body,
                                                 strlen(cases[i].body), cases[i].want);
    cr_assert_eq(fastepost_webhook_response_http_status(r), cases[i].http, "case %zu", i);
    cr_assert_eq(fastepost_event_batch_count(fastepost_webhook_response_events(r)), 0);
    cr_assert_null(strstr(fastepost_webhook_response_error(r), CHANNEL_TOKEN));
    fastepost_webhook_response_free(r);
    fastepost_webhook_config_free(cfg);
  }
  /* a callback whose envelope cannot be used, after it verified */
  fastepost_webhook_response *r =
      deliver(JSON, "{\"channel_id\":\"1000000068001\",\"token\":\"" CHANNEL_TOKEN "\",\"ids\":[]}", FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_webhook_response_http_status(r), 400);
  fastepost_webhook_response_free(r);
  /* configured without a zoho section: refused, fail closed */
  fastepost_webhook_config *none = NULL;
  cr_assert_eq(fastepost_webhook_config_new(&none), FASTEPOST_OK);
  size_t len = 0;
  char *ok = fixture("ok.json", &len);
  r = deliver_with(fptest_conn(), none, URI, JSON, ok, len, FASTEPOST_ENOKEY);
  cr_assert_eq(fastepost_webhook_response_http_status(r), 401);
  fastepost_webhook_response_free(r);
  fastepost_webhook_config_free(none);
  free(ok);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 0);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 0);
}

/* ---- retry and the spool ------------------------------------------------------------------- */

Test(zoho_process, failed_form_delivery_is_retried_from_its_payload) {
  fptest_exec("CREATE FUNCTION fail_busy() RETURNS trigger LANGUAGE plpgsql AS "
              "$$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40001'; END $$");
  fptest_exec("CREATE TRIGGER fail_busy BEFORE INSERT OR UPDATE ON customers "
              "FOR EACH ROW EXECUTE FUNCTION fail_busy()");
  /* one event: the request answers with its status (503, so that a sender may try again) */
  fastepost_webhook_response *r = deliver_fixture_want("workflow_contact.form", FORM, FASTEPOST_EBUSY);
  cr_assert_eq(fastepost_event_result_code(event(r, 0)), FASTEPOST_EBUSY);
  cr_assert_eq(fastepost_webhook_response_http_status(r), 503);
  fastepost_webhook_response_free(r);
  cr_assert_str_eq(Q("SELECT status || '|' || (next_attempt_at IS NOT NULL) || '|' || ((payload ? 'token')::text) "
                     "FROM integration_events"),
                   "error|true|false");
  fptest_exec("DROP TRIGGER fail_busy ON customers");
  fptest_exec("UPDATE integration_events SET next_attempt_at = localtimestamp - interval '1 second'");
  fptest_retry rep;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, NULL, NULL, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.attempted, 1);
  cr_assert_eq(rep.succeeded, 1);
  cr_assert_str_eq(Q("SELECT concat_ws('|', status, outcome, attempts) FROM integration_events"), "success|created|2");
  cr_assert_str_eq(CUSTOMER("Contacts:5725767000003000101"),
                   "Asha Rao|asha.rao@example.in|+91 98450 00001|Zylker Corp|12 MG Road, Bengaluru, Karnataka, "
                   "560001, India|t|zoho");
  /* Zoho's redelivery is now a duplicate */
  r = deliver_fixture("workflow_contact.form", FORM);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_DUPLICATE);
  fastepost_webhook_response_free(r);
}

Test(zoho_process, spooled_form_body_is_replayed) {
  char dir[256];
  fptest_tmpdir(dir, sizeof dir, "zoho-spool");
  fastepost_spool *spool = NULL;
  cr_assert_eq(fastepost_spool_open(&spool, dir), FASTEPOST_OK);
  fastepost_webhook_config *cfg = config(spool);
  size_t len = 0;
  char *form = fixture("workflow_contact.form", &len);
  /* no connection: the verified request goes to the spool, answered 202 */
  fastepost_webhook_response *r = deliver_with(NULL, cfg, URI, FORM, form, len, FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_response_spooled(r), 1);
  cr_assert_eq(fastepost_webhook_response_http_status(r), 202);
  fastepost_webhook_response_free(r);
  /* a refused request is not spooled */
  const char *bad = "module=Leads&id=1&token=wrong";
  r = deliver_with(NULL, cfg, URI, FORM, bad, strlen(bad), FASTEPOST_EAUTH);
  cr_assert_eq(fastepost_webhook_response_spooled(r), 0);
  fastepost_webhook_response_free(r);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 0);
  fptest_replay rep;
  cr_assert_eq(fptest_spool_replay(&rep, spool, fptest_conn(), 0), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(rep.replayed, 1);
  cr_assert_eq(rep.rejected, 0);
  cr_assert_str_eq(CUSTOMER("Contacts:5725767000003000101"),
                   "Asha Rao|asha.rao@example.in|+91 98450 00001|Zylker Corp|12 MG Road, Bengaluru, Karnataka, "
                   "560001, India|t|zoho");
  cr_assert_str_eq(Q("SELECT concat_ws('|', source, event_type, outcome, (payload ? 'token')::text) FROM integration_events"),
                   "zoho|Contacts.webhook|created|false");
  /* the same delivery from Zoho, once the database is back: a duplicate */
  r = deliver_with(fptest_conn(), cfg, URI, FORM, form, len, FASTEPOST_OK);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_DUPLICATE);
  fastepost_webhook_response_free(r);
  free(form);
  fastepost_webhook_config_free(cfg);
  fastepost_spool_free(spool);
  fptest_rmtree(dir);
}

Test(zoho_process, a_lead_converted_to_a_contact_keeps_its_customer) {
  fastepost_webhook_response *r = deliver_fixture("workflow_lead.json", JSON);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CREATED);
  int64_t lead_customer = fastepost_event_result_customer_id(event(r, 0));
  fastepost_webhook_response_free(r);
  /* Zoho makes a contact (a new id) with the lead's e-mail */
  char *contact = workflow("5725767000003000999", "2026-11-28T10:00:00Z",
                           "\"First_Name\":\"Dana\",\"Last_Name\":\"Whitfield\","
                           "\"Email\":\"dana.whitfield@example.com\",\"Account_Name\":\"Whitfield Tooling Inc\"");
  r = deliver(JSON, contact, FASTEPOST_OK);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_UPDATED);
  cr_assert_eq(fastepost_event_result_customer_id(event(r, 0)), lead_customer);
  fastepost_webhook_response_free(r);
  free(contact);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_str_eq(Q("SELECT crm_id || '|' || name || '|' || company FROM customers"),
                   "Contacts:5725767000003000999|Dana Whitfield|Whitfield Tooling Inc");
  /* another contact with that e-mail is a conflict, not a silent takeover */
  char *other = workflow("5725767000003000998", "2026-11-28T11:00:00Z", "\"Email\":\"dana.whitfield@example.com\"");
  r = deliver(JSON, other, FASTEPOST_ECONFLICT);
  EXPECT_OUTCOMES(r, FASTEPOST_OUTCOME_CONFLICT);
  fastepost_webhook_response_free(r);
  free(other);
  cr_assert_str_eq(Q("SELECT crm_id FROM customers"), "Contacts:5725767000003000999");
}

/* The command line a host would script: a form body whose token comes in the query string. */
Test(zoho_process, cli_form_body_with_the_token_in_the_query) {
  char dir[256], body[512], tokens[512], out[16384];
  fptest_tmpdir(dir, sizeof dir, "zoho-cli");
  snprintf(body, sizeof body, "%s/body.form", dir);
  snprintf(tokens, sizeof tokens, "%s/query", dir);
  fptest_write_file(body,
                    "module=Leads&id=5725767000003000301&Last_Name=Okafor&Company=Okafor+%26+Sons"
                    "&Modified_Time=2026-11-27T20%3A08%3A56%2B01%3A00",
                    0600);
  fptest_write_file(tokens, "token=" WF_TOKEN "\n", 0600);
  const char *cfg = fptest_source_path("tests/fixtures/zoho/config.json");
  int rc = fptest_cli_db(out, sizeof out,
                         "webhook process zoho --config '%s' --content-type " FORM " --query-file '%s' --now 1796083200 "
                         "--json '%s'",
                         cfg, tokens, body);
  cr_assert_eq(rc, 0, "%s", out);
  cr_assert(strstr(out, "\"outcome\":\"created\""), "%s", out);
  cr_assert(strstr(out, "\"external_id\":\"Leads:5725767000003000301\""), "%s", out);
  cr_assert_null(strstr(out, WF_TOKEN), "%s", out);
  cr_assert_str_eq(CUSTOMER("Leads:5725767000003000301"), "Okafor|Okafor & Sons|t|zoho");
  /* a wrong token: exit 1, 401, nothing written */
  fptest_write_file(tokens, "token=wrong\n", 0600);
  rc = fptest_cli_db(out, sizeof out, "webhook process zoho --config '%s' --query-file '%s' --json '%s'", cfg, tokens,
                     body);
  cr_assert_eq(rc, 1, "%s", out);
  cr_assert(strstr(out, "\"http_status\":401"), "%s", out);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1);
  fptest_rmtree(dir);
}
