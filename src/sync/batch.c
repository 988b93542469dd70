/* SPDX-License-Identifier: MIT */
/* Many events in one transaction: chunks of independent events, two round trips per chunk. */
#include "sync_priv.h"

#include <stdlib.h>
#include <string.h>

#include "normalize.h"

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

static bool shares_key(const fastepost__strlist *chunk, const fastepost__strlist *mine) {
  for (size_t i = 0; i < mine->count; i++)
    for (size_t k = 0; k < chunk->count; k++)
      if (strcmp(mine->items[i], chunk->items[k]) == 0)
        return true;
  return false;
}

/* Look up every event of the chunk in one round trip, apply them all in a second. On any
 * failure the chunk is rolled back to its savepoint and the caller replays it event by event. */
static int run_chunk(fastepost__job *jobs, size_t k, fastepost_conn *conn, const fastepost__strlist *locks,
                     const char *now) {
  fastepost__buf all = FASTEPOST__BUF_INIT;
  fastepost__buf_array_literal(&all, (const char *const *)locks->items, locks->count);
  fastepost__step *r1 = calloc(2 + 4 * k, sizeof *r1), *r2 = calloc(2 * k + 1, sizeof *r2);
  size_t n1 = 0, n2 = 0;
  int rc = !r1 || !r2 || all.oom ? fastepost__error_oom() : FASTEPOST_OK;
  if (rc)
    goto done;
  r1[n1++] = (fastepost__step){.sql = "SAVEPOINT fastepost_chunk", .expected = PGRES_COMMAND_OK};
  r1[n1++] = (fastepost__step){.stmt = "fastepost_sync_lock",
                               .sql = fastepost__sync_sql_lock,
                               .nparams = 1,
                               .params = {fastepost__buf_cstr(&all)},
                               .expected = PGRES_TUPLES_OK};
  for (size_t i = 0; i < k; i++)
    fastepost__job_round1(&jobs[i], r1, &n1);
  if ((rc = fastepost__sync_run_steps(conn, r1, n1)))
    goto done;
  for (size_t i = 0; i < k && !rc; i++)
    rc = fastepost__job_decide(&jobs[i], r1, now);
  if (rc)
    goto done;
  for (size_t i = 0; i < k; i++) {
    if (jobs[i].duplicate)
      continue;
    r2[n2++] = jobs[i].apply;
    if (jobs[i].write_props)
      r2[n2++] = jobs[i].props_write;
  }
  r2[n2++] = (fastepost__step){.sql = "RELEASE SAVEPOINT fastepost_chunk", .expected = PGRES_COMMAND_OK};
  if ((rc = fastepost__sync_run_steps(conn, r2, n2)))
    goto done;
  for (size_t i = 0, s = 0; i < k; i++) {
    if (jobs[i].duplicate)
      continue;
    jobs[i].apply.res = r2[s].res;
    r2[s++].res = NULL;
    s += jobs[i].write_props; /* its result is cleared with the others */
    fastepost__job_finish(&jobs[i]);
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
  fastepost__buf_free(&all);
  return rc;
}

int fastepost__sync_process_many(fastepost_event_result **res, fastepost_conn *conn,
                                 fastepost__sync_record *recs, size_t n, const fastepost__sync_ctx *ctx) {
  char clock_buf[32];
  const char *now = fastepost__sync_now(clock_buf, sizeof clock_buf, ctx);
  fastepost__job *jobs = calloc(CHUNK_MAX, sizeof *jobs);
  if (!jobs)
    return fastepost__error_oom();
  /* One rule for every source (normalize.h), before the chunks are formed from the keys. */
  for (size_t m = 0; m < n; m++)
    if (!recs[m].failure && fastepost__sync_normalize(&recs[m]) != FASTEPOST_OK)
      recs[m].failure = FASTEPOST_ENOMEM;
  size_t i = 0;
  int rc = FASTEPOST_OK;
  while (i < n && rc != FASTEPOST_ECONN) {
    /* Gather consecutive events that share nothing; the first that does starts the next chunk,
     * so that the order of deliveries touching the same customer is kept. */
    fastepost__strlist chunk = {0}, locks = {0};
    size_t k = 0;
    while (i + k < n && k < CHUNK_MAX && !recs[i + k].failure && res[i + k]) {
      fastepost__strlist mine = {0};
      fastepost__job *j = &jobs[k];
      bool ok = fastepost__job_init(j, &recs[i + k], res[i + k]) == FASTEPOST_OK &&
                chunk_keys(j, &mine) == FASTEPOST_OK;
      if (!ok || shares_key(&chunk, &mine)) {
        fastepost__strlist_free(&mine);
        fastepost__job_free(j);
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
      fastepost__job_free(&jobs[m]);
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
