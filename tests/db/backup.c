/* Backups: create, list, path/open, verify, prune, restore; pg_dump found, failing, killed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
  char script[4096];
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

Test(backup, round_trip_plain) { round_trip(FASTEPOST_BACKUP_PLAIN, ".sql"); }

Test(backup, round_trip_custom) { round_trip(FASTEPOST_BACKUP_CUSTOM, ".dump"); }

Test(backup, files_0600_in_new_0700_dir_with_checksum) {
  char nested[512];
  snprintf(nested, sizeof nested, "%s/a/b", dirpath);
  fastepost_backup_dir *d;
  cr_assert_eq(fastepost_backup_dir_new(&d, nested), FASTEPOST_OK);
  char *name = NULL;
  mode_t old = umask(0);
  int rc = fastepost_backup_create(&name, d, fptest_conn(), FASTEPOST_BACKUP_PLAIN, NULL);
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
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_CUSTOM, NULL),
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
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_PLAIN, NULL),
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
      cr_assert_eq(fastepost_backup_create(&n2, bdir, fptest_conn(), FASTEPOST_BACKUP_CUSTOM, NULL),
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
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_PLAIN,
                                       "\"Other Table\""),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert(strstr(name, "_table-Other_Table.sql"), "a table backup by its name: %s", name);
  char *text = fptest_read_file(path_in(name), NULL);
  cr_assert(strstr(text, "\"Other Table\"") && !strstr(text, "keep_me"), "%s", text);
  cr_assert_null(strstr(text, "CREATE TABLE"), "rows only: %s", text);
  free(text);
  size_t entries_len = 2 * (strlen(name) + 1) + 7;
  fastepost_free(name);
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_PLAIN, "nope"),
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
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_PLAIN, NULL),
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
  fastepost_backup_info *list;
  size_t n;
  cr_assert_eq(fastepost_backup_list(&list, &n, bdir, 0), FASTEPOST_OK);
  cr_assert_eq(n, 4);
  fastepost_free(list);
  fastepost_free(name);
}

Test(backup, suffix_follows_the_highest_even_after_pruning) {
  /* Only `_2` is left of this second's backups (say, the base name and `_1` were pruned): a
   * new backup in the same second must come after it in the list, not take the base name. */
  occupy_seconds("_2");
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_PLAIN, NULL),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  int suffix = -1;
  cr_assert(fastepost__backup_parse_name(name, NULL, &suffix, NULL));
  cr_assert_eq(suffix, 3, "%s", name);
  fastepost_backup_info *list;
  size_t n;
  cr_assert_eq(fastepost_backup_list(&list, &n, bdir, 0), FASTEPOST_OK);
  /* The new one is listed before (newer than) the `_2` of its own second. */
  size_t mine = n, older = n;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(list[i].name, name) == 0)
      mine = i;
    else if (strncmp(list[i].name, name, 22) == 0)
      older = i;
  }
  cr_assert_lt(mine, older, "%s must be listed before the _2 of the same second", name);
  fastepost_free(list);
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
  cr_assert_eq(fastepost_backup_set_tool(bdir, FASTEPOST_TOOL_PG_DUMP, tool), FASTEPOST_OK);
  int64_t stop_at = 0;
  fastepost_backup_set_progress(bdir, on_progress, &stop_at);
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_PLAIN, NULL),
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
  cr_assert_eq(fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_PLAIN, NULL),
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
  cr_assert_eq(fastepost_backup_set_tool(d, FASTEPOST_TOOL_PG_DUMP, tool), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_create(NULL, d, fptest_conn(), FASTEPOST_BACKUP_PLAIN, NULL),
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
  cr_assert_eq(fastepost_backup_set_tool(bdir, FASTEPOST_TOOL_PG_DUMP, tool), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_create(NULL, bdir, fptest_conn(), FASTEPOST_BACKUP_PLAIN, NULL),
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
  cr_assert_eq(fastepost_backup_set_tool(bdir, FASTEPOST_TOOL_PG_DUMP, tool), FASTEPOST_OK);
  char *name = NULL;
  cr_assert_eq(fastepost_backup_create(&name, bdir, c, FASTEPOST_BACKUP_PLAIN, NULL), FASTEPOST_OK,
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
  cr_assert_eq(fastepost_backup_set_tool(bdir, FASTEPOST_TOOL_PSQL, psql), FASTEPOST_OK);
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
  cr_assert_eq(fastepost_backup_set_tool(bdir, FASTEPOST_TOOL_PG_DUMP, NULL), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_create(&name, bdir, c, FASTEPOST_BACKUP_PLAIN, NULL), FASTEPOST_OK,
               "%s", fastepost_error_last()->message);
  fastepost_free(name);
  fastepost_conn_free(c);
}

Test(backup, pg_dump_too_old_or_missing) {
  const char *old = fake_tool("pg_dump", "9.6.24", "exit 0");
  cr_assert_eq(fastepost_backup_set_tool(bdir, FASTEPOST_TOOL_PG_DUMP, old), FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_create(NULL, bdir, fptest_conn(), FASTEPOST_BACKUP_PLAIN, NULL),
               FASTEPOST_EVERSION);
  cr_assert(strstr(fastepost_error_last()->message, "too old") &&
                strstr(fastepost_error_last()->message, "(9)"),
            "%s", fastepost_error_last()->message);
  /* The same through $FASTEPOST_PG_DUMP: taken as given, not silently replaced. The environment
   * is read when a handle is created, never during a call: bdir, made before, does not see it. */
  cr_assert_eq(fastepost_backup_set_tool(bdir, FASTEPOST_TOOL_PG_DUMP, NULL), FASTEPOST_OK);
  setenv("FASTEPOST_PG_DUMP", old, 1);
  fastepost_backup_dir *later;
  cr_assert_eq(fastepost_backup_dir_new(&later, dirpath), FASTEPOST_OK);
  unsetenv("FASTEPOST_PG_DUMP");
  int rc = fastepost_backup_create(NULL, later, fptest_conn(), FASTEPOST_BACKUP_PLAIN, NULL);
  cr_assert_eq(rc, FASTEPOST_EVERSION, "%s", fastepost_error_last()->message);
  fastepost_backup_dir_free(later);
  setenv("FASTEPOST_PG_DUMP", old, 1);
  rc = fastepost_backup_create(NULL, bdir, fptest_conn(), FASTEPOST_BACKUP_PLAIN, NULL);
  unsetenv("FASTEPOST_PG_DUMP");
  cr_assert_eq(rc, FASTEPOST_OK, "made before the setenv: %s", fastepost_error_last()->message);
  /* Explicit path that does not exist. */
  cr_assert_eq(fastepost_backup_set_tool(bdir, FASTEPOST_TOOL_PG_DUMP, "/nonexistent/pg_dump"),
               FASTEPOST_OK);
  cr_assert_eq(fastepost_backup_create(NULL, bdir, fptest_conn(), FASTEPOST_BACKUP_PLAIN, NULL),
               FASTEPOST_ENOTFOUND);
  cr_assert(strstr(fastepost_error_last()->message, "/nonexistent/pg_dump"));
  /* The search: only an old one in PATH and none under the library root. */
  char *found = NULL;
  cr_assert_eq(fastepost__pgtool_find_in(&found, "pg_dump", NULL, NULL, dirpath, "/nonexistent", 15),
               FASTEPOST_EVERSION);
  cr_assert(strstr(fastepost_error_last()->message, "FASTEPOST_PG_DUMP"), "%s",
            fastepost_error_last()->message);
  cr_assert_eq(fastepost__pgtool_find_in(&found, "pg_dump", NULL, NULL, "/nonexistent:/also-not",
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
  cr_assert_eq(fastepost__pgtool_find_in(&found, "pg_dump", NULL, NULL, dirpath, lib, 15),
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
  int64_t size = 0;
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
  fastepost_backup_info *list;
  size_t n;
  cr_assert_eq(fastepost_backup_list(&list, &n, bdir, 0), FASTEPOST_OK);
  cr_assert_eq(n, 1);
  cr_assert_str_eq(list[0].name, good);
  fastepost_free(list);
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

  fastepost_backup_info *list;
  size_t n;
  cr_assert_eq(fastepost_backup_list(&list, &n, bdir, 0), FASTEPOST_OK);
  cr_assert_eq(n, 6);
  /* Newest first; within a second, the higher suffix is newer. */
  const int64_t sizes[] = {6, 5, 4, 3, 2, 1};
  for (size_t i = 0; i < n; i++) {
    cr_assert_eq(list[i].size, sizes[i], "%zu: %s", i, list[i].name);
    if (i)
      cr_assert_geq(list[i - 1].time, list[i].time);
  }
  cr_assert_eq(list[0].time, (int64_t)now);
  cr_assert_eq(list[4].format, FASTEPOST_BACKUP_CUSTOM);
  cr_assert_eq(list[5].format, FASTEPOST_BACKUP_PLAIN);
  fastepost_free(list);
  cr_assert_eq(fastepost_backup_list(&list, &n, bdir, 2), FASTEPOST_OK);
  cr_assert_eq(n, 2);
  cr_assert_eq(list[1].size, 5);
  fastepost_free(list);

  cr_assert_eq(fastepost_backup_prune(NULL, NULL, bdir, -1, -1), FASTEPOST_EINVALID);
  /* Keep 4 and older than 3 days: the 5th and 6th are beyond 4 and older than 3 days. */
  fastepost_backup_info *removed;
  size_t count;
  cr_assert_eq(fastepost_backup_prune(&removed, &count, bdir, 4, 3), FASTEPOST_OK);
  cr_assert_eq(count, 2);
  cr_assert_eq(removed[0].size, 2);
  cr_assert_eq(removed[1].size, 1);
  char sum[FASTEPOST_BACKUP_NAME_MAX + 8];
  snprintf(sum, sizeof sum, "%s.sha256", removed[1].name);
  cr_assert_eq(access(path_in(sum), F_OK), -1, "checksum file removed too");
  fastepost_free(removed);
  /* keep 1 with a 30-day window: nothing is old enough. */
  cr_assert_eq(fastepost_backup_prune(&removed, &count, bdir, 1, 30), FASTEPOST_OK);
  cr_assert_eq(count, 0);
  cr_assert_null(removed);
  /* Older than 1 day alone: the 2-day one. */
  cr_assert_eq(fastepost_backup_prune(&removed, &count, bdir, -1, 1), FASTEPOST_OK);
  cr_assert_eq(count, 1);
  cr_assert_eq(removed[0].size, 3);
  fastepost_free(removed);
  /* Keep 1 alone. */
  cr_assert_eq(fastepost_backup_prune(NULL, &count, bdir, 1, -1), FASTEPOST_OK);
  cr_assert_eq(count, 2);
  cr_assert_eq(fastepost_backup_list(&list, &n, bdir, 0), FASTEPOST_OK);
  cr_assert_eq(n, 1);
  cr_assert_eq(list[0].size, 6);
  fastepost_free(list);
  /* Leftovers of a crashed backup go once they are a day old; a running one's file stays. */
  fptest_write_file(path_in(".partial-backup-1-2-0"), "old", 0600);
  fptest_write_file(path_in(".partial-backup-3-4-0"), "new", 0600);
  struct timespec times[2] = {{time(NULL) - 2 * day, 0}, {time(NULL) - 2 * day, 0}};
  cr_assert_eq(utimensat(AT_FDCWD, path_in(".partial-backup-1-2-0"), times, 0), 0);
  cr_assert_eq(fastepost_backup_prune(NULL, &count, bdir, 10, -1), FASTEPOST_OK);
  cr_assert_eq(count, 0);
  cr_assert_eq(access(path_in(".partial-backup-1-2-0"), F_OK), -1);
  cr_assert_eq(access(path_in(".partial-backup-3-4-0"), F_OK), 0);
  /* Other files untouched. */
  cr_assert_eq(access(path_in("README"), F_OK), 0);
  cr_assert_eq(access(path_in("backup_notes.sql"), F_OK), 0);
}

Test(backup, missing_directory_has_no_backups) {
  fastepost_backup_dir *d;
  cr_assert_eq(fastepost_backup_dir_new(&d, "/nonexistent/backups"), FASTEPOST_OK);
  fastepost_backup_info *list = (fastepost_backup_info *)&list;
  size_t n = 99;
  cr_assert_eq(fastepost_backup_list(&list, &n, d, 10), FASTEPOST_OK);
  cr_assert_eq(n, 0);
  cr_assert_null(list);
  int fd;
  cr_assert_eq(fastepost_backup_open(&fd, NULL, d, "backup_20260101_120000.sql"), FASTEPOST_ENOTFOUND);
  fastepost_backup_dir_free(d);
  /* The library takes the directory as an argument: no default, least of all the working
   * directory (/ under systemd) or /tmp. */
  setenv("FASTEPOST_BACKUP_DIR", dirpath, 1);
  cr_assert_eq(fastepost_backup_dir_new(&d, NULL), FASTEPOST_EINVALID);
  cr_assert_null(d);
  cr_assert_eq(fastepost_backup_dir_new(&d, ""), FASTEPOST_EINVALID);
  /* The hosts' default: $FASTEPOST_BACKUP_DIR, $XDG_STATE_HOME/..., ~/.local/state/..., else
   * refused. */
  char *def = NULL;
  cr_assert_eq(fastepost_backup_default_dir(&def), FASTEPOST_OK);
  cr_assert_str_eq(def, dirpath);
  fastepost_free(def);
  unsetenv("FASTEPOST_BACKUP_DIR");
  setenv("XDG_STATE_HOME", "/srv/state", 1);
  setenv("HOME", "/home/someone", 1);
  cr_assert_eq(fastepost_backup_default_dir(&def), FASTEPOST_OK);
  cr_assert_str_eq(def, "/srv/state/fastepost/backups");
  fastepost_free(def);
  setenv("XDG_STATE_HOME", "relative/state", 1); /* invalid per XDG: ignored */
  cr_assert_eq(fastepost_backup_default_dir(&def), FASTEPOST_OK);
  cr_assert_str_eq(def, "/home/someone/.local/state/fastepost/backups");
  fastepost_free(def);
  unsetenv("XDG_STATE_HOME");
  unsetenv("HOME");
  cr_assert_eq(fastepost_backup_default_dir(&def), FASTEPOST_ENOTFOUND);
  cr_assert_null(def);
  cr_assert(strstr(fastepost_error_last()->message, "FASTEPOST_BACKUP_DIR"), "%s",
            fastepost_error_last()->message);
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

  fastepost_backup_info *list;
  size_t n;
  cr_assert_eq(fastepost_backup_list(&list, &n, bdir, 0), FASTEPOST_OK);
  cr_assert_eq(n, 2);
  cr_assert_eq(list[0].format, FASTEPOST_BACKUP_CUSTOM, "the later one is listed first");
  cr_assert_eq(list[0].kind, FASTEPOST_BACKUP_TABLE);
  cr_assert_str_eq(list[0].table, "a");
  cr_assert_eq(list[1].kind, FASTEPOST_BACKUP_FULL);
  cr_assert_str_eq(list[1].table, "");
  char newest[FASTEPOST_BACKUP_NAME_MAX], plain[FASTEPOST_BACKUP_NAME_MAX];
  snprintf(newest, sizeof newest, "%s", list[0].name);
  snprintf(plain, sizeof plain, "%s", list[1].name);
  fastepost_free(list);

  cr_assert_eq(cli("backup list --dir '%s'", dirpath), 0, "%s", out);
  cr_assert(strstr(out, "NAME") && strstr(out, newest) && strstr(out, " UTC"), "%s", out);
  cr_assert(strstr(out, " table ") && strstr(out, " full "), "kinds listed: %s", out);
  cr_assert(strstr(out, newest) < strstr(out, plain), "newest first: %s", out);
  cr_assert_eq(cli("backup list --dir '%s' --limit 1 --json", dirpath), 0, "%s", out);
  cr_assert(strstr(out, newest) && !strstr(out, plain), "%s", out);
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
  cr_assert(strstr(out, "\"count\":2") && strstr(out, "\"name\":\"a\""), "%s", out);

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
