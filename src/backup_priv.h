/* SPDX-License-Identifier: MIT */
/* Internals of the backup module (src/backup/) shared with stats.c, the tests and the fuzzer. */
#ifndef FASTEPOST_BACKUP_PRIV_H
#define FASTEPOST_BACKUP_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

/* Whether `name` is a backup name (backup_YYYYMMDD_HHMMSS[_N][_table-NAME].sql|.dump with a real
 * date and time; created_us: that time in microseconds since the epoch UTC). Any out pointer may
 * be NULL. (src/backup/names.c) */
bool fastepost__backup_parse_name(const char *name, int64_t *created_us, int *suffix,
                                  fastepost_backup_format *format);
/* The same, also giving the kind and (for a table backup) the table part of the name into
 * table_out (table_size bytes, may be 0). */
bool fastepost__backup_parse_name_kind(const char *name, int64_t *created_us, int *suffix,
                                       fastepost_backup_format *format,
                                       fastepost_backup_kind *kind, char *table_out,
                                       size_t table_size);

/* The check of a plain backup's text before psql may run it (src/backup/plain_scan.c): feed the whole
 * file in any chunks, then finish. FASTEPOST_EPARSE (message with the line) on the first thing
 * pg_dump does not write, or when the file is incomplete. */
typedef struct fastepost__plain_scan {
  int lex, rc;
  long long line_no;
  char line[8192]; /* the start of the current line */
  size_t line_len;
  bool line_truncated, line_clean_start, has_meta, pending, pend_dash, pend_slash;
  bool copy, seen_trailer, seen_statement, unrestricted;
  int statements_on_line;
  int prev, prev2, depth;
  unsigned backslashes;
  char tag[64];
  size_t tag_len, match;
  char restrict_key[128];
} fastepost__plain_scan;

void fastepost__plain_scan_init(fastepost__plain_scan *s);
int fastepost__plain_scan_feed(fastepost__plain_scan *s, const char *data, size_t len);
int fastepost__plain_scan_finish(fastepost__plain_scan *s);

/* What the database figures (stats.c) show of a backup directory: stats.c reads backups only
 * through this, so the backup list's public shape can change without touching statistics. */
typedef struct fastepost__backup_summary {
  size_t count;             /* backups of any kind */
  int has_newest;           /* 1 when there is a full backup (table backups do not count) */
  char newest_name[FASTEPOST_BACKUP_NAME_MAX];
  int64_t newest_created_us; /* from the name, microseconds since the epoch UTC */
  uint64_t newest_size;     /* bytes */
  fastepost_backup_format newest_format;
} fastepost__backup_summary;

int fastepost__backup_summarize(fastepost__backup_summary *out, const fastepost_backup_dir *dir);

#endif
