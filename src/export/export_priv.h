/* SPDX-License-Identifier: MIT */
/* Internals shared by the export files: export.c (options, pg_dump, entry points),
 * export/query.c (the COPY statement from the options, names checked against the catalog) and
 * export/write.c (buffered output, COPY OUT, JSON framing). */
#ifndef FASTEPOST_EXPORT_PRIV_H
#define FASTEPOST_EXPORT_PRIV_H

#include "catalog.h"
#include "internal.h"

typedef struct filter {
  char *column;
  fastepost_export_filter_op op;
  char *value;
} filter;

typedef struct order_key {
  char *column;
  int descending;
} order_key;

struct fastepost_export_options {
  char *table;
  fastepost_export_format format;
  char **columns;
  size_t ncolumns;
  filter *filters;
  size_t nfilters;
  order_key *orders;
  size_t norders;
  uint64_t limit; /* 0: every row */
  char **schemas; /* NULL-terminated allow-list, or NULL for any */
  size_t nschemas;
  fastepost_progress_cb progress;
  void *progress_payload;
  /* The environment pg_dump (the sql format) inherits, copied when the options were made: never
   * environ during the export, which may run without the host's GIL/GVL while another thread
   * calls setenv(). Nothing is looked up in it: pg_dump is pg_dump_path, else searched for in
   * search_path (NULL: the default directories, pgtool.h). */
  char **env;
  char *pg_dump_path;
  char *search_path;
};

/* Output is handed to the write callback in pieces of up to FASTEPOST__EXPORT_OUT_CAP bytes: CSV rows are copied
 * once from libpq's buffer into this one (the only copy per row), so the callback is called per
 * 64 KiB and not per row. */
enum { FASTEPOST__EXPORT_OUT_CAP = 64 * 1024 };

typedef struct fastepost__export_writer {
  fastepost_export_write_cb cb;
  void *payload;
  const fastepost_export_options *opts;
  char *buf;
  size_t len;
  uint64_t bytes, rows;
} fastepost__export_writer;

/* Append to the output (flushing to the callback when the buffer is full). */
int fastepost__export_put(fastepost__export_writer *w, const char *data, size_t len);
/* Hand what is buffered to the callback, then report progress. */
int fastepost__export_flush(fastepost__export_writer *w);
/* Call the progress callback; ECANCELED when it asks to stop. */
int fastepost__export_progress(fastepost__export_writer *w);
/* Run the COPY ... TO STDOUT statement `sql` and write its rows in the options' format. */
int fastepost__export_copy_out(fastepost__export_writer *w, fastepost_conn *conn, PGconn *pg,
                               const char *sql);
/* The COPY statement for table t from the options: columns, filters (values checked against
 * their columns' types, quoted by libpq), order and limit. */
int fastepost__export_build_copy(fastepost__buf *sql, PGconn *pg, const fastepost__table *t,
                                 const fastepost_export_options *o);

#endif
