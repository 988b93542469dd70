/* SPDX-License-Identifier: MIT */
/* Backups: create, list, path/open, verify, prune, restore; pg_dump found, failing, killed. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backup_priv.h"
#include "pgtool.h"
#include "testdb.h"

static char dirpath[256];
static fastepost_backup_dir *bdir;

static void setup(void) {
  fptest_setup();
  fptest_tmpdir(dirpath, sizeof dirpath, "fpbk");
  cr_assert_eq(fastepost_backup_dir_new(&bdir, dirpath), FASTEPOST_OK);
}

static void teardown(void) {
  fastepost_backup_dir_free(bdir);
  bdir = NULL;
  fptest_rmtree(dirpath);
  fptest_teardown();
}

TestSuite(backup, .init = setup, .fini = teardown);

/* The list API in the shape these tests use: the list and its count (limit 0: all). */
static int list_into(fastepost_backup_list **list, size_t *n, fastepost_backup_dir *d, size_t limit) {
  int rc = fastepost_backup_dir_list(list, d, limit);
  *n = fastepost_backup_list_count(*list);
  return rc;
}
#define INFO(l, i) fastepost_backup_list_get(l, i)
#define NAME(l, i) fastepost_backup_info_name(INFO(l, i))
#define SIZE(l, i) ((int64_t)fastepost_backup_info_size(INFO(l, i)))
#define TIME(l, i) (fastepost_backup_info_created_us(INFO(l, i)) / 1000000)
#define FORMAT(l, i) fastepost_backup_info_format(INFO(l, i))
#define KIND(l, i) fastepost_backup_info_kind(INFO(l, i))
#define TABLE(l, i) fastepost_backup_info_table(INFO(l, i))

static char *path_in(const char *name) {
  static char p[512];
  snprintf(p, sizeof p, "%s/%s", dirpath, name);
  return p;
}

/* Names in the backup directory, sorted, space-separated ("" when empty). */
static const char *dir_entries(void) {
  static char out[4096];
  char cmd[512];
  snprintf(cmd, sizeof cmd, "ls -A '%s' | sort | tr '\\n' ' '", dirpath);
  FILE *p = popen(cmd, "r");
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  pclose(p);
  return out;
}

/* A fake pg_dump: answers --version with `version`, otherwise runs `body`. */
static const char *fake_tool(const char *file, const char *version, const char *body) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", dirpath, file);
  char script[16384];
  snprintf(script, sizeof script,
           "#!/bin/sh\ncase \"$1\" in --version) echo 'pg_dump (PostgreSQL) %s'; exit 0;; esac\n%s\n",
           version, body);
  fptest_write_file(path, script, 0755);
  return path;
}

static const char *scalar_on(PGconn *pg, const char *sql) {
  static char value[4096];
  PGresult *r = PQexec(pg, sql);
  cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(pg));
  snprintf(value, sizeof value, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "<none>");
  PQclear(r);
  return value;
}

static const char *const dataset_sql =
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');"
    "CREATE TABLE all_types ("
    " id serial PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, num numeric(20,6), nan numeric,"
    " r real, d double precision, t text, vc varchar(50), ch char(5), b boolean, dt date,"
    " ts timestamp(6), tstz timestamptz, iv interval, tm time, by bytea, u uuid, j json, jb jsonb,"
    " ai int[], at text[], ip inet, net cidr, mac macaddr, pt point, bx box, m mood,"
    " r4 int4range, tsr tstzrange, bits bit(4), vb varbit(8), tv tsvector,"
    " gen integer GENERATED ALWAYS AS (i4 * 2) STORED);"
    "INSERT INTO all_types (i2, i4, i8, num, nan, r, d, t, vc, ch, b, dt, ts, tstz, iv, tm, by, u,"
    " j, jb, ai, at, ip, net, mac, pt, bx, m, r4, tsr, bits, vb, tv) VALUES"
    " (-32768, -1, -9223372036854775808, 12345678901234.123456, 'NaN', 'Infinity',"
    "  -0.1e-300, E'Grüße 日本語 😀 \"quoted\" back\\\\slash new\\nline tab\\t end', 'väl',"
    "  'ab', true, '2024-02-29', '1999-12-31 23:59:59.999999', '2026-01-01 12:00+02', '1 year 2 mons"
    "  -3 days 04:05:06.7', '23:59:59', '\\x00ff10', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',"
    "  '{\"a\": [1, 2, {\"b\": null}]}', '{\"ü\": \"😀\", \"n\": 1.5}', '{1,NULL,3}',"
    "  '{\"x,y\",NULL,\"\"}', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', '(1.5,-2)',"
    "  '((0,0),(1,1))', 'happy', '[1,10)', '[2026-01-01,2026-02-01)', B'1010', B'101',"
    "  to_tsvector('simple', 'the quick brown fox')),"
    " (NULL, NULL, NULL, NULL, '-Infinity', '-Infinity', 'NaN', '', '', NULL, false, 'infinity',"
    "  '-infinity', NULL, NULL, NULL, '\\x', NULL, 'null', '[]', '{}', '{}', NULL, NULL, NULL, NULL,"
    "  NULL, 'sad', 'empty', NULL, NULL, B'', NULL),"
    " (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    "  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    "  NULL, NULL);"
    "CREATE SCHEMA \"Sales Dept\";"
    "CREATE TABLE \"Sales Dept\".\"Order-Lines\" (id bigint PRIMARY KEY, line_no int,"
    " note text, ref int REFERENCES all_types(id));"
    "INSERT INTO \"Sales Dept\".\"Order-Lines\" SELECT g, g % 7, repeat('x', g % 50) || 'ä',"
    " CASE WHEN g % 3 = 0 THEN 1 END FROM generate_series(1, 2000) g;"
    "CREATE TABLE empty_one (a int);"
    "CREATE VIEW mood_view AS SELECT id, m FROM all_types;";

/* Every table of the source equals the same table in the target, row for row. */
static void assert_same_tables(PGconn *src, PGconn *dst) {
  PGresult *r = PQexec(src, "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) "
                            "FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND "
                            "table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1");
  cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK);
  cr_assert_geq(PQntuples(r), 3);
  for (int i = 0; i < PQntuples(r); i++) {
    char sql[512], a[128];
    snprintf(sql, sizeof sql,
             "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
             "FROM %s t",
             PQgetvalue(r, i, 0));
    snprintf(a, sizeof a, "%s", scalar_on(src, sql));
    cr_assert_str_eq(scalar_on(dst, sql), a, "table %s differs after restore", PQgetvalue(r, i, 0));
  }
  PQclear(r);
  cr_assert_str_eq(scalar_on(dst, "SELECT count(*) FROM mood_view"), "3");
  cr_assert_str_eq(scalar_on(dst, "SELECT gen FROM all_types WHERE id = 1"), "-2");
  cr_assert_str_eq(scalar_on(dst, "SELECT nextval('all_types_id_seq')"), "4");
}

static void round_trip(fastepost_backup_format format, const char *ext) {
  fptest_exec(dataset_sql);
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), format, NULL), FASTEPOST_OK,
               "%s", fastepost_error_last()->message);
  cr_assert(strstr(name, ext) && fastepost__backup_parse_name(name, NULL, NULL, NULL), "%s", name);
  cr_assert_eq(fastepost_backup_verify(bdir, fptest_conn(), name, 0), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  fptest_db target;
  fptest_db_create(&target, "fptr");
  cr_assert_eq(fastepost_backup_restore(bdir, fptest_conn(), name, target.conninfo, 0),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  assert_same_tables(fptest_current.check, target.check);
  fptest_db_drop(&target);
  fastepost_free(name);
}

Test(backup, round_trip_plain) { round_trip(FASTEPOST_BACKUP_FORMAT_PLAIN, ".sql"); }

Test(backup, round_trip_custom) { round_trip(FASTEPOST_BACKUP_FORMAT_CUSTOM, ".dump"); }

Test(backup, files_0600_in_new_0700_dir_with_checksum) {
  char nested[512];
  snprintf(nested, sizeof nested, "%s/a/b", dirpath);
  fastepost_backup_dir *d;
  cr_assert_eq(fastepost_backup_dir_new(&d, nested), FASTEPOST_OK);
  char *name = NULL;
  mode_t old = umask(0);
  int rc = fastepost_backup_create(&name, d, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL);
  umask(old);
  cr_assert_eq(rc, FASTEPOST_OK, "%s", fastepost_error_last()->message);
  struct stat st;
  cr_assert_eq(stat(nested, &st), 0);
  cr_assert_eq(st.st_mode & 07777, 0700);
  char file[600], cmd[1400];
  snprintf(file, sizeof file, "%s/%s", nested, name);
  cr_assert_eq(stat(file, &st), 0);
  cr_assert_eq(st.st_mode & 07777, 0600);
  snprintf(file, sizeof file, "%s/%s.sha256", nested, name);
  cr_assert_eq(stat(file, &st), 0);
  cr_assert_eq(st.st_mode & 07777, 0600);
  /* sha256sum agrees with the recorded checksum. */
  snprintf(cmd, sizeof cmd, "cd '%s' && sha256sum --status -c '%s.sha256'", nested, name);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  /* The dump is real SQL. */
  snprintf(file, sizeof file, "%s/%s", nested, name);
  char *text = fptest_read_file(file, NULL);
  cr_assert(strstr(text, "PostgreSQL database dump"));
  free(text);
  fastepost_free(name);
  fastepost_backup_dir_free(d);
}

Test(backup, verify_detects_corruption_and_custom_toc) {
  fptest_exec("CREATE TABLE t (a int); INSERT INTO t SELECT generate_series(1, 100)");
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_CUSTOM, NULL),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_backup_verify(bdir, NULL, name, 0), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(fastepost_backup_verify(bdir, fptest_conn(), name, 1), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  cr_assert_eq(fptest_count("SELECT count(*) FROM pg_database WHERE datname LIKE 'fastepost_verify%'"),
               0, "scratch database dropped");
  /* A custom archive whose checksum is right but whose contents are not an archive: pg_restore
   * --list must reject it. */
  const char *bogus = "backup_20200101_000000.dump";
  fptest_write_file(path_in(bogus), "not an archive\n", 0600);
  char sum[2048];
  snprintf(sum, sizeof sum, "sha256sum '%s' | sed 's#  .*/#  #' > '%s.sha256'", path_in(bogus),
           path_in(bogus));
  cr_assert_eq(system(sum), 0);
  cr_assert_eq(fastepost_backup_verify(bdir, NULL, bogus, 0), FASTEPOST_EEXTERNAL);
  cr_assert(strstr(fastepost_error_last()->message, "pg_restore"), "%s",
            fastepost_error_last()->message);
  /* One flipped byte: checksum mismatch. */
  int fd = open(path_in(name), O_WRONLY);
  cr_assert_geq(fd, 0);
  cr_assert_eq(pwrite(fd, "X", 1, 10), 1);
  close(fd);
  cr_assert_eq(fastepost_backup_verify(bdir, NULL, name, 0), FASTEPOST_EIO);
  cr_assert(strstr(fastepost_error_last()->message, "checksum mismatch"), "%s",
            fastepost_error_last()->message);
  /* No checksum file: cannot verify. */
  char sumfile[128];
  snprintf(sumfile, sizeof sumfile, "%s.sha256", name);
  cr_assert_eq(unlink(path_in(sumfile)), 0);
  cr_assert_eq(fastepost_backup_verify(bdir, NULL, name, 0), FASTEPOST_ENOTFOUND);
  fastepost_free(name);
}

Test(backup, deep_verify_of_broken_plain_dump_fails_and_cleans_up) {
  const char *name = "backup_20200101_000000.sql";
  fptest_write_file(path_in(name),
                    "CREATE TABLE ok (a int);\nTHIS IS NOT SQL;\n--\n-- PostgreSQL database dump "
                    "complete\n--\n",
                    0600);
  char sum[2048];
  snprintf(sum, sizeof sum, "cd '%s' && sha256sum %s > %s.sha256", dirpath, name, name);
  cr_assert_eq(system(sum), 0);
  cr_assert_eq(fastepost_backup_verify(bdir, fptest_conn(), name, 0), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_verify(bdir, fptest_conn(), name, 1), FASTEPOST_EEXTERNAL);
  cr_assert(strstr(fastepost_error_last()->message, "syntax error"), "%s",
            fastepost_error_last()->message);
  /* pg_database is cluster-wide: a deep verify of another test running in parallel may own a
   * scratch database for a moment, so wait for none to be left rather than sample once. */
  long long left = 1;
  for (int i = 0; i < 100 && left; i++) {
    left = fptest_count("SELECT count(*) FROM pg_database WHERE datname LIKE 'fastepost_verify%'");
    if (left)
      nanosleep(&(struct timespec){0, 100000000}, NULL);
  }
  cr_assert_eq(left, 0, "a scratch database was left behind");
}

Test(backup, restore_is_all_or_nothing_and_refuses_connected_db) {
  fptest_exec("CREATE TABLE a (x int); INSERT INTO a VALUES (1), (2);"
              "CREATE TABLE b (y text); INSERT INTO b VALUES ('b')");
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  /* Into the connected database: refused without force, nothing run. */
  cr_assert_eq(fastepost_backup_restore(bdir, fptest_conn(), name, fptest_current.conninfo, 0),
               FASTEPOST_EINVALID);
  cr_assert(strstr(fastepost_error_last()->message, "connected database"), "%s",
            fastepost_error_last()->message);
  cr_assert_eq(fastepost_backup_restore(bdir, fptest_conn(), name, NULL, 0), FASTEPOST_EINVALID);
  /* A target where table b already exists: the restore fails after creating a, and a is gone. */
  for (int custom = 0; custom < 2; custom++) {
    char *n2 = NULL;
    if (custom)
      cr_assert_eq(fastepost_backup_create(&n2, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_CUSTOM, NULL),
                   FASTEPOST_OK, "%s", fastepost_error_last()->message);
    fptest_db target;
    fptest_db_create(&target, "fptr");
    PQclear(PQexec(target.check, "CREATE TABLE b (y text); INSERT INTO b VALUES ('mine')"));
    cr_assert_eq(fastepost_backup_restore(bdir, fptest_conn(), custom ? n2 : name, target.conninfo, 0),
                 FASTEPOST_EEXTERNAL);
    const char *msg = fastepost_error_last()->message;
    cr_assert(strstr(msg, "already exists") && strstr(msg, "nothing was changed"), "%s", msg);
    cr_assert_str_eq(scalar_on(target.check, "SELECT to_regclass('public.a') IS NULL"), "t");
    cr_assert_str_eq(scalar_on(target.check, "SELECT string_agg(y, ',') FROM b"), "mine");
    fptest_db_drop(&target);
    fastepost_free(n2);
  }
  /* Unreachable target. */
  cr_assert_eq(fastepost_backup_restore(bdir, fptest_conn(), name, "host=/nonexistent dbname=x", 0),
               FASTEPOST_ECONN);
  fastepost_free(name);
}

Test(backup, one_table_checked_against_catalog) {
  fptest_exec("CREATE TABLE keep_me (a int); CREATE TABLE \"Other Table\" (b int);"
              "INSERT INTO \"Other Table\" VALUES (42)");
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN,
                                       "\"Other Table\""),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert(strstr(name, "_table-Other_Table.sql"), "a table backup by its name: %s", name);
  char *text = fptest_read_file(path_in(name), NULL);
  cr_assert(strstr(text, "\"Other Table\"") && !strstr(text, "keep_me"), "%s", text);
  cr_assert_null(strstr(text, "CREATE TABLE"), "rows only: %s", text);
  free(text);
  size_t entries_len = 2 * (strlen(name) + 1) + 7;
  fastepost_free(name);
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, "nope"),
               FASTEPOST_ENOTFOUND);
  cr_assert(strstr(fastepost_error_last()->message, "nope"));
  cr_assert_eq(strlen(dir_entries()), entries_len, "nothing new: %s", dir_entries());
}

/* Write backup_<UTC second><suffix>.sql for this second and the next two, so that a backup
 * taken now surely finds its own second taken. */
static void occupy_seconds(const char *suffix) {
  time_t now = time(NULL);
  for (int i = 0; i < 3; i++) {
    char stamp[32], name[64];
    struct tm tm;
    time_t t = now + i;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "backup_%Y%m%d_%H%M%S", &tm);
    snprintf(name, sizeof name, "%s%s.sql", stamp, suffix);
    fptest_write_file(path_in(name), "old", 0600);
  }
}

Test(backup, same_second_gets_a_suffix) {
  /* Occupy this second and the next two, so the backup's own second is surely taken. */
  occupy_seconds("");
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  int suffix = -1;
  cr_assert(fastepost__backup_parse_name(name, NULL, &suffix, NULL));
  cr_assert_eq(suffix, 1, "%s", name);
  /* The older file was not replaced. */
  char other[64];
  snprintf(other, sizeof other, "%.*s.sql", 22, name);
  char *text = fptest_read_file(path_in(other), NULL);
  cr_assert_str_eq(text, "old");
  free(text);
  fastepost_backup_list *list = NULL;
  size_t n = 0;
  cr_assert_eq(list_into(&list, &n, bdir, 0), FASTEPOST_OK);
  cr_assert_eq(n, 4);
  fastepost_backup_list_free(list);
  list = NULL;
  fastepost_free(name);
}

Test(backup, suffix_follows_the_highest_even_after_pruning) {
  /* Only `_2` is left of this second's backups (say, the base name and `_1` were pruned): a
   * new backup in the same second must come after it in the list, not take the base name. */
  occupy_seconds("_2");
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  int suffix = -1;
  cr_assert(fastepost__backup_parse_name(name, NULL, &suffix, NULL));
  cr_assert_eq(suffix, 3, "%s", name);
  fastepost_backup_list *list = NULL;
  size_t n = 0;
  cr_assert_eq(list_into(&list, &n, bdir, 0), FASTEPOST_OK);
  /* The new one is listed before (newer than) the `_2` of its own second. */
  size_t mine = n, older = n;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(NAME(list, i), name) == 0)
      mine = i;
    else if (strncmp(NAME(list, i), name, 22) == 0)
      older = i;
  }
  cr_assert_lt(mine, older, "%s must be listed before the _2 of the same second", name);
  fastepost_backup_list_free(list);
  list = NULL;
  fastepost_free(name);
}

static int64_t last_progress;
static int progress_calls;
static int on_progress(uint64_t rows, uint64_t ubytes, void *payload) {
  int64_t bytes = (int64_t)ubytes;
  cr_assert_eq(rows, 0);
  int64_t stop_at = *(int64_t *)payload;
  cr_assert_geq(bytes, last_progress);
  last_progress = bytes;
  progress_calls++;
  return stop_at > 0 && bytes >= stop_at;
}

Test(backup, progress_and_cancel) {
  /* A slow pg_dump: ten chunks of 100 kB, 60 ms apart. */
  const char *tool = fake_tool("fake_pg_dump", "99.0",
                               "for i in 1 2 3 4 5 6 7 8 9 10; do head -c 100000 /dev/zero; "
                               "sleep 0.06; done");
  cr_assert_eq(fastepost_backup_dir_set_tool(bdir, FASTEPOST_BACKUP_TOOL_PG_DUMP, tool), FASTEPOST_OK);
  int64_t stop_at = 0;
  fastepost_backup_dir_set_progress(bdir, on_progress, &stop_at);
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  struct stat st;
  cr_assert_eq(stat(path_in(name), &st), 0);
  cr_assert_eq(st.st_size, 1000000);
  cr_assert_gt(progress_calls, 3, "%d", progress_calls);
  cr_assert_eq(last_progress, (int64_t)st.st_size, "the last report is the whole file");
  char cmd[512];
  snprintf(cmd, sizeof cmd, "cd '%s' && sha256sum --status -c '%s.sha256'", dirpath, name);
  cr_assert_eq(system(cmd), 0, "checksum of a file hashed while it grew");
  fastepost_free(name);
  char before[4096];
  snprintf(before, sizeof before, "%s", dir_entries());
  stop_at = 300000;
  last_progress = 0;
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_ECANCELED);
  cr_assert_null(name);
  cr_assert_lt(last_progress, 1000000);
  cr_assert_str_eq(dir_entries(), before, "nothing left behind");
}

Test(backup, killed_pg_dump_leaves_no_file) {
  const char *tool = fake_tool("fake_pg_dump", "99.0",
                               "head -c 300000 /dev/zero\necho 'pg_dump: dumping' >&2\nkill -9 $$");
  char tooldir_entries[64];
  fastepost_backup_dir *d;
  char sub[300];
  snprintf(sub, sizeof sub, "%s/out", dirpath);
  cr_assert_eq(fastepost_backup_dir_new(&d, sub), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_dir_set_tool(d, FASTEPOST_BACKUP_TOOL_PG_DUMP, tool), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_create(NULL, d, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_EEXTERNAL);
  const char *msg = fastepost_error_last()->message;
  cr_assert(strstr(msg, "signal 9") && strstr(msg, "pg_dump: dumping"), "%s", msg);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", sub);
  FILE *p = popen(cmd, "r");
  cr_assert(fgets(tooldir_entries, sizeof tooldir_entries, p));
  pclose(p);
  cr_assert_eq(atoi(tooldir_entries), 0, "no backup_* or partial file remains");
  fastepost_backup_dir_free(d);
}

Test(backup, failing_pg_dump_stderr_in_error) {
  const char *tool = fake_tool("fake_pg_dump", "99.0",
                               "echo 'SET x;'\necho 'pg_dump: error: query failed: boom' >&2\nexit 1");
  cr_assert_eq(fastepost_backup_dir_set_tool(bdir, FASTEPOST_BACKUP_TOOL_PG_DUMP, tool), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_create(NULL, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_EEXTERNAL);
  const char *msg = fastepost_error_last()->message;
  cr_assert(strstr(msg, "status 1") && strstr(msg, "query failed: boom"), "%s", msg);
  cr_assert_str_eq(dir_entries(), "fake_pg_dump ");
}

Test(backup, password_only_in_environment) {
  char conninfo[1200];
  snprintf(conninfo, sizeof conninfo, "%s user=fp_password password=secret", fptest_current.conninfo);
  fastepost_conn *c;
  cr_assert_eq(fastepost_conn_open(&c, conninfo), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  char body[2048];
  snprintf(body, sizeof body,
           "tr '\\0' '\\n' < /proc/$$/cmdline > '%s/argv'\n"
           "env | cut -d= -f1 > '%s/envnames'\n"
           "[ \"$PGPASSWORD\" = secret ] && echo ok > '%s/pw'\n"
           "printf -- '-- fake dump\\n--\\n-- PostgreSQL database dump complete\\n--\\n'",
           dirpath, dirpath, dirpath);
  const char *tool = fake_tool("fake_pg_dump", "99.0", body);
  cr_assert_eq(fastepost_backup_dir_set_tool(bdir, FASTEPOST_BACKUP_TOOL_PG_DUMP, tool), FASTEPOST_OK);
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, c, FASTEPOST_BACKUP_FORMAT_PLAIN, NULL), FASTEPOST_OK,
               "%s", fastepost_error_last()->message);
  char *argv = fptest_read_file(path_in("argv"), NULL);
  cr_assert(strstr(argv, "--dbname=") && strstr(argv, "fp_password"), "%s", argv);
  cr_assert_null(strstr(argv, "secret"), "password in argv: %s", argv);
  char *env = fptest_read_file(path_in("envnames"), NULL);
  cr_assert(strstr(env, "PGPASSWORD"), "%s", env);
  char *pw = fptest_read_file(path_in("pw"), NULL);
  cr_assert_str_eq(pw, "ok\n");
  free(argv);
  free(env);
  free(pw);
  /* Restore: the target's password goes the same way to psql (a fake that records itself). */
  char pbody[2048];
  snprintf(pbody, sizeof pbody,
           "tr '\\0' '\\n' < /proc/$$/cmdline > '%s/psql_argv'\n"
           "[ \"$PGPASSWORD\" = secret ] && echo ok > '%s/psql_pw'\n"
           "cat > /dev/null",
           dirpath, dirpath);
  const char *psql = fake_tool("fake_psql", "99.0", pbody);
  cr_assert_eq(fastepost_backup_dir_set_tool(bdir, FASTEPOST_BACKUP_TOOL_PSQL, psql), FASTEPOST_OK);
  fptest_db target;
  fptest_db_create(&target, "fptr");
  char tconn[1200];
  snprintf(tconn, sizeof tconn, "%s user=fp_password password=secret", target.conninfo);
  cr_assert_eq(fastepost_backup_restore(bdir, c, name, tconn, 0), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  argv = fptest_read_file(path_in("psql_argv"), NULL);
  cr_assert(strstr(argv, "ON_ERROR_STOP=1") && strstr(argv, "--single-transaction") &&
                strstr(argv, target.name) && !strstr(argv, "secret"),
            "%s", argv);
  pw = fptest_read_file(path_in("psql_pw"), NULL);
  cr_assert_str_eq(pw, "ok\n");
  free(argv);
  free(pw);
  fptest_db_drop(&target);
  fastepost_free(name);
  name = NULL;

  /* And the real pg_dump logs in with it (an empty database: nothing it may not read). */
  cr_assert_eq(fastepost_backup_dir_set_tool(bdir, FASTEPOST_BACKUP_TOOL_PG_DUMP, NULL), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_create(&name, bdir, c, FASTEPOST_BACKUP_FORMAT_PLAIN, NULL), FASTEPOST_OK,
               "%s", fastepost_error_last()->message);
  fastepost_free(name);
  fastepost_conn_free(c);
}

Test(backup, pg_dump_too_old_or_missing) {
  const char *old = fake_tool("pg_dump", "9.6.24", "exit 0");
  cr_assert_eq(fastepost_backup_dir_set_tool(bdir, FASTEPOST_BACKUP_TOOL_PG_DUMP, old), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_create(NULL, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_EVERSION);
  cr_assert(strstr(fastepost_error_last()->message, "too old") &&
                strstr(fastepost_error_last()->message, "(9)"),
            "%s", fastepost_error_last()->message);
  /* $FASTEPOST_PG_DUMP and PATH are the CLI's: the library reads neither (docs/api.md rule 14).
   * A handle made with a new pg_dump in PATH and the old one in FASTEPOST_PG_DUMP searches its
   * own search path only. */
  cr_assert_eq(fastepost_backup_dir_set_tool(bdir, FASTEPOST_BACKUP_TOOL_PG_DUMP, NULL), FASTEPOST_OK);
  setenv("FASTEPOST_PG_DUMP", old, 1);
  fastepost_backup_dir *later;
  cr_assert_eq(fastepost_backup_dir_new(&later, dirpath), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_dir_set_search_path(later, "/nonexistent"), FASTEPOST_OK);
  int rc = fastepost_backup_create(NULL, later, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL);
  unsetenv("FASTEPOST_PG_DUMP");
  cr_assert(rc == FASTEPOST_OK || rc == FASTEPOST_ENOTFOUND, "%s", fastepost_error_last()->message);
  cr_assert_neq(rc, FASTEPOST_EVERSION, "FASTEPOST_PG_DUMP was read: %s",
                fastepost_error_last()->message);
  fastepost_backup_dir_free(later);
  /* The search path given: only the old one there and in no /usr/lib/postgresql/N/bin. */
  cr_assert_eq(fastepost_backup_dir_set_search_path(bdir, dirpath), FASTEPOST_OK);
  rc = fastepost_backup_create(NULL, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL);
  cr_assert(rc == FASTEPOST_EVERSION || rc == FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_backup_dir_set_search_path(bdir, NULL), FASTEPOST_OK);
  /* Explicit path that does not exist. */
  cr_assert_eq(fastepost_backup_dir_set_tool(bdir, FASTEPOST_BACKUP_TOOL_PG_DUMP, "/nonexistent/pg_dump"),
               FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_create(NULL, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_ENOTFOUND);
  cr_assert(strstr(fastepost_error_last()->message, "/nonexistent/pg_dump"));
  /* The search: only an old one in PATH and none under the library root. */
  char *found = NULL;
  cr_assert_eq(fastepost__pgtool_find_in(&found, "pg_dump", NULL, dirpath, "/nonexistent", 15),
               FASTEPOST_EVERSION);
  cr_assert(strstr(fastepost_error_last()->message, "too old"), "%s",
            fastepost_error_last()->message);
  cr_assert_eq(fastepost__pgtool_find_in(&found, "pg_dump", NULL, "/nonexistent:/also-not",
                                           "/nonexistent", 15),
               FASTEPOST_ENOTFOUND);
  cr_assert(strstr(fastepost_error_last()->message, "pg_dump not found"), "%s",
            fastepost_error_last()->message);
  /* A newer one under the library root wins over the old one in PATH. */
  char lib[400], cmd[4096];
  snprintf(lib, sizeof lib, "%s/lib", dirpath);
  snprintf(cmd, sizeof cmd, "mkdir -p '%s/16/bin' '%s/99/bin' '%s/100/bin' && cp '%s' '%s/16/bin/' && "
                            "sed 's/9.6.24/99.1/' '%s' > '%s/99/bin/pg_dump' && chmod +x '%s/99/bin/pg_dump'",
           lib, lib, lib, old, lib, old, lib, lib);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  cr_assert_eq(fastepost__pgtool_find_in(&found, "pg_dump", NULL, dirpath, lib, 15),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  char want[600];
  snprintf(want, sizeof want, "%s/99/bin/pg_dump", lib);
  cr_assert_str_eq(found, want);
  free(found);
}

Test(backup, names_outside_the_list_are_refused) {
  const char *good = "backup_20260101_120000.sql";
  fptest_write_file(path_in(good), "-- dump\n", 0600);
  fptest_write_file(path_in("notes.txt"), "secret notes\n", 0600);
  fptest_write_file(path_in("backup_20260101_120000.sql.sha256"), "x\n", 0600);
  cr_assert_eq(symlink("/etc/passwd", path_in("backup_20260102_120000.sql")), 0);
  cr_assert_eq(symlink(good, path_in("backup_20260103_120000.sql")), 0);
  cr_assert_eq(mkdir(path_in("backup_20260104_120000.sql"), 0700), 0);
  cr_assert_eq(mkfifo(path_in("backup_20260105_120000.sql"), 0600), 0);

  const char *bad[] = {"../x", "/etc/passwd", "../../etc/passwd", "backup_20260101_120000.sql/",
                       "./backup_20260101_120000.sql", "notes.txt", "backup_20260101_120000.sql.sha256",
                       "backup_20260101_120000.sql/../notes.txt", "backup_20261301_120000.sql",
                       "backup_20260230_120000.sql", "backup_20260101_126000.sql",
                       "backup_20260101_120000_0.sql", "backup_20260101_120000.txt", "",
                       "backup_20260102_120000.sql", "backup_20260103_120000.sql",
                       "backup_20260104_120000.sql", "backup_20260105_120000.sql"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int fd = 12345;
    int rc = fastepost_backup_open(&fd, NULL, bdir, bad[i]);
    cr_assert(rc == FASTEPOST_EINVALID || rc == FASTEPOST_ENOTFOUND, "%s: %d", bad[i], rc);
    cr_assert_eq(fd, -1, "%s opened", bad[i]);
    char unset[] = "unset";
    char *path = unset;
    rc = fastepost_backup_path(&path, bdir, bad[i]);
    cr_assert(rc == FASTEPOST_EINVALID || rc == FASTEPOST_ENOTFOUND, "%s: %d", bad[i], rc);
    cr_assert_null(path);
    cr_assert_neq(fastepost_backup_verify(bdir, NULL, bad[i], 0), FASTEPOST_OK);
  }
  cr_assert_eq(fastepost_backup_open(NULL, NULL, bdir, good), FASTEPOST_EINVALID);
  /* The one real backup opens and is the only one listed. */
  int fd = -1;
  uint64_t size = 0;
  cr_assert_eq(fastepost_backup_open(&fd, &size, bdir, good), FASTEPOST_OK);
  cr_assert_geq(fd, 0);
  cr_assert_eq(size, 8);
  char buf[16] = {0};
  cr_assert_eq(read(fd, buf, sizeof buf), 8);
  cr_assert_str_eq(buf, "-- dump\n");
  close(fd);
  char *path = NULL;
  cr_assert_eq(fastepost_backup_path(&path, bdir, good), FASTEPOST_OK);
  cr_assert_str_eq(path, path_in(good));
  fastepost_free(path);
  fastepost_backup_list *list = NULL;
  size_t n = 0;
  cr_assert_eq(list_into(&list, &n, bdir, 0), FASTEPOST_OK);
  cr_assert_eq(n, 1);
  cr_assert_str_eq(NAME(list, 0), good);
  fastepost_backup_list_free(list);
  list = NULL;
}

static void make_backup_at(time_t t, int suffix, const char *ext, const char *content) {
  char name[64];
  struct tm tm;
  gmtime_r(&t, &tm);
  size_t n = strftime(name, sizeof name, "backup_%Y%m%d_%H%M%S", &tm);
  if (suffix)
    snprintf(name + n, sizeof name - n, "_%d%s", suffix, ext);
  else
    snprintf(name + n, sizeof name - n, "%s", ext);
  fptest_write_file(path_in(name), content, 0600);
  char sum[128];
  snprintf(sum, sizeof sum, "%s.sha256", name);
  fptest_write_file(path_in(sum), "0\n", 0600);
}

Test(backup, list_order_limit_and_prune) {
  time_t now = time(NULL) - 60;
  const int64_t day = 86400;
  make_backup_at(now - 10 * day, 0, ".sql", "a");
  make_backup_at(now - 5 * day, 0, ".dump", "bb");
  make_backup_at(now - 2 * day, 0, ".sql", "ccc");
  make_backup_at(now, 0, ".sql", "dddd");
  make_backup_at(now, 1, ".sql", "eeeee");
  make_backup_at(now, 12, ".sql", "ffffff");
  fptest_write_file(path_in("backup_notes.sql"), "x", 0600);
  fptest_write_file(path_in("README"), "x", 0600);

  fastepost_backup_list *list = NULL;
  size_t n = 0;
  cr_assert_eq(list_into(&list, &n, bdir, 0), FASTEPOST_OK);
  cr_assert_eq(n, 6);
  /* Newest first; within a second, the higher suffix is newer. */
  const int64_t sizes[] = {6, 5, 4, 3, 2, 1};
  for (size_t i = 0; i < n; i++) {
    cr_assert_eq(SIZE(list, i), sizes[i], "%zu: %s", i, NAME(list, i));
    if (i)
      cr_assert_geq(TIME(list, i - 1), TIME(list, i));
  }
  cr_assert_eq(TIME(list, 0), (int64_t)now);
  cr_assert_eq(FORMAT(list, 4), FASTEPOST_BACKUP_FORMAT_CUSTOM);
  cr_assert_eq(FORMAT(list, 5), FASTEPOST_BACKUP_FORMAT_PLAIN);
  fastepost_backup_list_free(list);
  list = NULL;
  cr_assert_eq(list_into(&list, &n, bdir, 2), FASTEPOST_OK);
  cr_assert_eq(n, 2);
  cr_assert_eq(SIZE(list, 1), 5);
  fastepost_backup_list_free(list);
  list = NULL;

  fastepost_backup_list *removed = NULL;
  cr_assert_eq(fastepost_backup_prune(&removed, bdir, 0, 0), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_backup_prune(NULL, bdir, 1, 0), FASTEPOST_EINVALID);
  /* Keep 4 and older than 3 days: the 5th and 6th are beyond 4 and older than 3 days. */
  const int64_t day_us = day * 1000000;
  cr_assert_eq(fastepost_backup_prune(&removed, bdir, 4, 3 * day_us), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_list_count(removed), 2);
  cr_assert_eq(SIZE(removed, 0), 2);
  cr_assert_eq(SIZE(removed, 1), 1);
  cr_assert_eq(TIME(removed, 1), (int64_t)now - 10 * day);
  cr_assert_null(INFO(removed, 2));
  char sum[FASTEPOST_BACKUP_NAME_MAX + 8];
  snprintf(sum, sizeof sum, "%s.sha256", NAME(removed, 1));
  cr_assert_eq(access(path_in(sum), F_OK), -1, "checksum file removed too");
  fastepost_backup_list_free(removed);
  /* keep 1 with a 30-day window: nothing is old enough. */
  cr_assert_eq(fastepost_backup_prune(&removed, bdir, 1, 30 * day_us), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_list_count(removed), 0);
  cr_assert_not_null(removed, "an empty list, not NULL");
  fastepost_backup_list_free(removed);
  /* Older than 1 day alone: the 2-day one. */
  cr_assert_eq(fastepost_backup_prune(&removed, bdir, 0, day_us), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_list_count(removed), 1);
  cr_assert_eq(SIZE(removed, 0), 3);
  fastepost_backup_list_free(removed);
  /* Keep 1 alone. */
  cr_assert_eq(fastepost_backup_prune(&removed, bdir, 1, 0), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_list_count(removed), 2);
  fastepost_backup_list_free(removed);
  cr_assert_eq(list_into(&list, &n, bdir, 0), FASTEPOST_OK);
  cr_assert_eq(n, 1);
  cr_assert_eq(SIZE(list, 0), 6);
  fastepost_backup_list_free(list);
  /* Leftovers of a crashed backup go once they are a day old; a running one's file stays. */
  fptest_write_file(path_in(".partial-backup-1-2-0"), "old", 0600);
  fptest_write_file(path_in(".partial-backup-3-4-0"), "new", 0600);
  struct timespec times[2] = {{time(NULL) - 2 * day, 0}, {time(NULL) - 2 * day, 0}};
  cr_assert_eq(utimensat(AT_FDCWD, path_in(".partial-backup-1-2-0"), times, 0), 0);
  cr_assert_eq(fastepost_backup_prune(&removed, bdir, 10, 0), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_list_count(removed), 0);
  fastepost_backup_list_free(removed);
  cr_assert_eq(access(path_in(".partial-backup-1-2-0"), F_OK), -1);
  cr_assert_eq(access(path_in(".partial-backup-3-4-0"), F_OK), 0);
  /* Other files untouched. */
  cr_assert_eq(access(path_in("README"), F_OK), 0);
  cr_assert_eq(access(path_in("backup_notes.sql"), F_OK), 0);
}

Test(backup, missing_directory_has_no_backups) {
  fastepost_backup_dir *d;
  cr_assert_eq(fastepost_backup_dir_new(&d, "/nonexistent/backups"), FASTEPOST_OK);
  fastepost_backup_list *list = (fastepost_backup_list *)&list;
  cr_assert_eq(fastepost_backup_dir_list(&list, d, 10), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_list_count(list), 0);
  cr_assert_null(fastepost_backup_list_get(list, 0));
  fastepost_backup_list_free(list);
  int fd;
  cr_assert_eq(fastepost_backup_open(&fd, NULL, d, "backup_20260101_120000.sql"), FASTEPOST_ENOTFOUND);
  fastepost_backup_dir_free(d);
  /* The library takes the directory as an argument: no default, least of all the working
   * directory (/ under systemd) or /tmp, and no FASTEPOST_BACKUP_DIR (the CLI's). */
  setenv("FASTEPOST_BACKUP_DIR", dirpath, 1);
  cr_assert_eq(fastepost_backup_dir_new(&d, NULL), FASTEPOST_EINVALID);
  cr_assert_null(d);
  cr_assert_eq(fastepost_backup_dir_new(&d, ""), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_backup_dir_new(&d, "tmp/backups"), FASTEPOST_EINVALID);
  unsetenv("FASTEPOST_BACKUP_DIR");
}

static char out[65536];

#include <stdarg.h>
__attribute__((format(printf, 1, 2))) static int cli(const char *fmt, ...) {
  char args[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  return fptest_cli(out, sizeof out, args);
}

Test(backup, cli_create_list_path_verify_restore_prune) {
  fptest_exec("CREATE TABLE a (x int); INSERT INTO a SELECT generate_series(1, 1000)");
  const char *db = fptest_current.conninfo;
  cr_assert_eq(cli("--db '%s' backup create --dir '%s' --json", db, dirpath), 0, "%s", out);
  cr_assert(strstr(out, "\"status\":\"ok\"") && strstr(out, "\"name\":\"backup_"), "%s", out);
  cr_assert_eq(cli("--db '%s' backup create --dir '%s' --format custom --table a", db, dirpath), 0,
               "%s", out);
  cr_assert(strstr(out, "Backup created: backup_") && strstr(out, ".dump"), "%s", out);
  cr_assert_eq(cli("--db '%s' backup create --dir '%s' --format zip", db, dirpath), 2, "%s", out);

  fastepost_backup_list *list = NULL;
  size_t n = 0;
  cr_assert_eq(list_into(&list, &n, bdir, 0), FASTEPOST_OK);
  cr_assert_eq(n, 2);
  cr_assert_eq(FORMAT(list, 0), FASTEPOST_BACKUP_FORMAT_CUSTOM, "the later one is listed first");
  cr_assert_eq(KIND(list, 0), FASTEPOST_BACKUP_KIND_TABLE);
  cr_assert_str_eq(TABLE(list, 0), "a");
  cr_assert_eq(KIND(list, 1), FASTEPOST_BACKUP_KIND_FULL);
  cr_assert_str_eq(TABLE(list, 1), "");
  char newest[FASTEPOST_BACKUP_NAME_MAX], plain[FASTEPOST_BACKUP_NAME_MAX];
  snprintf(newest, sizeof newest, "%s", NAME(list, 0));
  snprintf(plain, sizeof plain, "%s", NAME(list, 1));
  fastepost_backup_list_free(list);
  list = NULL;

  cr_assert_eq(cli("backup list --dir '%s'", dirpath), 0, "%s", out);
  cr_assert(strstr(out, "NAME") && strstr(out, newest) && strstr(out, " UTC"), "%s", out);
  cr_assert(strstr(out, " table ") && strstr(out, " full "), "kinds listed: %s", out);
  cr_assert(strstr(out, newest) < strstr(out, plain), "newest first: %s", out);
  cr_assert_eq(cli("backup list --dir '%s' --limit 1 --json", dirpath), 0, "%s", out);
  cr_assert(strstr(out, newest) && !strstr(out, plain), "%s", out);
  /* One backup in --json: the keys and types of Python's to_dict() and Ruby's to_h. */
  cr_assert_eq(cli("backup list --dir '%s' --json", dirpath), 0, "%s", out);
  char want[400];
  snprintf(want, sizeof want, "{\"name\":\"%s\",\"size_bytes\":", plain);
  const char *full = strstr(out, want);
  cr_assert(full, "%s", out);
  long long created = 0, size = -1;
  char iso[40] = "";
  cr_assert_eq(sscanf(full + strlen(want), "%lld,\"created_at\":\"%39[^\"]\",\"created_at_us\":%lld,",
                      &size, iso, &created),
               3, "%s", full);
  cr_assert(strlen(iso) == 27 && strcmp(iso + 19, ".000000Z") == 0, "%s", iso);
  cr_assert_gt(size, 0);
  cr_assert_eq(created % 1000000, 0, "%s", full);
  cr_assert_lt(llabs(created / 1000000 - (long long)time(NULL)), 600, "%s", full);
  cr_assert(strstr(full, "\"format\":\"plain\",\"kind\":\"full\",\"table\":null}"), "%s", full);
  cr_assert_eq(cli("backup list --dir '%s' --limit -1", dirpath), 2, "%s", out);

  cr_assert_eq(cli("backup path %s --dir '%s'", newest, dirpath), 0, "%s", out);
  cr_assert(strstr(out, path_in(newest)), "%s", out);
  cr_assert_eq(cli("backup path ../../etc/passwd --dir '%s'", dirpath), 1, "%s", out);
  cr_assert(strstr(out, "not a backup name"), "%s", out);
  cr_assert_eq(cli("backup path --dir '%s'", dirpath), 2, "%s", out);

  cr_assert_eq(cli("--db '%s' backup verify %s --dir '%s' --deep", db, plain, dirpath), 0, "%s", out);
  cr_assert(strstr(out, "OK"), "%s", out);
  cr_assert_eq(cli("--db '%s' backup verify %s --dir '%s'", db, newest, dirpath), 0, "%s", out);
  /* Rows only: no empty scratch database can take them. */
  cr_assert_eq(cli("--db '%s' backup verify %s --dir '%s' --deep", db, newest, dirpath), 1, "%s", out);
  cr_assert(strstr(out, "table backup"), "%s", out);

  cr_assert_eq(cli("--db '%s' backup restore %s --dir '%s'", db, plain, dirpath), 2, "%s", out);
  cr_assert_eq(cli("--db '%s' backup restore %s --dir '%s' --target '%s'", db, plain, dirpath, db),
               1, "%s", out);
  fptest_db target;
  fptest_db_create(&target, "fptr");
  cr_assert_eq(cli("--db '%s' backup restore %s --dir '%s' --target '%s' --json", db, plain, dirpath,
                   target.conninfo),
               0, "%s", out);
  cr_assert_str_eq(scalar_on(target.check, "SELECT sum(x) FROM a"), "500500");
  fptest_db_drop(&target);

  cr_assert_eq(cli("--db '%s' stats db --exact --dir '%s'", db, dirpath), 0, "%s", out);
  cr_assert(strstr(out, "backups:   2, newest") && strstr(out, "1000"), "%s", out);
  /* The newest backup is the table one, but "the newest backup" is the full one. */
  cr_assert(strstr(out, plain) && !strstr(out, newest), "%s", out);
  cr_assert_eq(cli("--db '%s' stats db --json --dir '%s'", db, dirpath), 0, "%s", out);
  cr_assert(strstr(out, "\"backup_count\":2") && strstr(out, "\"name\":\"a\""), "%s", out);

  cr_assert_eq(cli("backup prune --dir '%s'", dirpath), 2, "%s", out);
  /* --keep 0 would delete everything without a word: refused; --all says it. */
  cr_assert_eq(cli("backup prune --dir '%s' --keep 0", dirpath), 2, "%s", out);
  cr_assert(strstr(out, "at least 1") && strstr(out, "--all"), "%s", out);
  cr_assert_eq(access(path_in(plain), F_OK), 0);
  /* The table backup is no full one: --keep 1 keeps the newest of each kind. */
  cr_assert_eq(cli("backup prune --dir '%s' --keep 1 --json", dirpath), 0, "%s", out);
  cr_assert(!strstr(out, plain) && !strstr(out, newest), "%s", out);
  cr_assert_eq(access(path_in(plain), F_OK), 0);
  cr_assert_eq(cli("backup prune --dir '%s' --all --keep 1", dirpath), 2, "%s", out);
  cr_assert_eq(cli("backup prune --dir '%s' --all --json", dirpath), 0, "%s", out);
  cr_assert(strstr(out, plain) && strstr(out, newest), "%s", out);
  cr_assert_eq(access(path_in(plain), F_OK), -1);
  cr_assert_eq(access(path_in(newest), F_OK), -1);
}

Test(backup, cli_help_and_usage) {
  const char *cmds[] = {"backup create", "backup list", "backup path", "backup verify",
                        "backup prune", "backup restore", "stats db"};
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    cr_assert_eq(cli("%s --help", cmds[i]), 0, "%s", out);
    char want[64];
    snprintf(want, sizeof want, "Usage: fastepost %s", cmds[i]);
    cr_assert(strstr(out, want), "%s", out);
  }
  cr_assert_eq(cli("backup --help"), 0, "%s", out);
  cr_assert(strstr(out, "backup restore") && strstr(out, "backup prune"), "%s", out);
  cr_assert_eq(cli("backup restore x"), 2, "%s", out);
  cr_assert(strstr(out, "--target"), "%s", out);
  cr_assert_eq(cli("backup prune --keep x"), 2, "%s", out);
  cr_assert_eq(cli("backup list --dir '%s' extra", dirpath), 2, "%s", out);
  /* Errors as JSON too. */
  cr_assert_eq(cli("backup path ../x --dir '%s' --json", dirpath), 1, "%s", out);
  cr_assert(strstr(out, "\"code\":\"FASTEPOST_EINVALID\""), "%s", out);
}

/* ---- restore only what verifies ------------------------------------------------------------- */

/* Record the file's current SHA-256, as an attacker (or a broken copy job) could: then only the
 * content checks stand between the file and psql. */
static void rewrite_checksum(const char *name) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cd '%s' && umask 077 && sha256sum '%s' > '%s.sha256'", dirpath, name,
           name);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static long long public_tables(PGconn *pg) {
  return atoll(scalar_on(pg, "SELECT count(*) FROM pg_class WHERE relnamespace = "
                             "'public'::regnamespace AND relkind = 'r'"));
}

Test(backup, restore_only_what_verifies) {
  fptest_exec(dataset_sql);
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  size_t len = 0;
  char *orig = fptest_read_file(path_in(name), &len);
  cr_assert(strstr(orig, "-- PostgreSQL database dump complete"), "%s", orig);
  char marker[400];
  snprintf(marker, sizeof marker, "%s/planted-ran", dirpath);

  /* The damaged copies: [content, length, checksum rewritten, expected code, message part]. */
  char *planted = malloc(len + 200);
  const char *set = strstr(orig, "\nSET ");
  cr_assert_not_null(set);
  size_t at = (size_t)(set - orig) + 1;
  memcpy(planted, orig, at);
  int k = snprintf(planted + at, 200, "\\! touch '%s'\n", marker);
  memcpy(planted + at + (size_t)k, orig + at, len - at + 1);
  char *flipped = fastepost__strdup(orig);
  flipped[len / 2] ^= 0x01;
  const char *data_end = NULL;
  for (const char *p = strstr(orig, "\n\\.\n"); p; p = strstr(p + 1, "\n\\.\n"))
    data_end = p;
  cr_assert_not_null(data_end, "the dump has COPY data");
  struct {
    const char *what;
    const char *content;
    size_t len;
    bool resum;
    int code;
    const char *says;
  } cases[] = {
      {"half-truncated", orig, len / 2, false, FASTEPOST_EIO, "checksum mismatch"},
      {"half-truncated, checksum rewritten", orig, len / 2, true, FASTEPOST_EPARSE, "incomplete"},
      {"cut after the data, checksum rewritten", orig, (size_t)(data_end - orig) + 4, true,
       FASTEPOST_EPARSE, "dump complete"},
      {"one flipped bit", flipped, len, false, FASTEPOST_EIO, "checksum mismatch"},
      {"planted \\! line, checksum rewritten", planted, len + (size_t)k, true, FASTEPOST_EPARSE,
       "\\! touch"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *copy = fastepost__strndup(cases[i].content, cases[i].len);
    fptest_write_file(path_in(name), copy, 0600);
    free(copy);
    if (cases[i].resum)
      rewrite_checksum(name);
    cr_assert_eq(fastepost_backup_verify(bdir, NULL, name, 0), cases[i].code, "%s: %s",
                 cases[i].what, fastepost_error_last()->message);
    fptest_db target;
    fptest_db_create(&target, "fptr");
    cr_assert_eq(fastepost_backup_restore(bdir, fptest_conn(), name, target.conninfo, 0),
                 cases[i].code, "%s: %s", cases[i].what, fastepost_error_last()->message);
    const char *msg = fastepost_error_last()->message;
    cr_assert(strstr(msg, cases[i].says) && strstr(msg, "nothing was sent"), "%s: %s",
              cases[i].what, msg);
    cr_assert_eq(public_tables(target.check), 0, "%s: the target is unchanged", cases[i].what);
    fptest_db_drop(&target);
    cr_assert_eq(access(marker, F_OK), -1, "%s: the planted command ran", cases[i].what);
    /* Back to the good file for the next case. */
    fptest_write_file(path_in(name), orig, 0600);
    rewrite_checksum(name);
  }
  /* The original still restores. */
  fptest_db target;
  fptest_db_create(&target, "fptr");
  cr_assert_eq(fastepost_backup_restore(bdir, fptest_conn(), name, target.conninfo, 0),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  assert_same_tables(fptest_current.check, target.check);
  fptest_db_drop(&target);
  free(planted);
  free(flipped);
  free(orig);
  fastepost_free(name);
}

/* ---- trust -------------------------------------------------------------------------------- */

Test(backup, untrusted_directory_and_files_refused) {
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  fastepost_backup_list *list = NULL;
  size_t n = 0;
  /* A directory others may write to: anyone could plant a backup. */
  cr_assert_eq(chmod(dirpath, 0777), 0);
  cr_assert_eq(list_into(&list, &n, bdir, 0), FASTEPOST_EINVALID);
  cr_assert(strstr(fastepost_error_last()->message, "chmod go-w") &&
                strstr(fastepost_error_last()->message, dirpath),
            "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_backup_verify(bdir, NULL, name, 0), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_backup_create(NULL, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_EINVALID);
  fptest_db target;
  fptest_db_create(&target, "fptr");
  cr_assert_eq(fastepost_backup_restore(bdir, fptest_conn(), name, target.conninfo, 0),
               FASTEPOST_EINVALID);
  cr_assert_eq(cli("backup list --dir '%s'", dirpath), 1, "%s", out);
  cr_assert(strstr(out, "chmod go-w"), "%s", out);
  cr_assert_eq(chmod(dirpath, 02770), 0);
  cr_assert_eq(list_into(&list, &n, bdir, 0), FASTEPOST_EINVALID, "group-writable");
  cr_assert_eq(chmod(dirpath, 0700), 0);
  cr_assert_eq(list_into(&list, &n, bdir, 0), FASTEPOST_OK);
  fastepost_backup_list_free(list);
  list = NULL;
  /* A backup others may read or change. */
  cr_assert_eq(chmod(path_in(name), 0644), 0);
  cr_assert_eq(fastepost_backup_verify(bdir, NULL, name, 0), FASTEPOST_EINVALID);
  cr_assert(strstr(fastepost_error_last()->message, "chmod 600"), "%s",
            fastepost_error_last()->message);
  int fd = -1;
  cr_assert_eq(fastepost_backup_open(&fd, NULL, bdir, name), FASTEPOST_EINVALID);
  cr_assert_eq(chmod(path_in(name), 0600), 0);
  cr_assert_eq(fastepost_backup_verify(bdir, NULL, name, 0), FASTEPOST_OK);
  /* Someone else's file or directory (needs root to set up). */
  if (geteuid() == 0) {
    cr_assert_eq(chown(path_in(name), 65534, 65534), 0);
    cr_assert_eq(fastepost_backup_verify(bdir, NULL, name, 0), FASTEPOST_EINVALID);
    cr_assert(strstr(fastepost_error_last()->message, "chown 0") &&
                  strstr(fastepost_error_last()->message, "uid 65534"),
              "%s", fastepost_error_last()->message);
    cr_assert_eq(fastepost_backup_restore(bdir, fptest_conn(), name, target.conninfo, 0),
                 FASTEPOST_EINVALID);
    cr_assert_eq(chown(path_in(name), 0, 0), 0);
    cr_assert_eq(chown(dirpath, 65534, 65534), 0);
    cr_assert_eq(list_into(&list, &n, bdir, 0), FASTEPOST_EINVALID);
    cr_assert(strstr(fastepost_error_last()->message, "chown"), "%s",
              fastepost_error_last()->message);
    cr_assert_eq(chown(dirpath, 0, 0), 0);
  }
  cr_assert_eq(public_tables(target.check), 0, "nothing was restored");
  fptest_db_drop(&target);
  fastepost_free(name);
}

/* Without --dir the CLI uses a per-user state directory, never /tmp or the working directory. */
Test(backup, cli_default_directory) {
  char state[400], home[400], want[500];
  snprintf(state, sizeof state, "%s/state", dirpath);
  snprintf(home, sizeof home, "%s/home", dirpath);
  unsetenv("FASTEPOST_BACKUP_DIR");
  setenv("XDG_STATE_HOME", state, 1);
  setenv("HOME", home, 1);
  cr_assert_eq(cli("--db '%s' backup create", fptest_current.conninfo), 0, "%s", out);
  snprintf(want, sizeof want, "in %s/fastepost/backups", state);
  cr_assert(strstr(out, want), "%s", out);
  unsetenv("XDG_STATE_HOME");
  cr_assert_eq(cli("backup list --json"), 0, "%s", out);
  snprintf(want, sizeof want, "\"dir\":\"%s/.local/state/fastepost/backups\"", home);
  cr_assert(strstr(out, want), "%s", out);
  unsetenv("HOME");
  cr_assert_eq(cli("backup list"), 1, "%s", out);
  cr_assert(strstr(out, "--dir") && strstr(out, "XDG_STATE_HOME"), "%s", out);
}

/* The library reads no PATH; the CLI passes its PATH on as the search path: a pg_dump found
 * first in PATH is the one it runs, and the same handle made by the library alone does not. */
Test(backup, cli_passes_path_as_the_search_path) {
  char bin[400], path[4096];
  snprintf(bin, sizeof bin, "%s/bin", dirpath);
  cr_assert_eq(mkdir(bin, 0700), 0);
  const char *fake = fake_tool("bin/pg_dump", "99.0",
                               "printf -- '-- from PATH\\n--\\n-- PostgreSQL database dump complete\\n--\\n'");
  cr_assert(strstr(fake, "/bin/pg_dump"));
  const char *old_path = getenv("PATH");
  char *saved = strdup(old_path ? old_path : "/usr/bin:/bin");
  snprintf(path, sizeof path, "%s:%s", bin, saved);
  setenv("PATH", path, 1);
  int code = cli("--db '%s' backup create --dir '%s/out' --json", fptest_current.conninfo, dirpath);
  setenv("PATH", saved, 1);
  free(saved);
  cr_assert_eq(code, 0, "%s", out);
  char name[FASTEPOST_BACKUP_NAME_MAX] = "";
  const char *n = strstr(out, "\"name\":\"");
  cr_assert(n, "%s", out);
  sscanf(n + 8, "%100[^\"]", name);
  char file[700];
  snprintf(file, sizeof file, "%s/out/%s", dirpath, name);
  char *text = fptest_read_file(file, NULL);
  cr_assert(text && strstr(text, "-- from PATH"), "%s: %s", file, text ? text : "(none)");
  free(text);
  /* The library: the search path of the handle only (the real pg_dump by default). */
  setenv("PATH", path, 1);
  char *lib_name = NULL;
  int rc = fastepost_backup_create(&lib_name, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN,
                                   NULL);
  unsetenv("PATH");
  setenv("PATH", path + strlen(bin) + 1, 1);
  cr_assert_eq(rc, FASTEPOST_OK, "%s", fastepost_error_last()->message);
  text = fptest_read_file(path_in(lib_name), NULL);
  cr_assert(text && !strstr(text, "-- from PATH"), "the library searched PATH");
  free(text);
  fastepost_free(lib_name);
}

/* ---- children: secrets, deadlines, interrupts ------------------------------------------------ */

Test(backup, secrets_never_in_argv_of_any_child) {
  char conninfo[1400];
  snprintf(conninfo, sizeof conninfo, "%s user=fp_password password=secret sslpassword=ssl-secret",
           fptest_current.conninfo);
  fastepost_conn *c;
  cr_assert_eq(fastepost_conn_open(&c, conninfo), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  /* Each fake records its command line, its secrets' channels and its timeouts. */
  char body[8192];
  /* D=<the test directory>, T=<the tool> are set in front of it. */
  const char *record =
      "tr '\\0' '\\n' < /proc/$$/cmdline > \"$D/$T.argv\"\n"
      "echo \"pw=$PGPASSWORD svc=$PGSERVICE ct=$PGCONNECT_TIMEOUT opts=$PGOPTIONS\" > \"$D/$T.env\"\n"
      "cat \"$PGSERVICEFILE\" > \"$D/$T.svc\"; echo \"$PGSERVICEFILE\" > \"$D/$T.svcpath\"\n"
      "ls -ld \"$(dirname \"$PGSERVICEFILE\")\" \"$PGSERVICEFILE\" | cut -c1-10 > \"$D/$T.modes\"\n";
  char rec[4096];
  snprintf(rec, sizeof rec, "D='%s' T=dump\n%s", dirpath, record);
  snprintf(body, sizeof body, "%sprintf -- '--\\n-- PostgreSQL database dump complete\\n--\\n'", rec);
  const char *dump = fake_tool("fake_pg_dump", "99.0", body);
  cr_assert_eq(fastepost_backup_dir_set_tool(bdir, FASTEPOST_BACKUP_TOOL_PG_DUMP, dump), FASTEPOST_OK);
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, c, FASTEPOST_BACKUP_FORMAT_PLAIN, NULL), FASTEPOST_OK,
               "%s", fastepost_error_last()->message);
  snprintf(rec, sizeof rec, "D='%s' T=psql\n%s", dirpath, record);
  snprintf(body, sizeof body, "%scat > /dev/null", rec);
  const char *psql = fake_tool("fake_psql", "99.0", body);
  cr_assert_eq(fastepost_backup_dir_set_tool(bdir, FASTEPOST_BACKUP_TOOL_PSQL, psql), FASTEPOST_OK);
  fptest_db target;
  fptest_db_create(&target, "fptr");
  char tconn[1400];
  snprintf(tconn, sizeof tconn, "%s user=fp_password password=secret sslpassword=ssl-secret",
           target.conninfo);
  cr_assert_eq(fastepost_backup_restore(bdir, c, name, tconn, 0), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  const char *tools[] = {"dump", "psql"};
  for (int i = 0; i < 2; i++) {
    char file[400];
    snprintf(file, sizeof file, "%s/%s.argv", dirpath, tools[i]);
    char *argv = fptest_read_file(file, NULL);
    cr_assert(strstr(argv, "--dbname=") && strstr(argv, "fp_password"), "%s", argv);
    cr_assert(!strstr(argv, "secret") && !strstr(argv, "sslpassword"), "%s: a secret in argv: %s",
              tools[i], argv);
    if (i == 0)
      cr_assert(strstr(argv, "--lock-wait-timeout=60000"), "%s", argv);
    free(argv);
    snprintf(file, sizeof file, "%s/%s.env", dirpath, tools[i]);
    char *env = fptest_read_file(file, NULL);
    cr_assert(strstr(env, "pw=secret svc=fastepost ct=10"), "%s", env);
    /* The restore target is the server itself: the session timeouts go as startup options. */
    if (i == 1)
      cr_assert(strstr(env, "opts=-c lock_timeout=60000 -c statement_timeout=3600000"), "%s", env);
    free(env);
    snprintf(file, sizeof file, "%s/%s.svc", dirpath, tools[i]);
    char *svc = fptest_read_file(file, NULL);
    cr_assert_str_eq(svc, "[fastepost]\nsslpassword=ssl-secret\n");
    free(svc);
    snprintf(file, sizeof file, "%s/%s.modes", dirpath, tools[i]);
    char *modes = fptest_read_file(file, NULL);
    cr_assert_str_eq(modes, "drwx------\n-rw-------\n");
    free(modes);
    snprintf(file, sizeof file, "%s/%s.svcpath", dirpath, tools[i]);
    char *svcpath = fptest_read_file(file, NULL);
    svcpath[strcspn(svcpath, "\n")] = '\0';
    cr_assert_eq(access(svcpath, F_OK), -1, "the service file is removed after the run: %s", svcpath);
    free(svcpath);
  }
  fptest_db_drop(&target);
  fastepost_free(name);
  fastepost_conn_free(c);
}

/* The number of entries in the backup directory whose names start with prefix. */
static int entries_starting(const char *prefix) {
  int n = 0;
  for (const char *p = dir_entries(); (p = strstr(p, prefix)) != NULL; p++)
    n++;
  return n;
}

static pid_t pid_in(const char *file) {
  char *text = NULL;
  for (int i = 0; i < 500 && !text; i++) {
    if (access(path_in(file), F_OK) == 0)
      text = fptest_read_file(path_in(file), NULL);
    if (!text || !*text) {
      free(text);
      text = NULL;
      nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
  }
  cr_assert_not_null(text, "no %s", file);
  pid_t pid = (pid_t)atol(text);
  free(text);
  return pid;
}

/* Running, not a zombie (an orphan's zombie may wait for a PID 1 that never reaps it). */
static bool running(pid_t pid) {
  if (kill(pid, 0) != 0)
    return false;
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  char *stat = fptest_read_file(path, NULL);
  const char *rp = stat ? strrchr(stat, ')') : NULL;
  bool zombie = rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
  free(stat);
  return !zombie;
}

static void assert_gone(pid_t pid) {
  for (int i = 0; i < 300 && running(pid); i++)
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  cr_assert_not(running(pid), "child %ld still runs", (long)pid);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(backup, child_deadline) {
  char body[600];
  snprintf(body, sizeof body, "echo $$ > '%s/slow.pid'\nhead -c 100000 /dev/zero\nexec sleep 60",
           dirpath);
  const char *slow = fake_tool("slow_pg_dump", "99.0", body);
  cr_assert_eq(fastepost_backup_dir_set_timeouts(bdir, 999999, 60000000, 10000000), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_backup_dir_set_timeouts(bdir, 1000000, 60000000, 10000000), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_dir_set_tool(bdir, FASTEPOST_BACKUP_TOOL_PG_DUMP, slow), FASTEPOST_OK);
  int64_t t0 = now_ms();
  cr_assert_eq(fastepost_backup_create(NULL, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_ETIMEOUT, "%s", fastepost_error_last()->message);
  cr_assert_lt(now_ms() - t0, 5000);
  cr_assert(strstr(fastepost_error_last()->message, "1 s"), "%s", fastepost_error_last()->message);
  assert_gone(pid_in("slow.pid"));
  cr_assert_eq(entries_starting(".partial"), 0, "%s", dir_entries());
  cr_assert_eq(entries_starting("backup_"), 0, "%s", dir_entries());
  /* A restore that hangs: stopped, nothing committed. */
  cr_assert_eq(fastepost_backup_dir_set_tool(bdir, FASTEPOST_BACKUP_TOOL_PG_DUMP, NULL), FASTEPOST_OK);
  fptest_exec("CREATE TABLE a (x int); INSERT INTO a VALUES (1)");
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  snprintf(body, sizeof body, "echo $$ > '%s/psql.pid'\nexec sleep 60", dirpath);
  const char *psql = fake_tool("slow_psql", "99.0", body);
  cr_assert_eq(fastepost_backup_dir_set_tool(bdir, FASTEPOST_BACKUP_TOOL_PSQL, psql), FASTEPOST_OK);
  fptest_db target;
  fptest_db_create(&target, "fptr");
  cr_assert_eq(fastepost_backup_restore(bdir, fptest_conn(), name, target.conninfo, 0),
               FASTEPOST_ETIMEOUT, "%s", fastepost_error_last()->message);
  assert_gone(pid_in("psql.pid"));
  cr_assert_eq(public_tables(target.check), 0);
  fptest_db_drop(&target);
  fastepost_free(name);
}

/* Run the CLI with `args` in the background, wait for the fake tool to write `pidfile`, send
 * `sig` to the CLI; returns its exit code (128 + n when killed by signal n). */
static int cli_interrupted(const char *args, const char *pidfile, int sig, pid_t *child) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "exec '%s' %s > '%s/cli.out' 2>&1", getenv("FASTEPOST_CLI"), args,
           dirpath);
  unlink(path_in(pidfile));
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  *child = pid_in(pidfile);
  cr_assert(running(*child));
  kill(pid, sig);
  int st = 0;
  waitpid(pid, &st, 0);
  char *text = fptest_read_file(path_in("cli.out"), NULL);
  snprintf(out, sizeof out, "%s", text ? text : "");
  free(text);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Test(backup, cli_interrupts_clean_up) {
  const char *db = fptest_current.conninfo;
  char body[600];
  snprintf(body, sizeof body,
           "echo $$ > '%s/dump.pid'\nhead -c 300000 /dev/zero | tr '\\0' x\nexec sleep 60", dirpath);
  setenv("FASTEPOST_PG_DUMP", fake_tool("slow_pg_dump", "99.0", body), 1);
  char args[4096];
  snprintf(args, sizeof args, "--db '%s' backup create --dir '%s'", db, dirpath);
  pid_t child;
  /* Let the partial file grow before the signal. */
  int code = cli_interrupted(args, "dump.pid", SIGINT, &child);
  cr_assert_eq(code, 130, "%s", out);
  cr_assert(strstr(out, "interrupted by SIGINT"), "%s", out);
  assert_gone(child);
  cr_assert_eq(entries_starting(".partial"), 0, "%s", dir_entries());
  cr_assert_eq(entries_starting("backup_"), 0, "%s", dir_entries());
  cr_assert_eq(cli_interrupted(args, "dump.pid", SIGTERM, &child), 143, "%s", out);
  assert_gone(child);
  cr_assert_eq(entries_starting(".partial"), 0, "%s", dir_entries());
  /* fastepost itself killed: its pg_dump dies with it, no orphan finishes the file. */
  cr_assert_eq(cli_interrupted(args, "dump.pid", SIGKILL, &child), 128 + SIGKILL, "%s", out);
  assert_gone(child);
  cr_assert_eq(entries_starting("backup_"), 0, "%s", dir_entries());
  unsetenv("FASTEPOST_PG_DUMP");

  /* Restore and verify. */
  fptest_exec("CREATE TABLE a (x int); INSERT INTO a VALUES (1)");
  char *plain = NULL, *custom = NULL;
  cr_assert_eq(fastepost_backup_create(&plain, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_backup_create(&custom, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_CUSTOM, NULL),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  snprintf(body, sizeof body, "echo $$ > '%s/psql.pid'\nexec sleep 60", dirpath);
  setenv("FASTEPOST_PSQL", fake_tool("slow_psql", "99.0", body), 1);
  fptest_db target;
  fptest_db_create(&target, "fptr");
  snprintf(args, sizeof args, "--db '%s' backup restore %s --dir '%s' --target '%s'", db, plain,
           dirpath, target.conninfo);
  cr_assert_eq(cli_interrupted(args, "psql.pid", SIGTERM, &child), 143, "%s", out);
  assert_gone(child);
  cr_assert_eq(public_tables(target.check), 0);
  fptest_db_drop(&target);
  unsetenv("FASTEPOST_PSQL");
  snprintf(body, sizeof body, "echo $$ > '%s/restore.pid'\nexec sleep 60", dirpath);
  setenv("FASTEPOST_PG_RESTORE", fake_tool("slow_pg_restore", "99.0", body), 1);
  snprintf(args, sizeof args, "backup verify %s --dir '%s'", custom, dirpath);
  cr_assert_eq(cli_interrupted(args, "restore.pid", SIGINT, &child), 130, "%s", out);
  assert_gone(child);
  unsetenv("FASTEPOST_PG_RESTORE");
  fastepost_free(plain);
  fastepost_free(custom);
}

/* The name of the one backup in the directory (asserts there is exactly one). */
static void only_backup_name(char name[FASTEPOST_BACKUP_NAME_MAX]) {
  fastepost_backup_list *list = NULL;
  size_t n = 0;
  cr_assert_eq(list_into(&list, &n, bdir, 0), FASTEPOST_OK);
  cr_assert_eq(n, 1);
  snprintf(name, FASTEPOST_BACKUP_NAME_MAX, "%s", NAME(list, 0));
  fastepost_backup_list_free(list);
  list = NULL;
}

/* The application's schema for the table-backup test: a table whose trigger keeps a count, as
 * the library's own schema does. pg_dump's output runs with an empty search_path, so a trigger
 * function that fires during a data-only restore must not depend on it (SET search_path). */
static const char *const counted_schema_sql =
    "CREATE TABLE customers (id int PRIMARY KEY, name text);"
    "CREATE TABLE row_counts (counter text PRIMARY KEY, n bigint NOT NULL);"
    "INSERT INTO row_counts VALUES ('customers', 0);"
    "CREATE FUNCTION count_customers() RETURNS trigger LANGUAGE plpgsql SET search_path = public AS"
    " $$ BEGIN UPDATE row_counts SET n = n + 1 WHERE counter = 'customers'; RETURN NULL; END $$;"
    "CREATE TRIGGER count_customers AFTER INSERT ON customers FOR EACH ROW"
    " EXECUTE FUNCTION count_customers();";

/* docs/operations.md, step by step: a table backup restores into a database that has the schema
 * (there its triggers find their functions), and is refused by an empty one without harm. */
Test(backup, table_backup_restores_into_a_database_with_the_schema) {
  const char *db = fptest_current.conninfo;
  fptest_exec(counted_schema_sql);
  fptest_exec("INSERT INTO customers VALUES (1, 'Grüße'), (2, 'b'), (3, NULL)");
  cr_assert_eq(cli("--db '%s' backup create --table customers --dir '%s' --json", db, dirpath), 0,
               "%s", out);
  cr_assert(strstr(out, "_table-customers.sql"), "%s", out);
  cr_assert_eq(cli("backup list --dir '%s' --json", dirpath), 0, "%s", out);
  cr_assert(strstr(out, "\"kind\":\"table\",\"table\":\"customers\""), "%s", out);
  char name[FASTEPOST_BACKUP_NAME_MAX];
  only_backup_name(name);
  /* An empty database: refused (no such table), nothing left behind. */
  fptest_db empty;
  fptest_db_create(&empty, "fptr");
  cr_assert_eq(cli("--db '%s' backup restore %s --dir '%s' --target '%s'", db, name, dirpath,
                   empty.conninfo),
               1, "%s", out);
  cr_assert(strstr(out, "customers") && strstr(out, "nothing was changed"), "%s", out);
  cr_assert_eq(public_tables(empty.check), 0);
  fptest_db_drop(&empty);
  /* A scratch database with the schema: the rows arrive, its triggers run. */
  fptest_db scratch;
  fptest_db_create(&scratch, "fptr");
  PQclear(PQexec(scratch.check, counted_schema_sql));
  cr_assert_str_eq(scalar_on(scratch.check, "SELECT count(*) FROM row_counts"), "1");
  cr_assert_eq(cli("--db '%s' backup restore %s --dir '%s' --target '%s'", db, name, dirpath,
                   scratch.conninfo),
               0, "%s", out);
  cr_assert_str_eq(scalar_on(scratch.check, "SELECT string_agg(id || ':' || coalesce(name, '-'), ',' "
                                            "ORDER BY id) FROM customers"),
                   "1:Grüße,2:b,3:-");
  cr_assert_str_eq(scalar_on(scratch.check, "SELECT n FROM row_counts"), "3", "its trigger ran");
  fptest_db_drop(&scratch);
}

/* The same with the library's own schema: its counter triggers fire during the data-only
 * restore, which runs with an empty search_path (migration 5 pins theirs). */
Test(backup, table_backup_restores_under_the_library_schema) {
  const char *db = fptest_current.conninfo;
  cr_assert_eq(fastepost_schema_install(NULL, fptest_conn()), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  fptest_exec("INSERT INTO customers (name, email, created_at, updated_at) VALUES "
              "('A', 'a@example.com', now(), now()), ('B', NULL, now(), now())");
  cr_assert_eq(cli("--db '%s' backup create --table customers --dir '%s' --json", db, dirpath), 0,
               "%s", out);
  char name[FASTEPOST_BACKUP_NAME_MAX];
  only_backup_name(name);
  fptest_db scratch;
  fptest_db_create(&scratch, "fptr");
  fastepost_conn *sc = NULL;
  cr_assert_eq(fastepost_conn_open(&sc, scratch.conninfo), FASTEPOST_OK);
  cr_assert_eq(fastepost_schema_install(NULL, sc), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  fastepost_conn_free(sc);
  cr_assert_eq(cli("--db '%s' backup restore %s --dir '%s' --target '%s'", db, name, dirpath,
                   scratch.conninfo),
               0, "%s", out);
  cr_assert_str_eq(scalar_on(scratch.check, "SELECT count(*) FROM customers"), "2");
  cr_assert_str_eq(scalar_on(scratch.check, "SELECT sum(n) FROM fastepost_row_counts "
                                            "WHERE counter = 'customers'"),
                   "2", "the counter triggers ran");
  fptest_db_drop(&scratch);
}

/* A host that ignores SIGCHLD gets the real outcome of every child. */
Test(backup, sigchld_ignored_by_the_host) {
  signal(SIGCHLD, SIG_IGN);
  fptest_exec("CREATE TABLE a (x int); INSERT INTO a VALUES (1)");
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_CUSTOM, NULL),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_backup_verify(bdir, fptest_conn(), name, 1), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  const char *failing = fake_tool("failing_pg_dump", "99.0", "echo 'pg_dump: boom' >&2; exit 3");
  cr_assert_eq(fastepost_backup_dir_set_tool(bdir, FASTEPOST_BACKUP_TOOL_PG_DUMP, failing), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_create(NULL, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL),
               FASTEPOST_EEXTERNAL);
  cr_assert(strstr(fastepost_error_last()->message, "status 3") &&
                strstr(fastepost_error_last()->message, "boom"),
            "%s", fastepost_error_last()->message);
  fastepost_free(name);
}

/* --dump-db: pg_dump reads from another server than the command's own connection (behind a
 * transaction pooler, the server itself or a replica); FASTEPOST_DUMP_DATABASE_URL is its
 * default. The dump holds the other database's tables, not the --db one's. */
Test(backup, cli_dump_db_reads_from_the_named_server) {
  fptest_exec("CREATE TABLE only_in_main (x int)");
  fptest_db other;
  fptest_db_create(&other, "fpdd");
  PGresult *r = PQexec(other.check, "CREATE TABLE only_in_dump_source (y int); INSERT INTO only_in_dump_source VALUES (42)");
  cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQerrorMessage(other.check));
  PQclear(r);
  const char *db = fptest_current.conninfo;
  cr_assert_eq(cli("--db '%s' backup create --dir '%s' --dump-db '%s' --json", db, dirpath, other.conninfo), 0,
               "%s", out);
  char name[FASTEPOST_BACKUP_NAME_MAX] = "";
  const char *n = strstr(out, "\"name\":\"");
  cr_assert(n, "%s", out);
  cr_assert_eq(sscanf(n + 8, "%127[^\"]", name), 1);
  size_t len = 0;
  char *dump = fptest_read_file(path_in(name), &len);
  cr_assert(dump && strstr(dump, "only_in_dump_source") && !strstr(dump, "only_in_main"), "dumped the wrong database");
  free(dump);
  /* The variable is the default; an unreachable dump server is a connection error (exit 1),
   * not a silent dump of the --db database. */
  setenv("FASTEPOST_DUMP_DATABASE_URL", "host=127.0.0.1 port=1 connect_timeout=2", 1);
  cr_assert_eq(cli("--db '%s' backup create --dir '%s'", db, dirpath), 1, "%s", out);
  cr_assert(strstr(out, "dump-db"), "%s", out);
  unsetenv("FASTEPOST_DUMP_DATABASE_URL");
  fptest_db_drop(&other);
}
