/* SPDX-License-Identifier: MIT */
/*
 * A client for Odoo's external APIs (private): JSON-2 (`POST /json/2/<model>/<method>`, Odoo 19
 * and later; `Authorization: bearer <key>`, `X-Odoo-Database` when a database is named) and
 * JSON-RPC (`POST /jsonrpc`: `common.login` for the uid, then `object.execute_kw`; Odoo 14 to
 * 21), chosen by the caller or detected from the server's version (`GET /web/version`, else
 * `common.version`). Every request goes through src/http/ (TLS, timeouts, retries).
 *
 * Odoo's failures map to the library's codes, with Odoo's own message kept (never the key;
 * a message that would contain it has it replaced by "***"):
 *   FASTEPOST_EAUTH     401, 403, AccessDenied, AccessError, "Invalid apikey", session
 *                       expired (JSON-RPC code 100), a login that returns false
 *   FASTEPOST_ENOTFOUND 404, MissingError (a record or a route that does not exist)
 *   FASTEPOST_EINVALID  400, 422, UserError, ValidationError (the request was wrong)
 *   FASTEPOST_EBUSY     429, 502, 503, 504 still answered after the retries
 *   FASTEPOST_EEXTERNAL any other Odoo server error (JSON-RPC code 200, HTTP 5xx)
 *   FASTEPOST_EPARSE    an answer that is not the JSON the protocol promises
 * and the transport's codes from http.h (ETIMEOUT, ECONN, ETOOBIG, EINVALID).
 */
#ifndef FASTEPOST_ODOO_CLIENT_H
#define FASTEPOST_ODOO_CLIENT_H

#include <json-c/json.h>
#include <stdint.h>

#include "http/http.h"

typedef enum {
  FASTEPOST__ODOO_PROTO_AUTO = 0,
  FASTEPOST__ODOO_PROTO_JSON2 = 1,
  FASTEPOST__ODOO_PROTO_JSONRPC = 2
} fastepost__odoo_proto;

typedef struct fastepost__odoo_client fastepost__odoo_client;

/* A client for url (the server's root, "https://example.odoo.com"); database and user may be
 * NULL (JSON-RPC needs both: FASTEPOST_EINVALID when it is chosen or detected without them);
 * key is copied and wiped on free. http is copied (its ca_file too). Nothing is sent yet. */
int fastepost__odoo_client_new(fastepost__odoo_client **out, const char *url, const char *database,
                               const char *user, const char *key, fastepost__odoo_proto proto,
                               const fastepost__http_options *http);
void fastepost__odoo_client_free(fastepost__odoo_client *c);

/* Overwrite a secret (an API key) with zeros and free it, so that it does not linger in freed
 * heap memory (a core dump, a later allocation). A no-op on NULL. */
void fastepost__odoo_secret_free(char *s);

/* The protocol in use, detecting it (and logging in, for JSON-RPC) on first use. */
int fastepost__odoo_client_connect(fastepost__odoo_client *c);
fastepost__odoo_proto fastepost__odoo_client_protocol(const fastepost__odoo_client *c);

/*
 * Call model.method with named arguments kw (borrowed; an object). JSON-2 sends kw as the body;
 * JSON-RPC sends kw[positional] (when positional is not NULL: "domain", "ids") as the one
 * positional argument and the rest as keyword arguments of execute_kw. *result receives the
 * answer (a new reference). Connects first when needed.
 */
int fastepost__odoo_client_call(json_object **result, fastepost__odoo_client *c, const char *model,
                                const char *method, const char *positional, json_object *kw);

#endif
