/* Database statistics checked against count(*) and the size functions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testdb.h"

TestSuite(stats, .init = fptest_setup, .fini = fptest_teardown);

static const fastepost_stats_db_table *find(const fastepost_stats_db *s, const char *name) {
  for (size_t i = 0; i < s->table_count; i++)
    if (strcmp(s->tables[i].name, name) == 0)
      return &s->tables[i];
  cr_assert_fail("table %s not in the statistics", name);
  return NULL;
}

static void check_sizes(const fastepost_stats_db_table *t, const char *regclass) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT pg_total_relation_size('%s')", regclass);
  cr_assert_eq(t->total_bytes, fptest_count(sql), "%s total", t->name);
  snprintf(sql, sizeof sql, "SELECT pg_table_size('%s')", regclass);
  cr_assert_eq(t->table_bytes, fptest_count(sql), "%s table", t->name);
  snprintf(sql, sizeof sql, "SELECT pg_indexes_size('%s')", regclass);
  cr_assert_eq(t->index_bytes, fptest_count(sql), "%s indexes", t->name);
  cr_assert_eq(t->total_bytes, t->table_bytes + t->index_bytes);
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
  cr_assert_str_eq(s->database, fptest_current.name);
  long long dbsize = fptest_count("SELECT pg_database_size(current_database())");
  cr_assert(s->size_bytes > 0 && llabs(s->size_bytes - dbsize) <= dbsize / 100, "%lld vs %lld",
            (long long)s->size_bytes, dbsize);
  cr_assert_eq(s->table_count, 3);
  cr_assert_str_eq(s->tables[0].name, "big", "largest first");
  cr_assert_eq(s->backup_count, -1);

  const fastepost_stats_db_table *big = find(s, "big");
  cr_assert_eq(big->rows_exact, fptest_count("SELECT count(*) FROM big"));
  cr_assert_eq(big->rows_exact, 5000);
  cr_assert_eq(big->rows_estimate, 5000, "ANALYZE of a small table is exact");
  cr_assert_gt(big->index_bytes, 0);
  check_sizes(big, "big");

  const fastepost_stats_db_table *lines = find(s, "Sales Dept.Order Lines");
  cr_assert_eq(lines->rows_exact, 10);
  cr_assert_eq(lines->rows_estimate, 10);
  check_sizes(lines, "\"Sales Dept\".\"Order Lines\"");

  const fastepost_stats_db_table *empty = find(s, "empty_one");
  cr_assert_eq(empty->rows_exact, 0);
  cr_assert_eq(empty->rows_estimate, 0);
  check_sizes(empty, "empty_one");
  fastepost_stats_db_free(s);

  /* Without EXACT, no count. */
  cr_assert_eq(fastepost_stats_db_get(&s, fptest_conn(), NULL, 0), FASTEPOST_OK);
  cr_assert_eq(find(s, "big")->rows_exact, -1);
  cr_assert_eq(find(s, "big")->rows_estimate, 5000);
  fastepost_stats_db_free(s);
}

Test(stats, estimate_follows_growth_and_handles_never_analyzed) {
  fptest_exec("CREATE TABLE grows (a int, pad text);"
              "INSERT INTO grows SELECT g, repeat('x', 100) FROM generate_series(1, 1000) g;"
              "ANALYZE grows;"
              "INSERT INTO grows SELECT g, repeat('x', 100) FROM generate_series(1, 3000) g;"
              "CREATE TABLE fresh (a int); INSERT INTO fresh SELECT generate_series(1, 100)");
  fastepost_stats_db *s = NULL;
  cr_assert_eq(fastepost_stats_db_get(&s, fptest_conn(), NULL, 0), FASTEPOST_OK);
  int64_t est = find(s, "grows")->rows_estimate;
  cr_assert(est > 3600 && est < 4400, "scaled to the current pages: %lld", (long long)est);
  /* Never analyzed: the activity counter, or unknown (-1) when it has not been reported yet. */
  est = find(s, "fresh")->rows_estimate;
  cr_assert(est == 100 || est == -1, "%lld", (long long)est);
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
  cr_assert_eq(s->backup_count, 2);
  cr_assert_str_eq(s->newest_backup.name, "backup_20260301_101010.dump");
  cr_assert_eq(s->newest_backup.size, 3);
  cr_assert_eq(s->table_count, 0);
  cr_assert_null(s->tables);
  fastepost_stats_db_free(s);
  fastepost_backup_dir_free(bd);
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
  cr_assert_eq(s->table_count, 100);
  for (size_t i = 0; i < s->table_count; i++)
    cr_assert_eq(s->tables[i].rows_estimate, 50, "%s", s->tables[i].name);
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
}
