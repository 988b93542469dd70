/* SPDX-License-Identifier: MIT */
/*
 * The Zoho CRM adapter, parsing: a body (JSON or a form) into sync records. A notification
 * callback gives one record per id (Contacts:<id>, Leads:<id>), a workflow webhook one record.
 * Both feed versioned properties (sync.h: last writer wins per record and field), since a
 * callback carries only the changed values and deliveries may come out of order. No SQL here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/odoo.h" /* the shared field helpers: trimming, ISO 8601 datetimes */
#include "adapters/zoho.h"
#include "util/digest.h"
#include "util/form.h"
#include "util/json.h"
#include "util/time.h"

#define SOURCE FASTEPOST__ZOHO_SOURCE

/* The properties synced and the customer column each feeds, in part order: the name is
 * "First_Name Last_Name" or Full_Name (see name_rule()), the phone Phone else Mobile, the
 * company Company else Account_Name, the address "Street, City, State, Zip_Code, Country". */
enum { P_FIRST, P_LAST, P_FULL, P_EMAIL, P_PHONE, P_MOBILE, P_COMPANY, P_ACCOUNT,
       P_STREET, P_CITY, P_STATE, P_ZIP, P_COUNTRY, NPROPS };
static const fastepost__prop_def props[NPROPS] = {
    {"First_Name", FASTEPOST__COL_NAME},     {"Last_Name", FASTEPOST__COL_NAME},
    {"Full_Name", FASTEPOST__COL_NAME},      {"Email", FASTEPOST__COL_EMAIL},
    {"Phone", FASTEPOST__COL_PHONE},         {"Mobile", FASTEPOST__COL_PHONE},
    {"Company", FASTEPOST__COL_COMPANY},     {"Account_Name", FASTEPOST__COL_COMPANY},
    {"Street", FASTEPOST__COL_ADDRESS},      {"City", FASTEPOST__COL_ADDRESS},
    {"State", FASTEPOST__COL_ADDRESS},       {"Zip_Code", FASTEPOST__COL_ADDRESS},
    {"Country", FASTEPOST__COL_ADDRESS},
};
_Static_assert(NPROPS <= FASTEPOST__MAX_PROPS, "too many Zoho properties");
/* Contacts call their address fields Mailing_*, Leads do not: either feeds the same property,
 * so a record's address is one set of parts whatever module named them (Mailing_* wins when a
 * delivery has both). */
static const char *const mailing_alias[NPROPS] = {
    [P_STREET] = "Mailing_Street", [P_CITY] = "Mailing_City",       [P_STATE] = "Mailing_State",
    [P_ZIP] = "Mailing_Zip",       [P_COUNTRY] = "Mailing_Country",
};

/* ---- the body ------------------------------------------------------------------------------ */

fastepost__zoho_syntax fastepost__zoho_sniff(const char *body, size_t len) {
  size_t i = 0;
  while (i < len && fastepost__ascii_isspace((unsigned char)body[i]))
    i++;
  /* White space only is "JSON", so that the JSON parser names it an empty body. */
  return i == len || body[i] == '{' || body[i] == '[' ? FASTEPOST__ZOHO_JSON : FASTEPOST__ZOHO_FORM;
}

int fastepost__zoho_body(json_object **out, const char *body, size_t len) {
  *out = NULL;
  if (!body && len)
    return fastepost__error_set(FASTEPOST_EINVALID, "Zoho CRM body: NULL with a length");
  if (len > FASTEPOST__ZOHO_MAX_BODY)
    return fastepost__error_set(FASTEPOST_ETOOBIG, "Zoho CRM body of %zu bytes exceeds the limit of %d bytes",
                                len, FASTEPOST__ZOHO_MAX_BODY);
  int rc;
  if (fastepost__zoho_sniff(body, len) == FASTEPOST__ZOHO_FORM) {
    if ((rc = fastepost__form_to_json(out, body, len)))
      fastepost__error_prefix("Zoho CRM form body");
    return rc;
  }
  if ((rc = fastepost__json_parse(out, body ? body : "", len, FASTEPOST__ZOHO_MAX_DEPTH))) {
    fastepost__error_prefix("Zoho CRM body");
    return rc;
  }
  if (!json_object_is_type(*out, json_type_object)) {
    rc = fastepost__error_set(FASTEPOST_EPARSE, "Zoho CRM body: expected a JSON object, got %s",
                              json_type_to_name(json_object_get_type(*out)));
    json_object_put(*out);
    *out = NULL;
  }
  return rc;
}

bool fastepost__zoho_is_callback(const json_object *obj) {
  json_object *o = (json_object *)(uintptr_t)obj; /* json-c's getters only read */
  return json_object_object_get_ex(o, "channel_id", NULL) || json_object_object_get_ex(o, "ids", NULL);
}

/* ---- values -------------------------------------------------------------------------------- */

/* A failed record: the thread's error (set by the caller) becomes its message. */
static int fail(fastepost__sync_record *rec, int code) {
  if (rec->failure)
    return rec->failure;
  return fastepost__record_fail(rec, code, "%s",
                                code == FASTEPOST_ENOMEM ? "out of memory" : fastepost_error_last()->message);
}

static const char *kind(json_object *v) { return v ? json_type_to_name(json_object_get_type(v)) : "null"; }

/* A record id: 1 to 19 digits as a string, or a positive JSON integer (ids are 19 digits:
 * json-c saturates beyond int64, so INT64_MAX itself is refused). */
static bool id_text(json_object *v, char out[24]) {
  if (json_object_is_type(v, json_type_string)) {
    const char *s = json_object_get_string(v);
    size_t n = (size_t)json_object_get_string_len(v);
    if (n == 0 || n > 19 || strspn(s, "0123456789") != n)
      return false;
    memcpy(out, s, n + 1);
    return true;
  }
  if (json_object_is_type(v, json_type_int)) {
    int64_t x = json_object_get_int64(v);
    if (x <= 0 || x == INT64_MAX)
      return false;
    snprintf(out, 24, "%lld", (long long)x);
    return true;
  }
  return false;
}

/* A JSON value's canonical text in b ("null" for NULL): what the stored payload holds, so that
 * a key over it is the same when a retry parses the payload (json-c prints an integer beyond
 * int64 as written, the canonical form as it kept it). */
static const char *json_text(fastepost__buf *b, json_object *v) {
  fastepost__buf_clear(b);
  fastepost__json_canonical(b, v);
  return b->oom ? "" : fastepost__buf_cstr(b);
}

/* A short rendering of a JSON value for a message (and a key: the canonical text). */
static void preview(char *out, size_t size, json_object *v) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  const char *s = json_text(&b, v);
  fastepost__preview(out, size, s, strlen(s));
  fastepost__buf_free(&b);
}

/* A delivered field as text: EMPTY for null, "" or white space; the trimmed text for a
 * string or a number; the name of a lookup ({"name": ..., "id": ...}, Account_Name in JSON).
 * ABSENT, with a warning, for any other type: that field is left alone. */
static fastepost__fact_state value_text(fastepost__sync_record *rec, const char *field, json_object *v, char **out) {
  *out = NULL;
  json_object *name = NULL;
  if (json_object_is_type(v, json_type_object) && json_object_object_get_ex(v, "name", &name))
    v = name;
  switch (v ? json_object_get_type(v) : json_type_null) {
  case json_type_null:
    return FASTEPOST__FACT_EMPTY;
  case json_type_string:
    *out = fastepost__odoo_trimmed(json_object_get_string(v), (size_t)json_object_get_string_len(v));
    break;
  case json_type_int:
  case json_type_double:
    *out = fastepost__strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    break;
  default:
    fastepost__strlist_addf(&rec->warnings, "%s: a JSON %s is not a text value: left alone", field, kind(v));
    return FASTEPOST__FACT_ABSENT;
  }
  if (!*out) {
    fail(rec, fastepost__error_oom());
    return FASTEPOST__FACT_ABSENT;
  }
  if (!**out) {
    free(*out);
    *out = NULL;
    return FASTEPOST__FACT_EMPTY;
  }
  return FASTEPOST__FACT_VALUE;
}

/* The member key of obj, or NULL; *present says whether the key exists (its value may be
 * JSON null). */
static json_object *member(const json_object *obj, const char *key, bool *present) {
  json_object *v = NULL;
  *present = json_object_object_get_ex((json_object *)(uintptr_t)obj, key, &v);
  return v;
}

/* The name is either First_Name + Last_Name or Full_Name, never both joined: a delivery of
 * either form empties the other, so that the name is the form the latest delivery used. */
static int name_rule(fastepost__sync_record *rec) {
  fastepost__fact *p = rec->props;
  int rc = FASTEPOST_OK;
  if (p[P_FIRST].state || p[P_LAST].state)
    rc = fastepost__fact_set(&p[P_FULL], NULL);
  else if (p[P_FULL].state)
    rc = fastepost__fact_set(&p[P_FIRST], NULL) || fastepost__fact_set(&p[P_LAST], NULL) ? FASTEPOST_ENOMEM
                                                                                          : FASTEPOST_OK;
  return rc;
}

/* The synced fields of values (field API name -> value) into rec's properties, and
 * Description into its remark; a delivery (`what`) with none of them is `ignored`. */
static int map_fields(fastepost__sync_record *rec, const json_object *values, const char *what) {
  size_t synced = 0;
  for (size_t i = 0; i < NPROPS && !rec->failure; i++) {
    bool present = false;
    const char *field = mailing_alias[i];
    json_object *v = field ? member(values, field, &present) : NULL;
    if (!present)
      v = member(values, field = props[i].name, &present);
    if (!present)
      continue;
    char *text = NULL;
    fastepost__fact_state st = value_text(rec, field, v, &text);
    if (st != FASTEPOST__FACT_ABSENT) {
      if (fastepost__fact_set(&rec->props[i], text))
        fail(rec, fastepost__error_oom());
      synced++;
    }
    free(text);
  }
  if (!rec->failure && name_rule(rec))
    fail(rec, fastepost__error_oom());
  bool present = false;
  json_object *d = member(values, "Description", &present);
  char *text = NULL;
  if (!rec->failure && present && value_text(rec, "Description", d, &text) == FASTEPOST__FACT_VALUE) {
    rec->note_body = text;
    if (!(rec->note_key = fastepost__strdup(rec->crm_id)))
      fail(rec, fastepost__error_oom());
  } else {
    free(text);
  }
  if (!rec->failure && !synced && !rec->note_body)
    return fastepost__record_ignore(rec, "%s carries none of the synced fields of %s", what, rec->crm_id);
  return rec->failure;
}

/* Zoho's API names (modules, operations) are letters, digits and `_`: anything else is no
 * name, and a bounded name never needs cutting (a cut could split a UTF-8 sequence). */
#define MAX_API_NAME 64
static bool api_name(json_object *v) {
  if (!json_object_is_type(v, json_type_string))
    return false;
  const char *s = json_object_get_string(v);
  size_t n = (size_t)json_object_get_string_len(v);
  if (n == 0 || n > MAX_API_NAME)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!fastepost__ascii_isalnum((unsigned char)s[i]) && s[i] != '_')
      return false;
  return true;
}

/* "Contacts" or "Leads" (any ASCII case, as a workflow's custom parameter may be typed), or
 * NULL for a module that is not synced. */
static const char *synced_module(const char *module) {
  static const char *const names[] = {"Contacts", "Leads"};
  for (size_t i = 0; i < 2; i++)
    if (fastepost__ascii_casecmp(module, names[i]) == 0)
      return names[i];
  return NULL;
}

/* The record's identity: external and crm id "<module>:<id>", the model, the properties. */
static int identify(fastepost__sync_record *rec, const char *module, const char *id) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&b, "%s:%s", module, id);
  rec->external_id = fastepost__buf_detach(&b);
  rec->crm_id = fastepost__strdup(rec->external_id);
  rec->model = fastepost__strdup(module);
  /* A Zoho contact or lead is a person: the customer itself. */
  rec->owns_customer = true;
  rec->prop_defs = props;
  rec->nprops = NPROPS;
  return rec->external_id && rec->crm_id && rec->model ? FASTEPOST_OK : fail(rec, fastepost__error_oom());
}

/* The version from a time in microseconds, after the range check (NULL range: any). */
static int set_version(fastepost__sync_record *rec, int64_t us, const fastepost__time_range *range, int64_t now_us,
                       const char *what) {
  const fastepost__time_range any = FASTEPOST__TIME_RANGE_ANY;
  char v[32];
  if (fastepost__sync_time_check(us, range ? range : &any, now_us, what))
    return fail(rec, FASTEPOST_EINVALID);
  if (!fastepost__time_format(v, sizeof v, us))
    return fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "%s is out of range", what));
  rec->version = fastepost__strdup(v);
  return rec->version ? FASTEPOST_OK : fail(rec, fastepost__error_oom());
}

/* The dedup key: SHA-256 of the parts (each ended by a NUL, so no two lists collide). */
static int set_key(fastepost__sync_record *rec, const char *const *parts, size_t n) {
  size_t lens[8];
  for (size_t i = 0; i < n; i++)
    lens[i] = strlen(parts[i]);
  char hex[FASTEPOST__SHA256_HEX_LEN + 1];
  if (fastepost__sha256_hex(hex, n, parts, lens))
    return fail(rec, FASTEPOST_ERROR);
  rec->idempotency_key = fastepost__strdup(hex);
  return rec->idempotency_key ? FASTEPOST_OK : fail(rec, fastepost__error_oom());
}

/* The canonical text of obj as the record's payload. */
static int set_payload(fastepost__sync_record *rec, const json_object *obj) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__json_canonical(&b, obj);
  rec->payload = fastepost__buf_detach(&b);
  return rec->payload ? FASTEPOST_OK : fail(rec, fastepost__error_oom());
}

/* ---- notification callbacks ---------------------------------------------------------------- */

/* What every record of one callback shares. */
typedef struct envelope {
  const json_object *root;
  char channel[24];
  const char *module, *operation;
  json_object *server_time;
  char time_text[24]; /* server_time in ms as digits, or its JSON text when unusable */
  bool time_ok;
  int64_t time_ms;
  char ids_hash[FASTEPOST__SHA256_HEX_LEN + 1];
  size_t nids;
} envelope;

/* A required name member of the envelope (module, operation); FASTEPOST_EINVALID (the whole
 * body) otherwise. */
static int envelope_str(const char **out, const json_object *obj, const char *key) {
  bool present;
  json_object *v = member(obj, key, &present);
  if (!api_name(v))
    return fastepost__error_set(FASTEPOST_EINVALID, "Zoho CRM notification: %s must be an API name (up to %d "
                                                    "letters, digits or _), not %s",
                                key, MAX_API_NAME, present ? kind(v) : "missing");
  *out = json_object_get_string(v);
  return FASTEPOST_OK;
}

static int read_envelope(envelope *env, const json_object *obj) {
  memset(env, 0, sizeof *env);
  env->root = obj;
  bool present;
  int rc = envelope_str(&env->module, obj, "module");
  if (!rc)
    rc = envelope_str(&env->operation, obj, "operation");
  if (!rc && !id_text(member(obj, "channel_id", &present), env->channel))
    rc = fastepost__error_set(FASTEPOST_EINVALID, "Zoho CRM notification: channel_id must be a channel id (digits)");
  if (rc)
    return rc;
  /* server_time: milliseconds since the epoch; an unusable one fails each record (logged),
   * like a time out of range, rather than the body. */
  env->server_time = member(obj, "server_time", &present);
  json_object *t = env->server_time;
  char digits[24];
  if (json_object_is_type(t, json_type_int) && json_object_get_int64(t) >= 0 && json_object_get_int64(t) < INT64_MAX) {
    env->time_ms = json_object_get_int64(t);
    env->time_ok = true;
  } else if (json_object_is_type(t, json_type_string) && id_text(t, digits)) {
    env->time_ms = strtoll(digits, NULL, 10);
    env->time_ok = true;
  }
  if (env->time_ok)
    snprintf(env->time_text, sizeof env->time_text, "%lld", (long long)env->time_ms);
  else
    preview(env->time_text, sizeof env->time_text, t);
  return FASTEPOST_OK;
}

/* The hash of the whole ids list (each id's text, or its JSON for one that is no id). */
static int hash_ids(envelope *env, json_object *ids) {
  size_t n = json_object_array_length(ids);
  const char **parts = calloc(n, sizeof *parts);
  size_t *lens = calloc(n, sizeof *lens);
  int rc = parts && lens ? FASTEPOST_OK : fastepost__error_oom();
  for (size_t i = 0; !rc && i < n; i++) {
    json_object *v = json_object_array_get_idx(ids, i);
    parts[i] = v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "null";
    if (json_object_is_type(v, json_type_string))
      parts[i] = json_object_get_string(v);
    lens[i] = strlen(parts[i]);
  }
  if (!rc)
    rc = fastepost__sha256_hex(env->ids_hash, n, parts, lens);
  env->nids = n;
  free(parts);
  free(lens);
  return rc;
}

/* The payload stored for one record of a callback: the envelope narrowed to that record (its
 * id as record_id, its affected_values / affected_fields entries, the ids list as its count
 * and hash), without the token and query_params, which may hold secrets. A retry parses it
 * again (fastepost__zoho_reparse) into the same record and dedup key. */
static json_object *record_payload(const envelope *env, json_object *idv, json_object *values, json_object *fields) {
  json_object *p = json_object_new_object();
  if (!p)
    return NULL;
  static const char *const copied[] = {"channel_id", "module", "operation", "server_time", "resource_uri"};
  bool present;
  for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++) {
    json_object *v = member(env->root, copied[i], &present);
    if (present)
      json_object_object_add(p, copied[i], json_object_get(v));
  }
  json_object_object_add(p, "record_id", json_object_get(idv));
  json_object_object_add(p, "ids_count", json_object_new_int64((int64_t)env->nids));
  json_object_object_add(p, "ids_sha256", json_object_new_string(env->ids_hash));
  if (values) {
    json_object *a = json_object_new_array();
    json_object_array_add(a, json_object_get(values));
    json_object_object_add(p, "affected_values", a);
  }
  if (fields) {
    json_object *a = json_object_new_array();
    json_object_array_add(a, json_object_get(fields));
    json_object_object_add(p, "affected_fields", a);
  }
  return p;
}

/* One record of a callback: idv is its id, entry its affected_values entry (NULL: ids only). */
static int callback_record(fastepost__sync_record *rec, const envelope *env, json_object *idv, json_object *entry,
                           json_object *fields, const fastepost__time_range *range, int64_t now_us) {
  fastepost__buf et = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&et, "%s.%s", env->module, env->operation);
  if (!(rec->event_type = fastepost__buf_detach(&et)))
    return fail(rec, fastepost__error_oom());
  json_object *p = record_payload(env, idv, entry, fields);
  int rc = p ? set_payload(rec, p) : fail(rec, fastepost__error_oom());
  json_object_put(p);
  if (rc)
    return rc;
  /* An id that is no id still gets its key, so that a redelivery fails on the same row. */
  char id[24];
  bool id_ok = id_text(idv, id);
  fastepost__buf idb = FASTEPOST__BUF_INIT;
  const char *parts[] = {"zoho-callback-v1", env->channel, env->time_text, env->module,
                         id_ok ? id : json_text(&idb, idv), env->ids_hash, env->operation};
  rc = set_key(rec, parts, sizeof parts / sizeof parts[0]);
  fastepost__buf_free(&idb);
  if (rc)
    return rc;
  if (!id_ok) {
    char shown[64];
    preview(shown, sizeof shown, idv);
    return fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "Zoho CRM notification: %s is not a record id", shown));
  }
  if ((rc = identify(rec, env->module, id)))
    return rc;
  if (strcmp(env->module, "Contacts") != 0 && strcmp(env->module, "Leads") != 0)
    return fastepost__record_ignore(rec, "Zoho CRM %s notifications are not synced", env->module);
  bool del = strcmp(env->operation, "delete") == 0;
  if (!del && strcmp(env->operation, "insert") != 0 && strcmp(env->operation, "update") != 0)
    return fastepost__record_ignore(rec, "Zoho CRM operation %s is not synced", env->operation);
  if (!env->time_ok)
    return fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "Zoho CRM notification: server_time must be "
                                                              "milliseconds since the epoch, not %s", env->time_text));
  if (env->time_ms > INT64_MAX / 1000)
    return fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "server_time is out of range (beyond year 9999)"));
  if ((rc = set_version(rec, env->time_ms * 1000, range, now_us, "server_time")))
    return rc;
  if (del) {
    rec->tombstone = true;
    rec->facts.active = 0;
    return FASTEPOST_OK;
  }
  bool present = false;
  json_object *values = entry ? member(entry, "values", &present) : NULL;
  if (!present) {
    if (fastepost__strlist_addf(&rec->warnings,
                                "%s must be fetched from Zoho CRM (GET /crm/v7/%s/%s): the notification "
                                "carries only its id, and fetching is not done",
                                rec->crm_id, env->module, id))
      return fail(rec, FASTEPOST_ENOMEM);
    return fastepost__record_ignore(rec, "the %s notification of %s carries no field values (ids only)", env->operation, rec->crm_id);
  }
  if (!json_object_is_type(values, json_type_object))
    return fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "affected_values of %s: values must be an object, not %s",
                                          rec->crm_id, kind(values)));
  return map_fields(rec, values, "the notification");
}

/* The first element of arr (an array of objects) for which match() holds, or NULL. */
static json_object *find_entry(json_object *arr, const char *id, bool (*match)(json_object *e, const char *id)) {
  size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
  for (size_t i = 0; i < n; i++) {
    json_object *e = json_object_array_get_idx(arr, i);
    if (json_object_is_type(e, json_type_object) && match(e, id))
      return e;
  }
  return NULL;
}

/* affected_values: [{"record_id": "<id>", "values": {...}}] */
static bool values_of(json_object *e, const char *id) {
  char rid[24];
  bool present;
  return id_text(member(e, "record_id", &present), rid) && strcmp(rid, id) == 0;
}

/* affected_fields: [{"<id>": ["Mobile"]}] */
static bool fields_of(json_object *e, const char *id) { return json_object_object_get_ex(e, id, NULL); }

static int callback_records(fastepost__records *out, const json_object *obj, const fastepost__time_range *range,
                            int64_t now_us) {
  envelope env;
  int rc = read_envelope(&env, obj);
  if (rc)
    return rc;
  bool present;
  json_object *ids = member(obj, "ids", &present), *av = member(obj, "affected_values", &present);
  json_object *af = member(obj, "affected_fields", &present);
  if (!json_object_is_type(ids, json_type_array) || !json_object_array_length(ids))
    return fastepost__error_set(FASTEPOST_EINVALID, "Zoho CRM notification: ids must be a non-empty array");
  size_t n = json_object_array_length(ids);
  if (n > FASTEPOST__ZOHO_MAX_IDS)
    return fastepost__error_set(FASTEPOST_ETOOBIG, "Zoho CRM notification of %zu ids exceeds the limit of %d", n,
                                FASTEPOST__ZOHO_MAX_IDS);
  if (av && !json_object_is_type(av, json_type_array))
    return fastepost__error_set(FASTEPOST_EINVALID, "Zoho CRM notification: affected_values must be an array, not %s",
                                kind(av));
  if ((rc = hash_ids(&env, ids)) || (rc = fastepost__records_alloc(out, n, SOURCE)))
    return rc;
  for (size_t i = 0; i < n; i++) {
    json_object *idv = json_object_array_get_idx(ids, i);
    char id[24] = "";
    id_text(idv, id);
    callback_record(&out->items[i], &env, idv, *id ? find_entry(av, id, values_of) : NULL,
                    *id ? find_entry(af, id, fields_of) : NULL, range, now_us);
    if (out->items[i].failure == FASTEPOST_ENOMEM) {
      fastepost__records_free(out);
      return fastepost__error_oom();
    }
  }
  return FASTEPOST_OK;
}

/* ---- workflow webhooks --------------------------------------------------------------------- */

bool fastepost__zoho_time(int64_t *us, const char *s) {
  char t[48];
  size_t n = strlen(s);
  if (n < 20 || n >= sizeof t || (s[10] != 'T' && s[10] != ' '))
    return false;
  memcpy(t, s, n + 1);
  size_t i = 19;
  if (t[i] == '.')
    for (i++; fastepost__ascii_isdigit((unsigned char)t[i]); i++)
      ;
  if (t[i] == ' ')
    t[i] = '+';
  /* The offset is required: without it the time would be read as UTC, and Zoho sends the
   * user's local time. */
  if (t[i] != 'Z' && t[i] != 'z' && t[i] != '+' && t[i] != '-')
    return false;
  return fastepost__time_parse_iso(us, t);
}

/* The parameters without the token (a secret): the payload stored in the event log. */
static int workflow_payload(fastepost__sync_record *rec, const json_object *params) {
  json_object *p = json_object_new_object();
  if (!p)
    return fail(rec, fastepost__error_oom());
  json_object_object_foreach((json_object *)(uintptr_t)params, key, val) {
    if (strcmp(key, "token") != 0)
      json_object_object_add(p, key, json_object_get(val));
  }
  int rc = set_payload(rec, p);
  json_object_put(p);
  return rc;
}

static int workflow_record(fastepost__sync_record *rec, const json_object *params,
                           const fastepost__time_range *range, int64_t now_us) {
  bool present;
  json_object *m = member(params, "module", &present);
  const char *module = api_name(m) ? json_object_get_string(m) : "";
  const char *canonical = synced_module(module);
  if (canonical)
    module = canonical;
  fastepost__buf et = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&et, "%s.webhook", *module ? module : "unknown");
  if (!(rec->event_type = fastepost__buf_detach(&et)))
    return fail(rec, fastepost__error_oom());
  int rc = workflow_payload(rec, params);
  if (rc)
    return rc;
  char id[24];
  bool id_present;
  json_object *idv = member(params, "id", &id_present);
  bool id_ok = id_text(idv, id);
  bool time_present;
  json_object *mt = member(params, "Modified_Time", &time_present);
  const char *raw = json_object_is_type(mt, json_type_string) ? json_object_get_string(mt) : NULL;
  int64_t us = 0;
  bool time_ok = raw && fastepost__zoho_time(&us, raw);
  char norm[32] = "";
  if (time_ok)
    fastepost__time_format(norm, sizeof norm, us);
  /* The key over the normalised time, so that one change sent with +05:30 or as UTC is one;
   * also for a webhook that cannot be used, so that its redelivery fails on the same row. */
  fastepost__buf idb = FASTEPOST__BUF_INIT, tb = FASTEPOST__BUF_INIT;
  const char *parts[] = {"zoho-webhook-v1", module, id_ok ? id : json_text(&idb, idv), time_ok ? norm : json_text(&tb, mt)};
  rc = set_key(rec, parts, sizeof parts / sizeof parts[0]);
  fastepost__buf_free(&idb);
  fastepost__buf_free(&tb);
  if (rc)
    return rc;
  if (!*module)
    return fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "Zoho CRM workflow webhook: the module parameter is "
                                                              "missing or no module name (add module=Contacts or "
                                                              "module=Leads)"));
  if (!id_ok) {
    char shown[64];
    preview(shown, sizeof shown, idv);
    return fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "Zoho CRM workflow webhook: the id parameter must be a "
                                                              "record id (digits), not %s",
                                          id_present ? shown : "missing"));
  }
  if ((rc = identify(rec, module, id)))
    return rc;
  if (!canonical)
    return fastepost__record_ignore(rec, "Zoho CRM %s records are not synced", module);
  if (!time_ok) {
    char shown[64];
    preview(shown, sizeof shown, mt);
    return fail(rec, fastepost__error_set(FASTEPOST_EINVALID,
                                          "Zoho CRM workflow webhook: Modified_Time must be an ISO 8601 time with "
                                          "its offset (2026-11-27T20:08:56+05:30), not %s",
                                          time_present ? shown : "missing"));
  }
  if ((rc = set_version(rec, us, range, now_us, "Modified_Time")))
    return rc;
  return map_fields(rec, params, "the webhook");
}

/* ---- entry points -------------------------------------------------------------------------- */

int fastepost__zoho_records(fastepost__records *out, const json_object *obj, const fastepost__time_range *range,
                            int64_t now_us) {
  memset(out, 0, sizeof *out);
  if (fastepost__zoho_is_callback(obj))
    return callback_records(out, obj, range, now_us);
  int rc = fastepost__records_alloc(out, 1, SOURCE);
  if (!rc && workflow_record(&out->items[0], obj, range, now_us) == FASTEPOST_ENOMEM) {
    fastepost__records_free(out);
    rc = fastepost__error_oom();
  }
  return rc;
}

/* A stored callback record: the envelope with its ids as count and hash (record_payload). */
static int reparse_callback(fastepost__sync_record *rec, const json_object *obj, int64_t now_us) {
  envelope env;
  if (read_envelope(&env, obj))
    return fail(rec, FASTEPOST_EINVALID);
  bool present;
  json_object *hash = member(obj, "ids_sha256", &present), *count = member(obj, "ids_count", &present);
  if (!json_object_is_type(hash, json_type_string) || json_object_get_string_len(hash) != FASTEPOST__SHA256_HEX_LEN)
    return fail(rec, fastepost__error_set(FASTEPOST_EINVALID, "the stored Zoho CRM notification has no ids_sha256"));
  memcpy(env.ids_hash, json_object_get_string(hash), sizeof env.ids_hash);
  env.nids = (size_t)json_object_get_int64(count);
  json_object *av = member(obj, "affected_values", &present), *af = member(obj, "affected_fields", &present);
  json_object *entry = json_object_is_type(av, json_type_array) && json_object_array_length(av)
                           ? json_object_array_get_idx(av, 0) : NULL;
  json_object *fields = json_object_is_type(af, json_type_array) && json_object_array_length(af)
                            ? json_object_array_get_idx(af, 0) : NULL;
  return callback_record(rec, &env, member(obj, "record_id", &present), entry, fields, NULL, now_us);
}

int fastepost__zoho_reparse(fastepost__sync_record *rec, const char *payload, int64_t now_us) {
  json_object *obj = NULL;
  if (fastepost__json_parse(&obj, payload ? payload : "", payload ? strlen(payload) : 0, FASTEPOST__ZOHO_MAX_DEPTH) ||
      !json_object_is_type(obj, json_type_object)) {
    json_object_put(obj);
    if (!rec->event_type && !(rec->event_type = fastepost__strdup("unknown")))
      return FASTEPOST_ENOMEM;
    fail(rec, fastepost__error_set(FASTEPOST_EPARSE, "the stored Zoho CRM payload is not a JSON object"));
    return FASTEPOST_OK;
  }
  /* A stored callback keeps channel_id; a workflow webhook never had one (it would have been
   * taken for a callback), so the payload tells its kind as the body did. */
  int rc = fastepost__zoho_is_callback(obj) ? reparse_callback(rec, obj, now_us) : workflow_record(rec, obj, NULL, now_us);
  json_object_put(obj);
  if (!rec->event_type && !(rec->event_type = fastepost__strdup("unknown")))
    return FASTEPOST_ENOMEM;
  return rc == FASTEPOST_ENOMEM ? rc : FASTEPOST_OK;
}
