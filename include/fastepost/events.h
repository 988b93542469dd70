/**
 * @file fastepost/events.h
 * @brief The integration event log, the result of processing one delivery, and the retry queue.
 *
 * Every CRM delivery (Odoo, HubSpot ...) becomes one row of `integration_events`, written in the
 * same transaction as its effects. A delivery that failed for a transient reason (connection
 * lost, serialization failure, deadlock) stays `error` with a `next_attempt_at`;
 * fastepost_events_retry() processes the due ones again from their stored payload, through the
 * same adapter, and after FASTEPOST_EVENTS_MAX_ATTEMPTS marks them `dead`. See docs/events.md.
 */
#ifndef FASTEPOST_EVENTS_H
#define FASTEPOST_EVENTS_H

#include "common.h"
#include "conn.h"

FASTEPOST_BEGIN_DECLS

/** What processing a delivery did (the `outcome` column of integration_events). */
typedef enum fastepost_outcome {
  FASTEPOST_OUTCOME_NONE = 0,  /**< nothing decided: the delivery failed before (see the code) */
  FASTEPOST_OUTCOME_CREATED,   /**< a new customer was created */
  FASTEPOST_OUTCOME_UPDATED,   /**< a customer changed, or got a new remark or task link */
  FASTEPOST_OUTCOME_UNCHANGED, /**< everything was already as delivered */
  FASTEPOST_OUTCOME_STALE,     /**< older than what is stored: nothing applied */
  FASTEPOST_OUTCOME_IGNORED,   /**< unknown model or no usable fields: nothing applied */
  FASTEPOST_OUTCOME_CONFLICT,  /**< would merge two CRM records: nothing applied (ECONFLICT) */
  FASTEPOST_OUTCOME_DUPLICATE, /**< seen before (same idempotency key): nothing applied */
  FASTEPOST_OUTCOME_SPOOLED    /**< the database was unreachable: written to the spool for a later
                                    replay (fastepost/spool.h); answer 202 */
} fastepost_outcome;

/** "created", "updated" ... as stored in the outcome column; "" for NONE. A static string. */
FASTEPOST_EXTERN(const char *) fastepost_outcome_name(fastepost_outcome outcome);

/**
 * The HTTP status a webhook endpoint should answer for a processing status: 200 for
 * FASTEPOST_OK (processed, duplicate, ignored, stale, unchanged), 400 for FASTEPOST_EPARSE and
 * FASTEPOST_EINVALID, 401 for FASTEPOST_EAUTH and FASTEPOST_ENOKEY, 409 for FASTEPOST_ECONFLICT,
 * 413 for FASTEPOST_ETOOBIG, 503 when the database is unavailable or busy (FASTEPOST_ECONN,
 * FASTEPOST_EBUSY), 500 otherwise.
 */
FASTEPOST_EXTERN(int) fastepost_status_http(fastepost_status status);

/**
 * A clock for processing: microseconds since 1970-01-01 00:00 UTC. Lets tests and replays fix
 * the time written to `last_synced_at`, `processed_at` and `next_attempt_at`.
 */
typedef int64_t (*fastepost_clock_fn)(void *payload);

/** The result of processing one delivery. Opaque; owns all its data. */
typedef struct fastepost_event_result fastepost_event_result;

/** Release a result. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_event_result_free(fastepost_event_result *result);
/** The status the processing call returned (FASTEPOST_OK or a negative code). */
FASTEPOST_EXTERN(fastepost_status) fastepost_event_result_code(const fastepost_event_result *result);
/** What was done; FASTEPOST_OUTCOME_NONE when the delivery failed before a decision. */
FASTEPOST_EXTERN(fastepost_outcome) fastepost_event_result_outcome(const fastepost_event_result *result);
/** The integration_events row (for a duplicate: the first delivery's row); 0 when none was written. */
FASTEPOST_EXTERN(int64_t) fastepost_event_result_event_id(const fastepost_event_result *result);
/** The customer created, updated or matched (for a duplicate: the first delivery's); 0 when none. */
FASTEPOST_EXTERN(int64_t) fastepost_event_result_customer_id(const fastepost_event_result *result);
/** The remark created by this delivery; 0 when none (e.g. the same text was already there). */
FASTEPOST_EXTERN(int64_t) fastepost_event_result_remark_id(const fastepost_event_result *result);
/** The task the delivery referred to and that exists; 0 when none. */
FASTEPOST_EXTERN(int64_t) fastepost_event_result_task_id(const fastepost_event_result *result);
/** How many warnings (values dropped or left alone, e.g. an email that is not an address). */
FASTEPOST_EXTERN(size_t) fastepost_event_result_warning_count(const fastepost_event_result *result);
/** Warning i (0-based); NULL when out of range. Borrowed: valid until the result is freed. */
FASTEPOST_EXTERN(const char *) fastepost_event_result_warning(const fastepost_event_result *result, size_t i);
/** The failure message ("" when the code is FASTEPOST_OK). Borrowed, as above. */
FASTEPOST_EXTERN(const char *) fastepost_event_result_error(const fastepost_event_result *result);

/* ---- the event log ------------------------------------------------------------------------ */

/** One integration_events row. Strings are never NULL ("" for SQL NULL) and owned by the list. */
typedef struct fastepost_event {
  int64_t id;                  /**< integration_events.id */
  const char *source;          /**< "odoo", "hubspot" ... */
  const char *event_type;      /**< "res.partner", "crm.lead.unlink" ... */
  const char *status;          /**< "pending", "success", "error" or "dead" */
  const char *outcome;         /**< "created" ... or "" */
  const char *external_id;     /**< "res.partner:42" or "" */
  const char *error_message;   /**< "" when none */
  int attempts;                /**< processing attempts so far */
  int64_t customer_id;         /**< 0 when none */
  const char *created_at;      /**< "YYYY-MM-DD HH:MM:SS.ffffff" UTC */
  const char *processed_at;    /**< as created_at, or "" */
  const char *next_attempt_at; /**< as created_at, or "" when no retry is planned */
} fastepost_event;

/** A list of events, newest first. Opaque; owns its rows. */
typedef struct fastepost_event_list fastepost_event_list;

/**
 * List events, newest first.
 *
 * @param out     receives the list (free with fastepost_event_list_free()); NULL on failure
 * @param conn    an open connection
 * @param source  only this source ("odoo"), or NULL for all
 * @param status  only this status ("error" ...), or NULL for all
 * @param limit   at most this many rows (1 or more)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a limit below 1 or an unknown status;
 *         FASTEPOST_EDB, FASTEPOST_ECONN
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_events_list(fastepost_event_list **out, fastepost_conn *conn,
                                                         const char *source, const char *status,
                                                         int limit);
/** Number of rows in the list. */
FASTEPOST_EXTERN(size_t) fastepost_event_list_count(const fastepost_event_list *list);
/** Row i (0-based), or NULL when out of range. Borrowed: valid until the list is freed. */
FASTEPOST_EXTERN(const fastepost_event *) fastepost_event_list_get(const fastepost_event_list *list, size_t i);
/** Release a list. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_event_list_free(fastepost_event_list *list);

/* ---- the retry queue ---------------------------------------------------------------------- */

/** After this many attempts an event that still fails transiently becomes `dead`. */
#define FASTEPOST_EVENTS_MAX_ATTEMPTS 5

/** What one fastepost_events_retry() run did. */
typedef struct fastepost_retry_report {
  int attempted;  /**< due events taken from the queue */
  int succeeded;  /**< processed now (any outcome but a failure) */
  int failed;     /**< failed again and stay queued (or failed for good: status error, no retry) */
  int dead;       /**< reached the maximum attempts and are now `dead` */
} fastepost_retry_report;

/**
 * Process again, oldest due first, the events that failed transiently and whose
 * `next_attempt_at` has come, from their stored payload through their source's adapter. Each
 * is its own transaction; a failure is rescheduled with exponential backoff and jitter, or
 * marked `dead` after FASTEPOST_EVENTS_MAX_ATTEMPTS attempts.
 *
 * (The out-parameter comes last here because the issue that defines this call says so.)
 *
 * @param conn    an open connection
 * @param limit   at most this many events (1 or more)
 * @param report  if not NULL, receives the counts
 * @return FASTEPOST_OK even when some events failed again (see the report);
 *         FASTEPOST_EINVALID for a limit below 1; FASTEPOST_EDB, FASTEPOST_ECONN when the queue
 *         cannot be read
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_events_retry(fastepost_conn *conn, int limit,
                                                          fastepost_retry_report *report);

/**
 * fastepost_events_retry() on an injected clock, for tests and replays: an event is due when
 * its `next_attempt_at` is at or before the clock's time, and the reprocessed rows get their
 * `processed_at` and next backoff from it too. Pass the same clock as to the processing options
 * (fastepost_odoo_options_set_clock(), fastepost_hubspot_options_set_clock()) and to
 * fastepost_crm_stats_options_set_clock(): one clock then drives the event rows, the retry due check and
 * the 24-hour statistics, as the server's clock does by default. The clock is read once per
 * event claimed.
 *
 * @param conn     an open connection
 * @param limit    at most this many events (1 or more)
 * @param clock    returns microseconds since the Unix epoch, UTC; NULL: the database server's
 *                 clock (statement_timestamp()), exactly fastepost_events_retry()
 * @param payload  passed to clock; borrowed for the call
 * @param report   if not NULL, receives the counts
 * @return as fastepost_events_retry(); FASTEPOST_EINVALID also when the clock gives a time
 *         outside the years 1 to 9999
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_events_retry_with_clock(fastepost_conn *conn, int limit,
                                                                     fastepost_clock_fn clock, void *payload,
                                                                     fastepost_retry_report *report);

FASTEPOST_END_DECLS

#endif
