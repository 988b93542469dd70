/* SPDX-License-Identifier: MIT */
/*
 * The Odoo reconciliation pull (fastepost/odoo_sync.h): options, the report, and the pull
 * itself. Records are read through the Odoo client (src/odoo_client/), turned into sync records
 * by the Odoo adapter's own extraction and mapping (src/adapters/odoo_extract.c, as if a webhook
 * had delivered them) and applied by the batch runner, one transaction per page.
 *
 * Fetching and applying overlap: while page k is applied (the database's time), a thread fetches
 * page k+1 and makes its sync records (Odoo's and the client's time). At most one page ahead, and
 * a page's cursor is still stored only after that page committed.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/odoo.h"
#include "fastepost/odoo_sync.h"
#include "internal.h"
#include "odoo_client/odoo_client.h"
#include "odoo_sync_priv.h"
#include "util/json.h"
#include "util/strv.h"
#include "util/time.h"

static const char SOURCE[] = "odoo";

struct fastepost_odoo_pull_report {
  uint64_t fetched, failed, deleted, pages;
  uint64_t outcomes[FASTEPOST_OUTCOME_SPOOLED + 1];
  fastepost__strlist models;
  int64_t *cursors;
};

/* ---- protocol names -------------------------------------------------------------------------- */

static const char *const PROTOCOLS[] = {"auto", "json2", "jsonrpc"};

FASTEPOST__ENUM_NAMES(fastepost_odoo_sync_protocol, PROTOCOLS, "Odoo protocol", "auto, json2 or jsonrpc")

/* ---- options --------------------------------------------------------------------------------- */

#define NEED(o, fn)                                                                                \
  do {                                                                                             \
    if (!(o))                                                                                      \
      return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_sync_options_" fn ": opts is NULL"); \
  } while (0)

/* Replace *slot with a copy of s; NULL or "" clears it. */
static int set_text(char **slot, const char *s) { return fastepost__str_set(slot, s && *s ? s : NULL); }

static bool model_synced(const char *m) { return !strcmp(m, "res.partner") || !strcmp(m, "crm.lead"); }

static int parse_models(fastepost__strlist *out, const char *models) {
  fastepost__strlist list = {0};
  const char *p = models;
  int rc = FASTEPOST_OK;
  while (!rc && *p) {
    p += strspn(p, ", ");
    size_t n = strcspn(p, ", ");
    if (!n)
      break;
    char *m = fastepost__strndup(p, n);
    if (!m) {
      rc = FASTEPOST_ENOMEM;
    } else if (!model_synced(m)) {
      char shown[64];
      fastepost__preview(shown, sizeof shown, m, n);
      rc = fastepost__error_set(FASTEPOST_EINVALID, "model \"%s\" cannot be pulled: res.partner or crm.lead",
                                shown);
    } else {
      bool seen = false;
      for (size_t i = 0; i < list.count; i++)
        seen |= !strcmp(list.items[i], m);
      if (!seen)
        rc = fastepost__strlist_add(&list, m);
    }
    free(m);
    p += n;
  }
  if (!rc && !list.count)
    rc = fastepost__error_set(FASTEPOST_EINVALID, "the list of Odoo models is empty");
  if (rc) {
    fastepost__strlist_free(&list);
    return rc;
  }
  fastepost__strlist_free(out);
  *out = list;
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_sync_options_new(fastepost_odoo_sync_options **out) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_sync_options_new: out is NULL");
  *out = NULL;
  fastepost_odoo_sync_options *o = calloc(1, sizeof *o);
  if (!o)
    return fastepost__error_oom();
  o->overlap_us = FASTEPOST_ODOO_SYNC_DEFAULT_OVERLAP_US;
  o->page_size = FASTEPOST_ODOO_SYNC_DEFAULT_PAGE_SIZE;
  o->connect_us = FASTEPOST_ODOO_SYNC_DEFAULT_CONNECT_TIMEOUT_US;
  o->total_us = FASTEPOST_ODOO_SYNC_DEFAULT_TIMEOUT_US;
  o->push_limit = FASTEPOST_ODOO_SYNC_DEFAULT_PUSH_LIMIT;
  int rc = parse_models(&o->models, FASTEPOST_ODOO_SYNC_DEFAULT_MODELS);
  if (rc) {
    free(o);
    return rc;
  }
  *out = o;
  return FASTEPOST_OK;
}

void fastepost_odoo_sync_options_free(fastepost_odoo_sync_options *o) {
  if (!o)
    return;
  fastepost__odoo_secret_free(o->key);
  free(o->url);
  free(o->database);
  free(o->user);
  free(o->ca_file);
  fastepost__strlist_free(&o->models);
  free(o);
}

fastepost_status fastepost_odoo_sync_options_set_url(fastepost_odoo_sync_options *o, const char *url) {
  NEED(o, "set_url");
  if (!url || !*url)
    return fastepost__error_set(FASTEPOST_EINVALID, "the Odoo URL is empty");
  bool https = !fastepost__ascii_ncasecmp(url, "https://", 8), http = !fastepost__ascii_ncasecmp(url, "http://", 7);
  const char *host = url + (https ? 8 : 7);
  size_t hlen = strcspn(host, "/?#");
  if ((!https && !http) || memchr(host, '@', hlen))
    return fastepost__error_set(FASTEPOST_EINVALID, "the Odoo URL must be https://host[/path] without a user "
                                                    "name or password");
  /* Plain http only to loopback is checked again by the HTTP client at every request. */
  return set_text(&o->url, url);
}

fastepost_status fastepost_odoo_sync_options_set_database(fastepost_odoo_sync_options *o, const char *db) {
  NEED(o, "set_database");
  return set_text(&o->database, db);
}

fastepost_status fastepost_odoo_sync_options_set_user(fastepost_odoo_sync_options *o, const char *login) {
  NEED(o, "set_user");
  return set_text(&o->user, login);
}

fastepost_status fastepost_odoo_sync_options_set_api_key(fastepost_odoo_sync_options *o, const char *key) {
  NEED(o, "set_api_key");
  if (!key || !*key)
    return fastepost__error_set(FASTEPOST_EINVALID, "an Odoo API key must not be NULL or empty");
  char *copy = fastepost__strdup(key);
  if (!copy)
    return FASTEPOST_ENOMEM;
  fastepost__odoo_secret_free(o->key);
  o->key = copy;
  return FASTEPOST_OK;
}

FASTEPOST__OPTIONS_ENUM_SETTER(odoo_sync, protocol, fastepost_odoo_sync_protocol, protocol,
                               FASTEPOST_ODOO_SYNC_PROTOCOL_AUTO, FASTEPOST_ODOO_SYNC_PROTOCOL_JSONRPC,
                               "Odoo protocol")

fastepost_status fastepost_odoo_sync_options_set_models(fastepost_odoo_sync_options *o, const char *models) {
  NEED(o, "set_models");
  if (!models)
    return fastepost__error_set(FASTEPOST_EINVALID, "the list of Odoo models is NULL");
  return parse_models(&o->models, models);
}

fastepost_status fastepost_odoo_sync_options_set_since(fastepost_odoo_sync_options *o, int64_t since_us) {
  NEED(o, "set_since");
  if (since_us < 0 || since_us > FASTEPOST__TIME_LIMIT_US)
    return fastepost__error_set(FASTEPOST_EINVALID, "the pull's start time must lie in 1970..9999");
  o->since_us = since_us;
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_sync_options_set_full(fastepost_odoo_sync_options *o, int yes) {
  NEED(o, "set_full");
  o->full = yes != 0;
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_sync_options_set_overlap(fastepost_odoo_sync_options *o, int64_t overlap_us) {
  NEED(o, "set_overlap");
  if (overlap_us < 0 || overlap_us > 86400 * FASTEPOST__US_PER_SEC)
    return fastepost__error_set(FASTEPOST_EINVALID, "the overlap must be 0 (default) to one day");
  o->overlap_us = overlap_us ? overlap_us : FASTEPOST_ODOO_SYNC_DEFAULT_OVERLAP_US;
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_sync_options_set_page_size(fastepost_odoo_sync_options *o, size_t n) {
  NEED(o, "set_page_size");
  if (n > FASTEPOST_ODOO_SYNC_MAX_PAGE_SIZE)
    return fastepost__error_set(FASTEPOST_EINVALID, "the page size must be 0 (default) to %d, not %zu",
                                FASTEPOST_ODOO_SYNC_MAX_PAGE_SIZE, n);
  o->page_size = n ? n : FASTEPOST_ODOO_SYNC_DEFAULT_PAGE_SIZE;
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_sync_options_set_detect_deletions(fastepost_odoo_sync_options *o, int yes) {
  NEED(o, "set_detect_deletions");
  o->detect_deletions = yes != 0;
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_sync_options_set_ca_file(fastepost_odoo_sync_options *o, const char *path) {
  NEED(o, "set_ca_file");
  return set_text(&o->ca_file, path);
}

fastepost_status fastepost_odoo_sync_options_set_timeouts(fastepost_odoo_sync_options *o, int64_t connect_us,
                                                          int64_t total_us) {
  NEED(o, "set_timeouts");
  if (connect_us < 0 || connect_us > 600 * FASTEPOST__US_PER_SEC || total_us < 0 ||
      total_us > 3600 * FASTEPOST__US_PER_SEC)
    return fastepost__error_set(FASTEPOST_EINVALID, "timeouts: connect 0..10 min, total 0..1 h (0: default)");
  o->connect_us = connect_us ? connect_us : FASTEPOST_ODOO_SYNC_DEFAULT_CONNECT_TIMEOUT_US;
  o->total_us = total_us ? total_us : FASTEPOST_ODOO_SYNC_DEFAULT_TIMEOUT_US;
  return FASTEPOST_OK;
}

FASTEPOST__OPTIONS_CLOCK_SETTER(odoo_sync)

fastepost_status fastepost_odoo_sync_options_set_progress(fastepost_odoo_sync_options *o, fastepost_progress_cb cb,
                                                          void *payload) {
  NEED(o, "set_progress");
  o->progress = cb;
  o->progress_payload = payload;
  return FASTEPOST_OK;
}

/* ---- what the pull and the push start with -------------------------------------------------- */

int fastepost__odoo_sync_check(fastepost_conn *conn, const fastepost_odoo_sync_options *o, const char *fn) {
  if (!conn || !o)
    return fastepost__error_set(FASTEPOST_EINVALID, "%s: conn and opts are required", fn);
  if (!o->url)
    return fastepost__error_set(FASTEPOST_EINVALID, "%s: no Odoo URL (set_url)", fn);
  if (!o->key)
    return fastepost__error_set(FASTEPOST_ENOKEY, "%s: no Odoo API key (set_api_key)", fn);
  return FASTEPOST_OK;
}

int fastepost__odoo_sync_client_new(fastepost__odoo_client **out, const fastepost_odoo_sync_options *o) {
  fastepost__http_options http = {.ca_file = o->ca_file, .connect_timeout_us = o->connect_us,
                                  .timeout_us = o->total_us};
  return fastepost__odoo_client_new(out, o->url, o->database, o->user, o->key, (fastepost__odoo_proto)o->protocol,
                                    &http);
}

/* ---- the report ------------------------------------------------------------------------------ */

void fastepost_odoo_pull_report_free(fastepost_odoo_pull_report *r) {
  if (!r)
    return;
  fastepost__strlist_free(&r->models);
  free(r->cursors);
  free(r);
}
uint64_t fastepost_odoo_pull_report_fetched(const fastepost_odoo_pull_report *r) { return r ? r->fetched : 0; }
uint64_t fastepost_odoo_pull_report_outcome_count(const fastepost_odoo_pull_report *r, fastepost_outcome outcome) {
  return r && (unsigned)outcome <= FASTEPOST_OUTCOME_SPOOLED ? r->outcomes[outcome] : 0;
}
uint64_t fastepost_odoo_pull_report_failed(const fastepost_odoo_pull_report *r) { return r ? r->failed : 0; }
uint64_t fastepost_odoo_pull_report_deleted(const fastepost_odoo_pull_report *r) { return r ? r->deleted : 0; }
uint64_t fastepost_odoo_pull_report_pages(const fastepost_odoo_pull_report *r) { return r ? r->pages : 0; }
size_t fastepost_odoo_pull_report_model_count(const fastepost_odoo_pull_report *r) { return r ? r->models.count : 0; }
const char *fastepost_odoo_pull_report_model(const fastepost_odoo_pull_report *r, size_t i) {
  return r && i < r->models.count ? r->models.items[i] : "";
}
int64_t fastepost_odoo_pull_report_cursor_us(const fastepost_odoo_pull_report *r, size_t i) {
  return r && i < r->models.count ? r->cursors[i] : 0;
}

/* ---- the cursor table ------------------------------------------------------------------------ */

static int cursor_load(int64_t *us, fastepost_conn *conn, const char *model) {
  *us = 0;
  PGresult *res = NULL;
  const char *params[] = {SOURCE, model};
  int rc = fastepost__query(&res, conn,
                            "SELECT to_char(cursor_at, 'YYYY-MM-DD HH24:MI:SS.US') FROM fastepost_sync_cursors "
                            "WHERE source = $1 AND model = $2",
                            2, params, PGRES_TUPLES_OK, "reading the pull cursor");
  if (!rc && PQntuples(res) == 1 && !fastepost__time_parse_iso(us, PQgetvalue(res, 0, 0)))
    rc = fastepost__error_set(FASTEPOST_EDB, "the pull cursor of %s is not a timestamp", model);
  PQclear(res);
  return rc;
}

/* Only forward: a pull started from an older --since does not move the cursor back. */
static int cursor_store(fastepost_conn *conn, const char *model, int64_t us) {
  char text[32];
  if (!fastepost__time_format(text, sizeof text, us))
    return fastepost__error_set(FASTEPOST_EINVALID, "cursor out of range");
  const char *params[] = {SOURCE, model, text};
  PGresult *res = NULL;
  int rc = fastepost__query(&res, conn,
                            "INSERT INTO fastepost_sync_cursors AS c (source, model, cursor_at) "
                            "VALUES ($1, $2, $3::timestamp) ON CONFLICT (source, model) DO UPDATE "
                            "SET cursor_at = greatest(c.cursor_at, EXCLUDED.cursor_at), "
                            "updated_at = now() AT TIME ZONE 'UTC'",
                            3, params, PGRES_COMMAND_OK, "advancing the pull cursor");
  PQclear(res);
  return rc;
}

/* ---- records --------------------------------------------------------------------------------- */

/* The fields the Odoo mapping reads (odoo_map.c), asked for only when the server has them
 * (fields_get), since search_read fails on an unknown field and versions differ (mobile). */
static const char *const PARTNER_FIELDS[] = {
    "write_date", "create_date", "active", "name", "email", "phone", "mobile", "street", "city", "zip",
    "country_id", "comment", "is_company", "parent_id", "company_name", "commercial_company_name", NULL};
static const char *const LEAD_FIELDS[] = {
    "write_date", "create_date", "active", "name", "email_from", "phone", "mobile", "partner_id", "partner_name",
    "contact_name", "description", "type", "street", "city", "zip", "country_id", NULL};

static int field_list(json_object **out, fastepost__odoo_client *client, const char *model,
                      const fastepost__strlist *barcode_fields) {
  json_object *kw = json_object_new_object(), *attrs = json_object_new_array(), *avail = NULL;
  json_object_array_add(attrs, json_object_new_string("type"));
  json_object_object_add(kw, "attributes", attrs);
  int rc = fastepost__odoo_client_call(&avail, client, model, "fields_get", NULL, kw);
  json_object_put(kw);
  if (rc)
    return rc;
  json_object *fields = json_object_new_array();
  json_object_array_add(fields, json_object_new_string("id"));
  const char *const *wanted = !strcmp(model, "res.partner") ? PARTNER_FIELDS : LEAD_FIELDS;
  for (; *wanted; wanted++)
    if (fastepost__json_get(avail, *wanted))
      json_object_array_add(fields, json_object_new_string(*wanted));
  for (size_t i = 0; i < barcode_fields->count; i++)
    if (fastepost__json_get(avail, barcode_fields->items[i]))
      json_object_array_add(fields, json_object_new_string(barcode_fields->items[i]));
  json_object_put(avail);
  if (json_object_array_length(fields) < 3) { /* id and write_date at least */
    json_object_put(fields);
    return fastepost__error_set(FASTEPOST_EEXTERNAL, "Odoo %s.fields_get: no write_date field", model);
  }
  *out = fields;
  return FASTEPOST_OK;
}

/* One record of search_read into a sync record, through the webhook path: the body a native
 * webhook would carry ({"_model", "_id", fields...}), extracted by the adapter as parsed. */
static int build_record(fastepost__sync_record *rec, json_object *record, const char *model,
                        const fastepost_odoo_options *oopts, const char *suffix) {
  json_object *body = json_object_new_object();
  if (!body)
    return fastepost__error_oom();
  json_object_object_foreach(record, k, v) json_object_object_add(body, k, json_object_get(v));
  json_object_object_add(body, "_model", json_object_new_string(model));
  json_object *id = fastepost__json_get(record, "id");
  if (id)
    json_object_object_add(body, "_id", json_object_get(id));
  int rc = fastepost__odoo_extract_parsed(rec, body, oopts);
  json_object_put(body);
  if (rc == FASTEPOST_ENOMEM)
    return rc;
  /* "<model>.pull": what brought the record, in the event log */
  fastepost__buf t = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&t, "%s.%s", model, suffix);
  char *type = fastepost__buf_detach(&t);
  if (!type)
    return FASTEPOST_ENOMEM;
  free(rec->event_type);
  rec->event_type = type;
  return FASTEPOST_OK;
}

typedef struct pull_run {
  fastepost_conn *conn;
  const fastepost_odoo_sync_options *opts;
  fastepost__odoo_client *client;
  fastepost_odoo_options *oopts; /* the adapter's options for pulled records */
  fastepost__sync_ctx ctx;
  fastepost_odoo_pull_report *report;
} pull_run;

/* Records made into sync records, ready for the batch runner. */
typedef struct prepared {
  fastepost__records recs;
  fastepost_event_batch *batch;
  size_t n;
} prepared;

static void prepared_free(prepared *p) {
  fastepost_event_batch_free(p->batch);
  fastepost__records_free(&p->recs);
  *p = (prepared){0};
}

/* n records (array entries from `from`) into sync records; touches no connection, so that the
 * prefetch thread can do it while the page before is applied. */
static int prepare_records(prepared *p, json_object *records, size_t from, size_t n, const char *model,
                           const fastepost_odoo_options *oopts, const char *suffix) {
  p->n = n;
  int rc = fastepost__records_alloc(&p->recs, n, SOURCE);
  if (!rc)
    rc = fastepost__event_batch_new(&p->batch, n);
  for (size_t i = 0; !rc && i < n; i++) {
    rc = build_record(&p->recs.items[i], json_object_array_get_idx(records, from + i), model, oopts, suffix);
    if (!rc)
      rc = fastepost__event_batch_describe(p->batch, i, p->recs.items[i].event_type, p->recs.items[i].external_id);
  }
  return rc;
}

/* Records per transaction. A transaction of the sync core holds an advisory lock per contact
 * key of its records (up to four a record) until it commits, and PostgreSQL's lock table is
 * shared by every session: max_locks_per_transaction x max_connections, 6,400 by default. A page
 * of 5,000 partners in one transaction ran out of it ("out of shared memory") and its records
 * failed unlogged; 1,000 (the core's chunk, so no speed is lost) stays well inside. */
#define TXN_RECORDS 1000

/* Apply prepared records, TXN_RECORDS per transaction; counts into the report. A record that
 * failed without an event row of its own (its failure could not be logged either, e.g. the
 * database refused both) fails the page: the cursor must not move past a record that nothing
 * would retry. */
static int commit_records(pull_run *run, prepared *p, uint64_t *updated) {
  int rc = FASTEPOST_OK;
  size_t done = 0; /* records of the transactions that committed: counted even when a later one fails */
  while (!rc && done < p->n) {
    size_t k = p->n - done < TXN_RECORDS ? p->n - done : TXN_RECORDS;
    rc = fastepost__adapter_run_batch_range(p->batch, done, k, run->conn, p->recs.items, &run->ctx);
    done += rc ? 0 : k;
  }
  for (size_t i = 0; i < done; i++) {
    const fastepost_event_result *r = fastepost_event_batch_get(p->batch, i);
    fastepost_outcome oc = fastepost_event_result_outcome(r);
    if ((unsigned)oc <= FASTEPOST_OUTCOME_SPOOLED)
      run->report->outcomes[oc]++;
    run->report->failed += fastepost_event_result_code(r) != FASTEPOST_OK;
    if (updated)
      *updated += oc == FASTEPOST_OUTCOME_UPDATED;
  }
  const fastepost_event_result *first = NULL;
  size_t unlogged = rc ? 0 : fastepost__event_batch_unlogged(p->batch, &first);
  if (unlogged)
    rc = fastepost__error_set(fastepost_event_result_code(first),
                              "%zu record(s) failed and were not logged (first: %s): the cursor does not move "
                              "past them; run the pull again",
                              unlogged, fastepost_event_result_error(first));
  return rc;
}

/* Apply n records (array entries from `from`) as commit_records() does; counts into the report. */
static int apply_records(pull_run *run, json_object *records, size_t from, size_t n, const char *model,
                         const char *suffix, uint64_t *updated) {
  prepared p = {0};
  int rc = prepare_records(&p, records, from, n, model, run->oopts, suffix);
  if (!rc)
    rc = commit_records(run, &p, updated);
  prepared_free(&p);
  return rc;
}

/* ---- a page fetched on the prefetch thread, or inline ---------------------------------------- */

/* One page of search_read, fetched and made into sync records. While its thread runs, only that
 * thread touches it, and the Odoo client belongs to it until the join (one handle, one thread). */
typedef struct page_fetch {
  fastepost__odoo_client *client;
  const fastepost_odoo_options *oopts; /* read-only while the pull pages */
  const char *model;
  json_object *kw;      /* the request (owned) */
  size_t skip;          /* leading records that repeat the previous page's last one */
  /* What the pull needs of the answer once its records are made (the JSON is freed then, so
   * that two pages in memory cost little more than one): */
  size_t n;                /* records in the answer, skip included */
  int64_t first_id, last_id;
  int64_t last_write_us;   /* the last record's write_date; 0 when it has none */
  prepared prep;           /* records[skip..] */
  int rc;
  char *error; /* rc's message, taken on the thread that met it (errors are thread-local) */
  pthread_t thread;
  bool running;
} page_fetch;

static void fetch_run(page_fetch *f) {
  json_object *records = NULL;
  f->rc = fastepost__odoo_client_call(&records, f->client, f->model, "search_read", "domain", f->kw);
  if (!f->rc && !json_object_is_type(records, json_type_array))
    f->rc = fastepost__error_set(FASTEPOST_EPARSE, "Odoo %s.search_read: the answer is not a list", f->model);
  size_t n = f->n = f->rc ? 0 : json_object_array_length(records);
  if (n) {
    /* ordered by write_date: the last record has the page's latest */
    json_object *last = json_object_array_get_idx(records, n - 1);
    const char *wd = json_object_get_string(fastepost__json_get(last, "write_date"));
    f->first_id = fastepost__odoo_id(fastepost__json_get(json_object_array_get_idx(records, 0), "id"));
    f->last_id = fastepost__odoo_id(fastepost__json_get(last, "id"));
    if (!wd || !fastepost__time_parse_iso(&f->last_write_us, wd))
      f->last_write_us = 0;
  }
  if (!f->rc && n > f->skip)
    f->rc = prepare_records(&f->prep, records, f->skip, n - f->skip, f->model, f->oopts, "pull");
  json_object_put(records);
  if (f->rc)
    f->error = fastepost__strdup(fastepost_error_last()->message);
}

static void *fetch_thread(void *arg) {
  fetch_run(arg);
  return NULL;
}

/* Fetch on a thread of its own (inline when none can be had: the pull is then sequential).
 * Every wait of the fetch is bounded by the HTTP client's timeouts, and so is the join. */
static void fetch_start(page_fetch *f, bool background) {
  f->running = false;
  if (background) {
    /* The thread starts with every signal blocked, so that the host's signals (Ctrl-C, a Ruby or
     * Python handler) are still delivered to its own threads. */
    sigset_t all, old;
    sigfillset(&all);
    if (pthread_sigmask(SIG_SETMASK, &all, &old) == 0) {
      f->running = pthread_create(&f->thread, NULL, fetch_thread, f) == 0;
      pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
  }
  if (!f->running)
    fetch_run(f);
}

/* Wait for the fetch; its failure is raised again on this thread. */
static int fetch_finish(page_fetch *f) {
  if (f->running)
    pthread_join(f->thread, NULL);
  f->running = false;
  if (f->rc)
    return fastepost__error_set(f->rc, "%s", f->error ? f->error : fastepost_strerror(f->rc));
  return FASTEPOST_OK;
}

/* Wait for a fetch still running (its page is dropped) and release everything. */
static void fetch_clear(page_fetch *f) {
  if (f->running)
    pthread_join(f->thread, NULL);
  json_object_put(f->kw);
  prepared_free(&f->prep);
  free(f->error);
  *f = (page_fetch){0};
}

/* Odoo's domain format: "YYYY-MM-DD HH:MM:SS" UTC (whole seconds). */
static void odoo_time(char *out, size_t size, int64_t us) {
  char full[32];
  fastepost__time_format(full, sizeof full, us);
  snprintf(out, size, "%.19s", full);
}

static json_object *leaf(const char *field, const char *op, json_object *value) {
  json_object *l = json_object_new_array();
  json_object_array_add(l, json_object_new_string(field));
  json_object_array_add(l, json_object_new_string(op));
  json_object_array_add(l, value);
  return l;
}

static json_object *all_records_context(void) {
  json_object *ctx = json_object_new_object();
  json_object_object_add(ctx, "active_test", json_object_new_boolean(0));
  return ctx;
}

/* How often a page may find the window shifted (records changed or deleted while paging)
 * before the pull gives up for this time (EBUSY: run it again). */
#define MAX_REBASES 50

/* The search_read request for a page between lower_us (0: from the beginning) and upper (the
 * frozen bound), ordered by write_date and id, with skip records of overlap in front. */
static json_object *page_request(json_object *fields, int64_t lower_us, const char *upper, size_t offset,
                                 size_t skip, size_t page) {
  json_object *kw = json_object_new_object(), *domain = json_object_new_array();
  if (lower_us > 0) {
    char lower[32];
    odoo_time(lower, sizeof lower, lower_us);
    json_object_array_add(domain, leaf("write_date", ">=", json_object_new_string(lower)));
  }
  json_object_array_add(domain, leaf("write_date", "<=", json_object_new_string(upper)));
  json_object_object_add(kw, "domain", domain);
  /* A copy, not a reference: the request goes to the fetch thread, and the JSON-RPC client
   * takes references to its members there; json-c's reference counts are not atomic, so no
   * object may be shared with the request of another page. */
  json_object *own = json_object_new_array();
  for (size_t i = 0; i < json_object_array_length(fields); i++)
    json_object_array_add(own, json_object_new_string(json_object_get_string(json_object_array_get_idx(fields, i))));
  json_object_object_add(kw, "fields", own);
  json_object_object_add(kw, "order", json_object_new_string("write_date asc, id asc"));
  json_object_object_add(kw, "offset", json_object_new_int64((int64_t)(offset - skip)));
  json_object_object_add(kw, "limit", json_object_new_int64((int64_t)(page + skip)));
  json_object_object_add(kw, "context", all_records_context());
  return kw;
}

/* The fetch of a page, not started yet. */
static page_fetch page_fetch_of(const pull_run *run, const char *model, json_object *kw, size_t skip) {
  return (page_fetch){.client = run->client, .oopts = run->oopts, .model = model, .kw = kw, .skip = skip};
}

/* Pull one model: pages of search_read between lower_us (0: from the beginning) and upper_us.
 * Page k+1 is fetched on a thread while page k is applied here. */
static int pull_model(pull_run *run, size_t mi, int64_t lower_us, int64_t upper_us) {
  const char *model = run->report->models.items[mi];
  json_object *fields = NULL;
  int rc = field_list(&fields, run->client, model, &run->oopts->barcode_fields);
  if (rc)
    return rc;
  size_t page = run->opts->page_size;
  size_t offset = 0;
  int64_t last_id = 0, rebases = 0;
  char upper[32];
  odoo_time(upper, sizeof upper, upper_us);
  page_fetch slots[2] = {{0}, {0}}; /* the page applied and the next one; a thread points at its slot */
  page_fetch *cur = &slots[0], *next = &slots[1];
  *cur = page_fetch_of(run, model, page_request(fields, lower_us, upper, 0, 0, page), 0);
  fetch_start(cur, false);
  while (!rc) {
    rc = fetch_finish(cur);
    if (rc)
      break;
    size_t n = cur->n;
    /* One record of overlap with the previous page: if it is not the one seen last, the window
     * shifted under the offsets (a record changed or vanished while paging). */
    if (cur->skip && (n == 0 || cur->first_id != last_id)) {
      fetch_clear(cur);
      if (++rebases > MAX_REBASES) {
        rc = fastepost__error_set(FASTEPOST_EBUSY, "Odoo %s changed under the pull %d times: run it again", model,
                                  MAX_REBASES);
        break;
      }
      /* Start again from the committed cursor: everything after it is read again (duplicates). */
      lower_us = run->report->cursors[mi] > 0 ? run->report->cursors[mi] - run->report->cursors[mi] % 1000000
                                              : lower_us;
      offset = 0;
      *cur = page_fetch_of(run, model, page_request(fields, lower_us, upper, 0, 0, page), 0);
      fetch_start(cur, false);
      continue;
    }
    size_t fresh = n - cur->skip;
    run->report->fetched += fresh;
    offset += fresh;
    if (n)
      last_id = cur->last_id;
    if (fresh >= page) { /* a full page: there may be more, fetched while this one is applied */
      *next = page_fetch_of(run, model, page_request(fields, lower_us, upper, offset, 1, page), 1);
      fetch_start(next, true);
    }
    if (fresh) {
      rc = commit_records(run, &cur->prep, NULL);
      if (!rc) {
        run->report->pages++;
        int64_t wd_us = cur->last_write_us;
        /* never past the frozen bound: a server that ignored the domain must not push the
         * cursor into the future, where every later change would fall below the window */
        if (wd_us > upper_us)
          wd_us = upper_us;
        if (wd_us > run->report->cursors[mi]) {
          rc = cursor_store(run->conn, model, wd_us);
          if (!rc)
            run->report->cursors[mi] = wd_us;
        }
      }
      if (!rc && run->opts->progress &&
          run->opts->progress(run->report->fetched, 0, run->opts->progress_payload))
        rc = fastepost__error_set(FASTEPOST_ECANCELED, "the pull was stopped by its progress callback");
    }
    fetch_clear(cur);
    if (fresh < page)
      break;
    page_fetch *t = cur;
    cur = next;
    next = t;
  }
  /* after a failure or a stop, the page in flight is waited for and dropped */
  fetch_clear(&slots[0]);
  fetch_clear(&slots[1]);
  json_object_put(fields);
  return rc;
}

static int cmp_id(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* The customers linked to records of model that Odoo no longer has: inactive, through the core. */
static int detect_deletions(pull_run *run, const char *model) {
  json_object *kw = json_object_new_object(), *ids = NULL;
  json_object_object_add(kw, "domain", json_object_new_array());
  json_object_object_add(kw, "context", all_records_context());
  int rc = fastepost__odoo_client_call(&ids, run->client, model, "search", "domain", kw);
  json_object_put(kw);
  if (rc)
    return rc;
  size_t n = json_object_is_type(ids, json_type_array) ? json_object_array_length(ids) : 0;
  int64_t *have = calloc(n ? n : 1, sizeof *have);
  if (!have) {
    json_object_put(ids);
    return fastepost__error_oom();
  }
  for (size_t i = 0; i < n; i++)
    have[i] = fastepost__odoo_id(json_object_array_get_idx(ids, i));
  bool is_list = json_object_is_type(ids, json_type_array);
  json_object_put(ids);
  if (!is_list) {
    free(have);
    return fastepost__error_set(FASTEPOST_EPARSE, "Odoo %s.search: the answer is not a list of ids", model);
  }
  qsort(have, n, sizeof *have, cmp_id);
  char pattern[160];
  snprintf(pattern, sizeof pattern, "%s:%%", model);
  const char *params[] = {SOURCE, pattern};
  PGresult *res = NULL;
  rc = fastepost__query(&res, run->conn,
                        "SELECT crm_id FROM customers WHERE crm_source = $1 AND crm_id LIKE $2 AND active "
                        "ORDER BY id",
                        2, params, PGRES_TUPLES_OK, "listing the customers linked to Odoo");
  if (rc) {
    free(have);
    return rc;
  }
  int rows = PQntuples(res);
  if (n == 0 && rows > 0) { /* a wrong database or missing rights, not every record deleted */
    PQclear(res);
    free(have);
    return fastepost__error_set(FASTEPOST_ECONFLICT,
                                "Odoo reports no %s at all while %d active customers are linked to it: "
                                "refusing to make them all inactive (check the database and the user's rights)",
                                model, rows);
  }
  json_object *gone = json_object_new_array();
  for (int i = 0; i < rows; i++) {
    const char *crm_id = PQgetvalue(res, i, 0);
    char *end = NULL;
    long long id = strtoll(crm_id + strlen(model) + 1, &end, 10);
    if (!end || *end || id <= 0)
      continue;
    int64_t key = id;
    if (!bsearch(&key, have, n, sizeof *have, cmp_id)) {
      json_object *rec = json_object_new_object();
      json_object_object_add(rec, "id", json_object_new_int64(id));
      json_object_array_add(gone, rec);
    }
  }
  PQclear(res);
  free(have);
  size_t ngone = json_object_array_length(gone);
  for (size_t from = 0; !rc && from < ngone; from += run->opts->page_size) {
    size_t k = ngone - from < run->opts->page_size ? ngone - from : run->opts->page_size;
    /* the "unlink" hint makes the mapping set the customer inactive */
    snprintf(run->oopts->hint, sizeof run->oopts->hint, "unlink");
    rc = apply_records(run, gone, from, k, model, "unlink", &run->report->deleted);
    run->oopts->hint[0] = '\0';
  }
  json_object_put(gone);
  return rc;
}

/* ---- the pull -------------------------------------------------------------------------------- */

static int run_pull(pull_run *run) {
  const fastepost_odoo_sync_options *o = run->opts;
  int64_t now_us = fastepost__clock_now(&o->clock);
  if (now_us == FASTEPOST__SYNC_SERVER_CLOCK)
    now_us = fastepost__time_now_us();
  /* Frozen for the whole pull: what is written after it waits for the next one. */
  int64_t upper_us = now_us - now_us % FASTEPOST__US_PER_SEC;
  int rc = fastepost__odoo_client_connect(run->client);
  for (size_t i = 0; !rc && i < run->report->models.count; i++) {
    const char *model = run->report->models.items[i];
    int64_t cursor = 0;
    rc = cursor_load(&cursor, run->conn, model);
    if (rc)
      break;
    run->report->cursors[i] = cursor;
    int64_t start = o->full ? 0 : o->since_us ? o->since_us : cursor;
    int64_t lower = start > 0 ? start - o->overlap_us : 0;
    if (start > 0 && lower <= 0)
      lower = 1;
    rc = pull_model(run, i, lower, upper_us);
    if (!rc && o->detect_deletions)
      rc = detect_deletions(run, model);
  }
  return rc;
}

fastepost_status fastepost_odoo_pull(fastepost_odoo_pull_report **out, fastepost_conn *conn,
                                     const fastepost_odoo_sync_options *o) {
  if (out)
    *out = NULL;
  int rc = fastepost__odoo_sync_check(conn, o, "fastepost_odoo_pull");
  if (rc)
    return rc;
  pull_run run = {.conn = conn, .opts = o};
  run.report = calloc(1, sizeof *run.report);
  if (!run.report)
    return fastepost__error_oom();
  for (size_t i = 0; !rc && i < o->models.count; i++)
    rc = fastepost__strlist_add(&run.report->models, o->models.items[i]);
  if (!rc && !(run.report->cursors = calloc(o->models.count ? o->models.count : 1, sizeof *run.report->cursors)))
    rc = fastepost__error_oom();
  if (!rc)
    rc = fastepost__odoo_sync_client_new(&run.client, o);
  if (!rc)
    rc = fastepost_odoo_options_new(&run.oopts);
  if (!rc) {
    /* Pulled records come over an authenticated channel and are bounded by the HTTP limit. */
    run.oopts->host_authenticated = true;
    run.oopts->max_body = SIZE_MAX;
    run.oopts->clock = o->clock;
    run.ctx = (fastepost__sync_ctx){.now_us = fastepost__clock_now(&o->clock),
                                    .max_attempts = FASTEPOST_EVENTS_MAX_ATTEMPTS};
    rc = run_pull(&run);
  }
  fastepost_odoo_options_free(run.oopts);
  fastepost__odoo_client_free(run.client);
  if (out)
    *out = run.report;
  else
    fastepost_odoo_pull_report_free(run.report);
  if (rc == FASTEPOST_OK)
    fastepost_error_clear();
  return rc;
}
