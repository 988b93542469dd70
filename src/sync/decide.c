/* SPDX-License-Identifier: MIT */
/*
 * What to do with a delivery, from round one's results: a duplicate; the target customer among
 * the candidates; the outcome (created / updated / unchanged / stale / ignored / conflict) and
 * the values to write. Last writer wins per record (crm_updated_at) or, for versioned
 * properties, per property; tombstones and merges (sync.h). Builds round two's statements.
 */
#include "sync_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/digest.h"

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

bool fastepost__sync_versioned(const fastepost__sync_record *rec) {
  return rec->prop_defs || rec->tombstone || rec->restore || rec->retired_crm_ids.count;
}

/* f: the facts to apply (the record's own, or those rebuilt from versioned properties);
 * stale: a reason the delivery is stale that the properties decided, or NULL. */
static void decide(fastepost__plan *p, const fastepost__sync_record *rec, const fastepost__customer_facts *f,
                   const char *stale, const fastepost__candidate *c) {
  const fastepost__fact *facts[5] = {&f->name, &f->email, &f->phone, &f->company, &f->address};
  memset(p, 0, sizeof *p);
  const fastepost__candidate *t = NULL;
  int via = 0;
  for (int rank = FASTEPOST__RANK_LINK; rank < FASTEPOST__RANK_COUNT && !t; rank++) {
    if (!c[rank].found || (rank == FASTEPOST__RANK_PHONE && !rec->match_phone) ||
        (rank == FASTEPOST__RANK_LINK && rec->owns_customer))
      continue;
    t = &c[rank];
    via = rank;
  }
  p->target = t;
  if (rec->props_only && stale) { /* nothing but older properties: say so, not "ignored" */
    p->outcome = FASTEPOST_OUTCOME_STALE;
    snprintf(p->message, sizeof p->message, "%s", stale);
    return;
  }
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
  if (t && rec->owns_customer && via == FASTEPOST__RANK_EMAIL && str_eq(t->crm_source, rec->source) &&
      same_model(t->crm_id, rec->model) && !str_eq(t->crm_id, rec->crm_id)) {
    p->outcome = FASTEPOST_OUTCOME_CONFLICT;
    snprintf(p->message, sizeof p->message,
             "conflict: email %s belongs to customer %lld, linked to %s; this delivery is %s",
             t->cols[1], (long long)t->id, t->crm_id, rec->crm_id);
    return;
  }
  if (t && rec->owns_customer && via == FASTEPOST__RANK_OWN && c[FASTEPOST__RANK_EMAIL].found &&
      c[FASTEPOST__RANK_EMAIL].id != t->id && rec->facts.email.state == FASTEPOST__FACT_VALUE) {
    p->outcome = FASTEPOST_OUTCOME_CONFLICT;
    snprintf(p->message, sizeof p->message,
             "conflict: %s (customer %lld) has email %s, which belongs to customer %lld%s%s", rec->crm_id,
             (long long)t->id, rec->facts.email.value, (long long)c[FASTEPOST__RANK_EMAIL].id,
             c[FASTEPOST__RANK_EMAIL].crm_id ? ", linked to " : "",
             c[FASTEPOST__RANK_EMAIL].crm_id ? c[FASTEPOST__RANK_EMAIL].crm_id : "");
    return;
  }
  bool own_link = t && str_eq(t->crm_source, rec->source) && str_eq(t->crm_id, rec->crm_id);
  if (t && own_link && rec->version && t->newer && !fastepost__sync_versioned(rec)) {
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
    p->crm_updated_at = fastepost__sync_versioned(rec) && t->newer ? NULL : rec->version;
    if (!own_link)
      p->changed = true;
  } else {
    p->crm_source = t->crm_source;
    p->crm_id = t->crm_id;
  }
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

/* Versioned properties (sync.h): from the stored ones, decide which delivered properties apply,
 * rebuild the columns they feed into j->facts, and list what round two stores. */
static int job_props(fastepost__job *j, const PGresult *r) {
  const fastepost__sync_record *rec = j->rec;
  const char *stored[FASTEPOST__MAX_PROPS] = {0};
  bool newer[FASTEPOST__MAX_PROPS] = {0}, applied[FASTEPOST__MAX_PROPS] = {0};
  size_t nprops = rec->nprops < FASTEPOST__MAX_PROPS ? rec->nprops : FASTEPOST__MAX_PROPS;
  /* The delivered state of each property: the record's, or the referenced one's (sync.h). */
  fastepost__fact_state state[FASTEPOST__MAX_PROPS];
  const char *value[FASTEPOST__MAX_PROPS];
  for (size_t i = 0; i < nprops; i++) {
    state[i] = rec->props[i].state;
    value[i] = rec->props[i].state == FASTEPOST__FACT_VALUE ? rec->props[i].value : NULL;
  }
  bool ref_wanted = rec->ref_crm_id && rec->ref_prop < nprops && state[rec->ref_prop] == FASTEPOST__FACT_ABSENT;
  bool ref_found = false;
  for (int row = 0; row < PQntuples(r); row++) {
    const char *name = PQgetvalue(r, row, 0);
    if (PQgetvalue(r, row, 4)[0] == 't') { /* the referenced record's property */
      if (ref_wanted) {
        ref_found = true;
        value[rec->ref_prop] = fastepost__sync_get(r, row, 1);
        state[rec->ref_prop] = value[rec->ref_prop] ? FASTEPOST__FACT_VALUE : FASTEPOST__FACT_EMPTY;
      }
      continue;
    }
    if (strcmp(name, "_deleted") == 0) {
      if (PQgetvalue(r, row, 3)[0] == 't' && !rec->tombstone)
        snprintf(j->stale, sizeof j->stale, "stale: %s was deleted at or after %s", rec->crm_id,
                 rec->version ? rec->version : "this change");
      continue;
    }
    for (size_t i = 0; i < nprops; i++)
      if (strcmp(rec->prop_defs[i].name, name) == 0) {
        stored[i] = fastepost__sync_get(r, row, 1);
        newer[i] = PQgetvalue(r, row, 2)[0] == 't';
      }
  }
  if (ref_wanted && !ref_found)
    fastepost__strlist_addf(&j->res->warnings, "%s: no %s of %s is stored yet: left as it is",
                            rec->prop_defs[rec->ref_prop].name, rec->ref_property ? rec->ref_property : "value",
                            rec->ref_crm_id);
  size_t delivered = 0, napplied = 0;
  const char *names[FASTEPOST__MAX_PROPS], *values[FASTEPOST__MAX_PROPS];
  for (size_t i = 0; i < nprops; i++) {
    if (state[i] == FASTEPOST__FACT_ABSENT)
      continue;
    delivered++;
    if (newer[i]) {
      fastepost__strlist_addf(&j->res->warnings,
                              "%s: a newer value is stored; this older one was not applied",
                              rec->prop_defs[i].name);
      continue;
    }
    applied[i] = true;
    names[napplied] = rec->prop_defs[i].name;
    values[napplied++] = value[i];
  }
  if (!*j->stale && delivered && !napplied && !rec->tombstone && !rec->retired_crm_ids.count)
    snprintf(j->stale, sizeof j->stale,
             "stale: every property of %s in this delivery has a newer stored value", rec->crm_id);
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
      const char *v = applied[i] ? value[i] : stored[i];
      if (!v || !*v || (any && !sep[c]))
        continue;
      fastepost__buf_puts(b, any ? sep[c] : "");
      fastepost__buf_puts(b, v);
      any = true;
    }
    cols[c]->state = any ? FASTEPOST__FACT_VALUE : FASTEPOST__FACT_EMPTY;
    cols[c]->value = any ? (char *)(uintptr_t)fastepost__buf_cstr(b) : NULL;
  }
  fastepost__buf_array_literal(&j->prop_names, names, napplied);
  fastepost__buf_array_literal(&j->prop_values, values, napplied);
  fastepost__buf_array_literal(&j->retired, (const char *const *)rec->retired_crm_ids.items,
                                rec->retired_crm_ids.count);
  bool oom = j->prop_names.oom || j->prop_values.oom || j->retired.oom;
  for (int c = 0; c < FASTEPOST__NCOLS; c++)
    oom |= j->comp[c].oom;
  return oom ? fastepost__error_oom() : FASTEPOST_OK;
}

/* From round one's results: a duplicate, or the round-two statement in j->apply. */
int fastepost__job_decide(fastepost__job *j, const fastepost__step *r1, const char *now) {
  const fastepost__sync_record *rec = j->rec;
  fastepost_event_result *res = j->res;
  /* A delivery already processed (or a retry of an event that no longer failed) is a duplicate;
   * one that failed before is processed again on its own row. */
  int64_t ev_id = rec->event_id;
  /* The seen row: from the job's own lookup, or (set-based batches) bound by the caller. */
  const PGresult *sr = j->seen_res;
  int row = sr ? j->seen_row : -1;
  if (j->i_seen >= 0) {
    sr = r1[j->i_seen].res;
    row = PQntuples(sr) == 1 ? 0 : -1;
  }
  if (sr && row >= 0) {
    const char *status = PQgetvalue(sr, row, 1);
    int64_t seen = atoll(PQgetvalue(sr, row, 0));
    bool failed = strcmp(status, "error") == 0 || (rec->event_id == 0 && strcmp(status, "dead") == 0);
    if (!failed) {
      j->duplicate = true;
      res->outcome = FASTEPOST_OUTCOME_DUPLICATE;
      res->event_id = seen;
      res->customer_id = PQgetisnull(sr, row, 2) ? 0 : atoll(PQgetvalue(sr, row, 2));
      return FASTEPOST_OK;
    }
    ev_id = seen;
  } else if (rec->event_id > 0) {
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "event %lld no longer exists", (long long)rec->event_id);
  }
  snprintf(j->ev, sizeof j->ev, "%lld", (long long)ev_id);

  if (j->i_match >= 0)
    fastepost__sync_read_candidates(j->cands, r1[j->i_match].res);
  int rc;
  if (j->i_props >= 0 && (rc = job_props(j, r1[j->i_props].res)))
    return rc;
  fastepost__plan *p = &j->p;
  decide(p, rec, &j->facts, *j->stale ? j->stale : NULL, j->cands);

  /* The task: its customer is set when empty, left alone (with a warning) when it is another. */
  if (j->i_task >= 0 && PQntuples(r1[j->i_task].res) == 1) {
    const PGresult *t = r1[j->i_task].res;
    j->tid = atoll(PQgetvalue(t, 0, 0));
    int64_t owner = PQgetisnull(t, 0, 1) ? 0 : atoll(PQgetvalue(t, 0, 1));
    if (!owner)
      j->link_task = true;
    else if (p->mode && owner != (p->target ? p->target->id : 0))
      fastepost__strlist_addf(&res->warnings,
                              "task %lld belongs to customer %lld: its customer was left alone",
                              (long long)j->tid, (long long)owner);
  }
  if (rec->note_body && p->mode && (rc = remark_key(&j->rkey, rec)))
    return rc;
  snprintf(j->cid, sizeof j->cid, "%lld", (long long)(p->target ? p->target->id : 0));
  snprintf(j->tid_s, sizeof j->tid_s, "%lld", (long long)j->tid);
  if (p->mode) {
    j->apply = (fastepost__step){.stmt = "fastepost_sync_apply", .call = true,
                                 .sql = fastepost__sync_call_apply,
                                 .nparams = 23,
                                 .params = {j->ev,
                                            rec->source,
                                            rec->event_type,
                                            rec->external_id,
                                            rec->idempotency_key,
                                            rec->payload,
                                            now,
                                            p->mode,
                                            j->cid,
                                            p->cols[0],
                                            p->cols[1],
                                            p->cols[2],
                                            p->cols[3],
                                            p->cols[4],
                                            p->active,
                                            p->crm_source,
                                            p->crm_id,
                                            p->crm_updated_at,
                                            p->changed ? "true" : "false",
                                            j->tid ? j->tid_s : NULL,
                                            j->link_task ? "true" : "false",
                                            rec->note_body,
                                            rec->note_body ? fastepost__buf_cstr(&j->rkey) : NULL},
                                 .expected = PGRES_TUPLES_OK};
  } else {
    bool conflict = p->outcome == FASTEPOST_OUTCOME_CONFLICT;
    j->apply = (fastepost__step){
        .stmt = "fastepost_sync_finish", .call = true,
        .sql = fastepost__sync_call_finish,
        .nparams = 11,
        .params = {j->ev, rec->source, rec->event_type, rec->external_id, rec->idempotency_key, rec->payload,
                   now, conflict ? "error" : "success", fastepost_outcome_name(p->outcome),
                   p->target && !conflict ? j->cid : NULL,
                   p->outcome == FASTEPOST_OUTCOME_STALE ? NULL : p->message},
        .expected = PGRES_TUPLES_OK};
  }
  /* Properties and tombstones are stored whenever the delivery was applied, and also when it
   * found no customer to apply to (a deletion arriving before anything else). */
  j->write_props = j->i_props >= 0 && (p->mode || (p->outcome == FASTEPOST_OUTCOME_IGNORED &&
                                                   (!rec->ignore_reason || rec->props_only)));
  if (j->write_props)
    j->props_write = (fastepost__step){
        .stmt = "fastepost_sync_props_write", .call = true,
        .sql = fastepost__sync_call_props_write,
        .nparams = 9,
        .params = {rec->source, rec->crm_id, rec->version, fastepost__buf_cstr(&j->prop_names),
                   fastepost__buf_cstr(&j->prop_values), fastepost__buf_cstr(&j->retired), now,
                   rec->tombstone ? "true" : "false", rec->restore ? "true" : "false"},
        .expected = PGRES_TUPLES_OK};
  return FASTEPOST_OK;
}

