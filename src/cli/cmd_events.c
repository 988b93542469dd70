/* SPDX-License-Identifier: MIT */
/* fastepost events list | retry */
#include <string.h>

#include "cli.h"

static int events_list(cli_ctx *ctx, int argc, char **argv) {
  const char *source = NULL, *status = NULL;
  cli_number limit = {1, 100000, 20, NULL};
  const cli_option opts[] = {{"source", CLI_STRING, &source},
                             {"status", CLI_STRING, &status},
                             {"limit", CLI_NUMBER, &limit},
                             {NULL, CLI_FLAG, NULL}};
  int rc = cli_start(ctx, argc, argv, opts);
  if (rc || ctx->help)
    return rc;
  fastepost_event_list *list = NULL;
  if (fastepost_events_list(&list, ctx->conn, source, status, (size_t)limit.value) != FASTEPOST_OK)
    return cli_fail(ctx, "events list");
  size_t n = fastepost_event_list_count(list);
  if (ctx->json) {
    putchar('[');
    for (size_t i = 0; i < n; i++) {
      const fastepost_event *e = fastepost_event_list_get(list, i);
      printf("%s{\"id\":%lld", i ? "," : "", (long long)e->id);
      cli_json_member(stdout, "source", e->source);
      cli_json_member(stdout, "event_type", e->event_type);
      cli_json_member(stdout, "status", e->status);
      cli_json_member(stdout, "outcome", *e->outcome ? e->outcome : NULL);
      cli_json_member(stdout, "external_id", *e->external_id ? e->external_id : NULL);
      printf(",\"customer_id\":");
      if (e->customer_id)
        printf("%lld", (long long)e->customer_id);
      else
        printf("null");
      printf(",\"attempts\":%llu,\"error\":", (unsigned long long)e->attempts);
      cli_json_string(stdout, *e->error_message ? e->error_message : NULL);
      printf(",\"created_at_us\":%lld,\"processed_at_us\":", (long long)e->created_at_us);
      e->processed_at_us ? printf("%lld", (long long)e->processed_at_us) : printf("null");
      printf(",\"next_attempt_at_us\":");
      e->next_attempt_at_us ? printf("%lld", (long long)e->next_attempt_at_us) : printf("null");
      putchar('}');
    }
    printf("]\n");
  } else {
    printf("%-6s %-8s %-20s %-8s %-10s %-18s %-8s %s\n", "ID", "SOURCE", "TYPE", "STATUS", "OUTCOME",
           "EXTERNAL ID", "CUSTOMER", "ERROR");
    for (size_t i = 0; i < n; i++) {
      const fastepost_event *e = fastepost_event_list_get(list, i);
      char customer[24] = "-";
      if (e->customer_id)
        snprintf(customer, sizeof customer, "%lld", (long long)e->customer_id);
      printf("%-6lld %-8s %-20s %-8s %-10s %-18s %-8s %.60s\n", (long long)e->id, e->source,
             e->event_type, e->status, *e->outcome ? e->outcome : "-",
             *e->external_id ? e->external_id : "-", customer, e->error_message);
    }
    if (!ctx->quiet)
      printf("(%zu event%s)\n", n, n == 1 ? "" : "s");
  }
  fastepost_event_list_free(list);
  return CLI_OK;
}

static int events_retry(cli_ctx *ctx, int argc, char **argv) {
  cli_number limit = {1, 1000000, 100, NULL};
  const char *config_file = NULL;
  const cli_option opts[] = {
      {"limit", CLI_NUMBER, &limit}, {"config", CLI_STRING, &config_file}, {NULL, CLI_FLAG, NULL}};
  int rc = cli_start(ctx, argc, argv, opts);
  if (rc || ctx->help)
    return rc;
  fastepost_webhook_config *cfg = NULL;
  if ((rc = cli_webhook_config(ctx, &cfg, config_file)))
    return rc;
  fastepost_retry_options *o = NULL;
  fastepost_retry_report *r = NULL;
  if (fastepost_retry_options_new(&o) != FASTEPOST_OK || fastepost_retry_options_set_limit(o, (size_t)limit.value) ||
      fastepost_retry_options_set_webhook_config(o, cfg) ||
      fastepost_events_retry(&r, ctx->conn, o) != FASTEPOST_OK) {
    fastepost_retry_options_free(o);
    fastepost_retry_report_free(r);
    fastepost_webhook_config_free(cfg);
    return cli_fail(ctx, "events retry");
  }
  fastepost_retry_options_free(o);
  fastepost_webhook_config_free(cfg);
  size_t attempted = fastepost_retry_report_attempted(r), succeeded = fastepost_retry_report_succeeded(r),
         failed = fastepost_retry_report_failed(r), dead = fastepost_retry_report_dead(r);
  fastepost_retry_report_free(r);
  if (ctx->json)
    printf("{\"status\":\"ok\",\"attempted\":%zu,\"succeeded\":%zu,\"failed\":%zu,\"dead\":%zu}\n", attempted,
           succeeded, failed, dead);
  else
    printf("Retried %zu due event%s: %zu succeeded, %zu failed again, %zu now dead.\n", attempted,
           attempted == 1 ? "" : "s", succeeded, failed, dead);
  return CLI_OK;
}

const cli_command cli_events_commands[] = {
    {"events", "list", events_list, "List integration events, newest first",
     "Usage: fastepost events list [--source S] [--status S] [--limit N] [--db CONNINFO] [--json]\n"
     "\n"
     "List rows of integration_events, newest first.\n"
     "\n"
     "Options:\n"
     "  --source S   only this source (odoo, hubspot ...)\n"
     "  --status S   only this status: pending, success, error or dead\n"
     "  --limit N    at most N rows (default 20)\n"},
    {"events", "retry", events_retry, "Process due failed events again",
     "Usage: fastepost events retry [--limit N] [--config FILE] [--db CONNINFO] [--json]\n"
     "\n"
     "Process again, from their stored payload, the events that failed for a transient reason\n"
     "(connection lost, serialization failure, deadlock) and whose next_attempt_at has come.\n"
     "A failure is rescheduled with exponential backoff and jitter; after 5 attempts the event\n"
     "becomes dead. Run it from cron or a job scheduler.\n"
     "\n"
     "Options:\n"
     "  --limit N    at most N events (default 100)\n"
     "  --config FILE  the webhook configuration the events came in with (docs/webhooks.md):\n"
     "               each payload is read with its source's section (Odoo's barcode fields ...)\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
