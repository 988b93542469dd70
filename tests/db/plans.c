/* SPDX-License-Identifier: MIT */
/*
 * Plans of the sync hot path against large tables: every statement of the core's list
 * (src/sync/statements.c) is prepared here and explained as a generic plan (plan_cache_mode =
 * force_generic_plan), the worst case: a plan that does not know the values. None may read a table sequentially or walk
 * an index without an index condition (the phone branch of the match statement once walked the
 * primary key in id order, filtering every customer: 23.7 ms per delivery at 27k customers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "retry_counts.h"
#include "sync.h"
#include "testdb.h"

TestSuite(plans, .init = fptest_setup_schema, .fini = fptest_teardown);

/* Tables large enough that a sequential or full-index read costs more than any probe, with
 * realistic spreads: distinct emails, shared phones (switchboards: what made the planner prefer
 * walking the primary key), a few sources and statuses. */
static void fill_rows(void) {
  fptest_exec("INSERT INTO customers (name, email, phone, crm_source, crm_id, crm_updated_at, "
              "last_synced_at, created_at, updated_at) "
              "SELECT 'c' || g, CASE WHEN g % 10 <> 0 THEN 'c' || g || '@example.com' END, "
              "CASE WHEN g % 7 <> 0 THEN '+4917' || (g % 100) END, CASE g % 3 WHEN 0 THEN 'odoo' "
              "WHEN 1 THEN 'hubspot' END, CASE WHEN g % 3 < 2 THEN 'res.partner:' || g END, "
              "now(), now(), now(), now() FROM generate_series(1, 60000) g");
  fptest_exec("INSERT INTO tasks (title, barcode, customer_id, status, created_at, updated_at) "
              "SELECT 't' || g, 'B' || g, CASE WHEN g % 2 = 0 THEN g END, 'pending', now(), now() "
              "FROM generate_series(1, 30000) g");
  fptest_exec("INSERT INTO integration_events (source, event_type, status, idempotency_key, "
              "customer_id, attempts, created_at, updated_at) "
              "SELECT CASE g % 2 WHEN 0 THEN 'odoo' ELSE 'hubspot' END, 'res.partner', "
              "CASE WHEN g % 50 = 0 THEN 'error' ELSE 'success' END, 'k' || g, g % 60000 + 1, 1, "
              "now(), now() FROM generate_series(1, 60000) g");
  fptest_exec("INSERT INTO fastepost_crm_properties (source, crm_id, property, version, value) "
              "SELECT 'hubspot', (g / 4)::text, 'p' || (g % 4), now(), 'v' FROM generate_series(1, 40000) g");
  fptest_exec("INSERT INTO remarks (customer_id, body, source, external_key, created_at, updated_at) "
              "SELECT g, 'r', 'odoo', 'odoo:note:' || g, now(), now() FROM generate_series(1, 20000) g");
}

static void fill(void) {
  fill_rows();
  fptest_exec("ANALYZE");
}

/* The highest $n in a statement: how many NULL arguments its EXECUTE needs. */
static int count_params(const char *sql) {
  int max = 0;
  for (const char *p = strchr(sql, '$'); p; p = strchr(p + 1, '$')) {
    int n = 0;
    for (const char *d = p + 1; *d >= '0' && *d <= '9'; d++)
      n = n * 10 + (*d - '0');
    if (n > max)
      max = n;
  }
  return max;
}

/* Whether a line of EXPLAIN's text output starts a plan node (the first line, or "->"). */
static bool node_line(const char *line, int row) { return row == 0 || strstr(line, "->") != NULL; }

/* The generic plan of one statement into plan (text), and how many of its nodes read a table
 * sequentially or walk an index without an index condition. */
static int plan_problems(char *plan, size_t plansize, const char *name, const char *sql) {
  PGconn *pg = fptest_current.check;
  char stmt[64];
  snprintf(stmt, sizeof stmt, "plan_%s", name);
  PGresult *r = PQprepare(pg, stmt, sql, 0, NULL);
  cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s: %s", name, PQerrorMessage(pg));
  PQclear(r);
  char explain[512];
  int n = snprintf(explain, sizeof explain, "EXPLAIN EXECUTE %s(", stmt);
  for (int i = count_params(sql); i > 0; i--)
    n += snprintf(explain + n, sizeof explain - (size_t)n, "NULL%s", i > 1 ? ", " : "");
  snprintf(explain + n, sizeof explain - (size_t)n, ")");
  r = PQexec(pg, explain);
  cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s: %s", name, PQerrorMessage(pg));
  plan[0] = '\0';
  for (int i = 0; i < PQntuples(r); i++) {
    strncat(plan, PQgetvalue(r, i, 0), plansize - strlen(plan) - 2);
    strcat(plan, "\n");
  }
  int problems = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    const char *line = PQgetvalue(r, i, 0);
    if (!node_line(line, i))
      continue;
    problems += strstr(line, "Seq Scan") != NULL;
    if (strstr(line, "Index Scan") || strstr(line, "Index Only Scan")) {
      /* An index scan must probe: an Index Cond among its own property lines. */
      bool cond = false;
      for (int k = i + 1; k < PQntuples(r) && !node_line(PQgetvalue(r, k, 0), k); k++)
        cond |= strstr(PQgetvalue(r, k, 0), "Index Cond") != NULL;
      problems += !cond;
    }
  }
  PQclear(r);
  PQclear(PQexec(pg, "DEALLOCATE ALL"));
  return problems;
}

Test(plans, hot_path_statements_probe_indexes_under_generic_plans, .timeout = 120) {
  fill();
  fptest_exec("SET plan_cache_mode = force_generic_plan");
  int checked = 0;
  static char plan[16384];
  for (const fastepost__sync_statement *s = fastepost__sync_statements; s->name; s++, checked++)
    cr_expect_eq(plan_problems(plan, sizeof plan, s->name, s->sql), 0,
                 "%s reads a table or a whole index:\n%s", s->name, plan);
  cr_assert_geq(checked, 9, "the list of hot-path statements is shorter than expected");
}

/* The check itself can fail: the old phone branch, without the (phone, id) index of migration
 * 6, walks the primary key. */
Test(plans, the_check_sees_a_primary_key_walk, .timeout = 120) {
  fill();
  fptest_exec("DROP INDEX index_customers_on_phone_and_id");
  fptest_exec("CREATE INDEX index_customers_on_phone ON customers (phone) WHERE phone IS NOT NULL");
  fptest_exec("ANALYZE customers");
  fptest_exec("SET plan_cache_mode = force_generic_plan");
  static char plan[16384];
  cr_assert_gt(plan_problems(plan, sizeof plan, "walk",
                             "SELECT id FROM customers WHERE phone IS NOT NULL AND phone = $1::text "
                             "ORDER BY id LIMIT 1"),
               0, "expected a primary key walk:\n%s", plan);
}

/* ---- plans cached while the tables were small --------------------------------------------- */

static void partner_body(char *body, size_t size, long long id, const char *write_date) {
  snprintf(body, size,
           "{\"_id\": %lld, \"_model\": \"res.partner\", \"name\": \"P%lld\", \"email\": \"p%lld@plans.example\", "
           "\"phone\": \"+49 30 %07lld\", \"comment\": \"<p>note %s</p>\", \"x_task_barcode\": \"B%lld\", "
           "\"write_date\": \"%s\"}",
           id, id, id, id, write_date, id % 30000 + 1, write_date);
}

/* One Odoo delivery of partner id (a new key each time unless the body repeats): a customer
 * with an email, a phone, a note (remark) and a task barcode, written at write_date. */
static void deliver(long long id, const char *write_date) {
  static fastepost_odoo_options *o;
  if (!o) {
    cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
    cr_assert_eq(fastepost_odoo_options_add_api_key(o, "plans-key"), FASTEPOST_OK);
  }
  char body[512];
  partner_body(body, sizeof body, id, write_date);
  fastepost_event_result *r = NULL;
  fastepost_status st = fastepost_odoo_process(&r, fptest_conn(), "plans-key", body, strlen(body), o);
  cr_assert_eq(st, FASTEPOST_OK, "delivery %lld: %s", id, fastepost_event_result_error(r));
  fastepost_event_result_free(r);
}

/* Every kind of Odoo delivery: created, updated, stale (an older write_date) and a redelivery
 * (duplicate). */
static void deliver_four_kinds(long long id) {
  deliver(id, "2026-11-27 10:00:00");
  deliver(id, "2026-11-27 11:00:00");
  deliver(id, "2026-11-27 09:00:00");
  deliver(id, "2026-11-27 11:00:00");
}

/* A stored failed event processed again (its row updated). */
static void retry_stored(long long id) {
  char body[512], sql[1024];
  partner_body(body, sizeof body, id + 50000, "2026-11-27 10:00:00");
  snprintf(sql, sizeof sql,
           "INSERT INTO integration_events (source, event_type, status, external_id, idempotency_key, payload, "
           "error_message, attempts, next_attempt_at, created_at, updated_at) VALUES ('odoo', 'res.partner', "
           "'error', 'res.partner:%lld', 'plans-retry-%lld', '%s', 'simulated', 1, "
           "localtimestamp - interval '1 second', localtimestamp, localtimestamp)",
           id + 50000, id, body);
  fptest_exec(sql);
  fptest_retry rep;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, NULL, NULL, &rep), FASTEPOST_OK);
  cr_assert_eq(rep.succeeded, 1, "the stored event was processed again");
}

static void deliver_every_kind(long long id) {
  deliver_four_kinds(id);
  retry_stored(id);
}

/* Have the library's session send its pending statistics (a backend holds them up to a
 * second; this forces the flush at the end of its next transaction), and the check session
 * read them afresh. */
static void statistics_sent(void) {
  PQclear(PQexec(fastepost__conn_pg(fptest_conn()), "SELECT pg_stat_force_next_flush()"));
  fptest_exec("SELECT pg_stat_clear_snapshot()");
}

/* Sequential reads of user tables so far, by every session. */
static long long seq_scans(void) {
  statistics_sent();
  return fptest_count("SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_user_tables");
}

/* The hot path's tables vacuumed while empty, and no autovacuum from here on: its ANALYZE would
 * have the plans made again, at its own pace. */
static void empty_tables_without_autovacuum(void) {
  static const char *const tables[] = {"customers", "integration_events", "remarks", "tasks",
                                       "fastepost_crm_properties"};
  char sql[128];
  for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
    snprintf(sql, sizeof sql, "ALTER TABLE %s SET (autovacuum_enabled = false)", tables[i]);
    fptest_exec(sql);
  }
  fptest_exec("VACUUM ANALYZE customers, integration_events, remarks, tasks, fastepost_crm_properties");
}

/* Index entries read so far, per index, as a JSON object (text, to free). No temporary table:
 * making the session's temporary schema would have every cached plan made again. */
static char *index_reads(void) {
  statistics_sent();
  return strdup(fptest_scalar("SELECT json_object_agg(indexrelname, idx_tup_read) FROM pg_stat_user_indexes"));
}

/* The indexes that the deliveries since index_reads() returned before walked: a probe reads
 * an entry or two, a walk thousands. */
static void assert_no_index_walk(char *before) {
  static char sql[16384];
  int n = snprintf(sql, sizeof sql, "SELECT coalesce(string_agg(a.indexrelname || ': ' || (a.idx_tup_read - b.value::bigint), "
                               "', '), '') FROM pg_stat_user_indexes a JOIN json_each_text('%s') b "
                               "ON b.key = a.indexrelname WHERE a.idx_tup_read - b.value::bigint > 40", before);
  cr_assert(n > 0 && (size_t)n < sizeof sql, "the query fits");
  statistics_sent();
  const char *walks = fptest_scalar(sql);
  cr_assert_str_empty(walks, "8 deliveries walked indexes (entries read): %s", walks);
  free(before);
}

/* A long-lived host session plans the sync functions' statements once (generic plans, cached
 * for the session) at its first delivery, which on a new or emptied database meets empty
 * tables. There a sequential read is the cheapest plan, and every index costs the same: cached,
 * such a plan read every event and customer, or walked every event of the source through the
 * wrong index, at every later delivery while the tables grew (a seen-key lookup took 0.15 ms at
 * 2,000 events: bench/README.md). The sync transactions forbid sequential reads where an index
 * exists (txn.c), and plan the seen-key lookup once only when the event log has statistics
 * (migration 16, src/sync/statements.c). Here the plans are made on vacuumed empty tables (as
 * after a TRUNCATE or a prune), the tables then fill with no ANALYZE (which would have the plans
 * made again), and the same session's deliveries must read no table sequentially and walk no
 * index. */
Test(plans, plans_made_on_empty_tables_still_probe_once_they_are_large, .timeout = 120) {
  empty_tables_without_autovacuum();
  deliver_every_kind(900001);
  fill_rows();
  long long before = seq_scans();
  char *reads = index_reads();
  deliver_four_kinds(900002);
  deliver_four_kinds(900003);
  /* The retries' claim of the next due event is left out: an unnamed statement, planned at each
   * call. */
  assert_no_index_walk(reads);
  retry_stored(900002);
  retry_stored(900003);
  long long after = seq_scans();
  cr_assert_eq(after, before, "%lld sequential reads of a table by 10 deliveries", after - before);
  fptest_assert_counters_exact();
}

/* The same with plans made on a small table, a few hundred events with no statistics: there
 * every index of the event log costs about the same, and the generic plan of the seen-key lookup
 * took (source, status, created_at, id), the smaller one, and read every event of the source at
 * every delivery once the table had grown. */
static void add_events(int from, int to) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "INSERT INTO integration_events (source, event_type, status, idempotency_key, attempts, "
           "created_at, updated_at) SELECT 'odoo', 'res.partner', 'success', md5(g::text) || md5((-g)::text), "
           "1, now(), now() FROM generate_series(%d, %d) g", from, to);
  fptest_exec(sql);
}

Test(plans, plans_made_on_small_tables_still_probe_once_they_grow, .timeout = 120) {
  empty_tables_without_autovacuum();
  add_events(1, 300);
  deliver_four_kinds(900001);
  add_events(301, 6000);
  char *reads = index_reads();
  deliver_four_kinds(900002);
  deliver_four_kinds(900003);
  assert_no_index_walk(reads);
  fptest_assert_counters_exact();
}
