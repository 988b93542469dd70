/* SPDX-License-Identifier: MIT */
/* HS256 JWT verification (src/util/jwt.c): the reference vectors, the pinned algorithm, expiry
 * against an injected clock, the audience, rotation across secrets and malformed tokens. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util/jwt.h"

/* The vectors of the reference notes (HMAC-SHA256, compact JSON, base64url without padding). */
static const char JWTIO[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0"
                            "IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
static const char MONDAY[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhY2NvdW50SWQiOjE4MjU1MjgsInVzZXJJZCI6NDAxMjY4OSwiYXVkIjoiaHR0cHM6Ly93d3c"
    "ueW91cnNlcnZlci5jb20vZW5kcG9pbnQiLCJleHAiOjE2MDY4MDg3NTgsInNob3J0TGl2ZWRUb2tlbiI6IlNIT1JUX0xJVkVEX1RPS0VOX0hFUk"
    "UiLCJpYXQiOjE2MDY4MDg0NTh9.M9fofPM2v-lHhlRRVhTVIik0RIqZzN7U9saL8D7jb_c";
static const char MONDAY_PAYLOAD[] =
    "{\"accountId\":1825528,\"userId\":4012689,\"aud\":\"https://www.yourserver.com/endpoint\",\"exp\":1606808758,"
    "\"shortLivedToken\":\"SHORT_LIVED_TOKEN_HERE\",\"iat\":1606808458}";
static const char HS256[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
static const char SECRET[] = "test-signing-secret";
static const char AUD[] = "https://www.yourserver.com/endpoint";
#define EXP 1606808758LL
#define IAT 1606808458LL
#define US 1000000LL

static const char *secrets1[] = {SECRET};
static const size_t lens1[] = {sizeof SECRET - 1};

static fastepost__jwt_check check_at(long long now_s) {
  return (fastepost__jwt_check){.secrets = secrets1, .secret_lens = lens1, .nsecrets = 1, .audience = AUD,
                                .now_us = now_s * US};
}

static int verify_at(const char *token, long long now_s) {
  fastepost__jwt_check c = check_at(now_s);
  return fastepost__jwt_verify_hs256(NULL, &c, token, strlen(token));
}

static char *sign(const char *header, const char *payload, const char *secret) {
  char *t = NULL;
  cr_assert_eq(fastepost__jwt_sign_hs256(&t, header, payload, secret, strlen(secret)), FASTEPOST_OK);
  return t;
}

#define ASSERT_REFUSED(rc, words)                                                                         \
  do {                                                                                                    \
    int rc_ = (rc);                                                                                       \
    cr_assert_eq(rc_, FASTEPOST_EAUTH, "got %s: %s", fastepost_error_name(rc_), fastepost_error_last()->message); \
    cr_assert(strstr(fastepost_error_last()->message, words), "message \"%s\" lacks \"%s\"",            \
              fastepost_error_last()->message, words);                                                    \
  } while (0)

Test(jwt, signing_reproduces_the_reference_vectors) {
  char *t = sign(HS256, "{\"sub\":\"1234567890\",\"name\":\"John Doe\",\"iat\":1516239022}", "your-256-bit-secret");
  cr_assert_str_eq(t, JWTIO);
  free(t);
  t = sign(HS256, MONDAY_PAYLOAD, SECRET);
  cr_assert_str_eq(t, MONDAY);
  free(t);
}

Test(jwt, good_token_before_its_expiry) {
  size_t idx = 99;
  fastepost__jwt_check c = check_at(IAT);
  cr_assert_eq(fastepost__jwt_verify_hs256(&idx, &c, MONDAY, strlen(MONDAY)), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(idx, 0);
  /* one second before exp, and within the leeway after it */
  cr_assert_eq(verify_at(MONDAY, EXP - 1), FASTEPOST_OK);
  cr_assert_eq(verify_at(MONDAY, EXP + FASTEPOST__JWT_LEEWAY_S - 1), FASTEPOST_OK);
}

Test(jwt, expired_token_is_refused) {
  ASSERT_REFUSED(verify_at(MONDAY, EXP + FASTEPOST__JWT_LEEWAY_S), "expired");
  /* the real clock (2026 and later) is long past 2020 */
  fastepost__jwt_check c = check_at(0);
  c.now_us = 1764270000LL * US;
  ASSERT_REFUSED(fastepost__jwt_verify_hs256(NULL, &c, MONDAY, strlen(MONDAY)), "expired");
}

Test(jwt, wrong_secret_is_refused) {
  static const char *other[] = {"not-the-secret"};
  static const size_t other_len[] = {14};
  fastepost__jwt_check c = check_at(IAT);
  c.secrets = other;
  c.secret_lens = other_len;
  ASSERT_REFUSED(fastepost__jwt_verify_hs256(NULL, &c, MONDAY, strlen(MONDAY)), "signature does not match");
  /* one flipped character of the signature */
  char *t = fastepost__strdup(MONDAY);
  t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
  ASSERT_REFUSED(verify_at(t, IAT), "signature");
  free(t);
}

Test(jwt, a_changed_payload_breaks_the_signature) {
  char *good = sign(HS256, MONDAY_PAYLOAD, SECRET);
  char *forged = sign(HS256, "{\"aud\":\"https://www.yourserver.com/endpoint\",\"exp\":9999999999}", "guess");
  /* the forged payload with the good signature */
  const char *p1 = strchr(forged, '.'), *p2 = strrchr(forged, '.'), *s = strrchr(good, '.');
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_append(&b, forged, (size_t)(p2 - forged));
  fastepost__buf_puts(&b, s);
  (void)p1;
  ASSERT_REFUSED(verify_at(b.data, IAT), "signature");
  fastepost__buf_free(&b);
  free(good);
  free(forged);
}

Test(jwt, alg_none_is_refused) {
  /* unsigned, as RFC 7519 6.1 writes it: an empty third segment */
  char *t = sign("{\"alg\":\"none\",\"typ\":\"JWT\"}", MONDAY_PAYLOAD, SECRET);
  ASSERT_REFUSED(verify_at(t, IAT), "algorithm \"none\"");
  *strrchr(t, '.') = '\0';
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&b, "%s.", t);
  ASSERT_REFUSED(verify_at(b.data, IAT), "empty");
  fastepost__buf_free(&b);
  free(t);
  /* spelled otherwise */
  t = sign("{\"alg\":\"None\"}", MONDAY_PAYLOAD, SECRET);
  ASSERT_REFUSED(verify_at(t, IAT), "algorithm");
  free(t);
  t = sign("{\"typ\":\"JWT\"}", MONDAY_PAYLOAD, SECRET);
  ASSERT_REFUSED(verify_at(t, IAT), "no algorithm");
  free(t);
}

Test(jwt, other_algorithms_are_refused_even_with_a_valid_hmac) {
  /* Key confusion: an RS256 header over a token HMAC'd with the secret must not pass. */
  const char *algs[] = {"{\"alg\":\"RS256\",\"typ\":\"JWT\"}", "{\"alg\":\"HS512\"}", "{\"alg\":\"hs256\"}",
                        "{\"alg\":\"HS256 \"}", "{\"alg\":[\"HS256\"]}"};
  for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
    char *t = sign(algs[i], MONDAY_PAYLOAD, SECRET);
    ASSERT_REFUSED(verify_at(t, IAT), "alg");
    free(t);
  }
}

Test(jwt, header_typ_and_crit) {
  char *t = sign("{\"alg\":\"HS256\"}", MONDAY_PAYLOAD, SECRET); /* typ is optional */
  cr_assert_eq(verify_at(t, IAT), FASTEPOST_OK);
  free(t);
  t = sign("{\"alg\":\"HS256\",\"typ\":\"jwt\"}", MONDAY_PAYLOAD, SECRET);
  cr_assert_eq(verify_at(t, IAT), FASTEPOST_OK);
  free(t);
  t = sign("{\"alg\":\"HS256\",\"typ\":\"JWE\"}", MONDAY_PAYLOAD, SECRET);
  ASSERT_REFUSED(verify_at(t, IAT), "typ");
  free(t);
  t = sign("{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}", MONDAY_PAYLOAD, SECRET);
  ASSERT_REFUSED(verify_at(t, IAT), "crit");
  free(t);
}

Test(jwt, wrong_or_missing_audience) {
  fastepost__jwt_check c = check_at(IAT);
  c.audience = "https://www.yourserver.com/endpoint/";
  ASSERT_REFUSED(fastepost__jwt_verify_hs256(NULL, &c, MONDAY, strlen(MONDAY)), "audience");
  c.audience = "https://evil.example/endpoint";
  ASSERT_REFUSED(fastepost__jwt_verify_hs256(NULL, &c, MONDAY, strlen(MONDAY)), "audience");
  c.audience = NULL; /* not configured: not checked */
  cr_assert_eq(fastepost__jwt_verify_hs256(NULL, &c, MONDAY, strlen(MONDAY)), FASTEPOST_OK);

  char *t = sign(HS256, "{\"exp\":1606808758}", SECRET);
  ASSERT_REFUSED(verify_at(t, IAT), "no audience");
  free(t);
  t = sign(HS256, "{\"exp\":1606808758,\"aud\":[\"other\",\"https://www.yourserver.com/endpoint\"]}", SECRET);
  cr_assert_eq(verify_at(t, IAT), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  free(t);
  t = sign(HS256, "{\"exp\":1606808758,\"aud\":[\"other\"]}", SECRET);
  ASSERT_REFUSED(verify_at(t, IAT), "audience");
  free(t);
  t = sign(HS256, "{\"exp\":1606808758,\"aud\":7}", SECRET);
  ASSERT_REFUSED(verify_at(t, IAT), "audience");
  free(t);
}

Test(jwt, expiry_claim_shapes) {
  struct {
    const char *payload;
    int want;
  } cases[] = {
      {"{\"aud\":\"https://www.yourserver.com/endpoint\"}", FASTEPOST_EAUTH},                    /* no exp */
      {"{\"aud\":\"https://www.yourserver.com/endpoint\",\"exp\":\"1606808758\"}", FASTEPOST_EAUTH}, /* string */
      {"{\"aud\":\"https://www.yourserver.com/endpoint\",\"exp\":null}", FASTEPOST_EAUTH},
      {"{\"aud\":\"https://www.yourserver.com/endpoint\",\"exp\":1606808758.9}", FASTEPOST_OK},
      {"{\"aud\":\"https://www.yourserver.com/endpoint\",\"exp\":-1}", FASTEPOST_EAUTH},
      {"{\"aud\":\"https://www.yourserver.com/endpoint\",\"exp\":9223372036854775807}", FASTEPOST_OK},
      {"{\"aud\":\"https://www.yourserver.com/endpoint\",\"exp\":1e300}", FASTEPOST_OK},
      {"{\"aud\":\"https://www.yourserver.com/endpoint\",\"exp\":-9223372036854775808}", FASTEPOST_EAUTH},
      /* nbf: not before */
      {"{\"aud\":\"https://www.yourserver.com/endpoint\",\"exp\":1606808758,\"nbf\":1606808700}", FASTEPOST_EAUTH},
      {"{\"aud\":\"https://www.yourserver.com/endpoint\",\"exp\":1606808758,\"nbf\":1606808400}", FASTEPOST_OK},
      {"{\"aud\":\"https://www.yourserver.com/endpoint\",\"exp\":1606808758,\"nbf\":\"x\"}", FASTEPOST_EAUTH},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *t = sign(HS256, cases[i].payload, SECRET);
    int rc = verify_at(t, IAT);
    cr_assert_eq(rc, cases[i].want, "case %zu (%s): %s", i, cases[i].payload, fastepost_error_last()->message);
    free(t);
  }
  /* the JWT.io vector is signed right but has no exp: refused for that, not for its signature */
  static const char *jwtio_secret[] = {"your-256-bit-secret"};
  static const size_t jwtio_len[] = {19};
  fastepost__jwt_check c = check_at(IAT);
  c.secrets = jwtio_secret;
  c.secret_lens = jwtio_len;
  ASSERT_REFUSED(fastepost__jwt_verify_hs256(NULL, &c, JWTIO, strlen(JWTIO)), "expiry");
}

Test(jwt, rotation_across_secrets) {
  static const char *both[] = {"old-secret", SECRET};
  static const size_t both_len[] = {10, sizeof SECRET - 1};
  fastepost__jwt_check c = check_at(IAT);
  c.secrets = both;
  c.secret_lens = both_len;
  c.nsecrets = 2;
  size_t idx = 99;
  cr_assert_eq(fastepost__jwt_verify_hs256(&idx, &c, MONDAY, strlen(MONDAY)), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(idx, 1);
  char *t = sign(HS256, MONDAY_PAYLOAD, "old-secret");
  cr_assert_eq(fastepost__jwt_verify_hs256(&idx, &c, t, strlen(t)), FASTEPOST_OK);
  cr_assert_eq(idx, 0);
  free(t);
  t = sign(HS256, MONDAY_PAYLOAD, "third");
  ASSERT_REFUSED(fastepost__jwt_verify_hs256(&idx, &c, t, strlen(t)), "signature");
  free(t);
}

Test(jwt, no_secret_is_enokey) {
  fastepost__jwt_check c = check_at(IAT);
  c.nsecrets = 0;
  cr_assert_eq(fastepost__jwt_verify_hs256(NULL, &c, MONDAY, strlen(MONDAY)), FASTEPOST_ENOKEY);
  cr_assert_eq(fastepost__jwt_verify_hs256(NULL, NULL, MONDAY, strlen(MONDAY)), FASTEPOST_EINVALID);
}

Test(jwt, malformed_tokens) {
  const char *bad[] = {
      "", ".", "..", "...", "abc", "abc.def", "a.b.c.d", ".eyJ9.sig", "eyJhbGciOiJIUzI1NiJ9..sig",
      "eyJhbGciOiJIUzI1NiJ9.eyJ9.", "!!!!.eyJ9.sig", "eyJhbGciOiJIUzI1NiJ9=.eyJ9.sig", /* padding */
      "eyJhbGciOiJIUzI1NiJ9 .eyJ9.sig", "e.eyJ9.sig", /* 4k+1 characters */
      "eyJhbGciOiJIUzI1NiJ8.eyJ9.sig",                 /* one character off: not JSON */
      "eyJhbGciOiJIUzI1NiJ9.eyJ9.sig9",                /* leftover bits in the signature */
      "bm90IGpzb24.eyJ9.sig",                          /* "not json" */
      "WzFd.eyJ9.sig",                                 /* [1]: not an object */
      "eyJhbGciOiJIUzI1NiJ9.eyJ9.sig",                 /* good header, bad signature */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = verify_at(bad[i], IAT);
    cr_assert_eq(rc, FASTEPOST_EAUTH, "token %zu \"%s\": %s", i, bad[i], fastepost_error_name(rc));
    if (strlen(bad[i]) >= 8)
      cr_assert_null(strstr(fastepost_error_last()->message, bad[i]), "the message quotes the token");
  }
  /* a signed token whose payload is not JSON is refused after the signature */
  char *t = sign(HS256, "not json", SECRET);
  ASSERT_REFUSED(verify_at(t, IAT), "payload");
  free(t);
  /* too long */
  size_t n = FASTEPOST__JWT_MAX_LEN + 1;
  char *big = malloc(n + 1);
  memset(big, 'A', n);
  big[n] = '\0';
  big[10] = big[20] = '.';
  ASSERT_REFUSED(verify_at(big, IAT), "longer");
  free(big);
}

Test(jwt, base64url_round_trip_and_strictness) {
  const unsigned char bytes[] = {0xfb, 0xff, 0x00, 0x3e, 0x3f, 0x80};
  for (size_t n = 0; n <= sizeof bytes; n++) {
    fastepost__buf b = FASTEPOST__BUF_INIT;
    cr_assert_eq(fastepost__base64url_encode(&b, bytes, n), FASTEPOST_OK);
    const char *text = fastepost__buf_cstr(&b);
    cr_assert_null(strpbrk(text, "+/="), "%s", text);
    unsigned char *out = NULL;
    size_t outlen = 0;
    cr_assert_eq(fastepost__base64url_decode(&out, &outlen, text, b.len), FASTEPOST_OK, "%s", text);
    cr_assert_eq(outlen, n);
    cr_assert(memcmp(out, bytes, n) == 0);
    free(out);
    fastepost__buf_free(&b);
  }
  unsigned char *out = NULL;
  size_t outlen = 0;
  cr_assert_eq(fastepost__base64url_decode(&out, &outlen, "-_8", 3), FASTEPOST_OK);
  cr_assert_eq(outlen, 2);
  cr_assert_eq(out[0], 0xfb);
  cr_assert_eq(out[1], 0xff);
  free(out);
  const char *bad[] = {"+_8", "-/8", "-_8=", "A", "-_9", "QQ==", "Q R"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(fastepost__base64url_decode(&out, &outlen, bad[i], strlen(bad[i])), FASTEPOST_EPARSE, "%s", bad[i]);
    cr_assert_null(out);
  }
}
