/* SPDX-License-Identifier: MIT */
/* The generic webhook entry (fastepost_webhook_process) against a real database, through the
 * Odoo and HubSpot adapters: outcomes, refusals that write nothing, the JSON answer, the
 * configuration's errors, the clock, the spool and retries with the configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "hubspot_request.h"
#include "retry_counts.h"
#include "testdb.h"

TestSuite(webhook_process, .init = fptest_setup_schema, .fini = fptest_teardown);

#define Q(sql) fptest_scalar(sql)
#define N(sql) fptest_count(sql)

#define ODOO_KEY "odoo-test-key-4711"
static const char HS_SECRET[] = "hs-client-secret";
static const char HS_URI[] = "https://app.example.com/api/v1/integrations/hubspot";
static const char HS_TS[] = "1764270000000";
#define HS_NOW_US (INT64_C(1764270000) * 1000000)

static const char CONFIG[] = "{\"odoo\": {\"api_keys\": [\"odoo-old-key\", \"odoo-test-key-4711\"]},"
                             " \"hubspot\": {\"client_secrets\": [\"hs-client-secret\"]}}";

static int64_t fixed_clock(void *payload) { return *(const int64_t *)payload; }

static fastepost_webhook_config *config(const char *json) {
  fastepost_webhook_config *cfg = NULL;
  cr_assert_eq(fastepost_webhook_config_new(&cfg), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_config_load_json(cfg, json, strlen(json)), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  return cfg;
}

static char *fixture(const char *rel, size_t *len) {
  return fptest_read_file(fptest_source_path(rel), len);
}

/* An Odoo request: key in the header (NULL: none), URI, content type (NULL: none), body. */
static fastepost_webhook_request *odoo_request(const char *key, const char *uri, const char *ct, const char *body,
                                               size_t len) {
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_uri(req, uri ? uri : "https://app.example.com/api/v1/integrations/odoo"),
               FASTEPOST_OK);
  if (key)
    cr_assert_eq(fastepost_webhook_request_set_header(req, "X-Odoo-Api-Key", key), FASTEPOST_OK);
  if (ct)
    cr_assert_eq(fastepost_webhook_request_set_header(req, "Content-Type", ct), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_body(req, body, len), FASTEPOST_OK);
  return req;
}

/* Process and check the status and the HTTP answer; returns the response (free it). */
static fastepost_webhook_response *process(fastepost_conn *conn, const char *source, const fastepost_webhook_request *req,
                                           const fastepost_webhook_config *cfg, fastepost_status want, int want_http) {
  fastepost_webhook_response *resp = NULL;
  fastepost_status st = fastepost_webhook_process(&resp, conn, source, req, cfg);
  cr_assert_eq(st, want, "status %s, wanted %s: %s", fastepost_error_name(st), fastepost_error_name(want),
               fastepost_error_last()->message);
  cr_assert_not_null(resp);
  cr_assert_eq(fastepost_webhook_response_status(resp), st);
  cr_assert_eq(fastepost_webhook_response_http_status(resp), want_http, "http %d",
               fastepost_webhook_response_http_status(resp));
  cr_assert_not_null(fastepost_webhook_response_events(resp));
  return resp;
}

/* The answer's body as JSON (asserts it is JSON, with the generic content type). */
static json_object *answer_json(const fastepost_webhook_response *resp) {
  cr_assert_str_eq(fastepost_webhook_response_content_type(resp), "application/json");
  const char *body = fastepost_webhook_response_body(resp);
  cr_assert_eq(strlen(body), fastepost_webhook_response_body_len(resp));
  json_object *j = json_tokener_parse(body);
  cr_assert_not_null(j, "not JSON: %s", body);
  return j;
}

/* A spool in a fresh directory of the test's (dir: room for 256 bytes). */
static fastepost_spool *temp_spool(char *dir, const char *prefix) {
  fptest_tmpdir(dir, 256, prefix);
  fastepost_spool *spool = NULL;
  cr_assert_eq(fastepost_spool_open(&spool, dir), FASTEPOST_OK);
  return spool;
}

static const char *jstr(json_object *o, const char *key) {
  json_object *v = NULL;
  if (!json_object_object_get_ex(o, key, &v) || !v)
    return NULL;
  return json_object_get_string(v);
}

static json_object *event_at(json_object *answer, size_t i) {
  json_object *events = NULL;
  cr_assert(json_object_object_get_ex(answer, "events", &events));
  cr_assert(json_object_is_type(events, json_type_array));
  cr_assert_lt(i, json_object_array_length(events));
  return json_object_array_get_idx(events, i);
}

static void odoo_partner(fastepost_conn *conn, const fastepost_webhook_config *cfg, const char *outcome) {
  size_t len;
  char *body = fixture("tests/fixtures/odoo/partner_webhook.json", &len);
  fastepost_webhook_request *req = odoo_request(ODOO_KEY, NULL, NULL, body, len);
  fastepost_webhook_response *resp = process(conn, "odoo", req, cfg, FASTEPOST_OK, 200);
  json_object *j = answer_json(resp);
  cr_assert_str_eq(jstr(j, "status"), "ok");
  cr_assert_eq(json_object_get_int(json_object_object_get(j, "http_status")), 200);
  cr_assert_null(jstr(j, "error"));
  json_object *e = event_at(j, 0);
  cr_assert_str_eq(jstr(e, "outcome"), outcome);
  cr_assert_str_eq(jstr(e, "external_id"), "res.partner:42");
  cr_assert_eq(json_object_get_int64(json_object_object_get(e, "event_id")),
               N("SELECT min(id) FROM integration_events"));
  cr_assert_eq(json_object_get_int64(json_object_object_get(e, "customer_id")),
               N("SELECT id FROM customers WHERE crm_source = 'odoo' AND crm_id = 'res.partner:42'"));
  const fastepost_event_batch *b = fastepost_webhook_response_events(resp);
  cr_assert_eq(fastepost_event_batch_count(b), 1);
  cr_assert_str_eq(fastepost_event_batch_external_id(b, 0), "res.partner:42");
  cr_assert_eq(fastepost_event_batch_object_id(b, 0), 42);
  json_object_put(j);
  fastepost_webhook_response_free(resp);
  fastepost_webhook_request_free(req);
  free(body);
}

Test(webhook_process, odoo_created_then_duplicate) {
  fastepost_webhook_config *cfg = config(CONFIG);
  odoo_partner(fptest_conn(), cfg, "created");
  cr_assert_eq(N("SELECT count(*) FROM customers WHERE crm_source = 'odoo' AND crm_id = 'res.partner:42' AND active"), 1);
  odoo_partner(fptest_conn(), cfg, "duplicate");
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 1);
  fastepost_webhook_config_free(cfg);
  fptest_assert_counters_exact();
}

/* Odoo's URL carries the key and the event hint; a form body says so in its Content-Type. */
Test(webhook_process, odoo_query_key_hint_and_form_body) {
  fastepost_webhook_config *cfg = config(CONFIG);
  size_t len;
  char *body = fixture("tests/fixtures/odoo/partner_form.txt", &len);
  fastepost_webhook_request *req =
      odoo_request(NULL, "https://app.example.com/api/v1/integrations/odoo?api_key=odoo-old-key&event=archive",
                   "application/x-www-form-urlencoded; charset=utf-8", body, len);
  fastepost_webhook_response *resp = process(fptest_conn(), "odoo", req, cfg, FASTEPOST_OK, 200);
  cr_assert_str_eq(Q("SELECT active::text FROM customers WHERE crm_id = 'res.partner:48'"), "false");
  cr_assert_str_eq(Q("SELECT event_type FROM integration_events"), "res.partner.archive");
  fastepost_webhook_response_free(resp);
  fastepost_webhook_request_free(req);

  /* The same form body as JSON: refused by the parser, logged as a failed event (400). */
  req = odoo_request(ODOO_KEY, NULL, "application/json", body, len);
  resp = process(fptest_conn(), "odoo", req, cfg, FASTEPOST_EPARSE, 400);
  json_object *j = answer_json(resp);
  cr_assert_str_eq(jstr(j, "status"), "FASTEPOST_EPARSE");
  cr_assert_not_null(jstr(j, "error"));
  json_object_put(j);
  fastepost_webhook_response_free(resp);
  fastepost_webhook_request_free(req);
  free(body);
  fastepost_webhook_config_free(cfg);
  fptest_assert_counters_exact();
}

/* Refused requests: 401 and nothing written (no customer, no event row, not even a failure). */
Test(webhook_process, refused_requests_write_nothing) {
  fastepost_webhook_config *cfg = config(CONFIG);
  fastepost_webhook_config *empty = NULL;
  cr_assert_eq(fastepost_webhook_config_new(&empty), FASTEPOST_OK);
  size_t len;
  char *body = fixture("tests/fixtures/odoo/partner_webhook.json", &len);
  struct {
    const char *key;
    const fastepost_webhook_config *cfg;
    fastepost_status want;
  } cases[] = {
      {"wrong-key", cfg, FASTEPOST_EAUTH},
      {NULL, cfg, FASTEPOST_EAUTH},
      {"", cfg, FASTEPOST_EAUTH},
      {ODOO_KEY "x", cfg, FASTEPOST_EAUTH},
      {ODOO_KEY, empty, FASTEPOST_ENOKEY}, /* no odoo section */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fastepost_webhook_request *req = odoo_request(cases[i].key, NULL, NULL, body, len);
    fastepost_webhook_response *resp = process(fptest_conn(), "odoo", req, cases[i].cfg, cases[i].want, 401);
    json_object *j = answer_json(resp);
    cr_assert_str_eq(jstr(j, "status"), fastepost_error_name(cases[i].want));
    cr_assert_eq(fastepost_event_batch_count(fastepost_webhook_response_events(resp)), 0);
    cr_assert_null(strstr(fastepost_webhook_response_error(resp), ODOO_KEY), "a key in the message");
    cr_assert_null(strstr(fastepost_webhook_response_body(resp), ODOO_KEY), "a key in the answer");
    json_object_put(j);
    fastepost_webhook_response_free(resp);
    fastepost_webhook_request_free(req);
  }
  /* HubSpot without a section, and a source whose adapter cannot verify yet: refused too. */
  fastepost_webhook_request *req = fptest_hs_request("v3", "POST", HS_URI, HS_TS, "sig", "[]", 2);
  fastepost_webhook_response *resp = process(fptest_conn(), "hubspot", req, empty, FASTEPOST_ENOKEY, 401);
  fastepost_webhook_response_free(resp);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 0);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  fastepost_webhook_request_free(req);
  free(body);
  fastepost_webhook_config_free(cfg);
  fastepost_webhook_config_free(empty);
  fptest_assert_counters_exact();
}

Test(webhook_process, unknown_source_and_null_arguments_are_400) {
  fastepost_webhook_config *cfg = config(CONFIG);
  fastepost_webhook_request *req = odoo_request(ODOO_KEY, NULL, NULL, "{}", 2);
  fastepost_webhook_response *resp = process(fptest_conn(), "acme", req, cfg, FASTEPOST_EINVALID, 400);
  cr_assert_not_null(strstr(fastepost_webhook_response_error(resp), "acme"));
  json_object *j = answer_json(resp);
  cr_assert_str_eq(jstr(j, "status"), "FASTEPOST_EINVALID");
  json_object_put(j);
  fastepost_webhook_response_free(resp);
  resp = process(fptest_conn(), NULL, req, cfg, FASTEPOST_EINVALID, 400);
  fastepost_webhook_response_free(resp);
  resp = process(fptest_conn(), "odoo", NULL, cfg, FASTEPOST_EINVALID, 400);
  fastepost_webhook_response_free(resp);
  resp = process(fptest_conn(), "odoo", req, NULL, FASTEPOST_EINVALID, 400);
  fastepost_webhook_response_free(resp);
  cr_assert_eq(fastepost_webhook_process(NULL, fptest_conn(), "acme", req, cfg), FASTEPOST_EINVALID);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 0);
  fastepost_webhook_request_free(req);
  fastepost_webhook_config_free(cfg);
  fptest_assert_counters_exact();
}

/* The fixture batch of HubSpot events as HubSpot sends it: signed (v3) at HS_TS. The caller
 * frees *body and *sig after the request. */
static fastepost_webhook_request *hubspot_batch(char **body, char **sig) {
  size_t len;
  *body = fixture("tests/fixtures/hubspot/contact_batch.json", &len);
  *sig = NULL;
  cr_assert_eq(fptest_hs_sign(sig, FASTEPOST_HUBSPOT_VERSION_V3, HS_SECRET, "POST", HS_URI, HS_TS, *body, len),
               FASTEPOST_OK);
  return fptest_hs_request("v3", "POST", HS_URI, HS_TS, *sig, *body, len);
}

/* A HubSpot batch through the generic entry, its signature window judged by the configured
 * clock, which also stamps the rows. */
Test(webhook_process, hubspot_batch_with_the_configured_clock) {
  fastepost_webhook_config *cfg = config(CONFIG);
  char *body, *sig;
  fastepost_webhook_request *req = hubspot_batch(&body, &sig);
  /* The host's clock: the request is a year old and refused as stale. */
  fastepost_webhook_response *resp = process(fptest_conn(), "hubspot", req, cfg, FASTEPOST_EAUTH, 401);
  cr_assert_not_null(strstr(fastepost_webhook_response_error(resp), "stale"));
  fastepost_webhook_response_free(resp);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 0);

  int64_t now = HS_NOW_US + 1000000;
  cr_assert_eq(fastepost_webhook_config_set_clock(cfg, fixed_clock, &now), FASTEPOST_OK);
  resp = process(fptest_conn(), "hubspot", req, cfg, FASTEPOST_OK, 200);
  const fastepost_event_batch *b = fastepost_webhook_response_events(resp);
  cr_assert_eq(fastepost_event_batch_count(b), 6);
  cr_assert_eq(fastepost_event_batch_failed(b), 1); /* occurredAt "yesterday" */
  cr_assert_str_eq(fastepost_event_batch_external_id(b, 0), "contact:65059681032");
  json_object *j = answer_json(resp);
  cr_assert_str_eq(jstr(event_at(j, 0), "outcome"), "created");
  cr_assert_null(jstr(event_at(j, 0), "error"));
  cr_assert_not_null(jstr(event_at(j, 5), "error"));
  cr_assert_eq(json_object_array_length(json_object_object_get(j, "events")), 6);
  json_object_put(j);
  cr_assert_str_eq(Q("SELECT email || '|' || name FROM customers WHERE crm_source = 'hubspot'"),
                   "ada@example.com|Ada <Countess> Lovelace");
  /* Every row stamped with the configured clock, not the server's. */
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE processed_at = "
                 "'2025-11-27 19:00:01'::timestamp"),
               N("SELECT count(*) FROM integration_events"));
  fastepost_webhook_response_free(resp);

  /* A wrong secret: 401 and nothing more written. */
  long long events = N("SELECT count(*) FROM integration_events");
  fastepost_webhook_request_set_header(req, "X-HubSpot-Signature-v3", "AAAA");
  resp = process(fptest_conn(), "hubspot", req, cfg, FASTEPOST_EAUTH, 401);
  fastepost_webhook_response_free(resp);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), events);
  fastepost_webhook_request_free(req);
  fastepost_free(sig);
  free(body);
  fastepost_webhook_config_free(cfg);
  fptest_assert_counters_exact();
}

/* An event that fails without an event row (a trigger refuses it both times: applied and
 * logged as failed) is in no log and no retry queue: a batch with such an event is not
 * acknowledged with 200, so that HubSpot delivers it again; the redelivery applies it, and the
 * events that were logged come back as duplicates. */
Test(webhook_process, a_batch_with_an_unlogged_event_is_not_acknowledged) {
  fastepost_webhook_config *cfg = config(CONFIG);
  int64_t now = HS_NOW_US + 1000000;
  cr_assert_eq(fastepost_webhook_config_set_clock(cfg, fixed_clock, &now), FASTEPOST_OK);
  char *body, *sig;
  fastepost_webhook_request *req = hubspot_batch(&body, &sig);
  fptest_exec("CREATE FUNCTION refuse_first() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
              "IF NEW.external_id = 'contact:65059681032' THEN RAISE EXCEPTION 'event row refused'; END IF; "
              "RETURN NEW; END $$");
  fptest_exec("CREATE TRIGGER refuse_first BEFORE INSERT ON integration_events FOR EACH ROW "
              "EXECUTE FUNCTION refuse_first()");
  fastepost_webhook_response *resp = process(fptest_conn(), "hubspot", req, cfg, FASTEPOST_EDB, 500);
  cr_assert_not_null(strstr(fastepost_webhook_response_error(resp), "was not logged"), "%s",
                     fastepost_webhook_response_error(resp));
  cr_assert_not_null(strstr(fastepost_webhook_response_error(resp), "event row refused"));
  fastepost_webhook_response_free(resp);
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE external_id = 'contact:65059681032'"), 0);
  fptest_exec("DROP TRIGGER refuse_first ON integration_events");
  resp = process(fptest_conn(), "hubspot", req, cfg, FASTEPOST_OK, 200);
  /* the contact's four events applied now; the fifth fails as in the test above (a day old) */
  cr_assert_eq(fastepost_event_batch_failed(fastepost_webhook_response_events(resp)), 1);
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE external_id = 'contact:65059681032' "
                 "AND status = 'success'"), 4);
  cr_assert_eq(N("SELECT count(*) FROM customers WHERE crm_source = 'hubspot'"), 1);
  fastepost_webhook_response_free(resp);
  fastepost_webhook_request_free(req);
  fastepost_free(sig);
  free(body);
  fastepost_webhook_config_free(cfg);
  fptest_assert_counters_exact();
}

/* Every registered source is listed; each name is one the entry accepts. */
Test(webhook_process, every_registered_source_is_listed) {
  const char *want[] = {"odoo", "hubspot", "pipedrive", "monday", "salesforce", "zoho"};
  size_t n = fastepost_webhook_source_count();
  cr_assert_geq(n, sizeof want / sizeof want[0]);
  for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
    bool found = false;
    for (size_t i = 0; i < n; i++)
      found = found || strcmp(fastepost_webhook_source_at(i), want[w]) == 0;
    cr_assert(found, "%s is not listed", want[w]);
  }
  cr_assert_null(fastepost_webhook_source_at(n));
  /* The list is the registry: a listed source is never "unknown" (it may be unconfigured). */
  fastepost_webhook_config *cfg = NULL;
  cr_assert_eq(fastepost_webhook_config_new(&cfg), FASTEPOST_OK);
  fastepost_webhook_request *req = odoo_request(NULL, NULL, NULL, "{}", 2);
  for (size_t i = 0; i < n; i++) {
    fastepost_webhook_response *resp = NULL;
    fastepost_status st = fastepost_webhook_process(&resp, fptest_conn(), fastepost_webhook_source_at(i), req, cfg);
    cr_assert(st == FASTEPOST_ENOKEY || fastepost_webhook_response_handshake(resp), "%s: %s",
              fastepost_webhook_source_at(i), fastepost_error_name(st));
    fastepost_webhook_response_free(resp);
  }
  fastepost_webhook_request_free(req);
  fastepost_webhook_config_free(cfg);
  fptest_assert_counters_exact();
}

/* A malformed configuration: EINVALID naming the key, never a secret's value, and the
 * configuration as it was. */
Test(webhook_process, malformed_configuration_names_the_key_and_hides_secrets) {
  static const struct {
    const char *json, *names;
  } cases[] = {
      {"", "webhook configuration"},
      {"[1]", "not a JSON object"},
      {"{\"odoo\": {\"api_keys\": [\"s3cret-one\"]}", "webhook configuration"}, /* truncated */
      {"{\"acme\": {}}", "unknown source \"acme\""},
      {"{\"odoo\": [\"s3cret-one\"]}", "odoo: not an object"},
      {"{\"odoo\": {}}", "odoo.api_keys: missing"},
      {"{\"odoo\": {\"api_keys\": \"s3cret-one\"}}", "odoo.api_keys: not an array"},
      {"{\"odoo\": {\"api_keys\": []}}", "odoo.api_keys: empty"},
      {"{\"odoo\": {\"api_keys\": [\"s3cret-one\", 42]}}", "odoo.api_keys[1]: not a string"},
      {"{\"odoo\": {\"api_keys\": [\"s3cret-one\", \"\"]}}", "odoo.api_keys[1]: empty"},
      {"{\"odoo\": {\"api_key\": [\"s3cret-one\"]}}", "odoo.api_key: unknown key"},
      {"{\"odoo\": {\"api_keys\": [\"s3cret-one\"], \"event\": \"s3cret-one\"}}", "odoo.event"},
      {"{\"odoo\": {\"api_keys\": [\"s3cret-one\"], \"max_body\": 0}}", "odoo.max_body"},
      {"{\"odoo\": {\"api_keys\": [\"s3cret-one\"], \"max_body\": 1.5}}", "odoo.max_body"},
      {"{\"odoo\": {\"api_keys\": [\"s3cret-one\"], \"max_depth\": \"9\"}}", "odoo.max_depth"},
      {"{\"hubspot\": {\"client_secrets\": [\"s3cret-one\"], \"versions\": [\"v4\"]}}", "hubspot.versions[0]"},
      {"{\"hubspot\": {\"client_secrets\": [\"s3cret-one\"], \"tolerance_seconds\": -1}}",
       "hubspot.tolerance_seconds"},
      {"{\"hubspot\": {\"client_secrets\": [\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"s3cret-one\"]}}",
       "hubspot.client_secrets: more than 8"},
      {"{\"hubspot\": {\"client_secret\": \"s3cret-one\"}}", "hubspot.client_secret: unknown key"},
      {"{\"odoo\": {\"api_keys\": [\"s3cret-one\"]}, \"hubspot\": {\"client_secrets\": [1]}}",
       "hubspot.client_secrets[0]: not a string"},
      {"{\"odoo\": {\"api_keys\": [\"s3cret-one\xff\"]}}", "webhook configuration"}, /* not UTF-8 */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fastepost_webhook_config *cfg = config("{\"odoo\": {\"api_keys\": [\"first\"]}}");
    fastepost_status st = fastepost_webhook_config_load_json(cfg, cases[i].json, strlen(cases[i].json));
    const char *msg = fastepost_error_last()->message;
    cr_assert_eq(st, FASTEPOST_EINVALID, "%s: %s", cases[i].json, fastepost_error_name(st));
    cr_assert_not_null(strstr(msg, cases[i].names), "%s: message \"%s\" does not name %s", cases[i].json, msg,
                       cases[i].names);
    cr_assert_null(strstr(msg, "s3cret"), "%s: a secret in \"%s\"", cases[i].json, msg);
    /* unchanged: the first configuration still works, hubspot still unconfigured */
    cr_assert(fastepost_webhook_config_has_source(cfg, "odoo"));
    cr_assert_not(fastepost_webhook_config_has_source(cfg, "hubspot"));
    fastepost_webhook_request *req = odoo_request("first", NULL, NULL, "{}", 2);
    fastepost_webhook_response *resp = NULL;
    fastepost_webhook_process(&resp, NULL, "odoo", req, cfg);
    cr_assert_neq(fastepost_webhook_response_status(resp), FASTEPOST_EAUTH);
    fastepost_webhook_response_free(resp);
    fastepost_webhook_request_free(req);
    fastepost_webhook_config_free(cfg);
  }
  /* NULL arguments */
  cr_assert_eq(fastepost_webhook_config_new(NULL), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_webhook_config_load_json(NULL, "{}", 2), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_webhook_config_set_clock(NULL, NULL, NULL), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_webhook_config_set_spool(NULL, NULL), FASTEPOST_EINVALID);
  cr_assert_not(fastepost_webhook_config_has_source(NULL, "odoo"));
  fastepost_webhook_config_free(NULL);
  fptest_assert_counters_exact();
}

/* Loading again replaces the sections present and keeps the others. */
Test(webhook_process, loading_replaces_only_the_sections_present) {
  fastepost_webhook_config *cfg = config(CONFIG);
  const char *more = "{\"odoo\": {\"api_keys\": [\"rotated\"]}}";
  cr_assert_eq(fastepost_webhook_config_load_json(cfg, more, strlen(more)), FASTEPOST_OK);
  cr_assert(fastepost_webhook_config_has_source(cfg, "hubspot"));
  cr_assert_not(fastepost_webhook_config_has_source(cfg, "acme"));
  size_t len;
  char *body = fixture("tests/fixtures/odoo/partner_webhook.json", &len);
  fastepost_webhook_request *req = odoo_request(ODOO_KEY, NULL, NULL, body, len);
  fastepost_webhook_response_free(process(fptest_conn(), "odoo", req, cfg, FASTEPOST_EAUTH, 401));
  fastepost_webhook_request_set_header(req, "X-Odoo-Api-Key", "rotated");
  fastepost_webhook_response_free(process(fptest_conn(), "odoo", req, cfg, FASTEPOST_OK, 200));
  fastepost_webhook_request_free(req);
  free(body);
  fastepost_webhook_config_free(cfg);
  fptest_assert_counters_exact();
}

/* The JSON result alone, and with the answer (what the CLI prints). */
Test(webhook_process, json_result_and_response) {
  fastepost_webhook_config *cfg = config(CONFIG);
  fastepost_webhook_request *req = odoo_request("wrong", NULL, NULL, "{}", 2);
  fastepost_webhook_response *resp = process(fptest_conn(), "odoo", req, cfg, FASTEPOST_EAUTH, 401);
  char *result = NULL, *full = NULL;
  cr_assert_eq(fastepost_webhook_response_json(&result, resp, FASTEPOST_WEBHOOK_JSON_RESULT), FASTEPOST_OK);
  cr_assert_str_eq(result, fastepost_webhook_response_body(resp)); /* the generic answer is the result */
  cr_assert_str_eq(result, "{\"status\":\"FASTEPOST_EAUTH\",\"http_status\":401,\"events\":[],"
                           "\"error\":\"wrong Odoo API key\"}");
  cr_assert_eq(fastepost_webhook_response_json(&full, resp, FASTEPOST_WEBHOOK_JSON_RESPONSE), FASTEPOST_OK);
  json_object *j = json_tokener_parse(full);
  cr_assert_not_null(j, "%s", full);
  json_object *r = json_object_object_get(j, "response");
  cr_assert_str_eq(jstr(r, "content_type"), "application/json");
  cr_assert_str_eq(jstr(r, "body"), result);
  cr_assert_eq(json_object_get_int(json_object_object_get(j, "http_status")), 401);
  json_object_put(j);
  char *none = NULL;
  cr_assert_eq(fastepost_webhook_response_json(&none, resp, 2), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_webhook_response_json(&none, NULL, 0), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_webhook_response_json(NULL, resp, 0), FASTEPOST_EINVALID);
  cr_assert_not(fastepost_webhook_response_handshake(resp));
  cr_assert_not(fastepost_webhook_response_spooled(resp));
  fastepost_free(result);
  fastepost_free(full);
  fastepost_webhook_response_free(resp);
  fastepost_webhook_response_free(NULL);
  /* Getters on NULL answer without crashing. */
  cr_assert_str_eq(fastepost_webhook_response_content_type(NULL), "");
  cr_assert_eq(fastepost_webhook_response_body_len(NULL), 0);
  cr_assert_str_eq(fastepost_webhook_response_error(NULL), "");
  fastepost_webhook_request_free(req);
  fastepost_webhook_config_free(cfg);
  fptest_assert_counters_exact();
}

/* No connection: with a spool, a verified request is spooled (202) and replayed later with the
 * configuration (the event hint came from the URL); without one, EINVALID. A refused request is
 * never spooled. */
Test(webhook_process, spooled_without_a_connection_and_replayed_with_the_config) {
  char dir[256];
  fastepost_spool *spool = temp_spool(dir, "webhook-spool");
  fastepost_webhook_config *cfg = config(CONFIG);
  size_t len;
  char *body = fixture("tests/fixtures/odoo/partner_webhook.json", &len);
  fastepost_webhook_request *req =
      odoo_request(ODOO_KEY, "https://app.example.com/api/v1/integrations/odoo?event=unlink", NULL, body, len);
  fastepost_webhook_response_free(process(NULL, "odoo", req, cfg, FASTEPOST_EINVALID, 400));

  cr_assert_eq(fastepost_webhook_config_set_spool(cfg, spool), FASTEPOST_OK);
  fastepost_webhook_response *resp = process(NULL, "odoo", req, cfg, FASTEPOST_OK, 202);
  cr_assert(fastepost_webhook_response_spooled(resp));
  json_object *j = answer_json(resp);
  cr_assert_eq(json_object_get_int(json_object_object_get(j, "http_status")), 202);
  cr_assert_str_eq(jstr(event_at(j, 0), "outcome"), "spooled");
  json_object_put(j);
  fastepost_webhook_response_free(resp);
  /* refused: not spooled */
  fastepost_webhook_request_set_header(req, "X-Odoo-Api-Key", "wrong");
  fastepost_webhook_response_free(process(NULL, "odoo", req, cfg, FASTEPOST_EAUTH, 401));

  /* a HubSpot batch too */
  char *hs, *sig;
  fastepost_webhook_request *hreq = hubspot_batch(&hs, &sig);
  int64_t now = HS_NOW_US;
  fastepost_webhook_config_set_clock(cfg, fixed_clock, &now);
  resp = process(NULL, "hubspot", hreq, cfg, FASTEPOST_OK, 202);
  cr_assert_eq(fastepost_event_batch_count(fastepost_webhook_response_events(resp)), 6);
  fastepost_webhook_response_free(resp);

  fastepost_spool_entries *list = NULL;
  cr_assert_eq(fastepost_spool_list(&list, spool), FASTEPOST_OK);
  cr_assert_eq(fastepost_spool_entries_count(list), 2);
  fastepost_spool_entries_free(list);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 0);

  cr_assert_eq(fastepost_spool_set_webhook_config(spool, cfg), FASTEPOST_OK);
  fptest_replay counts;
  cr_assert_eq(fptest_spool_replay(&counts, spool, fptest_conn(), 0), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(counts.replayed, 2);
  cr_assert_eq(counts.rejected, 0);
  cr_assert_str_eq(Q("SELECT event_type || ' ' || active::text FROM integration_events e JOIN customers c ON "
                     "c.id = e.customer_id WHERE e.source = 'odoo'"),
                   "res.partner.unlink false");
  cr_assert_eq(N("SELECT count(*) FROM customers WHERE crm_source = 'hubspot'"), 1);
  cr_assert_eq(fastepost_spool_set_webhook_config(NULL, cfg), FASTEPOST_EINVALID);
  fastepost_webhook_request_free(hreq);
  fastepost_webhook_request_free(req);
  fastepost_free(sig);
  free(hs);
  free(body);
  fastepost_webhook_config_free(cfg);
  fastepost_spool_free(spool);
  fptest_rmtree(dir);
  fptest_assert_counters_exact();
}

/* A relayed read() result names no model: the ?model= hint of its URL is spooled with it, so the
 * replay maps it as the live delivery would have (not `ignored`). */
Test(webhook_process, spooled_model_hint_survives_the_replay) {
  char dir[256];
  fastepost_spool *spool = temp_spool(dir, "webhook-model");
  fastepost_webhook_config *cfg = config(CONFIG);
  cr_assert_eq(fastepost_webhook_config_set_spool(cfg, spool), FASTEPOST_OK);
  static const char body[] = "{\"jsonrpc\": \"2.0\", \"id\": 4711, \"result\": [{\"id\": 77, \"name\": \"Relayed\", "
                             "\"email\": \"relayed@example.org\", \"write_date\": \"2024-05-06 10:02:33\"}]}";
  fastepost_webhook_request *req = odoo_request(
      ODOO_KEY, "https://app.example.com/api/v1/integrations/odoo?event=write&model=res.partner", NULL, body,
      strlen(body));
  fastepost_webhook_response_free(process(NULL, "odoo", req, cfg, FASTEPOST_OK, 202));

  fastepost_spool_entries *list = NULL;
  cr_assert_eq(fastepost_spool_list(&list, spool), FASTEPOST_OK);
  cr_assert_eq(fastepost_spool_entries_count(list), 1);
  cr_assert_str_eq(fastepost_spool_entries_get(list, 0)->event, "write?model=res.partner");
  fastepost_spool_entries_free(list);

  cr_assert_eq(fastepost_spool_set_webhook_config(spool, cfg), FASTEPOST_OK);
  fptest_replay counts;
  cr_assert_eq(fptest_spool_replay(&counts, spool, fptest_conn(), 0), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(counts.replayed, 1);
  cr_assert_str_eq(Q("SELECT e.event_type || ' ' || e.status || ' ' || c.name FROM integration_events e "
                     "JOIN customers c ON c.id = e.customer_id WHERE c.crm_id = 'res.partner:77'"),
                   "res.partner.write success Relayed");
  fastepost_webhook_request_free(req);
  fastepost_webhook_config_free(cfg);
  fastepost_spool_free(spool);
  fptest_rmtree(dir);
  fptest_assert_counters_exact();
}

/* A retry reads a stored payload with the source's configuration: Odoo's barcode fields decide
 * which task a partner is linked to. */
static void queue_partner(int id, const char *code) {
  char sql[1024];
  snprintf(sql, sizeof sql,
           "INSERT INTO integration_events (source, event_type, status, external_id, idempotency_key, payload, "
           "attempts, next_attempt_at) VALUES ('odoo', 'res.partner', 'error', 'res.partner:%d', 'k%d', "
           "'{\"_id\": %d, \"_model\": \"res.partner\", \"name\": \"Person %d\", \"x_fe_code\": \"%s\"}', 1, "
           "localtimestamp - interval '1 minute')",
           id, id, id, id, code);
  fptest_exec(sql);
}

Test(webhook_process, retry_reads_payloads_with_the_config) {
  fptest_exec("INSERT INTO tasks (id, barcode) VALUES (10, 'FE-0001'), (11, 'FE-0002')");
  fastepost_webhook_config *cfg =
      config("{\"odoo\": {\"api_keys\": [\"k\"], \"barcode_fields\": [\"x_fe_code\", \"ref\"]}}");
  queue_partner(50, "FE-0001");
  fptest_retry counts;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 0, NULL, NULL, &counts), FASTEPOST_OK);
  cr_assert_eq(counts.succeeded, 1);
  cr_assert_str_eq(Q("SELECT coalesce(customer_id::text, 'none') FROM tasks WHERE id = 10"), "none");

  queue_partner(51, "FE-0002");
  fastepost_retry_options *o = NULL;
  fastepost_retry_report *r = NULL;
  cr_assert_eq(fastepost_retry_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_retry_options_set_webhook_config(o, cfg), FASTEPOST_OK);
  cr_assert_eq(fastepost_events_retry(&r, fptest_conn(), o), FASTEPOST_OK);
  cr_assert_eq(fastepost_retry_report_succeeded(r), 1);
  cr_assert_eq(N("SELECT customer_id FROM tasks WHERE id = 11"),
               N("SELECT id FROM customers WHERE crm_id = 'res.partner:51'"));
  cr_assert_eq(fastepost_retry_options_set_webhook_config(NULL, cfg), FASTEPOST_EINVALID);
  fastepost_retry_report_free(r);
  fastepost_retry_options_free(o);
  fastepost_webhook_config_free(cfg);
  fptest_assert_counters_exact();
}

/* A read-only database takes a batch's BEGIN and COMMIT but none of its writes: with a spool the
 * verified batch is spooled (202), without one every event fails (503) and nothing is written. */
Test(webhook_process, read_only_database_spools_the_batch) {
  char sql[256];
  snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" SET default_transaction_read_only = on", fptest_current.name);
  fptest_exec(sql);
  fastepost_conn *ro = NULL;
  cr_assert_eq(fastepost_conn_open(&ro, fptest_current.conninfo), FASTEPOST_OK);
  fastepost_webhook_config *cfg = config(CONFIG);
  int64_t now = HS_NOW_US;
  fastepost_webhook_config_set_clock(cfg, fixed_clock, &now);
  char *hs, *sig;
  fastepost_webhook_request *req = hubspot_batch(&hs, &sig);
  fastepost_webhook_response *resp = process(ro, "hubspot", req, cfg, FASTEPOST_EREADONLY, 503);
  cr_assert_eq(fastepost_event_batch_failed(fastepost_webhook_response_events(resp)), 6);
  cr_assert_not(fastepost_webhook_response_spooled(resp));
  fastepost_webhook_response_free(resp);

  char dir[256];
  fastepost_spool *spool = temp_spool(dir, "webhook-ro");
  fastepost_webhook_config_set_spool(cfg, spool);
  resp = process(ro, "hubspot", req, cfg, FASTEPOST_OK, 202);
  cr_assert(fastepost_webhook_response_spooled(resp));
  cr_assert_eq(fastepost_event_batch_failed(fastepost_webhook_response_events(resp)), 0);
  fastepost_webhook_response_free(resp);
  fastepost_conn_free(ro);
  snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" RESET default_transaction_read_only", fptest_current.name);
  fptest_exec(sql);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 0);
  fptest_replay counts;
  cr_assert_eq(fptest_spool_replay(&counts, spool, fptest_conn(), 0), FASTEPOST_OK);
  cr_assert_eq(counts.replayed, 1);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 6);
  fastepost_webhook_request_free(req);
  fastepost_free(sig);
  free(hs);
  fastepost_webhook_config_free(cfg);
  fastepost_spool_free(spool);
  fptest_rmtree(dir);
  fptest_assert_counters_exact();
}

/* A body its adapter refuses (over the configured limit, not JSON) is answered with that
 * refusal and never spooled: replay has no body limit. */
Test(webhook_process, refused_body_is_never_spooled) {
  char dir[256];
  fastepost_spool *spool = temp_spool(dir, "webhook-big");
  fastepost_webhook_config *cfg = config("{\"odoo\": {\"api_keys\": [\"k\"], \"max_body\": 100}}");
  fastepost_webhook_config_set_spool(cfg, spool);
  size_t len;
  char *body = fixture("tests/fixtures/odoo/partner_webhook.json", &len);
  cr_assert_gt(len, 100);
  fastepost_webhook_request *req = odoo_request("k", NULL, NULL, body, len);
  fastepost_webhook_response_free(process(NULL, "odoo", req, cfg, FASTEPOST_ETOOBIG, 413));
  fastepost_webhook_request_set_body(req, "{\"_model\": ", 11);
  fastepost_webhook_response_free(process(NULL, "odoo", req, cfg, FASTEPOST_EPARSE, 400));
  fastepost_spool_entries *list = NULL;
  cr_assert_eq(fastepost_spool_list(&list, spool), FASTEPOST_OK);
  cr_assert_eq(fastepost_spool_entries_count(list), 0);
  fastepost_spool_entries_free(list);
  /* with the database: logged as a failed event, the same answer */
  fastepost_webhook_request_set_body(req, body, len);
  fastepost_webhook_response_free(process(fptest_conn(), "odoo", req, cfg, FASTEPOST_ETOOBIG, 413));
  cr_assert_str_eq(Q("SELECT status FROM integration_events"), "error");
  fastepost_webhook_request_free(req);
  free(body);
  fastepost_webhook_config_free(cfg);
  fastepost_spool_free(spool);
  fptest_rmtree(dir);
  fptest_assert_counters_exact();
}

/* Hostile bodies through the generic entry: refused as a whole with a clear code, nothing
 * applied, no crash. */
Test(webhook_process, hostile_bodies) {
  fastepost_webhook_config *cfg =
      config("{\"hubspot\": {\"client_secrets\": [\"hs-client-secret\"], \"max_body\": 4096}, "
             "\"odoo\": {\"api_keys\": [\"k\"]}}");
  int64_t now = HS_NOW_US;
  fastepost_webhook_config_set_clock(cfg, fixed_clock, &now);
  char deep[401];
  memset(deep, '[', 200);
  memset(deep + 200, ']', 200);
  deep[400] = '\0';
  const struct {
    const char *body; /* NULL: `big` */
    size_t len;       /* 0: strlen(body) */
    fastepost_status want;
    int http;
  } cases[] = {
      {"not json", 0, FASTEPOST_EPARSE, 400},
      {"{\"a\": 1}", 0, FASTEPOST_EPARSE, 400},    /* not an array */
      {"[\"\xff\xfe\"]", 0, FASTEPOST_EPARSE, 400}, /* not UTF-8 */
      {deep, 0, FASTEPOST_EPARSE, 400}, /* nested deeper than the parser allows */
      {NULL, 5000, FASTEPOST_ETOOBIG, 413}, /* over max_body */
  };
  char *big = malloc(5000);
  memset(big, ' ', 5000);
  big[0] = '[';
  big[4999] = ']';
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *body = cases[i].body ? cases[i].body : big;
    size_t len = cases[i].len ? cases[i].len : strlen(body);
    char *sig = NULL;
    cr_assert_eq(fptest_hs_sign(&sig, FASTEPOST_HUBSPOT_VERSION_V3, HS_SECRET, "POST", HS_URI, HS_TS, body, len),
                 FASTEPOST_OK);
    fastepost_webhook_request *req = fptest_hs_request("v3", "POST", HS_URI, HS_TS, sig, body, len);
    fastepost_webhook_response *resp = process(fptest_conn(), "hubspot", req, cfg, cases[i].want, cases[i].http);
    json_object *j = answer_json(resp);
    cr_assert_not_null(jstr(j, "error"), "case %zu", i);
    json_object_put(j);
    fastepost_webhook_response_free(resp);
    fastepost_webhook_request_free(req);
    fastepost_free(sig);
  }
  /* Odoo: a body that is not UTF-8 is a failed delivery, logged, 400 */
  fastepost_webhook_request *req = odoo_request("k", NULL, NULL, "{\"_model\": \"\xc3\"}", 15);
  fastepost_webhook_response_free(process(fptest_conn(), "odoo", req, cfg, FASTEPOST_EPARSE, 400));
  fastepost_webhook_request_free(req);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE status <> 'error'"), 0);
  free(big);
  fastepost_webhook_config_free(cfg);
  fptest_assert_counters_exact();
}
