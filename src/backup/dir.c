/* SPDX-License-Identifier: MIT */
/* The backup directory handle, its settings, and the trusted opens every call goes through. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/backup_int.h"
#include "pgtool.h"
#include "util/fs.h"
#include "util/strv.h"
#include "util/time.h"

#define DEFAULT_CHILD_TIMEOUT_US (INT64_C(3600) * FASTEPOST__US_PER_SEC)
#define DEFAULT_LOCK_WAIT_TIMEOUT_MS (60 * 1000)
#define DEFAULT_CONNECT_TIMEOUT_S 10

fastepost_status fastepost_backup_dir_new(fastepost_backup_dir **out, const char *path) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_dir_new: out is NULL");
  *out = NULL;
  /* No default and no working directory: a library has no business guessing a place for
   * database dumps (the old default, tmp/backups under the working directory, was /tmp/backups
   * under systemd). */
  if (!path || !*path)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "no backup directory given (fastepost_backup_default_dir() "
                                "gives the per-user default)");
  if (path[0] != '/')
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "the backup directory '%s' is relative: give an absolute path "
                                "(the library does not depend on the working directory)",
                                FASTEPOST__SHOWN(path));
  char *abs = fastepost__strdup(path);
  if (!abs)
    return FASTEPOST_ENOMEM;
  /* Trailing slashes would only make messages ugly. */
  for (size_t n = strlen(abs); n > 1 && abs[n - 1] == '/'; n--)
    abs[n - 1] = '\0';
  fastepost_backup_dir *dir = calloc(1, sizeof *dir);
  char **env = dir ? fastepost__env_snapshot() : NULL;
  if (!dir || !env) {
    free(abs);
    free(dir);
    return fastepost__error_oom();
  }
  dir->path = abs;
  dir->child_env = env;
  dir->child_timeout_us = DEFAULT_CHILD_TIMEOUT_US;
  dir->lock_wait_timeout_ms = DEFAULT_LOCK_WAIT_TIMEOUT_MS;
  dir->connect_timeout_s = DEFAULT_CONNECT_TIMEOUT_S;
  *out = dir;
  return FASTEPOST_OK;
}

static int null_dir(void) {
  return fastepost__error_set(FASTEPOST_EINVALID, "backup directory is NULL");
}

fastepost_status fastepost_backup_dir_set_timeouts(fastepost_backup_dir *dir,
                                                   int64_t child_timeout_us,
                                                   int64_t lock_wait_timeout_us,
                                                   int64_t connect_timeout_us) {
  if (!dir)
    return null_dir();
  /* Every wait is bounded: "no deadline" is not offered; 0 is the default. */
  int64_t sec = FASTEPOST__US_PER_SEC;
  if ((child_timeout_us && child_timeout_us < sec) ||
      (lock_wait_timeout_us && lock_wait_timeout_us < 1000) ||
      (connect_timeout_us && connect_timeout_us < 2 * sec) || child_timeout_us < 0 ||
      lock_wait_timeout_us < 0 || connect_timeout_us < 0 ||
      connect_timeout_us > INT64_C(86400) * 365 * sec)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "backup timeouts out of range: child %lld us (at least 1 s), lock "
                                "wait %lld us (at least 1 ms), connect %lld us (at least 2 s); 0 "
                                "for the default",
                                (long long)child_timeout_us, (long long)lock_wait_timeout_us,
                                (long long)connect_timeout_us);
  dir->child_timeout_us = child_timeout_us ? child_timeout_us : DEFAULT_CHILD_TIMEOUT_US;
  dir->lock_wait_timeout_ms =
      lock_wait_timeout_us ? lock_wait_timeout_us / 1000 : DEFAULT_LOCK_WAIT_TIMEOUT_MS;
  dir->connect_timeout_s =
      connect_timeout_us ? (int)((connect_timeout_us + sec - 1) / sec) : DEFAULT_CONNECT_TIMEOUT_S;
  return FASTEPOST_OK;
}

fastepost_status fastepost_backup_dir_set_interrupt(fastepost_backup_dir *dir,
                                                    const volatile sig_atomic_t *flag) {
  if (!dir)
    return null_dir();
  dir->stop_flag = flag;
  return FASTEPOST_OK;
}

void fastepost_backup_dir_free(fastepost_backup_dir *dir) {
  if (!dir)
    return;
  for (int i = 0; i < 3; i++)
    free(dir->tools[i]);
  free(dir->search_path);
  fastepost__env_free(dir->child_env);
  free(dir->path);
  free(dir);
}

const char *fastepost_backup_dir_path(const fastepost_backup_dir *dir) {
  return dir ? dir->path : "";
}

fastepost_status fastepost_backup_dir_set_tool(fastepost_backup_dir *dir,
                                               fastepost_backup_tool tool, const char *path) {
  if (!dir)
    return null_dir();
  if (fastepost__enum_check((int)tool, FASTEPOST_BACKUP_TOOL_PG_DUMP, FASTEPOST_BACKUP_TOOL_PSQL, "backup tool"))
    return FASTEPOST_EINVALID;
  return fastepost__str_set(&dir->tools[tool], path && *path ? path : NULL);
}

fastepost_status fastepost_backup_dir_set_search_path(fastepost_backup_dir *dir,
                                                      const char *search_path) {
  return dir ? fastepost__str_set(&dir->search_path, search_path && *search_path ? search_path : NULL) : null_dir();
}

fastepost_status fastepost_backup_dir_set_progress(fastepost_backup_dir *dir,
                                                   fastepost_progress_cb fn, void *payload) {
  if (!dir)
    return null_dir();
  dir->progress = fn;
  dir->progress_payload = payload;
  return FASTEPOST_OK;
}

int fastepost__backup_find_tool(char **out, const fastepost_backup_dir *dir,
                                fastepost_backup_tool tool, int server_version) {
  return fastepost__pgtool_find(out, fastepost_backup_tool_name(tool), dir->tools[tool],
                                dir->search_path, server_version);
}

/* ---- trust ----------------------------------------------------------------------------------- */

/*
 * Whether an opened directory (name NULL) or file may be trusted, the way ssh judges its files:
 * owned by the user running us, and nobody else may write the directory (else anyone could plant
 * a backup, and a plain backup runs in psql) or touch a backup (0600: it holds the data). A
 * checksum file holds no data: others may read it, not write it. The message says how to fix it.
 */
int fastepost__backup_check_trust(int fd, const char *dirpath, const char *name) {
  struct stat st;
  const char *sep = name ? "/" : "", *file = name ? name : "";
  if (fstat(fd, &st) != 0)
    return fastepost__error_set(FASTEPOST_EIO, "cannot stat %s%s%s: %s", dirpath, sep, file,
                                FASTEPOST__ERRNO_TEXT());
  uid_t me = geteuid();
  const char *what = name ? "backup file" : "backup directory";
  if (st.st_uid != me)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "untrusted %s %s%s%s: it is owned by uid %lu, not by this user "
                                "(uid %lu); fix: chown %lu '%s%s%s' (or use a directory of your "
                                "own)",
                                what, dirpath, sep, file, (unsigned long)st.st_uid,
                                (unsigned long)me, (unsigned long)me, dirpath, sep, file);
  bool data = name && !strstr(name, ".sha256");
  if (st.st_mode & (data ? 077 : 022))
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "untrusted %s %s%s%s: mode %04o lets %s; fix: chmod %s '%s%s%s'",
                                what, dirpath, sep, file, (unsigned)(st.st_mode & 07777),
                                data ? "others than its owner read or change it"
                                     : "others than its owner write to it",
                                data ? "600" : "go-w", dirpath, sep, file);
  return FASTEPOST_OK;
}

int fastepost__backup_open_dir(int *fd, const fastepost_backup_dir *dir, bool create,
                               bool missing_ok) {
  *fd = -1;
  if (!dir)
    return null_dir();
  if (create) {
    int err = fastepost__mkdir_p(dir->path, 0700);
    if (err == ENOMEM)
      return fastepost__error_oom();
    char eb[FASTEPOST__ERRNO_BUFSIZE];
    if (err)
      return fastepost__error_set(FASTEPOST_EIO, "cannot create the backup directory %s: %s",
                                  dir->path, fastepost__errno_text(err, eb, sizeof eb));
  }
  *fd = open(dir->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*fd < 0) {
    if (errno == ENOENT && missing_ok)
      return FASTEPOST_OK;
    return fastepost__error_set(errno == ENOENT ? FASTEPOST_ENOTFOUND : FASTEPOST_EIO,
                                "cannot open the backup directory %s: %s", dir->path,
                                FASTEPOST__ERRNO_TEXT());
  }
  int rc = fastepost__backup_check_trust(*fd, dir->path, NULL);
  if (rc) {
    close(*fd);
    *fd = -1;
  }
  return rc;
}

int fastepost__backup_open_file(int *fd, uint64_t *size, int dirfd, const char *dirpath,
                                const char *name) {
  *fd = -1;
  if (!fastepost__backup_parse_name(name, NULL, NULL, NULL))
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "'%s' is not a backup name (backup_YYYYMMDD_HHMMSS[_table-NAME]"
                                ".sql or .dump)",
                                FASTEPOST__SHOWN(name));
  if (dirfd < 0)
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "no backup named %s", name);
  /* O_NONBLOCK: a FIFO planted under a backup name must not hang the open. */
  int f = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (f < 0) {
    if (errno == ENOENT || errno == ELOOP)
      return fastepost__error_set(FASTEPOST_ENOTFOUND, "no backup named %s%s", name,
                                  errno == ELOOP ? " (it is a symbolic link)" : "");
    return fastepost__error_set(FASTEPOST_EIO, "cannot open backup %s: %s", name,
                                FASTEPOST__ERRNO_TEXT());
  }
  struct stat st;
  if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(f);
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "no backup named %s (not a regular file)",
                                name);
  }
  int rc = fastepost__backup_check_trust(f, dirpath, name);
  if (rc) {
    close(f);
    return rc;
  }
  int flags = fcntl(f, F_GETFL);
  if (flags >= 0)
    fcntl(f, F_SETFL, flags & ~O_NONBLOCK);
  *fd = f;
  if (size)
    *size = (uint64_t)st.st_size;
  return FASTEPOST_OK;
}

/* ---- path and open (download) ---------------------------------------------------------------- */

fastepost_status fastepost_backup_path(char **out, const fastepost_backup_dir *dir,
                                       const char *name) {
  int fd = -1;
  if (out)
    *out = NULL;
  /* The same checks as a download, on the opened file. */
  fastepost_status rc = !out ? fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_path: "
                                                    "out is NULL")
                             : fastepost_backup_open(&fd, NULL, dir, name);
  if (fd >= 0)
    close(fd);
  if (rc)
    return rc;
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&buf, "%s/%s", dir->path, name);
  *out = fastepost__buf_detach(&buf);
  return *out ? FASTEPOST_OK : fastepost__error_oom();
}

fastepost_status fastepost_backup_open(int *fd, uint64_t *size, const fastepost_backup_dir *dir,
                                       const char *name) {
  if (!fd)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_open: fd is NULL");
  *fd = -1;
  int dirfd;
  int rc = fastepost__backup_open_dir(&dirfd, dir, false, true);
  if (rc)
    return rc;
  rc = fastepost__backup_open_file(fd, size, dirfd, dir->path, name);
  if (dirfd >= 0)
    close(dirfd);
  return rc;
}
