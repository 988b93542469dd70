/* SPDX-License-Identifier: MIT */
/* The Salesforce outbound message parser (util/xml.c under it) over arbitrary bytes: no input
 * may crash it or make it read a DTD; a parsed message is internally consistent (at most 100
 * notifications, each record failed, ignored or fully keyed), verification agrees with parsing
 * on the organisation, and a record's stored form reprocesses into the same record. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/salesforce.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_record(const fastepost__sync_record *r) {
  if ((r->failure != 0) != (r->failure_message != NULL) || !r->event_type)
    abort();
  if (r->failure || r->ignore_reason)
    return;
  if (!r->crm_id || !r->version || !r->idempotency_key || strlen(r->idempotency_key) != 64 || !r->payload ||
      !r->external_id || strcmp(r->crm_id, r->external_id) != 0)
    abort();
  /* The stored form gives the same record back. */
  fastepost__sync_record again;
  fastepost__sync_record_init(&again, "salesforce");
  if (fastepost__salesforce_adapter.reprocess(&again, NULL, r->payload, r->event_type, FASTEPOST__SYNC_SERVER_CLOCK))
    abort();
  if (again.failure || strcmp(again.crm_id, r->crm_id) != 0 || strcmp(again.version, r->version) != 0 ||
      strcmp(again.idempotency_key, r->idempotency_key) != 0 || again.tombstone != r->tombstone)
    abort();
  fastepost__sync_record_clear(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fastepost__records recs = {0};
  int rc = fastepost__salesforce_adapter.parse(&recs, NULL, data, size, FASTEPOST__SYNC_SERVER_CLOCK);
  char org[FASTEPOST__SF_ID_SIZE];
  int vrc = fastepost__sf_organization(org, data, size);
  if (rc == FASTEPOST_OK) {
    if (vrc != FASTEPOST_OK || strlen(org) != 18 || recs.count > FASTEPOST__SF_MAX_NOTIFICATIONS)
      abort();
    for (size_t i = 0; i < recs.count; i++)
      check_record(&recs.items[i]);
    fastepost__records_free(&recs);
  } else if (recs.count || (rc != vrc && rc != FASTEPOST_EINVALID) || rc == FASTEPOST_ENOMEM) {
    abort(); /* refused as a whole: nothing parsed, and for the same reason as verification */
  }
  return 0;
}
