/* SPDX-License-Identifier: MIT */
/* Export, the output side: buffered delivery to the write callback, COPY OUT, and the JSON
 * framing of binary COPY rows. CSV passes through: COPY's bytes are copied once into the output
 * buffer and handed over per 64 KiB. */
#include <string.h>

#include "export/export_priv.h"

/* ---- output buffering ----------------------------------------------------------------------- */

static int deliver(fastepost__export_writer *w, const char *data, size_t len) {
  int rc = w->cb(data, len, w->payload);
  if (rc)
    return rc < 0 ? rc : fastepost__error_set(FASTEPOST_ECANCELED, "the export was stopped by its writer");
  w->bytes += len;
  return FASTEPOST_OK;
}

int fastepost__export_progress(fastepost__export_writer *w) {
  if (w->opts->progress && w->opts->progress(w->rows, w->bytes, w->opts->progress_payload))
    return fastepost__error_set(FASTEPOST_ECANCELED, "the export was stopped by its progress callback");
  return FASTEPOST_OK;
}

int fastepost__export_flush(fastepost__export_writer *w) {
  if (!w->len)
    return FASTEPOST_OK;
  int rc = deliver(w, w->buf, w->len);
  w->len = 0;
  return rc ? rc : fastepost__export_progress(w);
}

int fastepost__export_put(fastepost__export_writer *w, const char *data, size_t len) {
  if (w->len + len > FASTEPOST__EXPORT_OUT_CAP) {
    int rc = fastepost__export_flush(w);
    if (rc)
      return rc;
    if (len >= FASTEPOST__EXPORT_OUT_CAP) /* a huge row: hand it over directly rather than copy it */
      return deliver(w, data, len);
  }
  memcpy(w->buf + w->len, data, len);
  w->len += len;
  return FASTEPOST_OK;
}

/* ---- COPY OUT ------------------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One binary COPY message: [header] then one tuple of one json field, or the trailer. */
static int json_message(fastepost__export_writer *w, const char *data, size_t len, bool *header_seen) {
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
  if (w->opts->format == FASTEPOST_EXPORT_FORMAT_JSON)
    rc = fastepost__export_put(w, w->rows ? ",\n" : "[\n", 2);
  else
    rc = FASTEPOST_OK;
  if (!rc)
    rc = fastepost__export_put(w, data + i, flen);
  if (!rc && w->opts->format == FASTEPOST_EXPORT_FORMAT_NDJSON)
    rc = fastepost__export_put(w, "\n", 1);
  w->rows++;
  return rc;
}

int fastepost__export_copy_out(fastepost__export_writer *w, fastepost_conn *conn, PGconn *pg, const char *sql) {
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
      if (w->opts->format == FASTEPOST_EXPORT_FORMAT_CSV) {
        rc = fastepost__export_put(w, data, (size_t)n);
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
  if (w->opts->format == FASTEPOST_EXPORT_FORMAT_JSON)
    rc = fastepost__export_put(w, w->rows ? "\n]\n" : "[]\n", 3);
  if (!rc)
    rc = fastepost__export_flush(w);
  return rc ? rc : fastepost__export_progress(w);
}

