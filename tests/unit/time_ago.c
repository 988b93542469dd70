/* fastepost_time_ago: the dashboard's "time ago" text, with an explicit clock. */
#include <criterion/criterion.h>

#include <fastepost.h>

static void expect(int64_t then_ms, int64_t now_ms, const char *want) {
  char *s = NULL;
  cr_assert_eq(fastepost_time_ago(&s, then_ms, now_ms), FASTEPOST_OK);
  cr_assert_str_eq(s, want, "diff %lld ms", (long long)(now_ms - then_ms));
  fastepost_free(s);
}

#define SEC 1000LL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

Test(time_ago, units_and_boundaries) {
  const int64_t now = 1795782896789LL;
  expect(now, now, "just now");
  expect(now - 59999, now, "just now");
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
  expect(now + 59999, now, "just now");
  expect(now + MIN, now, "in the future");
  expect(0, 0, "just now");
  cr_assert_eq(fastepost_time_ago(NULL, 0, 0), FASTEPOST_EINVALID);
}
