/* SPDX-License-Identifier: MIT */
/* fastepost report: the HTML report, written to a file. */
#include <stdlib.h>
#include <string.h>

#include "cmd_backup.h"
#include "stats_common.h"

static int report(cli_ctx *ctx, int argc, char **argv) {
  const char *output = NULL, *backup_dir = NULL, *base_url = NULL, *title = NULL, *now = NULL;
  const char *odoo_path = NULL, *hubspot_path = NULL;
  cli_list sources = {0};
  const cli_option opts[] = {{"output", CLI_STRING, &output},         {"backup-dir", CLI_STRING, &backup_dir},
                             {"base-url", CLI_STRING, &base_url},     {"title", CLI_STRING, &title},
                             {"odoo-path", CLI_STRING, &odoo_path},   {"hubspot-path", CLI_STRING, &hubspot_path},
                             {"source", CLI_LIST, &sources},          {"now", CLI_STRING, &now},
                             {NULL, CLI_FLAG, NULL}};
  int npos = 0;
  int rc = cli_parse(ctx, argc, argv, opts, NULL, 0, &npos);
  if (rc || ctx->help)
    return rc;
  if (!output)
    return cli_usage_error(ctx, "--output FILE.html is needed (- for standard output)");
  int64_t now_us = 0;
  if (now && (rc = cli_stats_parse_now(ctx, now, &now_us)))
    return rc;
  char *abs_dir = NULL; /* the library takes absolute directories only */
  if (backup_dir && cli_backup_absolute(&abs_dir, backup_dir) != FASTEPOST_OK)
    return cli_fail(ctx, "report");
  fastepost_report_options *o = NULL;
  fastepost_status st = fastepost_report_options_new(&o);
  if (!st)
    st = fastepost_report_options_set_backup_dir(o, abs_dir);
  free(abs_dir);
  if (st ||
      fastepost_report_options_set_base_url(o, base_url) || fastepost_report_options_set_title(o, title) ||
      fastepost_report_options_set_webhook_path(o, "odoo", odoo_path) ||
      fastepost_report_options_set_webhook_path(o, "hubspot", hubspot_path) ||
      (now && fastepost_report_options_set_clock(o, cli_stats_fixed_clock, &now_us))) {
    fastepost_report_options_free(o);
    return cli_fail(ctx, "report");
  }
  for (int i = 0; i < sources.count; i++)
    if (fastepost_report_options_add_source(o, sources.items[i]) != FASTEPOST_OK) {
      fastepost_report_options_free(o);
      return cli_usage_error(ctx, "--source: %s", fastepost_error_last()->message);
    }
  char *html = NULL;
  if ((rc = cli_connect(ctx)) == CLI_OK && fastepost_report_html(&html, ctx->conn, o) != FASTEPOST_OK)
    rc = cli_fail(ctx, "report");
  fastepost_report_options_free(o);
  if (rc)
    return rc;
  bool to_stdout = strcmp(output, "-") == 0;
  size_t len = strlen(html);
  /* A file is replaced only by a complete page: a failure leaves the previous report. */
  bool ok = to_stdout ? fwrite(html, 1, len, stdout) == len : fastepost_file_write(output, html, len) == FASTEPOST_OK;
  fastepost_free(html);
  if (!ok) {
    if (!to_stdout)
      return cli_fail(ctx, "report");
    fprintf(stderr, "fastepost: report: cannot write to standard output\n");
    return CLI_FAILURE;
  }
  if (to_stdout)
    return CLI_OK;
  if (ctx->json) {
    printf("{\"status\":\"ok\",\"output\":");
    cli_json_string(stdout, output);
    printf(",\"bytes\":%zu}\n", len);
  } else if (!ctx->quiet) {
    printf("report written to %s (%zu bytes)\n", output, len);
  }
  return CLI_OK;
}

const cli_command cli_report_commands[] = {
    {"report", NULL, report, "Write the HTML report (CRM dashboard, database, backups)",
     "Usage: fastepost report --output FILE.html [--backup-dir DIR] [--base-url URL]\n"
     "                        [--title TEXT] [--odoo-path P] [--hubspot-path P]\n"
     "                        [--source NAME]... [--now US]\n"
     "                        [--db CONNINFO] [--json]\n"
     "\n"
     "Write one self-contained HTML page (inline CSS, no scripts, no external assets; readable\n"
     "on a phone and a desktop): a card per CRM that has events or is configured, with its\n"
     "success-rate badge and charts of its events per hour (24 h) and per day (30 days) by\n"
     "status, the customer sync panel, the 20 most recent events of every source,\n"
     "each CRM's webhook set-up, the database tables and the backups.\n"
     "\n"
     "Options:\n"
     "  --output FILE    where to write the page; - for standard output\n"
     "  --backup-dir DIR list the backups in DIR (as `fastepost backup list` does)\n"
     "  --base-url URL   the application's public URL, for the webhook set-up details\n"
     "  --title TEXT     the page title (default \"libfastepost report\")\n"
     "  --odoo-path P    the Odoo webhook path (default /api/v1/integrations/odoo)\n"
     "  --hubspot-path P the HubSpot webhook path (default /api/v1/integrations/hubspot)\n"
     "  --source NAME    a CRM the application is configured for (odoo, hubspot, pipedrive,\n"
     "                   monday, salesforce, zoho); repeatable. It gets a card and its set-up\n"
     "                   even without events. Default: odoo and hubspot\n"
     "  --now US         the clock, microseconds since the epoch (default: the server's)\n"
     "  --json           print {\"status\",\"output\",\"bytes\"} instead of a sentence\n"
     "\n"
     "Example:\n"
     "  fastepost report --output report.html --backup-dir /var/backups/fastepost \\\n"
     "    --base-url https://app.example.com\n"},
    {NULL, NULL, NULL, NULL, NULL},
};
