/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost/import.h
 * @brief Validated, all-or-nothing CSV import into a table.
 *
 * The file needs a header line; its columns are matched to the table's by name
 * (case-insensitive, any order). Each value is checked against its column's type and the model
 * rules of our tables before anything is sent; the rows then go through `COPY FROM STDIN` into a
 * staging table and into the target with one `INSERT ... SELECT` (with `ON CONFLICT` for the
 * skip and update modes), all in one transaction: any failure, in the file or in the database,
 * writes nothing. The report lists every rejected row (line, column, value preview, reason) up
 * to a limit, with the total count. Memory stays bounded by one row whatever the file size.
 *
 * CSV dialect (that of PostgreSQL's COPY): comma, double quote, `""` for a quote inside quotes;
 * line breaks LF, CRLF or CR (also inside quoted values); spaces are data; an unquoted empty
 * field is NULL and `""` is an empty string; a UTF-8 BOM is skipped; blank lines are skipped.
 * See docs/transfer.md.
 */
#ifndef FASTEPOST_IMPORT_H
#define FASTEPOST_IMPORT_H

#include "common.h"
#include "conn.h"

FASTEPOST_BEGIN_DECLS

/** Default largest CSV field accepted by an import: 16 MiB. */
#define FASTEPOST_IMPORT_DEFAULT_MAX_FIELD ((size_t)16 * 1024 * 1024)
/** Default number of errors an import report lists: 100. */
#define FASTEPOST_IMPORT_DEFAULT_MAX_ERRORS ((size_t)100)

/** What to do with a row whose key already exists. Numbers are ABI: append only. */
typedef enum fastepost_import_conflict {
  FASTEPOST_IMPORT_CONFLICT_ERROR = 0, /**< reject the import (the default) */
  FASTEPOST_IMPORT_CONFLICT_SKIP = 1,  /**< keep the existing row, skip the file's */
  FASTEPOST_IMPORT_CONFLICT_UPDATE = 2 /**< update the existing row with the file's values (upsert) */
} fastepost_import_conflict;

/**
 * Parse a conflict mode name: `error`, `skip`, `update` (case-insensitive).
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for anything else
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_import_conflict_parse(fastepost_import_conflict *out,
                                                                   const char *name);

/** The name of a conflict mode (`"error"`, `"skip"`, `"update"`), or `""` for an unknown
 * value. A static string. */
FASTEPOST_EXTERN(const char *) fastepost_import_conflict_name(fastepost_import_conflict mode);

/** Import options. Opaque; build with the setters below. Calls take them `const`, so one
 * options object may serve several imports (and threads) once set up. */
typedef struct fastepost_import_options fastepost_import_options;

/**
 * New options with the defaults: not a dry run, conflict mode error, the primary key as the
 * conflict key, 100 errors listed, any non-system schema, no progress callback, fields up to
 * 16 MiB.
 *
 * @param out  receives the options; release with fastepost_import_options_free()
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (out is NULL); FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_import_options_new(fastepost_import_options **out);

/** Release options. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_import_options_free(fastepost_import_options *opts);

/**
 * Dry run: do everything (database checks included), then roll back. Default 0.
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (NULL options)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_import_options_set_dry_run(fastepost_import_options *opts,
                                                                        int dry_run);

/**
 * What to do with rows whose key exists. Default FASTEPOST_IMPORT_CONFLICT_ERROR.
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (NULL options, unknown mode)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_import_options_set_conflict(fastepost_import_options *opts,
                                                                         fastepost_import_conflict mode);

/**
 * The conflict key column for the skip and update modes (copied). NULL (the default): for
 * update the primary key, for skip any unique constraint. The column needs a unique index of
 * its own; that is checked when the import runs.
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (NULL options); FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_import_options_set_key(fastepost_import_options *opts,
                                                                    const char *key);

/**
 * How many errors the report lists (all are counted).
 *
 * @param max_errors  0 means the default, FASTEPOST_IMPORT_DEFAULT_MAX_ERRORS (100)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (NULL options)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_import_options_set_max_errors(fastepost_import_options *opts,
                                                                           size_t max_errors);

/**
 * The largest field in bytes; a larger one fails the import with FASTEPOST_ETOOBIG naming its
 * line, before it is read whole (memory stays bounded by about this much).
 *
 * @param max_field  0 means the default, FASTEPOST_IMPORT_DEFAULT_MAX_FIELD (16 MiB)
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (NULL options)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_import_options_set_max_field(fastepost_import_options *opts,
                                                                          size_t max_field);

/**
 * Allow tables from `schema` (copied). Called once or more, it builds an allow-list; a table
 * elsewhere is FASTEPOST_ENOTFOUND. Without it (the default), any non-system schema.
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (NULL options or schema); FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_import_options_add_schema(fastepost_import_options *opts,
                                                                       const char *schema);

/**
 * Progress callback (rows and bytes read so far), or NULL for none (the default).
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (NULL options)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_import_options_set_progress(fastepost_import_options *opts,
                                                                         fastepost_progress_cb cb,
                                                                         void *payload);

/**
 * Supplies the input: copy up to `size` bytes into `buf`. Shaped like read(2): the return value
 * is a byte count or a failure, hence a signed 64-bit integer rather than a size_t.
 *
 * @return the number of bytes copied, 0 at the end of the input, or a negative
 *         fastepost_status (the import fails with it)
 */
typedef long long (*fastepost_import_read_cb)(char *buf, size_t size, void *payload);

/** One rejected value or row. Strings are borrowed from the report. */
typedef struct fastepost_import_error {
  uint64_t line;      /**< line in the file where the row starts (1 = header); 0 when the
                           failure concerns no single row */
  const char *column; /**< the column, or "" when the whole row is concerned */
  const char *value;  /**< a short printable preview of the value, or "" */
  const char *reason; /**< what is wrong, e.g. "not an integer" */
} fastepost_import_error;

/** The outcome of an import. Opaque; read with the getters below. */
typedef struct fastepost_import_report fastepost_import_report;

/**
 * Import a CSV file into `table`.
 *
 * @param report  receives the report (also when rows were rejected or the table is unknown;
 *                NULL only when out of memory); release with fastepost_import_report_free()
 * @param conn    an open connection, not inside a transaction
 * @param table   `name` or `schema.name` (see fastepost_export_options_set_table())
 * @param path    the file
 * @param opts    options (not changed), or NULL for the defaults
 * @return FASTEPOST_OK (rows written, or validated in a dry run); FASTEPOST_EPARSE (malformed
 *         CSV, invalid UTF-8, wrong field count); FASTEPOST_EINVALID (header problems, values
 *         that do not fit their column); FASTEPOST_ETOOBIG (a field over the max_field option);
 *         FASTEPOST_ECONFLICT (the database refused rows:
 *         unique, foreign key, check); FASTEPOST_ENOTFOUND (no such table); FASTEPOST_EIO;
 *         FASTEPOST_ECANCELED (the progress callback stopped it); FASTEPOST_EDB,
 *         FASTEPOST_ECONN. On any failure nothing is written.
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_import_csv(fastepost_import_report **report,
                                                        fastepost_conn *conn, const char *table,
                                                        const char *path,
                                                        const fastepost_import_options *opts);

/** fastepost_import_csv() reading an open descriptor (read to its end, not closed). */
FASTEPOST_EXTERN(fastepost_status) fastepost_import_csv_fd(fastepost_import_report **report,
                                                           fastepost_conn *conn, const char *table,
                                                           int fd,
                                                           const fastepost_import_options *opts);

/** fastepost_import_csv() reading through a callback. */
FASTEPOST_EXTERN(fastepost_status) fastepost_import_csv_cb(fastepost_import_report **report,
                                                           fastepost_conn *conn, const char *table,
                                                           fastepost_import_read_cb read_cb,
                                                           void *payload,
                                                           const fastepost_import_options *opts);

/** Release a report. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_import_report_free(fastepost_import_report *report);

/** Data rows read from the file (the header not counted). */
FASTEPOST_EXTERN(uint64_t) fastepost_import_report_rows_read(const fastepost_import_report *report);
/** Rows inserted (in a dry run: that would have been). */
FASTEPOST_EXTERN(uint64_t) fastepost_import_report_rows_inserted(const fastepost_import_report *report);
/** Existing rows updated in update mode (in a dry run: that would have been). */
FASTEPOST_EXTERN(uint64_t) fastepost_import_report_rows_updated(const fastepost_import_report *report);
/** Rows skipped because their key existed, in skip mode. */
FASTEPOST_EXTERN(uint64_t) fastepost_import_report_rows_skipped(const fastepost_import_report *report);
/** Rows actually written (inserted + updated); 0 in a dry run and after any failure. */
FASTEPOST_EXTERN(uint64_t) fastepost_import_report_rows_written(const fastepost_import_report *report);
/** Bytes read from the input. */
FASTEPOST_EXTERN(uint64_t) fastepost_import_report_bytes_read(const fastepost_import_report *report);
/** Whether this was a dry run (1) or not (0). */
FASTEPOST_EXTERN(int) fastepost_import_report_dry_run(const fastepost_import_report *report);
/**
 * Errors found in total (listed or not). Client-side checks count every error in the file;
 * the search for rows the database refused stops at the max_errors option, so then this is a lower bound
 * (see fastepost_import_report_errors_complete()).
 */
FASTEPOST_EXTERN(uint64_t) fastepost_import_report_error_total(const fastepost_import_report *report);
/** 1 when error_total counts every error, 0 when it is a lower bound. */
FASTEPOST_EXTERN(int) fastepost_import_report_errors_complete(const fastepost_import_report *report);
/** Number of errors listed (at most the max_errors option). */
FASTEPOST_EXTERN(size_t) fastepost_import_report_error_count(const fastepost_import_report *report);
/**
 * The i-th listed error, in file order.
 *
 * @return borrowed, valid until the report is freed; NULL when i is out of range
 */
FASTEPOST_EXTERN(const fastepost_import_error *)
fastepost_import_report_error(const fastepost_import_report *report, size_t i);

FASTEPOST_END_DECLS

#endif
