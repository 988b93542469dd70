/* SPDX-License-Identifier: MIT */
/*
 * The dashboard's statements (src/stats_crm.c) at size: a million events over a year in three
 * sources, generated with SQL, and each statement run under EXPLAIN ANALYZE with the values
 * the report sends. None may read integration_events or the hourly counters sequentially: the
 * page must cost the same with 10M events as with 10 (docs/crm-stats.md). The tables they read
 * whole are of constant size (the per-status totals, the row counters).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats_crm_priv.h"
#include "testdb.h"

TestSuite(crm_plans, .init = fptest_setup_schema, .fini = fptest_teardown);

#define EVENTS 1000000
/* 2026-11-27 20:08:56.109282 UTC, after the last generated event. */
#define NOW 1795810136109282LL
#define HOUR 3600000000LL
#define DAY (24 * HOUR)

static void fill(void) {
  char sql[1024];
  /* One statement: the counters' triggers aggregate it once. A year back from the clock, the
   * newest event a minute before it. */
  snprintf(sql, sizeof sql,
           "INSERT INTO integration_events (source, event_type, status, created_at, updated_at) "
           "SELECT CASE g %% 3 WHEN 0 THEN 'odoo' WHEN 1 THEN 'hubspot' ELSE 'pipedrive' END, 'res.partner', "
           "CASE WHEN g %% 17 = 0 THEN 'error' WHEN g %% 101 = 0 THEN 'dead' ELSE 'success' END, "
           "timestamp '2026-11-27 20:07:00' - (g * interval '31.5 seconds'), now() "
           "FROM generate_series(1, %d) g",
           EVENTS);
  fptest_exec(sql);
  fptest_exec("ANALYZE");
  cr_assert_eq(fptest_count("SELECT count(*) FROM integration_events"), EVENTS);
}

/* The statement's plan as run with params, into plan; how many nodes read a growing table
 * sequentially or throw away more than 1000 rows they read. */
static int seq_scans(char *plan, size_t plansize, const char *sql, int nparams, const char *const *params) {
  char explain[8192];
  snprintf(explain, sizeof explain, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) %s", sql);
  PGresult *r = PQexecParams(fptest_current.check, explain, nparams, NULL, params, NULL, NULL, 0);
  cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(fptest_current.check));
  int problems = 0;
  plan[0] = '\0';
  for (int i = 0; i < PQntuples(r); i++) {
    const char *line = PQgetvalue(r, i, 0);
    strncat(plan, line, plansize - strlen(plan) - 2);
    strcat(plan, "\n");
    problems += strstr(line, "Seq Scan on integration_events") != NULL ||
                strstr(line, "Seq Scan on fastepost_event_hourly_counts") != NULL;
    /* An index walked past many rows that do not match reads the table all the same. */
    const char *f = strstr(line, "Rows Removed by Filter: ");
    problems += f && atol(f + strlen("Rows Removed by Filter: ")) > 1000;
  }
  PQclear(r);
  return problems;
}

Test(crm_plans, dashboard_statements_use_indexes_at_a_million_events, .timeout = 600) {
  fill();
  char start[32], full[32], day0[32], end[32];
  snprintf(start, sizeof start, "%lld", NOW - DAY);
  snprintf(full, sizeof full, "%lld", (NOW - DAY) / HOUR * HOUR + HOUR);
  snprintf(day0, sizeof day0, "%lld", NOW / DAY * DAY - 29 * DAY);
  snprintf(end, sizeof end, "%lld", NOW / HOUR * HOUR + HOUR);
  /* zoho: a configured source without a single event, whose last event was once looked for
   * by walking the whole created_at index (no sequential scan, so only the filter count shows
   * it). */
  const char *sources_params[] = {start, full, "{hubspot,odoo,zoho}", full, "1"};
  const char *history_params[] = {"{hubspot,odoo,pipedrive}", day0, end};
  static char plan[32768];
  int checked = 0;
  for (const fastepost__named_sql *s = fastepost__crm_stats_statements; s->name; s++, checked++) {
    const char *const *params = NULL;
    int n = 0;
    if (strcmp(s->name, "sources") == 0) {
      params = sources_params;
      n = 5;
    } else if (strcmp(s->name, "history") == 0) {
      params = history_params;
      n = 3;
    }
    cr_expect_eq(seq_scans(plan, sizeof plan, s->sql, n, params), 0, "%s reads a growing table whole:\n%s", s->name,
                 plan);
    /* The history reads its range of the counters' primary key. */
    if (strcmp(s->name, "history") == 0)
      cr_expect(strstr(plan, "fastepost_event_hourly_counts_pkey") && strstr(plan, "Index Cond"), "%s", plan);
  }
  cr_assert_eq(checked, 4, "the list of dashboard statements changed: check them all here");
  /* The check can fail: the naive count a dashboard would run. */
  cr_assert_gt(seq_scans(plan, sizeof plan,
                         "SELECT source, count(*), max(created_at) FROM integration_events GROUP BY source", 0, NULL),
               0, "expected a sequential scan:\n%s", plan);
}
