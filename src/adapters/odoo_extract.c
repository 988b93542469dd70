/* SPDX-License-Identifier: MIT */
/*
 * The Odoo adapter, parsing: a body (JSON or a form) into the JSON record it carries, in
 * whatever shape it came (native webhook, JSON-RPC read() result, code-action wrappers), the
 * field readers the mapping uses, and fastepost__odoo_extract(), which turns a body into one
 * sync record with its dedup and version keys. No SQL here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/odoo.h"
#include "util/digest.h"
#include "util/html.h"
#include "util/json.h"
#include "util/time.h"

/* "update" and "delete" are what some code-action envelopes call write and unlink. */
const char *fastepost__odoo_hint(const char *s) {
  static const char *const hints[][2] = {{"create", "create"}, {"write", "write"},
                                         {"unlink", "unlink"}, {"archive", "archive"},
                                         {"update", "write"},  {"delete", "unlink"}};
  for (size_t i = 0; s && i < sizeof hints / sizeof hints[0]; i++)
    if (strcmp(s, hints[i][0]) == 0)
      return hints[i][1];
  return NULL;
}


/* ---- values -------------------------------------------------------------------------------- */

/* json-c's getters take non-const pointers although they only read. */
const char *fastepost__odoo_jstr(const json_object *v) { return json_object_get_string((json_object *)(uintptr_t)v); }

/* A copy of [s, s+n) without surrounding white space; a NUL inside (from \u0000) becomes U+FFFD,
 * since PostgreSQL text cannot hold it. */
char *fastepost__odoo_trimmed(const char *s, size_t n) {
  while (n && fastepost__ascii_isspace((unsigned char)*s)) {
    s++;
    n--;
  }
  while (n && fastepost__ascii_isspace((unsigned char)s[n - 1]))
    n--;
  if (!memchr(s, '\0', n))
    return fastepost__strndup(s, n);
  fastepost__buf b = FASTEPOST__BUF_INIT;
  for (size_t i = 0; i < n; i++) {
    if (s[i])
      fastepost__buf_putc(&b, s[i]);
    else
      fastepost__buf_puts(&b, "\xef\xbf\xbd");
  }
  return fastepost__buf_detach(&b);
}

/*
 * A text field. ABSENT when the key is missing; EMPTY for false, null, "", [], {} or white
 * space only; else the trimmed text (numbers as written, a many2one pair as its name).
 * *out is set only for VALUE.
 */
fastepost__fact_state fastepost__odoo_text(const json_object *rec, const char *key, char **out) {
  json_object *v = NULL;
  *out = NULL;
  if (!json_object_object_get_ex(rec, key, &v))
    return FASTEPOST__FACT_ABSENT;
  bool copied; /* false when a copy ran out of memory: then leave the column alone */
  switch (json_object_get_type(v)) {
  case json_type_string:
    *out = fastepost__odoo_trimmed(fastepost__odoo_jstr(v), (size_t)json_object_get_string_len(v));
    break;
  case json_type_int:
  case json_type_double:
    *out = fastepost__strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    break;
  case json_type_array:
    /* [id, "name"] as JSON-RPC read() sends a many2one */
    if (json_object_array_length(v) == 2 &&
        json_object_is_type(json_object_array_get_idx(v, 1), json_type_string)) {
      json_object *name = json_object_array_get_idx(v, 1);
      *out = fastepost__odoo_trimmed(fastepost__odoo_jstr(name), (size_t)json_object_get_string_len(name));
    }
    break;
  default:
    return FASTEPOST__FACT_EMPTY;
  }
  copied = *out != NULL || json_object_is_type(v, json_type_array);
  if (*out && !**out) {
    free(*out);
    *out = NULL;
  }
  return *out ? FASTEPOST__FACT_VALUE : copied ? FASTEPOST__FACT_EMPTY : FASTEPOST__FACT_ABSENT;
}

/* An HTML field as plain text, with the same states as fastepost__odoo_text. */
fastepost__fact_state fastepost__odoo_html(const json_object *rec, const char *key, char **out) {
  char *raw = NULL;
  fastepost__fact_state st = fastepost__odoo_text(rec, key, &raw);
  *out = NULL;
  if (st != FASTEPOST__FACT_VALUE)
    return st;
  *out = fastepost__html_to_text(raw, strlen(raw));
  free(raw);
  if (*out && !**out) {
    free(*out);
    *out = NULL;
  }
  return *out ? FASTEPOST__FACT_VALUE : FASTEPOST__FACT_EMPTY;
}

/* A boolean: true/false, or the strings form bodies carry. -1 when absent or not a boolean. */
int fastepost__odoo_bool(const json_object *rec, const char *key) {
  json_object *v = fastepost__json_get(rec, key);
  if (!v)
    return -1;
  if (json_object_is_type(v, json_type_boolean))
    return json_object_get_boolean(v) ? 1 : 0;
  if (json_object_is_type(v, json_type_int))
    return json_object_get_int64(v) != 0;
  if (json_object_is_type(v, json_type_string)) {
    const char *s = fastepost__odoo_jstr(v);
    if (!fastepost__ascii_casecmp(s, "true") || !strcmp(s, "1") || !fastepost__ascii_casecmp(s, "on"))
      return 1;
    if (!fastepost__ascii_casecmp(s, "false") || !strcmp(s, "0") || !fastepost__ascii_casecmp(s, "off") || !*s)
      return 0;
  }
  return -1;
}

/* An id: a positive integer, a string of digits, or [id, "name"]. 0 for false/null/[] (empty),
 * -1 for anything else (wrong type). */
int64_t fastepost__odoo_id(const json_object *v) {
  if (!v || json_object_is_type(v, json_type_null) ||
      (json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v)))
    return 0;
  if (json_object_is_type(v, json_type_array)) {
    if (json_object_array_length(v) == 0)
      return 0;
    return fastepost__odoo_id(json_object_array_get_idx(v, 0));
  }
  if (json_object_is_type(v, json_type_int)) {
    int64_t n = json_object_get_int64(v);
    return n > 0 && n < INT64_MAX ? n : -1;
  }
  if (json_object_is_type(v, json_type_string)) {
    const char *s = fastepost__odoo_jstr(v);
    size_t n = strlen(s);
    if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
      return -1;
    int64_t id = atoll(s);
    return id > 0 ? id : -1;
  }
  return -1;
}

bool fastepost__odoo_datetime(char *out, size_t outsize, const char *s) {
  int64_t us;
  return fastepost__time_parse_iso(&us, s) && fastepost__time_format(out, outsize, us);
}



/* ---- finding the record -------------------------------------------------------------------- */

typedef struct located {
  const json_object *record; /* the innermost object: the record's fields */
  const char *model;         /* from _model / model / the event name */
  const char *model_from_event;
  const char *action;        /* hint from the body: event / trigger */
  const json_object *id;     /* _id / id / record_id / external_id */
  const char *id_key;
  bool several;              /* a read() result with more than one record */
} located;

static void take_event(located *l, const char *ev) {
  const char *dot = strrchr(ev, '.');
  if (fastepost__odoo_hint(ev)) {
    l->action = fastepost__odoo_hint(ev);
  } else if (dot && fastepost__odoo_hint(dot + 1)) {
    l->action = fastepost__odoo_hint(dot + 1);
    l->model_from_event = ev; /* the model is the part before the dot; see model_of() */
  } else if (dot) {
    l->model_from_event = ev;
  }
}

/* Walk the wrappers (JSON-RPC envelope, {"record": ..}, {"data": ..}, {"params": ..}) from the
 * outside in; inner values win. */
static void locate(located *l, const json_object *obj, int depth) {
  if (!obj || depth > 6)
    return;
  if (json_object_is_type(obj, json_type_array)) {
    size_t n = json_object_array_length(obj);
    if (n > 1)
      l->several = true;
    if (n)
      locate(l, json_object_array_get_idx(obj, 0), depth + 1);
    return;
  }
  if (!json_object_is_type(obj, json_type_object))
    return;
  l->record = obj;
  bool rpc = fastepost__json_get(obj, "jsonrpc") != NULL;
  static const char *const model_keys[] = {"_model", "model"};
  for (size_t i = 0; i < 2; i++) {
    json_object *m = fastepost__json_get(obj, model_keys[i]);
    if (m && json_object_is_type(m, json_type_string) && json_object_get_string_len(m)) {
      l->model = fastepost__odoo_jstr(m);
      break;
    }
  }
  static const char *const event_keys[] = {"event", "trigger"};
  for (size_t i = 0; i < 2; i++) {
    json_object *e = fastepost__json_get(obj, event_keys[i]);
    if (e && json_object_is_type(e, json_type_string))
      take_event(l, fastepost__odoo_jstr(e));
  }
  static const char *const id_keys[] = {"_id", "id", "record_id", "external_id"};
  for (size_t i = 0; i < 4 && !rpc; i++) {
    json_object *v = fastepost__json_get(obj, id_keys[i]);
    if (v) {
      l->id = v;
      l->id_key = id_keys[i];
      break;
    }
  }
  /* A native webhook body (it has _id) is the record itself, whatever its fields are called. */
  if (fastepost__json_get(obj, "_id"))
    return;
  static const char *const wrappers[] = {"result", "record", "data", "params"};
  for (size_t i = 0; i < 4; i++) {
    json_object *inner = fastepost__json_get(obj, wrappers[i]);
    if (inner && (json_object_is_type(inner, json_type_object) ||
                  (json_object_is_type(inner, json_type_array) && i == 0))) {
      locate(l, inner, depth + 1);
      return;
    }
  }
}

/* ---- form bodies --------------------------------------------------------------------------- */

static int hexval(char c) {
  if (fastepost__ascii_isdigit((unsigned char)c))
    return c - '0';
  return fastepost__ascii_isxdigit((unsigned char)c) ? fastepost__ascii_tolower((unsigned char)c) - 'a' + 10 : -1;
}

static char *form_decode(const char *s, size_t n) {
  char *out = malloc(n + 1);
  if (!out) {
    fastepost__error_oom();
    return NULL;
  }
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '+') {
      out[o++] = ' ';
    } else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = '\0';
  return out;
}

/* a=1&b=x+y -> {"a": "1", "b": "x y"}; values stay strings. */
static int parse_form(json_object **out, const char *body, size_t len) {
  json_object *obj = json_object_new_object();
  if (!obj)
    return fastepost__error_oom();
  size_t i = 0;
  while (i < len) {
    size_t end = i;
    while (end < len && body[end] != '&')
      end++;
    if (end > i) {
      const char *eq = memchr(body + i, '=', end - i);
      size_t klen = eq ? (size_t)(eq - (body + i)) : end - i;
      char *key = form_decode(body + i, klen);
      char *val = eq ? form_decode(eq + 1, (size_t)(body + end - eq - 1)) : fastepost__strdup("");
      size_t bad = 0;
      if (!key || !val) {
        free(key);
        free(val);
        json_object_put(obj);
        return FASTEPOST_ENOMEM;
      }
      if (!fastepost__utf8_valid(key, strlen(key), &bad) || !fastepost__utf8_valid(val, strlen(val), &bad)) {
        free(key);
        free(val);
        json_object_put(obj);
        return fastepost__error_set(FASTEPOST_EPARSE, "invalid UTF-8 in the form field at byte %zu", i);
      }
      if (*key)
        json_object_object_add(obj, key, json_object_new_string(val));
      free(key);
      free(val);
    }
    i = end + 1;
  }
  *out = obj;
  return FASTEPOST_OK;
}

/* ---- extraction ---------------------------------------------------------------------------- */

static int fail(fastepost__sync_record *rec, int code) {
  return fastepost__record_fail(rec, code, "%s", fastepost_error_last()->message);
}

static char *joined(const char *a, const char *b) {
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&buf, a);
  if (b && *b)
    fastepost__buf_printf(&buf, ".%s", b);
  return fastepost__buf_detach(&buf);
}

/* The record in root (a parsed body, borrowed) into rec: everything after the parse. opts is
 * set (the defaults filled in by the callers). */
static int extract_parsed(fastepost__sync_record *rec, const json_object *root_in, const fastepost_odoo_options *opts) {
  json_object *root = (json_object *)(uintptr_t)root_in; /* json-c's getters take no const */
  const char *hint = opts->hint;
  int rc = FASTEPOST_OK;
  fastepost__buf canon = FASTEPOST__BUF_INIT;
  fastepost__json_canonical(&canon, root);
  rec->payload = fastepost__buf_detach(&canon);
  if (!rec->payload) {
    rc = fail(rec, FASTEPOST_ENOMEM);
    goto out;
  }
  if (!json_object_is_type(root, json_type_object)) {
    rc = fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "the body is JSON but not an object"));
    goto out;
  }

  located l = {0};
  locate(&l, root, 0);
  if (!hint[0] && l.action)
    hint = l.action;
  char model_buf[128] = "";
  const char *model = l.model;
  if (!model && l.model_from_event) {
    const char *ev = l.model_from_event, *dot = strrchr(ev, '.');
    size_t n = dot && fastepost__odoo_hint(dot + 1) ? (size_t)(dot - ev) : strlen(ev);
    snprintf(model_buf, sizeof model_buf, "%.*s", (int)n, ev);
    model = model_buf;
  }
  if ((!model || !*model) && opts->model[0])
    model = opts->model; /* the hint from the URL (?model=), for bodies that name none */
  if (!model || !*model) {
    rec->ignore_reason = fastepost__strdup("no model in the delivery (_model, model, an event name or "
                                           "the ?model= hint)");
    goto out;
  }
  rec->model = fastepost__strdup(model);
  free(rec->event_type);
  rec->event_type = joined(model, hint);
  bool partner = strcmp(model, "res.partner") == 0, lead = strcmp(model, "crm.lead") == 0;

  int64_t id = l.id ? fastepost__odoo_id(l.id) : 0;
  if (l.id && id <= 0) {
    char p[64];
    const char *raw = json_object_to_json_string_ext((json_object *)(uintptr_t)l.id, JSON_C_TO_STRING_PLAIN);
    fastepost__preview(p, sizeof p, raw, strlen(raw));
    if (partner || lead) {
      rc = fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "%s must be a positive integer id, not %s",
                                          l.id_key, p));
      goto out;
    }
  }
  if (id > 0) {
    fastepost__buf k = FASTEPOST__BUF_INIT;
    fastepost__buf_printf(&k, "%s:%lld", model, (long long)id);
    rec->external_id = fastepost__buf_detach(&k);
  }
  if (!partner && !lead) {
    fastepost__buf m = FASTEPOST__BUF_INIT;
    fastepost__buf_printf(&m, "model %s is not synced", model);
    rec->ignore_reason = fastepost__buf_detach(&m);
    goto key;
  }
  if (id <= 0) {
    rc = fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "no record id in the %s delivery "
                                                            "(_id, id, record_id or external_id)", model));
    goto out;
  }
  if (l.several)
    fastepost__strlist_add(&rec->warnings, "the delivery holds several records: only the first was used");
  rec->crm_id = fastepost__strdup(rec->external_id);

  char *wd = NULL;
  if (fastepost__odoo_text(l.record, "write_date", &wd) == FASTEPOST__FACT_VALUE) {
    char norm[32];
    int64_t wd_us = 0;
    if (!fastepost__time_parse_iso(&wd_us, wd)) {
      char p[64];
      fastepost__preview(p, sizeof p, wd, strlen(wd));
      free(wd);
      rc = fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "write_date \"%s\" is not a datetime", p));
      goto out;
    }
    int64_t now_us = fastepost__clock_now(&opts->clock);
    if (fastepost__sync_time_check(wd_us, &opts->time_range, now_us, "write_date") ||
        !fastepost__time_format(norm, sizeof norm, wd_us)) {
      free(wd);
      rc = fail(rec, fastepost_error_last()->code ? fastepost_error_last()->code : FASTEPOST_EINVALID);
      goto out;
    }
    rec->version = fastepost__strdup(norm);
  }
  free(wd);

  if (partner)
    fastepost__odoo_map_partner(rec, l.record, hint, id, &opts->barcode_fields);
  else
    fastepost__odoo_map_lead(rec, l.record, id, &opts->barcode_fields);

key:
  /* Idempotency: the record's version when there is one (a redelivery of the same state, in
   * whatever shape), else the whole canonical body. The hint is part of it, so that an unlink
   * after a save with the same write_date is not taken for a repeat. */
  {
    char hex[FASTEPOST__SHA256_HEX_LEN + 1];
    int r2;
    if (rec->version) {
      const char *parts[] = {model, rec->external_id, rec->version, hint};
      size_t lens[] = {strlen(model), strlen(rec->external_id), strlen(rec->version), strlen(hint)};
      r2 = fastepost__sha256_hex(hex, 4, parts, lens);
    } else {
      const char *parts[] = {rec->payload, hint};
      size_t lens[] = {strlen(rec->payload), strlen(hint)};
      r2 = fastepost__sha256_hex(hex, 2, parts, lens);
    }
    if (r2) {
      rc = fail(rec, r2);
      goto out;
    }
    rec->idempotency_key = fastepost__strdup(hex);
  }
out:
  return rc;
}

/* opts, or the defaults into *defaults (their barcode fields to free) when it is NULL. */
static const fastepost_odoo_options *options_or_defaults(const fastepost_odoo_options *opts,
                                                         fastepost_odoo_options *defaults) {
  memset(defaults, 0, sizeof *defaults);
  if (opts)
    return opts;
  defaults->max_body = FASTEPOST_ODOO_DEFAULT_MAX_BODY;
  defaults->max_depth = FASTEPOST_ODOO_DEFAULT_MAX_DEPTH;
  defaults->time_range = (fastepost__time_range)FASTEPOST__TIME_RANGE_DEFAULT;
  fastepost__odoo_set_barcode_fields(defaults, FASTEPOST_ODOO_DEFAULT_BARCODE_FIELDS);
  return defaults;
}

/* The text body parsed into *root, within opts' limits; a failure is recorded in rec. */
static int parse_body(fastepost__sync_record *rec, json_object **root, const char *body, size_t len,
                      const fastepost_odoo_options *opts) {
  int rc;
  if (!body && len)
    return fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "the body is NULL"));
  if (len > opts->max_body)
    return fail(rec, fastepost__error_set(FASTEPOST_ETOOBIG, "body of %zu bytes exceeds the limit of %zu bytes",
                                          len, opts->max_body));
  if (opts->form)
    rc = parse_form(root, body ? body : "", len);
  else
    rc = fastepost__json_parse(root, body ? body : "", len, opts->max_depth);
  return rc && !rec->failure ? fail(rec, rc) : rc;
}

/* The body into rec, with opts_in or the defaults: text, or already parsed when parsed is set
 * (a search_read record, whose page had the HTTP client's size limit). */
static int extract(fastepost__sync_record *rec, const char *body, size_t len, const json_object *parsed,
                   const fastepost_odoo_options *opts_in) {
  fastepost_odoo_options defaults;
  const fastepost_odoo_options *opts = options_or_defaults(opts_in, &defaults);
  json_object *root = NULL;
  rec->event_type = joined("unknown", opts->hint);
  int rc = parsed ? FASTEPOST_OK : parse_body(rec, &root, body, len, opts);
  if (!rc)
    rc = extract_parsed(rec, parsed ? parsed : root, opts);
  json_object_put(root);
  fastepost__strlist_free(&defaults.barcode_fields);
  if (rc == FASTEPOST_OK && !rec->event_type) /* the one string every record needs */
    rc = fail(rec, FASTEPOST_ENOMEM);
  return rc;
}

int fastepost__odoo_extract(fastepost__sync_record *rec, const void *body, size_t len,
                            const fastepost_odoo_options *opts) {
  return extract(rec, body, len, NULL, opts);
}

int fastepost__odoo_extract_parsed(fastepost__sync_record *rec, const json_object *root,
                                   const fastepost_odoo_options *opts) {
  return extract(rec, NULL, 0, root, opts);
}
