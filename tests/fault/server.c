/* SPDX-License-Identifier: MIT */
/*
 * Fault tests that stop and kill their OWN throwaway PostgreSQL cluster (never the shared test
 * server): the database going away during a stream of webhook deliveries, and during an import.
 * Needs FASTEPOST_TEST_PGBIN (scripts/with-postgres exports it); skipped without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "retry_counts.h"
#include "testdb.h"

static char base[128]; /* /tmp/fpfault.XXXXXX: data/, the socket, spool/ */
static char conninfo[256];

/* Run a PostgreSQL tool from FASTEPOST_TEST_PGBIN, as `postgres` when we are root (initdb and
 * the server refuse root). No shell. Returns the exit status. */
static int pg_tool(const char *tool, const char *const *args) {
  const char *bin = getenv("FASTEPOST_TEST_PGBIN");
  char path[512];
  snprintf(path, sizeof path, "%s/%s", bin, tool);
  const char *argv[32];
  int n = 0;
  if (geteuid() == 0) {
    argv[n++] = "runuser";
    argv[n++] = "-u";
    argv[n++] = "postgres";
    argv[n++] = "--";
  }
  argv[n++] = path;
  for (int i = 0; args[i] && n < 31; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    execvp(argv[0], (char *const *)(uintptr_t)argv);
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void server_start(void) {
  char data[160], log[160];
  snprintf(data, sizeof data, "%s/data", base);
  snprintf(log, sizeof log, "%s/server.log", base);
  const char *args[] = {"-D", data, "-l", log, "-w", "-t", "60", "start", NULL};
  cr_assert_eq(pg_tool("pg_ctl", args), 0, "pg_ctl start failed (see %s)", log);
}

/* The server dies as in a crash: no shutdown checkpoint, connections cut. */
static void server_kill(void) {
  char data[160];
  snprintf(data, sizeof data, "%s/data", base);
  const char *args[] = {"-D", data, "-m", "immediate", "-w", "stop", NULL};
  pg_tool("pg_ctl", args);
}

static void setup(void) {
  if (!getenv("FASTEPOST_TEST_PGBIN"))
    cr_skip_test("FASTEPOST_TEST_PGBIN is not set (run under scripts/with-postgres)");
  snprintf(base, sizeof base, "/tmp/fpfault.XXXXXX");
  cr_assert_not_null(mkdtemp(base));
  if (geteuid() == 0) {
    struct passwd *pw = getpwnam("postgres");
    cr_assert_not_null(pw);
    cr_assert_eq(chown(base, pw->pw_uid, pw->pw_gid), 0);
  }
  char data[160];
  snprintf(data, sizeof data, "%s/data", base);
  const char *args[] = {"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", NULL};
  cr_assert_eq(pg_tool("initdb", args), 0, "initdb failed");
  char conf[200];
  snprintf(conf, sizeof conf, "%s/postgresql.conf", data);
  FILE *f = fopen(conf, "a");
  cr_assert_not_null(f);
  fprintf(f, "listen_addresses = ''\nunix_socket_directories = '%s'\nfsync = off\n", base);
  fclose(f);
  server_start();
  snprintf(conninfo, sizeof conninfo, "host=%s user=postgres dbname=postgres", base);
}

static void teardown(void) {
  if (!*base)
    return;
  server_kill();
  fptest_rmtree(base);
  *base = '\0';
}

TestSuite(fault_server, .init = setup, .fini = teardown, .timeout = 120);

static fastepost_conn *connect_and_install(void) {
  fastepost_conn *conn = NULL;
  cr_assert_eq(fastepost_conn_open(&conn, conninfo), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_schema_install(NULL, conn), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  return conn;
}

static long long count(fastepost_conn *conn, const char *sql) {
  PGresult *r = PQexec(fastepost__conn_pg(conn), sql);
  cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", sql);
  long long n = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return n;
}

#define DELIVERIES 120

Test(fault_server, stopped_during_deliveries_nothing_lost_nothing_twice) {
  fastepost_conn *conn = connect_and_install();
  char spooldir[200];
  snprintf(spooldir, sizeof spooldir, "%s/spool", base);
  fastepost_spool *spool = NULL;
  cr_assert_eq(fastepost_spool_open(&spool, spooldir), FASTEPOST_OK);
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_set_spool(o, spool), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_set_host_authenticated(o, true), FASTEPOST_OK);

  /* A child kills the server while the stream runs; the stream goes on against the dead server. */
  pid_t killer = fork();
  if (killer == 0) {
    struct timespec ts = {0, 150 * 1000000};
    nanosleep(&ts, NULL);
    server_kill();
    _exit(0);
  }
  int spooled = 0, processed = 0;
  for (int i = 1; i <= DELIVERIES; i++) {
    char body[256];
    snprintf(body, sizeof body,
             "{\"_model\":\"res.partner\",\"_id\":%d,\"name\":\"P%d\",\"email\":\"p%d@example.org\"}", i, i, i);
    fastepost_event_result *r = NULL;
    fastepost_status st = fastepost_odoo_process(&r, conn, NULL, body, strlen(body), o);
    /* Every delivery is either processed (200) or spooled (202): none is refused. */
    cr_assert(st == FASTEPOST_OK || (st == FASTEPOST_ECONN && fastepost_event_result_event_id(r) > 0),
              "delivery %d: %s: %s [status %d tx %d pipeline %d]", i, fastepost_error_name(st), fastepost_event_result_error(r),
              conn->pg ? (int)PQstatus(conn->pg) : -1, conn->pg ? (int)PQtransactionStatus(conn->pg) : -1,
              conn->pg ? (int)PQpipelineStatus(conn->pg) : -1);
    if (fastepost_event_result_outcome(r) == FASTEPOST_OUTCOME_SPOOLED)
      spooled++;
    else
      processed++;
    fastepost_event_result_free(r);
    if (i == DELIVERIES / 4) {
      struct timespec ts = {0, 200 * 1000000}; /* make sure the kill lands mid-stream */
      nanosleep(&ts, NULL);
    }
  }
  waitpid(killer, NULL, 0);
  cr_assert_gt(spooled, 0, "the server was never seen down");
  cr_assert_gt(processed, 0, "nothing was processed before the kill");

  server_start();
  cr_assert_eq(fastepost_conn_reset(conn), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  fptest_replay rep;
  cr_assert_eq(fptest_spool_replay(&rep, spool, conn, 0), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(rep.replayed, spooled);
  cr_assert_eq(rep.remaining, 0);
  /* Failures queued for retry (the kill between a transaction and its reconnect) are retried. */
  fptest_retry rr;
  cr_assert_eq(fptest_events_retry(conn, 1000, NULL, NULL, &rr), FASTEPOST_OK);
  cr_assert_eq(count(conn, "SELECT count(*) FROM customers"), DELIVERIES);
  cr_assert_eq(count(conn, "SELECT count(DISTINCT crm_id) FROM customers"), DELIVERIES);
  cr_assert_eq(count(conn, "SELECT count(*) FROM integration_events"), DELIVERIES);
  cr_assert_eq(count(conn, "SELECT count(*) FROM integration_events WHERE status = 'success'"), DELIVERIES);
  fastepost_odoo_options_free(o);
  fastepost_spool_free(spool);
  fastepost_conn_free(conn);
}

/* The import's read callback kills the server once the COPY is under way. */
typedef struct feeder {
  int rows, sent_rows;
  bool header, killed;
} feeder;

static long long feed(char *buf, size_t size, void *payload) {
  feeder *f = payload;
  size_t n = 0;
  if (!f->header) {
    n = (size_t)snprintf(buf, size, "name,email\n");
    f->header = true;
  }
  while (f->sent_rows < f->rows && n + 64 < size) {
    n += (size_t)snprintf(buf + n, size - n, "Import %d,imp%d@example.org\n", f->sent_rows, f->sent_rows);
    f->sent_rows++;
  }
  if (!f->killed && f->sent_rows > f->rows / 2) {
    server_kill();
    f->killed = true;
  }
  return (long long)n;
}

Test(fault_server, killed_during_import_table_unchanged) {
  fastepost_conn *conn = connect_and_install();
  PGresult *r = PQexec(fastepost__conn_pg(conn),
                       "INSERT INTO customers (name, email) SELECT 'Seed ' || i, 'seed' || i || '@example.org' "
                       "FROM generate_series(1, 5) i");
  cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  feeder f = {.rows = 200000};
  fastepost_import_report *rep = NULL;
  fastepost_status st = fastepost_import_csv_cb(&rep, conn, "customers", feed, &f, NULL);
  cr_assert(f.killed);
  cr_assert_eq(st, FASTEPOST_ECONN, "%s: %s", fastepost_error_name(st), fastepost_error_last()->message);
  fastepost_import_report_free(rep);
  server_start();
  cr_assert_eq(fastepost_conn_reset(conn), FASTEPOST_OK);
  cr_assert_eq(count(conn, "SELECT count(*) FROM customers"), 5);
  fastepost_conn_free(conn);
}
