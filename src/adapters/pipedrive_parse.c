/* SPDX-License-Identifier: MIT */
/*
 * The Pipedrive adapter, parsing: a webhook body (v1: `current`/`previous`/`meta.object`; v2:
 * `data`/`previous`/`meta.entity`) into one sync record, with its dedup key (v2 `meta.id`; v1 a
 * hash of the object, id, action and `meta.timestamp_micro`) and version (v2 `meta.timestamp`,
 * v1 `meta.timestamp_micro`). Persons are customers (versioned properties, so that a deletion
 * leaves a tombstone and a merge retires the merged person); notes and deals are remarks on
 * their person's customer; an organization's name is stored for the persons that name the
 * organization by id only. No SQL here.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/odoo.h" /* the shared field readers: fastepost__odoo_text, _trimmed, _datetime_us */
#include "adapters/pipedrive.h"
#include "util/digest.h"
#include "util/html.h"
#include "util/json.h"
#include "util/time.h"

static const char SOURCE[] = "pipedrive";

/* A person's synced properties and the customer column each feeds. company is org_name, or
 * (a reference, resolved by the core) the stored name of the organization org_id names. */
static const fastepost__prop_def person_props[] = {
    {"name", FASTEPOST__COL_NAME},
    {"email", FASTEPOST__COL_EMAIL},
    {"phone", FASTEPOST__COL_PHONE},
    {"company", FASTEPOST__COL_COMPANY},
};
enum { P_NAME, P_EMAIL, P_PHONE, P_COMPANY, NPERSON_PROPS };

/* An organization's name: kept in the store only (an organization is not a customer). */
static const fastepost__prop_def organization_props[] = {{"name", FASTEPOST__COL_NONE}};

/* One event as read from the envelope. */
typedef struct pd_event {
  int v;                 /* 1 or 2 */
  json_object *meta;
  const char *object;    /* meta.object (v1) / meta.entity (v2) */
  const char *action;    /* as sent */
  const char *kind;      /* normalised: create, change, delete, merge; NULL when unknown */
  json_object *id_json;  /* meta.id (v1) / meta.entity_id (v2), else the object's id */
  int64_t id;            /* 0 when id_json is not a Pipedrive id */
  json_object *current;  /* data (v2) / current (v1) when an object */
  json_object *previous; /* previous when an object */
} pd_event;

/* ---- small readers ------------------------------------------------------------------------- */

static const char *str_member(json_object *obj, const char *key) {
  json_object *v = fastepost__json_get(obj, key);
  return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static json_object *obj_member(json_object *obj, const char *key) {
  json_object *v = fastepost__json_get(obj, key);
  return json_object_is_type(v, json_type_object) ? v : NULL;
}

/* A Pipedrive id: a positive integer, or a string of digits (v2 sends entity_id as "8"); in v1,
 * a related object ({"value": 5, "name": ...}) stands for its value. 0 when it is none. */
static int64_t pd_id(json_object *v) {
  if (json_object_is_type(v, json_type_object))
    v = fastepost__json_get(v, "value");
  if (json_object_is_type(v, json_type_int)) {
    int64_t x = json_object_get_int64(v);
    return x > 0 && x < INT64_MAX ? x : 0; /* json-c saturates beyond int64 */
  }
  if (!json_object_is_type(v, json_type_string))
    return 0;
  const char *s = json_object_get_string(v);
  size_t n = strlen(s);
  if (n == 0 || n > 18 || strspn(s, "0123456789") != n)
    return 0;
  int64_t x = strtoll(s, NULL, 10);
  return x > 0 ? x : 0;
}

/* ---- the envelope -------------------------------------------------------------------------- */

static const char *normalised_action(int v, const char *a) {
  static const char *const map[][3] = {
      /* v1, v2, normalised */
      {"added", "create", "create"},
      {"updated", "change", "change"},
      {"deleted", "delete", "delete"},
      {"merged", NULL, "merge"},
  };
  for (size_t i = 0; a && i < sizeof map / sizeof map[0]; i++)
    if (map[i][v == 1 ? 0 : 1] && strcmp(map[i][v == 1 ? 0 : 1], a) == 0)
      return map[i][2];
  return NULL;
}

/* Read the envelope; a failure (no meta, no object or action) is recorded in rec. */
static int read_envelope(pd_event *e, fastepost__sync_record *rec, json_object *root) {
  memset(e, 0, sizeof *e);
  e->meta = obj_member(root, "meta");
  if (!e->meta)
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "meta is missing or not an object: not a Pipedrive webhook");
  if ((e->object = str_member(e->meta, "entity"))) {
    e->v = 2;
  } else if ((e->object = str_member(e->meta, "object"))) {
    e->v = 1;
  } else {
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "meta has neither entity (webhooks v2) nor object (v1)");
  }
  e->action = str_member(e->meta, "action");
  char type[160];
  snprintf(type, sizeof type, "%.64s.%.64s", e->action ? e->action : "unknown", e->object);
  if (!(rec->event_type = fastepost__strdup(type)))
    return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
  if (!e->action)
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "meta.action is missing or not a string");
  e->kind = normalised_action(e->v, e->action);
  e->current = obj_member(root, e->v == 2 ? "data" : "current");
  e->previous = obj_member(root, "previous");
  e->id_json = fastepost__json_get(e->meta, e->v == 2 ? "entity_id" : "id");
  if (!e->id_json)
    e->id_json = fastepost__json_get(e->current ? e->current : e->previous, "id");
  e->id = pd_id(e->id_json);
  if (e->id) {
    char ext[96];
    snprintf(ext, sizeof ext, "%.64s:%lld", e->object, (long long)e->id);
    if (!(rec->external_id = fastepost__strdup(ext)))
      return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
  }
  return FASTEPOST_OK;
}

/* The JSON text of a member ("-" when absent), for hashing: stable across redeliveries. */
static const char *member_text(json_object *obj, const char *key) {
  json_object *v = fastepost__json_get(obj, key);
  return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "-";
}

/* The dedup key: v2 meta.id (the delivery's UUID, the same on every attempt); v1 (which has no
 * event id) and a v2 body without meta.id: the object, its id, the action and the time. The
 * action is in it because one v1 merge sends `merged` and `deleted` events within the same
 * microsecond. Neither covers the attempt counter (v1 `retry`, v2 `meta.attempt`) nor
 * webhook_id (a duplicated webhook sends the same event twice). */
static int dedup_key(fastepost__sync_record *rec, const pd_event *e) {
  char hex[FASTEPOST__SHA256_HEX_LEN + 1];
  const char *uuid = e->v == 2 ? str_member(e->meta, "id") : NULL;
  int rc;
  if (uuid && *uuid) {
    const char *parts[] = {"pipedrive-v2", uuid};
    size_t lens[] = {strlen(parts[0]), strlen(uuid)};
    rc = fastepost__sha256_hex(hex, 2, parts, lens);
  } else {
    /* Each text is copied: json-c reuses one buffer per object for its string form. */
    char *id = fastepost__strdup(e->id_json ? json_object_to_json_string_ext(e->id_json, JSON_C_TO_STRING_PLAIN)
                                            : "-");
    char *ts = fastepost__strdup(member_text(e->meta, e->v == 2 ? "timestamp" : "timestamp_micro"));
    if (!id || !ts) {
      free(id);
      free(ts);
      return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
    }
    const char *parts[] = {e->v == 2 ? "pipedrive-v2-meta" : "pipedrive-v1", e->object, id, e->action, ts};
    size_t lens[5];
    for (size_t i = 0; i < 5; i++)
      lens[i] = strlen(parts[i]);
    rc = fastepost__sha256_hex(hex, 5, parts, lens);
    free(id);
    free(ts);
  }
  if (rc)
    return fastepost__record_fail(rec, rc, "the dedup key could not be computed");
  return (rec->idempotency_key = fastepost__strdup(hex)) ? FASTEPOST_OK : fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
}

/* An integer epoch in seconds, milliseconds or microseconds (by size) in microseconds; false
 * when it is none or too large to scale. */
static bool epoch_us(json_object *v, int64_t *us) {
  if (!json_object_is_type(v, json_type_int))
    return false;
  int64_t x = json_object_get_int64(v);
  if (x < 0 || x == INT64_MAX)
    return false;
  if (x < 100000000000LL) /* seconds until the year 5138 */
    *us = x * 1000000;
  else if (x < 100000000000000LL) /* milliseconds */
    *us = x * 1000;
  else
    *us = x;
  return true;
}

/* The version: v1 meta.timestamp_micro (else meta.timestamp, seconds), v2 meta.timestamp (ISO
 * 8601; an integer epoch for some entities). Checked against the accepted range. */
static int read_version(fastepost__sync_record *rec, const pd_event *e, const fastepost__time_range *range,
                        int64_t now_us) {
  int64_t us = 0;
  const char *what = e->v == 2 ? "meta.timestamp" : "meta.timestamp_micro";
  json_object *t = fastepost__json_get(e->meta, e->v == 2 ? "timestamp" : "timestamp_micro");
  if (!t && e->v == 1) {
    what = "meta.timestamp";
    t = fastepost__json_get(e->meta, "timestamp");
  }
  bool ok;
  if (!t)
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s is missing: the event has no version", what);
  if (json_object_is_type(t, json_type_string))
    ok = fastepost__time_parse_iso(&us, json_object_get_string(t));
  else if (e->v == 1 && strcmp(what, "meta.timestamp_micro") == 0)
    ok = json_object_is_type(t, json_type_int) && (us = json_object_get_int64(t)) >= 0 && us != INT64_MAX;
  else
    ok = epoch_us(t, &us);
  if (!ok) {
    char p[64];
    const char *text = json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN);
    fastepost__preview(p, sizeof p, text, strlen(text));
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s %s is not a time", what, p);
  }
  char version[32];
  if (fastepost__sync_time_check(us, range, now_us, what) || !fastepost__time_format(version, sizeof version, us))
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s", fastepost_error_last()->message);
  return (rec->version = fastepost__strdup(version)) ? FASTEPOST_OK : fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
}

/* ---- persons ------------------------------------------------------------------------------- */

/* Set property i from a reader's state (ABSENT leaves it; value is consumed). */
static int set_prop(fastepost__sync_record *rec, size_t i, fastepost__fact_state st, char *value) {
  int rc = FASTEPOST_OK;
  if (st == FASTEPOST__FACT_VALUE)
    rc = fastepost__fact_set(&rec->props[i], value);
  else if (st == FASTEPOST__FACT_EMPTY)
    rc = fastepost__fact_set(&rec->props[i], NULL);
  free(value);
  return rc;
}

/* A string's trimmed text: VALUE, or EMPTY when nothing is left (or memory ran out). */
static fastepost__fact_state trimmed(json_object *v, char **out) {
  *out = fastepost__odoo_trimmed(json_object_get_string(v), (size_t)json_object_get_string_len(v));
  if (*out && **out)
    return FASTEPOST__FACT_VALUE;
  free(*out);
  *out = NULL;
  return FASTEPOST__FACT_EMPTY;
}

/* An email or phone list (v2 `emails` / v1 `email`, items {label, value, primary} or plain
 * strings): the primary one with a value, else the first with a value. */
static fastepost__fact_state contact(json_object *obj, const char *v2key, const char *v1key, char **out) {
  json_object *list = NULL;
  *out = NULL;
  if (!json_object_object_get_ex(obj, v2key, &list) && !json_object_object_get_ex(obj, v1key, &list))
    return FASTEPOST__FACT_ABSENT;
  if (json_object_is_type(list, json_type_string))
    return trimmed(list, out);
  if (!json_object_is_type(list, json_type_array))
    return FASTEPOST__FACT_EMPTY;
  json_object *first = NULL, *primary = NULL;
  for (size_t i = 0; i < json_object_array_length(list) && !primary; i++) {
    json_object *item = json_object_array_get_idx(list, i);
    json_object *v = json_object_is_type(item, json_type_object) ? fastepost__json_get(item, "value") : item;
    if (!json_object_is_type(v, json_type_string) || !*json_object_get_string(v))
      continue;
    if (!first)
      first = v;
    if (json_object_get_boolean(fastepost__json_get(item, "primary")))
      primary = v;
  }
  json_object *v = primary ? primary : first;
  return v ? trimmed(v, out) : FASTEPOST__FACT_EMPTY;
}

/* The name: `name`, else first_name and last_name joined. */
static fastepost__fact_state person_name(json_object *obj, char **out) {
  fastepost__fact_state st = fastepost__odoo_text(obj, "name", out);
  if (st != FASTEPOST__FACT_ABSENT)
    return st;
  char *first = NULL, *last = NULL;
  fastepost__fact_state a = fastepost__odoo_text(obj, "first_name", &first);
  fastepost__fact_state b = fastepost__odoo_text(obj, "last_name", &last);
  if (a == FASTEPOST__FACT_ABSENT && b == FASTEPOST__FACT_ABSENT)
    return FASTEPOST__FACT_ABSENT;
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&buf, first ? first : "");
  fastepost__buf_puts(&buf, first && last ? " " : "");
  fastepost__buf_puts(&buf, last ? last : "");
  free(first);
  free(last);
  *out = buf.len ? fastepost__buf_detach(&buf) : NULL;
  fastepost__buf_free(&buf);
  return *out ? FASTEPOST__FACT_VALUE : FASTEPOST__FACT_EMPTY;
}

/* The company: org_name (v1; a v1 org_id object's name), else a reference to the name stored
 * for organization:<org_id>, else empty when the person has no organization. */
static int person_company(fastepost__sync_record *rec, json_object *obj) {
  char *name = NULL;
  fastepost__fact_state st = fastepost__odoo_text(obj, "org_name", &name);
  json_object *org = NULL;
  bool has_org = json_object_object_get_ex(obj, "org_id", &org);
  if (st != FASTEPOST__FACT_VALUE && json_object_is_type(org, json_type_object)) {
    free(name);
    st = fastepost__odoo_text(org, "name", &name);
  }
  if (st == FASTEPOST__FACT_VALUE)
    return set_prop(rec, P_COMPANY, st, name);
  free(name);
  int64_t org_id = pd_id(org);
  if (org_id) {
    char ref[48];
    snprintf(ref, sizeof ref, "organization:%lld", (long long)org_id);
    rec->ref_property = "name";
    rec->ref_prop = P_COMPANY;
    return (rec->ref_crm_id = fastepost__strdup(ref)) ? FASTEPOST_OK : FASTEPOST_ENOMEM;
  }
  /* No organization (org_id null) or none named: the person has no company. */
  return has_org || st == FASTEPOST__FACT_EMPTY ? set_prop(rec, P_COMPANY, FASTEPOST__FACT_EMPTY, NULL)
                                                : FASTEPOST_OK;
}

static int person_facts(fastepost__sync_record *rec, json_object *obj) {
  char *v = NULL;
  fastepost__fact_state name = person_name(obj, &v); /* before v is read */
  int rc = set_prop(rec, P_NAME, name, v);
  if (!rc) {
    fastepost__fact_state st = contact(obj, "emails", "email", &v);
    rc = set_prop(rec, P_EMAIL, st, v);
  }
  if (!rc) {
    fastepost__fact_state st = contact(obj, "phones", "phone", &v);
    rc = set_prop(rec, P_PHONE, st, v);
  }
  if (!rc)
    rc = person_company(rec, obj);
  return rc ? fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory") : FASTEPOST_OK;
}

/* Add person:<id> to the merged (retired) persons unless it is the survivor. */
static int retire(fastepost__sync_record *rec, int64_t survivor, int64_t id) {
  if (!id || id == survivor)
    return FASTEPOST_OK;
  for (size_t i = 0; i < rec->retired_crm_ids.count; i++)
    if (strtoll(rec->retired_crm_ids.items[i] + strlen("person:"), NULL, 10) == id)
      return FASTEPOST_OK;
  return fastepost__strlist_addf(&rec->retired_crm_ids, "person:%lld", (long long)id);
}

static int map_person(fastepost__sync_record *rec, const pd_event *e) {
  char crm[48];
  snprintf(crm, sizeof crm, "person:%lld", (long long)e->id);
  if (!(rec->crm_id = fastepost__strdup(crm)) || !(rec->model = fastepost__strdup("person")))
    return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
  rec->owns_customer = true;
  rec->prop_defs = person_props;
  rec->nprops = NPERSON_PROPS;
  if (strcmp(e->kind, "delete") == 0) {
    /* v2 merge: the merged person is deleted (meta.merged_to_id), the survivor changed. */
    int64_t to = pd_id(fastepost__json_get(e->meta, "merged_to_id"));
    rec->tombstone = true;
    rec->facts.active = 0;
    if (to && fastepost__strlist_addf(&rec->warnings, "person %lld was merged into person %lld", (long long)e->id,
                                      (long long)to))
      return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
    return FASTEPOST_OK;
  }
  if (!e->current)
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s is missing or not an object", e->v == 2 ? "data" : "current");
  rec->create_bare = true; /* the person exists in Pipedrive, whatever it carries */
  /* A merge: the survivor's change names the merged person (v2 meta.merged_from_id; v1
   * `merged`: current.merge_what_id, or previous when it is the other person). */
  int rc = retire(rec, e->id, pd_id(fastepost__json_get(e->meta, "merged_from_id")));
  if (!rc && strcmp(e->kind, "merge") == 0) {
    rc = retire(rec, e->id, pd_id(fastepost__json_get(e->current, "merge_what_id")));
    if (!rc)
      rc = retire(rec, e->id, pd_id(fastepost__json_get(e->previous, "id")));
  }
  if (rc)
    return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
  return person_facts(rec, e->current);
}

/* ---- notes, deals, organizations ----------------------------------------------------------- */

/* A remark on the customer of the object's person (person_id). */
static int remark(fastepost__sync_record *rec, const pd_event *e, char *body) {
  int64_t person = pd_id(fastepost__json_get(e->current, "person_id"));
  char crm[48], link[48];
  snprintf(crm, sizeof crm, "%.16s:%lld", e->object, (long long)e->id);
  snprintf(link, sizeof link, "person:%lld", (long long)person);
  if (!person) {
    free(body);
    return fastepost__record_ignore(rec, "%s %lld is not attached to a person: only remarks on persons are synced", e->object,
                  (long long)e->id);
  }
  rec->note_body = body;
  if (!(rec->crm_id = fastepost__strdup(crm)) || !(rec->model = fastepost__strdup(e->object)) ||
      !(rec->link_crm_id = fastepost__strdup(link)) || !(rec->note_key = fastepost__strdup(crm)))
    return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
  rec->owns_customer = false; /* a note or deal is not the customer */
  return FASTEPOST_OK;
}

static int map_note(fastepost__sync_record *rec, const pd_event *e) {
  if (strcmp(e->kind, "delete") == 0)
    return fastepost__record_ignore(rec, "note %lld was deleted in Pipedrive: its remark is kept", (long long)e->id);
  if (!e->current)
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s is missing or not an object", e->v == 2 ? "data" : "current");
  json_object *active = fastepost__json_get(e->current, "active_flag");
  if (active && !json_object_get_boolean(active))
    return fastepost__record_ignore(rec, "note %lld is not active", (long long)e->id);
  const char *html = str_member(e->current, "content");
  char *text = html ? fastepost__html_to_text(html, strlen(html)) : NULL;
  if (html && !text)
    return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
  if (!text || !*text) {
    free(text);
    return fastepost__record_ignore(rec, "note %lld has no text", (long long)e->id);
  }
  return remark(rec, e, text);
}

static int map_deal(fastepost__sync_record *rec, const pd_event *e) {
  if (strcmp(e->kind, "delete") == 0)
    return fastepost__record_ignore(rec, "deal %lld was deleted in Pipedrive: its remark is kept", (long long)e->id);
  if (!e->current)
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s is missing or not an object", e->v == 2 ? "data" : "current");
  char *title = NULL;
  if (fastepost__odoo_text(e->current, "title", &title) != FASTEPOST__FACT_VALUE) {
    free(title);
    return fastepost__record_ignore(rec, "deal %lld has no title", (long long)e->id);
  }
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&b, "Deal: ");
  fastepost__buf_puts(&b, title);
  free(title);
  char *body = fastepost__buf_detach(&b);
  return body ? remark(rec, e, body) : fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
}

static int map_organization(fastepost__sync_record *rec, const pd_event *e) {
  if (strcmp(e->kind, "delete") == 0 || strcmp(e->kind, "merge") == 0)
    return fastepost__record_ignore(rec, "organization %lld: only names are kept (the survivor of a merge sends its own change)",
                  (long long)e->id);
  if (!e->current)
    return fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s is missing or not an object", e->v == 2 ? "data" : "current");
  char crm[48], *name = NULL;
  snprintf(crm, sizeof crm, "organization:%lld", (long long)e->id);
  fastepost__fact_state st = fastepost__odoo_text(e->current, "name", &name);
  if (st == FASTEPOST__FACT_ABSENT)
    return fastepost__record_ignore(rec, "organization %lld: the event carries no name", (long long)e->id);
  rec->prop_defs = organization_props;
  rec->nprops = 1;
  rec->props_only = true;
  if (set_prop(rec, 0, st, name) || !(rec->crm_id = fastepost__strdup(crm)) ||
      !(rec->model = fastepost__strdup("organization")))
    return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
  return fastepost__record_ignore(rec, "organization %lld: its name is kept for the company of its persons (organizations are not "
                     "customers)",
                (long long)e->id);
}

/* ---- one body ------------------------------------------------------------------------------ */

static const struct {
  const char *object;
  int (*map)(fastepost__sync_record *, const pd_event *);
} mappers[] = {
    {"person", map_person},
    {"note", map_note},
    {"deal", map_deal},
    {"organization", map_organization},
};

static void parse_record(fastepost__sync_record *rec, json_object *root, const fastepost__time_range *range,
                         int64_t now_us) {
  fastepost__buf canon = FASTEPOST__BUF_INIT;
  fastepost__json_canonical(&canon, root);
  if (!(rec->payload = fastepost__buf_detach(&canon))) {
    fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
    return;
  }
  pd_event e;
  int rc = read_envelope(&e, rec, root);
  if (!rec->event_type && !(rec->event_type = fastepost__strdup("unknown"))) /* no meta: logged as unknown */
    rc = fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
  if (rc || dedup_key(rec, &e))
    return;
  int (*map)(fastepost__sync_record *, const pd_event *) = NULL;
  for (size_t i = 0; i < sizeof mappers / sizeof mappers[0]; i++)
    if (strcmp(mappers[i].object, e.object) == 0)
      map = mappers[i].map;
  if (!map) {
    fastepost__record_ignore(rec, "Pipedrive %.64s events are not synced", e.object);
    return;
  }
  if (!e.kind) {
    fastepost__record_ignore(rec, "Pipedrive %.64s.%.64s events are not synced", e.action, e.object);
    return;
  }
  if (!e.id) {
    fastepost__record_fail(rec, FASTEPOST_EINVALID, "%s is missing or not a Pipedrive id",
         e.v == 2 ? "meta.entity_id" : "meta.id");
    return;
  }
  if (read_version(rec, &e, range, now_us))
    return;
  map(rec, &e);
}

int fastepost__pd_parse(fastepost__records *out, const void *body, size_t len, const fastepost__time_range *range,
                        int64_t now_us, bool stored) {
  memset(out, 0, sizeof *out);
  if (!body && len)
    return fastepost__error_set(FASTEPOST_EINVALID, "Pipedrive webhook: NULL body");
  if (len > FASTEPOST__PD_MAX_BODY && !stored)
    return fastepost__error_set(FASTEPOST_ETOOBIG, "Pipedrive webhook of %zu bytes exceeds the limit of %zu bytes",
                                len, FASTEPOST__PD_MAX_BODY);
  json_object *root = NULL;
  int rc = fastepost__json_parse(&root, body ? body : "", len, FASTEPOST__PD_MAX_DEPTH);
  if (rc) {
    fastepost__error_prefix("Pipedrive webhook");
    return rc;
  }
  if (!json_object_is_type(root, json_type_object)) {
    const char *type = json_type_to_name(json_object_get_type(root)); /* static: outlives root */
    json_object_put(root);
    return fastepost__error_set(FASTEPOST_EPARSE, "Pipedrive webhook: expected a JSON object, got %s", type);
  }
  const fastepost__time_range def = FASTEPOST__TIME_RANGE_DEFAULT;
  rc = fastepost__records_alloc(out, 1, SOURCE);
  if (!rc)
    parse_record(&out->items[0], root, range ? range : &def, now_us);
  json_object_put(root);
  if (!rc && out->items[0].failure == FASTEPOST_ENOMEM) {
    fastepost__records_free(out);
    rc = fastepost__error_oom();
  }
  return rc;
}
