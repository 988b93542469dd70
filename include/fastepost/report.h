/**
 * @file fastepost/report.h
 * @brief The HTML report: one self-contained page with the CRM dashboard (a card per CRM with
 * its success-rate badge, the customer sync panel, the recent events, the webhook set-up), the
 * database statistics and the backups.
 *
 * The page has no external assets and no script: inline CSS only, readable on a phone and a
 * desktop. Every text taken from the database is HTML-escaped. See docs/report.md.
 */
#ifndef FASTEPOST_REPORT_H
#define FASTEPOST_REPORT_H

#include "common.h"
#include "conn.h"

FASTEPOST_BEGIN_DECLS

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
 * @return FASTEPOST_OK; FASTEPOST_ENOMEM (an invalid URL is reported by fastepost_report_html())
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
 * Fix the clock (milliseconds since the epoch, UTC) for the 24-hour window, the "time ago"
 * texts and the generation time; negative: the database server's clock (the default).
 */
FASTEPOST_EXTERN(void) fastepost_report_options_set_now(fastepost_report_options *opts, int64_t now_ms);

/**
 * Render the report.
 *
 * @param out   receives the page (UTF-8 HTML), to release with fastepost_free(); NULL on failure
 * @param conn  an open connection to a database with the schema installed
 * @param opts  options, or NULL for the defaults
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for a NULL out or a base URL that is not http(s);
 *         FASTEPOST_EVERSION when the schema is not installed; FASTEPOST_EIO when the backup
 *         directory cannot be read; FASTEPOST_EDB, FASTEPOST_ECONN; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_report_html(char **out, fastepost_conn *conn,
                                                         const fastepost_report_options *opts);

FASTEPOST_END_DECLS

#endif
