/* SPDX-License-Identifier: MIT */
/*
 * Failure logging and retry under decimal-comma and Turkish locales (issue 11 item 2): a host
 * that calls setlocale(LC_ALL, "") under de_DE.UTF-8 or tr_TR.UTF-8 must still get a failing
 * delivery logged as `error` with next_attempt_at set, and retried. The suite exits with 77
 * (ctest's skip) when the locales are not installed (scripts/deps generates them).
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "retry_counts.h"
#include "testdb.h"

TestSuite(odoo_locale, .init = fptest_setup_schema, .fini = fptest_teardown);

#define KEY "odoo-locale-key"

static const char PARTNER[] = "{\"_id\": 42, \"_model\": \"res.partner\", \"name\": \"Anna\", "
                              "\"email\": \"anna@x.de\", \"write_date\": \"2024-05-03 14:22:07\"}";

static void failing_delivery_is_logged_and_retried(const char *locale) {
  cr_assert_not_null(setlocale(LC_ALL, locale), "%s", locale);
  if (strncmp(locale, "de_DE", 5) == 0)
    cr_assert_str_eq(localeconv()->decimal_point, ",", "the locale really uses a decimal comma");
  /* A transient failure (serialization failure: EBUSY) so that the event is queued for retry. */
  fptest_exec("CREATE FUNCTION fail_busy() RETURNS trigger LANGUAGE plpgsql AS "
              "$$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40001'; END $$");
  fptest_exec("CREATE TRIGGER fail_busy BEFORE INSERT OR UPDATE ON customers "
              "FOR EACH ROW EXECUTE FUNCTION fail_busy()");
  fastepost_odoo_options *o = NULL;
  cr_assert_eq(fastepost_odoo_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_odoo_options_add_api_key(o, KEY), FASTEPOST_OK);
  fastepost_event_result *r = NULL;
  cr_assert_eq(fastepost_odoo_process(&r, fptest_conn(), KEY, PARTNER, strlen(PARTNER), o), FASTEPOST_EBUSY);
  cr_assert_gt(fastepost_event_result_event_id(r), 0, "the failure is logged: %s",
               fastepost_event_result_warning_count(r) ? fastepost_event_result_warning(r, 0) : "");
  fastepost_event_result_free(r);
  cr_assert_str_eq(fptest_scalar("SELECT status || ' ' || attempts FROM integration_events"), "error 1");
  /* First backoff: 30 s times a jitter of 0.5 to 1. */
  cr_assert_str_eq(fptest_scalar("SELECT next_attempt_at BETWEEN localtimestamp + interval '14 seconds' "
                                 "AND localtimestamp + interval '31 seconds' FROM integration_events"),
                   "t", "next_attempt_at %s", fptest_scalar("SELECT next_attempt_at - localtimestamp FROM integration_events"));
  /* The retry, due now, under the same locale. */
  fptest_exec("DROP TRIGGER fail_busy ON customers");
  fptest_exec("UPDATE integration_events SET next_attempt_at = localtimestamp - interval '1 second'");
  fptest_retry rep;
  cr_assert_eq(fptest_events_retry(fptest_conn(), 10, NULL, NULL, &rep), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(rep.succeeded, 1);
  cr_assert_str_eq(fptest_scalar("SELECT status || ' ' || outcome FROM integration_events"), "success created");
  cr_assert_str_eq(fptest_scalar("SELECT name FROM customers"), "Anna");
  fastepost_odoo_options_free(o);
  setlocale(LC_ALL, "C");
}

Test(odoo_locale, de_DE) { failing_delivery_is_logged_and_retried("de_DE.UTF-8"); }

Test(odoo_locale, tr_TR) { failing_delivery_is_logged_and_retried("tr_TR.UTF-8"); }


/* Before Criterion starts: without the locales the whole suite is skipped (exit 77, ctest's
 * SKIP_RETURN_CODE for this suite), never passed. */
__attribute__((constructor)) static void require_locales(void) {
  static const char *const needed[] = {"de_DE.UTF-8", "tr_TR.UTF-8"};
  for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
    if (!setlocale(LC_ALL, needed[i])) {
      fprintf(stderr, "SKIP: locale %s is not installed (scripts/deps generates it)\n", needed[i]);
      fflush(stderr);
      _exit(77);
    }
  }
  setlocale(LC_ALL, "C");
}
