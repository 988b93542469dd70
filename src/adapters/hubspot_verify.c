/* SPDX-License-Identifier: MIT */
/*
 * The HubSpot adapter, verification: the verifier and request signatures (v1, v2, v3).
 *
 * Verification works on the exact bytes received and never on parsed JSON (re-serialised JSON
 * differs from what HubSpot signed). The hashes come from OpenSSL's libcrypto. Parsing is in
 * hubspot_parse.c, the adapter (events -> sync records) in hubspot.c.
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

#include "adapters/adapter.h"
#include "adapters/hubspot_parse.h"
#include "fastepost/hubspot.h"
#include "internal.h"
#include "sync.h"
#include "util/json.h"
#include "util/time.h"
#include "util/digest.h"

#define SHA256_LEN FASTEPOST__SHA256_LEN
#define ALL_VERSIONS (FASTEPOST_HUBSPOT_VERSION_V1 | FASTEPOST_HUBSPOT_VERSION_V2 | FASTEPOST_HUBSPOT_VERSION_V3)

struct fastepost_hubspot_verifier {
  char *secrets[FASTEPOST_HUBSPOT_MAX_SECRETS];
  size_t secret_len[FASTEPOST_HUBSPOT_MAX_SECRETS];
  int nsecrets;
  unsigned versions;
  int64_t tolerance_ms;
  int64_t now_ms; /* < 0: the system clock (set in microseconds, compared in milliseconds) */
  size_t max_body;
};

/* ---- the verifier ------------------------------------------------------------------------ */

fastepost_status fastepost_hubspot_verifier_new(fastepost_hubspot_verifier **out) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_verifier_new: out is NULL");
  *out = calloc(1, sizeof **out);
  if (!*out)
    return fastepost__error_oom();
  (*out)->versions = FASTEPOST_HUBSPOT_VERSION_V3;
  (*out)->tolerance_ms = FASTEPOST_HUBSPOT_DEFAULT_TOLERANCE_US / 1000;
  (*out)->now_ms = -1;
  (*out)->max_body = FASTEPOST_HUBSPOT_DEFAULT_MAX_BODY;
  return FASTEPOST_OK;
}

fastepost_status fastepost_hubspot_verifier_clear_secrets(fastepost_hubspot_verifier *v) {
  if (!v)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_verifier_clear_secrets: verifier is NULL");
  for (int i = 0; i < v->nsecrets; i++) {
    OPENSSL_cleanse(v->secrets[i], v->secret_len[i]);
    free(v->secrets[i]);
    v->secrets[i] = NULL;
  }
  v->nsecrets = 0;
  return FASTEPOST_OK;
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

fastepost_status fastepost_hubspot_verifier_set_tolerance(fastepost_hubspot_verifier *v, int64_t us) {
  if (v && us == 0)
    us = FASTEPOST_HUBSPOT_DEFAULT_TOLERANCE_US;
  if (!v || us < 1000 || us > INT64_C(86400000000))
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "HubSpot verifier: the tolerance must be 1 ms to 1 day (1000 to 86400000000 us)");
  v->tolerance_ms = us / 1000;
  return FASTEPOST_OK;
}

fastepost_status fastepost_hubspot_verifier_set_now(fastepost_hubspot_verifier *v, int64_t now_us) {
  if (!v || now_us < 0)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_verifier_set_now: %s",
                                v ? "the time is negative" : "verifier is NULL");
  v->now_ms = now_us ? now_us / 1000 : -1;
  return FASTEPOST_OK;
}

fastepost_status fastepost_hubspot_verifier_set_max_body(fastepost_hubspot_verifier *v,
                                                         size_t bytes) {
  if (!v)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_verifier_set_max_body: verifier is NULL");
  v->max_body = bytes ? bytes : FASTEPOST_HUBSPOT_DEFAULT_MAX_BODY;
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
  if (version == FASTEPOST_HUBSPOT_VERSION_V3) {
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
    if (version == FASTEPOST_HUBSPOT_VERSION_V2) {
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
    *out = FASTEPOST_HUBSPOT_VERSION_V3;
  else if (strcmp(version, "v1") == 0 || strcmp(version, "V1") == 0)
    *out = FASTEPOST_HUBSPOT_VERSION_V1;
  else if (strcmp(version, "v2") == 0 || strcmp(version, "V2") == 0)
    *out = FASTEPOST_HUBSPOT_VERSION_V2;
  else
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "unknown HubSpot signature version (expected v1, v2 or v3)");
  return FASTEPOST_OK;
}

static const char *version_name(unsigned version) {
  return version == FASTEPOST_HUBSPOT_VERSION_V1 ? "v1" : version == FASTEPOST_HUBSPOT_VERSION_V2 ? "v2" : "v3";
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


static int check_inputs(unsigned version, const char *method, const char *uri,
                        const char *timestamp) {
  if (version != FASTEPOST_HUBSPOT_VERSION_V1 && (!method || !*method))
    return fastepost__error_set(FASTEPOST_EAUTH, "HubSpot %s signature: the HTTP method is missing",
                                version_name(version));
  if (version != FASTEPOST_HUBSPOT_VERSION_V1 && (!uri || !*uri))
    return fastepost__error_set(FASTEPOST_EAUTH, "HubSpot %s signature: the request URI is missing",
                                version_name(version));
  if (version == FASTEPOST_HUBSPOT_VERSION_V3 && (!timestamp || !*timestamp))
    return fastepost__error_set(FASTEPOST_EAUTH,
                                "HubSpot v3 signature: missing header value "
                                "X-HubSpot-Request-Timestamp");
  return FASTEPOST_OK;
}

/* now_ms: the verifier's fixed clock, else the request's (fastepost__webhook_request_now_us()). */
static int check_fresh(const fastepost_hubspot_verifier *v, int64_t now_ms, const char *timestamp) {
  int64_t ts;
  if (!parse_ms(&ts, timestamp)) {
    char preview[64];
    fastepost__preview(preview, sizeof preview, timestamp, strlen(timestamp));
    return fastepost__error_set(FASTEPOST_EAUTH,
                                "HubSpot v3 signature: X-HubSpot-Request-Timestamp '%s' is not "
                                "a whole number of milliseconds",
                                preview);
  }
  int64_t now = v->now_ms >= 0 ? v->now_ms : now_ms;
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

static int verify_parts(size_t *secret_index, const fastepost_hubspot_verifier *v, int64_t now_ms, const char *version,
                        const char *method, const char *uri, const char *timestamp, const char *signature,
                        const void *body, size_t body_len) {
  if (!v)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_verify: verifier is NULL");
  if (!body && body_len)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_verify: body is NULL");
  unsigned ver = FASTEPOST_HUBSPOT_VERSION_V3;
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
                                ver == FASTEPOST_HUBSPOT_VERSION_V3 ? "X-HubSpot-Signature-v3"
                                                            : "X-HubSpot-Signature");
  if ((rc = check_inputs(ver, method, uri, timestamp)))
    return rc;
  if (ver == FASTEPOST_HUBSPOT_VERSION_V3 && (rc = check_fresh(v, now_ms, timestamp)))
    return rc;

  char *decoded = NULL;
  if (ver == FASTEPOST_HUBSPOT_VERSION_V3 && (rc = fastepost_hubspot_decode_uri(&decoded, uri)))
    return rc;
  /* Hex digests may arrive in upper case; Base64 is case-sensitive. */
  char presented[65] = "";
  size_t plen = strlen(signature);
  bool hex = ver != FASTEPOST_HUBSPOT_VERSION_V3;
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
                                ver == FASTEPOST_HUBSPOT_VERSION_V1 ? "body"
                                                            : "method, URI, body or timestamp");
  if (secret_index)
    *secret_index = (size_t)match;
  return FASTEPOST_OK;
}

/* Which signature a request carries: the v3 header, else X-HubSpot-Signature with its version
 * header (v1 when that is missing). */
#define H_V3 "X-HubSpot-Signature-v3"
#define H_SIG "X-HubSpot-Signature"
#define H_VERSION "X-HubSpot-Signature-Version"
#define H_TIMESTAMP "X-HubSpot-Request-Timestamp"

fastepost_status fastepost_hubspot_verify(size_t *secret_index, const fastepost_hubspot_verifier *v,
                                          const fastepost_webhook_request *req) {
  if (!v || !req)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_verify: %s is NULL",
                                v ? "the request" : "the verifier");
  const char *version = "v3", *signature = fastepost_webhook_request_header(req, H_V3);
  if (!fastepost_webhook_request_has_header(req, H_V3) && fastepost_webhook_request_has_header(req, H_SIG)) {
    signature = fastepost_webhook_request_header(req, H_SIG);
    version = fastepost_webhook_request_has_header(req, H_VERSION) ? fastepost_webhook_request_header(req, H_VERSION)
                                                                   : "v1";
  }
  return verify_parts(secret_index, v, fastepost__webhook_request_now_us(req) / 1000, version,
                      fastepost_webhook_request_method(req),
                      fastepost_webhook_request_uri(req), fastepost_webhook_request_header(req, H_TIMESTAMP),
                      signature, fastepost_webhook_request_body(req), fastepost_webhook_request_body_len(req));
}

fastepost_status fastepost_hubspot_sign(char **out, const fastepost_webhook_request *req,
                                        fastepost_hubspot_version version, const char *secret) {
  if (!out || !req)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_sign: %s is NULL", out ? "req" : "out");
  *out = NULL;
  const char *method = fastepost_webhook_request_method(req), *uri = fastepost_webhook_request_uri(req);
  const char *timestamp = fastepost_webhook_request_header(req, H_TIMESTAMP);
  const void *body = fastepost_webhook_request_body(req);
  size_t body_len = fastepost_webhook_request_body_len(req);
  if (version != FASTEPOST_HUBSPOT_VERSION_V1 && version != FASTEPOST_HUBSPOT_VERSION_V2 &&
      version != FASTEPOST_HUBSPOT_VERSION_V3)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_sign: bad version %u",
                                (unsigned)version);
  if (!secret || !*secret || (!body && body_len) ||
      (version != FASTEPOST_HUBSPOT_VERSION_V1 && (!*method || !*uri)) ||
      (version == FASTEPOST_HUBSPOT_VERSION_V3 && !*timestamp))
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_hubspot_sign: missing input");
  char *decoded = NULL;
  int rc = FASTEPOST_OK;
  if (version == FASTEPOST_HUBSPOT_VERSION_V3 && (rc = fastepost_hubspot_decode_uri(&decoded, uri)))
    return rc;
  char sig[65];
  rc = compute(sig, version, secret, strlen(secret), method, decoded ? decoded : uri, timestamp,
               body, body_len);
  free(decoded);
  if (!rc && !(*out = fastepost__strdup(sig)))
    rc = FASTEPOST_ENOMEM;
  return rc;
}

