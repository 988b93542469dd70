/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost/hubspot.h
 * @brief HubSpot webhooks: request signature verification (v3, and v1/v2 on request).
 *
 * HubSpot signs every webhook request. Version 3 (headers `X-HubSpot-Signature-v3` and
 * `X-HubSpot-Request-Timestamp`) is an HMAC-SHA256 with the app's client secret over
 * `method + URI + body + timestamp`, Base64-encoded, where the URI has 12 percent-escapes
 * decoded first (see fastepost_hubspot_decode_uri()). Versions 1 and 2 (header
 * `X-HubSpot-Signature` with `X-HubSpot-Signature-Version`) are plain SHA-256 hex digests of
 * `secret + body` and `secret + method + URI + body`: they carry no timestamp, so they cannot
 * refuse a replayed request, and a verifier accepts them only when told to.
 *
 * A verifier holds the configuration: one or more secrets (several at once while a secret is
 * rotated), the accepted versions, the replay window and, for tests, a fixed clock. Verify
 * over the exact body bytes received, before any JSON parsing.
 *
 * fastepost_hubspot_process() verifies a request and ingests its batch: each event becomes one
 * integration_events row and, for contacts, a customer change through the same sync core as
 * Odoo deliveries (last writer wins per property by occurredAt, tombstones for deleted
 * contacts, merges). A host's webhook action:
 *
 *     fastepost_webhook_request *req = NULL;       // fastepost/webhook.h
 *     fastepost_webhook_request_new(&req);
 *     fastepost_webhook_request_set_method(req, "POST");
 *     fastepost_webhook_request_set_uri(req, public_url);
 *     fastepost_webhook_request_set_header(req, "X-HubSpot-Signature-v3", sig_header);
 *     fastepost_webhook_request_set_header(req, "X-HubSpot-Request-Timestamp", ts_header);
 *     fastepost_webhook_request_set_body(req, body, len);
 *     fastepost_event_batch *b = NULL;
 *     fastepost_status st = fastepost_hubspot_process(&b, conn, verifier, req, NULL);
 *     answer(fastepost_event_batch_http_status(b));
 *     fastepost_event_batch_free(b);
 *     fastepost_webhook_request_free(req);
 *
 * See docs/hubspot.md.
 */
#ifndef FASTEPOST_HUBSPOT_H
#define FASTEPOST_HUBSPOT_H

#include "common.h"
#include "conn.h"
#include "events.h"
#include "webhook.h"

FASTEPOST_BEGIN_DECLS

/** Signature versions, as bits for fastepost_hubspot_verifier_set_versions(). */
typedef enum fastepost_hubspot_version {
  FASTEPOST_HUBSPOT_VERSION_V1 = 1, /**< SHA-256 hex of secret + body (no replay protection) */
  FASTEPOST_HUBSPOT_VERSION_V2 = 2, /**< SHA-256 hex of secret + method + URI + body (no replay protection) */
  FASTEPOST_HUBSPOT_VERSION_V3 = 4  /**< Base64 HMAC-SHA256 of method + URI + body + timestamp */
} fastepost_hubspot_version;

/** The largest number of secrets a verifier holds at once. */
#define FASTEPOST_HUBSPOT_MAX_SECRETS 8
/** The default replay window: HubSpot's 5 minutes, in microseconds, in both directions. */
#define FASTEPOST_HUBSPOT_DEFAULT_TOLERANCE_US INT64_C(300000000)
/** The default largest body accepted for verification (1 MiB). */
#define FASTEPOST_HUBSPOT_DEFAULT_MAX_BODY (1024 * 1024)

/** Verification settings. Opaque; one thread at a time. */
typedef struct fastepost_hubspot_verifier fastepost_hubspot_verifier;

/**
 * Create a verifier with the defaults: no secret (so every request is refused with
 * FASTEPOST_ENOKEY until one is added), only v3 accepted, a 5-minute window, the system
 * clock, bodies up to 1 MiB.
 *
 * @param out  receives the verifier, to release with fastepost_hubspot_verifier_free()
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when out is NULL; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_hubspot_verifier_new(fastepost_hubspot_verifier **out);

/** Release a verifier, wiping its secrets from memory. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_hubspot_verifier_free(fastepost_hubspot_verifier *v);

/**
 * Add a client secret. A request is valid when it matches any of the secrets, so during a
 * rotation both the old and the new secret can be configured.
 *
 * @param v       the verifier
 * @param secret  the app's client secret (UTF-8, not empty); copied
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL or "", FASTEPOST_ETOOBIG beyond
 *         FASTEPOST_HUBSPOT_MAX_SECRETS secrets; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_hubspot_verifier_add_secret(fastepost_hubspot_verifier *v,
                                                                         const char *secret);

/**
 * Forget every secret (wiping them). Afterwards every request fails with FASTEPOST_ENOKEY.
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_hubspot_verifier_clear_secrets(fastepost_hubspot_verifier *v);

/**
 * Choose the accepted signature versions.
 *
 * @param v         the verifier
 * @param versions  a non-empty combination of fastepost_hubspot_version bits
 *                  (default FASTEPOST_HUBSPOT_VERSION_V3)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for 0 or unknown bits
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_hubspot_verifier_set_versions(fastepost_hubspot_verifier *v,
                                                                           unsigned versions);

/**
 * Set the replay window for v3: a timestamp further than this before or after the clock is
 * refused. HubSpot's timestamps are milliseconds: the window is used to the millisecond.
 *
 * @param v   the verifier
 * @param us  microseconds, 1000 (1 ms) to 86400000000 (1 day); 0 for the default,
 *            FASTEPOST_HUBSPOT_DEFAULT_TOLERANCE_US (5 minutes)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID out of range
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_hubspot_verifier_set_tolerance(fastepost_hubspot_verifier *v,
                                                                            int64_t us);

/**
 * Fix the clock (for tests and replays of recorded requests).
 *
 * @param v       the verifier
 * @param now_us  microseconds since the Unix epoch, UTC; 0 returns to the system clock
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL or a negative time
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_hubspot_verifier_set_now(fastepost_hubspot_verifier *v, int64_t now_us);

/**
 * Set the largest body accepted; a larger one is refused before any hashing.
 *
 * @param v      the verifier
 * @param bytes  the limit; 0 for the default, FASTEPOST_HUBSPOT_DEFAULT_MAX_BODY (1 MiB)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_hubspot_verifier_set_max_body(fastepost_hubspot_verifier *v,
                                                                           size_t bytes);

/**
 * Verify one request (fastepost/webhook.h). The signature is read from its headers: a request
 * with `X-HubSpot-Signature-v3` is checked as v3 with `X-HubSpot-Request-Timestamp`; else one
 * with `X-HubSpot-Signature` as the version `X-HubSpot-Signature-Version` names (v1 when it is
 * missing). The method, the URI (the full public URL, percent-escapes as received; v3 decodes it
 * with fastepost_hubspot_decode_uri(), v2 uses it verbatim) and the exact body bytes are the
 * request's.
 *
 * @param secret_index  if not NULL, receives on success the 0-based position (in the order
 *                      added) of the secret that matched: it tells when an old secret is no
 *                      longer in use; untouched on failure
 * @param v             the verifier
 * @param req           the request
 * @return FASTEPOST_OK when the signature matches one secret and the timestamp is fresh;
 *         FASTEPOST_EAUTH when the request must be refused: no signature header, a version
 *         not enabled, a missing method, URI or timestamp, a malformed or stale or future
 *         timestamp, a mismatch (the message says which, and never shows a secret or the
 *         expected signature); FASTEPOST_ENOKEY when no secret is configured (fail closed);
 *         FASTEPOST_ETOOBIG when the body exceeds the limit; FASTEPOST_EINVALID for a NULL
 *         argument or an unknown version name
 */
FASTEPOST_EXTERN(fastepost_status)
fastepost_hubspot_verify(size_t *secret_index, const fastepost_hubspot_verifier *v,
                         const fastepost_webhook_request *req);

/**
 * Compute a signature of a request as HubSpot would (to test an endpoint, or in tests): over
 * its method, URI, body and (v3) its `X-HubSpot-Request-Timestamp` header.
 *
 * @param out        receives the signature (Base64 for v3, lowercase hex for v1 and v2);
 *                   release with fastepost_free()
 * @param req        the request (the method, URI and timestamp are needed for v2 and v3)
 * @param version    FASTEPOST_HUBSPOT_VERSION_V1, _V2 or _V3 (one bit)
 * @param secret     the client secret
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a missing input; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status)
fastepost_hubspot_sign(char **out, const fastepost_webhook_request *req, fastepost_hubspot_version version,
                       const char *secret);

/**
 * Decode a request URI as HubSpot does before signing with v3: only the 12 escapes
 * `%3A : %2F / %3F ? %40 @ %21 ! %24 $ %27 ' %28 ( %29 ) %2A * %2C , %3B ;` (hex digits in
 * either case) are decoded; every other escape (`%20`, `%3D`, `%25` ...) stays as it is.
 *
 * @param out  receives the decoded URI; release with fastepost_free()
 * @param uri  the URI as received
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_hubspot_decode_uri(char **out, const char *uri);

/* ---- processing ---------------------------------------------------------------------------- */

/** HubSpot's documented batch limit ("up to 100 events"), the default of the options. */
#define FASTEPOST_HUBSPOT_DEFAULT_MAX_EVENTS 100

/** Processing options. Opaque; every field has a default. */
typedef struct fastepost_hubspot_options fastepost_hubspot_options;

/**
 * New options with the defaults: at most 100 events per batch, the system clock.
 * @param out  receives the options (free with fastepost_hubspot_options_free())
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when out is NULL; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_hubspot_options_new(fastepost_hubspot_options **out);
/** Release options. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_hubspot_options_free(fastepost_hubspot_options *opts);
/**
 * The largest number of events a batch may hold; a larger batch is refused as a whole with
 * FASTEPOST_ETOOBIG and nothing is written.
 * @param opts        the options
 * @param max_events  1 to 100000; 0 for the default, FASTEPOST_HUBSPOT_DEFAULT_MAX_EVENTS (100)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts or more than 100000
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_hubspot_options_set_max_events(fastepost_hubspot_options *opts,
                                                                            size_t max_events);
/**
 * The accepted range of source timestamps (`occurredAt`): a delivery whose timestamp is earlier than
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
FASTEPOST_EXTERN(fastepost_status) fastepost_hubspot_options_set_time_range(fastepost_hubspot_options *opts,
                                                                           int64_t min_us, int64_t max_ahead_us);
/**
 * A clock for tests and replays (NULL: the database server's clock, statement_timestamp(), so
 * that event rows, the retry due check and the statistics agree). It also drives the time
 * range check above.
 * @param clock    returns microseconds since the Unix epoch, UTC; NULL for the server's clock
 * @param payload  passed to clock; borrowed, must outlive the options
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL opts
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_hubspot_options_set_clock(fastepost_hubspot_options *opts,
                                                                       fastepost_clock_fn clock, void *payload);

/**
 * Verify a HubSpot webhook request, then ingest its batch (a JSON array of events) in one
 * transaction, each event in its own savepoint.
 *
 * Every event is one `integration_events` row (`source` hubspot, `event_type` its
 * subscriptionType or eventType, `external_id` "contact:<objectId>", the event object as the
 * payload), deduplicated by a key over appId, portalId, subscriptionId, eventId, objectId,
 * occurredAt, the type and propertyName (not attemptNumber): a redelivery is a `duplicate`.
 * Contact events change the customer with `crm_source` hubspot and `crm_id` the objectId:
 * creation, propertyChange (email; firstname + lastname -> name; phone, else mobilephone;
 * company; address, city, zip, country -> address), deletion / privacyDeletion (deactivated,
 * tombstoned), restore (reactivated, when newer than the deletion), merge (the merged
 * contacts' customers deactivated and tombstoned). A change
 * older (by occurredAt) than the stored value of its property, or than the contact's deletion,
 * is `stale`. Other object types and contact subscriptions are `ignored`. An event that is
 * malformed, or fails in the database, fails alone and is logged as an `error` row; the others
 * are applied.
 *
 * @param out        receives the batch result (free with fastepost_event_batch_free()): one
 *                   result per event (fastepost_event_batch_get(), _event_type(), _object_id()),
 *                   also on failure whenever memory allowed (then with no events); may be NULL
 * @param conn       an open connection, not inside a transaction; the schema installed
 * @param verifier   the signature settings, or NULL when the host has verified the request
 *                   itself (then the signature headers are ignored)
 * @param req        the request: method, URI, signature headers and body as received
 * @param opts       options, or NULL for the defaults
 * @return FASTEPOST_OK when the batch was committed (whatever each event's outcome: read
 *         them from the result); nothing is written when the request is refused:
 *         FASTEPOST_EAUTH, FASTEPOST_ENOKEY (signature, see fastepost_hubspot_verify());
 *         FASTEPOST_ETOOBIG (body or event count over the limit); FASTEPOST_EPARSE (not UTF-8,
 *         not JSON, not an array); FASTEPOST_EINVALID (NULL conn or request, or inside a
 *         transaction); FASTEPOST_ECONN, FASTEPOST_EBUSY when the batch could not be committed
 *         (HubSpot should deliver it again: answer 503); the code of an event that failed and
 *         could not be logged either (e.g. FASTEPOST_EDB, 500), though the others committed:
 *         it is in no log and no retry queue, so HubSpot must deliver the request again (the
 *         logged events come back as duplicates)
 */
FASTEPOST_EXTERN(fastepost_status)
fastepost_hubspot_process(fastepost_event_batch **out, fastepost_conn *conn,
                          const fastepost_hubspot_verifier *verifier, const fastepost_webhook_request *req,
                          const fastepost_hubspot_options *opts);

FASTEPOST_END_DECLS

#endif
