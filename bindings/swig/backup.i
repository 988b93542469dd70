/* backup.h (the database figures and the report: stats.i, report.i). BackupDir objects own a
 * fastepost_backup_dir; helpers return plain dicts / lists that own their data:
 *   backup_create(dir, conn, format, table, progress) -> name   (progress(rows, bytes) or None)
 *   backup_list(dir, limit) -> [{name, size, time, format}]     backup_open(dir, name) -> fd
 *   backup_prune(dir, keep, older_than_days) -> removed list     (-1: no such rule)
 *   backup_default_dir() -> the per-user default directory (for BackupDir(None))
 *   backup_verify(dir, conn or None, name, deep)  backup_restore(dir, conn, name, target, force)
 * pg_dump, pg_restore and psql run with the GIL/GVL released. */
%fastepost_blocking(5, fastepost_backup_create, char **, fastepost_backup_dir *, fastepost_conn *, fastepost_backup_format, const char *)
%fastepost_blocking(4, fastepost_backup_verify, fastepost_backup_dir *, fastepost_conn *, const char *, int)
%fastepost_blocking(5, fastepost_backup_restore, fastepost_backup_dir *, fastepost_conn *, const char *, const char *, int)

%rename(BackupDir) fastepost_backup_dir;
%fastepost_handle(fastepost_backup_dir, fastepost_backup_dir_free)
%ignore fastepost_backup_dir_new;
%apply const char *NULLABLE { const char *path };
%extend fastepost_backup_dir {
  /* BackupDir(path): path None/nil uses fastepost_backup_default_dir() ($FASTEPOST_BACKUP_DIR,
   * $XDG_STATE_HOME/fastepost/backups, ~/.local/state/fastepost/backups), never /tmp or the
   * working directory. The environment is read here, once. */
  fastepost_backup_dir(const char *path) {
    fastepost_backup_dir *d = NULL;
    char *def = NULL;
    fastepost_status rc = path && *path ? FASTEPOST_OK : fastepost_backup_default_dir(&def);
    if (rc == FASTEPOST_OK)
      rc = fastepost_backup_dir_new(&d, def ? def : path);
    fastepost_free(def);
    if (rc != FASTEPOST_OK)
      FP_CTOR_FAILED(rc);
    return d;
  }
}
%clear const char *path;
%ignore fastepost_backup_info;
%ignore fastepost_backup_create;
%ignore fastepost_backup_list;
%ignore fastepost_backup_open;
%ignore fastepost_backup_prune;
%ignore fastepost_backup_verify;
%ignore fastepost_backup_set_progress;
%ignore fastepost_backup_set_interrupt;
%ignore fastepost_backup_default_dir;
%ignore fastepost_backup_prune_all;
%apply const char *NULLABLE { const char *path };
%include "fastepost/backup.h"
%clear const char *path;

/* An optional handle: None/nil passes NULL (the handle typemap refuses it elsewhere). */
%typemap(check) fastepost_conn *conn_opt, fastepost_backup_dir *dir_opt ""

%header %{
static fp_rec fp_backup_info_rec(const fastepost_backup_info *b) {
  fp_rec d = fp_rec_new();
  fp_rec_str(d, "name", b->name);
  fp_rec_int(d, "size", (long long)b->size);
  fp_rec_int(d, "time", (long long)b->time);
  fp_rec_str(d, "format", b->format == FASTEPOST_BACKUP_CUSTOM ? "custom" : "plain");
  fp_rec_str(d, "kind", b->kind == FASTEPOST_BACKUP_TABLE ? "table" : "full");
  fp_rec_str(d, "table", b->kind == FASTEPOST_BACKUP_TABLE ? b->table : NULL);
  return d;
}

static fp_rec fp_backup_info_list(const fastepost_backup_info *b, size_t n) {
  fp_rec list = fp_list_new();
  for (size_t i = 0; i < n; i++)
    fp_list_push(list, fp_backup_info_rec(&b[i]));
  return list;
}

static fp_obj fp_fail(fastepost_status rc) {
  fp_failure f;
  fp_failure_capture(&f, rc);
  return fp_raise_with(&f, NULL, FP_NIL);
}
%}

%apply const char *NULLABLE { const char *table, const char *backup_dir, const char *base_url, const char *title };
%rename(backup_create) fp_backup_create;
%rename(backup_list) fp_backup_list;
%rename(backup_open) fp_backup_open;
%rename(backup_prune) fp_backup_prune;
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
  fastepost_backup_set_progress(dir, fp_is_none(progress) ? NULL : fp_progress_cb, &c);
  char *name = NULL;
#ifdef SWIGRUBY
  volatile sig_atomic_t interrupted = 0;
  fastepost_backup_set_interrupt(dir, &interrupted);
  /* The thunk of %fastepost_blocking, run with our own unblocking function. RB_NOGVL_INTR_FAIL:
   * Ruby neither starts the call with an interrupt pending (rc stays ECANCELED) nor raises one
   * on the way out, where it would jump over the clean-up below; it is raised after it. */
  fastepost_backup_create__args a = {&name, dir, conn, (fastepost_backup_format)format, table, FASTEPOST_ECANCELED};
  rb_nogvl(fastepost_backup_create__thunk, &a, fp_rb_backup_ubf, (void *)&interrupted, RB_NOGVL_INTR_FAIL);
  fastepost_status rc = a.rc;
  fastepost_backup_set_interrupt(dir, NULL);
  (void)fastepost_backup_create__unlocked; /* the generated wrapper the lines above replace */
#else
  volatile sig_atomic_t interrupted = 0;
  int slot = fp_py_sigint_add(&interrupted);
  if (slot >= 0)
    fastepost_backup_set_interrupt(dir, &interrupted);
  fastepost_status rc = fastepost_backup_create(&name, dir, conn, (fastepost_backup_format)format, table);
  fastepost_backup_set_interrupt(dir, NULL);
  fp_py_sigint_remove(slot);
#endif
  fastepost_backup_set_progress(dir, NULL, NULL);
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

static fp_obj fp_backup_list(fastepost_backup_dir *dir, int limit) {
  fastepost_backup_info *b = NULL;
  size_t n = 0;
  fastepost_status rc = fastepost_backup_list(&b, &n, dir, limit);
  if (rc != FASTEPOST_OK)
    return fp_fail(rc);
  fp_rec list = fp_backup_info_list(b, n);
  fastepost_free(b);
  return fp_rec_done(list);
}

static fp_obj fp_backup_open(fastepost_backup_dir *dir, const char *name) {
  int fd = -1;
  fastepost_status rc = fastepost_backup_open(&fd, NULL, dir, name);
  if (rc != FASTEPOST_OK)
    return fp_fail(rc);
  return fp_int_new(fd);
}

/* The per-user default directory (raises NotFoundError when no variable is usable). */
static fp_obj fp_backup_default_dir(void) {
  char *d = NULL;
  fastepost_status rc = fastepost_backup_default_dir(&d);
  if (rc != FASTEPOST_OK)
    return fp_fail(rc);
  fp_obj out = fp_str_new(d);
  fastepost_free(d);
  return out;
}

static fp_obj fp_backup_prune(fastepost_backup_dir *dir, int keep, int older_than_days) {
  fastepost_backup_info *b = NULL;
  size_t n = 0;
  fastepost_status rc = fastepost_backup_prune(&b, &n, dir, keep, older_than_days);
  if (rc != FASTEPOST_OK)
    return fp_fail(rc);
  fp_rec list = fp_backup_info_list(b, n);
  fastepost_free(b);
  return fp_rec_done(list);
}

static fp_obj fp_backup_verify(fastepost_backup_dir *dir, fastepost_conn *conn_opt, const char *name, int deep) {
  fastepost_status rc = fastepost_backup_verify(dir, conn_opt, name, deep);
  return rc == FASTEPOST_OK ? fp_none() : fp_fail(rc);
}
%}
%clear const char *table, const char *backup_dir, const char *base_url, const char *title;
