/* SPDX-License-Identifier: MIT */
/*
 * Test support: every database test gets a database of its own on the throwaway server that
 * scripts/with-postgres started (FASTEPOST_TEST_DSN), and drops it afterwards.
 *
 *   TestSuite(odoo, .init = fptest_setup_schema, .fini = fptest_teardown);
 *   Test(odoo, something) { fastepost_conn *c = fptest_conn(); ... }
 *
 * Checks use a separate plain libpq connection (fptest_scalar / fptest_exec), so that the
 * library is never asked to confirm its own work.
 */
#ifndef FASTEPOST_TESTDB_H
#define FASTEPOST_TESTDB_H

#include <criterion/criterion.h>
#include <fastepost.h>
#include <libpq-fe.h>

typedef struct fptest_db {
  char name[64];       /* the database's name */
  char conninfo[1024]; /* FASTEPOST_TEST_DSN with dbname= this database */
  PGconn *check;       /* plain libpq connection for assertions */
  fastepost_conn *conn; /* opened by fptest_conn() */
} fptest_db;

extern fptest_db fptest_current;

/* The server's DSN (key=value form); fails the test when FASTEPOST_TEST_DSN is unset. */
const char *fptest_dsn(void);
/* Criterion .init hooks: a fresh empty database, or one with the schema installed. */
void fptest_setup(void);
void fptest_setup_schema(void);
/* Criterion .fini hook: close connections and drop the database. */
void fptest_teardown(void);

/* Create / drop an extra database (for restore targets); conninfo out has room for 1024. */
void fptest_db_create(fptest_db *db, const char *prefix);
void fptest_db_drop(fptest_db *db);

/* A library connection to the current test database (opened once per test). */
fastepost_conn *fptest_conn(void);
/* Run SQL on the check connection; asserts success. */
void fptest_exec(const char *sql);
/* First column of the first row as a string ("" for NULL, "<none>" for no row); static buffer
 * valid until the next call. */
const char *fptest_scalar(const char *sql);
/* The same as a number (atoll). */
long long fptest_count(const char *sql);
/* Asserts that every CRM statistics counter (the slots summed) equals a recount of its table:
 * events per source and status, per source, hour and status; customers, CRM-linked customers,
 * pending tasks. */
void fptest_assert_counters_exact(void);
/* Path of a file under the source tree; static buffer. */
const char *fptest_source_path(const char *rel);
/* Path of a file in the public conformance suites, which stay outside the repository:
 * FASTEPOST_CONFORMANCE_DIR/rel (the directory holds csv/ ...; .ci/run sets it when the suites
 * are beside the checkout). NULL when the variable is unset or empty: the caller then reports
 * its tests skipped (cr_skip_test; the suite exits 77), never passed. Static buffer. */
const char *fptest_conformance_path(const char *rel);
/* Old name, kept until its last user moves to fptest_conformance_path(): FASTEPOST_SHARED_DIR/rel,
 * and a failed test when that is unset (it used to default to ../shared, outside the repository). */
const char *fptest_shared_path(const char *rel);
/* Read a whole file into a malloc'd buffer (NUL-terminated); *len gets its size. */
char *fptest_read_file(const char *path, size_t *len);



/* Run the fastepost CLI (FASTEPOST_CLI) through the shell with `args` appended; stdout and
 * stderr are captured into out (truncated to outsize). Returns the exit status. */
int fptest_cli(char *out, size_t outsize, const char *args);
/* fptest_cli() on the current test database: `--db '<its conninfo>'` and the printf-formatted
 * arguments (at most 6 KiB). */
int fptest_cli_db(char *out, size_t outsize, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Run a COPY ... TO STDOUT on the check connection and return everything it sent (malloc'd,
 * NUL-terminated); *len gets its size. */
char *fptest_copy_out(const char *sql, size_t *len);
/* A fresh empty directory under /tmp (mode 0700) for the current test, and its removal. */
void fptest_tmpdir(char *out, size_t outsize, const char *prefix);
void fptest_rmtree(const char *path);
/* Write a file (mode applied with chmod); asserts success. */
void fptest_write_file(const char *path, const char *data, int mode);

#endif
