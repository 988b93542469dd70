/* SPDX-License-Identifier: MIT */
/*
 * The HTML report (see fastepost/report.h): the CRM statistics, the database statistics and
 * the backups, gathered through the public calls and written as one page with inline CSS. Every
 * text goes through esc(): names, event types and error messages come from outside.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "report/report_priv.h"
#include "util/strv.h"

struct fastepost_report_options {
  char *backup_dir, *title;
  /* Base URL, webhook paths and clock, handed to fastepost_crm_stats_collect() as they are. */
  fastepost_crm_stats_options *crm;
};

fastepost_status fastepost_report_options_new(fastepost_report_options **out) {
  int rc = FASTEPOST__OUT_NEW(out, "fastepost_report_options_new");
  if (rc)
    return rc;
  rc = fastepost_crm_stats_options_new(&(*out)->crm);
  /* The page charts every source's history. */
  if (!rc)
    rc = fastepost_crm_stats_options_set_history((*out)->crm, 1);
  if (rc) {
    fastepost_crm_stats_options_free((*out)->crm);
    free(*out);
    *out = NULL;
  }
  return rc;
}

void fastepost_report_options_free(fastepost_report_options *o) {
  if (!o)
    return;
  free(o->backup_dir);
  free(o->title);
  fastepost_crm_stats_options_free(o->crm);
  free(o);
}

static fastepost_status set_string(char **field, const char *value) {
  char *copy = NULL;
  if (value && *value && !(copy = fastepost__strdup(value)))
    return fastepost__error_oom();
  free(*field);
  *field = copy;
  return FASTEPOST_OK;
}

static fastepost_status no_options(const char *fn) {
  return fastepost__error_set(FASTEPOST_EINVALID, "%s: opts is NULL", fn);
}

fastepost_status fastepost_report_options_set_backup_dir(fastepost_report_options *o, const char *path) {
  return o ? set_string(&o->backup_dir, path) : no_options(__func__);
}
fastepost_status fastepost_report_options_set_base_url(fastepost_report_options *o, const char *url) {
  return o ? fastepost_crm_stats_options_set_base_url(o->crm, url) : no_options(__func__);
}
fastepost_status fastepost_report_options_set_webhook_path(fastepost_report_options *o, const char *source,
                                                           const char *path) {
  return o ? fastepost_crm_stats_options_set_path(o->crm, source, path) : no_options(__func__);
}
fastepost_status fastepost_report_options_add_source(fastepost_report_options *o, const char *source) {
  return o ? fastepost_crm_stats_options_add_source(o->crm, source) : no_options(__func__);
}
fastepost_status fastepost_report_options_set_title(fastepost_report_options *o, const char *title) {
  return o ? set_string(&o->title, title) : no_options(__func__);
}
fastepost_status fastepost_report_options_set_clock(fastepost_report_options *o, fastepost_clock_fn clock,
                                                    void *payload) {
  return o ? fastepost_crm_stats_options_set_clock(o->crm, clock, payload) : no_options(__func__);
}

/* ---- writing ------------------------------------------------------------------------------- */

void fastepost__report_esc(fastepost__buf *b, const char *s) {
  if (!s) {
    fastepost__buf_puts(b, "\xe2\x80\x94");
    return;
  }
  for (; *s; s++) {
    switch (*s) {
    case '&': fastepost__buf_puts(b, "&amp;"); break;
    case '<': fastepost__buf_puts(b, "&lt;"); break;
    case '>': fastepost__buf_puts(b, "&gt;"); break;
    case '"': fastepost__buf_puts(b, "&quot;"); break;
    case '\'': fastepost__buf_puts(b, "&#39;"); break;
    default: fastepost__buf_putc(b, *s);
    }
  }
}

/* A text made by a fastepost_report_* call (NULL on failure: an em dash), escaped and freed. */
static void esc_owned(fastepost__buf *b, char *text) {
  esc(b, text);
  fastepost_free(text);
}

/* A time as people read it, <time datetime="2026-11-27T20:08:56.109282Z">27 Nov 2026, 20:08
 * UTC</time>, and with now_us (non-zero) the relative time after it: " <span class="ago">3
 * minutes ago</span>". */
static void time_html(fastepost__buf *b, int64_t us, int64_t now_us) {
  char *iso = NULL, *human = NULL;
  fastepost_report_time_iso(&iso, us);
  fastepost_report_time_human(&human, us);
  fastepost__buf_puts(b, "<time datetime=\"");
  esc_owned(b, iso);
  fastepost__buf_puts(b, "\">");
  esc_owned(b, human);
  fastepost__buf_puts(b, "</time>");
  if (now_us) {
    char *ago = NULL;
    fastepost_report_time_ago(&ago, us, now_us);
    fastepost__buf_puts(b, " <span class=\"ago\">");
    esc_owned(b, ago);
    fastepost__buf_puts(b, "</span>");
  }
}

/* Tenths as "12.3". printf's %f writes LC_NUMERIC's decimal point, and a host that called
 * setlocale(LC_ALL, "") under de_DE would get "12,3": the report must read the same in every
 * locale, so the figures are made from integers. */
static void tenths_text(char *out, size_t size, uint64_t tenths, const char *suffix) {
  snprintf(out, size, "%llu.%u%s", (unsigned long long)(tenths / 10), (unsigned)(tenths % 10), suffix);
}

/* Sizes in binary units with one decimal, rounded half to even like %.1f was. */
static void bytes_text(char *out, size_t size, uint64_t bytes) {
  static const char *const units[] = {" B", " kB", " MB", " GB", " TB"};
  uint64_t n = bytes, div = 1;
  int u = 0;
  while (u < 4 && n / div >= 1024) {
    div *= 1024;
    u++;
  }
  if (u == 0) {
    snprintf(out, size, "%llu B", (unsigned long long)n);
    return;
  }
  /* n % div < 2^40, so ten times it cannot overflow. */
  uint64_t rem = n % div, tenths = n / div * 10 + rem * 10 / div, half = rem * 10 % div * 2;
  if (half > div || (half == div && tenths % 2))
    tenths++;
  tenths_text(out, size, tenths, units[u]);
}

/* 1234567 -> "1,234,567" */
static void count_text(char *out, size_t size, uint64_t n) {
  char digits[32];
  snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
  size_t len = strlen(digits), o = 0;
  for (size_t i = 0; i < len && o + 2 < size; i++) {
    if (i && (len - i) % 3 == 0)
      out[o++] = ',';
    out[o++] = digits[i];
  }
  out[o] = '\0';
}

static void figure(fastepost__buf *b, const char *label, uint64_t n) {
  char num[40];
  count_text(num, sizeof num, n);
  fastepost__buf_printf(b, "<div class=\"fig\"><span class=\"n\">%s</span><span class=\"l\">", num);
  esc(b, label);
  fastepost__buf_puts(b, "</span></div>");
}

/* Light by default, dark when the reader's system asks for it. The chart colours are the
 * Okabe-Ito palette (blue, orange, vermilion, grey), told apart with every common colour vision
 * deficiency, each with a lighter twin for the dark style; the stacking order (success at the
 * bottom) and every bar's title carry the same information without colour. */
static const char CSS[] =
    ":root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--ink:#1d2330;--muted:#5f6b7a;--line:#dde1e6;"
    "--head:#eef0f3;--none-bg:#e9ecef;"
    "--green:#1f7a3d;--green-bg:#dcf3e3;--yellow:#7a5a00;--yellow-bg:#fff2c2;--red:#a1261b;"
    "--c-success:#0072b2;--c-error:#e69f00;--c-dead:#d55e00;--c-pending:#8c96a3}"
    "@media (prefers-color-scheme:dark){:root{--bg:#14181f;--card:#1d2330;--ink:#e6e9ee;--muted:#a3adba;"
    "--line:#343c4c;--head:#262d3b;--none-bg:#2e3646;--green:#7fd69a;--green-bg:#1d3a28;--yellow:#f2d06b;"
    "--yellow-bg:#3d3318;--red:#ff9485;--c-success:#56b4e9;--c-error:#f0b43c;--c-dead:#ff7f3f;"
    "--c-pending:#8c96a3}}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "background:var(--bg);color:var(--ink)}"
    "header{background:#1d2330;color:#fff;padding:16px 20px}"
    "header code{background:#323b4f;color:#fff}"
    "header h1{margin:0;font-size:1.35rem}header p{margin:4px 0 0;color:#c8cfd8;font-size:.9rem}"
    "main{max-width:1180px;margin:0 auto;padding:16px}"
    "section{margin:0 0 22px}h2{font-size:1.1rem;margin:0 0 10px}"
    ".grid{display:grid;gap:12px;grid-template-columns:repeat(auto-fit,minmax(260px,1fr))}"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px}"
    ".card h3{margin:0 0 8px;font-size:1.05rem;display:flex;justify-content:space-between;"
    "align-items:center;gap:8px}"
    ".badge{font-size:.8rem;font-weight:600;padding:2px 10px;border-radius:999px;"
    "text-transform:none;white-space:nowrap}"
    ".badge.green{background:var(--green-bg);color:var(--green)}"
    ".badge.yellow{background:var(--yellow-bg);color:var(--yellow)}"
    ".badge.none{background:var(--none-bg);color:var(--muted)}"
    ".figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(96px,1fr));gap:8px}"
    ".fig{background:var(--bg);border-radius:8px;padding:8px}"
    ".fig .n{display:block;font-size:1.25rem;font-weight:650}"
    ".fig .l{display:block;font-size:.8rem;color:var(--muted)}"
    ".meta{margin:8px 0 0;font-size:.85rem;color:var(--muted);overflow-wrap:anywhere}"
    ".scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:10px}"
    "table{border-collapse:collapse;width:100%;font-size:.9rem}"
    "th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}"
    "th{background:var(--head);font-weight:600;white-space:nowrap}"
    "td code{white-space:nowrap}td.num{text-align:right;white-space:nowrap}td.err{color:var(--red);overflow-wrap:anywhere}"
    /* An outcome that is no failure (a delivery ignored on purpose) is a note, not an error. */
    "td.note{color:var(--muted);overflow-wrap:anywhere}.oc.ignored,.oc.stale,.oc.duplicate{color:var(--muted);"
    "font-style:italic}.ago{color:var(--muted);white-space:nowrap}.meta .ago::before{content:\"\\00b7  \"}"
    ".st{font-weight:600}.st.success{color:var(--green)}.st.error,.st.dead{color:var(--red)}"
    "code{font-size:.85rem;background:var(--bg);padding:1px 4px;border-radius:4px;"
    "overflow-wrap:anywhere}"
    "dl{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:6px 12px}"
    "dt{color:var(--muted)}dd{margin:0;min-width:0}"
    ".empty{color:var(--muted);padding:10px}"
    "footer{color:var(--muted);font-size:.8rem;text-align:center;padding:12px}"
    /* Phones: one column, the events table as stacked rows. */
    "@media (max-width:600px){main{padding:10px}header{padding:12px}"
    "dl{grid-template-columns:1fr}dt{margin-top:6px}"
    "table.events thead{display:none}table.events tr{display:block;padding:8px 0;"
    "border-bottom:1px solid var(--line)}table.events td{display:flex;gap:8px;border:0;padding:2px 10px}"
    "table.events td:empty{display:none}table.events td code{white-space:normal;overflow-wrap:anywhere}"
    "table.events td::before{content:attr(data-label);min-width:78px;color:var(--muted)}}";

/* A source's card: its figures, its charts (when the history was collected) and its last event. */
static void source_card(fastepost__buf *b, const fastepost_crm_source_stats *s, const fastepost_crm_bucket *hours,
                        const fastepost_crm_bucket *days, int64_t now_us) {
  fastepost__buf_puts(b, "<div class=\"card crm\" id=\"crm-");
  esc(b, s->source);
  fastepost__buf_puts(b, "\"><h3><span>");
  esc(b, fastepost_report_source_title(s->source));
  fastepost__buf_printf(b, "</span><span class=\"badge %s\">", fastepost_report_badge_colour(s->health));
  char *label = NULL;
  fastepost_report_badge_label(&label, s);
  esc_owned(b, label);
  fastepost__buf_puts(b, "</span></h3><div class=\"figs\">");
  figure(b, "events", s->total_events);
  figure(b, "last 24 h", s->events_24h);
  figure(b, "success", s->success_events);
  figure(b, "error", s->error_events);
  figure(b, "dead", s->dead_events);
  fastepost__buf_puts(b, "</div>");
  if (hours && days) {
    fastepost__buf_puts(b, "<div class=\"charts\"><h4>Last 24 hours, per hour</h4>");
    fastepost__report_chart(b, s->source, fastepost_report_source_title(s->source), FASTEPOST_CRM_HISTORY_HOURS,
                            hours);
    fastepost__buf_puts(b, "<h4>Last 30 days, per day</h4>");
    fastepost__report_chart(b, s->source, fastepost_report_source_title(s->source), FASTEPOST_CRM_HISTORY_DAYS,
                            days);
    fastepost__buf_puts(b, "<ul class=\"legend\" aria-label=\"Colours of the charts\">"
                           "<li><i class=\"s-success\"></i>success</li><li><i class=\"s-error\"></i>error "
                           "(retried)</li><li><i class=\"s-dead\"></i>dead</li><li><i class=\"s-pending\"></i>"
                           "pending</li></ul></div>");
  }
  fastepost__buf_puts(b, "<p class=\"meta\">Last event: ");
  if (s->last_event_at_us) {
    time_html(b, s->last_event_at_us, now_us);
    fastepost__buf_puts(b, " (<code>");
    esc(b, s->last_event_type);
    fastepost__buf_puts(b, "</code>)");
  } else {
    fastepost__buf_puts(b, "none yet");
  }
  /* Events from a source the application no longer lists: say so, the sender may still send. */
  if (!s->configured)
    fastepost__buf_puts(b, "<br>Not configured in this application.");
  fastepost__buf_puts(b, "</p></div>");
}

/* The set-up of each CRM on the dashboard that has an adapter: its URL and what to do on its
 * side. */
static void source_setup(fastepost__buf *b, const fastepost_crm_source_stats *s) {
  const char *how = fastepost_report_source_instructions(s->source);
  if (!s->webhook_url || !*s->webhook_url)
    return;
  fastepost__buf_puts(b, "<dt>");
  esc(b, fastepost_report_source_title(s->source));
  fastepost__buf_puts(b, " webhook URL</dt><dd>POST <code>");
  esc(b, s->webhook_url);
  fastepost__buf_puts(b, "</code>");
  if (*how) {
    fastepost__buf_puts(b, "<br>");
    esc(b, how);
  }
  fastepost__buf_puts(b, "</dd>");
}

static void crm_sections(fastepost__buf *b, const fastepost_crm_stats *st) {
  fastepost__buf_puts(b, "<section id=\"crm\"><h2>CRM integrations</h2><div class=\"grid\">");
  for (size_t i = 0; i < fastepost_crm_stats_source_count(st); i++)
    source_card(b, fastepost_crm_stats_source(st, i), fastepost_crm_stats_history(st, i, FASTEPOST_CRM_HISTORY_HOURS),
                fastepost_crm_stats_history(st, i, FASTEPOST_CRM_HISTORY_DAYS), fastepost_crm_stats_now_us(st));
  fastepost__buf_puts(b, "</div></section>");

  const fastepost_crm_sync_stats *sy = fastepost_crm_stats_sync(st);
  fastepost__buf_puts(b, "<section id=\"sync\"><h2>Customer sync</h2><div class=\"card\"><div class=\"figs\">");
  figure(b, "customers", sy->total_customers);
  figure(b, "CRM-synced", sy->synced_customers);
  figure(b, "pending tasks", sy->pending_tasks);
  fastepost__buf_puts(b, "</div><p class=\"meta\">Last sync: ");
  if (sy->last_sync_at_us)
    time_html(b, sy->last_sync_at_us, fastepost_crm_stats_now_us(st));
  else
    fastepost__buf_puts(b, "never");
  fastepost__buf_puts(b, "</p></div></section>");

  size_t n = fastepost_crm_stats_recent_count(st);
  fastepost__buf_printf(b, "<section id=\"events\"><h2>Recent events</h2><div class=\"scroll\">");
  if (!n) {
    fastepost__buf_puts(b, "<p class=\"empty\">No events yet.</p>");
  } else {
    fastepost__buf_puts(b, "<table class=\"events\"><thead><tr><th>When</th><th>Source</th><th>Type</th>"
                           "<th>Status</th><th>Outcome</th><th>Details</th></tr></thead><tbody>");
    for (size_t i = 0; i < n; i++) {
      const fastepost_crm_recent_event *e = fastepost_crm_stats_recent(st, i);
      fastepost__buf_puts(b, "<tr><td data-label=\"When\">");
      time_html(b, e->created_at_us, fastepost_crm_stats_now_us(st));
      fastepost__buf_puts(b, "</td><td data-label=\"Source\">");
      esc(b, e->source);
      fastepost__buf_puts(b, "</td><td data-label=\"Type\"><code>");
      esc(b, e->event_type);
      fastepost__buf_puts(b, "</code></td><td data-label=\"Status\"><span class=\"st ");
      esc(b, e->status);
      fastepost__buf_puts(b, "\">");
      esc(b, e->status);
      fastepost__buf_puts(b, "</span></td><td data-label=\"Outcome\">");
      if (e->outcome) {
        fastepost__buf_puts(b, "<span class=\"oc ");
        esc(b, e->outcome);
        fastepost__buf_puts(b, "\">");
        esc(b, e->outcome);
        fastepost__buf_puts(b, "</span>");
      } else {
        esc(b, NULL);
      }
      /* The message of a failed event is an error; that of a finished one (an ignored or
       * stale delivery: status success) says why nothing changed, a note. */
      bool failed = strcmp(e->status ? e->status : "", "error") == 0 || strcmp(e->status ? e->status : "", "dead") == 0;
      fastepost__buf_printf(b, "</td><td data-label=\"%s\" class=\"%s\">", failed ? "Error" : "Note",
                            failed ? "err" : "note");
      if (e->error)
        esc(b, e->error);
      fastepost__buf_puts(b, "</td></tr>");
    }
    fastepost__buf_puts(b, "</tbody></table>");
  }
  fastepost__buf_puts(b, "</div></section>");

  const fastepost_crm_setup *su = fastepost_crm_stats_setup(st);
  /* The details beyond the URL of the two CRMs that take a key or a signature in headers, for
   * those on the dashboard. */
  const char *rows[][3] = {
      {"odoo", "Odoo URL with key (Odoo's own webhooks)", su->odoo_webhook_url_with_key},
      {"odoo", "Odoo key header", su->odoo_api_key_header},
      {"odoo", "Odoo key query parameter", su->odoo_api_key_param},
      {"hubspot", "HubSpot signature header", su->hubspot_signature_header},
      {"hubspot", "HubSpot timestamp header", su->hubspot_timestamp_header},
  };
  fastepost__buf_puts(b, "<section id=\"setup\"><h2>Webhook set-up</h2><div class=\"card\"><dl>");
  for (size_t i = 0; i < fastepost_crm_stats_source_count(st); i++)
    source_setup(b, fastepost_crm_stats_source(st, i));
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    if (!fastepost_crm_stats_find_source(st, rows[i][0]))
      continue;
    fastepost__buf_puts(b, "<dt>");
    esc(b, rows[i][1]);
    fastepost__buf_puts(b, "</dt><dd><code>");
    esc(b, rows[i][2]);
    fastepost__buf_puts(b, "</code></dd>");
  }
  fastepost__buf_puts(b, "</dl></div></section>");
}

#define BACKUPS_LISTED 10

static void db_sections(fastepost__buf *b, const fastepost_stats_db *db, const fastepost_backup_list *backups,
                        const char *backup_dir, int64_t now_us) {
  size_t nbackups = fastepost_backup_list_count(backups);
  char size[32], num[40];
  bytes_text(size, sizeof size, fastepost_stats_db_size_bytes(db));
  fastepost__buf_puts(b, "<section id=\"database\"><h2>Database <code>");
  esc(b, fastepost_stats_db_database(db));
  fastepost__buf_printf(b, "</code> \xc2\xb7 %s</h2><div class=\"scroll\"><table><thead><tr><th>Table</th>"
                           "<th>Rows (estimate)</th><th>Total size</th><th>Indexes</th></tr></thead><tbody>",
                        size);
  for (size_t i = 0; i < fastepost_stats_db_table_count(db); i++) {
    const fastepost_stats_db_table *t = fastepost_stats_db_table_get(db, i);
    fastepost__buf_puts(b, "<tr><td><code>");
    esc(b, fastepost_stats_db_table_name(t));
    if (!fastepost_stats_db_table_has_rows_estimate(t))
      snprintf(num, sizeof num, "?");
    else
      count_text(num, sizeof num, fastepost_stats_db_table_rows_estimate(t));
    bytes_text(size, sizeof size, fastepost_stats_db_table_total_bytes(t));
    fastepost__buf_printf(b, "</code></td><td class=\"num\">%s</td><td class=\"num\">%s</td>", num, size);
    bytes_text(size, sizeof size, fastepost_stats_db_table_index_bytes(t));
    fastepost__buf_printf(b, "<td class=\"num\">%s</td></tr>", size);
  }
  fastepost__buf_puts(b, "</tbody></table></div></section>");

  fastepost__buf_puts(b, "<section id=\"backups\"><h2>Backups</h2><div class=\"scroll\">");
  if (!backup_dir) {
    fastepost__buf_puts(b, "<p class=\"empty\">No backup directory given.</p>");
  } else if (!nbackups) {
    fastepost__buf_puts(b, "<p class=\"empty\">No backups in <code>");
    esc(b, backup_dir);
    fastepost__buf_puts(b, "</code>.</p>");
  } else {
    fastepost__buf_printf(b, "<p class=\"meta\" style=\"padding:0 10px\">%llu in <code>",
                          (unsigned long long)fastepost_stats_db_backup_count(db));
    esc(b, backup_dir);
    fastepost__buf_puts(b, "</code>, newest first</p><table><thead><tr><th>File</th><th>Taken</th><th>Size</th>"
                           "</tr></thead><tbody>");
    for (size_t i = 0; i < nbackups; i++) {
      const fastepost_backup_info *bi = fastepost_backup_list_get(backups, i);
      bytes_text(size, sizeof size, fastepost_backup_info_size(bi));
      fastepost__buf_puts(b, "<tr><td><code>");
      esc(b, fastepost_backup_info_name(bi));
      fastepost__buf_puts(b, "</code></td><td>");
      time_html(b, fastepost_backup_info_created_us(bi), now_us);
      fastepost__buf_printf(b, "</td><td class=\"num\">%s</td></tr>", size);
    }
    fastepost__buf_puts(b, "</tbody></table>");
  }
  fastepost__buf_puts(b, "</div></section>");
}

fastepost_status fastepost_report_html(char **out, fastepost_conn *conn, const fastepost_report_options *opts) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_report_html: out is NULL");
  *out = NULL;
  /* Without options, the defaults of fastepost_report_options_new() (the charts' history on). */
  fastepost_report_options *defaults = NULL;
  if (!opts) {
    int rc = fastepost_report_options_new(&defaults);
    if (rc)
      return rc;
    opts = defaults;
  }
  fastepost_crm_stats *crm = NULL;
  fastepost_stats_db *db = NULL;
  fastepost_backup_dir *dir = NULL;
  fastepost_backup_list *backups = NULL;
  int rc = fastepost_crm_stats_collect(&crm, conn, opts->crm);
  if (!rc && opts->backup_dir)
    rc = fastepost_backup_dir_new(&dir, opts->backup_dir);
  if (!rc)
    rc = fastepost_stats_db_get(&db, conn, dir, 0);
  if (!rc && dir)
    rc = fastepost_backup_dir_list(&backups, dir, BACKUPS_LISTED);
  if (rc)
    goto done;

  const char *title = opts->title ? opts->title : "libfastepost report";
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
  esc(&b, title);
  fastepost__buf_printf(&b, "</title><style>%s%s</style></head><body><header><h1>", CSS,
                        fastepost__report_chart_css);
  esc(&b, title);
  fastepost__buf_puts(&b, "</h1><p>Generated ");
  time_html(&b, fastepost_crm_stats_now_us(crm), 0);
  fastepost__buf_puts(&b, " \xc2\xb7 database <code>");
  esc(&b, fastepost_stats_db_database(db));
  fastepost__buf_puts(&b, "</code></p></header><main>");
  crm_sections(&b, crm);
  db_sections(&b, db, backups, opts->backup_dir, fastepost_crm_stats_now_us(crm));
  fastepost__buf_printf(&b, "</main><footer>libfastepost %s</footer></body></html>\n", fastepost_libversion(NULL, NULL, NULL));
  if (!(*out = fastepost__buf_detach(&b)))
    rc = FASTEPOST_ENOMEM;
done:
  fastepost_backup_list_free(backups);
  fastepost_backup_dir_free(dir);
  fastepost_stats_db_free(db);
  fastepost_crm_stats_free(crm);
  fastepost_report_options_free(defaults);
  return rc;
}
