/* SPDX-License-Identifier: MIT */
/* Import, the database side: the staging table filled by COPY FROM STDIN, the one
 * INSERT ... SELECT (ON CONFLICT per mode) into the target, and when the database refuses it,
 * the search for the refused rows with their lines; then the id sequences. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/importer.h"

int fastepost__import_flush_copy(importer *im) {
  if (!im->out.len)
    return FASTEPOST_OK;
  if (im->out.oom)
    return FASTEPOST_ENOMEM;
  if (!im->conn) { /* fastepost__import_check: parse and validate only */
    fastepost__buf_clear(&im->out);
    return FASTEPOST_OK;
  }
  if (PQputCopyData(im->pg, im->out.data, (int)im->out.len) != 1)
    return fastepost__error_set(FASTEPOST_ECONN, "sending rows: %s", PQerrorMessage(im->pg));
  fastepost__buf_clear(&im->out);
  return FASTEPOST_OK;
}


/* ---- database side -------------------------------------------------------------------------- */

int fastepost__import_start_copy(importer *im) {
  if (!im->conn)
    return FASTEPOST_OK; /* fastepost__import_check */
  fastepost__buf sql = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&sql, "CREATE TEMP TABLE fastepost_import_stage (rn bigint, line bigint");
  for (size_t i = 0; i < im->nmap; i++)
    fastepost__buf_printf(&sql, ", c%zu text", i + 1);
  fastepost__buf_puts(&sql, ") ON COMMIT DROP");
  int rc = sql.oom ? FASTEPOST_ENOMEM : fastepost__exec(im->conn, fastepost__buf_cstr(&sql), "creating the staging table");
  fastepost__buf_free(&sql);
  if (rc)
    return rc;
  PGresult *r = PQexec(im->pg, "COPY " STAGE " FROM STDIN (FORMAT csv)");
  rc = fastepost__pg_check(im->conn, r, PGRES_COPY_IN, "starting COPY");
  PQclear(r);
  if (!rc)
    im->copying = true;
  return rc;
}

int fastepost__import_end_copy(importer *im, bool ok) {
  if (!im->copying)
    return FASTEPOST_OK;
  im->copying = false;
  int rc = ok ? fastepost__import_flush_copy(im) : FASTEPOST_OK;
  if (PQputCopyEnd(im->pg, ok && !rc ? NULL : "import rejected") != 1 && !rc)
    rc = fastepost__error_set(FASTEPOST_ECONN, "ending COPY: %s", PQerrorMessage(im->pg));
  PGresult *r;
  while ((r = PQgetResult(im->pg))) {
    if (ok && !rc)
      rc = fastepost__pg_check(im->conn, r, PGRES_COMMAND_OK, "staging rows");
    PQclear(r);
  }
  return rc;
}

/* The INSERT from the staging table, for rows rn between $1 and $2 when `ranged`. */
static int build_insert(importer *im, fastepost__buf *sql, bool ranged, bool count_updates) {
  const fastepost__table *t = im->t;
  const fastepost_import_options *o = im->o;
  if (count_updates)
    fastepost__buf_puts(sql, "WITH fastepost_ins AS (");
  fastepost__buf_printf(sql, "INSERT INTO %s (", t->quoted);
  for (size_t i = 0; i < im->nmap; i++)
    fastepost__buf_printf(sql, "%s%s", i ? ", " : "", t->cols[im->map[i]].quoted);
  fastepost__buf_puts(sql, ") SELECT ");
  /* Cast to the type without its modifier, so that the assignment checks length and precision
   * (an explicit cast to varchar(n) would silently truncate). */
  for (size_t i = 0; i < im->nmap; i++)
    fastepost__buf_printf(sql, "%sc%zu::%s", i ? ", " : "", i + 1, t->cols[im->map[i]].cast_type);
  fastepost__buf_puts(sql, " FROM " STAGE);
  if (ranged)
    fastepost__buf_puts(sql, " WHERE rn BETWEEN $1 AND $2");
  if (o->on_conflict != FASTEPOST_IMPORT_CONFLICT_ERROR) {
    int key = -1;
    if (o->key)
      key = fastepost__table_column(t, o->key, strlen(o->key));
    fastepost__buf_puts(sql, " ON CONFLICT");
    if (key >= 0)
      fastepost__buf_printf(sql, " (%s)", t->cols[key].quoted);
    else if (o->on_conflict == FASTEPOST_IMPORT_CONFLICT_UPDATE)
      fastepost__buf_printf(sql, " ON CONSTRAINT %s", t->pk_constraint);
    bool any = false;
    if (o->on_conflict == FASTEPOST_IMPORT_CONFLICT_UPDATE)
      for (size_t i = 0; i < im->nmap; i++) {
        const fastepost__column *c = &t->cols[im->map[i]];
        if (key >= 0 ? im->map[i] == key : c->primary_key)
          continue;
        fastepost__buf_printf(sql, "%s%s = EXCLUDED.%s", any ? ", " : " DO UPDATE SET ", c->quoted,
                              c->quoted);
        any = true;
      }
    if (!any)
      fastepost__buf_puts(sql, " DO NOTHING");
  }
  if (count_updates)
    fastepost__buf_puts(sql, " RETURNING (xmax = 0) AS inserted) SELECT count(*) FILTER (WHERE "
                             "inserted), count(*) FROM fastepost_ins");
  return sql->oom ? FASTEPOST_ENOMEM : FASTEPOST_OK;
}

/* Check the conflict settings against the table and the header before reading rows. */
int fastepost__import_check_conflict_key(importer *im) {
  const fastepost_import_options *o = im->o;
  const fastepost__table *t = im->t;
  if (o->on_conflict == FASTEPOST_IMPORT_CONFLICT_ERROR)
    return FASTEPOST_OK;
  if (o->key) {
    int key = fastepost__table_column(t, o->key, strlen(o->key));
    if (key < 0)
      return fastepost__error_set(FASTEPOST_ENOTFOUND, "key column \"%s\" not found in %s.%s", o->key,
                                  t->schema, t->name);
    bool unique = false;
    int rc = fastepost__table_unique_column(&unique, im->conn, t, (size_t)key);
    if (rc)
      return rc;
    if (!unique)
      return fastepost__error_set(FASTEPOST_EINVALID,
                                  "key column %s has no unique index of its own (without WHERE "
                                  "or expressions), so conflicts on it cannot be detected",
                                  t->cols[key].name);
  } else if (o->on_conflict == FASTEPOST_IMPORT_CONFLICT_UPDATE && !t->pk_constraint) {
    return fastepost__error_set(FASTEPOST_EINVALID, "%s.%s has no primary key: give a key column",
                                t->schema, t->name);
  }
  return FASTEPOST_OK;
}

/* After the header: in update mode the key must be in the file. */
void fastepost__import_check_key_in_header(importer *im) {
  const fastepost_import_options *o = im->o;
  if (o->on_conflict != FASTEPOST_IMPORT_CONFLICT_UPDATE || im->status)
    return;
  const fastepost__table *t = im->t;
  int key = o->key ? fastepost__table_column(t, o->key, strlen(o->key)) : -1;
  for (size_t c = 0; c < t->ncols; c++) {
    if (key >= 0 ? (int)c != key : !t->cols[c].primary_key)
      continue;
    bool present = false;
    for (size_t i = 0; i < im->nmap; i++)
      present = present || im->map[i] == (int)c;
    if (!present) {
      fastepost__import_add_error(im, FASTEPOST_EINVALID, 1, t->cols[c].name, NULL, 0,
                "update mode needs the key column in the file");
      im->fatal = true;
    }
  }
}

static int conflict_code(const char *sqlstate) {
  if (sqlstate && strncmp(sqlstate, "23", 2) == 0)
    return FASTEPOST_ECONFLICT;
  if (sqlstate && (strncmp(sqlstate, "22", 2) == 0 || strcmp(sqlstate, "21000") == 0))
    return strcmp(sqlstate, "21000") == 0 ? FASTEPOST_ECONFLICT : FASTEPOST_EINVALID;
  return FASTEPOST_EDB;
}

/* Record a row the database refused: its line, column and the server's message. */
static int db_error(importer *im, uint64_t rn, const PGresult *res) {
  uint64_t line = 0;
  if (rn) {
    char n[24];
    snprintf(n, sizeof n, "%llu", (unsigned long long)rn);
    const char *params[1] = {n};
    PGresult *r = NULL;
    int rc = fastepost__query(&r, im->conn, "SELECT line FROM " STAGE " WHERE rn = $1", 1, params,
                              PGRES_TUPLES_OK, "finding a line");
    if (rc)
      return rc;
    line = PQntuples(r) ? strtoull(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
  }
  const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
  const char *column = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
  return fastepost__import_add_error(im, conflict_code(sqlstate), line, column ? column : "", NULL, 0, "%s%s%s%s",
                   msg ? msg : "refused by the database", detail ? " (" : "", detail ? detail : "",
                   detail ? ")" : "");
}

static int exec_simple(importer *im, const char *sql) { return fastepost__exec(im->conn, sql, sql); }

/* Try rows lo..hi in a savepoint; on failure split until single rows, which are reported.
 * Rows that pass stay inserted, so later conflicts with them are found too. */
static int diagnose(importer *im, const char *sql, uint64_t lo, uint64_t hi) {
  if (im->rep->nerrors >= im->rep->max_errors) {
    im->rep->complete = 0;
    return FASTEPOST_OK;
  }
  char a[24], b[24];
  snprintf(a, sizeof a, "%llu", (unsigned long long)lo);
  snprintf(b, sizeof b, "%llu", (unsigned long long)hi);
  const char *params[2] = {a, b};
  int rc = exec_simple(im, "SAVEPOINT fastepost_diag");
  if (rc)
    return rc;
  PGresult *r = PQexecParams(im->pg, sql, 2, NULL, params, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    PQclear(r);
    return exec_simple(im, "RELEASE SAVEPOINT fastepost_diag");
  }
  rc = exec_simple(im, "ROLLBACK TO SAVEPOINT fastepost_diag");
  if (!rc)
    rc = exec_simple(im, "RELEASE SAVEPOINT fastepost_diag");
  if (!rc && PQstatus(im->pg) != CONNECTION_OK)
    rc = fastepost__pg_check(im->conn, r, PGRES_COMMAND_OK, "importing");
  if (rc) {
    PQclear(r);
    return rc;
  }
  if (lo == hi) {
    rc = db_error(im, lo, r);
    PQclear(r);
    return rc;
  }
  PQclear(r);
  uint64_t mid = lo + (hi - lo) / 2;
  rc = diagnose(im, sql, lo, mid);
  return rc ? rc : diagnose(im, sql, mid + 1, hi);
}

/* Rows whose conflict key repeats an earlier row of the file, with both lines. */
static int duplicate_keys(importer *im) {
  const fastepost__table *t = im->t;
  int key = im->o->key ? fastepost__table_column(t, im->o->key, strlen(im->o->key)) : -1;
  fastepost__buf keys = FASTEPOST__BUF_INIT, names = FASTEPOST__BUF_INIT, sql = FASTEPOST__BUF_INIT;
  for (size_t i = 0; i < im->nmap; i++) {
    const fastepost__column *c = &t->cols[im->map[i]];
    if (key >= 0 ? im->map[i] != key : !c->primary_key)
      continue;
    fastepost__buf_printf(&keys, "%sc%zu::%s", keys.len ? ", " : "", i + 1, c->cast_type);
    fastepost__buf_printf(&names, "%s%s", names.len ? ", " : "", c->name);
  }
  fastepost__buf_printf(&sql,
                        "SELECT line, first FROM (SELECT line, rn, min(line) OVER w AS first,"
                        " row_number() OVER (w ORDER BY rn) AS k FROM " STAGE " WINDOW w AS"
                        " (PARTITION BY %s)) d WHERE k > 1 ORDER BY rn",
                        fastepost__buf_cstr(&keys));
  PGresult *r = NULL;
  int rc = sql.oom || keys.oom || names.oom
               ? FASTEPOST_ENOMEM
               : fastepost__query(&r, im->conn, fastepost__buf_cstr(&sql), 0, NULL, PGRES_TUPLES_OK,
                                  "looking for repeated keys");
  for (int i = 0; !rc && i < PQntuples(r); i++)
    rc = fastepost__import_add_error(im, FASTEPOST_ECONFLICT, strtoull(PQgetvalue(r, i, 0), NULL, 10),
                   fastepost__buf_cstr(&names), NULL, 0,
                   "the key (%s) was already given on line %s of the file: update mode takes each "
                   "key once", fastepost__buf_cstr(&names), PQgetvalue(r, i, 1));
  PQclear(r);
  fastepost__buf_free(&keys);
  fastepost__buf_free(&names);
  fastepost__buf_free(&sql);
  return rc;
}

int fastepost__import_insert_rows(importer *im) {
  fastepost__buf sql = FASTEPOST__BUF_INIT;
  bool count_updates = im->o->on_conflict == FASTEPOST_IMPORT_CONFLICT_UPDATE;
  int rc = build_insert(im, &sql, false, count_updates);
  if (rc) {
    fastepost__buf_free(&sql);
    return rc;
  }
  if ((rc = exec_simple(im, "SAVEPOINT fastepost_bulk"))) {
    fastepost__buf_free(&sql);
    return rc;
  }
  PGresult *r = PQexec(im->pg, fastepost__buf_cstr(&sql));
  fastepost__buf_free(&sql);
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_TUPLES_OK && count_updates) {
    im->rep->inserted = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    im->rep->updated = strtoull(PQgetvalue(r, 0, 1), NULL, 10) - im->rep->inserted;
  } else if (st == PGRES_COMMAND_OK) {
    im->rep->inserted = strtoull(PQcmdTuples(r), NULL, 10);
  }
  im->rep->skipped = im->staged - im->rep->inserted - im->rep->updated;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    PQclear(r);
    return exec_simple(im, "RELEASE SAVEPOINT fastepost_bulk");
  }
  /* The database refused something: find which rows, with their lines. */
  if (PQstatus(im->pg) != CONNECTION_OK) {
    rc = fastepost__pg_check(im->conn, r, PGRES_COMMAND_OK, "importing");
    PQclear(r);
    return rc;
  }
  rc = exec_simple(im, "ROLLBACK TO SAVEPOINT fastepost_bulk");
  if (!rc)
    rc = exec_simple(im, "CREATE INDEX ON " STAGE " (rn)");
  if (!rc)
    rc = exec_simple(im, "ANALYZE " STAGE);
  fastepost__buf ranged = FASTEPOST__BUF_INIT;
  if (!rc)
    rc = build_insert(im, &ranged, true, false);
  uint64_t before = im->rep->error_total;
  for (uint64_t lo = 1; !rc && lo <= im->staged && im->rep->nerrors < im->rep->max_errors;
       lo += DIAG_CHUNK) {
    uint64_t hi = lo + DIAG_CHUNK - 1 < im->staged ? lo + DIAG_CHUNK - 1 : im->staged;
    rc = diagnose(im, fastepost__buf_cstr(&ranged), lo, hi);
    if (!rc && im->rep->nerrors >= im->rep->max_errors && hi < im->staged)
      im->rep->complete = 0;
  }
  fastepost__buf_free(&ranged);
  /* In update mode a key given twice in the file fails the one statement ("cannot affect row a
   * second time") but passes row by row: name those rows. */
  const char *sqlstate = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  if (!rc && im->rep->error_total == before && sqlstate && strcmp(sqlstate, "21000") == 0)
    rc = duplicate_keys(im);
  /* No single row to blame (a statement-level failure): report the statement's error. */
  if (!rc && im->rep->error_total == before)
    rc = db_error(im, 0, r);
  PQclear(r);
  return rc;
}

/* Keep the id sequence ahead of explicit ids from the file, so later inserts do not collide. */
int fastepost__import_advance_sequences(importer *im) {
  const fastepost__table *t = im->t;
  for (size_t i = 0; i < im->nmap; i++) {
    const fastepost__column *c = &t->cols[im->map[i]];
    if (c->base_oid != FASTEPOST__INT2OID && c->base_oid != FASTEPOST__INT4OID &&
        c->base_oid != FASTEPOST__INT8OID)
      continue;
    fastepost__buf sql = FASTEPOST__BUF_INIT;
    fastepost__buf_printf(&sql,
                          "SELECT setval(s.seq, m.v) FROM (SELECT pg_get_serial_sequence($1, $2)::regclass"
                          " AS seq) s, (SELECT max(%s)::bigint AS v FROM %s) m WHERE s.seq IS NOT NULL"
                          " AND m.v IS NOT NULL AND m.v > coalesce(pg_sequence_last_value(s.seq), 0)",
                          c->quoted, t->quoted);
    const char *params[2] = {t->quoted, c->name};
    PGresult *r = NULL;
    int rc = sql.oom ? FASTEPOST_ENOMEM
                     : fastepost__query(&r, im->conn, fastepost__buf_cstr(&sql), 2, params,
                                        PGRES_TUPLES_OK, "advancing the id sequence");
    fastepost__buf_free(&sql);
    PQclear(r);
    if (rc)
      return rc;
  }
  return FASTEPOST_OK;
}

