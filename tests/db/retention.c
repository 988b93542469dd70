/* SPDX-License-Identifier: MIT */
/*
 * Event-log retention: fptest_events_prune() and `fastepost events prune`. The counters of
 * the CRM statistics are compared with a recount of the table after every prune.
 */
#include <stdio.h>
#include <string.h>

#include "retry_counts.h"
#include "testdb.h"

TestSuite(retention, .init = fptest_setup_schema, .fini = fptest_teardown);

/* n events of a source and status created `days` days (and a bit) ago, UTC like the library. */
static void add_events(int n, const char *source, const char *status, double days) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "INSERT INTO integration_events (source, event_type, status, idempotency_key, created_at) "
           "SELECT '%s', 'res.partner', '%s', md5(random()::text || g), "
           "(now() AT TIME ZONE 'UTC') - make_interval(secs => %f * 86400) - make_interval(secs => g) "
           "FROM generate_series(1, %d) g",
           source, status, days, n);
  fptest_exec(sql);
}

static long long count_where(const char *where) {
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM integration_events WHERE %s", where);
  return fptest_count(sql);
}

/* Both counters (all time and hourly) sum to a recount of the table, group by group, in both
 * directions (a FULL JOIN finds groups missing on either side). */
static void assert_counters_match_table(void) {
  cr_assert_eq(fptest_count("SELECT count(*) FROM"
                            " (SELECT source, status, sum(n) AS n FROM fastepost_event_counts"
                            "  GROUP BY 1, 2 HAVING sum(n) <> 0) c"
                            " FULL JOIN (SELECT source, status, count(*) AS n FROM integration_events"
                            "  GROUP BY 1, 2) t USING (source, status)"
                            " WHERE c.n IS DISTINCT FROM t.n"),
               0, "fastepost_event_counts differs from integration_events");
  cr_assert_eq(fptest_count("SELECT count(*) FROM"
                            " (SELECT source, hour, status, sum(n) AS n FROM fastepost_event_hourly_counts"
                            "  GROUP BY 1, 2, 3 HAVING sum(n) <> 0) c"
                            " FULL JOIN (SELECT source, date_trunc('hour', created_at) AS hour, status,"
                            "  count(*) AS n FROM integration_events GROUP BY 1, 2, 3) t"
                            " USING (source, hour, status) WHERE c.n IS DISTINCT FROM t.n"),
               0, "fastepost_event_hourly_counts differs from integration_events");
}

static void seed(void) {
  add_events(12, "odoo", "success", 30);
  add_events(5, "hubspot", "success", 10);
  add_events(4, "odoo", "error", 30);
  add_events(3, "hubspot", "dead", 40);
  add_events(6, "odoo", "success", 3);   /* young: always kept */
  add_events(2, "hubspot", "error", 1);  /* young: always kept */
}

Test(retention, refuses_less_than_seven_days) {
  seed();
  fptest_prune r;
  memset(&r, 0x55, sizeof r);
  cr_assert_eq(fptest_events_prune(&r, fptest_conn(), 6, "all", 0), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_error_last()->code, FASTEPOST_EINVALID);
  cr_assert(strstr(fastepost_error_last()->message, "7 days"), "%s", fastepost_error_last()->message);
  cr_assert(strstr(fastepost_error_last()->message, "6.00 days"), "%s", fastepost_error_last()->message);
  cr_assert_eq(r.deleted, 0, "the report is zeroed on failure");
  cr_assert_eq(count_where("true"), 32, "nothing was deleted");
  /* The other refusals change nothing either. */
  cr_assert_eq(fptest_events_prune(&r, fptest_conn(), 30, "error", 0), FASTEPOST_EINVALID);
  /* Just under seven days, in microseconds, is refused too. */
  cr_assert_eq(fastepost_events_prune(NULL, fptest_conn(), FASTEPOST_PRUNE_MIN_AGE_US - 1, FASTEPOST_PRUNE_STATUS_ALL, 0),
               FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_events_prune(NULL, fptest_conn(), FASTEPOST_PRUNE_MIN_AGE_US, (fastepost_prune_status)7, 0),
               FASTEPOST_EINVALID, "not a fastepost_prune_status");
  fastepost_prune_status which = FASTEPOST_PRUNE_STATUS_ALL;
  cr_assert_eq(fastepost_prune_status_parse(&which, NULL), FASTEPOST_OK);
  cr_assert_eq(which, FASTEPOST_PRUNE_STATUS_SUCCESS);
  cr_assert_eq(fastepost_prune_status_parse(&which, "all"), FASTEPOST_OK);
  cr_assert_eq(which, FASTEPOST_PRUNE_STATUS_ALL);
  cr_assert_str_eq(fastepost_prune_status_name(which), "all");
  cr_assert_eq(fastepost_prune_status_parse(&which, "error"), FASTEPOST_EINVALID);
  cr_assert_eq(fptest_events_prune(&r, fptest_conn(), 30, NULL, FASTEPOST_PRUNE_MAX_BATCH + 1),
               FASTEPOST_EINVALID);
  cr_assert_eq(fptest_events_prune(&r, fptest_conn(), 36501, NULL, 0),
               FASTEPOST_EINVALID);
  cr_assert_eq(count_where("true"), 32);
  /* Exactly seven days is allowed. */
  cr_assert_eq(fptest_events_prune(&r, fptest_conn(), 7, NULL, 0), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
}

Test(retention, success_only_by_default) {
  seed();
  fptest_prune r;
  cr_assert_eq(fptest_events_prune(&r, fptest_conn(), 7, NULL, 0), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(r.deleted, 17, "12 odoo + 5 hubspot old successes, got %lld", (long long)r.deleted);
  cr_assert_eq(r.batches, 1);
  /* The cutoff: now minus seven days, in microseconds, by the server's clock. */
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT abs(extract(epoch FROM (now() AT TIME ZONE 'UTC') - interval '7 days')::numeric * 1000000 - %lld) "
           "< 60000000",
           (long long)r.cutoff_us);
  cr_assert_str_eq(fptest_scalar(sql), "t", "cutoff %lld us", (long long)r.cutoff_us);
  cr_assert_eq(count_where("status = 'success' AND created_at < (now() AT TIME ZONE 'UTC') - interval '7 days'"), 0);
  cr_assert_eq(count_where("status = 'success'"), 6, "the young successes stay");
  cr_assert_eq(count_where("status = 'error'"), 6, "errors stay with --status success");
  cr_assert_eq(count_where("status = 'dead'"), 3);
  assert_counters_match_table();
  /* A second run finds nothing. */
  cr_assert_eq(fptest_events_prune(&r, fptest_conn(), 7, "success", 0), FASTEPOST_OK);
  cr_assert_eq(r.deleted, 0);
  cr_assert_eq(r.batches, 0);
}

Test(retention, all_statuses_and_age_boundary) {
  seed();
  fptest_prune r;
  /* 35 days: only the 40-day-old dead events are older. */
  cr_assert_eq(fptest_events_prune(&r, fptest_conn(), 35, "all", 0), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(r.deleted, 3);
  cr_assert_eq(count_where("status = 'dead'"), 0);
  assert_counters_match_table();
  cr_assert_eq(fptest_events_prune(&r, fptest_conn(), 7, "all", 0), FASTEPOST_OK);
  cr_assert_eq(r.deleted, 21, "12 + 5 + 4 older than 7 days, got %lld", (long long)r.deleted);
  cr_assert_eq(count_where("true"), 8, "only the young events remain");
  cr_assert_eq(count_where("created_at < (now() AT TIME ZONE 'UTC') - interval '7 days'"), 0);
  assert_counters_match_table();
  /* The dashboard's all-time totals read from the counters. */
  cr_assert_eq(fptest_count("SELECT coalesce(sum(n), 0) FROM fastepost_event_counts"), 8);
}

Test(retention, bounded_batches) {
  add_events(35, "odoo", "success", 20);
  add_events(4, "odoo", "success", 2);
  fptest_prune r;
  cr_assert_eq(fptest_events_prune(&r, fptest_conn(), 7, "success", 10), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(r.deleted, 35);
  cr_assert_eq(r.batches, 4, "10 + 10 + 10 + 5, got %lld batches", (long long)r.batches);
  cr_assert_eq(count_where("true"), 4);
  assert_counters_match_table();
}

/* A row another session holds is skipped, not waited for; the next run takes it. */
Test(retention, skips_locked_rows) {
  add_events(20, "odoo", "success", 20);
  long long locked = fptest_count("SELECT min(id) FROM integration_events");
  fptest_exec("BEGIN");
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT id FROM integration_events WHERE id = %lld FOR UPDATE", locked);
  fptest_exec(sql);
  fptest_prune r;
  cr_assert_eq(fptest_events_prune(&r, fptest_conn(), 7, NULL, 7), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(r.deleted, 19);
  fptest_exec("COMMIT");
  cr_assert_eq(count_where("true"), 1);
  cr_assert_eq(fptest_events_prune(&r, fptest_conn(), 7, NULL, 7), FASTEPOST_OK);
  cr_assert_eq(r.deleted, 1);
  assert_counters_match_table();
}

Test(retention, cli) {
  seed();
  char out[4096];
  char args[1200];
  snprintf(args, sizeof args, "events prune --older-than 6 --db '%s'", fptest_current.conninfo);
  int st = fptest_cli(out, sizeof out, args);
  cr_assert_eq(st, 2, "exit %d: %s", st, out);
  cr_assert(strstr(out, "at least 7 days"), "%s", out);
  cr_assert_eq(count_where("true"), 32);

  snprintf(args, sizeof args, "events prune --older-than 7 --status bogus --db '%s'",
           fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 2, "%s", out);

  snprintf(args, sizeof args, "--json events prune --older-than 7 --batch 5 --db '%s'",
           fptest_current.conninfo);
  st = fptest_cli(out, sizeof out, args);
  cr_assert_eq(st, 0, "exit %d: %s", st, out);
  cr_assert(strstr(out, "\"deleted\":17,\"batches\":4,"), "%s", out);
  cr_assert_eq(count_where("true"), 15);

  snprintf(args, sizeof args, "events prune --older-than 7 --status all --db '%s'",
           fptest_current.conninfo);
  st = fptest_cli(out, sizeof out, args);
  cr_assert_eq(st, 0, "exit %d: %s", st, out);
  cr_assert(strstr(out, "Deleted 7 events"), "%s", out);
  assert_counters_match_table();

  cr_assert_eq(fptest_cli(out, sizeof out, "events prune --help"), 0, "%s", out);
  cr_assert(strstr(out, "--older-than DAYS"), "%s", out);
}
