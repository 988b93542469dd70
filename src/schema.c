/* SPDX-License-Identifier: MIT */
/*
 * The schema: one description of the tables (below) from which migration 1's SQL, the
 * compatibility check for pre-existing tables and docs/schema.sql are all derived.
 *
 * Later migrations are plain SQL appended to `migrations[]`; never edit one that has shipped.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sync.h"

#define UTC_NOW "(now() AT TIME ZONE 'UTC')"

typedef struct column_def {
  const char *name;
  const char *definition; /* type and constraints for ADD COLUMN */
  const char *accepts;    /* space-separated pg_type names an existing column may have */
} column_def;

typedef struct table_def {
  const char *name;
  const column_def *columns;
  const char *const *extras; /* indexes and constraints, each idempotent */
} table_def;

#define STRING_TYPES "text varchar bpchar citext"
#define TIME_TYPES "timestamp timestamptz"
#define ID_TYPES "int8 int4"
#define TIMESTAMPS                                                                     \
  {"created_at", "timestamp(6) NOT NULL DEFAULT " UTC_NOW, TIME_TYPES},                \
  {"updated_at", "timestamp(6) NOT NULL DEFAULT " UTC_NOW, TIME_TYPES}

/* Adds a named constraint only when it is not there yet (ALTER TABLE has no IF NOT EXISTS). */
#define ADD_CONSTRAINT(table, name, body)                                              \
  "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = '" name     \
  "' AND conrelid = '" table "'::regclass) THEN ALTER TABLE " table " ADD CONSTRAINT " \
  name " " body "; END IF; END $$"

static const column_def customer_columns[] = {
    {"name", "varchar", STRING_TYPES},
    {"email", "varchar", STRING_TYPES},
    {"phone", "varchar", STRING_TYPES},
    {"company", "varchar", STRING_TYPES},
    {"address", "text", STRING_TYPES},
    {"crm_source", "varchar", STRING_TYPES},
    {"crm_id", "varchar", STRING_TYPES},
    {"crm_updated_at", "timestamp(6)", TIME_TYPES},
    {"last_synced_at", "timestamp(6)", TIME_TYPES},
    {"active", "boolean NOT NULL DEFAULT true", "bool"},
    TIMESTAMPS,
    {NULL, NULL, NULL}};

static const char *const customer_extras[] = {
    "CREATE UNIQUE INDEX IF NOT EXISTS index_customers_on_lower_email "
    "ON customers (lower(email)) WHERE email IS NOT NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS index_customers_on_crm_source_and_crm_id "
    "ON customers (crm_source, crm_id) WHERE crm_id IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS index_customers_on_phone ON customers (phone) "
    "WHERE phone IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS index_customers_on_last_synced_at ON customers (last_synced_at)",
    NULL};

static const column_def task_columns[] = {
    {"barcode", "varchar NOT NULL", STRING_TYPES},
    {"title", "varchar", STRING_TYPES},
    {"status", "varchar NOT NULL DEFAULT 'pending'", STRING_TYPES},
    {"customer_id", "bigint REFERENCES customers (id) ON DELETE SET NULL", ID_TYPES},
    TIMESTAMPS,
    {NULL, NULL, NULL}};

static const char *const task_extras[] = {
    "CREATE UNIQUE INDEX IF NOT EXISTS index_tasks_on_barcode ON tasks (barcode)",
    "CREATE INDEX IF NOT EXISTS index_tasks_on_customer_id ON tasks (customer_id)",
    "CREATE INDEX IF NOT EXISTS index_tasks_pending ON tasks (id) WHERE status = 'pending'",
    ADD_CONSTRAINT("tasks", "tasks_status_check",
                   "CHECK (status IN ('pending', 'in_progress', 'done', 'cancelled'))"),
    NULL};

static const column_def remark_columns[] = {
    {"customer_id", "bigint REFERENCES customers (id) ON DELETE SET NULL", ID_TYPES},
    {"task_id", "bigint REFERENCES tasks (id) ON DELETE SET NULL", ID_TYPES},
    {"body", "text NOT NULL", STRING_TYPES},
    {"source", "varchar", STRING_TYPES},
    {"external_key", "varchar", STRING_TYPES},
    TIMESTAMPS,
    {NULL, NULL, NULL}};

static const char *const remark_extras[] = {
    "CREATE UNIQUE INDEX IF NOT EXISTS index_remarks_on_external_key ON remarks (external_key) "
    "WHERE external_key IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS index_remarks_on_customer_id ON remarks (customer_id)",
    "CREATE INDEX IF NOT EXISTS index_remarks_on_task_id ON remarks (task_id)",
    NULL};

static const column_def event_columns[] = {
    {"source", "varchar NOT NULL", STRING_TYPES},
    {"event_type", "varchar NOT NULL", STRING_TYPES},
    {"status", "varchar NOT NULL DEFAULT 'pending'", STRING_TYPES},
    {"outcome", "varchar", STRING_TYPES},
    {"external_id", "varchar", STRING_TYPES},
    {"idempotency_key", "varchar", STRING_TYPES},
    {"payload", "jsonb", "jsonb json"},
    {"error_message", "text", STRING_TYPES},
    {"attempts", "integer NOT NULL DEFAULT 0", "int4 int8 int2"},
    {"next_attempt_at", "timestamp(6)", TIME_TYPES},
    {"customer_id", "bigint REFERENCES customers (id) ON DELETE SET NULL", ID_TYPES},
    {"processed_at", "timestamp(6)", TIME_TYPES},
    TIMESTAMPS,
    {NULL, NULL, NULL}};

static const char *const event_extras[] = {
    "CREATE UNIQUE INDEX IF NOT EXISTS index_integration_events_on_source_and_idempotency_key "
    "ON integration_events (source, idempotency_key) WHERE idempotency_key IS NOT NULL",
    /* The recent-events feed and per-source "last event". */
    "CREATE INDEX IF NOT EXISTS index_integration_events_on_created_at "
    "ON integration_events (created_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS index_integration_events_on_source_and_created_at "
    "ON integration_events (source, created_at DESC)",
    /* The retry queue: only failed events wait, so the index stays small. */
    "CREATE INDEX IF NOT EXISTS index_integration_events_retry_queue "
    "ON integration_events (next_attempt_at) WHERE status = 'error'",
    "CREATE INDEX IF NOT EXISTS index_integration_events_on_customer_id "
    "ON integration_events (customer_id)",
    ADD_CONSTRAINT("integration_events", "integration_events_status_check",
                   "CHECK (status IN ('pending', 'success', 'error', 'dead'))"),
    NULL};

/* In dependency order: referenced tables first. */
static const table_def tables[] = {
    {"customers", customer_columns, customer_extras},
    {"tasks", task_columns, task_extras},
    {"remarks", remark_columns, remark_extras},
    {"integration_events", event_columns, event_extras},
};
#define NTABLES (sizeof tables / sizeof tables[0])

typedef struct migration {
  int version;
  const char *name;
  const char *sql;  /* NULL: generated from tables[] (migration 1 only) */
  const char *more; /* run after sql, in the same transaction (another module's part), or NULL */
} migration;

/*
 * Migration 2: counters for the CRM dashboard (see docs/crm-stats.md), kept by statement-level
 * triggers with transition tables, so that they also count rows written by other code (the
 * Rails app, psql) and a bulk INSERT ... SELECT costs one aggregate, not one upsert per row.
 *
 * - fastepost_event_counts: events per source and status (all time). Constant size.
 * - fastepost_event_hourly_counts: events per source, UTC hour of created_at and status; the
 *   24-hour window reads the last 24 full hours from it (plus an exact count of the partial
 *   hour at the window's start, from the (source, created_at) index).
 * - fastepost_row_counts: customers, CRM-linked customers, pending tasks.
 * Every counter is split over 8 `slot`s (the backend pid modulo 8) and readers sum the slots:
 * concurrent writers then rarely wait on the same counter row until the other commits.
 * A counter slot may go negative (a row counted by one session, deleted by another): only the
 * sums mean something.
 */
#define SLOT "(pg_backend_pid() % 8)::smallint"
/* Upsert deltas (source, status, created_at, delta) from the CTE `d` into both event counters;
 * zero nets (an UPDATE that changed none of the three) write nothing. */
#define EVENT_DELTAS(rows) EVENT_DELTAS_IN(SLOT, rows)
#define EVENT_DELTAS_IN(slot, rows)                                                             \
  "WITH d AS (" rows "), "                                                                      \
  "totals AS (INSERT INTO fastepost_event_counts AS c (source, status, slot, n) "               \
  "SELECT source, status, " slot ", sum(delta) FROM d GROUP BY source, status "                 \
  "HAVING sum(delta) <> 0 ORDER BY source, status "                                                 \
  "ON CONFLICT (source, status, slot) DO UPDATE SET n = c.n + excluded.n RETURNING 1) "         \
  "INSERT INTO fastepost_event_hourly_counts AS c (source, hour, status, slot, n) "             \
  "SELECT source, hour, status, " slot ", sum(delta) FROM "                                     \
  "(SELECT source, status, coalesce(date_trunc('hour', created_at), 'epoch') AS hour, delta "   \
  "FROM d) x GROUP BY source, hour, status HAVING sum(delta) <> 0 ORDER BY source, hour, status "   \
  "ON CONFLICT (source, hour, status, slot) DO UPDATE SET n = c.n + excluded.n"
#define EVENT_ROWS(table, sign)                                                                 \
  "SELECT coalesce(source, '') AS source, coalesce(status, '') AS status, created_at, " sign    \
  " AS delta FROM " table
/* Upsert (counter, n) rows from `rows` into fastepost_row_counts. */
#define ROW_DELTAS(rows) ROW_DELTAS_IN(SLOT, rows)
#define ROW_DELTAS_IN(slot, rows)                                                               \
  "INSERT INTO fastepost_row_counts AS c (counter, slot, n) SELECT counter, " slot ", sum(n) "   \
  "FROM (" rows ") x GROUP BY counter HAVING sum(n) <> 0 ORDER BY counter "                      \
  "ON CONFLICT (counter, slot) DO UPDATE SET n = c.n + excluded.n"
#define CUSTOMER_ROWS(table, sign)                                                              \
  "SELECT 'customers' AS counter, " sign " count(*) AS n FROM " table                           \
  " UNION ALL SELECT 'customers_crm_synced', " sign " count(crm_id) FROM " table
#define TASK_ROWS(table, sign)                                                                  \
  "SELECT 'tasks_pending' AS counter, " sign " count(*) AS n FROM " table                       \
  " WHERE status = 'pending'"
#define TRIGGER_FN(name, body)                                                                  \
  "CREATE OR REPLACE FUNCTION " name "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "         \
  body "; RETURN NULL; END $$;\n"
#define TRIGGER(name, when, table, referencing, fn) TRIGGER_IF(name, when, table, referencing, "", fn)
#define TRIGGER_IF(name, when, table, referencing, condition, fn)                                \
  "DROP TRIGGER IF EXISTS " name " ON " table ";\n"                                             \
  "CREATE TRIGGER " name " AFTER " when " ON " table " " referencing                            \
  " FOR EACH STATEMENT " condition "EXECUTE FUNCTION " fn "();\n"
#define STMT_TRIGGERS(prefix, table)                                                            \
  TRIGGER(prefix "_insert", "INSERT", table, "REFERENCING NEW TABLE AS new_rows",              \
          prefix "_insert")                                                                     \
  TRIGGER(prefix "_update", "UPDATE", table,                                                    \
          "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows", prefix "_update")          \
  TRIGGER(prefix "_delete", "DELETE", table, "REFERENCING OLD TABLE AS old_rows",              \
          prefix "_delete")                                                                     \
  TRIGGER(prefix "_truncate", "TRUNCATE", table, "", prefix "_truncate")

/* One string longer than the 4095 characters C99 promises; GCC and Clang take any length. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"
#endif
static const char crm_counters_sql[] =
    /* Writers wait while the triggers are created and the counters backfilled, so that no
     * row is missed or counted twice. */
    "LOCK TABLE integration_events, customers, tasks IN SHARE ROW EXCLUSIVE MODE;\n"
    "CREATE TABLE IF NOT EXISTS fastepost_event_counts (\n"
    "  source varchar NOT NULL, status varchar NOT NULL, slot smallint NOT NULL,\n"
    "  n bigint NOT NULL, PRIMARY KEY (source, status, slot));\n"
    "CREATE TABLE IF NOT EXISTS fastepost_event_hourly_counts (\n"
    "  source varchar NOT NULL, hour timestamp(0) NOT NULL, status varchar NOT NULL,\n"
    "  slot smallint NOT NULL, n bigint NOT NULL, PRIMARY KEY (source, hour, status, slot));\n"
    "CREATE TABLE IF NOT EXISTS fastepost_row_counts (\n"
    "  counter varchar NOT NULL, slot smallint NOT NULL, n bigint NOT NULL,\n"
    "  PRIMARY KEY (counter, slot));\n"
    TRIGGER_FN("fastepost_count_events_insert", EVENT_DELTAS(EVENT_ROWS("new_rows", "1")))
    TRIGGER_FN("fastepost_count_events_update",
               EVENT_DELTAS(EVENT_ROWS("new_rows", "1") " UNION ALL "
                            EVENT_ROWS("old_rows", "-1")))
    TRIGGER_FN("fastepost_count_events_delete", EVENT_DELTAS(EVENT_ROWS("old_rows", "-1")))
    TRIGGER_FN("fastepost_count_events_truncate",
               "DELETE FROM fastepost_event_counts; DELETE FROM fastepost_event_hourly_counts")
    STMT_TRIGGERS("fastepost_count_events", "integration_events")
    TRIGGER_FN("fastepost_count_customers_insert", ROW_DELTAS(CUSTOMER_ROWS("new_rows", "")))
    TRIGGER_FN("fastepost_count_customers_update",
               ROW_DELTAS(CUSTOMER_ROWS("new_rows", "") " UNION ALL "
                          CUSTOMER_ROWS("old_rows", "-")))
    TRIGGER_FN("fastepost_count_customers_delete", ROW_DELTAS(CUSTOMER_ROWS("old_rows", "-")))
    TRIGGER_FN("fastepost_count_customers_truncate",
               "DELETE FROM fastepost_row_counts WHERE counter LIKE 'customers%'")
    STMT_TRIGGERS("fastepost_count_customers", "customers")
    TRIGGER_FN("fastepost_count_tasks_insert", ROW_DELTAS(TASK_ROWS("new_rows", "")))
    TRIGGER_FN("fastepost_count_tasks_update",
               ROW_DELTAS(TASK_ROWS("new_rows", "") " UNION ALL " TASK_ROWS("old_rows", "-")))
    TRIGGER_FN("fastepost_count_tasks_delete", ROW_DELTAS(TASK_ROWS("old_rows", "-")))
    TRIGGER_FN("fastepost_count_tasks_truncate",
               "DELETE FROM fastepost_row_counts WHERE counter = 'tasks_pending'")
    STMT_TRIGGERS("fastepost_count_tasks", "tasks")
    /* The backfill, also run by fastepost_crm_stats_rebuild(). */
    "CREATE OR REPLACE FUNCTION fastepost_crm_counters_rebuild() RETURNS void LANGUAGE sql AS $$\n"
    "  DELETE FROM fastepost_event_counts;\n"
    "  DELETE FROM fastepost_event_hourly_counts;\n"
    "  DELETE FROM fastepost_row_counts;\n"
    "  INSERT INTO fastepost_event_counts (source, status, slot, n)\n"
    "    SELECT coalesce(source, ''), coalesce(status, ''), 0, count(*) FROM integration_events\n"
    "    GROUP BY 1, 2;\n"
    "  INSERT INTO fastepost_event_hourly_counts (source, hour, status, slot, n)\n"
    "    SELECT coalesce(source, ''), coalesce(date_trunc('hour', created_at), 'epoch'),\n"
    "           coalesce(status, ''), 0, count(*) FROM integration_events GROUP BY 1, 2, 3;\n"
    "  INSERT INTO fastepost_row_counts (counter, slot, n)\n"
    "    SELECT 'customers', 0, count(*) FROM customers\n"
    "    UNION ALL SELECT 'customers_crm_synced', 0, count(crm_id) FROM customers\n"
    "    UNION ALL SELECT 'tasks_pending', 0, count(*) FROM tasks WHERE status = 'pending';\n"
    "$$;\n"
    "SELECT fastepost_crm_counters_rebuild();";
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/*
 * Migration 3: versioned properties and tombstones for sources that deliver one property at a
 * time and out of order (HubSpot; see src/sync.h). One row per (source, crm id, property): the
 * last applied value and the source's time of it; property '_deleted' is a tombstone.
 */
static const char crm_properties_sql[] =
    "CREATE TABLE IF NOT EXISTS fastepost_crm_properties (\n"
    "  source varchar NOT NULL, crm_id varchar NOT NULL, property varchar NOT NULL,\n"
    "  version timestamp(6) NOT NULL, value text,\n"
    "  PRIMARY KEY (source, crm_id, property));";

/*
 * Migration 4: indexes for every filter of `events list` (source, status, both), each ending in
 * the list's order (created_at DESC, id DESC), so that the newest matching rows come straight
 * off one index and a filter that matches nothing is a single probe, not a walk over every row
 * of the source (4.6-7.7 s on 5M events before). The source index gains the id tie-breaker and
 * replaces migration 1's (source, created_at DESC), which it covers.
 */
static const char event_filter_indexes_sql[] =
    "CREATE INDEX IF NOT EXISTS index_integration_events_on_source_created_at_id "
    "ON integration_events (source, created_at DESC, id DESC);\n"
    "DROP INDEX IF EXISTS index_integration_events_on_source_and_created_at;\n"
    "CREATE INDEX IF NOT EXISTS index_integration_events_on_status_created_at_id "
    "ON integration_events (status, created_at DESC, id DESC);\n"
    "CREATE INDEX IF NOT EXISTS index_integration_events_on_source_status_created_at_id "
    "ON integration_events (source, status, created_at DESC, id DESC);";

/*
 * Migration 5: the counter functions resolve their tables through the search_path they were
 * installed with, not the caller's. pg_dump's output empties search_path, so restoring a table
 * backup (data only: its COPY fires these triggers) failed with "relation fastepost_row_counts
 * does not exist". FROM CURRENT records the installing session's path.
 */
#define PIN_PATH(fn) "ALTER FUNCTION " fn "() SET search_path FROM CURRENT;\n"
#define PIN_PATHS(prefix)                                                                       \
  PIN_PATH(prefix "_insert") PIN_PATH(prefix "_update") PIN_PATH(prefix "_delete")              \
  PIN_PATH(prefix "_truncate")
static const char pinned_search_path_sql[] =
    PIN_PATHS("fastepost_count_events") PIN_PATHS("fastepost_count_customers")
    PIN_PATHS("fastepost_count_tasks") PIN_PATH("fastepost_crm_counters_rebuild");

/*
 * Migration 6: the phone branch of the sync match ("the lowest id with this phone") reads one
 * entry of (phone, id). With (phone) alone the planner may walk the primary key in id order and
 * filter every row (a generic plan did: 23.7 ms per delivery at 27k customers). (phone, id)
 * covers (phone), which goes.
 */
static const char phone_id_index_sql[] =
    "CREATE INDEX IF NOT EXISTS index_customers_on_phone_and_id ON customers (phone, id) "
    "WHERE phone IS NOT NULL;\n"
    "DROP INDEX IF EXISTS index_customers_on_phone;";

/*
 * Migration 11: where each pull from a CRM stopped (src/odoo_pull.c): per source and model, the
 * latest source timestamp (Odoo's write_date) of a committed page. The next pull starts an
 * overlap window below it. Written only after the page's transaction committed.
 */
static const char sync_cursors_sql[] =
    "CREATE TABLE IF NOT EXISTS fastepost_sync_cursors (\n"
    "  source varchar NOT NULL, model varchar NOT NULL, cursor_at timestamp(6) NOT NULL,\n"
    "  updated_at timestamp(6) NOT NULL DEFAULT " UTC_NOW ",\n"
    "  PRIMARY KEY (source, model));";

/*
 * Migration 12: the push-back outbox (src/odoo_push.c, docs/odoo-sync.md "Push-back"). Statement
 * triggers on customers record each change of a customer pushed to Odoo - linked to a partner
 * (crm_source 'odoo', crm_id 'res.partner:<id>') or marked for Odoo (crm_source 'odoo', no
 * crm_id: created in Odoo by the next push) - whatever wrote it (the Rails app, psql, an import),
 * except the sync core: its transactions set fastepost.origin = 'sync' with set_config(..., true)
 * (src/sync/txn.c), a transaction-local setting that a transaction pooler cannot hand to another
 * client. The WHEN clause tests it once per statement, before the function is even called.
 * - One row per customer: later changes coalesce into it (revision + 1); the push reads the
 *   customer's values when it sends them, and deletes the row only if its revision is still the
 *   one it sent (a change made meanwhile is pushed next time).
 * - Only the pushed fields (name, email, phone, active) and the link count as a change.
 * - No foreign key to customers: TRUNCATE customers and data-only restores keep working; the
 *   push drops rows whose customer is gone.
 * The CRM statistics counters are other triggers on other tables and stay exact.
 */
#define OUTBOX_PUSHED(n) "(" n ".crm_source = 'odoo' AND (" n ".crm_id IS NULL OR " n ".crm_id LIKE 'res.partner:%'))"
#define OUTBOX_ENQUEUE(rows)                                                                     \
  "INSERT INTO fastepost_sync_outbox AS q (customer_id, source, crm_id, operation, queued_at, "  \
  "changed_at) SELECT n.id, 'odoo', n.crm_id, CASE WHEN n.crm_id IS NULL THEN 'create' ELSE "     \
  "'write' END, " UTC_NOW ", " UTC_NOW " FROM " rows " ORDER BY n.id "                            \
  "ON CONFLICT (customer_id, source) DO UPDATE SET crm_id = excluded.crm_id, "                    \
  "operation = excluded.operation, revision = q.revision + 1, changed_at = excluded.changed_at"
#define OUTBOX_TRIGGER(name, when, referencing)                                                  \
  "DROP TRIGGER IF EXISTS " name " ON customers;\n"                                              \
  "CREATE TRIGGER " name " AFTER " when " ON customers " referencing " FOR EACH STATEMENT "       \
  "WHEN (pg_catalog.current_setting('fastepost.origin', true) IS DISTINCT FROM 'sync') "          \
  "EXECUTE FUNCTION " name "();\n"
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"
#endif
static const char push_outbox_sql[] =
    "CREATE TABLE IF NOT EXISTS fastepost_sync_outbox (\n"
    "  customer_id bigint NOT NULL, source varchar NOT NULL,\n"
    "  crm_id varchar, operation varchar NOT NULL CHECK (operation IN ('create', 'write')),\n"
    "  revision bigint NOT NULL DEFAULT 1,\n"
    "  queued_at timestamp(6) NOT NULL DEFAULT " UTC_NOW ",\n"
    "  changed_at timestamp(6) NOT NULL DEFAULT " UTC_NOW ",\n"
    "  attempts integer NOT NULL DEFAULT 0, next_attempt_at timestamp(6), last_error text,\n"
    "  PRIMARY KEY (customer_id, source));\n"
    "CREATE INDEX IF NOT EXISTS index_fastepost_sync_outbox_due "
    "ON fastepost_sync_outbox (source, next_attempt_at NULLS FIRST, queued_at);\n"
    TRIGGER_FN("fastepost_outbox_customers_insert",
               OUTBOX_ENQUEUE("new_rows n WHERE " OUTBOX_PUSHED("n")))
    TRIGGER_FN("fastepost_outbox_customers_update",
               OUTBOX_ENQUEUE("new_rows n JOIN old_rows o ON o.id = n.id WHERE " OUTBOX_PUSHED("n")
                              " AND (n.name IS DISTINCT FROM o.name OR n.email IS DISTINCT FROM o.email "
                              "OR n.phone IS DISTINCT FROM o.phone OR n.active IS DISTINCT FROM o.active "
                              "OR n.crm_source IS DISTINCT FROM o.crm_source "
                              "OR n.crm_id IS DISTINCT FROM o.crm_id)"))
    PIN_PATH("fastepost_outbox_customers_insert") PIN_PATH("fastepost_outbox_customers_update")
    OUTBOX_TRIGGER("fastepost_outbox_customers_insert", "INSERT", "REFERENCING NEW TABLE AS new_rows")
    OUTBOX_TRIGGER("fastepost_outbox_customers_update", "UPDATE",
                   "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows");
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/*
 * Migration 13: counters that cost the sync core little and never make two deliveries wait.
 * - Slots: a transaction takes the first free one of 64 counter slots, starting from its
 *   backend's pid (fastepost_counter_slot: a transaction-level advisory lock per slot, tried
 *   without waiting), instead of pid % 8, where 8 processes collided on a slot (the birthday
 *   problem) and one waited for the other's commit on the same counter row. The slot is held
 *   to the commit; a transaction may add to several slots, readers sum them all.
 * - The sync core's apply and finish functions count their own rows in the same statement
 *   (src/sync/statements.c) and SET fastepost.counted = 'self' for their duration; the
 *   insert/update/delete counter triggers skip statements that run with it. Everything else
 *   (the Rails app, psql, imports, prunes, the core's batch and failure statements) is still
 *   counted by the triggers. TRUNCATE triggers are unchanged.
 * Counter rows already written keep their slots: only the sums mean something. Upgrading
 * needs nothing recounted.
 */
#define COUNTER_SLOT_FN "fastepost_counter_slot()"
#define NOT_SELF "WHEN (pg_catalog.current_setting('fastepost.counted', true) IS DISTINCT FROM 'self') "
#define STMT_TRIGGERS_COUNTED(prefix, table)                                                    \
  TRIGGER_IF(prefix "_insert", "INSERT", table, "REFERENCING NEW TABLE AS new_rows", NOT_SELF,  \
             prefix "_insert")                                                                  \
  TRIGGER_IF(prefix "_update", "UPDATE", table,                                                 \
             "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows", NOT_SELF, prefix "_update") \
  TRIGGER_IF(prefix "_delete", "DELETE", table, "REFERENCING OLD TABLE AS old_rows", NOT_SELF,  \
             prefix "_delete")
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"
#endif
static const char counted_by_writer_sql[] =
    "LOCK TABLE integration_events, customers, tasks IN SHARE ROW EXCLUSIVE MODE;\n"
    /* 1718641507: the advisory lock class of the slots (two-key form: apart from the sync
     * core's one-key locks on match keys). */
    "CREATE OR REPLACE FUNCTION fastepost_counter_slot() RETURNS smallint LANGUAGE plpgsql AS $$\n"
    "DECLARE first int := pg_catalog.pg_backend_pid() % 64;\n"
    "BEGIN\n"
    "  FOR i IN 0..63 LOOP\n"
    "    IF pg_catalog.pg_try_advisory_xact_lock(1718641507, (first + i) % 64) THEN\n"
    "      RETURN (first + i) % 64;\n"
    "    END IF;\n"
    "  END LOOP;\n"
    "  RETURN first;\n"
    "END $$;\n"
    TRIGGER_FN("fastepost_count_events_insert", EVENT_DELTAS_IN(COUNTER_SLOT_FN, EVENT_ROWS("new_rows", "1")))
    TRIGGER_FN("fastepost_count_events_update",
               EVENT_DELTAS_IN(COUNTER_SLOT_FN, EVENT_ROWS("new_rows", "1") " UNION ALL "
                               EVENT_ROWS("old_rows", "-1")))
    TRIGGER_FN("fastepost_count_events_delete", EVENT_DELTAS_IN(COUNTER_SLOT_FN, EVENT_ROWS("old_rows", "-1")))
    TRIGGER_FN("fastepost_count_customers_insert", ROW_DELTAS_IN(COUNTER_SLOT_FN, CUSTOMER_ROWS("new_rows", "")))
    TRIGGER_FN("fastepost_count_customers_update",
               ROW_DELTAS_IN(COUNTER_SLOT_FN, CUSTOMER_ROWS("new_rows", "") " UNION ALL "
                             CUSTOMER_ROWS("old_rows", "-")))
    TRIGGER_FN("fastepost_count_customers_delete", ROW_DELTAS_IN(COUNTER_SLOT_FN, CUSTOMER_ROWS("old_rows", "-")))
    TRIGGER_FN("fastepost_count_tasks_insert", ROW_DELTAS_IN(COUNTER_SLOT_FN, TASK_ROWS("new_rows", "")))
    TRIGGER_FN("fastepost_count_tasks_update",
               ROW_DELTAS_IN(COUNTER_SLOT_FN, TASK_ROWS("new_rows", "") " UNION ALL " TASK_ROWS("old_rows", "-")))
    TRIGGER_FN("fastepost_count_tasks_delete", ROW_DELTAS_IN(COUNTER_SLOT_FN, TASK_ROWS("old_rows", "-")))
    /* CREATE OR REPLACE dropped migration 5's pinned search_path. */
    PIN_PATHS("fastepost_count_events") PIN_PATHS("fastepost_count_customers") PIN_PATHS("fastepost_count_tasks")
    PIN_PATH("fastepost_counter_slot")
    STMT_TRIGGERS_COUNTED("fastepost_count_events", "integration_events")
    STMT_TRIGGERS_COUNTED("fastepost_count_customers", "customers")
    STMT_TRIGGERS_COUNTED("fastepost_count_tasks", "tasks");
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/*
 * Migration 17: the event list's four indexes in ascending order, rebuilt. Events arrive in
 * (created_at, id) order, so a descending index takes every insert on its leftmost leaf. A
 * split there leaves two half-full pages, and only the left one ever receives rows again: the
 * index settles at half full, 1.8x the size of the same index ascending (690 against 388 pages
 * after 100,000 events of one source) and 13 % more buffers touched for each event written.
 * Ascending, an insert lands at the right end of its key range: on the rightmost leaf of
 * (created_at, id), which splits at the fillfactor (90 % full), and for the indexes led by
 * source or status after that key's newest rows, where PostgreSQL also splits at the fillfactor
 * when inserts come in runs (a pull's page, a busy source); three sources interleaved row by row
 * leave those at 1.4-1.6x their rebuilt size, against 1.8x descending. ORDER BY created_at DESC,
 * id DESC reads the same index backward: one probe, the newest rows first, as before
 * (tests/db/events.c). The rebuild blocks writes to integration_events while it runs:
 * 45 s at 10M events (bench/README.md, "Ascending event indexes").
 */
static const char event_indexes_ascending_sql[] =
    "DROP INDEX IF EXISTS index_integration_events_on_created_at;\n"
    "CREATE INDEX index_integration_events_on_created_at ON integration_events (created_at, id);\n"
    "DROP INDEX IF EXISTS index_integration_events_on_source_created_at_id;\n"
    "CREATE INDEX index_integration_events_on_source_created_at_id "
    "ON integration_events (source, created_at, id);\n"
    "DROP INDEX IF EXISTS index_integration_events_on_status_created_at_id;\n"
    "CREATE INDEX index_integration_events_on_status_created_at_id "
    "ON integration_events (status, created_at, id);\n"
    "DROP INDEX IF EXISTS index_integration_events_on_source_status_created_at_id;\n"
    "CREATE INDEX index_integration_events_on_source_status_created_at_id "
    "ON integration_events (source, status, created_at, id);";

static const migration migrations[] = {
    {1, "base tables: customers, tasks, remarks, integration_events", NULL, NULL},
    {2, "CRM statistics counters kept by triggers", crm_counters_sql, NULL},
    {3, "versioned CRM properties and tombstones", crm_properties_sql, NULL},
    {4, "indexes for the event list filters", event_filter_indexes_sql, NULL},
    {5, "counter functions keep their own search_path", pinned_search_path_sql, NULL},
    {6, "customers by phone, lowest id first", phone_id_index_sql, NULL},
    /* src/sync/statements.c: their plans are cached per server session, also behind a transaction pooler */
    {7, "sync function: apply a delivery", fastepost__sync_function_apply_sql, NULL},
    {8, "sync function: finish a delivery that applies nothing", fastepost__sync_function_finish_sql, NULL},
    {9, "sync function: write versioned properties", fastepost__sync_function_props_write_sql, NULL},
    {10, "sync function: match candidates", fastepost__sync_function_match_sql, NULL},
    {11, "pull cursors per source and model", sync_cursors_sql, NULL},
    {12, "push-back outbox filled by triggers on customers", push_outbox_sql, NULL},
    {13, "counters: free slots, the sync functions count their own rows", counted_by_writer_sql,
     fastepost__sync_functions_counted_sql},
    {14, "sync function: the lock and seen-key lookup of a delivery in one call", fastepost__sync_function_lock_seen_sql,
     NULL},
    {15, "sync functions: apply and finish run only the statements of the branch taken",
     fastepost__sync_functions_branched_sql, NULL},
    {16, "sync function: the seen-key lookup planned for the table as it is until it has statistics",
     fastepost__sync_function_lock_seen_v16_sql, NULL},
    {17, "event list indexes ascending: inserts fill them instead of leaving them half empty",
     event_indexes_ascending_sql, NULL},
};
#define NMIGRATIONS (sizeof migrations / sizeof migrations[0])

static int base_tables_sql(fastepost__buf *b) {
  for (size_t t = 0; t < NTABLES; t++) {
    const table_def *td = &tables[t];
    /* Rails' own shape for a new table (bigserial id); on an existing table, add only what is
     * missing, so the Rails app's columns and data are never touched. */
    fastepost__buf_printf(b, "CREATE TABLE IF NOT EXISTS %s (id bigserial PRIMARY KEY);\n",
                          td->name);
    fastepost__buf_printf(b, "ALTER TABLE %s", td->name);
    for (const column_def *c = td->columns; c->name; c++)
      fastepost__buf_printf(b, "%s\n  ADD COLUMN IF NOT EXISTS %s %s", c == td->columns ? "" : ",",
                            c->name, c->definition);
    fastepost__buf_puts(b, ";\n");
    for (const char *const *x = td->extras; *x; x++)
      fastepost__buf_printf(b, "%s;\n", *x);
    fastepost__buf_putc(b, '\n');
  }
  return b->oom ? FASTEPOST_ENOMEM : FASTEPOST_OK;
}

static int migration_sql(fastepost__buf *b, const migration *m) {
  if (!m->sql)
    return base_tables_sql(b);
  fastepost__buf_printf(b, "%s\n", m->sql);
  if (m->more)
    fastepost__buf_printf(b, "%s\n", m->more);
  return b->oom ? FASTEPOST_ENOMEM : FASTEPOST_OK;
}

static const char migrations_table[] =
    "CREATE TABLE IF NOT EXISTS fastepost_schema_migrations (\n"
    "  version integer PRIMARY KEY,\n"
    "  name text NOT NULL,\n"
    "  applied_at timestamp(6) NOT NULL DEFAULT " UTC_NOW "\n);\n";

fastepost_status fastepost_schema_sql(char **out) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_schema_sql: out is NULL");
  *out = NULL;
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&b, "-- libfastepost schema, generated by `fastepost schema sql`.\n"
                          "-- Apply with `fastepost schema install`, which records each migration.\n\n");
  fastepost__buf_puts(&b, migrations_table);
  for (size_t i = 0; i < NMIGRATIONS; i++) {
    fastepost__buf_printf(&b, "\n-- migration %d: %s\n", migrations[i].version, migrations[i].name);
    migration_sql(&b, &migrations[i]);
    fastepost__buf_printf(&b,
                          "INSERT INTO fastepost_schema_migrations (version, name) VALUES (%d, '%s')"
                          " ON CONFLICT DO NOTHING;\n",
                          migrations[i].version, migrations[i].name);
  }
  *out = fastepost__buf_detach(&b);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

static bool accepts(const char *list, const char *typname) {
  size_t n = strlen(typname);
  for (const char *p = list; (p = strstr(p, typname)) != NULL; p += n)
    if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
      return true;
  return false;
}

/* Refuse to touch a pre-existing table whose columns have types our code cannot use. */
static int check_existing_tables(fastepost_conn *conn) {
  static const char sql[] =
      "SELECT c.relname, a.attname, t.typname, format_type(a.atttypid, a.atttypmod) "
      "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
      "JOIN pg_type t ON t.oid = a.atttypid "
      "WHERE a.attrelid IN (SELECT to_regclass(quote_ident(x)) FROM unnest($1::text[]) x) "
      "AND a.attnum > 0 AND NOT a.attisdropped";
  const char *params[1] = {"{customers,tasks,remarks,integration_events}"};
  PGresult *res;
  int rc = fastepost__query(&res, conn, sql, 1, params, PGRES_TUPLES_OK,
                            "reading existing tables");
  if (rc)
    return rc;
  for (int r = 0; r < PQntuples(res) && rc == FASTEPOST_OK; r++) {
    const char *table = PQgetvalue(res, r, 0), *column = PQgetvalue(res, r, 1);
    const char *typname = PQgetvalue(res, r, 2);
    for (size_t t = 0; t < NTABLES; t++) {
      if (strcmp(tables[t].name, table) != 0)
        continue;
      const char *want = strcmp(column, "id") == 0 ? ID_TYPES : NULL;
      for (const column_def *c = tables[t].columns; !want && c->name; c++)
        if (strcmp(c->name, column) == 0)
          want = c->accepts;
      if (want && !accepts(want, typname))
        rc = fastepost__error_set(FASTEPOST_ECONFLICT,
                                  "table %s already has column %s of type %s, which libfastepost "
                                  "cannot use (expected one of: %s); nothing was changed",
                                  table, column, PQgetvalue(res, r, 3), want);
    }
  }
  PQclear(res);
  return rc;
}

static int recorded_version(int *current, fastepost_conn *conn) {
  bool exists = false;
  int rc = fastepost__query_bool(&exists, conn,
                                 "SELECT to_regclass('fastepost_schema_migrations') IS NOT NULL",
                                 0, NULL, "reading the schema version");
  if (rc)
    return rc;
  PGresult *res;
  *current = 0;
  if (!exists)
    return FASTEPOST_OK;
  rc = fastepost__query(&res, conn,
                        "SELECT coalesce(max(version), 0) FROM fastepost_schema_migrations", 0,
                        NULL, PGRES_TUPLES_OK, "reading the schema version");
  if (rc)
    return rc;
  *current = atoi(PQgetvalue(res, 0, 0));
  PQclear(res);
  return FASTEPOST_OK;
}

fastepost_status fastepost_schema_version(int *current, int *latest, fastepost_conn *conn) {
  if (!current)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_schema_version: current is NULL");
  if (latest)
    *latest = migrations[NMIGRATIONS - 1].version;
  return recorded_version(current, conn);
}

static int apply_pending(int *applied, fastepost_conn *conn) {
  /* Serialise concurrent installers (two app servers booting at once). */
  int rc = fastepost__exec(conn, "SELECT pg_advisory_xact_lock(hashtext('fastepost_schema'))",
                           "locking the schema");
  if (!rc)
    rc = fastepost__exec(conn, migrations_table, "creating fastepost_schema_migrations");
  int current = 0;
  if (!rc)
    rc = recorded_version(&current, conn);
  if (rc)
    return rc;
  int latest = migrations[NMIGRATIONS - 1].version;
  if (current > latest)
    return fastepost__error_set(FASTEPOST_EVERSION,
                                "the database schema is at version %d, newer than this "
                                "libfastepost knows (%d): upgrade the library",
                                current, latest);
  if (current < latest && (rc = check_existing_tables(conn)))
    return rc;
  for (size_t i = 0; i < NMIGRATIONS && !rc; i++) {
    const migration *m = &migrations[i];
    if (m->version <= current)
      continue;
    fastepost__buf sql = FASTEPOST__BUF_INIT;
    rc = migration_sql(&sql, m);
    if (!rc)
      rc = fastepost__exec(conn, fastepost__buf_cstr(&sql), "applying a migration");
    fastepost__buf_free(&sql);
    /* A migration that builds an index or backfills reads the whole table: minutes at 100M
     * events (migration 17: 45 s at 10M), past the 30-s default meant for the hot path. Say
     * which knob the host holds (the CLI adds its option as a hint); the transaction rolls
     * back, so nothing is half done. */
    if (rc == FASTEPOST_ETIMEOUT) {
      char message[512], sqlstate[6];
      snprintf(message, sizeof message, "%s", fastepost_error_last()->message);
      snprintf(sqlstate, sizeof sqlstate, "%s", fastepost_error_last()->sqlstate);
      fastepost__error_set_sqlstate(rc, sqlstate,
                                    "%s; nothing was changed: the migration did not finish within the "
                                    "statement timeout (%d s); it reads whole tables (minutes at 100M "
                                    "events): raise the timeout (fastepost_conn_set_statement_timeout(), "
                                    "statement_timeout when connecting from Python or Ruby)",
                                    message, conn->statement_timeout_ms / 1000);
    }
    if (!rc) {
      char version[16];
      snprintf(version, sizeof version, "%d", m->version);
      const char *params[2] = {version, m->name};
      PGresult *res;
      rc = fastepost__query(&res, conn,
                            "INSERT INTO fastepost_schema_migrations (version, name) VALUES ($1, $2)",
                            2, params, PGRES_COMMAND_OK, "recording a migration");
      PQclear(res);
    }
    if (rc)
      fastepost__error_prefix("schema migration %d (%s)", m->version, m->name);
    else
      (*applied)++;
  }
  return rc;
}

fastepost_status fastepost_schema_install(size_t *applied, fastepost_conn *conn) {
  int count = 0;
  if (applied)
    *applied = 0;
  int rc = fastepost__tx_begin(conn);
  if (rc)
    return rc;
  /* Keep NOTICEs ("relation already exists, skipping") out of the host's stderr. */
  rc = fastepost__exec(conn, "SET LOCAL client_min_messages = warning", "configuring");
  if (!rc)
    rc = apply_pending(&count, conn);
  if (!rc)
    rc = fastepost__tx_commit(conn);
  if (rc) {
    fastepost__tx_rollback(conn);
    return rc;
  }
  if (applied)
    *applied = (size_t)count;
  return FASTEPOST_OK;
}
