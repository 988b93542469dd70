/* SPDX-License-Identifier: MIT */
/* The Odoo payload extractor (parse, locate the record, normalise), without a database: no
 * input may crash it, and a usable record carries everything the sync core needs. The first
 * byte picks the options (form body, event hint), the rest is the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "adapters/odoo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *const hints[] = {NULL, "create", "write", "unlink", "archive"};
  unsigned sel = size ? data[0] : 0;
  const char *body = size ? (const char *)data + 1 : "";
  size_t len = size ? size - 1 : 0;
  fastepost_odoo_options *opts = NULL;
  if (fastepost_odoo_options_new(&opts) != FASTEPOST_OK)
    return 0;
  if (sel & 1)
    fastepost_odoo_options_set_content_type(opts, "application/x-www-form-urlencoded");
  fastepost_odoo_options_set_event(opts, hints[(sel >> 1) % 5]);
  fastepost__sync_record rec;
  fastepost__sync_record_init(&rec, "odoo");
  int rc = fastepost__odoo_extract(&rec, body, len, opts);
  if (rc == FASTEPOST_OK) {
    /* A record without a model is "ignored" (logged, nothing applied), not a failure. */
    if (!rec.event_type || (!rec.model && !rec.ignore_reason) || rec.failure)
      abort();
    if (rec.payload && !fastepost__utf8_valid(rec.payload, strlen(rec.payload), NULL))
      abort();
  } else if (rec.failure != rc || !rec.failure_message) {
    abort();
  }
  fastepost__sync_record_clear(&rec);
  fastepost_odoo_options_free(opts);
  return 0;
}
