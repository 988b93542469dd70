/* SPDX-License-Identifier: MIT */
/*
 * The Zoho CRM adapter through its table (no database): configuration, both verifications
 * (callback channel + token, workflow token in the body or the query string), the form decoder,
 * parsing of every sample in tests/fixtures/zoho/ into records, dedup and version keys,
 * timestamps with offsets, malformed bodies, retry (reprocess) and replay.
 *
 * The two dedup-key vectors were computed independently with Python's hashlib:
 *   h = lambda parts: sha256(b''.join(p.encode() + b'\0' for p in parts)).hexdigest()
 *   h(['zoho-callback-v1', '1000000068001', '1718115953625', 'Leads', '5725767000003000010',
 *      h(['5725767000003000010']), 'update'])
 *   h(['zoho-webhook-v1', 'Leads', '5725767000003000064', '2026-11-27 14:30:00.000000'])
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/zoho.h"
#include "internal.h"
#include "fixture.h"
#include "testdb.h"
#include "util/form.h"
#include "util/json.h"

#define A fastepost__zoho_adapter
#define CHANNEL_TOKEN "TOKEN_FOR_VERIFICATION_OF_1000000068001"
#define WF_TOKEN "zoho-test-workflow-token"
#define URI "https://app.example.com/api/v1/integrations/zoho"
/* 2026-12-01 00:00:00 UTC: after every fixture's time, within a day of none */
#define NOW_US (1796083200LL * 1000000)

/* ---- helpers ------------------------------------------------------------------------------- */

static void *config_of(const char *json, int want) {
  json_object *root = NULL;
  cr_assert_eq(fastepost__json_parse(&root, json, strlen(json), 0), FASTEPOST_OK, "%s", json);
  void *cfg = NULL;
  int rc = A.config_new(&cfg, root);
  cr_assert_eq(rc, want, "config %s: %s (%s)", json, fastepost_error_name(rc), fastepost_error_last()->message);
  cr_assert(want == FASTEPOST_OK ? cfg != NULL : cfg == NULL);
  json_object_put(root);
  return cfg;
}

static char *fixture(const char *name, size_t *len) { return fptest_fixture("zoho", name, len); }

/* The configuration of tests/fixtures/zoho/config.json (the shared fixture). */
static void *fixture_config(void) {
  char *text = fixture("config.json", NULL);
  json_object *root = NULL, *section = NULL;
  cr_assert_eq(fastepost__json_parse(&root, text, strlen(text), 0), FASTEPOST_OK);
  cr_assert(json_object_object_get_ex(root, "zoho", &section));
  void *cfg = NULL;
  cr_assert_eq(A.config_new(&cfg, section), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  json_object_put(root);
  free(text);
  return cfg;
}

static int verify_req(const void *cfg, const char *uri, const char *ct, const char *body, size_t len) {
  fastepost_webhook_request *req = fptest_webhook_request(uri, ct, body, len);
  int rc = A.verify(cfg, req);
  fastepost_webhook_request_free(req);
  return rc;
}

static int verify_str(const void *cfg, const char *uri, const char *body) {
  return verify_req(cfg, uri, NULL, body, strlen(body));
}

static void assert_message(const char *needle) {
  const char *m = fastepost_error_last()->message;
  cr_assert(strstr(m, needle), "message '%s' lacks '%s'", m, needle);
}

static void assert_no_secret(const char *secret) {
  const char *m = fastepost_error_last()->message;
  cr_assert(!strstr(m, secret), "message '%s' shows the secret", m);
}

static fastepost__records parse_ok(const char *body, size_t len) {
  fastepost__records r = {0};
  int rc = A.parse(&r, NULL, body, len, NOW_US);
  cr_assert_eq(rc, FASTEPOST_OK, "%s: %s", fastepost_error_name(rc), fastepost_error_last()->message);
  return r;
}

static fastepost__records parse_fixture(const char *name) {
  size_t len = 0;
  char *body = fixture(name, &len);
  fastepost__records r = parse_ok(body, len);
  free(body);
  return r;
}

static int parse_code(const char *body) {
  fastepost__records r = {0};
  int rc = A.parse(&r, NULL, body, strlen(body), NOW_US);
  cr_assert_eq(r.count, 0);
  cr_assert_null(r.items);
  return rc;
}

/* The delivered state of a property (its index in the record's prop_defs). */
static const fastepost__fact *prop(const fastepost__sync_record *rec, const char *name) {
  cr_assert_not_null(rec->prop_defs);
  for (size_t i = 0; i < rec->nprops; i++)
    if (strcmp(rec->prop_defs[i].name, name) == 0)
      return &rec->props[i];
  cr_assert_fail("no property %s", name);
  return NULL;
}

static void assert_prop(const fastepost__sync_record *rec, const char *name, const char *want) {
  const fastepost__fact *f = prop(rec, name);
  if (!want) {
    cr_assert_eq(f->state, FASTEPOST__FACT_ABSENT, "%s should be absent", name);
  } else if (!*want) {
    cr_assert_eq(f->state, FASTEPOST__FACT_EMPTY, "%s should be empty (state %d)", name, f->state);
  } else {
    cr_assert_eq(f->state, FASTEPOST__FACT_VALUE, "%s should be \"%s\" (state %d)", name, want, f->state);
    cr_assert_str_eq(f->value, want);
  }
}

static bool has_warning(const fastepost__sync_record *rec, const char *needle) {
  for (size_t i = 0; i < rec->warnings.count; i++)
    if (strstr(rec->warnings.items[i], needle))
      return true;
  return false;
}

/* A workflow JSON body with the given Modified_Time, parsed into one record. */
static fastepost__records workflow_at(const char *modified) {
  char body[512];
  snprintf(body, sizeof body,
           "{\"module\":\"Contacts\",\"id\":\"42\",\"Last_Name\":\"Rao\",\"Modified_Time\":\"%s\"}", modified);
  fastepost__records r = parse_ok(body, strlen(body));
  cr_assert_eq(r.count, 1);
  return r;
}

/* ---- configuration ------------------------------------------------------------------------- */

Test(zoho_config, fixture_and_shapes) {
  A.config_free(fixture_config());
  A.config_free(config_of("{\"channels\": [{\"channel_id\": 1000000068001, \"token\": \"t\"}]}", FASTEPOST_OK));
  A.config_free(config_of("{\"workflow_tokens\": [\"a\", \"b\"]}", FASTEPOST_OK));
  A.config_free(config_of("{}", FASTEPOST_OK)); /* configured with nothing: verify refuses (below) */
  A.config_free(NULL);
}

Test(zoho_config, wrong_keys_types_and_values_name_the_key_not_the_secret) {
  static const struct {
    const char *json, *needle;
  } bad[] = {
      {"[]", "zoho: not an object"},
      {"{\"channel\": []}", "zoho.channel: unknown key (expected channels or workflow_tokens)"},
      {"{\"channels\": {}}", "zoho.channels: not an array"},
      {"{\"channels\": []}", "zoho.channels: empty"},
      {"{\"channels\": [\"x\"]}", "zoho.channels[0]: not an object"},
      {"{\"channels\": [{\"channel_id\": \"1\"}]}", "zoho.channels[0].token: missing"},
      {"{\"channels\": [{\"token\": \"sekrit-value\"}]}", "zoho.channels[0].channel_id: missing"},
      {"{\"channels\": [{\"channel_id\": \"abc\", \"token\": \"sekrit-value\"}]}", "zoho.channels[0].channel_id"},
      {"{\"channels\": [{\"channel_id\": \"12345678901234567890\", \"token\": \"sekrit-value\"}]}",
       "zoho.channels[0].channel_id"},
      {"{\"channels\": [{\"channel_id\": -4, \"token\": \"sekrit-value\"}]}", "zoho.channels[0].channel_id"},
      {"{\"channels\": [{\"channel_id\": 1.5, \"token\": \"sekrit-value\"}]}", "zoho.channels[0].channel_id"},
      {"{\"channels\": [{\"channel_id\": \"1\", \"token\": 5}]}", "zoho.channels[0].token: not a string"},
      {"{\"channels\": [{\"channel_id\": \"1\", \"token\": \"\"}]}", "zoho.channels[0].token: empty"},
      {"{\"channels\": [{\"channel_id\": \"1\", \"token\": \"sekrit-value\", \"url\": \"x\"}]}",
       "zoho.channels[0].url: unknown key"},
      {"{\"channels\": [{\"channel_id\": \"1\", \"token\": "
       "\"sekrit-value-sekrit-value-sekrit-value-sekrit-value-\"}]}",
       "longer than the 50 characters"},
      {"{\"workflow_tokens\": \"sekrit-value\"}", "zoho.workflow_tokens: not an array"},
      {"{\"workflow_tokens\": []}", "zoho.workflow_tokens: empty"},
      {"{\"workflow_tokens\": [\"ok\", \"\"]}", "zoho.workflow_tokens[1]: empty"},
      {"{\"workflow_tokens\": [\"ok\", 7]}", "zoho.workflow_tokens[1]: not a string"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    config_of(bad[i].json, FASTEPOST_EINVALID);
    assert_message(bad[i].needle);
    assert_no_secret("sekrit-value");
  }
}

Test(zoho_config, nothing_configured_refuses_every_request) {
  void *cfg = config_of("{}", FASTEPOST_OK);
  size_t len = 0;
  char *cb = fixture("callback_insert.json", &len);
  cr_assert_eq(verify_req(cfg, URI, NULL, cb, len), FASTEPOST_ENOKEY);
  cr_assert_eq(verify_str(cfg, URI "?token=" WF_TOKEN, "{\"module\":\"Leads\"}"), FASTEPOST_ENOKEY);
  cr_assert_eq(verify_req(NULL, URI, NULL, cb, len), FASTEPOST_ENOKEY);
  free(cb);
  A.config_free(cfg);
}

/* ---- verification: callbacks --------------------------------------------------------------- */

Test(zoho_verify, callback_samples_verify_by_channel_and_token) {
  void *cfg = fixture_config();
  static const char *const names[] = {"callback_insert.json", "callback_update_affected.json",
                                      "callback_delete.json", "callback_batch.json"};
  for (size_t i = 0; i < 4; i++) {
    size_t len = 0;
    char *body = fixture(names[i], &len);
    cr_assert_eq(verify_req(cfg, URI, "application/json", body, len), FASTEPOST_OK, "%s: %s", names[i],
                 fastepost_error_last()->message);
    free(body);
  }
  /* channel_id as a JSON number (declared "long") is the same channel */
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\": 1000000068001, \"token\": \"" CHANNEL_TOKEN "\", \"ids\": []}"),
               FASTEPOST_OK);
  A.config_free(cfg);
}

Test(zoho_verify, callback_wrong_token_unknown_channel_no_token) {
  void *cfg = fixture_config();
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":\"1000000068001\",\"token\":\"TOKEN_FOR_VERIFICATION_OF_1000000068002\","
                                    "\"ids\":[\"1\"]}"),
               FASTEPOST_EAUTH);
  assert_message("wrong token for Zoho CRM channel 1000000068001");
  assert_no_secret("TOKEN_FOR");
  /* a prefix of the token, the token with a byte more, another case */
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":\"1000000068001\",\"token\":\"TOKEN_FOR\",\"ids\":[]}"),
               FASTEPOST_EAUTH);
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":\"1000000068001\",\"token\":\"" CHANNEL_TOKEN "x\",\"ids\":[]}"),
               FASTEPOST_EAUTH);
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":\"1000000068001\",\"token\":\"token_for_verification_of_"
                                    "1000000068001\",\"ids\":[]}"),
               FASTEPOST_EAUTH);
  /* a NUL inside cuts nothing short */
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":\"1000000068001\",\"token\":\"" CHANNEL_TOKEN "\\u0000x\","
                                    "\"ids\":[]}"),
               FASTEPOST_EAUTH);
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":\"1000000068001\\u0000x\",\"token\":\"" CHANNEL_TOKEN "\","
                                    "\"ids\":[]}"),
               FASTEPOST_EAUTH);
  /* the right token on another channel */
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":\"1000000068002\",\"token\":\"" CHANNEL_TOKEN "\",\"ids\":[]}"),
               FASTEPOST_EAUTH);
  assert_message("unknown Zoho CRM channel_id 1000000068002");
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":\"1000000068001\",\"ids\":[\"1\"]}"), FASTEPOST_EAUTH);
  assert_message("has no token");
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":\"1000000068001\",\"token\":5,\"ids\":[]}"), FASTEPOST_EAUTH);
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":\"1000000068001\",\"token\":\"\",\"ids\":[]}"), FASTEPOST_EAUTH);
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":null,\"token\":\"" CHANNEL_TOKEN "\",\"ids\":[]}"),
               FASTEPOST_EAUTH);
  /* ids without a channel is a callback too: no channel, refused */
  cr_assert_eq(verify_str(cfg, URI, "{\"token\":\"" CHANNEL_TOKEN "\",\"ids\":[\"1\"]}"), FASTEPOST_EAUTH);
  /* a callback carrying a workflow token (in its body or the URI) is still a callback */
  cr_assert_eq(verify_str(cfg, URI "?token=" WF_TOKEN, "{\"channel_id\":\"1000000068001\",\"token\":\"" WF_TOKEN "\","
                                                       "\"ids\":[]}"),
               FASTEPOST_EAUTH);
  A.config_free(cfg);
}

Test(zoho_verify, rotated_channel_tokens_and_only_workflow_configured) {
  void *cfg = config_of("{\"channels\": [{\"channel_id\": \"7\", \"token\": \"old-token\"},"
                        "{\"channel_id\": \"7\", \"token\": \"new-token\"}, {\"channel_id\": \"8\", \"token\": \"eight\"}]}",
                        FASTEPOST_OK);
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":\"7\",\"token\":\"old-token\",\"ids\":[]}"), FASTEPOST_OK);
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":\"7\",\"token\":\"new-token\",\"ids\":[]}"), FASTEPOST_OK);
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":\"7\",\"token\":\"eight\",\"ids\":[]}"), FASTEPOST_EAUTH);
  /* no workflow token configured: a workflow webhook is refused as unconfigured */
  cr_assert_eq(verify_str(cfg, URI, "{\"module\":\"Leads\",\"id\":\"1\",\"token\":\"old-token\"}"), FASTEPOST_ENOKEY);
  A.config_free(cfg);
  cfg = config_of("{\"workflow_tokens\": [\"w\"]}", FASTEPOST_OK);
  cr_assert_eq(verify_str(cfg, URI, "{\"channel_id\":\"7\",\"token\":\"w\",\"ids\":[]}"), FASTEPOST_ENOKEY);
  A.config_free(cfg);
}

/* ---- verification: workflow webhooks ------------------------------------------------------- */

Test(zoho_verify, workflow_token_in_body_or_query) {
  void *cfg = fixture_config();
  size_t len = 0;
  char *form = fixture("workflow_contact.form", &len);
  cr_assert_eq(verify_req(cfg, URI, "application/x-www-form-urlencoded", form, len), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(verify_req(cfg, URI, NULL, form, len), FASTEPOST_OK);
  /* the same token in the query string as well: both are checked, both right */
  cr_assert_eq(verify_req(cfg, URI "?token=" WF_TOKEN, NULL, form, len), FASTEPOST_OK);
  /* a right body token does not excuse a wrong query token, nor the other way round */
  cr_assert_eq(verify_req(cfg, URI "?token=wrong", NULL, form, len), FASTEPOST_EAUTH);
  assert_message("wrong Zoho CRM workflow token (in the body or the query string)");
  free(form);
  char *json = fixture("workflow_lead.json", &len);
  cr_assert_eq(verify_req(cfg, URI, "application/json; charset=utf-8", json, len), FASTEPOST_OK);
  free(json);
  const char *no_token = "{\"module\":\"Leads\",\"id\":\"1\"}";
  cr_assert_eq(verify_str(cfg, URI "?token=" WF_TOKEN, no_token), FASTEPOST_OK);
  cr_assert_eq(verify_str(cfg, URI "?a=1&token=" WF_TOKEN "&b=2#frag", no_token), FASTEPOST_OK);
  /* percent-encoded in the query is the same token */
  cr_assert_eq(verify_str(cfg, URI "?token=zoho%2Dtest%2Dworkflow%2Dtoken", no_token), FASTEPOST_OK);
  cr_assert_eq(verify_str(cfg, URI "?token=" WF_TOKEN "x", no_token), FASTEPOST_EAUTH);
  assert_message("(in the query string)");
  assert_no_secret(WF_TOKEN);
  cr_assert_eq(verify_str(cfg, URI, no_token), FASTEPOST_EAUTH);
  assert_message("presents no token");
  /* after the fragment is not the query */
  cr_assert_eq(verify_str(cfg, URI "#token=" WF_TOKEN, no_token), FASTEPOST_EAUTH);
  /* two tokens in the query: which one counts would be a guess */
  cr_assert_eq(verify_str(cfg, URI "?token=" WF_TOKEN "&token=" WF_TOKEN, no_token), FASTEPOST_EAUTH);
  /* a query string that cannot be decoded presents no token that could be checked */
  cr_assert_eq(verify_str(cfg, URI "?token=%zz", no_token), FASTEPOST_EAUTH);
  assert_message("cannot read the token from the query string");
  /* wrong in the body, right in the query */
  cr_assert_eq(verify_str(cfg, URI "?token=" WF_TOKEN, "{\"module\":\"Leads\",\"id\":\"1\",\"token\":\"nope\"}"),
               FASTEPOST_EAUTH);
  assert_message("(in the body or the query string)");
  cr_assert_eq(verify_str(cfg, URI, "{\"module\":\"Leads\",\"token\":\"nope\"}"), FASTEPOST_EAUTH);
  assert_message("(in the body)");
  cr_assert_eq(verify_str(cfg, URI, "{\"module\":\"Leads\",\"token\":[\"" WF_TOKEN "\"]}"), FASTEPOST_EAUTH);
  cr_assert_eq(verify_str(cfg, URI, "module=Leads&token="), FASTEPOST_EAUTH);
  cr_assert_eq(verify_str(cfg, URI, "{\"module\":\"Leads\",\"token\":\"" WF_TOKEN "\\u0000\"}"), FASTEPOST_EAUTH);
  cr_assert_eq(verify_str(cfg, URI, "module=Leads&token=" WF_TOKEN "%00"), FASTEPOST_EPARSE);
  /* the channel token is not a workflow token */
  cr_assert_eq(verify_str(cfg, URI, "module=Leads&token=" CHANNEL_TOKEN), FASTEPOST_EAUTH);
  A.config_free(cfg);
}

Test(zoho_verify, bodies_that_cannot_be_read_are_refused_before_any_token) {
  void *cfg = fixture_config();
  cr_assert_eq(verify_str(cfg, URI "?token=" WF_TOKEN, "{\"module\": "), FASTEPOST_EPARSE);
  cr_assert_eq(verify_str(cfg, URI "?token=" WF_TOKEN, "module=%G0&token=" WF_TOKEN), FASTEPOST_EPARSE);
  cr_assert_eq(verify_str(cfg, URI "?token=" WF_TOKEN, "[1]"), FASTEPOST_EPARSE);
  cr_assert_eq(verify_str(cfg, URI "?token=" WF_TOKEN, ""), FASTEPOST_EPARSE);
  /* the content type, when it names JSON or a form, must agree with the body */
  const char *form = "module=Leads&token=" WF_TOKEN;
  cr_assert_eq(verify_req(cfg, URI, "application/json", form, strlen(form)), FASTEPOST_EPARSE);
  assert_message("the Content-Type is application/json but the body is not JSON");
  const char *json = "{\"module\":\"Leads\",\"token\":\"" WF_TOKEN "\"}";
  cr_assert_eq(verify_req(cfg, URI, "Application/X-WWW-Form-Urlencoded", json, strlen(json)), FASTEPOST_EPARSE);
  cr_assert_eq(verify_req(cfg, URI, "text/plain", json, strlen(json)), FASTEPOST_OK);
  /* too big: refused before it is parsed */
  size_t big = FASTEPOST__ZOHO_MAX_BODY + 1;
  char *huge = malloc(big);
  memset(huge, 'a', big);
  cr_assert_eq(verify_req(cfg, URI "?token=" WF_TOKEN, NULL, huge, big), FASTEPOST_ETOOBIG);
  free(huge);
  cr_assert_eq(A.verify(cfg, NULL), FASTEPOST_EINVALID);
  A.config_free(cfg);
}

/* ---- the form decoder ---------------------------------------------------------------------- */

static json_object *form_ok(const char *s) {
  json_object *o = NULL;
  int rc = fastepost__form_to_json(&o, s, strlen(s));
  cr_assert_eq(rc, FASTEPOST_OK, "%s: %s", s, fastepost_error_last()->message);
  return o;
}

static const char *form_get(json_object *o, const char *key) {
  json_object *v = NULL;
  cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
  return json_object_get_string(v);
}

static void form_bad(const char *s, int want, const char *needle) {
  json_object *o = (json_object *)1;
  int rc = fastepost__form_to_json(&o, s, strlen(s));
  cr_assert_eq(rc, want, "%s: %s (%s)", s, fastepost_error_name(rc), fastepost_error_last()->message);
  cr_assert_null(o);
  assert_message(needle);
}

Test(zoho_form, decoding) {
  json_object *o = form_ok("a=x+y%20z&b=%2B1%2b2&c&d=&e=k=v&&f=%C3%BC&");
  cr_assert_str_eq(form_get(o, "a"), "x y z");
  cr_assert_str_eq(form_get(o, "b"), "+1+2");
  cr_assert_str_eq(form_get(o, "c"), "");
  cr_assert_str_eq(form_get(o, "d"), "");
  cr_assert_str_eq(form_get(o, "e"), "k=v");
  cr_assert_str_eq(form_get(o, "f"), "\xc3\xbc");
  cr_assert_eq(json_object_object_length(o), 6);
  json_object_put(o);
  o = form_ok("First%5FName=J%C3%BCrgen&%41=1");
  cr_assert_str_eq(form_get(o, "First_Name"), "J\xc3\xbcrgen");
  cr_assert_str_eq(form_get(o, "A"), "1");
  json_object_put(o);
  o = form_ok("");
  cr_assert_eq(json_object_object_length(o), 0);
  json_object_put(o);
}

Test(zoho_form, invalid_input_is_refused_with_its_offset) {
  form_bad("a=1&b=%", FASTEPOST_EPARSE, "invalid percent-escape in a form value at byte 6");
  form_bad("a=%4", FASTEPOST_EPARSE, "at byte 2");
  form_bad("a=%zz", FASTEPOST_EPARSE, "at byte 2");
  form_bad("a=%4g", FASTEPOST_EPARSE, "at byte 2");
  form_bad("%x=1", FASTEPOST_EPARSE, "invalid percent-escape in a form parameter name at byte 0");
  form_bad("a=%ff", FASTEPOST_EPARSE, "invalid UTF-8");
  form_bad("a=\xc3", FASTEPOST_EPARSE, "invalid UTF-8");
  form_bad("a=%C3%28", FASTEPOST_EPARSE, "invalid UTF-8");
  form_bad("a=x%00y", FASTEPOST_EPARSE, "a NUL byte");
  form_bad("=1", FASTEPOST_EPARSE, "without a name at byte 0");
  form_bad("a=1&=2", FASTEPOST_EPARSE, "without a name at byte 4");
  form_bad("a=1&a=2", FASTEPOST_EPARSE, "\"a\" is given twice");
  form_bad("token=1&token=2", FASTEPOST_EPARSE, "given twice");
  char name[FASTEPOST__FORM_MAX_NAME + 4];
  memset(name, 'n', FASTEPOST__FORM_MAX_NAME + 1);
  strcpy(name + FASTEPOST__FORM_MAX_NAME + 1, "=1");
  form_bad(name, FASTEPOST_ETOOBIG, "name of more than");
  name[FASTEPOST__FORM_MAX_NAME] = '=';
  json_object_put(form_ok(name)); /* exactly the limit */
  fastepost__buf b = FASTEPOST__BUF_INIT;
  for (int i = 0; i <= FASTEPOST__FORM_MAX_PAIRS; i++)
    fastepost__buf_printf(&b, "p%d=1&", i);
  form_bad(fastepost__buf_cstr(&b), FASTEPOST_ETOOBIG, "more than 1000 parameters");
  fastepost__buf_free(&b);
}

Test(zoho_form, query_string_of_a_uri) {
  const char *q;
  size_t n;
  cr_assert(fastepost__form_query("https://x/y?a=1&b=2#c?d", &q, &n));
  cr_assert_eq(n, 7);
  cr_assert_eq(strncmp(q, "a=1&b=2", n), 0);
  cr_assert(fastepost__form_query("/y?", &q, &n));
  cr_assert_eq(n, 0);
  cr_assert_not(fastepost__form_query("https://x/y", &q, &n));
  cr_assert_not(fastepost__form_query("https://x/y#frag?token=1", &q, &n));
  cr_assert_not(fastepost__form_query(NULL, &q, &n));
  cr_assert_eq(n, 0);
}

/* ---- callbacks ----------------------------------------------------------------------------- */

Test(zoho_parse, ids_only_insert_is_ignored_with_the_fetch_warning) {
  fastepost__records r = parse_fixture("callback_insert.json");
  cr_assert_eq(r.count, 1);
  const fastepost__sync_record *rec = &r.items[0];
  cr_assert_eq(rec->failure, 0, "%s", rec->failure_message);
  cr_assert_str_eq(rec->source, "zoho");
  cr_assert_str_eq(rec->event_type, "Leads.insert");
  cr_assert_str_eq(rec->external_id, "Leads:5725767000003000064");
  cr_assert_str_eq(rec->crm_id, "Leads:5725767000003000064");
  cr_assert_str_eq(rec->version, "2024-06-11 14:45:26.473000");
  cr_assert_not_null(rec->ignore_reason);
  cr_assert(strstr(rec->ignore_reason, "ids only"), "%s", rec->ignore_reason);
  cr_assert(has_warning(rec, "Leads:5725767000003000064 must be fetched from Zoho CRM (GET /crm/v7/Leads/"
                             "5725767000003000064)"));
  cr_assert_eq(strlen(rec->idempotency_key), 64);
  /* the payload keeps what identifies the event, never the token or query_params */
  cr_assert_not_null(strstr(rec->payload, "\"channel_id\":\"1000000068001\""), "%s", rec->payload);
  cr_assert_not_null(strstr(rec->payload, "\"record_id\":\"5725767000003000064\""));
  cr_assert_null(strstr(rec->payload, "TOKEN"));
  cr_assert_null(strstr(rec->payload, "query_params"));
  fastepost__records_free(&r);
}

Test(zoho_parse, update_with_affected_values) {
  fastepost__records r = parse_fixture("callback_update_affected.json");
  cr_assert_eq(r.count, 1);
  const fastepost__sync_record *rec = &r.items[0];
  cr_assert_eq(rec->failure, 0, "%s", rec->failure_message);
  cr_assert_null(rec->ignore_reason, "%s", rec->ignore_reason);
  cr_assert_str_eq(rec->event_type, "Leads.update");
  cr_assert_str_eq(rec->model, "Leads");
  cr_assert(rec->owns_customer);
  cr_assert_not(rec->tombstone);
  cr_assert_eq(rec->facts.active, -1);
  cr_assert_str_eq(rec->version, "2024-06-11 14:25:53.625000");
  assert_prop(rec, "Mobile", "123456789");
  assert_prop(rec, "Phone", NULL);
  assert_prop(rec, "First_Name", NULL);
  assert_prop(rec, "Full_Name", NULL);
  cr_assert_null(rec->note_body);
  cr_assert_str_eq(rec->idempotency_key, "9f7583e9394e830423bc015223085d9782cf6c887feb8b251ae5f2de80747065");
  cr_assert_null(strstr(rec->payload, "TOKEN"));
  fastepost__records_free(&r);
}

Test(zoho_parse, delete_is_a_tombstone) {
  fastepost__records r = parse_fixture("callback_delete.json");
  cr_assert_eq(r.count, 1);
  const fastepost__sync_record *rec = &r.items[0];
  cr_assert_eq(rec->failure, 0);
  cr_assert_null(rec->ignore_reason);
  cr_assert_str_eq(rec->event_type, "Contacts.delete");
  cr_assert_str_eq(rec->crm_id, "Contacts:5725767000003000101");
  cr_assert(rec->tombstone);
  cr_assert_eq(rec->facts.active, 0);
  cr_assert_str_eq(rec->version, "2024-06-11 15:00:00.000000");
  fastepost__records_free(&r);
}

Test(zoho_parse, a_batch_of_ids_one_record_each) {
  fastepost__records r = parse_fixture("callback_batch.json");
  cr_assert_eq(r.count, 4);
  const fastepost__sync_record *a = &r.items[0], *b = &r.items[1], *bad = &r.items[2], *c = &r.items[3];
  cr_assert_eq(a->failure, 0);
  assert_prop(a, "First_Name", "Asha");
  assert_prop(a, "Last_Name", "Rao");
  assert_prop(a, "Full_Name", ""); /* the name is First + Last now */
  assert_prop(a, "Email", "asha.rao@example.in");
  assert_prop(a, "Mobile", NULL);
  cr_assert_null(a->ignore_reason);
  cr_assert_eq(b->failure, 0);
  assert_prop(b, "Mobile", "+91 98450 00002");
  assert_prop(b, "Account_Name", "Zylker"); /* the lookup's name */
  assert_prop(b, "First_Name", NULL);
  cr_assert_null(b->ignore_reason);
  /* an id that is no id: that record fails, the others stand */
  cr_assert_eq(bad->failure, FASTEPOST_EINVALID);
  cr_assert(strstr(bad->failure_message, "\"not-an-id\" is not a record id"), "%s", bad->failure_message);
  cr_assert_str_eq(bad->event_type, "Contacts.update");
  cr_assert_not_null(bad->payload);
  /* keyed all the same, so that a redelivery fails on the same event row */
  cr_assert_eq(strlen(bad->idempotency_key), 64);
  /* changed, but nothing synced */
  cr_assert_eq(c->failure, 0);
  cr_assert(strstr(c->ignore_reason, "the notification carries none of the synced fields of Contacts:5725767000003000103"));
  /* one event, one version; a key per record */
  cr_assert_str_eq(a->version, b->version);
  cr_assert_str_neq(a->idempotency_key, b->idempotency_key);
  cr_assert_str_neq(a->idempotency_key, c->idempotency_key);
  /* each payload holds its own values only, and never the secret-looking query_params */
  cr_assert_not_null(strstr(a->payload, "Asha"));
  cr_assert_null(strstr(a->payload, "Zylker"));
  cr_assert_not_null(strstr(b->payload, "Zylker"));
  cr_assert_null(strstr(b->payload, "not-a-real-secret"));
  cr_assert_not_null(strstr(b->payload, "\"ids_count\":4"));
  fastepost__records_free(&r);
}

Test(zoho_parse, dedup_key_covers_channel_time_module_ids_and_operation) {
#define DEDUP_FMT                                                                                  \
  "{\"channel_id\":\"%s\",\"server_time\":%s,\"module\":\"%s\",\"operation\":\"%s\",\"ids\":[%s],"      \
  "\"token\":\"%s\"}"
  char body[512];
  char keys[8][65];
  const char *variants[8][6] = {
      {"1", "1718115953625", "Leads", "delete", "\"10\"", "t"},
      {"1", "1718115953625", "Leads", "delete", "\"10\"", "other-token"}, /* not the token */
      {"2", "1718115953625", "Leads", "delete", "\"10\"", "t"},
      {"1", "1718115953626", "Leads", "delete", "\"10\"", "t"},
      {"1", "1718115953625", "Contacts", "delete", "\"10\"", "t"},
      {"1", "1718115953625", "Leads", "update", "\"10\"", "t"},
      {"1", "1718115953625", "Leads", "delete", "\"10\",\"11\"", "t"}, /* id 10 in another list */
      {"1", "\"1718115953625\"", "Leads", "delete", "10", "t"},          /* the same as numbers */
  };
  for (int i = 0; i < 8; i++) {
    snprintf(body, sizeof body, DEDUP_FMT, variants[i][0], variants[i][1], variants[i][2], variants[i][3], variants[i][4],
             variants[i][5]);
    fastepost__records r = parse_ok(body, strlen(body));
    cr_assert_geq(r.count, 1);
    cr_assert_eq(r.items[0].failure, 0, "%s: %s", body, r.items[0].failure_message);
    snprintf(keys[i], sizeof keys[i], "%s", r.items[0].idempotency_key);
    fastepost__records_free(&r);
  }
  cr_assert_str_eq(keys[0], keys[1]);
  cr_assert_str_eq(keys[0], keys[7]);
  for (int i = 2; i < 7; i++)
    cr_assert_str_neq(keys[0], keys[i], "variant %d", i);
}

Test(zoho_parse, other_modules_and_operations_are_ignored) {
  fastepost__records r = parse_ok("{\"channel_id\":\"1\",\"server_time\":1718115953625,\"module\":\"Deals\","
                                  "\"operation\":\"update\",\"ids\":[\"5\",\"6\"]}",
                                  strlen("{\"channel_id\":\"1\",\"server_time\":1718115953625,\"module\":\"Deals\","
                                         "\"operation\":\"update\",\"ids\":[\"5\",\"6\"]}"));
  cr_assert_eq(r.count, 2);
  cr_assert(strstr(r.items[1].ignore_reason, "Deals notifications are not synced"));
  cr_assert_str_eq(r.items[1].external_id, "Deals:6");
  fastepost__records_free(&r);
  const char *b = "{\"channel_id\":\"1\",\"server_time\":1718115953625,\"module\":\"Leads\",\"operation\":\"merge\","
                  "\"ids\":[\"5\"]}";
  r = parse_ok(b, strlen(b));
  cr_assert(strstr(r.items[0].ignore_reason, "operation merge is not synced"));
  fastepost__records_free(&r);
}

Test(zoho_parse, callback_envelopes_that_cannot_be_used) {
  cr_assert_eq(parse_code("{\"channel_id\":\"1\",\"server_time\":1,\"module\":\"Leads\",\"operation\":\"update\"}"),
               FASTEPOST_EINVALID);
  assert_message("ids must be a non-empty array");
  cr_assert_eq(parse_code("{\"channel_id\":\"1\",\"module\":\"Leads\",\"operation\":\"update\",\"ids\":[]}"),
               FASTEPOST_EINVALID);
  cr_assert_eq(parse_code("{\"channel_id\":\"1\",\"module\":\"Leads\",\"operation\":\"update\",\"ids\":\"5\"}"),
               FASTEPOST_EINVALID);
  cr_assert_eq(parse_code("{\"channel_id\":\"1\",\"operation\":\"update\",\"ids\":[\"5\"]}"), FASTEPOST_EINVALID);
  assert_message("module must be an API name (up to 64 letters, digits or _), not missing");
  cr_assert_eq(parse_code("{\"channel_id\":\"1\",\"module\":7,\"operation\":\"update\",\"ids\":[\"5\"]}"),
               FASTEPOST_EINVALID);
  assert_message("module must be an API name (up to 64 letters, digits or _), not int");
  cr_assert_eq(parse_code("{\"channel_id\":\"1\",\"module\":\"Le ads\",\"operation\":\"update\",\"ids\":[\"5\"]}"),
               FASTEPOST_EINVALID);
  cr_assert_eq(parse_code("{\"channel_id\":\"1\",\"module\":\"Leads\",\"operation\":\"\u00fcpdate\",\"ids\":[\"5\"]}"),
               FASTEPOST_EINVALID);
  cr_assert_eq(parse_code("{\"channel_id\":\"1\",\"module\":\"Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
                          "\"operation\":\"update\",\"ids\":[\"5\"]}"),
               FASTEPOST_EINVALID);
  cr_assert_eq(parse_code("{\"channel_id\":\"1\",\"module\":\"Leads\",\"ids\":[\"5\"]}"), FASTEPOST_EINVALID);
  cr_assert_eq(parse_code("{\"channel_id\":\"x\",\"module\":\"Leads\",\"operation\":\"update\",\"ids\":[\"5\"]}"),
               FASTEPOST_EINVALID);
  cr_assert_eq(parse_code("{\"channel_id\":\"1\",\"module\":\"Leads\",\"operation\":\"update\",\"ids\":[\"5\"],"
                          "\"affected_values\":{}}"),
               FASTEPOST_EINVALID);
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&b, "{\"channel_id\":\"1\",\"module\":\"Leads\",\"operation\":\"update\",\"ids\":[");
  for (int i = 0; i <= FASTEPOST__ZOHO_MAX_IDS; i++)
    fastepost__buf_printf(&b, "%s\"%d\"", i ? "," : "", i + 1);
  fastepost__buf_puts(&b, "]}");
  cr_assert_eq(parse_code(fastepost__buf_cstr(&b)), FASTEPOST_ETOOBIG);
  fastepost__buf_free(&b);
}

Test(zoho_parse, callback_times_and_values_that_cannot_be_used_fail_their_records) {
  static const char *const times[] = {"null", "\"soon\"", "-5", "1.5e12", "9223372036854775807",
                                      "946684799999" /* 1999 */, "4102444800000" /* 2100 */,
                                      "9223372036854775" /* beyond 9999 in microseconds */};
  for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
    char body[256];
    snprintf(body, sizeof body, "{\"channel_id\":\"1\",\"server_time\":%s,\"module\":\"Leads\",\"operation\":"
                                "\"delete\",\"ids\":[\"5\",\"6\"]}", times[i]);
    fastepost__records r = parse_ok(body, strlen(body));
    cr_assert_eq(r.count, 2);
    for (size_t k = 0; k < 2; k++) {
      cr_assert_eq(r.items[k].failure, FASTEPOST_EINVALID, "server_time %s", times[i]);
      cr_assert(strstr(r.items[k].failure_message, "server_time"), "%s", r.items[k].failure_message);
      cr_assert_null(r.items[k].version);
    }
    fastepost__records_free(&r);
  }
  /* a value of a type that is no text is left alone, with a warning; null empties */
  const char *b = "{\"channel_id\":\"1\",\"server_time\":1718115953625,\"module\":\"Contacts\",\"operation\":\"update\","
                  "\"ids\":[\"5\"],\"affected_values\":[{\"record_id\":5,\"values\":{\"Email\":[\"a@b\"],"
                  "\"Phone\":null,\"Mobile\":4915112345,\"Description\":\"  Call back.  \"}}]}";
  fastepost__records r = parse_ok(b, strlen(b));
  const fastepost__sync_record *rec = &r.items[0];
  cr_assert_eq(rec->failure, 0);
  assert_prop(rec, "Email", NULL);
  cr_assert(has_warning(rec, "Email: a JSON array is not a text value"));
  assert_prop(rec, "Phone", "");
  assert_prop(rec, "Mobile", "4915112345");
  cr_assert_str_eq(rec->note_body, "Call back.");
  cr_assert_str_eq(rec->note_key, "Contacts:5");
  fastepost__records_free(&r);
  b = "{\"channel_id\":\"1\",\"server_time\":1718115953625,\"module\":\"Contacts\",\"operation\":\"update\","
      "\"ids\":[\"5\"],\"affected_values\":[{\"record_id\":\"5\",\"values\":[1]}]}";
  r = parse_ok(b, strlen(b));
  cr_assert_eq(r.items[0].failure, FASTEPOST_EINVALID);
  cr_assert(strstr(r.items[0].failure_message, "values must be an object"));
  fastepost__records_free(&r);
}

/* ---- workflow webhooks --------------------------------------------------------------------- */

Test(zoho_parse, workflow_form_contact) {
  fastepost__records r = parse_fixture("workflow_contact.form");
  cr_assert_eq(r.count, 1);
  const fastepost__sync_record *rec = &r.items[0];
  cr_assert_eq(rec->failure, 0, "%s", rec->failure_message);
  cr_assert_null(rec->ignore_reason);
  cr_assert_str_eq(rec->event_type, "Contacts.webhook");
  cr_assert_str_eq(rec->crm_id, "Contacts:5725767000003000101");
  cr_assert_str_eq(rec->version, "2026-11-27 14:38:56.000000");
  assert_prop(rec, "First_Name", "Asha");
  assert_prop(rec, "Last_Name", "Rao");
  assert_prop(rec, "Full_Name", ""); /* First + Last win over Full_Name */
  assert_prop(rec, "Email", "asha.rao@example.in");
  assert_prop(rec, "Phone", "");
  assert_prop(rec, "Mobile", "+91 98450 00001");
  assert_prop(rec, "Company", NULL);
  assert_prop(rec, "Account_Name", "Zylker Corp");
  assert_prop(rec, "Street", "12 MG Road");
  assert_prop(rec, "City", "Bengaluru");
  assert_prop(rec, "State", "Karnataka");
  assert_prop(rec, "Zip_Code", "560001");
  assert_prop(rec, "Country", "India");
  cr_assert_str_eq(rec->note_body, "Prefers e-mail.\nAsked for a callback.");
  cr_assert_null(strstr(rec->payload, "token"), "%s", rec->payload);
  cr_assert_not_null(strstr(rec->payload, "\"Mailing_City\":\"Bengaluru\""));
  fastepost__records_free(&r);
}

Test(zoho_parse, workflow_json_lead_with_full_name_and_negative_offset) {
  fastepost__records r = parse_fixture("workflow_lead.json");
  const fastepost__sync_record *rec = &r.items[0];
  cr_assert_eq(rec->failure, 0, "%s", rec->failure_message);
  cr_assert_str_eq(rec->event_type, "Leads.webhook");
  cr_assert_str_eq(rec->version, "2026-11-27 14:30:00.000000");
  cr_assert_str_eq(rec->idempotency_key, "fdfe65775d8a7468b7be65eb9194e84c76c40cc27425754bd7af29571a182971");
  assert_prop(rec, "Full_Name", "Dana Whitfield");
  assert_prop(rec, "First_Name", ""); /* Full_Name alone is the name now */
  assert_prop(rec, "Last_Name", "");
  assert_prop(rec, "Phone", "+1 415 555 0134");
  assert_prop(rec, "Mobile", "+1 415 555 0199");
  assert_prop(rec, "Company", "Whitfield Tooling");
  assert_prop(rec, "Street", "500 Howard St");
  assert_prop(rec, "Zip_Code", "94105");
  cr_assert_str_eq(rec->note_body, "Met at the trade fair.");
  fastepost__records_free(&r);
}

Test(zoho_parse, the_shared_ok_fixture_creates_its_expected_customer) {
  size_t len = 0;
  char *body = fixture("ok.json", &len), *expect = fixture("ok.expect", NULL);
  expect[strcspn(expect, "\r\n")] = '\0';
  void *cfg = fixture_config();
  cr_assert_eq(verify_req(cfg, URI "?rule=contact_sync", "application/json", body, len), FASTEPOST_OK);
  fastepost__records r = {0};
  /* without an injected clock: the system clock */
  cr_assert_eq(A.parse(&r, cfg, body, len, FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  cr_assert_eq(r.count, 1);
  cr_assert_eq(r.items[0].failure, 0, "%s", r.items[0].failure_message);
  cr_assert_null(r.items[0].ignore_reason);
  cr_assert_str_eq(r.items[0].crm_id, expect);
  fastepost__records_free(&r);
  A.config_free(cfg);
  free(body);
  free(expect);
}

Test(zoho_parse, modified_time_offsets) {
  static const struct {
    const char *in, *want;
  } ok[] = {
      {"2026-11-27T20:08:56+05:30", "2026-11-27 14:38:56.000000"},
      {"2026-11-27T20:08:56+0530", "2026-11-27 14:38:56.000000"},
      {"2026-11-27T20:08:56 05:30", "2026-11-27 14:38:56.000000"}, /* `+` decoded to a space */
      {"2026-11-27T01:08:56+05:30", "2026-11-26 19:38:56.000000"}, /* the day before in UTC */
      {"2026-11-27T20:08:56-03:00", "2026-11-27 23:08:56.000000"},
      {"2026-11-27T22:08:56-03:00", "2026-11-28 01:08:56.000000"}, /* the day after */
      {"2026-11-27T20:08:56Z", "2026-11-27 20:08:56.000000"},
      {"2026-11-27T20:08:56.250+01:00", "2026-11-27 19:08:56.250000"},
      {"2026-11-27 20:08:56+00:00", "2026-11-27 20:08:56.000000"},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    fastepost__records r = workflow_at(ok[i].in);
    cr_assert_eq(r.items[0].failure, 0, "%s: %s", ok[i].in, r.items[0].failure_message);
    cr_assert_str_eq(r.items[0].version, ok[i].want, "%s", ok[i].in);
    fastepost__records_free(&r);
  }
  /* one instant written with two offsets is one change: the same key */
  fastepost__records x = workflow_at("2026-11-27T20:08:56+05:30"), y = workflow_at("2026-11-27T14:38:56Z");
  cr_assert_str_eq(x.items[0].idempotency_key, y.items[0].idempotency_key);
  fastepost__records_free(&x);
  fastepost__records_free(&y);
  static const char *const bad[] = {"2026-11-27T20:08:56", "2026-11-27", "27/11/2026 08:08 PM",
                                    "2026-13-27T20:08:56+05:30", "2026-11-27T25:08:56+05:30",
                                    "2026-11-27T20:08:56+5:30", "2026-11-27T20:08:56+05:30x", "",
                                    "1999-12-31T23:59:59Z" /* before 2000 */,
                                    "2026-12-02T01:00:00Z" /* over a day ahead of the clock */,
                                    "9999-12-31T23:59:59Z"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fastepost__records r = workflow_at(bad[i]);
    cr_assert_eq(r.items[0].failure, FASTEPOST_EINVALID, "%s", bad[i]);
    cr_assert(strstr(r.items[0].failure_message, "Modified_Time"), "%s", r.items[0].failure_message);
    cr_assert_null(r.items[0].version);
    fastepost__records_free(&r);
  }
  /* not a string at all */
  const char *b = "{\"module\":\"Contacts\",\"id\":\"42\",\"Modified_Time\":1764270000}";
  fastepost__records r = parse_ok(b, strlen(b));
  cr_assert_eq(r.items[0].failure, FASTEPOST_EINVALID);
  fastepost__records_free(&r);
}

Test(zoho_parse, workflow_parameters_that_cannot_be_used) {
  static const struct {
    const char *body;
    int failure;
    const char *needle;
  } cases[] = {
      {"id=1&Modified_Time=2026-11-27T20%3A08%3A56Z&Email=a%40b.c", FASTEPOST_EINVALID, "module parameter is missing"},
      {"module=Le%C3%BCads&id=1&Modified_Time=2026-11-27T20%3A08%3A56Z", FASTEPOST_EINVALID, "no module name"},
      {"module=Leads&Modified_Time=2026-11-27T20%3A08%3A56Z", FASTEPOST_EINVALID, "id parameter must be a record id"},
      {"module=Leads&id=12a&Modified_Time=2026-11-27T20%3A08%3A56Z", FASTEPOST_EINVALID, "not \"12a\""},
      {"module=Leads&id=1&Email=a%40b.c", FASTEPOST_EINVALID, "Modified_Time must be an ISO 8601 time"},
      {"module=Deals&id=1&Modified_Time=2026-11-27T20%3A08%3A56Z", 0, "Deals records are not synced"},
      {"module=Leads&id=1&Modified_Time=2026-11-27T20%3A08%3A56Z&Lead_Status=Hot", 0, "the webhook carries none of the synced fields"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fastepost__records r = parse_ok(cases[i].body, strlen(cases[i].body));
    cr_assert_eq(r.count, 1);
    const fastepost__sync_record *rec = &r.items[0];
    cr_assert_eq(rec->failure, cases[i].failure, "%s: %s", cases[i].body, rec->failure_message);
    const char *text = cases[i].failure ? rec->failure_message : rec->ignore_reason;
    cr_assert_not_null(text, "%s", cases[i].body);
    cr_assert(strstr(text, cases[i].needle), "%s: %s", cases[i].body, text);
    cr_assert_not_null(rec->event_type);
    cr_assert_not_null(rec->idempotency_key, "%s", cases[i].body);
    fastepost__records_free(&r);
  }
  /* the module is matched without regard to case, and stored as Zoho spells it */
  const char *b = "module=contacts&id=9&Modified_Time=2026-11-27T20%3A08%3A56Z&Email=a%40b.c";
  fastepost__records r = parse_ok(b, strlen(b));
  cr_assert_str_eq(r.items[0].crm_id, "Contacts:9");
  cr_assert_str_eq(r.items[0].event_type, "Contacts.webhook");
  fastepost__records_free(&r);
}

Test(zoho_parse, malformed_bodies_are_refused_as_a_whole) {
  cr_assert_eq(parse_code(""), FASTEPOST_EPARSE);
  cr_assert_eq(parse_code("   "), FASTEPOST_EPARSE);
  cr_assert_eq(parse_code("{\"module\":"), FASTEPOST_EPARSE);
  cr_assert_eq(parse_code("{'module':'Leads'}"), FASTEPOST_EPARSE);
  cr_assert_eq(parse_code("[{\"module\":\"Leads\"}]"), FASTEPOST_EPARSE);
  assert_message("expected a JSON object, got array");
  cr_assert_eq(parse_code("{\"module\":\"Le\xff\"}"), FASTEPOST_EPARSE);
  assert_message("invalid UTF-8");
  cr_assert_eq(parse_code("module=Le%ffads"), FASTEPOST_EPARSE);
  assert_message("Zoho CRM form body");
  cr_assert_eq(parse_code("module=Leads&id=1&id=2"), FASTEPOST_EPARSE);
  /* nesting beyond the limit */
  char deep[64] = "{\"a\":";
  for (int i = 0; i < 20; i++)
    strcat(deep, "[");
  cr_assert_eq(parse_code(deep), FASTEPOST_EPARSE);
  size_t big = FASTEPOST__ZOHO_MAX_BODY + 1;
  char *huge = malloc(big + 1);
  memset(huge, ' ', big);
  huge[0] = '{';
  huge[big] = '\0';
  cr_assert_eq(parse_code(huge), FASTEPOST_ETOOBIG);
  free(huge);
  fastepost__records r = {0};
  cr_assert_eq(A.parse(&r, NULL, NULL, 3, NOW_US), FASTEPOST_EINVALID);
}

/* ---- retry and replay ---------------------------------------------------------------------- */

/* Each record of a body, reprocessed from its stored payload, is the same record. */
static void assert_reprocess_same(const char *fixture_name) {
  fastepost__records r = parse_fixture(fixture_name);
  for (size_t i = 0; i < r.count; i++) {
    const fastepost__sync_record *a = &r.items[i];
    fastepost__sync_record b;
    fastepost__sync_record_init(&b, "zoho");
    cr_assert_eq(A.reprocess(&b, NULL, a->payload, a->event_type, NOW_US), FASTEPOST_OK);
    cr_assert_eq(b.failure, a->failure, "%s #%zu: %s", fixture_name, i, b.failure_message);
    cr_assert_str_eq(b.event_type, a->event_type);
    cr_assert_str_eq(b.payload, a->payload);
    if (a->failure) {
      fastepost__sync_record_clear(&b);
      continue;
    }
    cr_assert_str_eq(b.idempotency_key, a->idempotency_key, "%s #%zu", fixture_name, i);
    cr_assert_str_eq(b.version, a->version);
    cr_assert_str_eq(b.crm_id, a->crm_id);
    cr_assert_eq(b.tombstone, a->tombstone);
    cr_assert_eq(!a->ignore_reason, !b.ignore_reason);
    cr_assert_eq(b.warnings.count, a->warnings.count);
    for (size_t k = 0; k < a->nprops; k++) {
      cr_assert_eq(b.props[k].state, a->props[k].state, "%s #%zu prop %zu", fixture_name, i, k);
      if (a->props[k].state == FASTEPOST__FACT_VALUE)
        cr_assert_str_eq(b.props[k].value, a->props[k].value);
    }
    cr_assert_eq(!a->note_body, !b.note_body);
    fastepost__sync_record_clear(&b);
  }
  fastepost__records_free(&r);
}

Test(zoho_retry, reprocess_gives_the_same_records) {
  assert_reprocess_same("callback_insert.json");
  assert_reprocess_same("callback_update_affected.json");
  assert_reprocess_same("callback_delete.json");
  assert_reprocess_same("callback_batch.json");
  assert_reprocess_same("workflow_contact.form");
  assert_reprocess_same("workflow_lead.json");
}

Test(zoho_retry, reprocess_of_a_payload_that_cannot_be_used) {
  static const char *const bad[] = {NULL, "", "not json", "[1]",
                                    "{\"channel_id\":\"1\",\"module\":\"Leads\",\"operation\":\"delete\","
                                    "\"record_id\":\"5\",\"ids_sha256\":\"short\"}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fastepost__sync_record rec;
    fastepost__sync_record_init(&rec, "zoho");
    cr_assert_eq(A.reprocess(&rec, NULL, bad[i], "Leads.delete", NOW_US), FASTEPOST_OK);
    cr_assert_neq(rec.failure, 0, "%s", bad[i] ? bad[i] : "NULL");
    cr_assert_not_null(rec.failure_message);
    cr_assert_not_null(rec.event_type);
    fastepost__sync_record_clear(&rec);
  }
}

Test(zoho_retry, replay_of_a_spooled_form_and_an_old_time) {
  size_t len = 0;
  char *form = fixture("workflow_contact.form", &len);
  fastepost__records r = {0};
  cr_assert_eq(A.replay(&r, NULL, form, len, "", "application/x-www-form-urlencoded", NOW_US), FASTEPOST_OK);
  cr_assert_eq(r.count, 1);
  cr_assert_eq(r.items[0].failure, 0);
  assert_prop(&r.items[0], "Mobile", "+91 98450 00001");
  fastepost__records_free(&r);
  /* a spool that did not keep the content type: the body still tells */
  cr_assert_eq(A.replay(&r, NULL, form, len, "", "application/json", NOW_US), FASTEPOST_OK);
  cr_assert_eq(r.count, 1);
  cr_assert_eq(r.items[0].failure, 0);
  fastepost__records_free(&r);
  free(form);
  /* accepted once, replayed long after: no time range refuses it now */
  const char *old = "module=Leads&id=3&Last_Name=Old&Modified_Time=1999-01-01T00%3A00%3A00Z";
  cr_assert_eq(A.replay(&r, NULL, old, strlen(old), "", "", NOW_US), FASTEPOST_OK);
  cr_assert_eq(r.items[0].failure, 0, "%s", r.items[0].failure_message);
  cr_assert_str_eq(r.items[0].version, "1999-01-01 00:00:00.000000");
  fastepost__records_free(&r);
  cr_assert_eq(A.replay(&r, NULL, "{", 1, "", "", NOW_US), FASTEPOST_EPARSE);
}

Test(zoho_table, names_and_hooks) {
  cr_assert_str_eq(A.source, "zoho");
  cr_assert_not_null(A.dedup_key);
  cr_assert_not_null(A.version_key);
  cr_assert_null(A.handshake);
  cr_assert_null(A.respond);
  cr_assert_eq(fastepost__adapter_find("zoho"), &A);
}
