/* SPDX-License-Identifier: MIT */
/*
 * Check a JSON document (the CLI's --json) against a section of tests/report/shapes.txt: the
 * same paths, and each value of a type the file allows. The bindings' tests check their
 * to_dict() / to_h against the same file, so all three agree (issue 14, item 7).
 */
#ifndef FASTEPOST_TEST_SHAPE_H
#define FASTEPOST_TEST_SHAPE_H

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHAPE_MAX 128

typedef struct shape {
  char path[SHAPE_MAX][256];
  char types[SHAPE_MAX][256];
  size_t n;
} shape;

static const char *shape_type(json_object *v) {
  switch (json_object_get_type(v)) {
  case json_type_null: return "null";
  case json_type_boolean: return "bool";
  case json_type_double: return "float";
  case json_type_int: return "int";
  case json_type_object: return "dict";
  case json_type_array: return "list";
  case json_type_string: return "str";
  }
  return "?";
}

/* Add a path's observed type ("int") to s, once per (path, type). */
static void shape_add(shape *s, const char *path, const char *type) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->path[i], path) == 0) {
      if (!strstr(s->types[i], type)) {
        size_t len = strlen(s->types[i]);
        snprintf(s->types[i] + len, sizeof s->types[i] - len, "|%s", type);
      }
      return;
    }
  cr_assert_lt(s->n, SHAPE_MAX);
  snprintf(s->path[s->n], sizeof s->path[0], "%s", path);
  snprintf(s->types[s->n], sizeof s->types[0], "%s", type);
  s->n++;
}

static void shape_walk(shape *s, const char *prefix, json_object *v) {
  if (json_object_is_type(v, json_type_object)) {
    json_object_object_foreach(v, key, child) {
      char path[256];
      snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key);
      shape_add(s, path, shape_type(child));
      shape_walk(s, path, child);
    }
  } else if (json_object_is_type(v, json_type_array)) {
    char path[256];
    snprintf(path, sizeof path, "%s[]", prefix);
    for (size_t i = 0; i < json_object_array_length(v); i++) {
      json_object *child = json_object_array_get_idx(v, i);
      shape_add(s, path, shape_type(child));
      shape_walk(s, path, child);
    }
  }
}

/* Read [section] of tests/report/shapes.txt. */
static void shape_read(shape *s, const char *section) {
  char file[1024], line[200], want[64];
  const char *src = getenv("FASTEPOST_SOURCE_DIR");
  cr_assert_not_null(src, "FASTEPOST_SOURCE_DIR is not set (run through ctest)");
  snprintf(file, sizeof file, "%s/tests/report/shapes.txt", src);
  snprintf(want, sizeof want, "[%s]", section);
  FILE *f = fopen(file, "r");
  cr_assert_not_null(f, "%s", file);
  bool in = false;
  s->n = 0;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '[') {
      in = strcmp(line, want) == 0;
    } else if (in && line[0] && line[0] != '#') {
      char *sp = strchr(line, ' ');
      cr_assert_not_null(sp, "%s", line);
      *sp = '\0';
      cr_assert_lt(s->n, SHAPE_MAX);
      snprintf(s->path[s->n], sizeof s->path[0], "%s", line);
      snprintf(s->types[s->n], sizeof s->types[0], "%s", sp + 1);
      s->n++;
    }
  }
  fclose(f);
  cr_assert_gt(s->n, 0, "no section %s in %s", want, file);
}

/* The document has exactly the section's paths, each with allowed types only. */
static void shape_check(const char *json, const char *section) {
  json_object *doc = json_tokener_parse(json);
  cr_assert_not_null(doc, "not JSON: %s", json);
  static shape want, got;
  shape_read(&want, section);
  got.n = 0;
  shape_walk(&got, "", doc);
  json_object_put(doc);
  for (size_t i = 0; i < got.n; i++) {
    size_t k = 0;
    while (k < want.n && strcmp(want.path[k], got.path[i]) != 0)
      k++;
    cr_assert_lt(k, want.n, "[%s] %s is not in shapes.txt", section, got.path[i]);
    char types[256];
    snprintf(types, sizeof types, "%s", got.types[i]);
    for (char *t = strtok(types, "|"); t; t = strtok(NULL, "|")) {
      char allowed[300];
      snprintf(allowed, sizeof allowed, "|%s|", want.types[k]);
      char needle[300];
      snprintf(needle, sizeof needle, "|%s|", t);
      cr_assert(strstr(allowed, needle), "[%s] %s is %s, shapes.txt allows %s", section, got.path[i], t,
                want.types[k]);
    }
  }
  for (size_t k = 0; k < want.n; k++) {
    size_t i = 0;
    while (i < got.n && strcmp(want.path[k], got.path[i]) != 0)
      i++;
    cr_assert_lt(i, got.n, "[%s] %s missing from the output", section, want.path[k]);
  }
}

#endif
