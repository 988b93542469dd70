/* The child-process runner and backup name parsing (no database). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "backup_priv.h"
#include "util/proc.h"

typedef struct sink {
  char data[4096];
  size_t len;
  size_t stop_after;
} sink;

static int collect(void *payload, const char *data, size_t len) {
  sink *s = payload;
  size_t n = len < sizeof s->data - 1 - s->len ? len : sizeof s->data - 1 - s->len;
  memcpy(s->data + s->len, data, n);
  s->len += n;
  s->data[s->len] = '\0';
  return s->stop_after && s->len >= s->stop_after ? FASTEPOST_ECANCELED : 0;
}

Test(proc, exit_status_stdout_and_stderr) {
  const char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; echo more >&2; exit 3", NULL};
  sink s = {0};
  fastepost__proc p = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .on_stdout = collect, .payload = &s};
  cr_assert_eq(fastepost__proc_run(&p), FASTEPOST_OK);
  cr_assert_eq(p.exit_code, 3);
  cr_assert_eq(p.signal, 0);
  cr_assert_str_eq(s.data, "out\n");
  cr_assert_str_eq(p.err, "err\nmore", "trailing newline trimmed");
  char how[64];
  fastepost__proc_describe(&p, how, sizeof how);
  cr_assert_str_eq(how, "exited with status 3");
  fastepost__proc_cleanup(&p);
  fastepost__proc_cleanup(&p);
}

Test(proc, stderr_is_bounded) {
  const char *argv[] = {"/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x >&2", NULL};
  fastepost__proc p = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_max = 100};
  cr_assert_eq(fastepost__proc_run(&p), FASTEPOST_OK);
  cr_assert_eq(p.exit_code, 0);
  cr_assert_eq(strlen(p.err), 100);
  cr_assert(p.err_truncated);
  fastepost__proc_cleanup(&p);
}

Test(proc, environment_added_replaced_removed) {
  setenv("FP_KEEP", "kept", 1);
  setenv("FP_DROP", "dropped", 1);
  setenv("FP_SET", "old", 1);
  const char *argv[] = {"/bin/sh", "-c", "echo \"$FP_KEEP|${FP_DROP-unset}|$FP_SET|$FP_NEW\"", NULL};
  const char *env[] = {"FP_SET=new", "FP_NEW=x=y", NULL};
  const char *remove[] = {"FP_DROP", NULL};
  sink s = {0};
  fastepost__proc p = {.argv = argv, .env = env, .env_remove = remove, .stdin_fd = -1,
                       .stdout_fd = -1, .on_stdout = collect, .payload = &s};
  cr_assert_eq(fastepost__proc_run(&p), FASTEPOST_OK);
  cr_assert_str_eq(s.data, "kept|unset|new|x=y\n");
  fastepost__proc_cleanup(&p);
}

Test(proc, callback_stop_kills_the_child) {
  const char *argv[] = {"/usr/bin/yes", NULL};
  sink s = {.stop_after = 1000};
  fastepost__proc p = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .on_stdout = collect, .payload = &s};
  cr_assert_eq(fastepost__proc_run(&p), FASTEPOST_ECANCELED);
  cr_assert_eq(p.pid, 0);
  fastepost__proc_cleanup(&p);
}

Test(proc, signal_reported_and_missing_program) {
  const char *argv[] = {"/bin/sh", "-c", "kill -9 $$", NULL};
  fastepost__proc p = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1};
  cr_assert_eq(fastepost__proc_run(&p), FASTEPOST_OK);
  cr_assert_eq(p.signal, SIGKILL);
  cr_assert_eq(p.exit_code, -1);
  char how[64];
  fastepost__proc_describe(&p, how, sizeof how);
  cr_assert(strstr(how, "signal 9"), "%s", how);
  fastepost__proc_cleanup(&p);
  /* Under valgrind, posix_spawn's vfork is emulated by a fork, so a failed exec cannot be
   * reported back to the parent (the child just exits 127): scripts/valgrind says so. */
  if (getenv("FASTEPOST_UNDER_VALGRIND"))
    return;
  const char *missing[] = {"/nonexistent/tool", NULL};
  fastepost__proc q = {.argv = missing, .stdin_fd = -1, .stdout_fd = -1};
  cr_assert_eq(fastepost__proc_run(&q), FASTEPOST_EEXTERNAL);
  cr_assert(strstr(fastepost_error_last()->message, "/nonexistent/tool"));
  fastepost__proc_cleanup(&q);
}

Test(backup_names, pattern_and_calendar) {
  int64_t t;
  int suffix;
  fastepost_backup_format f;
  cr_assert(fastepost__backup_parse_name("backup_19700101_000000.sql", &t, &suffix, &f));
  cr_assert_eq(t, 0);
  cr_assert_eq(suffix, 0);
  cr_assert_eq(f, FASTEPOST_BACKUP_PLAIN);
  cr_assert(fastepost__backup_parse_name("backup_20240229_235959_12.dump", &t, &suffix, &f));
  cr_assert_eq(t, 1709251199);
  cr_assert_eq(suffix, 12);
  cr_assert_eq(f, FASTEPOST_BACKUP_CUSTOM);
  const char *bad[] = {NULL, "", "backup_20230229_000000.sql", "backup_20240230_000000.sql",
                       "backup_20241301_000000.sql", "backup_20240101_240000.sql",
                       "backup_20240101_000060.sql", "backup_2024011_0000000.sql",
                       "backup_20240101_000000_.sql", "backup_20240101_000000_0.sql",
                       "backup_20240101_000000_1000.sql", "backup_20240101_000000.sql.sha256",
                       "backup_20240101_000000.SQL", "xbackup_20240101_000000.sql",
                       "../backup_20240101_000000.sql", "backup_20240101_000000.sql/",
                       "backup_19690101_000000.sql"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_not(fastepost__backup_parse_name(bad[i], NULL, NULL, NULL), "%s", bad[i] ? bad[i] : "NULL");
}
