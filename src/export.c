/* Export: table + columns + filters -> SQL checked against the catalog -> COPY TO STDOUT ->
 * format writer (csv passthrough, json/ndjson from binary COPY of row_to_json) -> callback. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "internal.h"
#include "pgtool.h"
#include "validate.h"

typedef struct filter {
  char *column;
  fastepost_filter_op op;
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
  long long limit;
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

/* ---- options -------------------------------------------------------------------------------- */

fastepost_status fastepost_export_options_new(fastepost_export_options **out) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_export_options_new: out is NULL");
  fastepost_export_options *o = calloc(1, sizeof *o);
  char **env = o ? fastepost__env_snapshot() : NULL;
  if (!o || !env) {
    free(o);
    *out = NULL;
    return fastepost__error_oom();
  }
  o->limit = -1;
  o->env = env;
  *out = o;
  return FASTEPOST_OK;
}

void fastepost_export_options_free(fastepost_export_options *o) {
  if (!o)
    return;
  free(o->table);
  for (size_t i = 0; i < o->ncolumns; i++)
    free(o->columns[i]);
  free(o->columns);
  for (size_t i = 0; i < o->nfilters; i++) {
    free(o->filters[i].column);
    free(o->filters[i].value);
  }
  free(o->filters);
  for (size_t i = 0; i < o->norders; i++)
    free(o->orders[i].column);
  free(o->orders);
  for (size_t i = 0; i < o->nschemas; i++)
    free(o->schemas[i]);
  free(o->schemas);
  fastepost__env_free(o->env);
  free(o->pg_dump_path);
  free(o->search_path);
  free(o);
}

/* Grow an array by one element; returns the new slot or NULL (ENOMEM recorded). */
static void *push(void *array_ptr, size_t *count, size_t size) {
  void **array = array_ptr;
  void *grown = realloc(*array, (*count + 2) * size);
  if (!grown) {
    fastepost__error_oom();
    return NULL;
  }
  *array = grown;
  char *slot = (char *)grown + *count * size;
  memset(slot, 0, 2 * size); /* the slot and a NULL terminator after it */
  (*count)++;
  return slot;
}

static int need(const void *p, const char *what) {
  return p ? FASTEPOST_OK : fastepost__error_set(FASTEPOST_EINVALID, "%s is NULL", what);
}

fastepost_status fastepost_export_options_set_tool_path(fastepost_export_options *o,
                                                        const char *path) {
  return need(o, "options") ? FASTEPOST_EINVALID : fastepost__str_replace(&o->pg_dump_path, path);
}

fastepost_status fastepost_export_options_set_search_path(fastepost_export_options *o,
                                                          const char *search_path) {
  return need(o, "options") ? FASTEPOST_EINVALID : fastepost__str_replace(&o->search_path, search_path);
}

fastepost_status fastepost_export_options_set_table(fastepost_export_options *o, const char *table) {
  if (need(o, "options"))
    return FASTEPOST_EINVALID;
  char *copy = NULL;
  if (table && !(copy = fastepost__strdup(table)))
    return FASTEPOST_ENOMEM;
  free(o->table);
  o->table = copy;
  return FASTEPOST_OK;
}

fastepost_status fastepost_export_options_set_format(fastepost_export_options *o,
                                                     fastepost_export_format format) {
  if (need(o, "options"))
    return FASTEPOST_EINVALID;
  if ((int)format < FASTEPOST_FORMAT_CSV || format > FASTEPOST_FORMAT_SQL)
    return fastepost__error_set(FASTEPOST_EINVALID, "unknown export format %d", (int)format);
  o->format = format;
  return FASTEPOST_OK;
}

fastepost_status fastepost_export_options_add_column(fastepost_export_options *o, const char *column) {
  if (need(o, "options") || need(column, "column"))
    return FASTEPOST_EINVALID;
  char *copy = fastepost__strdup(column);
  char **slot = copy ? push(&o->columns, &o->ncolumns, sizeof *o->columns) : NULL;
  if (!slot) {
    free(copy);
    return FASTEPOST_ENOMEM;
  }
  *slot = copy;
  return FASTEPOST_OK;
}

fastepost_status fastepost_export_options_add_filter(fastepost_export_options *o, const char *column,
                                                     fastepost_filter_op op, const char *value) {
  if (need(o, "options") || need(column, "filter column"))
    return FASTEPOST_EINVALID;
  if ((int)op < FASTEPOST_OP_EQ || op > FASTEPOST_OP_NOT_NULL)
    return fastepost__error_set(FASTEPOST_EINVALID, "unknown filter operator %d", (int)op);
  bool takes_value = op != FASTEPOST_OP_IS_NULL && op != FASTEPOST_OP_NOT_NULL;
  if (takes_value && !value)
    return fastepost__error_set(FASTEPOST_EINVALID, "the filter on %s needs a value", column);
  char *c = fastepost__strdup(column);
  char *v = takes_value ? fastepost__strdup(value) : NULL;
  filter *slot = c && (v || !takes_value) ? push(&o->filters, &o->nfilters, sizeof *o->filters) : NULL;
  if (!slot) {
    free(c);
    free(v);
    return FASTEPOST_ENOMEM;
  }
  slot->column = c;
  slot->op = op;
  slot->value = v;
  return FASTEPOST_OK;
}

static const struct {
  const char *name;
  fastepost_filter_op op;
} op_names[] = {{"=", FASTEPOST_OP_EQ},        {"==", FASTEPOST_OP_EQ},
                {"!=", FASTEPOST_OP_NE},       {"<>", FASTEPOST_OP_NE},
                {"<", FASTEPOST_OP_LT},        {"<=", FASTEPOST_OP_LE},
                {">", FASTEPOST_OP_GT},        {">=", FASTEPOST_OP_GE},
                {"like", FASTEPOST_OP_LIKE},   {"ilike", FASTEPOST_OP_ILIKE},
                {"is_null", FASTEPOST_OP_IS_NULL}, {"not_null", FASTEPOST_OP_NOT_NULL}};

fastepost_status fastepost_filter_op_parse(fastepost_filter_op *out, const char *name) {
  if (need(out, "out") || need(name, "operator"))
    return FASTEPOST_EINVALID;
  for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
    if (strcasecmp(op_names[i].name, name) == 0) {
      *out = op_names[i].op;
      return FASTEPOST_OK;
    }
  char preview[64];
  fastepost__preview(preview, sizeof preview, name, strlen(name));
  return fastepost__error_set(FASTEPOST_EINVALID,
                              "unknown filter operator '%s' (use = != < <= > >= like ilike "
                              "is_null not_null)",
                              preview);
}

fastepost_status fastepost_export_options_add_filter_expr(fastepost_export_options *o,
                                                          const char *expr) {
  if (need(o, "options") || need(expr, "filter"))
    return FASTEPOST_EINVALID;
  char preview[64];
  fastepost__preview(preview, sizeof preview, expr, strlen(expr));
  fastepost__buf column = FASTEPOST__BUF_INIT;
  const char *p = expr;
  while (*p == ' ')
    p++;
  if (*p == '"') { /* "quoted column" with "" for a quote */
    for (p++;; p++) {
      if (!*p) {
        fastepost__buf_free(&column);
        return fastepost__error_set(FASTEPOST_EINVALID, "unterminated quoted column in filter '%s'", preview);
      }
      if (*p == '"' && *++p != '"')
        break;
      fastepost__buf_putc(&column, *p);
    }
  } else {
    const char *start = p;
    while (*p && *p != ' ' && !strchr("=!<>", *p))
      p++;
    fastepost__buf_append(&column, start, (size_t)(p - start));
  }
  while (*p == ' ')
    p++;
  char opname[16];
  size_t n = 0;
  if (*p && strchr("=!<>", *p)) {
    while (*p && strchr("=!<>", *p) && n + 1 < sizeof opname)
      opname[n++] = *p++;
  } else {
    while (*p && *p != ' ' && n + 1 < sizeof opname)
      opname[n++] = *p++;
  }
  opname[n] = '\0';
  fastepost_filter_op op;
  int rc = column.len == 0 ? fastepost__error_set(FASTEPOST_EINVALID,
                                                  "filter '%s' is not 'column op value'", preview)
                           : fastepost_filter_op_parse(&op, opname);
  if (!rc) {
    while (*p == ' ')
      p++;
    bool takes_value = op != FASTEPOST_OP_IS_NULL && op != FASTEPOST_OP_NOT_NULL;
    if (!takes_value && *p)
      rc = fastepost__error_set(FASTEPOST_EINVALID, "filter '%s': %s takes no value", preview, opname);
    else
      rc = fastepost_export_options_add_filter(o, fastepost__buf_cstr(&column), op,
                                               takes_value ? p : NULL);
  }
  fastepost__buf_free(&column);
  return rc;
}

fastepost_status fastepost_export_options_add_order(fastepost_export_options *o, const char *column,
                                                    int descending) {
  if (need(o, "options") || need(column, "order column"))
    return FASTEPOST_EINVALID;
  char *copy = fastepost__strdup(column);
  order_key *slot = copy ? push(&o->orders, &o->norders, sizeof *o->orders) : NULL;
  if (!slot) {
    free(copy);
    return FASTEPOST_ENOMEM;
  }
  slot->column = copy;
  slot->descending = descending;
  return FASTEPOST_OK;
}

fastepost_status fastepost_export_options_set_limit(fastepost_export_options *o, long long limit) {
  if (need(o, "options"))
    return FASTEPOST_EINVALID;
  o->limit = limit < 0 ? -1 : limit;
  return FASTEPOST_OK;
}

fastepost_status fastepost_export_options_allow_schema(fastepost_export_options *o, const char *schema) {
  if (need(o, "options") || need(schema, "schema"))
    return FASTEPOST_EINVALID;
  char *copy = fastepost__strdup(schema);
  char **slot = copy ? push(&o->schemas, &o->nschemas, sizeof *o->schemas) : NULL;
  if (!slot) {
    free(copy);
    return FASTEPOST_ENOMEM;
  }
  *slot = copy;
  return FASTEPOST_OK;
}

fastepost_status fastepost_export_options_set_progress(fastepost_export_options *o,
                                                       fastepost_progress_cb cb, void *payload) {
  if (need(o, "options"))
    return FASTEPOST_EINVALID;
  o->progress = cb;
  o->progress_payload = payload;
  return FASTEPOST_OK;
}

fastepost_status fastepost_export_format_parse(fastepost_export_format *out, const char *name) {
  static const char *const names[] = {"csv", "json", "ndjson", "sql"};
  if (need(out, "out") || need(name, "format"))
    return FASTEPOST_EINVALID;
  for (int i = 0; i < 4; i++)
    if (strcasecmp(names[i], name) == 0) {
      *out = (fastepost_export_format)i;
      return FASTEPOST_OK;
    }
  char preview[64];
  fastepost__preview(preview, sizeof preview, name, strlen(name));
  return fastepost__error_set(FASTEPOST_EINVALID, "unknown format '%s' (use csv, json, ndjson or sql)",
                              preview);
}

/* ---- output buffering ----------------------------------------------------------------------- */

enum { OUT_CAP = 64 * 1024 };

typedef struct writer {
  fastepost_write_cb cb;
  void *payload;
  const fastepost_export_options *opts;
  char *buf;
  size_t len;
  uint64_t bytes, rows;
} writer;

static int deliver(writer *w, const char *data, size_t len) {
  int rc = w->cb(data, len, w->payload);
  if (rc)
    return rc < 0 ? rc : fastepost__error_set(FASTEPOST_ECANCELED, "the export was stopped by its writer");
  w->bytes += len;
  return FASTEPOST_OK;
}

static int report(writer *w) {
  if (w->opts->progress && w->opts->progress(w->rows, w->bytes, w->opts->progress_payload))
    return fastepost__error_set(FASTEPOST_ECANCELED, "the export was stopped by its progress callback");
  return FASTEPOST_OK;
}

static int flush(writer *w) {
  if (!w->len)
    return FASTEPOST_OK;
  int rc = deliver(w, w->buf, w->len);
  w->len = 0;
  return rc ? rc : report(w);
}

static int put(writer *w, const char *data, size_t len) {
  if (w->len + len > OUT_CAP) {
    int rc = flush(w);
    if (rc)
      return rc;
    if (len >= OUT_CAP) /* a huge row: hand it over directly rather than copy it */
      return deliver(w, data, len);
  }
  memcpy(w->buf + w->len, data, len);
  w->len += len;
  return FASTEPOST_OK;
}

/* ---- SQL ------------------------------------------------------------------------------------ */

static const char *op_sql(fastepost_filter_op op) {
  switch (op) {
  case FASTEPOST_OP_EQ: return " = ";
  case FASTEPOST_OP_NE: return " <> ";
  case FASTEPOST_OP_LT: return " < ";
  case FASTEPOST_OP_LE: return " <= ";
  case FASTEPOST_OP_GT: return " > ";
  case FASTEPOST_OP_GE: return " >= ";
  case FASTEPOST_OP_LIKE: return "::text LIKE ";
  case FASTEPOST_OP_ILIKE: return "::text ILIKE ";
  case FASTEPOST_OP_IS_NULL: return " IS NULL";
  case FASTEPOST_OP_NOT_NULL: return " IS NOT NULL";
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
    if (f->value && f->op != FASTEPOST_OP_LIKE && f->op != FASTEPOST_OP_ILIKE) {
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
  if (o->limit >= 0)
    fastepost__buf_printf(sql, " LIMIT %lld", o->limit);
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

static int build_copy(fastepost__buf *sql, PGconn *pg, const fastepost__table *t,
                      const fastepost_export_options *o) {
  bool plain = o->nfilters == 0 && o->norders == 0 && o->limit < 0;
  int rc;
  if (o->format == FASTEPOST_FORMAT_CSV) {
    if (plain && t->relkind == 'r') {
      /* The table form, as psql's \copy uses: the server skips the executor. */
      fastepost__buf_printf(sql, "COPY %s (", t->quoted);
      rc = build_columns(sql, t, o);
      fastepost__buf_puts(sql, ") TO STDOUT (FORMAT csv, HEADER)");
      return rc;
    }
    fastepost__buf_puts(sql, "COPY (SELECT ");
    if ((rc = build_columns(sql, t, o)))
      return rc;
    fastepost__buf_printf(sql, " FROM %s", t->quoted);
    if ((rc = build_tail(sql, pg, t, o)))
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
    fastepost__buf_puts(sql, "(SELECT ");
    if ((rc = build_columns(sql, t, o)))
      return rc;
    fastepost__buf_printf(sql, " FROM %s", t->quoted);
    if ((rc = build_tail(sql, pg, t, o)))
      return rc;
    fastepost__buf_puts(sql, ") fastepost_row");
  }
  fastepost__buf_puts(sql, ") TO STDOUT (FORMAT binary)");
  return sql->oom ? FASTEPOST_ENOMEM : FASTEPOST_OK;
}

/* ---- COPY OUT ------------------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One binary COPY message: [header] then one tuple of one json field, or the trailer. */
static int json_message(writer *w, const char *data, size_t len, bool *header_seen) {
  const unsigned char *p = (const unsigned char *)data;
  size_t i = 0;
  if (!*header_seen) {
    if (len < 19 || memcmp(p, "PGCOPY\n\377\r\n\0", 11) != 0)
      return fastepost__error_set(FASTEPOST_EDB, "unexpected binary COPY header from the server");
    size_t ext = be32(p + 15);
    if (len - 19 < ext)
      return fastepost__error_set(FASTEPOST_EDB, "truncated binary COPY header");
    i = 19 + ext;
    *header_seen = true;
  }
  if (i == len)
    return FASTEPOST_OK;
  if (len - i < 2)
    return fastepost__error_set(FASTEPOST_EDB, "truncated binary COPY row");
  int fields = (int16_t)(p[i] << 8 | p[i + 1]);
  i += 2;
  if (fields == -1)
    return FASTEPOST_OK; /* trailer */
  if (fields != 1 || len - i < 4)
    return fastepost__error_set(FASTEPOST_EDB, "unexpected binary COPY row");
  uint32_t flen = be32(p + i);
  i += 4;
  if (flen == 0xFFFFFFFFu || len - i < flen)
    return fastepost__error_set(FASTEPOST_EDB, "unexpected binary COPY field");
  int rc;
  if (w->opts->format == FASTEPOST_FORMAT_JSON)
    rc = put(w, w->rows ? ",\n" : "[\n", 2);
  else
    rc = FASTEPOST_OK;
  if (!rc)
    rc = put(w, data + i, flen);
  if (!rc && w->opts->format == FASTEPOST_FORMAT_NDJSON)
    rc = put(w, "\n", 1);
  w->rows++;
  return rc;
}

static int copy_out(writer *w, fastepost_conn *conn, PGconn *pg, const char *sql) {
  PGresult *r = PQexec(pg, sql);
  int rc = fastepost__pg_check(conn, r, PGRES_COPY_OUT, "starting the export");
  PQclear(r);
  if (rc)
    return rc;
  bool header_seen = false, first = true;
  for (;;) {
    char *data = NULL;
    int n = PQgetCopyData(pg, &data, 0);
    if (n == -1)
      break;
    if (n == -2) {
      rc = fastepost__error_set(FASTEPOST_ECONN, "export interrupted: %s", PQerrorMessage(pg));
      break;
    }
    if (rc == FASTEPOST_OK) {
      if (w->opts->format == FASTEPOST_FORMAT_CSV) {
        rc = put(w, data, (size_t)n);
        if (!first)
          w->rows++;
        first = false;
      } else {
        rc = json_message(w, data, (size_t)n, &header_seen);
      }
      if (rc) {
        /* Stop the server from sending the rest; what is still in flight is drained. */
        PGcancel *cancel = PQgetCancel(pg);
        char errbuf[256];
        if (cancel) {
          PQcancel(cancel, errbuf, sizeof errbuf);
          PQfreeCancel(cancel);
        }
      }
    }
    PQfreemem(data);
  }
  while ((r = PQgetResult(pg))) {
    if (rc == FASTEPOST_OK)
      rc = fastepost__pg_check(conn, r, PGRES_COMMAND_OK, "exporting");
    PQclear(r);
  }
  if (rc)
    return rc;
  if (w->opts->format == FASTEPOST_FORMAT_JSON)
    rc = put(w, w->rows ? "\n]\n" : "[]\n", 3);
  if (!rc)
    rc = flush(w);
  return rc ? rc : report(w);
}

/* ---- pg_dump -------------------------------------------------------------------------------- */

static int dump_out(void *payload, const char *data, size_t len) {
  writer *w = payload;
  return put(w, data, len);
}

static int run_pg_dump(writer *w, PGconn *pg, const fastepost__table *t) {
  char *prog = NULL;
  int rc = fastepost__pgtool_find(&prog, "pg_dump", w->opts->pg_dump_path, w->opts->search_path,
                                  PQserverVersion(pg));
  if (rc)
    return rc;
  fastepost__buf table_arg = FASTEPOST__BUF_INIT;
  const char *argv[8];
  int argc = 0;
  argv[argc++] = prog;
  argv[argc++] = NULL; /* --dbname=..., filled in by fastepost__pgtool_run */
  argv[argc++] = "--format=plain";
  argv[argc++] = "--no-password";
  if (t) {
    /* A pattern of two double-quoted identifiers matches exactly that table. */
    fastepost__buf_printf(&table_arg, "--table=%s", t->quoted);
    argv[argc++] = "--strict-names";
    argv[argc++] = fastepost__buf_cstr(&table_arg);
  }
  argv[argc] = NULL;
  fastepost__proc p = {.base_env = (const char *const *)w->opts->env, .stdin_fd = -1, .stdout_fd = -1,
                       .on_stdout = dump_out, .payload = w};
  rc = table_arg.oom ? fastepost__error_oom() : fastepost__pgtool_run(&p, pg, NULL, argv);
  fastepost__proc_cleanup(&p);
  fastepost__buf_free(&table_arg);
  free(prog);
  if (!rc)
    rc = flush(w);
  return rc ? rc : report(w);
}

/* ---- entry points --------------------------------------------------------------------------- */

/* What an export will run, prepared before any output exists: the options checked, the table
 * resolved in the catalog and the COPY statement built (filter values checked against their
 * columns). A file export is created only once this succeeded, so that a mistyped table or a
 * bad filter never touches the file. */
typedef struct plan {
  PGconn *pg;
  fastepost__table *t; /* NULL for a whole-database sql export */
  fastepost__buf sql;  /* the COPY statement; empty for sql */
} plan;

static void plan_free(plan *pl) {
  fastepost__table_free(pl->t);
  fastepost__buf_free(&pl->sql);
}

static int plan_export(plan *pl, fastepost_conn *conn, const fastepost_export_options *o) {
  memset(pl, 0, sizeof *pl);
  if (need(o, "options"))
    return FASTEPOST_EINVALID;
  if (!(pl->pg = fastepost__conn_pg(conn)))
    return fastepost_error_last()->code;
  if (o->format == FASTEPOST_FORMAT_SQL && (o->ncolumns || o->nfilters || o->norders || o->limit >= 0))
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "the sql format exports whole tables: columns, filters, order "
                                "and limit do not apply");
  if (o->format != FASTEPOST_FORMAT_SQL && !o->table)
    return fastepost__error_set(FASTEPOST_EINVALID, "no table given to export");
  int rc = FASTEPOST_OK;
  if (o->table && (rc = fastepost__table_resolve(&pl->t, conn, o->table, (const char *const *)o->schemas)))
    return rc;
  if (o->format != FASTEPOST_FORMAT_SQL) {
    rc = build_copy(&pl->sql, pl->pg, pl->t, o);
    if (!rc && pl->sql.oom)
      rc = fastepost__error_oom();
  }
  if (rc) {
    if (pl->t)
      fastepost__error_prefix("exporting %s.%s", pl->t->schema, pl->t->name);
    plan_free(pl);
  }
  return rc;
}

static int run_plan(plan *pl, fastepost_conn *conn, const fastepost_export_options *o, fastepost_write_cb write_cb,
                    void *payload) {
  writer w = {write_cb, payload, o, malloc(OUT_CAP), 0, 0, 0};
  if (!w.buf)
    return fastepost__error_oom();
  int rc = o->format == FASTEPOST_FORMAT_SQL ? run_pg_dump(&w, pl->pg, pl->t)
                                             : copy_out(&w, conn, pl->pg, fastepost__buf_cstr(&pl->sql));
  if (rc && pl->t)
    fastepost__error_prefix("exporting %s.%s", pl->t->schema, pl->t->name);
  free(w.buf);
  return rc;
}

fastepost_status fastepost_export_run(fastepost_conn *conn, const fastepost_export_options *o,
                                      fastepost_write_cb write_cb, void *payload) {
  if (!write_cb)
    return fastepost__error_set(FASTEPOST_EINVALID, "write callback is NULL");
  plan pl;
  int rc = plan_export(&pl, conn, o);
  if (rc)
    return rc;
  rc = run_plan(&pl, conn, o, write_cb, payload);
  plan_free(&pl);
  return rc;
}

static int fd_write(const char *data, size_t len, void *payload) {
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  int fd = *(int *)payload;
  while (len) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int e = n < 0 ? errno : ENOSPC;
      return fastepost__error_set(e == ENOSPC || e == EDQUOT ? FASTEPOST_EFULL : FASTEPOST_EIO,
                                  "writing the output: %s", fastepost__errno_text(e, eb, sizeof eb));
    }
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

fastepost_status fastepost_export_to_fd(fastepost_conn *conn, const fastepost_export_options *o,
                                        int fd) {
  if (fd < 0)
    return fastepost__error_set(FASTEPOST_EINVALID, "invalid file descriptor %d", fd);
  return fastepost_export_run(conn, o, fd_write, &fd);
}

/* ---- files written whole or not at all ------------------------------------------------------- */

/* A file being written under a temporary name in the target's directory, renamed over the
 * target only once it is complete and on disk. Until then the target - yesterday's good export -
 * is untouched, whatever fails: the database, the disk, a signal. */
typedef struct atomic_file {
  const char *path;
  char *tmp;
  int fd;
} atomic_file;

static int atomic_open(atomic_file *af, const char *path) {
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  af->path = path;
  af->fd = -1;
  const char *slash = strrchr(path, '/');
  size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
  fastepost__buf tmp = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&tmp, "%.*s.%s.tmp-XXXXXX", (int)dirlen, path, slash ? slash + 1 : path);
  if (tmp.oom)
    return fastepost__error_oom();
  af->tmp = fastepost__buf_detach(&tmp);
  af->fd = mkstemp(af->tmp); /* mode 0600: exports hold personal data */
  if (af->fd < 0) {
    int e = errno;
    free(af->tmp);
    af->tmp = NULL;
    return fastepost__error_set(e == ENOSPC || e == EDQUOT ? FASTEPOST_EFULL : FASTEPOST_EIO,
                                "cannot create a file beside %s: %s", path, fastepost__errno_text(e, eb, sizeof eb));
  }
  fcntl(af->fd, F_SETFD, FD_CLOEXEC);
  return FASTEPOST_OK;
}

/* Finish: on success (ok) sync, rename over the target and sync the directory; otherwise, or
 * when any of that fails, remove the temporary file. Returns ok's status or the failure. */
static int atomic_close(atomic_file *af, int rc) {
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  const char *step = NULL;
  int e = 0;
  if (!rc && fsync(af->fd) != 0)
    step = "syncing", e = errno;
  if (close(af->fd) != 0 && !rc && !step)
    step = "closing", e = errno;
  if (!rc && !step && rename(af->tmp, af->path) != 0)
    step = "renaming", e = errno;
  if (!rc && !step) {
    /* The rename is durable only once the directory is synced. */
    const char *slash = strrchr(af->path, '/');
    char *dir = slash ? fastepost__strndup(af->path, slash == af->path ? 1 : (size_t)(slash - af->path)) : NULL;
    int dfd = open(dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
  }
  if (step)
    rc = fastepost__error_set(e == ENOSPC || e == EDQUOT ? FASTEPOST_EFULL : FASTEPOST_EIO, "writing %s failed while %s: %s",
                              af->path, step, fastepost__errno_text(e, eb, sizeof eb));
  if (rc)
    unlink(af->tmp);
  free(af->tmp);
  af->tmp = NULL;
  return rc;
}

fastepost_status fastepost_export_to_file(fastepost_conn *conn, const fastepost_export_options *o,
                                          const char *path) {
  if (need(path, "path") || need(o, "options"))
    return FASTEPOST_EINVALID;
  plan pl;
  int rc = plan_export(&pl, conn, o);
  if (rc)
    return rc;
  atomic_file af;
  if (!(rc = atomic_open(&af, path))) {
    rc = run_plan(&pl, conn, o, fd_write, &af.fd);
    rc = atomic_close(&af, rc);
  }
  plan_free(&pl);
  return rc;
}

fastepost_status fastepost_file_write(const char *path, const void *data, size_t len) {
  if (need(path, "path") || (!data && len))
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_file_write: invalid argument");
  atomic_file af;
  int rc = atomic_open(&af, path);
  if (rc)
    return rc;
  int fd = af.fd;
  rc = len ? fd_write(data, len, &fd) : FASTEPOST_OK;
  return atomic_close(&af, rc);
}

/* "schema"."name" (as fastepost__table_list gives) -> a file name, see export.h. */
static int file_name(fastepost__buf *out, const char *dir, const fastepost__table *t, const char *ext) {
  fastepost__buf_printf(out, "%s/", dir);
  for (int part = strcmp(t->schema, "public") == 0 ? 1 : 0; part < 2; part++) {
    const unsigned char *s = (const unsigned char *)(part ? t->name : t->schema);
    for (; *s; s++) {
      if (fastepost__ascii_isalnum(*s))
        fastepost__buf_putc(out, (char)*s);
      else if (*s == '_' || *s == '-')
        fastepost__buf_putc(out, (char)*s);
      else
        fastepost__buf_printf(out, "%%%02X", *s);
    }
    fastepost__buf_putc(out, '.');
  }
  fastepost__buf_puts(out, ext);
  return out->oom ? FASTEPOST_ENOMEM : FASTEPOST_OK;
}

fastepost_status fastepost_export_all(size_t *tables, fastepost_conn *conn,
                                      const fastepost_export_options *o, const char *dir) {
  if (tables)
    *tables = 0;
  if (need(o, "options") || need(dir, "directory"))
    return FASTEPOST_EINVALID;
  if (o->format == FASTEPOST_FORMAT_SQL)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "export into a directory takes csv, json or ndjson; for sql "
                                "export the whole database into one file");
  if (o->table || o->ncolumns || o->nfilters || o->norders || o->limit >= 0)
    return fastepost__error_set(FASTEPOST_EINVALID, "export of all tables takes no table, "
                                                    "columns, filters, order or limit");
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  if (mkdir(dir, 0700) && errno != EEXIST)
    return fastepost__error_set(FASTEPOST_EIO, "cannot create directory %s: %s", dir,
                                fastepost__errno_text(errno, eb, sizeof eb));
  char **list = NULL;
  int rc = fastepost__table_list(&list, conn, (const char *const *)o->schemas);
  if (rc)
    return rc;
  static const char *const ext[] = {"csv", "json", "ndjson", "sql"};
  fastepost_export_options one = *o; /* shallow: only the table differs */
  for (char **spec = list; !rc && *spec; spec++) {
    fastepost__table *t = NULL;
    fastepost__buf path = FASTEPOST__BUF_INIT;
    rc = fastepost__table_resolve(&t, conn, *spec, (const char *const *)o->schemas);
    if (!rc)
      rc = file_name(&path, dir, t, ext[o->format]);
    if (!rc) {
      one.table = *spec;
      rc = fastepost_export_to_file(conn, &one, fastepost__buf_cstr(&path));
    }
    if (!rc && tables)
      (*tables)++;
    fastepost__buf_free(&path);
    fastepost__table_free(t);
  }
  fastepost__strv_free(list);
  return rc;
}
