/* SPDX-License-Identifier: MIT */
/* Checksums (SHA-256 beside each backup) and the checks every use of a backup runs first. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/backup_int.h"
#include "util/time.h"

#define READ_CHUNK (1 << 20)

/* ---- the hashing reader ---------------------------------------------------------------------- */

int fastepost__backup_reader_init(fastepost__backup_reader *r, int fd, const char *what) {
  memset(r, 0, sizeof *r);
  r->fd = fd;
  r->what = what;
  if (!(r->buf = malloc(READ_CHUNK)))
    return fastepost__error_oom();
  if (!(r->sha = fastepost__sha256_begin()))
    return fastepost_error_last()->code;
  return FASTEPOST_OK;
}

void fastepost__backup_reader_free(fastepost__backup_reader *r) {
  fastepost__sha256_abort(r->sha);
  r->sha = NULL;
  free(r->buf);
  r->buf = NULL;
}

int fastepost__backup_reader_upto(fastepost__backup_reader *r, int64_t end) {
  while (r->hashed < end) {
    size_t want = (size_t)(end - r->hashed < READ_CHUNK ? end - r->hashed : READ_CHUNK);
    ssize_t n = pread(r->fd, r->buf, want, (off_t)r->hashed);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return fastepost__error_set(FASTEPOST_EIO, "reading %s: %s", r->what,
                                  FASTEPOST__ERRNO_TEXT());
    if (n == 0)
      break;
    if (r->stop_flag && *r->stop_flag)
      return fastepost__error_set(FASTEPOST_ECANCELED, "interrupted while reading %s", r->what);
    int rc = fastepost__sha256_update(r->sha, r->buf, (size_t)n);
    if (rc)
      return rc;
    if (r->scan)
      fastepost__plain_scan_feed(r->scan, r->buf, (size_t)n); /* its verdict comes later */
    r->hashed += n;
  }
  return FASTEPOST_OK;
}

int fastepost__backup_reader_size(int64_t *size, const fastepost__backup_reader *r) {
  struct stat sb;
  if (fstat(r->fd, &sb) != 0)
    return fastepost__error_set(FASTEPOST_EIO, "cannot stat %s: %s", r->what,
                                FASTEPOST__ERRNO_TEXT());
  *size = (int64_t)sb.st_size;
  return FASTEPOST_OK;
}

int fastepost__backup_reader_hex(fastepost__backup_reader *r,
                                 char hex[FASTEPOST__SHA256_HEX + 1]) {
  fastepost__sha256_ctx *sha = r->sha;
  r->sha = NULL;
  return fastepost__sha256_end_hex(sha, hex);
}

/* ---- checks ---------------------------------------------------------------------------------- */

static int read_checksum(char hex[FASTEPOST__SHA256_HEX + 1], int dirfd, const char *dirpath,
                         const char *name) {
  char sumname[FASTEPOST_BACKUP_NAME_MAX + 8];
  snprintf(sumname, sizeof sumname, "%s.sha256", name);
  int fd = openat(dirfd, sumname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "no checksum recorded for %s (%s: %s)", name,
                                sumname, FASTEPOST__ERRNO_TEXT());
  int rc = fastepost__backup_check_trust(fd, dirpath, sumname);
  if (rc) {
    close(fd);
    return rc;
  }
  char line[FASTEPOST__SHA256_HEX + 1];
  ssize_t n = read(fd, line, FASTEPOST__SHA256_HEX);
  close(fd);
  int i = 0;
  for (; n == FASTEPOST__SHA256_HEX && i < FASTEPOST__SHA256_HEX; i++) {
    char c = line[i];
    if (c >= 'A' && c <= 'F')
      c = (char)(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      break;
    hex[i] = c;
  }
  if (i != FASTEPOST__SHA256_HEX)
    return fastepost__error_set(FASTEPOST_EPARSE, "%s does not hold a SHA-256", sumname);
  hex[FASTEPOST__SHA256_HEX] = '\0';
  return FASTEPOST_OK;
}

/* The SHA-256 of a whole open file (from its start, whatever the file offset), feeding scan. */
static int hash_fd(char hex[FASTEPOST__SHA256_HEX + 1], int fd, const char *name,
                   fastepost__plain_scan *scan, const volatile sig_atomic_t *stop_flag) {
  fastepost__backup_reader r;
  int64_t size = 0;
  int rc = fastepost__backup_reader_init(&r, fd, name);
  r.scan = scan;
  r.stop_flag = stop_flag;
  if (!rc)
    rc = fastepost__backup_reader_size(&size, &r);
  if (!rc)
    rc = fastepost__backup_reader_upto(&r, size);
  if (!rc)
    rc = fastepost__backup_reader_hex(&r, hex);
  fastepost__backup_reader_free(&r);
  return rc;
}

/* A custom archive is complete when pg_restore reads its table of contents. */
static int check_archive(const fastepost_backup_dir *dir, int fd, const char *name,
                         int server_version) {
  char *tool = NULL;
  int rc = fastepost__backup_find_tool(&tool, dir, FASTEPOST_BACKUP_TOOL_PG_RESTORE,
                                       server_version);
  if (!rc && lseek(fd, 0, SEEK_SET) != 0)
    rc = fastepost__error_set(FASTEPOST_EIO, "cannot rewind %s: %s", name,
                              FASTEPOST__ERRNO_TEXT());
  if (!rc) {
    const char *argv[] = {tool, "--list", NULL};
    fastepost__proc p = {.argv = argv, .base_env = (const char *const *)dir->child_env,
                         .stdin_fd = fd, .stdout_fd = -1,
                         .timeout_ms = dir->child_timeout_us / 1000,
                         .stop_flag = dir->stop_flag};
    rc = fastepost__proc_run(&p);
    if (!rc && (p.exit_code != 0 || p.signal)) {
      char how[96];
      fastepost__proc_describe(&p, how, sizeof how);
      rc = fastepost__error_set(FASTEPOST_EEXTERNAL, "pg_restore --list %s%s%s", how,
                                *p.err ? ": " : "", p.err);
    }
    fastepost__proc_cleanup(&p);
  }
  free(tool);
  return rc;
}

/*
 * Everything a backup must pass before it is used: trusted file, recorded checksum matching,
 * complete, and for plain SQL nothing but what pg_dump writes (one pass: the scanner reads what
 * the hash reads); for the custom format pg_restore must read its table of contents.
 */
int fastepost__backup_check(const fastepost_backup_dir *dir, int dirfd, int fd, const char *name,
                            fastepost_backup_format format, int server_version) {
  char want[FASTEPOST__SHA256_HEX + 1], got[FASTEPOST__SHA256_HEX + 1];
  fastepost__plain_scan *scan = NULL;
  int rc = read_checksum(want, dirfd, dir->path, name);
  if (!rc && format == FASTEPOST_BACKUP_FORMAT_PLAIN) {
    if (!(scan = malloc(sizeof *scan)))
      rc = fastepost__error_oom();
    else
      fastepost__plain_scan_init(scan);
  }
  if (!rc)
    rc = hash_fd(got, fd, name, scan, dir->stop_flag);
  if (!rc && strcmp(want, got) != 0)
    rc = fastepost__error_set(FASTEPOST_EIO,
                              "checksum mismatch for %s: recorded %.12s..., file has %.12s... "
                              "(the file was changed or damaged)",
                              name, want, got);
  if (!rc && scan)
    rc = fastepost__plain_scan_finish(scan);
  free(scan);
  if (!rc && format == FASTEPOST_BACKUP_FORMAT_CUSTOM)
    rc = check_archive(dir, fd, name, server_version);
  return rc;
}

/* ---- verify ---------------------------------------------------------------------------------- */

/* Restore into a scratch database of our own, always dropped, even after a failed restore. */
static int test_restore(const fastepost_backup_dir *dir, fastepost_conn *conn, PGconn *pg, int fd,
                        fastepost_backup_format format) {
  char scratch[64], sql[160];
  int64_t now = fastepost__time_now_us();
  snprintf(scratch, sizeof scratch, "fastepost_verify_%ld_%lld", (long)getpid(), (long long)now);
  snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0", scratch);
  int rc = fastepost__exec(conn, sql, "creating the scratch database for a deep verify");
  if (rc)
    return rc;
  rc = fastepost__backup_restore_fd(dir, pg, scratch, fd, format);
  if (rc)
    fastepost__error_prefix("test restore into a scratch database failed");
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", fastepost_error_last()->message);
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s%s", scratch,
           PQserverVersion(pg) >= 130000 ? " WITH (FORCE)" : "");
  int drc = fastepost__exec(conn, sql, "dropping the scratch database");
  return rc ? fastepost__error_set(rc, "%s", msg) : drc;
}

fastepost_status fastepost_backup_verify(const fastepost_backup_dir *dir, fastepost_conn *conn,
                                         const char *name, int deep) {
  PGconn *pg = NULL;
  if (conn || deep) {
    pg = fastepost__conn_pg(conn);
    if (!pg)
      return fastepost_error_last()->code;
  }
  int dirfd, fd = -1;
  int rc = fastepost__backup_open_dir(&dirfd, dir, false, true);
  if (rc)
    return rc;
  fastepost_backup_format format = FASTEPOST_BACKUP_FORMAT_PLAIN;
  fastepost_backup_kind kind = FASTEPOST_BACKUP_KIND_FULL;
  fastepost__backup_parse_name_kind(name, NULL, NULL, &format, &kind, NULL, 0);
  rc = fastepost__backup_open_file(&fd, NULL, dirfd, dir->path, name);
  if (!rc)
    rc = fastepost__backup_check(dir, dirfd, fd, name, format, pg ? PQserverVersion(pg) : 0);
  if (!rc && deep && kind == FASTEPOST_BACKUP_KIND_TABLE)
    rc = fastepost__error_set(FASTEPOST_EINVALID,
                              "%s is a table backup (rows only): an empty scratch database cannot "
                              "take it; test it by restoring into a database that has the schema",
                              name);
  if (!rc && deep)
    rc = test_restore(dir, conn, pg, fd, format);
  if (rc && rc != FASTEPOST_ENOMEM && name)
    fastepost__error_prefix("verifying backup");
  if (fd >= 0)
    close(fd);
  if (dirfd >= 0)
    close(dirfd);
  return rc;
}
