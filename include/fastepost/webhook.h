/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost/webhook.h
 * @brief One incoming webhook request (method, URI, headers, body), handed to a CRM adapter.
 *
 * A host builds one request per HTTP request it received and passes it to the adapter's
 * processing call (fastepost_hubspot_process() ...), which reads what it needs from it: the
 * signature headers, the URI it was sent to, the exact body bytes. The request owns copies of
 * everything set on it, so the host's buffers may be reused at once.
 *
 *     fastepost_webhook_request *req = NULL;
 *     fastepost_webhook_request_new(&req);
 *     fastepost_webhook_request_set_method(req, "POST");
 *     fastepost_webhook_request_set_uri(req, "https://example.com/hooks/hubspot?x=1");
 *     fastepost_webhook_request_set_header(req, "X-HubSpot-Signature-v3", sig);
 *     fastepost_webhook_request_set_body(req, body, len);
 *     ...
 *     fastepost_webhook_request_free(req);
 *
 * Header names compare without regard to ASCII case, as in HTTP; setting a header again
 * replaces its value. See docs/adapters.md.
 */
#ifndef FASTEPOST_WEBHOOK_H
#define FASTEPOST_WEBHOOK_H

#include "common.h"
#include "conn.h"
#include "events.h"

FASTEPOST_BEGIN_DECLS

typedef struct fastepost_spool fastepost_spool;

/** A webhook request. Opaque; owns copies of its method, URI, headers and body. */
typedef struct fastepost_webhook_request fastepost_webhook_request;

/**
 * A new empty request: method "POST", URI "", no header, an empty body.
 *
 * @param out  receives the request (free with fastepost_webhook_request_free())
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when out is NULL; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_webhook_request_new(fastepost_webhook_request **out);
/** Release a request (its copies are wiped: headers may hold secrets). A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_webhook_request_free(fastepost_webhook_request *req);

/**
 * The HTTP method as received ("POST").
 *
 * @param req     the request
 * @param method  NUL-terminated; copied
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL arguments; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_webhook_request_set_method(fastepost_webhook_request *req,
                                                                        const char *method);
/**
 * The full public URL the request was sent to (scheme, host, path, query), percent-escapes as
 * received: signatures are computed over it.
 *
 * @param req  the request
 * @param uri  NUL-terminated; copied
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL arguments; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_webhook_request_set_uri(fastepost_webhook_request *req,
                                                                     const char *uri);
/**
 * Set a header. Names compare case-insensitively (ASCII); setting a name again replaces its
 * value; a NULL value removes the header.
 *
 * @param req    the request
 * @param name   the header name ("X-HubSpot-Signature-v3"), not empty; copied
 * @param value  its value; copied; NULL removes the header
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a NULL request or a NULL or empty name;
 *         FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_webhook_request_set_header(fastepost_webhook_request *req,
                                                                        const char *name, const char *value);
/**
 * The raw body bytes as received (may hold NUL bytes).
 *
 * @param req   the request
 * @param body  the bytes; copied; NULL only when len is 0
 * @param len   their number
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a NULL request or a NULL body with a length;
 *         FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_webhook_request_set_body(fastepost_webhook_request *req,
                                                                      const void *body, size_t len);

/** The method ("POST" unless set). Borrowed: valid until the request changes or is freed. */
FASTEPOST_EXTERN(const char *) fastepost_webhook_request_method(const fastepost_webhook_request *req);
/** The URI ("" unless set). Borrowed, as above. */
FASTEPOST_EXTERN(const char *) fastepost_webhook_request_uri(const fastepost_webhook_request *req);
/**
 * A header's value, found case-insensitively; "" when the request has no such header (see
 * fastepost_webhook_request_has_header() to tell an absent header from an empty one).
 * Borrowed, as above.
 */
FASTEPOST_EXTERN(const char *) fastepost_webhook_request_header(const fastepost_webhook_request *req,
                                                                const char *name);
/** 1 when the request has the header (case-insensitive name), else 0. */
FASTEPOST_EXTERN(int) fastepost_webhook_request_has_header(const fastepost_webhook_request *req,
                                                           const char *name);
/** The body's length in bytes. */
FASTEPOST_EXTERN(size_t) fastepost_webhook_request_body_len(const fastepost_webhook_request *req);
/**
 * The body bytes (NUL-terminated after body_len bytes for convenience, but may hold NUL bytes
 * itself). Borrowed, as above; never NULL.
 */
FASTEPOST_EXTERN(const void *) fastepost_webhook_request_body(const fastepost_webhook_request *req);

/* ---- one entry point for every CRM ------------------------------------------------------------ */

/**
 * The sources fastepost_webhook_process() accepts, in registry order: "odoo", "hubspot",
 * "pipedrive", "monday", "salesforce", "zoho".
 *
 * @return the number of sources; fastepost_webhook_source_at() gives each (NULL out of range)
 */
FASTEPOST_EXTERN(size_t) fastepost_webhook_source_count(void);
/** The i-th source name (static), or NULL when i is out of range. */
FASTEPOST_EXTERN(const char *) fastepost_webhook_source_at(size_t i);

/**
 * The configuration of every CRM source a host accepts webhooks from: keys, secrets, accepted
 * organisations, board columns. Opaque. Built from JSON, the format of the CLI's `--config`
 * file and of the bindings' hash/dict (docs/webhooks.md lists every key):
 *
 *     {"odoo": {"api_keys": ["..."]}, "hubspot": {"client_secrets": ["..."]},
 *      "pipedrive": {"basic_auth": ["user:password"]},
 *      "monday": {"signing_secrets": ["..."], "require_jwt": true, "url": "https://...",
 *                 "boards": {"1771812698": {"email": "email_mkrkkywc", "phone": "phone_mkrkrbbw"}}},
 *      "salesforce": {"organization_ids": ["00D000000000001"]},
 *      "zoho": {"channels": [{"channel_id": "1000000068001", "token": "..."}],
 *               "workflow_tokens": ["..."]}}
 *
 * A source without a section is not configured: its requests are refused (FASTEPOST_ENOKEY,
 * 401), nothing is written. The configuration holds secrets: they are wiped when it is freed and
 * never appear in an error message. Safe to share between threads once loaded (read-only).
 */
typedef struct fastepost_webhook_config fastepost_webhook_config; /* also in events.h and spool.h */

/**
 * A new, empty configuration (every source refused).
 *
 * @param out  receives it (free with fastepost_webhook_config_free())
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when out is NULL; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_webhook_config_new(fastepost_webhook_config **out);
/** Release a configuration (its secrets are wiped). A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_webhook_config_free(fastepost_webhook_config *cfg);
/**
 * Load a JSON object of source sections ({"pipedrive": {...}, ...}): each section present
 * replaces that source's configuration; other sources keep theirs.
 *
 * @param cfg   the configuration
 * @param json  the JSON text (need not be NUL-terminated)
 * @param len   its length in bytes
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for text that is not a JSON object, an unknown source,
 *         or a wrong key, type or value (the message names it: "monday.boards.17.email: not a
 *         string"; never a secret's value); FASTEPOST_ENOMEM. On failure cfg is unchanged
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_webhook_config_load_json(fastepost_webhook_config *cfg,
                                                                      const char *json, size_t len);
/** 1 when source has a section in cfg, else 0 (also for NULL arguments or an unknown source). */
FASTEPOST_EXTERN(int) fastepost_webhook_config_has_source(const fastepost_webhook_config *cfg, const char *source);
/**
 * The processing clock: stamps event rows and decides time windows (monday's JWT `exp`,
 * HubSpot's signature timestamp). Unset: the database server's clock for event rows and the
 * host's for signature windows.
 *
 * @param cfg      the configuration
 * @param clock    returns microseconds since the Unix epoch (UTC); NULL unsets it
 * @param payload  handed to clock
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when cfg is NULL
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_webhook_config_set_clock(fastepost_webhook_config *cfg,
                                                                      fastepost_clock_fn clock, void *payload);
/**
 * A spool for deliveries that meet an unreachable or read-only database: a verified request is
 * then written to the spool and answered 202 (Salesforce: its acknowledgement), to be replayed
 * by fastepost_spool_replay(). Borrowed: it must outlive every call that uses cfg.
 *
 * @param cfg    the configuration
 * @param spool  the spool, or NULL for none (the default: such a delivery fails, 503)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when cfg is NULL
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_webhook_config_set_spool(fastepost_webhook_config *cfg,
                                                                      fastepost_spool *spool);

/**
 * What to answer the CRM, and what happened to each event the request carried. Opaque.
 */
typedef struct fastepost_webhook_response fastepost_webhook_response;

/**
 * Process one webhook request from source: answer a handshake (monday's challenge), verify
 * (constant time, fail closed), parse the request into its events (one request may carry
 * many), run them through the sync core in one transaction (a savepoint each), and say what to
 * answer. A refused request writes nothing. An unreachable or read-only database spools the
 * verified request when cfg has a spool.
 *
 * @param out     receives the response (free with fastepost_webhook_response_free()) whenever
 *                memory allows, also on failure: it always says what to answer
 * @param conn    an open connection (may be NULL when cfg has a spool: the request is spooled)
 * @param source  "odoo", "hubspot", "pipedrive", "monday", "salesforce" or "zoho"
 * @param req     the request as received
 * @param cfg     the configuration
 * @return FASTEPOST_OK (also for a batch in which some events failed and were logged: see the
 *         events); the code of an event that failed without being logged (its answer is not
 *         2xx, so that the sender delivers the request again);
 *         FASTEPOST_EAUTH or FASTEPOST_ENOKEY (401); FASTEPOST_EINVALID for an unknown source,
 *         NULL arguments or a malformed body (400); FASTEPOST_ECONN, FASTEPOST_EBUSY,
 *         FASTEPOST_EDB when the database failed (nothing applied; 503/500); FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_webhook_process(fastepost_webhook_response **out, fastepost_conn *conn,
                                                             const char *source, const fastepost_webhook_request *req,
                                                             const fastepost_webhook_config *cfg);

/** Release a response. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_webhook_response_free(fastepost_webhook_response *resp);
/** What fastepost_webhook_process() returned. */
FASTEPOST_EXTERN(fastepost_status) fastepost_webhook_response_status(const fastepost_webhook_response *resp);
/** The HTTP status to answer (200, 202, 400, 401, 500, 503 ...). */
FASTEPOST_EXTERN(int) fastepost_webhook_response_http_status(const fastepost_webhook_response *resp);
/** The Content-Type to answer ("application/json", "text/xml; charset=utf-8"). Never NULL. */
FASTEPOST_EXTERN(const char *) fastepost_webhook_response_content_type(const fastepost_webhook_response *resp);
/** The body to answer (NUL-terminated after body_len bytes). Never NULL. */
FASTEPOST_EXTERN(const void *) fastepost_webhook_response_body(const fastepost_webhook_response *resp);
/** The body's length in bytes. */
FASTEPOST_EXTERN(size_t) fastepost_webhook_response_body_len(const fastepost_webhook_response *resp);
/** 1 when the request was a handshake answered without processing, else 0. */
FASTEPOST_EXTERN(int) fastepost_webhook_response_handshake(const fastepost_webhook_response *resp);
/** 1 when the verified request was written to the spool, else 0. */
FASTEPOST_EXTERN(int) fastepost_webhook_response_spooled(const fastepost_webhook_response *resp);
/**
 * The events the request carried, with their results (empty for a refused request or a
 * handshake). Borrowed: valid until the response is freed. Never NULL.
 */
FASTEPOST_EXTERN(const fastepost_event_batch *) fastepost_webhook_response_events(const fastepost_webhook_response *resp);
/** The error message of a failed call ("" when none). Never holds a secret. */
FASTEPOST_EXTERN(const char *) fastepost_webhook_response_error(const fastepost_webhook_response *resp);

/** What fastepost_webhook_response_json() writes (bits). */
typedef enum fastepost_webhook_json_flags {
  FASTEPOST_WEBHOOK_JSON_RESULT = 0,  /**< the JSON result alone: the generic answer's body */
  FASTEPOST_WEBHOOK_JSON_RESPONSE = 1 /**< also the answer: "response": {"content_type", "body"} */
  /* append-only: the numbers are ABI */
} fastepost_webhook_json_flags;

/**
 * The JSON result of a processed request, on one line:
 *
 *     {"status": "ok", "http_status": 200,
 *      "events": [{"index": 0, "event_id": 17, "outcome": "created", "customer_id": 4,
 *                  "remark_id": null, "external_id": "contact:101", "error": null}],
 *      "error": null}
 *
 * `status` is "ok" or the error's name ("FASTEPOST_EAUTH", fastepost_error_name());
 * `http_status` the answer's; ids that are 0 and texts that are "" are null. This is the body of
 * the generic answer (sources without an answer of their own: Content-Type application/json)
 * and, with FASTEPOST_WEBHOOK_JSON_RESPONSE, what `fastepost webhook process --json` prints
 * (`"response": {"content_type": ..., "body": ...}` after `http_status`; a body that is not
 * UTF-8 text is null).
 *
 * @param out    receives the text (free with fastepost_free())
 * @param resp   the response
 * @param flags  FASTEPOST_WEBHOOK_JSON_RESULT or FASTEPOST_WEBHOOK_JSON_RESPONSE
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL arguments or unknown flags; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_webhook_response_json(char **out, const fastepost_webhook_response *resp,
                                                                   unsigned flags);

FASTEPOST_END_DECLS

#endif
