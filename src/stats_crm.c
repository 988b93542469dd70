/*
 * CRM dashboard statistics. Every figure comes from a bounded amount of work, whatever the
 * size of the event log (docs/crm-stats.md):
 * - totals and success rates: fastepost_event_counts (sources x statuses x 8 slots rows);
 * - the 24-hour window: the full hours from fastepost_event_hourly_counts (at most 24 hours x
 *   statuses x slots rows per source) plus an exact count of the partial first hour through
 *   the (source, created_at) index: at most one hour of events;
 * - the last event per source and the 20 newest events: one index probe each;
 * - customers and pending tasks: fastepost_row_counts; the last sync: max() over the
 *   last_synced_at index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define ISO_FMT "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'"
/* A timestamp column as ISO text and as ms since the epoch (timestamps are stored in UTC). */
#define TS_COLS(col) "to_char(" col ", " ISO_FMT "), floor(extract(epoch FROM " col ") * 1000)::int8"

struct fastepost_crm_stats {
  int64_t now_ms;
  const char *generated_at;
  fastepost_crm_source_stats *sources;
  size_t nsources;
  fastepost_crm_sync_stats sync;
  fastepost_crm_recent_event *recent;
  size_t nrecent;
  fastepost_crm_setup setup;
  /* Every string the structs point to, freed together. */
  char **owned;
  size_t nowned, capowned;
};

/* ---- owned strings ----------------------------------------------------------------------- */

/* Copy s into the result; NULL stays NULL. Sets *failed on out-of-memory. */
static const char *keep(fastepost_crm_stats *s, const char *str, bool *failed) {
  if (!str || *failed)
    return NULL;
  if (s->nowned == s->capowned) {
    size_t cap = s->capowned ? s->capowned * 2 : 64;
    char **bigger = realloc(s->owned, cap * sizeof *bigger);
    if (!bigger) {
      *failed = true;
      return NULL;
    }
    s->owned = bigger;
    s->capowned = cap;
  }
  char *copy = fastepost__strdup(str);
  if (!copy) {
    *failed = true;
    return NULL;
  }
  s->owned[s->nowned++] = copy;
  return copy;
}

/* A text column, NULL when SQL NULL. */
static const char *col(const PGresult *res, int row, int c) {
  return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

static int64_t col_int(const PGresult *res, int row, int c) {
  return PQgetisnull(res, row, c) ? 0 : strtoll(PQgetvalue(res, row, c), NULL, 10);
}

void fastepost_crm_stats_free(fastepost_crm_stats *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->nowned; i++)
    free(s->owned[i]);
  free(s->owned);
  free(s->sources);
  free(s->recent);
  free(s);
}

/* ---- time ago ---------------------------------------------------------------------------- */

fastepost_status fastepost_time_ago(char **out, int64_t then_ms, int64_t now_ms) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_time_ago: out is NULL");
  static const struct {
    int64_t ms;
    const char *unit;
  } units[] = {{365LL * 86400000, "year"}, {30LL * 86400000, "month"}, {86400000, "day"},
               {3600000, "hour"},          {60000, "minute"}};
  int64_t diff = now_ms - then_ms;
  char text[64] = "just now";
  if (diff <= -60000) {
    snprintf(text, sizeof text, "in the future");
  } else {
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
      if (diff >= units[i].ms) {
        long long n = (long long)(diff / units[i].ms);
        snprintf(text, sizeof text, "%lld %s%s ago", n, units[i].unit, n == 1 ? "" : "s");
        break;
      }
  }
  *out = fastepost__strdup(text);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

/* ---- set-up ------------------------------------------------------------------------------ */

static int fill_setup(fastepost_crm_stats *s, const char *base_url, bool *failed) {
  if (!base_url)
    base_url = "";
  size_t len = strlen(base_url);
  if (len && strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "the base URL must start with http:// or https://");
  while (len && base_url[len - 1] == '/')
    len--;
  char url[2048];
  fastepost_crm_setup *u = &s->setup;
  snprintf(url, sizeof url, "%.*s/api/v1/integrations/odoo", (int)len, base_url);
  u->odoo_webhook_url = keep(s, url, failed);
  snprintf(url, sizeof url, "%.*s/api/v1/integrations/odoo?api_key=YOUR_API_KEY", (int)len,
           base_url);
  u->odoo_webhook_url_with_key = keep(s, url, failed);
  snprintf(url, sizeof url, "%.*s/api/v1/integrations/hubspot", (int)len, base_url);
  u->hubspot_webhook_url = keep(s, url, failed);
  u->odoo_api_key_header = "X-Odoo-Api-Key";
  u->odoo_api_key_param = "api_key";
  u->hubspot_signature_header = "X-HubSpot-Signature-v3";
  u->hubspot_timestamp_header = "X-HubSpot-Request-Timestamp";
  return FASTEPOST_OK;
}

/* ---- queries ----------------------------------------------------------------------------- */

/* $1 = the window's start, $2 = the first full hour at or after it, both in ms since the
 * epoch. The window is [now - 24 h, now], plus anything stamped in the future. */
#define MS_PARAM(n) "('epoch'::timestamp + $" #n "::int8 * interval '1 millisecond')"
static const char sources_sql[] =
    "WITH t AS (SELECT source, sum(n) AS total, "
    "  coalesce(sum(n) FILTER (WHERE status = 'success'), 0) AS success, "
    "  coalesce(sum(n) FILTER (WHERE status = 'error'), 0) AS error, "
    "  coalesce(sum(n) FILTER (WHERE status = 'dead'), 0) AS dead, "
    "  coalesce(sum(n) FILTER (WHERE status = 'pending'), 0) AS pending "
    "  FROM fastepost_event_counts GROUP BY source), "
    "names AS (SELECT source::text FROM t WHERE total > 0 "
    "  UNION SELECT unnest(ARRAY['hubspot', 'odoo'])) "
    "SELECT s.source, coalesce(t.total, 0), coalesce(t.success, 0), coalesce(t.error, 0), "
    "  coalesce(t.dead, 0), coalesce(t.pending, 0), "
    "  (SELECT coalesce(sum(h.n), 0) FROM fastepost_event_hourly_counts h "
    "    WHERE h.source = s.source AND h.hour >= " MS_PARAM(2) ") "
    "  + (SELECT count(*) FROM integration_events e WHERE e.source = s.source "
    "    AND e.created_at >= " MS_PARAM(1) " AND e.created_at < " MS_PARAM(2) "), "
    "  " TS_COLS("l.created_at") ", l.event_type "
    "FROM names s LEFT JOIN t ON t.source = s.source "
    "LEFT JOIN LATERAL (SELECT created_at, event_type FROM integration_events e "
    "  WHERE e.source = s.source ORDER BY created_at DESC LIMIT 1) l ON true "
    "ORDER BY s.source";

static const char sync_sql[] =
    "SELECT c.customers, c.synced, c.pending, " TS_COLS("x.m") " FROM "
    "(SELECT coalesce(sum(n) FILTER (WHERE counter = 'customers'), 0) AS customers, "
    "  coalesce(sum(n) FILTER (WHERE counter = 'customers_crm_synced'), 0) AS synced, "
    "  coalesce(sum(n) FILTER (WHERE counter = 'tasks_pending'), 0) AS pending "
    "  FROM fastepost_row_counts) c, "
    "(SELECT max(last_synced_at) AS m FROM customers) x";

static const char recent_sql[] =
    "SELECT id, source, event_type, status, outcome, error_message, " TS_COLS("created_at")
    " FROM integration_events ORDER BY created_at DESC, id DESC LIMIT 20";

/* Rounded half up to tenths of a percent, in integers so that 80.05 is 80.1 on every FPU. */
static void set_rate(fastepost_crm_source_stats *src) {
  int64_t finished = src->success_events + src->error_events + src->dead_events;
  src->has_success_rate = finished > 0;
  if (!src->has_success_rate) {
    src->success_rate = 0;
    src->badge = "none";
    return;
  }
  int64_t tenths = (src->success_events * 1000 + finished / 2) / finished;
  src->success_rate = (double)tenths / 10.0;
  /* On the rounded figure, so that the badge agrees with the number shown next to it. */
  src->badge = tenths > 800 ? "green" : "yellow";
}

#define HOUR_MS 3600000LL

static int read_sources(fastepost_crm_stats *s, fastepost_conn *conn, bool *failed) {
  PGresult *res;
  int64_t start = s->now_ms - 24 * HOUR_MS;
  int64_t full_from = start % HOUR_MS == 0 ? start : (start / HOUR_MS + (start > 0)) * HOUR_MS;
  char start_text[32], full_text[32];
  snprintf(start_text, sizeof start_text, "%lld", (long long)start);
  snprintf(full_text, sizeof full_text, "%lld", (long long)full_from);
  const char *params[2] = {start_text, full_text};
  int rc = fastepost__query(&res, conn, sources_sql, 2, params, PGRES_TUPLES_OK,
                            "reading the CRM event counters");
  if (rc)
    return rc;
  int n = PQntuples(res);
  s->sources = calloc((size_t)n, sizeof *s->sources);
  if (!s->sources) {
    PQclear(res);
    return fastepost__error_oom();
  }
  s->nsources = (size_t)n;
  for (int r = 0; r < n; r++) {
    fastepost_crm_source_stats *src = &s->sources[r];
    src->source = keep(s, col(res, r, 0), failed);
    src->total_events = col_int(res, r, 1);
    src->success_events = col_int(res, r, 2);
    src->error_events = col_int(res, r, 3);
    src->dead_events = col_int(res, r, 4);
    src->pending_events = col_int(res, r, 5);
    src->events_24h = col_int(res, r, 6);
    src->last_event_at = keep(s, col(res, r, 7), failed);
    src->last_event_at_ms = col_int(res, r, 8);
    src->last_event_type = keep(s, col(res, r, 9), failed);
    set_rate(src);
  }
  PQclear(res);
  return FASTEPOST_OK;
}

static int read_sync(fastepost_crm_stats *s, fastepost_conn *conn, bool *failed) {
  PGresult *res;
  int rc = fastepost__query(&res, conn, sync_sql, 0, NULL, PGRES_TUPLES_OK,
                            "reading the customer counters");
  if (rc)
    return rc;
  s->sync.total_customers = col_int(res, 0, 0);
  s->sync.synced_customers = col_int(res, 0, 1);
  s->sync.pending_tasks = col_int(res, 0, 2);
  s->sync.last_sync_at = keep(s, col(res, 0, 3), failed);
  s->sync.last_sync_at_ms = col_int(res, 0, 4);
  PQclear(res);
  return FASTEPOST_OK;
}

static int read_recent(fastepost_crm_stats *s, fastepost_conn *conn, bool *failed) {
  PGresult *res;
  int rc = fastepost__query(&res, conn, recent_sql, 0, NULL, PGRES_TUPLES_OK,
                            "reading the recent events");
  if (rc)
    return rc;
  int n = PQntuples(res);
  s->recent = n ? calloc((size_t)n, sizeof *s->recent) : NULL;
  if (n && !s->recent) {
    PQclear(res);
    return fastepost__error_oom();
  }
  s->nrecent = (size_t)n;
  for (int r = 0; r < n && !*failed; r++) {
    fastepost_crm_recent_event *e = &s->recent[r];
    e->id = col_int(res, r, 0);
    e->source = keep(s, col(res, r, 1), failed);
    e->event_type = keep(s, col(res, r, 2), failed);
    e->status = keep(s, col(res, r, 3), failed);
    e->outcome = keep(s, col(res, r, 4), failed);
    e->error = keep(s, col(res, r, 5), failed);
    e->created_at = keep(s, col(res, r, 6), failed);
    e->created_at_ms = col_int(res, r, 7);
    char *ago = NULL;
    if (fastepost_time_ago(&ago, e->created_at_ms, s->now_ms) != FASTEPOST_OK) {
      *failed = true;
      break;
    }
    e->time_ago = keep(s, ago, failed);
    free(ago);
  }
  PQclear(res);
  return FASTEPOST_OK;
}

/*
 * One round trip for the preconditions: whether migration 2 has run (FASTEPOST_EVERSION with a
 * hint rather than a raw SQL error) and the server's clock when no explicit one was given.
 */
static int check_counters(int64_t *server_now_ms, fastepost_conn *conn) {
  PGresult *res;
  int rc = fastepost__query(&res, conn,
                            "SELECT to_regclass('fastepost_event_counts') IS NOT NULL "
                            "AND to_regclass('fastepost_row_counts') IS NOT NULL, "
                            "floor(extract(epoch FROM statement_timestamp()) * 1000)::int8",
                            0, NULL, PGRES_TUPLES_OK, "checking the CRM counters");
  if (rc)
    return rc;
  bool ok = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
  if (server_now_ms)
    *server_now_ms = col_int(res, 0, 1);
  PQclear(res);
  return ok ? FASTEPOST_OK
            : fastepost__error_set(FASTEPOST_EVERSION,
                                   "the CRM counters are missing: the schema is older than "
                                   "version 2 (run 'fastepost schema install')");
}

static void iso_time(char *out, size_t size, int64_t ms) {
  time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, size - n, ".%06dZ", (int)((ms - (int64_t)secs * 1000) * 1000));
}

fastepost_status fastepost_crm_stats_collect_at(fastepost_crm_stats **out, fastepost_conn *conn,
                                                const char *base_url, int64_t now_ms) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_crm_stats_collect: out is NULL");
  *out = NULL;
  fastepost_crm_stats *s = calloc(1, sizeof *s);
  if (!s)
    return fastepost__error_oom();
  bool failed = false;
  int rc = fill_setup(s, base_url, &failed);
  int64_t server_now = 0;
  if (!rc)
    rc = check_counters(&server_now, conn);
  if (!rc && now_ms < 0)
    now_ms = server_now;
  if (!rc) {
    char iso[64];
    s->now_ms = now_ms;
    iso_time(iso, sizeof iso, now_ms);
    s->generated_at = keep(s, iso, &failed);
    rc = read_sources(s, conn, &failed);
  }
  if (!rc)
    rc = read_sync(s, conn, &failed);
  if (!rc)
    rc = read_recent(s, conn, &failed);
  if (!rc && failed)
    rc = fastepost__error_oom();
  if (rc) {
    fastepost__error_prefix("CRM statistics");
    fastepost_crm_stats_free(s);
    return rc;
  }
  *out = s;
  return FASTEPOST_OK;
}

fastepost_status fastepost_crm_stats_collect(fastepost_crm_stats **out, fastepost_conn *conn,
                                             const char *base_url) {
  return fastepost_crm_stats_collect_at(out, conn, base_url, -1);
}

fastepost_status fastepost_crm_stats_rebuild(fastepost_conn *conn) {
  int rc = check_counters(NULL, conn);
  if (rc)
    return rc;
  if ((rc = fastepost__tx_begin(conn)))
    return rc;
  rc = fastepost__exec(conn,
                       "LOCK TABLE integration_events, customers, tasks IN SHARE ROW EXCLUSIVE MODE",
                       "locking the counted tables");
  if (!rc)
    rc = fastepost__exec(conn, "SELECT fastepost_crm_counters_rebuild()",
                         "recounting the CRM counters");
  if (!rc)
    rc = fastepost__tx_commit(conn);
  if (rc)
    fastepost__tx_rollback(conn);
  return rc;
}

/* ---- getters ----------------------------------------------------------------------------- */

int64_t fastepost_crm_stats_now_ms(const fastepost_crm_stats *s) { return s ? s->now_ms : 0; }

const char *fastepost_crm_stats_generated_at(const fastepost_crm_stats *s) {
  return s ? s->generated_at : NULL;
}

size_t fastepost_crm_stats_source_count(const fastepost_crm_stats *s) { return s ? s->nsources : 0; }

const fastepost_crm_source_stats *fastepost_crm_stats_source(const fastepost_crm_stats *s, size_t i) {
  return s && i < s->nsources ? &s->sources[i] : NULL;
}

const fastepost_crm_source_stats *fastepost_crm_stats_find_source(const fastepost_crm_stats *s,
                                                                  const char *source) {
  for (size_t i = 0; s && source && i < s->nsources; i++)
    if (s->sources[i].source && strcmp(s->sources[i].source, source) == 0)
      return &s->sources[i];
  return NULL;
}

const fastepost_crm_sync_stats *fastepost_crm_stats_sync(const fastepost_crm_stats *s) {
  return s ? &s->sync : NULL;
}

size_t fastepost_crm_stats_recent_count(const fastepost_crm_stats *s) { return s ? s->nrecent : 0; }

const fastepost_crm_recent_event *fastepost_crm_stats_recent(const fastepost_crm_stats *s, size_t i) {
  return s && i < s->nrecent ? &s->recent[i] : NULL;
}

const fastepost_crm_setup *fastepost_crm_stats_setup(const fastepost_crm_stats *s) {
  return s ? &s->setup : NULL;
}
