/* SPDX-License-Identifier: MIT */
/* Database statistics for the admin page: numbers only (fastepost/stats.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup_priv.h"
#include "internal.h"

/* ==== Database figures ======================================================================= */

/*
 * One catalog query for every user table. The row estimate is the planner's own: reltuples
 * scaled from the pages it was measured on (relpages) to the pages the table has now, so it
 * follows growth since the last ANALYZE. Without planner statistics (reltuples = -1 from
 * PostgreSQL 14 on, 0 pages before), the activity counter n_live_tup stands in; an empty main
 * fork is 0 rows for sure; otherwise -1 (unknown).
 */
static const char *const tables_sql =
    "SELECT nspname, relname, "
    "  CASE WHEN relpages > 0 AND reltuples >= 0 "
    "         THEN round(reltuples / relpages * (main_bytes / current_setting('block_size')::float8))::int8 "
    "       WHEN main_bytes = 0 THEN 0 "
    "       WHEN reltuples > 0 THEN reltuples::int8 "
    "       WHEN live > 0 THEN live "
    "       ELSE -1 END, "
    "  total_bytes, table_bytes, index_bytes "
    "FROM (SELECT n.nspname, c.relname, c.relpages, c.reltuples, "
    "             pg_stat_get_live_tuples(c.oid) AS live, "
    "             coalesce(pg_relation_size(c.oid), 0) AS main_bytes, "
    "             coalesce(pg_total_relation_size(c.oid), 0) AS total_bytes, "
    "             coalesce(pg_table_size(c.oid), 0) AS table_bytes, "
    "             coalesce(pg_indexes_size(c.oid), 0) AS index_bytes "
    "      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "      WHERE c.relkind IN ('r', 'p') "
    "        AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "        AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%') t "
    "ORDER BY total_bytes DESC, nspname, relname";

struct fastepost_stats_db_table {
  char *name;
  bool has_rows_estimate, has_rows_exact;
  uint64_t rows_estimate, rows_exact, total_bytes, table_bytes, index_bytes;
};

struct fastepost_stats_db {
  char *database;
  uint64_t size_bytes;
  size_t table_count;
  fastepost_stats_db_table *tables;
  bool has_backups, has_newest;
  uint64_t backup_count;
  char *newest_name;
  int64_t newest_created_us;
  uint64_t newest_size;
};

void fastepost_stats_db_free(fastepost_stats_db *stats) {
  if (!stats)
    return;
  for (size_t i = 0; i < stats->table_count; i++)
    free(stats->tables[i].name);
  free(stats->tables);
  free(stats->database);
  free(stats->newest_name);
  free(stats);
}

/* A non-negative bigint column (sizes and counts from the server). */
static uint64_t col_u64(const PGresult *res, int row, int c) {
  return strtoull(PQgetvalue(res, row, c), NULL, 10);
}

static int count_rows(uint64_t *out, fastepost_conn *conn, PGconn *pg, const char *schema,
                      const char *table) {
  char *s = PQescapeIdentifier(pg, schema, strlen(schema));
  char *t = PQescapeIdentifier(pg, table, strlen(table));
  fastepost__buf sql = FASTEPOST__BUF_INIT;
  if (s && t)
    fastepost__buf_printf(&sql, "SELECT count(*) FROM %s.%s", s, t);
  PQfreemem(s);
  PQfreemem(t);
  if (!s || !t || sql.oom) {
    fastepost__buf_free(&sql);
    return fastepost__error_oom();
  }
  char what[160];
  snprintf(what, sizeof what, "counting the rows of %s.%s", schema, table);
  PGresult *res;
  int rc = fastepost__query(&res, conn, sql.data, 0, NULL, PGRES_TUPLES_OK, what);
  fastepost__buf_free(&sql);
  if (rc)
    return rc;
  *out = col_u64(res, 0, 0);
  PQclear(res);
  return FASTEPOST_OK;
}

static int collect_tables(fastepost_stats_db *s, fastepost_conn *conn, unsigned int flags) {
  PGresult *res;
  int n, rc;
  if (!(s->tables = fastepost__query_rows(&rc, &res, &n, sizeof *s->tables, conn, tables_sql, 0,
                                          NULL, "reading the table statistics")))
    return rc;
  PGconn *pg = fastepost__conn_pg(conn);
  for (int i = 0; i < n && !rc; i++) {
    fastepost_stats_db_table *t = &s->tables[i];
    const char *schema = PQgetvalue(res, i, 0), *name = PQgetvalue(res, i, 1);
    fastepost__buf buf = FASTEPOST__BUF_INIT;
    if (strcmp(schema, "public") != 0)
      fastepost__buf_printf(&buf, "%s.", schema);
    fastepost__buf_puts(&buf, name);
    if (!(t->name = fastepost__buf_detach(&buf))) {
      rc = FASTEPOST_ENOMEM;
      break;
    }
    s->table_count++;
    /* -1 from the query: no estimate (see tables_sql). */
    t->has_rows_estimate = PQgetvalue(res, i, 2)[0] != '-';
    t->rows_estimate = t->has_rows_estimate ? col_u64(res, i, 2) : 0;
    t->total_bytes = col_u64(res, i, 3);
    t->table_bytes = col_u64(res, i, 4);
    t->index_bytes = col_u64(res, i, 5);
    if (flags & FASTEPOST_STATS_DB_EXACT) {
      rc = count_rows(&t->rows_exact, conn, pg, schema, name);
      t->has_rows_exact = rc == FASTEPOST_OK;
    }
  }
  PQclear(res);
  return rc;
}

static int collect_backups(fastepost_stats_db *s, fastepost_backup_dir *backups) {
  fastepost__backup_summary sum;
  int rc = fastepost__backup_summarize(&sum, backups);
  if (rc)
    return rc;
  s->has_backups = true;
  s->backup_count = (uint64_t)sum.count;
  if (sum.has_newest) {
    if (!(s->newest_name = fastepost__strdup(sum.newest_name)))
      return FASTEPOST_ENOMEM;
    s->has_newest = true;
    s->newest_created_us = sum.newest_created_us;
    s->newest_size = sum.newest_size;
  }
  return FASTEPOST_OK;
}

fastepost_status fastepost_stats_db_get(fastepost_stats_db **out, fastepost_conn *conn,
                                        fastepost_backup_dir *backups, unsigned int flags) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_stats_db_get: out is NULL");
  *out = NULL;
  if (flags & ~(unsigned int)FASTEPOST_STATS_DB_EXACT)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_stats_db_get: unknown flags 0x%x",
                                flags);
  fastepost_stats_db *s = calloc(1, sizeof *s);
  if (!s)
    return fastepost__error_oom();
  PGresult *res;
  int rc = fastepost__query(&res, conn,
                            "SELECT current_database(), pg_database_size(current_database())", 0,
                            NULL, PGRES_TUPLES_OK, "reading the database size");
  if (!rc) {
    s->database = fastepost__strdup(PQgetvalue(res, 0, 0));
    s->size_bytes = col_u64(res, 0, 1);
    PQclear(res);
    if (!s->database)
      rc = FASTEPOST_ENOMEM;
  }
  if (!rc)
    rc = collect_tables(s, conn, flags);
  if (!rc && backups)
    rc = collect_backups(s, backups);
  if (rc) {
    fastepost_stats_db_free(s);
    return rc;
  }
  *out = s;
  return FASTEPOST_OK;
}

/* ---- getters ------------------------------------------------------------------------------ */

const char *fastepost_stats_db_database(const fastepost_stats_db *s) {
  return s && s->database ? s->database : "";
}
uint64_t fastepost_stats_db_size_bytes(const fastepost_stats_db *s) { return s ? s->size_bytes : 0; }
size_t fastepost_stats_db_table_count(const fastepost_stats_db *s) { return s ? s->table_count : 0; }
const fastepost_stats_db_table *fastepost_stats_db_table_get(const fastepost_stats_db *s, size_t i) {
  return s && i < s->table_count ? &s->tables[i] : NULL;
}
int fastepost_stats_db_has_backups(const fastepost_stats_db *s) { return s && s->has_backups; }
uint64_t fastepost_stats_db_backup_count(const fastepost_stats_db *s) { return s ? s->backup_count : 0; }
int fastepost_stats_db_has_newest_backup(const fastepost_stats_db *s) { return s && s->has_newest; }
const char *fastepost_stats_db_newest_backup_name(const fastepost_stats_db *s) {
  return s && s->newest_name ? s->newest_name : "";
}
int64_t fastepost_stats_db_newest_backup_created_us(const fastepost_stats_db *s) {
  return s ? s->newest_created_us : 0;
}
uint64_t fastepost_stats_db_newest_backup_size_bytes(const fastepost_stats_db *s) {
  return s ? s->newest_size : 0;
}

const char *fastepost_stats_db_table_name(const fastepost_stats_db_table *t) {
  return t && t->name ? t->name : "";
}
int fastepost_stats_db_table_has_rows_estimate(const fastepost_stats_db_table *t) {
  return t && t->has_rows_estimate;
}
uint64_t fastepost_stats_db_table_rows_estimate(const fastepost_stats_db_table *t) {
  return t ? t->rows_estimate : 0;
}
int fastepost_stats_db_table_has_rows_exact(const fastepost_stats_db_table *t) {
  return t && t->has_rows_exact;
}
uint64_t fastepost_stats_db_table_rows_exact(const fastepost_stats_db_table *t) {
  return t ? t->rows_exact : 0;
}
uint64_t fastepost_stats_db_table_total_bytes(const fastepost_stats_db_table *t) {
  return t ? t->total_bytes : 0;
}
uint64_t fastepost_stats_db_table_table_bytes(const fastepost_stats_db_table *t) {
  return t ? t->table_bytes : 0;
}
uint64_t fastepost_stats_db_table_index_bytes(const fastepost_stats_db_table *t) {
  return t ? t->index_bytes : 0;
}
