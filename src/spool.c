/*
 * The delivery spool (see fastepost/spool.h and docs/spool.md).
 *
 * One delivery = one file "<spooled-at µs, 16 digits>-<pid>-<counter>.spool", so that name order
 * is arrival order (within a process exactly, across processes to the microsecond). A file is a
 * few "key value" header lines, a blank line, then the raw body:
 *
 *     fastepost-spool 1
 *     source odoo
 *     event write
 *     content-type application/json
 *     spooled-at 1732700000000000
 *     length 123
 *
 *     {...body...}
 *
 * Written as ".tmp-<name>" (0600, O_EXCL, O_NOFOLLOW), fsync'd, renamed, then the directory is
 * fsync'd: a crash leaves either no record or a complete one (a leftover ".tmp-*" file was
 * never acknowledged as spooled and is ignored). Replay holds an fcntl lock on ".lock" so that two replays never
 * process the same file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fastepost/spool.h"
#include "internal.h"
#include "odoo.h"
#include "sync.h"

#define MAGIC "fastepost-spool 1\n"
#define SUFFIX ".spool"
#define MAX_OPTION 200

/* Sources a spooled delivery can be replayed through. A new CRM adds one line here. */
typedef int (*replay_fn)(fastepost_event_result **out, fastepost_conn *conn, const char *body, size_t len,
                         const char *event, const char *content_type);
static const struct {
  const char *source;
  replay_fn replay;
} adapters[] = {
    {"odoo", fastepost__odoo_replay},
};

struct fastepost_spool {
  char *dir;
  int dirfd;
  size_t max_files;
  uint64_t max_bytes;
};

/* Per process, not per handle: two handles on one directory never build the same name. */
static _Atomic unsigned name_counter;

static replay_fn adapter_for(const char *source) {
  for (size_t i = 0; source && i < sizeof adapters / sizeof adapters[0]; i++)
    if (!strcmp(adapters[i].source, source))
      return adapters[i].replay;
  return NULL;
}

/* ---- open ---------------------------------------------------------------------------------- */

fastepost_status fastepost_spool_open(fastepost_spool **out, const char *dir) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_spool_open: out is NULL");
  *out = NULL;
  if (!dir || !*dir)
    return fastepost__error_set(FASTEPOST_EINVALID, "no spool directory given");
  /* mkdir -p, 0700 for what we create. */
  char *copy = fastepost__strdup(dir);
  if (!copy)
    return fastepost__error_oom();
  for (char *p = copy + 1;; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char c = *p;
    *p = '\0';
    if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
      int e = errno;
      free(copy);
      return fastepost__error_set(FASTEPOST_EIO, "cannot create the spool directory %s: %s", dir, strerror(e));
    }
    *p = c;
    if (!c)
      break;
  }
  free(copy);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    return fastepost__error_set(FASTEPOST_EIO, "cannot open the spool directory %s: %s", dir, strerror(e));
  }
  if (st.st_mode & 077) {
    close(fd);
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "the spool directory %s is accessible by other users (mode %04o): it "
                                "holds customer data, make it 0700",
                                dir, (unsigned)(st.st_mode & 07777));
  }
  fastepost_spool *s = calloc(1, sizeof *s);
  if (!s || !(s->dir = fastepost__strdup(dir))) {
    free(s);
    close(fd);
    return fastepost__error_oom();
  }
  s->dirfd = fd;
  s->max_files = FASTEPOST_SPOOL_DEFAULT_MAX_FILES;
  s->max_bytes = FASTEPOST_SPOOL_DEFAULT_MAX_BYTES;
  *out = s;
  return FASTEPOST_OK;
}

void fastepost_spool_free(fastepost_spool *s) {
  if (!s)
    return;
  close(s->dirfd);
  free(s->dir);
  free(s);
}

fastepost_status fastepost_spool_set_limits(fastepost_spool *s, size_t max_files, uint64_t max_bytes) {
  if (!s || !max_files || !max_bytes)
    return fastepost__error_set(FASTEPOST_EINVALID, "spool limits must be 1 or more");
  s->max_files = max_files;
  s->max_bytes = max_bytes;
  return FASTEPOST_OK;
}

/* ---- the directory ------------------------------------------------------------------------- */

static bool is_record_name(const char *n) {
  size_t len = strlen(n);
  return n[0] != '.' && len > strlen(SUFFIX) && !strcmp(n + len - strlen(SUFFIX), SUFFIX);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The record names, sorted, and their total size. */
static int scan(fastepost_spool *s, fastepost__strlist *names, uint64_t *bytes) {
  int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0)
      close(fd);
    return fastepost__error_set(FASTEPOST_EIO, "cannot read the spool directory %s: %s", s->dir, strerror(errno));
  }
  *bytes = 0;
  int rc = FASTEPOST_OK;
  struct dirent *e;
  while (!rc && (e = readdir(d)) != NULL) {
    if (!is_record_name(e->d_name))
      continue;
    struct stat st;
    if (fstatat(s->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
      continue; /* removed meanwhile by a replay, or not ours */
    *bytes += (uint64_t)st.st_size;
    rc = fastepost__strlist_add(names, e->d_name);
  }
  closedir(d);
  if (!rc && names->count)
    qsort(names->items, names->count, sizeof *names->items, cmp_names);
  return rc;
}

static bool option_ok(const char *v) {
  size_t n = 0;
  for (; v[n]; n++)
    if ((unsigned char)v[n] < 0x20 || v[n] == 0x7f)
      return false;
  return n <= MAX_OPTION;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* ---- put ----------------------------------------------------------------------------------- */

fastepost_status fastepost_spool_put(char **name_out, fastepost_spool *s, const char *source, const char *event,
                                     const char *content_type, const char *body, size_t len) {
  if (name_out)
    *name_out = NULL;
  if (!s || (!body && len))
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_spool_put: NULL argument");
  if (!adapter_for(source))
    return fastepost__error_set(FASTEPOST_EINVALID, "cannot spool for unknown source \"%.32s\"",
                                source ? source : "");
  event = event ? event : "";
  content_type = content_type ? content_type : "application/json";
  if (!option_ok(event) || !option_ok(content_type))
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "an event hint or content type to spool has control characters or is too long");
  int64_t now = fastepost__clock_now();
  char head[4 * MAX_OPTION];
  int hn = snprintf(head, sizeof head,
                    MAGIC "source %s\nevent %s\ncontent-type %s\nspooled-at %" PRId64 "\nlength %zu\n\n",
                    source, event, content_type, now, len);
  if (hn < 0 || (size_t)hn >= sizeof head)
    return fastepost__error_set(FASTEPOST_EINVALID, "spool header too long");

  /* Bounds. Concurrent writers may overshoot by one file each: the limit protects the disk, it
   * is not an exact quota. */
  fastepost__strlist names = {0};
  uint64_t bytes = 0;
  int rc = scan(s, &names, &bytes);
  size_t files = names.count;
  fastepost__strlist_free(&names);
  if (rc)
    return rc;
  if (files + 1 > s->max_files || bytes + (uint64_t)hn + len > s->max_bytes)
    return fastepost__error_set(FASTEPOST_ETOOBIG,
                                "the spool %s is full: %zu files, %" PRIu64 " bytes (limits %zu files, %" PRIu64
                                " bytes); replay it with `fastepost spool replay`",
                                s->dir, files, bytes, s->max_files, s->max_bytes);

  char name[96], tmp[112];
  snprintf(name, sizeof name, "%016" PRId64 "-%010ld-%06u" SUFFIX, now, (long)getpid(), name_counter++ % 1000000);
  snprintf(tmp, sizeof tmp, ".tmp-%s", name);
  int fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return fastepost__error_set(FASTEPOST_EIO, "cannot create %s/%s: %s", s->dir, tmp, strerror(errno));
  const char *step = "writing";
  bool ok = write_all(fd, head, (size_t)hn) == 0 && write_all(fd, body, len) == 0;
  if (ok && !(ok = fsync(fd) == 0))
    step = "syncing";
  int e = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    e = errno;
    step = "closing";
  }
  if (ok && renameat(s->dirfd, tmp, s->dirfd, name) != 0) {
    ok = false;
    e = errno;
    step = "renaming";
  }
  if (!ok) {
    unlinkat(s->dirfd, tmp, 0); /* no partial record stays behind */
    return fastepost__error_set(FASTEPOST_EIO, "spooling a delivery to %s failed while %s: %s", s->dir, step,
                                strerror(e));
  }
  if (fsync(s->dirfd) != 0) {
    e = errno;
    unlinkat(s->dirfd, name, 0);
    return fastepost__error_set(FASTEPOST_EIO, "syncing the spool directory %s: %s", s->dir, strerror(e));
  }
  if (name_out && !(*name_out = fastepost__strdup(name)))
    return fastepost__error_oom(); /* the record is on disk all the same */
  return FASTEPOST_OK;
}

/* ---- reading a record ---------------------------------------------------------------------- */

typedef struct record {
  char *data; /* the whole file, NUL-terminated; the fields point into it */
  const char *source, *event, *content_type;
  const char *body;
  size_t len;
  int64_t spooled_at;
} record;

/* The value of header line "key value" at *p, NUL-terminated in place. */
static const char *header_value(char **p, const char *key) {
  size_t k = strlen(key);
  if (strncmp(*p, key, k) != 0 || (*p)[k] != ' ')
    return NULL;
  char *v = *p + k + 1, *nl = strchr(v, '\n');
  if (!nl)
    return NULL;
  *nl = '\0';
  *p = nl + 1;
  return v;
}

/* Read and parse a record. FASTEPOST_EPARSE for a file that is not one. */
static int read_record(fastepost_spool *s, const char *name, record *r) {
  memset(r, 0, sizeof *r);
  int fd = openat(s->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    return fastepost__error_set(e == ENOENT ? FASTEPOST_ENOTFOUND : FASTEPOST_EIO, "cannot open %s/%s: %s",
                                s->dir, name, strerror(e));
  }
  size_t size = (size_t)st.st_size;
  if (!(r->data = malloc(size + 1))) {
    close(fd);
    return fastepost__error_oom();
  }
  size_t got = 0;
  while (got < size) {
    ssize_t n = read(fd, r->data + got, size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  r->data[got] = '\0';
  char *p = r->data;
  const char *at = NULL, *length = NULL;
  if (got != size || strncmp(p, MAGIC, strlen(MAGIC)) != 0)
    goto bad;
  p += strlen(MAGIC);
  if (!(r->source = header_value(&p, "source")) || !(r->event = header_value(&p, "event")) ||
      !(r->content_type = header_value(&p, "content-type")) || !(at = header_value(&p, "spooled-at")) ||
      !(length = header_value(&p, "length")) || *p != '\n')
    goto bad;
  p++;
  char *end;
  errno = 0;
  unsigned long long len = strtoull(length, &end, 10);
  if (errno || *end || len != (unsigned long long)(got - (size_t)(p - r->data)))
    goto bad; /* truncated or padded: never replay a partial body */
  r->body = p;
  r->len = (size_t)len;
  r->spooled_at = strtoll(at, NULL, 10);
  return FASTEPOST_OK;
bad:
  free(r->data);
  r->data = NULL;
  return fastepost__error_set(FASTEPOST_EPARSE, "%s/%s is not a complete spool record", s->dir, name);
}

/* ---- list ---------------------------------------------------------------------------------- */

struct fastepost_spool_entries {
  fastepost_spool_entry *rows;
  char **strings; /* 4 per row */
  size_t count;
};

void fastepost_spool_entries_free(fastepost_spool_entries *l) {
  if (!l)
    return;
  for (size_t i = 0; i < l->count * 4; i++)
    free(l->strings[i]);
  free(l->strings);
  free(l->rows);
  free(l);
}

size_t fastepost_spool_entries_count(const fastepost_spool_entries *l) { return l ? l->count : 0; }

const fastepost_spool_entry *fastepost_spool_entries_get(const fastepost_spool_entries *l, size_t i) {
  return l && i < l->count ? &l->rows[i] : NULL;
}

fastepost_status fastepost_spool_list(fastepost_spool_entries **out, fastepost_spool *s) {
  if (!out || !s)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_spool_list: NULL argument");
  *out = NULL;
  fastepost__strlist names = {0};
  uint64_t bytes;
  int rc = scan(s, &names, &bytes);
  fastepost_spool_entries *l = rc ? NULL : calloc(1, sizeof *l);
  if (!rc && (!l || !(l->rows = calloc(names.count + 1, sizeof *l->rows)) ||
              !(l->strings = calloc(names.count * 4 + 1, sizeof *l->strings))))
    rc = fastepost__error_oom();
  for (size_t i = 0; !rc && i < names.count; i++) {
    record r;
    int rr = read_record(s, names.items[i], &r);
    if (rr == FASTEPOST_ENOTFOUND)
      continue; /* replayed meanwhile */
    if (rr == FASTEPOST_ENOMEM || rr == FASTEPOST_EIO) {
      rc = rr;
      break;
    }
    char **str = &l->strings[l->count * 4];
    str[0] = fastepost__strdup(names.items[i]);
    str[1] = fastepost__strdup(rr ? "?" : r.source);
    str[2] = fastepost__strdup(rr ? "" : r.event);
    str[3] = fastepost__strdup(rr ? "" : r.content_type);
    fastepost_spool_entry *e = &l->rows[l->count++];
    *e = (fastepost_spool_entry){str[0], str[1], str[2], str[3], rr ? 0 : r.len, rr ? 0 : r.spooled_at};
    free(r.data);
    if (!str[0] || !str[1] || !str[2] || !str[3])
      rc = fastepost__error_oom();
  }
  fastepost__strlist_free(&names);
  if (rc) {
    fastepost_spool_entries_free(l);
    return rc;
  }
  fastepost_error_clear();
  *out = l;
  return FASTEPOST_OK;
}

/* ---- replay -------------------------------------------------------------------------------- */

/* Remove a replayed record and make the removal durable. */
static void remove_record(fastepost_spool *s, const char *name) {
  unlinkat(s->dirfd, name, 0);
  fsync(s->dirfd);
}

/* Set a record that cannot be replayed aside as "<name>.bad" (not matched by the *.spool scan). */
static void set_aside(fastepost_spool *s, const char *name) {
  char bad[160];
  snprintf(bad, sizeof bad, "%s.bad", name);
  renameat(s->dirfd, name, s->dirfd, bad);
  fsync(s->dirfd);
}

static bool transient(int rc) {
  return rc == FASTEPOST_ECONN || rc == FASTEPOST_EBUSY || rc == FASTEPOST_EDB || rc == FASTEPOST_ENOMEM ||
         rc == FASTEPOST_EIO;
}

fastepost_status fastepost_spool_replay(fastepost_spool_replay_report *report, fastepost_spool *s,
                                        fastepost_conn *conn, int limit) {
  fastepost_spool_replay_report rep = {0};
  if (report)
    *report = rep;
  if (!s || !conn || limit < 0)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_spool_replay: invalid argument");
  int lock = openat(s->dirfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock < 0)
    return fastepost__error_set(FASTEPOST_EIO, "cannot open %s/.lock: %s", s->dir, strerror(errno));
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  if (fcntl(lock, F_SETLK, &fl) != 0) {
    close(lock);
    return fastepost__error_set(FASTEPOST_EBUSY, "another replay of %s is running", s->dir);
  }
  fastepost__strlist names = {0};
  uint64_t bytes;
  int rc = scan(s, &names, &bytes);
  size_t i = 0;
  for (; !rc && i < names.count && (!limit || (int)i < limit); i++) {
    const char *name = names.items[i];
    record r;
    int rr = read_record(s, name, &r);
    if (rr == FASTEPOST_ENOTFOUND)
      continue;
    replay_fn fn = rr ? NULL : adapter_for(r.source);
    if (rr == FASTEPOST_ENOMEM || rr == FASTEPOST_EIO) {
      rc = rr;
      break;
    }
    if (!fn) {
      set_aside(s, name);
      rep.rejected++;
      free(r.data);
      continue;
    }
    fastepost_event_result *res = NULL;
    int pr = fn(&res, conn, r.body, r.len, r.event, r.content_type);
    free(r.data);
    bool logged = pr == FASTEPOST_OK || (res && res->event_id > 0);
    if (logged) {
      remove_record(s, name);
      rep.replayed++;
      if (res && res->outcome == FASTEPOST_OUTCOME_DUPLICATE)
        rep.duplicates++;
    } else if (transient(pr)) {
      rc = pr; /* the database went away: keep this record and the rest */
    } else {
      set_aside(s, name); /* refused and not logged: would fail the same way every time */
      rep.rejected++;
    }
    fastepost_event_result_free(res);
  }
  rep.remaining = (int)(names.count - (size_t)rep.replayed - (size_t)rep.rejected);
  fastepost__strlist_free(&names);
  close(lock);
  if (report)
    *report = rep;
  if (rc)
    return fastepost__error_set(rc, "spool replay stopped after %d deliveries: %s", rep.replayed,
                                fastepost_error_last()->message);
  fastepost_error_clear();
  return FASTEPOST_OK;
}

int fastepost_event_result_http(const fastepost_event_result *r, fastepost_status status) {
  if (status == FASTEPOST_OK && r && r->outcome == FASTEPOST_OUTCOME_SPOOLED)
    return 202;
  return fastepost_status_http(status);
}
