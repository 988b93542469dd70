/* SPDX-License-Identifier: MIT */
/* webhook.h, the generic entry for every CRM (fastepost_webhook_process, docs/webhooks.md).
 * Included after events.i (it reuses the batch record and the list copies). The configuration
 * is a handle; the request and the response are not: a helper builds the request from its
 * parts and returns the response as a dict / Hash that owns its data:
 *   WebhookConfig(json, spool or None, now_us)     a configuration loaded from JSON text (the
 *                                                  CLI's --config format); now_us 0: no fixed
 *                                                  clock; the spool is kept alive by the layer
 *   webhook_config_has_source(cfg, source) -> bool
 *   webhook_sources() -> ["odoo", "hubspot", ...]  every source, in registry order
 *   webhook_process(conn or None, source, method, uri, headers, body, cfg)
 *        headers: a flat list [name, value, name, value ...] of str / String
 *     -> {code, status, http_status, content_type, body (bytes / binary String), spooled,
 *         handshake, error, batch: the event batch's record (fp_event_batch_rec),
 *         external_ids: each event's record in its CRM, or None/nil}
 * Processing never raises for what the request did (refused, malformed, database down): the
 * response says what to answer. It raises for the caller's mistakes only: a header with a NUL
 * byte, a list that is not one of strings, no memory. A configuration is read-only once made,
 * so one WebhookConfig may serve every thread; processing runs with the GIL/GVL released. */

%header %{
/* The configuration with the fixed clock it may carry (the library borrows the payload). */
typedef struct fp_webhook_cfg {
  fastepost_webhook_config *cfg;
  int64_t now_us;
} fp_webhook_cfg;

static void fp_webhook_cfg_free(fp_webhook_cfg *c) {
  if (!c)
    return;
  fastepost_webhook_config_free(c->cfg);
  free(c);
}

static int64_t fp_webhook_fixed_clock(void *payload) { return *(const int64_t *)payload; }

/* A new configuration; NULL with the failure in *f. */
static fp_webhook_cfg *fp_webhook_cfg_new(fp_failure *f, const void *json, size_t len, fastepost_spool *spool,
                                          long long now_us) {
  fp_webhook_cfg *c = (fp_webhook_cfg *)calloc(1, sizeof *c);
  fastepost_status rc = c ? fastepost_webhook_config_new(&c->cfg) : FASTEPOST_ENOMEM;
  if (rc == FASTEPOST_OK && json && len)
    rc = fastepost_webhook_config_load_json(c->cfg, (const char *)json, len);
  if (rc == FASTEPOST_OK && spool)
    rc = fastepost_webhook_config_set_spool(c->cfg, spool);
  if (rc == FASTEPOST_OK && now_us > 0) {
    c->now_us = (int64_t)now_us;
    rc = fastepost_webhook_config_set_clock(c->cfg, fp_webhook_fixed_clock, &c->now_us);
  }
  if (rc != FASTEPOST_OK) {
    fp_failure_capture(f, rc);
    fp_webhook_cfg_free(c);
    return NULL;
  }
  return c;
}

#if defined(SWIGPYTHON)
static fp_obj fp_bytes_new(const void *p, size_t len) { return PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)len); }
#else
static fp_obj fp_bytes_new(const void *p, size_t len) { return rb_str_new((const char *)p, (long)len); }
#endif

typedef struct fp_webhook_call {
  fastepost_webhook_response **out;
  fastepost_conn *conn;
  const char *source;
  const fastepost_webhook_request *req;
  const fastepost_webhook_config *cfg;
  fastepost_status rc;
} fp_webhook_call;

static void *fp_webhook_thunk(void *p) {
  fp_webhook_call *a = (fp_webhook_call *)p;
  a->rc = fastepost_webhook_process(a->out, a->conn, a->source, a->req, a->cfg);
  return NULL;
}

/* The request from its parts; NULL with the failure in *f. Header names and values are C
 * strings: one with a NUL byte is refused rather than cut short. */
static fastepost_webhook_request *fp_webhook_request(fp_failure *f, const char *method, const char *uri,
                                                     const fp_keys *headers, const void *body, size_t len) {
  fastepost_webhook_request *req = NULL;
  fastepost_status rc = fastepost_webhook_request_new(&req);
  if (rc == FASTEPOST_OK)
    rc = fastepost_webhook_request_set_method(req, method ? method : "POST");
  if (rc == FASTEPOST_OK)
    rc = fastepost_webhook_request_set_uri(req, uri ? uri : "");
  for (size_t i = 0; rc == FASTEPOST_OK && i + 1 < headers->n; i += 2) {
    if (strlen(headers->keys[i]) != headers->lens[i] || strlen(headers->keys[i + 1]) != headers->lens[i + 1]) {
      f->code = FASTEPOST_EINVALID;
      f->sqlstate[0] = '\0';
      snprintf(f->message, sizeof f->message, "webhook header %zu contains a NUL byte", i / 2);
      fastepost_webhook_request_free(req);
      return NULL;
    }
    rc = fastepost_webhook_request_set_header(req, headers->keys[i], headers->keys[i + 1]);
  }
  if (rc == FASTEPOST_OK)
    rc = fastepost_webhook_request_set_body(req, body ? body : "", body ? len : 0);
  if (rc != FASTEPOST_OK) {
    fp_failure_capture(f, rc);
    fastepost_webhook_request_free(req);
    return NULL;
  }
  return req;
}

static fp_rec fp_webhook_response_rec(const fastepost_webhook_response *r) {
  fp_rec d = fp_rec_new();
  fastepost_status st = fastepost_webhook_response_status(r);
  fp_rec_int(d, "code", st);
  fp_rec_str(d, "status", st == FASTEPOST_OK ? "ok" : fastepost_error_name(st));
  fp_rec_int(d, "http_status", fastepost_webhook_response_http_status(r));
  fp_rec_str(d, "content_type", fastepost_webhook_response_content_type(r));
  fp_rec_put(d, "body", fp_bytes_new(fastepost_webhook_response_body(r), fastepost_webhook_response_body_len(r)));
  fp_rec_bool(d, "spooled", fastepost_webhook_response_spooled(r));
  fp_rec_bool(d, "handshake", fastepost_webhook_response_handshake(r));
  fp_rec_str_or_nil(d, "error", fastepost_webhook_response_error(r));
  const fastepost_event_batch *b = fastepost_webhook_response_events(r);
  fp_rec_rec(d, "batch", fp_event_batch_rec(b, NULL));
  /* The shared batch record has no external ids (the Odoo and HubSpot results' shape stays):
   * one per event here, in the batch's order; the layers join them. */
  fp_rec ids = fp_list_new();
  for (size_t i = 0; i < fastepost_event_batch_count(b); i++) {
    const char *id = fastepost_event_batch_external_id(b, i);
    fp_list_push(ids, id && *id ? fp_str_new(id) : fp_none());
  }
  fp_rec_rec(d, "external_ids", ids);
  return d;
}
%}

/* Before the class: its members are wrapped where it is declared. */
%apply (const void *BYTES, size_t LENGTH) { (const void *json, size_t json_len) };
%rename(WebhookConfig) fp_webhook_cfg;
%fastepost_handle(fp_webhook_cfg, fp_webhook_cfg_free)
%extend fp_webhook_cfg {
  fp_webhook_cfg(const void *json, size_t json_len, fastepost_spool *spool_opt, long long now_us) {
    fp_failure f;
    fp_webhook_cfg *c = fp_webhook_cfg_new(&f, json, json_len, spool_opt, now_us);
    if (!c)
      fp_raise_failure(&f); /* Python: returns NULL with the exception set (the ctor check) */
    return c;
  }
}

%apply const char *NULLABLE { const char *method, const char *uri };
%apply (const void *BYTES, size_t LENGTH) { (const void *body, size_t len) };
%rename(webhook_config_has_source) fp_webhook_config_has_source;
%rename(webhook_sources) fp_webhook_sources;
%rename(webhook_process) fp_webhook_process;
%rename(webhook_events_retry) fp_webhook_events_retry;
%rename(webhook_spool_replay) fp_webhook_spool_replay;
%inline %{
/* Retry and spool replay with a WebhookConfig: each payload is read with its source's section
 * (Odoo's barcode fields, monday's board columns ...), as the live delivery was. */
static fp_obj fp_webhook_events_retry(fastepost_conn *conn, size_t limit, const fp_webhook_cfg *cfg) {
  return fp_events_retry_cfg(conn, limit, cfg->cfg);
}

static fp_obj fp_webhook_spool_replay(fastepost_spool *spool, fastepost_conn *conn, size_t limit,
                                      const fp_webhook_cfg *cfg) {
  return fp_spool_replay_cfg(spool, conn, limit, cfg->cfg);
}

static int fp_webhook_config_has_source(const fp_webhook_cfg *cfg, const char *source) {
  return fastepost_webhook_config_has_source(cfg->cfg, source);
}

static fp_obj fp_webhook_sources(void) {
  fp_rec list = fp_list_new();
  for (size_t i = 0; i < fastepost_webhook_source_count(); i++)
    fp_list_push(list, fp_str_new(fastepost_webhook_source_at(i)));
  return fp_rec_done(list);
}

static fp_obj fp_webhook_process(fastepost_conn *conn_opt, const char *source, const char *method, const char *uri,
                                 fp_obj headers, const void *body, size_t len, const fp_webhook_cfg *cfg) {
  fp_keys h;
  fp_bodies_check_keys(headers);
  if (fp_keys_copy(headers, &h) < 0) {
    fp_keys_free(&h);
    return fp_copy_failed();
  }
  fp_failure f;
  fastepost_webhook_request *req = fp_webhook_request(&f, method, uri, &h, body, len);
  fp_keys_free(&h); /* headers may hold credentials: wiped */
  if (!req)
    return fp_raise_with(&f, NULL, FP_NIL);
  fastepost_webhook_response *resp = NULL;
  fp_webhook_call a = {&resp, conn_opt, source, req, cfg->cfg, FASTEPOST_OK};
  fp_run_unlocked_conn(fp_webhook_thunk, &a, conn_opt);
  fastepost_webhook_request_free(req);
  if (!resp) { /* only when even the response could not be allocated */
    fp_failure_capture(&f, a.rc != FASTEPOST_OK ? a.rc : FASTEPOST_ENOMEM);
    return fp_raise_with(&f, NULL, FP_NIL);
  }
  fp_rec d = fp_webhook_response_rec(resp);
  fastepost_webhook_response_free(resp);
  return fp_rec_done(d);
}
%}
%clear const char *method, const char *uri;
%clear (const void *body, size_t len);
%clear (const void *json, size_t json_len);
