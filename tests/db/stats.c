/* SPDX-License-Identifier: MIT */
/* Database statistics checked against count(*) and the size functions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../report/shape.h"
#include "testdb.h"

TestSuite(stats, .init = fptest_setup, .fini = fptest_teardown);

static const fastepost_stats_db_table *find(const fastepost_stats_db *s, const char *name) {
  for (size_t i = 0; i < fastepost_stats_db_table_count(s); i++)
    if (strcmp(fastepost_stats_db_table_name(fastepost_stats_db_table_get(s, i)), name) == 0)
      return fastepost_stats_db_table_get(s, i);
  cr_assert_fail("table %s not in the statistics", name);
  return NULL;
}

static void check_sizes(const fastepost_stats_db_table *t, const char *regclass) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT pg_total_relation_size('%s')", regclass);
  const char *name = fastepost_stats_db_table_name(t);
  cr_assert_eq(fastepost_stats_db_table_total_bytes(t), (uint64_t)fptest_count(sql), "%s total", name);
  snprintf(sql, sizeof sql, "SELECT pg_table_size('%s')", regclass);
  cr_assert_eq(fastepost_stats_db_table_table_bytes(t), (uint64_t)fptest_count(sql), "%s table", name);
  snprintf(sql, sizeof sql, "SELECT pg_indexes_size('%s')", regclass);
  cr_assert_eq(fastepost_stats_db_table_index_bytes(t), (uint64_t)fptest_count(sql), "%s indexes", name);
  cr_assert_eq(fastepost_stats_db_table_total_bytes(t),
               fastepost_stats_db_table_table_bytes(t) + fastepost_stats_db_table_index_bytes(t));
}

Test(stats, figures_match_count_and_size_functions) {
  fptest_exec("CREATE TABLE big (id int PRIMARY KEY, t text);"
              "INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 5000) g;"
              "CREATE TABLE empty_one (a int);"
              "CREATE SCHEMA \"Sales Dept\";"
              "CREATE TABLE \"Sales Dept\".\"Order Lines\" (a int);"
              "INSERT INTO \"Sales Dept\".\"Order Lines\" SELECT generate_series(1, 10);"
              "CREATE VIEW not_a_table AS SELECT 1;"
              "ANALYZE");
  fastepost_stats_db *s = NULL;
  cr_assert_eq(fastepost_stats_db_get(&s, fptest_conn(), NULL, FASTEPOST_STATS_DB_EXACT),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_str_eq(fastepost_stats_db_database(s), fptest_current.name);
  long long dbsize = fptest_count("SELECT pg_database_size(current_database())");
  long long size = (long long)fastepost_stats_db_size_bytes(s);
  cr_assert(size > 0 && llabs(size - dbsize) <= dbsize / 100, "%lld vs %lld", size, dbsize);
  cr_assert_eq(fastepost_stats_db_table_count(s), 3);
  cr_assert_str_eq(fastepost_stats_db_table_name(fastepost_stats_db_table_get(s, 0)), "big", "largest first");
  cr_assert_null(fastepost_stats_db_table_get(s, 3));
  cr_assert_eq(fastepost_stats_db_has_backups(s), 0, "no directory given");
  cr_assert_eq(fastepost_stats_db_backup_count(s), 0);
  cr_assert_eq(fastepost_stats_db_has_newest_backup(s), 0);
  cr_assert_str_eq(fastepost_stats_db_newest_backup_name(s), "");

  const fastepost_stats_db_table *big = find(s, "big");
  cr_assert_eq(fastepost_stats_db_table_has_rows_exact(big), 1);
  cr_assert_eq(fastepost_stats_db_table_rows_exact(big), (uint64_t)fptest_count("SELECT count(*) FROM big"));
  cr_assert_eq(fastepost_stats_db_table_rows_exact(big), 5000);
  cr_assert_eq(fastepost_stats_db_table_has_rows_estimate(big), 1);
  cr_assert_eq(fastepost_stats_db_table_rows_estimate(big), 5000, "ANALYZE of a small table is exact");
  cr_assert_gt(fastepost_stats_db_table_index_bytes(big), 0);
  check_sizes(big, "big");

  const fastepost_stats_db_table *lines = find(s, "Sales Dept.Order Lines");
  cr_assert_eq(fastepost_stats_db_table_rows_exact(lines), 10);
  cr_assert_eq(fastepost_stats_db_table_rows_estimate(lines), 10);
  check_sizes(lines, "\"Sales Dept\".\"Order Lines\"");

  const fastepost_stats_db_table *empty = find(s, "empty_one");
  cr_assert_eq(fastepost_stats_db_table_has_rows_exact(empty), 1, "counted: 0 rows is known");
  cr_assert_eq(fastepost_stats_db_table_rows_exact(empty), 0);
  cr_assert_eq(fastepost_stats_db_table_has_rows_estimate(empty), 1, "an empty main fork is 0 for sure");
  cr_assert_eq(fastepost_stats_db_table_rows_estimate(empty), 0);
  check_sizes(empty, "empty_one");
  fastepost_stats_db_free(s);

  /* Without EXACT, no count. */
  cr_assert_eq(fastepost_stats_db_get(&s, fptest_conn(), NULL, 0), FASTEPOST_OK);
  cr_assert_eq(fastepost_stats_db_table_has_rows_exact(find(s, "big")), 0);
  cr_assert_eq(fastepost_stats_db_table_rows_exact(find(s, "big")), 0);
  cr_assert_eq(fastepost_stats_db_table_rows_estimate(find(s, "big")), 5000);
  fastepost_stats_db_free(s);

  /* Unknown flags are refused. */
  s = (fastepost_stats_db *)&s;
  cr_assert_eq(fastepost_stats_db_get(&s, fptest_conn(), NULL, 2), FASTEPOST_EINVALID);
  cr_assert_null(s);
}

Test(stats, estimate_follows_growth_and_handles_never_analyzed) {
  fptest_exec("CREATE TABLE grows (a int, pad text);"
              "INSERT INTO grows SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g;"
              "ANALYZE grows;"
              "INSERT INTO grows SELECT g, repeat('x', 100) FROM generate_series(1, 3000) g;"
              "CREATE TABLE fresh (a int); INSERT INTO fresh SELECT generate_series(1, 100)");
  fastepost_stats_db *s = NULL;
  cr_assert_eq(fastepost_stats_db_get(&s, fptest_conn(), NULL, 0), FASTEPOST_OK);
  uint64_t est = fastepost_stats_db_table_rows_estimate(find(s, "grows"));
  cr_assert(est > 3600 && est < 4400, "scaled to the current pages: %llu", (unsigned long long)est);
  /* Never analyzed: the activity counter, or unknown when it has not been reported yet. */
  const fastepost_stats_db_table *fresh = find(s, "fresh");
  est = fastepost_stats_db_table_rows_estimate(fresh);
  if (fastepost_stats_db_table_has_rows_estimate(fresh))
    cr_assert_eq(est, 100);
  else
    cr_assert_eq(est, 0, "unknown reads 0");
  fastepost_stats_db_free(s);
}

Test(stats, backups_counted_and_newest_named) {
  char dir[256];
  fptest_tmpdir(dir, sizeof dir, "fpst");
  char path[512];
  snprintf(path, sizeof path, "%s/backup_20250101_000000.sql", dir);
  fptest_write_file(path, "a", 0600);
  snprintf(path, sizeof path, "%s/backup_20260301_101010.dump", dir);
  fptest_write_file(path, "bbb", 0600);
  snprintf(path, sizeof path, "%s/other.sql", dir);
  fptest_write_file(path, "x", 0600);
  fastepost_backup_dir *bd;
  cr_assert_eq(fastepost_backup_dir_new(&bd, dir), FASTEPOST_OK);
  fastepost_stats_db *s = NULL;
  cr_assert_eq(fastepost_stats_db_get(&s, fptest_conn(), bd, 0), FASTEPOST_OK);
  cr_assert_eq(fastepost_stats_db_has_backups(s), 1);
  cr_assert_eq(fastepost_stats_db_backup_count(s), 2);
  cr_assert_eq(fastepost_stats_db_has_newest_backup(s), 1);
  cr_assert_str_eq(fastepost_stats_db_newest_backup_name(s), "backup_20260301_101010.dump");
  cr_assert_eq(fastepost_stats_db_newest_backup_size_bytes(s), 3);
  /* 2026-03-01 10:10:10 UTC, from the name. */
  cr_assert_eq(fastepost_stats_db_newest_backup_created_us(s), INT64_C(1772359810000000));
  cr_assert_eq(fastepost_stats_db_table_count(s), 0);
  cr_assert_null(fastepost_stats_db_table_get(s, 0));
  fastepost_stats_db_free(s);
  fastepost_backup_dir_free(bd);

  /* The CLI's --json: the keys and types of tests/report/shapes.txt (as the bindings'). */
  fptest_exec("CREATE TABLE t (a int); INSERT INTO t VALUES (1)");
  static char out[65536];
  char args[2048];
  snprintf(args, sizeof args, "stats db --json --exact --dir '%s' --db '%s'", dir, fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "\"backup_count\":2,\"newest_backup\":{\"name\":\"backup_20260301_101010.dump\","
                        "\"size_bytes\":3,\"created_at\":\"2026-03-01T10:10:10.000000Z\","
                        "\"created_at_us\":1772359810000000}"),
            "%s", out);
  cr_assert(strstr(out, "\"rows_exact\":1,"), "%s", out);
  shape_check(out, "stats_db");
  /* Without --exact: null, not -1. */
  snprintf(args, sizeof args, "stats db --json --dir '%s' --db '%s'", dir, fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "\"rows_exact\":null") && !strstr(out, "-1"), "%s", out);
  shape_check(out, "stats_db");
  fptest_rmtree(dir);
}

Test(stats, many_tables_in_one_query_fast) {
  fptest_exec("DO $$ BEGIN FOR i IN 1..100 LOOP "
              "EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text)', i); "
              "EXECUTE format('INSERT INTO t%s SELECT g, ''v'' FROM generate_series(1, 50) g', i); "
              "END LOOP; END $$; ANALYZE");
  fastepost_stats_db *s = NULL;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  cr_assert_eq(fastepost_stats_db_get(&s, fptest_conn(), NULL, 0), FASTEPOST_OK);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
  cr_assert_eq(fastepost_stats_db_table_count(s), 100);
  for (size_t i = 0; i < fastepost_stats_db_table_count(s); i++) {
    const fastepost_stats_db_table *t = fastepost_stats_db_table_get(s, i);
    cr_assert_eq(fastepost_stats_db_table_rows_estimate(t), 50, "%s", fastepost_stats_db_table_name(t));
  }
  /* Generous bound for a loaded CI machine; bench/backup.sh measures properly. */
  cr_assert_lt(ms, 1000.0, "%.1f ms", ms);
  fastepost_stats_db_free(s);
}

Test(stats, closed_connection_is_econn) {
  fastepost_conn *c = fptest_conn();
  fastepost_conn_close(c);
  fastepost_stats_db *s = (fastepost_stats_db *)&s;
  cr_assert_eq(fastepost_stats_db_get(&s, c, NULL, 0), FASTEPOST_ECONN);
  cr_assert_null(s);
  cr_assert_eq(fastepost_stats_db_get(NULL, c, NULL, 0), FASTEPOST_EINVALID);
  fastepost_stats_db_free(NULL);
  /* Getters on NULL: the documented "none" values, no crash. */
  cr_assert_str_eq(fastepost_stats_db_database(NULL), "");
  cr_assert_eq(fastepost_stats_db_table_count(NULL), 0);
  cr_assert_str_eq(fastepost_stats_db_table_name(NULL), "");
}
