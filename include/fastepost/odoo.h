/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost/odoo.h
 * @brief Odoo webhook ingestion: authenticate a delivery, then process it into customers,
 * remarks and task links, logged in integration_events.
 *
 * A host (Rails controller, WSGI app, the CLI) configures the accepted key(s) once and hands
 * over, per request, the raw body and the key the request presented (the `X-Odoo-Api-Key`
 * header or, failing that, the `api_key` query parameter):
 *
 *     fastepost_odoo_options_add_api_key(opts, key_from_the_hosts_secret_store);
 *     fastepost_odoo_options_set_event(opts, query_param("event"));     // may be NULL
 *     fastepost_event_result *r = NULL;
 *     fastepost_status st = fastepost_odoo_process(&r, conn, presented_key, body, len, opts);
 *     answer(fastepost_event_result_http(r, st));                       // 401 for a bad key
 *     fastepost_event_result_free(r);
 *
 * Processing checks the key itself: there is no way to process a delivery without a checked
 * key except the explicit fastepost_odoo_options_set_host_authenticated().
 *
 * Accepted shapes, the mapping and the outcomes are in docs/odoo.md.
 */
#ifndef FASTEPOST_ODOO_H
#define FASTEPOST_ODOO_H

#include "common.h"
#include "conn.h"
#include "events.h"

/* The spool (fastepost/spool.h), declared here so that this header does not depend on it. */
typedef struct fastepost_spool fastepost_spool;

FASTEPOST_BEGIN_DECLS

/** Default largest body accepted: 1 MiB. */
#define FASTEPOST_ODOO_DEFAULT_MAX_BODY (1024 * 1024)
/** Default deepest JSON nesting accepted. */
#define FASTEPOST_ODOO_DEFAULT_MAX_DEPTH 32
/** Default task-barcode fields, tried in this order. */
#define FASTEPOST_ODOO_DEFAULT_BARCODE_FIELDS "x_task_barcode,x_studio_task_barcode,task_barcode,barcode,ref"

/**
 * Check a presented key against one expected key, in constant time. Processing does this
 * itself (fastepost_odoo_options_add_api_key()); this is for hosts that check a key elsewhere.
 * Reads no environment variable: the host passes the configured key.
 *
 * Fails closed: with no key configured, every request is refused.
 *
 * @param expected   the configured key; NULL or "" when none is configured
 * @param presented  the key the request carried; NULL or "" when none
 * @return FASTEPOST_OK; FASTEPOST_ENOKEY when expected is NULL or empty;
 *         FASTEPOST_EAUTH when the presented key is missing or wrong
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_authenticate(const char *expected, const char *presented);

/** Processing options. Opaque; every field has a default. */
typedef struct fastepost_odoo_options fastepost_odoo_options;

/**
 * New options with the defaults: no accepted key (so every request is refused with
 * FASTEPOST_ENOKEY until one is added), no event hint, `application/json`, 1 MiB, depth 32, the
 * default barcode fields, the server's clock, source timestamps from 2000-01-01 to now + 1 day.
 *
 * @param out  receives the options (free with fastepost_odoo_options_free())
 * @return FASTEPOST_OK; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_options_new(fastepost_odoo_options **out);
/** Release options. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_odoo_options_free(fastepost_odoo_options *opts);
/**
 * Add a key that processing accepts as the presented key. Call it several times to accept
 * several keys while a key is rotated. The key is copied; it is never logged, spooled or put
 * into an error message. Every configured key is compared in constant time, without an early
 * exit on a match.
 *
 * @param opts  the options
 * @param key   the key, NUL-terminated; copied
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts or a NULL or empty key;
 *         FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_options_add_api_key(fastepost_odoo_options *opts, const char *key);
/**
 * The explicit opt-out from key checking: the host has authenticated this request itself (for
 * example by mutual TLS or its own signature check), and processing then ignores the presented
 * key. Off by default; a host that sets it owns authentication completely.
 *
 * @param opts  the options
 * @param yes   nonzero to skip the key check
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_options_set_host_authenticated(fastepost_odoo_options *opts,
                                                                                 int yes);
/**
 * The event hint, as the host read it from the webhook URL (`?event=unlink`): `create`,
 * `write`, `unlink` or `archive`; NULL or "" for none. `unlink` and `archive` make the
 * customer inactive. The event type logged is the model plus `.<hint>`.
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for any other value (the options are unchanged)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_options_set_event(fastepost_odoo_options *opts, const char *hint);
/**
 * The model hint, as the host read it from the webhook URL (`?model=res.partner`), like the
 * event hint: the model of a delivery whose body names none, e.g. a relayed JSON-RPC `read()`
 * result (`{"jsonrpc": "2.0", "id": 4711, "result": [{...}]}`), which is `ignored` without it.
 * A model named in the body wins. NULL or "" for none (the default). A retry of such a delivery
 * keeps the hint (it is part of the logged event type); a spooled one does not (the spool keeps
 * only the event hint and the content type).
 *
 * @param opts   the options
 * @param model  an Odoo model name: lower-case letters, digits, '_' and '.', starting with a
 *               letter, at most 63 bytes
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts or another value (the options are
 *         unchanged)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_options_set_model(fastepost_odoo_options *opts, const char *model);
/**
 * The request's Content-Type: `application/json` (the default, also for NULL) or
 * `application/x-www-form-urlencoded`; parameters such as `; charset=utf-8` are ignored.
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for another media type
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_options_set_content_type(fastepost_odoo_options *opts,
                                                                           const char *content_type);
/**
 * The largest body accepted, in bytes; a larger one fails with FASTEPOST_ETOOBIG.
 *
 * @param opts   the options
 * @param bytes  the limit; 0 for the default, FASTEPOST_ODOO_DEFAULT_MAX_BODY (1 MiB)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_options_set_max_body(fastepost_odoo_options *opts, size_t bytes);
/**
 * The deepest JSON nesting accepted; deeper bodies fail with FASTEPOST_EPARSE.
 *
 * @param opts   the options
 * @param depth  2 to 1000; 0 for the default, FASTEPOST_ODOO_DEFAULT_MAX_DEPTH (32)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts or a depth outside 2..1000
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_options_set_max_depth(fastepost_odoo_options *opts, size_t depth);
/**
 * The fields whose values are matched against `tasks.barcode` when a delivery has no
 * `task_id`, comma-separated, tried in order (default FASTEPOST_ODOO_DEFAULT_BARCODE_FIELDS).
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL or an empty list; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_options_set_barcode_fields(fastepost_odoo_options *opts,
                                                                             const char *fields);
/**
 * The accepted range of source timestamps (`write_date`): a delivery whose timestamp is earlier than
 * min_us or later than now + max_ahead_us is refused with FASTEPOST_EINVALID and logged as a
 * failed event that is not retried (it can never become valid). Default: 2000-01-01 00:00 UTC
 * to now + 1 day. "Now" is the injected clock (set_clock), else the host's system clock.
 *
 * @param opts          the options
 * @param min_us        the earliest accepted time, microseconds since the Unix epoch (UTC)
 * @param max_ahead_us  how far past now a timestamp may lie, in microseconds
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts, min_us outside 1970..9999 or
 *         max_ahead_us outside 0..100 years
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_options_set_time_range(fastepost_odoo_options *opts,
                                                                        int64_t min_us, int64_t max_ahead_us);
/**
 * A clock for tests and replays (NULL: the database server's clock, statement_timestamp(), so
 * that event rows, the retry due check and the statistics agree). It also drives the time
 * range check (fastepost_odoo_options_set_time_range()).
 *
 * @param opts     the options
 * @param clock    returns microseconds since the Unix epoch, UTC; NULL for the server's clock
 * @param payload  passed to clock; borrowed, must outlive the options
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_options_set_clock(fastepost_odoo_options *opts,
                                                                    fastepost_clock_fn clock, void *payload);

/**
 * Spool deliveries that cannot reach the database (fastepost/spool.h): when conn is NULL, or
 * processing fails with FASTEPOST_ECONN, fastepost_odoo_process() writes the body, the event hint
 * and the content type (never a key) to the spool and returns FASTEPOST_OK with the outcome
 * FASTEPOST_OUTCOME_SPOOLED (answer fastepost_event_result_http(): 202). A body over the limit is
 * refused (ETOOBIG) instead; a full spool fails with FASTEPOST_EFULL (503), a write error with
 * FASTEPOST_EIO. Not used by fastepost_odoo_process_batch().
 *
 * @param spool  borrowed, must outlive the options; NULL turns spooling off
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_options_set_spool(fastepost_odoo_options *opts,
                                                                    fastepost_spool *spool);

/**
 * Process one delivery: parse and check it, find the record (native webhook, JSON-RPC `read()`
 * result, code-action wrappers or a form body), sync the customer, remark and task link, and
 * log the event, all in one transaction. Every delivery is logged, failures too (with the
 * reason; the payload only when it is valid JSON), except a duplicate, which changes nothing
 * and reports the first delivery's event.
 *
 * The presented key is checked first (see fastepost_odoo_options_add_api_key()): a refused
 * request writes nothing (no event row, no spool file) and out still receives a result whose
 * code is the failure and whose HTTP status is 401.
 *
 * @param out   receives the result (free with fastepost_event_result_free()), also on failure
 *              whenever memory allowed; may be NULL when the caller only wants the status
 * @param conn  an open connection; the schema must be installed. NULL is allowed only with a
 *              spool set (the host could not connect): the delivery is spooled
 * @param presented_key  the key the request carried (NULL or "" when none); borrowed, never
 *              stored; ignored when the options say the host authenticated the request
 * @param body  the raw request body (need not be NUL-terminated)
 * @param len   its length in bytes
 * @param opts  options, or NULL for the defaults
 * @return FASTEPOST_OK (outcome created, updated, unchanged, stale, ignored or duplicate);
 *         FASTEPOST_ENOKEY when no key is configured; FASTEPOST_EAUTH when the presented key is
 *         missing, empty or wrong; FASTEPOST_ETOOBIG over the body limit; FASTEPOST_EPARSE for a body that is not JSON
 *         (message with the byte offset) or not UTF-8; FASTEPOST_EINVALID for JSON without a
 *         usable record (e.g. `"_id": "abc"`), or when conn is inside a transaction of the
 *         caller's (an event commits on its own); FASTEPOST_ECONFLICT when the email belongs to a
 *         customer linked to another Odoo record of the same model; FASTEPOST_ECONN,
 *         FASTEPOST_EBUSY for transient failures (the event is queued for retry)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_process(fastepost_event_result **out, fastepost_conn *conn,
                                                          const char *presented_key, const void *body, size_t len,
                                                          const fastepost_odoo_options *opts);

/**
 * Process several deliveries in one transaction, each inside its own savepoint: a failing
 * delivery is logged as failed and does not affect the others, and the batch costs one durable
 * commit instead of one per delivery. The host must not acknowledge any delivery before this
 * returns FASTEPOST_OK. Each delivery's key is checked as by fastepost_odoo_process(): a refused
 * delivery gets its 401 result and writes nothing; the others are processed.
 *
 * The transaction holds an advisory lock per contact key (crm id, email, phone: up to four per
 * delivery) until it commits, and PostgreSQL's lock table is shared by every session
 * (max_locks_per_transaction x max_connections: 6,400 by default). Keep batches to 1,000
 * deliveries or fewer (HubSpot sends at most 100); a batch that fills the table fails its
 * remaining deliveries with "out of shared memory", unlogged (fastepost_odoo_pull() splits its
 * pages for this reason).
 *
 * @param out      receives the batch result (free with fastepost_event_batch_free()): one
 *                 result per delivery, in order (fastepost_event_batch_get()), also on failure
 *                 whenever memory allowed; may be NULL
 * @param conn     an open connection
 * @param presented_keys  n keys, one per delivery (entries may be NULL); may be NULL only when
 *                 the options say the host authenticated the requests
 * @param bodies   n bodies (need not be NUL-terminated)
 * @param lens     their lengths
 * @param n        how many
 * @param opts     options for every delivery, or NULL
 * @return FASTEPOST_OK when the batch committed (each result has its own code, ENOKEY or EAUTH
 *         for a refused delivery);
 *         FASTEPOST_ECONN, FASTEPOST_EDB, FASTEPOST_EBUSY when the commit failed: then nothing
 *         was applied and every result says so; FASTEPOST_EINVALID for NULL arrays or when
 *         conn is inside a transaction of the caller's
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_process_batch(fastepost_event_batch **out,
                                                                fastepost_conn *conn,
                                                                const char *const *presented_keys,
                                                                const void *const *bodies,
                                                                const size_t *lens, size_t n,
                                                                const fastepost_odoo_options *opts);

FASTEPOST_END_DECLS

#endif
