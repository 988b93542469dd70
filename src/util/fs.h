/*
 * File-system helpers shared by the spool, backups and exports: directories made private,
 * writes that finish, and files that appear whole or not at all.
 */
#ifndef FASTEPOST_UTIL_FS_H
#define FASTEPOST_UTIL_FS_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p, with `mode` for every directory it creates. 0, or the errno of the failing step
 * (the callers word the error: "spool directory", "backup directory" ...). */
int fastepost__mkdir_p(const char *path, mode_t mode);

/* Write all len bytes, retrying short writes and EINTR. 0, or -1 with errno (ENOSPC when the
 * file system takes no more bytes). */
int fastepost__write_all(int fd, const void *data, size_t len);

/* fsync the directory at path, so that a rename or create in it survives a crash. 0 or -1 with
 * errno. */
int fastepost__fsync_dir(const char *path);

#endif
