/* SPDX-License-Identifier: MIT */
/* The HubSpot batch parser and dedup key, and v3 verification over arbitrary bodies and URIs:
 * no input may crash them, a parsed batch is internally consistent, and the URI decoder never
 * grows its input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/hubspot_parse.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fastepost__hs_batch b;
  if (fastepost__hs_parse_batch(&b, (const char *)data, size, 0) == FASTEPOST_OK) {
    size_t bad = 0;
    for (size_t i = 0; i < b.count; i++) {
      const fastepost__hs_event *e = &b.events[i];
      if ((e->error != 0) != (e->error_message != NULL))
        abort();
      if (e->error) {
        bad++;
        continue;
      }
      char key[FASTEPOST__HS_KEY_SIZE];
      if (!e->type || !e->object_id.present || !e->occurred_at.present ||
          fastepost__hs_dedup_key(key, e) != FASTEPOST_OK || strlen(key) != 64)
        abort();
    }
    if (bad != b.bad || b.count > FASTEPOST__HS_DEFAULT_MAX_EVENTS)
      abort();
    fastepost__hs_batch_free(&b);
  }
  /* The input as a URI (up to the first NUL) and as a body. */
  char *uri = fastepost__strndup((const char *)data, size);
  char *decoded = NULL;
  if (uri && fastepost_hubspot_decode_uri(&decoded, uri) == FASTEPOST_OK) {
    if (strlen(decoded) > strlen(uri))
      abort();
    fastepost_hubspot_verifier *v = NULL;
    if (fastepost_hubspot_verifier_new(&v) == FASTEPOST_OK &&
        fastepost_hubspot_verifier_add_secret(v, "fuzz") == FASTEPOST_OK) {
      fastepost_hubspot_verifier_set_now(v, 1000 * 1000);
      char *sig = NULL;
      fastepost_webhook_request *req = NULL;
      if (fastepost_webhook_request_new(&req) != FASTEPOST_OK || fastepost_webhook_request_set_uri(req, uri) ||
          fastepost_webhook_request_set_header(req, "X-HubSpot-Request-Timestamp", "1000") ||
          fastepost_webhook_request_set_body(req, data, size))
        abort();
      fastepost_status signed_ = fastepost_hubspot_sign(&sig, req, FASTEPOST_HUBSPOT_VERSION_V3, "fuzz");
      if (!*uri) {
        /* Nothing to sign without a URI: refused, and so is any request that presents none. */
        if (signed_ != FASTEPOST_EINVALID || fastepost_hubspot_verify(NULL, v, req) != FASTEPOST_EAUTH)
          abort();
      } else if (signed_ != FASTEPOST_OK ||
                 fastepost_webhook_request_set_header(req, "X-HubSpot-Signature-v3", sig) != FASTEPOST_OK ||
                 fastepost_hubspot_verify(NULL, v, req) !=
                     (size > FASTEPOST_HUBSPOT_DEFAULT_MAX_BODY ? FASTEPOST_ETOOBIG : FASTEPOST_OK)) {
        abort();
      }
      fastepost_free(sig);
      fastepost_webhook_request_free(req);
    }
    fastepost_hubspot_verifier_free(v);
  }
  fastepost_free(decoded);
  free(uri);
  return 0;
}
