/* SPDX-License-Identifier: MIT */
/* The presentation texts (fastepost/report.h): "time ago" with an explicit clock, ISO time
 * stamps, human time stamps ("27 Nov 2026, 20:08 UTC"), the badge's colour and label. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

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

static void expect_human(int64_t us, const char *want) {
  char *s = NULL;
  cr_assert_eq(fastepost_report_time_human(&s, us), FASTEPOST_OK, "%lld us", (long long)us);
  cr_assert_str_eq(s, want, "%lld us", (long long)us);
  fastepost_free(s);
}

/* The dashboard's times: English month names whatever LC_TIME says (this suite also runs under
 * de_DE and tr_TR), UTC, minutes rounded down, the calendar's edges. */
Test(time_ago, human_text) {
  expect_human(1795810136109282LL, "27 Nov 2026, 20:08 UTC");
  expect_human(1795810136109282LL - 8 * MIN - 56 * SEC - 109282, "27 Nov 2026, 20:00 UTC");
  expect_human(1795810136109282LL - 8 * MIN - 56 * SEC - 109283, "27 Nov 2026, 19:59 UTC");
  expect_human(0, "1 Jan 1970, 00:00 UTC");
  expect_human(-1, "31 Dec 1969, 23:59 UTC");
  expect_human(1709164800000000LL, "29 Feb 2024, 00:00 UTC");
  expect_human(1709164800000000LL - 1, "28 Feb 2024, 23:59 UTC");
  /* Every month's name once: the 15th of each month of 2026. */
  static const char *const want[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static const int days_before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  const int64_t jan1_2026 = 1767225600000000LL;
  for (int m = 0; m < 12; m++) {
    char text[64];
    snprintf(text, sizeof text, "15 %s 2026, 12:30 UTC", want[m]);
    expect_human(jan1_2026 + (days_before[m] + 14) * DAY + 12 * HOUR + 30 * MIN, text);
  }
  /* The years 1 to 9999, and nothing outside them. */
  expect_human(253402300799999999LL, "31 Dec 9999, 23:59 UTC");
  expect_human(-62135596800000000LL, "1 Jan 0001, 00:00 UTC");
  char *s = (char *)&s;
  cr_assert_eq(fastepost_report_time_human(&s, 253402300800000000LL), FASTEPOST_EINVALID);
  cr_assert_null(s);
  cr_assert_eq(fastepost_report_time_human(&s, -62135596800000001LL), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_report_time_human(&s, INT64_MAX), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_report_time_human(&s, INT64_MIN), FASTEPOST_EINVALID);
  cr_assert_null(s);
  cr_assert(strstr(fastepost_error_last()->message, "outside the years 1 to 9999"), "%s",
            fastepost_error_last()->message);
  cr_assert_eq(fastepost_report_time_human(NULL, 0), FASTEPOST_EINVALID);
}
