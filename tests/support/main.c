/* SPDX-License-Identifier: MIT */
/*
 * The main() of every Criterion suite (linked from the support archive, so a suite that brings
 * its own main() keeps it). It differs from Criterion's own in two ways:
 *
 * - A run in which a test was skipped (cr_skip_test) and none failed exits with 77, which ctest
 *   reports as "Skipped" (SKIP_RETURN_CODE): Criterion's own main() exits 0, so a suite whose
 *   tests could not run would count as passed.
 * - With FASTEPOST_TEST_SETLOCALE=1 it calls setlocale(LC_ALL, "") first, as many hosts do
 *   (Python's locale.setlocale(locale.LC_ALL, ""), daemons), so that the locale suite (ctest
 *   label `locale`) runs the library under LC_ALL=de_DE.UTF-8, tr_TR.UTF-8 ... A locale that is
 *   not installed fails the run: a suite that silently ran under "C" would prove nothing.
 *   Every worker sets it too (see setlocale_from_env()).
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testdb.h"

#define SKIP_EXIT_CODE 77

static size_t skipped, failed;
static char locale_name[128]; /* set when FASTEPOST_TEST_SETLOCALE=1 */

ReportHook(POST_ALL)(struct criterion_global_stats *stats) {
  skipped = stats->tests_skipped;
  failed = stats->tests_failed + stats->tests_crashed;
}

/* A constructor, not a call in main(): Criterion's workers re-execute this program, but their
 * main() is patched to jump straight into the test, so only constructors run in both. */
__attribute__((constructor)) static void setlocale_from_env(void) {
  const char *want = getenv("FASTEPOST_TEST_SETLOCALE");
  if (!want || strcmp(want, "1") != 0)
    return;
  const char *name = setlocale(LC_ALL, "");
  if (!name) {
    const char *lc_all = getenv("LC_ALL");
    fprintf(stderr, "FASTEPOST_TEST_SETLOCALE: setlocale(LC_ALL, \"\") failed for LC_ALL=%s "
                    "(not installed? scripts/deps locales generates the test locales)\n",
            lc_all ? lc_all : "(unset)");
    exit(1);
  }
  snprintf(locale_name, sizeof locale_name, "%s", name);
}

/* Criterion's workers re-run the executable and find main() in the dynamic symbol table, so it
 * must be exported (ENABLE_EXPORTS) and visible despite the project's hidden default; else the
 * worker finds the library's weak main() and enters the runner again. */
__attribute__((visibility("default"))) int main(int argc, char *argv[]) {
  if (locale_name[0])
    fprintf(stderr, "FASTEPOST_TEST_SETLOCALE: running under %s (decimal point '%s')\n", locale_name,
            localeconv()->decimal_point);
  struct criterion_test_set *tests = criterion_initialize();
  int result = 0;
  int go = criterion_handle_args(argc, argv, true);
  if (go > 0) {
    result = criterion_run_all_tests(tests) ? 0 : 1;
    if (result == 0 && failed == 0 && skipped > 0) {
      printf("SKIPPED: %zu test(s) skipped (see above): the suite did not run in full\n", skipped);
      result = SKIP_EXIT_CODE;
    }
  } else if (go < 0) {
    result = 1;
  }
  criterion_finalize(tests);
  return result;
}
