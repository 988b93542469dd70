/* SPDX-License-Identifier: MIT */
/* Internals shared by the import files: import.c (the driver and entry points),
 * import/report.c (options, report, error list), import/read.c (CSV parsing with line tracking,
 * header and row validation) and import/load.c (staging COPY, INSERT ... SELECT, diagnosis of
 * refused rows, sequences). */
#ifndef FASTEPOST_IMPORT_IMPORTER_H
#define FASTEPOST_IMPORT_IMPORTER_H

#include <stdbool.h>

#include "catalog.h"
#include "import_priv.h"
#include "internal.h"

enum {
  READ_CHUNK = 64 * 1024,
  COPY_FLUSH = 256 * 1024,
  DIAG_CHUNK = 1000 /* rows per statement when looking for the rows the database refuses */
};

#define STAGE "pg_temp.fastepost_import_stage"

struct fastepost_import_options {
  int dry_run;
  fastepost_import_conflict on_conflict;
  char *key;              /* NULL: primary key (update) or any unique constraint (skip) */
  size_t max_errors;      /* 0: FASTEPOST_IMPORT_DEFAULT_MAX_ERRORS */
  char **schemas;         /* NULL-terminated allow-list, or NULL for any */
  size_t nschemas;
  fastepost_progress_cb progress;
  void *progress_payload;
  size_t max_field;       /* 0: FASTEPOST_IMPORT_DEFAULT_MAX_FIELD */
};

struct fastepost_import_report {
  uint64_t rows_read, inserted, updated, skipped, written, bytes, error_total;
  int dry_run;
  int complete;
  fastepost_import_error *errors;
  size_t nerrors, max_errors;
};

typedef struct importer {
  fastepost_conn *conn;
  PGconn *pg;
  fastepost__table *t;
  const fastepost_import_options *o;
  fastepost_import_report *rep;
  int status;           /* code of the first error, FASTEPOST_OK while there is none */
  bool fatal;           /* stop reading: the rest of the file cannot be trusted */

  /* position */
  uint64_t line;        /* physical line of the next byte fed (1-based) */
  uint64_t record_line; /* line where the current record started; 0 between records */
  uint64_t offset;      /* file offset of the next byte fed */
  bool prev_cr;

  /* current record */
  fastepost__buf row;   /* the record's field values, back to back */
  size_t *fstart, *flen;
  bool *fnull;
  size_t nfields, fcap;

  size_t max_field;     /* the largest field accepted, in bytes */

  /* header */
  bool header_done;
  int *map;             /* file field -> table column */
  size_t nmap;

  /* COPY into the staging table */
  bool copying;
  fastepost__buf out;
  fastepost__buf norm; /* scratch for a value's normal form (reused: no malloc per row) */
  uint64_t staged;
} importer;

/* Record a rejected value or row (listed up to max_errors, always counted); the first one's
 * code becomes im->status. FASTEPOST_OK, or ENOMEM. */
int fastepost__import_add_error(importer *im, int code, uint64_t line, const char *column,
                                const char *value, size_t vlen, const char *fmt, ...)
    FASTEPOST__PRINTF(7, 8);
/* The default options (what fastepost_import_options_new() gives). */
const fastepost_import_options *fastepost__import_defaults(void);
/* A new, empty report for the options (NULL: defaults); NULL when out of memory. */
fastepost_import_report *fastepost__import_new_report(const fastepost_import_options *o);

/* read.c: parse, validate and stage the whole input (stops early on a fatal error). */
int fastepost__import_read_and_stage(importer *im, fastepost_import_read_cb read_cb, void *payload);

/* load.c */
int fastepost__import_start_copy(importer *im);
int fastepost__import_flush_copy(importer *im);
int fastepost__import_end_copy(importer *im, bool ok);
int fastepost__import_check_conflict_key(importer *im);
void fastepost__import_check_key_in_header(importer *im);
int fastepost__import_insert_rows(importer *im);
int fastepost__import_advance_sequences(importer *im);

#endif
