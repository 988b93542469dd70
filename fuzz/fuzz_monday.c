/* SPDX-License-Identifier: MIT */
/* The monday.com adapter over arbitrary bytes: the body parser (through the adapter table, with
 * a board mapping), the challenge, and HS256 JWT verification of the input as a token and of a
 * token signed over the input. Nothing may crash or leak, a parsed body is one consistent
 * record, an answered challenge is JSON that echoes a string, a token is refused unless it was
 * signed with the secret. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/monday.h"
#include "internal.h"
#include "util/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CONFIG[] = "{\"signing_secrets\": [\"fuzz\"], \"url\": \"https://x.example/monday\", "
                             "\"boards\": {\"1771812698\": {\"email\": \"email\", \"phone\": \"phone\", "
                             "\"company\": \"text\", \"address\": \"location\"}}}";

static void *config(void) {
  json_object *j = json_tokener_parse(CONFIG);
  void *cfg = NULL;
  if (!j || fastepost__monday_adapter.config_new(&cfg, j) != FASTEPOST_OK)
    abort();
  json_object_put(j);
  return cfg;
}

static void check_parse(const void *cfg, const uint8_t *data, size_t size) {
  const fastepost__adapter *a = &fastepost__monday_adapter;
  fastepost__records recs;
  int rc = a->parse(&recs, cfg, data, size, INT64_C(1764270000000000));
  if (rc) {
    if (recs.count || recs.items)
      abort();
    return;
  }
  if (recs.count != 1)
    abort();
  const fastepost__sync_record *r = &recs.items[0];
  if (!r->event_type || !r->payload || (r->failure != 0) != (r->failure_message != NULL) ||
      (r->failure && r->ignore_reason) || (r->crm_id && strncmp(r->crm_id, "item:", 5) != 0) ||
      (!r->failure && !r->ignore_reason && (!r->crm_id || !r->idempotency_key)))
    abort();
  /* the stored payload reprocesses without configuration, and never crashes */
  fastepost__sync_record again;
  fastepost__sync_record_init(&again, "monday");
  if (a->reprocess(&again, NULL, r->payload, r->event_type, INT64_C(1764270000000000)) != FASTEPOST_OK)
    abort();
  if (!again.failure && !again.ignore_reason && strcmp(again.idempotency_key, r->idempotency_key) != 0)
    abort();
  fastepost__sync_record_clear(&again);
  fastepost__records_free(&recs);
}

static void check_handshake(const void *cfg, const uint8_t *data, size_t size) {
  fastepost_webhook_request *req = NULL;
  if (fastepost_webhook_request_new(&req) || fastepost_webhook_request_set_body(req, data, size))
    abort();
  fastepost__response resp = {0};
  if (fastepost__monday_adapter.handshake(&resp, cfg, req) == 1) {
    json_object *echo = json_tokener_parse(resp.body), *ch = NULL;
    if (!echo || !json_object_object_get_ex(echo, "challenge", &ch) || !json_object_is_type(ch, json_type_string) ||
        resp.http_status != 200)
      abort();
    json_object_put(echo);
  }
  fastepost__response_clear(&resp);
  fastepost_webhook_request_free(req);
}

static void check_jwt(const uint8_t *data, size_t size) {
  static const char *secrets[] = {"fuzz"};
  static const size_t lens[] = {4};
  fastepost__jwt_check c = {.secrets = secrets, .secret_lens = lens, .nsecrets = 1, .now_us = 0};
  /* the input as a token: only a token signed with "fuzz" could pass */
  int rc = fastepost__jwt_verify_hs256(NULL, &c, (const char *)data, size);
  if (rc != FASTEPOST_OK && rc != FASTEPOST_EAUTH && rc != FASTEPOST_ENOMEM)
    abort();
  /* a token signed over the input as its payload: the signature holds, so the verdict is the
   * claims' (a JSON object with a future exp), and another secret never passes */
  char *payload = fastepost__strndup((const char *)data, size), *token = NULL;
  if (!payload || fastepost__jwt_sign_hs256(&token, "{\"alg\":\"HS256\"}", payload, "fuzz", 4))
    abort();
  size_t n = strlen(token);
  rc = fastepost__jwt_verify_hs256(NULL, &c, token, n);
  if (rc != FASTEPOST_OK && rc != FASTEPOST_EAUTH)
    abort();
  if (rc == FASTEPOST_EAUTH && n <= FASTEPOST__JWT_MAX_LEN && strstr(fastepost_error_last()->message, "signature"))
    abort();
  static const char *wrong[] = {"fuzz2"};
  static const size_t wrong_len[] = {5};
  c.secrets = wrong;
  c.secret_lens = wrong_len;
  if (fastepost__jwt_verify_hs256(NULL, &c, token, n) != FASTEPOST_EAUTH)
    abort();
  free(token);
  free(payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  void *cfg = config();
  check_parse(cfg, data, size);
  check_handshake(cfg, data, size);
  check_jwt(data, size);
  fastepost__monday_adapter.config_free(cfg);
  return 0;
}
