/* SPDX-License-Identifier: MIT */
/*
 * One event in its own transaction (or, in a batch, its own savepoint): two pipelined round
 * trips (lookups, then the writes and the commit); on a failure, rolled back and logged on its
 * own (see sync.h).
 */
#include "sync_priv.h"

#include <stdio.h>
#include <string.h>

#include "normalize.h"

/* One event in its own transaction (or savepoint, in a batch): two round trips, the calls sent
 * by name when `named` (pipeline.c). Returns a database status; a conflict is committed like any
 * outcome and reported through res->code. */
static int attempt(fastepost_event_result *res, fastepost_conn *conn, const fastepost__sync_record *rec,
                   const fastepost__sync_ctx *ctx, const char *now, bool named) {
  fastepost__job j;
  fastepost__step r1[7] = {{0}}, r2[3] = {{0}};
  size_t n1 = 0, n2 = 0;
  int rc = fastepost__job_init(&j, rec, res);
  if (rc)
    goto done;
  r1[n1++] = (fastepost__step){.sql = ctx->in_batch ? "SAVEPOINT fastepost_event" : "BEGIN",
                               .expected = PGRES_COMMAND_OK};
  /* A batch sets these once for its transaction. */
  char timeouts[2][16];
  if (!ctx->in_batch)
    r1[n1++] = fastepost__sync_settings_step(conn, timeouts);
  fastepost__job_round1(&j, r1, &n1, true); /* its lock first, then the lookups */
  if ((rc = fastepost__sync_run_steps(conn, r1, n1, named)))
    goto done;
  if (!ctx->in_batch) /* the settings report the server's pid */
    fastepost__conn_prepare_detect(conn, fastepost__sync_get(r1[1].res, 0, PQnfields(r1[1].res) - 1));
  if ((rc = fastepost__job_decide(&j, r1, now)))
    goto done;
  if (!j.duplicate)
    r2[n2++] = j.apply;
  if (!j.duplicate && j.write_props)
    r2[n2++] = j.props_write;
  r2[n2++] = (fastepost__step){.sql = ctx->in_batch ? "RELEASE SAVEPOINT fastepost_event"
                                      : j.duplicate ? "ROLLBACK"
                                                    : "COMMIT",
                               .expected = PGRES_COMMAND_OK};
  if ((rc = fastepost__sync_run_steps(conn, r2, n2, named)))
    goto done;
  j.apply.res = j.duplicate ? NULL : r2[0].res;
  r2[0].res = j.duplicate ? r2[0].res : NULL;
  fastepost__job_finish(&j);
done:
  fastepost__sync_steps_clear(r1, n1);
  fastepost__sync_steps_clear(r2, n2);
  fastepost__job_free(&j);
  return rc;
}

/* What a failed attempt reported of its outcome, gone: nothing of it was committed. */
static void forget_outcome(fastepost_event_result *res) {
  res->outcome = FASTEPOST_OUTCOME_NONE;
  res->customer_id = res->remark_id = res->task_id = 0;
}

/* Whether the failure recorded last is a prepared statement of ours missing from the session
 * (26000) or its name already taken there (42P05), on a connection still usable. */
static bool prepared_lost(fastepost_conn *conn) {
  const char *state = fastepost_error_last()->sqlstate;
  return conn->pg && PQstatus(conn->pg) == CONNECTION_OK &&
         (strcmp(state, "26000") == 0 || strcmp(state, "42P05") == 0);
}

/* Undo a failed attempt: its savepoint in a batch (gone, for the next attempt to make again),
 * else its transaction. */
static void undo(fastepost_conn *conn, const fastepost__sync_ctx *ctx) {
  if (ctx->in_batch)
    fastepost__exec(conn, "ROLLBACK TO SAVEPOINT fastepost_event; RELEASE SAVEPOINT fastepost_event",
                    "rolling back the event");
  else
    fastepost__tx_rollback(conn);
}

int fastepost__sync_process(fastepost_event_result *res, fastepost_conn *conn,
                            fastepost__sync_record *rec, const fastepost__sync_ctx *ctx) {
  char clock_buf[32];
  const char *now = fastepost__sync_now(clock_buf, sizeof clock_buf, ctx);
  /* One rule for every source (normalize.h), before any key or value is taken from the record. */
  if (!rec->failure && fastepost__sync_normalize(rec) != FASTEPOST_OK)
    rec->failure = FASTEPOST_ENOMEM;
  for (size_t i = 0; i < rec->warnings.count; i++)
    fastepost__strlist_add(&res->warnings, rec->warnings.items[i]);
  res->code = FASTEPOST_OK;
  if (!ctx->in_batch && fastepost__sync_busy_connection(conn, "an event"))
    return fastepost__result_fail(res, fastepost_error_last()->code);

  if (rec->failure) {
    /* Rejected by the adapter: log it (the message, never the raw body) and report. */
    char message[1024];
    snprintf(message, sizeof message, "%s", rec->failure_message ? rec->failure_message : "");
    if (fastepost__sync_log_failure(res, conn, rec, ctx, now, rec->failure, message) != FASTEPOST_OK)
      fastepost__strlist_addf(&res->warnings, "the failure could not be logged: %s",
                              fastepost_error_last()->message);
    fastepost__error_set(rec->failure, "%s", message);
    return fastepost__result_fail(res, rec->failure);
  }

  int rc = fastepost__conn_pg(conn) ? FASTEPOST_OK : fastepost_error_last()->code;
  bool named = fastepost__conn_prepare_on(conn);
  size_t warnings = res->warnings.count;
  if (rc == FASTEPOST_OK)
    rc = attempt(res, conn, rec, ctx, now, named);
  if (rc != FASTEPOST_OK && named && prepared_lost(conn)) {
    /* One of our prepared statements was missing from the session, or its name taken (someone
     * ran DEALLOCATE or DISCARD on this connection, or a pooler we could not see is in between):
     * nothing was applied. Undo, stop preparing on this session, and run the event again, its
     * result as if the first attempt had not been. */
    fastepost__conn_prepare_off(conn);
    undo(conn, ctx);
    fastepost__strlist_truncate(&res->warnings, warnings);
    forget_outcome(res);
    rc = attempt(res, conn, rec, ctx, now, false);
  }
  if (rc == FASTEPOST_OK)
    return res->code;

  /* The transaction failed: undo it, then log the event as failed on its own. */
  char message[1024];
  snprintf(message, sizeof message, "%s", fastepost_error_last()->message);
  char sqlstate[6];
  snprintf(sqlstate, sizeof sqlstate, "%s", fastepost_error_last()->sqlstate);
  forget_outcome(res);
  if (ctx->in_batch) {
    if (conn->pg && PQstatus(conn->pg) == CONNECTION_OK) {
      fastepost__exec(conn, "ROLLBACK TO SAVEPOINT fastepost_event", "rolling back the event");
      if (fastepost__sync_log_failure(res, conn, rec, ctx, now, rc, message) == FASTEPOST_OK)
        fastepost__exec(conn, "RELEASE SAVEPOINT fastepost_event", "releasing the event");
    }
  } else {
    fastepost__tx_rollback(conn);
    /* A connection that broke under us (not one the host closed) is worth one reconnect,
     * so that the failure is at least queued for a retry. */
    if (rc == FASTEPOST_ECONN && conn && conn->pg && PQstatus(conn->pg) != CONNECTION_OK)
      fastepost_conn_reset(conn);
    if (conn && conn->pg && PQstatus(conn->pg) == CONNECTION_OK)
      fastepost__sync_log_failure(res, conn, rec, ctx, now, rc, message);
  }
  fastepost__error_set_sqlstate(rc, sqlstate, "%s", message);
  return fastepost__result_fail(res, rc);
}
