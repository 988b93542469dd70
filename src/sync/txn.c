/* SPDX-License-Identifier: MIT */
/*
 * Transactions of the sync core: the settings every sync transaction runs with, the clock of
 * the rows it writes, which failures are transient (retried), whether the connection can start
 * a transaction of ours, and the accepted range of source timestamps.
 */
#include "sync_priv.h"

#include <stdio.h>

#include "util/time.h"

bool fastepost__sync_transient(int code) {
  return code == FASTEPOST_ECONN || code == FASTEPOST_EBUSY || code == FASTEPOST_EREADONLY ||
         code == FASTEPOST_ETIMEOUT;
}

int fastepost__time_range_set(fastepost__time_range *range, int64_t min_us, int64_t max_ahead_us,
                              const char *who) {
  if (!range)
    return fastepost__error_set(FASTEPOST_EINVALID, "%s: opts is NULL", who);
  if (min_us < 0 || min_us > FASTEPOST__TIME_LIMIT_US || max_ahead_us < 0 ||
      max_ahead_us > 100LL * 366 * 86400 * 1000000)
    return fastepost__error_set(FASTEPOST_EINVALID, "the time range must start between 1970 and 9999 and "
                                                    "reach at most 100 years ahead");
  range->min_us = min_us;
  range->max_ahead_us = max_ahead_us;
  return FASTEPOST_OK;
}

int fastepost__sync_time_check(int64_t us, const fastepost__time_range *range, int64_t now_us, const char *what) {
  fastepost__time_range defaults = FASTEPOST__TIME_RANGE_DEFAULT;
  if (!range)
    range = &defaults;
  if (now_us == FASTEPOST__SYNC_SERVER_CLOCK)
    now_us = fastepost__time_now_us();
  /* now + ahead cannot overflow: the setters keep both within a few centuries of the epoch. */
  int64_t latest = now_us + range->max_ahead_us;
  if (us >= range->min_us && us <= latest)
    return FASTEPOST_OK;
  char when[32] = "", lo[32] = "";
  fastepost__time_format(lo, sizeof lo, range->min_us);
  if (!fastepost__time_format(when, sizeof when, us))
    snprintf(when, sizeof when, "beyond year 9999");
  return fastepost__error_set(FASTEPOST_EINVALID,
                              "%s (%s UTC) is outside the accepted range %.19s to now + %lld s: refused, "
                              "not retried", what, when, lo, (long long)(range->max_ahead_us / 1000000));
}

/* The "now" parameter: the injected clock's time, or NULL for the server's clock (NOW7 in statements.c). */
const char *fastepost__sync_now(char *buf, size_t size, const fastepost__sync_ctx *ctx) {
  if (ctx->now_us == FASTEPOST__SYNC_SERVER_CLOCK)
    return NULL;
  fastepost__time_format(buf, size, ctx->now_us);
  return buf;
}

/* ---- bounded waits ------------------------------------------------------------------------- */

/* The sync transaction takes advisory locks and row locks that another session may hold; none
 * of those waits may be unbounded (a webhook sender gives up after seconds, and a hung worker
 * holds its connection). The connection's statement and lock timeouts (conn.h) and UTC come
 * with the plan-cache setting in ONE statement (a pipeline step must be a single statement);
 * set_config(..., true) is SET LOCAL, so a transaction pooler hands nothing on. A held lock
 * (55P03) is FASTEPOST_EBUSY through conn.c's SQLSTATE map: 503, and the event is retried.
 * force_generic_plan: the sync functions' statements (migrations 7-10) are planned once per
 * server session instead of again and again (PostgreSQL keeps custom plans while they look
 * cheaper than the generic one, and they do for data-modifying CTEs); every statement of the
 * hot path has a generic plan that probes indexes (tests/db/plans.c).
 * enable_seqscan off: those plans are made at a session's first delivery, often on a new or
 * emptied table, where reading the table is cheapest; cached, that plan read every row of the
 * grown table at every delivery for the rest of the session (twice the server time per delivery
 * at 2,000 events, and growing). With it off, a table with an index for the lookup is probed
 * whatever its size at planning (tests/db/plans.c "plans made on empty tables"). Where several
 * indexes could serve a lookup (the event log's), a small table makes them cost the same: the
 * seen-key lookup has its generic plan made only once the table has statistics (migration 16).
 * fastepost.origin = 'sync' marks the transaction's writes as the sync core's own: the push-back
 * outbox triggers (migration 12) skip them, so that what came from a CRM is not sent back to it.
 * Transaction-local like the rest, it ends with the COMMIT and cannot leak through a pooler.
 * The last column, the server process's pid, tells whether anything stands between this client
 * and its server (fastepost__conn_prepare_detect, internal.h). */
#define SYNC_SETTINGS(statement_ms, lock_ms)                                                       \
  FASTEPOST__TX_SETTINGS(statement_ms, lock_ms) ", "                                               \
  "pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true), "                         \
  "pg_catalog.set_config('enable_seqscan', 'off', true), " FASTEPOST__ORIGIN_SYNC_SQL ", "         \
  "pg_catalog.pg_backend_pid()"
static const char sql_settings[] = SYNC_SETTINGS("$1", "$2");

const char *fastepost__sync_settings_sql(const fastepost_conn *conn, char *buf, size_t size) {
  snprintf(buf, size, SYNC_SETTINGS("'%d'", "'%d'"), conn ? conn->statement_timeout_ms : 0,
           conn ? conn->lock_timeout_ms : 0);
  return buf;
}

fastepost__step fastepost__sync_settings_step(const fastepost_conn *conn, char (*timeouts)[16]) {
  snprintf(timeouts[0], sizeof timeouts[0], "%d", conn ? conn->statement_timeout_ms : 0);
  snprintf(timeouts[1], sizeof timeouts[1], "%d", conn ? conn->lock_timeout_ms : 0);
  return (fastepost__step){.stmt = "fastepost_sync_settings",
                           .call = true,
                           .sql = sql_settings,
                           .nparams = 2,
                           .params = {timeouts[0], timeouts[1]},
                           .expected = PGRES_TUPLES_OK};
}

/* Whether conn cannot start a transaction of our own, with the error set: inside the caller's
 * transaction our COMMIT would end it (EINVALID); a connection that a lost server or an
 * interrupted pipeline left broken is ECONN, so the host resets it (or the delivery is spooled). */
bool fastepost__sync_busy_connection(fastepost_conn *conn, const char *what) {
  if (!conn || !conn->pg)
    return false;
  if (PQstatus(conn->pg) != CONNECTION_OK || PQtransactionStatus(conn->pg) == PQTRANS_UNKNOWN) {
    fastepost__error_set(FASTEPOST_ECONN, "the connection to the database was lost");
    return true;
  }
  if (PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
    fastepost__error_set(FASTEPOST_EINVALID, "the connection is inside a transaction: %s needs a "
                                             "transaction of its own", what);
    return true;
  }
  return false;
}
