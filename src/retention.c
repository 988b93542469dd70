/* SPDX-License-Identifier: MIT */
/* Event-log retention (see fastepost/retention.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* created_at holds UTC without a time zone; computing "now" in UTC here keeps the cutoff right
 * whatever the session's TimeZone is (a pooled server connection may carry anyone's). The text
 * form is ISO, which ::timestamp reads back under any DateStyle. */
static const char SQL_CUTOFF[] =
    "SELECT to_char(c, 'YYYY-MM-DD HH24:MI:SS.US'), (extract(epoch FROM c)::numeric * 1000000)::bigint "
    "FROM (SELECT (now() AT TIME ZONE 'UTC') - $1::bigint * interval '1 microsecond' AS c) t";

/* One batch is one autocommitted statement: its locks last as long as the DELETE, and SKIP
 * LOCKED leaves rows that a concurrent writer holds (a retry updating an old error row) to a
 * later run instead of waiting for them. The DELETE fires the statement-level counter trigger
 * once per batch, so the CRM counters move in the same transaction as the rows.
 * Batches walk the (created_at, id) index from the oldest row on, each starting after the last
 * row the previous one deleted ($4, $5): without that key every batch would start again at the
 * table's beginning and step over the dead rows of all earlier batches (a sequential scan, as
 * the planner chooses for a plain LIMIT), quadratic in the rows pruned until VACUUM runs.
 * The result: no row when nothing was deleted, else (deleted, last created_at, last id). */
static const char SQL_BATCH[] =
    "WITH batch AS (SELECT id FROM integration_events WHERE created_at < $1::timestamp "
    "AND ($2::text = 'all' OR status = $2::text) AND (created_at, id) > ($4::timestamp, $5::bigint) "
    "ORDER BY created_at, id LIMIT $3::int FOR UPDATE SKIP LOCKED), "
    "gone AS (DELETE FROM integration_events e USING batch WHERE e.id = batch.id "
    "RETURNING e.created_at, e.id) "
    "SELECT count(*) OVER (), to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.US'), id FROM gone "
    "ORDER BY created_at DESC, id DESC LIMIT 1";

const char *fastepost__prune_batch_sql(void) { return SQL_BATCH; }

struct fastepost_prune_report {
  uint64_t deleted, batches;
  int64_t cutoff_us;
};

void fastepost_prune_report_free(fastepost_prune_report *r) { free(r); }
uint64_t fastepost_prune_report_deleted(const fastepost_prune_report *r) { return r ? r->deleted : 0; }
uint64_t fastepost_prune_report_batches(const fastepost_prune_report *r) { return r ? r->batches : 0; }
int64_t fastepost_prune_report_cutoff_us(const fastepost_prune_report *r) { return r ? r->cutoff_us : 0; }

#define US_PER_DAY (INT64_C(86400) * 1000000)

const char *fastepost_prune_status_name(fastepost_prune_status status) {
  switch (status) {
  case FASTEPOST_PRUNE_STATUS_SUCCESS:
    return "success";
  case FASTEPOST_PRUNE_STATUS_ALL:
    return "all";
  }
  return "";
}

fastepost_status fastepost_prune_status_parse(fastepost_prune_status *out, const char *name) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_prune_status_parse: out is NULL");
  if (!name || !*name || strcmp(name, "success") == 0) {
    *out = FASTEPOST_PRUNE_STATUS_SUCCESS;
  } else if (strcmp(name, "all") == 0) {
    *out = FASTEPOST_PRUNE_STATUS_ALL;
  } else {
    char preview[64];
    fastepost__preview(preview, sizeof preview, name, strlen(name));
    return fastepost__error_set(FASTEPOST_EINVALID, "unknown prune status '%s' (expected 'success' or 'all')",
                                preview);
  }
  return FASTEPOST_OK;
}

fastepost_status fastepost_events_prune(fastepost_prune_report **out, fastepost_conn *conn, int64_t older_than_us,
                                        fastepost_prune_status which, size_t batch_size) {
  fastepost_prune_report r = {0, 0, 0};
  if (out && !(*out = calloc(1, sizeof **out)))
    return fastepost__error_oom();
  if (older_than_us < FASTEPOST_PRUNE_MIN_AGE_US)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "refusing to prune events younger than 7 days (asked: %.2f days): "
                                "senders redeliver within that window, and a pruned idempotency "
                                "key would let a redelivery apply twice",
                                (double)older_than_us / (double)US_PER_DAY);
  if (older_than_us > FASTEPOST_PRUNE_MAX_AGE_US)
    return fastepost__error_set(FASTEPOST_EINVALID, "the age must be at most 36500 days, not %.0f days",
                                (double)older_than_us / (double)US_PER_DAY);
  const char *status = fastepost_prune_status_name(which);
  if (!*status)
    return fastepost__error_set(FASTEPOST_EINVALID, "unknown prune status %d (expected "
                                "FASTEPOST_PRUNE_STATUS_SUCCESS or _ALL)", (int)which);
  if (batch_size == 0)
    batch_size = FASTEPOST_PRUNE_DEFAULT_BATCH;
  if (batch_size > FASTEPOST_PRUNE_MAX_BATCH)
    return fastepost__error_set(FASTEPOST_EINVALID, "the batch size must be 1 to %d, not %zu",
                                FASTEPOST_PRUNE_MAX_BATCH, batch_size);

  char age[24], batch[24], cutoff[40];
  snprintf(age, sizeof age, "%lld", (long long)older_than_us);
  snprintf(batch, sizeof batch, "%zu", batch_size);
  const char *cp[] = {age};
  PGresult *res = NULL;
  int rc = fastepost__query(&res, conn, SQL_CUTOFF, 1, cp, PGRES_TUPLES_OK, "computing the prune cutoff");
  if (rc)
    return rc;
  snprintf(cutoff, sizeof cutoff, "%s", PQgetvalue(res, 0, 0));
  r.cutoff_us = atoll(PQgetvalue(res, 0, 1));
  PQclear(res);

  char after_time[40] = "-infinity", after_id[24] = "0";
  const char *bp[] = {cutoff, status, batch, after_time, after_id};
  for (;;) {
    rc = fastepost__query(&res, conn, SQL_BATCH, 5, bp, PGRES_TUPLES_OK, "pruning integration_events");
    if (rc) {
      if (r.deleted)
        fastepost__error_prefix("after %llu rows deleted", (unsigned long long)r.deleted);
      break;
    }
    /* Fewer rows than the batch may only mean some were locked: stop at the first empty one. */
    if (PQntuples(res) == 0) {
      PQclear(res);
      break;
    }
    r.deleted += strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    r.batches++;
    snprintf(after_time, sizeof after_time, "%s", PQgetvalue(res, 0, 1));
    snprintf(after_id, sizeof after_id, "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
  }
  if (out)
    **out = r;
  if (rc == FASTEPOST_OK)
    fastepost_error_clear();
  return rc;
}
