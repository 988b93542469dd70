/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost/odoo_sync.h
 * @brief Odoo both ways: a reconciliation pull over Odoo's external API (JSON-2 or JSON-RPC)
 * that catches every change a webhook delivery missed.
 *
 * Odoo's "Send Webhook Notification" waits about a second and never retries; a pull every few
 * minutes brings back what was lost (docs/odoo-sync.md):
 *
 *     fastepost_odoo_sync_options *o = NULL;
 *     fastepost_odoo_sync_options_new(&o);
 *     fastepost_odoo_sync_options_set_url(o, "https://example.odoo.com");
 *     fastepost_odoo_sync_options_set_database(o, "example");
 *     fastepost_odoo_sync_options_set_api_key(o, key_from_the_hosts_secret_store);
 *     fastepost_odoo_pull_report *r = NULL;
 *     fastepost_status st = fastepost_odoo_pull(&r, conn, o);
 *     ... fastepost_odoo_pull_report_fetched(r) ...
 *     fastepost_odoo_pull_report_free(r);
 *     fastepost_odoo_sync_options_free(o);
 *
 * Each model is read with `search_read` (archived records included: `context.active_test =
 * false`), ordered by `write_date, id`, from the stored cursor minus an overlap window up to a
 * bound frozen when the pull starts, page by page. Every record goes through the same mapping
 * and sync core as a webhook delivery (source `odoo`, event type `<model>.pull`): a record a
 * webhook already delivered comes out `duplicate`, `unchanged` or `stale` and changes nothing.
 * A page is applied in transactions of at most 1,000 records (a savepoint per record); the
 * cursor of (odoo, model) is advanced in the table fastepost_sync_cursors only after the whole
 * page committed, and never past a record that failed without being logged (the pull then
 * stops with that record's error).
 *
 * Push-back (fastepost_odoo_push()): changes made to Odoo-linked customers by anyone but the
 * sync core (the Rails app, psql, an import) are queued by triggers in fastepost_sync_outbox
 * (migration 12) and sent to Odoo with `write` (or `create` for a customer marked for Odoo:
 * crm_source 'odoo' without a crm_id), compare-then-write on Odoo's write_date.
 *
 * This header holds three prefixes on purpose: `fastepost_odoo_sync_*` (options shared by the
 * pull and the push), `fastepost_odoo_pull*` (the pull and its report) and
 * `fastepost_odoo_push*` (the push and its report).
 */
#ifndef FASTEPOST_ODOO_SYNC_H
#define FASTEPOST_ODOO_SYNC_H

#include "common.h"
#include "conn.h"
#include "events.h"

FASTEPOST_BEGIN_DECLS

/** Default overlap below the stored cursor: 300 s. */
#define FASTEPOST_ODOO_SYNC_DEFAULT_OVERLAP_US (300 * INT64_C(1000000))
/** Default records per page (and per transaction). */
#define FASTEPOST_ODOO_SYNC_DEFAULT_PAGE_SIZE 200
/** Largest page size accepted. */
#define FASTEPOST_ODOO_SYNC_MAX_PAGE_SIZE 5000
/** Default models pulled. */
#define FASTEPOST_ODOO_SYNC_DEFAULT_MODELS "res.partner"
/** Default connect timeout per request: 10 s. */
#define FASTEPOST_ODOO_SYNC_DEFAULT_CONNECT_TIMEOUT_US (10 * INT64_C(1000000))
/** Default total timeout per request: 60 s. */
#define FASTEPOST_ODOO_SYNC_DEFAULT_TIMEOUT_US (60 * INT64_C(1000000))

/** Default outbox rows a push handles per run. */
#define FASTEPOST_ODOO_SYNC_DEFAULT_PUSH_LIMIT 500
/** Largest number of outbox rows a push handles per run. */
#define FASTEPOST_ODOO_SYNC_MAX_PUSH_LIMIT 100000

/** Which of Odoo's external APIs to speak. */
typedef enum fastepost_odoo_sync_protocol {
  FASTEPOST_ODOO_SYNC_PROTOCOL_AUTO = 0,   /**< detect from the server's version (JSON-2 from 19.0) */
  FASTEPOST_ODOO_SYNC_PROTOCOL_JSON2 = 1,  /**< `POST /json/2/<model>/<method>`, bearer key */
  FASTEPOST_ODOO_SYNC_PROTOCOL_JSONRPC = 2 /**< `/jsonrpc`: common.login, object.execute_kw (14-21) */
} fastepost_odoo_sync_protocol;

/** "auto", "json2" or "jsonrpc"; "" for an unknown value. Never NULL. */
FASTEPOST_EXTERN(const char *) fastepost_odoo_sync_protocol_name(fastepost_odoo_sync_protocol protocol);
/**
 * The protocol named name ("auto", "json2", "jsonrpc").
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL or another name
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_protocol_parse(fastepost_odoo_sync_protocol *out,
                                                                      const char *name);

/** Who wins when a record changed in Odoo after the version a push last synced. */
typedef enum fastepost_odoo_sync_prefer {
  FASTEPOST_ODOO_SYNC_PREFER_REMOTE = 0, /**< Odoo's change stays; a `conflict` event is logged (default) */
  FASTEPOST_ODOO_SYNC_PREFER_LOCAL = 1   /**< ours overwrites it; the event says so */
} fastepost_odoo_sync_prefer;

/** "remote" or "local"; "" for an unknown value. Never NULL. */
FASTEPOST_EXTERN(const char *) fastepost_odoo_sync_prefer_name(fastepost_odoo_sync_prefer prefer);
/**
 * The preference named name ("remote", "local").
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL or another name
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_prefer_parse(fastepost_odoo_sync_prefer *out,
                                                                    const char *name);

/** Options of a pull or a push. Opaque; read-only once set up (shareable between threads). */
typedef struct fastepost_odoo_sync_options fastepost_odoo_sync_options;

/**
 * New options: no URL and no key (a pull fails with FASTEPOST_EINVALID / FASTEPOST_ENOKEY until
 * they are set), protocol auto, models res.partner, from the stored cursor, overlap 300 s, pages
 * of 200, no deletion check, the system's CA certificates, timeouts 10 s / 60 s, the system clock.
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL out; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_new(fastepost_odoo_sync_options **out);
/** Release options (the key is wiped). A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_odoo_sync_options_free(fastepost_odoo_sync_options *opts);
/**
 * The Odoo server's root URL ("https://example.odoo.com"). https is required, except for a
 * loopback host (tests, a tunnel); the URL must not hold a user name or password. Copied.
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL, "", a user info part or another scheme
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_url(fastepost_odoo_sync_options *opts,
                                                                       const char *url);
/**
 * The database name (JSON-2 sends it as `X-Odoo-Database`; JSON-RPC needs it). NULL or "": none.
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_database(fastepost_odoo_sync_options *opts,
                                                                            const char *database);
/**
 * The bot user's login (JSON-RPC logs in with it; JSON-2 does not need it). NULL or "": none.
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_user(fastepost_odoo_sync_options *opts,
                                                                        const char *login);
/**
 * The API key. Copied, wiped when replaced or freed; sent only in a header (JSON-2) or the
 * request body (JSON-RPC), never in a URL, a log line or an error message.
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts or a NULL or empty key; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_api_key(fastepost_odoo_sync_options *opts,
                                                                           const char *key);
/** The protocol (default FASTEPOST_ODOO_SYNC_PROTOCOL_AUTO).
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts or an unknown value */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_protocol(fastepost_odoo_sync_options *opts,
                                                                            fastepost_odoo_sync_protocol protocol);
/**
 * The models to pull, comma-separated, in order: res.partner and crm.lead (default
 * "res.partner").
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL, an empty list or another model (the options
 *         are unchanged); FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_models(fastepost_odoo_sync_options *opts,
                                                                          const char *models);
/**
 * Start from this time instead of the stored cursor (the overlap still applies below it).
 * @param since_us  microseconds since the epoch, UTC; 0: the stored cursor (default)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts or a time outside 1970..9999
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_since(fastepost_odoo_sync_options *opts,
                                                                         int64_t since_us);
/** Pull everything, whatever the cursor says (an initial import). Overrides set_since().
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_full(fastepost_odoo_sync_options *opts, int yes);
/**
 * How far below the cursor each pull starts again: write_date is the time the writing
 * transaction STARTED, so a transaction that commits after a pull can carry an older write_date.
 * Make it longer than Odoo's longest transaction.
 * @param overlap_us  0: the default, FASTEPOST_ODOO_SYNC_DEFAULT_OVERLAP_US (300 s); at most a day
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts or a value outside 0..1 day
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_overlap(fastepost_odoo_sync_options *opts,
                                                                           int64_t overlap_us);
/**
 * Records per page: one request each, applied in database transactions of at most 1,000
 * records (each transaction holds an advisory lock per contact key until it commits, and the
 * server's lock table is shared: see fastepost_odoo_process_batch()).
 * @param n  0: the default (200); at most FASTEPOST_ODOO_SYNC_MAX_PAGE_SIZE
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts or n over the limit
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_page_size(fastepost_odoo_sync_options *opts,
                                                                             size_t n);
/**
 * Also compare the ids Odoo still has (`search` over all records, archived included) with the
 * active customers linked to Odoo records of each model, and make those whose record is gone
 * inactive (through the sync core: event type `<model>.unlink`). Off by default.
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_detect_deletions(fastepost_odoo_sync_options *opts,
                                                                                    int yes);
/**
 * A PEM file of CA certificates to verify the server with (default: the system's). Verification
 * cannot be switched off. Copied.
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_ca_file(fastepost_odoo_sync_options *opts,
                                                                           const char *path);
/**
 * Timeouts per request (retries of a 429/502/503/504 come on top, each wait capped at 30 s).
 * @param connect_us  0: 10 s; at most 10 minutes
 * @param total_us    0: 60 s; at most 1 hour
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts or a value out of range
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_timeouts(fastepost_odoo_sync_options *opts,
                                                                            int64_t connect_us, int64_t total_us);
/**
 * A clock for tests (NULL: the system clock). It sets the pull's upper bound (Odoo's write_date
 * is compared with it) and the processing time of the events.
 * @param payload  passed to clock; borrowed, must outlive the options
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_clock(fastepost_odoo_sync_options *opts,
                                                                         fastepost_clock_fn clock, void *payload);
/**
 * Progress after every committed page: rows = records fetched so far, bytes = 0. A nonzero
 * return stops the pull with FASTEPOST_ECANCELED (what was committed stays, with its cursor).
 * @param payload  borrowed
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_progress(fastepost_odoo_sync_options *opts,
                                                                            fastepost_progress_cb progress,
                                                                            void *payload);

/**
 * Push only: who wins a conflict (default FASTEPOST_ODOO_SYNC_PREFER_REMOTE).
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts or an unknown value
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_prefer(fastepost_odoo_sync_options *opts,
                                                                          fastepost_odoo_sync_prefer prefer);
/**
 * Push only: at most this many outbox rows per run (the rest waits for the next one).
 * @param n  0: the default, FASTEPOST_ODOO_SYNC_DEFAULT_PUSH_LIMIT (500); at most
 *           FASTEPOST_ODOO_SYNC_MAX_PUSH_LIMIT
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts or n over the limit
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_sync_options_set_push_limit(fastepost_odoo_sync_options *opts,
                                                                              size_t n);

/** What a pull did. Opaque; owns its data. */
typedef struct fastepost_odoo_pull_report fastepost_odoo_pull_report;

/**
 * Pull every configured model from Odoo into the database (see the file's description).
 *
 * @param out   receives the report (free with fastepost_odoo_pull_report_free()), also on
 *              failure whenever memory allowed: it then counts what was committed; may be NULL
 * @param conn  an open connection with the schema installed (migration 11), not inside a
 *              transaction of the caller's
 * @param opts  the options (URL and key required)
 * @return FASTEPOST_OK (each record's outcome counted, failed records included);
 *         FASTEPOST_EINVALID (no URL, bad options, conn inside a transaction);
 *         FASTEPOST_ENOKEY (no API key); FASTEPOST_EAUTH (Odoo refused the key or the user);
 *         FASTEPOST_ETIMEOUT, FASTEPOST_ECONN, FASTEPOST_EBUSY (Odoo slow, unreachable or still
 *         answering 429/503 after the retries); FASTEPOST_EEXTERNAL (an Odoo server error, its
 *         message kept); FASTEPOST_EDB; FASTEPOST_ECANCELED (the progress callback)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_pull(fastepost_odoo_pull_report **out, fastepost_conn *conn,
                                                       const fastepost_odoo_sync_options *opts);

/** Release a report. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_odoo_pull_report_free(fastepost_odoo_pull_report *report);
/** Records fetched from Odoo (every page, committed or not). */
FASTEPOST_EXTERN(uint64_t) fastepost_odoo_pull_report_fetched(const fastepost_odoo_pull_report *report);
/** Records of the committed pages that came out with this outcome (FASTEPOST_OUTCOME_NONE: failed). */
FASTEPOST_EXTERN(uint64_t) fastepost_odoo_pull_report_outcome_count(const fastepost_odoo_pull_report *report,
                                                                    fastepost_outcome outcome);
/** Records of the committed pages whose processing failed (logged as failed events). */
FASTEPOST_EXTERN(uint64_t) fastepost_odoo_pull_report_failed(const fastepost_odoo_pull_report *report);
/** Customers made inactive because their Odoo record is gone (set_detect_deletions()). */
FASTEPOST_EXTERN(uint64_t) fastepost_odoo_pull_report_deleted(const fastepost_odoo_pull_report *report);
/** Pages committed. */
FASTEPOST_EXTERN(uint64_t) fastepost_odoo_pull_report_pages(const fastepost_odoo_pull_report *report);
/** How many models the report covers (those pulled, in order). */
FASTEPOST_EXTERN(size_t) fastepost_odoo_pull_report_model_count(const fastepost_odoo_pull_report *report);
/** Model i ("res.partner"); "" out of range. Borrowed, valid until the report is freed. */
FASTEPOST_EXTERN(const char *) fastepost_odoo_pull_report_model(const fastepost_odoo_pull_report *report, size_t i);
/** Model i's cursor after the pull (the latest write_date committed, microseconds since the
 * epoch, UTC); 0 when there is none yet or i is out of range. */
FASTEPOST_EXTERN(int64_t) fastepost_odoo_pull_report_cursor_us(const fastepost_odoo_pull_report *report, size_t i);

/** What a push did. Opaque; owns its data. */
typedef struct fastepost_odoo_push_report fastepost_odoo_push_report;

/**
 * Send the queued local changes to Odoo (docs/odoo-sync.md, "Push-back").
 *
 * Each due row of fastepost_sync_outbox (source odoo; failed rows wait out their backoff) is
 * claimed, and its customer's current name, email, phone and archive state are sent:
 * - linked to res.partner:<id>: Odoo's write_date is read first; when it is newer than the
 *   version last synced (the customer's crm_updated_at, compared in whole seconds as Odoo
 *   answers), nothing is written and a `conflict` event is logged (prefer remote, the default;
 *   the next pull brings Odoo's values), or ours overwrites it (prefer local); else `write`;
 * - marked for Odoo (crm_source 'odoo', no crm_id): `create`, and the new id becomes the
 *   customer's crm_id.
 * After a write the write_date Odoo then reports becomes the customer's synced version, in a
 * transaction marked as the sync core's (fastepost.origin): the webhook Odoo fires for our own
 * write comes back `unchanged` and queues nothing. Every row pushed, in conflict or failed is
 * one integration event (source odoo, event type res.partner.push). A row is removed only after
 * success (or a conflict Odoo won, or a customer gone); a failure keeps it with attempts,
 * last_error and a backoff (30 s doubling, at most 1 h).
 *
 * @param out   receives the report (free with fastepost_odoo_push_report_free()), also on
 *              failure whenever memory allowed; may be NULL
 * @param conn  an open connection with the schema installed (migration 12), not inside a
 *              transaction of the caller's
 * @param opts  the options (URL and key required; set_prefer(), set_push_limit(), the clock)
 * @return FASTEPOST_OK (rows that failed alone, e.g. a ValidationError, are counted as failed);
 *         FASTEPOST_EINVALID (no URL, conn inside a transaction); FASTEPOST_ENOKEY (no key);
 *         FASTEPOST_EAUTH, FASTEPOST_ETIMEOUT, FASTEPOST_ECONN, FASTEPOST_EBUSY (Odoo refused
 *         the key, is slow or unreachable: the run stops, the row keeps its place);
 *         FASTEPOST_EDB
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_odoo_push(fastepost_odoo_push_report **out, fastepost_conn *conn,
                                                       const fastepost_odoo_sync_options *opts);

/** Release a push report. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_odoo_push_report_free(fastepost_odoo_push_report *report);
/** Outbox rows taken up by the push. */
FASTEPOST_EXTERN(uint64_t) fastepost_odoo_push_report_attempted(const fastepost_odoo_push_report *report);
/** Odoo records written (`write`), conflicts overwritten with prefer local included. */
FASTEPOST_EXTERN(uint64_t) fastepost_odoo_push_report_written(const fastepost_odoo_push_report *report);
/** Odoo records created (`create`) for customers marked for Odoo. */
FASTEPOST_EXTERN(uint64_t) fastepost_odoo_push_report_created(const fastepost_odoo_push_report *report);
/** Records changed in Odoo after the version last synced (kept or overwritten, per prefer). */
FASTEPOST_EXTERN(uint64_t) fastepost_odoo_push_report_conflicts(const fastepost_odoo_push_report *report);
/** Rows dropped without a request: the customer is gone or no longer pushed to Odoo, or its
 * Odoo record no longer exists. */
FASTEPOST_EXTERN(uint64_t) fastepost_odoo_push_report_skipped(const fastepost_odoo_push_report *report);
/** Rows whose push failed (kept in the outbox for a later attempt). */
FASTEPOST_EXTERN(uint64_t) fastepost_odoo_push_report_failed(const fastepost_odoo_push_report *report);

FASTEPOST_END_DECLS

#endif
