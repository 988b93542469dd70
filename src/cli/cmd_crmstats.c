/* SPDX-License-Identifier: MIT */
/* fastepost stats crm */
#include <stdlib.h>
#include <string.h>

#include "stats_common.h"

/*
 * One JSON object, the same keys and types as the bindings' to_dict() / to_h (docs/crm-stats.md):
 * counts as numbers, every time as "<key>" (ISO 8601 UTC text) and "<key>_us" (µs), both null
 * when there is none.
 */
static void print_json(const fastepost_crm_stats *s) {
  int64_t now = fastepost_crm_stats_now_us(s);
  printf("{\"sources\":[");
  for (size_t i = 0; i < fastepost_crm_stats_source_count(s); i++) {
    const fastepost_crm_source_stats *src = fastepost_crm_stats_source(s, i);
    printf("%s{", i ? "," : "");
    cli_stats_json_str("source", src->source, true);
    printf(",\"total_events\":%llu,\"events_24h\":%llu,\"success_events\":%llu,"
           "\"error_events\":%llu,\"dead_events\":%llu,\"pending_events\":%llu,\"success_rate\":",
           (unsigned long long)src->total_events, (unsigned long long)src->events_24h,
           (unsigned long long)src->success_events, (unsigned long long)src->error_events,
           (unsigned long long)src->dead_events, (unsigned long long)src->pending_events);
    if (src->has_success_rate)
      printf("%u.%u", (unsigned)(src->success_rate_tenths / 10), (unsigned)(src->success_rate_tenths % 10));
    else
      printf("null");
    cli_stats_json_str("health", fastepost_crm_stats_health_name(src->health), false);
    cli_stats_json_str("badge", fastepost_report_badge_colour(src->health), false);
    cli_stats_json_time("last_event_at", src->last_event_at_us);
    cli_stats_json_str("last_event_type", src->last_event_type, false);
    printf(",\"configured\":%s", src->configured ? "true" : "false");
    cli_stats_json_str("title", fastepost_report_source_title(src->source), false);
    cli_stats_json_str("webhook_url", src->webhook_url, false);
    cli_stats_json_str("instructions", fastepost_report_source_instructions(src->source), false);
    printf("}");
  }
  const fastepost_crm_sync_stats *sync = fastepost_crm_stats_sync(s);
  printf("],\"sync\":{\"total_customers\":%llu,\"synced_customers\":%llu,\"pending_tasks\":%llu",
         (unsigned long long)sync->total_customers, (unsigned long long)sync->synced_customers,
         (unsigned long long)sync->pending_tasks);
  cli_stats_json_time("last_sync_at", sync->last_sync_at_us);
  printf("},\"recent\":[");
  for (size_t i = 0; i < fastepost_crm_stats_recent_count(s); i++) {
    const fastepost_crm_recent_event *e = fastepost_crm_stats_recent(s, i);
    char ago[64];
    cli_stats_ago_text(ago, sizeof ago, e->created_at_us, now);
    printf("%s{\"id\":%lld", i ? "," : "", (long long)e->id);
    cli_stats_json_str("source", e->source, false);
    cli_stats_json_str("event_type", e->event_type, false);
    cli_stats_json_str("status", e->status, false);
    cli_stats_json_str("outcome", e->outcome, false);
    cli_stats_json_str("error", e->error, false);
    cli_stats_json_time("created_at", e->created_at_us);
    cli_stats_json_str("time_ago", ago, false);
    printf("}");
  }
  const fastepost_crm_setup *u = fastepost_crm_stats_setup(s);
  printf("],\"setup\":{");
  cli_stats_json_str("odoo_webhook_url", u->odoo_webhook_url, true);
  cli_stats_json_str("odoo_webhook_url_with_key", u->odoo_webhook_url_with_key, false);
  cli_stats_json_str("odoo_api_key_header", u->odoo_api_key_header, false);
  cli_stats_json_str("odoo_api_key_param", u->odoo_api_key_param, false);
  cli_stats_json_str("hubspot_webhook_url", u->hubspot_webhook_url, false);
  cli_stats_json_str("hubspot_signature_header", u->hubspot_signature_header, false);
  cli_stats_json_str("hubspot_timestamp_header", u->hubspot_timestamp_header, false);
  printf("}");
  cli_stats_json_time("generated_at", now);
  printf("}\n");
}

static void print_text(const fastepost_crm_stats *s) {
  int64_t now = fastepost_crm_stats_now_us(s);
  char when[64], ago[64];
  cli_stats_time_text(when, sizeof when, now);
  printf("CRM statistics at %s\n\n", when);
  printf("%-10s %12s %10s %13s  %-7s %s\n", "source", "events", "last 24 h", "success rate",
         "badge", "last event");
  for (size_t i = 0; i < fastepost_crm_stats_source_count(s); i++) {
    const fastepost_crm_source_stats *src = fastepost_crm_stats_source(s, i);
    char rate[32] = "-";
    if (src->has_success_rate)
      snprintf(rate, sizeof rate, "%u.%u %%", (unsigned)(src->success_rate_tenths / 10),
               (unsigned)(src->success_rate_tenths % 10));
    cli_stats_ago_text(ago, sizeof ago, src->last_event_at_us, now);
    printf("%-10s %12llu %10llu %13s  %-7s %s%s%s%s\n", src->source,
           (unsigned long long)src->total_events, (unsigned long long)src->events_24h, rate,
           fastepost_report_badge_colour(src->health), src->last_event_type ? src->last_event_type : "-",
           src->last_event_at_us ? " (" : "", src->last_event_at_us ? ago : "",
           src->last_event_at_us ? ")" : "");
  }
  const fastepost_crm_sync_stats *sync = fastepost_crm_stats_sync(s);
  cli_stats_ago_text(ago, sizeof ago, sync->last_sync_at_us, now);
  cli_stats_time_text(when, sizeof when, sync->last_sync_at_us);
  printf("\nCustomer sync\n"
         "  customers:           %llu\n"
         "  linked to a CRM:     %llu\n"
         "  pending tasks:       %llu\n"
         "  last sync:           %s%s%s%s\n",
         (unsigned long long)sync->total_customers, (unsigned long long)sync->synced_customers,
         (unsigned long long)sync->pending_tasks, sync->last_sync_at_us ? ago : "never",
         sync->last_sync_at_us ? " (" : "", sync->last_sync_at_us ? when : "",
         sync->last_sync_at_us ? ")" : "");
  printf("\nRecent events (newest first)\n");
  if (fastepost_crm_stats_recent_count(s) == 0)
    printf("  none yet\n");
  for (size_t i = 0; i < fastepost_crm_stats_recent_count(s); i++) {
    const fastepost_crm_recent_event *e = fastepost_crm_stats_recent(s, i);
    cli_stats_ago_text(ago, sizeof ago, e->created_at_us, now);
    printf("  #%-8lld %-10s %-24s %-8s %-10s %s%s%.60s\n", (long long)e->id, e->source,
           e->event_type, e->status, e->outcome ? e->outcome : "-", ago,
           e->error ? "  error: " : "", e->error ? e->error : "");
  }
  printf("\nWebhook set-up\n");
  for (size_t i = 0; i < fastepost_crm_stats_source_count(s); i++) {
    const fastepost_crm_source_stats *src = fastepost_crm_stats_source(s, i);
    if (*src->webhook_url)
      printf("  %-11s POST %s%s\n", fastepost_report_source_title(src->source), src->webhook_url,
             src->configured ? "" : "  (not configured)");
  }
  const fastepost_crm_setup *u = fastepost_crm_stats_setup(s);
  printf("\nOdoo and HubSpot details\n"
         "  Odoo:     POST %s\n"
         "            with the header %s: <key>, or for Odoo's own webhooks\n"
         "            POST %s\n"
         "  HubSpot:  POST %s\n"
         "            signed with %s and %s\n",
         u->odoo_webhook_url, u->odoo_api_key_header, u->odoo_webhook_url_with_key,
         u->hubspot_webhook_url, u->hubspot_signature_header, u->hubspot_timestamp_header);
}

/* --format prometheus: the exposition text of fastepost_report_prometheus(), with the spool's
 * depth when --spool (or FASTEPOST_SPOOL_DIR) names one. */
static int print_prometheus(cli_ctx *ctx, const fastepost_crm_stats *s, const char *spool_dir) {
  if (!spool_dir || !*spool_dir)
    spool_dir = getenv("FASTEPOST_SPOOL_DIR");
  fastepost_spool *spool = NULL;
  if (spool_dir && *spool_dir && fastepost_spool_open(&spool, spool_dir) != FASTEPOST_OK)
    return cli_fail(ctx, "stats crm --spool");
  char *text = NULL;
  int rc = fastepost_report_prometheus(&text, s, spool) == FASTEPOST_OK ? CLI_OK : cli_fail(ctx, "stats crm");
  if (rc == CLI_OK)
    fputs(text, stdout);
  fastepost_free(text);
  fastepost_spool_free(spool);
  return rc;
}

static int stats_crm(cli_ctx *ctx, int argc, char **argv) {
  const char *base_url = NULL, *now = NULL, *odoo_path = NULL, *hubspot_path = NULL;
  bool rebuild = false;
  const char *format = NULL, *spool_dir = NULL;
  cli_list sources = {0};
  const cli_option opts[] = {{"base-url", CLI_STRING, &base_url},
                             {"source", CLI_LIST, &sources},
                             {"odoo-path", CLI_STRING, &odoo_path},
                             {"hubspot-path", CLI_STRING, &hubspot_path},
                             {"now", CLI_STRING, &now},
                             {"rebuild", CLI_FLAG, &rebuild},
                             {"format", CLI_STRING, &format},
                             {"spool", CLI_STRING, &spool_dir},
                             {NULL, CLI_FLAG, NULL}};
  int rc = cli_parse(ctx, argc, argv, opts, NULL, 0, NULL);
  if (rc || ctx->help)
    return rc;
  bool prometheus = format && strcmp(format, "prometheus") == 0;
  if (format && !prometheus && strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
    return cli_usage_error(ctx, "--format must be text, json or prometheus, not '%s'", format);
  if (format && strcmp(format, "json") == 0)
    ctx->json = true;
  if (spool_dir && !prometheus)
    return cli_usage_error(ctx, "--spool goes with --format prometheus (the spool's depth)");
  int64_t now_us = 0;
  if (now && (rc = cli_stats_parse_now(ctx, now, &now_us)))
    return rc;
  fastepost_crm_stats_options *o = NULL;
  if (fastepost_crm_stats_options_new(&o) != FASTEPOST_OK ||
      fastepost_crm_stats_options_set_base_url(o, base_url) != FASTEPOST_OK ||
      fastepost_crm_stats_options_set_path(o, "odoo", odoo_path) != FASTEPOST_OK ||
      fastepost_crm_stats_options_set_path(o, "hubspot", hubspot_path) != FASTEPOST_OK ||
      (now && fastepost_crm_stats_options_set_clock(o, cli_stats_fixed_clock, &now_us) != FASTEPOST_OK)) {
    fastepost_crm_stats_options_free(o);
    return cli_fail(ctx, "stats crm");
  }
  for (int i = 0; i < sources.count; i++)
    if (fastepost_crm_stats_options_add_source(o, sources.items[i]) != FASTEPOST_OK) {
      fastepost_crm_stats_options_free(o);
      return cli_usage_error(ctx, "--source: %s", fastepost_error_last()->message);
    }
  fastepost_crm_stats *s = NULL;
  if ((rc = cli_connect(ctx)) == CLI_OK) {
    if (rebuild && fastepost_crm_stats_rebuild(ctx->conn) != FASTEPOST_OK)
      rc = cli_fail(ctx, "stats crm --rebuild");
    else if (fastepost_crm_stats_collect(&s, ctx->conn, o) != FASTEPOST_OK)
      rc = cli_fail(ctx, "stats crm");
  }
  fastepost_crm_stats_options_free(o);
  if (rc)
    return rc;
  if (prometheus)
    rc = print_prometheus(ctx, s, spool_dir);
  else
    (ctx->json ? print_json : print_text)(s);
  fastepost_crm_stats_free(s);
  return CLI_OK;
}

const cli_command cli_crmstats_commands[] = {
    {"stats", "crm", stats_crm, "CRM dashboard figures: events, success rates, customer sync",
     "Usage: fastepost stats crm [--base-url URL] [--odoo-path P] [--hubspot-path P] [--now US]\n"
     "                          [--source NAME]... [--rebuild] [--format text|json|prometheus]\n"
     "                          [--spool DIR] [--db CONNINFO] [--json]\n"
     "\n"
     "Print what the admin CRM dashboard shows: per CRM source (each with events, and each\n"
     "configured one: --source, by default hubspot and odoo) the\n"
     "total events, the events of the last 24 hours, the success rate\n"
     "(success / (success + error + dead), one decimal) with its badge (green above 80 %,\n"
     "yellow at 80 % or below, none without finished events) and the last event; the customer\n"
     "sync figures; the 20 newest events; the webhook URLs and headers to configure in the\n"
     "CRMs. The figures come from counters kept by the schema's triggers: a few milliseconds\n"
     "even with millions of events.\n"
     "\n"
     "Options:\n"
     "  --base-url URL    the application's public URL for the webhook set-up details\n"
     "                    (e.g. https://app.example.com); without it, paths only\n"
     "  --odoo-path P     the application's Odoo webhook path (default /api/v1/integrations/odoo)\n"
     "  --hubspot-path P  the HubSpot webhook path (default /api/v1/integrations/hubspot)\n"
     "  --source NAME     a CRM the application is configured for (odoo, hubspot, pipedrive,\n"
     "                    monday, salesforce, zoho); repeatable; default odoo and hubspot\n"
     "  --now US          compute the 24-hour window and \"time ago\" for this moment\n"
     "                    (microseconds since the epoch) instead of the server's clock\n"
     "  --rebuild         recount the counters from the tables first (only needed after\n"
     "                    writes with triggers disabled)\n"
     "  --format F        text (default), json (as --json) or prometheus: the figures in\n"
     "                    Prometheus' text exposition format (docs/metrics.md), e.g. for the\n"
     "                    node exporter's textfile collector\n"
     "  --spool DIR       with --format prometheus, also the spool's depth (default\n"
     "                    $FASTEPOST_SPOOL_DIR; none without either)\n"
     "  --json            one JSON object: sources[], sync{}, recent[], setup{}, generated_at;\n"
     "                    the keys of the bindings' to_dict() / to_h (docs/crm-stats.md)\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
