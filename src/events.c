/* SPDX-License-Identifier: MIT */
/* The event log (listing) and the retry queue (see fastepost/events.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/adapter.h"
#include "adapters/webhook_config.h"
#include "internal.h"
#include "sync.h"
#include "util/strv.h"
#include "util/time.h"

/* ---- listing ------------------------------------------------------------------------------- */

#define EVENT_STRINGS 6

FASTEPOST__ROW_LIST(fastepost_event_list, fastepost_event, EVENT_STRINGS)

/* One statement per combination of filters, each matching one index of migration 4 exactly
 * (source, status, or both, then created_at DESC, id DESC), so that the newest rows come straight
 * off the index and a filter that matches nothing costs one index probe. A single statement
 * with "$1 IS NULL OR source = $1" would leave the choice to a plan that cannot know which
 * filters are set. */
/* A timestamp column (UTC without a time zone) as microseconds since the epoch, exactly. */
#define US_OF(col) "(extract(epoch FROM " col ")::numeric * 1000000)::bigint"
#define SQL_LIST_HEAD                                                                       \
  "SELECT id, source, event_type, status, coalesce(outcome, ''), coalesce(external_id, ''), " \
  "coalesce(error_message, ''), attempts, coalesce(customer_id, 0), "                        \
  US_OF("created_at") ", coalesce(" US_OF("processed_at") ", 0), "                            \
  "coalesce(" US_OF("next_attempt_at") ", 0) FROM integration_events "
#define SQL_LIST_TAIL " ORDER BY created_at DESC, id DESC LIMIT $3::int"
/* Indexed by (source set) + 2 * (status set). $1 and $2 are always passed; num_nulls() gives an
 * unused one its type without touching the plan. */
static const char *const SQL_LIST[4] = {
    SQL_LIST_HEAD "WHERE num_nulls($1::text, $2::text) >= 0" SQL_LIST_TAIL,
    SQL_LIST_HEAD "WHERE source = $1::text AND num_nulls($2::text) >= 0" SQL_LIST_TAIL,
    SQL_LIST_HEAD "WHERE status = $2::text AND num_nulls($1::text) >= 0" SQL_LIST_TAIL,
    SQL_LIST_HEAD "WHERE source = $1::text AND status = $2::text" SQL_LIST_TAIL,
};

const char *fastepost__events_list_sql(bool source, bool status) {
  return SQL_LIST[(source ? 1 : 0) + (status ? 2 : 0)];
}

fastepost_status fastepost_events_list(fastepost_event_list **out, fastepost_conn *conn, const char *source,
                                       const char *status, size_t limit) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_events_list: out is NULL");
  *out = NULL;
  if (limit == 0)
    limit = FASTEPOST_EVENTS_DEFAULT_LIMIT;
  if (limit > FASTEPOST_EVENTS_MAX_LIMIT)
    return fastepost__error_set(FASTEPOST_EINVALID, "the limit must be at most %d rows, not %zu",
                                FASTEPOST_EVENTS_MAX_LIMIT, limit);
  static const char *const statuses[] = {"pending", "success", "error", "dead"};
  bool known = !status || !*status;
  for (size_t i = 0; !known && i < 4; i++)
    known = strcmp(status, statuses[i]) == 0;
  if (!known)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "unknown status \"%.32s\": expected pending, success, error or dead", status);
  char lim[16];
  snprintf(lim, sizeof lim, "%zu", limit);
  const char *params[] = {source && *source ? source : NULL, status && *status ? status : NULL, lim};
  PGresult *res = NULL;
  int rc = fastepost__query(&res, conn, fastepost__events_list_sql(params[0] != NULL, params[1] != NULL), 3, params,
                            PGRES_TUPLES_OK, "listing events");
  if (rc)
    return rc;
  size_t n = (size_t)PQntuples(res);
  fastepost_event_list *list = calloc(1, sizeof *list);
  if (list && n) {
    list->rows = calloc(n, sizeof *list->rows);
    list->strings = calloc(n * EVENT_STRINGS, sizeof *list->strings);
  }
  if (!list || (n && (!list->rows || !list->strings))) {
    PQclear(res);
    fastepost_event_list_free(list);
    return fastepost__error_oom();
  }
  static const int string_cols[EVENT_STRINGS] = {1, 2, 3, 4, 5, 6};
  for (size_t i = 0; i < n; i++) {
    char **s = &list->strings[i * EVENT_STRINGS];
    list->count = i + 1; /* so that a failure below frees what was copied */
    for (int k = 0; k < EVENT_STRINGS; k++)
      if (!(s[k] = fastepost__strdup(PQgetvalue(res, (int)i, string_cols[k])))) {
        PQclear(res);
        fastepost_event_list_free(list);
        return FASTEPOST_ENOMEM;
      }
    fastepost_event *e = &list->rows[i];
    e->id = atoll(PQgetvalue(res, (int)i, 0));
    e->source = s[0];
    e->event_type = s[1];
    e->status = s[2];
    e->outcome = s[3];
    e->external_id = s[4];
    e->error_message = s[5];
    e->attempts = strtoull(PQgetvalue(res, (int)i, 7), NULL, 10);
    e->customer_id = atoll(PQgetvalue(res, (int)i, 8));
    e->created_at_us = atoll(PQgetvalue(res, (int)i, 9));
    e->processed_at_us = atoll(PQgetvalue(res, (int)i, 10));
    e->next_attempt_at_us = atoll(PQgetvalue(res, (int)i, 11));
  }
  PQclear(res);
  *out = list;
  return FASTEPOST_OK;
}

/* ---- retries ------------------------------------------------------------------------------- */

/*
 * Claim the next due event: move its next_attempt_at a lease ahead, in one autocommitted
 * statement. FOR UPDATE SKIP LOCKED makes concurrent runs (two cron jobs, two hosts) pass over
 * a row another run is claiming, and once that claim commits the row is no longer due: each
 * event is processed by exactly one run. Processing then writes the row's real next state (done,
 * failed with a new backoff, dead); if the run dies in between, the event is due again when the
 * lease ends. One event per claim, so that no claim can expire while its run is still busy with
 * earlier events.
 *
 * The due check runs on the clock the event rows were written with: the server's
 * (statement_timestamp() in UTC, as the sync core writes next_attempt_at, and independent of the
 * session's TimeZone), or the injected one ($2), which then also stamps the reprocessed rows and
 * their next backoff. One clock for all three, so a test can move time forward and see a retry.
 */
#define RETRY_LEASE "interval '10 minutes'"
#define RETRY_NOW "coalesce($2::timestamp, statement_timestamp() AT TIME ZONE 'UTC')"
static const char SQL_CLAIM[] =
    "WITH due AS (SELECT id FROM integration_events WHERE status = 'error' "
    "AND next_attempt_at <= " RETRY_NOW " AND payload IS NOT NULL AND source = ANY($1::text[]) "
    "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "UPDATE integration_events e SET next_attempt_at = " RETRY_NOW " + " RETRY_LEASE " FROM due "
    "WHERE e.id = due.id RETURNING e.id, e.source, e.event_type, e.payload::text";

struct fastepost_retry_options {
  size_t limit;
  fastepost__clock clock; /* unset: the server's clock */
  const fastepost_webhook_config *webhooks; /* borrowed; NULL: none */
};

static const fastepost_retry_options retry_defaults = {.limit = FASTEPOST_RETRY_DEFAULT_LIMIT};

fastepost_status fastepost_retry_options_new(fastepost_retry_options **out) {
  return FASTEPOST__OUT_NEW_COPY(out, retry_defaults, "fastepost_retry_options_new");
}

void fastepost_retry_options_free(fastepost_retry_options *opts) { free(opts); }

fastepost_status fastepost_retry_options_set_limit(fastepost_retry_options *opts, size_t limit) {
  if (!opts)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_retry_options_set_limit: opts is NULL");
  opts->limit = limit ? limit : FASTEPOST_RETRY_DEFAULT_LIMIT;
  return FASTEPOST_OK;
}

FASTEPOST__OPTIONS_CLOCK_SETTER(retry)

fastepost_status fastepost_retry_options_set_webhook_config(fastepost_retry_options *opts,
                                                            const fastepost_webhook_config *cfg) {
  if (!opts)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_retry_options_set_webhook_config: opts is NULL");
  opts->webhooks = cfg;
  return FASTEPOST_OK;
}

struct fastepost_retry_report {
  size_t attempted, succeeded, failed, dead;
};

void fastepost_retry_report_free(fastepost_retry_report *r) { free(r); }
size_t fastepost_retry_report_attempted(const fastepost_retry_report *r) { return r ? r->attempted : 0; }
size_t fastepost_retry_report_succeeded(const fastepost_retry_report *r) { return r ? r->succeeded : 0; }
size_t fastepost_retry_report_failed(const fastepost_retry_report *r) { return r ? r->failed : 0; }
size_t fastepost_retry_report_dead(const fastepost_retry_report *r) { return r ? r->dead : 0; }

/* Process a claimed event again through its source's adapter, on its own row. */
static int reprocess(fastepost_conn *conn, int64_t id, const char *source, const char *payload,
                     const char *event_type, int64_t now_us, const fastepost_webhook_config *webhooks) {
  const fastepost__adapter *a = fastepost__adapter_find(source);
  if (!a || !a->reprocess)
    return fastepost__error_set(FASTEPOST_EINVALID, "no adapter for source %.32s", source);
  fastepost_event_result *res = fastepost__result_new();
  if (!res)
    return FASTEPOST_ENOMEM;
  fastepost__sync_record rec;
  fastepost__sync_record_init(&rec, a->source);
  int rc = a->reprocess(&rec, fastepost__webhook_config_section(webhooks, a), payload, event_type, now_us);
  if (rc == FASTEPOST_OK) {
    rec.event_id = id;
    fastepost__sync_ctx ctx = {.now_us = now_us, .in_batch = false, .max_attempts = FASTEPOST_EVENTS_MAX_ATTEMPTS};
    rc = fastepost__adapter_process(res, conn, &rec, &ctx);
  }
  fastepost__sync_record_clear(&rec);
  fastepost_event_result_free(res);
  return rc;
}

fastepost_status fastepost_events_retry(fastepost_retry_report **out, fastepost_conn *conn,
                                        const fastepost_retry_options *opts) {
  if (out) {
    if (!(*out = calloc(1, sizeof **out)))
      return fastepost__error_oom();
  }
  if (!conn)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_events_retry: conn is NULL");
  size_t limit = opts ? opts->limit : FASTEPOST_RETRY_DEFAULT_LIMIT;
  const fastepost__clock *clock = opts && opts->clock.fn ? &opts->clock : NULL;
  fastepost__buf sources = FASTEPOST__BUF_INIT;
  fastepost__buf_putc(&sources, '{');
  for (size_t i = 0, k = 0; i < fastepost__adapter_count(); i++)
    if (fastepost__adapter_at(i)->reprocess)
      fastepost__buf_printf(&sources, "%s%s", k++ ? "," : "", fastepost__adapter_at(i)->source);
  fastepost__buf_putc(&sources, '}');
  if (sources.oom) {
    fastepost__buf_free(&sources);
    return fastepost__error_oom();
  }
  const char *params[] = {fastepost__buf_cstr(&sources), NULL};
  fastepost_retry_report r = {0, 0, 0, 0};
  int rc = FASTEPOST_OK;
  while (r.attempted < limit) {
    /* Read the injected clock once per claim: the claim and the reprocessing of that event
     * then agree on "now", and a clock that advances is seen to advance. */
    int64_t now_us = fastepost__clock_now(clock);
    char now_text[40];
    if (clock && !fastepost__time_format(now_text, sizeof now_text, now_us)) {
      rc = fastepost__error_set(FASTEPOST_EINVALID, "the injected clock gave %lld us, not a time from year 1 to 9999",
                                (long long)now_us);
      break;
    }
    params[1] = clock ? now_text : NULL;
    PGresult *due = NULL;
    rc = fastepost__query(&due, conn, SQL_CLAIM, 2, params, PGRES_TUPLES_OK, "claiming a due event");
    if (rc || PQntuples(due) == 0) {
      PQclear(due);
      break;
    }
    int64_t id = atoll(PQgetvalue(due, 0, 0));
    r.attempted++;
    int st = reprocess(conn, id, PQgetvalue(due, 0, 1), PQgetvalue(due, 0, 3), PQgetvalue(due, 0, 2), now_us,
                       opts ? opts->webhooks : NULL);
    PQclear(due);
    if (st == FASTEPOST_OK) {
      r.succeeded++;
      continue;
    }
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)id);
    const char *p[] = {idbuf};
    PGresult *s = NULL;
    if (fastepost__query(&s, conn, "SELECT status FROM integration_events WHERE id = $1::bigint", 1, p,
                         PGRES_TUPLES_OK, "reading an event's status") == FASTEPOST_OK &&
        PQntuples(s) == 1 && strcmp(PQgetvalue(s, 0, 0), "dead") == 0)
      r.dead++;
    else
      r.failed++;
    PQclear(s);
    if (st == FASTEPOST_ECONN && fastepost_conn_ping(conn) != FASTEPOST_OK)
      break; /* the database is away: the rest stays queued */
  }
  fastepost__buf_free(&sources);
  if (out)
    **out = r;
  if (rc && !r.attempted)
    return rc;
  fastepost_error_clear();
  return FASTEPOST_OK;
}
