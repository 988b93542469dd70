/* SPDX-License-Identifier: MIT */
/* Shared by the HTML report's files (src/report.c, src/report/chart.c). */
#ifndef FASTEPOST_REPORT_PRIV_H
#define FASTEPOST_REPORT_PRIV_H

#include "internal.h"

/* Text as HTML (element content and attribute values alike); NULL as an em dash. */
void fastepost__report_esc(fastepost__buf *b, const char *s);
#define esc(b, s) fastepost__report_esc(b, s)

/* The charts' and the legend's CSS (colours from the page's variables --c-success ...). */
extern const char fastepost__report_chart_css[];

/* One stacked bar chart of a source's history as inline SVG: role="img", a <title> and a
 * <desc> with the totals (its element ids "chart-<source>-hours|days-t|d", unique in the page),
 * a <g class="bar"> per bucket with its own <title>, bars as <rect class="s-<status>">. The
 * source and its title are escaped here. buckets holds FASTEPOST_CRM_HISTORY_HOURS_LEN or
 * FASTEPOST_CRM_HISTORY_DAYS_LEN buckets, as span says. */
void fastepost__report_chart(fastepost__buf *b, const char *source, const char *source_title,
                             fastepost_crm_history_span span, const fastepost_crm_bucket *buckets);

#endif
