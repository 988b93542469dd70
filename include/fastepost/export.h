/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost/export.h
 * @brief Stream a table (or all tables) out as CSV, JSON, NDJSON or SQL.
 *
 * Exports run `COPY ... TO STDOUT` on the server and stream the rows to a write callback as
 * they arrive, so memory stays bounded by one row whatever the table size.
 *
 * - `csv`: byte-identical to `COPY ... TO STDOUT (FORMAT csv, HEADER)`: a header line, RFC 4180
 *   quoting, UTF-8, rows ending in `\n`, NULL as an unquoted empty field, an empty string as `""`.
 * - `json`: one array of objects; `ndjson`: one object per line. Objects are PostgreSQL's own
 *   `row_to_json` rendering of each row (numbers as numbers, timestamps as ISO 8601 ...).
 * - `sql`: a plain `pg_dump` script of one table or, with no table, the whole database.
 *
 * Table and column names are checked against the catalog before they are quoted into SQL; filter
 * values are quoted by libpq, never pasted. See docs/transfer.md.
 */
#ifndef FASTEPOST_EXPORT_H
#define FASTEPOST_EXPORT_H

#include "common.h"
#include "conn.h"

FASTEPOST_BEGIN_DECLS

/** Output formats. Numbers are ABI: append only. */
typedef enum fastepost_export_format {
  FASTEPOST_EXPORT_FORMAT_CSV = 0,    /**< CSV with a header, as COPY writes it */
  FASTEPOST_EXPORT_FORMAT_JSON = 1,   /**< one JSON array of row objects */
  FASTEPOST_EXPORT_FORMAT_NDJSON = 2, /**< one JSON object per line */
  FASTEPOST_EXPORT_FORMAT_SQL = 3     /**< a pg_dump plain SQL script */
} fastepost_export_format;

/** Filter operators: `column op value`. Numbers are ABI: append only. */
typedef enum fastepost_export_filter_op {
  FASTEPOST_EXPORT_FILTER_EQ = 0,       /**< `=` */
  FASTEPOST_EXPORT_FILTER_NE = 1,       /**< `!=` (also accepted as `<>`) */
  FASTEPOST_EXPORT_FILTER_LT = 2,       /**< `<` */
  FASTEPOST_EXPORT_FILTER_LE = 3,       /**< `<=` */
  FASTEPOST_EXPORT_FILTER_GT = 4,       /**< `>` */
  FASTEPOST_EXPORT_FILTER_GE = 5,       /**< `>=` */
  FASTEPOST_EXPORT_FILTER_LIKE = 6,     /**< `like`: SQL pattern on the value as text (`%`, `_`) */
  FASTEPOST_EXPORT_FILTER_ILIKE = 7,    /**< `ilike`: case-insensitive `like` */
  FASTEPOST_EXPORT_FILTER_IS_NULL = 8,  /**< `is_null` (no value) */
  FASTEPOST_EXPORT_FILTER_NOT_NULL = 9  /**< `not_null` (no value) */
} fastepost_export_filter_op;

/** What to export and how. Opaque; build it with the setters below. */
typedef struct fastepost_export_options fastepost_export_options;

/**
 * Receives the output in pieces of any size; a piece may end anywhere, even inside a row.
 *
 * @return 0 to continue; nonzero stops the export, which fails with FASTEPOST_ECANCELED (or
 *         with the negative fastepost_status the callback returned)
 */
typedef int (*fastepost_export_write_cb)(const char *data, size_t len, void *payload);

/**
 * New options: format csv, no table, all columns, no filter, no order, no limit, any
 * non-system schema.
 *
 * The sql format runs pg_dump: the one set with fastepost_export_options_set_tool_path(), else
 * the first new enough in fastepost_export_options_set_search_path()'s directories (see there);
 * the library reads no environment variable and no `PATH` for it. pg_dump inherits a copy of the
 * process environment taken here (PG* variables), so an export never reads the environment
 * while it runs and another thread may call setenv() meanwhile.
 *
 * @param out  receives the options; release with fastepost_export_options_free()
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (out is NULL); FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_options_new(fastepost_export_options **out);

/** Release options. A no-op on NULL. */
FASTEPOST_EXTERN(void) fastepost_export_options_free(fastepost_export_options *opts);

/**
 * The table to export: `name` (found along the search path) or `schema.name`; double-quote a
 * part that contains a dot or a quote (`public."odd.name"`). NULL clears it (for sql: the whole
 * database; for fastepost_export_all: required). The string is copied.
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_options_set_table(fastepost_export_options *opts,
                                                                      const char *table);

/** Choose the output format. @return FASTEPOST_OK; FASTEPOST_EINVALID for an unknown value */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_options_set_format(fastepost_export_options *opts,
                                                                       fastepost_export_format format);

/**
 * Add a column to the output, in order. Without any, every column is exported in table order.
 * The name is checked against the catalog when the export runs (exact, else a unique
 * case-insensitive match).
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_options_add_column(fastepost_export_options *opts,
                                                                       const char *column);

/**
 * Add a filter `column op value`; filters are combined with AND. The value is checked against
 * the column's type when the export runs (FASTEPOST_EINVALID naming it) and quoted by libpq.
 *
 * @param value  ignored (may be NULL) for FASTEPOST_EXPORT_FILTER_IS_NULL and FASTEPOST_EXPORT_FILTER_NOT_NULL
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (bad op, missing value); FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_options_add_filter(fastepost_export_options *opts,
                                                                       const char *column,
                                                                       fastepost_export_filter_op op,
                                                                       const char *value);

/**
 * Add a filter written as text: `column op value`, e.g. `status = done`, `email ilike %@x.de`,
 * `crm_id is_null`. The column may be double-quoted; the value is the rest of the text after
 * the operator and one run of spaces, kept as is.
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID when the text is not of that shape; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status)
fastepost_export_options_add_filter_expr(fastepost_export_options *opts, const char *expr);

/**
 * Add a sort key (in order of significance).
 *
 * @param descending  nonzero for descending order
 * @return FASTEPOST_OK; FASTEPOST_EINVALID; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_options_add_order(fastepost_export_options *opts,
                                                                      const char *column,
                                                                      int descending);

/**
 * Export at most `limit` rows.
 *
 * @param limit  the most rows to export; 0 (the default) exports every row
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (NULL options)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_options_set_limit(fastepost_export_options *opts,
                                                                      uint64_t limit);

/**
 * Restrict which schemas tables may come from. Called once or more, it builds an allow-list;
 * tables elsewhere are FASTEPOST_ENOTFOUND. Without it, any schema but the system ones
 * (pg_catalog, information_schema, pg_toast, temporary schemas) is allowed.
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_options_add_schema(fastepost_export_options *opts,
                                                                       const char *schema);

/**
 * Progress callback (rows and bytes written so far), or NULL for none (the default).
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (NULL options)
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_options_set_progress(fastepost_export_options *opts,
                                                                         fastepost_progress_cb cb,
                                                                         void *payload);

/**
 * The pg_dump the sql format runs, instead of searching for it (the CLI passes
 * `FASTEPOST_PG_DUMP`). The only candidate: when it does not run or is older than the server,
 * the export fails rather than fall back to another.
 *
 * @param path  an executable; NULL or "" goes back to searching. Copied.
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (opts is NULL); FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_options_set_tool_path(fastepost_export_options *opts,
                                                                         const char *path);

/**
 * Where the sql format searches for pg_dump: directories separated by ':' (a `PATH` value; the
 * CLI and the bindings pass `PATH`). Default (NULL or ""):
 * `/usr/lib/postgresql/<server major>/bin:/usr/local/bin:/usr/bin:/bin`; after these every
 * `/usr/lib/postgresql/N/bin` is tried, highest N first. The first pg_dump at least as new as
 * the server wins.
 *
 * @param search_path  the directories; copied
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (opts is NULL); FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_options_set_search_path(fastepost_export_options *opts,
                                                                           const char *search_path);

/**
 * Parse a format name: `csv`, `json`, `ndjson`, `sql`.
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for anything else
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_format_parse(fastepost_export_format *out,
                                                                 const char *name);

/** The name of a format (`"csv"` ...), or `""` for an unknown value. A static string. */
FASTEPOST_EXTERN(const char *) fastepost_export_format_name(fastepost_export_format format);

/**
 * Parse an operator name: `=`, `!=` or `<>`, `<`, `<=`, `>`, `>=`, `like`, `ilike`, `is_null`,
 * `not_null` (words case-insensitive).
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for anything else
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_filter_op_parse(fastepost_export_filter_op *out,
                                                                    const char *name);

/** The name of an operator (`"="`, `"!="`, `"like"`, `"is_null"` ...), or `""` for an unknown
 * value. A static string. */
FASTEPOST_EXTERN(const char *) fastepost_export_filter_op_name(fastepost_export_filter_op op);

/**
 * Run an export, streaming the output to `write_cb`.
 *
 * Argument order (docs/api.md rule 3): the out-parameter, the connection, the sink (`write_cb,
 * payload`: an essential input, like fastepost_import_csv_cb()'s reader), the options last. The
 * progress callback, which is optional, lives on the options.
 *
 * @param rows      if not NULL, receives the number of rows written (0 for the sql format,
 *                  whose output is not counted in rows); set also on failure (rows so far)
 * @param conn      an open connection
 * @param write_cb  receives the output
 * @param payload   passed to write_cb
 * @param opts      what to export (not changed); required: it names the table
 * @return FASTEPOST_OK; FASTEPOST_ENOTFOUND (unknown or disallowed table, unknown column);
 *         FASTEPOST_EINVALID (no table for csv/json/ndjson, a filter value that does not fit
 *         its column, filters or columns with sql); FASTEPOST_ECANCELED (a callback stopped it);
 *         FASTEPOST_EEXTERNAL (pg_dump failed), FASTEPOST_ENOTFOUND (no pg_dump: see
 *         fastepost_export_options_set_search_path()), FASTEPOST_EVERSION (only older than the server);
 *         FASTEPOST_EDB, FASTEPOST_ECONN
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_run(uint64_t *rows, fastepost_conn *conn,
                                                        fastepost_export_write_cb write_cb,
                                                        void *payload,
                                                        const fastepost_export_options *opts);

/**
 * Run an export into a file (mode 0600: exports hold personal data), all or nothing.
 *
 * The options are checked and the table, columns and filters resolved before any file is
 * touched; the output then goes to a temporary file in the same directory, which is synced and
 * renamed over `path` only when the export succeeded. On any failure (a mistyped table, a bad
 * filter, the database, a full disk) an existing file at `path` is left exactly as it was and
 * no temporary file remains.
 *
 * The file is written with fastepost_file_write()'s machinery (temporary file, fsync, rename,
 * fsync of the directory).
 *
 * @param rows  if not NULL, receives the rows written (as fastepost_export_run())
 * @param conn  an open connection
 * @param path  the file to create or replace
 * @param opts  what to export
 * @return as fastepost_export_run(); FASTEPOST_EFULL when the disk or quota is full;
 *         FASTEPOST_EIO when the file cannot be written otherwise
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_to_file(uint64_t *rows, fastepost_conn *conn,
                                                            const char *path,
                                                            const fastepost_export_options *opts);

/**
 * Run an export into an open file descriptor (not closed).
 *
 * @param rows  if not NULL, receives the rows written (as fastepost_export_run())
 * @return as fastepost_export_run(); FASTEPOST_EINVALID (negative fd); FASTEPOST_EFULL (disk
 *         full), FASTEPOST_EIO when writing fails
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_to_fd(uint64_t *rows, fastepost_conn *conn,
                                                          int fd,
                                                          const fastepost_export_options *opts);

/**
 * Export every table of the allowed schemas (ordinary and partitioned tables; partitions are
 * part of their parent) into `dir`, one file per table, in the csv, json or ndjson format of
 * `opts`: `<table>.<ext>` for tables in `public`, `<schema>.<table>.<ext>` otherwise, with
 * characters outside `[A-Za-z0-9_-]` and non-ASCII written as `%XX`. The directory is created
 * (mode 0700) when missing. The table, columns, filters, order and limit of `opts` must be unset.
 *
 * @param tables  if not NULL, receives the number of files written (also on failure: those
 *                written before it)
 * @param conn    an open connection
 * @param dir     the directory
 * @param opts    the format, schemas and progress callback
 * @return FASTEPOST_OK; FASTEPOST_EINVALID; FASTEPOST_EIO; as fastepost_export_run()
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_all(size_t *tables, fastepost_conn *conn,
                                                        const char *dir,
                                                        const fastepost_export_options *opts);

FASTEPOST_END_DECLS

#endif
