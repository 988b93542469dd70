/* SPDX-License-Identifier: MIT */
/* A growable byte string used wherever the library assembles text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int fastepost__buf_grow(fastepost__buf *buf, size_t extra) {
  if (buf->oom)
    return FASTEPOST_ENOMEM;
  if (extra > SIZE_MAX - buf->len - 1) {
    buf->oom = true;
    return fastepost__error_oom();
  }
  size_t need = buf->len + extra + 1;
  if (need <= buf->cap)
    return FASTEPOST_OK;
  size_t cap = buf->cap ? buf->cap : 64;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *data = realloc(buf->data, cap);
  if (!data) {
    buf->oom = true;
    return fastepost__error_oom();
  }
  buf->data = data;
  buf->cap = cap;
  return FASTEPOST_OK;
}

int fastepost__buf_append(fastepost__buf *buf, const char *data, size_t len) {
  int rc = fastepost__buf_grow(buf, len);
  if (rc)
    return rc;
  if (len)
    memcpy(buf->data + buf->len, data, len);
  buf->len += len;
  buf->data[buf->len] = '\0';
  return FASTEPOST_OK;
}

int fastepost__buf_puts(fastepost__buf *buf, const char *s) {
  return fastepost__buf_append(buf, s, strlen(s));
}

int fastepost__buf_putc(fastepost__buf *buf, char c) { return fastepost__buf_append(buf, &c, 1); }

int fastepost__buf_array_literal(fastepost__buf *buf, const char *const *items, size_t n) {
  fastepost__buf_putc(buf, '{');
  for (size_t i = 0; i < n; i++) {
    if (i)
      fastepost__buf_putc(buf, ',');
    if (!items[i]) {
      fastepost__buf_puts(buf, "NULL");
      continue;
    }
    /* Always quoted: an unquoted element would be read as NULL for "NULL" and split on
     * commas and braces. Inside quotes only " and \ need a backslash. */
    fastepost__buf_putc(buf, '"');
    /* By runs between the bytes to escape: a batch's array holds every record's JSON payload,
     * and a byte at a time was a tenth of a bulk import's client time. */
    for (const char *p = items[i];;) {
      size_t run = strcspn(p, "\"\\");
      fastepost__buf_append(buf, p, run);
      p += run;
      if (!*p)
        break;
      char esc[2] = {'\\', *p++};
      fastepost__buf_append(buf, esc, 2);
    }
    fastepost__buf_putc(buf, '"');
  }
  return fastepost__buf_putc(buf, '}');
}

int fastepost__buf_printf(fastepost__buf *buf, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  int rc = n < 0 ? fastepost__error_set(FASTEPOST_EINVALID, "bad format") : fastepost__buf_grow(buf, (size_t)n);
  if (rc == FASTEPOST_OK) {
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap2);
    buf->len += (size_t)n;
  }
  va_end(ap2);
  return rc;
}

const char *fastepost__buf_cstr(const fastepost__buf *buf) { return buf->data ? buf->data : ""; }

char *fastepost__buf_detach(fastepost__buf *buf) {
  if (buf->oom) {
    fastepost__buf_free(buf);
    fastepost__error_oom();
    return NULL;
  }
  char *s = buf->data;
  if (!s && !(s = calloc(1, 1)))
    fastepost__error_oom();
  buf->data = NULL;
  buf->len = buf->cap = 0;
  return s;
}

void fastepost__buf_clear(fastepost__buf *buf) {
  buf->len = 0;
  if (buf->data)
    buf->data[0] = '\0';
}

void fastepost__buf_free(fastepost__buf *buf) {
  free(buf->data);
  buf->data = NULL;
  buf->len = buf->cap = 0;
  buf->oom = false;
}
