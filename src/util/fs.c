/* File-system helpers (see fs.h). */
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
