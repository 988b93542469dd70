/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the CSV import suites: tests/db/transfer_import.c (the project's own
 * fixtures) and tests/conformance/csv.c (the public conformance suites, when present).
 * static inline, so that a suite that uses only some of them compiles without warnings.
 */
#ifndef FASTEPOST_TEST_TRANSFER_CSV_H
#define FASTEPOST_TEST_TRANSFER_CSV_H

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import_priv.h"
#include "testdb.h"

static inline int import_mem(fastepost_import_report **r, const char *table, const char *csv, size_t len,
                      size_t chunk, const fastepost_import_options *o) {
  fastepost__mem_reader m = {csv, len, 0, chunk ? chunk : 1 << 20};
  return fastepost_import_csv_cb(r, fptest_conn(), table, fastepost__mem_read, &m, o);
}

static inline int import_str(fastepost_import_report **r, const char *table, const char *csv,
                      const fastepost_import_options *o) {
  return import_mem(r, table, csv, strlen(csv), 0, o);
}

static inline const fastepost_import_error *err_at(const fastepost_import_report *r, size_t i) {
  const fastepost_import_error *e = fastepost_import_report_error(r, i);
  cr_assert(e, "no error #%zu (have %zu)", i, fastepost_import_report_error_count(r));
  return e;
}

/* Create table t (fastepost_id serial, <cols> text) and import `csv` with chunk size `chunk`. */
static inline int import_text_table(fastepost_import_report **r, const char *const *cols, size_t ncols,
                             const char *csv, size_t len, size_t chunk) {
  char sql[2048] = "DROP TABLE IF EXISTS t; CREATE TABLE t (fastepost_id serial";
  for (size_t i = 0; i < ncols; i++) {
    strcat(sql, ", \"");
    strcat(sql, cols[i]);
    strcat(sql, "\" text");
  }
  strcat(sql, ")");
  fptest_exec(sql);
  return import_mem(r, "t", csv, len, chunk, NULL);
}

/* Compare table t (ordered by fastepost_id) with expected rows (json arrays of strings/null). */
static inline void assert_rows(const char *name, json_object *rows, size_t ncols) {
  size_t n = json_object_array_length(rows);
  PGresult *r = PQexec(fptest_current.check, "SELECT * FROM t ORDER BY fastepost_id");
  cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK);
  cr_assert_eq((size_t)PQntuples(r), n, "%s: %d rows, expected %zu", name, PQntuples(r), n);
  cr_assert_eq((size_t)PQnfields(r), ncols + 1);
  for (size_t i = 0; i < n; i++) {
    json_object *row = json_object_array_get_idx(rows, i);
    for (size_t c = 0; c < ncols; c++) {
      json_object *v = json_object_array_get_idx(row, c);
      bool want_null = !v || json_object_is_type(v, json_type_null);
      bool is_null = PQgetisnull(r, (int)i, (int)c + 1);
      cr_assert_eq(is_null, want_null, "%s: row %zu column %zu: NULL is %d, expected %d", name, i + 1,
                   c + 1, is_null, want_null);
      if (!want_null)
        cr_assert_str_eq(PQgetvalue(r, (int)i, (int)c + 1), json_object_get_string(v),
                         "%s: row %zu column %zu", name, i + 1, c + 1);
    }
  }
  PQclear(r);
}

/* Export t's data columns back to CSV, import that into t2 and check the tables are equal. */
static inline void assert_round_trip(const char *name) {
  fastepost_export_options *o = NULL;
  cr_assert_eq(fastepost_export_options_new(&o), FASTEPOST_OK);
  fastepost_export_options_set_table(o, "t");
  /* Per process: the locale suite runs this file's tests in parallel with the plain run. */
  char path[64];
  snprintf(path, sizeof path, "/tmp/fptest_roundtrip.%ld.csv", (long)getpid());
  PGresult *r = PQexec(fptest_current.check, "SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass "
                                            "AND attnum > 1 AND NOT attisdropped ORDER BY attnum");
  for (int i = 0; i < PQntuples(r); i++)
    fastepost_export_options_add_column(o, PQgetvalue(r, i, 0));
  PQclear(r);
  cr_assert_eq(fastepost_export_to_file(NULL, fptest_conn(), path, o), FASTEPOST_OK, "%s: %s", name,
               fastepost_error_last()->message);
  fastepost_export_options_free(o);
  fptest_exec("DROP TABLE IF EXISTS t2; CREATE TABLE t2 (LIKE t INCLUDING ALL)");
  fptest_exec("ALTER TABLE t2 ALTER fastepost_id SET DEFAULT nextval(pg_get_serial_sequence('t', 'fastepost_id'))");
  fptest_exec("SELECT setval(pg_get_serial_sequence('t', 'fastepost_id'), 1, false)");
  fastepost_import_report *rep = NULL;
  cr_assert_eq(fastepost_import_csv(&rep, fptest_conn(), "t2", path, NULL), FASTEPOST_OK, "%s: %s",
               name, fastepost_error_last()->message);
  fastepost_import_report_free(rep);
  cr_assert_eq(fptest_count("SELECT count(*) FROM (SELECT * FROM t EXCEPT ALL SELECT * FROM t2) d"), 0,
               "%s: export -> import changed values", name);
  cr_assert_eq(fptest_count("SELECT count(*) FROM (SELECT * FROM t2 EXCEPT ALL SELECT * FROM t) d"), 0);
  /* NULL vs '' survives: EXCEPT treats NULLs as equal, so check the NULL count too. */
  cr_assert_str_eq(fptest_scalar("SELECT (SELECT string_agg(num_nulls(t.*)::text, ',' ORDER BY fastepost_id) FROM t)"
                                 " IS NOT DISTINCT FROM (SELECT string_agg(num_nulls(t2.*)::text, ',' ORDER BY fastepost_id) FROM t2)"),
                   "t");
  remove(path);
}

#endif
