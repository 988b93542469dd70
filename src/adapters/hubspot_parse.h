/* SPDX-License-Identifier: MIT */
/*
 * HubSpot batch parsing: a webhook body (a JSON array of events) into plain C records, with
 * no database involved, plus the deduplication key of an event. Private; implemented in
 * hubspot_parse.c; hubspot.c maps the events to sync records (adapter.h).
 */
#ifndef FASTEPOST_ADAPTERS_HUBSPOT_PARSE_H
#define FASTEPOST_ADAPTERS_HUBSPOT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* HubSpot's documented batch limit ("up to 100 events"). */
#define FASTEPOST__HS_DEFAULT_MAX_EVENTS 100

/* An optional integer field: `present` is false when the key was absent or null. */
typedef struct fastepost__hs_int {
  bool present;
  int64_t value;
} fastepost__hs_int;

/* One event of a batch. Strings are owned by the batch; NULL when absent (or JSON null). */
typedef struct fastepost__hs_event {
  size_t index;          /* position in the batch, from 0 */
  int error;             /* FASTEPOST_OK, or the code why this event cannot be used */
  char *error_message;   /* NULL when error == FASTEPOST_OK: "event 3: occurredAt must be ..." */

  char *type;            /* subscriptionType, else eventType: "contact.propertyChange" */
  char *object_type;     /* "contact", "company" ... from the type's prefix, or from
                          * objectTypeId for the generic "object.*" format; NULL if unknown */
  char *action;          /* what follows the dot: "creation", "propertyChange" ... */
  char *object_type_id;  /* generic format only: "0-1" */
  fastepost__hs_int object_id;
  char *property_name;
  char *property_value;
  char *change_source;
  fastepost__hs_int occurred_at;     /* ms since the epoch */
  fastepost__hs_int event_id;        /* not unique on its own, says HubSpot */
  fastepost__hs_int subscription_id;
  fastepost__hs_int portal_id;
  fastepost__hs_int app_id;
  fastepost__hs_int attempt_number;  /* from 0; not part of the dedup key */
  /* contact.merge */
  fastepost__hs_int primary_object_id;
  fastepost__hs_int new_object_id;
  int64_t *merged_object_ids;
  size_t merged_count;

  char *json;            /* the event object as compact JSON, for the event log's payload */
} fastepost__hs_event;

typedef struct fastepost__hs_batch {
  fastepost__hs_event *events;
  size_t count;
  size_t bad;            /* how many events have error != FASTEPOST_OK */
} fastepost__hs_batch;

/*
 * Parse a batch body. The whole batch fails when the body is not valid UTF-8 or not JSON
 * (FASTEPOST_EPARSE, with the byte offset), not an array (FASTEPOST_EPARSE) or holds more than
 * max_events events (FASTEPOST_ETOOBIG; max_events 0 means the default of 100). Otherwise it
 * succeeds, and each event that is not usable (not an object, a required field missing, a field
 * of the wrong type) carries its own error and message while the others are complete:
 * required are a type (subscriptionType or eventType), objectId and occurredAt.
 * On success *out must be released with fastepost__hs_batch_free(); on failure it is empty.
 */
int fastepost__hs_parse_batch(fastepost__hs_batch *out, const char *body, size_t len,
                              size_t max_events);
void fastepost__hs_batch_free(fastepost__hs_batch *batch);

/* Length of a dedup key: SHA-256 as lowercase hex, NUL-terminated. */
#define FASTEPOST__HS_KEY_SIZE 65

/*
 * The deduplication key of an event: lowercase hex SHA-256 over appId, portalId,
 * subscriptionId, eventId, objectId, occurredAt, the type (with objectTypeId for the generic
 * format) and propertyName, each length-prefixed so that no two field lists collide. Not over
 * attemptNumber, so a retry of the same event has the same key.
 */
int fastepost__hs_dedup_key(char out[FASTEPOST__HS_KEY_SIZE], const fastepost__hs_event *event);

/* Parse one event object (a stored payload) into *e; its error (FASTEPOST_OK when usable) is
 * returned and kept in e->error. Release with fastepost__hs_event_free(). */
int fastepost__hs_parse_event(fastepost__hs_event *e, const char *json, size_t len);
void fastepost__hs_event_free(fastepost__hs_event *e);

#endif
