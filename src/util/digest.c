/* SPDX-License-Identifier: MIT */
/* SHA-256 and HMAC-SHA256 via EVP (see digest.h). */
#include "util/digest.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "internal.h"

static int failed(const char *what) {
  return fastepost__error_set(FASTEPOST_ERROR, "%s failed in libcrypto", what);
}

int fastepost__sha256(unsigned char out[FASTEPOST__SHA256_LEN], const fastepost__bytes *parts, size_t n) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned int outlen = 0;
  int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  for (size_t i = 0; ok && i < n; i++)
    ok = EVP_DigestUpdate(ctx, parts[i].data, parts[i].len);
  ok = ok && EVP_DigestFinal_ex(ctx, out, &outlen) && outlen == FASTEPOST__SHA256_LEN;
  EVP_MD_CTX_free(ctx);
  return ok ? FASTEPOST_OK : failed("SHA-256");
}

int fastepost__hmac_sha256(unsigned char out[FASTEPOST__SHA256_LEN], const void *key, size_t keylen,
                           const fastepost__bytes *parts, size_t n) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  size_t outlen = 0;
  int ok = ctx && EVP_MAC_init(ctx, (const unsigned char *)key, keylen, params);
  for (size_t i = 0; ok && i < n; i++)
    ok = EVP_MAC_update(ctx, parts[i].data, parts[i].len);
  ok = ok && EVP_MAC_final(ctx, out, &outlen, FASTEPOST__SHA256_LEN) && outlen == FASTEPOST__SHA256_LEN;
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return ok ? FASTEPOST_OK : failed("HMAC-SHA256");
}

void fastepost__hex(char *out, const unsigned char *bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  out[2 * n] = '\0';
}

int fastepost__sha256_hex(char out[FASTEPOST__SHA256_HEX_LEN + 1], size_t n,
                          const char *const *parts, const size_t *lens) {
  fastepost__sha256_ctx *ctx = fastepost__sha256_begin();
  int rc = ctx ? FASTEPOST_OK : FASTEPOST_ENOMEM;
  for (size_t i = 0; !rc && i < n; i++) {
    rc = fastepost__sha256_update(ctx, parts[i] ? parts[i] : "", parts[i] ? lens[i] : 0);
    if (!rc)
      rc = fastepost__sha256_update(ctx, "", 1);
  }
  if (rc) {
    fastepost__sha256_abort(ctx);
    return rc;
  }
  return fastepost__sha256_end_hex(ctx, out);
}

fastepost__sha256_ctx *fastepost__sha256_begin(void) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx) {
    fastepost__error_oom();
    return NULL;
  }
  if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(ctx);
    failed("SHA-256");
    return NULL;
  }
  return (fastepost__sha256_ctx *)ctx;
}

int fastepost__sha256_update(fastepost__sha256_ctx *ctx, const void *data, size_t len) {
  return EVP_DigestUpdate((EVP_MD_CTX *)ctx, data, len) == 1 ? FASTEPOST_OK : failed("SHA-256");
}

int fastepost__sha256_end_hex(fastepost__sha256_ctx *ctx, char out[FASTEPOST__SHA256_HEX_LEN + 1]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  int ok = EVP_DigestFinal_ex((EVP_MD_CTX *)ctx, md, &n) == 1 && n == FASTEPOST__SHA256_LEN;
  EVP_MD_CTX_free((EVP_MD_CTX *)ctx);
  if (!ok)
    return failed("SHA-256");
  fastepost__hex(out, md, n);
  return FASTEPOST_OK;
}

void fastepost__sha256_abort(fastepost__sha256_ctx *ctx) {
  EVP_MD_CTX_free((EVP_MD_CTX *)ctx);
}
