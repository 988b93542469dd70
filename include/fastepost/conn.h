/**
 * @file fastepost/conn.h
 * @brief A connection to the PostgreSQL database that holds the Fast Epost tables.
 *
 * A fastepost_conn wraps one libpq connection. Like a PGconn, it may be used by one thread at
 * a time. The connection always uses UTF-8 and the UTC time zone, whatever the server's
 * defaults, because the schema stores Rails-style UTC timestamps.
 */
#ifndef FASTEPOST_CONN_H
#define FASTEPOST_CONN_H

#include "common.h"

FASTEPOST_BEGIN_DECLS

/** An open (or closed) database connection. Opaque. */
typedef struct fastepost_conn fastepost_conn;

/** The oldest PostgreSQL server version the library accepts (as PQserverVersion reports). */
#define FASTEPOST_MIN_SERVER_VERSION 120000

/**
 * Connect to a database.
 *
 * @param out       receives the new connection, to be released with fastepost_conn_free();
 *                  set to NULL on failure
 * @param conninfo  a libpq connection string (`host=/tmp dbname=app`) or URL
 *                  (`postgresql://user@host/db`); NULL or "" uses libpq's defaults (the
 *                  `PG*` environment variables)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when the string cannot be parsed;
 *         FASTEPOST_ECONN when the server cannot be reached or refuses the login (libpq's
 *         message is kept); FASTEPOST_EVERSION for a server older than PostgreSQL 12
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_conn_open(fastepost_conn **out, const char *conninfo);

/**
 * Disconnect now, keeping the handle valid: later calls fail with FASTEPOST_ECONN until
 * fastepost_conn_reset(). Safe to call twice.
 */
FASTEPOST_EXTERN(void) fastepost_conn_close(fastepost_conn *conn);

/**
 * Reconnect with the same parameters, e.g. after the server restarted.
 *
 * @return FASTEPOST_OK or FASTEPOST_ECONN
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_conn_reset(fastepost_conn *conn);

/** Disconnect and release the handle. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_conn_free(fastepost_conn *conn);

/**
 * Check that the server answers a query.
 *
 * @return FASTEPOST_OK; FASTEPOST_ECONN when the connection is closed or lost
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_conn_ping(fastepost_conn *conn);

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
 * Limit how long any one statement may run. Applies now and after fastepost_conn_reset().
 *
 * @param ms  milliseconds; 0 turns the limit off
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a negative value; FASTEPOST_ECONN, FASTEPOST_EDB
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_conn_set_statement_timeout(fastepost_conn *conn, int ms);

FASTEPOST_END_DECLS

#endif
