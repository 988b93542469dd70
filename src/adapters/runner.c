/* SPDX-License-Identifier: MIT */
/*
 * The sync core's runner for every adapter (adapter.h): one record, or a batch of records in
 * one transaction with a savepoint each, and the generic batch result (fastepost_event_batch,
 * fastepost/events.h) that every adapter hands out.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/adapter.h"
#include "internal.h"

/* ---- the processing clock -------------------------------------------------------------------- */

int64_t fastepost__clock_now(const fastepost__clock *c) {
  return c && c->fn ? c->fn(c->payload) : FASTEPOST__SYNC_SERVER_CLOCK;
}

int fastepost__clock_set(fastepost__clock *c, fastepost_clock_fn fn, void *payload, const char *who) {
  if (!c)
    return fastepost__error_set(FASTEPOST_EINVALID, "%s: opts is NULL", who);
  c->fn = fn;
  c->payload = payload;
  return FASTEPOST_OK;
}

/* ---- records ---------------------------------------------------------------------------------- */

int fastepost__records_alloc(fastepost__records *out, size_t n, const char *source) {
  out->count = 0;
  out->items = calloc(n ? n : 1, sizeof *out->items);
  if (!out->items)
    return fastepost__error_oom();
  for (size_t i = 0; i < n; i++)
    fastepost__sync_record_init(&out->items[i], source);
  out->count = n;
  return FASTEPOST_OK;
}

void fastepost__records_free(fastepost__records *recs) {
  for (size_t i = 0; recs->items && i < recs->count; i++)
    fastepost__sync_record_clear(&recs->items[i]);
  free(recs->items);
  recs->items = NULL;
  recs->count = 0;
}

/* The message of a refused record: at most 511 bytes, like the other texts of an event. */
int fastepost__record_failv(fastepost__sync_record *rec, int code, const char *fmt, va_list ap) {
  char text[512];
  vsnprintf(text, sizeof text, fmt, ap);
  free(rec->failure_message);
  rec->failure_message = fastepost__strdup(text);
  rec->failure = rec->failure_message ? code : FASTEPOST_ENOMEM;
  return rec->failure;
}

int fastepost__record_fail(fastepost__sync_record *rec, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = fastepost__record_failv(rec, code, fmt, ap);
  va_end(ap);
  return rc;
}

int fastepost__record_ignore(fastepost__sync_record *rec, const char *fmt, ...) {
  char text[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  free(rec->ignore_reason);
  rec->ignore_reason = fastepost__strdup(text);
  return rec->ignore_reason ? FASTEPOST_OK : fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
}

int fastepost__record_unreadable(fastepost__sync_record *rec, const char *source, const char *event_type, int code,
                                 const char *message) {
  fastepost__sync_record_clear(rec);
  fastepost__sync_record_init(rec, source);
  if (event_type && *event_type && !(rec->event_type = fastepost__strdup(event_type)))
    return fastepost__record_fail(rec, FASTEPOST_ENOMEM, "out of memory");
  return fastepost__record_fail(rec, code, "%s", message) == FASTEPOST_ENOMEM ? FASTEPOST_ENOMEM : FASTEPOST_OK;
}

/* ---- one record ------------------------------------------------------------------------------- */

int fastepost__adapter_process(fastepost_event_result *res, fastepost_conn *conn, fastepost__sync_record *rec,
                               const fastepost__sync_ctx *ctx) {
  int rc = fastepost__sync_process(res, conn, rec, ctx);
  if (rc == FASTEPOST_OK)
    fastepost_error_clear();
  else
    fastepost__error_set(rc, "%s", res->error ? res->error : fastepost_strerror(rc));
  return rc;
}

/* ---- the batch result ------------------------------------------------------------------------- */

struct fastepost_event_batch {
  fastepost_status status;
  size_t count, failed;
  fastepost_event_result **results;
  char **types;
  char **external_ids;
  int64_t *object_ids;
};

void fastepost_event_batch_free(fastepost_event_batch *b) {
  if (!b)
    return;
  for (size_t i = 0; i < b->count; i++) {
    fastepost_event_result_free(b->results[i]);
    free(b->types[i]);
    free(b->external_ids[i]);
  }
  free(b->results);
  free(b->types);
  free(b->external_ids);
  free(b->object_ids);
  free(b);
}

fastepost_status fastepost_event_batch_status(const fastepost_event_batch *b) {
  return b ? b->status : FASTEPOST_EINVALID;
}
int fastepost_event_batch_http_status(const fastepost_event_batch *b) {
  return fastepost_status_http(fastepost_event_batch_status(b));
}
size_t fastepost_event_batch_count(const fastepost_event_batch *b) { return b ? b->count : 0; }
size_t fastepost_event_batch_failed(const fastepost_event_batch *b) { return b ? b->failed : 0; }
const fastepost_event_result *fastepost_event_batch_get(const fastepost_event_batch *b, size_t i) {
  return b && i < b->count ? b->results[i] : NULL;
}
const char *fastepost_event_batch_event_type(const fastepost_event_batch *b, size_t i) {
  return b && i < b->count && b->types[i] ? b->types[i] : "";
}
const char *fastepost_event_batch_external_id(const fastepost_event_batch *b, size_t i) {
  return b && i < b->count && b->external_ids[i] ? b->external_ids[i] : "";
}
int64_t fastepost_event_batch_object_id(const fastepost_event_batch *b, size_t i) {
  return b && i < b->count ? b->object_ids[i] : 0;
}

int fastepost__event_batch_new(fastepost_event_batch **out, size_t n) {
  *out = NULL;
  fastepost_event_batch *b = calloc(1, sizeof *b);
  if (b) {
    b->results = calloc(n ? n : 1, sizeof *b->results);
    b->types = calloc(n ? n : 1, sizeof *b->types);
    b->external_ids = calloc(n ? n : 1, sizeof *b->external_ids);
    b->object_ids = calloc(n ? n : 1, sizeof *b->object_ids);
  }
  if (!b || !b->results || !b->types || !b->external_ids || !b->object_ids) {
    fastepost_event_batch_free(b);
    return fastepost__error_oom();
  }
  b->count = n;
  for (size_t i = 0; i < n; i++)
    if (!(b->results[i] = fastepost__result_new())) {
      fastepost_event_batch_free(b);
      return FASTEPOST_ENOMEM;
    }
  *out = b;
  return FASTEPOST_OK;
}

fastepost_event_result *fastepost__event_batch_result(fastepost_event_batch *b, size_t i) {
  return b && i < b->count ? b->results[i] : NULL;
}

int fastepost__event_batch_describe(fastepost_event_batch *b, size_t i, const char *event_type,
                                    const char *external_id) {
  if (!b || i >= b->count)
    return FASTEPOST_OK;
  if (event_type && !b->types[i] && !(b->types[i] = fastepost__strdup(event_type)))
    return FASTEPOST_ENOMEM;
  if (external_id && *external_id && !b->external_ids[i] && !(b->external_ids[i] = fastepost__strdup(external_id)))
    return FASTEPOST_ENOMEM;
  /* "<kind>:<id>": the record id is the number after the last colon. */
  const char *colon = external_id ? strrchr(external_id, ':') : NULL;
  if (colon && colon[1]) {
    char *end = NULL;
    long long id = strtoll(colon + 1, &end, 10);
    if (end && !*end && id > 0)
      b->object_ids[i] = id;
  }
  return FASTEPOST_OK;
}

size_t fastepost__event_batch_unlogged(const fastepost_event_batch *b, const fastepost_event_result **first) {
  size_t n = 0;
  if (first)
    *first = NULL;
  for (size_t i = 0; b && i < b->count; i++) {
    const fastepost_event_result *r = b->results[i];
    if (r->code != FASTEPOST_OK && r->event_id == 0 && !n++ && first)
      *first = r;
  }
  return n;
}

int fastepost__event_batch_require_logged(const fastepost_event_batch *b, const char *what) {
  const fastepost_event_result *lost = NULL;
  if (!fastepost__event_batch_unlogged(b, &lost))
    return FASTEPOST_OK;
  return fastepost__error_set(lost->code, "an event of the %s failed and was not logged: %s", what,
                              fastepost_event_result_error(lost));
}

int fastepost__event_batch_finish(fastepost_event_batch **out, fastepost_event_batch *b, int rc) {
  if (b) {
    b->status = rc;
    b->failed = 0;
    for (size_t i = 0; i < b->count; i++)
      b->failed += b->results[i]->code != FASTEPOST_OK;
  }
  if (out)
    *out = b;
  else
    fastepost_event_batch_free(b);
  return rc;
}

/* ---- spooling: when a delivery met no database ------------------------------------------------ */

/* Failures that say the database could not take the delivery at all (unreachable, shutting
 * down, read-only), as opposed to one that refused this delivery. */
static bool unreachable_code(int rc) { return rc == FASTEPOST_ECONN || rc == FASTEPOST_EREADONLY; }

bool fastepost__adapter_unreachable(int rc, const fastepost_event_result *const *res, size_t n) {
  /* The core reconnects once to log a failure for retry: spool only what reached nothing. */
  for (size_t i = 0; i < n; i++)
    if (res[i] && res[i]->event_id > 0)
      return false;
  if (unreachable_code(rc))
    return true;
  /* A read-only server takes the batch's BEGIN and COMMIT but refuses every write in it, each
   * event's failure log too: the batch "succeeds" with its events failed (those the adapter
   * refused with their own code). Nothing was written, so the whole request may be spooled. */
  bool refused = false;
  for (size_t i = 0; i < n; i++)
    refused = refused || (res[i] && unreachable_code(res[i]->code));
  return rc == FASTEPOST_OK && refused;
}

/* ---- several records in one transaction ------------------------------------------------------- */

/* recs[0..n) into results[0..n) in one transaction (fastepost__adapter_run_batch). */
static int run_results(fastepost_event_result **results, fastepost_conn *conn, fastepost__sync_record *recs,
                       const bool *skip, size_t n, const fastepost__sync_ctx *ctx) {
  /* The results the core fills: NULL for a skipped record, which it then passes over. */
  fastepost_event_result **accepted = results;
  if (skip) {
    if (!(accepted = calloc(n ? n : 1, sizeof *accepted)))
      return fastepost__error_oom();
    for (size_t i = 0; i < n; i++)
      accepted[i] = skip[i] ? NULL : results[i];
  }
  fastepost__sync_ctx bctx = *ctx;
  bctx.in_batch = true;
  int rc = fastepost__sync_batch_begin(conn);
  bool began = rc == FASTEPOST_OK;
  if (rc == FASTEPOST_OK)
    rc = fastepost__sync_process_many(accepted, conn, recs, n, &bctx);
  if (rc == FASTEPOST_OK)
    rc = fastepost__sync_batch_commit(conn);
  if (rc == FASTEPOST_OK) {
    if (skip)
      free(accepted);
    fastepost_error_clear();
    return FASTEPOST_OK;
  }
  /* Nothing of the batch was applied: every processed result says so. */
  char message[1024];
  snprintf(message, sizeof message, "batch not committed: %s", fastepost_error_last()->message);
  if (began) /* never the caller's own transaction */
    fastepost__tx_rollback(conn);
  for (size_t i = 0; i < n; i++) {
    fastepost_event_result *r = accepted[i];
    if (!r)
      continue;
    r->outcome = FASTEPOST_OUTCOME_NONE;
    r->event_id = r->customer_id = r->remark_id = r->task_id = 0;
    fastepost__error_set(rc, "%s", message);
    fastepost__result_fail(r, rc);
  }
  if (skip)
    free(accepted);
  return fastepost__error_set(rc, "%s", message);
}

int fastepost__adapter_run_batch(fastepost_event_batch *b, fastepost_conn *conn, fastepost__sync_record *recs,
                                 const bool *skip, size_t n, const fastepost__sync_ctx *ctx) {
  return run_results(b->results, conn, recs, skip, n, ctx);
}

int fastepost__adapter_run_batch_range(fastepost_event_batch *b, size_t from, size_t n, fastepost_conn *conn,
                                       fastepost__sync_record *recs, const fastepost__sync_ctx *ctx) {
  if (from > b->count || n > b->count - from)
    return fastepost__error_set(FASTEPOST_EINVALID, "records %zu..%zu of a batch of %zu", from, from + n, b->count);
  return run_results(b->results + from, conn, recs + from, NULL, n, ctx);
}
