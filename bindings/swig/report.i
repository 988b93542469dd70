/* SPDX-License-Identifier: MIT */
/* report.h, the presentation module (included by stats.i). The texts are mirrored one to one:
 *   report_time_ago(then_us, now_us) -> "3 minutes ago"
 *   report_time_iso(us) -> "2026-11-27T12:34:56.789000Z"
 *   report_badge_colour(health) -> "green" / "yellow" / "none"
 * The page through a helper that owns its options:
 *   report_html(conn, backup_dir, base_url, title, sources) -> str      (None/nil: the default;
 *        sources comma-separated as for crm_stats_collect) */
%fastepost_blocking(3, fastepost_report_html, char **, fastepost_conn *, const fastepost_report_options *)

%rename("$ignore", regextarget=1) "^fastepost_report_options";
%ignore fastepost_report_html;
/* Takes a borrowed struct of a result the bindings turn into dicts at once: "badge" there. */
%ignore fastepost_report_badge_label;
%include "fastepost/report.h"

%apply const char *NULLABLE { const char *backup_dir, const char *base_url, const char *title, const char *sources };
%rename(report_html) fp_report_html;
%inline %{
static fp_obj fp_report_html(fastepost_conn *conn, const char *backup_dir, const char *base_url, const char *title,
                             const char *sources) {
  fastepost_report_options *o = NULL;
  fastepost_status rc = fastepost_report_options_new(&o);
  if (rc == FASTEPOST_OK && backup_dir)
    rc = fastepost_report_options_set_backup_dir(o, backup_dir);
  if (rc == FASTEPOST_OK && base_url)
    rc = fastepost_report_options_set_base_url(o, base_url);
  if (rc == FASTEPOST_OK && title)
    rc = fastepost_report_options_set_title(o, title);
  if (rc == FASTEPOST_OK)
    rc = fp_add_sources(fp_report_add_source, o, sources);
  char *html = NULL;
  if (rc == FASTEPOST_OK)
    rc = fastepost_report_html(&html, conn, o);
  fastepost_report_options_free(o);
  if (rc != FASTEPOST_OK)
    return fp_stats_fail(rc);
  fp_obj out = fp_str_new(html);
  fastepost_free(html);
  return out;
}
%}
%clear const char *backup_dir, const char *base_url, const char *title, const char *sources;

/* The CRM figures as Prometheus text (docs/metrics.md):
 *   crm_metrics(conn, sources, spool_dir) -> str   (sources as for crm_stats_collect; spool_dir
 *        None/nil: no spool figures) */
%ignore fastepost_report_prometheus;
%apply const char *NULLABLE { const char *sources, const char *spool_dir };
%rename(crm_metrics) fp_crm_metrics;
%inline %{
static fp_obj fp_crm_metrics(fastepost_conn *conn, const char *sources, const char *spool_dir) {
  fastepost_crm_stats_options *o = NULL;
  fastepost_status rc = fastepost_crm_stats_options_new(&o);
  if (rc == FASTEPOST_OK)
    rc = fp_add_sources(fp_crm_add_source, o, sources);
  fastepost_crm_stats *st = NULL;
  if (rc == FASTEPOST_OK)
    rc = fastepost_crm_stats_collect(&st, conn, o);
  fastepost_crm_stats_options_free(o);
  fastepost_spool *sp = NULL;
  if (rc == FASTEPOST_OK && spool_dir)
    rc = fastepost_spool_open(&sp, spool_dir);
  char *text = NULL;
  if (rc == FASTEPOST_OK)
    rc = fastepost_report_prometheus(&text, st, sp);
  fastepost_spool_free(sp);
  fastepost_crm_stats_free(st);
  if (rc != FASTEPOST_OK)
    return fp_stats_fail(rc);
  fp_obj out = fp_str_new(text);
  fastepost_free(text);
  return out;
}
%}
%clear const char *sources, const char *spool_dir;
