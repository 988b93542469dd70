/* SPDX-License-Identifier: MIT */
/*
 * application/x-www-form-urlencoded text (a form body, a URI's query string) decoded strictly:
 * `+` is a space, `%XX` a byte, and anything else that is not a valid encoding is refused rather
 * than guessed at (a lone `%`, `%4`, `%zz`), as are decoded bytes that are not UTF-8 or hold
 * NUL (PostgreSQL text cannot). Bounded: the number of parameters and the length of a name.
 * Used by the Zoho adapter (workflow webhooks, the token in the query string).
 */
#ifndef FASTEPOST_UTIL_FORM_H
#define FASTEPOST_UTIL_FORM_H

#include <json-c/json.h>
#include <stddef.h>

#include "internal.h"

/* More parameters than this is not a webhook. */
#define FASTEPOST__FORM_MAX_PAIRS 1000
/* A parameter name longer than this is not a field name. */
#define FASTEPOST__FORM_MAX_NAME 256

/* Called with each decoded pair in order (NUL-terminated copies, valid during the call; a pair
 * without `=` has the value ""). A non-zero return stops the walk and is returned. */
typedef int (*fastepost__form_fn)(void *payload, const char *name, const char *value);

/*
 * Walk the pairs of s (len bytes, not NUL-terminated; parameters separated by `&`, empty ones
 * skipped). FASTEPOST_EPARSE naming the byte offset for an invalid escape, invalid UTF-8, a NUL
 * byte or an empty name; FASTEPOST_ETOOBIG beyond FASTEPOST__FORM_MAX_PAIRS parameters or a name
 * beyond FASTEPOST__FORM_MAX_NAME bytes; FASTEPOST_ENOMEM; or what fn returned.
 */
int fastepost__form_each(const char *s, size_t len, fastepost__form_fn fn, void *payload);

/* The pairs as a JSON object of strings. A name given twice is FASTEPOST_EPARSE (which value
 * counts would be a guess); otherwise the codes of fastepost__form_each(). On success *out is a
 * new reference (json_object_put()); on failure NULL. */
int fastepost__form_to_json(json_object **out, const char *s, size_t len);

/*
 * The query string of a URI (after the first `?`, up to a `#`): [*query, *query + *len).
 * false when the URI has none (then *len is 0).
 */
bool fastepost__form_query(const char *uri, const char **query, size_t *len);

#endif
