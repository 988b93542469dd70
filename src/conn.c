/* SPDX-License-Identifier: MIT */
/* Connections: libpq wrapped with the session settings the schema relies on. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_CONNECT_TIMEOUT_S ((int)(FASTEPOST_CONN_DEFAULT_CONNECT_TIMEOUT_US / 1000000))

/* libpq messages end in a newline; keep them on one line in ours. */
static const char *trim_message(char *buf, size_t size, const char *msg) {
  snprintf(buf, size, "%s", msg ? msg : "");
  size_t n = strlen(buf);
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = '\0';
  /* libpq continues long messages on a new line indented by a tab: make that one space. */
  char *w = buf;
  for (const char *r = buf; *r; r++) {
    char c = (*r == '\n' || *r == '\t') ? ' ' : *r;
    if (c == ' ' && w > buf && w[-1] == ' ')
      continue;
    *w++ = c;
  }
  *w = '\0';
  return buf;
}

/* The session keeps only what a transaction pooler carries per client: PgBouncer tracks
 * TimeZone (like client_encoding) and restores it on every server connection it hands out, so
 * this SET cannot leak. The schema stores naive UTC timestamps, as Rails does: now() must
 * agree even in statements the library runs without its settings. Timeouts are never set per
 * session (a pooler would hand them to other clients): they come with every transaction. */
static int apply_session(fastepost_conn *conn) {
  PGresult *res = PQexec(conn->pg, "SET TIME ZONE 'UTC'");
  int rc = fastepost__pg_check(conn, res, PGRES_COMMAND_OK, "configuring the session");
  PQclear(res);
  return rc;
}

static double monotonic_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Defaults for what the conninfo leaves out, unless libpq's own defaults (its PG* environment
 * variables, e.g. PGCONNECT_TIMEOUT) set them: libpq reads those, not the library, and
 * PQconndefaults() tells which it found. A service file may still set them (libpq reads it after
 * our parameters, so ours win): documented in conn.h. */
static const struct {
  const char *key;
  const char *value;
} conn_defaults[] = {
    {"connect_timeout", "10"}, /* DEFAULT_CONNECT_TIMEOUT_S */
    {"keepalives", "1"},
    {"keepalives_idle", "30"},
    {"keepalives_interval", "10"},
    {"keepalives_count", "3"},
};
#define NDEFAULTS (sizeof conn_defaults / sizeof conn_defaults[0])

/* Which defaults the conninfo lacks (absent[i]), and the connect timeout that applies. */
static int conninfo_defaults(fastepost_conn *conn, bool absent[NDEFAULTS]) {
  char *err = NULL;
  PQconninfoOption *opts = PQconninfoParse(conn->conninfo, &err);
  if (!opts) {
    PQfreemem(err);
    return fastepost__error_oom(); /* fastepost_conn_open parsed it already */
  }
  /* libpq's defaults: the values its PG* environment variables give (NULL where none). */
  PQconninfoOption *libpq = PQconndefaults();
  const char *timeout = NULL;
  for (size_t i = 0; i < NDEFAULTS; i++) {
    absent[i] = true;
    for (PQconninfoOption *o = opts; o->keyword; o++)
      if (strcmp(o->keyword, conn_defaults[i].key) == 0 && o->val && o->val[0])
        absent[i] = false;
    for (PQconninfoOption *o = libpq; o && o->keyword; o++)
      if (strcmp(o->keyword, conn_defaults[i].key) == 0 && o->envvar && o->val && o->val[0])
        absent[i] = false;
  }
  for (PQconninfoOption *o = opts; o->keyword; o++)
    if (strcmp(o->keyword, "connect_timeout") == 0)
      timeout = o->val;
  for (PQconninfoOption *o = libpq; (!timeout || !timeout[0]) && o && o->keyword; o++)
    if (strcmp(o->keyword, "connect_timeout") == 0)
      timeout = o->val;
  /* libpq raises 1 to 2 seconds; 0 or garbage means no limit. */
  int secs = DEFAULT_CONNECT_TIMEOUT_S;
  if (timeout && timeout[0]) {
    char *end = NULL;
    long v = strtol(timeout, &end, 10);
    secs = (end && *end == '\0' && v > 0 && v < 86400) ? (v == 1 ? 2 : (int)v) : 0;
  }
  conn->connect_timeout_s = secs;
  PQconninfoFree(opts);
  PQconninfoFree(libpq);
  return FASTEPOST_OK;
}

/* Install (or drop, with pg NULL) the libpq connection and what belongs to it: the cancel
 * handle and the owning process, which fastepost_conn_cancel() reads from other threads. */
static void set_pg(fastepost_conn *conn, PGconn *pg) {
  PGcancel *cancel = pg ? PQgetCancel(pg) : NULL;
  pthread_mutex_lock(&conn->cancel_lock);
  PGcancel *old = conn->cancel;
  conn->cancel = cancel;
  conn->pg = pg;
  conn->pid = getpid();
  pthread_mutex_unlock(&conn->cancel_lock);
  if (old)
    PQfreeCancel(old);
  atomic_store(&conn->cancel_requested, false);
  /* A new server session: nothing prepared there, and maybe another route to it (a failover). */
  conn->prepare = FASTEPOST__PREPARE_UNKNOWN;
  conn->nprepared = 0;
}

void fastepost__conn_prepare_detect(fastepost_conn *conn, const char *server_pid) {
  if (!conn || !conn->pg || conn->prepare != FASTEPOST__PREPARE_UNKNOWN || !server_pid)
    return;
  char *end = NULL;
  long pid = strtol(server_pid, &end, 10);
  bool direct = end && end != server_pid && *end == '\0' && pid > 0 && pid == PQbackendPID(conn->pg);
  conn->prepare = direct ? FASTEPOST__PREPARE_ON : FASTEPOST__PREPARE_OFF;
}

bool fastepost__conn_prepare_on(const fastepost_conn *conn) {
  return conn && conn->prepare == FASTEPOST__PREPARE_ON;
}

bool fastepost__conn_prepared_has(const fastepost_conn *conn, const char *name) {
  for (size_t i = 0; conn && i < conn->nprepared; i++)
    if (strcmp(conn->prepared[i], name) == 0)
      return true;
  return false;
}

void fastepost__conn_prepared_add(fastepost_conn *conn, const char *name) {
  if (conn && conn->nprepared < FASTEPOST__PREPARED_MAX && !fastepost__conn_prepared_has(conn, name))
    conn->prepared[conn->nprepared++] = name;
}

void fastepost__conn_prepare_off(fastepost_conn *conn) {
  if (conn)
    conn->prepare = FASTEPOST__PREPARE_OFF;
}

static int connect_pg(fastepost_conn *conn) {
  bool absent[NDEFAULTS];
  int rc = conninfo_defaults(conn, absent);
  if (rc)
    return rc;
  const char *keys[4 + NDEFAULTS], *vals[4 + NDEFAULTS];
  int n = 0;
  if (conn->conninfo[0]) {
    keys[n] = "dbname";
    vals[n++] = conn->conninfo;
  }
  for (size_t i = 0; i < NDEFAULTS; i++)
    if (absent[i]) {
      keys[n] = conn_defaults[i].key;
      vals[n++] = conn_defaults[i].value;
    }
  /* After dbname, so that they override whatever the string said: the library speaks UTF-8. */
  keys[n] = "client_encoding";
  vals[n++] = "UTF8";
  keys[n] = "fallback_application_name";
  vals[n++] = "libfastepost";
  keys[n] = NULL;
  vals[n] = NULL;

  double started = monotonic_seconds();
  PGconn *pg = PQconnectdbParams(keys, vals, 1);
  if (!pg)
    return fastepost__error_oom();
  if (PQstatus(pg) != CONNECTION_OK) {
    char msg[768];
    trim_message(msg, sizeof msg, PQerrorMessage(pg));
    PQfinish(pg);
    /* libpq's "timeout expired" is translated under LC_MESSAGES: judge by the clock. */
    if (conn->connect_timeout_s > 0 &&
        monotonic_seconds() - started >= (double)conn->connect_timeout_s - 0.05)
      return fastepost__error_set(FASTEPOST_ECONN,
                                  "cannot connect to the database: timed out after %d s "
                                  "(connect_timeout): %s",
                                  conn->connect_timeout_s, msg);
    return fastepost__error_set(FASTEPOST_ECONN, "cannot connect to the database: %s", msg);
  }
  int version = PQserverVersion(pg);
  if (version < FASTEPOST_CONN_MIN_SERVER_VERSION) {
    PQfinish(pg);
    return fastepost__error_set(FASTEPOST_EVERSION,
                                "the server runs PostgreSQL %d.%d; libfastepost needs 12 or newer",
                                version / 10000, version % 10000 / 100);
  }
  char *database = fastepost__strdup(PQdb(pg));
  if (!database) {
    PQfinish(pg);
    return FASTEPOST_ENOMEM;
  }
  set_pg(conn, pg);
  free(conn->database);
  conn->database = database;
  rc = apply_session(conn);
  if (rc)
    fastepost_conn_close(conn);
  return rc;
}

fastepost_status fastepost_conn_open(fastepost_conn **out, const char *conninfo) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_conn_open: out is NULL");
  *out = NULL;
  if (!conninfo)
    conninfo = "";
  if (conninfo[0]) {
    /* Parse first so that a malformed string is EINVALID, not a failed connection. */
    char *err = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &err);
    if (!opts) {
      char msg[512];
      trim_message(msg, sizeof msg, err ? err : "out of memory");
      PQfreemem(err);
      return fastepost__error_set(FASTEPOST_EINVALID, "invalid connection string: %s", msg);
    }
    PQconninfoFree(opts);
  }
  fastepost_conn *conn = calloc(1, sizeof *conn);
  if (!conn)
    return fastepost__error_oom();
  if (pthread_mutex_init(&conn->cancel_lock, NULL) != 0) {
    free(conn);
    return fastepost__error_oom();
  }
  atomic_init(&conn->cancel_requested, false);
  conn->statement_timeout_ms = (int)(FASTEPOST_CONN_DEFAULT_STATEMENT_TIMEOUT_US / 1000);
  conn->lock_timeout_ms = (int)(FASTEPOST_CONN_DEFAULT_LOCK_TIMEOUT_US / 1000);
  conn->pid = getpid();
  conn->conninfo = fastepost__strdup(conninfo);
  if (!conn->conninfo) {
    fastepost_conn_free(conn);
    return FASTEPOST_ENOMEM;
  }
  int rc = connect_pg(conn);
  if (rc) {
    fastepost_conn_free(conn);
    return rc;
  }
  *out = conn;
  fastepost_error_clear();
  return FASTEPOST_OK;
}

/* In a forked child the socket is shared with the parent's session: PQfinish would send a
 * Terminate message (and an SSL close_notify) on it and end the parent's session. Replace the
 * child's descriptor with /dev/null first (dup2 swaps it atomically, so no other thread can be
 * handed the number in between); if that fails, leak the PGconn rather than touch the socket. */
static void finish_forked(PGconn *pg) {
  int fd = PQsocket(pg);
  if (fd >= 0) {
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0)
      return;
    int ok = dup2(devnull, fd) >= 0;
    close(devnull);
    if (!ok)
      return;
  }
  PQfinish(pg);
}

void fastepost_conn_close(fastepost_conn *conn) {
  if (!conn)
    return;
  PGconn *pg = conn->pg;
  bool forked = conn->pid != getpid();
  set_pg(conn, NULL);
  if (pg && forked)
    finish_forked(pg);
  else if (pg)
    PQfinish(pg);
}

fastepost_status fastepost_conn_reset(fastepost_conn *conn) {
  if (!conn)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_conn_reset: conn is NULL");
  fastepost_conn_close(conn);
  return connect_pg(conn);
}

void fastepost_conn_free(fastepost_conn *conn) {
  if (!conn)
    return;
  fastepost_conn_close(conn);
  if (conn->conninfo) /* it may hold a password: do not leave it in freed memory */
    memset(conn->conninfo, 0, strlen(conn->conninfo));
  free(conn->conninfo);
  free(conn->database);
  pthread_mutex_destroy(&conn->cancel_lock);
  free(conn);
}

fastepost_status fastepost_conn_cancel(fastepost_conn *conn) {
  if (!conn)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_conn_cancel: conn is NULL");
  int rc = FASTEPOST_OK;
  char errbuf[256];
  pthread_mutex_lock(&conn->cancel_lock);
  /* In a forked child the handle would cancel the parent's statement. */
  if (conn->cancel && conn->pid == getpid()) {
    atomic_store(&conn->cancel_requested, true);
    if (!PQcancel(conn->cancel, errbuf, sizeof errbuf))
      rc = FASTEPOST_ECONN;
  }
  pthread_mutex_unlock(&conn->cancel_lock);
  if (rc) {
    char msg[256];
    return fastepost__error_set(rc, "cannot send the cancel request: %s",
                                trim_message(msg, sizeof msg, errbuf));
  }
  return FASTEPOST_OK;
}

PGconn *fastepost__conn_pg(fastepost_conn *conn) {
  if (!conn) {
    fastepost__error_set(FASTEPOST_EINVALID, "connection is NULL");
    return NULL;
  }
  if (!conn->pg) {
    fastepost__error_set(FASTEPOST_ECONN, "the connection is closed");
    return NULL;
  }
  if (conn->pid != getpid()) {
    fastepost__error_set(FASTEPOST_ECONN,
                         "the connection was opened in another process (after fork): open a new one");
    return NULL;
  }
  if (PQstatus(conn->pg) != CONNECTION_OK) {
    fastepost__error_set(FASTEPOST_ECONN, "the connection to the database was lost");
    return NULL;
  }
  /* A cancel that found no statement running was ignored by the server. With no transaction
   * open it belonged to no call (forget it); inside one, the call is between two round trips
   * and must stop here, or the cancel would be lost. */
  if (atomic_load(&conn->cancel_requested)) {
    atomic_store(&conn->cancel_requested, false);
    if (PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
      fastepost__error_set(FASTEPOST_ECANCELED, "canceled (fastepost_conn_cancel)");
      return NULL;
    }
  }
  return conn->pg;
}

fastepost_status fastepost_conn_ping(fastepost_conn *conn) {
  return fastepost__exec(conn, "SELECT 1", "ping");
}

int fastepost_conn_is_open(const fastepost_conn *conn) {
  return conn && conn->pg ? 1 : 0;
}

int fastepost_conn_server_version(const fastepost_conn *conn) {
  return conn && conn->pg ? PQserverVersion(conn->pg) : 0;
}

const char *fastepost_conn_database(const fastepost_conn *conn) {
  return conn && conn->pg && conn->database ? conn->database : "";
}

/* Set a timeout given in µs (0: the default) as the whole milliseconds PostgreSQL takes,
 * rounded up; *ms is the connection's field (NULL when conn is NULL). */
static int set_timeout(int *ms, int64_t us, int64_t dflt, const char *what) {
  if (!ms)
    return fastepost__error_set(FASTEPOST_EINVALID, "%s: conn is NULL", what);
  if (us < 0 || us > FASTEPOST_CONN_TIMEOUT_MAX_US)
    return fastepost__error_set(FASTEPOST_EINVALID, "%s must be 0 (the default) to %lld us, not %lld us", what,
                                (long long)FASTEPOST_CONN_TIMEOUT_MAX_US, (long long)us);
  *ms = (int)(((us ? us : dflt) + 999) / 1000);
  return FASTEPOST_OK;
}

fastepost_status fastepost_conn_set_statement_timeout(fastepost_conn *conn, int64_t us) {
  return set_timeout(conn ? &conn->statement_timeout_ms : NULL, us,
                     FASTEPOST_CONN_DEFAULT_STATEMENT_TIMEOUT_US, "statement timeout");
}

fastepost_status fastepost_conn_set_lock_timeout(fastepost_conn *conn, int64_t us) {
  return set_timeout(conn ? &conn->lock_timeout_ms : NULL, us, FASTEPOST_CONN_DEFAULT_LOCK_TIMEOUT_US,
                     "lock timeout");
}

int64_t fastepost_conn_statement_timeout(const fastepost_conn *conn) {
  return conn ? (int64_t)conn->statement_timeout_ms * 1000 : 0;
}

int64_t fastepost_conn_lock_timeout(const fastepost_conn *conn) {
  return conn ? (int64_t)conn->lock_timeout_ms * 1000 : 0;
}

int fastepost__sqlstate_code(const char *sqlstate) {
  if (!sqlstate)
    return FASTEPOST_EDB;
  if (strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 ||
      strcmp(sqlstate, "57P02") == 0 || strcmp(sqlstate, "57P03") == 0)
    return FASTEPOST_ECONN;
  if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0 ||
      strcmp(sqlstate, "55P03") == 0) /* lock_not_available: lock_timeout or NOWAIT */
    return FASTEPOST_EBUSY;
  if (strcmp(sqlstate, "57014") == 0) /* query_canceled */
    return FASTEPOST_ETIMEOUT;
  if (strcmp(sqlstate, "25006") == 0) /* read_only_sql_transaction: writes on a standby */
    return FASTEPOST_EREADONLY;
  return FASTEPOST_EDB;
}

/* Refusals that only a server in recovery gives (e.g. "cannot execute nextval() during
 * recovery", feature_not_supported / object_not_in_prerequisite_state). The server reports
 * in_hot_standby since PostgreSQL 14; older ones say 25006 for the common cases. */
static bool hot_standby_refusal(const fastepost_conn *conn, const char *sqlstate) {
  if (!conn || !conn->pg || !sqlstate)
    return false;
  const char *hs = PQparameterStatus(conn->pg, "in_hot_standby");
  return hs && strcmp(hs, "on") == 0 &&
         (strcmp(sqlstate, "0A000") == 0 || strcmp(sqlstate, "55000") == 0);
}

int fastepost__pg_check(fastepost_conn *conn, const PGresult *res, ExecStatusType expected,
                        const char *what) {
  if (res && PQresultStatus(res) == expected)
    return FASTEPOST_OK;
  char msg[768];
  const char *sqlstate = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  const char *text = res ? PQresultErrorMessage(res) : "";
  if (!*text && conn && conn->pg)
    text = PQerrorMessage(conn->pg);
  trim_message(msg, sizeof msg, text);
  if (!*msg)
    snprintf(msg, sizeof msg, "unexpected result %s",
             res ? PQresStatus(PQresultStatus(res)) : "(none)");
  int code = fastepost__sqlstate_code(sqlstate);
  /* query_canceled is the statement timeout unless fastepost_conn_cancel() asked. */
  if (code == FASTEPOST_ETIMEOUT && conn && atomic_exchange(&conn->cancel_requested, false))
    code = FASTEPOST_ECANCELED;
  if (code == FASTEPOST_EDB && hot_standby_refusal(conn, sqlstate))
    code = FASTEPOST_EREADONLY;
  /* Client-side failures carry no SQLSTATE; a dead socket is a lost connection. The server
   * always sends a SQLSTATE, so a fatal result without one comes from libpq itself: after a
   * failed write to a server that was killed, PQstatus() can still say CONNECTION_OK (found by
   * the fault tests: "BEGIN: server closed the connection unexpectedly" was EDB). */
  if (!sqlstate && (!conn || !conn->pg || PQstatus(conn->pg) != CONNECTION_OK || !res ||
                    PQresultStatus(res) == PGRES_FATAL_ERROR))
    code = FASTEPOST_ECONN;
  return fastepost__error_set_sqlstate(code, sqlstate, "%s: %s", what, msg);
}

const char *fastepost__tx_settings_sql(const fastepost_conn *conn, char *buf, size_t size) {
  /* set_config(..., true) is SET LOCAL as one statement (with a result), so that it also fits a
   * pipeline, where each query must be a single statement. */
  snprintf(buf, size, FASTEPOST__TX_SETTINGS("'%d'", "'%d'"), conn ? conn->statement_timeout_ms : 0,
           conn ? conn->lock_timeout_ms : 0);
  return buf;
}

/* Statements that PostgreSQL refuses inside a transaction block, implicit ones included
 * ("cannot run inside a transaction block"): they cannot carry SET LOCAL settings. */
static bool needs_no_transaction(const char *sql) {
  static const char *const prefixes[] = {"CREATE DATABASE", "DROP DATABASE", "VACUUM",
                                         "ALTER SYSTEM", "CREATE TABLESPACE", "DROP TABLESPACE",
                                         "REINDEX SYSTEM", "REINDEX DATABASE"};
  while (fastepost__ascii_isspace((unsigned char)*sql))
    sql++;
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (fastepost__ascii_ncasecmp(sql, prefixes[i], strlen(prefixes[i])) == 0)
      return true;
  for (const char *p = sql; *p; p++) /* CREATE INDEX CONCURRENTLY, REINDEX ... CONCURRENTLY */
    if (fastepost__ascii_ncasecmp(p, "CONCURRENTLY", 12) == 0)
      return true;
  return false;
}

static int exec_plain(fastepost_conn *conn, PGconn *pg, const char *sql, const char *what) {
  PGresult *res = PQexec(pg, sql);
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  int rc = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
               ? FASTEPOST_OK
               : fastepost__pg_check(conn, res, PGRES_COMMAND_OK, what);
  PQclear(res);
  return rc;
}

int fastepost__exec(fastepost_conn *conn, const char *sql, const char *what) {
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;
  if (PQtransactionStatus(pg) != PQTRANS_IDLE || needs_no_transaction(sql))
    return exec_plain(conn, pg, sql, what);
  /* One simple-query message: its statements form an implicit transaction, so the settings
   * hold for them and end with it (a leading `BEGIN` in sql turns it into an explicit one,
   * settings included). */
  char settings[FASTEPOST__TX_SETTINGS_SIZE];
  fastepost__buf full = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&full, fastepost__tx_settings_sql(conn, settings, sizeof settings));
  fastepost__buf_puts(&full, "; ");
  fastepost__buf_puts(&full, sql);
  int rc = full.oom ? fastepost__error_oom() : exec_plain(conn, pg, fastepost__buf_cstr(&full), what);
  fastepost__buf_free(&full);
  return rc;
}

/* A pipeline that failed half-way (its server died, a send failed) leaves libpq in pipeline
 * mode with results pending, and PQstatus() may still say CONNECTION_OK: every later statement
 * would fail and PQtransactionStatus() say "active". Collect what is pending so that the
 * connection is either usable again or visibly broken (for the caller's reconnect). Reading a
 * dead socket ends at once; a silent one is bounded by the keepalives. */
static void pipeline_leave(PGconn *pg) {
  for (int guard = 0; guard < 64 && PQpipelineStatus(pg) != PQ_PIPELINE_OFF; guard++) {
    if (PQexitPipelineMode(pg) || PQstatus(pg) != CONNECTION_OK)
      return;
    PGresult *res;
    while ((res = PQgetResult(pg)) != NULL)
      PQclear(res);
  }
}

/* Outside a transaction: the settings and the statement in one pipeline, which runs both in
 * one implicit transaction (it ends at the sync point) and costs one round trip. */
static int query_with_settings(PGresult **out, fastepost_conn *conn, PGconn *pg, const char *sql,
                               int nparams, const char *const *params, ExecStatusType expected,
                               const char *what) {
  char settings[FASTEPOST__TX_SETTINGS_SIZE];
  fastepost__tx_settings_sql(conn, settings, sizeof settings);
  if (!PQenterPipelineMode(pg))
    return fastepost__pg_check(conn, NULL, expected, what);
  int rc = FASTEPOST_OK;
  if (!PQsendQueryParams(pg, settings, 0, NULL, NULL, NULL, NULL, 0) ||
      !PQsendQueryParams(pg, sql, nparams, NULL, params, NULL, NULL, 0) || !PQpipelineSync(pg)) {
    rc = fastepost__pg_check(conn, NULL, expected, what);
    pipeline_leave(pg);
    return rc;
  }
  PGresult *results[2] = {NULL, NULL};
  for (int i = 0; i < 2; i++) {
    results[i] = PQgetResult(pg);
    if (!results[i])
      break;
    PGresult *extra; /* each query's results end with NULL */
    while ((extra = PQgetResult(pg)) != NULL)
      PQclear(extra);
  }
  /* The settings' failure explains the statement's PGRES_PIPELINE_ABORTED. */
  if (!results[0] || PQresultStatus(results[0]) != PGRES_TUPLES_OK)
    rc = fastepost__pg_check(conn, results[0], PGRES_TUPLES_OK, what);
  else
    rc = fastepost__pg_check(conn, results[1], expected, what);
  for (int guard = 0; guard < 4 && PQstatus(pg) == CONNECTION_OK; guard++) {
    PGresult *res = PQgetResult(pg);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_EMPTY_QUERY;
    PQclear(res);
    if (st == PGRES_PIPELINE_SYNC)
      break;
  }
  if (!PQexitPipelineMode(pg)) {
    if (rc == FASTEPOST_OK)
      rc = fastepost__pg_check(conn, NULL, expected, what);
    pipeline_leave(pg);
  }
  PQclear(results[0]);
  if (rc)
    PQclear(results[1]);
  else
    *out = results[1];
  return rc;
}

int fastepost__query(PGresult **out, fastepost_conn *conn, const char *sql, int nparams,
                     const char *const *params, ExecStatusType expected, const char *what) {
  *out = NULL;
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;
  if (PQtransactionStatus(pg) == PQTRANS_IDLE)
    return query_with_settings(out, conn, pg, sql, nparams, params, expected, what);
  PGresult *res = PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
  int rc = fastepost__pg_check(conn, res, expected, what);
  if (rc) {
    PQclear(res);
    return rc;
  }
  *out = res;
  return FASTEPOST_OK;
}

int fastepost__query_bool(bool *out, fastepost_conn *conn, const char *sql, int nparams,
                          const char *const *params, const char *what) {
  PGresult *res;
  int rc = fastepost__query(&res, conn, sql, nparams, params, PGRES_TUPLES_OK, what);
  if (rc)
    return rc;
  *out = PQntuples(res) > 0 && PQgetvalue(res, 0, 0)[0] == 't';
  PQclear(res);
  return FASTEPOST_OK;
}

void *fastepost__query_rows(int *rc, PGresult **res, int *n, size_t size, fastepost_conn *conn,
                            const char *sql, int nparams, const char *const *params,
                            const char *what) {
  *n = 0;
  *rc = fastepost__query(res, conn, sql, nparams, params, PGRES_TUPLES_OK, what);
  if (*rc)
    return NULL;
  *n = PQntuples(*res);
  void *rows = calloc(*n ? (size_t)*n : 1, size);
  if (!rows) {
    PQclear(*res);
    *res = NULL;
    *rc = fastepost__error_oom();
  }
  return rows;
}

int fastepost__tx_begin_mode(fastepost_conn *conn, const char *mode) {
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;
  char settings[FASTEPOST__TX_SETTINGS_SIZE];
  fastepost__buf sql = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&sql, "BEGIN%s%s; %s", mode && *mode ? " " : "", mode ? mode : "",
                        fastepost__tx_settings_sql(conn, settings, sizeof settings));
  int rc = sql.oom ? fastepost__error_oom() : exec_plain(conn, pg, fastepost__buf_cstr(&sql), "BEGIN");
  fastepost__buf_free(&sql);
  return rc;
}

int fastepost__tx_begin(fastepost_conn *conn) { return fastepost__tx_begin_mode(conn, NULL); }

int fastepost__tx_commit(fastepost_conn *conn) { return fastepost__exec(conn, "COMMIT", "COMMIT"); }

void fastepost__tx_rollback(fastepost_conn *conn) {
  if (!conn || !conn->pg || conn->pid != getpid())
    return;
  pipeline_leave(conn->pg);
  if (PQstatus(conn->pg) == CONNECTION_OK && PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
    PGresult *res = PQexec(conn->pg, "ROLLBACK");
    PQclear(res);
  }
}
