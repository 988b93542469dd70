/* fastepost events list | retry */
#include <string.h>

#include "cli.h"

static int events_list(cli_ctx *ctx, int argc, char **argv) {
  const char *source = NULL, *status = NULL, *limit_s = NULL;
  const cli_option opts[] = {{"source", CLI_STRING, &source},
                             {"status", CLI_STRING, &status},
                             {"limit", CLI_STRING, &limit_s},
                             {NULL, CLI_FLAG, NULL}};
  int rc = cli_parse(ctx, argc, argv, opts, NULL, 0, NULL);
  if (rc || ctx->help)
    return rc;
  long limit = 20;
  if (limit_s && (rc = cli_int(ctx, "limit", limit_s, 1, 100000, &limit)))
    return rc;
  if ((rc = cli_connect(ctx)))
    return rc;
  fastepost_event_list *list = NULL;
  if (fastepost_events_list(&list, ctx->conn, source, status, (int)limit) != FASTEPOST_OK)
    return cli_fail(ctx, "events list");
  size_t n = fastepost_event_list_count(list);
  if (ctx->json) {
    putchar('[');
    for (size_t i = 0; i < n; i++) {
      const fastepost_event *e = fastepost_event_list_get(list, i);
      printf("%s{\"id\":%lld,\"source\":", i ? "," : "", (long long)e->id);
      cli_json_string(stdout, e->source);
      printf(",\"event_type\":");
      cli_json_string(stdout, e->event_type);
      printf(",\"status\":");
      cli_json_string(stdout, e->status);
      printf(",\"outcome\":");
      cli_json_string(stdout, *e->outcome ? e->outcome : NULL);
      printf(",\"external_id\":");
      cli_json_string(stdout, *e->external_id ? e->external_id : NULL);
      printf(",\"customer_id\":");
      if (e->customer_id)
        printf("%lld", (long long)e->customer_id);
      else
        printf("null");
      printf(",\"attempts\":%d,\"error\":", e->attempts);
      cli_json_string(stdout, *e->error_message ? e->error_message : NULL);
      printf(",\"created_at\":");
      cli_json_string(stdout, e->created_at);
      printf(",\"next_attempt_at\":");
      cli_json_string(stdout, *e->next_attempt_at ? e->next_attempt_at : NULL);
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
  const char *limit_s = NULL;
  const cli_option opts[] = {{"limit", CLI_STRING, &limit_s}, {NULL, CLI_FLAG, NULL}};
  int rc = cli_parse(ctx, argc, argv, opts, NULL, 0, NULL);
  if (rc || ctx->help)
    return rc;
  long limit = 100;
  if (limit_s && (rc = cli_int(ctx, "limit", limit_s, 1, 1000000, &limit)))
    return rc;
  if ((rc = cli_connect(ctx)))
    return rc;
  fastepost_retry_report r;
  if (fastepost_events_retry(ctx->conn, (int)limit, &r) != FASTEPOST_OK)
    return cli_fail(ctx, "events retry");
  if (ctx->json)
    printf("{\"status\":\"ok\",\"attempted\":%d,\"succeeded\":%d,\"failed\":%d,\"dead\":%d}\n",
           r.attempted, r.succeeded, r.failed, r.dead);
  else
    printf("Retried %d due event%s: %d succeeded, %d failed again, %d now dead.\n", r.attempted,
           r.attempted == 1 ? "" : "s", r.succeeded, r.failed, r.dead);
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
     "Usage: fastepost events retry [--limit N] [--db CONNINFO] [--json]\n"
     "\n"
     "Process again, from their stored payload, the events that failed for a transient reason\n"
     "(connection lost, serialization failure, deadlock) and whose next_attempt_at has come.\n"
     "A failure is rescheduled with exponential backoff and jitter; after 5 attempts the event\n"
     "becomes dead. Run it from cron or a job scheduler.\n"
     "\n"
     "Options:\n"
     "  --limit N    at most N events (default 100)\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
