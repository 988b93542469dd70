/*
 * The sync core (see sync.h for the contract): normalised record -> lock, claim the event,
 * match the customer -> decide -> apply customer, remark, task link and the event row, in one
 * transaction with two pipelined round trips plus the commit.
 */
#include "sync.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/digest.h"
#include "util/time.h"

/* ---- small owned-data helpers -------------------------------------------------------------- */

int fastepost__strlist_add(fastepost__strlist *list, const char *s) {
  char *copy = fastepost__strdup(s);
  if (!copy)
    return FASTEPOST_ENOMEM;
  char **items = realloc(list->items, (list->count + 1) * sizeof *items);
  if (!items) {
    free(copy);
    return fastepost__error_oom();
  }
  items[list->count++] = copy;
  list->items = items;
  return FASTEPOST_OK;
}

int fastepost__strlist_addf(fastepost__strlist *list, const char *fmt, ...) {
  char text[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  return fastepost__strlist_add(list, text);
}

void fastepost__strlist_free(fastepost__strlist *list) {
  for (size_t i = 0; i < list->count; i++)
    free(list->items[i]);
  free(list->items);
  list->items = NULL;
  list->count = 0;
}

void fastepost__sync_record_init(fastepost__sync_record *rec, const char *source) {
  memset(rec, 0, sizeof *rec);
  rec->source = source;
  rec->facts.active = -1;
}

static void fact_clear(fastepost__fact *f) {
  free(f->value);
  f->value = NULL;
  f->state = FASTEPOST__FACT_ABSENT;
}

int fastepost__fact_set(fastepost__fact *fact, const char *s) {
  fact_clear(fact);
  if (!s) {
    fact->state = FASTEPOST__FACT_EMPTY;
    return FASTEPOST_OK;
  }
  if (!(fact->value = fastepost__strdup(s)))
    return FASTEPOST_ENOMEM;
  fact->state = FASTEPOST__FACT_VALUE;
  return FASTEPOST_OK;
}

void fastepost__sync_record_clear(fastepost__sync_record *rec) {
  char **owned[] = {&rec->model,    &rec->event_type,   &rec->external_id, &rec->idempotency_key,
                    &rec->payload,  &rec->failure_message, &rec->ignore_reason, &rec->crm_id,
                    &rec->link_crm_id, &rec->version,   &rec->note_body,   &rec->note_key};
  for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
    free(*owned[i]);
    *owned[i] = NULL;
  }
  fact_clear(&rec->facts.name);
  fact_clear(&rec->facts.email);
  fact_clear(&rec->facts.phone);
  fact_clear(&rec->facts.company);
  fact_clear(&rec->facts.address);
  for (size_t i = 0; i < FASTEPOST__MAX_PROPS; i++)
    fact_clear(&rec->props[i]);
  fastepost__strlist_free(&rec->retired_crm_ids);
  fastepost__strlist_free(&rec->barcodes);
  fastepost__strlist_free(&rec->warnings);
}

fastepost_event_result *fastepost__result_new(void) {
  fastepost_event_result *r = calloc(1, sizeof *r);
  if (!r)
    fastepost__error_oom();
  return r;
}

int fastepost__result_fail(fastepost_event_result *res, int code) {
  const fastepost_error *e = fastepost_error_last();
  res->code = code;
  free(res->error);
  res->error = fastepost__strdup(*e->message ? e->message : fastepost_strerror(code));
  return code;
}

bool fastepost__sync_transient(int code) {
  return code == FASTEPOST_ECONN || code == FASTEPOST_EBUSY || code == FASTEPOST_EREADONLY ||
         code == FASTEPOST_ETIMEOUT;
}

int fastepost__time_range_set(fastepost__time_range *range, int64_t min_us, int64_t max_ahead_us) {
  if (!range || min_us < 0 || min_us > FASTEPOST__TIME_LIMIT_US || max_ahead_us < 0 ||
      max_ahead_us > 100LL * 366 * 86400 * 1000000)
    return fastepost__error_set(FASTEPOST_EINVALID, "the time range must start between 1970 and 9999 and "
                                                    "reach at most 100 years ahead");
  range->min_us = min_us;
  range->max_ahead_us = max_ahead_us;
  return FASTEPOST_OK;
}

int fastepost__sync_time_check(int64_t us, const fastepost__time_range *range, int64_t now_us, const char *what) {
  fastepost__time_range defaults = FASTEPOST__TIME_RANGE_DEFAULT;
  if (!range)
    range = &defaults;
  if (now_us == FASTEPOST__SYNC_SERVER_CLOCK)
    now_us = fastepost__time_now_us();
  /* now + ahead cannot overflow: the setters keep both within a few centuries of the epoch. */
  int64_t latest = now_us + range->max_ahead_us;
  if (us >= range->min_us && us <= latest)
    return FASTEPOST_OK;
  char when[32] = "", lo[32] = "";
  fastepost__time_format(lo, sizeof lo, range->min_us);
  if (!fastepost__time_format(when, sizeof when, us))
    snprintf(when, sizeof when, "beyond year 9999");
  return fastepost__error_set(FASTEPOST_EINVALID,
                              "%s (%s UTC) is outside the accepted range %.19s to now + %lld s: refused, "
                              "not retried", what, when, lo, (long long)(range->max_ahead_us / 1000000));
}

/* ---- statements ---------------------------------------------------------------------------- */

/* The time written into rows: the server's clock (statement_timestamp(), naive UTC as the
 * schema stores it) unless the caller injected a clock, which then arrives as the parameter.
 * One clock for event rows, the retry due check and the statistics, whatever the app host's
 * clock says. $7 is "now" in the event-writing statements, $6 in the failure statements. */
#define SERVER_NOW "(statement_timestamp() AT TIME ZONE 'UTC')"
#define NOW7 "coalesce($7::timestamp, " SERVER_NOW ")"
#define NOW6 "coalesce($6::timestamp, " SERVER_NOW ")"

/* Advisory locks on every match key, in a fixed order, so that concurrent deliveries touching
 * the same contact (by crm id, email or phone) run one after the other. */
static const char SQL_LOCK[] =
    "SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h "
    "FROM unnest($1::text[]) AS k ORDER BY 1) AS s";

/* The event already logged under this idempotency key (or, for a retry, this id). The lock
 * above serialises deliveries with the same key, so what this sees is settled. */
static const char SQL_SEEN_KEY[] =
    "SELECT id, status, customer_id FROM integration_events WHERE source = $1 AND idempotency_key = $2";
static const char SQL_SEEN_ID[] =
    "SELECT id, status, customer_id FROM integration_events WHERE id = $1::bigint";

/* Candidates by rank: 1 link crm id, 2 own crm id, 3 email, 4 phone. Each branch reads its row
 * through its own index (no join: a generic plan chosen while the table was small must stay
 * good when it is large). */
#define MATCH_COLUMNS \
  "id::bigint, crm_source::text, crm_id::text, name::text, email::text, phone::text, company::text, " \
  "address::text, active::boolean, coalesce(crm_updated_at > $6::timestamp, false) FROM customers WHERE "
#define SQL_MATCH_TEXT \
    "SELECT 1, " MATCH_COLUMNS "crm_source = $5 AND crm_id = $1::text " \
    "UNION ALL SELECT 2, " MATCH_COLUMNS "crm_source = $5 AND crm_id = $2::text " \
    "UNION ALL (SELECT 3, " MATCH_COLUMNS "email IS NOT NULL AND lower(email) = lower($3::text) LIMIT 1) " \
    "UNION ALL (SELECT 4, " MATCH_COLUMNS "phone IS NOT NULL AND phone = $4::text ORDER BY id LIMIT 1)"
static const char SQL_MATCH[] = SQL_MATCH_TEXT;

/* The first existing task: by id, else by the barcodes in order (LATERAL: one index probe per
 * barcode, whatever the table's size was when the plan was made). */
static const char SQL_TASK[] =
    "SELECT id, customer_id FROM (SELECT 0::bigint AS ord, id, customer_id FROM tasks "
    "WHERE id = $1::bigint UNION ALL SELECT k.ord, t.id, t.customer_id "
    "FROM unnest($2::text[]) WITH ORDINALITY AS k(code, ord), "
    "LATERAL (SELECT id, customer_id FROM tasks WHERE barcode = k.code) AS t) AS m "
    "ORDER BY ord LIMIT 1";

/*
 * The event row is written once, at the end, with its final state: inserted ($1 = 0) or, for a
 * stored event processed again, updated. Both statements below start with the same parameters:
 * $1 event id, $2 source, $3 event type, $4 external id, $5 idempotency key, $6 payload,
 * $7 now.
 */
#define EVENT_WRITE(status, outcome, customer, message)                                           \
  "ev_ins AS (INSERT INTO integration_events (source, event_type, status, outcome, external_id, " \
  "idempotency_key, payload, customer_id, error_message, attempts, processed_at, created_at, "     \
  "updated_at) SELECT $2, $3, " status ", " outcome ", $4, $5, $6::jsonb, " customer ", "         \
  message ", 1, " NOW7 ", " NOW7 ", " NOW7 " WHERE $1::bigint = 0 RETURNING id), " \
  "ev_upd AS (UPDATE integration_events SET status = " status ", outcome = " outcome ", "          \
  "customer_id = " customer ", error_message = " message ", next_attempt_at = NULL, "              \
  "attempts = attempts + 1, processed_at = " NOW7 ", updated_at = " NOW7 " "            \
  "WHERE id = $1::bigint AND $1::bigint <> 0 RETURNING id) "

/* Everything the decision applies, in one statement: customer (create, update or keep),
 * remark, task link and the event row. Data-modifying CTEs see each other only through
 * RETURNING, which is all they need.
 * $8 mode ('create', 'update', 'keep'), $9 customer id, $10-$14 name, email, phone, company,
 * address, $15 active, $16 crm_source, $17 crm_id, $18 crm_updated_at, $19 changed,
 * $20 task id, $21 link the task, $22 remark body, $23 remark key. */
#define SQL_APPLY_TEXT \
    "WITH ins AS (INSERT INTO customers (name, email, phone, company, address, active, crm_source, " \
    "crm_id, crm_updated_at, last_synced_at, created_at, updated_at) " \
    "SELECT $10, $11, $12, $13, $14, coalesce($15::boolean, true), $16, $17, $18::timestamp, " \
    NOW7 ", " NOW7 ", " NOW7 " WHERE $8::text = 'create' RETURNING id), " \
    "upd AS (UPDATE customers SET name = $10, email = $11, phone = $12, company = $13, " \
    "address = $14, active = coalesce($15::boolean, active), crm_source = $16, crm_id = $17, " \
    "crm_updated_at = coalesce($18::timestamp, crm_updated_at), last_synced_at = " NOW7 ", " \
    "updated_at = CASE WHEN $19::boolean THEN " NOW7 " ELSE updated_at END " \
    "WHERE id = $9::bigint AND $8::text = 'update' RETURNING id), " \
    "cust AS (SELECT id FROM ins UNION ALL SELECT id FROM upd " \
    "UNION ALL SELECT $9::bigint WHERE $8::text = 'keep'), " \
    "rem AS (INSERT INTO remarks (customer_id, task_id, body, source, external_key, created_at, " \
    "updated_at) SELECT (SELECT id FROM cust), $20::bigint, $22, $2, $23, " NOW7 ", " \
    NOW7 " WHERE $22::text IS NOT NULL " \
    "ON CONFLICT (external_key) WHERE external_key IS NOT NULL DO NOTHING RETURNING id), " \
    "tsk AS (UPDATE tasks SET customer_id = (SELECT id FROM cust), updated_at = " NOW7 " " \
    "WHERE id = $20::bigint AND $21::boolean AND customer_id IS NULL RETURNING id), " \
    "res AS (SELECT CASE WHEN $8::text = 'create' THEN 'created' WHEN $19::boolean OR EXISTS " \
    "(SELECT 1 FROM rem) OR EXISTS (SELECT 1 FROM tsk) THEN 'updated' ELSE 'unchanged' END AS " \
    "outcome), " \
    EVENT_WRITE("'success'", "(SELECT outcome FROM res)", "(SELECT id FROM cust)", "NULL::text") \
    "SELECT (SELECT id FROM cust), (SELECT id FROM rem), (SELECT outcome FROM res), " \
    "(SELECT id FROM ev_ins UNION ALL SELECT id FROM ev_upd)"
static const char SQL_APPLY[] = SQL_APPLY_TEXT;

/* The event of a delivery that applies nothing (stale, ignored, conflict).
 * $8 status, $9 outcome, $10 customer id, $11 error message. */
#define SQL_FINISH_TEXT \
    "WITH " EVENT_WRITE("$8", "$9", "$10::bigint", "$11::text") \
    "SELECT (SELECT id FROM ev_ins UNION ALL SELECT id FROM ev_upd)"
static const char SQL_FINISH[] = SQL_FINISH_TEXT;

/* Log a failure as a new event, or on the failed event with the same key. Transient failures
 * get next_attempt_at = now + 30 s * 2^(attempts-1) (at most 1 h) * jitter, until dead. The
 * jitter ($10) travels as an integer in parts per million: a fraction sent as text would follow
 * the client's LC_NUMERIC ("0,78" under de_DE), which PostgreSQL refuses, and the failure would
 * go unlogged. */
#define BACKOFF(attempts) \
  NOW6 " + make_interval(secs => least(30 * 2 ^ (" attempts " - 1), 3600) * ($10::int / 1000000.0))"
static const char SQL_FAIL_NEW[] =
    "INSERT INTO integration_events AS e (source, event_type, status, outcome, external_id, "
    "idempotency_key, payload, error_message, attempts, next_attempt_at, processed_at, created_at, "
    "updated_at) VALUES ($1, $2, CASE WHEN $8::boolean AND 1 >= $9::int THEN 'dead' ELSE 'error' "
    "END, $11, $3, $4, $5::jsonb, $7, 1, CASE WHEN $8::boolean AND 1 < $9::int THEN " BACKOFF("1")
    " END, " NOW6 ", " NOW6 ", " NOW6 ") "
    "ON CONFLICT (source, idempotency_key) WHERE idempotency_key IS NOT NULL DO UPDATE SET "
    "status = CASE WHEN $8::boolean AND e.attempts + 1 >= $9::int THEN 'dead' ELSE 'error' END, "
    "outcome = $11, error_message = $7, attempts = e.attempts + 1, "
    "next_attempt_at = CASE WHEN $8::boolean AND e.attempts + 1 < $9::int THEN "
    BACKOFF("e.attempts + 1") " END, processed_at = " NOW6 ", updated_at = " NOW6 " "
    "WHERE e.status <> 'success' RETURNING id, status";
/* The same for a stored event being processed again ($1 is its id; it takes SQL_FAIL_NEW's
 * parameter list so that one array serves both: $2-$5 are unused, num_nulls() only gives
 * them a type). */
static const char SQL_FAIL_ID[] =
    "UPDATE integration_events SET status = CASE WHEN $8::boolean AND attempts + 1 >= $9::int "
    "THEN 'dead' ELSE 'error' END, outcome = $11, error_message = $7, attempts = attempts + 1, "
    "next_attempt_at = CASE WHEN $8::boolean AND attempts + 1 < $9::int THEN "
    BACKOFF("attempts + 1") " END, processed_at = " NOW6 ", updated_at = " NOW6 " "
    "WHERE id = $1::bigint AND num_nulls($2::text, $3::text, $4::text, $5::text) >= 0 "
    "RETURNING id, status";

/* Versioned properties and tombstones of one record (see sync.h): each stored property with
 * whether it is newer than the delivery ($3), and the tombstone with whether it is at least as
 * new. */
static const char SQL_PROPS[] =
    "SELECT property, value, coalesce(version > $3::timestamp, false), "
    "coalesce(version >= $3::timestamp, false) FROM fastepost_crm_properties "
    "WHERE source = $1 AND crm_id = $2::text";

/* Store the applied properties, the tombstone and the merged records' tombstones, never moving
 * a version backwards; deactivate the merged records' customers; on a restore, remove an older
 * tombstone.
 * $1 source, $2 crm id, $3 version, $4 property names, $5 values, $6 retired crm ids, $7 now,
 * $8 tombstone, $9 restore. */
#define SQL_PROPS_WRITE_TEXT \
    "WITH r AS (DELETE FROM fastepost_crm_properties WHERE $9::boolean AND source = $1 AND crm_id = $2 " \
    "AND property = '_deleted' AND version < $3::timestamp RETURNING 1), " \
    "w AS (INSERT INTO fastepost_crm_properties AS p (source, crm_id, property, version, value) " \
    "SELECT $1, $2, k.name, $3::timestamp, k.value FROM unnest($4::text[], $5::text[]) AS k(name, value) " \
    "UNION ALL SELECT $1, $2, '_deleted', $3::timestamp, NULL WHERE $8::boolean " \
    "UNION ALL SELECT DISTINCT $1, r, '_deleted', $3::timestamp, 'merged into ' || $2 " \
    "FROM unnest($6::text[]) AS r WHERE r <> $2 " \
    "ON CONFLICT (source, crm_id, property) DO UPDATE SET version = excluded.version, " \
    "value = excluded.value WHERE p.version <= excluded.version RETURNING 1), " \
    "c AS (UPDATE customers SET active = false, updated_at = " NOW7 ", last_synced_at = " NOW7 " " \
    "WHERE crm_source = $1 AND crm_id = ANY($6::text[]) AND crm_id <> $2 AND active RETURNING 1) " \
    "SELECT (SELECT count(*) FROM w), (SELECT count(*) FROM c), (SELECT count(*) FROM r)"
static const char SQL_PROPS_WRITE[] = SQL_PROPS_WRITE_TEXT;

/*
 * The match and the three large statements of round two as PL/pgSQL functions (schema
 * migrations 7-10): a
 * function's plans are cached in the server session that runs it, whoever the client is, so
 * behind a transaction pooler every server connection plans them once, and the client sends a
 * small unnamed call that is cheap to plan. The bodies are the statements above, unchanged:
 * every parameter arrives as text and the statements cast what is not text. Those migrations'
 * text must not change once shipped: a changed statement means a new migration that replaces the
 * function (CREATE OR REPLACE), and a call of its own name for the new signature if it has one.
 */
#define PARAMS_TEXT(n) PARAMS_TEXT_##n
#define PARAMS_TEXT_3 "text, text, text"
#define PARAMS_TEXT_6 PARAMS_TEXT_3 ", " PARAMS_TEXT_3
#define PARAMS_TEXT_9 PARAMS_TEXT_3 ", " PARAMS_TEXT_3 ", " PARAMS_TEXT_3
#define PARAMS_TEXT_11 PARAMS_TEXT_9 ", text, text"
#define PARAMS_TEXT_23 PARAMS_TEXT_11 ", " PARAMS_TEXT_11 ", text"
#define SYNC_FUNCTION(name, n, returns, body)                                                   \
  "CREATE OR REPLACE FUNCTION " name "(" PARAMS_TEXT(n) ") RETURNS TABLE (" returns ") "        \
  "LANGUAGE plpgsql AS $fastepost$\n#variable_conflict use_column\nBEGIN\nRETURN QUERY " body \
  ";\nEND\n$fastepost$;\n"
/* The match runs first, in round one; its columns are cast to fixed types, since an existing
 * Rails table may have text where the library would create varchar. */
const char fastepost__sync_function_match_sql[] =
    SYNC_FUNCTION("fastepost_sync_match", 6, "o_rank int, o_id bigint, o_crm_source text, o_crm_id text, "
                  "o_name text, o_email text, o_phone text, o_company text, o_address text, o_active boolean, "
                  "o_newer boolean", SQL_MATCH_TEXT);
const char fastepost__sync_function_apply_sql[] =
    SYNC_FUNCTION("fastepost_sync_apply", 23, "o_customer_id bigint, o_remark_id bigint, o_outcome text, "
                  "o_event_id bigint", SQL_APPLY_TEXT);
const char fastepost__sync_function_finish_sql[] =
    SYNC_FUNCTION("fastepost_sync_finish", 11, "o_event_id bigint", SQL_FINISH_TEXT);
const char fastepost__sync_function_props_write_sql[] =
    SYNC_FUNCTION("fastepost_sync_props_write", 9, "o_written bigint, o_deactivated bigint, o_restored bigint",
                  SQL_PROPS_WRITE_TEXT);

static const char CALL_MATCH[] = "SELECT * FROM fastepost_sync_match($1, $2, $3, $4, $5, $6)";
static const char CALL_APPLY[] =
    "SELECT * FROM fastepost_sync_apply($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
    "$15, $16, $17, $18, $19, $20, $21, $22, $23)";
static const char CALL_FINISH[] =
    "SELECT * FROM fastepost_sync_finish($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
static const char CALL_PROPS_WRITE[] =
    "SELECT * FROM fastepost_sync_props_write($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/* The hot path's statements, by name for error messages and for the plan test
 * (tests/db/plans.c). They are sent unnamed, inside the transaction that uses them: a named
 * prepared statement lives in the server session, which a transaction pooler (PgBouncer in
 * transaction mode) hands to other clients between transactions ("prepared statement ...
 * already exists" / "does not exist"). The small ones are planned at each use (a cost measured
 * in bench/README.md); the match and the three large ones run inside the functions above, whose
 * plans the server session caches. */
const fastepost__sync_statement fastepost__sync_statements[] = {
    {"fastepost_sync_lock", SQL_LOCK},       {"fastepost_sync_seen_key", SQL_SEEN_KEY},
    {"fastepost_sync_seen_id", SQL_SEEN_ID}, {"fastepost_sync_match", SQL_MATCH},
    {"fastepost_sync_task", SQL_TASK},       {"fastepost_sync_apply", SQL_APPLY},
    {"fastepost_sync_finish", SQL_FINISH},   {"fastepost_sync_props", SQL_PROPS},
    {"fastepost_sync_props_write", SQL_PROPS_WRITE},
    {"fastepost_sync_fail_new", SQL_FAIL_NEW}, {"fastepost_sync_fail_id", SQL_FAIL_ID},
    {NULL, NULL},
};

/* ---- pipelined round trips ------------------------------------------------------------------ */

#define MAX_PARAMS 24

typedef struct step {
  const char *stmt;   /* the statement's name (error messages), or NULL for plain sql */
  const char *sql;    /* the statement; with stmt NULL, plain SQL without parameters */
  int nparams;
  const char *params[MAX_PARAMS];
  ExecStatusType expected;
  PGresult *res;
} step;

static void steps_clear(step *steps, size_t n) {
  for (size_t i = 0; i < n; i++) {
    PQclear(steps[i].res);
    steps[i].res = NULL;
  }
}

/* Send every step in one pipeline and collect the results: one round trip. Returns OK, or the
 * first failing step's error. Results stay in steps[i].res for the caller to read and clear. */
static int run_steps(fastepost_conn *conn, step *steps, size_t n) {
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;
  if (!PQenterPipelineMode(pg))
    return fastepost__error_set(FASTEPOST_ECONN, "cannot enter pipeline mode: %s", PQerrorMessage(pg));
  int rc = FASTEPOST_OK;
  size_t sent = 0;
  for (; sent < n; sent++) {
    step *s = &steps[sent];
    int ok = PQsendQueryParams(pg, s->sql, s->nparams, NULL, s->params, NULL, NULL, 0);
    if (!ok)
      break;
  }
  if (sent < n || !PQpipelineSync(pg)) {
    rc = fastepost__pg_check(conn, NULL, PGRES_COMMAND_OK, "sending statements");
    PQexitPipelineMode(pg);
    return rc;
  }
  for (size_t i = 0; i < sent; i++) {
    PGresult *res = PQgetResult(pg);
    if (!res) { /* the connection broke */
      rc = rc ? rc : fastepost__pg_check(conn, NULL, steps[i].expected, "reading results");
      break;
    }
    steps[i].res = res;
    if (rc == FASTEPOST_OK && PQresultStatus(res) != steps[i].expected)
      rc = fastepost__pg_check(conn, res, steps[i].expected,
                               steps[i].stmt ? steps[i].stmt : steps[i].sql);
    /* Each query's results end with NULL. */
    PGresult *extra;
    while ((extra = PQgetResult(pg)) != NULL)
      PQclear(extra);
  }
  /* Then the sync point. */
  for (int guard = 0; guard < 4 && PQstatus(pg) == CONNECTION_OK; guard++) {
    PGresult *res = PQgetResult(pg);
    if (!res)
      continue;
    ExecStatusType st = PQresultStatus(res);
    PQclear(res);
    if (st == PGRES_PIPELINE_SYNC)
      break;
  }
  if (!PQexitPipelineMode(pg) && rc == FASTEPOST_OK)
    rc = fastepost__pg_check(conn, NULL, PGRES_COMMAND_OK, "leaving pipeline mode");
  if (rc == FASTEPOST_OK && PQstatus(pg) != CONNECTION_OK)
    rc = fastepost__error_set(FASTEPOST_ECONN, "the connection to the database was lost");
  return rc;
}

/* ---- decision ------------------------------------------------------------------------------- */

enum { RANK_LINK = 1, RANK_OWN, RANK_EMAIL, RANK_PHONE, RANK_COUNT };

typedef struct candidate {
  bool found;
  int64_t id;
  const char *crm_source, *crm_id; /* NULL for SQL NULL */
  const char *cols[5];             /* name, email, phone, company, address */
  bool active;
  bool newer; /* its crm_updated_at is later than the delivery's version */
} candidate;

typedef struct plan {
  const char *mode; /* "create", "update", "keep", or NULL: finish without applying */
  fastepost_outcome outcome; /* for finish: STALE, IGNORED or CONFLICT */
  const candidate *target;
  const char *cols[5];
  const char *active; /* "true", "false" or NULL (keep) */
  const char *crm_source, *crm_id, *crm_updated_at;
  bool changed;
  char message[512];
} plan;

static const char *get(const PGresult *r, int row, int col) {
  return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static void read_candidates(candidate *c, const PGresult *r) {
  for (int i = 0; r && i < PQntuples(r); i++) {
    int rank = atoi(PQgetvalue(r, i, 0));
    if (rank <= 0 || rank >= RANK_COUNT || c[rank].found)
      continue;
    candidate *k = &c[rank];
    k->found = true;
    k->id = atoll(PQgetvalue(r, i, 1));
    k->crm_source = get(r, i, 2);
    k->crm_id = get(r, i, 3);
    for (int col = 0; col < 5; col++)
      k->cols[col] = get(r, i, 4 + col);
    k->active = PQgetvalue(r, i, 9)[0] == 't';
    k->newer = PQgetvalue(r, i, 10)[0] == 't';
  }
}

static bool str_eq(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Whether crm_id is "<model>:..." */
static bool same_model(const char *crm_id, const char *model) {
  if (!model) /* a source whose crm ids are of one kind only (HubSpot contact ids) */
    return crm_id != NULL;
  size_t n = strlen(model);
  return crm_id && n && strncmp(crm_id, model, n) == 0 && crm_id[n] == ':';
}

static const char *merge(const fastepost__fact *f, const char *old) {
  switch (f->state) {
  case FASTEPOST__FACT_ABSENT: return old;
  case FASTEPOST__FACT_EMPTY: return NULL;
  case FASTEPOST__FACT_VALUE: return f->value;
  }
  return old;
}

static bool has_identity(const fastepost__customer_facts *f) {
  return f->name.state == FASTEPOST__FACT_VALUE || f->email.state == FASTEPOST__FACT_VALUE ||
         f->phone.state == FASTEPOST__FACT_VALUE || f->company.state == FASTEPOST__FACT_VALUE;
}

/* Whether the record uses versioned properties, tombstones or merges (sync.h). */
static bool versioned(const fastepost__sync_record *rec) {
  return rec->prop_defs || rec->tombstone || rec->restore || rec->retired_crm_ids.count;
}

/* f: the facts to apply (the record's own, or those rebuilt from versioned properties);
 * stale: a reason the delivery is stale that the properties decided, or NULL. */
static void decide(plan *p, const fastepost__sync_record *rec, const fastepost__customer_facts *f,
                   const char *stale, const candidate *c) {
  const fastepost__fact *facts[5] = {&f->name, &f->email, &f->phone, &f->company, &f->address};
  memset(p, 0, sizeof *p);
  const candidate *t = NULL;
  int via = 0;
  for (int rank = RANK_LINK; rank < RANK_COUNT && !t; rank++) {
    if (!c[rank].found || (rank == RANK_PHONE && !rec->match_phone) ||
        (rank == RANK_LINK && rec->owns_customer))
      continue;
    t = &c[rank];
    via = rank;
  }
  p->target = t;
  if (rec->ignore_reason) {
    p->outcome = FASTEPOST_OUTCOME_IGNORED;
    snprintf(p->message, sizeof p->message, "%s", rec->ignore_reason);
    return;
  }
  if (stale) {
    p->outcome = FASTEPOST_OUTCOME_STALE;
    snprintf(p->message, sizeof p->message, "%s", stale);
    return;
  }
  if (t && rec->owns_customer && via == RANK_EMAIL && str_eq(t->crm_source, rec->source) &&
      same_model(t->crm_id, rec->model) && !str_eq(t->crm_id, rec->crm_id)) {
    p->outcome = FASTEPOST_OUTCOME_CONFLICT;
    snprintf(p->message, sizeof p->message,
             "conflict: email %s belongs to customer %lld, linked to %s; this delivery is %s",
             t->cols[1], (long long)t->id, t->crm_id, rec->crm_id);
    return;
  }
  if (t && rec->owns_customer && via == RANK_OWN && c[RANK_EMAIL].found &&
      c[RANK_EMAIL].id != t->id && rec->facts.email.state == FASTEPOST__FACT_VALUE) {
    p->outcome = FASTEPOST_OUTCOME_CONFLICT;
    snprintf(p->message, sizeof p->message,
             "conflict: %s (customer %lld) has email %s, which belongs to customer %lld%s%s",
             rec->crm_id, (long long)t->id, rec->facts.email.value, (long long)c[RANK_EMAIL].id,
             c[RANK_EMAIL].crm_id ? ", linked to " : "", c[RANK_EMAIL].crm_id ? c[RANK_EMAIL].crm_id : "");
    return;
  }
  bool own_link = t && str_eq(t->crm_source, rec->source) && str_eq(t->crm_id, rec->crm_id);
  if (t && own_link && rec->version && t->newer && !versioned(rec)) {
    p->outcome = FASTEPOST_OUTCOME_STALE;
    snprintf(p->message, sizeof p->message, "stale: %s was changed at %s, older than the stored version",
             rec->crm_id, rec->version);
    return;
  }
  if (!t) {
    if (!has_identity(f) && !rec->create_bare) {
      p->outcome = FASTEPOST_OUTCOME_IGNORED;
      snprintf(p->message, sizeof p->message,
               "no customer matches %s and it has no name, email, phone or company to create one",
               rec->crm_id ? rec->crm_id : "the delivery");
      return;
    }
    p->mode = "create";
    for (int i = 0; i < 5; i++)
      p->cols[i] = merge(facts[i], NULL);
    p->active = f->active < 0 ? NULL : f->active ? "true" : "false";
    p->crm_source = rec->source;
    p->crm_id = rec->crm_id;
    p->crm_updated_at = rec->version;
    return;
  }
  if (!rec->owns_customer) {
    p->mode = "keep";
    return;
  }
  p->mode = "update";
  for (int i = 0; i < 5; i++) {
    p->cols[i] = merge(facts[i], t->cols[i]);
    if (!str_eq(p->cols[i], t->cols[i]))
      p->changed = true;
  }
  if (f->active >= 0) {
    p->active = f->active ? "true" : "false";
    if ((f->active != 0) != t->active)
      p->changed = true;
  }
  if (rec->retired_crm_ids.count)
    p->changed = true; /* a merge: the merged records' customers are deactivated */
  /* Link the customer to this record unless it belongs to another source, or to another
   * record of the same model (that case was a conflict above). */
  bool relink = !t->crm_id || (str_eq(t->crm_source, rec->source) && !same_model(t->crm_id, rec->model));
  if (relink || own_link) {
    p->crm_source = rec->source;
    p->crm_id = rec->crm_id;
    /* Versioned properties: crm_updated_at only moves forward. */
    p->crm_updated_at = versioned(rec) && t->newer ? NULL : rec->version;
    if (!own_link)
      p->changed = true;
  } else {
    p->crm_source = t->crm_source;
    p->crm_id = t->crm_id;
  }
}

/* ---- one event ------------------------------------------------------------------------------ */

static void array_literal(fastepost__buf *b, const char *const *items, size_t n) {
  fastepost__buf_putc(b, '{');
  for (size_t i = 0; i < n; i++) {
    if (i)
      fastepost__buf_putc(b, ',');
    if (!items[i]) {
      fastepost__buf_puts(b, "NULL");
      continue;
    }
    fastepost__buf_putc(b, '"');
    for (const char *p = items[i]; *p; p++) {
      if (*p == '"' || *p == '\\')
        fastepost__buf_putc(b, '\\');
      fastepost__buf_putc(b, *p);
    }
    fastepost__buf_putc(b, '"');
  }
  fastepost__buf_putc(b, '}');
}

static fastepost_outcome outcome_from(const char *s) {
  if (!s)
    return FASTEPOST_OUTCOME_NONE;
  for (int o = FASTEPOST_OUTCOME_CREATED; o <= FASTEPOST_OUTCOME_DUPLICATE; o++)
    if (strcmp(fastepost_outcome_name((fastepost_outcome)o), s) == 0)
      return (fastepost_outcome)o;
  return FASTEPOST_OUTCOME_NONE;
}

/* The remark's external_key: "<source>:<note_key>:<sha256(body)>". */
static int remark_key(fastepost__buf *out, const fastepost__sync_record *rec) {
  char hex[FASTEPOST__SHA256_HEX_LEN + 1];
  const char *parts[] = {rec->note_body};
  size_t lens[] = {strlen(rec->note_body)};
  int rc = fastepost__sha256_hex(hex, 1, parts, lens);
  if (rc)
    return rc;
  return fastepost__buf_printf(out, "%s:%s:%s", rec->source, rec->note_key ? rec->note_key : "note", hex);
}

/* ---- one event as a job: round one, decision, round two -------------------------------------- */

#define MAX_KEYS 5

/* One delivery on its way through the core. Everything the pipelined statements point to lives
 * here until its round trips are done. */
typedef struct job {
  const fastepost__sync_record *rec;
  fastepost_event_result *res;
  const char *email, *phone;
  bool want_customer, want_task;
  fastepost__buf keybufs[MAX_KEYS]; /* advisory lock keys */
  const char *keys[MAX_KEYS];
  size_t nkeys;
  fastepost__buf key_array, barcodes, rkey;
  fastepost__strlist more_keys; /* lock keys beyond keys[]: merged records */
  char event_id[24], task_id[24], ev[24], cid[24], tid_s[24];
  int i_seen, i_match, i_task, i_props; /* indexes into the round-one steps, -1 when not sent */
  /* versioned properties: the facts rebuilt from them (values point into comp or the record),
   * what is written back, and why the delivery is stale */
  fastepost__customer_facts facts;
  fastepost__buf comp[FASTEPOST__NCOLS], prop_names, prop_values, retired;
  char stale[256];
  bool write_props;
  step props_write;
  candidate cands[RANK_COUNT];
  plan p;
  int64_t tid;
  bool link_task;
  bool duplicate;
  step apply; /* round two */
} job;

static void job_key(job *j, const char *kind, const char *scope, const char *value) {
  if (!value || j->nkeys >= MAX_KEYS)
    return;
  fastepost__buf *b = &j->keybufs[j->nkeys];
  if (scope)
    fastepost__buf_printf(b, "%s:%s:%s", kind, scope, value);
  else
    fastepost__buf_printf(b, "%s:%s", kind, value);
  j->keys[j->nkeys++] = fastepost__buf_cstr(b);
}

/* The value delivered for a column: the fact, else the first versioned property feeding it. */
static const char *delivered(const fastepost__sync_record *rec, int column) {
  const fastepost__fact *f = column == FASTEPOST__COL_EMAIL ? &rec->facts.email : &rec->facts.phone;
  if (f->state == FASTEPOST__FACT_VALUE)
    return f->value;
  for (size_t i = 0; rec->prop_defs && i < rec->nprops && i < FASTEPOST__MAX_PROPS; i++)
    if (rec->prop_defs[i].column == column && rec->props[i].state == FASTEPOST__FACT_VALUE)
      return rec->props[i].value;
  return NULL;
}

static int job_init(job *j, const fastepost__sync_record *rec, fastepost_event_result *res) {
  memset(j, 0, sizeof *j);
  j->rec = rec;
  j->res = res;
  j->i_seen = j->i_match = j->i_task = j->i_props = -1;
  j->facts = rec->facts; /* borrowed; never freed through the job */
  const char *phone = delivered(rec, FASTEPOST__COL_PHONE);
  j->email = delivered(rec, FASTEPOST__COL_EMAIL);
  j->phone = rec->match_phone ? phone : NULL;
  j->want_customer = !rec->ignore_reason;
  j->want_task = j->want_customer && (rec->task_id > 0 || rec->barcodes.count);
  /* Deliveries with the same idempotency key, crm record, email or phone run one after the
   * other: the second then sees what the first committed. */
  job_key(j, "event", rec->source, rec->idempotency_key); /* a retry recomputes the same key */
  job_key(j, "crm", rec->source, rec->crm_id);
  job_key(j, "crm", rec->source, rec->link_crm_id);
  job_key(j, "email", NULL, j->email);
  /* also when this record does not match by phone: a lead delivered at the same time may */
  job_key(j, "phone", NULL, phone);
  /* merged records: their tombstones and customers are written too */
  for (size_t i = 0; i < rec->retired_crm_ids.count; i++)
    fastepost__strlist_addf(&j->more_keys, "crm:%s:%s", rec->source, rec->retired_crm_ids.items[i]);
  {
    const char **all = malloc((j->nkeys + j->more_keys.count + 1) * sizeof *all);
    if (!all)
      return fastepost__error_oom();
    for (size_t i = 0; i < j->nkeys; i++)
      all[i] = j->keys[i];
    for (size_t i = 0; i < j->more_keys.count; i++)
      all[j->nkeys + i] = j->more_keys.items[i];
    array_literal(&j->key_array, all, j->nkeys + j->more_keys.count);
    free(all);
  }
  array_literal(&j->barcodes, (const char *const *)rec->barcodes.items, rec->barcodes.count);
  snprintf(j->event_id, sizeof j->event_id, "%lld", (long long)rec->event_id);
  snprintf(j->task_id, sizeof j->task_id, "%lld", (long long)rec->task_id);
  bool oom = j->key_array.oom || j->barcodes.oom;
  for (size_t i = 0; i < j->nkeys; i++)
    oom |= j->keybufs[i].oom;
  return oom ? fastepost__error_oom() : FASTEPOST_OK;
}

static void job_free(job *j) {
  for (size_t i = 0; i < MAX_KEYS; i++)
    fastepost__buf_free(&j->keybufs[i]);
  fastepost__buf_free(&j->key_array);
  fastepost__strlist_free(&j->more_keys);
  fastepost__buf_free(&j->barcodes);
  fastepost__buf_free(&j->rkey);
  for (size_t i = 0; i < FASTEPOST__NCOLS; i++)
    fastepost__buf_free(&j->comp[i]);
  fastepost__buf_free(&j->prop_names);
  fastepost__buf_free(&j->prop_values);
  fastepost__buf_free(&j->retired);
  PQclear(j->apply.res);
  j->apply.res = NULL;
  PQclear(j->props_write.res);
  j->props_write.res = NULL;
}

/* Append the job's lookups (seen, match, task) to round one. */
static void job_round1(job *j, step *r1, size_t *n) {
  const fastepost__sync_record *rec = j->rec;
  if (rec->event_id > 0 || rec->idempotency_key) {
    j->i_seen = (int)*n;
    r1[(*n)++] = rec->event_id > 0
                     ? (step){.stmt = "fastepost_sync_seen_id", .sql = SQL_SEEN_ID, .nparams = 1, .params = {j->event_id},
                              .expected = PGRES_TUPLES_OK}
                     : (step){.stmt = "fastepost_sync_seen_key", .sql = SQL_SEEN_KEY, .nparams = 2,
                              .params = {rec->source, rec->idempotency_key}, .expected = PGRES_TUPLES_OK};
  }
  if (j->want_customer) {
    j->i_match = (int)*n;
    r1[(*n)++] = (step){.stmt = "fastepost_sync_match", .sql = CALL_MATCH, .nparams = 6,
                        .params = {rec->link_crm_id, rec->crm_id, j->email, j->phone, rec->source, rec->version},
                        .expected = PGRES_TUPLES_OK};
  }
  if (versioned(rec) && rec->crm_id) {
    j->i_props = (int)*n;
    r1[(*n)++] = (step){.stmt = "fastepost_sync_props", .sql = SQL_PROPS, .nparams = 3,
                        .params = {rec->source, rec->crm_id, rec->version}, .expected = PGRES_TUPLES_OK};
  }
  if (j->want_task) {
    j->i_task = (int)*n;
    r1[(*n)++] = (step){.stmt = "fastepost_sync_task", .sql = SQL_TASK, .nparams = 2,
                        .params = {rec->task_id > 0 ? j->task_id : NULL, fastepost__buf_cstr(&j->barcodes)},
                        .expected = PGRES_TUPLES_OK};
  }
}

/* Versioned properties (sync.h): from the stored ones, decide which delivered properties apply,
 * rebuild the columns they feed into j->facts, and list what round two stores. */
static int job_props(job *j, const PGresult *r) {
  const fastepost__sync_record *rec = j->rec;
  const char *stored[FASTEPOST__MAX_PROPS] = {0};
  bool newer[FASTEPOST__MAX_PROPS] = {0}, applied[FASTEPOST__MAX_PROPS] = {0};
  size_t nprops = rec->nprops < FASTEPOST__MAX_PROPS ? rec->nprops : FASTEPOST__MAX_PROPS;
  for (int row = 0; row < PQntuples(r); row++) {
    const char *name = PQgetvalue(r, row, 0);
    if (strcmp(name, "_deleted") == 0) {
      if (PQgetvalue(r, row, 3)[0] == 't' && !rec->tombstone)
        snprintf(j->stale, sizeof j->stale, "stale: %s was deleted at or after %s", rec->crm_id,
                 rec->version ? rec->version : "this change");
      continue;
    }
    for (size_t i = 0; i < nprops; i++)
      if (strcmp(rec->prop_defs[i].name, name) == 0) {
        stored[i] = get(r, row, 1);
        newer[i] = PQgetvalue(r, row, 2)[0] == 't';
      }
  }
  size_t delivered = 0, napplied = 0;
  const char *names[FASTEPOST__MAX_PROPS], *values[FASTEPOST__MAX_PROPS];
  for (size_t i = 0; i < nprops; i++) {
    if (rec->props[i].state == FASTEPOST__FACT_ABSENT)
      continue;
    delivered++;
    if (newer[i]) {
      fastepost__strlist_addf(&j->res->warnings, "%s: a newer value is stored; this older one was not applied",
                              rec->prop_defs[i].name);
      continue;
    }
    applied[i] = true;
    names[napplied] = rec->prop_defs[i].name;
    values[napplied++] = rec->props[i].state == FASTEPOST__FACT_VALUE ? rec->props[i].value : NULL;
  }
  if (!*j->stale && delivered && !napplied && !rec->tombstone && !rec->retired_crm_ids.count)
    snprintf(j->stale, sizeof j->stale, "stale: every property of %s in this delivery has a newer stored value",
             rec->crm_id);
  fastepost__fact *cols[FASTEPOST__NCOLS] = {&j->facts.name, &j->facts.email, &j->facts.phone,
                                             &j->facts.company, &j->facts.address};
  static const char *const sep[FASTEPOST__NCOLS] = {" ", NULL, NULL, NULL, ", "};
  for (int c = 0; c < FASTEPOST__NCOLS; c++) {
    bool touched = false;
    for (size_t i = 0; i < nprops; i++)
      touched |= applied[i] && rec->prop_defs[i].column == c;
    if (!touched)
      continue;
    fastepost__buf *b = &j->comp[c];
    bool any = false;
    for (size_t i = 0; i < nprops; i++) {
      if (rec->prop_defs[i].column != c)
        continue;
      const char *v = applied[i] ? (rec->props[i].state == FASTEPOST__FACT_VALUE ? rec->props[i].value : NULL)
                                 : stored[i];
      if (!v || !*v || (any && !sep[c]))
        continue;
      fastepost__buf_puts(b, any ? sep[c] : "");
      fastepost__buf_puts(b, v);
      any = true;
    }
    cols[c]->state = any ? FASTEPOST__FACT_VALUE : FASTEPOST__FACT_EMPTY;
    cols[c]->value = any ? (char *)(uintptr_t)fastepost__buf_cstr(b) : NULL;
  }
  array_literal(&j->prop_names, names, napplied);
  array_literal(&j->prop_values, values, napplied);
  array_literal(&j->retired, (const char *const *)rec->retired_crm_ids.items, rec->retired_crm_ids.count);
  bool oom = j->prop_names.oom || j->prop_values.oom || j->retired.oom;
  for (int c = 0; c < FASTEPOST__NCOLS; c++)
    oom |= j->comp[c].oom;
  return oom ? fastepost__error_oom() : FASTEPOST_OK;
}

/* From round one's results: a duplicate, or the round-two statement in j->apply. */
static int job_decide(job *j, const step *r1, const char *now) {
  const fastepost__sync_record *rec = j->rec;
  fastepost_event_result *res = j->res;
  /* A delivery already processed (or a retry of an event that no longer failed) is a duplicate;
   * one that failed before is processed again on its own row. */
  int64_t ev_id = rec->event_id;
  if (j->i_seen >= 0 && PQntuples(r1[j->i_seen].res) == 1) {
    const char *status = PQgetvalue(r1[j->i_seen].res, 0, 1);
    int64_t seen = atoll(PQgetvalue(r1[j->i_seen].res, 0, 0));
    bool failed = strcmp(status, "error") == 0 || (rec->event_id == 0 && strcmp(status, "dead") == 0);
    if (!failed) {
      j->duplicate = true;
      res->outcome = FASTEPOST_OUTCOME_DUPLICATE;
      res->event_id = seen;
      res->customer_id = PQgetisnull(r1[j->i_seen].res, 0, 2) ? 0 : atoll(PQgetvalue(r1[j->i_seen].res, 0, 2));
      return FASTEPOST_OK;
    }
    ev_id = seen;
  } else if (rec->event_id > 0) {
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "event %lld no longer exists", (long long)rec->event_id);
  }
  snprintf(j->ev, sizeof j->ev, "%lld", (long long)ev_id);

  if (j->i_match >= 0)
    read_candidates(j->cands, r1[j->i_match].res);
  int rc;
  if (j->i_props >= 0 && (rc = job_props(j, r1[j->i_props].res)))
    return rc;
  plan *p = &j->p;
  decide(p, rec, &j->facts, *j->stale ? j->stale : NULL, j->cands);

  /* The task: its customer is set when empty, left alone (with a warning) when it is another. */
  if (j->i_task >= 0 && PQntuples(r1[j->i_task].res) == 1) {
    const PGresult *t = r1[j->i_task].res;
    j->tid = atoll(PQgetvalue(t, 0, 0));
    int64_t owner = PQgetisnull(t, 0, 1) ? 0 : atoll(PQgetvalue(t, 0, 1));
    if (!owner)
      j->link_task = true;
    else if (p->mode && owner != (p->target ? p->target->id : 0))
      fastepost__strlist_addf(&res->warnings, "task %lld belongs to customer %lld: its customer was left alone",
                              (long long)j->tid, (long long)owner);
  }
  if (rec->note_body && p->mode && (rc = remark_key(&j->rkey, rec)))
    return rc;
  snprintf(j->cid, sizeof j->cid, "%lld", (long long)(p->target ? p->target->id : 0));
  snprintf(j->tid_s, sizeof j->tid_s, "%lld", (long long)j->tid);
  if (p->mode) {
    j->apply = (step){.stmt = "fastepost_sync_apply", .sql = CALL_APPLY, .nparams = 23,
                      .params = {j->ev, rec->source, rec->event_type, rec->external_id, rec->idempotency_key,
                                 rec->payload, now, p->mode, j->cid, p->cols[0], p->cols[1], p->cols[2],
                                 p->cols[3], p->cols[4], p->active, p->crm_source, p->crm_id,
                                 p->crm_updated_at, p->changed ? "true" : "false", j->tid ? j->tid_s : NULL,
                                 j->link_task ? "true" : "false", rec->note_body,
                                 rec->note_body ? fastepost__buf_cstr(&j->rkey) : NULL},
                      .expected = PGRES_TUPLES_OK};
  } else {
    bool conflict = p->outcome == FASTEPOST_OUTCOME_CONFLICT;
    j->apply = (step){.stmt = "fastepost_sync_finish", .sql = CALL_FINISH, .nparams = 11,
                      .params = {j->ev, rec->source, rec->event_type, rec->external_id, rec->idempotency_key,
                                 rec->payload, now, conflict ? "error" : "success",
                                 fastepost_outcome_name(p->outcome), p->target && !conflict ? j->cid : NULL,
                                 p->outcome == FASTEPOST_OUTCOME_STALE ? NULL : p->message},
                      .expected = PGRES_TUPLES_OK};
  }
  /* Properties and tombstones are stored whenever the delivery was applied, and also when it
   * found no customer to apply to (a deletion arriving before anything else). */
  j->write_props = j->i_props >= 0 && (p->mode || (p->outcome == FASTEPOST_OUTCOME_IGNORED && !rec->ignore_reason));
  if (j->write_props)
    j->props_write = (step){.stmt = "fastepost_sync_props_write", .sql = CALL_PROPS_WRITE, .nparams = 9,
                            .params = {rec->source, rec->crm_id, rec->version, fastepost__buf_cstr(&j->prop_names),
                                       fastepost__buf_cstr(&j->prop_values), fastepost__buf_cstr(&j->retired), now,
                                       rec->tombstone ? "true" : "false", rec->restore ? "true" : "false"},
                            .expected = PGRES_TUPLES_OK};
  return FASTEPOST_OK;
}

/* From round two's result: the ids and the outcome. */
static void job_finish(job *j) {
  fastepost_event_result *res = j->res;
  const PGresult *a = j->apply.res;
  if (j->duplicate)
    return;
  if (j->p.mode) {
    res->customer_id = PQgetisnull(a, 0, 0) ? 0 : atoll(PQgetvalue(a, 0, 0));
    res->remark_id = PQgetisnull(a, 0, 1) ? 0 : atoll(PQgetvalue(a, 0, 1));
    res->outcome = outcome_from(get(a, 0, 2));
    res->event_id = PQgetisnull(a, 0, 3) ? 0 : atoll(PQgetvalue(a, 0, 3));
    res->task_id = j->tid;
    return;
  }
  res->event_id = PQgetisnull(a, 0, 0) ? 0 : atoll(PQgetvalue(a, 0, 0));
  res->outcome = j->p.outcome;
  res->customer_id = j->p.outcome == FASTEPOST_OUTCOME_STALE && j->p.target ? j->p.target->id : 0;
  if (j->p.outcome == FASTEPOST_OUTCOME_CONFLICT) {
    fastepost__error_set(FASTEPOST_ECONFLICT, "%s", j->p.message);
    fastepost__result_fail(res, FASTEPOST_ECONFLICT);
  } else if (j->p.outcome == FASTEPOST_OUTCOME_IGNORED) {
    fastepost__strlist_addf(&res->warnings, "ignored: %s", j->p.message);
  }
}

/* The "now" parameter: the injected clock's time, or NULL for the server's clock (NOW7). */
static const char *sync_now(char *buf, size_t size, const fastepost__sync_ctx *ctx) {
  if (ctx->now_us == FASTEPOST__SYNC_SERVER_CLOCK)
    return NULL;
  fastepost__time_format(buf, size, ctx->now_us);
  return buf;
}

/* ---- bounded waits ------------------------------------------------------------------------- */

/* The sync transaction takes advisory locks and row locks that another session may hold; none
 * of those waits may be unbounded (a webhook sender gives up after seconds, and a hung worker
 * holds its connection). The connection's statement and lock timeouts (conn.h) and UTC come
 * with the plan-cache setting in ONE statement (a pipeline step must be a single statement);
 * set_config(..., true) is SET LOCAL, so a transaction pooler hands nothing on. A held lock
 * (55P03) is FASTEPOST_EBUSY through conn.c's SQLSTATE map: 503, and the event is retried.
 * force_generic_plan: the sync functions' statements (migrations 7-10) are planned once per
 * server session instead of again and again (PostgreSQL keeps custom plans while they look
 * cheaper than the generic one, and they do for data-modifying CTEs); every statement of the
 * hot path has a generic plan that probes indexes (tests/db/plans.c). */
static const char *sync_settings_sql(const fastepost_conn *conn, char *buf, size_t size) {
  char tx[FASTEPOST__TX_SETTINGS_SIZE];
  snprintf(buf, size, "%s, pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true)",
           fastepost__tx_settings_sql(conn, tx, sizeof tx));
  return buf;
}

/* One event in its own transaction (or savepoint, in a batch): two round trips. Returns a
 * database status; a conflict is committed like any outcome and reported through res->code. */
static int attempt(fastepost_event_result *res, fastepost_conn *conn, const fastepost__sync_record *rec,
                   const fastepost__sync_ctx *ctx, const char *now) {
  job j;
  step r1[7] = {{0}}, r2[3] = {{0}};
  size_t n1 = 0, n2 = 0;
  int rc = job_init(&j, rec, res);
  if (rc)
    goto done;
  r1[n1++] = (step){.sql = ctx->in_batch ? "SAVEPOINT fastepost_event" : "BEGIN", .expected = PGRES_COMMAND_OK};
  /* A batch sets these once for its transaction. */
  char settings[512];
  if (!ctx->in_batch)
    r1[n1++] = (step){.sql = sync_settings_sql(conn, settings, sizeof settings), .expected = PGRES_TUPLES_OK};
  if (j.nkeys)
    r1[n1++] = (step){.stmt = "fastepost_sync_lock", .sql = SQL_LOCK, .nparams = 1, .params = {fastepost__buf_cstr(&j.key_array)},
                      .expected = PGRES_TUPLES_OK};
  job_round1(&j, r1, &n1);
  if ((rc = run_steps(conn, r1, n1)) || (rc = job_decide(&j, r1, now)))
    goto done;
  if (!j.duplicate)
    r2[n2++] = j.apply;
  if (!j.duplicate && j.write_props)
    r2[n2++] = j.props_write;
  r2[n2++] = (step){.sql = ctx->in_batch ? "RELEASE SAVEPOINT fastepost_event" : j.duplicate ? "ROLLBACK" : "COMMIT",
                    .expected = PGRES_COMMAND_OK};
  if ((rc = run_steps(conn, r2, n2)))
    goto done;
  j.apply.res = j.duplicate ? NULL : r2[0].res;
  r2[0].res = j.duplicate ? r2[0].res : NULL;
  job_finish(&j);
done:
  steps_clear(r1, n1);
  steps_clear(r2, n2);
  job_free(&j);
  return rc;
}

/* Log a failed delivery (in the current transaction when in a batch, else on its own). */
static int log_failure(fastepost_event_result *res, fastepost_conn *conn, const fastepost__sync_record *rec,
                       const fastepost__sync_ctx *ctx, const char *now, int code, const char *message) {
  bool transient = fastepost__sync_transient(code);
  uint32_t r = 0;
  RAND_bytes((unsigned char *)&r, sizeof r);
  char jitter[32], max[16];
  /* Equal jitter: between half and all of the exponential delay, in parts per million (integer
   * arithmetic only: 500000 .. 999999). */
  snprintf(jitter, sizeof jitter, "%u", 500000u + (unsigned)(((uint64_t)r * 500000u) >> 32));
  snprintf(max, sizeof max, "%d", ctx->max_attempts > 0 ? ctx->max_attempts : FASTEPOST_EVENTS_MAX_ATTEMPTS);
  char ev[24];
  snprintf(ev, sizeof ev, "%lld", (long long)rec->event_id);
  const char *event_type = rec->event_type ? rec->event_type : "unknown";
  const char *params[11];
  if (rec->event_id > 0) {
    const char *p[11] = {ev, event_type, NULL, NULL, NULL, now, message,
                         transient ? "true" : "false", max, jitter, NULL};
    memcpy(params, p, sizeof p);
  } else {
    const char *p[11] = {rec->source, event_type, rec->external_id, rec->idempotency_key,
                         rec->payload, now, message, transient ? "true" : "false", max, jitter, NULL};
    memcpy(params, p, sizeof p);
  }
  PGresult *out = NULL;
  const char *sql = rec->event_id > 0 ? SQL_FAIL_ID : SQL_FAIL_NEW;
  /* In a batch a refused statement would abort the whole transaction: fence it. */
  int rc = ctx->in_batch ? fastepost__exec(conn, "SAVEPOINT fastepost_log", "logging the failed event")
                         : FASTEPOST_OK;
  if (rc == FASTEPOST_OK)
    rc = fastepost__query(&out, conn, sql, 11, params, PGRES_TUPLES_OK, "logging the failed event");
  if (rc == FASTEPOST_EDB && params[4]) {
    /* The payload itself may be what the database refused: log the failure without it. */
    if (ctx->in_batch)
      fastepost__exec(conn, "ROLLBACK TO SAVEPOINT fastepost_log", "logging the failed event");
    params[4] = NULL;
    rc = fastepost__query(&out, conn, sql, 11, params, PGRES_TUPLES_OK, "logging the failed event");
  }
  if (ctx->in_batch && conn->pg && PQstatus(conn->pg) == CONNECTION_OK)
    fastepost__exec(conn, rc ? "ROLLBACK TO SAVEPOINT fastepost_log; RELEASE SAVEPOINT fastepost_log"
                             : "RELEASE SAVEPOINT fastepost_log",
                    "logging the failed event");
  if (rc == FASTEPOST_OK && PQntuples(out) == 1)
    res->event_id = atoll(PQgetvalue(out, 0, 0));
  PQclear(out);
  return rc;
}

/* Whether conn cannot start a transaction of our own, with the error set: inside the caller's
 * transaction our COMMIT would end it (EINVALID); a connection that a lost server or an
 * interrupted pipeline left broken is ECONN, so the host resets it (or the delivery is spooled). */
static bool busy_connection(fastepost_conn *conn, const char *what) {
  if (!conn || !conn->pg)
    return false;
  if (PQstatus(conn->pg) != CONNECTION_OK || PQtransactionStatus(conn->pg) == PQTRANS_UNKNOWN) {
    fastepost__error_set(FASTEPOST_ECONN, "the connection to the database was lost");
    return true;
  }
  if (PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
    fastepost__error_set(FASTEPOST_EINVALID, "the connection is inside a transaction: %s needs a "
                                             "transaction of its own", what);
    return true;
  }
  return false;
}

int fastepost__sync_process(fastepost_event_result *res, fastepost_conn *conn,
                            fastepost__sync_record *rec, const fastepost__sync_ctx *ctx) {
  char clock_buf[32];
  const char *now = sync_now(clock_buf, sizeof clock_buf, ctx);
  for (size_t i = 0; i < rec->warnings.count; i++)
    fastepost__strlist_add(&res->warnings, rec->warnings.items[i]);
  res->code = FASTEPOST_OK;
  if (!ctx->in_batch && busy_connection(conn, "an event"))
    return fastepost__result_fail(res, fastepost_error_last()->code);

  if (rec->failure) {
    /* Rejected by the adapter: log it (the message, never the raw body) and report. */
    char message[1024];
    snprintf(message, sizeof message, "%s", rec->failure_message ? rec->failure_message : "");
    if (log_failure(res, conn, rec, ctx, now, rec->failure, message) != FASTEPOST_OK)
      fastepost__strlist_addf(&res->warnings, "the failure could not be logged: %s",
                              fastepost_error_last()->message);
    fastepost__error_set(rec->failure, "%s", message);
    return fastepost__result_fail(res, rec->failure);
  }

  int rc = fastepost__conn_pg(conn) ? FASTEPOST_OK : fastepost_error_last()->code;
  if (rc == FASTEPOST_OK)
    rc = attempt(res, conn, rec, ctx, now);
  if (rc == FASTEPOST_OK)
    return res->code;

  /* The transaction failed: undo it, then log the event as failed on its own. */
  char message[1024];
  snprintf(message, sizeof message, "%s", fastepost_error_last()->message);
  char sqlstate[6];
  snprintf(sqlstate, sizeof sqlstate, "%s", fastepost_error_last()->sqlstate);
  res->outcome = FASTEPOST_OUTCOME_NONE;
  res->customer_id = res->remark_id = res->task_id = 0;
  if (ctx->in_batch) {
    if (conn->pg && PQstatus(conn->pg) == CONNECTION_OK) {
      fastepost__exec(conn, "ROLLBACK TO SAVEPOINT fastepost_event", "rolling back the event");
      if (log_failure(res, conn, rec, ctx, now, rc, message) == FASTEPOST_OK)
        fastepost__exec(conn, "RELEASE SAVEPOINT fastepost_event", "releasing the event");
    }
  } else {
    fastepost__tx_rollback(conn);
    /* A connection that broke under us (not one the host closed) is worth one reconnect,
     * so that the failure is at least queued for a retry. */
    if (rc == FASTEPOST_ECONN && conn && conn->pg && PQstatus(conn->pg) != CONNECTION_OK)
      fastepost_conn_reset(conn);
    if (conn && conn->pg && PQstatus(conn->pg) == CONNECTION_OK)
      log_failure(res, conn, rec, ctx, now, rc, message);
  }
  fastepost__error_set_sqlstate(rc, sqlstate, "%s", message);
  return fastepost__result_fail(res, rc);
}

/* ---- batches: chunks of independent events, two round trips per chunk -------------------------- */

#define CHUNK_MAX 64

/* A result as it is before processing: nothing but the adapter's warnings (when rec is given). */
static void result_reset(fastepost_event_result *res, const fastepost__sync_record *rec) {
  res->code = FASTEPOST_OK;
  res->outcome = FASTEPOST_OUTCOME_NONE;
  res->event_id = res->customer_id = res->remark_id = res->task_id = 0;
  free(res->error);
  res->error = NULL;
  fastepost__strlist_free(&res->warnings);
  for (size_t i = 0; rec && i < rec->warnings.count; i++)
    fastepost__strlist_add(&res->warnings, rec->warnings.items[i]);
}

/* Everything an event may read or write that another event of the same chunk could too: its
 * lock keys and its task references. */
static int chunk_keys(const job *j, fastepost__strlist *out) {
  const fastepost__sync_record *rec = j->rec;
  int rc = FASTEPOST_OK;
  for (size_t i = 0; i < j->nkeys && !rc; i++)
    rc = fastepost__strlist_add(out, j->keys[i]);
  for (size_t i = 0; i < j->more_keys.count && !rc; i++)
    rc = fastepost__strlist_add(out, j->more_keys.items[i]);
  if (!rc && rec->task_id > 0)
    rc = fastepost__strlist_addf(out, "task:%lld", (long long)rec->task_id);
  for (size_t i = 0; i < rec->barcodes.count && !rc; i++)
    rc = fastepost__strlist_addf(out, "barcode:%s", rec->barcodes.items[i]);
  return rc;
}

static bool shares_key(const fastepost__strlist *chunk, const fastepost__strlist *mine) {
  for (size_t i = 0; i < mine->count; i++)
    for (size_t k = 0; k < chunk->count; k++)
      if (strcmp(mine->items[i], chunk->items[k]) == 0)
        return true;
  return false;
}

/* Look up every event of the chunk in one round trip, apply them all in a second. On any
 * failure the chunk is rolled back to its savepoint and the caller replays it event by event. */
static int run_chunk(job *jobs, size_t k, fastepost_conn *conn, const fastepost__strlist *locks, const char *now) {
  fastepost__buf all = FASTEPOST__BUF_INIT;
  array_literal(&all, (const char *const *)locks->items, locks->count);
  step *r1 = calloc(2 + 4 * k, sizeof *r1), *r2 = calloc(2 * k + 1, sizeof *r2);
  size_t n1 = 0, n2 = 0;
  int rc = !r1 || !r2 || all.oom ? fastepost__error_oom() : FASTEPOST_OK;
  if (rc)
    goto done;
  r1[n1++] = (step){.sql = "SAVEPOINT fastepost_chunk", .expected = PGRES_COMMAND_OK};
  r1[n1++] = (step){.stmt = "fastepost_sync_lock", .sql = SQL_LOCK, .nparams = 1, .params = {fastepost__buf_cstr(&all)},
                    .expected = PGRES_TUPLES_OK};
  for (size_t i = 0; i < k; i++)
    job_round1(&jobs[i], r1, &n1);
  if ((rc = run_steps(conn, r1, n1)))
    goto done;
  for (size_t i = 0; i < k && !rc; i++)
    rc = job_decide(&jobs[i], r1, now);
  if (rc)
    goto done;
  for (size_t i = 0; i < k; i++) {
    if (jobs[i].duplicate)
      continue;
    r2[n2++] = jobs[i].apply;
    if (jobs[i].write_props)
      r2[n2++] = jobs[i].props_write;
  }
  r2[n2++] = (step){.sql = "RELEASE SAVEPOINT fastepost_chunk", .expected = PGRES_COMMAND_OK};
  if ((rc = run_steps(conn, r2, n2)))
    goto done;
  for (size_t i = 0, s = 0; i < k; i++) {
    if (jobs[i].duplicate)
      continue;
    jobs[i].apply.res = r2[s].res;
    r2[s++].res = NULL;
    s += jobs[i].write_props; /* its result is cleared with the others */
    job_finish(&jobs[i]);
  }
done:
  if (rc && conn && conn->pg && PQstatus(conn->pg) == CONNECTION_OK) {
    char message[1024];
    snprintf(message, sizeof message, "%s", fastepost_error_last()->message);
    fastepost__exec(conn, "ROLLBACK TO SAVEPOINT fastepost_chunk; RELEASE SAVEPOINT fastepost_chunk",
                    "rolling back a chunk");
    fastepost__error_set(rc, "%s", message);
  }
  if (r1)
    steps_clear(r1, n1);
  if (r2)
    steps_clear(r2, n2);
  free(r1);
  free(r2);
  fastepost__buf_free(&all);
  return rc;
}

int fastepost__sync_process_many(fastepost_event_result **res, fastepost_conn *conn,
                                 fastepost__sync_record *recs, size_t n, const fastepost__sync_ctx *ctx) {
  char clock_buf[32];
  const char *now = sync_now(clock_buf, sizeof clock_buf, ctx);
  job *jobs = calloc(CHUNK_MAX, sizeof *jobs);
  if (!jobs)
    return fastepost__error_oom();
  size_t i = 0;
  int rc = FASTEPOST_OK;
  while (i < n && rc != FASTEPOST_ECONN) {
    /* Gather consecutive events that share nothing; the first that does starts the next chunk,
     * so that the order of deliveries touching the same customer is kept. */
    fastepost__strlist chunk = {0}, locks = {0};
    size_t k = 0;
    while (i + k < n && k < CHUNK_MAX && !recs[i + k].failure && res[i + k]) {
      fastepost__strlist mine = {0};
      job *j = &jobs[k];
      bool ok = job_init(j, &recs[i + k], res[i + k]) == FASTEPOST_OK && chunk_keys(j, &mine) == FASTEPOST_OK;
      if (!ok || shares_key(&chunk, &mine)) {
        fastepost__strlist_free(&mine);
        job_free(j);
        break;
      }
      for (size_t m = 0; m < mine.count; m++)
        fastepost__strlist_add(&chunk, mine.items[m]);
      for (size_t m = 0; m < j->nkeys; m++)
        fastepost__strlist_add(&locks, j->keys[m]);
      for (size_t m = 0; m < j->more_keys.count; m++)
        fastepost__strlist_add(&locks, j->more_keys.items[m]);
      fastepost__strlist_free(&mine);
      result_reset(res[i + k], &recs[i + k]);
      k++;
    }
    int crc = k >= 2 ? run_chunk(jobs, k, conn, &locks, now) : FASTEPOST_ERROR;
    for (size_t m = 0; m < k; m++)
      job_free(&jobs[m]);
    fastepost__strlist_free(&chunk);
    fastepost__strlist_free(&locks);
    if (crc == FASTEPOST_ECONN) {
      rc = crc;
      break;
    }
    if (crc != FASTEPOST_OK) {
      /* One at a time: alone, failed by the adapter, or the chunk failed (then each event finds
       * out for itself, and the one that fails is logged as failed). */
      size_t count = k ? k : 1;
      for (size_t m = 0; m < count && rc != FASTEPOST_ECONN; m++) {
        if (!res[i + m])
          continue;
        result_reset(res[i + m], NULL); /* fastepost__sync_process adds the adapter's warnings */
        if (fastepost__sync_process(res[i + m], conn, &recs[i + m], ctx) == FASTEPOST_ECONN)
          rc = FASTEPOST_ECONN;
      }
      k = count;
    }
    i += k;
  }
  free(jobs);
  return rc;
}

int fastepost__sync_batch_begin(fastepost_conn *conn) {
  if (busy_connection(conn, "a batch"))
    return fastepost_error_last()->code;
  int rc = fastepost__conn_pg(conn) ? FASTEPOST_OK : fastepost_error_last()->code;
  char sql[600], settings[512];
  snprintf(sql, sizeof sql, "BEGIN; %s", sync_settings_sql(conn, settings, sizeof settings));
  if (rc == FASTEPOST_OK)
    rc = fastepost__exec(conn, sql, "BEGIN");
  return rc;
}

int fastepost__sync_batch_commit(fastepost_conn *conn) { return fastepost__tx_commit(conn); }

/* ---- public pieces of events.h that belong to the result ------------------------------------ */

const char *fastepost_outcome_name(fastepost_outcome outcome) {
  static const char *const names[] = {"", "created", "updated", "unchanged", "stale",
                                      "ignored", "conflict", "duplicate", "spooled"};
  return (unsigned)outcome < sizeof names / sizeof names[0] ? names[outcome] : "";
}

int fastepost_status_http(fastepost_status status) {
  switch (status) {
  case FASTEPOST_OK: return 200;
  case FASTEPOST_EPARSE:
  case FASTEPOST_EINVALID: return 400;
  case FASTEPOST_EAUTH:
  case FASTEPOST_ENOKEY: return 401;
  case FASTEPOST_ECONFLICT: return 409;
  case FASTEPOST_ETOOBIG: return 413;
  case FASTEPOST_ECONN:
  case FASTEPOST_EBUSY:
  case FASTEPOST_ETIMEOUT:
  case FASTEPOST_EFULL:
  case FASTEPOST_EREADONLY: return 503;
  default: return 500;
  }
}

void fastepost_event_result_free(fastepost_event_result *r) {
  if (!r)
    return;
  free(r->error);
  fastepost__strlist_free(&r->warnings);
  free(r);
}

fastepost_status fastepost_event_result_code(const fastepost_event_result *r) {
  return r ? r->code : FASTEPOST_EINVALID;
}
fastepost_outcome fastepost_event_result_outcome(const fastepost_event_result *r) {
  return r ? r->outcome : FASTEPOST_OUTCOME_NONE;
}
int64_t fastepost_event_result_event_id(const fastepost_event_result *r) { return r ? r->event_id : 0; }
int64_t fastepost_event_result_customer_id(const fastepost_event_result *r) { return r ? r->customer_id : 0; }
int64_t fastepost_event_result_remark_id(const fastepost_event_result *r) { return r ? r->remark_id : 0; }
int64_t fastepost_event_result_task_id(const fastepost_event_result *r) { return r ? r->task_id : 0; }
size_t fastepost_event_result_warning_count(const fastepost_event_result *r) {
  return r ? r->warnings.count : 0;
}
const char *fastepost_event_result_warning(const fastepost_event_result *r, size_t i) {
  return r && i < r->warnings.count ? r->warnings.items[i] : NULL;
}
const char *fastepost_event_result_error(const fastepost_event_result *r) {
  return r && r->error ? r->error : "";
}
