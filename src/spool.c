/* SPDX-License-Identifier: MIT */
/*
 * The delivery spool (see fastepost/spool.h and docs/spool.md).
 *
 * One delivery = one file "<spooled-at µs, 16 digits>-<pid>-<counter>.spool", so that name order
 * is arrival order (within a process exactly, across processes to the microsecond). A file is a
 * few "key value" header lines, a blank line, then the raw body:
 *
 *     fastepost-spool 2
 *     source odoo
 *     event write
 *     content-type application/json
 *     spooled-at 1732700000000000
 *     length 123
 *     sha256 <64 hex digits over the lines above and the body>
 *
 *     {...body...}
 *
 * Version 1 records (no sha256 line) written before checksums existed are still read: they were
 * acknowledged as spooled, so dropping them would lose deliveries.
 *
 * Written as ".tmp-<name>" (0600, O_EXCL, O_NOFOLLOW), fsync'd, renamed, then the directory is
 * fsync'd: a crash leaves either no record or a complete one (a leftover ".tmp-*" file was
 * never acknowledged as spooled and is ignored). A record that cannot be replayed is renamed to
 * "<name>.bad" next to "<name>.bad.reason" (one line: why), so one bad file never stops the
 * others. Replay holds a flock() on ".lock": flock locks belong to the open file description,
 * so two handles or two threads of one process exclude each other too (fcntl record locks are
 * per process and would let both in).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fastepost/spool.h"
#include "adapters/adapter.h"
#include "adapters/webhook_config.h"
#include "internal.h"
#include "sync.h"
#include "util/digest.h"
#include "util/time.h"
#include "util/fs.h"
#include "util/strv.h"

#define MAGIC_V1 "fastepost-spool 1\n"
#define MAGIC "fastepost-spool 2\n"
#define SUFFIX ".spool"
#define BAD_SUFFIX ".bad"
#define REASON_SUFFIX ".bad.reason"
#define MAX_OPTION 200
#define MAX_REASON 400


struct fastepost_spool {
  char *dir;
  int dirfd;      /* -1 when the directory is unusable (see warning) */
  int unusable;   /* the code to fail with when the spool is needed */
  char *warning;  /* why the directory is unusable, with the fix; NULL when usable */
  size_t max_files;
  uint64_t max_bytes;
  const fastepost_webhook_config *webhooks; /* borrowed; NULL: none (replay without configuration) */
};

/* Per process, not per handle: two handles on one directory never build the same name. */
static _Atomic unsigned name_counter;

/* The adapter a spooled delivery is replayed through (adapters/registry.c), or NULL when the
 * source is unknown or its deliveries are never spooled. The spool knows no CRM itself. */
static const fastepost__adapter *adapter_for(const char *source) {
  const fastepost__adapter *a = fastepost__adapter_find(source);
  return a && a->replay ? a : NULL;
}

static const char *etext(int e, char *buf) { return fastepost__errno_text(e, buf, FASTEPOST__ERRNO_BUFSIZE); }

/* ---- open ---------------------------------------------------------------------------------- */

/* Checks the directory the way ssh checks ~/.ssh: ours, and nobody else may read or write it
 * (the records hold customer data). On failure returns the code and writes the reason, with
 * how to fix it, into why. */
static int check_dir(const char *dir, int *fd_out, char *why, size_t whysize) {
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  *fd_out = -1;
  int err = fastepost__mkdir_p(dir, 0700);
  if (err == ENOMEM)
    return FASTEPOST_ENOMEM;
  if (err) {
    snprintf(why, whysize,
             "cannot create the spool directory %s: %s; create it as the user that runs fastepost "
             "(mkdir -m 700 -p %s) or choose another one",
             dir, etext(err, eb), dir);
    return FASTEPOST_EIO;
  }
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    snprintf(why, whysize, "cannot open the spool directory %s: %s", dir, etext(e, eb));
    return FASTEPOST_EIO;
  }
  if (st.st_uid != geteuid()) {
    close(fd);
    snprintf(why, whysize,
             "the spool directory %s belongs to user id %u, not to the running user (%u): anyone "
             "who owns it can plant or read deliveries; use a directory of your own, or "
             "chown %u %s",
             dir, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), dir);
    return FASTEPOST_EINVALID;
  }
  if (st.st_mode & 077) {
    close(fd);
    snprintf(why, whysize,
             "the spool directory %s is accessible by other users (mode %04o): it holds customer "
             "data; fix it with chmod 700 %s",
             dir, (unsigned)(st.st_mode & 07777), dir);
    return FASTEPOST_EINVALID;
  }
  *fd_out = fd;
  return FASTEPOST_OK;
}

fastepost_status fastepost_spool_open(fastepost_spool **out, const char *dir) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_spool_open: out is NULL");
  *out = NULL;
  if (!dir || !*dir)
    return fastepost__error_set(FASTEPOST_EINVALID, "no spool directory given");
  fastepost_spool *s = calloc(1, sizeof *s);
  if (!s || !(s->dir = fastepost__strdup(dir))) {
    free(s);
    return fastepost__error_oom();
  }
  s->max_files = FASTEPOST_SPOOL_DEFAULT_MAX_FILES;
  s->max_bytes = FASTEPOST_SPOOL_DEFAULT_MAX_BYTES;
  char why[MAX_REASON + 600];
  int rc = check_dir(dir, &s->dirfd, why, sizeof why);
  if (rc == FASTEPOST_ENOMEM) {
    fastepost_spool_free(s);
    return fastepost__error_oom();
  }
  /* An unusable directory must not fail deliveries the database accepts: the handle opens and
   * carries the warning; only a call that needs the directory fails. */
  if (rc) {
    s->unusable = rc;
    if (!(s->warning = fastepost__strdup(why))) {
      fastepost_spool_free(s);
      return fastepost__error_oom();
    }
  }
  fastepost_error_clear();
  *out = s;
  return FASTEPOST_OK;
}

void fastepost_spool_free(fastepost_spool *s) {
  if (!s)
    return;
  if (s->dirfd >= 0)
    close(s->dirfd);
  free(s->dir);
  free(s->warning);
  free(s);
}

const char *fastepost_spool_warning(const fastepost_spool *s) { return s && s->warning ? s->warning : ""; }

fastepost_status fastepost_spool_set_limits(fastepost_spool *s, size_t max_files, uint64_t max_bytes) {
  if (!s)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_spool_set_limits: spool is NULL");
  s->max_files = max_files ? max_files : FASTEPOST_SPOOL_DEFAULT_MAX_FILES;
  s->max_bytes = max_bytes ? max_bytes : FASTEPOST_SPOOL_DEFAULT_MAX_BYTES;
  return FASTEPOST_OK;
}

fastepost_status fastepost_spool_set_webhook_config(fastepost_spool *s, const fastepost_webhook_config *cfg) {
  if (!s)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_spool_set_webhook_config: spool is NULL");
  s->webhooks = cfg;
  return FASTEPOST_OK;
}

/* Refuse a call that needs the directory when it is unusable. */
static int usable(const fastepost_spool *s, int code) {
  return s->warning ? fastepost__error_set(code ? code : s->unusable, "%s", s->warning) : FASTEPOST_OK;
}

/* ---- the directory ------------------------------------------------------------------------- */

static bool has_suffix(const char *n, const char *suffix) {
  size_t len = strlen(n), sl = strlen(suffix);
  return n[0] != '.' && len > sl && !strcmp(n + len - sl, suffix);
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names ending in suffix, sorted, and the total size of the regular files among them.
 * Entries that are not regular files are listed too: replay sets them aside with a reason
 * rather than skipping them silently. */
static int scan(fastepost_spool *s, const char *suffix, fastepost__strlist *names, uint64_t *bytes) {
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    return fastepost__error_set(FASTEPOST_EIO, "cannot read the spool directory %s: %s", s->dir, etext(e, eb));
  }
  *bytes = 0;
  int rc = FASTEPOST_OK;
  struct dirent *e;
  while (!rc && (e = readdir(d)) != NULL) {
    if (!has_suffix(e->d_name, suffix))
      continue;
    struct stat st;
    if (fstatat(s->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue; /* removed meanwhile by a replay */
    if (S_ISREG(st.st_mode))
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

/* A full disk or quota is "storage full" (503), not a server bug (500). */
static int write_error_code(int e) { return e == ENOSPC || e == EDQUOT ? FASTEPOST_EFULL : FASTEPOST_EIO; }

/* The checksum of a record: over its header lines (magic to length) and its body. */
static int record_sum(char out[FASTEPOST__SHA256_HEX_LEN + 1], const char *head, size_t hlen, const char *body,
                      size_t len) {
  const char *parts[] = {head, body ? body : ""};
  const size_t lens[] = {hlen, len};
  return fastepost__sha256_hex(out, 2, parts, lens);
}

/* Write head + body as `name` durably (temporary file, fsync, rename, fsync of the directory). */
static int write_record(fastepost_spool *s, const char *name, const char *head, size_t hlen, const char *body,
                        size_t len) {
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  char tmp[320];
  snprintf(tmp, sizeof tmp, ".tmp-%s", name);
  int fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    int e = errno;
    return fastepost__error_set(write_error_code(e), "cannot create %s/%s: %s", s->dir, tmp, etext(e, eb));
  }
  const char *step = "writing";
  bool ok = fastepost__write_all(fd, head, hlen) == 0 && fastepost__write_all(fd, body, len) == 0;
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
    return fastepost__error_set(write_error_code(e), "spooling a delivery to %s failed while %s: %s", s->dir,
                                step, etext(e, eb));
  }
  if (fsync(s->dirfd) != 0) {
    e = errno;
    unlinkat(s->dirfd, name, 0);
    return fastepost__error_set(write_error_code(e), "syncing the spool directory %s: %s", s->dir, etext(e, eb));
  }
  return FASTEPOST_OK;
}

/* The header of a version 2 record, sha256 line included. */
static int build_head(char *head, size_t size, size_t *hlen, const char *source, const char *event,
                      const char *content_type, int64_t at, const char *body, size_t len) {
  int hn = snprintf(head, size, MAGIC "source %s\nevent %s\ncontent-type %s\nspooled-at %" PRId64 "\nlength %zu\n",
                    source, event, content_type, at, len);
  if (hn < 0 || (size_t)hn + FASTEPOST__SHA256_HEX_LEN + 10 >= size)
    return fastepost__error_set(FASTEPOST_EINVALID, "spool header too long");
  char sum[FASTEPOST__SHA256_HEX_LEN + 1];
  if (record_sum(sum, head, (size_t)hn, body, len))
    return fastepost__error_set(FASTEPOST_ERROR, "computing a spool record's checksum failed");
  hn += snprintf(head + hn, size - (size_t)hn, "sha256 %s\n\n", sum);
  *hlen = (size_t)hn;
  return FASTEPOST_OK;
}

/* ---- put ----------------------------------------------------------------------------------- */

fastepost_status fastepost_spool_put(char **name_out, fastepost_spool *s, const char *source, const char *event,
                                     const char *content_type, const void *body, size_t len) {
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
  /* The spool is needed now: an unusable directory is storage the server lacks (503). */
  int rc = usable(s, FASTEPOST_EFULL);
  if (rc)
    return rc;
  int64_t now = fastepost__time_now_us();
  char head[4 * MAX_OPTION + 128];
  size_t hlen = 0;
  if ((rc = build_head(head, sizeof head, &hlen, source, event, content_type, now, body, len)))
    return rc;

  /* Bounds. Concurrent writers may overshoot by one file each: the limit protects the disk, it
   * is not an exact quota. */
  fastepost__strlist names = {0};
  uint64_t bytes = 0;
  rc = scan(s, SUFFIX, &names, &bytes);
  size_t files = names.count;
  fastepost__strlist_free(&names);
  if (rc)
    return rc;
  if (files + 1 > s->max_files || bytes + (uint64_t)hlen + len > s->max_bytes)
    return fastepost__error_set(FASTEPOST_EFULL,
                                "the spool %s is full: %zu files, %" PRIu64 " bytes (limits %zu files, %" PRIu64
                                " bytes); replay it with `fastepost spool replay`",
                                s->dir, files, bytes, s->max_files, s->max_bytes);

  char name[96];
  snprintf(name, sizeof name, "%016" PRId64 "-%010ld-%06u" SUFFIX, now, (long)getpid(), name_counter++ % 1000000);
  if ((rc = write_record(s, name, head, hlen, body, len)))
    return rc;
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
  bool checked; /* a version 2 record whose checksum matched */
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

/*
 * Read and parse a record. FASTEPOST_ENOTFOUND when it vanished (replayed meanwhile);
 * FASTEPOST_ENOMEM; otherwise a failure that is the record's own (unreadable, corrupt,
 * altered): FASTEPOST_EIO or FASTEPOST_EPARSE with the reason in `why`.
 * verify = false skips the checksum (requeue re-seals a record an operator fixed).
 */
static int read_record(fastepost_spool *s, const char *name, record *r, bool verify, char *why, size_t whysize) {
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  memset(r, 0, sizeof *r);
  /* O_NONBLOCK: a FIFO planted under a record name must not hang the replay. */
  int fd = openat(s->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    if (e == ENOENT)
      return FASTEPOST_ENOTFOUND;
    snprintf(why, whysize, "unreadable: %s", e == ELOOP ? "a symbolic link, not a spool record" : etext(e, eb));
    return FASTEPOST_EIO;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    snprintf(why, whysize, "unreadable: not a regular file");
    return FASTEPOST_EIO;
  }
  size_t size = (size_t)st.st_size;
  if (!(r->data = malloc(size + 1))) {
    close(fd);
    return FASTEPOST_ENOMEM;
  }
  size_t got = 0;
  int rerr = 0;
  while (got < size) {
    ssize_t n = read(fd, r->data + got, size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      rerr = errno;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  if (rerr) {
    free(r->data);
    r->data = NULL;
    snprintf(why, whysize, "unreadable: %s", etext(rerr, eb));
    return FASTEPOST_EIO;
  }
  r->data[got] = '\0';
  char *p = r->data;
  const char *at = NULL, *length = NULL, *sum = NULL;
  bool v2 = strncmp(p, MAGIC, strlen(MAGIC)) == 0;
  if (got != size || (!v2 && strncmp(p, MAGIC_V1, strlen(MAGIC_V1)) != 0)) {
    snprintf(why, whysize, "corrupt: not a spool record (unknown first line)");
    goto bad;
  }
  p += strlen(MAGIC);
  if (!(r->source = header_value(&p, "source")) || !(r->event = header_value(&p, "event")) ||
      !(r->content_type = header_value(&p, "content-type")) || !(at = header_value(&p, "spooled-at")) ||
      !(length = header_value(&p, "length"))) {
    snprintf(why, whysize, "corrupt: a header line is missing or damaged");
    goto bad;
  }
  size_t hlen = (size_t)(p - r->data);
  if (v2 && !(sum = header_value(&p, "sha256"))) {
    snprintf(why, whysize, "corrupt: the sha256 line is missing");
    goto bad;
  }
  if (*p != '\n') {
    snprintf(why, whysize, "corrupt: no blank line after the header");
    goto bad;
  }
  p++;
  char *end;
  errno = 0;
  unsigned long long len = strtoull(length, &end, 10);
  if (errno || *end || len != (unsigned long long)(got - (size_t)(p - r->data))) {
    /* truncated or padded: never replay a partial body */
    snprintf(why, whysize, "corrupt: the body has %zu bytes, the header says %s", got - (size_t)(p - r->data),
             length);
    goto bad;
  }
  r->body = p;
  r->len = (size_t)len;
  r->spooled_at = strtoll(at, NULL, 10);
  if (v2 && verify) {
    /* The header was NUL-split in place: hash it as written, with the newlines back. */
    char *copy = malloc(hlen ? hlen : 1);
    if (!copy) {
      free(r->data);
      r->data = NULL;
      return FASTEPOST_ENOMEM;
    }
    memcpy(copy, r->data, hlen);
    for (size_t i = 0; i < hlen; i++)
      if (!copy[i])
        copy[i] = '\n';
    char want[FASTEPOST__SHA256_HEX_LEN + 1];
    int hr = record_sum(want, copy, hlen, r->body, r->len);
    free(copy);
    if (hr || !fastepost__ct_equal(want, strlen(want), sum, strlen(sum))) {
      snprintf(why, whysize, "altered: the checksum does not match the contents (changed after it was spooled)");
      goto bad;
    }
    r->checked = true;
  }
  return FASTEPOST_OK;
bad:
  free(r->data);
  r->data = NULL;
  return FASTEPOST_EPARSE;
}

/* ---- setting aside ------------------------------------------------------------------------- */

/* Set a record that cannot be replayed aside as "<name>.bad" with "<name>.bad.reason" (not
 * matched by the *.spool scan), so that the rest of the spool goes on. The reason is written
 * first: a crash between the two leaves the record in place, to be looked at again. */
static void set_aside(fastepost_spool *s, const char *name, const char *reason) {
  char bad[320], why[340], tmp[360];
  snprintf(bad, sizeof bad, "%s" BAD_SUFFIX, name);
  snprintf(why, sizeof why, "%s" REASON_SUFFIX, name);
  snprintf(tmp, sizeof tmp, ".tmp-%s", why);
  int fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) {
    char line[MAX_REASON + 2];
    int n = snprintf(line, sizeof line, "%s\n", reason);
    bool ok = n > 0 && fastepost__write_all(fd, line, strlen(line)) == 0 && fsync(fd) == 0;
    if (close(fd) == 0 && ok)
      renameat(s->dirfd, tmp, s->dirfd, why);
    else
      unlinkat(s->dirfd, tmp, 0);
  }
  renameat(s->dirfd, name, s->dirfd, bad);
  fsync(s->dirfd);
}

/* The reason file's first line, or "" when there is none. */
static void read_reason(fastepost_spool *s, const char *bad, char *out, size_t outsize) {
  char why[340];
  snprintf(why, sizeof why, "%s.reason", bad);
  out[0] = '\0';
  int fd = openat(s->dirfd, why, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    snprintf(out, outsize, "no reason recorded");
    return;
  }
  ssize_t n = read(fd, out, outsize - 1);
  close(fd);
  out[n > 0 ? n : 0] = '\0';
  char *nl = strchr(out, '\n');
  if (nl)
    *nl = '\0';
}

/* ---- list ---------------------------------------------------------------------------------- */

#define ENTRY_STRINGS 5

FASTEPOST__ROW_LIST(fastepost_spool_entries, fastepost_spool_entry, ENTRY_STRINGS)

/* List the records (bad = false) or the set-aside ones (bad = true). */
static int list(fastepost_spool_entries **out, fastepost_spool *s, bool bad) {
  if (!out || !s)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_spool_list: NULL argument");
  *out = NULL;
  int rc = usable(s, 0);
  if (rc)
    return rc;
  fastepost__strlist names = {0};
  uint64_t bytes;
  rc = scan(s, bad ? BAD_SUFFIX : SUFFIX, &names, &bytes);
  fastepost_spool_entries *l = rc ? NULL : calloc(1, sizeof *l);
  if (!rc && (!l || !(l->rows = calloc(names.count + 1, sizeof *l->rows)) ||
              !(l->strings = calloc(names.count * ENTRY_STRINGS + 1, sizeof *l->strings))))
    rc = fastepost__error_oom();
  for (size_t i = 0; !rc && i < names.count; i++) {
    record r;
    char why[MAX_REASON] = "";
    int rr = read_record(s, names.items[i], &r, true, why, sizeof why);
    if (rr == FASTEPOST_ENOTFOUND)
      continue; /* replayed or requeued meanwhile */
    if (rr == FASTEPOST_ENOMEM) {
      rc = fastepost__error_oom();
      break;
    }
    if (bad)
      read_reason(s, names.items[i], why, sizeof why);
    char **str = &l->strings[l->count * ENTRY_STRINGS];
    str[0] = fastepost__strdup(names.items[i]);
    str[1] = fastepost__strdup(rr ? "?" : r.source);
    str[2] = fastepost__strdup(rr ? "" : r.event);
    str[3] = fastepost__strdup(rr ? "" : r.content_type);
    str[4] = fastepost__strdup(why);
    fastepost_spool_entry *e = &l->rows[l->count++];
    *e = (fastepost_spool_entry){str[0], str[1], str[2], str[3], rr ? 0 : r.len, rr ? 0 : r.spooled_at, str[4]};
    free(r.data);
    for (int k = 0; k < ENTRY_STRINGS; k++)
      if (!str[k])
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

fastepost_status fastepost_spool_list(fastepost_spool_entries **out, fastepost_spool *s) { return list(out, s, false); }

fastepost_status fastepost_spool_list_bad(fastepost_spool_entries **out, fastepost_spool *s) {
  return list(out, s, true);
}

/* ---- requeue ------------------------------------------------------------------------------- */

fastepost_status fastepost_spool_requeue(fastepost_spool *s, const char *name) {
  if (!s || !name)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_spool_requeue: NULL argument");
  int rc = usable(s, 0);
  if (rc)
    return rc;
  /* The record's name, with or without ".bad"; never a path. */
  char base[256];
  size_t n = strlen(name);
  if (n > strlen(BAD_SUFFIX) && !strcmp(name + n - strlen(BAD_SUFFIX), BAD_SUFFIX))
    n -= strlen(BAD_SUFFIX);
  if (n >= sizeof base || strchr(name, '/') || name[0] == '.' || !n)
    return fastepost__error_set(FASTEPOST_EINVALID, "\"%.64s\" is not the name of a set-aside spool record", name);
  memcpy(base, name, n);
  base[n] = '\0';
  if (!has_suffix(base, SUFFIX))
    return fastepost__error_set(FASTEPOST_EINVALID, "\"%.64s\" is not the name of a set-aside spool record", name);
  char bad[300], why[MAX_REASON];
  snprintf(bad, sizeof bad, "%s" BAD_SUFFIX, base);
  record r;
  int rr = read_record(s, bad, &r, false, why, sizeof why);
  if (rr == FASTEPOST_ENOTFOUND)
    return fastepost__error_set(FASTEPOST_ENOTFOUND, "no set-aside record %s in %s (see `fastepost spool list --bad`)",
                                bad, s->dir);
  if (rr == FASTEPOST_ENOMEM)
    return fastepost__error_oom();
  if (rr)
    return fastepost__error_set(rr, "%s/%s cannot be requeued: %s", s->dir, bad, why);
  if (!adapter_for(r.source) || !option_ok(r.event) || !option_ok(r.content_type)) {
    free(r.data);
    return fastepost__error_set(FASTEPOST_EINVALID, "%s/%s cannot be requeued: unknown source or bad header", s->dir,
                                bad);
  }
  /* The operator vouches for the fixed contents: seal them with a fresh checksum, under the
   * original name so that the record keeps its place in arrival order. */
  char head[4 * MAX_OPTION + 128];
  size_t hlen = 0;
  rc = build_head(head, sizeof head, &hlen, r.source, r.event, r.content_type, r.spooled_at, r.body, r.len);
  if (!rc)
    rc = write_record(s, base, head, hlen, r.body, r.len);
  free(r.data);
  if (rc)
    return rc;
  snprintf(why, sizeof why, "%s" REASON_SUFFIX, base);
  unlinkat(s->dirfd, bad, 0);
  unlinkat(s->dirfd, why, 0);
  fsync(s->dirfd);
  fastepost_error_clear();
  return FASTEPOST_OK;
}

/* ---- replay -------------------------------------------------------------------------------- */

/* Remove a replayed record and make the removal durable. */
static void remove_record(fastepost_spool *s, const char *name) {
  unlinkat(s->dirfd, name, 0);
  fsync(s->dirfd);
}

static bool transient(int rc) {
  return rc == FASTEPOST_ECONN || rc == FASTEPOST_EBUSY || rc == FASTEPOST_EDB || rc == FASTEPOST_ENOMEM ||
         rc == FASTEPOST_EIO || rc == FASTEPOST_ETIMEOUT || rc == FASTEPOST_EREADONLY || rc == FASTEPOST_EFULL;
}

struct fastepost_spool_replay_report {
  size_t replayed, duplicates, rejected, remaining;
};

void fastepost_spool_replay_report_free(fastepost_spool_replay_report *r) { free(r); }
size_t fastepost_spool_replay_report_replayed(const fastepost_spool_replay_report *r) { return r ? r->replayed : 0; }
size_t fastepost_spool_replay_report_duplicates(const fastepost_spool_replay_report *r) {
  return r ? r->duplicates : 0;
}
size_t fastepost_spool_replay_report_rejected(const fastepost_spool_replay_report *r) { return r ? r->rejected : 0; }
size_t fastepost_spool_replay_report_remaining(const fastepost_spool_replay_report *r) {
  return r ? r->remaining : 0;
}

/* Run one spooled delivery through its adapter: one record on its own, several (a batch) in one
 * transaction. *logged: the delivery reached the event log (committed, failures too), so its
 * file may go; *duplicate: every event of it was a duplicate (committed before the spooling). */
static int replay_one(bool *logged, bool *duplicate, const fastepost__adapter *a, fastepost_conn *conn,
                      const record *r, const fastepost_webhook_config *webhooks) {
  fastepost__records recs = {0};
  int rc = a->replay(&recs, fastepost__webhook_config_section(webhooks, a), r->body, r->len, r->event, r->content_type, FASTEPOST__SYNC_SERVER_CLOCK);
  if (rc)
    return rc; /* refused as a whole: never logged */
  fastepost__sync_ctx ctx = {.now_us = FASTEPOST__SYNC_SERVER_CLOCK, .max_attempts = FASTEPOST_EVENTS_MAX_ATTEMPTS};
  if (recs.count == 1) {
    fastepost_event_result *res = fastepost__result_new();
    rc = res ? fastepost__adapter_process(res, conn, &recs.items[0], &ctx) : FASTEPOST_ENOMEM;
    *logged = rc == FASTEPOST_OK || (res && res->event_id > 0);
    *duplicate = res && res->outcome == FASTEPOST_OUTCOME_DUPLICATE;
    fastepost_event_result_free(res);
  } else {
    fastepost_event_batch *b = NULL;
    rc = fastepost__event_batch_new(&b, recs.count);
    if (!rc)
      rc = fastepost__adapter_run_batch(b, conn, recs.items, NULL, recs.count, &ctx);
    /* Committed, but an event that failed without an event row would go with the file. */
    if (!rc)
      rc = fastepost__event_batch_require_logged(b, "delivery");
    *logged = rc == FASTEPOST_OK;
    *duplicate = *logged && recs.count > 0;
    for (size_t i = 0; *duplicate && i < recs.count; i++)
      *duplicate = fastepost_event_result_outcome(fastepost_event_batch_get(b, i)) == FASTEPOST_OUTCOME_DUPLICATE;
    fastepost_event_batch_free(b);
  }
  fastepost__records_free(&recs);
  return rc;
}

fastepost_status fastepost_spool_replay(fastepost_spool_replay_report **report, fastepost_spool *s,
                                        fastepost_conn *conn, size_t limit) {
  char eb[FASTEPOST__ERRNO_BUFSIZE];
  fastepost_spool_replay_report rep = {0, 0, 0, 0};
  if (report && !(*report = calloc(1, sizeof **report)))
    return fastepost__error_oom();
  if (!s || !conn)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_spool_replay: invalid argument");
  int rc = usable(s, 0);
  if (rc)
    return rc;
  int lock = openat(s->dirfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock < 0) {
    int e = errno;
    return fastepost__error_set(FASTEPOST_EIO, "cannot open %s/.lock: %s", s->dir, etext(e, eb));
  }
  if (flock(lock, LOCK_EX | LOCK_NB) != 0) {
    close(lock);
    return fastepost__error_set(FASTEPOST_EBUSY, "another replay of %s is running", s->dir);
  }
  fastepost__strlist names = {0};
  uint64_t bytes;
  rc = scan(s, SUFFIX, &names, &bytes);
  size_t gone = 0;
  for (size_t i = 0; !rc && i < names.count && (!limit || rep.replayed + rep.rejected < limit); i++) {
    const char *name = names.items[i];
    record r;
    char why[MAX_REASON] = "";
    int rr = read_record(s, name, &r, true, why, sizeof why);
    if (rr == FASTEPOST_ENOTFOUND) {
      gone++;
      continue;
    }
    if (rr == FASTEPOST_ENOMEM) {
      rc = fastepost__error_oom();
      break;
    }
    if (rr) { /* unreadable, corrupt or altered: it would fail the same way every time */
      set_aside(s, name, why);
      rep.rejected++;
      continue;
    }
    const fastepost__adapter *a = adapter_for(r.source);
    if (!a) {
      snprintf(why, sizeof why, "refused: unknown source \"%.32s\"", r.source);
      set_aside(s, name, why);
      rep.rejected++;
      free(r.data);
      continue;
    }
    bool logged = false, duplicate = false;
    int pr = replay_one(&logged, &duplicate, a, conn, &r, s->webhooks);
    free(r.data);
    if (logged) {
      remove_record(s, name);
      rep.replayed++;
      rep.duplicates += duplicate;
    } else if (transient(pr)) {
      rc = pr; /* the database went away: keep this record and the rest */
    } else {
      /* refused and not logged: would fail the same way every time */
      snprintf(why, sizeof why, "refused: %s: %.300s", fastepost_error_name(pr), fastepost_error_last()->message);
      set_aside(s, name, why);
      rep.rejected++;
    }
  }
  rep.remaining = names.count - gone - rep.replayed - rep.rejected;
  fastepost__strlist_free(&names);
  close(lock);
  if (report)
    **report = rep;
  if (rc)
    return fastepost__error_set(rc, "spool replay stopped after %zu deliveries: %s", rep.replayed,
                                fastepost_error_last()->message);
  fastepost_error_clear();
  return FASTEPOST_OK;
}

int fastepost_event_result_http(const fastepost_event_result *r, fastepost_status status) {
  if (status == FASTEPOST_OK && r && r->outcome == FASTEPOST_OUTCOME_SPOOLED)
    return 202;
  return fastepost_status_http(status);
}
