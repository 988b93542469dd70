/* SPDX-License-Identifier: MIT */
/*
 * The monday.com adapter (adapter.h, issue 15): board webhooks. The configuration from the
 * "monday" section, the challenge handshake, the JWT check and the adapter table; parsing is in
 * monday_parse.c. No SQL here. docs/monday.md says how to set it up on monday's side.
 */
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/monday.h"
#include "internal.h"
#include "util/json.h"
#include "util/jwt.h"

#define SOURCE "monday"

const char *const fastepost__monday_field_names[FASTEPOST__MONDAY_NFIELDS] = {"email", "phone", "company",
                                                                              "address"};

/* Bounds on what a configuration may hold: a wrong file, not a real set-up, goes past them. */
#define MAX_SECRETS 16
#define MAX_BOARDS 1000
#define MAX_TEXT 2048

/* ---- configuration ------------------------------------------------------------------------ */

static void config_free(void *config) {
  fastepost__monday_config *c = config;
  if (!c)
    return;
  /* Secrets do not linger in freed heap memory (a core dump, a later allocation). */
  for (size_t i = 0; i < c->nsecrets; i++) {
    OPENSSL_cleanse(c->secrets[i], c->secret_lens[i]);
    free(c->secrets[i]);
  }
  free(c->secrets);
  free(c->secret_lens);
  free(c->url);
  for (size_t i = 0; i < c->nboards; i++) {
    free(c->boards[i].id);
    for (int f = 0; f < FASTEPOST__MONDAY_NFIELDS; f++)
      free(c->boards[i].columns[f]);
  }
  free(c->boards);
  free(c);
}

static const char *kind(json_object *v) { return v ? json_type_to_name(json_object_get_type(v)) : "null"; }

/* A non-empty string of at most MAX_TEXT bytes at `path` (a message names the path, never the
 * value: it may be a secret). */
static int text_value(char **out, json_object *v, const char *path) {
  if (!v || !json_object_is_type(v, json_type_string))
    return fastepost__error_set(FASTEPOST_EINVALID, "%s: not a string (%s)", path, kind(v));
  size_t n = (size_t)json_object_get_string_len(v);
  if (n == 0 || n > MAX_TEXT || strlen(json_object_get_string(v)) != n)
    return fastepost__error_set(FASTEPOST_EINVALID, "%s: must be 1 to %d bytes without NUL", path, MAX_TEXT);
  return (*out = fastepost__strndup(json_object_get_string(v), n)) ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

static int load_secrets(fastepost__monday_config *c, json_object *v) {
  if (!json_object_is_type(v, json_type_array))
    return fastepost__error_set(FASTEPOST_EINVALID, "monday.signing_secrets: not an array (%s)", kind(v));
  size_t n = json_object_array_length(v);
  if (n > MAX_SECRETS)
    return fastepost__error_set(FASTEPOST_EINVALID, "monday.signing_secrets: at most %d secrets", MAX_SECRETS);
  c->secrets = calloc(n ? n : 1, sizeof *c->secrets);
  c->secret_lens = calloc(n ? n : 1, sizeof *c->secret_lens);
  if (!c->secrets || !c->secret_lens)
    return fastepost__error_oom();
  for (size_t i = 0; i < n; i++) {
    char path[64];
    snprintf(path, sizeof path, "monday.signing_secrets[%zu]", i);
    int rc = text_value(&c->secrets[i], json_object_array_get_idx(v, i), path);
    if (rc)
      return rc;
    c->secret_lens[i] = strlen(c->secrets[i]);
    c->nsecrets++;
  }
  return FASTEPOST_OK;
}

static int load_board(fastepost__monday_board *b, const char *id, json_object *v) {
  char path[128];
  size_t n = strlen(id);
  if (n == 0 || n > 19 || strspn(id, "0123456789") != n)
    return fastepost__error_set(FASTEPOST_EINVALID, "monday.boards: the key \"%.24s\" is not a board id (digits)",
                                id);
  if (!(b->id = fastepost__strdup(id)))
    return FASTEPOST_ENOMEM;
  if (!json_object_is_type(v, json_type_object))
    return fastepost__error_set(FASTEPOST_EINVALID, "monday.boards.%s: not an object (%s)", id, kind(v));
  json_object_object_foreach(v, key, col) {
    int f = 0;
    while (f < FASTEPOST__MONDAY_NFIELDS && strcmp(fastepost__monday_field_names[f], key) != 0)
      f++;
    snprintf(path, sizeof path, "monday.boards.%s.%.40s", id, key);
    if (f == FASTEPOST__MONDAY_NFIELDS)
      return fastepost__error_set(FASTEPOST_EINVALID, "%s: unknown key (expected email, phone, company, address)",
                                  path);
    int rc = text_value(&b->columns[f], col, path);
    if (rc)
      return rc;
  }
  return FASTEPOST_OK;
}

static int load_boards(fastepost__monday_config *c, json_object *v) {
  if (!json_object_is_type(v, json_type_object))
    return fastepost__error_set(FASTEPOST_EINVALID, "monday.boards: not an object (%s)", kind(v));
  size_t n = (size_t)json_object_object_length(v);
  if (n > MAX_BOARDS)
    return fastepost__error_set(FASTEPOST_EINVALID, "monday.boards: at most %d boards", MAX_BOARDS);
  if (!(c->boards = calloc(n ? n : 1, sizeof *c->boards)))
    return fastepost__error_oom();
  json_object_object_foreach(v, id, board) {
    int rc = load_board(&c->boards[c->nboards++], id, board);
    if (rc)
      return rc;
  }
  return FASTEPOST_OK;
}

static int load_key(fastepost__monday_config *c, const char *key, json_object *v) {
  if (strcmp(key, "signing_secrets") == 0)
    return load_secrets(c, v);
  if (strcmp(key, "require_jwt") == 0) {
    if (!v || !json_object_is_type(v, json_type_boolean))
      return fastepost__error_set(FASTEPOST_EINVALID, "monday.require_jwt: not a boolean (%s)", kind(v));
    c->require_jwt = json_object_get_boolean(v);
    return FASTEPOST_OK;
  }
  if (strcmp(key, "url") == 0)
    return text_value(&c->url, v, "monday.url");
  if (strcmp(key, "boards") == 0)
    return load_boards(c, v);
  char p[64];
  fastepost__preview(p, sizeof p, key, strlen(key));
  return fastepost__error_set(FASTEPOST_EINVALID,
                              "monday.%s: unknown key (expected signing_secrets, require_jwt, url, boards)", p);
}

static int config_new(void **out, json_object *section) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "monday configuration: out is NULL");
  *out = NULL;
  if (!section || !json_object_is_type(section, json_type_object))
    return fastepost__error_set(FASTEPOST_EINVALID, "monday: not an object (%s)", kind(section));
  fastepost__monday_config *c = calloc(1, sizeof *c);
  if (!c)
    return fastepost__error_oom();
  c->require_jwt = true; /* fail closed: an unsigned request is accepted only when asked for */
  c->time_range = (fastepost__time_range)FASTEPOST__TIME_RANGE_DEFAULT;
  int rc = FASTEPOST_OK;
  json_object_object_foreach(section, key, v) {
    if ((rc = load_key(c, key, v)))
      break;
  }
  if (rc) {
    config_free(c);
    return rc;
  }
  *out = c;
  return FASTEPOST_OK;
}

const fastepost__monday_board *fastepost__monday_board_find(const fastepost__monday_config *cfg, const char *id) {
  for (size_t i = 0; cfg && id && i < cfg->nboards; i++)
    if (strcmp(cfg->boards[i].id, id) == 0)
      return &cfg->boards[i];
  return NULL;
}

/* ---- the challenge --------------------------------------------------------------------------- */

/* A challenge body is tiny ({"challenge": "<52 characters>"}): anything larger is not one. */
#define MAX_CHALLENGE_BODY 1024

/*
 * monday checks a webhook URL once, when the webhook is created, by POSTing {"challenge": "..."}
 * and expecting the same JSON back. It is answered before verification because it may come
 * without a JWT (webhooks made in the board's UI never carry one, and monday documents none for
 * the challenge), and answering is harmless: the answer holds only what the sender sent, nothing
 * is parsed further, looked up or written. It is answered only when monday is configured so that
 * requests can pass (not when require_jwt is set without a secret: the set-up then fails at once,
 * on monday's side, instead of every event later), and only for a small body that is exactly one
 * object whose one member is a string "challenge".
 */
static int handshake(fastepost__response *resp, const void *config, const fastepost_webhook_request *req) {
  const fastepost__monday_config *c = config;
  size_t len = fastepost_webhook_request_body_len(req);
  if (!c || !resp || !req || (c->require_jwt && !c->nsecrets) || len > MAX_CHALLENGE_BODY)
    return 0;
  json_object *root = NULL;
  if (fastepost__json_parse(&root, fastepost_webhook_request_body(req), len, 2) != FASTEPOST_OK) {
    fastepost_error_clear(); /* not a handshake: verify and parse say what is wrong */
    return 0;
  }
  json_object *ch = fastepost__json_get(root, "challenge");
  int answered = 0;
  if (json_object_is_type(root, json_type_object) && json_object_object_length(root) == 1 && ch &&
      json_object_is_type(ch, json_type_string)) {
    fastepost__buf b = FASTEPOST__BUF_INIT;
    fastepost__buf_puts(&b, "{\"challenge\":");
    fastepost__json_quote(&b, json_object_get_string(ch), (size_t)json_object_get_string_len(ch));
    fastepost__buf_putc(&b, '}');
    if (!b.oom && fastepost__response_set(resp, 200, "application/json", b.data, b.len) == FASTEPOST_OK)
      answered = 1;
    fastepost__buf_free(&b);
  }
  json_object_put(root);
  return answered;
}

/* ---- verification -------------------------------------------------------------------------- */

/* The token from Authorization: the raw value (monday's own sample apps) or after "Bearer "
 * (what many clients send), white space around it dropped. */
static const char *bearer_token(const char *value, size_t *len) {
  while (*value == ' ' || *value == '\t')
    value++;
  if (fastepost__ascii_ncasecmp(value, "Bearer ", 7) == 0)
    for (value += 7; *value == ' ' || *value == '\t';)
      value++;
  size_t n = strlen(value);
  while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
    n--;
  *len = n;
  return value;
}

static int verify(const void *config, const fastepost_webhook_request *req) {
  const fastepost__monday_config *c = config;
  if (!req)
    return fastepost__error_set(FASTEPOST_EINVALID, "monday verify: the request is NULL");
  if (!c)
    return fastepost__error_set(FASTEPOST_ENOKEY, "monday is not configured: every request is refused");
  if (c->require_jwt && !c->nsecrets)
    return fastepost__error_set(FASTEPOST_ENOKEY, "monday.require_jwt is true but no signing secret is "
                                                  "configured: every request is refused");
  size_t len = 0;
  const char *token = bearer_token(fastepost_webhook_request_header(req, "Authorization"), &len);
  if (len == 0) {
    if (c->require_jwt)
      return fastepost__error_set(FASTEPOST_EAUTH, "no JWT in the Authorization header (monday signs only "
                                                   "webhooks created with an app's token; see docs/monday.md)");
    return FASTEPOST_OK; /* require_jwt false: the URL's secrecy is all a board webhook has */
  }
  /* A token that is there is checked, whatever require_jwt says: a forged one is refused. */
  if (!c->nsecrets)
    return fastepost__error_set(FASTEPOST_ENOKEY, "a JWT was presented but no monday signing secret is "
                                                  "configured to check it: refused");
  fastepost__jwt_check check = {.secrets = (const char *const *)c->secrets, .secret_lens = c->secret_lens,
                                .nsecrets = c->nsecrets, .audience = c->url,
                                /* exp against the processing clock (fastepost_webhook_config_set_clock()),
                                 * which the request carries while fastepost_webhook_process() runs */
                                .now_us = fastepost__webhook_request_now_us(req)};
  int rc = fastepost__jwt_verify_hs256(NULL, &check, token, len);
  if (rc)
    fastepost__error_prefix("monday");
  return rc;
}

/* ---- parsing --------------------------------------------------------------------------------- */

static int parse_body(fastepost__records *out, const void *config, const void *body, size_t len, int64_t now) {
  const fastepost__monday_config *c = config;
  const fastepost__time_range def = FASTEPOST__TIME_RANGE_DEFAULT;
  return fastepost__monday_parse(out, c, body, len, FASTEPOST__MONDAY_MAX_BODY, c ? &c->time_range : &def, now);
}

/* A stored event object (the canonical payload of integration_events). It was accepted once:
 * no size or time-range check refuses it now; the board mapping comes from config. */
static int reprocess(fastepost__sync_record *rec, const void *config, const char *payload, const char *event_type,
                     int64_t now) {
  /* event_type: the payload holds it; the stored one names a failed record */
  const fastepost__time_range any = FASTEPOST__TIME_RANGE_ANY;
  json_object *ev = NULL;
  int rc = fastepost__json_parse(&ev, payload ? payload : "", payload ? strlen(payload) : 0, 0);
  if (rc)
    return fastepost__record_unreadable(rec, SOURCE, event_type, FASTEPOST_EPARSE,
                                        "the stored monday payload is not JSON");
  fastepost__sync_record_clear(rec);
  fastepost__sync_record_init(rec, SOURCE);
  rc = fastepost__monday_event_record(rec, config, ev, &any, now);
  json_object_put(ev);
  return rc;
}

/* A spooled body as received (verified before it was spooled). */
static int replay(fastepost__records *out, const void *config, const void *body, size_t len, const char *event,
                  const char *content_type, int64_t now) {
  (void)event;
  (void)content_type;
  const fastepost__time_range any = FASTEPOST__TIME_RANGE_ANY;
  return fastepost__monday_parse(out, config, body, len, 0, &any, now);
}

const fastepost__adapter fastepost__monday_adapter = {
    .source = SOURCE,
    .dedup_key = "triggerUuid",
    .version_key = "changedAt, else triggerTime",
    .config_new = config_new,
    .config_free = config_free,
    .handshake = handshake,
    .verify = verify,
    .parse = parse_body,
    .reprocess = reprocess,
    .replay = replay,
};
