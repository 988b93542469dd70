/* SPDX-License-Identifier: MIT */
/* Client-side value validation: types (from the catalog) and model rules. Byte classes and
 * case folding are ASCII-only (internal.h), so that no locale changes a verdict (under tr_TR
 * strncasecmp() does not fold 'I' to 'i'). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"
#include "util/json.h"
#include "util/time.h"
#include "validate.h"

static bool is_digit(char c) { return fastepost__ascii_isdigit((unsigned char)c); }

static bool word_is(const char *s, size_t len, const char *word) {
  return strlen(word) == len && fastepost__ascii_ncasecmp(s, word, len) == 0;
}

/* PostgreSQL's input functions for numbers, booleans and dates ignore surrounding spaces
 * (fastepost__ascii_trim). */
static const char *check_integer(const char *s, size_t len, int64_t min, int64_t max,
                                 const char *range_msg) {
  fastepost__ascii_trim(&s, &len);
  size_t i = 0;
  bool neg = false;
  if (i < len && (s[i] == '+' || s[i] == '-'))
    neg = s[i++] == '-';
  if (i == len)
    return "not an integer";
  /* Accumulate as a negative number so that INT64_MIN fits. */
  int64_t v = 0;
  for (; i < len; i++) {
    if (!is_digit(s[i]))
      return "not an integer";
    int d = s[i] - '0';
    if (v < (INT64_MIN + d) / 10)
      return range_msg;
    v = v * 10 - d;
  }
  if (!neg) {
    if (v < -INT64_MAX)
      return range_msg;
    v = -v;
  }
  return v < min || v > max ? range_msg : NULL;
}

/* [+-] digits [. digits] [e [+-] digits], or NaN / Infinity. *int_digits gets the number of
 * significant digits before the point (when there is no exponent; -1 otherwise). */
static const char *check_number(const char *s, size_t len, int *int_digits) {
  fastepost__ascii_trim(&s, &len);
  *int_digits = -1;
  size_t i = 0;
  if (i < len && (s[i] == '+' || s[i] == '-'))
    i++;
  const char *w = s + i;
  size_t wl = len - i;
  if (word_is(w, wl, "infinity") || word_is(w, wl, "inf") || (i == 0 && word_is(s, len, "nan")))
    return NULL;
  size_t before = 0, after = 0, sig = 0;
  bool leading = true;
  for (; i < len && is_digit(s[i]); i++, before++) {
    if (s[i] != '0')
      leading = false;
    if (!leading)
      sig++;
  }
  if (i < len && s[i] == '.')
    for (i++; i < len && is_digit(s[i]); i++)
      after++;
  if (before + after == 0)
    return "not a number";
  bool exponent = false;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    exponent = true;
    i++;
    if (i < len && (s[i] == '+' || s[i] == '-'))
      i++;
    if (i == len || !is_digit(s[i]))
      return "not a number";
    while (i < len && is_digit(s[i]))
      i++;
  }
  if (i != len)
    return "not a number";
  if (!exponent)
    *int_digits = (int)sig;
  return NULL;
}

static const char *check_numeric(const fastepost__column *col, const char *s, size_t len) {
  int int_digits;
  const char *why = check_number(s, len, &int_digits);
  if (why || col->base_typmod < 4 || int_digits < 0)
    return why;
  /* numeric(p, s): at most p - s digits before the point (rounding is left to the server). */
  int typmod = col->base_typmod - 4;
  int precision = (typmod >> 16) & 0xffff, scale = typmod & 0x7ff;
  if (scale <= precision && int_digits > precision - scale)
    return "too many digits for the column's precision";
  return NULL;
}

static const char *check_boolean(const char *s, size_t len) {
  static const char *const words[] = {"true", "false", "t", "f", "1", "0", "yes", "no",
                                      "y", "n", "on", "off"};
  fastepost__ascii_trim(&s, &len);
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (word_is(s, len, words[i]))
      return NULL;
  return "not a boolean (true/false, t/f, 1/0, yes/no)";
}

/* Exactly n digits at s[*i] (util/time.h), within len; advances *i past them. */
static bool digits(const char *s, size_t len, size_t *i, size_t n, int *out) {
  if (len - *i < n || !fastepost__parse_digits(s + *i, (int)n, out))
    return false;
  *i += n;
  return true;
}

/* YYYY-MM-DD (4 or more year digits), optionally followed by " BC" handled by the caller. */
static bool parse_date(const char *s, size_t len, size_t *i) {
  size_t start = *i;
  while (*i < len && is_digit(s[*i]))
    (*i)++;
  size_t ydigits = *i - start;
  if (ydigits < 4 || ydigits > 7)
    return false;
  long year = 0;
  for (size_t k = start; k < *i; k++)
    year = year * 10 + (s[k] - '0');
  int month, day;
  if (*i >= len || s[*i] != '-')
    return false;
  (*i)++;
  if (!digits(s, len, i, 2, &month) || *i >= len || s[*i] != '-')
    return false;
  (*i)++;
  if (!digits(s, len, i, 2, &day))
    return false;
  if (year == 0 || month < 1 || month > 12 || day < 1)
    return false;
  return day <= fastepost__days_in_month(year, month);
}

static bool parse_bc(const char *s, size_t len, size_t *i) {
  if (len - *i >= 3 && fastepost__ascii_ncasecmp(s + *i, " BC", 3) == 0) {
    *i += 3;
    return true;
  }
  return false;
}

/* HH[:MM[:SS]], two digits each, into f (fields not there are left alone): how many were read,
 * or -1 when one is broken. */
static int clock_fields(const char *s, size_t len, size_t *i, int f[3]) {
  int k = 0;
  for (; k < 3; k++) {
    if (k) {
      if (*i >= len || s[*i] != ':')
        break;
      (*i)++;
    }
    if (!digits(s, len, i, 2, &f[k]))
      return -1;
  }
  return k;
}

/* A timestamp's time of day after its date (s[*i]): optionally [T ]HH:MM[:SS[.frac]], then
 * optionally Z or +-HH[:MM[:SS]] or +-HHMM. NULL, or why not. */
static const char *time_part(const char *s, size_t len, size_t *ip, const char *msg) {
  size_t i = *ip;
  if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ') && i + 1 < len && is_digit(s[i + 1])) {
    i++;
    int t[3] = {0, 0, 0}; /* hours, minutes, seconds */
    int n = clock_fields(s, len, &i, t);
    if (n < 2)
      return msg;
    if (n == 3 && i < len && s[i] == '.') {
      i++;
      if (i >= len || !is_digit(s[i]))
        return msg;
      while (i < len && is_digit(s[i]))
        i++;
    }
    if (t[0] > 24 || t[1] > 59 || t[2] > 60 || (t[0] == 24 && (t[1] || t[2])))
      return "time of day out of range";
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
      i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
      int z[3] = {0, 0, 0};
      i++;
      n = clock_fields(s, len, &i, z);
      if (n < 1)
        return msg;
      if (n == 1 && i + 1 < len && is_digit(s[i]) && !digits(s, len, &i, 2, &z[1])) /* +HHMM */
        return msg;
      if (z[0] > 15 || z[1] > 59 || z[2] > 59)
        return "time zone offset out of range";
    }
  }
  *ip = i;
  return NULL;
}

/* A date (YYYY-MM-DD) or, with_time, a timestamp (time_part), either optionally " BC"; or
 * "infinity" / "-infinity". */
static const char *check_datetime(const char *s, size_t len, bool with_time) {
  const char *msg = with_time ? "not a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM])"
                              : "not a date (YYYY-MM-DD)";
  fastepost__ascii_trim(&s, &len);
  if (word_is(s, len, "infinity") || word_is(s, len, "-infinity"))
    return NULL;
  size_t i = 0;
  if (!parse_date(s, len, &i))
    return msg;
  const char *why = with_time ? time_part(s, len, &i, msg) : NULL;
  if (why)
    return why;
  parse_bc(s, len, &i);
  return i == len ? NULL : msg;
}

/* PostgreSQL's uuid input: 32 hex digits, optionally in braces, with a hyphen allowed after
 * any group of four digits. */
static const char *check_uuid(const char *s, size_t len) {
  static const char *const msg = "not a UUID";
  if (len >= 2 && s[0] == '{' && s[len - 1] == '}') {
    s++;
    len -= 2;
  }
  size_t hex = 0;
  for (size_t i = 0; i < len; i++) {
    if (fastepost__ascii_isxdigit((unsigned char)s[i]))
      hex++;
    else if (s[i] == '-' && hex > 0 && hex % 4 == 0 && i + 1 < len && s[i + 1] != '-' && hex < 32)
      continue;
    else
      return msg;
  }
  return hex == 32 ? NULL : msg;
}

static size_t utf8_chars(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80)
      n++;
  return n;
}

static const char *check_length(const fastepost__column *col, const char *s, size_t len) {
  if (col->base_typmod < 4)
    return NULL;
  size_t max = (size_t)(col->base_typmod - 4);
  /* char(n) ignores trailing spaces beyond n, as PostgreSQL does. */
  if (col->base_oid == FASTEPOST__BPCHAROID)
    while (len && s[len - 1] == ' ')
      len--;
  return utf8_chars(s, len) > max ? "longer than the column allows" : NULL;
}

const char *fastepost__value_check(const fastepost__column *col, const char *s, size_t len) {
  switch (col->base_oid) {
  case FASTEPOST__INT2OID:
    return check_integer(s, len, INT16_MIN, INT16_MAX, "out of range for smallint");
  case FASTEPOST__INT4OID:
    return check_integer(s, len, INT32_MIN, INT32_MAX, "out of range for integer");
  case FASTEPOST__INT8OID:
    return check_integer(s, len, INT64_MIN, INT64_MAX, "out of range for bigint");
  case FASTEPOST__NUMERICOID:
    return check_numeric(col, s, len);
  case FASTEPOST__FLOAT4OID:
  case FASTEPOST__FLOAT8OID: {
    int ignored;
    return check_number(s, len, &ignored);
  }
  case FASTEPOST__BOOLOID:
    return check_boolean(s, len);
  case FASTEPOST__DATEOID:
    return check_datetime(s, len, false);
  case FASTEPOST__TIMESTAMPOID:
  case FASTEPOST__TIMESTAMPTZOID:
    return check_datetime(s, len, true);
  case FASTEPOST__UUIDOID:
    return check_uuid(s, len);
  case FASTEPOST__JSONOID:
    return fastepost__json_check(s, len, false, NULL);
  case FASTEPOST__JSONBOID:
    return fastepost__json_check(s, len, true, NULL);
  case FASTEPOST__VARCHAROID:
  case FASTEPOST__BPCHAROID:
    return check_length(col, s, len);
  default:
    return NULL;
  }
}

const char *fastepost__model_check(const char *table, const char *column, const char *s,
                                   size_t len) {
  if (strcmp(table, "customers") == 0 && strcmp(column, "email") == 0)
    return s ? fastepost__email_check(s, len) : NULL; /* the rule of every source (normalize.h) */
  if (strcmp(table, "tasks") == 0 && strcmp(column, "barcode") == 0)
    return s && len == 0 ? "barcode must not be empty" : NULL;
  if (strcmp(table, "integration_events") == 0 && strcmp(column, "status") == 0) {
    static const char *const set[] = {"pending", "success", "error", "dead"};
    if (!s)
      return NULL;
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
      if (strlen(set[i]) == len && memcmp(set[i], s, len) == 0)
        return NULL;
    return "status must be pending, success, error or dead";
  }
  return NULL;
}

bool fastepost__model_normalize(fastepost__buf *out, const char *table, const char *column, const char *s,
                                size_t len) {
  if (!s || strcmp(table, "customers") != 0)
    return false;
  if (strcmp(column, "email") == 0) {
    fastepost__email_normalize(out, s, len);
    return true;
  }
  if (strcmp(column, "phone") == 0) {
    fastepost__phone_normalize(out, s, len);
    return true;
  }
  return false;
}
