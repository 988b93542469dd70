/* SPDX-License-Identifier: MIT */
/*
 * The CRM figures in Prometheus' text exposition format (version 0.0.4), for a /metrics route
 * or the node exporter's textfile collector (see docs/metrics.md). Numbers only, from a
 * fastepost_crm_stats already collected: the same figures as the dashboard, no query of its own.
 *
 * Every family is written whole (HELP, TYPE, then all its samples), as the format requires.
 * The event counts are gauges, not counters: pruning the event log (fastepost_events_prune())
 * lowers them, and a counter must never go down.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fastepost/report.h"
#include "fastepost/spool.h"
#include "internal.h"

/* A label value: backslash, double quote and line feed escaped (the format's only escapes). */
static void label_value(fastepost__buf *b, const char *s) {
  fastepost__buf_putc(b, '"');
  for (; s && *s; s++) {
    if (*s == '\\' || *s == '"')
      fastepost__buf_putc(b, '\\'), fastepost__buf_putc(b, *s);
    else if (*s == '\n')
      fastepost__buf_puts(b, "\\n");
    else
      fastepost__buf_putc(b, *s);
  }
  fastepost__buf_putc(b, '"');
}

static void family(fastepost__buf *b, const char *name, const char *type, const char *help) {
  fastepost__buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{source="..."[,status="..."]} value */
static void source_sample(fastepost__buf *b, const char *name, const char *source, const char *status,
                          const char *value) {
  fastepost__buf_printf(b, "%s{source=", name);
  label_value(b, source);
  if (status) {
    fastepost__buf_puts(b, ",status=");
    label_value(b, status);
  }
  fastepost__buf_printf(b, "} %s\n", value);
}

static void u64(char *out, size_t size, uint64_t v) { snprintf(out, size, "%llu", (unsigned long long)v); }

/* Seconds with microsecond precision, exactly (no floating point on the way). */
static void seconds(char *out, size_t size, int64_t us) {
  int64_t s = us / 1000000, r = us % 1000000;
  if (r < 0)
    r = -r;
  snprintf(out, size, "%s%lld.%06lld", us < 0 && s == 0 ? "-" : "", (long long)s, (long long)r);
}

typedef const fastepost_crm_source_stats *src_t;

/* One family of a count per source: the uint64_t member at `field` of each source's figures. */
static void per_source_count(fastepost__buf *b, const fastepost_crm_stats *stats, const char *name, const char *help,
                             size_t field) {
  char v[32];
  family(b, name, "gauge", help);
  for (size_t i = 0; i < fastepost_crm_stats_source_count(stats); i++) {
    src_t s = fastepost_crm_stats_source(stats, i);
    uint64_t count;
    memcpy(&count, (const char *)s + field, sizeof count);
    u64(v, sizeof v, count);
    source_sample(b, name, s->source, NULL, v);
  }
}

static int spool_depth(fastepost__buf *b, fastepost_spool *spool) {
  fastepost_spool_entries *ok = NULL, *bad = NULL;
  int rc = fastepost_spool_list(&ok, spool);
  if (rc == FASTEPOST_OK)
    rc = fastepost_spool_list_bad(&bad, spool);
  if (rc == FASTEPOST_OK) {
    family(b, "fastepost_spool_entries", "gauge", "Deliveries waiting in the spool for a replay.");
    fastepost__buf_printf(b, "fastepost_spool_entries %zu\n", fastepost_spool_entries_count(ok));
    family(b, "fastepost_spool_bad_entries", "gauge", "Spooled deliveries set aside as unreplayable.");
    fastepost__buf_printf(b, "fastepost_spool_bad_entries %zu\n", fastepost_spool_entries_count(bad));
  }
  fastepost_spool_entries_free(ok);
  fastepost_spool_entries_free(bad);
  return rc;
}

fastepost_status fastepost_report_prometheus(char **out, const fastepost_crm_stats *stats, fastepost_spool *spool) {
  if (out)
    *out = NULL;
  if (!out || !stats)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_report_prometheus: NULL argument");
  fastepost__buf b = {0};
  size_t n = fastepost_crm_stats_source_count(stats);
  int64_t now = fastepost_crm_stats_now_us(stats);
  char v[64];

  family(&b, "fastepost_crm_events", "gauge", "Events in the log by CRM source and status.");
  static const char *const statuses[] = {"success", "error", "dead", "pending"};
  for (size_t i = 0; i < n; i++) {
    src_t s = fastepost_crm_stats_source(stats, i);
    const uint64_t counts[] = {s->success_events, s->error_events, s->dead_events, s->pending_events};
    for (size_t k = 0; k < 4; k++) {
      u64(v, sizeof v, counts[k]);
      source_sample(&b, "fastepost_crm_events", s->source, statuses[k], v);
    }
  }
  per_source_count(&b, stats, "fastepost_crm_events_24h", "Events logged in the last 24 hours by CRM source.",
                   offsetof(fastepost_crm_source_stats, events_24h));
  family(&b, "fastepost_crm_success_ratio", "gauge",
         "success / (success + error + dead), 0 to 1; absent before an event has finished.");
  for (size_t i = 0; i < n; i++) {
    src_t s = fastepost_crm_stats_source(stats, i);
    if (!s->has_success_rate)
      continue;
    uint64_t done = s->success_events + s->error_events + s->dead_events;
    /* From the counts, not the rounded percentage: an alert at 0.8 must not flip on rounding.
     * Printed from whole millionths: printf's %f writes LC_NUMERIC's decimal point, "0,5"
     * under a German locale, which no scraper reads (tests: the binding suites' locale runs). */
    uint64_t a = s->success_events, d = done;
    while (a > UINT64_MAX / 2 / 1000000u) /* keep a * 10^6 + d / 2 in range: same ratio */
      a >>= 1, d >>= 1;
    uint64_t millionths = d ? (a * 1000000u + d / 2) / d : 0;
    snprintf(v, sizeof v, "%llu.%06llu", (unsigned long long)(millionths / 1000000u),
             (unsigned long long)(millionths % 1000000u));
    source_sample(&b, "fastepost_crm_success_ratio", s->source, NULL, v);
  }
  per_source_count(&b, stats, "fastepost_crm_retry_queue", "Failed events waiting for a retry, by CRM source.",
                   offsetof(fastepost_crm_source_stats, error_events));
  per_source_count(&b, stats, "fastepost_crm_dead_events", "Events whose retries are exhausted, by CRM source.",
                   offsetof(fastepost_crm_source_stats, dead_events));
  family(&b, "fastepost_crm_last_event_timestamp_seconds", "gauge",
         "When the newest event of a CRM source was logged (Unix time); absent without events.");
  for (size_t i = 0; i < n; i++) {
    src_t s = fastepost_crm_stats_source(stats, i);
    if (!s->last_event_at_us)
      continue;
    seconds(v, sizeof v, s->last_event_at_us);
    source_sample(&b, "fastepost_crm_last_event_timestamp_seconds", s->source, NULL, v);
  }
  family(&b, "fastepost_crm_seconds_since_last_event", "gauge",
         "Seconds from the newest event of a CRM source to the figures' time; absent without events.");
  for (size_t i = 0; i < n; i++) {
    src_t s = fastepost_crm_stats_source(stats, i);
    if (!s->last_event_at_us)
      continue;
    seconds(v, sizeof v, now > s->last_event_at_us ? now - s->last_event_at_us : 0);
    source_sample(&b, "fastepost_crm_seconds_since_last_event", s->source, NULL, v);
  }
  const fastepost_crm_sync_stats *sync = fastepost_crm_stats_sync(stats);
  family(&b, "fastepost_customers", "gauge", "Rows in customers.");
  fastepost__buf_printf(&b, "fastepost_customers %llu\n", (unsigned long long)sync->total_customers);
  family(&b, "fastepost_customers_synced", "gauge", "Customers linked to a CRM record.");
  fastepost__buf_printf(&b, "fastepost_customers_synced %llu\n", (unsigned long long)sync->synced_customers);
  family(&b, "fastepost_tasks_pending", "gauge", "Tasks with status pending.");
  fastepost__buf_printf(&b, "fastepost_tasks_pending %llu\n", (unsigned long long)sync->pending_tasks);

  int rc = b.oom ? FASTEPOST_ENOMEM : FASTEPOST_OK;
  if (rc == FASTEPOST_OK && spool)
    rc = spool_depth(&b, spool);
  if (rc == FASTEPOST_OK && b.oom)
    rc = FASTEPOST_ENOMEM;
  if (rc != FASTEPOST_OK) {
    fastepost__buf_clear(&b);
    return rc == FASTEPOST_ENOMEM ? fastepost__error_oom() : rc;
  }
  *out = fastepost__buf_detach(&b);
  return *out ? FASTEPOST_OK : fastepost__error_oom();
}
