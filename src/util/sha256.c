/* SHA-256 via EVP (see sha256.h). */
#include "util/sha256.h"

#include <openssl/evp.h>
#include <stdio.h>

#include "internal.h"

int fastepost__sha256_hex(char out[FASTEPOST__SHA256_HEX_LEN + 1], size_t n,
                          const char *const *parts, const size_t *lens) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  for (size_t i = 0; ok && i < n; i++)
    ok = EVP_DigestUpdate(ctx, parts[i] ? parts[i] : "", parts[i] ? lens[i] : 0) &&
         EVP_DigestUpdate(ctx, "", 1);
  ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen);
  EVP_MD_CTX_free(ctx);
  if (!ok)
    return fastepost__error_set(FASTEPOST_ERROR, "SHA-256 failed in libcrypto");
  static const char hex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < mdlen && i < 32; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[FASTEPOST__SHA256_HEX_LEN] = '\0';
  return FASTEPOST_OK;
}
