/* SPDX-License-Identifier: MIT */
/*
 * Finding the customer: the keys a delivery locks (idempotency key, crm ids, email, phone), the
 * lookups of round one (the event already logged, the match candidates, the stored versioned
 * properties, the task) and the candidates read back. The candidates are ranked: 1 the linked
 * record's customer, 2 the record's own customer, 3 by email, 4 by phone (see decide.c for which
 * one is taken).
 */
#include "sync_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fastepost__sync_read_candidate(fastepost__candidate *c, const PGresult *r, int row, int col) {
  int rank = atoi(PQgetvalue(r, row, col));
  if (rank <= 0 || rank >= FASTEPOST__RANK_COUNT || c[rank].found)
    return;
  fastepost__candidate *k = &c[rank];
  k->found = true;
  k->id = atoll(PQgetvalue(r, row, col + 1));
  k->crm_source = fastepost__sync_get(r, row, col + 2);
  k->crm_id = fastepost__sync_get(r, row, col + 3);
  for (int i = 0; i < 5; i++)
    k->cols[i] = fastepost__sync_get(r, row, col + 4 + i);
  k->active = PQgetvalue(r, row, col + 9)[0] == 't';
  k->newer = PQgetvalue(r, row, col + 10)[0] == 't';
}

void fastepost__sync_read_candidates(fastepost__candidate *c, const PGresult *r) {
  for (int i = 0; r && i < PQntuples(r); i++)
    fastepost__sync_read_candidate(c, r, i, 0);
}

static void job_key(fastepost__job *j, const char *kind, const char *scope, const char *value) {
  if (!value || j->nkeys >= FASTEPOST__SYNC_MAX_KEYS)
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

int fastepost__job_init(fastepost__job *j, const fastepost__sync_record *rec, fastepost_event_result *res) {
  memset(j, 0, sizeof *j);
  j->rec = rec;
  j->res = res;
  j->i_seen = j->i_match = j->i_task = j->i_props = -1;
  j->facts = rec->facts; /* borrowed; never freed through the job */
  const char *phone = delivered(rec, FASTEPOST__COL_PHONE);
  j->email = delivered(rec, FASTEPOST__COL_EMAIL);
  j->phone = rec->match_phone ? phone : NULL;
  j->want_customer = !rec->ignore_reason && !rec->props_only;
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
  /* a referenced record: its event in the same batch goes first (a chunk of its own) */
  if (rec->ref_crm_id)
    fastepost__strlist_addf(&j->more_keys, "crm:%s:%s", rec->source, rec->ref_crm_id);
  {
    const char **all = malloc((j->nkeys + j->more_keys.count + 1) * sizeof *all);
    if (!all)
      return fastepost__error_oom();
    for (size_t i = 0; i < j->nkeys; i++)
      all[i] = j->keys[i];
    for (size_t i = 0; i < j->more_keys.count; i++)
      all[j->nkeys + i] = j->more_keys.items[i];
    fastepost__buf_array_literal(&j->key_array, all, j->nkeys + j->more_keys.count);
    free(all);
  }
  fastepost__buf_array_literal(&j->barcodes, (const char *const *)rec->barcodes.items, rec->barcodes.count);
  snprintf(j->event_id, sizeof j->event_id, "%lld", (long long)rec->event_id);
  snprintf(j->task_id, sizeof j->task_id, "%lld", (long long)rec->task_id);
  bool oom = j->key_array.oom || j->barcodes.oom;
  for (size_t i = 0; i < j->nkeys; i++)
    oom |= j->keybufs[i].oom;
  return oom ? fastepost__error_oom() : FASTEPOST_OK;
}

void fastepost__job_free(fastepost__job *j) {
  for (size_t i = 0; i < FASTEPOST__SYNC_MAX_KEYS; i++)
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

/* Append the job's lookups (seen, match, task) to round one, after its lock when lock_seen. */
void fastepost__job_round1(fastepost__job *j, fastepost__step *r1, size_t *n, bool lock_seen) {
  const fastepost__sync_record *rec = j->rec;
  if (lock_seen && j->nkeys && rec->event_id == 0 && rec->idempotency_key) {
    /* the usual case, a new delivery: one call instead of two statements planned each time */
    j->i_seen = (int)*n;
    r1[(*n)++] = (fastepost__step){.stmt = "fastepost_sync_lock_seen", .call = true,
                                   .sql = fastepost__sync_call_lock_seen,
                                   .nparams = 3,
                                   .params = {fastepost__buf_cstr(&j->key_array), rec->source, rec->idempotency_key},
                                   .expected = PGRES_TUPLES_OK};
  } else if (lock_seen && j->nkeys) {
    r1[(*n)++] = (fastepost__step){.stmt = "fastepost_sync_lock",
                                   .sql = fastepost__sync_sql_lock,
                                   .nparams = 1,
                                   .params = {fastepost__buf_cstr(&j->key_array)},
                                   .expected = PGRES_TUPLES_OK};
  }
  if (j->i_seen < 0 && (rec->event_id > 0 || rec->idempotency_key)) {
    j->i_seen = (int)*n;
    r1[(*n)++] = rec->event_id > 0 ? (fastepost__step){.stmt = "fastepost_sync_seen_id",
                                                       .sql = fastepost__sync_sql_seen_id,
                                                       .nparams = 1,
                                                       .params = {j->event_id},
                                                       .expected = PGRES_TUPLES_OK}
                                   : (fastepost__step){.stmt = "fastepost_sync_seen_key",
                                                       .sql = fastepost__sync_sql_seen_key,
                                                       .nparams = 2,
                                                       .params = {rec->source, rec->idempotency_key},
                                                       .expected = PGRES_TUPLES_OK};
  }
  if (j->want_customer) {
    j->i_match = (int)*n;
    r1[(*n)++] = (fastepost__step){
        .stmt = "fastepost_sync_match", .call = true,
        .sql = fastepost__sync_call_match,
        .nparams = 6,
        .params = {rec->link_crm_id, rec->crm_id, j->email, j->phone, rec->source, rec->version},
        .expected = PGRES_TUPLES_OK};
  }
  if (fastepost__sync_versioned(rec) && rec->crm_id) {
    j->i_props = (int)*n;
    r1[(*n)++] = (fastepost__step){.stmt = "fastepost_sync_props",
                                   .sql = fastepost__sync_sql_props,
                                   .nparams = 5,
                                   .params = {rec->source, rec->crm_id, rec->version, rec->ref_crm_id,
                                              rec->ref_crm_id ? rec->ref_property : NULL},
                                   .expected = PGRES_TUPLES_OK};
  }
  if (j->want_task) {
    j->i_task = (int)*n;
    r1[(*n)++] =
        (fastepost__step){.stmt = "fastepost_sync_task",
                          .sql = fastepost__sync_sql_task,
                          .nparams = 2,
                          .params = {rec->task_id > 0 ? j->task_id : NULL, fastepost__buf_cstr(&j->barcodes)},
                          .expected = PGRES_TUPLES_OK};
  }
}

