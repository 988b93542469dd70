/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <string.h>

#include "internal.h"

Test(errors, last_is_never_null_and_starts_clear) {
  const fastepost_error *e = fastepost_error_last();
  cr_assert_not_null(e);
  cr_assert_eq(e->code, FASTEPOST_OK);
  cr_assert_str_empty(e->message);
  cr_assert_str_empty(e->sqlstate);
}

Test(errors, set_records_code_message_and_sqlstate) {
  int rc = fastepost__error_set_sqlstate(FASTEPOST_EDB, "23505", "table %s: %d", "customers", 7);
  cr_assert_eq(rc, FASTEPOST_EDB);
  const fastepost_error *e = fastepost_error_last();
  cr_assert_eq(e->code, FASTEPOST_EDB);
  cr_assert_str_eq(e->message, "table customers: 7");
  cr_assert_str_eq(e->sqlstate, "23505");
  fastepost__error_set(FASTEPOST_EINVALID, "plain");
  cr_assert_str_empty(fastepost_error_last()->sqlstate, "a new error must not keep an old SQLSTATE");
  fastepost_error_clear();
  cr_assert_eq(fastepost_error_last()->code, FASTEPOST_OK);
}

Test(errors, prefix_keeps_the_message) {
  fastepost__error_set(FASTEPOST_EPARSE, "line %d", 3);
  fastepost__error_prefix("importing %s", "x.csv");
  cr_assert_str_eq(fastepost_error_last()->message, "importing x.csv: line 3");
  cr_assert_eq(fastepost_error_last()->code, FASTEPOST_EPARSE);
}

Test(errors, long_messages_are_truncated_not_overflowed) {
  char big[5000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  fastepost__error_set(FASTEPOST_ERROR, "%s", big);
  cr_assert_lt(strlen(fastepost_error_last()->message), 1024);
}

static void *other_thread(void *arg) {
  (void)arg;
  fastepost__error_set(FASTEPOST_EAUTH, "other thread");
  return NULL;
}

#include <pthread.h>
Test(errors, thread_local) {
  fastepost__error_set(FASTEPOST_EIO, "this thread");
  pthread_t t;
  pthread_create(&t, NULL, other_thread, NULL);
  pthread_join(t, NULL);
  cr_assert_eq(fastepost_error_last()->code, FASTEPOST_EIO);
  cr_assert_str_eq(fastepost_error_last()->message, "this thread");
}

Test(errors, strerror_and_names_cover_every_code) {
  for (int code = FASTEPOST_OK; code >= FASTEPOST_EREADONLY; code--) {
    cr_assert_str_neq(fastepost_strerror(code), "unknown error", "code %d", code);
    cr_assert_eq(strncmp(fastepost_error_name(code), "FASTEPOST_", 10), 0);
    cr_assert_str_neq(fastepost_error_name(code), "FASTEPOST_UNKNOWN", "code %d", code);
  }
  cr_assert_str_eq(fastepost_strerror(-9999), "unknown error");
  cr_assert_str_eq(fastepost_error_name(FASTEPOST_EDB), "FASTEPOST_EDB");
  cr_assert_str_eq(fastepost_strerror(FASTEPOST_ECONN), "database connection failed");
}

Test(errors, sqlstate_mapping) {
  cr_assert_eq(fastepost__sqlstate_code("08006"), FASTEPOST_ECONN);
  cr_assert_eq(fastepost__sqlstate_code("57P01"), FASTEPOST_ECONN);
  cr_assert_eq(fastepost__sqlstate_code("40001"), FASTEPOST_EBUSY);
  cr_assert_eq(fastepost__sqlstate_code("40P01"), FASTEPOST_EBUSY);
  cr_assert_eq(fastepost__sqlstate_code("23505"), FASTEPOST_EDB);
  cr_assert_eq(fastepost__sqlstate_code(NULL), FASTEPOST_EDB);
}

Test(version, runtime_matches_headers) {
  int major = -1, minor = -1, patch = -1;
  const char *v = fastepost_libversion(&major, &minor, &patch);
  cr_assert_str_eq(v, FASTEPOST_VERSION);
  cr_assert_eq(major, FASTEPOST_VERSION_MAJOR);
  cr_assert_eq(minor, FASTEPOST_VERSION_MINOR);
  cr_assert_eq(patch, FASTEPOST_VERSION_PATCH);
  cr_assert_str_eq(fastepost_libversion(NULL, NULL, NULL), FASTEPOST_VERSION);
}
