/* SPDX-License-Identifier: MIT */
/*
 * CRM dashboard statistics. Every figure comes from a bounded amount of work, whatever the
 * size of the event log (docs/crm-stats.md):
 * - totals and success rates: fastepost_event_counts (sources x statuses x slots used rows: at
 *   most 64 slots since migration 13);
 * - the 24-hour window: the full hours from fastepost_event_hourly_counts (at most 24 hours x
 *   statuses x slots rows per source) plus an exact count of the partial first hour through
 *   the (source, created_at) index: at most one hour of events;
 * - the last event per source and the 20 newest events: one index probe each;
 * - customers and pending tasks: fastepost_row_counts; the last sync: max() over the
 *   last_synced_at index;
 * - the history for charts (when asked for): the hourly counters of the last 30 days, through
 *   their primary key (source, hour, ...): at most 720 hours x statuses x slots rows per source.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/adapter.h"
#include "internal.h"
#include "stats_crm_priv.h"
#include "util/strv.h"

/* A timestamp column as µs since the epoch (timestamps are stored in UTC), exact on every
 * server version: extract(epoch) is a float8 before PostgreSQL 14. NULL stays NULL. */
#define TS_US(col)                                                                               \
  "(extract(epoch FROM date_trunc('second', " col "))::int8 * 1000000 + "                        \
  "extract(microseconds FROM " col ")::int8 % 1000000)"

#define PATH_MAX_LEN 1024

/* The registry's sources, by index (fastepost__adapter_at()); a bit each in `configured`. */
#define MAX_SOURCES 32

struct fastepost_crm_stats_options {
  char *base_url;
  char *paths[MAX_SOURCES]; /* NULL: FASTEPOST_CRM_STATS_DEFAULT_PATH_PREFIX + the source */
  uint32_t configured;      /* 0: odoo and hubspot (the 1.0 default) */
  fastepost_clock_fn clock;
  void *clock_payload;
  int history;
};

struct fastepost_crm_stats {
  int64_t now_us;
  fastepost_crm_source_stats *sources;
  size_t nsources;
  fastepost_crm_sync_stats sync;
  fastepost_crm_recent_event *recent;
  size_t nrecent;
  fastepost_crm_setup setup;
  /* nsources x FASTEPOST_CRM_HISTORY_{HOURS,DAYS}_LEN buckets, source by source; NULL when the
   * history was not asked for. */
  fastepost_crm_bucket *hours, *days;
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

/* A counter: never negative in a consistent database; a negative sum (a counter row written
 * by hand) reads as 0 rather than as 2^64 - n. */
static uint64_t col_count(const PGresult *res, int row, int c) {
  int64_t n = col_int(res, row, c);
  return n > 0 ? (uint64_t)n : 0;
}

void fastepost_crm_stats_free(fastepost_crm_stats *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->nowned; i++)
    free(s->owned[i]);
  free(s->owned);
  free(s->sources);
  free(s->recent);
  free(s->hours);
  free(s->days);
  free(s);
}

/* ---- set-up ------------------------------------------------------------------------------ */

/* ---- options ---------------------------------------------------------------------------- */

fastepost_status fastepost_crm_stats_options_new(fastepost_crm_stats_options **out) {
  return FASTEPOST__OUT_NEW(out, "fastepost_crm_stats_options_new");
}

void fastepost_crm_stats_options_free(fastepost_crm_stats_options *o) {
  if (!o)
    return;
  free(o->base_url);
  for (size_t i = 0; i < MAX_SOURCES; i++)
    free(o->paths[i]);
  free(o);
}

/* The registry index of a source, or -1 for a source without an adapter. */
static int source_index(const char *source) {
  for (size_t i = 0; source && i < fastepost__adapter_count() && i < MAX_SOURCES; i++)
    if (strcmp(fastepost__adapter_at(i)->source, source) == 0)
      return (int)i;
  return -1;
}

fastepost_status fastepost_crm_stats_options_add_source(fastepost_crm_stats_options *o, const char *source) {
  if (!o || !source)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "fastepost_crm_stats_options_add_source: opts or source is NULL");
  int i = source_index(source);
  if (i < 0)
    return fastepost__error_set(FASTEPOST_EINVALID, "not a CRM source: '%.64s'", source);
  o->configured |= UINT32_C(1) << i;
  return FASTEPOST_OK;
}

/* 1 when the options name the source as configured (by default odoo and hubspot). */
static int is_configured(const fastepost_crm_stats_options *o, const char *source) {
  int i = source_index(source);
  if (i < 0)
    return 0;
  if (!o->configured)
    return strcmp(source, "odoo") == 0 || strcmp(source, "hubspot") == 0;
  return (o->configured >> i) & 1;
}

/* The configured sources as a PostgreSQL array literal ("{odoo,hubspot}"): registry names are
 * plain lower-case words, and the text goes as a parameter all the same. */
static void configured_array(char *out, size_t size, const fastepost_crm_stats_options *o) {
  size_t n = snprintf(out, size, "{");
  for (size_t i = 0; i < fastepost__adapter_count() && i < MAX_SOURCES && n < size; i++) {
    const char *name = fastepost__adapter_at(i)->source;
    if (is_configured(o, name))
      n += snprintf(out + n, size - n, "%s%s", n > 1 ? "," : "", name);
  }
  if (n < size)
    snprintf(out + n, size - n, "}");
}

/* NULL or "" clears the field (the default again). */
static fastepost_status replace(char **field, const char *value, size_t len) {
  char *copy = NULL;
  if (value && len && !(copy = fastepost__strndup(value, len)))
    return fastepost__error_oom();
  free(*field);
  *field = copy;
  return FASTEPOST_OK;
}

fastepost_status fastepost_crm_stats_options_set_base_url(fastepost_crm_stats_options *o,
                                                          const char *base_url) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_crm_stats_options_set_base_url: opts is NULL");
  size_t len = base_url ? strlen(base_url) : 0;
  if (len && strncmp(base_url, "http://", 7) != 0 && strncmp(base_url, "https://", 8) != 0)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "the base URL must start with http:// or https://");
  if (len > PATH_MAX_LEN)
    return fastepost__error_set(FASTEPOST_EINVALID, "the base URL is longer than %d bytes",
                                PATH_MAX_LEN);
  while (len && base_url[len - 1] == '/')
    len--;
  return replace(&o->base_url, base_url, len);
}

fastepost_status fastepost_crm_stats_options_set_path(fastepost_crm_stats_options *o,
                                                      const char *source, const char *path) {
  if (!o || !source)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_crm_stats_options_set_path: opts or source is NULL");
  int i = source_index(source);
  if (i < 0)
    return fastepost__error_set(FASTEPOST_EINVALID, "no webhook path for the source '%.64s' (not a CRM source)",
                                source);
  char **field = &o->paths[i];
  size_t len = path ? strlen(path) : 0;
  if (len && path[0] != '/')
    return fastepost__error_set(FASTEPOST_EINVALID, "a webhook path starts with '/'");
  if (len > PATH_MAX_LEN)
    return fastepost__error_set(FASTEPOST_EINVALID, "the webhook path is longer than %d bytes",
                                PATH_MAX_LEN);
  return replace(field, path, len);
}

fastepost_status fastepost_crm_stats_options_set_clock(fastepost_crm_stats_options *o,
                                                       fastepost_clock_fn clock, void *payload) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_crm_stats_options_set_clock: opts is NULL");
  o->clock = clock;
  o->clock_payload = payload;
  return FASTEPOST_OK;
}

fastepost_status fastepost_crm_stats_options_set_history(fastepost_crm_stats_options *o, int enabled) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_crm_stats_options_set_history: opts is NULL");
  o->history = enabled != 0;
  return FASTEPOST_OK;
}

/* ---- health -------------------------------------------------------------------------------- */

static const char *const health_names[] = {"none", "good", "warning"};

const char *fastepost_crm_stats_health_name(fastepost_crm_stats_health h) {
  return (unsigned)h < sizeof health_names / sizeof health_names[0] ? health_names[h] : "";
}

fastepost_status fastepost_crm_stats_health_parse(fastepost_crm_stats_health *out, const char *name) {
  for (size_t i = 0; out && name && i < sizeof health_names / sizeof health_names[0]; i++)
    if (strcmp(name, health_names[i]) == 0) {
      *out = (fastepost_crm_stats_health)i;
      return FASTEPOST_OK;
    }
  return fastepost__error_set(FASTEPOST_EINVALID, "not a health level: '%.32s' (none, good, warning)",
                              name ? name : "(null)");
}

/* ---- set-up ------------------------------------------------------------------------------ */

/* Both parts are at most PATH_MAX_LEN bytes (the setters check); the default path is the
 * prefix + a registry name. */
#define URL_MAX (2 * PATH_MAX_LEN + 64)

/* The URL a source's webhooks go to: the base URL + its path; "" without an adapter. */
static void webhook_url(char *url, const fastepost_crm_stats_options *o, const char *source) {
  int i = source_index(source);
  if (i < 0) {
    url[0] = '\0';
    return;
  }
  const char *base = o->base_url ? o->base_url : "";
  if (o->paths[i])
    snprintf(url, URL_MAX, "%s%s", base, o->paths[i]);
  else
    snprintf(url, URL_MAX, "%s" FASTEPOST_CRM_STATS_DEFAULT_PATH_PREFIX "%s", base, source);
}

static void fill_setup(fastepost_crm_stats *s, const fastepost_crm_stats_options *o, bool *failed) {
  char url[URL_MAX];
  fastepost_crm_setup *u = &s->setup;
  webhook_url(url, o, "odoo");
  u->odoo_webhook_url = keep(s, url, failed);
  size_t len = strlen(url);
  snprintf(url + len, sizeof url - len, "%capi_key=YOUR_API_KEY", strchr(url, '?') ? '&' : '?');
  u->odoo_webhook_url_with_key = keep(s, url, failed);
  webhook_url(url, o, "hubspot");
  u->hubspot_webhook_url = keep(s, url, failed);
  u->odoo_api_key_header = "X-Odoo-Api-Key";
  u->odoo_api_key_param = "api_key";
  u->hubspot_signature_header = "X-HubSpot-Signature-v3";
  u->hubspot_timestamp_header = "X-HubSpot-Request-Timestamp";
}

/* ---- queries ----------------------------------------------------------------------------- */

/* The window is [now - 24 h, now], plus anything stamped in the future: its full hours from the
 * hourly counters, from the hour $4 on, plus $5 (1 or -1) times the events of [$1, $2) counted
 * through the (source, created_at) index (read_sources says which part of the first hour that
 * is); times in µs since the epoch. */
#define US_PARAM(n) "('epoch'::timestamp + $" #n "::int8 * interval '1 microsecond')"
static const char sources_sql[] =
    "WITH t AS (SELECT source, sum(n) AS total, "
    "  coalesce(sum(n) FILTER (WHERE status = 'success'), 0) AS success, "
    "  coalesce(sum(n) FILTER (WHERE status = 'error'), 0) AS error, "
    "  coalesce(sum(n) FILTER (WHERE status = 'dead'), 0) AS dead, "
    "  coalesce(sum(n) FILTER (WHERE status = 'pending'), 0) AS pending "
    "  FROM fastepost_event_counts GROUP BY source), "
    "names AS (SELECT source::text FROM t WHERE total > 0 "
    "  UNION SELECT unnest($3::text[])) "
    "SELECT s.source, coalesce(t.total, 0), coalesce(t.success, 0), coalesce(t.error, 0), "
    "  coalesce(t.dead, 0), coalesce(t.pending, 0), "
    "  (SELECT coalesce(sum(h.n), 0) FROM fastepost_event_hourly_counts h "
    "    WHERE h.source = s.source AND h.hour >= " US_PARAM(4) ") "
    "  + $5::int * (SELECT count(*) FROM integration_events e WHERE e.source = s.source "
    "    AND e.created_at >= " US_PARAM(1) " AND e.created_at < " US_PARAM(2) "), "
    "  " TS_US("l.created_at") ", l.event_type "
    "FROM names s LEFT JOIN t ON t.source = s.source "
    /* The range around the equality is for the planner: on its own, `source = s.source` is
     * estimated to match a third of the table, and walking the (created_at, id) index back
     * until a row of the source turns up looked as cheap as the (source, created_at, id) index.
     * For a configured source without events (a CRM just set up) that walk read the whole index:
     * 24 s at 15M events. The range makes the filter look rare to the first plan (it is an index
     * condition of the second), so the source index is taken: one probe, events or not. */
    "LEFT JOIN LATERAL (SELECT created_at, event_type FROM integration_events e "
    "  WHERE e.source = s.source AND e.source >= s.source AND e.source <= s.source "
    "  ORDER BY created_at DESC LIMIT 1) l ON true "
    "ORDER BY s.source";

static const char sync_sql[] =
    "SELECT c.customers, c.synced, c.pending, " TS_US("x.m") " FROM "
    "(SELECT coalesce(sum(n) FILTER (WHERE counter = 'customers'), 0) AS customers, "
    "  coalesce(sum(n) FILTER (WHERE counter = 'customers_crm_synced'), 0) AS synced, "
    "  coalesce(sum(n) FILTER (WHERE counter = 'tasks_pending'), 0) AS pending "
    "  FROM fastepost_row_counts) c, "
    "(SELECT max(last_synced_at) AS m FROM customers) x";

static const char recent_sql[] =
    "SELECT id, source, event_type, status, outcome, error_message, " TS_US("created_at")
    " FROM integration_events ORDER BY created_at DESC, id DESC LIMIT 20";

/* Rounded half up to tenths of a percent, in integers so that 80.05 is 80.1 on every FPU. */
static void set_rate(fastepost_crm_source_stats *src) {
  uint64_t finished = src->success_events + src->error_events + src->dead_events;
  src->has_success_rate = finished > 0;
  if (!src->has_success_rate) {
    src->success_rate = 0;
    src->success_rate_tenths = 0;
    src->health = FASTEPOST_CRM_STATS_HEALTH_NONE;
    return;
  }
  uint64_t tenths = (src->success_events * 1000 + finished / 2) / finished;
  src->success_rate_tenths = (uint32_t)tenths;
  src->success_rate = (double)tenths / 10.0;
  /* On the rounded figure, so that the badge agrees with the number shown next to it. */
  src->health = tenths > 800 ? FASTEPOST_CRM_STATS_HEALTH_GOOD : FASTEPOST_CRM_STATS_HEALTH_WARNING;
}

#define HOUR_US 3600000000LL

static int read_sources(fastepost_crm_stats *s, fastepost_conn *conn, const fastepost_crm_stats_options *o,
                        bool *failed) {
  PGresult *res;
  int64_t start = s->now_us - 24 * HOUR_US;
  int64_t full_from = start % HOUR_US == 0 ? start : (start / HOUR_US + (start > 0)) * HOUR_US;
  /* The window's partial first hour is counted from the event rows: up to an hour of them per
   * source (100M events over a year are ~11,000 an hour). When more than half of that hour lies
   * inside the window, the rows of the part outside it are counted instead and taken from the
   * hour's counter, which the same snapshot keeps exact: at most half an hour of rows. */
  int64_t hour_start = full_from == start ? start : full_from - HOUR_US;
  bool outside = full_from - start > HOUR_US / 2;
  char lo[32], hi[32], hours_from[32], configured[MAX_SOURCES * 24];
  snprintf(lo, sizeof lo, "%lld", (long long)(outside ? hour_start : start));
  snprintf(hi, sizeof hi, "%lld", (long long)(outside ? start : full_from));
  snprintf(hours_from, sizeof hours_from, "%lld", (long long)(outside ? hour_start : full_from));
  configured_array(configured, sizeof configured, o);
  const char *params[5] = {lo, hi, configured, hours_from, outside ? "-1" : "1"};
  int n, rc;
  if (!(s->sources = fastepost__query_rows(&rc, &res, &n, sizeof *s->sources, conn, sources_sql, 5,
                                           params, "reading the CRM event counters")))
    return rc;
  s->nsources = (size_t)n;
  for (int r = 0; r < n; r++) {
    fastepost_crm_source_stats *src = &s->sources[r];
    src->source = keep(s, col(res, r, 0), failed);
    src->total_events = col_count(res, r, 1);
    src->success_events = col_count(res, r, 2);
    src->error_events = col_count(res, r, 3);
    src->dead_events = col_count(res, r, 4);
    src->pending_events = col_count(res, r, 5);
    src->events_24h = col_count(res, r, 6);
    src->last_event_at_us = col_int(res, r, 7);
    src->last_event_type = keep(s, col(res, r, 8), failed);
    set_rate(src);
    char url[URL_MAX];
    webhook_url(url, o, src->source ? src->source : "");
    src->webhook_url = keep(s, url, failed);
    src->configured = src->source && is_configured(o, src->source);
  }
  PQclear(res);
  return FASTEPOST_OK;
}

static int read_sync(fastepost_crm_stats *s, fastepost_conn *conn) {
  PGresult *res;
  int rc = fastepost__query(&res, conn, sync_sql, 0, NULL, PGRES_TUPLES_OK,
                            "reading the customer counters");
  if (rc)
    return rc;
  s->sync.total_customers = col_count(res, 0, 0);
  s->sync.synced_customers = col_count(res, 0, 1);
  s->sync.pending_tasks = col_count(res, 0, 2);
  s->sync.last_sync_at_us = col_int(res, 0, 3);
  PQclear(res);
  return FASTEPOST_OK;
}

static int read_recent(fastepost_crm_stats *s, fastepost_conn *conn, bool *failed) {
  PGresult *res;
  int n, rc;
  if (!(s->recent = fastepost__query_rows(&rc, &res, &n, sizeof *s->recent, conn, recent_sql, 0,
                                          NULL, "reading the recent events")))
    return rc;
  s->nrecent = (size_t)n;
  for (int r = 0; r < n && !*failed; r++) {
    fastepost_crm_recent_event *e = &s->recent[r];
    e->id = col_int(res, r, 0);
    e->source = keep(s, col(res, r, 1), failed);
    e->event_type = keep(s, col(res, r, 2), failed);
    e->status = keep(s, col(res, r, 3), failed);
    e->outcome = keep(s, col(res, r, 4), failed);
    e->error = keep(s, col(res, r, 5), failed);
    e->created_at_us = col_int(res, r, 6);
  }
  PQclear(res);
  return FASTEPOST_OK;
}

/* ---- history ------------------------------------------------------------------------------ */

#define DAY_US (24 * HOUR_US)
/* The clocks whose 30 days of history are all in the years 1 to 9999 (and so in PostgreSQL's
 * timestamp range and far from int64 overflow): 0001-01-31 up to 9999-12-31 23:59:59.999999. */
#define HISTORY_MIN_US (-62135596800000000LL + 30 * DAY_US)
#define HISTORY_MAX_US 253402300799999999LL

/* t rounded down to a multiple of unit, also before 1970 (C's division rounds towards zero). */
static int64_t floor_to(int64_t t, int64_t unit) {
  int64_t q = t / unit;
  return (t % unit < 0 ? q - 1 : q) * unit;
}

/* The first hourly and daily bucket of a clock; false for a clock outside the history's range. */
static bool history_start(int64_t now_us, int64_t *hour0, int64_t *day0) {
  if (now_us < HISTORY_MIN_US || now_us > HISTORY_MAX_US)
    return false;
  *hour0 = floor_to(now_us, HOUR_US) - (FASTEPOST_CRM_HISTORY_HOURS_LEN - 1) * HOUR_US;
  *day0 = floor_to(now_us, DAY_US) - (FASTEPOST_CRM_HISTORY_DAYS_LEN - 1) * DAY_US;
  return true;
}

/* Add n events of a status to a bucket; other statuses (none but the four pass the table's
 * CHECK) and negative sums (a counter written by hand) add nothing. */
static void bucket_add(fastepost_crm_bucket *b, const char *status, uint64_t n) {
  if (strcmp(status, "success") == 0)
    b->success += n;
  else if (strcmp(status, "error") == 0)
    b->error += n;
  else if (strcmp(status, "dead") == 0)
    b->dead += n;
  else if (strcmp(status, "pending") == 0)
    b->pending += n;
}

/* $1 the sources, $2 the first day, $3 the end of the clock's hour. Summed over the slots here;
 * hours into days in read_history(), so that one index range per source serves both charts. */
static const char history_sql[] =
    "SELECT source, " TS_US("hour") ", status, sum(n) FROM fastepost_event_hourly_counts "
    "WHERE source = ANY($1::text[]) AND hour >= " US_PARAM(2) " AND hour < " US_PARAM(3) " "
    "GROUP BY source, hour, status";

static int read_history(fastepost_crm_stats *s, fastepost_conn *conn) {
  size_t n = s->nsources ? s->nsources : 1;
  s->hours = calloc(n * FASTEPOST_CRM_HISTORY_HOURS_LEN, sizeof *s->hours);
  s->days = calloc(n * FASTEPOST_CRM_HISTORY_DAYS_LEN, sizeof *s->days);
  if (!s->hours || !s->days)
    return fastepost__error_oom();
  int64_t hour0, day0;
  if (!history_start(s->now_us, &hour0, &day0))
    return FASTEPOST_OK; /* empty buckets without times: nothing to chart at such a clock */
  for (size_t i = 0; i < s->nsources; i++) {
    for (int h = 0; h < FASTEPOST_CRM_HISTORY_HOURS_LEN; h++)
      s->hours[i * FASTEPOST_CRM_HISTORY_HOURS_LEN + h].start_us = hour0 + h * HOUR_US;
    for (int d = 0; d < FASTEPOST_CRM_HISTORY_DAYS_LEN; d++)
      s->days[i * FASTEPOST_CRM_HISTORY_DAYS_LEN + d].start_us = day0 + d * DAY_US;
  }
  if (!s->nsources)
    return FASTEPOST_OK;
  const char **names = calloc(s->nsources, sizeof *names);
  if (!names)
    return fastepost__error_oom();
  for (size_t i = 0; i < s->nsources; i++)
    names[i] = s->sources[i].source;
  fastepost__buf list = FASTEPOST__BUF_INIT;
  int rc = fastepost__buf_array_literal(&list, names, s->nsources);
  free(names);
  char from[32], to[32];
  snprintf(from, sizeof from, "%lld", (long long)day0);
  snprintf(to, sizeof to, "%lld", (long long)(floor_to(s->now_us, HOUR_US) + HOUR_US));
  const char *params[3] = {fastepost__buf_cstr(&list), from, to};
  PGresult *res = NULL;
  if (!rc)
    rc = fastepost__query(&res, conn, history_sql, 3, params, PGRES_TUPLES_OK, "reading the event history");
  fastepost__buf_free(&list);
  if (rc)
    return rc;
  for (int r = 0; r < PQntuples(res); r++) {
    const char *source = col(res, r, 0), *status = col(res, r, 2);
    int64_t hour = col_int(res, r, 1);
    size_t i = 0;
    while (i < s->nsources && !(source && s->sources[i].source && strcmp(source, s->sources[i].source) == 0))
      i++;
    if (i == s->nsources || !status || hour < day0)
      continue;
    uint64_t count = col_count(res, r, 3);
    bucket_add(&s->days[i * FASTEPOST_CRM_HISTORY_DAYS_LEN + (size_t)((hour - day0) / DAY_US)], status, count);
    if (hour >= hour0)
      bucket_add(&s->hours[i * FASTEPOST_CRM_HISTORY_HOURS_LEN + (size_t)((hour - hour0) / HOUR_US)], status,
                 count);
  }
  PQclear(res);
  return FASTEPOST_OK;
}

/* The dashboard's statements over tables that grow, for the plan test at size
 * (tests/db/crm_plans.c). */
const fastepost__named_sql fastepost__crm_stats_statements[] = {
    {"sources", sources_sql}, {"history", history_sql}, {"recent", recent_sql}, {"sync", sync_sql}, {NULL, NULL}};

/*
 * One round trip for the preconditions: whether migration 2 has run (FASTEPOST_EVERSION with a
 * hint rather than a raw SQL error) and the server's clock when no explicit one was given.
 */
static int check_counters(int64_t *server_now_us, fastepost_conn *conn) {
  PGresult *res;
  int rc = fastepost__query(&res, conn,
                            "SELECT to_regclass('fastepost_event_counts') IS NOT NULL "
                            "AND to_regclass('fastepost_row_counts') IS NOT NULL, "
                            TS_US("(statement_timestamp() AT TIME ZONE 'UTC')"),
                            0, NULL, PGRES_TUPLES_OK, "checking the CRM counters");
  if (rc)
    return rc;
  bool ok = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
  if (server_now_us)
    *server_now_us = col_int(res, 0, 1);
  PQclear(res);
  return ok ? FASTEPOST_OK
            : fastepost__error_set(FASTEPOST_EVERSION,
                                   "the CRM counters are missing: the schema is older than "
                                   "version 2 (run 'fastepost schema install')");
}

fastepost_status fastepost_crm_stats_collect(fastepost_crm_stats **out, fastepost_conn *conn,
                                             const fastepost_crm_stats_options *opts) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_crm_stats_collect: out is NULL");
  *out = NULL;
  static const fastepost_crm_stats_options defaults = {0};
  if (!opts)
    opts = &defaults;
  fastepost_crm_stats *s = calloc(1, sizeof *s);
  if (!s)
    return fastepost__error_oom();
  bool failed = false;
  fill_setup(s, opts, &failed);
  int64_t server_now = 0;
  int rc = check_counters(&server_now, conn);
  if (!rc) {
    s->now_us = opts->clock ? opts->clock(opts->clock_payload) : server_now;
    rc = read_sources(s, conn, opts, &failed);
  }
  if (!rc && opts->history)
    rc = read_history(s, conn);
  if (!rc)
    rc = read_sync(s, conn);
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

int64_t fastepost_crm_stats_now_us(const fastepost_crm_stats *s) { return s ? s->now_us : 0; }

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

const fastepost_crm_bucket *fastepost_crm_stats_history(const fastepost_crm_stats *s, size_t i,
                                                        fastepost_crm_history_span span) {
  if (!s || i >= s->nsources)
    return NULL;
  switch (span) {
  case FASTEPOST_CRM_HISTORY_HOURS: return s->hours ? &s->hours[i * FASTEPOST_CRM_HISTORY_HOURS_LEN] : NULL;
  case FASTEPOST_CRM_HISTORY_DAYS: return s->days ? &s->days[i * FASTEPOST_CRM_HISTORY_DAYS_LEN] : NULL;
  }
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
