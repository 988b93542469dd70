/* SPDX-License-Identifier: MIT */
/* File-system helpers (see fs.h). */
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

int fastepost__mkdir_p(const char *path, mode_t mode) {
  size_t n = strlen(path);
  char *copy = malloc(n + 1);
  if (!copy)
    return ENOMEM;
  memcpy(copy, path, n + 1);
  int err = 0;
  for (char *p = copy + 1;; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char c = *p;
    *p = '\0';
    if (mkdir(copy, mode) != 0 && errno != EEXIST) {
      err = errno;
      break;
    }
    *p = c;
    if (!c)
      break;
  }
  free(copy);
  return err;
}

int fastepost__write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    if (w == 0) {
      errno = ENOSPC;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

int fastepost__fsync_dir(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

static int errno_status(int e) { return e == ENOSPC || e == EDQUOT ? FASTEPOST_EFULL : FASTEPOST_EIO; }

int fastepost__write_all_status(int fd, const void *data, size_t len, const char *what) {
  if (fastepost__write_all(fd, data, len) == 0)
    return FASTEPOST_OK;
  int e = errno;
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  return fastepost__error_set(errno_status(e), "writing %s: %s", what, fastepost__errno_text(e, eb, sizeof eb));
}

int fastepost__durable_open(fastepost__durable *d, const char *path) {
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  d->path = path;
  d->fd = -1;
  d->tmp = NULL;
  const char *slash = strrchr(path, '/');
  size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
  fastepost__buf tmp = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&tmp, "%.*s.%s.tmp-XXXXXX", (int)dirlen, path, slash ? slash + 1 : path);
  if (tmp.oom)
    return fastepost__error_oom();
  d->tmp = fastepost__buf_detach(&tmp);
  d->fd = mkstemp(d->tmp); /* mode 0600: the files hold personal data */
  if (d->fd < 0) {
    int e = errno;
    free(d->tmp);
    d->tmp = NULL;
    return fastepost__error_set(errno_status(e), "cannot create a file beside %s: %s", path,
                                fastepost__errno_text(e, eb, sizeof eb));
  }
  fcntl(d->fd, F_SETFD, FD_CLOEXEC);
  return FASTEPOST_OK;
}

int fastepost__durable_close(fastepost__durable *d, int rc) {
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  const char *step = NULL;
  int e = 0;
  if (!rc && fsync(d->fd) != 0)
    step = "syncing", e = errno;
  if (close(d->fd) != 0 && !rc && !step)
    step = "closing", e = errno;
  d->fd = -1;
  if (!rc && !step && rename(d->tmp, d->path) != 0)
    step = "renaming", e = errno;
  if (!rc && !step) {
    /* The rename is durable only once the directory is synced. */
    const char *slash = strrchr(d->path, '/');
    char *dir = slash ? fastepost__strndup(d->path, slash == d->path ? 1 : (size_t)(slash - d->path)) : NULL;
    fastepost__fsync_dir(dir ? dir : ".");
    free(dir);
  }
  if (step)
    rc = fastepost__error_set(errno_status(e), "writing %s failed while %s: %s", d->path, step,
                              fastepost__errno_text(e, eb, sizeof eb));
  if (rc)
    unlink(d->tmp);
  free(d->tmp);
  d->tmp = NULL;
  return rc;
}

int fastepost__durable_write(const char *path, const void *data, size_t len) {
  if (!path || (!data && len))
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_file_write: %s",
                                path ? "data is NULL" : "path is NULL");
  fastepost__durable d;
  int rc = fastepost__durable_open(&d, path);
  if (rc)
    return rc;
  if (len)
    rc = fastepost__write_all_status(d.fd, data, len, path);
  return fastepost__durable_close(&d, rc);
}
