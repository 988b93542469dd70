/* SPDX-License-Identifier: MIT */
/* The presentation texts (fastepost/report.h): "time ago" with an explicit clock, ISO time
 * stamps, the badge's colour and label. */
#include <criterion/criterion.h>

#include <fastepost.h>

static void expect(int64_t then_us, int64_t now_us, const char *want) {
  char *s = NULL;
  cr_assert_eq(fastepost_report_time_ago(&s, then_us, now_us), FASTEPOST_OK);
  cr_assert_str_eq(s, want, "diff %lld us", (long long)(now_us - then_us));
  fastepost_free(s);
}

#define MS 1000LL
#define SEC (1000 * MS)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

Test(time_ago, units_and_boundaries) {
  const int64_t now = 1795782896789123LL;
  expect(now, now, "just now");
  expect(now - MIN + 1, now, "just now");
  expect(now - MIN, now, "1 minute ago");
  expect(now - 3 * MIN - 59 * SEC, now, "3 minutes ago");
  expect(now - 59 * MIN, now, "59 minutes ago");
  expect(now - HOUR, now, "1 hour ago");
  expect(now - 23 * HOUR - 59 * MIN, now, "23 hours ago");
  expect(now - DAY, now, "1 day ago");
  expect(now - 2 * DAY - HOUR, now, "2 days ago");
  expect(now - 29 * DAY, now, "29 days ago");
  expect(now - 30 * DAY, now, "1 month ago");
  expect(now - 364 * DAY, now, "12 months ago");
  expect(now - 365 * DAY, now, "1 year ago");
  expect(now - 3 * 365 * DAY, now, "3 years ago");
  /* Clock skew: a little in the future is "just now", more is said plainly. */
  expect(now + MIN - 1, now, "just now");
  expect(now + MIN, now, "in the future");
  expect(0, 0, "just now");
  /* Extremes saturate instead of overflowing. */
  expect(INT64_MIN, INT64_MAX, "292471 years ago");
  expect(INT64_MAX, INT64_MIN, "in the future");
  cr_assert_eq(fastepost_report_time_ago(NULL, 0, 0), FASTEPOST_EINVALID);
}

Test(time_ago, iso_text) {
  char *s = NULL;
  cr_assert_eq(fastepost_report_time_iso(&s, 1795782896789123LL), FASTEPOST_OK);
  cr_assert_str_eq(s, "2026-11-27T12:34:56.789123Z");
  fastepost_free(s);
  cr_assert_eq(fastepost_report_time_iso(&s, 0), FASTEPOST_OK);
  cr_assert_str_eq(s, "1970-01-01T00:00:00.000000Z");
  fastepost_free(s);
  s = (char *)&s;
  cr_assert_eq(fastepost_report_time_iso(&s, INT64_MAX), FASTEPOST_EINVALID);
  cr_assert_null(s);
  cr_assert_eq(fastepost_report_time_iso(NULL, 0), FASTEPOST_EINVALID);
}

Test(time_ago, badge_colour_and_label) {
  cr_assert_str_eq(fastepost_report_badge_colour(FASTEPOST_CRM_STATS_HEALTH_GOOD), "green");
  cr_assert_str_eq(fastepost_report_badge_colour(FASTEPOST_CRM_STATS_HEALTH_WARNING), "yellow");
  cr_assert_str_eq(fastepost_report_badge_colour(FASTEPOST_CRM_STATS_HEALTH_NONE), "none");
  cr_assert_str_eq(fastepost_report_badge_colour((fastepost_crm_stats_health)42), "none");

  fastepost_crm_source_stats src = {0};
  char *s = NULL;
  cr_assert_eq(fastepost_report_badge_label(&s, &src), FASTEPOST_OK);
  cr_assert_str_eq(s, "no events");
  fastepost_free(s);
  src.has_success_rate = 1;
  src.success_rate_tenths = 667;
  src.success_rate = 66.7;
  cr_assert_eq(fastepost_report_badge_label(&s, &src), FASTEPOST_OK);
  cr_assert_str_eq(s, "66.7% success");
  fastepost_free(s);
  src.success_rate_tenths = 1000;
  cr_assert_eq(fastepost_report_badge_label(&s, &src), FASTEPOST_OK);
  cr_assert_str_eq(s, "100.0% success");
  fastepost_free(s);
  cr_assert_eq(fastepost_report_badge_label(&s, NULL), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_report_badge_label(NULL, &src), FASTEPOST_EINVALID);
}

Test(time_ago, health_names_round_trip) {
  for (int h = FASTEPOST_CRM_STATS_HEALTH_NONE; h <= FASTEPOST_CRM_STATS_HEALTH_WARNING; h++) {
    fastepost_crm_stats_health back = (fastepost_crm_stats_health)99;
    const char *name = fastepost_crm_stats_health_name((fastepost_crm_stats_health)h);
    cr_assert_eq(fastepost_crm_stats_health_parse(&back, name), FASTEPOST_OK, "%s", name);
    cr_assert_eq((int)back, h);
  }
  cr_assert_str_eq(fastepost_crm_stats_health_name(FASTEPOST_CRM_STATS_HEALTH_GOOD), "good");
  cr_assert_str_eq(fastepost_crm_stats_health_name((fastepost_crm_stats_health)7), "");
  fastepost_crm_stats_health h;
  cr_assert_eq(fastepost_crm_stats_health_parse(&h, "green"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_crm_stats_health_parse(&h, NULL), FASTEPOST_EINVALID);
}
