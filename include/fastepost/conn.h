/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost/conn.h
 * @brief A connection to the PostgreSQL database that holds the Fast Epost tables.
 *
 * A fastepost_conn wraps one libpq connection. Like a PGconn, it may be used by one thread at
 * a time; only fastepost_conn_cancel() may be called from another thread meanwhile. The
 * connection always uses UTF-8 and the UTC time zone, whatever the server's defaults, because
 * the schema stores Rails-style UTC timestamps.
 *
 * Every wait is bounded:
 * - Connecting: `connect_timeout` is 10 s (FASTEPOST_CONN_DEFAULT_CONNECT_TIMEOUT_US) and TCP
 *   keepalives are on (`keepalives=1 keepalives_idle=30 keepalives_interval=10
 *   keepalives_count=3`) unless the connection string (key=value or URL) says otherwise, or
 *   libpq's own defaults do: libpq reads its documented `PG*` environment variables
 *   (`PGCONNECT_TIMEOUT`, `PGHOST` ...) and its service file, and the library asks libpq
 *   (PQconndefaults) whether one of them set the value, exactly as libpq would apply it. The
 *   library itself reads no environment variable. (libpq counts the timeout per host address
 *   and raises 1 s to 2 s; 0 means no limit.)
 * - Statements: every transaction the library opens sets, for itself only (SET LOCAL, so a
 *   transaction pooler such as PgBouncer never hands them to another client), the connection's
 *   statement timeout (default FASTEPOST_CONN_DEFAULT_STATEMENT_TIMEOUT_US, 30 s), lock timeout
 *   (default FASTEPOST_CONN_DEFAULT_LOCK_TIMEOUT_US, 5 s) and `TimeZone` UTC. A statement the
 *   library runs outside a transaction gets them too: it is sent together with the settings
 *   as one implicit transaction (one round trip). The session itself keeps only
 *   `client_encoding` and `TimeZone`, which PgBouncer tracks per client.
 * - Failures map as: a statement timeout -> FASTEPOST_ETIMEOUT; a lock not granted within the
 *   lock timeout (SQLSTATE 55P03), a deadlock or serialization failure -> FASTEPOST_EBUSY
 *   (retry later: HTTP 503); a statement stopped by fastepost_conn_cancel() ->
 *   FASTEPOST_ECANCELED; a write on a hot standby or read-only transaction (25006) ->
 *   FASTEPOST_EREADONLY; a lost connection (08xxx, 57P01-57P03) -> FASTEPOST_ECONN.
 *
 * After fork(), a connection opened by the parent is unusable in the child: every call fails
 * with FASTEPOST_ECONN ("opened in another process"), fastepost_conn_close() and
 * fastepost_conn_free() release the child's copy without sending anything on the socket that
 * the parent still uses, and fastepost_conn_reset() opens a fresh connection for the child.
 * The parent's session is never disturbed.
 */
#ifndef FASTEPOST_CONN_H
#define FASTEPOST_CONN_H

#include "common.h"

FASTEPOST_BEGIN_DECLS

/** An open (or closed) database connection. Opaque. */
typedef struct fastepost_conn fastepost_conn;

/** The oldest PostgreSQL server version the library accepts (as PQserverVersion reports). */
#define FASTEPOST_CONN_MIN_SERVER_VERSION 120000

/** `connect_timeout` when neither the connection string nor libpq's defaults set it, in
 * microseconds (10 s; libpq counts whole seconds). */
#define FASTEPOST_CONN_DEFAULT_CONNECT_TIMEOUT_US INT64_C(10000000)
/** The statement timeout of a new connection, in microseconds (30 s). */
#define FASTEPOST_CONN_DEFAULT_STATEMENT_TIMEOUT_US INT64_C(30000000)
/** The lock timeout of a new connection, in microseconds (5 s). */
#define FASTEPOST_CONN_DEFAULT_LOCK_TIMEOUT_US INT64_C(5000000)
/** The longest statement or lock timeout, in microseconds: PostgreSQL's limit (2^31 - 1 ms,
 * about 24.8 days). Give it for "practically no limit" (long exports of huge tables). */
#define FASTEPOST_CONN_TIMEOUT_MAX_US (INT64_C(2147483647) * 1000)

/**
 * Connect to a database.
 *
 * @param out       receives the new connection, to be released with fastepost_conn_free();
 *                  set to NULL on failure
 * @param conninfo  a libpq connection string (`host=/tmp dbname=app`) or URL
 *                  (`postgresql://user@host/db`); NULL or "" uses libpq's defaults (the
 *                  `PG*` environment variables)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when the string cannot be parsed;
 *         FASTEPOST_ECONN when the server cannot be reached, does not answer within the
 *         connect timeout (the message says "timed out") or refuses the login (libpq's
 *         message is kept); FASTEPOST_EVERSION for a server older than PostgreSQL 12
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_conn_open(fastepost_conn **out, const char *conninfo);

/**
 * Disconnect now, keeping the handle valid: later calls fail with FASTEPOST_ECONN until
 * fastepost_conn_reset(). Safe to call twice. In a forked child it closes only the child's
 * copy of the socket (no Terminate message reaches the parent's session).
 */
FASTEPOST_EXTERN(void) fastepost_conn_close(fastepost_conn *conn);

/**
 * Reconnect with the same parameters, e.g. after the server restarted, or in a child process
 * after fork() (the parent's session is left alone). The timeouts are kept.
 *
 * @return FASTEPOST_OK or FASTEPOST_ECONN
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_conn_reset(fastepost_conn *conn);

/** Disconnect and release the handle (fork-safe like fastepost_conn_close()). A no-op on NULL.
 * Must not run while another thread calls fastepost_conn_cancel() on the same handle. */
FASTEPOST_EXTERN(void) fastepost_conn_free(fastepost_conn *conn);

/**
 * Check that the server answers a query.
 *
 * @return FASTEPOST_OK; FASTEPOST_ECONN when the connection is closed or lost
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_conn_ping(fastepost_conn *conn);

/**
 * Whether the connection is open: 1 after a successful fastepost_conn_open() or
 * fastepost_conn_reset(), 0 after fastepost_conn_close() (or a failed reset) and for NULL.
 * In a forked child it stays 1 (calls fail with FASTEPOST_ECONN until fastepost_conn_reset()),
 * and a connection the server dropped stays 1 until a call finds out: use
 * fastepost_conn_ping() to ask the server.
 */
FASTEPOST_EXTERN(int) fastepost_conn_is_open(const fastepost_conn *conn);

/**
 * The server's version as PQserverVersion() reports it (150004 for 15.4), or 0 when not
 * connected.
 */
FASTEPOST_EXTERN(int) fastepost_conn_server_version(const fastepost_conn *conn);

/**
 * The name of the connected database. Borrowed: valid until the connection is closed,
 * reset or freed. "" when not connected.
 */
FASTEPOST_EXTERN(const char *) fastepost_conn_database(const fastepost_conn *conn);

/**
 * Limit how long any one statement may run (PostgreSQL's statement_timeout), from the next
 * transaction or statement the library starts on; kept across fastepost_conn_reset(). A
 * statement that runs longer fails with FASTEPOST_ETIMEOUT. Long exports and imports of big
 * tables may need a larger value (up to FASTEPOST_CONN_TIMEOUT_MAX_US). The server counts
 * milliseconds: a value is rounded up to the next whole millisecond.
 *
 * @param us  microseconds; 0 means the default, FASTEPOST_CONN_DEFAULT_STATEMENT_TIMEOUT_US
 *            (30 s). There is no "off": the limit protects the process from a hung statement.
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a NULL conn, a negative value or one over
 *         FASTEPOST_CONN_TIMEOUT_MAX_US
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_conn_set_statement_timeout(fastepost_conn *conn,
                                                                        int64_t us);

/**
 * Limit how long a statement waits for a lock (PostgreSQL's lock_timeout): a row or table
 * that another session holds longer gives FASTEPOST_EBUSY (HTTP 503, retry later) instead of
 * a hang. Applies like fastepost_conn_set_statement_timeout().
 *
 * @param us  microseconds; 0 means the default, FASTEPOST_CONN_DEFAULT_LOCK_TIMEOUT_US (5 s)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a NULL conn, a negative value or one over
 *         FASTEPOST_CONN_TIMEOUT_MAX_US
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_conn_set_lock_timeout(fastepost_conn *conn, int64_t us);

/** The statement timeout in effect, in microseconds (a whole number of milliseconds, never
 * 0 for a connection); 0 for NULL. */
FASTEPOST_EXTERN(int64_t) fastepost_conn_statement_timeout(const fastepost_conn *conn);

/** The lock timeout in effect, in microseconds; 0 for NULL. */
FASTEPOST_EXTERN(int64_t) fastepost_conn_lock_timeout(const fastepost_conn *conn);

/**
 * Ask the server to stop the statement that runs on conn now; the call running it returns
 * FASTEPOST_ECANCELED. Safe to call from any thread (and from a Ruby unblocking function)
 * while another thread uses conn, and concurrently with fastepost_conn_close() and
 * fastepost_conn_reset() on it; not with fastepost_conn_free(). It waits for the server to
 * take the request (a short round trip on a new socket), not for the call to end.
 *
 * When no statement runs, the server ignores the request and nothing changes. A call that is
 * between two statements of its own transaction stops before its next one. Cancelling is not
 * retroactive: a call that starts after this returned is not affected. In a forked child, and
 * on a closed connection, it does nothing. Programs the library runs (pg_dump, pg_restore)
 * are not stopped by it.
 *
 * @return FASTEPOST_OK (also when there was nothing to cancel); FASTEPOST_EINVALID for NULL;
 *         FASTEPOST_ECONN when the request could not be sent
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_conn_cancel(fastepost_conn *conn);

FASTEPOST_END_DECLS

#endif
