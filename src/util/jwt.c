/* SPDX-License-Identifier: MIT */
/* HS256 JSON Web Tokens (see jwt.h): base64url through OpenSSL's EVP block coder, the MAC
 * through util/digest.h, claims through json-c. */
#include "util/jwt.h"

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "util/digest.h"
#include "util/json.h"
#include "util/time.h"

/* A header or a payload nested deeper than this is not a token anyone sends. */
#define MAX_DEPTH 8

/* ---- base64url (RFC 4648 5) over OpenSSL's standard-alphabet coder ------------------------- */

int fastepost__base64url_encode(fastepost__buf *buf, const void *data, size_t n) {
  if (n > (SIZE_MAX / 4) - 4 || n > INT32_MAX / 2)
    return fastepost__error_set(FASTEPOST_ETOOBIG, "base64url: %zu bytes is too long", n);
  size_t cap = 4 * ((n + 2) / 3) + 1;
  unsigned char *tmp = malloc(cap);
  if (!tmp)
    return fastepost__error_oom();
  int m = EVP_EncodeBlock(tmp, data, (int)n);
  /* The URL-safe alphabet, and no padding (RFC 7515 2). */
  while (m > 0 && tmp[m - 1] == '=')
    m--;
  for (int i = 0; i < m; i++)
    tmp[i] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' : tmp[i];
  int rc = fastepost__buf_append(buf, (const char *)tmp, (size_t)m);
  free(tmp);
  return rc;
}

static bool b64url_char(unsigned char c) {
  return fastepost__ascii_isalnum(c) || c == '-' || c == '_';
}

int fastepost__base64url_decode(unsigned char **out, size_t *outlen, const char *text, size_t len) {
  *out = NULL;
  *outlen = 0;
  /* A length of 4k+1 holds 6 bits of a byte: never an encoding. */
  if (len % 4 == 1 || len > INT32_MAX / 2)
    return FASTEPOST_EPARSE;
  for (size_t i = 0; i < len; i++)
    if (!b64url_char((unsigned char)text[i]))
      return FASTEPOST_EPARSE;
  size_t pad = (4 - len % 4) % 4, padded = len + pad;
  unsigned char *in = calloc(1, padded + 1), *dec = malloc(padded / 4 * 3 + 1);
  if (!in || !dec) {
    free(in);
    free(dec);
    return fastepost__error_oom();
  }
  for (size_t i = 0; i < len; i++)
    in[i] = text[i] == '-' ? '+' : text[i] == '_' ? '/' : (unsigned char)text[i];
  memset(in + len, '=', pad);
  /* EVP_DecodeBlock counts the bytes the padding stands for as zeros: take them off. */
  int n = EVP_DecodeBlock(dec, in, (int)padded);
  free(in);
  if (n < 0 || (size_t)n < pad) {
    free(dec);
    return FASTEPOST_EPARSE;
  }
  size_t got = (size_t)n - pad;
  dec[got] = '\0';
  /* Leftover bits must be zero (one text per byte string): encode again and compare. */
  fastepost__buf again = FASTEPOST__BUF_INIT;
  int rc = fastepost__base64url_encode(&again, dec, got);
  if (rc == FASTEPOST_OK && (again.len != len || memcmp(again.data ? again.data : "", text, len) != 0))
    rc = FASTEPOST_EPARSE;
  fastepost__buf_free(&again);
  if (rc) {
    free(dec);
    return rc;
  }
  *out = dec;
  *outlen = got;
  return FASTEPOST_OK;
}

/* ---- signing ---------------------------------------------------------------------------- */

/* base64url(HMAC-SHA256(key, signing input)) appended to buf. */
static int mac_b64(fastepost__buf *buf, const void *key, size_t keylen, const char *input, size_t len) {
  unsigned char mac[FASTEPOST__SHA256_LEN];
  fastepost__bytes part = {input, len};
  int rc = fastepost__hmac_sha256(mac, key, keylen, &part, 1);
  if (!rc)
    rc = fastepost__base64url_encode(buf, mac, sizeof mac);
  OPENSSL_cleanse(mac, sizeof mac);
  return rc;
}

int fastepost__jwt_sign_hs256(char **out, const char *header_json, const char *payload_json, const void *secret,
                              size_t secret_len) {
  if (!out || !header_json || !payload_json || (!secret && secret_len))
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost__jwt_sign_hs256: NULL argument");
  *out = NULL;
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__base64url_encode(&b, header_json, strlen(header_json));
  fastepost__buf_putc(&b, '.');
  fastepost__base64url_encode(&b, payload_json, strlen(payload_json));
  size_t signed_len = b.len;
  fastepost__buf_putc(&b, '.');
  int rc = b.oom ? FASTEPOST_ENOMEM : mac_b64(&b, secret ? secret : "", secret_len, b.data, signed_len);
  if (rc || b.oom) {
    fastepost__buf_free(&b);
    return rc ? rc : fastepost__error_oom();
  }
  *out = fastepost__buf_detach(&b);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

/* ---- verification ---------------------------------------------------------------------- */

static int refuse(const char *what) {
  return fastepost__error_set(FASTEPOST_EAUTH, "JWT refused: %s", what);
}

/* A segment decoded and parsed as a JSON object; NULL (thread error set, EAUTH) when it is not. */
static json_object *segment_object(const char *seg, size_t len, const char *name) {
  unsigned char *raw = NULL;
  size_t rawlen = 0;
  int rc = fastepost__base64url_decode(&raw, &rawlen, seg, len);
  if (rc == FASTEPOST_ENOMEM)
    return NULL;
  if (rc) {
    fastepost__error_set(FASTEPOST_EAUTH, "JWT refused: the %s is not base64url", name);
    return NULL;
  }
  json_object *obj = NULL;
  rc = fastepost__json_parse(&obj, (const char *)raw, rawlen, MAX_DEPTH);
  free(raw);
  if (rc || !json_object_is_type(obj, json_type_object)) {
    json_object_put(obj);
    fastepost__error_set(FASTEPOST_EAUTH, "JWT refused: the %s is not a JSON object", name);
    return NULL;
  }
  return obj;
}

/* The JOSE header: alg pinned to HS256 (RFC 8725 3.1), typ JWT when given, no crit (RFC 7515
 * 4.1.11: extensions we do not understand must make the token invalid). */
static int check_header(json_object *h) {
  json_object *alg = fastepost__json_get(h, "alg");
  if (!alg || !json_object_is_type(alg, json_type_string))
    return refuse("the header names no algorithm (alg)");
  const char *a = json_object_get_string(alg);
  size_t alen = (size_t)json_object_get_string_len(alg);
  if (alen != 5 || memcmp(a, "HS256", 5) != 0) {
    char p[64];
    fastepost__preview(p, sizeof p, a, alen);
    return fastepost__error_set(FASTEPOST_EAUTH, "JWT refused: algorithm \"%s\" is not accepted (only HS256)", p);
  }
  json_object *typ = fastepost__json_get(h, "typ");
  if (typ && (!json_object_is_type(typ, json_type_string) ||
              fastepost__ascii_casecmp(json_object_get_string(typ), "JWT") != 0))
    return refuse("the header's typ is not JWT");
  if (json_object_object_get_ex(h, "crit", NULL))
    return refuse("the header has critical extensions (crit), which are not supported");
  return FASTEPOST_OK;
}

/* A NumericDate claim (RFC 7519 2: seconds, possibly with a fraction) as whole seconds,
 * rounded down; saturates instead of overflowing. false when not a number. */
static bool numeric_date(int64_t *out, json_object *v) {
  if (json_object_is_type(v, json_type_int)) {
    *out = json_object_get_int64(v); /* json-c saturates at INT64_MIN / INT64_MAX */
    return true;
  }
  if (!json_object_is_type(v, json_type_double))
    return false;
  double d = json_object_get_double(v);
  if (d != d) /* NaN */
    return false;
  if (d >= 9.2e18 || d <= -9.2e18) {
    *out = d > 0 ? INT64_MAX : INT64_MIN;
    return true;
  }
  int64_t t = (int64_t)d; /* toward zero: round negative fractions down */
  *out = (double)t > d ? t - 1 : t;
  return true;
}

static int check_time(json_object *payload, int64_t now_us) {
  int64_t now = now_us / FASTEPOST__US_PER_SEC - (now_us % FASTEPOST__US_PER_SEC < 0), exp = 0, nbf = 0;
  json_object *v = NULL;
  /* Fail closed: monday always sends exp, and a token without one would be valid forever. */
  if (!json_object_object_get_ex(payload, "exp", &v) || !numeric_date(&exp, v))
    return refuse("the payload has no numeric expiry (exp)");
  /* now >= exp + leeway, written so that nothing overflows for any exp. */
  if (exp < INT64_MAX - FASTEPOST__JWT_LEEWAY_S && now >= exp + FASTEPOST__JWT_LEEWAY_S)
    return fastepost__error_set(FASTEPOST_EAUTH, "JWT refused: expired (exp %lld, now %lld, leeway %d s)",
                                (long long)exp, (long long)now, FASTEPOST__JWT_LEEWAY_S);
  if (json_object_object_get_ex(payload, "nbf", &v)) {
    if (!numeric_date(&nbf, v))
      return refuse("nbf is not a number");
    if (nbf > INT64_MIN + FASTEPOST__JWT_LEEWAY_S && now < nbf - FASTEPOST__JWT_LEEWAY_S)
      return fastepost__error_set(FASTEPOST_EAUTH, "JWT refused: not valid before %lld (now %lld)",
                                  (long long)nbf, (long long)now);
  }
  return FASTEPOST_OK;
}

static bool aud_is(json_object *v, const char *want) {
  return json_object_is_type(v, json_type_string) && (size_t)json_object_get_string_len(v) == strlen(want) &&
         memcmp(json_object_get_string(v), want, strlen(want)) == 0;
}

/* RFC 7519 4.1.3: aud is one string or an array of them; ours must be among them. */
static int check_audience(json_object *payload, const char *want) {
  json_object *aud = NULL;
  if (!json_object_object_get_ex(payload, "aud", &aud) || !aud)
    return refuse("the payload names no audience (aud), and one is configured");
  bool ok = aud_is(aud, want);
  if (json_object_is_type(aud, json_type_array))
    for (size_t i = 0; i < json_object_array_length(aud) && !ok; i++)
      ok = aud_is(json_object_array_get_idx(aud, i), want);
  return ok ? FASTEPOST_OK : refuse("the audience (aud) is not the configured URL");
}

/* Which secret signed `input` (the first two segments) into `sig`: every secret is tried, so the
 * time taken does not say which one matched. -1 for none. */
static int match_secret(int *rc, const fastepost__jwt_check *check, const char *input, size_t len, const char *sig,
                        size_t siglen) {
  int match = -1;
  for (size_t i = 0; i < check->nsecrets && !*rc; i++) {
    fastepost__buf expected = FASTEPOST__BUF_INIT;
    *rc = mac_b64(&expected, check->secrets[i], check->secret_lens[i], input, len);
    if (!*rc && fastepost__ct_equal(expected.data, expected.len, sig, siglen) && match < 0)
      match = (int)i;
    if (expected.data)
      OPENSSL_cleanse(expected.data, expected.len);
    fastepost__buf_free(&expected);
  }
  return match;
}

int fastepost__jwt_verify_hs256(size_t *secret_index, const fastepost__jwt_check *check, const char *token,
                                size_t len) {
  if (!check || (!token && len) || (check->nsecrets && (!check->secrets || !check->secret_lens)))
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost__jwt_verify_hs256: NULL argument");
  if (!check->nsecrets)
    return fastepost__error_set(FASTEPOST_ENOKEY, "JWT refused: no signing secret is configured");
  if (len == 0)
    return refuse("the token is empty");
  if (len > FASTEPOST__JWT_MAX_LEN)
    return fastepost__error_set(FASTEPOST_EAUTH, "JWT refused: %zu bytes is longer than the limit of %d", len,
                                FASTEPOST__JWT_MAX_LEN);
  const char *d1 = memchr(token, '.', len);
  const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
  const char *end = token + len;
  if (!d1 || !d2 || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)))
    return refuse("a token is three dot-separated segments (header.payload.signature)");
  if (d1 == token || d2 == d1 + 1 || d2 + 1 == end)
    return refuse("a segment of the token is empty (an unsigned token?)");

  json_object *header = segment_object(token, (size_t)(d1 - token), "header");
  if (!header)
    return fastepost_error_last()->code;
  int rc = check_header(header);
  json_object_put(header);
  if (rc)
    return rc;

  int match = match_secret(&rc, check, token, (size_t)(d2 - token), d2 + 1, (size_t)(end - d2 - 1));
  if (rc)
    return rc;
  if (match < 0)
    return refuse("the signature does not match any configured signing secret");

  /* Claims are read only from a token whose signature holds. */
  json_object *payload = segment_object(d1 + 1, (size_t)(d2 - d1 - 1), "payload");
  if (!payload)
    return fastepost_error_last()->code;
  rc = check_time(payload, check->now_us);
  if (!rc && check->audience)
    rc = check_audience(payload, check->audience);
  json_object_put(payload);
  if (!rc && secret_index)
    *secret_index = (size_t)match;
  return rc;
}
