/* SPDX-License-Identifier: MIT */
/* Options helpers (see strv.h). */
#include "util/strv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

int fastepost__enum_check(int value, int lo, int hi, const char *what) {
  return value >= lo && value <= hi
             ? FASTEPOST_OK
             : fastepost__error_set(FASTEPOST_EINVALID, "unknown %s %d", what, value);
}

void fastepost__rows_free(void *rows, char **strings, size_t nstrings) {
  for (size_t i = 0; strings && i < nstrings; i++)
    free(strings[i]);
  free(strings);
  free(rows);
}

int fastepost__need(const void *p, const char *what) {
  return p ? FASTEPOST_OK : fastepost__error_set(FASTEPOST_EINVALID, "%s is NULL", what);
}

int fastepost__str_set(char **slot, const char *s) {
  char *copy = NULL;
  if (s && !(copy = fastepost__strdup(s)))
    return FASTEPOST_ENOMEM;
  free(*slot);
  *slot = copy;
  return FASTEPOST_OK;
}

void fastepost__strv_free(char **v) {
  if (!v)
    return;
  for (char **p = v; *p; p++)
    free(*p);
  free(v);
}

int fastepost__strv_push(char ***v, size_t *n, const char *s, const char *what) {
  if (fastepost__need(s, what))
    return FASTEPOST_EINVALID;
  char *copy = fastepost__strdup(s);
  char **grown = copy ? realloc(*v, (*n + 2) * sizeof *grown) : NULL;
  if (!grown) {
    free(copy);
    return fastepost__error_oom();
  }
  grown[(*n)++] = copy;
  grown[*n] = NULL;
  *v = grown;
  return FASTEPOST_OK;
}

int fastepost__enum_parse(int *out, const char *name, const char *const *names, int count,
                          const char *what, const char *choices) {
  if (fastepost__need(out, "out") || fastepost__need(name, what))
    return FASTEPOST_EINVALID;
  for (int i = 0; i < count; i++)
    if (strcasecmp(names[i], name) == 0) {
      *out = i;
      return FASTEPOST_OK;
    }
  char preview[64];
  fastepost__preview(preview, sizeof preview, name, strlen(name));
  return fastepost__error_set(FASTEPOST_EINVALID, "unknown %s '%s' (use %s)", what, preview, choices);
}

const char *fastepost__enum_name(int value, const char *const *names, int count) {
  return value >= 0 && value < count ? names[value] : "";
}
