/* SPDX-License-Identifier: MIT */
/* monday.com board webhooks through fastepost_webhook_process() against a real database: the
 * challenge, JWT refusals (nothing written), creation, column changes, duplicates, out-of-order
 * (stale) deliveries, archive/delete/restore, updates as remarks, other boards, and the shared
 * ok.* fixtures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "retry_counts.h"
#include "testdb.h"
#include "util/jwt.h"

TestSuite(monday_process, .init = fptest_setup_schema, .fini = fptest_teardown);

#define Q(sql) fptest_scalar(sql)
#define N(sql) fptest_count(sql)

#define SECRET "monday-signing-secret"
#define URL "https://app.example.com/api/v1/integrations/monday"
#define BOARD 1771812698LL
#define NOW 1764270000LL /* 2025-11-27 19:00:00 UTC: the processing clock */

static int64_t fixed_clock(void *payload) {
  (void)payload;
  return NOW * 1000000;
}

static const char CONFIG[] =
    "{\"monday\": {\"signing_secrets\": [\"old-secret\", \"" SECRET "\"], \"url\": \"" URL "\","
    " \"boards\": {\"1771812698\": {\"email\": \"email_mkrkkywc\", \"phone\": \"phone_mkrkrbbw\","
    " \"company\": \"text_company\", \"address\": \"location\"}}}}";

static fastepost_webhook_config *config(const char *json, bool clock) {
  fastepost_webhook_config *cfg = NULL;
  cr_assert_eq(fastepost_webhook_config_new(&cfg), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_config_load_json(cfg, json, strlen(json)), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  if (clock)
    cr_assert_eq(fastepost_webhook_config_set_clock(cfg, fixed_clock, NULL), FASTEPOST_OK);
  return cfg;
}

/* A token as monday's app webhooks carry it, valid for five minutes from NOW. */
static char *token(const char *secret, const char *aud, long long exp) {
  char payload[256], *t = NULL;
  snprintf(payload, sizeof payload, "{\"accountId\":1825528,\"userId\":4012689,\"aud\":\"%s\",\"exp\":%lld,\"iat\":%lld}",
           aud, exp, NOW);
  cr_assert_eq(fastepost__jwt_sign_hs256(&t, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, secret, strlen(secret)),
               FASTEPOST_OK);
  return t;
}

/* Deliver body with Authorization (NULL: none) under cfg; asserts the status; returns the
 * response (free it). */
static fastepost_webhook_response *deliver_with(fastepost_webhook_config *cfg, const char *body, const char *auth,
                                                fastepost_status want) {
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  fastepost_webhook_request_set_uri(req, URL);
  fastepost_webhook_request_set_header(req, "Content-Type", "application/json");
  if (auth)
    fastepost_webhook_request_set_header(req, "Authorization", auth);
  fastepost_webhook_request_set_body(req, body, strlen(body));
  fastepost_webhook_response *resp = NULL;
  fastepost_status st = fastepost_webhook_process(&resp, fptest_conn(), "monday", req, cfg);
  cr_assert_eq(st, want, "status %s, want %s: %s", fastepost_error_name(st), fastepost_error_name(want),
               fastepost_error_last()->message);
  cr_assert_not_null(resp);
  cr_assert_eq(fastepost_webhook_response_status(resp), st);
  fastepost_webhook_request_free(req);
  return resp;
}

/* Deliver a signed body with the suite's configuration; expects one event with outcome `want`. */
static void expect(const char *body, fastepost_outcome want) {
  fastepost_webhook_config *cfg = config(CONFIG, true);
  char *t = token(SECRET, URL, NOW + 300);
  char auth[1024];
  snprintf(auth, sizeof auth, "Bearer %s", t);
  fastepost_webhook_response *resp = deliver_with(cfg, body, auth, FASTEPOST_OK);
  const fastepost_event_batch *b = fastepost_webhook_response_events(resp);
  cr_assert_eq(fastepost_event_batch_count(b), 1);
  fastepost_outcome got = fastepost_event_result_outcome(fastepost_event_batch_get(b, 0));
  cr_assert_eq(got, want, "outcome %s, want %s (%s)", fastepost_outcome_name(got), fastepost_outcome_name(want),
               fastepost_event_result_error(fastepost_event_batch_get(b, 0)));
  cr_assert_eq(fastepost_webhook_response_http_status(resp), 200);
  cr_assert_eq(fastepost_webhook_response_handshake(resp), 0);
  fastepost_webhook_response_free(resp);
  free(t);
  fastepost_webhook_config_free(cfg);
}

/* expect() for a body built here, which it frees. */
static void expect_free(char *body, fastepost_outcome want) {
  expect(body, want);
  free(body);
}

/* ---- bodies --------------------------------------------------------------------------------- */

static char *created(long long item, const char *uuid, const char *time) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&b,
                        "{\"event\":{\"app\":\"monday\",\"type\":\"create_pulse\",\"triggerTime\":\"%s\","
                        "\"subscriptionId\":73759690,\"userId\":9603417,\"originalTriggerUuid\":null,"
                        "\"boardId\":%lld,\"pulseId\":%lld,\"pulseName\":\"Jeremy Silbernagel\",\"groupId\":\"topics\","
                        "\"columnValues\":{\"email_mkrkkywc\":{\"email\":\"Jeremy@Example.com\",\"text\":\"Jeremy@Example.com\"},"
                        "\"phone_mkrkrbbw\":{\"phone\":\"18175841626\",\"countryShortName\":\"US\"},"
                        "\"text_company\":{\"value\":\"Silbernagel Farms\"},"
                        "\"location\":{\"lat\":\"32.7\",\"lng\":\"-97.3\",\"address\":\"1 Main St, Fort Worth, TX\"},"
                        "\"text_mkrkgaj6\":{\"value\":\"not synced\"}},\"triggerUuid\":\"%s\"}}",
                        time, BOARD, item, uuid);
  return fastepost__buf_detach(&b);
}

/* update_column_value of column `column` to `value` (a JSON value) at changedAt. */
static char *changed(long long board, long long item, const char *column, const char *value, const char *changed_at,
                     const char *uuid) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&b,
                        "{\"event\":{\"userId\":9603417,\"originalTriggerUuid\":null,\"boardId\":%lld,\"groupId\":\"topics\","
                        "\"pulseId\":%lld,\"pulseName\":\"Jeremy Silbernagel\",\"columnId\":\"%s\",\"columnType\":\"email\","
                        "\"value\":%s,\"previousValue\":null,\"changedAt\":%s,\"isTopGroup\":true,\"app\":\"monday\","
                        "\"type\":\"update_column_value\",\"triggerTime\":\"2025-11-27T10:00:00.000Z\","
                        "\"subscriptionId\":73760484,\"triggerUuid\":\"%s\"}}",
                        board, item, column, value, changed_at, uuid);
  return fastepost__buf_detach(&b);
}

/* An item event of type `type` (archive_pulse, delete_pulse, restore_pulse) as captured. */
static char *item_event(const char *type, long long item, const char *time, const char *uuid) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&b,
                        "{\"event\":{\"app\":\"monday\",\"type\":\"%s\",\"triggerTime\":\"%s\",\"subscriptionId\":466701507,"
                        "\"isRetry\":false,\"userId\":67214742,\"originalTriggerUuid\":null,\"boardId\":%lld,"
                        "\"itemId\":%lld,\"itemName\":\"Jeremy Silbernagel\",\"triggerUuid\":\"%s\"}}",
                        type, time, BOARD, item, uuid);
  return fastepost__buf_detach(&b);
}

#define CUSTOMER "SELECT concat_ws('|', name, email, phone, company, address, crm_source, crm_id, active) FROM customers"

/* ---- tests ------------------------------------------------------------------------------------ */

Test(monday_process, created_from_a_new_item_with_mapped_columns) {
  expect_free(created(9300000001, "uuid-create-1", "2025-11-27T10:00:00.000Z"), FASTEPOST_OUTCOME_CREATED);
  cr_assert_str_eq(Q(CUSTOMER), "Jeremy Silbernagel|jeremy@example.com|18175841626|Silbernagel Farms|"
                                "1 Main St, Fort Worth, TX|monday|item:9300000001|t");
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE source = 'monday' AND status = 'success' "
                 "AND outcome = 'created' AND external_id = 'item:9300000001' AND event_type = 'create_pulse'"),
               1);
  cr_assert_str_eq(Q("SELECT payload->>'triggerUuid' FROM integration_events"), "uuid-create-1");
}

Test(monday_process, updated_by_a_column_change_and_a_rename) {
  expect_free(created(5, "c1", "2025-11-27T10:00:00.000Z"), FASTEPOST_OUTCOME_CREATED);
  expect_free(changed(BOARD, 5, "email_mkrkkywc", "{\"email\":\"new@example.com\",\"text\":\"new\"}",
              "1764237700.25", "e1"),
              FASTEPOST_OUTCOME_UPDATED);
  expect_free(changed(BOARD, 5, "location", "{\"address\":\"2 Elm St\",\"lat\":\"1\",\"lng\":\"2\"}",
              "1764237701", "e2"),
              FASTEPOST_OUTCOME_UPDATED);
  /* cleared */
  expect_free(changed(BOARD, 5, "phone_mkrkrbbw", "null", "1764237702", "e3"), FASTEPOST_OUTCOME_UPDATED);
  expect("{\"event\":{\"app\":\"monday\",\"type\":\"update_name\",\"triggerTime\":\"2025-11-27T10:30:00.000Z\","
         "\"boardId\":1771812698,\"pulseId\":5,\"pulseName\":\"J. Silbernagel\",\"value\":{\"name\":\"J. Silbernagel\"},"
         "\"previousValue\":{\"name\":\"Jeremy Silbernagel\"},\"triggerUuid\":\"n1\"}}",
         FASTEPOST_OUTCOME_UPDATED);
  /* a column that is not mapped: logged, nothing changes */
  expect_free(changed(BOARD, 5, "date4", "{\"date\":\"2021-10-11\"}", "1764237703", "e4"), FASTEPOST_OUTCOME_IGNORED);
  cr_assert_str_eq(Q(CUSTOMER), "J. Silbernagel|new@example.com|Silbernagel Farms|2 Elm St|monday|item:5|t");
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE outcome = 'ignored'"), 1);
}

Test(monday_process, redelivery_is_a_duplicate) {
  char *body = created(6, "same-trigger", "2025-11-27T10:00:00.000Z");
  expect(body, FASTEPOST_OUTCOME_CREATED);
  expect(body, FASTEPOST_OUTCOME_DUPLICATE);
  free(body);
  /* monday's retry of the same trigger, flagged isRetry, is the same trigger */
  body = changed(BOARD, 6, "text_company", "{\"value\":\"Acme\"}", "1764237700", "t2");
  expect(body, FASTEPOST_OUTCOME_UPDATED);
  const char *at = strstr(body, "\"isTopGroup\":true");
  fastepost__buf retry = FASTEPOST__BUF_INIT;
  fastepost__buf_append(&retry, body, (size_t)(at - body));
  fastepost__buf_puts(&retry, "\"isRetry\":true,");
  fastepost__buf_puts(&retry, at);
  expect(retry.data, FASTEPOST_OUTCOME_DUPLICATE);
  fastepost__buf_free(&retry);
  free(body);
  cr_assert_eq(N("SELECT count(*) FROM integration_events"), 2);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  cr_assert_str_eq(Q("SELECT company FROM customers"), "Acme");
}

Test(monday_process, older_column_change_is_stale) {
  expect_free(created(7, "c7", "2025-11-27T09:00:00.000Z"), FASTEPOST_OUTCOME_CREATED);
  expect_free(changed(BOARD, 7, "email_mkrkkywc", "{\"email\":\"newer@example.com\"}", "1764237800.5", "s1"),
              FASTEPOST_OUTCOME_UPDATED);
  /* delivered later, changed earlier (a retry that came after the next change) */
  expect_free(changed(BOARD, 7, "email_mkrkkywc", "{\"email\":\"older@example.com\"}", "1764237800.25", "s2"),
              FASTEPOST_OUTCOME_STALE);
  cr_assert_str_eq(Q("SELECT email FROM customers"), "newer@example.com");
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE outcome = 'stale' AND status = 'success'"), 1);
  cr_assert_str_eq(Q("SELECT version FROM fastepost_crm_properties WHERE property = 'email'"),
                   "2025-11-27 10:03:20.5");
}

Test(monday_process, archive_and_delete_deactivate_restore_reactivates) {
  expect_free(created(8, "c8", "2025-11-27T09:00:00.000Z"), FASTEPOST_OUTCOME_CREATED);
  expect_free(item_event("archive_pulse", 8, "2025-11-27T09:10:00.000Z", "a8"), FASTEPOST_OUTCOME_UPDATED);
  cr_assert_str_eq(Q("SELECT active FROM customers"), "f");
  /* a change from before the archive arrives late: it cannot revive the item */
  expect_free(changed(BOARD, 8, "text_company", "{\"value\":\"Zombie\"}", "1764234300", "z8"), FASTEPOST_OUTCOME_STALE);
  expect_free(item_event("restore_pulse", 8, "2025-11-27T09:20:00.000Z", "r8"), FASTEPOST_OUTCOME_UPDATED);
  cr_assert_str_eq(Q("SELECT active FROM customers"), "t");
  expect_free(item_event("delete_pulse", 8, "2025-11-27T09:30:00.000Z", "d8"), FASTEPOST_OUTCOME_UPDATED);
  cr_assert_str_eq(Q("SELECT concat_ws('|', active, company) FROM customers"), "f|Silbernagel Farms");
  cr_assert_eq(N("SELECT count(*) FROM fastepost_crm_properties WHERE property = '_deleted' AND crm_id = 'item:8'"), 1);
  /* deleted before we ever saw it: a tombstone, no customer */
  expect_free(item_event("delete_pulse", 99, "2025-11-27T09:30:00.000Z", "d99"), FASTEPOST_OUTCOME_IGNORED);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
}

Test(monday_process, update_becomes_a_remark_on_the_item_customer) {
  expect_free(created(9, "c9", "2025-11-27T09:00:00.000Z"), FASTEPOST_OUTCOME_CREATED);
  const char *update = "{\"event\":{\"userId\":9603417,\"originalTriggerUuid\":null,\"boardId\":1771812698,"
                       "\"pulseId\":9,\"body\":\"<p>Call back on <b>Monday</b></p>\",\"textBody\":\"Call back on Monday\","
                       "\"updateId\":1190616585,\"replyId\":null,\"app\":\"monday\",\"type\":\"create_update\","
                       "\"triggerTime\":\"2025-11-27T09:18:57.368Z\",\"subscriptionId\":73760983,\"triggerUuid\":\"u9\"}}";
  expect(update, FASTEPOST_OUTCOME_UPDATED);
  cr_assert_str_eq(Q("SELECT body || '|' || source FROM remarks"), "Call back on Monday|monday");
  cr_assert_eq(N("SELECT count(*) FROM remarks r JOIN customers c ON c.id = r.customer_id WHERE c.crm_id = 'item:9'"), 1);
  /* the remark did not change the customer */
  cr_assert_str_eq(Q("SELECT name FROM customers"), "Jeremy Silbernagel");
  /* an update on an item we do not know: nothing to attach it to */
  const char *orphan = "{\"event\":{\"boardId\":1771812698,\"pulseId\":404,\"textBody\":\"Hello\",\"updateId\":2,"
                       "\"type\":\"create_update\",\"triggerTime\":\"2025-11-27T09:18:57.368Z\",\"triggerUuid\":\"u404\"}}";
  expect(orphan, FASTEPOST_OUTCOME_IGNORED);
  cr_assert_eq(N("SELECT count(*) FROM remarks"), 1);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
}

Test(monday_process, other_board_is_ignored) {
  expect_free(changed(42, 10, "email_mkrkkywc", "{\"email\":\"x@example.com\"}", "1764237700", "o1"),
              FASTEPOST_OUTCOME_IGNORED);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  cr_assert_str_eq(Q("SELECT error_message FROM integration_events"), "board 42 is not configured");
}

/* The table counts that a refused request must leave at zero. */
static void assert_nothing_written(void) {
  cr_assert_eq(N("SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM integration_events) + "
                 "(SELECT count(*) FROM remarks) + (SELECT count(*) FROM fastepost_crm_properties)"),
               0);
}

Test(monday_process, refused_requests_write_nothing) {
  fastepost_webhook_config *cfg = config(CONFIG, true);
  char *body = created(11, "r11", "2025-11-27T10:00:00.000Z");
  char *good = token(SECRET, URL, NOW + 300), *other = token("guessed", URL, NOW + 300);
  char *expired = token(SECRET, URL, NOW - 3600), *wrong_aud = token(SECRET, "https://evil.example/monday", NOW + 300);
  char none[1024];
  snprintf(none, sizeof none, "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.%s.", strchr(good, '.') + 1);
  *strrchr(none, '.') = '\0';
  strcat(none, ".");
  struct {
    const char *auth;
    fastepost_status want;
    const char *words;
  } cases[] = {
      {NULL, FASTEPOST_EAUTH, "no JWT"},
      {"", FASTEPOST_EAUTH, "no JWT"},
      {other, FASTEPOST_EAUTH, "signature"},
      {expired, FASTEPOST_EAUTH, "expired"},
      {wrong_aud, FASTEPOST_EAUTH, "audience"},
      {none, FASTEPOST_EAUTH, "JWT refused"},
      {"Bearer not.a.token", FASTEPOST_EAUTH, "JWT refused"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fastepost_webhook_response *resp = deliver_with(cfg, body, cases[i].auth, cases[i].want);
    cr_assert_eq(fastepost_webhook_response_http_status(resp), 401, "case %zu", i);
    cr_assert(strstr(fastepost_webhook_response_error(resp), cases[i].words), "case %zu: %s", i,
              fastepost_webhook_response_error(resp));
    cr_assert_null(strstr(fastepost_webhook_response_error(resp), SECRET));
    cr_assert_eq(fastepost_event_batch_count(fastepost_webhook_response_events(resp)), 0);
    fastepost_webhook_response_free(resp);
  }
  assert_nothing_written();
  /* the same body with the good token goes through */
  fastepost_webhook_response *resp = deliver_with(cfg, body, good, FASTEPOST_OK);
  fastepost_webhook_response_free(resp);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  free(body);
  free(good);
  free(other);
  free(expired);
  free(wrong_aud);
  fastepost_webhook_config_free(cfg);
}

Test(monday_process, fail_closed_without_secret_or_section) {
  char *body = created(12, "r12", "2025-11-27T10:00:00.000Z");
  fastepost_webhook_config *cfg = config("{\"monday\": {\"boards\": {\"1771812698\": {}}}}", true);
  fastepost_webhook_response *resp = deliver_with(cfg, body, NULL, FASTEPOST_ENOKEY);
  cr_assert_eq(fastepost_webhook_response_http_status(resp), 401);
  fastepost_webhook_response_free(resp);
  fastepost_webhook_config_free(cfg);
  cfg = config("{\"hubspot\": {\"client_secrets\": [\"x\"]}}", true);
  resp = deliver_with(cfg, body, NULL, FASTEPOST_ENOKEY);
  fastepost_webhook_response_free(resp);
  fastepost_webhook_config_free(cfg);
  /* require_jwt false: no token passes, a bad token does not */
  cfg = config("{\"monday\": {\"require_jwt\": false, \"signing_secrets\": [\"" SECRET "\"],"
               " \"boards\": {\"1771812698\": {}}}}",
               true);
  char *bad = token("guessed", URL, NOW + 300);
  resp = deliver_with(cfg, body, bad, FASTEPOST_EAUTH);
  fastepost_webhook_response_free(resp);
  assert_nothing_written();
  resp = deliver_with(cfg, body, NULL, FASTEPOST_OK);
  fastepost_webhook_response_free(resp);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 1);
  free(bad);
  free(body);
  fastepost_webhook_config_free(cfg);
}

Test(monday_process, challenge_is_answered_and_writes_nothing) {
  fastepost_webhook_config *cfg = config(CONFIG, true);
  static const char challenge[] = "{\"challenge\": \"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P\"}";
  fastepost_webhook_response *resp = deliver_with(cfg, challenge, NULL, FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_response_handshake(resp), 1);
  cr_assert_eq(fastepost_webhook_response_http_status(resp), 200);
  cr_assert_str_eq(fastepost_webhook_response_content_type(resp), "application/json");
  cr_assert_str_eq(fastepost_webhook_response_body(resp),
                   "{\"challenge\":\"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P\"}");
  cr_assert_eq(fastepost_event_batch_count(fastepost_webhook_response_events(resp)), 0);
  fastepost_webhook_response_free(resp);
  assert_nothing_written();
  fastepost_webhook_config_free(cfg);
}

Test(monday_process, malformed_bodies_are_400_and_write_nothing) {
  fastepost_webhook_config *cfg = config(CONFIG, true);
  char *good = token(SECRET, URL, NOW + 300);
  const char *bodies[] = {"", "not json", "[1]", "{\"event\": 5}", "{\"event\": {\"a\": \"\xc3\x28\"}}"};
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
    fastepost_webhook_response *resp = deliver_with(cfg, bodies[i], good, FASTEPOST_EPARSE);
    cr_assert_eq(fastepost_webhook_response_http_status(resp), 400, "body %zu", i);
    fastepost_webhook_response_free(resp);
  }
  assert_nothing_written();
  /* an absurd time: logged as an error, nothing applied */
  char *body = created(13, "old", "1971-01-01T00:00:00.000Z");
  fastepost_webhook_response *resp = deliver_with(cfg, body, good, FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_webhook_response_http_status(resp), 400);
  fastepost_webhook_response_free(resp);
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  cr_assert_eq(N("SELECT count(*) FROM integration_events WHERE status = 'error'"), 1);
  free(body);
  free(good);
  fastepost_webhook_config_free(cfg);
}

Test(monday_process, shared_ok_fixtures_create_the_expected_customer) {
  char *json = fptest_read_file(fptest_source_path("tests/fixtures/monday/config.json"), NULL);
  fastepost_webhook_config *cfg = config(json, false); /* no clock: ok.json needs none */
  free(json);
  char *body = fptest_read_file(fptest_source_path("tests/fixtures/monday/ok.json"), NULL);
  char *headers = fptest_read_file(fptest_source_path("tests/fixtures/monday/ok.headers"), NULL);
  char *expect_id = fptest_read_file(fptest_source_path("tests/fixtures/monday/ok.expect"), NULL);
  expect_id[strcspn(expect_id, "\r\n")] = '\0';
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  for (char *line = strtok(headers, "\n"); line; line = strtok(NULL, "\n")) {
    char *colon = strchr(line, ':');
    cr_assert_not_null(colon, "ok.headers: %s", line);
    *colon = '\0';
    fastepost_webhook_request_set_header(req, line, colon + 1 + strspn(colon + 1, " "));
  }
  fastepost_webhook_request_set_body(req, body, strlen(body));
  fastepost_webhook_response *resp = NULL;
  cr_assert_eq(fastepost_webhook_process(&resp, fptest_conn(), "monday", req, cfg), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(fastepost_event_result_outcome(fastepost_event_batch_get(fastepost_webhook_response_events(resp), 0)),
               FASTEPOST_OUTCOME_CREATED);
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM customers WHERE crm_source = 'monday' AND crm_id = '%s'", expect_id);
  cr_assert_eq(N(sql), 1);
  fastepost_webhook_response_free(resp);
  fastepost_webhook_request_free(req);
  free(body);
  free(headers);
  free(expect_id);
  fastepost_webhook_config_free(cfg);
}

/* Every write to customers fails as a busy database would (40001: transient, retried). */
static void fail_busy(void) {
  fptest_exec("CREATE FUNCTION fail_busy() RETURNS trigger LANGUAGE plpgsql AS "
              "$$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40001'; END $$");
  fptest_exec("CREATE TRIGGER fail_busy BEFORE INSERT OR UPDATE ON customers "
              "FOR EACH ROW EXECUTE FUNCTION fail_busy()");
}

/* A column change that met a busy database is retried from its stored payload; the retry reads
 * the board's column mapping from the webhook configuration handed to it. */
Test(monday_process, failed_column_change_is_retried_with_the_board_mapping) {
  fail_busy();
  fastepost_webhook_config *cfg = config(CONFIG, true);
  char *t = token(SECRET, URL, NOW + 300);
  char *body = changed(BOARD, 20, "email_mkrkkywc", "{\"email\":\"retry@example.com\"}", "1764237700", "rt1");
  fastepost_webhook_response *resp = deliver_with(cfg, body, t, FASTEPOST_EBUSY);
  cr_assert_eq(fastepost_webhook_response_http_status(resp), 503);
  fastepost_webhook_response_free(resp);
  cr_assert_str_eq(Q("SELECT status || '|' || (next_attempt_at IS NOT NULL) FROM integration_events"), "error|true");
  fptest_exec("DROP TRIGGER fail_busy ON customers");
  fptest_exec("UPDATE integration_events SET next_attempt_at = localtimestamp - interval '1 second'");

  fastepost_retry_options *o = NULL;
  fastepost_retry_report *rep = NULL;
  cr_assert_eq(fastepost_retry_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_retry_options_set_webhook_config(o, cfg), FASTEPOST_OK);
  cr_assert_eq(fastepost_events_retry(&rep, fptest_conn(), o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_retry_report_attempted(rep), 1);
  cr_assert_eq(fastepost_retry_report_succeeded(rep), 1);
  fastepost_retry_report_free(rep);
  fastepost_retry_options_free(o);
  cr_assert_str_eq(Q("SELECT concat_ws('|', status, outcome, attempts) FROM integration_events"), "success|created|2");
  cr_assert_str_eq(Q(CUSTOMER), "Jeremy Silbernagel|retry@example.com|monday|item:20|t");
  /* monday's own retry of the trigger is now a duplicate */
  resp = deliver_with(cfg, body, t, FASTEPOST_OK);
  cr_assert_eq(fastepost_event_result_outcome(fastepost_event_batch_get(fastepost_webhook_response_events(resp), 0)),
               FASTEPOST_OUTCOME_DUPLICATE);
  fastepost_webhook_response_free(resp);
  free(body);
  free(t);
  fastepost_webhook_config_free(cfg);
}

/* Without the configuration a retry cannot map the column: it fails and says why. */
Test(monday_process, retry_without_configuration_names_the_missing_mapping) {
  fail_busy();
  fastepost_webhook_config *cfg = config(CONFIG, true);
  char *t = token(SECRET, URL, NOW + 300);
  char *body = changed(BOARD, 21, "email_mkrkkywc", "{\"email\":\"retry@example.com\"}", "1764237700", "rt2");
  fastepost_webhook_response_free(deliver_with(cfg, body, t, FASTEPOST_EBUSY));
  fptest_exec("DROP TRIGGER fail_busy ON customers");
  fptest_exec("UPDATE integration_events SET next_attempt_at = localtimestamp - interval '1 second'");
  fptest_retry rep;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, NULL, NULL, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.attempted, 1);
  cr_assert_eq(rep.succeeded, 0);
  cr_assert(strstr(Q("SELECT error_message FROM integration_events"), "column mapping"), "%s",
            Q("SELECT error_message FROM integration_events"));
  cr_assert_eq(N("SELECT count(*) FROM customers"), 0);
  free(body);
  free(t);
  fastepost_webhook_config_free(cfg);
}

/* No database at hand: the verified request goes to the spool (202) and is replayed later with
 * the configuration's board mapping. */
Test(monday_process, spooled_request_is_replayed_with_the_board_mapping) {
  char dir[256], sub[300];
  fptest_tmpdir(dir, sizeof dir, "monday-spool");
  snprintf(sub, sizeof sub, "%s/s", dir);
  fastepost_spool *spool = NULL;
  cr_assert_eq(fastepost_spool_open(&spool, sub), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  fastepost_webhook_config *cfg = config(CONFIG, true);
  cr_assert_eq(fastepost_webhook_config_set_spool(cfg, spool), FASTEPOST_OK);
  char *t = token(SECRET, URL, NOW + 300);
  char *body = created(30, "sp1", "2025-11-27T10:00:00.000Z");
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  fastepost_webhook_request_set_header(req, "Authorization", t);
  fastepost_webhook_request_set_body(req, body, strlen(body));
  fastepost_webhook_response *resp = NULL;
  cr_assert_eq(fastepost_webhook_process(&resp, NULL, "monday", req, cfg), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(fastepost_webhook_response_spooled(resp), 1);
  cr_assert_eq(fastepost_webhook_response_http_status(resp), 202);
  fastepost_webhook_response_free(resp);
  /* a refused request is not spooled */
  fastepost_webhook_request_set_header(req, "Authorization", NULL);
  cr_assert_eq(fastepost_webhook_process(&resp, NULL, "monday", req, cfg), FASTEPOST_EAUTH);
  fastepost_webhook_response_free(resp);
  assert_nothing_written();

  cr_assert_eq(fastepost_spool_set_webhook_config(spool, cfg), FASTEPOST_OK);
  fptest_replay rep;
  cr_assert_eq(fptest_spool_replay(&rep, spool, fptest_conn(), 0), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(rep.replayed, 1);
  cr_assert_eq(rep.remaining, 0);
  cr_assert_str_eq(Q(CUSTOMER), "Jeremy Silbernagel|jeremy@example.com|18175841626|Silbernagel Farms|"
                                "1 Main St, Fort Worth, TX|monday|item:30|t");
  fastepost_webhook_request_free(req);
  free(body);
  free(t);
  fastepost_webhook_config_free(cfg);
  fastepost_spool_free(spool);
  fptest_rmtree(dir);
}
