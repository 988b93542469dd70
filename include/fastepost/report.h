/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost/report.h
 * @brief Presentation: the texts and colours people read, apart from the statistics core
 * (fastepost/stats.h returns numbers, enums and timestamps only).
 *
 * Sections:
 *  - Texts (`fastepost_report_time_*`, `fastepost_report_badge_*`): "time ago", ISO 8601 time
 *    stamps, the success-rate badge's colour and label. Used by the CLI, the HTML page and the
 *    bindings, so that all of them say the same.
 *  - The HTML report (`fastepost_report_html()`): one self-contained page with the CRM
 *    dashboard (a card per CRM that has events or is configured, with its success-rate badge;
 *    the customer sync panel; the recent events of every source; the webhook set-up of each
 *    CRM), the database statistics and the backups. No external assets
 *    and no script: inline CSS only, readable on a phone and a desktop. Every text taken from
 *    the database is HTML-escaped.
 *
 * Texts are English and independent of the locale. See docs/report.md.
 */
#ifndef FASTEPOST_REPORT_H
#define FASTEPOST_REPORT_H

#include "common.h"
#include "conn.h"
#include "stats.h"

FASTEPOST_BEGIN_DECLS

/* ==== Texts ================================================================================== */

/**
 * "Time ago" text as the dashboard shows it: "just now" (under a minute, or a little in the
 * future), "1 minute ago", "3 minutes ago", "1 hour ago", "5 hours ago", "1 day ago",
 * "2 days ago" (up to 29), "1 month ago" (30-day months, up to 11), "2 years ago" (365-day
 * years); "in the future" for a minute or more ahead. Whole units, rounded down.
 *
 * @param out      receives the text; release with fastepost_free()
 * @param then_us  the moment, µs since the epoch UTC
 * @param now_us   the clock, µs since the epoch UTC
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when out is NULL; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_report_time_ago(char **out, int64_t then_us, int64_t now_us);

/**
 * A time as ISO 8601 UTC with microseconds, "2026-11-27T12:34:56.789000Z" (the form of the
 * CLI's --json and the bindings' dictionaries).
 *
 * @param out  receives the text; release with fastepost_free()
 * @param us   µs since the epoch UTC, in the years 1 to 9999
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when out is NULL or the time is out of range;
 *         FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_report_time_iso(char **out, int64_t us);

/**
 * A time as a person reads it, in UTC with English month names whatever the locale:
 * "27 Nov 2026, 20:08 UTC" (day without a leading zero, four-digit year, minutes rounded down).
 * Added in 1.1.
 *
 * @param out  receives the text; release with fastepost_free()
 * @param us   µs since the epoch UTC, in the years 1 to 9999
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when out is NULL or the time is out of range;
 *         FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_report_time_human(char **out, int64_t us);

/**
 * The badge colour of a health level: "green" (GOOD), "yellow" (WARNING), "none" (NONE and any
 * other value). A static string.
 */
FASTEPOST_EXTERN(const char *) fastepost_report_badge_colour(fastepost_crm_stats_health health);

/**
 * The badge text of a source: "80.0% success" (one decimal, whatever the locale), or
 * "no events" without a rate.
 *
 * @param out     receives the text; release with fastepost_free()
 * @param source  a source of a fastepost_crm_stats result
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when out or source is NULL; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_report_badge_label(char **out,
                                                                const fastepost_crm_source_stats *source);

/**
 * How a CRM names itself, for titles: "Odoo", "HubSpot", "Pipedrive", "monday.com",
 * "Salesforce", "Zoho CRM"; any other source as it is.
 *
 * @param source  a source name ("monday")
 * @return a static string, or source itself for a source without an adapter (borrowed from
 *         the argument); "" for NULL
 */
FASTEPOST_EXTERN(const char *) fastepost_report_source_title(const char *source);

/**
 * What to set up on a CRM's side so that it sends its webhooks to the application, in one or
 * two English sentences (where, which events, which credential), for the dashboard's set-up
 * section: "In Pipedrive, Tools and apps > Webhooks > Create new webhook: ...".
 *
 * @param source  a source name ("pipedrive")
 * @return a static string; "" for a source without an adapter or NULL
 */
FASTEPOST_EXTERN(const char *) fastepost_report_source_instructions(const char *source);

/* ==== The HTML report ======================================================================== */

/** Report options. Opaque; every field has a default. */
typedef struct fastepost_report_options fastepost_report_options;

/**
 * New options with the defaults: no backup directory, no base URL (set-up paths only), the
 * database server's clock, the title "libfastepost report".
 * @param out  receives the options (free with fastepost_report_options_free())
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when out is NULL; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_report_options_new(fastepost_report_options **out);
/** Release options. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_report_options_free(fastepost_report_options *opts);
/**
 * The backup directory whose backups the report lists (NULL: no backup section figures).
 * @return FASTEPOST_OK; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_report_options_set_backup_dir(fastepost_report_options *opts,
                                                                           const char *path);
/**
 * The application's public base URL for the webhook set-up details ("https://app.example.com").
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a URL that is not http:// or https://;
 *         FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_report_options_set_base_url(fastepost_report_options *opts,
                                                                         const char *base_url);
/**
 * The page title (default "libfastepost report"); escaped like every other text.
 * @return FASTEPOST_OK; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_report_options_set_title(fastepost_report_options *opts,
                                                                      const char *title);
/**
 * The path at which the application receives one CRM's webhooks, for the set-up section
 * (as fastepost_crm_stats_options_set_path(); default "/api/v1/integrations/<source>").
 * @param source  a source of fastepost_webhook_source_at() ("odoo", "hubspot", "pipedrive" ...)
 * @param path    starting with '/'; NULL or "": the default
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for another source or a path without a leading '/';
 *         FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_report_options_set_webhook_path(fastepost_report_options *opts,
                                                                             const char *source,
                                                                             const char *path);
/**
 * Name a source the application is configured for: it gets a dashboard card and set-up
 * instructions even before its first event (as fastepost_crm_stats_options_add_source();
 * without any added: odoo and hubspot). Sources with events always get a card.
 * @param source  a source of fastepost_webhook_source_at() ("zoho")
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL arguments or an unknown source
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_report_options_add_source(fastepost_report_options *opts,
                                                                       const char *source);
/**
 * A clock (µs since the epoch UTC) for the 24-hour window, the "time ago" texts and the
 * generation time, read once per report; NULL: the database server's clock (the default).
 * @return FASTEPOST_OK
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_report_options_set_clock(fastepost_report_options *opts,
                                                                      fastepost_clock_fn clock,
                                                                      void *payload);

/**
 * Render the report.
 *
 * @param out   receives the page (UTF-8 HTML), to release with fastepost_free(); NULL on failure
 * @param conn  an open connection to a database with the schema installed
 * @param opts  options, or NULL for the defaults
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a NULL out;
 *         FASTEPOST_EVERSION when the schema is not installed; FASTEPOST_EIO when the backup
 *         directory cannot be read; FASTEPOST_EDB, FASTEPOST_ECONN; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_report_html(char **out, fastepost_conn *conn,
                                                         const fastepost_report_options *opts);

typedef struct fastepost_spool fastepost_spool;

/**
 * The CRM figures in the Prometheus text exposition format (0.0.4), for a /metrics route or
 * the node exporter's textfile collector. Gauges, one family each (docs/metrics.md):
 * `fastepost_crm_events{source,status}`, `fastepost_crm_events_24h{source}`,
 * `fastepost_crm_success_ratio{source}` (0..1, from the counts; absent before an event has
 * finished), `fastepost_crm_retry_queue{source}`, `fastepost_crm_dead_events{source}`,
 * `fastepost_crm_last_event_timestamp_seconds{source}`,
 * `fastepost_crm_seconds_since_last_event{source}` (to the figures' time), `fastepost_customers`,
 * `fastepost_customers_synced`, `fastepost_tasks_pending`; with a spool also
 * `fastepost_spool_entries` and `fastepost_spool_bad_entries`.
 *
 * @param out    receives the text, to release with fastepost_free(); NULL on failure
 * @param stats  figures from fastepost_crm_stats_collect()
 * @param spool  a spool whose depth to include, or NULL
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for NULL out or stats; the spool's errors
 *         (FASTEPOST_EIO ...); FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_report_prometheus(char **out, const fastepost_crm_stats *stats,
                                                               fastepost_spool *spool);

FASTEPOST_END_DECLS

#endif
