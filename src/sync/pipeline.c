/* SPDX-License-Identifier: MIT */
/* Pipelined round trips: a list of statements sent at once, their results collected at once;
 * by name where the connection allows it (fastepost__conn_prepare_on, internal.h). */
#include "sync_priv.h"

void fastepost__sync_steps_clear(fastepost__step *steps, size_t n) {
  for (size_t i = 0; i < n; i++) {
    PQclear(steps[i].res);
    steps[i].res = NULL;
  }
}

/* Send one step: a call by name when `named` (prepared first if this session has not seen it:
 * s->parse), else unnamed, parsed and planned again. */
static int send_step(fastepost_conn *conn, PGconn *pg, fastepost__step *s, bool named) {
  s->parse = false;
  bool prepared = named && s->call && fastepost__conn_prepared_has(conn, s->stmt);
  if (!named || !s->call || (!prepared && conn->nprepared >= FASTEPOST__PREPARED_MAX))
    return PQsendQueryParams(pg, s->sql, s->nparams, NULL, s->params, NULL, NULL, 0);
  if (!prepared) {
    if (!PQsendPrepare(pg, s->stmt, s->sql, s->nparams, NULL))
      return 0;
    s->parse = true;
  }
  return PQsendQueryPrepared(pg, s->stmt, s->nparams, s->params, NULL, NULL, 0);
}

/* The results of one query: the first kept in *out (or checked and dropped when out is NULL),
 * then the NULL that ends them. Returns rc, or the query's error when rc was OK; *lost when
 * there was no result (the connection broke). */
static int read_query(fastepost_conn *conn, PGconn *pg, PGresult **out, ExecStatusType expected,
                      const char *what, int rc, bool *lost) {
  PGresult *res = PQgetResult(pg);
  if (!res) {
    *lost = true;
    return rc ? rc : fastepost__pg_check(conn, NULL, expected, "reading results");
  }
  if (rc == FASTEPOST_OK && PQresultStatus(res) != expected)
    rc = fastepost__pg_check(conn, res, expected, what);
  if (out)
    *out = res;
  else
    PQclear(res);
  PGresult *extra;
  while ((extra = PQgetResult(pg)) != NULL)
    PQclear(extra);
  return rc;
}

int fastepost__sync_run_steps(fastepost_conn *conn, fastepost__step *steps, size_t n, bool named) {
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;
  if (!PQenterPipelineMode(pg))
    return fastepost__error_set(FASTEPOST_ECONN, "cannot enter pipeline mode: %s", PQerrorMessage(pg));
  int rc = FASTEPOST_OK;
  size_t sent = 0;
  for (; sent < n; sent++)
    if (!send_step(conn, pg, &steps[sent], named))
      break;
  if (sent < n || !PQpipelineSync(pg)) {
    rc = fastepost__pg_check(conn, NULL, PGRES_COMMAND_OK, "sending statements");
    PQexitPipelineMode(pg);
    return rc;
  }
  bool lost = false;
  for (size_t i = 0; i < sent && !lost; i++) {
    const char *what = steps[i].stmt ? steps[i].stmt : steps[i].sql;
    if (steps[i].parse) {
      int was = rc;
      rc = read_query(conn, pg, NULL, PGRES_COMMAND_OK, what, rc, &lost);
      /* Prepared in this session whatever the rest of the pipeline does: Parse is not undone by
       * a rollback. A pipeline aborted before it skipped it (PGRES_PIPELINE_ABORTED). */
      if (was == FASTEPOST_OK && rc == FASTEPOST_OK)
        fastepost__conn_prepared_add(conn, steps[i].stmt);
      if (lost)
        break;
    }
    rc = read_query(conn, pg, &steps[i].res, steps[i].expected, what, rc, &lost);
  }
  /* Then the sync point. */
  for (int guard = 0; guard < 4 && PQstatus(pg) == CONNECTION_OK; guard++) {
    PGresult *res = PQgetResult(pg);
    if (!res)
      continue;
    ExecStatusType st = PQresultStatus(res);
    PQclear(res);
    if (st == PGRES_PIPELINE_SYNC)
      break;
  }
  if (!PQexitPipelineMode(pg) && rc == FASTEPOST_OK)
    rc = fastepost__pg_check(conn, NULL, PGRES_COMMAND_OK, "leaving pipeline mode");
  if (rc == FASTEPOST_OK && PQstatus(pg) != CONNECTION_OK)
    rc = fastepost__error_set(FASTEPOST_ECONN, "the connection to the database was lost");
  return rc;
}
