/* SPDX-License-Identifier: MIT */
/**
 * @file fastepost/schema.h
 * @brief The Fast Epost tables: install, upgrade and inspect.
 *
 * The schema follows Rails conventions (bigint ids, `timestamp(6)` UTC `created_at` and
 * `updated_at`) so that the Rails app and the library share the same tables. It is installed
 * and upgraded by numbered migrations, recorded in `fastepost_schema_migrations`. On a
 * database that already has some of the tables, installation only adds what is missing: it
 * never drops or rewrites user columns or data. See docs/schema.md.
 */
#ifndef FASTEPOST_SCHEMA_H
#define FASTEPOST_SCHEMA_H

#include "common.h"
#include "conn.h"

FASTEPOST_BEGIN_DECLS

/**
 * Install or upgrade the schema: apply, in order and in one transaction, every migration not
 * yet recorded. Running it on an up-to-date database changes nothing.
 *
 * @param applied  if not NULL, receives how many migrations were applied (0 when up to date)
 * @param conn     an open connection
 * @return FASTEPOST_OK; FASTEPOST_ECONFLICT when an existing table has a column of an
 *         incompatible type (the message names table and column; nothing is changed);
 *         FASTEPOST_EVERSION when the database was migrated by a newer library;
 *         FASTEPOST_EDB, FASTEPOST_ECONN
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_schema_install(size_t *applied, fastepost_conn *conn);

/**
 * The schema version of the database and the newest this library knows.
 *
 * Migration versions are numbers (1, 2 ...), not counts: they stay `int`.
 *
 * @param current  receives the highest migration recorded in the database (0 if none)
 * @param latest   if not NULL, receives the highest migration this library has
 * @param conn     an open connection
 * @return FASTEPOST_OK; FASTEPOST_EDB, FASTEPOST_ECONN
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_schema_version(int *current, int *latest,
                                                            fastepost_conn *conn);

/**
 * The SQL of every migration, in order, as one script (what docs/schema.sql holds).
 *
 * @param out  receives a new string; release it with fastepost_free()
 * @return FASTEPOST_OK; FASTEPOST_ENOMEM
 */
FASTEPOST_EXTERN(fastepost_status) fastepost_schema_sql(char **out);

FASTEPOST_END_DECLS

#endif
