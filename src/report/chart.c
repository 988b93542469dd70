/* SPDX-License-Identifier: MIT */
/*
 * The report's charts: events per hour (24 h) and per day (30 days) of one source, stacked by
 * status, as inline SVG. No script and no external asset; the page's CSS gives the colours
 * (classes s-success ...), so that the light and dark styles and the legend agree. Every bar
 * has a <title> (its time and counts: a tooltip, and what a screen reader reads), the chart a
 * <title> and a <desc> with the totals.
 */
#include <stdio.h>
#include <string.h>

#include "report/report_priv.h"

/* The drawing in viewBox units; CSS scales it to the card's width (never wider). */
#define W 300
#define H 112
#define PLOT_LEFT 30
#define PLOT_RIGHT 296
#define PLOT_TOP 8
#define PLOT_BOTTOM 88
#define LABEL_Y 103

const char fastepost__report_chart_css[] =
    /* The charts scale to the card (never wider: no sideways scrolling on a phone). */
    ".charts{display:grid;gap:6px;margin-top:10px}.charts h4{margin:4px 0 0;font-size:.8rem;font-weight:600;"
    "color:var(--muted)}svg.chart{display:block;width:100%;max-width:100%;height:auto}"
    "svg.chart .axis{stroke:var(--muted);stroke-width:1}svg.chart .grid{stroke:var(--line);stroke-width:1;"
    "stroke-dasharray:3 3}svg.chart text{fill:var(--muted);font-size:9px}svg.chart .none{font-size:11px}"
    ".s-success{fill:var(--c-success);background:var(--c-success)}.s-error{fill:var(--c-error);"
    "background:var(--c-error)}.s-dead{fill:var(--c-dead);background:var(--c-dead)}"
    ".s-pending{fill:var(--c-pending);background:var(--c-pending)}"
    ".legend{display:flex;flex-wrap:wrap;gap:4px 12px;margin:6px 0 0;padding:0;list-style:none;"
    "font-size:.8rem;color:var(--muted)}.legend i{display:inline-block;width:10px;height:10px;"
    "border-radius:2px;margin-right:4px;vertical-align:-1px}";

static const char *const status_names[] = {"success", "error", "dead", "pending"};
#define NSTATUS 4

static uint64_t count_of(const fastepost_crm_bucket *b, int status) {
  switch (status) {
  case 0: return b->success;
  case 1: return b->error;
  case 2: return b->dead;
  default: return b->pending;
  }
}

static uint64_t total_of(const fastepost_crm_bucket *b) {
  uint64_t t = 0;
  for (int s = 0; s < NSTATUS; s++)
    t += count_of(b, s);
  return t;
}

/* "27 Nov 2026, 20:00 UTC", or "" for a bucket without a time (a clock out of range). */
static void when(char *out, size_t size, int64_t us) {
  char *text = NULL;
  out[0] = '\0';
  if (fastepost_report_time_human(&text, us) == FASTEPOST_OK)
    snprintf(out, size, "%s", text);
  fastepost_free(text);
}

/* The axis label of a bucket: "20:00" for an hour, "27 Nov" for a day. */
static void axis_label(char *out, size_t size, int64_t us, fastepost_crm_history_span span) {
  char full[48];
  when(full, sizeof full, us);
  const char *comma = strchr(full, ',');
  if (!comma) {
    out[0] = '\0';
  } else if (span == FASTEPOST_CRM_HISTORY_HOURS) {
    snprintf(out, size, "%.5s", comma + 2);
  } else { /* "27 Nov 2026, ..." -> "27 Nov" */
    const char *sp = strchr(full, ' ');
    sp = sp ? strchr(sp + 1, ' ') : NULL;
    snprintf(out, size, "%.*s", sp ? (int)(sp - full) : 0, full);
  }
}

/* "12 events: 10 success, 2 error" (statuses with events only); "no events". */
static void counts_text(fastepost__buf *b, const fastepost_crm_bucket *bucket) {
  uint64_t total = total_of(bucket);
  if (!total) {
    fastepost__buf_puts(b, "no events");
    return;
  }
  fastepost__buf_printf(b, "%llu event%s:", (unsigned long long)total, total == 1 ? "" : "s");
  const char *sep = " ";
  for (int s = 0; s < NSTATUS; s++) {
    uint64_t n = count_of(bucket, s);
    if (!n)
      continue;
    fastepost__buf_printf(b, "%s%llu %s", sep, (unsigned long long)n, status_names[s]);
    sep = ", ";
  }
}

void fastepost__report_chart(fastepost__buf *b, const char *source, const char *source_title,
                             fastepost_crm_history_span span, const fastepost_crm_bucket *buckets) {
  bool hours = span == FASTEPOST_CRM_HISTORY_HOURS;
  size_t n = hours ? FASTEPOST_CRM_HISTORY_HOURS_LEN : FASTEPOST_CRM_HISTORY_DAYS_LEN;
  const char *kind = hours ? "hours" : "days";
  fastepost_crm_bucket sum = {0};
  uint64_t max = 0;
  for (size_t i = 0; i < n; i++) {
    sum.success += buckets[i].success;
    sum.error += buckets[i].error;
    sum.dead += buckets[i].dead;
    sum.pending += buckets[i].pending;
    uint64_t t = total_of(&buckets[i]);
    if (t > max)
      max = t;
  }

  fastepost__buf_printf(b, "<svg class=\"chart\" data-buckets=\"%zu\" viewBox=\"0 0 %d %d\" role=\"img\" "
                           "aria-labelledby=\"chart-", n, W, H);
  esc(b, source);
  fastepost__buf_printf(b, "-%s-t chart-", kind);
  esc(b, source);
  fastepost__buf_printf(b, "-%s-d\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"chart-", kind);
  esc(b, source);
  fastepost__buf_printf(b, "-%s-t\">", kind);
  esc(b, source_title);
  fastepost__buf_puts(b, hours ? ": events per hour, last 24 hours" : ": events per day, last 30 days");
  fastepost__buf_puts(b, "</title><desc id=\"chart-");
  esc(b, source);
  fastepost__buf_printf(b, "-%s-d\">", kind);
  fastepost__buf_puts(b, hours ? "In the last 24 hours, " : "In the last 30 days, ");
  counts_text(b, &sum);
  fastepost__buf_puts(b, ".</desc>");

  /* The frame: a base line, the top line with the largest bar's count. */
  fastepost__buf_printf(b, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", PLOT_LEFT,
                        PLOT_BOTTOM, PLOT_RIGHT, PLOT_BOTTOM);
  if (max) {
    char num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)max);
    fastepost__buf_printf(b, "<line class=\"grid\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                             "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>",
                          PLOT_LEFT, PLOT_TOP, PLOT_RIGHT, PLOT_TOP, PLOT_LEFT - 4, PLOT_TOP + 4, num);
  }
  fastepost__buf_printf(b, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">0</text>", PLOT_LEFT - 4,
                        PLOT_BOTTOM + 4);

  /* Bars in tenths of a unit (integers: no locale's decimal comma in the numbers). */
  int plot_w10 = (PLOT_RIGHT - PLOT_LEFT) * 10, plot_h10 = (PLOT_BOTTOM - PLOT_TOP) * 10;
  int step10 = plot_w10 / (int)n, bar10 = step10 * 3 / 4;
  for (size_t i = 0; i < n; i++) {
    char label[48];
    when(label, sizeof label, buckets[i].start_us);
    fastepost__buf_puts(b, "<g class=\"bar\"><title>");
    esc(b, label);
    fastepost__buf_puts(b, hours ? " (hour): " : " (day): ");
    counts_text(b, &buckets[i]);
    fastepost__buf_puts(b, "</title>");
    int x10 = PLOT_LEFT * 10 + (int)i * step10 + (step10 - bar10) / 2;
    /* Stacked from the base line up; each segment's top is rounded from the running sum, so
     * that the stack's height is exact and no segment of a bar with events disappears. */
    uint64_t below = 0;
    int y_prev10 = PLOT_BOTTOM * 10;
    for (int s = 0; s < NSTATUS && max; s++) {
      uint64_t c = count_of(&buckets[i], s);
      if (!c)
        continue;
      below += c;
      int top10 = PLOT_BOTTOM * 10 - (int)((below * (uint64_t)plot_h10 + max / 2) / max);
      if (top10 >= y_prev10)
        top10 = y_prev10 - 1;
      fastepost__buf_printf(b, "<rect class=\"s-%s\" x=\"%d.%d\" y=\"%d.%d\" width=\"%d.%d\" height=\"%d.%d\"/>",
                            status_names[s], x10 / 10, x10 % 10, top10 / 10, top10 % 10, bar10 / 10, bar10 % 10,
                            (y_prev10 - top10) / 10, (y_prev10 - top10) % 10);
      y_prev10 = top10;
    }
    fastepost__buf_puts(b, "</g>");
  }

  /* The first and the last bucket's labels (the last holds now). */
  char first[32], last[32];
  axis_label(first, sizeof first, buckets[0].start_us, span);
  axis_label(last, sizeof last, buckets[n - 1].start_us, span);
  fastepost__buf_printf(b, "<text class=\"tick\" x=\"%d\" y=\"%d\">", PLOT_LEFT, LABEL_Y);
  esc(b, first);
  fastepost__buf_printf(b, "</text><text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"end\">", PLOT_RIGHT,
                        LABEL_Y);
  esc(b, last);
  fastepost__buf_puts(b, "</text>");
  if (!max)
    fastepost__buf_printf(b, "<text class=\"none\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">No events</text>",
                          (PLOT_LEFT + PLOT_RIGHT) / 2, (PLOT_TOP + PLOT_BOTTOM) / 2);
  fastepost__buf_puts(b, "</svg>");
}
