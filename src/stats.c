/* Statistics for the admin page. */
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

void fastepost_stats_db_free(fastepost_stats_db *stats) {
  if (!stats)
    return;
  for (size_t i = 0; i < stats->table_count; i++)
    free(stats->tables[i].name);
  free(stats->tables);
  free(stats->database);
  free(stats);
}

static int count_rows(int64_t *out, fastepost_conn *conn, PGconn *pg, const char *schema,
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
  *out = atoll(PQgetvalue(res, 0, 0));
  PQclear(res);
  return FASTEPOST_OK;
}

static int collect_tables(fastepost_stats_db *s, fastepost_conn *conn, int flags) {
  PGresult *res;
  int rc = fastepost__query(&res, conn, tables_sql, 0, NULL, PGRES_TUPLES_OK,
                            "reading the table statistics");
  if (rc)
    return rc;
  int n = PQntuples(res);
  if (n && !(s->tables = calloc((size_t)n, sizeof *s->tables))) {
    PQclear(res);
    return fastepost__error_oom();
  }
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
    t->rows_estimate = atoll(PQgetvalue(res, i, 2));
    t->total_bytes = atoll(PQgetvalue(res, i, 3));
    t->table_bytes = atoll(PQgetvalue(res, i, 4));
    t->index_bytes = atoll(PQgetvalue(res, i, 5));
    t->rows_exact = -1;
    if (flags & FASTEPOST_STATS_DB_EXACT)
      rc = count_rows(&t->rows_exact, conn, pg, schema, name);
  }
  PQclear(res);
  return rc;
}

static int collect_backups(fastepost_stats_db *s, fastepost_backup_dir *backups) {
  fastepost__backup_summary sum;
  int rc = fastepost__backup_summarize(&sum, backups);
  if (rc)
    return rc;
  s->backup_count = (int64_t)sum.count;
  if (sum.has_newest) {
    snprintf(s->newest_backup.name, sizeof s->newest_backup.name, "%s", sum.newest_name);
    s->newest_backup.time = sum.newest_created_us / 1000000;
    s->newest_backup.size = (int64_t)sum.newest_size;
    s->newest_backup.format = sum.newest_format;
    s->newest_backup.kind = FASTEPOST_BACKUP_KIND_FULL;
  }
  return FASTEPOST_OK;
}

fastepost_status fastepost_stats_db_get(fastepost_stats_db **out, fastepost_conn *conn,
                                        fastepost_backup_dir *backups, int flags) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_stats_db_get: out is NULL");
  *out = NULL;
  fastepost_stats_db *s = calloc(1, sizeof *s);
  if (!s)
    return fastepost__error_oom();
  s->backup_count = -1;
  PGresult *res;
  int rc = fastepost__query(&res, conn,
                            "SELECT current_database(), pg_database_size(current_database())", 0,
                            NULL, PGRES_TUPLES_OK, "reading the database size");
  if (!rc) {
    s->database = fastepost__strdup(PQgetvalue(res, 0, 0));
    s->size_bytes = atoll(PQgetvalue(res, 0, 1));
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
