/*
 * Helpers of the options objects (export, import ...): argument checks and the copied strings
 * and NULL-terminated string lists their setters keep.
 */
#ifndef FASTEPOST_UTIL_STRV_H
#define FASTEPOST_UTIL_STRV_H

#include <stddef.h>

/* FASTEPOST_OK, or FASTEPOST_EINVALID recorded as "<what> is NULL" when p is NULL. */
int fastepost__need(const void *p, const char *what);

/* Replace *slot with a copy of s (NULL clears it). FASTEPOST_OK or FASTEPOST_ENOMEM (recorded;
 * *slot unchanged). */
int fastepost__str_set(char **slot, const char *s);

/* Free a NULL-terminated list of strings (and the strings). A no-op on NULL. */
void fastepost__strv_free(char **v);

/* Append a copy of s to the NULL-terminated list *v of *n strings. FASTEPOST_OK, or
 * FASTEPOST_EINVALID for a NULL s (named `what`), or FASTEPOST_ENOMEM (recorded; list
 * unchanged). Free the list with fastepost__strv_free(). */
int fastepost__strv_push(char ***v, size_t *n, const char *s, const char *what);

/* Find name (case-insensitive) among names[0..count): *out = its index and FASTEPOST_OK, else
 * FASTEPOST_EINVALID recorded as "unknown <what> '<name>' (use <choices>)". */
int fastepost__enum_parse(int *out, const char *name, const char *const *names, int count,
                          const char *what, const char *choices);
/* names[value], or "" when value is out of range. */
const char *fastepost__enum_name(int value, const char *const *names, int count);

/* The setters every options object with a schema allow-list and a progress callback has
 * (fastepost_<module>_options_add_schema / _set_progress, see export.h and import.h): fields
 * `char **schemas; size_t nschemas; fastepost_progress_cb progress; void *progress_payload`. */
#define FASTEPOST__OPTIONS_SCHEMAS_AND_PROGRESS(module)                                            \
  fastepost_status fastepost_##module##_options_add_schema(fastepost_##module##_options *o,        \
                                                           const char *schema) {                   \
    return fastepost__need(o, "options")                                                           \
               ? FASTEPOST_EINVALID                                                                \
               : fastepost__strv_push(&o->schemas, &o->nschemas, schema, "schema");                \
  }                                                                                                \
  fastepost_status fastepost_##module##_options_set_progress(fastepost_##module##_options *o,      \
                                                             fastepost_progress_cb cb,             \
                                                             void *payload) {                      \
    if (fastepost__need(o, "options"))                                                             \
      return FASTEPOST_EINVALID;                                                                   \
    o->progress = cb;                                                                              \
    o->progress_payload = payload;                                                                 \
    return FASTEPOST_OK;                                                                           \
  }

#endif
