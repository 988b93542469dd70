/* SPDX-License-Identifier: MIT */
/* Test helpers: a HubSpot request (fastepost/webhook.h) from its parts, as a web host builds one,
 * and the verify / sign / process calls over it with the parts as arguments. */
#ifndef FASTEPOST_TEST_HUBSPOT_REQUEST_H
#define FASTEPOST_TEST_HUBSPOT_REQUEST_H

#include <criterion/criterion.h>
#include <string.h>

#include "fastepost.h"

/* version NULL or "v3": the signature in X-HubSpot-Signature-v3; else in X-HubSpot-Signature
 * with X-HubSpot-Signature-Version. NULL parts are left out (method and URI then ""). */
static inline fastepost_webhook_request *fptest_hs_request(const char *version, const char *method, const char *uri,
                                                           const char *timestamp, const char *signature,
                                                           const void *body, size_t len) {
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  bool v3 = !version || strcmp(version, "v3") == 0;
  cr_assert_eq(fastepost_webhook_request_set_method(req, method ? method : ""), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_uri(req, uri ? uri : ""), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_header(req, v3 ? "X-HubSpot-Signature-v3" : "X-HubSpot-Signature",
                                                    signature),
               FASTEPOST_OK);
  if (!v3)
    cr_assert_eq(fastepost_webhook_request_set_header(req, "X-HubSpot-Signature-Version", version), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_header(req, "X-HubSpot-Request-Timestamp", timestamp), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_body(req, body ? body : "", body ? len : 0), FASTEPOST_OK);
  return req;
}

/* secret_index: the matching secret's position, -1 on failure. */
static inline fastepost_status fptest_hs_verify(int *secret_index, const fastepost_hubspot_verifier *v,
                                                const char *version, const char *method, const char *uri,
                                                const char *timestamp, const char *signature, const void *body,
                                                size_t len) {
  fastepost_webhook_request *req = fptest_hs_request(version, method, uri, timestamp, signature, body, len);
  size_t idx = 0;
  fastepost_status st = fastepost_hubspot_verify(&idx, v, req);
  if (secret_index)
    *secret_index = st == FASTEPOST_OK ? (int)idx : -1;
  fastepost_webhook_request_free(req);
  return st;
}

static inline fastepost_status fptest_hs_sign(char **out, fastepost_hubspot_version version, const char *secret,
                                              const char *method, const char *uri, const char *timestamp,
                                              const void *body, size_t len) {
  fastepost_webhook_request *req = fptest_hs_request("v3", method, uri, timestamp, "-", body, len);
  fastepost_status st = fastepost_hubspot_sign(out, req, version, secret);
  fastepost_webhook_request_free(req);
  return st;
}

static inline fastepost_status fptest_hs_process(fastepost_event_batch **out, fastepost_conn *conn,
                                                 const fastepost_hubspot_verifier *v, const char *version,
                                                 const char *method, const char *uri, const char *timestamp,
                                                 const char *signature, const void *body, size_t len,
                                                 const fastepost_hubspot_options *opts) {
  fastepost_webhook_request *req = fptest_hs_request(version, method, uri, timestamp, signature, body, len);
  fastepost_status st = fastepost_hubspot_process(out, conn, v, req, opts);
  fastepost_webhook_request_free(req);
  return st;
}

#endif
