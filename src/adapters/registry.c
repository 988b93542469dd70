/* SPDX-License-Identifier: MIT */
/* The one registry of CRM adapters (adapter.h): the retry queue and the spool find a source's
 * adapter here. A new CRM adds one line. */
#include <string.h>

#include "adapters/adapter.h"

static const fastepost__adapter *const adapters[] = {
    &fastepost__odoo_adapter,
    &fastepost__hubspot_adapter,
    &fastepost__pipedrive_adapter,
    &fastepost__monday_adapter,
    &fastepost__salesforce_adapter,
    &fastepost__zoho_adapter,
};
#define NADAPTERS (sizeof adapters / sizeof adapters[0])

const fastepost__adapter *fastepost__adapter_find(const char *source) {
  for (size_t i = 0; source && i < NADAPTERS; i++)
    if (strcmp(adapters[i]->source, source) == 0)
      return adapters[i];
  return NULL;
}

size_t fastepost__adapter_count(void) { return NADAPTERS; }

const fastepost__adapter *fastepost__adapter_at(size_t i) { return i < NADAPTERS ? adapters[i] : NULL; }
