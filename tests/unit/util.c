#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

Test(buf, append_printf_detach) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  cr_assert_str_eq(fastepost__buf_cstr(&b), "");
  fastepost__buf_puts(&b, "abc");
  fastepost__buf_putc(&b, '-');
  fastepost__buf_printf(&b, "%d/%s", 42, "x");
  cr_assert_str_eq(fastepost__buf_cstr(&b), "abc-42/x");
  cr_assert_eq(b.len, 8);
  for (int i = 0; i < 1000; i++)
    fastepost__buf_puts(&b, "0123456789");
  cr_assert_eq(b.len, 10008);
  char *s = fastepost__buf_detach(&b);
  cr_assert_eq(strlen(s), 10008);
  cr_assert_null(b.data);
  fastepost_free(s);
  s = fastepost__buf_detach(&b);
  cr_assert_str_eq(s, "", "detaching an empty buffer gives an empty string");
  fastepost_free(s);
}

Test(buf, clear_keeps_capacity) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&b, "hello");
  size_t cap = b.cap;
  fastepost__buf_clear(&b);
  cr_assert_eq(b.len, 0);
  cr_assert_eq(b.cap, cap);
  cr_assert_str_eq(fastepost__buf_cstr(&b), "");
  fastepost__buf_free(&b);
}

Test(buf, oom_is_sticky) {
  fastepost__buf b = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&b, "x");
  cr_assert_eq(fastepost__buf_grow(&b, SIZE_MAX - 1), FASTEPOST_ENOMEM);
  cr_assert_eq(fastepost__buf_puts(&b, "y"), FASTEPOST_ENOMEM);
  cr_assert_null(fastepost__buf_detach(&b));
  cr_assert_eq(fastepost_error_last()->code, FASTEPOST_ENOMEM);
}

Test(str, ct_equal) {
  cr_assert(fastepost__ct_equal("secret", 6, "secret", 6));
  cr_assert_not(fastepost__ct_equal("secret", 6, "secreT", 6));
  cr_assert_not(fastepost__ct_equal("secret", 6, "secret1", 7));
  cr_assert_not(fastepost__ct_equal("secret", 6, "", 0));
  cr_assert_not(fastepost__ct_equal("", 0, "x", 1));
  cr_assert(fastepost__ct_equal("", 0, "", 0));
}

Test(str, utf8_validation) {
  size_t off = 99;
  cr_assert(fastepost__utf8_valid("plain", 5, &off));
  cr_assert(fastepost__utf8_valid("Stra\xc3\x9f" "e \xe2\x82\xac \xf0\x9f\x93\xa6", 16, &off));
  cr_assert_not(fastepost__utf8_valid("ab\xa9" "cd", 5, &off));
  cr_assert_eq(off, 2);
  cr_assert_not(fastepost__utf8_valid("ab\xc3", 3, &off), "truncated sequence");
  cr_assert_eq(off, 2);
  cr_assert_not(fastepost__utf8_valid("\xc0\xaf", 2, &off), "overlong");
  cr_assert_not(fastepost__utf8_valid("\xed\xa0\x80", 3, &off), "surrogate");
  cr_assert_not(fastepost__utf8_valid("\xf4\x90\x80\x80", 4, &off), "past U+10FFFF");
  cr_assert_not(fastepost__utf8_valid("\xe0\x80\x80", 3, &off), "overlong 3-byte");
  cr_assert(fastepost__utf8_valid("a\0b", 3, &off), "NUL is valid UTF-8");
}

Test(str, preview_is_short_and_safe) {
  char out[64];
  fastepost__preview(out, sizeof out, "a\nb", 3);
  cr_assert_str_eq(out, "a\\x0ab");
  char big[200];
  memset(big, 'z', sizeof big);
  fastepost__preview(out, sizeof out, big, sizeof big);
  cr_assert_lt(strlen(out), sizeof out);
  cr_assert(strstr(out, "...") != NULL);
  fastepost__preview(out, sizeof out, "\xff\xfe", 2);
  cr_assert_str_eq(out, "\\xff\\xfe");
  cr_assert(fastepost__utf8_valid(out, strlen(out), NULL));
  fastepost__preview(out, sizeof out, "\xc3\xa9t\xc3\xa9", 5);
  cr_assert_str_eq(out, "\xc3\xa9t\xc3\xa9");
}
