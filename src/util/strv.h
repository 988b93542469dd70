/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the options objects (export, import ...): argument checks and the copied strings
 * and NULL-terminated string lists their setters keep.
 */
#ifndef FASTEPOST_UTIL_STRV_H
#define FASTEPOST_UTIL_STRV_H

#include <stddef.h>

/* FASTEPOST_OK, or FASTEPOST_EINVALID recorded as "<what> is NULL" when p is NULL. */
int fastepost__need(const void *p, const char *what);

/* The start of every fastepost_<module>_options_new(out) (and of other `_new(T **out)`
 * constructors): *out = a zeroed object and FASTEPOST_OK, or FASTEPOST_EINVALID recorded as
 * "<who>: out is NULL", or FASTEPOST_ENOMEM with *out = NULL. A macro rather than a function so
 * that `sizeof **out` keeps the object's own type (a T ** does not convert to void **). Needs
 * <stdlib.h> and internal.h where it is used. */
#define FASTEPOST__OUT_NEW(out, who)                                                               \
  (!(out) ? fastepost__error_set(FASTEPOST_EINVALID, "%s: out is NULL", (who))                     \
          : (*(out) = calloc(1, sizeof **(out))) ? FASTEPOST_OK : fastepost__error_oom())
/* The same for an object that starts as a copy of `init` (a static const defaults value of the
 * object's type), so that the defaults are data next to the struct rather than assignments. */
#define FASTEPOST__OUT_NEW_COPY(out, init, who)                                                    \
  (!(out) ? fastepost__error_set(FASTEPOST_EINVALID, "%s: out is NULL", (who))                     \
          : (*(out) = malloc(sizeof **(out))) ? (**(out) = (init), FASTEPOST_OK)                  \
                                              : fastepost__error_oom())

/* Replace *slot with a copy of s (NULL clears it). FASTEPOST_OK or FASTEPOST_ENOMEM (recorded;
 * *slot unchanged). */
int fastepost__str_set(char **slot, const char *s);

/* Free a NULL-terminated list of strings (and the strings). A no-op on NULL. */
void fastepost__strv_free(char **v);

/* Free the parts of a row list handed to the caller (fastepost_event_list,
 * fastepost_spool_entries): the first nstrings of `strings` (NULL entries allowed) and the
 * array, then `rows`, whose string fields pointed into it. NULLs are no-ops. */
void fastepost__rows_free(void *rows, char **strings, size_t nstrings);

/* A row list handed to the caller, defined once for each (see fastepost/events.h, spool.h): the
 * struct `list` (`count` rows of `row`, whose string fields point into `strings`, `per_row` of
 * them a row; a builder bumps count as it fills rows, so a failure frees what was copied) and
 * its _free (a no-op on NULL), _count and _get (borrowed; NULL past the end). Needs <stdlib.h>. */
#define FASTEPOST__ROW_LIST(list, row, per_row)                                                    \
  struct list {                                                                                    \
    row *rows;                                                                                     \
    char **strings;                                                                                \
    size_t count;                                                                                  \
  };                                                                                               \
  void list##_free(list *l) {                                                                      \
    if (l)                                                                                         \
      fastepost__rows_free(l->rows, l->strings, l->count * (per_row));                             \
    free(l);                                                                                       \
  }                                                                                                \
  size_t list##_count(const list *l) { return l ? l->count : 0; }                                  \
  const row *list##_get(const list *l, size_t i) { return l && i < l->count ? &l->rows[i] : NULL; }

/* fastepost_<module>_options_set_<name>(o, value) for a public enum stored in o->field: the
 * NULL check, the range check (lo..hi, named `what` in the message) and the store. */
#define FASTEPOST__OPTIONS_ENUM_SETTER(module, name, type, field, lo, hi, what)                    \
  fastepost_status fastepost_##module##_options_set_##name(fastepost_##module##_options *o,        \
                                                           type value) {                           \
    int rc = fastepost__need(o, "options") ? FASTEPOST_EINVALID                                    \
                                           : fastepost__enum_check((int)value, lo, hi, what);      \
    if (!rc)                                                                                       \
      o->field = value;                                                                            \
    return rc;                                                                                     \
  }

/* Append a copy of s to the NULL-terminated list *v of *n strings. FASTEPOST_OK, or
 * FASTEPOST_EINVALID for a NULL s (named `what`), or FASTEPOST_ENOMEM (recorded; list
 * unchanged). Free the list with fastepost__strv_free(). */
int fastepost__strv_push(char ***v, size_t *n, const char *s, const char *what);

/* Find name (case-insensitive) among names[0..count): *out = its index and FASTEPOST_OK, else
 * FASTEPOST_EINVALID recorded as "unknown <what> '<name>' (use <choices>)". */
int fastepost__enum_parse(int *out, const char *name, const char *const *names, int count,
                          const char *what, const char *choices);
/* FASTEPOST_OK when lo <= value <= hi, else FASTEPOST_EINVALID recorded as "unknown <what> <value>":
 * the check every setter taking a public enum makes, since C lets any int through. */
int fastepost__enum_check(int value, int lo, int hi, const char *what);
/* names[value], or "" when value is out of range. */
const char *fastepost__enum_name(int value, const char *const *names, int count);

/* `type`_name() and `type`_parse() of a public enum whose values 0..n-1 are named, in order and
 * with no aliases, by the static array `names` of n strings (`what` and `choices` as for
 * fastepost__enum_parse). */
#define FASTEPOST__ENUM_NAMES(type, names, what, choices)                                           \
  const char *type##_name(type value) {                                                            \
    return fastepost__enum_name((int)value, names, (int)(sizeof names / sizeof names[0]));         \
  }                                                                                                \
  fastepost_status type##_parse(type *out, const char *name) {                                     \
    int i = 0;                                                                                     \
    int rc = fastepost__enum_parse(&i, name, names, (int)(sizeof names / sizeof names[0]), what,   \
                                   choices);                                                       \
    if (!rc)                                                                                       \
      *out = (type)i;                                                                              \
    return rc;                                                                                     \
  }

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
