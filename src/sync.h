/* SPDX-License-Identifier: MIT */
/*
 * The sync core: one path for every CRM source. Private to the library.
 *
 * Contract for an adapter (odoo.c today, hubspot.c next):
 *
 *   1. Fill a fastepost__sync_record from the delivery. The adapter knows payload shapes and
 *      nothing about SQL; the core knows SQL and nothing about payloads.
 *        - source ("odoo"), model ("res.partner"; NULL when the source's crm ids are all of
 *          one kind, e.g. HubSpot contact ids: then any other crm id of the source counts as
 *          "another record of the same model"), event_type ("res.partner.unlink"),
 *          external_id ("res.partner:42"), payload (canonical JSON text, NULL if not JSON),
 *          idempotency_key (hex; NULL when there is none: then no duplicate detection).
 *        - failure / failure_message when the adapter rejected the delivery (parse error, too
 *          big, invalid): the core only logs it as `error` and returns the code.
 *        - ignore_reason when the delivery is well-formed but carries nothing to apply (unknown
 *          model, no usable fields): logged as `success` / `ignored`.
 *        - crm_id: the record's own customer key, "<model>:<id>" ("res.partner:42",
 *          "crm.lead:7"); link_crm_id: another record's key the customer may be found by first
 *          ("res.partner:5" for a lead with partner_id 5).
 *        - owns_customer: the record IS the customer in the CRM (a contact): existing customers
 *          are updated from the facts, stale versions refused, and an email match on a customer
 *          linked to another record of the same model is a conflict. When false (a lead), an
 *          existing customer is left as it is and only the remark / task link are added.
 *        - match_phone: also match customers by phone (after crm ids and email).
 *        - version: the source's timestamp of the record, "YYYY-MM-DD HH:MM:SS.ffffff" UTC, or
 *          NULL. Older than the stored customers.crm_updated_at => stale.
 *        - facts: customer columns with per-field presence (absent = leave alone,
 *          empty = set NULL, value = set).
 *        - note_body / note_key: a remark; its external_key is "<source>:<note_key>:<sha256 of
 *          body>", so a redelivery adds nothing and a changed text adds a new remark.
 *        - task_id / barcodes: the task reference; the first existing task wins.
 *        - warnings: handed on to the result.
 *      Versioned properties (sources that deliver one property at a time, out of order, e.g.
 *      HubSpot), instead of whole-record versions:
 *        - props / prop_defs / nprops: the source's properties and the customer column each
 *          feeds (FASTEPOST__COL_*), in part order; props[i] is the delivered state of
 *          prop_defs[i] (absent = not in this delivery). The core keeps, per (source, crm_id,
 *          property), the last applied value and its version in fastepost_crm_properties:
 *          a delivered property whose stored version is newer than rec->version is dropped
 *          (last writer wins per property; when every delivered property is dropped the
 *          outcome is `stale`). A column is rebuilt from all its parts, delivered or stored:
 *          name and address join the non-empty parts with " " and ", ", the other columns take
 *          the first non-empty part. customers.crm_updated_at only moves forward.
 *        - tombstone: the record was deleted in the CRM: the customer (if any) is deactivated
 *          and a tombstone (property "_deleted") is stored at rec->version, also when no
 *          customer exists yet. Any later-arriving event of that record whose version is not
 *          newer than the tombstone is `stale`, so it cannot revive or change the customer.
 *        - restore: the record was restored (un-deleted) in the CRM: a tombstone older than
 *          rec->version is removed (the adapter also sets facts.active = 1). A restore older
 *          than the tombstone is `stale` like any other event.
 *        - retired_crm_ids: other records folded into this one (a merge): each gets a
 *          tombstone at rec->version and its customer is deactivated. Their crm ids are
 *          locked like the record's own, so a late event of a merged record waits for the
 *          merge and then finds the tombstone.
 *        - a delivered email or phone property is matched and locked like the fact.
 *        - create_bare: the record is known to exist though it carries no facts (a creation
 *          notice): a customer holding only the CRM link may be created.
 *        - merge outcomes: a record with retired_crm_ids that updates a customer counts as
 *          `updated`.
 *      Store-only properties and references (Pipedrive: a person names its organization by id
      only, and the organization's name comes from the organization's own events):
        - a prop_def with column FASTEPOST__COL_NONE feeds no customer column: it is only kept
          in fastepost_crm_properties, last writer wins, for other records to refer to.
        - props_only: the record only feeds that store (an organization is not a customer): no
          customer is matched, created or changed. Its properties (never older ones) are stored
          and the outcome is `ignored` with ignore_reason, or `stale` when every delivered
          property has a newer stored value.
        - ref_crm_id / ref_property / ref_prop: props[ref_prop], when the record does not
          deliver it, takes the value stored for (source, ref_crm_id, ref_property) at the
          record's version (a stored NULL = empty). Nothing stored yet: it stays absent (the
          column is left as it is) with a warning. The referenced crm id is locked like a merged
          one, so that an event of the referenced record in the same batch is applied first.
   2. Call fastepost__sync_process() (one delivery) or, inside fastepost__sync_batch_begin()
 *      / _commit(), fastepost__sync_process_many(). One event runs in one transaction (a
 *      savepoint in a batch), in two pipelined round trips plus the commit:
 *        round one: BEGIN; advisory locks on the event's keys (idempotency key, crm ids, email,
 *          phone), so that deliveries touching the same customer serialise; the event already
 *          logged under the key (a processed one makes this a `duplicate`: nothing is written;
 *          a failed one is processed again on its row); the match candidates; the task.
 *        decision in C: target customer, outcome (created / updated / unchanged / stale /
 *          ignored / conflict), the values to write.
 *        round two: one statement writing customer, remark, task link and the event row with
 *          its final state (inserted once, never updated afterwards); COMMIT.
 *      The statements are sent unnamed (nothing outlives the transaction, so a transaction
 *      pooler may hand the server session to anyone between two deliveries); the match and
 *      the round-two statements are PL/pgSQL functions of the schema (migrations 7-10), whose
 *      plans each server session caches. Every statement has a generic-plan test against large
 *      tables (tests/db/plans.c).
 *   3. On a failure the core rolls back and logs the event as `error` in a transaction of its
 *      own (the batch's, after rolling back to the savepoint); transient failures (ECONN, EBUSY)
 *      get `next_attempt_at` (exponential backoff with jitter) and become `dead` after
 *      max_attempts. The call refuses (EINVALID) to run inside a transaction of the caller's.
 *
 * Reprocessing (events.c) sets event_id to the stored row: the core then updates that row
 * instead of inserting one.
 *
 * Before a record is looked at, the core normalises its customer values with one rule for
 * every source (src/normalize.h: email trimmed, validated and ASCII lower-cased, phone white
 * space): an adapter need not, and cannot, apply a rule of its own.
 *
 * The result object (struct fastepost_event_result, public getters in events.h, bodies in
 * src/result.c) is shared by every source, as is fastepost_status_http().
 *
 * The implementation lives in src/sync/, one concern per file (src/sync/sync_priv.h lists them).
 */
#ifndef FASTEPOST_SYNC_H
#define FASTEPOST_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

typedef enum { FASTEPOST__FACT_ABSENT = 0, FASTEPOST__FACT_EMPTY, FASTEPOST__FACT_VALUE } fastepost__fact_state;

/* One customer column as delivered. value is owned (malloc) when state is VALUE. */
typedef struct fastepost__fact {
  fastepost__fact_state state;
  char *value;
} fastepost__fact;

/* Customer columns, in the order of fastepost__customer_facts. */
enum { FASTEPOST__COL_NAME = 0, FASTEPOST__COL_EMAIL, FASTEPOST__COL_PHONE, FASTEPOST__COL_COMPANY,
       FASTEPOST__COL_ADDRESS, FASTEPOST__NCOLS };
/* A versioned property that feeds no column: kept in the store only (see "Store-only"). */
#define FASTEPOST__COL_NONE (-1)

/* A source property feeding a customer column (see "Versioned properties" above). */
typedef struct fastepost__prop_def {
  const char *name; /* the source's property name: "firstname" */
  int column;       /* FASTEPOST__COL_* */
} fastepost__prop_def;

#define FASTEPOST__MAX_PROPS 16

typedef struct fastepost__customer_facts {
  fastepost__fact name, email, phone, company, address;
  int active; /* -1 absent, 0 false, 1 true */
} fastepost__customer_facts;

/* A growable list of owned strings. */
typedef struct fastepost__strlist {
  char **items;
  size_t count;
} fastepost__strlist;

int fastepost__strlist_add(fastepost__strlist *list, const char *s);
int fastepost__strlist_addf(fastepost__strlist *list, const char *fmt, ...) FASTEPOST__PRINTF(2, 3);
void fastepost__strlist_free(fastepost__strlist *list);
/* Drop the items from `count` on (kept: the first `count`). */
void fastepost__strlist_truncate(fastepost__strlist *list, size_t count);

/* The normalised record. Every char * is owned and freed by fastepost__sync_record_clear(),
 * except source, which points to a static string. */
typedef struct fastepost__sync_record {
  const char *source;
  char *model;
  char *event_type;
  char *external_id;
  char *idempotency_key;
  char *payload;
  int64_t event_id;

  int failure;
  char *failure_message;
  char *ignore_reason;

  char *crm_id;
  char *link_crm_id;
  bool owns_customer;
  bool match_phone;
  char *version;
  fastepost__customer_facts facts;

  char *note_body;
  char *note_key;

  int64_t task_id;
  fastepost__strlist barcodes;

  fastepost__strlist warnings;

  /* versioned properties, tombstones and merges (see above) */
  const fastepost__prop_def *prop_defs; /* static, owned by the adapter */
  size_t nprops;
  fastepost__fact props[FASTEPOST__MAX_PROPS];
  bool tombstone;
  bool restore;
  bool create_bare;
  fastepost__strlist retired_crm_ids;
  /* store-only records and references to another record's stored property (see above) */
  bool props_only;
  char *ref_crm_id;
  const char *ref_property; /* static */
  size_t ref_prop;
} fastepost__sync_record;

void fastepost__sync_record_init(fastepost__sync_record *rec, const char *source);
void fastepost__sync_record_clear(fastepost__sync_record *rec);
/* Set a fact to VALUE (a copy of s, NULL s = EMPTY). */
int fastepost__fact_set(fastepost__fact *fact, const char *s);

/* The result object behind fastepost_event_result. */
struct fastepost_event_result {
  int code;
  fastepost_outcome outcome;
  int64_t event_id, customer_id, remark_id, task_id;
  char *error;
  fastepost__strlist warnings;
};

/* A new zeroed result (NULL on ENOMEM); record the final code and message into it. */
fastepost_event_result *fastepost__result_new(void);
int fastepost__result_fail(fastepost_event_result *res, int code);

/* How one call runs. */
/* ctx.now_us for "the database server's clock" (statement_timestamp()): the default, so that
 * event rows, the retry due check and the statistics share one clock. */
#define FASTEPOST__SYNC_SERVER_CLOCK INT64_MIN

typedef struct fastepost__sync_ctx {
  int64_t now_us;     /* an injected clock, microseconds since the epoch (UTC), or
                       * FASTEPOST__SYNC_SERVER_CLOCK */
  bool in_batch;      /* inside fastepost__sync_batch_begin(): savepoints, no commit */
  int max_attempts;   /* transient failures after this many attempts: dead */
} fastepost__sync_ctx;

/* The hot path's statements (a {NULL, NULL} entry ends the list): name and SQL, for the plan
 * test (tests/db/plans.c), which prepares each one itself on a large table. */
typedef struct fastepost__sync_statement {
  const char *name;
  const char *sql;
} fastepost__sync_statement;
extern const fastepost__sync_statement fastepost__sync_statements[];
/* Schema migrations 7-10: the large statements as PL/pgSQL functions (see sync/statements.c). */
extern const char fastepost__sync_function_apply_sql[];
extern const char fastepost__sync_function_finish_sql[];
extern const char fastepost__sync_function_props_write_sql[];
extern const char fastepost__sync_function_match_sql[];
/* Schema migration 13: apply and finish replaced by versions that count their own rows. */
extern const char fastepost__sync_functions_counted_sql[];
/* Migration 14: the lock and the seen-key lookup of a delivery in one function. */
extern const char fastepost__sync_function_lock_seen_sql[];
/* Migration 15: apply and finish as PL/pgSQL bodies of plain statements, run by branch. */
extern const char fastepost__sync_functions_branched_sql[];
/* Migration 16: the seen-key lookup planned at each call until the event log has statistics. */
extern const char fastepost__sync_function_lock_seen_v16_sql[];

/* Process one record; fills res (which must be non-NULL). Returns res->code. The record's
 * customer values are normalised in place first (normalize.h; its warnings join rec->warnings),
 * so a record processed again is processed alike. */
int fastepost__sync_process(fastepost_event_result *res, fastepost_conn *conn,
                            fastepost__sync_record *rec, const fastepost__sync_ctx *ctx);

/* Process n records inside a batch (ctx->in_batch), each normalised in place first like
 * fastepost__sync_process()'s: runs of up to 1000 records that share no customer, event or
 * task key (a chunk) are looked up in one pipelined round trip and applied in a second. Both
 * are set-based for the common records (a new event, no versioned properties, task, remark or
 * stored event to update: an initial import's): one statement looks up the seen events of the
 * whole chunk, one its match candidates, one writes its customers and event rows
 * (statements.c, *_many), the decision per record staying in C as for one delivery; the other
 * records of the chunk send their own statements in the same round trips. A record that would
 * update a customer another record of the chunk updates too (found by different keys) runs on
 * its own after the chunk, so that it sees that write, as it would one at a time. Any failure
 * replays the chunk record by record with fastepost__sync_process(), each in its own
 * savepoint (the failing one is logged as failed, the others apply). res[i] (NULL skips
 * record i) receives record i's result. Returns FASTEPOST_OK, or FASTEPOST_ECONN when the
 * connection (and with it the batch) was lost. */
int fastepost__sync_process_many(fastepost_event_result **res, fastepost_conn *conn,
                                 fastepost__sync_record *recs, size_t n, const fastepost__sync_ctx *ctx);

/* A batch: one transaction around fastepost__sync_process_many() or several
 * fastepost__sync_process(ctx.in_batch = true). */
int fastepost__sync_batch_begin(fastepost_conn *conn);
int fastepost__sync_batch_commit(fastepost_conn *conn);

/* Whether a failure is transient (retried with backoff): the database was unreachable, busy,
 * read-only or too slow, not the delivery wrong. */
bool fastepost__sync_transient(int code);


/* The accepted range of source timestamps (HubSpot occurredAt, Odoo write_date ...): a time
 * outside it would poison last-writer-wins (every later genuine change would be "stale"). */
typedef struct fastepost__time_range {
  int64_t min_us;       /* earliest, microseconds since the epoch */
  int64_t max_ahead_us; /* latest: now plus this */
} fastepost__time_range;

/* 2000-01-01 00:00:00 UTC to now + 1 day. */
#define FASTEPOST__TIME_MIN_US 946684800000000LL
#define FASTEPOST__TIME_AHEAD_US 86400000000LL
#define FASTEPOST__TIME_RANGE_DEFAULT {FASTEPOST__TIME_MIN_US, FASTEPOST__TIME_AHEAD_US}
/* The largest accepted bounds for a setter (no arithmetic on them can overflow). */
#define FASTEPOST__TIME_LIMIT_US (253402300799LL * 1000000) /* 9999-12-31 23:59:59 */

/* FASTEPOST_OK when us lies in the range (NULL: the default) as seen from now_us (the injected
 * clock; FASTEPOST__SYNC_SERVER_CLOCK: the system clock, since the server's is not at hand
 * before the transaction: a day of slack covers any sane skew). Else FASTEPOST_EINVALID with a
 * message naming `what`. */
int fastepost__sync_time_check(int64_t us, const fastepost__time_range *range, int64_t now_us, const char *what);
/* Check and store a range for a setter: FASTEPOST_EINVALID recorded as "<who>: opts is NULL"
 * when range is NULL (the setters pass `opts ? &opts->time_range : NULL`, as with
 * fastepost__clock_set), else unless 0 <= min_us <= the limit and 0 <= max_ahead_us <= 100
 * years. */
int fastepost__time_range_set(fastepost__time_range *range, int64_t min_us, int64_t max_ahead_us,
                              const char *who);

#endif
