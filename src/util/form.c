/* SPDX-License-Identifier: MIT */
/* Strict application/x-www-form-urlencoded decoding (see form.h). */
#include "util/form.h"

#include <stdlib.h>
#include <string.h>

static int hex_digit(unsigned char c) {
  if (fastepost__ascii_isdigit(c))
    return c - '0';
  if (fastepost__ascii_isxdigit(c))
    return fastepost__ascii_tolower(c) - 'a' + 10;
  return -1;
}

/* Decode [s+from, s+to) of the whole text s into out (which has room for to - from + 1
 * bytes): `+` a space, `%XX` a byte. What is refused names its offset in the whole text, so
 * that the message points at the byte a sender got wrong. */
static int decode(char *out, size_t *outlen, const char *s, size_t from, size_t to, const char *what) {
  size_t o = 0;
  for (size_t i = from; i < to; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '+') {
      out[o++] = ' ';
    } else if (c == '%') {
      if (to - i < 3 || hex_digit((unsigned char)s[i + 1]) < 0 || hex_digit((unsigned char)s[i + 2]) < 0)
        return fastepost__error_set(FASTEPOST_EPARSE, "invalid percent-escape in a form %s at byte %zu", what, i);
      out[o++] = (char)(hex_digit((unsigned char)s[i + 1]) * 16 + hex_digit((unsigned char)s[i + 2]));
      i += 2;
    } else {
      out[o++] = (char)c;
    }
  }
  out[o] = '\0';
  size_t bad = 0;
  if (memchr(out, '\0', o))
    return fastepost__error_set(FASTEPOST_EPARSE, "a NUL byte in a form %s starting at byte %zu", what, from);
  if (!fastepost__utf8_valid(out, o, &bad))
    return fastepost__error_set(FASTEPOST_EPARSE, "invalid UTF-8 in a form %s starting at byte %zu", what, from);
  *outlen = o;
  return FASTEPOST_OK;
}

int fastepost__form_each(const char *s, size_t len, fastepost__form_fn fn, void *payload) {
  if (!s && len)
    return fastepost__error_set(FASTEPOST_EINVALID, "form: NULL text");
  /* One scratch buffer for every pair: no pair decodes longer than the text. */
  char *name = malloc(FASTEPOST__FORM_MAX_NAME + 1), *value = malloc(len + 1);
  int rc = name && value ? FASTEPOST_OK : fastepost__error_oom();
  size_t pairs = 0;
  for (size_t i = 0; !rc && i < len;) {
    const char *amp = memchr(s + i, '&', len - i);
    size_t end = amp ? (size_t)(amp - s) : len;
    if (end > i) {
      const char *eq = memchr(s + i, '=', end - i);
      size_t name_end = eq ? (size_t)(eq - s) : end, nlen = 0, vlen = 0;
      if (++pairs > FASTEPOST__FORM_MAX_PAIRS)
        rc = fastepost__error_set(FASTEPOST_ETOOBIG, "form of more than %d parameters", FASTEPOST__FORM_MAX_PAIRS);
      else if (name_end == i)
        rc = fastepost__error_set(FASTEPOST_EPARSE, "a form parameter without a name at byte %zu", i);
      else if (name_end - i > FASTEPOST__FORM_MAX_NAME)
        rc = fastepost__error_set(FASTEPOST_ETOOBIG, "a form parameter name of more than %d bytes at byte %zu",
                                  FASTEPOST__FORM_MAX_NAME, i);
      if (!rc)
        rc = decode(name, &nlen, s, i, name_end, "parameter name");
      if (!rc)
        rc = eq ? decode(value, &vlen, s, name_end + 1, end, "value") : (value[0] = '\0', FASTEPOST_OK);
      if (!rc)
        rc = fn(payload, name, value);
    }
    i = end + 1;
  }
  /* Values may be secrets (a token): they do not linger in freed memory. */
  if (value)
    for (volatile char *p = value; p < value + len + 1; p++)
      *p = 0;
  free(value);
  free(name);
  return rc;
}

static int add_pair(void *payload, const char *name, const char *value) {
  json_object *obj = payload;
  if (json_object_object_get_ex(obj, name, NULL)) {
    char p[64];
    fastepost__preview(p, sizeof p, name, strlen(name));
    return fastepost__error_set(FASTEPOST_EPARSE, "form parameter \"%s\" is given twice", p);
  }
  json_object *v = json_object_new_string(value);
  if (!v || json_object_object_add(obj, name, v)) {
    json_object_put(v);
    return fastepost__error_oom();
  }
  return FASTEPOST_OK;
}

int fastepost__form_to_json(json_object **out, const char *s, size_t len) {
  *out = NULL;
  json_object *obj = json_object_new_object();
  if (!obj)
    return fastepost__error_oom();
  int rc = fastepost__form_each(s, len, add_pair, obj);
  if (rc) {
    json_object_put(obj);
    return rc;
  }
  *out = obj;
  return FASTEPOST_OK;
}

bool fastepost__form_query(const char *uri, const char **query, size_t *len) {
  const char *q = uri ? strchr(uri, '?') : NULL;
  const char *hash = uri ? strchr(uri, '#') : NULL;
  *query = NULL;
  *len = 0;
  if (!q || (hash && hash < q))
    return false;
  q++;
  *query = q;
  *len = strcspn(q, "#");
  return true;
}
