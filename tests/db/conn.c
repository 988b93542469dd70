/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "testdb.h"

/* SHOW a setting through the library's own session (tests may use internals). */
static void expect_setting(fastepost_conn *c, const char *name, const char *want) {
  char sql[128];
  snprintf(sql, sizeof sql, "SHOW %s", name);
  PGresult *res;
  cr_assert_eq(fastepost__query(&res, c, sql, 0, NULL, PGRES_TUPLES_OK, "show"), FASTEPOST_OK);
  cr_assert_str_eq(PQgetvalue(res, 0, 0), want, "%s", name);
  PQclear(res);
}

TestSuite(conn, .init = fptest_setup, .fini = fptest_teardown);

Test(conn, open_ping_version_database) {
  fastepost_conn *c = NULL;
  cr_assert_eq(fastepost_conn_open(&c, fptest_current.conninfo), FASTEPOST_OK,
               "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_conn_ping(c), FASTEPOST_OK);
  cr_assert_geq(fastepost_conn_server_version(c), FASTEPOST_CONN_MIN_SERVER_VERSION);
  cr_assert_str_eq(fastepost_conn_database(c), fptest_current.name);
  fastepost_conn_free(c);
}

Test(conn, utf8_and_utc_are_forced) {
  fastepost_conn *c = NULL;
  char conninfo[1200];
  /* Ask for LATIN1 and another zone: the library must still speak UTF-8 in UTC. */
  snprintf(conninfo, sizeof conninfo, "%s client_encoding=LATIN1 options='-c TimeZone=Asia/Tokyo'",
           fptest_current.conninfo);
  cr_assert_eq(fastepost_conn_open(&c, conninfo), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  expect_setting(c, "client_encoding", "UTF8");
  expect_setting(c, "TimeZone", "UTC");
  fastepost_conn_free(c);
  /* The URL form works too. */
  const char *host = getenv("FASTEPOST_TEST_SOCKET_DIR");
  cr_assert_not_null(host);
  char url[1200];
  snprintf(url, sizeof url, "postgresql:///%s?host=%s&user=postgres", fptest_current.name, host);
  cr_assert_eq(fastepost_conn_open(&c, url), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_str_eq(fastepost_conn_database(c), fptest_current.name);
  fastepost_conn_free(c);
}

Test(conn, invalid_conninfo_is_einvalid) {
  fastepost_conn *c = (fastepost_conn *)1;
  cr_assert_eq(fastepost_conn_open(&c, "host=/tmp port"), FASTEPOST_EINVALID);
  cr_assert_null(c);
  cr_assert(strstr(fastepost_error_last()->message, "invalid connection string"));
  cr_assert_eq(fastepost_conn_open(&c, "nosuchkey=1"), FASTEPOST_EINVALID);
  cr_assert(strstr(fastepost_error_last()->message, "nosuchkey"), "%s",
            fastepost_error_last()->message);
  cr_assert_eq(fastepost_conn_open(&c, "postgresql://[bad"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_conn_open(NULL, "x"), FASTEPOST_EINVALID);
}

Test(conn, unreachable_server_is_econn_with_libpq_message) {
  fastepost_conn *c = NULL;
  cr_assert_eq(fastepost_conn_open(&c, "host=/nonexistent/socket/dir dbname=x connect_timeout=2"),
               FASTEPOST_ECONN);
  cr_assert_null(c);
  const char *msg = fastepost_error_last()->message;
  cr_assert(strstr(msg, "cannot connect") && strstr(msg, "/nonexistent/socket/dir"), "%s", msg);
  cr_assert_null(strchr(msg, '\n'), "one line");
}

Test(conn, wrong_password_is_econn_and_secret_not_echoed) {
  fastepost_conn *c = NULL;
  char conninfo[1200];
  snprintf(conninfo, sizeof conninfo, "%s user=fp_password password=hunter2-wrong",
           fptest_current.conninfo);
  cr_assert_eq(fastepost_conn_open(&c, conninfo), FASTEPOST_ECONN);
  const char *msg = fastepost_error_last()->message;
  cr_assert(strstr(msg, "password authentication failed"), "%s", msg);
  cr_assert_null(strstr(msg, "hunter2"), "the password must not appear in the message");
  snprintf(conninfo, sizeof conninfo, "%s user=fp_password password=secret", fptest_current.conninfo);
  cr_assert_eq(fastepost_conn_open(&c, conninfo), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  fastepost_conn_free(c);
}

Test(conn, missing_database_is_econn) {
  fastepost_conn *c = NULL;
  char conninfo[1200];
  snprintf(conninfo, sizeof conninfo, "%s dbname=no_such_db_xyz", fptest_dsn());
  cr_assert_eq(fastepost_conn_open(&c, conninfo), FASTEPOST_ECONN);
  cr_assert(strstr(fastepost_error_last()->message, "no_such_db_xyz"));
}

Test(conn, close_keeps_handle_and_reset_reconnects) {
  fastepost_conn *c = fptest_conn();
  cr_assert_eq(fastepost_conn_is_open(c), 1);
  fastepost_conn_close(c);
  fastepost_conn_close(c);
  cr_assert_eq(fastepost_conn_is_open(c), 0);
  cr_assert_eq(fastepost_conn_is_open(NULL), 0);
  cr_assert_eq(fastepost_conn_ping(c), FASTEPOST_ECONN);
  cr_assert_str_eq(fastepost_conn_database(c), "");
  cr_assert_eq(fastepost_conn_server_version(c), 0);
  cr_assert_eq(fastepost_conn_reset(c), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_conn_is_open(c), 1);
  cr_assert_eq(fastepost_conn_ping(c), FASTEPOST_OK);
}

Test(conn, lost_connection_is_econn) {
  fastepost_conn *c = fptest_conn();
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s' "
           "AND pid <> pg_backend_pid()", fptest_current.name);
  fptest_exec(sql);
  int rc = fastepost_conn_ping(c);
  if (rc == FASTEPOST_OK) /* the termination may land after the first query */
    rc = fastepost_conn_ping(c);
  cr_assert_eq(rc, FASTEPOST_ECONN, "%d %s", rc, fastepost_error_last()->message);
  cr_assert_eq(fastepost_conn_reset(c), FASTEPOST_OK);
  cr_assert_eq(fastepost_conn_ping(c), FASTEPOST_OK);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* SHOW on the raw session, without the settings the library sends with its statements. */
static void expect_session_setting(fastepost_conn *c, const char *name, const char *want) {
  char sql[128];
  snprintf(sql, sizeof sql, "SHOW %s", name);
  PGresult *res = PQexec(c->pg, sql);
  cr_assert_eq(PQresultStatus(res), PGRES_TUPLES_OK);
  cr_assert_str_eq(PQgetvalue(res, 0, 0), want, "session %s", name);
  PQclear(res);
}

Test(conn, timeouts_have_defaults_and_getters) {
  fastepost_conn *c = fptest_conn();
  cr_assert_eq(fastepost_conn_statement_timeout(c), FASTEPOST_CONN_DEFAULT_STATEMENT_TIMEOUT_US);
  cr_assert_eq(fastepost_conn_lock_timeout(c), FASTEPOST_CONN_DEFAULT_LOCK_TIMEOUT_US);
  expect_setting(c, "statement_timeout", "30s");
  expect_setting(c, "lock_timeout", "5s");
  cr_assert_eq(fastepost_conn_set_lock_timeout(c, -5), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_conn_set_lock_timeout(NULL, 5000), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_conn_set_lock_timeout(c, FASTEPOST_CONN_TIMEOUT_MAX_US + 1), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_conn_set_lock_timeout(c, 1500000), FASTEPOST_OK);
  cr_assert_eq(fastepost_conn_lock_timeout(c), 1500000);
  expect_setting(c, "lock_timeout", "1500ms");
  /* Microseconds are rounded up to the milliseconds the server counts. */
  cr_assert_eq(fastepost_conn_set_lock_timeout(c, 1499001), FASTEPOST_OK);
  cr_assert_eq(fastepost_conn_lock_timeout(c), 1500000);
  cr_assert_eq(fastepost_conn_statement_timeout(NULL), 0);
  /* Inside a transaction the library opens, too, and nothing stays in the session (a
   * transaction pooler would hand it to another client). */
  cr_assert_eq(fastepost__tx_begin(c), FASTEPOST_OK);
  expect_session_setting(c, "lock_timeout", "1500ms");
  expect_session_setting(c, "statement_timeout", "30s");
  cr_assert_eq(fastepost__tx_commit(c), FASTEPOST_OK);
  expect_session_setting(c, "lock_timeout", "0");
  expect_session_setting(c, "statement_timeout", "0");
  /* Kept across a reconnect. */
  cr_assert_eq(fastepost_conn_reset(c), FASTEPOST_OK);
  cr_assert_eq(fastepost_conn_lock_timeout(c), 1500000);
  expect_setting(c, "lock_timeout", "1500ms");
  /* 0 is the default, not "off". */
  cr_assert_eq(fastepost_conn_set_lock_timeout(c, 0), FASTEPOST_OK);
  cr_assert_eq(fastepost_conn_lock_timeout(c), FASTEPOST_CONN_DEFAULT_LOCK_TIMEOUT_US);
  expect_setting(c, "lock_timeout", "5s");
}

Test(conn, statement_timeout_is_etimeout) {
  fastepost_conn *c = fptest_conn();
  cr_assert_eq(fastepost_conn_set_statement_timeout(c, -1), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_conn_set_statement_timeout(c, 50000), FASTEPOST_OK);
  double t0 = now_s();
  cr_assert_eq(fastepost__exec(c, "SELECT pg_sleep(5)", "sleeping"), FASTEPOST_ETIMEOUT);
  cr_assert_lt(now_s() - t0, 2.0);
  cr_assert_str_eq(fastepost_error_last()->sqlstate, "57014");
  cr_assert(strstr(fastepost_error_last()->message, "sleeping: "), "%s", fastepost_error_last()->message);
  /* The parameterised path and an explicit transaction apply it too. */
  PGresult *res = NULL;
  const char *p[] = {"5"};
  cr_assert_eq(fastepost__query(&res, c, "SELECT pg_sleep($1::float8)", 1, p, PGRES_TUPLES_OK, "q"),
               FASTEPOST_ETIMEOUT);
  cr_assert_null(res);
  cr_assert_eq(fastepost__tx_begin(c), FASTEPOST_OK);
  cr_assert_eq(fastepost__exec(c, "SELECT pg_sleep(5)", "in tx"), FASTEPOST_ETIMEOUT);
  fastepost__tx_rollback(c);
  /* The limit survives a reconnect. */
  cr_assert_eq(fastepost_conn_reset(c), FASTEPOST_OK);
  expect_setting(c, "statement_timeout", "50ms");
  cr_assert_eq(fastepost_conn_set_statement_timeout(c, 0), FASTEPOST_OK);
  expect_setting(c, "statement_timeout", "30s");
  cr_assert_eq(fastepost_conn_set_statement_timeout(c, FASTEPOST_CONN_TIMEOUT_MAX_US), FASTEPOST_OK);
  expect_setting(c, "statement_timeout", "2147483647ms");
  cr_assert_eq(fastepost__exec(c, "SELECT pg_sleep(0.1)", "sleeping"), FASTEPOST_OK);
}

Test(conn, held_lock_is_ebusy_within_lock_timeout) {
  fastepost_conn *c = fptest_conn();
  fptest_exec("CREATE TABLE locked (id int PRIMARY KEY); INSERT INTO locked VALUES (1)");
  /* Another session holds the row. */
  fptest_exec("BEGIN; SELECT * FROM locked WHERE id = 1 FOR UPDATE");
  cr_assert_eq(fastepost_conn_set_lock_timeout(c, 300000), FASTEPOST_OK);
  double t0 = now_s();
  cr_assert_eq(fastepost__exec(c, "UPDATE locked SET id = 2 WHERE id = 1", "updating"), FASTEPOST_EBUSY,
               "%s", fastepost_error_last()->message);
  double took = now_s() - t0;
  cr_assert_str_eq(fastepost_error_last()->sqlstate, "55P03");
  cr_assert(took >= 0.25 && took < 3.0, "%.2f s", took);
  const char *p[] = {"1"};
  PGresult *res = NULL;
  cr_assert_eq(fastepost__tx_begin(c), FASTEPOST_OK);
  cr_assert_eq(fastepost__query(&res, c, "SELECT id FROM locked WHERE id = $1::int FOR UPDATE", 1, p,
                                PGRES_TUPLES_OK, "locking"),
               FASTEPOST_EBUSY);
  fastepost__tx_rollback(c);
  fptest_exec("ROLLBACK");
  cr_assert_eq(fastepost__exec(c, "UPDATE locked SET id = 2 WHERE id = 1", "updating"), FASTEPOST_OK);
}

Test(conn, read_only_is_ereadonly) {
  fastepost_conn *c = fptest_conn();
  cr_assert_eq(fastepost__tx_begin_mode(c, "READ ONLY"), FASTEPOST_OK);
  expect_session_setting(c, "TimeZone", "UTC");
  cr_assert_eq(fastepost__exec(c, "CREATE TABLE nope (id int)", "creating"), FASTEPOST_EREADONLY);
  cr_assert_str_eq(fastepost_error_last()->sqlstate, "25006");
  fastepost__tx_rollback(c);
  cr_assert_eq(fastepost__sqlstate_code("57014"), FASTEPOST_ETIMEOUT);
  cr_assert_eq(fastepost__sqlstate_code("55P03"), FASTEPOST_EBUSY);
  cr_assert_eq(fastepost__sqlstate_code("08006"), FASTEPOST_ECONN);
  cr_assert_eq(fastepost__sqlstate_code("57P01"), FASTEPOST_ECONN);
  cr_assert_eq(fastepost__sqlstate_code("23505"), FASTEPOST_EDB);
}

Test(conn, statements_that_refuse_transactions_still_run) {
  fastepost_conn *c = fptest_conn();
  char sql[160];
  snprintf(sql, sizeof sql, "CREATE DATABASE %s_x", fptest_current.name);
  cr_assert_eq(fastepost__exec(c, sql, "create"), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  snprintf(sql, sizeof sql, "  drop database %s_x", fptest_current.name);
  cr_assert_eq(fastepost__exec(c, sql, "drop"), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  /* A BEGIN sent through fastepost__exec carries the settings into its transaction. */
  cr_assert_eq(fastepost__exec(c, "BEGIN; SET LOCAL application_name = 'x'", "begin"), FASTEPOST_OK);
  expect_session_setting(c, "lock_timeout", "5s");
  cr_assert_eq(fastepost__tx_commit(c), FASTEPOST_OK);
}

/* ---- cancel --------------------------------------------------------------------------------- */

typedef struct canceller {
  fastepost_conn *conn;
  double delay;
  int rc;
} canceller;

static void *cancel_later(void *p) {
  canceller *k = p;
  struct timespec ts = {(time_t)k->delay, (long)((k->delay - (double)(time_t)k->delay) * 1e9)};
  nanosleep(&ts, NULL);
  k->rc = fastepost_conn_cancel(k->conn);
  return NULL;
}

Test(conn, cancel_from_another_thread_is_ecanceled) {
  fastepost_conn *c = fptest_conn();
  canceller k = {c, 0.3, -99};
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, cancel_later, &k), 0);
  double t0 = now_s();
  int rc = fastepost__exec(c, "SELECT pg_sleep(30)", "sleeping");
  double took = now_s() - t0;
  pthread_join(t, NULL);
  cr_assert_eq(k.rc, FASTEPOST_OK);
  cr_assert_eq(rc, FASTEPOST_ECANCELED, "%d %s", rc, fastepost_error_last()->message);
  cr_assert_str_eq(fastepost_error_last()->sqlstate, "57014");
  cr_assert_lt(took, 3.0, "cancel took %.2f s", took);
  /* The connection is usable afterwards, and a later statement timeout is ETIMEOUT again. */
  cr_assert_eq(fastepost_conn_ping(c), FASTEPOST_OK);
  cr_assert_eq(fastepost_conn_set_statement_timeout(c, 50000), FASTEPOST_OK);
  cr_assert_eq(fastepost__exec(c, "SELECT pg_sleep(5)", "sleeping"), FASTEPOST_ETIMEOUT);
}

Test(conn, cancel_with_nothing_running_changes_nothing) {
  fastepost_conn *c = fptest_conn();
  cr_assert_eq(fastepost_conn_cancel(NULL), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_conn_cancel(c), FASTEPOST_OK);
  nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
  cr_assert_eq(fastepost__exec(c, "SELECT pg_sleep(0.3)", "sleeping"), FASTEPOST_OK,
               "%s", fastepost_error_last()->message);
  /* Between two statements of a transaction, the call stops before its next statement. */
  cr_assert_eq(fastepost__tx_begin(c), FASTEPOST_OK);
  cr_assert_eq(fastepost_conn_cancel(c), FASTEPOST_OK);
  cr_assert_eq(fastepost__exec(c, "SELECT 1", "next"), FASTEPOST_ECANCELED);
  fastepost__tx_rollback(c);
  cr_assert_eq(fastepost_conn_ping(c), FASTEPOST_OK);
  /* Closed: nothing to cancel. */
  fastepost_conn_close(c);
  cr_assert_eq(fastepost_conn_cancel(c), FASTEPOST_OK);
}

/* Cancel hammered from one thread while another closes and reopens: the guard must hold
 * (run under ASan/TSan-like checks in the sanitizer build). */
typedef struct hammer {
  fastepost_conn *conn;
  atomic_int stop;
} hammer;

static void *cancel_loop(void *p) {
  hammer *h = p;
  while (!h->stop)
    fastepost_conn_cancel(h->conn);
  return NULL;
}

Test(conn, cancel_races_close_and_reset_safely) {
  fastepost_conn *c = fptest_conn();
  hammer h = {c, 0};
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, cancel_loop, &h), 0);
  /* A cancel that lands while reset configures the new session cancels the reset: that is
   * ECANCELED (what cancel is for), never a crash or a half-open handle. Any other code is a
   * failure. The thread is stopped and joined before asserting: an assertion ends the test
   * and would leave it reading this frame. */
  int bad = FASTEPOST_OK, resets = 0;
  char msg[256] = "";
  for (int i = 0; i < 10 && bad == FASTEPOST_OK; i++) {
    fastepost_conn_close(c);
    int rc = fastepost_conn_reset(c);
    if (rc == FASTEPOST_OK)
      resets++;
    else if (rc != FASTEPOST_ECANCELED) {
      bad = rc;
      snprintf(msg, sizeof msg, "%s", fastepost_error_last()->message);
    }
  }
  h.stop = 1;
  pthread_join(t, NULL);
  cr_assert_eq(bad, FASTEPOST_OK, "reset: %s", msg);
  /* With nobody cancelling, the handle comes back. */
  int rc = fastepost_conn_ping(c);
  if (rc != FASTEPOST_OK)
    rc = fastepost_conn_reset(c);
  cr_assert_eq(rc, FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost_conn_ping(c), FASTEPOST_OK);
  (void)resets;
}

/* ---- connecting ----------------------------------------------------------------------------- */

/* A TCP listener on 127.0.0.1 that never answers: the kernel completes the handshake into the
 * backlog, nobody reads. Returns the socket; *port gets its port. */
static int silent_server(int *port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  cr_assert_geq(s, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(listen(s, 16), 0);
  socklen_t len = sizeof a;
  cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
  *port = ntohs(a.sin_port);
  return s;
}

Test(conn, silent_server_times_out_with_econn) {
  int port;
  int s = silent_server(&port);
  char conninfo[200];
  fastepost_conn *c = NULL;
  snprintf(conninfo, sizeof conninfo, "host=127.0.0.1 port=%d dbname=x connect_timeout=2", port);
  double t0 = now_s();
  cr_assert_eq(fastepost_conn_open(&c, conninfo), FASTEPOST_ECONN);
  double took = now_s() - t0;
  cr_assert(took >= 1.9 && took < 5.0, "%.2f s", took);
  cr_assert(strstr(fastepost_error_last()->message, "timed out after 2 s"), "%s",
            fastepost_error_last()->message);
  /* No connect_timeout: the default (10 s) applies, once. */
  snprintf(conninfo, sizeof conninfo, "postgresql://127.0.0.1:%d/x", port);
  t0 = now_s();
  cr_assert_eq(fastepost_conn_open(&c, conninfo), FASTEPOST_ECONN);
  took = now_s() - t0;
  cr_assert(took >= FASTEPOST_CONN_DEFAULT_CONNECT_TIMEOUT_US / 1e6 - 0.5 && took < FASTEPOST_CONN_DEFAULT_CONNECT_TIMEOUT_US / 1e6 + 4,
            "%.2f s", took);
  cr_assert(strstr(fastepost_error_last()->message, "timed out after 10 s"), "%s",
            fastepost_error_last()->message);
  /* libpq's own PGCONNECT_TIMEOUT counts as saying it (libpq reads it, not the library). */
  setenv("PGCONNECT_TIMEOUT", "3", 1);
  t0 = now_s();
  cr_assert_eq(fastepost_conn_open(&c, conninfo), FASTEPOST_ECONN);
  took = now_s() - t0;
  unsetenv("PGCONNECT_TIMEOUT");
  cr_assert(took >= 2.9 && took < 6.0, "%.2f s", took);
  cr_assert(strstr(fastepost_error_last()->message, "timed out after 3 s"), "%s",
            fastepost_error_last()->message);
  close(s);
}

static const char *conn_option(fastepost_conn *c, const char *key) {
  static char value[64];
  PQconninfoOption *opts = PQconninfo(c->pg);
  cr_assert_not_null(opts);
  snprintf(value, sizeof value, "(unset)");
  for (PQconninfoOption *o = opts; o->keyword; o++)
    if (strcmp(o->keyword, key) == 0 && o->val)
      snprintf(value, sizeof value, "%s", o->val);
  PQconninfoFree(opts);
  return value;
}

Test(conn, connect_timeout_and_keepalives_unless_said_otherwise) {
  fastepost_conn *c = fptest_conn();
  cr_assert_str_eq(conn_option(c, "connect_timeout"), "10");
  cr_assert_str_eq(conn_option(c, "keepalives"), "1");
  cr_assert_str_eq(conn_option(c, "keepalives_idle"), "30");
  cr_assert_str_eq(conn_option(c, "keepalives_interval"), "10");
  cr_assert_str_eq(conn_option(c, "keepalives_count"), "3");
  fastepost_conn *d = NULL;
  char conninfo[1200];
  snprintf(conninfo, sizeof conninfo, "%s connect_timeout=7 keepalives_idle=11", fptest_current.conninfo);
  cr_assert_eq(fastepost_conn_open(&d, conninfo), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_str_eq(conn_option(d, "connect_timeout"), "7");
  cr_assert_str_eq(conn_option(d, "keepalives_idle"), "11");
  cr_assert_str_eq(conn_option(d, "keepalives_count"), "3");
  fastepost_conn_free(d);
  const char *host = getenv("FASTEPOST_TEST_SOCKET_DIR");
  cr_assert_not_null(host);
  snprintf(conninfo, sizeof conninfo, "postgresql:///%s?host=%s&user=postgres&connect_timeout=4&keepalives=0",
           fptest_current.name, host);
  cr_assert_eq(fastepost_conn_open(&d, conninfo), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_str_eq(conn_option(d, "connect_timeout"), "4");
  cr_assert_str_eq(conn_option(d, "keepalives"), "0");
  fastepost_conn_free(d);
}

/* ---- fork ----------------------------------------------------------------------------------- */

Test(conn, fork_child_gets_econn_and_parent_session_survives) {
  fastepost_conn *c = fptest_conn();
  /* The parent is inside a transaction with uncommitted work. */
  cr_assert_eq(fastepost__tx_begin(c), FASTEPOST_OK);
  cr_assert_eq(fastepost__exec(c, "CREATE TABLE forked (v int); INSERT INTO forked VALUES (42)", "w"),
               FASTEPOST_OK);
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    /* Exit codes tell the parent which step failed. */
    if (fastepost_conn_ping(c) != FASTEPOST_ECONN)
      _exit(10);
    if (!strstr(fastepost_error_last()->message, "opened in another process"))
      _exit(11);
    fastepost__tx_rollback(c); /* must not send ROLLBACK on the parent's socket */
    fastepost_conn_cancel(c);  /* must not cancel the parent's statements */
    if (fastepost_conn_reset(c) != FASTEPOST_OK) /* a fresh session of its own */
      _exit(12);
    if (fastepost_conn_ping(c) != FASTEPOST_OK)
      _exit(13);
    PGresult *res = NULL;
    /* The parent's table is not visible: a different, new session. */
    if (fastepost__query(&res, c, "SELECT to_regclass('forked') IS NULL", 0, NULL, PGRES_TUPLES_OK, "q") ||
        strcmp(PQgetvalue(res, 0, 0), "t") != 0)
      _exit(14);
    PQclear(res);
    fastepost_conn_free(c);
    _exit(0);
  }
  int st = 0;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed at step %d", WEXITSTATUS(st));
  /* A second child only frees the handle: no Terminate must reach the parent's session. */
  pid = fork();
  if (pid == 0) {
    fastepost_conn_free(c);
    _exit(0);
  }
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  cr_assert_eq(PQtransactionStatus(c->pg), PQTRANS_INTRANS);
  PGresult *res = NULL;
  cr_assert_eq(fastepost__query(&res, c, "SELECT v FROM forked", 0, NULL, PGRES_TUPLES_OK, "read"),
               FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_str_eq(PQgetvalue(res, 0, 0), "42");
  PQclear(res);
  cr_assert_eq(fastepost__tx_commit(c), FASTEPOST_OK);
  cr_assert_eq(fptest_count("SELECT count(*) FROM forked"), 1);
}

Test(conn, free_null_is_noop) {
  fastepost_conn_free(NULL);
  fastepost_conn_close(NULL);
  fastepost_free(NULL);
}

/* ---- thread safety (each statement in docs/api.md "Threads" has its test here) ------------- */

typedef struct sharer {
  const fastepost_export_options *opts; /* shared, read-only */
  int index;
  int rc;
  char note[160];
  fastepost__buf out;
} sharer;

static int collect(const char *data, size_t len, void *payload) {
  return fastepost__buf_append(payload, data, len);
}

static void *share_work(void *p) {
  sharer *s = p;
  /* Each thread sees only its own last error, whatever the others do meanwhile. */
  char bad[64], key[32];
  snprintf(key, sizeof key, "nosuchkey_%d", s->index);
  snprintf(bad, sizeof bad, "%s=1", key);
  fastepost_conn *none = NULL;
  if (fastepost_conn_open(&none, bad) != FASTEPOST_EINVALID) {
    s->rc = -1000;
    return NULL;
  }
  fastepost_conn *c = NULL;
  if ((s->rc = fastepost_conn_open(&c, fptest_current.conninfo)))
    return NULL;
  for (int i = 0; i < 5 && !s->rc; i++) {
    fastepost__buf_clear(&s->out);
    s->rc = fastepost_export_run(NULL, c, collect, &s->out, s->opts);
  }
  fastepost_conn_free(c);
  /* Whatever the last error is now, it is not another thread's, and a new one is our own. */
  snprintf(s->note, sizeof s->note, "%s", fastepost_error_last()->message);
  if (strstr(s->note, "nosuchkey_") && !strstr(s->note, key))
    s->rc = -1001;
  if (fastepost_conn_open(&none, bad) != FASTEPOST_EINVALID || !strstr(fastepost_error_last()->message, key))
    s->rc = -1002;
  return NULL;
}

Test(conn, threads_with_own_connections_share_const_options) {
  fptest_exec("CREATE TABLE shared_rows AS SELECT g AS id, 'row ' || g AS name FROM generate_series(1, 300) g");
  fastepost_export_options *opts = NULL;
  cr_assert_eq(fastepost_export_options_new(&opts), FASTEPOST_OK);
  cr_assert_eq(fastepost_export_options_set_table(opts, "shared_rows"), FASTEPOST_OK);
  cr_assert_eq(fastepost_export_options_add_order(opts, "id", false), FASTEPOST_OK);
  enum { N = 4 };
  sharer s[N];
  pthread_t t[N];
  for (int i = 0; i < N; i++) {
    s[i] = (sharer){opts, i, 0, "", FASTEPOST__BUF_INIT};
    cr_assert_eq(pthread_create(&t[i], NULL, share_work, &s[i]), 0);
  }
  for (int i = 0; i < N; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i < N; i++) {
    cr_assert_eq(s[i].rc, FASTEPOST_OK, "thread %d: %d", i, s[i].rc);
    cr_assert(strstr(fastepost__buf_cstr(&s[i].out), "300,row 300"), "thread %d", i);
    cr_assert_str_eq(fastepost__buf_cstr(&s[i].out), fastepost__buf_cstr(&s[0].out));
  }
  for (int i = 0; i < N; i++)
    fastepost__buf_free(&s[i].out);
  fastepost_export_options_free(opts);
}

static void *read_and_free_list(void *p) {
  fastepost_event_list *list = p;
  size_t n = fastepost_event_list_count(list);
  fastepost_event_list_free(list);
  return (void *)(uintptr_t)(n + 1);
}

Test(conn, results_outlive_their_connection_and_move_between_threads) {
  fastepost_conn *c = NULL;
  cr_assert_eq(fastepost_conn_open(&c, fptest_current.conninfo), FASTEPOST_OK);
  size_t applied = 0;
  cr_assert_eq(fastepost_schema_install(&applied, c), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  fastepost_event_list *list = NULL;
  cr_assert_eq(fastepost_events_list(&list, c, NULL, NULL, 10), FASTEPOST_OK, "%s",
               fastepost_error_last()->message);
  fastepost_conn_free(c);
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, read_and_free_list, list), 0);
  void *ret = NULL;
  pthread_join(t, &ret);
  cr_assert_eq((uintptr_t)ret, 1, "an empty list, read on another thread");
}
