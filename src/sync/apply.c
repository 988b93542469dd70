/* SPDX-License-Identifier: MIT */
/*
 * Writing: round two (customer, remark, task link and the event row, one statement prepared by
 * decide.c) read back into the result, and a failed delivery logged as an `error` (or `dead`)
 * event with its backoff.
 */
#include "sync_priv.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fastepost_outcome outcome_from(const char *s) {
  if (!s)
    return FASTEPOST_OUTCOME_NONE;
  for (int o = FASTEPOST_OUTCOME_CREATED; o <= FASTEPOST_OUTCOME_DUPLICATE; o++)
    if (strcmp(fastepost_outcome_name((fastepost_outcome)o), s) == 0)
      return (fastepost_outcome)o;
  return FASTEPOST_OUTCOME_NONE;
}


static int64_t id_at(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? 0 : atoll(PQgetvalue(r, row, col));
}

/* The job's result from what round two wrote: customer, remark, outcome (for an applied plan)
 * and event. */
static void finish_with(fastepost__job *j, int64_t customer_id, int64_t remark_id, const char *outcome,
                        int64_t event_id) {
  fastepost_event_result *res = j->res;
  res->event_id = event_id;
  if (j->p.mode) {
    res->customer_id = customer_id;
    res->remark_id = remark_id;
    res->outcome = outcome_from(outcome);
    res->task_id = j->tid;
    return;
  }
  res->outcome = j->p.outcome;
  res->customer_id = j->p.outcome == FASTEPOST_OUTCOME_STALE && j->p.target ? j->p.target->id : 0;
  if (j->p.outcome == FASTEPOST_OUTCOME_CONFLICT) {
    fastepost__error_set(FASTEPOST_ECONFLICT, "%s", j->p.message);
    fastepost__result_fail(res, FASTEPOST_ECONFLICT);
  } else if (j->p.outcome == FASTEPOST_OUTCOME_IGNORED) {
    fastepost__strlist_addf(&res->warnings, "ignored: %s", j->p.message);
  }
}

/* From round two's result: the ids and the outcome. */
void fastepost__job_finish(fastepost__job *j) {
  const PGresult *a = j->apply.res;
  if (j->duplicate)
    return;
  if (j->p.mode)
    finish_with(j, id_at(a, 0, 0), id_at(a, 0, 1), fastepost__sync_get(a, 0, 2), id_at(a, 0, 3));
  else
    finish_with(j, 0, 0, NULL, id_at(a, 0, 0));
}

void fastepost__job_finish_row(fastepost__job *j, const PGresult *r, int row) {
  if (!j->duplicate)
    finish_with(j, id_at(r, row, 1), 0, fastepost__sync_get(r, row, 2), id_at(r, row, 3));
}

/* Log a failed delivery (in the current transaction when in a batch, else on its own). */
int fastepost__sync_log_failure(fastepost_event_result *res, fastepost_conn *conn, const fastepost__sync_record *rec,
                       const fastepost__sync_ctx *ctx, const char *now, int code, const char *message) {
  bool transient = fastepost__sync_transient(code);
  uint32_t r = 0;
  RAND_bytes((unsigned char *)&r, sizeof r);
  char jitter[32], max[16];
  /* Equal jitter: between half and all of the exponential delay, in parts per million (integer
   * arithmetic only: 500000 .. 999999). */
  snprintf(jitter, sizeof jitter, "%u", 500000u + (unsigned)(((uint64_t)r * 500000u) >> 32));
  snprintf(max, sizeof max, "%d", ctx->max_attempts > 0 ? ctx->max_attempts : FASTEPOST_EVENTS_MAX_ATTEMPTS);
  char ev[24];
  snprintf(ev, sizeof ev, "%lld", (long long)rec->event_id);
  const char *event_type = rec->event_type ? rec->event_type : "unknown";
  const char *params[11];
  if (rec->event_id > 0) {
    const char *p[11] = {ev, event_type, NULL, NULL, NULL, now, message,
                         transient ? "true" : "false", max, jitter, NULL};
    memcpy(params, p, sizeof p);
  } else {
    const char *p[11] = {rec->source, event_type, rec->external_id, rec->idempotency_key,
                         rec->payload, now, message, transient ? "true" : "false", max, jitter, NULL};
    memcpy(params, p, sizeof p);
  }
  PGresult *out = NULL;
  const char *sql = rec->event_id > 0 ? fastepost__sync_sql_fail_id : fastepost__sync_sql_fail_new;
  /* In a batch a refused statement would abort the whole transaction: fence it. */
  int rc = ctx->in_batch ? fastepost__exec(conn, "SAVEPOINT fastepost_log", "logging the failed event")
                         : FASTEPOST_OK;
  if (rc == FASTEPOST_OK)
    rc = fastepost__query(&out, conn, sql, 11, params, PGRES_TUPLES_OK, "logging the failed event");
  if (rc == FASTEPOST_EDB && params[4]) {
    /* The payload itself may be what the database refused: log the failure without it. */
    if (ctx->in_batch)
      fastepost__exec(conn, "ROLLBACK TO SAVEPOINT fastepost_log", "logging the failed event");
    params[4] = NULL;
    rc = fastepost__query(&out, conn, sql, 11, params, PGRES_TUPLES_OK, "logging the failed event");
  }
  if (ctx->in_batch && conn->pg && PQstatus(conn->pg) == CONNECTION_OK)
    fastepost__exec(conn, rc ? "ROLLBACK TO SAVEPOINT fastepost_log; RELEASE SAVEPOINT fastepost_log"
                             : "RELEASE SAVEPOINT fastepost_log",
                    "logging the failed event");
  if (rc == FASTEPOST_OK && PQntuples(out) == 1)
    res->event_id = atoll(PQgetvalue(out, 0, 0));
  PQclear(out);
  return rc;
}

