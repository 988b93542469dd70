/*
 * The Odoo adapter: authenticate, parse, find the record in whatever shape it came, and map it
 * to a normalised record for the sync core. No SQL here (see sync.h for the contract).
 */
#include "odoo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/html.h"
#include "util/json.h"
#include "util/digest.h"
#include "util/time.h"

static const char SOURCE[] = "odoo";

/* ---- authentication ------------------------------------------------------------------------ */

/* The presented key against the accepted ones. Every configured key is compared, so the time
 * taken says nothing about which key (if any) was close; it depends only on the lengths. */
static int match_key(char *const *keys, size_t nkeys, const char *presented) {
  if (!nkeys)
    return fastepost__error_set(FASTEPOST_ENOKEY, "no Odoo API key is configured: every request is refused");
  if (!presented || !*presented)
    return fastepost__error_set(FASTEPOST_EAUTH, "no API key presented (send the X-Odoo-Api-Key "
                                                 "header or the api_key query parameter)");
  size_t plen = strlen(presented);
  unsigned match = 0;
  for (size_t i = 0; i < nkeys; i++)
    match |= (unsigned)fastepost__ct_equal(keys[i], strlen(keys[i]), presented, plen);
  if (!match)
    return fastepost__error_set(FASTEPOST_EAUTH, "wrong Odoo API key");
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_authenticate(const char *expected, const char *presented) {
  char *keys[1] = {(char *)(uintptr_t)expected};
  return match_key(keys, expected && *expected ? 1 : 0, presented);
}

/* The key check every public processing call runs before it looks at the body. */
static int check_key(const fastepost_odoo_options *o, const char *presented) {
  if (o && o->host_authenticated)
    return FASTEPOST_OK;
  return match_key(o ? o->api_keys.items : NULL, o ? o->api_keys.count : 0, presented);
}

/* A refused request: a result that says why (401), and nothing written. */
static int refuse(fastepost_event_result **out, int code) {
  if (!out)
    return code;
  *out = fastepost__result_new();
  if (*out)
    fastepost__result_fail(*out, code);
  fastepost__error_set(code, "%s", (*out && (*out)->error) ? (*out)->error : fastepost_strerror(code));
  return code;
}

/* ---- options ------------------------------------------------------------------------------- */

static int set_barcode_fields(fastepost_odoo_options *o, const char *fields) {
  fastepost__strlist list = {0};
  const char *p = fields;
  while (*p) {
    while (*p == ',' || *p == ' ')
      p++;
    size_t n = strcspn(p, ", ");
    if (n) {
      char *name = fastepost__strndup(p, n);
      int rc = name ? fastepost__strlist_add(&list, name) : FASTEPOST_ENOMEM;
      free(name);
      if (rc) {
        fastepost__strlist_free(&list);
        return rc;
      }
    }
    p += n;
  }
  if (!list.count)
    return fastepost__error_set(FASTEPOST_EINVALID, "the list of barcode fields is empty");
  fastepost__strlist_free(&o->barcode_fields);
  o->barcode_fields = list;
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_options_new(fastepost_odoo_options **out) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_options_new: out is NULL");
  *out = NULL;
  fastepost_odoo_options *o = calloc(1, sizeof *o);
  if (!o)
    return fastepost__error_oom();
  o->max_body = FASTEPOST_ODOO_DEFAULT_MAX_BODY;
  o->max_depth = FASTEPOST_ODOO_DEFAULT_MAX_DEPTH;
  o->time_range = (fastepost__time_range)FASTEPOST__TIME_RANGE_DEFAULT;
  int rc = set_barcode_fields(o, FASTEPOST_ODOO_DEFAULT_BARCODE_FIELDS);
  if (rc) {
    free(o);
    return rc;
  }
  *out = o;
  return FASTEPOST_OK;
}

/* Keys do not linger in freed heap memory (a core dump, a later allocation's contents). */
static void wipe_keys(fastepost__strlist *keys) {
  for (size_t i = 0; i < keys->count; i++)
    for (volatile char *p = keys->items[i]; *p; p++)
      *p = 0;
  fastepost__strlist_free(keys);
}

void fastepost_odoo_options_free(fastepost_odoo_options *o) {
  if (!o)
    return;
  fastepost__strlist_free(&o->barcode_fields);
  wipe_keys(&o->api_keys);
  free(o);
}

fastepost_status fastepost_odoo_options_add_api_key(fastepost_odoo_options *o, const char *key) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_options_add_api_key: opts is NULL");
  if (!key || !*key)
    return fastepost__error_set(FASTEPOST_EINVALID, "an Odoo API key must not be NULL or empty");
  return fastepost__strlist_add(&o->api_keys, key);
}

fastepost_status fastepost_odoo_options_set_host_authenticated(fastepost_odoo_options *o, bool yes) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_options_set_host_authenticated: opts is NULL");
  o->host_authenticated = yes;
  return FASTEPOST_OK;
}

/* "update" and "delete" are what some code-action envelopes call write and unlink. */
static const char *known_hint(const char *s) {
  static const char *const hints[][2] = {{"create", "create"}, {"write", "write"},
                                         {"unlink", "unlink"}, {"archive", "archive"},
                                         {"update", "write"},  {"delete", "unlink"}};
  for (size_t i = 0; s && i < sizeof hints / sizeof hints[0]; i++)
    if (strcmp(s, hints[i][0]) == 0)
      return hints[i][1];
  return NULL;
}

fastepost_status fastepost_odoo_options_set_event(fastepost_odoo_options *o, const char *hint) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "options are NULL");
  if (!hint || !*hint) {
    o->hint[0] = '\0';
    return FASTEPOST_OK;
  }
  const char *h = known_hint(hint);
  if (!h || strcmp(h, hint) != 0) {
    char p[64];
    fastepost__preview(p, sizeof p, hint, strlen(hint));
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "unknown event hint \"%s\": expected create, write, unlink or archive", p);
  }
  snprintf(o->hint, sizeof o->hint, "%s", h);
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_options_set_content_type(fastepost_odoo_options *o, const char *ct) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "options are NULL");
  if (!ct || !*ct) {
    o->form = false;
    return FASTEPOST_OK;
  }
  size_t n = strcspn(ct, ";");
  while (n && ct[n - 1] == ' ')
    n--;
  static const char json[] = "application/json", form[] = "application/x-www-form-urlencoded";
  if (n == sizeof json - 1 && fastepost__ascii_ncasecmp(ct, json, n) == 0) {
    o->form = false;
  } else if (n == sizeof form - 1 && fastepost__ascii_ncasecmp(ct, form, n) == 0) {
    o->form = true;
  } else {
    char p[64];
    fastepost__preview(p, sizeof p, ct, n);
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "unsupported content type \"%s\": expected application/json or "
                                "application/x-www-form-urlencoded", p);
  }
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_options_set_max_body(fastepost_odoo_options *o, size_t bytes) {
  if (!o || bytes == 0)
    return fastepost__error_set(FASTEPOST_EINVALID, "the body limit must be at least 1 byte");
  o->max_body = bytes;
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_options_set_max_depth(fastepost_odoo_options *o, int depth) {
  if (!o || depth < 2 || depth > 1000)
    return fastepost__error_set(FASTEPOST_EINVALID, "the nesting limit must be 2 to 1000, not %d", depth);
  o->max_depth = depth;
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_options_set_barcode_fields(fastepost_odoo_options *o, const char *fields) {
  if (!o || !fields)
    return fastepost__error_set(FASTEPOST_EINVALID, "barcode fields are NULL");
  return set_barcode_fields(o, fields);
}

fastepost_status fastepost_odoo_options_set_time_range(fastepost_odoo_options *o, int64_t min_us,
                                                       int64_t max_ahead_us) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_options_set_time_range: opts is NULL");
  return fastepost__time_range_set(&o->time_range, min_us, max_ahead_us);
}

void fastepost_odoo_options_set_clock(fastepost_odoo_options *o, fastepost_clock_fn clock, void *payload) {
  if (!o)
    return;
  o->clock = clock;
  o->clock_payload = payload;
}

/* ---- values -------------------------------------------------------------------------------- */

/* json-c's getters take non-const pointers although they only read. */
static const char *jstr(const json_object *v) { return json_object_get_string((json_object *)(uintptr_t)v); }

/* A copy of [s, s+n) without surrounding white space; a NUL inside (from \u0000) becomes U+FFFD,
 * since PostgreSQL text cannot hold it. */
static char *trimmed_copy(const char *s, size_t n) {
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
static fastepost__fact_state text_of(const json_object *rec, const char *key, char **out) {
  json_object *v = NULL;
  *out = NULL;
  if (!json_object_object_get_ex(rec, key, &v))
    return FASTEPOST__FACT_ABSENT;
  bool copied; /* false when a copy ran out of memory: then leave the column alone */
  switch (json_object_get_type(v)) {
  case json_type_string:
    *out = trimmed_copy(jstr(v), (size_t)json_object_get_string_len(v));
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
      *out = trimmed_copy(jstr(name), (size_t)json_object_get_string_len(name));
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

/* An HTML field as plain text, with the same states as text_of. */
static fastepost__fact_state html_of(const json_object *rec, const char *key, char **out) {
  char *raw = NULL;
  fastepost__fact_state st = text_of(rec, key, &raw);
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
static int bool_of(const json_object *rec, const char *key) {
  json_object *v = fastepost__json_get(rec, key);
  if (!v)
    return -1;
  if (json_object_is_type(v, json_type_boolean))
    return json_object_get_boolean(v) ? 1 : 0;
  if (json_object_is_type(v, json_type_int))
    return json_object_get_int64(v) != 0;
  if (json_object_is_type(v, json_type_string)) {
    const char *s = jstr(v);
    if (!fastepost__ascii_casecmp(s, "true") || !strcmp(s, "1") || !fastepost__ascii_casecmp(s, "on"))
      return 1;
    if (!fastepost__ascii_casecmp(s, "false") || !strcmp(s, "0") || !fastepost__ascii_casecmp(s, "off") || !*s)
      return 0;
  }
  return -1;
}

/* An id: a positive integer, a string of digits, or [id, "name"]. 0 for false/null/[] (empty),
 * -1 for anything else (wrong type). */
static int64_t id_of(const json_object *v) {
  if (!v || json_object_is_type(v, json_type_null) ||
      (json_object_is_type(v, json_type_boolean) && !json_object_get_boolean(v)))
    return 0;
  if (json_object_is_type(v, json_type_array)) {
    if (json_object_array_length(v) == 0)
      return 0;
    return id_of(json_object_array_get_idx(v, 0));
  }
  if (json_object_is_type(v, json_type_int)) {
    int64_t n = json_object_get_int64(v);
    return n > 0 && n < INT64_MAX ? n : -1;
  }
  if (json_object_is_type(v, json_type_string)) {
    const char *s = jstr(v);
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
  return fastepost__odoo_datetime_us(&us, s) && fastepost__time_format(out, outsize, us);
}

bool fastepost__odoo_datetime_us(int64_t *us_out, const char *s) {
  int Y, M, D, h = 0, mi = 0, sec = 0;
  long us = 0;
  size_t n = strlen(s);
  if (n < 10 || !fastepost__parse_digits(s, 4, &Y) || s[4] != '-' || !fastepost__parse_digits(s + 5, 2, &M) || s[7] != '-' ||
      !fastepost__parse_digits(s + 8, 2, &D))
    return false;
  const char *p = s + 10;
  if (*p == ' ' || *p == 'T') {
    if (strlen(p) < 9 || !fastepost__parse_digits(p + 1, 2, &h) || p[3] != ':' || !fastepost__parse_digits(p + 4, 2, &mi) ||
        p[6] != ':' || !fastepost__parse_digits(p + 7, 2, &sec))
      return false;
    p += 9;
    if (*p == '.') {
      p++;
      int nd = 0;
      long scale = 100000;
      while (fastepost__ascii_isdigit((unsigned char)*p)) {
        if (nd < 6) {
          us += (*p - '0') * scale;
          scale /= 10;
        }
        nd++;
        p++;
      }
      if (!nd)
        return false;
    }
  } else if (*p) {
    return false;
  }
  int offset_min = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om = 0;
    int sign = *p == '-' ? -1 : 1;
    p++;
    if (!fastepost__parse_digits(p, 2, &oh))
      return false;
    p += 2;
    if (*p == ':')
      p++;
    if (*p) {
      if (!fastepost__parse_digits(p, 2, &om))
        return false;
      p += 2;
    }
    offset_min = sign * (oh * 60 + om);
  }
  if (*p)
    return false;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || h > 23 || mi > 59 || sec > 60)
    return false;
  /* Four-digit years keep secs within +-3e11, far from overflowing when scaled to microseconds. */
  int64_t secs = fastepost__days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + mi * 60 + sec -
                 (int64_t)offset_min * 60;
  *us_out = secs * 1000000 + us;
  return true;
}

char *fastepost__odoo_email(const char *raw) {
  const char *s = raw;
  size_t n = strlen(raw);
  const char *lt = strrchr(raw, '<');
  if (lt) {
    const char *gt = strchr(lt, '>');
    if (!gt)
      return NULL;
    s = lt + 1;
    n = (size_t)(gt - s);
  }
  char *addr = trimmed_copy(s, n);
  if (!addr)
    return NULL;
  const char *at = strchr(addr, '@');
  bool ok = at && at != addr && strchr(at + 1, '@') == NULL && at[1] && strchr(at + 1, '.') &&
            addr[strlen(addr) - 1] != '.' && at[1] != '.';
  for (char *p = addr; ok && *p; p++) {
    if ((unsigned char)*p <= ' ' || strchr("<>()[],;:\"\\", *p))
      ok = false;
    *p = (char)fastepost__ascii_tolower((unsigned char)*p);
  }
  if (!ok) {
    free(addr);
    return NULL;
  }
  return addr;
}

/* The display name of an email_from value: "\"Jane Doe\" <jane@x>" -> "Jane Doe"; NULL if none. */
static char *display_name(const char *raw) {
  const char *lt = strchr(raw, '<');
  if (!lt)
    return NULL;
  size_t n = (size_t)(lt - raw);
  char *name = trimmed_copy(raw, n);
  if (!name)
    return NULL;
  size_t len = strlen(name);
  if (len >= 2 && (name[0] == '"' || name[0] == '\'') && name[len - 1] == name[0]) {
    memmove(name, name + 1, len - 2);
    name[len - 2] = '\0';
  }
  if (!*name) {
    free(name);
    return NULL;
  }
  return name;
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
  if (known_hint(ev)) {
    l->action = known_hint(ev);
  } else if (dot && known_hint(dot + 1)) {
    l->action = known_hint(dot + 1);
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
      l->model = jstr(m);
      break;
    }
  }
  static const char *const event_keys[] = {"event", "trigger"};
  for (size_t i = 0; i < 2; i++) {
    json_object *e = fastepost__json_get(obj, event_keys[i]);
    if (e && json_object_is_type(e, json_type_string))
      take_event(l, jstr(e));
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

/* ---- mapping ------------------------------------------------------------------------------- */

/* The first of several text fields with a value; EMPTY when some were present but empty. */
static fastepost__fact_state first_text(const json_object *rec, const char *const *keys, char **out) {
  fastepost__fact_state st = FASTEPOST__FACT_ABSENT;
  *out = NULL;
  for (; *keys; keys++) {
    fastepost__fact_state s = text_of(rec, *keys, out);
    if (s == FASTEPOST__FACT_VALUE)
      return s;
    if (s == FASTEPOST__FACT_EMPTY)
      st = s;
  }
  return st;
}

static int set_fact(fastepost__fact *f, fastepost__fact_state st, char *value) {
  if (st == FASTEPOST__FACT_VALUE && !value) /* out of memory: leave the column alone */
    st = FASTEPOST__FACT_ABSENT;
  free(f->value);
  f->value = st == FASTEPOST__FACT_VALUE ? value : NULL;
  if (st != FASTEPOST__FACT_VALUE)
    free(value);
  f->state = st;
  return FASTEPOST_OK;
}

static void map_email(fastepost__sync_record *rec, const json_object *r, const char *key) {
  char *raw = NULL;
  fastepost__fact_state st = text_of(r, key, &raw);
  if (st == FASTEPOST__FACT_VALUE) {
    char *addr = fastepost__odoo_email(raw);
    if (!addr) {
      char p[64];
      fastepost__preview(p, sizeof p, raw, strlen(raw));
      fastepost__strlist_addf(&rec->warnings, "%s \"%s\" is not an email address: stored as empty", key, p);
      st = FASTEPOST__FACT_EMPTY;
    }
    free(raw);
    raw = addr;
  }
  set_fact(&rec->facts.email, st, raw);
}

static void map_phone(fastepost__sync_record *rec, const json_object *r) {
  static const char *const keys[] = {"phone", "mobile", NULL};
  char *v = NULL;
  fastepost__fact_state st = first_text(r, keys, &v);
  set_fact(&rec->facts.phone, st, v);
}

/* street, street2, "zip city", country code joined by ", ", skipping empty parts. */
static void map_address(fastepost__sync_record *rec, const json_object *r) {
  static const char *const keys[] = {"street", "street2", "zip", "city", "country_code", "country_id"};
  char *v[6] = {NULL};
  bool present = false;
  for (size_t i = 0; i < 6; i++)
    present |= text_of(r, keys[i], &v[i]) != FASTEPOST__FACT_ABSENT;
  if (!present)
    return;
  /* country_id only as a fallback, and only as [id, "Germany"] (a bare id says nothing) */
  json_object *cid = fastepost__json_get(r, "country_id");
  if (v[4] || !cid || !json_object_is_type(cid, json_type_array)) {
    free(v[5]);
    v[5] = NULL;
  }
  fastepost__buf b = FASTEPOST__BUF_INIT, city = FASTEPOST__BUF_INIT;
  if (v[2])
    fastepost__buf_puts(&city, v[2]);
  if (v[2] && v[3])
    fastepost__buf_putc(&city, ' ');
  if (v[3])
    fastepost__buf_puts(&city, v[3]);
  const char *parts[] = {v[0], v[1], city.len ? fastepost__buf_cstr(&city) : NULL, v[4] ? v[4] : v[5]};
  for (size_t i = 0; i < 4; i++)
    if (parts[i]) {
      if (b.len)
        fastepost__buf_puts(&b, ", ");
      fastepost__buf_puts(&b, parts[i]);
    }
  for (size_t i = 0; i < 6; i++)
    free(v[i]);
  fastepost__buf_free(&city);
  if (b.len)
    set_fact(&rec->facts.address, FASTEPOST__FACT_VALUE, fastepost__buf_detach(&b));
  else
    set_fact(&rec->facts.address, FASTEPOST__FACT_EMPTY, NULL);
  fastepost__buf_free(&b);
}

static void map_task(fastepost__sync_record *rec, const json_object *r, const fastepost__strlist *fields) {
  json_object *t = fastepost__json_get(r, "task_id");
  if (t) {
    int64_t id = id_of(t);
    if (id > 0)
      rec->task_id = id;
    else if (id < 0)
      fastepost__strlist_add(&rec->warnings, "task_id is not an integer: ignored");
  }
  for (size_t i = 0; i < fields->count; i++) {
    char *v = NULL;
    if (text_of(r, fields->items[i], &v) == FASTEPOST__FACT_VALUE)
      fastepost__strlist_add(&rec->barcodes, v);
    free(v);
  }
}

static bool has_any_fact(const fastepost__sync_record *rec) {
  const fastepost__customer_facts *f = &rec->facts;
  return f->name.state || f->email.state || f->phone.state || f->company.state ||
         f->address.state || f->active >= 0;
}

static void map_partner(fastepost__sync_record *rec, const json_object *r, const char *hint,
                        int64_t id, const fastepost__strlist *barcode_fields) {
  rec->owns_customer = true;
  static const char *const name_keys[] = {"name", "display_name", NULL};
  char *name = NULL;
  fastepost__fact_state st = first_text(r, name_keys, &name);
  set_fact(&rec->facts.name, st, name);
  map_email(rec, r, "email");
  map_phone(rec, r);

  /* company: company_name, else parent_name, else commercial_company_name when it differs from
   * the name; a company contact (is_company, or commercial name == own name) is its own company */
  static const char *const company_keys[] = {"company_name", "parent_name", NULL};
  char *company = NULL;
  fastepost__fact_state cst = first_text(r, company_keys, &company);
  if (cst != FASTEPOST__FACT_VALUE) {
    char *ccn = NULL;
    fastepost__fact_state s = text_of(r, "commercial_company_name", &ccn);
    int is_company = bool_of(r, "is_company");
    const char *own = rec->facts.name.value;
    if (s != FASTEPOST__FACT_ABSENT || is_company >= 0)
      cst = FASTEPOST__FACT_EMPTY;
    if (ccn && (!own || strcmp(ccn, own) != 0 || is_company != 0)) {
      company = ccn;
      ccn = NULL;
    } else if (is_company == 1 && own) {
      company = fastepost__strdup(own);
    }
    free(ccn);
    if (company)
      cst = FASTEPOST__FACT_VALUE;
  }
  set_fact(&rec->facts.company, cst, company);
  map_address(rec, r);
  rec->facts.active = bool_of(r, "active");
  if (!strcmp(hint, "unlink") || !strcmp(hint, "archive"))
    rec->facts.active = 0;

  char *note = NULL;
  if (html_of(r, "comment", &note) == FASTEPOST__FACT_VALUE) {
    rec->note_body = note;
    fastepost__buf k = FASTEPOST__BUF_INIT;
    fastepost__buf_printf(&k, "res.partner:%lld:comment", (long long)id);
    rec->note_key = fastepost__buf_detach(&k);
  }
  map_task(rec, r, barcode_fields);
  if (!has_any_fact(rec) && !rec->note_body && !rec->task_id && !rec->barcodes.count)
    rec->ignore_reason = fastepost__strdup("no usable fields in the delivery");
}

static void map_lead(fastepost__sync_record *rec, const json_object *r, int64_t id,
                     const fastepost__strlist *barcode_fields) {
  rec->owns_customer = false;
  rec->match_phone = true;
  int64_t partner = id_of(fastepost__json_get(r, "partner_id"));
  if (partner > 0) {
    fastepost__buf k = FASTEPOST__BUF_INIT;
    fastepost__buf_printf(&k, "res.partner:%lld", (long long)partner);
    rec->link_crm_id = fastepost__buf_detach(&k);
  } else if (partner < 0) {
    fastepost__strlist_add(&rec->warnings, "partner_id is not an id: ignored");
  }
  char *title = NULL, *contact = NULL, *from = NULL, *pname = NULL;
  text_of(r, "name", &title);
  text_of(r, "contact_name", &contact);
  text_of(r, "email_from", &from);
  text_of(r, "partner_name", &pname);
  /* name: contact_name, else the display name in email_from, else partner_name, else the title */
  char *name = NULL;
  if (contact)
    name = fastepost__strdup(contact);
  else if (from && (name = display_name(from)) != NULL)
    ;
  else if (pname)
    name = fastepost__strdup(pname);
  else if (title)
    name = fastepost__strdup(title);
  set_fact(&rec->facts.name, name ? FASTEPOST__FACT_VALUE : FASTEPOST__FACT_ABSENT, name);
  map_email(rec, r, "email_from");
  map_phone(rec, r);
  if (pname)
    set_fact(&rec->facts.company, FASTEPOST__FACT_VALUE, fastepost__strdup(pname));
  map_address(rec, r);
  map_task(rec, r, barcode_fields);

  char *desc = NULL;
  html_of(r, "description", &desc);
  if (title || desc || has_any_fact(rec) || partner > 0) {
    char *type = NULL;
    text_of(r, "type", &type);
    const char *kind = type && !strcmp(type, "opportunity") ? "Opportunity" : "Lead";
    fastepost__buf b = FASTEPOST__BUF_INIT;
    fastepost__buf_puts(&b, kind);
    if (title)
      fastepost__buf_printf(&b, ": %s", title);
    if (desc)
      fastepost__buf_printf(&b, "\n\n%s", desc);
    rec->note_body = fastepost__buf_detach(&b);
    fastepost__buf k = FASTEPOST__BUF_INIT;
    fastepost__buf_printf(&k, "crm.lead:%lld", (long long)id);
    rec->note_key = fastepost__buf_detach(&k);
    free(type);
  } else {
    rec->ignore_reason = fastepost__strdup("no usable fields in the delivery");
  }
  free(title);
  free(contact);
  free(from);
  free(pname);
  free(desc);
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
  rec->failure = code;
  free(rec->failure_message);
  rec->failure_message = fastepost__strdup(fastepost_error_last()->message);
  return code;
}

static char *joined(const char *a, const char *b) {
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&buf, a);
  if (b && *b)
    fastepost__buf_printf(&buf, ".%s", b);
  return fastepost__buf_detach(&buf);
}

int fastepost__odoo_extract(fastepost__sync_record *rec, const char *body, size_t len,
                            const fastepost_odoo_options *opts) {
  fastepost_odoo_options defaults;
  fastepost__strlist default_fields = {0};
  if (!opts) {
    memset(&defaults, 0, sizeof defaults);
    defaults.max_body = FASTEPOST_ODOO_DEFAULT_MAX_BODY;
    defaults.max_depth = FASTEPOST_ODOO_DEFAULT_MAX_DEPTH;
    defaults.time_range = (fastepost__time_range)FASTEPOST__TIME_RANGE_DEFAULT;
    set_barcode_fields(&defaults, FASTEPOST_ODOO_DEFAULT_BARCODE_FIELDS);
    default_fields = defaults.barcode_fields;
    opts = &defaults;
  }
  const char *hint = opts->hint;
  json_object *root = NULL;
  int rc = FASTEPOST_OK;
  rec->event_type = joined("unknown", hint);

  if (!body && len)
    rc = fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "the body is NULL"));
  else if (len > opts->max_body)
    rc = fail(rec, fastepost__error_set(FASTEPOST_ETOOBIG, "body of %zu bytes exceeds the limit of %zu bytes",
                                        len, opts->max_body));
  else if (opts->form)
    rc = parse_form(&root, body ? body : "", len);
  else
    rc = fastepost__json_parse(&root, body ? body : "", len, opts->max_depth);
  if (rc && !rec->failure)
    rc = fail(rec, rc);
  if (rc)
    goto out;

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
    size_t n = dot && known_hint(dot + 1) ? (size_t)(dot - ev) : strlen(ev);
    snprintf(model_buf, sizeof model_buf, "%.*s", (int)n, ev);
    model = model_buf;
  }
  if (!model || !*model) {
    rec->ignore_reason = fastepost__strdup("no model in the delivery (_model, model or an event name)");
    goto out;
  }
  rec->model = fastepost__strdup(model);
  free(rec->event_type);
  rec->event_type = joined(model, hint);
  bool partner = strcmp(model, "res.partner") == 0, lead = strcmp(model, "crm.lead") == 0;

  int64_t id = l.id ? id_of(l.id) : 0;
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
  if (text_of(l.record, "write_date", &wd) == FASTEPOST__FACT_VALUE) {
    char norm[32];
    int64_t wd_us = 0;
    if (!fastepost__odoo_datetime_us(&wd_us, wd)) {
      char p[64];
      fastepost__preview(p, sizeof p, wd, strlen(wd));
      free(wd);
      rc = fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "write_date \"%s\" is not a datetime", p));
      goto out;
    }
    int64_t now_us = opts->clock ? opts->clock(opts->clock_payload) : FASTEPOST__SYNC_SERVER_CLOCK;
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
    map_partner(rec, l.record, hint, id, &opts->barcode_fields);
  else
    map_lead(rec, l.record, id, &opts->barcode_fields);

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
  json_object_put(root);
  fastepost__strlist_free(&default_fields);
  if (rc == FASTEPOST_OK && !rec->event_type) /* the one string every record needs */
    rc = fail(rec, FASTEPOST_ENOMEM);
  return rc;
}

/* ---- processing ---------------------------------------------------------------------------- */

static int process_one(fastepost_event_result **out, fastepost_conn *conn, const char *body, size_t len,
                       const fastepost_odoo_options *opts, int64_t event_id, int max_attempts) {
  if (out)
    *out = NULL;
  fastepost_event_result *res = fastepost__result_new();
  if (!res)
    return FASTEPOST_ENOMEM;
  fastepost__sync_record rec;
  fastepost__sync_record_init(&rec, SOURCE);
  rec.event_id = event_id;
  fastepost__odoo_extract(&rec, body, len, opts);
  fastepost__sync_ctx ctx = {
      .now_us = opts && opts->clock ? opts->clock(opts->clock_payload) : FASTEPOST__SYNC_SERVER_CLOCK,
      .in_batch = false,
      .max_attempts = max_attempts > 0 ? max_attempts : FASTEPOST_EVENTS_MAX_ATTEMPTS};
  int rc = fastepost__sync_process(res, conn, &rec, &ctx);
  fastepost__sync_record_clear(&rec);
  if (rc == FASTEPOST_OK)
    fastepost_error_clear();
  else
    fastepost__error_set(rc, "%s", res->error ? res->error : fastepost_strerror(rc));
  if (out)
    *out = res;
  else
    fastepost_event_result_free(res);
  return rc;
}

/* The database is unreachable (why: the failure so far): write the delivery to the spool. On
 * success the result says SPOOLED with code OK; a full spool is ETOOBIG, a write failure EIO. */
static int spool_delivery(fastepost_event_result **out, const char *body, size_t len,
                          const fastepost_odoo_options *opts, const char *why) {
  if (out)
    *out = NULL;
  fastepost_event_result *res = fastepost__result_new();
  if (!res)
    return FASTEPOST_ENOMEM;
  int rc;
  if (len > opts->max_body) { /* never put on disk what would be refused anyway */
    rc = fastepost__error_set(FASTEPOST_ETOOBIG, "body of %zu bytes exceeds the limit of %zu bytes", len,
                              opts->max_body);
  } else {
    rc = fastepost_spool_put(NULL, opts->spool, SOURCE, opts->hint,
                             opts->form ? "application/x-www-form-urlencoded" : "application/json", body, len);
    if (rc)
      fastepost__error_prefix("the database is unreachable (%s) and spooling failed", why);
  }
  if (rc) {
    fastepost__result_fail(res, rc);
  } else {
    res->outcome = FASTEPOST_OUTCOME_SPOOLED;
    fastepost__strlist_addf(&res->warnings, "spooled: %s", why);
    fastepost_error_clear();
  }
  if (out)
    *out = res;
  else
    fastepost_event_result_free(res);
  return rc;
}

/* Failures that say the database could not take the delivery at all (unreachable, shutting
 * down, read-only): the delivery is spooled when a spool is configured. */
static bool unreachable(int rc) { return rc == FASTEPOST_ECONN || rc == FASTEPOST_EREADONLY; }

fastepost_status fastepost_odoo_process(fastepost_event_result **out, fastepost_conn *conn,
                                        const char *presented_key, const char *body, size_t len,
                                        const fastepost_odoo_options *opts) {
  if (out)
    *out = NULL;
  /* Before anything else, so that a refused request reaches neither the database nor the spool. */
  int krc = check_key(opts, presented_key);
  if (krc)
    return refuse(out, krc);
  bool spool = opts && opts->spool;
  if (!conn && !spool)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_process: conn is NULL");
  if (!conn)
    return spool_delivery(out, body, len, opts, "no connection");
  fastepost_event_result *res = NULL;
  int rc = process_one(&res, conn, body, len, opts, 0, 0);
  /* The core reconnects once to log a failure for retry: spool only what reached nothing. */
  if (unreachable(rc) && spool && !(res && res->event_id > 0)) {
    char why[256];
    snprintf(why, sizeof why, "%s", fastepost_error_last()->message);
    fastepost_event_result_free(res);
    res = NULL;
    rc = spool_delivery(&res, body, len, opts, why);
  }
  if (out)
    *out = res;
  else
    fastepost_event_result_free(res);
  return rc;
}

fastepost_status fastepost_odoo_options_set_spool(fastepost_odoo_options *o, fastepost_spool *spool) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_options_set_spool: opts is NULL");
  o->spool = spool;
  return FASTEPOST_OK;
}

int fastepost__odoo_replay(fastepost_event_result **out, fastepost_conn *conn, const char *body, size_t len,
                           const char *event, const char *content_type) {
  fastepost_odoo_options *opts = NULL;
  int rc = fastepost_odoo_options_new(&opts);
  if (!rc)
    rc = fastepost_odoo_options_set_event(opts, event);
  if (!rc)
    rc = fastepost_odoo_options_set_content_type(opts, content_type);
  if (rc) {
    fastepost_odoo_options_free(opts);
    return rc;
  }
  opts->max_body = SIZE_MAX;
  /* Only authenticated deliveries are ever spooled (the key is checked before spooling). */
  opts->host_authenticated = true;
  rc = process_one(out, conn, body, len, opts, 0, 0);
  fastepost_odoo_options_free(opts);
  return rc;
}

fastepost_status fastepost_odoo_process_batch(fastepost_event_result **results, fastepost_conn *conn,
                                              const char *const *presented_keys, const char *const *bodies,
                                              const size_t *lens, size_t n, const fastepost_odoo_options *opts) {
  if (!results || !conn || (n && (!bodies || !lens)))
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_process_batch: NULL argument");
  for (size_t i = 0; i < n; i++)
    results[i] = NULL;
  if (n && !presented_keys && !(opts && opts->host_authenticated))
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_process_batch: presented_keys is NULL");
  fastepost__sync_record *recs = calloc(n ? n : 1, sizeof *recs);
  /* The results the core fills: NULL for a refused delivery, which it then skips. */
  fastepost_event_result **accepted = calloc(n ? n : 1, sizeof *accepted);
  if (!recs || !accepted) {
    free(recs);
    free(accepted);
    return fastepost__error_oom();
  }
  for (size_t i = 0; i < n; i++) {
    fastepost__sync_record_init(&recs[i], SOURCE);
    int krc = check_key(opts, presented_keys ? presented_keys[i] : NULL);
    if (krc) {
      refuse(&results[i], krc);
      continue;
    }
    accepted[i] = results[i] = fastepost__result_new();
    fastepost__odoo_extract(&recs[i], bodies[i], lens[i], opts);
  }
  fastepost__sync_ctx ctx = {
      .now_us = opts && opts->clock ? opts->clock(opts->clock_payload) : FASTEPOST__SYNC_SERVER_CLOCK,
      .in_batch = true,
      .max_attempts = FASTEPOST_EVENTS_MAX_ATTEMPTS};
  int rc = fastepost__sync_batch_begin(conn);
  bool began = rc == FASTEPOST_OK;
  if (rc == FASTEPOST_OK)
    rc = fastepost__sync_process_many(accepted, conn, recs, n, &ctx);
  if (rc == FASTEPOST_OK)
    rc = fastepost__sync_batch_commit(conn);
  for (size_t i = 0; i < n; i++)
    fastepost__sync_record_clear(&recs[i]);
  free(recs);
  if (rc == FASTEPOST_OK) {
    free(accepted);
    fastepost_error_clear();
    return FASTEPOST_OK;
  }
  /* Nothing of the batch was applied: every result says so. */
  char message[1024];
  snprintf(message, sizeof message, "batch not committed: %s", fastepost_error_last()->message);
  if (began) /* never the caller's own transaction */
    fastepost__tx_rollback(conn);
  for (size_t i = 0; i < n; i++) {
    if (!accepted[i]) /* refused ones keep their own 401 */
      continue;
    results[i]->outcome = FASTEPOST_OUTCOME_NONE;
    results[i]->event_id = results[i]->customer_id = results[i]->remark_id = results[i]->task_id = 0;
    fastepost__error_set(rc, "%s", message);
    fastepost__result_fail(results[i], rc);
  }
  free(accepted);
  return fastepost__error_set(rc, "%s", message);
}

/* The retry run's fixed "now", through the options' clock hook. */
static int64_t fixed_clock(void *payload) { return *(const int64_t *)payload; }

int fastepost__odoo_reprocess(fastepost_event_result **out, fastepost_conn *conn, int64_t event_id,
                              const char *payload, const char *event_type, int max_attempts, int64_t now_us) {
  fastepost_odoo_options *opts = NULL;
  int rc = fastepost_odoo_options_new(&opts);
  if (rc)
    return rc;
  const char *dot = event_type ? strrchr(event_type, '.') : NULL;
  if (dot && known_hint(dot + 1) && !strcmp(known_hint(dot + 1), dot + 1))
    fastepost_odoo_options_set_event(opts, dot + 1);
  /* The stored payload was accepted once; do not refuse it now for its size or (with options
   * that are gone now) its time. */
  opts->max_body = SIZE_MAX;
  opts->time_range = (fastepost__time_range){0, FASTEPOST__TIME_LIMIT_US};
  if (now_us != FASTEPOST__SYNC_SERVER_CLOCK)
    fastepost_odoo_options_set_clock(opts, fixed_clock, &now_us);
  rc = process_one(out, conn, payload, payload ? strlen(payload) : 0, opts, event_id, max_attempts);
  fastepost_odoo_options_free(opts);
  return rc;
}
