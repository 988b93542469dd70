/* SPDX-License-Identifier: MIT */
/*
 * The result of one delivery (struct fastepost_event_result, declared in sync.h), shared by
 * every source: the public getters of events.h, fastepost_outcome_name() and
 * fastepost_status_http(), and the core's helpers that fill it. (fastepost_event_result_http(),
 * declared in spool.h, lives in spool.c: it adds the spool's 202.)
 */
#include <stdlib.h>

#include "sync.h"

fastepost_event_result *fastepost__result_new(void) {
  fastepost_event_result *r = calloc(1, sizeof *r);
  if (!r)
    fastepost__error_oom();
  return r;
}

int fastepost__result_fail(fastepost_event_result *res, int code) {
  const fastepost_error *e = fastepost_error_last();
  res->code = code;
  free(res->error);
  res->error = fastepost__strdup(*e->message ? e->message : fastepost_strerror(code));
  return code;
}

const char *fastepost_outcome_name(fastepost_outcome outcome) {
  static const char *const names[] = {"", "created", "updated", "unchanged", "stale",
                                      "ignored", "conflict", "duplicate", "spooled"};
  return (unsigned)outcome < sizeof names / sizeof names[0] ? names[outcome] : "";
}

int fastepost_status_http(fastepost_status status) {
  switch (status) {
  case FASTEPOST_OK: return 200;
  case FASTEPOST_EPARSE:
  case FASTEPOST_EINVALID: return 400;
  case FASTEPOST_EAUTH:
  case FASTEPOST_ENOKEY: return 401;
  case FASTEPOST_ECONFLICT: return 409;
  case FASTEPOST_ETOOBIG: return 413;
  case FASTEPOST_ECONN:
  case FASTEPOST_EBUSY:
  case FASTEPOST_ETIMEOUT:
  case FASTEPOST_EFULL:
  case FASTEPOST_EREADONLY: return 503;
  default: return 500;
  }
}

void fastepost_event_result_free(fastepost_event_result *r) {
  if (!r)
    return;
  free(r->error);
  fastepost__strlist_free(&r->warnings);
  free(r);
}

fastepost_status fastepost_event_result_code(const fastepost_event_result *r) {
  return r ? r->code : FASTEPOST_EINVALID;
}
fastepost_outcome fastepost_event_result_outcome(const fastepost_event_result *r) {
  return r ? r->outcome : FASTEPOST_OUTCOME_NONE;
}
int64_t fastepost_event_result_event_id(const fastepost_event_result *r) { return r ? r->event_id : 0; }
int64_t fastepost_event_result_customer_id(const fastepost_event_result *r) { return r ? r->customer_id : 0; }
int64_t fastepost_event_result_remark_id(const fastepost_event_result *r) { return r ? r->remark_id : 0; }
int64_t fastepost_event_result_task_id(const fastepost_event_result *r) { return r ? r->task_id : 0; }
size_t fastepost_event_result_warning_count(const fastepost_event_result *r) {
  return r ? r->warnings.count : 0;
}
const char *fastepost_event_result_warning(const fastepost_event_result *r, size_t i) {
  return r && i < r->warnings.count ? r->warnings.items[i] : NULL;
}
const char *fastepost_event_result_error(const fastepost_event_result *r) {
  return r && r->error ? r->error : "";
}
