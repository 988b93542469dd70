/* SPDX-License-Identifier: MIT */
/*
 * The history behind the dashboard's charts (fastepost_crm_stats_history()): hour and day
 * buckets at their edges with an injected clock, sources without events, a day of failures
 * only, status changes moving counts, the epoch and clocks out of range; and the chart drawn
 * from it (src/report/chart.c).
 */
#include <stdio.h>
#include <string.h>

#include "report/report_priv.h"
#include "testdb.h"

TestSuite(crm_history, .init = fptest_setup_schema, .fini = fptest_teardown);

#define HOUR 3600000000LL
#define DAY (24 * HOUR)
/* 2026-11-27 20:08:56.109282 UTC */
#define NOW 1795810136109282LL
#define NOW_HOUR (NOW - 8 * 60000000LL - 56109282LL) /* 2026-11-27 20:00 */
#define NOW_DAY (NOW_HOUR - 20 * HOUR)                  /* 2026-11-27 00:00 */

static int64_t fixed_clock(void *payload) { return *(const int64_t *)payload; }

static fastepost_crm_stats *collect(int64_t now_us, int history, const char *extra_source) {
  static int64_t clock_us;
  clock_us = now_us;
  fastepost_crm_stats_options *o = NULL;
  cr_assert_eq(fastepost_crm_stats_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_clock(o, fixed_clock, &clock_us), FASTEPOST_OK);
  cr_assert_eq(fastepost_crm_stats_options_set_history(o, history), FASTEPOST_OK);
  if (extra_source) {
    cr_assert_eq(fastepost_crm_stats_options_add_source(o, "odoo"), FASTEPOST_OK);
    cr_assert_eq(fastepost_crm_stats_options_add_source(o, extra_source), FASTEPOST_OK);
  }
  fastepost_crm_stats *s = NULL;
  cr_assert_eq(fastepost_crm_stats_collect(&s, fptest_conn(), o), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  fastepost_crm_stats_options_free(o);
  return s;
}

/* n events of a source and status at a time given as SQL ("timestamp '...'"). */
static void add(const char *source, const char *status, const char *at, int n) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "INSERT INTO integration_events (source, event_type, status, created_at) "
           "SELECT '%s', 'res.partner', '%s', %s FROM generate_series(1, %d)",
           source, status, at, n);
  fptest_exec(sql);
}

static const fastepost_crm_bucket *history(const fastepost_crm_stats *s, const char *source,
                                           fastepost_crm_history_span span) {
  for (size_t i = 0; i < fastepost_crm_stats_source_count(s); i++)
    if (strcmp(fastepost_crm_stats_source(s, i)->source, source) == 0) {
      const fastepost_crm_bucket *b = fastepost_crm_stats_history(s, i, span);
      cr_assert_not_null(b, "no history of %s", source);
      return b;
    }
  cr_assert_fail("no source %s", source);
  return NULL;
}

static uint64_t total(const fastepost_crm_bucket *b) { return b->success + b->error + b->dead + b->pending; }

static uint64_t sum(const fastepost_crm_bucket *b, size_t n) {
  uint64_t t = 0;
  for (size_t i = 0; i < n; i++)
    t += total(&b[i]);
  return t;
}

Test(crm_history, hour_and_day_edges) {
  /* Distinct counts per edge, so that a bucket off by one shows. */
  add("odoo", "success", "timestamp '2026-11-27 20:08:56.109282'", 1);  /* the clock itself: last hour */
  add("odoo", "success", "timestamp '2026-11-27 20:00:00'", 2);         /* the clock's hour, first µs */
  add("odoo", "success", "timestamp '2026-11-27 19:59:59.999999'", 4);  /* the hour before */
  add("odoo", "error", "timestamp '2026-11-26 21:00:00'", 8);           /* the first hour of 24 */
  add("odoo", "success", "timestamp '2026-11-26 20:59:59.999999'", 16); /* before it: days only */
  add("odoo", "dead", "timestamp '2026-11-27 00:00:00'", 32);           /* today's first µs */
  add("odoo", "pending", "timestamp '2026-11-26 23:59:59.999999'", 64); /* yesterday's last */
  add("odoo", "success", "timestamp '2026-10-29 00:00:00'", 128);       /* the first day of 30 */
  add("odoo", "success", "timestamp '2026-10-28 23:59:59.999999'", 256); /* before it: nowhere */
  add("odoo", "success", "timestamp '2026-11-27 21:00:00'", 512);       /* after the clock's hour */
  fastepost_crm_stats *s = collect(NOW, 1, NULL);
  const fastepost_crm_bucket *h = history(s, "odoo", FASTEPOST_CRM_HISTORY_HOURS);
  const fastepost_crm_bucket *d = history(s, "odoo", FASTEPOST_CRM_HISTORY_DAYS);

  cr_assert_eq(h[0].start_us, NOW_HOUR - 23 * HOUR);
  cr_assert_eq(h[23].start_us, NOW_HOUR);
  for (int i = 1; i < 24; i++)
    cr_assert_eq(h[i].start_us - h[i - 1].start_us, HOUR);
  cr_assert_eq(d[29].start_us, NOW_DAY);
  cr_assert_eq(d[0].start_us, NOW_DAY - 29 * DAY);
  for (int i = 1; i < 30; i++)
    cr_assert_eq(d[i].start_us - d[i - 1].start_us, DAY);

  cr_assert_eq(h[23].success, 3, "the clock's hour: %llu", (unsigned long long)h[23].success);
  cr_assert_eq(h[22].success, 4);
  cr_assert_eq(h[0].error, 8);
  cr_assert_eq(total(&h[0]), 8, "nothing from before the first hour");
  cr_assert_eq(h[3].dead, 32, "27 Nov 00:00 is the 4th hour after 26 Nov 21:00");
  cr_assert_eq(h[2].pending, 64);
  cr_assert_eq(sum(h, 24), 3 + 4 + 8 + 32 + 64, "the future and the earlier hours stay out");

  cr_assert_eq(d[29].success, 7);
  cr_assert_eq(d[29].dead, 32);
  cr_assert_eq(total(&d[29]), 39);
  cr_assert_eq(d[28].error, 8);
  cr_assert_eq(d[28].success, 16);
  cr_assert_eq(d[28].pending, 64);
  cr_assert_eq(d[0].success, 128);
  cr_assert_eq(total(&d[0]), 128, "28 Oct is before the first day");
  cr_assert_eq(sum(d, 30), 1 + 2 + 4 + 8 + 16 + 32 + 64 + 128);
  /* The chart's counters are those of the statistics: the 24 h figure has one more hour. */
  cr_assert_eq(fastepost_crm_stats_find_source(s, "odoo")->total_events, 1023);
  fastepost_crm_stats_free(s);
}

/* A clock exactly on an hour and a day: that hour and day are the last buckets. */
Test(crm_history, clock_on_midnight) {
  add("hubspot", "success", "timestamp '2026-11-27 00:00:00'", 1);
  add("hubspot", "success", "timestamp '2026-11-26 23:59:59.999999'", 2);
  fastepost_crm_stats *s = collect(NOW_DAY, 1, NULL);
  const fastepost_crm_bucket *h = history(s, "hubspot", FASTEPOST_CRM_HISTORY_HOURS);
  const fastepost_crm_bucket *d = history(s, "hubspot", FASTEPOST_CRM_HISTORY_DAYS);
  cr_assert_eq(h[23].start_us, NOW_DAY);
  cr_assert_eq(h[23].success, 1);
  cr_assert_eq(h[22].success, 2);
  cr_assert_eq(d[29].start_us, NOW_DAY);
  cr_assert_eq(d[29].success, 1);
  cr_assert_eq(d[28].success, 2);
  fastepost_crm_stats_free(s);
}

Test(crm_history, sources_without_events) {
  add("hubspot", "success", "timestamp '2025-01-01 12:00:00'", 3); /* long before the window */
  fastepost_crm_stats *s = collect(NOW, 1, "pipedrive");
  const char *sources[] = {"hubspot", "odoo", "pipedrive"};
  for (size_t k = 0; k < 3; k++) {
    const fastepost_crm_bucket *h = history(s, sources[k], FASTEPOST_CRM_HISTORY_HOURS);
    const fastepost_crm_bucket *d = history(s, sources[k], FASTEPOST_CRM_HISTORY_DAYS);
    cr_assert_eq(sum(h, 24), 0, "%s", sources[k]);
    cr_assert_eq(sum(d, 30), 0, "%s", sources[k]);
    cr_assert_eq(h[23].start_us, NOW_HOUR, "empty buckets still have their times");
    cr_assert_eq(d[29].start_us, NOW_DAY);
  }
  /* The chart of an empty source: every bar there, none drawn, and said so. */
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__report_chart(&b, "pipedrive", "Pipedrive", FASTEPOST_CRM_HISTORY_DAYS,
                          history(s, "pipedrive", FASTEPOST_CRM_HISTORY_DAYS));
  const char *svg = fastepost__buf_cstr(&b);
  size_t bars = 0;
  for (const char *p = svg; (p = strstr(p, "<g class=\"bar\">")); p++)
    bars++;
  cr_assert_eq(bars, 30, "%s", svg);
  cr_assert_null(strstr(svg, "<rect"), "%s", svg);
  cr_assert(strstr(svg, ">No events</text>") && strstr(svg, "no events.</desc>"), "%s", svg);
  fastepost__buf_free(&b);
  /* Out of range or not collected: NULL. */
  cr_assert_null(fastepost_crm_stats_history(s, fastepost_crm_stats_source_count(s), FASTEPOST_CRM_HISTORY_DAYS));
  cr_assert_null(fastepost_crm_stats_history(s, 0, (fastepost_crm_history_span)7));
  cr_assert_null(fastepost_crm_stats_history(NULL, 0, FASTEPOST_CRM_HISTORY_DAYS));
  fastepost_crm_stats_free(s);
  s = collect(NOW, 0, NULL);
  cr_assert_null(fastepost_crm_stats_history(s, 0, FASTEPOST_CRM_HISTORY_HOURS), "off by default");
  fastepost_crm_stats_free(s);
  cr_assert_eq(fastepost_crm_stats_options_set_history(NULL, 1), FASTEPOST_EINVALID);
}

Test(crm_history, a_day_of_failures_only) {
  add("odoo", "error", "timestamp '2026-11-25 10:15:00'", 5);
  add("odoo", "dead", "timestamp '2026-11-25 18:40:00'", 2);
  add("odoo", "success", "timestamp '2026-11-24 09:00:00'", 4);
  fastepost_crm_stats *s = collect(NOW, 1, NULL);
  const fastepost_crm_bucket *d = history(s, "odoo", FASTEPOST_CRM_HISTORY_DAYS);
  cr_assert_eq(d[27].start_us, NOW_DAY - 2 * DAY);
  cr_assert_eq(d[27].success, 0);
  cr_assert_eq(d[27].error, 5);
  cr_assert_eq(d[27].dead, 2);
  cr_assert_eq(d[27].pending, 0);
  cr_assert_eq(d[26].success, 4);
  cr_assert_eq(total(&d[26]), 4);
  /* The chart: that day's bar is error and dead only, as tall as the tallest (7 is the top). */
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__report_chart(&b, "odoo", "Odoo", FASTEPOST_CRM_HISTORY_DAYS, d);
  const char *svg = fastepost__buf_cstr(&b);
  const char *bar = strstr(svg, "<title>25 Nov 2026, 00:00 UTC (day): 7 events: 5 error, 2 dead</title>");
  cr_assert_not_null(bar, "%s", svg);
  const char *end = strstr(bar, "</g>");
  cr_assert(strstr(bar, "class=\"s-error\"") && strstr(bar, "class=\"s-error\"") < end &&
                strstr(bar, "class=\"s-dead\"") < end,
            "%s", svg);
  cr_assert(!strstr(bar, "class=\"s-success\"") || strstr(bar, "class=\"s-success\"") > end);
  cr_assert(strstr(svg, ">7</text>"), "the scale's top is the tallest bar: %s", svg);
  cr_assert(strstr(svg, "role=\"img\"") && strstr(svg, "<title id=\"chart-odoo-days-t\">Odoo: events per day"),
            "%s", svg);
  cr_assert(strstr(svg, "In the last 30 days, 11 events: 4 success, 5 error, 2 dead.</desc>"), "%s", svg);
  fastepost__buf_free(&b);
  fastepost_crm_stats_free(s);

  /* A retry that succeeds moves the count within its bucket (the counters follow the status). */
  fptest_exec("UPDATE integration_events SET status = 'success' WHERE status = 'error' AND id = "
              "(SELECT min(id) FROM integration_events WHERE status = 'error')");
  s = collect(NOW, 1, NULL);
  d = history(s, "odoo", FASTEPOST_CRM_HISTORY_DAYS);
  cr_assert_eq(d[27].success, 1);
  cr_assert_eq(d[27].error, 4);
  fastepost_crm_stats_free(s);
}

/* The epoch and before it: buckets round down, not towards zero. */
Test(crm_history, around_the_epoch) {
  add("odoo", "success", "timestamp '1970-01-01 00:00:00'", 1);
  add("odoo", "success", "timestamp '1969-12-31 23:59:59.999999'", 2);
  fastepost_crm_stats *s = collect(30 * 60000000LL, 1, NULL); /* 1970-01-01 00:30 */
  const fastepost_crm_bucket *h = history(s, "odoo", FASTEPOST_CRM_HISTORY_HOURS);
  const fastepost_crm_bucket *d = history(s, "odoo", FASTEPOST_CRM_HISTORY_DAYS);
  cr_assert_eq(h[23].start_us, 0);
  cr_assert_eq(h[22].start_us, -HOUR);
  cr_assert_eq(h[23].success, 1);
  cr_assert_eq(h[22].success, 2);
  cr_assert_eq(d[29].start_us, 0);
  cr_assert_eq(d[28].start_us, -DAY);
  cr_assert_eq(d[28].success, 2);
  fastepost_crm_stats_free(s);
}

/* A clock whose 30 days leave the years 1 to 9999: empty buckets, no failure. */
Test(crm_history, clocks_out_of_range) {
  add("odoo", "success", "timestamp '2026-11-27 12:00:00'", 1);
  const int64_t clocks[] = {253402300800000000LL /* 10000-01-01 */, -62135596800000000LL + DAY};
  for (size_t k = 0; k < 2; k++) {
    fastepost_crm_stats *s = collect(clocks[k], 1, NULL);
    const fastepost_crm_bucket *d = history(s, "odoo", FASTEPOST_CRM_HISTORY_DAYS);
    cr_assert_eq(sum(d, 30), 0);
    cr_assert_eq(d[29].start_us, 0);
    /* drawn without times: no crash, every bar */
    fastepost__buf b = FASTEPOST__BUF_INIT;
    fastepost__report_chart(&b, "odoo", "Odoo", FASTEPOST_CRM_HISTORY_DAYS, d);
    cr_assert(strstr(fastepost__buf_cstr(&b), "</svg>"));
    fastepost__buf_free(&b);
    fastepost_crm_stats_free(s);
  }
}
