/* SPDX-License-Identifier: MIT */
/* The JSON of event results (event_json.h). */
#include "event_json.h"

static void id_or_null(const char *name, int64_t id) {
  if (id)
    printf(",\"%s\":%lld", name, (long long)id);
  else
    printf(",\"%s\":null", name);
}

void cli_event_result_fields(const fastepost_event_result *r, fastepost_status st) {
  const char *outcome = fastepost_outcome_name(fastepost_event_result_outcome(r));
  printf("\"status\":");
  cli_json_string(stdout, st == FASTEPOST_OK ? "ok" : fastepost_error_name(st));
  printf(",\"code\":%d,\"http_status\":%d,\"outcome\":", st, fastepost_event_result_http(r, st));
  cli_json_string(stdout, *outcome ? outcome : NULL);
  id_or_null("event_id", fastepost_event_result_event_id(r));
  id_or_null("customer_id", fastepost_event_result_customer_id(r));
  id_or_null("remark_id", fastepost_event_result_remark_id(r));
  id_or_null("task_id", fastepost_event_result_task_id(r));
  printf(",\"warnings\":[");
  for (size_t i = 0; i < fastepost_event_result_warning_count(r); i++) {
    if (i)
      putchar(',');
    cli_json_string(stdout, fastepost_event_result_warning(r, i));
  }
  const char *error = fastepost_event_result_error(r);
  printf("],\"error\":");
  cli_json_string(stdout, st == FASTEPOST_OK || !error || !*error ? NULL : error);
}

void cli_event_batch_json(const fastepost_event_batch *b, fastepost_status st, const char *error) {
  size_t n = fastepost_event_batch_count(b);
  printf("{\"status\":");
  cli_json_string(stdout, st == FASTEPOST_OK ? "ok" : fastepost_error_name(st));
  printf(",\"code\":%d,\"http_status\":%d,\"count\":%zu,\"failed\":%zu,\"error\":", st, fastepost_status_http(st), n,
         fastepost_event_batch_failed(b));
  cli_json_string(stdout, st == FASTEPOST_OK ? NULL : error);
  printf(",\"events\":[");
  for (size_t i = 0; i < n; i++) {
    const fastepost_event_result *r = fastepost_event_batch_get(b, i);
    const char *type = fastepost_event_batch_event_type(b, i);
    printf("%s{\"index\":%zu,\"event_type\":", i ? "," : "", i);
    cli_json_string(stdout, *type ? type : NULL);
    printf(",\"object_id\":");
    if (fastepost_event_batch_object_id(b, i))
      printf("%lld", (long long)fastepost_event_batch_object_id(b, i));
    else
      printf("null");
    putchar(',');
    cli_event_result_fields(r, fastepost_event_result_code(r));
    putchar('}');
  }
  printf("]}\n");
}
