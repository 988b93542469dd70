/* SPDX-License-Identifier: MIT */
/*
 * The HubSpot adapter, parsing: a webhook body (a JSON array of events) into the plain C
 * records of hubspot_parse.h, and each event's dedup key. No database, no signatures.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/hubspot_parse.h"
#include "internal.h"
#include "util/digest.h"
#include "util/json.h"

#define SHA256_LEN FASTEPOST__SHA256_LEN

/* ---- batch parsing ----------------------------------------------------------------------- */

/* HubSpot's objectTypeId values for the generic "object.*" subscriptions. */
static const char *object_type_for_id(const char *id) {
  static const struct {
    const char *id, *name;
  } map[] = {{"0-1", "contact"}, {"0-2", "company"},   {"0-3", "deal"},
             {"0-5", "ticket"},  {"0-7", "product"},   {"0-8", "line_item"},
             {"0-11", "conversation"}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(map[i].id, id) == 0)
      return map[i].name;
  return NULL;
}

static const char *json_kind(json_object *o) {
  return o ? json_type_to_name(json_object_get_type(o)) : "null";
}

/* Record an event's error (the first one wins). Returns the code. */
static int event_fail(fastepost__hs_event *e, int code, const char *fmt, ...)
    FASTEPOST__PRINTF(3, 4);
static int event_fail(fastepost__hs_event *e, int code, const char *fmt, ...) {
  if (e->error)
    return e->error;
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&b, "event %zu: ", e->index);
  va_list ap;
  va_start(ap, fmt);
  char msg[256];
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fastepost__buf_puts(&b, msg);
  e->error = code;
  e->error_message = fastepost__buf_detach(&b);
  return code;
}

/* The field `key` when it has JSON type `type` (`noun` in the message: "an integer"); NULL when
 * it is missing (a failure when required) or of another type (a failure). */
static json_object *typed_field(fastepost__hs_event *e, json_object *obj, const char *key,
                                json_type type, const char *noun, bool required) {
  json_object *f = fastepost__json_get(obj, key);
  if (!f) {
    if (required)
      event_fail(e, FASTEPOST_EINVALID, "required field %s is missing", key);
    return NULL;
  }
  if (!json_object_is_type(f, type)) {
    event_fail(e, FASTEPOST_EINVALID, "%s must be %s, not %s", key, noun, json_kind(f));
    return NULL;
  }
  return f;
}

/* An optional non-negative integer field. */
static void get_int(fastepost__hs_event *e, json_object *obj, const char *key,
                    fastepost__hs_int *out, bool required) {
  json_object *f = typed_field(e, obj, key, json_type_int, "an integer", required);
  if (!f)
    return;
  errno = 0;
  int64_t v = json_object_get_int64(f);
  /* json-c saturates values beyond int64 at INT64_MAX. */
  if (v < 0 || v == INT64_MAX) {
    event_fail(e, FASTEPOST_EINVALID, "%s is out of range (%s)", key,
               json_object_to_json_string(f));
    return;
  }
  out->present = true;
  out->value = v;
}

/* An optional string field; required ones fail when missing. */
static void get_str(fastepost__hs_event *e, json_object *obj, const char *key, char **out,
                    bool required) {
  json_object *f = typed_field(e, obj, key, json_type_string, "a string", required);
  if (!f)
    return;
  *out = fastepost__strndup(json_object_get_string(f), (size_t)json_object_get_string_len(f));
  if (!*out)
    event_fail(e, FASTEPOST_ENOMEM, "out of memory");
}

static void parse_merged(fastepost__hs_event *e, json_object *obj) {
  json_object *arr = typed_field(e, obj, "mergedObjectIds", json_type_array, "an array", false);
  if (!arr)
    return;
  size_t n = json_object_array_length(arr);
  if (n == 0)
    return;
  e->merged_object_ids = calloc(n, sizeof *e->merged_object_ids);
  if (!e->merged_object_ids) {
    event_fail(e, FASTEPOST_ENOMEM, "out of memory");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    json_object *x = json_object_array_get_idx(arr, i);
    int64_t v = json_object_is_type(x, json_type_int) ? json_object_get_int64(x) : -1;
    if (v < 0 || v == INT64_MAX) {
      event_fail(e, FASTEPOST_EINVALID, "mergedObjectIds[%zu] must be an integer ID", i);
      return;
    }
    e->merged_object_ids[e->merged_count++] = v;
  }
}

static void derive_kind(fastepost__hs_event *e) {
  const char *dot = strchr(e->type, '.');
  if (!dot)
    return;
  size_t prefix = (size_t)(dot - e->type);
  const char *object = NULL;
  if (prefix == 6 && strncmp(e->type, "object", 6) == 0) {
    object = e->object_type_id ? object_type_for_id(e->object_type_id) : NULL;
    e->object_type = object ? fastepost__strdup(object) : NULL;
  } else {
    e->object_type = fastepost__strndup(e->type, prefix);
  }
  e->action = fastepost__strdup(dot + 1);
}

static void parse_event(fastepost__hs_event *e, json_object *obj) {
  if (!json_object_is_type(obj, json_type_object)) {
    event_fail(e, FASTEPOST_EINVALID, "must be a JSON object, not %s", json_kind(obj));
    return;
  }
  /* The canonical form (the event log's payload, and what a retry parses again). */
  fastepost__buf canon = FASTEPOST__BUF_INIT;
  fastepost__json_canonical(&canon, obj);
  e->json = fastepost__buf_detach(&canon);
  /* subscriptionType is what HubSpot sends; one revision of its docs says eventType. */
  get_str(e, obj, fastepost__json_get(obj, "subscriptionType") ? "subscriptionType" : "eventType",
          &e->type, false);
  if (!e->type && !e->error)
    event_fail(e, FASTEPOST_EINVALID, "required field subscriptionType (or eventType) is missing");
  else if (e->type && !*e->type)
    event_fail(e, FASTEPOST_EINVALID, "subscriptionType is empty");
  get_str(e, obj, "objectTypeId", &e->object_type_id, false);
  get_int(e, obj, "objectId", &e->object_id, true);
  get_int(e, obj, "occurredAt", &e->occurred_at, true);
  get_int(e, obj, "eventId", &e->event_id, false);
  get_int(e, obj, "subscriptionId", &e->subscription_id, false);
  get_int(e, obj, "portalId", &e->portal_id, false);
  get_int(e, obj, "appId", &e->app_id, false);
  get_int(e, obj, "attemptNumber", &e->attempt_number, false);
  get_int(e, obj, "primaryObjectId", &e->primary_object_id, false);
  get_int(e, obj, "newObjectId", &e->new_object_id, false);
  get_str(e, obj, "propertyName", &e->property_name, false);
  get_str(e, obj, "propertyValue", &e->property_value, false);
  get_str(e, obj, "changeSource", &e->change_source, false);
  parse_merged(e, obj);
  if (e->type && *e->type)
    derive_kind(e);
}

static void event_free(fastepost__hs_event *e) {
  free(e->error_message);
  free(e->type);
  free(e->object_type);
  free(e->action);
  free(e->object_type_id);
  free(e->property_name);
  free(e->property_value);
  free(e->change_source);
  free(e->merged_object_ids);
  free(e->json);
}

void fastepost__hs_batch_free(fastepost__hs_batch *batch) {
  if (!batch)
    return;
  for (size_t i = 0; i < batch->count; i++)
    event_free(&batch->events[i]);
  free(batch->events);
  batch->events = NULL;
  batch->count = batch->bad = 0;
}

/* Nesting deeper than this is not a HubSpot payload. */
#define MAX_DEPTH 16

static int parse_json(json_object **out, const char *body, size_t len) {
  int rc = fastepost__json_parse(out, body, len, MAX_DEPTH);
  if (rc)
    fastepost__error_prefix("HubSpot batch");
  return rc;
}

int fastepost__hs_parse_batch(fastepost__hs_batch *out, const char *body, size_t len,
                              size_t max_events) {
  if (!out || (!body && len))
    return fastepost__error_set(FASTEPOST_EINVALID, "HubSpot batch: NULL argument");
  memset(out, 0, sizeof *out);
  if (max_events == 0)
    max_events = FASTEPOST__HS_DEFAULT_MAX_EVENTS;
  json_object *root = NULL;
  int rc = parse_json(&root, body ? body : "", len);
  if (rc)
    return rc;
  if (!json_object_is_type(root, json_type_array)) {
    rc = fastepost__error_set(FASTEPOST_EPARSE, "HubSpot batch: expected a JSON array of events, "
                                                "got %s",
                              json_kind(root));
    json_object_put(root);
    return rc;
  }
  size_t n = json_object_array_length(root);
  if (n > max_events) {
    json_object_put(root);
    return fastepost__error_set(FASTEPOST_ETOOBIG,
                                "HubSpot batch of %zu events exceeds the limit of %zu", n,
                                max_events);
  }
  out->events = n ? calloc(n, sizeof *out->events) : NULL;
  if (n && !out->events) {
    json_object_put(root);
    return fastepost__error_oom();
  }
  out->count = n;
  for (size_t i = 0; i < n; i++) {
    fastepost__hs_event *e = &out->events[i];
    e->index = i;
    parse_event(e, json_object_array_get_idx(root, i));
    if (e->error)
      out->bad++;
  }
  json_object_put(root);
  return FASTEPOST_OK;
}

int fastepost__hs_parse_event(fastepost__hs_event *e, const char *json, size_t len) {
  memset(e, 0, sizeof *e);
  json_object *obj = NULL;
  if (parse_json(&obj, json ? json : "", json ? len : 0) == FASTEPOST_OK)
    parse_event(e, obj);
  else
    event_fail(e, FASTEPOST_EPARSE, "the stored payload is not JSON");
  json_object_put(obj);
  return e->error;
}

void fastepost__hs_event_free(fastepost__hs_event *e) { event_free(e); }

/* Length-prefixed, so ("ab","c") and ("a","bc") hash differently; absent differs from "". */
static void key_str(fastepost__buf *b, const char *s) {
  if (s)
    fastepost__buf_printf(b, "%zu:%s;", strlen(s), s);
  else
    fastepost__buf_puts(b, "-;");
}

static void key_int(fastepost__buf *b, const fastepost__hs_int *x) {
  if (x->present)
    fastepost__buf_printf(b, "%lld;", (long long)x->value);
  else
    fastepost__buf_puts(b, "-;");
}

int fastepost__hs_dedup_key(char out[FASTEPOST__HS_KEY_SIZE], const fastepost__hs_event *e) {
  if (!out || !e)
    return fastepost__error_set(FASTEPOST_EINVALID, "HubSpot dedup key: NULL argument");
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&b, "hubspot-event-v1;");
  key_int(&b, &e->app_id);
  key_int(&b, &e->portal_id);
  key_int(&b, &e->subscription_id);
  key_int(&b, &e->event_id);
  key_int(&b, &e->object_id);
  key_int(&b, &e->occurred_at);
  key_str(&b, e->type);
  key_str(&b, e->object_type_id);
  key_str(&b, e->property_name);
  if (b.oom) {
    fastepost__buf_free(&b);
    return FASTEPOST_ENOMEM;
  }
  unsigned char digest[SHA256_LEN];
  fastepost__bytes p = {b.data, b.len};
  int rc = fastepost__sha256(digest, &p, 1);
  fastepost__buf_free(&b);
  if (!rc)
    fastepost__hex(out, digest, SHA256_LEN);
  return rc;
}

