/* SPDX-License-Identifier: MIT */
/* Internals of import.c for the fuzz target and unit tests. */
#ifndef FASTEPOST_IMPORT_PRIV_H
#define FASTEPOST_IMPORT_PRIV_H

#include <stddef.h>

#include "catalog.h"
#include "fastepost/import.h"

/* An in-memory read source (a fastepost_import_read_cb for fastepost_import_csv_cb) handing out at most `step` bytes
 * per read, so that reads split UTF-8 characters, CRLF pairs and quoted values anywhere. */
typedef struct fastepost__mem_reader {
  const char *data;
  size_t len, pos, step;
} fastepost__mem_reader;

long long fastepost__mem_read(char *buf, size_t size, void *payload);

/*
 * Run the CSV parser, the line tracking and the row validator over [data, data+len) for table t
 * (borrowed; no database is touched: nothing is staged or inserted). read_step > 0 hands the
 * input over in reads of at most that many bytes (to exercise chunk boundaries). Returns
 * FASTEPOST_OK when every row is valid, else the first error's code; *report lists the errors
 * (free with fastepost_import_report_free()).
 */
int fastepost__import_check(fastepost_import_report **report, const fastepost__table *t,
                            const char *data, size_t len, size_t read_step);

#endif
