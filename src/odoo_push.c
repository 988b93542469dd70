/* SPDX-License-Identifier: MIT */
/*
 * The Odoo push-back (fastepost/odoo_sync.h): the queued local changes of fastepost_sync_outbox
 * (migration 12) sent to Odoo with `write` or `create`, compare-then-write on write_date.
 *
 * Odoo has no optimistic locking any more (its _check_concurrency went in 16.0), so the check
 * is ours: read the record's write_date, compare it with the version we last synced, then
 * write. The window between that read and the write is the race the reference accepts; a
 * custom server method would be the only atomic way.
 *
 * Every write of ours to customers runs in a transaction marked as the sync core's
 * (FASTEPOST__ORIGIN_SYNC_SQL), so that recording the new synced version (or the new crm_id)
 * queues nothing again: no second push. The webhook Odoo fires for our write then finds the
 * values it carries already stored (`unchanged`), whichever of the two arrives first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/odoo.h"
#include "fastepost/odoo_sync.h"
#include "internal.h"
#include "odoo_client/odoo_client.h"
#include "odoo_sync_priv.h"
#include "sync/sync_priv.h"
#include "util/json.h"
#include "util/time.h"

#define MODEL "res.partner"
#define EVENT_TYPE MODEL ".push"

/* The injected clock's time ($1), or the server's (UTC), for every time the push writes. */
#define NOW "coalesce($1::timestamp, statement_timestamp() AT TIME ZONE 'UTC')"
/* A claimed row is not due again for this long: a run that dies leaves it to a later one. */
#define LEASE "interval '10 minutes'"

/* ---- options --------------------------------------------------------------------------------- */

static const char *const PREFERS[] = {"remote", "local"};

FASTEPOST__ENUM_NAMES(fastepost_odoo_sync_prefer, PREFERS, "conflict preference", "remote or local")

FASTEPOST__OPTIONS_ENUM_SETTER(odoo_sync, prefer, fastepost_odoo_sync_prefer, prefer,
                               FASTEPOST_ODOO_SYNC_PREFER_REMOTE, FASTEPOST_ODOO_SYNC_PREFER_LOCAL,
                               "conflict preference")

fastepost_status fastepost_odoo_sync_options_set_push_limit(fastepost_odoo_sync_options *o, size_t n) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_sync_options_set_push_limit: opts is NULL");
  if (n > FASTEPOST_ODOO_SYNC_MAX_PUSH_LIMIT)
    return fastepost__error_set(FASTEPOST_EINVALID, "the push limit must be 0 (default) to %d, not %zu",
                                FASTEPOST_ODOO_SYNC_MAX_PUSH_LIMIT, n);
  o->push_limit = n ? n : FASTEPOST_ODOO_SYNC_DEFAULT_PUSH_LIMIT;
  return FASTEPOST_OK;
}

/* ---- the report ------------------------------------------------------------------------------ */

struct fastepost_odoo_push_report {
  uint64_t attempted, written, created, conflicts, skipped, failed;
};

void fastepost_odoo_push_report_free(fastepost_odoo_push_report *r) { free(r); }
uint64_t fastepost_odoo_push_report_attempted(const fastepost_odoo_push_report *r) { return r ? r->attempted : 0; }
uint64_t fastepost_odoo_push_report_written(const fastepost_odoo_push_report *r) { return r ? r->written : 0; }
uint64_t fastepost_odoo_push_report_created(const fastepost_odoo_push_report *r) { return r ? r->created : 0; }
uint64_t fastepost_odoo_push_report_conflicts(const fastepost_odoo_push_report *r) { return r ? r->conflicts : 0; }
uint64_t fastepost_odoo_push_report_skipped(const fastepost_odoo_push_report *r) { return r ? r->skipped : 0; }
uint64_t fastepost_odoo_push_report_failed(const fastepost_odoo_push_report *r) { return r ? r->failed : 0; }

/* ---- the outbox ------------------------------------------------------------------------------ */

/* One due row at a time (like the event retries, src/events.c): concurrent runs skip a row
 * another is claiming, and no claim can expire while its run is busy with earlier rows. */
static const char SQL_CLAIM[] =
    "WITH due AS (SELECT customer_id FROM fastepost_sync_outbox WHERE source = 'odoo' "
    "AND (next_attempt_at IS NULL OR next_attempt_at <= " NOW ") "
    "ORDER BY next_attempt_at NULLS FIRST, queued_at, customer_id LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "UPDATE fastepost_sync_outbox q SET next_attempt_at = " NOW " + " LEASE " FROM due "
    "WHERE q.source = 'odoo' AND q.customer_id = due.customer_id RETURNING q.customer_id, q.revision";

/* The customer as it is now: what is sent, and the version last synced in whole seconds (what
 * Odoo answers; a webhook's microseconds would make every equal version look older). */
static const char SQL_CUSTOMER[] =
    "SELECT name, email, phone, active, crm_source, crm_id, "
    "to_char(date_trunc('second', crm_updated_at), 'YYYY-MM-DD HH24:MI:SS') FROM customers WHERE id = $1::bigint";

/* What happens to the row when its push is over. $1 now, $2 customer id, $3 revision sent,
 * $4 the error (RETRY). DONE: removed unless a change came in meanwhile (a new revision), which
 * is then due at once; RETRY: kept with a backoff of 30 s doubling per attempt, at most 1 h. */
typedef enum { ROW_DONE, ROW_RETRY } row_action;
static const char SQL_ROW_DONE[] =
    "WITH gone AS (DELETE FROM fastepost_sync_outbox WHERE source = 'odoo' AND customer_id = $2::bigint "
    "AND revision = $3::bigint RETURNING 1) "
    "UPDATE fastepost_sync_outbox SET next_attempt_at = NULL, attempts = 0, last_error = NULL "
    "WHERE source = 'odoo' AND customer_id = $2::bigint AND NOT EXISTS (SELECT 1 FROM gone) "
    "AND num_nulls($1::timestamp, $4::text) >= 0";
static const char SQL_ROW_RETRY[] =
    "UPDATE fastepost_sync_outbox SET attempts = attempts + 1, last_error = $4::text, "
    "next_attempt_at = " NOW " + make_interval(secs => " FASTEPOST__BACKOFF_SECS_SQL("attempts") ") "
    "WHERE source = 'odoo' AND customer_id = $2::bigint AND num_nulls($3::bigint) >= 0";

/* The push's event: $1 now, $2 status, $3 outcome, $4 external id, $5 customer id, $6 message.
 * No payload: the retry queue (src/events.c) only takes events with one, and a push is retried
 * through the outbox, never as a webhook delivery. */
static const char SQL_EVENT[] =
    "INSERT INTO integration_events (source, event_type, status, outcome, external_id, customer_id, "
    "error_message, attempts, processed_at, created_at, updated_at) VALUES ('odoo', '" EVENT_TYPE "', "
    "$2, $3, $4, $5::bigint, $6, 1, " NOW ", " NOW ", " NOW ")";

/* The version Odoo reported after our write ($3) and, for a create, the new link ($4): the
 * version only moves forward (the echo webhook may have stored a later one with microseconds
 * already), and a create links only a customer still waiting for its Odoo record. */
static const char SQL_SYNCED[] =
    "UPDATE customers SET crm_id = coalesce($4::text, crm_id), "
    "crm_updated_at = greatest(crm_updated_at, $3::timestamp), last_synced_at = " NOW " "
    "WHERE id = $2::bigint AND ($4::text IS NULL OR (crm_source = 'odoo' AND crm_id IS NULL))";

typedef struct push_run {
  fastepost_conn *conn;
  const fastepost_odoo_sync_options *opts;
  fastepost__odoo_client *client;
  fastepost_odoo_push_report *report;
  char now_buf[32];
  const char *now; /* the injected clock's time, or NULL: the server's */
} push_run;

typedef struct push_row {
  char id[24], revision[24];
  char *name, *email, *phone, *crm_source, *crm_id;
  bool active, has_synced;
  int64_t synced_us; /* crm_updated_at, whole seconds */
} push_row;

static void row_clear(push_row *r) {
  free(r->name);
  free(r->email);
  free(r->phone);
  free(r->crm_source);
  free(r->crm_id);
  memset(r, 0, sizeof *r);
}

static void refresh_now(push_run *run) {
  int64_t us = fastepost__clock_now(&run->opts->clock);
  run->now = NULL;
  if (us != FASTEPOST__SYNC_SERVER_CLOCK && fastepost__time_format(run->now_buf, sizeof run->now_buf, us))
    run->now = run->now_buf;
}

/* Claim the next due row; *found false when none is left. */
static int claim(bool *found, push_row *row, push_run *run) {
  *found = false;
  const char *params[] = {run->now};
  PGresult *res = NULL;
  int rc = fastepost__query(&res, run->conn, SQL_CLAIM, 1, params, PGRES_TUPLES_OK, "claiming an outbox row");
  if (!rc && PQntuples(res) == 1) {
    snprintf(row->id, sizeof row->id, "%s", PQgetvalue(res, 0, 0));
    snprintf(row->revision, sizeof row->revision, "%s", PQgetvalue(res, 0, 1));
    *found = true;
  }
  PQclear(res);
  return rc;
}

static char *value_or_null(const PGresult *res, int col) {
  return PQgetisnull(res, 0, col) ? NULL : fastepost__strdup(PQgetvalue(res, 0, col));
}

/* The customer's current values; *exists false when it is gone. */
static int load_customer(bool *exists, push_row *row, push_run *run) {
  const char *params[] = {row->id};
  PGresult *res = NULL;
  int rc = fastepost__query(&res, run->conn, SQL_CUSTOMER, 1, params, PGRES_TUPLES_OK, "reading a queued customer");
  *exists = !rc && PQntuples(res) == 1;
  if (*exists) {
    row->name = value_or_null(res, 0);
    row->email = value_or_null(res, 1);
    row->phone = value_or_null(res, 2);
    row->active = !strcmp(PQgetvalue(res, 0, 3), "t");
    row->crm_source = value_or_null(res, 4);
    row->crm_id = value_or_null(res, 5);
    row->has_synced = !PQgetisnull(res, 0, 6) && fastepost__time_parse_iso(&row->synced_us, PQgetvalue(res, 0, 6));
    if ((!PQgetisnull(res, 0, 0) && !row->name) || (!PQgetisnull(res, 0, 1) && !row->email) ||
        (!PQgetisnull(res, 0, 2) && !row->phone) || (!PQgetisnull(res, 0, 4) && !row->crm_source) ||
        (!PQgetisnull(res, 0, 5) && !row->crm_id))
      rc = FASTEPOST_ENOMEM;
  }
  PQclear(res);
  return rc;
}

/* The end of one row's push, in one transaction marked as the sync core's: the customer's new
 * version (synced_us > 0; 0: unknown) and link (new_crm_id), the event, and the outbox row. */
static int finish(push_run *run, const push_row *row, row_action action, const char *status,
                  fastepost_outcome outcome, const char *external_id, int64_t synced_us, const char *new_crm_id,
                  const char *message) {
  int rc = fastepost__tx_begin(run->conn);
  if (!rc)
    rc = fastepost__exec(run->conn, "SELECT " FASTEPOST__ORIGIN_SYNC_SQL, "marking the push's writes");
  PGresult *res = NULL;
  if (!rc && (synced_us > 0 || new_crm_id)) {
    char synced[32] = "";
    if (synced_us > 0)
      fastepost__time_format(synced, sizeof synced, synced_us);
    const char *params[] = {run->now, row->id, *synced ? synced : NULL, new_crm_id};
    rc = fastepost__query(&res, run->conn, SQL_SYNCED, 4, params, PGRES_COMMAND_OK, "recording the synced version");
    PQclear(res);
  }
  if (!rc) {
    const char *params[] = {run->now, status, outcome == FASTEPOST_OUTCOME_NONE ? NULL : fastepost_outcome_name(outcome),
                            external_id, row->id, message};
    rc = fastepost__query(&res, run->conn, SQL_EVENT, 6, params, PGRES_COMMAND_OK, "logging the push");
    PQclear(res);
  }
  if (!rc) {
    const char *params[] = {run->now, row->id, row->revision, message};
    rc = fastepost__query(&res, run->conn, action == ROW_DONE ? SQL_ROW_DONE : SQL_ROW_RETRY, 4, params,
                          PGRES_COMMAND_OK, "updating the outbox");
    PQclear(res);
  }
  if (!rc)
    rc = fastepost__tx_commit(run->conn);
  if (rc)
    fastepost__tx_rollback(run->conn);
  return rc;
}

/* A row whose customer is gone or no longer pushed to Odoo: removed, nothing sent or logged. */
static int drop(push_run *run, const push_row *row) {
  const char *params[] = {run->now, row->id, row->revision, NULL};
  PGresult *res = NULL;
  int rc = fastepost__query(&res, run->conn, SQL_ROW_DONE, 4, params, PGRES_COMMAND_OK, "updating the outbox");
  PQclear(res);
  return rc;
}

/* ---- Odoo ------------------------------------------------------------------------------------ */

static json_object *text_or_false(const char *s) {
  return s ? json_object_new_string(s) : json_object_new_boolean(0); /* Odoo's "no value" */
}

static json_object *partner_vals(const push_row *row) {
  json_object *vals = json_object_new_object();
  json_object_object_add(vals, "name", text_or_false(row->name));
  json_object_object_add(vals, "email", text_or_false(row->email));
  json_object_object_add(vals, "phone", text_or_false(row->phone));
  json_object_object_add(vals, "active", json_object_new_boolean(row->active));
  return vals;
}

static json_object *id_list(int64_t id) {
  json_object *ids = json_object_new_array();
  json_object_array_add(ids, json_object_new_int64(id));
  return ids;
}

/* Record id's write_date (*us, whole seconds as Odoo answers). ENOTFOUND when it is gone. */
static int read_write_date(int64_t *us, push_run *run, int64_t id) {
  json_object *kw = json_object_new_object(), *fields = json_object_new_array(), *records = NULL;
  json_object_array_add(fields, json_object_new_string("write_date"));
  json_object_object_add(kw, "ids", id_list(id));
  json_object_object_add(kw, "fields", fields);
  int rc = fastepost__odoo_client_call(&records, run->client, MODEL, "read", "ids", kw);
  json_object_put(kw);
  if (rc)
    return rc;
  json_object *rec = json_object_is_type(records, json_type_array) && json_object_array_length(records) == 1
                         ? json_object_array_get_idx(records, 0)
                         : NULL;
  json_object *wd = fastepost__json_get(rec, "write_date");
  if (json_object_is_type(records, json_type_array) && !json_object_array_length(records))
    rc = fastepost__error_set(FASTEPOST_ENOTFOUND, "Odoo " MODEL ".read: record %lld does not exist", (long long)id);
  else if (!wd || !json_object_is_type(wd, json_type_string) || !fastepost__time_parse_iso(us, json_object_get_string(wd)))
    rc = fastepost__error_set(FASTEPOST_EPARSE, "Odoo " MODEL ".read: no write_date for record %lld", (long long)id);
  json_object_put(records);
  return rc;
}

static int odoo_write(push_run *run, const push_row *row, int64_t id) {
  json_object *kw = json_object_new_object(), *answer = NULL;
  json_object_object_add(kw, "ids", id_list(id));
  json_object_object_add(kw, "vals", partner_vals(row));
  int rc = fastepost__odoo_client_call(&answer, run->client, MODEL, "write", "ids", kw);
  json_object_put(kw);
  json_object_put(answer);
  return rc;
}

/* create() takes a list of values and answers a list of ids (JSON-RPC may answer one id). */
static int odoo_create(int64_t *id, push_run *run, const push_row *row) {
  json_object *kw = json_object_new_object(), *list = json_object_new_array(), *answer = NULL;
  json_object_array_add(list, partner_vals(row));
  json_object_object_add(kw, "vals_list", list);
  int rc = fastepost__odoo_client_call(&answer, run->client, MODEL, "create", "vals_list", kw);
  json_object_put(kw);
  if (rc)
    return rc;
  json_object *first = json_object_is_type(answer, json_type_array) ? json_object_array_get_idx(answer, 0) : answer;
  *id = fastepost__odoo_id(first);
  json_object_put(answer);
  if (*id <= 0)
    return fastepost__error_set(FASTEPOST_EPARSE, "Odoo " MODEL ".create: the answer is not a record id");
  return FASTEPOST_OK;
}

/* ---- one row --------------------------------------------------------------------------------- */

/* Failures that say Odoo (or the way to it) cannot take anything now: the run stops there. */
static bool stops_the_run(int code) {
  return code == FASTEPOST_EAUTH || code == FASTEPOST_ENOKEY || code == FASTEPOST_ETIMEOUT ||
         code == FASTEPOST_ECONN || code == FASTEPOST_EBUSY || code == FASTEPOST_ENOMEM;
}

static int64_t linked_id(const char *crm_id) {
  if (!crm_id || strncmp(crm_id, MODEL ":", sizeof MODEL))
    return 0;
  char *end = NULL;
  long long id = strtoll(crm_id + sizeof MODEL, &end, 10);
  return end && !*end && id > 0 ? id : 0;
}

/* The Odoo part of a row: *synced_us the write_date after our write, *new_id a created id;
 * *conflict_msg set when Odoo's record is newer than our version. */
static int push_to_odoo(push_run *run, const push_row *row, int64_t id, int64_t *synced_us, int64_t *new_id,
                        char *conflict_msg, size_t msgsize, bool *kept_remote, bool *sent) {
  int rc;
  *kept_remote = *sent = false;
  if (!id) {
    rc = odoo_create(new_id, run, row);
    *sent = !rc;
    return rc ? rc : read_write_date(synced_us, run, *new_id);
  }
  int64_t remote_us = 0;
  if ((rc = read_write_date(&remote_us, run, id)))
    return rc;
  if (!row->has_synced || remote_us > row->synced_us) {
    char remote[32], synced[32] = "never";
    fastepost__time_format(remote, sizeof remote, remote_us);
    if (row->has_synced)
      fastepost__time_format(synced, sizeof synced, row->synced_us);
    bool local = run->opts->prefer == FASTEPOST_ODOO_SYNC_PREFER_LOCAL;
    snprintf(conflict_msg, msgsize,
             "conflict: %s was changed in Odoo at %.19s, after the version last synced (%.19s): %s", row->crm_id,
             remote, synced, local ? "overwritten (prefer local)" : "not overwritten (prefer remote)");
    if (!local) {
      *kept_remote = true;
      return FASTEPOST_OK;
    }
  }
  rc = odoo_write(run, row, id);
  *sent = !rc;
  return rc ? rc : read_write_date(synced_us, run, id);
}

static int push_row_once(push_run *run, push_row *row) {
  bool exists = false;
  int rc = load_customer(&exists, row, run);
  if (rc)
    return rc;
  int64_t id = exists ? linked_id(row->crm_id) : 0;
  if (!exists || !row->crm_source || strcmp(row->crm_source, "odoo") || (row->crm_id && !id)) {
    run->report->skipped++;
    return drop(run, row);
  }
  int64_t synced_us = 0, new_id = 0;
  char conflict[512] = "";
  bool kept_remote = false, sent = false;
  rc = push_to_odoo(run, row, id, &synced_us, &new_id, conflict, sizeof conflict, &kept_remote, &sent);
  refresh_now(run);
  char note[1024] = "";
  if (rc && sent) {
    /* Odoo took the write or create; only reading its new write_date failed. Trying the row
     * again would create the partner twice, or see our own write as a conflict: it is done,
     * without a new synced version (the webhook of our write brings one). */
    snprintf(note, sizeof note, "%s%spushed, but its new write_date could not be read: %s", conflict,
             *conflict ? "; " : "", fastepost_error_last()->message);
    synced_us = 0;
    rc = FASTEPOST_OK;
  }
  if (rc == FASTEPOST_ENOTFOUND && id) { /* the record is gone from Odoo: nothing to write to */
    run->report->skipped++;
    char msg[512];
    snprintf(msg, sizeof msg, "%s no longer exists in Odoo: not pushed (a pull with deletion detection makes "
                              "the customer inactive)", row->crm_id);
    return finish(run, row, ROW_DONE, "error", FASTEPOST_OUTCOME_IGNORED, row->crm_id, 0, NULL, msg);
  }
  if (rc) {
    /* only Odoo was asked: whatever failed, the row waits for a later attempt */
    int code = rc;
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", fastepost_error_last()->message);
    run->report->failed++;
    rc = finish(run, row, ROW_RETRY, "error", FASTEPOST_OUTCOME_NONE, row->crm_id, 0, NULL, msg);
    if (rc)
      return rc;
    if (stops_the_run(code))
      return fastepost__error_set(code, "%s", msg);
    return FASTEPOST_OK;
  }
  if (*conflict)
    run->report->conflicts++;
  if (kept_remote)
    return finish(run, row, ROW_DONE, "error", FASTEPOST_OUTCOME_CONFLICT, row->crm_id, 0, NULL, conflict);
  char created[64];
  const char *message = *note ? note : *conflict ? conflict : NULL;
  if (new_id) {
    snprintf(created, sizeof created, MODEL ":%lld", (long long)new_id);
    run->report->created++;
    return finish(run, row, ROW_DONE, "success", FASTEPOST_OUTCOME_CREATED, created, synced_us, created, message);
  }
  run->report->written++;
  return finish(run, row, ROW_DONE, "success", FASTEPOST_OUTCOME_UPDATED, row->crm_id, synced_us, NULL, message);
}

/* ---- the push -------------------------------------------------------------------------------- */

fastepost_status fastepost_odoo_push(fastepost_odoo_push_report **out, fastepost_conn *conn,
                                     const fastepost_odoo_sync_options *o) {
  if (out)
    *out = NULL;
  int rc = fastepost__odoo_sync_check(conn, o, "fastepost_odoo_push");
  if (rc)
    return rc;
  if (fastepost__sync_busy_connection(conn, "the push"))
    return fastepost_error_last()->code;
  push_run run = {.conn = conn, .opts = o};
  if (!(run.report = calloc(1, sizeof *run.report)))
    return fastepost__error_oom();
  rc = fastepost__odoo_sync_client_new(&run.client, o);
  for (size_t n = 0; !rc && n < o->push_limit; n++) {
    push_row row;
    memset(&row, 0, sizeof row);
    bool found = false;
    refresh_now(&run);
    rc = claim(&found, &row, &run);
    if (!rc && found) {
      run.report->attempted++;
      rc = push_row_once(&run, &row);
    }
    row_clear(&row);
    if (!found)
      break;
  }
  fastepost__odoo_client_free(run.client);
  if (out)
    *out = run.report;
  else
    fastepost_odoo_push_report_free(run.report);
  if (rc == FASTEPOST_OK)
    fastepost_error_clear();
  return rc;
}
