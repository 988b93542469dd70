/* SPDX-License-Identifier: MIT */
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
  FASTEPOST_OUTCOME_NONE = 0,      /**< nothing decided: the delivery failed before (see the code) */
  FASTEPOST_OUTCOME_CREATED = 1,   /**< a new customer was created */
  FASTEPOST_OUTCOME_UPDATED = 2,   /**< a customer changed, or got a new remark or task link */
  FASTEPOST_OUTCOME_UNCHANGED = 3, /**< everything was already as delivered */
  FASTEPOST_OUTCOME_STALE = 4,     /**< older than what is stored: nothing applied */
  FASTEPOST_OUTCOME_IGNORED = 5,   /**< unknown model or no usable fields: nothing applied */
  FASTEPOST_OUTCOME_CONFLICT = 6,  /**< would merge two CRM records: nothing applied (ECONFLICT) */
  FASTEPOST_OUTCOME_DUPLICATE = 7, /**< seen before (same idempotency key): nothing applied */
  FASTEPOST_OUTCOME_SPOOLED = 8    /**< the database was unreachable: written to the spool for a later
                                        replay (fastepost/spool.h); answer 202 */
  /* append-only: the numbers are ABI */
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

/* ---- a batch of deliveries ---------------------------------------------------------------- */

/**
 * What processing one request carrying several events did (a HubSpot batch, an Odoo batch of
 * deliveries): one fastepost_event_result per event, in request order. Opaque; owns its data.
 * The same type for every CRM adapter.
 */
typedef struct fastepost_event_batch fastepost_event_batch;

/** Release a batch result. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_event_batch_free(fastepost_event_batch *batch);
/** The status the processing call returned (FASTEPOST_EINVALID for NULL). */
FASTEPOST_EXTERN(fastepost_status) fastepost_event_batch_status(const fastepost_event_batch *batch);
/** The HTTP status to answer the request with: fastepost_status_http() of the batch status. */
FASTEPOST_EXTERN(int) fastepost_event_batch_http_status(const fastepost_event_batch *batch);
/** How many events the request held (0 when it was refused as a whole). */
FASTEPOST_EXTERN(size_t) fastepost_event_batch_count(const fastepost_event_batch *batch);
/** How many events failed (their result's code is not FASTEPOST_OK). */
FASTEPOST_EXTERN(size_t) fastepost_event_batch_failed(const fastepost_event_batch *batch);
/**
 * Event i's result (the fastepost_event_result_* getters); NULL out of range. Borrowed: valid
 * until the batch is freed.
 */
FASTEPOST_EXTERN(const fastepost_event_result *) fastepost_event_batch_get(const fastepost_event_batch *batch,
                                                                           size_t i);
/** Event i's type ("contact.propertyChange", "res.partner.write"; "" when unknown). Borrowed, as above. */
FASTEPOST_EXTERN(const char *) fastepost_event_batch_event_type(const fastepost_event_batch *batch, size_t i);
/**
 * Event i's record in its CRM as "<kind>:<id>" ("contact:101", "res.partner:42",
 * "Contact:003D000000AbCdE"): the integration_events.external_id; "" when it had none (an event
 * refused before it was read). Borrowed, as above.
 */
FASTEPOST_EXTERN(const char *) fastepost_event_batch_external_id(const fastepost_event_batch *batch, size_t i);
/** Event i's record id in its CRM (HubSpot objectId, Odoo record id); 0 when it had none. */
FASTEPOST_EXTERN(int64_t) fastepost_event_batch_object_id(const fastepost_event_batch *batch, size_t i);

/* ---- the event log ------------------------------------------------------------------------ */

/**
 * One integration_events row, handed out by pointer (fastepost_event_list_get()); the library
 * only ever appends fields. Strings are never NULL ("" for SQL NULL) and owned by the list.
 */
typedef struct fastepost_event {
  int64_t id;                  /**< integration_events.id */
  const char *source;          /**< "odoo", "hubspot" ... */
  const char *event_type;      /**< "res.partner", "crm.lead.unlink" ... */
  const char *status;          /**< "pending", "success", "error" or "dead" */
  const char *outcome;         /**< "created" ... or "" */
  const char *external_id;     /**< "res.partner:42" or "" */
  const char *error_message;   /**< "" when none */
  uint64_t attempts;           /**< processing attempts so far */
  int64_t customer_id;         /**< 0 when none */
  int64_t created_at_us;       /**< microseconds since the Unix epoch, UTC */
  int64_t processed_at_us;     /**< as created_at_us; 0 when not processed */
  int64_t next_attempt_at_us;  /**< as created_at_us; 0 when no retry is planned */
  /* 1.x appends fields here only */
} fastepost_event;

/** The rows fastepost_events_list() gives for a limit of 0. */
#define FASTEPOST_EVENTS_DEFAULT_LIMIT 100
/** The most rows fastepost_events_list() gives at once. */
#define FASTEPOST_EVENTS_MAX_LIMIT 1000000

/** A list of events, newest first. Opaque; owns its rows. */
typedef struct fastepost_event_list fastepost_event_list;

/**
 * List events, newest first.
 *
 * @param out     receives the list (free with fastepost_event_list_free()); NULL on failure
 * @param conn    an open connection
 * @param source  only this source ("odoo"), or NULL for all
 * @param status  only this status ("error" ...), or NULL for all
 * @param limit   at most this many rows; 0 for the default, FASTEPOST_EVENTS_DEFAULT_LIMIT (100)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a limit over FASTEPOST_EVENTS_MAX_LIMIT or an
 *         unknown status; FASTEPOST_EDB, FASTEPOST_ECONN
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_events_list(fastepost_event_list **out, fastepost_conn *conn,
                                                         const char *source, const char *status,
                                                         size_t limit);
/** Number of rows in the list. */
FASTEPOST_EXTERN(size_t) fastepost_event_list_count(const fastepost_event_list *list);
/** Row i (0-based), or NULL when out of range. Borrowed: valid until the list is freed. */
FASTEPOST_EXTERN(const fastepost_event *) fastepost_event_list_get(const fastepost_event_list *list, size_t i);
/** Release a list. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_event_list_free(fastepost_event_list *list);

/* ---- the retry queue ---------------------------------------------------------------------- */

/** After this many attempts an event that still fails transiently becomes `dead`. */
#define FASTEPOST_EVENTS_MAX_ATTEMPTS 5

/** The events fastepost_events_retry() takes for a limit of 0. */
#define FASTEPOST_RETRY_DEFAULT_LIMIT 100

/** Options of a retry run. Opaque; every field has a default. */
typedef struct fastepost_retry_options fastepost_retry_options;

/**
 * New options with the defaults: at most FASTEPOST_RETRY_DEFAULT_LIMIT (100) events, the
 * database server's clock.
 *
 * @param out  receives the options (free with fastepost_retry_options_free())
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when out is NULL; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_retry_options_new(fastepost_retry_options **out);
/** Release options. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_retry_options_free(fastepost_retry_options *opts);
/**
 * The most events one run takes from the queue.
 *
 * @param opts   the options
 * @param limit  events; 0 for the default, FASTEPOST_RETRY_DEFAULT_LIMIT (100)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_retry_options_set_limit(fastepost_retry_options *opts, size_t limit);
/**
 * A clock for tests and replays: an event is due when its `next_attempt_at` is at or before the
 * clock's time, and the reprocessed rows get their `processed_at` and next backoff from it too.
 * Pass the same clock as to the processing options (fastepost_odoo_options_set_clock(),
 * fastepost_hubspot_options_set_clock()) and to fastepost_crm_stats_options_set_clock(): one clock then drives the event
 * rows, the retry due check and the 24-hour statistics, as the server's clock does by default.
 * The clock is read once per event claimed.
 *
 * @param opts     the options
 * @param clock    returns microseconds since the Unix epoch, UTC; NULL: the database server's
 *                 clock (statement_timestamp()), the default
 * @param payload  passed to clock; borrowed, must outlive the options
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_retry_options_set_clock(fastepost_retry_options *opts,
                                                                     fastepost_clock_fn clock, void *payload);

/** The webhook configuration (fastepost/webhook.h). */
typedef struct fastepost_webhook_config fastepost_webhook_config;

/**
 * The configuration events are reprocessed with: each source's section reaches its adapter
 * (Odoo's barcode fields; sources whose stored payloads need their configuration to be mapped,
 * such as monday's board columns). Without it, a payload is reprocessed with the adapter's
 * defaults, as before. A retry never verifies again: the event was verified when it came in.
 *
 * @param opts  the options
 * @param cfg   the configuration, or NULL for none (the default). Borrowed: it must outlive the
 *              options' use in fastepost_events_retry()
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_retry_options_set_webhook_config(fastepost_retry_options *opts,
                                                                              const fastepost_webhook_config *cfg);

/** What one fastepost_events_retry() run did. Opaque. */
typedef struct fastepost_retry_report fastepost_retry_report;

/** Release a report. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_retry_report_free(fastepost_retry_report *report);
/** Due events taken from the queue. */
FASTEPOST_EXTERN(size_t) fastepost_retry_report_attempted(const fastepost_retry_report *report);
/** Processed now (any outcome but a failure). */
FASTEPOST_EXTERN(size_t) fastepost_retry_report_succeeded(const fastepost_retry_report *report);
/** Failed again and stay queued (or failed for good: status error, no retry). */
FASTEPOST_EXTERN(size_t) fastepost_retry_report_failed(const fastepost_retry_report *report);
/** Reached the maximum attempts and are now `dead`. */
FASTEPOST_EXTERN(size_t) fastepost_retry_report_dead(const fastepost_retry_report *report);

/**
 * Process again, oldest due first, the events that failed transiently and whose
 * `next_attempt_at` has come, from their stored payload through their source's adapter. Each
 * is its own transaction; a failure is rescheduled with exponential backoff and jitter, or
 * marked `dead` after FASTEPOST_EVENTS_MAX_ATTEMPTS attempts.
 *
 * @param out   if not NULL, receives the counts (free with fastepost_retry_report_free()), also
 *              on failure whenever memory allowed
 * @param conn  an open connection
 * @param opts  options (limit, clock), or NULL for the defaults
 * @return FASTEPOST_OK even when some events failed again (see the report);
 *         FASTEPOST_EINVALID for a NULL conn or a clock giving a time outside the years 1 to
 *         9999; FASTEPOST_EDB, FASTEPOST_ECONN when the queue cannot be read
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_events_retry(fastepost_retry_report **out, fastepost_conn *conn,
                                                          const fastepost_retry_options *opts);

FASTEPOST_END_DECLS

#endif
