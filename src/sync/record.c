/* SPDX-License-Identifier: MIT */
/* The sync record's owned data: string lists, facts, and the literals built from them. */
#include "sync_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fastepost__strlist_add(fastepost__strlist *list, const char *s) {
  char *copy = fastepost__strdup(s);
  if (!copy)
    return FASTEPOST_ENOMEM;
  char **items = realloc(list->items, (list->count + 1) * sizeof *items);
  if (!items) {
    free(copy);
    return fastepost__error_oom();
  }
  items[list->count++] = copy;
  list->items = items;
  return FASTEPOST_OK;
}

int fastepost__strlist_addf(fastepost__strlist *list, const char *fmt, ...) {
  char text[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  return fastepost__strlist_add(list, text);
}

void fastepost__strlist_free(fastepost__strlist *list) {
  for (size_t i = 0; i < list->count; i++)
    free(list->items[i]);
  free(list->items);
  list->items = NULL;
  list->count = 0;
}

void fastepost__strlist_truncate(fastepost__strlist *list, size_t count) {
  while (list->count > count)
    free(list->items[--list->count]);
}

void fastepost__sync_record_init(fastepost__sync_record *rec, const char *source) {
  memset(rec, 0, sizeof *rec);
  rec->source = source;
  rec->facts.active = -1;
}

static void fact_clear(fastepost__fact *f) {
  free(f->value);
  f->value = NULL;
  f->state = FASTEPOST__FACT_ABSENT;
}

int fastepost__fact_set(fastepost__fact *fact, const char *s) {
  fact_clear(fact);
  if (!s) {
    fact->state = FASTEPOST__FACT_EMPTY;
    return FASTEPOST_OK;
  }
  if (!(fact->value = fastepost__strdup(s)))
    return FASTEPOST_ENOMEM;
  fact->state = FASTEPOST__FACT_VALUE;
  return FASTEPOST_OK;
}

void fastepost__sync_record_clear(fastepost__sync_record *rec) {
  char **owned[] = {&rec->model,    &rec->event_type,   &rec->external_id, &rec->idempotency_key,
                    &rec->payload,  &rec->failure_message, &rec->ignore_reason, &rec->crm_id,
                    &rec->link_crm_id, &rec->version,   &rec->note_body,   &rec->note_key, &rec->ref_crm_id};
  for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
    free(*owned[i]);
    *owned[i] = NULL;
  }
  fact_clear(&rec->facts.name);
  fact_clear(&rec->facts.email);
  fact_clear(&rec->facts.phone);
  fact_clear(&rec->facts.company);
  fact_clear(&rec->facts.address);
  for (size_t i = 0; i < FASTEPOST__MAX_PROPS; i++)
    fact_clear(&rec->props[i]);
  fastepost__strlist_free(&rec->retired_crm_ids);
  fastepost__strlist_free(&rec->barcodes);
  fastepost__strlist_free(&rec->warnings);
}

const char *fastepost__sync_get(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}
