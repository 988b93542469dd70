/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost/stats.h
 * @brief Statistics: numbers, enums and timestamps for an admin page. No text for people (see
 * fastepost/report.h for "time ago", badge colours and the HTML page).
 *
 * Sections:
 *  - Database figures (`fastepost_stats_db_*`): size, tables, rows, backups. See docs/stats.md.
 *  - CRM figures (`fastepost_crm_stats_*`): events per source, success rates, customer sync,
 *    recent events, webhook set-up. See docs/crm-stats.md.
 */
#ifndef FASTEPOST_STATS_H
#define FASTEPOST_STATS_H

#include "backup.h"
#include "common.h"
#include "conn.h"
#include "events.h"

FASTEPOST_BEGIN_DECLS

/* ==== Database figures ======================================================================= */

/** Flags for fastepost_stats_db_get(), or-ed together. */
typedef enum fastepost_stats_db_flag {
  FASTEPOST_STATS_DB_EXACT = 1 /**< also count every table's rows with count(*) (slow on big tables) */
} fastepost_stats_db_flag;

/** Figures of the connected database. Opaque; owns all its data; release with fastepost_stats_db_free(). */
typedef struct fastepost_stats_db fastepost_stats_db;

/** One table of the database. Opaque; borrowed from its fastepost_stats_db. */
typedef struct fastepost_stats_db_table fastepost_stats_db_table;

/**
 * Collect the database figures. Estimates come from one catalog query (fast whatever the table
 * sizes); FASTEPOST_STATS_DB_EXACT adds one count(*) per table, under the connection's statement
 * timeout.
 *
 * @param out      receives the figures; release with fastepost_stats_db_free(); NULL on failure
 * @param conn     an open connection
 * @param backups  a backup directory to count backups in, or NULL (then
 *                 fastepost_stats_db_has_backups() is 0)
 * @param flags    0 or FASTEPOST_STATS_DB_EXACT
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (out NULL, unknown flag); FASTEPOST_EDB (e.g. no
 *         SELECT privilege for an exact count), FASTEPOST_ECONN, FASTEPOST_EIO (backup directory
 *         unreadable), FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_stats_db_get(fastepost_stats_db **out,
                                                         fastepost_conn *conn,
                                                         fastepost_backup_dir *backups,
                                                         unsigned int flags);

/** Release the figures and every table borrowed from them. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_stats_db_free(fastepost_stats_db *stats);

/** The database name. Borrowed, never NULL. */
FASTEPOST_EXTERN(const char *) fastepost_stats_db_database(const fastepost_stats_db *stats);
/** pg_database_size() in bytes. */
FASTEPOST_EXTERN(uint64_t) fastepost_stats_db_size_bytes(const fastepost_stats_db *stats);

/** How many user tables. */
FASTEPOST_EXTERN(size_t) fastepost_stats_db_table_count(const fastepost_stats_db *stats);
/**
 * A table, largest (total_bytes) first, then by name.
 * @return borrowed from stats; NULL when i is out of range
 */
FASTEPOST_EXTERN(const fastepost_stats_db_table *)
fastepost_stats_db_table_get(const fastepost_stats_db *stats, size_t i);

/** 1 when a backup directory was given (the backup figures below are known), else 0. */
FASTEPOST_EXTERN(int) fastepost_stats_db_has_backups(const fastepost_stats_db *stats);
/** Backups of any kind in the directory; 0 without one (see fastepost_stats_db_has_backups()). */
FASTEPOST_EXTERN(uint64_t) fastepost_stats_db_backup_count(const fastepost_stats_db *stats);
/** 1 when the directory holds a full backup (table backups do not count), else 0. */
FASTEPOST_EXTERN(int) fastepost_stats_db_has_newest_backup(const fastepost_stats_db *stats);
/** The newest full backup's file name; "" without one. Borrowed, never NULL. */
FASTEPOST_EXTERN(const char *) fastepost_stats_db_newest_backup_name(const fastepost_stats_db *stats);
/** When the newest full backup was taken, µs since the epoch UTC; 0 without one. */
FASTEPOST_EXTERN(int64_t) fastepost_stats_db_newest_backup_created_us(const fastepost_stats_db *stats);
/** The newest full backup's size in bytes; 0 without one. */
FASTEPOST_EXTERN(uint64_t) fastepost_stats_db_newest_backup_size_bytes(const fastepost_stats_db *stats);

/** The table name, `schema.name` when not in `public`. Borrowed, never NULL. */
FASTEPOST_EXTERN(const char *) fastepost_stats_db_table_name(const fastepost_stats_db_table *table);
/**
 * 1 when the planner's row estimate is known, 0 when it is not (never vacuumed or analyzed and
 * no activity counted yet).
 */
FASTEPOST_EXTERN(int) fastepost_stats_db_table_has_rows_estimate(const fastepost_stats_db_table *table);
/** Estimated rows from the planner statistics; 0 when unknown (see _has_rows_estimate()). */
FASTEPOST_EXTERN(uint64_t) fastepost_stats_db_table_rows_estimate(const fastepost_stats_db_table *table);
/** 1 when the rows were counted (FASTEPOST_STATS_DB_EXACT), else 0. */
FASTEPOST_EXTERN(int) fastepost_stats_db_table_has_rows_exact(const fastepost_stats_db_table *table);
/** count(*); 0 when not counted (see _has_rows_exact()). */
FASTEPOST_EXTERN(uint64_t) fastepost_stats_db_table_rows_exact(const fastepost_stats_db_table *table);
/** Table + indexes + TOAST in bytes (pg_total_relation_size). */
FASTEPOST_EXTERN(uint64_t) fastepost_stats_db_table_total_bytes(const fastepost_stats_db_table *table);
/** The table with TOAST, without indexes, in bytes (pg_table_size). */
FASTEPOST_EXTERN(uint64_t) fastepost_stats_db_table_table_bytes(const fastepost_stats_db_table *table);
/** Its indexes in bytes (pg_indexes_size). */
FASTEPOST_EXTERN(uint64_t) fastepost_stats_db_table_index_bytes(const fastepost_stats_db_table *table);

/* ==== CRM statistics ========================================================================= */

/**
 * @name CRM statistics
 *
 * What the CRM dashboard shows: per CRM source, the event counts, the 24-hour activity, the
 * success rate with its health level and the last event; the customer synchronisation figures;
 * the 20 newest events; the webhook set-up details. The figures come from counters that
 * triggers keep up to date (schema migration 2), so collecting them costs the same with a
 * thousand or ten million events. See docs/crm-stats.md.
 *
 * A fastepost_crm_stats result owns all its data: the structs and strings returned by its
 * getters are borrowed from it and stay valid until fastepost_crm_stats_free(); they never
 * point into the connection. The structs are handed out by pointer only: fields are only ever
 * appended in 1.x. Times are µs since the epoch UTC, 0 when there is none.
 * @{
 */

/** Collected CRM statistics. Opaque. */
typedef struct fastepost_crm_stats fastepost_crm_stats;

/** How a source is doing, from its rounded success rate (the dashboard's badge). */
typedef enum fastepost_crm_stats_health {
  FASTEPOST_CRM_STATS_HEALTH_NONE = 0,   /**< no finished event: no rate */
  FASTEPOST_CRM_STATS_HEALTH_GOOD = 1,   /**< rounded success rate above 80 % */
  FASTEPOST_CRM_STATS_HEALTH_WARNING = 2 /**< rounded success rate at 80 % or below */
} fastepost_crm_stats_health;

/** "none", "good", "warning"; "" for a value not in the enum. A static string. */
FASTEPOST_EXTERN(const char *) fastepost_crm_stats_health_name(fastepost_crm_stats_health health);
/**
 * The health level for its name ("good").
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL or an unknown name
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_crm_stats_health_parse(fastepost_crm_stats_health *out,
                                                                    const char *name);

/** The figures of one CRM source (`hubspot`, `odoo`, or any other in the event log). */
typedef struct fastepost_crm_source_stats {
  const char *source;          /**< "hubspot", "odoo" ... */
  uint64_t total_events;       /**< every event of this source in the log */
  uint64_t events_24h;         /**< events created in the 24 hours up to now, inclusive: an
                                    event exactly 24 h old counts */
  uint64_t success_events;     /**< events with status `success` */
  uint64_t error_events;       /**< status `error` (waiting for a retry) */
  uint64_t dead_events;        /**< status `dead` (retries exhausted) */
  uint64_t pending_events;     /**< status `pending` (not yet processed) */
  int has_success_rate;        /**< 0 when no event has finished (success + error + dead = 0) */
  double success_rate;         /**< success / (success + error + dead) in percent, rounded half
                                    up to one decimal (80.0, 66.7); 0 without a rate */
  uint32_t success_rate_tenths; /**< the same in tenths of a percent (800, 667): exact, for
                                     printing without floating point; 0 without a rate */
  fastepost_crm_stats_health health; /**< from the rounded rate */
  int64_t last_event_at_us;    /**< creation time of the newest event; 0 without events */
  const char *last_event_type; /**< event_type of the newest event; NULL without events */
  /* Added in 1.1 (fields are only appended): */
  int configured;              /**< 1 when the options name this source as configured
                                    (fastepost_crm_stats_options_add_source(); without any
                                    added: odoo and hubspot), else 0 */
  const char *webhook_url;     /**< where this CRM sends its webhooks: the base URL + the
                                    source's path (default "/api/v1/integrations/<source>");
                                    "" for a source without an adapter in this library */
} fastepost_crm_source_stats;

/** The customer synchronisation figures. */
typedef struct fastepost_crm_sync_stats {
  uint64_t total_customers;  /**< rows in `customers` */
  uint64_t synced_customers; /**< customers with a `crm_id` (linked to a CRM record) */
  uint64_t pending_tasks;    /**< tasks with status `pending` */
  int64_t last_sync_at_us;   /**< the newest `last_synced_at`; 0 if none */
} fastepost_crm_sync_stats;

/** One of the newest events, across sources. */
typedef struct fastepost_crm_recent_event {
  int64_t id;               /**< integration_events.id */
  const char *source;       /**< "odoo", "hubspot" ... */
  const char *event_type;   /**< as stored */
  const char *status;       /**< pending, success, error, dead (the status column) */
  const char *outcome;      /**< created, updated, stale ... (fastepost_outcome_name()), or NULL */
  const char *error;        /**< error_message, or NULL */
  int64_t created_at_us;    /**< when the event was logged */
} fastepost_crm_recent_event;

/** Where and how the CRMs send their webhooks (see fastepost_crm_stats_options_set_base_url()). */
typedef struct fastepost_crm_setup {
  const char *odoo_webhook_url;          /**< base URL + the Odoo path */
  const char *odoo_webhook_url_with_key; /**< the same + "?api_key=YOUR_API_KEY", for Odoo's own
                                              webhooks, which cannot set headers */
  const char *odoo_api_key_header;       /**< "X-Odoo-Api-Key" */
  const char *odoo_api_key_param;        /**< "api_key" */
  const char *hubspot_webhook_url;       /**< base URL + the HubSpot path */
  const char *hubspot_signature_header;  /**< "X-HubSpot-Signature-v3" */
  const char *hubspot_timestamp_header;  /**< "X-HubSpot-Request-Timestamp" */
} fastepost_crm_setup;

/** How many recent events fastepost_crm_stats_collect() returns at most. */
#define FASTEPOST_CRM_RECENT_EVENTS 20

/** The default webhook path of Odoo deliveries (an application route, see docs/crm-stats.md). */
#define FASTEPOST_CRM_STATS_DEFAULT_ODOO_PATH "/api/v1/integrations/odoo"
/** The default webhook path of HubSpot deliveries. */
#define FASTEPOST_CRM_STATS_DEFAULT_HUBSPOT_PATH "/api/v1/integrations/hubspot"
/**
 * The default webhook path of every source is this prefix + the source's name
 * ("/api/v1/integrations/pipedrive"): the generic route of the example applications.
 */
#define FASTEPOST_CRM_STATS_DEFAULT_PATH_PREFIX "/api/v1/integrations/"

/**
 * The event history of a source, for charts (added in 1.1): events per UTC hour over the last
 * 24 hours and per UTC day over the last 30 days, by status, read from the hourly counters
 * (docs/crm-stats.md). Collected only when asked for
 * (fastepost_crm_stats_options_set_history()).
 */
typedef enum fastepost_crm_history_span {
  FASTEPOST_CRM_HISTORY_HOURS = 0, /**< FASTEPOST_CRM_HISTORY_HOURS_LEN buckets of one UTC hour */
  FASTEPOST_CRM_HISTORY_DAYS = 1   /**< FASTEPOST_CRM_HISTORY_DAYS_LEN buckets of one UTC day */
} fastepost_crm_history_span;

/** Buckets of the hourly history: the hour of the clock and the 23 before it. */
#define FASTEPOST_CRM_HISTORY_HOURS_LEN 24
/** Buckets of the daily history: the day of the clock and the 29 before it. */
#define FASTEPOST_CRM_HISTORY_DAYS_LEN 30

/** One hour or day of a source's history: the events created in it, by their status now. */
typedef struct fastepost_crm_bucket {
  int64_t start_us; /**< the first µs of the UTC hour or day */
  uint64_t success; /**< status `success` (outcome `ignored` included) */
  uint64_t error;   /**< status `error` */
  uint64_t dead;    /**< status `dead` */
  uint64_t pending; /**< status `pending` */
} fastepost_crm_bucket;

/** Options for fastepost_crm_stats_collect(). Opaque. */
typedef struct fastepost_crm_stats_options fastepost_crm_stats_options;

/**
 * New options with the defaults: no base URL (set-up paths only), the default webhook paths,
 * the database server's clock.
 * @param out  receives the options; release with fastepost_crm_stats_options_free()
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when out is NULL; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_crm_stats_options_new(fastepost_crm_stats_options **out);
/** Release options. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_crm_stats_options_free(fastepost_crm_stats_options *opts);
/**
 * The application's public base URL for the set-up details ("https://app.example.com"; a
 * trailing slash is ignored). NULL or "": paths only (the default).
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a URL that is not http:// or https://;
 *         FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_crm_stats_options_set_base_url(fastepost_crm_stats_options *opts,
                                                                            const char *base_url);
/**
 * The path at which the application receives one CRM's webhooks. Default:
 * FASTEPOST_CRM_STATS_DEFAULT_PATH_PREFIX + the source (FASTEPOST_CRM_STATS_DEFAULT_ODOO_PATH,
 * FASTEPOST_CRM_STATS_DEFAULT_HUBSPOT_PATH ...).
 * @param source  a source of fastepost_webhook_source_at(): "odoo", "hubspot", "pipedrive",
 *                "monday", "salesforce", "zoho" (1.0 accepted odoo and hubspot only)
 * @param path    starting with '/', at most 1024 bytes; NULL or "": the default again
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for another source or a path without a leading '/';
 *         FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_crm_stats_options_set_path(fastepost_crm_stats_options *opts,
                                                                        const char *source,
                                                                        const char *path);
/**
 * Name a source the application is configured for (it has a key, secret or organisation id in
 * its webhook configuration): it gets a figures entry (a dashboard card) even before its first
 * event. Sources with events always have one. Without any source added, odoo and hubspot are
 * the configured ones (the 1.0 behaviour); once one is added, exactly the added ones are.
 * Adding a source twice is harmless. See fastepost_webhook_config_has_source() to derive the
 * list from a webhook configuration.
 * @param source  a source of fastepost_webhook_source_at() ("pipedrive")
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL arguments or a source the library has no
 *         adapter for (the message names it)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_crm_stats_options_add_source(fastepost_crm_stats_options *opts,
                                                                          const char *source);
/**
 * A clock for the 24-hour window (read once per collection). NULL: the database server's clock
 * (statement_timestamp()), the default. Use the same clock as for processing
 * (fastepost_odoo_options_set_clock() ...) for reproducible figures.
 * @return FASTEPOST_OK
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_crm_stats_options_set_clock(fastepost_crm_stats_options *opts,
                                                                         fastepost_clock_fn clock,
                                                                         void *payload);

/**
 * Whether fastepost_crm_stats_collect() also reads each source's history for charts
 * (fastepost_crm_stats_history()): one more statement, at most 30 x 24 hours x 4 statuses x 8
 * slots counter rows per source, through the counters' primary key. Default 0 (off).
 * @param enabled  non-zero to collect the history
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when opts is NULL
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_crm_stats_options_set_history(fastepost_crm_stats_options *opts,
                                                                           int enabled);

/**
 * Collect the CRM statistics.
 *
 * @param out   receives the result, to release with fastepost_crm_stats_free(); NULL on failure
 * @param conn  an open connection to a database with schema version 2 or later
 * @param opts  options, or NULL for the defaults
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a NULL out;
 *         FASTEPOST_EVERSION when the counter tables are missing (run fastepost_schema_install());
 *         FASTEPOST_EDB, FASTEPOST_ECONN; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_crm_stats_collect(fastepost_crm_stats **out,
                                                               fastepost_conn *conn,
                                                               const fastepost_crm_stats_options *opts);

/** Release a result and everything borrowed from it. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_crm_stats_free(fastepost_crm_stats *stats);

/** The clock the figures were computed for, µs since the epoch UTC. */
FASTEPOST_EXTERN(int64_t) fastepost_crm_stats_now_us(const fastepost_crm_stats *stats);

/**
 * How many sources: every source in the event log, and every configured one
 * (fastepost_crm_stats_options_add_source(); by default `hubspot` and `odoo`).
 */
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

/**
 * The history of source i (as fastepost_crm_stats_source()), oldest bucket first: the hour (or
 * day) that holds fastepost_crm_stats_now_us() is the last. Events stamped after the clock's
 * hour are in no bucket.
 *
 * @param stats  a result collected with fastepost_crm_stats_options_set_history() on
 * @param i      the source's index
 * @param span   FASTEPOST_CRM_HISTORY_HOURS (FASTEPOST_CRM_HISTORY_HOURS_LEN buckets) or
 *               FASTEPOST_CRM_HISTORY_DAYS (FASTEPOST_CRM_HISTORY_DAYS_LEN buckets)
 * @return borrowed from stats; NULL when i or span is out of range or the history was not
 *         collected
 */
FASTEPOST_EXTERN(const fastepost_crm_bucket *)
fastepost_crm_stats_history(const fastepost_crm_stats *stats, size_t i, fastepost_crm_history_span span);

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

/** The webhook set-up details for the options given. Borrowed; never NULL for a valid result. */
FASTEPOST_EXTERN(const fastepost_crm_setup *) fastepost_crm_stats_setup(const fastepost_crm_stats *stats);

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

FASTEPOST_END_DECLS

#endif
