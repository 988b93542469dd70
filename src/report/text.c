/* SPDX-License-Identifier: MIT */
/*
 * The texts people read (fastepost/report.h): "time ago", ISO and human time stamps, the badge's colour
 * and label. English and locale-independent: no printf floating point, no strftime.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "util/time.h"

fastepost_status fastepost_report_time_ago(char **out, int64_t then_us, int64_t now_us) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_report_time_ago: out is NULL");
  static const struct {
    int64_t us;
    const char *unit;
  } units[] = {{365LL * 86400000000, "year"}, {30LL * 86400000000, "month"}, {86400000000LL, "day"},
               {3600000000LL, "hour"},         {60000000LL, "minute"}};
  /* Saturating: a then_us of INT64_MIN must not overflow into "in the future". */
  int64_t diff;
  if (then_us < 0 && now_us > INT64_MAX + then_us)
    diff = INT64_MAX;
  else if (then_us > 0 && now_us < INT64_MIN + then_us)
    diff = INT64_MIN;
  else
    diff = now_us - then_us;
  char text[64] = "just now";
  if (diff <= -60000000LL) {
    snprintf(text, sizeof text, "in the future");
  } else {
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
      if (diff >= units[i].us) {
        long long n = (long long)(diff / units[i].us);
        snprintf(text, sizeof text, "%lld %s%s ago", n, units[i].unit, n == 1 ? "" : "s");
        break;
      }
  }
  *out = fastepost__strdup(text);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

fastepost_status fastepost_report_time_iso(char **out, int64_t us) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_report_time_iso: out is NULL");
  *out = NULL;
  char text[40];
  if (!fastepost__time_format(text, sizeof text, us))
    return fastepost__error_set(FASTEPOST_EINVALID, "the time %lld us is outside the years 1 to 9999",
                                (long long)us);
  /* "YYYY-MM-DD HH:MM:SS.ffffff" -> "YYYY-MM-DDTHH:MM:SS.ffffffZ" */
  char *sp = strchr(text, ' ');
  if (sp)
    *sp = 'T';
  size_t n = strlen(text);
  if (n + 1 < sizeof text) {
    text[n] = 'Z';
    text[n + 1] = '\0';
  }
  *out = fastepost__strdup(text);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

fastepost_status fastepost_report_time_human(char **out, int64_t us) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_report_time_human: out is NULL");
  *out = NULL;
  /* Fixed English names: strftime's %b follows LC_TIME ("Okt" under de_DE). */
  static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char iso[40];
  int month, day;
  /* "YYYY-MM-DD HH:MM:SS.ffffff": the calendar arithmetic stays in one place (util/time.c). */
  if (!fastepost__time_format(iso, sizeof iso, us) || !fastepost__parse_digits(iso + 5, 2, &month) ||
      !fastepost__parse_digits(iso + 8, 2, &day) || month < 1 || month > 12)
    return fastepost__error_set(FASTEPOST_EINVALID, "the time %lld us is outside the years 1 to 9999",
                                (long long)us);
  char text[40];
  snprintf(text, sizeof text, "%d %s %.4s, %.5s UTC", day, months[month - 1], iso, iso + 11);
  *out = fastepost__strdup(text);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

const char *fastepost_report_badge_colour(fastepost_crm_stats_health health) {
  switch (health) {
  case FASTEPOST_CRM_STATS_HEALTH_GOOD: return "green";
  case FASTEPOST_CRM_STATS_HEALTH_WARNING: return "yellow";
  default: return "none";
  }
}

fastepost_status fastepost_report_badge_label(char **out, const fastepost_crm_source_stats *source) {
  if (!out || !source)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_report_badge_label: out or source is NULL");
  char text[64];
  if (source->has_success_rate)
    snprintf(text, sizeof text, "%u.%u%% success", (unsigned)(source->success_rate_tenths / 10),
             (unsigned)(source->success_rate_tenths % 10));
  else
    snprintf(text, sizeof text, "no events");
  *out = fastepost__strdup(text);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}
