/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the files of the backup module (src/backup/): the directory handle, the
 * opaque list, and the helpers one step uses from another (trusted opens, the hashing reader,
 * running a PostgreSQL program with the handle's settings).
 *
 *   names.c       backup names, enum names, the XDG default directory
 *   dir.c         the handle and its setters, trust checks, path/open
 *   list.c        listing, info getters, prune, the summary for stats.c
 *   create.c      pg_dump into a new backup
 *   verify.c      checksums and the checks every use of a backup runs first
 *   plain_scan.c  what a plain backup may contain (psql meta-commands)
 *   restore.c     psql / pg_restore into a target database
 *
 * Every file operation goes through a descriptor of the backup directory (openat and friends,
 * O_NOFOLLOW): a name is checked against the backup pattern first, so `../x`, absolute paths and
 * symbolic links never reach the file system as something to open.
 */
#ifndef FASTEPOST_BACKUP_INT_H
#define FASTEPOST_BACKUP_INT_H

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "backup_priv.h"
#include "internal.h"
#include "util/digest.h"
#include "util/proc.h"

struct fastepost_backup_dir {
  char *path;
  char *tools[3];
  char *search_path; /* NULL: the default search (pgtool.h) */
  fastepost_progress_cb progress;
  void *progress_payload;
  /* The environment the child programs inherit, copied when the handle was made: a call never
   * reads environ (it may run without the host's GIL/GVL while another thread calls setenv).
   * Nothing is looked up in it. */
  char **child_env;
  int64_t child_timeout_us;   /* pg_dump, pg_restore, psql */
  int64_t lock_wait_timeout_ms; /* pg_dump --lock-wait-timeout, lock_timeout of a restore */
  int connect_timeout_s;      /* PGCONNECT_TIMEOUT of every child, unless its conninfo says */
  const volatile sig_atomic_t *stop_flag;
};

struct fastepost_backup_info {
  char name[FASTEPOST_BACKUP_NAME_MAX];
  uint64_t size;
  int64_t created_us;
  fastepost_backup_format format;
  fastepost_backup_kind kind;
  char table[72];
  int suffix; /* the _N of the name, for the order */
};

struct fastepost_backup_list {
  fastepost_backup_info *items;
  size_t count;
};

#define FASTEPOST__SHA256_HEX FASTEPOST__SHA256_HEX_LEN
/* errno as text for a message (thread-safe, locale-independent); the compound literal lives to
 * the end of the enclosing block. */
#define FASTEPOST__ERRNO_TEXT()                                                                    \
  fastepost__errno_text(errno, (char[FASTEPOST__ERRNO_BUFSIZE]){0}, FASTEPOST__ERRNO_BUFSIZE)
/* The table part of a table backup's name: table-<name>, <name> at most this long. */
#define FASTEPOST__BACKUP_TABLE_MAX 64
/* Temporary files; never a backup name. prune removes leftovers a crash may have left. */
#define FASTEPOST__BACKUP_PARTIAL_PREFIX ".partial-"

/* Text from a caller (a name, a path) shortened and made printable for a message; the compound
 * literal lives to the end of the enclosing block. */
#define FASTEPOST__SHOWN(text) fastepost__backup_shown((char[64]){0}, 64, (text))
static inline const char *fastepost__backup_shown(char *buf, size_t size, const char *text) {
  fastepost__preview(buf, size, text ? text : "", text ? strlen(text) : 0);
  return buf;
}

/* names.c: a byte allowed in the table part of a name. */
bool fastepost__backup_table_char(int c);

/* dir.c: trusted opens. A descriptor of the directory (*fd = -1 without an error when it does
 * not exist and missing_ok; create makes it 0700 first); a backup by name inside it (a backup
 * name, a regular file, no symbolic link followed, trusted). */
int fastepost__backup_open_dir(int *fd, const fastepost_backup_dir *dir, bool create,
                               bool missing_ok);
int fastepost__backup_open_file(int *fd, uint64_t *size, int dirfd, const char *dirpath,
                                const char *name);
/* Whether an open directory (name NULL) or file may be trusted (owner, mode). */
int fastepost__backup_check_trust(int fd, const char *dirpath, const char *name);
/* Find pg_dump / pg_restore / psql for the handle (its tool path, else its search path). */
int fastepost__backup_find_tool(char **out, const fastepost_backup_dir *dir,
                                fastepost_backup_tool tool, int server_version);

/* verify.c: reading a file from its start, hashing what is read and feeding a plain scan. The
 * creator hashes while pg_dump still writes (hash_upto the size so far), the checks at once. */
typedef struct fastepost__backup_reader {
  int fd;
  fastepost__sha256_ctx *sha;
  int64_t hashed;
  char *buf;
  const char *what;              /* for messages */
  fastepost__plain_scan *scan;   /* when checking a plain backup: fed what is hashed */
  const volatile sig_atomic_t *stop_flag;
} fastepost__backup_reader;

int fastepost__backup_reader_init(fastepost__backup_reader *r, int fd, const char *what);
int fastepost__backup_reader_upto(fastepost__backup_reader *r, int64_t end);
int fastepost__backup_reader_size(int64_t *size, const fastepost__backup_reader *r);
/* The digest as hex; the context is gone after (also on failure). */
int fastepost__backup_reader_hex(fastepost__backup_reader *r, char hex[FASTEPOST__SHA256_HEX + 1]);
void fastepost__backup_reader_free(fastepost__backup_reader *r);

/* The checks a backup passes before any use (verify, restore): trusted file, recorded checksum
 * matching, complete, plain SQL holding only what pg_dump writes, custom archive readable. */
int fastepost__backup_check(const fastepost_backup_dir *dir, int dirfd, int fd, const char *name,
                            fastepost_backup_format format, int server_version);

/* restore.c: restore the open backup (fd, from its start) into dbname on pg's server. */
int fastepost__backup_restore_fd(const fastepost_backup_dir *dir, PGconn *pg, const char *dbname,
                                 int fd, fastepost_backup_format format);

#endif
