/* SPDX-License-Identifier: MIT */
/* The HTML report rendered by headless Chromium: the text a reader sees, escaped input, no
 * scripts or external assets, the charts drawn (every bar, inside the page at phone and desktop
 * widths). Run through tests/report/run.sh, which skips (exit 77) when chromium is not
 * installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
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
  /* History for the charts (HubSpot's: Odoo's badge is checked below): the last 30 days,
   * every status, a day of failures only. */
  fptest_exec("INSERT INTO integration_events (source, event_type, status, created_at) "
              "SELECT 'hubspot', 'res.partner', "
              "CASE WHEN g % 7 = 0 THEN 'error' WHEN g % 11 = 0 THEN 'dead' WHEN g % 13 = 0 THEN 'pending' "
              "ELSE 'success' END, now() AT TIME ZONE 'UTC' - g * interval '37 minutes' "
              "FROM generate_series(1, 1000) g");
  fptest_exec("INSERT INTO integration_events (source, event_type, status, created_at) "
              "SELECT 'hubspot', 'res.partner', 'dead', now() AT TIME ZONE 'UTC' - interval '27 days' "
              "FROM generate_series(1, 40) g");
  /* A delivery ignored on purpose: a note, not an error. */
  fptest_exec("INSERT INTO integration_events (source, event_type, status, outcome, error_message) VALUES "
              "('hubspot', 'contact.propertyChange', 'success', 'ignored', 'nothing to create from contact 9')");
  char path[1024];
  snprintf(path, sizeof path, "%s/backup_20261127_120000.sql", backups);
  fptest_write_file(path, "-- dump\n", 0600);
}

/* What the page looks like to a browser at a width: the report in an iframe of that width (a
 * headless window is at least 500 px wide, whatever --window-size says; a srcdoc frame shares
 * the wrapper's origin), measured by the wrapper's script (the report itself has none):
 * horizontal overflow, the charts' boxes, the bars with a height. */
typedef struct layout {
  int inner, scroll, charts, bars, drawn, inside, max_right;
} layout;

static const char MEASURE[] =
    "<script>window.addEventListener('load',function(){var f=document.getElementById('f'),"
    "v=f.contentWindow,doc=v.document,w=doc.documentElement.clientWidth,"
    "c=doc.querySelectorAll('svg.chart'),in_=0,mr=0,d=0;"
    "c.forEach(function(s){var r=s.getBoundingClientRect();if(r.width>100&&r.right<=w)in_++;"
    "if(r.right>mr)mr=Math.ceil(r.right);});"
    "doc.querySelectorAll('svg.chart rect').forEach(function(r){if(r.getBoundingClientRect().height>0)d++;});"
    "var p=document.createElement('pre');p.id='layout';p.textContent='layout '+w+' '+"
    "doc.documentElement.scrollWidth+' '+c.length+' '+doc.querySelectorAll('svg.chart g.bar').length"
    "+' '+d+' '+in_+' '+mr+' end';document.body.appendChild(p);});</script>";

/* The wrapper page of html at width x height into dir/frame-<width>.html; its path in file. */
static void frame_page(char *file, size_t filesize, const char *dir, const char *html, int width, int height) {
  snprintf(file, filesize, "%s/frame-%d.html", dir, width);
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&b, "<!DOCTYPE html><html><body style=\"margin:0\"><iframe id=\"f\" style=\"border:0\" "
                            "width=\"%d\" height=\"%d\" srcdoc=\"", width, height);
  for (const char *p = html; *p; p++)
    if (*p == '&')
      fastepost__buf_puts(&b, "&amp;");
    else if (*p == '"')
      fastepost__buf_puts(&b, "&quot;");
    else
      fastepost__buf_putc(&b, *p);
  fastepost__buf_printf(&b, "\"></iframe>%s</body></html>", MEASURE);
  fptest_write_file(file, fastepost__buf_cstr(&b), 0600);
  fastepost__buf_free(&b);
}

static layout measure(const char *dir, const char *html, int width, int height) {
  char file[700], args[128];
  frame_page(file, sizeof file, dir, html, width, height);
  snprintf(args, sizeof args, "--window-size=%d,%d --virtual-time-budget=5000 --dump-dom", width + 200, height);
  char *dom = chromium(dir, file, args);
  layout l = {0};
  const char *at = strstr(dom, "<pre id=\"layout\">");
  cr_assert_not_null(at, "the measuring script did not run at %d px", width);
  at += strlen("<pre id=\"layout\">");
  cr_assert_eq(sscanf(at, "layout %d %d %d %d %d %d %d end", &l.inner, &l.scroll, &l.charts, &l.bars, &l.drawn,
                      &l.inside, &l.max_right),
               7, "%.200s", at);
  cr_assert_eq(l.inner, width, "the frame is %d px wide, not %d", l.inner, width);
  free(dom);
  return l;
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

  /* The charts as a browser lays them out, at a phone's width and a desktop's: two per card
   * (HubSpot and Odoo), every bar (24 hours + 30 days), bars drawn, all inside the page. */
  const int widths[][2] = {{390, 844}, {1280, 900}};
  for (size_t w = 0; w < 2; w++) {
    layout l = measure(dir, html, widths[w][0], widths[w][1]);
    cr_assert_eq(l.charts, 4, "at %d px: %d charts", widths[w][0], l.charts);
    cr_assert_eq(l.bars, 2 * (24 + 30), "at %d px: %d bars", widths[w][0], l.bars);
    cr_assert_gt(l.drawn, 40, "at %d px: only %d bar segments have a height", widths[w][0], l.drawn);
    cr_assert_eq(l.inside, 4, "at %d px: a chart is narrower than 100 px or beyond the right edge (%d > %d)",
                 widths[w][0], l.max_right, l.inner);
    cr_assert_leq(l.scroll, l.inner, "at %d px the page scrolls sideways: %d px wide", widths[w][0], l.scroll);
  }

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
  /* The charts: accessible SVG with a legend. */
  cr_assert(strstr(dom, "role=\"img\"") && strstr(dom, "<title id=\"chart-odoo-hours-t\">Odoo: events per hour, last 24 "
                                                           "hours</title>"),
            "no accessible chart");
  cr_assert(strstr(dom, "class=\"legend\"") && strstr(dom, "<i class=\"s-dead\"></i>dead"), "no legend");
  cr_assert(strstr(dom, "27 Nov") || strstr(dom, "<time datetime=\""), "no readable time");
  /* Times as people read them: no ISO text with microseconds on the page, only in datetime. */
  cr_assert(strstr(dom, "<time datetime=\""), "no time element");
  for (const char *p = dom; (p = strstr(p, "Z<")); p++) /* "...:56.109282Z</td>" */
    cr_assert(p - dom < 7 || p[-7] != '.', "an ISO time as text: %.40s", p - 20);
  cr_assert(strstr(dom, " UTC</time>"), "times say UTC");
  /* The ignored delivery: its message a note, not an error. */
  const char *ignored = strstr(dom, "nothing to create from contact 9");
  cr_assert_not_null(ignored);
  const char *cell = ignored;
  while (cell > dom && strncmp(cell, "<td", 3) != 0)
    cell--;
  static const char note[] = "<td data-label=\"Note\" class=\"note\">", err[] = "<td data-label=\"Error\" class=\"err\">";
  cr_assert(strncmp(cell, note, strlen(note)) == 0, "%.80s", cell);
  cr_assert(strstr(dom, "<span class=\"oc ignored\">ignored</span>"));
  const char *failed = strstr(dom, "&lt;img src=x onerror=alert(1)&gt; failed");
  for (cell = failed; cell > dom && strncmp(cell, "<td", 3) != 0;)
    cell--;
  cr_assert(strncmp(cell, err, strlen(err)) == 0, "%.80s", cell);
  cr_assert_eq(fptest_count("SELECT count(*) FROM customers WHERE name = '<script>alert(''x'')</script> & Co'"), 1);
  free(dom);

  /* Screenshots at a desktop's width and, through the 390 px frame, a phone's. */
  char phone[700];
  frame_page(phone, sizeof phone, dir, html, 390, 844);
  fastepost_free(html);
  const char *shots[][3] = {{"desktop.png", "1280,900", file}, {"phone.png", "500,844", phone}};
  for (size_t k = 0; k < 2; k++) {
    char shot[800], args[900];
    snprintf(shot, sizeof shot, "%s/%s", dir, shots[k][0]);
    snprintf(args, sizeof args, "--window-size=%s --screenshot='%s'", shots[k][1], shot);
    free(chromium(dir, shots[k][2], args));
    struct stat st;
    cr_assert_eq(stat(shot, &st), 0);
    cr_assert_gt(st.st_size, 1000);
  }
  fptest_rmtree(dir);
}
