/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "util/fs.h"
#include "util/strv.h"

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

/* Names in dir, sorted, space-separated (to see that no temporary file stays behind). */
static char *listing(const char *dir) {
  static char out[1024];
  out[0] = '\0';
  struct dirent **names = NULL;
  int n = scandir(dir, &names, NULL, alphasort);
  for (int i = 0; i < n; i++) {
    if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
      strcat(out, names[i]->d_name);
      strcat(out, " ");
    }
    free(names[i]);
  }
  free(names);
  return out;
}

Test(fs, durable_write_replaces_whole_or_not_at_all) {
  char dir[] = "/tmp/fp_durable_XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char path[128], missing[160];
  snprintf(path, sizeof path, "%s/out.txt", dir);
  snprintf(missing, sizeof missing, "%s/no/such/dir.txt", dir);
  cr_assert_eq(fastepost__durable_write(path, "old", 3), FASTEPOST_OK);
  cr_assert_eq(fastepost__durable_write(path, "new contents", 12), FASTEPOST_OK);
  FILE *f = fopen(path, "r");
  char buf[32] = "";
  cr_assert_eq(fread(buf, 1, sizeof buf - 1, f), 12);
  fclose(f);
  cr_assert_str_eq(buf, "new contents");
  struct stat sb;
  cr_assert_eq(stat(path, &sb), 0);
  cr_assert_eq(sb.st_mode & 0777, 0600);
  /* A failed commit (the write step fails) leaves the old file and no temporary one. */
  fastepost__durable d;
  cr_assert_eq(fastepost__durable_open(&d, path), FASTEPOST_OK);
  cr_assert_eq(fastepost__write_all_status(d.fd, "partial", 7, path), FASTEPOST_OK);
  cr_assert_eq(fastepost__durable_close(&d, FASTEPOST_ECANCELED), FASTEPOST_ECANCELED);
  cr_assert_str_eq(listing(dir), "out.txt ");
  cr_assert_eq(fastepost__durable_write(missing, "x", 1), FASTEPOST_EIO);
  cr_assert(strstr(fastepost_error_last()->message, "no/such"), "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost__durable_write(NULL, "x", 1), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost__durable_write(path, NULL, 1), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost__durable_write(path, NULL, 0), FASTEPOST_OK); /* empty file */
  cr_assert_eq(stat(path, &sb), 0);
  cr_assert_eq(sb.st_size, 0);
  cr_assert_str_eq(listing(dir), "out.txt ");
  unlink(path);
  rmdir(dir);
}

Test(strv, lists_strings_and_enum_names) {
  char **v = NULL;
  size_t n = 0;
  cr_assert_eq(fastepost__strv_push(&v, &n, "a", "x"), FASTEPOST_OK);
  cr_assert_eq(fastepost__strv_push(&v, &n, "b", "x"), FASTEPOST_OK);
  cr_assert_eq(fastepost__strv_push(&v, &n, NULL, "schema"), FASTEPOST_EINVALID);
  cr_assert_str_eq(fastepost_error_last()->message, "schema is NULL");
  cr_assert_eq(n, 2);
  cr_assert_str_eq(v[0], "a");
  cr_assert_str_eq(v[1], "b");
  cr_assert_null(v[2]);
  fastepost__strv_free(v);
  char *s = NULL;
  cr_assert_eq(fastepost__str_set(&s, "k"), FASTEPOST_OK);
  cr_assert_str_eq(s, "k");
  cr_assert_eq(fastepost__str_set(&s, NULL), FASTEPOST_OK);
  cr_assert_null(s);
  static const char *const names[] = {"one", "two"};
  int i = -1;
  cr_assert_eq(fastepost__enum_parse(&i, "TWO", names, 2, "thing", "one or two"), FASTEPOST_OK);
  cr_assert_eq(i, 1);
  cr_assert_eq(fastepost__enum_parse(&i, "three", names, 2, "thing", "one or two"), FASTEPOST_EINVALID);
  cr_assert_str_eq(fastepost_error_last()->message, "unknown thing 'three' (use one or two)");
  cr_assert_str_eq(fastepost__enum_name(1, names, 2), "two");
  cr_assert_str_eq(fastepost__enum_name(2, names, 2), "");
  cr_assert_str_eq(fastepost__enum_name(-1, names, 2), "");
}
