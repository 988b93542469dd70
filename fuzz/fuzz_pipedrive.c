/* SPDX-License-Identifier: MIT */
/* The Pipedrive adapter's parser and HTTP Basic check over arbitrary input: no input may crash
 * them or leak; a parsed record is consistent (a failure has its message; a usable person has
 * its crm id, version and dedup key; a stored payload parses again into the same key); the
 * input as an Authorization header is refused (or accepted only when it carries the one
 * configured credential). */
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/pipedrive.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_US (1764270000LL * 1000000)
#define CREDENTIAL "fuzz-user:fuzz:password"

static void check_record(const fastepost__sync_record *r) {
  if ((r->failure != 0) != (r->failure_message != NULL) || !r->payload || !r->event_type)
    abort();
  if (r->failure || r->ignore_reason)
    return;
  if (!r->crm_id || !r->version || !r->idempotency_key || strlen(r->idempotency_key) != 64)
    abort();
  if (r->owns_customer && (strncmp(r->crm_id, "person:", 7) != 0 || r->nprops != 4))
    abort();
  if (!r->owns_customer && (!r->note_body || !*r->note_body || !r->link_crm_id))
    abort();
  /* The stored payload is what a retry parses: the same event, the same key. */
  fastepost__sync_record again;
  fastepost__sync_record_init(&again, "pipedrive");
  if (fastepost__pipedrive_adapter.reprocess(&again, NULL, r->payload, r->event_type, NOW_US) != FASTEPOST_OK ||
      again.failure || !again.idempotency_key || strcmp(again.idempotency_key, r->idempotency_key) != 0)
    abort();
  fastepost__sync_record_clear(&again);
}

static void check_verify(const void *config, const uint8_t *data, size_t size) {
  fastepost_webhook_request *req = NULL;
  char *raw = fastepost__strndup((const char *)data, size);
  /* the input as the header itself, and as the credentials it would carry */
  unsigned char *header = malloc(6 + 4 * ((size + 2) / 3) + 1);
  if (!raw || !header || fastepost_webhook_request_new(&req) != FASTEPOST_OK)
    abort();
  if (fastepost_webhook_request_set_header(req, "Authorization", raw) != FASTEPOST_OK)
    abort();
  int rc = fastepost__pipedrive_adapter.verify(config, req);
  /* accepted only with the credential's base64 (its last character may differ in the bits
   * that padding leaves unused) */
  if (rc != FASTEPOST_EAUTH && !(rc == FASTEPOST_OK && strstr(raw, "ZnV6ei11c2VyOmZ1eno6cGFzc3dvcm")))
    abort();
  memcpy(header, "Basic ", 6);
  EVP_EncodeBlock(header + 6, data, (int)size);
  if (fastepost_webhook_request_set_header(req, "Authorization", (const char *)header) != FASTEPOST_OK)
    abort();
  rc = fastepost__pipedrive_adapter.verify(config, req);
  bool same = size == strlen(CREDENTIAL) && memcmp(data, CREDENTIAL, size) == 0;
  if (rc != (same ? FASTEPOST_OK : FASTEPOST_EAUTH))
    abort();
  fastepost_webhook_request_free(req);
  free(header);
  free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fastepost__records recs;
  int rc = fastepost__pipedrive_adapter.parse(&recs, NULL, data, size, NOW_US);
  if (rc == FASTEPOST_OK) {
    if (recs.count != 1)
      abort();
    check_record(&recs.items[0]);
    fastepost__records_free(&recs);
  } else if (recs.count || !(rc == FASTEPOST_EPARSE || rc == FASTEPOST_ETOOBIG || rc == FASTEPOST_ENOMEM)) {
    abort();
  }
  json_object *section = json_tokener_parse("{\"basic_auth\": [\"" CREDENTIAL "\"]}");
  void *config = NULL;
  if (fastepost__pipedrive_adapter.config_new(&config, section) != FASTEPOST_OK)
    abort();
  json_object_put(section);
  if (size < 4096)
    check_verify(config, data, size);
  fastepost__pipedrive_adapter.config_free(config);
  return 0;
}
