/* SPDX-License-Identifier: MIT */
/* spool.h: the delivery spool. Spool objects own a fastepost_spool; helpers return plain
 * dicts / lists that own their data:
 *   Spool(dir)                                   spool_set_limits(spool, max_files, max_bytes)
 *   spool_put(spool, source, event, content_type, body) -> name
 *   spool_list(spool) -> [{name, source, event, content_type, bytes, spooled_at_us, reason}]
 *   spool_replay(spool, conn, limit) -> {status, replayed, duplicates, rejected, remaining}
 * with the keys and types of the CLI's --json (`spool list`, `spool replay`).
 * Writing a record (fsync) and replaying run with the GIL/GVL released. Included before
 * events.i, whose odoo_process takes an optional spool. */
%fastepost_blocking(7, fastepost_spool_put, char **, fastepost_spool *, const char *, const char *, const char *, const void *, size_t)
%fastepost_blocking(4, fastepost_spool_replay, fastepost_spool_replay_report **, fastepost_spool *, fastepost_conn *, size_t)

%rename(Spool) fastepost_spool;
%fastepost_handle(fastepost_spool, fastepost_spool_free)
%ignore fastepost_spool_open;
%extend fastepost_spool {
  fastepost_spool(const char *dir) {
    fastepost_spool *s = NULL;
    fastepost_status rc = fastepost_spool_open(&s, dir);
    if (rc != FASTEPOST_OK)
      FP_CTOR_FAILED(rc);
    return s;
  }
}
%rename("$ignore", regextarget=1) "^fastepost_spool_entr";
%rename("$ignore", regextarget=1) "^fastepost_spool_replay_report";
%ignore fastepost_spool_put;
%ignore fastepost_spool_list;
%ignore fastepost_spool_list_bad;
%ignore fastepost_spool_requeue;
%ignore fastepost_spool_warning;
%ignore fastepost_spool_replay;
%ignore fastepost_event_result_http;
/* The configuration reaches replay through the spool_replay helper (its typedef is repeated in
 * spool.h and events.h on purpose: each header stands alone). */
%ignore fastepost_spool_set_webhook_config;
%ignore fastepost_webhook_config;
%include "fastepost/spool.h"

/* Optional handles: None/nil passes NULL (the handle typemap refuses it elsewhere). */
%typemap(check) fastepost_conn *conn_opt, fastepost_spool *spool_opt ""

%header %{
static fp_obj fp_spool_fail(fastepost_status rc) {
  fp_failure f;
  fp_failure_capture(&f, rc);
  return fp_raise_with(&f, NULL, FP_NIL);
}
%}

%apply const char *NULLABLE { const char *event, const char *content_type };
%apply (const void *BYTES, size_t LENGTH) { (const void *body, size_t len) };
%rename(spool_put) fp_spool_put;
%rename(spool_list) fp_spool_list;
%rename(spool_list_bad) fp_spool_list_bad;
%rename(spool_requeue) fp_spool_requeue;
%rename(spool_warning) fp_spool_warning;
%rename(spool_replay) fp_spool_replay;
%header %{
/* Replay with the caller's webhook configuration (NULL: none), set on the spool for this one
 * call: the bindings hold the spool's lock around it, and the configuration may be freed after. */
static fp_obj fp_spool_replay_cfg(fastepost_spool *spool, fastepost_conn *conn, size_t limit,
                                  const fastepost_webhook_config *cfg) {
  fastepost_spool_replay_report *r = NULL;
  fastepost_status rc = cfg ? fastepost_spool_set_webhook_config(spool, cfg) : FASTEPOST_OK;
  if (rc == FASTEPOST_OK)
    rc = fastepost_spool_replay(&r, spool, conn, limit);
  if (cfg)
    fastepost_spool_set_webhook_config(spool, NULL);
  if (rc != FASTEPOST_OK) {
    fastepost_spool_replay_report_free(r);
    return fp_spool_fail(rc);
  }
  fp_rec d = fp_rec_new();
  fp_rec_str(d, "status", "ok");
  fp_rec_uint(d, "replayed", fastepost_spool_replay_report_replayed(r));
  fp_rec_uint(d, "duplicates", fastepost_spool_replay_report_duplicates(r));
  fp_rec_uint(d, "rejected", fastepost_spool_replay_report_rejected(r));
  fp_rec_uint(d, "remaining", fastepost_spool_replay_report_remaining(r));
  fastepost_spool_replay_report_free(r);
  return fp_rec_done(d);
}
%}

%inline %{
static fp_obj fp_spool_put(fastepost_spool *spool, const char *source, const char *event,
                           const char *content_type, const void *body, size_t len) {
  char *name = NULL;
  fastepost_status rc = fastepost_spool_put(&name, spool, source, event, content_type, body ? body : "", len);
  if (rc != FASTEPOST_OK)
    return fp_spool_fail(rc);
  fp_obj out = fp_str_new(name);
  fastepost_free(name);
  return out;
}

static fp_obj fp_spool_entries(fastepost_spool *spool, int bad) {
  fastepost_spool_entries *l = NULL;
  fastepost_status rc = bad ? fastepost_spool_list_bad(&l, spool) : fastepost_spool_list(&l, spool);
  if (rc != FASTEPOST_OK)
    return fp_spool_fail(rc);
  fp_rec list = fp_list_new();
  for (size_t i = 0; i < fastepost_spool_entries_count(l); i++) {
    const fastepost_spool_entry *e = fastepost_spool_entries_get(l, i);
    fp_rec d = fp_rec_new();
    fp_rec_str(d, "name", e->name);
    fp_rec_str(d, "source", e->source);
    if (*e->event)
      fp_rec_str(d, "event", e->event);
    else
      fp_rec_nil(d, "event");
    fp_rec_str(d, "content_type", e->content_type);
    fp_rec_uint(d, "bytes", e->bytes);
    fp_rec_int(d, "spooled_at_us", (long long)e->spooled_at_us);
    if (*e->reason)
      fp_rec_str(d, "reason", e->reason);
    else
      fp_rec_nil(d, "reason");
    fp_list_push(list, d);
  }
  fastepost_spool_entries_free(l);
  return fp_rec_done(list);
}

static fp_obj fp_spool_list(fastepost_spool *spool) { return fp_spool_entries(spool, 0); }
static fp_obj fp_spool_list_bad(fastepost_spool *spool) { return fp_spool_entries(spool, 1); }

static fp_obj fp_spool_requeue(fastepost_spool *spool, const char *name) {
  fastepost_status rc = fastepost_spool_requeue(spool, name);
  if (rc != FASTEPOST_OK)
    return fp_spool_fail(rc);
  return fp_str_new(name);
}

/* None/nil when the directory is usable. */
static fp_obj fp_spool_warning(fastepost_spool *spool) {
  const char *w = fastepost_spool_warning(spool);
  return *w ? fp_str_new(w) : fp_none();
}

static fp_obj fp_spool_replay(fastepost_spool *spool, fastepost_conn *conn, size_t limit) {
  return fp_spool_replay_cfg(spool, conn, limit, NULL);
}
%}
%clear const char *event, const char *content_type;
%clear (const void *body, size_t len);
