/* SPDX-License-Identifier: MIT */
/* Pipelined round trips: a list of statements sent at once, their results collected at once. */
#include "sync_priv.h"

void fastepost__sync_steps_clear(fastepost__step *steps, size_t n) {
  for (size_t i = 0; i < n; i++) {
    PQclear(steps[i].res);
    steps[i].res = NULL;
  }
}

int fastepost__sync_run_steps(fastepost_conn *conn, fastepost__step *steps, size_t n) {
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;
  if (!PQenterPipelineMode(pg))
    return fastepost__error_set(FASTEPOST_ECONN, "cannot enter pipeline mode: %s", PQerrorMessage(pg));
  int rc = FASTEPOST_OK;
  size_t sent = 0;
  for (; sent < n; sent++) {
    fastepost__step *s = &steps[sent];
    int ok = PQsendQueryParams(pg, s->sql, s->nparams, NULL, s->params, NULL, NULL, 0);
    if (!ok)
      break;
  }
  if (sent < n || !PQpipelineSync(pg)) {
    rc = fastepost__pg_check(conn, NULL, PGRES_COMMAND_OK, "sending statements");
    PQexitPipelineMode(pg);
    return rc;
  }
  for (size_t i = 0; i < sent; i++) {
    PGresult *res = PQgetResult(pg);
    if (!res) { /* the connection broke */
      rc = rc ? rc : fastepost__pg_check(conn, NULL, steps[i].expected, "reading results");
      break;
    }
    steps[i].res = res;
    if (rc == FASTEPOST_OK && PQresultStatus(res) != steps[i].expected)
      rc = fastepost__pg_check(conn, res, steps[i].expected,
                               steps[i].stmt ? steps[i].stmt : steps[i].sql);
    /* Each query's results end with NULL. */
    PGresult *extra;
    while ((extra = PQgetResult(pg)) != NULL)
      PQclear(extra);
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
