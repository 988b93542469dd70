/* SPDX-License-Identifier: MIT */
/*
 * The sync core's statements (see sync.h for the contract and sync_priv.h for the pieces): the
 * SQL of the hot path, and the schema functions (migrations 7-10) that hold its large
 * statements. Nothing here runs anything.
 */
#include "sync_priv.h"

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
#define LOCK_KEYS(keys)                                                                            \
  "count(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h "             \
  "FROM unnest(" keys "::text[]) AS k ORDER BY 1) AS s"
const char fastepost__sync_sql_lock[] = "SELECT " LOCK_KEYS("$1");

/* The event already logged under this idempotency key (or, for a retry, this id). The lock
 * above serialises deliveries with the same key, so what this sees is settled. */
#define SEEN_KEY(source, key)                                                                      \
  "SELECT id::bigint, status::text, customer_id::bigint FROM integration_events WHERE source = "   \
  source " AND idempotency_key = " key
const char fastepost__sync_sql_seen_key[] = SEEN_KEY("$1", "$2");
const char fastepost__sync_sql_seen_id[] =
    "SELECT id, status, customer_id FROM integration_events WHERE id = $1::bigint";

/* Candidates by rank: 1 link crm id, 2 own crm id, 3 email, 4 phone. Each branch reads its row
 * through its own index (no join: a generic plan chosen while the table was small must stay
 * good when it is large). */
#define MATCH_COLUMNS(version) \
  "id::bigint, crm_source::text, crm_id::text, name::text, email::text, phone::text, company::text, " \
  "address::text, active::boolean, coalesce(crm_updated_at > " version ", false) FROM customers WHERE "
#define MATCH_BRANCHES(link, own, email, phone, source, version) \
    "SELECT 1, " MATCH_COLUMNS(version) "crm_source = " source " AND crm_id = " link " " \
    "UNION ALL SELECT 2, " MATCH_COLUMNS(version) "crm_source = " source " AND crm_id = " own " " \
    "UNION ALL (SELECT 3, " MATCH_COLUMNS(version) "email IS NOT NULL AND lower(email) = lower(" email ") " \
    "LIMIT 1) " \
    "UNION ALL (SELECT 4, " MATCH_COLUMNS(version) "phone IS NOT NULL AND phone = " phone " ORDER BY id LIMIT 1)"
#define SQL_MATCH_TEXT MATCH_BRANCHES("$1::text", "$2::text", "$3::text", "$4::text", "$5", "$6::timestamp")
static const char SQL_MATCH[] = SQL_MATCH_TEXT;

/* The first existing task: by id, else by the barcodes in order (LATERAL: one index probe per
 * barcode, whatever the table's size was when the plan was made). */
const char fastepost__sync_sql_task[] =
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
#define APPLY_CTES \
    "ins AS (INSERT INTO customers (name, email, phone, company, address, active, crm_source, " \
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
    EVENT_WRITE("'success'", "(SELECT outcome FROM res)", "(SELECT id FROM cust)", "NULL::text")
#define APPLY_RESULT \
    "SELECT (SELECT id FROM cust), (SELECT id FROM rem), (SELECT outcome FROM res), " \
    "(SELECT id FROM ev_ins UNION ALL SELECT id FROM ev_upd)"
/* Migration 7's statement; migration 13's (SQL_APPLY_COUNTED_TEXT below) replaced it. */
#define SQL_APPLY_V7_TEXT "WITH " APPLY_CTES APPLY_RESULT

/* The event of a delivery that applies nothing (stale, ignored, conflict).
 * $8 status, $9 outcome, $10 customer id, $11 error message. */
#define FINISH_RESULT "SELECT (SELECT id FROM ev_ins UNION ALL SELECT id FROM ev_upd)"
#define SQL_FINISH_V8_TEXT "WITH " EVENT_WRITE("$8", "$9", "$10::bigint", "$11::text") FINISH_RESULT

/*
 * The statistics counters of the rows these two statements write (migration 13). The counter
 * triggers of migration 2 skip statements run inside the sync functions (their WHEN clause
 * tests fastepost.counted, which those functions SET for their own duration only), so the
 * statements add their exact deltas themselves: a few primary-key upserts instead of five
 * trigger functions aggregating transition tables (a third of the statement's time, see
 * bench/README.md). Rows written by anything else, the batch and failure statements of the core
 * included, are still counted by the triggers.
 * The old values come from the statement's snapshot: the function has locked the customer and
 * the stored event (FOR UPDATE) before it, so no other writer changed them since.
 * fastepost_counter_slot() gives this transaction a counter slot that no running transaction
 * holds, so that concurrent deliveries never wait on one counter row.
 */
#define COUNTER_SLOT "slot AS (SELECT fastepost_counter_slot() AS slot), "
#define COUNTER_UPSERT(name, table, keys, rows)                                                     \
  name " AS (INSERT INTO " table " AS c (" keys ", slot, n) SELECT " keys ", s.slot, sum(d.n) FROM " \
  rows " d, slot s GROUP BY " keys ", s.slot HAVING sum(d.n) <> 0 ORDER BY " keys " "             \
  "ON CONFLICT (" keys ", slot) DO UPDATE SET n = c.n + excluded.n RETURNING 1)"
/* The event row: +1 under its new status; an updated one also -1 under its old status. */
#define EVENT_COUNTED(status)                                                                       \
  "old_e AS (SELECT coalesce(source, '') AS source, coalesce(status, '') AS status, "               \
  "coalesce(date_trunc('hour', created_at), 'epoch') AS hour FROM integration_events "              \
  "WHERE id = $1::bigint AND $1::bigint <> 0), "                                                    \
  "ev_d AS (SELECT coalesce($2::text, '') AS source, coalesce(" status "::text, '') AS status, "    \
  "date_trunc('hour', (" NOW7 ")::timestamp(6)) AS hour, 1 AS n FROM ev_ins "                       \
  "UNION ALL SELECT o.source, coalesce(" status "::text, ''), o.hour, 1 FROM old_e o, ev_upd "      \
  "UNION ALL SELECT o.source, o.status, o.hour, -1 FROM old_e o, ev_upd), "                         \
  COUNTER_SLOT                                                                                      \
  COUNTER_UPSERT("ev_n", "fastepost_event_counts", "source, status", "ev_d") ", "                   \
  COUNTER_UPSERT("ev_h", "fastepost_event_hourly_counts", "source, hour, status", "ev_d") " "
/* The customer: a new one counts, and is CRM-linked when it has a crm id; an updated one is
 * linked or unlinked by its new crm id ($17). */
#define CUSTOMER_COUNTED                                                                            \
  "old_c AS (SELECT crm_id IS NOT NULL AS synced FROM customers "                                   \
  "WHERE id = $9::bigint AND $8::text = 'update'), "                                                \
  "cu_d AS (SELECT 'customers'::text AS counter, 1 AS n FROM ins "                                  \
  "UNION ALL SELECT 'customers_crm_synced', 1 FROM ins WHERE $17::text IS NOT NULL "                \
  "UNION ALL SELECT 'customers_crm_synced', ($17::text IS NOT NULL)::int - o.synced::int "          \
  "FROM old_c o, upd), "                                                                            \
  COUNTER_UPSERT("cu_n", "fastepost_row_counts", "counter", "cu_d") " "
/* Longer than the 4095 characters C99 promises; GCC and Clang take any length. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Woverlength-strings"
#endif
#define SQL_APPLY_TEXT \
  "WITH " APPLY_CTES ", " EVENT_COUNTED("'success'") ", " CUSTOMER_COUNTED APPLY_RESULT
#define SQL_FINISH_TEXT \
  "WITH " EVENT_WRITE("$8", "$9", "$10::bigint", "$11::text") ", " EVENT_COUNTED("$8") FINISH_RESULT

/* ---- set-based statements of a batch chunk (batch.c) ---------------------------------------
 * A chunk holds records that share no key (sync.h), so their lookups and their writes do not
 * see each other: each statement below does for all of them at once what the per-event
 * statements do for one, over arrays (one element per record, the records' order). They are
 * sent unnamed like the others and planned once per chunk. */

/* The events already logged under the records' idempotency keys: id, status, customer, then
 * the record's position (1-based) in the arrays. $1 sources, $2 keys. */
const char fastepost__sync_sql_seen_many[] =
    "SELECT e.id, e.status, e.customer_id, k.ord::int FROM unnest($1::text[], $2::text[]) "
    "WITH ORDINALITY AS k(k_source, k_key, ord) JOIN integration_events e "
    "ON e.source = k.k_source AND e.idempotency_key = k.k_key ORDER BY k.ord";

/* The match candidates of every record (the columns of fastepost_sync_match, then the record's
 * position). $1 link crm ids, $2 own crm ids, $3 emails, $4 phones, $5 sources, $6 versions. */
const char fastepost__sync_sql_match_many[] =
    "SELECT m.*, k.ord::int FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
    "$6::text[]) WITH ORDINALITY AS k(k_link, k_own, k_email, k_phone, k_source, k_version, ord) "
    "CROSS JOIN LATERAL (" MATCH_BRANCHES("k.k_link", "k.k_own", "k.k_email", "k.k_phone", "k.k_source",
                                          "k.k_version::timestamp") ") AS m ORDER BY k.ord, 1";

/* The writes of many records whose plans need neither a remark, a task link, stored properties
 * nor an event row of their own to update (batch.c picks them): customers created and updated
 * as SQL_APPLY_TEXT does, and one event row per record, with the outcome it would give or,
 * for a plan that applies nothing, SQL_FINISH_TEXT's status, outcome and message.
 * Per record: $1 source, $2 event type, $3 external id, $4 idempotency key (never NULL here:
 * the event row is found again by it), $5 payload, $6 mode ('create', 'update', 'keep', NULL:
 * nothing applied), $7 customer id, $8-$12 name, email, phone, company, address, $13 active,
 * $14 crm_source, $15 crm_id (never NULL for 'create': the customer is found again by it),
 * $16 crm_updated_at, $17 changed, $18 status, $19 outcome, $20 error message (the last three
 * for mode NULL); $21 now. Returns per record: its position, customer, outcome, event id. */
#define NOW21 "coalesce($21::timestamp, " SERVER_NOW ")"
const char fastepost__sync_sql_apply_many[] =
    "WITH k AS MATERIALIZED (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
    "$5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], "
    "$13::boolean[], $14::text[], $15::text[], $16::timestamp[], $17::boolean[], $18::text[], $19::text[], "
    "$20::text[]) WITH ORDINALITY AS k(source, event_type, external_id, idem, payload, mode, cid, name, "
    "email, phone, company, address, active, crm_source, crm_id, crm_updated_at, changed, status, "
    "outcome, message, ord)), "
    "ins AS (INSERT INTO customers (name, email, phone, company, address, active, crm_source, crm_id, "
    "crm_updated_at, last_synced_at, created_at, updated_at) SELECT name, email, phone, company, address, "
    "coalesce(active, true), crm_source, crm_id, crm_updated_at, " NOW21 ", " NOW21 ", " NOW21 " "
    "FROM k WHERE mode = 'create' ORDER BY ord RETURNING id, crm_source, crm_id), "
    "upd AS (UPDATE customers c SET name = k.name, email = k.email, phone = k.phone, company = k.company, "
    "address = k.address, active = coalesce(k.active, c.active), crm_source = k.crm_source, "
    "crm_id = k.crm_id, crm_updated_at = coalesce(k.crm_updated_at, c.crm_updated_at), "
    "last_synced_at = " NOW21 ", updated_at = CASE WHEN k.changed THEN " NOW21 " ELSE c.updated_at END "
    "FROM k WHERE c.id = k.cid AND k.mode = 'update' RETURNING c.id), "
    "r AS (SELECT k.ord, k.source, k.event_type, k.external_id, k.idem, k.payload, k.status, k.message, "
    "CASE k.mode WHEN 'create' THEN i.id WHEN 'update' THEN u.id ELSE k.cid END AS customer_id, "
    "CASE WHEN k.mode IS NULL THEN k.outcome WHEN k.mode = 'create' THEN 'created' WHEN k.changed "
    "THEN 'updated' ELSE 'unchanged' END AS outcome FROM k "
    "LEFT JOIN ins i ON k.mode = 'create' AND i.crm_source = k.crm_source AND i.crm_id = k.crm_id "
    "LEFT JOIN upd u ON k.mode = 'update' AND u.id = k.cid), "
    "ev AS (INSERT INTO integration_events (source, event_type, status, outcome, external_id, "
    "idempotency_key, payload, customer_id, error_message, attempts, processed_at, created_at, updated_at) "
    "SELECT source, event_type, coalesce(status, 'success'), outcome, external_id, idem, payload::jsonb, "
    "customer_id, message, 1, " NOW21 ", " NOW21 ", " NOW21 " FROM r ORDER BY ord "
    "RETURNING id, source, idempotency_key) "
    "SELECT r.ord::int, r.customer_id, r.outcome, ev.id FROM r LEFT JOIN ev ON ev.source = r.source "
    "AND ev.idempotency_key = r.idem ORDER BY r.ord";

/* Log a failure as a new event, or on the failed event with the same key. Transient failures
 * get next_attempt_at = now + 30 s * 2^(attempts-1) (at most 1 h) * jitter, until dead. The
 * jitter ($10) travels as an integer in parts per million: a fraction sent as text would follow
 * the client's LC_NUMERIC ("0,78" under de_DE), which PostgreSQL refuses, and the failure would
 * go unlogged. */
#define BACKOFF(attempts) \
  NOW6 " + make_interval(secs => " FASTEPOST__BACKOFF_SECS_SQL("(" attempts ") - 1") " * ($10::int / 1000000.0))"
const char fastepost__sync_sql_fail_new[] =
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
/* The same for a stored event being processed again ($1 is its id; it takes fastepost__sync_sql_fail_new's
 * parameter list so that one array serves both: $2-$5 are unused, num_nulls() only gives
 * them a type). */
const char fastepost__sync_sql_fail_id[] =
    "UPDATE integration_events SET status = CASE WHEN $8::boolean AND attempts + 1 >= $9::int "
    "THEN 'dead' ELSE 'error' END, outcome = $11, error_message = $7, attempts = attempts + 1, "
    "next_attempt_at = CASE WHEN $8::boolean AND attempts + 1 < $9::int THEN "
    BACKOFF("attempts + 1") " END, processed_at = " NOW6 ", updated_at = " NOW6 " "
    "WHERE id = $1::bigint AND num_nulls($2::text, $3::text, $4::text, $5::text) >= 0 "
    "RETURNING id, status";

/* Versioned properties and tombstones of one record (see sync.h): each stored property with
 * whether it is newer than the delivery ($3), and the tombstone with whether it is at least as
 * new; then (fifth column true) the referenced record's property ($4 crm id, $5 property; none
 * when NULL). */
const char fastepost__sync_sql_props[] =
    "SELECT property, value, coalesce(version > $3::timestamp, false), "
    "coalesce(version >= $3::timestamp, false), false FROM fastepost_crm_properties "
    "WHERE source = $1 AND crm_id = $2::text "
    "UNION ALL SELECT property, value, false, false, true FROM fastepost_crm_properties "
    "WHERE source = $1 AND crm_id = $4::text AND property = $5::text";

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
#define APPLY_RETURNS "o_customer_id bigint, o_remark_id bigint, o_outcome text, o_event_id bigint"
const char fastepost__sync_function_apply_sql[] =
    SYNC_FUNCTION("fastepost_sync_apply", 23, APPLY_RETURNS, SQL_APPLY_V7_TEXT);
const char fastepost__sync_function_finish_sql[] =
    SYNC_FUNCTION("fastepost_sync_finish", 11, "o_event_id bigint", SQL_FINISH_V8_TEXT);
const char fastepost__sync_function_props_write_sql[] =
    SYNC_FUNCTION("fastepost_sync_props_write", 9, "o_written bigint, o_deactivated bigint, o_restored bigint",
                  SQL_PROPS_WRITE_TEXT);

/* Migration 13: apply and finish count their own rows (EVENT_COUNTED above). SET makes
 * fastepost.counted 'self' for the function's duration only: the counter triggers skip the
 * statements run inside it and nothing else. The rows they will change are locked first. */
#define SYNC_FUNCTION_COUNTED(name, n, returns, locks, body)                                         \
  "CREATE OR REPLACE FUNCTION " name "(" PARAMS_TEXT(n) ") RETURNS TABLE (" returns ") "             \
  "LANGUAGE plpgsql SET fastepost.counted = 'self' AS $fastepost$\n#variable_conflict use_column\n" \
  "BEGIN\n" locks "RETURN QUERY " body ";\nEND\n$fastepost$;\n"
#define LOCK_EVENT "PERFORM 1 FROM integration_events WHERE id = $1::bigint AND $1::bigint <> 0 FOR UPDATE;\n"
#define LOCK_CUSTOMER "PERFORM 1 FROM customers WHERE id = $9::bigint AND $8::text = 'update' FOR UPDATE;\n"
/* props_write changes no counted value (customers.active, the properties table): it skips the
 * triggers as it is. */
const char fastepost__sync_functions_counted_sql[] =
    SYNC_FUNCTION_COUNTED("fastepost_sync_apply", 23, APPLY_RETURNS, LOCK_CUSTOMER LOCK_EVENT, SQL_APPLY_TEXT)
    SYNC_FUNCTION_COUNTED("fastepost_sync_finish", 11, "o_event_id bigint", LOCK_EVENT, SQL_FINISH_TEXT)
    "ALTER FUNCTION fastepost_sync_props_write(" PARAMS_TEXT(9) ") SET fastepost.counted = 'self';\n";

/* Migration 14: round one's lock statement and seen-key lookup in one call. Unnamed, they were
 * planned at every delivery (the lookup's planning, over a table of eight indexes, cost more than
 * running it: bench/README.md, "Single delivery against the durable-write floor"); inside a
 * function their plans are cached per server session like the others. The lock comes first:
 * what the lookup sees is settled once the keys are held. Returns the seen row, if any, with the
 * columns of fastepost_sync_seen_key. $1 the keys (a text array literal), $2 source, $3 key. */
const char fastepost__sync_function_lock_seen_sql[] =
    "CREATE OR REPLACE FUNCTION fastepost_sync_lock_seen(text, text, text) RETURNS TABLE (o_id bigint, "
    "o_status text, o_customer_id bigint) LANGUAGE plpgsql AS $fastepost$\nBEGIN\nPERFORM " LOCK_KEYS("$1")
    ";\nRETURN QUERY " SEEN_KEY("$2", "$3") ";\nEND\n$fastepost$;\n";
const char fastepost__sync_call_lock_seen[] = "SELECT * FROM fastepost_sync_lock_seen($1, $2, $3)";

/*
 * Migration 16: the seen-key lookup planned for the table as it is until the event log has
 * statistics. Four indexes of integration_events start with source; on a small table without
 * statistics they all cost about the same, and the generic plan that a session made at its first
 * delivery (on a new database, after a TRUNCATE or a prune) could take (source, status, created_at,
 * id) and read every event of the source at every later delivery of the session, until an
 * autoanalyze had it made again (0.14 ms per delivery at 2,000 events, growing with the table:
 * bench/README.md). Until pg_class counts LOCK_SEEN_STATS_ROWS rows (-1 before the first VACUUM
 * or ANALYZE), the lookup is planned at each call (EXECUTE: about 0.1 ms); from there the static
 * statement, planned once then with statistics, probes the unique index. The row count comes with
 * the lock, in the same statement.
 */
#define LOCK_SEEN_STATS_ROWS "1000"
const char fastepost__sync_function_lock_seen_v16_sql[] =
    "CREATE OR REPLACE FUNCTION fastepost_sync_lock_seen(text, text, text) RETURNS TABLE (o_id bigint, "
    "o_status text, o_customer_id bigint) LANGUAGE plpgsql AS $fastepost$\nDECLARE\n  v_rows real;\n"
    "  v_locks bigint;\nBEGIN\nSELECT (SELECT c.reltuples FROM pg_catalog.pg_class c WHERE c.oid = "
    "'integration_events'::pg_catalog.regclass), " LOCK_KEYS("$1") " INTO v_rows, v_locks;\n"
    "IF v_rows >= " LOCK_SEEN_STATS_ROWS " THEN\n  RETURN QUERY " SEEN_KEY("$2", "$3") ";\nELSE\n"
    "  RETURN QUERY EXECUTE '" SEEN_KEY("$1", "$2") "' USING $2, $3;\nEND IF;\nEND\n$fastepost$;\n";

/*
 * Migration 15: apply and finish as PL/pgSQL bodies of plain statements, each run only when its
 * branch is taken. As one statement of data-modifying CTEs (migration 13), every call locked and
 * initialised all of its ~25 tables and indexes and every CTE, whether its branch ran or not
 * (a third of a delivery's server time: bench/README.md, "Single delivery against the
 * durable-write floor"); here a new customer with a note runs four inserts and two counter
 * upserts, and each statement's plan is cached on its own. Same signatures, parameters, results
 * and counting as migration 13's: the rows that change are locked and their old values read
 * first (FOR UPDATE), and the counters get exactly the deltas EVENT_COUNTED and CUSTOMER_COUNTED
 * give. Variables are prefixed v_ and columns qualified: #variable_conflict use_column would
 * take a bare name for the column.
 */
#define PL_DECLARE(more)                                                                            \
  "DECLARE\n  v_now timestamp := coalesce($7::timestamp, " SERVER_NOW ");\n"                        \
  "  v_eid bigint := $1::bigint;\n  v_new_eid bigint;\n  v_old_source text;\n  v_old_status text;\n" \
  "  v_old_hour timestamp;\n  v_slot smallint;\n" more
/* The stored event being processed again: locked, and its counted values read. */
#define PL_LOCK_EVENT                                                                                 \
  "IF v_eid <> 0 THEN\n  SELECT coalesce(e.source, ''), coalesce(e.status, ''), "                     \
  "coalesce(date_trunc('hour', e.created_at), 'epoch') INTO v_old_source, v_old_status, v_old_hour "  \
  "FROM integration_events e WHERE e.id = v_eid FOR UPDATE;\nEND IF;\n"
/* Add the rows (status, n) of `deltas` to both event counters under source and hour. */
#define PL_COUNT_EVENT(source, hour, deltas)                                                          \
  "  v_slot := coalesce(v_slot, fastepost_counter_slot());\n"                                         \
  "  INSERT INTO fastepost_event_counts AS c (source, status, slot, n) SELECT " source ", d.status, "  \
  "v_slot, d.n FROM (" deltas ") AS d(status, n) ORDER BY 2 "                                         \
  "ON CONFLICT (source, status, slot) DO UPDATE SET n = c.n + excluded.n;\n"                          \
  "  INSERT INTO fastepost_event_hourly_counts AS c (source, hour, status, slot, n) SELECT " source    \
  ", " hour ", d.status, v_slot, d.n FROM (" deltas ") AS d(status, n) ORDER BY 3 "                   \
  "ON CONFLICT (source, hour, status, slot) DO UPDATE SET n = c.n + excluded.n;\n"
/* The event row with its final state (as EVENT_WRITE), counted (as EVENT_COUNTED): a new one
 * +1 under its status in this hour; a stored one moved from its old status to the new one in
 * the hour it was created. Its id into v_new_eid. */
#define PL_EVENT_WRITE(status, outcome, customer, message)                                            \
  "IF v_eid = 0 THEN\n"                                                                               \
  "  INSERT INTO integration_events (source, event_type, status, outcome, external_id, "              \
  "idempotency_key, payload, customer_id, error_message, attempts, processed_at, created_at, "        \
  "updated_at) VALUES ($2, $3, " status ", " outcome ", $4, $5, $6::jsonb, " customer ", " message    \
  ", 1, v_now, v_now, v_now) RETURNING id INTO v_new_eid;\n"                                          \
  PL_COUNT_EVENT("coalesce($2, '')", "date_trunc('hour', v_now)",                                     \
                 "VALUES (coalesce(" status "::text, ''), 1)")                                        \
  "ELSIF v_old_source IS NOT NULL THEN\n"                                                             \
  "  UPDATE integration_events e SET status = " status ", outcome = " outcome ", customer_id = "      \
  customer ", error_message = " message ", next_attempt_at = NULL, attempts = e.attempts + 1, "       \
  "processed_at = v_now, updated_at = v_now WHERE e.id = v_eid RETURNING e.id INTO v_new_eid;\n"     \
  "  IF coalesce(" status "::text, '') <> v_old_status THEN\n"                                        \
  PL_COUNT_EVENT("v_old_source", "v_old_hour",                                                        \
                 "VALUES (coalesce(" status "::text, ''), 1), (v_old_status, -1)")                    \
  "  END IF;\nEND IF;\n"
#define SYNC_FUNCTION_PL(name, n, returns, declare, body)                                             \
  "CREATE OR REPLACE FUNCTION " name "(" PARAMS_TEXT(n) ") RETURNS TABLE (" returns ") "              \
  "LANGUAGE plpgsql SET fastepost.counted = 'self' AS $fastepost$\n#variable_conflict use_column\n"   \
  declare "BEGIN\n" body "END\n$fastepost$;\n"
/* The parameters are SQL_APPLY_TEXT's ($8 mode, $9 customer, $10-$14 the columns, $15 active,
 * $16-$18 crm source, id and version, $19 changed, $20 task, $21 link it, $22-$23 remark). */
#define PL_APPLY_BODY                                                                               \
  "IF $8 = 'update' THEN\n  SELECT c.crm_id IS NOT NULL INTO v_was_synced FROM customers c "        \
  "WHERE c.id = $9::bigint FOR UPDATE;\nEND IF;\n"                                                   \
  PL_LOCK_EVENT                                                                                      \
  "IF $8 = 'create' THEN\n"                                                                          \
  "  INSERT INTO customers (name, email, phone, company, address, active, crm_source, crm_id, "     \
  "crm_updated_at, last_synced_at, created_at, updated_at) VALUES ($10, $11, $12, $13, $14, "       \
  "coalesce($15::boolean, true), $16, $17, $18::timestamp, v_now, v_now, v_now) RETURNING id INTO v_cid;\n" \
  "ELSIF $8 = 'update' THEN\n"                                                                       \
  "  UPDATE customers c SET name = $10, email = $11, phone = $12, company = $13, address = $14, "   \
  "active = coalesce($15::boolean, c.active), crm_source = $16, crm_id = $17, "                     \
  "crm_updated_at = coalesce($18::timestamp, c.crm_updated_at), last_synced_at = v_now, "           \
  "updated_at = CASE WHEN $19::boolean THEN v_now ELSE c.updated_at END "                           \
  "WHERE c.id = $9::bigint RETURNING c.id INTO v_cid;\n"                                             \
  "ELSIF $8 = 'keep' THEN\n  v_cid := $9::bigint;\nEND IF;\n"                                        \
  "IF $22 IS NOT NULL THEN\n"                                                                        \
  "  INSERT INTO remarks (customer_id, task_id, body, source, external_key, created_at, updated_at) " \
  "VALUES (v_cid, $20::bigint, $22, $2, $23, v_now, v_now) "                                         \
  "ON CONFLICT (external_key) WHERE external_key IS NOT NULL DO NOTHING RETURNING id INTO v_rid;\n"  \
  "END IF;\n"                                                                                        \
  "IF $21::boolean THEN\n  UPDATE tasks t SET customer_id = v_cid, updated_at = v_now "             \
  "WHERE t.id = $20::bigint AND t.customer_id IS NULL RETURNING t.id INTO v_tid;\nEND IF;\n"        \
  "v_outcome := CASE WHEN $8 = 'create' THEN 'created' WHEN coalesce($19::boolean, false) "          \
  "OR v_rid IS NOT NULL OR v_tid IS NOT NULL THEN 'updated' ELSE 'unchanged' END;\n"                 \
  PL_EVENT_WRITE("'success'", "v_outcome", "v_cid", "NULL::text")                                    \
  "IF $8 = 'create' AND v_cid IS NOT NULL THEN\n"                                                    \
  "  v_slot := coalesce(v_slot, fastepost_counter_slot());\n"                                        \
  "  INSERT INTO fastepost_row_counts AS c (counter, slot, n) SELECT d.counter, v_slot, 1 "          \
  "FROM (VALUES ('customers'), ('customers_crm_synced')) AS d(counter) "                             \
  "WHERE d.counter = 'customers' OR $17 IS NOT NULL ORDER BY 1 "                                     \
  "ON CONFLICT (counter, slot) DO UPDATE SET n = c.n + excluded.n;\n"                                \
  "ELSIF $8 = 'update' AND v_cid IS NOT NULL AND ($17 IS NOT NULL) <> v_was_synced THEN\n"          \
  "  v_slot := coalesce(v_slot, fastepost_counter_slot());\n"                                        \
  "  INSERT INTO fastepost_row_counts AS c (counter, slot, n) VALUES ('customers_crm_synced', "      \
  "v_slot, CASE WHEN $17 IS NOT NULL THEN 1 ELSE -1 END) "                                           \
  "ON CONFLICT (counter, slot) DO UPDATE SET n = c.n + excluded.n;\n"                                \
  "END IF;\n"                                                                                        \
  "RETURN QUERY SELECT v_cid, v_rid, v_outcome, v_new_eid;\n"
/* SQL_FINISH_TEXT's parameters: $8 status, $9 outcome, $10 customer, $11 error message. */
#define PL_FINISH_BODY                                                                              \
  PL_LOCK_EVENT PL_EVENT_WRITE("$8", "$9", "$10::bigint", "$11::text") "RETURN QUERY SELECT v_new_eid;\n"
const char fastepost__sync_functions_branched_sql[] =
    SYNC_FUNCTION_PL("fastepost_sync_apply", 23, APPLY_RETURNS,
                     PL_DECLARE("  v_cid bigint;\n  v_rid bigint;\n  v_tid bigint;\n  v_outcome text;\n"
                                "  v_was_synced boolean;\n"),
                     PL_APPLY_BODY)
    SYNC_FUNCTION_PL("fastepost_sync_finish", 11, "o_event_id bigint", PL_DECLARE(""), PL_FINISH_BODY);

const char fastepost__sync_call_match[] = "SELECT * FROM fastepost_sync_match($1, $2, $3, $4, $5, $6)";
const char fastepost__sync_call_apply[] =
    "SELECT * FROM fastepost_sync_apply($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
    "$15, $16, $17, $18, $19, $20, $21, $22, $23)";
const char fastepost__sync_call_finish[] =
    "SELECT * FROM fastepost_sync_finish($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
const char fastepost__sync_call_props_write[] =
    "SELECT * FROM fastepost_sync_props_write($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/* The hot path's statements, by name for error messages and for the plan test
 * (tests/db/plans.c). They are sent unnamed, inside the transaction that uses them: a named
 * prepared statement lives in the server session, which a transaction pooler (PgBouncer in
 * transaction mode) hands to other clients between transactions ("prepared statement ...
 * already exists" / "does not exist"). The small ones are planned at each use (a cost measured
 * in bench/README.md); the match and the large ones run inside the functions above, whose
 * plans the server session caches. Apply and finish are PL/pgSQL bodies of many statements
 * (migration 15), not one statement to prepare here: tests/db/plans.c checks them at run time
 * (no sequential read during deliveries on large tables). */
const fastepost__sync_statement fastepost__sync_statements[] = {
    {"fastepost_sync_lock", fastepost__sync_sql_lock},
    {"fastepost_sync_seen_key", fastepost__sync_sql_seen_key},
    {"fastepost_sync_seen_id", fastepost__sync_sql_seen_id},
    {"fastepost_sync_match", SQL_MATCH},
    {"fastepost_sync_task", fastepost__sync_sql_task},
    {"fastepost_sync_props", fastepost__sync_sql_props},
    {"fastepost_sync_props_write", SQL_PROPS_WRITE},
    {"fastepost_sync_fail_new", fastepost__sync_sql_fail_new},
    {"fastepost_sync_fail_id", fastepost__sync_sql_fail_id},
    {"fastepost_sync_seen_many", fastepost__sync_sql_seen_many},
    {"fastepost_sync_match_many", fastepost__sync_sql_match_many},
    {"fastepost_sync_apply_many", fastepost__sync_sql_apply_many},
    {NULL, NULL},
};
