/* SPDX-License-Identifier: MIT */
/*
 * The sync core's pieces, private to src/sync/ (the contract for adapters is src/sync.h):
 *
 *   statements.c  the SQL of the hot path and the schema functions that hold it
 *   pipeline.c    pipelined round trips (steps)
 *   record.c      owned-data helpers of the record (strlist, facts)
 *   normalize.c   customer normalisation (email, phone) for every source (src/normalize.h)
 *   match.c       finding the customer: lock keys and round one's lookups, the candidates
 *   decide.c      what to do: the plan, last writer wins, tombstones, merges; round two built
 *   apply.c       writing: round two's result read back, a failed event logged
 *   process.c     one event in its own transaction (or savepoint)
 *   batch.c       many events: chunks of independent events in two round trips, set-based
 *                 lookups and writes for the chunk's simple events
 *   txn.c         transactions: settings, clocks, transient failures, accepted time range
 *
 * One event travels as a job: job_init (match.c) -> round one (match.c) -> job_decide
 * (decide.c) -> round two -> job_finish (apply.c).
 */
#ifndef FASTEPOST_SYNC_PRIV_H
#define FASTEPOST_SYNC_PRIV_H

#include "../sync.h"

/* ---- statements (statements.c) ---------------------------------------------------------- */

extern const char fastepost__sync_sql_lock[];
extern const char fastepost__sync_sql_seen_key[];
extern const char fastepost__sync_sql_seen_id[];
extern const char fastepost__sync_sql_task[];
extern const char fastepost__sync_sql_fail_new[];
extern const char fastepost__sync_sql_fail_id[];
extern const char fastepost__sync_sql_props[];
/* Calls of the schema functions (migrations 7-10) that hold the large statements. */
extern const char fastepost__sync_call_match[];
extern const char fastepost__sync_call_lock_seen[];
extern const char fastepost__sync_call_apply[];
extern const char fastepost__sync_call_finish[];
extern const char fastepost__sync_call_props_write[];
/* The set-based statements of a batch chunk (batch.c): the seen events and the match candidates
 * of many records, and the writes of many simple plans, each in one statement over arrays. */
extern const char fastepost__sync_sql_seen_many[];
extern const char fastepost__sync_sql_match_many[];
extern const char fastepost__sync_sql_apply_many[];
#define FASTEPOST__SYNC_APPLY_MANY_ARRAYS 20

/* ---- pipelined round trips (pipeline.c) ------------------------------------------------- */

#define FASTEPOST__SYNC_MAX_PARAMS 24

typedef struct fastepost__step {
  const char *stmt; /* the statement's name (error messages), or NULL for plain sql */
  const char *sql;  /* the statement; with stmt NULL, plain SQL without parameters */
  int nparams;
  const char *params[FASTEPOST__SYNC_MAX_PARAMS];
  ExecStatusType expected;
  PGresult *res;
  /* A call of a schema function (or the settings): its plan is the same whatever the tables
   * hold, so it may be prepared by name. Not a statement that reads a table: prepared, its
   * generic plan would be made once, on whatever the tables held then (tests/db/plans.c). */
  bool call;
  bool parse; /* sent with its Prepare (pipeline.c) */
} fastepost__step;

void fastepost__sync_steps_clear(fastepost__step *steps, size_t n);
/* Send every step in one pipeline and collect the results: one round trip. Returns OK, or the
 * first failing step's error. Results stay in steps[i].res for the caller to read and clear.
 * named: send the calls (step.call) as prepared statements, each prepared in the pipeline at
 * its first use in the session; only where fastepost__conn_prepare_on() says so,
 * and only by a caller that retries unnamed when one is missing (process.c). */
int fastepost__sync_run_steps(fastepost_conn *conn, fastepost__step *steps, size_t n, bool named);

/* ---- one event as a job ----------------------------------------------------------------- */

/* Match candidates by rank: 1 link crm id, 2 own crm id, 3 email, 4 phone. */
enum { FASTEPOST__RANK_LINK = 1, FASTEPOST__RANK_OWN, FASTEPOST__RANK_EMAIL, FASTEPOST__RANK_PHONE,
       FASTEPOST__RANK_COUNT };

typedef struct fastepost__candidate {
  bool found;
  int64_t id;
  const char *crm_source, *crm_id; /* NULL for SQL NULL */
  const char *cols[5];             /* name, email, phone, company, address */
  bool active;
  bool newer; /* its crm_updated_at is later than the delivery's version */
} fastepost__candidate;

typedef struct fastepost__plan {
  const char *mode;          /* "create", "update", "keep", or NULL: finish without applying */
  fastepost_outcome outcome; /* for finish: STALE, IGNORED or CONFLICT */
  const fastepost__candidate *target;
  const char *cols[5];
  const char *active; /* "true", "false" or NULL (keep) */
  const char *crm_source, *crm_id, *crm_updated_at;
  bool changed;
  char message[512];
} fastepost__plan;

#define FASTEPOST__SYNC_MAX_KEYS 5

/* One delivery on its way through the core. Everything the pipelined statements point to lives
 * here until its round trips are done. */
typedef struct fastepost__job {
  const fastepost__sync_record *rec;
  fastepost_event_result *res;
  const char *email, *phone;
  bool want_customer, want_task;
  fastepost__buf keybufs[FASTEPOST__SYNC_MAX_KEYS]; /* advisory lock keys */
  const char *keys[FASTEPOST__SYNC_MAX_KEYS];
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
  fastepost__step props_write;
  fastepost__candidate cands[FASTEPOST__RANK_COUNT];
  fastepost__plan p;
  int64_t tid;
  bool link_task;
  bool duplicate;
  /* the seen row when a set-based lookup found it for this job (batch.c), instead of i_seen */
  const PGresult *seen_res;
  int seen_row;
  fastepost__step apply; /* round two */
} fastepost__job;

/* A result value, NULL for SQL NULL. */
const char *fastepost__sync_get(const PGresult *r, int row, int col);

/* match.c */
int fastepost__job_init(fastepost__job *j, const fastepost__sync_record *rec, fastepost_event_result *res);
void fastepost__job_free(fastepost__job *j);
/* Append the job's lookups (seen, match, props, task) to round one; with lock_seen, the lock
 * and the seen-key lookup as one call (fastepost_sync_lock_seen) when the job has both. */
void fastepost__job_round1(fastepost__job *j, fastepost__step *r1, size_t *n, bool lock_seen);
void fastepost__sync_read_candidates(fastepost__candidate *c, const PGresult *r);
/* One candidate row (rank in column col, then the match's columns). */
void fastepost__sync_read_candidate(fastepost__candidate *c, const PGresult *r, int row, int col);

/* decide.c */
/* Whether the record uses versioned properties, tombstones or merges (sync.h). */
bool fastepost__sync_versioned(const fastepost__sync_record *rec);
/* From round one's results: a duplicate, or the round-two statement(s) in j->apply and
 * j->props_write. */
int fastepost__job_decide(fastepost__job *j, const fastepost__step *r1, const char *now);

/* apply.c */
/* From round two's result: the ids and the outcome. */
void fastepost__job_finish(fastepost__job *j);
/* The same from a row of fastepost__sync_sql_apply_many (customer, outcome, event in columns
 * 1-3). */
void fastepost__job_finish_row(fastepost__job *j, const PGresult *r, int row);
/* Log a failed delivery (in the current transaction when in a batch, else on its own). */
int fastepost__sync_log_failure(fastepost_event_result *res, fastepost_conn *conn, const fastepost__sync_record *rec,
                                const fastepost__sync_ctx *ctx, const char *now, int code, const char *message);

/* txn.c */
/* The "now" parameter: the injected clock's time, or NULL for the server's clock. */
const char *fastepost__sync_now(char *buf, size_t size, const fastepost__sync_ctx *ctx);
/* The transaction's settings (timeouts, UTC, generic plans) as one statement: its text, or a
 * step with the timeouts as parameters (written into timeouts[0] and [1]) that can be prepared;
 * its last column is the server's pid. */
const char *fastepost__sync_settings_sql(const fastepost_conn *conn, char *buf, size_t size);
fastepost__step fastepost__sync_settings_step(const fastepost_conn *conn, char (*timeouts)[16]);
/* Whether conn cannot start a transaction of our own, with the error set. */
bool fastepost__sync_busy_connection(fastepost_conn *conn, const char *what);

#endif
