/* SPDX-License-Identifier: MIT */
/*
 * The monday.com adapter through its table (no database): the configuration section, the
 * challenge, JWT verification, and parsing of every sample in tests/fixtures/monday/ (README
 * there says where each came from) into sync records, with the board's column mapping.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/adapter.h"
#include "adapters/monday.h"
#include "internal.h"
#include "testdb.h"
#include "util/jwt.h"

static const fastepost__adapter *A = &fastepost__monday_adapter;

#define SECRET "test-signing-secret"
#define URL "https://www.yourserver.com/endpoint"
/* The JWT vector of the reference notes: aud URL, exp 1606808758, iat 1606808458. */
static const char TOKEN[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhY2NvdW50SWQiOjE4MjU1MjgsInVzZXJJZCI6NDAxMjY4OSwiYXVkIjoiaHR0cHM6Ly93d3c"
    "ueW91cnNlcnZlci5jb20vZW5kcG9pbnQiLCJleHAiOjE2MDY4MDg3NTgsInNob3J0TGl2ZWRUb2tlbiI6IlNIT1JUX0xJVkVEX1RPS0VOX0hFUk"
    "UiLCJpYXQiOjE2MDY4MDg0NTh9.M9fofPM2v-lHhlRRVhTVIik0RIqZzN7U9saL8D7jb_c";

static void assert_message(const char *needle) {
  const char *m = fastepost_error_last()->message;
  cr_assert(strstr(m, needle), "message '%s' lacks '%s'", m, needle);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static char *fixture(const char *name, size_t *len) {
  char rel[256];
  snprintf(rel, sizeof rel, "tests/fixtures/monday/%s", name);
  return fptest_read_file(fptest_source_path(rel), len);
}

/* config_new over a section given as JSON text; returns the code, *out the config. */
static int config_from(void **out, const char *section) {
  json_object *j = json_tokener_parse(section);
  cr_assert_not_null(j, "bad test JSON: %s", section);
  int rc = A->config_new(out, j);
  json_object_put(j);
  return rc;
}

/* The "monday" section of tests/fixtures/monday/config.json. */
static void *fixture_config(void) {
  char *text = fixture("config.json", NULL);
  json_object *root = json_tokener_parse(text), *section = NULL;
  cr_assert(json_object_object_get_ex(root, "monday", &section));
  void *cfg = NULL;
  cr_assert_eq(A->config_new(&cfg, section), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  json_object_put(root);
  free(text);
  return cfg;
}

static int64_t clock_at(void *payload) { return *(const int64_t *)payload; }

static fastepost_webhook_request *request(const char *authorization, const char *body) {
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  if (authorization)
    cr_assert_eq(fastepost_webhook_request_set_header(req, "Authorization", authorization), FASTEPOST_OK);
  if (body)
    cr_assert_eq(fastepost_webhook_request_set_body(req, body, strlen(body)), FASTEPOST_OK);
  return req;
}

/* The processing clock verify() reads from the request (fastepost_webhook_process() hands it a
 * view carrying the configuration's clock); NULL: none, the system clock. */
static int64_t *verify_clock;

static int verify_with(const void *cfg, const char *authorization) {
  fastepost_webhook_request *req = request(authorization, "{}"), *view = NULL;
  fastepost__clock clock = {clock_at, verify_clock};
  cr_assert_eq(fastepost__webhook_request_view(&view, req, verify_clock ? &clock : NULL), FASTEPOST_OK);
  int rc = A->verify(cfg, view);
  fastepost__webhook_request_view_free(view);
  fastepost_webhook_request_free(req);
  return rc;
}

/* Parse a fixture with the fixture configuration: exactly one record, into *rec (caller frees recs). */
static fastepost__sync_record *parse_fixture(fastepost__records *recs, const void *cfg, const char *name) {
  size_t len = 0;
  char *body = fixture(name, &len);
  int rc = A->parse(recs, cfg, body, len, FASTEPOST__SYNC_SERVER_CLOCK);
  free(body);
  cr_assert_eq(rc, FASTEPOST_OK, "%s: %s", name, fastepost_error_last()->message);
  cr_assert_eq(recs->count, 1);
  cr_assert_str_eq(recs->items[0].source, "monday");
  return &recs->items[0];
}

static const char *prop(const fastepost__sync_record *r, const char *name) {
  for (size_t i = 0; i < r->nprops; i++)
    if (strcmp(r->prop_defs[i].name, name) == 0)
      return r->props[i].state == FASTEPOST__FACT_VALUE ? r->props[i].value
             : r->props[i].state == FASTEPOST__FACT_EMPTY ? "<empty>"
                                                           : NULL;
  return NULL;
}

static void assert_usable(const fastepost__sync_record *r) {
  cr_assert_eq(r->failure, 0, "failed: %s", r->failure_message);
  cr_assert_null(r->ignore_reason, "ignored: %s", r->ignore_reason);
  cr_assert_not_null(r->idempotency_key);
  cr_assert_eq(strlen(r->idempotency_key), 64);
  cr_assert_not_null(r->payload);
}

/* ---- configuration --------------------------------------------------------------------------- */

Test(monday_config, defaults_and_fixture) {
  void *cfg = NULL;
  cr_assert_eq(config_from(&cfg, "{}"), FASTEPOST_OK);
  const fastepost__monday_config *c = cfg;
  cr_assert(c->require_jwt, "require_jwt defaults to true (fail closed)");
  cr_assert_eq(c->nsecrets, 0);
  cr_assert_null(c->url);
  A->config_free(cfg);

  c = cfg = fixture_config();
  cr_assert_not(c->require_jwt);
  cr_assert_eq(c->nsecrets, 1);
  cr_assert_str_eq(c->url, URL);
  const fastepost__monday_board *b = fastepost__monday_board_find(c, "1771812698");
  cr_assert_not_null(b);
  cr_assert_str_eq(b->columns[FASTEPOST__MONDAY_EMAIL], "email_mkrkkywc");
  cr_assert_str_eq(b->columns[FASTEPOST__MONDAY_ADDRESS], "location");
  cr_assert_null(fastepost__monday_board_find(c, "1"));
  A->config_free(cfg);
  A->config_free(NULL);
}

Test(monday_config, wrong_keys_types_and_values_name_the_key) {
  struct {
    const char *json, *words;
  } cases[] = {
      {"{\"signing_secret\": [\"x\"]}", "monday.signing_secret: unknown key"},
      {"{\"signing_secrets\": \"x\"}", "monday.signing_secrets: not an array"},
      {"{\"signing_secrets\": [\"ok\", 5]}", "monday.signing_secrets[1]: not a string"},
      {"{\"signing_secrets\": [\"\"]}", "monday.signing_secrets[0]: must be 1 to"},
      {"{\"require_jwt\": \"false\"}", "monday.require_jwt: not a boolean"},
      {"{\"url\": 7}", "monday.url: not a string"},
      {"{\"boards\": []}", "monday.boards: not an object"},
      {"{\"boards\": {\"abc\": {}}}", "is not a board id"},
      {"{\"boards\": {\"17\": {\"emails\": \"x\"}}}", "monday.boards.17.emails: unknown key"},
      {"{\"boards\": {\"17\": {\"email\": 3}}}", "monday.boards.17.email: not a string"},
      {"{\"boards\": {\"17\": \"email\"}}", "monday.boards.17: not an object"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    void *cfg = (void *)1;
    cr_assert_eq(config_from(&cfg, cases[i].json), FASTEPOST_EINVALID, "case %zu", i);
    cr_assert_null(cfg);
    assert_message(cases[i].words);
  }
  void *cfg = NULL;
  json_object *arr = json_object_new_array();
  cr_assert_eq(A->config_new(&cfg, arr), FASTEPOST_EINVALID);
  json_object_put(arr);
}

Test(monday_config, a_secret_never_appears_in_a_message) {
  char big[3000 + 64];
  memset(big, 'S', 3000);
  big[3000] = '\0';
  char json[3200];
  snprintf(json, sizeof json, "{\"signing_secrets\": [\"%s\"]}", big);
  void *cfg = NULL;
  cr_assert_eq(config_from(&cfg, json), FASTEPOST_EINVALID);
  cr_assert_null(strstr(fastepost_error_last()->message, "SSSS"));
  cr_assert_eq(config_from(&cfg, "{\"signing_secrets\": [\"hunter2-secret\"], \"bogus\": 1}"), FASTEPOST_EINVALID);
  cr_assert_null(strstr(fastepost_error_last()->message, "hunter2"));
}

/* ---- the challenge ------------------------------------------------------------------------- */

Test(monday_handshake, challenge_is_echoed_as_json) {
  void *cfg = fixture_config();
  char *body = fixture("challenge.json", NULL);
  fastepost_webhook_request *req = request(NULL, body);
  fastepost__response resp = {0};
  cr_assert_eq(A->handshake(&resp, cfg, req), 1);
  cr_assert_eq(resp.http_status, 200);
  cr_assert_str_eq(resp.content_type, "application/json");
  cr_assert_str_eq(resp.body, "{\"challenge\":\"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P\"}");
  cr_assert_eq(resp.len, strlen(resp.body));
  fastepost__response_clear(&resp);
  /* even with require_jwt and no JWT: the challenge comes before verification */
  void *strict = NULL;
  cr_assert_eq(config_from(&strict, "{\"signing_secrets\": [\"s\"]}"), FASTEPOST_OK);
  cr_assert_eq(A->handshake(&resp, strict, req), 1);
  cr_assert_eq(A->verify(strict, req), FASTEPOST_EAUTH);
  fastepost__response_clear(&resp);
  A->config_free(strict);
  fastepost_webhook_request_free(req);
  free(body);

  /* characters that need escaping come back escaped, and the same string */
  req = request(NULL, "{\"challenge\":\"a\\\"b\\u00e9\\n\"}");
  cr_assert_eq(A->handshake(&resp, cfg, req), 1);
  cr_assert_str_eq(resp.body, "{\"challenge\":\"a\\\"b\xc3\xa9\\n\"}");
  fastepost__response_clear(&resp);
  fastepost_webhook_request_free(req);
  A->config_free(cfg);
}

Test(monday_handshake, other_bodies_are_not_a_handshake) {
  void *cfg = fixture_config();
  char big[1200];
  snprintf(big, sizeof big, "{\"challenge\":\"%01100d\"}", 0);
  const char *bodies[] = {
      "", "not json", "[\"challenge\"]", "{\"challenge\": 5}", "{\"challenge\": null}",
      "{\"challenge\": \"x\", \"event\": {}}", "{\"event\": {\"challenge\": \"x\"}}", "{\"challenge\": \"\xff\"}",
      big,
  };
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
    fastepost_webhook_request *req = request(NULL, bodies[i]);
    fastepost__response resp = {0};
    cr_assert_eq(A->handshake(&resp, cfg, req), 0, "body %zu", i);
    cr_assert_null(resp.body);
    fastepost_webhook_request_free(req);
  }
  /* not configured: no answer (the set-up fails on monday's side at once) */
  char *body = fixture("challenge.json", NULL);
  fastepost_webhook_request *req = request(NULL, body);
  fastepost__response resp = {0};
  cr_assert_eq(A->handshake(&resp, NULL, req), 0);
  /* configured so that every request is refused (require_jwt without a secret): no answer */
  void *closed = NULL;
  cr_assert_eq(config_from(&closed, "{\"boards\": {\"1\": {}}}"), FASTEPOST_OK);
  cr_assert_eq(A->handshake(&resp, closed, req), 0);
  A->config_free(closed);
  fastepost_webhook_request_free(req);
  free(body);
  A->config_free(cfg);
}

/* ---- verification -------------------------------------------------------------------------- */

static void *jwt_config(const char *extra, int64_t *now_us) {
  char json[512];
  snprintf(json, sizeof json, "{\"signing_secrets\": [\"old\", \"" SECRET "\"], \"url\": \"" URL "\"%s}", extra);
  void *cfg = NULL;
  cr_assert_eq(config_from(&cfg, json), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  verify_clock = now_us;
  return cfg;
}

Test(monday_verify, jwt_raw_or_bearer_with_the_injected_clock) {
  int64_t now = 1606808458LL * 1000000;
  void *cfg = jwt_config("", &now);
  cr_assert_eq(verify_with(cfg, TOKEN), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  char bearer[1024];
  snprintf(bearer, sizeof bearer, "Bearer %s", TOKEN);
  cr_assert_eq(verify_with(cfg, bearer), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  snprintf(bearer, sizeof bearer, "  bearer   %s ", TOKEN);
  cr_assert_eq(verify_with(cfg, bearer), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  /* the clock moves past exp */
  now = (1606808758LL + 3600) * 1000000;
  cr_assert_eq(verify_with(cfg, TOKEN), FASTEPOST_EAUTH);
  assert_message("expired");
  A->config_free(cfg);
  /* no clock: the system clock, long past this token's exp */
  cfg = jwt_config("", NULL);
  cr_assert_eq(verify_with(cfg, TOKEN), FASTEPOST_EAUTH);
  assert_message("monday: JWT refused: expired");
  A->config_free(cfg);
}

Test(monday_verify, wrong_audience_and_missing_token) {
  int64_t now = 1606808458LL * 1000000;
  void *cfg = NULL;
  cr_assert_eq(config_from(&cfg, "{\"signing_secrets\": [\"" SECRET "\"], \"url\": \"https://app.example.com/monday\"}"),
               FASTEPOST_OK);
  verify_clock = &now;
  cr_assert_eq(verify_with(cfg, TOKEN), FASTEPOST_EAUTH);
  assert_message("audience");
  cr_assert_eq(verify_with(cfg, NULL), FASTEPOST_EAUTH);
  assert_message("no JWT");
  cr_assert_eq(verify_with(cfg, ""), FASTEPOST_EAUTH);
  cr_assert_eq(verify_with(cfg, "Bearer "), FASTEPOST_EAUTH);
  A->config_free(cfg);
  /* no url configured: aud is not checked */
  cr_assert_eq(config_from(&cfg, "{\"signing_secrets\": [\"" SECRET "\"]}"), FASTEPOST_OK);
  cr_assert_eq(verify_with(cfg, TOKEN), FASTEPOST_OK);
  A->config_free(cfg);
}

Test(monday_verify, fail_closed) {
  cr_assert_eq(verify_with(NULL, TOKEN), FASTEPOST_ENOKEY);
  void *cfg = NULL;
  cr_assert_eq(config_from(&cfg, "{}"), FASTEPOST_OK); /* require_jwt true, no secret */
  cr_assert_eq(verify_with(cfg, TOKEN), FASTEPOST_ENOKEY);
  cr_assert_eq(verify_with(cfg, NULL), FASTEPOST_ENOKEY);
  A->config_free(cfg);
  cr_assert_eq(config_from(&cfg, "{\"signing_secrets\": [], \"require_jwt\": true}"), FASTEPOST_OK);
  cr_assert_eq(verify_with(cfg, NULL), FASTEPOST_ENOKEY);
  A->config_free(cfg);
  /* require_jwt false without secrets: no token is accepted, a token cannot be checked */
  cr_assert_eq(config_from(&cfg, "{\"require_jwt\": false}"), FASTEPOST_OK);
  cr_assert_eq(verify_with(cfg, NULL), FASTEPOST_OK);
  cr_assert_eq(verify_with(cfg, TOKEN), FASTEPOST_ENOKEY);
  A->config_free(cfg);
}

Test(monday_verify, without_require_jwt_a_bad_token_is_still_refused) {
  int64_t now = 1606808458LL * 1000000;
  void *cfg = jwt_config(", \"require_jwt\": false", &now);
  cr_assert_eq(verify_with(cfg, NULL), FASTEPOST_OK);
  cr_assert_eq(verify_with(cfg, TOKEN), FASTEPOST_OK);
  cr_assert_eq(verify_with(cfg, "garbage"), FASTEPOST_EAUTH);
  char *forged = NULL;
  cr_assert_eq(fastepost__jwt_sign_hs256(&forged, "{\"alg\":\"HS256\"}",
                                         "{\"aud\":\"" URL "\",\"exp\":1606808758}", "guessed", 7),
               FASTEPOST_OK);
  cr_assert_eq(verify_with(cfg, forged), FASTEPOST_EAUTH);
  assert_message("signature");
  cr_assert_null(strstr(fastepost_error_last()->message, SECRET));
  free(forged);
  A->config_free(cfg);
}

/* ---- parsing the samples --------------------------------------------------------------------- */

Test(monday_parse, create_pulse_sample) {
  void *cfg = fixture_config();
  fastepost__records recs;
  fastepost__sync_record *r = parse_fixture(&recs, cfg, "create_pulse.json");
  assert_usable(r);
  cr_assert_str_eq(r->event_type, "create_pulse");
  cr_assert_str_eq(r->external_id, "item:1772099344");
  cr_assert_str_eq(r->crm_id, "item:1772099344");
  cr_assert_str_eq(r->version, "2021-10-11 09:07:28.210000");
  cr_assert(r->owns_customer);
  cr_assert(r->create_bare);
  cr_assert_str_eq(prop(r, "name"), "Create_item webhook");
  cr_assert_null(prop(r, "email"));
  static const char canon[] = "{\"app\":\"monday\",\"boardId\":1771812698,\"columnValues\":{},";
  cr_assert(strncmp(r->payload, canon, sizeof canon - 1) == 0,
            "the payload is canonical (sorted keys, no spaces): %s", r->payload);
  fastepost__records_free(&recs);
  A->config_free(cfg);
}

Test(monday_parse, create_pulse_with_mapped_columns) {
  void *cfg = fixture_config();
  fastepost__records recs;
  fastepost__sync_record *r = parse_fixture(&recs, cfg, "create_pulse_columns.json");
  assert_usable(r);
  cr_assert_str_eq(r->crm_id, "item:9300000001");
  cr_assert_str_eq(prop(r, "name"), "Jeremy Silbernagel");
  cr_assert_str_eq(prop(r, "email"), "jeremy@example.com");
  cr_assert_str_eq(prop(r, "phone"), "18175841626");
  cr_assert_str_eq(prop(r, "company"), "Silbernagel Farms");
  cr_assert_null(prop(r, "address"), "the location column is not in this item's values");
  fastepost__records_free(&recs);
  A->config_free(cfg);
}

Test(monday_parse, column_changes_by_type) {
  void *cfg = fixture_config();
  struct {
    const char *file, *prop, *value, *version;
  } cases[] = {
      {"change_email.json", "email", "Info@Example.COM", "2021-10-11 09:16:41.500000"},
      {"change_phone.json", "phone", "+4930123456", "2021-10-11 09:16:42.000000"},
      {"change_location.json", "address", "Friedrichstra\xc3\x9f" "e 1, 10117 Berlin, Germany",
       "2021-10-11 09:16:43.250000"},
      {"change_company.json", "company", "Acme Corp", "2021-10-11 09:16:44.750000"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fastepost__records recs;
    fastepost__sync_record *r = parse_fixture(&recs, cfg, cases[i].file);
    assert_usable(r);
    cr_assert_str_eq(r->event_type, "update_column_value");
    cr_assert_str_eq(r->crm_id, "item:1771812728");
    cr_assert_str_eq(prop(r, cases[i].prop), cases[i].value, "%s", cases[i].file);
    cr_assert_str_eq(prop(r, "name"), "Crate_item webhook");
    cr_assert_str_eq(r->version, cases[i].version, "changedAt is the version: %s", r->version);
    cr_assert_not(r->create_bare);
    fastepost__records_free(&recs);
  }
  A->config_free(cfg);
}

Test(monday_parse, unmapped_column_is_ignored) {
  void *cfg = fixture_config();
  fastepost__records recs;
  fastepost__sync_record *r = parse_fixture(&recs, cfg, "change_column_value.json");
  cr_assert_eq(r->failure, 0);
  cr_assert_not_null(r->ignore_reason);
  cr_assert(strstr(r->ignore_reason, "column date4 of board 1771812698 is not synced"), "%s", r->ignore_reason);
  cr_assert_str_eq(r->version, "2021-10-11 09:15:01.945777", "%s", r->version);
  fastepost__records_free(&recs);
  A->config_free(cfg);
}

Test(monday_parse, create_update_is_a_remark) {
  void *cfg = fixture_config();
  fastepost__records recs;
  fastepost__sync_record *r = parse_fixture(&recs, cfg, "create_update.json");
  assert_usable(r);
  cr_assert_str_eq(r->note_body, "create_update webhook");
  cr_assert_str_eq(r->note_key, "1190616585");
  cr_assert_not(r->owns_customer, "a remark neither creates nor changes the customer");
  cr_assert_str_eq(r->link_crm_id, "item:1771812728");
  cr_assert_null(r->version, "a remark is no version of the item");
  cr_assert_eq(r->nprops, 0);
  fastepost__records_free(&recs);

  /* no textBody: the HTML body as text */
  const char *body = "{\"event\":{\"type\":\"create_update\",\"boardId\":1771812698,\"pulseId\":5,"
                     "\"body\":\"<p>Call <b>back</b></p>\",\"updateId\":9,\"triggerTime\":\"2024-01-01T00:00:00Z\","
                     "\"triggerUuid\":\"u1\"}}";
  cr_assert_eq(A->parse(&recs, cfg, body, strlen(body), FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  cr_assert_str_eq(recs.items[0].note_body, "Call back");
  fastepost__records_free(&recs);
  body = "{\"event\":{\"type\":\"create_update\",\"boardId\":1771812698,\"pulseId\":5,\"textBody\":\"\","
         "\"body\":\"<p></p>\",\"triggerTime\":\"2024-01-01T00:00:00Z\"}}";
  cr_assert_eq(A->parse(&recs, cfg, body, strlen(body), FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  cr_assert_not_null(recs.items[0].ignore_reason);
  fastepost__records_free(&recs);
  A->config_free(cfg);
}

Test(monday_parse, delete_archive_and_restore) {
  void *cfg = fixture_config();
  const char *files[] = {"delete_pulse.json", "archive_pulse.json", "restore_pulse.json"};
  for (size_t i = 0; i < 3; i++) {
    fastepost__records recs;
    fastepost__sync_record *r = parse_fixture(&recs, cfg, files[i]);
    assert_usable(r);
    cr_assert_str_eq(r->crm_id, "item:8409778368", "itemId (a number) is the item");
    cr_assert(r->owns_customer);
    bool restore = i == 2;
    cr_assert_eq(r->tombstone, !restore);
    cr_assert_eq(r->restore, restore);
    cr_assert_eq(r->facts.active, restore ? 1 : 0);
    cr_assert_not_null(r->prop_defs, "tombstones are versioned");
    fastepost__records_free(&recs);
  }
  fastepost__records recs;
  fastepost__sync_record *r = parse_fixture(&recs, cfg, "delete_pulse.json");
  cr_assert_str_eq(r->version, "2025-02-05 16:42:35.957000");
  fastepost__records_free(&recs);
  A->config_free(cfg);
}

Test(monday_parse, rename) {
  void *cfg = fixture_config();
  fastepost__records recs;
  fastepost__sync_record *r = parse_fixture(&recs, cfg, "update_name.json");
  assert_usable(r);
  cr_assert_str_eq(prop(r, "name"), "Acme GmbH");
  cr_assert_str_eq(r->crm_id, "item:8409778368");
  fastepost__records_free(&recs);
  A->config_free(cfg);
}

Test(monday_parse, other_boards_and_subitems_are_ignored) {
  void *cfg = NULL;
  cr_assert_eq(config_from(&cfg, "{\"require_jwt\": false, \"boards\": {\"42\": {\"email\": \"e\"}}}"), FASTEPOST_OK);
  const char *files[] = {"create_pulse.json", "delete_pulse.json", "create_update.json", "change_email.json"};
  for (size_t i = 0; i < 4; i++) {
    fastepost__records recs;
    fastepost__sync_record *r = parse_fixture(&recs, cfg, files[i]);
    cr_assert_eq(r->failure, 0);
    cr_assert_not_null(r->ignore_reason, "%s", files[i]);
    cr_assert(strstr(r->ignore_reason, "is not configured"), "%s", r->ignore_reason);
    cr_assert_not_null(r->idempotency_key);
    fastepost__records_free(&recs);
  }
  A->config_free(cfg);
  cfg = fixture_config();
  fastepost__records recs;
  fastepost__sync_record *r = parse_fixture(&recs, cfg, "create_subitem.json");
  cr_assert(r->ignore_reason && strstr(r->ignore_reason, "subitem"));
  fastepost__records_free(&recs);
  const char *moved = "{\"event\":{\"type\":\"move_pulse_into_group\",\"boardId\":1771812698,\"pulseId\":5,"
                      "\"triggerTime\":\"2024-01-01T00:00:00Z\",\"triggerUuid\":\"m\"}}";
  cr_assert_eq(A->parse(&recs, cfg, moved, strlen(moved), FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  cr_assert(recs.items[0].ignore_reason && strstr(recs.items[0].ignore_reason, "move_pulse_into_group"));
  fastepost__records_free(&recs);
  A->config_free(cfg);
}

Test(monday_parse, dedup_key_is_the_trigger) {
  void *cfg = fixture_config();
  const char *a = "{\"event\":{\"type\":\"update_name\",\"boardId\":1771812698,\"pulseId\":5,\"value\":{\"name\":\"A\"},"
                  "\"triggerTime\":\"2024-01-01T00:00:00Z\",\"triggerUuid\":\"same\",\"isRetry\":false}}";
  const char *b = "{\"event\":{\"type\":\"update_name\",\"boardId\":1771812698,\"pulseId\":5,\"value\":{\"name\":\"A\"},"
                  "\"triggerTime\":\"2024-01-01T00:00:00Z\",\"triggerUuid\":\"same\",\"isRetry\":true}}";
  const char *c = "{\"event\":{\"type\":\"update_name\",\"boardId\":1771812698,\"pulseId\":5,\"value\":{\"name\":\"A\"},"
                  "\"triggerTime\":\"2024-01-01T00:00:00Z\",\"triggerUuid\":\"other\"}}";
  fastepost__records ra, rb, rc;
  cr_assert_eq(A->parse(&ra, cfg, a, strlen(a), FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  cr_assert_eq(A->parse(&rb, cfg, b, strlen(b), FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  cr_assert_eq(A->parse(&rc, cfg, c, strlen(c), FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  cr_assert_str_eq(ra.items[0].idempotency_key, rb.items[0].idempotency_key, "a retry is the same trigger");
  cr_assert_str_neq(ra.items[0].idempotency_key, rc.items[0].idempotency_key);
  fastepost__records_free(&ra);
  fastepost__records_free(&rb);
  fastepost__records_free(&rc);
  A->config_free(cfg);
}

Test(monday_parse, column_value_shapes) {
  void *cfg = NULL;
  cr_assert_eq(config_from(&cfg, "{\"require_jwt\": false, \"boards\": {\"1\": {\"company\": \"c\"}}}"),
               FASTEPOST_OK);
  struct {
    const char *value, *want; /* want NULL: left alone, with a warning */
  } cases[] = {
      {"{\"value\":\"Acme\"}", "Acme"},
      {"{\"text\":\"Acme long\"}", "Acme long"},
      {"{\"label\":{\"index\":1,\"text\":\"Partner\"}}", "Partner"},
      {"\"plain\"", "plain"},
      {"null", "<empty>"},
      {"{}", "<empty>"},
      {"{\"value\":\"\"}", "<empty>"},
      {"{\"value\":null}", "<empty>"},
      {"{\"ids\":[1,2]}", NULL},
      {"17", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char body[512];
    snprintf(body, sizeof body,
             "{\"event\":{\"type\":\"update_column_value\",\"boardId\":1,\"pulseId\":2,\"columnId\":\"c\","
             "\"value\":%s,\"changedAt\":1700000000.5,\"triggerUuid\":\"t%zu\"}}",
             cases[i].value, i);
    fastepost__records recs;
    cr_assert_eq(A->parse(&recs, cfg, body, strlen(body), FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
    const fastepost__sync_record *r = &recs.items[0];
    cr_assert_eq(r->failure, 0, "%s", r->failure_message);
    if (cases[i].want) {
      cr_assert_str_eq(prop(r, "company"), cases[i].want, "value %s", cases[i].value);
    } else {
      cr_assert_null(prop(r, "company"), "value %s", cases[i].value);
      cr_assert_eq(r->warnings.count, 1, "value %s", cases[i].value);
    }
    fastepost__records_free(&recs);
  }
  A->config_free(cfg);
}

/* ---- malformed bodies and events ----------------------------------------------------------------- */

Test(monday_parse, bodies_refused_as_a_whole) {
  void *cfg = fixture_config();
  struct {
    const char *body;
    int code;
  } cases[] = {
      {"", FASTEPOST_EPARSE},
      {"not json", FASTEPOST_EPARSE},
      {"{\"event\": {\"a\": \"\xc3\x28\"}}", FASTEPOST_EPARSE},
      {"[{\"event\": {}}]", FASTEPOST_EPARSE},
      {"{\"event\": 5}", FASTEPOST_EPARSE},
      {"{\"event\": null}", FASTEPOST_EPARSE},
      {"{\"events\": {}}", FASTEPOST_EPARSE},
      {"{\"challenge\": \"x\"}", FASTEPOST_EPARSE},
      {"{\"event\": {}} x", FASTEPOST_EPARSE},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fastepost__records recs = {(void *)1, 9};
    cr_assert_eq(A->parse(&recs, cfg, cases[i].body, strlen(cases[i].body), FASTEPOST__SYNC_SERVER_CLOCK),
                 cases[i].code, "body %zu: %s", i, fastepost_error_last()->message);
    cr_assert_eq(recs.count, 0);
    cr_assert_null(recs.items);
    assert_message("monday body");
  }
  /* deep nesting */
  char deep[400] = "{\"event\":";
  for (int i = 0; i < 40; i++)
    strcat(deep, "[");
  fastepost__records recs;
  cr_assert_eq(A->parse(&recs, cfg, deep, strlen(deep), FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_EPARSE);
  /* too big */
  size_t n = FASTEPOST__MONDAY_MAX_BODY + 1;
  char *big = malloc(n);
  memset(big, ' ', n);
  cr_assert_eq(A->parse(&recs, cfg, big, n, FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_ETOOBIG);
  free(big);
  A->config_free(cfg);
}

Test(monday_parse, unusable_events_become_failed_records) {
  void *cfg = fixture_config();
  struct {
    const char *event, *words;
  } cases[] = {
      {"{\"boardId\":1771812698,\"pulseId\":5,\"triggerTime\":\"2024-01-01T00:00:00Z\"}", "no type"},
      {"{\"type\":\"create_pulse\",\"pulseId\":5,\"triggerTime\":\"2024-01-01T00:00:00Z\"}", "no boardId"},
      {"{\"type\":\"create_pulse\",\"boardId\":-3,\"pulseId\":5,\"triggerTime\":\"2024-01-01T00:00:00Z\"}", "boardId"},
      {"{\"type\":\"create_pulse\",\"boardId\":1771812698,\"triggerTime\":\"2024-01-01T00:00:00Z\"}", "no item id"},
      {"{\"type\":\"create_pulse\",\"boardId\":1771812698,\"pulseId\":\"5x\",\"triggerTime\":\"2024-01-01T00:00:00Z\"}",
       "no item id"},
      {"{\"type\":\"create_pulse\",\"boardId\":1771812698,\"pulseId\":5}", "neither changedAt nor triggerTime"},
      {"{\"type\":\"create_pulse\",\"boardId\":1771812698,\"pulseId\":5,\"triggerTime\":\"yesterday\"}",
       "not an ISO 8601"},
      {"{\"type\":\"create_pulse\",\"boardId\":1771812698,\"pulseId\":5,\"triggerTime\":\"1970-01-01T00:00:01Z\"}",
       "triggerTime"},
      {"{\"type\":\"create_pulse\",\"boardId\":1771812698,\"pulseId\":5,\"triggerTime\":\"2999-01-01T00:00:00Z\"}",
       "triggerTime"},
      {"{\"type\":\"update_column_value\",\"boardId\":1771812698,\"pulseId\":5,\"columnId\":\"location\","
       "\"changedAt\":\"1633943701\"}",
       "changedAt must be"},
      {"{\"type\":\"update_column_value\",\"boardId\":1771812698,\"pulseId\":5,\"columnId\":\"location\","
       "\"changedAt\":1e300}",
       "changedAt must be"},
      {"{\"type\":\"update_column_value\",\"boardId\":1771812698,\"pulseId\":5,\"columnId\":\"location\","
       "\"changedAt\":-5}",
       "changedAt must be"},
      {"{\"type\":\"update_column_value\",\"boardId\":1771812698,\"pulseId\":5,\"changedAt\":1700000000}",
       "no columnId"},
      {"{\"type\":\"update_name\",\"boardId\":1771812698,\"pulseId\":5,\"changedAt\":1700000000}", "value.name"},
      {"{\"type\":\"create_pulse\",\"boardId\":1771812698,\"pulseId\":5,\"triggerTime\":\"2024-01-01T00:00:00Z\","
       "\"columnValues\":[]}",
       "columnValues"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char body[1024];
    snprintf(body, sizeof body, "{\"event\":%s}", cases[i].event);
    fastepost__records recs;
    cr_assert_eq(A->parse(&recs, cfg, body, strlen(body), FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK, "case %zu", i);
    const fastepost__sync_record *r = &recs.items[0];
    cr_assert_eq(r->failure, FASTEPOST_EINVALID, "case %zu: %s", i, cases[i].event);
    cr_assert(r->failure_message && strstr(r->failure_message, cases[i].words), "case %zu: '%s' lacks '%s'", i,
              r->failure_message, cases[i].words);
    cr_assert_not_null(r->event_type);
    cr_assert_not_null(r->payload);
    fastepost__records_free(&recs);
  }
  A->config_free(cfg);
}

Test(monday_parse, injected_clock_decides_the_time_range) {
  void *cfg = fixture_config();
  char *body = fixture("delete_pulse.json", NULL); /* 2025-02-05 */
  fastepost__records recs;
  /* seen from 2024, a 2025 event is more than a day ahead */
  cr_assert_eq(A->parse(&recs, cfg, body, strlen(body), 1704067200LL * 1000000), FASTEPOST_OK);
  cr_assert_eq(recs.items[0].failure, FASTEPOST_EINVALID);
  fastepost__records_free(&recs);
  cr_assert_eq(A->parse(&recs, cfg, body, strlen(body), 1738800000LL * 1000000), FASTEPOST_OK);
  cr_assert_eq(recs.items[0].failure, 0);
  fastepost__records_free(&recs);
  free(body);
  A->config_free(cfg);
}

/* ---- retry and replay ---------------------------------------------------------------------------- */

Test(monday_retry, reprocess_needs_the_board_mapping_for_columns) {
  void *cfg = fixture_config();
  fastepost__records recs;
  fastepost__sync_record *r = parse_fixture(&recs, cfg, "change_email.json");
  char *payload = fastepost__strdup(r->payload);
  char *key = fastepost__strdup(r->idempotency_key);
  fastepost__records_free(&recs);

  fastepost__sync_record rec;
  fastepost__sync_record_init(&rec, "monday");
  cr_assert_eq(A->reprocess(&rec, cfg, payload, "update_column_value", FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  assert_usable(&rec);
  cr_assert_str_eq(prop(&rec, "email"), "Info@Example.COM");
  cr_assert_str_eq(rec.idempotency_key, key, "the same key as the original delivery");
  fastepost__sync_record_clear(&rec);

  fastepost__sync_record_init(&rec, "monday");
  cr_assert_eq(A->reprocess(&rec, NULL, payload, "update_column_value", FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  cr_assert_eq(rec.failure, FASTEPOST_EINVALID);
  cr_assert(strstr(rec.failure_message, "column mapping"), "%s", rec.failure_message);
  fastepost__sync_record_clear(&rec);

  /* what needs no mapping works without configuration */
  char *del = fixture("delete_pulse.json", NULL);
  cr_assert_eq(A->replay(&recs, NULL, del, strlen(del), "", "", FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  cr_assert_eq(recs.items[0].failure, 0);
  cr_assert(recs.items[0].tombstone);
  fastepost__records_free(&recs);
  free(del);

  fastepost__sync_record_init(&rec, "monday");
  cr_assert_eq(A->reprocess(&rec, cfg, "not json", "create_pulse", FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  cr_assert_eq(rec.failure, FASTEPOST_EPARSE);
  cr_assert_str_eq(rec.event_type, "create_pulse");
  fastepost__sync_record_clear(&rec);
  free(payload);
  free(key);
  A->config_free(cfg);
}

Test(monday_retry, replay_applies_no_time_range) {
  void *cfg = fixture_config();
  const char *old = "{\"event\":{\"type\":\"update_name\",\"boardId\":1771812698,\"pulseId\":5,"
                    "\"value\":{\"name\":\"A\"},\"changedAt\":5}}";
  fastepost__records recs;
  cr_assert_eq(A->parse(&recs, cfg, old, strlen(old), FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  cr_assert_eq(recs.items[0].failure, FASTEPOST_EINVALID);
  fastepost__records_free(&recs);
  cr_assert_eq(A->replay(&recs, cfg, old, strlen(old), "", "", FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  cr_assert_eq(recs.items[0].failure, 0, "%s", recs.items[0].failure_message);
  cr_assert_str_eq(recs.items[0].version, "1970-01-01 00:00:05.000000");
  fastepost__records_free(&recs);
  A->config_free(cfg);
}
