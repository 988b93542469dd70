/* SPDX-License-Identifier: MIT */
/* events.h, odoo.h and HubSpot processing (hubspot.h): webhook ingestion, the event log and the
 * retry queue. Helpers instead of the option handles and the result getters, each returning
 * plain dicts / Hashes that own their data:
 *   odoo_process(conn or None, body, presented_key, expected_keys, host_authenticated, event,
 *                content_type, max_body, max_depth, barcode_fields, spool or None)
 *                                    0 / None: the defaults; conn None spools (a spool is set)
 *   odoo_process_batch(conn, bodies, presented_keys, expected_keys, host_authenticated, event,
 *                      content_type, max_body, max_depth, barcode_fields)
 *     expected_keys and presented_keys are lists of strings (the layers build them, and read
 *     ODOO_API_KEY: the library reads no environment variable)
 *   hubspot_process(conn, verifier, version, method, uri, timestamp, signature, body, max_events)
 *     builds the fastepost_webhook_request a host would (the signature in the header its
 *     version uses) and processes it
 *   events_list(conn, source, status, limit) -> list;  events_retry(conn, limit) -> counts
 * Results have the keys and types of the CLI's --json (docs/events.md): ids, outcome and
 * error None/nil when there is none; times in microseconds (`_us`).
 * A processing failure that comes with a result raises the code's exception class with the
 * result in its `result` attribute (every exception also has `http_status`). Processing runs
 * with the GIL/GVL released; bodies are copied or immutable, so no other thread can change
 * them meanwhile. odoo_authenticate, status_http and outcome_name are mirrored one to one. */
%header %{
#include <stdbool.h>
%}
%fastepost_blocking(6, fastepost_odoo_process, fastepost_event_result **, fastepost_conn *, const char *, const void *, size_t, const fastepost_odoo_options *)
%fastepost_blocking(7, fastepost_odoo_process_batch, fastepost_event_batch **, fastepost_conn *, const char *const *, const void *const *, const size_t *, size_t, const fastepost_odoo_options *)
%fastepost_blocking(5, fastepost_events_list, fastepost_event_list **, fastepost_conn *, const char *, const char *, size_t)
%fastepost_blocking(3, fastepost_events_retry, fastepost_retry_report **, fastepost_conn *, const fastepost_retry_options *)

%rename("$ignore", regextarget=1) "^fastepost_event_result";
%rename("$ignore", regextarget=1) "^fastepost_event_list";
%rename("$ignore", regextarget=1) "^fastepost_event_batch";
%rename("$ignore", regextarget=1) "^fastepost_retry_";
%rename("$ignore", regextarget=1) "^fastepost_odoo_options";
%ignore fastepost_event;
%ignore fastepost_events_list;
%ignore fastepost_events_retry;
%ignore fastepost_odoo_process;
%ignore fastepost_odoo_process_batch;

%apply const char *NULLABLE { const char *expected, const char *presented };
%include "fastepost/events.h"
%include "fastepost/odoo.h"
%clear const char *expected, const char *presented;

/* ---- copies of a list of bodies (a batch), per language ---- */
#if defined(SWIGPYTHON)
%header %{
/* Copies the bytes (or UTF-8 of str) of each item of a sequence; -1 with the exception set. */
static int fp_bodies_copy(fp_obj seq, char ***bodies, size_t **lens, size_t *n) {
  PyObject *fast = PySequence_Fast(seq, "bodies must be a sequence of bytes or str");
  if (!fast)
    return -1;
  Py_ssize_t count = PySequence_Fast_GET_SIZE(fast);
  *n = (size_t)count;
  *bodies = (char **)calloc((size_t)count + 1, sizeof **bodies);
  *lens = (size_t *)calloc((size_t)count + 1, sizeof **lens);
  if (!*bodies || !*lens) {
    Py_DECREF(fast);
    PyErr_NoMemory();
    return -1;
  }
  for (Py_ssize_t i = 0; i < count; i++) {
    PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
    const char *s;
    Py_ssize_t len;
    if (PyUnicode_Check(item)) {
      s = PyUnicode_AsUTF8AndSize(item, &len);
    } else if (PyBytes_Check(item)) {
      s = PyBytes_AS_STRING(item);
      len = PyBytes_GET_SIZE(item);
    } else {
      PyErr_Format(PyExc_TypeError, "body %zd must be bytes or str, not %.100s", i, Py_TYPE(item)->tp_name);
      s = NULL;
    }
    if (!s || !((*bodies)[i] = (char *)malloc((size_t)len + 1))) {
      if (s)
        PyErr_NoMemory();
      Py_DECREF(fast);
      return -1;
    }
    memcpy((*bodies)[i], s, (size_t)len);
    (*lens)[i] = (size_t)len;
  }
  Py_DECREF(fast);
  return 0;
}
%}
#else
%header %{
/* Checks every item first, then copies. Raises only with rb_raise() from this frame, before
 * anything is allocated: a raise from inside Ruby (StringValue ...) would longjmp past this
 * instrumented frame without AddressSanitizer noticing (see fp_rb_call_body). */
static void fp_bodies_check(fp_obj seq) {
  VALUE ary = seq;
  if (!RB_TYPE_P(ary, T_ARRAY))
    rb_raise(rb_eTypeError, "bodies and keys must be an Array of Strings, not %s", rb_obj_classname(ary));
  long count = RARRAY_LEN(ary);
  for (long i = 0; i < count; i++)
    if (!RB_TYPE_P(RARRAY_AREF(ary, i), T_STRING))
      rb_raise(rb_eTypeError, "item %ld must be a String, not %s", i, rb_obj_classname(RARRAY_AREF(ary, i)));
}

/* Call fp_bodies_check() on every list first when copying several. */
static int fp_bodies_copy(fp_obj seq, char ***bodies, size_t **lens, size_t *n) {
  VALUE ary = seq;
  fp_bodies_check(ary);
  long count = RARRAY_LEN(ary);
  *n = (size_t)count;
  *bodies = (char **)calloc((size_t)count + 1, sizeof **bodies);
  *lens = (size_t *)calloc((size_t)count + 1, sizeof **lens);
  if (!*bodies || !*lens)
    return -1;
  for (long i = 0; i < count; i++) {
    VALUE s = RARRAY_AREF(ary, i);
    size_t len = (size_t)RSTRING_LEN(s);
    if (!((*bodies)[i] = (char *)malloc(len + 1)))
      return -1;
    memcpy((*bodies)[i], RSTRING_PTR(s), len);
    (*lens)[i] = len;
  }
  RB_GC_GUARD(ary);
  return 0;
}
%}
#endif

#if defined(SWIGPYTHON)
%header %{
static void fp_bodies_check(fp_obj seq) { (void)seq; /* fp_bodies_copy sets the exception */ }
%}
#endif

%header %{
static void fp_bodies_free(char **bodies, size_t *lens, size_t n) {
  if (bodies)
    for (size_t i = 0; i < n; i++)
      free(bodies[i]);
  free(bodies);
  free(lens);
}

/* fp_bodies_check() for a list of keys, which may be None / nil. */
static void fp_bodies_check_keys(fp_obj seq) {
#if defined(SWIGPYTHON)
  (void)seq;
#else
  if (!NIL_P(seq))
    fp_bodies_check(seq);
#endif
}

/* A copy of a list of keys (None / nil: an empty list); keys are wiped before they are freed.
 * -1 with the exception set (Python); Ruby raises from fp_bodies_check() before any copy. */
typedef struct fp_keys {
  char **keys;
  size_t *lens;
  size_t n;
} fp_keys;

static int fp_keys_copy(fp_obj seq, fp_keys *k) {
  k->keys = NULL;
  k->lens = NULL;
  k->n = 0;
#if defined(SWIGPYTHON)
  if (!seq || seq == Py_None)
    return 0;
#else
  if (NIL_P(seq))
    return 0;
#endif
  if (fp_bodies_copy(seq, &k->keys, &k->lens, &k->n) < 0)
    return -1;
  for (size_t i = 0; i < k->n; i++) /* C strings: fp_bodies_copy leaves room for the NUL */
    k->keys[i][k->lens[i]] = '\0';
  return 0;
}

static void fp_keys_free(fp_keys *k) {
  for (size_t i = 0; k->keys && i < k->n; i++)
    if (k->keys[i])
      for (volatile char *p = k->keys[i]; p < k->keys[i] + k->lens[i]; p++)
        *p = 0;
  fp_bodies_free(k->keys, k->lens, k->n);
  k->keys = NULL;
  k->n = 0;
}

/* An id or a time: None/nil for 0 ("none"), as the CLI's --json prints null. */
static void fp_rec_id(fp_rec d, const char *key, int64_t v) {
  if (v)
    fp_rec_int(d, key, (long long)v);
  else
    fp_rec_nil(d, key);
}

static void fp_rec_str_or_nil(fp_rec d, const char *key, const char *v) {
  if (v && *v)
    fp_rec_str(d, key, v);
  else
    fp_rec_nil(d, key);
}

static fp_rec fp_event_result_rec(const fastepost_event_result *r) {
  fp_rec d = fp_rec_new();
  fastepost_status code = fastepost_event_result_code(r);
  fp_rec_int(d, "code", code);
  fp_rec_str(d, "status", code == FASTEPOST_OK ? "ok" : fastepost_error_name(code));
  fp_rec_int(d, "http_status", fastepost_event_result_http(r, code));
  const char *outcome = fastepost_outcome_name(fastepost_event_result_outcome(r));
  if (*outcome)
    fp_rec_str(d, "outcome", outcome);
  else
    fp_rec_nil(d, "outcome");
  fp_rec_id(d, "event_id", fastepost_event_result_event_id(r));
  fp_rec_id(d, "customer_id", fastepost_event_result_customer_id(r));
  fp_rec_id(d, "remark_id", fastepost_event_result_remark_id(r));
  fp_rec_id(d, "task_id", fastepost_event_result_task_id(r));
  fp_rec warnings = fp_list_new();
  for (size_t i = 0; i < fastepost_event_result_warning_count(r); i++)
    fp_list_push(warnings, fp_str_new(fastepost_event_result_warning(r, i)));
  fp_rec_rec(d, "warnings", warnings);
  const char *error = fastepost_event_result_error(r);
  if (error && error[0])
    fp_rec_str(d, "error", error);
  else
    fp_rec_nil(d, "error");
  return d;
}

/* Options from the helper's arguments; on failure *f holds it and NULL is returned. */
static fastepost_odoo_options *fp_odoo_options(fp_failure *f, const fp_keys *expected, int host_authenticated,
                                               const char *event, const char *content_type,
                                               size_t max_body, int max_depth, const char *barcode_fields,
                                               fastepost_spool *spool) {
  fastepost_odoo_options *o = NULL;
  fastepost_status rc = fastepost_odoo_options_new(&o);
  for (size_t i = 0; rc == FASTEPOST_OK && i < expected->n; i++) {
    /* A key cut at a NUL byte would accept a shorter key: refused as an empty one (EINVALID);
     * the layers say why before they get here. */
    bool cut = strlen(expected->keys[i]) != expected->lens[i];
    rc = fastepost_odoo_options_add_api_key(o, cut ? "" : expected->keys[i]);
  }
  if (rc == FASTEPOST_OK && host_authenticated)
    rc = fastepost_odoo_options_set_host_authenticated(o, true);
  if (rc == FASTEPOST_OK && event)
    rc = fastepost_odoo_options_set_event(o, event);
  if (rc == FASTEPOST_OK && content_type)
    rc = fastepost_odoo_options_set_content_type(o, content_type);
  if (rc == FASTEPOST_OK && max_body)
    rc = fastepost_odoo_options_set_max_body(o, max_body);
  if (rc == FASTEPOST_OK && max_depth)
    rc = fastepost_odoo_options_set_max_depth(o, max_depth);
  if (rc == FASTEPOST_OK && barcode_fields)
    rc = fastepost_odoo_options_set_barcode_fields(o, barcode_fields);
  if (rc == FASTEPOST_OK && spool)
    rc = fastepost_odoo_options_set_spool(o, spool);
  if (rc != FASTEPOST_OK) {
    fp_failure_capture(f, rc);
    fastepost_odoo_options_free(o);
    return NULL;
  }
  return o;
}

/* The result of a call that returned rc and maybe a result: raise with it, or return it. */
static fp_obj fp_result_or_raise(fastepost_status rc, const fp_failure *f, fp_rec rec) {
  if (rc != FASTEPOST_OK)
    return fp_raise_with(f, "result", rec);
  return fp_rec_done(rec);
}

typedef struct fp_hubspot_call {
  fastepost_event_batch **out;
  fastepost_conn *conn;
  const fastepost_hubspot_verifier *verifier;
  const fastepost_webhook_request *req;
  const fastepost_hubspot_options *opts;
  fastepost_status rc;
} fp_hubspot_call;

static void *fp_hubspot_thunk(void *p) {
  fp_hubspot_call *a = (fp_hubspot_call *)p;
  a->rc = fastepost_hubspot_process(a->out, a->conn, a->verifier, a->req, a->opts);
  return NULL;
}

/* A batch result: the keys of the CLI's `--json` (docs/events.md). */
static fp_rec fp_event_batch_rec(const fastepost_event_batch *b, const char *error) {
  fp_rec d = fp_rec_new();
  fastepost_status st = fastepost_event_batch_status(b);
  fp_rec_int(d, "code", st);
  fp_rec_str(d, "status", st == FASTEPOST_OK ? "ok" : fastepost_error_name(st));
  fp_rec_int(d, "http_status", fastepost_event_batch_http_status(b));
  fp_rec_uint(d, "count", fastepost_event_batch_count(b));
  fp_rec_uint(d, "failed", fastepost_event_batch_failed(b));
  fp_rec_str_or_nil(d, "error", st == FASTEPOST_OK ? NULL : error);
  fp_rec events = fp_list_new();
  for (size_t i = 0; i < fastepost_event_batch_count(b); i++) {
    const fastepost_event_result *r = fastepost_event_batch_get(b, i);
    fp_rec e = r ? fp_event_result_rec(r) : fp_rec_new();
    fp_rec_uint(e, "index", i);
    fp_rec_str_or_nil(e, "event_type", fastepost_event_batch_event_type(b, i));
    fp_rec_id(e, "object_id", fastepost_event_batch_object_id(b, i));
    fp_list_push(events, e);
  }
  fp_rec_rec(d, "events", events);
  return d;
}
%}

%apply const char *NULLABLE { const char *presented_key, const char *event, const char *content_type, const char *source, const char *barcode_fields,
                              const char *status, const char *version, const char *method,
                              const char *uri, const char *timestamp, const char *signature };
%apply (const void *BYTES, size_t LENGTH) { (const void *body, size_t len) };
%rename(odoo_process) fp_odoo_process;
%rename(odoo_process_batch) fp_odoo_process_batch;
%rename(hubspot_process) fp_hubspot_process;
%rename(events_list) fp_events_list;
%rename(events_retry) fp_events_retry;
%header %{
/* Retry with the caller's webhook configuration (NULL: none); WebhookConfig passes its own
 * (webhook.i), so that a retry maps a payload as the live delivery did. */
static fp_obj fp_events_retry_cfg(fastepost_conn *conn, size_t limit, const fastepost_webhook_config *cfg) {
  fastepost_retry_options *o = NULL;
  fastepost_retry_report *r = NULL;
  fastepost_status rc = fastepost_retry_options_new(&o);
  if (rc == FASTEPOST_OK)
    rc = fastepost_retry_options_set_limit(o, limit);
  if (rc == FASTEPOST_OK && cfg)
    rc = fastepost_retry_options_set_webhook_config(o, cfg);
  if (rc == FASTEPOST_OK)
    rc = fastepost_events_retry(&r, conn, o);
  fastepost_retry_options_free(o);
  if (rc != FASTEPOST_OK) {
    fastepost_retry_report_free(r);
    fp_failure f;
    fp_failure_capture(&f, rc);
    return fp_raise_with(&f, NULL, FP_NIL);
  }
  fp_rec d = fp_rec_new();
  fp_rec_str(d, "status", "ok");
  fp_rec_uint(d, "attempted", fastepost_retry_report_attempted(r));
  fp_rec_uint(d, "succeeded", fastepost_retry_report_succeeded(r));
  fp_rec_uint(d, "failed", fastepost_retry_report_failed(r));
  fp_rec_uint(d, "dead", fastepost_retry_report_dead(r));
  fastepost_retry_report_free(r);
  return fp_rec_done(d);
}
%}

%inline %{
/* Out of memory while copying lists (Python: the exception is set; Ruby raises). */
static fp_obj fp_copy_failed(void) {
#if defined(SWIGPYTHON)
  if (!PyErr_Occurred())
    PyErr_NoMemory();
  return NULL;
#else
  rb_memerror();
  return Qnil;
#endif
}

static fp_obj fp_odoo_process(fastepost_conn *conn_opt, const void *body, size_t len, const char *presented_key,
                              fp_obj expected_keys, int host_authenticated, const char *event,
                              const char *content_type, size_t max_body, int max_depth,
                              const char *barcode_fields, fastepost_spool *spool_opt) {
  fp_keys expected;
  fp_bodies_check_keys(expected_keys);
  if (fp_keys_copy(expected_keys, &expected) < 0) {
    fp_keys_free(&expected);
    return fp_copy_failed();
  }
  fp_failure f;
  fastepost_odoo_options *o = fp_odoo_options(&f, &expected, host_authenticated, event, content_type, max_body,
                                              max_depth, barcode_fields, spool_opt);
  fp_keys_free(&expected);
  if (!o)
    return fp_raise_with(&f, NULL, FP_NIL);
  fastepost_event_result *r = NULL;
  /* NULL body with length 0: the library sees an empty body (a ParseError). */
  fastepost_status rc = fastepost_odoo_process(&r, conn_opt, presented_key, body ? body : "", len, o);
  if (rc != FASTEPOST_OK)
    fp_failure_capture(&f, rc);
  fastepost_odoo_options_free(o);
  fp_rec rec = r ? fp_event_result_rec(r) : FP_NIL;
  fastepost_event_result_free(r);
  return fp_result_or_raise(rc, &f, rec);
}

static fp_obj fp_odoo_process_batch(fastepost_conn *conn, fp_obj bodies, fp_obj presented_keys,
                                    fp_obj expected_keys, int host_authenticated, const char *event,
                                    const char *content_type, size_t max_body, int max_depth,
                                    const char *barcode_fields) {
  /* Every list is checked first: Ruby raises from here (a non-String) only before anything is
   * allocated. */
  fp_bodies_check(bodies);
  fp_bodies_check_keys(presented_keys);
  fp_bodies_check_keys(expected_keys);
  char **b = NULL;
  size_t *lens = NULL, n = 0;
  fastepost_event_batch *rs = NULL;
  fp_keys presented = {NULL, NULL, 0}, expected = {NULL, NULL, 0};
  if (fp_bodies_copy(bodies, &b, &lens, &n) < 0 || fp_keys_copy(presented_keys, &presented) < 0 ||
      fp_keys_copy(expected_keys, &expected) < 0) {
    fp_bodies_free(b, lens, n);
    fp_keys_free(&presented);
    fp_keys_free(&expected);
    return fp_copy_failed();
  }
  fp_failure f;
  fastepost_odoo_options *o = fp_odoo_options(&f, &expected, host_authenticated, event, content_type, max_body,
                                              max_depth, barcode_fields, NULL);
  fp_keys_free(&expected);
  if (presented.n != n) /* not one per body: as if none were given (the library refuses) */
    fp_keys_free(&presented);
  if (!o) {
    fp_bodies_free(b, lens, n);
    fp_keys_free(&presented);
    return fp_raise_with(&f, NULL, FP_NIL);
  }
  for (size_t i = 0; i < presented.n; i++) /* a key with a NUL byte is refused as a wrong one */
    if (strlen(presented.keys[i]) != presented.lens[i])
      presented.keys[i][0] = '\0';
  fastepost_status rc = fastepost_odoo_process_batch(&rs, conn, (const char *const *)presented.keys,
                                                     (const void *const *)b, lens, n, o);
  if (rc != FASTEPOST_OK)
    fp_failure_capture(&f, rc);
  fastepost_odoo_options_free(o);
  fp_bodies_free(b, lens, n);
  fp_keys_free(&presented);
  fp_rec d = rs ? fp_event_batch_rec(rs, rc != FASTEPOST_OK ? f.message : NULL) : FP_NIL;
  fastepost_event_batch_free(rs);
  return fp_result_or_raise(rc, &f, d);
}

static fp_obj fp_hubspot_process(fastepost_conn *conn, const fastepost_hubspot_verifier *verifier,
                                 const char *version, const char *method, const char *uri,
                                 const char *timestamp, const char *signature, const void *body,
                                 size_t len, size_t max_events) {
  fp_failure f;
  fastepost_hubspot_options *o = NULL;
  fastepost_status rc = fastepost_hubspot_options_new(&o);
  if (rc == FASTEPOST_OK && max_events)
    rc = fastepost_hubspot_options_set_max_events(o, max_events);
  if (rc != FASTEPOST_OK) {
    fp_failure_capture(&f, rc);
    fastepost_hubspot_options_free(o);
    return fp_raise_with(&f, NULL, FP_NIL);
  }
  fastepost_webhook_request *req = NULL;
  bool v3 = !version || strcmp(version, "v3") == 0;
  rc = fastepost_webhook_request_new(&req);
  if (rc == FASTEPOST_OK)
    rc = fastepost_webhook_request_set_method(req, method ? method : "");
  if (rc == FASTEPOST_OK)
    rc = fastepost_webhook_request_set_uri(req, uri ? uri : "");
  if (rc == FASTEPOST_OK)
    rc = fastepost_webhook_request_set_header(req, v3 ? "X-HubSpot-Signature-v3" : "X-HubSpot-Signature", signature);
  if (rc == FASTEPOST_OK && !v3)
    rc = fastepost_webhook_request_set_header(req, "X-HubSpot-Signature-Version", version);
  if (rc == FASTEPOST_OK)
    rc = fastepost_webhook_request_set_header(req, "X-HubSpot-Request-Timestamp", timestamp);
  if (rc == FASTEPOST_OK)
    rc = fastepost_webhook_request_set_body(req, body ? body : "", body ? len : 0);
  if (rc != FASTEPOST_OK) {
    fp_failure_capture(&f, rc);
    fastepost_webhook_request_free(req);
    fastepost_hubspot_options_free(o);
    return fp_raise_with(&f, NULL, FP_NIL);
  }
  fastepost_event_batch *b = NULL;
  fp_hubspot_call a = {&b, conn, verifier, req, o, FASTEPOST_OK};
  fp_run_unlocked_conn(fp_hubspot_thunk, &a, conn);
  rc = a.rc;
  if (rc != FASTEPOST_OK)
    fp_failure_capture(&f, rc);
  fastepost_hubspot_options_free(o);
  fastepost_webhook_request_free(req);
  fp_rec d = b ? fp_event_batch_rec(b, rc != FASTEPOST_OK ? f.message : NULL) : FP_NIL;
  fastepost_event_batch_free(b);
  return fp_result_or_raise(rc, &f, d);
}

static fp_obj fp_events_list(fastepost_conn *conn, const char *source, const char *status, size_t limit) {
  fastepost_event_list *l = NULL;
  fastepost_status rc = fastepost_events_list(&l, conn, source, status, limit);
  if (rc != FASTEPOST_OK) {
    fp_failure f;
    fp_failure_capture(&f, rc);
    return fp_raise_with(&f, NULL, FP_NIL);
  }
  fp_rec list = fp_list_new();
  for (size_t i = 0; i < fastepost_event_list_count(l); i++) {
    const fastepost_event *e = fastepost_event_list_get(l, i);
    fp_rec d = fp_rec_new();
    fp_rec_int(d, "id", (long long)e->id);
    fp_rec_str(d, "source", e->source);
    fp_rec_str(d, "event_type", e->event_type);
    fp_rec_str(d, "status", e->status);
    fp_rec_str_or_nil(d, "outcome", e->outcome);
    fp_rec_str_or_nil(d, "external_id", e->external_id);
    fp_rec_id(d, "customer_id", e->customer_id);
    fp_rec_uint(d, "attempts", e->attempts);
    fp_rec_str_or_nil(d, "error", e->error_message);
    fp_rec_int(d, "created_at_us", (long long)e->created_at_us);
    fp_rec_id(d, "processed_at_us", e->processed_at_us);
    fp_rec_id(d, "next_attempt_at_us", e->next_attempt_at_us);
    fp_list_push(list, d);
  }
  fastepost_event_list_free(l);
  return fp_rec_done(list);
}

static fp_obj fp_events_retry(fastepost_conn *conn, size_t limit) { return fp_events_retry_cfg(conn, limit, NULL); }
%}
%clear const char *event, const char *content_type, const char *source, const char *barcode_fields, const char *status,
       const char *version, const char *method, const char *uri, const char *timestamp,
       const char *signature;
%clear (const void *body, size_t len);
