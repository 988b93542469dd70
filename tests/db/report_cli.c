/* SPDX-License-Identifier: MIT */
/* `fastepost report` (no browser needed): empty database, options, errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testdb.h"

TestSuite(report_cli, .init = fptest_setup_schema, .fini = fptest_teardown);

Test(report_cli, writes_the_page_and_reports_errors) {
  static char out[131072];
  char args[4096];
  snprintf(args, sizeof args, "report --db '%s' --output - --now 1764270000000000", fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strncmp(out, "<!DOCTYPE html>", 15) == 0, "%.200s", out);
  cr_assert(strstr(out, "No events yet.") && strstr(out, "No backup directory given.") &&
                strstr(out, "no events</span>") && strstr(out, "<code>/api/v1/integrations/odoo</code>"),
            "%s", out);
  /* The --now clock, as people read it, with the exact time for machines. */
  cr_assert(strstr(out, "Generated <time datetime=\"2025-11-27T19:00:00.000000Z\">27 Nov 2025, 19:00 UTC</time>"),
            "the --now clock: %.600s", strstr(out, "Generated") ? strstr(out, "Generated") : out);
  snprintf(args, sizeof args, "report --db '%s' --output - --odoo-path /in/odoo --hubspot-path /in/hubspot",
           fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "<code>/in/odoo</code>") && strstr(out, "<code>/in/hubspot</code>") &&
                strstr(out, "<code>/in/odoo?api_key=YOUR_API_KEY</code>"),
            "%s", out);
  snprintf(args, sizeof args, "report --db '%s' --output - --odoo-path in/odoo", fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 1, "%s", out);
  snprintf(args, sizeof args, "report --db '%s' --output - --now -1", fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 2, "%s", out);
  char dir[512];
  fptest_tmpdir(dir, sizeof dir, "report-cli");
  snprintf(args, sizeof args, "report --db '%s' --output '%s/r.html' --backup-dir '%s' --json", fptest_current.conninfo,
           dir, dir);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert(strstr(out, "{\"status\":\"ok\",\"output\":") && strstr(out, "\"bytes\":"), "%s", out);
  char path[600];
  snprintf(path, sizeof path, "%s/r.html", dir);
  char *html = fptest_read_file(path, NULL);
  cr_assert(strstr(html, "No backups in <code>"), "%.300s", html);
  free(html);
  fptest_rmtree(dir);
  cr_assert_eq(fptest_cli(out, sizeof out, "report"), 2, "--output is required: %s", out);
  snprintf(args, sizeof args, "report --db '%s' --output - --base-url ftp://x", fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 1, "%s", out);
  cr_assert_eq(fptest_cli(out, sizeof out, "report --help"), 0);
  cr_assert(strstr(out, "Usage: fastepost report --output FILE.html"), "%s", out);
}

Test(report_cli, options_refuse_bad_input) {
  fastepost_report_options *o = NULL;
  cr_assert_eq(fastepost_report_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_report_options_set_base_url(o, "ftp://x"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_report_options_set_webhook_path(o, "acme", "/z"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_report_options_set_webhook_path(o, "odoo", "z"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_report_options_set_clock(o, NULL, NULL), FASTEPOST_OK);
  cr_assert_eq(fastepost_report_options_set_title(NULL, "x"), FASTEPOST_EINVALID);
  cr_assert(strstr(fastepost_error_last()->message, "opts is NULL"), "%s", fastepost_error_last()->message);
  char *html = NULL;
  cr_assert_eq(fastepost_report_html(&html, fptest_conn(), o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert(strstr(html, "<code>/api/v1/integrations/hubspot</code>"), "the defaults stay");
  fastepost_free(html);
  fastepost_report_options_free(o);
  fastepost_report_options_free(NULL);
}

/* Issue 15: six configured CRMs, six cards with their set-up; an event of each in the recent list. */
Test(report_cli, six_cards_from_repeated_source) {
  static char out[262144];
  static const char *const six[][2] = {{"odoo", "Odoo"},     {"hubspot", "HubSpot"},       {"pipedrive", "Pipedrive"},
                                       {"monday", "monday.com"}, {"salesforce", "Salesforce"}, {"zoho", "Zoho CRM"}};
  char args[4096], sql[256];
  for (size_t i = 0; i < 6; i++) {
    snprintf(sql, sizeof sql,
             "INSERT INTO integration_events (source, event_type, status) VALUES ('%s', 'ev-%s', 'success')",
             six[i][0], six[i][0]);
    if (i % 2)
      fptest_exec(sql); /* half with events, half configured only */
  }
  int n = snprintf(args, sizeof args, "report --db '%s' --output - --base-url https://app.example.com",
                   fptest_current.conninfo);
  for (size_t i = 0; i < 6; i++)
    n += snprintf(args + n, sizeof args - (size_t)n, " --source %s", six[i][0]);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  size_t cards = 0;
  for (const char *p = out; (p = strstr(p, "<div class=\"card crm\"")); p++)
    cards++;
  cr_assert_eq(cards, 6, "one card per configured source: %zu", cards);
  for (size_t i = 0; i < 6; i++) {
    char want[256];
    snprintf(want, sizeof want, "id=\"crm-%s\"><h3><span>%s</span>", six[i][0], six[i][1]);
    cr_assert(strstr(out, want), "no card %s", want);
    snprintf(want, sizeof want, "POST <code>https://app.example.com/api/v1/integrations/%s</code><br>", six[i][0]);
    cr_assert(strstr(out, want), "no set-up line %s", want);
    if (i % 2) {
      snprintf(want, sizeof want, "<code>ev-%s</code>", six[i][0]);
      cr_assert(strstr(out, want), "%s not in the recent events", want);
    }
  }
  cr_assert_null(strstr(out, "Not configured in this application"));
  /* Only pipedrive configured: the odoo (no events) card and its key rows are gone. */
  snprintf(args, sizeof args, "report --db '%s' --output - --source pipedrive", fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 0, "%s", out);
  cr_assert_null(strstr(out, "id=\"crm-odoo\""));
  cr_assert_null(strstr(out, "Odoo key header"));
  cr_assert(strstr(out, "id=\"crm-hubspot\"") && strstr(out, "Not configured in this application"),
            "hubspot has events: a card, marked");
  snprintf(args, sizeof args, "report --db '%s' --output - --source acme", fptest_current.conninfo);
  cr_assert_eq(fptest_cli(out, sizeof out, args), 2, "%s", out);
  cr_assert(strstr(out, "acme"), "%s", out);
}
