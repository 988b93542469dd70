/* SPDX-License-Identifier: MIT */
/*
 * Test helpers for the Pipedrive adapter (tests/unit/pipedrive.c, tests/db/pipedrive_process.c):
 * fixtures, the adapter's configuration from JSON, HTTP Basic headers and edited bodies.
 * Header-only; every function is static.
 */
#ifndef FASTEPOST_TEST_PIPEDRIVE_REQUEST_H
#define FASTEPOST_TEST_PIPEDRIVE_REQUEST_H

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/adapter.h"
#include "testdb.h"

#define PD (&fastepost__pipedrive_adapter)

/* A fixture of tests/fixtures/pipedrive/ (malloc'd, NUL-terminated). */
static inline char *pdtest_fixture(const char *name, size_t *len) {
  char rel[256];
  snprintf(rel, sizeof rel, "tests/fixtures/pipedrive/%s", name);
  return fptest_read_file(fptest_source_path(rel), len);
}

/* The adapter's configuration from a section's JSON text; *rc gets config_new's status. */
static inline void *pdtest_config_rc(const char *section, int *rc) {
  json_object *s = json_tokener_parse(section);
  cr_assert_not_null(s, "bad test JSON: %s", section);
  void *config = NULL;
  *rc = PD->config_new(&config, s);
  json_object_put(s);
  return config;
}

static inline void *pdtest_config(const char *section) {
  int rc;
  void *c = pdtest_config_rc(section, &rc);
  cr_assert_eq(rc, FASTEPOST_OK, "%s", fastepost_error_last()->message);
  return c;
}

/* "Basic " + base64(credentials) (static buffer). */
static inline const char *pdtest_basic(const char *credentials) {
  static char out[8192];
  memcpy(out, "Basic ", 6);
  EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)credentials, (int)strlen(credentials));
  return out;
}

/* A POST with an Authorization header (none when NULL) and a body. */
static inline fastepost_webhook_request *pdtest_request(const char *authorization, const char *body) {
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_uri(req, "https://app.example.com/api/v1/integrations/pipedrive"),
               FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_header(req, "Content-Type", "application/json"), FASTEPOST_OK);
  if (authorization)
    cr_assert_eq(fastepost_webhook_request_set_header(req, "Authorization", authorization), FASTEPOST_OK);
  if (body)
    cr_assert_eq(fastepost_webhook_request_set_body(req, body, strlen(body)), FASTEPOST_OK);
  return req;
}

/* body with member `key` of `section` ("meta", "data", "current" ...; NULL: the top level) set to
 * the JSON value `value` (NULL removes it). Returns a new string (free()). */
static inline char *pdtest_with(const char *body, const char *section, const char *key, const char *value) {
  json_object *root = json_tokener_parse(body);
  cr_assert_not_null(root);
  json_object *target = root;
  if (section)
    cr_assert(json_object_object_get_ex(root, section, &target) && json_object_is_type(target, json_type_object),
              "no object %s", section);
  if (value) {
    json_object *v = json_tokener_parse(value);
    cr_assert(v || strcmp(value, "null") == 0, "bad test JSON: %s", value);
    json_object_object_add(target, key, v);
  } else {
    json_object_object_del(target, key);
  }
  char *out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
  json_object_put(root);
  return out;
}

#endif
