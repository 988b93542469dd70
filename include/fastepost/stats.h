/**
 * @file fastepost/stats.h
 * @brief Statistics for the admin page.
 *
 * Sections:
 *  - Database figures (`fastepost_stats_db_*`): size, tables, rows, backups.
 *  - (CRM figures are appended below by their own section.)
 *
 * See docs/stats.md.
 */
#ifndef FASTEPOST_STATS_H
#define FASTEPOST_STATS_H

#include "backup.h"
#include "common.h"
#include "conn.h"

FASTEPOST_BEGIN_DECLS

/* ==== Database figures ======================================================================= */

/** Flags for fastepost_stats_db_get(). */
enum fastepost_stats_db_flags {
  FASTEPOST_STATS_DB_EXACT = 1 /**< also count every table's rows with count(*) (slow on big tables) */
};

/** One table of the database. */
typedef struct fastepost_stats_db_table {
  char *name;            /**< the table name, `schema.name` when not in `public` */
  int64_t rows_estimate; /**< estimated rows from the planner statistics; -1 when unknown
                              (never vacuumed or analyzed and no activity counted yet) */
  int64_t rows_exact;    /**< count(*), or -1 when not asked for */
  int64_t total_bytes;   /**< table + indexes + TOAST (pg_total_relation_size) */
  int64_t table_bytes;   /**< the table with TOAST, without indexes (pg_table_size) */
  int64_t index_bytes;   /**< its indexes (pg_indexes_size) */
} fastepost_stats_db_table;

/** Figures of the connected database. Owns all its memory; release with fastepost_stats_db_free(). */
typedef struct fastepost_stats_db {
  char *database;                   /**< the database name */
  int64_t size_bytes;               /**< pg_database_size */
  size_t table_count;               /**< entries in `tables` */
  fastepost_stats_db_table *tables; /**< user tables, largest (total_bytes) first, then by name */
  int64_t backup_count;             /**< backups in the directory given, -1 when none given */
  fastepost_backup_info newest_backup; /**< the newest backup; name "" when there is none */
} fastepost_stats_db;

/**
 * Collect the database figures. Estimates come from one catalog query (fast whatever the table
 * sizes); FASTEPOST_STATS_DB_EXACT adds one count(*) per table, under the connection's statement
 * timeout.
 *
 * @param out      receives the figures; release with fastepost_stats_db_free()
 * @param conn     an open connection
 * @param backups  a backup directory to count backups in, or NULL
 * @param flags    0 or FASTEPOST_STATS_DB_EXACT
 * @return FASTEPOST_OK; FASTEPOST_EDB (e.g. no SELECT privilege for an exact count),
 *         FASTEPOST_ECONN, FASTEPOST_EIO (backup directory unreadable), FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_stats_db_get(fastepost_stats_db **out,
                                                         fastepost_conn *conn,
                                                         fastepost_backup_dir *backups, int flags);

/** Release the figures. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_stats_db_free(fastepost_stats_db *stats);

/* ==== CRM figures ============================================================================ */

FASTEPOST_END_DECLS

#endif
