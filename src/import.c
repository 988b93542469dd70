/* Import: read callback -> CSV parser (libcsv, strict, spaces kept) with our own line tracking
 * -> row validator (types from the catalog, model rules) -> COPY FROM STDIN into a staging
 * table -> INSERT ... SELECT ... ON CONFLICT per mode -> commit or roll back, with a report. */
#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "import_priv.h"
#include "internal.h"
#include "validate.h"

enum {
  READ_CHUNK = 64 * 1024,
  COPY_FLUSH = 256 * 1024,
  DEFAULT_MAX_ERRORS = 100,
  DIAG_CHUNK = 1000 /* rows per statement when looking for the rows the database refuses */
};

#define STAGE "pg_temp.fastepost_import_stage"

/* ---- report --------------------------------------------------------------------------------- */

struct fastepost_import_report {
  uint64_t rows_read, inserted, updated, skipped, written, bytes, error_total;
  int dry_run;
  int complete;
  fastepost_import_error *errors;
  size_t nerrors, max_errors;
};

void fastepost_import_options_init(fastepost_import_options *o) {
  if (o)
    memset(o, 0, sizeof *o);
}

void fastepost_import_report_free(fastepost_import_report *r) {
  if (!r)
    return;
  for (size_t i = 0; i < r->nerrors; i++) {
    free((char *)(uintptr_t)r->errors[i].column);
    free((char *)(uintptr_t)r->errors[i].value);
    free((char *)(uintptr_t)r->errors[i].reason);
  }
  free(r->errors);
  free(r);
}

#define GETTER(type, name, expr)                                                                   \
  type fastepost_import_report_##name(const fastepost_import_report *r) { return r ? (expr) : 0; }
GETTER(uint64_t, rows_read, r->rows_read)
GETTER(uint64_t, rows_inserted, r->inserted)
GETTER(uint64_t, rows_updated, r->updated)
GETTER(uint64_t, rows_skipped, r->skipped)
GETTER(uint64_t, rows_written, r->written)
GETTER(uint64_t, bytes_read, r->bytes)
GETTER(int, dry_run, r->dry_run)
GETTER(uint64_t, error_total, r->error_total)
GETTER(int, errors_complete, r->complete)
GETTER(size_t, error_count, r->nerrors)

const fastepost_import_error *fastepost_import_report_error(const fastepost_import_report *r,
                                                            size_t i) {
  return r && i < r->nerrors ? &r->errors[i] : NULL;
}

/* ---- the importer --------------------------------------------------------------------------- */

typedef struct importer {
  fastepost_conn *conn;
  PGconn *pg;
  fastepost__table *t;
  const fastepost_import_options *o;
  fastepost_import_report *rep;
  int status;           /* code of the first error, FASTEPOST_OK while there is none */
  bool fatal;           /* stop reading: the rest of the file cannot be trusted */

  /* position */
  uint64_t line;        /* physical line of the next byte fed (1-based) */
  uint64_t record_line; /* line where the current record started; 0 between records */
  uint64_t offset;      /* file offset of the next byte fed */
  bool prev_cr;

  /* current record */
  fastepost__buf row;   /* the record's field values, back to back */
  size_t *fstart, *flen;
  bool *fnull;
  size_t nfields, fcap;

  size_t max_field;     /* the largest field accepted, in bytes */

  /* header */
  bool header_done;
  int *map;             /* file field -> table column */
  size_t nmap;

  /* COPY into the staging table */
  bool copying;
  fastepost__buf out;
  uint64_t staged;
} importer;

static int add_error(importer *im, int code, uint64_t line, const char *column, const char *value,
                     size_t vlen, const char *fmt, ...) FASTEPOST__PRINTF(7, 8);

static int add_error(importer *im, int code, uint64_t line, const char *column, const char *value,
                     size_t vlen, const char *fmt, ...) {
  fastepost_import_report *r = im->rep;
  r->error_total++;
  if (im->status == FASTEPOST_OK)
    im->status = code;
  if (r->nerrors >= r->max_errors)
    return FASTEPOST_OK;
  if (!r->errors && !(r->errors = calloc(r->max_errors, sizeof *r->errors)))
    return fastepost__error_oom();
  char preview[64] = "";
  if (value)
    fastepost__preview(preview, sizeof preview, value, vlen);
  fastepost__buf reason = FASTEPOST__BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  char tmp[512];
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  fastepost__buf_puts(&reason, tmp);
  fastepost_import_error *e = &r->errors[r->nerrors];
  e->line = line;
  e->column = fastepost__strdup(column ? column : "");
  e->value = fastepost__strdup(preview);
  e->reason = fastepost__buf_detach(&reason);
  if (!e->column || !e->value || !e->reason) {
    free((char *)(uintptr_t)e->column);
    free((char *)(uintptr_t)e->value);
    free((char *)(uintptr_t)e->reason);
    return FASTEPOST_ENOMEM;
  }
  r->nerrors++;
  return FASTEPOST_OK;
}

/* ---- header --------------------------------------------------------------------------------- */

static int header(importer *im) {
  const fastepost__table *t = im->t;
  uint64_t line = im->record_line;
  im->map = malloc((im->nfields ? im->nfields : 1) * sizeof *im->map);
  bool *seen = calloc(t->ncols ? t->ncols : 1, sizeof *seen);
  if (!im->map || !seen) {
    free(seen);
    return fastepost__error_oom();
  }
  im->nmap = im->nfields;
  for (size_t i = 0; i < im->nfields; i++) {
    const char *name = im->row.data ? im->row.data + im->fstart[i] : "";
    size_t len = im->flen[i];
    int c = im->fnull[i] || len == 0 ? -1 : fastepost__table_column(t, name, len);
    im->map[i] = c;
    if (im->fnull[i] || len == 0)
      add_error(im, FASTEPOST_EINVALID, line, "", NULL, 0, "empty column name in the header (field %zu)",
                i + 1);
    else if (c < 0)
      add_error(im, FASTEPOST_EINVALID, line, "", name, len,
                "unknown column: table %s.%s has no such column", t->schema, t->name);
    else if (seen[c])
      add_error(im, FASTEPOST_EINVALID, line, t->cols[c].name, name, len,
                "column appears twice in the header");
    else if (t->cols[c].generated)
      add_error(im, FASTEPOST_EINVALID, line, t->cols[c].name, NULL, 0,
                "generated column: its values are computed and cannot be imported");
    if (c >= 0)
      seen[c] = true;
  }
  for (size_t c = 0; c < t->ncols; c++)
    if (!seen[c] && t->cols[c].not_null && !t->cols[c].has_default && !t->cols[c].generated)
      add_error(im, FASTEPOST_EINVALID, line, t->cols[c].name, NULL, 0,
                "missing from the header: the column is NOT NULL and has no default");
  free(seen);
  im->header_done = true;
  if (im->status)
    im->fatal = true;
  return FASTEPOST_OK;
}

/* ---- rows ----------------------------------------------------------------------------------- */

static void put_uint(fastepost__buf *b, uint64_t v) {
  char tmp[24];
  int n = 0;
  do
    tmp[sizeof tmp - 1 - n++] = (char)('0' + v % 10);
  while ((v /= 10));
  fastepost__buf_append(b, tmp + sizeof tmp - n, (size_t)n);
}

/* One value in COPY's CSV: NULL unquoted empty, quoted when it must be. */
static void put_csv_value(fastepost__buf *b, const char *s, size_t len, bool null) {
  if (null)
    return;
  bool quote = len == 0 || (len == 2 && s[0] == '\\' && s[1] == '.');
  for (size_t i = 0; i < len && !quote; i++)
    quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
  if (!quote) {
    fastepost__buf_append(b, s, len);
    return;
  }
  fastepost__buf_putc(b, '"');
  size_t start = 0;
  for (size_t i = 0; i < len; i++)
    if (s[i] == '"') {
      fastepost__buf_append(b, s + start, i + 1 - start);
      fastepost__buf_putc(b, '"');
      start = i + 1;
    }
  fastepost__buf_append(b, s + start, len - start);
  fastepost__buf_putc(b, '"');
}

static int flush_copy(importer *im) {
  if (!im->out.len)
    return FASTEPOST_OK;
  if (im->out.oom)
    return FASTEPOST_ENOMEM;
  if (!im->conn) { /* fastepost__import_check: parse and validate only */
    fastepost__buf_clear(&im->out);
    return FASTEPOST_OK;
  }
  if (PQputCopyData(im->pg, im->out.data, (int)im->out.len) != 1)
    return fastepost__error_set(FASTEPOST_ECONN, "sending rows: %s", PQerrorMessage(im->pg));
  fastepost__buf_clear(&im->out);
  return FASTEPOST_OK;
}

static int data_row(importer *im) {
  const fastepost__table *t = im->t;
  uint64_t line = im->record_line;
  im->rep->rows_read++;
  if (im->nfields != im->nmap) {
    add_error(im, FASTEPOST_EPARSE, line, "", NULL, 0, "expected %zu fields, found %zu", im->nmap,
              im->nfields);
    return FASTEPOST_OK;
  }
  bool bad = false;
  for (size_t i = 0; i < im->nfields; i++) {
    const fastepost__column *col = &t->cols[im->map[i]];
    const char *s = im->row.data ? im->row.data + im->fstart[i] : "";
    size_t len = im->flen[i];
    const char *why;
    if (im->fnull[i]) {
      why = col->not_null ? "empty (NULL) in a NOT NULL column; write \"\" for an empty string or "
                            "leave the column out to get its default"
                          : NULL;
    } else {
      why = fastepost__value_check(col, s, len);
    }
    if (!why)
      why = fastepost__model_check(t->name, col->name, im->fnull[i] ? NULL : s, len);
    if (why) {
      bad = true;
      int rc = add_error(im, FASTEPOST_EINVALID, line, col->name, s, len, "%s (%s)", why, col->type);
      if (rc)
        return rc;
    }
  }
  if (bad || im->status)
    return FASTEPOST_OK;
  /* Stage the row: ordinal, file line, then the values. */
  fastepost__buf *b = &im->out;
  put_uint(b, ++im->staged);
  fastepost__buf_putc(b, ',');
  put_uint(b, line);
  for (size_t i = 0; i < im->nfields; i++) {
    fastepost__buf_putc(b, ',');
    put_csv_value(b, im->row.data ? im->row.data + im->fstart[i] : "", im->flen[i], im->fnull[i]);
  }
  fastepost__buf_putc(b, '\n');
  return b->len >= COPY_FLUSH ? flush_copy(im) : (b->oom ? FASTEPOST_ENOMEM : FASTEPOST_OK);
}

static int start_copy(importer *im);

/* A field over the limit stops the import: its bytes are never all held in memory (libcsv
 * buffers a field whole, so the check runs while it grows, see feed()). */
static void field_too_big(importer *im, size_t field, size_t len, bool at_least) {
  const char *column = im->header_done && field < im->nmap ? im->t->cols[im->map[field]].name : "";
  add_error(im, FASTEPOST_ETOOBIG, im->record_line ? im->record_line : im->line, column, NULL, 0,
            "field %zu is %s%zu bytes, over the limit of %zu bytes (max_field, --max-field)", field + 1,
            at_least ? "more than " : "", len, im->max_field);
  im->fatal = true;
}

/* libcsv callbacks. They cannot return an error, so failures are parked in im->status and
 * im->fatal, and the caller stops feeding. */
static void on_field(void *s, size_t len, void *data) {
  importer *im = data;
  if (im->fatal)
    return;
  if (len > im->max_field) {
    field_too_big(im, im->nfields, len, false);
    return;
  }
  if (im->nfields == im->fcap) {
    size_t cap = im->fcap ? im->fcap * 2 : 32;
    size_t *fs = realloc(im->fstart, cap * sizeof *fs);
    if (fs)
      im->fstart = fs;
    size_t *fl = realloc(im->flen, cap * sizeof *fl);
    if (fl)
      im->flen = fl;
    bool *fn = realloc(im->fnull, cap * sizeof *fn);
    if (fn)
      im->fnull = fn;
    if (!fs || !fl || !fn) {
      im->status = fastepost__error_oom();
      im->fatal = true;
      return;
    }
    im->fcap = cap;
  }
  im->fstart[im->nfields] = im->row.len;
  im->flen[im->nfields] = len;
  im->fnull[im->nfields] = s == NULL; /* CSV_EMPTY_IS_NULL: NULL only for unquoted empty */
  if (len)
    fastepost__buf_append(&im->row, s, len);
  im->nfields++;
}

static void on_record(int term, void *data) {
  importer *im = data;
  (void)term;
  if (!im->fatal) {
    int rc;
    if (!im->header_done) {
      rc = header(im);
      if (!rc && !im->fatal)
        rc = start_copy(im);
    } else {
      rc = data_row(im);
    }
    if (rc) {
      im->status = rc;
      im->fatal = true;
    }
  }
  im->nfields = 0;
  fastepost__buf_clear(&im->row);
  im->record_line = 0;
}

static int space_never(unsigned char c) {
  (void)c;
  return 0; /* COPY keeps spaces: so do we (libcsv trims them by default) */
}

/* Feed bytes to libcsv one physical line at a time, so that we know the line of every record
 * and of every syntax error (libcsv reports neither). */
static void feed(importer *im, struct csv_parser *p, const char *data, size_t len) {
  size_t i = 0;
  while (i < len && !im->fatal) {
    size_t end = i;
    while (end < len && data[end] != '\n' && data[end] != '\r')
      end++;
    bool has_term = end < len;
    size_t seg = end - i + (has_term ? 1 : 0);
    if (im->record_line == 0 && end > i)
      im->record_line = im->line; /* the first byte of a record */
    size_t used = csv_parse(p, data + i, seg, on_field, on_record, im);
    if (p->entry_pos > im->max_field && !im->fatal) /* a field still growing past the limit */
      field_too_big(im, im->nfields, p->entry_pos, true);
    if (used < seg && !im->fatal) {
      add_error(im, FASTEPOST_EPARSE, im->line, "", NULL, 0,
                "malformed CSV at byte offset %llu: %s", (unsigned long long)(im->offset + used),
                csv_error(p) == CSV_EPARSE
                    ? "a quote inside an unquoted value, or text after a closing quote"
                    : csv_strerror(csv_error(p)));
      im->fatal = true;
    }
    im->offset += seg;
    if (has_term) {
      if (data[end] == '\r' || !im->prev_cr || end > i)
        im->line++;
      im->prev_cr = data[end] == '\r';
    } else if (end > i) {
      im->prev_cr = false;
    }
    i += seg;
  }
}

/* Length of the prefix of buf that holds only complete UTF-8 sequences. */
static size_t complete_prefix(const char *buf, size_t len) {
  size_t back = 0;
  while (back < len && back < 4) {
    unsigned char c = (unsigned char)buf[len - 1 - back];
    if ((c & 0xC0) != 0x80) { /* a lead or ASCII byte */
      size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      return back + 1 < need ? len - 1 - back : len;
    }
    back++;
  }
  return len;
}

/* ---- database side -------------------------------------------------------------------------- */

static int start_copy(importer *im) {
  if (!im->conn)
    return FASTEPOST_OK; /* fastepost__import_check */
  fastepost__buf sql = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&sql, "CREATE TEMP TABLE fastepost_import_stage (rn bigint, line bigint");
  for (size_t i = 0; i < im->nmap; i++)
    fastepost__buf_printf(&sql, ", c%zu text", i + 1);
  fastepost__buf_puts(&sql, ") ON COMMIT DROP");
  int rc = sql.oom ? FASTEPOST_ENOMEM : fastepost__exec(im->conn, fastepost__buf_cstr(&sql), "creating the staging table");
  fastepost__buf_free(&sql);
  if (rc)
    return rc;
  PGresult *r = PQexec(im->pg, "COPY " STAGE " FROM STDIN (FORMAT csv)");
  rc = fastepost__pg_check(im->conn, r, PGRES_COPY_IN, "starting COPY");
  PQclear(r);
  if (!rc)
    im->copying = true;
  return rc;
}

static int end_copy(importer *im, bool ok) {
  if (!im->copying)
    return FASTEPOST_OK;
  im->copying = false;
  int rc = ok ? flush_copy(im) : FASTEPOST_OK;
  if (PQputCopyEnd(im->pg, ok && !rc ? NULL : "import rejected") != 1 && !rc)
    rc = fastepost__error_set(FASTEPOST_ECONN, "ending COPY: %s", PQerrorMessage(im->pg));
  PGresult *r;
  while ((r = PQgetResult(im->pg))) {
    if (ok && !rc)
      rc = fastepost__pg_check(im->conn, r, PGRES_COMMAND_OK, "staging rows");
    PQclear(r);
  }
  return rc;
}

/* The INSERT from the staging table, for rows rn between $1 and $2 when `ranged`. */
static int build_insert(importer *im, fastepost__buf *sql, bool ranged, bool count_updates) {
  const fastepost__table *t = im->t;
  const fastepost_import_options *o = im->o;
  if (count_updates)
    fastepost__buf_puts(sql, "WITH fastepost_ins AS (");
  fastepost__buf_printf(sql, "INSERT INTO %s (", t->quoted);
  for (size_t i = 0; i < im->nmap; i++)
    fastepost__buf_printf(sql, "%s%s", i ? ", " : "", t->cols[im->map[i]].quoted);
  fastepost__buf_puts(sql, ") SELECT ");
  /* Cast to the type without its modifier, so that the assignment checks length and precision
   * (an explicit cast to varchar(n) would silently truncate). */
  for (size_t i = 0; i < im->nmap; i++)
    fastepost__buf_printf(sql, "%sc%zu::%s", i ? ", " : "", i + 1, t->cols[im->map[i]].cast_type);
  fastepost__buf_puts(sql, " FROM " STAGE);
  if (ranged)
    fastepost__buf_puts(sql, " WHERE rn BETWEEN $1 AND $2");
  if (o->on_conflict != FASTEPOST_CONFLICT_ERROR) {
    int key = -1;
    if (o->key)
      key = fastepost__table_column(t, o->key, strlen(o->key));
    fastepost__buf_puts(sql, " ON CONFLICT");
    if (key >= 0)
      fastepost__buf_printf(sql, " (%s)", t->cols[key].quoted);
    else if (o->on_conflict == FASTEPOST_CONFLICT_UPDATE)
      fastepost__buf_printf(sql, " ON CONSTRAINT %s", t->pk_constraint);
    bool any = false;
    if (o->on_conflict == FASTEPOST_CONFLICT_UPDATE)
      for (size_t i = 0; i < im->nmap; i++) {
        const fastepost__column *c = &t->cols[im->map[i]];
        if (key >= 0 ? im->map[i] == key : c->primary_key)
          continue;
        fastepost__buf_printf(sql, "%s%s = EXCLUDED.%s", any ? ", " : " DO UPDATE SET ", c->quoted,
                              c->quoted);
        any = true;
      }
    if (!any)
      fastepost__buf_puts(sql, " DO NOTHING");
  }
  if (count_updates)
    fastepost__buf_puts(sql, " RETURNING (xmax = 0) AS inserted) SELECT count(*) FILTER (WHERE "
                             "inserted), count(*) FROM fastepost_ins");
  return sql->oom ? FASTEPOST_ENOMEM : FASTEPOST_OK;
}

/* Check the conflict settings against the table and the header before reading rows. */
static int check_conflict_key(importer *im) {
  const fastepost_import_options *o = im->o;
  const fastepost__table *t = im->t;
  if (o->on_conflict == FASTEPOST_CONFLICT_ERROR)
    return FASTEPOST_OK;
  if (o->key) {
    int key = fastepost__table_column(t, o->key, strlen(o->key));
    if (key < 0)
      return fastepost__error_set(FASTEPOST_ENOTFOUND, "key column \"%s\" not found in %s.%s", o->key,
                                  t->schema, t->name);
    bool unique = false;
    int rc = fastepost__table_unique_column(&unique, im->conn, t, (size_t)key);
    if (rc)
      return rc;
    if (!unique)
      return fastepost__error_set(FASTEPOST_EINVALID,
                                  "key column %s has no unique index of its own (without WHERE "
                                  "or expressions), so conflicts on it cannot be detected",
                                  t->cols[key].name);
  } else if (o->on_conflict == FASTEPOST_CONFLICT_UPDATE && !t->pk_constraint) {
    return fastepost__error_set(FASTEPOST_EINVALID, "%s.%s has no primary key: give a key column",
                                t->schema, t->name);
  }
  return FASTEPOST_OK;
}

/* After the header: in update mode the key must be in the file. */
static void check_key_in_header(importer *im) {
  const fastepost_import_options *o = im->o;
  if (o->on_conflict != FASTEPOST_CONFLICT_UPDATE || im->status)
    return;
  const fastepost__table *t = im->t;
  int key = o->key ? fastepost__table_column(t, o->key, strlen(o->key)) : -1;
  for (size_t c = 0; c < t->ncols; c++) {
    if (key >= 0 ? (int)c != key : !t->cols[c].primary_key)
      continue;
    bool present = false;
    for (size_t i = 0; i < im->nmap; i++)
      present = present || im->map[i] == (int)c;
    if (!present) {
      add_error(im, FASTEPOST_EINVALID, 1, t->cols[c].name, NULL, 0,
                "update mode needs the key column in the file");
      im->fatal = true;
    }
  }
}

static int conflict_code(const char *sqlstate) {
  if (sqlstate && strncmp(sqlstate, "23", 2) == 0)
    return FASTEPOST_ECONFLICT;
  if (sqlstate && (strncmp(sqlstate, "22", 2) == 0 || strcmp(sqlstate, "21000") == 0))
    return strcmp(sqlstate, "21000") == 0 ? FASTEPOST_ECONFLICT : FASTEPOST_EINVALID;
  return FASTEPOST_EDB;
}

/* Record a row the database refused: its line, column and the server's message. */
static int db_error(importer *im, uint64_t rn, const PGresult *res) {
  uint64_t line = 0;
  if (rn) {
    char n[24];
    snprintf(n, sizeof n, "%llu", (unsigned long long)rn);
    const char *params[1] = {n};
    PGresult *r = NULL;
    int rc = fastepost__query(&r, im->conn, "SELECT line FROM " STAGE " WHERE rn = $1", 1, params,
                              PGRES_TUPLES_OK, "finding a line");
    if (rc)
      return rc;
    line = PQntuples(r) ? strtoull(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
  }
  const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
  const char *column = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
  return add_error(im, conflict_code(sqlstate), line, column ? column : "", NULL, 0, "%s%s%s%s",
                   msg ? msg : "refused by the database", detail ? " (" : "", detail ? detail : "",
                   detail ? ")" : "");
}

static int exec_simple(importer *im, const char *sql) { return fastepost__exec(im->conn, sql, sql); }

/* Try rows lo..hi in a savepoint; on failure split until single rows, which are reported.
 * Rows that pass stay inserted, so later conflicts with them are found too. */
static int diagnose(importer *im, const char *sql, uint64_t lo, uint64_t hi) {
  if (im->rep->nerrors >= im->rep->max_errors) {
    im->rep->complete = 0;
    return FASTEPOST_OK;
  }
  char a[24], b[24];
  snprintf(a, sizeof a, "%llu", (unsigned long long)lo);
  snprintf(b, sizeof b, "%llu", (unsigned long long)hi);
  const char *params[2] = {a, b};
  int rc = exec_simple(im, "SAVEPOINT fastepost_diag");
  if (rc)
    return rc;
  PGresult *r = PQexecParams(im->pg, sql, 2, NULL, params, NULL, NULL, 0);
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    PQclear(r);
    return exec_simple(im, "RELEASE SAVEPOINT fastepost_diag");
  }
  rc = exec_simple(im, "ROLLBACK TO SAVEPOINT fastepost_diag");
  if (!rc)
    rc = exec_simple(im, "RELEASE SAVEPOINT fastepost_diag");
  if (!rc && PQstatus(im->pg) != CONNECTION_OK)
    rc = fastepost__pg_check(im->conn, r, PGRES_COMMAND_OK, "importing");
  if (rc) {
    PQclear(r);
    return rc;
  }
  if (lo == hi) {
    rc = db_error(im, lo, r);
    PQclear(r);
    return rc;
  }
  PQclear(r);
  uint64_t mid = lo + (hi - lo) / 2;
  rc = diagnose(im, sql, lo, mid);
  return rc ? rc : diagnose(im, sql, mid + 1, hi);
}

/* Rows whose conflict key repeats an earlier row of the file, with both lines. */
static int duplicate_keys(importer *im) {
  const fastepost__table *t = im->t;
  int key = im->o->key ? fastepost__table_column(t, im->o->key, strlen(im->o->key)) : -1;
  fastepost__buf keys = FASTEPOST__BUF_INIT, names = FASTEPOST__BUF_INIT, sql = FASTEPOST__BUF_INIT;
  for (size_t i = 0; i < im->nmap; i++) {
    const fastepost__column *c = &t->cols[im->map[i]];
    if (key >= 0 ? im->map[i] != key : !c->primary_key)
      continue;
    fastepost__buf_printf(&keys, "%sc%zu::%s", keys.len ? ", " : "", i + 1, c->cast_type);
    fastepost__buf_printf(&names, "%s%s", names.len ? ", " : "", c->name);
  }
  fastepost__buf_printf(&sql,
                        "SELECT line, first FROM (SELECT line, rn, min(line) OVER w AS first,"
                        " row_number() OVER (w ORDER BY rn) AS k FROM " STAGE " WINDOW w AS"
                        " (PARTITION BY %s)) d WHERE k > 1 ORDER BY rn",
                        fastepost__buf_cstr(&keys));
  PGresult *r = NULL;
  int rc = sql.oom || keys.oom || names.oom
               ? FASTEPOST_ENOMEM
               : fastepost__query(&r, im->conn, fastepost__buf_cstr(&sql), 0, NULL, PGRES_TUPLES_OK,
                                  "looking for repeated keys");
  for (int i = 0; !rc && i < PQntuples(r); i++)
    rc = add_error(im, FASTEPOST_ECONFLICT, strtoull(PQgetvalue(r, i, 0), NULL, 10),
                   fastepost__buf_cstr(&names), NULL, 0,
                   "the key (%s) was already given on line %s of the file: update mode takes each "
                   "key once", fastepost__buf_cstr(&names), PQgetvalue(r, i, 1));
  PQclear(r);
  fastepost__buf_free(&keys);
  fastepost__buf_free(&names);
  fastepost__buf_free(&sql);
  return rc;
}

static int insert_rows(importer *im) {
  fastepost__buf sql = FASTEPOST__BUF_INIT;
  bool count_updates = im->o->on_conflict == FASTEPOST_CONFLICT_UPDATE;
  int rc = build_insert(im, &sql, false, count_updates);
  if (rc) {
    fastepost__buf_free(&sql);
    return rc;
  }
  if ((rc = exec_simple(im, "SAVEPOINT fastepost_bulk"))) {
    fastepost__buf_free(&sql);
    return rc;
  }
  PGresult *r = PQexec(im->pg, fastepost__buf_cstr(&sql));
  fastepost__buf_free(&sql);
  ExecStatusType st = PQresultStatus(r);
  if (st == PGRES_TUPLES_OK && count_updates) {
    im->rep->inserted = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    im->rep->updated = strtoull(PQgetvalue(r, 0, 1), NULL, 10) - im->rep->inserted;
  } else if (st == PGRES_COMMAND_OK) {
    im->rep->inserted = strtoull(PQcmdTuples(r), NULL, 10);
  }
  im->rep->skipped = im->staged - im->rep->inserted - im->rep->updated;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    PQclear(r);
    return exec_simple(im, "RELEASE SAVEPOINT fastepost_bulk");
  }
  /* The database refused something: find which rows, with their lines. */
  if (PQstatus(im->pg) != CONNECTION_OK) {
    rc = fastepost__pg_check(im->conn, r, PGRES_COMMAND_OK, "importing");
    PQclear(r);
    return rc;
  }
  rc = exec_simple(im, "ROLLBACK TO SAVEPOINT fastepost_bulk");
  if (!rc)
    rc = exec_simple(im, "CREATE INDEX ON " STAGE " (rn)");
  if (!rc)
    rc = exec_simple(im, "ANALYZE " STAGE);
  fastepost__buf ranged = FASTEPOST__BUF_INIT;
  if (!rc)
    rc = build_insert(im, &ranged, true, false);
  uint64_t before = im->rep->error_total;
  for (uint64_t lo = 1; !rc && lo <= im->staged && im->rep->nerrors < im->rep->max_errors;
       lo += DIAG_CHUNK) {
    uint64_t hi = lo + DIAG_CHUNK - 1 < im->staged ? lo + DIAG_CHUNK - 1 : im->staged;
    rc = diagnose(im, fastepost__buf_cstr(&ranged), lo, hi);
    if (!rc && im->rep->nerrors >= im->rep->max_errors && hi < im->staged)
      im->rep->complete = 0;
  }
  fastepost__buf_free(&ranged);
  /* In update mode a key given twice in the file fails the one statement ("cannot affect row a
   * second time") but passes row by row: name those rows. */
  const char *sqlstate = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  if (!rc && im->rep->error_total == before && sqlstate && strcmp(sqlstate, "21000") == 0)
    rc = duplicate_keys(im);
  /* No single row to blame (a statement-level failure): report the statement's error. */
  if (!rc && im->rep->error_total == before)
    rc = db_error(im, 0, r);
  PQclear(r);
  return rc;
}

/* Keep the id sequence ahead of explicit ids from the file, so later inserts do not collide. */
static int advance_sequences(importer *im) {
  const fastepost__table *t = im->t;
  for (size_t i = 0; i < im->nmap; i++) {
    const fastepost__column *c = &t->cols[im->map[i]];
    if (c->base_oid != FASTEPOST__INT2OID && c->base_oid != FASTEPOST__INT4OID &&
        c->base_oid != FASTEPOST__INT8OID)
      continue;
    fastepost__buf sql = FASTEPOST__BUF_INIT;
    fastepost__buf_printf(&sql,
                          "SELECT setval(s.seq, m.v) FROM (SELECT pg_get_serial_sequence($1, $2)::regclass"
                          " AS seq) s, (SELECT max(%s)::bigint AS v FROM %s) m WHERE s.seq IS NOT NULL"
                          " AND m.v IS NOT NULL AND m.v > coalesce(pg_sequence_last_value(s.seq), 0)",
                          c->quoted, t->quoted);
    const char *params[2] = {t->quoted, c->name};
    PGresult *r = NULL;
    int rc = sql.oom ? FASTEPOST_ENOMEM
                     : fastepost__query(&r, im->conn, fastepost__buf_cstr(&sql), 2, params,
                                        PGRES_TUPLES_OK, "advancing the id sequence");
    fastepost__buf_free(&sql);
    PQclear(r);
    if (rc)
      return rc;
  }
  return FASTEPOST_OK;
}

/* ---- driver --------------------------------------------------------------------------------- */

static int report_progress(importer *im) {
  const fastepost_import_options *o = im->o;
  if (o->progress && o->progress(im->rep->rows_read, im->rep->bytes, o->progress_payload))
    return fastepost__error_set(FASTEPOST_ECANCELED, "the import was stopped by its progress callback");
  return FASTEPOST_OK;
}

static int read_and_stage(importer *im, fastepost_read_cb read_cb, void *payload) {
  struct csv_parser p;
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL))
    return fastepost__error_oom();
  csv_set_space_func(&p, space_never);
  csv_set_blk_size(&p, 64 * 1024); /* linear growth: large steps for large fields */
  char *buf = malloc(READ_CHUNK + 4);
  if (!buf) {
    csv_free(&p);
    return fastepost__error_oom();
  }
  size_t have = 0;
  bool first = true, eof = false;
  int rc = FASTEPOST_OK;
  while (!rc && !im->fatal && !eof) {
    long long n = read_cb(buf + have, READ_CHUNK + 4 - have, payload);
    if (n < 0) {
      rc = fastepost_error_last()->code ? (int)n : fastepost__error_set((int)n, "reading the input failed");
      break;
    }
    eof = n == 0;
    have += (size_t)n;
    im->rep->bytes += (uint64_t)n;
    char *data = buf;
    size_t len = have;
    if (first) {
      if (len < 3 && !eof)
        continue; /* need three bytes to see a BOM */
      first = false;
      if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
        im->offset = 3;
      }
    }
    /* Validate only whole characters; an incomplete one at the end waits for the next read. */
    size_t ok = eof ? len : complete_prefix(data, len);
    size_t bad = ok;
    bool valid = fastepost__utf8_valid(data, ok, &bad);
    const char *nul = memchr(data, '\0', valid ? ok : bad);
    if (nul) {
      valid = false;
      bad = (size_t)(nul - data);
    }
    feed(im, &p, data, valid ? ok : bad);
    if (!valid && !im->fatal) {
      add_error(im, FASTEPOST_EPARSE, im->line, "", data + bad, 1,
                "%s at byte offset %llu: the file must be UTF-8 text",
                data[bad] ? "invalid UTF-8" : "a NUL byte", (unsigned long long)im->offset);
      im->fatal = true;
    }
    memmove(buf, data + ok, len - ok);
    have = len - ok;
    if (!rc && !im->fatal && !eof)
      rc = report_progress(im);
  }
  if (!rc && !im->fatal) {
    int r = csv_fini(&p, on_field, on_record, im);
    if (r && !im->fatal) {
      add_error(im, FASTEPOST_EPARSE, im->record_line ? im->record_line : im->line, "", NULL, 0,
                "unterminated quoted value at the end of the file (the file may be truncated)");
      im->fatal = true;
    }
  }
  if (!rc && !im->header_done && !im->status)
    add_error(im, FASTEPOST_EINVALID, 0, "", NULL, 0, "the file is empty: a header line is needed");
  if (!rc && im->status && im->rep->nerrors == 0 && fastepost_error_last()->code == im->status)
    rc = im->status; /* a failure that is not about the data (out of memory ...) */
  free(buf);
  csv_free(&p);
  if (!rc)
    rc = report_progress(im);
  return rc;
}

static fastepost_import_report *new_report(const fastepost_import_options *o) {
  fastepost_import_report *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->complete = 1;
  r->dry_run = o && o->dry_run;
  r->max_errors = o && o->max_errors ? o->max_errors : DEFAULT_MAX_ERRORS;
  return r;
}

static void free_importer(importer *im) {
  fastepost__table_free(im->t);
  fastepost__buf_free(&im->row);
  fastepost__buf_free(&im->out);
  free(im->fstart);
  free(im->flen);
  free(im->fnull);
  free(im->map);
}

static int import(fastepost_import_report **report, fastepost_conn *conn, const char *table,
                  fastepost_read_cb read_cb, void *payload, const fastepost_import_options *opts) {
  fastepost_import_options defaults;
  fastepost_import_options_init(&defaults);
  const fastepost_import_options *o = opts ? opts : &defaults;
  if (!report)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_import_csv: report is NULL");
  if (!(*report = new_report(o)))
    return fastepost__error_oom();
  if ((int)o->on_conflict < FASTEPOST_CONFLICT_ERROR || o->on_conflict > FASTEPOST_CONFLICT_UPDATE)
    return fastepost__error_set(FASTEPOST_EINVALID, "unknown conflict mode %d", (int)o->on_conflict);
  importer im = {0};
  im.conn = conn;
  im.o = o;
  im.max_field = o->max_field ? o->max_field : FASTEPOST_IMPORT_DEFAULT_MAX_FIELD;
  im.rep = *report;
  im.line = 1;
  if (!(im.pg = fastepost__conn_pg(conn)))
    return fastepost_error_last()->code;
  int rc = fastepost__table_resolve(&im.t, conn, table, o->schemas);
  if (!rc && im.t->relkind != 'r' && im.t->relkind != 'p')
    rc = fastepost__error_set(FASTEPOST_EINVALID, "%s.%s is not a table: cannot import into it",
                              im.t->schema, im.t->name);
  if (!rc)
    rc = check_conflict_key(&im);
  if (!rc)
    rc = fastepost__tx_begin(conn);
  if (rc) {
    free_importer(&im);
    return rc;
  }
  rc = read_and_stage(&im, read_cb, payload);
  if (!rc && im.header_done && !im.status)
    check_key_in_header(&im);
  int end = end_copy(&im, !rc && !im.status);
  if (!rc)
    rc = end;
  if (!rc && !im.status)
    rc = insert_rows(&im);
  if (!rc && !im.status && !o->dry_run)
    rc = advance_sequences(&im);
  if (!rc && !im.status && !o->dry_run) {
    rc = fastepost__tx_commit(conn);
    if (!rc)
      im.rep->written = im.rep->inserted + im.rep->updated;
  } else {
    fastepost__tx_rollback(conn);
  }
  if (!rc && im.status) {
    const fastepost_import_error *e = fastepost_import_report_error(im.rep, 0);
    rc = fastepost__error_set(im.status, "%s.%s: %llu error%s, nothing written; first: line %llu%s%s: %s",
                              im.t->schema, im.t->name, (unsigned long long)im.rep->error_total,
                              im.rep->error_total == 1 ? "" : "s",
                              (unsigned long long)(e ? e->line : 0), e && *e->column ? ", column " : "",
                              e ? e->column : "", e ? e->reason : "");
  }
  if (rc) /* nothing was written, and nothing would have been */
    im.rep->written = im.rep->inserted = im.rep->updated = im.rep->skipped = 0;
  free_importer(&im);
  return rc;
}

static long long fd_read(char *buf, size_t size, void *payload) {
  int fd = *(int *)payload;
  for (;;) {
    ssize_t n = read(fd, buf, size);
    if (n >= 0)
      return n;
    if (errno != EINTR) {
      char eb[FASTEPOST__ERRNO_BUFSIZE];
      return fastepost__error_set(FASTEPOST_EIO, "reading the CSV input: %s",
                                  fastepost__errno_text(errno, eb, sizeof eb));
    }
  }
}

fastepost_status fastepost_import_csv_cb(fastepost_import_report **report, fastepost_conn *conn,
                                         const char *table, fastepost_read_cb read_cb, void *payload,
                                         const fastepost_import_options *opts) {
  if (!read_cb) {
    if (report)
      *report = NULL;
    return fastepost__error_set(FASTEPOST_EINVALID, "read callback is NULL");
  }
  fastepost_error_clear();
  return import(report, conn, table, read_cb, payload, opts);
}

fastepost_status fastepost_import_csv_fd(fastepost_import_report **report, fastepost_conn *conn,
                                         const char *table, int fd,
                                         const fastepost_import_options *opts) {
  if (fd < 0) {
    if (report)
      *report = NULL;
    return fastepost__error_set(FASTEPOST_EINVALID, "invalid file descriptor %d", fd);
  }
  return fastepost_import_csv_cb(report, conn, table, fd_read, &fd, opts);
}

fastepost_status fastepost_import_csv(fastepost_import_report **report, fastepost_conn *conn,
                                      const char *table, const char *path,
                                      const fastepost_import_options *opts) {
  if (report)
    *report = NULL;
  if (!path)
    return fastepost__error_set(FASTEPOST_EINVALID, "path is NULL");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (report)
      *report = new_report(opts);
    char eb[FASTEPOST__ERRNO_BUFSIZE];
    return fastepost__error_set(e == ENOENT ? FASTEPOST_ENOTFOUND : FASTEPOST_EIO, "cannot open %s: %s",
                                path, fastepost__errno_text(e, eb, sizeof eb));
  }
  int rc = fastepost_import_csv_fd(report, conn, table, fd, opts);
  close(fd);
  return rc;
}

/* ---- parse and validate only (fuzzing) ------------------------------------------------------ */

long long fastepost__mem_read(char *buf, size_t size, void *payload) {
  fastepost__mem_reader *m = payload;
  size_t n = m->len - m->pos;
  if (n > size)
    n = size;
  if (n > m->step)
    n = m->step;
  memcpy(buf, m->data + m->pos, n);
  m->pos += n;
  return (long long)n;
}

int fastepost__import_check(fastepost_import_report **report, const fastepost__table *t,
                            const char *data, size_t len, size_t read_step) {
  fastepost_import_options o;
  fastepost_import_options_init(&o);
  if (!(*report = new_report(&o)))
    return fastepost__error_oom();
  importer im = {0};
  im.max_field = FASTEPOST_IMPORT_DEFAULT_MAX_FIELD;
  im.t = (fastepost__table *)(uintptr_t)t; /* borrowed: not freed below */
  im.o = &o;
  im.rep = *report;
  im.line = 1;
  fastepost__mem_reader m = {data, len, 0, read_step ? read_step : SIZE_MAX};
  int rc = read_and_stage(&im, fastepost__mem_read, &m);
  im.t = NULL;
  free_importer(&im);
  return rc ? rc : im.status;
}
