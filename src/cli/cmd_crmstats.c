/* fastepost stats crm */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void json_key(FILE *f, const char *key, const char *value, bool comma) {
  fprintf(f, "%s\"%s\":", comma ? "," : "", key);
  cli_json_string(f, value);
}

static void print_json(const fastepost_crm_stats *s) {
  printf("{\"generated_at\":");
  cli_json_string(stdout, fastepost_crm_stats_generated_at(s));
  printf(",\"sources\":[");
  for (size_t i = 0; i < fastepost_crm_stats_source_count(s); i++) {
    const fastepost_crm_source_stats *src = fastepost_crm_stats_source(s, i);
    printf("%s{", i ? "," : "");
    json_key(stdout, "source", src->source, false);
    printf(",\"total_events\":%lld,\"events_24h\":%lld,\"success_events\":%lld,"
           "\"error_events\":%lld,\"dead_events\":%lld,\"pending_events\":%lld,\"success_rate\":",
           (long long)src->total_events, (long long)src->events_24h,
           (long long)src->success_events, (long long)src->error_events,
           (long long)src->dead_events, (long long)src->pending_events);
    if (src->has_success_rate)
      printf("%.1f", src->success_rate);
    else
      printf("null");
    json_key(stdout, "badge", src->badge, true);
    json_key(stdout, "last_event_at", src->last_event_at, true);
    json_key(stdout, "last_event_type", src->last_event_type, true);
    printf("}");
  }
  const fastepost_crm_sync_stats *sync = fastepost_crm_stats_sync(s);
  printf("],\"customer_sync\":{\"total_customers\":%lld,\"crm_synced_customers\":%lld,"
         "\"pending_tasks\":%lld",
         (long long)sync->total_customers, (long long)sync->synced_customers,
         (long long)sync->pending_tasks);
  json_key(stdout, "last_sync_at", sync->last_sync_at, true);
  printf("},\"recent_events\":[");
  for (size_t i = 0; i < fastepost_crm_stats_recent_count(s); i++) {
    const fastepost_crm_recent_event *e = fastepost_crm_stats_recent(s, i);
    printf("%s{\"id\":%lld", i ? "," : "", (long long)e->id);
    json_key(stdout, "source", e->source, true);
    json_key(stdout, "type", e->event_type, true);
    json_key(stdout, "status", e->status, true);
    json_key(stdout, "outcome", e->outcome, true);
    json_key(stdout, "error", e->error, true);
    json_key(stdout, "time", e->created_at, true);
    json_key(stdout, "time_ago", e->time_ago, true);
    printf("}");
  }
  const fastepost_crm_setup *u = fastepost_crm_stats_setup(s);
  printf("],\"setup\":{");
  json_key(stdout, "odoo_webhook_url", u->odoo_webhook_url, false);
  json_key(stdout, "odoo_webhook_url_with_key", u->odoo_webhook_url_with_key, true);
  json_key(stdout, "odoo_api_key_header", u->odoo_api_key_header, true);
  json_key(stdout, "odoo_api_key_param", u->odoo_api_key_param, true);
  json_key(stdout, "hubspot_webhook_url", u->hubspot_webhook_url, true);
  json_key(stdout, "hubspot_signature_header", u->hubspot_signature_header, true);
  json_key(stdout, "hubspot_timestamp_header", u->hubspot_timestamp_header, true);
  printf("}}\n");
}

/* "3 minutes ago" for a time, or "-". */
static void ago(char *out, size_t size, int64_t then_ms, const fastepost_crm_stats *s) {
  char *text = NULL;
  if (fastepost_time_ago(&text, then_ms, fastepost_crm_stats_now_ms(s)) == FASTEPOST_OK)
    snprintf(out, size, "%s", text);
  else
    snprintf(out, size, "-");
  fastepost_free(text);
}

static void print_text(const fastepost_crm_stats *s) {
  printf("CRM statistics at %s\n\n", fastepost_crm_stats_generated_at(s));
  printf("%-10s %12s %10s %13s  %-7s %s\n", "source", "events", "last 24 h", "success rate",
         "badge", "last event");
  for (size_t i = 0; i < fastepost_crm_stats_source_count(s); i++) {
    const fastepost_crm_source_stats *src = fastepost_crm_stats_source(s, i);
    char rate[32] = "-", when[64] = "";
    if (src->has_success_rate)
      snprintf(rate, sizeof rate, "%.1f %%", src->success_rate);
    if (src->last_event_at)
      ago(when, sizeof when, src->last_event_at_ms, s);
    printf("%-10s %12lld %10lld %13s  %-7s %s%s%s%s\n", src->source, (long long)src->total_events,
           (long long)src->events_24h, rate, src->badge,
           src->last_event_type ? src->last_event_type : "-", *when ? " (" : "", when,
           *when ? ")" : "");
  }
  const fastepost_crm_sync_stats *sync = fastepost_crm_stats_sync(s);
  char when[64] = "never";
  if (sync->last_sync_at) {
    char a[48];
    ago(a, sizeof a, sync->last_sync_at_ms, s);
    snprintf(when, sizeof when, "%s", a);
  }
  printf("\nCustomer sync\n"
         "  customers:           %lld\n"
         "  linked to a CRM:     %lld\n"
         "  pending tasks:       %lld\n"
         "  last sync:           %s%s%s%s\n",
         (long long)sync->total_customers, (long long)sync->synced_customers,
         (long long)sync->pending_tasks, when, sync->last_sync_at ? " (" : "",
         sync->last_sync_at ? sync->last_sync_at : "", sync->last_sync_at ? ")" : "");
  printf("\nRecent events (newest first)\n");
  if (fastepost_crm_stats_recent_count(s) == 0)
    printf("  none yet\n");
  for (size_t i = 0; i < fastepost_crm_stats_recent_count(s); i++) {
    const fastepost_crm_recent_event *e = fastepost_crm_stats_recent(s, i);
    printf("  #%-8lld %-10s %-24s %-8s %-10s %s%s%.60s\n", (long long)e->id, e->source,
           e->event_type, e->status, e->outcome ? e->outcome : "-", e->time_ago,
           e->error ? "  error: " : "", e->error ? e->error : "");
  }
  const fastepost_crm_setup *u = fastepost_crm_stats_setup(s);
  printf("\nWebhook set-up\n"
         "  Odoo:     POST %s\n"
         "            with the header %s: <key>, or for Odoo's own webhooks\n"
         "            POST %s\n"
         "  HubSpot:  POST %s\n"
         "            signed with %s and %s\n",
         u->odoo_webhook_url, u->odoo_api_key_header, u->odoo_webhook_url_with_key,
         u->hubspot_webhook_url, u->hubspot_signature_header, u->hubspot_timestamp_header);
}

static int stats_crm(cli_ctx *ctx, int argc, char **argv) {
  const char *base_url = NULL, *now = NULL;
  bool rebuild = false;
  const cli_option opts[] = {{"base-url", CLI_STRING, &base_url},
                             {"now", CLI_STRING, &now},
                             {"rebuild", CLI_FLAG, &rebuild},
                             {NULL, CLI_FLAG, NULL}};
  int rc = cli_parse(ctx, argc, argv, opts, NULL, 0, NULL);
  if (rc || ctx->help)
    return rc;
  long long now_ms = -1;
  if (now) {
    char *end;
    errno = 0;
    now_ms = strtoll(now, &end, 10);
    if (errno || end == now || *end || now_ms < 0)
      return cli_usage_error(ctx, "--now needs milliseconds since the epoch, not '%s'", now);
  }
  if ((rc = cli_connect(ctx)))
    return rc;
  if (rebuild && fastepost_crm_stats_rebuild(ctx->conn) != FASTEPOST_OK)
    return cli_fail(ctx, "stats crm --rebuild");
  fastepost_crm_stats *s = NULL;
  if (fastepost_crm_stats_collect_at(&s, ctx->conn, base_url, now_ms) != FASTEPOST_OK)
    return cli_fail(ctx, "stats crm");
  if (ctx->json)
    print_json(s);
  else
    print_text(s);
  fastepost_crm_stats_free(s);
  return CLI_OK;
}

const cli_command cli_crmstats_commands[] = {
    {"stats", "crm", stats_crm, "CRM dashboard figures: events, success rates, customer sync",
     "Usage: fastepost stats crm [--base-url URL] [--now MS] [--rebuild] [--db CONNINFO] [--json]\n"
     "\n"
     "Print what the admin CRM dashboard shows: per CRM source (always hubspot and odoo) the\n"
     "total events, the events of the last 24 hours, the success rate\n"
     "(success / (success + error + dead), one decimal) with its badge (green above 80 %,\n"
     "yellow at 80 % or below, none without finished events) and the last event; the customer\n"
     "sync figures; the 20 newest events; the webhook URLs and headers to configure in the\n"
     "CRMs. The figures come from counters kept by the schema's triggers: a few milliseconds\n"
     "even with millions of events.\n"
     "\n"
     "Options:\n"
     "  --base-url URL  the application's public URL for the webhook set-up details\n"
     "                  (e.g. https://app.example.com); without it, paths only\n"
     "  --now MS        compute the 24-hour window and \"time ago\" for this moment\n"
     "                  (milliseconds since the epoch) instead of the server's clock\n"
     "  --rebuild       recount the counters from the tables first (only needed after\n"
     "                  writes with triggers disabled)\n"
     "  --json          one JSON object: generated_at, sources[], customer_sync{},\n"
     "                  recent_events[], setup{}\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
