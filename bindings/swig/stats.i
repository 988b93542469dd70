/* SPDX-License-Identifier: MIT */
/* stats.h: the database figures and the CRM statistics. Collecting returns nested dicts /
 * Hashes that own their data (the C getters hand out borrowed values, which must not outlive
 * the result), with exactly the keys and types of the CLI's --json (docs/stats.md,
 * docs/crm-stats.md): counts as integers, unknown values as None/nil, every time as "<key>"
 * (ISO 8601 UTC text, from fastepost_report_time_iso()) and "<key>_us" (µs).
 *   stats_db(conn, dir or None, exact)                            -> figures
 *   crm_stats_collect(conn, base_url, odoo_path, hubspot_path, now_us, sources)
 *        base_url / paths None/nil for the defaults; now_us < 0 for the server's clock;
 *        sources: the configured sources, comma-separated ("pipedrive,zoho"), None/nil or ""
 *        for the default (odoo and hubspot)
 * rebuild and the health names are mirrored one to one. */
%fastepost_blocking(3, fastepost_crm_stats_collect, fastepost_crm_stats **, fastepost_conn *, const fastepost_crm_stats_options *)
%fastepost_blocking(1, fastepost_crm_stats_rebuild, fastepost_conn *)
%fastepost_blocking(4, fastepost_stats_db_get, fastepost_stats_db **, fastepost_conn *, fastepost_backup_dir *, unsigned int)

%rename("$ignore", regextarget=1) "^fastepost_crm_";
/* The database figures (fastepost_stats_db_*) are bound by the stats_db helper below: hidden
 * here so that nothing (their _free, their borrowed tables) is exposed unguarded. */
%rename("$ignore", regextarget=1) "^fastepost_stats_db";
%ignore FASTEPOST_STATS_DB_EXACT;
%rename(crm_stats_rebuild) fastepost_crm_stats_rebuild;
%rename(crm_stats_health_name) fastepost_crm_stats_health_name;
%rename(crm_stats_health) fastepost_crm_stats_health;
%include "fastepost/stats.h"

%header %{
static fp_obj fp_stats_fail(fastepost_status rc) {
  fp_failure f;
  fp_failure_capture(&f, rc);
  return fp_raise_with(&f, NULL, FP_NIL);
}

/* "<key>": ISO 8601 text and "<key>_us": µs, or both nil for 0 (none). */
static void fp_rec_time_us(fp_rec r, const char *key, int64_t us) {
  char key_us[64];
  snprintf(key_us, sizeof key_us, "%s_us", key);
  char *iso = NULL;
  if (us && fastepost_report_time_iso(&iso, us) == FASTEPOST_OK) {
    fp_rec_str(r, key, iso);
    fp_rec_int(r, key_us, (long long)us);
  } else {
    fp_rec_nil(r, key);
    fp_rec_nil(r, key_us);
  }
  fastepost_free(iso);
}

/* A count that may be unknown: the number, or nil. */
static void fp_rec_count(fp_rec r, const char *key, int known, uint64_t n) {
  if (known)
    fp_rec_uint(r, key, (unsigned long long)n);
  else
    fp_rec_nil(r, key);
}

static fp_rec fp_crm_source_rec(const fastepost_crm_source_stats *s) {
  fp_rec d = fp_rec_new();
  fp_rec_str(d, "source", s->source);
  fp_rec_uint(d, "total_events", (unsigned long long)s->total_events);
  fp_rec_uint(d, "events_24h", (unsigned long long)s->events_24h);
  fp_rec_uint(d, "success_events", (unsigned long long)s->success_events);
  fp_rec_uint(d, "error_events", (unsigned long long)s->error_events);
  fp_rec_uint(d, "dead_events", (unsigned long long)s->dead_events);
  fp_rec_uint(d, "pending_events", (unsigned long long)s->pending_events);
  if (s->has_success_rate)
    fp_rec_float(d, "success_rate", (double)s->success_rate_tenths / 10.0);
  else
    fp_rec_nil(d, "success_rate");
  fp_rec_str(d, "health", fastepost_crm_stats_health_name(s->health));
  fp_rec_str(d, "badge", fastepost_report_badge_colour(s->health));
  fp_rec_time_us(d, "last_event_at", s->last_event_at_us);
  fp_rec_str(d, "last_event_type", s->last_event_type);
  fp_rec_bool(d, "configured", s->configured);
  fp_rec_str(d, "title", fastepost_report_source_title(s->source));
  fp_rec_str(d, "webhook_url", s->webhook_url);
  fp_rec_str(d, "instructions", fastepost_report_source_instructions(s->source));
  return d;
}
/* The configured sources, given by the layers as one comma-separated text ("pipedrive,zoho";
 * NULL or "": the library's default), handed to add(opts, name) one by one. */
typedef fastepost_status (*fp_add_source_fn)(void *opts, const char *source);
static fastepost_status fp_add_sources(fp_add_source_fn add, void *opts, const char *sources) {
  char name[64];
  for (const char *p = sources; p && *p;) {
    size_t n = strcspn(p, ",");
    snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name - 1 ? n : sizeof name - 1), p);
    fastepost_status rc = add(opts, name);
    if (rc != FASTEPOST_OK)
      return rc;
    p += n + (p[n] == ',');
  }
  return FASTEPOST_OK;
}
static fastepost_status fp_crm_add_source(void *opts, const char *source) {
  return fastepost_crm_stats_options_add_source((fastepost_crm_stats_options *)opts, source);
}
static fastepost_status fp_report_add_source(void *opts, const char *source) {
  return fastepost_report_options_add_source((fastepost_report_options *)opts, source);
}

static fp_rec fp_crm_stats_rec(const fastepost_crm_stats *st) {
  int64_t now = fastepost_crm_stats_now_us(st);
  fp_rec d = fp_rec_new();
  fp_rec sources = fp_list_new();
  for (size_t i = 0; i < fastepost_crm_stats_source_count(st); i++)
    fp_list_push(sources, fp_crm_source_rec(fastepost_crm_stats_source(st, i)));
  fp_rec_rec(d, "sources", sources);

  const fastepost_crm_sync_stats *y = fastepost_crm_stats_sync(st);
  fp_rec sync = fp_rec_new();
  fp_rec_uint(sync, "total_customers", (unsigned long long)y->total_customers);
  fp_rec_uint(sync, "synced_customers", (unsigned long long)y->synced_customers);
  fp_rec_uint(sync, "pending_tasks", (unsigned long long)y->pending_tasks);
  fp_rec_time_us(sync, "last_sync_at", y->last_sync_at_us);
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
    fp_rec_time_us(x, "created_at", e->created_at_us);
    char *ago = NULL;
    fastepost_report_time_ago(&ago, e->created_at_us, now);
    fp_rec_str(x, "time_ago", ago);
    fastepost_free(ago);
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
  fp_rec_time_us(d, "generated_at", now);
  return fp_rec_done(d);
}

static int64_t fp_stats_fixed_clock(void *payload) { return *(const int64_t *)payload; }
%}

%apply const char *NULLABLE { const char *base_url, const char *odoo_path, const char *hubspot_path, const char *sources };
%rename(crm_stats_collect) fp_crm_stats_collect;
%rename(stats_db) fp_stats_db;
%inline %{
static fp_obj fp_crm_stats_collect(fastepost_conn *conn, const char *base_url, const char *odoo_path,
                                   const char *hubspot_path, long long now_us, const char *sources) {
  int64_t now = (int64_t)now_us;
  fastepost_crm_stats_options *o = NULL;
  fastepost_status rc = fastepost_crm_stats_options_new(&o);
  if (rc == FASTEPOST_OK)
    rc = fastepost_crm_stats_options_set_base_url(o, base_url);
  if (rc == FASTEPOST_OK)
    rc = fastepost_crm_stats_options_set_path(o, "odoo", odoo_path);
  if (rc == FASTEPOST_OK)
    rc = fastepost_crm_stats_options_set_path(o, "hubspot", hubspot_path);
  if (rc == FASTEPOST_OK && now >= 0)
    rc = fastepost_crm_stats_options_set_clock(o, fp_stats_fixed_clock, &now);
  if (rc == FASTEPOST_OK)
    rc = fp_add_sources(fp_crm_add_source, o, sources);
  fastepost_crm_stats *st = NULL;
  if (rc == FASTEPOST_OK)
    rc = fastepost_crm_stats_collect(&st, conn, o);
  fastepost_crm_stats_options_free(o);
  if (rc != FASTEPOST_OK)
    return fp_stats_fail(rc);
  fp_rec rec = fp_crm_stats_rec(st);
  fastepost_crm_stats_free(st);
  return rec;
}

static fp_obj fp_stats_db(fastepost_conn *conn, fastepost_backup_dir *dir_opt, int exact) {
  fastepost_stats_db *s = NULL;
  fastepost_status rc = fastepost_stats_db_get(&s, conn, dir_opt, exact ? FASTEPOST_STATS_DB_EXACT : 0);
  if (rc != FASTEPOST_OK)
    return fp_stats_fail(rc);
  fp_rec d = fp_rec_new();
  fp_rec_str(d, "database", fastepost_stats_db_database(s));
  fp_rec_uint(d, "size_bytes", (unsigned long long)fastepost_stats_db_size_bytes(s));
  fp_rec tables = fp_list_new();
  for (size_t i = 0; i < fastepost_stats_db_table_count(s); i++) {
    const fastepost_stats_db_table *t = fastepost_stats_db_table_get(s, i);
    fp_rec x = fp_rec_new();
    fp_rec_str(x, "name", fastepost_stats_db_table_name(t));
    fp_rec_count(x, "rows_estimate", fastepost_stats_db_table_has_rows_estimate(t),
                 fastepost_stats_db_table_rows_estimate(t));
    fp_rec_count(x, "rows_exact", fastepost_stats_db_table_has_rows_exact(t), fastepost_stats_db_table_rows_exact(t));
    fp_rec_uint(x, "total_bytes", (unsigned long long)fastepost_stats_db_table_total_bytes(t));
    fp_rec_uint(x, "table_bytes", (unsigned long long)fastepost_stats_db_table_table_bytes(t));
    fp_rec_uint(x, "index_bytes", (unsigned long long)fastepost_stats_db_table_index_bytes(t));
    fp_list_push(tables, x);
  }
  fp_rec_rec(d, "tables", tables);
  fp_rec_count(d, "backup_count", fastepost_stats_db_has_backups(s), fastepost_stats_db_backup_count(s));
  if (fastepost_stats_db_has_newest_backup(s)) {
    fp_rec b = fp_rec_new();
    fp_rec_str(b, "name", fastepost_stats_db_newest_backup_name(s));
    fp_rec_uint(b, "size_bytes", (unsigned long long)fastepost_stats_db_newest_backup_size_bytes(s));
    fp_rec_time_us(b, "created_at", fastepost_stats_db_newest_backup_created_us(s));
    fp_rec_rec(d, "newest_backup", b);
  } else {
    fp_rec_nil(d, "newest_backup");
  }
  fastepost_stats_db_free(s);
  return fp_rec_done(d);
}
%}
%clear const char *base_url, const char *odoo_path, const char *hubspot_path, const char *sources;

%include "swig/report.i"
