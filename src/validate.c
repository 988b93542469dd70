/* Client-side value validation: types (from the catalog) and model rules. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/json.h"
#include "validate.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* PostgreSQL's input functions for numbers, booleans and dates ignore surrounding spaces. */
static void trim(const char **s, size_t *len) {
  while (*len && is_space(**s)) {
    (*s)++;
    (*len)--;
  }
  while (*len && is_space((*s)[*len - 1]))
    (*len)--;
}

static bool word_is(const char *s, size_t len, const char *word) {
  return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

static const char *check_integer(const char *s, size_t len, int64_t min, int64_t max,
                                 const char *range_msg) {
  trim(&s, &len);
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
  trim(&s, &len);
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
  trim(&s, &len);
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (word_is(s, len, words[i]))
      return NULL;
  return "not a boolean (true/false, t/f, 1/0, yes/no)";
}

/* Reads exactly n digits at s[*i]. */
static bool digits(const char *s, size_t len, size_t *i, size_t n, int *out) {
  int v = 0;
  for (size_t k = 0; k < n; k++, (*i)++) {
    if (*i >= len || !is_digit(s[*i]))
      return false;
    v = v * 10 + (s[*i] - '0');
  }
  *out = v;
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
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year == 0 || month < 1 || month > 12 || day < 1)
    return false;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int max = mdays[month - 1] + (month == 2 && leap);
  return day <= max;
}

static bool parse_bc(const char *s, size_t len, size_t *i) {
  if (len - *i >= 3 && strncasecmp(s + *i, " BC", 3) == 0) {
    *i += 3;
    return true;
  }
  return false;
}

static const char *check_date(const char *s, size_t len) {
  trim(&s, &len);
  if (word_is(s, len, "infinity") || word_is(s, len, "-infinity"))
    return NULL;
  size_t i = 0;
  if (!parse_date(s, len, &i))
    return "not a date (YYYY-MM-DD)";
  parse_bc(s, len, &i);
  return i == len ? NULL : "not a date (YYYY-MM-DD)";
}

/* Date, then optionally [T ]HH:MM[:SS[.frac]], then optionally Z or +-HH[:MM[:SS]], " BC". */
static const char *check_timestamp(const char *s, size_t len) {
  static const char *const msg = "not a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM])";
  trim(&s, &len);
  if (word_is(s, len, "infinity") || word_is(s, len, "-infinity"))
    return NULL;
  size_t i = 0;
  if (!parse_date(s, len, &i))
    return msg;
  if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ') && i + 1 < len && is_digit(s[i + 1])) {
    i++;
    int h, m, sec = 0;
    if (!digits(s, len, &i, 2, &h) || i >= len || s[i] != ':')
      return msg;
    i++;
    if (!digits(s, len, &i, 2, &m))
      return msg;
    if (i < len && s[i] == ':') {
      i++;
      if (!digits(s, len, &i, 2, &sec))
        return msg;
      if (i < len && s[i] == '.') {
        i++;
        if (i >= len || !is_digit(s[i]))
          return msg;
        while (i < len && is_digit(s[i]))
          i++;
      }
    }
    if (h > 24 || m > 59 || sec > 60 || (h == 24 && (m || sec)))
      return "time of day out of range";
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
      i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
      int zh, zm = 0, zs = 0;
      i++;
      if (!digits(s, len, &i, 2, &zh))
        return msg;
      if (i < len && s[i] == ':') {
        i++;
        if (!digits(s, len, &i, 2, &zm))
          return msg;
        if (i < len && s[i] == ':') {
          i++;
          if (!digits(s, len, &i, 2, &zs))
            return msg;
        }
      } else if (i + 1 < len && is_digit(s[i])) {
        if (!digits(s, len, &i, 2, &zm))
          return msg;
      }
      if (zh > 15 || zm > 59 || zs > 59)
        return "time zone offset out of range";
    }
  }
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
    if (is_hex(s[i]))
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
    return check_date(s, len);
  case FASTEPOST__TIMESTAMPOID:
  case FASTEPOST__TIMESTAMPTZOID:
    return check_timestamp(s, len);
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

/* A deliberately simple address check: one @, a non-empty local part, a dotted domain, no
 * spaces or control characters. Deliverability is not our business. */
static bool is_email(const char *s, size_t len) {
  const char *at = memchr(s, '@', len);
  if (!at || at == s || memchr(at + 1, '@', len - (size_t)(at + 1 - s)))
    return false;
  const char *domain = at + 1;
  size_t dlen = len - (size_t)(domain - s);
  if (dlen < 3 || domain[0] == '.' || domain[dlen - 1] == '.' || !memchr(domain, '.', dlen))
    return false;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == ',' || s[i] == '<' || s[i] == '>')
      return false;
  return true;
}

const char *fastepost__model_check(const char *table, const char *column, const char *s,
                                   size_t len) {
  if (strcmp(table, "customers") == 0 && strcmp(column, "email") == 0)
    return s && !is_email(s, len) ? "not an e-mail address" : NULL;
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
