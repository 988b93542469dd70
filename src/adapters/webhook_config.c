/* SPDX-License-Identifier: MIT */
/*
 * The webhook configuration (fastepost/webhook.h): one section per source, each built by its
 * adapter's config_new() from JSON, plus the clock and the spool of the generic entry; and the
 * readers adapters use for their sections (webhook_config.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/webhook_config.h"
#include "internal.h"
#include "util/json.h"

/* Sections nest a few levels (monday.boards.<id>.<column>); anything deeper is not ours. */
#define CONFIG_MAX_DEPTH 16

struct fastepost_webhook_config {
  void **sections; /* one per registered adapter (registry order); NULL: not configured */
  size_t count;
  fastepost__clock clock;
  fastepost_spool *spool; /* borrowed */
};

/* ---- the object -------------------------------------------------------------------------------- */

fastepost_status fastepost_webhook_config_new(fastepost_webhook_config **out) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_webhook_config_new: out is NULL");
  *out = NULL;
  fastepost_webhook_config *cfg = calloc(1, sizeof *cfg);
  size_t n = fastepost__adapter_count();
  if (cfg && !(cfg->sections = calloc(n ? n : 1, sizeof *cfg->sections))) {
    free(cfg);
    cfg = NULL;
  }
  if (!cfg)
    return fastepost__error_oom();
  cfg->count = n;
  *out = cfg;
  return FASTEPOST_OK;
}

/* Release the sections of an array (registry order), each with its adapter's config_free. */
static void free_sections(void **sections, size_t n) {
  for (size_t i = 0; sections && i < n; i++)
    if (sections[i] && fastepost__adapter_at(i)->config_free)
      fastepost__adapter_at(i)->config_free(sections[i]);
}

void fastepost_webhook_config_free(fastepost_webhook_config *cfg) {
  if (!cfg)
    return;
  free_sections(cfg->sections, cfg->count);
  free(cfg->sections);
  free(cfg);
}

/* The registry position of a source, or -1. */
static long source_index(const char *source) {
  for (size_t i = 0; source && i < fastepost__adapter_count(); i++)
    if (strcmp(fastepost__adapter_at(i)->source, source) == 0)
      return (long)i;
  return -1;
}

fastepost_status fastepost_webhook_config_load_json(fastepost_webhook_config *cfg, const char *json, size_t len) {
  if (!cfg || (!json && len))
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_webhook_config_load_json: %s is NULL",
                                cfg ? "json" : "cfg");
  json_object *root = NULL;
  if (fastepost__json_parse(&root, json ? json : "", len, CONFIG_MAX_DEPTH) != FASTEPOST_OK)
    return fastepost__error_set(FASTEPOST_EINVALID, "webhook configuration: %s", fastepost_error_last()->message);
  if (!json_object_is_type(root, json_type_object)) {
    json_object_put(root);
    return fastepost__error_set(FASTEPOST_EINVALID, "webhook configuration: not a JSON object of source sections");
  }
  /* Build every section first, swap them in only when all are good: on failure cfg is
   * unchanged. */
  void **built = calloc(cfg->count ? cfg->count : 1, sizeof *built);
  bool *present = calloc(cfg->count ? cfg->count : 1, sizeof *present);
  int rc = built && present ? FASTEPOST_OK : fastepost__error_oom();
  json_object_object_foreach(root, source, section) {
    if (rc)
      break;
    long i = source_index(source);
    char preview[64];
    fastepost__preview(preview, sizeof preview, source, strlen(source));
    const fastepost__adapter *a = i >= 0 ? fastepost__adapter_at((size_t)i) : NULL;
    if (!a) {
      rc = fastepost__error_set(FASTEPOST_EINVALID, "webhook configuration: unknown source \"%s\"", preview);
    } else if (!a->config_new) {
      rc = fastepost__error_set(FASTEPOST_EINVALID, "%s: this source cannot be configured in this version", a->source);
    } else if (!json_object_is_type(section, json_type_object)) {
      rc = fastepost__error_set(FASTEPOST_EINVALID, "%s: not an object", a->source);
    } else {
      if (built[i] && a->config_free) /* the same source twice: the last one counts */
        a->config_free(built[i]);
      built[i] = NULL;
      rc = a->config_new(&built[i], section);
      if (rc == FASTEPOST_OK && !built[i])
        rc = fastepost__error_set(FASTEPOST_ERROR, "%s: the adapter built no configuration", a->source);
      present[i] = rc == FASTEPOST_OK;
    }
  }
  json_object_put(root);
  if (rc) {
    char message[512]; /* releasing what was built must not change what is reported */
    snprintf(message, sizeof message, "%s", fastepost_error_last()->message);
    free_sections(built, cfg->count);
    free(built);
    free(present);
    return fastepost__error_set(rc, "%s", message);
  }
  for (size_t i = 0; i < cfg->count; i++)
    if (present[i]) {
      if (cfg->sections[i] && fastepost__adapter_at(i)->config_free)
        fastepost__adapter_at(i)->config_free(cfg->sections[i]);
      cfg->sections[i] = built[i];
    }
  free(built);
  free(present);
  fastepost_error_clear();
  return FASTEPOST_OK;
}

int fastepost_webhook_config_has_source(const fastepost_webhook_config *cfg, const char *source) {
  long i = cfg ? source_index(source) : -1;
  return i >= 0 && cfg->sections[i] != NULL;
}

fastepost_status fastepost_webhook_config_set_clock(fastepost_webhook_config *cfg, fastepost_clock_fn clock,
                                                    void *payload) {
  return fastepost__clock_set(cfg ? &cfg->clock : NULL, clock, payload, "fastepost_webhook_config_set_clock");
}

fastepost_status fastepost_webhook_config_set_spool(fastepost_webhook_config *cfg, fastepost_spool *spool) {
  if (!cfg)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_webhook_config_set_spool: cfg is NULL");
  cfg->spool = spool;
  return FASTEPOST_OK;
}

const void *fastepost__webhook_config_section(const fastepost_webhook_config *cfg, const fastepost__adapter *a) {
  for (size_t i = 0; cfg && a && i < cfg->count; i++)
    if (fastepost__adapter_at(i) == a)
      return cfg->sections[i];
  return NULL;
}

const fastepost__clock *fastepost__webhook_config_clock(const fastepost_webhook_config *cfg) {
  return cfg && cfg->clock.fn ? &cfg->clock : NULL;
}

fastepost_spool *fastepost__webhook_config_spool(const fastepost_webhook_config *cfg) {
  return cfg ? cfg->spool : NULL;
}

/* ---- readers for config_new() --------------------------------------------------------------- */

/* A key for a message: bounded and escaped (a key is the caller's text, not ours). */
static void key_preview(char *out, size_t size, const char *key) { fastepost__preview(out, size, key, strlen(key)); }

int fastepost__config_keys(const json_object *obj, const char *path, const char *const *allowed) {
  if (!json_object_is_type(obj, json_type_object))
    return fastepost__error_set(FASTEPOST_EINVALID, "%s: not an object", path);
  json_object_object_foreach((json_object *)(uintptr_t)obj, key, value) {
    (void)value;
    bool known = false;
    for (size_t i = 0; allowed[i] && !known; i++)
      known = strcmp(allowed[i], key) == 0;
    if (known)
      continue;
    fastepost__buf expected = FASTEPOST__BUF_INIT;
    for (size_t i = 0; allowed[i]; i++)
      fastepost__buf_printf(&expected, "%s%s", i == 0 ? "" : allowed[i + 1] ? ", " : " or ", allowed[i]);
    char k[64];
    key_preview(k, sizeof k, key);
    int rc = fastepost__error_set(FASTEPOST_EINVALID, "%s.%s: unknown key (expected %s)", path, k,
                                  allowed[0] ? fastepost__buf_cstr(&expected) : "none");
    fastepost__buf_free(&expected);
    return rc;
  }
  return FASTEPOST_OK;
}

/* obj[key] when present and not null, else NULL (and EINVALID "missing" when required). */
static int member(json_object **out, const json_object *obj, const char *path, const char *key, bool required) {
  *out = fastepost__json_get(obj, key);
  if (!*out && required)
    return fastepost__error_set(FASTEPOST_EINVALID, "%s.%s: missing", path, key);
  return FASTEPOST_OK;
}

/* member() of JSON type t: another type is EINVALID "not <what>". */
static int typed_member(json_object **out, const json_object *obj, const char *path, const char *key, bool required,
                        json_type t, const char *what) {
  int rc = member(out, obj, path, key, required);
  if (!rc && *out && !json_object_is_type(*out, t))
    rc = fastepost__error_set(FASTEPOST_EINVALID, "%s.%s: not %s", path, key, what);
  return rc;
}

int fastepost__config_strings(fastepost__strlist *out, const json_object *obj, const char *path, const char *key,
                              bool required) {
  json_object *v;
  int rc = typed_member(&v, obj, path, key, required, json_type_array, "an array of strings");
  if (rc || !v)
    return rc;
  size_t n = json_object_array_length(v);
  if (!n)
    return fastepost__error_set(FASTEPOST_EINVALID, "%s.%s: empty (give at least one, or leave the section out)",
                                path, key);
  for (size_t i = 0; i < n; i++) {
    json_object *item = json_object_array_get_idx(v, i);
    if (!json_object_is_type(item, json_type_string))
      return fastepost__error_set(FASTEPOST_EINVALID, "%s.%s[%zu]: not a string", path, key, i);
    if (json_object_get_string_len(item) == 0)
      return fastepost__error_set(FASTEPOST_EINVALID, "%s.%s[%zu]: empty", path, key, i);
    if ((rc = fastepost__strlist_add(out, json_object_get_string(item))))
      return rc;
  }
  return FASTEPOST_OK;
}

int fastepost__config_string(const char **out, const json_object *obj, const char *path, const char *key,
                             bool required) {
  json_object *v;
  *out = NULL;
  int rc = typed_member(&v, obj, path, key, required, json_type_string, "a string");
  if (rc || !v)
    return rc;
  *out = json_object_get_string(v);
  return FASTEPOST_OK;
}

int fastepost__config_bool(bool *out, const json_object *obj, const char *path, const char *key) {
  json_object *v;
  int rc = typed_member(&v, obj, path, key, false, json_type_boolean, "true or false");
  if (rc || !v)
    return rc;
  *out = json_object_get_boolean(v);
  return FASTEPOST_OK;
}

int fastepost__config_uint(uint64_t *out, const json_object *obj, const char *path, const char *key, uint64_t min,
                           uint64_t max) {
  json_object *v;
  int rc = member(&v, obj, path, key, false);
  if (rc || !v)
    return rc;
  /* json-c reads 1e3 and 1.5 as doubles and clamps huge integers: only plain integers count. */
  int64_t n = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
  if (n < 0 || n == INT64_MAX || (uint64_t)n < min || (uint64_t)n > max)
    return fastepost__error_set(FASTEPOST_EINVALID, "%s.%s: not a whole number from %llu to %llu", path, key,
                                (unsigned long long)min, (unsigned long long)max);
  *out = (uint64_t)n;
  return FASTEPOST_OK;
}

void fastepost__config_wipe(fastepost__strlist *secrets) {
  for (size_t i = 0; i < secrets->count; i++)
    for (volatile char *p = secrets->items[i]; *p; p++)
      *p = 0;
  fastepost__strlist_free(secrets);
}
