/* Internals of backup.c shared with stats.c and the tests. */
#ifndef FASTEPOST_BACKUP_PRIV_H
#define FASTEPOST_BACKUP_PRIV_H

#include <stdbool.h>

#include "internal.h"

/* Whether `name` is a backup name (backup_YYYYMMDD_HHMMSS[_N].sql|.dump with a real date and
 * time). Any out pointer may be NULL. */
bool fastepost__backup_parse_name(const char *name, int64_t *time, int *suffix,
                                  fastepost_backup_format *format);

#endif
