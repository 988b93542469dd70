/* SPDX-License-Identifier: MIT */
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

/*
 * The one "durable write": a file written under a temporary name (mode 0600) in the target's
 * directory, then fsync, rename over the target, fsync of the directory. Until the rename the
 * target is untouched whatever fails (the database, the disk, a signal); after a crash it holds
 * the old contents or the new ones, never a mix. Exports, fastepost_file_write() and (later)
 * the spool and backups use it.
 *
 *   fastepost__durable d;
 *   int rc = fastepost__durable_open(&d, path);
 *   if (!rc) { rc = write to d.fd ...; rc = fastepost__durable_close(&d, rc); }
 *
 * Both return a fastepost_status with the error recorded (EFULL for a full disk or quota, else
 * EIO; the message names the file). durable_close() commits when rc is 0 and discards the
 * temporary file otherwise (or when committing fails); it returns rc or the commit's failure.
 */
typedef struct fastepost__durable {
  const char *path; /* the target (borrowed) */
  char *tmp;        /* the temporary file's path */
  int fd;           /* open for writing, close-on-exec */
} fastepost__durable;

int fastepost__durable_open(fastepost__durable *d, const char *path);
int fastepost__durable_close(fastepost__durable *d, int rc);

/* Write all len bytes to fd as fastepost__write_all, as a fastepost_status: EFULL for a full
 * disk or quota, EIO otherwise, the message "writing <what>: <errno text>". */
int fastepost__write_all_status(int fd, const void *data, size_t len, const char *what);

/* open + write_all_status + close in one durable step (fastepost_file_write()). */
int fastepost__durable_write(const char *path, const void *data, size_t len);

#endif
