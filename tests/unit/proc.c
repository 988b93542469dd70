/* SPDX-License-Identifier: MIT */
/* The child-process runner and backup name parsing (no database). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "backup_priv.h"
#include "pgtool.h"
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
  cr_assert_str_eq(how, "was killed by signal 9 (SIGKILL)", "a fixed name, not strsignal()");
  fastepost__proc_cleanup(&p);
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
  cr_assert_eq(f, FASTEPOST_BACKUP_FORMAT_PLAIN);
  cr_assert(fastepost__backup_parse_name("backup_20240229_235959_12.dump", &t, &suffix, &f));
  cr_assert_eq(t, INT64_C(1709251199) * 1000000, "microseconds since the epoch");
  cr_assert_eq(suffix, 12);
  cr_assert_eq(f, FASTEPOST_BACKUP_FORMAT_CUSTOM);
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

Test(backup_names, enum_text_forms_round_trip) {
  for (int i = 0; i < 2; i++) {
    fastepost_backup_format f = FASTEPOST_BACKUP_FORMAT_CUSTOM;
    fastepost_backup_kind k = FASTEPOST_BACKUP_KIND_TABLE;
    cr_assert_eq(fastepost_backup_format_parse(&f, fastepost_backup_format_name(i)), FASTEPOST_OK);
    cr_assert_eq((int)f, i);
    cr_assert_eq(fastepost_backup_kind_parse(&k, fastepost_backup_kind_name(i)), FASTEPOST_OK);
    cr_assert_eq((int)k, i);
  }
  for (int i = 0; i < 3; i++) {
    fastepost_backup_tool t = FASTEPOST_BACKUP_TOOL_PSQL;
    cr_assert_eq(fastepost_backup_tool_parse(&t, fastepost_backup_tool_name(i)), FASTEPOST_OK);
    cr_assert_eq((int)t, i);
  }
  cr_assert_str_eq(fastepost_backup_format_name(FASTEPOST_BACKUP_FORMAT_CUSTOM), "custom");
  cr_assert_str_eq(fastepost_backup_kind_name(FASTEPOST_BACKUP_KIND_FULL), "full");
  cr_assert_str_eq(fastepost_backup_tool_name(FASTEPOST_BACKUP_TOOL_PG_RESTORE), "pg_restore");
  cr_assert_str_eq(fastepost_backup_format_name((fastepost_backup_format)7), "");
  fastepost_backup_format f = FASTEPOST_BACKUP_FORMAT_CUSTOM;
  cr_assert_eq(fastepost_backup_format_parse(&f, "sql"), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_backup_format_parse(&f, NULL), FASTEPOST_EINVALID);
  cr_assert_eq(f, FASTEPOST_BACKUP_FORMAT_CUSTOM, "untouched on failure");
}

/* The default directory is a function of what the host passes: the environment is not read. */
Test(backup_names, default_dir_from_the_values_given) {
  setenv("XDG_STATE_HOME", "/from/the/environment", 1);
  setenv("HOME", "/home/environment", 1);
  char *d = NULL;
  cr_assert_eq(fastepost_backup_default_dir(&d, "/srv/state", "/home/someone"), FASTEPOST_OK);
  cr_assert_str_eq(d, "/srv/state/fastepost/backups");
  fastepost_free(d);
  /* A relative XDG_STATE_HOME is invalid per XDG: ignored. */
  cr_assert_eq(fastepost_backup_default_dir(&d, "relative/state", "/home/someone"), FASTEPOST_OK);
  cr_assert_str_eq(d, "/home/someone/.local/state/fastepost/backups");
  fastepost_free(d);
  cr_assert_eq(fastepost_backup_default_dir(&d, NULL, "/"), FASTEPOST_ENOTFOUND);
  cr_assert_null(d);
  cr_assert_eq(fastepost_backup_default_dir(&d, NULL, NULL), FASTEPOST_ENOTFOUND);
  unsetenv("XDG_STATE_HOME");
  unsetenv("HOME");
}

/* A handle takes an absolute path only: nothing depends on the working directory. */
Test(backup_names, dir_path_must_be_absolute) {
  fastepost_backup_dir *d = (fastepost_backup_dir *)&d;
  cr_assert_eq(fastepost_backup_dir_new(&d, "tmp/backups"), FASTEPOST_EINVALID);
  cr_assert_null(d);
  cr_assert(strstr(fastepost_error_last()->message, "absolute"), "%s",
            fastepost_error_last()->message);
  cr_assert_eq(fastepost_backup_dir_new(&d, NULL), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_backup_dir_new(&d, ""), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_backup_dir_new(&d, "/srv/backups//"), FASTEPOST_OK);
  cr_assert_str_eq(fastepost_backup_dir_path(d), "/srv/backups");
  cr_assert_eq(fastepost_backup_dir_set_timeouts(d, 999999, 0, 0), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_backup_dir_set_timeouts(d, 0, 0, 1999999), FASTEPOST_EINVALID);
  cr_assert_eq(fastepost_backup_dir_set_timeouts(d, 0, 0, 0), FASTEPOST_OK, "0: the defaults");
  cr_assert_eq(fastepost_backup_dir_set_tool(d, (fastepost_backup_tool)3, "/x"), FASTEPOST_EINVALID);
  fastepost_backup_list *l = NULL;
  cr_assert_eq(fastepost_backup_prune(&l, d, 0, 0), FASTEPOST_EINVALID, "no rule");
  cr_assert_eq(fastepost_backup_prune(&l, d, 0, -1), FASTEPOST_EINVALID);
  cr_assert_null(l);
  cr_assert_eq(fastepost_backup_list_count(NULL), 0);
  cr_assert_null(fastepost_backup_list_get(NULL, 0));
  fastepost_backup_dir_free(d);
}

/* A fake client program in dir that answers --version with `version`. */
static void fake_program(const char *dir, const char *name, const char *version) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "mkdir -p '%s' && printf '#!/bin/sh\\necho \"%s (PostgreSQL) %s\"\\n' > '%s/%s' && "
           "chmod 755 '%s/%s'",
           dir, name, version, dir, name, dir, name);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
}

/* pg_dump is looked for in the search path given and the library root, never in $PATH or
 * $FASTEPOST_PG_DUMP (docs/api.md rule 14). */
Test(pgtool, search_path_given_and_no_environment) {
  char dir[] = "/tmp/fp-pgtool-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char a[128], b[128], lib[128], want[256];
  snprintf(a, sizeof a, "%s/a", dir);
  snprintf(b, sizeof b, "%s/b", dir);
  snprintf(lib, sizeof lib, "%s/lib", dir);
  fake_program(a, "pg_dump", "14.2");
  fake_program(b, "pg_dump", "16.1");
  char major[160];
  snprintf(major, sizeof major, "%s/16/bin", lib);
  fake_program(major, "pg_dump", "16.0");
  char env_path[300];
  snprintf(env_path, sizeof env_path, "%s:%s", b, a);
  setenv("PATH", env_path, 1);
  snprintf(want, sizeof want, "%s/pg_dump", b);
  setenv("FASTEPOST_PG_DUMP", want, 1);
  char *found = NULL;
  /* Only the old one where we look: too old, though PATH and FASTEPOST_PG_DUMP have a new one. */
  cr_assert_eq(fastepost__pgtool_find_in(&found, "pg_dump", NULL, a, "/nonexistent", 15),
               FASTEPOST_EVERSION);
  cr_assert(strstr(fastepost_error_last()->message, "(14)"), "%s", fastepost_error_last()->message);
  cr_assert_eq(fastepost__pgtool_find_in(&found, "pg_dump", NULL, "/nonexistent", "/nonexistent",
                                         15),
               FASTEPOST_ENOTFOUND);
  cr_assert(strstr(fastepost_error_last()->message, "/nonexistent"), "%s",
            fastepost_error_last()->message);
  /* In order of the search path, the first new enough wins. */
  char both[300];
  snprintf(both, sizeof both, "%s::%s", a, b);
  cr_assert_eq(fastepost__pgtool_find_in(&found, "pg_dump", NULL, both, lib, 15), FASTEPOST_OK);
  cr_assert_str_eq(found, want);
  free(found);
  /* The default search: <libroot>/<server major>/bin first. */
  cr_assert_eq(fastepost__pgtool_find_in(&found, "pg_dump", NULL, NULL, lib, 16), FASTEPOST_OK);
  snprintf(want, sizeof want, "%s/pg_dump", major);
  cr_assert_str_eq(found, want);
  free(found);
  /* An explicit path is the only candidate. */
  snprintf(want, sizeof want, "%s/pg_dump", a);
  cr_assert_eq(fastepost__pgtool_find_in(&found, "pg_dump", want, both, lib, 15), FASTEPOST_EVERSION);
  cr_assert_eq(fastepost__pgtool_find_in(&found, "pg_dump", want, both, lib, 14), FASTEPOST_OK);
  cr_assert_str_eq(found, want);
  free(found);
  unsetenv("FASTEPOST_PG_DUMP");
  setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

Test(backup_names, table_kind) {
  int64_t t;
  int suffix;
  fastepost_backup_format f;
  fastepost_backup_kind k;
  char table[72];
  cr_assert(fastepost__backup_parse_name_kind("backup_20240101_000000_table-customers.sql", &t,
                                              &suffix, &f, &k, table, sizeof table));
  cr_assert_eq(k, FASTEPOST_BACKUP_KIND_TABLE);
  cr_assert_str_eq(table, "customers");
  cr_assert_eq(f, FASTEPOST_BACKUP_FORMAT_PLAIN);
  cr_assert(fastepost__backup_parse_name_kind("backup_20240101_000000_2_table-crm.x-y_z.dump", NULL,
                                              &suffix, &f, &k, table, sizeof table));
  cr_assert_eq(suffix, 2);
  cr_assert_eq(f, FASTEPOST_BACKUP_FORMAT_CUSTOM);
  cr_assert_str_eq(table, "crm.x-y_z");
  cr_assert(fastepost__backup_parse_name_kind("backup_20240101_000000.sql", NULL, NULL, NULL, &k,
                                              table, sizeof table));
  cr_assert_eq(k, FASTEPOST_BACKUP_KIND_FULL);
  cr_assert_str_eq(table, "");
  const char *bad[] = {"backup_20240101_000000_table-.sql", "backup_20240101_000000_table-a b.sql",
                       "backup_20240101_000000_table-a/b.sql", "backup_20240101_000000_table-a",
                       "backup_20240101_000000_tablea.sql", "backup_20240101_000000_table-a.txt"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_assert_not(fastepost__backup_parse_name(bad[i], NULL, NULL, NULL), "%s", bad[i]);
}

/* ---- deadlines, interrupts, process groups, SIGCHLD ----------------------------------------- */

/* Running, not a zombie: an orphan's zombie waits for a PID 1 that may never reap it (in a
 * container), though it runs no more. */
static bool alive(pid_t pid) {
  if (kill(pid, 0) != 0)
    return false;
  char path[64], stat[256] = "";
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  size_t n = fread(stat, 1, sizeof stat - 1, f);
  fclose(f);
  stat[n] = '\0';
  const char *rp = strrchr(stat, ')');
  return !(rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

static pid_t read_pid(const char *path) {
  for (int i = 0; i < 500; i++) {
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f) {
      int n = fscanf(f, "%ld", &pid);
      fclose(f);
      if (n == 1 && pid > 0)
        return (pid_t)pid;
    }
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  }
  cr_assert_fail("no pid in %s", path);
  return -1;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(proc, deadline_kills_the_whole_group) {
  char dir[] = "/tmp/fpproc.XXXXXX";
  cr_assert(mkdtemp(dir));
  char script[512];
  /* The program leaves a grandchild (a background sleep): the group kill must take it too. */
  snprintf(script, sizeof script, "sleep 60 & echo $! > %s/grandchild; echo $$ > %s/child; wait",
           dir, dir);
  const char *argv[] = {"/bin/sh", "-c", script, NULL};
  fastepost__proc p = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .timeout_ms = 500};
  int64_t t0 = mono_ms();
  cr_assert_eq(fastepost__proc_run(&p), FASTEPOST_ETIMEOUT);
  cr_assert_lt(mono_ms() - t0, 4000, "bounded by the deadline (+ the 2 s SIGTERM grace at most)");
  cr_assert(strstr(fastepost_error_last()->message, "500 ms"), "%s", fastepost_error_last()->message);
  char path[600];
  snprintf(path, sizeof path, "%s/child", dir);
  pid_t child = read_pid(path);
  snprintf(path, sizeof path, "%s/grandchild", dir);
  pid_t grandchild = read_pid(path);
  cr_assert_not(alive(child), "the child was reaped");
  for (int i = 0; i < 100 && alive(grandchild); i++)
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  cr_assert_not(alive(grandchild), "the grandchild died with the group");
  fastepost__proc_cleanup(&p);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

static volatile sig_atomic_t stop_flag;
static void raise_flag(int sig) { stop_flag = sig; }

Test(proc, stop_flag_raised_by_a_signal_handler) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = raise_flag;
  sigemptyset(&sa.sa_mask);
  cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
  struct itimerval it = {{0, 0}, {0, 300 * 1000}};
  cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
  const char *argv[] = {"/bin/sh", "-c", "exec sleep 60", NULL};
  fastepost__proc p = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stop_flag = &stop_flag};
  int64_t t0 = mono_ms();
  cr_assert_eq(fastepost__proc_run(&p), FASTEPOST_ECANCELED);
  cr_assert_lt(mono_ms() - t0, 3000);
  cr_assert_eq(stop_flag, SIGALRM);
  cr_assert(strstr(fastepost_error_last()->message, "interrupted"), "%s",
            fastepost_error_last()->message);
  fastepost__proc_cleanup(&p);
  /* A flag already up: the run stops at once. */
  fastepost__proc q = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stop_flag = &stop_flag};
  cr_assert_eq(fastepost__proc_run(&q), FASTEPOST_ECANCELED);
  fastepost__proc_cleanup(&q);
}

/* The host ignores SIGCHLD (the kernel then discards children's statuses): we still learn them,
 * without touching the host's disposition. */
Test(proc, sigchld_ignored_by_the_host) {
  signal(SIGCHLD, SIG_IGN);
  const char *argv[] = {"/bin/sh", "-c", "echo out; exit 3", NULL};
  sink s = {0};
  fastepost__proc p = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .on_stdout = collect,
                       .payload = &s};
  cr_assert_eq(fastepost__proc_run(&p), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(p.exit_code, 3);
  cr_assert_str_eq(s.data, "out\n");
  fastepost__proc_cleanup(&p);
  const char *killed[] = {"/bin/sh", "-c", "kill -TERM $$", NULL};
  fastepost__proc q = {.argv = killed, .stdin_fd = -1, .stdout_fd = -1};
  cr_assert_eq(fastepost__proc_run(&q), FASTEPOST_OK, "%s", fastepost_error_last()->message);
  cr_assert_eq(q.signal, SIGTERM);
  fastepost__proc_cleanup(&q);
  const char *ok[] = {"/bin/true", NULL};
  fastepost__proc r = {.argv = ok, .stdin_fd = -1, .stdout_fd = -1, .timeout_ms = 5000};
  cr_assert_eq(fastepost__proc_run(&r), FASTEPOST_OK);
  cr_assert_eq(r.exit_code, 0);
  fastepost__proc_cleanup(&r);
  /* Timeouts still work through the relay. */
  const char *slow[] = {"/bin/sh", "-c", "exec sleep 60", NULL};
  fastepost__proc t = {.argv = slow, .stdin_fd = -1, .stdout_fd = -1, .timeout_ms = 300};
  cr_assert_eq(fastepost__proc_run(&t), FASTEPOST_ETIMEOUT);
  fastepost__proc_cleanup(&t);
  struct sigaction now;
  cr_assert_eq(sigaction(SIGCHLD, NULL, &now), 0);
  cr_assert_eq(now.sa_handler, SIG_IGN, "the host's disposition is left alone");
}

/* If the process (thread) that started a child dies, the child dies with it: an orphaned
 * pg_dump never finishes a file, an orphaned psql never commits a restore. */
Test(proc, child_dies_with_its_parent) {
  char dir[] = "/tmp/fpproc.XXXXXX";
  cr_assert(mkdtemp(dir));
  char script[512], path[600];
  snprintf(script, sizeof script, "echo $$ > %s/child; exec sleep 60", dir);
  snprintf(path, sizeof path, "%s/child", dir);
  pid_t host = fork();
  cr_assert_geq(host, 0);
  if (host == 0) {
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    fastepost__proc p = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1};
    fastepost__proc_run(&p);
    _exit(0);
  }
  pid_t child = read_pid(path);
  cr_assert(alive(child));
  kill(host, SIGKILL);
  waitpid(host, NULL, 0);
  for (int i = 0; i < 200 && alive(child); i++)
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  cr_assert_not(alive(child), "the child outlived its killed parent");
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

/* The environment comes from the snapshot given, not from environ at spawn time. */
Test(proc, environment_from_the_snapshot) {
  setenv("FP_SNAP", "before", 1);
  char **snap = fastepost__env_snapshot();
  cr_assert_not_null(snap);
  setenv("FP_SNAP", "after", 1);
  setenv("FP_LATE", "late", 1);
  cr_assert_str_eq(fastepost__env_get(snap, "FP_SNAP"), "before");
  cr_assert_null(fastepost__env_get(snap, "FP_LATE"));
  const char *argv[] = {"/bin/sh", "-c", "echo \"$FP_SNAP|${FP_LATE-unset}\"", NULL};
  sink s = {0};
  fastepost__proc p = {.argv = argv, .base_env = (const char *const *)snap, .stdin_fd = -1,
                       .stdout_fd = -1, .on_stdout = collect, .payload = &s};
  cr_assert_eq(fastepost__proc_run(&p), FASTEPOST_OK);
  cr_assert_str_eq(s.data, "before|unset\n");
  fastepost__proc_cleanup(&p);
  fastepost__env_free(snap);
}

Test(proc, exec_failure_reported) {
  char path[] = "/tmp/fpproc-noexec.XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, "\x7f" "ELF-not-really", 15), 15);
  close(fd);
  chmod(path, 0755);
  const char *argv[] = {path, NULL};
  fastepost__proc p = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1};
  cr_assert_eq(fastepost__proc_run(&p), FASTEPOST_EEXTERNAL);
  cr_assert(strstr(fastepost_error_last()->message, "cannot run") &&
                strstr(fastepost_error_last()->message, path),
            "%s", fastepost_error_last()->message);
  fastepost__proc_cleanup(&p);
  unlink(path);
}

/* ---- what psql may be fed ------------------------------------------------------------------- */

#define TRAILER "--\n-- PostgreSQL database dump complete\n--\n\n"

static int scan_text(const char *text, size_t chunk) {
  fastepost__plain_scan *s = malloc(sizeof *s);
  cr_assert_not_null(s);
  fastepost__plain_scan_init(s);
  size_t len = strlen(text);
  for (size_t off = 0; off < len; off += chunk)
    fastepost__plain_scan_feed(s, text + off, len - off < chunk ? len - off : chunk);
  int rc = fastepost__plain_scan_finish(s);
  free(s);
  return rc;
}

/* Every text in every chunking (one byte at a time finds state carried across chunks wrong). */
static void assert_scan(const char *text, int want) {
  size_t chunks[] = {1, 2, 7, 1 << 20};
  for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++)
    cr_assert_eq(scan_text(text, chunks[i]), want, "chunk %zu: %s\n-> %s", chunks[i], text,
                 fastepost_error_last()->message);
}

Test(plain_scan, what_pg_dump_writes_passes) {
  assert_scan("--\n-- PostgreSQL database dump\n--\n\n\\restrict abcXYZ09\n\n"
              "SET standard_conforming_strings = on;\n"
              "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $_$\nBEGIN\n"
              "  RAISE NOTICE 'x \\! y'; -- \\! inside a body\nRETURN NEW;\nEND $_$;\n"
              "COMMENT ON TABLE t IS 'C:\\\\dir\\\\ and ''quoted'' \\! text';\n"
              "CREATE TABLE \"we\"\"ird\\\" (a text DEFAULT E'\\\\! \\' still inside');\n"
              "/* a /* nested */ comment \\! */ SELECT 1;\n"
              "SELECT $$ \\! $$, $tag$ $x$ \\! $tag$;\n"
              "COPY public.t (a, b) FROM stdin;\n1\t\\N\n\\! not a command here\n\\.\n"
              "SELECT pg_catalog.setval('s', 1, true);\n"
              TRAILER "\\unrestrict abcXYZ09\n\n",
              FASTEPOST_OK);
  assert_scan("CREATE TABLE a (x int);\n" TRAILER, FASTEPOST_OK);
}

Test(plain_scan, planted_commands_refused) {
  const char *bad[] = {
      "\\! id\n" TRAILER,
      "SELECT 1;\n\\! id\n" TRAILER,
      "SELECT 1; \\! id\n" TRAILER,
      "SELECT 1 \\g\n" TRAILER,
      "SELECT '' \\! id\n" TRAILER,
      "\\connect other\n" TRAILER,
      "\\set ON_ERROR_STOP 0\n" TRAILER,
      "\\copy t from program 'id'\n" TRAILER,
      "\\i /etc/passwd\n" TRAILER,
      /* psql with standard_conforming_strings off would end the string at the next quote */
      "SELECT 'a\\' \\! id '\n" TRAILER,
      /* not a COPY statement of its own, so these lines are SQL to psql */
      "SELECT 1; COPY t FROM stdin;\n\\! id\n\\.\n" TRAILER,
      /* a second \restrict, or \unrestrict with another key */
      "\\restrict a1\n\\restrict b2\n" TRAILER "\\unrestrict b2\n",
      "\\restrict a1\n" TRAILER "\\unrestrict b2\n",
      /* anything after the trailer */
      TRAILER "DROP TABLE t;\n",
      "SELECT 1;\n" TRAILER "\\! id\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_scan(bad[i], FASTEPOST_EPARSE);
  cr_assert(scan_text("SELECT 1;\n\\! id > /tmp/x\n" TRAILER, 1 << 20) == FASTEPOST_EPARSE);
  cr_assert(strstr(fastepost_error_last()->message, "line 2") &&
                strstr(fastepost_error_last()->message, "\\! id"),
            "%s", fastepost_error_last()->message);
}

Test(plain_scan, incomplete_files_refused) {
  const char *bad[] = {
      "",
      "CREATE TABLE a (x int);\n",
      "COPY public.t (a) FROM stdin;\n1\n2\n",                /* cut inside data */
      "COPY public.t (a) FROM stdin;\n1\n\\.\n",            /* cut after data: no trailer */
      "SELECT 'open string;\n" TRAILER,                     /* the trailer inside a string */
      "SELECT $x$ body\n" TRAILER,                          /* ... or a body */
      "\\restrict k1\nSELECT 1;\n" TRAILER,                 /* \restrict never lifted */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_scan(bad[i], FASTEPOST_EPARSE);
  scan_text("COPY public.t (a) FROM stdin;\n1\n\\.\n", 1 << 20);
  cr_assert(strstr(fastepost_error_last()->message, "incomplete"), "%s",
            fastepost_error_last()->message);
}
