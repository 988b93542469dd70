/* SPDX-License-Identifier: MIT */
/* hubspot.h: HubSpotVerifier objects (wiping their secrets when collected) and the functions
 * one to one. verify() returns the index of the secret that matched; bodies are bytes (or str,
 * as UTF-8) in Python and Strings of any encoding in Ruby. Verification is CPU work on at most
 * the body limit, so it keeps the GIL/GVL. */
%header %{
#include <stdbool.h>
%}
%rename(HubSpotVerifier) fastepost_hubspot_verifier;
%fastepost_handle(fastepost_hubspot_verifier, fastepost_hubspot_verifier_free)
%ignore fastepost_hubspot_verifier_new;
%extend fastepost_hubspot_verifier {
  fastepost_hubspot_verifier() {
    fastepost_hubspot_verifier *v = NULL;
    fastepost_status rc = fastepost_hubspot_verifier_new(&v);
    if (rc != FASTEPOST_OK)
      FP_CTOR_FAILED(rc);
    return v;
  }
}

/* Processing (options, batch results) is bound by the hubspot_process helper in events.i.
 * verify and sign take a fastepost_webhook_request in C; the helpers below build it from the
 * request's parts (the signature in the header its version uses), as a host does:
 *   hubspot_verify(verifier, version, method, uri, timestamp, signature, body) -> secret index
 *   hubspot_sign(version bit, secret, method, uri, timestamp, body) -> signature */
%rename("$ignore", regextarget=1) "^fastepost_hubspot_options";
%ignore fastepost_hubspot_process;
%ignore fastepost_hubspot_verify;
%ignore fastepost_hubspot_sign;
%include "fastepost/hubspot.h"

/* A missing header arrives as None/nil: the library refuses it with AuthError. */
%apply const char *NULLABLE { const char *version, const char *method, const char *uri,
                              const char *timestamp, const char *signature };
%apply (const void *BYTES, size_t LENGTH) { (const void *body, size_t body_len) };
%header %{
/* The request a host builds from these parts; NULL (with the failure in *f) on failure. */
static fastepost_webhook_request *fp_hubspot_request(fp_failure *f, const char *version, const char *method,
                                                     const char *uri, const char *timestamp, const char *signature,
                                                     const void *body, size_t len) {
  fastepost_webhook_request *req = NULL;
  bool v3 = !version || strcmp(version, "v3") == 0;
  fastepost_status rc = fastepost_webhook_request_new(&req);
  if (rc == FASTEPOST_OK)
    rc = fastepost_webhook_request_set_method(req, method ? method : "");
  if (rc == FASTEPOST_OK)
    rc = fastepost_webhook_request_set_uri(req, uri ? uri : "");
  if (rc == FASTEPOST_OK)
    rc = fastepost_webhook_request_set_header(req, v3 ? "X-HubSpot-Signature-v3" : "X-HubSpot-Signature", signature);
  if (rc == FASTEPOST_OK && !v3)
    rc = fastepost_webhook_request_set_header(req, "X-HubSpot-Signature-Version", version);
  if (rc == FASTEPOST_OK)
    rc = fastepost_webhook_request_set_header(req, "X-HubSpot-Request-Timestamp", timestamp);
  if (rc == FASTEPOST_OK)
    rc = fastepost_webhook_request_set_body(req, body ? body : "", body ? len : 0);
  if (rc != FASTEPOST_OK) {
    fp_failure_capture(f, rc);
    fastepost_webhook_request_free(req);
    return NULL;
  }
  return req;
}
%}
%rename(hubspot_verify) fp_hubspot_verify;
%rename(hubspot_sign) fp_hubspot_sign;
%inline %{
static fp_obj fp_hubspot_verify(const fastepost_hubspot_verifier *v, const char *version, const char *method,
                                const char *uri, const char *timestamp, const char *signature, const void *body,
                                size_t body_len) {
  fp_failure f;
  fastepost_webhook_request *req = fp_hubspot_request(&f, version, method, uri, timestamp, signature, body, body_len);
  if (!req)
    return fp_raise_with(&f, NULL, FP_NIL);
  size_t idx = 0;
  fastepost_status rc = fastepost_hubspot_verify(&idx, v, req);
  fastepost_webhook_request_free(req);
  if (rc != FASTEPOST_OK) {
    fp_failure_capture(&f, rc);
    return fp_raise_with(&f, NULL, FP_NIL);
  }
#if defined(SWIGPYTHON)
  return PyLong_FromSize_t(idx);
#else
  return ULL2NUM(idx);
#endif
}

static fp_obj fp_hubspot_sign(unsigned version, const char *secret, const char *method, const char *uri,
                              const char *timestamp, const void *body, size_t body_len) {
  fp_failure f;
  fastepost_webhook_request *req = fp_hubspot_request(&f, "v3", method, uri, timestamp, NULL, body, body_len);
  if (!req)
    return fp_raise_with(&f, NULL, FP_NIL);
  char *sig = NULL;
  fastepost_status rc = fastepost_hubspot_sign(&sig, req, (fastepost_hubspot_version)version, secret);
  fastepost_webhook_request_free(req);
  if (rc != FASTEPOST_OK) {
    fp_failure_capture(&f, rc);
    return fp_raise_with(&f, NULL, FP_NIL);
  }
  fp_obj out = fp_str_new(sig);
  fastepost_free(sig);
  return out;
}
%}
%clear const char *version, const char *method, const char *uri, const char *timestamp,
       const char *signature;
%clear (const void *body, size_t body_len);
