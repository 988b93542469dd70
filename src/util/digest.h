/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 and HMAC-SHA256 through OpenSSL's libcrypto (EVP), the one digest helper of the
 * library: backup checksums (streaming over a file), spool record checksums and HubSpot
 * signatures all use it, so there is one place that talks to OpenSSL.
 */
#ifndef FASTEPOST_UTIL_DIGEST_H
#define FASTEPOST_UTIL_DIGEST_H

#include <stddef.h>

#define FASTEPOST__SHA256_LEN 32
#define FASTEPOST__SHA256_HEX_LEN 64

/* A byte range; a list of them is hashed one after the other, so nothing is concatenated. */
typedef struct fastepost__bytes {
  const void *data;
  size_t len;
} fastepost__bytes;

/* SHA-256 of the parts one after the other. FASTEPOST_OK or FASTEPOST_ERROR (error set). */
int fastepost__sha256(unsigned char out[FASTEPOST__SHA256_LEN], const fastepost__bytes *parts, size_t n);

/* HMAC-SHA256 with key over the parts one after the other. */
int fastepost__hmac_sha256(unsigned char out[FASTEPOST__SHA256_LEN], const void *key, size_t keylen,
                           const fastepost__bytes *parts, size_t n);

/* Lowercase hex of n bytes; out holds 2n + 1. */
void fastepost__hex(char *out, const unsigned char *bytes, size_t n);

/* Hash the concatenation of n NUL-terminated-or-counted strings, each followed by a NUL byte so
 * that ("ab","c") and ("a","bc") differ, as lowercase hex (the spool's record checksum). */
int fastepost__sha256_hex(char out[FASTEPOST__SHA256_HEX_LEN + 1], size_t n,
                          const char *const *parts, const size_t *lens);

/* Streaming SHA-256, for files hashed chunk by chunk (backup checksums). */
typedef struct fastepost__sha256_ctx fastepost__sha256_ctx;
/* A new context; NULL when out of memory (error set). */
fastepost__sha256_ctx *fastepost__sha256_begin(void);
int fastepost__sha256_update(fastepost__sha256_ctx *ctx, const void *data, size_t len);
/* The digest as hex; frees the context whatever happens. */
int fastepost__sha256_end_hex(fastepost__sha256_ctx *ctx, char out[FASTEPOST__SHA256_HEX_LEN + 1]);
/* Free a context without a digest (on an error path). NULL is fine. */
void fastepost__sha256_abort(fastepost__sha256_ctx *ctx);

#endif
