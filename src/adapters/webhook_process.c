/* SPDX-License-Identifier: MIT */
/*
 * The generic webhook entry (fastepost/webhook.h): one call for every CRM adapter in the
 * registry. It knows no CRM: the adapter table says how to answer a handshake, verify, parse and
 * answer; the runner runs the records through the sync core; the spool takes a verified
 * delivery the database could not. Also the response object and the one JSON result that is
 * both the default answer's body and (with the answer) the CLI's --json output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/webhook_config.h"
#include "fastepost/spool.h"
#include "internal.h"
#include "util/json.h"

struct fastepost_webhook_response {
  fastepost_status status;
  fastepost__response answer; /* what to send: status, content type, body */
  bool handshake, spooled;
  fastepost_event_batch *events; /* never NULL once built */
  char *error;                   /* "" when none */
};

/* ---- sources ------------------------------------------------------------------------------- */

size_t fastepost_webhook_source_count(void) { return fastepost__adapter_count(); }

const char *fastepost_webhook_source_at(size_t i) {
  const fastepost__adapter *a = fastepost__adapter_at(i);
  return a ? a->source : NULL;
}

/* ---- the response ------------------------------------------------------------------------------ */

void fastepost_webhook_response_free(fastepost_webhook_response *r) {
  if (!r)
    return;
  fastepost__response_clear(&r->answer);
  fastepost_event_batch_free(r->events);
  free(r->error);
  free(r);
}

fastepost_status fastepost_webhook_response_status(const fastepost_webhook_response *r) {
  return r ? r->status : FASTEPOST_EINVALID;
}
int fastepost_webhook_response_http_status(const fastepost_webhook_response *r) {
  return r ? r->answer.http_status : fastepost_status_http(FASTEPOST_EINVALID);
}
const char *fastepost_webhook_response_content_type(const fastepost_webhook_response *r) {
  return r && r->answer.content_type ? r->answer.content_type : "";
}
const void *fastepost_webhook_response_body(const fastepost_webhook_response *r) {
  return r && r->answer.body ? r->answer.body : "";
}
size_t fastepost_webhook_response_body_len(const fastepost_webhook_response *r) {
  return r && r->answer.body ? r->answer.len : 0;
}
int fastepost_webhook_response_handshake(const fastepost_webhook_response *r) { return r && r->handshake; }
int fastepost_webhook_response_spooled(const fastepost_webhook_response *r) { return r && r->spooled; }
const fastepost_event_batch *fastepost_webhook_response_events(const fastepost_webhook_response *r) {
  return r ? r->events : NULL;
}
const char *fastepost_webhook_response_error(const fastepost_webhook_response *r) {
  return r && r->error ? r->error : "";
}

/* ---- the JSON result ------------------------------------------------------------------------- */

static void id_or_null(fastepost__buf *b, const char *name, int64_t id) {
  if (id)
    fastepost__buf_printf(b, ",\"%s\":%lld", name, (long long)id);
  else
    fastepost__buf_printf(b, ",\"%s\":null", name);
}

/* `,"name":"text"`, or null for "" (len bytes of text; invalid UTF-8 is null too, so that the
 * output is always JSON: bodies and messages are the library's own, so that would be a bug). */
static void text_or_null(fastepost__buf *b, const char *name, const char *text, size_t len) {
  fastepost__buf_printf(b, ",\"%s\":", name);
  if (len && fastepost__utf8_valid(text, len, NULL))
    fastepost__json_quote(b, text, len);
  else
    fastepost__buf_puts(b, "null");
}

/* The one JSON result: {"status","http_status"[,"response"],"events":[...],"error"}. */
static int result_json(fastepost__buf *b, fastepost_status st, int http_status, const fastepost_event_batch *events,
                       const char *error, const fastepost__response *answer) {
  fastepost__buf_puts(b, "{\"status\":");
  fastepost__json_quote(b, st == FASTEPOST_OK ? "ok" : fastepost_error_name(st),
                        strlen(st == FASTEPOST_OK ? "ok" : fastepost_error_name(st)));
  fastepost__buf_printf(b, ",\"http_status\":%d", http_status);
  if (answer) {
    fastepost__buf_puts(b, ",\"response\":{\"content_type\":");
    const char *ct = answer->content_type ? answer->content_type : "";
    fastepost__json_quote(b, ct, strlen(ct));
    text_or_null(b, "body", answer->body ? answer->body : "", answer->body ? answer->len : 0);
    fastepost__buf_putc(b, '}');
  }
  fastepost__buf_puts(b, ",\"events\":[");
  for (size_t i = 0; i < fastepost_event_batch_count(events); i++) {
    const fastepost_event_result *r = fastepost_event_batch_get(events, i);
    const char *outcome = fastepost_outcome_name(fastepost_event_result_outcome(r));
    const char *external_id = fastepost_event_batch_external_id(events, i);
    const char *err = fastepost_event_result_code(r) == FASTEPOST_OK ? "" : fastepost_event_result_error(r);
    fastepost__buf_printf(b, "%s{\"index\":%zu", i ? "," : "", i);
    id_or_null(b, "event_id", fastepost_event_result_event_id(r));
    text_or_null(b, "outcome", outcome, strlen(outcome));
    id_or_null(b, "customer_id", fastepost_event_result_customer_id(r));
    id_or_null(b, "remark_id", fastepost_event_result_remark_id(r));
    text_or_null(b, "external_id", external_id, strlen(external_id));
    text_or_null(b, "error", err, strlen(err));
    fastepost__buf_putc(b, '}');
  }
  fastepost__buf_putc(b, ']');
  text_or_null(b, "error", error ? error : "", error ? strlen(error) : 0);
  return fastepost__buf_putc(b, '}');
}

fastepost_status fastepost_webhook_response_json(char **out, const fastepost_webhook_response *resp,
                                                 unsigned flags) {
  if (!out || !resp)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_webhook_response_json: %s is NULL",
                                out ? "resp" : "out");
  *out = NULL;
  if (flags & ~(unsigned)FASTEPOST_WEBHOOK_JSON_RESPONSE)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_webhook_response_json: unknown flags 0x%x", flags);
  fastepost__buf b = FASTEPOST__BUF_INIT;
  result_json(&b, resp->status, resp->answer.http_status, resp->events, resp->error,
              flags & FASTEPOST_WEBHOOK_JSON_RESPONSE ? &resp->answer : NULL);
  if (b.oom) {
    fastepost__buf_free(&b);
    return fastepost__error_oom();
  }
  *out = fastepost__buf_detach(&b);
  return FASTEPOST_OK;
}

/* The generic answer: the JSON result, 202 for a spooled delivery. */
static int default_answer(fastepost_webhook_response *resp) {
  int http = resp->spooled ? 202 : fastepost_status_http(resp->status);
  fastepost__buf b = FASTEPOST__BUF_INIT;
  result_json(&b, resp->status, http, resp->events, resp->error, NULL);
  int rc = b.oom ? fastepost__error_oom()
                 : fastepost__response_set(&resp->answer, http, "application/json", b.data, b.len);
  fastepost__buf_free(&b);
  return rc;
}

/* ---- processing ------------------------------------------------------------------------------ */

/* Write the verified request to the spool (the database could not take it): every event says
 * so. why: the failure so far. Returns FASTEPOST_OK or the spool's failure (EFULL, EIO). */
static int spool_request(fastepost_webhook_response *resp, fastepost_event_batch *b, const fastepost__adapter *a,
                         const void *section, const fastepost_webhook_request *req, fastepost_spool *spool,
                         const char *why) {
  char event[128] = "";
  if (a->spool_event)
    a->spool_event(event, sizeof event, section, req);
  const char *ct = fastepost_webhook_request_has_header(req, "Content-Type")
                       ? fastepost_webhook_request_header(req, "Content-Type")
                       : NULL;
  int rc = fastepost_spool_put(NULL, spool, a->source, event, ct, fastepost_webhook_request_body(req),
                               fastepost_webhook_request_body_len(req));
  if (rc) {
    fastepost__error_prefix("the database is unreachable (%s) and spooling failed", why);
    return rc;
  }
  for (size_t i = 0; i < fastepost_event_batch_count(b); i++) {
    fastepost_event_result *r = fastepost__event_batch_result(b, i);
    free(r->error);
    r->error = NULL;
    r->code = FASTEPOST_OK;
    r->outcome = FASTEPOST_OUTCOME_SPOOLED;
    r->event_id = r->customer_id = r->remark_id = r->task_id = 0;
    fastepost__strlist_addf(&r->warnings, "spooled: %s", why);
  }
  resp->spooled = true;
  fastepost_error_clear();
  return FASTEPOST_OK;
}

/* fastepost__adapter_unreachable() over a batch's results. */
static bool unreachable(fastepost_event_batch *b, int rc) {
  size_t n = fastepost_event_batch_count(b);
  const fastepost_event_result **results = calloc(n ? n : 1, sizeof *results);
  if (!results)
    return false; /* out of memory: keep the failure as it is */
  for (size_t i = 0; i < n; i++)
    results[i] = fastepost_event_batch_get(b, i);
  bool yes = fastepost__adapter_unreachable(rc, results, n);
  free(results);
  return yes;
}

/* The failure of the first event that met a database unable to take it (error set). */
static int first_unreachable(const fastepost_event_batch *b) {
  for (size_t i = 0; i < fastepost_event_batch_count(b); i++) {
    const fastepost_event_result *r = fastepost_event_batch_get(b, i);
    int code = fastepost_event_result_code(r);
    if (fastepost__adapter_unreachable(code, NULL, 0)) /* the code alone */
      return fastepost__error_set(code, "%s", fastepost_event_result_error(r));
  }
  return fastepost__error_set(FASTEPOST_ECONN, "the database could not take the request");
}

/* Verify, parse and run a request of a known source; b receives its events. Returns the
 * status (error set). */
static int run(fastepost_webhook_response *resp, fastepost_event_batch **b, fastepost_conn *conn,
               const fastepost__adapter *a, const fastepost_webhook_request *req, const fastepost_webhook_config *cfg) {
  const void *section = fastepost__webhook_config_section(cfg, a);
  /* Fail closed, before anything is read: a refused request reaches neither the database nor
   * the spool, and is not logged (as Odoo's own call). */
  if (!section)
    return fastepost__error_set(FASTEPOST_ENOKEY,
                                "%s is not configured (no \"%s\" section): every request is refused", a->source,
                                a->source);
  if (!a->verify || (!a->parse && !a->parse_request))
    return fastepost__error_set(FASTEPOST_ENOKEY, "%s requests cannot be verified in this version: every request "
                                                  "is refused", a->source);
  int rc = a->verify(section, req);
  if (rc)
    return rc;
  const fastepost__clock *clock = fastepost__webhook_config_clock(cfg);
  int64_t now_us = fastepost__clock_now(clock);
  fastepost__records recs = {0};
  rc = a->parse_request ? a->parse_request(&recs, section, req, now_us)
                        : a->parse(&recs, section, fastepost_webhook_request_body(req),
                                   fastepost_webhook_request_body_len(req), now_us);
  if (rc) {
    fastepost__records_free(&recs);
    return rc;
  }
  fastepost_event_batch *full = NULL;
  if ((rc = fastepost__event_batch_new(&full, recs.count))) {
    fastepost__records_free(&recs);
    return rc;
  }
  fastepost_event_batch_free(*b);
  *b = full;
  for (size_t i = 0; i < recs.count && !rc; i++)
    rc = fastepost__event_batch_describe(full, i, recs.items[i].event_type, recs.items[i].external_id);
  /* Only a source whose adapter can replay is spooled: a spooled body must come back. */
  fastepost_spool *spool = a->replay ? fastepost__webhook_config_spool(cfg) : NULL;
  /* A request of one event that its adapter refused (unreadable, too big) is never spooled:
   * never put on disk what would be refused anyway (replay has no body limit). */
  const fastepost__sync_record *refused = recs.count == 1 && recs.items[0].failure ? &recs.items[0] : NULL;
  if (!rc && recs.count) {
    if (conn) {
      fastepost__sync_ctx ctx = {.now_us = now_us, .max_attempts = FASTEPOST_EVENTS_MAX_ATTEMPTS};
      rc = fastepost__adapter_run_batch(full, conn, recs.items, NULL, recs.count, &ctx);
      if (unreachable(full, rc) && !refused) {
        /* Nothing was written: spool the request, or say that the database could not take it
         * (503), so that the sender delivers again, rather than 200 for a batch of events that
         * were neither applied nor logged. */
        if (!rc)
          rc = first_unreachable(full);
        if (spool) {
          char why[256];
          snprintf(why, sizeof why, "%s", fastepost_error_last()->message);
          rc = spool_request(resp, full, a, section, req, spool, why);
        }
      }
      /* An event that failed without an event row is in no log and no retry queue: the request
       * is answered with its error, not 2xx, so that the sender delivers it again (the events
       * that were logged come back as duplicates). */
      if (!rc && !resp->spooled && recs.count > 1)
        rc = fastepost__event_batch_require_logged(full, "request");
      /* A request of one event answers with that event's status, as a source's own call does
       * (Odoo: 400 for a body it cannot read, 409 for a conflict); a batch answers 200 and
       * lists the events that failed. */
      const fastepost_event_result *only = fastepost_event_batch_get(full, 0);
      if (refused)
        rc = fastepost__error_set(refused->failure, "%s", refused->failure_message ? refused->failure_message : "");
      else if (!rc && !resp->spooled && recs.count == 1 && fastepost_event_result_code(only) != FASTEPOST_OK)
        rc = fastepost__error_set(fastepost_event_result_code(only), "%s", fastepost_event_result_error(only));
    } else if (refused) {
      rc = fastepost__error_set(refused->failure, "%s", refused->failure_message ? refused->failure_message : "");
      fastepost__result_fail(fastepost__event_batch_result(full, 0), rc);
    } else if (spool) {
      rc = spool_request(resp, full, a, section, req, spool, "no connection");
    } else {
      rc = fastepost__error_set(FASTEPOST_EINVALID, "fastepost_webhook_process: conn is NULL and no spool is set");
    }
  }
  fastepost__records_free(&recs);
  return rc;
}

fastepost_status fastepost_webhook_process(fastepost_webhook_response **out, fastepost_conn *conn, const char *source,
                                           const fastepost_webhook_request *req, const fastepost_webhook_config *cfg) {
  if (out)
    *out = NULL;
  fastepost_webhook_response *resp = calloc(1, sizeof *resp);
  if (!resp)
    return fastepost__error_oom();
  fastepost_event_batch *b = NULL;
  int rc = fastepost__event_batch_new(&b, 0);
  const fastepost__adapter *a = source ? fastepost__adapter_find(source) : NULL;
  fastepost_webhook_request *view = NULL;
  if (rc) {
    /* out of memory: answered below as ENOMEM */
  } else if (!req || !cfg || !source) {
    rc = fastepost__error_set(FASTEPOST_EINVALID, "fastepost_webhook_process: %s is NULL",
                              !source ? "source" : !req ? "req" : "cfg");
  } else if (!a) {
    char p[64];
    fastepost__preview(p, sizeof p, source, strlen(source));
    rc = fastepost__error_set(FASTEPOST_EINVALID, "unknown webhook source \"%s\"", p);
  } else if (!(rc = fastepost__webhook_request_view(&view, req, fastepost__webhook_config_clock(cfg)))) {
    /* The view carries the configuration's clock to verify() and parse_request(). */
    const void *section = fastepost__webhook_config_section(cfg, a);
    if (a->handshake && a->handshake(&resp->answer, section, view) == 1)
      resp->handshake = true;
    else
      rc = run(resp, &b, conn, a, view, cfg);
  }
  fastepost__webhook_request_view_free(view);
  resp->status = rc;
  if (b)
    fastepost__event_batch_finish(&resp->events, b, rc);
  resp->error = fastepost__strdup(!rc                                 ? ""
                                  : *fastepost_error_last()->message ? fastepost_error_last()->message
                                                                     : fastepost_strerror(rc));
  if (!resp->handshake) {
    int arc = a && a->respond ? a->respond(&resp->answer, fastepost__webhook_config_section(cfg, a), b, rc,
                                           resp->spooled)
                              : FASTEPOST_ERROR;
    if (arc || !resp->answer.content_type)
      arc = default_answer(resp);
    if (arc && !resp->answer.http_status) /* no memory for a body: the status still says it */
      resp->answer.http_status = resp->spooled ? 202 : fastepost_status_http(rc);
  }
  /* What respond() or the answer did to the thread's error is not the caller's concern. */
  if (rc)
    fastepost__error_set(rc, "%s", resp->error ? resp->error : fastepost_strerror(rc));
  else
    fastepost_error_clear();
  if (out)
    *out = resp;
  else
    fastepost_webhook_response_free(resp);
  return rc;
}
