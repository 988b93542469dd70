/* SPDX-License-Identifier: MIT */
/*
 * A full filesystem under the backup directory and under the spool: a clear error and no partial
 * file. Uses a real 256 kB tmpfs (mount -t tmpfs; needs root, as in CI): skipped when the mount
 * is refused.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "testdb.h"

static char mnt[256];

static int run(const char *const *argv) {
  pid_t pid = fork();
  if (pid == 0) {
    execvp(argv[0], (char *const *)(uintptr_t)argv);
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void setup(void) {
  fptest_setup_schema();
  fptest_tmpdir(mnt, sizeof mnt, "fulldisk");
  const char *mount_args[] = {"mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", mnt, NULL};
  if (geteuid() != 0 || run(mount_args) != 0) {
    fptest_rmtree(mnt);
    *mnt = '\0';
    cr_skip_test("cannot mount a tmpfs here (needs root)");
  }
}

static void teardown(void) {
  if (*mnt) {
    const char *umount_args[] = {"umount", mnt, NULL};
    run(umount_args);
    fptest_rmtree(mnt);
  }
  fptest_teardown();
}

TestSuite(fault_disk, .init = setup, .fini = teardown);

/* The names in dir (not . and ..), space-separated. */
static const char *entries(const char *dir) {
  static char out[2048];
  out[0] = '\0';
  DIR *d = opendir(dir);
  if (!d)
    return out;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      snprintf(out + strlen(out), sizeof out - strlen(out), "%s ", e->d_name);
  closedir(d);
  return out;
}

Test(fault_disk, backup_on_a_full_filesystem_fails_clearly_and_leaves_nothing) {
  /* About 2 MB of customers: far more than the 256 kB filesystem holds. */
  fptest_exec("INSERT INTO customers (name, email, address) SELECT 'Customer ' || i, 'c' || i || "
              "'@example.org', repeat(md5(i::text), 30) FROM generate_series(1, 2000) i");
  char dir[320];
  snprintf(dir, sizeof dir, "%s/backups", mnt);
  fastepost_backup_dir *bdir = NULL;
  cr_assert_eq(fastepost_backup_dir_new(&bdir, dir), FASTEPOST_OK);
  char *name = NULL;
  fastepost_status st = fastepost_backup_create(&name, bdir, fptest_conn(), FASTEPOST_BACKUP_FORMAT_PLAIN, NULL);
  const char *msg = fastepost_error_last()->message;
  /* pg_dump writes the file itself: its own "could not write" reaches the message. */
  cr_assert(st == FASTEPOST_EEXTERNAL || st == FASTEPOST_EIO, "%s: %s", fastepost_error_name(st), msg);
  cr_assert(strstr(msg, "No space left on device"), "%s", msg);
  cr_assert_null(name);
  cr_assert_str_eq(entries(dir), "", "left behind: %s", entries(dir));
  fastepost_backup_dir_free(bdir);
}

Test(fault_disk, spool_on_a_full_filesystem_fails_clearly_and_leaves_nothing) {
  char dir[320];
  snprintf(dir, sizeof dir, "%s/spool", mnt);
  fastepost_spool *s = NULL;
  cr_assert_eq(fastepost_spool_open(&s, dir), FASTEPOST_OK);
  size_t len = 400 * 1024;
  char *body = malloc(len);
  memset(body, 'x', len);
  /* A full disk is storage the server lacks: EFULL (503), not a server bug. */
  cr_assert_eq(fastepost_spool_put(NULL, s, "odoo", NULL, NULL, body, len), FASTEPOST_EFULL);
  const char *msg = fastepost_error_last()->message;
  cr_assert(strstr(msg, "No space left on device"), "%s", msg);
  cr_assert_str_eq(entries(dir), "", "left behind: %s", entries(dir));
  /* Small deliveries still fit. */
  cr_assert_eq(fastepost_spool_put(NULL, s, "odoo", NULL, NULL, "{}", 2), FASTEPOST_OK);
  free(body);
  fastepost_spool_free(s);
}

Test(fault_disk, export_on_a_full_filesystem_keeps_the_previous_file) {
  fptest_exec("INSERT INTO customers (name, email, address) SELECT 'Customer ' || i, 'c' || i || "
              "'@example.org', repeat(md5(i::text), 30) FROM generate_series(1, 2000) i");
  char path[320];
  snprintf(path, sizeof path, "%s/customers.csv", mnt);
  fptest_write_file(path, "yesterday\n", 0600);
  fastepost_export_options *o = NULL;
  cr_assert_eq(fastepost_export_options_new(&o), FASTEPOST_OK);
  cr_assert_eq(fastepost_export_options_set_table(o, "customers"), FASTEPOST_OK);
  fastepost_status st = fastepost_export_to_file(NULL, fptest_conn(), path, o);
  const char *msg = fastepost_error_last()->message;
  cr_assert_eq(st, FASTEPOST_EFULL, "%s: %s", fastepost_error_name(st), msg);
  cr_assert(strstr(msg, "No space left on device"), "%s", msg);
  char *text = fptest_read_file(path, NULL);
  cr_assert_str_eq(text, "yesterday\n");
  free(text);
  cr_assert_str_eq(entries(mnt), "customers.csv ", "left behind: %s", entries(mnt));
  fastepost_export_options_free(o);
}
