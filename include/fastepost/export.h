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

/** Output formats. */
typedef enum fastepost_export_format {
  FASTEPOST_FORMAT_CSV = 0, /**< CSV with a header, as COPY writes it */
  FASTEPOST_FORMAT_JSON = 1, /**< one JSON array of row objects */
  FASTEPOST_FORMAT_NDJSON = 2, /**< one JSON object per line */
  FASTEPOST_FORMAT_SQL = 3 /**< a pg_dump plain SQL script */
} fastepost_export_format;

/** Filter operators: `column op value`. */
typedef enum fastepost_filter_op {
  FASTEPOST_OP_EQ = 0,   /**< `=` */
  FASTEPOST_OP_NE = 1,   /**< `!=` (also accepted as `<>`) */
  FASTEPOST_OP_LT = 2,   /**< `<` */
  FASTEPOST_OP_LE = 3,   /**< `<=` */
  FASTEPOST_OP_GT = 4,   /**< `>` */
  FASTEPOST_OP_GE = 5,   /**< `>=` */
  FASTEPOST_OP_LIKE = 6, /**< `like`: SQL pattern on the value as text (`%`, `_`) */
  FASTEPOST_OP_ILIKE = 7, /**< `ilike`: case-insensitive `like` */
  FASTEPOST_OP_IS_NULL = 8, /**< `is_null` (no value) */
  FASTEPOST_OP_NOT_NULL = 9 /**< `not_null` (no value) */
} fastepost_filter_op;

/** What to export and how. Opaque; build it with the setters below. */
typedef struct fastepost_export_options fastepost_export_options;

/**
 * Receives the output in pieces of any size; a piece may end anywhere, even inside a row.
 *
 * @return 0 to continue; nonzero stops the export, which fails with FASTEPOST_ECANCELED (or
 *         with the negative fastepost_status the callback returned)
 */
typedef int (*fastepost_write_cb)(const char *data, size_t len, void *payload);

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
 * @param value  ignored (may be NULL) for FASTEPOST_OP_IS_NULL and FASTEPOST_OP_NOT_NULL
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (bad op, missing value); FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_options_add_filter(fastepost_export_options *opts,
                                                                       const char *column,
                                                                       fastepost_filter_op op,
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

/** Export at most `limit` rows; a negative value means no limit (the default). */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_options_set_limit(fastepost_export_options *opts,
                                                                      long long limit);

/**
 * Restrict which schemas tables may come from. Called once or more, it builds an allow-list;
 * tables elsewhere are FASTEPOST_ENOTFOUND. Without it, any schema but the system ones
 * (pg_catalog, information_schema, pg_toast, temporary schemas) is allowed.
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_options_allow_schema(fastepost_export_options *opts,
                                                                         const char *schema);

/** Progress callback (rows and bytes written so far), or NULL for none. */
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

/**
 * Parse an operator name: `=`, `!=` or `<>`, `<`, `<=`, `>`, `>=`, `like`, `ilike`, `is_null`,
 * `not_null` (words case-insensitive).
 *
 * @return FASTEPOST_OK; FASTEPOST_EINVALID for anything else
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_filter_op_parse(fastepost_filter_op *out,
                                                             const char *name);

/**
 * Run an export, streaming the output to `write_cb`.
 *
 * @param conn      an open connection
 * @param opts      what to export (not changed)
 * @param write_cb  receives the output
 * @param payload   passed to write_cb
 * @return FASTEPOST_OK; FASTEPOST_ENOTFOUND (unknown or disallowed table, unknown column);
 *         FASTEPOST_EINVALID (no table for csv/json/ndjson, a filter value that does not fit
 *         its column, filters or columns with sql); FASTEPOST_ECANCELED (a callback stopped it);
 *         FASTEPOST_EEXTERNAL (pg_dump failed), FASTEPOST_ENOTFOUND (no pg_dump: see
 *         fastepost_export_options_set_search_path()), FASTEPOST_EVERSION (only older than the server);
 *         FASTEPOST_EDB, FASTEPOST_ECONN
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_run(fastepost_conn *conn,
                                                        const fastepost_export_options *opts,
                                                        fastepost_write_cb write_cb, void *payload);

/**
 * Run an export into a file (mode 0600: exports hold personal data), all or nothing.
 *
 * The options are checked and the table, columns and filters resolved before any file is
 * touched; the output then goes to a temporary file in the same directory, which is synced and
 * renamed over `path` only when the export succeeded. On any failure (a mistyped table, a bad
 * filter, the database, a full disk) an existing file at `path` is left exactly as it was and
 * no temporary file remains.
 *
 * @return as fastepost_export_run(); FASTEPOST_EFULL when the disk or quota is full;
 *         FASTEPOST_EIO when the file cannot be written otherwise
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_to_file(fastepost_conn *conn,
                                                            const fastepost_export_options *opts,
                                                            const char *path);

/**
 * Run an export into an open file descriptor (not closed).
 *
 * @return as fastepost_export_run(); FASTEPOST_EFULL (disk full), FASTEPOST_EIO when writing
 *         fails
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_to_fd(fastepost_conn *conn,
                                                          const fastepost_export_options *opts,
                                                          int fd);

/**
 * Export every table of the allowed schemas (ordinary and partitioned tables; partitions are
 * part of their parent) into `dir`, one file per table, in the csv, json or ndjson format of
 * `opts`: `<table>.<ext>` for tables in `public`, `<schema>.<table>.<ext>` otherwise, with
 * characters outside `[A-Za-z0-9_-]` and non-ASCII written as `%XX`. The directory is created
 * (mode 0700) when missing. The table, columns, filters, order and limit of `opts` must be unset.
 *
 * @param tables  if not NULL, receives the number of files written
 * @return FASTEPOST_OK; FASTEPOST_EINVALID; FASTEPOST_EIO; as fastepost_export_run()
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_export_all(size_t *tables, fastepost_conn *conn,
                                                        const fastepost_export_options *opts,
                                                        const char *dir);

/**
 * Write a whole file, all or nothing: `data` goes to a temporary file (mode 0600) in the same
 * directory, synced and renamed over `path`; on failure an existing file at `path` is left as it
 * was. The CLI writes every output file (`--output`) this way.
 *
 * @param path  the file to create or replace
 * @param data  the contents (borrowed); may be NULL when len is 0
 * @param len   their length in bytes
 * @return FASTEPOST_OK; FASTEPOST_EINVALID (NULL path); FASTEPOST_EFULL (disk or quota full);
 *         FASTEPOST_EIO
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_file_write(const char *path, const void *data, size_t len);

FASTEPOST_END_DECLS

#endif
