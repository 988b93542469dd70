/* SPDX-License-Identifier: MIT */
/* Customer normalisation (the rule is in src/normalize.h and docs/schema.md). Byte-wise and
 * ASCII-only: nothing here depends on the locale. */
#include "normalize.h"

#include <stdlib.h>
#include <string.h>

#include "sync.h"

void fastepost__ascii_trim(const char **s, size_t *len) {
  while (*len && fastepost__ascii_isspace((unsigned char)**s)) {
    (*s)++;
    (*len)--;
  }
  while (*len && fastepost__ascii_isspace((unsigned char)(*s)[*len - 1]))
    (*len)--;
}

/* The validity part of the rule, on a trimmed value (case does not matter). */
static bool email_valid(const char *s, size_t len) {
  const char *at = len ? memchr(s, '@', len) : NULL;
  if (!at || at == s)
    return false;
  const char *domain = at + 1;
  size_t dlen = len - (size_t)(domain - s);
  if (!dlen || memchr(domain, '@', dlen) || domain[0] == '.' || domain[dlen - 1] == '.' ||
      !memchr(domain, '.', dlen))
    return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c == 0x7f || (c < 0x80 && strchr("<>()[],;:\"\\", c)))
      return false;
  }
  return true;
}

static const char *const NOT_AN_EMAIL = "not an e-mail address";

const char *fastepost__email_check(const char *s, size_t len) {
  fastepost__ascii_trim(&s, &len);
  return email_valid(s, len) ? NULL : NOT_AN_EMAIL;
}

const char *fastepost__email_normalize(fastepost__buf *out, const char *s, size_t len) {
  fastepost__ascii_trim(&s, &len);
  fastepost__buf_grow(out, len + 1);
  for (size_t i = 0; i < len; i++)
    fastepost__buf_putc(out, (char)fastepost__ascii_tolower((unsigned char)s[i]));
  return email_valid(s, len) ? NULL : NOT_AN_EMAIL;
}

void fastepost__phone_normalize(fastepost__buf *out, const char *s, size_t len) {
  fastepost__ascii_trim(&s, &len);
  fastepost__buf_grow(out, len + 1);
  bool space = false;
  for (size_t i = 0; i < len; i++) {
    if (fastepost__ascii_isspace((unsigned char)s[i])) {
      space = true;
      continue;
    }
    if (space)
      fastepost__buf_putc(out, ' ');
    space = false;
    fastepost__buf_putc(out, s[i]);
  }
}

/* ---- records --------------------------------------------------------------------------------- */

/* Whether v is empty or starts or ends with white space. */
static bool padded(const char *v, size_t len) {
  return !len || fastepost__ascii_isspace((unsigned char)v[0]) || fastepost__ascii_isspace((unsigned char)v[len - 1]);
}

/* Whether v is in its normal form already (the common case: no copy then). */
static bool email_is_normal(const char *v, size_t len) {
  if (padded(v, len))
    return false;
  for (size_t i = 0; i < len; i++)
    if (fastepost__ascii_isupper((unsigned char)v[i]))
      return false;
  return true;
}

static bool phone_is_normal(const char *v, size_t len) {
  if (padded(v, len))
    return false;
  for (size_t i = 0; i < len; i++)
    if (fastepost__ascii_isspace((unsigned char)v[i]) &&
        (v[i] != ' ' || fastepost__ascii_isspace((unsigned char)v[i + 1])))
      return false;
  return true;
}

static void fact_empty(fastepost__fact *f) {
  free(f->value);
  f->value = NULL;
  f->state = FASTEPOST__FACT_EMPTY;
}

/* Replace f's value by the buffer's text (EMPTY when it is empty). */
static int fact_take(fastepost__fact *f, fastepost__buf *b) {
  if (b->oom) {
    fastepost__buf_free(b);
    return fastepost__error_oom();
  }
  if (!b->len) {
    fastepost__buf_free(b);
    fact_empty(f);
    return FASTEPOST_OK;
  }
  free(f->value);
  f->value = fastepost__buf_detach(b);
  return FASTEPOST_OK;
}

static int email_fact(fastepost__fact *f, const char *what, fastepost__strlist *warnings) {
  if (f->state != FASTEPOST__FACT_VALUE || !f->value)
    return FASTEPOST_OK;
  size_t len = strlen(f->value);
  if (email_is_normal(f->value, len)) {
    if (email_valid(f->value, len))
      return FASTEPOST_OK;
  } else {
    fastepost__buf b = FASTEPOST__BUF_INIT;
    const char *why = fastepost__email_normalize(&b, f->value, len);
    if (!why || !b.len || b.oom)
      return fact_take(f, &b);
    fastepost__buf_free(&b);
  }
  char p[64];
  fastepost__preview(p, sizeof p, f->value, len);
  fastepost__strlist_addf(warnings, "%s \"%s\" is not an email address: stored as empty", what, p);
  fact_empty(f);
  return FASTEPOST_OK;
}

static int phone_fact(fastepost__fact *f) {
  if (f->state != FASTEPOST__FACT_VALUE || !f->value)
    return FASTEPOST_OK;
  size_t len = strlen(f->value);
  if (phone_is_normal(f->value, len))
    return FASTEPOST_OK;
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__phone_normalize(&b, f->value, len);
  return fact_take(f, &b);
}

int fastepost__sync_normalize(fastepost__sync_record *rec) {
  int rc = email_fact(&rec->facts.email, "email", &rec->warnings);
  if (!rc)
    rc = phone_fact(&rec->facts.phone);
  for (size_t i = 0; rec->prop_defs && i < rec->nprops && i < FASTEPOST__MAX_PROPS && !rc; i++) {
    if (rec->prop_defs[i].column == FASTEPOST__COL_EMAIL)
      rc = email_fact(&rec->props[i], rec->prop_defs[i].name, &rec->warnings);
    else if (rec->prop_defs[i].column == FASTEPOST__COL_PHONE)
      rc = phone_fact(&rec->props[i]);
  }
  return rc;
}
