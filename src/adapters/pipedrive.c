/* SPDX-License-Identifier: MIT */
/*
 * The Pipedrive adapter (adapter.h; issue 15): its configuration ({"basic_auth": ["user:password",
 * ...]}), the HTTP Basic check Pipedrive's webhooks are protected by (they carry no signature),
 * and the adapter table. A body becomes a record in pipedrive_parse.c. No SQL here.
 *
 * Pipedrive bans a webhook for 30 minutes after 10 first tries that failed or took over 10 s,
 * and drops its events meanwhile: the answer is the generic JSON one (respond NULL), and a
 * host with a spool answers 202 at once when the database is unreachable
 * (fastepost_webhook_config_set_spool(), docs/pipedrive.md).
 */
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/pipedrive.h"
#include "util/json.h"

static const char SOURCE[] = "pipedrive";

/* ---- configuration ------------------------------------------------------------------------- */

/* The accepted credentials, each split on its first colon (RFC 7617: a user id holds none). */
typedef struct pd_config {
  fastepost__strlist users, passwords;
} pd_config;

/* Secrets do not linger in freed heap memory. */
static void wipe(fastepost__strlist *list) {
  for (size_t i = 0; i < list->count; i++)
    for (volatile char *p = list->items[i]; *p; p++)
      *p = 0;
  fastepost__strlist_free(list);
}

static void config_free(void *config) {
  pd_config *c = config;
  if (!c)
    return;
  wipe(&c->users);
  wipe(&c->passwords);
  free(c);
}

/* One "user:password" entry; the message names its place, never its value. */
static int add_credential(pd_config *c, json_object *v, size_t i) {
  if (!json_object_is_type(v, json_type_string))
    return fastepost__error_set(FASTEPOST_EINVALID, "pipedrive.basic_auth[%zu]: not a string", i);
  const char *s = json_object_get_string(v);
  size_t len = (size_t)json_object_get_string_len(v);
  const char *colon = memchr(s, ':', len);
  if (!colon)
    return fastepost__error_set(FASTEPOST_EINVALID, "pipedrive.basic_auth[%zu]: expected \"user:password\" (no colon)",
                                i);
  if (colon == s || colon + 1 == s + len)
    return fastepost__error_set(FASTEPOST_EINVALID, "pipedrive.basic_auth[%zu]: the user or the password is empty",
                                i);
  if (memchr(s, '\0', len))
    return fastepost__error_set(FASTEPOST_EINVALID, "pipedrive.basic_auth[%zu]: holds a NUL character", i);
  char *user = fastepost__strndup(s, (size_t)(colon - s));
  int rc = user ? fastepost__strlist_add(&c->users, user) : FASTEPOST_ENOMEM;
  if (!rc)
    rc = fastepost__strlist_add(&c->passwords, colon + 1);
  if (user)
    for (volatile char *p = user; *p; p++)
      *p = 0;
  free(user);
  return rc;
}

static int config_new(void **out, json_object *section) {
  *out = NULL;
  if (!json_object_is_type(section, json_type_object))
    return fastepost__error_set(FASTEPOST_EINVALID, "pipedrive: expected an object ({\"basic_auth\": [...]})");
  pd_config *c = calloc(1, sizeof *c);
  if (!c)
    return fastepost__error_oom();
  int rc = FASTEPOST_OK;
  json_object_object_foreach(section, key, val) {
    if (rc)
      break;
    if (strcmp(key, "basic_auth") != 0) {
      char p[64];
      fastepost__preview(p, sizeof p, key, strlen(key));
      rc = fastepost__error_set(FASTEPOST_EINVALID, "pipedrive.%s: unknown key (expected basic_auth)", p);
    } else if (!json_object_is_type(val, json_type_array)) {
      rc = fastepost__error_set(FASTEPOST_EINVALID, "pipedrive.basic_auth: not an array of \"user:password\"");
    } else {
      for (size_t i = 0; i < json_object_array_length(val) && !rc; i++)
        rc = add_credential(c, json_object_array_get_idx(val, i), i);
    }
  }
  if (rc) {
    config_free(c);
    return rc;
  }
  *out = c;
  return FASTEPOST_OK;
}

/* ---- verification -------------------------------------------------------------------------- */

/* Longer than any credential a host would configure: refused before decoding. */
#define MAX_TOKEN 4096

/* Standard base64 with padding (what HTTP Basic uses), checked strictly before OpenSSL decodes
 * it (EVP_DecodeUpdate skips white space and stops at '-'). Returns the decoded length, or -1. */
static int decode_base64(unsigned char *out, const char *in, size_t n) {
  if (n == 0 || n % 4 != 0)
    return -1;
  size_t pad = in[n - 1] == '=' ? (in[n - 2] == '=' ? 2 : 1) : 0;
  for (size_t i = 0; i < n - pad; i++) {
    unsigned char ch = (unsigned char)in[i];
    if (!fastepost__ascii_isalnum(ch) && ch != '+' && ch != '/')
      return -1;
  }
  EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
  if (!ctx)
    return -1;
  int len = 0, tail = 0;
  EVP_DecodeInit(ctx);
  int ok = EVP_DecodeUpdate(ctx, out, &len, (const unsigned char *)in, (int)n) >= 0 &&
           EVP_DecodeFinal(ctx, out + len, &tail) == 1;
  EVP_ENCODE_CTX_free(ctx);
  return ok ? len + tail : -1;
}

/* The credentials of an Authorization header: "Basic <base64(user:password)>", the scheme in
 * any case (RFC 7235), split on the first colon. FASTEPOST_EAUTH when it is not one. */
static int read_basic(unsigned char *buf, size_t *user_len, size_t *total, const char *h) {
  while (*h == ' ' || *h == '\t')
    h++;
  if (fastepost__ascii_ncasecmp(h, "basic", 5) != 0 || (h[5] != ' ' && h[5] != '\t'))
    return fastepost__error_set(FASTEPOST_EAUTH, "the Authorization header is not HTTP Basic (\"Basic <base64>\")");
  h += 5;
  while (*h == ' ' || *h == '\t')
    h++;
  size_t n = strlen(h);
  while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
    n--;
  int len = n <= MAX_TOKEN ? decode_base64(buf, h, n) : -1;
  if (len < 0)
    return fastepost__error_set(FASTEPOST_EAUTH, "the Authorization header's credentials are not base64");
  const unsigned char *colon = memchr(buf, ':', (size_t)len);
  if (!colon)
    return fastepost__error_set(FASTEPOST_EAUTH, "the Authorization header's credentials are not \"user:password\"");
  *user_len = (size_t)(colon - buf);
  *total = (size_t)len;
  return FASTEPOST_OK;
}

static int verify(const void *config, const fastepost_webhook_request *req) {
  const pd_config *c = config;
  if (!c || !c->users.count)
    return fastepost__error_set(FASTEPOST_ENOKEY,
                                "no Pipedrive credentials are configured (pipedrive.basic_auth): every request "
                                "is refused");
  if (!req || !fastepost_webhook_request_has_header(req, "Authorization"))
    return fastepost__error_set(FASTEPOST_EAUTH, "no Authorization header: set HTTP Basic credentials on the "
                                                 "Pipedrive webhook");
  unsigned char buf[MAX_TOKEN / 4 * 3 + 4];
  size_t ulen = 0, total = 0;
  int rc = read_basic(buf, &ulen, &total, fastepost_webhook_request_header(req, "Authorization"));
  if (!rc) {
    /* Every credential is compared, user and password alike, so the time taken says nothing
     * about which one (if any) was close. */
    const unsigned char *pass = buf + ulen + 1;
    size_t plen = total - ulen - 1;
    unsigned match = 0;
    for (size_t i = 0; i < c->users.count; i++) {
      unsigned u = fastepost__ct_equal(c->users.items[i], strlen(c->users.items[i]), buf, ulen);
      unsigned p = fastepost__ct_equal(c->passwords.items[i], strlen(c->passwords.items[i]), pass, plen);
      match |= u & p;
    }
    if (!match)
      rc = fastepost__error_set(FASTEPOST_EAUTH, "wrong Pipedrive webhook credentials");
  }
  for (volatile unsigned char *p = buf; p < buf + sizeof buf; p++)
    *p = 0;
  return rc;
}

/* ---- the adapter table --------------------------------------------------------------------- */

static int parse(fastepost__records *out, const void *config, const void *body, size_t len, int64_t now_us) {
  (void)config; /* the credentials were checked; parsing needs nothing else */
  return fastepost__pd_parse(out, body, len, NULL, now_us, false);
}

/* Accepted once: no size limit or time range refuses it now; only the arithmetic stays safe. */
static const fastepost__time_range any_time = FASTEPOST__TIME_RANGE_ANY;

static int reprocess(fastepost__sync_record *rec, const void *config, const char *payload, const char *event_type,
                     int64_t now_us) {
  (void)config;
  /* event_type: the payload holds it; the stored one names a failed record */
  fastepost__records recs;
  int rc = fastepost__pd_parse(&recs, payload, payload ? strlen(payload) : 0, &any_time, now_us, true);
  if (rc) /* the stored payload is not a webhook body any more */
    return fastepost__record_unreadable(rec, SOURCE, event_type, rc, fastepost_error_last()->message);
  fastepost__sync_record_clear(rec);
  *rec = recs.items[0]; /* moved: the array alone is freed */
  free(recs.items);
  return FASTEPOST_OK;
}

static int replay(fastepost__records *out, const void *config, const void *body, size_t len, const char *event,
                  const char *content_type, int64_t now_us) {
  (void)config;
  (void)event;
  (void)content_type;
  return fastepost__pd_parse(out, body, len, &any_time, now_us, true);
}

const fastepost__adapter fastepost__pipedrive_adapter = {
    .source = SOURCE,
    .dedup_key = "v2: meta.id; v1: SHA-256 of object, id, action and meta.timestamp_micro (not retry or webhook_id)",
    .version_key = "v2: meta.timestamp; v1: meta.timestamp_micro",
    .config_new = config_new,
    .config_free = config_free,
    .verify = verify,
    .parse = parse,
    .reprocess = reprocess,
    .replay = replay,
};
