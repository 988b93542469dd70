/* SPDX-License-Identifier: MIT */
/* Listing the backups of a directory, the list and info getters, prune, and the summary the
 * database figures (stats.c) read. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/backup_int.h"
#include "util/time.h"

/* A temporary file older than this was left by a backup process that died. */
#define PARTIAL_MAX_AGE_US (INT64_C(24) * 3600 * FASTEPOST__US_PER_SEC)

/* ---- the list -------------------------------------------------------------------------------- */

size_t fastepost_backup_list_count(const fastepost_backup_list *list) {
  return list ? list->count : 0;
}

const fastepost_backup_info *fastepost_backup_list_get(const fastepost_backup_list *list,
                                                       size_t i) {
  return list && i < list->count ? &list->items[i] : NULL;
}

void fastepost_backup_list_free(fastepost_backup_list *list) {
  if (!list)
    return;
  free(list->items);
  free(list);
}

const char *fastepost_backup_info_name(const fastepost_backup_info *info) {
  return info ? info->name : "";
}

uint64_t fastepost_backup_info_size(const fastepost_backup_info *info) {
  return info ? info->size : 0;
}

int64_t fastepost_backup_info_created_us(const fastepost_backup_info *info) {
  return info ? info->created_us : 0;
}

fastepost_backup_format fastepost_backup_info_format(const fastepost_backup_info *info) {
  return info ? info->format : FASTEPOST_BACKUP_FORMAT_PLAIN;
}

fastepost_backup_kind fastepost_backup_info_kind(const fastepost_backup_info *info) {
  return info ? info->kind : FASTEPOST_BACKUP_KIND_FULL;
}

const char *fastepost_backup_info_table(const fastepost_backup_info *info) {
  return info ? info->table : "";
}

/* ---- reading the directory ------------------------------------------------------------------- */

static int newest_first(const void *a, const void *b) {
  const fastepost_backup_info *x = a, *y = b;
  if (x->created_us != y->created_us)
    return x->created_us > y->created_us ? -1 : 1;
  if (x->suffix != y->suffix)
    return x->suffix > y->suffix ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* A DIR stream over a duplicate of dirfd, from its start (a duplicated descriptor shares the
 * directory position). NULL with the error set. */
static DIR *open_stream(int dirfd, const char *path) {
  int dup_fd = dup(dirfd);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  if (!d) {
    fastepost__error_set(FASTEPOST_EIO, "cannot read the backup directory %s: %s", path,
                         FASTEPOST__ERRNO_TEXT());
    if (dup_fd >= 0)
      close(dup_fd);
    return NULL;
  }
  rewinddir(d);
  return d;
}

/* Every backup in dirfd, newest first, into a new list (empty when dirfd < 0). */
static int scan(fastepost_backup_list **out, int dirfd, const char *path) {
  fastepost_backup_list *list = calloc(1, sizeof *list);
  *out = NULL;
  if (!list)
    return fastepost__error_oom();
  if (dirfd < 0) {
    *out = list;
    return FASTEPOST_OK;
  }
  DIR *d = open_stream(dirfd, path);
  if (!d) {
    free(list);
    return fastepost_error_last()->code;
  }
  size_t cap = 0;
  int rc = FASTEPOST_OK;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    fastepost_backup_info e;
    memset(&e, 0, sizeof e);
    struct stat st;
    if (!fastepost__backup_parse_name_kind(de->d_name, &e.created_us, &e.suffix, &e.format,
                                           &e.kind, e.table, sizeof e.table) ||
        fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
      continue;
    memcpy(e.name, de->d_name, strlen(de->d_name) + 1); /* parse_name checked the length */
    e.size = (uint64_t)st.st_size;
    if (list->count == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      fastepost_backup_info *grown = realloc(list->items, ncap * sizeof *grown);
      if (!grown) {
        rc = fastepost__error_oom();
        break;
      }
      list->items = grown;
      cap = ncap;
    }
    list->items[list->count++] = e;
  }
  closedir(d);
  if (rc) {
    fastepost_backup_list_free(list);
    return rc;
  }
  if (list->count)
    qsort(list->items, list->count, sizeof *list->items, newest_first);
  *out = list;
  return FASTEPOST_OK;
}

fastepost_status fastepost_backup_dir_list(fastepost_backup_list **out,
                                           const fastepost_backup_dir *dir, size_t limit) {
  if (!out)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_dir_list: out is NULL");
  *out = NULL;
  int dirfd;
  int rc = fastepost__backup_open_dir(&dirfd, dir, false, true);
  if (rc)
    return rc;
  rc = scan(out, dirfd, dir->path);
  if (dirfd >= 0)
    close(dirfd);
  if (!rc && limit && (*out)->count > limit)
    (*out)->count = limit;
  return rc;
}

/* ---- prune ----------------------------------------------------------------------------------- */

/* Temporary files of backups whose process died (killed, power loss) before cleaning up. A day
 * is far longer than any backup runs, so a running one is never touched. */
static void remove_stale_partials(int dirfd, const char *path) {
  DIR *d = open_stream(dirfd, path);
  if (!d)
    return;
  int64_t now = fastepost__time_now_us();
  size_t plen = strlen(FASTEPOST__BACKUP_PARTIAL_PREFIX);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    struct stat st;
    if (strncmp(de->d_name, FASTEPOST__BACKUP_PARTIAL_PREFIX, plen) == 0 &&
        fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
        now - (int64_t)st.st_mtime * FASTEPOST__US_PER_SEC > PARTIAL_MAX_AGE_US)
      unlinkat(dirfd, de->d_name, 0);
  }
  closedir(d);
}

/* keep 0 and older_than_us 0 together: every backup. The removed ones are compacted to the
 * front of the scanned list, which becomes *removed (also after a failure part-way). */
static int prune(fastepost_backup_list **removed, fastepost_backup_dir *dir, size_t keep,
                 int64_t older_than_us) {
  int dirfd;
  int rc = fastepost__backup_open_dir(&dirfd, dir, false, true);
  if (!rc)
    rc = scan(removed, dirfd, dir ? dir->path : "");
  if (rc || dirfd < 0) {
    if (dirfd >= 0)
      close(dirfd);
    return rc;
  }
  fastepost_backup_list *list = *removed;
  int64_t cutoff = older_than_us ? fastepost__time_now_us() - older_than_us : 0;
  size_t gone = 0, seen[2] = {0, 0};
  bool all = !keep && !older_than_us;
  for (size_t i = 0; i < list->count && !rc; i++) {
    const fastepost_backup_info *b = &list->items[i];
    /* Ranked within its kind: table backups never count towards the full ones kept. */
    size_t rank = seen[b->kind == FASTEPOST_BACKUP_KIND_TABLE]++;
    bool beyond_keep = keep && rank >= keep;
    bool too_old = older_than_us && b->created_us < cutoff;
    bool remove = all ? true : keep && older_than_us ? beyond_keep && too_old
                                                     : beyond_keep || too_old;
    if (!remove)
      continue;
    if (unlinkat(dirfd, b->name, 0) != 0 && errno != ENOENT) {
      rc = fastepost__error_set(FASTEPOST_EIO, "cannot remove backup %s: %s", b->name,
                                FASTEPOST__ERRNO_TEXT());
      break;
    }
    char sumname[FASTEPOST_BACKUP_NAME_MAX + 8];
    snprintf(sumname, sizeof sumname, "%s.sha256", b->name);
    unlinkat(dirfd, sumname, 0);
    list->items[gone++] = *b; /* order kept */
  }
  list->count = gone;
  if (!rc)
    remove_stale_partials(dirfd, dir->path);
  fsync(dirfd);
  close(dirfd);
  return rc;
}

fastepost_status fastepost_backup_prune(fastepost_backup_list **removed,
                                        fastepost_backup_dir *dir, size_t keep,
                                        int64_t older_than_us) {
  if (!removed)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_prune: removed is NULL");
  *removed = NULL;
  if (older_than_us < 0)
    return fastepost__error_set(FASTEPOST_EINVALID, "prune: a negative age (%lld us)",
                                (long long)older_than_us);
  if (!keep && !older_than_us)
    return fastepost__error_set(FASTEPOST_EINVALID,
                                "prune needs a number of backups to keep or a maximum age (to "
                                "delete every backup, use prune_all / --all)");
  return prune(removed, dir, keep, older_than_us);
}

fastepost_status fastepost_backup_prune_all(fastepost_backup_list **removed,
                                            fastepost_backup_dir *dir) {
  if (!removed)
    return fastepost__error_set(FASTEPOST_EINVALID, "fastepost_backup_prune_all: removed is NULL");
  *removed = NULL;
  return prune(removed, dir, 0, 0);
}

/* ---- the summary of stats.c ------------------------------------------------------------------ */

int fastepost__backup_summarize(fastepost__backup_summary *out, const fastepost_backup_dir *dir) {
  memset(out, 0, sizeof *out);
  fastepost_backup_list *list = NULL;
  int rc = fastepost_backup_dir_list(&list, dir, 0);
  if (rc)
    return rc;
  out->count = list->count;
  /* "The newest backup" is what a restore of the database would use: a table backup is not. */
  for (size_t i = 0; i < list->count && !out->has_newest; i++) {
    const fastepost_backup_info *b = &list->items[i];
    if (b->kind != FASTEPOST_BACKUP_KIND_FULL)
      continue;
    out->has_newest = 1;
    snprintf(out->newest_name, sizeof out->newest_name, "%s", b->name);
    out->newest_created_us = b->created_us;
    out->newest_size = b->size;
    out->newest_format = b->format;
  }
  fastepost_backup_list_free(list);
  return FASTEPOST_OK;
}
