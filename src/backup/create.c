/* SPDX-License-Identifier: MIT */
/* A new backup: pg_dump into a temporary file, hashed, synced, published under its name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup/backup_int.h"
#include "catalog.h"
#include "pgtool.h"
#include "util/fs.h"
#include "util/time.h"

/*
 * pg_dump writes straight into the temporary file (its stdout), exactly as `pg_dump -f` would:
 * no pipe copy. Meanwhile a tick follows the file's growth to report progress and, for plain
 * SQL (written strictly in sequence), to hash what is already there, so that little hashing is
 * left at the end. A custom archive is hashed after pg_dump exits: on a seekable file it goes
 * back and rewrites its table of contents.
 */
typedef struct dump_state {
  fastepost__backup_reader reader;
  bool hash_while_running;
  int64_t reported;
  const fastepost_backup_dir *dir;
} dump_state;

static int report(dump_state *st, int64_t size) {
  if (!st->dir->progress || size == st->reported)
    return FASTEPOST_OK;
  st->reported = size;
  if (st->dir->progress(0, (uint64_t)size, st->dir->progress_payload))
    return fastepost__error_set(FASTEPOST_ECANCELED, "backup canceled after %lld bytes",
                                (long long)size);
  return FASTEPOST_OK;
}

static int dump_tick(void *payload) {
  dump_state *st = payload;
  int64_t size = 0;
  int rc = fastepost__backup_reader_size(&size, &st->reader);
  if (!rc && st->hash_while_running)
    rc = fastepost__backup_reader_upto(&st->reader, size);
  if (!rc)
    rc = report(st, size);
  return rc;
}

/* After pg_dump exited: hash the rest and report the final size. */
static int dump_finish(dump_state *st) {
  int64_t size = 0;
  int rc = fastepost__backup_reader_size(&size, &st->reader);
  if (!rc)
    rc = fastepost__backup_reader_upto(&st->reader, size);
  if (!rc && st->reader.hashed != size)
    rc = fastepost__error_set(FASTEPOST_EIO, "the backup file shrank while it was read");
  if (!rc)
    rc = report(st, size);
  return rc;
}

/* A fresh temporary file in dirfd; its name (not a backup name) goes into name. */
static int open_temp(int *fd, char *name, size_t namesize, int dirfd, const char *what) {
  /* Unique enough with pid and microseconds; O_EXCL catches the rest (no shared counter, so no
   * state shared between threads). */
  for (int attempt = 0; attempt < 100; attempt++) {
    snprintf(name, namesize, "%s%s-%ld-%lld-%d", FASTEPOST__BACKUP_PARTIAL_PREFIX, what,
             (long)getpid(), (long long)(fastepost__time_now_us() % 1000000000), attempt);
    *fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (*fd >= 0) {
      fchmod(*fd, 0600); /* whatever the umask */
      return FASTEPOST_OK;
    }
    if (errno != EEXIST)
      break;
  }
  return fastepost__error_set(FASTEPOST_EIO, "cannot create a file in the backup directory: %s",
                              FASTEPOST__ERRNO_TEXT());
}

/* The first suffix after every backup already named for this second, so that the list order
 * (time, then suffix) stays the order of creation even after pruning removed the lower ones. */
static int next_suffix(int dirfd, const char *stamp) {
  int next = 0;
  int fd = dup(dirfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0)
      close(fd);
    return 0; /* the linkat loop below still never overwrites */
  }
  rewinddir(d);
  size_t n = strlen(stamp);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int suffix = 0;
    if (strncmp(e->d_name, stamp, n) == 0 &&
        fastepost__backup_parse_name(e->d_name, NULL, &suffix, NULL) && suffix + 1 > next)
      next = suffix + 1;
  }
  closedir(d);
  return next;
}

/* Give tmp its final name without ever replacing a file: link() fails on an existing name, so
 * a second backup in the same second moves on to the next suffix. Where hard links are not
 * supported, fall back to a check followed by rename(). */
static int publish(char *final, size_t finalsize, int dirfd, const char *tmp, const char *stamp,
                   const char *kind, const char *ext) {
  for (int suffix = next_suffix(dirfd, stamp); suffix < 1000; suffix++) {
    /* One name per time and suffix whatever the extension, so the suffix orders them. */
    const char *other_ext = strcmp(ext, ".sql") == 0 ? ".dump" : ".sql";
    char other[FASTEPOST_BACKUP_NAME_MAX];
    char num[16] = "";
    if (suffix)
      snprintf(num, sizeof num, "_%d", suffix);
    snprintf(final, finalsize, "%s%s%s%s", stamp, num, kind, ext);
    snprintf(other, sizeof other, "%s%s%s%s", stamp, num, kind, other_ext);
    struct stat st;
    if (fstatat(dirfd, other, &st, AT_SYMLINK_NOFOLLOW) == 0)
      continue;
    if (linkat(dirfd, tmp, dirfd, final, 0) == 0) {
      unlinkat(dirfd, tmp, 0);
      return FASTEPOST_OK;
    }
    if (errno == EEXIST)
      continue;
    if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP && errno != EMLINK)
      break;
    if (fstatat(dirfd, final, &st, AT_SYMLINK_NOFOLLOW) == 0)
      continue;
    if (renameat(dirfd, tmp, dirfd, final) == 0)
      return FASTEPOST_OK;
    break;
  }
  return fastepost__error_set(FASTEPOST_EIO, "cannot name the backup %s: %s", final,
                              FASTEPOST__ERRNO_TEXT());
}

static int write_checksum(int dirfd, const char *name, const char *hex) {
  char tmp[96], sumname[FASTEPOST_BACKUP_NAME_MAX + 8];
  int fd;
  int rc = open_temp(&fd, tmp, sizeof tmp, dirfd, "sha256");
  if (rc)
    return rc;
  char line[FASTEPOST__SHA256_HEX + FASTEPOST_BACKUP_NAME_MAX + 8];
  int n = snprintf(line, sizeof line, "%s  %s\n", hex, name);
  snprintf(sumname, sizeof sumname, "%s.sha256", name);
  if (fastepost__write_all(fd, line, (size_t)n) != 0 || fsync(fd) != 0 ||
      renameat(dirfd, tmp, dirfd, sumname) != 0) {
    rc = fastepost__error_set(FASTEPOST_EIO, "cannot write %s: %s", sumname,
                              FASTEPOST__ERRNO_TEXT());
    unlinkat(dirfd, tmp, 0);
  }
  close(fd);
  return rc;
}

/* The table as a pg_dump pattern that matches exactly it: "schema"."name", quoted; kind gets
 * the name part of a table backup ("_table-" and schema.name, public. left out, reduced to
 * characters that are safe in a file name and unambiguous in the pattern). */
static int table_pattern(char **out, char kind[FASTEPOST__BACKUP_TABLE_MAX + 8],
                         fastepost_conn *conn, PGconn *pg, const char *table) {
  *out = NULL;
  PGresult *res;
  const char *params[] = {table};
  int rc = fastepost__query(&res, conn,
                            "SELECT n.nspname, c.relname FROM pg_class c "
                            "JOIN pg_namespace n ON n.oid = c.relnamespace "
                            "WHERE c.oid = to_regclass($1) AND c.relkind IN ('r','p','v','m','f')",
                            1, params, PGRES_TUPLES_OK, "looking up the table to back up");
  if (rc)
    return rc;
  if (PQntuples(res) == 0) {
    PQclear(res);
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "no table named %s", FASTEPOST__SHOWN(table));
  }
  const char *nsp = PQgetvalue(res, 0, 0), *rel = PQgetvalue(res, 0, 1);
  fastepost__buf shown = FASTEPOST__BUF_INIT;
  if (strcmp(nsp, "public") != 0)
    fastepost__buf_printf(&shown, "%s.", nsp);
  fastepost__buf_puts(&shown, rel);
  size_t k = (size_t)snprintf(kind, 8, "_table-");
  for (size_t i = 0; i < shown.len && k < 7 + FASTEPOST__BACKUP_TABLE_MAX; i++)
    kind[k++] = fastepost__backup_table_char((unsigned char)shown.data[i]) ? shown.data[i] : '_';
  kind[k] = '\0';
  fastepost__buf_free(&shown);
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  fastepost__buf_puts(&buf, "--table=");
  rc = fastepost__buf_put_ident(&buf, pg, nsp);
  fastepost__buf_putc(&buf, '.');
  if (!rc)
    rc = fastepost__buf_put_ident(&buf, pg, rel);
  PQclear(res);
  *out = rc ? NULL : fastepost__buf_detach(&buf);
  fastepost__buf_free(&buf);
  return rc ? rc : *out ? FASTEPOST_OK : fastepost__error_oom();
}

/* Run pg_dump into fd, hashing and reporting as it grows. */
static int run_pg_dump(dump_state *st, const fastepost_backup_dir *dir, PGconn *pg,
                       const char *tool, fastepost_backup_format format, const char *table_arg) {
  char lockwait[48];
  snprintf(lockwait, sizeof lockwait, "--lock-wait-timeout=%lld",
           (long long)dir->lock_wait_timeout_ms);
  /* A table backup holds the rows only: it goes into a database that has the schema (the
   * table's definition alone, without the functions its triggers call, restores nowhere). */
  const char *argv[] = {tool, NULL, "--no-password",
                        format == FASTEPOST_BACKUP_FORMAT_CUSTOM ? "--format=custom"
                                                                 : "--format=plain",
                        lockwait, table_arg ? "--data-only" : table_arg, table_arg, NULL};
  char ct[48];
  snprintf(ct, sizeof ct, "PGCONNECT_TIMEOUT=%d", dir->connect_timeout_s);
  const char *env[] = {ct, NULL};
  fastepost__proc p = {.base_env = (const char *const *)dir->child_env, .env = env,
                       .stdin_fd = -1, .stdout_fd = st->reader.fd, .on_tick = dump_tick,
                       .tick_ms = 50, .payload = st, .timeout_ms = dir->child_timeout_us / 1000,
                       .stop_flag = dir->stop_flag};
  int rc = fastepost__pgtool_run(&p, pg, NULL, argv);
  fastepost__proc_cleanup(&p);
  return rc;
}

fastepost_status fastepost_backup_create(char **name, fastepost_backup_dir *dir,
                                         fastepost_conn *conn, fastepost_backup_format format,
                                         const char *table) {
  if (name)
    *name = NULL;
  if (!dir)
    return fastepost__error_set(FASTEPOST_EINVALID, "backup directory is NULL");
  if (dir->stop_flag && *dir->stop_flag)
    return fastepost__error_set(FASTEPOST_ECANCELED, "backup interrupted before it started");
  if (format != FASTEPOST_BACKUP_FORMAT_PLAIN && format != FASTEPOST_BACKUP_FORMAT_CUSTOM)
    return fastepost__error_set(FASTEPOST_EINVALID, "unknown backup format %d", (int)format);
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;

  /* The name is the start time: that is the moment the snapshot reflects. */
  char stamp[32];
  time_t now = (time_t)(fastepost__time_now_us() / FASTEPOST__US_PER_SEC);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "backup_%Y%m%d_%H%M%S", &tm);

  char *tool = NULL, *table_arg = NULL, kind[FASTEPOST__BACKUP_TABLE_MAX + 8] = "";
  int rc = fastepost__backup_find_tool(&tool, dir, FASTEPOST_BACKUP_TOOL_PG_DUMP,
                                       PQserverVersion(pg));
  if (!rc && table)
    rc = table_pattern(&table_arg, kind, conn, pg, table);
  int dirfd = -1;
  if (!rc)
    rc = fastepost__backup_open_dir(&dirfd, dir, true, false);
  char tmp[96] = "";
  int fd = -1;
  if (!rc)
    rc = open_temp(&fd, tmp, sizeof tmp, dirfd, "backup");
  dump_state st = {.dir = dir, .hash_while_running = format == FASTEPOST_BACKUP_FORMAT_PLAIN};
  int init = fastepost__backup_reader_init(&st.reader, fd, "the new backup file");
  if (!rc)
    rc = init;
  if (!rc)
    rc = run_pg_dump(&st, dir, pg, tool, format, table_arg);
  if (!rc)
    rc = dump_finish(&st);
  if (!rc && fsync(fd) != 0)
    rc = fastepost__error_set(FASTEPOST_EIO, "cannot sync the backup to disk: %s",
                              FASTEPOST__ERRNO_TEXT());
  if (fd >= 0)
    close(fd);

  char final[FASTEPOST_BACKUP_NAME_MAX] = "";
  if (!rc)
    rc = publish(final, sizeof final, dirfd, tmp, stamp, kind,
                 format == FASTEPOST_BACKUP_FORMAT_CUSTOM ? ".dump" : ".sql");
  if (rc && tmp[0])
    unlinkat(dirfd, tmp, 0);
  if (!rc) {
    char hex[FASTEPOST__SHA256_HEX + 1];
    rc = fastepost__backup_reader_hex(&st.reader, hex);
    if (!rc)
      rc = write_checksum(dirfd, final, hex);
    if (rc) /* a backup that cannot be verified is not a backup */
      unlinkat(dirfd, final, 0);
  }
  if (!rc && fsync(dirfd) != 0)
    rc = fastepost__error_set(FASTEPOST_EIO, "cannot sync the backup directory: %s",
                              FASTEPOST__ERRNO_TEXT());
  if (!rc && name && !(*name = fastepost__strdup(final)))
    rc = fastepost__error_oom();
  if (rc && rc != FASTEPOST_ENOMEM)
    fastepost__error_prefix("backup of %s", PQdb(pg));
  fastepost__backup_reader_free(&st.reader);
  if (dirfd >= 0)
    close(dirfd);
  free(tool);
  free(table_arg);
  return rc;
}
