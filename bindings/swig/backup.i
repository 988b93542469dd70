/* SPDX-License-Identifier: MIT */
/* backup.h (the database figures and the report: stats.i, report.i). BackupDir objects own a
 * fastepost_backup_dir; the setters of backup.h (set_tool, set_search_path, set_timeouts) and the
 * enum constants are wrapped one to one. What this file adds: helpers that return plain dicts /
 * lists owning their data, instead of the opaque fastepost_backup_list / _info and their getters:
 *   backup_create(dir, conn, format, table, progress) -> name   (progress(rows, bytes) or None)
 *   backup_list(dir, limit) -> [{name, size_bytes, created_at, created_at_us, format, kind, table}]
 *   backup_open(dir, name) -> fd
 *   backup_prune(dir, keep, older_than_us) -> removed list      (0: no such rule)
 *   backup_prune_all(dir) -> removed list
 *   backup_default_dir(state_home, home) -> the XDG default (the bindings read the environment)
 *   backup_verify(dir, conn or None, name, deep)  backup_restore(dir, conn, name, target, force)
 * The keys of a backup dict are those of the CLI's --json (docs/backup.md). pg_dump, pg_restore
 * and psql run with the GIL/GVL released. */
%fastepost_blocking(5, fastepost_backup_create, char **, fastepost_backup_dir *, fastepost_conn *, fastepost_backup_format, const char *)
%fastepost_blocking(4, fastepost_backup_verify, const fastepost_backup_dir *, fastepost_conn *, const char *, int)
%fastepost_blocking(5, fastepost_backup_restore, const fastepost_backup_dir *, fastepost_conn *, const char *, const char *, int)

%rename(BackupDir) fastepost_backup_dir;
%fastepost_handle(fastepost_backup_dir, fastepost_backup_dir_free)
%ignore fastepost_backup_dir_new;
%extend fastepost_backup_dir {
  /* BackupDir(path): an absolute path (the idiomatic layers compute the default and make a
   * relative path absolute). */
  fastepost_backup_dir(const char *path) {
    fastepost_backup_dir *d = NULL;
    fastepost_status rc = fastepost_backup_dir_new(&d, path);
    if (rc != FASTEPOST_OK)
      FP_CTOR_FAILED(rc);
    return d;
  }
}
%ignore fastepost_backup_info;
%ignore fastepost_backup_list;
%ignore fastepost_backup_create;
%ignore fastepost_backup_dir_list;
%ignore fastepost_backup_list_count;
%ignore fastepost_backup_list_get;
%ignore fastepost_backup_list_free;
%ignore fastepost_backup_info_name;
%ignore fastepost_backup_info_size;
%ignore fastepost_backup_info_created_us;
%ignore fastepost_backup_info_format;
%ignore fastepost_backup_info_kind;
%ignore fastepost_backup_info_table;
%ignore fastepost_backup_open;
%ignore fastepost_backup_prune;
%ignore fastepost_backup_verify;
%ignore fastepost_backup_dir_set_progress;
%ignore fastepost_backup_dir_set_interrupt;
%ignore fastepost_backup_default_dir;
%ignore fastepost_backup_prune_all;
%ignore fastepost_backup_format_parse;
%ignore fastepost_backup_kind_parse;
%ignore fastepost_backup_tool_parse;
%apply const char *NULLABLE { const char *path, const char *search_path };
%include "fastepost/backup.h"
%clear const char *path, const char *search_path;

/* An optional handle: None/nil passes NULL (the handle typemap refuses it elsewhere). */
%typemap(check) fastepost_conn *conn_opt, fastepost_backup_dir *dir_opt ""

%header %{
static fp_rec fp_backup_rec(const char *name, unsigned long long size, long long created_us,
                            fastepost_backup_format format, fastepost_backup_kind kind,
                            const char *table) {
  fp_rec d = fp_rec_new();
  fp_rec_str(d, "name", name);
  fp_rec_int(d, "size_bytes", (long long)size);
  char *iso = NULL; /* every time twice, as in the CLI's --json: ISO 8601 text and microseconds */
  if (created_us && fastepost_report_time_iso(&iso, created_us) == FASTEPOST_OK) {
    fp_rec_str(d, "created_at", iso);
    fp_rec_int(d, "created_at_us", created_us);
  } else {
    fp_rec_nil(d, "created_at");
    fp_rec_nil(d, "created_at_us");
  }
  fastepost_free(iso);
  fp_rec_str(d, "format", fastepost_backup_format_name(format));
  fp_rec_str(d, "kind", fastepost_backup_kind_name(kind));
  fp_rec_str(d, "table", kind == FASTEPOST_BACKUP_KIND_TABLE ? table : NULL);
  return d;
}

static fp_rec fp_backup_info_rec(const fastepost_backup_info *b) {
  return fp_backup_rec(fastepost_backup_info_name(b), fastepost_backup_info_size(b),
                       fastepost_backup_info_created_us(b), fastepost_backup_info_format(b),
                       fastepost_backup_info_kind(b), fastepost_backup_info_table(b));
}

static fp_rec fp_backup_info_list(const fastepost_backup_list *l) {
  fp_rec list = fp_list_new();
  for (size_t i = 0; i < fastepost_backup_list_count(l); i++)
    fp_list_push(list, fp_backup_info_rec(fastepost_backup_list_get(l, i)));
  return list;
}

static fp_obj fp_fail(fastepost_status rc) {
  fp_failure f;
  fp_failure_capture(&f, rc);
  return fp_raise_with(&f, NULL, FP_NIL);
}
%}

%apply const char *NULLABLE { const char *table, const char *backup_dir, const char *base_url, const char *title, const char *state_home, const char *home };
%rename(backup_create) fp_backup_create;
%rename(backup_list) fp_backup_list;
%rename(backup_open) fp_backup_open;
%rename(backup_prune) fp_backup_prune;
%rename(backup_prune_all) fp_backup_prune_all;
%rename(backup_default_dir) fp_backup_default_dir;
%rename(backup_verify) fp_backup_verify;
%header %{
#ifdef SWIGRUBY
/* Ruby's unblocking function for a backup (Timeout, Thread#raise, Ctrl-C): pg_dump is not a
 * statement that a cancel request could stop, so set the handle's interrupt flag; the library
 * then stops pg_dump, removes the partial file and returns FASTEPOST_ECANCELED. Only a store to
 * a sig_atomic_t, so it is safe from any thread. */
static void fp_rb_backup_ubf(void *flag) { *(volatile sig_atomic_t *)flag = 1; }
#else
#include <pthread.h>
#include <signal.h>
/* Python: Ctrl-C during a backup. Python's own SIGINT handler only records the signal for the
 * main thread's next bytecode, which would come after pg_dump finished. While backups run, a
 * handler of ours sets their interrupt flags (the library then stops pg_dump and removes the
 * partial file) and calls Python's, which raises KeyboardInterrupt once the call returns. It
 * is installed only over a handler function (Python's, or the host's), never over SIG_IGN or
 * SIG_DFL, and the previous one is put back when the last running backup ends. */
#define FP_PY_SIGINT_SLOTS 32
static pthread_mutex_t fp_py_sigint_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t *volatile fp_py_sigint_flags[FP_PY_SIGINT_SLOTS];
static int fp_py_sigint_users;
static struct sigaction fp_py_sigint_prev;

static void fp_py_sigint(int sig, siginfo_t *info, void *uctx) {
  for (int i = 0; i < FP_PY_SIGINT_SLOTS; i++) {
    volatile sig_atomic_t *flag = fp_py_sigint_flags[i];
    if (flag)
      *flag = 1;
  }
  if (fp_py_sigint_prev.sa_flags & SA_SIGINFO)
    fp_py_sigint_prev.sa_sigaction(sig, info, uctx);
  else
    fp_py_sigint_prev.sa_handler(sig);
}

/* Register flag for SIGINT; returns its slot, or -1 (no handler function to chain to, or every
 * slot taken: the backup then runs as before, uninterruptible from Python). */
static int fp_py_sigint_add(volatile sig_atomic_t *flag) {
  int slot = -1;
  pthread_mutex_lock(&fp_py_sigint_lock);
  if (fp_py_sigint_users == 0) {
    struct sigaction cur;
    if (sigaction(SIGINT, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO ? cur.sa_sigaction != NULL
                                                : cur.sa_handler != SIG_IGN && cur.sa_handler != SIG_DFL)) {
      struct sigaction sa;
      memset(&sa, 0, sizeof sa);
      sa.sa_sigaction = fp_py_sigint;
      sa.sa_flags = SA_SIGINFO | (cur.sa_flags & SA_RESTART);
      sigemptyset(&sa.sa_mask);
      if (sigaction(SIGINT, &sa, &fp_py_sigint_prev) != 0) {
        pthread_mutex_unlock(&fp_py_sigint_lock);
        return -1;
      }
    } else {
      pthread_mutex_unlock(&fp_py_sigint_lock);
      return -1;
    }
  }
  for (int i = 0; i < FP_PY_SIGINT_SLOTS && slot < 0; i++)
    if (!fp_py_sigint_flags[i]) {
      fp_py_sigint_flags[i] = flag;
      slot = i;
    }
  if (slot >= 0)
    fp_py_sigint_users++;
  else if (fp_py_sigint_users == 0)
    sigaction(SIGINT, &fp_py_sigint_prev, NULL);
  pthread_mutex_unlock(&fp_py_sigint_lock);
  return slot;
}

static void fp_py_sigint_remove(int slot) {
  if (slot < 0)
    return;
  pthread_mutex_lock(&fp_py_sigint_lock);
  fp_py_sigint_flags[slot] = NULL;
  if (--fp_py_sigint_users == 0)
    sigaction(SIGINT, &fp_py_sigint_prev, NULL);
  pthread_mutex_unlock(&fp_py_sigint_lock);
}
#endif
%}
%inline %{
static fp_obj fp_backup_create(fastepost_backup_dir *dir, fastepost_conn *conn, int format, const char *table,
                               fp_obj progress) {
  fp_calls c;
  fp_calls_init(&c, FP_NIL, FP_NIL, progress);
  fastepost_backup_dir_set_progress(dir, fp_is_none(progress) ? NULL : fp_progress_cb, &c);
  char *name = NULL;
#ifdef SWIGRUBY
  volatile sig_atomic_t interrupted = 0;
  fastepost_backup_dir_set_interrupt(dir, &interrupted);
  /* The thunk of %fastepost_blocking, run with our own unblocking function. RB_NOGVL_INTR_FAIL:
   * Ruby neither starts the call with an interrupt pending (rc stays ECANCELED) nor raises one
   * on the way out, where it would jump over the clean-up below; it is raised after it. */
  fastepost_backup_create__args a = {&name, dir, conn, (fastepost_backup_format)format, table, FASTEPOST_ECANCELED};
  rb_nogvl(fastepost_backup_create__thunk, &a, fp_rb_backup_ubf, (void *)&interrupted, RB_NOGVL_INTR_FAIL);
  fastepost_status rc = a.rc;
  fastepost_backup_dir_set_interrupt(dir, NULL);
  (void)fastepost_backup_create__unlocked; /* the generated wrapper the lines above replace */
#else
  volatile sig_atomic_t interrupted = 0;
  int slot = fp_py_sigint_add(&interrupted);
  if (slot >= 0)
    fastepost_backup_dir_set_interrupt(dir, &interrupted);
  fastepost_status rc = fastepost_backup_create(&name, dir, conn, (fastepost_backup_format)format, table);
  fastepost_backup_dir_set_interrupt(dir, NULL);
  fp_py_sigint_remove(slot);
#endif
  fastepost_backup_dir_set_progress(dir, NULL, NULL);
  fp_failure f;
  if (rc != FASTEPOST_OK)
    fp_failure_capture(&f, rc);
  fp_obj out = rc == FASTEPOST_OK ? fp_str_new(name) : FP_NIL;
  fastepost_free(name);
#ifdef SWIGRUBY
  /* Interrupted: raise what interrupted us (Timeout::Error, Interrupt ...) rather than a
   * CanceledError, now that nothing is left to clean up. */
  if (rc == FASTEPOST_ECANCELED && interrupted)
    rb_thread_check_ints();
#else
  /* Interrupted by Ctrl-C: run Python's handler now (main thread), which raises
   * KeyboardInterrupt, rather than a CanceledError. */
  if (rc == FASTEPOST_ECANCELED && interrupted && !c.failed && PyErr_CheckSignals() < 0)
    return NULL;
#endif
  if (fp_calls_reraise(&c)) {
    fp_rec_drop(out);
    return fp_error_value();
  }
  if (rc != FASTEPOST_OK)
    return fp_raise_with(&f, NULL, FP_NIL);
  return out;
}

/* A list of backups as a list of dicts; the C list is freed. */
static fp_obj fp_backup_list_done(fastepost_status rc, fastepost_backup_list *b) {
  if (rc != FASTEPOST_OK) {
    fastepost_backup_list_free(b);
    return fp_fail(rc);
  }
  fp_rec list = fp_backup_info_list(b);
  fastepost_backup_list_free(b);
  return fp_rec_done(list);
}

static fp_obj fp_backup_list(fastepost_backup_dir *dir, long long limit) {
  if (limit < 0)
    return fp_fail(FASTEPOST_EINVALID);
  fastepost_backup_list *b = NULL;
  fastepost_status rc = fastepost_backup_dir_list(&b, dir, (size_t)limit); /* before b is read */
  return fp_backup_list_done(rc, b);
}

static fp_obj fp_backup_open(fastepost_backup_dir *dir, const char *name) {
  int fd = -1;
  fastepost_status rc = fastepost_backup_open(&fd, NULL, dir, name);
  if (rc != FASTEPOST_OK)
    return fp_fail(rc);
  return fp_int_new(fd);
}

/* The XDG default directory from the values the binding read (NotFoundError when neither is
 * usable). */
static fp_obj fp_backup_default_dir(const char *state_home, const char *home) {
  char *d = NULL;
  fastepost_status rc = fastepost_backup_default_dir(&d, state_home, home);
  if (rc != FASTEPOST_OK)
    return fp_fail(rc);
  fp_obj out = fp_str_new(d);
  fastepost_free(d);
  return out;
}

static fp_obj fp_backup_prune(fastepost_backup_dir *dir, long long keep, long long older_than_us) {
  if (keep < 0)
    return fp_fail(FASTEPOST_EINVALID);
  fastepost_backup_list *b = NULL;
  fastepost_status rc = fastepost_backup_prune(&b, dir, (size_t)keep, older_than_us); /* before b is read */
  return fp_backup_list_done(rc, b);
}

static fp_obj fp_backup_prune_all(fastepost_backup_dir *dir) {
  fastepost_backup_list *b = NULL;
  fastepost_status rc = fastepost_backup_prune_all(&b, dir); /* before b is read */
  return fp_backup_list_done(rc, b);
}

static fp_obj fp_backup_verify(fastepost_backup_dir *dir, fastepost_conn *conn_opt, const char *name, int deep) {
  fastepost_status rc = fastepost_backup_verify(dir, conn_opt, name, deep);
  return rc == FASTEPOST_OK ? fp_none() : fp_fail(rc);
}
%}
%clear const char *table, const char *backup_dir, const char *base_url, const char *title, const char *state_home, const char *home;
