/*
 * Backups with pg_dump, pg_restore and psql run as child processes (util/proc.c).
 *
 * Every file operation goes through a descriptor of the backup directory (openat and friends,
 * O_NOFOLLOW): a name is checked against the backup pattern first, so `../x`, absolute paths and
 * symbolic links never reach the file system as something to open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "backup_priv.h"
#include "internal.h"
#include "pgtool.h"
#include "util/proc.h"

struct fastepost_backup_dir {
  char *path;
  char *tools[3];
  fastepost_progress_cb progress;
  void *progress_payload;
};

static const char *const tool_names[3] = {"pg_dump", "pg_restore", "psql"};
static const char *const tool_envs[3] = {"FASTEPOST_PG_DUMP", "FASTEPOST_PG_RESTORE",
                                         "FASTEPOST_PSQL"};

#define SHA256_HEX 64
/* Temporary files; never a backup name. prune removes leftovers a crash may have left. */
#define PARTIAL_PREFIX ".partial-"
#define PARTIAL_MAX_AGE (24 * 3600)

/* ---- names ---------------------------------------------------------------------------------- */

static bool digits(const char *s, int n, int *value) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *value = v;
  return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm); timegm()
 * is not POSIX. */
static int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

bool fastepost__backup_parse_name(const char *name, int64_t *time_out, int *suffix_out,
                                  fastepost_backup_format *format_out) {
  /* backup_YYYYMMDD_HHMMSS[_N].sql|.dump */
  int y, mo, d, h, mi, s, suffix = 0;
  if (!name || strncmp(name, "backup_", 7) != 0 || strlen(name) >= FASTEPOST_BACKUP_NAME_MAX)
    return false;
  const char *p = name + 7;
  if (!digits(p, 4, &y) || !digits(p + 4, 2, &mo) || !digits(p + 6, 2, &d) || p[8] != '_' ||
      !digits(p + 9, 2, &h) || !digits(p + 11, 2, &mi) || !digits(p + 13, 2, &s))
    return false;
  p += 15;
  if (*p == '_') {
    int n = 0;
    while (p[1 + n] >= '0' && p[1 + n] <= '9')
      n++;
    if (n < 1 || n > 3 || p[1] == '0' || !digits(p + 1, n, &suffix))
      return false;
    p += 1 + n;
  }
  fastepost_backup_format format;
  if (strcmp(p, ".sql") == 0)
    format = FASTEPOST_BACKUP_PLAIN;
  else if (strcmp(p, ".dump") == 0)
    format = FASTEPOST_BACKUP_CUSTOM;
  else
    return false;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
      s > 59)
    return false;
  if (time_out)
    *time_out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  if (suffix_out)
    *suffix_out = suffix;
  if (format_out)
    *format_out = format;
  return true;
}

/* ---- the directory handle ------------------------------------------------------------------ */

fastepost_status fastepost_backup_dir_new(fastepost_backup_dir **out, const char *path) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_dir_new: out is NULL");
  *out = NULL;
  if (!path || !*path)
    path = getenv("FASTEPOST_BACKUP_DIR");
  if (!path || !*path)
    path = "tmp/backups";
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  if (path[0] != '/') {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
      return fastepost__error_set(FASTEPOST_EIO, "cannot determine the working directory: %s",
                                  strerror(errno));
    fastepost__buf_printf(&buf, "%s/", cwd);
  }
  fastepost__buf_puts(&buf, path);
  /* Trailing slashes would only make messages ugly. */
  while (buf.len > 1 && buf.data && buf.data[buf.len - 1] == '/')
    buf.data[--buf.len] = '\0';
  char *abs = fastepost__buf_detach(&buf);
  if (!abs)
    return FASTEPOST_ENOMEM;
  fastepost_backup_dir *dir = calloc(1, sizeof *dir);
  if (!dir) {
    free(abs);
    return fastepost__error_oom();
  }
  dir->path = abs;
  *out = dir;
  return FASTEPOST_OK;
}

void fastepost_backup_dir_free(fastepost_backup_dir *dir) {
  if (!dir)
    return;
  for (int i = 0; i < 3; i++)
    free(dir->tools[i]);
  free(dir->path);
  free(dir);
}

const char *fastepost_backup_dir_path(const fastepost_backup_dir *dir) {
  return dir ? dir->path : "";
}

fastepost_status fastepost_backup_set_tool(fastepost_backup_dir *dir, fastepost_backup_tool tool,
                                           const char *path) {
  if (!dir || (int)tool < 0 || (int)tool > 2)
    return fastepost__error_set(FASTEPOST_EINVALID, "unknown backup tool %d", (int)tool);
  char *copy = NULL;
  if (path && *path && !(copy = fastepost__strdup(path)))
    return FASTEPOST_ENOMEM;
  free(dir->tools[tool]);
  dir->tools[tool] = copy;
  return FASTEPOST_OK;
}

void fastepost_backup_set_progress(fastepost_backup_dir *dir, fastepost_progress_cb fn,
                                   void *payload) {
  if (!dir)
    return;
  dir->progress = fn;
  dir->progress_payload = payload;
}

/* mkdir -p with mode 0700 for every directory it creates. */
static int make_dirs(const char *path) {
  char *copy = fastepost__strdup(path);
  if (!copy)
    return FASTEPOST_ENOMEM;
  int rc = FASTEPOST_OK;
  for (char *p = copy + 1;; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char c = *p;
    *p = '\0';
    if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
      rc = fastepost__error_set(FASTEPOST_EIO, "cannot create the backup directory %s: %s", copy,
                                strerror(errno));
      break;
    }
    *p = c;
    if (c == '\0')
      break;
  }
  free(copy);
  return rc;
}

/* A descriptor of the directory. *fd = -1 without an error when it does not exist and
 * `missing_ok`. */
static int open_dir(int *fd, const fastepost_backup_dir *dir, bool create, bool missing_ok) {
  *fd = -1;
  if (!dir)
    return fastepost__error_set(FASTEPOST_EINVALID, "backup directory is NULL");
  if (create) {
    int rc = make_dirs(dir->path);
    if (rc)
      return rc;
  }
  *fd = open(dir->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*fd < 0) {
    if (errno == ENOENT && missing_ok)
      return FASTEPOST_OK;
    return fastepost__error_set(errno == ENOENT ? FASTEPOST_ENOTFOUND : FASTEPOST_EIO,
                                "cannot open the backup directory %s: %s", dir->path,
                                strerror(errno));
  }
  return FASTEPOST_OK;
}

/* Open a backup by name inside dirfd: the name must be a backup name, the file a regular file
 * reached without following a symbolic link. */
static int open_backup(int *fd, int64_t *size, int dirfd, const char *name) {
  *fd = -1;
  char shown[64];
  fastepost__preview(shown, sizeof shown, name ? name : "", name ? strlen(name) : 0);
  if (!fastepost__backup_parse_name(name, NULL, NULL, NULL))
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "'%s' is not a backup name (backup_YYYYMMDD_HHMMSS.sql or .dump)",
                                shown);
  if (dirfd < 0)
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "no backup named %s", name);
  /* O_NONBLOCK: a FIFO planted under a backup name must not hang the open. */
  int f = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (f < 0) {
    if (errno == ENOENT || errno == ELOOP)
      return fastepost__error_set(FASTEPOST_ENOTFOUND, "no backup named %s%s", name,
                                  errno == ELOOP ? " (it is a symbolic link)" : "");
    return fastepost__error_set(FASTEPOST_EIO, "cannot open backup %s: %s", name, strerror(errno));
  }
  struct stat st;
  if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(f);
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "no backup named %s (not a regular file)",
                                name);
  }
  int flags = fcntl(f, F_GETFL);
  if (flags >= 0)
    fcntl(f, F_SETFL, flags & ~O_NONBLOCK);
  *fd = f;
  if (size)
    *size = (int64_t)st.st_size;
  return FASTEPOST_OK;
}

/* ---- listing ------------------------------------------------------------------------------- */

typedef struct entry {
  fastepost_backup_info info;
  int suffix;
} entry;

static int newest_first(const void *a, const void *b) {
  const entry *x = a, *y = b;
  if (x->info.time != y->info.time)
    return x->info.time > y->info.time ? -1 : 1;
  if (x->suffix != y->suffix)
    return x->suffix > y->suffix ? -1 : 1;
  return strcmp(x->info.name, y->info.name);
}

/* Every backup in dirfd, newest first. */
static int scan(entry **out, size_t *count, int dirfd, const char *path) {
  *out = NULL;
  *count = 0;
  if (dirfd < 0)
    return FASTEPOST_OK;
  int dup_fd = dup(dirfd);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  if (!d) {
    if (dup_fd >= 0)
      close(dup_fd);
    return fastepost__error_set(FASTEPOST_EIO, "cannot read the backup directory %s: %s", path,
                                strerror(errno));
  }
  rewinddir(d); /* a duplicated descriptor shares the directory position */
  entry *list = NULL;
  size_t n = 0, cap = 0;
  int rc = FASTEPOST_OK;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    entry e;
    memset(&e, 0, sizeof e);
    if (!fastepost__backup_parse_name(de->d_name, &e.info.time, &e.suffix, &e.info.format))
      continue;
    struct stat st;
    if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
      continue;
    memcpy(e.info.name, de->d_name, strlen(de->d_name) + 1); /* parse_name checked the length */
    e.info.size = (int64_t)st.st_size;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      entry *grown = realloc(list, ncap * sizeof *grown);
      if (!grown) {
        rc = fastepost__error_oom();
        break;
      }
      list = grown;
      cap = ncap;
    }
    list[n++] = e;
  }
  closedir(d);
  if (rc) {
    free(list);
    return rc;
  }
  if (n)
    qsort(list, n, sizeof *list, newest_first);
  *out = list;
  *count = n;
  return FASTEPOST_OK;
}

/* Copy entries [from, from+n) of list into a new info array. */
static int infos_of(fastepost_backup_info **out, const entry *list, size_t n) {
  *out = NULL;
  if (!n)
    return FASTEPOST_OK;
  fastepost_backup_info *infos = calloc(n, sizeof *infos);
  if (!infos)
    return fastepost__error_oom();
  for (size_t i = 0; i < n; i++)
    infos[i] = list[i].info;
  *out = infos;
  return FASTEPOST_OK;
}

fastepost_status fastepost_backup_list(fastepost_backup_info **out, size_t *count,
                                       fastepost_backup_dir *dir, int limit) {
  if (!out || !count)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_list: out or count is NULL");
  *out = NULL;
  *count = 0;
  int dirfd;
  int rc = open_dir(&dirfd, dir, false, true);
  if (rc)
    return rc;
  entry *list;
  size_t n;
  rc = scan(&list, &n, dirfd, dir->path);
  if (dirfd >= 0)
    close(dirfd);
  if (rc)
    return rc;
  if (limit > 0 && n > (size_t)limit)
    n = (size_t)limit;
  rc = infos_of(out, list, n);
  free(list);
  if (!rc)
    *count = n;
  return rc;
}

fastepost_status fastepost_backup_path(char **out, fastepost_backup_dir *dir, const char *name) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_path: out is NULL");
  *out = NULL;
  int dirfd, fd;
  int rc = open_dir(&dirfd, dir, false, true);
  if (rc)
    return rc;
  rc = open_backup(&fd, NULL, dirfd, name);
  if (dirfd >= 0)
    close(dirfd);
  if (rc)
    return rc;
  close(fd);
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  fastepost__buf_printf(&buf, "%s/%s", dir->path, name);
  *out = fastepost__buf_detach(&buf);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

fastepost_status fastepost_backup_open(int *fd, int64_t *size, fastepost_backup_dir *dir,
                                       const char *name) {
  if (!fd)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_open: fd is NULL");
  *fd = -1;
  int dirfd;
  int rc = open_dir(&dirfd, dir, false, true);
  if (rc)
    return rc;
  rc = open_backup(fd, size, dirfd, name);
  if (dirfd >= 0)
    close(dirfd);
  return rc;
}

/* ---- finding pg_dump, pg_restore, psql (pgtool.c) ----------------------------------------- */

static int find_tool(char **out, const fastepost_backup_dir *dir, fastepost_backup_tool tool,
                     int server_version) {
  return fastepost__pgtool_find(out, tool_names[tool], dir->tools[tool], tool_envs[tool],
                                server_version);
}

/* ---- create -------------------------------------------------------------------------------- */

static int write_all(int fd, const char *data, size_t len) {
  while (len) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

/*
 * pg_dump writes straight into the temporary file (its stdout), exactly as `pg_dump -f` would:
 * no pipe copy. Meanwhile a tick follows the file's growth to report progress and, for plain
 * SQL (written strictly in sequence), to hash what is already there, so that little hashing is
 * left at the end. A custom archive is hashed after pg_dump exits: on a seekable file it goes
 * back and rewrites its table of contents.
 */
typedef struct dump_state {
  int fd;
  EVP_MD_CTX *sha;
  bool hash_while_running;
  int64_t hashed, reported;
  char *buf;
  fastepost_backup_dir *dir; /* for progress; NULL when only hashing */
  const char *what;          /* for messages */
} dump_state;

#define HASH_CHUNK (1 << 20)

static int hash_upto(dump_state *st, int64_t end) {
  while (st->hashed < end) {
    size_t want = (size_t)(end - st->hashed < HASH_CHUNK ? end - st->hashed : HASH_CHUNK);
    ssize_t n = pread(st->fd, st->buf, want, (off_t)st->hashed);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return fastepost__error_set(FASTEPOST_EIO, "reading %s: %s", st->what, strerror(errno));
    if (n == 0)
      break;
    EVP_DigestUpdate(st->sha, st->buf, (size_t)n);
    st->hashed += n;
  }
  return FASTEPOST_OK;
}

static int file_size(int64_t *size, const dump_state *st) {
  struct stat sb;
  if (fstat(st->fd, &sb) != 0)
    return fastepost__error_set(FASTEPOST_EIO, "cannot stat %s: %s", st->what, strerror(errno));
  *size = (int64_t)sb.st_size;
  return FASTEPOST_OK;
}

static int report(dump_state *st, int64_t size) {
  if (!st->dir || !st->dir->progress || size == st->reported)
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
  int rc = file_size(&size, st);
  if (!rc && st->hash_while_running)
    rc = hash_upto(st, size);
  if (!rc)
    rc = report(st, size);
  return rc;
}

/* After pg_dump exited: hash the rest and report the final size. */
static int dump_finish(dump_state *st) {
  int64_t size = 0;
  int rc = file_size(&size, st);
  if (!rc)
    rc = hash_upto(st, size);
  if (!rc && st->hashed != size)
    rc = fastepost__error_set(FASTEPOST_EIO, "the backup file shrank while it was read");
  if (!rc)
    rc = report(st, size);
  return rc;
}

static void sha_hex(char out[SHA256_HEX + 1], EVP_MD_CTX *ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, md, &n);
  for (unsigned int i = 0; i < n && i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", md[i]);
  out[SHA256_HEX] = '\0';
}

/* A fresh temporary file in dirfd; its name (not a backup name) goes into name. */
static int open_temp(int *fd, char *name, size_t namesize, int dirfd, const char *what) {
  /* Unique enough with pid and nanoseconds; O_EXCL catches the rest (no shared counter, so no
   * state shared between threads). */
  for (int attempt = 0; attempt < 100; attempt++) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(name, namesize, "%s%s-%ld-%ld-%d", PARTIAL_PREFIX, what, (long)getpid(),
             (long)ts.tv_nsec, attempt);
    *fd = openat(dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (*fd >= 0) {
      fchmod(*fd, 0600); /* whatever the umask */
      return FASTEPOST_OK;
    }
    if (errno != EEXIST)
      break;
  }
  return fastepost__error_set(FASTEPOST_EIO, "cannot create a file in the backup directory: %s",
                              strerror(errno));
}

/* Give tmp its final name without ever replacing a file: link() fails on an existing name, so
 * a second backup in the same second moves on to the next suffix. Where hard links are not
 * supported, fall back to a check followed by rename(). */
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

static int publish(char *final, size_t finalsize, int dirfd, const char *tmp, const char *stamp,
                   const char *ext) {
  for (int suffix = next_suffix(dirfd, stamp); suffix < 1000; suffix++) {
    /* One name per time and suffix whatever the extension, so the suffix orders them. */
    const char *other_ext = strcmp(ext, ".sql") == 0 ? ".dump" : ".sql";
    char other[FASTEPOST_BACKUP_NAME_MAX];
    if (suffix) {
      snprintf(final, finalsize, "%s_%d%s", stamp, suffix, ext);
      snprintf(other, sizeof other, "%s_%d%s", stamp, suffix, other_ext);
    } else {
      snprintf(final, finalsize, "%s%s", stamp, ext);
      snprintf(other, sizeof other, "%s%s", stamp, other_ext);
    }
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
                              strerror(errno));
}

static int write_checksum(int dirfd, const char *name, const char *hex) {
  char tmp[96], sumname[FASTEPOST_BACKUP_NAME_MAX + 8];
  int fd;
  int rc = open_temp(&fd, tmp, sizeof tmp, dirfd, "sha256");
  if (rc)
    return rc;
  char line[SHA256_HEX + FASTEPOST_BACKUP_NAME_MAX + 8];
  int n = snprintf(line, sizeof line, "%s  %s\n", hex, name);
  snprintf(sumname, sizeof sumname, "%s.sha256", name);
  if (write_all(fd, line, (size_t)n) != 0 || fsync(fd) != 0 ||
      renameat(dirfd, tmp, dirfd, sumname) != 0) {
    rc = fastepost__error_set(FASTEPOST_EIO, "cannot write %s: %s", sumname, strerror(errno));
    unlinkat(dirfd, tmp, 0);
  }
  close(fd);
  return rc;
}

/* The table as a pg_dump pattern that matches exactly it: "schema"."name", quoted. */
static int table_pattern(char **out, fastepost_conn *conn, PGconn *pg, const char *table) {
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
    char shown[64];
    fastepost__preview(shown, sizeof shown, table, strlen(table));
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "no table named %s", shown);
  }
  char *schema = PQescapeIdentifier(pg, PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)));
  char *name = PQescapeIdentifier(pg, PQgetvalue(res, 0, 1), strlen(PQgetvalue(res, 0, 1)));
  PQclear(res);
  fastepost__buf buf = FASTEPOST__BUF_INIT;
  if (schema && name)
    fastepost__buf_printf(&buf, "--table=%s.%s", schema, name);
  else
    buf.oom = true;
  PQfreemem(schema);
  PQfreemem(name);
  *out = fastepost__buf_detach(&buf);
  return *out ? FASTEPOST_OK : FASTEPOST_ENOMEM;
}

fastepost_status fastepost_backup_create(char **name, fastepost_backup_dir *dir,
                                         fastepost_conn *conn, fastepost_backup_format format,
                                         const char *table) {
  if (name)
    *name = NULL;
  if (!dir)
    return fastepost__error_set(FASTEPOST_EINVALID, "backup directory is NULL");
  if (format != FASTEPOST_BACKUP_PLAIN && format != FASTEPOST_BACKUP_CUSTOM)
    return fastepost__error_set(FASTEPOST_EINVALID, "unknown backup format %d", (int)format);
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;

  /* The name is the start time: that is the moment the snapshot reflects. */
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "backup_%Y%m%d_%H%M%S", &tm);

  char *tool = NULL, *table_arg = NULL;
  int rc = find_tool(&tool, dir, FASTEPOST_TOOL_PG_DUMP, PQserverVersion(pg));
  if (!rc && table)
    rc = table_pattern(&table_arg, conn, pg, table);
  int dirfd = -1;
  if (!rc)
    rc = open_dir(&dirfd, dir, true, false);
  char tmp[96] = "";
  int fd = -1;
  if (!rc)
    rc = open_temp(&fd, tmp, sizeof tmp, dirfd, "backup");

  dump_state st = {.fd = fd, .dir = dir, .what = "the new backup file",
                   .hash_while_running = format == FASTEPOST_BACKUP_PLAIN};
  if (!rc && (!(st.sha = EVP_MD_CTX_new()) || !(st.buf = malloc(HASH_CHUNK))))
    rc = fastepost__error_oom();
  if (!rc && EVP_DigestInit_ex(st.sha, EVP_sha256(), NULL) != 1)
    rc = fastepost__error_set(FASTEPOST_ERROR, "SHA-256 is not available");
  if (!rc) {
    const char *argv[] = {tool, NULL, "--no-password",
                          format == FASTEPOST_BACKUP_CUSTOM ? "--format=custom" : "--format=plain",
                          table_arg, NULL};
    fastepost__proc p = {.stdin_fd = -1, .stdout_fd = fd, .on_tick = dump_tick, .tick_ms = 50,
                         .payload = &st};
    rc = fastepost__pgtool_run(&p, pg, NULL, argv);
    fastepost__proc_cleanup(&p);
  }
  if (!rc)
    rc = dump_finish(&st);
  if (!rc && fsync(fd) != 0)
    rc = fastepost__error_set(FASTEPOST_EIO, "cannot sync the backup to disk: %s", strerror(errno));
  if (fd >= 0)
    close(fd);

  char final[FASTEPOST_BACKUP_NAME_MAX] = "";
  if (!rc)
    rc = publish(final, sizeof final, dirfd, tmp, stamp,
                 format == FASTEPOST_BACKUP_CUSTOM ? ".dump" : ".sql");
  if (rc && tmp[0])
    unlinkat(dirfd, tmp, 0);
  if (!rc) {
    char hex[SHA256_HEX + 1];
    sha_hex(hex, st.sha);
    rc = write_checksum(dirfd, final, hex);
    if (rc) /* a backup that cannot be verified is not a backup */
      unlinkat(dirfd, final, 0);
  }
  if (!rc && fsync(dirfd) != 0)
    rc = fastepost__error_set(FASTEPOST_EIO, "cannot sync the backup directory: %s",
                              strerror(errno));
  if (!rc && name && !(*name = fastepost__strdup(final)))
    rc = FASTEPOST_ENOMEM;
  if (rc && rc != FASTEPOST_ENOMEM)
    fastepost__error_prefix("backup of %s", PQdb(pg));
  EVP_MD_CTX_free(st.sha);
  free(st.buf);
  if (dirfd >= 0)
    close(dirfd);
  free(tool);
  free(table_arg);
  return rc;
}

/* ---- verify, restore ----------------------------------------------------------------------- */

static int read_checksum(char hex[SHA256_HEX + 1], int dirfd, const char *name) {
  char sumname[FASTEPOST_BACKUP_NAME_MAX + 8];
  snprintf(sumname, sizeof sumname, "%s.sha256", name);
  int fd = openat(dirfd, sumname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "no checksum recorded for %s (%s: %s)", name,
                                sumname, strerror(errno));
  char line[SHA256_HEX + 1];
  ssize_t n = read(fd, line, SHA256_HEX);
  close(fd);
  int i = 0;
  for (; n == SHA256_HEX && i < SHA256_HEX; i++) {
    char c = line[i];
    if (c >= 'A' && c <= 'F')
      c = (char)(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      break;
    hex[i] = c;
  }
  if (i != SHA256_HEX)
    return fastepost__error_set(FASTEPOST_EPARSE, "%s does not hold a SHA-256", sumname);
  hex[SHA256_HEX] = '\0';
  return FASTEPOST_OK;
}

/* The SHA-256 of a whole open file (from its start, whatever the file offset). */
static int hash_fd(char hex[SHA256_HEX + 1], int fd, const char *name) {
  dump_state st = {.fd = fd, .what = name};
  int64_t size = 0;
  int rc = FASTEPOST_OK;
  if (!(st.sha = EVP_MD_CTX_new()) || !(st.buf = malloc(HASH_CHUNK)) ||
      EVP_DigestInit_ex(st.sha, EVP_sha256(), NULL) != 1)
    rc = fastepost__error_oom();
  if (!rc)
    rc = file_size(&size, &st);
  if (!rc)
    rc = hash_upto(&st, size);
  if (!rc)
    sha_hex(hex, st.sha);
  free(st.buf);
  EVP_MD_CTX_free(st.sha);
  return rc;
}

/* Restore the open backup file (fd, read from the start) into dbname on the server of pg. */
static int restore_fd(const fastepost_backup_dir *dir, PGconn *pg, const char *dbname, int fd,
                      fastepost_backup_format format) {
  bool plain = format == FASTEPOST_BACKUP_PLAIN;
  char *tool = NULL;
  int rc = find_tool(&tool, dir, plain ? FASTEPOST_TOOL_PSQL : FASTEPOST_TOOL_PG_RESTORE,
                     PQserverVersion(pg));
  if (rc)
    return rc;
  if (lseek(fd, 0, SEEK_SET) != 0) {
    free(tool);
    return fastepost__error_set(FASTEPOST_EIO, "cannot rewind the backup: %s", strerror(errno));
  }
  /* The file goes in as stdin: the tool never opens a path that could have changed. */
  const char *psql_argv[] = {tool, NULL, "--no-password", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                             "--single-transaction", "-f", "-", NULL};
  const char *restore_argv[] = {tool, NULL, "--no-password", "--single-transaction",
                                "--exit-on-error", NULL};
  fastepost__proc p = {.stdin_fd = fd, .stdout_fd = -1};
  rc = fastepost__pgtool_run(&p, pg, dbname, plain ? psql_argv : restore_argv);
  fastepost__proc_cleanup(&p);
  free(tool);
  return rc;
}

fastepost_status fastepost_backup_verify(fastepost_backup_dir *dir, fastepost_conn *conn,
                                         const char *name, int deep) {
  PGconn *pg = NULL;
  if (conn || deep) {
    pg = fastepost__conn_pg(conn);
    if (!pg)
      return fastepost_error_last()->code;
  }
  int dirfd, fd = -1;
  int rc = open_dir(&dirfd, dir, false, true);
  if (rc)
    return rc;
  fastepost_backup_format format = FASTEPOST_BACKUP_PLAIN;
  fastepost__backup_parse_name(name, NULL, NULL, &format);
  rc = open_backup(&fd, NULL, dirfd, name);
  char want[SHA256_HEX + 1], got[SHA256_HEX + 1];
  if (!rc)
    rc = read_checksum(want, dirfd, name);
  if (!rc)
    rc = hash_fd(got, fd, name);
  if (!rc && strcmp(want, got) != 0)
    rc = fastepost__error_set(FASTEPOST_EIO,
                              "checksum mismatch for %s: recorded %.12s..., file has %.12s...",
                              name, want, got);
  if (!rc && format == FASTEPOST_BACKUP_CUSTOM) {
    char *tool = NULL;
    rc = find_tool(&tool, dir, FASTEPOST_TOOL_PG_RESTORE, pg ? PQserverVersion(pg) : 0);
    if (!rc && lseek(fd, 0, SEEK_SET) != 0)
      rc = fastepost__error_set(FASTEPOST_EIO, "cannot rewind %s: %s", name, strerror(errno));
    if (!rc) {
      const char *argv[] = {tool, "--list", NULL};
      fastepost__proc p = {.argv = argv, .stdin_fd = fd, .stdout_fd = -1};
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
  }
  if (!rc && deep) {
    /* A scratch database of our own, always dropped, even after a failed restore. */
    char scratch[64], sql[160];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(scratch, sizeof scratch, "fastepost_verify_%ld_%ld_%ld", (long)getpid(),
             (long)ts.tv_sec, (long)ts.tv_nsec);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s TEMPLATE template0", scratch);
    rc = fastepost__exec(conn, sql, "creating the scratch database for a deep verify");
    if (!rc) {
      rc = restore_fd(dir, pg, scratch, fd, format);
      if (rc)
        fastepost__error_prefix("test restore into a scratch database failed");
      int saved = rc;
      char msg[1024];
      snprintf(msg, sizeof msg, "%s", fastepost_error_last()->message);
      snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s%s", scratch,
               PQserverVersion(pg) >= 130000 ? " WITH (FORCE)" : "");
      int drc = fastepost__exec(conn, sql, "dropping the scratch database");
      if (saved) {
        rc = fastepost__error_set(saved, "%s", msg);
      } else {
        rc = drc;
      }
    }
  }
  if (rc && rc != FASTEPOST_ENOMEM && name)
    fastepost__error_prefix("verifying backup");
  if (fd >= 0)
    close(fd);
  if (dirfd >= 0)
    close(dirfd);
  return rc;
}

/* Whether two connections reach the same database: same server (postmaster start time) and
 * same database oid. Host names cannot tell (a socket and localhost may be one server). */
static int same_database(bool *same, PGconn *a, PGconn *b) {
  const char *sql = "SELECT pg_postmaster_start_time()::text || '/' || d.oid::text "
                    "FROM pg_database d WHERE d.datname = current_database()";
  PGresult *ra = PQexec(a, sql), *rb = PQexec(b, sql);
  int rc = FASTEPOST_OK;
  if (PQresultStatus(ra) != PGRES_TUPLES_OK || PQresultStatus(rb) != PGRES_TUPLES_OK ||
      PQntuples(ra) != 1 || PQntuples(rb) != 1)
    rc = fastepost__error_set(FASTEPOST_EDB, "cannot identify the target database: %s",
                              PQerrorMessage(PQresultStatus(ra) != PGRES_TUPLES_OK ? a : b));
  else
    *same = strcmp(PQgetvalue(ra, 0, 0), PQgetvalue(rb, 0, 0)) == 0;
  PQclear(ra);
  PQclear(rb);
  return rc;
}

fastepost_status fastepost_backup_restore(fastepost_backup_dir *dir, fastepost_conn *conn,
                                          const char *name, const char *target, int force) {
  if (!target || !*target)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "restore needs a target database (a connection string)");
  PGconn *pg = fastepost__conn_pg(conn);
  if (!pg)
    return fastepost_error_last()->code;
  int dirfd, fd = -1;
  int rc = open_dir(&dirfd, dir, false, true);
  if (rc)
    return rc;
  fastepost_backup_format format = FASTEPOST_BACKUP_PLAIN;
  fastepost__backup_parse_name(name, NULL, NULL, &format);
  rc = open_backup(&fd, NULL, dirfd, name);
  if (dirfd >= 0)
    close(dirfd);
  if (rc)
    return rc;

  PGconn *tpg = PQconnectdb(target);
  if (!tpg || PQstatus(tpg) != CONNECTION_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", tpg ? PQerrorMessage(tpg) : "out of memory");
    msg[strcspn(msg, "\n")] = '\0';
    rc = fastepost__error_set(FASTEPOST_ECONN, "cannot connect to the restore target: %s", msg);
  }
  bool same = false;
  if (!rc)
    rc = same_database(&same, pg, tpg);
  if (!rc && same && !force)
    rc = fastepost__error_set(FASTEPOST_EINVALID,
                              "the restore target is the connected database %s; restore into "
                              "another database, or force it",
                              PQdb(pg));
  if (!rc) {
    rc = restore_fd(dir, tpg, PQdb(tpg), fd, format);
    if (rc && rc != FASTEPOST_ENOMEM)
      fastepost__error_prefix("restoring %s into %s (nothing was changed)", name, PQdb(tpg));
  }
  PQfinish(tpg);
  close(fd);
  return rc;
}

/* ---- prune --------------------------------------------------------------------------------- */

/* Temporary files of backups whose process died (killed, power loss) before cleaning up. A day
 * is far longer than any backup runs, so a running one is never touched. */
static void remove_stale_partials(int dirfd) {
  int dup_fd = dup(dirfd);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  if (!d) {
    if (dup_fd >= 0)
      close(dup_fd);
    return;
  }
  rewinddir(d); /* the duplicate shares its position with dirfd, which scan() moved */
  time_t now = time(NULL);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    struct stat st;
    if (strncmp(de->d_name, PARTIAL_PREFIX, strlen(PARTIAL_PREFIX)) == 0 &&
        fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        now - st.st_mtime > PARTIAL_MAX_AGE)
      unlinkat(dirfd, de->d_name, 0);
  }
  closedir(d);
}

fastepost_status fastepost_backup_prune(fastepost_backup_info **removed, size_t *count,
                                        fastepost_backup_dir *dir, int keep, int older_than_days) {
  if (removed)
    *removed = NULL;
  if (count)
    *count = 0;
  if (keep < 0 && older_than_days < 0)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "prune needs a number of backups to keep or a maximum age");
  int dirfd;
  int rc = open_dir(&dirfd, dir, false, true);
  if (rc || dirfd < 0)
    return rc;
  entry *list;
  size_t n;
  rc = scan(&list, &n, dirfd, dir->path);
  if (rc) {
    close(dirfd);
    return rc;
  }
  int64_t cutoff = older_than_days >= 0 ? (int64_t)time(NULL) - (int64_t)older_than_days * 86400
                                        : 0;
  size_t gone = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    bool beyond_keep = keep >= 0 && i >= (size_t)keep;
    bool too_old = older_than_days >= 0 && list[i].info.time < cutoff;
    bool remove = keep >= 0 && older_than_days >= 0 ? beyond_keep && too_old
                                                    : beyond_keep || too_old;
    if (!remove)
      continue;
    if (unlinkat(dirfd, list[i].info.name, 0) != 0 && errno != ENOENT) {
      rc = fastepost__error_set(FASTEPOST_EIO, "cannot remove backup %s: %s", list[i].info.name,
                                strerror(errno));
      break;
    }
    char sumname[FASTEPOST_BACKUP_NAME_MAX + 8];
    snprintf(sumname, sizeof sumname, "%s.sha256", list[i].info.name);
    unlinkat(dirfd, sumname, 0);
    list[gone++] = list[i]; /* compact the removed ones to the front, order kept */
  }
  if (!rc)
    remove_stale_partials(dirfd);
  fsync(dirfd);
  close(dirfd);
  if (!rc && removed)
    rc = infos_of(removed, list, gone);
  if (count)
    *count = gone;
  free(list);
  return rc;
}
