/* The event log (listing) and the retry queue (see fastepost/events.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "hubspot_parse.h"
#include "odoo.h"
#include "sync.h"
#include "util/time.h"

/* Sources whose stored payloads can be processed again, and through which adapter. A new CRM
 * adds one line here. */
typedef int (*reprocess_fn)(fastepost_event_result **out, fastepost_conn *conn, int64_t event_id,
                            const char *payload, const char *event_type, int max_attempts, int64_t now_us);
static const struct {
  const char *source;
  reprocess_fn reprocess;
} adapters[] = {
    {"odoo", fastepost__odoo_reprocess},
    {"hubspot", fastepost__hubspot_reprocess},
};

/* ---- listing ------------------------------------------------------------------------------- */

#define EVENT_STRINGS 9

struct fastepost_event_list {
  fastepost_event *rows;
  char **strings; /* every string the rows point to */
  size_t count;
};

void fastepost_event_list_free(fastepost_event_list *list) {
  if (!list)
    return;
  for (size_t i = 0; i < list->count * EVENT_STRINGS; i++)
    free(list->strings[i]);
  free(list->strings);
  free(list->rows);
  free(list);
}

size_t fastepost_event_list_count(const fastepost_event_list *list) { return list ? list->count : 0; }

const fastepost_event *fastepost_event_list_get(const fastepost_event_list *list, size_t i) {
  return list && i < list->count ? &list->rows[i] : NULL;
}

/* One statement per combination of filters, each matching one index of migration 4 exactly
 * (source, status, or both, then created_at DESC, id DESC), so that the newest rows come straight
 * off the index and a filter that matches nothing costs one index probe. A single statement
 * with "$1 IS NULL OR source = $1" would leave the choice to a plan that cannot know which
 * filters are set. */
#define SQL_LIST_HEAD                                                                       \
  "SELECT id, source, event_type, status, coalesce(outcome, ''), coalesce(external_id, ''), " \
  "coalesce(error_message, ''), attempts, coalesce(customer_id, 0), "                        \
  "to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.US'), "                                        \
  "coalesce(to_char(processed_at, 'YYYY-MM-DD HH24:MI:SS.US'), ''), "                        \
  "coalesce(to_char(next_attempt_at, 'YYYY-MM-DD HH24:MI:SS.US'), '') FROM integration_events "
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
                                       const char *status, int limit) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_events_list: out is NULL");
  *out = NULL;
  if (limit < 1)
    return fastepost__error_set(FASTEPOST_EINVALID, "the limit must be 1 or more, not %d", limit);
  static const char *const statuses[] = {"pending", "success", "error", "dead"};
  bool known = !status || !*status;
  for (size_t i = 0; !known && i < 4; i++)
    known = strcmp(status, statuses[i]) == 0;
  if (!known)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "unknown status \"%.32s\": expected pending, success, error or dead", status);
  char lim[16];
  snprintf(lim, sizeof lim, "%d", limit);
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
  static const int string_cols[EVENT_STRINGS] = {1, 2, 3, 4, 5, 6, 9, 10, 11};
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
    e->attempts = atoi(PQgetvalue(res, (int)i, 7));
    e->customer_id = atoll(PQgetvalue(res, (int)i, 8));
    e->created_at = s[6];
    e->processed_at = s[7];
    e->next_attempt_at = s[8];
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

fastepost_status fastepost_events_retry(fastepost_conn *conn, int limit, fastepost_retry_report *report) {
  return fastepost_events_retry_with_clock(conn, limit, NULL, NULL, report);
}

fastepost_status fastepost_events_retry_with_clock(fastepost_conn *conn, int limit, fastepost_clock_fn clock,
                                                   void *payload, fastepost_retry_report *report) {
  if (report)
    memset(report, 0, sizeof *report);
  if (limit < 1)
    return fastepost__error_set(FASTEPOST_EINVALID, "the limit must be 1 or more, not %d", limit);
  fastepost__buf sources = FASTEPOST__BUF_INIT;
  fastepost__buf_putc(&sources, '{');
  for (size_t i = 0; i < sizeof adapters / sizeof adapters[0]; i++)
    fastepost__buf_printf(&sources, "%s%s", i ? "," : "", adapters[i].source);
  fastepost__buf_putc(&sources, '}');
  if (sources.oom) {
    fastepost__buf_free(&sources);
    return fastepost__error_oom();
  }
  const char *params[] = {fastepost__buf_cstr(&sources), NULL};
  fastepost_retry_report r = {0};
  int rc = FASTEPOST_OK;
  while (r.attempted < limit) {
    /* Read the injected clock once per claim: the claim and the reprocessing of that event
     * then agree on "now", and a clock that advances is seen to advance. */
    int64_t now_us = clock ? clock(payload) : FASTEPOST__SYNC_SERVER_CLOCK;
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
    const char *source = PQgetvalue(due, 0, 1);
    reprocess_fn fn = NULL;
    for (size_t k = 0; k < sizeof adapters / sizeof adapters[0]; k++)
      if (strcmp(adapters[k].source, source) == 0)
        fn = adapters[k].reprocess;
    r.attempted++;
    fastepost_event_result *res = NULL;
    int st = fn ? fn(&res, conn, id, PQgetvalue(due, 0, 3), PQgetvalue(due, 0, 2), FASTEPOST_EVENTS_MAX_ATTEMPTS, now_us)
                : fastepost__error_set(FASTEPOST_EINVALID, "no adapter for source %s", source);
    fastepost_event_result_free(res);
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
  if (rc && !r.attempted)
    return rc;
  if (report)
    *report = r;
  fastepost_error_clear();
  return FASTEPOST_OK;
}
