/* SPDX-License-Identifier: MIT */
/*
 * The monday.com adapter (issue 15), private: the configuration built from the "monday" section
 * of the webhook configuration, and the parser shared by the adapter's parse, reprocess and
 * replay. monday.c holds the configuration, the challenge, the JWT check and the table;
 * monday_parse.c turns a board webhook's {"event": {...}} into a sync record. No SQL.
 */
#ifndef FASTEPOST_ADAPTERS_MONDAY_H
#define FASTEPOST_ADAPTERS_MONDAY_H

#include <json-c/json.h>
#include <stdbool.h>

#include "adapters/adapter.h"
#include "sync.h"

/* The customer fields a board maps to its own column ids, in the order of the config keys. */
enum { FASTEPOST__MONDAY_EMAIL = 0, FASTEPOST__MONDAY_PHONE, FASTEPOST__MONDAY_COMPANY, FASTEPOST__MONDAY_ADDRESS,
       FASTEPOST__MONDAY_NFIELDS };
extern const char *const fastepost__monday_field_names[FASTEPOST__MONDAY_NFIELDS]; /* "email" ... */

/* A body larger than this is not a board event (monday sends one small event per request). */
#define FASTEPOST__MONDAY_MAX_BODY (1024 * 1024)

/* One configured board: its id and the column id feeding each field (NULL: not synced). */
typedef struct fastepost__monday_board {
  char *id; /* decimal digits, as in boardId */
  char *columns[FASTEPOST__MONDAY_NFIELDS];
} fastepost__monday_board;

typedef struct fastepost__monday_config {
  char **secrets; /* signing secrets (wiped when freed) */
  size_t *secret_lens;
  size_t nsecrets;
  bool require_jwt;  /* default true: a request without a JWT is refused */
  char *url;         /* the endpoint URL the JWT's aud must name; NULL: aud not checked */
  fastepost__monday_board *boards;
  size_t nboards;
  fastepost__time_range time_range; /* accepted changedAt / triggerTime */
} fastepost__monday_config;

/* The configured board with this id, or NULL. */
const fastepost__monday_board *fastepost__monday_board_find(const fastepost__monday_config *cfg, const char *id);

/*
 * One event object into rec (initialised by the caller): dedup key from triggerUuid, version
 * from changedAt else triggerTime (checked against range as seen from now_us), the item as
 * crm_id "item:<id>". cfg NULL (a retry or replay without configuration): events that need a
 * board's columns fail clearly, the others are applied. An unusable event becomes a failed
 * record (rec->failure); returns FASTEPOST_OK unless memory ran out.
 */
int fastepost__monday_event_record(fastepost__sync_record *rec, const fastepost__monday_config *cfg,
                                   json_object *event, const fastepost__time_range *range, int64_t now_us);

/*
 * A body {"event": {...}} into one record. Refused as a whole (out empty): larger than max_body
 * (FASTEPOST_ETOOBIG; 0: no limit), not UTF-8 or not JSON (FASTEPOST_EPARSE), not an object with
 * an "event" object (FASTEPOST_EPARSE).
 */
int fastepost__monday_parse(fastepost__records *out, const fastepost__monday_config *cfg, const void *body,
                            size_t len, size_t max_body, const fastepost__time_range *range, int64_t now_us);

#endif
