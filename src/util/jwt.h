/* SPDX-License-Identifier: MIT */
/*
 * JSON Web Tokens (RFC 7519) signed with HS256, as monday.com puts them in the Authorization
 * header of app webhooks: verification (and signing, for tests and fuzzing). Private.
 *
 * Only HS256 is accepted: the algorithm is pinned by the verifier, never taken from the token
 * (a token saying "none", "RS256" or "HS512" is refused), so a key can never be used with an
 * algorithm it was not meant for. Base64url goes through OpenSSL's EVP encoder after the
 * alphabet is translated; the MAC is util/digest.h's HMAC-SHA256. Nothing here is hand-written
 * cryptography.
 */
#ifndef FASTEPOST_UTIL_JWT_H
#define FASTEPOST_UTIL_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* The longest token looked at: monday's are ~350 bytes; anything this long is not one. */
#define FASTEPOST__JWT_MAX_LEN 8192
/* Clock skew allowed on `exp` and `nbf`, in seconds (RFC 7519 4.1.4: "some small leeway"):
 * monday's tokens live five minutes, so half a minute of skew still leaves most of that. */
#define FASTEPOST__JWT_LEEWAY_S 30

/* What a token must satisfy. */
typedef struct fastepost__jwt_check {
  const char *const *secrets; /* the accepted HMAC keys (rotation: any one of them) */
  const size_t *secret_lens;
  size_t nsecrets;
  const char *audience; /* the `aud` the token must name (a string, or one entry of an array);
                         * NULL: not checked */
  int64_t now_us;       /* the processing clock, microseconds since the epoch: `exp` must lie
                         * after it (and `nbf`, if present, not after it), within the leeway */
} fastepost__jwt_check;

/*
 * Verify token (len bytes, not NUL-terminated necessarily): three base64url segments, a header
 * whose `alg` is "HS256" (and `typ`, if present, "JWT"; no `crit`), an HMAC-SHA256 signature
 * made with one of check's secrets (each compared in constant time, all of them tried), then a
 * payload that is a JSON object with a numeric `exp` in the future and, when check->audience is
 * set, that audience. The signature is checked before any claim is read.
 * FASTEPOST_OK (*secret_index, if not NULL, gets the secret that matched); FASTEPOST_ENOKEY when
 * check has no secret; FASTEPOST_EAUTH for anything else, with a message that says what was
 * wrong and never quotes the token or a secret.
 */
int fastepost__jwt_verify_hs256(size_t *secret_index, const fastepost__jwt_check *check, const char *token,
                                size_t len);

/*
 * An HS256 token over the given header and payload JSON texts (used as they are, so tests can
 * sign hostile headers): base64url(header) "." base64url(payload) "." base64url(mac). *out is
 * malloc'd (free it). FASTEPOST_OK, FASTEPOST_EINVALID (NULL input), FASTEPOST_ENOMEM.
 */
int fastepost__jwt_sign_hs256(char **out, const char *header_json, const char *payload_json, const void *secret,
                              size_t secret_len);

/* base64url without padding of n bytes, appended to buf (RFC 4648 5). */
int fastepost__base64url_encode(fastepost__buf *buf, const void *data, size_t n);
/*
 * Decode unpadded base64url text (RFC 7515 2: no '=', no white space, nothing outside the
 * alphabet, no leftover bits): *out is malloc'd and NUL-terminated after *outlen bytes.
 * FASTEPOST_OK, FASTEPOST_EPARSE (not base64url; nothing recorded as the thread's error),
 * FASTEPOST_ENOMEM.
 */
int fastepost__base64url_decode(unsigned char **out, size_t *outlen, const char *text, size_t len);

#endif
