/* SPDX-License-Identifier: MIT */
/*
 * The Odoo adapter (adapter.h): options, the key check, the public processing calls (one
 * delivery, a batch, spooling when the database is unreachable) and the adapter table for the
 * retry queue and the spool. Parsing is in odoo_extract.c, mapping in odoo_map.c. No SQL here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/odoo.h"
#include "adapters/webhook_config.h"

static const char SOURCE[] = "odoo";

/* ---- authentication ------------------------------------------------------------------------ */

/* The presented key against the accepted ones. Every configured key is compared, so the time
 * taken says nothing about which key (if any) was close; it depends only on the lengths. */
static int match_key(char *const *keys, size_t nkeys, const char *presented) {
  if (!nkeys)
    return fastepost__error_set(FASTEPOST_ENOKEY, "no Odoo API key is configured: every request is refused");
  if (!presented || !*presented)
    return fastepost__error_set(FASTEPOST_EAUTH, "no API key presented (send the X-Odoo-Api-Key "
                                                 "header or the api_key query parameter)");
  size_t plen = strlen(presented);
  unsigned match = 0;
  for (size_t i = 0; i < nkeys; i++)
    match |= (unsigned)fastepost__ct_equal(keys[i], strlen(keys[i]), presented, plen);
  if (!match)
    return fastepost__error_set(FASTEPOST_EAUTH, "wrong Odoo API key");
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_authenticate(const char *expected, const char *presented) {
  char *keys[1] = {(char *)(uintptr_t)expected};
  return match_key(keys, expected && *expected ? 1 : 0, presented);
}

/* The key check every public processing call runs before it looks at the body. */
static int check_key(const fastepost_odoo_options *o, const char *presented) {
  if (o && o->host_authenticated)
    return FASTEPOST_OK;
  return match_key(o ? o->api_keys.items : NULL, o ? o->api_keys.count : 0, presented);
}

/* A refused request: a result that says why (401), and nothing written. */
static int refuse(fastepost_event_result **out, int code) {
  if (!out)
    return code;
  *out = fastepost__result_new();
  if (*out)
    fastepost__result_fail(*out, code);
  fastepost__error_set(code, "%s", (*out && (*out)->error) ? (*out)->error : fastepost_strerror(code));
  return code;
}

/* ---- options ------------------------------------------------------------------------------- */

int fastepost__odoo_set_barcode_fields(fastepost_odoo_options *o, const char *fields) {
  fastepost__strlist list = {0};
  const char *p = fields;
  while (*p) {
    while (*p == ',' || *p == ' ')
      p++;
    size_t n = strcspn(p, ", ");
    if (n) {
      char *name = fastepost__strndup(p, n);
      int rc = name ? fastepost__strlist_add(&list, name) : FASTEPOST_ENOMEM;
      free(name);
      if (rc) {
        fastepost__strlist_free(&list);
        return rc;
      }
    }
    p += n;
  }
  if (!list.count)
    return fastepost__error_set(FASTEPOST_EINVALID, "the list of barcode fields is empty");
  fastepost__strlist_free(&o->barcode_fields);
  o->barcode_fields = list;
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_options_new(fastepost_odoo_options **out) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_options_new: out is NULL");
  *out = NULL;
  fastepost_odoo_options *o = calloc(1, sizeof *o);
  if (!o)
    return fastepost__error_oom();
  o->max_body = FASTEPOST_ODOO_DEFAULT_MAX_BODY;
  o->max_depth = FASTEPOST_ODOO_DEFAULT_MAX_DEPTH;
  o->time_range = (fastepost__time_range)FASTEPOST__TIME_RANGE_DEFAULT;
  int rc = fastepost__odoo_set_barcode_fields(o, FASTEPOST_ODOO_DEFAULT_BARCODE_FIELDS);
  if (rc) {
    free(o);
    return rc;
  }
  *out = o;
  return FASTEPOST_OK;
}

void fastepost_odoo_options_free(fastepost_odoo_options *o) {
  if (!o)
    return;
  fastepost__strlist_free(&o->barcode_fields);
  fastepost__config_wipe(&o->api_keys); /* keys do not linger in freed memory */
  free(o);
}

fastepost_status fastepost_odoo_options_add_api_key(fastepost_odoo_options *o, const char *key) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_options_add_api_key: opts is NULL");
  if (!key || !*key)
    return fastepost__error_set(FASTEPOST_EINVALID, "an Odoo API key must not be NULL or empty");
  return fastepost__strlist_add(&o->api_keys, key);
}

fastepost_status fastepost_odoo_options_set_host_authenticated(fastepost_odoo_options *o, int yes) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_options_set_host_authenticated: opts is NULL");
  o->host_authenticated = yes != 0;
  return FASTEPOST_OK;
}


fastepost_status fastepost_odoo_options_set_event(fastepost_odoo_options *o, const char *hint) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "options are NULL");
  if (!hint || !*hint) {
    o->hint[0] = '\0';
    return FASTEPOST_OK;
  }
  const char *h = fastepost__odoo_hint(hint);
  if (!h || strcmp(h, hint) != 0) {
    char p[64];
    fastepost__preview(p, sizeof p, hint, strlen(hint));
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "unknown event hint \"%s\": expected create, write, unlink or archive", p);
  }
  snprintf(o->hint, sizeof o->hint, "%s", h);
  return FASTEPOST_OK;
}

bool fastepost__odoo_model_name_valid(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (!n || n > 63 || !fastepost__ascii_islower((unsigned char)s[0]) || s[n - 1] == '.' || strstr(s, ".."))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!fastepost__ascii_islower((unsigned char)s[i]) && !fastepost__ascii_isdigit((unsigned char)s[i]) &&
        s[i] != '_' && s[i] != '.')
      return false;
  return true;
}

fastepost_status fastepost_odoo_options_set_model(fastepost_odoo_options *o, const char *model) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_options_set_model: opts is NULL");
  if (!model || !*model) {
    o->model[0] = '\0';
    return FASTEPOST_OK;
  }
  if (!fastepost__odoo_model_name_valid(model)) {
    char p[64];
    fastepost__preview(p, sizeof p, model, strlen(model));
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "invalid model hint \"%s\": expected an Odoo model name such as res.partner", p);
  }
  snprintf(o->model, sizeof o->model, "%s", model);
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_options_set_content_type(fastepost_odoo_options *o, const char *ct) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "options are NULL");
  if (!ct || !*ct) {
    o->form = false;
    return FASTEPOST_OK;
  }
  size_t n = strcspn(ct, ";");
  while (n && ct[n - 1] == ' ')
    n--;
  static const char json[] = "application/json", form[] = "application/x-www-form-urlencoded";
  if (n == sizeof json - 1 && fastepost__ascii_ncasecmp(ct, json, n) == 0) {
    o->form = false;
  } else if (n == sizeof form - 1 && fastepost__ascii_ncasecmp(ct, form, n) == 0) {
    o->form = true;
  } else {
    char p[64];
    fastepost__preview(p, sizeof p, ct, n);
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "unsupported content type \"%s\": expected application/json or "
                                "application/x-www-form-urlencoded", p);
  }
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_options_set_max_body(fastepost_odoo_options *o, size_t bytes) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_options_set_max_body: opts is NULL");
  o->max_body = bytes ? bytes : FASTEPOST_ODOO_DEFAULT_MAX_BODY;
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_options_set_max_depth(fastepost_odoo_options *o, size_t depth) {
  if (!o || (depth && (depth < 2 || depth > 1000)))
    return fastepost__error_set(FASTEPOST_EINVALID, "the nesting limit must be 2 to 1000, not %zu", depth);
  o->max_depth = depth ? (int)depth : FASTEPOST_ODOO_DEFAULT_MAX_DEPTH;
  return FASTEPOST_OK;
}

fastepost_status fastepost_odoo_options_set_barcode_fields(fastepost_odoo_options *o, const char *fields) {
  if (!o || !fields)
    return fastepost__error_set(FASTEPOST_EINVALID, "barcode fields are NULL");
  return fastepost__odoo_set_barcode_fields(o, fields);
}

FASTEPOST__OPTIONS_TIME_SETTERS(odoo)

fastepost_status fastepost_odoo_options_set_spool(fastepost_odoo_options *o, fastepost_spool *spool) {
  if (!o)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_options_set_spool: opts is NULL");
  o->spool = spool;
  return FASTEPOST_OK;
}

/* ---- processing ---------------------------------------------------------------------------- */

static int64_t clock_now(const fastepost_odoo_options *opts) {
  return fastepost__clock_now(opts ? &opts->clock : NULL);
}

/* The single-delivery path: one record on the stack, one result, no copy of the body. */
static int process_one(fastepost_event_result **out, fastepost_conn *conn, const void *body, size_t len,
                       const fastepost_odoo_options *opts) {
  if (out)
    *out = NULL;
  fastepost_event_result *res = fastepost__result_new();
  if (!res)
    return FASTEPOST_ENOMEM;
  fastepost__sync_record rec;
  fastepost__sync_record_init(&rec, SOURCE);
  fastepost__odoo_extract(&rec, body, len, opts);
  fastepost__sync_ctx ctx = {.now_us = clock_now(opts), .in_batch = false,
                             .max_attempts = FASTEPOST_EVENTS_MAX_ATTEMPTS};
  int rc = fastepost__adapter_process(res, conn, &rec, &ctx);
  fastepost__sync_record_clear(&rec);
  if (out)
    *out = res;
  else
    fastepost_event_result_free(res);
  return rc;
}

/* What the spool keeps of a delivery besides its body and content type: the event hint and the
 * model hint (for a relayed read() result that names no model), as "write",
 * "write?model=res.partner" or "?model=res.partner"; replay() reads them back. */
#define MODEL_MARK "?model="
static void spool_text(char *out, size_t size, const char *hint, const char *model) {
  if (model && fastepost__odoo_model_name_valid(model) && strlen(hint) + strlen(MODEL_MARK) + strlen(model) < size)
    snprintf(out, size, "%s" MODEL_MARK "%s", hint, model);
  else
    snprintf(out, size, "%s", hint);
}

/* The database is unreachable (why: the failure so far): write the delivery to the spool. On
 * success the result says SPOOLED with code OK; a full spool is EFULL, a write failure EIO. */
static int spool_delivery(fastepost_event_result **out, const void *body, size_t len,
                          const fastepost_odoo_options *opts, const char *why) {
  if (out)
    *out = NULL;
  fastepost_event_result *res = fastepost__result_new();
  if (!res)
    return FASTEPOST_ENOMEM;
  int rc;
  if (len > opts->max_body) { /* never put on disk what would be refused anyway */
    rc = fastepost__error_set(FASTEPOST_ETOOBIG, "body of %zu bytes exceeds the limit of %zu bytes", len,
                              opts->max_body);
  } else {
    char hints[160];
    spool_text(hints, sizeof hints, opts->hint, opts->model);
    rc = fastepost_spool_put(NULL, opts->spool, SOURCE, hints,
                             opts->form ? "application/x-www-form-urlencoded" : "application/json", body, len);
    if (rc)
      fastepost__error_prefix("the database is unreachable (%s) and spooling failed", why);
  }
  if (rc) {
    fastepost__result_fail(res, rc);
  } else {
    res->outcome = FASTEPOST_OUTCOME_SPOOLED;
    fastepost__strlist_addf(&res->warnings, "spooled: %s", why);
    fastepost_error_clear();
  }
  if (out)
    *out = res;
  else
    fastepost_event_result_free(res);
  return rc;
}

fastepost_status fastepost_odoo_process(fastepost_event_result **out, fastepost_conn *conn,
                                        const char *presented_key, const void *body, size_t len,
                                        const fastepost_odoo_options *opts) {
  if (out)
    *out = NULL;
  /* Before anything else, so that a refused request reaches neither the database nor the spool. */
  int krc = check_key(opts, presented_key);
  if (krc)
    return refuse(out, krc);
  bool spool = opts && opts->spool;
  if (!conn && !spool)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_process: conn is NULL");
  if (!conn)
    return spool_delivery(out, body, len, opts, "no connection");
  fastepost_event_result *res = NULL;
  int rc = process_one(&res, conn, body, len, opts);
  const fastepost_event_result *results[] = {res};
  if (spool && fastepost__adapter_unreachable(rc, results, 1)) {
    char why[256];
    snprintf(why, sizeof why, "%s", fastepost_error_last()->message);
    fastepost_event_result_free(res);
    res = NULL;
    rc = spool_delivery(&res, body, len, opts, why);
  }
  if (out)
    *out = res;
  else
    fastepost_event_result_free(res);
  return rc;
}

fastepost_status fastepost_odoo_process_batch(fastepost_event_batch **out, fastepost_conn *conn,
                                              const char *const *presented_keys, const void *const *bodies,
                                              const size_t *lens, size_t n, const fastepost_odoo_options *opts) {
  if (out)
    *out = NULL;
  fastepost_event_batch *b = NULL;
  if (!conn || (n && (!bodies || !lens))) {
    if (fastepost__event_batch_new(&b, 0))
      return FASTEPOST_ENOMEM;
    return fastepost__event_batch_finish(
        out, b, fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_process_batch: NULL argument"));
  }
  if (n && !presented_keys && !(opts && opts->host_authenticated)) {
    if (fastepost__event_batch_new(&b, 0))
      return FASTEPOST_ENOMEM;
    return fastepost__event_batch_finish(
        out, b, fastepost__error_set(FASTEPOST_EINVALID, "fastepost_odoo_process_batch: presented_keys is NULL"));
  }
  fastepost__records recs = {0};
  bool *refused = calloc(n ? n : 1, sizeof *refused);
  int rc = refused ? fastepost__records_alloc(&recs, n, SOURCE) : fastepost__error_oom();
  if (!rc)
    rc = fastepost__event_batch_new(&b, n);
  if (rc) {
    free(refused);
    fastepost__records_free(&recs);
    return rc;
  }
  for (size_t i = 0; i < n; i++) {
    int krc = check_key(opts, presented_keys ? presented_keys[i] : NULL);
    if (krc) { /* its 401, and nothing written */
      refused[i] = true;
      fastepost__result_fail(fastepost__event_batch_result(b, i), krc);
      continue;
    }
    fastepost__odoo_extract(&recs.items[i], bodies[i], lens[i], opts);
    fastepost__event_batch_describe(b, i, recs.items[i].event_type, recs.items[i].external_id);
  }
  fastepost__sync_ctx ctx = {.now_us = clock_now(opts), .max_attempts = FASTEPOST_EVENTS_MAX_ATTEMPTS};
  rc = fastepost__adapter_run_batch(b, conn, recs.items, refused, n, &ctx);
  fastepost__records_free(&recs);
  free(refused);
  return fastepost__event_batch_finish(out, b, rc);
}

/* ---- the adapter table (adapter.h) ------------------------------------------------------- */

/* The key a request presents: the X-Odoo-Api-Key header, else the api_key query parameter. */
static int verify_request(const void *config, const fastepost_webhook_request *req) {
  const fastepost_odoo_options *opts = config;
  if (fastepost_webhook_request_has_header(req, "X-Odoo-Api-Key"))
    return check_key(opts, fastepost_webhook_request_header(req, "X-Odoo-Api-Key"));
  char *key = fastepost__uri_query_param(fastepost_webhook_request_uri(req), "api_key");
  int rc = check_key(opts, key);
  if (key)
    for (volatile char *p = key; *p; p++)
      *p = 0;
  free(key);
  return rc;
}

/* The run's fixed "now", through the options' clock hook. */
static int64_t fixed_clock(void *payload) { return *(const int64_t *)payload; }

/*
 * The options one delivery is read with: a copy of base (the configuration's options; NULL: the
 * defaults, made into *defaults for the caller to free) that borrows its lists, with the
 * delivery's event hint and content type. now_us drives the time-range check (the server's
 * clock: the host's, as for options without a clock).
 */
static int delivery_options(fastepost_odoo_options *o, fastepost_odoo_options **defaults, const void *base,
                            const char *hint, const char *content_type, const int64_t *now_us) {
  *defaults = NULL;
  int rc = base ? FASTEPOST_OK : fastepost_odoo_options_new(defaults);
  if (rc)
    return rc;
  *o = *(const fastepost_odoo_options *)(base ? base : *defaults);
  o->spool = NULL;
  o->host_authenticated = false;
  if ((rc = fastepost_odoo_options_set_event(o, hint ? hint : o->hint)) ||
      (rc = fastepost_odoo_options_set_content_type(o, content_type))) {
    fastepost_odoo_options_free(*defaults);
    *defaults = NULL;
    return rc;
  }
  o->clock = (fastepost__clock){0};
  if (*now_us != FASTEPOST__SYNC_SERVER_CLOCK)
    fastepost_odoo_options_set_clock(o, fixed_clock, (void *)(uintptr_t)now_us);
  return FASTEPOST_OK;
}

/* The event hint of a request: ?event= in its URI, else the configuration's ("" for none). */
static void request_hint(char *out, size_t size, const void *config, const fastepost_webhook_request *req) {
  char *q = fastepost__uri_query_param(fastepost_webhook_request_uri(req), "event");
  const fastepost_odoo_options *opts = config;
  snprintf(out, size, "%s", q && *q ? q : opts ? opts->hint : "");
  free(q);
}

/* The spooled hints of a request (see spool_text()): its ?event= (else the configuration's) and
 * its ?model=. */
static void spool_hints(char *out, size_t size, const void *config, const fastepost_webhook_request *req) {
  char hint[64];
  request_hint(hint, sizeof hint, config, req);
  char *model = fastepost__uri_query_param(fastepost_webhook_request_uri(req), "model");
  spool_text(out, size, hint, model);
  free(model);
}

static int parse_request(fastepost__records *out, const void *config, const fastepost_webhook_request *req,
                         int64_t now_us) {
  char hint[64];
  request_hint(hint, sizeof hint, config, req);
  const char *ct = fastepost_webhook_request_header(req, "Content-Type");
  fastepost_odoo_options o, *defaults;
  int rc = delivery_options(&o, &defaults, config, hint, ct, &now_us);
  /* ?model=res.partner names the model of a body that names none (a relayed read() result),
   * like ?event= names the event; a malformed one refuses the request. */
  char *model = rc ? NULL : fastepost__uri_query_param(fastepost_webhook_request_uri(req), "model");
  if (model && *model)
    rc = fastepost_odoo_options_set_model(&o, model);
  free(model);
  if (!rc)
    rc = fastepost__records_alloc(out, 1, SOURCE);
  if (!rc) /* a body that cannot be used is a failed record, logged by the core */
    fastepost__odoo_extract(&out->items[0], fastepost_webhook_request_body(req),
                            fastepost_webhook_request_body_len(req), &o);
  fastepost_odoo_options_free(defaults);
  return rc;
}

static int parse_body(fastepost__records *out, const void *config, const void *body, size_t len, int64_t now_us) {
  (void)now_us; /* the options' clock drives the time-range check */
  int rc = fastepost__records_alloc(out, 1, SOURCE);
  if (!rc)
    fastepost__odoo_extract(&out->items[0], body, len, config);
  return rc;
}

/* A body that was accepted once (stored or spooled), read with the configuration's mapping
 * (barcode fields, nesting limit) when the caller has it: no key check (it was checked before
 * storing), no body limit, no time range (the range applied when it came in). */
static int extract_accepted(fastepost__sync_record *rec, const void *config, const void *body, size_t len,
                            const char *hint, const char *content_type, const char *model, int64_t now_us) {
  fastepost_odoo_options o, *defaults;
  int rc = delivery_options(&o, &defaults, config, hint ? hint : "", content_type, &now_us);
  if (rc)
    return rc;
  if (model && *model)
    snprintf(o.model, sizeof o.model, "%s", model);
  o.max_body = SIZE_MAX;
  o.time_range = (fastepost__time_range)FASTEPOST__TIME_RANGE_ANY;
  rc = fastepost__odoo_extract(rec, body, len, &o);
  fastepost_odoo_options_free(defaults);
  return rc;
}

static int reprocess(fastepost__sync_record *rec, const void *config, const char *payload, const char *event_type,
                     int64_t now_us) {
  /* The stored event type carries the hint: "res.partner.unlink". */
  const char *dot = event_type ? strrchr(event_type, '.') : NULL;
  const char *hint = dot && fastepost__odoo_hint(dot + 1) && !strcmp(fastepost__odoo_hint(dot + 1), dot + 1)
                         ? dot + 1 : NULL;
  /* A body that named no model was processed with a model hint, which the event type kept
   * ("res.partner.write", "res.partner.pull"): the same hint again, so a retry maps it alike. */
  char model[64] = "";
  if (event_type) {
    size_t n = strlen(event_type);
    const char *last = strrchr(event_type, '.');
    if (last && (fastepost__odoo_hint(last + 1) || !strcmp(last + 1, "pull")))
      n = (size_t)(last - event_type);
    if (n < sizeof model) {
      memcpy(model, event_type, n);
      model[n] = '\0';
      if (!fastepost__odoo_model_name_valid(model))
        model[0] = '\0';
    }
  }
  int rc = extract_accepted(rec, config, payload, payload ? strlen(payload) : 0, hint, NULL, model, now_us);
  return rc == FASTEPOST_ENOMEM ? rc : FASTEPOST_OK; /* a failed record is logged by the core */
}

static int replay(fastepost__records *out, const void *config, const void *body, size_t len, const char *event,
                  const char *content_type, int64_t now_us) {
  /* The spooled hints (spool_hints()): "write", "write?model=res.partner" or "?model=...". */
  char hint[64] = "", model[64] = "";
  const char *m = strstr(event, MODEL_MARK);
  size_t n = m ? (size_t)(m - event) : strlen(event);
  if (n < sizeof hint)
    snprintf(hint, sizeof hint, "%.*s", (int)n, event);
  if (m && fastepost__odoo_model_name_valid(m + strlen(MODEL_MARK)))
    snprintf(model, sizeof model, "%s", m + strlen(MODEL_MARK));
  int rc = fastepost__records_alloc(out, 1, SOURCE);
  if (!rc) {
    rc = extract_accepted(&out->items[0], config, body, len, hint, content_type, model, now_us);
    if (rc != FASTEPOST_ENOMEM && out->items[0].failure == rc)
      rc = FASTEPOST_OK; /* a failed record is logged by the core */
  }
  return rc;
}

/* ---- the configuration: {"odoo": {"api_keys": [...], ...}} (docs/webhooks.md) ---------------- */

static int config_new(void **out, struct json_object *section) {
  static const char *const keys[] = {"api_keys", "event", "max_body", "max_depth", "barcode_fields", NULL};
  *out = NULL;
  int rc = fastepost__config_keys(section, SOURCE, keys);
  fastepost_odoo_options *o = NULL;
  if (!rc)
    rc = fastepost_odoo_options_new(&o);
  if (!rc)
    rc = fastepost__config_strings(&o->api_keys, section, SOURCE, "api_keys", true);
  const char *event = NULL;
  if (!rc && !(rc = fastepost__config_string(&event, section, SOURCE, "event", false)) && event &&
      fastepost_odoo_options_set_event(o, event))
    rc = fastepost__error_set(FASTEPOST_EINVALID, "odoo.event: not create, write, unlink or archive");
  uint64_t max_body = FASTEPOST_ODOO_DEFAULT_MAX_BODY, max_depth = FASTEPOST_ODOO_DEFAULT_MAX_DEPTH;
  if (!rc && !(rc = fastepost__config_uint(&max_body, section, SOURCE, "max_body", 1, (uint64_t)1 << 30)))
    o->max_body = (size_t)max_body;
  if (!rc && !(rc = fastepost__config_uint(&max_depth, section, SOURCE, "max_depth", 2, 1000)))
    o->max_depth = (int)max_depth;
  fastepost__strlist barcode = {0};
  if (!rc && !(rc = fastepost__config_strings(&barcode, section, SOURCE, "barcode_fields", false)) &&
      barcode.count) {
    fastepost__strlist_free(&o->barcode_fields);
    o->barcode_fields = barcode;
  } else {
    fastepost__strlist_free(&barcode);
  }
  if (rc) {
    fastepost_odoo_options_free(o);
    return rc;
  }
  *out = o;
  return FASTEPOST_OK;
}

static void config_free(void *config) { fastepost_odoo_options_free(config); }

const fastepost__adapter fastepost__odoo_adapter = {
    .source = SOURCE,
    .dedup_key = "model, record id, write_date and event hint (without write_date: the canonical body and hint)",
    .version_key = "write_date",
    .config_new = config_new,
    .config_free = config_free,
    .verify = verify_request,
    .parse = parse_body,
    .reprocess = reprocess,
    .replay = replay,
    .parse_request = parse_request,
    .spool_event = spool_hints,
};
