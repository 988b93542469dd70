/* SPDX-License-Identifier: MIT */
/* Import options, the report and its error list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import/importer.h"
#include "util/strv.h"

static const fastepost_import_options defaults; /* all zero: see fastepost_import_options_new() */

const fastepost_import_options *fastepost__import_defaults(void) { return &defaults; }

fastepost_status fastepost_import_options_new(fastepost_import_options **out) {
  return FASTEPOST__OUT_NEW(out, "fastepost_import_options_new");
}

void fastepost_import_options_free(fastepost_import_options *o) {
  if (!o)
    return;
  free(o->key);
  fastepost__strv_free(o->schemas);
  free(o);
}

#define need fastepost__need

/* Setters of plain fields: only the options are checked. */
#define SETTER(what, type, field)                                                                  \
  fastepost_status fastepost_import_options_set_##what(fastepost_import_options *o, type value) {   \
    if (need(o, "options"))                                                                        \
      return FASTEPOST_EINVALID;                                                                   \
    o->field = value;                                                                              \
    return FASTEPOST_OK;                                                                           \
  }
SETTER(dry_run, int, dry_run)           /* nonzero: roll back at the end */
SETTER(max_errors, size_t, max_errors)  /* 0: FASTEPOST_IMPORT_DEFAULT_MAX_ERRORS */
SETTER(max_field, size_t, max_field)    /* 0: FASTEPOST_IMPORT_DEFAULT_MAX_FIELD */

FASTEPOST__OPTIONS_ENUM_SETTER(import, conflict, fastepost_import_conflict, on_conflict,
                               FASTEPOST_IMPORT_CONFLICT_ERROR, FASTEPOST_IMPORT_CONFLICT_UPDATE,
                               "conflict mode")

fastepost_status fastepost_import_options_set_key(fastepost_import_options *o, const char *key) {
  return need(o, "options") ? FASTEPOST_EINVALID : fastepost__str_set(&o->key, key);
}

FASTEPOST__OPTIONS_SCHEMAS_AND_PROGRESS(import)

static const char *const conflict_names[] = {"error", "skip", "update"};

FASTEPOST__ENUM_NAMES(fastepost_import_conflict, conflict_names, "conflict mode", "error, skip or update")

/* ---- report --------------------------------------------------------------------------------- */

void fastepost_import_report_free(fastepost_import_report *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->nerrors; i++) {
    free((char *)(uintptr_t)r->errors[i].column);
    free((char *)(uintptr_t)r->errors[i].value);
    free((char *)(uintptr_t)r->errors[i].reason);
  }
  free(r->errors);
  free(r);
}

#define GETTER(type, name, expr)                                                                   \
  type fastepost_import_report_##name(const fastepost_import_report *r) { return r ? (expr) : 0; }
GETTER(uint64_t, rows_read, r->rows_read)
GETTER(uint64_t, rows_inserted, r->inserted)
GETTER(uint64_t, rows_updated, r->updated)
GETTER(uint64_t, rows_skipped, r->skipped)
GETTER(uint64_t, rows_written, r->written)
GETTER(uint64_t, bytes_read, r->bytes)
GETTER(int, dry_run, r->dry_run)
GETTER(uint64_t, error_total, r->error_total)
GETTER(int, errors_complete, r->complete)
GETTER(size_t, error_count, r->nerrors)

const fastepost_import_error *fastepost_import_report_error(const fastepost_import_report *r,
                                                            size_t i) {
  return r && i < r->nerrors ? &r->errors[i] : NULL;
}


int fastepost__import_add_error(importer *im, int code, uint64_t line, const char *column,
                                const char *value, size_t vlen, const char *fmt, ...) {
  fastepost_import_report *r = im->rep;
  r->error_total++;
  if (im->status == FASTEPOST_OK)
    im->status = code;
  if (r->nerrors >= r->max_errors)
    return FASTEPOST_OK;
  if (!r->errors && !(r->errors = calloc(r->max_errors, sizeof *r->errors)))
    return fastepost__error_oom();
  char preview[64] = "", reason[512];
  if (value)
    fastepost__preview(preview, sizeof preview, value, vlen);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  fastepost_import_error *e = &r->errors[r->nerrors];
  e->line = line;
  e->column = fastepost__strdup(column ? column : "");
  e->value = fastepost__strdup(preview);
  e->reason = fastepost__strdup(reason);
  if (!e->column || !e->value || !e->reason) {
    free((char *)(uintptr_t)e->column);
    free((char *)(uintptr_t)e->value);
    free((char *)(uintptr_t)e->reason);
    return FASTEPOST_ENOMEM;
  }
  r->nerrors++;
  return FASTEPOST_OK;
}

fastepost_import_report *fastepost__import_new_report(const fastepost_import_options *o) {
  fastepost_import_report *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->complete = 1;
  r->dry_run = o && o->dry_run;
  r->max_errors = o && o->max_errors ? o->max_errors : FASTEPOST_IMPORT_DEFAULT_MAX_ERRORS;
  return r;
}

