/* Internals of backup.c shared with stats.c and the tests. */
#ifndef FASTEPOST_BACKUP_PRIV_H
#define FASTEPOST_BACKUP_PRIV_H

#include <stdbool.h>

#include "internal.h"

/* Whether `name` is a backup name (backup_YYYYMMDD_HHMMSS[_N].sql|.dump with a real date and
 * time). Any out pointer may be NULL. */
bool fastepost__backup_parse_name(const char *name, int64_t *time, int *suffix,
                                  fastepost_backup_format *format);

/*
 * Find a PostgreSQL client program. Candidates in order: `explicit_path` (if set, the only
 * candidate), `env_path` (likewise), every directory of `search_path` (a PATH value), then
 * `libroot`/N/bin for each N, highest first. The first candidate whose major version is at
 * least `need_major` wins (0: any). A Debian pg_wrapper found in PATH comes after libroot.
 * *out receives a malloc'd path. FASTEPOST_ENOTFOUND when there is none, FASTEPOST_EVERSION
 * when only older ones exist (the message names them).
 */
int fastepost__backup_find_tool(char **out, const char *program, const char *explicit_path,
                                const char *env_path, const char *search_path, const char *libroot,
                                int need_major);

/* Run `program --version`; *major receives the major version (15 for "15.4", 9 for "9.6.3"),
 * 0 when the output has no version. FASTEPOST_EEXTERNAL when it cannot be run or fails. */
int fastepost__backup_tool_major(int *major, const char *program);

#endif
