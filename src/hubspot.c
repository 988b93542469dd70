/*
 * HubSpot webhooks: signature verification (v1, v2, v3), the batch parser, and the adapter that
 * turns parsed events into sync records for the sync core (sync.h).
 *
 * Verification works on the exact bytes received and never on parsed JSON (re-serialised JSON
 * differs from what HubSpot signed). The hashes come from OpenSSL's libcrypto. JSON goes through
 * the shared helpers of util/json.h, behind the plain structs of hubspot_parse.h.
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
#include "sync.h"
#include "util/json.h"
#include "util/time.h"
#include "util/digest.h"

#define SHA256_LEN FASTEPOST__SHA256_LEN
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
    fastepost__bytes parts[] = {{method, strlen(method)},
                    {uri, strlen(uri)},
                    {body, body_len},
                    {timestamp, strlen(timestamp)}};
    rc = fastepost__hmac_sha256(mac, secret, secret_len, parts, 4);
    if (!rc)
      EVP_EncodeBlock((unsigned char *)out, mac, SHA256_LEN); /* 44 chars + NUL */
  } else {
    fastepost__bytes parts[4] = {{secret, secret_len}};
    size_t n = 1;
    if (version == FASTEPOST_HUBSPOT_V2) {
      parts[n++] = (fastepost__bytes){method, strlen(method)};
      parts[n++] = (fastepost__bytes){uri, strlen(uri)};
    }
    parts[n++] = (fastepost__bytes){body, body_len};
    rc = fastepost__sha256(mac, parts, n);
    if (!rc)
      fastepost__hex(out, mac, SHA256_LEN);
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
  json_object *f = fastepost__json_get(obj, key);
  if (!f) {
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
  json_object *f = fastepost__json_get(obj, key);
  if (!f) {
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
  json_object *arr = fastepost__json_get(obj, "mergedObjectIds");
  if (!arr)
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
  /* The canonical form (the event log's payload, and what a retry parses again). */
  fastepost__buf canon = FASTEPOST__BUF_INIT;
  fastepost__json_canonical(&canon, obj);
  e->json = fastepost__buf_detach(&canon);
  /* subscriptionType is what HubSpot sends; one revision of its docs says eventType. */
  get_str(e, obj, fastepost__json_get(obj, "subscriptionType") ? "subscriptionType" : "eventType",
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
  int rc = fastepost__json_parse(out, body, len, MAX_DEPTH);
  if (rc)
    fastepost__error_prefix("HubSpot batch");
  return rc;
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
  fastepost__bytes p = {b.data, b.len};
  int rc = fastepost__sha256(digest, &p, 1);
  fastepost__buf_free(&b);
  if (!rc)
    fastepost__hex(out, digest, SHA256_LEN);
  return rc;
}

/* ---- processing: events -> sync records -> the sync core ------------------------------------ */

#define SOURCE "hubspot"

/* The contact properties synced, and the customer column each feeds, in part order: name is
 * "firstname lastname", phone the first of phone and mobilephone, address
 * "address, city, zip, country". */
static const fastepost__prop_def contact_props[] = {
    {"firstname", FASTEPOST__COL_NAME},  {"lastname", FASTEPOST__COL_NAME},
    {"email", FASTEPOST__COL_EMAIL},     {"phone", FASTEPOST__COL_PHONE},
    {"mobilephone", FASTEPOST__COL_PHONE}, {"company", FASTEPOST__COL_COMPANY},
    {"address", FASTEPOST__COL_ADDRESS}, {"city", FASTEPOST__COL_ADDRESS},
    {"zip", FASTEPOST__COL_ADDRESS},     {"country", FASTEPOST__COL_ADDRESS},
};
#define NCONTACT_PROPS (sizeof contact_props / sizeof contact_props[0])

struct fastepost_hubspot_options {
  size_t max_events;
  fastepost__time_range time_range;
  fastepost_clock_fn clock;
  void *clock_payload;
};

fastepost_status fastepost_hubspot_options_new(fastepost_hubspot_options **out) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_options_new: out is NULL");
  if (!(*out = calloc(1, sizeof **out)))
    return fastepost__error_oom();
  (*out)->max_events = FASTEPOST_HUBSPOT_DEFAULT_MAX_EVENTS;
  (*out)->time_range = (fastepost__time_range)FASTEPOST__TIME_RANGE_DEFAULT;
  return FASTEPOST_OK;
}

void fastepost_hubspot_options_free(fastepost_hubspot_options *opts) { free(opts); }

fastepost_status fastepost_hubspot_options_set_max_events(fastepost_hubspot_options *opts, size_t max_events) {
  if (!opts || max_events == 0 || max_events > 100000)
    return fastepost__error_set(FASTEPOST_EINVALID, "the batch limit must be 1 to 100000 events, not %zu",
                                max_events);
  opts->max_events = max_events;
  return FASTEPOST_OK;
}

fastepost_status fastepost_hubspot_options_set_time_range(fastepost_hubspot_options *opts, int64_t min_us,
                                                          int64_t max_ahead_us) {
  if (!opts)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_options_set_time_range: opts is NULL");
  return fastepost__time_range_set(&opts->time_range, min_us, max_ahead_us);
}

void fastepost_hubspot_options_set_clock(fastepost_hubspot_options *opts, fastepost_clock_fn clock,
                                         void *payload) {
  if (!opts)
    return;
  opts->clock = clock;
  opts->clock_payload = payload;
}

struct fastepost_hubspot_batch {
  fastepost_status status;
  size_t count, failed;
  fastepost_event_result **results;
  char **types;
  int64_t *object_ids;
};

void fastepost_hubspot_batch_free(fastepost_hubspot_batch *b) {
  if (!b)
    return;
  for (size_t i = 0; i < b->count; i++) {
    fastepost_event_result_free(b->results[i]);
    free(b->types[i]);
  }
  free(b->results);
  free(b->types);
  free(b->object_ids);
  free(b);
}

fastepost_status fastepost_hubspot_batch_status(const fastepost_hubspot_batch *b) {
  return b ? b->status : FASTEPOST_EINVALID;
}
int fastepost_hubspot_batch_http_status(const fastepost_hubspot_batch *b) {
  return fastepost_status_http(fastepost_hubspot_batch_status(b));
}
size_t fastepost_hubspot_batch_count(const fastepost_hubspot_batch *b) { return b ? b->count : 0; }
size_t fastepost_hubspot_batch_failed(const fastepost_hubspot_batch *b) { return b ? b->failed : 0; }
const fastepost_event_result *fastepost_hubspot_batch_result(const fastepost_hubspot_batch *b, size_t i) {
  return b && i < b->count ? b->results[i] : NULL;
}
const char *fastepost_hubspot_batch_event_type(const fastepost_hubspot_batch *b, size_t i) {
  return b && i < b->count && b->types[i] ? b->types[i] : "";
}
int64_t fastepost_hubspot_batch_object_id(const fastepost_hubspot_batch *b, size_t i) {
  return b && i < b->count ? b->object_ids[i] : 0;
}

static int record_fail(fastepost__sync_record *rec, int code, const char *message) {
  rec->failure = code;
  free(rec->failure_message);
  rec->failure_message = fastepost__strdup(message);
  return code;
}

/* The reason an event is logged as `ignored`: before + what (at most 64 bytes) + after. */
static int set_ignored(fastepost__sync_record *rec, const char *before, const char *what, const char *after) {
  char text[256];
  snprintf(text, sizeof text, "%s%.64s%s", before, what, after);
  rec->ignore_reason = fastepost__strdup(text);
  return rec->ignore_reason ? FASTEPOST_OK : record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
}

/* A propertyChange: the delivered value of one synced property (lower-case email). */
static int map_property(fastepost__sync_record *rec, const fastepost__hs_event *e) {
  for (size_t i = 0; i < NCONTACT_PROPS; i++) {
    if (strcmp(contact_props[i].name, e->property_name) != 0)
      continue;
    const char *v = e->property_value && *e->property_value ? e->property_value : NULL;
    int rc = fastepost__fact_set(&rec->props[i], v);
    if (rc == FASTEPOST_OK && v && contact_props[i].column == FASTEPOST__COL_EMAIL)
      for (char *p = rec->props[i].value; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    return rc ? record_fail(rec, rc, "out of memory") : FASTEPOST_OK;
  }
  return set_ignored(rec, "contact property ", e->property_name, " is not synced");
}

/* contact.merge: the surviving contact is primaryObjectId (else objectId); every other id named
 * (objectId, mergedObjectIds) is retired into it. */
static int map_merge(fastepost__sync_record *rec, const fastepost__hs_event *e) {
  int64_t target = e->primary_object_id.present ? e->primary_object_id.value : e->object_id.value;
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)target);
  free(rec->crm_id);
  rec->crm_id = fastepost__strdup(id);
  int rc = FASTEPOST_OK;
  if (e->object_id.value != target)
    rc = fastepost__strlist_addf(&rec->retired_crm_ids, "%lld", (long long)e->object_id.value);
  for (size_t i = 0; i < e->merged_count && !rc; i++)
    if (e->merged_object_ids[i] != target)
      rc = fastepost__strlist_addf(&rec->retired_crm_ids, "%lld", (long long)e->merged_object_ids[i]);
  if (!rc && !rec->retired_crm_ids.count)
    rc = set_ignored(rec, "", "contact.merge", ": the merge names no contact besides the surviving one");
  return rc || !rec->crm_id ? record_fail(rec, FASTEPOST_ENOMEM, "out of memory") : FASTEPOST_OK;
}

/* Turn one parsed event into a sync record (no database). A malformed event becomes a failed
 * record, which the core logs as an error row. */
static int event_record(fastepost__sync_record *rec, const fastepost__hs_event *e,
                        const fastepost__time_range *range, int64_t now_us) {
  fastepost__sync_record_init(rec, SOURCE);
  rec->event_type = fastepost__strdup(e->type && *e->type ? e->type : "unknown");
  rec->payload = e->json ? fastepost__strdup(e->json) : NULL;
  char key[FASTEPOST__HS_KEY_SIZE];
  if (fastepost__hs_dedup_key(key, e) == FASTEPOST_OK)
    rec->idempotency_key = fastepost__strdup(key);
  if (e->object_id.present) {
    char ext[96];
    snprintf(ext, sizeof ext, "%.32s:%lld", e->object_type ? e->object_type : "object",
             (long long)e->object_id.value);
    rec->external_id = fastepost__strdup(ext);
  }
  if (!rec->event_type)
    return record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
  if (e->error)
    return record_fail(rec, e->error, e->error_message ? e->error_message : "malformed event");
  if (!e->object_type || strcmp(e->object_type, "contact") != 0)
    return set_ignored(rec, "HubSpot ", e->object_type ? e->object_type : e->type, " events are not synced");

  /* occurredAt is in milliseconds: check before scaling to microseconds, so that no value a
   * sender can put there overflows (9223372036854775806 would wrap to 1969). */
  if (e->occurred_at.value > INT64_MAX / 1000)
    return record_fail(rec, FASTEPOST_EINVALID, "occurredAt is out of range (beyond year 9999): refused, not retried");
  int64_t occurred_us = e->occurred_at.value * 1000;
  if (fastepost__sync_time_check(occurred_us, range, now_us, "occurredAt"))
    return record_fail(rec, FASTEPOST_EINVALID, fastepost_error_last()->message);
  char id[24], version[32];
  snprintf(id, sizeof id, "%lld", (long long)e->object_id.value);
  fastepost__time_format(version, sizeof version, occurred_us);
  rec->crm_id = fastepost__strdup(id);
  rec->version = fastepost__strdup(version);
  if (!rec->crm_id || !rec->version)
    return record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
  rec->owns_customer = true; /* a contact is the customer */
  rec->prop_defs = contact_props;
  rec->nprops = NCONTACT_PROPS;
  const char *a = e->action ? e->action : "";
  if (strcmp(a, "creation") == 0) {
    rec->create_bare = true;
  } else if (strcmp(a, "propertyChange") == 0) {
    if (!e->property_name)
      return record_fail(rec, FASTEPOST_EINVALID, "a propertyChange event needs propertyName");
    return map_property(rec, e);
  } else if (strcmp(a, "deletion") == 0 || strcmp(a, "privacyDeletion") == 0) {
    rec->tombstone = true;
    rec->facts.active = 0;
  } else if (strcmp(a, "restore") == 0) {
    rec->restore = true;
    rec->facts.active = 1;
  } else if (strcmp(a, "merge") == 0) {
    return map_merge(rec, e);
  } else {
    return set_ignored(rec, "contact.", a, " events are not synced");
  }
  return FASTEPOST_OK;
}

static int batch_new(fastepost_hubspot_batch **out, size_t n) {
  fastepost_hubspot_batch *b = calloc(1, sizeof *b);
  if (b && n) {
    b->results = calloc(n, sizeof *b->results);
    b->types = calloc(n, sizeof *b->types);
    b->object_ids = calloc(n, sizeof *b->object_ids);
  }
  if (!b || (n && (!b->results || !b->types || !b->object_ids))) {
    fastepost_hubspot_batch_free(b);
    return fastepost__error_oom();
  }
  b->count = n;
  for (size_t i = 0; i < n; i++)
    if (!(b->results[i] = fastepost__result_new())) {
      fastepost_hubspot_batch_free(b);
      return FASTEPOST_ENOMEM;
    }
  *out = b;
  return FASTEPOST_OK;
}

/* Hand the batch to the caller (or free it) with its final status. */
static fastepost_status finish(fastepost_hubspot_batch **out, fastepost_hubspot_batch *b, int rc) {
  if (b) {
    b->status = rc;
    b->failed = 0;
    for (size_t i = 0; i < b->count; i++)
      b->failed += b->results[i]->code != FASTEPOST_OK;
  }
  if (out)
    *out = b;
  else
    fastepost_hubspot_batch_free(b);
  return rc;
}

/* Apply the parsed events in one transaction; fills b (which has one result per event). */
static int apply_events(fastepost_hubspot_batch *b, fastepost_conn *conn, const fastepost__hs_batch *parsed,
                        const fastepost_hubspot_options *opts) {
  size_t n = parsed->count;
  fastepost__sync_record *recs = calloc(n ? n : 1, sizeof *recs);
  if (!recs)
    return fastepost__error_oom();
  int64_t now_us = opts->clock ? opts->clock(opts->clock_payload) : FASTEPOST__SYNC_SERVER_CLOCK;
  for (size_t i = 0; i < n; i++) {
    const fastepost__hs_event *e = &parsed->events[i];
    event_record(&recs[i], e, &opts->time_range, now_us);
    b->types[i] = e->type ? fastepost__strdup(e->type) : NULL;
    b->object_ids[i] = e->object_id.present ? e->object_id.value : 0;
  }
  fastepost__sync_ctx ctx = {.now_us = now_us,
                             .in_batch = true,
                             .max_attempts = FASTEPOST_EVENTS_MAX_ATTEMPTS};
  int rc = fastepost__sync_batch_begin(conn);
  bool began = rc == FASTEPOST_OK;
  if (rc == FASTEPOST_OK)
    rc = fastepost__sync_process_many(b->results, conn, recs, n, &ctx);
  if (rc == FASTEPOST_OK)
    rc = fastepost__sync_batch_commit(conn);
  for (size_t i = 0; i < n; i++)
    fastepost__sync_record_clear(&recs[i]);
  free(recs);
  if (rc == FASTEPOST_OK)
    return FASTEPOST_OK;
  /* Nothing of the batch was applied: every result says so. */
  char message[1024];
  snprintf(message, sizeof message, "batch not committed: %s", fastepost_error_last()->message);
  if (began)
    fastepost__tx_rollback(conn);
  for (size_t i = 0; i < n; i++) {
    fastepost_event_result *r = b->results[i];
    r->outcome = FASTEPOST_OUTCOME_NONE;
    r->event_id = r->customer_id = r->remark_id = r->task_id = 0;
    fastepost__error_set(rc, "%s", message);
    fastepost__result_fail(r, rc);
  }
  return fastepost__error_set(rc, "%s", message);
}

fastepost_status fastepost_hubspot_process(fastepost_hubspot_batch **out, fastepost_conn *conn,
                                           const fastepost_hubspot_verifier *verifier, const char *version,
                                           const char *method, const char *uri, const char *timestamp,
                                           const char *signature, const void *body, size_t len,
                                           const fastepost_hubspot_options *opts) {
  if (out)
    *out = NULL;
  fastepost_hubspot_batch *b = NULL;
  if (batch_new(&b, 0))
    return FASTEPOST_ENOMEM;
  if (!conn || (!body && len))
    return finish(out, b, fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_process: NULL argument"));
  fastepost_hubspot_options defaults = {.max_events = FASTEPOST_HUBSPOT_DEFAULT_MAX_EVENTS,
                                       .time_range = FASTEPOST__TIME_RANGE_DEFAULT};
  if (!opts)
    opts = &defaults;
  int rc;
  /* Refused requests write nothing: verify before anything else, over the raw bytes. */
  if (verifier &&
      (rc = fastepost_hubspot_verify(NULL, verifier, version, method, uri, timestamp, signature, body, len)))
    return finish(out, b, rc);
  fastepost__hs_batch parsed;
  if ((rc = fastepost__hs_parse_batch(&parsed, body, len, opts->max_events)))
    return finish(out, b, rc);
  fastepost_hubspot_batch *full = NULL;
  if ((rc = batch_new(&full, parsed.count))) {
    fastepost__hs_batch_free(&parsed);
    return finish(out, b, rc);
  }
  fastepost_hubspot_batch_free(b);
  rc = apply_events(full, conn, &parsed, opts);
  fastepost__hs_batch_free(&parsed);
  if (rc == FASTEPOST_OK)
    fastepost_error_clear();
  return finish(out, full, rc);
}

int fastepost__hubspot_reprocess(fastepost_event_result **out, fastepost_conn *conn, int64_t event_id,
                                 const char *payload, const char *event_type, int max_attempts, int64_t now_us) {
  (void)event_type; /* the payload holds it */
  *out = NULL;
  fastepost_event_result *res = fastepost__result_new();
  if (!res)
    return FASTEPOST_ENOMEM;
  fastepost__hs_event e = {0};
  fastepost__sync_record rec;
  json_object *obj = NULL;
  if (parse_json(&obj, payload ? payload : "", payload ? strlen(payload) : 0) == FASTEPOST_OK)
    parse_event(&e, obj);
  else
    event_fail(&e, FASTEPOST_EPARSE, "the stored payload is not JSON");
  json_object_put(obj);
  /* The time range was checked when the request came in (with its options, gone now): a retry
   * only keeps the arithmetic safe. */
  const fastepost__time_range any = {0, FASTEPOST__TIME_LIMIT_US};
  event_record(&rec, &e, &any, now_us);
  rec.event_id = event_id;
  fastepost__sync_ctx ctx = {.now_us = now_us,
                             .max_attempts = max_attempts > 0 ? max_attempts : FASTEPOST_EVENTS_MAX_ATTEMPTS};
  int rc = fastepost__sync_process(res, conn, &rec, &ctx);
  fastepost__sync_record_clear(&rec);
  event_free(&e);
  *out = res;
  return rc;
}
