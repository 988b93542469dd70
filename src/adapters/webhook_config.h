/* SPDX-License-Identifier: MIT */
/*
 * The webhook configuration (fastepost/webhook.h, webhook_config.c), private side: what the
 * generic entry, the retry queue and the spool read from it, and the readers every adapter's
 * config_new() uses for its JSON section, so that each key is checked and named alike
 * ("pipedrive.basic_auth[0]: not a string") and no adapter repeats the type checks.
 *
 * Messages name the key path and what was wrong, never a value: a section holds secrets.
 */
#ifndef FASTEPOST_ADAPTERS_WEBHOOK_CONFIG_H
#define FASTEPOST_ADAPTERS_WEBHOOK_CONFIG_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "adapters/adapter.h"

/* ---- the configuration's parts ---------------------------------------------------------------- */

/* What a's config_new() built from cfg's section for a's source, or NULL (no section, or cfg
 * NULL). Borrowed from cfg. */
const void *fastepost__webhook_config_section(const fastepost_webhook_config *cfg, const fastepost__adapter *a);
/* The clock set with fastepost_webhook_config_set_clock(), or NULL (unset, or cfg NULL). */
const fastepost__clock *fastepost__webhook_config_clock(const fastepost_webhook_config *cfg);
/* The spool set with fastepost_webhook_config_set_spool(), or NULL. */
fastepost_spool *fastepost__webhook_config_spool(const fastepost_webhook_config *cfg);

/* ---- readers for config_new() ----------------------------------------------------------------- */
/* `path` is the object's own path ("odoo", "monday.boards.17"); messages add the key to it. Each
 * returns FASTEPOST_OK or FASTEPOST_EINVALID (or FASTEPOST_ENOMEM) with the error set. An
 * absent or JSON null member is "absent". */

/* Every member of obj is one of allowed (NULL-terminated): else "<path>.<key>: unknown key
 * (expected a, b or c)". Also refuses obj when it is not a JSON object ("<path>: not an
 * object"). */
int fastepost__config_keys(const json_object *obj, const char *path, const char *const *allowed);

/* obj[key], an array of non-empty strings, appended (copied) to out in order. Absent: out
 * unchanged, and EINVALID "<path>.<key>: missing" when required. An empty array is refused
 * ("<path>.<key>: empty"): a section that accepts nothing is a mistake, not a way to refuse
 * requests (leave the section out for that). */
int fastepost__config_strings(fastepost__strlist *out, const json_object *obj, const char *path, const char *key,
                              bool required);

/* obj[key], a string (borrowed from obj, may be ""), or *out = NULL when absent (EINVALID
 * "missing" when required). */
int fastepost__config_string(const char **out, const json_object *obj, const char *path, const char *key,
                             bool required);

/* obj[key], true or false; *out unchanged when absent. */
int fastepost__config_bool(bool *out, const json_object *obj, const char *path, const char *key);

/* obj[key], a whole number from min to max; *out unchanged when absent. */
int fastepost__config_uint(uint64_t *out, const json_object *obj, const char *path, const char *key, uint64_t min,
                           uint64_t max);

/* Wipe a list of secrets (keys do not linger in freed memory) and free it. */
void fastepost__config_wipe(fastepost__strlist *secrets);

#endif
