/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost/retention.h
 * @brief Event-log retention: delete old rows of `integration_events` in short batches.
 *
 * Every delivery leaves one row in `integration_events`; without retention the table (and its
 * indexes) grows without bound. fastepost_events_prune() deletes the rows older than a number
 * of days, a bounded batch per transaction, skipping rows that another session holds locked,
 * so that ingestion carries on meanwhile. The CRM statistics counters stay exactly equal to
 * what the table holds: they are kept by the table's statement-level DELETE trigger (schema
 * migration 2), which every batch fires. See docs/events.md and docs/deployment.md.
 */
#ifndef FASTEPOST_RETENTION_H
#define FASTEPOST_RETENTION_H

#include "common.h"
#include "conn.h"

FASTEPOST_BEGIN_DECLS

/**
 * The shortest retention fastepost_events_prune() accepts: 7 days, in microseconds. HubSpot and
 * other senders redeliver a webhook for up to a few days; the event row holds the delivery's
 * idempotency key, and a pruned key would let a late redelivery apply a second time.
 */
#define FASTEPOST_PRUNE_MIN_AGE_US (INT64_C(7) * 86400 * 1000000)
/** The longest retention accepted: 36500 days (100 years), in microseconds. */
#define FASTEPOST_PRUNE_MAX_AGE_US (INT64_C(36500) * 86400 * 1000000)
/** Rows deleted per transaction when the caller passes a batch size of 0. */
#define FASTEPOST_PRUNE_DEFAULT_BATCH 1000
/** The largest batch accepted (keeps each transaction, and the locks it holds, short). */
#define FASTEPOST_PRUNE_MAX_BATCH 100000

/** Which events fastepost_events_prune() deletes. */
typedef enum fastepost_prune_status {
  FASTEPOST_PRUNE_STATUS_SUCCESS = 0, /**< only events processed successfully (the default) */
  FASTEPOST_PRUNE_STATUS_ALL = 1      /**< every status: error, dead and pending too */
  /* append-only: the numbers are ABI */
} fastepost_prune_status;

/** "success" or "all"; "" for a value that is not a fastepost_prune_status. A static string. */
FASTEPOST_EXTERN(const char *) fastepost_prune_status_name(fastepost_prune_status status);
/**
 * The status named by its text form.
 *
 * @param out   receives the status
 * @param name  "success" or "all"; NULL or "" for the default, "success"
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for another name (out untouched)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_prune_status_parse(fastepost_prune_status *out, const char *name);

/** What one fastepost_events_prune() run did. Opaque. */
typedef struct fastepost_prune_report fastepost_prune_report;

/** Release a report. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_prune_report_free(fastepost_prune_report *report);
/** Rows deleted from integration_events. */
FASTEPOST_EXTERN(uint64_t) fastepost_prune_report_deleted(const fastepost_prune_report *report);
/** Transactions that deleted at least one row. */
FASTEPOST_EXTERN(uint64_t) fastepost_prune_report_batches(const fastepost_prune_report *report);
/**
 * Rows created before this time were eligible: microseconds since the Unix epoch, UTC; 0 when
 * the run failed before computing it.
 */
FASTEPOST_EXTERN(int64_t) fastepost_prune_report_cutoff_us(const fastepost_prune_report *report);

/**
 * Delete the events created more than `older_than_us` ago, oldest first, in batches of at most
 * `batch_size` rows, each batch its own short transaction
 * (`DELETE ... WHERE id IN (SELECT id ... LIMIT n FOR UPDATE SKIP LOCKED)`). The cutoff is
 * fixed when the call starts, so the run ends even while new events arrive. Rows locked by
 * another session are left for the next run. Uses no session state (no prepared statement,
 * no temporary table): it works through a transaction pooler too.
 *
 * If a batch fails (the connection is lost, a statement timeout), the batches already
 * committed stay deleted and the report counts them; running the call again continues.
 *
 * @param out            if not NULL, receives what was done (free with
 *                       fastepost_prune_report_free()), also on failure whenever memory allowed
 *                       (the batches committed before it)
 * @param conn           an open connection
 * @param older_than_us  delete rows older than this, in microseconds: FASTEPOST_PRUNE_MIN_AGE_US
 *                       (7 days) to FASTEPOST_PRUNE_MAX_AGE_US
 * @param which          FASTEPOST_PRUNE_STATUS_SUCCESS: only events processed successfully;
 *                       FASTEPOST_PRUNE_STATUS_ALL: every status
 * @param batch_size     rows per transaction, up to FASTEPOST_PRUNE_MAX_BATCH; 0 for the
 *                       default, FASTEPOST_PRUNE_DEFAULT_BATCH
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for less than 7 days (nothing is deleted), an
 *         unknown `which` or a batch size out of range; FASTEPOST_EDB, FASTEPOST_ECONN (and
 *         FASTEPOST_EREADONLY on a hot standby) when a batch fails
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_events_prune(fastepost_prune_report **out, fastepost_conn *conn,
                                                          int64_t older_than_us, fastepost_prune_status which,
                                                          size_t batch_size);

FASTEPOST_END_DECLS

#endif
