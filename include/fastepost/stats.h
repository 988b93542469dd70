/**
 * @file fastepost/stats.h
 * @brief Statistics for the admin page.
 *
 * Sections:
 *  - Database figures (`fastepost_stats_db_*`): size, tables, rows, backups.
 *  - CRM figures (`fastepost_crm_stats_*`): events per source, success rates, customer sync,
 *    recent events, webhook set-up. See docs/crm-stats.md.
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
  struct {
    char name[FASTEPOST_BACKUP_NAME_MAX];
    int64_t size;                   /**< bytes */
    int64_t time;                   /**< when it was started, Unix seconds UTC */
    fastepost_backup_format format;
    fastepost_backup_kind kind;
  } newest_backup; /**< the newest full backup (table backups do not count); name "" when there
                        is none (fastepost_backup_info is opaque now: the stats API replaces this) */
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

/* ---- CRM statistics ---- */

/**
 * @name CRM statistics
 *
 * What the CRM dashboard shows: per CRM source, the event counts, the 24-hour activity, the
 * success rate with its badge and the last event; the customer synchronisation figures; the 20
 * newest events; the webhook set-up details. The figures come from counters that triggers keep
 * up to date (schema migration 2), so collecting them costs the same with a thousand or ten
 * million events. See docs/crm-stats.md.
 *
 * A fastepost_crm_stats result owns all its data: the structs and strings returned by its
 * getters are borrowed from it and stay valid until fastepost_crm_stats_free(); they never
 * point into the connection.
 * @{
 */

/** Collected CRM statistics. Opaque. */
typedef struct fastepost_crm_stats fastepost_crm_stats;

/** The figures of one CRM source (`hubspot`, `odoo`, or any other in the event log). */
typedef struct fastepost_crm_source_stats {
  const char *source;          /**< "hubspot", "odoo" ... */
  int64_t total_events;        /**< every event of this source in the log */
  int64_t events_24h;          /**< events created in the 24 hours up to now, inclusive: an
                                    event exactly 24 h old counts */
  int64_t success_events;      /**< events with status `success` */
  int64_t error_events;        /**< status `error` (waiting for a retry) */
  int64_t dead_events;         /**< status `dead` (retries exhausted) */
  int64_t pending_events;      /**< status `pending` (not yet processed) */
  int has_success_rate;        /**< 0 when no event has finished (success + error + dead = 0) */
  double success_rate;         /**< success / (success + error + dead) in percent, rounded half
                                    up to one decimal (80.0, 66.7); 0 without a rate */
  const char *badge;           /**< "green" when the rounded rate is above 80, "yellow" at 80 or
                                    below, "none" without a rate */
  const char *last_event_at;   /**< time of the newest event, ISO 8601 UTC
                                    ("2026-11-27T19:00:00.000000Z"); NULL without events */
  int64_t last_event_at_ms;    /**< the same in milliseconds since the epoch; 0 without events */
  const char *last_event_type; /**< event_type of the newest event; NULL without events */
} fastepost_crm_source_stats;

/** The customer synchronisation panel. */
typedef struct fastepost_crm_sync_stats {
  int64_t total_customers;  /**< rows in `customers` */
  int64_t synced_customers; /**< customers with a `crm_id` (linked to a CRM record) */
  int64_t pending_tasks;    /**< tasks with status `pending` */
  const char *last_sync_at; /**< the newest `last_synced_at`, ISO 8601 UTC; NULL if none */
  int64_t last_sync_at_ms;  /**< the same in ms since the epoch; 0 if none */
} fastepost_crm_sync_stats;

/** One of the newest events, across sources. */
typedef struct fastepost_crm_recent_event {
  int64_t id;
  const char *source;
  const char *event_type;
  const char *status;       /**< pending, success, error, dead */
  const char *outcome;      /**< created, updated, stale ... or NULL */
  const char *error;        /**< error_message, or NULL */
  const char *created_at;   /**< ISO 8601 UTC */
  int64_t created_at_ms;
  const char *time_ago;     /**< "just now", "3 minutes ago", "2 days ago" (see fastepost_time_ago()) */
} fastepost_crm_recent_event;

/** Where and how the CRMs send their webhooks. */
typedef struct fastepost_crm_setup {
  const char *odoo_webhook_url;          /**< base URL + "/api/v1/integrations/odoo" */
  const char *odoo_webhook_url_with_key; /**< the same + "?api_key=YOUR_API_KEY", for Odoo's own
                                              webhooks, which cannot set headers */
  const char *odoo_api_key_header;       /**< "X-Odoo-Api-Key" */
  const char *odoo_api_key_param;        /**< "api_key" */
  const char *hubspot_webhook_url;       /**< base URL + "/api/v1/integrations/hubspot" */
  const char *hubspot_signature_header;  /**< "X-HubSpot-Signature-v3" */
  const char *hubspot_timestamp_header;  /**< "X-HubSpot-Request-Timestamp" */
} fastepost_crm_setup;

/** How many recent events fastepost_crm_stats_collect() returns at most. */
#define FASTEPOST_CRM_RECENT_EVENTS 20

/**
 * Collect the CRM statistics as of the database server's clock.
 *
 * @param out       receives the result, to release with fastepost_crm_stats_free(); NULL on failure
 * @param conn      an open connection to a database with schema version 2 or later
 * @param base_url  the application's public base URL for the set-up details
 *                  ("https://app.example.com"; a trailing slash is ignored), or NULL / "" for
 *                  paths only ("/api/v1/integrations/odoo")
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a base URL that is not http:// or https://;
 *         FASTEPOST_EVERSION when the counter tables are missing (run fastepost_schema_install());
 *         FASTEPOST_EDB, FASTEPOST_ECONN; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_crm_stats_collect(fastepost_crm_stats **out,
                                                               fastepost_conn *conn,
                                                               const char *base_url);

/**
 * The same with an explicit clock, for tests and reproducible reports: the 24-hour window and
 * the "time ago" texts are computed from now_ms.
 *
 * @param now_ms  milliseconds since the epoch (UTC); a negative value uses the server's clock
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_crm_stats_collect_at(fastepost_crm_stats **out,
                                                                  fastepost_conn *conn,
                                                                  const char *base_url,
                                                                  int64_t now_ms);

/** Release a result and everything borrowed from it. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_crm_stats_free(fastepost_crm_stats *stats);

/** The clock the figures were computed for, in ms since the epoch. */
FASTEPOST_EXTERN(int64_t) fastepost_crm_stats_now_ms(const fastepost_crm_stats *stats);

/** The same as ISO 8601 UTC text. Borrowed. */
FASTEPOST_EXTERN(const char *) fastepost_crm_stats_generated_at(const fastepost_crm_stats *stats);

/** How many sources: every source in the event log, and always `hubspot` and `odoo`. */
FASTEPOST_EXTERN(size_t) fastepost_crm_stats_source_count(const fastepost_crm_stats *stats);

/**
 * One source, in alphabetical order of names.
 *
 * @return borrowed; NULL when i is out of range
 */
FASTEPOST_EXTERN(const fastepost_crm_source_stats *)
fastepost_crm_stats_source(const fastepost_crm_stats *stats, size_t i);

/** A source by name ("hubspot"). Borrowed; NULL when that source is not in the result. */
FASTEPOST_EXTERN(const fastepost_crm_source_stats *)
fastepost_crm_stats_find_source(const fastepost_crm_stats *stats, const char *source);

/** The customer synchronisation figures. Borrowed; never NULL for a valid result. */
FASTEPOST_EXTERN(const fastepost_crm_sync_stats *)
fastepost_crm_stats_sync(const fastepost_crm_stats *stats);

/** How many recent events (at most FASTEPOST_CRM_RECENT_EVENTS). */
FASTEPOST_EXTERN(size_t) fastepost_crm_stats_recent_count(const fastepost_crm_stats *stats);

/**
 * A recent event, newest first.
 *
 * @return borrowed; NULL when i is out of range
 */
FASTEPOST_EXTERN(const fastepost_crm_recent_event *)
fastepost_crm_stats_recent(const fastepost_crm_stats *stats, size_t i);

/** The webhook set-up details for the base URL given. Borrowed; never NULL for a valid result. */
FASTEPOST_EXTERN(const fastepost_crm_setup *) fastepost_crm_stats_setup(const fastepost_crm_stats *stats);

/**
 * "Time ago" text as the dashboard shows it: "just now" (under a minute, or a little in the
 * future), "1 minute ago", "3 minutes ago", "1 hour ago", "5 hours ago", "1 day ago",
 * "2 days ago" (up to 29), "1 month ago" (30-day months, up to 11), "2 years ago" (365-day
 * years); "in the future" for more than a minute ahead. Whole units, rounded down.
 *
 * @param out      receives the text; release with fastepost_free()
 * @param then_ms  the moment, in ms since the epoch
 * @param now_ms   the clock, in ms since the epoch
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when out is NULL; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_time_ago(char **out, int64_t then_ms, int64_t now_ms);

/**
 * Recount the CRM counters from the tables, in one transaction that briefly blocks writers of
 * integration_events, customers and tasks. Needed only if rows were changed with the triggers
 * disabled (e.g. `session_replication_role = replica`, or a data-only restore with
 * --disable-triggers).
 *
 * @return FASTEPOST_OK; FASTEPOST_EVERSION before schema version 2; FASTEPOST_EDB, FASTEPOST_ECONN
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_crm_stats_rebuild(fastepost_conn *conn);

/** @} */

/* ---- end CRM statistics ---- */

FASTEPOST_END_DECLS

#endif
