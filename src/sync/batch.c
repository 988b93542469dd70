/* SPDX-License-Identifier: MIT */
/* Many events in one transaction: chunks of independent events, two round trips per chunk,
 * set-based statements for the chunk's simple events (sync.h, fastepost__sync_process_many). */
#include "sync_priv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"

/* A chunk is as large as a page of an initial import: its lookups and writes are set-based
 * (one statement each for all its simple records), so the larger the chunk, the fewer round
 * trips and plans per record. */
#define CHUNK_MAX 1000

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

/* ---- the keys a chunk holds: a set of strings (open addressing), so that forming a chunk of
 * a thousand records stays linear ---------------------------------------------------------- */

typedef struct keyset {
  char **slots;
  size_t cap, count;
} keyset;

static uint64_t key_hash(const char *s) {
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static bool keyset_has(const keyset *set, const char *s) {
  if (!set->cap)
    return false;
  for (size_t i = key_hash(s) & (set->cap - 1); set->slots[i]; i = (i + 1) & (set->cap - 1))
    if (strcmp(set->slots[i], s) == 0)
      return true;
  return false;
}

/* Takes ownership of s (freed on failure). */
static int keyset_take(keyset *set, char *s) {
  if ((set->count + 1) * 2 > set->cap) {
    size_t cap = set->cap ? set->cap * 2 : 64;
    char **slots = calloc(cap, sizeof *slots);
    if (!slots) {
      free(s);
      return fastepost__error_oom();
    }
    for (size_t i = 0; i < set->cap; i++) {
      if (!set->slots[i])
        continue;
      size_t k = key_hash(set->slots[i]) & (cap - 1);
      while (slots[k])
        k = (k + 1) & (cap - 1);
      slots[k] = set->slots[i];
    }
    free(set->slots);
    set->slots = slots;
    set->cap = cap;
  }
  size_t k = key_hash(s) & (set->cap - 1);
  while (set->slots[k])
    k = (k + 1) & (set->cap - 1);
  set->slots[k] = s;
  set->count++;
  return FASTEPOST_OK;
}

static void keyset_free(keyset *set) {
  for (size_t i = 0; i < set->cap; i++)
    free(set->slots[i]);
  free(set->slots);
  *set = (keyset){0};
}

/* Everything an event may read or write that another event of the same chunk could too: its
 * lock keys and its task references. */
static int chunk_keys(const fastepost__job *j, fastepost__strlist *out) {
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

static bool shares_key(const keyset *chunk, const fastepost__strlist *mine) {
  for (size_t i = 0; i < mine->count; i++)
    if (keyset_has(chunk, mine->items[i]))
      return true;
  return false;
}

/* ---- set-based lookups and writes ------------------------------------------------------------ */

/* Whether a job's lookups can join the chunk's set-based ones: a new event (not a stored one
 * processed again) without versioned properties or a task to look up. */
static bool set_lookup(const fastepost__job *j) {
  return j->rec->event_id == 0 && !fastepost__sync_versioned(j->rec) && !j->want_task;
}

/* Whether a decided job's writes can join the chunk's set-based statement: a new event row found
 * again by its idempotency key, no remark, task link or stored properties, and a created
 * customer found again by its crm id. Its parameters are those of its own round-two statement. */
static bool set_write(const fastepost__job *j) {
  const fastepost__sync_record *rec = j->rec;
  if (j->duplicate || j->write_props || strcmp(j->ev, "0") != 0 || !rec->idempotency_key)
    return false;
  if (!j->p.mode)
    return true;
  return !j->apply.params[19] && !j->apply.params[21] && (strcmp(j->p.mode, "create") != 0 || j->p.crm_id);
}

/* Literals of ncols text arrays over the rows vals[c * nrows + row], into bufs[c] and params[c]. */
static int array_params(fastepost__buf *bufs, const char **params, const char **vals, size_t ncols,
                        size_t nrows) {
  bool oom = false;
  for (size_t c = 0; c < ncols; c++) {
    fastepost__buf_array_literal(&bufs[c], vals + c * nrows, nrows);
    oom |= bufs[c].oom;
    params[c] = fastepost__buf_cstr(&bufs[c]);
  }
  return oom ? fastepost__error_oom() : FASTEPOST_OK;
}

static void bufs_free(fastepost__buf *bufs, size_t n) {
  for (size_t i = 0; i < n; i++)
    fastepost__buf_free(&bufs[i]);
}

#define LOOKUP_ARRAYS 8 /* seen: source, key; match: link, own, email, phone, source, version */

/* Round one's set-based lookups of the jobs at idx[0..n): the seen events and the candidates. */
static int lookup_steps(fastepost__step *r1, size_t *n1, fastepost__buf *bufs, const char **vals,
                        fastepost__job *jobs, const size_t *idx, size_t n) {
  for (size_t m = 0; m < n; m++) {
    const fastepost__job *j = &jobs[idx[m]];
    const fastepost__sync_record *rec = j->rec;
    const char *row[LOOKUP_ARRAYS] = {rec->source, rec->idempotency_key,
                                      j->want_customer ? rec->link_crm_id : NULL,
                                      j->want_customer ? rec->crm_id : NULL,
                                      j->want_customer ? j->email : NULL,
                                      j->want_customer ? j->phone : NULL, rec->source, rec->version};
    for (size_t c = 0; c < LOOKUP_ARRAYS; c++)
      vals[c * n + m] = row[c];
  }
  const char *params[LOOKUP_ARRAYS];
  int rc = array_params(bufs, params, vals, LOOKUP_ARRAYS, n);
  if (rc)
    return rc;
  r1[(*n1)++] = (fastepost__step){.stmt = "fastepost_sync_seen_many", .sql = fastepost__sync_sql_seen_many,
                                  .nparams = 2, .params = {params[0], params[1]}, .expected = PGRES_TUPLES_OK};
  r1[(*n1)++] = (fastepost__step){.stmt = "fastepost_sync_match_many",
                                  .sql = fastepost__sync_sql_match_many,
                                  .nparams = 6,
                                  .params = {params[2], params[3], params[4], params[5], params[6], params[7]},
                                  .expected = PGRES_TUPLES_OK};
  return FASTEPOST_OK;
}

/* The job at a 1-based position of a set-based statement's arrays, or NULL. */
static fastepost__job *job_at(fastepost__job *jobs, const size_t *idx, size_t n, const PGresult *r, int row,
                              int col) {
  long pos = atol(PQgetvalue(r, row, col));
  return pos >= 1 && (size_t)pos <= n ? &jobs[idx[pos - 1]] : NULL;
}

/* Hand each job its seen row and its candidates. */
static void lookup_bind(fastepost__job *jobs, const size_t *idx, size_t n, const PGresult *seen,
                        const PGresult *match) {
  for (int row = 0; row < PQntuples(seen); row++) {
    fastepost__job *j = job_at(jobs, idx, n, seen, row, 3);
    if (j) {
      j->seen_res = seen;
      j->seen_row = row;
    }
  }
  for (int row = 0; row < PQntuples(match); row++) {
    fastepost__job *j = job_at(jobs, idx, n, match, row, 11);
    if (j)
      fastepost__sync_read_candidate(j->cands, match, row, 0);
  }
}

/* Round two's set-based write of the jobs at idx[0..n), from their own statements' parameters. */
static int write_step(fastepost__step *r2, size_t *n2, fastepost__buf *bufs, const char **vals,
                      fastepost__job *jobs, const size_t *idx, size_t n, const char *now) {
  for (size_t m = 0; m < n; m++) {
    const fastepost__job *j = &jobs[idx[m]];
    const char *const *a = j->apply.params;
    bool applied = j->p.mode != NULL;
    /* apply: $1 ev .. $6 payload, $8 mode, $9 cid, $10-$14 columns, $15 active, $16 crm_source,
     * $17 crm_id, $18 crm_updated_at, $19 changed; finish: $8 status, $9 outcome, $10 cid,
     * $11 message (statements.c). */
    const char *row[FASTEPOST__SYNC_APPLY_MANY_ARRAYS] = {
        a[1], a[2], a[3], a[4], a[5], applied ? a[7] : NULL, applied ? a[8] : a[9],
        applied ? a[9] : NULL, applied ? a[10] : NULL, applied ? a[11] : NULL, applied ? a[12] : NULL,
        applied ? a[13] : NULL, applied ? a[14] : NULL, applied ? a[15] : NULL, applied ? a[16] : NULL,
        applied ? a[17] : NULL, applied ? a[18] : NULL, applied ? NULL : a[7], applied ? NULL : a[8],
        applied ? NULL : a[10]};
    for (size_t c = 0; c < FASTEPOST__SYNC_APPLY_MANY_ARRAYS; c++)
      vals[c * n + m] = row[c];
  }
  fastepost__step *s = &r2[(*n2)++];
  *s = (fastepost__step){.stmt = "fastepost_sync_apply_many", .sql = fastepost__sync_sql_apply_many,
                         .nparams = FASTEPOST__SYNC_APPLY_MANY_ARRAYS + 1, .expected = PGRES_TUPLES_OK};
  s->params[FASTEPOST__SYNC_APPLY_MANY_ARRAYS] = now;
  return array_params(bufs, s->params, vals, FASTEPOST__SYNC_APPLY_MANY_ARRAYS, n);
}

/* ---- a chunk ---------------------------------------------------------------------------------- */

/* Look up every event of the chunk in one round trip, apply them all in a second: the simple
 * ones through the set-based statements, the others through their own statements in the same
 * pipelines. A job that would update a customer another job of the chunk updates too (both
 * found it through different keys) is left out and marked in deferred[]: the caller runs it on
 * its own afterwards, when it sees the first one's write. On any failure the chunk is rolled
 * back to its savepoint and the caller replays it event by event. */
static int run_chunk(fastepost__job *jobs, size_t k, bool *deferred, fastepost_conn *conn,
                     const fastepost__strlist *locks, const char *now) {
  enum { NBUFS = LOOKUP_ARRAYS + FASTEPOST__SYNC_APPLY_MANY_ARRAYS };
  fastepost__buf all = FASTEPOST__BUF_INIT, bufs[NBUFS];
  for (size_t i = 0; i < NBUFS; i++)
    bufs[i] = (fastepost__buf)FASTEPOST__BUF_INIT;
  fastepost__buf_array_literal(&all, (const char *const *)locks->items, locks->count);
  fastepost__step *r1 = calloc(4 + 4 * k, sizeof *r1), *r2 = calloc(2 * k + 2, sizeof *r2);
  size_t *idx = calloc(k, sizeof *idx), *idx2 = calloc(k, sizeof *idx2);
  const char **vals = calloc(FASTEPOST__SYNC_APPLY_MANY_ARRAYS * k, sizeof *vals);
  keyset targets = {0};
  size_t n1 = 0, n2 = 0, nset = 0, nset2 = 0;
  int rc = !r1 || !r2 || !idx || !idx2 || !vals || all.oom ? fastepost__error_oom() : FASTEPOST_OK;
  if (rc)
    goto done;
  r1[n1++] = (fastepost__step){.sql = "SAVEPOINT fastepost_chunk", .expected = PGRES_COMMAND_OK};
  r1[n1++] = (fastepost__step){.stmt = "fastepost_sync_lock",
                               .sql = fastepost__sync_sql_lock,
                               .nparams = 1,
                               .params = {fastepost__buf_cstr(&all)},
                               .expected = PGRES_TUPLES_OK};
  for (size_t i = 0; i < k; i++) {
    jobs[i].seen_row = -1;
    if (set_lookup(&jobs[i]))
      idx[nset++] = i;
    else
      fastepost__job_round1(&jobs[i], r1, &n1, false);
  }
  size_t i_set = n1;
  if (nset && (rc = lookup_steps(r1, &n1, bufs, vals, jobs, idx, nset)))
    goto done;
  if ((rc = fastepost__sync_run_steps(conn, r1, n1, false)))
    goto done;
  if (nset)
    lookup_bind(jobs, idx, nset, r1[i_set].res, r1[i_set + 1].res);
  for (size_t i = 0; i < k && !rc; i++)
    rc = fastepost__job_decide(&jobs[i], r1, now);
  if (rc)
    goto done;
  for (size_t i = 0; i < k && !rc; i++) {
    fastepost__job *j = &jobs[i];
    if (j->duplicate || !j->p.mode || strcmp(j->p.mode, "update") != 0 || !j->p.target)
      continue;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)j->p.target->id);
    if (keyset_has(&targets, id))
      deferred[i] = true;
    else
      rc = keyset_take(&targets, fastepost__strdup(id));
  }
  if (rc)
    goto done;
  for (size_t i = 0; i < k; i++) {
    if (jobs[i].duplicate || deferred[i])
      continue;
    if (set_write(&jobs[i])) {
      idx2[nset2++] = i;
      continue;
    }
    r2[n2++] = jobs[i].apply;
    if (jobs[i].write_props)
      r2[n2++] = jobs[i].props_write;
  }
  size_t i_write = n2;
  if (nset2 && (rc = write_step(r2, &n2, bufs + LOOKUP_ARRAYS, vals, jobs, idx2, nset2, now)))
    goto done;
  r2[n2++] = (fastepost__step){.sql = "RELEASE SAVEPOINT fastepost_chunk", .expected = PGRES_COMMAND_OK};
  if ((rc = fastepost__sync_run_steps(conn, r2, n2, false)))
    goto done;
  for (size_t i = 0, s = 0; i < k; i++) {
    if (jobs[i].duplicate || deferred[i])
      continue;
    if (set_write(&jobs[i]))
      continue;
    jobs[i].apply.res = r2[s].res;
    r2[s++].res = NULL;
    s += jobs[i].write_props; /* its result is cleared with the others */
    fastepost__job_finish(&jobs[i]);
  }
  if (nset2) {
    const PGresult *w = r2[i_write].res;
    for (int row = 0; row < PQntuples(w); row++) {
      fastepost__job *j = job_at(jobs, idx2, nset2, w, row, 0);
      if (j)
        fastepost__job_finish_row(j, w, row);
    }
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
    fastepost__sync_steps_clear(r1, n1);
  if (r2)
    fastepost__sync_steps_clear(r2, n2);
  free(r1);
  free(r2);
  free(idx);
  free(idx2);
  free(vals);
  keyset_free(&targets);
  bufs_free(bufs, NBUFS);
  fastepost__buf_free(&all);
  return rc;
}

/* Process recs[m] on its own (its own savepoint): a record alone, failed by the adapter, of a
 * failed chunk, or deferred by one. */
static int process_one(fastepost_event_result *res, fastepost_conn *conn, fastepost__sync_record *rec,
                       const fastepost__sync_ctx *ctx) {
  if (!res)
    return FASTEPOST_OK;
  result_reset(res, NULL); /* fastepost__sync_process adds the adapter's warnings */
  return fastepost__sync_process(res, conn, rec, ctx) == FASTEPOST_ECONN ? FASTEPOST_ECONN : FASTEPOST_OK;
}

int fastepost__sync_process_many(fastepost_event_result **res, fastepost_conn *conn,
                                 fastepost__sync_record *recs, size_t n, const fastepost__sync_ctx *ctx) {
  char clock_buf[32];
  const char *now = fastepost__sync_now(clock_buf, sizeof clock_buf, ctx);
  size_t cap = n < CHUNK_MAX ? (n ? n : 1) : CHUNK_MAX;
  /* Not calloc: fastepost__job_init clears each job it uses (2.6 KB), and calloc cleared all of
   * them (2.6 MB for a page of 1,000 records) once more. */
  fastepost__job *jobs = malloc(cap * sizeof *jobs);
  bool *deferred = calloc(cap, sizeof *deferred);
  if (!jobs || !deferred) {
    free(jobs);
    free(deferred);
    return fastepost__error_oom();
  }
  /* One rule for every source (normalize.h), before the chunks are formed from the keys. */
  for (size_t m = 0; m < n; m++)
    if (!recs[m].failure && fastepost__sync_normalize(&recs[m]) != FASTEPOST_OK)
      recs[m].failure = FASTEPOST_ENOMEM;
  size_t i = 0;
  int rc = FASTEPOST_OK;
  while (i < n && rc != FASTEPOST_ECONN) {
    /* Gather consecutive events that share nothing; the first that does starts the next chunk,
     * so that the order of deliveries touching the same customer is kept. */
    keyset chunk = {0};
    fastepost__strlist locks = {0};
    size_t k = 0;
    while (i + k < n && k < cap && !recs[i + k].failure && res[i + k]) {
      fastepost__strlist mine = {0};
      fastepost__job *j = &jobs[k];
      bool ok = fastepost__job_init(j, &recs[i + k], res[i + k]) == FASTEPOST_OK &&
                chunk_keys(j, &mine) == FASTEPOST_OK;
      if (!ok || shares_key(&chunk, &mine)) {
        fastepost__strlist_free(&mine);
        fastepost__job_free(j);
        break;
      }
      /* the keys move into the chunk's set; a key that cannot be added ends the chunk here */
      for (size_t m = 0; m < mine.count && ok; m++) {
        ok = keyset_take(&chunk, mine.items[m]) == FASTEPOST_OK;
        mine.items[m] = NULL;
      }
      for (size_t m = 0; m < j->nkeys && ok; m++)
        ok = fastepost__strlist_add(&locks, j->keys[m]) == FASTEPOST_OK;
      for (size_t m = 0; m < j->more_keys.count && ok; m++)
        ok = fastepost__strlist_add(&locks, j->more_keys.items[m]) == FASTEPOST_OK;
      fastepost__strlist_free(&mine);
      if (!ok) {
        fastepost__job_free(j);
        break;
      }
      result_reset(res[i + k], &recs[i + k]);
      deferred[k] = false;
      k++;
    }
    int crc = k >= 2 ? run_chunk(jobs, k, deferred, conn, &locks, now) : FASTEPOST_ERROR;
    for (size_t m = 0; m < k; m++)
      fastepost__job_free(&jobs[m]);
    keyset_free(&chunk);
    fastepost__strlist_free(&locks);
    if (crc == FASTEPOST_ECONN) {
      rc = crc;
      break;
    }
    if (crc != FASTEPOST_OK) {
      /* One at a time: alone, failed by the adapter, or the chunk failed (then each event finds
       * out for itself, and the one that fails is logged as failed). */
      size_t count = k ? k : 1;
      for (size_t m = 0; m < count && rc != FASTEPOST_ECONN; m++)
        rc = process_one(res[i + m], conn, &recs[i + m], ctx);
      k = count;
    } else {
      for (size_t m = 0; m < k && rc != FASTEPOST_ECONN; m++)
        if (deferred[m])
          rc = process_one(res[i + m], conn, &recs[i + m], ctx);
    }
    i += k;
  }
  free(jobs);
  free(deferred);
  return rc;
}

int fastepost__sync_batch_begin(fastepost_conn *conn) {
  if (fastepost__sync_busy_connection(conn, "a batch"))
    return fastepost_error_last()->code;
  int rc = fastepost__conn_pg(conn) ? FASTEPOST_OK : fastepost_error_last()->code;
  char sql[600], settings[512];
  snprintf(sql, sizeof sql, "BEGIN; %s", fastepost__sync_settings_sql(conn, settings, sizeof settings));
  if (rc == FASTEPOST_OK)
    rc = fastepost__exec(conn, sql, "BEGIN");
  return rc;
}

int fastepost__sync_batch_commit(fastepost_conn *conn) { return fastepost__tx_commit(conn); }
