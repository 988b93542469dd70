/* SPDX-License-Identifier: MIT */
/*
 * HubSpot signature verification and batch parsing (no database).
 *
 * Vectors: v1/v2 and one v3 are HubSpot's own (HubSpot/hubspot-api-python
 * tests/spec/utils/test_signature.py, the same secret and body as the validating-requests docs).
 * The other v3 vectors were computed independently with OpenSSL's command line, e.g.
 *   printf '%s' 'POSThttps://example.com/api/v1/integrations/hubspot[]1764270000000' |
 *     openssl dgst -sha256 -hmac new-secret -binary | base64
 * (the string signed is method + decoded URI + body + timestamp, shown next to each constant).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/hubspot_parse.h"
#include "internal.h"
#include "hubspot_request.h"

#define SDK_SECRET "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
#define SDK_BODY "{'example_field':'example_value'}"
#define SDK_URL "https://www.example.com/webhook_uri"

#define SECRET "fastepost-test-secret"
#define URL "https://example.com/api/v1/integrations/hubspot"
#define TS "1764270000000"
#define TS_MS 1764270000000LL

static fastepost_hubspot_verifier *verifier(int64_t now_ms, const char *secret) {
  fastepost_hubspot_verifier *v = NULL;
  cr_assert_eq(fastepost_hubspot_verifier_new(&v), FASTEPOST_OK);
  if (secret)
    cr_assert_eq(fastepost_hubspot_verifier_add_secret(v, secret), FASTEPOST_OK);
  fastepost_hubspot_verifier_set_now(v, (now_ms) * 1000);
  return v;
}

static int verify3(const fastepost_hubspot_verifier *v, const char *uri, const char *ts,
                   const char *sig, const char *body) {
  return fptest_hs_verify(NULL, v, "v3", "POST", uri, ts, sig, body, strlen(body));
}

static void assert_message(const char *needle) {
  const char *m = fastepost_error_last()->message;
  cr_assert(strstr(m, needle), "message '%s' lacks '%s'", m, needle);
}

Test(hubspot_sig, sdk_vectors_v1_v2_v3) {
  fastepost_hubspot_verifier *v = verifier(15000000, SDK_SECRET);
  cr_assert_eq(fastepost_hubspot_verifier_set_versions(
                   v, FASTEPOST_HUBSPOT_VERSION_V1 | FASTEPOST_HUBSPOT_VERSION_V2 | FASTEPOST_HUBSPOT_VERSION_V3),
               FASTEPOST_OK);
  const char *body = SDK_BODY;
  cr_assert_eq(fptest_hs_verify(NULL, v, "v1", NULL, NULL, NULL,
                                        "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750",
                                        body, strlen(body)),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  /* Hex in upper case is the same digest. */
  cr_assert_eq(fptest_hs_verify(NULL, v, "v1", NULL, NULL, NULL,
                                        "69FC6631A867EDD4F9E9E627FC5C1148E3FBDD8B21837B6D2B8901C1FA57F750",
                                        body, strlen(body)),
               FASTEPOST_OK);
  cr_assert_eq(fptest_hs_verify(NULL, v, "v2", "POST", SDK_URL, NULL,
                                        "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383",
                                        body, strlen(body)),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  /* v2 GET without a body. */
  cr_assert_eq(fptest_hs_verify(NULL, v, "v2", "GET", SDK_URL, NULL,
                                        "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e",
                                        NULL, 0),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fptest_hs_verify(NULL, v, "v3", "POST", SDK_URL, "15000000",
                                        "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=", body,
                                        strlen(body)),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  /* Signing reproduces the same values. */
  char *sig = NULL;
  cr_assert_eq(fptest_hs_sign(&sig, FASTEPOST_HUBSPOT_VERSION_V3, SDK_SECRET, "POST", SDK_URL,
                                      "15000000", body, strlen(body)),
               FASTEPOST_OK);
  cr_assert_str_eq(sig, "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=");
  fastepost_free(sig);
  cr_assert_eq(fptest_hs_sign(&sig, FASTEPOST_HUBSPOT_VERSION_V2, SDK_SECRET, "POST", SDK_URL, NULL,
                                      body, strlen(body)),
               FASTEPOST_OK);
  cr_assert_str_eq(sig, "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383");
  fastepost_free(sig);
  fastepost_hubspot_verifier_free(v);
}

Test(hubspot_sig, v1_v2_refused_unless_enabled) {
  fastepost_hubspot_verifier *v = verifier(15000000, SDK_SECRET);
  const char *body = SDK_BODY;
  cr_assert_eq(fptest_hs_verify(NULL, v, "v1", NULL, NULL, NULL,
                                        "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750",
                                        body, strlen(body)),
               FASTEPOST_EAUTH);
  assert_message("v1 signatures are not accepted");
  cr_assert_eq(fastepost_hubspot_verifier_set_versions(v, FASTEPOST_HUBSPOT_VERSION_V2), FASTEPOST_OK);
  cr_assert_eq(fptest_hs_verify(NULL, v, "v3", "POST", SDK_URL, "15000000",
                                        "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=", body,
                                        strlen(body)),
               FASTEPOST_EAUTH, "v3 switched off");
  cr_assert_eq(fptest_hs_verify(NULL, v, "v4", "POST", SDK_URL, "1", "x", body, 1),
               FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_hubspot_verifier_set_versions(v, 0), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_hubspot_verifier_set_versions(v, 8), FASTEPOST_EINVALID);
  fastepost_hubspot_verifier_free(v);
}

Test(hubspot_sig, percent_encoded_uri_is_decoded_by_the_table) {
  /* Signed: 'POSThttps://example.com/api/v1/integrations/hubspot?x?a=:/%20b&c=@'(*),;!$%3D'
   *         + '[{"eventId":1}]' + TS, with secret SECRET. %20 and %3D stay encoded. */
  const char *uri = URL "%3fx?a=%3A%2F%20b&c=%40%27%28%2a%29%2C%3b%21%24%3D";
  fastepost_hubspot_verifier *v = verifier(TS_MS, SECRET);
  cr_assert_eq(verify3(v, uri, TS, "RenmvEuCqON3rowunyohIwb1yn5wSKyeYXTEtBOurPY=", "[{\"eventId\":1}]"),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  /* The same URL fully decoded is a different string: no match. */
  cr_assert_eq(verify3(v, URL "?x?a=:/ b&c=@'(*),;!$=", TS,
                       "RenmvEuCqON3rowunyohIwb1yn5wSKyeYXTEtBOurPY=", "[{\"eventId\":1}]"),
               FASTEPOST_EAUTH);
  char *d = NULL;
  cr_assert_eq(fastepost_hubspot_decode_uri(&d, "/a%2f%2F%25%3d%zz%3"), FASTEPOST_OK);
  cr_assert_str_eq(d, "/a//%25%3d%zz%3");
  fastepost_free(d);
  fastepost_hubspot_verifier_free(v);
}

Test(hubspot_sig, unicode_body_and_tampering) {
  /* Signed: 'POST' URL '[{"objectId":1,"propertyValue":"Müller – 東京 🚀"}]' TS (UTF-8 bytes). */
  const char *body = "[{\"objectId\":1,\"propertyValue\":\"M\xc3\xbcller \xe2\x80\x93 "
                     "\xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x9a\x80\"}]";
  const char *sig = "Iit58FngAYfhm8SQxOUdvRD/7E6KCd0veGIgwwYVoqE=";
  fastepost_hubspot_verifier *v = verifier(TS_MS, SECRET);
  cr_assert_eq(verify3(v, URL, TS, sig, body), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  /* One changed byte in the body, the method, the URI or the timestamp. */
  char *tampered = strdup(body);
  tampered[14] = '2';
  cr_assert_eq(verify3(v, URL, TS, sig, tampered), FASTEPOST_EAUTH);
  assert_message("mismatch");
  cr_assert_eq(fptest_hs_verify(NULL, v, "v3", "PUT", URL, TS, sig, body, strlen(body)),
               FASTEPOST_EAUTH);
  cr_assert_eq(verify3(v, URL "/", TS, sig, body), FASTEPOST_EAUTH);
  cr_assert_eq(verify3(v, URL, "1764270000001", sig, body), FASTEPOST_EAUTH);
  /* A truncated body (the length decides, not a NUL). */
  cr_assert_eq(fptest_hs_verify(NULL, v, "v3", "POST", URL, TS, sig, body, strlen(body) - 1),
               FASTEPOST_EAUTH);
  /* A "+" turned into a space by some proxy layer is not forgiven. */
  cr_assert_eq(verify3(v, URL, TS, "Iit58FngAYfhm8SQxOUdvRD/7E6KCd0veGIgwwYVoqE", body),
               FASTEPOST_EAUTH);
  cr_assert_eq(verify3(v, URL, TS, "x", body), FASTEPOST_EAUTH);
  free(tampered);
  fastepost_hubspot_verifier_free(v);
}

Test(hubspot_sig, stale_and_future_timestamps) {
  /* Signed: 'POST' URL '[]' TS with "new-secret". */
  const char *sig = "aNuHLlI5QxS/U+zRIzRloIiAeUHPOI1/FDGz+jL7G7g=";
  fastepost_hubspot_verifier *v = verifier(TS_MS + 300000, "new-secret");
  cr_assert_eq(verify3(v, URL, TS, sig, "[]"), FASTEPOST_OK, "exactly 5 minutes old is accepted");
  fastepost_hubspot_verifier_set_now(v, (TS_MS + 300001) * 1000);
  cr_assert_eq(verify3(v, URL, TS, sig, "[]"), FASTEPOST_EAUTH);
  assert_message("stale timestamp");
  fastepost_hubspot_verifier_set_now(v, (TS_MS - 300000) * 1000);
  cr_assert_eq(verify3(v, URL, TS, sig, "[]"), FASTEPOST_OK, "exactly 5 minutes ahead is accepted");
  fastepost_hubspot_verifier_set_now(v, (TS_MS - 300001) * 1000);
  cr_assert_eq(verify3(v, URL, TS, sig, "[]"), FASTEPOST_EAUTH);
  assert_message("future timestamp");
  /* A wider window. */
  cr_assert_eq(fastepost_hubspot_verifier_set_tolerance(v, INT64_C(600000) * 1000), FASTEPOST_OK);
  cr_assert_eq(verify3(v, URL, TS, sig, "[]"), FASTEPOST_OK);
  cr_assert_eq(fastepost_hubspot_verifier_set_tolerance(v, 999), FASTEPOST_EINVALID, "under 1 ms");
  cr_assert_eq(fastepost_hubspot_verifier_set_tolerance(v, INT64_C(86400000001) * 1000), FASTEPOST_EINVALID);
  /* 0: the default window (5 minutes) again, so the 300001 ms old request is stale once more. */
  cr_assert_eq(fastepost_hubspot_verifier_set_tolerance(v, 0), FASTEPOST_OK);
  cr_assert_eq(verify3(v, URL, TS, sig, "[]"), FASTEPOST_EAUTH);
  cr_assert_eq(fastepost_hubspot_verifier_set_tolerance(v, INT64_C(600000) * 1000), FASTEPOST_OK);
  /* Malformed timestamps: HubSpot sends whole milliseconds only. */
  const char *bad[] = {"1764270000000.0", "-1", " 1764270000000", "17642700000001234567", "abc"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(verify3(v, URL, bad[i], sig, "[]"), FASTEPOST_EAUTH, "%s", bad[i]);
    assert_message("whole number of milliseconds");
  }
  /* The system clock (no fixed now): a 2025 timestamp is long stale. */
  cr_assert_eq(fastepost_hubspot_verifier_set_now(v, 0), FASTEPOST_OK);
  cr_assert_eq(fastepost_hubspot_verifier_set_now(v, -1), FASTEPOST_EINVALID);
  cr_assert_eq(verify3(v, URL, TS, sig, "[]"), FASTEPOST_EAUTH);
  fastepost_hubspot_verifier_free(v);
}

Test(hubspot_sig, wrong_and_rotated_secrets) {
  const char *sig = "aNuHLlI5QxS/U+zRIzRloIiAeUHPOI1/FDGz+jL7G7g=";
  fastepost_hubspot_verifier *v = verifier(TS_MS, "old-secret");
  cr_assert_eq(verify3(v, URL, TS, sig, "[]"), FASTEPOST_EAUTH, "wrong secret");
  assert_message("mismatch");
  const char *m = fastepost_error_last()->message;
  cr_assert_null(strstr(m, "old-secret"), "the secret never appears in messages");
  /* During a rotation both secrets are configured; the index tells which one matched. */
  cr_assert_eq(fastepost_hubspot_verifier_add_secret(v, "new-secret"), FASTEPOST_OK);
  int which = -2;
  cr_assert_eq(fptest_hs_verify(&which, v, NULL, "POST", URL, TS, sig, "[]", 2),
               FASTEPOST_OK);
  cr_assert_eq(which, 1);
  fastepost_hubspot_verifier_clear_secrets(v);
  cr_assert_eq(verify3(v, URL, TS, sig, "[]"), FASTEPOST_ENOKEY, "fail closed without a secret");
  cr_assert_eq(fastepost_hubspot_verifier_add_secret(v, ""), FASTEPOST_EINVALID);
  for (int i = 0; i < FASTEPOST_HUBSPOT_MAX_SECRETS; i++)
    cr_assert_eq(fastepost_hubspot_verifier_add_secret(v, "s"), FASTEPOST_OK);
  cr_assert_eq(fastepost_hubspot_verifier_add_secret(v, "s"), FASTEPOST_ETOOBIG);
  fastepost_hubspot_verifier_free(v);
  fastepost_hubspot_verifier_free(NULL);
}

Test(hubspot_sig, missing_values_and_limits) {
  const char *sig = "aNuHLlI5QxS/U+zRIzRloIiAeUHPOI1/FDGz+jL7G7g=";
  fastepost_hubspot_verifier *v = verifier(TS_MS, "new-secret");
  cr_assert_eq(verify3(v, URL, TS, "", "[]"), FASTEPOST_EAUTH);
  assert_message("missing header value X-HubSpot-Signature-v3");
  cr_assert_eq(fptest_hs_verify(NULL, v, "v3", "POST", URL, NULL, sig, "[]", 2),
               FASTEPOST_EAUTH);
  assert_message("missing header value X-HubSpot-Request-Timestamp");
  cr_assert_eq(fptest_hs_verify(NULL, v, "v3", NULL, URL, TS, sig, "[]", 2), FASTEPOST_EAUTH);
  cr_assert_eq(fptest_hs_verify(NULL, v, "v3", "POST", "", TS, sig, "[]", 2), FASTEPOST_EAUTH);
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_body(req, NULL, 2), FASTEPOST_EINVALID, "a NULL body with a length");
  cr_assert_eq(fastepost_hubspot_verify(NULL, v, NULL), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_hubspot_verify(NULL, v, req), FASTEPOST_EAUTH, "no signature header at all");
  assert_message("missing header value X-HubSpot-Signature-v3");
  fastepost_webhook_request_free(req);
  cr_assert_eq(fptest_hs_verify(NULL, NULL, "v3", "POST", URL, TS, sig, "[]", 2),
               FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_hubspot_verifier_set_max_body(v, 1), FASTEPOST_OK);
  cr_assert_eq(verify3(v, URL, TS, sig, "[]"), FASTEPOST_ETOOBIG);
  fastepost_hubspot_verifier_free(v);
}

/* ---- batch parsing ----------------------------------------------------------------------- */

static const char good_batch[] =
    "[{\"eventId\":100,\"subscriptionId\":200,\"portalId\":300,\"appId\":400,"
    "\"occurredAt\":1764270000000,\"subscriptionType\":\"contact.propertyChange\","
    "\"attemptNumber\":0,\"objectId\":65059681032,\"changeSource\":\"CRM\","
    "\"propertyName\":\"email\",\"propertyValue\":\"a@example.com\"},"
    " {\"eventId\":101,\"portalId\":300,\"appId\":400,\"occurredAt\":1764270000001,"
    "\"eventType\":\"contact.creation\",\"objectId\":7},"
    " {\"eventId\":102,\"portalId\":300,\"occurredAt\":1764270000002,"
    "\"subscriptionType\":\"object.propertyChange\",\"objectTypeId\":\"0-1\",\"objectId\":8,"
    "\"propertyName\":\"city\",\"propertyValue\":null},"
    " {\"subscriptionType\":\"contact.merge\",\"objectId\":9,\"occurredAt\":5,"
    "\"primaryObjectId\":9,\"mergedObjectIds\":[10,11],\"newObjectId\":9}]";

Test(hubspot_parse, good_batch_fields) {
  fastepost__hs_batch b;
  cr_assert_eq(fastepost__hs_parse_batch(&b, good_batch, strlen(good_batch), 0), FASTEPOST_OK,
               "%s", fastepost_error_last()->message);
  cr_assert_eq(b.count, 4);
  cr_assert_eq(b.bad, 0, "%s", b.events[0].error_message ? b.events[0].error_message : "");
  const fastepost__hs_event *e = &b.events[0];
  cr_assert_str_eq(e->type, "contact.propertyChange");
  cr_assert_str_eq(e->object_type, "contact");
  cr_assert_str_eq(e->action, "propertyChange");
  cr_assert(e->object_id.present);
  cr_assert_eq(e->object_id.value, 65059681032LL, "IDs beyond 2^32 are kept");
  cr_assert_eq(e->occurred_at.value, 1764270000000LL);
  cr_assert_eq(e->event_id.value, 100);
  cr_assert_eq(e->subscription_id.value, 200);
  cr_assert_eq(e->portal_id.value, 300);
  cr_assert_eq(e->app_id.value, 400);
  cr_assert(e->attempt_number.present);
  cr_assert_eq(e->attempt_number.value, 0);
  cr_assert_str_eq(e->property_name, "email");
  cr_assert_str_eq(e->property_value, "a@example.com");
  cr_assert_str_eq(e->change_source, "CRM");
  cr_assert(strstr(e->json, "\"objectId\":65059681032"), "%s", e->json);
  e = &b.events[1];
  cr_assert_str_eq(e->type, "contact.creation", "eventType is accepted");
  cr_assert_not(e->subscription_id.present);
  cr_assert_null(e->property_name);
  e = &b.events[2];
  cr_assert_str_eq(e->object_type, "contact", "objectTypeId 0-1 of the generic format");
  cr_assert_str_eq(e->action, "propertyChange");
  cr_assert_null(e->property_value, "null value");
  e = &b.events[3];
  cr_assert_eq(e->merged_count, 2);
  cr_assert_eq(e->merged_object_ids[1], 11);
  cr_assert_eq(e->primary_object_id.value, 9);
  fastepost__hs_batch_free(&b);
  fastepost__hs_batch_free(&b);
}

Test(hubspot_parse, batch_level_errors) {
  fastepost__hs_batch b;
  cr_assert_eq(fastepost__hs_parse_batch(&b, "{\"a\":1}", 7, 0), FASTEPOST_EPARSE);
  cr_assert(strstr(fastepost_error_last()->message, "array"));
  cr_assert_eq(fastepost__hs_parse_batch(&b, "[{\"a\":1}", 8, 0), FASTEPOST_EPARSE);
  cr_assert_eq(fastepost__hs_parse_batch(&b, "[1,,2]", 6, 0), FASTEPOST_EPARSE);
  cr_assert(strstr(fastepost_error_last()->message, "byte"));
  cr_assert_eq(fastepost__hs_parse_batch(&b, "[] x", 4, 0), FASTEPOST_EPARSE);
  cr_assert_eq(fastepost__hs_parse_batch(&b, "[\"\xff\"]", 4, 0), FASTEPOST_EPARSE);
  cr_assert(strstr(fastepost_error_last()->message, "UTF-8 at byte 2"));
  cr_assert_eq(fastepost__hs_parse_batch(&b, "", 0, 0), FASTEPOST_EPARSE);
  cr_assert_eq(fastepost__hs_parse_batch(&b, "[]", 2, 0), FASTEPOST_OK);
  cr_assert_eq(b.count, 0);
  fastepost__hs_batch_free(&b);
}

Test(hubspot_parse, too_many_events) {
  fastepost__buf body = FASTEPOST__BUF_INIT;
  fastepost__buf_putc(&body, '[');
  for (int i = 0; i < 101; i++)
    fastepost__buf_printf(&body, "%s{\"subscriptionType\":\"contact.creation\",\"objectId\":%d,"
                                 "\"occurredAt\":1}",
                          i ? "," : "", i);
  fastepost__buf_putc(&body, ']');
  fastepost__hs_batch b;
  cr_assert_eq(fastepost__hs_parse_batch(&b, body.data, body.len, 0), FASTEPOST_ETOOBIG);
  cr_assert(strstr(fastepost_error_last()->message, "101 events exceeds the limit of 100"));
  cr_assert_eq(b.count, 0);
  cr_assert_eq(fastepost__hs_parse_batch(&b, body.data, body.len, 101), FASTEPOST_OK,
               "the limit is configurable");
  cr_assert_eq(b.count, 101);
  cr_assert_eq(b.bad, 0);
  fastepost__hs_batch_free(&b);
  cr_assert_eq(fastepost__hs_parse_batch(&b, body.data, body.len, 50), FASTEPOST_ETOOBIG);
  fastepost__buf_free(&body);
}

Test(hubspot_parse, bad_events_reported_one_by_one) {
  const char *body =
      "[{\"subscriptionType\":\"contact.creation\",\"objectId\":1,\"occurredAt\":1},"
      " 42,"
      " {\"subscriptionType\":\"contact.creation\",\"occurredAt\":1},"
      " {\"subscriptionType\":\"contact.creation\",\"objectId\":\"1\",\"occurredAt\":1},"
      " {\"subscriptionType\":\"contact.creation\",\"objectId\":1,\"occurredAt\":1.5},"
      " {\"objectId\":1,\"occurredAt\":1},"
      " {\"subscriptionType\":7,\"objectId\":1,\"occurredAt\":1},"
      " {\"subscriptionType\":\"contact.propertyChange\",\"objectId\":1,\"occurredAt\":1,"
      "\"propertyName\":\"email\",\"propertyValue\":5},"
      " {\"subscriptionType\":\"contact.creation\",\"objectId\":-4,\"occurredAt\":1},"
      " {\"subscriptionType\":\"contact.creation\",\"objectId\":99999999999999999999,\"occurredAt\":1},"
      " {\"subscriptionType\":\"contact.merge\",\"objectId\":1,\"occurredAt\":1,"
      "\"mergedObjectIds\":[1,\"x\"]},"
      " {\"subscriptionType\":\"contact.deletion\",\"objectId\":2,\"occurredAt\":2}]";
  const char *expect[] = {NULL,
                          "event 1: must be a JSON object, not int",
                          "event 2: required field objectId is missing",
                          "event 3: objectId must be an integer, not string",
                          "event 4: occurredAt must be an integer, not double",
                          "event 5: required field subscriptionType (or eventType) is missing",
                          "event 6: subscriptionType must be a string, not int",
                          "event 7: propertyValue must be a string, not int",
                          "event 8: objectId is out of range",
                          "event 9: objectId is out of range",
                          "event 10: mergedObjectIds[1] must be an integer ID",
                          NULL};
  fastepost__hs_batch b;
  cr_assert_eq(fastepost__hs_parse_batch(&b, body, strlen(body), 0), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(b.count, 12);
  cr_assert_eq(b.bad, 10);
  for (size_t i = 0; i < b.count; i++) {
    if (!expect[i]) {
      cr_assert_eq(b.events[i].error, FASTEPOST_OK, "event %zu", i);
      continue;
    }
    cr_assert_eq(b.events[i].error, FASTEPOST_EINVALID, "event %zu", i);
    cr_assert(strstr(b.events[i].error_message, expect[i]), "event %zu: '%s'", i,
              b.events[i].error_message);
  }
  cr_assert_eq(b.events[11].object_id.value, 2, "the good events after bad ones are complete");
  fastepost__hs_batch_free(&b);
}

Test(hubspot_parse, dedup_key_ignores_attempt_number) {
  const char *body =
      "[{\"eventId\":1,\"subscriptionId\":2,\"portalId\":3,\"appId\":4,\"occurredAt\":5,"
      "\"subscriptionType\":\"contact.propertyChange\",\"objectId\":6,\"propertyName\":\"email\","
      "\"propertyValue\":\"a\",\"attemptNumber\":0},"
      " {\"eventId\":1,\"subscriptionId\":2,\"portalId\":3,\"appId\":4,\"occurredAt\":5,"
      "\"subscriptionType\":\"contact.propertyChange\",\"objectId\":6,\"propertyName\":\"email\","
      "\"propertyValue\":\"a\",\"attemptNumber\":3,\"changeSource\":\"CRM\"},"
      " {\"eventId\":1,\"subscriptionId\":2,\"portalId\":3,\"appId\":4,\"occurredAt\":5,"
      "\"subscriptionType\":\"contact.propertyChange\",\"objectId\":6,\"propertyName\":\"phone\","
      "\"propertyValue\":\"a\"},"
      " {\"eventId\":1,\"subscriptionId\":2,\"portalId\":3,\"appId\":4,\"occurredAt\":6,"
      "\"subscriptionType\":\"contact.propertyChange\",\"objectId\":6,\"propertyName\":\"email\"},"
      " {\"eventId\":1,\"subscriptionId\":2,\"portalId\":3,\"appId\":5,\"occurredAt\":5,"
      "\"subscriptionType\":\"contact.propertyChange\",\"objectId\":6,\"propertyName\":\"email\"},"
      " {\"eventId\":1,\"subscriptionId\":2,\"portalId\":3,\"appId\":4,\"occurredAt\":5,"
      "\"subscriptionType\":\"contact.propertyChange\",\"objectId\":6}]";
  fastepost__hs_batch b;
  cr_assert_eq(fastepost__hs_parse_batch(&b, body, strlen(body), 0), FASTEPOST_OK);
  cr_assert_eq(b.bad, 0);
  char keys[6][FASTEPOST__HS_KEY_SIZE];
  for (int i = 0; i < 6; i++) {
    cr_assert_eq(fastepost__hs_dedup_key(keys[i], &b.events[i]), FASTEPOST_OK);
    cr_assert_eq(strlen(keys[i]), 64);
  }
  cr_assert_str_eq(keys[0], keys[1], "a retry (other attemptNumber) is the same event");
  for (int i = 2; i < 6; i++)
    for (int j = 0; j < i; j++)
      cr_assert_str_neq(keys[i], keys[j], "events %d and %d differ", i, j);
  fastepost__hs_batch_free(&b);
}

/* ---- the webhook request (fastepost/webhook.h) ------------------------------------------------ */

Test(webhook_request, headers_are_case_insensitive_replaced_and_removed) {
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  cr_assert_str_eq(fastepost_webhook_request_method(req), "POST");
  cr_assert_str_eq(fastepost_webhook_request_uri(req), "");
  cr_assert_eq(fastepost_webhook_request_set_header(req, "X-HubSpot-Signature-v3", "a"), FASTEPOST_OK);
  cr_assert_str_eq(fastepost_webhook_request_header(req, "x-hubspot-signature-V3"), "a");
  cr_assert_eq(fastepost_webhook_request_set_header(req, "X-HUBSPOT-SIGNATURE-V3", "b"), FASTEPOST_OK);
  cr_assert_str_eq(fastepost_webhook_request_header(req, "X-HubSpot-Signature-v3"), "b", "replaced, not added");
  cr_assert_eq(fastepost_webhook_request_set_header(req, "Empty", ""), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_has_header(req, "empty"), 1);
  cr_assert_eq(fastepost_webhook_request_has_header(req, "absent"), 0);
  cr_assert_str_eq(fastepost_webhook_request_header(req, "absent"), "");
  cr_assert_eq(fastepost_webhook_request_set_header(req, "x-hubspot-signature-v3", NULL), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_has_header(req, "X-HubSpot-Signature-v3"), 0, "removed");
  cr_assert_eq(fastepost_webhook_request_has_header(req, "Empty"), 1, "the others stay");
  cr_assert_eq(fastepost_webhook_request_set_header(req, "", "x"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_webhook_request_set_header(req, NULL, "x"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_webhook_request_set_method(req, NULL), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_webhook_request_set_uri(NULL, "x"), FASTEPOST_EINVALID);
  fastepost_webhook_request_free(req);
  fastepost_webhook_request_free(NULL);
}

Test(webhook_request, the_body_is_copied_with_its_nul_bytes) {
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  char body[] = {'[', 0, ']'};
  cr_assert_eq(fastepost_webhook_request_set_body(req, body, sizeof body), FASTEPOST_OK);
  body[0] = 'x'; /* the caller's buffer may change at once */
  cr_assert_eq(fastepost_webhook_request_body_len(req), 3);
  cr_assert_eq(memcmp(fastepost_webhook_request_body(req), "[\0]", 3), 0);
  cr_assert_eq(((const char *)fastepost_webhook_request_body(req))[3], '\0', "NUL-terminated after len");
  cr_assert_eq(fastepost_webhook_request_set_body(req, NULL, 0), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_body_len(req), 0);
  cr_assert_str_eq(fastepost_webhook_request_body(req), "");
  fastepost_webhook_request_free(req);
}

Test(hubspot_sig, v1_and_v2_are_read_from_their_headers) {
  /* X-HubSpot-Signature with X-HubSpot-Signature-Version; v1 when the version header is missing. */
  fastepost_hubspot_verifier *v = verifier(TS_MS, SDK_SECRET);
  cr_assert_eq(fastepost_hubspot_verifier_set_versions(v, FASTEPOST_HUBSPOT_VERSION_V1 | FASTEPOST_HUBSPOT_VERSION_V2),
               FASTEPOST_OK);
  const char *body = "[{\"eventId\":1}]";
  char *sig1 = NULL;
  cr_assert_eq(fptest_hs_sign(&sig1, FASTEPOST_HUBSPOT_VERSION_V1, SDK_SECRET, "POST", SDK_URL, NULL, body,
                              strlen(body)),
               FASTEPOST_OK);
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_uri(req, SDK_URL), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_body(req, body, strlen(body)), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_header(req, "x-hubspot-signature", sig1), FASTEPOST_OK);
  size_t idx = 99;
  cr_assert_eq(fastepost_hubspot_verify(&idx, v, req), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(idx, 0);
  cr_assert_eq(fastepost_webhook_request_set_header(req, "X-HubSpot-Signature-Version", "v2"), FASTEPOST_OK);
  cr_assert_eq(fastepost_hubspot_verify(NULL, v, req), FASTEPOST_EAUTH, "a v1 signature read as v2");
  cr_assert_eq(fastepost_hubspot_verifier_set_versions(v, FASTEPOST_HUBSPOT_VERSION_V3), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_header(req, "X-HubSpot-Signature-Version", "v1"), FASTEPOST_OK);
  cr_assert_eq(fastepost_hubspot_verify(NULL, v, req), FASTEPOST_EAUTH, "v1 not enabled");
  fastepost_free(sig1);
  fastepost_webhook_request_free(req);
  fastepost_hubspot_verifier_free(v);
}
