/* SPDX-License-Identifier: MIT */
/*
 * Event-log retention: fptest_events_prune() and `fastepost events prune`. The counters of
 * the CRM statistics are compared with a recount of the table after every prune.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
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

/* The plan of one prune batch as run with these values, inside a transaction rolled back (the
 * batch deletes), as text. */
static void batch_plan(char *plan, size_t plansize, const char *status, const char *after_time, const char *after_id) {
  char sql[4096];
  snprintf(sql, sizeof sql, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) %s", fastepost__prune_batch_sql());
  char cutoff[40];
  PGresult *r = PQexec(fptest_current.check, "SELECT to_char((now() AT TIME ZONE 'UTC') - interval '7 days', "
                                             "'YYYY-MM-DD HH24:MI:SS.US')");
  snprintf(cutoff, sizeof cutoff, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  const char *params[] = {cutoff, status, "1000", after_time, after_id};
  PQclear(PQexec(fptest_current.check, "BEGIN"));
  r = PQexecParams(fptest_current.check, sql, 5, NULL, params, NULL, NULL, 0);
  cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(fptest_current.check));
  plan[0] = '\0';
  for (int i = 0; i < PQntuples(r); i++) {
    strncat(plan, PQgetvalue(r, i, 0), plansize - strlen(plan) - 2);
    strcat(plan, "\n");
  }
  PQclear(r);
  PQclear(PQexec(fptest_current.check, "ROLLBACK"));
}

/* How many rows the plan's nodes read and threw away, in all. */
static long removed_by_filter(const char *plan) {
  long n = 0;
  for (const char *f = plan; (f = strstr(f, "Rows Removed by Filter: ")) != NULL; f++)
    n += atol(f + strlen("Rows Removed by Filter: "));
  return n;
}

/* Pruning 1M events under ingest (bench/prune_latency.sh) relies on every batch being a short
 * walk of the (created_at, id) index from where the previous one ended: a sequential scan, or a
 * walk from the table's start, would make each batch cost the whole table. */
Test(retention, every_batch_walks_the_created_at_index_from_its_key, .timeout = 120) {
  /* 150k old events (10-40 days) among 50k young ones, mixed statuses, then statistics. */
  fptest_exec("INSERT INTO integration_events (source, event_type, status, idempotency_key, created_at) "
              "SELECT (ARRAY['odoo','hubspot','odoo','pipedrive'])[1 + g % 4], 'res.partner', "
              "(ARRAY['success','success','success','success','success','error','pending'])[1 + g % 7], "
              "'k' || g, (now() AT TIME ZONE 'UTC') - CASE WHEN g % 4 = 0 THEN interval '1 day' "
              "ELSE interval '10 days' END - make_interval(secs => g * 17) FROM generate_series(1, 200000) g");
  fptest_exec("ANALYZE integration_events");
  /* The key a batch in the middle of the old rows starts after. */
  char after_time[40], after_id[24];
  PGresult *r = PQexec(fptest_current.check, "SELECT to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.US'), id "
                                             "FROM integration_events ORDER BY created_at, id OFFSET 70000 LIMIT 1");
  snprintf(after_time, sizeof after_time, "%s", PQgetvalue(r, 0, 0));
  snprintf(after_id, sizeof after_id, "%s", PQgetvalue(r, 0, 1));
  PQclear(r);
  static char plan[16384];
  const char *statuses[] = {"all", "success"};
  for (size_t i = 0; i < 2; i++) {
    const char *starts[][2] = {{"-infinity", "0"}, {after_time, after_id}};
    for (size_t k = 0; k < 2; k++) {
      batch_plan(plan, sizeof plan, statuses[i], starts[k][0], starts[k][1]);
      cr_expect_null(strstr(plan, "Seq Scan on integration_events"), "%s from %s:\n%s", statuses[i], starts[k][0], plan);
      cr_expect(strstr(plan, "Index Scan") && strstr(plan, "Index Cond: ") &&
                    strstr(plan, "(ROW(created_at, id) > ROW("),
                "%s from %s: not a walk from the key:\n%s", statuses[i], starts[k][0], plan);
      /* A batch of 1000 reads its 1000 rows and, for one status, the others in between. */
      cr_expect_leq(removed_by_filter(plan), 1000, "%s from %s:\n%s", statuses[i], starts[k][0], plan);
      cr_expect(strstr(plan, "rows=1000 "), "%s from %s: a full batch expected:\n%s", statuses[i], starts[k][0], plan);
    }
  }
  /* The check can fail: the same walk filtering on a column no index leads with reads on. */
  char sql[512];
  snprintf(sql, sizeof sql, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT id FROM integration_events "
                            "WHERE error_message = 'nosuch' ORDER BY created_at, id LIMIT 1000");
  r = PQexec(fptest_current.check, sql);
  plan[0] = '\0';
  for (int i = 0; i < PQntuples(r); i++) {
    strncat(plan, PQgetvalue(r, i, 0), sizeof plan - strlen(plan) - 2);
    strcat(plan, "\n");
  }
  PQclear(r);
  cr_assert(strstr(plan, "Seq Scan on integration_events") || removed_by_filter(plan) > 1000,
            "expected a walk over the table:\n%s", plan);
}
