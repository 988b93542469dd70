/* SPDX-License-Identifier: MIT */
/*
 * The Odoo client (odoo_client.h): JSON-2 and JSON-RPC over src/http/, version detection and
 * the mapping of Odoo's errors to the library's codes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "odoo_client/odoo_client.h"
#include "util/json.h"

struct fastepost__odoo_client {
  char *url, *database, *user, *key, *ca_file;
  fastepost__http_options http;
  fastepost__odoo_proto proto; /* AUTO until detected */
  int64_t uid;                 /* JSON-RPC, after common.login; 0 before */
  int next_id;
};

/* Odoo's answers nest a few levels (records, many2one pairs); this leaves room. */
#define ANSWER_DEPTH 64

void fastepost__odoo_secret_free(char *s) {
  if (!s)
    return;
  for (volatile char *p = s; *p; p++)
    *p = 0;
  free(s);
}

int fastepost__odoo_client_new(fastepost__odoo_client **out, const char *url, const char *database,
                               const char *user, const char *key, fastepost__odoo_proto proto,
                               const fastepost__http_options *http) {
  *out = NULL;
  if (!url || !*url || !key || !*key)
    return fastepost__error_set(FASTEPOST_EINVALID, "the Odoo client needs a URL and an API key");
  fastepost__odoo_client *c = calloc(1, sizeof *c);
  if (!c)
    return fastepost__error_oom();
  size_t n = strlen(url);
  while (n && url[n - 1] == '/')
    n--;
  c->url = fastepost__strndup(url, n);
  c->database = database && *database ? fastepost__strdup(database) : NULL;
  c->user = user && *user ? fastepost__strdup(user) : NULL;
  c->key = fastepost__strdup(key);
  if (http)
    c->http = *http;
  c->http.ca_file = NULL;
  if (http && http->ca_file && !(c->ca_file = fastepost__strdup(http->ca_file))) {
    fastepost__odoo_client_free(c);
    return FASTEPOST_ENOMEM;
  }
  c->http.ca_file = c->ca_file;
  c->proto = proto;
  if (!c->url || !c->key || (database && *database && !c->database) || (user && *user && !c->user)) {
    fastepost__odoo_client_free(c);
    return fastepost__error_oom();
  }
  *out = c;
  return FASTEPOST_OK;
}

void fastepost__odoo_client_free(fastepost__odoo_client *c) {
  if (!c)
    return;
  fastepost__odoo_secret_free(c->key);
  free(c->url);
  free(c->database);
  free(c->user);
  free(c->ca_file);
  free(c);
}

fastepost__odoo_proto fastepost__odoo_client_protocol(const fastepost__odoo_client *c) { return c->proto; }

/* ---- errors ---------------------------------------------------------------------------------- */

static int code_for(long http_status, const char *name, int rpc_code) {
  if (name && (strstr(name, "AccessDenied") || strstr(name, "AccessError") || strstr(name, "SessionExpired") ||
               strstr(name, "Unauthorized") || strstr(name, "Forbidden")))
    return FASTEPOST_EAUTH;
  if (rpc_code == 100)
    return FASTEPOST_EAUTH; /* "Odoo Session Expired" */
  if (name && (strstr(name, "MissingError") || strstr(name, "NotFound")))
    return FASTEPOST_ENOTFOUND;
  if (name && (strstr(name, "UserError") || strstr(name, "ValidationError") || strstr(name, "BadRequest")))
    return FASTEPOST_EINVALID;
  switch (http_status) {
  case 401:
  case 403:
    return FASTEPOST_EAUTH;
  case 404:
    return FASTEPOST_ENOTFOUND;
  case 400:
  case 422:
    return FASTEPOST_EINVALID;
  case 429:
  case 502:
  case 503:
  case 504:
    return FASTEPOST_EBUSY;
  default:
    return rpc_code == 404 ? FASTEPOST_ENOTFOUND : FASTEPOST_EEXTERNAL;
  }
}

/* Record an Odoo failure: "Odoo <what>: <name>: <message> (HTTP n)", the key scrubbed. */
static int odoo_error(const fastepost__odoo_client *c, const char *what, long http_status, const char *name,
                      const char *message, int rpc_code) {
  int code = code_for(http_status, name, rpc_code);
  char text[512];
  fastepost__preview(text, sizeof text, message && *message ? message : "no message", message && *message ? strlen(message) : 10);
  /* Odoo may echo arguments back; the key is one of JSON-RPC's. */
  size_t klen = strlen(c->key);
  for (char *hit; klen && (hit = strstr(text, c->key));) {
    memmove(hit + 3, hit + klen, strlen(hit + klen) + 1);
    memcpy(hit, "***", 3);
  }
  return fastepost__error_set(code, "Odoo %s: %s%s%s (HTTP %ld)", what, name && *name ? name : "",
                              name && *name ? ": " : "", text, http_status);
}

/* ---- transport ------------------------------------------------------------------------------- */

/* POST (body) or GET (NULL) path; *answer the parsed JSON (NULL when the body was not JSON),
 * *status the HTTP status. */
static int send_json(json_object **answer, long *status, fastepost__odoo_client *c, const char *path,
                     const char *body, bool bearer) {
  *answer = NULL;
  char url[2048];
  if ((size_t)snprintf(url, sizeof url, "%s%s", c->url, path) >= sizeof url)
    return fastepost__error_set(FASTEPOST_EINVALID, "the Odoo URL is too long");
  fastepost__buf auth = FASTEPOST__BUF_INIT, db = FASTEPOST__BUF_INIT;
  const char *headers[4];
  size_t n = 0;
  headers[n++] = "Content-Type: application/json; charset=utf-8";
  headers[n++] = "Accept: application/json";
  if (bearer) {
    fastepost__buf_printf(&auth, "Authorization: bearer %s", c->key);
    headers[n++] = fastepost__buf_cstr(&auth);
  }
  if (bearer && c->database) {
    fastepost__buf_printf(&db, "X-Odoo-Database: %s", c->database);
    headers[n++] = fastepost__buf_cstr(&db);
  }
  fastepost__http_response r;
  int rc = fastepost__http_request(&r, body ? "POST" : "GET", url, headers, n, body, body ? strlen(body) : 0,
                                   &c->http);
  if (auth.data)
    for (volatile char *p = auth.data; p < auth.data + auth.len; p++)
      *p = 0;
  fastepost__buf_free(&auth);
  fastepost__buf_free(&db);
  if (rc)
    return rc;
  *status = r.status;
  if (r.len)
    fastepost__json_parse(answer, r.body, r.len, ANSWER_DEPTH); /* not JSON: *answer stays NULL */
  fastepost_error_clear();
  fastepost__http_response_clear(&r);
  return FASTEPOST_OK;
}

/* One JSON-RPC call: service.method(args) -> *result. */
static int rpc(json_object **result, fastepost__odoo_client *c, const char *what, const char *service,
               const char *method, json_object *args) {
  *result = NULL;
  json_object *req = json_object_new_object(), *params = json_object_new_object();
  json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
  json_object_object_add(req, "method", json_object_new_string("call"));
  json_object_object_add(params, "service", json_object_new_string(service));
  json_object_object_add(params, "method", json_object_new_string(method));
  json_object_object_add(params, "args", json_object_get(args));
  json_object_object_add(req, "params", params);
  json_object_object_add(req, "id", json_object_new_int(++c->next_id));
  const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
  json_object *answer = NULL;
  long status = 0;
  int rc = text ? send_json(&answer, &status, c, "/jsonrpc", text, false) : fastepost__error_oom();
  /* the serialised request held the key: wipe json-c's buffer before it is freed */
  if (text)
    for (volatile char *p = (char *)(uintptr_t)text; *p; p++)
      *p = 0;
  json_object_put(req);
  if (rc)
    return rc;
  json_object *err = fastepost__json_get(answer, "error");
  if (err || status != 200 || !answer) {
    json_object *data = fastepost__json_get(err, "data");
    const char *name = fastepost__json_get(data, "name") ? json_object_get_string(fastepost__json_get(data, "name")) : NULL;
    const char *msg = fastepost__json_get(data, "message") ? json_object_get_string(fastepost__json_get(data, "message"))
                      : fastepost__json_get(err, "message") ? json_object_get_string(fastepost__json_get(err, "message"))
                      : answer ? NULL : "the answer is not JSON";
    int rpc_code = fastepost__json_get(err, "code") ? json_object_get_int(fastepost__json_get(err, "code")) : 0;
    rc = odoo_error(c, what, status, name, msg, rpc_code);
    json_object_put(answer);
    return rc;
  }
  if (!json_object_object_get_ex(answer, "result", result)) {
    json_object_put(answer);
    return fastepost__error_set(FASTEPOST_EPARSE, "Odoo %s: a JSON-RPC answer without result or error", what);
  }
  json_object_get(*result);
  json_object_put(answer);
  return FASTEPOST_OK;
}

/* ---- detection and login --------------------------------------------------------------------- */

/* JSON-2 exists from saas-18.4 and 19.0: [19, 0, ...], or ["saas~18", 4, ...]. */
static fastepost__odoo_proto proto_of_version(const json_object *info) {
  json_object *major = info && json_object_is_type(info, json_type_array) ? json_object_array_get_idx(info, 0) : NULL;
  json_object *minor = info && json_object_is_type(info, json_type_array) ? json_object_array_get_idx(info, 1) : NULL;
  if (!major)
    return FASTEPOST__ODOO_PROTO_AUTO;
  int m = 0;
  if (json_object_is_type(major, json_type_int))
    m = json_object_get_int(major);
  else if (json_object_is_type(major, json_type_string) && !strncmp(json_object_get_string(major), "saas~", 5))
    m = atoi(json_object_get_string(major) + 5);
  int n = minor && json_object_is_type(minor, json_type_int) ? json_object_get_int(minor) : 0;
  return m >= 19 || (m == 18 && n >= 4) ? FASTEPOST__ODOO_PROTO_JSON2 : FASTEPOST__ODOO_PROTO_JSONRPC;
}

static int detect(fastepost__odoo_client *c) {
  json_object *answer = NULL;
  long status = 0;
  int rc = send_json(&answer, &status, c, "/web/version", NULL, false);
  if (rc)
    return rc;
  fastepost__odoo_proto p = status == 200 ? proto_of_version(fastepost__json_get(answer, "version_info"))
                                          : FASTEPOST__ODOO_PROTO_AUTO;
  json_object_put(answer);
  if (p == FASTEPOST__ODOO_PROTO_AUTO) { /* older servers: ask JSON-RPC, which Odoo 22 no longer has */
    json_object *args = json_object_new_array(), *info = NULL;
    rc = rpc(&info, c, "common.version", "common", "version", args);
    json_object_put(args);
    if (rc == FASTEPOST_ENOTFOUND) {
      p = FASTEPOST__ODOO_PROTO_JSON2;
    } else if (rc) {
      return fastepost__error_prefix("cannot tell the Odoo version of %s", c->url), rc;
    } else {
      p = proto_of_version(fastepost__json_get(info, "server_version_info"));
      if (p == FASTEPOST__ODOO_PROTO_AUTO)
        p = FASTEPOST__ODOO_PROTO_JSONRPC;
    }
    json_object_put(info);
  }
  c->proto = p;
  fastepost_error_clear();
  return FASTEPOST_OK;
}

static int login(fastepost__odoo_client *c) {
  if (!c->database || !c->user)
    return fastepost__error_set(FASTEPOST_EINVALID, "JSON-RPC needs the database and the user's login "
                                                    "(JSON-2 needs neither)");
  json_object *args = json_object_new_array(), *uid = NULL;
  json_object_array_add(args, json_object_new_string(c->database));
  json_object_array_add(args, json_object_new_string(c->user));
  json_object_array_add(args, json_object_new_string(c->key));
  int rc = rpc(&uid, c, "common.login", "common", "login", args);
  json_object_put(args);
  if (rc)
    return rc;
  if (!json_object_is_type(uid, json_type_int) || json_object_get_int64(uid) <= 0) {
    json_object_put(uid);
    char user[128];
    fastepost__preview(user, sizeof user, c->user, strlen(c->user));
    return fastepost__error_set(FASTEPOST_EAUTH, "Odoo refused the login of \"%s\" with this API key", user);
  }
  c->uid = json_object_get_int64(uid);
  json_object_put(uid);
  return FASTEPOST_OK;
}

int fastepost__odoo_client_connect(fastepost__odoo_client *c) {
  int rc = FASTEPOST_OK;
  if (c->proto == FASTEPOST__ODOO_PROTO_AUTO)
    rc = detect(c);
  if (!rc && c->proto == FASTEPOST__ODOO_PROTO_JSONRPC && !c->uid)
    rc = login(c);
  return rc;
}

/* ---- calls ----------------------------------------------------------------------------------- */

static int call_json2(json_object **result, fastepost__odoo_client *c, const char *what, const char *model,
                      const char *method, json_object *kw) {
  char path[512];
  if ((size_t)snprintf(path, sizeof path, "/json/2/%s/%s", model, method) >= sizeof path)
    return fastepost__error_set(FASTEPOST_EINVALID, "Odoo model or method name too long");
  long status = 0;
  int rc = send_json(result, &status, c, path, json_object_to_json_string_ext(kw, JSON_C_TO_STRING_PLAIN), true);
  if (rc)
    return rc;
  if (status != 200 || !*result) {
    const char *name = fastepost__json_get(*result, "name") ? json_object_get_string(fastepost__json_get(*result, "name")) : NULL;
    const char *msg = fastepost__json_get(*result, "message") ? json_object_get_string(fastepost__json_get(*result, "message"))
                      : *result ? NULL : "the answer is not JSON";
    rc = odoo_error(c, what, status, name, msg, 0);
    if (status == 200)
      rc = fastepost__error_set(FASTEPOST_EPARSE, "Odoo %s: the answer is not JSON", what);
    json_object_put(*result);
    *result = NULL;
  }
  return rc;
}

static int call_rpc(json_object **result, fastepost__odoo_client *c, const char *what, const char *model,
                    const char *method, const char *positional, json_object *kw) {
  json_object *args = json_object_new_array(), *pos = json_object_new_array(), *kwargs = json_object_new_object();
  json_object_array_add(args, json_object_new_string(c->database));
  json_object_array_add(args, json_object_new_int64(c->uid));
  json_object_array_add(args, json_object_new_string(c->key));
  json_object_array_add(args, json_object_new_string(model));
  json_object_array_add(args, json_object_new_string(method));
  json_object_object_foreach(kw, k, v) {
    if (positional && !strcmp(k, positional))
      json_object_array_add(pos, json_object_get(v));
    else
      json_object_object_add(kwargs, k, json_object_get(v));
  }
  json_object_array_add(args, pos);
  json_object_array_add(args, kwargs);
  int rc = rpc(result, c, what, "object", "execute_kw", args);
  json_object_put(args);
  return rc;
}

int fastepost__odoo_client_call(json_object **result, fastepost__odoo_client *c, const char *model,
                                const char *method, const char *positional, json_object *kw) {
  *result = NULL;
  int rc = fastepost__odoo_client_connect(c);
  if (rc)
    return rc;
  char what[256];
  snprintf(what, sizeof what, "%s.%s", model, method);
  return c->proto == FASTEPOST__ODOO_PROTO_JSON2 ? call_json2(result, c, what, model, method, kw)
                                                 : call_rpc(result, c, what, model, method, positional, kw);
}
