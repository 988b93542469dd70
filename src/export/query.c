/* SPDX-License-Identifier: MIT */
/* Export, the SQL side: the COPY statement built from the options. Table and column names come
 * from the catalog (already quoted), filter values are checked against their column's type and
 * quoted by libpq: nothing from the options is pasted into SQL. */
#include <string.h>

#include "export/export_priv.h"
#include "validate.h"

/* ---- SQL ------------------------------------------------------------------------------------ */

static const char *op_sql(fastepost_export_filter_op op) {
  switch (op) {
  case FASTEPOST_EXPORT_FILTER_EQ: return " = ";
  case FASTEPOST_EXPORT_FILTER_NE: return " <> ";
  case FASTEPOST_EXPORT_FILTER_LT: return " < ";
  case FASTEPOST_EXPORT_FILTER_LE: return " <= ";
  case FASTEPOST_EXPORT_FILTER_GT: return " > ";
  case FASTEPOST_EXPORT_FILTER_GE: return " >= ";
  case FASTEPOST_EXPORT_FILTER_LIKE: return "::text LIKE ";
  case FASTEPOST_EXPORT_FILTER_ILIKE: return "::text ILIKE ";
  case FASTEPOST_EXPORT_FILTER_IS_NULL: return " IS NULL";
  case FASTEPOST_EXPORT_FILTER_NOT_NULL: return " IS NOT NULL";
  }
  return " = ";
}

static int find_column(const fastepost__table *t, const char *name, const char *what) {
  int i = fastepost__table_column(t, name, strlen(name));
  if (i < 0) {
    char preview[64];
    fastepost__preview(preview, sizeof preview, name, strlen(name));
    fastepost__error_set(FASTEPOST_ENOTFOUND, "%s column \"%s\" not found in table %s.%s", what,
                         preview, t->schema, t->name);
  }
  return i;
}

/* " WHERE ... ORDER BY ... LIMIT n" from the options, names checked, values quoted by libpq. */
static int build_tail(fastepost__buf *sql, PGconn *pg, const fastepost__table *t,
                      const fastepost_export_options *o) {
  for (size_t i = 0; i < o->nfilters; i++) {
    const filter *f = &o->filters[i];
    int c = find_column(t, f->column, "filter");
    if (c < 0)
      return FASTEPOST_ENOTFOUND;
    const fastepost__column *col = &t->cols[c];
    if (f->value && f->op != FASTEPOST_EXPORT_FILTER_LIKE && f->op != FASTEPOST_EXPORT_FILTER_ILIKE) {
      size_t len = strlen(f->value), bad;
      const char *why = fastepost__utf8_valid(f->value, len, &bad) ? fastepost__value_check(col, f->value, len)
                                                                    : "not valid UTF-8";
      if (why) {
        char preview[64];
        fastepost__preview(preview, sizeof preview, f->value, len);
        return fastepost__error_set(FASTEPOST_EINVALID, "filter on %s (%s): '%s' is %s", col->name,
                                    col->type, preview, why);
      }
    }
    fastepost__buf_puts(sql, i ? " AND " : " WHERE ");
    fastepost__buf_puts(sql, col->quoted);
    fastepost__buf_puts(sql, op_sql(f->op));
    if (f->value) {
      int rc = fastepost__buf_put_literal(sql, pg, f->value, strlen(f->value));
      if (rc)
        return rc;
    }
  }
  for (size_t i = 0; i < o->norders; i++) {
    int c = find_column(t, o->orders[i].column, "order");
    if (c < 0)
      return FASTEPOST_ENOTFOUND;
    fastepost__buf_puts(sql, i ? ", " : " ORDER BY ");
    fastepost__buf_puts(sql, t->cols[c].quoted);
    if (o->orders[i].descending)
      fastepost__buf_puts(sql, " DESC");
  }
  if (o->limit > 0)
    fastepost__buf_printf(sql, " LIMIT %llu", (unsigned long long)o->limit);
  return sql->oom ? FASTEPOST_ENOMEM : FASTEPOST_OK;
}

static int build_columns(fastepost__buf *sql, const fastepost__table *t,
                         const fastepost_export_options *o) {
  if (o->ncolumns == 0) {
    for (size_t i = 0; i < t->ncols; i++) {
      fastepost__buf_puts(sql, i ? ", " : "");
      fastepost__buf_puts(sql, t->cols[i].quoted);
    }
    return FASTEPOST_OK;
  }
  for (size_t i = 0; i < o->ncolumns; i++) {
    int c = find_column(t, o->columns[i], "export");
    if (c < 0)
      return FASTEPOST_ENOTFOUND;
    fastepost__buf_puts(sql, i ? ", " : "");
    fastepost__buf_puts(sql, t->cols[c].quoted);
  }
  return FASTEPOST_OK;
}

/* "SELECT cols FROM table WHERE ... ORDER BY ... LIMIT n". */
static int build_select(fastepost__buf *sql, PGconn *pg, const fastepost__table *t,
                        const fastepost_export_options *o) {
  fastepost__buf_puts(sql, "SELECT ");
  int rc = build_columns(sql, t, o);
  fastepost__buf_printf(sql, " FROM %s", t->quoted);
  return rc ? rc : build_tail(sql, pg, t, o);
}

int fastepost__export_build_copy(fastepost__buf *sql, PGconn *pg, const fastepost__table *t,
                      const fastepost_export_options *o) {
  bool plain = o->nfilters == 0 && o->norders == 0 && o->limit == 0;
  int rc;
  if (o->format == FASTEPOST_EXPORT_FORMAT_CSV) {
    if (plain && t->relkind == 'r') {
      /* The table form, as psql's \copy uses: the server skips the executor. */
      fastepost__buf_printf(sql, "COPY %s (", t->quoted);
      rc = build_columns(sql, t, o);
      fastepost__buf_puts(sql, ") TO STDOUT (FORMAT csv, HEADER)");
      return rc;
    }
    fastepost__buf_puts(sql, "COPY (");
    if ((rc = build_select(sql, pg, t, o)))
      return rc;
    fastepost__buf_puts(sql, ") TO STDOUT (FORMAT csv, HEADER)");
    return FASTEPOST_OK;
  }
  /* JSON: row_to_json, sent in binary COPY, where a json value is its text unescaped. The
   * whole-row reference fastepost_row.* cannot be taken for a column of the same name. */
  fastepost__buf_puts(sql, "COPY (SELECT row_to_json(fastepost_row.*) FROM ");
  if (o->ncolumns == 0) {
    fastepost__buf_printf(sql, "%s fastepost_row", t->quoted);
    if ((rc = build_tail(sql, pg, t, o)))
      return rc;
  } else {
    fastepost__buf_putc(sql, '(');
    if ((rc = build_select(sql, pg, t, o)))
      return rc;
    fastepost__buf_puts(sql, ") fastepost_row");
  }
  fastepost__buf_puts(sql, ") TO STDOUT (FORMAT binary)");
  return sql->oom ? FASTEPOST_ENOMEM : FASTEPOST_OK;
}

