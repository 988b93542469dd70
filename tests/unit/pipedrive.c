/* SPDX-License-Identifier: MIT */
/*
 * The Pipedrive adapter without a database, through its adapter table: configuration, HTTP
 * Basic verification (RFC 7617's examples, rotation, case, colons, garbage), parsing of every
 * sample of the reference (tests/fixtures/pipedrive/README.md) in v1 and v2, dedup keys across
 * redeliveries, HTML notes, merges and malformed bodies.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "pipedrive_request.h"

TestSuite(pipedrive);

/* 2023-01-01 00:00:00 UTC: after every sample, so their times are in the accepted range. */
#define NOW_US (1672531200LL * 1000000)

static void assert_message(const char *needle) {
  const char *m = fastepost_error_last()->message;
  cr_assert(strstr(m, needle), "message '%s' lacks '%s'", m, needle);
}

/* ---- configuration ------------------------------------------------------------------------- */

static void config_refused(const char *section, const char *needle) {
  int rc;
  void *c = pdtest_config_rc(section, &rc);
  cr_assert_eq(rc, FASTEPOST_EINVALID, "%s accepted", section);
  cr_assert_null(c);
  assert_message(needle);
  cr_assert_null(strstr(fastepost_error_last()->message, "s3cret"), "a secret in: %s",
                 fastepost_error_last()->message);
}

Test(pipedrive, config_refuses_what_is_not_a_credential_list) {
  config_refused("{\"basic_auth\": [\"u:s3cret\"], \"basic_auht\": []}", "pipedrive.basic_auht: unknown key");
  config_refused("{\"basic_auth\": \"u:s3cret\"}", "pipedrive.basic_auth: not an array");
  config_refused("{\"basic_auth\": [\"u:s3cret\", 7]}", "pipedrive.basic_auth[1]: not a string");
  config_refused("{\"basic_auth\": [\"us3cret\"]}", "pipedrive.basic_auth[0]: expected \"user:password\"");
  config_refused("{\"basic_auth\": [\":s3cret\"]}", "pipedrive.basic_auth[0]: the user or the password is empty");
  config_refused("{\"basic_auth\": [\"u:\"]}", "pipedrive.basic_auth[0]: the user or the password is empty");
  config_refused("[\"u:s3cret\"]", "pipedrive: expected an object");
}

Test(pipedrive, shared_fixture_config_verifies_the_shared_request) {
  size_t len;
  char *cfg = pdtest_fixture("config.json", &len);
  json_object *root = json_tokener_parse(cfg);
  json_object *section = NULL;
  cr_assert(json_object_object_get_ex(root, "pipedrive", &section));
  void *c = pdtest_config(json_object_to_json_string(section));
  json_object_put(root);
  free(cfg);
  char *headers = pdtest_fixture("ok.headers", &len);
  char *auth = strstr(headers, "Authorization: ");
  cr_assert_not_null(auth);
  auth += strlen("Authorization: ");
  auth[strcspn(auth, "\r\n")] = '\0';
  char *body = pdtest_fixture("ok.json", &len);
  fastepost_webhook_request *req = pdtest_request(auth, body);
  cr_assert_eq(PD->verify(c, req), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  fastepost__records recs;
  cr_assert_eq(PD->parse(&recs, c, body, len, FASTEPOST__SYNC_SERVER_CLOCK), FASTEPOST_OK);
  char *expect = pdtest_fixture("ok.expect", &len);
  expect[strcspn(expect, "\n")] = '\0';
  cr_assert_str_eq(recs.items[0].crm_id, expect);
  cr_assert_eq(recs.items[0].failure, FASTEPOST_OK);
  fastepost__records_free(&recs);
  fastepost_webhook_request_free(req);
  PD->config_free(c);
  free(headers);
  free(body);
  free(expect);
}

/* ---- verification -------------------------------------------------------------------------- */

static int verify_with(const char *section, const char *authorization) {
  void *c = section ? pdtest_config(section) : NULL;
  fastepost_webhook_request *req = pdtest_request(authorization, "{}");
  int rc = PD->verify(c, req);
  fastepost_webhook_request_free(req);
  PD->config_free(c);
  return rc;
}

#define ALADDIN "{\"basic_auth\": [\"Aladdin:open sesame\"]}"

Test(pipedrive, verify_rfc7617_examples) {
  /* RFC 7617 section 2 and 2.1 (UTF-8), as base64 in the RFC / recomputed. */
  cr_assert_eq(verify_with(ALADDIN, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(verify_with("{\"basic_auth\": [\"test:123\xc2\xa3\"]}", "Basic dGVzdDoxMjPCow=="), FASTEPOST_OK);
  /* The same header through the helper: it encodes as the RFC does. */
  cr_assert_str_eq(pdtest_basic("Aladdin:open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

Test(pipedrive, verify_wrong_user_or_password) {
  cr_assert_eq(verify_with(ALADDIN, pdtest_basic("Aladdin:open sesamE")), FASTEPOST_EAUTH);
  assert_message("wrong Pipedrive webhook credentials");
  cr_assert_null(strstr(fastepost_error_last()->message, "sesam"));
  cr_assert_eq(verify_with(ALADDIN, pdtest_basic("aladdin:open sesame")), FASTEPOST_EAUTH);
  cr_assert_eq(verify_with(ALADDIN, pdtest_basic("Aladdin:open sesame ")), FASTEPOST_EAUTH);
  cr_assert_eq(verify_with(ALADDIN, pdtest_basic("Aladdin:")), FASTEPOST_EAUTH);
  cr_assert_eq(verify_with(ALADDIN, pdtest_basic(":open sesame")), FASTEPOST_EAUTH);
  /* A user's password does not open another user's door. */
  cr_assert_eq(verify_with("{\"basic_auth\": [\"a:one\", \"b:two\"]}", pdtest_basic("a:two")), FASTEPOST_EAUTH);
}

Test(pipedrive, verify_rotation_accepts_every_configured_credential) {
  const char *rot = "{\"basic_auth\": [\"hook:old-password\", \"hook:new-password\", \"other:third\"]}";
  cr_assert_eq(verify_with(rot, pdtest_basic("hook:old-password")), FASTEPOST_OK);
  cr_assert_eq(verify_with(rot, pdtest_basic("hook:new-password")), FASTEPOST_OK);
  cr_assert_eq(verify_with(rot, pdtest_basic("other:third")), FASTEPOST_OK);
  cr_assert_eq(verify_with(rot, pdtest_basic("hook:third")), FASTEPOST_EAUTH);
  cr_assert_eq(verify_with(rot, pdtest_basic("hook:older-password")), FASTEPOST_EAUTH);
}

Test(pipedrive, verify_scheme_is_case_insensitive_and_spaces_are_tolerated) {
#define B64 "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
  const char *forms[] = {"basic " B64, "BASIC " B64, "bAsIc " B64, "Basic   " B64, "  Basic " B64 "  ",
                         "Basic\t" B64};
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
    cr_assert_eq(verify_with(ALADDIN, forms[i]), FASTEPOST_OK, "'%s': %s", forms[i],
                 fastepost_error_last()->message);
#undef B64
}

Test(pipedrive, verify_password_with_colons_splits_on_the_first) {
  const char *cfg = "{\"basic_auth\": [\"hook:pa:ss:word\"]}";
  cr_assert_eq(verify_with(cfg, pdtest_basic("hook:pa:ss:word")), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(verify_with(cfg, pdtest_basic("hook:pa:ss")), FASTEPOST_EAUTH);
  cr_assert_eq(verify_with(cfg, pdtest_basic("hook:pa")), FASTEPOST_EAUTH);
  cr_assert_eq(verify_with(cfg, pdtest_basic("hook:pa:ss:word:")), FASTEPOST_EAUTH);
  /* "hook:pa" as user and "ss:word" as password is not the same credential. */
  cr_assert_eq(verify_with("{\"basic_auth\": [\"hook:pa\"]}", pdtest_basic("hook:pa:ss:word")), FASTEPOST_EAUTH);
}

Test(pipedrive, verify_long_password) {
  /* 2000 bytes of password: 2676 base64 characters in one run, no line breaks */
  char cred[2100], section[2200];
  memcpy(cred, "hook:", 5);
  for (int i = 0; i < 2000; i++)
    cred[5 + i] = (char)(i % 7 == 0 ? ':' : 'a' + i % 26);
  cred[2005] = '\0';
  snprintf(section, sizeof section, "{\"basic_auth\": [\"%s\"]}", cred);
  cr_assert_eq(verify_with(section, pdtest_basic(cred)), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cred[2004] = '~';
  cr_assert_eq(verify_with(section, pdtest_basic(cred)), FASTEPOST_EAUTH);
}

Test(pipedrive, verify_missing_or_garbled_header_is_eauth) {
  cr_assert_eq(verify_with(ALADDIN, NULL), FASTEPOST_EAUTH);
  assert_message("no Authorization header");
  const char *bad[] = {"",
                       "Basic",
                       "Basic ",
                       "Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
                       "BasicQWxhZGRpbjpvcGVuIHNlc2FtZQ==",
                       "Basic !!!!",
                       "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ",   /* no padding */
                       "Basic QWxhZGRp bjpvcGVuIHNlc2FtZQ==", /* a space inside */
                       "Basic QWxh=GRpbjpvcGVuIHNlc2FtZQ==",
                       "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ===",
                       "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==-",
                       "Basic QWxhZGRpbg==", /* "Aladdin": no colon */
                       "Basic Og==",         /* ":" alone */
                       "Digest username=\"Aladdin\""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(verify_with(ALADDIN, bad[i]), FASTEPOST_EAUTH, "'%s' accepted", bad[i]);
  /* A huge header is refused, not decoded. */
  char *huge = malloc(20000);
  memcpy(huge, "Basic ", 6);
  memset(huge + 6, 'A', 19992);
  huge[19998] = '\0';
  cr_assert_eq(verify_with(ALADDIN, huge), FASTEPOST_EAUTH);
  free(huge);
}

Test(pipedrive, verify_without_credentials_is_enokey) {
  cr_assert_eq(verify_with(NULL, pdtest_basic("Aladdin:open sesame")), FASTEPOST_ENOKEY);
  cr_assert_eq(verify_with("{\"basic_auth\": []}", pdtest_basic("Aladdin:open sesame")), FASTEPOST_ENOKEY);
  cr_assert_eq(verify_with("{}", pdtest_basic("Aladdin:open sesame")), FASTEPOST_ENOKEY);
  assert_message("no Pipedrive credentials are configured");
}

/* ---- parsing ------------------------------------------------------------------------------- */

static fastepost__records recs;

/* Parse a body; returns the status and leaves the record (if any) in recs. */
static int parse_text(const char *body, size_t len) {
  int rc = PD->parse(&recs, NULL, body, len, NOW_US);
  if (rc)
    cr_assert_eq(recs.count, 0);
  else
    cr_assert_eq(recs.count, 1, "Pipedrive posts one object per request");
  return rc;
}

static fastepost__sync_record *parse_ok(const char *body) {
  cr_assert_eq(parse_text(body, strlen(body)), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  return &recs.items[0];
}

static fastepost__sync_record *parse_fixture(const char *name) {
  size_t len;
  char *body = pdtest_fixture(name, &len);
  cr_assert_eq(parse_text(body, len), FASTEPOST_OK, "%s: %s", name, fastepost_error_last()->message);
  free(body);
  return &recs.items[0];
}

static void done(void) { fastepost__records_free(&recs); }

static void assert_prop(const fastepost__sync_record *r, size_t i, fastepost__fact_state st, const char *value) {
  cr_assert_lt(i, r->nprops);
  cr_assert_eq(r->props[i].state, st, "%s: state %d, want %d", r->prop_defs[i].name, r->props[i].state, st);
  if (value)
    cr_assert_str_eq(r->props[i].value, value);
}

static void assert_key(const fastepost__sync_record *r) {
  cr_assert_not_null(r->idempotency_key);
  cr_assert_eq(strlen(r->idempotency_key), 64);
  cr_assert_eq(strspn(r->idempotency_key, "0123456789abcdef"), 64);
}

enum { NAME, EMAIL, PHONE, COMPANY };

Test(pipedrive, v2_create_person_sample) {
  fastepost__sync_record *r = parse_fixture("v2_person_create.json");
  cr_assert_eq(r->failure, FASTEPOST_OK, "%s", r->failure_message);
  cr_assert_null(r->ignore_reason);
  cr_assert_str_eq(r->event_type, "create.person");
  cr_assert_str_eq(r->external_id, "person:8");
  cr_assert_str_eq(r->crm_id, "person:8");
  cr_assert_str_eq(r->model, "person");
  cr_assert_str_eq(r->version, "2022-11-24 13:18:55.665000");
  cr_assert(r->owns_customer && r->create_bare && !r->tombstone);
  cr_assert_eq(r->nprops, 4);
  cr_assert_str_eq(r->prop_defs[COMPANY].name, "company");
  assert_prop(r, NAME, FASTEPOST__FACT_VALUE, "Sample");
  assert_prop(r, EMAIL, FASTEPOST__FACT_EMPTY, NULL); /* "emails": [] */
  assert_prop(r, PHONE, FASTEPOST__FACT_EMPTY, NULL);
  /* org_id 1 without a name: the core looks up organization 1's stored name */
  assert_prop(r, COMPANY, FASTEPOST__FACT_ABSENT, NULL);
  cr_assert_str_eq(r->ref_crm_id, "organization:1");
  cr_assert_str_eq(r->ref_property, "name");
  cr_assert_eq(r->ref_prop, COMPANY);
  assert_key(r);
  /* The payload is the canonical body (sorted keys, no TAB), what a retry parses again. */
  cr_assert(strncmp(r->payload, "{\"data\":{\"add_time\":", 20) == 0, "%s", r->payload);
  cr_assert_null(strchr(r->payload, '\t'));
  done();
}

Test(pipedrive, v2_change_and_delete_person) {
  fastepost__sync_record *r = parse_fixture("v2_person_change.json");
  cr_assert_eq(r->failure, FASTEPOST_OK);
  cr_assert_str_eq(r->event_type, "change.person");
  assert_prop(r, NAME, FASTEPOST__FACT_VALUE, "Sample Person");
  cr_assert_str_eq(r->version, "2022-11-24 15:18:35.616000");
  char change_key[65];
  strcpy(change_key, r->idempotency_key);
  done();
  r = parse_fixture("v2_person_delete.json");
  cr_assert_eq(r->failure, FASTEPOST_OK, "%s", r->failure_message);
  cr_assert_str_eq(r->crm_id, "person:8");
  cr_assert(r->tombstone);
  cr_assert_eq(r->facts.active, 0);
  for (size_t i = 0; i < r->nprops; i++)
    cr_assert_eq(r->props[i].state, FASTEPOST__FACT_ABSENT);
  cr_assert_str_neq(r->idempotency_key, change_key);
  done();
}

Test(pipedrive, v2_condensed_note_sample_has_no_version) {
  fastepost__sync_record *r = parse_fixture("v2_note_create_condensed.json");
  cr_assert_eq(r->failure, FASTEPOST_EINVALID);
  cr_assert(strstr(r->failure_message, "meta.timestamp is missing"), "%s", r->failure_message);
  cr_assert_str_eq(r->event_type, "create.note");
  assert_key(r); /* logged under its meta.id, so its redelivery is one row */
  done();
}

Test(pipedrive, v2_note_is_a_remark_in_plain_text) {
  fastepost__sync_record *r = parse_fixture("v2_note_create.json");
  cr_assert_eq(r->failure, FASTEPOST_OK, "%s", r->failure_message);
  cr_assert_null(r->ignore_reason);
  cr_assert(!r->owns_customer);
  cr_assert_str_eq(r->link_crm_id, "person:8");
  cr_assert_str_eq(r->crm_id, "note:1");
  cr_assert_str_eq(r->note_key, "note:1");
  cr_assert(strstr(r->note_body, "Called Sample & agreed on a demo."), "%s", r->note_body);
  cr_assert(strstr(r->note_body, "Next: Friday"), "%s", r->note_body);
  cr_assert_null(strchr(r->note_body, '<'));
  cr_assert_null(strstr(r->note_body, "alert"), "script content kept: %s", r->note_body);
  cr_assert_null(r->prop_defs);
  done();
}

/* A deal fixture: a remark "Deal: <title>" keyed by the deal, on its person's customer. */
static void assert_deal(const char *fixture, const char *type, const char *body, const char *deal,
                        const char *person) {
  fastepost__sync_record *r = parse_fixture(fixture);
  cr_assert_eq(r->failure, FASTEPOST_OK, "%s", r->failure_message);
  cr_assert_str_eq(r->event_type, type);
  cr_assert_str_eq(r->note_body, body);
  cr_assert_str_eq(r->note_key, deal);
  cr_assert_str_eq(r->external_id, deal);
  cr_assert_str_eq(r->link_crm_id, person);
  cr_assert(!r->owns_customer);
  done();
}

Test(pipedrive, v2_deal_is_a_remark_with_its_title) {
  assert_deal("v2_deal_create.json", "create.deal", "Deal: Sample deal", "deal:10", "person:8");
  fastepost__sync_record *r;
  /* A deal without a person has no customer to go to. */
  size_t len;
  char *body = pdtest_fixture("v2_deal_create.json", &len);
  char *orphan = pdtest_with(body, "data", "person_id", "null");
  r = parse_ok(orphan);
  cr_assert(r->ignore_reason && strstr(r->ignore_reason, "not attached to a person"));
  done();
  free(orphan);
  free(body);
}

Test(pipedrive, v2_organization_keeps_its_name_only) {
  fastepost__sync_record *r = parse_fixture("v2_organization_create.json");
  cr_assert_eq(r->failure, FASTEPOST_OK);
  cr_assert(r->props_only);
  cr_assert_str_eq(r->crm_id, "organization:1");
  cr_assert_eq(r->nprops, 1);
  cr_assert_eq(r->prop_defs[0].column, FASTEPOST__COL_NONE);
  cr_assert_str_eq(r->prop_defs[0].name, "name");
  assert_prop(r, 0, FASTEPOST__FACT_VALUE, "Sample Org GmbH");
  cr_assert_not_null(r->ignore_reason);
  cr_assert(!r->owns_customer);
  done();
}

Test(pipedrive, v1_documented_envelope_is_not_json) {
  size_t len;
  char *body = pdtest_fixture("v1_envelope_doc.txt", &len);
  cr_assert_eq(parse_text(body, len), FASTEPOST_EPARSE);
  assert_message("Pipedrive webhook");
  assert_message("byte");
  free(body);
}

Test(pipedrive, v1_person_updated) {
  fastepost__sync_record *r = parse_fixture("v1_person_updated.json");
  cr_assert_eq(r->failure, FASTEPOST_OK, "%s", r->failure_message);
  cr_assert_str_eq(r->event_type, "updated.person");
  cr_assert_str_eq(r->crm_id, "person:11");
  cr_assert_str_eq(r->version, "2018-04-11 09:50:13.384700"); /* timestamp_micro 1523440213384700 */
  assert_prop(r, NAME, FASTEPOST__FACT_VALUE, "Jane Roe");
  assert_prop(r, EMAIL, FASTEPOST__FACT_VALUE, "Jane.Roe@Example.com"); /* the core lower-cases */
  assert_prop(r, PHONE, FASTEPOST__FACT_VALUE, "3242342");
  assert_prop(r, COMPANY, FASTEPOST__FACT_EMPTY, NULL); /* org_id null */
  cr_assert_null(r->ref_crm_id);
  cr_assert_eq(r->retired_crm_ids.count, 0);
  assert_key(r);
  done();
}

Test(pipedrive, v1_deal_added) {
  assert_deal("v1_deal_added.json", "added.deal", "Deal: Renewal 2018", "deal:21", "person:11");
}

Test(pipedrive, v1_company_from_org_name_or_org_object) {
  size_t len;
  char *body = pdtest_fixture("v1_person_updated.json", &len);
  char *a = pdtest_with(body, "current", "org_name", "\"ACME Ltd\"");
  char *b = pdtest_with(a, "current", "org_id", "5");
  fastepost__sync_record *r = parse_ok(b);
  assert_prop(r, COMPANY, FASTEPOST__FACT_VALUE, "ACME Ltd");
  cr_assert_null(r->ref_crm_id); /* the name came with the person */
  done();
  char *c = pdtest_with(body, "current", "org_id", "{\"name\": \"Org Object\", \"value\": 6}");
  r = parse_ok(c);
  assert_prop(r, COMPANY, FASTEPOST__FACT_VALUE, "Org Object");
  done();
  char *d = pdtest_with(body, "current", "org_id", "7");
  r = parse_ok(d);
  assert_prop(r, COMPANY, FASTEPOST__FACT_ABSENT, NULL);
  cr_assert_str_eq(r->ref_crm_id, "organization:7");
  done();
  free(a);
  free(b);
  free(c);
  free(d);
  free(body);
}

Test(pipedrive, primary_email_and_phone_win_else_the_first) {
  size_t len;
  char *body = pdtest_fixture("v2_person_create.json", &len);
  char *a = pdtest_with(body, "data", "emails",
                        "[{\"label\":\"home\",\"value\":\"\",\"primary\":false},"
                        "{\"label\":\"home\",\"value\":\"first@example.com\",\"primary\":false},"
                        "{\"label\":\"work\",\"value\":\"primary@example.com\",\"primary\":true}]");
  char *b = pdtest_with(a, "data", "phones", "[{\"value\":\" +49 30 1 \"},{\"value\":\"+49 30 2\"}]");
  fastepost__sync_record *r = parse_ok(b);
  assert_prop(r, EMAIL, FASTEPOST__FACT_VALUE, "primary@example.com");
  assert_prop(r, PHONE, FASTEPOST__FACT_VALUE, "+49 30 1");
  done();
  char *c = pdtest_with(body, "data", "emails", "[\"plain@example.com\"]");
  r = parse_ok(c);
  assert_prop(r, EMAIL, FASTEPOST__FACT_VALUE, "plain@example.com");
  done();
  char *d = pdtest_with(body, "data", "name", NULL);
  char *e = pdtest_with(d, "data", "last_name", "\"Roe\"");
  r = parse_ok(e);
  assert_prop(r, NAME, FASTEPOST__FACT_VALUE, "Sample Roe");
  done();
  free(a);
  free(b);
  free(c);
  free(d);
  free(e);
  free(body);
}

/* The key of a body after an edit. */
static void key_of(char out[65], const char *body) {
  fastepost__sync_record *r = parse_ok(body);
  assert_key(r);
  strcpy(out, r->idempotency_key);
  done();
}

Test(pipedrive, dedup_keys_are_stable_across_redeliveries) {
  size_t len;
  char base[65], k[65];
  char *v2 = pdtest_fixture("v2_person_change.json", &len);
  key_of(base, v2);
  /* a retry (attempt 2), through another copy of the webhook, from another host */
  char *a = pdtest_with(v2, "meta", "attempt", "2");
  char *b = pdtest_with(a, "meta", "webhook_id", "\"999\"");
  char *c = pdtest_with(b, "meta", "host", "\"other.pipedrive.com\"");
  key_of(k, c);
  cr_assert_str_eq(k, base);
  /* another event: another meta.id */
  char *d = pdtest_with(v2, "meta", "id", "\"11111111-2222-3333-4444-555555555555\"");
  key_of(k, d);
  cr_assert_str_neq(k, base);
  free(a);
  free(b);
  free(c);
  free(d);
  free(v2);

  char *v1 = pdtest_fixture("v1_person_updated.json", &len);
  key_of(base, v1);
  a = pdtest_with(v1, NULL, "retry", "3");
  b = pdtest_with(a, "meta", "webhook_id", "4710828");
  c = pdtest_with(b, "meta", "timestamp", "1523440214"); /* only timestamp_micro counts */
  key_of(k, c);
  cr_assert_str_eq(k, base);
  free(a);
  free(b);
  free(c);
  const char *edits[][2] = {{"timestamp_micro", "1523440213384701"}, {"id", "12"}, {"object", "\"deal\""},
                            {"action", "\"merged\""}};
  for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
    a = pdtest_with(v1, "meta", edits[i][0], edits[i][1]);
    key_of(k, a);
    cr_assert_str_neq(k, base, "meta.%s does not change the key", edits[i][0]);
    free(a);
  }
  free(v1);
}

Test(pipedrive, merges_retire_the_merged_person) {
  size_t len;
  char *v2 = pdtest_fixture("v2_person_change.json", &len);
  char *a = pdtest_with(v2, "meta", "merged_from_id", "\"7\"");
  fastepost__sync_record *r = parse_ok(a);
  cr_assert_eq(r->retired_crm_ids.count, 1);
  cr_assert_str_eq(r->retired_crm_ids.items[0], "person:7");
  assert_prop(r, NAME, FASTEPOST__FACT_VALUE, "Sample Person");
  done();
  char *del = pdtest_fixture("v2_person_delete.json", &len);
  char *b = pdtest_with(del, "meta", "merged_to_id", "9");
  r = parse_ok(b);
  cr_assert(r->tombstone);
  cr_assert_eq(r->warnings.count, 1);
  cr_assert(strstr(r->warnings.items[0], "merged into person 9"));
  done();
  char *v1 = pdtest_fixture("v1_person_updated.json", &len);
  char *c = pdtest_with(v1, "meta", "action", "\"merged\"");
  char *d = pdtest_with(c, "current", "merge_what_id", "12");
  r = parse_ok(d);
  cr_assert_str_eq(r->event_type, "merged.person");
  cr_assert_eq(r->retired_crm_ids.count, 1, "previous is person 11 itself: only merge_what_id counts");
  cr_assert_str_eq(r->retired_crm_ids.items[0], "person:12");
  done();
  free(a);
  free(b);
  free(c);
  free(d);
  free(v2);
  free(del);
  free(v1);
}

Test(pipedrive, other_objects_and_actions_are_ignored) {
  size_t len;
  char *v2 = pdtest_fixture("v2_person_create.json", &len);
  const char *entities[] = {"\"activity\"", "\"lead\"", "\"product\"", "\"user\""};
  for (size_t i = 0; i < sizeof entities / sizeof entities[0]; i++) {
    char *a = pdtest_with(v2, "meta", "entity", entities[i]);
    /* a lead's id is a UUID, a user's timestamp an integer: neither matters when ignored */
    char *b = pdtest_with(a, "meta", "entity_id", "\"adf21080-0e10-11eb-879b-05d71fb426ec\"");
    fastepost__sync_record *r = parse_ok(b);
    cr_assert_eq(r->failure, FASTEPOST_OK, "%s", r->failure_message);
    cr_assert(r->ignore_reason && strstr(r->ignore_reason, "events are not synced"), "%s", r->ignore_reason);
    assert_key(r);
    done();
    free(a);
    free(b);
  }
  char *c = pdtest_with(v2, "meta", "action", "\"archive\"");
  fastepost__sync_record *r = parse_ok(c);
  cr_assert(r->ignore_reason && strstr(r->ignore_reason, "archive.person"));
  done();
  free(c);
  free(v2);
}

/* A body that parses into one failed record whose message holds needle. */
static void failed_record(const char *body, const char *needle) {
  fastepost__sync_record *r = parse_ok(body);
  cr_assert_eq(r->failure, FASTEPOST_EINVALID, "accepted: %s", body);
  cr_assert(strstr(r->failure_message, needle), "'%s' lacks '%s'", r->failure_message, needle);
  cr_assert_not_null(r->payload, "logged with its payload");
  cr_assert_not_null(r->event_type, "logged with an event type");
  done();
}

Test(pipedrive, malformed_envelopes_are_failed_records) {
  failed_record("{}", "meta is missing");
  failed_record("{\"meta\": []}", "meta is missing");
  failed_record("{\"meta\": {\"action\": \"create\"}}", "neither entity");
  failed_record("{\"meta\": {\"entity\": \"person\"}}", "meta.action is missing");
  size_t len;
  char *v2 = pdtest_fixture("v2_person_create.json", &len);
  const char *edits[][3] = {
      {"meta", "entity_id", "\"abc\""},
      {"meta", "entity_id", "-8"},
      {"meta", "entity_id", "99999999999999999999"},
      {"meta", "timestamp", "\"yesterday\""},
      {"meta", "timestamp", "\"2022-13-24T13:18:55Z\""},
      {"meta", "timestamp", "\"2100-01-01T00:00:00Z\""}, /* absurd: decades ahead */
      {"meta", "timestamp", "\"1999-12-31T23:59:59Z\""}, /* before the accepted range */
      {"meta", "timestamp", "true"},
      {"meta", "timestamp", "9223372036854775807"},
      {NULL, "data", "\"Sample\""},
  };
  const char *needles[] = {"meta.entity_id", "meta.entity_id", "meta.entity_id", "is not a time",
                           "is not a time", "meta.timestamp", "meta.timestamp", "is not a time",
                           "is not a time", "data is missing"};
  for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
    char *a = pdtest_with(v2, edits[i][0], edits[i][1], edits[i][2]);
    failed_record(a, needles[i]); /* a bad meta.entity_id is not replaced by data.id */
    free(a);
  }
  free(v2);
  char *v1 = pdtest_fixture("v1_person_updated.json", &len);
  char *c = pdtest_with(v1, "meta", "timestamp_micro", "-5");
  failed_record(c, "meta.timestamp_micro");
  char *d = pdtest_with(v1, "meta", "timestamp_micro", "99999999999999999");
  failed_record(d, "meta.timestamp_micro");
  free(c);
  free(d);
  free(v1);
}

Test(pipedrive, malformed_bodies_are_refused_whole) {
  const char *bad[] = {"", "not json", "[{\"meta\": {}}]", "\"meta\"", "{\"meta\": {\"entity\": \"person\",}}",
                       "{\"a\": 1} {\"b\": 2}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_eq(parse_text(bad[i], strlen(bad[i])), FASTEPOST_EPARSE, "'%s' accepted", bad[i]);
  /* invalid UTF-8 */
  const char latin1[] = "{\"meta\": {\"entity\": \"person\", \"action\": \"create\"}, \"data\": {\"name\": \"J\xfcrgen\"}}";
  cr_assert_eq(parse_text(latin1, strlen(latin1)), FASTEPOST_EPARSE);
  assert_message("UTF-8");
  /* nested deeper than any Pipedrive body */
  char deep[200];
  memset(deep, '[', 100);
  memset(deep + 100, ']', 100);
  cr_assert_eq(parse_text(deep, sizeof deep), FASTEPOST_EPARSE);
  /* over the size limit */
  size_t n = ((size_t)1 << 20) + 10;
  char *huge = malloc(n + 1);
  memset(huge, ' ', n);
  huge[0] = '{';
  huge[n - 1] = '}';
  huge[n] = '\0';
  cr_assert_eq(parse_text(huge, n), FASTEPOST_ETOOBIG);
  /* ... which a replay (accepted once) does not apply */
  cr_assert_eq(PD->replay(&recs, NULL, huge, n, "", "application/json", NOW_US), FASTEPOST_OK);
  cr_assert_eq(recs.items[0].failure, FASTEPOST_EINVALID); /* "{ ... }": no meta */
  done();
  free(huge);
}

Test(pipedrive, note_variants) {
  size_t len;
  char *note = pdtest_fixture("v2_note_create.json", &len);
  char *a = pdtest_with(note, "data", "content", "\"<p> &nbsp; </p>\"");
  fastepost__sync_record *r = parse_ok(a);
  cr_assert(r->ignore_reason && strstr(r->ignore_reason, "has no text"));
  done();
  char *b = pdtest_with(note, "data", "active_flag", "false");
  r = parse_ok(b);
  cr_assert(r->ignore_reason && strstr(r->ignore_reason, "not active"));
  done();
  char *c = pdtest_with(note, "meta", "action", "\"delete\"");
  r = parse_ok(c);
  cr_assert(r->ignore_reason && strstr(r->ignore_reason, "remark is kept"));
  done();
  char *d = pdtest_with(note, "data", "content", "\"Tom &lt;tom@example.com&gt; &#8211; &quot;hi&quot;\"");
  r = parse_ok(d);
  cr_assert_str_eq(r->note_body, "Tom <tom@example.com> \xe2\x80\x93 \"hi\"");
  done();
  free(a);
  free(b);
  free(c);
  free(d);
  free(note);
}

Test(pipedrive, reprocess_parses_the_stored_payload_alike) {
  size_t len;
  char *body = pdtest_fixture("v1_person_updated.json", &len);
  fastepost__sync_record *r = parse_ok(body);
  char *payload = strdup(r->payload), *key = strdup(r->idempotency_key);
  done();
  fastepost__sync_record again;
  fastepost__sync_record_init(&again, "pipedrive");
  /* Later than the accepted range of the moment (now 2050): a retry is not refused for it. */
  cr_assert_eq(PD->reprocess(&again, NULL, payload, "updated.person", 2524608000LL * 1000000), FASTEPOST_OK);
  cr_assert_eq(again.failure, FASTEPOST_OK, "%s", again.failure_message);
  cr_assert_str_eq(again.idempotency_key, key);
  cr_assert_str_eq(again.payload, payload);
  cr_assert_str_eq(again.crm_id, "person:11");
  fastepost__sync_record_clear(&again);
  /* A stored payload that is not a body any more is a failed record, not a crash. */
  fastepost__sync_record_init(&again, "pipedrive");
  cr_assert_eq(PD->reprocess(&again, NULL, "[1]", "x", NOW_US), FASTEPOST_OK);
  cr_assert_eq(again.failure, FASTEPOST_EPARSE);
  fastepost__sync_record_clear(&again);
  free(payload);
  free(key);
  free(body);
}

Test(pipedrive, table_describes_the_source) {
  cr_assert_str_eq(PD->source, "pipedrive");
  cr_assert_not_null(PD->verify);
  cr_assert_not_null(PD->config_new);
  cr_assert_null(PD->respond, "the generic JSON answer");
  cr_assert_null(PD->handshake);
  cr_assert(strstr(PD->dedup_key, "meta.id") && strstr(PD->version_key, "timestamp_micro"));
  cr_assert_eq(fastepost__adapter_find("pipedrive"), PD);
}
