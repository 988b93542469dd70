/* SPDX-License-Identifier: MIT */
/* The Zoho CRM adapter over arbitrary bodies: parsing (JSON or a form, callbacks and workflow
 * webhooks), verification (the body's token, the input as a query string), and the retry path
 * over every payload parsing stored. No input may crash them; a parsed body is consistent: every
 * record names its event type, a failed record has a message, a usable one has its keys, and
 * reprocessing its stored payload gives the same dedup key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/zoho.h"
#include "internal.h"
#include "util/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2026-12-01 00:00:00 UTC */
#define NOW_US (1796083200LL * 1000000)

static void check_record(const fastepost__sync_record *rec) {
  if (!rec->event_type || (rec->failure != 0) != (rec->failure_message != NULL))
    abort();
  if (!rec->payload)
    return;
  if (!rec->failure && (!rec->idempotency_key || !rec->external_id))
    abort();
  if (rec->idempotency_key && strlen(rec->idempotency_key) != 64)
    abort();
  json_object *stored = json_tokener_parse(rec->payload);
  if (!stored || json_object_object_get_ex(stored, "token", NULL))
    abort(); /* the secret never reaches the event log */
  json_object_put(stored);
  fastepost__sync_record again;
  fastepost__sync_record_init(&again, "zoho");
  if (fastepost__zoho_adapter.reprocess(&again, NULL, rec->payload, rec->event_type, NOW_US) != FASTEPOST_OK)
    abort();
  /* the same key (the stored payload has no time range: it may now succeed where the range
   * refused, but it is the same event) */
  if (rec->idempotency_key && (!again.idempotency_key || strcmp(again.idempotency_key, rec->idempotency_key) != 0))
    abort();
  fastepost__sync_record_clear(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fastepost__records r = {0};
  int rc = fastepost__zoho_adapter.parse(&r, NULL, data, size, NOW_US);
  if (rc == FASTEPOST_OK) {
    if (!r.count || r.count > FASTEPOST__ZOHO_MAX_IDS)
      abort();
    for (size_t i = 0; i < r.count; i++)
      check_record(&r.items[i]);
  } else if (r.count || r.items) {
    abort();
  }
  fastepost__records_free(&r);

  static void *config;
  if (!config) {
    json_object *section = json_tokener_parse("{\"channels\": [{\"channel_id\": \"1000000068001\", \"token\": "
                                              "\"fuzz\"}], \"workflow_tokens\": [\"fuzz\"]}");
    if (fastepost__zoho_adapter.config_new(&config, section) != FASTEPOST_OK)
      abort();
    json_object_put(section);
  }
  /* The input as the body, and (up to its first NUL) as the URI's query string. */
  char *uri = malloc(size + 2);
  if (!uri)
    return 0;
  uri[0] = '?';
  memcpy(uri + 1, data, size);
  uri[size + 1] = '\0';
  fastepost_webhook_request *req = NULL;
  if (fastepost_webhook_request_new(&req) || fastepost_webhook_request_set_uri(req, uri) ||
      fastepost_webhook_request_set_body(req, data, size))
    abort();
  int v = fastepost__zoho_adapter.verify(config, req);
  /* a body the parser cannot read is refused by verify with the same code */
  if ((rc == FASTEPOST_EPARSE || (rc == FASTEPOST_ETOOBIG && size > FASTEPOST__ZOHO_MAX_BODY)) && v != rc)
    abort();
  if (v != FASTEPOST_OK && v != FASTEPOST_EAUTH && v != FASTEPOST_ENOKEY && v != FASTEPOST_EPARSE &&
      v != FASTEPOST_ETOOBIG && v != FASTEPOST_ENOMEM)
    abort();
  fastepost_webhook_request_free(req);
  const char *q;
  size_t qlen;
  if (!fastepost__form_query(uri, &q, &qlen) || q != uri + 1)
    abort();
  free(uri);
  return 0;
}
