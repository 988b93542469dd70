/* SPDX-License-Identifier: MIT */
/* Export: table + columns + filters -> SQL checked against the catalog (export/query.c) ->
 * COPY TO STDOUT -> format writer (export/write.c: csv passthrough, json/ndjson from binary
 * COPY of row_to_json) -> callback. This file: the options, pg_dump for the sql format, and
 * the entry points (stream, descriptor, durable file, directory). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export/export_priv.h"
#include "pgtool.h"
#include "util/fs.h"
#include "util/strv.h"
#include "validate.h"

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

#define need fastepost__need

fastepost_status fastepost_export_options_set_tool_path(fastepost_export_options *o,
                                                        const char *path) {
  return need(o, "options") ? FASTEPOST_EINVALID : fastepost__str_set(&o->pg_dump_path, path && *path ? path : NULL);
}

fastepost_status fastepost_export_options_set_search_path(fastepost_export_options *o,
                                                          const char *search_path) {
  return need(o, "options") ? FASTEPOST_EINVALID : fastepost__str_set(&o->search_path, search_path && *search_path ? search_path : NULL);
}

fastepost_status fastepost_export_options_set_table(fastepost_export_options *o, const char *table) {
  return need(o, "options") ? FASTEPOST_EINVALID : fastepost__str_set(&o->table, table);
}

FASTEPOST__OPTIONS_ENUM_SETTER(export, format, fastepost_export_format, format,
                               FASTEPOST_EXPORT_FORMAT_CSV, FASTEPOST_EXPORT_FORMAT_SQL, "export format")

fastepost_status fastepost_export_options_add_column(fastepost_export_options *o, const char *column) {
  return need(o, "options") ? FASTEPOST_EINVALID
                            : fastepost__strv_push(&o->columns, &o->ncolumns, column, "column");
}

fastepost_status fastepost_export_options_add_filter(fastepost_export_options *o, const char *column,
                                                     fastepost_export_filter_op op, const char *value) {
  if (need(o, "options") || need(column, "filter column"))
    return FASTEPOST_EINVALID;
  if (fastepost__enum_check((int)op, FASTEPOST_EXPORT_FILTER_EQ, FASTEPOST_EXPORT_FILTER_NOT_NULL,
                            "filter operator"))
    return FASTEPOST_EINVALID;
  bool takes_value = op != FASTEPOST_EXPORT_FILTER_IS_NULL && op != FASTEPOST_EXPORT_FILTER_NOT_NULL;
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

/* In enum order, then the aliases (== for =, <> for !=). */
static const char *const op_names[] = {"=",    "!=",    "<",       "<=",       ">", ">=",
                                       "like", "ilike", "is_null", "not_null", "==", "<>"};
enum { NOPS = FASTEPOST_EXPORT_FILTER_NOT_NULL + 1 };

const char *fastepost_export_filter_op_name(fastepost_export_filter_op op) {
  return fastepost__enum_name((int)op, op_names, NOPS);
}

fastepost_status fastepost_export_filter_op_parse(fastepost_export_filter_op *out, const char *name) {
  int i = 0;
  int rc = fastepost__enum_parse(&i, name, op_names, (int)(sizeof op_names / sizeof op_names[0]),
                                 "filter operator", "= != < <= > >= like ilike is_null not_null");
  if (!rc)
    *out = (fastepost_export_filter_op)(i == NOPS ? FASTEPOST_EXPORT_FILTER_EQ
                                        : i == NOPS + 1 ? FASTEPOST_EXPORT_FILTER_NE
                                                        : i);
  return rc;
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
  fastepost_export_filter_op op;
  int rc = column.len == 0 ? fastepost__error_set(FASTEPOST_EINVALID,
                                                  "filter '%s' is not 'column op value'", preview)
                           : fastepost_export_filter_op_parse(&op, opname);
  if (!rc) {
    while (*p == ' ')
      p++;
    bool takes_value = op != FASTEPOST_EXPORT_FILTER_IS_NULL && op != FASTEPOST_EXPORT_FILTER_NOT_NULL;
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

fastepost_status fastepost_export_options_set_limit(fastepost_export_options *o, uint64_t limit) {
  if (need(o, "options"))
    return FASTEPOST_EINVALID;
  o->limit = limit;
  return FASTEPOST_OK;
}

FASTEPOST__OPTIONS_SCHEMAS_AND_PROGRESS(export)

static const char *const format_names[] = {"csv", "json", "ndjson", "sql"};

FASTEPOST__ENUM_NAMES(fastepost_export_format, format_names, "format", "csv, json, ndjson or sql")

/* ---- pg_dump -------------------------------------------------------------------------------- */

static int dump_out(void *payload, const char *data, size_t len) {
  return fastepost__export_put(payload, data, len);
}

static int run_pg_dump(fastepost__export_writer *w, PGconn *pg, const fastepost__table *t) {
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
    rc = fastepost__export_flush(w);
  return rc ? rc : fastepost__export_progress(w);
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
  if (o->format == FASTEPOST_EXPORT_FORMAT_SQL && (o->ncolumns || o->nfilters || o->norders || o->limit > 0))
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "the sql format exports whole tables: columns, filters, order "
                                "and limit do not apply");
  if (o->format != FASTEPOST_EXPORT_FORMAT_SQL && !o->table)
    return fastepost__error_set(FASTEPOST_EINVALID, "no table given to export");
  int rc = FASTEPOST_OK;
  if (o->table && (rc = fastepost__table_resolve(&pl->t, conn, o->table, (const char *const *)o->schemas)))
    return rc;
  if (o->format != FASTEPOST_EXPORT_FORMAT_SQL) {
    rc = fastepost__export_build_copy(&pl->sql, pl->pg, pl->t, o);
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

static int run_plan(uint64_t *rows, plan *pl, fastepost_conn *conn, const fastepost_export_options *o,
                    fastepost_export_write_cb write_cb, void *payload) {
  fastepost__export_writer w = {write_cb, payload, o, malloc(FASTEPOST__EXPORT_OUT_CAP), 0, 0, 0};
  if (!w.buf)
    return fastepost__error_oom();
  int rc = o->format == FASTEPOST_EXPORT_FORMAT_SQL
               ? run_pg_dump(&w, pl->pg, pl->t)
               : fastepost__export_copy_out(&w, conn, pl->pg, fastepost__buf_cstr(&pl->sql));
  if (rc && pl->t)
    fastepost__error_prefix("exporting %s.%s", pl->t->schema, pl->t->name);
  if (rows)
    *rows = o->format == FASTEPOST_EXPORT_FORMAT_SQL ? 0 : w.rows;
  free(w.buf);
  return rc;
}

fastepost_status fastepost_export_run(uint64_t *rows, fastepost_conn *conn,
                                      fastepost_export_write_cb write_cb, void *payload,
                                      const fastepost_export_options *o) {
  if (rows)
    *rows = 0;
  if (!write_cb)
    return fastepost__error_set(FASTEPOST_EINVALID, "write callback is NULL");
  plan pl;
  int rc = plan_export(&pl, conn, o);
  if (rc)
    return rc;
  rc = run_plan(rows, &pl, conn, o, write_cb, payload);
  plan_free(&pl);
  return rc;
}

static int fd_write(const char *data, size_t len, void *payload) {
  return fastepost__write_all_status(*(int *)payload, data, len, "the output");
}

fastepost_status fastepost_export_to_fd(uint64_t *rows, fastepost_conn *conn, int fd,
                                        const fastepost_export_options *o) {
  if (rows)
    *rows = 0;
  if (fd < 0)
    return fastepost__error_set(FASTEPOST_EINVALID, "invalid file descriptor %d", fd);
  return fastepost_export_run(rows, conn, fd_write, &fd, o);
}

fastepost_status fastepost_export_to_file(uint64_t *rows, fastepost_conn *conn, const char *path,
                                          const fastepost_export_options *o) {
  if (rows)
    *rows = 0;
  if (need(path, "path") || need(o, "options"))
    return FASTEPOST_EINVALID;
  plan pl;
  int rc = plan_export(&pl, conn, o);
  if (rc)
    return rc;
  fastepost__durable file;
  if (!(rc = fastepost__durable_open(&file, path))) {
    rc = run_plan(rows, &pl, conn, o, fd_write, &file.fd);
    rc = fastepost__durable_close(&file, rc);
  }
  if (rc && rows)
    *rows = 0; /* nothing was written */
  plan_free(&pl);
  return rc;
}

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

fastepost_status fastepost_export_all(size_t *tables, fastepost_conn *conn, const char *dir,
                                      const fastepost_export_options *o) {
  if (tables)
    *tables = 0;
  if (need(o, "options") || need(dir, "directory"))
    return FASTEPOST_EINVALID;
  if (o->format == FASTEPOST_EXPORT_FORMAT_SQL)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "export into a directory takes csv, json or ndjson; for sql "
                                "export the whole database into one file");
  if (o->table || o->ncolumns || o->nfilters || o->norders || o->limit > 0)
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
      rc = fastepost_export_to_file(NULL, conn, fastepost__buf_cstr(&path), &one);
    }
    if (!rc && tables)
      (*tables)++;
    fastepost__buf_free(&path);
    fastepost__table_free(t);
  }
  fastepost__strv_free(list);
  return rc;
}
