/* SPDX-License-Identifier: MIT */
/*
 * Catalog lookups shared by the data tools (export, import, later backup and stats): resolve a
 * table name the user typed to a real relation, list its columns with their types, and quote
 * identifiers only after they were found in the catalog.
 */
#ifndef FASTEPOST_CATALOG_H
#define FASTEPOST_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"
#include "util/strv.h" /* fastepost__strv_free */

/* A few pg_type OIDs (stable since PostgreSQL 7) used to pick a validator. */
enum {
  FASTEPOST__BOOLOID = 16,
  FASTEPOST__INT8OID = 20,
  FASTEPOST__INT2OID = 21,
  FASTEPOST__INT4OID = 23,
  FASTEPOST__TEXTOID = 25,
  FASTEPOST__JSONOID = 114,
  FASTEPOST__FLOAT4OID = 700,
  FASTEPOST__FLOAT8OID = 701,
  FASTEPOST__BPCHAROID = 1042,
  FASTEPOST__VARCHAROID = 1043,
  FASTEPOST__DATEOID = 1082,
  FASTEPOST__TIMESTAMPOID = 1114,
  FASTEPOST__TIMESTAMPTZOID = 1184,
  FASTEPOST__NUMERICOID = 1700,
  FASTEPOST__UUIDOID = 2950,
  FASTEPOST__JSONBOID = 3802
};

typedef struct fastepost__column {
  char *name;        /* as in the catalog */
  char *quoted;      /* PQescapeIdentifier(name) */
  char *type;        /* format_type(type, typmod): "character varying(20)", for messages */
  char *cast_type;   /* format_type(type, -1): what text is cast to; the typmod is applied on
                        store (-1, not NULL: NULL would make char mean char(1)) */
  unsigned int base_oid; /* the type, or a domain's base type: picks the validator */
  int base_typmod;   /* -1 when none */
  bool not_null;
  bool has_default;  /* a default, identity or serial: may be left out of an import */
  bool generated;    /* GENERATED ALWAYS AS (...) STORED: cannot be written */
  bool primary_key;  /* part of the primary key */
  int attnum;
} fastepost__column;

typedef struct fastepost__table {
  unsigned int oid;
  char relkind;      /* 'r' table, 'p' partitioned, 'v' view, 'm' matview, 'f' foreign */
  char *schema;
  char *name;
  char *quoted;      /* "schema"."name", quoted by libpq */
  char *pk_constraint; /* quoted name of the primary key constraint, or NULL */
  fastepost__column *cols;
  size_t ncols;
} fastepost__table;

/*
 * Resolve `spec` to a table, view or materialized view. `spec` is `name` (looked up along the
 * search path) or `schema.name`; either part may be double-quoted ("My Table", "a.b") with ""
 * for a quote. Unquoted parts must match the catalog exactly, except that a unique
 * case-insensitive match is accepted too. System schemas (pg_catalog, information_schema,
 * pg_toast, temporary schemas) are never matched; when `schemas` is not NULL (a NULL-terminated
 * list) only those schemas are. Anything else is FASTEPOST_ENOTFOUND naming the input.
 */
int fastepost__table_resolve(fastepost__table **out, fastepost_conn *conn, const char *spec,
                             const char *const *schemas);
void fastepost__table_free(fastepost__table *t);

/* Index of the column called `name` (exact, else a unique case-insensitive match), or -1. */
int fastepost__table_column(const fastepost__table *t, const char *name, size_t len);

/*
 * Every ordinary and partitioned table (not partitions) in the allowed schemas, ordered by
 * schema and name, as "schema"."name" specs that fastepost__table_resolve accepts.
 * *out is a NULL-terminated array to release with fastepost__strv_free.
 */
int fastepost__table_list(char ***out, fastepost_conn *conn, const char *const *schemas);

/* Whether column `col` alone carries a unique, non-partial index (usable by ON CONFLICT). */
int fastepost__table_unique_column(bool *out, fastepost_conn *conn, const fastepost__table *t,
                                   size_t col);

/* Append PQescapeIdentifier(name) to buf. Only for names taken from the catalog. */
int fastepost__buf_put_ident(fastepost__buf *buf, PGconn *pg, const char *name);
/* Append PQescapeLiteral(value) to buf (for statements that cannot take parameters: COPY). */
int fastepost__buf_put_literal(fastepost__buf *buf, PGconn *pg, const char *value, size_t len);

#endif
