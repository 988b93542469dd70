/* SPDX-License-Identifier: MIT */
/*
 * The CRM adapter interface: what the library needs from each CRM, in one table per CRM, so
 * that the retry queue (events.c), the spool (spool.c) and the batch runner know no CRM.
 * Private to the library. The recipe for adding a CRM is in docs/adapters.md.
 *
 * An adapter knows payload shapes and nothing about SQL: it turns a request body into
 * fastepost__sync_record values (sync.h) and hands them to the sync core, which knows SQL and
 * nothing about payloads. Every adapter:
 *   - names its source ("odoo"), the value of integration_events.source and the spool's
 *     `source` line;
 *   - verifies a request (its key or signature) against its configuration, before anything
 *     is parsed or written: a refused request writes nothing;
 *   - parses a body into records, one per event the request carries (Odoo: one delivery, one
 *     record; HubSpot: one record per event of the batch). Parsing fills each record's
 *     dedup key (rec->idempotency_key: a redelivery of the same event gets the same key and
 *     becomes a `duplicate`) and version key (rec->version: the source's timestamp of the
 *     record; older than what is stored makes it `stale`), described by dedup_key and
 *     version_key below;
 *   - reprocesses a stored payload (integration_events.payload, for fastepost_events_retry());
 *   - replays a spooled body (for fastepost_spool_replay()), or has no replay when its
 *     deliveries are never spooled.
 * The public entry points of an adapter (fastepost_odoo_process() ...) verify, parse and then
 * run the records through fastepost__adapter_process() (one record) or
 * fastepost__adapter_run_batch() (several, in one transaction with a savepoint each).
 */
#ifndef FASTEPOST_ADAPTERS_ADAPTER_H
#define FASTEPOST_ADAPTERS_ADAPTER_H

#include <stdarg.h>

#include "fastepost/webhook.h"
#include "sync.h"

struct json_object;

/* An injected processing clock (fastepost_clock_fn and its payload), shared by the options of
 * every adapter and of the retry queue. Unset: the database server's clock. */
typedef struct fastepost__clock {
  fastepost_clock_fn fn;
  void *payload;
} fastepost__clock;

/* The clock's time, or FASTEPOST__SYNC_SERVER_CLOCK when c is NULL or unset. */
int64_t fastepost__clock_now(const fastepost__clock *c);
/* The setter behind every options' set_clock(): FASTEPOST_EINVALID (naming `who`) when c is
 * NULL (the options were NULL). */
int fastepost__clock_set(fastepost__clock *c, fastepost_clock_fn fn, void *payload, const char *who);

/* fastepost_<prefix>_options_set_clock() for an options struct with a `fastepost__clock clock`
 * field (hubspot, odoo, retry: see their headers), defined once. */
#define FASTEPOST__OPTIONS_CLOCK_SETTER(prefix)                                                     \
  fastepost_status fastepost_##prefix##_options_set_clock(fastepost_##prefix##_options *o,          \
                                                          fastepost_clock_fn clock, void *payload) { \
    return fastepost__clock_set(o ? &o->clock : NULL, clock, payload,                                \
                                "fastepost_" #prefix "_options_set_clock");                          \
  }

/* The clock setter and fastepost_<prefix>_options_set_time_range() of an adapter's options
 * (`fastepost__time_range time_range` field too): the checks every webhook adapter makes on the
 * timestamps it is sent. */
#define FASTEPOST__OPTIONS_TIME_SETTERS(prefix)                                                     \
  fastepost_status fastepost_##prefix##_options_set_time_range(fastepost_##prefix##_options *o,     \
                                                               int64_t min_us,                      \
                                                               int64_t max_ahead_us) {              \
    return fastepost__time_range_set(o ? &o->time_range : NULL, min_us, max_ahead_us,               \
                                     "fastepost_" #prefix "_options_set_time_range");               \
  }                                                                                                 \
  FASTEPOST__OPTIONS_CLOCK_SETTER(prefix)

/* The records parsed from one body. items are initialised for the adapter's source. */
typedef struct fastepost__records {
  fastepost__sync_record *items;
  size_t count;
} fastepost__records;

/* n records initialised for source (n may be 0). FASTEPOST_ENOMEM on failure (out empty). */
int fastepost__records_alloc(fastepost__records *out, size_t n, const char *source);
/* Clear every record and release the array. */
void fastepost__records_free(fastepost__records *recs);

/* A record the adapter refuses (logged as a failed event, the others of its body go on):
 * failure = code and failure_message = the formatted text (at most 511 bytes), replacing an
 * earlier one. Returns code, or FASTEPOST_ENOMEM when the text could not be kept (then the
 * record's failure too). */
int fastepost__record_fail(fastepost__sync_record *rec, int code, const char *fmt, ...) FASTEPOST__PRINTF(3, 4);
int fastepost__record_failv(fastepost__sync_record *rec, int code, const char *fmt, va_list ap)
    FASTEPOST__PRINTF(3, 0);
/* A stored payload that no longer reads (a retry): rec is cleared and becomes a failed record
 * of source with code and message, under the event type it was stored with (NULL or "": the
 * core logs "unknown"). Returns FASTEPOST_OK (the core logs the failed record), or
 * FASTEPOST_ENOMEM. */
int fastepost__record_unreadable(fastepost__sync_record *rec, const char *source, const char *event_type, int code,
                                 const char *message);

/* The time range of a payload accepted once (a retry, a replay): no range refuses it now, only
 * the arithmetic stays safe. */
#define FASTEPOST__TIME_RANGE_ANY {0, FASTEPOST__TIME_LIMIT_US}

/* A record logged as `ignored`, with the formatted reason (at most 511 bytes), replacing an
 * earlier one. FASTEPOST_OK, or FASTEPOST_ENOMEM (and the record fails with it). */
int fastepost__record_ignore(fastepost__sync_record *rec, const char *fmt, ...) FASTEPOST__PRINTF(2, 3);

/* The answer an adapter wants sent for a request (handshake, respond): status, content type
 * and body, all owned. */
typedef struct fastepost__response {
  int http_status;
  char *content_type;
  char *body;
  size_t len;
} fastepost__response;

/* Replace r's answer with copies (body may hold NUL bytes; NULL with len 0 for none).
 * FASTEPOST_ENOMEM leaves r as it was. */
int fastepost__response_set(fastepost__response *r, int http_status, const char *content_type, const void *body,
                            size_t len);
/* Release r's strings and zero it. */
void fastepost__response_clear(fastepost__response *r);

typedef struct fastepost__adapter {
  /* "odoo": integration_events.source, the spool's source, the registry's key. */
  const char *source;
  /* What the dedup (idempotency) key covers and which field is the version key (for the
   * documentation and error messages; parsing computes both). */
  const char *dedup_key;
  const char *version_key;
  /* The adapter's configuration, built from its section of the JSON configuration that
   * fastepost_webhook_config_load_json() reads ({"<source>": section, ...}). `config` below is
   * always what config_new built (NULL where a caller has none: retry, replay). A wrong key,
   * type or value is FASTEPOST_EINVALID naming it ("pipedrive.basic_auth[0]: not a string").
   * NULL for an adapter that is only used through its own public call. */
  int (*config_new)(void **out, struct json_object *section);
  void (*config_free)(void *config);
  /* Answer a request before verification when the CRM's protocol wants it (monday's
   * {"challenge": ...}): 1 when answered (resp filled: nothing else happens), 0 when the request
   * is a normal one, < 0 never (an error is a normal request that verify refuses). NULL: none.
   * config is NULL when the source has no section (fastepost_webhook_process() refuses such a
   * source's other requests with ENOKEY). */
  int (*handshake)(fastepost__response *resp, const void *config, const fastepost_webhook_request *req);
  /* Check the request's key or signature against config. FASTEPOST_OK, FASTEPOST_EAUTH,
   * FASTEPOST_ENOKEY (nothing configured: fail closed). Runs before anything is parsed or
   * written: a refused request writes nothing. */
  int (*verify)(const void *config, const fastepost_webhook_request *req);
  /* Parse a body into out (allocated by the adapter). A body refused as a whole (not JSON,
   * too big ...) returns its code with out empty; an event that is unusable on its own becomes
   * a record with rec->failure set, which the core logs as an error row. now_us is the
   * processing clock (FASTEPOST__SYNC_SERVER_CLOCK: the server's). */
  int (*parse)(fastepost__records *out, const void *config, const void *body, size_t len, int64_t now_us);
  /* The answer after processing (the batch b, its status rc; spooled: the verified body went to
   * the spool because the database was unreachable, rc is then FASTEPOST_OK). NULL: the
   * generic JSON answer (fastepost_event_batch_http_status(), the JSON result). Salesforce's
   * SOAP acknowledgement is the example. Called for every request of the source that was not
   * a handshake, refused ones too (rc EAUTH, ENOKEY: config is then NULL when the source has no
   * section); a non-zero return (ENOMEM) falls back to the generic answer. */
  int (*respond)(fastepost__response *resp, const void *config, const fastepost_event_batch *b, int rc,
                 bool spooled);
  /* A stored payload (and its event_type) into rec (initialised by the caller), for a retry:
   * it was accepted once, so no size or time-range check refuses it now. config: the caller's
   * configuration for this source, or NULL when it has none. */
  int (*reprocess)(fastepost__sync_record *rec, const void *config, const char *payload, const char *event_type,
                   int64_t now_us);
  /* A spooled body with the hints spooled with it (event, content type; "" when none) into
   * out, for a replay; config as for reprocess. NULL when the source's deliveries are never
   * spooled. */
  int (*replay)(fastepost__records *out, const void *config, const void *body, size_t len, const char *event,
                const char *content_type, int64_t now_us);
  /* Optional (NULL: parse over the body), for an adapter whose body depends on the request's
   * headers or URI (Odoo: its Content-Type, form or JSON, and the ?event= hint): parse with the
   * whole request. fastepost_webhook_process() calls it instead of parse when set. */
  int (*parse_request)(fastepost__records *out, const void *config, const fastepost_webhook_request *req,
                       int64_t now_us);
  /* Optional (NULL: none): the event hint to spool with a verified request, written into out
   * (size bytes, "" for none), so that replay() reads the body as parse_request() did (Odoo's
   * ?event=). Never a key or a signature: the spool file holds no secret. */
  void (*spool_event)(char *out, size_t size, const void *config, const fastepost_webhook_request *req);
} fastepost__adapter;

/* ---- the processing clock of a request (webhook.c) ------------------------------------------ */

/*
 * "Now" for checks an adapter makes on a request (a signature's timestamp, a JWT's exp), in
 * microseconds since the epoch: the clock of fastepost_webhook_config_set_clock() while
 * fastepost_webhook_process() runs, else the host's clock. verify() and parse_request() read it
 * here because the interface hands them the request, not the configuration's clock.
 */
int64_t fastepost__webhook_request_now_us(const fastepost_webhook_request *req);
/* A view of req that reads as req but carries clock (borrowed, may be NULL) for
 * fastepost__webhook_request_now_us(). It borrows req's strings: release it with
 * fastepost__webhook_request_view_free() (never fastepost_webhook_request_free()) before req
 * changes or is freed. FASTEPOST_ENOMEM on failure. */
int fastepost__webhook_request_view(fastepost_webhook_request **out, const fastepost_webhook_request *req,
                                    const fastepost__clock *clock);
void fastepost__webhook_request_view_free(fastepost_webhook_request *view);

/* The value of query parameter `name` of a URI ("...?api_key=...&event=write"), percent- and
 * plus-decoded; NULL when absent or out of memory. Free with free() (wipe it first when it is a
 * key). The first occurrence counts. */
char *fastepost__uri_query_param(const char *uri, const char *name);

/* Whether a delivery met a database that could not take it at all (unreachable, shutting down,
 * read-only) and reached nothing (none of its n results has an event row): such a delivery is
 * spooled when a spool is set. rc is the processing status; res may be NULL when n is 0. */
bool fastepost__adapter_unreachable(int rc, const fastepost_event_result *const *res, size_t n);

/* ---- the registry (registry.c) -------------------------------------------------------------- */

/* The adapter of a source, or NULL. */
const fastepost__adapter *fastepost__adapter_find(const char *source);
/* Every adapter, for listing: count and i-th (NULL out of range). */
size_t fastepost__adapter_count(void);
const fastepost__adapter *fastepost__adapter_at(size_t i);

/* The adapters (each in its own folder file: odoo.c, hubspot.c). */
extern const fastepost__adapter fastepost__odoo_adapter;
extern const fastepost__adapter fastepost__hubspot_adapter;
extern const fastepost__adapter fastepost__pipedrive_adapter;
extern const fastepost__adapter fastepost__monday_adapter;
extern const fastepost__adapter fastepost__salesforce_adapter;
extern const fastepost__adapter fastepost__zoho_adapter;

/* ---- the runner (runner.c): records through the sync core ------------------------------------ */

/* Process one record outside a batch; fills res (non-NULL). On failure the thread's error is
 * set from the result's message; on success it is cleared. Returns res->code. */
int fastepost__adapter_process(fastepost_event_result *res, fastepost_conn *conn, fastepost__sync_record *rec,
                               const fastepost__sync_ctx *ctx);

/* A new batch result with n results, each allocated (FASTEPOST_ENOMEM on failure). */
int fastepost__event_batch_new(fastepost_event_batch **out, size_t n);
/* Result i of a batch (for the adapter to fill before the run, e.g. a refused delivery). */
fastepost_event_result *fastepost__event_batch_result(fastepost_event_batch *b, size_t i);
/* Note what event i is (type, external id "<kind>:<id>"): copied for the batch's getters. */
int fastepost__event_batch_describe(fastepost_event_batch *b, size_t i, const char *event_type,
                                    const char *external_id);

/*
 * Run records through the core in one transaction, each in its own savepoint, into b's
 * results: recs[i] goes to result i unless skip[i] is true (a refused delivery keeps the result
 * the adapter filled). When the commit fails, nothing was applied and every processed result
 * says so. Returns FASTEPOST_OK or the code the batch failed with (error set).
 */
int fastepost__adapter_run_batch(fastepost_event_batch *b, fastepost_conn *conn, fastepost__sync_record *recs,
                                 const bool *skip, size_t n, const fastepost__sync_ctx *ctx);
/* The same for recs[from..from+n) into results from..from+n (recs is the whole array), so that
 * a caller can split a large batch into several transactions (src/odoo_pull.c). */
int fastepost__adapter_run_batch_range(fastepost_event_batch *b, size_t from, size_t n, fastepost_conn *conn,
                                       fastepost__sync_record *recs, const fastepost__sync_ctx *ctx);

/* How many results of b failed without an event row (their failure could not be logged
 * either: nothing will retry them), and the first of them in *first (NULL when none). A caller
 * that acknowledges, forgets or moves past the batch's events must not do so while this is
 * non-zero: the sender or the source has to deliver them again. */
size_t fastepost__event_batch_unlogged(const fastepost_event_batch *b, const fastepost_event_result **first);
/* FASTEPOST_OK, or, when an event of b failed unlogged, that event's code with the error set:
 * "an event of the <what> failed and was not logged: <its error>". */
int fastepost__event_batch_require_logged(const fastepost_event_batch *b, const char *what);

/* Hand the batch to the caller (or free it when out is NULL) with its final status; counts the
 * failed events. Returns rc. */
int fastepost__event_batch_finish(fastepost_event_batch **out, fastepost_event_batch *b, int rc);

#endif
