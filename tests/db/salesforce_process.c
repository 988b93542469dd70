/* SPDX-License-Identifier: MIT */
/* Salesforce outbound messages through fastepost_webhook_process() against a real database:
 * created Contact and Lead (with its remark), duplicates, stale versions, IsDeleted, a batch with
 * one bad notification, a wrong organisation or hostile XML that writes nothing, and the SOAP
 * answer: the acknowledgement only once the notifications are committed (or spooled), a fault
 * with 500 when the database failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "retry_counts.h"
#include "salesforce_message.h"
#include "testdb.h"

TestSuite(salesforce_process, .init = fptest_setup_schema, .fini = fptest_teardown);

#define Q(sql) fptest_scalar(sql)
#define N(sql) fptest_count(sql)
#define ORG "00D000000000001"

static char *fixture(const char *name, size_t *len) {
  char rel[256];
  snprintf(rel, sizeof rel, "tests/fixtures/salesforce/%s", name);
  return fptest_read_file(fptest_source_path(rel), len);
}

/* The shared fixture configuration (config.json), with a spool when spool is not NULL. */
static fastepost_webhook_config *config(fastepost_spool *spool) {
  size_t len;
  char *json = fixture("config.json", &len);
  fastepost_webhook_config *cfg = NULL;
  cr_assert_eq(fastepost_webhook_config_new(&cfg), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_config_load_json(cfg, json, len), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  if (spool)
    cr_assert_eq(fastepost_webhook_config_set_spool(cfg, spool), FASTEPOST_OK);
  free(json);
  return cfg;
}

/* Process a body as Salesforce sends it (its headers); check status and HTTP status. */
static fastepost_webhook_response *process_with(fastepost_conn *conn, const fastepost_webhook_config *cfg,
                                                const char *body, size_t len, fastepost_status want, int http) {
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  fastepost_webhook_request_set_uri(req, "https://app.example.com/api/v1/integrations/salesforce");
  fastepost_webhook_request_set_header(req, "Content-Type", "text/xml; charset=utf-8");
  fastepost_webhook_request_set_header(req, "SOAPAction", "\"\"");
  cr_assert_eq(fastepost_webhook_request_set_body(req, body, len), FASTEPOST_OK);
  fastepost_webhook_response *resp = NULL;
  fastepost_status st = fastepost_webhook_process(&resp, conn, "salesforce", req, cfg);
  cr_assert_eq(st, want, "status %s, wanted %s: %s", fastepost_error_name(st), fastepost_error_name(want),
               fastepost_error_last()->message);
  cr_assert_not_null(resp);
  cr_assert_eq(fastepost_webhook_response_http_status(resp), http, "http %d: %s",
               fastepost_webhook_response_http_status(resp), (const char *)fastepost_webhook_response_body(resp));
  cr_assert_str_eq(fastepost_webhook_response_content_type(resp), "text/xml; charset=utf-8");
  fastepost_webhook_request_free(req);
  return resp;
}

static fastepost_webhook_response *process(const char *body, fastepost_status want, int http) {
  fastepost_webhook_config *cfg = config(NULL);
  fastepost_webhook_response *resp = process_with(fptest_conn(), cfg, body, strlen(body), want, http);
  fastepost_webhook_config_free(cfg);
  return resp;
}

static bool is_ack(const fastepost_webhook_response *resp) {
  size_t len;
  char *ack = fixture("ack.xml", &len);
  bool yes = fastepost_webhook_response_body_len(resp) == len &&
             memcmp(fastepost_webhook_response_body(resp), ack, len) == 0;
  free(ack);
  return yes;
}

static void assert_fault(const fastepost_webhook_response *resp, const char *code) {
  const char *body = fastepost_webhook_response_body(resp);
  cr_assert(strstr(body, "<soapenv:Fault>"), "%s", body);
  cr_assert(strstr(body, code), "%s", body);
  cr_assert_null(strstr(body, "Ack"));
}

static fastepost_outcome outcome(const fastepost_webhook_response *resp, size_t i) {
  return fastepost_event_result_outcome(fastepost_event_batch_get(fastepost_webhook_response_events(resp), i));
}

#define EXPECT_OUTCOMES(resp, ...)                                                                   \
  do {                                                                                               \
    const fastepost_outcome want_[] = {__VA_ARGS__};                                                 \
    size_t n_ = sizeof want_ / sizeof want_[0];                                                      \
    const fastepost_event_batch *b_ = fastepost_webhook_response_events(resp);                       \
    cr_assert_eq(fastepost_event_batch_count(b_), n_);                                               \
    for (size_t i_ = 0; i_ < n_; i_++)                                                               \
      cr_assert_eq(outcome(resp, i_), want_[i_], "event %zu: %s, want %s (%s)", i_,                  \
                   fastepost_outcome_name(outcome(resp, i_)), fastepost_outcome_name(want_[i_]),     \
                   fastepost_event_result_error(fastepost_event_batch_get(b_, i_)));                 \
  } while (0)

/* A Contact notification: notification number k, record number id, a version and fields. */
static void contact(fastepost__buf *b, int k, int id, const char *modstamp, const char *fields) {
  char nid[32], f[1024];
  snprintf(nid, sizeof nid, "04l%012d", k);
  snprintf(f, sizeof f, "<sf:Id>003%012d</sf:Id>%s<sf:SystemModstamp>%s</sf:SystemModstamp>", id, fields, modstamp);
  fptest_sf_notification(b, nid, "Contact", f);
}

static fastepost_webhook_response *run(fastepost__buf *b, fastepost_status want, int http) {
  char *msg = fptest_sf_envelope(ORG, fastepost__buf_cstr(b));
  fastepost_webhook_response *resp = process(msg, want, http);
  free(msg);
  fastepost__buf_clear(b);
  return resp;
}

Test(salesforce_process, ok_fixture_creates_the_contact_and_acks) {
  size_t len;
  char *body = fixture("ok.xml", &len);
  char *expect = fixture("ok.expect", NULL);
  expect[strcspn(expect, "\n")] = '\0';
  fastepost_webhook_config *cfg = config(NULL);
  fastepost_webhook_response *resp = process_with(fptest_conn(), cfg, body, len, FASTEPOST_OK, 200);
  cr_assert(is_ack(resp), "%s", (const char *)fastepost_webhook_response_body(resp));
  EXPECT_OUTCOMES(resp, FASTEPOST_OUTCOME_CREATED);
  cr_assert_str_eq(fastepost_event_batch_external_id(fastepost_webhook_response_events(resp), 0), expect);
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT concat_ws('|', name, email, phone, company, address, active, crm_updated_at) FROM customers "
           "WHERE crm_source = 'salesforce' AND crm_id = '%s'", expect);
  cr_assert_str_eq(Q(sql), "Ada Lovelace|ada.lovelace@example.com|+44 20 7946 0958|12 St James's Square, "
                           "London, W1J 7NT, United Kingdom|t|2025-11-27 10:15:00");
  cr_assert_str_eq(Q("SELECT concat_ws('|', source, event_type, external_id, status, outcome) FROM integration_events"),
                   "salesforce|Contact|Contact:003000000000001AAA|success|created");
  /* The stored payload is the notification's JSON, without the session. */
  cr_assert_str_eq(Q("SELECT payload->'fields'->>'LastName' FROM integration_events"), "Lovelace");
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE payload::text LIKE '%SessionId%'"), 0);
  fastepost_webhook_response_free(resp);
  /* Delivered again: a duplicate, acknowledged, nothing new. */
  resp = process_with(fptest_conn(), cfg, body, len, FASTEPOST_OK, 200);
  cr_assert(is_ack(resp));
  EXPECT_OUTCOMES(resp, FASTEPOST_OUTCOME_DUPLICATE);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1);
  fastepost_webhook_response_free(resp);
  fastepost_webhook_config_free(cfg);
  free(expect);
  free(body);
}

Test(salesforce_process, aspnet_sample_and_lead_with_remark) {
  size_t len;
  char *body = fixture("contacts.xml", &len);
  fastepost_webhook_config *cfg = config(NULL);
  fastepost_webhook_response *resp = process_with(fptest_conn(), cfg, body, len, FASTEPOST_OK, 200);
  cr_assert(is_ack(resp));
  EXPECT_OUTCOMES(resp, FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_CREATED);
  cr_assert_str_eq(Q("SELECT string_agg(concat_ws('|', crm_id, name, email), ',' ORDER BY name) FROM customers"),
                   "Contact:0031I0000081tb0QAA|Doug Bunting|drb24@cornell.edu,"
                   "Contact:0031I0000081tbPQAQ|Jeraldine Black");
  fastepost_webhook_response_free(resp);
  free(body);
  body = fixture("lead_nil_session.xml", &len);
  resp = process_with(fptest_conn(), cfg, body, len, FASTEPOST_OK, 200);
  cr_assert(is_ack(resp));
  EXPECT_OUTCOMES(resp, FASTEPOST_OUTCOME_CREATED);
  const fastepost_event_result *r = fastepost_event_batch_get(fastepost_webhook_response_events(resp), 0);
  cr_assert_gt(fastepost_event_result_remark_id(r), 0);
  cr_assert_str_eq(Q("SELECT concat_ws('|', name, email, phone, company, address) FROM customers "
                     "WHERE crm_id = 'Lead:00Q000000000001EAA'"),
                   "Henrik Nielsen|+1 425 555 0100|Microsoft|One Microsoft Way, Building 92, Redmond, WA, 98052, USA");
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT body FROM remarks WHERE id = %lld", (long long)fastepost_event_result_remark_id(r));
  cr_assert_str_eq(Q(sql), "Some notes...");
  fastepost_webhook_response_free(resp);
  fastepost_webhook_config_free(cfg);
  free(body);
}

Test(salesforce_process, older_version_is_stale_and_is_deleted_deactivates) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  contact(&b, 1, 7, "2025-11-27T12:00:00Z", "<sf:FirstName>Grace</sf:FirstName><sf:LastName>Hopper</sf:LastName>");
  fastepost_webhook_response *resp = run(&b, FASTEPOST_OK, 200);
  EXPECT_OUTCOMES(resp, FASTEPOST_OUTCOME_CREATED);
  fastepost_webhook_response_free(resp);
  /* Out of order: an older notification of the same record arrives later. */
  contact(&b, 2, 7, "2025-11-27T11:00:00Z", "<sf:LastName>Murray</sf:LastName>");
  resp = run(&b, FASTEPOST_OK, 200);
  EXPECT_OUTCOMES(resp, FASTEPOST_OUTCOME_STALE);
  cr_assert(is_ack(resp)); /* stale is handled: acknowledged */
  fastepost_webhook_response_free(resp);
  cr_assert_str_eq(Q("SELECT name FROM customers"), "Grace Hopper");
  /* A newer one with only LastName keeps FirstName (a property each). */
  contact(&b, 3, 7, "2025-11-27T13:00:00Z", "<sf:LastName>Murray Hopper</sf:LastName>");
  resp = run(&b, FASTEPOST_OK, 200);
  EXPECT_OUTCOMES(resp, FASTEPOST_OUTCOME_UPDATED);
  fastepost_webhook_response_free(resp);
  cr_assert_str_eq(Q("SELECT name FROM customers"), "Grace Murray Hopper");
  /* Deleted: inactive; an older change that arrives later cannot revive it. */
  contact(&b, 4, 7, "2025-11-27T14:00:00Z", "<sf:IsDeleted>true</sf:IsDeleted>");
  contact(&b, 5, 7, "2025-11-27T13:30:00Z", "<sf:LastName>Zombie</sf:LastName>");
  resp = run(&b, FASTEPOST_OK, 200);
  EXPECT_OUTCOMES(resp, FASTEPOST_OUTCOME_UPDATED, FASTEPOST_OUTCOME_STALE);
  fastepost_webhook_response_free(resp);
  cr_assert_str_eq(Q("SELECT concat_ws('|', name, active) FROM customers"), "Grace Murray Hopper|f");
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  fastepost__buf_free(&b);
}

Test(salesforce_process, batch_with_one_bad_notification_applies_the_others) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  contact(&b, 1, 1, "2025-11-27T12:00:00Z", "<sf:LastName>One</sf:LastName>");
  contact(&b, 2, 2, "not a time", "<sf:LastName>Two</sf:LastName>");
  contact(&b, 3, 3, "2025-11-27T12:00:00Z", "<sf:LastName>Three</sf:LastName>");
  fptest_sf_notification(&b, "04l000000000004AAA", "Account", "<sf:Id>001000000000001AAA</sf:Id>");
  fastepost_webhook_response *resp = run(&b, FASTEPOST_OK, 200);
  cr_assert(is_ack(resp));
  EXPECT_OUTCOMES(resp, FASTEPOST_OUTCOME_CREATED, FASTEPOST_OUTCOME_NONE, FASTEPOST_OUTCOME_CREATED,
                  FASTEPOST_OUTCOME_IGNORED);
  const fastepost_event_batch *batch = fastepost_webhook_response_events(resp);
  cr_assert_eq(fastepost_event_batch_failed(batch), 1);
  cr_assert(strstr(fastepost_event_result_error(fastepost_event_batch_get(batch, 1)), "SystemModstamp"));
  cr_assert_str_eq(Q("SELECT string_agg(name, ',' ORDER BY name) FROM customers"), "One,Three");
  cr_assert_str_eq(Q("SELECT string_agg(status || ':' || coalesce(outcome, ''), ',' ORDER BY id) FROM integration_events"),
                   "success:created,error:,success:created,success:ignored");
  fastepost_webhook_response_free(resp);
  /* A message of that one bad notification: logged, so acknowledged (sending it again mends
   * nothing), although the call reports the notification's failure. */
  contact(&b, 5, 5, "never", "<sf:LastName>Five</sf:LastName>");
  resp = run(&b, FASTEPOST_EINVALID, 200);
  cr_assert(is_ack(resp));
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE status = 'error'"), 2);
  fastepost_webhook_response_free(resp);
  fastepost__buf_free(&b);
}

Test(salesforce_process, wrong_org_and_hostile_xml_write_nothing) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  contact(&b, 1, 1, "2025-11-27T12:00:00Z", "<sf:LastName>One</sf:LastName>");
  char *msg = fptest_sf_envelope("00D000000000002", fastepost__buf_cstr(&b));
  fastepost_webhook_response *resp = process(msg, FASTEPOST_EAUTH, 400);
  assert_fault(resp, "soapenv:Client");
  cr_assert_eq(fastepost_event_batch_count(fastepost_webhook_response_events(resp)), 0);
  fastepost_webhook_response_free(resp);
  free(msg);
  /* A DOCTYPE with an external entity, in a message of the right organisation. */
  msg = fptest_sf_envelope(ORG, fastepost__buf_cstr(&b));
  fastepost__buf x = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&x, "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>%s", strstr(msg, "<soapenv:Envelope"));
  resp = process(fastepost__buf_cstr(&x), FASTEPOST_EPARSE, 400);
  assert_fault(resp, "soapenv:Client");
  cr_assert(strstr(fastepost_webhook_response_error(resp), "DOCTYPE"), "%s", fastepost_webhook_response_error(resp));
  fastepost_webhook_response_free(resp);
  /* Not configured at all: 401. */
  fastepost_webhook_config *none = NULL;
  cr_assert_eq(fastepost_webhook_config_new(&none), FASTEPOST_OK);
  fastepost_webhook_response *r2 = process_with(fptest_conn(), none, msg, strlen(msg), FASTEPOST_ENOKEY, 401);
  fastepost_webhook_response_free(r2);
  fastepost_webhook_config_free(none);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 0);
  fastepost__buf_free(&x);
  fastepost__buf_free(&b);
  free(msg);
}

Test(salesforce_process, database_failure_is_a_500_fault_and_nothing_is_acked) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  contact(&b, 1, 1, "2025-11-27T12:00:00Z", "<sf:LastName>One</sf:LastName>");
  contact(&b, 2, 2, "2025-11-27T12:00:00Z", "<sf:LastName>Two</sf:LastName>");
  char *msg = fptest_sf_envelope(ORG, fastepost__buf_cstr(&b));
  /* The event log refuses every row: nothing can be committed. */
  fptest_exec("ALTER TABLE integration_events ADD CONSTRAINT no_rows CHECK (false) NOT VALID");
  fastepost_webhook_config *cfg = config(NULL);
  fastepost_webhook_response *resp = NULL;
  fastepost_status st = fastepost_webhook_process(&resp, fptest_conn(), "salesforce", NULL, cfg);
  fastepost_webhook_response_free(resp); /* (a NULL request: 400, checked below for the shape) */
  cr_assert_eq(st, FASTEPOST_EINVALID);
  fastepost_webhook_request *req = NULL;
  fastepost_webhook_request_new(&req);
  fastepost_webhook_request_set_body(req, msg, strlen(msg));
  st = fastepost_webhook_process(&resp, fptest_conn(), "salesforce", req, cfg);
  cr_assert_eq(fastepost_webhook_response_http_status(resp), 500, "%s: %s", fastepost_error_name(st),
               (const char *)fastepost_webhook_response_body(resp));
  for (size_t i = 0; i < 2; i++) /* nothing applied, nothing logged */
    cr_assert_eq(fastepost_event_result_event_id(fastepost_event_batch_get(fastepost_webhook_response_events(resp), i)), 0);
  assert_fault(resp, "soapenv:Server");
  cr_assert_null(strstr(fastepost_webhook_response_body(resp), "no_rows"));
  cr_assert_null(strstr(fastepost_webhook_response_body(resp), "integration_events"));
  fastepost_webhook_response_free(resp);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  fptest_exec("ALTER TABLE integration_events DROP CONSTRAINT no_rows");
  /* A lost connection: a fault too. */
  fastepost_conn_close(fptest_conn());
  st = fastepost_webhook_process(&resp, fptest_conn(), "salesforce", req, cfg);
  cr_assert_eq(st, FASTEPOST_ECONN, "%s", fastepost_error_name(st));
  cr_assert_eq(fastepost_webhook_response_http_status(resp), 500);
  assert_fault(resp, "soapenv:Server");
  fastepost_webhook_response_free(resp);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 0);
  fastepost_webhook_request_free(req);
  fastepost_webhook_config_free(cfg);
  fastepost__buf_free(&b);
  free(msg);
}

Test(salesforce_process, spooled_message_is_acked_and_replayed) {
  char dir[256];
  fptest_tmpdir(dir, sizeof dir, "sf-spool");
  fastepost_spool *spool = NULL;
  cr_assert_eq(fastepost_spool_open(&spool, dir), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  fastepost_webhook_config *cfg = config(spool);
  size_t len;
  char *body = fixture("ok.xml", &len);
  /* No connection: the verified message goes to the spool, and Salesforce gets its ack. */
  fastepost_webhook_response *resp = process_with(NULL, cfg, body, len, FASTEPOST_OK, 200);
  cr_assert(is_ack(resp));
  cr_assert(fastepost_webhook_response_spooled(resp));
  fastepost_webhook_response_free(resp);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  cr_assert_eq(fastepost_spool_set_webhook_config(spool, cfg), FASTEPOST_OK);
  fastepost_spool_replay_report *rep = NULL;
  cr_assert_eq(fastepost_spool_replay(&rep, spool, fptest_conn(), 0), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_spool_replay_report_replayed(rep), 1);
  fastepost_spool_replay_report_free(rep);
  cr_assert_str_eq(Q("SELECT concat_ws('|', crm_id, name) FROM customers"), "Contact:003000000000001AAA|Ada Lovelace");
  fastepost_webhook_config_free(cfg);
  fastepost_spool_free(spool);
  fptest_rmtree(dir);
  free(body);
}

Test(salesforce_process, converted_lead_and_its_contact_are_one_customer) {
  /* A Lead, then (after conversion in Salesforce) the Contact with the same email: one customer,
   * now linked to the Contact, with the Lead's remark kept. */
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fptest_sf_notification(&b, "04l000000000001AAA", "Lead",
                         "<sf:Id>00Q000000000001EAA</sf:Id><sf:LastName>Lamarr</sf:LastName>"
                         "<sf:Email>hedy@example.com</sf:Email><sf:Company>Film</sf:Company>"
                         "<sf:Description>Met at the fair</sf:Description>"
                         "<sf:SystemModstamp>2025-11-27T12:00:00Z</sf:SystemModstamp>");
  fastepost_webhook_response *resp = run(&b, FASTEPOST_OK, 200);
  EXPECT_OUTCOMES(resp, FASTEPOST_OUTCOME_CREATED);
  fastepost_webhook_response_free(resp);
  contact(&b, 2, 9, "2025-11-28T09:00:00Z",
          "<sf:FirstName>Hedy</sf:FirstName><sf:LastName>Lamarr</sf:LastName><sf:Email>Hedy@Example.com</sf:Email>");
  resp = run(&b, FASTEPOST_OK, 200);
  EXPECT_OUTCOMES(resp, FASTEPOST_OUTCOME_UPDATED);
  fastepost_webhook_response_free(resp);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_str_eq(Q("SELECT concat_ws('|', crm_id, name, email, company) FROM customers"),
                   "Contact:003000000000009AAA|Hedy Lamarr|hedy@example.com|Film");
  cr_assert_str_eq(Q("SELECT string_agg(body, ',') FROM remarks"), "Met at the fair");
  fastepost__buf_free(&b);
}

Test(salesforce_process, retry_reprocesses_the_stored_notification) {
  /* A notification refused for its time (before 2000) is an error row with its JSON payload; an
   * operator queues it for a retry, which reads the stored form (no time range then). */
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fptest_sf_notification(&b, "04l000000000001AAA", "Lead",
                         "<sf:Id>00Q000000000001EAA</sf:Id><sf:LastName>Early</sf:LastName>"
                         "<sf:Phone xsi:nil=\"true\"/><sf:Description>Y2K</sf:Description>"
                         "<sf:SystemModstamp>1999-12-31T23:59:59Z</sf:SystemModstamp>");
  contact(&b, 2, 2, "2025-11-27T12:00:00Z", "<sf:LastName>Two</sf:LastName>");
  fastepost_webhook_response *resp = run(&b, FASTEPOST_OK, 200);
  EXPECT_OUTCOMES(resp, FASTEPOST_OUTCOME_NONE, FASTEPOST_OUTCOME_CREATED);
  cr_assert(is_ack(resp));
  fastepost_webhook_response_free(resp);
  cr_assert_str_eq(Q("SELECT payload->>'sobject' || ' ' || (payload->'fields'->'Phone')::text FROM integration_events "
                     "WHERE status = 'error'"),
                   "Lead null");
  fptest_exec("UPDATE integration_events SET next_attempt_at = localtimestamp - interval '1 minute' "
              "WHERE status = 'error'");
  fptest_retry counts;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 0, NULL, NULL, &counts), FASTEPOST_OK,
               "%s", fastepost_error_last()->message);
  cr_assert_eq(counts.succeeded, 1);
  cr_assert_str_eq(Q("SELECT concat_ws('|', c.name, c.crm_id, c.crm_updated_at, r.body) FROM customers c "
                     "JOIN remarks r ON r.customer_id = c.id"),
                   "Early|Lead:00Q000000000001EAA|1999-12-31 23:59:59|Y2K");
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE status = 'error'"), 0);
  fastepost__buf_free(&b);
}
