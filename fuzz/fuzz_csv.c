/* SPDX-License-Identifier: MIT */
/* The CSV import's parser, line tracking and row validator, without a database, against a table
 * with one column of each validated type. The first byte picks the read size (chunk
 * boundaries inside quoted fields and UTF-8 sequences), the rest is the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import_priv.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define COL(n, oid, typmod, nn) \
  { .name = (char *)(uintptr_t)(n), .type = (char *)(uintptr_t)(n), .base_oid = (oid), .base_typmod = (typmod), .not_null = (nn) }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static fastepost__column cols[] = {
      COL("id", FASTEPOST__INT8OID, -1, true),
      COL("email", FASTEPOST__VARCHAROID, 24, false),
      COL("name", FASTEPOST__TEXTOID, -1, false),
      COL("n2", FASTEPOST__INT2OID, -1, false),
      COL("n4", FASTEPOST__INT4OID, -1, false),
      COL("amount", FASTEPOST__NUMERICOID, -1, false),
      COL("f", FASTEPOST__FLOAT8OID, -1, false),
      COL("active", FASTEPOST__BOOLOID, -1, false),
      COL("born", FASTEPOST__DATEOID, -1, false),
      COL("at", FASTEPOST__TIMESTAMPTZOID, -1, false),
      COL("ts", FASTEPOST__TIMESTAMPOID, -1, false),
      COL("uid", FASTEPOST__UUIDOID, -1, false),
      COL("doc", FASTEPOST__JSONBOID, -1, false),
      COL("code", FASTEPOST__BPCHAROID, 7, false),
  };
  static fastepost__table table = {.relkind = 'r', .schema = (char *)(uintptr_t)"public",
                                   .name = (char *)(uintptr_t)"customers", .cols = cols,
                                   .ncols = sizeof cols / sizeof cols[0]};
  size_t step = size ? (size_t)data[0] + 1 : 0;
  fastepost_import_report *rep = NULL;
  int rc = fastepost__import_check(&rep, &table, size ? (const char *)data + 1 : "",
                                   size ? size - 1 : 0, step);
  if (rep) {
    uint64_t total = fastepost_import_report_error_total(rep);
    if ((rc == FASTEPOST_OK) != (total == 0) && rc != FASTEPOST_ENOMEM)
      abort();
    for (size_t i = 0; i < fastepost_import_report_error_count(rep); i++) {
      const fastepost_import_error *e = fastepost_import_report_error(rep, i);
      if (!e || !e->reason || !e->value || !e->column)
        abort();
    }
  }
  fastepost_import_report_free(rep);
  return 0;
}
