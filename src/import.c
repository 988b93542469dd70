/* SPDX-License-Identifier: MIT */
/* Import: read callback -> CSV parser and validator (import/read.c) -> COPY FROM STDIN into a
 * staging table -> INSERT ... SELECT ... ON CONFLICT per mode (import/load.c) -> commit or roll
 * back, with a report (import/report.c). This file: the driver and the entry points. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import/importer.h"

static void free_importer(importer *im) {
  fastepost__table_free(im->t);
  fastepost__buf_free(&im->row);
  fastepost__buf_free(&im->out);
  fastepost__buf_free(&im->norm);
  free(im->fstart);
  free(im->flen);
  free(im->fnull);
  free(im->map);
}

static int import(fastepost_import_report **report, fastepost_conn *conn, const char *table,
                  fastepost_import_read_cb read_cb, void *payload, const fastepost_import_options *opts) {
  const fastepost_import_options *o = opts ? opts : fastepost__import_defaults();
  if (!report)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_import_csv: report is NULL");
  if (!(*report = fastepost__import_new_report(o)))
    return fastepost__error_oom();
  importer im = {0};
  im.conn = conn;
  im.o = o;
  im.max_field = o->max_field ? o->max_field : FASTEPOST_IMPORT_DEFAULT_MAX_FIELD;
  im.rep = *report;
  im.line = 1;
  if (!(im.pg = fastepost__conn_pg(conn)))
    return fastepost_error_last()->code;
  int rc = fastepost__table_resolve(&im.t, conn, table, (const char *const *)o->schemas);
  if (!rc && im.t->relkind != 'r' && im.t->relkind != 'p')
    rc = fastepost__error_set(FASTEPOST_EINVALID, "%s.%s is not a table: cannot import into it",
                              im.t->schema, im.t->name);
  if (!rc)
    rc = fastepost__import_check_conflict_key(&im);
  if (!rc)
    rc = fastepost__tx_begin(conn);
  if (rc) {
    free_importer(&im);
    return rc;
  }
  rc = fastepost__import_read_and_stage(&im, read_cb, payload);
  if (!rc && im.header_done && !im.status)
    fastepost__import_check_key_in_header(&im);
  int end = fastepost__import_end_copy(&im, !rc && !im.status);
  if (!rc)
    rc = end;
  if (!rc && !im.status)
    rc = fastepost__import_insert_rows(&im);
  if (!rc && !im.status && !o->dry_run)
    rc = fastepost__import_advance_sequences(&im);
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
                                         const char *table, fastepost_import_read_cb read_cb, void *payload,
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
      *report = fastepost__import_new_report(opts);
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
  const fastepost_import_options *o = fastepost__import_defaults();
  if (!(*report = fastepost__import_new_report(o)))
    return fastepost__error_oom();
  importer im = {0};
  im.max_field = FASTEPOST_IMPORT_DEFAULT_MAX_FIELD;
  im.t = (fastepost__table *)(uintptr_t)t; /* borrowed: not freed below */
  im.o = o;
  im.rep = *report;
  im.line = 1;
  fastepost__mem_reader m = {data, len, 0, read_step ? read_step : SIZE_MAX};
  int rc = fastepost__import_read_and_stage(&im, fastepost__mem_read, &m);
  im.t = NULL;
  free_importer(&im);
  return rc ? rc : im.status;
}

