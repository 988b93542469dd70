/* SPDX-License-Identifier: MIT */
/* The HTML report rendered by headless Chromium: the text a reader sees, escaped input, no
 * scripts or external assets. Run through tests/report/run.sh, which skips (exit 77) when
 * chromium is not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testdb.h"

TestSuite(report, .init = fptest_setup_schema, .fini = fptest_teardown);

#define FLAGS                                                                                      \
  "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run "                          \
  "--disable-background-networking --disable-component-update --disable-sync --hide-scrollbars"

/* Run chromium on a file with extra arguments; returns what it printed on stdout (malloc'd). */
static char *chromium(const char *dir, const char *file, const char *args) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "chromium " FLAGS " --user-data-dir='%s/profile' %s 'file://%s' 2>/dev/null", dir, args,
           file);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t cap = 1 << 16, n = 0;
  char *out = malloc(cap);
  size_t got;
  while ((got = fread(out + n, 1, cap - n - 1, p)) > 0) {
    n += got;
    if (n + 1 == cap)
      out = realloc(out, cap *= 2);
  }
  out[n] = '\0';
  cr_assert_eq(pclose(p), 0, "chromium failed: %s", cmd);
  return out;
}

/* Processing checks the presented key itself (issue 11): these tests are the host that
 * authenticated the request. */
static const fastepost_odoo_options *host_authenticated(void) {
  static fastepost_odoo_options *o;
  if (!o && fastepost_odoo_options_new(&o) == FASTEPOST_OK)
    fastepost_odoo_options_set_host_authenticated(o, true);
  return o;
}

static void populate(const char *backups) {
  fastepost_conn *c = fptest_conn();
  const char partner[] = "{\"_id\": 42, \"_model\": \"res.partner\", \"name\": \"<script>alert('x')</script> & Co\", "
                         "\"email\": \"anna@x.de\", \"write_date\": \"2024-05-03 14:22:07\"}";
  cr_assert_eq(fastepost_odoo_process(NULL, c, NULL, partner, strlen(partner), host_authenticated()), FASTEPOST_OK);
  const char batch[] = "[{\"subscriptionType\":\"contact.propertyChange\",\"objectId\":5,\"occurredAt\":1764270000000,"
                       "\"propertyName\":\"email\",\"propertyValue\":\"ada@x.de\"},"
                       "{\"subscriptionType\":\"contact.propertyChange\",\"objectId\":\"five\",\"occurredAt\":1}]";
  fastepost_webhook_request *req = NULL;
  cr_assert_eq(fastepost_webhook_request_new(&req), FASTEPOST_OK);
  cr_assert_eq(fastepost_webhook_request_set_body(req, batch, strlen(batch)), FASTEPOST_OK);
  cr_assert_eq(fastepost_hubspot_process(NULL, c, NULL, req, NULL), FASTEPOST_OK);
  fastepost_webhook_request_free(req);
  fptest_exec("INSERT INTO integration_events (source, event_type, status, error_message) VALUES "
              "('odoo', 'res.partner', 'error', '<img src=x onerror=alert(1)> failed')");
  char path[1024];
  snprintf(path, sizeof path, "%s/backup_20261127_120000.sql", backups);
  fptest_write_file(path, "-- dump\n", 0600);
}

Test(report, chromium_shows_the_dashboard) {
  char dir[512];
  fptest_tmpdir(dir, sizeof dir, "report");
  char backups[600];
  snprintf(backups, sizeof backups, "%s/backups", dir);
  cr_assert_eq(mkdir(backups, 0700), 0);
  populate(backups);

  fastepost_report_options *o = NULL;
  cr_assert_eq(fastepost_report_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_report_options_set_backup_dir(o, backups), FASTEPOST_OK);
  cr_assert_eq(fastepost_report_options_set_base_url(o, "https://app.example.com"), FASTEPOST_OK);
  cr_assert_eq(fastepost_report_options_set_title(o, "Ops <report>"), FASTEPOST_OK);
  char *html = NULL;
  cr_assert_eq(fastepost_report_html(&html, fptest_conn(), o), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  fastepost_report_options_free(o);
  /* self-contained: no script, no external reference, responsive CSS */
  cr_assert_null(strstr(html, "<script"), "input was not escaped");
  cr_assert_null(strstr(html, "<img"), "input was not escaped");
  cr_assert_null(strstr(html, " src=\""));
  cr_assert_null(strstr(html, " href=\""));
  cr_assert_null(strstr(html, "<link"));
  cr_assert_null(strstr(html, "url("));
  cr_assert(strstr(html, "name=\"viewport\"") && strstr(html, "@media (max-width:600px)"));
  char file[700];
  snprintf(file, sizeof file, "%s/report.html", dir);
  fptest_write_file(file, html, 0600);
  fastepost_free(html);

  char *dom = chromium(dir, file, "--dump-dom");
  const char *want[] = {
      "<title>Ops &lt;report&gt;</title>",
      ">HubSpot<", ">Odoo<",
      "50.0% success",    /* odoo: 1 success, 1 error */
      "Customer sync", ">customers<", ">CRM-synced<",
      "Recent events", "contact.propertyChange", "event 1: objectId must be an integer",
      "&lt;img src=x onerror=alert(1)&gt; failed",
      "Webhook set-up", "https://app.example.com/api/v1/integrations/hubspot", "X-HubSpot-Signature-v3",
      "X-Odoo-Api-Key", "fastepost_crm_properties", "integration_events",
      "Backups", "backup_20261127_120000.sql",
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    cr_assert(strstr(dom, want[i]), "the rendered page lacks \"%s\"", want[i]);
  cr_assert_null(strstr(dom, "<script"), "a script element was rendered");
  cr_assert_null(strstr(dom, "<img"), "an img element was rendered");
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE name = '<script>alert(''x'')</script> & Co'"), 1);
  free(dom);

  /* a phone-width render works too */
  char shot[800], args[900];
  snprintf(shot, sizeof shot, "%s/phone.png", dir);
  snprintf(args, sizeof args, "--window-size=390,844 --screenshot='%s'", shot);
  free(chromium(dir, file, args));
  struct stat st;
  cr_assert_eq(stat(shot, &st), 0);
  cr_assert_gt(st.st_size, 1000);
  fptest_rmtree(dir);
}
