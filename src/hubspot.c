/*
 * HubSpot webhooks: signature verification (v1, v2, v3) and the batch parser.
 *
 * Verification works on the exact bytes received and never on parsed JSON (re-serialised JSON
 * differs from what HubSpot signed). The hashes come from OpenSSL's libcrypto. JSON (json-c)
 * is used only in this file, behind the plain structs of hubspot_parse.h.
 */
#include <errno.h>
#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hubspot_parse.h"
#include "internal.h"

#define SHA256_LEN 32
#define ALL_VERSIONS (FASTEPOST_HUBSPOT_V1 | FASTEPOST_HUBSPOT_V2 | FASTEPOST_HUBSPOT_V3)

struct fastepost_hubspot_verifier {
  char *secrets[FASTEPOST_HUBSPOT_MAX_SECRETS];
  size_t secret_len[FASTEPOST_HUBSPOT_MAX_SECRETS];
  int nsecrets;
  unsigned versions;
  int64_t tolerance_ms;
  int64_t now_ms; /* < 0: the system clock */
  size_t max_body;
};

/* ---- the verifier ------------------------------------------------------------------------ */

fastepost_status fastepost_hubspot_verifier_new(fastepost_hubspot_verifier **out) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_verifier_new: out is NULL");
  *out = calloc(1, sizeof **out);
  if (!*out)
    return fastepost__error_oom();
  (*out)->versions = FASTEPOST_HUBSPOT_V3;
  (*out)->tolerance_ms = FASTEPOST_HUBSPOT_DEFAULT_TOLERANCE_MS;
  (*out)->now_ms = -1;
  (*out)->max_body = FASTEPOST_HUBSPOT_DEFAULT_MAX_BODY;
  return FASTEPOST_OK;
}

void fastepost_hubspot_verifier_clear_secrets(fastepost_hubspot_verifier *v) {
  if (!v)
    return;
  for (int i = 0; i < v->nsecrets; i++) {
    OPENSSL_cleanse(v->secrets[i], v->secret_len[i]);
    free(v->secrets[i]);
    v->secrets[i] = NULL;
  }
  v->nsecrets = 0;
}

void fastepost_hubspot_verifier_free(fastepost_hubspot_verifier *v) {
  fastepost_hubspot_verifier_clear_secrets(v);
  free(v);
}

fastepost_status fastepost_hubspot_verifier_add_secret(fastepost_hubspot_verifier *v,
                                                       const char *secret) {
  if (!v || !secret || !*secret)
    return fastepost__error_set(FASTEPOST_EINVALID, "HubSpot verifier: the secret is empty");
  if (v->nsecrets >= FASTEPOST_HUBSPOT_MAX_SECRETS)
    return fastepost__error_set(FASTEPOST_ETOOBIG, "HubSpot verifier: at most %d secrets",
                                FASTEPOST_HUBSPOT_MAX_SECRETS);
  char *copy = fastepost__strdup(secret);
  if (!copy)
    return FASTEPOST_ENOMEM;
  v->secret_len[v->nsecrets] = strlen(copy);
  v->secrets[v->nsecrets++] = copy;
  return FASTEPOST_OK;
}

fastepost_status fastepost_hubspot_verifier_set_versions(fastepost_hubspot_verifier *v,
                                                         unsigned versions) {
  if (!v || versions == 0 || (versions & ~(unsigned)ALL_VERSIONS))
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "HubSpot verifier: versions must be a non-empty combination of "
                                "V1, V2 and V3 (got %u)",
                                versions);
  v->versions = versions;
  return FASTEPOST_OK;
}

fastepost_status fastepost_hubspot_verifier_set_tolerance(fastepost_hubspot_verifier *v, int64_t ms) {
  if (!v || ms < 1 || ms > 86400000)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "HubSpot verifier: the tolerance must be 1 to 86400000 ms");
  v->tolerance_ms = ms;
  return FASTEPOST_OK;
}

void fastepost_hubspot_verifier_set_now(fastepost_hubspot_verifier *v, int64_t now_ms) {
  if (v)
    v->now_ms = now_ms < 0 ? -1 : now_ms;
}

fastepost_status fastepost_hubspot_verifier_set_max_body(fastepost_hubspot_verifier *v,
                                                         size_t bytes) {
  if (!v || bytes == 0)
    return fastepost__error_set(FASTEPOST_EINVALID, "HubSpot verifier: max body must be >= 1");
  v->max_body = bytes;
  return FASTEPOST_OK;
}

/* ---- hashing ----------------------------------------------------------------------------- */

/* A list of byte ranges hashed one after the other, so that nothing is concatenated. */
typedef struct part {
  const void *data;
  size_t len;
} part;

static int sha256_parts(unsigned char out[SHA256_LEN], const part *parts, size_t n) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned int outlen = 0;
  int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  for (size_t i = 0; ok && i < n; i++)
    ok = EVP_DigestUpdate(ctx, parts[i].data, parts[i].len);
  ok = ok && EVP_DigestFinal_ex(ctx, out, &outlen) && outlen == SHA256_LEN;
  EVP_MD_CTX_free(ctx);
  return ok ? FASTEPOST_OK : fastepost__error_set(FASTEPOST_ERROR, "OpenSSL SHA-256 failed");
}

static int hmac_sha256_parts(unsigned char out[SHA256_LEN], const char *key, size_t keylen,
                             const part *parts, size_t n) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  size_t outlen = 0;
  int ok = ctx && EVP_MAC_init(ctx, (const unsigned char *)key, keylen, params);
  for (size_t i = 0; ok && i < n; i++)
    ok = EVP_MAC_update(ctx, parts[i].data, parts[i].len);
  ok = ok && EVP_MAC_final(ctx, out, &outlen, SHA256_LEN) && outlen == SHA256_LEN;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return ok ? FASTEPOST_OK : fastepost__error_set(FASTEPOST_ERROR, "OpenSSL HMAC-SHA256 failed");
}

static void to_hex(char *out, const unsigned char *bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  out[2 * n] = '\0';
}

/* The 12 escapes HubSpot decodes before signing with v3 (validating-requests, step 2). */
static int decoded_char(const char *p) {
  static const struct {
    const char hex[3];
    char c;
  } table[] = {{"3A", ':'}, {"2F", '/'},  {"3F", '?'}, {"40", '@'}, {"21", '!'}, {"24", '$'},
               {"27", '\''}, {"28", '('}, {"29", ')'}, {"2A", '*'}, {"2C", ','}, {"3B", ';'}};
  if (p[0] != '%' || !p[1] || !p[2])
    return -1;
  char hi = p[1], lo = p[2] >= 'a' && p[2] <= 'f' ? (char)(p[2] - 'a' + 'A') : p[2];
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (table[i].hex[0] == hi && table[i].hex[1] == lo)
      return (unsigned char)table[i].c;
  return -1;
}

fastepost_status fastepost_hubspot_decode_uri(char **out, const char *uri) {
  if (!out || !uri)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_decode_uri: NULL argument");
  *out = NULL;
  char *d = malloc(strlen(uri) + 1), *w = d;
  if (!d)
    return fastepost__error_oom();
  for (const char *p = uri; *p;) {
    int c = decoded_char(p);
    if (c >= 0) {
      *w++ = (char)c;
      p += 3;
    } else {
      *w++ = *p++;
    }
  }
  *w = '\0';
  *out = d;
  return FASTEPOST_OK;
}

/*
 * The signature for one secret: Base64 (v3) or hex (v1, v2) into out (>= 65 bytes).
 * `uri` is already decoded for v3.
 */
static int compute(char out[65], unsigned version, const char *secret, size_t secret_len,
                   const char *method, const char *uri, const char *timestamp, const void *body,
                   size_t body_len) {
  unsigned char mac[SHA256_LEN];
  int rc;
  if (version == FASTEPOST_HUBSPOT_V3) {
    part parts[] = {{method, strlen(method)},
                    {uri, strlen(uri)},
                    {body, body_len},
                    {timestamp, strlen(timestamp)}};
    rc = hmac_sha256_parts(mac, secret, secret_len, parts, 4);
    if (!rc)
      EVP_EncodeBlock((unsigned char *)out, mac, SHA256_LEN); /* 44 chars + NUL */
  } else {
    part parts[4] = {{secret, secret_len}};
    size_t n = 1;
    if (version == FASTEPOST_HUBSPOT_V2) {
      parts[n++] = (part){method, strlen(method)};
      parts[n++] = (part){uri, strlen(uri)};
    }
    parts[n++] = (part){body, body_len};
    rc = sha256_parts(mac, parts, n);
    if (!rc)
      to_hex(out, mac, SHA256_LEN);
  }
  OPENSSL_cleanse(mac, sizeof mac);
  return rc;
}

static int parse_version(unsigned *out, const char *version) {
  if (!version || strcmp(version, "v3") == 0 || strcmp(version, "V3") == 0)
    *out = FASTEPOST_HUBSPOT_V3;
  else if (strcmp(version, "v1") == 0 || strcmp(version, "V1") == 0)
    *out = FASTEPOST_HUBSPOT_V1;
  else if (strcmp(version, "v2") == 0 || strcmp(version, "V2") == 0)
    *out = FASTEPOST_HUBSPOT_V2;
  else
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "unknown HubSpot signature version (expected v1, v2 or v3)");
  return FASTEPOST_OK;
}

static const char *version_name(unsigned version) {
  return version == FASTEPOST_HUBSPOT_V1 ? "v1" : version == FASTEPOST_HUBSPOT_V2 ? "v2" : "v3";
}

/* Milliseconds: 1 to 18 decimal digits (no overflow), nothing else (no sign, no ".0", no spaces). */
static bool parse_ms(int64_t *out, const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 18)
    return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

static int64_t clock_ms(const fastepost_hubspot_verifier *v) {
  if (v->now_ms >= 0)
    return v->now_ms;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int check_inputs(unsigned version, const char *method, const char *uri,
                        const char *timestamp) {
  if (version != FASTEPOST_HUBSPOT_V1 && (!method || !*method))
    return fastepost__error_set(FASTEPOST_EAUTH, "HubSpot %s signature: the HTTP method is missing",
                                version_name(version));
  if (version != FASTEPOST_HUBSPOT_V1 && (!uri || !*uri))
    return fastepost__error_set(FASTEPOST_EAUTH, "HubSpot %s signature: the request URI is missing",
                                version_name(version));
  if (version == FASTEPOST_HUBSPOT_V3 && (!timestamp || !*timestamp))
    return fastepost__error_set(FASTEPOST_EAUTH,
                                "HubSpot v3 signature: missing header value "
                                "X-HubSpot-Request-Timestamp");
  return FASTEPOST_OK;
}

static int check_fresh(const fastepost_hubspot_verifier *v, const char *timestamp) {
  int64_t ts;
  if (!parse_ms(&ts, timestamp)) {
    char preview[64];
    fastepost__preview(preview, sizeof preview, timestamp, strlen(timestamp));
    return fastepost__error_set(FASTEPOST_EAUTH,
                                "HubSpot v3 signature: X-HubSpot-Request-Timestamp '%s' is not "
                                "a whole number of milliseconds",
                                preview);
  }
  int64_t now = clock_ms(v);
  if (now - ts > v->tolerance_ms)
    return fastepost__error_set(FASTEPOST_EAUTH,
                                "HubSpot v3 signature: stale timestamp, %lld ms old (the limit "
                                "is %lld ms): a replayed or delayed request",
                                (long long)(now - ts), (long long)v->tolerance_ms);
  if (ts - now > v->tolerance_ms)
    return fastepost__error_set(FASTEPOST_EAUTH,
                                "HubSpot v3 signature: future timestamp, %lld ms ahead of this "
                                "clock (the limit is %lld ms): check the clocks",
                                (long long)(ts - now), (long long)v->tolerance_ms);
  return FASTEPOST_OK;
}

fastepost_status fastepost_hubspot_verify(int *secret_index, const fastepost_hubspot_verifier *v,
                                          const char *version, const char *method,
                                          const char *uri, const char *timestamp,
                                          const char *signature, const void *body,
                                          size_t body_len) {
  if (secret_index)
    *secret_index = -1;
  if (!v)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_verify: verifier is NULL");
  if (!body && body_len)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_verify: body is NULL");
  unsigned ver = FASTEPOST_HUBSPOT_V3;
  int rc = parse_version(&ver, version);
  if (rc)
    return rc;
  /* Fail closed before looking at anything else: a missing configuration must never pass. */
  if (v->nsecrets == 0)
    return fastepost__error_set(FASTEPOST_ENOKEY,
                                "no HubSpot client secret is configured: every request is refused");
  if (!(v->versions & ver))
    return fastepost__error_set(FASTEPOST_EAUTH,
                                "HubSpot %s signatures are not accepted (enable them explicitly; "
                                "they have no replay protection)",
                                version_name(ver));
  if (body_len > v->max_body)
    return fastepost__error_set(FASTEPOST_ETOOBIG,
                                "HubSpot request body of %zu bytes exceeds the limit of %zu",
                                body_len, v->max_body);
  if (!signature || !*signature)
    return fastepost__error_set(FASTEPOST_EAUTH, "HubSpot %s signature: missing header value %s",
                                version_name(ver),
                                ver == FASTEPOST_HUBSPOT_V3 ? "X-HubSpot-Signature-v3"
                                                            : "X-HubSpot-Signature");
  if ((rc = check_inputs(ver, method, uri, timestamp)))
    return rc;
  if (ver == FASTEPOST_HUBSPOT_V3 && (rc = check_fresh(v, timestamp)))
    return rc;

  char *decoded = NULL;
  if (ver == FASTEPOST_HUBSPOT_V3 && (rc = fastepost_hubspot_decode_uri(&decoded, uri)))
    return rc;
  /* Hex digests may arrive in upper case; Base64 is case-sensitive. */
  char presented[65] = "";
  size_t plen = strlen(signature);
  bool hex = ver != FASTEPOST_HUBSPOT_V3;
  if (plen < sizeof presented) {
    for (size_t i = 0; i < plen; i++)
      presented[i] = hex && signature[i] >= 'A' && signature[i] <= 'F' ? (char)(signature[i] + 32)
                                                                       : signature[i];
    presented[plen] = '\0';
  }
  int match = -1;
  /* Every secret is tried even after a match, so the time taken does not tell which matched. */
  for (int i = 0; i < v->nsecrets && !rc; i++) {
    char expected[65];
    rc = compute(expected, ver, v->secrets[i], v->secret_len[i], method, decoded ? decoded : uri,
                 timestamp, body, body_len);
    if (!rc && plen < sizeof presented &&
        fastepost__ct_equal(expected, strlen(expected), presented, plen) && match < 0)
      match = i;
    OPENSSL_cleanse(expected, sizeof expected);
  }
  free(decoded);
  if (rc)
    return rc;
  if (match < 0)
    return fastepost__error_set(FASTEPOST_EAUTH,
                                "HubSpot %s signature mismatch: the request was not signed with "
                                "any configured secret, or the %s differs from what was signed",
                                version_name(ver),
                                ver == FASTEPOST_HUBSPOT_V1 ? "body"
                                                            : "method, URI, body or timestamp");
  if (secret_index)
    *secret_index = match;
  return FASTEPOST_OK;
}

fastepost_status fastepost_hubspot_sign(char **out, unsigned version, const char *secret,
                                        const char *method, const char *uri, const char *timestamp,
                                        const void *body, size_t body_len) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_sign: out is NULL");
  *out = NULL;
  if (version != FASTEPOST_HUBSPOT_V1 && version != FASTEPOST_HUBSPOT_V2 &&
      version != FASTEPOST_HUBSPOT_V3)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_sign: bad version %u",
                                version);
  if (!secret || !*secret || (!body && body_len) ||
      (version != FASTEPOST_HUBSPOT_V1 && (!method || !uri)) ||
      (version == FASTEPOST_HUBSPOT_V3 && !timestamp))
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_sign: missing input");
  char *decoded = NULL;
  int rc = FASTEPOST_OK;
  if (version == FASTEPOST_HUBSPOT_V3 && (rc = fastepost_hubspot_decode_uri(&decoded, uri)))
    return rc;
  char sig[65];
  rc = compute(sig, version, secret, strlen(secret), method, decoded ? decoded : uri, timestamp,
               body, body_len);
  free(decoded);
  if (!rc && !(*out = fastepost__strdup(sig)))
    rc = FASTEPOST_ENOMEM;
  return rc;
}

/* ---- batch parsing ----------------------------------------------------------------------- */

/* HubSpot's objectTypeId values for the generic "object.*" subscriptions. */
static const char *object_type_for_id(const char *id) {
  static const struct {
    const char *id, *name;
  } map[] = {{"0-1", "contact"}, {"0-2", "company"},   {"0-3", "deal"},
             {"0-5", "ticket"},  {"0-7", "product"},   {"0-8", "line_item"},
             {"0-11", "conversation"}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(map[i].id, id) == 0)
      return map[i].name;
  return NULL;
}

static const char *json_kind(json_object *o) {
  return o ? json_type_to_name(json_object_get_type(o)) : "null";
}

/* Record an event's error (the first one wins). Returns the code. */
static int event_fail(fastepost__hs_event *e, int code, const char *fmt, ...)
    FASTEPOST__PRINTF(3, 4);
static int event_fail(fastepost__hs_event *e, int code, const char *fmt, ...) {
  if (e->error)
    return e->error;
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&b, "event %zu: ", e->index);
  va_list ap;
  va_start(ap, fmt);
  char msg[256];
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fastepost__buf_puts(&b, msg);
  e->error = code;
  e->error_message = fastepost__buf_detach(&b);
  return code;
}

/* An optional non-negative integer field. */
static void get_int(fastepost__hs_event *e, json_object *obj, const char *key,
                    fastepost__hs_int *out, bool required) {
  json_object *f = NULL;
  if (!json_object_object_get_ex(obj, key, &f) || f == NULL) {
    if (required)
      event_fail(e, FASTEPOST_EINVALID, "required field %s is missing", key);
    return;
  }
  if (!json_object_is_type(f, json_type_int)) {
    event_fail(e, FASTEPOST_EINVALID, "%s must be an integer, not %s", key, json_kind(f));
    return;
  }
  errno = 0;
  int64_t v = json_object_get_int64(f);
  /* json-c saturates values beyond int64 at INT64_MAX. */
  if (v < 0 || v == INT64_MAX) {
    event_fail(e, FASTEPOST_EINVALID, "%s is out of range (%s)", key,
               json_object_to_json_string(f));
    return;
  }
  out->present = true;
  out->value = v;
}

/* An optional string field; required ones fail when missing. */
static void get_str(fastepost__hs_event *e, json_object *obj, const char *key, char **out,
                    bool required) {
  json_object *f = NULL;
  if (!json_object_object_get_ex(obj, key, &f) || f == NULL) {
    if (required)
      event_fail(e, FASTEPOST_EINVALID, "required field %s is missing", key);
    return;
  }
  if (!json_object_is_type(f, json_type_string)) {
    event_fail(e, FASTEPOST_EINVALID, "%s must be a string, not %s", key, json_kind(f));
    return;
  }
  *out = fastepost__strndup(json_object_get_string(f), (size_t)json_object_get_string_len(f));
  if (!*out)
    event_fail(e, FASTEPOST_ENOMEM, "out of memory");
}

static void parse_merged(fastepost__hs_event *e, json_object *obj) {
  json_object *arr = NULL;
  if (!json_object_object_get_ex(obj, "mergedObjectIds", &arr) || arr == NULL)
    return;
  if (!json_object_is_type(arr, json_type_array)) {
    event_fail(e, FASTEPOST_EINVALID, "mergedObjectIds must be an array, not %s", json_kind(arr));
    return;
  }
  size_t n = json_object_array_length(arr);
  if (n == 0)
    return;
  e->merged_object_ids = calloc(n, sizeof *e->merged_object_ids);
  if (!e->merged_object_ids) {
    event_fail(e, FASTEPOST_ENOMEM, "out of memory");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    json_object *x = json_object_array_get_idx(arr, i);
    int64_t v = json_object_is_type(x, json_type_int) ? json_object_get_int64(x) : -1;
    if (v < 0 || v == INT64_MAX) {
      event_fail(e, FASTEPOST_EINVALID, "mergedObjectIds[%zu] must be an integer ID", i);
      return;
    }
    e->merged_object_ids[e->merged_count++] = v;
  }
}

static void derive_kind(fastepost__hs_event *e) {
  const char *dot = strchr(e->type, '.');
  if (!dot)
    return;
  size_t prefix = (size_t)(dot - e->type);
  const char *object = NULL;
  if (prefix == 6 && strncmp(e->type, "object", 6) == 0) {
    object = e->object_type_id ? object_type_for_id(e->object_type_id) : NULL;
    e->object_type = object ? fastepost__strdup(object) : NULL;
  } else {
    e->object_type = fastepost__strndup(e->type, prefix);
  }
  e->action = fastepost__strdup(dot + 1);
}

static void parse_event(fastepost__hs_event *e, json_object *obj) {
  if (!json_object_is_type(obj, json_type_object)) {
    event_fail(e, FASTEPOST_EINVALID, "must be a JSON object, not %s", json_kind(obj));
    return;
  }
  e->json = fastepost__strdup(json_object_to_json_string_ext(
      obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
  /* subscriptionType is what HubSpot sends; one revision of its docs says eventType. */
  json_object *t = NULL;
  get_str(e, obj, json_object_object_get_ex(obj, "subscriptionType", &t) && t ? "subscriptionType"
                                                                              : "eventType",
          &e->type, false);
  if (!e->type && !e->error)
    event_fail(e, FASTEPOST_EINVALID, "required field subscriptionType (or eventType) is missing");
  else if (e->type && !*e->type)
    event_fail(e, FASTEPOST_EINVALID, "subscriptionType is empty");
  get_str(e, obj, "objectTypeId", &e->object_type_id, false);
  get_int(e, obj, "objectId", &e->object_id, true);
  get_int(e, obj, "occurredAt", &e->occurred_at, true);
  get_int(e, obj, "eventId", &e->event_id, false);
  get_int(e, obj, "subscriptionId", &e->subscription_id, false);
  get_int(e, obj, "portalId", &e->portal_id, false);
  get_int(e, obj, "appId", &e->app_id, false);
  get_int(e, obj, "attemptNumber", &e->attempt_number, false);
  get_int(e, obj, "primaryObjectId", &e->primary_object_id, false);
  get_int(e, obj, "newObjectId", &e->new_object_id, false);
  get_str(e, obj, "propertyName", &e->property_name, false);
  get_str(e, obj, "propertyValue", &e->property_value, false);
  get_str(e, obj, "changeSource", &e->change_source, false);
  parse_merged(e, obj);
  if (e->type && *e->type)
    derive_kind(e);
}

static void event_free(fastepost__hs_event *e) {
  free(e->error_message);
  free(e->type);
  free(e->object_type);
  free(e->action);
  free(e->object_type_id);
  free(e->property_name);
  free(e->property_value);
  free(e->change_source);
  free(e->merged_object_ids);
  free(e->json);
}

void fastepost__hs_batch_free(fastepost__hs_batch *batch) {
  if (!batch)
    return;
  for (size_t i = 0; i < batch->count; i++)
    event_free(&batch->events[i]);
  free(batch->events);
  batch->events = NULL;
  batch->count = batch->bad = 0;
}

/* Nesting deeper than this is not a HubSpot payload. */
#define MAX_DEPTH 16

static int parse_json(json_object **out, const char *body, size_t len) {
  size_t bad;
  if (!fastepost__utf8_valid(body, len, &bad))
    return fastepost__error_set(FASTEPOST_EPARSE, "HubSpot batch: invalid UTF-8 at byte %zu", bad);
  if (len > INT32_MAX)
    return fastepost__error_set(FASTEPOST_ETOOBIG, "HubSpot batch: body too large");
  json_tokener *tok = json_tokener_new_ex(MAX_DEPTH);
  if (!tok)
    return fastepost__error_oom();
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  json_object *root = json_tokener_parse_ex(tok, body, (int)len);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  size_t end = json_tokener_get_parse_end(tok);
  json_tokener_free(tok);
  if (jerr == json_tokener_continue)
    return fastepost__error_set(FASTEPOST_EPARSE, "HubSpot batch: the JSON ends early (byte %zu)",
                                len);
  if (jerr != json_tokener_success)
    return fastepost__error_set(FASTEPOST_EPARSE, "HubSpot batch: invalid JSON near byte %zu: %s",
                                end, json_tokener_error_desc(jerr));
  for (size_t i = end; i < len; i++)
    if (!strchr(" \t\r\n", body[i])) {
      json_object_put(root);
      return fastepost__error_set(FASTEPOST_EPARSE,
                                  "HubSpot batch: unexpected data after the JSON at byte %zu", i);
    }
  *out = root;
  return FASTEPOST_OK;
}

int fastepost__hs_parse_batch(fastepost__hs_batch *out, const char *body, size_t len,
                              size_t max_events) {
  if (!out || (!body && len))
    return fastepost__error_set(FASTEPOST_EINVALID, "HubSpot batch: NULL argument");
  memset(out, 0, sizeof *out);
  if (max_events == 0)
    max_events = FASTEPOST__HS_DEFAULT_MAX_EVENTS;
  json_object *root = NULL;
  int rc = parse_json(&root, body ? body : "", len);
  if (rc)
    return rc;
  if (!json_object_is_type(root, json_type_array)) {
    rc = fastepost__error_set(FASTEPOST_EPARSE, "HubSpot batch: expected a JSON array of events, "
                                                "got %s",
                              json_kind(root));
    json_object_put(root);
    return rc;
  }
  size_t n = json_object_array_length(root);
  if (n > max_events) {
    json_object_put(root);
    return fastepost__error_set(FASTEPOST_ETOOBIG,
                                "HubSpot batch of %zu events exceeds the limit of %zu", n,
                                max_events);
  }
  out->events = n ? calloc(n, sizeof *out->events) : NULL;
  if (n && !out->events) {
    json_object_put(root);
    return fastepost__error_oom();
  }
  out->count = n;
  for (size_t i = 0; i < n; i++) {
    fastepost__hs_event *e = &out->events[i];
    e->index = i;
    parse_event(e, json_object_array_get_idx(root, i));
    if (e->error)
      out->bad++;
  }
  json_object_put(root);
  return FASTEPOST_OK;
}

/* Length-prefixed, so ("ab","c") and ("a","bc") hash differently; absent differs from "". */
static void key_str(fastepost__buf *b, const char *s) {
  if (s)
    fastepost__buf_printf(b, "%zu:%s;", strlen(s), s);
  else
    fastepost__buf_puts(b, "-;");
}

static void key_int(fastepost__buf *b, const fastepost__hs_int *x) {
  if (x->present)
    fastepost__buf_printf(b, "%lld;", (long long)x->value);
  else
    fastepost__buf_puts(b, "-;");
}

int fastepost__hs_dedup_key(char out[FASTEPOST__HS_KEY_SIZE], const fastepost__hs_event *e) {
  if (!out || !e)
    return fastepost__error_set(FASTEPOST_EINVALID, "HubSpot dedup key: NULL argument");
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&b, "hubspot-event-v1;");
  key_int(&b, &e->app_id);
  key_int(&b, &e->portal_id);
  key_int(&b, &e->subscription_id);
  key_int(&b, &e->event_id);
  key_int(&b, &e->object_id);
  key_int(&b, &e->occurred_at);
  key_str(&b, e->type);
  key_str(&b, e->object_type_id);
  key_str(&b, e->property_name);
  if (b.oom) {
    fastepost__buf_free(&b);
    return FASTEPOST_ENOMEM;
  }
  unsigned char digest[SHA256_LEN];
  part p = {b.data, b.len};
  int rc = sha256_parts(digest, &p, 1);
  fastepost__buf_free(&b);
  if (!rc)
    to_hex(out, digest, SHA256_LEN);
  return rc;
}
