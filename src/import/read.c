/* SPDX-License-Identifier: MIT */
/* Import, the reading side: read callback -> CSV parser (libcsv, strict, spaces kept) with our
 * own line tracking -> header mapping and row validation (types from the catalog, model rules)
 * -> rows staged for COPY (import/load.c sends them). */
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import/importer.h"
#include "validate.h"

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
      fastepost__import_add_error(im, FASTEPOST_EINVALID, line, "", NULL, 0, "empty column name in the header (field %zu)",
                i + 1);
    else if (c < 0)
      fastepost__import_add_error(im, FASTEPOST_EINVALID, line, "", name, len,
                "unknown column: table %s.%s has no such column", t->schema, t->name);
    else if (seen[c])
      fastepost__import_add_error(im, FASTEPOST_EINVALID, line, t->cols[c].name, name, len,
                "column appears twice in the header");
    else if (t->cols[c].generated)
      fastepost__import_add_error(im, FASTEPOST_EINVALID, line, t->cols[c].name, NULL, 0,
                "generated column: its values are computed and cannot be imported");
    if (c >= 0)
      seen[c] = true;
  }
  for (size_t c = 0; c < t->ncols; c++)
    if (!seen[c] && t->cols[c].not_null && !t->cols[c].has_default && !t->cols[c].generated)
      fastepost__import_add_error(im, FASTEPOST_EINVALID, line, t->cols[c].name, NULL, 0,
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


static int data_row(importer *im) {
  const fastepost__table *t = im->t;
  uint64_t line = im->record_line;
  im->rep->rows_read++;
  if (im->nfields != im->nmap) {
    fastepost__import_add_error(im, FASTEPOST_EPARSE, line, "", NULL, 0, "expected %zu fields, found %zu", im->nmap,
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
      int rc = fastepost__import_add_error(im, FASTEPOST_EINVALID, line, col->name, s, len, "%s (%s)", why, col->type);
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
    const char *s = im->row.data ? im->row.data + im->fstart[i] : "";
    /* Stage the core's normal form (an e-mail lower-cased, a phone's spaces collapsed), so an
     * imported customer is found by the same match as a synced one (src/normalize.h). */
    fastepost__buf *norm = &im->norm;
    fastepost__buf_clear(norm);
    if (!im->fnull[i] && fastepost__model_normalize(norm, t->name, t->cols[im->map[i]].name, s, im->flen[i])) {
      if (norm->oom)
        b->oom = true;
      put_csv_value(b, norm->len ? fastepost__buf_cstr(norm) : "", norm->len, false);
    } else {
      put_csv_value(b, s, im->flen[i], im->fnull[i]);
    }
  }
  fastepost__buf_putc(b, '\n');
  return b->len >= COPY_FLUSH ? fastepost__import_flush_copy(im) : (b->oom ? FASTEPOST_ENOMEM : FASTEPOST_OK);
}


/* A field over the limit stops the import: its bytes are never all held in memory (libcsv
 * buffers a field whole, so the check runs while it grows, see feed()). */
static void field_too_big(importer *im, size_t field, size_t len, bool at_least) {
  const char *column = im->header_done && field < im->nmap ? im->t->cols[im->map[field]].name : "";
  fastepost__import_add_error(im, FASTEPOST_ETOOBIG, im->record_line ? im->record_line : im->line, column, NULL, 0,
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
        rc = fastepost__import_start_copy(im);
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
      fastepost__import_add_error(im, FASTEPOST_EPARSE, im->line, "", NULL, 0,
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


static int report_progress(importer *im) {
  const fastepost_import_options *o = im->o;
  if (o->progress && o->progress(im->rep->rows_read, im->rep->bytes, o->progress_payload))
    return fastepost__error_set(FASTEPOST_ECANCELED, "the import was stopped by its progress callback");
  return FASTEPOST_OK;
}


int fastepost__import_read_and_stage(importer *im, fastepost_import_read_cb read_cb, void *payload) {
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
      fastepost__import_add_error(im, FASTEPOST_EPARSE, im->line, "", data + bad, 1,
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
      fastepost__import_add_error(im, FASTEPOST_EPARSE, im->record_line ? im->record_line : im->line, "", NULL, 0,
                "unterminated quoted value at the end of the file (the file may be truncated)");
      im->fatal = true;
    }
  }
  if (!rc && !im->header_done && !im->status)
    fastepost__import_add_error(im, FASTEPOST_EINVALID, 0, "", NULL, 0, "the file is empty: a header line is needed");
  if (!rc && im->status && im->rep->nerrors == 0 && fastepost_error_last()->code == im->status)
    rc = im->status; /* a failure that is not about the data (out of memory ...) */
  free(buf);
  csv_free(&p);
  if (!rc)
    rc = report_progress(im);
  return rc;
}

