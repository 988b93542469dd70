/* SPDX-License-Identifier: MIT */
/*
 * Private declarations shared between the library's source files. Never installed.
 * Cross-file internals are named fastepost__<noun>_<verb>.
 */
#ifndef FASTEPOST_INTERNAL_H
#define FASTEPOST_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "fastepost.h"

#if defined(__GNUC__)
#define FASTEPOST__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define FASTEPOST__PRINTF(fmt, args)
#endif

/* ---- errors.c ------------------------------------------------------------------------------ */

/* Record a failure for fastepost_error_last() and return its code, so that callers can write
 * `return fastepost__error_set(FASTEPOST_EINVALID, "...", ...);`. */
int fastepost__error_set(int code, const char *fmt, ...) FASTEPOST__PRINTF(2, 3);
int fastepost__error_setv(int code, const char *fmt, va_list ap) FASTEPOST__PRINTF(2, 0);
/* The same with a SQLSTATE attached. */
int fastepost__error_set_sqlstate(int code, const char *sqlstate, const char *fmt, ...)
    FASTEPOST__PRINTF(3, 4);
/* Record an out-of-memory failure. */
int fastepost__error_oom(void);
/* Prefix the current message with context ("importing customers: <old message>"). */
void fastepost__error_prefix(const char *fmt, ...) FASTEPOST__PRINTF(1, 2);

/* ---- conn.c -------------------------------------------------------------------------------- */

enum { FASTEPOST__PREPARE_UNKNOWN, FASTEPOST__PREPARE_ON, FASTEPOST__PREPARE_OFF };
#define FASTEPOST__PREPARED_MAX 16

struct fastepost_conn {
  PGconn *pg;              /* NULL after fastepost_conn_close() */
  char *conninfo;          /* kept for fastepost_conn_reset(); never logged */
  int statement_timeout_ms; /* applied with SET LOCAL in every transaction the library opens */
  int lock_timeout_ms;
  int connect_timeout_s;   /* the effective connect_timeout, for the "timed out" message */
  char *database;          /* copy of PQdb(), "" when closed */
  /* fastepost_conn_cancel() runs on other threads: `cancel` and `pid` change only under
   * cancel_lock, and the cancel flag is atomic. */
  pthread_mutex_t cancel_lock;
  PGcancel *cancel;        /* made at connect time; NULL when closed */
  pid_t pid;               /* the process that connected: a forked child must not use pg */
  atomic_bool cancel_requested; /* a query_canceled (57014) then means ECANCELED, not ETIMEOUT */
  /* Named prepared statements of the sync core's per-event path (see fastepost__conn_prepare_*
   * below). Both reset whenever a new PGconn is installed: they belong to its server session. */
  int prepare; /* FASTEPOST__PREPARE_UNKNOWN, _ON or _OFF */
  const char *prepared[FASTEPOST__PREPARED_MAX]; /* names prepared in this session (literals) */
  size_t nprepared;
};

/* The live libpq connection, or NULL with an error recorded: ECONN when closed, lost or opened
 * in another process (after fork); ECANCELED when fastepost_conn_cancel() asked while the
 * caller's transaction was open between two statements. Call it before each round trip. */
PGconn *fastepost__conn_pg(fastepost_conn *conn);

/*
 * Named prepared statements, only where they are safe. A statement prepared by name lives in the
 * server session, and behind a transaction pooler (PgBouncer in transaction mode) the next
 * transaction may run in another session, where the name is missing or is another client's.
 * So the sync core prepares its per-event calls only once it knows that it talks to its server
 * directly: a pooler answers the connection with a cancel key of its own, so PQbackendPID()
 * equals the pid the server reports only without one in between. The sync transaction's settings
 * statement reports that pid (src/sync/txn.c); until then, and for good when they differ, every
 * statement is sent unnamed, as before.
 * detect: from the pid the server reported (text), once per session; on: whether to prepare;
 * has/add: whether `name` (a string literal, one SQL text per name) is prepared in this session;
 * off: never again on this session (a prepared statement was missing or taken: 26000, 42P05).
 */
void fastepost__conn_prepare_detect(fastepost_conn *conn, const char *server_pid);
bool fastepost__conn_prepare_on(const fastepost_conn *conn);
bool fastepost__conn_prepared_has(const fastepost_conn *conn, const char *name);
void fastepost__conn_prepared_add(fastepost_conn *conn, const char *name);
void fastepost__conn_prepare_off(fastepost_conn *conn);

/*
 * Turn a libpq result into a status. OK when PQresultStatus is `expected`; otherwise records
 * the server's message with its SQLSTATE, prefixed by `what`, and maps the failure: lost
 * connection (08*, 57P0x, or none from libpq) -> ECONN; serialization failure, deadlock or
 * lock_timeout (55P03) -> EBUSY; query_canceled (57014) -> ECANCELED after
 * fastepost_conn_cancel(), else ETIMEOUT (statement_timeout); read-only transaction (25006) or
 * a hot-standby refusal -> EREADONLY; else EDB. Does not clear `res`.
 */
int fastepost__pg_check(fastepost_conn *conn, const PGresult *res, ExecStatusType expected,
                        const char *what);
/* Map a SQLSTATE (may be NULL) to an error code as fastepost__pg_check does without knowing
 * the connection (57014 -> ETIMEOUT). */
int fastepost__sqlstate_code(const char *sqlstate);

/*
 * Statements. Both apply the connection's settings (statement and lock timeouts, UTC) when no
 * transaction is open, in the same round trip: the statement runs in an implicit transaction
 * that starts with fastepost__tx_settings_sql(). Inside a transaction opened with
 * fastepost__tx_begin() the settings are already in force.
 * fastepost__exec: a statement (or several, `;`-separated) without parameters; any result
 * status but an error is OK. Statements that PostgreSQL refuses inside a transaction block
 * (CREATE/DROP DATABASE, VACUUM, ... CONCURRENTLY) are sent alone, without the settings.
 * fastepost__query: one parameterised statement (text parameters); the result in *out for the
 * caller to PQclear (NULL on failure). `expected` is PGRES_TUPLES_OK or PGRES_COMMAND_OK.
 */
int fastepost__exec(fastepost_conn *conn, const char *sql, const char *what);
int fastepost__query(PGresult **out, fastepost_conn *conn, const char *sql, int nparams,
                     const char *const *params, ExecStatusType expected, const char *what);
/* A yes/no question to the server: *out = whether the first value of the first row of a SELECT
 * (fastepost__query, PGRES_TUPLES_OK) is true; false when there is no row. */
int fastepost__query_bool(bool *out, fastepost_conn *conn, const char *sql, int nparams,
                          const char *const *params, const char *what);
/*
 * A SELECT whose rows the caller copies into an array: fastepost__query (PGRES_TUPLES_OK), then
 * the array, zeroed, one element of `size` bytes per row (at least one, so that NULL only means
 * failure). Returns the array with *res (to PQclear), *n rows and *rc = FASTEPOST_OK; or NULL
 * with *rc the recorded error (ENOMEM for the array) and nothing to clear.
 */
void *fastepost__query_rows(int *rc, PGresult **res, int *n, size_t size, fastepost_conn *conn,
                            const char *sql, int nparams, const char *const *params,
                            const char *what);

/*
 * Transactions. Every transaction the library opens applies the connection's settings with
 * SET LOCAL semantics (they end with it, so a transaction pooler never hands them on):
 * fastepost__tx_begin sends `BEGIN; <settings>` in one round trip; fastepost__tx_begin_mode the
 * same with a mode literal after BEGIN ("ISOLATION LEVEL REPEATABLE READ, READ ONLY"; a
 * constant, never input). rollback never fails (it reports nothing, keeping the original error)
 * and does nothing in a forked child.
 */
int fastepost__tx_begin(fastepost_conn *conn);
int fastepost__tx_begin_mode(fastepost_conn *conn, const char *mode);
int fastepost__tx_commit(fastepost_conn *conn);
void fastepost__tx_rollback(fastepost_conn *conn);

/*
 * The settings as ONE statement, for callers that build their own round trips (pipelines):
 * `SELECT pg_catalog.set_config('statement_timeout', '30000', true), ...lock_timeout...,
 * ...TimeZone 'UTC'...`. Send it right after BEGIN (or first in an implicit transaction); its
 * result is PGRES_TUPLES_OK (one row). Written into buf (FASTEPOST__TX_SETTINGS_SIZE bytes
 * suffice); returns buf.
 */
#define FASTEPOST__TX_SETTINGS_SIZE 256
const char *fastepost__tx_settings_sql(const fastepost_conn *conn, char *buf, size_t size);
/* Its text, with the two timeouts (in ms, as SQL text) where the arguments say: "'%d'" for
 * printf, "$1" for a parameter. */
#define FASTEPOST__TX_SETTINGS(statement_ms, lock_ms)                                             \
  "SELECT pg_catalog.set_config('statement_timeout', " statement_ms ", true), "                   \
  "pg_catalog.set_config('lock_timeout', " lock_ms ", true), "                                     \
  "pg_catalog.set_config('TimeZone', 'UTC', true)"

/* Marks a transaction's writes as the sync core's own (one select-list item, SET LOCAL
 * semantics): the push-back outbox triggers of migration 12 skip them, so that what came from a
 * CRM is never queued to be sent back to it. Used where the sync core's transactions begin
 * (src/sync/txn.c) and by the push when it records what it sent (src/odoo_push.c). */
/* The retry backoff of the library's queues (failed events, the push-back outbox), as SQL in
 * seconds: 30 s doubled per earlier attempt (n: the attempts before this one), at most 1 h. */
#define FASTEPOST__BACKOFF_SECS_SQL(n) "least(30 * 2 ^ least(" n ", 12), 3600)"

#define FASTEPOST__ORIGIN_SYNC_SQL "pg_catalog.set_config('fastepost.origin', 'sync', true)"

/* ---- events.c ------------------------------------------------------------------------------ */

/* The statement fastepost_events_list() runs for a given set of filters ($1 source, $2 status,
 * $3 limit), for the test that checks each one's plan. */
const char *fastepost__events_list_sql(bool source, bool status);

/* ---- retention.c --------------------------------------------------------------------------- */

/* The statement each batch of fastepost_events_prune() runs ($1 cutoff, $2 status or 'all',
 * $3 batch size, $4 and $5 the (created_at, id) the previous batch ended at), for the test that
 * checks its plan. */
const char *fastepost__prune_batch_sql(void);

/* ---- util/buf.c: a growable string -------------------------------------------------------- */

typedef struct fastepost__buf {
  char *data; /* always NUL-terminated once anything was appended; NULL when empty */
  size_t len;
  size_t cap;
  bool oom;   /* sticky: a failed append makes every later one a no-op */
} fastepost__buf;

#define FASTEPOST__BUF_INIT {NULL, 0, 0, false}

int fastepost__buf_grow(fastepost__buf *buf, size_t extra);
int fastepost__buf_append(fastepost__buf *buf, const char *data, size_t len);
int fastepost__buf_puts(fastepost__buf *buf, const char *s);
int fastepost__buf_putc(fastepost__buf *buf, char c);
int fastepost__buf_printf(fastepost__buf *buf, const char *fmt, ...) FASTEPOST__PRINTF(2, 3);
/* "" when nothing was appended; never NULL. */
const char *fastepost__buf_cstr(const fastepost__buf *buf);
/* Hand the string to the caller (to free with fastepost_free); the buffer becomes empty.
 * Returns NULL (and records ENOMEM) when an append had failed. */
char *fastepost__buf_detach(fastepost__buf *buf);
void fastepost__buf_clear(fastepost__buf *buf);
/* Append a PostgreSQL text[] literal of items[0..n) (NULL items are SQL NULLs), for arrays sent
 * as one text parameter. The buffer's status (ENOMEM once any append failed). */
int fastepost__buf_array_literal(fastepost__buf *buf, const char *const *items, size_t n);
void fastepost__buf_free(fastepost__buf *buf);

/* ---- util/str.c ---------------------------------------------------------------------------- */

/* strdup that records ENOMEM on failure. */
char *fastepost__strdup(const char *s);
char *fastepost__strndup(const char *s, size_t n);
/* Constant-time comparison of two byte strings (time depends only on the lengths). */
bool fastepost__ct_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Whether [s, s+len) is valid UTF-8. On failure *bad_offset (if not NULL) is the first bad byte. */
bool fastepost__utf8_valid(const char *s, size_t len, size_t *bad_offset);
/* A short, printable, UTF-8-safe preview of a value for error messages (at most ~40 bytes,
 * control characters escaped); written into out (size >= 64). */
void fastepost__preview(char *out, size_t outsize, const char *s, size_t len);

/* ---- ASCII classification (util/str.c) ------------------------------------------------------ */

/* Locale-independent byte classes. <ctype.h> follows LC_CTYPE: under tr_TR tolower('I') is not
 * 'i', and in single-byte locales bytes >= 0x80 of UTF-8 text count as letters or spaces. Wire
 * formats (JSON, HTML, CSV, HTTP, SQL keywords) are ASCII, so the library classifies with these. */
static inline bool fastepost__ascii_isdigit(int c) { return c >= '0' && c <= '9'; }
static inline bool fastepost__ascii_isupper(int c) { return c >= 'A' && c <= 'Z'; }
static inline bool fastepost__ascii_islower(int c) { return c >= 'a' && c <= 'z'; }
static inline bool fastepost__ascii_isalpha(int c) { return fastepost__ascii_isupper(c) || fastepost__ascii_islower(c); }
static inline bool fastepost__ascii_isalnum(int c) { return fastepost__ascii_isalpha(c) || fastepost__ascii_isdigit(c); }
static inline bool fastepost__ascii_isxdigit(int c) {
  return fastepost__ascii_isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/* space, \t, \n, \v, \f, \r: the C locale's isspace(). */
static inline bool fastepost__ascii_isspace(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static inline int fastepost__ascii_tolower(int c) { return fastepost__ascii_isupper(c) ? c + ('a' - 'A') : c; }
static inline int fastepost__ascii_toupper(int c) { return fastepost__ascii_islower(c) ? c - ('a' - 'A') : c; }
/* strcasecmp / strncasecmp over ASCII letters only. */
int fastepost__ascii_casecmp(const char *a, const char *b);
int fastepost__ascii_ncasecmp(const char *a, const char *b, size_t n);

/* The text of an errno value, thread-safe (strerror() may use a static buffer and follows
 * LC_MESSAGES); always NUL-terminated in buf. Returns buf. */
const char *fastepost__errno_text(int err, char *buf, size_t size);
/* Convenience for messages: a per-call buffer of the right size. */
#define FASTEPOST__ERRNO_BUFSIZE 128

#endif
