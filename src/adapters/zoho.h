/* SPDX-License-Identifier: MIT */
/*
 * The Zoho CRM adapter's internals (adapter.h), shared by its files and the unit tests:
 *   zoho.c        the configuration, verification, and the adapter table (reprocess, replay)
 *   zoho_parse.c  a body (JSON or a form) into records: notification callbacks and workflow
 *                 webhooks
 *
 * Zoho delivers two ways, told apart by the body's shape:
 *   - notification callbacks (the Notification API's "watch" channels): JSON with channel_id,
 *     token, operation, module, ids, server_time and, when the channel asks for them,
 *     affected_values; verified by channel_id + token;
 *   - workflow-rule webhooks: JSON or a form whose parameters are field API names (module, id,
 *     First_Name ...); verified by a `token` parameter in the body or the query string.
 * No SQL here.
 */
#ifndef FASTEPOST_ADAPTERS_ZOHO_H
#define FASTEPOST_ADAPTERS_ZOHO_H

#include <json-c/json.h>

#include "adapters/adapter.h"
#include "sync.h"

#define FASTEPOST__ZOHO_SOURCE "zoho"
/* A body larger than this is refused (ETOOBIG) before it is parsed. */
#define FASTEPOST__ZOHO_MAX_BODY (1024 * 1024)
/* More ids than this in one callback is refused (ETOOBIG). */
#define FASTEPOST__ZOHO_MAX_IDS 1000
/* Zoho refuses a channel token longer than this when the channel is subscribed. */
#define FASTEPOST__ZOHO_MAX_CHANNEL_TOKEN 50
/* Nesting deeper than this is not a Zoho body (affected_values is 3 levels deep). */
#define FASTEPOST__ZOHO_MAX_DEPTH 16

/* The "zoho" section of the webhook configuration. Channel i is channel_ids[i] (decimal
 * digits) with channel_tokens[i]; a channel id may repeat (a token being rotated). */
typedef struct fastepost__zoho_config {
  fastepost__strlist channel_ids;
  fastepost__strlist channel_tokens;  /* secrets */
  fastepost__strlist workflow_tokens; /* secrets */
} fastepost__zoho_config;

/* The body's syntax, from its first byte that is not white space: `{` or `[` is JSON,
 * anything else a form. */
typedef enum { FASTEPOST__ZOHO_JSON, FASTEPOST__ZOHO_FORM } fastepost__zoho_syntax;
fastepost__zoho_syntax fastepost__zoho_sniff(const char *body, size_t len);

/* The body as a JSON object (a form becomes an object of strings). FASTEPOST_ETOOBIG beyond
 * FASTEPOST__ZOHO_MAX_BODY; FASTEPOST_EPARSE (with the byte offset) for text that is neither,
 * or JSON that is not an object. *out is a new reference on success, NULL on failure. */
int fastepost__zoho_body(json_object **out, const char *body, size_t len);

/* Whether a body object is a notification callback (it has channel_id or ids) rather than a
 * workflow webhook. */
bool fastepost__zoho_is_callback(const json_object *obj);

/* A body object into records: one per id of a callback, one for a workflow webhook. range:
 * the accepted server_time / Modified_Time (NULL: any time that can be represented). A callback
 * whose envelope is unusable (no ids, no module ...) is FASTEPOST_EINVALID as a whole; an id
 * or time that is unusable makes that record a failed one. */
int fastepost__zoho_records(fastepost__records *out, const json_object *obj, const fastepost__time_range *range,
                            int64_t now_us);

/* A stored payload (what a record's payload holds: a callback narrowed to one record, or a
 * workflow webhook's parameters) into rec (initialised), with no time range. A payload that
 * cannot be used makes rec a failed record. FASTEPOST_ENOMEM only when memory ran out. */
int fastepost__zoho_reparse(fastepost__sync_record *rec, const char *payload, int64_t now_us);

/* Modified_Time ("2026-11-27T20:08:56+05:30", an offset or Z required) as microseconds since
 * the epoch (UTC). A space where the offset's sign belongs is taken for `+` (a form encoder
 * that left `+` unescaped, which decoding turned into a space). false when s is not one. */
bool fastepost__zoho_time(int64_t *us, const char *s);

#endif
