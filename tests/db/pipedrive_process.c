/* SPDX-License-Identifier: MIT */
/*
 * Pipedrive webhooks against a real database: created, duplicate, stale (out of order), delete
 * (tombstone), merge, note and deal remarks, the company from an earlier organization event, a
 * refused request that writes nothing, retry through fastepost_events_retry() and spool replay.
 * Requests go through fastepost_webhook_process() with {"pipedrive": {"basic_auth": [...]}}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pipedrive_request.h"
#include "retry_counts.h"
#include "testdb.h"

TestSuite(pipedrive_process, .init = fptest_setup_schema, .fini = fptest_teardown);

#define Q(sql) fptest_scalar(sql)
#define N(sql) fptest_count(sql)

static const char CONFIG[] = "{\"basic_auth\": [\"hook:old-password\", \"hook:s3cret:with:colons\"]}";
static const char CREDENTIALS[] = "hook:s3cret:with:colons";

/* What a delivery did (copied out of the response). */
typedef struct delivery {
  int rc;         /* the call's status */
  int http;       /* the answer's status */
  int code;       /* the event's code */
  fastepost_outcome outcome;
  int64_t customer_id, remark_id;
  bool spooled;
  char error[512];
  char warnings[1024];
  char body[2048]; /* the answer */
} delivery;

/* The configuration a host loads: {"pipedrive": CONFIG}. */
static fastepost_webhook_config *config(void) {
  fastepost_webhook_config *cfg = NULL;
  cr_assert_eq(fastepost_webhook_config_new(&cfg), FASTEPOST_OK);
  char json[512];
  snprintf(json, sizeof json, "{\"pipedrive\": %s}", CONFIG);
  cr_assert_eq(fastepost_webhook_config_load_json(cfg, json, strlen(json)), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  return cfg;
}

/* One request as Pipedrive sends it, with the given Authorization header, through
 * fastepost_webhook_process() (conn NULL: only the spool, when cfg has one). */
static delivery deliver_with(fastepost_conn *conn, fastepost_webhook_config *cfg, const char *authorization,
                             const char *body) {
  delivery d = {0};
  fastepost_webhook_request *req = pdtest_request(authorization, body);
  fastepost_webhook_response *resp = NULL;
  d.rc = fastepost_webhook_process(&resp, conn, "pipedrive", req, cfg);
  cr_assert_not_null(resp);
  cr_assert_eq(fastepost_webhook_response_status(resp), d.rc);
  d.http = fastepost_webhook_response_http_status(resp);
  d.spooled = fastepost_webhook_response_spooled(resp);
  cr_assert_str_eq(fastepost_webhook_response_content_type(resp), "application/json", "the generic JSON answer");
  snprintf(d.body, sizeof d.body, "%s", (const char *)fastepost_webhook_response_body(resp));
  snprintf(d.error, sizeof d.error, "%s", fastepost_webhook_response_error(resp));
  const fastepost_event_batch *b = fastepost_webhook_response_events(resp);
  if (fastepost_event_batch_count(b)) {
    cr_assert_eq(fastepost_event_batch_count(b), 1, "Pipedrive posts one object per request");
    const fastepost_event_result *r = fastepost_event_batch_get(b, 0);
    d.code = fastepost_event_result_code(r);
    d.outcome = fastepost_event_result_outcome(r);
    d.customer_id = fastepost_event_result_customer_id(r);
    d.remark_id = fastepost_event_result_remark_id(r);
    if (!*d.error)
      snprintf(d.error, sizeof d.error, "%s", fastepost_event_result_error(r));
    for (size_t i = 0; i < fastepost_event_result_warning_count(r); i++)
      snprintf(d.warnings + strlen(d.warnings), sizeof d.warnings - strlen(d.warnings), "%s;",
               fastepost_event_result_warning(r, i));
  }
  fastepost_webhook_response_free(resp);
  fastepost_webhook_request_free(req);
  return d;
}

static delivery deliver_auth(const char *authorization, const char *body) {
  fastepost_webhook_config *cfg = config();
  delivery d = deliver_with(fptest_conn(), cfg, authorization, body);
  fastepost_webhook_config_free(cfg);
  return d;
}

static delivery deliver(const char *body) { return deliver_auth(pdtest_basic(CREDENTIALS), body); }

/* Deliver and expect an outcome (and a successful call). */
static delivery expect(const char *body, fastepost_outcome want) {
  delivery d = deliver(body);
  cr_assert_eq(d.rc, FASTEPOST_OK, "status %s: %s", fastepost_error_name(d.rc), d.error);
  cr_assert_eq(d.http, 200);
  cr_assert_eq(d.outcome, want, "outcome %s, want %s (%s; warnings %s)", fastepost_outcome_name(d.outcome),
               fastepost_outcome_name(want), d.error, d.warnings);
  return d;
}

static delivery expect_fixture(const char *name, fastepost_outcome want) {
  size_t len;
  char *body = pdtest_fixture(name, &len);
  delivery d = expect(body, want);
  free(body);
  return d;
}

/* A fixture with one member of `section` replaced (see pdtest_with); free() it. */
static char *edited(const char *name, const char *section, const char *key, const char *value) {
  size_t len;
  char *body = pdtest_fixture(name, &len);
  char *out = pdtest_with(body, section, key, value);
  free(body);
  return out;
}

#define CUSTOMER_8 "SELECT concat_ws('|', name, email, phone, company, active, crm_source, crm_id) FROM customers " \
                   "WHERE crm_id = 'person:8'"

Test(pipedrive_process, created_then_duplicate) {
  delivery d = expect_fixture("ok.json", FASTEPOST_OUTCOME_CREATED);
  cr_assert_gt(d.customer_id, 0);
  /* org_id 1, whose name no organization event has brought yet */
  cr_assert(strstr(d.warnings, "company: no name of organization:1 is stored yet"), "%s", d.warnings);
  cr_assert_str_eq(Q(CUSTOMER_8), "Sample|t|pipedrive|person:8");
  cr_assert_str_eq(Q("SELECT concat_ws('|', source, event_type, status, outcome, external_id) "
                     "FROM integration_events"),
                   "pipedrive|create.person|success|created|person:8");
  /* Pipedrive's retry (attempt 2) of the same delivery */
  char *again = edited("ok.json", "meta", "attempt", "2");
  d = expect(again, FASTEPOST_OUTCOME_DUPLICATE);
  free(again);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
}

Test(pipedrive_process, out_of_order_change_is_stale) {
  expect_fixture("v2_person_change.json", FASTEPOST_OUTCOME_CREATED);
  /* the create, older, arrives after the change */
  expect_fixture("v2_person_create.json", FASTEPOST_OUTCOME_STALE);
  cr_assert_str_eq(Q(CUSTOMER_8), "Sample Person|t|pipedrive|person:8");
  cr_assert_str_eq(Q("SELECT crm_updated_at::text FROM customers"), "2022-11-24 15:18:35.616");
  /* a newer change applies */
  char *a = edited("v2_person_change.json", "meta", "id", "\"0f0f0f0f-0000-4000-8000-000000000001\"");
  char *b = pdtest_with(a, "meta", "timestamp", "\"2022-11-25T08:00:00.000Z\"");
  char *c = pdtest_with(b, "data", "emails", "[{\"label\":\"work\",\"value\":\"Sample@Example.com\",\"primary\":true}]");
  expect(c, FASTEPOST_OUTCOME_UPDATED);
  cr_assert_str_eq(Q(CUSTOMER_8), "Sample Person|sample@example.com|t|pipedrive|person:8");
  free(a);
  free(b);
  free(c);
}

Test(pipedrive_process, delete_deactivates_and_later_arrivals_are_stale) {
  expect_fixture("v2_person_create.json", FASTEPOST_OUTCOME_CREATED);
  expect_fixture("v2_person_delete.json", FASTEPOST_OUTCOME_UPDATED);
  cr_assert_str_eq(Q(CUSTOMER_8), "Sample|f|pipedrive|person:8");
  /* the change (before the deletion) arrives late: it cannot revive or change the customer */
  expect_fixture("v2_person_change.json", FASTEPOST_OUTCOME_STALE);
  cr_assert_str_eq(Q(CUSTOMER_8), "Sample|f|pipedrive|person:8");
  cr_assert_eq(N("SELECT count(*) FROM fastepost_crm_properties WHERE crm_id = 'person:8' "
                 "AND property = '_deleted'"),
               1);
}

Test(pipedrive_process, delete_before_anything_leaves_a_tombstone) {
  delivery d = expect_fixture("v2_person_delete.json", FASTEPOST_OUTCOME_IGNORED);
  cr_assert_eq(d.customer_id, 0);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  expect_fixture("v2_person_create.json", FASTEPOST_OUTCOME_STALE);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
}

Test(pipedrive_process, merge_is_a_delete_and_a_change) {
  /* persons 7 and 8 */
  char *p7 = edited("v2_person_create.json", "meta", "entity_id", "\"7\"");
  char *p7b = pdtest_with(p7, "meta", "id", "\"77777777-0000-4000-8000-000000000007\"");
  char *p7c = pdtest_with(p7b, "data", "name", "\"Seven\"");
  expect(p7c, FASTEPOST_OUTCOME_CREATED);
  expect_fixture("v2_person_create.json", FASTEPOST_OUTCOME_CREATED);
  /* Pipedrive merges 7 into 8: a delete of 7 (merged_to_id) and a change of 8 (merged_from_id) */
  char *d7 = pdtest_with(p7c, "meta", "action", "\"delete\"");
  char *d7b = pdtest_with(d7, "meta", "merged_to_id", "8");
  char *d7c = pdtest_with(d7b, "meta", "id", "\"77777777-0000-4000-8000-0000000000d7\"");
  char *d7d = pdtest_with(d7c, "meta", "timestamp", "\"2022-11-24T15:18:35.600Z\"");
  char *d7e = pdtest_with(d7d, NULL, "previous", "{\"id\": 7, \"name\": \"Seven\"}");
  char *d7f = pdtest_with(d7e, NULL, "data", "null");
  delivery d = expect(d7f, FASTEPOST_OUTCOME_UPDATED);
  cr_assert(strstr(d.warnings, "merged into person 8"), "%s", d.warnings);
  char *m8 = edited("v2_person_change.json", "meta", "merged_from_id", "\"7\"");
  expect(m8, FASTEPOST_OUTCOME_UPDATED);
  cr_assert_str_eq(Q("SELECT string_agg(concat_ws('|', crm_id, name, active), ',' ORDER BY crm_id) FROM customers"),
                   "person:7|Seven|f,person:8|Sample Person|t");
  /* a late change of the merged person finds its tombstone */
  char *late = pdtest_with(p7c, "meta", "id", "\"77777777-0000-4000-8000-00000000late\"");
  char *late2 = pdtest_with(late, "meta", "action", "\"change\"");
  expect(late2, FASTEPOST_OUTCOME_STALE);
  char *all[] = {p7, p7b, p7c, d7, d7b, d7c, d7d, d7e, d7f, m8, late, late2};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    free(all[i]);
}

Test(pipedrive_process, v1_merge_alone_retires_the_merged_person) {
  char *p12 = edited("v1_person_updated.json", "meta", "id", "12");
  char *p12b = pdtest_with(p12, "current", "id", "12");
  char *p12c = pdtest_with(p12b, "current", "email", "[]");
  expect(p12c, FASTEPOST_OUTCOME_CREATED);
  char *m = edited("v1_person_updated.json", "meta", "action", "\"merged\"");
  char *m2 = pdtest_with(m, "current", "merge_what_id", "12");
  char *m3 = pdtest_with(m2, "meta", "timestamp_micro", "1523440299000000");
  expect(m3, FASTEPOST_OUTCOME_CREATED);
  cr_assert_str_eq(Q("SELECT string_agg(concat_ws('|', crm_id, email, active), ',' ORDER BY crm_id) FROM customers"),
                   "person:11|jane.roe@example.com|t,person:12|f");
  char *all[] = {p12, p12b, p12c, m, m2, m3};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    free(all[i]);
}

Test(pipedrive_process, note_and_deal_are_remarks_on_the_person) {
  delivery p = expect_fixture("v2_person_create.json", FASTEPOST_OUTCOME_CREATED);
  delivery n = expect_fixture("v2_note_create.json", FASTEPOST_OUTCOME_UPDATED);
  cr_assert_eq(n.customer_id, p.customer_id);
  cr_assert_gt(n.remark_id, 0);
  delivery d = expect_fixture("v2_deal_create.json", FASTEPOST_OUTCOME_UPDATED);
  cr_assert_eq(d.customer_id, p.customer_id);
  cr_assert_str_eq(Q("SELECT string_agg(body, ' / ' ORDER BY id) FROM remarks"),
                   "Called Sample & agreed on a demo.\n\nNext: Friday / Deal: Sample deal");
  cr_assert_str_eq(Q("SELECT string_agg(DISTINCT source, ',') FROM remarks"), "pipedrive");
  /* a change of the deal with the same title adds nothing; a new title adds a remark */
  char *a = edited("v2_deal_create.json", "meta", "id", "\"dddddddd-0000-4000-8000-000000000002\"");
  char *b = pdtest_with(a, "meta", "action", "\"change\"");
  expect(b, FASTEPOST_OUTCOME_UNCHANGED);
  char *c = pdtest_with(b, "meta", "id", "\"dddddddd-0000-4000-8000-000000000003\"");
  char *e = pdtest_with(c, "data", "title", "\"Sample deal (renamed)\"");
  expect(e, FASTEPOST_OUTCOME_UPDATED);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 3);
  /* the customer itself is left as it is */
  cr_assert_str_eq(Q(CUSTOMER_8), "Sample|t|pipedrive|person:8");
  free(a);
  free(b);
  free(c);
  free(e);
}

Test(pipedrive_process, note_for_an_unknown_person_is_ignored) {
  expect_fixture("v2_note_create.json", FASTEPOST_OUTCOME_IGNORED);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 0);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  /* the v1 deal's person 11 exists once the person event came */
  expect_fixture("v1_person_updated.json", FASTEPOST_OUTCOME_CREATED);
  expect_fixture("v1_deal_added.json", FASTEPOST_OUTCOME_UPDATED);
  cr_assert_str_eq(Q("SELECT body FROM remarks"), "Deal: Renewal 2018");
}

Test(pipedrive_process, company_from_an_earlier_organization_event) {
  delivery o = expect_fixture("v2_organization_create.json", FASTEPOST_OUTCOME_IGNORED);
  cr_assert_eq(o.customer_id, 0);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0, "an organization is not a customer");
  cr_assert_str_eq(Q("SELECT value FROM fastepost_crm_properties WHERE source = 'pipedrive' "
                     "AND crm_id = 'organization:1' AND property = 'name'"),
                   "Sample Org GmbH");
  delivery p = expect_fixture("v2_person_create.json", FASTEPOST_OUTCOME_CREATED);
  cr_assert_eq(p.warnings[0], '\0', "%s", p.warnings);
  cr_assert_str_eq(Q(CUSTOMER_8), "Sample|Sample Org GmbH|t|pipedrive|person:8");
  /* an older organization event (out of order) changes nothing */
  char *old = edited("v2_organization_create.json", "meta", "id", "\"0e0e0e0e-0000-4000-8000-000000000001\"");
  char *old2 = pdtest_with(old, "meta", "timestamp", "\"2022-11-24T12:00:00.000Z\"");
  char *old3 = pdtest_with(old2, "data", "name", "\"Sample Org (old name)\"");
  expect(old3, FASTEPOST_OUTCOME_STALE);
  /* a rename, then the person's next change: the new name */
  char *ren = pdtest_with(old3, "meta", "timestamp", "\"2022-11-24T14:00:00.000Z\"");
  char *ren2 = pdtest_with(ren, "data", "name", "\"Sample Org AG\"");
  char *ren3 = pdtest_with(ren2, "meta", "id", "\"0e0e0e0e-0000-4000-8000-000000000002\"");
  expect(ren3, FASTEPOST_OUTCOME_IGNORED);
  cr_assert_str_eq(Q(CUSTOMER_8), "Sample|Sample Org GmbH|t|pipedrive|person:8");
  expect_fixture("v2_person_change.json", FASTEPOST_OUTCOME_UPDATED);
  cr_assert_str_eq(Q(CUSTOMER_8), "Sample Person|Sample Org AG|t|pipedrive|person:8");
  /* the person leaves the organization */
  char *left = edited("v2_person_change.json", "meta", "id", "\"0e0e0e0e-0000-4000-8000-000000000003\"");
  char *left2 = pdtest_with(left, "meta", "timestamp", "\"2022-11-24T16:00:00.000Z\"");
  char *left3 = pdtest_with(left2, "data", "org_id", "null");
  expect(left3, FASTEPOST_OUTCOME_UPDATED);
  cr_assert_str_eq(Q(CUSTOMER_8), "Sample Person|t|pipedrive|person:8");
  char *all[] = {old, old2, old3, ren, ren2, ren3, left, left2, left3};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    free(all[i]);
}

static long long rows(void) {
  return N("SELECT (SELECT count(*) FROM integration_events) + (SELECT count(*) FROM customers) + "
           "(SELECT count(*) FROM remarks) + (SELECT count(*) FROM fastepost_crm_properties)");
}

Test(pipedrive_process, refused_requests_write_nothing) {
  size_t len;
  char *body = pdtest_fixture("ok.json", &len);
  const char *bad[] = {NULL, "", "Basic", "Bearer abc", pdtest_basic("hook:wrong")};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    delivery d = deliver_auth(bad[i], body);
    cr_assert_eq(d.rc, FASTEPOST_EAUTH, "%zu: %s", i, d.error);
    cr_assert_eq(d.http, 401);
    cr_assert_null(strstr(d.error, "s3cret"));
    cr_assert_null(strstr(d.body, "s3cret"));
  }
  cr_assert_eq(rows(), 0);
  /* a body that is not JSON is refused whole, before anything is written (400) */
  delivery d = deliver("{\"meta\":");
  cr_assert_eq(d.rc, FASTEPOST_EPARSE);
  cr_assert_eq(d.http, 400);
  cr_assert_eq(rows(), 0);
  /* a malformed event is logged as failed, and applies nothing */
  char *bad_ts = pdtest_with(body, "meta", "timestamp", "\"2999-01-01T00:00:00Z\"");
  d = deliver(bad_ts);
  cr_assert_eq(d.rc, FASTEPOST_EINVALID, "a request of one event answers with its status");
  cr_assert_eq(d.http, 400);
  cr_assert_eq(d.code, FASTEPOST_EINVALID);
  cr_assert_str_eq(Q("SELECT status || '|' || (next_attempt_at IS NULL) FROM integration_events"), "error|true");
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  free(bad_ts);
  free(body);
}

Test(pipedrive_process, failed_event_is_retried_from_its_payload) {
  fptest_exec("CREATE FUNCTION fail_busy() RETURNS trigger LANGUAGE plpgsql AS "
              "$$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40001'; END $$");
  fptest_exec("CREATE TRIGGER fail_busy BEFORE INSERT OR UPDATE ON customers "
              "FOR EACH ROW EXECUTE FUNCTION fail_busy()");
  size_t len;
  char *body = pdtest_fixture("v1_person_updated.json", &len);
  delivery d = deliver(body);
  free(body);
  cr_assert_eq(d.code, FASTEPOST_EBUSY, "%s", d.error);
  cr_assert_str_eq(Q("SELECT status || '|' || (next_attempt_at IS NOT NULL) FROM integration_events"), "error|true");
  fptest_exec("DROP TRIGGER fail_busy ON customers");
  fptest_exec("UPDATE integration_events SET next_attempt_at = localtimestamp - interval '1 second'");
  fptest_retry rep;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, NULL, NULL, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.attempted, 1);
  cr_assert_eq(rep.succeeded, 1);
  cr_assert_str_eq(Q("SELECT concat_ws('|', status, outcome, attempts) FROM integration_events"), "success|created|2");
  cr_assert_str_eq(Q("SELECT concat_ws('|', name, email, phone, crm_id) FROM customers"),
                   "Jane Roe|jane.roe@example.com|3242342|person:11");
  /* Pipedrive's own retry (v1 `retry` 1) is now a duplicate */
  char *again = edited("v1_person_updated.json", NULL, "retry", "1");
  expect(again, FASTEPOST_OUTCOME_DUPLICATE);
  free(again);
}

Test(pipedrive_process, unconfigured_source_is_refused) {
  fastepost_webhook_config *cfg = NULL;
  cr_assert_eq(fastepost_webhook_config_new(&cfg), FASTEPOST_OK);
  size_t len;
  char *body = pdtest_fixture("ok.json", &len);
  delivery d = deliver_with(fptest_conn(), cfg, pdtest_basic(CREDENTIALS), body);
  cr_assert_eq(d.rc, FASTEPOST_ENOKEY);
  cr_assert_eq(d.http, 401);
  const char empty[] = "{\"pipedrive\": {\"basic_auth\": []}}";
  cr_assert_eq(fastepost_webhook_config_load_json(cfg, empty, strlen(empty)), FASTEPOST_OK);
  d = deliver_with(fptest_conn(), cfg, pdtest_basic(CREDENTIALS), body);
  cr_assert_eq(d.rc, FASTEPOST_ENOKEY);
  cr_assert_eq(d.http, 401);
  cr_assert_eq(rows(), 0);
  fastepost_webhook_config_free(cfg);
  free(body);
}

Test(pipedrive_process, answer_is_the_json_result) {
  size_t len;
  char *body = pdtest_fixture("ok.json", &len);
  delivery d = expect(body, FASTEPOST_OUTCOME_CREATED);
  cr_assert(strstr(d.body, "\"outcome\":\"created\""), "%s", d.body);
  cr_assert(strstr(d.body, "\"external_id\":\"person:8\""), "%s", d.body);
  free(body);
}

Test(pipedrive_process, spooled_body_is_replayed) {
  char dir[256];
  fptest_tmpdir(dir, sizeof dir, "pipedrive-spool");
  fastepost_spool *spool = NULL;
  cr_assert_eq(fastepost_spool_open(&spool, dir), FASTEPOST_OK);
  /* The database is out of reach: the verified request is spooled and answered 202 at once, so
   * that Pipedrive counts no failure towards its ban. */
  fastepost_webhook_config *cfg = config();
  cr_assert_eq(fastepost_webhook_config_set_spool(cfg, spool), FASTEPOST_OK);
  size_t len;
  char *body = pdtest_fixture("v2_organization_create.json", &len);
  delivery d = deliver_with(NULL, cfg, pdtest_basic(CREDENTIALS), body);
  cr_assert_eq(d.rc, FASTEPOST_OK, "%s", d.error);
  cr_assert_eq(d.http, 202);
  cr_assert(d.spooled);
  cr_assert_eq(d.outcome, FASTEPOST_OUTCOME_SPOOLED);
  /* a refused request is not spooled */
  d = deliver_with(NULL, cfg, pdtest_basic("hook:wrong"), body);
  cr_assert_eq(d.http, 401);
  cr_assert(!d.spooled);
  free(body);
  body = pdtest_fixture("ok.json", &len);
  d = deliver_with(NULL, cfg, pdtest_basic(CREDENTIALS), body);
  cr_assert_eq(d.http, 202);
  fastepost_webhook_config_free(cfg);
  cr_assert_eq(rows(), 0);
  fptest_replay rep;
  cr_assert_eq(fptest_spool_replay(&rep, spool, fptest_conn(), 10), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(rep.replayed, 2);
  cr_assert_eq(rep.rejected, 0);
  cr_assert_eq(rep.remaining, 0);
  cr_assert_str_eq(Q(CUSTOMER_8), "Sample|Sample Org GmbH|t|pipedrive|person:8");
  /* the same delivery from Pipedrive afterwards is a duplicate */
  expect(body, FASTEPOST_OUTCOME_DUPLICATE);
  free(body);
  fastepost_spool_free(spool);
  fptest_rmtree(dir);
}

/* The shared fixtures (config.json, ok.json, ok.headers, ok.expect) through the CLI, as the
 * demo and the binding tests use them. */
Test(pipedrive_process, shared_fixtures_through_the_cli) {
  size_t len;
  char *headers = pdtest_fixture("ok.headers", &len);
  char *expect_id = pdtest_fixture("ok.expect", &len);
  expect_id[strcspn(expect_id, "\n")] = '\0';
  char args[4096], out[8192];
  int n = snprintf(args, sizeof args, "webhook process pipedrive --config '%s' --db '%s' --json",
                   fptest_source_path("tests/fixtures/pipedrive/config.json"), fptest_current.conninfo);
  for (char *line = strtok(headers, "\n"); line; line = strtok(NULL, "\n"))
    n += snprintf(args + n, sizeof args - (size_t)n, " --header '%s'", line);
  snprintf(args + n, sizeof args - (size_t)n, " '%s'", fptest_source_path("tests/fixtures/pipedrive/ok.json"));
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "\"outcome\":\"created\""), "%s", out);
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM customers WHERE crm_source = 'pipedrive' AND crm_id = '%s'",
           expect_id);
  cr_assert_eq(N(sql), 1);
  /* without the header: refused, exit status 1, nothing more written */
  snprintf(args, sizeof args, "webhook process pipedrive --config '%s' --db '%s' --json '%s'",
           fptest_source_path("tests/fixtures/pipedrive/config.json"), fptest_current.conninfo,
           fptest_source_path("tests/fixtures/pipedrive/ok.json"));
  cr_assert_eq(fptest_cli(out, sizeof out, args), 1, "%s", out);
  cr_assert(strstr(out, "401"), "%s", out);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1);
  free(headers);
  free(expect_id);
}
