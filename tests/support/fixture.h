/* SPDX-License-Identifier: MIT */
/* Test helpers for webhook sources: a fixture file, and a request as a host would build it. */
#ifndef FASTEPOST_TEST_FIXTURE_H
#define FASTEPOST_TEST_FIXTURE_H

#include <stdio.h>

#include "testdb.h"

/* A file of tests/fixtures/<source>/ read whole (NUL-terminated; *len, when not NULL, gets its
 * size). Fails the test when it cannot be read. Free with free(). */
static inline char *fptest_fixture(const char *source, const char *name, size_t *len) {
  char rel[256];
  snprintf(rel, sizeof rel, "tests/fixtures/%s/%s", source, name);
  size_t n = 0;
  char *s = fptest_read_file(fptest_source_path(rel), &n);
  cr_assert_not_null(s, "fixture %s", rel);
  if (len)
    *len = n;
  return s;
}

/* A POST request to uri with the body and, when ct is not NULL, that Content-Type. Free with
 * fastepost_webhook_request_free(). */
static inline fastepost_webhook_request *fptest_webhook_request(const char *uri, const char *ct, const void *body,
                                                                size_t len) {
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_uri(req, uri), FASTEPOST_OK);
  if (ct)
    cr_assert_eq(fastepost_webhook_request_set_header(req, "Content-Type", ct), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_body(req, body, len), FASTEPOST_OK);
  return req;
}

#endif
