/* SPDX-License-Identifier: MIT */
/* The answer an adapter wants sent (adapter.h: fastepost__response). */
#include <stdlib.h>
#include <string.h>

#include "adapters/adapter.h"

int fastepost__response_set(fastepost__response *r, int http_status, const char *content_type, const void *body,
                            size_t len) {
  char *ct = fastepost__strdup(content_type ? content_type : "");
  char *copy = malloc(len + 1);
  if (!ct || !copy) {
    free(ct);
    free(copy);
    return fastepost__error_oom();
  }
  if (len)
    memcpy(copy, body, len);
  copy[len] = '\0';
  fastepost__response_clear(r);
  r->http_status = http_status;
  r->content_type = ct;
  r->body = copy;
  r->len = len;
  return FASTEPOST_OK;
}

void fastepost__response_clear(fastepost__response *r) {
  if (!r)
    return;
  free(r->content_type);
  free(r->body);
  memset(r, 0, sizeof *r);
}
