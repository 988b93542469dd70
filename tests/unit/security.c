/* SPDX-License-Identifier: MIT */
/* Security properties that need no database (docs/security.md). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "testdb.h"
#include "util/html.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Best of several runs: the time to compare a with b, 20 times. */
static double best_time(const char *a, const char *b, size_t n) {
  double best = 1e9;
  for (int run = 0; run < 15; run++) {
    double t0 = now_s();
    volatile bool eq = false;
    for (int i = 0; i < 20; i++)
      eq = fastepost__ct_equal(a, n, b, n);
    (void)eq;
    double t = now_s() - t0;
    if (t < best)
      best = t;
  }
  return best;
}

/* A comparison that stopped at the first difference would be ~10^5 times faster for a key that
 * differs in its first byte than for one that differs in its last; constant time means about
 * the same. The bound is loose (4x) so that a busy machine does not make it flaky. */
Test(security, key_compare_time_does_not_depend_on_where_keys_differ) {
  size_t n = 256 * 1024;
  char *key = malloc(n), *first = malloc(n), *last = malloc(n);
  memset(key, 'k', n);
  memcpy(first, key, n);
  memcpy(last, key, n);
  first[0] = 'x';
  last[n - 1] = 'x';
  cr_assert_not(fastepost__ct_equal(key, n, first, n));
  cr_assert_not(fastepost__ct_equal(key, n, last, n));
  cr_assert(fastepost__ct_equal(key, n, key, n));
  double t_first = best_time(key, first, n), t_last = best_time(key, last, n);
  double ratio = t_first > t_last ? t_first / t_last : t_last / t_first;
  cr_assert_lt(ratio, 4.0, "differ-first %.6fs vs differ-last %.6fs", t_first, t_last);
  free(key);
  free(first);
  free(last);
}

Test(security, auth_fails_closed_and_never_echoes_keys) {
  /* The library reads no environment variable: a set ODOO_API_KEY configures nothing. */
  setenv("ODOO_API_KEY", "configured-key-456", 1);
  cr_assert_eq(fastepost_odoo_authenticate(NULL, "presented-key-123"), FASTEPOST_ENOKEY);
  cr_assert_null(strstr(fastepost_error_last()->message, "presented-key-123"));
  cr_assert_eq(fastepost_odoo_authenticate(NULL, "configured-key-456"), FASTEPOST_ENOKEY);
  unsetenv("ODOO_API_KEY");
  cr_assert_eq(fastepost_odoo_authenticate("configured-key-456", "presented-key-123"), FASTEPOST_EAUTH);
  cr_assert_null(strstr(fastepost_error_last()->message, "presented-key-123"));
  cr_assert_null(strstr(fastepost_error_last()->message, "configured-key-456"));
  cr_assert_eq(fastepost_odoo_authenticate("configured-key-456", "configured-key-45"), FASTEPOST_EAUTH);
  cr_assert_null(strstr(fastepost_error_last()->message, "configured-key-45"));
}

Test(security, html_stripping_survives_hostile_markup) {
  static const char *const inputs[] = {
      "<", "<<<<", "<a", "<a href=\"", "&", "&#", "&#x", "&#xFFFFFFFFFFFF;", "&#99999999999;", "&#0;",
      "<script>alert(1)</script>", "<!--", "<![CDATA[", "<p\0>x", "\xff\xfe<b>", "&amp", "</",
  };
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    size_t len = strlen(inputs[i]);
    char *copy = malloc(len ? len : 1); /* exact size: ASan/valgrind see any over-read */
    memcpy(copy, inputs[i], len);
    char *out = fastepost__html_to_text(copy, len);
    cr_assert_not_null(out, "input %zu", i);
    cr_assert_null(strchr(out, '<') && strstr(out, "<script") ? out : NULL, "tag kept: %s", out);
    free(out);
    free(copy);
  }
}
