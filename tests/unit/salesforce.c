/* SPDX-License-Identifier: MIT */
/*
 * Salesforce Outbound Messages (no database): the safe XML wrapper against hostile documents
 * (billion laughs, external entities over file:// and http://, DTDs, depth, size, bad UTF-8),
 * Salesforce ids (15/18 characters), the configuration, verification of the OrganizationId,
 * parsing of every sample in tests/fixtures/salesforce/ and of variants (prefixes, nil, batches
 * with a bad notification, more than 100), the stored form for a retry, and the exact SOAP
 * answers. Everything goes through the adapter table, as fastepost_webhook_process() does.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libxml/xmlerror.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "adapters/salesforce.h"
#include "salesforce_message.h"
#include "testdb.h"
#include "util/json.h"
#include "util/xml.h"

static const fastepost__adapter *const A = &fastepost__salesforce_adapter;
#define SERVER FASTEPOST__SYNC_SERVER_CLOCK

/* ---- helpers -------------------------------------------------------------------------------- */

static char *fixture(const char *name, size_t *len) {
  char rel[256];
  snprintf(rel, sizeof rel, "tests/fixtures/salesforce/%s", name);
  return fptest_read_file(fptest_source_path(rel), len);
}

/* The adapter's configuration from a section's JSON; the code config_new returned in *rc. */
static void *config_rc(const char *section, int *rc) {
  json_object *o = json_tokener_parse(section);
  cr_assert(o || !strcmp(section, "null"), "bad test JSON %s", section);
  void *c = NULL;
  *rc = A->config_new(&c, o);
  json_object_put(o);
  return c;
}

static void *config(const char *section) {
  int rc;
  void *c = config_rc(section, &rc);
  cr_assert_eq(rc, FASTEPOST_OK, "%s", fastepost_error_last()->message);
  return c;
}

static int verify_body(const void *cfg, const char *body, size_t len) {
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_body(req, body, len), FASTEPOST_OK);
  int rc = A->verify(cfg, req);
  fastepost_webhook_request_free(req);
  return rc;
}

static void assert_message(const char *needle) {
  const char *m = fastepost_error_last()->message;
  cr_assert(strstr(m, needle), "message '%s' lacks '%s'", m, needle);
}

#define envelope fptest_sf_envelope
#define notification fptest_sf_notification

static fastepost__records parse_rc(const char *body, size_t len, int want) {
  fastepost__records r = {0};
  int rc = A->parse(&r, NULL, body, len, SERVER);
  cr_assert_eq(rc, want, "parse: %s, want %s (%s)", fastepost_error_name(rc), fastepost_error_name(want),
               fastepost_error_last()->message);
  return r;
}

static fastepost__records parse_ok(const char *body) { return parse_rc(body, strlen(body), FASTEPOST_OK); }

/* The delivered state of a property of a record. */
static const fastepost__fact *prop(const fastepost__sync_record *r, const char *name) {
  for (size_t i = 0; i < r->nprops; i++)
    if (!strcmp(r->prop_defs[i].name, name))
      return &r->props[i];
  cr_assert_fail("no property %s", name);
  return NULL;
}

static void assert_prop(const fastepost__sync_record *r, const char *name, const char *value) {
  const fastepost__fact *f = prop(r, name);
  if (!value) {
    cr_assert_eq(f->state, FASTEPOST__FACT_ABSENT, "%s is delivered", name);
  } else if (!*value) {
    cr_assert_eq(f->state, FASTEPOST__FACT_EMPTY, "%s is not empty (state %d)", name, (int)f->state);
  } else {
    cr_assert_eq(f->state, FASTEPOST__FACT_VALUE, "%s has no value", name);
    cr_assert_str_eq(f->value, value);
  }
}

static void assert_failed(const fastepost__sync_record *r, const char *needle) {
  cr_assert_neq(r->failure, 0, "record %s did not fail", r->crm_id ? r->crm_id : "?");
  cr_assert(strstr(r->failure_message, needle), "failure '%s' lacks '%s'", r->failure_message, needle);
}

static void assert_usable(const fastepost__sync_record *r) {
  cr_assert_eq(r->failure, 0, "failed: %s", r->failure_message ? r->failure_message : "");
  cr_assert_null(r->ignore_reason, "ignored: %s", r->ignore_reason);
}

/* ---- Salesforce ids ------------------------------------------------------------------------- */

Test(salesforce_ids, fifteen_get_their_checksum_eighteen_must_carry_it) {
  char out[FASTEPOST__SF_ID_SIZE];
  /* Ids of the aspnet sample, 15 characters extended to the 18 it shows. */
  cr_assert(fastepost__sf_id18(out, "0031I0000081tbP", 15));
  cr_assert_str_eq(out, "0031I0000081tbPQAQ");
  cr_assert(fastepost__sf_id18(out, "04l1I000000fztE", 15));
  cr_assert_str_eq(out, "04l1I000000fztEQAQ");
  cr_assert(fastepost__sf_id18(out, "0031I0000081tb0QAA", 18));
  cr_assert_str_eq(out, "0031I0000081tb0QAA");
  cr_assert(fastepost__sf_id18(out, "00D000000000001", 15));
  cr_assert_str_eq(out, "00D000000000001EAA");
  /* A wrong suffix (the aspnet BadSecret org id), a lower-cased one, wrong lengths, other bytes. */
  cr_assert_not(fastepost__sf_id18(out, "0123456789ABCDENNN", 18));
  cr_assert_str_eq(out, "");
  cr_assert_not(fastepost__sf_id18(out, "0031I0000081tbPqaq", 18));
  cr_assert_not(fastepost__sf_id18(out, "0031I0000081tb", 14));
  cr_assert_not(fastepost__sf_id18(out, "0031I0000081tbPQ", 16));
  cr_assert_not(fastepost__sf_id18(out, "0031I0000081tb-", 15));
  cr_assert_not(fastepost__sf_id18(out, "0031I0000081tb\xc3\xa4", 16));
  cr_assert_not(fastepost__sf_id18(out, NULL, 0));
  /* Case matters in the 15-character form: another id, another suffix. */
  cr_assert(fastepost__sf_id18(out, "0031i0000081tbp", 15));
  cr_assert_str_eq(out, "0031i0000081tbpAAA");
}

/* ---- configuration -------------------------------------------------------------------------- */

Test(salesforce_config, keys_types_and_ids_are_checked_without_echoing_them) {
  int rc;
  cr_assert_null(config_rc("{\"organization_ids\": \"00D000000000001\"}", &rc));
  cr_assert_eq(rc, FASTEPOST_EINVALID);
  assert_message("salesforce.organization_ids: not an array");
  cr_assert_null(config_rc("{\"organization_ids\": [\"00D000000000001\", 7]}", &rc));
  cr_assert_eq(rc, FASTEPOST_EINVALID);
  assert_message("salesforce.organization_ids[1]: not a string");
  cr_assert_null(config_rc("{\"organization_ids\": [\"00D00000SECRET1X\"]}", &rc));
  cr_assert_eq(rc, FASTEPOST_EINVALID);
  assert_message("salesforce.organization_ids[0]: not a Salesforce organization id");
  cr_assert_null(strstr(fastepost_error_last()->message, "SECRET"));
  cr_assert_null(config_rc("{\"organization_ids\": [\"0123456789ABCDENNN\"]}", &rc));
  cr_assert_eq(rc, FASTEPOST_EINVALID);
  cr_assert_null(config_rc("{\"organization_ids\": [], \"api_key\": \"x\"}", &rc));
  cr_assert_eq(rc, FASTEPOST_EINVALID);
  assert_message("salesforce.api_key: unknown key");
  cr_assert_null(config_rc("[\"00D000000000001\"]", &rc));
  cr_assert_eq(rc, FASTEPOST_EINVALID);
  assert_message("salesforce: not an object");
  void *c = config("{\"organization_ids\": [\"00D000000000001\", \"012345678901234AAA\"]}");
  A->config_free(c);
  A->config_free(NULL);
}

Test(salesforce_config, nothing_configured_refuses_everything) {
  size_t len;
  char *body = fixture("contacts.xml", &len);
  void *empty = config("{\"organization_ids\": []}");
  cr_assert_eq(verify_body(empty, body, len), FASTEPOST_ENOKEY);
  assert_message("no Salesforce organization id is configured");
  void *none = config("{}");
  cr_assert_eq(verify_body(none, body, len), FASTEPOST_ENOKEY);
  cr_assert_eq(verify_body(NULL, body, len), FASTEPOST_ENOKEY);
  A->config_free(empty);
  A->config_free(none);
  free(body);
}

/* ---- verification --------------------------------------------------------------------------- */

Test(salesforce_verify, organization_id_in_15_or_18_characters) {
  size_t len;
  char *body = fixture("contacts.xml", &len); /* OrganizationId 012345678901234 */
  const char *accepted[] = {"{\"organization_ids\": [\"012345678901234\"]}",
                            "{\"organization_ids\": [\"012345678901234AAA\"]}",
                            "{\"organization_ids\": [\"00D000000000001\", \"012345678901234\"]}"};
  for (size_t i = 0; i < 3; i++) {
    void *c = config(accepted[i]);
    cr_assert_eq(verify_body(c, body, len), FASTEPOST_OK, "%s: %s", accepted[i], fastepost_error_last()->message);
    A->config_free(c);
  }
  /* Another org; the same 15 characters in another case (15-character ids are case-sensitive). */
  const char *refused[] = {"{\"organization_ids\": [\"00D000000000001\"]}",
                           "{\"organization_ids\": [\"012345678901235\"]}"};
  for (size_t i = 0; i < 2; i++) {
    void *c = config(refused[i]);
    cr_assert_eq(verify_body(c, body, len), FASTEPOST_EAUTH, "%s", refused[i]);
    assert_message("not one of salesforce.organization_ids");
    A->config_free(c);
  }
  free(body);
  /* The message presents the 18-character form of a configured 15-character id, and vice versa. */
  body = fixture("ok.xml", &len); /* 00D000000000001EAA */
  void *c = config("{\"organization_ids\": [\"00D000000000001\"]}");
  cr_assert_eq(verify_body(c, body, len), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  A->config_free(c);
  free(body);
  char *m15 = envelope("00D000000000001", "");
  c = config("{\"organization_ids\": [\"00D000000000001EAA\"]}");
  cr_assert_eq(verify_body(c, m15, strlen(m15)), FASTEPOST_OK);
  A->config_free(c);
  free(m15);
}

Test(salesforce_verify, missing_malformed_or_bad_checksum_org_is_refused) {
  void *c = config("{\"organization_ids\": [\"0123456789ABCDE\", \"012345678901234\"]}");
  size_t len;
  char *body = fixture("lead_badsecret.xml", &len); /* 0123456789ABCDENNN: wrong checksum */
  cr_assert_eq(verify_body(c, body, len), FASTEPOST_EAUTH);
  assert_message("not a Salesforce id");
  cr_assert_null(strstr(fastepost_error_last()->message, "0123456789"));
  free(body);
  body = fixture("empty.xml", &len);
  cr_assert_eq(verify_body(c, body, len), FASTEPOST_EAUTH);
  assert_message("carries no OrganizationId");
  free(body);
  char *nil = envelope("", "");
  char *p = strstr(nil, "<OrganizationId></OrganizationId>");
  cr_assert_not_null(p);
  cr_assert_eq(verify_body(c, nil, strlen(nil)), FASTEPOST_EAUTH);
  free(nil);
  const char *bodies[] = {"<a/>", "not xml", "<soapenv:Envelope xmlns:soapenv=\"x\"><soapenv:Body/></soapenv:Envelope>"};
  for (size_t i = 0; i < 3; i++)
    cr_assert_eq(verify_body(c, bodies[i], strlen(bodies[i])), FASTEPOST_EPARSE, "%s", bodies[i]);
  cr_assert_eq(verify_body(c, "", 0), FASTEPOST_EPARSE);
  A->config_free(c);
}

/* ---- parsing the samples -------------------------------------------------------------------- */

Test(salesforce_parse, aspnet_contacts_sample) {
  size_t len;
  char *body = fixture("contacts.xml", &len);
  fastepost__records r = parse_rc(body, len, FASTEPOST_OK);
  cr_assert_eq(r.count, 2);
  const fastepost__sync_record *a = &r.items[0], *b = &r.items[1];
  assert_usable(a);
  assert_usable(b);
  cr_assert_str_eq(a->event_type, "Contact");
  cr_assert_str_eq(a->crm_id, "Contact:0031I0000081tbPQAQ");
  cr_assert_str_eq(a->external_id, "Contact:0031I0000081tbPQAQ");
  cr_assert_str_eq(a->model, "Contact");
  cr_assert(a->owns_customer);
  assert_prop(a, "FirstName", "Jeraldine");
  assert_prop(a, "LastName", "Black");
  assert_prop(a, "Email", NULL);
  assert_prop(a, "Phone", NULL);
  cr_assert_str_eq(b->crm_id, "Contact:0031I0000081tb0QAA");
  assert_prop(b, "Email", "drb24@cornell.edu");
  assert_prop(b, "FirstName", "Doug");
  /* No SystemModstamp or LastModifiedDate in this sample: CreatedDate orders it, with a warning. */
  cr_assert_str_eq(a->version, "2017-12-11 21:49:24.000000");
  cr_assert_str_eq(b->version, "2017-12-11 21:44:55.000000");
  cr_assert_eq(a->warnings.count, 1);
  cr_assert(strstr(a->warnings.items[0], "add SystemModstamp"));
  cr_assert_eq(strlen(a->idempotency_key), 64);
  cr_assert_str_neq(a->idempotency_key, b->idempotency_key);
  /* Nothing of the session travels into the stored payload. */
  cr_assert_null(strstr(a->payload, "SessionId"));
  cr_assert_null(strstr(a->payload, "AQsAQ"));
  cr_assert(strstr(a->payload, "\"notification_id\":\"04l1I000000fztEQAQ\""), "%s", a->payload);
  fastepost__records_free(&r);
  free(body);
}

Test(salesforce_parse, lead_badsecret_sample_is_an_other_sobject) {
  /* Its sObject is typed sf:Lead1 (aspnet's test data): not a Lead, so ignored, not guessed. Its
   * OrganizationId is refused by verify; parse alone reports the id as malformed. */
  size_t len;
  char *body = fixture("lead_badsecret.xml", &len);
  fastepost__records r = {0};
  cr_assert_eq(A->parse(&r, NULL, body, len, SERVER), FASTEPOST_EAUTH);
  free(body);
  /* The verbatim sObject inside a good envelope: the byte order mark is fine, Lead1 is ignored. */
  char *sobj = fixture("lead_sobject.xml", &len);
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&b, "<Notification><Id>04l1I000000fztEQAQ</Id>%s</Notification>", sobj);
  char *msg = envelope("012345678901234", fastepost__buf_cstr(&b));
  fastepost__buf bom = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&bom, "\xef\xbb\xbf%s", msg);
  r = parse_ok(fastepost__buf_cstr(&bom));
  cr_assert_eq(r.count, 1);
  cr_assert_eq(r.items[0].failure, 0);
  cr_assert(strstr(r.items[0].ignore_reason, "Lead1 notifications are not synced"), "%s", r.items[0].ignore_reason);
  cr_assert_str_eq(r.items[0].event_type, "Lead1");
  cr_assert_not_null(r.items[0].idempotency_key);
  fastepost__records_free(&r);
  /* The same fields typed sf:Lead: a Lead. Its Id 0123456789ABCDEEAE has a wrong checksum. */
  char *p = strstr(sobj, "sf:Lead1");
  memcpy(p, "sf:Lead\"", 8);
  memmove(p + 8, p + 9, strlen(p + 9) + 1);
  fastepost__buf_clear(&b);
  fastepost__buf_printf(&b, "<Notification><Id>04l1I000000fztEQAQ</Id>%s</Notification>", sobj);
  free(msg);
  msg = envelope("012345678901234", fastepost__buf_cstr(&b));
  r = parse_ok(msg);
  assert_failed(&r.items[0], "the sObject's Id is not a Salesforce id");
  fastepost__records_free(&r);
  fastepost__buf_free(&b);
  fastepost__buf_free(&bom);
  free(msg);
  free(sobj);
}

Test(salesforce_parse, lead_with_nil_session_sf1_prefix_nil_and_empty_fields) {
  size_t len;
  char *body = fixture("lead_nil_session.xml", &len);
  fastepost__records r = parse_rc(body, len, FASTEPOST_OK);
  cr_assert_eq(r.count, 1);
  const fastepost__sync_record *l = &r.items[0];
  assert_usable(l);
  cr_assert_str_eq(l->crm_id, "Lead:00Q000000000001EAA");
  cr_assert_str_eq(l->model, "Lead");
  cr_assert_str_eq(l->event_type, "Lead");
  assert_prop(l, "FirstName", "Henrik");
  assert_prop(l, "Company", "Microsoft");
  assert_prop(l, "Email", "");       /* xsi:nil: null, so empty */
  assert_prop(l, "Phone", "");       /* an empty element: empty */
  assert_prop(l, "MobilePhone", "+1 425 555 0100");
  assert_prop(l, "Street", "One Microsoft Way, Building 92");
  assert_prop(l, "PostalCode", "98052");
  /* SystemModstamp wins over LastModifiedDate. */
  cr_assert_str_eq(l->version, "2025-08-14 18:27:03.000000");
  cr_assert_eq(l->warnings.count, 0);
  cr_assert_str_eq(l->note_body, "Some notes...");
  cr_assert_str_eq(l->note_key, "Lead:00Q000000000001EAA:Description");
  cr_assert_not(l->tombstone);
  cr_assert_eq(l->facts.active, -1);
  /* The stored form keeps nil apart from absent and empty. */
  cr_assert(strstr(l->payload, "\"Email\":null"), "%s", l->payload);
  cr_assert(strstr(l->payload, "\"Phone\":\"\""), "%s", l->payload);
  cr_assert(strstr(l->payload, "\"organization_id\":\"00D000000000001EAA\""), "%s", l->payload);
  fastepost__records_free(&r);
  free(body);
}

Test(salesforce_parse, ok_fixture_is_one_contact) {
  size_t len;
  char *body = fixture("ok.xml", &len);
  char *expect = fixture("ok.expect", NULL);
  expect[strcspn(expect, "\n")] = '\0';
  fastepost__records r = parse_rc(body, len, FASTEPOST_OK);
  cr_assert_eq(r.count, 1);
  assert_usable(&r.items[0]);
  cr_assert_str_eq(r.items[0].crm_id, expect);
  assert_prop(&r.items[0], "MobilePhone", "");
  assert_prop(&r.items[0], "Phone", "+44 20 7946 0958");
  fastepost__records_free(&r);
  /* And it verifies with config.json's section. */
  char *cfg = fixture("config.json", NULL);
  json_object *o = json_tokener_parse(cfg);
  void *c = NULL;
  cr_assert_eq(A->config_new(&c, fastepost__json_get(o, "salesforce")), FASTEPOST_OK);
  cr_assert_eq(verify_body(c, body, len), FASTEPOST_OK);
  A->config_free(c);
  json_object_put(o);
  free(cfg);
  free(expect);
  free(body);
}

/* ---- parsing variants ----------------------------------------------------------------------- */

Test(salesforce_parse, prefixes_vary_the_records_do_not) {
  const char *fields = "<sf:Id>003000000000001AAA</sf:Id><sf:FirstName>Ada</sf:FirstName>"
                       "<sf:LastName>Lovelace</sf:LastName><sf:SystemModstamp>2025-11-27T10:15:00Z</sf:SystemModstamp>";
  fastepost__buf b = FASTEPOST__BUF_INIT;
  notification(&b, "04l000000000001AAA", "Contact", fields);
  char *plain = envelope("00D000000000001", fastepost__buf_cstr(&b));
  /* The same message with other prefixes: s: for SOAP, a default namespace for the sObject
   * fields, ns1: for the outbound namespace, xsi as "i". */
  const char *other =
      "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
      "xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><s:Body>"
      "<ns1:notifications xmlns:ns1=\"http://soap.sforce.com/2005/09/outbound\">"
      "<ns1:OrganizationId>00D000000000001</ns1:OrganizationId>"
      "<ns1:Notification><ns1:Id>04l000000000001AAA</ns1:Id>"
      "<ns1:sObject i:type=\"sf1:Contact\" xmlns=\"urn:sobject.enterprise.soap.sforce.com\">"
      "<Id>003000000000001AAA</Id><FirstName>Ada</FirstName><LastName>Lovelace</LastName>"
      "<SystemModstamp>2025-11-27T10:15:00Z</SystemModstamp></ns1:sObject></ns1:Notification>"
      "</ns1:notifications></s:Body></s:Envelope>";
  fastepost__records r1 = parse_ok(plain), r2 = parse_ok(other);
  cr_assert_eq(r1.count, 1);
  cr_assert_eq(r2.count, 1);
  assert_usable(&r1.items[0]);
  assert_usable(&r2.items[0]);
  cr_assert_str_eq(r1.items[0].crm_id, r2.items[0].crm_id);
  cr_assert_str_eq(r1.items[0].version, r2.items[0].version);
  cr_assert_str_eq(r1.items[0].idempotency_key, r2.items[0].idempotency_key);
  assert_prop(&r2.items[0], "LastName", "Lovelace");
  fastepost__records_free(&r1);
  fastepost__records_free(&r2);
  /* A 15-character record id is the same record as its 18-character form. */
  fastepost__buf_clear(&b);
  notification(&b, "04l000000000001", "Contact",
               "<sf:Id>003000000000001</sf:Id><sf:LastName>L</sf:LastName>"
               "<sf:SystemModstamp>2025-11-27T10:15:00Z</sf:SystemModstamp>");
  char *short_ids = envelope("00D000000000001", fastepost__buf_cstr(&b));
  r1 = parse_ok(short_ids);
  cr_assert_str_eq(r1.items[0].crm_id, "Contact:003000000000001AAA");
  fastepost__records_free(&r1);
  free(short_ids);
  free(plain);
  fastepost__buf_free(&b);
}

Test(salesforce_parse, is_deleted_is_a_tombstone) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  notification(&b, "04l000000000001AAA", "Contact",
               "<sf:Id>003000000000001AAA</sf:Id><sf:IsDeleted>true</sf:IsDeleted>"
               "<sf:SystemModstamp>2025-11-27T10:15:00Z</sf:SystemModstamp>");
  notification(&b, "04l000000000002AAA", "Contact",
               "<sf:Id>003000000000002AAA</sf:Id><sf:IsDeleted xsi:nil=\"true\"/><sf:LastName>X</sf:LastName>"
               "<sf:SystemModstamp>2025-11-27T10:15:00Z</sf:SystemModstamp>");
  notification(&b, "04l000000000003AAA", "Contact",
               "<sf:Id>003000000000003AAA</sf:Id><sf:IsDeleted>maybe</sf:IsDeleted>"
               "<sf:SystemModstamp>2025-11-27T10:15:00Z</sf:SystemModstamp>");
  char *msg = envelope("00D000000000001", fastepost__buf_cstr(&b));
  fastepost__records r = parse_ok(msg);
  cr_assert_eq(r.count, 3);
  assert_usable(&r.items[0]);
  cr_assert(r.items[0].tombstone);
  cr_assert_eq(r.items[0].facts.active, 0);
  cr_assert_not(r.items[1].tombstone);
  assert_usable(&r.items[1]);
  assert_failed(&r.items[2], "IsDeleted is not a boolean");
  fastepost__records_free(&r);
  free(msg);
  fastepost__buf_free(&b);
}

Test(salesforce_parse, one_bad_notification_among_good_ones) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  const char *good = "<sf:Id>003000000000001AAA</sf:Id><sf:LastName>Good</sf:LastName>"
                     "<sf:SystemModstamp>2025-11-27T10:15:00Z</sf:SystemModstamp>";
  notification(&b, "04l000000000001AAA", "Contact", good);
  fastepost__buf_puts(&b, "<Notification><sObject xsi:type=\"sf:Contact\" xmlns:sf=\"urn:x\">"
                          "<sf:Id>003000000000002AAA</sf:Id></sObject></Notification>"); /* no Id */
  fastepost__buf_puts(&b, "<Notification><Id>04l000000000003AAA</Id></Notification>");   /* no sObject */
  fastepost__buf_puts(&b, "<Notification><Id>04l000000000004AAA</Id><sObject xmlns:sf=\"urn:x\">"
                          "<sf:Id>003000000000002AAA</sf:Id></sObject></Notification>"); /* no type */
  notification(&b, "04l000000000005AAA", "Contact",
               "<sf:Id>003000000000002AAA</sf:Id><sf:SystemModstamp>yesterday</sf:SystemModstamp>");
  notification(&b, "04l000000000006AAA", "Contact",
               "<sf:Id>003000000000002AAA</sf:Id><sf:SystemModstamp>2999-01-01T00:00:00Z</sf:SystemModstamp>");
  notification(&b, "04l000000000007AAA", "Contact",
               "<sf:Id>003000000000002AAA</sf:Id><sf:SystemModstamp>1970-01-01T00:00:01Z</sf:SystemModstamp>");
  notification(&b, "04l000000000008AAA", "Contact", "<sf:Id>003000000000002AAA</sf:Id><sf:LastName>X</sf:LastName>");
  notification(&b, "04l00000000000", "Contact", good); /* a 14-character notification id */
  notification(&b, "04l000000000010AAA", "Contact", "<sf:LastName>X</sf:LastName>");
  notification(&b, "04l000000000011AAA", "Account", "<sf:Id>001000000000001AAA</sf:Id><sf:Name>ACME</sf:Name>");
  notification(&b, "04l000000000012AAA", "Contact",
               "<sf:Id>003000000000003AAA</sf:Id><sf:Title>CEO</sf:Title>"
               "<sf:SystemModstamp>2025-11-27T10:15:00Z</sf:SystemModstamp>");
  char *msg = envelope("00D000000000001", fastepost__buf_cstr(&b));
  fastepost__records r = parse_ok(msg);
  cr_assert_eq(r.count, 12);
  assert_usable(&r.items[0]);
  assert_failed(&r.items[1], "no Id");
  assert_failed(&r.items[2], "no sObject");
  assert_failed(&r.items[3], "no xsi:type");
  assert_failed(&r.items[4], "SystemModstamp \"yesterday\" is not a dateTime");
  assert_failed(&r.items[5], "SystemModstamp");
  assert_failed(&r.items[6], "SystemModstamp");
  assert_failed(&r.items[7], "no SystemModstamp, LastModifiedDate or CreatedDate");
  assert_failed(&r.items[8], "the notification's Id is not a Salesforce id");
  assert_failed(&r.items[9], "the notification's sObject has no Id");
  cr_assert_eq(r.items[10].failure, 0);
  cr_assert(strstr(r.items[10].ignore_reason, "Account notifications are not synced"));
  cr_assert_str_eq(r.items[10].external_id, "Account:001000000000001AAA");
  cr_assert(strstr(r.items[11].ignore_reason, "carries no synced field"), "%s", r.items[11].ignore_reason);
  for (size_t i = 0; i < r.count; i++)
    cr_assert_eq(r.items[i].failure == 0 || r.items[i].failure == FASTEPOST_EINVALID, true);
  fastepost__records_free(&r);
  free(msg);
  fastepost__buf_free(&b);
}

Test(salesforce_parse, at_most_100_notifications) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  for (int i = 0; i < 101; i++) {
    char nid[32], fields[256];
    snprintf(nid, sizeof nid, "04l%012d", i + 1);
    snprintf(fields, sizeof fields,
             "<sf:Id>003%012d</sf:Id><sf:LastName>N%d</sf:LastName>"
             "<sf:SystemModstamp>2025-11-27T10:15:00Z</sf:SystemModstamp>", i + 1, i);
    notification(&b, nid, "Contact", fields);
    if (i == 99) {
      char *msg = envelope("00D000000000001", fastepost__buf_cstr(&b));
      fastepost__records r = parse_ok(msg);
      cr_assert_eq(r.count, 100);
      for (size_t k = 0; k < r.count; k++)
        assert_usable(&r.items[k]);
      fastepost__records_free(&r);
      free(msg);
    }
  }
  char *msg = envelope("00D000000000001", fastepost__buf_cstr(&b));
  fastepost__records r = parse_rc(msg, strlen(msg), FASTEPOST_EINVALID);
  cr_assert_eq(r.count, 0);
  assert_message("carries 101 notifications; at most 100");
  free(msg);
  fastepost__buf_free(&b);
}

Test(salesforce_parse, first_of_duplicate_fields_wins_everywhere) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  notification(&b, "04l000000000001AAA", "Contact",
               "<sf:Id>003000000000001AAA</sf:Id><sf:LastName>First</sf:LastName><sf:LastName>Second</sf:LastName>"
               "<sf:SystemModstamp>2025-11-27T10:15:00Z</sf:SystemModstamp>");
  char *msg = envelope("00D000000000001", fastepost__buf_cstr(&b));
  fastepost__records r = parse_ok(msg);
  assert_prop(&r.items[0], "LastName", "First");
  cr_assert(strstr(r.items[0].payload, "\"LastName\":\"First\""), "%s", r.items[0].payload);
  cr_assert_null(strstr(r.items[0].payload, "Second"));
  fastepost__records_free(&r);
  free(msg);
  fastepost__buf_free(&b);
}

/* ---- retry and replay ----------------------------------------------------------------------- */

Test(salesforce_retry, stored_payload_gives_the_same_record) {
  size_t len;
  char *body = fixture("lead_nil_session.xml", &len);
  fastepost__records r = parse_rc(body, len, FASTEPOST_OK);
  const fastepost__sync_record *a = &r.items[0];
  fastepost__sync_record again;
  fastepost__sync_record_init(&again, "salesforce");
  cr_assert_eq(A->reprocess(&again, NULL, a->payload, a->event_type, SERVER), FASTEPOST_OK);
  assert_usable(&again);
  cr_assert_str_eq(again.crm_id, a->crm_id);
  cr_assert_str_eq(again.version, a->version);
  cr_assert_str_eq(again.idempotency_key, a->idempotency_key);
  cr_assert_str_eq(again.payload, a->payload);
  cr_assert_str_eq(again.note_body, a->note_body);
  for (size_t i = 0; i < a->nprops; i++) {
    cr_assert_eq(again.props[i].state, a->props[i].state, "%s", a->prop_defs[i].name);
    if (a->props[i].state == FASTEPOST__FACT_VALUE)
      cr_assert_str_eq(again.props[i].value, a->props[i].value);
  }
  fastepost__sync_record_clear(&again);
  /* Not the stored form: a failed record for the core to log, not a crash. */
  fastepost__sync_record_init(&again, "salesforce");
  cr_assert_eq(A->reprocess(&again, NULL, "{\"fields\": 3}", "Lead", SERVER), FASTEPOST_OK);
  cr_assert_eq(again.failure, FASTEPOST_EPARSE);
  fastepost__sync_record_clear(&again);
  fastepost__sync_record_init(&again, "salesforce");
  cr_assert_eq(A->reprocess(&again, NULL, NULL, "Lead", SERVER), FASTEPOST_OK);
  cr_assert_neq(again.failure, 0);
  fastepost__sync_record_clear(&again);
  fastepost__records_free(&r);
  free(body);
}

Test(salesforce_retry, replay_has_no_time_range) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  notification(&b, "04l000000000001AAA", "Contact",
               "<sf:Id>003000000000001AAA</sf:Id><sf:LastName>Old</sf:LastName>"
               "<sf:SystemModstamp>1999-12-31T23:59:59Z</sf:SystemModstamp>");
  char *msg = envelope("00D000000000001", fastepost__buf_cstr(&b));
  fastepost__records r = parse_ok(msg);
  assert_failed(&r.items[0], "SystemModstamp");
  fastepost__records_free(&r);
  cr_assert_eq(A->replay(&r, NULL, msg, strlen(msg), "", "text/xml; charset=utf-8", SERVER), FASTEPOST_OK);
  cr_assert_eq(r.count, 1);
  assert_usable(&r.items[0]);
  cr_assert_str_eq(r.items[0].version, "1999-12-31 23:59:59.000000");
  fastepost__records_free(&r);
  cr_assert_eq(A->replay(&r, NULL, "<x", 2, "", "", SERVER), FASTEPOST_EPARSE);
  free(msg);
  fastepost__buf_free(&b);
}

/* ---- hostile XML ---------------------------------------------------------------------------- */

static void refused(const char *body, int want, const char *needle) {
  void *c = config("{\"organization_ids\": [\"00D000000000001\"]}");
  cr_assert_eq(verify_body(c, body, strlen(body)), want, "verify: %s", fastepost_error_last()->message);
  if (needle)
    assert_message(needle);
  A->config_free(c);
  fastepost__records r = parse_rc(body, strlen(body), want);
  cr_assert_eq(r.count, 0);
}

/* A message with a prologue before its envelope and an entity used in a field. */
static char *with_prologue(const char *prologue, const char *field) {
  fastepost__buf n = FASTEPOST__BUF_INIT;
  char fields[512];
  snprintf(fields, sizeof fields, "<sf:Id>003000000000001AAA</sf:Id><sf:LastName>%s</sf:LastName>", field);
  notification(&n, "04l000000000001AAA", "Contact", fields);
  char *msg = envelope("00D000000000001", fastepost__buf_cstr(&n));
  fastepost__buf_free(&n);
  char *decl_end = strstr(msg, "?>") + 2;
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_append(&b, msg, (size_t)(decl_end - msg));
  fastepost__buf_printf(&b, "\n%s%s", prologue, decl_end);
  free(msg);
  return fastepost__buf_detach(&b);
}

Test(salesforce_xml, billion_laughs_is_refused_at_the_doctype) {
  char *msg = with_prologue("<!DOCTYPE soapenv:Envelope [\n"
                            " <!ENTITY lol \"lol\">\n"
                            " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
                            " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
                            " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
                            " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
                            " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
                            " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
                            " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
                            " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
                            " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
                            "]>\n",
                            "&lol9;");
  refused(msg, FASTEPOST_EPARSE, "a DOCTYPE (DTD) is not accepted (line 2)");
  free(msg);
}

Test(salesforce_xml, external_file_entity_is_refused_and_not_read) {
  char *msg = with_prologue("<!DOCTYPE x [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n", "&xxe;");
  refused(msg, FASTEPOST_EPARSE, "DOCTYPE");
  cr_assert_null(strstr(fastepost_error_last()->message, "root:"));
  free(msg);
  /* A parameter entity pulling an external DTD. */
  msg = with_prologue("<!DOCTYPE x [ <!ENTITY % ext SYSTEM \"file:///etc/passwd\"> %ext; ]>\n", "x");
  refused(msg, FASTEPOST_EPARSE, "DOCTYPE");
  free(msg);
  /* An entity reference without any declaration. */
  msg = with_prologue("", "&xxe;");
  refused(msg, FASTEPOST_EPARSE, "entity references are not accepted");
  free(msg);
}

/* A listening socket on 127.0.0.1 (non-blocking); its port in *port. */
static int listener(int *port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert(s >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(listen(s, 4), 0);
  socklen_t alen = sizeof a;
  cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &alen), 0);
  *port = ntohs(a.sin_port);
  fcntl(s, F_SETFL, O_NONBLOCK);
  return s;
}

Test(salesforce_xml, http_entity_and_external_dtd_are_refused_and_not_fetched) {
  int port;
  int s = listener(&port);
  char prologue[256];
  snprintf(prologue, sizeof prologue, "<!DOCTYPE x [ <!ENTITY xxe SYSTEM \"http://127.0.0.1:%d/x\"> ]>\n", port);
  char *msg = with_prologue(prologue, "&xxe;");
  refused(msg, FASTEPOST_EPARSE, "DOCTYPE");
  free(msg);
  snprintf(prologue, sizeof prologue, "<!DOCTYPE x SYSTEM \"http://127.0.0.1:%d/x.dtd\">\n", port);
  msg = with_prologue(prologue, "x");
  refused(msg, FASTEPOST_EPARSE, "DOCTYPE");
  free(msg);
  /* Nobody connected. */
  int c = accept(s, NULL, NULL);
  cr_assert_eq(c, -1, "the parser connected to the entity's URL");
  cr_assert(errno == EAGAIN || errno == EWOULDBLOCK);
  close(s);
}

Test(salesforce_xml, doctype_without_entities_is_refused_too) {
  char *msg = with_prologue("<!DOCTYPE soapenv:Envelope>\n", "x");
  refused(msg, FASTEPOST_EPARSE, "DOCTYPE");
  free(msg);
}

Test(salesforce_xml, huge_and_deep_bodies) {
  /* Over the limit: refused before parsing (413). */
  size_t big = FASTEPOST__SF_MAX_BODY + 1;
  char *huge = malloc(big + 1);
  memset(huge, ' ', big);
  memcpy(huge, "<a>", 3);
  huge[big] = '\0';
  void *c = config("{\"organization_ids\": [\"00D000000000001\"]}");
  cr_assert_eq(verify_body(c, huge, big), FASTEPOST_ETOOBIG);
  fastepost__records r = parse_rc(huge, big, FASTEPOST_ETOOBIG);
  free(huge);
  /* Nested deeper than the limit: stopped while parsing. */
  fastepost__buf b = FASTEPOST__BUF_INIT;
  for (int i = 0; i < 40; i++)
    fastepost__buf_puts(&b, "<a>");
  for (int i = 0; i < 40; i++)
    fastepost__buf_puts(&b, "</a>");
  cr_assert_eq(verify_body(c, fastepost__buf_cstr(&b), b.len), FASTEPOST_EPARSE);
  assert_message("nested too deeply");
  fastepost__buf_clear(&b);
  for (int i = 0; i < 100000; i++)
    fastepost__buf_puts(&b, "<a>");
  r = parse_rc(fastepost__buf_cstr(&b), b.len, FASTEPOST_EPARSE);
  (void)r;
  /* Deep inside a real message (a field holding nested elements). */
  fastepost__buf_clear(&b);
  fastepost__buf f = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&f, "<sf:Id>003000000000001AAA</sf:Id><sf:LastName>");
  for (int i = 0; i < 30; i++)
    fastepost__buf_puts(&f, "<x>");
  for (int i = 0; i < 30; i++)
    fastepost__buf_puts(&f, "</x>");
  fastepost__buf_puts(&f, "</sf:LastName>");
  notification(&b, "04l000000000001AAA", "Contact", fastepost__buf_cstr(&f));
  char *msg = envelope("00D000000000001", fastepost__buf_cstr(&b));
  cr_assert_eq(verify_body(c, msg, strlen(msg)), FASTEPOST_EPARSE);
  assert_message("nested too deeply");
  free(msg);
  fastepost__buf_free(&f);
  fastepost__buf_free(&b);
  A->config_free(c);
}

Test(salesforce_xml, invalid_utf8_nul_and_other_encodings) {
  char *msg = envelope("00D000000000001", "");
  char *p = strstr(msg, "<SessionId");
  size_t off = (size_t)(p - msg);
  p[0] = '\xff';
  refused(msg, FASTEPOST_EPARSE, "not valid UTF-8");
  char where[64];
  snprintf(where, sizeof where, "byte offset %zu", off);
  assert_message(where);
  free(msg);
  /* A NUL byte inside. */
  msg = envelope("00D000000000001", "");
  size_t len = strlen(msg);
  msg[len - 5] = '\0';
  void *c = config("{\"organization_ids\": [\"00D000000000001\"]}");
  cr_assert_eq(verify_body(c, msg, len), FASTEPOST_EPARSE);
  assert_message("NUL byte");
  free(msg);
  /* UTF-16 (its byte order mark is no UTF-8). */
  const char utf16[] = "\xff\xfe<\0a\0/\0>\0";
  cr_assert_eq(verify_body(c, utf16, sizeof utf16 - 1), FASTEPOST_EPARSE);
  /* A declared Latin-1 encoding does not reinterpret UTF-8 text. */
  fastepost__buf b = FASTEPOST__BUF_INIT;
  notification(&b, "04l000000000001AAA", "Contact",
               "<sf:Id>003000000000001AAA</sf:Id><sf:LastName>M\xc3\xbcller</sf:LastName>"
               "<sf:SystemModstamp>2025-11-27T10:15:00Z</sf:SystemModstamp>");
  msg = envelope("00D000000000001", fastepost__buf_cstr(&b));
  memcpy(strstr(msg, "UTF-8"), "latin", 5);
  fastepost__records r = parse_ok(msg);
  assert_prop(&r.items[0], "LastName", "M\xc3\xbcller");
  fastepost__records_free(&r);
  free(msg);
  fastepost__buf_free(&b);
  A->config_free(c);
}

static int host_errors;
static void host_error_handler(void *ctx, xmlErrorPtr err) {
  (void)ctx;
  (void)err;
  host_errors++;
}

Test(salesforce_xml, host_libxml2_error_handler_is_left_alone) {
  /* A host that uses libxml2 itself keeps its handler, and hears nothing of our parsing. */
  xmlSetStructuredErrorFunc(NULL, host_error_handler);
  xmlDoc *doc = NULL;
  cr_assert_eq(fastepost__xml_parse(&doc, "<a><b></a>", 10, 1024, 0, "the test"), FASTEPOST_EPARSE);
  assert_message("the test is not well-formed XML");
  assert_message("line 1");
  cr_assert_null(doc);
  cr_assert_eq(fastepost__xml_parse(&doc, "<!DOCTYPE a><a/>", 16, 1024, 0, "the test"), FASTEPOST_EPARSE);
  cr_assert_eq(host_errors, 0);
  const char *ok = "<a x='1'><b xsi:nil='true' xmlns:xsi='u'/>t&amp;t</a>";
  cr_assert_eq(fastepost__xml_parse(&doc, ok, strlen(ok), 1024, 0, "t"), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  xmlNode *root = xmlDocGetRootElement(doc);
  cr_assert(fastepost__xml_is(root, "a"));
  cr_assert(fastepost__xml_nil(fastepost__xml_child(root, "b")));
  cr_assert_not(fastepost__xml_nil(root));
  char *t = fastepost__xml_text(root);
  cr_assert_str_eq(t, "t&t");
  free(t);
  t = fastepost__xml_attr(root, "x", NULL);
  cr_assert_str_eq(t, "1");
  free(t);
  fastepost__xml_free(doc);
  xmlSetStructuredErrorFunc(NULL, NULL);
}

/* ---- the answers ---------------------------------------------------------------------------- */

static fastepost__response answer(int rc, bool spooled) {
  fastepost__response resp = {0};
  cr_assert_eq(A->respond(&resp, NULL, NULL, rc, spooled), FASTEPOST_OK);
  cr_assert_str_eq(resp.content_type, "text/xml; charset=utf-8");
  return resp;
}

Test(salesforce_respond, ack_is_salesforces_own_bytes) {
  size_t len;
  char *ack = fixture("ack.xml", &len);
  for (int spooled = 0; spooled < 2; spooled++) {
    fastepost__response resp = answer(FASTEPOST_OK, spooled);
    cr_assert_eq(resp.http_status, 200);
    cr_assert_eq(resp.len, len);
    cr_assert_eq(memcmp(resp.body, ack, len), 0, "%s", resp.body);
    /* Well-formed, and what a SOAP client reads: notificationsResponse/Ack = true. */
    xmlDoc *doc = NULL;
    cr_assert_eq(fastepost__xml_parse(&doc, resp.body, resp.len, 4096, 0, "ack"), FASTEPOST_OK);
    xmlNode *r = fastepost__xml_child(fastepost__xml_child(xmlDocGetRootElement(doc), "Body"), "notificationsResponse");
    cr_assert_str_eq((const char *)r->ns->href, "http://soap.sforce.com/2005/09/outbound");
    char *t = fastepost__xml_text(fastepost__xml_child(r, "Ack"));
    cr_assert_str_eq(t, "true");
    free(t);
    fastepost__xml_free(doc);
    fastepost__response_clear(&resp);
  }
  free(ack);
}

Test(salesforce_respond, faults_by_code_without_leaking_messages) {
  struct {
    int rc, status;
    const char *code;
  } cases[] = {
      {FASTEPOST_EAUTH, 400, "soapenv:Client"},   {FASTEPOST_ENOKEY, 401, "soapenv:Client"},
      {FASTEPOST_EPARSE, 400, "soapenv:Client"},  {FASTEPOST_EINVALID, 400, "soapenv:Client"},
      {FASTEPOST_ETOOBIG, 413, "soapenv:Client"}, {FASTEPOST_EDB, 500, "soapenv:Server"},
      {FASTEPOST_ECONN, 500, "soapenv:Server"},   {FASTEPOST_EBUSY, 500, "soapenv:Server"},
      {FASTEPOST_EREADONLY, 500, "soapenv:Server"}, {FASTEPOST_ENOMEM, 500, "soapenv:Server"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    /* What the database said is in the thread's error; none of it goes out. */
    fastepost__error_set(cases[i].rc, "relation \"customers\" does not exist at host db.internal");
    fastepost__response resp = answer(cases[i].rc, false);
    cr_assert_eq(resp.http_status, cases[i].status, "%s", fastepost_error_name(cases[i].rc));
    cr_assert(strstr(resp.body, cases[i].code), "%s", resp.body);
    cr_assert_null(strstr(resp.body, "Ack"));
    cr_assert_null(strstr(resp.body, "customers"));
    cr_assert_null(strstr(resp.body, "db.internal"));
    xmlDoc *doc = NULL;
    cr_assert_eq(fastepost__xml_parse(&doc, resp.body, resp.len, 4096, 0, "fault"), FASTEPOST_OK);
    xmlNode *f = fastepost__xml_child(fastepost__xml_child(xmlDocGetRootElement(doc), "Body"), "Fault");
    cr_assert_not_null(f);
    cr_assert_str_eq((const char *)f->ns->href, "http://schemas.xmlsoap.org/soap/envelope/");
    cr_assert_not_null(fastepost__xml_child(f, "faultcode"));
    char *s = fastepost__xml_text(fastepost__xml_child(f, "faultstring"));
    cr_assert(strlen(s) > 10);
    free(s);
    fastepost__xml_free(doc);
    fastepost__response_clear(&resp);
  }
}
