/* Connections: libpq wrapped with the session settings the schema relies on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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

static int apply_session(fastepost_conn *conn) {
  char sql[128];
  /* The schema stores naive UTC timestamps, as Rails does: make now() agree. */
  snprintf(sql, sizeof sql, "SET TIME ZONE 'UTC'; SET statement_timeout = %d",
           conn->statement_timeout_ms);
  return fastepost__exec(conn, sql, "configuring the session");
}

static int connect_pg(fastepost_conn *conn) {
  const char *keys[4], *vals[4];
  int n = 0;
  if (conn->conninfo[0]) {
    keys[n] = "dbname";
    vals[n++] = conn->conninfo;
  }
  /* After dbname, so that they override whatever the string said: the library speaks UTF-8. */
  keys[n] = "client_encoding";
  vals[n++] = "UTF8";
  keys[n] = "fallback_application_name";
  vals[n++] = "libfastepost";
  keys[n] = NULL;
  vals[n] = NULL;

  PGconn *pg = PQconnectdbParams(keys, vals, 1);
  if (!pg)
    return fastepost__error_oom();
  if (PQstatus(pg) != CONNECTION_OK) {
    char msg[768];
    trim_message(msg, sizeof msg, PQerrorMessage(pg));
    PQfinish(pg);
    return fastepost__error_set(FASTEPOST_ECONN, "cannot connect to the database: %s", msg);
  }
  int version = PQserverVersion(pg);
  if (version < FASTEPOST_MIN_SERVER_VERSION) {
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
  conn->pg = pg;
  conn->prepared = 0; /* a new session has no prepared statements */
  free(conn->database);
  conn->database = database;
  int rc = apply_session(conn);
  if (rc) {
    PQfinish(conn->pg);
    conn->pg = NULL;
  }
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
  conn->conninfo = fastepost__strdup(conninfo);
  if (!conn->conninfo) {
    free(conn);
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

void fastepost_conn_close(fastepost_conn *conn) {
  if (!conn)
    return;
  if (conn->pg)
    PQfinish(conn->pg);
  conn->pg = NULL;
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
  free(conn);
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
  if (PQstatus(conn->pg) != CONNECTION_OK) {
    fastepost__error_set(FASTEPOST_ECONN, "the connection to the database was lost");
    return NULL;
  }
  return conn->pg;
}

fastepost_status fastepost_conn_ping(fastepost_conn *conn) {
  return fastepost__exec(conn, "SELECT 1", "ping");
}

int fastepost_conn_server_version(const fastepost_conn *conn) {
  return conn && conn->pg ? PQserverVersion(conn->pg) : 0;
}

const char *fastepost_conn_database(const fastepost_conn *conn) {
  return conn && conn->pg && conn->database ? conn->database : "";
}

fastepost_status fastepost_conn_set_statement_timeout(fastepost_conn *conn, int ms) {
  if (!conn || ms < 0)
    return fastepost__error_set(FASTEPOST_EINVALID, "statement timeout must be 0 or more ms, not %d", ms);
  conn->statement_timeout_ms = ms;
  return apply_session(conn);
}

int fastepost__sqlstate_code(const char *sqlstate) {
  if (!sqlstate)
    return FASTEPOST_EDB;
  if (strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 ||
      strcmp(sqlstate, "57P02") == 0 || strcmp(sqlstate, "57P03") == 0)
    return FASTEPOST_ECONN;
  if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0)
    return FASTEPOST_EBUSY;
  return FASTEPOST_EDB;
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
  /* Client-side failures carry no SQLSTATE; a dead socket is a lost connection. The server
   * always sends a SQLSTATE, so a fatal result without one comes from libpq itself: after a
   * failed write to a server that was killed, PQstatus() can still say CONNECTION_OK (found by
   * the fault tests: "BEGIN: server closed the connection unexpectedly" was EDB). */
  if (!sqlstate && (!conn || !conn->pg || PQstatus(conn->pg) != CONNECTION_OK || !res ||
                    PQresultStatus(res) == PGRES_FATAL_ERROR))
    code = FASTEPOST_ECONN;
  return fastepost__error_set_sqlstate(code, sqlstate, "%s: %s", what, msg);
}

int fastepost__exec(fastepost_conn *conn, const char *sql, const char *what) {
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;
  PGresult *res = PQexec(pg, sql);
  ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  int rc = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
               ? FASTEPOST_OK
               : fastepost__pg_check(conn, res, PGRES_COMMAND_OK, what);
  PQclear(res);
  return rc;
}

int fastepost__query(PGresult **out, fastepost_conn *conn, const char *sql, int nparams,
                     const char *const *params, ExecStatusType expected, const char *what) {
  *out = NULL;
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;
  PGresult *res = PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
  int rc = fastepost__pg_check(conn, res, expected, what);
  if (rc) {
    PQclear(res);
    return rc;
  }
  *out = res;
  return FASTEPOST_OK;
}

int fastepost__tx_begin(fastepost_conn *conn) { return fastepost__exec(conn, "BEGIN", "BEGIN"); }

int fastepost__tx_commit(fastepost_conn *conn) { return fastepost__exec(conn, "COMMIT", "COMMIT"); }

void fastepost__tx_rollback(fastepost_conn *conn) {
  if (conn && conn->pg && PQstatus(conn->pg) == CONNECTION_OK &&
      PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
    PGresult *res = PQexec(conn->pg, "ROLLBACK");
    PQclear(res);
  }
}
