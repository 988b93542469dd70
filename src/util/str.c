/* SPDX-License-Identifier: MIT */
/* Small string helpers: copies, constant-time comparison, UTF-8 checks, previews. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

char *fastepost__strdup(const char *s) { return fastepost__strndup(s, strlen(s)); }

char *fastepost__strndup(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (!p) {
    fastepost__error_oom();
    return NULL;
  }
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

bool fastepost__ct_equal(const void *a, size_t alen, const void *b, size_t blen) {
  /* Walk the presented value whatever happens, so timing reveals neither the position of the
   * first difference nor (beyond the length of what the caller sent) the expected value. */
  const volatile unsigned char *pa = a;
  const volatile unsigned char *pb = b;
  unsigned char diff = (unsigned char)(alen != blen);
  for (size_t i = 0; i < blen; i++) {
    unsigned char ca = alen ? pa[i % alen] : 0;
    diff |= (unsigned char)(ca ^ pb[i]);
  }
  return diff == 0 && alen == blen;
}

bool fastepost__utf8_valid(const char *s, size_t len, size_t *bad_offset) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < len) {
    unsigned char c = p[i];
    size_t n;
    unsigned int cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      goto bad;
    }
    if (len - i <= n) /* truncated sequence */
      goto bad;
    for (size_t k = 1; k <= n; k++) {
      if ((p[i + k] & 0xC0) != 0x80)
        goto bad;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    /* Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8. */
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      goto bad;
    i += n + 1;
  }
  return true;
bad:
  if (bad_offset)
    *bad_offset = i;
  return false;
}

void fastepost__preview(char *out, size_t outsize, const char *s, size_t len) {
  size_t o = 0, i = 0;
  const size_t limit = 40;
  if (outsize < 8) {
    if (outsize)
      out[0] = '\0';
    return;
  }
  while (i < len && o + 8 < outsize && i < limit) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7F) {
      o += (size_t)snprintf(out + o, outsize - o, "\\x%02x", c);
      i++;
    } else if (c < 0x80) {
      out[o++] = (char)c;
      i++;
    } else {
      /* Copy whole UTF-8 sequences only, so a preview is never itself invalid UTF-8. */
      size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      size_t bad;
      if (i + n <= len && o + n + 8 < outsize && fastepost__utf8_valid(s + i, n, &bad)) {
        memcpy(out + o, s + i, n);
        o += n;
        i += n;
      } else {
        o += (size_t)snprintf(out + o, outsize - o, "\\x%02x", c);
        i++;
      }
    }
  }
  if (i < len && o + 4 < outsize) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o] = '\0';
}

int fastepost__ascii_ncasecmp(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int ca = fastepost__ascii_tolower((unsigned char)a[i]);
    int cb = fastepost__ascii_tolower((unsigned char)b[i]);
    if (ca != cb || !ca)
      return ca - cb;
  }
  return 0;
}

int fastepost__ascii_casecmp(const char *a, const char *b) { return fastepost__ascii_ncasecmp(a, b, SIZE_MAX); }

const char *fastepost__errno_text(int err, char *buf, size_t size) {
  if (!size)
    return "";
  /* _POSIX_C_SOURCE (CMakeLists.txt) selects the XSI strerror_r, which returns an int. Its text
   * follows LC_MESSAGES, which is the host's choice; it is never parsed. */
  if (strerror_r(err, buf, size) != 0)
    snprintf(buf, size, "error %d", err);
  buf[size - 1] = '\0';
  return buf;
}
