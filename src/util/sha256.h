/* SHA-256 through OpenSSL's libcrypto (EVP), as lowercase hex. */
#ifndef FASTEPOST_UTIL_SHA256_H
#define FASTEPOST_UTIL_SHA256_H

#include <stddef.h>

#define FASTEPOST__SHA256_HEX_LEN 64

/* Hash the concatenation of n (pointer, length) parts, each followed by a NUL byte so that
 * ("ab","c") and ("a","bc") differ. out receives 64 hex digits and a NUL. Returns
 * FASTEPOST_OK or FASTEPOST_ERROR when libcrypto fails. */
int fastepost__sha256_hex(char out[FASTEPOST__SHA256_HEX_LEN + 1], size_t n,
                          const char *const *parts, const size_t *lens);

#endif
