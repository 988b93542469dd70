/* stats.h, CRM statistics: collecting returns everything as nested dicts / Hashes that own
 * their data (the C getters hand out borrowed structs, which must not outlive the result):
 *   crm_stats_collect(conn, base_url, now_ms)   base_url None/nil for paths only; now_ms < 0
 *                                               for the server's clock
 * rebuild and time_ago are mirrored one to one. */
%fastepost_blocking(4, fastepost_crm_stats_collect_at, fastepost_crm_stats **, fastepost_conn *, const char *, int64_t)
%fastepost_blocking(1, fastepost_crm_stats_rebuild, fastepost_conn *)

%rename("$ignore", regextarget=1) "^fastepost_crm_";
/* The database figures (fastepost_stats_db_*) are bound by the stats_db helper in backup.i:
 * hidden here so that nothing (their _free, their char * members) is exposed unguarded. */
%rename("$ignore", regextarget=1) "^fastepost_stats_db";
%ignore FASTEPOST_STATS_DB_EXACT;
%rename(crm_stats_rebuild) fastepost_crm_stats_rebuild;
%include "fastepost/stats.h"

%header %{
static void fp_rec_time(fp_rec r, const char *key, const char *text, int64_t ms) {
  char key_ms[64];
  snprintf(key_ms, sizeof key_ms, "%s_ms", key);
  fp_rec_str(r, key, text);
  fp_rec_int(r, key_ms, (long long)ms);
}

static fp_rec fp_crm_source_rec(const fastepost_crm_source_stats *s) {
  fp_rec d = fp_rec_new();
  fp_rec_str(d, "source", s->source);
  fp_rec_int(d, "total_events", (long long)s->total_events);
  fp_rec_int(d, "events_24h", (long long)s->events_24h);
  fp_rec_int(d, "success_events", (long long)s->success_events);
  fp_rec_int(d, "error_events", (long long)s->error_events);
  fp_rec_int(d, "dead_events", (long long)s->dead_events);
  fp_rec_int(d, "pending_events", (long long)s->pending_events);
  if (s->has_success_rate)
    fp_rec_float(d, "success_rate", s->success_rate);
  else
    fp_rec_nil(d, "success_rate");
  fp_rec_str(d, "badge", s->badge);
  fp_rec_time(d, "last_event_at", s->last_event_at, s->last_event_at_ms);
  fp_rec_str(d, "last_event_type", s->last_event_type);
  return d;
}

static fp_rec fp_crm_stats_rec(const fastepost_crm_stats *st) {
  fp_rec d = fp_rec_new();
  fp_rec_time(d, "generated_at", fastepost_crm_stats_generated_at(st), fastepost_crm_stats_now_ms(st));
  fp_rec sources = fp_list_new();
  for (size_t i = 0; i < fastepost_crm_stats_source_count(st); i++)
    fp_list_push(sources, fp_crm_source_rec(fastepost_crm_stats_source(st, i)));
  fp_rec_rec(d, "sources", sources);

  const fastepost_crm_sync_stats *y = fastepost_crm_stats_sync(st);
  fp_rec sync = fp_rec_new();
  fp_rec_int(sync, "total_customers", (long long)y->total_customers);
  fp_rec_int(sync, "synced_customers", (long long)y->synced_customers);
  fp_rec_int(sync, "pending_tasks", (long long)y->pending_tasks);
  fp_rec_time(sync, "last_sync_at", y->last_sync_at, y->last_sync_at_ms);
  fp_rec_rec(d, "sync", sync);

  fp_rec recent = fp_list_new();
  for (size_t i = 0; i < fastepost_crm_stats_recent_count(st); i++) {
    const fastepost_crm_recent_event *e = fastepost_crm_stats_recent(st, i);
    fp_rec x = fp_rec_new();
    fp_rec_int(x, "id", (long long)e->id);
    fp_rec_str(x, "source", e->source);
    fp_rec_str(x, "event_type", e->event_type);
    fp_rec_str(x, "status", e->status);
    fp_rec_str(x, "outcome", e->outcome);
    fp_rec_str(x, "error", e->error);
    fp_rec_time(x, "created_at", e->created_at, e->created_at_ms);
    fp_rec_str(x, "time_ago", e->time_ago);
    fp_list_push(recent, x);
  }
  fp_rec_rec(d, "recent", recent);

  const fastepost_crm_setup *u = fastepost_crm_stats_setup(st);
  fp_rec setup = fp_rec_new();
  fp_rec_str(setup, "odoo_webhook_url", u->odoo_webhook_url);
  fp_rec_str(setup, "odoo_webhook_url_with_key", u->odoo_webhook_url_with_key);
  fp_rec_str(setup, "odoo_api_key_header", u->odoo_api_key_header);
  fp_rec_str(setup, "odoo_api_key_param", u->odoo_api_key_param);
  fp_rec_str(setup, "hubspot_webhook_url", u->hubspot_webhook_url);
  fp_rec_str(setup, "hubspot_signature_header", u->hubspot_signature_header);
  fp_rec_str(setup, "hubspot_timestamp_header", u->hubspot_timestamp_header);
  fp_rec_rec(d, "setup", setup);
  return fp_rec_done(d);
}
%}

%apply const char *NULLABLE { const char *base_url };
%rename(crm_stats_collect) fp_crm_stats_collect;
%inline %{
static fp_obj fp_crm_stats_collect(fastepost_conn *conn, const char *base_url, long long now_ms) {
  fastepost_crm_stats *st = NULL;
  fastepost_status rc = fastepost_crm_stats_collect_at(&st, conn, base_url, (int64_t)now_ms);
  if (rc != FASTEPOST_OK) {
    fp_failure f;
    fp_failure_capture(&f, rc);
    return fp_raise_with(&f, NULL, FP_NIL);
  }
  fp_rec rec = fp_crm_stats_rec(st);
  fastepost_crm_stats_free(st);
  return rec;
}
%}
%clear const char *base_url;
