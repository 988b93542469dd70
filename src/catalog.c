/* SPDX-License-Identifier: MIT */
/* Catalog lookups: table resolution, columns and types, identifier quoting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog.h"

/* One part of a table spec: a double-quoted identifier or a run of characters up to '.'. */
static int parse_part(fastepost__buf *out, bool *quoted, const char **p) {
  const char *s = *p;
  *quoted = false;
  if (*s == '"') {
    *quoted = true;
    s++;
    for (;;) {
      if (!*s)
        return FASTEPOST_ENOTFOUND; /* unterminated quoted identifier */
      if (*s == '"') {
        if (s[1] != '"')
          break;
        s++;
      }
      if (fastepost__buf_putc(out, *s++))
        return FASTEPOST_ENOMEM;
    }
    s++;
  } else {
    const char *start = s;
    while (*s && *s != '.')
      s++;
    if (fastepost__buf_append(out, start, (size_t)(s - start)))
      return FASTEPOST_ENOMEM;
  }
  *p = s;
  return out->len ? FASTEPOST_OK : FASTEPOST_ENOTFOUND;
}

/* A PostgreSQL text[] literal of the schema allow-list, or NULL for "any". */
static int schemas_literal(fastepost__buf *buf, const char *const *schemas) {
  if (!schemas)
    return FASTEPOST_OK;
  size_t n = 0;
  while (schemas[n])
    n++;
  return fastepost__buf_array_literal(buf, schemas, n);
}

#define SYSTEM_SCHEMA_FILTER                                                                       \
  " n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'" \
  " AND ($1::text[] IS NULL OR n.nspname = ANY ($1::text[])) "

static const char *const find_sql =
    "SELECT c.oid, c.relkind, n.nspname, c.relname FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND" SYSTEM_SCHEMA_FILTER
    " AND CASE WHEN $2::text IS NULL THEN pg_table_is_visible(c.oid)"
    "     WHEN $4 THEN lower(n.nspname) = lower($2) ELSE n.nspname = $2 END"
    " AND CASE WHEN $5 THEN lower(c.relname) = lower($3) ELSE c.relname = $3 END"
    " ORDER BY n.nspname, c.relname LIMIT 2";

static const char *const columns_sql =
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), format_type(a.atttypid, -1),"
    " CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END,"
    " CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END,"
    " a.attnotnull OR (t.typtype = 'd' AND t.typnotnull),"
    " a.atthasdef OR a.attidentity <> '', a.attgenerated <> '',"
    " coalesce(a.attnum = ANY (pk.conkey), false), a.attnum, pk.conname"
    " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
    " LEFT JOIN pg_constraint pk ON pk.conrelid = a.attrelid AND pk.contype = 'p'"
    " WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

static char *quote_ident(PGconn *pg, const char *name) {
  char *q = PQescapeIdentifier(pg, name, strlen(name));
  if (!q) {
    fastepost__error_oom();
    return NULL;
  }
  char *copy = fastepost__strdup(q);
  PQfreemem(q);
  return copy;
}

static int load_columns(fastepost__table *t, fastepost_conn *conn, PGconn *pg) {
  char oid[16];
  snprintf(oid, sizeof oid, "%u", t->oid);
  const char *params[1] = {oid};
  PGresult *r = NULL;
  int n, rc;
  if (!(t->cols = fastepost__query_rows(&rc, &r, &n, sizeof *t->cols, conn, columns_sql, 1, params,
                                        "reading columns")))
    return rc;
  t->ncols = (size_t)n;
  for (int i = 0; i < n; i++) {
    fastepost__column *c = &t->cols[i];
    c->name = fastepost__strdup(PQgetvalue(r, i, 0));
    c->type = fastepost__strdup(PQgetvalue(r, i, 1));
    c->cast_type = fastepost__strdup(PQgetvalue(r, i, 2));
    c->quoted = c->name ? quote_ident(pg, c->name) : NULL;
    if (!c->name || !c->type || !c->cast_type || !c->quoted) {
      PQclear(r);
      return FASTEPOST_ENOMEM;
    }
    c->base_oid = (unsigned int)strtoul(PQgetvalue(r, i, 3), NULL, 10);
    c->base_typmod = atoi(PQgetvalue(r, i, 4));
    c->not_null = PQgetvalue(r, i, 5)[0] == 't';
    c->has_default = PQgetvalue(r, i, 6)[0] == 't';
    c->generated = PQgetvalue(r, i, 7)[0] == 't';
    c->primary_key = PQgetvalue(r, i, 8)[0] == 't';
    c->attnum = atoi(PQgetvalue(r, i, 9));
    if (!PQgetisnull(r, i, 10) && !t->pk_constraint &&
        !(t->pk_constraint = quote_ident(pg, PQgetvalue(r, i, 10)))) {
      PQclear(r);
      return FASTEPOST_ENOMEM;
    }
  }
  PQclear(r);
  return FASTEPOST_OK;
}

int fastepost__table_resolve(fastepost__table **out, fastepost_conn *conn, const char *spec,
                             const char *const *schemas) {
  *out = NULL;
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;
  if (!spec || !*spec)
    return fastepost__error_set(FASTEPOST_EINVALID, "no table given");
  fastepost__buf first = FASTEPOST__BUF_INIT, second = FASTEPOST__BUF_INIT,
                allow = FASTEPOST__BUF_INIT;
  bool q1 = false, q2 = false, qualified = false;
  const char *p = spec;
  int rc = parse_part(&first, &q1, &p);
  if (!rc && *p == '.') {
    p++;
    qualified = true;
    rc = parse_part(&second, &q2, &p);
  }
  if (!rc && *p)
    rc = FASTEPOST_ENOTFOUND;
  if (!rc)
    rc = schemas_literal(&allow, schemas);
  PGresult *r = NULL;
  if (!rc) {
    const char *schema = qualified ? fastepost__buf_cstr(&first) : NULL;
    const char *name = qualified ? fastepost__buf_cstr(&second) : fastepost__buf_cstr(&first);
    bool schema_quoted = qualified && q1, name_quoted = qualified ? q2 : q1;
    /* Exact match first; then, for parts typed without quotes, a unique case-insensitive one. */
    for (int pass = 0; pass < 2 && !rc; pass++) {
      if (pass == 1 && schema_quoted && name_quoted)
        break;
      const char *params[5] = {schemas ? fastepost__buf_cstr(&allow) : NULL, schema, name,
                               pass && !schema_quoted ? "t" : "f",
                               pass && !name_quoted ? "t" : "f"};
      PQclear(r);
      r = NULL;
      rc = fastepost__query(&r, conn, find_sql, 5, params, PGRES_TUPLES_OK, "looking up a table");
      if (!rc && PQntuples(r) == 1)
        break;
      if (!rc && PQntuples(r) > 1) {
        rc = FASTEPOST_ENOTFOUND;
        break;
      }
    }
    if (!rc && PQntuples(r) != 1)
      rc = FASTEPOST_ENOTFOUND;
  }
  fastepost__buf_free(&first);
  fastepost__buf_free(&second);
  fastepost__buf_free(&allow);
  if (rc == FASTEPOST_ENOTFOUND) {
    char preview[64];
    fastepost__preview(preview, sizeof preview, spec, strlen(spec));
    PQclear(r);
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "table \"%s\" not found", preview);
  }
  if (rc) {
    PQclear(r);
    return rc;
  }
  fastepost__table *t = calloc(1, sizeof *t);
  if (!t) {
    PQclear(r);
    return fastepost__error_oom();
  }
  t->oid = (unsigned int)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
  t->relkind = PQgetvalue(r, 0, 1)[0];
  t->schema = fastepost__strdup(PQgetvalue(r, 0, 2));
  t->name = fastepost__strdup(PQgetvalue(r, 0, 3));
  PQclear(r);
  fastepost__buf q = FASTEPOST__BUF_INIT;
  if (t->schema && t->name) {
    fastepost__buf_put_ident(&q, pg, t->schema);
    fastepost__buf_putc(&q, '.');
    fastepost__buf_put_ident(&q, pg, t->name);
    t->quoted = fastepost__buf_detach(&q);
  }
  rc = t->quoted ? load_columns(t, conn, pg) : FASTEPOST_ENOMEM;
  if (rc) {
    fastepost__table_free(t);
    return rc;
  }
  *out = t;
  return FASTEPOST_OK;
}

void fastepost__table_free(fastepost__table *t) {
  if (!t)
    return;
  for (size_t i = 0; i < t->ncols; i++) {
    free(t->cols[i].name);
    free(t->cols[i].quoted);
    free(t->cols[i].type);
    free(t->cols[i].cast_type);
  }
  free(t->cols);
  free(t->schema);
  free(t->name);
  free(t->quoted);
  free(t->pk_constraint);
  free(t);
}

int fastepost__table_column(const fastepost__table *t, const char *name, size_t len) {
  for (size_t i = 0; i < t->ncols; i++)
    if (strlen(t->cols[i].name) == len && memcmp(t->cols[i].name, name, len) == 0)
      return (int)i;
  int found = -1;
  for (size_t i = 0; i < t->ncols; i++)
    /* ASCII folding: strncasecmp() follows LC_CTYPE, and under tr_TR "ID" does not match "id". */
    if (strlen(t->cols[i].name) == len && fastepost__ascii_ncasecmp(t->cols[i].name, name, len) == 0) {
      if (found >= 0)
        return -1; /* ambiguous: "Email" and "email" both exist */
      found = (int)i;
    }
  return found;
}

int fastepost__table_list(char ***out, fastepost_conn *conn, const char *const *schemas) {
  *out = NULL;
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;
  fastepost__buf allow = FASTEPOST__BUF_INIT;
  int rc = schemas_literal(&allow, schemas);
  const char *params[1] = {schemas ? fastepost__buf_cstr(&allow) : NULL};
  PGresult *r = NULL;
  if (!rc)
    rc = fastepost__query(&r, conn,
                          "SELECT n.nspname, c.relname FROM pg_class c"
                          " JOIN pg_namespace n ON n.oid = c.relnamespace"
                          " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND" SYSTEM_SCHEMA_FILTER
                          " ORDER BY n.nspname, c.relname",
                          1, params, PGRES_TUPLES_OK, "listing tables");
  fastepost__buf_free(&allow);
  if (rc)
    return rc;
  int n = PQntuples(r);
  char **v = calloc((size_t)n + 1, sizeof *v);
  if (!v) {
    PQclear(r);
    return fastepost__error_oom();
  }
  for (int i = 0; i < n; i++) {
    fastepost__buf b = FASTEPOST__BUF_INIT;
    fastepost__buf_put_ident(&b, pg, PQgetvalue(r, i, 0));
    fastepost__buf_putc(&b, '.');
    fastepost__buf_put_ident(&b, pg, PQgetvalue(r, i, 1));
    if (!(v[i] = fastepost__buf_detach(&b))) {
      PQclear(r);
      fastepost__strv_free(v);
      return FASTEPOST_ENOMEM;
    }
  }
  PQclear(r);
  *out = v;
  return FASTEPOST_OK;
}

int fastepost__table_unique_column(bool *out, fastepost_conn *conn, const fastepost__table *t,
                                   size_t col) {
  char oid[16], attnum[16];
  snprintf(oid, sizeof oid, "%u", t->oid);
  snprintf(attnum, sizeof attnum, "%d", t->cols[col].attnum);
  const char *params[2] = {oid, attnum};
  return fastepost__query_bool(out, conn,
                              "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = $1"
                              " AND i.indisunique AND i.indnkeyatts = 1 AND i.indkey[0] = $2"
                              " AND i.indpred IS NULL AND i.indexprs IS NULL)",
                              2, params, "looking up unique indexes");
}

int fastepost__buf_put_ident(fastepost__buf *buf, PGconn *pg, const char *name) {
  char *q = PQescapeIdentifier(pg, name, strlen(name));
  if (!q) {
    buf->oom = true;
    return fastepost__error_oom();
  }
  int rc = fastepost__buf_puts(buf, q);
  PQfreemem(q);
  return rc;
}

int fastepost__buf_put_literal(fastepost__buf *buf, PGconn *pg, const char *value, size_t len) {
  char *q = PQescapeLiteral(pg, value, len);
  if (!q) {
    buf->oom = true;
    return fastepost__error_set(FASTEPOST_EINVALID, "cannot quote a value: %s",
                                PQerrorMessage(pg));
  }
  int rc = fastepost__buf_puts(buf, q);
  PQfreemem(q);
  return rc;
}
