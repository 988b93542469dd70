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

FASTEPOST_BEGIN_DECLS

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

FASTEPOST_END_DECLS

#endif
