/* SPDX-License-Identifier: MIT */
#include "testdb.h"

#include <stdarg.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

fptest_db fptest_current;

const char *fptest_dsn(void) {
  const char *dsn = getenv("FASTEPOST_TEST_DSN");
  if (!dsn || !*dsn)
    cr_assert_fail("FASTEPOST_TEST_DSN is not set: run the tests through scripts/test "
                   "or scripts/with-postgres");
  return dsn;
}

static PGconn *connect_to(const char *conninfo) {
  PGconn *pg = PQconnectdb(conninfo);
  cr_assert(PQstatus(pg) == CONNECTION_OK, "cannot connect to %s: %s", conninfo,
            PQerrorMessage(pg));
  PGresult *r = PQexec(pg, "SET client_min_messages = warning; SET TIME ZONE 'UTC'");
  PQclear(r);
  return pg;
}

static void admin_exec(const char *sql) {
  char conninfo[1024];
  snprintf(conninfo, sizeof conninfo, "%s dbname=postgres", fptest_dsn());
  PGconn *pg = connect_to(conninfo);
  PGresult *r = PQexec(pg, sql);
  cr_assert(PQresultStatus(r) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(pg));
  PQclear(r);
  PQfinish(pg);
}

void fptest_db_create(fptest_db *db, const char *prefix) {
  static unsigned counter;
  memset(db, 0, sizeof *db);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(db->name, sizeof db->name, "%s_%ld_%u_%ld", prefix, (long)getpid(), counter++,
           (long)(ts.tv_nsec % 1000000));
  char sql[256];
  snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'", db->name);
  admin_exec(sql);
  snprintf(db->conninfo, sizeof db->conninfo, "%s dbname=%s", fptest_dsn(), db->name);
  db->check = connect_to(db->conninfo);
}

void fptest_db_drop(fptest_db *db) {
  if (!db->name[0])
    return;
  fastepost_conn_free(db->conn);
  db->conn = NULL;
  if (db->check)
    PQfinish(db->check);
  db->check = NULL;
  char sql[256];
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", db->name);
  admin_exec(sql);
  db->name[0] = '\0';
}

void fptest_setup(void) { fptest_db_create(&fptest_current, "fpt"); }

void fptest_setup_schema(void) {
  fptest_setup();
  fastepost_conn *c = fptest_conn();
  int rc = fastepost_schema_install(NULL, c);
  cr_assert_eq(rc, FASTEPOST_OK, "schema install: %s", fastepost_error_last()->message);
}

void fptest_teardown(void) { fptest_db_drop(&fptest_current); }

fastepost_conn *fptest_conn(void) {
  if (!fptest_current.conn) {
    int rc = fastepost_conn_open(&fptest_current.conn, fptest_current.conninfo);
    cr_assert_eq(rc, FASTEPOST_OK, "open: %s", fastepost_error_last()->message);
  }
  return fptest_current.conn;
}

void fptest_exec(const char *sql) {
  PGresult *r = PQexec(fptest_current.check, sql);
  ExecStatusType st = PQresultStatus(r);
  cr_assert(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s", sql,
            PQerrorMessage(fptest_current.check));
  PQclear(r);
}

const char *fptest_scalar(const char *sql) {
  static char value[8192];
  PGresult *r = PQexec(fptest_current.check, sql);
  cr_assert(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
            PQerrorMessage(fptest_current.check));
  if (PQntuples(r) == 0)
    snprintf(value, sizeof value, "<none>");
  else
    snprintf(value, sizeof value, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  return value;
}

long long fptest_count(const char *sql) { return atoll(fptest_scalar(sql)); }

void fptest_assert_counters_exact(void) {
  cr_assert_eq(fptest_count("SELECT count(*) FROM (SELECT source, status, sum(n) AS n "
                            "FROM fastepost_event_counts GROUP BY 1, 2) c FULL JOIN (SELECT source, status, "
                            "count(*) AS n FROM integration_events GROUP BY 1, 2) t USING (source, status) "
                            "WHERE coalesce(c.n, 0) <> coalesce(t.n, 0)"),
               0, "the event counters differ from a recount");
  cr_assert_eq(fptest_count("SELECT count(*) FROM (SELECT source, hour, status, sum(n) AS n "
                            "FROM fastepost_event_hourly_counts GROUP BY 1, 2, 3) c FULL JOIN (SELECT source, "
                            "date_trunc('hour', created_at) AS hour, status, count(*) AS n FROM integration_events "
                            "GROUP BY 1, 2, 3) t USING (source, hour, status) "
                            "WHERE coalesce(c.n, 0) <> coalesce(t.n, 0)"),
               0, "the hourly counters differ from a recount");
  cr_assert_eq(fptest_count("SELECT (SELECT coalesce(sum(n), 0) FROM fastepost_row_counts WHERE counter = 'customers') "
                            "- (SELECT count(*) FROM customers)"),
               0, "the customer counter differs from a recount");
  cr_assert_eq(fptest_count("SELECT (SELECT coalesce(sum(n), 0) FROM fastepost_row_counts "
                            "WHERE counter = 'customers_crm_synced') - (SELECT count(crm_id) FROM customers)"),
               0, "the synced customer counter differs from a recount");
  cr_assert_eq(fptest_count("SELECT (SELECT coalesce(sum(n), 0) FROM fastepost_row_counts "
                            "WHERE counter = 'tasks_pending') - (SELECT count(*) FROM tasks WHERE status = 'pending')"),
               0, "the pending task counter differs from a recount");
}

const char *fptest_source_path(const char *rel) {
  static char path[4096];
  const char *root = getenv("FASTEPOST_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
  return path;
}

const char *fptest_conformance_path(const char *rel) {
  static char path[4096];
  const char *root = getenv("FASTEPOST_CONFORMANCE_DIR");
  if (!root || !*root)
    return NULL;
  snprintf(path, sizeof path, "%s/%s", root, rel);
  return path;
}

const char *fptest_shared_path(const char *rel) {
  static char path[4096];
  const char *root = getenv("FASTEPOST_SHARED_DIR");
  if (!root || !*root)
    cr_assert_fail("FASTEPOST_SHARED_DIR is not set (tests read nothing outside the repository: "
                   "use fptest_conformance_path() and FASTEPOST_CONFORMANCE_DIR)");
  snprintf(path, sizeof path, "%s/%s", root, rel);
  return path;
}

char *fptest_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  cr_assert(f, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  cr_assert(buf);
  cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  if (len)
    *len = (size_t)n;
  return buf;
}

#include <sys/wait.h>
int fptest_cli(char *out, size_t outsize, const char *args) {
  const char *cli = getenv("FASTEPOST_CLI");
  cr_assert(cli && *cli, "FASTEPOST_CLI is not set (ctest sets it)");
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", cli, args);
  FILE *p = popen(cmd, "r");
  cr_assert(p, "popen %s", cmd);
  size_t n = fread(out, 1, outsize - 1, p);
  out[n] = '\0';
  while (fgetc(p) != EOF) /* drain what did not fit */
    ;
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int fptest_cli_db(char *out, size_t outsize, const char *fmt, ...) {
  char cmd[6144], args[6144 + sizeof fptest_current.conninfo + 16];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  cr_assert(n >= 0 && (size_t)n < sizeof cmd, "fptest_cli_db: arguments over %zu bytes", sizeof cmd);
  snprintf(args, sizeof args, "--db '%s' %s", fptest_current.conninfo, cmd);
  return fptest_cli(out, outsize, args);
}

char *fptest_copy_out(const char *sql, size_t *len) {
  PGresult *r = PQexec(fptest_current.check, sql);
  cr_assert_eq(PQresultStatus(r), PGRES_COPY_OUT, "%s: %s", sql, PQerrorMessage(fptest_current.check));
  PQclear(r);
  size_t n = 0, cap = 4096;
  char *out = malloc(cap);
  cr_assert(out);
  for (;;) {
    char *data = NULL;
    int got = PQgetCopyData(fptest_current.check, &data, 0);
    if (got < 0)
      break;
    while (n + (size_t)got + 1 > cap)
      cap *= 2;
    out = realloc(out, cap);
    cr_assert(out);
    memcpy(out + n, data, (size_t)got);
    n += (size_t)got;
    PQfreemem(data);
  }
  while ((r = PQgetResult(fptest_current.check))) {
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQerrorMessage(fptest_current.check));
    PQclear(r);
  }
  out[n] = '\0';
  if (len)
    *len = n;
  return out;
}

#include <sys/stat.h>
void fptest_tmpdir(char *out, size_t outsize, const char *prefix) {
  snprintf(out, outsize, "/tmp/%s.XXXXXX", prefix);
  cr_assert(mkdtemp(out), "mkdtemp %s", out);
}

void fptest_rmtree(const char *path) {
  if (!path || strncmp(path, "/tmp/", 5) != 0 || strchr(path, '\''))
    return; /* only what fptest_tmpdir made */
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
}

void fptest_write_file(const char *path, const char *data, int mode) {
  FILE *f = fopen(path, "wb");
  cr_assert(f, "cannot create %s", path);
  cr_assert_eq(fwrite(data, 1, strlen(data), f), strlen(data));
  cr_assert_eq(fclose(f), 0);
  cr_assert_eq(chmod(path, (mode_t)mode), 0);
}
