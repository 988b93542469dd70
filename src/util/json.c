/* SPDX-License-Identifier: MIT */
/* Guarded JSON parsing and canonical serialisation (see json.h). */
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Whether obj holds NaN or an infinity anywhere: json-c reads `NaN` and `Infinity`, which are
 * not JSON (and which jsonb refuses). */
static bool has_nonfinite(const json_object *obj) {
  switch (json_object_get_type(obj)) {
  case json_type_double: {
    double d = json_object_get_double(obj);
    return d != d || d - d != 0;
  }
  case json_type_array:
    for (size_t i = 0; i < json_object_array_length(obj); i++)
      if (has_nonfinite(json_object_array_get_idx(obj, i)))
        return true;
    return false;
  case json_type_object:
    for (struct lh_entry *e = json_object_get_object(obj)->head; e; e = e->next)
      if (has_nonfinite((const json_object *)lh_entry_v(e)))
        return true;
    return false;
  default:
    return false;
  }
}

/* The offset of the first word outside a string that is not true, false, null or an exponent
 * (where NaN or Infinity starts); len when there is none (the value was a number too large for a
 * double, which is valid JSON and kept as written). */
static size_t nonfinite_offset(const char *s, size_t len) {
  bool in_string = false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (in_string) {
      if (c == '\\')
        i++;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (fastepost__ascii_isalpha(c)) {
      size_t start = i;
      while (i < len && fastepost__ascii_isalpha(s[i]))
        i++;
      size_t n = i - start;
      bool exponent = n == 1 && (c == 'e' || c == 'E') && start > 0 && fastepost__ascii_isdigit(s[start - 1]);
      if (!exponent && !(n == 4 && !memcmp(s + start, "true", 4)) && !(n == 5 && !memcmp(s + start, "false", 5)) &&
          !(n == 4 && !memcmp(s + start, "null", 4)))
        return start;
      i--;
    }
  }
  return len;
}

/* ---- strict RFC 8259 checking --------------------------------------------------------------- */

static size_t skip_ws(const char *s, size_t len, size_t i) {
  while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    i++;
  return i;
}

/* A JSON string starting at s[*i] == '"'. The bytes are valid UTF-8 already (checked on input). */
static const char *json_string(const char *s, size_t len, size_t *i, bool jsonb) {
  for ((*i)++; *i < len; (*i)++) {
    unsigned char c = (unsigned char)s[*i];
    if (c == '"') {
      (*i)++;
      return NULL;
    }
    if (c < 0x20)
      return "control character in a JSON string";
    if (c != '\\')
      continue;
    if (++*i >= len)
      break;
    c = (unsigned char)s[*i];
    if (c == 'u') {
      if (len - *i < 5)
        return "bad \\u escape in a JSON string";
      for (size_t k = 1; k <= 4; k++)
        if (!fastepost__ascii_isxdigit(s[*i + k]))
          return "bad \\u escape in a JSON string";
      if (jsonb && strncmp(s + *i + 1, "0000", 4) == 0)
        return "\\u0000 cannot be stored in jsonb";
      *i += 4;
    } else if (!strchr("\"\\/bfnrt", c)) {
      return "bad escape in a JSON string";
    }
  }
  return "unterminated JSON string";
}

static bool json_number(const char *s, size_t len, size_t *i) {
  size_t k = *i;
  if (k < len && s[k] == '-')
    k++;
  if (k < len && s[k] == '0')
    k++;
  else if (k < len && s[k] >= '1' && s[k] <= '9')
    while (k < len && fastepost__ascii_isdigit(s[k]))
      k++;
  else
    return false;
  if (k < len && s[k] == '.') {
    if (++k >= len || !fastepost__ascii_isdigit(s[k]))
      return false;
    while (k < len && fastepost__ascii_isdigit(s[k]))
      k++;
  }
  if (k < len && (s[k] == 'e' || s[k] == 'E')) {
    k++;
    if (k < len && (s[k] == '+' || s[k] == '-'))
      k++;
    if (k >= len || !fastepost__ascii_isdigit(s[k]))
      return false;
    while (k < len && fastepost__ascii_isdigit(s[k]))
      k++;
  }
  *i = k;
  return true;
}

/* `"key":` inside an object, leaving *i at the value. */
static const char *object_key(const char *s, size_t len, size_t *i, bool jsonb) {
  const char *why;
  if (*i >= len || s[*i] != '"')
    return "not valid JSON";
  if ((why = json_string(s, len, i, jsonb)))
    return why;
  *i = skip_ws(s, len, *i);
  if (*i >= len || s[*i] != ':')
    return "not valid JSON";
  *i = skip_ws(s, len, *i + 1);
  return NULL;
}

/* Strict RFC 8259 JSON, without building anything: an explicit stack of open containers, so
 * nesting depth costs one byte per level and no recursion. */
const char *fastepost__json_check(const char *s, size_t len, bool jsonb, size_t *where) {
  static const char *const bad = "not valid JSON";
  char small[64], *stack = small;
  size_t depth = 0, cap = sizeof small;
  const char *why = NULL;
  size_t i = skip_ws(s, len, 0);
  bool want_value = true;
  while (!why) {
    if (want_value) {
      if (i >= len) {
        why = "incomplete JSON";
        break;
      }
      char c = s[i];
      if (c == '{' || c == '[') {
        if (depth == cap) {
          char *grown = malloc(cap * 2);
          if (!grown) {
            why = "JSON nested too deeply";
            break;
          }
          memcpy(grown, stack, depth);
          if (stack != small)
            free(stack);
          stack = grown;
          cap *= 2;
        }
        stack[depth++] = c;
        i = skip_ws(s, len, i + 1);
        if (i < len && s[i] == (c == '{' ? '}' : ']')) {
          depth--;
          i++;
          want_value = false;
          continue;
        }
        if (c == '{' && (why = object_key(s, len, &i, jsonb)))
          break;
        continue;
      }
      if (c == '"')
        why = json_string(s, len, &i, jsonb);
      else if (c == '-' || fastepost__ascii_isdigit(c))
        why = json_number(s, len, &i) ? NULL : bad;
      else if (len - i >= 4 && (strncmp(s + i, "true", 4) == 0 || strncmp(s + i, "null", 4) == 0))
        i += 4;
      else if (len - i >= 5 && strncmp(s + i, "false", 5) == 0)
        i += 5;
      else
        why = bad;
      want_value = false;
      continue;
    }
    i = skip_ws(s, len, i);
    if (depth == 0) {
      if (i != len)
        why = "text after the JSON value";
      break;
    }
    char top = stack[depth - 1];
    if (i < len && s[i] == ',') {
      i = skip_ws(s, len, i + 1);
      if (top == '{' && (why = object_key(s, len, &i, jsonb)))
        break;
      want_value = true;
    } else if (i < len && s[i] == (top == '{' ? '}' : ']')) {
      depth--;
      i++;
    } else {
      why = i >= len ? "incomplete JSON" : bad;
    }
  }
  if (stack != small)
    free(stack);
  if (why && where)
    *where = i;
  return why;
}


int fastepost__json_parse(json_object **out, const char *data, size_t len, int max_depth) {
  *out = NULL;
  size_t bad = 0;
  /* Check UTF-8 ourselves: json-c would accept some invalid sequences inside strings. */
  if (!fastepost__utf8_valid(data, len, &bad))
    return fastepost__error_set(FASTEPOST_EPARSE, "invalid UTF-8 at byte %zu", bad);
  if (len == 0)
    return fastepost__error_set(FASTEPOST_EPARSE, "empty body: expected JSON at byte 0");
  if (len > (size_t)INT32_MAX)
    return fastepost__error_set(FASTEPOST_ETOOBIG, "JSON text of %zu bytes is too large", len);
  if (max_depth <= 0)
    max_depth = FASTEPOST__JSON_DEFAULT_DEPTH;
  /* The strict check first: it refuses what json-c tolerates ('single quotes', trailing
   * commas ...) and names the byte. json-c then builds the tree (and limits the depth). */
  size_t where = 0;
  const char *why = fastepost__json_check(data, len, false, &where);
  if (why)
    return fastepost__error_set(FASTEPOST_EPARSE, "invalid JSON at byte %zu: %s", where, why);
  json_tokener *tok = json_tokener_new_ex(max_depth);
  if (!tok)
    return fastepost__error_oom();
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  json_object *obj = json_tokener_parse_ex(tok, data, (int)len);
  enum json_tokener_error err = json_tokener_get_error(tok);
  size_t end = json_tokener_get_parse_end(tok);
  if (!obj && err == json_tokener_continue) {
    /* A top-level number at the very end ("2") may still go on as far as json-c knows: end it
     * with a space, which JSON allows after the value (found by fuzz_json: "2" was refused
     * while "2 " was accepted). */
    obj = json_tokener_parse_ex(tok, " ", 1);
    err = json_tokener_get_error(tok);
    end = len;
  }
  json_tokener_free(tok);
  if (err == json_tokener_continue)
    return fastepost__error_set(FASTEPOST_EPARSE, "invalid JSON at byte %zu: the text ends early", len);
  if (err == json_tokener_error_depth)
    return fastepost__error_set(FASTEPOST_EPARSE,
                                "invalid JSON at byte %zu: nested deeper than %d levels", end,
                                max_depth);
  if (err != json_tokener_success)
    return fastepost__error_set(FASTEPOST_EPARSE, "invalid JSON at byte %zu: %s",
                                end, json_tokener_error_desc(err));
  for (size_t i = end; i < len; i++)
    if (!strchr(" \t\r\n", data[i])) {
      json_object_put(obj);
      return fastepost__error_set(FASTEPOST_EPARSE,
                                  "invalid JSON at byte %zu: unexpected text after the value", i);
    }
  size_t bad_word = has_nonfinite(obj) ? nonfinite_offset(data, len) : len;
  if (bad_word < len) {
    json_object_put(obj);
    return fastepost__error_set(FASTEPOST_EPARSE, "invalid JSON at byte %zu: NaN and Infinity are not JSON",
                                bad_word);
  }
  *out = obj;
  return FASTEPOST_OK;
}

int fastepost__json_quote(fastepost__buf *buf, const char *s, size_t len) {
  fastepost__buf_putc(buf, '"');
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"': fastepost__buf_puts(buf, "\\\""); break;
    case '\\': fastepost__buf_puts(buf, "\\\\"); break;
    case '\n': fastepost__buf_puts(buf, "\\n"); break;
    case '\r': fastepost__buf_puts(buf, "\\r"); break;
    case '\t': fastepost__buf_puts(buf, "\\t"); break;
    /* U+FFFD as raw UTF-8 like every other character, so that the canonical form of the
     * canonical form is the same text (found by fuzz_json: "\\ufffd" read back as the raw
     * character and serialised differently). */
    case 0: fastepost__buf_puts(buf, "\xEF\xBF\xBD"); break;
    default:
      if (c < 0x20)
        fastepost__buf_printf(buf, "\\u%04x", c);
      else
        fastepost__buf_putc(buf, (char)c);
    }
  }
  return fastepost__buf_putc(buf, '"');
}

static int compare_keys(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int fastepost__json_canonical(fastepost__buf *buf, const json_object *obj) {
  switch (json_object_get_type(obj)) {
  case json_type_null:
    return fastepost__buf_puts(buf, "null");
  case json_type_boolean:
    return fastepost__buf_puts(buf, json_object_get_boolean(obj) ? "true" : "false");
  case json_type_int:
    return fastepost__buf_printf(buf, "%lld", (long long)json_object_get_int64(obj));
  case json_type_double:
    /* json-c keeps the original spelling of parsed doubles, so 60.0 stays 60.0. */
    return fastepost__buf_puts(
        buf, json_object_to_json_string_ext((json_object *)(uintptr_t)obj, JSON_C_TO_STRING_PLAIN));
  case json_type_string:
    return fastepost__json_quote(buf, json_object_get_string((json_object *)(uintptr_t)obj),
                                 (size_t)json_object_get_string_len(obj));
  case json_type_array: {
    size_t n = json_object_array_length(obj);
    fastepost__buf_putc(buf, '[');
    for (size_t i = 0; i < n; i++) {
      if (i)
        fastepost__buf_putc(buf, ',');
      fastepost__json_canonical(buf, json_object_array_get_idx(obj, i));
    }
    return fastepost__buf_putc(buf, ']');
  }
  case json_type_object: {
    size_t n = (size_t)json_object_object_length(obj), k = 0;
    const char **keys = n ? malloc(n * sizeof *keys) : NULL;
    if (n && !keys) {
      buf->oom = true;
      return fastepost__error_oom();
    }
    for (struct lh_entry *e = json_object_get_object(obj)->head; e; e = e->next)
      keys[k++] = (const char *)lh_entry_k(e);
    if (k > 1) /* qsort(NULL, 0, ...) is undefined: {} has no keys */
      qsort(keys, k, sizeof *keys, compare_keys);
    fastepost__buf_putc(buf, '{');
    for (size_t i = 0; i < k; i++) {
      if (i)
        fastepost__buf_putc(buf, ',');
      fastepost__json_quote(buf, keys[i], strlen(keys[i]));
      fastepost__buf_putc(buf, ':');
      fastepost__json_canonical(buf, fastepost__json_get(obj, keys[i]));
    }
    free(keys);
    return fastepost__buf_putc(buf, '}');
  }
  }
  return fastepost__buf_puts(buf, "null");
}

json_object *fastepost__json_get(const json_object *obj, const char *key) {
  json_object *v = NULL;
  if (!obj || !json_object_is_type(obj, json_type_object))
    return NULL;
  if (!json_object_object_get_ex(obj, key, &v))
    return NULL;
  return v;
}
