/* SPDX-License-Identifier: MIT */
/*
 * JSON helpers over json-c, shared by the CRM adapters: a guarded parser (size already checked
 * by the caller, UTF-8 checked first, nesting depth limited, errors with a byte offset) and a
 * canonical serialisation (sorted keys, no insignificant whitespace) used for idempotency keys
 * and for the payload stored in integration_events.
 */
#ifndef FASTEPOST_UTIL_JSON_H
#define FASTEPOST_UTIL_JSON_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

/* Default nesting limit: Odoo bodies are 2-4 levels deep; 32 leaves room for wrappers. */
#define FASTEPOST__JSON_DEFAULT_DEPTH 32

/*
 * Check that [s, s+len) is exactly one JSON value by RFC 8259, strictly (json-c, even in strict
 * mode, accepts single-quoted strings and some other extensions). The bytes must already be
 * valid UTF-8. With jsonb, also refuse what jsonb cannot store (\u0000). Returns NULL when
 * valid, else a short static reason; *where (if not NULL) gets the byte offset of the problem.
 * No recursion: nesting costs a byte per level.
 */
const char *fastepost__json_check(const char *s, size_t len, bool jsonb, size_t *where);

/*
 * Parse exactly one JSON value from [data, data+len). Fails with FASTEPOST_EPARSE and a message
 * naming the byte offset when the text is not valid UTF-8, not JSON, nested deeper than
 * max_depth, or followed by anything but whitespace. On success *out is a new reference the
 * caller releases with json_object_put().
 */
int fastepost__json_parse(json_object **out, const char *data, size_t len, int max_depth);

/*
 * Append the canonical form of obj to buf: object keys sorted bytewise, no spaces, strings in
 * raw UTF-8 with only the required escapes. U+0000 becomes U+FFFD, since PostgreSQL's jsonb
 * cannot hold it. NULL serialises as null.
 */
int fastepost__json_canonical(fastepost__buf *buf, const json_object *obj);

/* Append s (len bytes) as a JSON string literal, quotes included. */
int fastepost__json_quote(fastepost__buf *buf, const char *s, size_t len);

/* A member of an object, or NULL (also when obj is not an object or the member is null). */
json_object *fastepost__json_get(const json_object *obj, const char *key);

#endif
