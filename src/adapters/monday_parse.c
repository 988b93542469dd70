/* SPDX-License-Identifier: MIT */
/*
 * The monday.com adapter, parsing: a board webhook's {"event": {...}} into one sync record
 * (monday.h). An item is the customer ("item:<pulseId>"); its name is the item's name, its
 * email, phone, company and address come from the columns the board's configuration names.
 * monday delivers one column at a time and retries for 30 minutes, so the fields are versioned
 * properties (sync.h): a late delivery of an older value cannot overwrite a newer one.
 * No SQL, no verification (monday.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/monday.h"
#include "util/time.h"
#include "internal.h"
#include "util/digest.h"
#include "util/html.h"
#include "util/json.h"
#include "util/time.h"

#define SOURCE "monday"
/* Nesting: {"event": {"columnValues": {"<col>": {"label": {...}}}}} and some room. */
#define MAX_DEPTH 16

/* The item's properties, in sync.h's versioned-property order: one per customer column. */
enum { PROP_NAME = 0, PROP_EMAIL, PROP_PHONE, PROP_COMPANY, PROP_ADDRESS, NPROPS };
static const fastepost__prop_def item_props[NPROPS] = {
    {"name", FASTEPOST__COL_NAME},       {"email", FASTEPOST__COL_EMAIL},     {"phone", FASTEPOST__COL_PHONE},
    {"company", FASTEPOST__COL_COMPANY}, {"address", FASTEPOST__COL_ADDRESS},
};

/* ---- small helpers ---------------------------------------------------------------------- */

static int record_fail(fastepost__sync_record *rec, int code, const char *fmt, ...) FASTEPOST__PRINTF(3, 4);
static int record_fail(fastepost__sync_record *rec, int code, const char *fmt, ...) {
  /* monday's readers go on after a refused record (the caller looks at rec->failure), so this
   * one returns FASTEPOST_OK unless the text could not be kept. */
  va_list ap;
  va_start(ap, fmt);
  int rc = fastepost__record_failv(rec, code, fmt, ap);
  va_end(ap);
  return rc == FASTEPOST_ENOMEM ? rc : FASTEPOST_OK;
}

/* A string member (NULL when absent, null or not a string). */
static const char *str_member(json_object *obj, const char *key) {
  json_object *v = fastepost__json_get(obj, key);
  return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* An id as monday sends it: a positive integer, or a string of decimal digits (subitem and
 * create events carry some ids as strings, archive and delete events as numbers). Written into
 * out (>= 24 bytes); false when absent or of another shape. */
static bool id_member(char out[24], json_object *obj, const char *key) {
  json_object *v = fastepost__json_get(obj, key);
  if (v && json_object_is_type(v, json_type_int)) {
    int64_t n = json_object_get_int64(v);
    if (n <= 0 || n == INT64_MAX)
      return false;
    snprintf(out, 24, "%lld", (long long)n);
    return true;
  }
  const char *s = v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > 19 || strspn(s, "0123456789") != n || s[0] == '0')
    return false;
  memcpy(out, s, n + 1);
  return true;
}

/* ---- version ------------------------------------------------------------------------------ */

/* changedAt (epoch seconds with a fraction: 1633943701.9457765) in microseconds. */
static bool changed_at_us(int64_t *us, json_object *v) {
  if (json_object_is_type(v, json_type_int)) {
    int64_t s = json_object_get_int64(v);
    if (s < 0 || s > FASTEPOST__TIME_LIMIT_US / FASTEPOST__US_PER_SEC)
      return false;
    *us = s * FASTEPOST__US_PER_SEC;
    return true;
  }
  if (!json_object_is_type(v, json_type_double))
    return false;
  double d = json_object_get_double(v);
  /* Range first (NaN fails both comparisons), so the conversion cannot overflow. */
  if (!(d >= 0 && d <= (double)(FASTEPOST__TIME_LIMIT_US / FASTEPOST__US_PER_SEC)))
    return false;
  *us = (int64_t)(d * 1e6 + 0.5);
  return true;
}

/* The event's version: changedAt when present (column changes), else triggerTime (ISO 8601,
 * milliseconds, Z), checked against the accepted range. */
static int set_version(fastepost__sync_record *rec, json_object *ev, const fastepost__time_range *range,
                       int64_t now_us) {
  int64_t us = 0;
  const char *what = "changedAt";
  json_object *changed = fastepost__json_get(ev, "changedAt");
  if (changed) {
    if (!changed_at_us(&us, changed))
      return record_fail(rec, FASTEPOST_EINVALID, "changedAt must be epoch seconds (a number from 0 to year 9999)");
  } else {
    what = "triggerTime";
    const char *t = str_member(ev, "triggerTime");
    if (!t)
      return record_fail(rec, FASTEPOST_EINVALID, "the event has neither changedAt nor triggerTime");
    if (!fastepost__time_parse_iso(&us, t)) {
      char p[64];
      fastepost__preview(p, sizeof p, t, strlen(t));
      return record_fail(rec, FASTEPOST_EINVALID, "triggerTime \"%s\" is not an ISO 8601 time", p);
    }
  }
  char text[32];
  if (fastepost__sync_time_check(us, range, now_us, what) || !fastepost__time_format(text, sizeof text, us))
    return record_fail(rec, FASTEPOST_EINVALID, "%s: refused, not retried", fastepost_error_last()->message);
  rec->version = fastepost__strdup(text);
  return rec->version ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

/* The dedup key: triggerUuid (one per trigger, the same on monday's retries), hashed so that its
 * length and alphabet are ours; the canonical event when there is none. */
static int set_dedup_key(fastepost__sync_record *rec, json_object *ev) {
  const char *uuid = str_member(ev, "triggerUuid");
  const char *parts[] = {uuid ? "monday-trigger" : "monday-event", uuid ? uuid : rec->payload};
  size_t lens[] = {strlen(parts[0]), strlen(parts[1])};
  char hex[FASTEPOST__SHA256_HEX_LEN + 1];
  int rc = fastepost__sha256_hex(hex, 2, parts, lens);
  if (!rc && !(rec->idempotency_key = fastepost__strdup(hex)))
    rc = FASTEPOST_ENOMEM;
  return rc;
}

/* ---- column values -------------------------------------------------------------------------- */

/* The text of a column's value as webhooks send it (developer.monday.com, column types):
 * email {"email","text"}, phone {"phone","countryShortName"}, location {"address","lat",...},
 * text {"value"}, long text {"text"}, status {"label": {"text"}} or a plain string. `first`
 * is the member the field's own column type keeps its value in. NULL: cleared (null, {}, "");
 * *unknown set when the shape has no text we know. */
static const char *column_text(json_object *v, const char *first, bool *unknown) {
  *unknown = false;
  if (!v)
    return NULL;
  if (json_object_is_type(v, json_type_string))
    return *json_object_get_string(v) ? json_object_get_string(v) : NULL;
  if (!json_object_is_type(v, json_type_object)) {
    *unknown = true;
    return NULL;
  }
  if (json_object_object_length(v) == 0)
    return NULL;
  const char *keys[] = {first, "text", "value", "label", "name"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    json_object *m = fastepost__json_get(v, keys[i]);
    if (m && json_object_is_type(m, json_type_object) && strcmp(keys[i], "label") == 0)
      m = fastepost__json_get(m, "text");
    if (m && json_object_is_type(m, json_type_string))
      return *json_object_get_string(m) ? json_object_get_string(m) : NULL;
  }
  /* An object whose text members are all null is a cleared column (email {"email": null}). */
  json_object_object_foreach(v, key, val) {
    (void)key;
    if (val) {
      *unknown = true;
      break;
    }
  }
  return NULL;
}

static const char *const field_member[FASTEPOST__MONDAY_NFIELDS] = {"email", "phone", "value", "address"};

/* Field f of the item from a column value: the property it feeds, or a warning when the value
 * has a shape we cannot read (the property is then left alone). */
static int set_field(fastepost__sync_record *rec, int f, const char *column, json_object *value) {
  bool unknown = false;
  const char *text = column_text(value, field_member[f], &unknown);
  if (unknown)
    return fastepost__strlist_addf(&rec->warnings, "column %.64s (%s): its value has no text this adapter reads; "
                                   "left unchanged", column, fastepost__monday_field_names[f]);
  return fastepost__fact_set(&rec->props[PROP_EMAIL + f], text);
}

/* create_pulse: every mapped column present in columnValues. */
static int map_column_values(fastepost__sync_record *rec, const fastepost__monday_board *board, json_object *cv) {
  int rc = FASTEPOST_OK;
  for (int f = 0; f < FASTEPOST__MONDAY_NFIELDS && !rc; f++) {
    json_object *v = NULL;
    if (board->columns[f] && json_object_object_get_ex(cv, board->columns[f], &v))
      rc = set_field(rec, f, board->columns[f], v);
  }
  return rc;
}

/* ---- one event ----------------------------------------------------------------------------- */

typedef enum { K_OTHER, K_CREATE, K_COLUMN, K_NAME, K_UPDATE, K_GONE, K_RESTORE } event_kind;

static event_kind kind_of(const char *type) {
  static const struct {
    const char *type;
    event_kind kind;
  } map[] = {{"create_pulse", K_CREATE},        {"update_column_value", K_COLUMN}, {"update_name", K_NAME},
             {"create_update", K_UPDATE},       {"delete_pulse", K_GONE},          {"archive_pulse", K_GONE},
             {"restore_pulse", K_RESTORE}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(map[i].type, type) == 0)
      return map[i].kind;
  return K_OTHER;
}

/* create_update: the update's text as a remark on the item's customer (which it does not own:
 * a remark alone neither creates nor changes a customer). */
static int map_update(fastepost__sync_record *rec, json_object *ev) {
  const char *text = str_member(ev, "textBody");
  char *body = NULL;
  if (text && *text) {
    body = fastepost__strdup(text);
  } else if ((text = str_member(ev, "body"))) {
    body = fastepost__html_to_text(text, strlen(text));
  } else {
    return fastepost__record_ignore(rec, "the update has no text (textBody or body)");
  }
  if (!body)
    return FASTEPOST_ENOMEM;
  if (!*body) {
    free(body);
    return fastepost__record_ignore(rec, "the update's text is empty");
  }
  rec->note_body = body;
  char id[24];
  rec->note_key = fastepost__strdup(id_member(id, ev, "updateId") ? id : "update");
  rec->owns_customer = false;
  rec->link_crm_id = fastepost__strdup(rec->crm_id);
  /* A remark is not a version of the item: it must not turn a later column change stale. */
  free(rec->version);
  rec->version = NULL;
  return rec->note_key && rec->link_crm_id ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

/* The facts of an item event on a board (NULL: no configuration at hand). */
static int map_item(fastepost__sync_record *rec, const fastepost__monday_board *board, json_object *ev,
                    event_kind kind) {
  rec->owns_customer = true; /* an item of a customer board is the customer */
  rec->prop_defs = item_props;
  rec->nprops = NPROPS;
  int rc = FASTEPOST_OK;
  const char *name = str_member(ev, "pulseName");
  if (!name)
    name = str_member(ev, "itemName");
  switch (kind) {
  case K_GONE: /* delete_pulse (hard) and archive_pulse (soft): the customer goes inactive */
    rec->tombstone = true;
    rec->facts.active = 0;
    return FASTEPOST_OK;
  case K_RESTORE:
    rec->restore = true;
    rec->facts.active = 1;
    return FASTEPOST_OK;
  case K_NAME: {
    json_object *v = fastepost__json_get(ev, "value");
    const char *renamed = v ? str_member(v, "name") : NULL;
    if (renamed)
      name = renamed;
    if (!name)
      return record_fail(rec, FASTEPOST_EINVALID, "update_name carries no value.name");
    return fastepost__fact_set(&rec->props[PROP_NAME], *name ? name : NULL);
  }
  case K_CREATE: {
    rec->create_bare = true;
    json_object *cv = fastepost__json_get(ev, "columnValues");
    if (cv && !json_object_is_type(cv, json_type_object))
      return record_fail(rec, FASTEPOST_EINVALID, "columnValues must be an object");
    if (cv && json_object_object_length(cv) > 0) {
      if (!board)
        return record_fail(rec, FASTEPOST_EINVALID,
                           "the item's column values need the board's column mapping: pass the monday "
                           "configuration (boards) to the retry or replay");
      rc = map_column_values(rec, board, cv);
    }
    break;
  }
  case K_COLUMN: {
    const char *column = str_member(ev, "columnId");
    if (!column)
      return record_fail(rec, FASTEPOST_EINVALID, "update_column_value carries no columnId");
    if (!board)
      return record_fail(rec, FASTEPOST_EINVALID,
                         "column %.64s: a column change needs the board's column mapping: pass the monday "
                         "configuration (boards) to the retry or replay", column);
    int f = 0;
    while (f < FASTEPOST__MONDAY_NFIELDS && !(board->columns[f] && strcmp(board->columns[f], column) == 0))
      f++;
    if (f == FASTEPOST__MONDAY_NFIELDS)
      return fastepost__record_ignore(rec, "column %.64s of board %.24s is not synced", column, board->id);
    json_object *v = NULL;
    json_object_object_get_ex(ev, "value", &v);
    rc = set_field(rec, f, column, v);
    break;
  }
  default:
    break;
  }
  /* The item's name as of this event: versioned like the columns, so it cannot roll back. */
  if (!rc && name && *name)
    rc = fastepost__fact_set(&rec->props[PROP_NAME], name);
  return rc;
}

static int event_record(fastepost__sync_record *rec, const fastepost__monday_config *cfg, json_object *ev,
                        const fastepost__time_range *range, int64_t now_us) {
  if (!json_object_is_type(ev, json_type_object))
    return record_fail(rec, FASTEPOST_EINVALID, "the event must be a JSON object");
  fastepost__buf canon = FASTEPOST__BUF_INIT;
  fastepost__json_canonical(&canon, ev);
  if (!(rec->payload = fastepost__buf_detach(&canon)))
    return FASTEPOST_ENOMEM;
  const char *type = str_member(ev, "type");
  if (!(rec->event_type = fastepost__strdup(type && *type ? type : "unknown")))
    return FASTEPOST_ENOMEM;
  int rc = set_dedup_key(rec, ev);
  char item[24], board_id[24];
  bool has_item = id_member(item, ev, "pulseId") || id_member(item, ev, "itemId");
  if (!rc && has_item) {
    char ext[32];
    snprintf(ext, sizeof ext, "item:%s", item);
    if (!(rec->external_id = fastepost__strdup(ext)) || !(rec->crm_id = fastepost__strdup(ext)) ||
        !(rec->model = fastepost__strdup("item")))
      rc = FASTEPOST_ENOMEM;
  }
  if (rc)
    return rc;
  if (!type || !*type)
    return record_fail(rec, FASTEPOST_EINVALID, "the event has no type");
  if (!id_member(board_id, ev, "boardId"))
    return record_fail(rec, FASTEPOST_EINVALID, "the event has no boardId (a positive integer)");
  const fastepost__monday_board *board = cfg ? fastepost__monday_board_find(cfg, board_id) : NULL;
  if (cfg && !board)
    return fastepost__record_ignore(rec, "board %s is not configured", board_id);
  /* Subitems live on a board of their own, with other columns: not customers. */
  if (fastepost__json_get(ev, "parentItemId") || strstr(type, "subitem"))
    return fastepost__record_ignore(rec, "subitem events are not synced");
  event_kind kind = kind_of(type);
  if (kind == K_OTHER)
    return fastepost__record_ignore(rec, "monday %.64s events are not synced", type);
  if (!has_item)
    return record_fail(rec, FASTEPOST_EINVALID, "the %.64s event has no item id (pulseId or itemId)", type);
  if ((rc = set_version(rec, ev, range, now_us)) || rec->failure)
    return rc;
  return kind == K_UPDATE ? map_update(rec, ev) : map_item(rec, board, ev, kind);
}

int fastepost__monday_event_record(fastepost__sync_record *rec, const fastepost__monday_config *cfg,
                                   json_object *event, const fastepost__time_range *range, int64_t now_us) {
  int rc = event_record(rec, cfg, event, range, now_us);
  if (rc == FASTEPOST_OK && !rec->event_type && !(rec->event_type = fastepost__strdup("unknown")))
    rc = FASTEPOST_ENOMEM;
  if (rc == FASTEPOST_ENOMEM)
    fastepost__error_oom();
  return rc;
}

int fastepost__monday_parse(fastepost__records *out, const fastepost__monday_config *cfg, const void *body,
                            size_t len, size_t max_body, const fastepost__time_range *range, int64_t now_us) {
  out->items = NULL;
  out->count = 0;
  if (!body && len)
    return fastepost__error_set(FASTEPOST_EINVALID, "monday body: NULL with a length");
  if (max_body && len > max_body)
    return fastepost__error_set(FASTEPOST_ETOOBIG, "monday body of %zu bytes exceeds the limit of %zu", len,
                                max_body);
  json_object *root = NULL;
  int rc = fastepost__json_parse(&root, body ? body : "", len, MAX_DEPTH);
  if (rc) {
    fastepost__error_prefix("monday body");
    return rc;
  }
  json_object *ev = fastepost__json_get(root, "event");
  if (!json_object_is_type(root, json_type_object) || !ev || !json_object_is_type(ev, json_type_object)) {
    bool challenge = fastepost__json_get(root, "challenge") != NULL; /* before root is released */
    json_object_put(root);
    return fastepost__error_set(FASTEPOST_EPARSE, "monday body: expected {\"event\": {...}}%s",
                                challenge ? " (a challenge is answered only as the whole body "
                                            "{\"challenge\": \"...\"})"
                                          : "");
  }
  rc = fastepost__records_alloc(out, 1, SOURCE);
  if (!rc)
    rc = fastepost__monday_event_record(&out->items[0], cfg, ev, range, now_us);
  json_object_put(root);
  if (rc)
    fastepost__records_free(out);
  return rc;
}
