#include <stdio.h>
#include <string.h>

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
  cr_assert_geq(fastepost_conn_server_version(c), FASTEPOST_MIN_SERVER_VERSION);
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
  fastepost_conn_close(c);
  fastepost_conn_close(c);
  cr_assert_eq(fastepost_conn_ping(c), FASTEPOST_ECONN);
  cr_assert_str_eq(fastepost_conn_database(c), "");
  cr_assert_eq(fastepost_conn_server_version(c), 0);
  cr_assert_eq(fastepost_conn_reset(c), FASTEPOST_OK, "%s", fastepost_error_last()->message);
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

Test(conn, statement_timeout) {
  fastepost_conn *c = fptest_conn();
  cr_assert_eq(fastepost_conn_set_statement_timeout(c, -1), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_conn_set_statement_timeout(c, 50), FASTEPOST_OK);
  cr_assert_eq(fastepost__exec(c, "SELECT pg_sleep(2)", "sleeping"), FASTEPOST_EDB);
  cr_assert_str_eq(fastepost_error_last()->sqlstate, "57014");
  cr_assert(strstr(fastepost_error_last()->message, "sleeping: "), "%s", fastepost_error_last()->message);
  /* The limit survives a reconnect. */
  cr_assert_eq(fastepost_conn_reset(c), FASTEPOST_OK);
  expect_setting(c, "statement_timeout", "50ms");
  cr_assert_eq(fastepost_conn_set_statement_timeout(c, 0), FASTEPOST_OK);
  expect_setting(c, "statement_timeout", "0");
}

Test(conn, free_null_is_noop) {
  fastepost_conn_free(NULL);
  fastepost_conn_close(NULL);
  fastepost_free(NULL);
}
