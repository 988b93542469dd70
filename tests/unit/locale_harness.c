/* SPDX-License-Identifier: MIT */
/* The locale suite's own premise: with FASTEPOST_TEST_SETLOCALE=1 every Criterion worker runs
 * in the locale LC_ALL names (tests/support/main.c), so that a locale run cannot silently test
 * the "C" locale; without it, the tests run in "C" as the C standard starts every program. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "testdb.h"

Test(locale_harness, workers_run_in_the_requested_locale) {
  const char *want = getenv("FASTEPOST_TEST_SETLOCALE");
  const char *current = setlocale(LC_ALL, NULL);
  cr_assert(current);
  if (!want || strcmp(want, "1") != 0) {
    cr_assert_str_eq(current, "C");
    cr_assert_str_eq(localeconv()->decimal_point, ".");
    return;
  }
  const char *lc_all = getenv("LC_ALL");
  cr_assert(lc_all && *lc_all, "FASTEPOST_TEST_SETLOCALE=1 without LC_ALL");
  cr_assert_str_eq(current, lc_all);
  /* The test locales are decimal-comma ones (tests/locale/locale_tests.cmake). */
  if (strncmp(lc_all, "de_DE", 5) == 0 || strncmp(lc_all, "tr_TR", 5) == 0)
    cr_assert_str_eq(localeconv()->decimal_point, ",");
}
